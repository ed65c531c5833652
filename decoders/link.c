/* Link layers other than Ethernet: Linux cooked v1/v2, BSD null/loop,
 * raw IP. */
#include "decoders/decoders_internal.h"

#define SLL_HLEN 16
#define SLL2_HLEN 20
#define NULL_HLEN 4

sw_dec_result sw_dec_sll(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_SLL);
    if (len < SLL_HLEN)
        return sw_dec_invalid(st, SW_EV_SLL_PKT_TOO_SMALL);
    /* pkttype(2) hatype(2) halen(2) addr(8) protocol(2) */
    if (sw_rd16(b + 4) == 6)
        st->p->l2.src_mac = b + 6;
    uint16_t type = sw_rd16(b + 14);
    st->p->l2.ether_type = type;
    return sw_dec_ethertype(st, type, b + SLL_HLEN, len - SLL_HLEN);
}

sw_dec_result sw_dec_sll2(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_SLL2);
    if (len < SLL2_HLEN)
        return sw_dec_invalid(st, SW_EV_SLL2_PKT_TOO_SMALL);
    /* protocol(2) reserved(2) ifindex(4) hatype(2) pkttype(1) halen(1)
     * addr(8) */
    if (b[11] == 6)
        st->p->l2.src_mac = b + 12;
    uint16_t type = sw_rd16(b);
    st->p->l2.ether_type = type;
    return sw_dec_ethertype(st, type, b + SLL2_HLEN, len - SLL2_HLEN);
}

/* Address family values on the platforms captures come from. */
static int null_family_version(uint32_t fam)
{
    switch (fam) {
    case 2: /* AF_INET everywhere */
        return 4;
    case 10: /* Linux AF_INET6 */
    case 24: /* NetBSD, OpenBSD */
    case 28: /* FreeBSD */
    case 30: /* macOS */
        return 6;
    default:
        return 0;
    }
}

sw_dec_result sw_dec_null(sw_dec_state *st, const uint8_t *b, uint32_t len, bool net_order)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_NULL);
    if (len < NULL_HLEN)
        return sw_dec_invalid(st, SW_EV_LTNULL_PKT_TOO_SMALL);
    /* DLT_NULL stores the family in the capturing host's byte order, which
     * we do not know: try both (the values never collide). DLT_LOOP is
     * always network order. */
    int v = null_family_version(sw_rd32(b));
    if (v == 0 && !net_order)
        v = null_family_version(sw_rd32le(b));
    if (v == 4) {
        st->p->l2.ether_type = 0x0800;
        return sw_dec_ipv4(st, b + NULL_HLEN, len - NULL_HLEN);
    }
    if (v == 6) {
        st->p->l2.ether_type = 0x86DD;
        return sw_dec_ipv6(st, b + NULL_HLEN, len - NULL_HLEN);
    }
    return sw_dec_invalid(st, SW_EV_LTNULL_UNSUPPORTED_TYPE);
}

sw_dec_result sw_dec_raw(sw_dec_state *st, const uint8_t *b, uint32_t len, int only_version)
{
    sw_dec_count(st, SW_DEC_CTR_RAW);
    /* LINKTYPE_IPV4 / LINKTYPE_IPV6 promise the version: the IP decoder
     * checks it (wrong_ip_version). */
    if (only_version == 4)
        return sw_dec_ipv4(st, b, len);
    if (only_version == 6)
        return sw_dec_ipv6(st, b, len);
    /* Suricata checks the IPv4 minimum before looking at the version. */
    if (len < 20)
        return sw_dec_invalid(st, SW_EV_IPV4_PKT_TOO_SMALL);
    int v = b[0] >> 4;
    if (v == 4)
        return sw_dec_ipv4(st, b, len);
    if (v == 6)
        return sw_dec_ipv6(st, b, len);
    return sw_dec_invalid(st, SW_EV_IPRAW_INVALID_IP_VERSION);
}
