/* Signature engine: every keyword against matching and non-matching input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sensor/json.h"
#include "signatures/sig_engine.h"

static sw_sig_engine *mk_cfg(const sw_sig_config *cfg, const char *rules)
{
    sw_sig_report rep;
    sw_sig_engine *e = sw_sig_engine_build_string(cfg, "test.rules", rules, &rep);
    if (rep.errors || rep.skipped) {
        for (uint32_t i = 0; i < rep.n_issues && i < SW_SIG_REPORT_MAX_ISSUES; i++)
            fprintf(stderr, "issue %d: %s\n", rep.issues[i].line, rep.issues[i].reason);
    }
    assert_non_null(e);
    assert_int_equal(rep.errors, 0);
    assert_int_equal(rep.skipped, 0);
    return e;
}

static sw_sig_engine *mk(const char *rules)
{
    return mk_cfg(NULL, rules);
}

static uint8_t ip_a[16], ip_b[16];

static void in_init(sw_detect_input *in)
{
    memset(in, 0, sizeof(*in));
    inet_pton(AF_INET, "10.0.0.1", ip_a);
    inet_pton(AF_INET, "93.184.216.34", ip_b);
    in->ip_version = 4;
    in->src_ip = ip_a;
    in->dst_ip = ip_b;
    in->src_port = 40000;
    in->dst_port = 80;
    in->proto = IPPROTO_TCP;
    in->has_flow = true;
    in->to_server = true;
    in->established = true;
    in->ts_us = 1700000000ull * 1000000u;
}

static void set_buf(sw_detect_input *in, int b, const char *s)
{
    in->buf[b].ptr = (const uint8_t *)s;
    in->buf[b].len = (uint32_t)strlen(s);
    if (b == SW_BUF_PAYLOAD)
        in->dsize = in->buf[b].len;
}

static void set_bin(sw_detect_input *in, int b, const void *p, size_t n)
{
    in->buf[b].ptr = p;
    in->buf[b].len = (uint32_t)n;
    if (b == SW_BUF_PAYLOAD)
        in->dsize = (uint32_t)n;
}

/* Runs the engine; returns a bitmask of alerted sids (sids 1..63). */
static uint64_t run_fs(sw_sig_engine *e, const sw_detect_input *in, sw_sig_flow *fs)
{
    sw_sig_thread *t = sw_sig_thread_new(e);
    assert_non_null(t);
    sw_sig_alert al[64];
    int n = sw_sig_match(e, t, in, fs, al, 64);
    uint64_t m = 0;
    for (int i = 0; i < n; i++) {
        assert_true(al[i].sid < 64);
        m |= 1ull << al[i].sid;
    }
    sw_sig_thread_free(t);
    return m;
}

static uint64_t run(sw_sig_engine *e, const sw_detect_input *in)
{
    sw_sig_flow fs = {0};
    return run_fs(e, in, &fs);
}

static uint64_t payload(sw_sig_engine *e, const char *p)
{
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, p);
    return run(e, &in);
}

#define S(x) (1ull << (x))

static void t_content_basic(void **st)
{
    (void)st;
    sw_sig_engine *e = mk("alert tcp any any -> any any (msg:\"cs\"; content:\"Evil\"; sid:1;)\n"
                          "alert tcp any any -> any any (msg:\"nc\"; content:\"evil\"; nocase; sid:2;)\n"
                          "alert tcp any any -> any any (msg:\"hex\"; content:\"|41 42|C\"; sid:3;)\n"
                          "alert tcp any any -> any any (msg:\"off\"; content:\"XY\"; offset:2; depth:2; sid:4;)\n"
                          "alert tcp any any -> any any (msg:\"neg\"; content:\"GET\"; content:!\"evil\"; nocase; sid:5;)\n"
                          "alert tcp any any -> any any (msg:\"esc\"; content:\"a\\;b\\\"c\"; sid:6;)\n");
    assert_int_equal(payload(e, "xxEvilxx"), S(1) | S(2));
    assert_int_equal(payload(e, "xxEVILxx"), S(2));
    assert_int_equal(payload(e, "zABCz"), S(3));
    assert_int_equal(payload(e, "abXYcd"), S(4));
    assert_int_equal(payload(e, "abcXYd"), 0); /* outside offset+depth */
    assert_int_equal(payload(e, "GET / HTTP/1.0"), S(5));
    assert_int_equal(payload(e, "GET /EviL"), S(2) | 0); /* negated content present */
    assert_int_equal(payload(e, "..a;b\"c.."), S(6));
    sw_sig_engine_free(e);
}

static void t_relative_backtrack(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"bt\"; content:\"a\"; content:\"b\"; distance:1; within:1; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"chain3\"; content:\"K=\"; content:\"V\"; distance:0; "
        "pcre:\"/^\\d{3}/R\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"negdist\"; content:\"END\"; content:\"ST\"; distance:-5; within:2; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"notrel\"; content:\"q\"; content:\"r\"; sid:4;)\n");
    /* the first 'a' fails the chain, the second one satisfies it */
    assert_int_equal(payload(e, "azzazb"), S(1));
    assert_int_equal(payload(e, "azzazc"), 0);
    /* V after the first K= is followed by letters; the second V by digits */
    assert_int_equal(payload(e, "K=Vabc K=V123"), S(2));
    assert_int_equal(payload(e, "K=Vabc K=Vxyz"), 0);
    assert_int_equal(payload(e, "STEND"), S(3));
    assert_int_equal(payload(e, "ST.END"), 0);
    assert_int_equal(payload(e, "rq"), S(4)); /* order free without distance/within */
    sw_sig_engine_free(e);
}

static void t_starts_ends(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert http any any -> any any (msg:\"sw\"; http.uri; content:\"/adm\"; startswith; sid:1;)\n"
        "alert http any any -> any any (msg:\"ew\"; http.uri; content:\".php\"; endswith; sid:2;)\n"
        "alert http any any -> any any (msg:\"both\"; http.uri; content:\"/x\"; startswith; endswith; sid:3;)\n");
    sw_detect_input in;
    in_init(&in);
    in.app_proto = SW_APP_HTTP;
    set_buf(&in, SW_BUF_HTTP_URI, "/admin/index.php");
    assert_int_equal(run(e, &in), S(1) | S(2));
    set_buf(&in, SW_BUF_HTTP_URI, "/x/admin/a.php?x");
    assert_int_equal(run(e, &in), 0);
    set_buf(&in, SW_BUF_HTTP_URI, "/x");
    assert_int_equal(run(e, &in), S(3));
    in.app_proto = SW_APP_DNS; /* "alert http" needs http */
    set_buf(&in, SW_BUF_HTTP_URI, "/admin/index.php");
    assert_int_equal(run(e, &in), 0);
    sw_sig_engine_free(e);
}

static void t_isdataat(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"rel\"; content:\"HDR\"; isdataat:4,relative; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"neg\"; content:\"TAIL\"; isdataat:!1,relative; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"abs\"; content:\"Q\"; isdataat:9; sid:3;)\n");
    assert_int_equal(payload(e, "HDR12345"), S(1));
    assert_int_equal(payload(e, "HDR1234"), S(1)); /* 4 bytes follow */
    assert_int_equal(payload(e, "HDR123"), 0);
    assert_int_equal(payload(e, "xxTAIL"), S(2));
    assert_int_equal(payload(e, "xxTAILx"), 0);
    assert_int_equal(payload(e, "Q123456789"), S(3));
    assert_int_equal(payload(e, "Q12345678"), 0);
    sw_sig_engine_free(e);
}

static void t_pcre_flags(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"i\"; pcre:\"/^get\\s+\\/index/i\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"s\"; content:\"a\"; pcre:\"/a.b/s\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"nos\"; content:\"a\"; pcre:\"/a.b/\"; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"m\"; content:\"line2\"; pcre:\"/^line2$/m\"; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"x\"; content:\"c\"; pcre:\"/a b c/x\"; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"neg\"; content:\"user=\"; pcre:!\"/user=root/\"; sid:6;)\n"
        "alert http any any -> any any (msg:\"U\"; pcre:\"/\\/admin\\x2f/U\"; sid:7;)\n");
    assert_int_equal(payload(e, "GET   /index.html"), S(1));
    assert_int_equal(payload(e, "a\nb"), S(2));
    assert_int_equal(payload(e, "axb"), S(2) | S(3));
    assert_int_equal(payload(e, "line1\nline2\nx"), S(4));
    assert_int_equal(payload(e, "abc"), S(5));
    assert_int_equal(payload(e, "user=bob"), S(6));
    assert_int_equal(payload(e, "user=root"), 0);
    sw_detect_input in;
    in_init(&in);
    in.app_proto = SW_APP_HTTP;
    set_buf(&in, SW_BUF_PAYLOAD, "GET /admin/ HTTP/1.1");
    assert_int_equal(run(e, &in), 0); /* /U looks only at the uri buffer */
    set_buf(&in, SW_BUF_HTTP_URI, "/admin/");
    assert_int_equal(run(e, &in), S(7));
    sw_sig_engine_free(e);
}

static void t_byte_test(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"be\"; content:\"|ff|\"; depth:1; byte_test:2,=,16,1; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"le\"; content:\"|ff|\"; depth:1; byte_test:2,=,16,1,little; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"str\"; content:\"len=\"; byte_test:3,>,100,0,relative,string,dec; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"hex\"; content:\"h=\"; byte_test:2,=,255,0,relative,string,hex; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"and\"; content:\"|ff|\"; depth:1; byte_test:1,&,0x10,1; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"notand\"; content:\"|ff|\"; depth:1; byte_test:1,!&,0x10,1; sid:6;)\n"
        "alert tcp any any -> any any (msg:\"bm\"; content:\"|ee|\"; depth:1; byte_test:2,=,3,1,bitmask 0x0300; sid:7;)\n");
    const uint8_t be[] = {0xff, 0x00, 0x10};
    sw_detect_input in;
    in_init(&in);
    set_bin(&in, SW_BUF_PAYLOAD, be, sizeof(be));
    assert_int_equal(run(e, &in), S(1) | S(6));
    const uint8_t le[] = {0xff, 0x10, 0x00}; /* little 16, big 4096 */
    set_bin(&in, SW_BUF_PAYLOAD, le, sizeof(le));
    assert_int_equal(run(e, &in), S(2) | S(5));
    const uint8_t and[] = {0xff, 0x10};
    set_bin(&in, SW_BUF_PAYLOAD, and, sizeof(and));
    assert_int_equal(run(e, &in), S(5));
    const uint8_t bm[] = {0xee, 0x03, 0x55};
    set_bin(&in, SW_BUF_PAYLOAD, bm, sizeof(bm));
    assert_int_equal(run(e, &in), S(7));
    assert_int_equal(payload(e, "xlen=150;"), S(3));
    assert_int_equal(payload(e, "xlen=099;"), 0);
    assert_int_equal(payload(e, "h=ff"), S(4));
    assert_int_equal(payload(e, "h=fe"), 0);
    sw_sig_engine_free(e);
}

static void t_byte_jump(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"be\"; content:\"|00|\"; depth:1; byte_jump:2,0; content:\"XYZ\"; distance:0; within:3; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"le\"; content:\"HDR\"; byte_jump:2,0,relative,little; content:\"END\"; distance:0; within:3; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"fb\"; content:\"FB\"; depth:2; byte_jump:1,2,from_beginning; content:\"!\"; distance:0; within:1; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"al\"; content:\"AL\"; depth:2; byte_jump:1,2,align; content:\"@\"; distance:0; within:1; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"po\"; content:\"PO\"; depth:2; byte_jump:1,2,post_offset -1; content:\"#\"; distance:0; within:1; sid:5;)\n");
    sw_detect_input in;
    in_init(&in);
    const uint8_t a[] = {0x00, 0x03, 'a', 'b', 'c', 'X', 'Y', 'Z'};
    set_bin(&in, SW_BUF_PAYLOAD, a, sizeof(a));
    assert_int_equal(run(e, &in), S(1));
    const uint8_t b[] = {0x00, 0x02, 'a', 'b', 'c', 'X', 'Y', 'Z'};
    set_bin(&in, SW_BUF_PAYLOAD, b, sizeof(b));
    assert_int_equal(run(e, &in), 0);
    const uint8_t c[] = {'H', 'D', 'R', 0x03, 0x00, 'a', 'b', 'c', 'E', 'N', 'D'};
    set_bin(&in, SW_BUF_PAYLOAD, c, sizeof(c));
    assert_int_equal(run(e, &in), S(2));
    const uint8_t c2[] = {'H', 'D', 'R', 0x00, 0x03, 'a', 'b', 'c', 'E', 'N', 'D'};
    set_bin(&in, SW_BUF_PAYLOAD, c2, sizeof(c2)); /* big-endian read would jump 768 */
    assert_int_equal(run(e, &in), 0);
    const uint8_t d[] = {'F', 'B', 0x05, 'x', 'x', '!'};
    set_bin(&in, SW_BUF_PAYLOAD, d, sizeof(d));
    assert_int_equal(run(e, &in), S(3));
    /* value 1 aligned to 4: next byte at 2+1+4 = 7 */
    const uint8_t f[] = {'A', 'L', 0x01, 'x', 'x', 'x', 'x', '@'};
    set_bin(&in, SW_BUF_PAYLOAD, f, sizeof(f));
    assert_int_equal(run(e, &in), S(4));
    const uint8_t g[] = {'P', 'O', 0x02, 'x', '#', 'x'};
    set_bin(&in, SW_BUF_PAYLOAD, g, sizeof(g));
    assert_int_equal(run(e, &in), S(5));
    sw_sig_engine_free(e);
}

static void t_http_buffers(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert http any any -> any any (msg:\"sticky\"; flow:established,to_server; http.method; content:\"POST\"; "
        "http.uri; content:\"/login\"; startswith; http.user_agent; content:\"curl\"; sid:1;)\n"
        "alert http any any -> any any (msg:\"legacy\"; content:\"/login\"; http_uri; content:\"POST\"; http_method; sid:2;)\n"
        "alert http any any -> any any (msg:\"hdr\"; http.header; content:\"X-Evil|3a 20|1|0d 0a|\"; sid:3;)\n"
        "alert http any any -> any any (msg:\"body\"; flow:to_client; file.data; content:\"EICAR\"; sid:4;)\n"
        "alert http any any -> any any (msg:\"host\"; http.host; content:\"example.com\"; bsize:11; sid:5;)\n"
        "alert http any any -> any any (msg:\"urilen\"; urilen:<10; http.method; content:\"GET\"; sid:6;)\n"
        "alert http any any -> any any (msg:\"cookie\"; http.cookie; content:\"sess=\"; sid:7;)\n"
        "alert http any any -> any any (msg:\"stat\"; http.stat_code; content:\"404\"; sid:8;)\n"
        "alert http any any -> any any (msg:\"reqbody\"; http.request_body; content:\"pass=\"; sid:9;)\n");
    sw_detect_input in;
    in_init(&in);
    in.app_proto = SW_APP_HTTP;
    set_buf(&in, SW_BUF_HTTP_METHOD, "POST");
    set_buf(&in, SW_BUF_HTTP_URI, "/login.php");
    set_buf(&in, SW_BUF_HTTP_USER_AGENT, "curl/8.0");
    set_buf(&in, SW_BUF_HTTP_HEADER, "Host: example.com\r\nX-Evil: 1\r\n");
    set_buf(&in, SW_BUF_HTTP_HOST, "example.com");
    set_buf(&in, SW_BUF_HTTP_COOKIE, "sess=1");
    set_buf(&in, SW_BUF_HTTP_REQUEST_BODY, "user=a&pass=b");
    assert_int_equal(run(e, &in), S(1) | S(2) | S(3) | S(5) | S(7) | S(9));
    in.buf[SW_BUF_HTTP_USER_AGENT].ptr = NULL; /* absent buffer: no match */
    in.buf[SW_BUF_HTTP_USER_AGENT].len = 0;
    set_buf(&in, SW_BUF_HTTP_HOST, "www.example.com");
    assert_int_equal(run(e, &in), S(2) | S(3) | S(7) | S(9));
    set_buf(&in, SW_BUF_HTTP_METHOD, "GET");
    set_buf(&in, SW_BUF_HTTP_URI, "/a");
    assert_int_equal(run(e, &in) & (S(2) | S(6)), S(6));

    sw_detect_input r;
    in_init(&r);
    r.app_proto = SW_APP_HTTP;
    r.to_server = false;
    set_buf(&r, SW_BUF_HTTP_RESPONSE_BODY, "X5O!P%@AP EICAR-STANDARD");
    set_buf(&r, SW_BUF_HTTP_STAT_CODE, "404");
    assert_int_equal(run(e, &r), S(4) | S(8));
    r.to_server = true;
    assert_int_equal(run(e, &r), S(8));
    sw_sig_engine_free(e);
}

static void t_dns_tls(void **st)
{
    (void)st;
    /* the first rule is the suricata-verify dns-detect-query-02 one */
    sw_sig_engine *e = mk(
        "alert dns any any -> any any (msg:\"Test dns_query option\"; dns_query; content:\"google.com\"; nocase; sid:1;)\n"
        "alert dns any any -> any any (msg:\"dot\"; dns.query; dotprefix; content:\".evil.com\"; endswith; sid:2;)\n"
        "alert tls any any -> any any (msg:\"sni\"; tls.sni; content:\"bad.example\"; bsize:<20; sid:3;)\n"
        "alert tls any any -> any any (msg:\"ja3\"; ja3.hash; content:\"e7d705a3286e19ea42f587b344ee6865\"; sid:4;)\n"
        "alert tls any any -> any any (msg:\"issuer\"; tls.cert_issuer; content:\"CN=Evil CA\"; sid:5;)\n");
    sw_detect_input in;
    in_init(&in);
    in.proto = IPPROTO_UDP;
    in.dst_port = 53;
    in.app_proto = SW_APP_DNS;
    set_buf(&in, SW_BUF_DNS_QUERY, "WWW.GOOGLE.COM");
    assert_int_equal(run(e, &in), S(1));
    set_buf(&in, SW_BUF_DNS_QUERY, "evil.com");
    assert_int_equal(run(e, &in), S(2));
    set_buf(&in, SW_BUF_DNS_QUERY, "a.b.evil.com");
    assert_int_equal(run(e, &in), S(2));
    set_buf(&in, SW_BUF_DNS_QUERY, "notevil.com");
    assert_int_equal(run(e, &in), 0);
    set_buf(&in, SW_BUF_DNS_QUERY, "evil.com.org");
    assert_int_equal(run(e, &in), 0);

    sw_detect_input t;
    in_init(&t);
    t.dst_port = 443;
    t.app_proto = SW_APP_TLS;
    set_buf(&t, SW_BUF_TLS_SNI, "www.bad.example");
    set_buf(&t, SW_BUF_JA3_HASH, "e7d705a3286e19ea42f587b344ee6865");
    set_buf(&t, SW_BUF_TLS_CERT_ISSUER, "C=XX, CN=Evil CA");
    assert_int_equal(run(e, &t), S(3) | S(4) | S(5));
    set_buf(&t, SW_BUF_TLS_SNI, "a-much-longer.bad.example");
    assert_int_equal(run(e, &t), S(4) | S(5));
    sw_sig_engine_free(e);
}

static void t_dsize_flow(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"ds\"; dsize:>5; content:\"A\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"dsr\"; dsize:2<>4; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"fl\"; flow:established,to_client; content:\"B\"; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"st\"; flow:to_server,only_stream; content:\"C\"; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"ns\"; flow:not_established; content:\"D\"; sid:5;)\n");
    assert_int_equal(payload(e, "AAAAAA"), S(1));
    assert_int_equal(payload(e, "AAAAA"), 0);
    assert_int_equal(payload(e, "xyz"), S(2));
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "..........B");
    assert_int_equal(run(e, &in), 0);
    in.to_server = false;
    assert_int_equal(run(e, &in), S(3));
    in.established = false;
    assert_int_equal(run(e, &in), 0);
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "..........C");
    assert_int_equal(run(e, &in), 0);
    in.is_stream = true;
    assert_int_equal(run(e, &in), S(4));
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "..........D");
    assert_int_equal(run(e, &in), 0);
    in.established = false;
    assert_int_equal(run(e, &in), S(5));
    sw_sig_engine_free(e);
}

static void t_flowbits(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"check\"; content:\"SECRET\"; flowbits:isset,logged_in; sid:11;)\n"
        "alert tcp any any -> any any (msg:\"notset\"; content:\"SECRET\"; flowbits:isnotset,logged_in; sid:12;)\n"
        "alert tcp any any -> any any (msg:\"set\"; content:\"LOGIN\"; flowbits:set,logged_in; flowbits:noalert; sid:10;)\n"
        "alert tcp any any -> any any (msg:\"out\"; content:\"LOGOUT\"; flowbits:unset,logged_in; flowbits:noalert; sid:13;)\n"
        "alert tcp any any -> any any (msg:\"tog\"; content:\"TOGGLE\"; flowbits:toggle,t1; noalert; sid:14;)\n"
        "alert tcp any any -> any any (msg:\"or\"; content:\"ANY\"; flowbits:isset,t1|logged_in; sid:15;)\n"
        "alert tcp any any -> any any (msg:\"and\"; content:\"ALL\"; flowbits:isset,t1&logged_in; sid:16;)\n");
    sw_sig_thread *t = sw_sig_thread_new(e);
    sw_sig_flow fs = {0};
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "SECRET");
    assert_int_equal(run_fs(e, &in, &fs), S(12));
    set_buf(&in, SW_BUF_PAYLOAD, "LOGIN user");
    assert_int_equal(run_fs(e, &in, &fs), 0); /* noalert */
    set_buf(&in, SW_BUF_PAYLOAD, "SECRET");
    assert_int_equal(run_fs(e, &in, &fs), S(11));
    set_buf(&in, SW_BUF_PAYLOAD, "ANY ALL");
    assert_int_equal(run_fs(e, &in, &fs), S(15));
    set_buf(&in, SW_BUF_PAYLOAD, "TOGGLE");
    assert_int_equal(run_fs(e, &in, &fs), 0);
    set_buf(&in, SW_BUF_PAYLOAD, "ANY ALL");
    assert_int_equal(run_fs(e, &in, &fs), S(15) | S(16));
    set_buf(&in, SW_BUF_PAYLOAD, "TOGGLE LOGOUT");
    assert_int_equal(run_fs(e, &in, &fs), 0);
    set_buf(&in, SW_BUF_PAYLOAD, "SECRET ANY");
    assert_int_equal(run_fs(e, &in, &fs), S(12));
    /* setter and reader on one packet: setters run first */
    sw_sig_flow fs2 = {0};
    set_buf(&in, SW_BUF_PAYLOAD, "LOGIN SECRET");
    assert_int_equal(run_fs(e, &in, &fs2), S(11));
    /* no flow state: isset fails, isnotset holds */
    set_buf(&in, SW_BUF_PAYLOAD, "SECRET");
    sw_sig_alert al[8];
    int n = sw_sig_match(e, t, &in, NULL, al, 8);
    assert_int_equal(n, 1);
    assert_int_equal(al[0].sid, 12);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);
}

static int count_sid(sw_sig_engine *e, sw_sig_thread *t, sw_detect_input *in, uint32_t sid)
{
    sw_sig_alert al[16];
    int n = sw_sig_match(e, t, in, NULL, al, 16), c = 0;
    for (int i = 0; i < n; i++)
        c += al[i].sid == sid;
    return c;
}

static void t_threshold(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"limit\"; content:\"L\"; threshold: type limit, track by_src, seconds 60, count 2; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"thr\"; content:\"T\"; threshold:type threshold,track by_dst,count 3,seconds 10; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"both\"; content:\"B\"; threshold:type both,track by_src,count 2,seconds 10; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"df\"; content:\"D\"; detection_filter:track by_src, count 2, seconds 10; sid:4;)\n");
    sw_sig_thread *t = sw_sig_thread_new(e);
    sw_detect_input in;
    in_init(&in);
    uint64_t t0 = in.ts_us, sec = 1000000;
    set_buf(&in, SW_BUF_PAYLOAD, "L");
    int seq_limit[5];
    for (int i = 0; i < 5; i++) {
        in.ts_us = t0 + (uint64_t)i * sec;
        seq_limit[i] = count_sid(e, t, &in, 1);
    }
    assert_int_equal(seq_limit[0] + seq_limit[1], 2);
    assert_int_equal(seq_limit[2] + seq_limit[3] + seq_limit[4], 0);
    /* another source has its own count */
    uint8_t other[4] = {10, 0, 0, 2};
    in.src_ip = other;
    assert_int_equal(count_sid(e, t, &in, 1), 1);
    in.src_ip = ip_a;
    in.ts_us = t0 + 61 * sec; /* window over (packet time) */
    assert_int_equal(count_sid(e, t, &in, 1), 1);

    set_buf(&in, SW_BUF_PAYLOAD, "T");
    int got = 0, hits[7];
    for (int i = 0; i < 7; i++) {
        in.ts_us = t0 + 100 * sec + (uint64_t)i * sec;
        hits[i] = count_sid(e, t, &in, 2);
        got += hits[i];
    }
    assert_int_equal(got, 2); /* every 3rd: 3rd and 6th */
    assert_int_equal(hits[2], 1);
    assert_int_equal(hits[5], 1);

    set_buf(&in, SW_BUF_PAYLOAD, "B");
    got = 0;
    for (int i = 0; i < 5; i++) {
        in.ts_us = t0 + 200 * sec + (uint64_t)i * sec;
        hits[i] = count_sid(e, t, &in, 3);
        got += hits[i];
    }
    assert_int_equal(got, 1);
    assert_int_equal(hits[1], 1);

    set_buf(&in, SW_BUF_PAYLOAD, "D");
    got = 0;
    for (int i = 0; i < 5; i++) {
        in.ts_us = t0 + 300 * sec + (uint64_t)i * sec;
        hits[i] = count_sid(e, t, &in, 4);
        got += hits[i];
    }
    assert_int_equal(got, 3); /* after 2 matches, every one alerts */
    assert_int_equal(hits[0] + hits[1], 0);
    sw_ctr_group g = sw_sig_thread_counters(t);
    assert_string_equal(g.names[SW_SIGC_SUPPRESSED], "detect.alerts_suppressed");
    assert_true(g.vals[SW_SIGC_SUPPRESSED] >= 5);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);
}

static void t_header(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:\"vars\"; content:\"x\"; sid:1;)\n"
        "alert tcp any any -> [1.2.3.0/24,!1.2.3.4] [1000:2000,!1500] (msg:\"grp\"; content:\"x\"; sid:2;)\n"
        "alert tcp 1.1.1.1 any <> 2.2.2.2 !22 (msg:\"bidir\"; content:\"x\"; sid:3;)\n"
        "alert udp any any -> any any (msg:\"udp\"; content:\"x\"; sid:4;)\n"
        "alert ip [2001:db8::/32] any -> any any (msg:\"v6\"; content:\"x\"; sid:5;)\n"
        "alert tcp !$HOME_NET any -> any :1023 (msg:\"neg\"; content:\"x\"; sid:6;)\n");
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "x");
    assert_int_equal(run(e, &in), S(1));
    uint8_t home[4] = {192, 168, 1, 1};
    in.dst_ip = home;
    assert_int_equal(run(e, &in), 0);
    in.dst_ip = ip_b;
    in.dst_port = 81;
    assert_int_equal(run(e, &in), 0);
    uint8_t d1[4] = {1, 2, 3, 5}, d2[4] = {1, 2, 3, 4};
    in.dst_ip = d1;
    in.dst_port = 1001;
    assert_int_equal(run(e, &in), S(2));
    in.dst_port = 1500;
    assert_int_equal(run(e, &in), 0);
    in.dst_port = 1001;
    in.dst_ip = d2;
    assert_int_equal(run(e, &in), 0);
    uint8_t one[4] = {1, 1, 1, 1}, two[4] = {2, 2, 2, 2};
    in.src_ip = two;
    in.dst_ip = one;
    in.src_port = 80;
    in.dst_port = 5555;
    assert_int_equal(run(e, &in), S(3));
    in.src_port = 22; /* reversed direction: rule's dport !22 is the packet's sport */
    assert_int_equal(run(e, &in), 0);
    in.dst_port = 443; /* !$HOME_NET source to a port below 1024 */
    assert_int_equal(run(e, &in), S(6));
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "x");
    in.proto = IPPROTO_UDP;
    in.dst_port = 53;
    assert_int_equal(run(e, &in), S(4));
    uint8_t s6[16], d6[16];
    inet_pton(AF_INET6, "2001:db8::1", s6);
    inet_pton(AF_INET6, "2001:4860::1", d6);
    in.ip_version = 6;
    in.src_ip = s6;
    in.dst_ip = d6;
    assert_int_equal(run(e, &in), S(4) | S(5));
    sw_sig_engine_free(e);

    /* vars from config override the defaults */
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.addr_vars[0].name = "HOME_NET";
    cfg.addr_vars[0].value = "[100.64.0.0/10]";
    cfg.n_addr_vars = 1;
    cfg.port_vars[0].name = "HTTP_PORTS";
    cfg.port_vars[0].value = "[8080,8000:8009]";
    cfg.n_port_vars = 1;
    e = mk_cfg(&cfg, "alert tcp $HOME_NET any -> $EXTERNAL_NET $HTTP_PORTS (msg:\"v\"; content:\"x\"; sid:1;)\n");
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "x");
    uint8_t cg[4] = {100, 70, 1, 1};
    in.src_ip = cg;
    in.dst_port = 8005;
    assert_int_equal(run(e, &in), S(1));
    in.dst_port = 80;
    assert_int_equal(run(e, &in), 0);
    in.dst_port = 8080;
    in.src_ip = ip_a; /* 10/8 is no longer home */
    assert_int_equal(run(e, &in), 0);
    sw_sig_engine_free(e);
}

/* Each rule must be refused: an error (or, with skip_ok, a skip) whose
 * reason names word; word "" names the option written after msg, NULL
 * accepts any reason. */
static void expect_rejected(const char *const *bad, size_t n, const char *word, bool skip_ok)
{
    for (size_t i = 0; i < n; i++) {
        sw_sig_report rep;
        sw_sig_engine *e = sw_sig_engine_build_string(NULL, "bad.rules", bad[i], &rep);
        assert_non_null(e);
        if (rep.errors + (skip_ok ? rep.skipped : 0) != 1 || !rep.n_issues)
            fail_msg("not rejected: %s", bad[i]);
        char name[32];
        if (word && !*word) {
            const char *kw = strstr(bad[i], "; ") + 2;
            snprintf(name, sizeof name, "%.*s", (int)strcspn(kw, ":"), kw);
            word = name;
        }
        if (word && !strstr(rep.issues[0].reason, word))
            fail_msg("'%s' does not name %s (%s)", rep.issues[0].reason, word, bad[i]);
        if (word == name)
            word = "";
        sw_sig_engine_free(e);
    }
}

/* flags, itype/icode, ip_proto, stream_size: the ET Open forms. */
static void t_packet_keywords(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"syn\"; flags:S,12; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"syn exact\"; flags:S; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"urg+\"; flags:U+; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"any of\"; flags:*FR; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"not ack\"; flags:!A; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"null\"; flags:0; sid:6;)\n"
        "alert tcp any any -> any any (msg:\"xmas\"; flags:SFU12; sid:7;)\n"
        "alert icmp any any -> any any (msg:\"echo\"; itype:8; icode:0; sid:10;)\n"
        "alert icmp any any -> any any (msg:\"unreach\"; itype:3; icode:>0; sid:11;)\n"
        "alert icmp any any -> any any (msg:\"range\"; itype:10<>14; sid:12;)\n"
        "alert ip any any -> any any (msg:\"igmp\"; ip_proto:2; sid:20;)\n"
        "alert ip any any -> any any (msg:\"not tcp\"; ip_proto:!tcp; sid:21;)\n"
        "alert tcp any any -> any any (msg:\"small srv\"; flow:established,to_client; "
        "stream_size:server,<,5; sid:30;)\n"
        "alert tcp any any -> any any (msg:\"both big\"; stream_size:both,>=,100; sid:31;)\n"
        "alert tcp any any -> any any (msg:\"syn+data\"; flags:S; content:\"GET\"; sid:40;)\n");
    sw_detect_input in;
    in_init(&in);
    in.has_tcp_flags = true;
    in.tcp_flags = 0x02; /* SYN */
    assert_int_equal(run(e, &in), S(1) | S(2) | S(5));
    in.tcp_flags = 0x02 | 0x80 | 0x40; /* SYN + CWR + ECE: 12 ignored by sid 1 */
    assert_int_equal(run(e, &in), S(1) | S(5));
    in.tcp_flags = 0x12; /* SYN/ACK */
    assert_int_equal(run(e, &in), 0);
    in.tcp_flags = 0x30; /* URG/ACK */
    assert_int_equal(run(e, &in), S(3));
    in.tcp_flags = 0x14; /* RST/ACK */
    assert_int_equal(run(e, &in), S(4));
    in.tcp_flags = 0;
    assert_int_equal(run(e, &in), S(5) | S(6));
    in.tcp_flags = 0x02 | 0x01 | 0x20 | 0x40 | 0x80;
    assert_int_equal(run(e, &in), S(3) | S(4) | S(5) | S(7));
    /* a SYN carrying data: the rule needs the packet, not the stream */
    in.tcp_flags = 0x02;
    set_buf(&in, SW_BUF_PAYLOAD, "GET /");
    in.payload_streamed = true;
    assert_int_equal(run(e, &in) & S(40), S(40));
    in.is_stream = true; /* the same bytes from reassembly: no header there */
    in.has_tcp_flags = false;
    assert_int_equal(run(e, &in), 0);

    in_init(&in);
    in.proto = IPPROTO_ICMP;
    in.has_icmp = true;
    in.icmp_type = 8;
    assert_int_equal(run(e, &in), S(10) | S(21));
    in.icmp_code = 1;
    assert_int_equal(run(e, &in), S(21));
    in.icmp_type = 3;
    assert_int_equal(run(e, &in), S(11) | S(21));
    in.icmp_code = 0;
    assert_int_equal(run(e, &in), S(21));
    in.icmp_type = 13;
    assert_int_equal(run(e, &in), S(12) | S(21));
    in.has_icmp = false; /* e.g. an ICMP transaction without a header */
    assert_int_equal(run(e, &in), S(21));
    in.proto = 2;
    assert_int_equal(run(e, &in), S(20) | S(21));

    in_init(&in);
    in.to_server = false;
    in.has_stream_size = true;
    in.client_bytes = 120;
    in.server_bytes = 4; /* SYN + 3 bytes */
    assert_int_equal(run(e, &in), S(30));
    in.server_bytes = 5;
    assert_int_equal(run(e, &in), 0);
    in.server_bytes = 100;
    assert_int_equal(run(e, &in), S(31));
    in.has_stream_size = false;
    assert_int_equal(run(e, &in), 0);
    sw_sig_engine_free(e);

    /* malformed values are errors with the keyword named */
    const char *bad[] = {
        "alert tcp any any -> any any (msg:\"x\"; flags:SX; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flags:+S*; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flags:,S; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flags:S,; sid:1;)",
        "alert icmp any any -> any any (msg:\"x\"; itype:300; sid:1;)",
        "alert icmp any any -> any any (msg:\"x\"; icode:abc; sid:1;)",
        "alert ip any any -> any any (msg:\"x\"; ip_proto:nonesuch; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; stream_size:server,<; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; stream_size:middle,<,5; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; stream_size:server,~,5; sid:1;)",
    };
    expect_rejected(bad, sizeof(bad) / sizeof(bad[0]), "", false);
}

/* xbits: per host (ip_src and ip_dst share one store) and per pair
 * (either direction), expiring in packet time, across flows. */
static void t_xbits(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"set src\"; content:\"JAVA\"; "
        "xbits:set,ET.javaclient,track ip_src,expire 15; noalert; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"isset src\"; content:\"JAR\"; "
        "xbits:isset,ET.javaclient,track ip_src; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"isset dst\"; content:\"REPLY\"; "
        "xbits:isset,ET.javaclient,track ip_dst; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"pair set\"; content:\"LOGIN\"; "
        "xbits:set,ET.pair,track ip_pair,expire 60; noalert; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"pair isset\"; content:\"TOKEN\"; "
        "xbits:isset,ET.pair,track ip_pair; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"isnotset\"; content:\"FIRST\"; "
        "xbits:isnotset,ET.seen,track ip_src; xbits:set,ET.seen,track ip_src,expire 100; sid:6;)\n"
        "alert tcp any any -> any any (msg:\"unset\"; content:\"CLEAR\"; "
        "xbits:unset,ET.javaclient,track ip_src; noalert; sid:7;)\n"
        "alert tcp any any -> any any (msg:\"toggle\"; content:\"FLIP\"; "
        "xbits:toggle,ET.flip,track ip_dst; noalert; sid:8;)\n"
        "alert tcp any any -> any any (msg:\"flipped\"; content:\"CHECK\"; "
        "xbits:isset,ET.flip,track ip_dst; sid:9;)\n");
    uint8_t c[4] = {10, 0, 0, 99}, d[4] = {10, 0, 0, 100};
    sw_detect_input in;
    in_init(&in); /* 10.0.0.1 -> 93.184.216.34 */
    uint64_t t0 = in.ts_us, sec = 1000000;
    set_buf(&in, SW_BUF_PAYLOAD, "JAR");
    assert_int_equal(run(e, &in), 0); /* nothing set yet */
    set_buf(&in, SW_BUF_PAYLOAD, "JAVA");
    assert_int_equal(run(e, &in), 0); /* noalert, but sets */
    /* another flow of the same host, to another server */
    in.dst_ip = c;
    in.ts_us = t0 + 10 * sec;
    set_buf(&in, SW_BUF_PAYLOAD, "JAR");
    assert_int_equal(run(e, &in), S(2));
    /* another host: no */
    in.src_ip = d;
    assert_int_equal(run(e, &in), 0);
    /* the reply to the client: ip_dst is the host that was marked */
    in_init(&in);
    in.src_ip = c;
    in.dst_ip = ip_a;
    in.ts_us = t0 + 10 * sec;
    set_buf(&in, SW_BUF_PAYLOAD, "REPLY");
    assert_int_equal(run(e, &in), S(3));
    /* expired after 15 s */
    in.ts_us = t0 + 16 * sec;
    assert_int_equal(run(e, &in), 0);
    /* set again, then unset */
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "JAVA");
    run(e, &in);
    set_buf(&in, SW_BUF_PAYLOAD, "CLEAR");
    run(e, &in);
    set_buf(&in, SW_BUF_PAYLOAD, "JAR");
    assert_int_equal(run(e, &in), 0);

    /* pair: either direction, not another pair */
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "LOGIN");
    run(e, &in);
    in.src_ip = ip_b;
    in.dst_ip = ip_a;
    set_buf(&in, SW_BUF_PAYLOAD, "TOKEN");
    assert_int_equal(run(e, &in), S(5));
    in.dst_ip = c;
    assert_int_equal(run(e, &in), 0);

    /* isnotset + set in one rule: the first time only */
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "FIRST");
    assert_int_equal(run(e, &in), S(6));
    assert_int_equal(run(e, &in), 0);

    /* toggle: on, off, on */
    in_init(&in);
    uint64_t want[3] = {S(9), 0, S(9)};
    for (int i = 0; i < 3; i++) {
        set_buf(&in, SW_BUF_PAYLOAD, "FLIP");
        run(e, &in);
        set_buf(&in, SW_BUF_PAYLOAD, "CHECK");
        assert_int_equal(run(e, &in), want[i]);
    }
    sw_ctr_group g = sw_sig_engine_counters(e);
    assert_true(g.vals[SW_SIGE_XBITS_SET] >= 6);
    assert_int_equal(g.vals[SW_SIGE_XBITS_FULL], 0);
    sw_sig_engine_free(e);

    /* a full table counts and drops the new bit; the old ones stay */
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.xbits_entries = 1;
    e = mk_cfg(&cfg, "alert tcp any any -> any any (msg:\"s\"; content:\"S\"; "
                     "xbits:set,x,track ip_src,expire 60; sid:1;)\n"
                     "alert tcp any any -> any any (msg:\"i\"; content:\"I\"; "
                     "xbits:isset,x,track ip_src; sid:2;)\n");
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "S");
    run(e, &in);
    in.src_ip = c;
    run(e, &in);
    g = sw_sig_engine_counters(e);
    assert_int_equal(g.vals[SW_SIGE_XBITS_FULL], 1);
    set_buf(&in, SW_BUF_PAYLOAD, "I");
    assert_int_equal(run(e, &in), 0);
    in.src_ip = ip_a;
    assert_int_equal(run(e, &in), S(2));
    /* once the first bit expired its slot is reused */
    in.ts_us += 61 * sec;
    in.src_ip = c;
    set_buf(&in, SW_BUF_PAYLOAD, "S");
    run(e, &in);
    set_buf(&in, SW_BUF_PAYLOAD, "I");
    assert_int_equal(run(e, &in), S(2));
    sw_sig_engine_free(e);

    /* a reload keeps the marked hosts: the manager carries the bits over */
    const char *xr = "alert tcp any any -> any any (msg:\"s\"; content:\"S\"; "
                     "xbits:set,x,track ip_src,expire 60; noalert; sid:1;)\n"
                     "alert tcp any any -> any any (msg:\"i\"; content:\"I\"; "
                     "xbits:isset,x,track ip_src; sid:2;)\n";
    sw_sig_manager *mgr = sw_sig_manager_new(mk(xr), 1);
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "S");
    run((sw_sig_engine *)sw_sig_manager_current(mgr), &in);
    sw_sig_manager_swap(mgr, mk(xr));
    set_buf(&in, SW_BUF_PAYLOAD, "I");
    assert_int_equal(run((sw_sig_engine *)sw_sig_manager_current(mgr), &in), S(2));
    in.ts_us += 61 * sec; /* and they still expire on time */
    assert_int_equal(run((sw_sig_engine *)sw_sig_manager_current(mgr), &in), 0);
    sw_sig_manager_free(mgr);

    const char *bad[] = {
        "alert tcp any any -> any any (msg:\"x\"; xbits:set,a; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; xbits:jump,a,track ip_src; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; xbits:set,a,track ip_both; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; xbits:set,a,track ip_src,expire 0; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; xbits:set,a,track ip_src,lifetime 5; sid:1;)",
    };
    expect_rejected(bad, sizeof(bad) / sizeof(bad[0]), "xbits", false);
}

/* tls.version against the version the sending side announced. */
static void t_tls_version(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tls any any -> any any (msg:\"v12\"; tls.version:1.2; sid:1;)\n"
        "alert tls any any -> any any (msg:\"v13 srv\"; flow:to_client; tls.version:1.3; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"raw\"; tls.version:0x7f12; content:\"X\"; sid:3;)\n");
    sw_detect_input in;
    in_init(&in);
    in.app_proto = SW_APP_TLS;
    in.is_tx = true; /* a handshake side */
    assert_int_equal(run(e, &in), 0); /* unknown version */
    in.tls_version = 0x0303;
    assert_int_equal(run(e, &in), S(1));
    in.is_tx = false; /* a later packet of the flow: the rule has no payload part */
    assert_int_equal(run(e, &in), 0);
    in.is_tx = true;
    in.tls_version = 0x0304;
    assert_int_equal(run(e, &in), 0); /* to_server */
    in.to_server = false;
    assert_int_equal(run(e, &in), S(2));
    in.tls_version = 0x7f12;
    in.is_tx = false; /* payload content with tls.version: packets qualify */
    set_buf(&in, SW_BUF_PAYLOAD, "X");
    assert_int_equal(run(e, &in), S(3));
    sw_sig_engine_free(e);
    const char *bad[] = {"alert tls any any -> any any (msg:\"x\"; tls.version:1.4; sid:1;)",
                         "alert tls any any -> any any (msg:\"x\"; tls.version:0x1ffff; sid:1;)",
                         "alert tls any any -> any any (msg:\"x\"; tls.version:; sid:1;)"};
    expect_rejected(bad, sizeof(bad) / sizeof(bad[0]), "tls.version", false);
}

/* flowint: per-flow counters, the ET "infostealer DLL downloads" shape. */
static void t_flowint(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"count\"; content:\"DLL\"; "
        "flowint: ET.dll, +, 1; noalert; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"many\"; content:\"DONE\"; "
        "flowint:ET.dll,>=,3; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"none\"; content:\"DONE\"; "
        "flowint:ET.dll,notset; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"reset\"; content:\"RESET\"; "
        "flowint:ET.dll,=,0; noalert; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"dec\"; content:\"UNDO\"; "
        "flowint:ET.dll,-,5; noalert; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"zero\"; content:\"DONE\"; "
        "flowint:ET.dll,isset; flowint:ET.dll,==,0; sid:6;)\n");
    sw_sig_thread *t = sw_sig_thread_new(e);
    sw_sig_flow fs = {0}, other = {0};
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "DONE");
    assert_int_equal(run_fs(e, &in, &fs), S(3));
    set_buf(&in, SW_BUF_PAYLOAD, "DLL");
    for (int i = 0; i < 2; i++)
        run_fs(e, &in, &fs);
    set_buf(&in, SW_BUF_PAYLOAD, "DONE");
    assert_int_equal(run_fs(e, &in, &fs), 0); /* 2 < 3 */
    set_buf(&in, SW_BUF_PAYLOAD, "DLL");
    run_fs(e, &in, &fs);
    set_buf(&in, SW_BUF_PAYLOAD, "DONE");
    assert_int_equal(run_fs(e, &in, &fs), S(2));
    assert_int_equal(run_fs(e, &in, &other), S(3)); /* another flow has its own */
    set_buf(&in, SW_BUF_PAYLOAD, "UNDO");
    run_fs(e, &in, &fs); /* 3 - 5 stops at 0 */
    set_buf(&in, SW_BUF_PAYLOAD, "DONE");
    assert_int_equal(run_fs(e, &in, &fs), S(6));
    /* a flow holds SW_SIG_FLOW_INTS variables; more are counted, not kept */
    sw_sig_engine_free(e);
    sw_sig_thread_free(t);
    e = mk("alert tcp any any -> any any (msg:\"v\"; content:\"V\"; flowint:a,+,1; flowint:b,+,1; "
           "flowint:c,+,1; flowint:d,+,1; noalert; sid:1;)\n"
           "alert tcp any any -> any any (msg:\"w\"; content:\"W\"; flowint:e,=,7; noalert; sid:2;)\n"
           "alert tcp any any -> any any (msg:\"x\"; content:\"X\"; flowint:e,isset; sid:3;)\n"
           "alert tcp any any -> any any (msg:\"y\"; content:\"Y\"; flowint:d,==,1; sid:4;)\n");
    t = sw_sig_thread_new(e);
    sw_sig_flow f2 = {0};
    sw_sig_alert al[8];
    set_buf(&in, SW_BUF_PAYLOAD, "V W");
    sw_sig_match(e, t, &in, &f2, al, 8);
    assert_int_equal(sw_sig_thread_counters(t).vals[SW_SIGC_FLOWINT_FULL], 1);
    set_buf(&in, SW_BUF_PAYLOAD, "X Y");
    assert_int_equal(sw_sig_match(e, t, &in, &f2, al, 8), 1);
    assert_int_equal(al[0].sid, 4);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);

    const char *bad[] = {
        "alert tcp any any -> any any (msg:\"x\"; flowint:a; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flowint:a,*,2; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flowint:a,+; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flowint:a,isset,1; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; flowint:a,=,-1; sid:1;)",
    };
    expect_rejected(bad, sizeof(bad) / sizeof(bad[0]), "flowint", true);
}

/* base64_decode / base64_data: decode after a match (relative, offset,
 * bytes), match in the decoded bytes; the decoded buffer never prefilters. */
static void t_base64(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"basic admin\"; content:\"Authorization: Basic \"; "
        "base64_decode:offset 0,relative; base64_data; content:\"admin:\"; startswith; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"bytes\"; content:\"X=\"; base64_decode:bytes 8, relative; "
        "base64_data; content:\"secret\"; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"whole\"; content:\"Z\"; base64_decode; base64_data; "
        "content:\"hello\"; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"pcre\"; content:\"P:\"; base64_decode:relative; "
        "base64_data; pcre:\"/^[\\x20-\\x7e]{0,3}[^\\x20-\\x7e]/\"; sid:4;)\n");
    /* admin:hunter2 */
    assert_int_equal(payload(e, "GET / HTTP/1.1\r\nAuthorization: Basic YWRtaW46aHVudGVyMg==\r\n"), S(1));
    /* guest:x */
    assert_int_equal(payload(e, "Authorization: Basic Z3Vlc3Q6eA==\r\n"), 0);
    /* wrapped lines and whitespace are skipped: "admin:pw" */
    assert_int_equal(payload(e, "Authorization: Basic YWRt\r\n aW46cHc=\r\n"), S(1));
    /* "secret" needs 8 encoded bytes: c2VjcmV0 -> secret; with 4 only "sec" */
    assert_int_equal(payload(e, "X=c2VjcmV0"), S(2));
    sw_sig_engine_free(e);
    e = mk("alert tcp any any -> any any (msg:\"bytes\"; content:\"X=\"; base64_decode:bytes 4, "
           "relative; base64_data; content:\"secret\"; sid:2;)\n");
    assert_int_equal(payload(e, "X=c2VjcmV0"), 0);
    sw_sig_engine_free(e);
    e = mk("alert tcp any any -> any any (msg:\"whole\"; content:\"Z\"; base64_decode; base64_data; "
           "content:\"hello\"; sid:3;)\n"
           "alert tcp any any -> any any (msg:\"pcre\"; content:\"P:\"; base64_decode:relative; "
           "base64_data; pcre:\"/^[\\x20-\\x7e]{0,3}[^\\x20-\\x7e]/\"; sid:4;)\n");
    /* from the start of the buffer, not after the Z: "aGVsbG8=" is hello */
    assert_int_equal(payload(e, "aGVsbG8=Z"), S(3));
    /* decoded binary: "ab\x01" */
    assert_int_equal(payload(e, "P:YWIB"), S(4));
    assert_int_equal(payload(e, "P:YWJj"), 0);
    /* a decode that yields nothing fails the rule */
    assert_int_equal(payload(e, "P:!!!!"), 0);
    sw_sig_engine_free(e);

    /* a small decode buffer cuts and counts */
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.base64_max = 64;
    e = mk_cfg(&cfg, "alert tcp any any -> any any (msg:\"long\"; content:\"L:\"; "
                     "base64_decode:relative; base64_data; content:\"AAAA\"; sid:5;)\n");
    char big[300] = "L:";
    for (int i = 2; i < 290; i++)
        big[i] = 'Q'; /* "QUFB" = "AAA" */
    for (int i = 2; i < 290; i += 4)
        memcpy(big + i, "QUFB", 4);
    big[290] = 0;
    sw_sig_thread *t = sw_sig_thread_new(e);
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, big);
    sw_sig_alert al[4];
    assert_int_equal(sw_sig_match(e, t, &in, NULL, al, 4), 1);
    assert_int_equal(sw_sig_thread_counters(t).vals[SW_SIGC_B64_TRUNCATED], 1);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);

    const char *bad[] = {
        "alert tcp any any -> any any (msg:\"x\"; base64_data; content:\"a\"; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; base64_decode:width 3; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; base64_decode:bytes x; sid:1;)",
    };
    expect_rejected(bad, sizeof(bad) / sizeof(bad[0]), "base64", false);
}

static uint64_t payload_n(sw_sig_engine *e, const char *p, size_t n)
{
    sw_detect_input in;
    in_init(&in);
    set_bin(&in, SW_BUF_PAYLOAD, p, n);
    return run(e, &in);
}
#define PN(e, lit) payload_n(e, lit, sizeof(lit) - 1)

/* byte_extract: a length or offset read from the data, used by the options
 * after it (distance/within/offset/depth, byte_test, byte_jump, isdataat). */
static void t_byte_extract(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tcp any any -> any any (msg:\"len prefix\"; content:\"LEN\"; "
        "byte_extract:1,0,len,relative; content:\"END\"; distance:len; within:3; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"same twice\"; content:\"EQ\"; "
        "byte_extract:2,0,a,relative; byte_test:2,=,a,0,relative; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"room\"; content:\"RM\"; "
        "byte_extract:1,0,n,relative; isdataat:!n,relative; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"dec offset\"; content:\"OFF:\"; depth:4; "
        "byte_extract:3,0,o,relative,string,dec; content:\"X\"; offset:o; depth:1; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"mult align\"; content:\"MA\"; "
        "byte_extract:1,0,m,relative,multiplier 3,align 4; content:\"Y\"; distance:m; within:1; sid:5;)\n"
        "alert tcp any any -> any any (msg:\"jump\"; content:\"JP\"; "
        "byte_extract:1,0,skip,relative; byte_jump:1,skip,relative; content:\"Z\"; within:1; sid:6;)\n");
    assert_int_equal(PN(e, "LEN\x05" "abcdeEND"), S(1));
    assert_int_equal(PN(e, "LEN\x04" "abcdeEND"), 0);
    assert_int_equal(PN(e, "EQ\x00\x07\x00\x07"), S(2));
    assert_int_equal(PN(e, "EQ\x00\x07\x00\x08"), 0);
    /* isdataat:!n: fewer than n bytes follow */
    assert_int_equal(PN(e, "RM\x05" "abc"), S(3));
    assert_int_equal(PN(e, "RM\x03" "abc"), 0);
    /* "OFF:009": X at absolute offset 9 */
    assert_int_equal(PN(e, "OFF:009..X"), S(4));
    assert_int_equal(PN(e, "OFF:008..X"), 0);
    /* 2 * 3 = 6, aligned to 8: Y 8 bytes after the length byte */
    assert_int_equal(PN(e, "MA\x02" "12345678Y"), S(5));
    assert_int_equal(PN(e, "MA\x02" "123456Y"), 0);
    /* jump over skip (2) + the one-byte length read at offset 2 (3): Z */
    assert_int_equal(PN(e, "JP\x02" "ab\x03" "cdeZ"), S(6));
    assert_int_equal(PN(e, "JP\x02" "ab\x02" "cdeZ"), 0);
    sw_sig_engine_free(e);

    const char *bad[] = {
        "alert tcp any any -> any any (msg:\"x\"; content:\"a\"; distance:nope; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; byte_extract:1,0,a; byte_extract:1,1,a; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; byte_extract:1,0,a,align 3; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; byte_extract:9,0,a; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; byte_extract:1,0; sid:1;)",
        "alert tcp any any -> any any (msg:\"x\"; byte_test:1,=,zz,0; sid:1;)",
    };
    expect_rejected(bad, sizeof(bad) / sizeof(bad[0]), NULL, false);
}

/* tls.certs is a multi-buffer: all of a rule's options in one certificate,
 * any certificate of the chain, each one prefiltered. */
static void t_tls_certs_multi(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert tls any any -> any any (msg:\"both in one\"; tls.certs; content:\"ALPHA\"; "
        "content:\"BETA\"; distance:0; sid:1;)\n"
        "alert tls any any -> any any (msg:\"third only\"; tls.certs; content:\"GAMMA-ROOT\"; sid:2;)\n");
    sw_detect_input in;
    in_init(&in);
    in.app_proto = SW_APP_TLS;
    in.is_tx = true;
    const char *c1 = "leaf ALPHA leaf", *c2 = "intermediate BETA", *c3 = "GAMMA-ROOT ALPHA BETA";
    in.certs[0] = (const uint8_t *)c1, in.cert_len[0] = (uint32_t)strlen(c1);
    in.certs[1] = (const uint8_t *)c2, in.cert_len[1] = (uint32_t)strlen(c2);
    in.n_certs = 2;
    in.buf[SW_BUF_TLS_CERTS].ptr = in.certs[0];
    in.buf[SW_BUF_TLS_CERTS].len = in.cert_len[0];
    assert_int_equal(run(e, &in), 0); /* ALPHA and BETA, but in different certificates */
    in.certs[2] = (const uint8_t *)c3, in.cert_len[2] = (uint32_t)strlen(c3);
    in.n_certs = 3;
    assert_int_equal(run(e, &in), S(1) | S(2));
    in.n_certs = 0; /* without certificates the buffer is absent */
    in.buf[SW_BUF_TLS_CERTS].ptr = NULL;
    assert_int_equal(run(e, &in), 0);
    sw_sig_engine_free(e);
}

static void t_bad_rules(void **st)
{
    (void)st;
    const char *rules =
        "alert tcp any any -> any any (msg:\"ok1\"; content:\"a\"; sid:1;)\n"       /* 1 */
        "alert tcp any any -> any any (msg:\"bad\"; content:\"a\" sid:2;)\n"        /* 2 */
        "#alert tcp any any -> any any (msg:\"off\"; content:\"a\"; sid:3;)\n"      /* 3 */
        "alert tcp any any -> any any (msg:\"unsup\"; ssh_proto:2; sid:4;)\n"       /* 4 */
        "alert tcp any any -> any any (msg:\"ml\"; \\\n"                            /* 5 */
        "    content:\"zz\"; sid:5;)\n"                                             /* 6 */
        "\n"                                                                        /* 7 */
        "alert tcp any any -> any any (msg:\"nosid\"; content:\"a\";)\n"            /* 8 */
        "foo tcp any any -> any any (msg:\"x\"; sid:6;)\n"                         /* 9 */
        "alert tcp any any -> any any (msg:\"dup\"; content:\"q\"; sid:1;)\n"       /* 10 */
        "alert tcp any any -> any any (msg:\"pcre\"; pcre:\"/(unclosed/\"; sid:7;)\n" /* 11 */
        "alert tcp any any -> any any (msg:\"ok8\"; content:\"b\"; sid:8;)\n";      /* 12 */
    sw_sig_report rep;
    sw_sig_engine *e = sw_sig_engine_build_string(NULL, "bad.rules", rules, &rep);
    assert_non_null(e);
    assert_int_equal(rep.loaded, 3);
    assert_int_equal(rep.skipped, 1);
    assert_int_equal(rep.errors, 5);
    int lines[16] = {0};
    for (uint32_t i = 0; i < rep.n_issues; i++) {
        assert_string_equal(rep.issues[i].file, "bad.rules");
        assert_true(rep.issues[i].line > 0 && rep.issues[i].line < 16);
        lines[rep.issues[i].line] = rep.issues[i].is_error ? 2 : 1;
    }
    assert_int_equal(lines[2], 2);
    assert_int_equal(lines[4], 1);
    assert_int_equal(lines[8], 2);
    assert_int_equal(lines[9], 2);
    assert_int_equal(lines[10], 2);
    assert_int_equal(lines[11], 2);
    assert_int_equal(lines[5], 0);
    assert_int_equal(rep.n_unsupported, 1);
    assert_string_equal(rep.unsupported[0].keyword, "ssh_proto");
    assert_int_equal(payload(e, "a zz b q"), S(1) | S(5) | S(8));
    sw_sig_engine_free(e);

    /* a missing file is reported, the others load */
    const char *files[] = {"/nonexistent/x.rules"};
    e = sw_sig_engine_build(NULL, files, 1, &rep);
    assert_non_null(e);
    assert_int_equal(rep.files_failed, 1);
    assert_int_equal(rep.loaded, 0);
    sw_sig_engine_free(e);
}

static void t_classification_metadata(void **st)
{
    (void)st;
    char path[] = "/tmp/sw_class_XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    const char *cls = "# comment\nconfig classification: trojan-activity,A Network Trojan was detected, 1\n"
                      "config classification: bad-unknown,Potentially Bad Traffic, 2\n";
    assert_int_equal(write(fd, cls, strlen(cls)), (ssize_t)strlen(cls));
    close(fd);
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.classification_file = path;
    sw_sig_engine *e = mk_cfg(&cfg,
        "alert ip any any -> any any (msg:\"GPL ATTACK_RESPONSE id check returned root\"; content:\"uid=0|28|root|29|\"; "
        "target:dest_ip; classtype:bad-unknown; sid:2100498; rev:7; metadata:created_at 2010_09_23, tag a, tag b;)\n"
        "alert tcp any any -> any any (msg:\"prio\"; content:\"P\"; classtype:trojan-activity; priority:3; sid:2;)\n");
    sw_sig_thread *t = sw_sig_thread_new(e);
    sw_detect_input in;
    in_init(&in);
    in.to_server = false;
    set_buf(&in, SW_BUF_PAYLOAD, "uid=0(root) gid=0(root) groups=0(root)\n");
    sw_sig_alert al[4];
    assert_int_equal(sw_sig_match(e, t, &in, NULL, al, 4), 1);
    assert_int_equal(al[0].sid, 2100498);
    assert_int_equal(al[0].rev, 7);
    assert_int_equal(al[0].gid, 1);
    assert_int_equal(al[0].severity, 2);
    assert_int_equal(al[0].target, 2);
    assert_int_equal(al[0].action, SW_ACT_ALERT);
    assert_string_equal(al[0].category, "Potentially Bad Traffic");
    assert_string_equal(al[0].msg, "GPL ATTACK_RESPONSE id check returned root");
    sw_json j;
    swj_init(&j);
    swj_reset(&j);
    sw_sig_alert_metadata_json(al[0].rule, &j);
    size_t n = swj_finish(&j);
    assert_true(n > 0);
    assert_non_null(strstr(j.buf, "\"metadata\":{\"created_at\":[\"2010_09_23\"],\"tag\":[\"a\",\"b\"]}"));
    swj_free(&j);
    set_buf(&in, SW_BUF_PAYLOAD, "P");
    assert_int_equal(sw_sig_match(e, t, &in, NULL, al, 4), 1);
    assert_int_equal(al[0].severity, 3);
    assert_string_equal(al[0].category, "A Network Trojan was detected");
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);
    /* unknown classtype with a table loaded is an error */
    sw_sig_report rep;
    e = sw_sig_engine_build_string(&cfg, "c", "alert tcp any any -> any any (content:\"x\"; classtype:nope; sid:1;)\n", &rep);
    assert_int_equal(rep.errors, 1);
    sw_sig_engine_free(e);
    unlink(path);
}

static void t_fast_pattern(void **st)
{
    (void)st;
    sw_sig_report rep;
    sw_sig_engine *e = sw_sig_engine_build_string(NULL, "fp",
        "alert tcp any any -> any any (msg:\"fp\"; content:\"short\"; fast_pattern; content:\"muchlongerpattern\"; sid:1;)\n"
        "alert tcp any any -> any any (msg:\"chop\"; content:\"abcdefgh\"; fast_pattern:2,3; sid:2;)\n"
        "alert tcp any any -> any any (msg:\"only\"; content:\"onlyme\"; fast_pattern:only; sid:3;)\n"
        "alert tcp any any -> any any (msg:\"negonly\"; content:!\"GET\"; depth:3; sid:4;)\n"
        "alert tcp any any -> any any (msg:\"nocontent\"; dsize:7; sid:5;)\n", &rep);
    assert_non_null(e);
    assert_int_equal(rep.loaded, 5);
    assert_int_equal(rep.always_rules, 2);
    assert_int_equal(rep.prefilter_rules, 3);
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "GET short muchlongerpattern");
    assert_int_equal(run(e, &in), S(1));
    set_buf(&in, SW_BUF_PAYLOAD, "GET short");
    assert_int_equal(run(e, &in), 0);
    set_buf(&in, SW_BUF_PAYLOAD, "GETabcdefgh onlyme");
    assert_int_equal(run(e, &in), S(2) | S(3));
    set_buf(&in, SW_BUF_PAYLOAD, "GETcdeXX"); /* chop hit only: full content confirms */
    assert_int_equal(run(e, &in), 0);
    set_buf(&in, SW_BUF_PAYLOAD, "POST /x");
    assert_int_equal(run(e, &in), S(4) | S(5));
    sw_sig_engine_free(e);
}

static void t_max_alerts(void **st)
{
    (void)st;
    sw_sig_engine *e = mk("alert tcp any any -> any any (content:\"a\"; sid:1;)\n"
                          "alert tcp any any -> any any (content:\"a\"; sid:2;)\n"
                          "alert tcp any any -> any any (content:\"a\"; sid:3;)\n");
    sw_sig_thread *t = sw_sig_thread_new(e);
    sw_detect_input in;
    in_init(&in);
    set_buf(&in, SW_BUF_PAYLOAD, "a");
    sw_sig_alert al[2];
    assert_int_equal(sw_sig_match(e, t, &in, NULL, al, 2), 2);
    sw_ctr_group g = sw_sig_thread_counters(t);
    assert_int_equal(g.vals[SW_SIGC_ALERT_OVERFLOW], 1);
    assert_int_equal(g.vals[SW_SIGC_ALERT], 2);
    assert_string_equal(g.names[SW_SIGC_ALERT], "detect.alert");
    sw_ctr_group eg = sw_sig_engine_counters(e);
    assert_int_equal(eg.vals[SW_SIGE_RULES_LOADED], 3);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_content_basic),
        cmocka_unit_test(t_relative_backtrack),
        cmocka_unit_test(t_starts_ends),
        cmocka_unit_test(t_isdataat),
        cmocka_unit_test(t_pcre_flags),
        cmocka_unit_test(t_byte_test),
        cmocka_unit_test(t_byte_jump),
        cmocka_unit_test(t_http_buffers),
        cmocka_unit_test(t_dns_tls),
        cmocka_unit_test(t_dsize_flow),
        cmocka_unit_test(t_flowbits),
        cmocka_unit_test(t_threshold),
        cmocka_unit_test(t_header),
        cmocka_unit_test(t_bad_rules),
        cmocka_unit_test(t_classification_metadata),
        cmocka_unit_test(t_fast_pattern),
        cmocka_unit_test(t_max_alerts),
        cmocka_unit_test(t_packet_keywords),
        cmocka_unit_test(t_xbits),
        cmocka_unit_test(t_tls_version),
        cmocka_unit_test(t_flowint),
        cmocka_unit_test(t_base64),
        cmocka_unit_test(t_byte_extract),
        cmocka_unit_test(t_tls_certs_multi),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
