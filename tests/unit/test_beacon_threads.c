/* The beacon tracker is one instance shared by every worker (sharded
 * locks), so its counters have several writers. sensor/counters.h's
 * SW_CTR_INC is a relaxed load + store, right only for one writer: with
 * two workers, increments were lost and spanwatch.beacon.checkins (and
 * keys_active, alerts...) under-counted. Each thread here does a known
 * number of observations; the counters must add up exactly. */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/beacon.h"

#define THREADS 4
#define SKIPS 200000 /* cheap path: the counter is most of the work */
#define KEYS 2000     /* full path: one new key each */

typedef struct targ {
    sw_beacon *b;
    int id;
} targ;

static void *skip_worker(void *p)
{
    targ *a = p;
    sw_checkin c;
    memset(&c, 0, sizeof c);
    c.kind = SW_CHECKIN_FLOW_START;
    c.ip_version = 4;
    c.proto = 6;
    c.dport = 9999; /* excluded below */
    c.src[0] = 10;
    c.src[1] = (uint8_t)a->id;
    c.dst[0] = 192;
    c.dst[3] = 1;
    sw_beacon_alert out[4];
    for (int i = 0; i < SKIPS; i++) {
        c.ts_us = 1000000000ull + (uint64_t)i * 1000;
        sw_beacon_observe(a->b, &c, out, 4);
    }
    return NULL;
}

static void *key_worker(void *p)
{
    targ *a = p;
    sw_checkin c;
    memset(&c, 0, sizeof c);
    c.kind = SW_CHECKIN_FLOW_START;
    c.ip_version = 4;
    c.proto = 6;
    c.dport = 443;
    c.src[0] = 10;
    c.src[1] = (uint8_t)a->id;
    c.dst[0] = 93;
    sw_beacon_alert out[4];
    for (int i = 0; i < KEYS; i++) {
        /* the last octet stays 1: x.x.x.255 is skipped as a broadcast */
        c.dst[1] = (uint8_t)(i >> 8);
        c.dst[2] = (uint8_t)i;
        c.dst[3] = 1;
        c.ts_us = 1000000000ull + (uint64_t)i * 1000;
        sw_beacon_observe(a->b, &c, out, 4);
    }
    return NULL;
}

static uint64_t ctr(const sw_beacon *b, int id)
{
    sw_ctr_group g = sw_beacon_counters(b);
    return __atomic_load_n(&g.vals[id], __ATOMIC_RELAXED);
}

static sw_beacon *make(void)
{
    sw_beacon_config c;
    sw_beacon_config_defaults(&c);
    c.enabled = true;
    c.memcap = 16u << 20; /* room for every key: nothing evicted */
    c.exclude_ports[c.n_exclude_ports++] = 9999;
    char err[256];
    sw_beacon *b = sw_beacon_new(&c, err, sizeof err);
    if (!b)
        fail_msg("sw_beacon_new: %s", err);
    return b;
}

static void run(sw_beacon *b, void *(*fn)(void *))
{
    pthread_t th[THREADS];
    targ a[THREADS];
    for (int i = 0; i < THREADS; i++) {
        a[i].b = b;
        a[i].id = i + 1;
        assert_int_equal(pthread_create(&th[i], NULL, fn, &a[i]), 0);
    }
    for (int i = 0; i < THREADS; i++)
        pthread_join(th[i], NULL);
}

static void test_skip_counters_add_up(void **st)
{
    (void)st;
    sw_beacon *b = make();
    run(b, skip_worker);
    assert_int_equal(ctr(b, SW_BEACON_CTR_OBSERVED), (uint64_t)THREADS * SKIPS);
    assert_int_equal(ctr(b, SW_BEACON_CTR_SKIP_PORT), (uint64_t)THREADS * SKIPS);
    sw_beacon_free(b);
}

static void test_key_counters_add_up(void **st)
{
    (void)st;
    sw_beacon *b = make();
    run(b, key_worker);
    assert_int_equal(ctr(b, SW_BEACON_CTR_OBSERVED), (uint64_t)THREADS * KEYS);
    assert_int_equal(ctr(b, SW_BEACON_CTR_EVICTED), 0);
    assert_int_equal(ctr(b, SW_BEACON_CTR_KEYS_ACTIVE), (uint64_t)THREADS * KEYS);
    sw_beacon_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_counters_add_up),
        cmocka_unit_test(test_key_counters_add_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
