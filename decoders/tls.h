/* TLS/SSL handshake decoder over reassembled TCP streams.
 *
 * One sw_tls_state per flow. The caller feeds the in-order bytes of each
 * direction in any chunking (one byte at a time works); the parser
 * reassembles records and handshake messages itself, describes what it saw
 * (ClientHello/ServerHello fields, the server's leaf certificate, JA3, JA3S,
 * JA4, heartbeat anomalies) and leaves the decisions to detectors.
 *
 * Memory: the state is one fixed allocation made by sw_tls_new(). A
 * handshake message that we parse (ClientHello, ServerHello, Certificate) is
 * collected in a per-direction buffer that grows on demand up to
 * max_handshake bytes and is kept for the life of the flow; records are
 * never buffered (their payload is routed byte-wise), so a record larger
 * than allowed costs nothing but an anomaly.
 *
 * After ChangeCipherSpec (or a TLS 1.3 ServerHello) a direction is
 * encrypted: records are still framed and counted, only heartbeats are
 * looked at (by size), nothing else is parsed. */
#ifndef SW_TLS_H
#define SW_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/cfg.h"
#include "sensor/counters.h"

/* Largest TLSCiphertext: 2^14 + 2048 (RFC 5246 6.2.3). */
#define SW_TLS_MAX_RECORD_DEFAULT (16384u + 2048u)
#define SW_TLS_MAX_HANDSHAKE_DEFAULT (256u * 1024u)

typedef struct sw_tls_config {
    uint32_t max_record;    /* app-layer.protocols.tls.max-record-size */
    uint32_t max_handshake; /* app-layer.protocols.tls.max-handshake-size */
    bool ja3;               /* app-layer.protocols.tls.ja3-fingerprints */
    bool ja4;               /* app-layer.protocols.tls.ja4-fingerprints */
} sw_tls_config;

void sw_tls_config_defaults(sw_tls_config *c);
/* Reads app-layer.protocols.tls.* (see packaging/config.d/tls.yaml). */
int sw_tls_config_load(const sw_cfg_node *root, sw_tls_config *c, char *err,
                       size_t errlen);

/* Counters: one uint64_t[SW_TLS_CTR_COUNT] per worker thread, handed to
 * sw_tls_new(); the parser increments them as it goes. */
#define SW_TLS_COUNTERS(X)                                                  \
    X(SW_TLS_CTR_RECORDS, "spanwatch.tls.records")                          \
    X(SW_TLS_CTR_RECORD_TOO_LARGE, "spanwatch.tls.record_too_large")        \
    X(SW_TLS_CTR_INVALID_RECORD, "spanwatch.tls.invalid_record")            \
    X(SW_TLS_CTR_HANDSHAKE_TOO_LARGE, "spanwatch.tls.handshake_too_large")  \
    X(SW_TLS_CTR_MALFORMED_HANDSHAKE, "spanwatch.tls.malformed_handshake")  \
    X(SW_TLS_CTR_CERT_PARSE_ERROR, "spanwatch.tls.cert_parse_error")        \
    X(SW_TLS_CTR_CERTS_NOT_KEPT, "spanwatch.tls.certs_not_kept")            \
    X(SW_TLS_CTR_LIST_TRUNCATED, "spanwatch.tls.list_truncated")            \
    X(SW_TLS_CTR_SSLV2, "spanwatch.tls.sslv2")                              \
    X(SW_TLS_CTR_HEARTBEAT, "spanwatch.tls.heartbeat")                      \
    X(SW_TLS_CTR_HEARTBEAT_OVERFLOW, "spanwatch.tls.heartbeat_overflow")    \
    X(SW_TLS_CTR_HEARTBEAT_INVALID, "spanwatch.tls.heartbeat_invalid")      \
    X(SW_TLS_CTR_HEARTBEAT_ENCRYPTED, "spanwatch.tls.heartbeat_encrypted")  \
    X(SW_TLS_CTR_HEARTBEAT_MISMATCH, "spanwatch.tls.heartbeat_mismatch")    \
    X(SW_TLS_CTR_ALLOC_FAIL, "spanwatch.tls.alloc_fail")

#define SW_TLS_CTR_ENUM_(id, path) id,
enum { SW_TLS_COUNTERS(SW_TLS_CTR_ENUM_) SW_TLS_CTR_COUNT };
#undef SW_TLS_CTR_ENUM_

extern const char *const sw_tls_counter_names[SW_TLS_CTR_COUNT];
static inline sw_ctr_group sw_tls_ctr_group(const uint64_t *ctr)
{
    sw_ctr_group g = {sw_tls_counter_names, ctr, SW_TLS_CTR_COUNT};
    return g;
}

/* App-layer events, as bits; sw_tls_event_name() gives Suricata's name
 * (e.g. "tls.overflow_heartbeat_message") for app-layer-event rules. */
#define SW_TLS_EVENTS(X)                                                    \
    X(SW_TLS_EV_INVALID_SSLV2_HEADER, "tls.invalid_sslv2_header")           \
    X(SW_TLS_EV_INVALID_TLS_HEADER, "tls.invalid_tls_header")               \
    X(SW_TLS_EV_INVALID_RECORD_VERSION, "tls.invalid_record_version")       \
    X(SW_TLS_EV_INVALID_RECORD_TYPE, "tls.invalid_record_type")             \
    X(SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE, "tls.invalid_handshake_message") \
    X(SW_TLS_EV_INVALID_CERTIFICATE, "tls.invalid_certificate")             \
    X(SW_TLS_EV_CERTIFICATE_INVALID_LENGTH, "tls.certificate_invalid_length") \
    X(SW_TLS_EV_ERROR_MESSAGE_ENCOUNTERED, "tls.error_message_encountered") \
    X(SW_TLS_EV_INVALID_SSL_RECORD, "tls.invalid_ssl_record")               \
    X(SW_TLS_EV_HEARTBEAT_MESSAGE, "tls.heartbeat_message")                 \
    X(SW_TLS_EV_OVERFLOW_HEARTBEAT, "tls.overflow_heartbeat_message")       \
    X(SW_TLS_EV_INVALID_HEARTBEAT, "tls.invalid_heartbeat_message")         \
    X(SW_TLS_EV_DATALEAK_HEARTBEAT_MISMATCH, "tls.dataleak_heartbeat_mismatch") \
    X(SW_TLS_EV_MULTIPLE_SNI, "tls.multiple_sni_extensions")                \
    X(SW_TLS_EV_INVALID_SNI_TYPE, "tls.invalid_sni_type")                   \
    X(SW_TLS_EV_INVALID_SNI_LENGTH, "tls.invalid_sni_length")               \
    X(SW_TLS_EV_HANDSHAKE_INVALID_LENGTH, "tls.handshake_invalid_length")

#define SW_TLS_EV_ENUM_(id, name) id,
enum { SW_TLS_EVENTS(SW_TLS_EV_ENUM_) SW_TLS_EV_COUNT };
#undef SW_TLS_EV_ENUM_

const char *sw_tls_event_name(int ev);

/* Progress bits (sw_tls_progress). */
#define SW_TLS_CLIENT_HELLO   0x01u /* a ClientHello was parsed */
#define SW_TLS_SERVER_HELLO   0x02u /* a ServerHello was parsed */
#define SW_TLS_CERT           0x04u /* the server's leaf cert was parsed */
#define SW_TLS_HANDSHAKE_DONE 0x08u /* nothing more to learn in clear */
#define SW_TLS_ENCRYPTED      0x10u /* at least one direction encrypted */

/* Heartbeat evidence bits (sw_tls_heartbeat_flags). */
/* Cleartext request whose payload_length + 3 + 16 (minimum padding, RFC
 * 6520) exceeds its record: the Heartbleed request (CVE-2014-0160). */
#define SW_TLS_HB_OVERFLOW          0x01u
/* Encrypted heartbeat request before any application data: the usual
 * shape of a Heartbleed probe after the handshake (Zeek's heuristic). */
#define SW_TLS_HB_ENCRYPTED         0x02u
/* Encrypted response whose length differs from the request's (Suricata's
 * dataleak_heartbeat_mismatch): the server returned more than it got. */
#define SW_TLS_HB_ENCRYPTED_MISMATCH 0x04u
/* Cleartext heartbeat of unknown type or too short. */
#define SW_TLS_HB_INVALID           0x08u

#define SW_TLS_SNI_MAX 256
#define SW_TLS_ALPN_MAX 8        /* protocols kept per side */
#define SW_TLS_ALPN_LEN_MAX 64   /* bytes kept per protocol */
#define SW_TLS_MAX_CIPHERS 512
#define SW_TLS_MAX_LIST 96       /* extensions, groups, sigalgs */
#define SW_TLS_MAX_POINT_FORMATS 16
#define SW_TLS_DN_MAX 1024
#define SW_TLS_MAX_CERTS 8 /* certificates of a chain kept for tls.certs */
#define SW_TLS_JA3_STR_MAX 4608
#define SW_TLS_JA4_LEN 36

typedef struct sw_tls_state sw_tls_state;

/* cfg may be NULL (defaults); it is copied. ctr may be NULL (no counting)
 * or a uint64_t[SW_TLS_CTR_COUNT] that must outlive the state. NULL on
 * allocation failure. */
sw_tls_state *sw_tls_new(const sw_tls_config *cfg, uint64_t *ctr);
/* The server's certificates in chain order (DER), at most max and
 * SW_TLS_MAX_CERTS; pointers stay valid until sw_tls_drop_certs or free. */
unsigned sw_tls_certs(const sw_tls_state *s, const uint8_t **der, uint32_t *len, unsigned max);
/* Frees the kept chain once detection has seen it. */
void sw_tls_drop_certs(sw_tls_state *s);
void sw_tls_free(sw_tls_state *s);

/* dir 0: client to server, 1: server to client. Returns 0, or -1 once the
 * direction stopped being parseable (not TLS, or a framing error); later
 * bytes of that direction are then ignored. Never reads beyond len. */
int sw_tls_feed(sw_tls_state *s, int dir, const uint8_t *data, size_t len);
/* A gap (lost bytes) in dir: framing is lost, the direction stops. */
void sw_tls_gap(sw_tls_state *s, int dir);

uint32_t sw_tls_progress(const sw_tls_state *s);
uint32_t sw_tls_heartbeat_flags(const sw_tls_state *s);
/* Bit i set = event i (SW_TLS_EV_*) happened at least once. */
uint32_t sw_tls_events(const sw_tls_state *s);
uint64_t sw_tls_record_count(const sw_tls_state *s, int dir);

/* Accessors: NULL (or 0) when not seen. Strings are NUL-terminated;
 * sni/subject/issuer may contain any bytes except NUL (callers escaping
 * for JSON use swj_str). */
const char *sw_tls_sni(const sw_tls_state *s);
const char *sw_tls_cert_subject(const sw_tls_state *s);
const char *sw_tls_cert_issuer(const sw_tls_state *s);
const char *sw_tls_cert_serial(const sw_tls_state *s);      /* "00:97:E6:.." */
const char *sw_tls_cert_fingerprint(const sw_tls_state *s); /* sha1 "ab:cd:.." */
const char *sw_tls_cert_notbefore(const sw_tls_state *s);   /* "2013-03-01T00:00:00" */
const char *sw_tls_cert_notafter(const sw_tls_state *s);
int64_t sw_tls_cert_notbefore_epoch(const sw_tls_state *s);
int64_t sw_tls_cert_notafter_epoch(const sw_tls_state *s);
unsigned sw_tls_cert_chain_len(const sw_tls_state *s);
const char *sw_tls_ja3_string(const sw_tls_state *s);
const char *sw_tls_ja3_hash(const sw_tls_state *s);
const char *sw_tls_ja3s_string(const sw_tls_state *s);
const char *sw_tls_ja3s_hash(const sw_tls_state *s);
const char *sw_tls_ja4(const sw_tls_state *s);
/* Negotiated version as Suricata prints it ("TLS 1.2", "TLSv1", "SSLv2",
 * "TLS 1.3 draft-28", "UNDETERMINED", "0x%04x"): the server's, else the
 * ClientHello's legacy version when no ServerHello came; buf >= 24 bytes. */
const char *sw_tls_version_str(const sw_tls_state *s, char *buf, size_t cap);
/* Server's version (ServerHello supported_versions, else legacy version,
 * else record version); 0 when the server said nothing. */
uint16_t sw_tls_server_version(const sw_tls_state *s);
uint16_t sw_tls_client_version(const sw_tls_state *s); /* legacy_version */
bool sw_tls_session_resumed(const sw_tls_state *s);
size_t sw_tls_alpn_count(const sw_tls_state *s, int dir);
/* i-th ALPN protocol of the ClientHello (dir 0) or ServerHello (dir 1). */
const char *sw_tls_alpn(const sw_tls_state *s, int dir, size_t i);
uint16_t sw_tls_server_cipher(const sw_tls_state *s);

/* Maps a version number to Suricata's name; buf gets "0x%04x" for unknown. */
const char *sw_tls_version_name(uint16_t v, char *buf, size_t cap);

#endif
