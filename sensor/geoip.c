#include "sensor/geoip.h"

#include <arpa/inet.h>
#include <maxminddb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

enum { GEO_CTR_ERRORS, GEO_CTR_N };
static const char *const geo_ctr_names[GEO_CTR_N] = {"spanwatch.geoip.errors"};

struct sw_geoip {
    MMDB_s city;
    MMDB_s asn;
    bool has_city, has_asn;
    uint64_t ctr[GEO_CTR_N];
};

void sw_geoip_config_defaults(sw_geoip_config *c)
{
    memset(c, 0, sizeof(*c));
    c->enabled = true;
}

static int load_path(const sw_cfg_node *root, const char *key, char *dst, char *err,
                     size_t errlen)
{
    const char *v = NULL;
    if (sw_cfg_get_str(root, key, &v, err, errlen) != 0)
        return -1;
    if (!v)
        return 0;
    if (strlen(v) >= SW_GEOIP_PATH_MAX) {
        snprintf(err, errlen, "config: %s: path too long", key);
        return -1;
    }
    strcpy(dst, v);
    return 0;
}

int sw_geoip_config_load(const sw_cfg_node *root, sw_geoip_config *c, char *err,
                         size_t errlen)
{
    if (sw_cfg_get_bool(root, "geoip.enabled", &c->enabled, err, errlen) != 0)
        return -1;
    if (load_path(root, "geoip.city-database", c->city_db, err, errlen) != 0)
        return -1;
    return load_path(root, "geoip.asn-database", c->asn_db, err, errlen);
}

static void warn_add(char *warn, size_t warnlen, const char *fmt, const char *a,
                     const char *b)
{
    if (!warn || !warnlen)
        return;
    size_t used = strnlen(warn, warnlen);
    if (used + 1 >= warnlen)
        return;
    snprintf(warn + used, warnlen - used, "%s", used ? "; " : "");
    used = strnlen(warn, warnlen);
    snprintf(warn + used, warnlen - used, fmt, a, b);
}

static bool open_db(const char *path, const char *what, MMDB_s *db, char *warn,
                    size_t warnlen)
{
    if (!path[0])
        return false;
    int rc = MMDB_open(path, MMDB_MODE_MMAP, db);
    if (rc != MMDB_SUCCESS) {
        char msg[1200];
        snprintf(msg, sizeof(msg), "geoip: %s database %s", what, path);
        warn_add(warn, warnlen, "%s: %s (no enrichment from it)", msg, MMDB_strerror(rc));
        return false;
    }
    return true;
}

sw_geoip *sw_geoip_open(const sw_geoip_config *c, char *warn, size_t warnlen)
{
    if (warn && warnlen)
        warn[0] = '\0';
    if (!c->enabled || (!c->city_db[0] && !c->asn_db[0]))
        return NULL;
    sw_geoip *g = calloc(1, sizeof(*g));
    if (!g) {
        warn_add(warn, warnlen, "%s%s", "geoip: out of memory", "");
        return NULL;
    }
    g->has_city = open_db(c->city_db, "city", &g->city, warn, warnlen);
    g->has_asn = open_db(c->asn_db, "asn", &g->asn, warn, warnlen);
    if (!g->has_city && !g->has_asn) {
        free(g);
        return NULL;
    }
    return g;
}

void sw_geoip_close(sw_geoip *g)
{
    if (!g)
        return;
    if (g->has_city)
        MMDB_close(&g->city);
    if (g->has_asn)
        MMDB_close(&g->asn);
    free(g);
}

static bool v4_private(const uint8_t *a)
{
    uint32_t x = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
    static const struct { uint32_t net, mask; } r[] = {
        {0x00000000, 0xff000000}, /* 0/8 this network */
        {0x0a000000, 0xff000000}, /* 10/8 */
        {0x64400000, 0xffc00000}, /* 100.64/10 CGNAT */
        {0x7f000000, 0xff000000}, /* 127/8 */
        {0xa9fe0000, 0xffff0000}, /* 169.254/16 link-local */
        {0xac100000, 0xfff00000}, /* 172.16/12 */
        {0xc0000000, 0xffffff00}, /* 192.0.0/24 IETF */
        {0xc0000200, 0xffffff00}, /* 192.0.2/24 TEST-NET-1 */
        {0xc0a80000, 0xffff0000}, /* 192.168/16 */
        {0xc6120000, 0xfffe0000}, /* 198.18/15 benchmarking */
        {0xc6336400, 0xffffff00}, /* 198.51.100/24 TEST-NET-2 */
        {0xcb007100, 0xffffff00}, /* 203.0.113/24 TEST-NET-3 */
        {0xe0000000, 0xf0000000}, /* 224/4 multicast */
        {0xf0000000, 0xf0000000}, /* 240/4 reserved + broadcast */
    };
    for (size_t i = 0; i < sizeof(r) / sizeof(r[0]); i++)
        if ((x & r[i].mask) == r[i].net)
            return true;
    return false;
}

bool sw_geoip_is_private(int family, const uint8_t *a)
{
    if (family == 4)
        return v4_private(a);
    if (family != 6)
        return true;
    static const uint8_t zero[16];
    if (memcmp(a, zero, 15) == 0 && (a[15] == 0 || a[15] == 1))
        return true; /* :: and ::1 */
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (memcmp(a, mapped, 12) == 0)
        return v4_private(a + 12);
    if (a[0] == 0xff)
        return true; /* multicast */
    if ((a[0] & 0xfe) == 0xfc)
        return true; /* fc00::/7 ULA */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0x80)
        return true; /* fe80::/10 link-local */
    if (a[0] == 0xfe && (a[1] & 0xc0) == 0xc0)
        return true; /* fec0::/10 old site-local */
    if (a[0] == 0x20 && a[1] == 0x01 && a[2] == 0x0d && a[3] == 0xb8)
        return true; /* 2001:db8::/32 documentation */
    if (a[0] == 0x01 && memcmp(a + 1, zero, 7) == 0)
        return true; /* 100::/64 discard */
    return false;
}

/* Copies a database string, cutting on a UTF-8 character boundary so a
 * truncated name never ends in half a character. */
static bool copy_str(const MMDB_entry_data_s *d, char *dst, size_t cap)
{
    if (!d->has_data || d->type != MMDB_DATA_TYPE_UTF8_STRING || d->data_size == 0)
        return false;
    size_t n = d->data_size;
    if (n >= cap) {
        n = cap - 1;
        while (n > 0 && ((uint8_t)d->utf8_string[n] & 0xc0) == 0x80)
            n--;
    }
    memcpy(dst, d->utf8_string, n);
    dst[n] = '\0';
    return n > 0;
}

static void count_error(const sw_geoip *g)
{
    __atomic_fetch_add((uint64_t *)&g->ctr[GEO_CTR_ERRORS], 1, __ATOMIC_RELAXED);
}

static bool lookup_db(const sw_geoip *g, const MMDB_s *db, const struct sockaddr *sa,
                      MMDB_entry_s *entry)
{
    int mmdb_err = MMDB_SUCCESS;
    MMDB_lookup_result_s r = MMDB_lookup_sockaddr(db, sa, &mmdb_err);
    if (mmdb_err != MMDB_SUCCESS) {
        count_error(g);
        return false;
    }
    if (!r.found_entry)
        return false;
    *entry = r.entry;
    return true;
}

static bool get_value(const sw_geoip *g, MMDB_entry_s *e, MMDB_entry_data_s *d,
                      const char *const *path)
{
    int rc = MMDB_aget_value(e, d, path);
    if (rc == MMDB_SUCCESS)
        return d->has_data;
    if (rc != MMDB_LOOKUP_PATH_DOES_NOT_MATCH_DATA_ERROR && rc != MMDB_INVALID_LOOKUP_PATH_ERROR)
        count_error(g);
    return false;
}

bool sw_geoip_lookup(const sw_geoip *g, int family, const uint8_t *addr, sw_geoip_info *out)
{
    memset(out, 0, sizeof(*out));
    if (!g || !addr || sw_geoip_is_private(family, addr))
        return false;
    struct sockaddr_storage ss;
    memset(&ss, 0, sizeof(ss));
    if (family == 4) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;
        s4->sin_family = AF_INET;
        memcpy(&s4->sin_addr, addr, 4);
    } else {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;
        s6->sin6_family = AF_INET6;
        memcpy(&s6->sin6_addr, addr, 16);
    }
    const struct sockaddr *sa = (const struct sockaddr *)&ss;
    MMDB_entry_s e;
    MMDB_entry_data_s d;
    if (g->has_city && lookup_db(g, &g->city, sa, &e)) {
        static const char *const p_iso[] = {"country", "iso_code", NULL};
        static const char *const p_cname[] = {"country", "names", "en", NULL};
        static const char *const p_reg_iso[] = {"registered_country", "iso_code", NULL};
        static const char *const p_reg_name[] = {"registered_country", "names", "en", NULL};
        static const char *const p_city[] = {"city", "names", "en", NULL};
        /* Anycast and satellite ranges carry only registered_country. */
        if (get_value(g, &e, &d, p_iso))
            out->has_country = copy_str(&d, out->country_iso_code, sizeof(out->country_iso_code));
        else if (get_value(g, &e, &d, p_reg_iso))
            out->has_country = copy_str(&d, out->country_iso_code, sizeof(out->country_iso_code));
        if (get_value(g, &e, &d, p_cname))
            out->has_country_name = copy_str(&d, out->country_name, sizeof(out->country_name));
        else if (get_value(g, &e, &d, p_reg_name))
            out->has_country_name = copy_str(&d, out->country_name, sizeof(out->country_name));
        if (get_value(g, &e, &d, p_city))
            out->has_city = copy_str(&d, out->city_name, sizeof(out->city_name));
    }
    if (g->has_asn && lookup_db(g, &g->asn, sa, &e)) {
        static const char *const p_asn[] = {"autonomous_system_number", NULL};
        static const char *const p_org[] = {"autonomous_system_organization", NULL};
        if (get_value(g, &e, &d, p_asn)) {
            if (d.type == MMDB_DATA_TYPE_UINT32) {
                out->asn = d.uint32;
                out->has_asn = true;
            } else if (d.type == MMDB_DATA_TYPE_UINT16) {
                out->asn = d.uint16;
                out->has_asn = true;
            }
        }
        if (get_value(g, &e, &d, p_org))
            out->has_as_org = copy_str(&d, out->as_org, sizeof(out->as_org));
    }
    return out->has_country || out->has_country_name || out->has_city || out->has_asn ||
           out->has_as_org;
}

static bool info_any(const sw_geoip_info *i)
{
    return i && (i->has_country || i->has_country_name || i->has_city || i->has_asn ||
                 i->has_as_org);
}

static void write_side(sw_json *j, const char *key, const sw_geoip_info *i)
{
    swj_open_object(j, key);
    if (i->has_country)
        swj_str(j, "country_iso_code", i->country_iso_code);
    if (i->has_country_name)
        swj_str(j, "country_name", i->country_name);
    if (i->has_city)
        swj_str(j, "city_name", i->city_name);
    if (i->has_asn)
        swj_uint(j, "asn", i->asn);
    if (i->has_as_org)
        swj_str(j, "as_org", i->as_org);
    swj_close_object(j);
}

bool sw_eve_geoip(sw_json *j, const sw_geoip_info *src, const sw_geoip_info *dst)
{
    bool s = info_any(src), d = info_any(dst);
    if (!s && !d)
        return false;
    swj_open_object(j, "geoip");
    if (s)
        write_side(j, "src", src);
    if (d)
        write_side(j, "dest", dst);
    swj_close_object(j);
    return true;
}

sw_ctr_group sw_geoip_counters(const sw_geoip *g)
{
    static const uint64_t zero[GEO_CTR_N];
    sw_ctr_group grp = {geo_ctr_names, g ? g->ctr : zero, GEO_CTR_N};
    return grp;
}
