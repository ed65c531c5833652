/* HTTP fidelity with Suricata on suricata-verify captures: what the EVE
 * http object and the parser report where spanwatch used to differ.
 * Expected values are those of the suricata-verify test.yaml of each
 * capture (OISF/suricata-verify, see test-pcaps/PROVENANCE.tsv) and tshark. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "decoders/http.h"
#include "sensor/cfg.h"
#include "sensor/eve_http.h"
#include "sensor/json.h"
#include "test_http_pcap.h"

typedef struct rec {
    sw_json j;
    unsigned dump;
    char eve[8][8192];
    unsigned events[8];
    int n;
    char body[256];
    size_t body_len;
} rec;

static void on_body(void *u, const sw_http_tx *tx, const uint8_t *d, size_t n)
{
    (void)tx;
    rec *r = u;
    if (d && r->body_len + n < sizeof r->body) {
        memcpy(r->body + r->body_len, d, n);
        r->body_len += n;
    }
}

static void on_done(void *u, const sw_http_tx *tx)
{
    rec *r = u;
    assert_true(r->n < 8);
    swj_reset(&r->j);
    sw_eve_http_event(&r->j, tx, r->dump);
    size_t len = swj_finish(&r->j);
    assert_true(len > 0 && len < sizeof(r->eve[0]));
    memcpy(r->eve[r->n], r->j.buf, len);
    r->eve[r->n][len] = '\0';
    r->events[r->n] = tx->events;
    r->n++;
}

static const sw_http_callbacks cbs = {NULL, NULL, on_body, on_done};

static void feed_pcap(const char *pcap, const sw_http_config *cfg, rec *r)
{
    char path[1024];
    tp_conn c;
    assert_int_equal(tp_read(tu_test_pcap(path, sizeof(path), pcap), 0, &c), 0);
    sw_http_state *s = sw_http_new(cfg, NULL);
    assert_non_null(s);
    for (size_t i = 0; i < c.nch; i++) {
        tp_chunk *k = &c.ch[i];
        if (k->gap)
            sw_http_gap(s, k->dir, k->len, k->ts_us, &cbs, r);
        else
            sw_http_feed(s, k->dir, c.data[k->dir] + k->off, k->len, k->ts_us, &cbs, r);
    }
    sw_http_close(s, 0, &cbs, r);
    sw_http_free(s);
    tp_free(&c);
}

static void feed_bytes(const char *req, const char *resp, const sw_http_config *cfg, rec *r)
{
    sw_http_state *s = sw_http_new(cfg, NULL);
    assert_non_null(s);
    sw_http_feed(s, 0, (const uint8_t *)req, strlen(req), 1, &cbs, r);
    if (resp)
        sw_http_feed(s, 1, (const uint8_t *)resp, strlen(resp), 2, &cbs, r);
    sw_http_close(s, 3, &cbs, r);
    sw_http_free(s);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* The number of {name, value} entries of the array called key. */
static int array_len(const char *eve, const char *key)
{
    char k[64];
    snprintf(k, sizeof k, "\"%s\":[", key);
    const char *a = strstr(eve, k);
    if (!a)
        return -1;
    const char *end = strchr(a, ']');
    assert_non_null(end);
    int n = 0;
    for (const char *p = strstr(a, "{\"name\":"); p && p < end; p = strstr(p + 1, "{\"name\":"))
        n++;
    return n;
}

static sw_http_config config_from(const char *yaml)
{
    char err[256] = "";
    sw_cfg_node *root = sw_cfg_load_string(yaml, err, sizeof err);
    assert_non_null(root);
    sw_http_config c;
    sw_http_config_defaults(&c);
    assert_int_equal(sw_http_config_load(root, &c, err, sizeof err), 0);
    sw_cfg_free(root);
    return c;
}

/* sv-http-all-headers: request_headers[0] Host, response_headers[5]
 * Content-Length 18070, 9 entries each; nothing without the option. */
static void test_all_headers_pcap(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    swj_init(&r.j);
    sw_http_config cfg = config_from("app-layer:\n  http:\n    dump-all-headers: both\n");
    assert_int_equal(cfg.dump_all_headers, SW_HTTP_DUMP_REQUEST | SW_HTTP_DUMP_RESPONSE);
    r.dump = cfg.dump_all_headers;
    feed_pcap("sv-http-all-headers.pcap", &cfg, &r);
    assert_int_equal(r.n, 1);
    const char *e = r.eve[0];
    assert_non_null(strstr(e, "\"request_headers\":[{\"name\":\"Host\",\"value\":\"www.ethereal.com\"}"));
    assert_int_equal(array_len(e, "request_headers"), 9);
    assert_int_equal(array_len(e, "response_headers"), 9);
    assert_non_null(strstr(e, "{\"name\":\"Keep-Alive\",\"value\":\"300\"}"));
    assert_non_null(strstr(e, "{\"name\":\"Accept-Ranges\",\"value\":\"bytes\"},"
                              "{\"name\":\"Content-Length\",\"value\":\"18070\"}"));
    /* after Suricata's basic fields */
    assert_true(strstr(e, "\"length\":") < strstr(e, "\"request_headers\""));
    assert_true(strstr(e, "\"request_headers\"") < strstr(e, "\"response_headers\""));

    r.n = 0;
    r.dump = 0;
    sw_http_config_defaults(&cfg);
    assert_int_equal(cfg.dump_all_headers, 0);
    feed_pcap("sv-http-all-headers.pcap", &cfg, &r);
    assert_null(strstr(r.eve[0], "_headers"));

    r.n = 0;
    r.dump = SW_HTTP_DUMP_RESPONSE;
    feed_pcap("sv-http-all-headers.pcap", &cfg, &r);
    assert_null(strstr(r.eve[0], "request_headers"));
    assert_int_equal(array_len(r.eve[0], "response_headers"), 9);
    swj_free(&r.j);
}

/* libhtp's header table: one entry per name (first spelling, first
 * position), repeated values joined with ", "; values cut at 2047 bytes. */
static void test_header_merge_and_cut(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    swj_init(&r.j);
    r.dump = SW_HTTP_DUMP_REQUEST | SW_HTTP_DUMP_RESPONSE;
    sw_http_config cfg;
    sw_http_config_defaults(&cfg);
    static char req[4096];
    char big[3000];
    memset(big, 'a', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    snprintf(req, sizeof req,
             "GET / HTTP/1.1\r\nHost: x\r\nX-A: 1\r\nx-a:  2 \r\nBig: %s\r\nX-A: 3\r\n\r\n", big);
    feed_bytes(req, "HTTP/1.1 204 No Content\r\nServer: s\r\n\r\n", &cfg, &r);
    assert_int_equal(r.n, 1);
    const char *e = r.eve[0];
    assert_int_equal(array_len(e, "request_headers"), 3);
    assert_non_null(strstr(e, "{\"name\":\"X-A\",\"value\":\"1, 2, 3\"}"));
    assert_int_equal(count(e, "X-A"), 1);
    assert_int_equal(count(e, "x-a"), 0);
    char want[2100];
    snprintf(want, sizeof want, "\"value\":\"%.2047s\"}", big);
    assert_non_null(strstr(e, want));
    assert_non_null(strstr(e, "\"response_headers\":[{\"name\":\"Server\",\"value\":\"s\"}]"));
    swj_free(&r.j);
}

static void test_dump_config_errors(void **st)
{
    (void)st;
    char err[256] = "";
    sw_cfg_node *root =
        sw_cfg_load_string("app-layer:\n  http:\n    dump-all-headers: all\n", err, sizeof err);
    assert_non_null(root);
    sw_http_config c;
    sw_http_config_defaults(&c);
    assert_int_equal(sw_http_config_load(root, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "app-layer.http.dump-all-headers"));
    sw_cfg_free(root);
    assert_int_equal(config_from("app-layer:\n  http:\n    dump-all-headers: request\n")
                         .dump_all_headers,
                     SW_HTTP_DUMP_REQUEST);
    assert_int_equal(config_from("app-layer:\n  http:\n    dump-all-headers: none\n")
                         .dump_all_headers,
                     0);
}

/* sv-http-not09: "GET /" without a protocol but followed by header lines
 * in the same segment is not HTTP/0.9: libhtp (Suricata 8) parses the
 * headers (UA "myscript") and raises REQUEST_LINE_MISSING_PROTOCOL. */
static void test_missing_protocol_pcap(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    swj_init(&r.j);
    sw_http_config cfg;
    sw_http_config_defaults(&cfg);
    feed_pcap("sv-http-not09.pcap", &cfg, &r);
    assert_int_equal(r.n, 1);
    assert_non_null(strstr(r.eve[0], "\"http_user_agent\":\"myscript\""));
    assert_non_null(strstr(r.eve[0], "\"hostname\":\"localhost\""));
    assert_null(strstr(r.eve[0], "\"protocol\""));
    assert_int_equal(r.events[0], SW_HTTP_EV_REQUEST_LINE_MISSING_PROTOCOL);

    swj_reset(&r.j);
    sw_eve_http_anomaly(&r.j, SW_HTTP_EV_REQUEST_LINE_MISSING_PROTOCOL);
    size_t n = swj_finish(&r.j);
    const char *want = "{\"anomaly\":{\"app_proto\":\"http\",\"type\":\"applayer\","
                       "\"event\":\"REQUEST_LINE_MISSING_PROTOCOL\",\"layer\":\"proto_parser\"}}";
    assert_true(n >= strlen(want));
    assert_memory_equal(r.j.buf, want, strlen(want));
    swj_free(&r.j);
}

/* A real HTTP/0.9 request (only whitespace after the line, or the line
 * alone in its segment, as libhtp probes) has no headers and no event. */
static void test_http09_stays_09(void **st)
{
    (void)st;
    static rec r;
    sw_http_config cfg;
    sw_http_config_defaults(&cfg);
    const char *cases[] = {"GET /\r\n", "GET /x\r\n\r\n  \r\n"};
    for (size_t i = 0; i < 2; i++) {
        memset(&r, 0, sizeof r);
        swj_init(&r.j);
        feed_bytes(cases[i], "<html>hi</html>", &cfg, &r);
        assert_true(r.n >= 1);
        assert_int_equal(r.events[0], 0);
        assert_null(strstr(r.eve[0], "http_user_agent"));
        swj_free(&r.j);
    }
    /* 17+ bytes of anything after the line: headers follow, even without
     * a colon in sight. */
    memset(&r, 0, sizeof r);
    swj_init(&r.j);
    feed_bytes("GET /\r\nX-Junk-Line-Without\r\nUser-Agent: u\r\n\r\n", NULL, &cfg, &r);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.events[0], SW_HTTP_EV_REQUEST_LINE_MISSING_PROTOCOL);
    assert_non_null(strstr(r.eve[0], "\"http_user_agent\":\"u\""));
    swj_free(&r.j);
}

/* sv-http-evader-012: chunk sizes followed by a vertical tab ("f\v\r\n");
 * libhtp reads them, so the EICAR file is whole (response bytes of the
 * capture). */
static void test_chunk_size_vtab(void **st)
{
    (void)st;
    static rec r;
    memset(&r, 0, sizeof r);
    swj_init(&r.j);
    sw_http_config cfg;
    sw_http_config_defaults(&cfg);
    feed_bytes("GET /chunked/eicar.txt/size-%5C013 HTTP/1.1\r\nHost: evader.example.com\r\n\r\n",
               "HTTP/1.1 200 ok\r\nContent-type: application/octet-stream\r\n"
               "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
               "f\v\r\nX5O!P%@AP[4\\PZX\r\nf\v\r\n54(P^)7CC)7}$EI\r\n"
               "f\v\r\nCAR-STANDARD-AN\r\nf\v\r\nTIVIRUS-TEST-FI\r\n"
               "8\v\r\nLE!$H+H*\r\n0\r\n\r\n",
               &cfg, &r);
    assert_int_equal(r.n, 1);
    const char eicar[] = "X5O!P%@AP[4\\PZX54(P^)7CC)7}$EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*";
    assert_int_equal(r.body_len, strlen(eicar));
    assert_memory_equal(r.body, eicar, strlen(eicar));
    swj_free(&r.j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_headers_pcap),
        cmocka_unit_test(test_header_merge_and_cut),
        cmocka_unit_test(test_dump_config_errors),
        cmocka_unit_test(test_missing_protocol_pcap),
        cmocka_unit_test(test_http09_stays_09),
        cmocka_unit_test(test_chunk_size_vtab),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
