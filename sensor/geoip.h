/* GeoIP and ASN enrichment (libmaxminddb).
 *
 * Two optional databases: a City or Country database (country ISO code,
 * English country and city names) and an ASN database (AS number and
 * organisation). Either may be missing or broken: sw_geoip_open() then
 * returns what it could open (or NULL) and explains in warn; lookups on a
 * NULL handle simply find nothing. Private, reserved, loopback, link-local
 * and multicast addresses are never looked up.
 *
 * Lookups are read-only on the mapped databases and safe from any number of
 * threads at once. They allocate nothing. */
#ifndef SW_GEOIP_H
#define SW_GEOIP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/cfg.h"
#include "sensor/counters.h"
#include "sensor/json.h"

#define SW_GEOIP_PATH_MAX 1024

typedef struct sw_geoip_config {
    bool enabled;                        /* geoip.enabled (default yes) */
    char city_db[SW_GEOIP_PATH_MAX];     /* geoip.city-database ("" = none) */
    char asn_db[SW_GEOIP_PATH_MAX];      /* geoip.asn-database ("" = none) */
} sw_geoip_config;

/* Fixed-size result: strings are NUL-terminated UTF-8, truncated on a
 * character boundary when the database holds something longer. */
typedef struct sw_geoip_info {
    bool has_country, has_country_name, has_city, has_asn, has_as_org;
    char country_iso_code[4];
    char country_name[80];
    char city_name[96];
    uint32_t asn;
    char as_org[128];
} sw_geoip_info;

typedef struct sw_geoip sw_geoip;

void sw_geoip_config_defaults(sw_geoip_config *c);
int sw_geoip_config_load(const sw_cfg_node *root, sw_geoip_config *c, char *err,
                         size_t errlen);

/* NULL when no database could be opened (or none configured / disabled);
 * warn then says why ("" when nothing was configured). A handle with only
 * one of the two databases is returned with a warning about the other. */
sw_geoip *sw_geoip_open(const sw_geoip_config *c, char *warn, size_t warnlen);
void sw_geoip_close(sw_geoip *g);

/* family 4 or 6, addr in network order. True when anything was found; out
 * is always initialised. g may be NULL. */
bool sw_geoip_lookup(const sw_geoip *g, int family, const uint8_t *addr,
                     sw_geoip_info *out);

/* True for addresses that are not routed on the public Internet (RFC 1918,
 * CGNAT, loopback, link-local, multicast, documentation, ULA, ...). */
bool sw_geoip_is_private(int family, const uint8_t *addr);

/* Writes geoip: {src: {...}, dest: {...}} into the event j is positioned in,
 * with only the known fields; src/dst may be NULL. Returns false (and writes
 * nothing) when neither side has anything. */
bool sw_eve_geoip(sw_json *j, const sw_geoip_info *src, const sw_geoip_info *dst);

/* spanwatch.geoip.errors: lookups the database failed (corrupt data).
 * Only errors are counted: a shared counter per lookup would bounce one
 * cache line between every worker. */
sw_ctr_group sw_geoip_counters(const sw_geoip *g);

#endif
