/* EVE "tls" object (Suricata's field names, schema-valid fields only). */
#ifndef SW_EVE_TLS_H
#define SW_EVE_TLS_H

#include "decoders/tls.h"
#include "sensor/json.h"

/* Writes "tls": {...} into the event j is positioned in: subject,
 * issuerdn, serial, fingerprint, session_resumed, sni, version, notbefore,
 * notafter, ja3, ja3s, ja4, client_alpns, server_alpns -- each only when
 * known (version always, "UNDETERMINED" when the server said nothing). */
void sw_eve_tls(sw_json *j, const sw_tls_state *s);

#endif
