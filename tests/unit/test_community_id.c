/* Community ID against the spec's official vectors (shared/community-id). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/community_id.h"

static int parse_addr(const char *s, uint8_t *out)
{
    if (strchr(s, ':'))
        return inet_pton(AF_INET6, s, out) == 1 ? 6 : 0;
    return inet_pton(AF_INET, s, out) == 1 ? 4 : 0;
}

/* Extracts "key": value (string or number or null) from one JSON object. */
static int field(const char *obj, const char *key, char *out, size_t cap)
{
    char pat[32];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = strstr(obj, pat);
    if (!p)
        return -1;
    p += strlen(pat);
    size_t n = 0;
    if (*p == '"') {
        p++;
        while (*p && *p != '"' && n + 1 < cap)
            out[n++] = *p++;
    } else {
        while (*p && *p != ',' && *p != '}' && n + 1 < cap)
            out[n++] = *p++;
    }
    out[n] = '\0';
    return 0;
}

static int run_file(const char *name, uint16_t seed)
{
    char path[512];
    const char *src = getenv("SW_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/../shared/community-id/%s", src ? src : ".", name);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    int checked = 0;
    for (char *o = strchr(buf, '{'); o; o = strchr(o + 1, '{')) {
        char *end = strchr(o, '}');
        assert_non_null(end);
        char obj[1024];
        size_t olen = (size_t)(end - o + 1);
        assert_true(olen < sizeof obj);
        memcpy(obj, o, olen);
        obj[olen] = '\0';
        char proto[8], sa[64], da[64], sp[16], dp[16], want[64];
        assert_int_equal(field(obj, "proto", proto, sizeof proto), 0);
        field(obj, "saddr", sa, sizeof sa);
        field(obj, "daddr", da, sizeof da);
        field(obj, "sport", sp, sizeof sp);
        field(obj, "dport", dp, sizeof dp);
        field(obj, "communityid", want, sizeof want);
        uint8_t s[16] = {0}, d[16] = {0};
        int fam = parse_addr(sa, s);
        assert_int_equal(parse_addr(da, d), fam);
        uint16_t sport = strcmp(sp, "null") ? (uint16_t)atoi(sp) : 0;
        uint16_t dport = strcmp(dp, "null") ? (uint16_t)atoi(dp) : 0;
        char got[32];
        sw_community_id(seed, fam, s, d, (uint8_t)atoi(proto), sport, dport, got);
        if (strcmp(got, want) != 0)
            fail_msg("%s proto %s %s:%s -> %s:%s: got %s want %s", name, proto, sa, sp,
                     da, dp, got, want);
        checked++;
    }
    return checked;
}

static void test_spec_vectors_seed0(void **state)
{
    (void)state;
    assert_true(run_file("baseline_deflt.json", 0) >= 20);
}

static void test_spec_vectors_seed1(void **state)
{
    (void)state;
    assert_true(run_file("baseline_seed1.json", 1) >= 20);
}

static void test_issue_vector(void **state)
{
    (void)state;
    uint8_t s[4] = {1, 2, 3, 4}, d[4] = {5, 6, 7, 8};
    char got[32];
    sw_community_id(0, 4, s, d, 6, 1122, 3344, got);
    assert_string_equal(got, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
    /* the reverse direction gives the same id */
    sw_community_id(0, 4, d, s, 6, 3344, 1122, got);
    assert_string_equal(got, "1:wCb3OG7yAFWelaUydu0D+125CLM=");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_spec_vectors_seed0),
        cmocka_unit_test(test_spec_vectors_seed1),
        cmocka_unit_test(test_issue_vector),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
