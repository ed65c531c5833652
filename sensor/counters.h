/* Named counters.
 *
 * Each module declares its counters as an X-macro list of (ID, "stats.path")
 * and keeps one uint64_t array per owning thread. Only the owning thread
 * writes; the stats writer reads from another thread, so both sides use
 * relaxed atomics (a plain store on x86, no lock prefix on the hot path).
 *
 * The path is where the value goes in the `stats` event: a Suricata schema
 * path such as "decoder.event.ipv4.pkt_too_small", or "spanwatch.<...>" for
 * counters Suricata has no place for. Values of the same path from several
 * groups (e.g. one per worker) are summed. */
#ifndef SW_COUNTERS_H
#define SW_COUNTERS_H

#include <stddef.h>
#include <stdint.h>

#define SW_CTR_INC(arr, id) \
    __atomic_store_n(&(arr)[id], __atomic_load_n(&(arr)[id], __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED)
#define SW_CTR_ADD(arr, id, n) \
    __atomic_store_n(&(arr)[id], __atomic_load_n(&(arr)[id], __ATOMIC_RELAXED) + (n), __ATOMIC_RELAXED)
/* Gauges (memuse, active) are set, not added. */
#define SW_CTR_SET(arr, id, v) __atomic_store_n(&(arr)[id], (v), __ATOMIC_RELAXED)
#define SW_CTR_GET(arr, id) __atomic_load_n(&(arr)[id], __ATOMIC_RELAXED)

typedef enum sw_ctr_kind {
    SW_CTR_SUM = 0, /* counters: summed over groups */
    SW_CTR_MAX,     /* high-water marks: max over groups */
} sw_ctr_kind;

/* A view of one module's counter array, handed to the stats writer. */
typedef struct sw_ctr_group {
    const char *const *names; /* stats paths, one per counter */
    const uint64_t *vals;
    size_t n;
} sw_ctr_group;

#endif
