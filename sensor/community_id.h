/* Community ID v1 (https://github.com/corelight/community-id-spec): a flow
 * hash that other tools (Zeek, Suricata, Arkime) compute the same way, so an
 * analyst can pivot between them. */
#ifndef SW_COMMUNITY_ID_H
#define SW_COMMUNITY_ID_H

#include <stddef.h>
#include <stdint.h>

#define SW_COMMUNITY_ID_LEN 31 /* "1:" + 28 base64 chars + NUL */

/* family 4 or 6; ports are host order; for ICMP/ICMPv6 pass type as sport
 * and code as dport. Writes a NUL-terminated string into out[32]. */
void sw_community_id(uint16_t seed, int family, const uint8_t *saddr,
                     const uint8_t *daddr, uint8_t proto, uint16_t sport,
                     uint16_t dport, char out[32]);

#endif
