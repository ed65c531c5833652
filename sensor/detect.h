/* Detection: everything that decides. The app layer describes traffic and
 * calls these hooks; they run signatures, IoC lists, beacon tracking and
 * the built-in detectors, and write alert events. */
#ifndef SW_DETECT_H
#define SW_DETECT_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "decoders/dns.h"
#include "decoders/http.h"
#include "decoders/tls.h"
#include "sensor/engine.h"
#include "sensor/files.h"

struct sw_detect_shared;
struct sw_detect_worker;

int sw_detect_shared_init(sw_engine *e, char *err, size_t errlen);
void sw_detect_shared_fini(sw_engine *e);
struct sw_detect_worker *sw_detect_worker_new(sw_worker *w, char *err, size_t errlen);
void sw_detect_worker_free(struct sw_detect_worker *d);

/* Packet payload (TCP, UDP, ICMP, or no flow at all when f is NULL).
 * payload_streamed: the TCP payload was handed to stream reassembly, whose
 * in-order data sw_detect_stream inspects; payload rules then skip the
 * packet unless they need packet semantics (dsize, no_stream). */
void sw_detect_packet(sw_worker *w, sw_flow *f, const sw_packet *p, bool to_server,
                      bool payload_streamed);

/* Per flow direction: the end of the stream data already inspected, kept
 * so that a pattern split across chunks is found. Zero it with the flow. */
#define SW_DETECT_STREAM_TAIL 256
typedef struct sw_detect_stream_state {
    uint16_t tail_len;
    uint8_t tail[SW_DETECT_STREAM_TAIL];
} sw_detect_stream_state;

/* In-order reassembled TCP data of direction dir (0 to server), as the
 * stream hands it on; data NULL = a gap of len bytes. p: the packet that
 * delivered it when it travelled in direction dir (alert header), else
 * NULL (data released by an ACK of the other side or at flow end). */
void sw_detect_stream(sw_worker *w, sw_flow *f, const sw_packet *p, int dir, uint64_t ts_us,
                      sw_detect_stream_state *st, const uint8_t *data, uint32_t len);
void sw_detect_flow_start(sw_worker *w, sw_flow *f, const sw_packet *p);
void sw_detect_flow_end(sw_worker *w, sw_flow *f);
/* to_server: the direction the message travelled in the flow. */
void sw_detect_dns(sw_worker *w, sw_flow *f, const sw_dns_msg *m, bool response,
                   uint64_t ts_us, uint64_t tx_id, bool to_server);
/* A DNS message that could not be parsed (app-layer-event dns.malformed_data). */
void sw_detect_dns_malformed(sw_worker *w, sw_flow *f, bool to_server, uint64_t ts_us);
void sw_detect_http_request(sw_worker *w, sw_flow *f, const sw_http_tx *tx);
void sw_detect_http_response(sw_worker *w, sw_flow *f, const sw_http_tx *tx);
void sw_detect_file(sw_worker *w, sw_flow *f, const sw_http_tx *tx, const sw_file *file,
                    uint64_t ts_us);
void sw_detect_tls(sw_worker *w, sw_flow *f, const sw_tls_state *s, uint64_t ts_us);

/* Writes geoip context for an event about f (alerts and flow events). */
void sw_detect_geoip(sw_worker *w, sw_json *j, const uint8_t *src, const uint8_t *dst,
                     int family);

size_t sw_detect_counter_groups(sw_worker *w, sw_ctr_group *out, size_t max);
size_t sw_detect_shared_counter_groups(sw_engine *e, sw_ctr_group *out, size_t max);
void sw_detect_reload(sw_engine *e);
/* Worker between packets / going idle (ruleset reclamation). */
void sw_detect_quiescent(sw_worker *w);
void sw_detect_offline(sw_worker *w);
/* Around reading counters from outside the workers (stats). */
void sw_detect_reader_enter(sw_engine *e);
void sw_detect_reader_leave(sw_engine *e);
void sw_detect_housekeeping(sw_engine *e, uint64_t now_us);
/* Sensor Health alert (no flow): stall, drops, interface, output loss. */
void sw_detect_health_alert(sw_engine *e, sw_json *j, uint64_t ts_us, uint32_t sid,
                            const char *msg);

/* -T: prints the "rules:" and "ioc:" summary lines; non-zero = failure. */
int sw_detect_test_summary(sw_engine *e, FILE *out);
/* After the workers stopped: beacon observations still pending. */
void sw_detect_flush(sw_engine *e, sw_worker *w);
/* The rule engine's protocol id (sw_app_proto) of an app_proto name. */
int sw_detect_app_id(const char *app_proto);
/* Path of a bundled data file (installed copy, else the source tree). */
const char *sw_bundled_path(const char *rel, char *buf, size_t cap);

#endif
