/* The decoded view of one packet.
 *
 * Each decoder fills only its own layer's view (l2, ip, l4); nothing here
 * owns memory: every pointer points into the captured bytes (or into a
 * reassembled datagram owned by the defragmenter) and is valid only while
 * the packet is being processed. */
#ifndef SW_PACKET_H
#define SW_PACKET_H

#include <stdbool.h>
#include <stdint.h>

#define SW_MAX_VLANS 3
#define SW_MAX_PKT_EVENTS 8

/* Link types we take (values are libpcap DLT_ numbers). */
#define SW_DLT_NULL 0
#define SW_DLT_EN10MB 1
#define SW_DLT_PPP 9
#define SW_DLT_RAW 12        /* some platforms; 101 is LINKTYPE_RAW */
#define SW_DLT_LOOP 108
#define SW_DLT_LINKTYPE_RAW 101
#define SW_DLT_LINUX_SLL 113
#define SW_DLT_IPV4 228
#define SW_DLT_IPV6 229
#define SW_DLT_LINUX_SLL2 276

typedef enum sw_tunnel_type {
    SW_TUN_NONE = 0,
    SW_TUN_GRE,
    SW_TUN_ERSPAN,
    SW_TUN_VXLAN,
    SW_TUN_IPIP, /* IPv4/IPv6 in IPv4/IPv6, incl. 6in4 */
    SW_TUN_TEREDO,
} sw_tunnel_type;

typedef struct sw_l2_view {
    uint16_t vlan_id[SW_MAX_VLANS]; /* outermost first */
    uint8_t vlan_count;
    uint8_t mpls_count;
    uint8_t tunnel_type; /* sw_tunnel_type of the outermost tunnel */
    uint8_t tunnel_depth;
    uint32_t tunnel_id; /* VXLAN VNI, ERSPAN session id, GRE key, else 0 */
    /* The packet that carried the outermost tunnel (tunnel_depth > 0):
     * its addresses, protocol and (UDP tunnels) ports. */
    uint8_t tun_version, tun_proto;
    uint16_t tun_sport, tun_dport;
    uint8_t tun_src[16], tun_dst[16];
    uint16_t ether_type; /* of the innermost Ethernet-like header */
    const uint8_t *src_mac; /* NULL when the link has none */
    const uint8_t *dst_mac;
} sw_l2_view;

typedef struct sw_ip_view {
    uint8_t version; /* 4 or 6; 0 when the packet carries no IP */
    uint8_t proto;   /* upper-layer protocol (after IPv6 extension headers) */
    uint8_t ttl;     /* TTL or hop limit */
    uint8_t src[16]; /* IPv4 uses the first 4 bytes; the rest are zero */
    uint8_t dst[16];
    const uint8_t *hdr;  /* start of the IP header */
    uint32_t hdr_len;    /* incl. options / extension headers */
    uint32_t total_len;  /* IP datagram length as captured and declared */
    const uint8_t *payload;
    uint32_t payload_len;
    /* Fragments: the pipeline hands these to the defragmenter. */
    bool is_fragment;
    bool more_frags;
    uint32_t frag_id;
    uint32_t frag_offset;   /* bytes */
    uint32_t unfrag_len;    /* IPv6: bytes before the fragment header */
    uint8_t frag_next_hdr;  /* IPv6: next header after the fragment header */
} sw_ip_view;

typedef struct sw_l4_view {
    uint16_t sport;
    uint16_t dport;
    /* TCP */
    uint8_t tcp_flags;
    uint8_t wscale;   /* valid when has_wscale */
    bool has_wscale;
    bool sack_permitted;
    bool has_ts;
    uint16_t mss;     /* 0 when absent */
    uint16_t win;
    uint32_t seq;
    uint32_t ack;
    uint32_t tsval;
    uint32_t tsecr;
    /* ICMP / ICMPv6 */
    uint8_t icmp_type;
    uint8_t icmp_code;
    const uint8_t *payload;
    uint32_t payload_len;
} sw_l4_view;

#define SW_TCP_FIN 0x01
#define SW_TCP_SYN 0x02
#define SW_TCP_RST 0x04
#define SW_TCP_PSH 0x08
#define SW_TCP_ACK 0x10
#define SW_TCP_URG 0x20
#define SW_TCP_ECE 0x40
#define SW_TCP_CWR 0x80

typedef struct sw_packet {
    uint64_t ts_us;        /* packet time, microseconds since the epoch */
    uint64_t pcap_cnt;     /* 1-based index in the capture */
    const uint8_t *data;
    uint32_t caplen;
    uint32_t wirelen;
    int linktype;          /* SW_DLT_* */
    sw_l2_view l2;
    sw_ip_view ip;
    sw_l4_view l4;
    uint8_t n_events;      /* decoder events raised, for anomaly events */
    uint16_t events[SW_MAX_PKT_EVENTS];
} sw_packet;

#endif
