/* TCP stream reassembly, one direction at a time.
 *
 * In-order data is handed on straight from the packet (no copy). Only
 * out-of-order segments are copied, into fixed-size chunks of a per-worker
 * pool bounded by stream.reassembly.memcap, so a segment storm costs no
 * malloc. Overlaps are resolved one way: the first copy of a byte wins
 * (what was delivered stays delivered; later different data is counted as
 * overlap_diff_data, the evasion signal). Lost data becomes an explicit gap
 * handed to the consumer, never silently skipped. */
#ifndef SW_STREAM_H
#define SW_STREAM_H

#include <stdbool.h>
#include <stdint.h>

#include "sensor/cfg.h"
#include "sensor/counters.h"

typedef struct sw_stream_config {
    uint64_t memcap;        /* bytes for out-of-order data, per worker */
    uint64_t depth;         /* bytes per direction handed to app layer; 0 = all */
    uint32_t max_segments;  /* out-of-order segments per direction */
} sw_stream_config;

#define SW_STREAM_COUNTERS(X)                                       \
    X(STREAM_SEGMENTS_OOO, "spanwatch.stream.segments_out_of_order") \
    X(STREAM_OVERLAP, "tcp.overlap")                                \
    X(STREAM_OVERLAP_DIFF, "tcp.overlap_diff_data")                 \
    X(STREAM_GAP, "tcp.reassembly_gap")                             \
    X(STREAM_DEPTH, "tcp.stream_depth_reached")                     \
    X(STREAM_MEMCAP, "tcp.segment_memcap_drop")                     \
    X(STREAM_MAXSEG, "spanwatch.stream.max_segments_reached")       \
    X(STREAM_MEMUSE, "tcp.reassembly_memuse")

enum {
#define X(id, name) SW_CTR_##id,
    SW_STREAM_COUNTERS(X)
#undef X
    SW_STREAM_CTR_COUNT
};

typedef struct sw_stream_pool sw_stream_pool;

/* One direction of a connection. Zero-initialised = nothing seen. */
typedef struct sw_stream {
    uint32_t next_seq;   /* next byte expected in order */
    uint32_t seg_head;   /* out-of-order list, sorted by seq (chunk idx+1) */
    uint32_t nsegs;
    uint64_t delivered;  /* bytes handed on (depth accounting) */
    uint8_t started : 1, depth_hit : 1, fin : 1, gap_pending : 1;
} sw_stream;

/* data == NULL with len > 0 means a gap of len bytes. */
typedef void (*sw_stream_deliver_fn)(void *user, const uint8_t *data, uint32_t len);

void sw_stream_config_defaults(sw_stream_config *c);
int sw_stream_config_load(const sw_cfg_node *root, sw_stream_config *c, char *err,
                          size_t errlen);

sw_stream_pool *sw_stream_pool_new(const sw_stream_config *c);
void sw_stream_pool_free(sw_stream_pool *p);
sw_ctr_group sw_stream_counters(const sw_stream_pool *p);

/* The SYN's sequence number (data starts at isn + 1). */
void sw_stream_syn(sw_stream *s, uint32_t isn);
/* A segment with payload, delivered in order through fn (gaps too). */
void sw_stream_segment(sw_stream_pool *p, sw_stream *s, uint32_t seq, const uint8_t *data,
                       uint32_t len, sw_stream_deliver_fn fn, void *user);
/* The other side acknowledged up to ack: if we hold out-of-order data below
 * it, what is missing before it will never come. */
void sw_stream_ack(sw_stream_pool *p, sw_stream *s, uint32_t ack, sw_stream_deliver_fn fn,
                   void *user);
/* Flow end: hand on whatever is buffered, with gaps, and free it. */
void sw_stream_flush(sw_stream_pool *p, sw_stream *s, sw_stream_deliver_fn fn, void *user);
/* Frees buffered segments without delivering them. */
void sw_stream_release(sw_stream_pool *p, sw_stream *s);

#endif
