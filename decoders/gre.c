/* GRE (RFC 2784/2890 version 0, RFC 2637 version 1 / PPTP) and ERSPAN
 * types I, II and III carried in it. */
#include "decoders/decoders_internal.h"

#define GRE_HLEN 4
#define GRE_C 0x8000
#define GRE_R 0x4000
#define GRE_K 0x2000
#define GRE_S 0x1000
#define GRE_SSR 0x0800
#define GRE_RECUR 0x0700
#define GRE_V1_ACK 0x0080
#define GRE_V0_FLAGS 0x00F8
#define GRE_V1_FLAGS 0x0078
#define GRE_VER 0x0007
#define GRE_MAX_SRE 16

#define GRE_PROTO_PPP 0x880B
#define GRE_PROTO_TEB 0x6558
#define GRE_PROTO_ERSPAN_II 0x88BE
#define GRE_PROTO_ERSPAN_III 0x22EB

#define ERSPAN_II_HLEN 8
#define ERSPAN_III_HLEN 12
#define ERSPAN_III_SUBHDR_LEN 8

sw_dec_result sw_dec_erspan(sw_dec_state *st, int type, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_ERSPAN);
    if (type == 1) {
        /* Type I has no header: the mirrored frame follows GRE. */
        sw_dec_tunnel(st, SW_TUN_ERSPAN, 0);
        return sw_dec_ethernet(st, b, len);
    }
    uint32_t hlen = type == 2 ? ERSPAN_II_HLEN : ERSPAN_III_HLEN;
    if (len < hlen)
        return sw_dec_invalid(st, SW_EV_ERSPAN_HEADER_TOO_SMALL);
    int ver = b[0] >> 4;
    if ((type == 2 && ver != 1) || (type == 3 && ver != 2))
        return sw_dec_invalid(st, SW_EV_ERSPAN_UNSUPPORTED_VERSION);
    uint16_t vlan = sw_rd16(b) & 0x0fff;
    uint32_t session = sw_rd16(b + 2) & 0x03ff;
    bool eth = true;
    if (type == 3) {
        uint16_t w = sw_rd16(b + 10);
        eth = ((w >> 10) & 0x1f) == 0; /* frame type 0 = Ethernet */
        if (w & 0x0001) {             /* O: optional platform sub-header */
            hlen += ERSPAN_III_SUBHDR_LEN;
            if (len < hlen)
                return sw_dec_invalid(st, SW_EV_ERSPAN_HEADER_TOO_SMALL);
        }
    }
    sw_l2_view *l2 = &st->p->l2;
    /* Like Suricata: the original VLAN, when the header carries one, is
     * part of the mirrored traffic's identity. */
    if (vlan != 0) {
        if (l2->vlan_count >= SW_MAX_VLANS)
            return sw_dec_invalid(st, SW_EV_ERSPAN_TOO_MANY_VLAN_LAYERS);
        l2->vlan_id[l2->vlan_count++] = vlan;
    }
    sw_dec_tunnel(st, SW_TUN_ERSPAN, session);
    if (!eth)
        return SW_DEC_OK;
    return sw_dec_ethernet(st, b + hlen, len - hlen);
}

static sw_dec_result gre_v1(sw_dec_state *st, uint16_t flags, uint16_t proto, uint32_t len)
{
    if (flags & GRE_C)
        return sw_dec_invalid(st, SW_EV_GRE_V1_CHKSUM);
    if (flags & GRE_R)
        return sw_dec_invalid(st, SW_EV_GRE_V1_ROUTE);
    if (flags & GRE_SSR)
        return sw_dec_invalid(st, SW_EV_GRE_V1_SSR);
    if (flags & GRE_RECUR)
        return sw_dec_invalid(st, SW_EV_GRE_V1_RECUR);
    if (flags & GRE_V1_FLAGS)
        return sw_dec_invalid(st, SW_EV_GRE_V1_FLAGS);
    if (proto != GRE_PROTO_PPP)
        return sw_dec_invalid(st, SW_EV_GRE_V1_WRONG_PROTOCOL);
    if (!(flags & GRE_K))
        return sw_dec_invalid(st, SW_EV_GRE_V1_NO_KEY);
    uint32_t hlen = GRE_HLEN + 4 + ((flags & GRE_S) ? 4 : 0) + ((flags & GRE_V1_ACK) ? 4 : 0);
    if (len < hlen)
        return sw_dec_invalid(st, SW_EV_GRE_V1_HDR_TOO_BIG);
    /* PPP inside PPTP is not decoded further. */
    return SW_DEC_OK;
}

sw_dec_result sw_dec_gre(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    sw_dec_count(st, SW_DEC_CTR_GRE);
    if (len < GRE_HLEN)
        return sw_dec_invalid(st, SW_EV_GRE_PKT_TOO_SMALL);
    uint16_t flags = sw_rd16(b);
    uint16_t proto = sw_rd16(b + 2);
    switch (flags & GRE_VER) {
    case 0:
        break;
    case 1:
        return gre_v1(st, flags, proto, len);
    default:
        return sw_dec_invalid(st, SW_EV_GRE_WRONG_VERSION);
    }
    if (flags & GRE_RECUR)
        return sw_dec_invalid(st, SW_EV_GRE_V0_RECUR);
    if (flags & GRE_V0_FLAGS)
        return sw_dec_invalid(st, SW_EV_GRE_V0_FLAGS);
    uint32_t hlen = GRE_HLEN;
    if (flags & (GRE_C | GRE_R))
        hlen += 4; /* checksum + offset */
    uint32_t key_off = hlen;
    if (flags & GRE_K)
        hlen += 4;
    if (flags & GRE_S)
        hlen += 4;
    if (len < hlen)
        return sw_dec_invalid(st, SW_EV_GRE_V0_HDR_TOO_BIG);
    uint32_t key = (flags & GRE_K) ? sw_rd32(b + key_off) : 0;
    if (flags & GRE_R) {
        /* Source route entries (RFC 1701), ended by a NULL entry. */
        unsigned n = 0;
        for (;;) {
            if (len - hlen < 4 || ++n > GRE_MAX_SRE)
                return sw_dec_invalid(st, SW_EV_GRE_V0_MALFORMED_SRE_HDR);
            uint16_t af = sw_rd16(b + hlen);
            uint8_t slen = b[hlen + 3];
            hlen += 4;
            if (af == 0 && slen == 0)
                break;
            if (len - hlen < slen)
                return sw_dec_invalid(st, SW_EV_GRE_V0_MALFORMED_SRE_HDR);
            hlen += slen;
        }
    }
    const uint8_t *pl = b + hlen;
    uint32_t plen = len - hlen;
    switch (proto) {
    case 0x0800:
        sw_dec_tunnel(st, SW_TUN_GRE, key);
        return sw_dec_ipv4(st, pl, plen);
    case 0x86DD:
        sw_dec_tunnel(st, SW_TUN_GRE, key);
        return sw_dec_ipv6(st, pl, plen);
    case GRE_PROTO_TEB:
        sw_dec_tunnel(st, SW_TUN_GRE, key);
        return sw_dec_ethernet(st, pl, plen);
    case 0x8100:
    case 0x88A8:
        sw_dec_tunnel(st, SW_TUN_GRE, key);
        return sw_dec_vlan(st, pl, plen);
    case 0x8847:
        sw_dec_tunnel(st, SW_TUN_GRE, key);
        return sw_dec_mpls(st, pl, plen);
    case GRE_PROTO_ERSPAN_II:
        /* Type I is the same protocol number without a sequence number. */
        return sw_dec_erspan(st, (flags & GRE_S) ? 2 : 1, pl, plen);
    case GRE_PROTO_ERSPAN_III:
        return sw_dec_erspan(st, 3, pl, plen);
    default:
        return SW_DEC_OK; /* the flow is the GRE one itself */
    }
}
