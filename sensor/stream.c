#include "sensor/stream.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_DATA 2032 /* 2 KiB chunks: one MTU-sized segment per chunk */

typedef struct chunk {
    uint32_t seq;
    uint16_t len;
    uint32_t next; /* idx+1 in list / free list */
    uint8_t data[CHUNK_DATA];
} chunk;

static const char *const stream_ctr_names[] = {
#define X(id, name) name,
    SW_STREAM_COUNTERS(X)
#undef X
};

struct sw_stream_pool {
    sw_stream_config cfg;
    chunk *chunks;
    uint32_t nchunks;
    uint32_t free_head;
    uint32_t next_unused;
    uint32_t used;
    uint64_t ctr[SW_STREAM_CTR_COUNT];
};

/* Sequence-space comparisons (RFC 1982 style). */
static inline bool seq_lt(uint32_t a, uint32_t b) { return (int32_t)(a - b) < 0; }
static inline bool seq_leq(uint32_t a, uint32_t b) { return (int32_t)(a - b) <= 0; }

void sw_stream_config_defaults(sw_stream_config *c)
{
    c->memcap = 64ULL << 20;
    c->depth = 1ULL << 20;
    c->max_segments = 256;
}

int sw_stream_config_load(const sw_cfg_node *root, sw_stream_config *c, char *err,
                          size_t errlen)
{
    if (sw_cfg_get_size(root, "stream.reassembly.memcap", &c->memcap, err, errlen) ||
        sw_cfg_get_size(root, "stream.reassembly.depth", &c->depth, err, errlen) ||
        sw_cfg_get_u32_in(root, "stream.reassembly.max-segments", &c->max_segments, 1, 1000000,
                          err, errlen))
        return -1;
    return 0;
}

sw_stream_pool *sw_stream_pool_new(const sw_stream_config *c)
{
    sw_stream_pool *p = calloc(1, sizeof(*p));
    if (!p)
        return NULL;
    p->cfg = *c;
    uint64_t n = c->memcap / sizeof(chunk);
    if (n < 16)
        n = 16;
    if (n > 0x7fffffff)
        n = 0x7fffffff;
    p->nchunks = (uint32_t)n;
    /* calloc'ed: pages become resident only when out-of-order data needs them */
    p->chunks = calloc(n, sizeof(chunk));
    if (!p->chunks) {
        free(p);
        return NULL;
    }
    return p;
}

void sw_stream_pool_free(sw_stream_pool *p)
{
    if (!p)
        return;
    free(p->chunks);
    free(p);
}

sw_ctr_group sw_stream_counters(const sw_stream_pool *p)
{
    sw_ctr_group g = {stream_ctr_names, p->ctr, SW_STREAM_CTR_COUNT};
    return g;
}

static chunk *chunk_get(sw_stream_pool *p)
{
    uint32_t idx;
    if (p->free_head) {
        idx = p->free_head - 1;
        p->free_head = p->chunks[idx].next;
    } else if (p->next_unused < p->nchunks) {
        idx = p->next_unused++;
    } else {
        return NULL;
    }
    p->used++;
    SW_CTR_SET(p->ctr, SW_CTR_STREAM_MEMUSE, (uint64_t)p->used * sizeof(chunk));
    chunk *c = &p->chunks[idx];
    c->next = 0;
    return c;
}

static void chunk_put(sw_stream_pool *p, uint32_t idx1)
{
    p->chunks[idx1 - 1].next = p->free_head;
    p->free_head = idx1;
    p->used--;
    SW_CTR_SET(p->ctr, SW_CTR_STREAM_MEMUSE, (uint64_t)p->used * sizeof(chunk));
}

void sw_stream_syn(sw_stream *s, uint32_t isn)
{
    /* A later SYN (or the SYN/ACK's acknowledgement) wins while no data has
     * flowed: under a SYN flood on the same ports only the handshake that
     * was answered carries the connection. */
    if (!s->started || (s->delivered == 0 && !s->seg_head && !s->depth_hit)) {
        s->next_seq = isn + 1;
        s->started = 1;
    }
}

/* Hands on len bytes at the stream's next position, honouring depth. */
static void deliver(sw_stream_pool *p, sw_stream *s, const uint8_t *data, uint32_t len,
                    sw_stream_deliver_fn fn, void *user)
{
    s->next_seq += len;
    if (s->depth_hit)
        return;
    if (p->cfg.depth && s->delivered + len > p->cfg.depth) {
        len = (uint32_t)(p->cfg.depth - s->delivered);
        s->depth_hit = 1;
        SW_CTR_INC(p->ctr, SW_CTR_STREAM_DEPTH);
    }
    s->delivered += len;
    if (len)
        fn(user, data, len);
}

static void gap(sw_stream_pool *p, sw_stream *s, uint32_t len, sw_stream_deliver_fn fn,
                void *user)
{
    SW_CTR_INC(p->ctr, SW_CTR_STREAM_GAP);
    s->next_seq += len;
    if (!s->depth_hit)
        fn(user, NULL, len);
}

/* Delivers stored segments that are now in order. */
static void drain(sw_stream_pool *p, sw_stream *s, sw_stream_deliver_fn fn, void *user)
{
    while (s->seg_head) {
        chunk *c = &p->chunks[s->seg_head - 1];
        if (seq_lt(s->next_seq, c->seq))
            return;
        uint32_t end = c->seq + c->len;
        if (seq_lt(s->next_seq, end)) {
            uint32_t skip = s->next_seq - c->seq;
            deliver(p, s, c->data + skip, c->len - skip, fn, user);
        }
        uint32_t idx = s->seg_head;
        s->seg_head = c->next;
        s->nsegs--;
        chunk_put(p, idx);
    }
}

/* Skips the hole before the first stored segment. */
static void skip_to_first(sw_stream_pool *p, sw_stream *s, sw_stream_deliver_fn fn,
                          void *user)
{
    if (!s->seg_head)
        return;
    chunk *c = &p->chunks[s->seg_head - 1];
    if (seq_lt(s->next_seq, c->seq))
        gap(p, s, c->seq - s->next_seq, fn, user);
    drain(p, s, fn, user);
}

/* Stores [seq, seq+len) minus what is already stored (first copy wins). */
static void store(sw_stream_pool *p, sw_stream *s, uint32_t seq, const uint8_t *data,
                  uint32_t len, sw_stream_deliver_fn fn, void *user)
{
    while (len) {
        uint32_t *link = &s->seg_head;
        chunk *prev_overlap = NULL;
        /* find the first stored chunk that ends after seq */
        while (*link) {
            chunk *c = &p->chunks[*link - 1];
            if (seq_lt(seq, c->seq + c->len))
                break;
            link = &c->next;
        }
        if (*link) {
            chunk *c = &p->chunks[*link - 1];
            if (seq_leq(c->seq, seq)) {
                /* our start is inside c: those bytes are already stored */
                uint32_t have = c->seq + c->len - seq;
                if (have > len)
                    have = len;
                SW_CTR_INC(p->ctr, SW_CTR_STREAM_OVERLAP);
                if (memcmp(c->data + (seq - c->seq), data, have) != 0)
                    SW_CTR_INC(p->ctr, SW_CTR_STREAM_OVERLAP_DIFF);
                seq += have;
                data += have;
                len -= have;
                continue;
            }
            prev_overlap = c;
        }
        uint32_t take = len > CHUNK_DATA ? CHUNK_DATA : len;
        if (prev_overlap && seq_lt(prev_overlap->seq, seq + take))
            take = prev_overlap->seq - seq;
        if (s->nsegs >= p->cfg.max_segments) {
            SW_CTR_INC(p->ctr, SW_CTR_STREAM_MAXSEG);
            skip_to_first(p, s, fn, user);
            if (seq_leq(seq, s->next_seq)) {
                /* the skip reached us: the rest can go on in order */
                uint32_t skip = s->next_seq - seq;
                if (skip < len)
                    sw_stream_segment(p, s, s->next_seq, data + skip, len - skip, fn, user);
                return;
            }
            continue;
        }
        chunk *n = chunk_get(p);
        if (!n) {
            SW_CTR_INC(p->ctr, SW_CTR_STREAM_MEMCAP);
            /* No memory: give up waiting for the hole in this stream. */
            skip_to_first(p, s, fn, user);
            if (seq_leq(seq, s->next_seq)) {
                uint32_t skip = s->next_seq - seq;
                if (skip < len)
                    sw_stream_segment(p, s, s->next_seq, data + skip, len - skip, fn, user);
                return;
            }
            if (!s->seg_head) {
                gap(p, s, seq - s->next_seq, fn, user);
                deliver(p, s, data, len, fn, user);
                return;
            }
            continue;
        }
        SW_CTR_INC(p->ctr, SW_CTR_STREAM_SEGMENTS_OOO);
        n->seq = seq;
        n->len = (uint16_t)take;
        memcpy(n->data, data, take);
        n->next = *link;
        *link = (uint32_t)(n - p->chunks) + 1;
        s->nsegs++;
        seq += take;
        data += take;
        len -= take;
    }
}

static void segment(sw_stream_pool *p, sw_stream *s, uint32_t seq, const uint8_t *data,
                    uint32_t len, sw_stream_deliver_fn fn, void *user);

void sw_stream_segment(sw_stream_pool *p, sw_stream *s, uint32_t seq, const uint8_t *data,
                       uint32_t len, sw_stream_deliver_fn fn, void *user)
{
    segment(p, s, seq, data, len, fn, user);
    /* buffered data past the depth would never be inspected: free it */
    if (s->depth_hit && s->seg_head)
        sw_stream_release(p, s);
}

static void segment(sw_stream_pool *p, sw_stream *s, uint32_t seq, const uint8_t *data,
                    uint32_t len, sw_stream_deliver_fn fn, void *user)
{
    if (!len)
        return;
    if (s->depth_hit) {
        /* nothing past the depth is inspected: do not hold it either */
        s->next_seq = seq + len;
        return;
    }
    if (!s->started) {
        /* midstream pickup: the first data seen defines the start */
        s->next_seq = seq;
        s->started = 1;
    }
    uint32_t end = seq + len;
    if (seq_leq(end, s->next_seq)) {
        /* pure retransmission of delivered data: first copy won */
        SW_CTR_INC(p->ctr, SW_CTR_STREAM_OVERLAP);
        return;
    }
    if (seq_lt(seq, s->next_seq)) {
        uint32_t skip = s->next_seq - seq;
        SW_CTR_INC(p->ctr, SW_CTR_STREAM_OVERLAP);
        seq += skip;
        data += skip;
        len -= skip;
    }
    if (seq == s->next_seq) {
        deliver(p, s, data, len, fn, user);
        drain(p, s, fn, user);
        return;
    }
    store(p, s, seq, data, len, fn, user);
}

void sw_stream_ack(sw_stream_pool *p, sw_stream *s, uint32_t ack, sw_stream_deliver_fn fn,
                   void *user)
{
    if (!s->started || !s->seg_head)
        return;
    chunk *c = &p->chunks[s->seg_head - 1];
    /* The receiver has the bytes up to the first stored segment: the
     * capture lost them. */
    if (seq_lt(c->seq, ack) || ack == c->seq)
        skip_to_first(p, s, fn, user);
}

void sw_stream_flush(sw_stream_pool *p, sw_stream *s, sw_stream_deliver_fn fn, void *user)
{
    while (s->seg_head)
        skip_to_first(p, s, fn, user);
}

void sw_stream_release(sw_stream_pool *p, sw_stream *s)
{
    while (s->seg_head) {
        uint32_t idx = s->seg_head;
        s->seg_head = p->chunks[idx - 1].next;
        chunk_put(p, idx);
    }
    s->nsegs = 0;
}
