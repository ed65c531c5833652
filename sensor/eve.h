/* Common parts of EVE events: the header every event carries, and the
 * events the core itself writes (flow, anomaly, stats, sensor health).
 * Module serialisers (eve_dns, eve_http, ...) write only their object. */
#ifndef SW_EVE_H
#define SW_EVE_H

#include <stdbool.h>
#include <stdint.h>

#include "decoders/packet.h"
#include "sensor/counters.h"
#include "sensor/flow.h"
#include "sensor/json.h"

/* Header of a flow-bound event: timestamp, flow_id, [pcap_cnt], event_type,
 * addresses, proto, community_id, app_proto. Oriented client -> server, or
 * server -> client when to_client (a DNS response, say, as Suricata does).
 * pcap_cnt 0 is left out (flow events). */
void sw_eve_begin_flow(sw_json *j, const char *event_type, uint64_t ts_us,
                       const sw_flow *f, const char *app_proto, uint64_t pcap_cnt,
                       bool to_client);
/* Header oriented as the packet travels (alerts, anomalies). f may be NULL. */
void sw_eve_begin_packet(sw_json *j, const char *event_type, const sw_packet *p,
                         const sw_flow *f, const char *app_proto);
/* Header without addresses (stats, sensor health). */
void sw_eve_begin_plain(sw_json *j, const char *event_type, uint64_t ts_us);

/* The "flow" and "tcp" objects of a flow event. */
void sw_eve_flow_body(sw_json *j, const sw_flow *f, sw_flow_end_reason why);

const char *sw_proto_name(uint8_t proto, char buf[8]);

/* Sums counter groups by path and writes them as the nested "stats"
 * object. groups may repeat paths (one group per worker). */
void sw_eve_stats(sw_json *j, const sw_ctr_group *groups, size_t ngroups,
                  uint64_t uptime_s);

#endif
