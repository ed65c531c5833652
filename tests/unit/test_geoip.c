/* GeoIP enrichment against MaxMind's own test databases (../shared/geoip,
 * answers from its MANIFEST.tsv and the source-data JSON). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/geoip.h"
#include "tests/unit/testutil.h"

static char g_geo[1024];

static void geo_path(char *dst, size_t cap, const char *file)
{
    /* a too-long path only fails the lookup that uses it */
    int n = snprintf(dst, cap, "%.900s/%.100s", g_geo, file);
    (void)n;
}

static sw_geoip *open_both(const char *city, const char *asn, char *warn, size_t wl)
{
    sw_geoip_config c;
    sw_geoip_config_defaults(&c);
    if (city)
        geo_path(c.city_db, sizeof(c.city_db), city);
    if (asn)
        geo_path(c.asn_db, sizeof(c.asn_db), asn);
    return sw_geoip_open(&c, warn, wl);
}

static bool lookup_str(const sw_geoip *g, const char *ip, sw_geoip_info *out)
{
    uint8_t a[16];
    if (strchr(ip, ':')) {
        assert_int_equal(inet_pton(AF_INET6, ip, a), 1);
        return sw_geoip_lookup(g, 6, a, out);
    }
    assert_int_equal(inet_pton(AF_INET, ip, a), 1);
    return sw_geoip_lookup(g, 4, a, out);
}

static void test_city_and_asn(void **state)
{
    (void)state;
    char warn[512];
    sw_geoip *g = open_both("GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", warn, sizeof(warn));
    assert_non_null(g);
    assert_string_equal(warn, "");
    sw_geoip_info i;
    assert_true(lookup_str(g, "81.2.69.142", &i));
    assert_true(i.has_country && i.has_country_name && i.has_city);
    assert_string_equal(i.country_iso_code, "GB");
    assert_string_equal(i.country_name, "United Kingdom");
    assert_string_equal(i.city_name, "London");
    assert_false(i.has_asn);

    assert_true(lookup_str(g, "2001:218::1", &i));
    assert_string_equal(i.country_iso_code, "JP");
    assert_string_equal(i.country_name, "Japan");
    assert_false(i.has_city);

    assert_true(lookup_str(g, "1.128.0.1", &i));
    assert_true(i.has_asn);
    assert_int_equal(i.asn, 1221);
    assert_string_equal(i.as_org, "Telstra Pty Ltd");
    assert_true(lookup_str(g, "1.0.0.77", &i));
    assert_int_equal(i.asn, 15169);
    assert_string_equal(i.as_org, "Google Inc.");
    assert_true(lookup_str(g, "16.1.2.3", &i));
    assert_int_equal(i.asn, 71);

    /* Public but absent from both test databases. */
    assert_false(lookup_str(g, "8.8.8.8", &i));
    sw_geoip_close(g);
}

static void test_private_skipped(void **state)
{
    (void)state;
    char warn[512];
    sw_geoip *g = open_both("GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", warn, sizeof(warn));
    assert_non_null(g);
    const char *priv[] = {"10.1.2.3", "192.168.0.1", "172.20.0.1", "127.0.0.1", "169.254.1.1",
                          "100.64.0.1", "224.0.0.251", "255.255.255.255", "0.0.0.0",
                          "::1", "::", "fe80::1", "fd00::1", "ff02::fb", "2001:db8::1",
                          "::ffff:10.0.0.1"};
    sw_geoip_info i;
    for (size_t k = 0; k < sizeof(priv) / sizeof(priv[0]); k++) {
        assert_false(lookup_str(g, priv[k], &i));
        assert_false(i.has_country || i.has_asn);
    }
    /* The mapped form of a public address is public. */
    uint8_t a[16];
    inet_pton(AF_INET6, "::ffff:81.2.69.142", a);
    assert_false(sw_geoip_is_private(6, a));
    sw_geoip_close(g);
}

static void test_missing_db(void **state)
{
    (void)state;
    char warn[512];
    sw_geoip *g = open_both("does-not-exist.mmdb", NULL, warn, sizeof(warn));
    assert_null(g);
    assert_non_null(strstr(warn, "does-not-exist.mmdb"));
    /* One good, one missing: partial handle plus warning. */
    g = open_both("GeoIP2-Country-Test.mmdb", "nope.mmdb", warn, sizeof(warn));
    assert_non_null(g);
    assert_non_null(strstr(warn, "nope.mmdb"));
    sw_geoip_info i;
    assert_true(lookup_str(g, "81.2.69.142", &i));
    assert_string_equal(i.country_iso_code, "GB");
    assert_false(i.has_city); /* Country DB knows no cities */
    assert_false(i.has_asn);
    sw_geoip_close(g);
    /* Nothing configured: no handle, no warning, lookups find nothing. */
    g = open_both(NULL, NULL, warn, sizeof(warn));
    assert_null(g);
    assert_string_equal(warn, "");
    assert_false(lookup_str(NULL, "81.2.69.142", &i));
}

/* Every address class the test DBs cover, plus a sweep, on a broken DB. */
static void hammer(const sw_geoip *g)
{
    sw_geoip_info i;
    const char *ips[] = {"1.1.1.1", "1.1.1.3", "1.1.1.32", "81.2.69.142", "2001:218::1",
                         "::1.1.1.1", "216.160.83.56", "2.125.160.216", "89.160.20.112"};
    for (size_t k = 0; k < sizeof(ips) / sizeof(ips[0]); k++)
        lookup_str(g, ips[k], &i);
    uint8_t a[4];
    for (unsigned x = 1; x < 224; x += 3) {
        a[0] = (uint8_t)x;
        a[1] = (uint8_t)(x * 7);
        a[2] = (uint8_t)(x * 13);
        a[3] = (uint8_t)x;
        sw_geoip_lookup(g, 4, a, &i);
    }
}

static void try_bad(const char *path)
{
    sw_geoip_config c;
    sw_geoip_config_defaults(&c);
    snprintf(c.city_db, sizeof(c.city_db), "%s", path);
    snprintf(c.asn_db, sizeof(c.asn_db), "%s", path);
    char warn[1024];
    sw_geoip *g = sw_geoip_open(&c, warn, sizeof(warn));
    if (!g)
        assert_true(warn[0] != '\0'); /* refused, and said why */
    hammer(g);
    sw_geoip_close(g);
}

static void test_bad_data(void **state)
{
    (void)state;
    char dir[1100];
    geo_path(dir, sizeof(dir), "bad-data");
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.')
            continue;
        char p[2200];
        snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        try_bad(p);
        n++;
    }
    closedir(d);
    assert_true(n >= 3);
    /* The deliberately broken databases among the regular test data. */
    const char *broken[] = {"GeoIP2-City-Test-Broken-Double-Format.mmdb",
                            "GeoIP2-City-Test-Invalid-Node-Count.mmdb",
                            "MaxMind-DB-test-broken-pointers-24.mmdb",
                            "MaxMind-DB-test-broken-search-tree-24.mmdb",
                            "MaxMind-DB-test-decoder.mmdb", "MaxMind-DB-test-nested.mmdb",
                            "MaxMind-DB-string-value-entries.mmdb"};
    for (size_t k = 0; k < sizeof(broken) / sizeof(broken[0]); k++) {
        char p[1200];
        geo_path(p, sizeof(p), broken[k]);
        try_bad(p);
    }
    /* A file that is not a database at all. */
    char p[1200];
    geo_path(p, sizeof(p), "MANIFEST.tsv");
    try_bad(p);
}

static void *lookup_thread(void *arg)
{
    const sw_geoip *g = arg;
    uint8_t a[4] = {81, 2, 69, 142}, b[4] = {1, 128, 0, 1};
    for (int k = 0; k < 20000; k++) {
        sw_geoip_info i;
        if (!sw_geoip_lookup(g, 4, a, &i) || strcmp(i.city_name, "London") != 0)
            return (void *)1;
        if (!sw_geoip_lookup(g, 4, b, &i) || i.asn != 1221)
            return (void *)1;
    }
    return NULL;
}

static void test_threads(void **state)
{
    (void)state;
    char warn[512];
    sw_geoip *g = open_both("GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", warn, sizeof(warn));
    assert_non_null(g);
    pthread_t t[4];
    for (int k = 0; k < 4; k++)
        assert_int_equal(pthread_create(&t[k], NULL, lookup_thread, g), 0);
    for (int k = 0; k < 4; k++) {
        void *rv;
        pthread_join(t[k], &rv);
        assert_null(rv);
    }
    sw_ctr_group grp = sw_geoip_counters(g);
    assert_int_equal(grp.n, 1);
    assert_int_equal(grp.vals[0], 0);
    sw_geoip_close(g);
}

static void test_eve(void **state)
{
    (void)state;
    char warn[512];
    sw_geoip *g = open_both("GeoIP2-City-Test.mmdb", "GeoLite2-ASN-Test.mmdb", warn, sizeof(warn));
    sw_json j;
    swj_init(&j);
    sw_geoip_info s, d;
    uint8_t priv[4] = {192, 168, 1, 5}, pub[4] = {81, 2, 69, 142}, asn[4] = {1, 128, 0, 1};

    swj_reset(&j);
    swj_str(&j, "event_type", "flow");
    sw_geoip_lookup(g, 4, priv, &s);
    sw_geoip_lookup(g, 4, pub, &d);
    assert_true(sw_eve_geoip(&j, &s, &d));
    size_t n = swj_finish(&j);
    assert_true(n > 0);
    assert_string_equal(j.buf, "{\"event_type\":\"flow\",\"geoip\":{\"dest\":{\"country_iso_code\":"
                               "\"GB\",\"country_name\":\"United Kingdom\",\"city_name\":"
                               "\"London\"}}}\n");

    swj_reset(&j);
    sw_geoip_lookup(g, 4, asn, &s);
    assert_true(sw_eve_geoip(&j, &s, NULL));
    swj_finish(&j);
    assert_string_equal(j.buf, "{\"geoip\":{\"src\":{\"asn\":1221,\"as_org\":\"Telstra Pty Ltd\"}}}\n");

    swj_reset(&j);
    swj_str(&j, "x", "y");
    sw_geoip_lookup(g, 4, priv, &s);
    sw_geoip_lookup(g, 4, priv, &d);
    assert_false(sw_eve_geoip(&j, &s, &d));
    assert_false(sw_eve_geoip(&j, NULL, NULL));
    swj_finish(&j);
    assert_string_equal(j.buf, "{\"x\":\"y\"}\n");
    swj_free(&j);
    sw_geoip_close(g);
}

static void test_config(void **state)
{
    (void)state;
    char err[256] = "";
    sw_cfg_node *root = sw_cfg_load_string("geoip:\n  city-database: /x/City.mmdb\n"
                                           "  asn-database: /x/ASN.mmdb\n", err, sizeof(err));
    assert_non_null(root);
    sw_geoip_config c;
    sw_geoip_config_defaults(&c);
    assert_int_equal(sw_geoip_config_load(root, &c, err, sizeof(err)), 0);
    assert_string_equal(c.city_db, "/x/City.mmdb");
    assert_string_equal(c.asn_db, "/x/ASN.mmdb");
    assert_true(c.enabled);
    sw_cfg_free(root);
    root = sw_cfg_load_string("geoip:\n  enabled: maybe\n", err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_geoip_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "geoip.enabled"));
    sw_cfg_free(root);
}

int main(void)
{
    snprintf(g_geo, sizeof(g_geo), "%s/../shared/geoip", tu_srcdir());
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_city_and_asn), cmocka_unit_test(test_private_skipped),
        cmocka_unit_test(test_missing_db),   cmocka_unit_test(test_bad_data),
        cmocka_unit_test(test_threads),      cmocka_unit_test(test_eve),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
