/* L2-L4 packet decoding (Ethernet, VLAN, MPLS, SLL/SLL2, null/loop, raw IP,
 * IPv4, IPv6, TCP, UDP, ICMP, ICMPv6, GRE, ERSPAN I/II/III, VXLAN, IP-in-IP,
 * PPPoE, PPP, Teredo).
 *
 * Discipline (Suricata's): every decoder checks lengths before reading,
 * records a named event and returns when the bytes are malformed. Nothing
 * here allocates; one sw_dec_ctx per worker thread holds the config and the
 * counters that thread owns.
 *
 * Zeroing: sw_decode_packet() zeroes p->l2, p->ip, p->l4 and p->n_events
 * itself (a few hundred bytes, not the whole packet); the caller only sets
 * data, caplen, wirelen, linktype, ts_us (and pcap_cnt if it wants).
 * sw_decode_ip_datagram() zeroes p->ip and p->l4 only and appends to
 * p->events. */
#ifndef SW_DECODE_H
#define SW_DECODE_H

#include <stddef.h>
#include <stdint.h>

#include "decoders/packet.h"
#include "sensor/cfg.h"
#include "sensor/counters.h"

/* Plain counters: (ID, stats path). */
#define SW_DEC_CTR_LIST(X)                               \
    X(SW_DEC_CTR_PKTS, "decoder.pkts")                   \
    X(SW_DEC_CTR_BYTES, "decoder.bytes")                 \
    X(SW_DEC_CTR_INVALID, "decoder.invalid")             \
    X(SW_DEC_CTR_ETHERNET, "decoder.ethernet")           \
    X(SW_DEC_CTR_IPV4, "decoder.ipv4")                   \
    X(SW_DEC_CTR_IPV6, "decoder.ipv6")                   \
    X(SW_DEC_CTR_TCP, "decoder.tcp")                     \
    X(SW_DEC_CTR_UDP, "decoder.udp")                     \
    X(SW_DEC_CTR_ICMPV4, "decoder.icmpv4")               \
    X(SW_DEC_CTR_ICMPV6, "decoder.icmpv6")               \
    X(SW_DEC_CTR_VLAN, "decoder.vlan")                   \
    X(SW_DEC_CTR_VLAN_QINQ, "decoder.vlan_qinq")         \
    X(SW_DEC_CTR_VLAN_QINQINQ, "decoder.vlan_qinqinq")   \
    X(SW_DEC_CTR_MPLS, "decoder.mpls")                   \
    X(SW_DEC_CTR_GRE, "decoder.gre")                     \
    X(SW_DEC_CTR_ERSPAN, "decoder.erspan")               \
    X(SW_DEC_CTR_VXLAN, "decoder.vxlan")                 \
    X(SW_DEC_CTR_PPPOE, "decoder.pppoe")                 \
    X(SW_DEC_CTR_PPP, "decoder.ppp")                     \
    X(SW_DEC_CTR_TEREDO, "decoder.teredo")               \
    X(SW_DEC_CTR_SLL, "decoder.sll")                     \
    X(SW_DEC_CTR_SLL2, "decoder.sll2")                   \
    X(SW_DEC_CTR_NULL, "decoder.null")                   \
    X(SW_DEC_CTR_RAW, "decoder.raw")                     \
    X(SW_DEC_CTR_ARP, "decoder.arp")                     \
    X(SW_DEC_CTR_ESP, "decoder.esp")                     \
    X(SW_DEC_CTR_SCTP, "decoder.sctp")                   \
    X(SW_DEC_CTR_IGMP, "decoder.igmp")                   \
    X(SW_DEC_CTR_IPV4_IN_IPV4, "decoder.ipv4_in_ipv4")   \
    X(SW_DEC_CTR_IPV6_IN_IPV4, "decoder.ipv6_in_ipv4")   \
    X(SW_DEC_CTR_IPV4_IN_IPV6, "decoder.ipv4_in_ipv6")   \
    X(SW_DEC_CTR_IPV6_IN_IPV6, "decoder.ipv6_in_ipv6")   \
    X(SW_DEC_CTR_TOO_MANY_LAYERS, "decoder.too_many_layers") \
    X(SW_DEC_CTR_UNKNOWN_ETHERTYPE, "decoder.unknown_ethertype") \
    X(SW_DEC_CTR_NOT_IP, "spanwatch.decoder.not_ip")     \
    X(SW_DEC_CTR_UNKNOWN_LINKTYPE, "spanwatch.decoder.unknown_linktype")

/* Events: (ID, Suricata event name without the "decoder.event." prefix).
 * Each has a counter "decoder.event.<name>", except too_many_layers whose
 * Suricata counter is decoder.too_many_layers (above). */
#define SW_DEC_EVENT_LIST(X)                                              \
    X(SW_EV_ETH_PKT_TOO_SMALL, "ethernet.pkt_too_small")                  \
    X(SW_EV_VLAN_HEADER_TOO_SMALL, "vlan.header_too_small")               \
    X(SW_EV_VLAN_TOO_MANY_LAYERS, "vlan.too_many_layers")                 \
    X(SW_EV_MPLS_HEADER_TOO_SMALL, "mpls.header_too_small")               \
    X(SW_EV_MPLS_PKT_TOO_SMALL, "mpls.pkt_too_small")                     \
    X(SW_EV_MPLS_BAD_LABEL_ROUTER_ALERT, "mpls.bad_label_router_alert")   \
    X(SW_EV_MPLS_BAD_LABEL_IMPLICIT_NULL, "mpls.bad_label_implicit_null") \
    X(SW_EV_MPLS_BAD_LABEL_RESERVED, "mpls.bad_label_reserved")           \
    X(SW_EV_MPLS_UNKNOWN_PAYLOAD_TYPE, "mpls.unknown_payload_type")       \
    X(SW_EV_SLL_PKT_TOO_SMALL, "sll.pkt_too_small")                       \
    X(SW_EV_SLL2_PKT_TOO_SMALL, "sll2.pkt_too_small")                     \
    X(SW_EV_LTNULL_PKT_TOO_SMALL, "ltnull.pkt_too_small")                 \
    X(SW_EV_LTNULL_UNSUPPORTED_TYPE, "ltnull.unsupported_type")           \
    X(SW_EV_IPRAW_INVALID_IP_VERSION, "ipraw.invalid_ip_version")         \
    X(SW_EV_IPV4_PKT_TOO_SMALL, "ipv4.pkt_too_small")                     \
    X(SW_EV_IPV4_HLEN_TOO_SMALL, "ipv4.hlen_too_small")                   \
    X(SW_EV_IPV4_IPLEN_SMALLER_THAN_HLEN, "ipv4.iplen_smaller_than_hlen") \
    X(SW_EV_IPV4_TRUNC_PKT, "ipv4.trunc_pkt")                             \
    X(SW_EV_IPV4_WRONG_IP_VERSION, "ipv4.wrong_ip_version")               \
    X(SW_EV_IPV4_OPT_INVALID, "ipv4.opt_invalid")                         \
    X(SW_EV_IPV4_OPT_INVALID_LEN, "ipv4.opt_invalid_len")                 \
    X(SW_EV_IPV4_OPT_MALFORMED, "ipv4.opt_malformed")                     \
    X(SW_EV_IPV4_OPT_DUPLICATE, "ipv4.opt_duplicate")                     \
    X(SW_EV_IPV4_OPT_UNKNOWN, "ipv4.opt_unknown")                         \
    X(SW_EV_IPV4_ICMPV6, "ipv4.icmpv6")                                   \
    X(SW_EV_IPV4_FRAG_PKT_TOO_LARGE, "ipv4.frag_pkt_too_large")           \
    X(SW_EV_IPV6_PKT_TOO_SMALL, "ipv6.pkt_too_small")                     \
    X(SW_EV_IPV6_TRUNC_PKT, "ipv6.trunc_pkt")                             \
    X(SW_EV_IPV6_TRUNC_EXTHDR, "ipv6.trunc_exthdr")                       \
    X(SW_EV_IPV6_WRONG_IP_VERSION, "ipv6.wrong_ip_version")               \
    X(SW_EV_IPV6_EXTHDR_DUPL_FH, "ipv6.exthdr_dupl_fh")                   \
    X(SW_EV_IPV6_EXTHDR_DUPL_RH, "ipv6.exthdr_dupl_rh")                   \
    X(SW_EV_IPV6_EXTHDR_DUPL_HH, "ipv6.exthdr_dupl_hh")                   \
    X(SW_EV_IPV6_EXTHDR_DUPL_DH, "ipv6.exthdr_dupl_dh")                   \
    X(SW_EV_IPV6_EXTHDR_DUPL_AH, "ipv6.exthdr_dupl_ah")                   \
    X(SW_EV_IPV6_EXTHDR_USELESS_FH, "ipv6.exthdr_useless_fh")             \
    X(SW_EV_IPV6_EXTHDR_INVALID_OPTLEN, "ipv6.exthdr_invalid_optlen")     \
    X(SW_EV_IPV6_EXTHDR_AH_RES_NOT_NULL, "ipv6.exthdr_ah_res_not_null")   \
    X(SW_EV_IPV6_HOPOPTS_UNKNOWN_OPT, "ipv6.hopopts_unknown_opt")         \
    X(SW_EV_IPV6_HOPOPTS_ONLY_PADDING, "ipv6.hopopts_only_padding")       \
    X(SW_EV_IPV6_DSTOPTS_UNKNOWN_OPT, "ipv6.dstopts_unknown_opt")         \
    X(SW_EV_IPV6_DSTOPTS_ONLY_PADDING, "ipv6.dstopts_only_padding")       \
    X(SW_EV_IPV6_RH_TYPE_0, "ipv6.rh_type_0")                             \
    X(SW_EV_IPV6_ZERO_LEN_PADN, "ipv6.zero_len_padn")                     \
    X(SW_EV_IPV6_FH_NON_ZERO_RESERVED_FIELD, "ipv6.fh_non_zero_reserved_field") \
    X(SW_EV_IPV6_DATA_AFTER_NONE_HEADER, "ipv6.data_after_none_header")   \
    X(SW_EV_IPV6_FRAG_INVALID_LENGTH, "ipv6.frag_invalid_length")         \
    X(SW_EV_IPV6_FRAG_PKT_TOO_LARGE, "ipv6.frag_pkt_too_large")           \
    X(SW_EV_IPV6_ICMPV4, "ipv6.icmpv4")                                   \
    X(SW_EV_IPV6_IPV4_IN_IPV6_TOO_SMALL, "ipv6.ipv4_in_ipv6_too_small")   \
    X(SW_EV_IPV6_IPV4_IN_IPV6_WRONG_VERSION, "ipv6.ipv4_in_ipv6_wrong_version") \
    X(SW_EV_IPV6_IPV6_IN_IPV6_TOO_SMALL, "ipv6.ipv6_in_ipv6_too_small")   \
    X(SW_EV_IPV6_IPV6_IN_IPV6_WRONG_VERSION, "ipv6.ipv6_in_ipv6_wrong_version") \
    X(SW_EV_TCP_PKT_TOO_SMALL, "tcp.pkt_too_small")                       \
    X(SW_EV_TCP_HLEN_TOO_SMALL, "tcp.hlen_too_small")                     \
    X(SW_EV_TCP_INVALID_OPTLEN, "tcp.invalid_optlen")                     \
    X(SW_EV_TCP_OPT_INVALID_LEN, "tcp.opt_invalid_len")                   \
    X(SW_EV_TCP_OPT_DUPLICATE, "tcp.opt_duplicate")                       \
    X(SW_EV_UDP_PKT_TOO_SMALL, "udp.pkt_too_small")                       \
    X(SW_EV_UDP_HLEN_TOO_SMALL, "udp.hlen_too_small")                     \
    X(SW_EV_UDP_LEN_INVALID, "udp.len_invalid")                           \
    X(SW_EV_ICMPV4_PKT_TOO_SMALL, "icmpv4.pkt_too_small")                 \
    X(SW_EV_ICMPV4_UNKNOWN_TYPE, "icmpv4.unknown_type")                   \
    X(SW_EV_ICMPV4_UNKNOWN_CODE, "icmpv4.unknown_code")                   \
    X(SW_EV_ICMPV4_IPV4_TRUNC_PKT, "icmpv4.ipv4_trunc_pkt")               \
    X(SW_EV_ICMPV4_IPV4_UNKNOWN_VER, "icmpv4.ipv4_unknown_ver")           \
    X(SW_EV_ICMPV6_PKT_TOO_SMALL, "icmpv6.pkt_too_small")                 \
    X(SW_EV_ICMPV6_UNKNOWN_TYPE, "icmpv6.unknown_type")                   \
    X(SW_EV_ICMPV6_UNKNOWN_CODE, "icmpv6.unknown_code")                   \
    X(SW_EV_ICMPV6_UNASSIGNED_TYPE, "icmpv6.unassigned_type")             \
    X(SW_EV_ICMPV6_EXPERIMENTATION_TYPE, "icmpv6.experimentation_type")   \
    X(SW_EV_ICMPV6_IPV6_TRUNC_PKT, "icmpv6.ipv6_trunc_pkt")               \
    X(SW_EV_ICMPV6_IPV6_UNKNOWN_VERSION, "icmpv6.ipv6_unknown_version")   \
    X(SW_EV_ICMPV6_MLD_INVALID_HL, "icmpv6.mld_message_with_invalid_hl")  \
    X(SW_EV_GRE_PKT_TOO_SMALL, "gre.pkt_too_small")                       \
    X(SW_EV_GRE_WRONG_VERSION, "gre.wrong_version")                       \
    X(SW_EV_GRE_V0_RECUR, "gre.version0_recur")                           \
    X(SW_EV_GRE_V0_FLAGS, "gre.version0_flags")                           \
    X(SW_EV_GRE_V0_HDR_TOO_BIG, "gre.version0_hdr_too_big")               \
    X(SW_EV_GRE_V0_MALFORMED_SRE_HDR, "gre.version0_malformed_sre_hdr")   \
    X(SW_EV_GRE_V1_CHKSUM, "gre.version1_chksum")                         \
    X(SW_EV_GRE_V1_ROUTE, "gre.version1_route")                           \
    X(SW_EV_GRE_V1_SSR, "gre.version1_ssr")                               \
    X(SW_EV_GRE_V1_RECUR, "gre.version1_recur")                           \
    X(SW_EV_GRE_V1_FLAGS, "gre.version1_flags")                           \
    X(SW_EV_GRE_V1_NO_KEY, "gre.version1_no_key")                         \
    X(SW_EV_GRE_V1_WRONG_PROTOCOL, "gre.version1_wrong_protocol")         \
    X(SW_EV_GRE_V1_HDR_TOO_BIG, "gre.version1_hdr_too_big")               \
    X(SW_EV_ERSPAN_HEADER_TOO_SMALL, "erspan.header_too_small")           \
    X(SW_EV_ERSPAN_UNSUPPORTED_VERSION, "erspan.unsupported_version")     \
    X(SW_EV_ERSPAN_TOO_MANY_VLAN_LAYERS, "erspan.too_many_vlan_layers")   \
    X(SW_EV_VXLAN_UNKNOWN_PAYLOAD_TYPE, "vxlan.unknown_payload_type")     \
    X(SW_EV_PPPOE_PKT_TOO_SMALL, "pppoe.pkt_too_small")                   \
    X(SW_EV_PPPOE_WRONG_CODE, "pppoe.wrong_code")                         \
    X(SW_EV_PPPOE_MALFORMED_TAGS, "pppoe.malformed_tags")                 \
    X(SW_EV_PPP_PKT_TOO_SMALL, "ppp.pkt_too_small")                       \
    X(SW_EV_PPP_VJU_PKT_TOO_SMALL, "ppp.vju_pkt_too_small")               \
    X(SW_EV_PPP_IP4_PKT_TOO_SMALL, "ppp.ip4_pkt_too_small")               \
    X(SW_EV_PPP_IP6_PKT_TOO_SMALL, "ppp.ip6_pkt_too_small")               \
    X(SW_EV_PPP_WRONG_TYPE, "ppp.wrong_type")                             \
    X(SW_EV_PPP_UNSUP_PROTO, "ppp.unsup_proto")                           \
    X(SW_EV_TOO_MANY_LAYERS, "too_many_layers")

typedef enum sw_dec_event {
#define SW_X(id, name) id,
    SW_DEC_EVENT_LIST(SW_X)
#undef SW_X
    SW_DEC_EVENT_COUNT
} sw_dec_event;

enum {
#define SW_X(id, path) id,
    SW_DEC_CTR_LIST(SW_X)
#undef SW_X
    SW_DEC_CTR_EV_BASE, /* counter of event e is SW_DEC_CTR_EV_BASE + e */
};
#define SW_DEC_CTR_COUNT (SW_DEC_CTR_EV_BASE + SW_DEC_EVENT_COUNT)

typedef enum {
    SW_DEC_OK = 0,
    SW_DEC_FRAGMENT, /* innermost IP packet is a fragment: give it to defrag */
    SW_DEC_NOT_IP,   /* ARP, LLDP, ...: counted, nothing to inspect */
    SW_DEC_INVALID,  /* malformed: a named event is in p->events */
} sw_dec_result;

#define SW_DEC_MAX_TEREDO_PORTS 8

typedef struct sw_dec_config {
    /* Encapsulation depth limit: every link/IP header decoded counts one
     * layer (Ethernet+IPv4+GRE+Ethernet+IPv4 is 4). Beyond it the packet
     * gets too_many_layers and decoding stops. */
    uint32_t max_layers;
    /* decoder.teredo: UDP to or from these ports whose payload is exactly
     * one IPv6 packet is decoded as a Teredo tunnel; "any" tries every UDP
     * packet (relays use arbitrary ports, at the price of rare misreads). */
    bool teredo_enabled;
    bool teredo_any_port;
    uint16_t teredo_ports[SW_DEC_MAX_TEREDO_PORTS];
    size_t n_teredo_ports;
} sw_dec_config;

#define SW_DEC_MAX_LAYERS_LIMIT 64 /* hard ceiling on config (stack depth) */

typedef struct sw_dec_ctx {
    sw_dec_config cfg;
    uint64_t ctr[SW_DEC_CTR_COUNT];
} sw_dec_ctx;

void sw_dec_config_defaults(sw_dec_config *c);
/* Reads decoder.max-layers, decoder.teredo.enabled, decoder.teredo.ports.
 * 0 ok, -1 with err filled. */
int sw_dec_config_load(const sw_cfg_node *root, sw_dec_config *c, char *err,
                       size_t errlen);
void sw_dec_ctx_init(sw_dec_ctx *ctx, const sw_dec_config *cfg);

/* p->data, caplen, wirelen, linktype, ts_us set by the caller. Tunnels (GRE,
 * ERSPAN I/II/III, VXLAN, IP-in-IP, 6in4, Teredo, PPPoE) are descended into: p->ip/p->l4
 * describe the innermost packet, p->l2.tunnel_* the outermost tunnel. */
sw_dec_result sw_decode_packet(sw_dec_ctx *ctx, sw_packet *p);

/* After defragmentation: decode a complete IP datagram (v4 or v6) into
 * p->ip/p->l4 (and descend into tunnels it carries), keeping p->l2. The
 * bytes must stay valid while p is used. */
sw_dec_result sw_decode_ip_datagram(sw_dec_ctx *ctx, sw_packet *p,
                                    const uint8_t *ip, uint32_t len);

/* "ipv4.pkt_too_small" etc. (what follows "decoder.event."); NULL if out
 * of range. */
const char *sw_dec_event_name(uint16_t ev);

sw_ctr_group sw_dec_counters(const sw_dec_ctx *ctx);

/* Symmetric hash of the innermost IP address pair plus the VLAN ids and
 * tunnel id: both directions, all fragments and all flows of one host pair
 * give the same value. Non-IP packets hash the VLAN/tunnel context only. */
uint32_t sw_packet_pair_hash(const sw_packet *p);

#endif
