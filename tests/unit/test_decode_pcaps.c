/* Decoders and defrag on real captures (test-pcaps/, provenance in
 * PROVENANCE.tsv). Expected values were read with tshark
 * (-T fields -e ip.src -e tcp.srcport -e vlan.id ...) and hard-coded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <dirent.h>
#include <pcap/pcap.h>

#include "decoders/decode.h"
#include "decoders/defrag.h"
#include "tests/unit/testutil.h"

typedef struct run {
    sw_dec_ctx dec;
    sw_defrag *df;
    unsigned n, ok, frag, not_ip, invalid, reassembled;
    /* per packet results, first 64 packets */
    sw_packet pk[64];
    sw_dec_result res[64];
    /* reassembled datagrams, decoded */
    sw_packet re[16];
    unsigned n_re;
    uint8_t first[2048]; /* bytes of packet 1 (pk[].data dies with pcap) */
    uint32_t first_len;
} run;

static const sw_dec_config *g_cfg; /* NULL: defaults */

static void run_file(run *r, const char *path)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *pc = pcap_open_offline(path, err);
    if (!pc)
        fail_msg("%s: %s", path, err);
    memset(r, 0, sizeof(*r));
    sw_dec_config c;
    sw_dec_config_defaults(&c);
    sw_dec_ctx_init(&r->dec, g_cfg ? g_cfg : &c);
    sw_defrag_config dc;
    sw_defrag_config_defaults(&dc);
    dc.memcap = 16u << 20;
    dc.max_trackers = 1024;
    dc.max_frags = 4096;
    r->df = sw_defrag_new(&dc);
    assert_non_null(r->df);
    int lt = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *d;
    while (pcap_next_ex(pc, &h, &d) == 1) {
        sw_packet p;
        p.data = d;
        p.caplen = h->caplen;
        p.wirelen = h->len;
        p.linktype = lt;
        p.ts_us = (uint64_t)h->ts.tv_sec * 1000000 + (uint64_t)h->ts.tv_usec;
        p.pcap_cnt = ++r->n;
        sw_dec_result res = sw_decode_packet(&r->dec, &p);
        if (r->n == 1) {
            r->first_len = h->caplen < sizeof(r->first) ? h->caplen : sizeof(r->first);
            memcpy(r->first, d, r->first_len);
        }
        if (r->n <= 64) {
            r->pk[r->n - 1] = p;
            r->res[r->n - 1] = res;
        }
        switch (res) {
        case SW_DEC_OK: r->ok++; break;
        case SW_DEC_NOT_IP: r->not_ip++; break;
        case SW_DEC_INVALID: r->invalid++; break;
        case SW_DEC_FRAGMENT: {
            r->frag++;
            uint32_t len;
            const uint8_t *dg = sw_defrag_add(r->df, &p, &len);
            if (dg) {
                r->reassembled++;
                sw_dec_result rr = sw_decode_ip_datagram(&r->dec, &p, dg, len);
                assert_true(rr == SW_DEC_OK || rr == SW_DEC_INVALID);
                if (r->n_re < 16)
                    r->re[r->n_re++] = p;
            }
            break;
        }
        }
        sw_defrag_expire(r->df, p.ts_us);
    }
    pcap_close(pc);
}

static void run_test_pcap(run *r, const char *name)
{
    char path[1024];
    run_file(r, tu_test_pcap(path, sizeof(path), name));
}

static void done(run *r)
{
    sw_defrag_free(r->df);
    r->df = NULL;
}

static uint64_t dctr(const run *r, int id) { return r->dec.ctr[id]; }

static uint64_t dfctr(const run *r, int id)
{
    sw_ctr_group g = sw_defrag_counters(r->df);
    return g.vals[id];
}

static void ip4(const uint8_t *a, uint8_t x, uint8_t y, uint8_t z, uint8_t w)
{
    const uint8_t e[16] = {x, y, z, w};
    assert_memory_equal(a, e, 16);
}

static run R;

static void test_qinq(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-http-qinq-0.pcap");
    assert_int_equal(R.n, 14);
    assert_int_equal(R.ok, 14);
    assert_int_equal(dctr(&R, SW_DEC_CTR_VLAN), 14);
    assert_int_equal(dctr(&R, SW_DEC_CTR_VLAN_QINQ), 14);
    assert_int_equal(dctr(&R, SW_DEC_CTR_TCP), 14);
    assert_int_equal(R.pk[0].l2.vlan_count, 2);
    ip4(R.pk[0].ip.src, 141, 142, 228, 5);
    ip4(R.pk[0].ip.dst, 192, 150, 187, 43);
    assert_int_equal(R.pk[0].l4.sport, 59856);
    assert_int_equal(R.pk[0].l4.dport, 80);
    assert_int_equal(sw_packet_pair_hash(&R.pk[0]), sw_packet_pair_hash(&R.pk[1]));
    done(&R);

    run_test_pcap(&R, "zeek-vlan-qinqinq.pcap");
    assert_int_equal(R.ok, 14);
    assert_int_equal(dctr(&R, SW_DEC_CTR_VLAN_QINQINQ), 14);
    assert_int_equal(R.pk[0].l2.vlan_count, 3);
    assert_int_equal(R.pk[0].l2.vlan_id[0], 30);
    assert_int_equal(R.pk[0].l2.vlan_id[1], 20);
    assert_int_equal(R.pk[0].l2.vlan_id[2], 10);
    assert_int_equal(R.pk[1].l4.sport, 80);
    done(&R);
}

static void test_mixed_vlan_mpls(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-mixed-vlan-mpls.pcap");
    assert_int_equal(R.n, 47);
    assert_int_equal(R.ok, 47);
    assert_int_equal(dctr(&R, SW_DEC_CTR_MPLS), 11);
    assert_int_equal(dctr(&R, SW_DEC_CTR_VLAN), 14);
    assert_int_equal(dctr(&R, SW_DEC_CTR_TCP), 47);
    assert_int_equal(R.pk[0].l2.mpls_count, 1);
    ip4(R.pk[0].ip.src, 10, 1, 2, 1);
    ip4(R.pk[0].ip.dst, 10, 34, 0, 1);
    assert_int_equal(R.pk[0].l4.sport, 11001);
    assert_int_equal(R.pk[0].l4.dport, 23);
    unsigned v4093 = 0;
    for (unsigned i = 0; i < R.n && i < 64; i++)
        if (R.pk[i].l2.vlan_count == 1 && R.pk[i].l2.vlan_id[0] == 4093)
            v4093++;
    assert_int_equal(v4093, 14);
    done(&R);
}

static void test_sll2(void **state)
{
    (void)state;
    run_test_pcap(&R, "sv-decode-sll2-01.pcap");
    assert_int_equal(R.n, 5);
    assert_int_equal(R.ok, 5);
    assert_int_equal(dctr(&R, SW_DEC_CTR_SLL2), 5);
    ip4(R.pk[0].ip.src, 192, 168, 1, 253);
    assert_int_equal(R.pk[0].l4.sport, 56478);
    assert_int_equal(R.pk[1].l4.sport, 80);
    done(&R);

    run_test_pcap(&R, "zeek-linux_dlt_sll2.pcap");
    assert_int_equal(R.n, 6);
    /* frame 5 ARP (0x0806), frame 6 RARP (0x8035: tshark shows "arp") */
    assert_int_equal(dctr(&R, SW_DEC_CTR_ARP), 1);
    assert_int_equal(dctr(&R, SW_DEC_CTR_UNKNOWN_ETHERTYPE), 1);
    assert_int_equal(R.not_ip, 2);
    assert_int_equal(dctr(&R, SW_DEC_CTR_ICMPV4), 2);
    assert_int_equal(dctr(&R, SW_DEC_CTR_ICMPV6), 2);
    ip4(R.pk[0].ip.src, 192, 0, 2, 1);
    assert_int_equal(R.pk[2].ip.version, 6);
    assert_int_equal(R.pk[2].ip.src[0], 0xfe);
    assert_int_equal(R.pk[2].ip.src[15], 0xaf);
    done(&R);
}

/* PPPoE discovery, LCP/PAP/IPCP and IPv6 (ICMPv6, DHCPv6) sessions
 * (tshark: 65 PPPoE frames, 4 discovery, 25 IPv6). */
static void test_pppoe_pcap(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-pppoe.pcap");
    assert_int_equal(R.n, 65);
    assert_int_equal(dctr(&R, SW_DEC_CTR_PPPOE), 65);
    assert_int_equal(dctr(&R, SW_DEC_CTR_IPV6), 25);
    assert_int_equal(R.ok, 25);
    assert_int_equal(R.not_ip, 40);
    assert_int_equal(R.invalid, 0);
    /* frame 54: fc00:0:2:100::1:1 -> fc00::1, ICMPv6 echo request */
    const sw_packet *p = &R.pk[53];
    assert_int_equal(p->ip.version, 6);
    assert_int_equal(p->ip.proto, 58);
    assert_int_equal(p->ip.src[0], 0xfc);
    assert_int_equal(p->ip.src[15], 0x01);
    assert_int_equal(p->ip.dst[15], 0x01);
    assert_int_equal(p->ip.dst[5], 0x00);
    done(&R);
}

/* Teredo: frames 6, 7 and 30 use port 3544 (tshark decodes those three);
 * the relay traffic on 32900 is Teredo only when every port is tried. */
static void test_teredo_pcap(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-tunnels-Teredo.pcap");
    assert_int_equal(R.n, 78);
    assert_int_equal(dctr(&R, SW_DEC_CTR_TEREDO), 3);
    const sw_packet *p = &R.pk[5]; /* fe80::8000:ffff:ffff:fffd -> ff02::2, RS */
    assert_int_equal(p->l2.tunnel_type, SW_TUN_TEREDO);
    assert_int_equal(p->ip.version, 6);
    assert_int_equal(p->ip.proto, 58);
    assert_int_equal(p->ip.src[0], 0xfe);
    assert_int_equal(p->ip.src[8], 0x80);
    assert_int_equal(p->ip.src[15], 0xfd);
    assert_int_equal(p->ip.dst[0], 0xff);
    assert_int_equal(p->ip.dst[15], 0x02);
    assert_int_equal(R.pk[28].l2.tunnel_type, SW_TUN_NONE); /* frame 29: 3797 -> 32900 */
    done(&R);

    sw_dec_config c;
    sw_dec_config_defaults(&c);
    c.teredo_any_port = true;
    g_cfg = &c;
    run_test_pcap(&R, "zeek-tunnels-Teredo.pcap");
    g_cfg = NULL;
    assert_int_equal(dctr(&R, SW_DEC_CTR_TEREDO), 27);
    /* frame 30: 2001:0:4137:9e50:8000:f12a:b9c8:2815 -> 2001:4860:0:2001::68 */
    p = &R.pk[29];
    assert_int_equal(p->l2.tunnel_type, SW_TUN_TEREDO);
    assert_int_equal(p->ip.src[1], 0x01);
    assert_int_equal(p->ip.src[4], 0x41);
    assert_int_equal(p->ip.dst[2], 0x48);
    assert_int_equal(p->ip.dst[15], 0x68);
    done(&R);
}

static void test_vxlan(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-tunnels-vxlan.pcap");
    assert_int_equal(R.n, 10);
    assert_int_equal(R.ok, 8);
    assert_int_equal(R.not_ip, 2); /* ARP inside VXLAN */
    assert_int_equal(dctr(&R, SW_DEC_CTR_VXLAN), 10);
    assert_int_equal(dctr(&R, SW_DEC_CTR_ARP), 2);
    const sw_packet *p = &R.pk[2];
    assert_int_equal(p->l2.tunnel_type, SW_TUN_VXLAN);
    ip4(p->ip.src, 10, 0, 0, 1);
    ip4(p->ip.dst, 10, 0, 0, 2);
    assert_int_equal(p->ip.proto, 1);
    assert_int_equal(sw_packet_pair_hash(&R.pk[2]), sw_packet_pair_hash(&R.pk[3]));
    done(&R);
}

static void test_gre(void **state)
{
    (void)state;
    run_test_pcap(&R, "sv-bug-5633-gre-01.pcap");
    assert_int_equal(R.n, 3);
    assert_int_equal(R.ok, 3);
    assert_int_equal(R.pk[0].l2.vlan_id[0], 6);
    assert_int_equal(R.pk[0].l2.tunnel_type, SW_TUN_GRE);
    ip4(R.pk[0].ip.src, 2, 2, 2, 3);
    ip4(R.pk[0].ip.dst, 2, 2, 2, 2);
    assert_int_equal(R.pk[0].l4.sport, 12345);
    assert_int_equal(R.pk[0].l4.dport, 514);
    done(&R);

    run_test_pcap(&R, "zeek-tunnels-gre-sample.pcap");
    assert_int_equal(R.n, 40);
    assert_int_equal(R.ok, 40);
    assert_int_equal(dctr(&R, SW_DEC_CTR_GRE), 40);
    assert_int_equal(dctr(&R, SW_DEC_CTR_TCP), 22);
    assert_int_equal(dctr(&R, SW_DEC_CTR_UDP), 8);
    assert_int_equal(dctr(&R, SW_DEC_CTR_ICMPV4), 10);
    ip4(R.pk[0].ip.src, 66, 59, 111, 190);
    ip4(R.pk[0].ip.dst, 172, 28, 2, 3);
    done(&R);

    run_test_pcap(&R, "zeek-tunnels-gre-within-gre.pcap");
    assert_int_equal(R.n, 628);
    assert_int_equal(R.ok, 628);
    assert_int_equal(dctr(&R, SW_DEC_CTR_GRE), 1256);
    assert_int_equal(dctr(&R, SW_DEC_CTR_UDP), 4);
    assert_int_equal(R.pk[0].l2.tunnel_depth, 2);
    ip4(R.pk[0].ip.src, 10, 10, 25, 1);
    ip4(R.pk[0].ip.dst, 192, 168, 1, 2);
    ip4(R.pk[3].ip.dst, 224, 0, 0, 9);
    assert_int_equal(R.pk[3].l4.dport, 520);
    done(&R);

    /* GRE in GRE is 5 layers (eth, ip, ip, ip + ...): a limit of 3 stops it. */
    sw_dec_ctx small;
    sw_dec_config c = {.max_layers = 3};
    sw_dec_ctx_init(&small, &c);
    run_test_pcap(&R, "zeek-tunnels-gre-within-gre.pcap");
    sw_packet p = R.pk[0];
    p.data = R.first;
    p.caplen = R.first_len;
    assert_int_equal(sw_decode_packet(&small, &p), SW_DEC_INVALID);
    assert_int_equal(small.ctr[SW_DEC_CTR_TOO_MANY_LAYERS], 1);
    done(&R);
}

static void test_6in4_null_hbh(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-tunnels-6in4.pcap");
    assert_int_equal(R.ok, 1);
    assert_int_equal(dctr(&R, SW_DEC_CTR_IPV6_IN_IPV4), 1);
    const sw_packet *p = &R.pk[0];
    assert_int_equal(p->l2.tunnel_type, SW_TUN_IPIP);
    assert_int_equal(p->ip.version, 6);
    const uint8_t s[16] = {0xde, 0xad, [14] = 0xbe, [15] = 0xef};
    assert_memory_equal(p->ip.src, s, 16);
    assert_int_equal(p->l4.sport, 30000);
    assert_int_equal(p->l4.dport, 13000);
    done(&R);

    run_test_pcap(&R, "sv-http-ipv6.pcap");
    assert_int_equal(R.n, 14);
    assert_int_equal(R.ok, 14);
    assert_int_equal(dctr(&R, SW_DEC_CTR_NULL), 14);
    const uint8_t lo[16] = {[15] = 1};
    assert_memory_equal(R.pk[0].ip.src, lo, 16);
    assert_int_equal(R.pk[0].l4.sport, 55717);
    assert_int_equal(R.pk[0].l4.dport, 8000);
    done(&R);

    run_test_pcap(&R, "zeek-ipv6-hbh-routing0.pcap");
    assert_int_equal(R.n, 1);
    p = &R.pk[0];
    assert_int_equal(R.res[0], SW_DEC_OK);
    assert_int_equal(p->ip.proto, 17);
    assert_int_equal(p->l4.sport, 53);
    assert_int_equal(p->l4.dport, 53);
    bool rh0 = false;
    for (int i = 0; i < p->n_events; i++)
        rh0 |= p->events[i] == SW_EV_IPV6_RH_TYPE_0;
    assert_true(rh0);
    done(&R);
}

static void test_ipv4_defrag_pcaps(void **state)
{
    (void)state;
    /* id 0xf2: [0,18) MF, [48,164) last, then [0,304) MF overlapping both. */
    run_test_pcap(&R, "zeek-ipv4-fragmented-1.pcap");
    assert_int_equal(R.frag, 3);
    assert_int_equal(R.reassembled, 1);
    assert_int_equal(dfctr(&R, SW_DF_V4_OVERLAP), 1);
    const sw_packet *p = &R.re[0];
    assert_int_equal(p->ip.total_len, 20 + 164);
    assert_false(p->ip.is_fragment);
    ip4(p->ip.src, 164, 1, 123, 163);
    assert_int_equal(p->l4.sport, 123);
    assert_int_equal(p->l4.dport, 137);
    done(&R);

    /* Five MF fragments, never a last one: expires. */
    run_test_pcap(&R, "zeek-ipv4-fragmented-3.pcap");
    assert_int_equal(R.frag, 5);
    assert_int_equal(R.reassembled, 0);
    assert_true(dfctr(&R, SW_DF_MEMUSE) > 5 * 1480);
    sw_defrag_expire(R.df, R.pk[4].ts_us + 61000000ull);
    assert_int_equal(dfctr(&R, SW_DF_V4_TIMEOUTS), 1);
    assert_int_equal(dfctr(&R, SW_DF_MEMUSE), 0);
    done(&R);

    /* VLAN 6, three 8-byte fragments of a TCP SYN. */
    run_test_pcap(&R, "sv-defrag-eth-vlan-ipv4-tcp-syn.pcap");
    assert_int_equal(R.reassembled, 1);
    assert_int_equal(R.re[0].l2.vlan_id[0], 6);
    assert_int_equal(R.re[0].l4.sport, 12345);
    assert_int_equal(R.re[0].l4.dport, 8080);
    assert_int_equal(R.re[0].l4.tcp_flags, SW_TCP_SYN);
    done(&R);
}

static void test_ipv6_defrag_pcaps(void **state)
{
    (void)state;
    run_test_pcap(&R, "zeek-ipv6-fragmented-dns.pcap");
    assert_int_equal(R.n, 8);
    assert_int_equal(R.frag, 4);
    assert_int_equal(R.reassembled, 1);
    const sw_packet *p = &R.re[0];
    assert_int_equal(p->ip.version, 6);
    assert_int_equal(p->ip.total_len, 40 + 3238);
    assert_int_equal(p->ip.proto, 17);
    assert_int_equal(p->l4.sport, 53);
    assert_int_equal(p->l4.dport, 51851);
    assert_int_equal(p->l4.payload_len, 3238 - 8);
    assert_int_equal(dfctr(&R, SW_DF_V6_FRAGMENTS), 4);
    assert_int_equal(dfctr(&R, SW_DF_V6_REASSEMBLED), 1);
    done(&R);

    run_test_pcap(&R, "cs-ipv6_fragments.pcapng");
    assert_int_equal(R.n, 22);
    assert_int_equal(R.frag, 20);
    assert_int_equal(R.reassembled, 10);
    for (unsigned i = 0; i < 10; i++) {
        assert_int_equal(R.re[i].ip.total_len, 40 + 1508);
        assert_int_equal(R.re[i].ip.proto, 58);
        assert_int_equal(R.re[i].l4.icmp_type, i % 2 ? 129 : 128);
    }
    assert_int_equal(dfctr(&R, SW_DF_MEMUSE), 0);
    done(&R);
}

/* Every capture of the shared malformed corpus: no crash, no sanitizer
 * report, and counters consistent. */
static void test_malformed_corpus(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof(dir), "%s/../shared/pcaps/malformed", tu_srcdir());
    DIR *dh = opendir(dir);
    if (!dh) {
        /* The corpus lives outside the repository; without it we still
         * exercise every test-pcaps capture. */
        snprintf(dir, sizeof(dir), "%s/test-pcaps", tu_srcdir());
        dh = opendir(dir);
    }
    assert_non_null(dh);
    struct dirent *de;
    unsigned files = 0;
    while ((de = readdir(dh)) != NULL) {
        size_t l = strlen(de->d_name);
        if (!((l > 5 && strcmp(de->d_name + l - 5, ".pcap") == 0) ||
              (l > 7 && strcmp(de->d_name + l - 7, ".pcapng") == 0)))
            continue;
        char path[2048];
        snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
        char err[PCAP_ERRBUF_SIZE];
        pcap_t *pc = pcap_open_offline(path, err);
        if (!pc)
            continue; /* unreadable captures are the capture module's concern */
        pcap_close(pc);
        run_file(&R, path);
        assert_int_equal(R.ok + R.frag + R.not_ip + R.invalid, R.n);
        assert_int_equal(dctr(&R, SW_DEC_CTR_PKTS), R.n);
        /* reassembled datagrams may add invalid ones */
        assert_true(dctr(&R, SW_DEC_CTR_INVALID) >= R.invalid);
        assert_true(dctr(&R, SW_DEC_CTR_INVALID) <= R.invalid + R.reassembled);
        files++;
        done(&R);
    }
    closedir(dh);
    assert_true(files >= 10);
}

static void test_sv_ipv4_truncated(void **state)
{
    (void)state;
    /* suricata-verify's decoder-events test for this capture expects
     * ipv4.trunc_pkt. */
    char path[1024];
    snprintf(path, sizeof(path), "%s/../shared/pcaps/malformed/sv-ipv4-truncated.pcap", tu_srcdir());
    FILE *f = fopen(path, "rb");
    if (!f)
        skip();
    fclose(f);
    run_file(&R, path);
    assert_true(R.invalid >= 1);
    assert_true(R.dec.ctr[SW_DEC_CTR_EV_BASE + SW_EV_IPV4_TRUNC_PKT] >= 1);
    done(&R);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_qinq),
        cmocka_unit_test(test_mixed_vlan_mpls),
        cmocka_unit_test(test_sll2),
        cmocka_unit_test(test_vxlan),
        cmocka_unit_test(test_gre),
        cmocka_unit_test(test_6in4_null_hbh),
        cmocka_unit_test(test_ipv4_defrag_pcaps),
        cmocka_unit_test(test_ipv6_defrag_pcaps),
        cmocka_unit_test(test_malformed_corpus),
        cmocka_unit_test(test_pppoe_pcap),
        cmocka_unit_test(test_teredo_pcap),
        cmocka_unit_test(test_sv_ipv4_truncated),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
