/* IPv6 (RFC 8200) and its extension headers: hop-by-hop, routing,
 * destination options, fragment, AH (mobility treated like the others).
 * The walk is bounded by SW_IPV6_MAX_EXTHDRS as well as by the length. */
#include "decoders/decoders_internal.h"

#define IPV6_HLEN 40
#define SW_IPV6_MAX_EXTHDRS 16

#define NH_HOPOPTS 0
#define NH_ROUTING 43
#define NH_FRAG 44
#define NH_ESP 50
#define NH_AH 51
#define NH_NONE 59
#define NH_DSTOPTS 60
#define NH_MH 135

/* Options of a hop-by-hop or destination-options header (RFC 8200 4.2). */
static bool ipv6_options(sw_dec_state *st, const uint8_t *o, uint32_t len, bool hop)
{
    bool only_pad = true;
    while (len > 0) {
        uint8_t type = o[0];
        if (type == 0) { /* Pad1 */
            o++;
            len--;
            continue;
        }
        if (len < 2 || (uint32_t)o[1] + 2 > len) {
            sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_INVALID_OPTLEN);
            return false;
        }
        uint8_t olen = o[1];
        if (type == 1) { /* PadN */
            if (olen == 0)
                sw_dec_event_set(st, SW_EV_IPV6_ZERO_LEN_PADN);
        } else {
            only_pad = false;
            bool known = hop ? (type == 0x05 || type == 0xC2) : (type == 0xC9);
            if (!known)
                sw_dec_event_set(st, hop ? SW_EV_IPV6_HOPOPTS_UNKNOWN_OPT
                                         : SW_EV_IPV6_DSTOPTS_UNKNOWN_OPT);
        }
        o += 2u + olen;
        len -= 2u + olen;
    }
    if (only_pad)
        sw_dec_event_set(st, hop ? SW_EV_IPV6_HOPOPTS_ONLY_PADDING
                                 : SW_EV_IPV6_DSTOPTS_ONLY_PADDING);
    return true;
}

sw_dec_result sw_dec_ipv6(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    if (!sw_dec_enter_layer(st))
        return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
    sw_dec_count(st, SW_DEC_CTR_IPV6);
    if (len < IPV6_HLEN)
        return sw_dec_invalid(st, SW_EV_IPV6_PKT_TOO_SMALL);
    if ((b[0] >> 4) != 6)
        return sw_dec_invalid(st, SW_EV_IPV6_WRONG_IP_VERSION);
    uint32_t plen = sw_rd16(b + 4);
    if (len < IPV6_HLEN + plen)
        return sw_dec_invalid(st, SW_EV_IPV6_TRUNC_PKT);

    sw_packet *p = st->p;
    sw_ip_view *ip = &p->ip;
    memset(ip, 0, sizeof(*ip));
    memset(&p->l4, 0, sizeof(p->l4));
    ip->version = 6;
    ip->ttl = b[7];
    memcpy(ip->src, b + 8, 16);
    memcpy(ip->dst, b + 24, 16);
    ip->hdr = b;
    ip->total_len = IPV6_HLEN + plen;

    uint8_t nh = b[6];
    const uint8_t *e = b + IPV6_HLEN;
    uint32_t elen = plen;
    /* Header kinds seen, for the duplicate events. */
    bool hh = false, rh = false, fh = false, ah = false, dh_pre = false, dh_post = false;
    for (unsigned n = 0;; n++) {
        if (n >= SW_IPV6_MAX_EXTHDRS)
            return sw_dec_invalid(st, SW_EV_TOO_MANY_LAYERS);
        if (nh == NH_HOPOPTS || nh == NH_ROUTING || nh == NH_DSTOPTS || nh == NH_AH ||
            nh == NH_MH) {
            if (elen < 2)
                return sw_dec_invalid(st, SW_EV_IPV6_TRUNC_EXTHDR);
            uint32_t hl = nh == NH_AH ? ((uint32_t)e[1] + 2) * 4 : ((uint32_t)e[1] + 1) * 8;
            if (hl > elen)
                return sw_dec_invalid(st, SW_EV_IPV6_TRUNC_EXTHDR);
            switch (nh) {
            case NH_HOPOPTS:
                if (hh)
                    sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_DUPL_HH);
                hh = true;
                if (!ipv6_options(st, e + 2, hl - 2, true))
                    return SW_DEC_INVALID;
                break;
            case NH_DSTOPTS:
                /* Allowed once before and once after a routing header. */
                if (rh ? dh_post : dh_pre)
                    sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_DUPL_DH);
                if (rh)
                    dh_post = true;
                else
                    dh_pre = true;
                if (!ipv6_options(st, e + 2, hl - 2, false))
                    return SW_DEC_INVALID;
                break;
            case NH_ROUTING:
                if (rh)
                    sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_DUPL_RH);
                rh = true;
                if (hl >= 3 && e[2] == 0)
                    sw_dec_event_set(st, SW_EV_IPV6_RH_TYPE_0);
                break;
            case NH_AH:
                if (ah)
                    sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_DUPL_AH);
                ah = true;
                if (e[2] != 0 || e[3] != 0)
                    sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_AH_RES_NOT_NULL);
                break;
            default:
                break;
            }
            nh = e[0];
            e += hl;
            elen -= hl;
            continue;
        }
        if (nh == NH_FRAG) {
            if (elen < 8)
                return sw_dec_invalid(st, SW_EV_IPV6_TRUNC_EXTHDR);
            if (fh)
                sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_DUPL_FH);
            fh = true;
            uint16_t offm = sw_rd16(e + 2);
            if (e[1] != 0 || (offm & 0x0006) != 0)
                sw_dec_event_set(st, SW_EV_IPV6_FH_NON_ZERO_RESERVED_FIELD);
            uint32_t off = offm & 0xfff8;
            bool m = (offm & 1) != 0;
            uint8_t next = e[0];
            uint32_t unfrag = (uint32_t)(e - b);
            uint32_t id = sw_rd32(e + 4);
            e += 8;
            elen -= 8;
            if (off == 0 && !m) {
                /* Atomic fragment (RFC 6946): the whole datagram is here. */
                sw_dec_event_set(st, SW_EV_IPV6_EXTHDR_USELESS_FH);
                nh = next;
                continue;
            }
            ip->is_fragment = true;
            ip->more_frags = m;
            ip->frag_id = id;
            ip->frag_offset = off;
            ip->unfrag_len = unfrag;
            ip->frag_next_hdr = next;
            ip->proto = next;
            ip->hdr_len = (uint32_t)(e - b);
            ip->payload = e;
            ip->payload_len = elen;
            if (m && (elen % 8) != 0)
                return sw_dec_invalid(st, SW_EV_IPV6_FRAG_INVALID_LENGTH);
            if (off + elen > 65535)
                return sw_dec_invalid(st, SW_EV_IPV6_FRAG_PKT_TOO_LARGE);
            return SW_DEC_FRAGMENT;
        }
        break;
    }
    ip->proto = nh;
    ip->hdr_len = (uint32_t)(e - b);
    ip->payload = e;
    ip->payload_len = elen;
    if (nh == NH_NONE) {
        if (elen > 0)
            sw_dec_event_set(st, SW_EV_IPV6_DATA_AFTER_NONE_HEADER);
        return SW_DEC_OK;
    }
    return sw_dec_ip_payload(st, nh, e, elen);
}
