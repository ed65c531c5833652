/* MPLS label stack (RFC 3032), then IPv4/IPv6 or an Ethernet pseudowire. */
#include "decoders/decoders_internal.h"

#define MPLS_HLEN 4
#define MPLS_PW_LEN 4 /* pseudowire control word */
#define MPLS_MAX_LABELS 16
#define MPLS_LABEL_IPV4 0
#define MPLS_LABEL_ROUTER_ALERT 1
#define MPLS_LABEL_IPV6 2
#define MPLS_LABEL_NULL 3
#define MPLS_MAX_RESERVED_LABEL 15

sw_dec_result sw_dec_mpls(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_MPLS);
    sw_l2_view *l2 = &st->p->l2;
    uint32_t shim;
    unsigned n = 0;
    do {
        if (len < MPLS_HLEN)
            return sw_dec_invalid(st, SW_EV_MPLS_HEADER_TOO_SMALL);
        /* A stack this deep is an attack on our loop, not a network. */
        if (++n > MPLS_MAX_LABELS)
            return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
        shim = sw_rd32(b);
        b += MPLS_HLEN;
        len -= MPLS_HLEN;
        if (l2->mpls_count < UINT8_MAX)
            l2->mpls_count++;
    } while ((shim & 0x100) == 0);

    uint32_t label = shim >> 12;
    if (label == MPLS_LABEL_IPV4)
        return sw_dec_ipv4(st, b, len);
    if (label == MPLS_LABEL_IPV6)
        return sw_dec_ipv6(st, b, len);
    if (label == MPLS_LABEL_ROUTER_ALERT)
        return sw_dec_invalid(st, SW_EV_MPLS_BAD_LABEL_ROUTER_ALERT);
    if (label == MPLS_LABEL_NULL)
        return sw_dec_invalid(st, SW_EV_MPLS_BAD_LABEL_IMPLICIT_NULL);
    if (label <= MPLS_MAX_RESERVED_LABEL)
        return sw_dec_invalid(st, SW_EV_MPLS_BAD_LABEL_RESERVED);

    /* No payload type on the wire: guess from the first nibble as every
     * decoder does. */
    if (len < 1)
        return sw_dec_invalid(st, SW_EV_MPLS_PKT_TOO_SMALL);
    switch (b[0] >> 4) {
    case 4:
        return sw_dec_ipv4(st, b, len);
    case 6:
        return sw_dec_ipv6(st, b, len);
    case 0:
        if (len < MPLS_PW_LEN)
            return sw_dec_invalid(st, SW_EV_MPLS_PKT_TOO_SMALL);
        return sw_dec_ethernet(st, b + MPLS_PW_LEN, len - MPLS_PW_LEN);
    default:
        return sw_dec_invalid(st, SW_EV_MPLS_UNKNOWN_PAYLOAD_TYPE);
    }
}
