/* Streaming HTTP/1.0-1.1 parser over a reassembled TCP stream.
 *
 * One sw_http_state per flow. The worker feeds each direction's in-order
 * bytes in whatever chunks reassembly produces (one byte at a time works);
 * the parser calls back at transaction milestones. Every buffer the parser
 * needs is allocated by sw_http_new, so feeding allocates nothing, except
 * zlib's inflate state, created once per flow on the first compressed body.
 *
 * Pointers inside the sw_http_tx handed to a callback stay valid until the
 * callback returns; request fields (and the raw request header block) stay
 * valid until on_tx_complete for that transaction has returned.
 * req_body is valid until the next request on the flow begins; resp_body and
 * response fields until the next response begins. */
#ifndef SW_HTTP_H
#define SW_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/counters.h"

typedef struct sw_cfg_node sw_cfg_node;

typedef struct sw_http_config {
    uint32_t max_header_bytes;   /* request line + headers, per message */
    uint32_t max_headers;        /* header lines kept per message */
    uint32_t request_body_limit; /* bytes of request body kept for inspection */
    uint32_t response_body_limit;/* bytes of decoded response body kept */
    uint32_t max_pipeline;       /* requests awaiting a response */
    uint64_t max_chunk_size;     /* larger chunk sizes are a framing error */
    bool decompress;             /* gzip/deflate Content-Encoding */
    uint32_t decompress_ratio_limit; /* output/input above this = bomb ... */
    uint64_t decompress_bomb_min;    /* ... once output exceeds this */
    uint64_t decompress_max_output;  /* hard cap on decoded bytes per body */
    unsigned dump_all_headers;       /* SW_HTTP_DUMP_* bits: headers the http
                                        event lists (Suricata dump-all-headers) */
} sw_http_config;

#define SW_HTTP_DUMP_REQUEST 1u
#define SW_HTTP_DUMP_RESPONSE 2u

void sw_http_config_defaults(sw_http_config *c);
/* Reads app-layer.http.* (see packaging/config.d/http.yaml). */
int sw_http_config_load(const sw_cfg_node *root, sw_http_config *c, char *err,
                        size_t errlen);

/* A byte string inside parser storage; p == NULL when absent. */
typedef struct sw_http_bytes {
    const uint8_t *p;
    size_t len;
} sw_http_bytes;

typedef struct sw_http_tx {
    uint64_t tx_id; /* 0-based per flow (restarts after a CONNECT tunnel) */
    bool has_request;  /* false: response seen without its request */
    bool has_response;
    bool req_complete;
    bool resp_complete;  /* response framing ended normally */
    bool resp_truncated; /* flow ended or framing lost mid-body */
    bool resp_gap;       /* bytes of the body were lost (TCP gap) */
    bool resp_bomb;      /* decompression stopped at a limit */
    bool chunked;
    uint64_t ts_request_us, ts_response_us;

    /* request */
    sw_http_bytes request_line;
    sw_http_bytes method;
    sw_http_bytes uri_raw;  /* as sent (EVE "url") */
    sw_http_bytes uri;      /* normalised: path decoded, dot segments removed */
    sw_http_bytes protocol; /* "HTTP/1.1"; absent for HTTP/0.9 */
    sw_http_bytes host;     /* lower-cased, port stripped */
    int port;               /* explicit port from Host/URI, -1 if none */
    sw_http_bytes user_agent;
    sw_http_bytes referer;
    sw_http_bytes cookie;
    sw_http_bytes req_content_type;
    sw_http_bytes xff;
    sw_http_bytes req_headers; /* raw header lines after the request line */
    sw_http_bytes req_body;    /* dechunked, bounded */
    uint64_t req_body_len;     /* all request body bytes seen */

    /* response */
    int status; /* -1 when the status code is not a number */
    sw_http_bytes status_str;
    sw_http_bytes resp_protocol;
    sw_http_bytes resp_headers; /* raw header lines after the status line */
    sw_http_bytes content_type;
    sw_http_bytes content_encoding;
    sw_http_bytes location;
    sw_http_bytes filename; /* Content-Disposition filename, else absent */
    sw_http_bytes resp_body; /* decoded, bounded */
    uint64_t resp_length;    /* body bytes as sent (dechunked, encoded) */
    uint64_t resp_decoded_len;
    unsigned events; /* SW_HTTP_EV_* bits: parser anomalies of this tx */
} sw_http_tx;

/* Parser anomalies, named as Suricata's http app-layer events (the
 * anomaly.event of its EVE and, lower-cased, app-layer-event:http.<name>). */
#define SW_HTTP_EV_REQUEST_LINE_MISSING_PROTOCOL 1u
#define SW_HTTP_EV_COUNT 1
/* Name of one SW_HTTP_EV_* bit ("REQUEST_LINE_MISSING_PROTOCOL"), NULL if
 * unknown. */
const char *sw_http_event_name(unsigned bit);

typedef struct sw_http_callbacks {
    /* Request headers and body are complete: request-side inspection. */
    void (*on_request_complete)(void *user, const sw_http_tx *tx);
    /* Final (non-1xx) response headers parsed; a body, if any, follows. */
    void (*on_response_headers)(void *user, const sw_http_tx *tx);
    /* Decoded body bytes in order. data == NULL means len bytes were lost
     * (a gap): the file is not complete. */
    void (*on_response_body)(void *user, const sw_http_tx *tx,
                             const uint8_t *data, size_t len);
    /* Response finished (or the flow ended): log the http event here. */
    void (*on_tx_complete)(void *user, const sw_http_tx *tx);
} sw_http_callbacks;

#define SW_HTTP_COUNTERS(X)                                                 \
    X(SW_HTTP_CTR_TX, "app_layer.tx.http")                                  \
    X(SW_HTTP_CTR_PARSER_ERR, "app_layer.error.http.parser")                \
    X(SW_HTTP_CTR_GAP_ERR, "app_layer.error.http.gap")                      \
    X(SW_HTTP_CTR_HEADER_TOO_LONG, "spanwatch.http.header_too_long")        \
    X(SW_HTTP_CTR_TOO_MANY_HEADERS, "spanwatch.http.too_many_headers")      \
    X(SW_HTTP_CTR_CHUNK_SIZE_INVALID, "spanwatch.http.chunk_size_invalid")  \
    X(SW_HTTP_CTR_CL_INVALID, "spanwatch.http.content_length_invalid")      \
    X(SW_HTTP_CTR_CL_AND_TE, "spanwatch.http.content_length_and_chunked")   \
    X(SW_HTTP_CTR_DECOMPRESS_BOMB, "spanwatch.http.decompress_bomb")        \
    X(SW_HTTP_CTR_DECOMPRESS_ERR, "spanwatch.http.decompress_error")        \
    X(SW_HTTP_CTR_GARBAGE, "spanwatch.http.garbage")                        \
    X(SW_HTTP_CTR_PIPELINE_OVERFLOW, "spanwatch.http.pipeline_overflow")    \
    X(SW_HTTP_CTR_NO_REQUEST, "spanwatch.http.response_without_request")    \
    X(SW_HTTP_CTR_GAP, "spanwatch.http.gap")                                \
    X(SW_HTTP_CTR_TUNNEL, "spanwatch.http.tunnel")                          \
    X(SW_HTTP_CTR_REQ_BODY_TRUNC, "spanwatch.http.request_body_truncated")  \
    X(SW_HTTP_CTR_RESP_BODY_TRUNC, "spanwatch.http.response_body_truncated")  \
    X(SW_HTTP_CTR_MISSING_PROTOCOL, "spanwatch.http.request_line_missing_protocol")

#define SW_HTTP_CTR_ENUM(id, name) id,
typedef enum { SW_HTTP_COUNTERS(SW_HTTP_CTR_ENUM) SW_HTTP_CTR_COUNT } sw_http_ctr_id;
#undef SW_HTTP_CTR_ENUM

/* View of one thread's counter array for the stats writer. */
sw_ctr_group sw_http_counters(const uint64_t *vals);

typedef struct sw_http_state sw_http_state;

/* ctrs: the owning thread's array of SW_HTTP_CTR_COUNT counters (NULL: not
 * counted). NULL on allocation failure. */
sw_http_state *sw_http_new(const sw_http_config *c, uint64_t *ctrs);
void sw_http_free(sw_http_state *s);

/* dir 0 = client to server, 1 = server to client. */
void sw_http_feed(sw_http_state *s, int dir, const uint8_t *data, size_t len,
                  uint64_t ts_us, const sw_http_callbacks *cb, void *user);
/* gap_len bytes of dir were lost. Inside a body of known length the parser
 * skips them (the body is reported with a gap); elsewhere that direction
 * stops being parsed. */
void sw_http_gap(sw_http_state *s, int dir, uint64_t gap_len, uint64_t ts_us,
                 const sw_http_callbacks *cb, void *user);
/* Flow end: finishes close-delimited bodies and reports every open
 * transaction (truncated where its response was incomplete). */
void sw_http_close(sw_http_state *s, uint64_t ts_us,
                   const sw_http_callbacks *cb, void *user);

/* The stream stopped being HTTP: after a CONNECT tunnel was established with
 * non-HTTP content, or after garbage. The caller may hand later bytes to
 * another detector (TLS) and stop feeding this parser. */
bool sw_http_is_tunnel(const sw_http_state *s);
bool sw_http_is_dead(const sw_http_state *s);

/* Value of the first header called name (case-insensitive) in a raw header
 * block (tx->req_headers / tx->resp_headers), whitespace-trimmed. */
sw_http_bytes sw_http_header(sw_http_bytes block, const char *name);

/* Walks a raw header block line by line: the next "Name: value" header
 * (both trimmed) and *rest advanced past it; false at the end. Folded
 * continuation lines and lines without a colon are skipped, as for
 * sw_http_header. */
bool sw_http_header_next(sw_http_bytes *rest, sw_http_bytes *name, sw_http_bytes *value);

/* Bytes the parser may allocate per flow at most for config c. */
size_t sw_http_state_size(const sw_http_config *c);
/* Bytes this state holds now (buffers are allocated on first use). */
size_t sw_http_mem(const sw_http_state *s);

#endif
