/* On-disk cache of the compiled prefilter databases (detect.cache-dir). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <glob.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "sensor/cfg.h"
#include "signatures/sig_engine.h"

static const char *RULES =
    "alert tcp any any -> any any (msg:\"pay\"; content:\"evil-payload\"; sid:1;)\n"
    "alert tcp any any -> any any (msg:\"nocase\"; content:\"MiXeD\"; nocase; sid:2;)\n"
    "alert http any any -> any any (msg:\"uri\"; http.uri; content:\"/admin.php\"; sid:3;)\n"
    "alert dns any any -> any any (msg:\"dns\"; dns.query; content:\"bad.example\"; sid:4;)\n"
    "alert tcp any any -> any any (msg:\"bin\"; content:\"|00 01 02 ff|\"; sid:5;)\n"
    "alert tcp any any -> any any (msg:\"same fp\"; content:\"evil-payload\"; content:\"two\"; "
    "distance:0; sid:6;)\n"
    "alert tcp any any -> any any (msg:\"no fp\"; dsize:7; sid:7;)\n";

/* ---- helpers ---- */

static char g_dir[256];

static int setup(void **state)
{
    (void)state;
    snprintf(g_dir, sizeof(g_dir), "/tmp/sw_sig_cache_XXXXXX");
    return mkdtemp(g_dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

static sw_sig_engine *mk(const char *dir, const char *rules, sw_sig_report *rep)
{
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.cache_dir = dir;
    sw_sig_engine *e = sw_sig_engine_build_string(&cfg, "t.rules", rules, rep);
    assert_non_null(e);
    assert_int_equal(rep->errors, 0);
    assert_int_equal(rep->skipped, 0);
    return e;
}

static uint64_t ctr(const sw_sig_engine *e, int id)
{
    sw_ctr_group g = sw_sig_engine_counters(e);
    assert_true(id < (int)g.n);
    return g.vals[id];
}

/* Cache files in dir; *tmp counts leftover temp files (never expected). */
static int count_files(const char *dir, int *tmp, char *last, size_t lastlen)
{
    DIR *d = opendir(dir);
    assert_non_null(d);
    int n = 0;
    *tmp = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        size_t l = strlen(de->d_name);
        if (l == 64 + 5 && strcmp(de->d_name + 64, ".hsdb") == 0) {
            n++;
            if (last)
                snprintf(last, lastlen, "%s/%s", dir, de->d_name);
        } else if (strstr(de->d_name, ".hsdb.")) {
            (*tmp)++;
        }
    }
    closedir(d);
    return n;
}

static uint8_t ip_a[4] = {10, 0, 0, 1}, ip_b[4] = {93, 184, 216, 34};

static void in_init(sw_detect_input *in, int app, uint8_t proto)
{
    memset(in, 0, sizeof(*in));
    in->ip_version = 4;
    in->src_ip = ip_a;
    in->dst_ip = ip_b;
    in->src_port = 40000;
    in->dst_port = proto == IPPROTO_UDP ? 53 : 80;
    in->proto = proto;
    in->has_flow = true;
    in->to_server = true;
    in->established = true;
    in->app_proto = app;
    in->ts_us = 1700000000ull * 1000000u;
}

static void set_buf(sw_detect_input *in, int b, const void *p, size_t n)
{
    in->buf[b].ptr = p;
    in->buf[b].len = (uint32_t)n;
    if (b == SW_BUF_PAYLOAD)
        in->dsize = (uint32_t)n;
}

#define N_INPUTS 8

/* Bitmask of alerted sids per input, over a fixed set of inputs that hit
 * every rule of RULES and a few that hit none. */
static void run_inputs(const sw_sig_engine *e, uint64_t out[N_INPUTS])
{
    static const uint8_t bin[] = {'x', 0, 1, 2, 0xff, 'y'};
    sw_sig_thread *t = sw_sig_thread_new(e);
    assert_non_null(t);
    for (int k = 0; k < N_INPUTS; k++) {
        sw_detect_input in;
        in_init(&in, SW_APP_UNKNOWN, IPPROTO_TCP);
        switch (k) {
        case 0: set_buf(&in, SW_BUF_PAYLOAD, "xx evil-payload two", 19); break;
        case 1: set_buf(&in, SW_BUF_PAYLOAD, "a mixed bag", 11); break;
        case 2:
            in.app_proto = SW_APP_HTTP;
            set_buf(&in, SW_BUF_HTTP_URI, "/admin.php?x=1", 14);
            break;
        case 3:
            in_init(&in, SW_APP_DNS, IPPROTO_UDP);
            set_buf(&in, SW_BUF_DNS_QUERY, "www.bad.example", 15);
            break;
        case 4: set_buf(&in, SW_BUF_PAYLOAD, bin, sizeof(bin)); break;
        case 5: set_buf(&in, SW_BUF_PAYLOAD, "7 bytes", 7); break;
        case 6: set_buf(&in, SW_BUF_PAYLOAD, "nothing to see here", 19); break;
        default:
            in.app_proto = SW_APP_HTTP;
            set_buf(&in, SW_BUF_HTTP_URI, "/index.html", 11);
            break;
        }
        sw_sig_alert al[16];
        sw_sig_flow fs = {0};
        int n = sw_sig_match(e, t, &in, &fs, al, 16);
        out[k] = 0;
        for (int i = 0; i < n; i++) {
            assert_true(al[i].sid < 64);
            out[k] |= 1ull << al[i].sid;
        }
    }
    sw_sig_thread_free(t);
}

static const uint64_t EXPECT[N_INPUTS] = {
    (1u << 1) | (1u << 6), 1u << 2, 1u << 3, 1u << 4, 1u << 5, 1u << 7, 0, 0};

static void assert_expected(const sw_sig_engine *e)
{
    uint64_t got[N_INPUTS];
    run_inputs(e, got);
    for (int k = 0; k < N_INPUTS; k++) {
        if (got[k] != EXPECT[k])
            fprintf(stderr, "input %d: got %#llx want %#llx\n", k, (unsigned long long)got[k],
                    (unsigned long long)EXPECT[k]);
        assert_int_equal(got[k], EXPECT[k]);
    }
}

static void file_bytes(const char *path, uint8_t **p, size_t *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long l = ftell(f);
    assert_true(l > 0);
    fseek(f, 0, SEEK_SET);
    *p = malloc((size_t)l);
    assert_non_null(*p);
    assert_int_equal(fread(*p, 1, (size_t)l, f), (size_t)l);
    fclose(f);
    *n = (size_t)l;
}

static void write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    fclose(f);
}

/* Builds against a damaged file: must miss, say why, still match, and leave
 * a good file that the next build hits. */
static void expect_rebuild(const char *path, const char *why)
{
    sw_sig_report rep;
    sw_sig_engine *e = mk(g_dir, RULES, &rep);
    assert_false(rep.cache_hit);
    if (!strstr(rep.cache_note, why))
        fprintf(stderr, "note: %s (want %s)\n", rep.cache_note, why);
    assert_non_null(strstr(rep.cache_note, why));
    assert_int_equal(ctr(e, SW_SIGE_CACHE_MISSES), 1);
    assert_int_equal(ctr(e, SW_SIGE_CACHE_HITS), 0);
    assert_expected(e);
    sw_sig_engine_free(e);

    struct stat st;
    assert_int_equal(stat(path, &st), 0);
    assert_int_equal(st.st_mode & 0077, 0);
    e = mk(g_dir, RULES, &rep);
    assert_true(rep.cache_hit);
    assert_expected(e);
    sw_sig_engine_free(e);
}

/* ---- tests ---- */

static void t_second_build_hits(void **state)
{
    (void)state;
    sw_sig_report rep;
    int tmp;
    char path[512];
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 0);

    sw_sig_engine *e1 = mk(g_dir, RULES, &rep);
    assert_false(rep.cache_hit);
    assert_string_equal(rep.cache_note, "");
    assert_int_equal(ctr(e1, SW_SIGE_CACHE_MISSES), 1);
    assert_int_equal(ctr(e1, SW_SIGE_CACHE_HITS), 0);
    uint32_t pre1 = rep.prefilter_rules, alw1 = rep.always_rules;
    assert_int_equal(count_files(g_dir, &tmp, path, sizeof(path)), 1);
    assert_int_equal(tmp, 0);

    sw_sig_engine *e2 = mk(g_dir, RULES, &rep);
    assert_true(rep.cache_hit);
    assert_int_equal(ctr(e2, SW_SIGE_CACHE_HITS), 1);
    assert_int_equal(ctr(e2, SW_SIGE_CACHE_MISSES), 0);
    assert_int_equal(rep.prefilter_rules, pre1);
    assert_int_equal(rep.always_rules, alw1);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 1);

    uint64_t a[N_INPUTS], b[N_INPUTS];
    run_inputs(e1, a);
    run_inputs(e2, b);
    assert_memory_equal(a, b, sizeof(a));
    assert_expected(e2);
    sw_sig_engine_free(e1);
    sw_sig_engine_free(e2);

    /* without a cache dir nothing is counted and nothing is written */
    e1 = mk(NULL, RULES, &rep);
    assert_false(rep.cache_hit);
    assert_int_equal(ctr(e1, SW_SIGE_CACHE_MISSES), 0);
    assert_int_equal(ctr(e1, SW_SIGE_CACHE_HITS), 0);
    sw_sig_engine_free(e1);
    e1 = mk("", RULES, &rep);
    assert_int_equal(ctr(e1, SW_SIGE_CACHE_MISSES), 0);
    sw_sig_engine_free(e1);
}

static void t_corrupt_file_rebuilt(void **state)
{
    (void)state;
    sw_sig_report rep;
    int tmp;
    char path[512];
    sw_sig_engine *e = mk(g_dir, RULES, &rep);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, path, sizeof(path)), 1);
    uint8_t *good;
    size_t n;
    file_bytes(path, &good, &n);
    assert_true(n > 200);

    /* truncated to half, to a few bytes, to nothing */
    write_bytes(path, good, n / 2);
    expect_rebuild(path, "checksum");
    write_bytes(path, good, 10);
    expect_rebuild(path, "truncated");
    write_bytes(path, good, 0);
    expect_rebuild(path, "truncated");

    /* one flipped byte in the header, inside a database, in the trailer */
    size_t at[] = {3, n / 2, n - 1};
    for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
        uint8_t *bad = malloc(n);
        assert_non_null(bad);
        memcpy(bad, good, n);
        bad[at[i]] ^= 0x5a;
        write_bytes(path, bad, n);
        free(bad);
        expect_rebuild(path, "checksum");
    }

    /* appended garbage */
    uint8_t *longer = malloc(n + 7);
    assert_non_null(longer);
    memcpy(longer, good, n);
    memcpy(longer + n, "garbage", 7);
    write_bytes(path, longer, n + 7);
    free(longer);
    expect_rebuild(path, "checksum");

    /* a file others could have written is not deserialized */
    write_bytes(path, good, n);
    assert_int_equal(chmod(path, 0666), 0);
    expect_rebuild(path, "writable by others");

    /* the rewritten file is byte for byte what the first build wrote */
    uint8_t *again;
    size_t n2;
    file_bytes(path, &again, &n2);
    assert_int_equal(n2, n);
    assert_memory_equal(again, good, n);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 1);
    assert_int_equal(tmp, 0);
    free(again);
    free(good);
}

static void t_key_follows_patterns(void **state)
{
    (void)state;
    sw_sig_report rep;
    int tmp;
    sw_sig_engine *e = mk(g_dir, RULES, &rep);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 1);

    /* another fast pattern: another key, a miss, a second file */
    const char *other = "alert tcp any any -> any any (msg:\"x\"; content:\"evil-payloaD\"; sid:1;)\n";
    e = mk(g_dir, other, &rep);
    assert_false(rep.cache_hit);
    assert_string_equal(rep.cache_note, "");
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 2);

    /* nocase changes the flags only: still another key */
    const char *nc =
        "alert tcp any any -> any any (msg:\"x\"; content:\"evil-payloaD\"; nocase; sid:1;)\n";
    e = mk(g_dir, nc, &rep);
    assert_false(rep.cache_hit);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 3);

    /* the same pattern on another buffer: another key */
    const char *ob =
        "alert http any any -> any any (msg:\"x\"; http.uri; content:\"evil-payloaD\"; sid:1;)\n";
    e = mk(g_dir, ob, &rep);
    assert_false(rep.cache_hit);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 4);

    /* Same fast patterns, different sids, messages and non-prefilter options:
     * the databases are the same, so it hits, and the rules are the new ones
     * (the pattern -> rule map is never cached). */
    const char *resid =
        "alert tcp any any -> any any (msg:\"p2\"; content:\"evil-payloaD\"; sid:9;)\n";
    e = mk(g_dir, resid, &rep);
    assert_true(rep.cache_hit);
    sw_detect_input in;
    in_init(&in, SW_APP_UNKNOWN, IPPROTO_TCP);
    set_buf(&in, SW_BUF_PAYLOAD, "..evil-payloaD..", 16);
    sw_sig_thread *t = sw_sig_thread_new(e);
    assert_non_null(t);
    sw_sig_alert al[4];
    assert_int_equal(sw_sig_match(e, t, &in, NULL, al, 4), 1);
    assert_int_equal(al[0].sid, 9);
    assert_string_equal(al[0].msg, "p2");
    set_buf(&in, SW_BUF_PAYLOAD, "..evil-payload..", 16);
    assert_int_equal(sw_sig_match(e, t, &in, NULL, al, 4), 0);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 4);
    assert_int_equal(tmp, 0);
}

static void t_unwritable_dir(void **state)
{
    (void)state;
    /* A path below a regular file cannot be created or written, even by
     * root (tests may run as root, where mode bits do not stop writes). */
    char file[300], dir[320];
    snprintf(file, sizeof(file), "%s/plainfile", g_dir);
    write_bytes(file, (const uint8_t *)"x", 1);
    snprintf(dir, sizeof(dir), "%s/sub", file);
    sw_sig_report rep;
    for (int round = 0; round < 2; round++) {
        sw_sig_engine *e = mk(dir, RULES, &rep);
        assert_false(rep.cache_hit);
        assert_non_null(strstr(rep.cache_note, "cache:"));
        assert_int_equal(ctr(e, SW_SIGE_CACHE_MISSES), 1);
        assert_expected(e);
        sw_sig_engine_free(e);
    }
    /* a missing parent is not created either */
    snprintf(dir, sizeof(dir), "%s/no/such", g_dir);
    sw_sig_engine *e = mk(dir, RULES, &rep);
    assert_false(rep.cache_hit);
    assert_non_null(strstr(rep.cache_note, "mkdir"));
    assert_expected(e);
    sw_sig_engine_free(e);
    /* while a missing last component is */
    snprintf(dir, sizeof(dir), "%s/leaf", g_dir);
    e = mk(dir, RULES, &rep);
    assert_string_equal(rep.cache_note, "");
    sw_sig_engine_free(e);
    e = mk(dir, RULES, &rep);
    assert_true(rep.cache_hit);
    sw_sig_engine_free(e);
}

/* No prefilter database at all: the cache is not consulted. */
static void t_no_patterns(void **state)
{
    (void)state;
    sw_sig_report rep;
    int tmp;
    sw_sig_engine *e =
        mk(g_dir, "alert tcp any any -> any any (msg:\"d\"; dsize:7; sid:7;)\n", &rep);
    assert_false(rep.cache_hit);
    assert_int_equal(ctr(e, SW_SIGE_CACHE_MISSES), 0);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 0);
}

/* The real ruleset round-trips: a warm cache gives the same engine shape.
 * Timings are printed for information only. */
static void t_et_open(void **state)
{
    (void)state;
    const char *src = getenv("SW_SOURCE_DIR");
    char pat[512];
    snprintf(pat, sizeof(pat), "%s/../shared/rules/et-open/*.rules", src ? src : ".");
    glob_t g;
    if (glob(pat, 0, NULL, &g) != 0) {
        fprintf(stderr, "ET Open not found at %s\n", pat);
        skip();
    }
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.cache_dir = g_dir;
    sw_sig_report *r1 = malloc(sizeof(*r1)), *r2 = malloc(sizeof(*r2));
    assert_non_null(r1);
    assert_non_null(r2);
    sw_sig_engine *e1 =
        sw_sig_engine_build(&cfg, (const char *const *)g.gl_pathv, g.gl_pathc, r1);
    assert_non_null(e1);
    assert_false(r1->cache_hit);
    assert_string_equal(r1->cache_note, "");
    sw_sig_engine *e2 =
        sw_sig_engine_build(&cfg, (const char *const *)g.gl_pathv, g.gl_pathc, r2);
    assert_non_null(e2);
    assert_true(r2->cache_hit);
    assert_true(r1->loaded > 10000);
    assert_int_equal(r2->loaded, r1->loaded);
    assert_int_equal(r2->prefilter_rules, r1->prefilter_rules);
    assert_int_equal(r2->always_rules, r1->always_rules);
    fprintf(stderr, "ET Open %u rules: compile %llu us cold, %llu us warm cache\n", r1->loaded,
            (unsigned long long)r1->compile_us, (unsigned long long)r2->compile_us);
    sw_sig_engine_free(e1);
    sw_sig_engine_free(e2);
    free(r1);
    free(r2);
    globfree(&g);
}

static void set_mtime(const char *path, time_t t)
{
    struct timespec ts[2] = {{t, 0}, {t, 0}};
    assert_int_equal(utimensat(AT_FDCWD, path, ts, 0), 0);
}

/* After a write only the 4 newest cache files stay; a hit counts as use;
 * stale temp files go, fresh ones and foreign names stay. */
static void t_prune(void **state)
{
    (void)state;
    sw_sig_report rep;
    int tmp;
    char rules[256], first[512], path[600];
    time_t base = time(NULL) - 100000;
    snprintf(rules, sizeof(rules),
             "alert tcp any any -> any any (msg:\"x\"; content:\"pattern-0\"; sid:1;)\n");
    sw_sig_engine *e = mk(g_dir, rules, &rep);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, first, sizeof(first)), 1);
    set_mtime(first, base);

    snprintf(path, sizeof(path), "%s/README", g_dir);
    write_bytes(path, (const uint8_t *)"keep", 4);
    set_mtime(path, base);
    char stale[600], fresh[600];
    const char *k = strrchr(first, '/') + 1;
    snprintf(stale, sizeof(stale), "%s/%.64s.hsdb.AAAAAA", g_dir, k);
    snprintf(fresh, sizeof(fresh), "%s/%.64s.hsdb.BBBBBB", g_dir, k);
    write_bytes(stale, (const uint8_t *)"half", 4);
    write_bytes(fresh, (const uint8_t *)"half", 4);
    set_mtime(stale, base);

    /* rulesets 1..3, each older than the next; the first is the oldest */
    for (int i = 1; i <= 3; i++) {
        snprintf(rules, sizeof(rules),
                 "alert tcp any any -> any any (msg:\"x\"; content:\"pattern-%d\"; sid:1;)\n", i);
        e = mk(g_dir, rules, &rep);
        assert_false(rep.cache_hit);
        sw_sig_engine_free(e);
    }
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 4);
    assert_int_equal(tmp, 1); /* the stale temp file went, the fresh one stays */
    assert_int_equal(access(stale, F_OK), -1);
    assert_int_equal(access(fresh, F_OK), 0);
    assert_int_equal(access(path, F_OK), 0);

    /* ruleset 0 is used again (a hit refreshes it), then a fifth ruleset
     * is written: the oldest unused one goes, ruleset 0 stays */
    DIR *d = opendir(g_dir);
    assert_non_null(d);
    struct dirent *de;
    char p2[600];
    while ((de = readdir(d)))
        if (strlen(de->d_name) == 69 && strcmp(de->d_name, k) != 0) {
            snprintf(p2, sizeof(p2), "%s/%s", g_dir, de->d_name);
            set_mtime(p2, base + 10);
        }
    closedir(d);
    snprintf(rules, sizeof(rules),
             "alert tcp any any -> any any (msg:\"x\"; content:\"pattern-0\"; sid:1;)\n");
    e = mk(g_dir, rules, &rep);
    assert_true(rep.cache_hit);
    sw_sig_engine_free(e);
    snprintf(rules, sizeof(rules),
             "alert tcp any any -> any any (msg:\"x\"; content:\"pattern-5\"; sid:1;)\n");
    e = mk(g_dir, rules, &rep);
    assert_false(rep.cache_hit);
    sw_sig_engine_free(e);
    assert_int_equal(count_files(g_dir, &tmp, NULL, 0), 4);
    assert_int_equal(access(first, F_OK), 0);
    snprintf(rules, sizeof(rules),
             "alert tcp any any -> any any (msg:\"x\"; content:\"pattern-0\"; sid:1;)\n");
    e = mk(g_dir, rules, &rep);
    assert_true(rep.cache_hit);
    sw_sig_engine_free(e);
}

/* detect.cache-dir from the config tree; absent or empty leaves it off. */
static void t_config_key(void **state)
{
    (void)state;
    char err[256] = "";
    sw_sig_config c;
    sw_sig_config_defaults(&c);
    assert_null(c.cache_dir);
    sw_cfg_node *root = sw_cfg_load_string("detect:\n  cache-dir: /var/cache/spanwatch\n", err,
                                           sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_sig_config_load(root, &c, err, sizeof(err)), 0);
    assert_string_equal(c.cache_dir, "/var/cache/spanwatch");
    sw_cfg_free(root);

    sw_sig_config_defaults(&c);
    root = sw_cfg_load_string("detect:\n  cache-dir: \"\"\n", err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_sig_config_load(root, &c, err, sizeof(err)), 0);
    assert_true(c.cache_dir == NULL || c.cache_dir[0] == 0);
    sw_cfg_free(root);

    sw_sig_config_defaults(&c);
    root = sw_cfg_load_string("detect:\n  inspection-recursion-limit: 10\n", err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_sig_config_load(root, &c, err, sizeof(err)), 0);
    assert_null(c.cache_dir);
    sw_cfg_free(root);

    /* detect.packet-alert-max: default 16, 1..1024, errors name the key */
    sw_sig_config_defaults(&c);
    assert_int_equal(c.packet_alert_max, 16);
    root = sw_cfg_load_string("detect:\n  packet-alert-max: 3\n", err, sizeof(err));
    assert_int_equal(sw_sig_config_load(root, &c, err, sizeof(err)), 0);
    assert_int_equal(c.packet_alert_max, 3);
    sw_cfg_free(root);
    root = sw_cfg_load_string("detect:\n  packet-alert-max: 0\n", err, sizeof(err));
    assert_int_equal(sw_sig_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "detect.packet-alert-max"));
    sw_cfg_free(root);

    /* a map where a path belongs is an error naming the key */
    sw_sig_config_defaults(&c);
    root = sw_cfg_load_string("detect:\n  cache-dir:\n    a: b\n", err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_sig_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "detect.cache-dir"));
    sw_cfg_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(t_second_build_hits, setup, teardown),
        cmocka_unit_test_setup_teardown(t_corrupt_file_rebuilt, setup, teardown),
        cmocka_unit_test_setup_teardown(t_key_follows_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(t_unwritable_dir, setup, teardown),
        cmocka_unit_test_setup_teardown(t_no_patterns, setup, teardown),
        cmocka_unit_test_setup_teardown(t_et_open, setup, teardown),
        cmocka_unit_test_setup_teardown(t_prune, setup, teardown),
        cmocka_unit_test(t_config_key),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
