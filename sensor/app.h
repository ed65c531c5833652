/* Application layer and detection glue: nDPI classification, TCP stream
 * delivery to the DNS/HTTP/TLS parsers, their EVE events, signature and
 * IoC matching, beacon check-ins. The worker calls these three entry points;
 * everything protocol-specific stays behind them. */
#ifndef SW_APP_H
#define SW_APP_H

#include <stdbool.h>

#include "sensor/engine.h"

int sw_app_shared_init(sw_engine *e, char *err, size_t errlen);
void sw_app_shared_fini(sw_engine *e);

struct sw_app_worker *sw_app_worker_new(sw_worker *w, char *err, size_t errlen);
void sw_app_worker_free(struct sw_app_worker *a);

/* A packet of flow f (after the flow table accounted it). */
void sw_app_packet(sw_worker *w, sw_flow *f, const sw_packet *p, bool to_server,
                   bool created);
/* f ends: flush streams and parsers, write the flow event, free state. */
void sw_app_flow_end(sw_worker *w, sw_flow *f, sw_flow_end_reason why);
/* Anomaly/alert events for packets that never got a flow. */
void sw_app_packet_no_flow(sw_worker *w, const sw_packet *p);

size_t sw_app_counter_groups(sw_worker *w, sw_ctr_group *out, size_t max);
size_t sw_app_shared_counter_groups(sw_engine *e, sw_ctr_group *out, size_t max);
/* SIGHUP: rebuild rules and IoC lists in the background and swap. */
void sw_app_reload(sw_engine *e);
/* Called by the reader between packets/periodically. */
void sw_app_housekeeping(sw_engine *e, uint64_t now_us);

/* app_proto of f for events ("http", "tls", nDPI's name, ...) or NULL. */
const char *sw_app_flow_proto(sw_worker *w, const sw_flow *f, char *buf, size_t cap);
struct sw_detect_worker *sw_app_detect(sw_worker *w);
/* The same as a rule-engine protocol id, cached with the name. */
int sw_app_flow_id(sw_worker *w, const sw_flow *f);
/* In-order bytes each side of a TCP flow has sent, plus one for its SYN
 * (Suricata's stream_size arithmetic); false before the flow has state.
 * Counts stop at the reassembly depth. */
bool sw_app_stream_sizes(const sw_flow *f, uint64_t *client, uint64_t *server);
/* The TLS version one side of f announced (client: ClientHello legacy
 * version; server: negotiated), 0 when unknown or not TLS. */
uint16_t sw_app_tls_version(const sw_flow *f, bool client);

#endif
