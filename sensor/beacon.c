/* Beacon tracker: see beacon.h for the model.
 *
 * Scoring (sw_beacon_score_intervals): a beacon is a process whose intervals
 * fill one window [lo,hi] (hi <= 3 lo: the sleep and its bounded jitter) or
 * its small multiples (missed beats). A scan over the windows spanned by
 * pairs of intervals asks how unlikely that filling is for a memoryless
 * source with the same median (shifted by the burst dead time); the
 * evidence is -log10 of the binomial tail, paying for every extra window a
 * fit with missed beats opens and for the number of windows tried. Low
 * variance is rewarded only through it, so a slow drift or a geometric
 * back-off (intervals that never repeat) earns nothing. */
#include "sensor/beacon.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <libpsl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/dnstunnel.h"

enum { K_FLOW = 1, K_NAME, K_QNAME, K_DOMAIN, K_HOST };

#define NPEND 3
#define NSIZES 4
#define KMAX 3
#define SEARCH_COST 0.25 /* share of the Bonferroni term charged */
#define ARMED 0x80 /* in bentry.tunnel_alerted: passed the last evaluation */
#define PREV_WAYS 4
#define HOST_REGS 256

/* One tracker serves every worker, so its counters have several writers:
 * counters.h's SW_CTR_INC (load + store, one writer) loses increments
 * here. A locked add costs a few ns next to a shard lock. */
#define BCTR_ADD(b, id, n) __atomic_fetch_add(&(b)->ctr[id], (uint64_t)(n), __ATOMIC_RELAXED)
#define BCTR_INC(b, id) BCTR_ADD(b, id, 1)

/* 196 bytes with its bucket: the budget is 200 (bench/bench_beacon.c). */
typedef struct bentry {
    uint64_t id; /* 0 = free */
    uint64_t base_us;
    uint64_t last_alert_us; /* beacon alerts */
    uint64_t uniq_bits;     /* linear counter of names (domain keys) */
    uint32_t hnext, lru_prev, lru_next;
    uint32_t first_ms, last_ms, prev_ms, wm_ms, count;
    uint32_t pend_ms[NPEND];
    uint32_t tunnel_alert_s; /* 1 + seconds after base_us; 0 = never */
    uint16_t iv[SW_BEACON_MAX_INTERVALS];
    uint16_t sz[NSIZES];
    uint8_t src[16], dst[16];
    uint16_t dport, n_q, n_rand, n_txt, n_nullany, n_enc;
    uint8_t proto, ipver, kind, iv_head, iv_n, sz_head, sz_n, npend;
    uint8_t tunnel_alerted; /* bitmask of tunnel signals raised */
} bentry;

typedef struct shard {
    pthread_mutex_t mu;
    bentry *e; /* e[0] unused: index 0 is the nil link */
    uint32_t cap, used;
    uint32_t *buckets;
    uint32_t nbuckets;
    uint32_t lru_head, lru_tail; /* head = most recent */
    struct name_slot *names;     /* direct-mapped by key id */
    uint32_t nnames;             /* power of two */
} shard;

typedef struct name_slot {
    uint64_t id;
    char name[SW_BEACON_NAME_MAX];
} name_slot;

typedef struct prev_set {
    uint64_t dh[PREV_WAYS];
    uint64_t bits[PREV_WAYS];
} prev_set;

struct sw_beacon {
    sw_beacon_config cfg;
    uint32_t nshards;
    shard *sh;
    prev_set *prev;
    uint32_t nprev; /* sets, power of two */
    pthread_mutex_t prev_mu[64];
    uint8_t host_regs[HOST_REGS];
    psl_ctx_t *psl;
    uint64_t ctr[SW_BEACON_CTR_COUNT];
    uint32_t flush_shard, flush_idx;
};

static const char *const ctr_names[] = {
#define SW_BEACON_X(id, path) path,
    SW_BEACON_COUNTERS(SW_BEACON_X)
#undef SW_BEACON_X
};

/* ---- signatures ---------------------------------------------------- */

static const struct {
    uint32_t sid;
    const char *msg;
    int sev;
} sigs[SW_BSIG_COUNT] = {
    [SW_BSIG_FLOW] = {9100001, "SPANWATCH BEACON periodic check-ins to one address", 2},
    [SW_BSIG_NAME] = {9100002, "SPANWATCH BEACON periodic check-ins to one TLS/HTTP server name", 2},
    [SW_BSIG_DNS_NAME] = {9100003, "SPANWATCH BEACON periodic DNS queries for one name", 2},
    [SW_BSIG_DNS_DOMAIN] = {9100004, "SPANWATCH BEACON periodic DNS queries for fresh names under one domain", 2},
    [SW_BSIG_TUNNEL_ENTROPY] = {9100010, "SPANWATCH DNS TUNNEL long high-entropy labels under one domain", 2},
    [SW_BSIG_TUNNEL_UNIQUE] = {9100011, "SPANWATCH DNS TUNNEL many unique random names under one domain from one host", 2},
    [SW_BSIG_TUNNEL_RRTYPE] = {9100012, "SPANWATCH DNS TUNNEL NULL/ANY or TXT-heavy queries to one domain", 2},
    [SW_BSIG_DGA] = {9100013, "SPANWATCH DNS DGA many random-looking domains queried by one host", 2},
};

uint32_t sw_beacon_sig_sid(sw_beacon_sig s) { return s < SW_BSIG_COUNT ? sigs[s].sid : 0; }
const char *sw_beacon_sig_msg(sw_beacon_sig s) { return s < SW_BSIG_COUNT ? sigs[s].msg : ""; }
int sw_beacon_sig_severity(sw_beacon_sig s) { return s < SW_BSIG_COUNT ? sigs[s].sev : 3; }
const char *sw_beacon_sig_category(sw_beacon_sig s)
{
    return s <= SW_BSIG_DNS_DOMAIN ? "Command and Control" : "A Network Trojan was detected";
}

/* ---- config --------------------------------------------------------- */

void sw_beacon_config_defaults(sw_beacon_config *c)
{
    memset(c, 0, sizeof(*c));
    c->enabled = true;
    c->memcap = 64ull << 20;
    c->shards = 64;
    c->threshold = 0.55;
    c->min_checkins = 6;
    c->realert_us = 3600ull * 1000000;
    c->reorder_window_us = 5ull * 1000000;
    c->min_period_us = 1000000;
    c->max_period_us = 4ull * 3600 * 1000000;
    c->prevalence_min_hosts = 6;
    c->prevalence_min_share = 0.02;
    c->prevalence_slots = 1u << 16;
    c->name_slots = 4096;
    static const uint16_t ports[] = {53, 123, 67, 68, 137, 138, 5353, 5355, 1900};
    for (size_t i = 0; i < sizeof(ports) / sizeof(ports[0]); i++)
        c->exclude_ports[c->n_exclude_ports++] = ports[i];
    c->skip_multicast = true;
    c->tunnel_enabled = true;
    c->tunnel_min_queries = 10;
    c->tunnel_unique_names = 40;
    c->tunnel_txt_queries = 20;
    c->tunnel_nullany_queries = 5;
    c->dga_domains = 8;
    c->psl_file = NULL;
}

static void lower_copy(char *dst, size_t cap, const char *s)
{
    size_t n = 0;
    for (; s[n] && n + 1 < cap; n++)
        dst[n] = (char)tolower((unsigned char)s[n]);
    while (n > 0 && dst[n - 1] == '.')
        n--;
    dst[n] = '\0';
}

int sw_beacon_allow_name(sw_beacon_config *c, const char *name, char *err, size_t errlen)
{
    if (c->n_allow_names >= SW_BEACON_MAX_ALLOW) {
        snprintf(err, errlen, "config: beacon.allowlist.names: more than %d entries", SW_BEACON_MAX_ALLOW);
        return -1;
    }
    if (name[0] == '*' && name[1] == '.')
        name += 2;
    else if (name[0] == '.')
        name++;
    if (!name[0] || strlen(name) >= SW_BEACON_NAME_MAX) {
        snprintf(err, errlen, "config: beacon.allowlist.names: bad name '%s'", name);
        return -1;
    }
    lower_copy(c->allow_names[c->n_allow_names++], SW_BEACON_NAME_MAX, name);
    return 0;
}

int sw_beacon_allow_cidr(sw_beacon_config *c, const char *cidr, char *err, size_t errlen)
{
    char buf[64];
    if (c->n_allow_cidrs >= SW_BEACON_MAX_ALLOW || strlen(cidr) >= sizeof(buf)) {
        snprintf(err, errlen, "config: beacon.allowlist.cidrs: too many entries or too long: '%s'", cidr);
        return -1;
    }
    strcpy(buf, cidr);
    int prefix = -1;
    char *slash = strchr(buf, '/');
    if (slash) {
        *slash = '\0';
        char *end;
        long p = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || p < 0 || p > 128)
            goto bad;
        prefix = (int)p;
    }
    typeof(c->allow_cidrs[0]) *a = &c->allow_cidrs[c->n_allow_cidrs];
    memset(a, 0, sizeof(*a));
    if (inet_pton(AF_INET, buf, a->addr) == 1) {
        a->family = 4;
        if (prefix < 0)
            prefix = 32;
        if (prefix > 32)
            goto bad;
    } else if (inet_pton(AF_INET6, buf, a->addr) == 1) {
        a->family = 6;
        if (prefix < 0)
            prefix = 128;
    } else {
        goto bad;
    }
    a->prefix = prefix;
    c->n_allow_cidrs++;
    return 0;
bad:
    snprintf(err, errlen, "config: beacon.allowlist.cidrs: bad CIDR '%s'", cidr);
    return -1;
}

static int get_u32(const sw_cfg_node *root, const char *path, uint32_t *out, char *err, size_t errlen)
{
    uint64_t v = *out;
    if (sw_cfg_get_u64(root, path, &v, err, errlen) < 0)
        return -1;
    if (v > UINT32_MAX) {
        snprintf(err, errlen, "config: %s: value too large", path);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int sw_beacon_config_load(const sw_cfg_node *root, sw_beacon_config *c, char *err, size_t errlen)
{
    if (sw_cfg_get_bool(root, "beacon.enabled", &c->enabled, err, errlen) < 0 ||
        sw_cfg_get_size(root, "beacon.memcap", &c->memcap, err, errlen) < 0 ||
        get_u32(root, "beacon.shards", &c->shards, err, errlen) < 0 ||
        sw_cfg_get_double(root, "beacon.threshold", &c->threshold, err, errlen) < 0 ||
        get_u32(root, "beacon.min-checkins", &c->min_checkins, err, errlen) < 0 ||
        sw_cfg_get_duration(root, "beacon.realert-interval", &c->realert_us, err, errlen) < 0 ||
        sw_cfg_get_duration(root, "beacon.reorder-window", &c->reorder_window_us, err, errlen) < 0 ||
        sw_cfg_get_duration(root, "beacon.min-period", &c->min_period_us, err, errlen) < 0 ||
        sw_cfg_get_duration(root, "beacon.max-period", &c->max_period_us, err, errlen) < 0 ||
        get_u32(root, "beacon.prevalence.min-hosts", &c->prevalence_min_hosts, err, errlen) < 0 ||
        sw_cfg_get_double(root, "beacon.prevalence.min-share", &c->prevalence_min_share, err, errlen) < 0 ||
        get_u32(root, "beacon.prevalence.slots", &c->prevalence_slots, err, errlen) < 0 ||
        get_u32(root, "beacon.name-slots", &c->name_slots, err, errlen) < 0 ||
        sw_cfg_get_bool(root, "beacon.skip-multicast", &c->skip_multicast, err, errlen) < 0 ||
        sw_cfg_get_bool(root, "beacon.dns-tunnel.enabled", &c->tunnel_enabled, err, errlen) < 0 ||
        get_u32(root, "beacon.dns-tunnel.encoded-queries", &c->tunnel_min_queries, err, errlen) < 0 ||
        get_u32(root, "beacon.dns-tunnel.unique-names", &c->tunnel_unique_names, err, errlen) < 0 ||
        get_u32(root, "beacon.dns-tunnel.txt-queries", &c->tunnel_txt_queries, err, errlen) < 0 ||
        get_u32(root, "beacon.dns-tunnel.null-any-queries", &c->tunnel_nullany_queries, err, errlen) < 0 ||
        get_u32(root, "beacon.dns-tunnel.dga-domains", &c->dga_domains, err, errlen) < 0 ||
        sw_cfg_get_str(root, "beacon.psl-file", &c->psl_file, err, errlen) < 0)
        return -1;
    if (c->threshold < 0.0 || c->threshold > 1.0) {
        snprintf(err, errlen, "config: beacon.threshold: must be within 0..1");
        return -1;
    }
    if (c->min_checkins < 4) {
        snprintf(err, errlen, "config: beacon.min-checkins: must be >= 4");
        return -1;
    }
    if (c->name_slots > (1u << 20)) {
        snprintf(err, errlen, "config: beacon.name-slots: at most 1048576");
        return -1;
    }
    if (c->shards == 0 || (c->shards & (c->shards - 1)) || c->shards > 4096) {
        snprintf(err, errlen, "config: beacon.shards: must be a power of two <= 4096");
        return -1;
    }
    const sw_cfg_node *n = sw_cfg_get(root, "beacon.exclude-ports");
    if (n) {
        if (sw_cfg_type_of(n) != SW_CFG_SEQ || sw_cfg_len(n) > 32) {
            snprintf(err, errlen, "config: beacon.exclude-ports: must be a list of at most 32 ports");
            return -1;
        }
        c->n_exclude_ports = 0;
        for (size_t i = 0; i < sw_cfg_len(n); i++) {
            const char *s = sw_cfg_scalar(sw_cfg_at(n, i));
            char *end;
            long p = s ? strtol(s, &end, 10) : -1;
            if (!s || *end || p < 0 || p > 65535) {
                snprintf(err, errlen, "config: beacon.exclude-ports: bad port '%s'", s ? s : "?");
                return -1;
            }
            c->exclude_ports[c->n_exclude_ports++] = (uint16_t)p;
        }
    }
    static const char *const lists[2] = {"beacon.allowlist.names", "beacon.allowlist.cidrs"};
    for (int l = 0; l < 2; l++) {
        n = sw_cfg_get(root, lists[l]);
        if (!n)
            continue;
        if (sw_cfg_type_of(n) != SW_CFG_SEQ) {
            snprintf(err, errlen, "config: %s: must be a list", lists[l]);
            return -1;
        }
        for (size_t i = 0; i < sw_cfg_len(n); i++) {
            const char *s = sw_cfg_scalar(sw_cfg_at(n, i));
            if (!s) {
                snprintf(err, errlen, "config: %s: entries must be strings", lists[l]);
                return -1;
            }
            if ((l == 0 ? sw_beacon_allow_name(c, s, err, errlen) : sw_beacon_allow_cidr(c, s, err, errlen)) < 0)
                return -1;
        }
    }
    return 0;
}

/* ---- small helpers ----------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ull;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebull;
    x ^= x >> 31;
    return x;
}

static uint64_t hash_bytes(uint64_t h, const void *p, size_t n)
{
    const uint8_t *s = p;
    h ^= 0xcbf29ce484222325ull;
    for (size_t i = 0; i < n; i++) {
        h ^= s[i];
        h *= 0x100000001b3ull;
    }
    return mix64(h);
}

static size_t addr_len(int ipver) { return ipver == 6 ? 16 : 4; }

/* Interval codes: 50 ms steps to 2000 s, then 1 s steps to ~7.6 h. */
static uint16_t iv_enc(uint64_t ms)
{
    if (ms < 2000000)
        return (uint16_t)((ms + 25) / 50);
    uint64_t v = 40000 + (ms - 2000000 + 500) / 1000;
    return v > 65535 ? 65535 : (uint16_t)v;
}

static double iv_dec_s(uint16_t v)
{
    if (v <= 40000)
        return v * 0.05;
    return 2000.0 + (v - 40000);
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_of(const double *v, int n)
{
    double t[64];
    if (n <= 0)
        return 0.0;
    memcpy(t, v, (size_t)n * sizeof(double));
    qsort(t, (size_t)n, sizeof(double), cmp_double);
    return (n & 1) ? t[n / 2] : 0.5 * (t[n / 2 - 1] + t[n / 2]);
}

static double quantile_sorted(const double *t, int n, double q)
{
    double pos = q * (n - 1);
    int i = (int)pos;
    if (i >= n - 1)
        return t[n - 1];
    return t[i] + (pos - i) * (t[i + 1] - t[i]);
}

/* log10 of P[Bin(n,p) >= m]. */
static double log10_binom_tail(int n, double p, int m)
{
    if (m <= 0)
        return 0.0;
    if (p >= 1.0)
        return 0.0;
    double sum = 0.0;
    for (int j = m; j <= n; j++) {
        double lc = lgamma(n + 1.0) - lgamma(j + 1.0) - lgamma(n - j + 1.0);
        sum += exp(lc + j * log(p) + (n - j) * log1p(-p));
    }
    if (sum <= 0.0)
        return -300.0;
    return log10(sum);
}

/* ---- scoring ------------------------------------------------------------ */

#define EVIDENCE_FULL 6.0

/* Mass of [a,b] under an exponential law of rate lam. */
static double exp_mass(double lam, double a, double b)
{
    if (a < 0.0)
        a = 0.0;
    return b > a ? exp(-lam * a) - exp(-lam * b) : 0.0;
}

/* Null mass of the union of the windows k*[lo,hi], k = 1..kmax (they
 * overlap once hi > 2*lo), for an exponential law of rate lam shifted by
 * dead. */
static double windows_mass(double lam, double dead, double lo, double hi, int kmax)
{
    double q = 0.0, top = 0.0;
    for (int k = 1; k <= kmax; k++) {
        double a = k * lo, b = k * hi;
        if (a < top)
            a = top;
        q += exp_mass(lam, a - dead, b - dead);
        if (b > top)
            top = b;
    }
    return q;
}

typedef struct fit {
    int m1, mk, kmax; /* on-beat intervals at k = 1, at k >= 2, largest k */
} fit;

/* Counts the intervals inside k*[lo,hi] for some k <= KMAX. */
static fit fit_window(const double *iv, int n, double lo, double hi)
{
    fit f = {0, 0, 1};
    for (int i = 0; i < n; i++) {
        long k = lround(iv[i] / (0.5 * (lo + hi)));
        if (k < 1)
            k = 1;
        if (k > KMAX || iv[i] < (double)k * lo || iv[i] > (double)k * hi)
            continue;
        if (k == 1) {
            f.m1++;
        } else {
            f.mk++;
            if (k > f.kmax)
                f.kmax = (int)k;
        }
    }
    return f;
}

/* Evidence (-log10 p-value, corrected for the search) that the intervals
 * come from a periodic source rather than a memoryless one.
 *
 * A beacon's sleep is P minus/plus a bounded jitter, so its intervals fill
 * a window [lo,hi] with hi <= 3*lo (Sliver's 60 +- 30 s is the widest),
 * and missed beats land in k*[lo,hi]. Every pair of intervals spans a
 * candidate window (a scan statistic: the window is as tight as the data
 * allow); the intervals inside it, or inside a multiple, are on the beat.
 * The null is an exponential law with the sample median, shifted by the
 * burst dead time; the probability q that one interval lands on the beat
 * is the null mass of the union of the windows actually used, so a fit
 * that needs missed beats pays for every extra window it opens. The
 * evidence is the binomial tail of the on-beat count; the two intervals
 * that define the window are not evidence (n-2 trials, m-2 hits). Beacons
 * keep most intervals on the first beat: a fit with fewer than 60% of
 * them at k=1 or fewer than 75% on any beat is no beacon. The best of
 * n(n-1)/2 windows was picked: the evidence pays part of log10 of that. */
static double evidence_intervals(const double *iv, int n, double *period, double *jitter)
{
    *period = 0.0;
    *jitter = 0.0;
    if (n < 4 || n > 64)
        return 0.0;
    double s[64];
    memcpy(s, iv, (size_t)n * sizeof(double));
    qsort(s, (size_t)n, sizeof(double), cmp_double);
    double med = (n & 1) ? s[n / 2] : 0.5 * (s[n / 2 - 1] + s[n / 2]);
    if (med <= 0.0)
        return 0.0;
    /* Check-ins closer than a quarter of the median are dropped as bursts
     * (commit()), so no interval is shorter than that: the null is an
     * exponential law shifted by that dead time. */
    double dead = 0.25 * med;
    double lam = log(2.0) / (med - dead);
    int need_all = (int)ceil(0.75 * n), need_k1 = (int)ceil(0.6 * n);
    double best = 0.0, blo = 0.0, bhi = 0.0;
    for (int i = 0; i < n; i++) {
        if (s[i] <= 0.0)
            continue;
        for (int j = i + need_k1 - 1; j < n; j++) {
            /* timestamps carry ~50 ms of quantisation and capture noise */
            double lo = s[i] * 0.995 - 0.05, hi = s[j] * 1.005 + 0.05;
            if (hi > 3.0 * lo)
                break;
            fit f = fit_window(iv, n, lo, hi);
            int m = f.m1 + f.mk;
            if (m < need_all || f.m1 < need_k1)
                continue;
            double q = windows_mass(lam, dead, lo, hi, f.kmax);
            if (q > 0.95)
                q = 0.95;
            double e = -log10_binom_tail(n - 2, q, m - 2);
            if (e > best) {
                best = e;
                blo = s[i];
                bhi = s[j];
            }
        }
    }
    if (best <= 0.0)
        return 0.0;
    /* The mid-range of the first-beat window is the efficient centre of
     * the uniform jitter beacons use (its error shrinks as 1/n, the
     * mean's as 1/sqrt(n)). */
    double p = 0.5 * (blo + bhi), ys[64];
    /* The scan window may have left the jitter's edges out as misses: the
     * mid-range is taken over every first-beat interval within +-50%, but
     * no farther from the window than its own width (10% at least), so
     * that one stray interval (a start-up check-in) does not move the
     * period of a tight beacon. */
    double reach = bhi - blo > 0.1 * p ? bhi - blo : 0.1 * p;
    for (int pass = 0; pass < 2; pass++) {
        double lo = 1e300, hi = 0.0;
        for (int i = 0; i < n; i++) {
            if (iv[i] >= 0.5 * p && iv[i] <= 1.5 * p && iv[i] >= blo - reach && iv[i] <= bhi + reach) {
                lo = iv[i] < lo ? iv[i] : lo;
                hi = iv[i] > hi ? iv[i] : hi;
            }
        }
        if (hi > 0.0)
            p = 0.5 * (lo + hi);
    }
    int ny = 0;
    for (int i = 0; i < n; i++) {
        long k = lround(iv[i] / p);
        if (k < 1)
            k = 1;
        if (k <= KMAX)
            ys[ny++] = iv[i] / (double)k;
    }
    qsort(ys, (size_t)ny, sizeof(double), cmp_double);
    *period = p;
    *jitter = ny >= 2 ? (quantile_sorted(ys, ny, 0.75) - quantile_sorted(ys, ny, 0.25)) / p : 0.0;
    best -= log10(0.5 * n * (n - 1)) * SEARCH_COST;
    return best > 0.0 ? best : 0.0;
}

double sw_beacon_score_intervals(const double *iv, int n, double *period, double *jitter)
{
    double e = evidence_intervals(iv, n, period, jitter);
    double s = e / EVIDENCE_FULL;
    return s > 1.0 ? 1.0 : s;
}

/* Regular check-in sizes add evidence (C2 check-ins are generated by one
 * code path); tasking responses only move a minority of samples. */
static double evidence_sizes(const bentry *e)
{
    if (e->sz_n < NSIZES)
        return 0.0;
    double v[NSIZES];
    for (int i = 0; i < NSIZES; i++)
        v[i] = e->sz[i];
    double med = median_of(v, NSIZES);
    if (med <= 0.0)
        return 0.0;
    int close = 0;
    for (int i = 0; i < NSIZES; i++)
        if (fabs(v[i] - med) <= 0.1 * med + 8)
            close++;
    return close == NSIZES ? 1.0 : close >= NSIZES - 1 ? 0.5 : 0.0;
}

/* ---- tables ------------------------------------------------------------- */

size_t sw_beacon_bytes_per_key(void) { return sizeof(bentry) + sizeof(uint32_t); }

sw_beacon *sw_beacon_new(const sw_beacon_config *c, char *err, size_t errlen)
{
    sw_beacon *b = calloc(1, sizeof(*b));
    if (!b) {
        snprintf(err, errlen, "beacon: out of memory");
        return NULL;
    }
    b->cfg = *c;
    b->nshards = c->shards ? c->shards : 1;
    uint64_t keys = c->memcap / sw_beacon_bytes_per_key();
    uint64_t per = keys / b->nshards;
    if (per < 4) {
        snprintf(err, errlen, "config: beacon.memcap: too small (%llu bytes)", (unsigned long long)c->memcap);
        free(b);
        return NULL;
    }
    if (per > 0x7fffffff)
        per = 0x7fffffff;
    b->sh = calloc(b->nshards, sizeof(shard));
    if (!b->sh)
        goto oom;
    for (uint32_t i = 0; i < b->nshards; i++) {
        shard *s = &b->sh[i];
        pthread_mutex_init(&s->mu, NULL);
        s->cap = (uint32_t)per;
        s->nbuckets = 1;
        while (s->nbuckets < s->cap)
            s->nbuckets <<= 1;
        /* one bucket per key at most: the bucket array is part of the
         * per-key budget */
        if (s->nbuckets > s->cap && s->nbuckets > 1)
            s->nbuckets >>= 1;
        s->e = calloc((size_t)s->cap + 1, sizeof(bentry));
        s->buckets = calloc(s->nbuckets, sizeof(uint32_t));
        s->nnames = 1;
        while ((uint64_t)s->nnames * b->nshards < c->name_slots)
            s->nnames <<= 1;
        s->names = calloc(s->nnames, sizeof(name_slot));
        if (!s->e || !s->buckets || !s->names)
            goto oom;
    }
    b->nprev = 1;
    while (b->nprev < c->prevalence_slots / PREV_WAYS)
        b->nprev <<= 1;
    b->prev = calloc(b->nprev, sizeof(prev_set));
    if (!b->prev)
        goto oom;
    for (int i = 0; i < 64; i++)
        pthread_mutex_init(&b->prev_mu[i], NULL);
    b->psl = c->psl_file ? psl_load_file(c->psl_file) : psl_latest(NULL);
    if (!b->psl)
        b->psl = (psl_ctx_t *)psl_builtin();
    if (!b->psl) {
        snprintf(err, errlen, "beacon: cannot load the public suffix list%s%s",
                 c->psl_file ? " from " : "", c->psl_file ? c->psl_file : "");
        sw_beacon_free(b);
        return NULL;
    }
    SW_CTR_SET(b->ctr, SW_BEACON_CTR_KEYS_CAPACITY, per * b->nshards);
    SW_CTR_SET(b->ctr, SW_BEACON_CTR_MEMUSE,
               per * b->nshards * sw_beacon_bytes_per_key() + b->nprev * sizeof(prev_set) +
                   (uint64_t)b->sh[0].nnames * b->nshards * sizeof(name_slot));
    return b;
oom:
    snprintf(err, errlen, "beacon: cannot allocate %llu bytes (beacon.memcap)", (unsigned long long)c->memcap);
    sw_beacon_free(b);
    return NULL;
}

void sw_beacon_free(sw_beacon *b)
{
    if (!b)
        return;
    if (b->sh) {
        for (uint32_t i = 0; i < b->nshards; i++) {
            pthread_mutex_destroy(&b->sh[i].mu);
            free(b->sh[i].e);
            free(b->sh[i].buckets);
            free(b->sh[i].names);
        }
        free(b->sh);
    }
    if (b->psl && b->psl != psl_builtin())
        psl_free(b->psl);
    free(b->prev);
    free(b);
}

sw_ctr_group sw_beacon_counters(const sw_beacon *b)
{
    sw_ctr_group g = {ctr_names, b->ctr, SW_BEACON_CTR_COUNT};
    return g;
}

static void lru_unlink(shard *s, uint32_t i)
{
    bentry *e = &s->e[i];
    if (e->lru_prev)
        s->e[e->lru_prev].lru_next = e->lru_next;
    else
        s->lru_head = e->lru_next;
    if (e->lru_next)
        s->e[e->lru_next].lru_prev = e->lru_prev;
    else
        s->lru_tail = e->lru_prev;
    e->lru_prev = e->lru_next = 0;
}

static void lru_push_head(shard *s, uint32_t i)
{
    bentry *e = &s->e[i];
    e->lru_prev = 0;
    e->lru_next = s->lru_head;
    if (s->lru_head)
        s->e[s->lru_head].lru_prev = i;
    s->lru_head = i;
    if (!s->lru_tail)
        s->lru_tail = i;
}

static uint32_t bucket_of(const shard *s, uint64_t id) { return (uint32_t)(id >> 24) & (s->nbuckets - 1); }

/* Returns the entry for id, creating (and evicting) as needed; *created
 * tells a new key apart. Called with the shard locked. */
static bentry *get_entry(sw_beacon *b, shard *s, uint64_t id, bool *created)
{
    uint32_t bk = bucket_of(s, id);
    for (uint32_t i = s->buckets[bk]; i; i = s->e[i].hnext) {
        if (s->e[i].id == id) {
            lru_unlink(s, i);
            lru_push_head(s, i);
            *created = false;
            return &s->e[i];
        }
    }
    uint32_t i;
    if (s->used < s->cap) {
        i = ++s->used;
        BCTR_INC(b, SW_BEACON_CTR_KEYS_ACTIVE);
    } else {
        i = s->lru_tail;
        lru_unlink(s, i);
        uint32_t ob = bucket_of(s, s->e[i].id);
        uint32_t *pp = &s->buckets[ob];
        while (*pp && *pp != i)
            pp = &s->e[*pp].hnext;
        if (*pp)
            *pp = s->e[i].hnext;
        BCTR_INC(b, SW_BEACON_CTR_EVICTED);
    }
    memset(&s->e[i], 0, sizeof(bentry));
    s->e[i].id = id;
    s->e[i].hnext = s->buckets[bk];
    s->buckets[bk] = i;
    lru_push_head(s, i);
    *created = true;
    return &s->e[i];
}

/* ---- prevalence ---------------------------------------------------------- */

static void host_seen(sw_beacon *b, uint64_t src_h)
{
    uint32_t r = (uint32_t)(src_h & (HOST_REGS - 1));
    uint64_t w = src_h >> 8;
    uint8_t rank = 1;
    while (!(w & 1) && rank < 56) {
        rank++;
        w >>= 1;
    }
    uint8_t cur = __atomic_load_n(&b->host_regs[r], __ATOMIC_RELAXED);
    while (rank > cur &&
           !__atomic_compare_exchange_n(&b->host_regs[r], &cur, rank, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
        ;
}

static double hosts_total(const sw_beacon *b)
{
    double sum = 0.0;
    int zeros = 0;
    for (int i = 0; i < HOST_REGS; i++) {
        uint8_t v = __atomic_load_n(&b->host_regs[i], __ATOMIC_RELAXED);
        sum += ldexp(1.0, -v);
        zeros += v == 0;
    }
    double m = HOST_REGS;
    double est = 0.7213 / (1.0 + 1.079 / m) * m * m / sum;
    if (est <= 2.5 * m && zeros)
        est = m * log(m / zeros);
    return est;
}

static double lincount(uint64_t bits)
{
    int z = 64 - __builtin_popcountll(bits);
    if (z == 0)
        return 64.0 * log(64.0);
    return 64.0 * log(64.0 / z);
}

/* Adds src to the hosts seen for dest; returns the distinct-host estimate. */
static double prev_add(sw_beacon *b, uint64_t dh, uint64_t src_h, bool add)
{
    uint32_t set = (uint32_t)(dh >> 32) & (b->nprev - 1);
    pthread_mutex_t *mu = &b->prev_mu[set & 63];
    prev_set *ps = &b->prev[set];
    double est = 0.0;
    pthread_mutex_lock(mu);
    int w = -1, weakest = 0;
    for (int i = 0; i < PREV_WAYS; i++) {
        if (ps->dh[i] == dh) {
            w = i;
            break;
        }
        if (__builtin_popcountll(ps->bits[i]) < __builtin_popcountll(ps->bits[weakest]))
            weakest = i;
    }
    if (w < 0 && add) {
        /* the least shared destination gives way: popular ones, the ones
         * that suppress, stay */
        w = weakest;
        if (ps->dh[w])
            BCTR_INC(b, SW_BEACON_CTR_PREV_REPLACED);
        ps->dh[w] = dh;
        ps->bits[w] = 0;
    }
    if (w >= 0) {
        if (add)
            ps->bits[w] |= 1ull << (src_h & 63);
        est = lincount(ps->bits[w]);
    }
    pthread_mutex_unlock(mu);
    return est;
}

static bool prevalent(sw_beacon *b, uint64_t dh)
{
    double hosts = prev_add(b, dh, 0, false);
    if (hosts < (double)b->cfg.prevalence_min_hosts - 0.5)
        return false;
    return hosts >= b->cfg.prevalence_min_share * hosts_total(b);
}

/* ---- filters ------------------------------------------------------------- */

static bool name_allowed(const sw_beacon_config *c, const char *name)
{
    size_t n = strlen(name);
    for (int i = 0; i < c->n_allow_names; i++) {
        const char *a = c->allow_names[i];
        size_t m = strlen(a);
        if (n == m && memcmp(name, a, n) == 0)
            return true;
        if (n > m && name[n - m - 1] == '.' && memcmp(name + n - m, a, m) == 0)
            return true;
    }
    return false;
}

static bool cidr_match(const sw_beacon_config *c, int ipver, const uint8_t *a)
{
    for (int i = 0; i < c->n_allow_cidrs; i++) {
        if (c->allow_cidrs[i].family != ipver)
            continue;
        int p = c->allow_cidrs[i].prefix;
        const uint8_t *n = c->allow_cidrs[i].addr;
        int full = p / 8, rem = p % 8;
        if (memcmp(a, n, (size_t)full) != 0)
            continue;
        if (rem && ((a[full] ^ n[full]) & (uint8_t)(0xff << (8 - rem))))
            continue;
        return true;
    }
    return false;
}

static bool is_multicast_or_broadcast(int ipver, const uint8_t *a)
{
    if (ipver == 6)
        return a[0] == 0xff;
    if ((a[0] & 0xf0) == 0xe0)
        return true;
    if (a[0] == 255 && a[1] == 255 && a[2] == 255 && a[3] == 255)
        return true;
    /* directed broadcast of the usual /24 LANs: netmask is unknown here */
    return a[3] == 255;
}

/* ---- per-key update ----------------------------------------------------- */

typedef struct obs_ctx {
    const sw_checkin *c;
    sw_beacon_sig sig;
    const char *server_name;
    const char *rrname;
    uint64_t dest_h; /* prevalence key */
} obs_ctx;

static int ring_get(const bentry *e, double *out)
{
    int n = e->iv_n;
    for (int i = 0; i < n; i++) {
        int idx = (e->iv_head - n + i + SW_BEACON_MAX_INTERVALS) % SW_BEACON_MAX_INTERVALS;
        out[i] = iv_dec_s(e->iv[idx]);
    }
    return n;
}

static void ring_push(bentry *e, uint64_t ms)
{
    e->iv[e->iv_head] = iv_enc(ms);
    e->iv_head = (uint8_t)((e->iv_head + 1) % SW_BEACON_MAX_INTERVALS);
    if (e->iv_n < SW_BEACON_MAX_INTERVALS)
        e->iv_n++;
}

static void fill_alert(sw_beacon_alert *a, const bentry *e, sw_beacon_sig sig, const obs_ctx *cx)
{
    memset(a, 0, sizeof(*a));
    a->sig = sig;
    a->gid = SW_BEACON_GID;
    a->signature_id = sw_beacon_sig_sid(sig);
    a->rev = 1;
    a->signature = sw_beacon_sig_msg(sig);
    a->category = sw_beacon_sig_category(sig);
    a->severity = sw_beacon_sig_severity(sig);
    a->ip_version = e->ipver;
    memcpy(a->src, e->src, 16);
    memcpy(a->dst, e->dst, 16);
    a->dport = e->dport;
    a->proto = e->proto;
    a->is_dns = e->kind == K_QNAME || e->kind == K_DOMAIN || e->kind == K_HOST;
    if (cx && cx->c) {
        a->ts_us = cx->c->ts_us;
        a->flow_id = cx->c->flow_id;
        a->sport = cx->c->sport;
    } else {
        a->ts_us = e->base_us + (uint64_t)e->wm_ms * 1000;
    }
    if (cx && cx->server_name)
        snprintf(a->server_name, sizeof(a->server_name), "%s", cx->server_name);
    if (cx && cx->rrname)
        snprintf(a->rrname, sizeof(a->rrname), "%s", cx->rrname);
    a->count = e->count;
    a->first_seen_us = e->base_us + (uint64_t)e->first_ms * 1000;
    a->last_seen_us = e->base_us + (uint64_t)e->last_ms * 1000;
    a->n_intervals = ring_get(e, a->intervals_s);
}

/* Commits one check-in at t_ms (time order guaranteed by the caller) and
 * evaluates the key. Returns 1 when an alert was written to *out. */
static int commit(sw_beacon *b, bentry *e, uint32_t t_ms, const obs_ctx *cx, sw_beacon_alert *out)
{
    const sw_beacon_config *c = &b->cfg;
    if (e->count == 0) {
        e->first_ms = e->last_ms = e->prev_ms = t_ms;
        e->count = 1;
        return 0;
    }
    uint64_t gap_prev = t_ms - e->prev_ms;
    uint64_t gap = t_ms - e->last_ms;
    e->prev_ms = t_ms;
    e->count++;
    double iv[SW_BEACON_MAX_INTERVALS];
    int n = ring_get(e, iv);
    double med = n >= 4 ? median_of(iv, n) * 1000.0 : 0.0;
    /* Parallel connections and interactive bursts (sleep 0) are not beats:
     * they would flood the ring. A regime that lasts (8 periods) is real
     * though: start over with it. */
    if (gap_prev < 500 || (med > 0 && (double)gap_prev < 0.25 * med)) {
        BCTR_INC(b, SW_BEACON_CTR_BURST);
        if (med > 0 && (double)gap > 8.0 * med && gap_prev >= 500) {
            e->iv_n = 0;
            e->last_ms = t_ms;
        }
        return 0;
    }
    ring_push(e, gap);
    e->last_ms = t_ms;
    if (e->count < c->min_checkins || !cx)
        return 0;
    uint64_t now_us = e->base_us + (uint64_t)t_ms * 1000;
    if (e->last_alert_us && now_us - e->last_alert_us < c->realert_us)
        return 0;
    if (e->kind == K_DOMAIN && lincount(e->uniq_bits) < 0.5 * (e->n_q < 64 ? e->n_q : 64))
        return 0; /* one name repeated: the qname key reports it */
    n = ring_get(e, iv);
    double period, jitter;
    double ev = evidence_intervals(iv, n, &period, &jitter) + evidence_sizes(e);
    /* fresh random-looking labels every time: what tunnels and staged
     * DNS C2 send, independent of the timing evidence */
    if (e->kind == K_DOMAIN && e->n_q >= 4 && 2u * e->n_rand >= e->n_q)
        ev += 1.0;
    double score = ev / EVIDENCE_FULL;
    if (score > 1.0)
        score = 1.0;
    /* A chance cluster of gaps rarely survives the next check-in, a beacon
     * does: the evidence must hold on two consecutive check-ins. */
    if (score < c->threshold) {
        e->tunnel_alerted &= (uint8_t)~ARMED;
        return 0;
    }
    if (!(e->tunnel_alerted & ARMED)) {
        e->tunnel_alerted |= ARMED;
        return 0;
    }
    if (period * 1e6 < (double)c->min_period_us || period * 1e6 > (double)c->max_period_us)
        return 0;
    if (prevalent(b, cx->dest_h)) {
        BCTR_INC(b, SW_BEACON_CTR_SUPPRESSED_PREV);
        e->last_alert_us = now_us; /* do not re-test every check-in */
        return 0;
    }
    e->last_alert_us = now_us;
    fill_alert(out, e, cx->sig, cx);
    out->period_s = period;
    out->jitter = jitter;
    out->score = score;
    BCTR_INC(b, SW_BEACON_CTR_ALERTS);
    return 1;
}

static int emit(sw_beacon *b, sw_beacon_alert *out, int max, int *nout, const sw_beacon_alert *a)
{
    if (*nout < max) {
        if (&out[*nout] != a)
            out[*nout] = *a;
        (*nout)++;
        return 1;
    }
    BCTR_INC(b, SW_BEACON_CTR_ALERTS_DROPPED);
    return 0;
}

/* The base leaves room for observations up to the reorder window older
 * than the first one to arrive. */
static void init_entry(sw_beacon *b, bentry *e, int kind, uint64_t ts_us)
{
    uint64_t back = b->cfg.reorder_window_us + 1000000;
    e->kind = (uint8_t)kind;
    e->base_us = ts_us > back ? ts_us - back : 0;
}

static name_slot *name_slot_of(const shard *s, uint64_t id)
{
    return &s->names[(uint32_t)(id >> 44) & (s->nnames - 1)];
}

/* A key whose pending check-ins may be committed only at flush needs its
 * name then. Only keys that can still alert take a slot: enough check-ins
 * committed and pending for two passing evaluations (one if the last one
 * passed), and no alert within the re-alert interval. Shard locked. */
static void keep_name(sw_beacon *b, shard *s, const bentry *e, const obs_ctx *cx, uint64_t now_us)
{
    const char *name = e->kind == K_NAME ? cx->server_name : cx->rrname;
    if (!name || !name[0] || e->npend == 0 || !s->nnames)
        return;
    uint32_t need = b->cfg.min_checkins + ((e->tunnel_alerted & ARMED) ? 0u : 1u);
    if (e->count + e->npend < need)
        return;
    if (e->last_alert_us && now_us >= e->last_alert_us && now_us - e->last_alert_us < b->cfg.realert_us)
        return;
    name_slot *ns = name_slot_of(s, e->id);
    if (ns->id == e->id)
        return;
    if (ns->id)
        BCTR_INC(b, SW_BEACON_CTR_NAMES_REPLACED);
    BCTR_INC(b, SW_BEACON_CTR_NAMES_STORED);
    ns->id = e->id;
    snprintf(ns->name, sizeof(ns->name), "%s", name);
}

/* Adds one observation to a key: reorder buffer, then commits what the
 * watermark released. */
static void observe_key(sw_beacon *b, uint64_t id, int kind, const obs_ctx *cx, sw_beacon_alert *out, int max,
                        int *nout)
{
    const sw_checkin *c = cx->c;
    shard *s = &b->sh[id & (b->nshards - 1)];
    pthread_mutex_lock(&s->mu);
    bool created;
    bentry *e = get_entry(b, s, id, &created);
    if (created)
        init_entry(b, e, kind, c->ts_us);
    e->ipver = (uint8_t)(c->ip_version == 6 ? 6 : 4);
    memcpy(e->src, c->src, 16);
    memcpy(e->dst, c->dst, 16);
    e->dport = c->dport;
    e->proto = c->proto;
    if (c->ts_us < e->base_us || c->ts_us - e->base_us >= 0xF0000000ull * 1000) {
        BCTR_INC(b, SW_BEACON_CTR_LATE);
        goto out;
    }
    uint32_t t = (uint32_t)((c->ts_us - e->base_us) / 1000);
    /* Behind the last committed check-in (prev_ms; last_ms stays behind it
     * over bursts) is late: committed, t - prev_ms would wrap and the gap
     * to last_ms would enter the ring as a bogus short interval. */
    if (e->count > 0 && t < e->prev_ms) {
        BCTR_INC(b, SW_BEACON_CTR_LATE);
        goto out;
    }
    uint32_t w = (uint32_t)(b->cfg.reorder_window_us / 1000);
    sw_beacon_alert tmp;
    if (e->npend == NPEND) {
        /* buffer full: the oldest of buffer+new goes first */
        uint32_t oldest = e->pend_ms[0];
        if (t < oldest) {
            oldest = t;
            t = e->pend_ms[0];
            memmove(e->pend_ms, e->pend_ms + 1, (NPEND - 1) * sizeof(uint32_t));
            e->npend--;
        } else {
            memmove(e->pend_ms, e->pend_ms + 1, (NPEND - 1) * sizeof(uint32_t));
            e->npend--;
        }
        if (commit(b, e, oldest, cx, &tmp))
            emit(b, out, max, nout, &tmp);
    }
    int pos = e->npend;
    while (pos > 0 && e->pend_ms[pos - 1] > t) {
        e->pend_ms[pos] = e->pend_ms[pos - 1];
        pos--;
    }
    e->pend_ms[pos] = t;
    e->npend++;
    if (t > e->wm_ms)
        e->wm_ms = t;
    while (e->npend > 0 && (uint64_t)e->pend_ms[0] + w <= e->wm_ms) {
        uint32_t ct = e->pend_ms[0];
        memmove(e->pend_ms, e->pend_ms + 1, (NPEND - 1) * sizeof(uint32_t));
        e->npend--;
        if (commit(b, e, ct, cx, &tmp))
            emit(b, out, max, nout, &tmp);
    }
    if (kind != K_FLOW)
        keep_name(b, s, e, cx, c->ts_us);
out:
    pthread_mutex_unlock(&s->mu);
}

static void push_size(bentry *e, uint32_t bytes)
{
    e->sz[e->sz_head] = bytes > 65535 ? 65535 : (uint16_t)bytes;
    e->sz_head = (uint8_t)((e->sz_head + 1) % NSIZES);
    if (e->sz_n < NSIZES)
        e->sz_n++;
}

/* ---- DNS --------------------------------------------------------------- */

static uint64_t key_id(int kind, const sw_checkin *c, const char *name)
{
    uint8_t hdr[2] = {(uint8_t)kind, (uint8_t)c->ip_version};
    uint64_t h = hash_bytes(0, hdr, 2);
    h = hash_bytes(h, c->src, addr_len(c->ip_version));
    if (kind == K_FLOW) {
        uint8_t t[3] = {(uint8_t)(c->dport >> 8), (uint8_t)c->dport, c->proto};
        h = hash_bytes(h, c->dst, addr_len(c->ip_version));
        h = hash_bytes(h, t, 3);
    } else if (name) {
        h = hash_bytes(h, name, strlen(name));
    }
    return h ? h : 1;
}

/* Tunnel counters on the domain key; returns true on the first query of
 * this domain by this host (the DGA counter wants that). */
static bool tunnel_signals(sw_beacon *b, uint64_t id, const obs_ctx *cx, const char *qname, const char *regdom,
                           sw_beacon_alert *out, int max, int *nout)
{
    const sw_beacon_config *cf = &b->cfg;
    const sw_checkin *c = cx->c;
    size_t ql = strlen(qname), rl = strlen(regdom);
    size_t sl = ql > rl + 1 ? ql - rl - 1 : 0;
    /* DNSBL and whois-by-DNS lookups (4.3.2.1.zen.spamhaus.org) carry an
     * address below the zone: digits look random, they are no data */
    bool addr = sl && sw_dns_sub_is_addr(qname, sl);
    bool enc = sl && !addr && sw_dns_sub_encoded(qname, sl);
    bool rnd = sl && !addr && sw_dns_sub_random(qname, sl);
    uint64_t qh = hash_bytes(7, qname, ql);
    shard *s = &b->sh[id & (b->nshards - 1)];
    int fired[3] = {0, 0, 0};
    bentry snap;
    pthread_mutex_lock(&s->mu);
    bool created;
    bentry *e = get_entry(b, s, id, &created);
    if (created)
        init_entry(b, e, K_DOMAIN, c->ts_us);
    uint64_t now = c->ts_us;
    uint64_t last = e->tunnel_alert_s ? e->base_us + (uint64_t)(e->tunnel_alert_s - 1) * 1000000 : 0;
    if (last && now >= last && now - last >= cf->realert_us)
        e->tunnel_alerted &= ARMED;
    if (e->n_q < UINT16_MAX)
        e->n_q++;
    bool first = e->n_q == 1;
    e->n_enc += enc && e->n_enc < UINT16_MAX;
    e->n_rand += rnd && e->n_rand < UINT16_MAX;
    e->n_txt += c->qtype == 16 && e->n_txt < UINT16_MAX;
    e->n_nullany += (c->qtype == 10 || c->qtype == 255) && e->n_nullany < UINT16_MAX;
    e->uniq_bits |= 1ull << (qh & 63);
    if (cf->tunnel_enabled) {
        if (e->n_enc >= cf->tunnel_min_queries && 2u * e->n_enc >= e->n_q && !(e->tunnel_alerted & 1))
            fired[0] = 1;
        if (e->n_rand >= cf->tunnel_unique_names && lincount(e->uniq_bits) >= 0.5 * cf->tunnel_unique_names &&
            !(e->tunnel_alerted & 2))
            fired[1] = 1;
        if ((e->n_nullany >= cf->tunnel_nullany_queries ||
             (e->n_txt >= cf->tunnel_txt_queries && 2u * e->n_txt >= e->n_q)) &&
            !(e->tunnel_alerted & 4))
            fired[2] = 1;
        for (int i = 0; i < 3; i++)
            if (fired[i])
                e->tunnel_alerted |= (uint8_t)(1 << i);
        if ((fired[0] || fired[1] || fired[2]) && now >= e->base_us)
            e->tunnel_alert_s = 1 + (uint32_t)((now - e->base_us) / 1000000);
    }
    snap = *e;
    pthread_mutex_unlock(&s->mu);
    if (!(fired[0] || fired[1] || fired[2]))
        return first;
    if (prevalent(b, cx->dest_h)) {
        BCTR_INC(b, SW_BEACON_CTR_SUPPRESSED_PREV);
        return first;
    }
    static const sw_beacon_sig tsig[3] = {SW_BSIG_TUNNEL_ENTROPY, SW_BSIG_TUNNEL_UNIQUE, SW_BSIG_TUNNEL_RRTYPE};
    for (int i = 0; i < 3; i++) {
        if (!fired[i])
            continue;
        sw_beacon_alert a;
        fill_alert(&a, &snap, tsig[i], cx);
        a.count = snap.n_q;
        double iv[SW_BEACON_MAX_INTERVALS];
        int n = ring_get(&snap, iv);
        a.score = 1.0;
        sw_beacon_score_intervals(iv, n, &a.period_s, &a.jitter);
        if (emit(b, out, max, nout, &a))
            BCTR_INC(b, SW_BEACON_CTR_ALERTS_TUNNEL);
    }
    return first;
}

/* Counts random-looking domains a host queries for the first time, per
 * hour; many of them is what a DGA looking for its live C2 does. */
static void dga_signal(sw_beacon *b, const obs_ctx *cx, const char *regdom, sw_beacon_alert *out, int max,
                       int *nout)
{
    const char *dot = strchr(regdom, '.');
    size_t ll = dot ? (size_t)(dot - regdom) : strlen(regdom);
    if (!b->cfg.tunnel_enabled || !sw_dns_label_dga(regdom, ll))
        return;
    const sw_checkin *c = cx->c;
    uint64_t id = key_id(K_HOST, c, NULL);
    shard *s = &b->sh[id & (b->nshards - 1)];
    bentry snap;
    bool fire = false;
    pthread_mutex_lock(&s->mu);
    bool created;
    bentry *e = get_entry(b, s, id, &created);
    if (created || c->ts_us < e->base_us || c->ts_us - e->base_us > 3600ull * 1000000) {
        uint64_t keep_alert = created ? 0 : e->last_alert_us;
        init_entry(b, e, K_HOST, c->ts_us);
        e->base_us = c->ts_us;
        e->last_alert_us = keep_alert;
    }
    e->ipver = (uint8_t)(c->ip_version == 6 ? 6 : 4);
    memcpy(e->src, c->src, 16);
    memcpy(e->dst, c->dst, 16);
    e->dport = c->dport;
    e->proto = c->proto;
    e->count++;
    e->last_ms = (uint32_t)((c->ts_us - e->base_us) / 1000);
    /* Workers share the tracker, so a host's queries come slightly out of
     * time order: an older one must not wrap ts - last_alert around. */
    if (e->count >= b->cfg.dga_domains &&
        (!e->last_alert_us ||
         (c->ts_us >= e->last_alert_us && c->ts_us - e->last_alert_us >= b->cfg.realert_us))) {
        e->last_alert_us = c->ts_us;
        fire = true;
    }
    snap = *e;
    pthread_mutex_unlock(&s->mu);
    if (!fire)
        return;
    sw_beacon_alert a;
    fill_alert(&a, &snap, SW_BSIG_DGA, cx);
    a.n_intervals = 0;
    a.score = 1.0;
    if (emit(b, out, max, nout, &a))
        BCTR_INC(b, SW_BEACON_CTR_ALERTS_TUNNEL);
}

static int observe_dns(sw_beacon *b, const sw_checkin *c, sw_beacon_alert *out, int max)
{
    char qname[SW_BEACON_NAME_MAX];
    if (!c->qname || !c->qname[0])
        return 0;
    lower_copy(qname, sizeof(qname), c->qname);
    if (!qname[0] || qname[0] == '.')
        return 0;
    if (name_allowed(&b->cfg, qname)) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_ALLOW);
        return 0;
    }
    /* LLMNR and mDNS go to multicast groups: Windows and Apple hosts
     * re-ask "isatap", "wpad" or their own name on timers */
    int ipver = c->ip_version == 6 ? 6 : 4;
    if (b->cfg.skip_multicast &&
        (is_multicast_or_broadcast(ipver, c->dst) || c->dport == 5353 || c->dport == 5355)) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_MCAST);
        return 0;
    }
    /* reverse lookups, link-local service discovery and single-label names
     * (search-list and NetBIOS-style local resolution) reach no C2 on the
     * Internet */
    size_t ql = strlen(qname);
    if ((ql > 13 && strcmp(qname + ql - 13, ".in-addr.arpa") == 0) ||
        (ql > 9 && strcmp(qname + ql - 9, ".ip6.arpa") == 0) || (ql > 6 && strcmp(qname + ql - 6, ".local") == 0) ||
        !strchr(qname, '.')) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_LOCAL);
        return 0;
    }
    const char *rd = psl_registrable_domain(b->psl, qname);
    char regdom[SW_BEACON_NAME_MAX];
    snprintf(regdom, sizeof(regdom), "%s", rd ? rd : qname);

    uint64_t src_h = hash_bytes(1, c->src, addr_len(c->ip_version));
    host_seen(b, src_h);
    uint64_t qh = hash_bytes(2, qname, strlen(qname));
    uint64_t dh = hash_bytes(3, regdom, strlen(regdom));
    prev_add(b, qh, src_h, true);
    prev_add(b, dh, src_h, true);

    int nout = 0;
    obs_ctx cx = {c, SW_BSIG_DNS_NAME, NULL, qname, qh};
    observe_key(b, key_id(K_QNAME, c, qname), K_QNAME, &cx, out, max, &nout);

    /* the tunnel counters (names seen) go first: the domain key's commit
     * asks whether names vary */
    obs_ctx dx = {c, SW_BSIG_DNS_DOMAIN, NULL, regdom, dh};
    uint64_t did = key_id(K_DOMAIN, c, regdom);
    bool first = tunnel_signals(b, did, &dx, qname, regdom, out, max, &nout);
    observe_key(b, did, K_DOMAIN, &dx, out, max, &nout);
    if (first && rd) {
        obs_ctx gx = {c, SW_BSIG_DGA, NULL, regdom, dh};
        dga_signal(b, &gx, regdom, out, max, &nout);
    }
    return nout;
}

/* ---- public entry points ---------------------------------------------- */

static uint64_t flow_dest_hash(const uint8_t *dst, uint16_t dport, uint8_t proto);

int sw_beacon_observe(sw_beacon *b, const sw_checkin *c, sw_beacon_alert *out, int max)
{
    if (!b->cfg.enabled)
        return 0;
    BCTR_INC(b, SW_BEACON_CTR_OBSERVED);
    if (c->kind == SW_CHECKIN_DNS_QUERY)
        return observe_dns(b, c, out, max);
    int ipver = c->ip_version == 6 ? 6 : 4;
    for (int i = 0; i < b->cfg.n_exclude_ports; i++) {
        if (c->dport == b->cfg.exclude_ports[i]) {
            BCTR_INC(b, SW_BEACON_CTR_SKIP_PORT);
            return 0;
        }
    }
    if (c->proto == 17 && c->sport == 123) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_PORT);
        return 0;
    }
    if (b->cfg.skip_multicast && is_multicast_or_broadcast(ipver, c->dst)) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_MCAST);
        return 0;
    }
    if (cidr_match(&b->cfg, ipver, c->dst) || cidr_match(&b->cfg, ipver, c->src)) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_ALLOW);
        return 0;
    }
    char name[SW_BEACON_NAME_MAX];
    name[0] = '\0';
    if (c->server_name && c->server_name[0])
        lower_copy(name, sizeof(name), c->server_name);
    if (name[0] && name_allowed(&b->cfg, name)) {
        BCTR_INC(b, SW_BEACON_CTR_SKIP_ALLOW);
        return 0;
    }
    uint64_t src_h = hash_bytes(1, c->src, addr_len(ipver));
    host_seen(b, src_h);
    int nout = 0;
    if (name[0]) {
        uint64_t dh = hash_bytes(4, name, strlen(name));
        prev_add(b, dh, src_h, true);
        obs_ctx cx = {c, SW_BSIG_NAME, name, NULL, dh};
        observe_key(b, key_id(K_NAME, c, name), K_NAME, &cx, out, max, &nout);
    } else {
        uint64_t dh = flow_dest_hash(c->dst, c->dport, c->proto);
        prev_add(b, dh, src_h, true);
        obs_ctx cx = {c, SW_BSIG_FLOW, NULL, NULL, dh};
        observe_key(b, key_id(K_FLOW, c, NULL), K_FLOW, &cx, out, max, &nout);
    }
    return nout;
}

void sw_beacon_flow_end(sw_beacon *b, const sw_checkin *c)
{
    if (!b->cfg.enabled || c->kind == SW_CHECKIN_DNS_QUERY || !c->bytes_toserver)
        return;
    char name[SW_BEACON_NAME_MAX];
    name[0] = '\0';
    if (c->server_name && c->server_name[0])
        lower_copy(name, sizeof(name), c->server_name);
    uint64_t id = name[0] ? key_id(K_NAME, c, name) : key_id(K_FLOW, c, NULL);
    shard *s = &b->sh[id & (b->nshards - 1)];
    pthread_mutex_lock(&s->mu);
    for (uint32_t i = s->buckets[bucket_of(s, id)]; i; i = s->e[i].hnext) {
        if (s->e[i].id == id) {
            push_size(&s->e[i], c->bytes_toserver);
            break;
        }
    }
    pthread_mutex_unlock(&s->mu);
}

static uint64_t flow_dest_hash(const uint8_t *dst, uint16_t dport, uint8_t proto)
{
    uint8_t t[19];
    memcpy(t, dst, 16);
    t[16] = (uint8_t)(dport >> 8);
    t[17] = (uint8_t)dport;
    t[18] = proto;
    return hash_bytes(5, t, sizeof(t));
}

int sw_beacon_flush(sw_beacon *b, sw_beacon_alert *out, int max)
{
    int nout = 0;
    while (b->flush_shard < b->nshards && (nout == 0 || max - nout >= NPEND)) {
        shard *s = &b->sh[b->flush_shard];
        pthread_mutex_lock(&s->mu);
        /* one key commits up to NPEND check-ins: room for all of them */
        while (b->flush_idx < s->used && (nout == 0 || max - nout >= NPEND)) {
            bentry *e = &s->e[++b->flush_idx];
            if (!e->id || e->kind == K_HOST)
                continue;
            /* Keys store no names (memory budget): named keys close to
             * alerting left theirs in the shard's name table. */
            obs_ctx cx = {NULL, SW_BSIG_FLOW, NULL, NULL, 0};
            const char *name = NULL;
            if (e->kind != K_FLOW) {
                name_slot *ns = name_slot_of(s, e->id);
                if (ns->id == e->id)
                    name = ns->name;
            }
            switch (e->kind) {
            case K_NAME:
                cx.sig = SW_BSIG_NAME;
                cx.server_name = name;
                cx.dest_h = name ? hash_bytes(4, name, strlen(name)) : 0;
                break;
            case K_QNAME:
                cx.sig = SW_BSIG_DNS_NAME;
                cx.rrname = name;
                cx.dest_h = name ? hash_bytes(2, name, strlen(name)) : 0;
                break;
            case K_DOMAIN:
                cx.sig = SW_BSIG_DNS_DOMAIN;
                cx.rrname = name;
                cx.dest_h = name ? hash_bytes(3, name, strlen(name)) : 0;
                break;
            default:
                cx.dest_h = flow_dest_hash(e->dst, e->dport, e->proto);
                break;
            }
            while (e->npend > 0) {
                uint32_t ct = e->pend_ms[0];
                memmove(e->pend_ms, e->pend_ms + 1, (NPEND - 1) * sizeof(uint32_t));
                e->npend--;
                sw_beacon_alert tmp;
                if (!commit(b, e, ct, &cx, &tmp))
                    continue;
                if (e->kind != K_FLOW && !name) {
                    /* the contract wants the name: count what was lost */
                    BCTR_ADD(b, SW_BEACON_CTR_ALERTS, (uint64_t)-1);
                    BCTR_INC(b, SW_BEACON_CTR_FLUSH_UNNAMED);
                    continue;
                }
                if (nout < max)
                    out[nout++] = tmp;
                else
                    BCTR_INC(b, SW_BEACON_CTR_ALERTS_DROPPED);
            }
        }
        if (b->flush_idx >= s->used) {
            b->flush_shard++;
            b->flush_idx = 0;
        }
        pthread_mutex_unlock(&s->mu);
    }
    return nout;
}
