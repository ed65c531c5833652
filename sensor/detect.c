#include "sensor/detect.h"

#include <dirent.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>

#include "sensor/app.h"
#include "sensor/beacon.h"
#include "sensor/community_id.h"
#include "sensor/eve.h"
#include "sensor/eve_beacon.h"
#include "sensor/eve_dns.h"
#include "sensor/eve_http.h"
#include "sensor/eve_tls.h"
#include "sensor/geoip.h"
#include "decoders/decode.h"
#include "signatures/ioc.h"
#include "signatures/sig_engine.h"

/* Built-in detectors: sids in the project's local range, gid 1. */
#define SID_EXEC_DOWNLOAD 9300001u
#define SID_FILE_TYPE_MISMATCH 9300002u
#define SID_HEARTBLEED_OVERFLOW 9300010u
#define SID_HEARTBLEED_ENCRYPTED 9300011u
#define SID_IOC_BASE 9400000u /* + sw_ioc_type */

#define MAX_RULE_FILES 512
/* Stream data is inspected in windows of at most this many new bytes (a
 * larger chunk is cut, each piece keeping the previous one's tail). */
#define STREAM_WIN 65536u

#define SW_DETECT_COUNTERS(X)                                     \
    X(D_ALERTS, "spanwatch.detect.alerts_written")                \
    X(D_IOC_HITS, "spanwatch.ioc.hits")                           \
    X(D_BEACON_ALERTS, "spanwatch.detect.beacon_alerts_written")  \
    X(D_BUILTIN, "spanwatch.detect.builtin_alerts")               \
    X(D_GEOIP_LOOKUPS, "spanwatch.geoip.lookups")               \
    X(D_TRUSTED_DOWNLOADS, "spanwatch.files.trusted_downloads")

enum {
#define X(id, name) SW_CTR_##id,
    SW_DETECT_COUNTERS(X)
#undef X
    SW_DETECT_CTR_COUNT
};
static const char *const detect_ctr_names[] = {
#define X(id, name) name,
    SW_DETECT_COUNTERS(X)
#undef X
};

typedef struct sw_detect_shared {
    sw_sig_config sig_cfg;
    char *rule_files[MAX_RULE_FILES];
    size_t n_rule_files;
    char classification[512];
    sw_sig_manager *sigs;
    sw_sig_report report;
    sw_ioc_config ioc_cfg;
    sw_ioc_db *ioc;           /* current; swapped on reload */
    sw_ioc_db *ioc_retired;   /* previous generation, freed on the next swap */
    sw_ioc_report ioc_report;
    uint64_t ioc_ctr[SW_IOC_CTR_COUNT];
    sw_beacon_config beacon_cfg;
    sw_beacon *beacon;
    sw_geoip_config geoip_cfg;
    sw_geoip *geoip;
    char geoip_warn[512];
    /* files.trusted-domains: executable downloads from these (and names
     * below them) raise no built-in alert: updates are not infections */
    char trusted[64][128];
    size_t n_trusted;
    /* detect.alert: what signature alerts show of the bytes that matched,
     * as Suricata's eve alert options (payload, payload-printable, packet) */
    bool alert_payload, alert_printable, alert_packet;
    uint64_t alert_payload_max;
} sw_detect_shared;

typedef struct sw_detect_worker {
    /* grace periods for the IoC database: bumped at every quiescent point,
     * offline while the worker is idle */
    uint64_t qepoch;
    int offline;
    sw_sig_thread *sig;
    uint64_t sig_gen;
    sw_sig_alert *alerts; /* detect.packet-alert-max of them */
    int max_alerts;
    uint8_t *swin; /* SW_DETECT_STREAM_TAIL + STREAM_WIN: tail + new data */
    sw_beacon_alert balerts[8];
    uint64_t ctr[SW_DETECT_CTR_COUNT];
} sw_detect_worker;

/* Per-flow detection state lives beside the flow's app state; we keep it
 * here in a side table keyed by the flow pointer would cost a lookup, so
 * flowbits sit in sw_flow_detect inside the app state (see app.c). */

static inline sw_detect_shared *DS(sw_worker *w) { return w->eng->detect; }
static inline sw_detect_worker *DW(sw_worker *w) { return sw_app_detect(w); }

/* ---------- rule files ---------- */

static bool is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

static bool is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

/* The bundled ruleset: installed copy first, then the source tree (so a
 * build directory works without installing). */
const char *sw_bundled_path(const char *rel, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s/%s", SW_DATADIR, rel);
    if (is_file(buf) || is_dir(buf))
        return buf;
    snprintf(buf, cap, "%s/signatures/%s", SW_SOURCE_DIR, rel);
    return buf;
}

static int add_rule_file(sw_detect_shared *d, const char *path)
{
    if (d->n_rule_files >= MAX_RULE_FILES)
        return -1;
    d->rule_files[d->n_rule_files] = strdup(path);
    return d->rule_files[d->n_rule_files] ? (int)d->n_rule_files++ : -1;
}

static int collect_rule_files(sw_engine *e, sw_detect_shared *d, char *err, size_t errlen)
{
    if (e->n_cli_rules) {
        for (size_t i = 0; i < e->n_cli_rules; i++)
            add_rule_file(d, e->cli_rules[i]);
        return 0;
    }
    const sw_cfg_node *files = sw_cfg_get(e->cfg_root, "rule-files");
    const char *base = NULL;
    char bundled[512];
    if (sw_cfg_get_str(e->cfg_root, "default-rule-path", &base, err, errlen))
        return -1;
    if (!base)
        base = sw_bundled_path("rules", bundled, sizeof bundled);
    if (!files) {
        /* Built-in default: every .rules file of the bundled ruleset. */
        char pat[600];
        snprintf(pat, sizeof pat, "%s/*.rules", base);
        glob_t g;
        if (glob(pat, 0, NULL, &g) == 0) {
            for (size_t i = 0; i < g.gl_pathc; i++)
                add_rule_file(d, g.gl_pathv[i]);
            globfree(&g);
        }
        return 0;
    }
    for (size_t i = 0; i < sw_cfg_len(files); i++) {
        const char *f = sw_cfg_scalar(sw_cfg_at(files, i));
        if (!f) {
            snprintf(err, errlen, "config: rule-files: entry %zu is not a file name", i);
            return -1;
        }
        char path[1024];
        if (f[0] == '/')
            snprintf(path, sizeof path, "%s", f);
        else
            snprintf(path, sizeof path, "%s/%s", base, f);
        add_rule_file(d, path);
    }
    return 0;
}

static void print_report(FILE *out, const sw_sig_report *r)
{
    if (r->cache_note[0])
        fprintf(out, "rules: compiled-rule cache: %s\n", r->cache_note);
    for (uint32_t i = 0; i < r->n_issues && i < SW_SIG_REPORT_MAX_ISSUES; i++) {
        const sw_sig_issue *is = &r->issues[i];
        fprintf(out, "%s: %s:%d: %s\n", is->is_error ? "rule error" : "rule skipped",
                is->file, is->line, is->reason);
    }
    if (r->n_issues > SW_SIG_REPORT_MAX_ISSUES)
        fprintf(out, "... %u more rule issues\n", r->n_issues - SW_SIG_REPORT_MAX_ISSUES);
}

int sw_detect_shared_init(sw_engine *e, char *err, size_t errlen)
{
    sw_detect_shared *d = calloc(1, sizeof(*d));
    if (!d) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    e->detect = d;
    sw_sig_config_defaults(&d->sig_cfg);
    if (sw_sig_config_load(e->cfg_root, &d->sig_cfg, err, errlen) < 0)
        return -1;
    if (!d->sig_cfg.classification_file) {
        sw_bundled_path("rules/classification.config", d->classification,
                        sizeof d->classification);
        if (is_file(d->classification))
            d->sig_cfg.classification_file = d->classification;
    }
    if (collect_rule_files(e, d, err, errlen) < 0)
        return -1;
    sw_sig_engine *eng = sw_sig_engine_build(&d->sig_cfg, (const char *const *)d->rule_files,
                                              d->n_rule_files, &d->report);
    if (!eng) {
        snprintf(err, errlen, "rules: %s", d->report.fatal[0] ? d->report.fatal : "build failed");
        return -1;
    }
    print_report(stderr, &d->report);
    /* one slot per worker, plus one for the thread that writes stats and
     * reads the current engine's counters */
    d->sigs = sw_sig_manager_new(eng, (int)(e->nworkers ? e->nworkers : 1) + 1);
    if (!d->sigs) {
        sw_sig_engine_free(eng);
        snprintf(err, errlen, "rules: out of memory");
        return -1;
    }
    sw_ioc_config_defaults(&d->ioc_cfg);
    if (sw_ioc_config_load(e->cfg_root, &d->ioc_cfg, err, errlen) < 0)
        return -1;
    if (d->ioc_cfg.enabled && d->ioc_cfg.n_lists) {
        d->ioc = sw_ioc_load(&d->ioc_cfg, &d->ioc_report);
        if (!d->ioc) {
            snprintf(err, errlen, "ioc: %s", d->ioc_report.fatal);
            return -1;
        }
        for (size_t i = 0; i < d->ioc_report.n_errors && i < SW_IOC_MAX_ERRORS; i++)
            fprintf(stderr, "ioc: %s\n", d->ioc_report.errors[i]);
        SW_CTR_SET(d->ioc_ctr, SW_IOC_CTR_INDICATORS, d->ioc_report.loaded);
        SW_CTR_SET(d->ioc_ctr, SW_IOC_CTR_LINES_SKIPPED, d->ioc_report.skipped);
    }
    sw_beacon_config_defaults(&d->beacon_cfg);
    if (sw_beacon_config_load(e->cfg_root, &d->beacon_cfg, err, errlen) < 0)
        return -1;
    if (d->beacon_cfg.enabled) {
        d->beacon = sw_beacon_new(&d->beacon_cfg, err, errlen);
        if (!d->beacon)
            return -1;
    }
    static const char *const default_trusted[] = {
        "windowsupdate.com", "update.microsoft.com", "download.microsoft.com",
        "officecdn.microsoft.com", "delivery.mp.microsoft.com", "dl.google.com",
        "deb.debian.org", "security.debian.org", "archive.ubuntu.com",
        "download.mozilla.org"};
    d->alert_payload_max = 4096;
    if (sw_cfg_get_bool(e->cfg_root, "detect.alert.payload", &d->alert_payload, err, errlen) ||
        sw_cfg_get_bool(e->cfg_root, "detect.alert.payload-printable", &d->alert_printable, err,
                        errlen) ||
        sw_cfg_get_bool(e->cfg_root, "detect.alert.packet", &d->alert_packet, err, errlen) ||
        sw_cfg_get_size(e->cfg_root, "detect.alert.payload-max", &d->alert_payload_max, err,
                        errlen))
        return -1;
    if (d->alert_payload_max < 1 || d->alert_payload_max > (1u << 20)) {
        snprintf(err, errlen, "config: detect.alert.payload-max: must be 1..1mb");
        return -1;
    }
    const sw_cfg_node *tl = sw_cfg_get(e->cfg_root, "files.trusted-domains");
    if (tl) {
        size_t cap = sizeof d->trusted / sizeof d->trusted[0];
        if (sw_cfg_len(tl) > cap) {
            snprintf(err, errlen, "config: files.trusted-domains: at most %zu names", cap);
            return -1;
        }
        for (size_t i = 0; i < sw_cfg_len(tl); i++) {
            const char *v = sw_cfg_scalar(sw_cfg_at(tl, i));
            if (!v) {
                snprintf(err, errlen, "config: files.trusted-domains: entry %zu is not a name", i);
                return -1;
            }
            /* a cut name would trust some other suffix */
            if (strlen(v) >= sizeof d->trusted[0]) {
                snprintf(err, errlen,
                         "config: files.trusted-domains: entry %zu is longer than %zu characters",
                         i, sizeof d->trusted[0] - 1);
                return -1;
            }
            snprintf(d->trusted[d->n_trusted++], sizeof d->trusted[0], "%s", v);
        }
    } else {
        for (size_t i = 0; i < sizeof default_trusted / sizeof default_trusted[0]; i++)
            snprintf(d->trusted[d->n_trusted++], 128, "%s", default_trusted[i]);
    }
    sw_geoip_config_defaults(&d->geoip_cfg);
    if (sw_geoip_config_load(e->cfg_root, &d->geoip_cfg, err, errlen) < 0)
        return -1;
    d->geoip = sw_geoip_open(&d->geoip_cfg, d->geoip_warn, sizeof d->geoip_warn);
    if (d->geoip_warn[0])
        fprintf(stderr, "warning: %s\n", d->geoip_warn);
    return 0;
}

void sw_detect_shared_fini(sw_engine *e)
{
    sw_detect_shared *d = e->detect;
    if (!d)
        return;
    sw_sig_manager_free(d->sigs);
    sw_ioc_free(d->ioc);
    sw_ioc_free(d->ioc_retired);
    sw_beacon_free(d->beacon);
    sw_geoip_close(d->geoip);
    for (size_t i = 0; i < d->n_rule_files; i++)
        free(d->rule_files[i]);
    free(d);
    e->detect = NULL;
}

/* Summary lines printed by -T. Returns non-zero when -T must fail. */
int sw_detect_test_summary(sw_engine *e, FILE *out)
{
    sw_detect_shared *d = e->detect;
    fprintf(out, "rules: loaded=%u skipped=%u errors=%u files=%zu\n", d->report.loaded,
            d->report.skipped, d->report.errors, d->n_rule_files);
    for (uint32_t i = 0; i < d->report.n_unsupported && i < SW_SIG_REPORT_MAX_KW; i++)
        fprintf(out, "rules: unsupported keyword %s: %u rules\n",
                d->report.unsupported[i].keyword, d->report.unsupported[i].count);
    fprintf(out, "ioc: loaded=%llu skipped=%llu\n", (unsigned long long)d->ioc_report.loaded,
            (unsigned long long)d->ioc_report.skipped);
    return (d->report.errors || d->report.files_failed || d->ioc_report.skipped) ? 1 : 0;
}

sw_detect_worker *sw_detect_worker_new(sw_worker *w, char *err, size_t errlen)
{
    sw_detect_worker *dw = calloc(1, sizeof(*dw));
    if (!dw) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    sw_detect_shared *d = DS(w);
    const sw_sig_engine *eng = sw_sig_manager_current(d->sigs);
    dw->sig = sw_sig_thread_new(eng);
    if (!dw->sig) {
        snprintf(err, errlen, "rules: cannot allocate matcher scratch");
        free(dw);
        return NULL;
    }
    dw->sig_gen = sw_sig_engine_generation(eng);
    dw->max_alerts = (int)d->sig_cfg.packet_alert_max;
    dw->alerts = calloc((size_t)dw->max_alerts, sizeof(*dw->alerts));
    dw->swin = malloc(SW_DETECT_STREAM_TAIL + STREAM_WIN);
    if (!dw->swin || !dw->alerts) {
        snprintf(err, errlen, "detect: cannot allocate the stream window and alert queue");
        sw_sig_thread_free(dw->sig);
        free(dw->swin);
        free(dw->alerts);
        free(dw);
        return NULL;
    }
    return dw;
}

void sw_detect_worker_free(sw_detect_worker *dw)
{
    if (!dw)
        return;
    sw_sig_thread_free(dw->sig);
    free(dw->swin);
    free(dw->alerts);
    free(dw);
}

/* ---------- alert writing ---------- */

static const char *flow_app(sw_worker *w, const sw_flow *f, char *buf, size_t cap)
{
    return f ? sw_app_flow_proto(w, f, buf, cap) : NULL;
}

/* Alert header oriented as the triggering data travelled. */
static void alert_begin(sw_worker *w, sw_json *j, sw_flow *f, const sw_packet *p,
                        bool to_server, uint64_t ts)
{
    char ab[48];
    if (p) {
        sw_eve_begin_packet(j, "alert", p, f, flow_app(w, f, ab, sizeof ab));
        if (f)
            swj_str(j, "direction", to_server ? "to_server" : "to_client");
        return;
    }
    /* transaction: the flow's orientation, reversed for to-client data */
    char pb[8];
    int fam = f->key.ipver == 6 ? 6 : 4;
    swj_reset(j);
    swj_ts(j, "timestamp", ts);
    swj_uint(j, "flow_id", f->flow_id);
    if (w->cur_pcap_cnt)
        swj_uint(j, "pcap_cnt", w->cur_pcap_cnt);
    swj_str(j, "event_type", "alert");
    const uint8_t *sip = to_server ? sw_flow_client_ip(f) : sw_flow_server_ip(f);
    const uint8_t *dip = to_server ? sw_flow_server_ip(f) : sw_flow_client_ip(f);
    uint16_t sp = to_server ? sw_flow_client_port(f) : sw_flow_server_port(f);
    uint16_t dp = to_server ? sw_flow_server_port(f) : sw_flow_client_port(f);
    bool ports = f->key.proto == 6 || f->key.proto == 17 || f->key.proto == 132;
    swj_ip(j, "src_ip", fam, sip);
    if (ports)
        swj_uint(j, "src_port", sp);
    swj_ip(j, "dest_ip", fam, dip);
    if (ports)
        swj_uint(j, "dest_port", dp);
    swj_str(j, "proto", sw_proto_name(f->key.proto, pb));
    swj_str(j, "community_id", f->community_id);
    const char *app = flow_app(w, f, ab, sizeof ab);
    if (app)
        swj_str(j, "app_proto", app);
    swj_str(j, "direction", to_server ? "to_server" : "to_client");
}

static void alert_object(sw_json *j, uint32_t gid, uint32_t sid, uint32_t rev,
                         const char *msg, const char *category, int severity,
                         const struct sw_rule *rule)
{
    swj_open_object(j, "alert");
    swj_str(j, "action", "allowed");
    swj_uint(j, "gid", gid);
    swj_uint(j, "signature_id", sid);
    swj_uint(j, "rev", rev);
    swj_str(j, "signature", msg ? msg : "");
    swj_str(j, "category", category ? category : "");
    swj_int(j, "severity", severity);
    if (rule)
        sw_sig_alert_metadata_json(rule, j);
    swj_close_object(j);
}

/* The flow object Suricata attaches to alerts. */
static void alert_flow(sw_json *j, const sw_flow *f)
{
    if (!f)
        return;
    swj_open_object(j, "flow");
    /* Suricata 8: the flow's own orientation, whatever the alert's */
    int fam = f->key.ipver == 6 ? 6 : 4;
    bool ports = f->key.proto == 6 || f->key.proto == 17 || f->key.proto == 132;
    swj_ip(j, "src_ip", fam, sw_flow_client_ip(f));
    if (ports)
        swj_uint(j, "src_port", sw_flow_client_port(f));
    swj_ip(j, "dest_ip", fam, sw_flow_server_ip(f));
    if (ports)
        swj_uint(j, "dest_port", sw_flow_server_port(f));
    swj_uint(j, "pkts_toserver", f->pkts_ts);
    swj_uint(j, "pkts_toclient", f->pkts_tc);
    swj_uint(j, "bytes_toserver", f->bytes_ts);
    swj_uint(j, "bytes_toclient", f->bytes_tc);
    swj_ts(j, "start", f->start_us);
    swj_close_object(j);
}

void sw_detect_geoip(sw_worker *w, sw_json *j, const uint8_t *src, const uint8_t *dst,
                     int family)
{
    sw_detect_shared *d = DS(w);
    if (!d->geoip)
        return;
    sw_geoip_info a, b;
    bool ha = sw_geoip_lookup(d->geoip, family, src, &a);
    bool hb = sw_geoip_lookup(d->geoip, family, dst, &b);
    SW_CTR_INC(DW(w)->ctr, SW_CTR_D_GEOIP_LOOKUPS);
    if (ha || hb)
        sw_eve_geoip(j, ha ? &a : NULL, hb ? &b : NULL);
}

typedef void (*app_obj_fn)(sw_json *j, const void *ctx);

/* Writes one finished alert event. */
static void alert_finish(sw_worker *w, sw_json *j, sw_flow *f, const uint8_t *src,
                         const uint8_t *dst, int fam)
{
    alert_flow(j, f);
    if (src && dst)
        sw_detect_geoip(w, j, src, dst, fam);
    if (f)
        f->alerted = 1;
    SW_CTR_INC(DW(w)->ctr, SW_CTR_D_ALERTS);
    sw_worker_emit(w, j);
}

static void src_dst_of(const sw_flow *f, const sw_packet *p, bool to_server,
                       const uint8_t **s, const uint8_t **d, int *fam)
{
    if (p && p->ip.version) {
        *s = p->ip.src;
        *d = p->ip.dst;
        *fam = p->ip.version;
    } else if (f) {
        *s = to_server ? sw_flow_client_ip(f) : sw_flow_server_ip(f);
        *d = to_server ? sw_flow_server_ip(f) : sw_flow_client_ip(f);
        *fam = f->key.ipver == 6 ? 6 : 4;
    } else {
        *s = *d = NULL;
        *fam = 4;
    }
}

/* ---------- signatures ---------- */

/* Rule-engine protocol of an app_proto name. */
int sw_detect_app_id(const char *n)
{
    if (!n)
        return SW_APP_UNKNOWN;
    static const struct {
        const char *n;
        int id;
    } map[] = {{"http", SW_APP_HTTP}, {"dns", SW_APP_DNS},   {"tls", SW_APP_TLS},
               {"smtp", SW_APP_SMTP}, {"ssh", SW_APP_SSH},   {"ftp", SW_APP_FTP},
               {"smb", SW_APP_SMB},   {"krb5", SW_APP_KRB5}, {"ntp", SW_APP_NTP},
               {"dhcp", SW_APP_DHCP}, {"snmp", SW_APP_SNMP}, {"sip", SW_APP_SIP},
               {"rdp", SW_APP_RDP},   {"imap", SW_APP_IMAP}, {"pop3", SW_APP_POP3},
               {"tftp", SW_APP_TFTP}, {"mqtt", SW_APP_MQTT}, {"ike", SW_APP_IKE},
               {"modbus", SW_APP_MODBUS}, {"dnp3", SW_APP_DNP3}, {"telnet", SW_APP_TELNET},
               {"irc", SW_APP_IRC},   {"dcerpc", SW_APP_DCERPC}, {"nfs", SW_APP_NFS},
               {"vnc", SW_APP_RFB}};
    for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
        if (strcmp(map[i].n, n) == 0)
            return map[i].id;
    return SW_APP_UNKNOWN;
}

static void input_from(sw_worker *w, sw_detect_input *in, sw_flow *f, const sw_packet *p,
                       bool to_server, uint64_t ts)
{
    memset(in, 0, sizeof(*in));
    in->ts_us = ts;
    in->to_server = to_server;
    in->is_tx = p == NULL; /* stream callers clear it */
    if (p && p->ip.version) {
        in->ip_version = p->ip.version;
        in->src_ip = p->ip.src;
        in->dst_ip = p->ip.dst;
        in->src_port = p->l4.sport;
        in->dst_port = p->l4.dport;
        in->proto = p->ip.proto;
    } else if (f) {
        in->ip_version = f->key.ipver == 6 ? 6 : 4;
        in->src_ip = to_server ? sw_flow_client_ip(f) : sw_flow_server_ip(f);
        in->dst_ip = to_server ? sw_flow_server_ip(f) : sw_flow_client_ip(f);
        in->src_port = to_server ? sw_flow_client_port(f) : sw_flow_server_port(f);
        in->dst_port = to_server ? sw_flow_server_port(f) : sw_flow_client_port(f);
        in->proto = f->key.proto;
    }
    if (f) {
        in->has_flow = true;
        in->established = f->state != SW_FLOW_NEW ||
                          (f->key.proto != 6 && f->pkts_ts && f->pkts_tc);
        in->app_proto = sw_app_flow_id(w, f);
        /* per packet only when some rule reads them */
        uint32_t needs = sw_sig_engine_needs(sw_sig_manager_current(DS(w)->sigs));
        if (needs & SW_SIG_NEEDS_TLS_VERSION)
            in->tls_version = sw_app_tls_version(f, to_server);
        uint64_t c, s;
        if ((needs & SW_SIG_NEEDS_STREAM_SIZE) && f->key.proto == 6 &&
            sw_app_stream_sizes(f, &c, &s)) {
            in->has_stream_size = true;
            in->client_bytes = c > UINT32_MAX ? UINT32_MAX : (uint32_t)c;
            in->server_bytes = s > UINT32_MAX ? UINT32_MAX : (uint32_t)s;
        }
    }
}

/* Keeps the worker's matcher on the current ruleset. */
static const sw_sig_engine *current_rules(sw_worker *w)
{
    sw_detect_shared *d = DS(w);
    sw_detect_worker *dw = DW(w);
    const sw_sig_engine *eng = sw_sig_manager_current(d->sigs);
    uint64_t gen = sw_sig_engine_generation(eng);
    if (gen != dw->sig_gen) {
        if (sw_sig_thread_sync(dw->sig, eng) == 0)
            dw->sig_gen = gen;
        else
            return NULL;
    }
    return eng;
}

typedef struct tx_obj {
    const sw_http_tx *http;
    const sw_dns_msg *dns;
    bool dns_response;
    uint64_t tx_id;
    const sw_tls_state *tls;
    const sw_file *file;
} tx_obj;

static void app_objects(sw_worker *w, sw_json *j, const tx_obj *o)
{
    if (!o)
        return;
    if (o->http)
        sw_eve_http(j, o->http);
    if (o->dns)
        sw_eve_dns_write(j, o->dns, o->tx_id, o->dns_response, NULL);
    if (o->tls)
        sw_eve_tls(j, o->tls);
    if (o->file)
        sw_eve_fileinfo(j, o->file);
}

/* The bytes a signature alert matched, if the config asks for them: the
 * inspected payload (packet or stream window, cut at payload-max) and the
 * packet as captured. */
static void alert_evidence(const sw_detect_shared *d, sw_json *j, const sw_packet *p,
                           const sw_detect_input *in)
{
    const uint8_t *pl = in->buf[SW_BUF_PAYLOAD].ptr;
    uint32_t n = in->buf[SW_BUF_PAYLOAD].len;
    if (!pl && p) { /* a transaction: the payload of the packet that completed it */
        pl = p->l4.payload;
        n = p->l4.payload_len;
    }
    if (pl && n && (d->alert_payload || d->alert_printable)) {
        if (n > d->alert_payload_max)
            n = (uint32_t)d->alert_payload_max;
        if (d->alert_payload)
            swj_base64(j, "payload", pl, n);
        if (d->alert_printable)
            swj_printable(j, "payload_printable", pl, n);
        swj_uint(j, "stream", in->is_stream ? 1 : 0);
    }
    if (d->alert_packet && p && p->data && p->caplen) {
        swj_base64(j, "packet", p->data, p->caplen);
        swj_open_object(j, "packet_info");
        swj_uint(j, "linktype", (uint64_t)p->linktype);
        swj_close_object(j);
    }
}

/* Suricata's tunnel object: the packet that carried the outermost tunnel. */
static void alert_tunnel(sw_json *j, const sw_packet *p)
{
    if (!p || !p->l2.tunnel_depth || !p->l2.tun_version)
        return;
    const sw_l2_view *l = &p->l2;
    int fam = l->tun_version == 6 ? 6 : 4;
    char pb[8];
    swj_open_object(j, "tunnel");
    swj_ip(j, "src_ip", fam, l->tun_src);
    if (l->tun_sport || l->tun_dport)
        swj_uint(j, "src_port", l->tun_sport);
    swj_ip(j, "dest_ip", fam, l->tun_dst);
    if (l->tun_sport || l->tun_dport)
        swj_uint(j, "dest_port", l->tun_dport);
    swj_str(j, "proto", sw_proto_name(l->tun_proto, pb));
    swj_uint(j, "depth", l->tunnel_depth);
    if (p->pcap_cnt)
        swj_uint(j, "pcap_cnt", p->pcap_cnt);
    swj_close_object(j);
}

static sw_sig_flow *flow_sigstate(sw_flow *f);
extern uint8_t *sw_app_detect_flags(sw_flow *f);
#define DF_PASSED 0x04 /* a pass rule matched: no more signature alerts */

static void run_sigs(sw_worker *w, sw_flow *f, const sw_packet *p, bool to_server,
                     const sw_detect_input *in, const tx_obj *o)
{
    const sw_sig_engine *eng = current_rules(w);
    if (!eng)
        return;
    sw_detect_worker *dw = DW(w);
    /* A pass rule that matched wins over alerts (Suricata's action order)
     * and, as Suricata, ends inspection of the rest of its flow. */
    uint8_t *fl = f ? sw_app_detect_flags(f) : NULL;
    if (fl && (*fl & DF_PASSED))
        return;
    int n = sw_sig_match(eng, dw->sig, in, f ? flow_sigstate(f) : NULL, dw->alerts,
                         dw->max_alerts);
    for (int i = 0; i < n; i++) {
        if (dw->alerts[i].action == SW_ACT_PASS) {
            if (fl)
                *fl |= DF_PASSED;
            return;
        }
    }
    for (int i = 0; i < n; i++) {
        const sw_sig_alert *a = &dw->alerts[i];
        sw_json *j = &w->json;
        alert_begin(w, j, f, p, to_server, in->ts_us);
        alert_object(j, a->gid, a->sid, a->rev, a->msg, a->category, a->severity, a->rule);
        app_objects(w, j, o);
        const sw_packet *ep = p ? p : (f && f == w->cur_flow ? w->cur_pkt : NULL);
        alert_evidence(DS(w), j, ep, in);
        alert_tunnel(j, ep);
        const uint8_t *s, *d;
        int fam;
        src_dst_of(f, p, to_server, &s, &d, &fam);
        alert_finish(w, j, f, s, d, fam);
    }
}

/* ---------- IoC ---------- */

static void ioc_alert(sw_worker *w, sw_flow *f, const sw_packet *p, bool to_server,
                      uint64_t ts, const sw_ioc_hit *h, const tx_obj *o)
{
    sw_json *j = &w->json;
    int type = sw_ioc_type_parse(h->type);
    char msg[160];
    snprintf(msg, sizeof msg, "SPANWATCH IOC %s match in list %s", h->type, h->list);
    alert_begin(w, j, f, p, to_server, ts);
    alert_object(j, 1, SID_IOC_BASE + (uint32_t)(type < 0 ? 0 : type), 1, msg,
                 "Threat Intelligence Indicator Match", h->severity, NULL);
    app_objects(w, j, o);
    sw_eve_ioc(j, h);
    SW_CTR_INC(DW(w)->ctr, SW_CTR_D_IOC_HITS);
    const uint8_t *s, *d;
    int fam;
    src_dst_of(f, p, to_server, &s, &d, &fam);
    alert_finish(w, j, f, s, d, fam);
}

static const sw_ioc_db *iocdb(sw_worker *w)
{
    return __atomic_load_n(&DS(w)->ioc, __ATOMIC_ACQUIRE);
}

static void ioc_domain(sw_worker *w, sw_flow *f, bool to_server, uint64_t ts,
                       const char *name, size_t len, const tx_obj *o)
{
    const sw_ioc_db *db = iocdb(w);
    sw_ioc_hit h;
    if (db && len && sw_ioc_match_domain(db, name, len, &h))
        ioc_alert(w, f, NULL, to_server, ts, &h, o);
}

/* ---------- beacon ---------- */

static void beacon_emit(sw_worker *w, sw_json *j, const sw_beacon_alert *a)
{
    char pb[8], cid[32];
    int fam = a->ip_version == 6 ? 6 : 4;
    swj_reset(j);
    swj_ts(j, "timestamp", a->ts_us);
    if (a->flow_id)
        swj_uint(j, "flow_id", a->flow_id);
    swj_str(j, "event_type", "alert");
    swj_ip(j, "src_ip", fam, a->src);
    bool ports = a->proto == 6 || a->proto == 17;
    if (ports && a->sport)
        swj_uint(j, "src_port", a->sport);
    swj_ip(j, "dest_ip", fam, a->dst);
    if (ports)
        swj_uint(j, "dest_port", a->dport);
    swj_str(j, "proto", sw_proto_name(a->proto, pb));
    if (ports && a->sport) {
        sw_community_id(0, fam, a->src, a->dst, a->proto, a->sport, a->dport, cid);
        swj_str(j, "community_id", cid);
    }
    alert_object(j, a->gid, a->signature_id, a->rev, a->signature, a->category, a->severity,
                 NULL);
    sw_eve_beacon(j, a);
    SW_CTR_INC(DW(w)->ctr, SW_CTR_D_BEACON_ALERTS);
    sw_detect_geoip(w, j, a->src, a->dst, fam);
    sw_worker_emit(w, j);
}

/* f: the flow the observation came from (alerts naming it mark it). */
static void beacon_observe(sw_worker *w, const sw_checkin *c, sw_flow *f)
{
    sw_detect_shared *d = DS(w);
    if (!d->beacon)
        return;
    sw_detect_worker *dw = DW(w);
    int n = sw_beacon_observe(d->beacon, c, dw->balerts, 8);
    for (int i = 0; i < n; i++) {
        if (f && dw->balerts[i].flow_id == f->flow_id)
            f->alerted = 1;
        beacon_emit(w, &w->json, &dw->balerts[i]);
    }
}

static bool is_multicast(int fam, const uint8_t *a)
{
    return fam == 6 ? a[0] == 0xff : (a[0] & 0xf0) == 0xe0;
}

static void checkin_from_flow(sw_checkin *c, const sw_flow *f, uint64_t ts,
                              sw_checkin_kind kind)
{
    memset(c, 0, sizeof(*c));
    c->ts_us = ts;
    c->kind = kind;
    c->ip_version = f->key.ipver == 6 ? 6 : 4;
    memcpy(c->src, sw_flow_client_ip(f), 16);
    memcpy(c->dst, sw_flow_server_ip(f), 16);
    c->sport = sw_flow_client_port(f);
    c->dport = sw_flow_server_port(f);
    c->proto = f->key.proto;
    c->flow_id = f->flow_id;
}

/* ---------- per-flow detection state ---------- */

/* Flowbits and the beacon check-in flag live in the flow's app state; app.c
 * gives us a pointer. */
extern sw_sig_flow *sw_app_sigflow(sw_flow *f);
extern uint8_t *sw_app_detect_flags(sw_flow *f);
extern char *sw_app_checkin_name(sw_flow *f);
extern uint64_t *sw_app_checkin_last(sw_flow *f);
extern bool sw_app_flow_is_http(const sw_flow *f);
static sw_sig_flow *flow_sigstate(sw_flow *f) { return sw_app_sigflow(f); }

#define DF_CHECKIN_DONE 0x01
#define DF_SYN_START 0x02

/* The check-in of a new connection is recorded once the server's name is
 * known (TLS SNI, HTTP Host) or it is clear none will come, with the time
 * the connection started. */
static void checkin_flow_start(sw_worker *w, sw_flow *f, const char *server_name)
{
    uint8_t *fl = sw_app_detect_flags(f);
    if (!fl || (*fl & DF_CHECKIN_DONE))
        return;
    *fl |= DF_CHECKIN_DONE;
    /* TCP connections count only when we saw them begin. */
    if (f->key.proto == 6 && !(*fl & DF_SYN_START))
        return;
    sw_checkin c;
    checkin_from_flow(&c, f, f->start_us, SW_CHECKIN_FLOW_START);
    c.server_name = server_name;
    /* the flow-end call must name the same key */
    char *keep = sw_app_checkin_name(f);
    if (keep && server_name)
        snprintf(keep, 128, "%s", server_name);
    beacon_observe(w, &c, f);
}

/* ---------- hooks ---------- */

void sw_detect_flow_start(sw_worker *w, sw_flow *f, const sw_packet *p)
{
    uint8_t *fl = sw_app_detect_flags(f);
    if (fl && f->key.proto == 6 && (p->l4.tcp_flags & (SW_TCP_SYN | SW_TCP_ACK)) == SW_TCP_SYN)
        *fl |= DF_SYN_START;
    const sw_ioc_db *db = iocdb(w);
    if (!db)
        return;
    sw_ioc_hit h;
    int fam = f->key.ipver == 6 ? 6 : 4;
    if (sw_ioc_match_ip(db, fam, sw_flow_server_ip(f), &h))
        ioc_alert(w, f, p, true, p->ts_us, &h, NULL);
    else if (sw_ioc_match_ip(db, fam, sw_flow_client_ip(f), &h))
        ioc_alert(w, f, p, true, p->ts_us, &h, NULL);
}

void sw_detect_packet(sw_worker *w, sw_flow *f, const sw_packet *p, bool to_server,
                      bool payload_streamed)
{
    if (f) {
        /* no name will come for non-TCP flows or once data flowed both ways
         * without the app layer naming the server */
        uint8_t *fl = sw_app_detect_flags(f);
        if (fl && !(*fl & DF_CHECKIN_DONE)) {
            if (f->key.proto != 6 || (f->pkts_ts >= 3 && f->pkts_tc >= 3) ||
                f->pkts_ts + f->pkts_tc >= 12)
                checkin_flow_start(w, f, NULL);
        }
        /* Implants that keep one connection open check in by sending a
         * burst on it: a client burst after a second or more of client
         * silence counts as a check-in (HTTP requests are counted as
         * requests already; pings and other datagrams are not sessions). */
        if (to_server && p->l4.payload_len && DS(w)->beacon && fl && f->key.proto == 6 &&
            (*fl & DF_CHECKIN_DONE) && (*fl & DF_SYN_START) && !sw_app_flow_is_http(f)) {
            uint64_t *last = sw_app_checkin_last(f);
            if (last && *last && p->ts_us >= *last + 1000000u) {
                sw_checkin c;
                checkin_from_flow(&c, f, p->ts_us, SW_CHECKIN_REQUEST);
                char *nm = sw_app_checkin_name(f);
                c.server_name = nm && nm[0] ? nm : NULL;
                c.bytes_toserver = p->l4.payload_len;
                beacon_observe(w, &c, f);
            }
            if (last)
                *last = p->ts_us;
        }
    }
    sw_detect_input in;
    input_from(w, &in, f, p, to_server, p->ts_us);
    const char *evn[SW_MAX_PKT_EVENTS];
    uint32_t ne = 0;
    for (unsigned i = 0; i < p->n_events && i < SW_MAX_PKT_EVENTS; i++) {
        const char *n = sw_dec_event_name(p->events[i]);
        if (n)
            evn[ne++] = n;
    }
    in.events = evn;
    in.n_events = ne;
    in.vlan_count = p->l2.vlan_count < 3 ? p->l2.vlan_count : 3;
    for (unsigned i = 0; i < in.vlan_count; i++)
        in.vlan_id[i] = p->l2.vlan_id[i];
    in.dsize = p->l4.payload_len;
    if (p->ip.proto == 6) {
        in.has_tcp_flags = true;
        in.tcp_flags = p->l4.tcp_flags;
    } else if (p->ip.proto == 1 || p->ip.proto == 58) {
        in.has_icmp = true;
        in.icmp_type = p->l4.icmp_type;
        in.icmp_code = p->l4.icmp_code;
    }
    in.buf[SW_BUF_PAYLOAD].ptr = p->l4.payload;
    in.buf[SW_BUF_PAYLOAD].len = p->l4.payload_len;
    in.payload_streamed = payload_streamed;
    run_sigs(w, f, p, to_server, &in, NULL);
}

void sw_detect_stream(sw_worker *w, sw_flow *f, const sw_packet *p, int dir, uint64_t ts_us,
                      sw_detect_stream_state *st, const uint8_t *data, uint32_t len)
{
    if (!data) {
        st->tail_len = 0; /* nothing spans a hole */
        return;
    }
    sw_detect_worker *dw = DW(w);
    bool to_server = dir == 0;
    while (len) {
        uint32_t n = len < STREAM_WIN ? len : STREAM_WIN;
        uint32_t seen = st->tail_len;
        memcpy(dw->swin, st->tail, seen);
        memcpy(dw->swin + seen, data, n);
        sw_detect_input in;
        input_from(w, &in, f, p, to_server, p ? p->ts_us : ts_us);
        in.is_tx = false;
        in.is_stream = true;
        in.stream_seen = seen;
        in.buf[SW_BUF_PAYLOAD].ptr = dw->swin;
        in.buf[SW_BUF_PAYLOAD].len = seen + n;
        run_sigs(w, f, p, to_server, &in, NULL);
        uint32_t total = seen + n;
        uint32_t keep = total < SW_DETECT_STREAM_TAIL ? total : SW_DETECT_STREAM_TAIL;
        memcpy(st->tail, dw->swin + total - keep, keep);
        st->tail_len = (uint16_t)keep;
        data += n;
        len -= n;
    }
}

void sw_detect_flow_end(sw_worker *w, sw_flow *f)
{
    uint8_t *fl = sw_app_detect_flags(f);
    if (fl && !(*fl & DF_CHECKIN_DONE))
        checkin_flow_start(w, f, NULL);
    sw_detect_shared *d = DS(w);
    if (d->beacon && fl && (*fl & DF_SYN_START || f->key.proto != 6)) {
        sw_checkin c;
        checkin_from_flow(&c, f, f->start_us, SW_CHECKIN_FLOW_START);
        char *name = sw_app_checkin_name(f);
        c.server_name = name && name[0] ? name : NULL;
        c.bytes_toserver = (uint32_t)(f->bytes_ts > UINT32_MAX ? UINT32_MAX : f->bytes_ts);
        c.bytes_toclient = (uint32_t)(f->bytes_tc > UINT32_MAX ? UINT32_MAX : f->bytes_tc);
        sw_beacon_flow_end(d->beacon, &c);
    }
}

static void set_buf(sw_detect_input *in, sw_buf_id id, const void *p, size_t len)
{
    if (!p)
        return;
    in->buf[id].ptr = (const uint8_t *)p;
    in->buf[id].len = (uint32_t)len;
}

static void set_hb(sw_detect_input *in, sw_buf_id id, sw_http_bytes b)
{
    set_buf(in, id, b.p, b.len);
}

/* Suricata's DNS app-layer events of one message (m NULL: unparseable). */
static uint32_t dns_events(const sw_dns_msg *m, bool to_server, const char **ev)
{
    uint32_t n = 0;
    if (!m) {
        ev[n++] = "dns.malformed_data";
        return n;
    }
    if (to_server && m->qr)
        ev[n++] = "dns.not_a_request";
    if (!to_server && !m->qr)
        ev[n++] = "dns.not_a_response";
    if (m->z)
        ev[n++] = "dns.z_flag_set";
    if (m->opcode > 6 || m->opcode == 3)
        ev[n++] = "dns.invalid_opcode";
    if (m->name_flags & SW_DNS_NAME_TRUNCATED)
        ev[n++] = "dns.name_too_long";
    if (m->name_flags & SW_DNS_NAME_LOOP)
        ev[n++] = "dns.infinite_loop";
    if (m->name_flags & SW_DNS_NAME_LABEL_LIMIT)
        ev[n++] = "dns.too_many_labels";
    if (m->invalid_additionals)
        ev[n++] = "dns.invalid_additionals";
    if (m->invalid_authorities)
        ev[n++] = "dns.invalid_authorities";
    return n;
}

void sw_detect_dns_malformed(sw_worker *w, sw_flow *f, bool to_server, uint64_t ts_us)
{
    const char *ev[2];
    sw_detect_input in;
    input_from(w, &in, f, NULL, to_server, ts_us);
    in.app_proto = SW_APP_DNS;
    in.events = ev;
    in.n_events = dns_events(NULL, to_server, ev);
    run_sigs(w, f, NULL, to_server, &in, NULL);
}

void sw_detect_dns(sw_worker *w, sw_flow *f, const sw_dns_msg *m, bool response,
                   uint64_t ts_us, uint64_t tx_id, bool to_server)
{
    size_t qlen = 0;
    const uint8_t *q = sw_dns_first_query(m, &qlen);
    tx_obj o = {.dns = m, .dns_response = response, .tx_id = tx_id};
    char name[256];
    size_t nlen = qlen < sizeof name - 1 ? qlen : sizeof name - 1;
    if (q)
        memcpy(name, q, nlen);
    name[nlen] = '\0';
    /* a NUL inside a label would cut the C string the tracker and lists
     * see, hiding the rest of the name: keep it visible instead */
    for (size_t i = 0; i < nlen; i++)
        if (name[i] == '\0')
            name[i] = '?';
    const char *ev[12];
    sw_detect_input in;
    input_from(w, &in, f, NULL, to_server, ts_us);
    in.app_proto = SW_APP_DNS;
    in.events = ev;
    in.n_events = dns_events(m, to_server, ev);
    in.has_dns_opcode = true;
    in.dns_opcode = m->opcode;
    if (!response)
        set_buf(&in, SW_BUF_DNS_QUERY, q, qlen);
    run_sigs(w, f, NULL, to_server, &in, &o);
    if (!response) {
        if (q)
            ioc_domain(w, f, true, ts_us, name, nlen, &o);
        /* mDNS and LLMNR go to multicast: name announcements, not a host
         * asking a resolver */
        int fam = f->key.ipver == 6 ? 6 : 4;
        if (q && DS(w)->beacon && !is_multicast(fam, sw_flow_server_ip(f))) {
            sw_checkin c;
            checkin_from_flow(&c, f, ts_us, SW_CHECKIN_DNS_QUERY);
            c.qname = name;
            c.qtype = m->n_questions ? m->questions[0].type : 0;
            beacon_observe(w, &c, f);
        }
        return;
    }
    /* Answers: names (CNAME targets) and addresses against the lists. */
    const sw_ioc_db *db = iocdb(w);
    if (!db)
        return;
    for (unsigned i = 0; i < m->n_answers && i < SW_DNS_MAX_RRS; i++) {
        const sw_dns_rr *rr = &m->answers[i];
        if (!rr->rdata_ok)
            continue;
        sw_ioc_hit h;
        if ((rr->type == 1 || rr->type == 28) &&
            sw_ioc_match_ip(db, rr->type == 1 ? 4 : 6, rr->u.addr, &h)) {
            ioc_alert(w, f, NULL, false, ts_us, &h, &o);
            return;
        }
        if (rr->type == 5) {
            const uint8_t *t = sw_dns_str(m, rr->u.target.s);
            char tn[256];
            size_t tl = rr->u.target.s.len < 255 ? rr->u.target.s.len : 255;
            memcpy(tn, t, tl);
            tn[tl] = '\0';
            if (sw_ioc_match_domain(db, tn, tl, &h)) {
                ioc_alert(w, f, NULL, false, ts_us, &h, &o);
                return;
            }
        }
    }
}

/* "http.<event>" names of the tx's parser anomalies, lower case. */
static uint32_t http_events(const sw_http_tx *tx, char (*buf)[80], const char **ev)
{
    uint32_t n = 0;
    for (unsigned k = 0; k < 32 && n < SW_HTTP_EV_COUNT; k++) {
        const char *name = (tx->events >> k) & 1 ? sw_http_event_name(1u << k) : NULL;
        if (!name)
            continue;
        size_t i = 0;
        memcpy(buf[n], "http.", 5);
        for (; name[i] && i + 6 < sizeof buf[n]; i++)
            buf[n][5 + i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        buf[n][5 + i] = '\0';
        ev[n] = buf[n];
        n++;
    }
    return n;
}

void sw_detect_http_request(sw_worker *w, sw_flow *f, const sw_http_tx *tx)
{
    char host[256] = "";
    if (tx->host.p) {
        size_t l = tx->host.len < 255 ? tx->host.len : 255;
        memcpy(host, tx->host.p, l);
        host[l] = '\0';
    }
    if (tx->tx_id == 0)
        checkin_flow_start(w, f, host[0] ? host : NULL);
    else if (DS(w)->beacon) {
        sw_checkin c;
        checkin_from_flow(&c, f, tx->ts_request_us, SW_CHECKIN_REQUEST);
        c.server_name = host[0] ? host : NULL;
        c.bytes_toserver = (uint32_t)tx->req_body_len;
        beacon_observe(w, &c, f);
    }
    sw_detect_input in;
    input_from(w, &in, f, NULL, true, tx->ts_request_us);
    in.app_proto = SW_APP_HTTP;
    set_hb(&in, SW_BUF_HTTP_URI, tx->uri);
    set_hb(&in, SW_BUF_HTTP_URI_RAW, tx->uri_raw);
    set_hb(&in, SW_BUF_HTTP_HOST, tx->host);
    set_hb(&in, SW_BUF_HTTP_HOST_RAW, sw_http_header(tx->req_headers, "Host"));
    set_hb(&in, SW_BUF_HTTP_METHOD, tx->method);
    set_hb(&in, SW_BUF_HTTP_USER_AGENT, tx->user_agent);
    set_hb(&in, SW_BUF_HTTP_HEADER, tx->req_headers);
    set_hb(&in, SW_BUF_HTTP_HEADER_RAW, tx->req_headers);
    set_hb(&in, SW_BUF_HTTP_COOKIE, tx->cookie);
    set_hb(&in, SW_BUF_HTTP_REQUEST_LINE, tx->request_line);
    set_hb(&in, SW_BUF_HTTP_REQUEST_BODY, tx->req_body);
    set_hb(&in, SW_BUF_HTTP_REFERER, tx->referer);
    set_hb(&in, SW_BUF_HTTP_PROTOCOL, tx->protocol);
    set_hb(&in, SW_BUF_HTTP_CONTENT_TYPE, tx->req_content_type);
    set_hb(&in, SW_BUF_HTTP_ACCEPT, sw_http_header(tx->req_headers, "Accept"));
    set_hb(&in, SW_BUF_HTTP_ACCEPT_ENC, sw_http_header(tx->req_headers, "Accept-Encoding"));
    set_hb(&in, SW_BUF_HTTP_ACCEPT_LANG, sw_http_header(tx->req_headers, "Accept-Language"));
    set_hb(&in, SW_BUF_HTTP_CONNECTION, sw_http_header(tx->req_headers, "Connection"));
    char evb[SW_HTTP_EV_COUNT][80];
    const char *ev[SW_HTTP_EV_COUNT];
    in.events = ev;
    in.n_events = http_events(tx, evb, ev);
    tx_obj o = {.http = tx};
    run_sigs(w, f, NULL, true, &in, &o);
    const sw_ioc_db *db = iocdb(w);
    sw_ioc_hit h;
    if (db && host[0]) {
        if (sw_ioc_match_domain(db, host, strlen(host), &h))
            ioc_alert(w, f, NULL, true, tx->ts_request_us, &h, &o);
        else if (tx->uri_raw.p &&
                 sw_ioc_match_url(db, host, strlen(host), (const char *)tx->uri_raw.p,
                                  tx->uri_raw.len, &h))
            ioc_alert(w, f, NULL, true, tx->ts_request_us, &h, &o);
    }
}

void sw_detect_http_response(sw_worker *w, sw_flow *f, const sw_http_tx *tx)
{
    (void)w;
    (void)f;
    (void)tx;
    /* Response-side rules need the body: they run in sw_detect_file /
     * http_response_done once the transaction completes. */
}

static void http_response_sigs(sw_worker *w, sw_flow *f, const sw_http_tx *tx,
                               const sw_file *file, uint64_t ts)
{
    sw_detect_input in;
    input_from(w, &in, f, NULL, false, ts);
    in.app_proto = SW_APP_HTTP;
    char code[16] = "";
    if (tx->status_str.p)
        set_hb(&in, SW_BUF_HTTP_STAT_CODE, tx->status_str);
    else if (tx->status >= 0) {
        snprintf(code, sizeof code, "%d", tx->status);
        set_buf(&in, SW_BUF_HTTP_STAT_CODE, code, strlen(code));
    }
    set_hb(&in, SW_BUF_HTTP_CONTENT_TYPE, tx->content_type);
    set_hb(&in, SW_BUF_HTTP_RESPONSE_HEADER, tx->resp_headers);
    set_hb(&in, SW_BUF_HTTP_HEADER, tx->resp_headers);
    set_hb(&in, SW_BUF_HTTP_HEADER_RAW, tx->resp_headers);
    set_hb(&in, SW_BUF_HTTP_RESPONSE_BODY, tx->resp_body);
    set_hb(&in, SW_BUF_HTTP_LOCATION, tx->location);
    set_hb(&in, SW_BUF_HTTP_SERVER, sw_http_header(tx->resp_headers, "Server"));
    set_hb(&in, SW_BUF_HTTP_PROTOCOL, tx->resp_protocol);
    /* request buffers stay visible to response-side rules, as in Suricata */
    set_hb(&in, SW_BUF_HTTP_URI, tx->uri);
    set_hb(&in, SW_BUF_HTTP_HOST, tx->host);
    set_hb(&in, SW_BUF_HTTP_METHOD, tx->method);
    set_hb(&in, SW_BUF_HTTP_USER_AGENT, tx->user_agent);
    if (file && file->filename_len)
        set_buf(&in, SW_BUF_FILE_NAME, file->filename, file->filename_len);
    tx_obj o = {.http = tx, .file = file};
    run_sigs(w, f, NULL, false, &in, &o);
}

/* host equals a trusted name or lies below it (label boundary). */
static bool trusted_host(const sw_detect_shared *d, const uint8_t *h, size_t hl)
{
    for (size_t i = 0; i < d->n_trusted; i++) {
        size_t tl = strlen(d->trusted[i]);
        if (hl < tl || strncasecmp((const char *)h + hl - tl, d->trusted[i], tl) != 0)
            continue;
        if (hl == tl || h[hl - tl - 1] == '.')
            return true;
    }
    return false;
}

void sw_detect_file(sw_worker *w, sw_flow *f, const sw_http_tx *tx, const sw_file *file,
                    uint64_t ts_us)
{
    http_response_sigs(w, f, tx, file, ts_us);
    tx_obj o = {.http = tx, .file = file};
    bool trusted = tx->host.p && trusted_host(DS(w), tx->host.p, tx->host.len);
    if (trusted && sw_file_is_executable_download(file))
        SW_CTR_INC(DW(w)->ctr, SW_CTR_D_TRUSTED_DOWNLOADS);
    if (!trusted && sw_file_is_executable_download(file)) {
        char msg[200];
        snprintf(msg, sizeof msg, "SPANWATCH executable download (%s) over HTTP",
                 sw_file_kind_name(file->kind));
        sw_json *j = &w->json;
        alert_begin(w, j, f, NULL, false, ts_us);
        alert_object(j, 1, SID_EXEC_DOWNLOAD, 1, msg, "Potentially Bad Traffic", 2, NULL);
        app_objects(w, j, &o);
        SW_CTR_INC(DW(w)->ctr, SW_CTR_D_BUILTIN);
        alert_finish(w, j, f, sw_flow_server_ip(f), sw_flow_client_ip(f),
                     f->key.ipver == 6 ? 6 : 4);
        if (file->type_mismatch) {
            alert_begin(w, j, f, NULL, false, ts_us);
            alert_object(j, 1, SID_FILE_TYPE_MISMATCH, 1,
                         "SPANWATCH executable served with a misleading Content-Type or name",
                         "Potentially Bad Traffic", 1, NULL);
            app_objects(w, j, &o);
            SW_CTR_INC(DW(w)->ctr, SW_CTR_D_BUILTIN);
            alert_finish(w, j, f, sw_flow_server_ip(f), sw_flow_client_ip(f),
                         f->key.ipver == 6 ? 6 : 4);
        }
    }
    const sw_ioc_db *db = iocdb(w);
    if (!db || file->state == SW_FILE_NONE)
        return;
    char hex[65];
    sw_ioc_hit h;
    static const char hx[] = "0123456789abcdef";
    struct {
        const uint8_t *d;
        size_t n;
        sw_ioc_type t;
    } hs[] = {{file->sha256_digest, 32, SW_IOC_SHA256},
              {file->sha1_digest, 20, SW_IOC_SHA1},
              {file->md5_digest, 16, SW_IOC_MD5}};
    for (size_t k = 0; k < 3; k++) {
        for (size_t i = 0; i < hs[k].n; i++) {
            hex[2 * i] = hx[hs[k].d[i] >> 4];
            hex[2 * i + 1] = hx[hs[k].d[i] & 15];
        }
        hex[2 * hs[k].n] = '\0';
        if (sw_ioc_match_file_hash(db, hs[k].t, hex, &h)) {
            ioc_alert(w, f, NULL, false, ts_us, &h, &o);
            return;
        }
    }
}

void sw_detect_tls(sw_worker *w, sw_flow *f, const sw_tls_state *s, uint64_t ts_us)
{
    const char *sni = sw_tls_sni(s);
    checkin_flow_start(w, f, sni && *sni ? sni : NULL);
    tx_obj o = {.tls = s};
    sw_detect_input in;
    input_from(w, &in, f, NULL, true, ts_us);
    in.app_proto = SW_APP_TLS;
    if (sni)
        set_buf(&in, SW_BUF_TLS_SNI, sni, strlen(sni));
    const char *ja3 = sw_tls_ja3_hash(s), *ja3s = sw_tls_ja3_string(s), *ja4 = sw_tls_ja4(s);
    if (ja3)
        set_buf(&in, SW_BUF_JA3_HASH, ja3, strlen(ja3));
    if (ja3s)
        set_buf(&in, SW_BUF_JA3_STRING, ja3s, strlen(ja3s));
    if (ja4)
        set_buf(&in, SW_BUF_JA4_HASH, ja4, strlen(ja4));
    /* events of the ClientHello's SNI go with the client side, all others
     * with the server side, so a direction-less event rule alerts once */
    const char *cev[SW_TLS_EV_COUNT], *sev[SW_TLS_EV_COUNT];
    uint32_t ncev = 0, nsev = 0, evbits = sw_tls_events(s);
    for (int k = 0; k < SW_TLS_EV_COUNT && k < 32; k++) {
        if (!((evbits >> k) & 1) || !sw_tls_event_name(k))
            continue;
        bool client = k == SW_TLS_EV_MULTIPLE_SNI || k == SW_TLS_EV_INVALID_SNI_TYPE ||
                      k == SW_TLS_EV_INVALID_SNI_LENGTH;
        if (client)
            cev[ncev++] = sw_tls_event_name(k);
        else
            sev[nsev++] = sw_tls_event_name(k);
    }
    in.events = cev;
    in.n_events = ncev;
    run_sigs(w, f, NULL, true, &in, &o);

    input_from(w, &in, f, NULL, false, ts_us);
    in.app_proto = SW_APP_TLS;
    const char *v;
    if ((v = sw_tls_cert_subject(s)))
        set_buf(&in, SW_BUF_TLS_CERT_SUBJECT, v, strlen(v));
    if ((v = sw_tls_cert_issuer(s)))
        set_buf(&in, SW_BUF_TLS_CERT_ISSUER, v, strlen(v));
    if ((v = sw_tls_cert_serial(s)))
        set_buf(&in, SW_BUF_TLS_CERT_SERIAL, v, strlen(v));
    if ((v = sw_tls_cert_fingerprint(s)))
        set_buf(&in, SW_BUF_TLS_CERT_FINGERPRINT, v, strlen(v));
    if ((v = sw_tls_ja3s_hash(s)))
        set_buf(&in, SW_BUF_JA3S_HASH, v, strlen(v));
    in.n_certs = (uint8_t)sw_tls_certs(s, in.certs, in.cert_len, SW_DETECT_MAX_CERTS);
    if (in.n_certs) {
        in.buf[SW_BUF_TLS_CERTS].ptr = in.certs[0];
        in.buf[SW_BUF_TLS_CERTS].len = in.cert_len[0];
    }
    in.events = sev;
    in.n_events = nsev;
    if (in.buf[SW_BUF_TLS_CERT_SUBJECT].ptr || in.buf[SW_BUF_JA3S_HASH].ptr || nsev ||
        in.tls_version || in.n_certs)
        run_sigs(w, f, NULL, false, &in, &o);

    uint32_t hb = sw_tls_heartbeat_flags(s);
    if (hb & (SW_TLS_HB_OVERFLOW | SW_TLS_HB_ENCRYPTED | SW_TLS_HB_ENCRYPTED_MISMATCH)) {
        sw_json *j = &w->json;
        bool clear = hb & SW_TLS_HB_OVERFLOW;
        alert_begin(w, j, f, NULL, true, ts_us);
        alert_object(j, 1, clear ? SID_HEARTBLEED_OVERFLOW : SID_HEARTBLEED_ENCRYPTED, 1,
                     clear ? "SPANWATCH TLS heartbeat request larger than its record "
                             "(Heartbleed, CVE-2014-0160)"
                           : "SPANWATCH TLS encrypted heartbeat before application data "
                             "(possible Heartbleed, CVE-2014-0160)",
                     "Attempted Information Leak", clear ? 1 : 2, NULL);
        app_objects(w, j, &o);
        SW_CTR_INC(DW(w)->ctr, SW_CTR_D_BUILTIN);
        alert_finish(w, j, f, sw_flow_client_ip(f), sw_flow_server_ip(f),
                     f->key.ipver == 6 ? 6 : 4);
    }
    const sw_ioc_db *db = iocdb(w);
    sw_ioc_hit h;
    if (db) {
        if (sni && *sni && sw_ioc_match_domain(db, sni, strlen(sni), &h))
            ioc_alert(w, f, NULL, true, ts_us, &h, &o);
        else if (ja3 && sw_ioc_match_tls_fp(db, SW_IOC_JA3, ja3, &h))
            ioc_alert(w, f, NULL, true, ts_us, &h, &o);
        else if (ja4 && sw_ioc_match_tls_fp(db, SW_IOC_JA4, ja4, &h))
            ioc_alert(w, f, NULL, true, ts_us, &h, &o);
        else if ((v = sw_tls_ja3s_hash(s)) && sw_ioc_match_tls_fp(db, SW_IOC_JA3S, v, &h))
            ioc_alert(w, f, NULL, false, ts_us, &h, &o);
    }
}

/* ---------- housekeeping, reload, counters ---------- */

/* The worker holds no engine pointer across this point: an old ruleset it
 * used may be freed once every worker passed here. */
void sw_detect_quiescent(sw_worker *w)
{
    sw_sig_manager_quiescent(DS(w)->sigs, w->id);
    sw_detect_worker *dw = DW(w);
    if (dw) {
        __atomic_store_n(&dw->offline, 0, __ATOMIC_RELAXED);
        __atomic_store_n(&dw->qepoch, dw->qepoch + 1, __ATOMIC_RELEASE);
    }
}

void sw_detect_offline(sw_worker *w)
{
    sw_sig_manager_offline(DS(w)->sigs, w->id);
    sw_detect_worker *dw = DW(w);
    if (dw)
        __atomic_store_n(&dw->offline, 1, __ATOMIC_RELEASE);
}

/* Waits until every worker passed a quiescent point (or is idle), so none
 * can still hold a pointer read before a swap. False after timeout_ms. */
static bool grace_period(sw_engine *e, unsigned timeout_ms)
{
    uint64_t snap[SW_MAX_WORKERS];
    for (uint32_t i = 0; i < e->nworkers; i++) {
        sw_detect_worker *dw = e->workers[i] ? sw_app_detect(e->workers[i]) : NULL;
        snap[i] = dw ? __atomic_load_n(&dw->qepoch, __ATOMIC_ACQUIRE) : 0;
    }
    for (uint32_t i = 0; i < e->nworkers; i++) {
        sw_detect_worker *dw = e->workers[i] ? sw_app_detect(e->workers[i]) : NULL;
        unsigned waited = 0;
        while (dw && !__atomic_load_n(&dw->offline, __ATOMIC_ACQUIRE) &&
               __atomic_load_n(&dw->qepoch, __ATOMIC_ACQUIRE) == snap[i]) {
            if (waited++ >= timeout_ms)
                return false;
            struct timespec ts = {0, 1000000};
            nanosleep(&ts, NULL);
        }
    }
    return true;
}

/* The stats writer reads the current engine's counters: it takes part in
 * reclamation like a worker, between these two calls. */
void sw_detect_reader_enter(sw_engine *e)
{
    if (e->detect && e->detect->sigs)
        sw_sig_manager_quiescent(e->detect->sigs, (int)(e->nworkers ? e->nworkers : 1));
}

void sw_detect_reader_leave(sw_engine *e)
{
    if (e->detect && e->detect->sigs)
        sw_sig_manager_offline(e->detect->sigs, (int)(e->nworkers ? e->nworkers : 1));
}

void sw_detect_housekeeping(sw_engine *e, uint64_t now_us)
{
    (void)now_us;
    if (e->detect && e->detect->sigs)
        sw_sig_manager_collect(e->detect->sigs);
}

void sw_detect_reload(sw_engine *e)
{
    sw_detect_shared *d = e->detect;
    if (!d)
        return;
    /* Rules: built in the background, swapped atomically; a broken new
     * set keeps the old one running. */
    if (sw_sig_manager_reload_async(d->sigs, &d->sig_cfg, (const char *const *)d->rule_files,
                                    d->n_rule_files) == 0) {
        static sw_sig_report rep; /* large; reloads are serialised */
        int swapped = sw_sig_manager_reload_wait(d->sigs, &rep);
        print_report(stderr, &rep); /* file:line of every bad or skipped rule */
        if (swapped == 1) {
            fprintf(stderr, "reload: rules loaded=%u skipped=%u errors=%u\n", rep.loaded,
                    rep.skipped, rep.errors);
            d->report = rep;
        } else {
            fprintf(stderr, "reload: rules kept the previous set: %s\n",
                    rep.fatal[0] ? rep.fatal : "build failed");
        }
    }
    if (d->ioc_cfg.enabled && d->ioc_cfg.n_lists) {
        sw_ioc_report rep;
        memset(&rep, 0, sizeof rep);
        sw_ioc_db *db = sw_ioc_load(&d->ioc_cfg, &rep);
        if (!db) {
            fprintf(stderr, "reload: ioc lists kept the previous set: %s\n", rep.fatal);
            return;
        }
        /* Workers read the pointer afresh for every lookup: once each has
         * passed a quiescent point after the swap, the old one is unused. */
        sw_ioc_db *old = __atomic_exchange_n(&d->ioc, db, __ATOMIC_ACQ_REL);
        if (grace_period(e, 10000)) {
            sw_ioc_free(old);
            sw_ioc_free(d->ioc_retired);
            d->ioc_retired = NULL;
        } else {
            /* a worker is stuck (blocked output?): keep it until exit */
            sw_ioc_free(d->ioc_retired);
            d->ioc_retired = old;
        }
        d->ioc_report = rep;
        SW_CTR_SET(d->ioc_ctr, SW_IOC_CTR_INDICATORS, rep.loaded);
        SW_CTR_SET(d->ioc_ctr, SW_IOC_CTR_LINES_SKIPPED, rep.skipped);
        fprintf(stderr, "reload: ioc loaded=%llu skipped=%llu\n",
                (unsigned long long)rep.loaded, (unsigned long long)rep.skipped);
    }
}

/* Beacon observations still buffered at shutdown; emitted by the caller's
 * thread after the workers stopped. */
void sw_detect_flush(sw_engine *e, sw_worker *w)
{
    sw_detect_shared *d = e->detect;
    if (!d || !d->beacon)
        return;
    sw_beacon_alert out[64];
    for (;;) {
        int n = sw_beacon_flush(d->beacon, out, 64);
        for (int i = 0; i < n; i++)
            beacon_emit(w, &w->json, &out[i]);
        if (n < 64)
            break;
    }
}

void sw_detect_health_alert(sw_engine *e, sw_json *j, uint64_t ts_us, uint32_t sid,
                            const char *msg)
{
    sw_eve_begin_plain(j, "alert", ts_us);
    alert_object(j, 1, sid, 1, msg, "Sensor Health", 1, NULL);
    size_t n = swj_finish(j);
    if (n)
        sw_outputs_write(e->out, j->buf, n);
}

size_t sw_detect_counter_groups(sw_worker *w, sw_ctr_group *out, size_t max)
{
    sw_detect_worker *dw = DW(w);
    size_t n = 0;
    if (!dw || max < 2)
        return 0;
    out[n++] = (sw_ctr_group){detect_ctr_names, dw->ctr, SW_DETECT_CTR_COUNT};
    out[n++] = sw_sig_thread_counters(dw->sig);
    return n;
}

size_t sw_detect_shared_counter_groups(sw_engine *e, sw_ctr_group *out, size_t max)
{
    sw_detect_shared *d = e->detect;
    size_t n = 0;
    if (!d || max < 4)
        return 0;
    out[n++] = sw_sig_engine_counters(sw_sig_manager_current(d->sigs));
    static const char *const ioc_names[] = {"spanwatch.ioc.indicators",
                                            "spanwatch.ioc.lines_skipped"};
    out[n++] = (sw_ctr_group){ioc_names, d->ioc_ctr, 2};
    if (d->beacon)
        out[n++] = sw_beacon_counters(d->beacon);
    if (d->geoip)
        out[n++] = sw_geoip_counters(d->geoip);
    return n;
}
