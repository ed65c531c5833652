/* Flow table: key normalisation, orientation, TCP state, timeouts in packet
 * time, eviction order under max-flows, TCP port reuse, flow ids,
 * community ids and counters. Packets are built by hand as the decoders
 * would describe them (decoders/packet.h). */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "sensor/flow.h"
#include "tests/unit/testutil.h"

#define T0 1700000000000000ull /* packet time base, microseconds */
#define SEC 1000000ull

/* ---- packet builders -------------------------------------------------- */

static sw_packet pkt(const char *src, uint16_t sp, const char *dst, uint16_t dp,
                     uint8_t proto, uint8_t flags, uint64_t ts)
{
    sw_packet p;
    memset(&p, 0, sizeof p);
    p.ts_us = ts;
    p.wirelen = p.caplen = 100;
    if (strchr(src, ':')) {
        p.ip.version = 6;
        assert_int_equal(inet_pton(AF_INET6, src, p.ip.src), 1);
        assert_int_equal(inet_pton(AF_INET6, dst, p.ip.dst), 1);
    } else {
        p.ip.version = 4;
        assert_int_equal(inet_pton(AF_INET, src, p.ip.src), 1);
        assert_int_equal(inet_pton(AF_INET, dst, p.ip.dst), 1);
    }
    p.ip.proto = proto;
    if (proto == 1 || proto == 58) {
        p.l4.icmp_type = (uint8_t)sp;
        p.l4.icmp_code = (uint8_t)dp;
    } else {
        p.l4.sport = sp;
        p.l4.dport = dp;
    }
    p.l4.tcp_flags = flags;
    return p;
}

static sw_packet tcp(const char *src, uint16_t sp, const char *dst, uint16_t dp,
                     uint8_t flags, uint64_t ts)
{
    return pkt(src, sp, dst, dp, 6, flags, ts);
}

static sw_packet udp(const char *src, uint16_t sp, const char *dst, uint16_t dp, uint64_t ts)
{
    return pkt(src, sp, dst, dp, 17, 0, ts);
}

static sw_packet rev(const sw_packet *p, uint8_t flags, uint64_t ts)
{
    sw_packet r = *p;
    memcpy(r.ip.src, p->ip.dst, 16);
    memcpy(r.ip.dst, p->ip.src, 16);
    r.l4.sport = p->l4.dport;
    r.l4.dport = p->l4.sport;
    r.l4.tcp_flags = flags;
    r.ts_us = ts;
    return r;
}

/* ---- table with an end-of-flow recorder -------------------------------- */

typedef struct ended {
    uint64_t flow_id;
    uint16_t cport, sport;
    sw_flow_end_reason why;
    uint8_t state;
} ended;

typedef struct rec {
    ended e[256];
    int n;
} rec;

static void on_end(void *user, sw_flow *f, sw_flow_end_reason why)
{
    rec *r = user;
    assert_true(r->n < 256);
    assert_true(f->in_use);
    r->e[r->n].flow_id = f->flow_id;
    r->e[r->n].cport = sw_flow_client_port(f);
    r->e[r->n].sport = sw_flow_server_port(f);
    r->e[r->n].why = why;
    r->e[r->n].state = f->state;
    r->n++;
}

static sw_flow_config cfg_small(uint64_t max_flows)
{
    sw_flow_config c;
    sw_flow_config_defaults(&c);
    c.max_flows = max_flows;
    c.timeout_new_us = 30 * SEC;
    c.timeout_tcp_est_us = 600 * SEC;
    c.timeout_udp_est_us = 300 * SEC;
    c.timeout_other_est_us = 200 * SEC;
    c.timeout_closed_us = 10 * SEC;
    return c;
}

static uint64_t ctr(const sw_flow_table *t, const char *name)
{
    return tu_ctr(sw_flow_counters(t), name);
}

/* Tables made by a test are freed by the teardown, also when an assertion
 * failed half-way. */
static sw_flow_table *g_tables[4];

static sw_flow_table *table_new(const sw_flow_config *c, rec *r)
{
    sw_flow_table *t = sw_flow_table_new(c, on_end, r);
    assert_non_null(t);
    for (int i = 0; i < 4; i++)
        if (!g_tables[i]) {
            g_tables[i] = t;
            return t;
        }
    fail_msg("too many tables in one test");
    return NULL;
}

static int teardown(void **state)
{
    (void)state;
    for (int i = 0; i < 4; i++) {
        sw_flow_table_free(g_tables[i]);
        g_tables[i] = NULL;
    }
    return 0;
}

/* Looks up and accounts one packet, as the worker does. */
static sw_flow *feed(sw_flow_table *t, const sw_packet *p, bool *to_server, bool *created)
{
    bool ts, cr;
    sw_flow *f = sw_flow_lookup(t, p, &ts, &cr);
    assert_non_null(f);
    sw_flow_update(t, f, p, ts);
    if (to_server)
        *to_server = ts;
    if (created)
        *created = cr;
    return f;
}

/* ---- key normalisation -------------------------------------------------- */

static void test_key_symmetry_v4_v6(void **state)
{
    (void)state;
    const char *pairs[][2] = {{"10.0.0.1", "192.168.1.7"},
                              {"192.168.1.7", "10.0.0.1"},
                              {"2001:db8::1", "2001:db8::2"},
                              {"fe80::2", "2001:db8::ffff"}};
    for (size_t i = 0; i < 4; i++) {
        sw_packet p = tcp(pairs[i][0], 40000, pairs[i][1], 443, SW_TCP_SYN, T0);
        sw_packet r = rev(&p, SW_TCP_SYN | SW_TCP_ACK, T0);
        sw_flow_key k1, k2;
        bool a1, a2;
        sw_flow_key_make(&p, &k1, &a1);
        sw_flow_key_make(&r, &k2, &a2);
        assert_memory_equal(&k1, &k2, sizeof k1);
        assert_true(a1 != a2);
        assert_int_equal(sw_flow_key_hash(&k1, 7), sw_flow_key_hash(&k2, 7));
        /* a holds the lower address, with its own port */
        size_t alen = p.ip.version == 6 ? 16 : 4;
        assert_true(memcmp(k1.a, k1.b, alen) < 0);
        assert_int_equal(k1.pa, a1 ? 40000 : 443);
        assert_int_equal(k1.ipver, p.ip.version);
        if (alen == 4) {
            static const uint8_t zero[12];
            assert_memory_equal(k1.a + 4, zero, 12);
            assert_memory_equal(k1.b + 4, zero, 12);
        }
    }
    /* same address both ends: the ports decide, still symmetric */
    sw_packet p = udp("127.0.0.1", 5353, "127.0.0.1", 53, T0);
    sw_packet r = rev(&p, 0, T0);
    sw_flow_key k1, k2;
    bool a1, a2;
    sw_flow_key_make(&p, &k1, &a1);
    sw_flow_key_make(&r, &k2, &a2);
    assert_memory_equal(&k1, &k2, sizeof k1);
    assert_true(a1 != a2);
    assert_int_equal(k1.pa, 53);
    /* different seeds give different hashes (the seed is really used) */
    assert_true(sw_flow_key_hash(&k1, 1) != sw_flow_key_hash(&k1, 2));
}

static void test_lookup_both_directions(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    assert_non_null(t);
    const char *ends[][2] = {{"10.1.1.1", "10.2.2.2"}, {"2001:db8::9", "2001:db8::3"}};
    for (int i = 0; i < 2; i++) {
        sw_packet p = udp(ends[i][0], 1234, ends[i][1], 53, T0);
        bool ts, cr;
        sw_flow *f = feed(t, &p, &ts, &cr);
        assert_true(cr);
        assert_true(ts);
        sw_packet q = rev(&p, 0, T0 + 1);
        sw_flow *g = feed(t, &q, &ts, &cr);
        assert_ptr_equal(f, g);
        assert_false(cr);
        assert_false(ts);
        assert_int_equal(f->pkts_ts, 1);
        assert_int_equal(f->pkts_tc, 1);
        assert_int_equal(f->bytes_ts, 100);
        assert_int_equal(f->bytes_tc, 100);
        assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
        assert_int_equal(sw_flow_client_port(f), 1234);
        assert_int_equal(sw_flow_server_port(f), 53);
    }
    assert_int_equal(ctr(t, "flow.total"), 2);
    assert_int_equal(ctr(t, "flow.udp"), 2);
    assert_int_equal(ctr(t, "flow.active"), 2);
}

static void test_context_separates_flows(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet base = tcp("10.0.0.1", 1000, "10.0.0.2", 80, SW_TCP_SYN, T0);
    sw_packet v10 = base, v20 = base, qinq = base, vx1 = base, vx2 = base, gre = base;
    v10.l2.vlan_count = 1;
    v10.l2.vlan_id[0] = 10;
    v20.l2.vlan_count = 1;
    v20.l2.vlan_id[0] = 20;
    qinq.l2.vlan_count = 2;
    qinq.l2.vlan_id[0] = 10;
    qinq.l2.vlan_id[1] = 30;
    vx1.l2.tunnel_type = SW_TUN_VXLAN;
    vx1.l2.tunnel_id = 1;
    vx2.l2.tunnel_type = SW_TUN_VXLAN;
    vx2.l2.tunnel_id = 2;
    gre.l2.tunnel_type = SW_TUN_GRE;
    gre.l2.tunnel_id = 1;
    sw_packet *all[] = {&base, &v10, &v20, &qinq, &vx1, &vx2, &gre};
    sw_flow *fl[7];
    for (int i = 0; i < 7; i++) {
        bool cr;
        fl[i] = feed(t, all[i], NULL, &cr);
        assert_true(cr);
        for (int k = 0; k < i; k++)
            assert_ptr_not_equal(fl[i], fl[k]);
    }
    /* the reply in each context finds its own flow */
    for (int i = 0; i < 7; i++) {
        sw_packet q = rev(all[i], SW_TCP_SYN | SW_TCP_ACK, T0 + 5);
        bool ts, cr;
        assert_ptr_equal(feed(t, &q, &ts, &cr), fl[i]);
        assert_false(cr);
        assert_false(ts);
    }
    assert_int_equal(ctr(t, "flow.total"), 7);
    assert_int_equal(ctr(t, "flow.tcp"), 7);
}

static void test_icmp_ports_ignored(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet req = pkt("10.0.0.1", 8, "10.0.0.2", 0, 1, 0, T0);
    sw_packet rep = pkt("10.0.0.2", 0, "10.0.0.1", 0, 1, 0, T0 + 10);
    bool ts, cr;
    sw_flow *f = feed(t, &req, &ts, &cr);
    assert_true(cr);
    sw_flow *g = feed(t, &rep, &ts, &cr);
    assert_ptr_equal(f, g);
    assert_false(ts);
    assert_int_equal(f->key.pa, 0);
    assert_int_equal(f->key.pb, 0);
    assert_true(f->icmp_seen_ts && f->icmp_seen_tc);
    assert_int_equal(f->icmp_type_ts, 8);
    assert_int_equal(f->icmp_type_tc, 0);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
    sw_packet v6 = pkt("2001:db8::1", 128, "2001:db8::2", 0, 58, 0, T0);
    feed(t, &v6, NULL, NULL);
    assert_int_equal(ctr(t, "flow.icmpv4"), 1);
    assert_int_equal(ctr(t, "flow.icmpv6"), 1);
}

/* ---- orientation --------------------------------------------------------- */

static void test_orientation_syn_first(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    /* client has the higher address: orientation must not follow key order */
    sw_packet syn = tcp("192.168.9.9", 50000, "10.0.0.5", 22, SW_TCP_SYN, T0);
    bool ts;
    sw_flow *f = feed(t, &syn, &ts, NULL);
    assert_true(ts);
    assert_false(f->client_is_a);
    assert_int_equal(sw_flow_client_port(f), 50000);
    assert_int_equal(sw_flow_server_port(f), 22);
    uint8_t want[4];
    inet_pton(AF_INET, "192.168.9.9", want);
    assert_memory_equal(sw_flow_client_ip(f), want, 4);
    assert_false(f->midstream);
}

static void test_orientation_synack_first(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    /* The SYN was missed: the SYN+ACK's receiver is the client. */
    sw_packet sa = tcp("10.0.0.5", 22, "192.168.9.9", 50000, SW_TCP_SYN | SW_TCP_ACK, T0);
    bool ts;
    sw_flow *f = feed(t, &sa, &ts, NULL);
    assert_false(ts);
    assert_int_equal(sw_flow_client_port(f), 50000);
    assert_int_equal(sw_flow_server_port(f), 22);
    assert_int_equal(f->pkts_tc, 1);
    assert_int_equal(f->pkts_ts, 0);
    assert_int_equal(f->tcp_state, SW_TCP_SYN_RECV);
    sw_packet ack = rev(&sa, SW_TCP_ACK, T0 + 100);
    feed(t, &ack, &ts, NULL);
    assert_true(ts);
    assert_int_equal(f->tcp_state, SW_TCP_ESTABLISHED);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
    assert_false(f->midstream);
    assert_int_equal(ctr(t, "tcp.synack"), 1);
    assert_int_equal(ctr(t, "tcp.syn"), 0);
}

static void test_orientation_midstream(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    /* first packet seen is data from the server: its sender becomes the
     * "client" (nothing better is known), and the flow is midstream */
    sw_packet d = tcp("10.0.0.5", 80, "10.9.9.9", 41000, SW_TCP_ACK | SW_TCP_PSH, T0);
    bool ts;
    sw_flow *f = feed(t, &d, &ts, NULL);
    assert_true(ts);
    assert_int_equal(sw_flow_client_port(f), 80);
    assert_true(f->midstream);
    assert_int_equal(f->tcp_state, SW_TCP_ESTABLISHED);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
    assert_int_equal(ctr(t, "tcp.midstream_pickups"), 1);
}

/* ---- TCP state ----------------------------------------------------------- */

static void test_tcp_handshake_and_fin(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet syn = tcp("10.0.0.1", 40001, "10.0.0.2", 80, SW_TCP_SYN, T0);
    sw_flow *f = feed(t, &syn, NULL, NULL);
    assert_int_equal(f->tcp_state, SW_TCP_SYN_SENT);
    assert_int_equal(f->state, SW_FLOW_NEW);
    assert_true(f->syn_seen);
    assert_string_equal(sw_flow_state_name(f), "new");
    sw_packet sa = rev(&syn, SW_TCP_SYN | SW_TCP_ACK, T0 + 1000);
    feed(t, &sa, NULL, NULL);
    assert_int_equal(f->tcp_state, SW_TCP_SYN_RECV);
    assert_int_equal(f->state, SW_FLOW_NEW);
    assert_true(f->synack_seen);
    sw_packet ack = syn;
    ack.l4.tcp_flags = SW_TCP_ACK;
    ack.ts_us = T0 + 2000;
    feed(t, &ack, NULL, NULL);
    assert_int_equal(f->tcp_state, SW_TCP_ESTABLISHED);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
    assert_string_equal(sw_flow_state_name(f), "established");
    /* client closes first */
    sw_packet fin1 = syn;
    fin1.l4.tcp_flags = SW_TCP_FIN | SW_TCP_ACK;
    fin1.ts_us = T0 + 3000;
    feed(t, &fin1, NULL, NULL);
    assert_int_equal(f->tcp_state, SW_TCP_FIN_WAIT1);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
    sw_packet fin2 = rev(&syn, SW_TCP_FIN | SW_TCP_ACK, T0 + 4000);
    feed(t, &fin2, NULL, NULL);
    assert_int_equal(f->tcp_state, SW_TCP_CLOSED);
    assert_int_equal(f->state, SW_FLOW_CLOSED);
    assert_string_equal(sw_tcp_state_name(f->tcp_state), "closed");
    assert_int_equal(f->tcp_flags_ts, SW_TCP_SYN | SW_TCP_ACK | SW_TCP_FIN);
    assert_int_equal(f->tcp_flags_tc, SW_TCP_SYN | SW_TCP_ACK | SW_TCP_FIN);
    assert_false(f->rst_seen);
    assert_int_equal(f->pkts_ts, 3);
    assert_int_equal(f->pkts_tc, 2);
    assert_int_equal(f->start_us, T0);
    assert_int_equal(f->last_us, T0 + 4000);
    assert_int_equal(ctr(t, "tcp.syn"), 1);
    assert_int_equal(ctr(t, "tcp.synack"), 1);
}

static void test_tcp_server_fin_first(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet syn = tcp("10.0.0.1", 40002, "10.0.0.2", 80, SW_TCP_SYN, T0);
    sw_flow *f = feed(t, &syn, NULL, NULL);
    sw_packet sa = rev(&syn, SW_TCP_SYN | SW_TCP_ACK, T0 + 1);
    feed(t, &sa, NULL, NULL);
    syn.l4.tcp_flags = SW_TCP_ACK;
    syn.ts_us = T0 + 2;
    feed(t, &syn, NULL, NULL);
    sw_packet sfin = rev(&syn, SW_TCP_FIN | SW_TCP_ACK, T0 + 3);
    feed(t, &sfin, NULL, NULL);
    assert_int_equal(f->tcp_state, SW_TCP_CLOSE_WAIT);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
    syn.l4.tcp_flags = SW_TCP_FIN | SW_TCP_ACK;
    syn.ts_us = T0 + 4;
    feed(t, &syn, NULL, NULL);
    assert_int_equal(f->state, SW_FLOW_CLOSED);
}

static void test_tcp_rst(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet syn = tcp("10.0.0.1", 40003, "10.0.0.2", 81, SW_TCP_SYN, T0);
    sw_flow *f = feed(t, &syn, NULL, NULL);
    sw_packet rst = rev(&syn, SW_TCP_RST | SW_TCP_ACK, T0 + 5);
    feed(t, &rst, NULL, NULL);
    assert_true(f->rst_seen);
    assert_int_equal(f->tcp_state, SW_TCP_CLOSED);
    assert_int_equal(f->state, SW_FLOW_CLOSED);
    assert_int_equal(f->to_class, SW_TO_CLOSED);
    assert_int_equal(ctr(t, "tcp.rst"), 1);
}

/* ---- timeouts ------------------------------------------------------------ */

static int find_port(const rec *r, uint16_t cport)
{
    for (int i = 0; i < r->n; i++)
        if (r->e[i].cport == cport)
            return i;
    return -1;
}

static void test_timeouts_per_class(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    /* 1: TCP, SYN only (new) */
    sw_packet a = tcp("10.0.0.1", 1, "10.0.0.2", 80, SW_TCP_SYN, T0);
    feed(t, &a, NULL, NULL);
    /* 2: TCP established */
    sw_packet b = tcp("10.0.0.1", 2, "10.0.0.2", 80, SW_TCP_SYN, T0);
    feed(t, &b, NULL, NULL);
    sw_packet b2 = rev(&b, SW_TCP_SYN | SW_TCP_ACK, T0);
    feed(t, &b2, NULL, NULL);
    b.l4.tcp_flags = SW_TCP_ACK;
    feed(t, &b, NULL, NULL);
    /* 3: UDP established (answered) */
    sw_packet u = udp("10.0.0.1", 3, "10.0.0.2", 53, T0);
    feed(t, &u, NULL, NULL);
    sw_packet u2 = rev(&u, 0, T0);
    feed(t, &u2, NULL, NULL);
    /* 4: TCP closed by RST */
    sw_packet d = tcp("10.0.0.1", 4, "10.0.0.2", 80, SW_TCP_SYN, T0);
    feed(t, &d, NULL, NULL);
    sw_packet d2 = rev(&d, SW_TCP_RST, T0);
    feed(t, &d2, NULL, NULL);
    /* 5: UDP never answered (new) */
    sw_packet n = udp("10.0.0.1", 5, "10.0.0.2", 53, T0);
    feed(t, &n, NULL, NULL);
    /* 6: TCP established, refreshed later */
    sw_packet e = tcp("10.0.0.1", 6, "10.0.0.3", 80, SW_TCP_ACK, T0);
    feed(t, &e, NULL, NULL);
    e.ts_us = T0 + 500 * SEC;
    feed(t, &e, NULL, NULL);
    /* 7: other protocol (GRE-like, proto 47) established */
    sw_packet o = pkt("10.0.0.7", 0, "10.0.0.8", 0, 47, 0, T0);
    feed(t, &o, NULL, NULL);
    sw_packet o2 = rev(&o, 0, T0);
    feed(t, &o2, NULL, NULL);

    sw_flow_expire(t, T0 + 10 * SEC - 1);
    assert_int_equal(r.n, 0);
    sw_flow_expire(t, T0 + 10 * SEC);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0].cport, 4);
    sw_flow_expire(t, T0 + 30 * SEC - 1);
    assert_int_equal(r.n, 1);
    sw_flow_expire(t, T0 + 30 * SEC);
    assert_int_equal(r.n, 3);
    assert_true(find_port(&r, 1) >= 1 && find_port(&r, 5) >= 1);
    sw_flow_expire(t, T0 + 200 * SEC);
    assert_int_equal(r.n, 4); /* the "other" flow */
    assert_int_equal(r.e[3].cport, 0);
    sw_flow_expire(t, T0 + 300 * SEC - 1);
    assert_int_equal(r.n, 4);
    sw_flow_expire(t, T0 + 300 * SEC);
    assert_int_equal(r.n, 5);
    assert_int_equal(r.e[4].cport, 3);
    sw_flow_expire(t, T0 + 600 * SEC);
    assert_int_equal(r.n, 6);
    assert_int_equal(r.e[5].cport, 2);
    /* flow 6 was seen at +500 s: it lives until +1100 s */
    sw_flow_expire(t, T0 + 1100 * SEC - 1);
    assert_int_equal(r.n, 6);
    sw_flow_expire(t, T0 + 1100 * SEC);
    assert_int_equal(r.n, 7);
    assert_int_equal(r.e[6].cport, 6);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.e[i].why, SW_FLOW_END_TIMEOUT);
    assert_int_equal(ctr(t, "spanwatch.flow.end_timeout"), 7);
    assert_int_equal(ctr(t, "flow.active"), 0);
}

static void test_flush_shutdown(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    for (uint16_t i = 1; i <= 5; i++) {
        sw_packet p = udp("10.0.0.1", i, "10.0.0.2", 53, T0 + i);
        feed(t, &p, NULL, NULL);
    }
    sw_flow_flush(t);
    assert_int_equal(r.n, 5);
    for (int i = 0; i < 5; i++)
        assert_int_equal(r.e[i].why, SW_FLOW_END_SHUTDOWN);
    assert_int_equal(ctr(t, "spanwatch.flow.end_shutdown"), 5);
    assert_int_equal(ctr(t, "flow.active"), 0);
    assert_string_equal(sw_flow_reason_name(SW_FLOW_END_SHUTDOWN), "shutdown");
    /* the slots are reusable: the same tuple makes a new flow */
    sw_packet p = udp("10.0.0.1", 1, "10.0.0.2", 53, T0 + 100);
    bool cr;
    feed(t, &p, NULL, &cr);
    assert_true(cr);
    assert_int_equal(ctr(t, "flow.active"), 1);
}

/* ---- eviction ------------------------------------------------------------ */

/* The table never holds fewer than 16 slots (flow.c), so fill 16. */
#define CAP 16

static void est_tcp(sw_flow_table *t, uint16_t port, uint64_t ts)
{
    sw_packet p = tcp("10.0.0.1", port, "10.0.0.2", 80, SW_TCP_ACK, ts);
    sw_flow *f = feed(t, &p, NULL, NULL);
    assert_int_equal(f->state, SW_FLOW_ESTABLISHED);
}

static void test_evict_closed_then_new_then_idlest(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(CAP);
    sw_flow_table *t = table_new(&c, &r);
    /* established flows, idlest first (port 100 is the idlest) */
    for (uint16_t i = 0; i < CAP - 2; i++)
        est_tcp(t, (uint16_t)(100 + i), T0 + i * SEC);
    /* one new (unanswered SYN) and one closed flow, both the most recent */
    sw_packet syn = tcp("10.0.0.1", 7000, "10.0.0.2", 80, SW_TCP_SYN, T0 + 50 * SEC);
    feed(t, &syn, NULL, NULL);
    sw_packet cl = tcp("10.0.0.1", 8000, "10.0.0.2", 80, SW_TCP_SYN, T0 + 51 * SEC);
    feed(t, &cl, NULL, NULL);
    sw_packet rst = rev(&cl, SW_TCP_RST, T0 + 52 * SEC);
    feed(t, &rst, NULL, NULL);
    assert_int_equal(ctr(t, "flow.active"), CAP);
    assert_int_equal(ctr(t, "flow.memcap"), 0);

    /* 1st newcomer: the closed flow goes */
    est_tcp(t, 9001, T0 + 60 * SEC);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0].cport, 8000);
    assert_int_equal(r.e[0].why, SW_FLOW_END_FORCED);
    /* 2nd: the unanswered SYN */
    est_tcp(t, 9002, T0 + 61 * SEC);
    assert_int_equal(r.n, 2);
    assert_int_equal(r.e[1].cport, 7000);
    /* then the idlest established flows, oldest first */
    est_tcp(t, 9003, T0 + 62 * SEC);
    est_tcp(t, 9004, T0 + 63 * SEC);
    assert_int_equal(r.n, 4);
    assert_int_equal(r.e[2].cport, 100);
    assert_int_equal(r.e[3].cport, 101);
    for (int i = 0; i < r.n; i++)
        assert_int_equal(r.e[i].why, SW_FLOW_END_FORCED);
    assert_string_equal(sw_flow_reason_name(SW_FLOW_END_FORCED), "forced");
    assert_int_equal(ctr(t, "flow.memcap"), 4);
    assert_int_equal(ctr(t, "spanwatch.flow.end_forced"), 4);
    assert_int_equal(ctr(t, "flow.active"), CAP);
    assert_int_equal(ctr(t, "flow.total"), CAP + 4);
    assert_int_equal(ctr(t, "flow.memuse"), (uint64_t)CAP * sizeof(sw_flow));
    /* an evicted flow's packet makes a new flow (that evicts the next idlest) */
    bool cr;
    sw_packet p100 = tcp("10.0.0.1", 100, "10.0.0.2", 80, SW_TCP_ACK, T0 + 70 * SEC);
    feed(t, &p100, NULL, &cr);
    assert_true(cr);
    assert_int_equal(r.e[4].cport, 102);
    /* a packet of a live flow does not evict anything */
    sw_packet p9004 = tcp("10.0.0.1", 9004, "10.0.0.2", 80, SW_TCP_ACK, T0 + 71 * SEC);
    feed(t, &p9004, NULL, &cr);
    assert_false(cr);
    assert_int_equal(r.n, 5);
}

/* Regression (found by this test, fixed in e109280): established flows used
 * to be evicted class by class (UDP, other, TCP), so a fresh UDP flow went
 * before a TCP flow idle for minutes. The idlest established flow goes. */
static void test_evict_idlest_across_protocols(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(CAP);
    sw_flow_table *t = table_new(&c, &r);
    est_tcp(t, 100, T0); /* idle since T0 */
    for (uint16_t i = 1; i < CAP; i++) {
        sw_packet u = udp("10.0.0.1", (uint16_t)(200 + i), "10.0.0.2", 53, T0 + 100 * SEC + i);
        feed(t, &u, NULL, NULL);
        sw_packet u2 = rev(&u, 0, T0 + 100 * SEC + i);
        feed(t, &u2, NULL, NULL);
    }
    est_tcp(t, 9000, T0 + 200 * SEC);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0].cport, 100);
}

/* ---- TCP port reuse ------------------------------------------------------ */

static void test_tcp_reuse(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet syn = tcp("10.0.0.1", 45000, "10.0.0.2", 443, SW_TCP_SYN, T0);
    sw_flow *f = feed(t, &syn, NULL, NULL);
    uint64_t id1 = f->flow_id;
    /* a retransmitted SYN on a live flow is the same flow */
    syn.ts_us = T0 + SEC;
    bool cr;
    assert_ptr_equal(feed(t, &syn, NULL, &cr), f);
    assert_false(cr);
    sw_packet sa = rev(&syn, SW_TCP_SYN | SW_TCP_ACK, T0 + SEC + 1);
    feed(t, &sa, NULL, NULL);
    sw_packet fin = syn;
    fin.l4.tcp_flags = SW_TCP_FIN | SW_TCP_ACK;
    fin.ts_us = T0 + 2 * SEC;
    feed(t, &fin, NULL, NULL);
    sw_packet fin2 = rev(&syn, SW_TCP_FIN | SW_TCP_ACK, T0 + 2 * SEC + 1);
    feed(t, &fin2, NULL, NULL);
    assert_int_equal(f->state, SW_FLOW_CLOSED);
    /* a non-SYN packet on the closed flow stays in it */
    sw_packet lastack = fin;
    lastack.l4.tcp_flags = SW_TCP_ACK;
    lastack.ts_us = T0 + 2 * SEC + 2;
    assert_ptr_equal(feed(t, &lastack, NULL, &cr), f);
    assert_false(cr);
    /* a new SYN on the same tuple ends it and starts a new flow */
    sw_packet syn2 = syn;
    syn2.ts_us = T0 + 3 * SEC;
    bool ts;
    sw_flow *g = feed(t, &syn2, &ts, &cr);
    assert_true(cr);
    assert_true(ts);
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0].why, SW_FLOW_END_TCP_REUSE);
    assert_int_equal(r.e[0].flow_id, id1);
    assert_int_equal(r.e[0].state, SW_FLOW_CLOSED);
    assert_true(g->flow_id != id1);
    assert_int_equal(g->state, SW_FLOW_NEW);
    assert_int_equal(g->pkts_ts, 1);
    assert_int_equal(g->start_us, T0 + 3 * SEC);
    assert_int_equal(ctr(t, "flow.tcp_reuse"), 1);
    assert_int_equal(ctr(t, "flow.active"), 1);
    assert_int_equal(ctr(t, "flow.total"), 2);
    assert_string_equal(sw_flow_reason_name(SW_FLOW_END_TCP_REUSE), "tcp_reuse");
}

/* ---- flow id and community id ------------------------------------------- */

static void run_ids(uint64_t out[4])
{
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    sw_packet ps[4] = {
        tcp("10.0.0.1", 1111, "10.0.0.2", 80, SW_TCP_SYN, T0),
        tcp("10.0.0.1", 1112, "10.0.0.2", 80, SW_TCP_SYN, T0),
        udp("2001:db8::1", 5000, "2001:db8::2", 53, T0 + 7),
        tcp("10.0.0.1", 1111, "10.0.0.2", 80, SW_TCP_SYN, T0), /* same as 0 */
    };
    for (int i = 0; i < 4; i++)
        out[i] = feed(t, &ps[i], NULL, NULL)->flow_id;
}

static void test_flow_id_deterministic(void **state)
{
    (void)state;
    uint64_t a[4], b[4];
    run_ids(a);
    run_ids(b);
    assert_memory_equal(a, b, sizeof a);
    assert_int_equal(a[0], a[3]);
    assert_true(a[0] != a[1] && a[1] != a[2] && a[0] != a[2]);
    for (int i = 0; i < 4; i++) {
        assert_true(a[i] != 0);
        /* fits a JSON number exactly (and Suricata's 51-bit ids) */
        assert_true(a[i] < (1ull << 51));
    }
}

static void test_community_id(void **state)
{
    (void)state;
    rec r = {0};
    sw_flow_config c = cfg_small(64);
    sw_flow_table *t = table_new(&c, &r);
    /* Community ID spec baseline vector (tcp, seed 0) */
    sw_packet p = tcp("128.232.110.120", 34855, "66.35.250.204", 80, SW_TCP_SYN, T0);
    sw_flow *f = feed(t, &p, NULL, NULL);
    assert_string_equal(f->community_id, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=");
    /* picked up at the SYN+ACK: same flow identity, same id */
    sw_packet q = tcp("66.35.250.204", 80, "128.232.110.120", 34856, SW_TCP_SYN | SW_TCP_ACK,
                      T0);
    sw_flow *g = feed(t, &q, NULL, NULL);
    assert_int_equal(sw_flow_client_port(g), 34856);
    assert_string_equal(g->community_id, "1:y7nuDg8rmXRa7xtJ3MEXcO52UEQ=");
    /* values computed independently (Python hashlib, per the spec) */
    sw_packet u = udp("10.0.0.2", 53, "10.0.0.1", 5353, T0);
    assert_string_equal(feed(t, &u, NULL, NULL)->community_id,
                        "1:6ShADtBMSf9PCJmUQKnw1SEPH+c=");
    sw_packet v6 = tcp("2001:db8::1", 40000, "2001:db8::2", 443, SW_TCP_SYN, T0);
    assert_string_equal(feed(t, &v6, NULL, NULL)->community_id,
                        "1:RYG3Msb11GthNt1OYXJouPzmrvA=");
}

static void test_config_load(void **state)
{
    (void)state;
    char err[256] = "";
    sw_cfg_node *root = sw_cfg_load_string("flow:\n"
                                           "  max-flows: 5000\n"
                                           "  memcap: 2mb\n"
                                           "  timeouts:\n"
                                           "    new: 5s\n"
                                           "    tcp-established: 2m\n"
                                           "    closed: 500ms\n",
                                           err, sizeof err);
    assert_non_null(root);
    sw_flow_config c;
    sw_flow_config_defaults(&c);
    assert_int_equal(sw_flow_config_load(root, &c, err, sizeof err), 0);
    assert_int_equal(c.max_flows, 5000);
    assert_int_equal(c.memcap, 2u << 20);
    assert_int_equal(c.timeout_new_us, 5 * SEC);
    assert_int_equal(c.timeout_tcp_est_us, 120 * SEC);
    assert_int_equal(c.timeout_closed_us, 500000);
    assert_int_equal(c.timeout_udp_est_us, 300 * SEC); /* default kept */
    sw_cfg_free(root);
    root = sw_cfg_load_string("flow:\n  max-flows: 0\n", err, sizeof err);
    assert_int_equal(sw_flow_config_load(root, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "flow.max-flows"));
    sw_cfg_free(root);
    /* memcap bounds the slots when it is the smaller limit */
    sw_flow_config_defaults(&c);
    c.max_flows = 1000;
    c.memcap = 20 * sizeof(sw_flow);
    rec r = {0};
    sw_flow_table *t = table_new(&c, &r);
    for (uint16_t i = 0; i < 21; i++) {
        sw_packet p = udp("10.0.0.1", (uint16_t)(1000 + i), "10.0.0.2", 53, T0 + i);
        feed(t, &p, NULL, NULL);
    }
    assert_int_equal(r.n, 1);
    assert_int_equal(r.e[0].cport, 1000);
    assert_int_equal(ctr(t, "flow.memcap"), 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_teardown(test_key_symmetry_v4_v6, teardown),
        cmocka_unit_test_teardown(test_lookup_both_directions, teardown),
        cmocka_unit_test_teardown(test_context_separates_flows, teardown),
        cmocka_unit_test_teardown(test_icmp_ports_ignored, teardown),
        cmocka_unit_test_teardown(test_orientation_syn_first, teardown),
        cmocka_unit_test_teardown(test_orientation_synack_first, teardown),
        cmocka_unit_test_teardown(test_orientation_midstream, teardown),
        cmocka_unit_test_teardown(test_tcp_handshake_and_fin, teardown),
        cmocka_unit_test_teardown(test_tcp_server_fin_first, teardown),
        cmocka_unit_test_teardown(test_tcp_rst, teardown),
        cmocka_unit_test_teardown(test_timeouts_per_class, teardown),
        cmocka_unit_test_teardown(test_flush_shutdown, teardown),
        cmocka_unit_test_teardown(test_evict_closed_then_new_then_idlest, teardown),
        cmocka_unit_test_teardown(test_evict_idlest_across_protocols, teardown),
        cmocka_unit_test_teardown(test_tcp_reuse, teardown),
        cmocka_unit_test_teardown(test_flow_id_deterministic, teardown),
        cmocka_unit_test_teardown(test_community_id, teardown),
        cmocka_unit_test_teardown(test_config_load, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
