/* YAML config tree (sensor/cfg.h) and the engine's own section
 * (sw_engine_config_load in sensor/config.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "sensor/cfg.h"
#include "sensor/engine.h"

static sw_cfg_node *g_root;
static char g_err[512];

static int teardown(void **state)
{
    (void)state;
    sw_cfg_free(g_root);
    g_root = NULL;
    g_err[0] = 0;
    return 0;
}

static sw_cfg_node *load(const char *yaml)
{
    sw_cfg_free(g_root);
    g_err[0] = 0;
    g_root = sw_cfg_load_string(yaml, g_err, sizeof g_err);
    return g_root;
}

#define ERR_HAS(s)                                                        \
    do {                                                                  \
        if (!strstr(g_err, (s)))                                          \
            fail_msg("error \"%s\" does not mention \"%s\"", g_err, (s)); \
    } while (0)

static void test_nested_maps_and_sequences(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("# comment\n"
                                "outputs:\n"
                                "  redis:\n"
                                "    port: 6380\n"
                                "    host: \"127.0.0.1\"\n"
                                "rules:\n"
                                "  - a.rules\n"
                                "  - b.rules\n"
                                "  - {path: c.rules, enabled: no}\n"
                                "empty: []\n"
                                "flow: {max-flows: 10}\n");
    assert_non_null(r);
    assert_int_equal(sw_cfg_type_of(r), SW_CFG_MAP);
    assert_int_equal(sw_cfg_len(r), 4);
    assert_string_equal(sw_cfg_key_at(r, 0), "outputs");
    assert_string_equal(sw_cfg_key_at(r, 3), "flow");
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "outputs.redis.port")), "6380");
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "outputs.redis.host")), "127.0.0.1");
    assert_int_equal(sw_cfg_line(sw_cfg_get(r, "outputs.redis.port")), 4);
    const sw_cfg_node *rules = sw_cfg_get(r, "rules");
    assert_int_equal(sw_cfg_type_of(rules), SW_CFG_SEQ);
    assert_int_equal(sw_cfg_len(rules), 3);
    assert_string_equal(sw_cfg_scalar(sw_cfg_at(rules, 1)), "b.rules");
    assert_null(sw_cfg_key_at(rules, 0)); /* sequences have no keys */
    /* numeric path components index sequences */
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "rules.0")), "a.rules");
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "rules.2.path")), "c.rules");
    assert_null(sw_cfg_get(r, "rules.3"));
    assert_null(sw_cfg_get(r, "rules.x"));
    assert_int_equal(sw_cfg_len(sw_cfg_get(r, "empty")), 0);
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "flow.max-flows")), "10");
    /* absent paths, scalar asked for a map, NULL root */
    assert_null(sw_cfg_get(r, "outputs.syslog"));
    assert_null(sw_cfg_get(r, "outputs.redis.port.x"));
    assert_null(sw_cfg_scalar(sw_cfg_get(r, "outputs")));
    assert_null(sw_cfg_get(NULL, "a.b"));
    uint64_t v = 77;
    assert_int_equal(sw_cfg_get_u64(NULL, "a.b", &v, g_err, sizeof g_err), 0);
    assert_int_equal(v, 77);
}

static void test_empty_and_top_level(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("");
    assert_non_null(r);
    assert_int_equal(sw_cfg_len(r), 0);
    r = load("# only a comment\n");
    assert_non_null(r);
    assert_null(load("- a\n- b\n"));
    ERR_HAS("top level must be a map");
    assert_null(load("a: 1\n---\nb: 2\n"));
    ERR_HAS("more than one YAML document");
}

static void test_duplicate_keys(void **state)
{
    (void)state;
    /* a later scalar overrides; two maps under one key are merged (config
     * fragments add to one section) with the later value winning */
    const sw_cfg_node *r = load("a: 1\n"
                                "s:\n"
                                "  x: 1\n"
                                "  y: 2\n"
                                "a: 2\n"
                                "s:\n"
                                "  y: 3\n"
                                "  z: 4\n"
                                "m: {k: 1}\n"
                                "m: scalar\n");
    assert_non_null(r);
    assert_int_equal(sw_cfg_len(r), 3);
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "a")), "2");
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "s.x")), "1");
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "s.y")), "3");
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "s.z")), "4");
    assert_int_equal(sw_cfg_len(sw_cfg_get(r, "s")), 3);
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(r, "m")), "scalar");
}

static void test_aliases_rejected(void **state)
{
    (void)state;
    assert_null(load("base: &b\n"
                     "  x: 1\n"
                     "other:\n"
                     "  y: *b\n"));
    ERR_HAS("alias");
    ERR_HAS(":4:");
    assert_null(load("base: &b {x: 1}\n"
                     "other:\n"
                     "  <<: *b\n"));
    ERR_HAS("alias");
    /* an anchor alone is harmless */
    assert_non_null(load("base: &b {x: 1}\n"));
    assert_string_equal(sw_cfg_scalar(sw_cfg_get(g_root, "base.x")), "1");
}

static void test_syntax_errors_have_lines(void **state)
{
    (void)state;
    assert_null(load("a: 1\n"
                     "b:\n"
                     "  c: [1, 2\n"
                     "d: 3\n"));
    ERR_HAS("<string>:");
    /* libyaml notices the unclosed flow sequence at the next key */
    assert_true(strstr(g_err, ":3:") || strstr(g_err, ":4:"));
    assert_null(load("a: 1\n"
                     "b: 2\n"
                     "  c: 3\n"));
    ERR_HAS(":3:");
    assert_null(load("x: 1\na: \"unterminated\n"));
    /* libyaml reports the end of the stream where the string started or
     * where it ran out of input */
    assert_true(strstr(g_err, ":2:") || strstr(g_err, ":3:"));
    ERR_HAS("end of stream");
    assert_null(load("a: 1\n\tb: 2\n"));
    ERR_HAS(":2:");
    /* complex keys are not scalars */
    assert_null(load("? [a, b]\n: 1\n"));
    ERR_HAS("map keys must be scalars");
}

static void test_nesting_depth_limit(void **state)
{
    (void)state;
    static char deep[4096];
    size_t n = 0;
    for (int i = 0; i < 200; i++)
        deep[n++] = '[';
    for (int i = 0; i < 200; i++)
        deep[n++] = ']';
    deep[n] = 0;
    char doc[4200];
    snprintf(doc, sizeof doc, "a: %s\n", deep);
    assert_null(load(doc));
    ERR_HAS("nesting deeper than");
}

static void test_load_file(void **state)
{
    (void)state;
    char path[] = "/tmp/sw-test-cfg-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *yaml = "x:\n  y: yes\n  z: [\n";
    assert_int_equal(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
    close(fd);
    sw_cfg_node *r = sw_cfg_load_file(path, g_err, sizeof g_err);
    assert_null(r);
    ERR_HAS(path); /* the file is named in the message */
    unlink(path);
    r = sw_cfg_load_file(path, g_err, sizeof g_err);
    assert_null(r);
    ERR_HAS(path);
    ERR_HAS("No such file");
}

static void test_getters_ints_bools(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("i:\n"
                                "  pos: 42\n"
                                "  neg: -7\n"
                                "  hex: 0x20\n"
                                "  big: 18446744073709551615\n"
                                "  over: 18446744073709551616\n"
                                "  word: many\n"
                                "  frac: 1.5\n"
                                "  map: {a: 1}\n"
                                "b:\n"
                                "  y: yes\n"
                                "  t: TRUE\n"
                                "  on: on\n"
                                "  n: no\n"
                                "  off: Off\n"
                                "  zero: 0\n"
                                "  bad: maybe\n"
                                "d:\n"
                                "  pi: 3.25\n"
                                "  nan: nan\n");
    assert_non_null(r);
    uint64_t u = 0;
    int64_t s = 0;
    assert_int_equal(sw_cfg_get_u64(r, "i.pos", &u, g_err, sizeof g_err), 0);
    assert_int_equal(u, 42);
    assert_int_equal(sw_cfg_get_u64(r, "i.hex", &u, g_err, sizeof g_err), 0);
    assert_int_equal(u, 32);
    assert_int_equal(sw_cfg_get_u64(r, "i.big", &u, g_err, sizeof g_err), 0);
    assert_true(u == UINT64_MAX);
    assert_int_equal(sw_cfg_get_int(r, "i.neg", &s, g_err, sizeof g_err), 0);
    assert_int_equal(s, -7);
    u = 5;
    const char *bad_u[] = {"i.neg", "i.over", "i.word", "i.frac", "i.map"};
    for (size_t k = 0; k < 5; k++) {
        assert_int_equal(sw_cfg_get_u64(r, bad_u[k], &u, g_err, sizeof g_err), -1);
        ERR_HAS(bad_u[k]);
        assert_int_equal(u, 5); /* untouched on error */
    }
    ERR_HAS("line 9"); /* i.map */
    assert_int_equal(sw_cfg_get_int(r, "i.word", &s, g_err, sizeof g_err), -1);
    ERR_HAS("config: i.word (line 7): 'many'");
    /* absent: 0 and untouched */
    assert_int_equal(sw_cfg_get_u64(r, "i.absent", &u, g_err, sizeof g_err), 0);
    assert_int_equal(u, 5);

    const char *yes[] = {"b.y", "b.t", "b.on"}, *no[] = {"b.n", "b.off", "b.zero"};
    for (size_t k = 0; k < 3; k++) {
        bool v = false;
        assert_int_equal(sw_cfg_get_bool(r, yes[k], &v, g_err, sizeof g_err), 0);
        assert_true(v);
        v = true;
        assert_int_equal(sw_cfg_get_bool(r, no[k], &v, g_err, sizeof g_err), 0);
        assert_false(v);
    }
    bool v = true;
    assert_int_equal(sw_cfg_get_bool(r, "b.bad", &v, g_err, sizeof g_err), -1);
    ERR_HAS("b.bad");
    ERR_HAS("maybe");
    assert_true(v);

    double dv = 0;
    assert_int_equal(sw_cfg_get_double(r, "d.pi", &dv, g_err, sizeof g_err), 0);
    assert_true(dv == 3.25);
    assert_int_equal(sw_cfg_get_double(r, "d.nan", &dv, g_err, sizeof g_err), -1);
    ERR_HAS("d.nan");
    const char *str = NULL;
    assert_int_equal(sw_cfg_get_str(r, "b.bad", &str, g_err, sizeof g_err), 0);
    assert_string_equal(str, "maybe");
    assert_int_equal(sw_cfg_get_str(r, "i.map", &str, g_err, sizeof g_err), -1);
    ERR_HAS("i.map");
}

static void test_sizes(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("s:\n"
                                "  plain: 1024\n"
                                "  kb: 64kb\n"
                                "  mb: 64mb\n"
                                "  MB: 32MB\n"
                                "  gb: 2gb\n"
                                "  g: 1g\n"
                                "  kib: 4KiB\n"
                                "  spaced: 8 mb\n"
                                "  frac: 1.5kb\n"
                                "  neg: -1mb\n"
                                "  unit: 5tb\n"
                                "  junk: mb\n"
                                "  huge: 100000000000gb\n");
    assert_non_null(r);
    static const struct {
        const char *k;
        uint64_t v;
    } ok[] = {{"s.plain", 1024},         {"s.kb", 64 << 10},      {"s.mb", 64 << 20},
              {"s.MB", 32 << 20},        {"s.gb", 2ull << 30},    {"s.g", 1ull << 30},
              {"s.kib", 4096},           {"s.spaced", 8 << 20},   {"s.frac", 1536}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v = 0;
        assert_int_equal(sw_cfg_get_size(r, ok[i].k, &v, g_err, sizeof g_err), 0);
        if (v != ok[i].v)
            fail_msg("%s = %llu, want %llu", ok[i].k, (unsigned long long)v,
                     (unsigned long long)ok[i].v);
    }
    const char *bad[] = {"s.neg", "s.unit", "s.junk", "s.huge"};
    for (size_t i = 0; i < 4; i++) {
        uint64_t v = 9;
        assert_int_equal(sw_cfg_get_size(r, bad[i], &v, g_err, sizeof g_err), -1);
        ERR_HAS(bad[i]);
        ERR_HAS("size");
        assert_int_equal(v, 9);
    }
}

static void test_durations(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("t:\n"
                                "  bare: 30\n"
                                "  s: 30s\n"
                                "  m: 5m\n"
                                "  min: 2min\n"
                                "  h: 2h\n"
                                "  d: 1d\n"
                                "  ms: 500ms\n"
                                "  us: 250us\n"
                                "  frac: 1.5s\n"
                                "  bad: 5 parsecs\n"
                                "  neg: -5s\n");
    assert_non_null(r);
    static const struct {
        const char *k;
        uint64_t v;
    } ok[] = {{"t.bare", 30000000},     {"t.s", 30000000},      {"t.m", 300000000},
              {"t.min", 120000000},     {"t.h", 7200000000ull}, {"t.d", 86400000000ull},
              {"t.ms", 500000},         {"t.us", 250},          {"t.frac", 1500000}};
    for (size_t i = 0; i < sizeof ok / sizeof *ok; i++) {
        uint64_t v = 0;
        assert_int_equal(sw_cfg_get_duration(r, ok[i].k, &v, g_err, sizeof g_err), 0);
        if (v != ok[i].v)
            fail_msg("%s = %llu, want %llu", ok[i].k, (unsigned long long)v,
                     (unsigned long long)ok[i].v);
    }
    uint64_t v = 3;
    assert_int_equal(sw_cfg_get_duration(r, "t.bad", &v, g_err, sizeof g_err), -1);
    ERR_HAS("t.bad");
    ERR_HAS("duration");
    assert_int_equal(sw_cfg_get_duration(r, "t.neg", &v, g_err, sizeof g_err), -1);
    ERR_HAS("t.neg");
    assert_int_equal(v, 3);
}

/* BUG (sensor/cfg.c scaled): the product x * unit is truncated, and
 * 1.001 * 1e6 is 1000999.9999999999 in binary floating point, so "1.001s"
 * becomes 1000999 us and "0.07kb" 71 bytes. This test fails until scaled()
 * rounds: *out = (uint64_t)llround(r) (or (uint64_t)(r + 0.5)). */
static void test_fractional_units_round(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("t: 1.001s\nk: 0.07kb\nm: 2.3ms\n");
    assert_non_null(r);
    uint64_t v = 0;
    assert_int_equal(sw_cfg_get_duration(r, "m", &v, g_err, sizeof g_err), 0);
    assert_int_equal(v, 2300);
    assert_int_equal(sw_cfg_get_duration(r, "t", &v, g_err, sizeof g_err), 0);
    assert_int_equal(v, 1001000);
    assert_int_equal(sw_cfg_get_size(r, "k", &v, g_err, sizeof g_err), 0);
    assert_int_equal(v, 72); /* 71.68 bytes */
}

/* ---- sw_engine_config_load ------------------------------------------------ */

static int engine_load(const char *yaml, sw_engine_config *c)
{
    sw_engine_config_defaults(c);
    const sw_cfg_node *r = load(yaml);
    assert_non_null(r);
    return sw_engine_config_load(r, c, g_err, sizeof g_err);
}

static void test_engine_config_good(void **state)
{
    (void)state;
    sw_engine_config c;
    assert_int_equal(engine_load("", &c), 0);
    sw_engine_config d;
    sw_engine_config_defaults(&d);
    assert_int_equal(c.workers, d.workers);
    assert_int_equal(c.flow.max_flows, d.flow.max_flows);
    assert_int_equal(engine_load("threading:\n"
                                 "  workers: 4\n"
                                 "  ring-size: 8mb\n"
                                 "stats:\n"
                                 "  interval: 30s\n"
                                 "ndpi:\n"
                                 "  enabled: no\n"
                                 "  max-packets: 10\n"
                                 "health:\n"
                                 "  stall-timeout: 2m\n"
                                 "  drop-rate: 0.05\n"
                                 "flow:\n"
                                 "  max-flows: 1000\n"
                                 "  timeouts:\n"
                                 "    udp-established: 1m\n"
                                 "stream:\n"
                                 "  reassembly:\n"
                                 "    depth: 0\n",
                                 &c),
                     0);
    assert_int_equal(c.workers, 4);
    assert_int_equal(c.ring_size, 8 << 20);
    assert_int_equal(c.stats_interval_us, 30000000);
    assert_false(c.ndpi);
    assert_int_equal(c.ndpi_max_packets, 10);
    assert_int_equal(c.health.stall_us, 120000000);
    assert_true(c.health.drop_rate == 0.05);
    assert_int_equal(c.flow.max_flows, 1000);
    assert_int_equal(c.flow.timeout_udp_est_us, 60000000);
    assert_int_equal(c.stream.depth, 0);
}

static void test_engine_config_bad_values(void **state)
{
    (void)state;
    static const struct {
        const char *yaml;
        const char *key;
    } cases[] = {
        {"threading:\n  workers: 65\n", "threading.workers"},
        {"threading:\n  workers: -1\n", "threading.workers"},
        {"threading:\n  workers: lots\n", "threading.workers"},
        {"threading:\n  ring-size: 1kb\n", "threading.ring-size"},
        {"threading:\n  ring-size: big\n", "threading.ring-size"},
        {"stats:\n  interval: 100ms\n", "stats.interval"},
        {"stats:\n  interval: often\n", "stats.interval"},
        {"ndpi:\n  enabled: perhaps\n", "ndpi.enabled"},
        {"ndpi:\n  max-packets: 0\n", "ndpi.max-packets"},
        {"ndpi:\n  max-packets: 5000\n", "ndpi.max-packets"},
        {"health:\n  drop-rate: high\n", "health.drop-rate"},
        {"health:\n  stall-timeout: 3 weeks\n", "health.stall-timeout"},
        {"flow:\n  max-flows: 0\n", "flow.max-flows"},
        {"flow:\n  memcap: -1gb\n", "flow.memcap"},
        {"flow:\n  timeouts:\n    new: soon\n", "flow.timeouts.new"},
        {"stream:\n  reassembly:\n    memcap: x\n", "stream.reassembly.memcap"},
        {"stream:\n  reassembly:\n    max-segments: 0\n", "stream.reassembly.max-segments"},
        {"threading: {workers: {a: 1}}\n", "threading.workers"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        sw_engine_config c;
        g_err[0] = 0;
        if (engine_load(cases[i].yaml, &c) != -1)
            fail_msg("accepted: %s", cases[i].yaml);
        if (!strstr(g_err, cases[i].key))
            fail_msg("error \"%s\" for %s does not name %s", g_err, cases[i].yaml,
                     cases[i].key);
        assert_non_null(strstr(g_err, "config:"));
    }
}

static void test_packaged_config_loads(void **state)
{
    (void)state;
    /* the default config fragments the package ships must load cleanly */
    const char *src = getenv("SW_SOURCE_DIR");
    char path[1024];
    snprintf(path, sizeof path, "%s/packaging/config.d/00-sensor.yaml", src ? src : ".");
    if (access(path, R_OK) != 0)
        snprintf(path, sizeof path, "/work/main/packaging/config.d/00-sensor.yaml");
    if (access(path, R_OK) != 0)
        skip();
    g_root = sw_cfg_load_file(path, g_err, sizeof g_err);
    if (!g_root)
        fail_msg("%s", g_err);
    sw_engine_config c;
    sw_engine_config_defaults(&c);
    if (sw_engine_config_load(g_root, &c, g_err, sizeof g_err) != 0)
        fail_msg("%s", g_err);
}

static void test_ranged_counts_and_ports(void **state)
{
    (void)state;
    const sw_cfg_node *r = load("a:\n  ok: 5\n  low: 0\n  high: 4294967296\n  word: x\n"
                                "p:\n  one: 53\n  list: [53, 5353]\n  any: any\n"
                                "  bad: [53, 0]\n  many: [1, 2, 3]\n  map: {a: 1}\n");
    assert_non_null(r);
    uint32_t v = 7;
    assert_int_equal(sw_cfg_get_u32_in(r, "a.absent", &v, 1, 10, g_err, sizeof g_err), 0);
    assert_int_equal(v, 7);
    assert_int_equal(sw_cfg_get_u32_in(r, "a.ok", &v, 1, 10, g_err, sizeof g_err), 0);
    assert_int_equal(v, 5);
    assert_int_equal(sw_cfg_get_u32_in(r, "a.low", &v, 1, 10, g_err, sizeof g_err), -1);
    ERR_HAS("a.low: must be 1..10");
    assert_int_equal(v, 5);
    assert_int_equal(sw_cfg_get_u32_in(r, "a.high", &v, 1, UINT32_MAX, g_err, sizeof g_err), -1);
    ERR_HAS("a.high");
    assert_int_equal(sw_cfg_get_u32_in(r, "a.word", &v, 1, 10, g_err, sizeof g_err), -1);
    ERR_HAS("a.word");

    uint16_t ports[2];
    size_t n = 9;
    bool any = true;
    assert_int_equal(sw_cfg_get_ports(r, "p.absent", ports, 2, &n, &any, g_err, sizeof g_err), 0);
    assert_int_equal(n, 9); /* untouched */
    assert_int_equal(sw_cfg_get_ports(r, "p.one", ports, 2, &n, &any, g_err, sizeof g_err), 0);
    assert_int_equal(n, 1);
    assert_int_equal(ports[0], 53);
    assert_false(any);
    assert_int_equal(sw_cfg_get_ports(r, "p.list", ports, 2, &n, &any, g_err, sizeof g_err), 0);
    assert_int_equal(n, 2);
    assert_int_equal(ports[1], 5353);
    assert_int_equal(sw_cfg_get_ports(r, "p.any", ports, 2, &n, &any, g_err, sizeof g_err), 0);
    assert_true(any);
    assert_int_equal(n, 0);
    /* "any" only where the caller accepts it */
    assert_int_equal(sw_cfg_get_ports(r, "p.any", ports, 2, &n, NULL, g_err, sizeof g_err), -1);
    ERR_HAS("'any' is not a port");
    assert_int_equal(sw_cfg_get_ports(r, "p.bad", ports, 2, &n, &any, g_err, sizeof g_err), -1);
    ERR_HAS("p.bad: '0' is not a port");
    assert_int_equal(sw_cfg_get_ports(r, "p.many", ports, 2, &n, &any, g_err, sizeof g_err), -1);
    ERR_HAS("at most 2 ports");
    assert_int_equal(sw_cfg_get_ports(r, "p.map", ports, 2, &n, &any, g_err, sizeof g_err), -1);
    ERR_HAS("p.map");
}

#define T(fn) cmocka_unit_test_teardown(fn, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_nested_maps_and_sequences),
        T(test_empty_and_top_level),
        T(test_duplicate_keys),
        T(test_aliases_rejected),
        T(test_syntax_errors_have_lines),
        T(test_nesting_depth_limit),
        T(test_load_file),
        T(test_getters_ints_bools),
        T(test_sizes),
        T(test_durations),
        T(test_fractional_units_round),
        T(test_engine_config_good),
        T(test_engine_config_bad_values),
        T(test_packaged_config_loads),
        T(test_ranged_counts_and_ports),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
