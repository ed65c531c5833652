/* Top-level dispatch, names, counters and the host-pair hash. */
#include "decoders/decoders_internal.h"

#include <stdio.h>

static const char *const ev_names[SW_DEC_EVENT_COUNT] = {
#define SW_X(id, name) [id] = name,
    SW_DEC_EVENT_LIST(SW_X)
#undef SW_X
};

/* One array of stats paths for the whole counter block: plain counters,
 * then one per event ("decoder.event." + name, built by the preprocessor so
 * nothing is formatted at run time). */
static const char *const ctr_names[SW_DEC_CTR_COUNT] = {
#define SW_X(id, path) [id] = path,
    SW_DEC_CTR_LIST(SW_X)
#undef SW_X
/* too_many_layers has its Suricata counter outside decoder.event (the plain
 * decoder.too_many_layers above); its per-event twin goes under spanwatch. */
#define SW_X(id, name)                                                          \
    [SW_DEC_CTR_EV_BASE + id] = (id == SW_EV_TOO_MANY_LAYERS                  \
                                     ? "spanwatch.decoder.event." name         \
                                     : "decoder.event." name),
    SW_DEC_EVENT_LIST(SW_X)
#undef SW_X
};

void sw_dec_config_defaults(sw_dec_config *c)
{
    c->max_layers = 8;
    c->teredo_enabled = true;
    c->teredo_any_port = false;
    c->teredo_ports[0] = 3544;
    c->n_teredo_ports = 1;
}

int sw_dec_config_load(const sw_cfg_node *root, sw_dec_config *c, char *err,
                       size_t errlen)
{
    if (sw_cfg_get_u32_in(root, "decoder.max-layers", &c->max_layers, 1,
                          SW_DEC_MAX_LAYERS_LIMIT, err, errlen) != 0 ||
        sw_cfg_get_bool(root, "decoder.teredo.enabled", &c->teredo_enabled, err, errlen) != 0 ||
        sw_cfg_get_ports(root, "decoder.teredo.ports", c->teredo_ports, SW_DEC_MAX_TEREDO_PORTS,
                         &c->n_teredo_ports, &c->teredo_any_port, err, errlen) != 0)
        return -1;
    return 0;
}

void sw_dec_ctx_init(sw_dec_ctx *ctx, const sw_dec_config *cfg)
{
    memset(ctx, 0, sizeof(*ctx));
    if (cfg)
        ctx->cfg = *cfg;
    else
        sw_dec_config_defaults(&ctx->cfg);
    if (ctx->cfg.max_layers == 0)
        ctx->cfg.max_layers = 1;
    if (ctx->cfg.max_layers > SW_DEC_MAX_LAYERS_LIMIT)
        ctx->cfg.max_layers = SW_DEC_MAX_LAYERS_LIMIT;
}

const char *sw_dec_event_name(uint16_t ev)
{
    return ev < SW_DEC_EVENT_COUNT ? ev_names[ev] : NULL;
}

sw_ctr_group sw_dec_counters(const sw_dec_ctx *ctx)
{
    sw_ctr_group g = {ctr_names, ctx->ctr, SW_DEC_CTR_COUNT};
    return g;
}

static sw_dec_result finish(sw_dec_state *st, sw_dec_result r)
{
    if (r == SW_DEC_INVALID)
        sw_dec_count(st, SW_DEC_CTR_INVALID);
    else if (r == SW_DEC_NOT_IP)
        sw_dec_count(st, SW_DEC_CTR_NOT_IP);
    return r;
}

sw_dec_result sw_decode_packet(sw_dec_ctx *ctx, sw_packet *p)
{
    sw_dec_state st = {ctx, p, 0};
    memset(&p->l2, 0, sizeof(p->l2));
    memset(&p->ip, 0, sizeof(p->ip));
    memset(&p->l4, 0, sizeof(p->l4));
    p->n_events = 0;

    sw_dec_count(&st, SW_DEC_CTR_PKTS);
    SW_CTR_ADD(ctx->ctr, SW_DEC_CTR_BYTES, p->caplen);

    const uint8_t *b = p->data;
    uint32_t len = b ? p->caplen : 0;
    sw_dec_result r;
    switch (p->linktype) {
    case SW_DLT_EN10MB:
        r = sw_dec_ethernet(&st, b, len);
        break;
    case SW_DLT_LINUX_SLL:
        r = sw_dec_sll(&st, b, len);
        break;
    case SW_DLT_LINUX_SLL2:
        r = sw_dec_sll2(&st, b, len);
        break;
    case SW_DLT_NULL:
        r = sw_dec_null(&st, b, len, false);
        break;
    case SW_DLT_LOOP:
        r = sw_dec_null(&st, b, len, true);
        break;
    case SW_DLT_RAW:
    case SW_DLT_LINKTYPE_RAW:
        r = sw_dec_raw(&st, b, len, 0);
        break;
    case SW_DLT_IPV4:
        r = sw_dec_raw(&st, b, len, 4);
        break;
    case SW_DLT_PPP:
        r = sw_dec_ppp(&st, b, len);
        break;
    case SW_DLT_IPV6:
        r = sw_dec_raw(&st, b, len, 6);
        break;
    default:
        sw_dec_count(&st, SW_DEC_CTR_UNKNOWN_LINKTYPE);
        r = SW_DEC_NOT_IP;
        break;
    }
    return finish(&st, r);
}

sw_dec_result sw_decode_ip_datagram(sw_dec_ctx *ctx, sw_packet *p,
                                    const uint8_t *ip, uint32_t len)
{
    sw_dec_state st = {ctx, p, 0};
    memset(&p->ip, 0, sizeof(p->ip));
    memset(&p->l4, 0, sizeof(p->l4));
    sw_dec_result r;
    if (ip == NULL || len < 1)
        r = sw_dec_invalid(&st, SW_EV_IPV4_PKT_TOO_SMALL);
    else if ((ip[0] >> 4) == 6)
        r = sw_dec_ipv6(&st, ip, len);
    else
        r = sw_dec_ipv4(&st, ip, len);
    return finish(&st, r);
}

/* murmur3's finaliser: cheap and mixes every input bit into every output bit. */
static inline uint32_t fmix32(uint32_t h)
{
    h ^= h >> 16;
    h *= 0x85ebca6bu;
    h ^= h >> 13;
    h *= 0xc2b2ae35u;
    h ^= h >> 16;
    return h;
}

static inline uint32_t addr_fold(const uint8_t *a, int words)
{
    uint32_t h = 0x9747b28cu;
    for (int i = 0; i < words; i++) {
        uint32_t w;
        memcpy(&w, a + 4 * i, 4);
        h = fmix32(h ^ w) * 5u + 0xe6546b64u;
    }
    return h;
}

uint32_t sw_packet_pair_hash(const sw_packet *p)
{
    const sw_l2_view *l2 = &p->l2;
    uint32_t ctx = (uint32_t)l2->vlan_id[0] | ((uint32_t)l2->vlan_id[1] << 16);
    ctx ^= fmix32((uint32_t)l2->vlan_id[2] ^ (l2->tunnel_id * 0x9e3779b1u));
    if (p->ip.version != 4 && p->ip.version != 6)
        return fmix32(ctx);
    int words = p->ip.version == 4 ? 1 : 4;
    uint32_t a = addr_fold(p->ip.src, words);
    uint32_t b = addr_fold(p->ip.dst, words);
    /* Order-independent combination: the smaller fold first. */
    uint32_t lo = a < b ? a : b, hi = a < b ? b : a;
    return fmix32(lo * 0x9e3779b1u ^ fmix32(hi + ctx) ^ (uint32_t)p->ip.version);
}
