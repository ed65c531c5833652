/* Decoder unit tests on hand-built packets: valid decoding of every layer,
 * and every truncation 0..header length of every decoder raising its named
 * event (and never reading out of bounds: run under ASan). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoders/decode.h"

static sw_dec_ctx ctx;

static int setup(void **state)
{
    (void)state;
    sw_dec_config c;
    sw_dec_config_defaults(&c);
    sw_dec_ctx_init(&ctx, &c);
    return 0;
}

static bool has_event(const sw_packet *p, sw_dec_event ev)
{
    for (int i = 0; i < p->n_events; i++)
        if (p->events[i] == ev)
            return true;
    return false;
}

/* Decodes a heap copy of exactly len bytes so ASan sees any overread. */
static sw_dec_result dec(sw_packet *p, int linktype, const uint8_t *b, uint32_t len)
{
    static uint8_t *copy;
    free(copy);
    copy = malloc(len ? len : 1);
    memcpy(copy, b, len);
    memset(p, 0xA5, sizeof(*p)); /* the decoder must zero what it uses */
    p->data = copy;
    p->caplen = p->wirelen = len;
    p->linktype = linktype;
    p->ts_us = 1;
    return sw_decode_packet(&ctx, p);
}

static uint64_t ctr(int id) { return ctx.ctr[id]; }
static uint64_t ev_ctr(sw_dec_event e) { return ctx.ctr[SW_DEC_CTR_EV_BASE + e]; }

/* ---- packet builders ---- */

static const uint8_t MAC_D[6] = {0x00, 0x11, 0x22, 0x33, 0x44, 0x55};
static const uint8_t MAC_S[6] = {0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb};

static size_t put_eth(uint8_t *b, uint16_t type)
{
    memcpy(b, MAC_D, 6);
    memcpy(b + 6, MAC_S, 6);
    b[12] = (uint8_t)(type >> 8);
    b[13] = (uint8_t)type;
    return 14;
}

static size_t put_ipv4(uint8_t *b, uint8_t proto, uint16_t l4len, const uint8_t *src,
                       const uint8_t *dst)
{
    memset(b, 0, 20);
    b[0] = 0x45;
    uint16_t tl = (uint16_t)(20 + l4len);
    b[2] = (uint8_t)(tl >> 8);
    b[3] = (uint8_t)tl;
    b[4] = 0x12;
    b[5] = 0x34;
    b[8] = 64;
    b[9] = proto;
    memcpy(b + 12, src, 4);
    memcpy(b + 16, dst, 4);
    return 20;
}

static size_t put_ipv6(uint8_t *b, uint8_t nh, uint16_t plen, const uint8_t *src,
                       const uint8_t *dst)
{
    memset(b, 0, 40);
    b[0] = 0x60;
    b[4] = (uint8_t)(plen >> 8);
    b[5] = (uint8_t)plen;
    b[6] = nh;
    b[7] = 255;
    memcpy(b + 8, src, 16);
    memcpy(b + 24, dst, 16);
    return 40;
}

static const uint8_t A4[4] = {10, 0, 0, 1}, B4[4] = {192, 168, 1, 2};
static const uint8_t A6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 1};
static const uint8_t B6[16] = {0x20, 0x01, 0x0d, 0xb8, [15] = 2};

/* TCP SYN with MSS 1460, SACK-permitted, timestamps, NOP, wscale 7. */
static size_t put_tcp_syn(uint8_t *b)
{
    static const uint8_t t[40] = {
        0x04, 0xd2, 0x00, 0x50,  /* 1234 -> 80 */
        0x00, 0x00, 0x03, 0xe8,  /* seq 1000 */
        0x00, 0x00, 0x00, 0x00,  /* ack */
        0xa0, 0x02, 0xfa, 0xf0,  /* doff 10, SYN, win 64240 */
        0x00, 0x00, 0x00, 0x00,
        0x02, 0x04, 0x05, 0xb4,  /* MSS 1460 */
        0x04, 0x02,              /* SACK permitted */
        0x08, 0x0a, 0x00, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x07, /* TS 42, 7 */
        0x01,                    /* NOP */
        0x03, 0x03, 0x07,        /* wscale 7 */
    };
    memcpy(b, t, sizeof(t));
    return sizeof(t);
}

static size_t put_udp(uint8_t *b, uint16_t sport, uint16_t dport, uint16_t paylen)
{
    uint16_t l = (uint16_t)(8 + paylen);
    b[0] = (uint8_t)(sport >> 8);
    b[1] = (uint8_t)sport;
    b[2] = (uint8_t)(dport >> 8);
    b[3] = (uint8_t)dport;
    b[4] = (uint8_t)(l >> 8);
    b[5] = (uint8_t)l;
    b[6] = b[7] = 0;
    memset(b + 8, 'x', paylen);
    return l;
}

/* ---- valid decoding ---- */

static void test_eth_ipv4_tcp(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = put_eth(b, 0x0800);
    uint8_t tcp[40];
    size_t tl = put_tcp_syn(tcp);
    n += put_ipv4(b + n, 6, (uint16_t)tl, A4, B4);
    memcpy(b + n, tcp, tl);
    n += tl;
    memset(b + n, 0, 6); /* Ethernet padding: not part of the datagram */
    sw_packet p;
    uint64_t before = ctr(SW_DEC_CTR_TCP);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n + 6), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_TCP), before + 1);
    assert_int_equal(p.n_events, 0);
    assert_memory_equal(p.l2.dst_mac, MAC_D, 6);
    assert_memory_equal(p.l2.src_mac, MAC_S, 6);
    assert_int_equal(p.l2.ether_type, 0x0800);
    assert_int_equal(p.l2.vlan_count, 0);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    assert_int_equal(p.ip.version, 4);
    assert_int_equal(p.ip.proto, 6);
    assert_int_equal(p.ip.ttl, 64);
    assert_memory_equal(p.ip.src, A4, 4);
    assert_memory_equal(p.ip.dst, B4, 4);
    assert_int_equal(p.ip.src[4], 0);
    assert_int_equal(p.ip.total_len, 60);
    assert_false(p.ip.is_fragment);
    assert_int_equal(p.l4.sport, 1234);
    assert_int_equal(p.l4.dport, 80);
    assert_int_equal(p.l4.seq, 1000);
    assert_int_equal(p.l4.tcp_flags, SW_TCP_SYN);
    assert_int_equal(p.l4.win, 64240);
    assert_int_equal(p.l4.mss, 1460);
    assert_true(p.l4.sack_permitted);
    assert_true(p.l4.has_ts);
    assert_int_equal(p.l4.tsval, 42);
    assert_int_equal(p.l4.tsecr, 7);
    assert_true(p.l4.has_wscale);
    assert_int_equal(p.l4.wscale, 7);
    assert_int_equal(p.l4.payload_len, 0);
}

static void test_ipv6_udp_and_exthdrs(void **state)
{
    (void)state;
    uint8_t b[200];
    /* HBH (router alert) -> dest opts (PadN only) -> UDP */
    uint8_t ext[16] = {60, 0, 0x05, 0x02, 0x00, 0x00, 0x01, 0x00, /* HBH: RA + PadN(0) */
                       17, 0, 0x01, 0x04, 0, 0, 0, 0};            /* DST: PadN(4) */
    uint8_t udp[64];
    size_t ul = put_udp(udp, 5353, 53, 10);
    size_t n = put_ipv6(b, 0, (uint16_t)(sizeof(ext) + ul), A6, B6);
    memcpy(b + n, ext, sizeof(ext));
    n += sizeof(ext);
    memcpy(b + n, udp, ul);
    n += ul;
    sw_packet p;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.ip.version, 6);
    assert_int_equal(p.ip.proto, 17);
    assert_int_equal(p.ip.hdr_len, 56);
    assert_memory_equal(p.ip.src, A6, 16);
    assert_int_equal(p.l4.sport, 5353);
    assert_int_equal(p.l4.dport, 53);
    assert_int_equal(p.l4.payload_len, 10);
    assert_true(has_event(&p, SW_EV_IPV6_ZERO_LEN_PADN));
    assert_true(has_event(&p, SW_EV_IPV6_DSTOPTS_ONLY_PADDING));
    assert_false(has_event(&p, SW_EV_IPV6_HOPOPTS_ONLY_PADDING));

    /* Option length running past the header is fatal. */
    b[40 + 3] = 0x20;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPV6_EXTHDR_INVALID_OPTLEN));
    /* The IP layer is still described. */
    assert_int_equal(p.ip.version, 6);
    assert_memory_equal(p.ip.dst, B6, 16);
}

static void test_vlan_qinq_and_limit(void **state)
{
    (void)state;
    uint8_t b[256];
    size_t n = put_eth(b, 0x88A8);
    const uint16_t tags[] = {100, 200, 300, 400};
    for (int i = 0; i < 4; i++) {
        b[n] = (uint8_t)(tags[i] >> 8) | 0x20; /* PCP bits must be masked off */
        b[n + 1] = (uint8_t)tags[i];
        b[n + 2] = i < 3 ? 0x81 : 0x08;
        b[n + 3] = i < 3 ? 0x00 : 0x00;
        n += 4;
    }
    uint8_t udp[32];
    size_t ul = put_udp(udp, 1, 2, 0);
    n += put_ipv4(b + n, 17, (uint16_t)ul, A4, B4);
    memcpy(b + n, udp, ul);
    n += ul;
    sw_packet p;
    uint64_t q = ctr(SW_DEC_CTR_VLAN_QINQ), qq = ctr(SW_DEC_CTR_VLAN_QINQINQ);
    /* Four tags: more than SW_MAX_VLANS. */
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_VLAN_TOO_MANY_LAYERS));
    assert_int_equal(ctr(SW_DEC_CTR_VLAN_QINQ), q + 1);
    assert_int_equal(ctr(SW_DEC_CTR_VLAN_QINQINQ), qq + 1);

    /* Three tags: drop the fourth. */
    uint8_t c[256];
    memcpy(c, b, 14 + 12);
    c[14 + 10] = 0x08;
    c[14 + 11] = 0x00;
    memcpy(c + 26, b + 30, n - 30);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, c, (uint32_t)n - 4), SW_DEC_OK);
    assert_int_equal(p.l2.vlan_count, 3);
    assert_int_equal(p.l2.vlan_id[0], 100);
    assert_int_equal(p.l2.vlan_id[1], 200);
    assert_int_equal(p.l2.vlan_id[2], 300);
    assert_int_equal(p.l2.ether_type, 0x0800);
    assert_int_equal(p.l4.dport, 2);
}

static void test_mpls(void **state)
{
    (void)state;
    uint8_t b[128];
    size_t n = put_eth(b, 0x8847);
    /* label 29 (not bottom), label 1000 (bottom) then IPv4 */
    const uint8_t shims[8] = {0x00, 0x01, 0xd0, 0x40, 0x00, 0x3e, 0x81, 0x40};
    memcpy(b + n, shims, 8);
    n += 8;
    uint8_t udp[32];
    size_t ul = put_udp(udp, 7, 9, 2);
    n += put_ipv4(b + n, 17, (uint16_t)ul, A4, B4);
    memcpy(b + n, udp, ul);
    n += ul;
    sw_packet p;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.mpls_count, 2);
    assert_int_equal(p.l4.sport, 7);

    /* Bottom label 1 (router alert) is not valid there. */
    b[14 + 5] = 0x00;
    b[14 + 6] = 0x11;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_MPLS_BAD_LABEL_ROUTER_ALERT));
    /* Bottom label 3 (implicit null) and 9 (reserved). */
    b[14 + 6] = 0x31;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_MPLS_BAD_LABEL_IMPLICIT_NULL));
    b[14 + 6] = 0x91;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_MPLS_BAD_LABEL_RESERVED));
    /* A label stack with no bottom bit runs out of bytes. */
    uint8_t s[14 + 40];
    put_eth(s, 0x8847);
    memset(s + 14, 0, 40);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, s, sizeof(s)), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_MPLS_HEADER_TOO_SMALL));
}

static void test_null_both_orders_and_loop(void **state)
{
    (void)state;
    uint8_t b[128];
    uint8_t udp[32];
    size_t ul = put_udp(udp, 1000, 2000, 0);
    size_t n = 4 + put_ipv6(b + 4, 17, (uint16_t)ul, A6, B6);
    memcpy(b + n, udp, ul);
    n += ul;
    sw_packet p;
    const uint32_t fams[] = {24, 28, 30, 10};
    for (int i = 0; i < 4; i++) {
        /* little-endian capture host */
        b[0] = (uint8_t)fams[i];
        b[1] = b[2] = b[3] = 0;
        assert_int_equal(dec(&p, SW_DLT_NULL, b, (uint32_t)n), SW_DEC_OK);
        assert_int_equal(p.ip.version, 6);
        assert_int_equal(p.l4.dport, 2000);
        /* big-endian capture host */
        b[0] = b[1] = b[2] = 0;
        b[3] = (uint8_t)fams[i];
        assert_int_equal(dec(&p, SW_DLT_NULL, b, (uint32_t)n), SW_DEC_OK);
        assert_int_equal(p.ip.version, 6);
        /* DLT_LOOP is network order only */
        assert_int_equal(dec(&p, SW_DLT_LOOP, b, (uint32_t)n), SW_DEC_OK);
    }
    b[0] = 30;
    assert_int_equal(dec(&p, SW_DLT_LOOP, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_LTNULL_UNSUPPORTED_TYPE));
    b[0] = 0;
    b[3] = 99;
    assert_int_equal(dec(&p, SW_DLT_NULL, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_LTNULL_UNSUPPORTED_TYPE));
}

static void test_raw_variants(void **state)
{
    (void)state;
    uint8_t b4[64], b6[80];
    uint8_t udp[16];
    size_t ul = put_udp(udp, 1, 2, 0);
    size_t n4 = put_ipv4(b4, 17, (uint16_t)ul, A4, B4);
    memcpy(b4 + n4, udp, ul);
    n4 += ul;
    size_t n6 = put_ipv6(b6, 17, (uint16_t)ul, A6, B6);
    memcpy(b6 + n6, udp, ul);
    n6 += ul;
    sw_packet p;
    uint64_t raw = ctr(SW_DEC_CTR_RAW);
    assert_int_equal(dec(&p, SW_DLT_RAW, b4, (uint32_t)n4), SW_DEC_OK);
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b6, (uint32_t)n6), SW_DEC_OK);
    assert_int_equal(dec(&p, SW_DLT_IPV4, b4, (uint32_t)n4), SW_DEC_OK);
    assert_int_equal(dec(&p, SW_DLT_IPV6, b6, (uint32_t)n6), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_RAW), raw + 4);
    assert_int_equal(dec(&p, SW_DLT_IPV4, b6, (uint32_t)n6), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPV4_WRONG_IP_VERSION));
    assert_int_equal(dec(&p, SW_DLT_IPV6, b6, 39), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPV6_PKT_TOO_SMALL));
    memcpy(b6 + 40, b4, 20);
    b6[0] = 0x45;
    assert_int_equal(dec(&p, SW_DLT_IPV6, b6, 60), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPV6_WRONG_IP_VERSION));
    b4[0] = 0x75;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b4, (uint32_t)n4), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPRAW_INVALID_IP_VERSION));
}

static void test_not_ip_and_unknown_linktype(void **state)
{
    (void)state;
    uint8_t b[60];
    memset(b, 0, sizeof(b));
    put_eth(b, 0x0806);
    sw_packet p;
    uint64_t arp = ctr(SW_DEC_CTR_ARP), unk = ctr(SW_DEC_CTR_UNKNOWN_ETHERTYPE);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, sizeof(b)), SW_DEC_NOT_IP);
    assert_int_equal(ctr(SW_DEC_CTR_ARP), arp + 1);
    assert_int_equal(p.ip.version, 0);
    put_eth(b, 0x88CC); /* LLDP */
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, sizeof(b)), SW_DEC_NOT_IP);
    put_eth(b, 0x0026); /* 802.3 length */
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, sizeof(b)), SW_DEC_NOT_IP);
    assert_int_equal(ctr(SW_DEC_CTR_UNKNOWN_ETHERTYPE), unk + 2);
    assert_int_equal(dec(&p, 147, b, sizeof(b)), SW_DEC_NOT_IP);
}

static void test_ipv4_fragment_fields(void **state)
{
    (void)state;
    uint8_t b[64];
    size_t n = put_ipv4(b, 17, 24, A4, B4);
    memset(b + n, 0x55, 24);
    b[6] = 0x20 | 0x00; /* MF */
    b[7] = 3;           /* offset 24 bytes */
    sw_packet p;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 44), SW_DEC_FRAGMENT);
    assert_true(p.ip.is_fragment);
    assert_true(p.ip.more_frags);
    assert_int_equal(p.ip.frag_offset, 24);
    assert_int_equal(p.ip.frag_id, 0x1234);
    assert_int_equal(p.ip.payload_len, 24);
    assert_int_equal(p.l4.sport, 0); /* L4 of fragments is not decoded */
    /* Offset + length beyond 64 KB */
    b[6] = 0x1f;
    b[7] = 0xff;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 44), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPV4_FRAG_PKT_TOO_LARGE));
}

static void test_ipv4_options(void **state)
{
    (void)state;
    uint8_t b[80];
    uint8_t udp[16];
    size_t ul = put_udp(udp, 1, 2, 0);
    sw_packet p;
    struct {
        uint8_t opt[12];
        sw_dec_result r;
        int ev; /* -1: none */
    } cases[] = {
        {{0x94, 0x04, 0, 0, 0x01, 0x01, 0x01, 0x00}, SW_DEC_OK, -1},           /* RA, NOPs, EOL */
        {{0x94, 0x04, 0, 0, 0x94, 0x04, 0, 0}, SW_DEC_OK, SW_EV_IPV4_OPT_DUPLICATE},
        {{0x99, 0x04, 0, 0, 0, 0, 0, 0}, SW_DEC_OK, SW_EV_IPV4_OPT_UNKNOWN},
        {{0x94, 0x01, 0, 0, 0, 0, 0, 0}, SW_DEC_INVALID, SW_EV_IPV4_OPT_INVALID_LEN},
        {{0x94, 0x0c, 0, 0, 0, 0, 0, 0}, SW_DEC_INVALID, SW_EV_IPV4_OPT_INVALID_LEN},
        {{0x94, 0x03, 0, 0, 0, 0, 0, 0}, SW_DEC_INVALID, SW_EV_IPV4_OPT_MALFORMED},
        {{0x07, 0x07, 0x05, 0, 0, 0, 0, 0}, SW_DEC_INVALID, SW_EV_IPV4_OPT_MALFORMED}, /* RR ptr 5 */
        {{0x07, 0x07, 0x04, 0, 0, 0, 0, 0}, SW_DEC_OK, -1},                    /* RR ptr 4 */
        {{0x44, 0x08, 0x05, 0x00, 0, 0, 0, 0}, SW_DEC_OK, -1},                 /* TS */
        {{0x44, 0x08, 0x05, 0x02, 0, 0, 0, 0}, SW_DEC_INVALID, SW_EV_IPV4_OPT_MALFORMED},
        {{0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x01, 0x94}, SW_DEC_INVALID, SW_EV_IPV4_OPT_INVALID_LEN},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        size_t n = put_ipv4(b, 17, (uint16_t)(ul + 8), A4, B4);
        b[0] = 0x47;
        memcpy(b + n, cases[i].opt, 8);
        memcpy(b + n + 8, udp, ul);
        sw_dec_result r = dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)(n + 8 + ul));
        assert_int_equal(r, cases[i].r);
        if (cases[i].ev >= 0)
            assert_true(has_event(&p, (sw_dec_event)cases[i].ev));
        else
            assert_int_equal(p.n_events, 0);
        assert_int_equal(p.ip.hdr_len, 28);
        if (r == SW_DEC_OK)
            assert_int_equal(p.l4.dport, 2);
    }
}

static void test_tcp_options_events(void **state)
{
    (void)state;
    uint8_t b[100];
    sw_packet p;
    uint8_t tcp[40];
    put_tcp_syn(tcp);
    /* duplicate MSS */
    tcp[24] = 0x02;
    tcp[25] = 0x04;
    tcp[26] = 0x01;
    tcp[27] = 0x00;
    size_t n = put_ipv4(b, 6, 40, A4, B4);
    memcpy(b + n, tcp, 40);
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 60), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_TCP_OPT_DUPLICATE));
    assert_int_equal(p.l4.mss, 1460); /* the first one stands */
    /* wrong length of a known option: noted, ignored */
    put_tcp_syn(tcp);
    tcp[36] = 0x03;
    tcp[37] = 0x04; /* wscale with len 4 eats the NOP... keep within header */
    tcp[35] = 0x00;
    memcpy(b + n, tcp, 40);
    tcp[36] = 0;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 60), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_TCP_OPT_INVALID_LEN));
    assert_false(p.l4.has_wscale);
    /* option length past the header: fatal, but IP is still filled */
    put_tcp_syn(tcp);
    tcp[37] = 0x03;
    tcp[38] = 0x09;
    memcpy(b + n, tcp, 40);
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 60), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_TCP_INVALID_OPTLEN));
    assert_int_equal(p.ip.version, 4);
    assert_memory_equal(p.ip.src, A4, 4);
}

static void test_icmp(void **state)
{
    (void)state;
    uint8_t b[100];
    sw_packet p;
    uint8_t icmp[36] = {3, 3, 0, 0, 0, 0, 0, 0};
    size_t n = put_ipv4(icmp + 8, 17, 8, B4, A4);
    put_udp(icmp + 8 + n, 53, 1024, 0);
    size_t h = put_ipv4(b, 1, sizeof(icmp), A4, B4);
    memcpy(b + h, icmp, sizeof(icmp));
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)(h + sizeof(icmp))), SW_DEC_OK);
    assert_int_equal(p.l4.icmp_type, 3);
    assert_int_equal(p.l4.icmp_code, 3);
    assert_int_equal(p.n_events, 0);
    b[h + 1] = 99;
    b[h + 8] = 0x65;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)(h + sizeof(icmp))), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_ICMPV4_UNKNOWN_CODE));
    assert_true(has_event(&p, SW_EV_ICMPV4_IPV4_UNKNOWN_VER));
    b[h] = 77;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)(h + sizeof(icmp))), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_ICMPV4_UNKNOWN_TYPE));
    /* ICMPv6 carried by IPv4 */
    b[9] = 58;
    b[h] = 128;
    b[h + 1] = 0;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)(h + sizeof(icmp))), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_IPV4_ICMPV6));
}

static void test_icmpv6(void **state)
{
    (void)state;
    uint8_t b[100];
    sw_packet p;
    uint8_t icmp[8] = {130, 0, 0, 0, 0, 0, 0, 0}; /* MLD query, hop limit 255 */
    size_t h = put_ipv6(b, 58, 8, A6, B6);
    memcpy(b + h, icmp, 8);
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 48), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_ICMPV6_MLD_INVALID_HL));
    b[h] = 1; /* dest unreachable without the quoted header */
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 48), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_ICMPV6_IPV6_TRUNC_PKT));
    b[h] = 100;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 48), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_ICMPV6_EXPERIMENTATION_TYPE));
    b[h] = 50;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 48), SW_DEC_OK);
    assert_true(has_event(&p, SW_EV_ICMPV6_UNASSIGNED_TYPE));
    b[h] = 128;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, 48), SW_DEC_OK);
    assert_int_equal(p.n_events, 0);
    assert_int_equal(p.l4.icmp_type, 128);
}

/* Ethernet / IPv4 / GRE(flags) / <inner> helper for the tunnel tests. */
static size_t put_gre_pkt(uint8_t *b, uint16_t gflags, uint16_t gproto, const uint8_t *ext,
                          size_t extlen, const uint8_t *inner, size_t innerlen)
{
    size_t n = put_eth(b, 0x0800);
    n += put_ipv4(b + n, 47, (uint16_t)(4 + extlen + innerlen), A4, B4);
    b[n] = (uint8_t)(gflags >> 8);
    b[n + 1] = (uint8_t)gflags;
    b[n + 2] = (uint8_t)(gproto >> 8);
    b[n + 3] = (uint8_t)gproto;
    n += 4;
    if (extlen)
        memcpy(b + n, ext, extlen);
    n += extlen;
    memcpy(b + n, inner, innerlen);
    return n + innerlen;
}

/* Inner Ethernet frame 10.9.9.1:4000 -> 10.9.9.2:5000/UDP. */
static size_t put_inner_eth_udp(uint8_t *b)
{
    static const uint8_t c[4] = {10, 9, 9, 1}, d[4] = {10, 9, 9, 2};
    size_t n = put_eth(b, 0x0800);
    uint8_t udp[16];
    size_t ul = put_udp(udp, 4000, 5000, 4);
    n += put_ipv4(b + n, 17, (uint16_t)ul, c, d);
    memcpy(b + n, udp, ul);
    return n + ul;
}

static void test_gre_key_seq_csum(void **state)
{
    (void)state;
    uint8_t inner[64], b[256];
    /* GRE carrying IPv4 directly: strip the inner Ethernet header. */
    size_t il = put_inner_eth_udp(inner);
    const uint8_t ext[12] = {0, 0, 0, 0, 0, 0, 0x30, 0x39, 0, 0, 0, 1}; /* csum, key 12345, seq */
    size_t n = put_gre_pkt(b, 0x8000 | 0x2000 | 0x1000, 0x0800, ext, 12, inner + 14, il - 14);
    sw_packet p;
    uint64_t gre = ctr(SW_DEC_CTR_GRE);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_GRE), gre + 1);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_GRE);
    assert_int_equal(p.l2.tunnel_id, 12345);
    assert_int_equal(p.l2.tunnel_depth, 1);
    assert_int_equal(p.ip.src[0], 10);
    assert_int_equal(p.ip.src[3], 1);
    assert_int_equal(p.l4.dport, 5000);
    assert_int_equal(p.l4.payload_len, 4);
    /* Version 0 with recursion bits / reserved flags */
    n = put_gre_pkt(b, 0x0100, 0x0800, NULL, 0, inner + 14, il - 14);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_GRE_V0_RECUR));
    n = put_gre_pkt(b, 0x0010, 0x0800, NULL, 0, inner + 14, il - 14);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_GRE_V0_FLAGS));
    /* version 2 */
    n = put_gre_pkt(b, 0x0002, 0x0800, NULL, 0, inner + 14, il - 14);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_GRE_WRONG_VERSION));
    /* version 1 (PPTP) without key / with wrong protocol */
    n = put_gre_pkt(b, 0x0001, 0x880B, NULL, 0, inner, 8);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_GRE_V1_NO_KEY));
    n = put_gre_pkt(b, 0x2001, 0x0800, NULL, 0, inner, 8);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_GRE_V1_WRONG_PROTOCOL));
    n = put_gre_pkt(b, 0x2001, 0x880B, ext, 4, inner, 8);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.ip.proto, 47);
    /* Unknown GRE payload: the flow is the GRE one. */
    n = put_gre_pkt(b, 0, 0x1234, NULL, 0, inner, 8);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.ip.proto, 47);
    assert_memory_equal(p.ip.src, A4, 4);
    /* Routing present: a malformed source route entry */
    const uint8_t sre[8] = {0, 0, 0, 0, 0x08, 0x00, 0, 40};
    n = put_gre_pkt(b, 0x4000, 0x0800, sre, 8, inner + 14, 4);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_GRE_V0_MALFORMED_SRE_HDR));
}

static void test_erspan_types(void **state)
{
    (void)state;
    uint8_t inner[64], pl[128], b[256];
    size_t il = put_inner_eth_udp(inner);
    sw_packet p;
    uint64_t er = ctr(SW_DEC_CTR_ERSPAN);

    /* Type I: GRE 0x88BE without sequence number, frame directly. */
    size_t n = put_gre_pkt(b, 0, 0x88BE, NULL, 0, inner, il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_ERSPAN);
    assert_int_equal(p.l2.tunnel_id, 0);
    assert_int_equal(p.ip.src[0], 10);
    assert_int_equal(p.l4.sport, 4000);

    /* Type II: seq, 8-byte header ver 1, VLAN 42, session 777. */
    const uint8_t seq[4] = {0, 0, 0, 9};
    const uint8_t e2[8] = {0x10, 42, 0x03, 0x09, 0, 0, 0, 0};
    memcpy(pl, e2, 8);
    memcpy(pl + 8, inner, il);
    uint8_t ext2[4];
    memcpy(ext2, seq, 4);
    n = put_gre_pkt(b, 0x1000, 0x88BE, ext2, 4, pl, 8 + il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_ERSPAN);
    assert_int_equal(p.l2.tunnel_id, 777);
    assert_int_equal(p.l2.vlan_count, 1);
    assert_int_equal(p.l2.vlan_id[0], 42);
    assert_int_equal(p.l4.dport, 5000);
    assert_memory_equal(p.l2.src_mac, MAC_S, 6);
    /* wrong version */
    pl[0] = 0x20;
    n = put_gre_pkt(b, 0x1000, 0x88BE, ext2, 4, pl, 8 + il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_ERSPAN_UNSUPPORTED_VERSION));

    /* Type III: GRE 0x22EB, 12-byte header ver 2 + 8-byte optional sub-header. */
    const uint8_t e3[12] = {0x20, 0, 0x00, 0x05, 1, 2, 3, 4, 0, 0, 0x00, 0x01};
    memcpy(pl, e3, 12);
    memset(pl + 12, 0xEE, 8);
    memcpy(pl + 20, inner, il);
    n = put_gre_pkt(b, 0x1000, 0x22EB, ext2, 4, pl, 20 + il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_id, 5);
    assert_int_equal(p.l2.vlan_count, 0);
    assert_int_equal(p.l4.sport, 4000);
    assert_int_equal(ctr(SW_DEC_CTR_ERSPAN), er + 4);
    /* Every truncation of the ERSPAN III header. */
    for (size_t k = 0; k < 20; k++) {
        n = put_gre_pkt(b, 0x1000, 0x22EB, ext2, 4, pl, k);
        assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
        assert_true(has_event(&p, SW_EV_ERSPAN_HEADER_TOO_SMALL));
    }
    for (size_t k = 0; k < 8; k++) {
        memcpy(pl, e2, 8);
        n = put_gre_pkt(b, 0x1000, 0x88BE, ext2, 4, pl, k);
        assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
        assert_true(has_event(&p, SW_EV_ERSPAN_HEADER_TOO_SMALL));
    }
}

static void test_vxlan_and_ipip(void **state)
{
    (void)state;
    uint8_t inner[64], b[256];
    size_t il = put_inner_eth_udp(inner);
    uint8_t vx[8 + 64] = {0x08, 0, 0, 0, 0x00, 0x01, 0x02, 0x00}; /* VNI 258 */
    memcpy(vx + 8, inner, il);
    size_t n = put_eth(b, 0x0800);
    uint8_t udp[128];
    size_t ul = 8 + 8 + il;
    put_udp(udp, 40000, 4789, 0);
    udp[4] = 0;
    udp[5] = (uint8_t)ul;
    memcpy(udp + 8, vx, 8 + il);
    n += put_ipv4(b + n, 17, (uint16_t)ul, A4, B4);
    memcpy(b + n, udp, ul);
    n += ul;
    sw_packet p;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_VXLAN);
    assert_int_equal(p.l2.tunnel_id, 258);
    assert_int_equal(p.l4.sport, 4000);
    assert_int_equal(p.ip.dst[3], 2);
    /* No I flag: a plain UDP packet to 4789 */
    b[14 + 20 + 8] = 0;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    assert_int_equal(p.l4.dport, 4789);
    /* Unknown inner ethertype */
    b[14 + 20 + 8] = 0x08;
    b[14 + 20 + 16 + 12] = 0x12;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_NOT_IP);
    assert_true(has_event(&p, SW_EV_VXLAN_UNKNOWN_PAYLOAD_TYPE));
    assert_int_equal(p.ip.version, 0);

    /* IPv4-in-IPv6 */
    uint8_t c[128];
    size_t h = put_ipv6(c, 4, (uint16_t)(il - 14), A6, B6);
    memcpy(c + h, inner + 14, il - 14);
    uint64_t k = ctr(SW_DEC_CTR_IPV4_IN_IPV6);
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, c, (uint32_t)(h + il - 14)), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_IPV4_IN_IPV6), k + 1);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_IPIP);
    assert_int_equal(p.ip.version, 4);
    assert_int_equal(p.l4.dport, 5000);
    /* too small for the inner header */
    c[5] = 10;
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, c, 50), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_IPV6_IPV4_IN_IPV6_TOO_SMALL));
}

static void test_max_layers(void **state)
{
    (void)state;
    /* IPv4 in IPv4 nested 12 times, then UDP. */
    uint8_t b[20 * 13 + 8];
    size_t depth = 12, n = 0;
    for (size_t i = 0; i < depth; i++)
        n += put_ipv4(b + n, 4, (uint16_t)(20 * (depth - i) + 8 - 20 + 0), A4, B4);
    n += put_ipv4(b + n, 17, 8, A4, B4);
    n += put_udp(b + n, 1, 2, 0);
    /* fix total lengths: each header covers the rest */
    for (size_t i = 0; i <= depth; i++) {
        uint16_t tl = (uint16_t)(n - 20 * i);
        b[20 * i + 2] = (uint8_t)(tl >> 8);
        b[20 * i + 3] = (uint8_t)tl;
    }
    sw_packet p;
    uint64_t t = ctr(SW_DEC_CTR_TOO_MANY_LAYERS);
    assert_int_equal(dec(&p, SW_DLT_LINKTYPE_RAW, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_TOO_MANY_LAYERS));
    assert_int_equal(ctr(SW_DEC_CTR_TOO_MANY_LAYERS), t + 1);

    sw_dec_ctx big;
    sw_dec_config c = {.max_layers = 16};
    sw_dec_ctx_init(&big, &c);
    memset(&p, 0, sizeof(p));
    p.data = b;
    p.caplen = (uint32_t)n;
    p.linktype = SW_DLT_LINKTYPE_RAW;
    assert_int_equal(sw_decode_packet(&big, &p), SW_DEC_OK);
    assert_int_equal(p.l4.dport, 2);
    assert_int_equal(p.l2.tunnel_depth, 12);
}

/* ---- truncation of every decoder at every length ---- */

typedef struct {
    int linktype;
    size_t hdr_start; /* where the decoder under test starts */
    size_t hdr_len;   /* its header length */
    sw_dec_event ev;  /* expected for every shorter input */
} trunc_case;

/* Feeds every prefix of b that ends inside [start, start+hlen) and checks
 * the event. For L4 decoders the IP length is set to the prefix so that
 * the L4 decoder, not IP, sees the short input. */
static void run_trunc(const uint8_t *b, size_t n, const trunc_case *tc, size_t ip_off, int ipver)
{
    uint8_t buf[512];
    for (size_t len = tc->hdr_start; len < tc->hdr_start + tc->hdr_len && len <= n; len++) {
        memcpy(buf, b, len);
        if (ipver == 4) {
            uint16_t tl = (uint16_t)(len - ip_off);
            buf[ip_off + 2] = (uint8_t)(tl >> 8);
            buf[ip_off + 3] = (uint8_t)tl;
        } else if (ipver == 6) {
            uint16_t pl = (uint16_t)(len - ip_off - 40);
            buf[ip_off + 4] = (uint8_t)(pl >> 8);
            buf[ip_off + 5] = (uint8_t)pl;
        }
        sw_packet p;
        uint64_t inv = ctr(SW_DEC_CTR_INVALID), evc = ev_ctr(tc->ev);
        sw_dec_result r = dec(&p, tc->linktype, buf, (uint32_t)len);
        if (r != SW_DEC_INVALID || !has_event(&p, tc->ev))
            fail_msg("len %zu: result %d, expected event %s", len, r, sw_dec_event_name(tc->ev));
        assert_int_equal(ctr(SW_DEC_CTR_INVALID), inv + 1);
        if (tc->ev != SW_EV_TOO_MANY_LAYERS)
            assert_true(ev_ctr(tc->ev) > evc);
    }
}

/* ---- PPPoE, PPP, Teredo ---- */

static size_t put_pppoe_session(uint8_t *b, uint16_t ppp_proto, const uint8_t *pl,
                                uint16_t pl_len)
{
    b[0] = 0x11;
    b[1] = 0;
    b[2] = 0x12; /* session id */
    b[3] = 0x34;
    uint16_t l = (uint16_t)(2 + pl_len);
    b[4] = (uint8_t)(l >> 8);
    b[5] = (uint8_t)l;
    b[6] = (uint8_t)(ppp_proto >> 8);
    b[7] = (uint8_t)ppp_proto;
    memcpy(b + 8, pl, pl_len);
    return 8u + pl_len;
}

static void test_pppoe(void **state)
{
    (void)state;
    uint8_t ip[128], b[256];
    size_t il = put_ipv4(ip, 6, 40, A4, B4);
    il += put_tcp_syn(ip + il);
    sw_packet p;
    /* session carrying IPv4/TCP, with Ethernet padding after it */
    size_t n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x0021, ip, (uint16_t)il);
    memset(b + n, 0, 6);
    uint64_t k = ctr(SW_DEC_CTR_PPPOE);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n + 6), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_PPPOE), k + 1);
    assert_int_equal(p.ip.version, 4);
    assert_int_equal(p.l4.dport, 80);
    assert_int_equal(p.l4.mss, 1460);
    /* protocol field compression: one octet 0x21 */
    size_t m = put_eth(b, 0x8864);
    b[m] = 0x11, b[m + 1] = 0, b[m + 2] = 0, b[m + 3] = 1;
    b[m + 4] = 0, b[m + 5] = (uint8_t)(1 + il), b[m + 6] = 0x21;
    memcpy(b + m + 7, ip, il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)(m + 7 + il)), SW_DEC_OK);
    assert_int_equal(p.l4.dport, 80);
    /* length field larger than the frame */
    b[m + 4] = 0x05;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)(m + 7 + il)), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPPOE_PKT_TOO_SMALL));
    /* session with a non-zero code */
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x0021, ip, (uint16_t)il);
    b[15] = 0x09;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPPOE_WRONG_CODE));
    /* IPv4 protocol but fewer than 20 bytes */
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x0021, ip, 12);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPP_IP4_PKT_TOO_SMALL));
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x0057, ip, 30);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPP_IP6_PKT_TOO_SMALL));
    /* LCP echo: routine, not IP, no event */
    static const uint8_t lcp[8] = {0x09, 0x01, 0x00, 0x08, 1, 2, 3, 4};
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0xc021, lcp, sizeof(lcp));
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_NOT_IP);
    assert_int_equal(p.n_events, 0);
    /* IPX: a network protocol we do not read */
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x002b, lcp, sizeof(lcp));
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_NOT_IP);
    assert_true(has_event(&p, SW_EV_PPP_UNSUP_PROTO));
    /* not a PPP protocol number at all (even low octet) */
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x0022, lcp, sizeof(lcp));
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPP_WRONG_TYPE));

    /* discovery: PADI with a Service-Name and a Host-Uniq tag */
    static const uint8_t padi[] = {0x11, 0x09, 0, 0, 0, 12, 0x01, 0x01, 0, 0,
                                   0x01, 0x03, 0, 4, 0xde, 0xad, 0xbe, 0xef};
    n = put_eth(b, 0x8863);
    memcpy(b + n, padi, sizeof(padi));
    n += sizeof(padi);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_NOT_IP);
    assert_int_equal(p.n_events, 0);
    /* a tag running past the payload */
    b[14 + 13] = 5;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPPOE_MALFORMED_TAGS));
    b[14 + 13] = 4;
    b[14 + 1] = 0x42; /* unknown discovery code */
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPPOE_WRONG_CODE));
    /* every truncation of a session packet is handled */
    n = put_eth(b, 0x8864);
    n += put_pppoe_session(b + n, 0x0021, ip, (uint16_t)il);
    for (size_t cut = 0; cut < n; cut++) {
        sw_dec_result r = dec(&p, SW_DLT_EN10MB, b, (uint32_t)cut);
        assert_true(r == SW_DEC_INVALID);
    }
}

static void test_ppp_link(void **state)
{
    (void)state;
    uint8_t b[128];
    b[0] = 0xff, b[1] = 0x03, b[2] = 0x00, b[3] = 0x21;
    size_t n = 4 + put_ipv4(b + 4, 17, 8, A4, B4);
    n += put_udp(b + n, 1000, 2000, 0);
    sw_packet p;
    uint64_t k = ctr(SW_DEC_CTR_PPP);
    assert_int_equal(dec(&p, SW_DLT_PPP, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_PPP), k + 1);
    assert_int_equal(p.l4.dport, 2000);
    /* address and control elided */
    assert_int_equal(dec(&p, SW_DLT_PPP, b + 2, (uint32_t)n - 2), SW_DEC_OK);
    assert_int_equal(p.l4.sport, 1000);
    assert_int_equal(dec(&p, SW_DLT_PPP, b, 2), SW_DEC_INVALID);
    assert_true(has_event(&p, SW_EV_PPP_PKT_TOO_SMALL));
    assert_int_equal(dec(&p, SW_DLT_PPP, b, 3), SW_DEC_INVALID);
}

/* IPv4/UDP with payload pl (Teredo between a client and port 3544). */
static size_t put_udp4(uint8_t *b, uint16_t sport, uint16_t dport, const uint8_t *pl,
                       uint16_t pl_len)
{
    size_t n = put_eth(b, 0x0800);
    n += put_ipv4(b + n, 17, (uint16_t)(8 + pl_len), A4, B4);
    put_udp(b + n, sport, dport, 0);
    b[n + 4] = (uint8_t)((8 + pl_len) >> 8);
    b[n + 5] = (uint8_t)(8 + pl_len);
    memcpy(b + n + 8, pl, pl_len);
    return n + 8 + pl_len;
}

static void test_teredo(void **state)
{
    (void)state;
    uint8_t in[256], b[320];
    /* IPv6/TCP SYN 2001:db8::1 -> 2001:db8::2 */
    uint8_t tcp[40];
    size_t tl = put_tcp_syn(tcp);
    size_t il = put_ipv6(in, 6, (uint16_t)tl, A6, B6);
    memcpy(in + il, tcp, tl);
    il += tl;
    sw_packet p;
    size_t n = put_udp4(b, 50000, 3544, in, (uint16_t)il);
    uint64_t k = ctr(SW_DEC_CTR_TEREDO);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(ctr(SW_DEC_CTR_TEREDO), k + 1);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_TEREDO);
    assert_int_equal(p.ip.version, 6);
    assert_int_equal(p.ip.src[15], 1);
    assert_int_equal(p.l4.dport, 80);
    /* origin indication before the IPv6 packet */
    uint8_t o[300] = {0x00, 0x00, 0x0d, 0x96, 1, 2, 3, 4};
    memcpy(o + 8, in, il);
    n = put_udp4(b, 3544, 50000, o, (uint16_t)(il + 8));
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_TEREDO);
    assert_int_equal(p.l4.dport, 80);
    /* authentication (client id 2 bytes, auth value 1 byte) then origin */
    uint8_t a[320] = {0x00, 0x01, 2, 1, 'i', 'd', 0x55, 1, 2, 3, 4, 5, 6, 7, 8, 0};
    memcpy(a + 16, o, il + 8);
    n = put_udp4(b, 3544, 50000, a, (uint16_t)(il + 24));
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_TEREDO);
    assert_int_equal(p.l4.dport, 80);
    /* what is not exactly one IPv6 packet stays UDP, untouched */
    uint8_t bad[256];
    memcpy(bad, in, il);
    bad[5] += 1; /* payload length one more than there is */
    n = put_udp4(b, 50000, 3544, bad, (uint16_t)il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    assert_int_equal(p.ip.version, 4);
    assert_int_equal(p.l4.dport, 3544);
    memcpy(bad, in, il);
    bad[7] = 0; /* hop limit 0 */
    n = put_udp4(b, 50000, 3544, bad, (uint16_t)il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    n = put_udp4(b, 50000, 3544, in, 39);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    /* auth header longer than the packet */
    a[2] = 250;
    n = put_udp4(b, 3544, 50000, a, (uint16_t)(il + 24));
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    /* another port: plain UDP by default, a tunnel with ports: any */
    n = put_udp4(b, 50000, 32900, in, (uint16_t)il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    ctx.cfg.teredo_any_port = true;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_TEREDO);
    ctx.cfg.teredo_enabled = false;
    n = put_udp4(b, 50000, 3544, in, (uint16_t)il);
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l2.tunnel_type, SW_TUN_NONE);
    ctx.cfg.teredo_enabled = true;
    ctx.cfg.teredo_any_port = false;
}

static void test_teredo_config(void **state)
{
    (void)state;
    char err[256] = "";
    sw_dec_config c;
    sw_dec_config_defaults(&c);
    assert_true(c.teredo_enabled);
    assert_int_equal(c.n_teredo_ports, 1);
    assert_int_equal(c.teredo_ports[0], 3544);
    sw_cfg_node *root = sw_cfg_load_string(
        "decoder:\n  teredo:\n    enabled: no\n    ports: [3544, 3545]\n", err, sizeof err);
    assert_int_equal(sw_dec_config_load(root, &c, err, sizeof err), 0);
    assert_false(c.teredo_enabled);
    assert_int_equal(c.n_teredo_ports, 2);
    assert_int_equal(c.teredo_ports[1], 3545);
    sw_cfg_free(root);
    root = sw_cfg_load_string("decoder:\n  teredo:\n    ports: any\n", err, sizeof err);
    assert_int_equal(sw_dec_config_load(root, &c, err, sizeof err), 0);
    assert_true(c.teredo_any_port);
    sw_cfg_free(root);
    root = sw_cfg_load_string("decoder:\n  teredo:\n    ports: [70000]\n", err, sizeof err);
    assert_int_equal(sw_dec_config_load(root, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "decoder.teredo.ports"));
    sw_cfg_free(root);
}

static void test_truncations(void **state)
{
    (void)state;
    uint8_t b[256];
    uint8_t tcp[40];
    size_t tl = put_tcp_syn(tcp);

    /* Ethernet, VLAN, IPv4 (header + options), TCP (header + options) */
    size_t n = put_eth(b, 0x8100);
    b[n] = 0;
    b[n + 1] = 5;
    b[n + 2] = 0x08;
    b[n + 3] = 0x00;
    n += 4;
    size_t ip_off = n;
    n += put_ipv4(b + n, 6, (uint16_t)(tl + 4), A4, B4);
    b[ip_off] = 0x46;
    b[ip_off + 3] += 0; /* total length set by put_ipv4 includes 4 option bytes */
    const uint8_t ra[4] = {0x94, 0x04, 0, 0};
    memcpy(b + n, ra, 4);
    n += 4;
    memcpy(b + n, tcp, tl);
    n += tl;
    sw_packet p;
    assert_int_equal(dec(&p, SW_DLT_EN10MB, b, (uint32_t)n), SW_DEC_OK);
    assert_int_equal(p.l4.mss, 1460);

    trunc_case eth = {SW_DLT_EN10MB, 0, 14, SW_EV_ETH_PKT_TOO_SMALL};
    run_trunc(b, n, &eth, 0, 0);
    trunc_case vlan = {SW_DLT_EN10MB, 14, 4, SW_EV_VLAN_HEADER_TOO_SMALL};
    run_trunc(b, n, &vlan, 0, 0);
    trunc_case ip = {SW_DLT_EN10MB, 18, 20, SW_EV_IPV4_PKT_TOO_SMALL};
    run_trunc(b, n, &ip, 0, 0);
    trunc_case ipo = {SW_DLT_EN10MB, 38, 4, SW_EV_IPV4_HLEN_TOO_SMALL};
    run_trunc(b, n, &ipo, 0, 0);
    trunc_case ipt = {SW_DLT_EN10MB, 42, tl, SW_EV_IPV4_TRUNC_PKT};
    run_trunc(b, n, &ipt, 0, 0);
    trunc_case tcpc = {SW_DLT_EN10MB, 42, tl, SW_EV_TCP_PKT_TOO_SMALL};
    run_trunc(b, n, &tcpc, ip_off, 4);

    /* UDP, ICMP over raw IPv4; ICMPv6 over raw IPv6 */
    uint8_t u[64];
    size_t un = put_ipv4(u, 17, 12, A4, B4);
    un += put_udp(u + un, 1, 2, 4);
    trunc_case udp = {SW_DLT_LINKTYPE_RAW, 20, 8, SW_EV_UDP_HLEN_TOO_SMALL};
    run_trunc(u, un, &udp, 0, 4);
    u[9] = 1;
    trunc_case icmp = {SW_DLT_LINKTYPE_RAW, 20, 8, SW_EV_ICMPV4_PKT_TOO_SMALL};
    run_trunc(u, un, &icmp, 0, 4);
    trunc_case raw = {SW_DLT_LINKTYPE_RAW, 0, 20, SW_EV_IPV4_PKT_TOO_SMALL};
    run_trunc(u, un, &raw, 0, 0);
    uint8_t v6[80];
    size_t vn = put_ipv6(v6, 58, 8, A6, B6);
    memset(v6 + vn, 0, 8);
    v6[vn] = 128;
    vn += 8;
    trunc_case i6 = {SW_DLT_LINKTYPE_RAW, 40, 8, SW_EV_ICMPV6_PKT_TOO_SMALL};
    run_trunc(v6, vn, &i6, 0, 6);
    trunc_case ip6 = {SW_DLT_IPV6, 0, 40, SW_EV_IPV6_PKT_TOO_SMALL};
    run_trunc(v6, vn, &ip6, 0, 0);
    trunc_case ip6t = {SW_DLT_IPV6, 40, 8, SW_EV_IPV6_TRUNC_PKT};
    run_trunc(v6, vn, &ip6t, 0, 0);
    /* IPv6 extension header (routing, 8 bytes) and fragment header */
    v6[6] = 43;
    memmove(v6 + 48, v6 + 40, 8);
    const uint8_t rh[8] = {58, 0, 2, 0, 0, 0, 0, 0};
    memcpy(v6 + 40, rh, 8);
    v6[5] = 16;
    vn = 56;
    assert_int_equal(dec(&p, SW_DLT_IPV6, v6, (uint32_t)vn), SW_DEC_OK);
    trunc_case ext = {SW_DLT_IPV6, 40, 8, SW_EV_IPV6_TRUNC_EXTHDR};
    run_trunc(v6, vn, &ext, 0, 6);
    v6[6] = 44;
    v6[42] = 0;
    v6[43] = 0x01; /* offset 0, M */
    trunc_case fh = {SW_DLT_IPV6, 40, 8, SW_EV_IPV6_TRUNC_EXTHDR};
    run_trunc(v6, vn, &fh, 0, 6);
    assert_int_equal(dec(&p, SW_DLT_IPV6, v6, (uint32_t)vn), SW_DEC_FRAGMENT);
    assert_int_equal(p.ip.unfrag_len, 40);
    assert_int_equal(p.ip.frag_next_hdr, 58);
    assert_int_equal(p.ip.payload_len, 8);

    /* GRE: every length of a 4-byte base header and key/seq extension */
    uint8_t inner[64], g[256];
    size_t il = put_inner_eth_udp(inner);
    const uint8_t ks[8] = {0, 0, 0, 1, 0, 0, 0, 2};
    size_t gn = put_gre_pkt(g, 0x3000, 0x0800, ks, 8, inner + 14, il - 14);
    trunc_case gre = {SW_DLT_EN10MB, 34, 4, SW_EV_GRE_PKT_TOO_SMALL};
    run_trunc(g, gn, &gre, 14, 4);
    trunc_case gre2 = {SW_DLT_EN10MB, 38, 8, SW_EV_GRE_V0_HDR_TOO_BIG};
    run_trunc(g, gn, &gre2, 14, 4);

    /* MPLS */
    uint8_t m[64];
    size_t mn = put_eth(m, 0x8847);
    const uint8_t sh[8] = {0x00, 0x01, 0xd0, 0x40, 0x00, 0x3e, 0x81, 0x40};
    memcpy(m + mn, sh, 8);
    mn += 8;
    trunc_case mpls = {SW_DLT_EN10MB, 14, 8, SW_EV_MPLS_HEADER_TOO_SMALL};
    run_trunc(m, mn, &mpls, 0, 0);
    trunc_case mpls2 = {SW_DLT_EN10MB, 22, 1, SW_EV_MPLS_PKT_TOO_SMALL};
    run_trunc(m, mn + 1, &mpls2, 0, 0);

    /* Link layers */
    uint8_t s[64];
    memset(s, 0, sizeof(s));
    s[14] = 0x08;
    trunc_case sll = {SW_DLT_LINUX_SLL, 0, 16, SW_EV_SLL_PKT_TOO_SMALL};
    run_trunc(s, sizeof(s), &sll, 0, 0);
    trunc_case sll2 = {SW_DLT_LINUX_SLL2, 0, 20, SW_EV_SLL2_PKT_TOO_SMALL};
    run_trunc(s, sizeof(s), &sll2, 0, 0);
    trunc_case nul = {SW_DLT_NULL, 0, 4, SW_EV_LTNULL_PKT_TOO_SMALL};
    run_trunc(s, sizeof(s), &nul, 0, 0);
    trunc_case loop = {SW_DLT_LOOP, 0, 4, SW_EV_LTNULL_PKT_TOO_SMALL};
    run_trunc(s, sizeof(s), &loop, 0, 0);
}

static void test_names_and_counters(void **state)
{
    (void)state;
    assert_string_equal(sw_dec_event_name(SW_EV_IPV4_PKT_TOO_SMALL), "ipv4.pkt_too_small");
    assert_string_equal(sw_dec_event_name(SW_EV_GRE_V0_HDR_TOO_BIG), "gre.version0_hdr_too_big");
    assert_null(sw_dec_event_name(SW_DEC_EVENT_COUNT));
    sw_ctr_group g = sw_dec_counters(&ctx);
    assert_int_equal(g.n, SW_DEC_CTR_COUNT);
    assert_string_equal(g.names[SW_DEC_CTR_PKTS], "decoder.pkts");
    assert_string_equal(g.names[SW_DEC_CTR_EV_BASE + SW_EV_TCP_INVALID_OPTLEN],
                        "decoder.event.tcp.invalid_optlen");
    for (size_t i = 0; i < g.n; i++) {
        assert_non_null(g.names[i]);
        for (size_t j = i + 1; j < g.n; j++)
            assert_true(strcmp(g.names[i], g.names[j]) != 0);
    }
    assert_true(g.vals[SW_DEC_CTR_PKTS] > 50);
    assert_true(g.vals[SW_DEC_CTR_BYTES] > g.vals[SW_DEC_CTR_PKTS]);
}

static void test_pair_hash(void **state)
{
    (void)state;
    sw_packet a, b;
    memset(&a, 0, sizeof(a));
    a.ip.version = 6;
    memcpy(a.ip.src, A6, 16);
    memcpy(a.ip.dst, B6, 16);
    b = a;
    memcpy(b.ip.src, B6, 16);
    memcpy(b.ip.dst, A6, 16);
    b.l4.sport = 99; /* ports do not matter */
    assert_int_equal(sw_packet_pair_hash(&a), sw_packet_pair_hash(&b));
    a.l2.vlan_id[0] = 10;
    assert_int_not_equal(sw_packet_pair_hash(&a), sw_packet_pair_hash(&b));
    b.l2.vlan_id[0] = 10;
    assert_int_equal(sw_packet_pair_hash(&a), sw_packet_pair_hash(&b));
    a.l2.tunnel_id = 5;
    assert_int_not_equal(sw_packet_pair_hash(&a), sw_packet_pair_hash(&b));

    /* IPv4: symmetric over many random pairs and well spread over 8 workers. */
    unsigned buckets[8] = {0};
    srand(7);
    for (int i = 0; i < 4000; i++) {
        sw_packet x, y;
        memset(&x, 0, sizeof(x));
        x.ip.version = 4;
        for (int k = 0; k < 4; k++) {
            x.ip.src[k] = (uint8_t)rand();
            x.ip.dst[k] = (uint8_t)rand();
        }
        x.l2.vlan_id[0] = (uint16_t)(rand() & 0xfff);
        y = x;
        memcpy(y.ip.src, x.ip.dst, 4);
        memcpy(y.ip.dst, x.ip.src, 4);
        uint32_t h = sw_packet_pair_hash(&x);
        assert_int_equal(h, sw_packet_pair_hash(&y));
        buckets[h % 8]++;
    }
    for (int i = 0; i < 8; i++)
        assert_true(buckets[i] > 400 && buckets[i] < 600);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_eth_ipv4_tcp),
        cmocka_unit_test(test_ipv6_udp_and_exthdrs),
        cmocka_unit_test(test_vlan_qinq_and_limit),
        cmocka_unit_test(test_mpls),
        cmocka_unit_test(test_null_both_orders_and_loop),
        cmocka_unit_test(test_raw_variants),
        cmocka_unit_test(test_not_ip_and_unknown_linktype),
        cmocka_unit_test(test_ipv4_fragment_fields),
        cmocka_unit_test(test_ipv4_options),
        cmocka_unit_test(test_tcp_options_events),
        cmocka_unit_test(test_icmp),
        cmocka_unit_test(test_icmpv6),
        cmocka_unit_test(test_gre_key_seq_csum),
        cmocka_unit_test(test_erspan_types),
        cmocka_unit_test(test_vxlan_and_ipip),
        cmocka_unit_test(test_max_layers),
        cmocka_unit_test(test_truncations),
        cmocka_unit_test(test_pppoe), cmocka_unit_test(test_ppp_link),
        cmocka_unit_test(test_teredo), cmocka_unit_test(test_teredo_config),
        cmocka_unit_test(test_names_and_counters),
        cmocka_unit_test(test_pair_hash),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
