/* IoC feeds often carry a distinct "source" per row (a report URL or an
 * id). List and source names are interned in a table of 16-bit ids; when
 * it filled, the loader treated that as out of memory and failed the whole
 * load ("out of memory", no IoC matching at all). The indicators must load;
 * only names past the table's capacity are dropped, and that is noted. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "signatures/ioc.h"

#define ROWS 66000 /* more than the 65535 names the table holds */

static void test_many_sources_load(void **st)
{
    (void)st;
    char path[128];
    snprintf(path, sizeof path, "/tmp/sw_test_ioc_names_%d.csv", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fprintf(f, "indicator,source\n");
    for (int i = 0; i < ROWS; i++)
        fprintf(f, "h%d.example.com,report-%d\n", i, i);
    assert_int_equal(fclose(f), 0);

    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    c.enabled = true;
    c.n_lists = 1;
    memset(&c.lists[0], 0, sizeof c.lists[0]);
    c.lists[0].path = path;
    c.lists[0].name = "feed";
    c.lists[0].format = SW_IOC_FMT_CSV;
    static sw_ioc_report r;
    memset(&r, 0, sizeof r);
    sw_ioc_db *db = sw_ioc_load(&c, &r);
    unlink(path);
    assert_string_equal(r.fatal, "");
    assert_non_null(db);
    assert_int_equal(sw_ioc_count(db), ROWS);
    assert_int_equal(r.skipped, 0);
    /* the capacity was hit and said so */
    bool noted = false;
    for (size_t i = 0; i < r.n_errors; i++)
        noted |= strstr(r.errors[i], "distinct list/source names") != NULL;
    assert_true(noted);

    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "h5.example.com", 14, &h));
    assert_string_equal(h.list, "feed");
    assert_non_null(h.source);
    assert_string_equal(h.source, "report-5");
    char last[64];
    int n = snprintf(last, sizeof last, "h%d.example.com", ROWS - 1);
    memset(&h, 0, sizeof h);
    assert_true(sw_ioc_match_domain(db, last, (size_t)n, &h));
    assert_string_equal(h.list, "feed");
    assert_null(h.source);
    sw_ioc_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_many_sources_load),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
