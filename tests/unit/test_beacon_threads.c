/* The beacon tracker is one instance shared by every worker (sharded
 * locks): its counters have several writers, and check-ins of one host do
 * not arrive in timestamp order (two workers, two flows).
 *
 * Counters: their writers race. sensor/counters.h's
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

/* Workers hand check-ins over slightly out of time order. A DGA query
 * stamped a moment before the last DGA alert of its host must not make
 * ts - last_alert wrap around and re-alert inside the re-alert interval. */
static void test_dga_older_timestamp_no_realert(void **st)
{
    (void)st;
    sw_beacon_config cfg;
    sw_beacon_config_defaults(&cfg);
    cfg.enabled = true;
    cfg.memcap = 4u << 20;
    char err[256];
    sw_beacon *b = sw_beacon_new(&cfg, err, sizeof err);
    if (!b)
        fail_msg("sw_beacon_new: %s", err);
    static const char *const names[] = {
        "xkqjzvbwtrpl.com", "bcdfghjklmnp.net", "qzxwvtrplkjh.com", "mnbvcxzlkjhg.net",
        "wrtzpsdfghjk.com", "plkmjnhbgvfc.net", "zxcvbnmlkjhg.com", "qwrtypsdfghj.net",
        "hjklzxcvbnmq.com", "tkrzpqwxvbnm.net"};
    sw_checkin c;
    memset(&c, 0, sizeof c);
    c.kind = SW_CHECKIN_DNS_QUERY;
    c.ip_version = 4;
    c.src[0] = 10, c.src[3] = 4;
    c.dst[0] = 192, c.dst[1] = 0, c.dst[2] = 2, c.dst[3] = 53;
    c.dport = 53;
    c.proto = 17;
    c.qtype = 1;
    sw_beacon_alert a[8];
    const uint64_t t0 = 1700000000000000ull;
    int dga = 0;
    uint64_t alert_ts = 0;
    for (int i = 0; i < 8; i++) {
        c.qname = names[i];
        c.ts_us = t0 + (uint64_t)i * 500000;
        int n = sw_beacon_observe(b, &c, a, 8);
        for (int k = 0; k < n; k++)
            if (a[k].sig == SW_BSIG_DGA) {
                dga++;
                alert_ts = c.ts_us;
            }
    }
    assert_int_equal(dga, 1); /* dga_domains (8) reached */
    /* from another worker: 100 ms older than the alert, new domains */
    for (int i = 8; i < 10; i++) {
        c.qname = names[i];
        c.ts_us = alert_ts - 100000;
        int n = sw_beacon_observe(b, &c, a, 8);
        for (int k = 0; k < n; k++)
            dga += a[k].sig == SW_BSIG_DGA;
    }
    assert_int_equal(dga, 1);
    sw_beacon_free(b);
}

/* A check-in older than the last committed one but not older than the
 * last ring entry (a burst committed in between) is late too: before, it
 * was committed, t - prev_ms wrapped and a 0.1 s gap entered the ring. */
static void test_late_behind_burst_is_late(void **st)
{
    (void)st;
    sw_beacon_config cfg;
    sw_beacon_config_defaults(&cfg);
    cfg.enabled = true;
    cfg.memcap = 4u << 20;
    char err[256];
    sw_beacon *b = sw_beacon_new(&cfg, err, sizeof err);
    if (!b)
        fail_msg("sw_beacon_new: %s", err);
    sw_checkin c;
    memset(&c, 0, sizeof c);
    c.kind = SW_CHECKIN_FLOW_START;
    c.ip_version = 4;
    c.src[0] = 10, c.src[3] = 4;
    c.dst[0] = 93, c.dst[1] = 184, c.dst[2] = 216, c.dst[3] = 34;
    c.dport = 443;
    c.proto = 6;
    sw_beacon_alert a[8];
    const uint64_t t0 = 1700000000000000ull;
    /* 120.3 s is a burst after 120 s (< 0.5 s): prev_ms moves, last_ms not */
    static const uint64_t ms[] = {0, 60000, 120000, 120300, 200000};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        c.ts_us = t0 + ms[i] * 1000;
        sw_beacon_observe(b, &c, a, 8);
    }
    sw_ctr_group g = sw_beacon_counters(b);
    assert_int_equal(g.vals[SW_BEACON_CTR_BURST], 1);
    assert_int_equal(g.vals[SW_BEACON_CTR_LATE], 0);
    c.ts_us = t0 + 120100 * 1000ull; /* after last_ms, before prev_ms */
    sw_beacon_observe(b, &c, a, 8);
    assert_int_equal(g.vals[SW_BEACON_CTR_LATE], 1);
    assert_int_equal(g.vals[SW_BEACON_CTR_BURST], 1);
    sw_beacon_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_skip_counters_add_up),
        cmocka_unit_test(test_key_counters_add_up),
        cmocka_unit_test(test_dga_older_timestamp_no_realert),
        cmocka_unit_test(test_late_behind_burst_is_late),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
