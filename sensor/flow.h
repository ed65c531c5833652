/* Bidirectional flow table, one per worker thread (no locks).
 *
 * Flows live in one array sized at start (flow.max-flows); the array is
 * calloc'ed, so untouched slots cost no resident memory. A flow is found by
 * a hash of its normalised key; the initiator (client) is the sender of the
 * first packet, except that a first packet carrying SYN+ACK makes its
 * receiver the client (pickup after the SYN was missed).
 *
 * Expiry uses one LRU list per timeout class, so each list's head is always
 * the next to expire and expiry costs O(expired), never a scan. */
#ifndef SW_FLOW_H
#define SW_FLOW_H

#include <stdbool.h>
#include <stdint.h>

#include "decoders/packet.h"
#include "sensor/cfg.h"
#include "sensor/counters.h"

typedef struct sw_flow_key {
    uint8_t a[16];      /* lower address of the pair */
    uint8_t b[16];
    uint16_t pa, pb;    /* ports belonging to a and b */
    uint16_t vlan0, vlan1;
    uint32_t tunnel_id;
    uint8_t proto;
    uint8_t ipver;
    uint8_t tunnel_type;
    uint8_t pad;
} sw_flow_key;

typedef enum sw_flow_state {
    SW_FLOW_NEW = 0,
    SW_FLOW_ESTABLISHED,
    SW_FLOW_CLOSED,
} sw_flow_state;

/* TCP connection progress, Suricata's names in the flow event's tcp.state. */
typedef enum sw_tcp_state {
    SW_TCP_NONE = 0,
    SW_TCP_SYN_SENT,
    SW_TCP_SYN_RECV,
    SW_TCP_ESTABLISHED,
    SW_TCP_FIN_WAIT1,
    SW_TCP_FIN_WAIT2,
    SW_TCP_TIME_WAIT,
    SW_TCP_CLOSE_WAIT,
    SW_TCP_LAST_ACK,
    SW_TCP_CLOSED,
} sw_tcp_state;

typedef enum sw_flow_end_reason {
    SW_FLOW_END_TIMEOUT = 0,
    SW_FLOW_END_FORCED,   /* evicted under memory pressure */
    SW_FLOW_END_SHUTDOWN, /* end of capture / SIGTERM */
    SW_FLOW_END_TCP_REUSE,
} sw_flow_end_reason;

/* Timeout classes, one LRU list each. */
enum {
    SW_TO_NEW = 0,
    SW_TO_EST_TCP,
    SW_TO_EST_UDP,
    SW_TO_EST_OTHER,
    SW_TO_CLOSED,
    SW_TO_COUNT,
};

struct sw_flow_app; /* app-layer state, owned by the worker's app glue */

typedef struct sw_flow {
    sw_flow_key key;
    uint32_t hnext;        /* hash chain (index+1, 0 = end) */
    uint32_t lru_prev, lru_next;
    uint8_t to_class;      /* which LRU list */
    uint8_t in_use;
    uint8_t client_is_a;   /* 1: key.a is the client */
    uint8_t state;         /* sw_flow_state */
    uint8_t tcp_state;     /* sw_tcp_state */
    uint8_t tcp_flags_ts, tcp_flags_tc;
    uint8_t syn_seen : 1, synack_seen : 1, fin_ts : 1, fin_tc : 1, rst_seen : 1,
        alerted : 1, midstream : 1, logged : 1;
    uint8_t icmp_type_ts, icmp_code_ts, icmp_type_tc, icmp_code_tc;
    uint8_t icmp_seen_ts : 1, icmp_seen_tc : 1;
    uint16_t app_proto;    /* spanwatch app id (sensor/app.h) */
    uint32_t hash;
    uint64_t flow_id;
    uint64_t start_us, last_us;
    uint64_t pkts_ts, pkts_tc, bytes_ts, bytes_tc;
    char community_id[32];
    struct sw_flow_app *app;  /* NULL until app-layer work starts */
} sw_flow;

typedef struct sw_flow_config {
    uint64_t max_flows;
    uint64_t memcap;            /* bytes for the flow array */
    uint64_t timeout_new_us;
    uint64_t timeout_tcp_est_us;
    uint64_t timeout_udp_est_us;
    uint64_t timeout_other_est_us;
    uint64_t timeout_closed_us;
    uint32_t hash_seed;
} sw_flow_config;

#define SW_FLOW_COUNTERS(X)                                   \
    X(FLOW_TOTAL, "flow.total")                               \
    X(FLOW_ACTIVE, "flow.active")                             \
    X(FLOW_TCP, "flow.tcp")                                   \
    X(FLOW_UDP, "flow.udp")                                   \
    X(FLOW_ICMPV4, "flow.icmpv4")                             \
    X(FLOW_ICMPV6, "flow.icmpv6")                             \
    X(FLOW_END_TIMEOUT, "spanwatch.flow.end_timeout")         \
    X(FLOW_END_FORCED, "spanwatch.flow.end_forced")           \
    X(FLOW_END_SHUTDOWN, "spanwatch.flow.end_shutdown")       \
    X(FLOW_TCP_REUSE, "flow.tcp_reuse")                       \
    X(FLOW_MEMCAP, "flow.memcap")                             \
    X(FLOW_EMERG, "flow.emerg_mode_entered")                  \
    X(FLOW_MEMUSE, "flow.memuse")                             \
    X(FLOW_MIDSTREAM, "tcp.midstream_pickups")                \
    X(FLOW_TCP_SYN, "tcp.syn")                                \
    X(FLOW_TCP_SYNACK, "tcp.synack")                          \
    X(FLOW_TCP_RST, "tcp.rst")

enum {
#define X(id, name) SW_CTR_##id,
    SW_FLOW_COUNTERS(X)
#undef X
    SW_FLOW_CTR_COUNT
};

typedef struct sw_flow_table sw_flow_table;

/* Called for every flow that ends, before its slot is reused. */
typedef void (*sw_flow_end_fn)(void *user, sw_flow *f, sw_flow_end_reason why);

void sw_flow_config_defaults(sw_flow_config *c);
int sw_flow_config_load(const sw_cfg_node *root, sw_flow_config *c, char *err,
                        size_t errlen);

sw_flow_table *sw_flow_table_new(const sw_flow_config *c, sw_flow_end_fn on_end,
                                 void *user);
void sw_flow_table_free(sw_flow_table *t);

/* Finds or creates the flow of a decoded packet (ip.version != 0). Sets
 * *to_server. Returns NULL only when the table is full and nothing could be
 * evicted. A flow that was ended to make room is reported via on_end first. */
sw_flow *sw_flow_lookup(sw_flow_table *t, const sw_packet *p, bool *to_server,
                        bool *created);
/* Accounts the packet (counters, TCP state, timeout class, LRU). */
void sw_flow_update(sw_flow_table *t, sw_flow *f, const sw_packet *p, bool to_server);
/* Ends every flow idle past its timeout at packet time now. */
void sw_flow_expire(sw_flow_table *t, uint64_t now_us);
/* Ends every flow (shutdown). */
void sw_flow_flush(sw_flow_table *t);

uint64_t sw_flow_key_hash(const sw_flow_key *k, uint32_t seed);
/* Makes the normalised key of p; *a_is_src tells whether p's source is key.a. */
void sw_flow_key_make(const sw_packet *p, sw_flow_key *k, bool *a_is_src);
sw_ctr_group sw_flow_counters(const sw_flow_table *t);

/* Names for the EVE flow event. */
const char *sw_flow_state_name(const sw_flow *f);
const char *sw_tcp_state_name(uint8_t s);
const char *sw_flow_reason_name(sw_flow_end_reason r);

/* Client/server views of a flow. */
static inline const uint8_t *sw_flow_client_ip(const sw_flow *f)
{
    return f->client_is_a ? f->key.a : f->key.b;
}
static inline const uint8_t *sw_flow_server_ip(const sw_flow *f)
{
    return f->client_is_a ? f->key.b : f->key.a;
}
static inline uint16_t sw_flow_client_port(const sw_flow *f)
{
    return f->client_is_a ? f->key.pa : f->key.pb;
}
static inline uint16_t sw_flow_server_port(const sw_flow *f)
{
    return f->client_is_a ? f->key.pb : f->key.pa;
}

#endif
