/* IPv4 and IPv6 fragment reassembly.
 *
 * One sw_defrag per worker thread (the pair hash sends every fragment of a
 * host pair to the same worker). All memory -- tracker slots, fragment
 * descriptors, data chunks, the output buffer -- is allocated by
 * sw_defrag_new() within memcap; adding a fragment allocates nothing.
 * Pages are touched only when used, so a large memcap costs address space,
 * not resident memory.
 *
 * Overlap policies (target-based, as Suricata's defrag.policy):
 *   first: bytes that arrived first win (Suricata "first"; BSD and Windows
 *          behave like this for most overlaps) -- the default.
 *   last:  bytes that arrived last win (Suricata "last"; Cisco IOS).
 * Every fragment overlapping earlier data counts
 * decoder.event.ipv4.frag_overlap / decoder.event.ipv6.frag_overlap. */
#ifndef SW_DEFRAG_H
#define SW_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "decoders/packet.h"
#include "sensor/cfg.h"
#include "sensor/counters.h"

enum { SW_DEFRAG_POLICY_FIRST = 0, SW_DEFRAG_POLICY_LAST = 1 };

typedef struct sw_defrag_config {
    uint64_t memcap;       /* defrag.memcap, bytes, default 32mb */
    uint64_t timeout_us;   /* defrag.timeout, since the last fragment, 60s */
    uint32_t max_trackers; /* defrag.trackers, datagrams in progress, 65535 */
    uint32_t max_frags;    /* defrag.max-frags, fragments held, 65535 */
    int policy;            /* defrag.policy: first | last */
} sw_defrag_config;

#define SW_DEFRAG_CTR_LIST(X)                                        \
    X(SW_DF_V4_FRAGMENTS, "defrag.ipv4.fragments")                   \
    X(SW_DF_V4_REASSEMBLED, "defrag.ipv4.reassembled")               \
    X(SW_DF_V4_TIMEOUTS, "defrag.ipv4.timeouts")                     \
    X(SW_DF_V6_FRAGMENTS, "defrag.ipv6.fragments")                   \
    X(SW_DF_V6_REASSEMBLED, "defrag.ipv6.reassembled")               \
    X(SW_DF_V6_TIMEOUTS, "defrag.ipv6.timeouts")                     \
    X(SW_DF_MAX_FRAGS_REACHED, "defrag.max_frags_reached")           \
    X(SW_DF_MAX_TRACKERS_REACHED, "defrag.max_trackers_reached")     \
    X(SW_DF_MEMUSE, "defrag.memuse")                                 \
    X(SW_DF_MEMCAP_HIT, "spanwatch.defrag.memcap_hit")               \
    X(SW_DF_TOO_LARGE, "spanwatch.defrag.too_large")                 \
    X(SW_DF_V4_OVERLAP, "decoder.event.ipv4.frag_overlap")           \
    X(SW_DF_V6_OVERLAP, "decoder.event.ipv6.frag_overlap")

enum {
#define SW_X(id, path) id,
    SW_DEFRAG_CTR_LIST(SW_X)
#undef SW_X
    SW_DF_CTR_COUNT
};

typedef struct sw_defrag sw_defrag;

void sw_defrag_config_defaults(sw_defrag_config *c);
/* Keys under "defrag." (see packaging/config.d/decoder.yaml). */
int sw_defrag_config_load(const sw_cfg_node *root, sw_defrag_config *c, char *err,
                          size_t errlen);

/* NULL when memcap cannot hold the fixed tables (trackers, descriptors)
 * plus a minimum of data space, or on allocation failure. */
sw_defrag *sw_defrag_new(const sw_defrag_config *c);
void sw_defrag_free(sw_defrag *d);

/* p is a decoded fragment (p->ip.is_fragment, as set by sw_decode_packet).
 * Returns the reassembled IP datagram (header with corrected length and
 * checksum, no fragment fields / fragment header) when p completes one,
 * else NULL. The buffer is owned by d and valid until the next call. */
const uint8_t *sw_defrag_add(sw_defrag *d, const sw_packet *p, uint32_t *len_out);

/* Drops trackers idle for longer than the timeout at packet time now_us. */
void sw_defrag_expire(sw_defrag *d, uint64_t now_us);

sw_ctr_group sw_defrag_counters(const sw_defrag *d);

#endif
