/* The EVE "dns" object, in Suricata 8's format (EVE DNS version 3): one
 * event per message, "type" "request" or "response", questions in
 * "queries", responses with "answers" (detailed), "grouped", "authorities"
 * and "additionals". See the comment at the top of eve_dns.c. */
#ifndef SW_EVE_DNS_H
#define SW_EVE_DNS_H

#include <stdbool.h>
#include <stdint.h>

#include "decoders/dns.h"
#include "sensor/cfg.h"
#include "sensor/json.h"

typedef struct sw_dns_config {
    bool log_detailed; /* "answers" array (Suricata format "detailed") */
    bool log_grouped;  /* "grouped" object (Suricata format "grouped") */
} sw_dns_config;

void sw_dns_config_defaults(sw_dns_config *c);
/* Keys: dns.eve.detailed, dns.eve.grouped (booleans). */
int sw_dns_config_load(const sw_cfg_node *root, sw_dns_config *c, char *err,
                       size_t errlen);

/* Write only the "dns" member of an event; the caller writes timestamp,
 * flow_id, addresses and event_type "dns" (or an alert's metadata).
 * Which one to call follows the direction the message travelled, as in
 * Suricata: to the server -> request, to the client -> response.
 * tx_id is the flow's transaction counter (Suricata's "tx_id"). */
void sw_eve_dns_query(sw_json *j, const sw_dns_msg *m, uint64_t tx_id);
void sw_eve_dns_answer(sw_json *j, const sw_dns_msg *m, uint64_t tx_id);
/* The same with an explicit config (NULL = defaults). */
void sw_eve_dns_write(sw_json *j, const sw_dns_msg *m, uint64_t tx_id,
                      bool response, const sw_dns_config *cfg);

#endif
