/* Fragment reassembly over preallocated pools (see defrag.h). */
#include "decoders/defrag.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NIL UINT32_MAX
#define DF_CHUNK 512                 /* data is stored in chains of these */
#define DF_MAX_FRAGS_PER_TRACKER 1024 /* 64 KB in 8-byte pieces is 8192: an attack */
#define DF_MAX_HDR 1024              /* IPv4 header / IPv6 unfragmentable part */
#define DF_MAX_DATAGRAM 65535
#define DF_MIN_CHUNKS 128

typedef struct df_frag {
    uint32_t next_sorted;  /* by offset */
    uint32_t next_arrival; /* in arrival order */
    uint32_t chunk;        /* first data chunk */
    uint32_t off;
    uint32_t len;
} df_frag;

typedef struct df_tracker {
    uint8_t src[16];
    uint8_t dst[16];
    uint32_t id;
    uint32_t tunnel_id;
    uint16_t vlan[SW_MAX_VLANS];
    uint8_t version;
    uint8_t proto;
    uint8_t seen_last;
    uint32_t hash;
    uint32_t hnext;          /* bucket chain, or free list when unused */
    uint32_t lru_prev, lru_next;
    uint32_t sorted;         /* fragment list heads */
    uint32_t arr_head, arr_tail;
    uint32_t nfrags;
    uint32_t total;          /* data bytes, known once the last fragment came */
    uint32_t hdr_chunk;      /* header of the offset-0 fragment */
    uint32_t hdr_len;
    uint32_t chunks;         /* chunks held, for memuse */
    uint64_t deadline;
} df_tracker;

struct sw_defrag {
    sw_defrag_config cfg;
    uint64_t ctr[SW_DF_CTR_COUNT];

    df_tracker *trk;
    uint32_t trk_hw, trk_free, trk_active; /* high-water: slots never used */
    uint32_t *bucket;
    uint32_t bucket_mask;
    uint32_t lru_head, lru_tail;           /* oldest first */

    df_frag *frag;
    uint32_t frag_hw, frag_free, frag_used;

    uint8_t (*chunk)[DF_CHUNK];
    uint32_t *chunk_next;
    uint32_t n_chunks, chunk_hw, chunk_free, chunk_used;

    uint32_t *order; /* scratch for reassembly */
    uint8_t *out;
};

static const char *const df_names[SW_DF_CTR_COUNT] = {
#define SW_X(id, path) [id] = path,
    SW_DEFRAG_CTR_LIST(SW_X)
#undef SW_X
};

void sw_defrag_config_defaults(sw_defrag_config *c)
{
    c->memcap = 32ull << 20;
    c->timeout_us = 60ull * 1000000;
    c->max_trackers = 65535;
    c->max_frags = 65535;
    c->policy = SW_DEFRAG_POLICY_FIRST;
}

int sw_defrag_config_load(const sw_cfg_node *root, sw_defrag_config *c, char *err,
                          size_t errlen)
{
    if (sw_cfg_get_size(root, "defrag.memcap", &c->memcap, err, errlen) != 0)
        return -1;
    if (sw_cfg_get_duration(root, "defrag.timeout", &c->timeout_us, err, errlen) != 0)
        return -1;
    if (sw_cfg_get_u32_in(root, "defrag.trackers", &c->max_trackers, 1, 1u << 24, err,
                          errlen) != 0 ||
        sw_cfg_get_u32_in(root, "defrag.max-frags", &c->max_frags, 1, 1u << 24, err, errlen) != 0)
        return -1;
    const char *pol = NULL;
    if (sw_cfg_get_str(root, "defrag.policy", &pol, err, errlen) != 0)
        return -1;
    if (pol) {
        if (strcasecmp(pol, "first") == 0)
            c->policy = SW_DEFRAG_POLICY_FIRST;
        else if (strcasecmp(pol, "last") == 0)
            c->policy = SW_DEFRAG_POLICY_LAST;
        else {
            snprintf(err, errlen, "config: defrag.policy: '%s' is not first or last", pol);
            return -1;
        }
    }
    return 0;
}

static size_t fixed_size(const sw_defrag_config *c, uint32_t nbuckets)
{
    return (size_t)c->max_trackers * sizeof(df_tracker) + (size_t)nbuckets * 4 +
           (size_t)c->max_frags * sizeof(df_frag) + DF_MAX_FRAGS_PER_TRACKER * 4 +
           DF_MAX_HDR + DF_MAX_DATAGRAM + sizeof(sw_defrag);
}

sw_defrag *sw_defrag_new(const sw_defrag_config *c)
{
    if (c->max_trackers == 0 || c->max_frags == 0)
        return NULL;
    uint32_t nb = 1024;
    while (nb < c->max_trackers && nb < (1u << 24))
        nb <<= 1;
    size_t fixed = fixed_size(c, nb);
    if (c->memcap < fixed + (uint64_t)DF_MIN_CHUNKS * (DF_CHUNK + 4))
        return NULL;
    uint64_t nchunks = (c->memcap - fixed) / (DF_CHUNK + 4);
    if (nchunks > NIL - 1)
        nchunks = NIL - 1;

    sw_defrag *d = calloc(1, sizeof(*d));
    if (!d)
        return NULL;
    d->cfg = *c;
    /* malloc, not calloc: pools are initialised lazily through the
     * high-water marks, so untouched pages stay unbacked. */
    d->trk = malloc((size_t)c->max_trackers * sizeof(df_tracker));
    d->bucket = malloc((size_t)nb * 4);
    d->frag = malloc((size_t)c->max_frags * sizeof(df_frag));
    d->chunk = malloc((size_t)nchunks * DF_CHUNK);
    d->chunk_next = malloc((size_t)nchunks * 4);
    d->order = malloc(DF_MAX_FRAGS_PER_TRACKER * 4);
    d->out = malloc(DF_MAX_HDR + DF_MAX_DATAGRAM);
    if (!d->trk || !d->bucket || !d->frag || !d->chunk || !d->chunk_next || !d->order ||
        !d->out) {
        sw_defrag_free(d);
        return NULL;
    }
    memset(d->bucket, 0xff, (size_t)nb * 4);
    d->bucket_mask = nb - 1;
    d->n_chunks = (uint32_t)nchunks;
    d->trk_free = d->frag_free = d->chunk_free = NIL;
    d->lru_head = d->lru_tail = NIL;
    return d;
}

void sw_defrag_free(sw_defrag *d)
{
    if (!d)
        return;
    free(d->trk);
    free(d->bucket);
    free(d->frag);
    free(d->chunk);
    free(d->chunk_next);
    free(d->order);
    free(d->out);
    free(d);
}

sw_ctr_group sw_defrag_counters(const sw_defrag *d)
{
    sw_ctr_group g = {df_names, d->ctr, SW_DF_CTR_COUNT};
    return g;
}

static void update_memuse(sw_defrag *d)
{
    uint64_t m = (uint64_t)d->chunk_used * DF_CHUNK +
                 (uint64_t)d->trk_active * sizeof(df_tracker) +
                 (uint64_t)d->frag_used * sizeof(df_frag);
    SW_CTR_SET(d->ctr, SW_DF_MEMUSE, m);
}

/* ---- chunk chains ---- */

static void chunks_release(sw_defrag *d, uint32_t c)
{
    while (c != NIL) {
        uint32_t n = d->chunk_next[c];
        d->chunk_next[c] = d->chunk_free;
        d->chunk_free = c;
        d->chunk_used--;
        c = n;
    }
}

/* Copies len bytes into a new chain; NIL when the pool is short. */
static uint32_t chunks_store(sw_defrag *d, const uint8_t *b, uint32_t len, uint32_t *n_out)
{
    uint32_t need = (len + DF_CHUNK - 1) / DF_CHUNK;
    if (need == 0)
        need = 1;
    if (need > d->n_chunks - d->chunk_used)
        return NIL;
    uint32_t head = NIL, *link = &head;
    for (uint32_t i = 0; i < need; i++) {
        uint32_t c;
        if (d->chunk_free != NIL) {
            c = d->chunk_free;
            d->chunk_free = d->chunk_next[c];
        } else {
            c = d->chunk_hw++;
        }
        d->chunk_used++;
        uint32_t n = len > DF_CHUNK ? DF_CHUNK : len;
        memcpy(d->chunk[c], b, n);
        b += n;
        len -= n;
        d->chunk_next[c] = NIL;
        *link = c;
        link = &d->chunk_next[c];
    }
    *n_out = need;
    return head;
}

static void chunks_copy(const sw_defrag *d, uint32_t c, uint8_t *dst, uint32_t len)
{
    while (len > 0 && c != NIL) {
        uint32_t n = len > DF_CHUNK ? DF_CHUNK : len;
        memcpy(dst, d->chunk[c], n);
        dst += n;
        len -= n;
        c = d->chunk_next[c];
    }
}

/* ---- trackers ---- */

static uint32_t key_hash(const sw_packet *p)
{
    const sw_ip_view *ip = &p->ip;
    uint32_t h = 2166136261u;
    int n = ip->version == 4 ? 4 : 16;
    for (int i = 0; i < n; i++)
        h = (h ^ ip->src[i]) * 16777619u;
    for (int i = 0; i < n; i++)
        h = (h ^ ip->dst[i]) * 16777619u;
    uint32_t extra[4] = {ip->frag_id, p->l2.tunnel_id,
                         (uint32_t)p->l2.vlan_id[0] << 16 | p->l2.vlan_id[1],
                         (uint32_t)p->l2.vlan_id[2] << 16 | (uint32_t)ip->version << 8 |
                             (ip->version == 4 ? ip->proto : ip->frag_next_hdr)};
    for (int i = 0; i < 4; i++) {
        h ^= extra[i];
        h *= 0x85ebca6bu;
        h ^= h >> 15;
    }
    return h;
}

static bool key_eq(const df_tracker *t, const sw_packet *p)
{
    const sw_ip_view *ip = &p->ip;
    uint8_t proto = ip->version == 4 ? ip->proto : ip->frag_next_hdr;
    return t->version == ip->version && t->id == ip->frag_id && t->proto == proto &&
           t->tunnel_id == p->l2.tunnel_id &&
           memcmp(t->vlan, p->l2.vlan_id, sizeof(t->vlan)) == 0 &&
           memcmp(t->src, ip->src, 16) == 0 && memcmp(t->dst, ip->dst, 16) == 0;
}

static void lru_unlink(sw_defrag *d, uint32_t i)
{
    df_tracker *t = &d->trk[i];
    if (t->lru_prev != NIL)
        d->trk[t->lru_prev].lru_next = t->lru_next;
    else
        d->lru_head = t->lru_next;
    if (t->lru_next != NIL)
        d->trk[t->lru_next].lru_prev = t->lru_prev;
    else
        d->lru_tail = t->lru_prev;
}

static void lru_append(sw_defrag *d, uint32_t i)
{
    df_tracker *t = &d->trk[i];
    t->lru_next = NIL;
    t->lru_prev = d->lru_tail;
    if (d->lru_tail != NIL)
        d->trk[d->lru_tail].lru_next = i;
    else
        d->lru_head = i;
    d->lru_tail = i;
}

static void tracker_release(sw_defrag *d, uint32_t i)
{
    df_tracker *t = &d->trk[i];
    uint32_t *pp = &d->bucket[t->hash & d->bucket_mask];
    while (*pp != i)
        pp = &d->trk[*pp].hnext;
    *pp = t->hnext;
    lru_unlink(d, i);
    for (uint32_t f = t->arr_head; f != NIL;) {
        uint32_t n = d->frag[f].next_arrival;
        chunks_release(d, d->frag[f].chunk);
        d->frag[f].next_sorted = d->frag_free;
        d->frag_free = f;
        d->frag_used--;
        f = n;
    }
    chunks_release(d, t->hdr_chunk);
    t->hnext = d->trk_free;
    d->trk_free = i;
    d->trk_active--;
}

void sw_defrag_expire(sw_defrag *d, uint64_t now_us)
{
    while (d->lru_head != NIL && d->trk[d->lru_head].deadline <= now_us) {
        uint32_t i = d->lru_head;
        SW_CTR_INC(d->ctr, d->trk[i].version == 4 ? SW_DF_V4_TIMEOUTS : SW_DF_V6_TIMEOUTS);
        tracker_release(d, i);
    }
    update_memuse(d);
}

static uint32_t tracker_get(sw_defrag *d, const sw_packet *p)
{
    uint32_t h = key_hash(p);
    for (uint32_t i = d->bucket[h & d->bucket_mask]; i != NIL; i = d->trk[i].hnext) {
        if (d->trk[i].hash == h && key_eq(&d->trk[i], p)) {
            if (d->trk[i].deadline > p->ts_us)
                return i;
            /* A stale datagram with a reused id: never mix the two. */
            SW_CTR_INC(d->ctr, p->ip.version == 4 ? SW_DF_V4_TIMEOUTS : SW_DF_V6_TIMEOUTS);
            tracker_release(d, i);
            break;
        }
    }
    uint32_t i;
    if (d->trk_free == NIL && d->trk_hw >= d->cfg.max_trackers)
        sw_defrag_expire(d, p->ts_us);
    if (d->trk_free != NIL) {
        i = d->trk_free;
        d->trk_free = d->trk[i].hnext;
    } else if (d->trk_hw < d->cfg.max_trackers) {
        i = d->trk_hw++;
    } else {
        SW_CTR_INC(d->ctr, SW_DF_MAX_TRACKERS_REACHED);
        return NIL;
    }
    df_tracker *t = &d->trk[i];
    memset(t, 0, sizeof(*t));
    const sw_ip_view *ip = &p->ip;
    memcpy(t->src, ip->src, 16);
    memcpy(t->dst, ip->dst, 16);
    t->id = ip->frag_id;
    t->tunnel_id = p->l2.tunnel_id;
    memcpy(t->vlan, p->l2.vlan_id, sizeof(t->vlan));
    t->version = ip->version;
    t->proto = ip->version == 4 ? ip->proto : ip->frag_next_hdr;
    t->hash = h;
    t->sorted = t->arr_head = t->arr_tail = t->hdr_chunk = NIL;
    t->hnext = d->bucket[h & d->bucket_mask];
    d->bucket[h & d->bucket_mask] = i;
    lru_append(d, i);
    d->trk_active++;
    return i;
}

/* ---- reassembly ---- */

static uint16_t ipv4_csum(const uint8_t *h, uint32_t hlen)
{
    uint32_t s = 0;
    for (uint32_t i = 0; i + 1 < hlen; i += 2)
        s += (uint32_t)(h[i] << 8 | h[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* IPv6: makes the header that pointed at the fragment header point at what
 * followed it. false when the unfragmentable part does not parse. */
static bool ipv6_unlink_fh(uint8_t *h, uint32_t unfrag, uint8_t next)
{
    uint32_t nh_pos = 6, cur = 40;
    uint8_t nh = h[6];
    while (cur < unfrag) {
        if (cur + 2 > unfrag)
            return false;
        uint32_t hl = nh == 51 ? ((uint32_t)h[cur + 1] + 2) * 4 : ((uint32_t)h[cur + 1] + 1) * 8;
        nh_pos = cur;
        nh = h[cur];
        cur += hl;
    }
    if (cur != unfrag)
        return false;
    h[nh_pos] = next;
    return true;
}

static const uint8_t *reassemble(sw_defrag *d, uint32_t ti, uint32_t *len_out)
{
    df_tracker *t = &d->trk[ti];
    uint8_t *o = d->out;
    uint32_t hl = t->hdr_len;
    chunks_copy(d, t->hdr_chunk, o, hl);
    uint32_t n = 0;
    for (uint32_t f = t->arr_head; f != NIL; f = d->frag[f].next_arrival)
        d->order[n++] = f;
    /* Later copies overwrite earlier ones: "last" copies in arrival order,
     * "first" in reverse so the earliest bytes end on top. */
    for (uint32_t k = 0; k < n; k++) {
        uint32_t f = d->order[d->cfg.policy == SW_DEFRAG_POLICY_LAST ? k : n - 1 - k];
        const df_frag *fr = &d->frag[f];
        if (fr->off >= t->total)
            continue;
        uint32_t l = fr->len;
        if (fr->off + l > t->total)
            l = t->total - fr->off;
        chunks_copy(d, fr->chunk, o + hl + fr->off, l);
    }
    uint32_t total = hl + t->total;
    if (t->version == 4) {
        o[2] = (uint8_t)(total >> 8);
        o[3] = (uint8_t)total;
        o[6] &= 0x40; /* keep DF, clear MF and the offset */
        o[7] = 0;
        o[10] = o[11] = 0;
        uint16_t c = ipv4_csum(o, hl);
        o[10] = (uint8_t)(c >> 8);
        o[11] = (uint8_t)c;
        SW_CTR_INC(d->ctr, SW_DF_V4_REASSEMBLED);
    } else {
        if (!ipv6_unlink_fh(o, hl, t->proto))
            return NULL;
        uint32_t pl = total - 40;
        o[4] = (uint8_t)(pl >> 8);
        o[5] = (uint8_t)pl;
        SW_CTR_INC(d->ctr, SW_DF_V6_REASSEMBLED);
    }
    *len_out = total;
    return o;
}

const uint8_t *sw_defrag_add(sw_defrag *d, const sw_packet *p, uint32_t *len_out)
{
    const sw_ip_view *ip = &p->ip;
    *len_out = 0;
    if (!ip->is_fragment || (ip->version != 4 && ip->version != 6) || !ip->payload)
        return NULL;
    bool v4 = ip->version == 4;
    SW_CTR_INC(d->ctr, v4 ? SW_DF_V4_FRAGMENTS : SW_DF_V6_FRAGMENTS);
    uint32_t off = ip->frag_offset, len = ip->payload_len;
    uint32_t hdr_len = v4 ? ip->hdr_len : ip->unfrag_len;
    if (len == 0 || hdr_len > DF_MAX_HDR || off + len > DF_MAX_DATAGRAM ||
        (!v4 && hdr_len < 40)) {
        SW_CTR_INC(d->ctr, SW_DF_TOO_LARGE);
        return NULL;
    }

    uint32_t ti = tracker_get(d, p);
    if (ti == NIL)
        return NULL;
    df_tracker *t = &d->trk[ti];
    const uint8_t *result = NULL;

    if (t->nfrags >= DF_MAX_FRAGS_PER_TRACKER || (d->frag_free == NIL && d->frag_hw >= d->cfg.max_frags)) {
        SW_CTR_INC(d->ctr, SW_DF_MAX_FRAGS_REACHED);
        goto out;
    }
    /* Header of the first fragment: kept once, it is the datagram's. */
    if (off == 0 && t->hdr_chunk == NIL) {
        uint32_t nc;
        t->hdr_chunk = chunks_store(d, ip->hdr, hdr_len, &nc);
        if (t->hdr_chunk == NIL) {
            SW_CTR_INC(d->ctr, SW_DF_MEMCAP_HIT);
            goto out;
        }
        t->hdr_len = hdr_len;
        t->chunks += nc;
    }
    uint32_t nc;
    uint32_t chunk = chunks_store(d, ip->payload, len, &nc);
    if (chunk == NIL) {
        SW_CTR_INC(d->ctr, SW_DF_MEMCAP_HIT);
        goto out;
    }
    t->chunks += nc;
    uint32_t fi;
    if (d->frag_free != NIL) {
        fi = d->frag_free;
        d->frag_free = d->frag[fi].next_sorted;
    } else {
        fi = d->frag_hw++;
    }
    d->frag_used++;
    df_frag *fr = &d->frag[fi];
    fr->off = off;
    fr->len = len;
    fr->chunk = chunk;
    fr->next_arrival = NIL;

    bool overlap = false;
    uint32_t *pp = &t->sorted;
    for (uint32_t f = t->sorted; f != NIL; f = d->frag[f].next_sorted) {
        const df_frag *e = &d->frag[f];
        if (e->off < off + len && off < e->off + e->len)
            overlap = true;
        if (e->off <= off)
            pp = &d->frag[f].next_sorted;
    }
    if (overlap)
        SW_CTR_INC(d->ctr, v4 ? SW_DF_V4_OVERLAP : SW_DF_V6_OVERLAP);
    fr->next_sorted = *pp;
    *pp = fi;
    if (t->arr_tail != NIL)
        d->frag[t->arr_tail].next_arrival = fi;
    else
        t->arr_head = fi;
    t->arr_tail = fi;
    t->nfrags++;
    if (!ip->more_frags && !t->seen_last) {
        t->seen_last = 1;
        t->total = off + len;
    }

    if (t->seen_last && t->hdr_chunk != NIL) {
        uint32_t end = 0;
        for (uint32_t f = t->sorted; f != NIL && end < t->total; f = d->frag[f].next_sorted) {
            if (d->frag[f].off > end)
                break;
            if (d->frag[f].off + d->frag[f].len > end)
                end = d->frag[f].off + d->frag[f].len;
        }
        if (end >= t->total) {
            /* IPv4 total length / IPv6 payload length must fit 16 bits. */
            uint32_t dlen = v4 ? t->hdr_len + t->total : t->hdr_len - 40 + t->total;
            if (dlen > DF_MAX_DATAGRAM) {
                SW_CTR_INC(d->ctr, SW_DF_TOO_LARGE);
            } else {
                result = reassemble(d, ti, len_out);
            }
            tracker_release(d, ti);
            update_memuse(d);
            return result;
        }
    }
out:
    t->deadline = p->ts_us + d->cfg.timeout_us;
    lru_unlink(d, ti);
    lru_append(d, ti);
    if (t->nfrags == 0 && t->hdr_chunk == NIL) {
        /* Nothing stored: do not keep an empty tracker around. */
        tracker_release(d, ti);
    }
    update_memuse(d);
    return NULL;
}
