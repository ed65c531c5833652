/* ICMPv6 (RFC 4443) with the type classes of the IANA registry. */
#include "decoders/decoders_internal.h"

#define ICMPV6_HLEN 8

sw_dec_result sw_dec_icmpv6(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_ICMPV6);
    if (len < ICMPV6_HLEN)
        return sw_dec_invalid(st, SW_EV_ICMPV6_PKT_TOO_SMALL);
    sw_l4_view *l4 = &st->p->l4;
    uint8_t type = b[0], code = b[1];
    l4->icmp_type = type;
    l4->icmp_code = code;
    l4->payload = b + ICMPV6_HLEN;
    l4->payload_len = len - ICMPV6_HLEN;
    int max_code = 0;
    switch (type) {
    case 1: /* destination unreachable */
        max_code = 8;
        goto error_msg;
    case 3: /* time exceeded */
        max_code = 1;
        goto error_msg;
    case 4: /* parameter problem */
        max_code = 10;
        goto error_msg;
    case 2: /* packet too big */
    error_msg:
        if (code > max_code)
            sw_dec_event_set(st, SW_EV_ICMPV6_UNKNOWN_CODE);
        /* Errors quote the offending IPv6 header. */
        if (len < ICMPV6_HLEN + 40)
            sw_dec_event_set(st, SW_EV_ICMPV6_IPV6_TRUNC_PKT);
        else if ((b[ICMPV6_HLEN] >> 4) != 6)
            sw_dec_event_set(st, SW_EV_ICMPV6_IPV6_UNKNOWN_VERSION);
        break;
    case 130: case 131: case 132: case 143: /* MLD: link-local only */
        if (st->p->ip.version == 6 && st->p->ip.ttl != 1)
            sw_dec_event_set(st, SW_EV_ICMPV6_MLD_INVALID_HL);
        /* fallthrough */
    case 128: case 129: case 133: case 134: case 135: case 136: case 137:
        if (code != 0)
            sw_dec_event_set(st, SW_EV_ICMPV6_UNKNOWN_CODE);
        break;
    case 100: case 101: case 200: case 201:
        sw_dec_event_set(st, SW_EV_ICMPV6_EXPERIMENTATION_TYPE);
        break;
    case 0: case 127: case 255:
        sw_dec_event_set(st, SW_EV_ICMPV6_UNKNOWN_TYPE);
        break;
    default:
        if ((type >= 5 && type <= 99) || (type >= 102 && type <= 126) ||
            (type >= 162 && type <= 199) || (type >= 202 && type <= 254))
            sw_dec_event_set(st, SW_EV_ICMPV6_UNASSIGNED_TYPE);
        break;
    }
    return SW_DEC_OK;
}
