/* SPSC ring (sensor/ring.h): one producer and one consumer thread pass 1M
 * records of random sizes (seeded) through a small ring, so it wraps
 * thousands of times, with padding records and the too-small-for-a-header
 * tail case; the consumer checks order, sizes and every payload byte. */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/ring.h"

#define RING_CAP (1u << 16) /* the ring's minimum size */

typedef struct ctx {
    sw_ring ring;
    uint64_t seed;
    uint64_t nrec;
    /* results from the consumer */
    uint64_t got;
    uint64_t bad_order, bad_len, bad_data, bad_meta;
    uint64_t pads_seen;
    uint64_t bytes;
    uint64_t producer_full_waits;
} ctx;

static uint64_t next_rng(uint64_t *s)
{
    *s ^= *s >> 12;
    *s ^= *s << 25;
    *s ^= *s >> 27;
    return *s * 2685821657736338717ull;
}

/* Size of record i: mostly small, sometimes near-MTU, sometimes big enough
 * (up to 9000) that only a few fit before the end; 0-byte payloads too. */
static uint32_t rec_len(uint64_t *s)
{
    uint64_t r = next_rng(s);
    switch (r % 8) {
    case 0: return 0;
    case 1:
    case 2:
    case 3: return (uint32_t)(r >> 8) % 128;
    case 4:
    case 5: return 1400 + (uint32_t)(r >> 8) % 118;
    case 6: return (uint32_t)(r >> 8) % 9000;
    default: return (uint32_t)(r >> 8) % 40 + 1; /* awkward tails */
    }
}

/* Payload of record i: a window into a fixed pseudo-random pattern that
 * starts at i % 251, so neighbouring records differ at every offset. */
static uint8_t g_pattern[9000 + 256];

static void pattern_init(void)
{
    uint64_t s = 0x51ed270b27c3aa1dull;
    for (size_t k = 0; k < sizeof g_pattern; k++)
        g_pattern[k] = (uint8_t)(next_rng(&s) >> 56);
}

static const uint8_t *payload(uint64_t i)
{
    return g_pattern + i % 251;
}

static void *producer(void *arg)
{
    ctx *c = arg;
    uint64_t s = c->seed;
    for (uint64_t i = 0; i < c->nrec; i++) {
        uint32_t len = rec_len(&s);
        sw_rec *r;
        while (!(r = sw_ring_reserve(&c->ring, len))) {
            c->producer_full_waits++;
            sched_yield();
        }
        r->type = SW_REC_PACKET;
        r->linktype = (uint16_t)(i & 0xffff);
        r->caplen = len;
        r->wirelen = len + 4;
        r->ts_us = i * 3;
        r->pcap_cnt = i + 1;
        memcpy(r->data, payload(i), len);
        sw_ring_publish(&c->ring, r);
    }
    sw_rec *r;
    while (!(r = sw_ring_reserve(&c->ring, 0)))
        sched_yield();
    r->type = SW_REC_STOP;
    sw_ring_publish(&c->ring, r);
    return NULL;
}

static void *consumer(void *arg)
{
    ctx *c = arg;
    uint64_t s = c->seed; /* same sequence of lengths as the producer */
    uint64_t expect = 0;
    for (;;) {
        sw_rec *r = sw_ring_peek(&c->ring);
        if (!r) {
            sched_yield();
            continue;
        }
        if (r->type == SW_REC_STOP) {
            sw_ring_release(&c->ring, r);
            break;
        }
        if (r->type != SW_REC_PACKET) {
            c->bad_meta++; /* pads must never reach the consumer */
            sw_ring_release(&c->ring, r);
            continue;
        }
        uint32_t len = rec_len(&s);
        if (r->pcap_cnt != expect + 1)
            c->bad_order++;
        if (r->caplen != len || r->wirelen != len + 4 || r->size % 8 ||
            r->size < sizeof(sw_rec) + len)
            c->bad_len++;
        if (r->ts_us != expect * 3 || r->linktype != (uint16_t)(expect & 0xffff))
            c->bad_meta++;
        /* the record is contiguous: its payload lies inside the buffer */
        if ((uint8_t *)r + r->size > c->ring.buf + c->ring.cap)
            c->bad_len++;
        else if (memcmp(r->data, payload(expect), len < r->caplen ? len : r->caplen))
            c->bad_data++;
        c->bytes += len;
        c->got++;
        expect++;
        sw_ring_release(&c->ring, r);
    }
    return NULL;
}

static void run(uint64_t seed, uint64_t nrec)
{
    pattern_init();
    ctx *c = calloc(1, sizeof *c);
    assert_non_null(c);
    c->seed = seed;
    c->nrec = nrec;
    assert_int_equal(sw_ring_init(&c->ring, RING_CAP), 0);
    assert_int_equal(c->ring.cap, RING_CAP);
    pthread_t p, q;
    assert_int_equal(pthread_create(&q, NULL, consumer, c), 0);
    assert_int_equal(pthread_create(&p, NULL, producer, c), 0);
    pthread_join(p, NULL);
    pthread_join(q, NULL);
    assert_int_equal(c->got, nrec);
    assert_int_equal(c->bad_order, 0);
    assert_int_equal(c->bad_len, 0);
    assert_int_equal(c->bad_data, 0);
    assert_int_equal(c->bad_meta, 0);
    /* the ring wrapped many times and ends empty */
    assert_true(c->ring.head > 10 * (uint64_t)RING_CAP);
    assert_int_equal(c->ring.head, c->ring.tail);
    assert_null(sw_ring_peek(&c->ring));
    sw_ring_destroy(&c->ring);
    free(c);
}

static void test_two_threads_1m_records(void **state)
{
    (void)state;
    run(0x1234567ull, 1000000);
}

static void test_two_threads_other_seed(void **state)
{
    (void)state;
    run(0xfeedfaceull, 200000);
}

/* Single-threaded edge cases: full ring, wrap with a pad record, wrap where
 * fewer bytes than a header remain before the end. */
static void test_full_and_wrap_edges(void **state)
{
    (void)state;
    sw_ring r;
    assert_int_equal(sw_ring_init(&r, 1000), 0);
    assert_int_equal(r.cap, RING_CAP); /* rounded up to the minimum */
    const uint32_t hdr = (uint32_t)sizeof(sw_rec);
    /* fill to exactly the end with records of 8192 bytes total */
    uint32_t plen = 8192 - hdr;
    for (int i = 0; i < 8; i++) {
        sw_rec *x = sw_ring_reserve(&r, plen);
        assert_non_null(x);
        x->type = SW_REC_PACKET;
        x->pcap_cnt = (uint64_t)i;
        sw_ring_publish(&r, x);
    }
    /* full: no room for even an empty record */
    assert_null(sw_ring_reserve(&r, 0));
    /* free one at the front: a record that fits is accepted, at offset 0 */
    sw_rec *f = sw_ring_peek(&r);
    assert_int_equal(f->pcap_cnt, 0);
    sw_ring_release(&r, f);
    sw_rec *x = sw_ring_reserve(&r, plen);
    assert_non_null(x);
    assert_ptr_equal((uint8_t *)x, r.buf);
    x->type = SW_REC_PACKET;
    x->pcap_cnt = 8;
    sw_ring_publish(&r, x);
    for (uint64_t i = 1; i <= 8; i++) {
        f = sw_ring_peek(&r);
        assert_non_null(f);
        assert_int_equal(f->pcap_cnt, i);
        sw_ring_release(&r, f);
    }
    assert_null(sw_ring_peek(&r));

    /* leave 16 bytes (less than a header) before the end, then wrap */
    sw_ring_destroy(&r);
    assert_int_equal(sw_ring_init(&r, RING_CAP), 0);
    x = sw_ring_reserve(&r, RING_CAP - 16 - hdr);
    assert_non_null(x);
    x->type = SW_REC_PACKET;
    x->pcap_cnt = 1;
    sw_ring_publish(&r, x);
    f = sw_ring_peek(&r);
    sw_ring_release(&r, f);
    x = sw_ring_reserve(&r, 100);
    assert_non_null(x);
    assert_ptr_equal((uint8_t *)x, r.buf);
    x->type = SW_REC_PACKET;
    x->pcap_cnt = 2;
    sw_ring_publish(&r, x);
    f = sw_ring_peek(&r);
    assert_non_null(f);
    assert_int_equal(f->pcap_cnt, 2);
    sw_ring_release(&r, f);
    assert_null(sw_ring_peek(&r));

    /* leave room for a header but not the record: a pad record is skipped */
    x = sw_ring_reserve(&r, RING_CAP - 2 * hdr - 200);
    assert_non_null(x);
    x->type = SW_REC_PACKET;
    x->pcap_cnt = 3;
    sw_ring_publish(&r, x);
    f = sw_ring_peek(&r);
    sw_ring_release(&r, f);
    x = sw_ring_reserve(&r, 1000);
    assert_non_null(x);
    assert_ptr_equal((uint8_t *)x, r.buf);
    x->type = SW_REC_PACKET;
    x->pcap_cnt = 4;
    sw_ring_publish(&r, x);
    f = sw_ring_peek(&r);
    assert_non_null(f);
    assert_int_equal(f->type, SW_REC_PACKET);
    assert_int_equal(f->pcap_cnt, 4);
    sw_ring_release(&r, f);
    assert_int_equal(r.head, r.tail);
    sw_ring_destroy(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_full_and_wrap_edges),
        cmocka_unit_test(test_two_threads_1m_records),
        cmocka_unit_test(test_two_threads_other_seed),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
