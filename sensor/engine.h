/* The sensor as a whole: what all threads share (sw_engine) and what each
 * worker owns (sw_worker). Data flows one way: reader -> worker (decode,
 * flow, app layer, detection) -> outputs. */
#ifndef SW_ENGINE_H
#define SW_ENGINE_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "decoders/decode.h"
#include "decoders/defrag.h"
#include "sensor/capture.h"
#include "sensor/cfg.h"
#include "sensor/flow.h"
#include "sensor/json.h"
#include "sensor/output.h"
#include "sensor/ring.h"
#include "sensor/stream.h"

#define SW_MAX_WORKERS 64
/* Counter groups of the whole engine: each worker has 5 of its own plus the
 * app layer's (about 6), the shared parts a handful. Sized for the most
 * workers so that no worker's counters drop out of the stats event. */
#define SW_MAX_CTR_GROUPS (SW_MAX_WORKERS * 16 + 32)

typedef struct sw_health_config {
    uint64_t stall_us;        /* live: no packet for this long -> alert */
    double drop_rate;         /* live: dropped/received over an interval */
} sw_health_config;

typedef struct sw_engine_config {
    uint32_t workers;          /* 0 = one per core */
    uint64_t ring_size;        /* bytes per worker ring */
    uint64_t max_worker_skew_us; /* packet time the workers may drift apart */
    uint64_t stats_interval_us;
    bool ndpi;
    uint32_t ndpi_max_packets; /* give up classification after this many */
    sw_health_config health;
    sw_dec_config dec;
    sw_defrag_config defrag;
    sw_flow_config flow;
    sw_stream_config stream;
    sw_live_config live;
    sw_outputs_config outputs;
} sw_engine_config;

struct sw_app_shared; /* app layer + detection state shared by workers */
struct sw_app_worker;

typedef struct sw_worker sw_worker;

typedef struct sw_engine {
    sw_engine_config cfg;
    const sw_cfg_node *cfg_root; /* NULL = built-in defaults */
    sw_outputs *out;
    struct sw_app_shared *app;
    struct sw_detect_shared *detect;
    /* -S files (replace the configured rule files when n_cli_rules > 0) */
    const char *const *cli_rules;
    size_t n_cli_rules;
    bool test_mode; /* -T: load and report, no traffic */
    uint32_t nworkers;
    sw_worker *workers[SW_MAX_WORKERS];
    uint64_t ctr[8];           /* engine-level counters, see engine.c */
    volatile int stop;
} sw_engine;

#define SW_WORKER_COUNTERS(X)                               \
    X(W_EVENTS, "spanwatch.eve.events")                     \
    X(W_EVENTS_FAILED, "spanwatch.eve.events_failed")       \
    X(W_ANOMALIES, "spanwatch.eve.anomalies")               \
    X(W_NO_FLOW, "tcp.no_flow")                             \
    X(W_FRAGS, "spanwatch.decoder.fragments")

enum {
#define X(id, name) SW_CTR_##id,
    SW_WORKER_COUNTERS(X)
#undef X
    SW_WORKER_CTR_COUNT
};

struct sw_worker {
    int id;
    sw_engine *eng;
    pthread_t thread;
    sw_ring ring;
    sw_dec_ctx dec;
    sw_defrag *defrag;
    sw_flow_table *flows;
    sw_stream_pool *streams;
    struct sw_app_worker *app;
    sw_json json;
    /* Finished EVE lines wait here and go to the outputs in batches: one
     * lock and wake-up per batch instead of per event. */
    char *obuf;
    size_t olen, ocap;
    uint64_t now_us;
    uint64_t cur_pcap_cnt; /* of the packet being processed, for events */
    /* While the app layer handles a packet: the packet and its flow, so a
     * transaction alert can show the packet that completed it. */
    const struct sw_packet *cur_pkt;
    const struct sw_flow *cur_flow;
    uint64_t next_expire_us;
    uint64_t ctr[SW_WORKER_CTR_COUNT];
};

void sw_engine_config_defaults(sw_engine_config *c);
int sw_engine_config_load(const sw_cfg_node *root, sw_engine_config *c, char *err,
                          size_t errlen);

/* Creates workers (not yet running). */
int sw_engine_init(sw_engine *e, char *err, size_t errlen);
void sw_engine_fini(sw_engine *e);

/* Processes one packet on worker w (decode .. detection). */
void sw_worker_packet(sw_worker *w, sw_packet *p);
/* Advances worker time (expiry) without a packet. */
void sw_worker_tick(sw_worker *w, uint64_t now_us);
/* Ends every flow (shutdown). */
void sw_worker_flush(sw_worker *w);
/* Packet time went backwards (an older capture file follows): end every
 * flow as at shutdown and restart the worker's clock at ts. */
void sw_worker_restart_clock(sw_worker *w, uint64_t ts_us);
int sw_worker_start(sw_worker *w);
void sw_worker_join(sw_worker *w);

/* Writes the finished event line held in j (batched; see below). */
void sw_worker_emit(sw_worker *w, sw_json *j);
/* Hands the batched lines to the outputs (each tick, and at the end). */
void sw_worker_emit_flush(sw_worker *w);

/* Every counter group of the engine, for the stats event. */
size_t sw_engine_counter_groups(sw_engine *e, sw_ctr_group *out, size_t max);

#endif
