/* 802.1Q VLAN tags, QinQ (0x88a8, 0x9100), up to SW_MAX_VLANS deep. */
#include "decoders/decoders_internal.h"

#define VLAN_HLEN 4

sw_dec_result sw_dec_vlan(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_l2_view *l2 = &st->p->l2;
    /* Suricata counts the first tag as vlan, the second as qinq, the
     * third as qinqinq. */
    if (l2->vlan_count == 0)
        sw_dec_count(st, SW_DEC_CTR_VLAN);
    else if (l2->vlan_count == 1)
        sw_dec_count(st, SW_DEC_CTR_VLAN_QINQ);
    else if (l2->vlan_count == 2)
        sw_dec_count(st, SW_DEC_CTR_VLAN_QINQINQ);
    if (len < VLAN_HLEN)
        return sw_dec_invalid(st, SW_EV_VLAN_HEADER_TOO_SMALL);
    if (l2->vlan_count >= SW_MAX_VLANS)
        return sw_dec_invalid(st, SW_EV_VLAN_TOO_MANY_LAYERS);
    l2->vlan_id[l2->vlan_count++] = sw_rd16(b) & 0x0fff;
    uint16_t type = sw_rd16(b + 2);
    l2->ether_type = type;
    return sw_dec_ethertype(st, type, b + VLAN_HLEN, len - VLAN_HLEN);
}
