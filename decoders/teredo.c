/* Teredo (RFC 4380): IPv6 in UDP, by default on port 3544. Nothing in the
 * packet says "Teredo", so the payload must parse as exactly one IPv6
 * packet (after optional authentication and origin indications) or it
 * stays a plain UDP packet, as in Suricata. */
#include "decoders/decoders_internal.h"

#define IPV6_HLEN 40
#define TEREDO_ORIGIN_LEN 8
#define TEREDO_AUTH_FIXED 13 /* indicator 2, id-len 1, au-len 1, nonce 8, confirmation 1 */

bool sw_dec_teredo_port(const sw_dec_config *c, uint16_t sport, uint16_t dport)
{
    if (!c->teredo_enabled)
        return false;
    if (c->teredo_any_port)
        return true;
    for (size_t i = 0; i < c->n_teredo_ports; i++)
        if (c->teredo_ports[i] == sport || c->teredo_ports[i] == dport)
            return true;
    return false;
}

sw_dec_result sw_dec_teredo(sw_dec_state *st, const uint8_t *b, uint32_t len)
{
    uint32_t off = 0;
    if (len >= 2 && b[0] == 0 && b[1] == 1) {
        if (len < TEREDO_AUTH_FIXED)
            return SW_DEC_OK;
        off = TEREDO_AUTH_FIXED + (uint32_t)b[2] + b[3];
    }
    if (len >= off + 2 && b[off] == 0 && b[off + 1] == 0)
        off += TEREDO_ORIGIN_LEN;
    if (len < off || len - off < IPV6_HLEN)
        return SW_DEC_OK;
    const uint8_t *ip = b + off;
    uint32_t plen = sw_rd16(ip + 4);
    /* Version 6; hop limit 0 and a hop-by-hop header with no room for it
     * are what random payloads look like, not tunnels. */
    if ((ip[0] >> 4) != 6 || ip[7] == 0 || (ip[6] == 0 && plen < 8))
        return SW_DEC_OK;
    if (len - off != IPV6_HLEN + plen)
        return SW_DEC_OK;
    sw_dec_count(st, SW_DEC_CTR_TEREDO);
    sw_dec_tunnel(st, SW_TUN_TEREDO, 0);
    return sw_dec_ipv6(st, ip, len - off);
}
