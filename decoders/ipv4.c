/* IPv4 (RFC 791) with option validation, and the upper-layer dispatch
 * shared with IPv6. */
#include "decoders/decoders_internal.h"

#define IPV4_HLEN 20

#define IPV4_OPT_EOL 0
#define IPV4_OPT_NOP 1
#define IPV4_OPT_RR 7
#define IPV4_OPT_QS 25
#define IPV4_OPT_TS 68
#define IPV4_OPT_SEC 130
#define IPV4_OPT_LSRR 131
#define IPV4_OPT_ESEC 133
#define IPV4_OPT_CIPSO 134
#define IPV4_OPT_SID 136
#define IPV4_OPT_SSRR 137
#define IPV4_OPT_RTRALT 148

/* Route options (RR, LSRR, SSRR): a pointer to the next 4-byte slot. */
static bool route_ok(const uint8_t *o, uint8_t olen)
{
    if (olen < 3)
        return false;
    uint8_t ptr = o[2];
    return ptr >= 4 && (ptr % 4) == 0 && ptr <= olen + 1;
}

static bool ts_ok(const uint8_t *o, uint8_t olen)
{
    if (olen < 5)
        return false;
    uint8_t ptr = o[2];
    unsigned rec;
    switch (o[3] & 0x0f) {
    case 0:
        rec = 4;
        break;
    case 1:
    case 3:
        rec = 8;
        break;
    default:
        return false;
    }
    return ptr >= 5 && ((ptr - 5) % rec) == 0 && ptr <= olen + 1;
}

/* Returns false (event set) when the options are malformed; duplicate and
 * unknown options are only noted, as Suricata does. */
static bool ipv4_options(sw_dec_state *st, const uint8_t *o, uint32_t len)
{
    uint32_t seen = 0; /* bit per known option kind */
    while (len > 0) {
        uint8_t kind = o[0];
        if (kind == IPV4_OPT_EOL)
            break;
        if (kind == IPV4_OPT_NOP) {
            o++;
            len--;
            continue;
        }
        if (len < 2) {
            sw_dec_event_set(st, SW_EV_IPV4_OPT_INVALID_LEN);
            return false;
        }
        uint8_t olen = o[1];
        if (olen < 2 || olen > len) {
            sw_dec_event_set(st, SW_EV_IPV4_OPT_INVALID_LEN);
            return false;
        }
        bool ok = true;
        int bit = -1;
        switch (kind) {
        case IPV4_OPT_RR:
            bit = 0;
            ok = route_ok(o, olen);
            break;
        case IPV4_OPT_LSRR:
            bit = 1;
            ok = route_ok(o, olen);
            break;
        case IPV4_OPT_SSRR:
            bit = 2;
            ok = route_ok(o, olen);
            break;
        case IPV4_OPT_QS:
            bit = 3;
            ok = olen == 8;
            break;
        case IPV4_OPT_TS:
            bit = 4;
            ok = ts_ok(o, olen);
            break;
        case IPV4_OPT_SEC:
            bit = 5;
            ok = olen >= 3;
            break;
        case IPV4_OPT_ESEC:
            bit = 6;
            ok = olen >= 3;
            break;
        case IPV4_OPT_CIPSO:
            bit = 7;
            ok = olen >= 10;
            break;
        case IPV4_OPT_SID:
            bit = 8;
            ok = olen == 4;
            break;
        case IPV4_OPT_RTRALT:
            bit = 9;
            ok = olen == 4;
            break;
        default:
            sw_dec_event_set(st, SW_EV_IPV4_OPT_UNKNOWN);
            break;
        }
        if (!ok) {
            sw_dec_event_set(st, SW_EV_IPV4_OPT_MALFORMED);
            return false;
        }
        if (bit >= 0) {
            if (seen & (1u << bit))
                sw_dec_event_set(st, SW_EV_IPV4_OPT_DUPLICATE);
            seen |= 1u << bit;
        }
        o += olen;
        len -= olen;
    }
    return true;
}

sw_dec_result sw_dec_ip_payload(sw_dec_state *st, uint8_t proto, const uint8_t *b,
                                uint32_t len)
{
    uint8_t outer = st->p->ip.version;
    switch (proto) {
    case 6:
        return sw_dec_tcp(st, b, len);
    case 17:
        return sw_dec_udp(st, b, len);
    case 1:
        if (outer == 6)
            sw_dec_event_set(st, SW_EV_IPV6_ICMPV4);
        return sw_dec_icmp(st, b, len);
    case 58:
        if (outer == 4)
            sw_dec_event_set(st, SW_EV_IPV4_ICMPV6);
        return sw_dec_icmpv6(st, b, len);
    case 47:
        return sw_dec_gre(st, b, len);
    case 4:
        if (outer == 6) {
            sw_dec_count(st, SW_DEC_CTR_IPV4_IN_IPV6);
            if (len < IPV4_HLEN)
                return sw_dec_invalid(st, SW_EV_IPV6_IPV4_IN_IPV6_TOO_SMALL);
            if ((b[0] >> 4) != 4)
                return sw_dec_invalid(st, SW_EV_IPV6_IPV4_IN_IPV6_WRONG_VERSION);
        } else {
            sw_dec_count(st, SW_DEC_CTR_IPV4_IN_IPV4);
        }
        sw_dec_tunnel(st, SW_TUN_IPIP, 0);
        return sw_dec_ipv4(st, b, len);
    case 41:
        if (outer == 6) {
            sw_dec_count(st, SW_DEC_CTR_IPV6_IN_IPV6);
            if (len < 40)
                return sw_dec_invalid(st, SW_EV_IPV6_IPV6_IN_IPV6_TOO_SMALL);
            if ((b[0] >> 4) != 6)
                return sw_dec_invalid(st, SW_EV_IPV6_IPV6_IN_IPV6_WRONG_VERSION);
        } else {
            sw_dec_count(st, SW_DEC_CTR_IPV6_IN_IPV4);
        }
        sw_dec_tunnel(st, SW_TUN_IPIP, 0);
        return sw_dec_ipv6(st, b, len);
    case 50:
        sw_dec_count(st, SW_DEC_CTR_ESP);
        return SW_DEC_OK;
    case 132:
        sw_dec_count(st, SW_DEC_CTR_SCTP);
        return SW_DEC_OK;
    case 2:
        sw_dec_count(st, SW_DEC_CTR_IGMP);
        return SW_DEC_OK;
    default:
        return SW_DEC_OK;
    }
}

sw_dec_result sw_dec_ipv4(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_IPV4);
    if (len < IPV4_HLEN)
        return sw_dec_invalid(st, SW_EV_IPV4_PKT_TOO_SMALL);
    if ((b[0] >> 4) != 4)
        return sw_dec_invalid(st, SW_EV_IPV4_WRONG_IP_VERSION);
    uint32_t hlen = (uint32_t)(b[0] & 0x0f) * 4;
    if (hlen < IPV4_HLEN || len < hlen)
        return sw_dec_invalid(st, SW_EV_IPV4_HLEN_TOO_SMALL);
    uint32_t iplen = sw_rd16(b + 2);
    if (iplen < hlen)
        return sw_dec_invalid(st, SW_EV_IPV4_IPLEN_SMALLER_THAN_HLEN);
    if (len < iplen)
        return sw_dec_invalid(st, SW_EV_IPV4_TRUNC_PKT);

    /* The (possibly outer) header we descended from is replaced. */
    sw_packet *p = st->p;
    sw_ip_view *ip = &p->ip;
    memset(ip, 0, sizeof(*ip));
    memset(&p->l4, 0, sizeof(p->l4));
    ip->version = 4;
    ip->proto = b[9];
    ip->ttl = b[8];
    memcpy(ip->src, b + 12, 4);
    memcpy(ip->dst, b + 16, 4);
    ip->hdr = b;
    ip->hdr_len = hlen;
    ip->total_len = iplen; /* Ethernet padding beyond iplen is dropped */
    ip->payload = b + hlen;
    ip->payload_len = iplen - hlen;

    if (hlen > IPV4_HLEN && !ipv4_options(st, b + IPV4_HLEN, hlen - IPV4_HLEN))
        return SW_DEC_INVALID;

    uint16_t frag = sw_rd16(b + 6);
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
    bool mf = (frag & 0x2000) != 0;
    if (off != 0 || mf) {
        ip->is_fragment = true;
        ip->more_frags = mf;
        ip->frag_id = sw_rd16(b + 4);
        ip->frag_offset = off;
        if (off + ip->payload_len > 65535)
            return sw_dec_invalid(st, SW_EV_IPV4_FRAG_PKT_TOO_LARGE);
        return SW_DEC_FRAGMENT;
    }
    return sw_dec_ip_payload(st, ip->proto, ip->payload, ip->payload_len);
}
