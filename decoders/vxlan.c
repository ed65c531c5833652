/* VXLAN (RFC 7348) on UDP port 4789. */
#include "decoders/decoders_internal.h"

#define VXLAN_HLEN 8
#define VXLAN_FLAG_I 0x08

sw_dec_result sw_dec_vxlan(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    /* Not VXLAN after all (short or no VNI flag): it stays a UDP packet,
     * as in Suricata. */
    if (len < VXLAN_HLEN + 14 || !(b[0] & VXLAN_FLAG_I))
        return SW_DEC_OK;
    sw_dec_count(st, SW_DEC_CTR_VXLAN);
    uint32_t vni = sw_rd32(b + 4) >> 8;
    uint16_t type = sw_rd16(b + VXLAN_HLEN + 12);
    switch (type) {
    case 0x0800: case 0x86DD: case 0x0806: case 0x8100: case 0x88A8:
    case 0x9100: case 0x8847:
        break;
    default:
        sw_dec_event_set(st, SW_EV_VXLAN_UNKNOWN_PAYLOAD_TYPE);
        break;
    }
    sw_dec_tunnel(st, SW_TUN_VXLAN, vni);
    return sw_dec_ethernet(st, b + VXLAN_HLEN, len - VXLAN_HLEN);
}
