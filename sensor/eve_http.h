/* EVE serialisers for the "http" and "fileinfo" objects, with Suricata's
 * field names (schema properties.http / properties.fileinfo). Each writes
 * its own object into an event the caller has open. */
#ifndef SW_EVE_HTTP_H
#define SW_EVE_HTTP_H

#include "decoders/http.h"
#include "sensor/files.h"
#include "sensor/json.h"

/* "http": {hostname, http_port, url, http_user_agent, xff, http_content_type,
 * http_refer, http_method, protocol, status|status_string, redirect, length} */
void sw_eve_http(sw_json *j, const sw_http_tx *tx);

/* The http event's object: sw_eve_http plus, as Suricata's dump-all-headers,
 * "request_headers" / "response_headers": [{name, value}] for the
 * SW_HTTP_DUMP_* bits in dump (sw_http_config.dump_all_headers). Suricata
 * lists headers only in the http event, never in alert or fileinfo. */
void sw_eve_http_event(sw_json *j, const sw_http_tx *tx, unsigned dump);

/* Suricata's app-layer anomaly object for one SW_HTTP_EV_* bit of
 * tx->events: "anomaly": {app_proto "http", type "applayer", event,
 * layer "proto_parser"}; the caller's header carries tx_id. */
void sw_eve_http_anomaly(sw_json *j, unsigned bit);

/* "fileinfo": {filename, magic, gaps, state, md5, sha1 (CLOSED only),
 * sha256, stored, size, tx_id}. The content-type mismatch and the kind have
 * no place in Suricata's fileinfo; they stay in sw_file for alerts. */
void sw_eve_fileinfo(sw_json *j, const sw_file *f);

#endif
