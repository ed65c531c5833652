/* Threat-intelligence indicator (IoC) lists and their matching.
 *
 * A database is built once from the configured list files and is immutable
 * afterwards: lookups from any number of worker threads need no locks and
 * allocate nothing. Reload (SIGHUP) builds a new database and swaps the
 * pointer; the old one is freed once no worker uses it any more.
 *
 * Indicator types and their matching:
 *   domain  the listed name and every name below it ("evil.com" matches
 *           "evil.com" and "a.b.evil.com", not "notevil.com"); case and a
 *           trailing dot are ignored; the most specific listed name wins.
 *   ip      IPv4/IPv6 addresses and CIDR prefixes, longest prefix wins;
 *           an IPv4-mapped IPv6 address (::ffff:a.b.c.d) also matches v4.
 *   url     scheme dropped, host lower-cased (port dropped), path
 *           and query compared exactly; a listed URL without a query also
 *           matches requests for that path with any query.
 *   ja3, ja3s, ja4   TLS client/server fingerprints (hex, case-insensitive)
 *   md5, sha1, sha256  file hashes (hex, case-insensitive)
 *
 * List files are plain text (one indicator a line, '#' comments, blank lines
 * ignored) or CSV with a header line; see signatures/ioc/README.md. */
#ifndef SW_IOC_H
#define SW_IOC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/cfg.h"
#include "sensor/json.h"

typedef enum sw_ioc_type {
    SW_IOC_AUTO = 0, /* list type only: detect per line */
    SW_IOC_DOMAIN,
    SW_IOC_IP,
    SW_IOC_URL,
    SW_IOC_JA3,
    SW_IOC_JA3S,
    SW_IOC_JA4,
    SW_IOC_MD5,
    SW_IOC_SHA1,
    SW_IOC_SHA256,
    SW_IOC_HASH, /* list type only: md5/sha1/sha256 by length */
    SW_IOC_TYPE_COUNT
} sw_ioc_type;

/* "domain", "ip", "url", "ja3", "ja3s", "ja4", "md5", "sha1", "sha256",
 * "auto", "hash"; NULL for out-of-range values. */
const char *sw_ioc_type_name(sw_ioc_type t);
/* Inverse of sw_ioc_type_name (case-insensitive); -1 when unknown. */
int sw_ioc_type_parse(const char *s);

typedef enum sw_ioc_format {
    SW_IOC_FMT_AUTO = 0, /* ".csv" suffix -> CSV, else text */
    SW_IOC_FMT_TEXT,
    SW_IOC_FMT_CSV,
} sw_ioc_format;

#define SW_IOC_MAX_LISTS 64

typedef struct sw_ioc_list_config {
    const char *path;   /* required */
    const char *name;   /* list name in alerts; default: file name */
    sw_ioc_type type;   /* SW_IOC_AUTO unless the list is of one type */
    sw_ioc_format format;
    int severity;       /* 1..3; 0 = the config's default_severity */
} sw_ioc_list_config;

/* Strings are borrowed (e.g. from the config tree) and must stay valid
 * during sw_ioc_load only; the database copies what it keeps. */
typedef struct sw_ioc_config {
    bool enabled;
    int default_severity; /* 1..3, default 2 */
    size_t max_line;      /* longer lines are malformed; default 8192 */
    size_t n_lists;
    sw_ioc_list_config lists[SW_IOC_MAX_LISTS];
} sw_ioc_config;

void sw_ioc_config_defaults(sw_ioc_config *c);
/* Reads the "ioc" section. Strings point into root, which must outlive c's
 * use. Returns 0, or -1 with "config: ioc.<key>: <problem>" in err. */
int sw_ioc_config_load(const sw_cfg_node *root, sw_ioc_config *c, char *err,
                       size_t errlen);

#define SW_IOC_MAX_ERRORS 32
#define SW_IOC_ERRLEN 256

/* What a load did. Counts cover every file; only the first
 * SW_IOC_MAX_ERRORS problems are kept as text ("file:line: reason"). */
typedef struct sw_ioc_report {
    uint64_t loaded;      /* distinct indicators in the database */
    uint64_t skipped;     /* malformed lines (the -T failure count) */
    uint64_t duplicates;  /* well-formed lines already present */
    uint64_t by_type[SW_IOC_TYPE_COUNT];
    uint32_t files;
    size_t n_errors;      /* kept messages, <= SW_IOC_MAX_ERRORS */
    char errors[SW_IOC_MAX_ERRORS][SW_IOC_ERRLEN];
    char fatal[SW_IOC_ERRLEN]; /* why sw_ioc_load returned NULL */
} sw_ioc_report;

typedef struct sw_ioc_db sw_ioc_db;

/* Builds a database from every configured list. Returns NULL when a list
 * cannot be read (missing file, I/O error) or memory runs out, with the
 * reason in r->fatal. Malformed lines do not fail the load: they are
 * counted in r->skipped and described in r->errors. An empty list is
 * loaded and noted in r->errors without counting as skipped. */
sw_ioc_db *sw_ioc_load(const sw_ioc_config *c, sw_ioc_report *r);
void sw_ioc_free(sw_ioc_db *db);

/* Indicators held (all types). */
uint64_t sw_ioc_count(const sw_ioc_db *db);
/* Approximate heap bytes held by the database. */
size_t sw_ioc_memuse(const sw_ioc_db *db);

/* A match. Every pointer points into the database and is valid while it
 * lives: copy what must outlive a reload. */
typedef struct sw_ioc_hit {
    const char *type;   /* sw_ioc_type_name() of the indicator */
    const char *value;  /* the indicator as written in the list */
    const char *list;   /* list name */
    const char *source; /* CSV "source" column, or NULL */
    int severity;       /* 1..3 */
} sw_ioc_hit;

/* name: a DNS name, TLS SNI or HTTP Host (no port), any case, may end in
 * '.'. hit may be NULL when only the verdict is wanted. */
bool sw_ioc_match_domain(const sw_ioc_db *db, const char *name, size_t len,
                         sw_ioc_hit *hit);
/* family 4 or 6; addr in network order (4 or 16 bytes). */
bool sw_ioc_match_ip(const sw_ioc_db *db, int family, const uint8_t *addr,
                     sw_ioc_hit *hit);
/* host: HTTP Host header value (a ":port" suffix is ignored); path: the
 * request target as sent, "/p/a/t/h?query" (an absolute-form
 * "http://host/..." target is also accepted). */
bool sw_ioc_match_url(const sw_ioc_db *db, const char *host, size_t hostlen,
                      const char *path, size_t pathlen, sw_ioc_hit *hit);
/* kind: SW_IOC_JA3, SW_IOC_JA3S or SW_IOC_JA4; hex is NUL-terminated. */
bool sw_ioc_match_tls_fp(const sw_ioc_db *db, sw_ioc_type kind,
                         const char *hex, sw_ioc_hit *hit);
/* kind: SW_IOC_MD5, SW_IOC_SHA1 or SW_IOC_SHA256; hex is NUL-terminated. */
bool sw_ioc_match_file_hash(const sw_ioc_db *db, sw_ioc_type kind,
                            const char *hex, sw_ioc_hit *hit);

/* Writes the contract's "ioc": {"type", "value", "list"} object into the
 * event j is building. */
void sw_eve_ioc(sw_json *j, const sw_ioc_hit *h);

/* Counters (stats paths). INDICATORS and LINES_SKIPPED describe the loaded
 * database (gauges, set after each load); HITS is counted per worker. */
#define SW_IOC_COUNTERS(X)                                   \
    X(SW_IOC_CTR_INDICATORS, "spanwatch.ioc.indicators")     \
    X(SW_IOC_CTR_LINES_SKIPPED, "spanwatch.ioc.lines_skipped") \
    X(SW_IOC_CTR_HITS, "spanwatch.ioc.hits")

#define SW_IOC_CTR_ENUM_(id, path) id,
typedef enum sw_ioc_ctr { SW_IOC_COUNTERS(SW_IOC_CTR_ENUM_) SW_IOC_CTR_COUNT } sw_ioc_ctr;
#undef SW_IOC_CTR_ENUM_

extern const char *const sw_ioc_counter_names[SW_IOC_CTR_COUNT];

#endif
