/* Sizes and durations near the top of the 64-bit range (sensor/cfg.c):
 * what the config says is what the sensor uses, or the key is refused --
 * never a silently different number. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/cfg.h"

static int get_size(const char *yaml, uint64_t *v)
{
    char err[256] = "";
    sw_cfg_node *root = sw_cfg_load_string(yaml, err, sizeof err);
    assert_non_null(root);
    int rc = sw_cfg_get_size(root, "x", v, err, sizeof err);
    sw_cfg_free(root);
    return rc;
}

static int get_duration(const char *yaml, uint64_t *v)
{
    char err[256] = "";
    sw_cfg_node *root = sw_cfg_load_string(yaml, err, sizeof err);
    assert_non_null(root);
    int rc = sw_cfg_get_duration(root, "x", v, err, sizeof err);
    sw_cfg_free(root);
    return rc;
}

/* Above 2^63 the value used to come back as 2^63 (llround's overflow). */
static void test_size_above_2_63(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(get_size("x: 10000000000000000000\n", &v), 0);
    assert_true(v == 10000000000000000000ULL);
    v = 0;
    assert_int_equal(get_size("x: 16000000000gb\n", &v), 0);
    assert_true(v == 16000000000ULL << 30);
}

static void test_duration_above_2_63(void **state)
{
    (void)state;
    uint64_t v = 0;
    /* 120000 years in microseconds: about 3.8e18 * 2.5 */
    assert_int_equal(get_duration("x: 110000000d\n", &v), 0);
    assert_true(v == 110000000ULL * 86400000000ULL);
}

static void test_beyond_u64_refused(void **state)
{
    (void)state;
    uint64_t v = 7;
    assert_int_not_equal(get_size("x: 20000000000gb\n", &v), 0);
    assert_int_not_equal(get_size("x: 18446744073709551616\n", &v), 0);
    assert_int_not_equal(get_duration("x: 300000000d\n", &v), 0);
    assert_true(v == 7);
}

static void test_small_values_round(void **state)
{
    (void)state;
    uint64_t v = 0;
    assert_int_equal(get_size("x: 1.5kb\n", &v), 0);
    assert_true(v == 1536);
    assert_int_equal(get_duration("x: 2.5ms\n", &v), 0);
    assert_true(v == 2500);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_size_above_2_63),
        cmocka_unit_test(test_duration_above_2_63),
        cmocka_unit_test(test_beyond_u64_refused),
        cmocka_unit_test(test_small_values_round),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
