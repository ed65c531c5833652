/* Streaming beacon (C2 check-in periodicity) detection, DNS tunnel and DGA
 * signals.
 *
 * The pipeline reports check-ins (new connections, new requests on a
 * keep-alive connection, DNS queries); this module keeps per-key interval
 * sketches in a bounded, preallocated table and says when a key turns
 * periodic. One sw_beacon object is shared by all workers: it is sharded by
 * key hash with one mutex per shard, since check-ins are rare compared with
 * packets.
 *
 * Determinism: observations of one key may arrive out of time order by up to
 * `reorder_window` (different workers). Each key holds them in a small
 * pending buffer and commits them in time order only once a newer
 * observation of the same key is more than reorder_window later (or at
 * sw_beacon_flush). The alerts therefore depend only on the packet times,
 * not on which thread saw what first. The price: an alert is emitted when the
 * check-in after the decisive one arrives; the alert describes the decisive
 * check-in (beacon.count, beacon.last_seen).
 *
 * Keys (all include the initiating host):
 *   flow:   (src, dst, dport, proto)  -- check-ins that carry no server name
 *   name:   (src, server_name)        -- TLS SNI / HTTP Host: survives address
 *                                        rotation; reported with latest dst
 *   qname:  (src, qname)              -- DNS name queried again and again
 *   domain: (src, registered domain)  -- fresh labels under one domain
 *                                        (tunnels); also holds tunnel counters
 *   host:   (src)                     -- DGA counter
 * A check-in with a server name feeds only the name key, so a C2 on a fixed
 * address is reported once, not twice.
 *
 * Size information: pass bytes_toserver/bytes_toclient in the check-in when
 * already known (e.g. request size), and/or call sw_beacon_flow_end() with
 * the same check-in fields and the flow's byte counts when the connection
 * ends. Sizes only add evidence; detection works without them.
 */
#ifndef SW_BEACON_H
#define SW_BEACON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/cfg.h"
#include "sensor/counters.h"

typedef enum {
    SW_CHECKIN_FLOW_START, /* new connection (TCP SYN / first UDP packet) */
    SW_CHECKIN_REQUEST,    /* 2nd and later request on a keep-alive connection
                              (the first is covered by FLOW_START) */
    SW_CHECKIN_DNS_QUERY,
} sw_checkin_kind;

typedef struct sw_checkin {
    uint64_t ts_us; /* packet time */
    sw_checkin_kind kind;
    int ip_version; /* 4 or 6 */
    uint8_t src[16], dst[16]; /* src = initiator; IPv4 in the first 4 bytes */
    uint16_t dport;
    uint8_t proto;
    const char *server_name; /* TLS SNI or HTTP Host when known, else NULL */
    const char *qname;       /* DNS query name (kind DNS) */
    uint16_t qtype;
    uint32_t bytes_toserver, bytes_toclient; /* 0 = unknown */
    uint64_t flow_id;
    uint16_t sport;
} sw_checkin;

#define SW_BEACON_GID 1
/* Signature ids (gid 1). The msg strings are in sw_beacon_sig_msg(). */
typedef enum {
    SW_BSIG_FLOW = 0,       /* 9100001 periodic connections/requests to addr */
    SW_BSIG_NAME,           /* 9100002 periodic check-ins to a TLS/HTTP name */
    SW_BSIG_DNS_NAME,       /* 9100003 same DNS name queried periodically */
    SW_BSIG_DNS_DOMAIN,     /* 9100004 fresh names under one domain, periodic */
    SW_BSIG_TUNNEL_ENTROPY, /* 9100010 long high-entropy labels */
    SW_BSIG_TUNNEL_UNIQUE,  /* 9100011 many unique names under one domain */
    SW_BSIG_TUNNEL_RRTYPE,  /* 9100012 NULL/ANY or TXT-heavy queries */
    SW_BSIG_DGA,            /* 9100013 many random-looking domains */
    SW_BSIG_COUNT
} sw_beacon_sig;

uint32_t sw_beacon_sig_sid(sw_beacon_sig s);
const char *sw_beacon_sig_msg(sw_beacon_sig s);
/* "Command and Control" for beacons, "A Network Trojan was detected" for
 * tunnel/DGA signals. */
const char *sw_beacon_sig_category(sw_beacon_sig s);
int sw_beacon_sig_severity(sw_beacon_sig s);

#define SW_BEACON_MAX_INTERVALS 24
#define SW_BEACON_NAME_MAX 256

typedef struct sw_beacon_alert {
    sw_beacon_sig sig;
    uint32_t gid, signature_id, rev;
    const char *signature; /* static strings */
    const char *category;
    int severity;

    uint64_t ts_us;   /* packet time of the observation that emitted it */
    uint64_t flow_id; /* of that observation (0 at flush) */
    int ip_version;
    uint8_t src[16], dst[16]; /* dst = latest address of the key */
    uint16_t sport, dport;
    uint8_t proto;

    bool is_dns; /* beacon.kind "dns" (else "flow") */
    char server_name[SW_BEACON_NAME_MAX]; /* "" when none */
    char rrname[SW_BEACON_NAME_MAX];      /* "" when none */
    double period_s, jitter, score;
    uint32_t count;
    uint64_t first_seen_us, last_seen_us;
    int n_intervals;
    double intervals_s[SW_BEACON_MAX_INTERVALS]; /* oldest first */
} sw_beacon_alert;

#define SW_BEACON_MAX_ALLOW 64

typedef struct sw_beacon_config {
    bool enabled;
    uint64_t memcap;            /* bytes for the key table */
    uint32_t shards;            /* lock stripes, power of two */
    double threshold;           /* alert when score >= threshold */
    uint32_t min_checkins;      /* no alert before this many */
    uint64_t realert_us;        /* at most one alert per key per interval */
    uint64_t reorder_window_us; /* tolerated disorder between workers */
    uint64_t min_period_us;     /* shorter periods are ignored */
    uint64_t max_period_us;
    /* prevalence: suppress when a destination is polled by >= min_hosts
     * distinct hosts and by >= min_share of all hosts seen */
    uint32_t prevalence_min_hosts;
    double prevalence_min_share;
    uint32_t prevalence_slots; /* destinations tracked (4-way sets) */
    /* names of keys close to alerting, so that alerts raised at flush
     * still carry server_name/rrname (keys store no names: memory budget) */
    uint32_t name_slots;
    uint16_t exclude_ports[32];
    int n_exclude_ports;
    bool skip_multicast;
    /* DNS tunnel / DGA */
    bool tunnel_enabled;
    uint32_t tunnel_min_queries;   /* long high-entropy labels needed */
    uint32_t tunnel_unique_names;  /* unique random names under a domain */
    uint32_t tunnel_txt_queries;   /* TXT queries (and >= half of all) */
    uint32_t tunnel_nullany_queries;
    uint32_t dga_domains;          /* random-looking domains per host/hour */
    char allow_names[SW_BEACON_MAX_ALLOW][SW_BEACON_NAME_MAX]; /* suffixes */
    int n_allow_names;
    struct {
        int family;
        uint8_t addr[16];
        int prefix;
    } allow_cidrs[SW_BEACON_MAX_ALLOW];
    int n_allow_cidrs;
    const char *psl_file; /* NULL: libpsl's built-in latest data */
} sw_beacon_config;

void sw_beacon_config_defaults(sw_beacon_config *c);
/* Reads the "beacon" section. */
int sw_beacon_config_load(const sw_cfg_node *root, sw_beacon_config *c,
                          char *err, size_t errlen);
/* Adds "name" (suffix match) or "10.0.0.0/8" style entries; -1 on error. */
int sw_beacon_allow_name(sw_beacon_config *c, const char *name, char *err,
                         size_t errlen);
int sw_beacon_allow_cidr(sw_beacon_config *c, const char *cidr, char *err,
                         size_t errlen);

typedef struct sw_beacon sw_beacon;

/* Allocates every table up front; NULL with err filled on failure. */
sw_beacon *sw_beacon_new(const sw_beacon_config *c, char *err, size_t errlen);
void sw_beacon_free(sw_beacon *b);

/* Records one check-in. Thread-safe. Writes at most max alerts into out and
 * returns how many (alerts beyond max are counted as dropped). */
int sw_beacon_observe(sw_beacon *b, const sw_checkin *c, sw_beacon_alert *out,
                      int max);
/* Byte counts of a finished connection (same fields as its check-in). */
void sw_beacon_flow_end(sw_beacon *b, const sw_checkin *c);
/* Commits every pending observation. Call from one thread after the workers
 * stopped, repeatedly until it returns 0. */
int sw_beacon_flush(sw_beacon *b, sw_beacon_alert *out, int max);

/* Counters (spanwatch.beacon.*). */
#define SW_BEACON_COUNTERS(X)                                   \
    X(OBSERVED, "spanwatch.beacon.checkins")                    \
    X(KEYS_ACTIVE, "spanwatch.beacon.keys_active")              \
    X(KEYS_CAPACITY, "spanwatch.beacon.keys_capacity")          \
    X(EVICTED, "spanwatch.beacon.keys_evicted")                 \
    X(LATE, "spanwatch.beacon.checkins_late")                   \
    X(BURST, "spanwatch.beacon.checkins_burst")                 \
    X(SKIP_PORT, "spanwatch.beacon.skipped_port")               \
    X(SKIP_MCAST, "spanwatch.beacon.skipped_multicast")         \
    X(SKIP_LOCAL, "spanwatch.beacon.skipped_local_name")        \
    X(SKIP_ALLOW, "spanwatch.beacon.skipped_allowlist")         \
    X(SUPPRESSED_PREV, "spanwatch.beacon.suppressed_prevalence") \
    X(ALERTS, "spanwatch.beacon.alerts")                        \
    X(ALERTS_TUNNEL, "spanwatch.beacon.alerts_tunnel")          \
    X(ALERTS_DROPPED, "spanwatch.beacon.alerts_dropped")        \
    X(PREV_REPLACED, "spanwatch.beacon.prevalence_replaced")    \
    X(NAMES_STORED, "spanwatch.beacon.names_stored")            \
    X(NAMES_REPLACED, "spanwatch.beacon.names_replaced")        \
    X(FLUSH_UNNAMED, "spanwatch.beacon.flush_alerts_unnamed")   \
    X(MEMUSE, "spanwatch.beacon.memuse")

enum {
#define SW_BEACON_X(id, path) SW_BEACON_CTR_##id,
    SW_BEACON_COUNTERS(SW_BEACON_X)
#undef SW_BEACON_X
        SW_BEACON_CTR_COUNT
};

sw_ctr_group sw_beacon_counters(const sw_beacon *b);
/* Bytes allocated per tracked key (entry + hash bucket). */
size_t sw_beacon_bytes_per_key(void);

/* Scoring core, exposed for tests: intervals in seconds (time order).
 * Returns the score in [0,1]; period and jitter are written. */
double sw_beacon_score_intervals(const double *iv, int n, double *period,
                                 double *jitter);

#endif
