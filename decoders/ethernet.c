/* Ethernet II and the ethertype dispatch shared by every link layer. */
#include "decoders/decoders_internal.h"

#define ETH_HLEN 14

sw_dec_result sw_dec_ethertype(sw_dec_state *st, uint16_t type, const uint8_t *b,
                               uint32_t len)
{
    switch (type) {
    case 0x0800:
        return sw_dec_ipv4(st, b, len);
    case 0x86DD:
        return sw_dec_ipv6(st, b, len);
    case 0x8100:
    case 0x88A8:
    case 0x9100:
        return sw_dec_vlan(st, b, len);
    case 0x8847:
    case 0x8848:
        return sw_dec_mpls(st, b, len);
    case 0x8863:
    case 0x8864:
        return sw_dec_pppoe(st, type, b, len);
    case 0x0806:
        sw_dec_count(st, SW_DEC_CTR_ARP);
        break;
    default:
        sw_dec_count(st, SW_DEC_CTR_UNKNOWN_ETHERTYPE);
        break;
    }
    /* The innermost packet is not IP (e.g. ARP inside VXLAN): an outer
     * tunnel's IP header must not be mistaken for it. */
    memset(&st->p->ip, 0, sizeof(st->p->ip));
    memset(&st->p->l4, 0, sizeof(st->p->l4));
    return SW_DEC_NOT_IP;
}

sw_dec_result sw_dec_ethernet(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_ETHERNET);
    if (len < ETH_HLEN)
        return sw_dec_invalid(st, SW_EV_ETH_PKT_TOO_SMALL);
    sw_l2_view *l2 = &st->p->l2;
    l2->dst_mac = b;
    l2->src_mac = b + 6;
    uint16_t type = sw_rd16(b + 12);
    l2->ether_type = type;
    if (type < 0x0600) {
        /* 802.3 length field: LLC/SNAP frames (STP, CDP...) carry no IP we
         * inspect. */
        sw_dec_count(st, SW_DEC_CTR_UNKNOWN_ETHERTYPE);
        memset(&st->p->ip, 0, sizeof(st->p->ip));
        memset(&st->p->l4, 0, sizeof(st->p->l4));
        return SW_DEC_NOT_IP;
    }
    return sw_dec_ethertype(st, type, b + ETH_HLEN, len - ETH_HLEN);
}
