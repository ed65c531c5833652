#include "sensor/app.h"

#include <ndpi_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decoders/dns.h"
#include "decoders/http.h"
#include "decoders/tls.h"
#include "sensor/detect.h"
#include "sensor/eve.h"
#include "sensor/eve_dns.h"
#include "sensor/eve_http.h"
#include "sensor/eve_tls.h"
#include "sensor/files.h"
#include "signatures/sig_engine.h"

enum { P_NONE = 0, P_HTTP, P_TLS, P_DNS, P_OTHER };
static const char *const parser_names[] = {NULL, "http", "tls", "dns", NULL};

#define SW_APP_COUNTERS(X)                                       \
    X(A_FLOWS_HTTP, "app_layer.flow.http")                       \
    X(A_FLOWS_TLS, "app_layer.flow.tls")                         \
    X(A_FLOWS_DNS_UDP, "app_layer.flow.dns_udp")                 \
    X(A_FLOWS_DNS_TCP, "app_layer.flow.dns_tcp")                 \
    X(A_TX_DNS_UDP, "app_layer.tx.dns_udp")                      \
    X(A_TX_DNS_TCP, "app_layer.tx.dns_tcp")                      \
    X(A_NDPI_FLOWS, "spanwatch.ndpi.flows_classified")           \
    X(A_NDPI_GIVEUP, "spanwatch.ndpi.flows_given_up")            \
    X(A_NDPI_MEMUSE, "spanwatch.ndpi.memuse")                    \
    X(A_STATE_FAIL, "spanwatch.app_layer.state_alloc_failed")    \
    X(A_GAP_EVENTS, "spanwatch.app_layer.gaps")                  \
    X(A_FILES, "spanwatch.files.total")                          \
    X(A_FILES_TRUNC, "spanwatch.files.truncated")                \
    X(A_MEMCAP, "spanwatch.app_layer.memcap_hit")                \
    X(A_MEMUSE, "spanwatch.app_layer.memuse")

enum {
#define X(id, name) SW_CTR_##id,
    SW_APP_COUNTERS(X)
#undef X
    SW_APP_CTR_COUNT
};

static const char *const app_ctr_names[] = {
#define X(id, name) name,
    SW_APP_COUNTERS(X)
#undef X
};

#define MAX_DNS_PORTS 16

typedef struct sw_app_shared {
    sw_http_config http;
    sw_tls_config tls;
    sw_dns_config dns;
    uint16_t dns_ports[MAX_DNS_PORTS]; /* app-layer.dns.ports */
    size_t n_dns_ports;
    uint64_t memcap; /* app-layer.memcap: parser state bytes, whole sensor */
} sw_app_shared;

static bool is_dns_port(const sw_app_shared *s, uint16_t p)
{
    for (size_t i = 0; i < s->n_dns_ports; i++)
        if (s->dns_ports[i] == p)
            return true;
    return false;
}

/* Per-flow app-layer state; recycled through a per-worker free list so
 * flow churn does not hit malloc for the common parts. */
typedef struct sw_flow_app {
    struct sw_flow_app *next_free;
    sw_stream st[2]; /* 0: to server, 1: to client */
    struct ndpi_flow_struct *ndpi;
    uint16_t ndpi_pkts;
    uint8_t ndpi_done;
    uint8_t parser;
    uint8_t sniffed[2];
    uint16_t ndpi_master, ndpi_app;
    ndpi_protocol_category_t ndpi_cat;
    uint64_t ndpi_risk;
    sw_http_state *http;
    sw_tls_state *tls;
    uint8_t tls_logged;
    sw_dns_tcp *dnstcp[2];
    uint64_t dns_requests;
    uint32_t state_bytes; /* what this flow's parsers count against the memcap */
    /* Only HTTP flows carry files; the file context (hash states and the
     * first 4 KiB for libmagic) comes from a per-worker pool when a
     * response body starts, so a million idle flows do not pay for it. */
    struct sw_file_slot *file;
    uint8_t file_open;
    uint8_t detect_flags; /* detect.c's per-flow bits */
    /* Bytes held while they could still start HTTP or TLS: a request sent
     * one byte per segment must not escape protocol recognition. */
    uint8_t sniff_buf[2][16];
    uint8_t sniff_len[2];
    char checkin_name[128]; /* server name the beacon check-in used */
    uint64_t last_client_payload_us; /* client bursts on long connections */
    /* app_proto as events write it, recomputed only when the parser or
     * nDPI's verdict changes (it is asked for on every inspected packet) */
    uint8_t name_parser, name_ndpi_done;
    uint8_t app_id; /* sw_detect_app_id(app_name) */
    char app_name[32];
    sw_sig_flow sig;      /* flowbits */
    /* stream inspection tails per direction: TCP flows with payload only,
     * from a per-worker pool (half a KiB most flows never need) */
    struct sw_dstream_slot *dstream;
} sw_flow_app;

typedef struct sw_dstream_slot {
    struct sw_dstream_slot *next_free;
    sw_detect_stream_state st[2];
} sw_dstream_slot;

typedef struct sw_file_slot {
    struct sw_file_slot *next_free;
    sw_file f;
} sw_file_slot;

typedef struct sw_app_worker {
    struct ndpi_detection_module_struct *ndpi;
    sw_files_thread *files;
    struct sw_detect_worker *detect;
    sw_flow_app *free_list;
    sw_file_slot *free_files;
    sw_dstream_slot *free_dstreams;
    uint64_t ctr[SW_APP_CTR_COUNT];
    uint64_t state_bytes; /* parser state held now (against the memcap) */
    uint64_t memcap;      /* this worker's share */
    uint64_t dns_ctr[SW_DNS_CTR_COUNT];
    uint64_t http_ctr[SW_HTTP_CTR_COUNT];
    uint64_t tls_ctr[SW_TLS_CTR_COUNT];
    sw_dns_msg dns_msg; /* large: one per worker, reused */
} sw_app_worker;

/* Context for stream/parser callbacks. */
typedef struct cb_ctx {
    sw_worker *w;
    sw_flow *f;
    int dir;
    uint64_t ts_us;
    const sw_packet *p; /* the packet, when it travelled in direction dir */
} cb_ctx;

static inline sw_app_worker *AW(sw_worker *w) { return w->app; }
static inline sw_app_shared *AS(sw_worker *w) { return w->eng->app; }

int sw_app_shared_init(sw_engine *e, char *err, size_t errlen)
{
    sw_app_shared *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    sw_http_config_defaults(&s->http);
    sw_tls_config_defaults(&s->tls);
    sw_dns_config_defaults(&s->dns);
    s->dns_ports[0] = 53;
    s->n_dns_ports = 1;
    s->memcap = 1ULL << 30;
    if (sw_cfg_get_size(e->cfg_root, "app-layer.memcap", &s->memcap, err, errlen)) {
        free(s);
        return -1;
    }
    if (sw_cfg_get_ports(e->cfg_root, "app-layer.dns.ports", s->dns_ports, MAX_DNS_PORTS,
                         &s->n_dns_ports, NULL, err, errlen) < 0) {
        free(s);
        return -1;
    }
    if (sw_http_config_load(e->cfg_root, &s->http, err, errlen) ||
        sw_tls_config_load(e->cfg_root, &s->tls, err, errlen) ||
        sw_dns_config_load(e->cfg_root, &s->dns, err, errlen)) {
        free(s);
        return -1;
    }
    e->app = s;
    if (sw_detect_shared_init(e, err, errlen) < 0) {
        free(s);
        e->app = NULL;
        return -1;
    }
    return 0;
}

void sw_app_shared_fini(sw_engine *e)
{
    sw_detect_shared_fini(e);
    free(e->app);
    e->app = NULL;
}

sw_app_worker *sw_app_worker_new(sw_worker *w, char *err, size_t errlen)
{
    sw_app_worker *a = calloc(1, sizeof(*a));
    if (!a) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    if (w->eng->cfg.ndpi) {
        a->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
        if (!a->ndpi) {
            snprintf(err, errlen, "nDPI: cannot initialise the detection module");
            free(a);
            return NULL;
        }
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(a->ndpi, &all);
        ndpi_finalize_initialization(a->ndpi);
    }
    a->memcap = w->eng->app->memcap / (w->eng->nworkers ? w->eng->nworkers : 1);
    char ferr[256];
    a->files = sw_files_thread_new(ferr, sizeof ferr);
    /* Without libmagic's database files still get hashes; only "magic" is
     * missing, so this is not fatal. */
    w->app = a;
    a->detect = sw_detect_worker_new(w, err, errlen);
    if (!a->detect) {
        sw_app_worker_free(a);
        w->app = NULL;
        return NULL;
    }
    return a;
}

void sw_app_worker_free(sw_app_worker *a)
{
    if (!a)
        return;
    sw_detect_worker_free(a->detect);
    while (a->free_list) {
        sw_flow_app *fa = a->free_list;
        a->free_list = fa->next_free;
        free(fa);
    }
    while (a->free_dstreams) {
        sw_dstream_slot *ds = a->free_dstreams;
        a->free_dstreams = ds->next_free;
        free(ds);
    }
    while (a->free_files) {
        sw_file_slot *fs = a->free_files;
        a->free_files = fs->next_free;
        sw_file_cleanup(&fs->f);
        free(fs);
    }
    if (a->ndpi)
        ndpi_exit_detection_module(a->ndpi);
    sw_files_thread_free(a->files);
    free(a);
}

static sw_flow_app *fa_get(sw_worker *w)
{
    sw_app_worker *a = AW(w);
    sw_flow_app *fa = a->free_list;
    if (fa) {
        a->free_list = fa->next_free;
        memset(fa, 0, sizeof(*fa));
        return fa;
    }
    fa = calloc(1, sizeof(*fa));
    if (!fa)
        SW_CTR_INC(a->ctr, SW_CTR_A_STATE_FAIL);
    return fa;
}

static void fa_put(sw_worker *w, sw_flow_app *fa)
{
    sw_app_worker *a = AW(w);
    sw_stream_release(w->streams, &fa->st[0]);
    sw_stream_release(w->streams, &fa->st[1]);
    if (fa->ndpi) {
        ndpi_free_flow(fa->ndpi);
        fa->ndpi = NULL;
    }
    sw_http_free(fa->http);
    sw_tls_free(fa->tls);
    free(fa->dnstcp[0]);
    free(fa->dnstcp[1]);
    if (fa->dstream) {
        fa->dstream->next_free = a->free_dstreams;
        a->free_dstreams = fa->dstream;
        fa->dstream = NULL;
    }
    if (fa->file) {
        fa->file->next_free = a->free_files;
        a->free_files = fa->file;
        fa->file = NULL;
    }
    fa->http = NULL;
    fa->tls = NULL;
    fa->dnstcp[0] = fa->dnstcp[1] = NULL;
    a->state_bytes -= fa->state_bytes;
    fa->state_bytes = 0;
    SW_CTR_SET(a->ctr, SW_CTR_A_MEMUSE, a->state_bytes);
    fa->next_free = a->free_list;
    a->free_list = fa;
}

/* ---------- app_proto naming ---------- */

static void lower_copy(char *dst, size_t cap, const char *src)
{
    size_t i = 0;
    for (; src[i] && i + 1 < cap; i++)
        dst[i] = (char)((src[i] >= 'A' && src[i] <= 'Z') ? src[i] + 32 : src[i]);
    dst[i] = '\0';
}

/* Suricata's app_proto names where both know the protocol, else nDPI's
 * name in lower case; "failed" when classification gave up. */
static const char *app_proto_compute(sw_worker *w, const sw_flow *f, char *buf, size_t cap)
{
    const sw_flow_app *fa = (const sw_flow_app *)f->app;
    if (!fa)
        return NULL;
    if (fa->parser && parser_names[fa->parser])
        return parser_names[fa->parser];
    if (!AW(w)->ndpi || (!fa->ndpi_master && !fa->ndpi_app))
        return fa->ndpi_done ? "failed" : NULL;
    uint16_t id = fa->ndpi_master ? fa->ndpi_master : fa->ndpi_app;
    const char *n = ndpi_get_proto_name(AW(w)->ndpi, id);
    if (!n)
        return NULL;
    lower_copy(buf, cap, n);
    if (strcmp(buf, "dns") == 0 || strcmp(buf, "http") == 0 || strcmp(buf, "tls") == 0 ||
        strcmp(buf, "ssh") == 0 || strcmp(buf, "smtp") == 0 || strcmp(buf, "ftp") == 0 ||
        strcmp(buf, "smb") == 0 || strcmp(buf, "ntp") == 0 || strcmp(buf, "dhcp") == 0 ||
        strcmp(buf, "snmp") == 0 || strcmp(buf, "sip") == 0 || strcmp(buf, "rdp") == 0 ||
        strcmp(buf, "quic") == 0 || strcmp(buf, "mqtt") == 0)
        return buf;
    if (strcmp(buf, "ftp_control") == 0)
        return "ftp";
    if (strcmp(buf, "kerberos") == 0)
        return "krb5";
    if (strcmp(buf, "ike") == 0 || strcmp(buf, "ipsec") == 0)
        return "ike";
    return buf;
}

static const char *app_proto_name(sw_worker *w, const sw_flow *f, char *buf, size_t cap)
{
    sw_flow_app *fa = (sw_flow_app *)f->app;
    if (!fa)
        return NULL;
    if (fa->name_parser != fa->parser || fa->name_ndpi_done != fa->ndpi_done ||
        !fa->app_name[0]) {
        const char *n = app_proto_compute(w, f, buf, cap);
        snprintf(fa->app_name, sizeof fa->app_name, "%s", n ? n : "");
        fa->app_id = (uint8_t)sw_detect_app_id(n);
        fa->name_parser = fa->parser;
        fa->name_ndpi_done = fa->ndpi_done;
    }
    return fa->app_name[0] ? fa->app_name : NULL;
}

int sw_app_flow_id(sw_worker *w, const sw_flow *f)
{
    char b[48];
    if (!app_proto_name(w, f, b, sizeof b))
        return 0;
    return ((const sw_flow_app *)f->app)->app_id;
}

const char *sw_app_flow_proto(sw_worker *w, const sw_flow *f, char *buf, size_t cap)
{
    return app_proto_name(w, f, buf, cap);
}

/* ---------- DNS ---------- */

static void dns_message(cb_ctx *c, const uint8_t *msg, size_t n, bool tcp)
{
    sw_app_worker *a = AW(c->w);
    sw_flow_app *fa = (sw_flow_app *)c->f->app;
    sw_dns_msg *m = &a->dns_msg;
    int rc = sw_dns_parse(msg, n, m);
    sw_dns_count(a->dns_ctr, rc, m);
    if (rc < 0) {
        sw_detect_dns_malformed(c->w, c->f, c->dir == 0, c->ts_us);
        return;
    }
    bool response = m->qr;
    /* Suricata 8 makes every DNS message its own transaction */
    uint64_t tx_id = fa->dns_requests++;
    SW_CTR_INC(a->ctr, tcp ? SW_CTR_A_TX_DNS_TCP : SW_CTR_A_TX_DNS_UDP);
    sw_json *j = &c->w->json;
    sw_eve_begin_flow(j, "dns", c->ts_us, c->f, "dns", c->w->cur_pcap_cnt, c->dir == 1);
    sw_eve_dns_write(j, m, tx_id, response, &AS(c->w)->dns);
    sw_worker_emit(c->w, j);
    sw_detect_dns(c->w, c->f, m, response, c->ts_us, tx_id, c->dir == 0);
}

static void dns_tcp_msg(void *u, const uint8_t *msg, size_t n)
{
    dns_message((cb_ctx *)u, msg, n, true);
}

/* ---------- HTTP ---------- */

/* Protocol anomalies the HTTP parser found in a transaction, as Suricata's
 * applayer anomaly events. */
static void http_anomalies(cb_ctx *c, const sw_http_tx *tx)
{
    sw_worker *w = c->w;
    for (unsigned bit = 1; bit && bit <= tx->events; bit <<= 1) {
        if (!(tx->events & bit))
            continue;
        sw_json *j = &w->json;
        sw_eve_begin_flow(j, "anomaly", c->ts_us, c->f, "http", w->cur_pcap_cnt, false);
        swj_uint(j, "tx_id", tx->tx_id);
        sw_eve_http_anomaly(j, bit);
        sw_worker_emit(w, j);
    }
}

static void http_on_request(void *u, const sw_http_tx *tx)
{
    cb_ctx *c = u;
    http_anomalies(c, tx);
    sw_detect_http_request(c->w, c->f, tx);
}

static sw_file_slot *file_slot(sw_worker *w, sw_flow_app *fa)
{
    if (fa->file)
        return fa->file;
    sw_app_worker *a = AW(w);
    sw_file_slot *fs = a->free_files;
    if (fs) {
        a->free_files = fs->next_free;
    } else {
        fs = calloc(1, sizeof(*fs));
        if (fs && sw_file_init(&fs->f) < 0) {
            free(fs);
            fs = NULL;
        }
        if (!fs) {
            SW_CTR_INC(a->ctr, SW_CTR_A_STATE_FAIL);
            return NULL;
        }
    }
    fs->next_free = NULL;
    fa->file = fs;
    return fs;
}

static void http_on_response_headers(void *u, const sw_http_tx *tx)
{
    cb_ctx *c = u;
    sw_flow_app *fa = (sw_flow_app *)c->f->app;
    if (!file_slot(c->w, fa))
        return;
    sw_file_open_http(&fa->file->f, tx);
    fa->file_open = 1;
    sw_detect_http_response(c->w, c->f, tx);
}

static void http_on_body(void *u, const sw_http_tx *tx, const uint8_t *data, size_t len)
{
    cb_ctx *c = u;
    sw_flow_app *fa = (sw_flow_app *)c->f->app;
    if (!fa->file_open)
        return;
    if (data)
        sw_file_update(&fa->file->f, data, len);
    else
        sw_file_gap(&fa->file->f, len);
}

static void http_on_tx_complete(void *u, const sw_http_tx *tx)
{
    cb_ctx *c = u;
    sw_worker *w = c->w;
    sw_flow_app *fa = (sw_flow_app *)c->f->app;
    uint64_t ts = tx->ts_response_us ? tx->ts_response_us : tx->ts_request_us;
    if (!ts)
        ts = c->ts_us;
    sw_json *j = &w->json;
    sw_eve_begin_flow(j, "http", ts, c->f, "http", w->cur_pcap_cnt, false);
    swj_uint(j, "tx_id", tx->tx_id);
    sw_eve_http_event(j, tx, AS(w)->http.dump_all_headers);
    sw_worker_emit(w, j);
    if (fa->file_open) {
        sw_file *file = &fa->file->f;
        sw_file_close(file, AW(w)->files, tx->resp_truncated || !tx->resp_complete);
        fa->file_open = 0;
        /* Suricata logs a file only when a body was transferred. */
        if (file->size > 0 || file->gaps) {
            SW_CTR_INC(AW(w)->ctr, SW_CTR_A_FILES);
            if (file->state == SW_FILE_TRUNCATED)
                SW_CTR_INC(AW(w)->ctr, SW_CTR_A_FILES_TRUNC);
            sw_eve_begin_flow(j, "fileinfo", ts, c->f, "http", w->cur_pcap_cnt, true);
            sw_eve_http(j, tx);
            sw_eve_fileinfo(j, file);
            sw_worker_emit(w, j);
            sw_detect_file(w, c->f, tx, file, ts);
        }
    }
}

static const sw_http_callbacks http_cbs = {
    .on_request_complete = http_on_request,
    .on_response_headers = http_on_response_headers,
    .on_response_body = http_on_body,
    .on_tx_complete = http_on_tx_complete,
};

/* ---------- TLS ---------- */

static void tls_log(sw_worker *w, sw_flow *f, uint64_t ts)
{
    sw_flow_app *fa = (sw_flow_app *)f->app;
    if (fa->tls_logged || !fa->tls)
        return;
    if (!(sw_tls_progress(fa->tls) & (SW_TLS_CLIENT_HELLO | SW_TLS_SERVER_HELLO)))
        return;
    fa->tls_logged = 1;
    sw_json *j = &w->json;
    sw_eve_begin_flow(j, "tls", ts, f, "tls", w->cur_pcap_cnt, false);
    sw_eve_tls(j, fa->tls);
    sw_worker_emit(w, j);
    sw_detect_tls(w, f, fa->tls, ts);
    sw_tls_drop_certs(fa->tls); /* tls.certs rules have seen it */
}

/* ---------- stream delivery and protocol choice ---------- */

static const char *const http_methods[] = {
    "GET ",     "POST ",  "HEAD ",  "PUT ",   "DELETE ", "OPTIONS ",  "CONNECT ",   "PATCH ",
    "TRACE ",   "PROPFIND ", "MKCOL ", "COPY ", "MOVE ",  "LOCK ",   "UNLOCK ", "PROPPATCH "};

/* 1: d starts with one of the words; 2: d is a proper prefix of one. */
static int word_match(const uint8_t *d, uint32_t n, const char *const *words, size_t nw)
{
    int best = 0;
    for (size_t i = 0; i < nw; i++) {
        size_t l = strlen(words[i]);
        if (n >= l && memcmp(d, words[i], l) == 0)
            return 1;
        if (n < l && memcmp(d, words[i], n) == 0)
            best = 2;
    }
    return best;
}

static bool looks_tls(const uint8_t *d, uint32_t n)
{
    if (n >= 3 && d[0] == 0x16 && d[1] == 0x03 && d[2] <= 0x04)
        return true;
    /* SSLv2-compatible ClientHello */
    return n >= 3 && (d[0] & 0x80) && d[2] == 0x01;
}

static uint8_t by_port(const sw_app_shared *as, const sw_flow *f)
{
    uint16_t sp = sw_flow_server_port(f);
    if (is_dns_port(as, sp))
        return P_DNS;
    if (sp == 80 || sp == 8080 || sp == 8000 || sp == 3128)
        return P_HTTP;
    if (sp == 443 || sp == 8443)
        return P_TLS;
    return P_OTHER;
}

/* Picks the parser from the first bytes a flow carries (what Suricata's
 * protocol detection does), falling back on the server port. P_NONE: the
 * bytes so far are too few to tell. */
static uint8_t sniff(const sw_app_shared *as, const sw_flow *f, int dir, const uint8_t *d,
                     uint32_t n)
{
    static const char *const resp[] = {"HTTP/"};
    int m = dir == 0 ? word_match(d, n, http_methods, sizeof http_methods / sizeof *http_methods)
                     : word_match(d, n, resp, 1);
    if (m == 1)
        return P_HTTP;
    if (looks_tls(d, n))
        return P_TLS;
    if (m == 2 || (n < 3 && (d[0] == 0x16 || (d[0] & 0x80))))
        return P_NONE;
    if (is_dns_port(as, sw_flow_server_port(f)))
        return P_DNS;
    return P_OTHER;
}

/* Bytes of parser state a flow of this protocol holds (TLS: its state and
 * a typical handshake buffer). */
/* The HTTP parser takes its buffers as a flow needs them: the memcap
 * follows what it really holds. */
static void http_account(sw_worker *w, sw_flow_app *fa)
{
    sw_app_worker *a = AW(w);
    size_t m = sw_http_mem(fa->http);
    if (m > fa->state_bytes) {
        a->state_bytes += m - fa->state_bytes;
        fa->state_bytes = (uint32_t)m;
        SW_CTR_SET(a->ctr, SW_CTR_A_MEMUSE, a->state_bytes);
    }
}

static uint32_t parser_cost(sw_worker *w, uint8_t parser)
{
    switch (parser) {
    case P_HTTP: return 16u * 1024u; /* the state; buffers are counted as they come */
    case P_TLS: return 32u * 1024u;
    case P_DNS: return 2u * (uint32_t)sizeof(sw_dns_tcp);
    default: return 0;
    }
}

static bool parser_alloc(sw_worker *w, sw_flow *f, sw_flow_app *fa, uint8_t parser)
{
    sw_app_worker *a = AW(w);
    uint32_t cost = parser_cost(w, parser);
    if (cost && a->state_bytes + cost > a->memcap) {
        /* Full: the flow is still tracked, logged and inspected as
         * packets, only its application layer goes unparsed. */
        SW_CTR_INC(a->ctr, SW_CTR_A_MEMCAP);
        fa->parser = P_OTHER;
        return true;
    }
    a->state_bytes += cost;
    fa->state_bytes = cost;
    SW_CTR_SET(a->ctr, SW_CTR_A_MEMUSE, a->state_bytes);
    fa->parser = parser;
    switch (parser) {
    case P_HTTP:
        fa->http = sw_http_new(&AS(w)->http, a->http_ctr);
        SW_CTR_INC(a->ctr, SW_CTR_A_FLOWS_HTTP);
        return fa->http != NULL;
    case P_TLS:
        fa->tls = sw_tls_new(&AS(w)->tls, a->tls_ctr);
        SW_CTR_INC(a->ctr, SW_CTR_A_FLOWS_TLS);
        return fa->tls != NULL;
    case P_DNS:
        fa->dnstcp[0] = malloc(sizeof(sw_dns_tcp));
        fa->dnstcp[1] = malloc(sizeof(sw_dns_tcp));
        if (!fa->dnstcp[0] || !fa->dnstcp[1])
            return false;
        sw_dns_tcp_init(fa->dnstcp[0], a->dns_ctr);
        sw_dns_tcp_init(fa->dnstcp[1], a->dns_ctr);
        SW_CTR_INC(a->ctr, SW_CTR_A_FLOWS_DNS_TCP);
        return true;
    default:
        return true;
    }
}

static void deliver(void *u, const uint8_t *data, uint32_t len)
{
    cb_ctx *c = u;
    sw_worker *w = c->w;
    sw_flow_app *fa = (sw_flow_app *)c->f->app;
    if (!data)
        SW_CTR_INC(AW(w)->ctr, SW_CTR_A_GAP_EVENTS);
    if (fa->parser == P_NONE) {
        int dir = c->dir;
        if (!data) {
            fa->sniff_len[dir] = 0; /* a hole before we could tell: start again */
            return;
        }
        uint8_t comb[32];
        uint32_t have = fa->sniff_len[dir];
        uint32_t take = len < sizeof comb - have ? len : (uint32_t)sizeof comb - have;
        memcpy(comb, fa->sniff_buf[dir], have);
        memcpy(comb + have, data, take);
        uint8_t p = sniff(AS(w), c->f, dir, comb, have + take);
        if (p == P_NONE) {
            if (have + len <= sizeof fa->sniff_buf[dir]) {
                memcpy(fa->sniff_buf[dir] + have, data, len);
                fa->sniff_len[dir] = (uint8_t)(have + len);
                return;
            }
            p = by_port(AS(w), c->f);
        }
        if (!parser_alloc(w, c->f, fa, p)) {
            SW_CTR_INC(AW(w)->ctr, SW_CTR_A_STATE_FAIL);
            fa->parser = P_OTHER;
            return;
        }
        if (have) {
            /* what was held goes first, then this chunk */
            uint8_t held[16];
            memcpy(held, fa->sniff_buf[dir], have);
            fa->sniff_len[dir] = 0;
            deliver(u, held, have);
        }
        if (fa->sniff_len[dir ^ 1]) {
            /* the other side's held bytes belong to this parser too */
            uint8_t held[16];
            uint8_t hn = fa->sniff_len[dir ^ 1];
            memcpy(held, fa->sniff_buf[dir ^ 1], hn);
            fa->sniff_len[dir ^ 1] = 0;
            cb_ctx oc = *c;
            oc.p = NULL;
            oc.dir = dir ^ 1;
            deliver(&oc, held, hn);
        }
    }
    switch (fa->parser) {
    case P_HTTP:
        if (!fa->http)
            return;
        if (data)
            sw_http_feed(fa->http, c->dir, data, len, c->ts_us, &http_cbs, c);
        else
            sw_http_gap(fa->http, c->dir, len, c->ts_us, &http_cbs, c);
        http_account(w, fa);
        break;
    case P_TLS:
        if (!fa->tls)
            return;
        if (data)
            sw_tls_feed(fa->tls, c->dir, data, len);
        else
            sw_tls_gap(fa->tls, c->dir);
        if (sw_tls_progress(fa->tls) & SW_TLS_HANDSHAKE_DONE)
            tls_log(w, c->f, c->ts_us);
        break;
    case P_DNS:
        if (!fa->dnstcp[c->dir])
            return;
        if (data)
            sw_dns_tcp_feed(fa->dnstcp[c->dir], data, len, dns_tcp_msg, c);
        else
            sw_dns_tcp_reset(fa->dnstcp[c->dir]);
        break;
    default:
        break;
    }
}

/* What the stream hands on: to the app layer, then to stream inspection
 * (after, so alerts name the protocol the first bytes revealed). */
static void stream_data(void *u, const uint8_t *data, uint32_t len)
{
    cb_ctx *c = u;
    deliver(u, data, len);
    sw_flow_app *fa = (sw_flow_app *)c->f->app;
    if (!fa)
        return;
    if (!fa->dstream) {
            sw_app_worker *a = AW(c->w);
            fa->dstream = a->free_dstreams;
            if (fa->dstream)
                a->free_dstreams = fa->dstream->next_free;
            else
                fa->dstream = malloc(sizeof(*fa->dstream));
            if (fa->dstream)
                memset(fa->dstream, 0, sizeof(*fa->dstream));
        }
        if (fa->dstream)
            sw_detect_stream(c->w, c->f, c->p, c->dir, c->ts_us, &fa->dstream->st[c->dir],
                             data, len);
}

/* Keeps nDPI's verdict (and risks) on the flow. */
static void ndpi_keep(sw_flow_app *fa, ndpi_protocol proto)
{
    fa->ndpi_master = proto.master_protocol;
    fa->ndpi_app = proto.app_protocol;
    fa->ndpi_cat = proto.category;
    fa->ndpi_risk = (uint64_t)fa->ndpi->risk;
    fa->ndpi_done = 1;
}

static void ndpi_step(sw_worker *w, sw_flow *f, sw_flow_app *fa, const sw_packet *p)
{
    sw_app_worker *a = AW(w);
    if (!a->ndpi || fa->ndpi_done)
        return;
    /* Handshake-only TCP flows (scans, SYN floods) carry nothing to
     * classify: nDPI's 688-byte state is taken at the first payload. */
    if (!fa->ndpi && f->key.proto == 6 && !p->l4.payload_len)
        return;
    if (!fa->ndpi) {
        fa->ndpi = ndpi_flow_malloc(SIZEOF_FLOW_STRUCT);
        if (!fa->ndpi) {
            fa->ndpi_done = 1;
            return;
        }
        memset(fa->ndpi, 0, SIZEOF_FLOW_STRUCT);
    }
    uint32_t iplen = p->ip.total_len;
    if (iplen > 0xffff)
        iplen = 0xffff;
    ndpi_protocol proto = ndpi_detection_process_packet(
        a->ndpi, fa->ndpi, p->ip.hdr, (unsigned short)iplen, p->ts_us / 1000);
    fa->ndpi_pkts++;
    bool detected = proto.app_protocol != NDPI_PROTOCOL_UNKNOWN ||
                    proto.master_protocol != NDPI_PROTOCOL_UNKNOWN;
    if (!detected && fa->ndpi_pkts >= w->eng->cfg.ndpi_max_packets) {
        uint8_t guessed = 0;
        proto = ndpi_detection_giveup(a->ndpi, fa->ndpi, 1, &guessed);
        SW_CTR_INC(a->ctr, SW_CTR_A_NDPI_GIVEUP);
        detected = true;
    } else if (detected) {
        SW_CTR_INC(a->ctr, SW_CTR_A_NDPI_FLOWS);
    }
    if (!detected)
        return;
    ndpi_keep(fa, proto);
    /* The verdict is all we keep: the 688-byte struct goes now. */
    ndpi_free_flow(fa->ndpi);
    fa->ndpi = NULL;
}

static void udp_payload(sw_worker *w, sw_flow *f, sw_flow_app *fa, const sw_packet *p,
                        bool to_server)
{
    if (!p->l4.payload_len)
        return;
    bool dns = fa->parser == P_DNS;
    if (fa->parser == P_NONE) {
        uint16_t sp = sw_flow_server_port(f);
        uint16_t cp = sw_flow_client_port(f);
        /* mDNS (5353) and LLMNR (5355) share the format. */
        if (is_dns_port(AS(w), sp) || is_dns_port(AS(w), cp) || sp == 5353 || sp == 5355)
            dns = true;
        else if (fa->ndpi_done && (fa->ndpi_master == NDPI_PROTOCOL_DNS ||
                                   fa->ndpi_app == NDPI_PROTOCOL_DNS))
            dns = true;
        if (dns) {
            fa->parser = P_DNS;
            SW_CTR_INC(AW(w)->ctr, SW_CTR_A_FLOWS_DNS_UDP);
        }
    }
    if (dns) {
        cb_ctx c = {w, f, to_server ? 0 : 1, p->ts_us, p};
        dns_message(&c, p->l4.payload, p->l4.payload_len, false);
    }
}

void sw_app_packet(sw_worker *w, sw_flow *f, const sw_packet *p, bool to_server,
                   bool created)
{
    sw_flow_app *fa = (sw_flow_app *)f->app;
    if (!fa) {
        fa = fa_get(w);
        if (!fa)
            return;
        f->app = (struct sw_flow_app *)fa;
    }
    if (created)
        sw_detect_flow_start(w, f, p);
    ndpi_step(w, f, fa, p);
    bool streamed = false;
    if (f->key.proto == 6) {
        int dir = to_server ? 0 : 1;
        sw_stream *s = &fa->st[dir];
        cb_ctx c = {w, f, dir, p->ts_us, p};
        if (p->l4.tcp_flags & SW_TCP_SYN) {
            sw_stream_syn(s, p->l4.seq);
            /* the SYN/ACK acknowledges the client's ISN that counts */
            if ((p->l4.tcp_flags & SW_TCP_ACK) && !to_server)
                sw_stream_syn(&fa->st[0], p->l4.ack - 1);
        }
        if (p->l4.payload_len && !(p->l4.tcp_flags & SW_TCP_RST)) {
            streamed = !s->depth_hit;
            sw_stream_segment(w->streams, s, p->l4.seq, p->l4.payload, p->l4.payload_len,
                              stream_data, &c);
        }
        if (p->l4.tcp_flags & SW_TCP_ACK) {
            cb_ctx oc = {w, f, !dir, p->ts_us, NULL};
            sw_stream_ack(w->streams, &fa->st[!dir], p->l4.ack, stream_data, &oc);
        }
    } else if (f->key.proto == 17) {
        udp_payload(w, f, fa, p, to_server);
    }
    sw_detect_packet(w, f, p, to_server, streamed);
}

void sw_app_packet_no_flow(sw_worker *w, const sw_packet *p)
{
    sw_detect_packet(w, NULL, p, true, false);
}

static void ndpi_object(sw_worker *w, sw_json *j, const sw_flow_app *fa)
{
    sw_app_worker *a = AW(w);
    if (!a->ndpi || !fa->ndpi_done)
        return;
    char buf[64];
    ndpi_protocol proto = {fa->ndpi_master, fa->ndpi_app, fa->ndpi_cat};
    swj_open_object(j, "ndpi");
    swj_str(j, "protocol", ndpi_protocol2name(a->ndpi, proto, buf, sizeof buf));
    swj_str(j, "category", ndpi_category_get_name(a->ndpi, fa->ndpi_cat));
    if (fa->ndpi_risk) {
        swj_open_array(j, "risks");
        for (unsigned r = 0; r < NDPI_MAX_RISK && r < 64; r++)
            if (fa->ndpi_risk & (1ULL << r))
                swj_str(j, NULL, ndpi_risk2str((ndpi_risk_enum)r));
        swj_close_array(j);
    }
    swj_close_object(j);
}

void sw_app_flow_end(sw_worker *w, sw_flow *f, sw_flow_end_reason why)
{
    sw_flow_app *fa = (sw_flow_app *)f->app;
    uint64_t ts = f->last_us;
    if (fa) {
        if (f->key.proto == 6) {
            cb_ctx c0 = {w, f, 0, ts, NULL}, c1 = {w, f, 1, ts, NULL};
            sw_stream_flush(w->streams, &fa->st[0], stream_data, &c0);
            sw_stream_flush(w->streams, &fa->st[1], stream_data, &c1);
        }
        if (fa->http) {
            cb_ctx c = {w, f, 0, ts, NULL};
            sw_http_close(fa->http, ts, &http_cbs, &c);
        }
        if (fa->tls)
            tls_log(w, f, ts);
        if (!fa->ndpi_done && fa->ndpi && AW(w)->ndpi) {
            /* Never decided: take nDPI's best guess so the flow event still
             * names an application where it can. */
            uint8_t guessed = 0;
            ndpi_keep(fa, ndpi_detection_giveup(AW(w)->ndpi, fa->ndpi, 1, &guessed));
            SW_CTR_INC(AW(w)->ctr, SW_CTR_A_NDPI_GIVEUP);
        }
    }
    sw_detect_flow_end(w, f);
    char pb[48];
    sw_json *j = &w->json;
    sw_eve_begin_flow(j, "flow", ts, f, app_proto_name(w, f, pb, sizeof pb), 0, false);
    sw_eve_flow_body(j, f, why);
    if (fa)
        ndpi_object(w, j, fa);
    sw_detect_geoip(w, j, sw_flow_client_ip(f), sw_flow_server_ip(f),
                    f->key.ipver == 6 ? 6 : 4);
    sw_worker_emit(w, j);
    if (fa) {
        fa_put(w, fa);
        f->app = NULL;
    }
}

size_t sw_app_counter_groups(sw_worker *w, sw_ctr_group *out, size_t max)
{
    sw_app_worker *a = AW(w);
    size_t n = 0;
    if (!a || max < 4)
        return 0;
    out[n++] = (sw_ctr_group){app_ctr_names, a->ctr, SW_APP_CTR_COUNT};
    out[n++] = sw_dns_ctr_group(a->dns_ctr);
    out[n++] = sw_http_counters(a->http_ctr);
    out[n++] = sw_tls_ctr_group(a->tls_ctr);
    n += sw_detect_counter_groups(w, out + n, max - n);
    return n;
}

size_t sw_app_shared_counter_groups(sw_engine *e, sw_ctr_group *out, size_t max)
{
    return sw_detect_shared_counter_groups(e, out, max);
}

void sw_app_reload(sw_engine *e) { sw_detect_reload(e); }
void sw_app_housekeeping(sw_engine *e, uint64_t now_us) { sw_detect_housekeeping(e, now_us); }

struct sw_detect_worker *sw_app_detect(sw_worker *w) { return AW(w)->detect; }

sw_sig_flow *sw_app_sigflow(sw_flow *f)
{
    return f->app ? &((sw_flow_app *)f->app)->sig : NULL;
}

uint64_t *sw_app_checkin_last(sw_flow *f)
{
    return f->app ? &((sw_flow_app *)f->app)->last_client_payload_us : NULL;
}

bool sw_app_flow_is_http(const sw_flow *f)
{
    return f->app && ((const sw_flow_app *)f->app)->parser == P_HTTP;
}

char *sw_app_checkin_name(sw_flow *f)
{
    return f->app ? ((sw_flow_app *)f->app)->checkin_name : NULL;
}

bool sw_app_stream_sizes(const sw_flow *f, uint64_t *client, uint64_t *server)
{
    const sw_flow_app *a = f->app;
    if (!a)
        return false;
    *client = a->st[0].delivered + (a->st[0].started ? 1 : 0);
    *server = a->st[1].delivered + (a->st[1].started ? 1 : 0);
    return true;
}

uint16_t sw_app_tls_version(const sw_flow *f, bool client)
{
    const sw_flow_app *a = f->app;
    if (!a || !a->tls)
        return 0;
    return client ? sw_tls_client_version(a->tls) : sw_tls_server_version(a->tls);
}

uint8_t *sw_app_detect_flags(sw_flow *f)
{
    return f->app ? &((sw_flow_app *)f->app)->detect_flags : NULL;
}
