/* Regular-file output and the fan-out: whole lines from many threads,
 * rotation with gzip, reopen, disk full and recovery, config parsing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "sensor/output.h"
#include "tests/unit/testutil.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    return tu_mkdtemp(g_dir, sizeof(g_dir), "sw-out");
}

static int teardown(void **state)
{
    (void)state;
    return tu_rmrf(g_dir);
}

static uint64_t ctr(const sw_outputs *o, const char *name)
{
    return tu_ctr(sw_outputs_counters(o), name);
}

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    *len = fread(b, 1, (size_t)n, f);
    b[*len] = 0;
    fclose(f);
    return b;
}

#define NTHR 4
#define PER 5000

static void *writer(void *arg)
{
    sw_outputs *o = ((void **)arg)[0];
    int id = (int)(intptr_t)((void **)arg)[1];
    char line[128];
    for (int i = 0; i < PER; i++) {
        int n = snprintf(line, sizeof(line), "{\"t\":%d,\"i\":%d,\"pad\":\"%0*d\"}\n", id, i,
                         i % 50, 0);
        sw_outputs_write(o, line, (size_t)n);
    }
    return NULL;
}

/* Each line whole, each exactly once, each thread's lines in order. */
static void check_lines(char *b, size_t len, int *next)
{
    char *p = b;
    while (p < b + len) {
        char *nl = memchr(p, '\n', (size_t)(b + len - p));
        assert_non_null(nl);
        int t, i;
        assert_int_equal(sscanf(p, "{\"t\":%d,\"i\":%d,", &t, &i), 2);
        assert_true(t >= 0 && t < NTHR);
        assert_int_equal(i, next[t]);
        assert_int_equal(nl[-1], '}');
        next[t]++;
        p = nl + 1;
    }
}

static void test_file_threads(void **state)
{
    (void)state;
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    c.out[0].buffer_size = 0; /* minimum: forces the back-pressure path */
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, g_dir, err, sizeof(err));
    assert_non_null(o);
    pthread_t t[NTHR];
    void *args[NTHR][2];
    for (int k = 0; k < NTHR; k++) {
        args[k][0] = o;
        args[k][1] = (void *)(intptr_t)k;
        pthread_create(&t[k], NULL, writer, args[k]);
    }
    for (int k = 0; k < NTHR; k++)
        pthread_join(t[k], NULL);
    sw_outputs_flush(o);
    assert_int_equal(ctr(o, "spanwatch.output.file.sent"), NTHR * PER);
    sw_outputs_close(o);
    char path[128];
    snprintf(path, sizeof(path), "%s/eve.json", g_dir);
    size_t len;
    char *b = slurp(path, &len);
    assert_non_null(b);
    int next[NTHR] = {0};
    check_lines(b, len, next);
    for (int k = 0; k < NTHR; k++)
        assert_int_equal(next[k], PER);
    free(b);
    unlink(path);
}

static int cmp_str(const void *a, const void *b)
{
    /* eve.json.STAMP < eve.json.STAMP.1 < ... < eve.json.STAMP.10 */
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t lx = strlen(x), ly = strlen(y);
    return lx != ly ? (lx < ly ? -1 : 1) : strcmp(x, y);
}

static void test_rotation_gzip(void **state)
{
    (void)state;
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    c.out[0].rotate_size = 64 * 1024;
    char err[256], sub[128];
    snprintf(sub, sizeof(sub), "%s/rot", g_dir);
    mkdir(sub, 0755);
    sw_outputs *o = sw_outputs_open(&c, sub, err, sizeof(err));
    assert_non_null(o);
    void *args[2] = {o, (void *)(intptr_t)0};
    writer(args); /* ~5000 lines of ~70 bytes: several rotations */
    sw_outputs_close(o); /* joins the gzip thread */

    DIR *d = opendir(sub);
    char *names[256];
    int nn = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!strncmp(de->d_name, "eve.json.", 9)) {
            assert_non_null(strstr(de->d_name, ".gz")); /* all compressed */
            assert_null(strstr(de->d_name, ".tmp"));
            names[nn++] = strdup(de->d_name);
        }
    }
    closedir(d);
    assert_true(nn >= 3);
    qsort(names, (size_t)nn, sizeof(names[0]), cmp_str);
    int next[NTHR] = {0};
    static char buf[1 << 20];
    for (int k = 0; k < nn; k++) {
        char p[256];
        snprintf(p, sizeof(p), "%s/%s", sub, names[k]);
        gzFile z = gzopen(p, "rb");
        assert_non_null(z);
        int n = gzread(z, buf, sizeof(buf));
        gzclose(z);
        assert_true(n >= 64 * 1024);
        check_lines(buf, (size_t)n, next);
        free(names[k]);
    }
    char p[256];
    snprintf(p, sizeof(p), "%s/eve.json", sub);
    size_t len;
    char *b = slurp(p, &len);
    check_lines(b, len, next);
    free(b);
    assert_int_equal(next[0], PER);
}

static void test_rotated_name(void **state)
{
    (void)state;
    assert_true(sw_ofile_is_rotated_name("eve.json", "eve.json.20261122T010203Z"));
    assert_true(sw_ofile_is_rotated_name("eve.json", "eve.json.20261122T010203Z.17"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json.20261122T010203Z.gz"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json.20261122T010203Z.1.gz"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json.20261122T010203Z.gz.tmp"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json.20261122T010203Z."));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json.bak"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "alerts.json.20261122T010203Z"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.jsonx20261122T010203Z"));
    assert_false(sw_ofile_is_rotated_name("eve.json", "eve.json.2026112T010203Z"));
}

static int count_names(const char *dir, const char *suffix, int *plain)
{
    DIR *d = opendir(dir);
    int n = 0;
    *plain = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (strncmp(de->d_name, "eve.json.", 9))
            continue;
        size_t l = strlen(de->d_name), sl = strlen(suffix);
        if (l > sl && !strcmp(de->d_name + l - sl, suffix))
            n++;
        else
            (*plain)++;
    }
    closedir(d);
    return n;
}

/* A burst of rotations far faster than gzip keeps up with: every rotated
 * file still ends up compressed (a fixed queue of names used to drop all
 * but 16 of them, leaving the rest uncompressed). */
static void test_rotation_burst_all_compressed(void **state)
{
    (void)state;
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    c.out[0].rotate_size = 128 * 1024;
    char err[256], sub[128];
    snprintf(sub, sizeof(sub), "%s/burst", g_dir);
    mkdir(sub, 0755);
    sw_outputs *o = sw_outputs_open(&c, sub, err, sizeof(err));
    assert_non_null(o);
    /* 16 MiB of varied lines: ~128 rotations, each file taking gzip far
     * longer than writing it */
    char line[128];
    for (int i = 0; i < 16 * 1024 * 1024 / 64; i++) {
        int n = snprintf(line, sizeof(line), "{\"seq\":%d,\"v\":\"%08x\",\"pad\":\"%027d\"}\n", i,
                         (unsigned)i * 2654435761u, i);
        sw_outputs_write(o, line, (size_t)n);
    }
    sw_outputs_flush(o);
    uint64_t rot = ctr(o, "spanwatch.output.file.rotations");
    sw_outputs_close(o);
    assert_true(rot > 100);
    int plain;
    int gz = count_names(sub, ".gz", &plain);
    assert_int_equal(plain, 0);
    assert_int_equal(gz, (int)rot);
}

/* Rotated files an earlier run (or a crash) left uncompressed are
 * compressed at start; files that only look similar are left alone. */
static void test_rotation_leftovers_compressed(void **state)
{
    (void)state;
    char sub[128], p[256];
    snprintf(sub, sizeof(sub), "%s/left", g_dir);
    mkdir(sub, 0755);
    const char *names[] = {"eve.json.20261122T010203Z", "eve.json.20261122T010203Z.4",
                           "eve.json.bak"};
    for (int k = 0; k < 3; k++) {
        snprintf(p, sizeof(p), "%s/%s", sub, names[k]);
        FILE *f = fopen(p, "w");
        fprintf(f, "{\"old\":%d}\n", k);
        fclose(f);
    }
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    c.out[0].rotate_size = 1 << 20;
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, sub, err, sizeof(err));
    assert_non_null(o);
    sw_outputs_close(o);
    struct stat st;
    for (int k = 0; k < 2; k++) {
        snprintf(p, sizeof(p), "%s/%s", sub, names[k]);
        assert_int_not_equal(stat(p, &st), 0);
        snprintf(p, sizeof(p), "%s/%s.gz", sub, names[k]);
        gzFile z = gzopen(p, "rb");
        assert_non_null(z);
        char buf[64] = "";
        assert_int_equal(gzread(z, buf, sizeof(buf) - 1), 10);
        gzclose(z);
        char want[16];
        snprintf(want, sizeof(want), "{\"old\":%d}\n", k);
        assert_string_equal(buf, want);
    }
    snprintf(p, sizeof(p), "%s/eve.json.bak", sub);
    assert_int_equal(stat(p, &st), 0);
}

/* A write the file-size limit cuts in the middle of a line: the file keeps
 * only whole lines, the rest is counted, and writing resumes cleanly once
 * the limit is lifted. */
static void test_partial_write_keeps_whole_lines(void **state)
{
    (void)state;
    char sub[128], path[160];
    snprintf(sub, sizeof(sub), "%s/fsize", g_dir);
    mkdir(sub, 0755);
    snprintf(path, sizeof(path), "%s/eve.json", sub);
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, sub, err, sizeof(err));
    assert_non_null(o);
    struct rlimit old, lim;
    getrlimit(RLIMIT_FSIZE, &old);
    lim = old;
    lim.rlim_cur = 4000;
    void (*prev)(int) = signal(SIGXFSZ, SIG_IGN);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
    char line[128];
    for (int i = 0; i < 100; i++) {
        int n = snprintf(line, sizeof(line), "{\"seq\":%d,\"pad\":\"%0*d\"}\n", i, 40, 0);
        sw_outputs_write(o, line, (size_t)n);
    }
    sw_outputs_flush(o);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
    signal(SIGXFSZ, prev);
    uint64_t sent = ctr(o, "spanwatch.output.file.sent");
    uint64_t lost = ctr(o, "spanwatch.output.file.write_errors");
    assert_int_equal(sent + lost, 100);
    assert_true(sent > 0 && lost > 0);
    sw_outputs_write(o, "{\"after\":1}\n", 12);
    sw_outputs_close(o);
    size_t len;
    char *b = slurp(path, &len);
    assert_non_null(b);
    /* every line is one of ours, whole, in order */
    uint64_t k = 0;
    for (char *l = b, *nl; (nl = strchr(l, '\n')); l = nl + 1, k++) {
        *nl = '\0';
        if (k < sent) {
            int n = snprintf(line, sizeof(line), "{\"seq\":%d,\"pad\":\"%0*d\"}", (int)k, 40, 0);
            assert_int_equal((size_t)n, strlen(l));
            assert_string_equal(l, line);
        } else {
            assert_string_equal(l, "{\"after\":1}");
        }
    }
    assert_int_equal(k, sent + 1);
    free(b);
}

static void test_rotate_due(void **state)
{
    (void)state;
    sw_output_config c;
    sw_output_config_defaults(&c, SW_OUT_REGULAR);
    assert_false(sw_ofile_rotate_due(&c, 1ull << 40, 0, 1ull << 50));
    c.rotate_interval_us = 3600000000ull;
    assert_false(sw_ofile_rotate_due(&c, 100, 1000, 1000 + 3599999999ull));
    assert_true(sw_ofile_rotate_due(&c, 100, 1000, 1000 + 3600000000ull));
    assert_false(sw_ofile_rotate_due(&c, 0, 1000, 1000 + 7200000000ull)); /* empty file */
    c.rotate_size = 1000;
    assert_true(sw_ofile_rotate_due(&c, 1000, 1000, 1001));
    assert_false(sw_ofile_rotate_due(&c, 999, 1000, 1001));
}

static void test_reopen_and_disk_full(void **state)
{
    (void)state;
    char sub[128], path[160], moved[160];
    snprintf(sub, sizeof(sub), "%s/full", g_dir);
    mkdir(sub, 0755);
    snprintf(path, sizeof(path), "%s/eve.json", sub);
    snprintf(moved, sizeof(moved), "%s/eve.json.1", sub);
    /* eve.json is /dev/full: every write fails with ENOSPC. */
    assert_int_equal(symlink("/dev/full", path), 0);
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, sub, err, sizeof(err));
    assert_non_null(o);
    sw_outputs_write(o, "{\"a\":1}\n", 8);
    sw_outputs_write(o, "{\"a\":2}\n", 8);
    sw_outputs_flush(o);
    assert_int_equal(ctr(o, "spanwatch.output.file.write_errors"), 2);
    assert_int_equal(ctr(o, "spanwatch.output.file.disk_full"), 1);
    assert_true(sw_outputs_degraded(o));
    /* "Space freed" + logrotate: the path is now a regular file. */
    assert_int_equal(rename(path, moved), 0);
    sw_outputs_reopen(o);
    sw_outputs_write(o, "{\"a\":3}\n", 8);
    sw_outputs_flush(o);
    assert_int_equal(ctr(o, "spanwatch.output.file.disk_full"), 0);
    assert_int_equal(ctr(o, "spanwatch.output.file.recoveries"), 1);
    assert_int_equal(ctr(o, "spanwatch.output.file.sent"), 1);
    assert_false(sw_outputs_degraded(o));
    sw_outputs_close(o);
    size_t len;
    char *b = slurp(path, &len);
    assert_string_equal(b, "{\"a\":3}\n");
    free(b);
}

static void test_config(void **state)
{
    (void)state;
    char err[256] = "";
    const char *y = "outputs:\n"
                    "  - fast: {enabled: yes}\n"
                    "  - eve-log:\n"
                    "      filetype: regular\n"
                    "      filename: alerts.json\n"
                    "      rotate: {size: 100mb, interval: 1h, compress: no}\n"
                    "  - eve-log:\n"
                    "      filetype: redis\n"
                    "      server: 10.0.0.5\n"
                    "      port: 6380\n"
                    "      redis: {mode: stream, key: ids, pipelining: {enabled: yes, batch-size: 50}}\n"
                    "      spool: {max-size: 2gb}\n"
                    "  - eve-log:\n"
                    "      filetype: syslog\n"
                    "      name: siem\n"
                    "      protocol: udp\n"
                    "      facility: local5\n"
                    "  - eve-log: {enabled: no, filetype: unix_dgram}\n";
    sw_cfg_node *root = sw_cfg_load_string(y, err, sizeof(err));
    assert_non_null(root);
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    assert_int_equal(sw_outputs_config_load(root, &c, err, sizeof(err)), 0);
    sw_cfg_free(root);
    assert_int_equal(c.n, 3);
    assert_int_equal(c.out[0].type, SW_OUT_REGULAR);
    assert_string_equal(c.out[0].filename, "alerts.json");
    assert_int_equal(c.out[0].rotate_size, 100ull << 20);
    assert_int_equal(c.out[0].rotate_interval_us, 3600000000ull);
    assert_false(c.out[0].rotate_compress);
    assert_int_equal(c.out[1].type, SW_OUT_REDIS);
    assert_string_equal(c.out[1].name, "redis");
    assert_string_equal(c.out[1].server, "10.0.0.5");
    assert_int_equal(c.out[1].port, 6380);
    assert_int_equal(c.out[1].redis_mode, SW_REDIS_XADD);
    assert_string_equal(c.out[1].redis_key, "ids");
    assert_int_equal(c.out[1].redis_batch, 50);
    assert_int_equal(c.out[1].spool_size, 2ull << 30);
    assert_true(c.out[1].spool_enabled);
    assert_int_equal(c.out[2].type, SW_OUT_SYSLOG);
    assert_string_equal(c.out[2].name, "siem");
    assert_false(c.out[2].syslog_tcp);
    assert_int_equal(c.out[2].syslog_facility, 21);

    const char *bad[] = {
        "outputs:\n  - eve-log: {filetype: kafka}\n",
        "outputs:\n  - eve-log: {filetype: redis, port: 70000}\n",
        "outputs:\n  - eve-log: {filetype: redis, redis: {mode: hash}}\n",
        "outputs:\n  - eve-log: {filetype: syslog, facility: local9}\n",
        "outputs:\n  - eve-log: {filetype: regular}\n  - eve-log: {filetype: regular}\n",
        "outputs:\n  - eve-log: {filetype: regular, rotate: {size: lots}}\n",
        "outputs: {eve-log: 1}\n",
    };
    const char *expect[] = {"filetype", "port", "redis.mode", "facility", "used twice",
                            "rotate.size", "outputs"};
    for (size_t k = 0; k < sizeof(bad) / sizeof(bad[0]); k++) {
        root = sw_cfg_load_string(bad[k], err, sizeof(err));
        assert_non_null(root);
        err[0] = 0;
        assert_int_equal(sw_outputs_config_load(root, &c, err, sizeof(err)), -1);
        if (!strstr(err, expect[k]))
            fail_msg("case %zu: error '%s' lacks '%s'", k, err, expect[k]);
        sw_cfg_free(root);
    }
}

static void test_open_error(void **state)
{
    (void)state;
    sw_outputs_config c;
    sw_outputs_config_defaults(&c);
    char err[256] = "";
    assert_null(sw_outputs_open(&c, "/nonexistent/dir", err, sizeof(err)));
    assert_non_null(strstr(err, "/nonexistent/dir/eve.json"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_file_threads), cmocka_unit_test(test_rotation_gzip),
        cmocka_unit_test(test_rotate_due),
        cmocka_unit_test(test_rotated_name), cmocka_unit_test(test_rotation_burst_all_compressed),
        cmocka_unit_test(test_rotation_leftovers_compressed),
        cmocka_unit_test(test_partial_write_keeps_whole_lines),   cmocka_unit_test(test_reopen_and_disk_full),
        cmocka_unit_test(test_config),       cmocka_unit_test(test_open_error),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
