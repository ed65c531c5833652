/* DNS decoder, DNS-over-TCP framing and EVE "dns" writer on real captures.
 * Expected values were read with tshark 4.0 (-T fields / -O dns) and from
 * the suricata-verify test.yaml files the captures come with. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "decoders/dns.h"
#include "sensor/eve_dns.h"
#include "sensor/json.h"
#include "tests/unit/testutil.h"

/* ---- capture helpers ---------------------------------------------------- */

/* The L4 payload of packet number pkt (1-based) into out. Handles the link
 * types of our captures: Ethernet, raw IP, BSD loopback; IPv4/IPv6 + UDP/TCP
 * (no IPv6 extension headers). Returns the payload length; fails the test
 * when the packet is missing or not UDP/TCP. */
static size_t l4_payload(const char *file, int pkt, uint8_t *out, size_t cap,
                         uint16_t *sport)
{
    char path[4096], err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(tu_test_pcap(path, sizeof path, file), err);
    if (!p)
        fail_msg("%s: %s", file, err);
    int dlt = pcap_datalink(p);
    struct pcap_pkthdr *h;
    const uint8_t *d;
    int n = 0, rc;
    while ((rc = pcap_next_ex(p, &h, &d)) == 1)
        if (++n == pkt)
            break;
    assert_int_equal(rc, 1);
    size_t len = h->caplen, off;
    switch (dlt) {
    case DLT_EN10MB: off = 14; break;
    case DLT_NULL: off = 4; break;
    default: off = 0; break; /* raw IP */
    }
    assert_true(len > off);
    const uint8_t *ip = d + off;
    size_t iplen = len - off, l4;
    uint8_t proto;
    if ((ip[0] >> 4) == 4) {
        l4 = (size_t)(ip[0] & 15) * 4;
        proto = ip[9];
        size_t tot = (size_t)((ip[2] << 8) | ip[3]);
        if (tot < iplen)
            iplen = tot;
    } else {
        assert_int_equal(ip[0] >> 4, 6);
        l4 = 40;
        proto = ip[6];
    }
    const uint8_t *t = ip + l4;
    size_t tl = iplen - l4, hl;
    if (proto == 17) {
        hl = 8;
    } else {
        assert_int_equal(proto, 6);
        hl = (size_t)(t[12] >> 4) * 4;
    }
    if (sport)
        *sport = (uint16_t)((t[0] << 8) | t[1]);
    assert_true(tl >= hl);
    size_t pl = tl - hl;
    assert_true(pl <= cap);
    memcpy(out, t + hl, pl);
    pcap_close(p);
    return pl;
}

static sw_dns_msg *msg_new(void)
{
    sw_dns_msg *m = malloc(sizeof(*m));
    assert_non_null(m);
    return m;
}

static void assert_name(const sw_dns_msg *m, sw_dns_name n, const char *want)
{
    char got[SW_DNS_MAX_NAME + 1];
    assert_true(n.s.len <= SW_DNS_MAX_NAME);
    memcpy(got, sw_dns_str(m, n.s), n.s.len);
    got[n.s.len] = '\0';
    assert_string_equal(got, want);
}

/* Parses packet pkt of file as a UDP DNS message. */
static sw_dns_msg *parse_pkt(const char *file, int pkt, int want_rc)
{
    static uint8_t buf[65536];
    size_t n = l4_payload(file, pkt, buf, sizeof buf, NULL);
    sw_dns_msg *m = msg_new();
    assert_int_equal(sw_dns_parse(buf, n, m), want_rc);
    return m;
}

static char *eve_line(const sw_dns_msg *m, bool response, uint64_t tx_id)
{
    static sw_json j;
    static char out[1 << 16];
    swj_init(&j);
    swj_reset(&j);
    if (response)
        sw_eve_dns_answer(&j, m, tx_id);
    else
        sw_eve_dns_query(&j, m, tx_id);
    size_t n = swj_finish(&j);
    assert_true(n > 0 && n < sizeof out);
    memcpy(out, j.buf, n + 1);
    swj_free(&j);
    return out;
}

/* ---- record types --------------------------------------------------------- */

static void test_srv(void **st)
{
    (void)st;
    sw_dns_msg *m = parse_pkt("sv-dns-udp-eve-log-srv.pcap", 2, 0);
    assert_int_equal(m->id, 0xeb56);
    assert_int_equal(m->flags, 0x8180);
    assert_true(m->qr && m->rd && m->ra && !m->aa && !m->tc && !m->z);
    assert_int_equal(m->rcode, 0);
    assert_int_equal(m->n_questions, 1);
    assert_name(m, m->questions[0].name, "_sip._udp.sip.voice.google.com");
    assert_int_equal(m->questions[0].type, SW_DNS_T_SRV);
    assert_int_equal(m->n_answers, 2);
    const sw_dns_rr *a = &m->answers[0];
    assert_int_equal(a->type, SW_DNS_T_SRV);
    assert_true(a->rdata_ok);
    assert_int_equal(a->u.srv.priority, 20);
    assert_int_equal(a->u.srv.weight, 1);
    assert_int_equal(a->u.srv.port, 5060);
    assert_name(m, a->u.srv.target, "sip-anycast-2.voice.google.com");
    a = &m->answers[1];
    assert_int_equal(a->u.srv.priority, 10);
    assert_name(m, a->u.srv.target, "sip-anycast-1.voice.google.com");
    /* The additional OPT record: EDNS seen, not stored as an answer. */
    assert_true(m->edns);
    assert_int_equal(m->n_additionals, 1);
    assert_int_equal(m->additionals[0].type, SW_DNS_T_OPT);
    assert_false(m->invalid_additionals);
    free(m);
}

static void test_txt_multiple_strings(void **st)
{
    (void)st;
    sw_dns_msg *m = parse_pkt("zeek-dns-txt-multiple.pcap", 2, 0);
    assert_int_equal(m->id, 0x6daf);
    assert_true(m->aa);
    assert_int_equal(m->n_answers, 3);
    assert_int_equal(m->answers[0].type, SW_DNS_T_CNAME);
    assert_name(m, m->answers[0].name, "flkr._domainkey.flickr.com");
    assert_name(m, m->answers[0].u.target, "fa14._domainkey.flickr.com");
    assert_name(m, m->answers[1].u.target, "fa14._domainkey.yahoo.com");
    const sw_dns_rr *t = &m->answers[2];
    assert_int_equal(t->type, SW_DNS_T_TXT);
    assert_int_equal(t->ttl, 7200);
    assert_int_equal(t->rdlength, 227);
    assert_int_equal(t->u.txt.count, 2);
    uint32_t pos = 0;
    const uint8_t *s;
    size_t n;
    assert_true(sw_dns_txt_next(m, t, &pos, &s, &n));
    assert_int_equal(n, 127);
    assert_memory_equal(s, "k=rsa; p=MIGfMA0GCSqGSIb3DQEBAQUAA4GNADCBiQKBgQDPdPfyJM2R2GqMyZM1flTzFeDIU+e7KmiKRw5yz3Xht+cgEIiHmm5lIGBuWCc5rtiy0CcxePpqccPKjn", 127);
    assert_true(sw_dns_txt_next(m, t, &pos, &s, &n));
    assert_int_equal(n, 98);
    assert_memory_equal(s, "HSrDI23PU+HOuqJ6ergE1IOsL6LOEgG6YT53vMb8Z6UiBSsYPlrDEC+8CUIkTLMLXJauRK5bNRKV1ATGzGFpf3TjZtWwIDAQAB", 98);
    assert_false(sw_dns_txt_next(m, t, &pos, &s, &n));
    /* 5 NS authorities, 5 A additionals (tshark). */
    assert_int_equal(m->n_authorities, 5);
    assert_int_equal(m->authorities[0].type, SW_DNS_T_NS);
    assert_int_equal(m->authorities[0].ttl, 172800);
    assert_name(m, m->authorities[0].name, "_domainkey.yahoo.com");
    assert_name(m, m->authorities[0].u.target, "ns5.yahoo.com");
    assert_int_equal(m->n_additionals, 5);
    assert_name(m, m->additionals[0].name, "ns1.yahoo.com");
    assert_memory_equal(m->additionals[0].u.addr, "\x44\xb4\x83\x10", 4); /* 68.180.131.16 */

    /* EVE: each TXT string is its own answer entry. */
    const char *js = eve_line(m, true, 1);
    assert_non_null(strstr(js, "{\"rrname\":\"fa14._domainkey.yahoo.com\",\"rrtype\":\"TXT\",\"ttl\":7200,\"rdata\":\"k=rsa; p=MIGf"));
    assert_non_null(strstr(js, "\"rrtype\":\"TXT\",\"ttl\":7200,\"rdata\":\"HSrDI23PU"));
    assert_non_null(strstr(js, "\"TXT\":[\"k=rsa; p=MIGf"));
    free(m);
}

static void test_soa_nxdomain(void **st)
{
    (void)st;
    sw_dns_msg *m = parse_pkt("sv-dns-v2-udp-nxdomain-soa.pcap", 2, 0);
    assert_int_equal(m->rcode, 3);
    assert_string_equal(sw_dns_rcode_name(m->rcode), "NXDOMAIN");
    assert_int_equal(m->n_answers, 0);
    assert_int_equal(m->n_authorities, 1);
    const sw_dns_rr *s = &m->authorities[0];
    assert_int_equal(s->type, SW_DNS_T_SOA);
    assert_name(m, s->name, "oisf.net");
    assert_int_equal(s->ttl, 899);
    assert_name(m, s->u.soa.mname, "ns-110.awsdns-13.com");
    assert_name(m, s->u.soa.rname, "awsdns-hostmaster.amazon.com");
    assert_int_equal(s->u.soa.serial, 1);
    assert_int_equal(s->u.soa.refresh, 7200);
    assert_int_equal(s->u.soa.retry, 900);
    assert_int_equal(s->u.soa.expire, 1209600);
    assert_int_equal(s->u.soa.minimum, 86400);

    /* The suricata-verify expectation, as JSON text. */
    const char *js = eve_line(m, true, 1);
    assert_non_null(strstr(js, "\"rcode\":\"NXDOMAIN\""));
    assert_non_null(strstr(js,
        "\"authorities\":[{\"rrname\":\"oisf.net\",\"rrtype\":\"SOA\",\"ttl\":899,"
        "\"soa\":{\"mname\":\"ns-110.awsdns-13.com\",\"rname\":\"awsdns-hostmaster.amazon.com\","
        "\"serial\":1,\"refresh\":7200,\"retry\":900,\"expire\":1209600,\"minimum\":86400}}]"));
    /* No answers: neither "answers" nor "grouped"; OPT without options is
     * not logged as an additional. */
    assert_null(strstr(js, "\"answers\""));
    assert_null(strstr(js, "\"grouped\""));
    assert_null(strstr(js, "\"additionals\""));
    free(m);
}

static void test_sshfp(void **st)
{
    (void)st;
    sw_dns_msg *m = parse_pkt("sv-dns-sshfp.pcap", 2, 0);
    assert_int_equal(m->n_answers, 2);
    const sw_dns_rr *a = &m->answers[0];
    assert_int_equal(a->type, SW_DNS_T_SSHFP);
    assert_int_equal(a->u.sshfp.algo, 1);
    const char *js = eve_line(m, true, 0);
    assert_non_null(strstr(js, "{\"rrname\":\"anoncvs.netbsd.org\",\"rrtype\":\"SSHFP\""));
    assert_non_null(strstr(js, "\"sshfp\":{\"fingerprint\":\"19:8c:34:a9:2f:c0:b2:ab:1d:a5:2b:68:8c:2f:19:1d:2d:96:0c:09\",\"algo\":1,"));
    free(m);
}

static void test_iodine_txt(void **st)
{
    (void)st;
    /* Query: packet 1. */
    sw_dns_msg *m = parse_pkt("sv-dns-bug-1158-iodine.pcap", 1, 0);
    assert_int_equal(m->id, 49711);
    size_t qn;
    const uint8_t *q = sw_dns_first_query(m, &qn);
    assert_int_equal(qn, strlen("AAAAAO1kQA.=auth.srv.tunnel.com"));
    assert_memory_equal(q, "AAAAAO1kQA.=auth.srv.tunnel.com", qn);
    const char *js = eve_line(m, false, 0);
    assert_string_equal(js,
        "{\"dns\":{\"version\":3,\"type\":\"request\",\"tx_id\":0,\"id\":49711,"
        "\"flags\":\"100\",\"rd\":true,\"opcode\":0,\"rcode\":\"NOERROR\","
        "\"queries\":[{\"rrname\":\"AAAAAO1kQA.=auth.srv.tunnel.com\",\"rrtype\":\"TXT\"}]}}\n");
    free(m);

    /* Response: packet 2, TXT with a 32-byte and an empty string. */
    m = parse_pkt("sv-dns-bug-1158-iodine.pcap", 2, 0);
    assert_int_equal(m->n_answers, 1);
    assert_int_equal(m->answers[0].u.txt.count, 2);
    js = eve_line(m, true, 1);
    assert_non_null(strstr(js,
        "\"answers\":[{\"rrname\":\"AAAAAO1kQA.=auth.srv.tunnel.com\",\"rrtype\":\"TXT\",\"ttl\":3,"
        "\"rdata\":\"AhvMAAO1kAFE5TE9QTjFFN09RN1lYSDk\"},"
        "{\"rrname\":\"AAAAAO1kQA.=auth.srv.tunnel.com\",\"rrtype\":\"TXT\",\"ttl\":3,\"rdata\":\"\"}]"));
    assert_non_null(strstr(js, "\"grouped\":{\"TXT\":[\"AhvMAAO1kAFE5TE9QTjFFN09RN1lYSDk\",\"\"]}"));
    assert_non_null(strstr(js,
        "\"authorities\":[{\"rrname\":\"srv.tunnel.com\",\"rrtype\":\"NS\",\"ttl\":604800,"
        "\"rdata\":\"iodine.tunnel.com\"}]"));
    assert_non_null(strstr(js, "\"flags\":\"8180\",\"qr\":true,\"rd\":true,\"ra\":true,"));
    assert_non_null(strstr(js, "\"version\":3,\"type\":\"response\""));
    /* The additional A record (10.30.28.95) is logged as an additional. */
    assert_non_null(strstr(js,
        "\"additionals\":[{\"rrname\":\"iodine.tunnel.com\",\"rrtype\":\"A\",\"ttl\":604800,\"rdata\":\"10.30.28.95\"}]"));
    free(m);
}

/* NULL records (iodine's other transport) built by hand: length only,
 * rdata logged as the raw bytes. */
static void test_null_record(void **st)
{
    (void)st;
    static const uint8_t pkt[] = {
        0x12, 0x34, 0x84, 0x00, 0, 1, 0, 1, 0, 0, 0, 0,
        3, 'a', 'b', 'c', 1, 't', 0, 0, 10, 0, 1,
        0xc0, 12, 0, 10, 0, 1, 0, 0, 0, 5, 0, 3, 'x', 0x01, 0xff,
    };
    sw_dns_msg *m = msg_new();
    assert_int_equal(sw_dns_parse(pkt, sizeof pkt, m), 0);
    assert_int_equal(m->n_answers, 1);
    assert_int_equal(m->answers[0].type, SW_DNS_T_NULL);
    assert_int_equal(m->answers[0].rdlength, 3);
    assert_int_equal(m->answers[0].u.raw.len, 3);
    const char *js = eve_line(m, true, 0);
    assert_non_null(strstr(js, "{\"rrname\":\"abc.t\",\"rrtype\":\"NULL\",\"ttl\":5,\"rdata\":\"x\\u0001\\\\xff\"}"));
    free(m);
}

/* ---- hostile names -------------------------------------------------------- */

static void test_forward_pointer(void **st)
{
    (void)st;
    /* Query 2 is a pointer to a name further on in the message: accepted,
     * as Suricata does (tshark shows both as codemonkey.net). */
    sw_dns_msg *m = parse_pkt("sv-dns-forward-pointer.pcap", 1, 0);
    assert_int_equal(m->id, 36356);
    assert_int_equal(m->n_questions, 2);
    assert_name(m, m->questions[0].name, "codemonkey.net");
    assert_name(m, m->questions[1].name, "codemonkey.net");
    assert_int_equal(m->questions[1].type, SW_DNS_T_A);
    assert_int_equal(m->name_flags, 0);
    const char *js = eve_line(m, false, 0);
    assert_non_null(strstr(js, "\"queries\":[{\"rrname\":\"codemonkey.net\",\"rrtype\":\"A\"},"
                               "{\"rrname\":\"codemonkey.net\",\"rrtype\":\"A\"}]"));
    free(m);

    m = parse_pkt("sv-dns-forward-pointer.pcap", 2, 0);
    assert_int_equal(m->n_answers, 1);
    js = eve_line(m, true, 1);
    assert_non_null(strstr(js, "{\"rrname\":\"codemonkey.net\",\"rrtype\":\"A\",\"ttl\":300,\"rdata\":\"152.53.82.239\"}"));
    free(m);
}

static void test_pointer_loop(void **st)
{
    (void)st;
    uint64_t ctr[SW_DNS_CTR_COUNT] = {0};
    sw_dns_msg *m = msg_new();

    /* Question name is a pointer to itself: no pointer followed yet, so the
     * message is malformed. */
    static const uint8_t self[] = {0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                   0xc0, 12, 0, 1, 0, 1};
    assert_int_equal(sw_dns_parse(self, sizeof self, m), SW_DNS_ERR_QUESTION);
    assert_true(m->name_flags & SW_DNS_NAME_LOOP);
    sw_dns_count(ctr, SW_DNS_ERR_QUESTION, m);
    assert_int_equal(ctr[SW_DNS_CTR_MALFORMED], 1);
    assert_int_equal(ctr[SW_DNS_CTR_POINTER_LOOP], 1);

    /* Two pointers pointing at each other (12 -> 14 -> 12 ...): the step
     * bound ends it; a pointer was followed, so the (empty) name is kept
     * truncated and the record goes on after the first pointer. */
    static const uint8_t pair[] = {0, 2, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                   0xc0, 14, 0xc0, 12, 0, 1, 0, 1};
    assert_int_equal(sw_dns_parse(pair, sizeof pair, m), 0);
    assert_true(m->name_flags & SW_DNS_NAME_LABEL_LIMIT);
    assert_true(m->questions[0].name.flags & SW_DNS_NAME_TRUNCATED);
    assert_int_equal(m->questions[0].name.s.len, 0);
    /* Type is read at 14 (after the first pointer): the bytes c0 0c. */
    assert_int_equal(m->questions[0].type, 0xc00c);
    sw_dns_count(ctr, 0, m);
    assert_int_equal(ctr[SW_DNS_CTR_TOO_MANY_LABELS], 1);

    /* A label then a pointer back to the label: a -> a -> a ... The name
     * grows until the step bound; it is truncated, never overflows. */
    static const uint8_t grow[] = {0, 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                   1, 'a', 0xc0, 12, 0, 1, 0, 1};
    assert_int_equal(sw_dns_parse(grow, sizeof grow, m), 0);
    sw_dns_name n = m->questions[0].name;
    assert_true(n.flags & SW_DNS_NAME_TRUNCATED);
    assert_true(n.flags & SW_DNS_NAME_LABEL_LIMIT);
    /* 128 label steps + 128 pointer steps: "a.a....a" */
    assert_int_equal(n.s.len, 128 * 2 - 1);
    assert_int_equal(m->questions[0].type, 1);

    /* Pointer past the end of the message. */
    static const uint8_t past[] = {0, 4, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                   0xc0, 0xff, 0, 1, 0, 1};
    assert_int_equal(sw_dns_parse(past, sizeof past, m), SW_DNS_ERR_QUESTION);
    /* Reserved label type 0x40. */
    static const uint8_t ext[] = {0, 5, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0,
                                  0x41, 'x', 0, 0, 1, 0, 1};
    assert_int_equal(sw_dns_parse(ext, sizeof ext, m), SW_DNS_ERR_QUESTION);
    free(m);
}

/* PoC from suricata-verify dns-truncated-rname: a 16773-byte query over TCP
 * whose name uses pointers to grow past 1025 characters. Suricata logs it
 * with rrname of length 1025 and rrname_truncated true. */
static void on_msg_copy(void *u, const uint8_t *msg, size_t n)
{
    sw_dns_msg *m = u;
    assert_int_equal(sw_dns_parse(msg, n, m), 0);
}

static void test_truncated_rname(void **st)
{
    (void)st;
    static uint8_t seg[65536];
    sw_dns_tcp *s = malloc(sizeof(*s));
    sw_dns_msg *m = msg_new();
    m->n_questions = 0;
    sw_dns_tcp_init(s, NULL);
    /* Packets 5 and 6 carry client data (tshark: tcp.len 16332 + 443). */
    size_t n = l4_payload("sv-dns-truncated-rname.pcap", 5, seg, sizeof seg, NULL);
    assert_int_equal(n, 16332);
    assert_int_equal((seg[0] << 8) | seg[1], 16773);
    sw_dns_tcp_feed(s, seg, n, on_msg_copy, m);
    assert_int_equal(s->have, 16332);
    n = l4_payload("sv-dns-truncated-rname.pcap", 6, seg, sizeof seg, NULL);
    sw_dns_tcp_feed(s, seg, n, on_msg_copy, m);
    assert_int_equal(s->have, 0);
    assert_true(m->n_questions >= 1);
    sw_dns_name q = m->questions[0].name;
    assert_int_equal(q.s.len, 1025);
    assert_true(q.flags & SW_DNS_NAME_TRUNCATED);
    uint64_t ctr[SW_DNS_CTR_COUNT] = {0};
    sw_dns_count(ctr, 0, m);
    assert_int_equal(ctr[SW_DNS_CTR_NAME_TOO_LONG], 1);
    const char *js = eve_line(m, false, 0);
    assert_non_null(strstr(js, "\"rrname_truncated\":true"));
    free(m);
    free(s);
}

static void test_corrupt_additionals(void **st)
{
    (void)st;
    sw_dns_msg *m = parse_pkt("sv-dns-corrupt-additionals.pcap", 2, 0);
    assert_int_equal(m->n_answers, 2);
    assert_name(m, m->answers[0].name, "_sip._udp.sip.voice.google.com");
    assert_true(m->invalid_additionals);
    assert_false(m->invalid_authorities);
    assert_int_equal(m->n_additionals, 0);
    uint64_t ctr[SW_DNS_CTR_COUNT] = {0};
    sw_dns_count(ctr, 0, m);
    assert_int_equal(ctr[SW_DNS_CTR_INVALID_ADDITIONALS], 1);
    assert_int_equal(ctr[SW_DNS_CTR_MALFORMED], 0);
    const char *js = eve_line(m, true, 1);
    assert_non_null(strstr(js, "\"answers\":[{\"rrname\":\"_sip._udp.sip.voice.google.com\",\"rrtype\":\"SRV\",\"ttl\":"));
    assert_non_null(strstr(js, "\"srv\":{\"priority\":20,\"weight\":1,\"port\":5060,\"name\":\"sip-anycast-2.voice.google.com\"}"));
    assert_non_null(strstr(js, "\"grouped\":{\"SRV\":[{\"priority\":20,"));
    free(m);
}

/* ---- DNS over TCP ---------------------------------------------------------- */

typedef struct tcp_seen {
    int n;
    uint16_t ids[8];
    uint16_t ancount[8];
    int n_a;
    sw_dns_msg *m;
} tcp_seen;

static void on_tcp_msg(void *u, const uint8_t *msg, size_t n)
{
    tcp_seen *t = u;
    assert_int_equal(sw_dns_parse(msg, n, t->m), 0);
    assert_true(t->n < 8);
    t->ids[t->n] = t->m->id;
    t->ancount[t->n] = t->m->n_answers;
    t->n++;
}

static void test_tcp_one_byte_chunks(void **st)
{
    (void)st;
    static uint8_t q[2048], r[2048], both[4096];
    uint16_t sp;
    /* tshark: frame 4 query (57 bytes), frame 6 response (237 bytes),
     * id 0x5f78, 12 A records for www.google.com. */
    size_t qn = l4_payload("sv-dns-tcp-www-google-com.pcap", 4, q, sizeof q, &sp);
    size_t rn = l4_payload("sv-dns-tcp-www-google-com.pcap", 6, r, sizeof r, NULL);
    assert_int_equal(qn, 57);
    assert_int_equal(rn, 237);

    sw_dns_tcp *s = malloc(sizeof(*s));
    tcp_seen t = {.m = msg_new()};
    sw_dns_tcp_init(s, NULL);
    for (size_t i = 0; i < rn; i++) {
        assert_int_equal(t.n, 0);
        sw_dns_tcp_feed(s, r + i, 1, on_tcp_msg, &t);
    }
    assert_int_equal(t.n, 1);
    assert_int_equal(t.ids[0], 0x5f78);
    assert_int_equal(t.ancount[0], 12);
    assert_memory_equal(t.m->answers[0].u.addr, "\xd8\xc5\xf2\xf4", 4); /* 216.197.242.244 */
    const char *js = eve_line(t.m, true, 1);
    assert_non_null(strstr(js, "\"grouped\":{\"A\":[\"216.197.242.244\",\"216.197.242.224\","));

    /* Two messages in one segment, then split at every possible point. */
    memcpy(both, q, qn);
    memcpy(both + qn, r, rn);
    for (size_t cut = 0; cut <= qn + rn; cut++) {
        t.n = 0;
        sw_dns_tcp_init(s, NULL);
        sw_dns_tcp_feed(s, both, cut, on_tcp_msg, &t);
        sw_dns_tcp_feed(s, both + cut, qn + rn - cut, on_tcp_msg, &t);
        assert_int_equal(t.n, 2);
        assert_int_equal(t.ids[0], 0x5f78);
        assert_int_equal(t.ancount[0], 0);
        assert_int_equal(t.ancount[1], 12);
        assert_int_equal(s->have, 0);
    }

    /* A gap mid-message: reset drops the partial message and counts it;
     * the next whole message is parsed. */
    uint64_t ctr[SW_DNS_CTR_COUNT] = {0};
    t.n = 0;
    sw_dns_tcp_init(s, ctr);
    sw_dns_tcp_feed(s, r, 100, on_tcp_msg, &t);
    sw_dns_tcp_reset(s);
    assert_int_equal(ctr[SW_DNS_CTR_TCP_GAP], 1);
    sw_dns_tcp_feed(s, q, qn, on_tcp_msg, &t);
    assert_int_equal(t.n, 1);
    /* Zero-length messages are skipped and counted. */
    static const uint8_t zero[] = {0, 0, 0, 0};
    sw_dns_tcp_feed(s, zero, sizeof zero, on_tcp_msg, &t);
    assert_int_equal(ctr[SW_DNS_CTR_TCP_EMPTY], 2);
    assert_int_equal(t.n, 1);
    free(t.m);
    free(s);
}

/* ---- robustness ------------------------------------------------------------ */

/* Every prefix of real messages parses or fails cleanly (ASan/UBSan watch
 * the reads), and every successful parse serialises. */
static void test_every_truncation(void **st)
{
    (void)st;
    static const struct { const char *f; int pkt; } src[] = {
        {"zeek-dns-txt-multiple.pcap", 2},
        {"sv-dns-v2-udp-nxdomain-soa.pcap", 2},
        {"sv-dns-udp-eve-log-srv.pcap", 2},
        {"sv-dns-sshfp.pcap", 2},
        {"sv-dns-bug-1158-iodine.pcap", 2},
        {"sv-dns-forward-pointer.pcap", 1},
    };
    static uint8_t full[65536];
    sw_dns_msg *m = msg_new();
    sw_json j;
    swj_init(&j);
    for (size_t k = 0; k < sizeof src / sizeof src[0]; k++) {
        size_t n = l4_payload(src[k].f, src[k].pkt, full, sizeof full, NULL);
        int ok = 0;
        for (size_t cut = 0; cut <= n; cut++) {
            /* A heap copy of exactly cut bytes so ASan sees any overread. */
            uint8_t *b = malloc(cut ? cut : 1);
            memcpy(b, full, cut);
            int rc = sw_dns_parse(b, cut, m);
            assert_true(rc <= 0);
            if (cut < SW_DNS_HEADER_LEN)
                assert_int_equal(rc, SW_DNS_ERR_SHORT_HEADER);
            if (rc == 0) {
                ok++;
                assert_true(m->parsed_len <= cut);
                swj_reset(&j);
                sw_eve_dns_answer(&j, m, 0);
                assert_true(swj_finish(&j) > 0);
            }
            /* Bit flips over the header and the first bytes too. */
            for (size_t i = 0; i < cut && i < 48; i++) {
                b[i] ^= 0xc0;
                rc = sw_dns_parse(b, cut, m);
                assert_true(rc <= 0);
                b[i] ^= 0xc0;
            }
            free(b);
        }
        assert_true(ok >= 1); /* at least the full message */
        assert_int_equal(sw_dns_parse(full, n, m), 0);
    }
    swj_free(&j);
    free(m);
}

static void test_bounds_dropped(void **st)
{
    (void)st;
    /* 40 questions (bound 32), all "a" with a pointer to the first. */
    static uint8_t b[12 + 7 + 39 * 6];
    memset(b, 0, sizeof b);
    b[5] = 40;
    size_t p = 12;
    const uint8_t first[] = {1, 'a', 0, 0, 1, 0, 1};
    memcpy(b + p, first, sizeof first);
    p += sizeof first;
    for (int i = 1; i < 40; i++) {
        const uint8_t q[] = {0xc0, 12, 0, 1, 0, 1};
        memcpy(b + p, q, sizeof q);
        p += sizeof q;
    }
    sw_dns_msg *m = msg_new();
    assert_int_equal(sw_dns_parse(b, p, m), 0);
    assert_int_equal(m->n_questions, SW_DNS_MAX_QUESTIONS);
    assert_int_equal(m->questions_dropped, 8);
    assert_int_equal(m->parsed_len, p);
    assert_name(m, m->questions[31].name, "a");
    uint64_t ctr[SW_DNS_CTR_COUNT] = {0};
    sw_dns_count(ctr, 0, m);
    assert_int_equal(ctr[SW_DNS_CTR_RECORDS_DROPPED], 8);
    sw_ctr_group g = sw_dns_ctr_group(ctr);
    assert_int_equal(g.n, SW_DNS_CTR_COUNT);
    assert_string_equal(g.names[SW_DNS_CTR_MALFORMED], "spanwatch.dns.malformed");
    assert_string_equal(g.names[SW_DNS_CTR_POINTER_LOOP], "spanwatch.dns.pointer_loop");
    free(m);
}

static void test_rrtype_names(void **st)
{
    (void)st;
    char b[8];
    assert_string_equal(sw_dns_rrtype_name(1), "A");
    assert_string_equal(sw_dns_rrtype_name(28), "AAAA");
    assert_string_equal(sw_dns_rrtype_name(33), "SRV");
    assert_string_equal(sw_dns_rrtype_name(65), "HTTPS");
    assert_string_equal(sw_dns_rrtype_name(23), "NSAPPT"); /* Suricata's spelling */
    assert_null(sw_dns_rrtype_name(64));
    assert_string_equal(sw_dns_rrtype_str(64, b, sizeof b), "64");
    assert_string_equal(sw_dns_rrtype_str(65535, b, sizeof b), "65535");
    assert_string_equal(sw_dns_rcode_name(0), "NOERROR");
    assert_null(sw_dns_rcode_name(11));
    assert_string_equal(sw_dns_strerror(SW_DNS_ERR_ANSWER),
                        "malformed or truncated answer section");
}

/* The suricata-verify dns-udp-eve-txt expectations, checked on our line. */
static void test_eve_matches_suricata_verify(void **st)
{
    (void)st;
    sw_dns_msg *m = parse_pkt("sv-dns-udp-eve-txt.pcap", 2, 0);
    const char *js = eve_line(m, true, 0);
    assert_string_equal(js,
        "{\"dns\":{\"version\":3,\"type\":\"response\",\"tx_id\":0,\"id\":28243,"
        "\"flags\":\"8180\",\"qr\":true,\"rd\":true,\"ra\":true,\"opcode\":0,"
        "\"rcode\":\"NOERROR\",\"queries\":[{\"rrname\":\"google.com\",\"rrtype\":\"TXT\"}],"
        "\"answers\":[{\"rrname\":\"google.com\",\"rrtype\":\"TXT\",\"ttl\":3217,"
        "\"rdata\":\"v=spf1 include:_spf.google.com ~all\"}],"
        "\"grouped\":{\"TXT\":[\"v=spf1 include:_spf.google.com ~all\"]}}}\n");
    free(m);

    m = parse_pkt("sv-dns-udp-eve-txt.pcap", 4, 0);
    js = eve_line(m, true, 0);
    assert_non_null(strstr(js, "\"id\":39372,"));
    assert_non_null(strstr(js, "\"queries\":[{\"rrname\":\"textsecure-service-ca.whispersystems.org\",\"rrtype\":\"A\"}]"));
    assert_non_null(strstr(js, "\"answers\":[{\"rrname\":\"textsecure-service-ca.whispersystems.org\","
                               "\"rrtype\":\"A\",\"ttl\":5,\"rdata\":\"34.197.178.240\"}]"));
    assert_non_null(strstr(js, "\"grouped\":{\"A\":[\"34.197.178.240\"]}"));
    free(m);
}

static void test_aaaa_and_config(void **st)
{
    (void)st;
    static const uint8_t pkt[] = {
        0, 7, 0x81, 0x80, 0, 1, 0, 1, 0, 0, 0, 0,
        1, 'h', 0, 0, 28, 0, 1,
        0xc0, 12, 0, 28, 0, 1, 0, 0, 0, 60, 0, 16,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1,
    };
    sw_dns_msg *m = msg_new();
    assert_int_equal(sw_dns_parse(pkt, sizeof pkt, m), 0);
    const char *js = eve_line(m, true, 0);
    assert_non_null(strstr(js, "\"rdata\":\"2001:0db8:0000:0000:0000:0000:0000:0001\""));
    sw_dns_config c;
    sw_dns_config_defaults(&c);
    assert_true(c.log_detailed && c.log_grouped);
    c.log_grouped = false;
    sw_json j;
    swj_init(&j);
    swj_reset(&j);
    sw_eve_dns_write(&j, m, 0, true, &c);
    assert_true(swj_finish(&j) > 0);
    assert_null(strstr(j.buf, "grouped"));
    assert_non_null(strstr(j.buf, "\"answers\""));
    swj_free(&j);
    free(m);
}

static void test_config_load(void **st)
{
    (void)st;
    char err[256];
    sw_dns_config c;
    sw_dns_config_defaults(&c);
    sw_cfg_node *root = sw_cfg_load_string("dns:\n  eve:\n    grouped: no\n", err, sizeof err);
    assert_non_null(root);
    assert_int_equal(sw_dns_config_load(root, &c, err, sizeof err), 0);
    assert_true(c.log_detailed);
    assert_false(c.log_grouped);
    sw_cfg_free(root);
    root = sw_cfg_load_string("dns:\n  eve:\n    detailed: maybe\n", err, sizeof err);
    assert_non_null(root);
    assert_int_equal(sw_dns_config_load(root, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "dns.eve.detailed"));
    sw_cfg_free(root);
}

/* Found by fuzzing: a name that crosses the length bound on the very step
 * that also hits the label bound kept more than SW_DNS_MAX_NAME bytes. */
static void test_name_bound_at_label_limit(void **st)
{
    (void)st;
    sw_dns_msg *m = msg_new();
    static uint8_t b[12 + 6 + 254 * 4 + 64 + 1];
    size_t n = 0;
    const uint8_t hdr[12] = {0, 3, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0};
    memcpy(b, hdr, 12);
    n = 12;
    b[n++] = 0xc0; /* the question name is a pointer to the labels below */
    b[n++] = 18;
    b[n++] = 0; b[n++] = 1; b[n++] = 0; b[n++] = 1; /* type A, class IN */
    for (int i = 0; i < 254; i++) {
        b[n++] = 3;
        memcpy(b + n, "abc", 3);
        n += 3;
    }
    b[n++] = 63;
    memset(b + n, 'x', 63);
    n += 63;
    b[n++] = 0;
    assert_int_equal(sw_dns_parse(b, n, m), 0);
    assert_true(m->questions[0].name.s.len <= SW_DNS_MAX_NAME);
    assert_true(m->questions[0].name.flags & SW_DNS_NAME_TRUNCATED);
    free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_srv),
        cmocka_unit_test(test_txt_multiple_strings),
        cmocka_unit_test(test_soa_nxdomain),
        cmocka_unit_test(test_sshfp),
        cmocka_unit_test(test_iodine_txt),
        cmocka_unit_test(test_null_record),
        cmocka_unit_test(test_forward_pointer),
        cmocka_unit_test(test_pointer_loop),
        cmocka_unit_test(test_truncated_rname),
        cmocka_unit_test(test_corrupt_additionals),
        cmocka_unit_test(test_tcp_one_byte_chunks),
        cmocka_unit_test(test_every_truncation),
        cmocka_unit_test(test_bounds_dropped),
        cmocka_unit_test(test_rrtype_names),
        cmocka_unit_test(test_eve_matches_suricata_verify),
        cmocka_unit_test(test_aaaa_and_config),
        cmocka_unit_test(test_config_load),
        cmocka_unit_test(test_name_bound_at_label_limit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
