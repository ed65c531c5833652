/* HTTP parser edge cases on conversations built in the test: compressed
 * and chunked bodies made with zlib here, limits (endless headers, huge
 * chunk sizes, decompression bombs), framing corner cases. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "decoders/http.h"
#include "sensor/cfg.h"

typedef struct out {
    int ntx, nreq, nhdr;
    char uri[8][128], norm[8][128], fname[8][64], host[8][64], method[8][16], reqbody[8][64];
    int port[8], status[8];
    bool has_req[8], has_resp[8], complete[8], truncated[8], bomb[8];
    uint64_t txid[8], length[8], decoded[8];
    uint8_t *body; /* decoded response bytes of all responses */
    size_t blen, bcap;
    size_t gaps;
} out;

static void cpy(char *d, size_t cap, sw_http_bytes b)
{
    size_t n = b.p ? (b.len < cap - 1 ? b.len : cap - 1) : 0;
    if (n)
        memcpy(d, b.p, n);
    d[n] = 0;
}

static void on_req(void *u, const sw_http_tx *tx)
{
    out *o = u;
    if (o->nreq < 8)
        cpy(o->reqbody[o->nreq], sizeof(o->reqbody[0]), tx->req_body);
    o->nreq++;
}
static void on_hdr(void *u, const sw_http_tx *tx) { ((out *)u)->nhdr++; }
static void on_body(void *u, const sw_http_tx *tx, const uint8_t *d, size_t n)
{
    out *o = u;
    if (!d) {
        o->gaps += n;
        return;
    }
    if (o->blen + n > o->bcap) {
        o->bcap = (o->blen + n) * 2;
        o->body = realloc(o->body, o->bcap);
    }
    memcpy(o->body + o->blen, d, n);
    o->blen += n;
}
static void on_done(void *u, const sw_http_tx *tx)
{
    out *o = u;
    int i = o->ntx++;
    if (i >= 8)
        return;
    cpy(o->uri[i], 128, tx->uri_raw);
    cpy(o->norm[i], 128, tx->uri);
    cpy(o->host[i], 64, tx->host);
    cpy(o->fname[i], 64, tx->filename);
    cpy(o->method[i], 16, tx->method);
    o->port[i] = tx->port;
    o->status[i] = tx->status;
    o->has_req[i] = tx->has_request;
    o->has_resp[i] = tx->has_response;
    o->complete[i] = tx->resp_complete;
    o->truncated[i] = tx->resp_truncated;
    o->bomb[i] = tx->resp_bomb;
    o->txid[i] = tx->tx_id;
    o->length[i] = tx->resp_length;
    o->decoded[i] = tx->resp_decoded_len;
}
static const sw_http_callbacks cbs = {on_req, on_hdr, on_body, on_done};

typedef struct msg {
    int dir;
    const uint8_t *p;
    size_t n;
} msg;

static sw_http_config defcfg(void)
{
    sw_http_config c;
    sw_http_config_defaults(&c);
    return c;
}

/* Feeds the messages in order, in pieces of step bytes (0 = whole). */
static void play(const sw_http_config *c, const msg *m, size_t nm, size_t step, out *o,
                 uint64_t *ctrs, sw_http_state **keep)
{
    memset(o, 0, sizeof(*o));
    sw_http_state *s = sw_http_new(c, ctrs);
    assert_non_null(s);
    for (size_t i = 0; i < nm; i++) {
        size_t st = step ? step : m[i].n;
        for (size_t k = 0; k < m[i].n; k += st)
            sw_http_feed(s, m[i].dir, m[i].p + k, m[i].n - k < st ? m[i].n - k : st, 0,
                         &cbs, o);
    }
    if (keep) {
        *keep = s;
        return;
    }
    sw_http_close(s, 0, &cbs, o);
    sw_http_free(s);
}

#define S(str) (const uint8_t *)(str), sizeof(str) - 1

static size_t gz(const uint8_t *in, size_t n, uint8_t *outb, size_t cap, int wbits)
{
    z_stream z;
    memset(&z, 0, sizeof(z));
    assert_int_equal(deflateInit2(&z, 9, Z_DEFLATED, wbits, 9, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)(uintptr_t)in;
    z.avail_in = (uInt)n;
    z.next_out = outb;
    z.avail_out = (uInt)cap;
    assert_int_equal(deflate(&z, Z_FINISH), Z_STREAM_END);
    size_t r = z.total_out;
    deflateEnd(&z);
    return r;
}

static void test_chunked_gzip(void **st)
{
    (void)st;
    char plain[5000];
    for (size_t i = 0; i < sizeof(plain); i++)
        plain[i] = "spanwatch http body "[i % 20] + (char)(i / 1000);
    uint8_t z[8192];
    size_t zn = gz((uint8_t *)plain, sizeof(plain), z, sizeof(z), 15 + 16);
    /* chunk the gzip stream in 3 uneven chunks, with an extension */
    static uint8_t resp[16384];
    size_t a = zn / 3, b = zn / 2;
    int n = snprintf((char *)resp, sizeof(resp),
                     "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n%zx;name=val\r\n", a);
    memcpy(resp + n, z, a);
    n += (int)a;
    n += snprintf((char *)resp + n, 64, "\r\n%zX\r\n", b);
    memcpy(resp + n, z + a, b);
    n += (int)b;
    n += snprintf((char *)resp + n, 64, "\r\n%zx\r\n", zn - a - b);
    memcpy(resp + n, z + a + b, zn - a - b);
    n += (int)(zn - a - b);
    n += snprintf((char *)resp + n, 64, "\r\n0\r\nX-Trailer: 1\r\n\r\n");
    msg m[] = {{0, S("GET /x HTTP/1.1\r\nHost: a\r\n\r\n")},
               {1, resp, (size_t)n},
               {0, S("GET /y HTTP/1.1\r\nHost: a\r\n\r\n")},
               {1, S("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")}};
    for (size_t step = 0; step <= 1; step++) {
        out o;
        uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
        sw_http_config c = defcfg();
        play(&c, m, 4, step, &o, ctrs, NULL);
        assert_int_equal(o.ntx, 2);
        assert_true(o.complete[0]);
        assert_int_equal(o.length[0], zn);
        assert_int_equal(o.decoded[0], sizeof(plain));
        assert_int_equal(o.blen, sizeof(plain) + 2);
        assert_memory_equal(o.body, plain, sizeof(plain));
        assert_memory_equal(o.body + sizeof(plain), "ok", 2);
        assert_int_equal(o.txid[1], 1);
        assert_string_equal(o.uri[1], "/y");
        assert_int_equal(ctrs[SW_HTTP_CTR_DECOMPRESS_ERR], 0);
        free(o.body);
    }
}

static void test_deflate_raw_and_zlib(void **st)
{
    (void)st;
    const char *plain = "raw deflate bodies are what IIS sends for 'deflate' ...";
    size_t pn = strlen(plain);
    for (int wb = 0; wb < 2; wb++) {
        uint8_t z[512];
        size_t zn = gz((const uint8_t *)plain, pn, z, sizeof(z), wb ? 15 : -15);
        char hdr[128];
        int hn = snprintf(hdr, sizeof(hdr),
                          "HTTP/1.1 200 OK\r\nContent-Encoding: deflate\r\n"
                          "Content-Length: %zu\r\n\r\n", zn);
        msg m[] = {{0, S("GET / HTTP/1.1\r\n\r\n")},
                   {1, (uint8_t *)hdr, (size_t)hn},
                   {1, z, zn}};
        out o;
        sw_http_config c = defcfg();
        play(&c, m, 3, 0, &o, NULL, NULL);
        assert_int_equal(o.ntx, 1);
        assert_int_equal(o.blen, pn);
        assert_memory_equal(o.body, plain, pn);
        free(o.body);
    }
}

static void test_gzip_bomb(void **st)
{
    (void)st;
    size_t pn = 64u << 20; /* 64 MiB of zeros: ~65 KiB gzipped */
    uint8_t *plain = calloc(1, pn);
    uint8_t *z = malloc(1 << 20);
    size_t zn = gz(plain, pn, z, 1 << 20, 15 + 16);
    free(plain);
    char hdr[128];
    int hn = snprintf(hdr, sizeof(hdr),
                      "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\n"
                      "Content-Length: %zu\r\n\r\n", zn);
    msg m[] = {{0, S("GET /bomb HTTP/1.1\r\n\r\n")},
               {1, (uint8_t *)hdr, (size_t)hn},
               {1, z, zn},
               {0, S("GET /after HTTP/1.1\r\n\r\n")},
               {1, S("HTTP/1.1 204 No Content\r\n\r\n")}};
    out o;
    uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
    sw_http_config c = defcfg();
    play(&c, m, 5, 0, &o, ctrs, NULL);
    assert_int_equal(ctrs[SW_HTTP_CTR_DECOMPRESS_BOMB], 1);
    assert_int_equal(o.ntx, 2);
    assert_true(o.bomb[0]);
    assert_true(o.complete[0]); /* framing intact: the next tx parses */
    assert_int_equal(o.length[0], zn);
    /* stopped just past the 1 MiB floor where the ratio is judged */
    assert_true(o.decoded[0] > c.decompress_bomb_min);
    assert_true(o.decoded[0] < 4u * c.decompress_bomb_min);
    assert_string_equal(o.uri[1], "/after");
    assert_int_equal(o.status[1], 204);
    free(o.body);
    free(z);
}

static void test_endless_headers(void **st)
{
    (void)st;
    sw_http_config c = defcfg();
    c.max_header_bytes = 1024;
    c.max_headers = 10;
    sw_http_state *s;
    out o;
    uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
    msg m[] = {{0, S("GET /h HTTP/1.1\r\nHost: example.com:8080\r\n")}};
    play(&c, m, 1, 0, &o, ctrs, &s);
    /* 1 MB of header lines that never end */
    char line[64];
    for (int i = 0; i < 20000; i++) {
        int n = snprintf(line, sizeof(line), "X-Pad-%d: %040d\r\n", i, i);
        sw_http_feed(s, 0, (uint8_t *)line, (size_t)n, 0, &cbs, &o);
    }
    assert_int_equal(ctrs[SW_HTTP_CTR_TOO_MANY_HEADERS], 1);
    assert_int_equal(o.nreq, 0);
    /* when they finally end, the kept part is parsed */
    sw_http_feed(s, 0, S("\r\n"), 0, &cbs, &o);
    assert_int_equal(o.nreq, 1);
    sw_http_feed(s, 1, S("HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n"), 0, &cbs,
                 &o);
    assert_int_equal(o.ntx, 1);
    assert_string_equal(o.host[0], "example.com");
    assert_int_equal(o.port[0], 8080);
    assert_int_equal(o.status[0], 304);
    sw_http_close(s, 0, &cbs, &o);
    sw_http_free(s);

    /* a single endless header line is cut at max_header_bytes */
    memset(ctrs, 0, sizeof(ctrs));
    msg m2[] = {{0, S("GET /h HTTP/1.1\r\nX-Long: ")}};
    play(&c, m2, 1, 0, &o, ctrs, &s);
    char big[4096];
    memset(big, 'A', sizeof(big));
    for (int i = 0; i < 256; i++)
        sw_http_feed(s, 0, (uint8_t *)big, sizeof(big), 0, &cbs, &o);
    assert_int_equal(ctrs[SW_HTTP_CTR_HEADER_TOO_LONG], 1);
    sw_http_feed(s, 0, S("\r\nHost: b\r\n\r\n"), 0, &cbs, &o);
    assert_int_equal(o.nreq, 1);
    sw_http_close(s, 0, &cbs, &o);
    sw_http_free(s);
    assert_int_equal(o.ntx, 1);
    assert_string_equal(o.uri[0], "/h");
    assert_string_equal(o.host[0], "b");
}

static void test_huge_chunk(void **st)
{
    (void)st;
    msg m[] = {{0, S("GET / HTTP/1.1\r\n\r\n")},
               {1, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                     "4\r\nabcd\r\nffffffffffffffffff\r\nxyz")}};
    for (size_t step = 0; step <= 1; step++) {
        out o;
        uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
        sw_http_config c = defcfg();
        play(&c, m, 2, step, &o, ctrs, NULL);
        assert_int_equal(ctrs[SW_HTTP_CTR_CHUNK_SIZE_INVALID], 1);
        assert_int_equal(o.ntx, 1);
        assert_true(o.truncated[0]);
        assert_int_equal(o.blen, 4);
        free(o.body);
    }
    /* an endless chunk extension is bounded too */
    sw_http_state *s;
    out o;
    uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
    sw_http_config c = defcfg();
    msg m2[] = {{0, S("GET / HTTP/1.1\r\n\r\n")},
                {1, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10;")}};
    play(&c, m2, 2, 0, &o, ctrs, &s);
    char ext[512];
    memset(ext, 'e', sizeof(ext));
    for (int i = 0; i < 100; i++)
        sw_http_feed(s, 1, (uint8_t *)ext, sizeof(ext), 0, &cbs, &o);
    assert_int_equal(ctrs[SW_HTTP_CTR_CHUNK_SIZE_INVALID], 1);
    sw_http_close(s, 0, &cbs, &o);
    sw_http_free(s);
    assert_int_equal(o.ntx, 1);
}

static void test_garbage(void **st)
{
    (void)st;
    static const uint8_t tls[] = {0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc};
    msg m[] = {{0, tls, sizeof(tls)}, {1, S("HTTP/1.1 200 OK\r\n\r\n")}};
    out o;
    uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
    sw_http_config c = defcfg();
    sw_http_state *s;
    play(&c, m, 2, 0, &o, ctrs, &s);
    assert_true(sw_http_is_dead(s));
    sw_http_close(s, 0, &cbs, &o);
    sw_http_free(s);
    assert_int_equal(ctrs[SW_HTTP_CTR_GARBAGE], 1);
    assert_int_equal(o.ntx, 0);
    /* a response direction that is not HTTP */
    msg m2[] = {{0, S("GET / HTTP/1.1\r\n\r\n")}, {1, S("SSH-2.0-OpenSSH_9.0\r\n")}};
    memset(ctrs, 0, sizeof(ctrs));
    play(&c, m2, 2, 1, &o, ctrs, NULL);
    assert_int_equal(ctrs[SW_HTTP_CTR_GARBAGE], 1);
}

static void test_no_body_and_interim(void **st)
{
    (void)st;
    msg m[] = {
        {0, S("HEAD /a HTTP/1.1\r\nHost: h\r\n\r\nGET /b HTTP/1.1\r\nHost: h\r\n\r\n"
              "POST /c HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n"
              "Content-Length: 5\r\n\r\n")},
        {1, S("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n"      /* HEAD */
              "HTTP/1.1 304 Not Modified\r\nContent-Length: 99\r\n\r\n" /* no body */
              "HTTP/1.1 100 Continue\r\n\r\n")},
        {0, S("a=b&c")},
        {1, S("HTTP/1.1 201 Created\r\nContent-Length: 3\r\n\r\nnew")},
    };
    for (size_t step = 0; step <= 1; step++) {
        out o;
        sw_http_config c = defcfg();
        play(&c, m, 4, step, &o, NULL, NULL);
        assert_int_equal(o.ntx, 3);
        assert_string_equal(o.method[0], "HEAD");
        assert_int_equal(o.status[0], 200);
        assert_int_equal(o.length[0], 0);
        assert_int_equal(o.status[1], 304);
        assert_string_equal(o.method[2], "POST");
        assert_int_equal(o.status[2], 201);
        assert_string_equal(o.reqbody[2], "a=b&c");
        assert_int_equal(o.blen, 3);
        for (int i = 0; i < 3; i++) {
            assert_int_equal(o.txid[i], (uint64_t)i);
            assert_true(o.complete[i]);
        }
        free(o.body);
    }
}

static void test_close_delimited_and_midstream(void **st)
{
    (void)st;
    /* HTTP/1.0 body until close; a response whose request was not seen */
    msg m[] = {{1, S("HTTP/1.0 200 OK\r\nContent-Type: text/plain\r\n\r\nall of ")},
               {1, S("this until FIN")}};
    out o;
    uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
    sw_http_config c = defcfg();
    play(&c, m, 2, 0, &o, ctrs, NULL);
    assert_int_equal(o.ntx, 1);
    assert_false(o.has_req[0]);
    assert_true(o.has_resp[0]);
    assert_true(o.complete[0]);
    assert_int_equal(o.length[0], 21);
    assert_int_equal(ctrs[SW_HTTP_CTR_NO_REQUEST], 1);
    free(o.body);
    /* a request without response is logged at close; a cut CL body is
     * truncated */
    msg m2[] = {{0, S("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\n")},
                {1, S("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort")}};
    play(&c, m2, 2, 0, &o, NULL, NULL);
    assert_int_equal(o.ntx, 2);
    assert_true(o.truncated[0]);
    assert_int_equal(o.length[0], 5);
    assert_string_equal(o.uri[1], "/2");
    assert_false(o.has_resp[1]);
    free(o.body);
}

static void test_uri_host(void **st)
{
    (void)st;
    msg m[] = {{0, S("GET /a/./b/../%63//d/%2e%2e/e?x=%41&y=/../ HTTP/1.1\r\n"
                     "Host: WWW.Example.COM.:8443\r\n\r\n"
                     "GET http://user@Proxy.Example.net:3128/p/q?r HTTP/1.1\r\n"
                     "Host: ignored.example\r\n\r\n"
                     "GET /../../etc/passwd HTTP/1.0\r\nHost: [2001:db8::1]:80\r\n\r\n")}};
    out o;
    sw_http_config c = defcfg();
    play(&c, m, 1, 0, &o, NULL, NULL);
    assert_int_equal(o.ntx, 3);
    assert_string_equal(o.uri[0], "/a/./b/../%63//d/%2e%2e/e?x=%41&y=/../");
    assert_string_equal(o.norm[0], "/a/c/e?x=A&y=/../");
    assert_string_equal(o.host[0], "www.example.com");
    assert_int_equal(o.port[0], 8443);
    assert_string_equal(o.norm[1], "/p/q?r");
    assert_string_equal(o.host[1], "proxy.example.net");
    assert_int_equal(o.port[1], 3128);
    assert_string_equal(o.norm[2], "/etc/passwd");
    assert_string_equal(o.host[2], "[2001:db8::1]");
    assert_int_equal(o.port[2], 80);
}

static void test_pipeline_overflow(void **st)
{
    (void)st;
    sw_http_config c = defcfg();
    c.max_pipeline = 2;
    msg m[] = {{0, S("GET /1 HTTP/1.1\r\n\r\nGET /2 HTTP/1.1\r\n\r\nGET /3 HTTP/1.1\r\n\r\n")},
               {1, S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                     "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n")}};
    out o;
    uint64_t ctrs[SW_HTTP_CTR_COUNT] = {0};
    play(&c, m, 2, 0, &o, ctrs, NULL);
    assert_int_equal(ctrs[SW_HTTP_CTR_PIPELINE_OVERFLOW], 1);
    assert_int_equal(o.ntx, 2);
    assert_int_equal(o.status[0], 200);
    assert_int_equal(o.status[1], 404);
    assert_string_equal(o.uri[1], "/2");
}

static void test_connect_tls_tunnel(void **st)
{
    (void)st;
    static const uint8_t hello[] = {0x16, 0x03, 0x01, 0x00, 0x05, 1, 2, 3, 4, 5};
    msg m[] = {{0, S("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n")},
               {1, S("HTTP/1.1 200 Connection established\r\n\r\n")},
               {0, hello, sizeof(hello)}};
    out o;
    sw_http_config c = defcfg();
    sw_http_state *s;
    play(&c, m, 3, 1, &o, NULL, &s);
    assert_true(sw_http_is_tunnel(s));
    assert_false(sw_http_is_dead(s));
    sw_http_close(s, 0, &cbs, &o);
    sw_http_free(s);
    assert_int_equal(o.ntx, 1);
    assert_string_equal(o.host[0], "example.com");
}

static void test_header_lookup(void **st)
{
    (void)st;
    const char *blk = "Host: a\r\nContent-Disposition: attachment; filename*=UTF-8''r%C3%A9.exe;"
                      " filename=\"plain.exe\"\r\n  folded\r\nX-Y:z\r\n";
    sw_http_bytes b = {(const uint8_t *)blk, strlen(blk)};
    sw_http_bytes v = sw_http_header(b, "x-y");
    assert_int_equal(v.len, 1);
    assert_memory_equal(v.p, "z", 1);
    assert_null(sw_http_header(b, "cookie").p);
    msg m[] = {{0, S("GET /f HTTP/1.1\r\n\r\n")},
               {1, S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\nContent-Disposition: attachment;"
                     " filename*=UTF-8''r%C3%A9.exe; filename=\"plain.exe\"\r\n\r\n")}};
    out o;
    sw_http_config c = defcfg();
    play(&c, m, 2, 0, &o, NULL, NULL);
    assert_int_equal(o.ntx, 1);
    assert_string_equal(o.fname[0], "plain.exe");
}

static void test_config_load(void **st)
{
    (void)st;
    char err[256];
    sw_cfg_node *root = sw_cfg_load_string("app-layer:\n  http:\n    max-header-bytes: 8kb\n"
                                           "    max-pipeline: 3\n    decompress: no\n"
                                           "    decompress-max-output: 2mb\n",
                                           err, sizeof(err));
    assert_non_null(root);
    sw_http_config c = defcfg();
    assert_int_equal(sw_http_config_load(root, &c, err, sizeof(err)), 0);
    assert_int_equal(c.max_header_bytes, 8192);
    assert_int_equal(c.max_pipeline, 3);
    assert_false(c.decompress);
    assert_int_equal(c.decompress_max_output, 2u << 20);
    assert_int_equal(c.max_headers, 100); /* default kept */
    sw_cfg_free(root);
    root = sw_cfg_load_string("app-layer:\n  http:\n    max-pipeline: 0\n", err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_http_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "app-layer.http.max-pipeline"));
    sw_cfg_free(root);
    /* no config at all: defaults */
    c = defcfg();
    assert_int_equal(sw_http_config_load(NULL, &c, err, sizeof(err)), 0);
    assert_int_equal(c.response_body_limit, 65536);
}

/* Deterministic mutation run: sanitizers must stay quiet and every
 * started transaction must be reported exactly once. */
static void test_mutations(void **st)
{
    (void)st;
    static const char base[] =
        "GET /a?b=c HTTP/1.1\r\nHost: x:81\r\nTransfer-Encoding: chunked\r\n\r\n"
        "3\r\nabc\r\n0\r\n\r\n";
    static const char resp[] =
        "HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nTransfer-Encoding: chunked\r\n\r\n"
        "a\r\n\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\r\n0\r\n\r\n"
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 204 OK\r\n\r\n";
    uint32_t rng = 12345;
    sw_http_config c = defcfg();
    c.max_pipeline = 3;
    c.max_header_bytes = 300;
    uint8_t buf[2][512];
    for (int it = 0; it < 3000; it++) {
        size_t n0 = sizeof(base) - 1, n1 = sizeof(resp) - 1;
        memcpy(buf[0], base, n0);
        memcpy(buf[1], resp, n1);
        for (int k = 0; k < 4; k++) {
            rng = rng * 1103515245u + 12345u;
            int d = (rng >> 8) & 1;
            size_t n = d ? n1 : n0;
            buf[d][(rng >> 10) % n] = (uint8_t)(rng >> 20);
        }
        out o;
        memset(&o, 0, sizeof(o));
        sw_http_state *s = sw_http_new(&c, NULL);
        size_t off[2] = {0, 0};
        size_t len[2] = {n0, n1};
        while (off[0] < len[0] || off[1] < len[1]) {
            rng = rng * 1103515245u + 12345u;
            int d = (rng >> 8) & 1;
            if (off[d] >= len[d])
                d ^= 1;
            size_t k = 1 + (rng >> 12) % 17;
            if (k > len[d] - off[d])
                k = len[d] - off[d];
            if (((rng >> 24) & 31) == 0)
                sw_http_gap(s, d, k, 0, &cbs, &o);
            else
                sw_http_feed(s, d, buf[d] + off[d], k, 0, &cbs, &o);
            off[d] += k;
        }
        sw_http_close(s, 0, &cbs, &o);
        sw_http_free(s);
        assert_true(o.ntx <= 4);
        for (int i = 0; i < o.ntx && i < 8; i++)
            assert_true(o.txid[i] < 4);
        free(o.body);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chunked_gzip),
        cmocka_unit_test(test_deflate_raw_and_zlib),
        cmocka_unit_test(test_gzip_bomb),
        cmocka_unit_test(test_endless_headers),
        cmocka_unit_test(test_huge_chunk),
        cmocka_unit_test(test_garbage),
        cmocka_unit_test(test_no_body_and_interim),
        cmocka_unit_test(test_close_delimited_and_midstream),
        cmocka_unit_test(test_uri_host),
        cmocka_unit_test(test_pipeline_overflow),
        cmocka_unit_test(test_connect_tls_tunnel),
        cmocka_unit_test(test_header_lookup),
        cmocka_unit_test(test_config_load),
        cmocka_unit_test(test_mutations),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
