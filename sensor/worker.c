#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "sensor/app.h"
#include "sensor/detect.h"
#include "sensor/engine.h"
#include "sensor/eve.h"

static const char *const worker_ctr_names[] = {
#define X(id, name) name,
    SW_WORKER_COUNTERS(X)
#undef X
};

/* Flow expiry runs at most once per second of packet time: flows time out
 * in seconds, and walking the LRU heads more often buys nothing. */
#define EXPIRE_EVERY_US 1000000ULL

#define EMIT_BATCH (64u * 1024u)

void sw_worker_emit_flush(sw_worker *w)
{
    if (w->olen) {
        sw_outputs_write(w->eng->out, w->obuf, w->olen);
        w->olen = 0;
    }
}

void sw_worker_emit(sw_worker *w, sw_json *j)
{
    size_t n = swj_finish(j);
    if (!n) {
        SW_CTR_INC(w->ctr, SW_CTR_W_EVENTS_FAILED);
        return;
    }
    SW_CTR_INC(w->ctr, SW_CTR_W_EVENTS);
    if (w->olen + n > w->ocap)
        sw_worker_emit_flush(w);
    if (n > w->ocap) { /* a huge event goes on its own */
        sw_outputs_write(w->eng->out, j->buf, n);
        return;
    }
    memcpy(w->obuf + w->olen, j->buf, n);
    w->olen += n;
}

static void on_flow_end(void *user, sw_flow *f, sw_flow_end_reason why)
{
    sw_app_flow_end((sw_worker *)user, f, why);
}

static void emit_anomalies(sw_worker *w, const sw_packet *p, const sw_flow *f)
{
    for (unsigned i = 0; i < p->n_events && i < SW_MAX_PKT_EVENTS; i++) {
        sw_json *j = &w->json;
        sw_eve_begin_packet(j, "anomaly", p, f, NULL);
        swj_open_object(j, "anomaly");
        swj_str(j, "type", "decode");
        swj_str(j, "event", sw_dec_event_name(p->events[i]));
        swj_close_object(j);
        SW_CTR_INC(w->ctr, SW_CTR_W_ANOMALIES);
        sw_worker_emit(w, j);
    }
}

void sw_worker_tick(sw_worker *w, uint64_t now_us)
{
    if (now_us > w->now_us)
        __atomic_store_n(&w->now_us, now_us, __ATOMIC_RELEASE); /* read by the reader */
    if (w->now_us >= w->next_expire_us) {
        sw_flow_expire(w->flows, w->now_us);
        sw_defrag_expire(w->defrag, w->now_us);
        w->next_expire_us = w->now_us + EXPIRE_EVERY_US;
        sw_worker_emit_flush(w);
    }
}

void sw_worker_packet(sw_worker *w, sw_packet *p)
{
    sw_worker_tick(w, p->ts_us);
    w->cur_pcap_cnt = p->pcap_cnt;
    sw_dec_result r = sw_decode_packet(&w->dec, p);
    if (r == SW_DEC_FRAGMENT) {
        SW_CTR_INC(w->ctr, SW_CTR_W_FRAGS);
        if (p->n_events)
            emit_anomalies(w, p, NULL);
        uint32_t len = 0;
        const uint8_t *dg = sw_defrag_add(w->defrag, p, &len);
        if (!dg)
            return;
        p->n_events = 0;
        r = sw_decode_ip_datagram(&w->dec, p, dg, len);
        if (r == SW_DEC_FRAGMENT) {
            /* a fragment inside a reassembled datagram: never reassembled
             * twice (no loops on crafted nesting); the decoder's event says
             * why */
            SW_CTR_INC(w->ctr, SW_CTR_W_NO_FLOW);
            if (p->n_events)
                emit_anomalies(w, p, NULL);
            return;
        }
    }
    if (p->ip.version == 0 || (r == SW_DEC_INVALID && p->ip.proto == 0)) {
        if (p->n_events) {
            emit_anomalies(w, p, NULL);
            /* decode-event rules see broken packets too */
            if (p->ip.version)
                sw_app_packet_no_flow(w, p);
        }
        return;
    }
    if (r == SW_DEC_INVALID && (p->ip.proto == 6 || p->ip.proto == 17) &&
        p->l4.sport == 0 && p->l4.dport == 0) {
        /* L4 header unusable: no flow to put it in. */
        SW_CTR_INC(w->ctr, SW_CTR_W_NO_FLOW);
        if (p->n_events)
            emit_anomalies(w, p, NULL);
        sw_app_packet_no_flow(w, p);
        return;
    }
    bool to_server = true, created = false;
    sw_flow *f = sw_flow_lookup(w->flows, p, &to_server, &created);
    if (!f) {
        SW_CTR_INC(w->ctr, SW_CTR_W_NO_FLOW);
        if (p->n_events)
            emit_anomalies(w, p, NULL);
        return;
    }
    sw_flow_update(w->flows, f, p, to_server);
    if (p->n_events)
        emit_anomalies(w, p, f);
    w->cur_pkt = p;
    w->cur_flow = f;
    sw_app_packet(w, f, p, to_server, created);
    w->cur_pkt = NULL;
    w->cur_flow = NULL;
}

/* One packet through the worker, then a quiescent point for the ruleset
 * swap. */
static void worker_packet_q(sw_worker *w, sw_packet *p)
{
    sw_worker_packet(w, p);
    sw_detect_quiescent(w);
}

void sw_worker_flush(sw_worker *w)
{
    sw_flow_flush(w->flows);
    sw_worker_emit_flush(w);
}

void sw_worker_restart_clock(sw_worker *w, uint64_t ts_us)
{
    sw_flow_flush(w->flows);
    sw_defrag_expire(w->defrag, UINT64_MAX);
    sw_worker_emit_flush(w);
    __atomic_store_n(&w->now_us, ts_us, __ATOMIC_RELEASE);
    w->next_expire_us = ts_us + EXPIRE_EVERY_US;
}

static void *worker_main(void *arg)
{
    sw_worker *w = arg;
    sw_packet p;
    unsigned spins = 0;
    bool offline = false;
    for (;;) {
        sw_rec *r = sw_ring_peek(&w->ring);
        if (!r) {
            if (spins == 128) {
                sw_detect_offline(w); /* idle: do not hold up reclamation */
                offline = true;
            }
            sw_ring_backoff(&spins, 50);
            continue;
        }
        if (offline) {
            sw_detect_quiescent(w); /* back online before touching rules */
            offline = false;
        }
        spins = 0;
        if (r->type == SW_REC_STOP) {
            sw_ring_release(&w->ring, r);
            break;
        }
        if (r->type == SW_REC_TICK) {
            sw_worker_tick(w, r->ts_us);
        } else if (r->type == SW_REC_FLUSH) {
            sw_worker_restart_clock(w, r->ts_us);
        } else if (r->type == SW_REC_PACKET) {
            p.ts_us = r->ts_us;
            p.pcap_cnt = r->pcap_cnt;
            p.data = r->data;
            p.caplen = r->caplen;
            p.wirelen = r->wirelen;
            p.linktype = r->linktype;
            worker_packet_q(w, &p);
        } else {
            sw_detect_quiescent(w);
        }
        sw_ring_release(&w->ring, r);
    }
    sw_worker_flush(w);
    return NULL;
}

int sw_worker_start(sw_worker *w)
{
    return pthread_create(&w->thread, NULL, worker_main, w);
}

void sw_worker_join(sw_worker *w)
{
    pthread_join(w->thread, NULL);
}

static sw_worker *worker_new(sw_engine *e, int id, char *err, size_t errlen)
{
    sw_worker *w = calloc(1, sizeof(*w));
    if (!w) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    w->id = id;
    w->eng = e;
    w->ocap = EMIT_BATCH;
    w->obuf = malloc(w->ocap);
    if (!w->obuf) {
        snprintf(err, errlen, "out of memory");
        free(w);
        return NULL;
    }
    sw_dec_ctx_init(&w->dec, &e->cfg.dec);
    swj_init(&w->json);
    /* Limits are configured for the sensor; each worker gets its share. */
    sw_flow_config fc = e->cfg.flow;
    fc.max_flows = fc.max_flows / e->nworkers ? fc.max_flows / e->nworkers : 1;
    fc.memcap /= e->nworkers;
    sw_defrag_config dc = e->cfg.defrag;
    dc.memcap /= e->nworkers;
    dc.max_trackers = dc.max_trackers / e->nworkers ? dc.max_trackers / e->nworkers : 1;
    dc.max_frags = dc.max_frags / e->nworkers ? dc.max_frags / e->nworkers : 1;
    sw_stream_config sc = e->cfg.stream;
    sc.memcap /= e->nworkers;
    w->flows = sw_flow_table_new(&fc, on_flow_end, w);
    w->defrag = sw_defrag_new(&dc);
    w->streams = sw_stream_pool_new(&sc);
    if (!w->flows || !w->defrag || !w->streams ||
        (e->nworkers > 1 && sw_ring_init(&w->ring, e->cfg.ring_size) < 0)) {
        snprintf(err, errlen, "worker %d: out of memory for flow/defrag/stream tables", id);
        goto fail;
    }
    w->app = sw_app_worker_new(w, err, errlen);
    if (!w->app)
        goto fail;
    return w;
fail:
    sw_flow_table_free(w->flows);
    sw_defrag_free(w->defrag);
    sw_stream_pool_free(w->streams);
    sw_ring_destroy(&w->ring);
    swj_free(&w->json);
    free(w->obuf);
    free(w);
    return NULL;
}

static void worker_free(sw_worker *w)
{
    if (!w)
        return;
    sw_app_worker_free(w->app);
    sw_flow_table_free(w->flows);
    sw_defrag_free(w->defrag);
    sw_stream_pool_free(w->streams);
    sw_ring_destroy(&w->ring);
    swj_free(&w->json);
    free(w->obuf);
    free(w);
}

int sw_engine_init(sw_engine *e, char *err, size_t errlen)
{
    uint32_t n = e->cfg.workers;
    if (n == 0) {
        long cores = sysconf(_SC_NPROCESSORS_ONLN);
        n = cores > 0 ? (uint32_t)cores : 1;
    }
    if (n > SW_MAX_WORKERS)
        n = SW_MAX_WORKERS;
    e->nworkers = n;
    if (sw_app_shared_init(e, err, errlen) < 0)
        return -1;
    for (uint32_t i = 0; i < n; i++) {
        e->workers[i] = worker_new(e, (int)i, err, errlen);
        if (!e->workers[i])
            return -1;
    }
    return 0;
}

void sw_engine_fini(sw_engine *e)
{
    for (uint32_t i = 0; i < e->nworkers; i++) {
        worker_free(e->workers[i]);
        e->workers[i] = NULL;
    }
    sw_app_shared_fini(e);
}

size_t sw_engine_counter_groups(sw_engine *e, sw_ctr_group *out, size_t max)
{
    size_t n = 0;
    for (uint32_t i = 0; i < e->nworkers; i++) {
        sw_worker *w = e->workers[i];
        if (!w || n + 8 > max)
            break;
        out[n++] = sw_dec_counters(&w->dec);
        out[n++] = sw_defrag_counters(w->defrag);
        out[n++] = sw_flow_counters(w->flows);
        out[n++] = sw_stream_counters(w->streams);
        out[n++] = (sw_ctr_group){worker_ctr_names, w->ctr, SW_WORKER_CTR_COUNT};
        n += sw_app_counter_groups(w, out + n, max - n);
    }
    if (e->out && n < max)
        out[n++] = sw_outputs_counters(e->out);
    n += sw_app_shared_counter_groups(e, out + n, max - n);
    return n;
}
