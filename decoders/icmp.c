/* ICMPv4 (RFC 792 and successors): type/code sanity and the embedded
 * header of error messages. */
#include "decoders/decoders_internal.h"

#define ICMP_HLEN 8

/* Highest valid code per type, -1 for unassigned types (RFC 792, 950,
 * 1256, 1393, 1812, 4884; IANA registry). */
static int icmp_max_code(uint8_t type)
{
    switch (type) {
    case 0: case 4: case 8: case 10: case 13: case 14: case 15: case 16:
    case 17: case 18: case 30: case 37: case 38: case 39: case 42:
        return 0;
    case 3:
        return 15;
    case 5:
        return 3;
    case 9:
        return 16;
    case 11:
        return 1;
    case 12:
        return 2;
    case 40:
        return 5;
    case 43:
        return 4;
    default:
        return -1;
    }
}

sw_dec_result sw_dec_icmp(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_ICMPV4);
    if (len < ICMP_HLEN)
        return sw_dec_invalid(st, SW_EV_ICMPV4_PKT_TOO_SMALL);
    sw_l4_view *l4 = &st->p->l4;
    l4->icmp_type = b[0];
    l4->icmp_code = b[1];
    l4->payload = b + ICMP_HLEN;
    l4->payload_len = len - ICMP_HLEN;
    int max = icmp_max_code(b[0]);
    if (max < 0)
        sw_dec_event_set(st, SW_EV_ICMPV4_UNKNOWN_TYPE);
    else if (b[1] > max)
        sw_dec_event_set(st, SW_EV_ICMPV4_UNKNOWN_CODE);
    /* Error messages quote the offending IPv4 header. */
    switch (b[0]) {
    case 3: case 4: case 5: case 11: case 12:
        if (len < ICMP_HLEN + 20)
            sw_dec_event_set(st, SW_EV_ICMPV4_IPV4_TRUNC_PKT);
        else if ((b[ICMP_HLEN] >> 4) != 4)
            sw_dec_event_set(st, SW_EV_ICMPV4_IPV4_UNKNOWN_VER);
        break;
    default:
        break;
    }
    return SW_DEC_OK;
}
