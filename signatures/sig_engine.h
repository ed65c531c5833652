/* The signature engine: Suricata rule files in, alerts out.
 *
 * Life cycle (Hyperscan simplegrep style):
 *   sw_sig_engine *e = sw_sig_engine_build(&cfg, files, n, &report);
 *   sw_sig_thread *t = sw_sig_thread_new(e);          one per worker
 *   n = sw_sig_match(e, t, &input, &flow_state, alerts, max);
 *   sw_sig_thread_free(t); sw_sig_engine_free(e);
 *
 * The engine is immutable once built except for the threshold table
 * (internally locked), so any number of workers may match against it.
 * Live reload goes through sw_sig_manager (below): workers load the current
 * engine at the start of each packet and announce a quiescent point after it.
 *
 * One sw_detect_input describes one packet or one app-layer transaction
 * direction: header fields plus whichever inspection buffers the caller has.
 * A rule matches only if every buffer it inspects is present in that call. */
#ifndef SW_SIG_ENGINE_H
#define SW_SIG_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/counters.h"

typedef enum sw_buf_id {
    SW_BUF_PAYLOAD = 0, /* packet payload / reassembled stream chunk */
    SW_BUF_HTTP_URI,    /* normalized */
    SW_BUF_HTTP_URI_RAW,
    SW_BUF_HTTP_HOST, /* normalized: lowercase, no port */
    SW_BUF_HTTP_HOST_RAW,
    SW_BUF_HTTP_METHOD,
    SW_BUF_HTTP_USER_AGENT,
    SW_BUF_HTTP_HEADER, /* request (or response, per direction) headers,
                           normalized "Name: value\r\n" lines, no start line,
                           no Cookie header */
    SW_BUF_HTTP_HEADER_RAW,
    SW_BUF_HTTP_HEADER_NAMES, /* "\r\nName1\r\nName2\r\n\r\n" as Suricata */
    SW_BUF_HTTP_COOKIE,
    SW_BUF_HTTP_REQUEST_LINE, /* "GET /x HTTP/1.1" */
    SW_BUF_HTTP_REQUEST_BODY, /* http.request_body / http_client_body */
    SW_BUF_HTTP_STAT_CODE,
    SW_BUF_HTTP_STAT_MSG,
    SW_BUF_HTTP_RESPONSE_LINE,
    SW_BUF_HTTP_CONTENT_TYPE,
    SW_BUF_HTTP_CONTENT_LEN,
    SW_BUF_HTTP_RESPONSE_HEADER,
    SW_BUF_HTTP_RESPONSE_BODY, /* http.response_body, file.data (decoded) */
    SW_BUF_HTTP_REFERER,
    SW_BUF_HTTP_ACCEPT,
    SW_BUF_HTTP_ACCEPT_ENC,
    SW_BUF_HTTP_ACCEPT_LANG,
    SW_BUF_HTTP_CONNECTION,
    SW_BUF_HTTP_LOCATION,
    SW_BUF_HTTP_SERVER,
    SW_BUF_HTTP_PROTOCOL,
    SW_BUF_HTTP_START, /* start line + headers, raw */
    SW_BUF_DNS_QUERY,
    SW_BUF_TLS_SNI,
    SW_BUF_TLS_CERT_SUBJECT,
    SW_BUF_TLS_CERT_ISSUER,
    SW_BUF_TLS_CERT_SERIAL,
    SW_BUF_TLS_CERT_FINGERPRINT,
    SW_BUF_TLS_CERTS, /* DER of each certificate of the server's chain (certs[]) */
    SW_BUF_JA3_HASH,
    SW_BUF_JA3_STRING,
    SW_BUF_JA3S_HASH,
    SW_BUF_JA4_HASH,
    SW_BUF_FILE_NAME, /* file.name: the file's name as fileinfo shows it */
    SW_BUF_BASE64, /* base64_data: what base64_decode decoded (never an input) */
    SW_BUF_COUNT
} sw_buf_id;

/* Application protocols a rule header can name. */
typedef enum sw_app_proto {
    SW_APP_UNKNOWN = 0,
    SW_APP_HTTP,
    SW_APP_HTTP2,
    SW_APP_DNS,
    SW_APP_TLS,
    SW_APP_SMTP,
    SW_APP_SSH,
    SW_APP_FTP,
    SW_APP_FTP_DATA,
    SW_APP_SMB,
    SW_APP_DCERPC,
    SW_APP_KRB5,
    SW_APP_NFS,
    SW_APP_NTP,
    SW_APP_DHCP,
    SW_APP_SNMP,
    SW_APP_SIP,
    SW_APP_RDP,
    SW_APP_RFB,
    SW_APP_IMAP,
    SW_APP_POP3,
    SW_APP_TFTP,
    SW_APP_MQTT,
    SW_APP_IKE,
    SW_APP_MODBUS,
    SW_APP_DNP3,
    SW_APP_ENIP,
    SW_APP_TELNET,
    SW_APP_IRC,
    SW_APP_COUNT
} sw_app_proto;

typedef struct sw_detect_input {
    int ip_version;                 /* 4 or 6 */
    const uint8_t *src_ip, *dst_ip; /* 4 or 16 bytes, network order */
    uint16_t src_port, dst_port;
    uint8_t proto; /* IPPROTO_* of this packet as seen on the wire */
    /* flow state for the `flow` keyword */
    bool has_flow;    /* false: stateless packet (no flow tracking) */
    bool to_server;   /* direction of this packet/tx */
    bool established; /* TCP: 3WHS done; UDP: seen both directions */
    bool is_stream;   /* payload is reassembled stream data (only_stream) */
    /* Stream input: buf[SW_BUF_PAYLOAD][0, stream_seen) was inspected in an
     * earlier call (the tail kept so patterns across chunk boundaries are
     * found); only a match that reaches past it counts, so no hit alerts
     * twice. */
    uint32_t stream_seen;
    /* Packet input whose payload the reassembled stream inspects: payload
     * rules that can run on the stream skip the packet (as Suricata's
     * SIG_FLAG_REQUIRE_STREAM rules), rules that need packet semantics
     * (dsize, flags, itype, icode, no_stream/tcp-pkt) still
     * inspect it. */
    bool payload_streamed;
    int app_proto;    /* sw_app_proto */
    uint32_t dsize;   /* packet payload size for dsize */
    struct {
        const uint8_t *ptr;
        uint32_t len;
    } buf[SW_BUF_COUNT]; /* NULL/0 = buffer not present in this call */
    uint64_t ts_us;      /* packet time: thresholds count in it */
    /* Decoder and app-layer events of this packet/transaction, by
     * Suricata's names ("ipv4.trunc_pkt", "http.request_line_missing_protocol",
     * "tls.invalid_certificate", "dns.malformed_data"), for decode-event and
     * app-layer-event; case-insensitive. */
    const char *const *events;
    uint32_t n_events;
    bool has_dns_opcode; /* DNS message: its header opcode (dns.opcode) */
    uint8_t dns_opcode;
    uint8_t vlan_count; /* vlan.id: the packet's VLAN ids, outermost first */
    uint16_t vlan_id[3];
    /* Packet inputs only: the TCP flags (flags) and the ICMP/ICMPv6 type
     * and code (itype, icode). */
    bool has_tcp_flags, has_icmp;
    uint8_t tcp_flags, icmp_type, icmp_code;
    /* TCP flows: in-order bytes each side has sent, counting the SYN as
     * one as Suricata's sequence arithmetic does (stream_size). */
    bool has_stream_size;
    uint32_t client_bytes, server_bytes;
    /* An app-layer transaction (DNS message, HTTP request/response, file,
     * TLS handshake side) rather than a packet or stream data. */
    bool is_tx;
    /* tls.certs is a multi-buffer: a rule's tls.certs options must all hold
     * in one certificate of the chain, any one. buf[SW_BUF_TLS_CERTS] is
     * set to the first when n_certs > 0. */
#define SW_DETECT_MAX_CERTS 8
    uint8_t n_certs;
    const uint8_t *certs[SW_DETECT_MAX_CERTS];
    uint32_t cert_len[SW_DETECT_MAX_CERTS];
    /* TLS flows: the version the sending side announced (tls.version) */
    uint16_t tls_version; /* 0: unknown */
} sw_detect_input;

typedef enum sw_sig_action {
    SW_ACT_ALERT = 0,
    SW_ACT_PASS,
    SW_ACT_DROP,
    SW_ACT_REJECT,
} sw_sig_action;

struct sw_rule;

typedef struct sw_sig_alert {
    uint32_t gid, sid, rev;
    const char *msg;      /* "" when the rule has none */
    const char *category; /* classtype description, "" when none */
    int severity;         /* priority, 1 = highest; 3 without classtype */
    sw_sig_action action;
    int target; /* 0 none, 1 target:src_ip, 2 target:dest_ip */
    const struct sw_rule *rule; /* alive while the engine is */
} sw_sig_alert;

#define SW_SIG_MAX_VARS 64

typedef struct sw_sig_config {
    const char *classification_file; /* NULL: no categories */
    /* vars.address-groups / vars.port-groups; a name given here overrides
     * the built-in Suricata default of the same name. Strings must outlive
     * sw_sig_engine_build (they are copied into the engine). */
    struct {
        const char *name, *value;
    } addr_vars[SW_SIG_MAX_VARS], port_vars[SW_SIG_MAX_VARS];
    size_t n_addr_vars, n_port_vars;
    uint32_t threshold_entries;   /* detect.thresholds.max-entries */
    uint32_t xbits_entries;       /* detect.xbits.max-entries */
    uint32_t base64_max;          /* detect.base64-decode-max: decoded bytes kept */
    uint32_t pcre_match_limit;    /* detect.pcre.match-limit */
    uint32_t inspection_recursion_limit;
    /* detect.packet-alert-max: signature alerts kept per inspection (a
     * packet, a stream window or a transaction); the rest are counted in
     * detect.alert_queue_overflow. */
    uint32_t packet_alert_max;
    /* detect.cache-dir: compiled prefilter databases are kept here keyed by
     * a hash of the ruleset's patterns; NULL or "" = no cache. */
    const char *cache_dir;
} sw_sig_config;

void sw_sig_config_defaults(sw_sig_config *c);
struct sw_cfg_node;
/* Reads vars.address-groups, vars.port-groups, classification-file,
 * detect.thresholds.max-entries, detect.pcre.match-limit,
 * detect.inspection-recursion-limit, detect.packet-alert-max, detect.cache-dir. The
 * strings point into the cfg tree. */
int sw_sig_config_load(const struct sw_cfg_node *root, sw_sig_config *c, char *err,
                       size_t errlen);

#define SW_SIG_REPORT_MAX_ISSUES 1024 /* every skipped rule of a real ruleset is listed */
#define SW_SIG_REPORT_MAX_KW 32

typedef struct sw_sig_issue {
    char file[96];
    int line;
    bool is_error; /* false: skipped for an unsupported keyword */
    char reason[160];
} sw_sig_issue;

typedef struct sw_sig_report {
    uint32_t loaded;  /* rules in the engine */
    uint32_t skipped; /* unsupported keyword or protocol */
    uint32_t errors;  /* syntax errors, bad values, duplicate sids */
    uint32_t files_failed;
    uint32_t n_issues; /* first SW_SIG_REPORT_MAX_ISSUES kept */
    sw_sig_issue issues[SW_SIG_REPORT_MAX_ISSUES];
    /* why rules were skipped, most frequent keyword first after build */
    struct {
        char keyword[32];
        uint32_t count;
    } unsupported[SW_SIG_REPORT_MAX_KW];
    uint32_t n_unsupported;
    uint32_t prefilter_rules; /* rules reached through Hyperscan */
    uint32_t always_rules;    /* rules evaluated without a prefilter */
    uint64_t parse_us, compile_us; /* compile_us includes a cache load */
    bool cache_hit;       /* databases came from detect.cache-dir */
    char cache_note[192]; /* why the cache was not used or not written; "" */
    char fatal[256]; /* non-empty when the build failed as a whole */
} sw_sig_report;

typedef struct sw_sig_engine sw_sig_engine;
typedef struct sw_sig_thread sw_sig_thread;

/* Loads, parses and compiles. Returns NULL only when nothing usable could be
 * built (report->fatal says why); bad rules are skipped and listed. A rule
 * file that cannot be opened counts in files_failed and is an issue. */
sw_sig_engine *sw_sig_engine_build(const sw_sig_config *cfg, const char *const *rule_files,
                                   size_t n_files, sw_sig_report *report);
/* Same, from rules in memory ("name" labels issues). */
sw_sig_engine *sw_sig_engine_build_string(const sw_sig_config *cfg, const char *name,
                                          const char *rules, sw_sig_report *report);
void sw_sig_engine_free(sw_sig_engine *e);
uint32_t sw_sig_engine_rule_count(const sw_sig_engine *e);
uint64_t sw_sig_engine_generation(const sw_sig_engine *e); /* unique per build */

/* Per-worker scratch, bound to one engine; sw_sig_thread_sync rebinds it to
 * another (after a reload) and returns -1 on allocation failure. */
sw_sig_thread *sw_sig_thread_new(const sw_sig_engine *e);
int sw_sig_thread_sync(sw_sig_thread *t, const sw_sig_engine *e);
void sw_sig_thread_free(sw_sig_thread *t);

/* Per-flow detection state (flowbits), plain data: zero it when the flow is
 * created. Flowbits are keyed by a hash of their name, so they survive a
 * reload. A flow holds at most SW_SIG_FLOW_BITS bits at once. */
#define SW_SIG_FLOW_BITS 12
#define SW_SIG_FLOW_INTS 4 /* flowint variables a flow holds at once */
typedef struct sw_sig_flow {
    uint32_t bits[SW_SIG_FLOW_BITS];
    uint8_t n;
    uint8_t n_ints;
    uint32_t int_ids[SW_SIG_FLOW_INTS];
    uint32_t int_vals[SW_SIG_FLOW_INTS];
} sw_sig_flow;

/* Returns the number of alerts written (at most max_alerts); fs may be NULL
 * for flowless packets (flowbits conditions then fail). */
int sw_sig_match(const sw_sig_engine *e, sw_sig_thread *t, const sw_detect_input *in,
                 sw_sig_flow *fs, sw_sig_alert *alerts, int max_alerts);

/* Writes "metadata": {key: [values...]} as Suricata's alert.metadata; writes
 * nothing when the rule has no metadata. j is an sw_json *. */
struct sw_json;
void sw_sig_alert_metadata_json(const struct sw_rule *r, struct sw_json *j);
/* Rule text for alert.rule (log-rule option); "" when not kept. */
const char *sw_sig_rule_text(const struct sw_rule *r);

/* Counters of one worker (its sw_sig_thread); sum over workers. */
#define SW_SIG_THREAD_COUNTERS(X)                                  \
    X(SW_SIGC_ALERT, "detect.alert")                               \
    X(SW_SIGC_ALERT_OVERFLOW, "detect.alert_queue_overflow")       \
    X(SW_SIGC_SUPPRESSED, "detect.alerts_suppressed")              \
    X(SW_SIGC_PREFILTER_HITS, "spanwatch.detect.prefilter_hits")   \
    X(SW_SIGC_RULES_CHECKED, "spanwatch.detect.rules_evaluated")   \
    X(SW_SIGC_FLOWBITS_FULL, "spanwatch.detect.flowbits_full")     \
    X(SW_SIGC_FLOWINT_FULL, "spanwatch.detect.flowint_full")       \
    X(SW_SIGC_B64_TRUNCATED, "spanwatch.detect.base64_truncated")  \
    X(SW_SIGC_RECURSION_LIMIT, "spanwatch.detect.recursion_limit") \
    X(SW_SIGC_PCRE_LIMIT, "spanwatch.detect.pcre_limit")           \
    X(SW_SIGC_HS_ERROR, "spanwatch.detect.hs_scan_error")
#define SW_SIG_X_ENUM(id, name) id,
enum { SW_SIG_THREAD_COUNTERS(SW_SIG_X_ENUM) SW_SIGC_COUNT };
sw_ctr_group sw_sig_thread_counters(const sw_sig_thread *t);

/* Counters of the engine (rules loaded etc., threshold table). */
#define SW_SIG_ENGINE_COUNTERS(X)                                    \
    X(SW_SIGE_RULES_LOADED, "spanwatch.detect.rules_loaded")         \
    X(SW_SIGE_RULES_SKIPPED, "spanwatch.detect.rules_skipped")       \
    X(SW_SIGE_RULES_FAILED, "spanwatch.detect.rules_failed")         \
    X(SW_SIGE_THRESH_FULL, "spanwatch.detect.threshold_table_full")  \
    X(SW_SIGE_THRESH_ENTRIES, "spanwatch.detect.threshold_entries")  \
    X(SW_SIGE_XBITS_FULL, "spanwatch.detect.xbits_table_full")       \
    X(SW_SIGE_XBITS_SET, "spanwatch.detect.xbits_set")               \
    X(SW_SIGE_CACHE_HITS, "spanwatch.detect.cache_hits")             \
    X(SW_SIGE_CACHE_MISSES, "spanwatch.detect.cache_misses")
enum { SW_SIG_ENGINE_COUNTERS(SW_SIG_X_ENUM) SW_SIGE_COUNT };
sw_ctr_group sw_sig_engine_counters(const sw_sig_engine *e);
/* Input fields only some rulesets read, so callers fill them only then. */
#define SW_SIG_NEEDS_STREAM_SIZE 1u
#define SW_SIG_NEEDS_TLS_VERSION 2u
uint32_t sw_sig_engine_needs(const sw_sig_engine *e);
/* Copies the xbits a running engine holds into its replacement, so a
 * reload does not forget which hosts were marked (bits set by workers
 * still on the old engine after this point are lost). */
void sw_sig_engine_carry_state(sw_sig_engine *to, const sw_sig_engine *from);

/* ---- live reload ---------------------------------------------------------
 * The manager owns the current engine. Workers:
 *     const sw_sig_engine *e = sw_sig_manager_current(m);   one atomic load
 *     sw_sig_thread_sync(t, e); sw_sig_match(e, t, ...);
 *     sw_sig_manager_quiescent(m, worker_id);                between packets
 * A swapped-out engine is freed once every worker has passed a quiescent
 * point after the swap (by sw_sig_manager_collect, swap, or free). A worker
 * that is idle must still call quiescent (e.g. on its poll timeout) or mark
 * itself offline, else old engines stay alive. */
typedef struct sw_sig_manager sw_sig_manager;

sw_sig_manager *sw_sig_manager_new(sw_sig_engine *initial, int n_workers);
/* Frees the current engine and every retired one; workers must be stopped. */
void sw_sig_manager_free(sw_sig_manager *m);
const sw_sig_engine *sw_sig_manager_current(sw_sig_manager *m);
void sw_sig_manager_quiescent(sw_sig_manager *m, int worker_id);
/* An offline worker (stopped or blocked on input) does not hold up frees. */
void sw_sig_manager_offline(sw_sig_manager *m, int worker_id);
/* Takes ownership of e and publishes it; the old one is retired. */
void sw_sig_manager_swap(sw_sig_manager *m, sw_sig_engine *e);
/* Frees retired engines no worker can still see; returns how many remain. */
int sw_sig_manager_collect(sw_sig_manager *m);

/* Builds a new engine in a background thread and swaps it in when it built
 * with at least one rule and no fatal error; otherwise the old engine stays.
 * Returns -1 when a reload is already running. The file list and config are
 * copied. sw_sig_manager_reload_wait blocks until it finished and returns 1
 * swapped, 0 kept the old engine (report says why), -1 none was running. */
int sw_sig_manager_reload_async(sw_sig_manager *m, const sw_sig_config *cfg,
                                const char *const *rule_files, size_t n_files);
int sw_sig_manager_reload_wait(sw_sig_manager *m, sw_sig_report *report);
uint64_t sw_sig_manager_reloads(const sw_sig_manager *m);

#endif
