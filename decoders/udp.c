/* UDP (RFC 768); VXLAN on its IANA port and Teredo on its configured ports
 * are descended into. */
#include "decoders/decoders_internal.h"

#define UDP_HLEN 8
#define VXLAN_PORT 4789

sw_dec_result sw_dec_udp(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_UDP);
    if (len < UDP_HLEN)
        return sw_dec_invalid(st, SW_EV_UDP_HLEN_TOO_SMALL);
    uint32_t ulen = sw_rd16(b + 4);
    if (len < ulen)
        return sw_dec_invalid(st, SW_EV_UDP_PKT_TOO_SMALL);
    if (ulen < UDP_HLEN)
        return sw_dec_invalid(st, SW_EV_UDP_LEN_INVALID);
    sw_l4_view *l4 = &st->p->l4;
    l4->sport = sw_rd16(b);
    l4->dport = sw_rd16(b + 2);
    l4->payload = b + UDP_HLEN;
    l4->payload_len = ulen - UDP_HLEN;
    if (l4->dport == VXLAN_PORT)
        return sw_dec_vxlan(st, l4->payload, l4->payload_len);
    if (sw_dec_teredo_port(&st->ctx->cfg, l4->sport, l4->dport))
        return sw_dec_teredo(st, l4->payload, l4->payload_len);
    return SW_DEC_OK;
}
