/* Writes the contract's top-level "beacon" object of a beacon alert. The
 * caller writes the event envelope (timestamp = a->ts_us, flow_id, src/dest
 * from the alert's addresses, proto) and the "alert" object from
 * a->gid/signature_id/rev/signature/category/severity. */
#ifndef SW_EVE_BEACON_H
#define SW_EVE_BEACON_H

#include "sensor/beacon.h"
#include "sensor/json.h"

void sw_eve_beacon(sw_json *j, const sw_beacon_alert *a);

#endif
