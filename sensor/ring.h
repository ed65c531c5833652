/* Single-producer single-consumer byte ring carrying whole packets from the
 * reader thread to one worker. Lock-free: the producer owns head, the
 * consumer owns tail, each publishes with a release store. Records are
 * contiguous; one that does not fit before the end wraps to the start after
 * a padding record, so the consumer always gets a plain pointer. */
#ifndef SW_RING_H
#define SW_RING_H

#include <sched.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* FLUSH: packet time jumped back (a later -r file is older): end every
 * flow and restart the clock at ts_us. */
enum { SW_REC_PACKET = 1, SW_REC_TICK = 2, SW_REC_PAD = 3, SW_REC_STOP = 4, SW_REC_FLUSH = 5 };

typedef struct sw_rec {
    uint32_t size;   /* whole record incl. header, multiple of 8 */
    uint16_t type;
    uint16_t linktype;
    uint32_t caplen;
    uint32_t wirelen;
    uint64_t ts_us;
    uint64_t pcap_cnt;
    uint8_t data[];
} sw_rec;

typedef struct sw_ring {
    uint8_t *buf;
    uint64_t cap; /* power of two */
    char pad0[48];
    uint64_t head; /* written by producer */
    char pad1[56];
    uint64_t tail; /* written by consumer */
    char pad2[56];
} sw_ring;

/* Waiting on a ring (empty for the consumer, full for the producer): spin
 * briefly (the other side is usually about to move), then yield, then
 * sleep sleep_us so an idle thread costs no CPU. */
static inline void sw_ring_backoff(unsigned *spins, long sleep_us)
{
    if (*spins < 64) {
        __builtin_ia32_pause();
    } else if (*spins < 128) {
        sched_yield();
    } else {
        struct timespec ts = {0, sleep_us * 1000};
        nanosleep(&ts, NULL);
    }
    (*spins)++;
}

static inline int sw_ring_init(sw_ring *r, uint64_t cap)
{
    memset(r, 0, sizeof(*r));
    uint64_t c = 1 << 16;
    while (c < cap)
        c <<= 1;
    r->buf = (uint8_t *)malloc(c);
    r->cap = c;
    return r->buf ? 0 : -1;
}

static inline void sw_ring_destroy(sw_ring *r)
{
    free(r->buf);
    r->buf = NULL;
}

/* Reserves a record of payload len; NULL when the ring is full now. */
static inline sw_rec *sw_ring_reserve(sw_ring *r, uint32_t len)
{
    uint64_t need = (sizeof(sw_rec) + len + 7) & ~(uint64_t)7;
    uint64_t head = r->head;
    uint64_t tail = __atomic_load_n(&r->tail, __ATOMIC_ACQUIRE);
    uint64_t off = head & (r->cap - 1);
    uint64_t room_to_end = r->cap - off;
    uint64_t total = need;
    if (room_to_end < need)
        total += room_to_end; /* padding, then the record at 0 */
    if (head + total - tail > r->cap)
        return NULL;
    if (room_to_end < need) {
        if (room_to_end >= sizeof(sw_rec)) {
            sw_rec *pad = (sw_rec *)(r->buf + off);
            pad->size = (uint32_t)room_to_end;
            pad->type = SW_REC_PAD;
        }
        __atomic_store_n(&r->head, head + room_to_end, __ATOMIC_RELEASE);
        off = 0;
    }
    sw_rec *rec = (sw_rec *)(r->buf + off);
    rec->size = (uint32_t)need;
    return rec;
}

static inline void sw_ring_publish(sw_ring *r, sw_rec *rec)
{
    __atomic_store_n(&r->head, r->head + rec->size, __ATOMIC_RELEASE);
}

/* Next record or NULL when empty. Call sw_ring_release after use. */
static inline sw_rec *sw_ring_peek(sw_ring *r)
{
    for (;;) {
        uint64_t tail = r->tail;
        uint64_t head = __atomic_load_n(&r->head, __ATOMIC_ACQUIRE);
        if (tail == head)
            return NULL;
        uint64_t off = tail & (r->cap - 1);
        uint64_t room_to_end = r->cap - off;
        if (room_to_end < sizeof(sw_rec)) {
            /* too small for even a pad header: producer skipped it */
            __atomic_store_n(&r->tail, tail + room_to_end, __ATOMIC_RELEASE);
            continue;
        }
        sw_rec *rec = (sw_rec *)(r->buf + off);
        if (rec->type == SW_REC_PAD) {
            __atomic_store_n(&r->tail, tail + rec->size, __ATOMIC_RELEASE);
            continue;
        }
        return rec;
    }
}

static inline void sw_ring_release(sw_ring *r, sw_rec *rec)
{
    __atomic_store_n(&r->tail, r->tail + rec->size, __ATOMIC_RELEASE);
}

#endif
