/* The sensor's own settings and the sections of the modules it owns. */
#include <stdio.h>
#include <string.h>

#include "sensor/engine.h"

void sw_engine_config_defaults(sw_engine_config *c)
{
    memset(c, 0, sizeof(*c));
    c->workers = 0;
    c->ring_size = 32ULL << 20;
    c->max_worker_skew_us = 2ULL * 1000000;
    c->stats_interval_us = 60ULL * 1000000;
    c->ndpi = true;
    c->ndpi_max_packets = 12;
    c->health.stall_us = 60ULL * 1000000;
    c->health.drop_rate = 0.01;
    sw_dec_config_defaults(&c->dec);
    sw_defrag_config_defaults(&c->defrag);
    sw_flow_config_defaults(&c->flow);
    sw_stream_config_defaults(&c->stream);
    sw_live_config_defaults(&c->live);
    sw_outputs_config_defaults(&c->outputs);
}

int sw_engine_config_load(const sw_cfg_node *root, sw_engine_config *c, char *err,
                          size_t errlen)
{
    uint64_t workers = c->workers, ndpi_max = c->ndpi_max_packets;
    if (sw_cfg_get_u64(root, "threading.workers", &workers, err, errlen) ||
        sw_cfg_get_size(root, "threading.ring-size", &c->ring_size, err, errlen) ||
        sw_cfg_get_duration(root, "threading.max-worker-skew", &c->max_worker_skew_us, err,
                            errlen) ||
        sw_cfg_get_duration(root, "stats.interval", &c->stats_interval_us, err, errlen) ||
        sw_cfg_get_bool(root, "ndpi.enabled", &c->ndpi, err, errlen) ||
        sw_cfg_get_u64(root, "ndpi.max-packets", &ndpi_max, err, errlen) ||
        sw_cfg_get_duration(root, "health.stall-timeout", &c->health.stall_us, err, errlen) ||
        sw_cfg_get_double(root, "health.drop-rate", &c->health.drop_rate, err, errlen))
        return -1;
    if (workers > SW_MAX_WORKERS) {
        snprintf(err, errlen, "config: threading.workers: at most %d", SW_MAX_WORKERS);
        return -1;
    }
    if (c->ring_size < (1u << 20)) {
        snprintf(err, errlen, "config: threading.ring-size: at least 1mb");
        return -1;
    }
    if (ndpi_max < 1 || ndpi_max > 1000) {
        snprintf(err, errlen, "config: ndpi.max-packets: must be 1 .. 1000");
        return -1;
    }
    if (c->stats_interval_us < 1000000) {
        snprintf(err, errlen, "config: stats.interval: at least 1s");
        return -1;
    }
    c->workers = (uint32_t)workers;
    c->ndpi_max_packets = (uint32_t)ndpi_max;
    if (sw_dec_config_load(root, &c->dec, err, errlen) ||
        sw_defrag_config_load(root, &c->defrag, err, errlen) ||
        sw_flow_config_load(root, &c->flow, err, errlen) ||
        sw_stream_config_load(root, &c->stream, err, errlen) ||
        sw_live_config_load(root, &c->live, err, errlen) ||
        sw_outputs_config_load(root, &c->outputs, err, errlen))
        return -1;
    return 0;
}
