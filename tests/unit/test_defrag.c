/* Defragmentation on hand-built fragments: order, overlap policies,
 * timeouts, limits, IPv6. Packet time only, no wall clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "decoders/decode.h"
#include "decoders/defrag.h"

static sw_dec_ctx dec;

static int setup(void **state)
{
    (void)state;
    sw_dec_ctx_init(&dec, NULL);
    return 0;
}

static const uint8_t SRC[4] = {10, 1, 1, 1}, DST[4] = {10, 2, 2, 2};

/* Fragment bytes kept alive while the packet view points into them. */
static uint8_t fbuf[8][2048];
static int fslot;

/* IPv4 fragment of a UDP datagram: data at byte offset off, len bytes
 * taken from payload+off (or filled with fill when payload is NULL). */
static sw_dec_result mk4(sw_packet *p, uint16_t id, uint32_t off, const uint8_t *payload,
                         uint32_t len, bool mf, uint8_t fill, uint64_t ts)
{
    uint8_t *b = fbuf[fslot++ & 7];
    memset(b, 0, 20);
    b[0] = 0x45;
    uint16_t tl = (uint16_t)(20 + len);
    b[2] = (uint8_t)(tl >> 8);
    b[3] = (uint8_t)tl;
    b[4] = (uint8_t)(id >> 8);
    b[5] = (uint8_t)id;
    uint16_t fo = (uint16_t)((off / 8) | (mf ? 0x2000 : 0));
    b[6] = (uint8_t)(fo >> 8);
    b[7] = (uint8_t)fo;
    b[8] = 64;
    b[9] = 17;
    memcpy(b + 12, SRC, 4);
    memcpy(b + 16, DST, 4);
    if (payload)
        memcpy(b + 20, payload + off, len);
    else
        memset(b + 20, fill, len);
    memset(p, 0, sizeof(*p));
    p->data = b;
    p->caplen = p->wirelen = 20 + len;
    p->linktype = SW_DLT_LINKTYPE_RAW;
    p->ts_us = ts;
    return sw_decode_packet(&dec, p);
}

/* A 64-byte UDP datagram 1111 -> 2222 with a recognisable payload. */
static void make_udp(uint8_t *d)
{
    d[0] = 0x04;
    d[1] = 0x57;
    d[2] = 0x08;
    d[3] = 0xae;
    d[4] = 0;
    d[5] = 64;
    d[6] = d[7] = 0;
    for (int i = 8; i < 64; i++)
        d[i] = (uint8_t)i;
}

static sw_defrag *new_df(int policy, uint64_t memcap, uint32_t trackers)
{
    sw_defrag_config c;
    sw_defrag_config_defaults(&c);
    c.policy = policy;
    if (memcap)
        c.memcap = memcap;
    if (trackers)
        c.max_trackers = trackers;
    c.max_frags = 256;
    c.timeout_us = 30 * 1000000ull;
    sw_defrag *d = sw_defrag_new(&c);
    assert_non_null(d);
    return d;
}

static uint64_t C(sw_defrag *d, int id) { return sw_defrag_counters(d).vals[id]; }

/* Checks the reassembled datagram decodes as the original UDP one. */
static void check_udp(const uint8_t *dg, uint32_t len, const uint8_t *udp)
{
    assert_non_null(dg);
    assert_int_equal(len, 20 + 64);
    assert_int_equal(dg[2] << 8 | dg[3], 84);
    assert_int_equal(dg[6] & 0x3f, 0);
    assert_int_equal(dg[7], 0);
    /* header checksum is valid */
    uint32_t s = 0;
    for (int i = 0; i < 20; i += 2)
        s += (uint32_t)(dg[i] << 8 | dg[i + 1]);
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    assert_int_equal(s, 0xffff);
    assert_memory_equal(dg + 20, udp, 64);
    sw_packet q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(sw_decode_ip_datagram(&dec, &q, dg, len), SW_DEC_OK);
    assert_int_equal(q.l4.sport, 1111);
    assert_int_equal(q.l4.dport, 2222);
    assert_int_equal(q.l4.payload_len, 56);
    assert_false(q.ip.is_fragment);
}

static void test_in_order(void **state)
{
    (void)state;
    uint8_t udp[64];
    make_udp(udp);
    sw_defrag *d = new_df(SW_DEFRAG_POLICY_FIRST, 0, 0);
    sw_packet p;
    uint32_t len;
    assert_int_equal(mk4(&p, 7, 0, udp, 24, true, 0, 1), SW_DEC_FRAGMENT);
    assert_null(sw_defrag_add(d, &p, &len));
    assert_int_equal(mk4(&p, 7, 24, udp, 24, true, 0, 2), SW_DEC_FRAGMENT);
    assert_null(sw_defrag_add(d, &p, &len));
    assert_true(C(d, SW_DF_MEMUSE) > 0);
    assert_int_equal(mk4(&p, 7, 48, udp, 16, false, 0, 3), SW_DEC_FRAGMENT);
    {
        const uint8_t *dg_ = sw_defrag_add(d, &p, &len);
        check_udp(dg_, len, udp);
    }
    assert_int_equal(C(d, SW_DF_V4_FRAGMENTS), 3);
    assert_int_equal(C(d, SW_DF_V4_REASSEMBLED), 1);
    assert_int_equal(C(d, SW_DF_V4_OVERLAP), 0);
    assert_int_equal(C(d, SW_DF_MEMUSE), 0);
    sw_defrag_free(d);
}

static void test_out_of_order(void **state)
{
    (void)state;
    uint8_t udp[64];
    make_udp(udp);
    sw_defrag *d = new_df(SW_DEFRAG_POLICY_FIRST, 0, 0);
    sw_packet p;
    uint32_t len;
    /* last first, then the middle, then the head (which has the header) */
    mk4(&p, 9, 48, udp, 16, false, 0, 1);
    assert_null(sw_defrag_add(d, &p, &len));
    mk4(&p, 9, 24, udp, 24, true, 0, 2);
    assert_null(sw_defrag_add(d, &p, &len));
    /* an unrelated id in between */
    mk4(&p, 10, 0, udp, 8, true, 0, 2);
    assert_null(sw_defrag_add(d, &p, &len));
    mk4(&p, 9, 0, udp, 24, true, 0, 3);
    {
        const uint8_t *dg_ = sw_defrag_add(d, &p, &len);
        check_udp(dg_, len, udp);
    }
    sw_defrag_free(d);
}

/* The same overlap under both policies: bytes [16,32) sent twice, first
 * as 'A', then as 'B'. */
static void overlap_run(int policy, uint8_t expect)
{
    sw_defrag *d = new_df(policy, 0, 0);
    sw_packet p;
    uint32_t len;
    mk4(&p, 3, 0, NULL, 32, true, 'A', 1);
    assert_null(sw_defrag_add(d, &p, &len));
    mk4(&p, 3, 16, NULL, 16, true, 'B', 2);
    assert_null(sw_defrag_add(d, &p, &len));
    assert_int_equal(C(d, SW_DF_V4_OVERLAP), 1);
    mk4(&p, 3, 32, NULL, 8, false, 'C', 3);
    const uint8_t *dg = sw_defrag_add(d, &p, &len);
    assert_non_null(dg);
    assert_int_equal(len, 60);
    assert_int_equal(dg[20 + 0], 'A');
    assert_int_equal(dg[20 + 15], 'A');
    assert_int_equal(dg[20 + 16], expect);
    assert_int_equal(dg[20 + 31], expect);
    assert_int_equal(dg[20 + 32], 'C');
    sw_defrag_free(d);
}

static void test_overlap_policies(void **state)
{
    (void)state;
    overlap_run(SW_DEFRAG_POLICY_FIRST, 'A');
    overlap_run(SW_DEFRAG_POLICY_LAST, 'B');
}

static void test_timeout_and_reuse(void **state)
{
    (void)state;
    sw_defrag *d = new_df(SW_DEFRAG_POLICY_FIRST, 0, 0);
    sw_packet p;
    uint32_t len;
    mk4(&p, 5, 0, NULL, 16, true, 'x', 1000000);
    assert_null(sw_defrag_add(d, &p, &len));
    uint64_t mem = C(d, SW_DF_MEMUSE);
    assert_true(mem >= 512);
    sw_defrag_expire(d, 1000000 + 29 * 1000000ull); /* not yet */
    assert_int_equal(C(d, SW_DF_V4_TIMEOUTS), 0);
    sw_defrag_expire(d, 1000000 + 30 * 1000000ull);
    assert_int_equal(C(d, SW_DF_V4_TIMEOUTS), 1);
    assert_int_equal(C(d, SW_DF_MEMUSE), 0);
    /* The last fragment alone now completes nothing: the head was freed. */
    mk4(&p, 5, 16, NULL, 8, false, 'y', 32000000);
    assert_null(sw_defrag_add(d, &p, &len));
    /* A stale tracker met again by id is replaced, not completed. */
    mk4(&p, 5, 0, NULL, 16, true, 'z', 90000000);
    assert_null(sw_defrag_add(d, &p, &len));
    assert_int_equal(C(d, SW_DF_V4_TIMEOUTS), 2);
    mk4(&p, 5, 16, NULL, 8, false, 'w', 90000001);
    const uint8_t *dg = sw_defrag_add(d, &p, &len);
    assert_non_null(dg);
    assert_int_equal(dg[20], 'z');
    assert_int_equal(dg[20 + 16], 'w');
    sw_defrag_free(d);
}

static void test_limits(void **state)
{
    (void)state;
    /* Trackers: 2 slots, a third datagram is refused until one expires. */
    sw_defrag *d = new_df(SW_DEFRAG_POLICY_FIRST, 0, 2);
    sw_packet p;
    uint32_t len;
    for (uint16_t id = 1; id <= 3; id++) {
        mk4(&p, id, 0, NULL, 8, true, 'a', 1);
        assert_null(sw_defrag_add(d, &p, &len));
    }
    assert_int_equal(C(d, SW_DF_MAX_TRACKERS_REACHED), 1);
    mk4(&p, 3, 0, NULL, 8, true, 'a', 40000000); /* old ones expired by now */
    assert_null(sw_defrag_add(d, &p, &len));
    assert_int_equal(C(d, SW_DF_MAX_TRACKERS_REACHED), 1);
    assert_int_equal(C(d, SW_DF_V4_TIMEOUTS), 2);
    sw_defrag_free(d);

    /* Memcap: just above the fixed tables, so only a few hundred chunks. */
    sw_defrag_config c;
    sw_defrag_config_defaults(&c);
    c.max_trackers = 64;
    c.max_frags = 1024;
    c.memcap = 1;
    assert_null(sw_defrag_new(&c)); /* cannot even hold the tables */
    c.memcap = 200 * 1024;
    d = sw_defrag_new(&c);
    assert_non_null(d);
    unsigned refused = 0;
    for (uint16_t id = 1; id <= 60; id++) {
        for (uint32_t off = 0; off < 8 * 1024 && C(d, SW_DF_MEMCAP_HIT) == refused; off += 1024) {
            mk4(&p, id, off, NULL, 1024, true, 'm', 1);
            assert_null(sw_defrag_add(d, &p, &len));
        }
        refused = (unsigned)C(d, SW_DF_MEMCAP_HIT);
        if (refused)
            break;
    }
    assert_true(C(d, SW_DF_MEMCAP_HIT) >= 1);
    assert_true(C(d, SW_DF_MEMUSE) <= 200 * 1024);
    /* Expiry gives the memory back and new datagrams reassemble again. */
    sw_defrag_expire(d, UINT64_MAX);
    assert_int_equal(C(d, SW_DF_MEMUSE), 0);
    uint8_t udp[64];
    make_udp(udp);
    mk4(&p, 999, 0, udp, 32, true, 0, 2);
    assert_null(sw_defrag_add(d, &p, &len));
    mk4(&p, 999, 32, udp, 32, false, 0, 2);
    {
        const uint8_t *dg_ = sw_defrag_add(d, &p, &len);
        check_udp(dg_, len, udp);
    }
    sw_defrag_free(d);
}

static void test_ipv6(void **state)
{
    (void)state;
    /* IPv6 + dest-opts (unfragmentable part) + fragment header + UDP. */
    uint8_t udp[64];
    make_udp(udp);
    sw_defrag *d = new_df(SW_DEFRAG_POLICY_FIRST, 0, 0);
    static uint8_t b[2][200];
    const uint32_t offs[2] = {0, 32}, lens[2] = {32, 32};
    const uint8_t *dg = NULL;
    uint32_t len = 0;
    for (int i = 1; i >= 0; i--) { /* out of order */
        uint8_t *x = b[i];
        memset(x, 0, 200);
        x[0] = 0x60;
        uint16_t pl = (uint16_t)(8 + 8 + lens[i]);
        x[4] = (uint8_t)(pl >> 8);
        x[5] = (uint8_t)pl;
        x[6] = 60; /* dest opts */
        x[7] = 64;
        x[8] = 0x20;
        x[23] = 1;
        x[24] = 0x20;
        x[39] = 2;
        x[40] = 44; /* -> fragment */
        x[41] = 0;
        x[42] = 1; /* PadN 4 */
        x[43] = 4;
        x[48] = 17; /* fragment header: next UDP */
        uint16_t fo = (uint16_t)(offs[i] | (i == 0 ? 1 : 0));
        x[50] = (uint8_t)(fo >> 8);
        x[51] = (uint8_t)fo;
        x[52] = 0xde;
        x[53] = 0xad;
        x[54] = 0xbe;
        x[55] = 0xef;
        memcpy(x + 56, udp + offs[i], lens[i]);
        sw_packet p;
        memset(&p, 0, sizeof(p));
        p.data = x;
        p.caplen = 56 + lens[i];
        p.linktype = SW_DLT_IPV6;
        p.ts_us = 5;
        assert_int_equal(sw_decode_packet(&dec, &p), SW_DEC_FRAGMENT);
        assert_int_equal(p.ip.unfrag_len, 48);
        assert_int_equal(p.ip.frag_id, 0xdeadbeef);
        dg = sw_defrag_add(d, &p, &len);
        if (i == 1)
            assert_null(dg);
    }
    assert_non_null(dg);
    assert_int_equal(len, 48 + 64);
    assert_int_equal(dg[4] << 8 | dg[5], 8 + 64);
    assert_int_equal(dg[6], 60);
    assert_int_equal(dg[40], 17); /* dest opts now point at UDP */
    assert_memory_equal(dg + 48, udp, 64);
    sw_packet q;
    memset(&q, 0, sizeof(q));
    assert_int_equal(sw_decode_ip_datagram(&dec, &q, dg, len), SW_DEC_OK);
    assert_int_equal(q.ip.version, 6);
    assert_int_equal(q.ip.proto, 17);
    assert_int_equal(q.l4.sport, 1111);
    assert_int_equal(q.l4.dport, 2222);
    assert_int_equal(C(d, SW_DF_V6_REASSEMBLED), 1);
    assert_int_equal(C(d, SW_DF_V6_FRAGMENTS), 2);
    sw_defrag_free(d);
}

static void test_counter_names(void **state)
{
    (void)state;
    sw_defrag *d = new_df(SW_DEFRAG_POLICY_FIRST, 0, 0);
    sw_ctr_group g = sw_defrag_counters(d);
    assert_int_equal(g.n, SW_DF_CTR_COUNT);
    assert_string_equal(g.names[SW_DF_V4_FRAGMENTS], "defrag.ipv4.fragments");
    assert_string_equal(g.names[SW_DF_V6_OVERLAP], "decoder.event.ipv6.frag_overlap");
    assert_string_equal(g.names[SW_DF_MEMCAP_HIT], "spanwatch.defrag.memcap_hit");
    sw_defrag_free(d);
}

static void test_config(void **state)
{
    (void)state;
    char err[256];
    sw_defrag_config c;
    sw_defrag_config_defaults(&c);
    assert_int_equal(c.policy, SW_DEFRAG_POLICY_FIRST);
    sw_cfg_node *root = sw_cfg_load_string(
        "defrag:\n  memcap: 8mb\n  timeout: 5s\n  trackers: 100\n  max-frags: 300\n"
        "  policy: last\n",
        err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_defrag_config_load(root, &c, err, sizeof(err)), 0);
    assert_int_equal(c.memcap, 8u << 20);
    assert_int_equal(c.timeout_us, 5000000);
    assert_int_equal(c.max_trackers, 100);
    assert_int_equal(c.max_frags, 300);
    assert_int_equal(c.policy, SW_DEFRAG_POLICY_LAST);
    sw_cfg_free(root);
    root = sw_cfg_load_string("defrag:\n  policy: linux\n", err, sizeof(err));
    assert_non_null(root);
    assert_int_equal(sw_defrag_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "defrag.policy"));
    sw_cfg_free(root);

    sw_dec_config dc;
    sw_dec_config_defaults(&dc);
    assert_int_equal(dc.max_layers, 8);
    root = sw_cfg_load_string("decoder:\n  max-layers: 12\n", err, sizeof(err));
    assert_int_equal(sw_dec_config_load(root, &dc, err, sizeof(err)), 0);
    assert_int_equal(dc.max_layers, 12);
    sw_cfg_free(root);
    root = sw_cfg_load_string("decoder:\n  max-layers: 0\n", err, sizeof(err));
    assert_int_equal(sw_dec_config_load(root, &dc, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "decoder.max-layers"));
    sw_cfg_free(root);
    /* absent keys keep the defaults */
    sw_dec_config_defaults(&dc);
    assert_int_equal(sw_dec_config_load(NULL, &dc, err, sizeof(err)), 0);
    assert_int_equal(dc.max_layers, 8);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_in_order),
        cmocka_unit_test(test_out_of_order),
        cmocka_unit_test(test_overlap_policies),
        cmocka_unit_test(test_timeout_and_reuse),
        cmocka_unit_test(test_limits),
        cmocka_unit_test(test_ipv6),
        cmocka_unit_test(test_counter_names),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
