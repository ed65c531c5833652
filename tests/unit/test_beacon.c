/* Beacon tracker: synthetic check-in sequences from a seeded PRNG. */
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/beacon.h"
#include "sensor/dnstunnel.h"
#include "sensor/eve_beacon.h"

/* ---- PRNG (xorshift64*) --------------------------------------------- */
static uint64_t rng_s;
static void rng_seed(uint64_t s) { rng_s = s * 2654435761u + 0x9e3779b97f4a7c15ull; }
static uint64_t rng_u64(void)
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return rng_s * 2685821657736338717ull;
}
static double rng_u(void) { return (double)(rng_u64() >> 11) / 9007199254740992.0; }
static double rng_norm(void)
{
    double u1 = rng_u() + 1e-12, u2 = rng_u();
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static double rng_exp(double mean) { return -mean * log(1.0 - rng_u()); }

/* ---- helpers ---------------------------------------------------------- */
#define T0 1700000000000000ull

static sw_beacon_config base_cfg(void)
{
    sw_beacon_config c;
    sw_beacon_config_defaults(&c);
    c.memcap = 4u << 20;
    c.shards = 8;
    return c;
}

static sw_beacon *mk(const sw_beacon_config *c)
{
    char err[256] = "";
    sw_beacon *b = sw_beacon_new(c, err, sizeof(err));
    if (!b)
        fail_msg("sw_beacon_new: %s", err);
    return b;
}

static sw_checkin flow_ci(uint32_t src, uint32_t dst, uint16_t dport, double t_s)
{
    sw_checkin c;
    memset(&c, 0, sizeof(c));
    c.ts_us = T0 + (uint64_t)llround(t_s * 1e6);
    c.kind = SW_CHECKIN_FLOW_START;
    c.ip_version = 4;
    c.src[0] = 10, c.src[1] = (uint8_t)(src >> 16), c.src[2] = (uint8_t)(src >> 8), c.src[3] = (uint8_t)src;
    c.dst[0] = 93, c.dst[1] = (uint8_t)(dst >> 16), c.dst[2] = (uint8_t)(dst >> 8), c.dst[3] = (uint8_t)dst;
    c.dport = dport;
    c.proto = 6;
    c.sport = 40000;
    return c;
}

typedef struct result {
    int alerts;
    uint32_t first_count;
    double first_period;
    sw_beacon_alert first;
} result;

static void collect(result *r, const sw_beacon_alert *a, int n, int only_beacon)
{
    for (int i = 0; i < n; i++) {
        if (only_beacon && a[i].sig > SW_BSIG_DNS_DOMAIN)
            continue;
        if (getenv("BEACON_DEBUG")) {
            fprintf(stderr, "alert sid %u count %u period %.1f:", a[i].signature_id, a[i].count, a[i].period_s);
            for (int k = 0; k < a[i].n_intervals; k++)
                fprintf(stderr, " %.1f", a[i].intervals_s[k]);
            fprintf(stderr, "\n");
        }
        if (r->alerts++ == 0) {
            r->first = a[i];
            r->first_count = a[i].count;
            r->first_period = a[i].period_s;
        }
    }
}

static void feed(sw_beacon *b, sw_checkin *c, result *r)
{
    sw_beacon_alert a[8];
    int n = sw_beacon_observe(b, c, a, 8);
    collect(r, a, n, 1);
}

static void drain(sw_beacon *b, result *r)
{
    sw_beacon_alert a[8];
    int n;
    while ((n = sw_beacon_flush(b, a, 8)) > 0)
        collect(r, a, n, 1);
}

/* Intervals generator by pattern; returns the expected period. */
typedef enum { P_CS0, P_CS20, P_CS50, P_SLIVER, P_LOADER, P_SLOW, P_MISSED, P_BURST, P_NPAT } pattern;

static double next_iv(pattern p, int i, int *burst_left)
{
    switch (p) {
    case P_CS0: return 60.0 + rng_norm() * 0.05;
    case P_CS20: return 60.0 * (1.0 - 0.2 * rng_u());
    case P_CS50: return 60.0 * (1.0 - 0.5 * rng_u());
    case P_SLIVER: return 30.0 + 60.0 * rng_u();
    case P_LOADER: return 300.0 * (1.0 + 0.1 * (2 * rng_u() - 1));
    case P_SLOW: return 1800.0 * (1.0 + 0.2 * (2 * rng_u() - 1));
    case P_MISSED: {
        double v = 60.0 * (1.0 + 0.05 * (2 * rng_u() - 1));
        if (i > 2 && rng_u() < 0.2)
            v += 60.0 * (1.0 + 0.05 * (2 * rng_u() - 1));
        return v;
    }
    case P_BURST:
        if (i == 5)
            *burst_left = 60;
        if (*burst_left > 0) {
            (*burst_left)--;
            return 1.0 + 2.0 * rng_u();
        }
        return 60.0 * (1.0 - 0.2 * rng_u());
    default: return 60.0;
    }
}

static double expected_period(pattern p)
{
    static const double e[] = {60, 54, 45, 60, 300, 1800, 60, 54};
    return e[p];
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

static void test_positive_patterns(void **state)
{
    (void)state;
    uint32_t counts[P_NPAT * 8];
    int ncounts = 0;
    double allerr = 0.0;
    for (int p = 0; p < P_NPAT; p++) {
        double errsum = 0.0;
        for (uint64_t seed = 1; seed <= 8; seed++) {
            rng_seed(seed * 100 + (uint64_t)p);
            sw_beacon_config cfg = base_cfg();
            sw_beacon *b = mk(&cfg);
            result r = {0};
            double t = 1000.0 * seed;
            int burst = 0, real = 0;
            /* the burst pattern spends 60 check-ins in the burst: give it
             * 40 beats after it as the others get */
            int total = p == P_BURST ? 100 : 40;
            for (int i = 0; i < total; i++) {
                sw_checkin c = flow_ci(5, 7, 443, t);
                c.bytes_toserver = 310;
                feed(b, &c, &r);
                sw_beacon_flow_end(b, &c);
                if (!(p == P_BURST && burst > 0))
                    real++;
                double iv = next_iv((pattern)p, i, &burst);
                t += iv;
            }
            drain(b, &r);
            if (r.alerts < 1)
                fail_msg("pattern %d seed %llu: no alert", p, (unsigned long long)seed);
            double exp_p = expected_period((pattern)p);
            double err = fabs(r.first_period - exp_p) / exp_p;
            /* 60 +- 30 s fills a 3:1 window that a memoryless source
             * fills a third of the time: 9-12 intervals before the
             * evidence reaches 1e-4 (the median over all patterns is
             * still asserted <= 8 below) */
            uint32_t limit = p == P_BURST ? 10 + 60 : p == P_SLIVER ? 14 : 10;
            /* n intervals of uniform jitter of full width w pin the
             * period no better than the mid-range does: standard error
             * w / sqrt(2(n+1)(n+2)). Each alert must be within 3 of those
             * (and 5%); the mean over the seeds within 5%. */
            static const double width[] = {0.0, 12, 30, 60, 60, 720, 6, 12};
            double n_iv = r.first.n_intervals > 0 ? r.first.n_intervals : 1;
            double tol = 3.0 * width[p] / sqrt(2.0 * (n_iv + 1) * (n_iv + 2)) / exp_p;
            if (tol < 0.05)
                tol = 0.05;
            errsum += err;
            counts[ncounts++] = r.first_count;
            if (r.first_count > limit || err > tol)
                fail_msg("pattern %d seed %llu: count %u period %.2f (want %.1f)", p, (unsigned long long)seed,
                         r.first_count, r.first_period, exp_p);
            /* 40 check-ins span at most ~20 h for P_SLOW: re-alerts are
             * spaced by at least an hour */
            sw_beacon_free(b);
        }
        /* Sliver alerts after ~9 intervals of +-50%: the mid-range then
         * has a standard error of ~7.5%; the bar for it is 10% per pattern,
         * 5% for the others and for the mean over all patterns */
        allerr += errsum;
        if (errsum / 8 > (p == P_SLIVER ? 0.10 : 0.05))
            fail_msg("pattern %d: mean period error %.3f", p, errsum / 8);
    }
    print_message("mean period error over all patterns: %.3f\n", allerr / ncounts);
    assert_true(allerr / ncounts <= 0.05);
    qsort(counts, (size_t)ncounts, sizeof(uint32_t), cmp_u32);
    print_message("median check-ins until alert: %u\n", counts[ncounts / 2]);
    assert_true(counts[ncounts / 2] <= 8);
}

static void test_realert_once_per_hour(void **state)
{
    (void)state;
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    uint64_t last = 0;
    int alerts = 0;
    /* 4 h of a 60 s beacon */
    for (int i = 0; i < 240; i++) {
        sw_checkin c = flow_ci(1, 1, 443, 60.0 * i);
        int n = sw_beacon_observe(b, &c, a, 8);
        for (int k = 0; k < n; k++) {
            if (alerts++ > 0)
                assert_true(a[k].last_seen_us - last >= 3600ull * 1000000);
            last = a[k].last_seen_us;
        }
    }
    assert_int_equal(alerts, 4);
    sw_beacon_free(b);
}

/* ---- negatives --------------------------------------------------------- */

static int run_negative(int kind, uint64_t seed)
{
    rng_seed(seed);
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    result r = {0};
    switch (kind) {
    case 0: /* NTP */
        for (int i = 0; i < 60; i++) {
            sw_checkin c = flow_ci(3, 9, 123, 64.0 * i);
            c.proto = 17;
            feed(b, &c, &r);
        }
        break;
    case 1: /* resolver flows: a new UDP flow to port 53 every minute */
        for (int i = 0; i < 60; i++) {
            sw_checkin c = flow_ci(3, 53, 53, 60.0 * i);
            c.proto = 17;
            feed(b, &c, &r);
        }
        break;
    case 2: /* SSDP multicast and broadcast chatter */
        for (int i = 0; i < 60; i++) {
            sw_checkin c = flow_ci(3, 0, 1901, 30.0 * i);
            c.proto = 17;
            c.dst[0] = 239, c.dst[1] = 255, c.dst[2] = 255, c.dst[3] = 250;
            feed(b, &c, &r);
            c.dst[0] = 10, c.dst[1] = 0, c.dst[2] = 0, c.dst[3] = 255;
            c.dport = 17500;
            feed(b, &c, &r);
        }
        break;
    case 3: { /* human browsing: bursty, heavy-tailed gaps over 20 sites */
        double t[20] = {0};
        for (int s = 0; s < 20; s++)
            t[s] = rng_u() * 600;
        for (int i = 0; i < 60; i++) {
            for (int s = 0; s < 20; s++) {
                t[s] += exp(log(30.0) + 1.6 * rng_norm()) + 0.5;
                sw_checkin c = flow_ci(4, (uint32_t)s, 443, t[s]);
                feed(b, &c, &r);
            }
        }
        break;
    }
    case 4: { /* TTL-driven re-lookups of popular names by 30 hosts */
        static const char *names[] = {"www.google.com", "outlook.office365.com", "www.facebook.com"};
        double t[30][3];
        for (int h = 0; h < 30; h++)
            for (int n = 0; n < 3; n++)
                t[h][n] = rng_u() * 300;
        for (int step = 0; step < 40; step++) {
            for (int h = 0; h < 30; h++) {
                for (int n = 0; n < 3; n++) {
                    t[h][n] += 300 + rng_exp(20);
                    sw_checkin c = flow_ci((uint32_t)h, 53, 53, t[h][n]);
                    c.kind = SW_CHECKIN_DNS_QUERY;
                    c.proto = 17;
                    c.qname = names[n];
                    c.qtype = 1;
                    feed(b, &c, &r);
                }
            }
        }
        break;
    }
    case 5: { /* long keep-alive session: one connection, user-driven requests */
        double t = 0;
        sw_checkin c = flow_ci(6, 2, 443, t);
        c.server_name = "mail.example.org";
        feed(b, &c, &r);
        for (int i = 0; i < 80; i++) {
            t += exp(log(20.0) + 1.3 * rng_norm());
            c = flow_ci(6, 2, 443, t);
            c.kind = SW_CHECKIN_REQUEST;
            c.server_name = "mail.example.org";
            feed(b, &c, &r);
        }
        break;
    }
    case 6: { /* TCP retry back-off to a dead server, three rounds */
        double t = 0;
        for (int round = 0; round < 3; round++) {
            double d = 1.0;
            for (int i = 0; i < 10; i++) {
                sw_checkin c = flow_ci(7, 66, 8443, t);
                feed(b, &c, &r);
                t += d * (1.0 + 0.05 * rng_u());
                d *= 2;
            }
            t += 3600;
        }
        break;
    }
    case 7: { /* telemetry polling: 40 hosts, 5 min, same server */
        double t[40];
        for (int h = 0; h < 40; h++)
            t[h] = rng_u() * 300;
        for (int step = 0; step < 30; step++) {
            for (int h = 0; h < 40; h++) {
                sw_checkin c = flow_ci((uint32_t)h, 77, 443, t[h]);
                c.server_name = "telemetry.vendor.example";
                feed(b, &c, &r);
                t[h] += 300 * (1.0 + 0.02 * rng_norm());
            }
        }
        break;
    }
    }
    drain(b, &r);
    sw_beacon_free(b);
    return r.alerts;
}

static void test_negative_patterns(void **state)
{
    (void)state;
    for (int k = 0; k < 8; k++)
        for (uint64_t seed = 1; seed <= 6; seed++) {
            int n = run_negative(k, seed * 31 + (uint64_t)k);
            if (n != 0)
                fail_msg("negative %d seed %llu: %d alerts", k, (unsigned long long)seed, n);
        }
}

/* C2 shared by 3 of 40 hosts that all poll a popular service as well. */
static void test_shared_c2_not_hidden(void **state)
{
    (void)state;
    rng_seed(99);
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    int c2_alerts[3] = {0}, other = 0;
    double t = 0;
    for (int step = 0; step < 600; step++) {
        t += 10;
        for (int h = 0; h < 40; h++) {
            if (step % 30 == h % 30) {
                sw_checkin c = flow_ci((uint32_t)h, 77, 443, t + h * 0.1);
                c.server_name = "update.vendor.example";
                int n = sw_beacon_observe(b, &c, a, 8);
                other += n;
            }
        }
        if (step % 6 == 0) {
            for (int h = 0; h < 3; h++) {
                sw_checkin c = flow_ci((uint32_t)h, 200, 443, t + 1 + 3 * rng_u());
                c.server_name = "cdn-c2.example.net";
                int n = sw_beacon_observe(b, &c, a, 8);
                for (int k = 0; k < n; k++) {
                    assert_string_equal(a[k].server_name, "cdn-c2.example.net");
                    c2_alerts[h]++;
                }
            }
        }
    }
    for (int h = 0; h < 3; h++)
        assert_true(c2_alerts[h] >= 1);
    assert_int_equal(other, 0);
    const sw_ctr_group g = sw_beacon_counters(b);
    assert_true(g.vals[SW_BEACON_CTR_SUPPRESSED_PREV] > 0);
    sw_beacon_free(b);
}

/* Rotating addresses under one SNI: reported by name with the latest dst. */
static void test_rotating_ips(void **state)
{
    (void)state;
    rng_seed(5);
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    int alerts = 0;
    double t = 0;
    for (int i = 0; i < 20 && !alerts; i++) {
        sw_checkin c = flow_ci(1, (uint32_t)(i % 7), 443, t);
        c.server_name = "Front.Example.COM";
        int n = sw_beacon_observe(b, &c, a, 8);
        for (int k = 0; k < n; k++) {
            alerts++;
            assert_int_equal(a[k].sig, SW_BSIG_NAME);
            assert_int_equal(a[k].signature_id, 9100002);
            assert_string_equal(a[k].server_name, "front.example.com");
            assert_memory_equal(a[k].dst, c.dst, 4);
            assert_true(a[k].count <= 10);
        }
        t += 120 * (1 - 0.3 * rng_u());
    }
    assert_int_equal(alerts, 1);
    sw_beacon_free(b);
}

/* ---- DNS ---------------------------------------------------------------- */

static sw_checkin dns_ci(uint32_t src, double t, const char *qname, uint16_t qtype)
{
    sw_checkin c = flow_ci(src, 53, 53, t);
    c.kind = SW_CHECKIN_DNS_QUERY;
    c.proto = 17;
    c.qname = qname;
    c.qtype = qtype;
    return c;
}

static void test_dns_same_name(void **state)
{
    (void)state;
    rng_seed(11);
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    int alerts = 0;
    double t = 0;
    for (int i = 0; i < 30; i++) {
        sw_checkin c = dns_ci(2, t, "ping.c2-domain.xyz.", 1);
        int n = sw_beacon_observe(b, &c, a, 8);
        for (int k = 0; k < n; k++) {
            alerts++;
            assert_int_equal(a[k].sig, SW_BSIG_DNS_NAME);
            assert_true(a[k].is_dns);
            assert_string_equal(a[k].rrname, "ping.c2-domain.xyz");
            assert_true(a[k].count <= 10);
            assert_true(fabs(a[k].period_s - 60) < 3);
        }
        t += 60 * (1 + 0.1 * (2 * rng_u() - 1));
    }
    assert_int_equal(alerts, 1);
    sw_beacon_free(b);
}

static void test_dns_tunnel_random_labels(void **state)
{
    (void)state;
    rng_seed(12);
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[16];
    int beacon = 0, entropy = 0, rrtype = 0, unique = 0;
    double t = 0;
    for (int i = 0; i < 60; i++) {
        char q[128];
        int p = 0;
        for (int k = 0; k < 40; k++)
            q[p++] = "0123456789abcdef"[rng_u64() & 15];
        q[p] = '\0';
        strcat(q, ".t.tunnel-dom.com");
        sw_checkin c = dns_ci(3, t, q, (uint16_t)(i % 2 ? 16 : 10));
        int n = sw_beacon_observe(b, &c, a, 16);
        for (int k = 0; k < n; k++) {
            assert_string_equal(a[k].rrname, "tunnel-dom.com");
            if (a[k].sig == SW_BSIG_DNS_DOMAIN) {
                beacon++;
                assert_true(a[k].count <= 10);
                assert_true(fabs(a[k].period_s - 10) < 1.0);
            }
            entropy += a[k].sig == SW_BSIG_TUNNEL_ENTROPY;
            rrtype += a[k].sig == SW_BSIG_TUNNEL_RRTYPE;
            unique += a[k].sig == SW_BSIG_TUNNEL_UNIQUE;
        }
        t += 10 * (1 + 0.3 * (2 * rng_u() - 1));
    }
    assert_int_equal(beacon, 1);
    assert_int_equal(entropy, 1);
    assert_int_equal(rrtype, 1);
    assert_int_equal(unique, 1);
    sw_beacon_free(b);
}

static void test_dga(void **state)
{
    (void)state;
    rng_seed(13);
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    int dga = 0, other = 0;
    static const char *benign[] = {"wikipedia.org", "github.com", "stackoverflow.com", "nytimes.com",
                                   "microsoft.com", "cloudflare.com", "debian.org", "bbc.co.uk",
                                   "openstreetmap.org", "mozilla.org", "apple.com", "amazon.com"};
    for (int i = 0; i < 12; i++) {
        sw_checkin c = dns_ci(4, i * 3.0, benign[i], 1);
        other += sw_beacon_observe(b, &c, a, 8);
    }
    assert_int_equal(other, 0);
    for (int i = 0; i < 12; i++) {
        char q[64];
        int p = 0;
        for (int k = 0; k < 14; k++)
            q[p++] = "bcdfghjklmnpqrstvwxz"[rng_u64() % 20];
        q[p] = '\0';
        strcat(q, i % 2 ? ".com" : ".net");
        sw_checkin c = dns_ci(4, 100 + i * 0.5, q, 1);
        int n = sw_beacon_observe(b, &c, a, 8);
        for (int k = 0; k < n; k++)
            dga += a[k].sig == SW_BSIG_DGA;
    }
    assert_int_equal(dga, 1);
    sw_beacon_free(b);
}

static void test_lexical(void **state)
{
    (void)state;
    /* label from ndpi-dns_exfiltration.pcap (dnscat2-style) */
    const char *x = "3a8e01b0c4e5d39f5c71ea85f1d2c4a27bd63e";
    assert_true(sw_dns_sub_encoded(x, strlen(x)));
    assert_false(sw_dns_sub_encoded("www", 3));
    assert_false(sw_dns_sub_encoded("mail.internal.accounts", 22));
    assert_false(sw_dns_label_dga("wikipedia", 9));
    assert_false(sw_dns_label_dga("stackoverflow", 13));
    assert_true(sw_dns_label_dga("xkqjzvbwtrpl", 12));
    assert_true(fabs(sw_dns_entropy("abcd", 4) - 2.0) < 1e-9);
}

/* ---- engineering properties -------------------------------------------- */

static void test_eviction_counted(void **state)
{
    (void)state;
    sw_beacon_config cfg = base_cfg();
    cfg.memcap = 64 * 1024;
    cfg.shards = 4;
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    for (uint32_t k = 0; k < 5000; k++) {
        sw_checkin c = flow_ci(k, k, 443, k * 0.01);
        sw_beacon_observe(b, &c, a, 8);
    }
    sw_ctr_group g = sw_beacon_counters(b);
    uint64_t cap = g.vals[SW_BEACON_CTR_KEYS_CAPACITY];
    assert_true(cap > 0 && cap < 5000);
    /* shards fill unevenly: eviction starts in the fullest one first;
     * destinations ending in .255 are skipped as broadcast */
    uint64_t active = g.vals[SW_BEACON_CTR_KEYS_ACTIVE];
    uint64_t seen = 5000 - g.vals[SW_BEACON_CTR_SKIP_MCAST];
    assert_true(active <= cap && active > cap * 3 / 4);
    assert_int_equal(g.vals[SW_BEACON_CTR_EVICTED], seen - active);
    assert_string_equal(g.names[SW_BEACON_CTR_EVICTED], "spanwatch.beacon.keys_evicted");
    assert_true(sw_beacon_bytes_per_key() <= 200);
    sw_beacon_free(b);
}

/* A mixed workload: several beacons and noise across 24 hosts. */
typedef struct ev {
    sw_checkin c;
    char name[64];
} ev;

static int build_workload(ev *evs, int max)
{
    rng_seed(4242);
    int n = 0;
    for (int h = 0; h < 24 && n < max; h++) {
        double t = rng_u() * 30;
        int pat = h % 5;
        for (int i = 0; i < 40 && n < max; i++) {
            ev *e = &evs[n++];
            e->c = flow_ci((uint32_t)h, (uint32_t)(h % 4), 443, t);
            e->c.flow_id = (uint64_t)n;
            if (pat == 1) {
                snprintf(e->name, sizeof(e->name), "c2-%d.example.net", h % 3);
                e->c.server_name = e->name;
            } else if (pat == 2) {
                snprintf(e->name, sizeof(e->name), "beacon%d.example.org", h);
                e->c = (sw_checkin){0};
                e->c = dns_ci((uint32_t)h, t, NULL, 1);
                e->c.qname = e->name;
            }
            t += pat == 3 ? exp(log(30.0) + 1.5 * rng_norm()) : 45 + 30 * rng_u();
        }
    }
    return n;
}

static int cmp_ev(const void *a, const void *b)
{
    const ev *x = a, *y = b;
    return (x->c.ts_us > y->c.ts_us) - (x->c.ts_us < y->c.ts_us);
}

typedef struct akey {
    uint8_t src[4];
    uint32_t sid, count;
    double period;
} akey;

static int cmp_akey(const void *a, const void *b) { return memcmp(a, b, sizeof(akey)); }

static int run_workload(ev *evs, int n, akey *out, int maxout)
{
    sw_beacon_config cfg = base_cfg();
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[16];
    int na = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].c.server_name)
            evs[i].c.server_name = evs[i].name;
        if (evs[i].c.qname)
            evs[i].c.qname = evs[i].name;
        int k = sw_beacon_observe(b, &evs[i].c, a, 16);
        for (int j = 0; j < k && na < maxout; j++) {
            memset(&out[na], 0, sizeof(akey));
            memcpy(out[na].src, a[j].src, 4);
            out[na].sid = a[j].signature_id;
            out[na].count = a[j].count;
            out[na].period = a[j].period_s;
            na++;
        }
    }
    int k;
    while ((k = sw_beacon_flush(b, a, 16)) > 0)
        for (int j = 0; j < k && na < maxout; j++) {
            memset(&out[na], 0, sizeof(akey));
            memcpy(out[na].src, a[j].src, 4);
            out[na].sid = a[j].signature_id;
            out[na].count = a[j].count;
            out[na].period = a[j].period_s;
            na++;
        }
    sw_beacon_free(b);
    qsort(out, (size_t)na, sizeof(akey), cmp_akey);
    return na;
}

static void test_out_of_order_same_result(void **state)
{
    (void)state;
    static ev evs[2000], shuf[2000];
    static akey r1[256], r2[256];
    int n = build_workload(evs, 2000);
    qsort(evs, (size_t)n, sizeof(ev), cmp_ev);
    int n1 = run_workload(evs, n, r1, 256);
    assert_true(n1 >= 10);
    /* displace each check-in by up to 3 s (< reorder window of 5 s) */
    memcpy(shuf, evs, sizeof(ev) * (size_t)n);
    uint64_t *key = calloc((size_t)n, sizeof(uint64_t));
    for (int i = 0; i < n; i++)
        key[i] = shuf[i].c.ts_us + (uint64_t)(rng_u() * 3e6);
    for (int i = 1; i < n; i++) { /* insertion sort by displaced key */
        ev t = shuf[i];
        uint64_t kk = key[i];
        int j = i - 1;
        while (j >= 0 && key[j] > kk) {
            shuf[j + 1] = shuf[j];
            key[j + 1] = key[j];
            j--;
        }
        shuf[j + 1] = t;
        key[j + 1] = kk;
    }
    free(key);
    int moved = 0;
    for (int i = 0; i < n; i++)
        moved += shuf[i].c.ts_us != evs[i].c.ts_us;
    assert_true(moved > 0);
    int n2 = run_workload(shuf, n, r2, 256);
    assert_int_equal(n1, n2);
    assert_memory_equal(r1, r2, sizeof(akey) * (size_t)n1);
}

static pthread_barrier_t thr_barrier;

typedef struct thr_arg {
    sw_beacon *b;
    ev *evs;
    int n, tid, nthr;
    akey *out;
    int nout, maxout;
} thr_arg;

/* Workers advance through packet time together, as they do behind one
 * capture: each handles its share of a 2 s window, then all meet. Within a
 * window the order between threads is arbitrary. */
static void *thr_main(void *p)
{
    thr_arg *t = p;
    sw_beacon_alert a[16];
    uint64_t w0 = t->evs[0].c.ts_us, wend = t->evs[t->n - 1].c.ts_us;
    int i = 0;
    for (uint64_t w = w0; w <= wend; w += 2000000) {
        for (; i < t->n && t->evs[i].c.ts_us < w + 2000000; i++) {
            /* a host's check-ins land on different workers */
            if ((uint64_t)i % (uint64_t)t->nthr != (uint64_t)t->tid)
                continue;
            int k = sw_beacon_observe(t->b, &t->evs[i].c, a, 16);
            for (int j = 0; j < k && t->nout < t->maxout; j++) {
                akey *o = &t->out[t->nout++];
                memset(o, 0, sizeof(*o));
                memcpy(o->src, a[j].src, 4);
                o->sid = a[j].signature_id;
                o->count = a[j].count;
                o->period = a[j].period_s;
            }
        }
        pthread_barrier_wait(&thr_barrier);
    }
    return NULL;
}

static void test_threads_same_result(void **state)
{
    (void)state;
    static ev evs[2000];
    static akey r1[256], rt[4][256], all[1024];
    int n = build_workload(evs, 2000);
    qsort(evs, (size_t)n, sizeof(ev), cmp_ev);
    int n1 = run_workload(evs, n, r1, 256);
    for (int nthr = 2; nthr <= 4; nthr++) {
        sw_beacon_config cfg = base_cfg();
        sw_beacon *b = mk(&cfg);
        pthread_t th[4];
        thr_arg args[4];
        pthread_barrier_init(&thr_barrier, NULL, (unsigned)nthr);
        for (int i = 0; i < nthr; i++) {
            args[i] = (thr_arg){b, evs, n, i, nthr, rt[i], 0, 256};
            pthread_create(&th[i], NULL, thr_main, &args[i]);
        }
        int na = 0;
        for (int i = 0; i < nthr; i++) {
            pthread_join(th[i], NULL);
            memcpy(all + na, rt[i], sizeof(akey) * (size_t)args[i].nout);
            na += args[i].nout;
        }
        pthread_barrier_destroy(&thr_barrier);
        sw_beacon_alert a[16];
        int k;
        while ((k = sw_beacon_flush(b, a, 16)) > 0)
            for (int j = 0; j < k; j++) {
                memset(&all[na], 0, sizeof(akey));
                memcpy(all[na].src, a[j].src, 4);
                all[na].sid = a[j].signature_id;
                all[na].count = a[j].count;
                all[na].period = a[j].period_s;
                na++;
            }
        sw_beacon_free(b);
        qsort(all, (size_t)na, sizeof(akey), cmp_akey);
        assert_int_equal(na, n1);
        assert_memory_equal(all, r1, sizeof(akey) * (size_t)n1);
    }
}

static void test_eve_object(void **state)
{
    (void)state;
    sw_beacon_alert a;
    memset(&a, 0, sizeof(a));
    a.is_dns = false;
    snprintf(a.server_name, sizeof(a.server_name), "c2.example.com");
    a.period_s = 60.5;
    a.jitter = 0.25;
    a.count = 8;
    a.score = 0.75;
    a.first_seen_us = T0;
    a.last_seen_us = T0 + 420000000ull;
    a.n_intervals = 2;
    a.intervals_s[0] = 60.0;
    a.intervals_s[1] = 61.0;
    sw_json j;
    swj_init(&j);
    swj_reset(&j);
    sw_eve_beacon(&j, &a);
    size_t n = swj_finish(&j);
    assert_true(n > 0);
    assert_non_null(strstr(j.buf, "\"beacon\":{\"kind\":\"flow\",\"period\":60.5"));
    assert_non_null(strstr(j.buf, "\"server_name\":\"c2.example.com\""));
    assert_non_null(strstr(j.buf, "\"first_seen\":\"2023-11-14T22:13:20.000000+0000\""));
    assert_non_null(strstr(j.buf, "\"intervals\":[60"));
    assert_null(strstr(j.buf, "rrname"));
    swj_free(&j);
}

static void test_config_allowlist(void **state)
{
    (void)state;
    sw_beacon_config cfg = base_cfg();
    char err[256];
    assert_int_equal(sw_beacon_allow_name(&cfg, "*.Example.COM", err, sizeof(err)), 0);
    assert_int_equal(sw_beacon_allow_cidr(&cfg, "93.0.0.0/16", err, sizeof(err)), 0);
    assert_int_equal(sw_beacon_allow_cidr(&cfg, "93.0.0.0/99", err, sizeof(err)), -1);
    assert_non_null(strstr(err, "beacon.allowlist.cidrs"));
    sw_beacon *b = mk(&cfg);
    sw_beacon_alert a[8];
    int alerts = 0;
    for (int i = 0; i < 30; i++) {
        sw_checkin c = flow_ci(1, 1, 443, 60.0 * i); /* 93.0.0.1: allowlisted */
        alerts += sw_beacon_observe(b, &c, a, 8);
        c = flow_ci(1, 0x010000, 443, 60.0 * i + 5); /* 93.1.0.0: by name */
        c.server_name = "api.example.com";
        alerts += sw_beacon_observe(b, &c, a, 8);
    }
    assert_int_equal(alerts, 0);
    assert_true(sw_beacon_counters(b).vals[SW_BEACON_CTR_SKIP_ALLOW] == 60);
    sw_beacon_free(b);
}

/* ---- real-capture regressions (shared/pcaps/c2) -------------------------- */

static int count_sig(sw_beacon *b, sw_checkin *c, sw_beacon_sig sig, int *total)
{
    sw_beacon_alert a[8];
    int n = sw_beacon_observe(b, c, a, 8), k = 0;
    for (int i = 0; i < n; i++)
        k += a[i].sig == sig;
    if (total)
        *total += n;
    return k;
}

/* Names below the zone taken from slips-test-cc-capture-2.pcap. */
static void test_dns_addr_names(void **state)
{
    (void)state;
    static const char *const yes[] = {"247.217.90.189.zen", "94.91.124.187.origin.asn", "0.0.0.0",
                                      "1.0.0.127.dbl",
                                      "b.a.9.8.7.6.5.0.4.0.0.0.3.0.0.0.2.0.0.0.1.0.0.0.0.0.0.0.1.2.3.4.zen"};
    static const char *const no[] = {"a1b2c3d4e5f60718", "1.2.3", "256.1.1.1.zen", "01.2.3.4.zen",
                                     "1.2.3.4x.zen", "rdap.db", "9.9.203"};
    for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++)
        assert_true(sw_dns_sub_is_addr(yes[i], strlen(yes[i])));
    for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++)
        assert_false(sw_dns_sub_is_addr(no[i], strlen(no[i])));
}

/* A mail host checking senders against a DNSBL makes many unique names
 * under one domain; it is no tunnel. The control (random hex labels at the
 * same times) is. */
static void test_dnsbl_not_tunnel(void **state)
{
    (void)state;
    for (int control = 0; control < 2; control++) {
        sw_beacon_config c = base_cfg();
        sw_beacon *b = mk(&c);
        rng_seed(77);
        int unique = 0, total = 0;
        double t = 0;
        char name[128];
        for (int i = 0; i < 120; i++) {
            t += rng_exp(3.0) + 0.2;
            if (control)
                snprintf(name, sizeof(name), "%08llx%04x.zen.spamhaus.org", (unsigned long long)(rng_u64() >> 32),
                         (unsigned)(rng_u64() & 0xffff));
            else
                snprintf(name, sizeof(name), "%u.%u.%u.%u.zen.spamhaus.org", (unsigned)(rng_u64() % 256),
                         (unsigned)(rng_u64() % 256), (unsigned)(rng_u64() % 256), (unsigned)(rng_u64() % 223 + 1));
            sw_checkin ci = dns_ci(5, t, name, 1);
            unique += count_sig(b, &ci, SW_BSIG_TUNNEL_UNIQUE, &total);
        }
        assert_int_equal(unique, control ? 1 : 0);
        if (!control)
            assert_int_equal(total, 0);
        sw_beacon_free(b);
    }
}

/* LLMNR: the sandbox hosts of the corelight captures ask ff02::1:3 for
 * "isatap" every few seconds and "User-PC" (ANY). Neither is a DNS beacon
 * nor a tunnel; the same timing for a real name over unicast DNS is. */
static void test_llmnr_mdns_skipped(void **state)
{
    (void)state;
    for (int control = 0; control < 2; control++) {
        sw_beacon_config c = base_cfg();
        sw_beacon *b = mk(&c);
        int total = 0;
        for (int i = 0; i < 40; i++) {
            double t = i * 10.0;
            sw_checkin ci = dns_ci(9, t, control ? "isatap.corp-example.com" : (i & 1 ? "isatap" : "User-PC"), 1);
            if (!control) {
                ci.ip_version = 6;
                static const uint8_t ff02[16] = {0xff, 0x02, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01};
                memcpy(ci.dst, ff02, 16);
                ci.dst[13] = 1, ci.dst[15] = 3;
                ci.src[0] = 0xfe, ci.src[1] = 0x80;
                ci.dport = 5355;
                ci.qtype = i & 1 ? 1 : 255;
            }
            count_sig(b, &ci, SW_BSIG_DNS_NAME, &total);
        }
        sw_beacon_alert a[8];
        int n;
        while ((n = sw_beacon_flush(b, a, 8)) > 0)
            total += n;
        sw_ctr_group g = sw_beacon_counters(b);
        if (control) {
            assert_true(total >= 1);
        } else {
            assert_int_equal(total, 0);
            assert_int_equal(g.vals[SW_BEACON_CTR_SKIP_MCAST], 40);
        }
        sw_beacon_free(b);
    }
    /* unicast single-label names are local resolution too */
    sw_beacon_config c = base_cfg();
    sw_beacon *b = mk(&c);
    int total = 0;
    for (int i = 0; i < 40; i++) {
        sw_checkin ci = dns_ci(9, i * 10.0, "wpad", 1);
        count_sig(b, &ci, SW_BSIG_DNS_NAME, &total);
    }
    assert_int_equal(total, 0);
    assert_int_equal(sw_beacon_counters(b).vals[SW_BEACON_CTR_SKIP_LOCAL], 40);
    sw_beacon_free(b);
}

/* The smallest number of check-ins that alerts leaves the decisive one in
 * the reorder buffer until flush: the flush alert must still name the
 * server / the queried name. */
static void test_flush_alert_named(void **state)
{
    (void)state;
    for (int dns = 0; dns < 2; dns++) {
        int found_at = 0;
        for (int k = 6; k <= 14 && !found_at; k++) {
            sw_beacon_config c = base_cfg();
            sw_beacon *b = mk(&c);
            int live = 0;
            for (int i = 0; i < k; i++) {
                sw_checkin ci = dns ? dns_ci(3, i * 60.0, "update.c2-example.net", 1)
                                    : flow_ci(3, 7, 443, i * 60.0);
                if (!dns)
                    ci.server_name = "C2.Example.NET";
                sw_beacon_alert a[8];
                live += sw_beacon_observe(b, &ci, a, 8);
            }
            sw_beacon_alert a[8];
            int n, flushed = 0;
            while ((n = sw_beacon_flush(b, a, 8)) > 0) {
                for (int i = 0; i < n; i++) {
                    if (a[i].sig > SW_BSIG_DNS_DOMAIN)
                        continue;
                    flushed++;
                    if (dns) {
                        assert_true(a[i].is_dns);
                        assert_string_equal(a[i].rrname, "update.c2-example.net");
                    } else {
                        assert_string_equal(a[i].server_name, "c2.example.net");
                    }
                    assert_int_equal((int)llround(a[i].period_s), 60);
                }
            }
            if (live == 0 && flushed > 0)
                found_at = k;
            else
                assert_int_equal(live + flushed, 0); /* no alert yet with fewer */
            sw_ctr_group g = sw_beacon_counters(b);
            assert_int_equal(g.vals[SW_BEACON_CTR_FLUSH_UNNAMED], 0);
            if (found_at)
                assert_true(g.vals[SW_BEACON_CTR_NAMES_STORED] >= 1);
            sw_beacon_free(b);
        }
        assert_true(found_at >= 6);
    }
}

/* With one name slot per shard, a flush alert whose name was pushed out is
 * counted, not written without its name. */
static void test_flush_unnamed_counted(void **state)
{
    (void)state;
    sw_beacon_config c = base_cfg();
    c.shards = 1;
    c.name_slots = 1;
    sw_beacon *b = mk(&c);
    static const char *const names[] = {"a.c2-one.net", "b.c2-two.net", "c.c2-three.net", "d.c2-four.net"};
    int live = 0;
    for (int i = 0; i < 7; i++) {
        for (int h = 0; h < 4; h++) {
            sw_checkin ci = flow_ci(20 + h, 7 + h, 443, i * 60.0 + h);
            ci.server_name = names[h];
            sw_beacon_alert a[8];
            live += sw_beacon_observe(b, &ci, a, 8);
        }
    }
    sw_beacon_alert a[8];
    int n, named = 0;
    while ((n = sw_beacon_flush(b, a, 8)) > 0)
        for (int i = 0; i < n; i++)
            named += a[i].server_name[0] != '\0';
    sw_ctr_group g = sw_beacon_counters(b);
    /* every key is one check-in from alerting at flush; one slot holds one name */
    assert_int_equal(live, 0);
    assert_int_equal(named, 1);
    assert_int_equal(g.vals[SW_BEACON_CTR_FLUSH_UNNAMED], 3);
    assert_true(g.vals[SW_BEACON_CTR_NAMES_REPLACED] >= 3);
    sw_beacon_free(b);
}

/* Check-in times of the pings on ONE long-lived connection, from the real
 * captures (tshark: client payload bursts): STRRAT every 5 s, AsyncRAT's
 * 74-byte keep-alive every 13.5 s, Merlin over QUIC every 15 s. Fed as
 * requests they make a flow beacon with the right period: what the pipeline
 * gets once it reports such requests. */
static void test_long_lived_real_times(void **state)
{
    (void)state;
    static const double strrat[] = {0.616, 7.324, 12.324, 17.325, 22.327, 27.327, 32.327, 37.327, 42.328,
                                    47.330, 52.330, 57.330, 62.330, 67.331, 72.333};
    static const double asyncrat[] = {46.4, 59.9, 73.5, 87.0, 100.5, 114.1, 127.6, 141.1, 154.7, 168.2,
                                      181.7, 195.3, 208.8, 222.3, 235.8};
    static const double *const sets[2] = {strrat, asyncrat};
    static const double want[2] = {5.0, 13.5};
    for (int s = 0; s < 2; s++) {
        sw_beacon_config c = base_cfg();
        sw_beacon *b = mk(&c);
        result r = {0};
        for (int i = 0; i < 15; i++) {
            sw_checkin ci = flow_ci(11, 40, s ? 4041 : 8219, sets[s][i]);
            ci.kind = i ? SW_CHECKIN_REQUEST : SW_CHECKIN_FLOW_START;
            feed(b, &ci, &r);
        }
        drain(b, &r);
        assert_int_equal(r.alerts, 1);
        assert_int_equal(r.first.sig, SW_BSIG_FLOW);
        assert_true(fabs(r.first_period - want[s]) <= 0.05 * want[s]);
        assert_true(r.first_count <= 10);
        sw_beacon_free(b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_positive_patterns),
        cmocka_unit_test(test_realert_once_per_hour),
        cmocka_unit_test(test_negative_patterns),
        cmocka_unit_test(test_shared_c2_not_hidden),
        cmocka_unit_test(test_rotating_ips),
        cmocka_unit_test(test_dns_same_name),
        cmocka_unit_test(test_dns_tunnel_random_labels),
        cmocka_unit_test(test_dga),
        cmocka_unit_test(test_lexical),
        cmocka_unit_test(test_eviction_counted),
        cmocka_unit_test(test_out_of_order_same_result),
        cmocka_unit_test(test_threads_same_result),
        cmocka_unit_test(test_eve_object),
        cmocka_unit_test(test_config_allowlist),
        cmocka_unit_test(test_dns_addr_names),
        cmocka_unit_test(test_dnsbl_not_tunnel),
        cmocka_unit_test(test_llmnr_mdns_skipped),
        cmocka_unit_test(test_flush_alert_named),
        cmocka_unit_test(test_flush_unnamed_counted),
        cmocka_unit_test(test_long_lived_real_times),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
