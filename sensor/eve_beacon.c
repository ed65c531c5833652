#include "sensor/eve_beacon.h"

void sw_eve_beacon(sw_json *j, const sw_beacon_alert *a)
{
    swj_open_object(j, "beacon");
    swj_str(j, "kind", a->is_dns ? "dns" : "flow");
    swj_double(j, "period", a->period_s);
    swj_double(j, "jitter", a->jitter);
    swj_uint(j, "count", a->count);
    swj_double(j, "score", a->score);
    swj_ts(j, "first_seen", a->first_seen_us);
    swj_ts(j, "last_seen", a->last_seen_us);
    if (a->is_dns && a->rrname[0])
        swj_str(j, "rrname", a->rrname);
    if (!a->is_dns && a->server_name[0])
        swj_str(j, "server_name", a->server_name);
    swj_open_array(j, "intervals");
    for (int i = 0; i < a->n_intervals && i < SW_BEACON_MAX_INTERVALS; i++)
        swj_double(j, NULL, a->intervals_s[i]);
    swj_close_array(j);
    swj_close_object(j);
}
