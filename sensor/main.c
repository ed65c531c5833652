/* spanwatch: passive network sensor. See ../shared/CONTRACT.md for the
 * command line and README.md for configuration. */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <pwd.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sensor/app.h"
#include "sensor/capture.h"
#include "sensor/detect.h"
#include "sensor/engine.h"
#include "sensor/eve.h"

#define MAX_FILES 256
#define MAX_RULE_ARGS 256
/* Health alert sids (gid 1). */
#define SID_HEALTH_STALL 9200001u
#define SID_HEALTH_DROPS 9200002u
#define SID_HEALTH_IFACE 9200003u
#define SID_HEALTH_OUTPUT 9200004u
#define SID_HEALTH_RESUMED 9200005u
#define SID_HEALTH_OUTPUT_BACK 9200006u

static volatile sig_atomic_t g_stop;
static volatile sig_atomic_t g_hup;

static void on_signal(int sig)
{
    if (sig == SIGHUP)
        g_hup = 1;
    else
        g_stop = 1;
}

typedef struct options {
    const char *files[MAX_FILES];
    size_t nfiles;
    const char *iface;
    const char *logdir;
    const char *config;
    const char *rules[MAX_RULE_ARGS];
    size_t nrules;
    bool test;
    bool quiet;
    long workers; /* -1: from config */
} options;

/* Reader-side counters (capture health). */
#define SW_READER_COUNTERS(X)                                 \
    X(R_PKTS, "spanwatch.capture.packets")                    \
    X(R_BYTES, "spanwatch.capture.bytes")                     \
    X(R_FILES, "spanwatch.capture.files")                     \
    X(R_TRUNCATED, "spanwatch.capture.files_truncated")       \
    X(R_KPKTS, "capture.kernel_packets")                      \
    X(R_KDROPS, "capture.kernel_drops")                       \
    X(R_KIFDROPS, "capture.kernel_ifdrops")                   \
    X(R_ERRORS, "capture.errors")                             \
    X(R_STALLS, "spanwatch.capture.stalls")                   \
    X(R_RING_FULL, "spanwatch.capture.ring_full_waits")       \
    X(R_RELOADS, "spanwatch.reloads")                        \
    X(R_SKEW_WAITS, "spanwatch.capture.worker_skew_waits")

enum {
#define X(id, name) SW_CTR_##id,
    SW_READER_COUNTERS(X)
#undef X
    SW_READER_CTR_COUNT
};
static const char *const reader_ctr_names[] = {
#define X(id, name) name,
    SW_READER_COUNTERS(X)
#undef X
};

typedef struct reader {
    sw_engine *eng;
    sw_dec_ctx dec; /* for the worker hash only; its counters are not reported */
    sw_json json;
    uint64_t ctr[SW_READER_CTR_COUNT];
    uint64_t first_ts, last_ts;
    uint64_t next_tick, next_stats;
    uint64_t pcap_cnt;
    bool live;
    pthread_t reload_thr;
    volatile int reloading;
    /* replay progress on a terminal */
    bool progress;
    uint64_t prog_next_us, prog_start_us, prog_last_pkts, prog_last_us;
    double prog_rate;
    size_t file_idx, nfiles;
    sw_capture *cur;
    bool out_degraded;
} reader;

static void usage(FILE *out)
{
    fprintf(out,
            "usage: spanwatch -r FILE [-r FILE ...] -l LOGDIR [-c CONFIG] [-S RULEFILE ...]\n"
            "       spanwatch -i IFACE -l LOGDIR [-c CONFIG]\n"
            "       spanwatch -T [-c CONFIG] [-S RULEFILE ...]\n"
            "options: --workers N  worker threads (default: config, else one per core)\n"
            "         -q           no summary on stderr\n");
}

static int parse_args(int argc, char **argv, options *o)
{
    static const struct option longopts[] = {
        {"workers", required_argument, NULL, 'w'},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    memset(o, 0, sizeof(*o));
    o->workers = -1;
    int c;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":r:i:l:c:S:Tqh", longopts, NULL)) != -1) {
        switch (c) {
        case 'r':
            if (o->nfiles >= MAX_FILES) {
                fprintf(stderr, "spanwatch: at most %d -r files\n", MAX_FILES);
                return -1;
            }
            o->files[o->nfiles++] = optarg;
            break;
        case 'i': o->iface = optarg; break;
        case 'l': o->logdir = optarg; break;
        case 'c': o->config = optarg; break;
        case 'S':
            if (o->nrules >= MAX_RULE_ARGS) {
                fprintf(stderr, "spanwatch: at most %d -S files\n", MAX_RULE_ARGS);
                return -1;
            }
            o->rules[o->nrules++] = optarg;
            break;
        case 'T': o->test = true; break;
        case 'q': o->quiet = true; break;
        case 'w': {
            char *end;
            long n = strtol(optarg, &end, 10);
            if (*end || n < 1 || n > SW_MAX_WORKERS) {
                fprintf(stderr, "spanwatch: --workers: '%s' is not 1 .. %d\n", optarg,
                        SW_MAX_WORKERS);
                return -1;
            }
            o->workers = n;
            break;
        }
        case 'h': usage(stdout); exit(0);
        case 'V': printf("spanwatch %s\n", SW_VERSION); exit(0);
        case ':':
            fprintf(stderr, "spanwatch: option -%c needs a value\n", optopt);
            return -1;
        default:
            if (optopt)
                fprintf(stderr, "spanwatch: unknown option -%c\n", optopt);
            else
                fprintf(stderr, "spanwatch: unknown option %s\n", argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "spanwatch: unexpected argument '%s'\n", argv[optind]);
        return -1;
    }
    int modes = (o->nfiles > 0) + (o->iface != NULL) + o->test;
    if (modes != 1) {
        fprintf(stderr, "spanwatch: give exactly one of -r FILE, -i IFACE or -T\n");
        return -1;
    }
    if (!o->test && !o->logdir) {
        fprintf(stderr, "spanwatch: -l LOGDIR is required\n");
        return -1;
    }
    return 0;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Intervals (stall, tick, stats) are measured on this clock: the wall clock
 * can step back (NTP, an operator), and a sensor must neither go quiet for
 * that long nor call it a stall. */
static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static size_t all_groups(reader *r, sw_ctr_group *g, size_t max)
{
    size_t n = sw_engine_counter_groups(r->eng, g, max - 1);
    g[n++] = (sw_ctr_group){reader_ctr_names, r->ctr, SW_READER_CTR_COUNT};
    return n;
}

static void write_stats(reader *r, uint64_t ts)
{
    sw_detect_reader_enter(r->eng);
    sw_ctr_group g[SW_MAX_CTR_GROUPS];
    size_t n = all_groups(r, g, SW_MAX_CTR_GROUPS);
    sw_json *j = &r->json;
    sw_eve_begin_plain(j, "stats", ts);
    uint64_t up = r->live ? 0 : (ts > r->first_ts ? (ts - r->first_ts) / 1000000u : 0);
    sw_eve_stats(j, g, n, up);
    size_t len = swj_finish(j);
    sw_detect_reader_leave(r->eng);
    if (len)
        sw_outputs_write(r->eng->out, j->buf, len);
}

static uint64_t group_value(reader *r, const char *name)
{
    sw_detect_reader_enter(r->eng);
    sw_ctr_group g[SW_MAX_CTR_GROUPS];
    size_t n = all_groups(r, g, SW_MAX_CTR_GROUPS);
    uint64_t v = 0;
    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < g[i].n; k++)
            if (strcmp(g[i].names[k], name) == 0)
                v += __atomic_load_n(&g[i].vals[k], __ATOMIC_RELAXED);
    sw_detect_reader_leave(r->eng);
    return v;
}


static void ring_put(reader *r, sw_worker *w, uint16_t type, uint64_t ts,
                     const struct pcap_pkthdr *h, const uint8_t *data, int linktype)
{
    uint32_t len = h ? h->caplen : 0;
    sw_rec *rec;
    unsigned spins = 0;
    while (!(rec = sw_ring_reserve(&w->ring, len))) {
        if (spins == 0)
            SW_CTR_INC(r->ctr, SW_CTR_R_RING_FULL);
        sw_ring_backoff(&spins, 20);
    }
    rec->type = type;
    rec->ts_us = ts;
    rec->linktype = (uint16_t)linktype;
    rec->caplen = len;
    rec->wirelen = h ? h->len : 0;
    rec->pcap_cnt = r->pcap_cnt;
    if (len)
        memcpy(rec->data, data, len);
    sw_ring_publish(&w->ring, rec);
}

static void health_alert(reader *r, uint32_t sid, const char *msg, uint64_t ts);

/* Sum of one counter over every output ("spanwatch.output.*.<suffix>"). */
static uint64_t outputs_sum(reader *r, const char *suffix)
{
    sw_ctr_group g = sw_outputs_counters(r->eng->out);
    uint64_t v = 0;
    size_t sl = strlen(suffix);
    for (size_t k = 0; k < g.n; k++) {
        size_t nl = strlen(g.names[k]);
        if (nl > sl && strcmp(g.names[k] + nl - sl, suffix) == 0)
            v += __atomic_load_n(&g.vals[k], __ATOMIC_RELAXED);
    }
    return v;
}

/* A full disk must not stop the sensor, and must not go unnoticed: one
 * alert when writing fails, one when it works again (with the loss). */
static void check_outputs(reader *r, uint64_t ts)
{
    bool deg = sw_outputs_degraded(r->eng->out);
    if (deg == r->out_degraded)
        return;
    r->out_degraded = deg;
    char msg[200];
    if (deg) {
        health_alert(r, SID_HEALTH_OUTPUT,
                     "SPANWATCH output cannot write events (disk full or I/O error); "
                     "events are counted as lost",
                     ts);
    } else {
        snprintf(msg, sizeof msg, "SPANWATCH output writes again; %llu events were lost",
                 (unsigned long long)outputs_sum(r, ".write_errors"));
        health_alert(r, SID_HEALTH_OUTPUT_BACK, msg, ts);
    }
}

static void tick_all(reader *r, uint64_t ts)
{
    sw_engine *e = r->eng;
    if (e->nworkers == 1) {
        sw_worker_tick(e->workers[0], ts);
        return;
    }
    for (uint32_t i = 0; i < e->nworkers; i++)
        ring_put(r, e->workers[i], SW_REC_TICK, ts, NULL, NULL, 0);
    /* Keep the workers within a couple of seconds of packet time of each
     * other: detectors that see several workers' traffic (beacons across a
     * host's flows) then get observations nearly in time order, whatever
     * the number of workers. */
    uint64_t skew = e->cfg.max_worker_skew_us;
    if (ts < skew)
        return;
    for (uint32_t i = 0; i < e->nworkers; i++) {
        unsigned spins = 0;
        while (__atomic_load_n(&e->workers[i]->now_us, __ATOMIC_ACQUIRE) + skew < ts &&
               !g_stop) {
            if (spins == 0)
                SW_CTR_INC(r->ctr, SW_CTR_R_SKEW_WAITS);
            sw_ring_backoff(&spins, 20);
        }
    }
}

/* A later capture file that starts before the previous one ended is
 * another recording, not a continuation: its flows must not meet the old
 * ones, and the timers restart from its clock. Files that follow on in
 * time (a rotated capture) keep their flows across the boundary. */
static void restart_clock(reader *r, uint64_t ts)
{
    sw_engine *e = r->eng;
    if (e->nworkers == 1) {
        sw_worker_restart_clock(e->workers[0], ts);
    } else {
        for (uint32_t i = 0; i < e->nworkers; i++)
            ring_put(r, e->workers[i], SW_REC_FLUSH, ts, NULL, NULL, 0);
    }
    r->last_ts = ts;
    r->next_tick = ts + 1000000u;
    r->next_stats = ts + e->cfg.stats_interval_us;
}

static void dispatch(reader *r, const struct pcap_pkthdr *h, const uint8_t *data,
                     int linktype)
{
    sw_engine *e = r->eng;
    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
    r->pcap_cnt++;
    SW_CTR_INC(r->ctr, SW_CTR_R_PKTS);
    SW_CTR_ADD(r->ctr, SW_CTR_R_BYTES, h->len);
    if (!r->first_ts)
        r->first_ts = ts;
    /* Packet time never runs backwards for the timers. */
    if (ts > r->last_ts)
        r->last_ts = ts;
    if (e->nworkers == 1) {
        sw_packet p;
        p.ts_us = ts;
        p.pcap_cnt = r->pcap_cnt;
        p.data = data;
        p.caplen = h->caplen;
        p.wirelen = h->len;
        p.linktype = linktype;
        sw_worker_packet(e->workers[0], &p);
        sw_detect_quiescent(e->workers[0]);
    } else {
        /* The worker is chosen by the host pair so that a flow, its
         * fragments and both directions always meet on one thread. */
        sw_packet p;
        p.ts_us = ts;
        p.data = data;
        p.caplen = h->caplen;
        p.wirelen = h->len;
        p.linktype = linktype;
        sw_decode_packet(&r->dec, &p);
        uint32_t hash = p.ip.version ? sw_packet_pair_hash(&p) : 0;
        ring_put(r, e->workers[hash % e->nworkers], SW_REC_PACKET, ts, h, data, linktype);
    }
    if (!r->live) {
        if (r->last_ts >= r->next_tick) {
            tick_all(r, r->last_ts);
            check_outputs(r, r->last_ts);
            r->next_tick = r->last_ts + 1000000u;
        }
        if (!r->next_stats)
            r->next_stats = r->last_ts + e->cfg.stats_interval_us;
        else if (r->last_ts >= r->next_stats) {
            write_stats(r, r->last_ts);
            r->next_stats = r->last_ts + e->cfg.stats_interval_us;
        }
    }
}

static void *reload_main(void *arg)
{
    reader *r = arg;
    sw_app_reload(r->eng);
    SW_CTR_INC(r->ctr, SW_CTR_R_RELOADS);
    __atomic_store_n(&r->reloading, 0, __ATOMIC_RELEASE);
    return NULL;
}

/* SIGHUP: reopen output files (logrotate) and rebuild rules and IoC lists
 * on a side thread while packets keep flowing. */
static void handle_hup(reader *r)
{
    g_hup = 0;
    sw_outputs_reopen(r->eng->out);
    if (__atomic_load_n(&r->reloading, __ATOMIC_ACQUIRE))
        return;
    if (r->reload_thr) {
        pthread_join(r->reload_thr, NULL);
        r->reload_thr = 0;
    }
    r->reloading = 1;
    if (pthread_create(&r->reload_thr, NULL, reload_main, r) != 0) {
        r->reloading = 0;
        r->reload_thr = 0;
    }
}

static void quiesce_sigs(reader *r)
{
    sw_app_housekeeping(r->eng, r->last_ts);
}

/* One status line on stderr, redrawn a few times a second: which file,
 * how far, how fast, how many alerts, and when it will be done. */
static void progress(reader *r, bool final)
{
    uint64_t now = wall_us();
    if (!final && now < r->prog_next_us)
        return;
    r->prog_next_us = now + 250000;
    uint64_t done = 0, total = 0;
    sw_capture_progress(r->cur, &done, &total);
    double frac = total ? (double)done / (double)total : 0;
    if (frac > 1)
        frac = 1;
    uint64_t pk = r->ctr[SW_CTR_R_PKTS];
    if (r->prog_last_us && now > r->prog_last_us) {
        double inst = (double)(pk - r->prog_last_pkts) * 1e6 / (double)(now - r->prog_last_us);
        r->prog_rate = r->prog_rate ? 0.7 * r->prog_rate + 0.3 * inst : inst;
    }
    r->prog_last_pkts = pk;
    r->prog_last_us = now;
    uint64_t alerts = group_value(r, "spanwatch.detect.alerts_written") +
                      group_value(r, "spanwatch.detect.beacon_alerts_written");
    double elapsed = (double)(now - r->prog_start_us) / 1e6;
    /* ETA over the files still to come, assuming they read like this one */
    double whole = ((double)r->file_idx + frac) / (double)(r->nfiles ? r->nfiles : 1);
    double eta = whole > 0.001 ? elapsed / whole - elapsed : 0;
    fprintf(stderr, "\r\033[Kfile %zu/%zu %5.1f%%  %.0f pkt/s  %llu alerts  ETA %.0fs",
            r->file_idx + 1, r->nfiles, frac * 100.0, r->prog_rate,
            (unsigned long long)alerts, eta < 0 ? 0 : eta);
    if (final)
        fprintf(stderr, "\r\033[K");
    fflush(stderr);
}

static int replay(reader *r, const options *o, sw_capture **caps)
{
    for (size_t i = 0; i < o->nfiles && !g_stop; i++) {
        sw_capture *c = caps[i];
        int linktype = sw_capture_linktype(c);
        r->cur = c;
        r->file_idx = i;
        /* pcap_cnt points into the file the packet came from */
        r->pcap_cnt = 0;
        SW_CTR_INC(r->ctr, SW_CTR_R_FILES);
        uint64_t in_file = 0;
        for (;;) {
            if (g_stop)
                break;
            if (g_hup)
                handle_hup(r);
            struct pcap_pkthdr *h;
            const uint8_t *data;
            int rc = sw_capture_next(c, &h, &data);
            if (rc == SW_CAP_PACKET) {
                in_file++;
                if (in_file == 1 && i > 0) {
                    uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
                    if (ts < r->last_ts)
                        restart_clock(r, ts);
                }
                dispatch(r, h, data, linktype);
                if ((r->pcap_cnt & 0xffff) == 0)
                    quiesce_sigs(r);
                if (r->progress && (r->pcap_cnt & 0x3ff) == 0)
                    progress(r, false);
                continue;
            }
            if (rc == SW_CAP_ERROR) {
                SW_CTR_INC(r->ctr, SW_CTR_R_TRUNCATED);
                fprintf(stderr, "spanwatch: %s: capture ends early after packet %llu: %s\n",
                        o->files[i], (unsigned long long)in_file, sw_capture_error(c));
            }
            break;
        }
    }
    if (r->progress && r->cur)
        progress(r, true);
    return 0;
}

static void health_alert(reader *r, uint32_t sid, const char *msg, uint64_t ts)
{
    sw_detect_health_alert(r->eng, &r->json, ts, sid, msg);
}

static int live(reader *r, const options *o, sw_capture **capp)
{
    sw_capture *c = *capp;
    sw_engine *e = r->eng;
    int linktype = sw_capture_linktype(c);
    uint64_t last_pkt = mono_us(); /* all of these on the monotonic clock */
    uint64_t next_stats = last_pkt + e->cfg.stats_interval_us;
    uint64_t next_tick = last_pkt + 1000000u;
    uint64_t prev_recv = 0, prev_drop = 0;
    bool stalled = false;
    SW_CTR_INC(r->ctr, SW_CTR_R_FILES);
    while (!g_stop) {
        if (g_hup)
            handle_hup(r);
        struct pcap_pkthdr *h;
        const uint8_t *data;
        int rc = sw_capture_next(c, &h, &data);
        uint64_t now = wall_us(), mono = mono_us();
        if (rc == SW_CAP_PACKET) {
            dispatch(r, h, data, linktype);
            last_pkt = mono;
            if (stalled) {
                stalled = false;
                char msg[200];
                snprintf(msg, sizeof msg, "SPANWATCH sensor sees traffic again on %s",
                         o->iface);
                health_alert(r, SID_HEALTH_RESUMED, msg, now);
            }
        } else if (rc == SW_CAP_ERROR) {
            /* The interface went away (down, driver reset): say so, then
             * keep trying to reopen it; the gap is on record. */
            SW_CTR_INC(r->ctr, SW_CTR_R_ERRORS);
            char msg[400];
            snprintf(msg, sizeof msg, "SPANWATCH capture error on %s: %s; reopening", o->iface,
                     sw_capture_error(c));
            health_alert(r, SID_HEALTH_IFACE, msg, now);
            fprintf(stderr, "spanwatch: %s\n", msg);
            sw_capture_close(c);
            c = NULL;
            char err[512];
            while (!g_stop && !c) {
                struct timespec ts = {1, 0};
                nanosleep(&ts, NULL);
                c = sw_capture_open_live(&e->cfg.live, err, sizeof err);
            }
            *capp = c;
            if (!c)
                break;
            linktype = sw_capture_linktype(c);
            prev_recv = prev_drop = 0;
            snprintf(msg, sizeof msg,
                     "SPANWATCH capture on %s reopened after %.1f s without packets", o->iface,
                     (double)(mono_us() - last_pkt) / 1e6);
            health_alert(r, SID_HEALTH_RESUMED, msg, wall_us());
            continue;
        }
        if (!stalled && mono - last_pkt >= e->cfg.health.stall_us) {
            stalled = true;
            SW_CTR_INC(r->ctr, SW_CTR_R_STALLS);
            char msg[200];
            snprintf(msg, sizeof msg,
                     "SPANWATCH sensor capture stalled: no packet on %s for %llu s", o->iface,
                     (unsigned long long)(e->cfg.health.stall_us / 1000000u));
            health_alert(r, SID_HEALTH_STALL, msg, now);
        }
        if (mono >= next_tick) {
            tick_all(r, now);
            quiesce_sigs(r);
            check_outputs(r, now);
            next_tick = mono + 1000000u;
        }
        if (mono >= next_stats) {
            uint64_t recv, drop, ifdrop;
            if (sw_capture_stats(c, &recv, &drop, &ifdrop) == 0) {
                SW_CTR_SET(r->ctr, SW_CTR_R_KPKTS, recv);
                SW_CTR_SET(r->ctr, SW_CTR_R_KDROPS, drop);
                SW_CTR_SET(r->ctr, SW_CTR_R_KIFDROPS, ifdrop);
                uint64_t dr = recv - prev_recv, dd = drop - prev_drop;
                if (dr + dd > 0 && (double)dd / (double)(dr + dd) > e->cfg.health.drop_rate) {
                    char msg[200];
                    snprintf(msg, sizeof msg,
                             "SPANWATCH sensor dropping packets on %s: %.1f%% in the last "
                             "interval",
                             o->iface, 100.0 * (double)dd / (double)(dr + dd));
                    health_alert(r, SID_HEALTH_DROPS, msg, now);
                }
                prev_recv = recv;
                prev_drop = drop;
            }
            write_stats(r, now);
            next_stats = mono + e->cfg.stats_interval_us;
        }
    }
    return 0;
}

/* Started as root (e.g. by hand): give up root once the capture is open,
 * so a parser bug cannot hand an attacker the machine. */
static int drop_privileges(const sw_cfg_node *root, char *err, size_t errlen)
{
    const char *user = NULL, *group = NULL;
    if (sw_cfg_get_str(root, "run-as.user", &user, err, errlen) ||
        sw_cfg_get_str(root, "run-as.group", &group, err, errlen))
        return -1;
    if (getuid() != 0 || !user || !*user)
        return 0;
    struct passwd *pw = getpwnam(user);
    if (!pw) {
        snprintf(err, errlen, "config: run-as.user: no user '%s'", user);
        return -1;
    }
    gid_t gid = pw->pw_gid;
    if (group && *group) {
        struct group *gr = getgrnam(group);
        if (!gr) {
            snprintf(err, errlen, "config: run-as.group: no group '%s'", group);
            return -1;
        }
        gid = gr->gr_gid;
    }
    if (setgroups(0, NULL) != 0 || setgid(gid) != 0 || setuid(pw->pw_uid) != 0) {
        snprintf(err, errlen, "run-as: cannot switch to %s: %s", user, strerror(errno));
        return -1;
    }
    return 0;
}

static const char *g_pidfile;

static int write_pidfile(const sw_cfg_node *root, char *err, size_t errlen)
{
    if (sw_cfg_get_str(root, "pid-file", &g_pidfile, err, errlen))
        return -1;
    if (!g_pidfile || !*g_pidfile)
        return 0;
    FILE *f = fopen(g_pidfile, "w");
    if (!f) {
        snprintf(err, errlen, "pid-file %s: %s", g_pidfile, strerror(errno));
        return -1;
    }
    fprintf(f, "%ld\n", (long)getpid());
    fclose(f);
    return 0;
}

static int ensure_dir(const char *d)
{
    struct stat st;
    if (stat(d, &st) == 0)
        return S_ISDIR(st.st_mode) ? 0 : -1;
    return mkdir(d, 0750);
}

/* Start-up failed after the captures were opened: close what is open and
 * give the exit status for a setup error. */
static int fail_after_open(sw_capture **caps, size_t n, sw_capture *live, sw_cfg_node *root)
{
    for (size_t k = 0; k < n; k++)
        sw_capture_close(caps[k]);
    sw_capture_close(live);
    sw_cfg_free(root);
    return 2;
}

int main(int argc, char **argv)
{
    options o;
    if (parse_args(argc, argv, &o) < 0)
        return 2; /* parse_args said what is wrong, in one line */
    char err[1024] = "";
    sw_cfg_node *root = NULL;
    if (o.config) {
        root = sw_cfg_load_file(o.config, err, sizeof err);
        if (!root) {
            fprintf(stderr, "spanwatch: %s\n", err);
            return 2;
        }
    }
    static sw_engine e;
    e.cfg_root = root;
    sw_engine_config_defaults(&e.cfg);
    if (sw_engine_config_load(root, &e.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "spanwatch: %s: %s\n", o.config ? o.config : "defaults", err);
        sw_cfg_free(root);
        return 2;
    }
    if (o.workers > 0)
        e.cfg.workers = (uint32_t)o.workers;
    e.cli_rules = o.rules;
    e.n_cli_rules = o.nrules;

    if (o.test) {
        e.test_mode = true;
        e.cfg.workers = 1;
        if (sw_app_shared_init(&e, err, sizeof err) < 0) {
            fprintf(stderr, "spanwatch: %s\n", err);
            sw_cfg_free(root);
            return 2;
        }
        int bad = sw_detect_test_summary(&e, stdout);
        sw_app_shared_fini(&e);
        sw_cfg_free(root);
        return bad ? 1 : 0;
    }

    sw_capture *caps[MAX_FILES] = {0};
    sw_capture *livecap = NULL;
    for (size_t i = 0; i < o.nfiles; i++) {
        caps[i] = sw_capture_open_file(o.files[i], err, sizeof err);
        if (!caps[i]) {
            fprintf(stderr, "spanwatch: %s\n", err);
            return fail_after_open(caps, i, NULL, root);
        }
    }
    if (o.iface) {
        snprintf(e.cfg.live.iface, sizeof e.cfg.live.iface, "%s", o.iface);
        livecap = sw_capture_open_live(&e.cfg.live, err, sizeof err);
        if (!livecap) {
            fprintf(stderr, "spanwatch: %s\n", err);
            return fail_after_open(caps, o.nfiles, NULL, root);
        }
    }
    if (write_pidfile(root, err, sizeof err) < 0) {
        fprintf(stderr, "spanwatch: %s\n", err);
        return fail_after_open(caps, o.nfiles, livecap, root);
    }
    if (ensure_dir(o.logdir) < 0) {
        fprintf(stderr, "spanwatch: %s: cannot use as log directory: %s\n", o.logdir,
                strerror(errno));
        return fail_after_open(caps, o.nfiles, livecap, root);
    }
    e.out = sw_outputs_open(&e.cfg.outputs, o.logdir, err, sizeof err);
    if (!e.out) {
        fprintf(stderr, "spanwatch: %s\n", err);
        return fail_after_open(caps, o.nfiles, livecap, root);
    }
    if (sw_engine_init(&e, err, sizeof err) < 0) {
        fprintf(stderr, "spanwatch: %s\n", err);
        sw_outputs_close(e.out);
        return fail_after_open(caps, o.nfiles, livecap, root);
    }
    /* Capture, outputs and rules are open: root is no longer needed. */
    if (drop_privileges(root, err, sizeof err) < 0) {
        fprintf(stderr, "spanwatch: %s\n", err);
        return fail_after_open(caps, o.nfiles, livecap, root);
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    static reader r;
    r.eng = &e;
    r.live = livecap != NULL;
    r.nfiles = o.nfiles;
    r.progress = !r.live && !o.quiet && isatty(STDERR_FILENO);
    r.prog_start_us = wall_us();
    sw_dec_ctx_init(&r.dec, &e.cfg.dec);
    swj_init(&r.json);
    if (e.nworkers > 1)
        for (uint32_t i = 0; i < e.nworkers; i++)
            if (sw_worker_start(e.workers[i]) != 0) {
                fprintf(stderr, "spanwatch: cannot start worker threads\n");
                return 2;
            }

    int rc = livecap ? live(&r, &o, &livecap) : replay(&r, &o, caps);

    if (e.nworkers > 1) {
        for (uint32_t i = 0; i < e.nworkers; i++)
            ring_put(&r, e.workers[i], SW_REC_STOP, r.last_ts, NULL, NULL, 0);
        for (uint32_t i = 0; i < e.nworkers; i++)
            sw_worker_join(e.workers[i]);
    } else {
        sw_worker_flush(e.workers[0]);
    }
    if (r.reload_thr)
        pthread_join(r.reload_thr, NULL);
    sw_detect_flush(&e, e.workers[0]);
    sw_worker_emit_flush(e.workers[0]);
    uint64_t end_ts = r.live ? wall_us() : r.last_ts;
    write_stats(&r, end_ts ? end_ts : wall_us());
    uint64_t alerts = group_value(&r, "spanwatch.detect.alerts_written") +
                      group_value(&r, "spanwatch.detect.beacon_alerts_written");
    uint64_t flows = group_value(&r, "flow.total");
    uint64_t events = group_value(&r, "spanwatch.eve.events");
    sw_engine_fini(&e);
    sw_outputs_close(e.out);
    for (size_t i = 0; i < o.nfiles; i++)
        sw_capture_close(caps[i]);
    sw_capture_close(livecap);
    if (!o.quiet)
        fprintf(stderr,
                "spanwatch: %llu packets, %llu flows, %llu alerts, %llu events -> %s/eve.json\n",
                (unsigned long long)r.ctr[SW_CTR_R_PKTS], (unsigned long long)flows,
                (unsigned long long)alerts, (unsigned long long)events, o.logdir);
    swj_free(&r.json);
    if (g_pidfile && *g_pidfile)
        unlink(g_pidfile);
    sw_cfg_free(root);
    return rc < 0 ? 1 : 0;
}
