/* TCP header and the options the stream engine needs (MSS, window scale,
 * SACK-permitted, timestamps). */
#include "decoders/decoders_internal.h"

#define TCP_HLEN 20
#define TCPOPT_EOL 0
#define TCPOPT_NOP 1
#define TCPOPT_MSS 2
#define TCPOPT_WS 3
#define TCPOPT_SACKOK 4
#define TCPOPT_SACK 5
#define TCPOPT_TS 8

/* false (event set) when an option's length runs past the header; wrong
 * lengths of known options and duplicates are noted and the option is
 * ignored, as in Suricata. */
static bool tcp_options(sw_dec_state *st, sw_l4_view *l4, const uint8_t *o, uint32_t len)
{
    uint8_t seen = 0;
    while (len > 0) {
        uint8_t kind = o[0];
        if (kind == TCPOPT_EOL)
            break;
        if (kind == TCPOPT_NOP) {
            o++;
            len--;
            continue;
        }
        if (len < 2 || o[1] < 2 || o[1] > len) {
            sw_dec_event_set(st, SW_EV_TCP_INVALID_OPTLEN);
            return false;
        }
        uint8_t olen = o[1];
        int bit = -1;
        bool ok = true;
        switch (kind) {
        case TCPOPT_MSS:
            bit = 0;
            ok = olen == 4;
            break;
        case TCPOPT_WS:
            bit = 1;
            ok = olen == 3;
            break;
        case TCPOPT_SACKOK:
            bit = 2;
            ok = olen == 2;
            break;
        case TCPOPT_TS:
            bit = 3;
            ok = olen == 10;
            break;
        case TCPOPT_SACK:
            bit = 4;
            ok = olen >= 10 && olen <= 34 && ((olen - 2) % 8) == 0;
            break;
        default:
            break;
        }
        if (!ok) {
            sw_dec_event_set(st, SW_EV_TCP_OPT_INVALID_LEN);
        } else if (bit >= 0 && (seen & (1u << bit))) {
            sw_dec_event_set(st, SW_EV_TCP_OPT_DUPLICATE);
        } else if (bit >= 0) {
            seen |= (uint8_t)(1u << bit);
            switch (kind) {
            case TCPOPT_MSS:
                l4->mss = sw_rd16(o + 2);
                break;
            case TCPOPT_WS:
                l4->wscale = o[2];
                l4->has_wscale = true;
                break;
            case TCPOPT_SACKOK:
                l4->sack_permitted = true;
                break;
            case TCPOPT_TS:
                l4->has_ts = true;
                l4->tsval = sw_rd32(o + 2);
                l4->tsecr = sw_rd32(o + 6);
                break;
            default:
                break;
            }
        }
        o += olen;
        len -= olen;
    }
    return true;
}

sw_dec_result sw_dec_tcp(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_TCP);
    if (len < TCP_HLEN)
        return sw_dec_invalid(st, SW_EV_TCP_PKT_TOO_SMALL);
    uint32_t hlen = (uint32_t)(b[12] >> 4) * 4;
    if (hlen < TCP_HLEN)
        return sw_dec_invalid(st, SW_EV_TCP_HLEN_TOO_SMALL);
    if (len < hlen)
        return sw_dec_invalid(st, SW_EV_TCP_PKT_TOO_SMALL);
    sw_l4_view *l4 = &st->p->l4;
    l4->sport = sw_rd16(b);
    l4->dport = sw_rd16(b + 2);
    l4->seq = sw_rd32(b + 4);
    l4->ack = sw_rd32(b + 8);
    l4->tcp_flags = b[13];
    l4->win = sw_rd16(b + 14);
    if (hlen > TCP_HLEN && !tcp_options(st, l4, b + TCP_HLEN, hlen - TCP_HLEN))
        return SW_DEC_INVALID;
    l4->payload = b + hlen;
    l4->payload_len = len - hlen;
    return SW_DEC_OK;
}
