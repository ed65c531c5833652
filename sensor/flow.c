#include "sensor/flow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/community_id.h"

static const char *const flow_ctr_names[] = {
#define X(id, name) name,
    SW_FLOW_COUNTERS(X)
#undef X
};

typedef struct lru {
    uint32_t head, tail; /* index+1, 0 = empty */
} lru;

struct sw_flow_table {
    sw_flow_config cfg;
    sw_flow *flows;      /* cfg.max_flows slots */
    uint32_t *buckets;   /* index+1 of chain head */
    uint32_t nbuckets;   /* power of two */
    uint32_t free_head;  /* index+1; free slots chained through hnext */
    uint32_t next_unused; /* slots never used yet start here */
    lru lists[SW_TO_COUNT];
    uint64_t timeout[SW_TO_COUNT];
    sw_flow_end_fn on_end;
    void *user;
    uint64_t active;
    uint64_t ctr[SW_FLOW_CTR_COUNT];
};

void sw_flow_config_defaults(sw_flow_config *c)
{
    memset(c, 0, sizeof(*c));
    c->max_flows = 1u << 20;
    c->memcap = 1ULL << 30;
    /* Suricata's defaults (suricata.yaml flow-timeouts). */
    c->timeout_new_us = 30ULL * 1000000;
    c->timeout_tcp_est_us = 600ULL * 1000000;
    c->timeout_udp_est_us = 300ULL * 1000000;
    c->timeout_other_est_us = 300ULL * 1000000;
    c->timeout_closed_us = 10ULL * 1000000;
    c->hash_seed = 0x5bd1e995u;
}

int sw_flow_config_load(const sw_cfg_node *root, sw_flow_config *c, char *err,
                        size_t errlen)
{
    if (sw_cfg_get_u64(root, "flow.max-flows", &c->max_flows, err, errlen) ||
        sw_cfg_get_size(root, "flow.memcap", &c->memcap, err, errlen) ||
        sw_cfg_get_duration(root, "flow.timeouts.new", &c->timeout_new_us, err, errlen) ||
        sw_cfg_get_duration(root, "flow.timeouts.tcp-established", &c->timeout_tcp_est_us,
                            err, errlen) ||
        sw_cfg_get_duration(root, "flow.timeouts.udp-established", &c->timeout_udp_est_us,
                            err, errlen) ||
        sw_cfg_get_duration(root, "flow.timeouts.other-established",
                            &c->timeout_other_est_us, err, errlen) ||
        sw_cfg_get_duration(root, "flow.timeouts.closed", &c->timeout_closed_us, err,
                            errlen))
        return -1;
    if (c->max_flows == 0 || c->max_flows > (1ULL << 31)) {
        snprintf(err, errlen, "config: flow.max-flows: must be 1 .. 2147483648");
        return -1;
    }
    return 0;
}

static inline uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdULL;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ULL;
    x ^= x >> 33;
    return x;
}

uint64_t sw_flow_key_hash(const sw_flow_key *k, uint32_t seed)
{
    uint64_t w[6];
    memcpy(w, k, sizeof w); /* key is 48 bytes: a, b, then ports/context */
    uint64_t h = seed;
    for (int i = 0; i < 6; i++)
        h = mix64(h ^ w[i]) + 0x9e3779b97f4a7c15ULL;
    return h;
}

_Static_assert(sizeof(sw_flow_key) == 48, "sw_flow_key must stay 48 bytes");

void sw_flow_key_make(const sw_packet *p, sw_flow_key *k, bool *a_is_src)
{
    memset(k, 0, sizeof(*k));
    k->proto = p->ip.proto;
    k->ipver = p->ip.version;
    k->vlan0 = p->l2.vlan_count > 0 ? p->l2.vlan_id[0] : 0;
    k->vlan1 = p->l2.vlan_count > 1 ? p->l2.vlan_id[1] : 0;
    k->tunnel_type = p->l2.tunnel_type;
    k->tunnel_id = p->l2.tunnel_id;
    uint16_t sp = 0, dp = 0;
    if (p->ip.proto == 6 || p->ip.proto == 17 || p->ip.proto == 132) {
        sp = p->l4.sport;
        dp = p->l4.dport;
    }
    size_t alen = p->ip.version == 6 ? 16 : 4;
    int c = memcmp(p->ip.src, p->ip.dst, alen);
    bool src_first = c < 0 || (c == 0 && sp <= dp);
    if (src_first) {
        memcpy(k->a, p->ip.src, alen);
        memcpy(k->b, p->ip.dst, alen);
        k->pa = sp;
        k->pb = dp;
    } else {
        memcpy(k->a, p->ip.dst, alen);
        memcpy(k->b, p->ip.src, alen);
        k->pa = dp;
        k->pb = sp;
    }
    *a_is_src = src_first;
}

sw_flow_table *sw_flow_table_new(const sw_flow_config *c, sw_flow_end_fn on_end,
                                 void *user)
{
    sw_flow_table *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->cfg = *c;
    uint64_t cap = c->max_flows;
    uint64_t by_mem = c->memcap / sizeof(sw_flow);
    if (by_mem < cap)
        cap = by_mem;
    if (cap < 16)
        cap = 16;
    t->cfg.max_flows = cap;
    uint32_t nb = 1024;
    while (nb < cap && nb < (1u << 30))
        nb <<= 1;
    t->nbuckets = nb;
    /* calloc of large arrays maps zero pages: memory becomes resident only
     * as flows are actually used. */
    t->flows = calloc(cap, sizeof(sw_flow));
    t->buckets = calloc(nb, sizeof(uint32_t));
    if (!t->flows || !t->buckets) {
        sw_flow_table_free(t);
        return NULL;
    }
    t->timeout[SW_TO_NEW] = c->timeout_new_us;
    t->timeout[SW_TO_EST_TCP] = c->timeout_tcp_est_us;
    t->timeout[SW_TO_EST_UDP] = c->timeout_udp_est_us;
    t->timeout[SW_TO_EST_OTHER] = c->timeout_other_est_us;
    t->timeout[SW_TO_CLOSED] = c->timeout_closed_us;
    t->on_end = on_end;
    t->user = user;
    return t;
}

void sw_flow_table_free(sw_flow_table *t)
{
    if (!t)
        return;
    free(t->flows);
    free(t->buckets);
    free(t);
}

static void lru_unlink(sw_flow_table *t, sw_flow *f)
{
    lru *l = &t->lists[f->to_class];
    uint32_t me = (uint32_t)(f - t->flows) + 1;
    if (f->lru_prev)
        t->flows[f->lru_prev - 1].lru_next = f->lru_next;
    else if (l->head == me)
        l->head = f->lru_next;
    if (f->lru_next)
        t->flows[f->lru_next - 1].lru_prev = f->lru_prev;
    else if (l->tail == me)
        l->tail = f->lru_prev;
    f->lru_prev = f->lru_next = 0;
}

static void lru_push(sw_flow_table *t, sw_flow *f, uint8_t cls)
{
    lru *l = &t->lists[cls];
    uint32_t me = (uint32_t)(f - t->flows) + 1;
    f->to_class = cls;
    f->lru_next = 0;
    f->lru_prev = l->tail;
    if (l->tail)
        t->flows[l->tail - 1].lru_next = me;
    else
        l->head = me;
    l->tail = me;
}

static void hash_unlink(sw_flow_table *t, sw_flow *f)
{
    uint32_t me = (uint32_t)(f - t->flows) + 1;
    uint32_t *pp = &t->buckets[f->hash & (t->nbuckets - 1)];
    while (*pp && *pp != me)
        pp = &t->flows[*pp - 1].hnext;
    if (*pp == me)
        *pp = f->hnext;
    f->hnext = 0;
}

static void flow_end(sw_flow_table *t, sw_flow *f, sw_flow_end_reason why)
{
    if (t->on_end)
        t->on_end(t->user, f, why);
    switch (why) {
    case SW_FLOW_END_TIMEOUT: SW_CTR_INC(t->ctr, SW_CTR_FLOW_END_TIMEOUT); break;
    case SW_FLOW_END_FORCED: SW_CTR_INC(t->ctr, SW_CTR_FLOW_END_FORCED); break;
    case SW_FLOW_END_SHUTDOWN: SW_CTR_INC(t->ctr, SW_CTR_FLOW_END_SHUTDOWN); break;
    case SW_FLOW_END_TCP_REUSE: SW_CTR_INC(t->ctr, SW_CTR_FLOW_TCP_REUSE); break;
    }
    lru_unlink(t, f);
    hash_unlink(t, f);
    f->in_use = 0;
    f->hnext = t->free_head;
    t->free_head = (uint32_t)(f - t->flows) + 1;
    t->active--;
    SW_CTR_SET(t->ctr, SW_CTR_FLOW_ACTIVE, t->active);
}

/* Under memory pressure the least valuable flow goes first: closed ones,
 * then flows that never got an answer, then the longest idle. */
static bool evict_one(sw_flow_table *t)
{
    static const uint8_t first[] = {SW_TO_CLOSED, SW_TO_NEW};
    for (size_t i = 0; i < sizeof first; i++) {
        uint32_t h = t->lists[first[i]].head;
        if (h) {
            flow_end(t, &t->flows[h - 1], SW_FLOW_END_FORCED);
            return true;
        }
    }
    /* each list is in last-seen order: the idlest flow is one of the heads */
    static const uint8_t est[] = {SW_TO_EST_UDP, SW_TO_EST_OTHER, SW_TO_EST_TCP};
    sw_flow *victim = NULL;
    for (size_t i = 0; i < sizeof est; i++) {
        uint32_t h = t->lists[est[i]].head;
        if (h && (!victim || t->flows[h - 1].last_us < victim->last_us))
            victim = &t->flows[h - 1];
    }
    if (!victim)
        return false;
    flow_end(t, victim, SW_FLOW_END_FORCED);
    return true;
}

static sw_flow *slot_get(sw_flow_table *t)
{
    if (!t->free_head && t->next_unused >= t->cfg.max_flows) {
        SW_CTR_INC(t->ctr, SW_CTR_FLOW_MEMCAP);
        if (!evict_one(t))
            return NULL;
    }
    sw_flow *f;
    if (t->free_head) {
        f = &t->flows[t->free_head - 1];
        t->free_head = f->hnext;
    } else {
        f = &t->flows[t->next_unused++];
        SW_CTR_SET(t->ctr, SW_CTR_FLOW_MEMUSE, (uint64_t)t->next_unused * sizeof(sw_flow));
    }
    return f;
}

static uint8_t new_class(const sw_flow *f)
{
    if (f->state == SW_FLOW_CLOSED)
        return SW_TO_CLOSED;
    if (f->state == SW_FLOW_NEW)
        return SW_TO_NEW;
    if (f->key.proto == 6)
        return SW_TO_EST_TCP;
    if (f->key.proto == 17)
        return SW_TO_EST_UDP;
    return SW_TO_EST_OTHER;
}

static sw_flow *flow_create(sw_flow_table *t, const sw_flow_key *k, uint64_t h,
                            const sw_packet *p, bool a_is_src)
{
    sw_flow *f = slot_get(t);
    if (!f)
        return NULL;
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->hash = (uint32_t)h;
    f->in_use = 1;
    bool src_is_client = true;
    if (k->proto == 6 && (p->l4.tcp_flags & (SW_TCP_SYN | SW_TCP_ACK)) ==
                             (SW_TCP_SYN | SW_TCP_ACK))
        src_is_client = false;
    f->client_is_a = (uint8_t)(a_is_src == src_is_client);
    f->start_us = f->last_us = p->ts_us;
    f->flow_id = mix64(h ^ p->ts_us) & ((1ULL << 51) - 1);
    if (f->flow_id == 0)
        f->flow_id = 1;
    uint16_t cp = sw_flow_client_port(f), sp = sw_flow_server_port(f);
    uint8_t fam = k->ipver == 6 ? 6 : 4;
    if (k->proto == 1 || k->proto == 58)
        sw_community_id(0, fam, sw_flow_client_ip(f), sw_flow_server_ip(f), k->proto,
                        p->l4.icmp_type, p->l4.icmp_code, f->community_id);
    else
        sw_community_id(0, fam, sw_flow_client_ip(f), sw_flow_server_ip(f), k->proto, cp,
                        sp, f->community_id);
    uint32_t b = f->hash & (t->nbuckets - 1);
    f->hnext = t->buckets[b];
    t->buckets[b] = (uint32_t)(f - t->flows) + 1;
    lru_push(t, f, SW_TO_NEW);
    t->active++;
    SW_CTR_INC(t->ctr, SW_CTR_FLOW_TOTAL);
    SW_CTR_SET(t->ctr, SW_CTR_FLOW_ACTIVE, t->active);
    switch (k->proto) {
    case 6: SW_CTR_INC(t->ctr, SW_CTR_FLOW_TCP); break;
    case 17: SW_CTR_INC(t->ctr, SW_CTR_FLOW_UDP); break;
    case 1: SW_CTR_INC(t->ctr, SW_CTR_FLOW_ICMPV4); break;
    case 58: SW_CTR_INC(t->ctr, SW_CTR_FLOW_ICMPV6); break;
    default: break;
    }
    return f;
}

sw_flow *sw_flow_lookup(sw_flow_table *t, const sw_packet *p, bool *to_server,
                        bool *created)
{
    sw_flow_key k;
    bool a_is_src;
    sw_flow_key_make(p, &k, &a_is_src);
    uint64_t h = sw_flow_key_hash(&k, t->cfg.hash_seed);
    *created = false;
    uint32_t i = t->buckets[h & (t->nbuckets - 1)];
    while (i) {
        sw_flow *f = &t->flows[i - 1];
        if (f->hash == (uint32_t)h && memcmp(&f->key, &k, sizeof k) == 0) {
            /* A new SYN on a closed connection starts a new flow (port
             * reuse), as Suricata's tcp_reuse handling does. */
            if (k.proto == 6 && f->state == SW_FLOW_CLOSED &&
                (p->l4.tcp_flags & (SW_TCP_SYN | SW_TCP_ACK)) == SW_TCP_SYN) {
                flow_end(t, f, SW_FLOW_END_TCP_REUSE);
                break;
            }
            *to_server = (a_is_src == (bool)f->client_is_a);
            return f;
        }
        i = f->hnext;
    }
    sw_flow *f = flow_create(t, &k, h, p, a_is_src);
    if (!f)
        return NULL;
    *created = true;
    *to_server = (a_is_src == (bool)f->client_is_a);
    return f;
}

static void tcp_track(sw_flow_table *t, sw_flow *f, const sw_packet *p, bool to_server)
{
    uint8_t fl = p->l4.tcp_flags;
    if (to_server)
        f->tcp_flags_ts |= fl;
    else
        f->tcp_flags_tc |= fl;
    if (fl & SW_TCP_RST) {
        SW_CTR_INC(t->ctr, SW_CTR_FLOW_TCP_RST);
        f->rst_seen = 1;
        f->tcp_state = SW_TCP_CLOSED;
        f->state = SW_FLOW_CLOSED;
        return;
    }
    if ((fl & (SW_TCP_SYN | SW_TCP_ACK)) == SW_TCP_SYN) {
        SW_CTR_INC(t->ctr, SW_CTR_FLOW_TCP_SYN);
        if (to_server) {
            f->syn_seen = 1;
            if (f->tcp_state == SW_TCP_NONE)
                f->tcp_state = SW_TCP_SYN_SENT;
        }
        return;
    }
    if ((fl & (SW_TCP_SYN | SW_TCP_ACK)) == (SW_TCP_SYN | SW_TCP_ACK)) {
        SW_CTR_INC(t->ctr, SW_CTR_FLOW_TCP_SYNACK);
        if (!to_server) {
            f->synack_seen = 1;
            if (f->tcp_state <= SW_TCP_SYN_SENT)
                f->tcp_state = SW_TCP_SYN_RECV;
        }
        return;
    }
    if (f->tcp_state == SW_TCP_NONE) {
        /* Picked up mid-connection: no handshake seen. */
        f->midstream = 1;
        SW_CTR_INC(t->ctr, SW_CTR_FLOW_MIDSTREAM);
        f->tcp_state = SW_TCP_ESTABLISHED;
        f->state = SW_FLOW_ESTABLISHED;
    } else if (f->tcp_state == SW_TCP_SYN_RECV && to_server && (fl & SW_TCP_ACK)) {
        f->tcp_state = SW_TCP_ESTABLISHED;
        f->state = SW_FLOW_ESTABLISHED;
    } else if (f->tcp_state == SW_TCP_SYN_SENT && (fl & SW_TCP_ACK)) {
        /* SYN/ACK missed: data both ways still means established. */
        f->tcp_state = SW_TCP_ESTABLISHED;
        f->state = SW_FLOW_ESTABLISHED;
    }
    if (fl & SW_TCP_FIN) {
        if (to_server)
            f->fin_ts = 1;
        else
            f->fin_tc = 1;
        if (f->fin_ts && f->fin_tc) {
            f->tcp_state = SW_TCP_CLOSED;
            f->state = SW_FLOW_CLOSED;
        } else if (f->tcp_state == SW_TCP_ESTABLISHED) {
            f->tcp_state = to_server ? SW_TCP_FIN_WAIT1 : SW_TCP_CLOSE_WAIT;
        }
    }
}

void sw_flow_update(sw_flow_table *t, sw_flow *f, const sw_packet *p, bool to_server)
{
    if (to_server) {
        f->pkts_ts++;
        f->bytes_ts += p->wirelen;
    } else {
        f->pkts_tc++;
        f->bytes_tc += p->wirelen;
    }
    if (p->ts_us > f->last_us)
        f->last_us = p->ts_us;
    if (f->key.proto == 6) {
        tcp_track(t, f, p, to_server);
    } else {
        if (f->key.proto == 1 || f->key.proto == 58) {
            if (to_server && !f->icmp_seen_ts) {
                f->icmp_seen_ts = 1;
                f->icmp_type_ts = p->l4.icmp_type;
                f->icmp_code_ts = p->l4.icmp_code;
            } else if (!to_server && !f->icmp_seen_tc) {
                f->icmp_seen_tc = 1;
                f->icmp_type_tc = p->l4.icmp_type;
                f->icmp_code_tc = p->l4.icmp_code;
            }
        }
        if (f->pkts_ts && f->pkts_tc)
            f->state = SW_FLOW_ESTABLISHED;
    }
    uint8_t cls = new_class(f);
    /* Move to the tail of its (maybe new) list: lists stay in last-seen
     * order because packet time only moves forward within a worker. */
    lru_unlink(t, f);
    lru_push(t, f, cls);
}

void sw_flow_expire(sw_flow_table *t, uint64_t now_us)
{
    for (int c = 0; c < SW_TO_COUNT; c++) {
        uint64_t to = t->timeout[c];
        while (t->lists[c].head) {
            sw_flow *f = &t->flows[t->lists[c].head - 1];
            if (f->last_us + to > now_us)
                break;
            flow_end(t, f, SW_FLOW_END_TIMEOUT);
        }
    }
}

void sw_flow_flush(sw_flow_table *t)
{
    for (int c = 0; c < SW_TO_COUNT; c++)
        while (t->lists[c].head)
            flow_end(t, &t->flows[t->lists[c].head - 1], SW_FLOW_END_SHUTDOWN);
}

sw_ctr_group sw_flow_counters(const sw_flow_table *t)
{
    sw_ctr_group g = {flow_ctr_names, t->ctr, SW_FLOW_CTR_COUNT};
    return g;
}

const char *sw_flow_state_name(const sw_flow *f)
{
    switch (f->state) {
    case SW_FLOW_NEW: return "new";
    case SW_FLOW_ESTABLISHED: return "established";
    default: return "closed";
    }
}

const char *sw_tcp_state_name(uint8_t s)
{
    static const char *const names[] = {"none",        "syn_sent",   "syn_recv",
                                        "established", "fin_wait1",  "fin_wait2",
                                        "time_wait",   "close_wait", "last_ack",
                                        "closed"};
    return s < sizeof names / sizeof names[0] ? names[s] : "unknown";
}

const char *sw_flow_reason_name(sw_flow_end_reason r)
{
    switch (r) {
    case SW_FLOW_END_TIMEOUT: return "timeout";
    case SW_FLOW_END_FORCED: return "forced";
    case SW_FLOW_END_SHUTDOWN: return "shutdown";
    case SW_FLOW_END_TCP_REUSE: return "tcp_reuse";
    }
    return "unknown";
}
