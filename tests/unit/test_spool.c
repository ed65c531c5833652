/* Disk spool: order, persistence of the delivered cursor across reopen,
 * crash leftovers (partial last line), size bound. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/spool.h"
#include "tests/unit/testutil.h"

static char *mkdtemp_dir(void)
{
    static char d[64];
    assert_int_equal(tu_mkdtemp(d, sizeof(d), "sw-spool"), 0);
    return d;
}

static void rmrf(const char *d)
{
    assert_int_equal(tu_rmrf(d), 0);
}

static void test_order_and_reopen(void **state)
{
    (void)state;
    char *dir = mkdtemp_dir();
    char err[256], sub[128];
    snprintf(sub, sizeof(sub), "%s/a/b", dir);
    sw_spool *s = sw_spool_open(sub, 1 << 20, err, sizeof(err));
    assert_non_null(s);
    assert_true(sw_spool_empty(s));
    char line[64];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(line, sizeof(line), "{\"n\":%d}\n", i);
        assert_int_equal(sw_spool_append(s, line, (size_t)n), n);
    }
    char buf[4096];
    size_t n = sw_spool_peek(s, buf, 40, NULL); /* cut at a line end */
    assert_true(n > 0 && n <= 40 && buf[n - 1] == '\n');
    assert_memory_equal(buf, "{\"n\":0}\n{\"n\":1}\n", 16);
    assert_int_equal(sw_spool_consume(s, 16), 0);
    sw_spool_close(s);

    /* A crash left a partial line: trimmed on open, delivery resumes at
     * line 2. */
    char seg[200];
    snprintf(seg, sizeof(seg), "%s/0000000000000001.seg", sub);
    int fd = open(seg, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "{\"n\":10", 7), 7);
    close(fd);
    s = sw_spool_open(sub, 1 << 20, err, sizeof(err));
    assert_non_null(s);
    int expect = 2;
    uint64_t skipped = 0;
    while ((n = sw_spool_peek(s, buf, sizeof(buf), &skipped)) > 0) {
        char *p = buf;
        while (p < buf + n) {
            int v;
            assert_int_equal(sscanf(p, "{\"n\":%d}", &v), 1);
            assert_int_equal(v, expect++);
            p = strchr(p, '\n') + 1;
        }
        sw_spool_consume(s, n);
    }
    assert_int_equal(expect, 100);
    assert_int_equal(skipped, 0);
    assert_true(sw_spool_empty(s));
    /* Appending after a full drain works and is seen after reopen. */
    assert_int_equal(sw_spool_append(s, "x\n", 2), 2);
    sw_spool_close(s);
    s = sw_spool_open(sub, 1 << 20, err, sizeof(err));
    assert_int_equal(sw_spool_pending(s), 2);
    n = sw_spool_peek(s, buf, sizeof(buf), NULL);
    assert_int_equal(n, 2);
    sw_spool_close(s);
    rmrf(dir);
}

static void test_bound(void **state)
{
    (void)state;
    char *dir = mkdtemp_dir();
    char err[256];
    sw_spool *s = sw_spool_open(dir, 25, err, sizeof(err));
    assert_non_null(s);
    /* 3 lines of 10 bytes: only 2 fit; the cut is at a line end. */
    assert_int_equal(sw_spool_append(s, "123456789\n123456789\n123456789\n", 30), 20);
    assert_int_equal(sw_spool_append(s, "abcdefghi\n", 10), 0);
    char buf[64];
    size_t n = sw_spool_peek(s, buf, sizeof(buf), NULL);
    assert_int_equal(n, 20);
    sw_spool_consume(s, n);
    assert_true(sw_spool_empty(s));
    assert_int_equal(sw_spool_append(s, "abcdefghi\n", 10), 10);
    sw_spool_close(s);
    rmrf(dir);
}

static void test_long_line_skipped(void **state)
{
    (void)state;
    char *dir = mkdtemp_dir();
    char err[256];
    sw_spool *s = sw_spool_open(dir, 1 << 20, err, sizeof(err));
    char big[300];
    memset(big, 'x', sizeof(big));
    big[299] = '\n';
    assert_int_equal(sw_spool_append(s, big, sizeof(big)), 300);
    assert_int_equal(sw_spool_append(s, "ok\n", 3), 3);
    char buf[100];
    uint64_t skipped = 0;
    size_t n = sw_spool_peek(s, buf, sizeof(buf), &skipped);
    assert_int_equal(skipped, 1);
    assert_int_equal(n, 3);
    assert_memory_equal(buf, "ok\n", 3);
    sw_spool_close(s);
    rmrf(dir);
}

static void test_segments(void **state)
{
    (void)state;
    /* More than one 16 MiB segment: the head segment is removed once read
     * and the order crosses the segment boundary intact. */
    char *dir = mkdtemp_dir();
    char err[256];
    sw_spool *s = sw_spool_open(dir, 64u << 20, err, sizeof(err));
    static char chunk[1 << 20];
    int k = 0;
    for (int c = 0; c < 20; c++) {
        size_t off = 0;
        while (off + 16 < sizeof(chunk))
            off += (size_t)snprintf(chunk + off, 17, "%014d\n", k++);
        assert_int_equal(sw_spool_append(s, chunk, off), (long)off);
    }
    static char buf[1 << 20];
    int expect = 0;
    size_t n;
    while ((n = sw_spool_peek(s, buf, sizeof(buf), NULL)) > 0) {
        for (size_t i = 0; i < n; i += 15)
            assert_int_equal(atoi(buf + i), expect++);
        sw_spool_consume(s, n);
    }
    assert_int_equal(expect, k);
    sw_spool_close(s);
    rmrf(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_order_and_reopen),
        cmocka_unit_test(test_bound),
        cmocka_unit_test(test_long_line_skipped),
        cmocka_unit_test(test_segments),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
