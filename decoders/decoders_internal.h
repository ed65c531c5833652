/* Shared between the decoder files only. */
#ifndef SW_DECODERS_INTERNAL_H
#define SW_DECODERS_INTERNAL_H

#include <string.h>

#include "decoders/decode.h"

/* One decode run: the packet, the counters, and how deep we are. */
typedef struct sw_dec_state {
    sw_dec_ctx *ctx;
    sw_packet *p;
    uint32_t layers;
} sw_dec_state;

static inline uint16_t sw_rd16(const uint8_t *b) { return (uint16_t)((b[0] << 8) | b[1]); }
static inline uint32_t sw_rd32(const uint8_t *b)
{
    return ((uint32_t)b[0] << 24) | ((uint32_t)b[1] << 16) | ((uint32_t)b[2] << 8) | b[3];
}
static inline uint32_t sw_rd32le(const uint8_t *b)
{
    return ((uint32_t)b[3] << 24) | ((uint32_t)b[2] << 16) | ((uint32_t)b[1] << 8) | b[0];
}

static inline void sw_dec_count(sw_dec_state *st, int id) { SW_CTR_INC(st->ctx->ctr, id); }

/* Records an event (if room) and counts it; the packet goes on. */
static inline void sw_dec_event_set(sw_dec_state *st, sw_dec_event ev)
{
    sw_packet *p = st->p;
    if (p->n_events < SW_MAX_PKT_EVENTS)
        p->events[p->n_events++] = (uint16_t)ev;
    if (ev == SW_EV_TOO_MANY_LAYERS)
        SW_CTR_INC(st->ctx->ctr, SW_DEC_CTR_TOO_MANY_LAYERS);
    else
        SW_CTR_INC(st->ctx->ctr, SW_DEC_CTR_EV_BASE + ev);
}

/* Records an event and ends decoding of this packet as malformed. */
static inline sw_dec_result sw_dec_invalid(sw_dec_state *st, sw_dec_event ev)
{
    sw_dec_event_set(st, ev);
    return SW_DEC_INVALID;
}

/* Every link or IP header entered counts one layer; false when over. */
static inline bool sw_dec_enter_layer(sw_dec_state *st)
{
    if (++st->layers > st->ctx->cfg.max_layers)
        return false;
    return true;
}

/* Marks the start of a tunnel payload; the outermost tunnel is kept. */
static inline void sw_dec_tunnel(sw_dec_state *st, sw_tunnel_type t, uint32_t id)
{
    sw_l2_view *l2 = &st->p->l2;
    if (l2->tunnel_depth == 0) {
        const sw_packet *p = st->p;
        l2->tunnel_type = (uint8_t)t;
        l2->tunnel_id = id;
        l2->tun_version = p->ip.version;
        l2->tun_proto = p->ip.proto;
        memcpy(l2->tun_src, p->ip.src, 16);
        memcpy(l2->tun_dst, p->ip.dst, 16);
        bool udp = p->ip.proto == 17;
        l2->tun_sport = udp ? p->l4.sport : 0;
        l2->tun_dport = udp ? p->l4.dport : 0;
    }
    if (l2->tunnel_depth < UINT8_MAX)
        l2->tunnel_depth++;
}

sw_dec_result sw_dec_ethernet(sw_dec_state *st, const uint8_t *b, uint32_t len);
/* Dispatches on an ethertype (after Ethernet, VLAN, SLL, GRE). */
sw_dec_result sw_dec_ethertype(sw_dec_state *st, uint16_t type, const uint8_t *b,
                               uint32_t len);
sw_dec_result sw_dec_vlan(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_mpls(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_sll(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_sll2(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_null(sw_dec_state *st, const uint8_t *b, uint32_t len, bool net_order);
sw_dec_result sw_dec_raw(sw_dec_state *st, const uint8_t *b, uint32_t len, int only_version);
sw_dec_result sw_dec_ipv4(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_ipv6(sw_dec_state *st, const uint8_t *b, uint32_t len);
/* Upper layer after the IP header (shared by v4/v6). */
sw_dec_result sw_dec_ip_payload(sw_dec_state *st, uint8_t proto, const uint8_t *b,
                                uint32_t len);
sw_dec_result sw_dec_tcp(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_udp(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_icmp(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_icmpv6(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_gre(sw_dec_state *st, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_erspan(sw_dec_state *st, int type, const uint8_t *b, uint32_t len);
sw_dec_result sw_dec_vxlan(sw_dec_state *st, const uint8_t *b, uint32_t len);
/* ethertype 0x8863 (discovery) or 0x8864 (session) */
sw_dec_result sw_dec_pppoe(sw_dec_state *st, uint16_t ethertype, const uint8_t *b,
                           uint32_t len);
sw_dec_result sw_dec_ppp(sw_dec_state *st, const uint8_t *b, uint32_t len);
bool sw_dec_teredo_port(const sw_dec_config *c, uint16_t sport, uint16_t dport);
/* SW_DEC_OK without touching the packet when the payload is not Teredo. */
sw_dec_result sw_dec_teredo(sw_dec_state *st, const uint8_t *b, uint32_t len);

#endif
