/* Signature engine, stream inspection: a window of kept tail + new stream
 * data (sw_detect_input.stream_seen), packets whose payload the stream
 * inspects (payload_streamed). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#include "signatures/sig_engine.h"

static uint8_t ip_a[16], ip_b[16];

static sw_sig_engine *mk(const char *rules)
{
    sw_sig_report rep;
    sw_sig_engine *e = sw_sig_engine_build_string(NULL, "stream.rules", rules, &rep);
    assert_non_null(e);
    assert_int_equal(rep.errors, 0);
    assert_int_equal(rep.skipped, 0);
    return e;
}

static void in_init(sw_detect_input *in, const char *payload)
{
    memset(in, 0, sizeof(*in));
    inet_pton(AF_INET, "10.0.0.1", ip_a);
    inet_pton(AF_INET, "192.0.2.7", ip_b);
    in->ip_version = 4;
    in->src_ip = ip_a;
    in->dst_ip = ip_b;
    in->src_port = 40000;
    in->dst_port = 4444;
    in->proto = IPPROTO_TCP;
    in->has_flow = true;
    in->to_server = true;
    in->established = true;
    in->buf[SW_BUF_PAYLOAD].ptr = (const uint8_t *)payload;
    in->buf[SW_BUF_PAYLOAD].len = (uint32_t)strlen(payload);
    in->dsize = (uint32_t)strlen(payload);
}

/* window = tail (seen bytes) + new bytes, as sw_detect_stream builds it */
static void in_stream(sw_detect_input *in, const char *window, uint32_t seen)
{
    in_init(in, window);
    in->is_stream = true;
    in->stream_seen = seen;
    in->dsize = 0;
}

static uint64_t run(sw_sig_engine *e, const sw_detect_input *in)
{
    sw_sig_thread *t = sw_sig_thread_new(e);
    assert_non_null(t);
    sw_sig_flow fs = {0};
    sw_sig_alert al[64];
    int n = sw_sig_match(e, t, in, &fs, al, 64);
    uint64_t m = 0;
    for (int i = 0; i < n; i++)
        m |= 1ull << al[i].sid;
    sw_sig_thread_free(t);
    return m;
}

#define S(x) (1ull << (x))

static const char *const RULES =
    "alert tcp any any -> any any (msg:\"c\"; content:\"MARKER\"; sid:1;)\n"
    "alert tcp any any -> any any (msg:\"chain\"; content:\"AAA\"; content:\"BBB\"; distance:0; sid:2;)\n"
    "alert tcp any any -> any any (msg:\"dsize\"; dsize:>0; content:\"MARKER\"; sid:3;)\n"
    "alert tcp-pkt any any -> any any (msg:\"pkt\"; content:\"MARKER\"; sid:4;)\n"
    "alert tcp any any -> any any (msg:\"hdr\"; flow:to_server; sid:5;)\n"
    "alert tcp any any -> any any (msg:\"anch\"; content:\"HDR\"; depth:3; sid:6;)\n"
    "alert tcp any any -> any any (msg:\"pcre\"; pcre:\"/^HDR/\"; sid:7;)\n"
    "alert tcp any any -> any any (msg:\"bt\"; byte_test:1,=,0x48,0; sid:8;)\n"
    "alert tcp-stream any any -> any any (msg:\"only\"; content:\"MARKER\"; sid:9;)\n";

/* A pattern across the chunk boundary is found once: in the window that
 * completes it, not again in the next window where it lies in the tail. */
static void t_split_and_tail(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(RULES);
    sw_detect_input in;
    in_stream(&in, "xxMARK", 0); /* first chunk: no tail */
    assert_int_equal(run(e, &in) & (S(1) | S(9)), 0);
    in_stream(&in, "xxMARKER yy", 6); /* tail "xxMARK" + "ER yy" */
    assert_int_equal(run(e, &in) & (S(1) | S(9)), S(1) | S(9));
    in_stream(&in, "MARKER yyzz", 9); /* the hit lies wholly in the tail */
    assert_int_equal(run(e, &in) & (S(1) | S(9)), 0);
    /* a new occurrence after a tail occurrence still counts */
    in_stream(&in, "MARKER yyMARKER", 9);
    assert_int_equal(run(e, &in) & S(1), S(1));
    /* a relative chain whose second part is new */
    in_stream(&in, "AAA..BBB", 5);
    assert_int_equal(run(e, &in) & S(2), S(2));
    in_stream(&in, "AAA..BBB..", 8);
    assert_int_equal(run(e, &in) & S(2), 0);
    sw_sig_engine_free(e);
}

/* Rules that need packet semantics never run on stream windows; header-only
 * rules run per packet only. */
static void t_packet_rules_on_stream(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(RULES);
    sw_detect_input in;
    in_stream(&in, "MARKER", 0);
    uint64_t m = run(e, &in);
    assert_int_equal(m & (S(3) | S(4) | S(5)), 0);
    assert_int_equal(m & S(1), S(1));
    sw_sig_engine_free(e);
}

/* A packet whose payload the stream inspects: stream-capable payload rules
 * skip it, dsize/tcp-pkt/header-only rules do not. */
static void t_payload_streamed_packet(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(RULES);
    sw_detect_input in;
    in_init(&in, "MARKER");
    uint64_t all = run(e, &in);
    assert_int_equal(all & (S(1) | S(3) | S(4) | S(5)), S(1) | S(3) | S(4) | S(5));
    assert_int_equal(all & S(9), 0); /* tcp-stream: never on packets */
    in.payload_streamed = true;
    assert_int_equal(run(e, &in) & (S(1) | S(3) | S(4) | S(5)), S(3) | S(4) | S(5));
    sw_sig_engine_free(e);
}

/* Absolute positions (depth, anchored pcre, byte_test) count from the new
 * data of the window, so record-aligned rules see each chunk's start. */
static void t_anchors_from_new_data(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(RULES);
    sw_detect_input in;
    in_stream(&in, "HDR 1\nHDR 2\n", 6);
    assert_int_equal(run(e, &in) & (S(6) | S(7) | S(8)), S(6) | S(7) | S(8));
    in_stream(&in, "HDR 1\nxHDR\n", 6); /* only the tail starts with HDR */
    assert_int_equal(run(e, &in) & (S(6) | S(7) | S(8)), 0);
    in_stream(&in, "HDR 1\n", 0);
    assert_int_equal(run(e, &in) & (S(6) | S(7) | S(8)), S(6) | S(7) | S(8));
    sw_sig_engine_free(e);
}

/* vlan.id (Suricata 8 forms), dns.opcode, app-layer-event/decode-event. */
static void t_vlan_opcode_events(void **st)
{
    (void)st;
    sw_sig_engine *e = mk(
        "alert ip any any -> any any (msg:\"l0\"; vlan.id:200,0; sid:1;)\n"
        "alert ip any any -> any any (msg:\"any\"; vlan.id:300; sid:2;)\n"
        "alert ip any any -> any any (msg:\"last\"; vlan.id:400,-1; sid:3;)\n"
        "alert ip any any -> any any (msg:\"hex\"; vlan.id:0x12C,1; sid:4;)\n"
        "alert ip any any -> any any (msg:\"none\"; vlan.id:!500,all; sid:5;)\n"
        "alert ip any any -> any any (msg:\"range\"; vlan.id:100-600,2; sid:6;)\n"
        "alert ip any any -> any any (msg:\"allgt\"; vlan.id:>100,all; sid:7;)\n"
        "alert ip any any -> any any (msg:\"allgt2\"; vlan.id:>250,all; sid:8;)\n"
        "alert dns any any -> any any (msg:\"op\"; dns.opcode:4; sid:10;)\n"
        "alert dns any any -> any any (msg:\"opn\"; dns.opcode:!0; sid:11;)\n"
        "alert http any any -> any any (msg:\"ev\"; app-layer-event:http.request_line_missing_protocol; sid:12;)\n"
        "alert pkthdr any any -> any any (msg:\"dec\"; decode-event:ipv4.trunc_pkt; sid:13;)\n"
        "alert ip any any -> any any (msg:\"dec2\"; decode-event:decoder.ipv4.trunc_pkt; sid:14;)\n");
    sw_detect_input in;
    in_init(&in, "x");
    uint64_t vl = S(1) | S(2) | S(3) | S(4) | S(5) | S(6) | S(7) | S(8);
    assert_int_equal(run(e, &in) & vl, 0); /* no VLAN header: no vlan.id match */
    in.vlan_count = 3;
    in.vlan_id[0] = 200;
    in.vlan_id[1] = 300;
    in.vlan_id[2] = 400;
    assert_int_equal(run(e, &in) & vl, S(1) | S(2) | S(3) | S(4) | S(5) | S(6) | S(7));
    in.vlan_id[1] = 500;
    assert_int_equal(run(e, &in) & vl, S(1) | S(3) | S(6) | S(7));

    in_init(&in, "");
    in.buf[SW_BUF_PAYLOAD].ptr = NULL;
    in.app_proto = SW_APP_DNS;
    assert_int_equal(run(e, &in) & (S(10) | S(11)), 0); /* no opcode given */
    in.has_dns_opcode = true;
    in.dns_opcode = 4;
    assert_int_equal(run(e, &in) & (S(10) | S(11)), S(10) | S(11));
    in.dns_opcode = 0;
    assert_int_equal(run(e, &in) & (S(10) | S(11)), 0);

    const char *evs[] = {"dns.z_flag_set", "HTTP.REQUEST_LINE_MISSING_PROTOCOL"};
    in_init(&in, "");
    in.buf[SW_BUF_PAYLOAD].ptr = NULL;
    in.app_proto = SW_APP_HTTP;
    assert_int_equal(run(e, &in) & S(12), 0);
    in.events = evs;
    in.n_events = 1;
    assert_int_equal(run(e, &in) & S(12), 0);
    in.n_events = 2;
    assert_int_equal(run(e, &in) & S(12), S(12));
    const char *dec[] = {"ipv4.trunc_pkt"};
    in_init(&in, "");
    in.buf[SW_BUF_PAYLOAD].ptr = NULL;
    in.events = dec;
    in.n_events = 1;
    assert_int_equal(run(e, &in) & (S(13) | S(14)), S(13) | S(14));
    sw_sig_engine_free(e);

    sw_sig_report rep;
    e = sw_sig_engine_build_string(NULL, "bad.rules",
                                   "alert ip any any -> any any (vlan.id:5000; sid:1;)\n"
                                   "alert ip any any -> any any (vlan.id:5,7; sid:2;)\n"
                                   "alert ip any any -> any any (app-layer-event:nodot; sid:3;)\n"
                                   "alert dns any any -> any any (dns.opcode:16; sid:4;)\n",
                                   &rep);
    assert_int_equal(rep.errors, 4);
    sw_sig_engine_free(e);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_split_and_tail),
        cmocka_unit_test(t_packet_rules_on_stream),
        cmocka_unit_test(t_payload_streamed_packet),
        cmocka_unit_test(t_anchors_from_new_data),
        cmocka_unit_test(t_vlan_opcode_events),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
