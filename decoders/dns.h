/* DNS message decoder (RFC 1035 wire format) and DNS-over-TCP framing.
 *
 * sw_dns_parse() describes one message into a caller-owned fixed-size
 * sw_dns_msg: nothing is allocated, every decoded name and every byte string
 * a record carries is copied into the pool inside the struct, so the result
 * outlives the packet. Bounds (SW_DNS_MAX_*) cap what is stored; records past
 * a bound are still walked (to find the next section) and counted in
 * *_dropped.
 *
 * Name decoding follows Suricata 8 so that what we log and match equals what
 * Suricata would: at most 255 labels+pointers per name (the loop guard), the
 * dotted form capped at SW_DNS_MAX_NAME (1025, dnsmasq's limit) with a
 * truncated flag, pointers may point forward or backward, a pointer to itself
 * is an infinite loop. Names are kept as raw bytes (labels may hold any
 * octet); the JSON writer escapes them the way Suricata's JsonBuilder does.
 *
 * Like Suricata, a failure in the authority or additional section keeps
 * what was parsed before it and only sets a flag; a failure in the header,
 * question or answer section makes the whole message invalid. */
#ifndef SW_DNS_H
#define SW_DNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/counters.h"

#define SW_DNS_MAX_QUESTIONS 32
#define SW_DNS_MAX_RRS 64 /* per section: answers, authorities, additionals */
#define SW_DNS_MAX_NAME 1025
#define SW_DNS_MAX_LABELS 255 /* labels + pointers followed per name */
#define SW_DNS_POOL_SIZE 65536
#define SW_DNS_HEADER_LEN 12

/* Record types (IANA). */
enum {
    SW_DNS_T_A = 1, SW_DNS_T_NS = 2, SW_DNS_T_CNAME = 5, SW_DNS_T_SOA = 6,
    SW_DNS_T_NULL = 10, SW_DNS_T_PTR = 12, SW_DNS_T_MX = 15, SW_DNS_T_TXT = 16,
    SW_DNS_T_AAAA = 28, SW_DNS_T_SRV = 33, SW_DNS_T_OPT = 41,
    SW_DNS_T_SSHFP = 44, SW_DNS_T_SVCB = 64, SW_DNS_T_HTTPS = 65,
};

/* Errors returned by sw_dns_parse (negative). */
typedef enum sw_dns_err {
    SW_DNS_OK = 0,
    SW_DNS_ERR_SHORT_HEADER = -1, /* fewer than 12 bytes */
    SW_DNS_ERR_QUESTION = -2,     /* question section malformed/truncated */
    SW_DNS_ERR_ANSWER = -3,       /* answer section malformed/truncated */
    SW_DNS_ERR_ARG = -4,          /* NULL buffer or output */
} sw_dns_err;

const char *sw_dns_strerror(int err);

/* Name flags (Suricata's DNSNameFlags plus our pool bound). */
#define SW_DNS_NAME_TRUNCATED 0x01  /* longer than SW_DNS_MAX_NAME */
#define SW_DNS_NAME_LOOP 0x02       /* pointer to itself */
#define SW_DNS_NAME_LABEL_LIMIT 0x04 /* more than SW_DNS_MAX_LABELS steps */
#define SW_DNS_NAME_POOL_FULL 0x08  /* the pool had no room: stored empty */

/* A byte string in the message's pool. */
typedef struct sw_dns_ref {
    uint32_t off;
    uint32_t len;
} sw_dns_ref;

typedef struct sw_dns_name {
    sw_dns_ref s; /* dotted form, raw bytes, no trailing dot; "" for root */
    uint8_t flags;
} sw_dns_name;

typedef struct sw_dns_question {
    sw_dns_name name;
    uint16_t type;
    uint16_t rclass;
} sw_dns_question;

typedef struct sw_dns_rr {
    sw_dns_name name;
    uint16_t type;
    uint16_t rclass; /* OPT: requestor's UDP payload size */
    uint32_t ttl;    /* OPT: extended rcode and flags */
    uint16_t rdlength;
    bool rdata_ok; /* the rdata decoded for its type (u below is valid) */
    union {
        uint8_t addr[16]; /* A: 4 bytes, AAAA: 16 */
        sw_dns_name target; /* CNAME, NS, PTR */
        struct {
            uint16_t preference;
            sw_dns_name exchange;
        } mx;
        struct {
            sw_dns_name mname, rname;
            uint32_t serial, refresh, retry, expire, minimum;
        } soa;
        struct {
            uint16_t priority, weight, port;
            sw_dns_name target;
        } srv;
        struct {
            uint16_t priority;
            sw_dns_name target;
        } svcb; /* SVCB and HTTPS; SvcParams are not decoded */
        struct {
            uint8_t algo, fp_type;
            sw_dns_ref fingerprint;
        } sshfp;
        struct {
            /* The character-strings as on the wire (length-prefixed),
             * validated: iterate with sw_dns_txt_next(). */
            sw_dns_ref wire;
            uint16_t count;
        } txt;
        /* NULL, OPT and every other type: the rdata bytes. */
        sw_dns_ref raw;
    } u;
} sw_dns_rr;

typedef struct sw_dns_msg {
    uint16_t id;
    uint16_t flags; /* the raw 16-bit flags word */
    uint8_t opcode, rcode;
    bool qr, aa, tc, rd, ra, z, ad, cd;
    uint16_t qdcount, ancount, nscount, arcount; /* as in the header */

    uint16_t n_questions, n_answers, n_authorities, n_additionals;
    /* Entries past the bounds: walked but not stored. */
    uint16_t questions_dropped, answers_dropped, authorities_dropped,
        additionals_dropped;

    bool invalid_authorities; /* section malformed: kept what came before */
    bool invalid_additionals;
    bool edns;            /* an OPT record was present */
    uint16_t edns_udp_size;
    uint8_t edns_version;
    bool edns_do;
    uint8_t name_flags;   /* OR of every name's flags */
    bool pool_full;       /* some string could not be stored */
    size_t parsed_len;    /* bytes consumed (trailing bytes are ignored) */

    sw_dns_question questions[SW_DNS_MAX_QUESTIONS];
    sw_dns_rr answers[SW_DNS_MAX_RRS];
    sw_dns_rr authorities[SW_DNS_MAX_RRS];
    sw_dns_rr additionals[SW_DNS_MAX_RRS];

    uint32_t pool_len;
    uint8_t pool[SW_DNS_POOL_SIZE];
} sw_dns_msg;

/* Parses one DNS message (UDP payload, or a TCP message without its 2-byte
 * length). Returns 0 or a negative sw_dns_err; on error *out holds what was
 * decoded up to the failure and must not be logged. */
int sw_dns_parse(const uint8_t *buf, size_t len, sw_dns_msg *out);

/* Pointer to a pool string (never NULL; not NUL-terminated). */
static inline const uint8_t *sw_dns_str(const sw_dns_msg *m, sw_dns_ref r)
{
    return m->pool + r.off;
}

/* The first question's name (for dns.query and beacon tracking); NULL and
 * *len = 0 when the message has no question. */
const uint8_t *sw_dns_first_query(const sw_dns_msg *m, size_t *len);

/* Walks a TXT record's character-strings: start with *pos = 0; returns
 * false at the end. */
bool sw_dns_txt_next(const sw_dns_msg *m, const sw_dns_rr *rr, uint32_t *pos,
                     const uint8_t **s, size_t *n);

/* Record type as Suricata names it ("A", "SRV", ...), NULL for types it
 * prints as a number. sw_dns_rrtype_str always gives text (buf >= 6). */
const char *sw_dns_rrtype_name(uint16_t t);
const char *sw_dns_rrtype_str(uint16_t t, char *buf, size_t cap);
/* Suricata's rcode names; NULL for values it prints as a number. */
const char *sw_dns_rcode_name(uint8_t rcode);

/* Counters: the owner keeps one uint64_t[SW_DNS_CTR_COUNT] per thread and
 * calls sw_dns_count() after each parse. */
#define SW_DNS_COUNTERS(X)                                              \
    X(SW_DNS_CTR_MESSAGES, "spanwatch.dns.messages")                    \
    X(SW_DNS_CTR_MALFORMED, "spanwatch.dns.malformed")                  \
    X(SW_DNS_CTR_SHORT_HEADER, "spanwatch.dns.short_header")            \
    X(SW_DNS_CTR_INVALID_AUTHORITIES, "spanwatch.dns.invalid_authorities") \
    X(SW_DNS_CTR_INVALID_ADDITIONALS, "spanwatch.dns.invalid_additionals") \
    X(SW_DNS_CTR_NAME_TOO_LONG, "spanwatch.dns.name_too_long")          \
    X(SW_DNS_CTR_POINTER_LOOP, "spanwatch.dns.pointer_loop")            \
    X(SW_DNS_CTR_TOO_MANY_LABELS, "spanwatch.dns.too_many_labels")      \
    X(SW_DNS_CTR_RECORDS_DROPPED, "spanwatch.dns.records_dropped")      \
    X(SW_DNS_CTR_POOL_FULL, "spanwatch.dns.pool_full")                  \
    X(SW_DNS_CTR_TCP_EMPTY, "spanwatch.dns.tcp_empty_message")            \
    X(SW_DNS_CTR_TCP_GAP, "spanwatch.dns.tcp_gap")

#define SW_DNS_CTR_ENUM_(id, path) id,
enum { SW_DNS_COUNTERS(SW_DNS_CTR_ENUM_) SW_DNS_CTR_COUNT };
#undef SW_DNS_CTR_ENUM_

extern const char *const sw_dns_counter_names[SW_DNS_CTR_COUNT];
/* Adds one parse's outcome (rc from sw_dns_parse, m as it left it). */
void sw_dns_count(uint64_t *ctr, int rc, const sw_dns_msg *m);
static inline sw_ctr_group sw_dns_ctr_group(const uint64_t *ctr)
{
    sw_ctr_group g = {sw_dns_counter_names, ctr, SW_DNS_CTR_COUNT};
    return g;
}

/* DNS over TCP: each direction is a stream of 2-byte-length-prefixed
 * messages. The helper takes the in-order bytes in any chunking and calls
 * on_msg once per complete message; msg points into s->buf or straight into
 * data and is valid only during the call. */
#define SW_DNS_TCP_BUF (65535 + 2)

typedef void (*sw_dns_msg_cb)(void *u, const uint8_t *msg, size_t n);

typedef struct sw_dns_tcp {
    uint32_t have; /* bytes buffered (incl. the length prefix) */
    uint64_t *ctr; /* optional counters (SW_DNS_CTR_*), may be NULL */
    uint8_t buf[SW_DNS_TCP_BUF];
} sw_dns_tcp;

void sw_dns_tcp_init(sw_dns_tcp *s, uint64_t *ctr);
void sw_dns_tcp_feed(sw_dns_tcp *s, const uint8_t *data, size_t len,
                     void (*on_msg)(void *u, const uint8_t *msg, size_t n),
                     void *u);
/* Drops a partial message: call when the stream has a gap (lost bytes);
 * the next bytes fed are taken as the start of a length prefix. */
void sw_dns_tcp_reset(sw_dns_tcp *s);

#endif
