#define _GNU_SOURCE /* memrchr, POLLRDHUP */
#include "sensor/output.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "sensor/spool.h"

/* Live lines go out in slices this big so the thread notices a filling
 * queue (slow receiver) between slices and switches to the spool. */
#define SEND_SLICE (256u << 10)
#define BACKOFF_MIN_US 100000ull

static const char *const ctr_suffix[SW_OCTR_N] = {
    "sent", "spooled", "dropped", "reconnects", "queue_len", "spool_bytes",
    "write_errors", "disk_full", "recoveries", "rotations", "compress_errors"};

typedef struct sw_out {
    sw_output_config c;
    struct sw_outputs *parent;
    uint64_t *ctr; /* slice of parent->vals */

    pthread_mutex_t mu;
    pthread_cond_t cv_work, cv_space, cv_done;
    char *q, *b; /* queue (callers append) and the thread's batch: swapped */
    size_t qlen, qcap;
    uint64_t flush_req, flush_done;
    bool stop, reopen;
    pthread_t thr;
    bool thr_started;

    sw_ofile *file;
    const sw_transport *tp;
    void *tpd;
    sw_spool *spool;
    char *peek;
    bool connected;
    uint64_t backoff_us, next_try_us;
    bool ever_connected;
} sw_out;

struct sw_outputs {
    size_t n;
    /* Several worker threads write; with more than one output every output
     * must see the lines in the same order, so the fan-out is one step. */
    pthread_mutex_t fan_mu;
    sw_out out[SW_OUTPUTS_MAX];
    const char *names[SW_OUTPUTS_MAX * SW_OCTR_N];
    char name_store[SW_OUTPUTS_MAX * SW_OCTR_N][80];
    uint64_t vals[SW_OUTPUTS_MAX * SW_OCTR_N];
};

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t sw_out_count_lines(const char *b, size_t n)
{
    uint64_t k = 0;
    const char *e = b + n;
    while (b < e && (b = memchr(b, '\n', (size_t)(e - b)))) {
        k++;
        b++;
    }
    return k;
}

/* ------------------------------------------------------------ config */

static const char *type_name(sw_out_type t)
{
    static const char *const n[] = {"file", "unix_stream", "unix_dgram", "syslog", "redis"};
    return n[t];
}

void sw_output_config_defaults(sw_output_config *c, sw_out_type type)
{
    memset(c, 0, sizeof(*c));
    c->type = type;
    snprintf(c->name, sizeof(c->name), "%s", type_name(type));
    snprintf(c->filename, sizeof(c->filename), "%s",
             type == SW_OUT_REGULAR ? "eve.json" : "/run/spanwatch/eve.sock");
    c->buffer_size = 16u << 20;
    c->rotate_compress = true;
    snprintf(c->server, sizeof(c->server), "127.0.0.1");
    c->port = type == SW_OUT_REDIS ? 6379 : 514;
    c->syslog_tcp = true;
    c->tls_verify = true;
    c->syslog_facility = 16;
    c->syslog_severity = 6;
    snprintf(c->syslog_ident, sizeof(c->syslog_ident), "spanwatch");
    c->redis_mode = SW_REDIS_RPUSH;
    snprintf(c->redis_key, sizeof(c->redis_key), "spanwatch");
    c->redis_batch = 256;
    c->spool_enabled = true;
    c->spool_size = 1ull << 30;
    c->reconnect_max_us = 30000000;
    c->timeout_us = 2000000;
    c->close_timeout_us = 5000000;
}

void sw_outputs_config_defaults(sw_outputs_config *c)
{
    memset(c, 0, sizeof(*c));
    c->n = 1;
    sw_output_config_defaults(&c->out[0], SW_OUT_REGULAR);
}

static int get_strbuf(const sw_cfg_node *n, const char *path, char *dst, size_t cap,
                      const char *full, char *err, size_t errlen)
{
    const char *v = NULL;
    if (sw_cfg_get_str(n, path, &v, err, errlen) != 0)
        return -1;
    if (!v)
        return 0;
    if (strlen(v) >= cap) {
        snprintf(err, errlen, "config: %s.%s: value too long", full, path);
        return -1;
    }
    strcpy(dst, v);
    return 0;
}

static int bad(char *err, size_t errlen, const char *full, const char *key, const char *v,
               const char *why)
{
    snprintf(err, errlen, "config: %s.%s: %s '%s'", full, key, why, v ? v : "");
    return -1;
}

static int facility_of(const char *s)
{
    static const char *const f[] = {"kern", "user", "mail", "daemon", "auth", "syslog",
                                    "lpr", "news", "uucp", "cron", "authpriv", "ftp"};
    for (int i = 0; i < 12; i++)
        if (strcasecmp(s, f[i]) == 0)
            return i;
    if (strncasecmp(s, "local", 5) == 0 && s[5] >= '0' && s[5] <= '7' && !s[6])
        return 16 + (s[5] - '0');
    return -1;
}

/* Reads one `- eve-log: {...}` item; n is the eve-log map. */
static int load_one(const sw_cfg_node *n, sw_output_config *c, const char *full, char *err,
                    size_t errlen)
{
    const char *ft = "regular";
    if (sw_cfg_get_str(n, "filetype", &ft, err, errlen) != 0)
        return -1;
    sw_out_type t;
    if (!strcmp(ft, "regular") || !strcmp(ft, "file"))
        t = SW_OUT_REGULAR;
    else if (!strcmp(ft, "unix_stream"))
        t = SW_OUT_UNIX_STREAM;
    else if (!strcmp(ft, "unix_dgram"))
        t = SW_OUT_UNIX_DGRAM;
    else if (!strcmp(ft, "syslog"))
        t = SW_OUT_SYSLOG;
    else if (!strcmp(ft, "redis"))
        t = SW_OUT_REDIS;
    else
        return bad(err, errlen, full, "filetype", ft,
                   "expected regular|unix_stream|unix_dgram|syslog|redis, got");
    sw_output_config_defaults(c, t);
    if (get_strbuf(n, "name", c->name, sizeof(c->name), full, err, errlen) ||
        get_strbuf(n, "filename", c->filename, sizeof(c->filename), full, err, errlen) ||
        sw_cfg_get_size(n, "buffer-size", &c->buffer_size, err, errlen) ||
        sw_cfg_get_size(n, "rotate.size", &c->rotate_size, err, errlen) ||
        sw_cfg_get_duration(n, "rotate.interval", &c->rotate_interval_us, err, errlen) ||
        sw_cfg_get_bool(n, "rotate.compress", &c->rotate_compress, err, errlen) ||
        get_strbuf(n, "server", c->server, sizeof(c->server), full, err, errlen) ||
        sw_cfg_get_bool(n, "spool.enabled", &c->spool_enabled, err, errlen) ||
        get_strbuf(n, "spool.dir", c->spool_dir, sizeof(c->spool_dir), full, err, errlen) ||
        sw_cfg_get_size(n, "spool.max-size", &c->spool_size, err, errlen) ||
        sw_cfg_get_duration(n, "reconnect.max-backoff", &c->reconnect_max_us, err, errlen) ||
        sw_cfg_get_duration(n, "timeout", &c->timeout_us, err, errlen) ||
        sw_cfg_get_duration(n, "close-timeout", &c->close_timeout_us, err, errlen))
        return -1;
    for (const char *p = c->name; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
            return bad(err, errlen, full, "name", c->name, "use [a-z0-9_-] only, got");
    if (!c->name[0])
        return bad(err, errlen, full, "name", c->name, "empty");
    uint64_t port = c->port;
    if (sw_cfg_get_u64(n, "port", &port, err, errlen))
        return -1;
    if (port == 0 || port > 65535)
        return bad(err, errlen, full, "port", sw_cfg_scalar(sw_cfg_get(n, "port")), "bad port");
    c->port = (uint16_t)port;
    if (c->buffer_size < 2 * (uint64_t)SW_OUT_MAX_LINE)
        c->buffer_size = 2 * (uint64_t)SW_OUT_MAX_LINE;
    if (t == SW_OUT_SYSLOG) {
        const char *proto = NULL, *fac = NULL;
        if (sw_cfg_get_str(n, "protocol", &proto, err, errlen) ||
            sw_cfg_get_str(n, "facility", &fac, err, errlen) ||
            sw_cfg_get_bool(n, "tls.enabled", &c->tls, err, errlen) ||
            sw_cfg_get_bool(n, "tls.verify", &c->tls_verify, err, errlen) ||
            get_strbuf(n, "tls.ca-file", c->tls_ca, sizeof(c->tls_ca), full, err, errlen) ||
            get_strbuf(n, "tls.cert-file", c->tls_cert, sizeof(c->tls_cert), full, err, errlen) ||
            get_strbuf(n, "tls.key-file", c->tls_key, sizeof(c->tls_key), full, err, errlen) ||
            get_strbuf(n, "identity", c->syslog_ident, sizeof(c->syslog_ident), full, err, errlen))
            return -1;
        if (proto && !strcmp(proto, "udp"))
            c->syslog_tcp = false;
        else if (proto && strcmp(proto, "tcp"))
            return bad(err, errlen, full, "protocol", proto, "expected tcp|udp, got");
        if (fac && (c->syslog_facility = facility_of(fac)) < 0)
            return bad(err, errlen, full, "facility", fac, "unknown facility");
        if (c->tls && !c->syslog_tcp)
            return bad(err, errlen, full, "tls.enabled", "yes", "TLS needs protocol tcp, got");
#ifndef SW_WITH_LIBSSL
        if (c->tls)
            return bad(err, errlen, full, "tls.enabled", "yes",
                       "this build has no TLS (libssl not linked):");
#endif
    }
    if (t == SW_OUT_REDIS) {
        const char *mode = NULL;
        uint64_t batch = c->redis_batch;
        bool pipe = true;
        if (sw_cfg_get_str(n, "redis.mode", &mode, err, errlen) ||
            get_strbuf(n, "redis.key", c->redis_key, sizeof(c->redis_key), full, err, errlen) ||
            sw_cfg_get_bool(n, "redis.pipelining.enabled", &pipe, err, errlen) ||
            sw_cfg_get_u64(n, "redis.pipelining.batch-size", &batch, err, errlen))
            return -1;
        if (mode) {
            if (!strcmp(mode, "list") || !strcmp(mode, "rpush"))
                c->redis_mode = SW_REDIS_RPUSH;
            else if (!strcmp(mode, "lpush"))
                c->redis_mode = SW_REDIS_LPUSH;
            else if (!strcmp(mode, "channel") || !strcmp(mode, "publish"))
                c->redis_mode = SW_REDIS_PUBLISH;
            else if (!strcmp(mode, "stream") || !strcmp(mode, "xadd"))
                c->redis_mode = SW_REDIS_XADD;
            else
                return bad(err, errlen, full, "redis.mode", mode,
                           "expected list|rpush|lpush|channel|publish|stream|xadd, got");
        }
        if (batch == 0 || batch > 100000)
            return bad(err, errlen, full, "redis.pipelining.batch-size",
                       sw_cfg_scalar(sw_cfg_get(n, "redis.pipelining.batch-size")),
                       "expected 1..100000, got");
        c->redis_batch = pipe ? (uint32_t)batch : 1;
    }
    return 0;
}

int sw_outputs_config_load(const sw_cfg_node *root, sw_outputs_config *c, char *err,
                           size_t errlen)
{
    const sw_cfg_node *seq = sw_cfg_get(root, "outputs");
    if (!seq)
        return 0;
    if (sw_cfg_type_of(seq) != SW_CFG_SEQ) {
        snprintf(err, errlen, "config: outputs: expected a list (line %d)", sw_cfg_line(seq));
        return -1;
    }
    sw_outputs_config nc;
    memset(&nc, 0, sizeof(nc));
    for (size_t i = 0; i < sw_cfg_len(seq); i++) {
        const sw_cfg_node *item = sw_cfg_at(seq, i);
        const sw_cfg_node *ev = sw_cfg_get(item, "eve-log");
        if (!ev)
            continue; /* other Suricata output kinds are not ours */
        char full[48];
        snprintf(full, sizeof(full), "outputs[%zu].eve-log", i);
        bool enabled = true;
        if (sw_cfg_get_bool(ev, "enabled", &enabled, err, errlen))
            return -1;
        if (!enabled)
            continue;
        if (nc.n == SW_OUTPUTS_MAX) {
            snprintf(err, errlen, "config: outputs: more than %d eve-log outputs", SW_OUTPUTS_MAX);
            return -1;
        }
        if (load_one(ev, &nc.out[nc.n], full, err, errlen))
            return -1;
        for (size_t k = 0; k < nc.n; k++) {
            if (!strcmp(nc.out[k].name, nc.out[nc.n].name)) {
                snprintf(err, errlen,
                         "config: %s.name: '%s' used twice (give each output a unique name)",
                         full, nc.out[k].name);
                return -1;
            }
        }
        nc.n++;
    }
    *c = nc;
    return 0;
}

/* ------------------------------------------------------------ threads */

static void take_queue(sw_out *o, size_t *blen)
{
    char *t = o->b;
    o->b = o->q;
    o->q = t;
    *blen = o->qlen;
    o->qlen = 0;
    SW_CTR_SET(o->ctr, SW_OCTR_QUEUE_LEN, 0);
    pthread_cond_broadcast(&o->cv_space);
}

static void *file_thread(void *arg)
{
    sw_out *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        if (!o->qlen && !o->stop && !o->reopen && o->flush_req == o->flush_done) {
            struct timespec ts;
            clock_gettime(CLOCK_REALTIME, &ts);
            ts.tv_nsec += 200 * 1000000L;
            if (ts.tv_nsec >= 1000000000L) {
                ts.tv_sec++;
                ts.tv_nsec -= 1000000000L;
            }
            pthread_cond_timedwait(&o->cv_work, &o->mu, &ts);
        }
        size_t blen;
        take_queue(o, &blen);
        uint64_t target = o->flush_req;
        bool reopen = o->reopen, stop = o->stop;
        o->reopen = false;
        pthread_mutex_unlock(&o->mu);

        if (reopen)
            sw_ofile_reopen(o->file);
        if (blen)
            sw_ofile_write(o->file, o->b, blen);
        sw_ofile_tick(o->file, wall_us());

        pthread_mutex_lock(&o->mu);
        o->flush_done = target;
        pthread_cond_broadcast(&o->cv_done);
        if (stop && !o->qlen)
            break;
    }
    pthread_mutex_unlock(&o->mu);
    return NULL;
}

static void net_disconnect(sw_out *o)
{
    if (o->connected)
        o->tp->disconnect(o->tpd);
    o->connected = false;
    o->next_try_us = mono_us() + o->backoff_us;
    o->backoff_us = o->backoff_us * 2 > o->c.reconnect_max_us ? o->c.reconnect_max_us
                                                               : o->backoff_us * 2;
}

static bool net_try_connect(sw_out *o, bool force)
{
    if (o->connected)
        return true;
    if (!force && mono_us() < o->next_try_us)
        return false;
    char err[256];
    if (o->tp->connect(o->tpd, err, sizeof(err)) != 0) {
        o->connected = true; /* so net_disconnect schedules the back-off */
        o->tp->disconnect(o->tpd);
        net_disconnect(o);
        return false;
    }
    o->connected = true;
    o->backoff_us = BACKOFF_MIN_US;
    if (o->ever_connected)
        SW_OCTR_ADD(o->ctr, SW_OCTR_RECONNECTS, 1);
    o->ever_connected = true;
    return true;
}

/* Lines that cannot be sent now: to the spool, else counted as dropped. */
static void net_park(sw_out *o, const char *b, size_t len)
{
    if (!len)
        return;
    long n = o->spool ? sw_spool_append(o->spool, b, len) : 0;
    if (n < 0)
        n = 0;
    if (n)
        SW_OCTR_ADD(o->ctr, SW_OCTR_SPOOLED, sw_out_count_lines(b, (size_t)n));
    if ((size_t)n < len)
        SW_OCTR_ADD(o->ctr, SW_OCTR_DROPPED, sw_out_count_lines(b + n, len - (size_t)n));
}

/* Sends whole lines; returns bytes delivered (rest untouched). */
static size_t net_send(sw_out *o, const char *b, size_t len)
{
    size_t done = 0;
    uint64_t rejected = 0;
    int rc = o->tp->send(o->tpd, b, len, &done, &rejected);
    if (done > len)
        done = len;
    uint64_t lines = sw_out_count_lines(b, done);
    SW_OCTR_ADD(o->ctr, SW_OCTR_SENT, lines - (rejected < lines ? rejected : lines));
    if (rejected)
        SW_OCTR_ADD(o->ctr, SW_OCTR_DROPPED, rejected);
    if (rc != 0)
        net_disconnect(o);
    return done;
}

static bool queue_urgent(sw_out *o)
{
    pthread_mutex_lock(&o->mu);
    bool u = o->qlen > o->qcap / 2;
    pthread_mutex_unlock(&o->mu);
    return u;
}

/* Delivers spooled lines in order while the receiver takes them. Stops
 * when the spool is empty, the link fails, or (unless draining for close)
 * the live queue needs the thread. */
static void net_drain(sw_out *o, bool closing)
{
    uint64_t skipped = 0;
    while (o->spool && !sw_spool_empty(o->spool) && net_try_connect(o, false)) {
        size_t n = sw_spool_peek(o->spool, o->peek, SW_OUT_MAX_LINE + SEND_SLICE, &skipped);
        if (n == 0)
            break;
        size_t done = net_send(o, o->peek, n);
        sw_spool_consume(o->spool, done);
        if (done < n || (!closing && queue_urgent(o)))
            break;
    }
    if (skipped)
        SW_OCTR_ADD(o->ctr, SW_OCTR_DROPPED, skipped);
}

static void net_batch(sw_out *o, const char *b, size_t len)
{
    /* Over-long lines can never be spooled and peeked back: drop them. */
    size_t off = 0;
    while (off < len) {
        bool spooling = o->spool && !sw_spool_empty(o->spool);
        /* Slice on a line boundary. */
        size_t n = len - off;
        if (n > SEND_SLICE) {
            const char *nl = memchr(b + off + SEND_SLICE - 1, '\n', len - off - SEND_SLICE + 1);
            n = nl ? (size_t)(nl - (b + off)) + 1 : len - off;
        }
        if (n > SW_OUT_MAX_LINE + SEND_SLICE) {
            /* one line longer than SW_OUT_MAX_LINE */
            SW_OCTR_ADD(o->ctr, SW_OCTR_DROPPED, 1);
            off += n;
            continue;
        }
        if (spooling || !net_try_connect(o, false)) {
            net_park(o, b + off, n);
        } else {
            size_t done = net_send(o, b + off, n);
            if (done < n) {
                net_park(o, b + off + done, n - done);
            } else if (len - off - n > 0 && queue_urgent(o)) {
                /* Receiver too slow for the live rate: spool the rest. */
                net_park(o, b + off + n, len - off - n);
                return;
            }
        }
        off += n;
    }
}

static void net_gauges(sw_out *o)
{
    SW_CTR_SET(o->ctr, SW_OCTR_SPOOL_BYTES, o->spool ? sw_spool_pending(o->spool) : 0);
}

static void *net_thread(void *arg)
{
    sw_out *o = arg;
    pthread_mutex_lock(&o->mu);
    for (;;) {
        bool spool_wait = o->spool && !sw_spool_empty(o->spool);
        if (!o->qlen && !o->stop && o->flush_req == o->flush_done &&
            !(spool_wait && o->connected)) {
            uint64_t wait = 200000;
            if (spool_wait) {
                uint64_t now = mono_us();
                wait = o->next_try_us > now ? o->next_try_us - now : 0;
                if (wait > 200000)
                    wait = 200000;
            }
            if (wait) {
                struct timespec ts;
                clock_gettime(CLOCK_REALTIME, &ts);
                uint64_t ns = (uint64_t)ts.tv_nsec + wait * 1000u;
                ts.tv_sec += (time_t)(ns / 1000000000u);
                ts.tv_nsec = (long)(ns % 1000000000u);
                pthread_cond_timedwait(&o->cv_work, &o->mu, &ts);
            }
        }
        size_t blen;
        take_queue(o, &blen);
        uint64_t target = o->flush_req;
        bool stop = o->stop;
        pthread_mutex_unlock(&o->mu);

        /* Spool first: lines parked earlier go before this batch. */
        net_drain(o, false);
        if (blen)
            net_batch(o, o->b, blen);
        net_gauges(o);

        pthread_mutex_lock(&o->mu);
        o->flush_done = target;
        pthread_cond_broadcast(&o->cv_done);
        if (stop && !o->qlen)
            break;
    }
    pthread_mutex_unlock(&o->mu);

    /* Closing: deliver what the receiver will take within the bound; the
     * rest stays in the spool for the next start. */
    uint64_t deadline = mono_us() + o->c.close_timeout_us;
    while (o->spool && !sw_spool_empty(o->spool) && mono_us() < deadline) {
        if (!o->connected) {
            uint64_t now = mono_us();
            if (o->next_try_us > now) {
                uint64_t s = o->next_try_us - now;
                if (now + s > deadline)
                    break;
                usleep((useconds_t)s);
            }
        }
        net_drain(o, true);
    }
    net_gauges(o);
    if (o->connected)
        o->tp->disconnect(o->tpd);
    o->connected = false;
    return NULL;
}

/* ------------------------------------------------------------ public */

static void out_free(sw_out *o)
{
    if (o->file)
        sw_ofile_close(o->file);
    if (o->tpd)
        o->tp->destroy(o->tpd);
    sw_spool_close(o->spool);
    free(o->q);
    free(o->b);
    free(o->peek);
    pthread_mutex_destroy(&o->mu);
    pthread_cond_destroy(&o->cv_work);
    pthread_cond_destroy(&o->cv_space);
    pthread_cond_destroy(&o->cv_done);
}

static int out_open(sw_out *o, const char *logdir, char *err, size_t errlen)
{
    o->qcap = (size_t)o->c.buffer_size;
    o->q = malloc(o->qcap);
    o->b = malloc(o->qcap);
    if (!o->q || !o->b) {
        snprintf(err, errlen, "output %s: cannot allocate %zu byte queue", o->c.name, o->qcap);
        return -1;
    }
    if (o->c.type == SW_OUT_REGULAR) {
        o->file = sw_ofile_open(&o->c, logdir, o->ctr, err, errlen);
        return o->file ? 0 : -1;
    }
    switch (o->c.type) {
    case SW_OUT_UNIX_STREAM: o->tp = &sw_transport_unix_stream; break;
    case SW_OUT_UNIX_DGRAM: o->tp = &sw_transport_unix_dgram; break;
    case SW_OUT_SYSLOG: o->tp = &sw_transport_syslog; break;
    default: o->tp = &sw_transport_redis; break;
    }
    o->tpd = o->tp->create(&o->c, err, errlen);
    if (!o->tpd)
        return -1;
    o->peek = malloc(SW_OUT_MAX_LINE + SEND_SLICE);
    if (!o->peek) {
        snprintf(err, errlen, "output %s: out of memory", o->c.name);
        return -1;
    }
    if (o->c.spool_enabled) {
        char dir[SW_OUT_PATH_MAX + 64];
        if (o->c.spool_dir[0])
            snprintf(dir, sizeof(dir), "%s", o->c.spool_dir);
        else
            snprintf(dir, sizeof(dir), "%s/spool/%s", logdir, o->c.name);
        char e2[256];
        o->spool = sw_spool_open(dir, o->c.spool_size, e2, sizeof(e2));
        if (!o->spool) {
            snprintf(err, errlen, "output %s: %s", o->c.name, e2);
            return -1;
        }
        net_gauges(o);
    }
    o->backoff_us = BACKOFF_MIN_US;
    return 0;
}

sw_outputs *sw_outputs_open(const sw_outputs_config *c, const char *logdir, char *err,
                            size_t errlen)
{
    sw_outputs *os = calloc(1, sizeof(*os));
    if (!os) {
        snprintf(err, errlen, "outputs: out of memory");
        return NULL;
    }
    pthread_mutex_init(&os->fan_mu, NULL);
    for (size_t i = 0; i < c->n && i < SW_OUTPUTS_MAX; i++) {
        sw_out *o = &os->out[i];
        o->c = c->out[i];
        if (o->c.buffer_size < 2 * (uint64_t)SW_OUT_MAX_LINE)
            o->c.buffer_size = 2 * (uint64_t)SW_OUT_MAX_LINE;
        o->parent = os;
        o->ctr = &os->vals[i * SW_OCTR_N];
        for (int k = 0; k < SW_OCTR_N; k++) {
            snprintf(os->name_store[i * SW_OCTR_N + k], sizeof(os->name_store[0]),
                     "spanwatch.output.%s.%s", o->c.name, ctr_suffix[k]);
            os->names[i * SW_OCTR_N + k] = os->name_store[i * SW_OCTR_N + k];
        }
        pthread_mutex_init(&o->mu, NULL);
        pthread_cond_init(&o->cv_work, NULL);
        pthread_cond_init(&o->cv_space, NULL);
        pthread_cond_init(&o->cv_done, NULL);
        os->n = i + 1;
        if (out_open(o, logdir, err, errlen) != 0)
            goto fail;
    }
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        if (pthread_create(&o->thr, NULL, o->file ? file_thread : net_thread, o) != 0) {
            snprintf(err, errlen, "output %s: cannot start thread", o->c.name);
            goto fail;
        }
        o->thr_started = true;
    }
    return os;
fail:
    sw_outputs_close(os);
    return NULL;
}

void sw_outputs_write(sw_outputs *os, const char *line, size_t len)
{
    if (!os || !len)
        return;
    bool fan = os->n > 1;
    if (fan)
        pthread_mutex_lock(&os->fan_mu);
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        pthread_mutex_lock(&o->mu);
        if (len > o->qcap / 2) {
            SW_OCTR_ADD(o->ctr, o->file ? SW_OCTR_WRITE_ERRORS : SW_OCTR_DROPPED, 1);
            pthread_mutex_unlock(&o->mu);
            continue;
        }
        if (o->qlen + len > o->qcap) {
            if (!o->file) {
                /* Network outputs never block the pipeline. */
                SW_OCTR_ADD(o->ctr, SW_OCTR_DROPPED, 1);
                pthread_mutex_unlock(&o->mu);
                continue;
            }
            /* The file is the record of truth: wait for the disk. */
            pthread_cond_signal(&o->cv_work);
            while (o->qlen + len > o->qcap && !o->stop)
                pthread_cond_wait(&o->cv_space, &o->mu);
            if (o->qlen + len > o->qcap) {
                /* closing while full: the line cannot be queued */
                SW_OCTR_ADD(o->ctr, SW_OCTR_WRITE_ERRORS, 1);
                pthread_mutex_unlock(&o->mu);
                continue;
            }
        }
        bool was_empty = o->qlen == 0;
        memcpy(o->q + o->qlen, line, len);
        o->qlen += len;
        pthread_mutex_unlock(&o->mu);
        if (was_empty)
            pthread_cond_signal(&o->cv_work);
    }
    if (fan)
        pthread_mutex_unlock(&os->fan_mu);
}

void sw_outputs_flush(sw_outputs *os)
{
    if (!os)
        return;
    uint64_t want[SW_OUTPUTS_MAX];
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        pthread_mutex_lock(&o->mu);
        want[i] = ++o->flush_req;
        pthread_cond_signal(&o->cv_work);
        pthread_mutex_unlock(&o->mu);
    }
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        pthread_mutex_lock(&o->mu);
        while (o->thr_started && o->flush_done < want[i])
            pthread_cond_wait(&o->cv_done, &o->mu);
        pthread_mutex_unlock(&o->mu);
    }
}

void sw_outputs_reopen(sw_outputs *os)
{
    if (!os)
        return;
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        pthread_mutex_lock(&o->mu);
        o->reopen = true;
        pthread_cond_signal(&o->cv_work);
        pthread_mutex_unlock(&o->mu);
    }
}

void sw_outputs_close(sw_outputs *os)
{
    if (!os)
        return;
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        pthread_mutex_lock(&o->mu);
        o->stop = true;
        pthread_cond_broadcast(&o->cv_work);
        pthread_cond_broadcast(&o->cv_space);
        pthread_mutex_unlock(&o->mu);
    }
    for (size_t i = 0; i < os->n; i++) {
        sw_out *o = &os->out[i];
        if (o->thr_started)
            pthread_join(o->thr, NULL);
        out_free(o);
    }
    free(os);
}

sw_ctr_group sw_outputs_counters(const sw_outputs *os)
{
    sw_ctr_group g = {os ? os->names : NULL, os ? os->vals : NULL, os ? os->n * SW_OCTR_N : 0};
    return g;
}

bool sw_outputs_degraded(const sw_outputs *os)
{
    if (!os)
        return false;
    for (size_t i = 0; i < os->n; i++)
        if (SW_CTR_GET(os->out[i].ctr, SW_OCTR_DISK_FULL))
            return true;
    return false;
}

/* ------------------------------------------------------------ socket helpers */

int sw_out_connect_fd(int fd, const void *sa, unsigned salen, uint64_t timeout_us)
{
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0)
        return -1;
    int rc = connect(fd, sa, salen);
    if (rc != 0 && errno == EINPROGRESS) {
        struct pollfd p = {.fd = fd, .events = POLLOUT};
        int ms = (int)(timeout_us / 1000u);
        if (poll(&p, 1, ms > 0 ? ms : 1) != 1)
            return -1;
        int e = 0;
        socklen_t el = sizeof(e);
        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &el) != 0 || e != 0)
            return -1;
        rc = 0;
    }
    if (rc != 0 || fcntl(fd, F_SETFL, fl) < 0)
        return -1;
    return 0;
}

void sw_out_set_timeouts(int fd, uint64_t timeout_us)
{
    struct timeval tv = {.tv_sec = (time_t)(timeout_us / 1000000u),
                         .tv_usec = (suseconds_t)(timeout_us % 1000000u)};
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
}

int sw_out_send_all(int fd, const char *buf, size_t len, size_t *done)
{
    *done = 0;
    while (*done < len) {
        ssize_t w = send(fd, buf + *done, len - *done, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        *done += (size_t)w;
    }
    return 0;
}

bool sw_out_peer_gone(int fd)
{
    struct pollfd p = {.fd = fd, .events = POLLIN | POLLRDHUP};
    if (poll(&p, 1, 0) <= 0)
        return false;
    return (p.revents & (POLLIN | POLLRDHUP | POLLERR | POLLHUP)) != 0;
}
