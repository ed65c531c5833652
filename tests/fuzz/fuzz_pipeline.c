/* The whole packet path: the input is a capture file (pcap or pcapng,
 * optionally gzip'ed, as the sensor reads it), replayed through one worker
 * of a real engine (decode, defrag, flows, stream reassembly, nDPI, DNS,
 * HTTP, TLS, files, signatures, IoC, beacons, EVE) exactly as
 * `spanwatch -r` does with --workers 1. The engine lives across inputs
 * (building it costs a second); after each input every flow is ended, so
 * each input also goes through flow-end, and a stats event is written.
 * Events go to /dev/null; the engine's small limits make memcaps reachable. */
#include "sensor/app.h"
#include "sensor/capture.h"
#include "sensor/detect.h"
#include "sensor/engine.h"
#include "sensor/eve.h"
#include "tests/fuzz/fuzz_common.h"

static sw_engine eng;
static sw_cfg_node *root;
static sw_json stats_js;

static const char *const config_yaml =
    "default-rule-path: " SW_SOURCE_DIR "/signatures/rules\n"
    "threading:\n  workers: 1\n"
    "flow:\n  max-flows: 2048\n  memcap: 4mb\n"
    "stream:\n  reassembly:\n    memcap: 1mb\n    depth: 256kb\n    max-segments: 64\n"
    "defrag:\n  memcap: 1mb\n  trackers: 256\n  max-frags: 1024\n"
    "outputs:\n  - eve-log:\n      enabled: yes\n      filetype: regular\n"
    "      filename: /dev/null\n      buffer-size: 4mb\n";

static void setup(void)
{
    char err[1024];
    root = sw_cfg_load_string(config_yaml, err, sizeof err);
    if (!root) {
        fprintf(stderr, "fuzz_pipeline: %s\n", err);
        abort();
    }
    eng.cfg_root = root;
    sw_engine_config_defaults(&eng.cfg);
    if (sw_engine_config_load(root, &eng.cfg, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_pipeline: %s\n", err);
        abort();
    }
    eng.cfg.workers = 1;
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    eng.out = sw_outputs_open(&eng.cfg.outputs, dir, err, sizeof err);
    if (!eng.out || sw_engine_init(&eng, err, sizeof err) < 0) {
        fprintf(stderr, "fuzz_pipeline: %s\n", err);
        abort();
    }
    swj_init(&stats_js);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eng.out)
        setup();
    char path[256];
    if (!fz_tempfile(path, sizeof path, ".pcap", data, size))
        return 0;
    char err[512];
    sw_capture *cap = sw_capture_open_file(path, err, sizeof err);
    unlink(path);
    if (!cap)
        return 0;
    sw_worker *w = eng.workers[0];
    int linktype = sw_capture_linktype(cap);
    uint64_t last_ts = 0, next_tick = 0, cnt = 0;
    for (;;) {
        struct pcap_pkthdr *h;
        const uint8_t *pkt;
        int rc = sw_capture_next(cap, &h, &pkt);
        if (rc != SW_CAP_PACKET)
            break;
        FZ_CHECK(h->caplen <= 262144 || pkt != NULL);
        sw_packet p;
        p.ts_us = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        p.pcap_cnt = ++cnt;
        p.data = pkt;
        p.caplen = h->caplen;
        p.wirelen = h->len;
        p.linktype = linktype;
        sw_worker_packet(w, &p);
        if (p.ts_us > last_ts)
            last_ts = p.ts_us;
        if (last_ts >= next_tick) {
            sw_worker_tick(w, last_ts);
            next_tick = last_ts + 1000000u;
        }
    }
    sw_capture_close(cap);
    sw_worker_flush(w);
    sw_app_housekeeping(&eng, last_ts);
    sw_ctr_group g[512];
    size_t n = sw_engine_counter_groups(&eng, g, 512);
    sw_eve_begin_plain(&stats_js, "stats", last_ts);
    sw_eve_stats(&stats_js, g, n, 0);
    FZ_CHECK(swj_finish(&stats_js) > 0);
    return 0;
}
