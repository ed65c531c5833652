/* PPPoE (RFC 2516) discovery and session stages, and PPP (RFC 1661) as a
 * link type of its own. Event names are Suricata's. */
#include "decoders/decoders_internal.h"

#define PPPOE_HLEN 6

#define PPP_IP 0x0021
#define PPP_IPV6 0x0057
#define PPP_VJ_COMP 0x002d
#define PPP_VJ_UCOMP 0x002f

/* PPPoE discovery codes: PADI, PADO, PADR, PADS, PADT. */
static bool pppoe_code_ok(uint8_t code)
{
    return code == 0x09 || code == 0x07 || code == 0x19 || code == 0x65 || code == 0xa7;
}

/* Link control, authentication and network control protocols (0x8000 and
 * up, RFC 1661 section 2): routine session upkeep, not an anomaly. */
static bool ppp_is_control(uint16_t proto) { return proto >= 0x8000; }

/* Network-layer protocols PPP may carry that are not IP (IPX, OSI, ...):
 * the low bit of the low octet is set and the high octet's is clear. */
static bool ppp_is_valid_network(uint16_t proto) { return (proto & 0x0101) == 0x0001; }

/* The payload after the PPP protocol field. Shared by PPPoE sessions and
 * the PPP link type. */
static sw_dec_result ppp_payload(sw_dec_state *st, uint16_t proto, const uint8_t *b,
                                 uint32_t len)
{
    switch (proto) {
    case PPP_IP:
        if (len < 20)
            return sw_dec_invalid(st, SW_EV_PPP_IP4_PKT_TOO_SMALL);
        return sw_dec_ipv4(st, b, len);
    case PPP_IPV6:
        if (len < 40)
            return sw_dec_invalid(st, SW_EV_PPP_IP6_PKT_TOO_SMALL);
        return sw_dec_ipv6(st, b, len);
    case PPP_VJ_UCOMP:
        /* Van Jacobson "uncompressed": an IPv4 header whose protocol byte
         * holds a slot number; it is still a readable IPv4 packet. */
        if (len < 20)
            return sw_dec_invalid(st, SW_EV_PPP_VJU_PKT_TOO_SMALL);
        if ((b[0] >> 4) == 4)
            return sw_dec_ipv4(st, b, len);
        break;
    case PPP_VJ_COMP:
        sw_dec_event_set(st, SW_EV_PPP_UNSUP_PROTO);
        break;
    default:
        if (ppp_is_control(proto))
            break;
        if (ppp_is_valid_network(proto)) {
            sw_dec_event_set(st, SW_EV_PPP_UNSUP_PROTO);
            break;
        }
        return sw_dec_invalid(st, SW_EV_PPP_WRONG_TYPE);
    }
    memset(&st->p->ip, 0, sizeof(st->p->ip));
    memset(&st->p->l4, 0, sizeof(st->p->l4));
    return SW_DEC_NOT_IP;
}

static sw_dec_result pppoe_discovery(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (len < PPPOE_HLEN)
        return sw_dec_invalid(st, SW_EV_PPPOE_PKT_TOO_SMALL);
    if (!pppoe_code_ok(b[1]))
        return sw_dec_invalid(st, SW_EV_PPPOE_WRONG_CODE);
    uint32_t plen = sw_rd16(b + 4);
    if (plen > len - PPPOE_HLEN)
        return sw_dec_invalid(st, SW_EV_PPPOE_PKT_TOO_SMALL);
    /* Tags: type, length, value; the last one must end exactly at plen. */
    const uint8_t *t = b + PPPOE_HLEN;
    uint32_t left = plen;
    while (left) {
        if (left < 4 || sw_rd16(t + 2) > left - 4)
            return sw_dec_invalid(st, SW_EV_PPPOE_MALFORMED_TAGS);
        uint32_t tl = 4u + sw_rd16(t + 2);
        t += tl;
        left -= tl;
    }
    memset(&st->p->ip, 0, sizeof(st->p->ip));
    memset(&st->p->l4, 0, sizeof(st->p->l4));
    return SW_DEC_NOT_IP;
}

static sw_dec_result pppoe_session(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (len < PPPOE_HLEN + 1)
        return sw_dec_invalid(st, SW_EV_PPPOE_PKT_TOO_SMALL);
    if (b[1] != 0)
        return sw_dec_invalid(st, SW_EV_PPPOE_WRONG_CODE);
    /* The length field bounds the payload: Ethernet padding after it is
     * not part of the PPP frame. */
    uint32_t plen = sw_rd16(b + 4);
    if (plen > len - PPPOE_HLEN)
        return sw_dec_invalid(st, SW_EV_PPPOE_PKT_TOO_SMALL);
    const uint8_t *pp = b + PPPOE_HLEN;
    if (plen == 0) {
        memset(&st->p->ip, 0, sizeof(st->p->ip));
        memset(&st->p->l4, 0, sizeof(st->p->l4));
        return SW_DEC_NOT_IP;
    }
    /* RFC 1661 protocol field compression: an odd first octet is a
     * one-octet protocol. */
    uint16_t proto;
    uint32_t hl;
    if (pp[0] & 1) {
        proto = pp[0];
        hl = 1;
    } else {
        if (plen < 2)
            return sw_dec_invalid(st, SW_EV_PPP_PKT_TOO_SMALL);
        proto = sw_rd16(pp);
        hl = 2;
    }
    return ppp_payload(st, proto, pp + hl, plen - hl);
}

sw_dec_result sw_dec_pppoe(sw_dec_state *st, uint16_t ethertype, const uint8_t *b,
                           uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_PPPOE);
    /* Version and type are 1 in every PPPoE there is (RFC 2516). */
    if (len >= 1 && b[0] != 0x11)
        return sw_dec_invalid(st, SW_EV_PPPOE_WRONG_CODE);
    return ethertype == 0x8863 ? pppoe_discovery(st, b, len) : pppoe_session(st, b, len);
}

sw_dec_result sw_dec_ppp(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_PPP);
    /* Address and control may be elided (RFC 1661 ACFC). */
    uint32_t off = (len >= 2 && b[0] == 0xff && b[1] == 0x03) ? 2 : 0;
    if (len < off + 1)
        return sw_dec_invalid(st, SW_EV_PPP_PKT_TOO_SMALL);
    uint16_t proto;
    if (b[off] & 1) { /* protocol field compression */
        proto = b[off];
        off += 1;
    } else {
        if (len < off + 2)
            return sw_dec_invalid(st, SW_EV_PPP_PKT_TOO_SMALL);
        proto = sw_rd16(b + off);
        off += 2;
    }
    return ppp_payload(st, proto, b + off, len - off);
}
