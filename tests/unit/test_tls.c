/* TLS decoder tests on streams cut from real captures (test-pcaps/).
 * Expected JA3/JA3S values come from tshark 4.0, certificate fields from
 * `openssl x509 -nameopt sep_comma_plus_space,sname` and `openssl
 * asn1parse` on the certificates tshark extracted, JA4 and the TLS 1.3
 * draft values from the suricata-verify test.yaml files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcap/pcap.h>

#include "decoders/tls.h"
#include "sensor/cfg.h"
#include "sensor/eve_tls.h"
#include "sensor/json.h"
#include "tests/unit/testutil.h"

/* ------------------------------------------------------------------ */
/* A tiny TCP stream extractor: the k-th connection of a capture, both
 * directions reassembled in sequence order, as chunks in arrival order. */

typedef struct chunk {
    int dir;
    size_t off, len;
} chunk;

typedef struct stream {
    uint8_t *data;
    size_t len, cap;
    chunk *ch;
    size_t nch, chcap;
} stream;

typedef struct pend {
    uint32_t seq;
    uint8_t *p;
    size_t n;
} pend;

typedef struct dirst {
    bool have_next;
    uint32_t next;
    pend q[256];
    size_t nq;
} dirst;

static void emit(stream *s, int dir, const uint8_t *p, size_t n)
{
    if (n == 0)
        return;
    if (s->len + n > s->cap) {
        s->cap = (s->len + n) * 2;
        s->data = realloc(s->data, s->cap);
        assert_non_null(s->data);
    }
    memcpy(s->data + s->len, p, n);
    if (s->nch == s->chcap) {
        s->chcap = s->chcap ? s->chcap * 2 : 64;
        s->ch = realloc(s->ch, s->chcap * sizeof *s->ch);
        assert_non_null(s->ch);
    }
    s->ch[s->nch++] = (chunk){dir, s->len, n};
    s->len += n;
}

/* Delivers what is in order, trimming retransmitted overlap. */
static bool deliver(stream *s, dirst *d, int dir, uint32_t seq, const uint8_t *p, size_t n)
{
    int32_t delta = (int32_t)(seq - d->next);
    if (delta > 0)
        return false;
    size_t skip = (size_t)(-(int64_t)delta);
    if (skip >= n)
        return true;
    emit(s, dir, p + skip, n - skip);
    d->next += (uint32_t)(n - skip);
    return true;
}

static void seg(stream *s, dirst *d, int dir, uint32_t seq, const uint8_t *p, size_t n)
{
    if (!d->have_next) {
        d->have_next = true;
        d->next = seq;
    }
    if (!deliver(s, d, dir, seq, p, n)) {
        assert_true(d->nq < 256);
        d->q[d->nq].seq = seq;
        d->q[d->nq].p = malloc(n);
        memcpy(d->q[d->nq].p, p, n);
        d->q[d->nq].n = n;
        d->nq++;
        return;
    }
    bool progress = true;
    while (progress) {
        progress = false;
        for (size_t i = 0; i < d->nq; i++) {
            if (deliver(s, d, dir, d->q[i].seq, d->q[i].p, d->q[i].n)) {
                free(d->q[i].p);
                d->q[i] = d->q[--d->nq];
                progress = true;
                break;
            }
        }
    }
}

typedef struct conn_key {
    uint8_t a[16], b[16];
    uint16_t pa, pb;
    int fam;
} conn_key;

/* Loads connection number `which` (0-based, by first packet) of a capture. */
static void load_stream(const char *name, int which, stream *out)
{
    char path[1024], err[PCAP_ERRBUF_SIZE];
    memset(out, 0, sizeof *out);
    pcap_t *pc = pcap_open_offline(tu_test_pcap(path, sizeof path, name), err);
    if (!pc)
        fail_msg("%s: %s", path, err);
    int dlt = pcap_datalink(pc);
    conn_key keys[16];
    int nkeys = 0;
    static dirst ds[2];
    memset(ds, 0, sizeof ds);
    struct pcap_pkthdr *h;
    const u_char *pkt;
    while (pcap_next_ex(pc, &h, &pkt) == 1) {
        size_t n = h->caplen, off;
        switch (dlt) {
        case DLT_EN10MB: {
            if (n < 14)
                continue;
            uint16_t et = (uint16_t)(pkt[12] << 8 | pkt[13]);
            off = 14;
            while ((et == 0x8100 || et == 0x88a8) && n >= off + 4) { /* (Q-in-Q) VLAN */
                et = (uint16_t)(pkt[off + 2] << 8 | pkt[off + 3]);
                off += 4;
            }
            if (et != 0x0800 && et != 0x86dd)
                continue;
            break;
        }
        case DLT_NULL:
        case DLT_LOOP:
            off = 4;
            break;
        case DLT_LINUX_SLL:
            off = 16;
            break;
        case DLT_RAW:
        case 101: /* LINKTYPE_RAW as stored in files */
            off = 0;
            break;
        default:
            fail_msg("linktype %d", dlt);
            return;
        }
        if (n <= off)
            continue;
        const uint8_t *ip = pkt + off;
        size_t iplen = n - off;
        conn_key k;
        memset(&k, 0, sizeof k);
        const uint8_t *tcp;
        size_t tcplen;
        if ((ip[0] >> 4) == 4) {
            if (iplen < 20 || ip[9] != 6)
                continue;
            size_t ihl = (size_t)(ip[0] & 15) * 4;
            size_t tot = (size_t)(ip[2] << 8 | ip[3]);
            if (tot < iplen)
                iplen = tot;
            if (iplen < ihl + 20)
                continue;
            k.fam = 4;
            memcpy(k.a, ip + 12, 4);
            memcpy(k.b, ip + 16, 4);
            tcp = ip + ihl;
            tcplen = iplen - ihl;
        } else if ((ip[0] >> 4) == 6) {
            if (iplen < 60 || ip[6] != 6)
                continue;
            size_t pl = (size_t)(ip[4] << 8 | ip[5]);
            if (pl + 40 < iplen)
                iplen = pl + 40;
            k.fam = 6;
            memcpy(k.a, ip + 8, 16);
            memcpy(k.b, ip + 24, 16);
            tcp = ip + 40;
            tcplen = iplen - 40;
        } else {
            continue;
        }
        size_t thl = (size_t)(tcp[12] >> 4) * 4;
        if (thl < 20 || thl > tcplen)
            continue;
        k.pa = (uint16_t)(tcp[0] << 8 | tcp[1]);
        k.pb = (uint16_t)(tcp[2] << 8 | tcp[3]);
        uint32_t seq = (uint32_t)tcp[4] << 24 | (uint32_t)tcp[5] << 16 |
                       (uint32_t)tcp[6] << 8 | tcp[7];
        uint8_t flags = tcp[13];
        int idx = -1, dir = 0;
        for (int i = 0; i < nkeys; i++) {
            if (keys[i].fam == k.fam && !memcmp(keys[i].a, k.a, 16) &&
                !memcmp(keys[i].b, k.b, 16) && keys[i].pa == k.pa && keys[i].pb == k.pb) {
                idx = i;
                dir = 0;
            } else if (keys[i].fam == k.fam && !memcmp(keys[i].a, k.b, 16) &&
                       !memcmp(keys[i].b, k.a, 16) && keys[i].pa == k.pb &&
                       keys[i].pb == k.pa) {
                idx = i;
                dir = 1;
            }
            if (idx >= 0)
                break;
        }
        if (idx < 0) {
            if (nkeys == 16)
                continue;
            /* A SYN-ACK first means the client is the other side. */
            if ((flags & 0x12) == 0x12) {
                conn_key r = k;
                memcpy(r.a, k.b, 16);
                memcpy(r.b, k.a, 16);
                r.pa = k.pb;
                r.pb = k.pa;
                keys[nkeys] = r;
                dir = 1;
            } else {
                keys[nkeys] = k;
                dir = 0;
            }
            idx = nkeys++;
        }
        if (idx != which)
            continue;
        if (flags & 0x02) { /* SYN: data starts at seq + 1 */
            ds[dir].have_next = true;
            ds[dir].next = seq + 1;
            continue;
        }
        if (tcplen > thl)
            seg(out, &ds[dir], dir, seq, tcp + thl, tcplen - thl);
    }
    pcap_close(pc);
    for (int d = 0; d < 2; d++)
        for (size_t i = 0; i < ds[d].nq; i++)
            free(ds[d].q[i].p);
    assert_true(out->len > 0);
}

static void free_stream(stream *s)
{
    free(s->data);
    free(s->ch);
}

enum { FEED_SEGMENTS, FEED_BYTES, FEED_DIR_WHOLE };

/* Feeds a stream: as captured, one byte at a time, or each direction in a
 * single call (client first). */
static sw_tls_state *run(const stream *st, int mode, uint64_t *ctr)
{
    sw_tls_state *s = sw_tls_new(NULL, ctr);
    assert_non_null(s);
    if (mode == FEED_DIR_WHOLE) {
        for (int d = 0; d < 2; d++) {
            size_t total = 0;
            for (size_t i = 0; i < st->nch; i++)
                if (st->ch[i].dir == d)
                    total += st->ch[i].len;
            uint8_t *buf = malloc(total ? total : 1);
            size_t k = 0;
            for (size_t i = 0; i < st->nch; i++)
                if (st->ch[i].dir == d) {
                    memcpy(buf + k, st->data + st->ch[i].off, st->ch[i].len);
                    k += st->ch[i].len;
                }
            sw_tls_feed(s, d, buf, total);
            free(buf);
        }
        return s;
    }
    for (size_t i = 0; i < st->nch; i++) {
        const uint8_t *p = st->data + st->ch[i].off;
        if (mode == FEED_SEGMENTS) {
            sw_tls_feed(s, st->ch[i].dir, p, st->ch[i].len);
        } else {
            for (size_t j = 0; j < st->ch[i].len; j++)
                sw_tls_feed(s, st->ch[i].dir, p + j, 1);
        }
    }
    return s;
}

static void assert_str_or_null(const char *got, const char *want)
{
    if (!want) {
        assert_null(got);
        return;
    }
    if (!got)
        fail_msg("got NULL, want \"%s\"", want);
    assert_string_equal(got, want);
}

typedef struct expect {
    const char *pcap;
    int conn;
    const char *sni;
    const char *version;
    const char *ja3_hash, *ja3_str;
    const char *ja3s_hash, *ja3s_str;
    const char *ja4;
    const char *subject, *issuer, *serial, *fp, *nb, *na;
    unsigned chain;
} expect;

static void check_expect(const expect *e)
{
    stream st;
    load_stream(e->pcap, e->conn, &st);
    for (int mode = FEED_SEGMENTS; mode <= FEED_DIR_WHOLE; mode++) {
        uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
        sw_tls_state *s = run(&st, mode, ctr);
        char vb[24];
        assert_true(sw_tls_progress(s) & SW_TLS_CLIENT_HELLO);
        assert_true(sw_tls_progress(s) & SW_TLS_SERVER_HELLO);
        assert_str_or_null(sw_tls_sni(s), e->sni);
        assert_string_equal(sw_tls_version_str(s, vb, sizeof vb), e->version);
        assert_str_or_null(sw_tls_ja3_hash(s), e->ja3_hash);
        if (e->ja3_str)
            assert_string_equal(sw_tls_ja3_string(s), e->ja3_str);
        assert_str_or_null(sw_tls_ja3s_hash(s), e->ja3s_hash);
        if (e->ja3s_str)
            assert_string_equal(sw_tls_ja3s_string(s), e->ja3s_str);
        if (e->ja4)
            assert_str_or_null(sw_tls_ja4(s), e->ja4);
        assert_str_or_null(sw_tls_cert_subject(s), e->subject);
        assert_str_or_null(sw_tls_cert_issuer(s), e->issuer);
        assert_str_or_null(sw_tls_cert_serial(s), e->serial);
        assert_str_or_null(sw_tls_cert_fingerprint(s), e->fp);
        assert_str_or_null(sw_tls_cert_notbefore(s), e->nb);
        assert_str_or_null(sw_tls_cert_notafter(s), e->na);
        assert_int_equal(sw_tls_cert_chain_len(s), e->chain);
        if (e->subject)
            assert_true(sw_tls_progress(s) & SW_TLS_CERT);
        /* No heartbeats in these captures: nothing may be flagged. */
        assert_int_equal(sw_tls_heartbeat_flags(s), 0);
        assert_int_equal(ctr[SW_TLS_CTR_HEARTBEAT_OVERFLOW], 0);
        assert_int_equal(ctr[SW_TLS_CTR_CERT_PARSE_ERROR], 0);
        assert_int_equal(ctr[SW_TLS_CTR_MALFORMED_HANDSHAKE], 0);
        assert_true(ctr[SW_TLS_CTR_RECORDS] >= 3);
        sw_tls_free(s);
    }
    free_stream(&st);
}

#define JA3_OPENSSL101 \
    "771,49200-49196-49192-49188-49172-49162-49186-49185-163-159-107-106-57-56-136-135-49202-49198-49194-49190-49167-49157-157-61-53-132-49170-49160-49180-49179-22-19-49165-49155-10-49199-49195-49191-49187-49171-49161-49183-49182-162-158-103-64-51-50-154-153-69-68-49201-49197-49193-49189-49166-49156-156-60-47-150-65-7-49169-49159-49164-49154-5-4-21-18-9-20-17-8-6-3-255,11-10-35-13-15,14-13-25-11-12-24-9-10-22-23-8-6-7-20-21-4-5-18-19-1-2-3-15-16-17,0-1-2"

static void test_tls12_cert(void **st)
{
    (void)st;
    expect e = {
        .pcap = "zeek-tls1.2.pcap", .conn = 0, .sni = NULL, .version = "TLS 1.2",
        .ja3_hash = "bd9c99b3a0f752c3ab8b052a79e9de3e", .ja3_str = JA3_OPENSSL101,
        .ja3s_hash = "c253ec3ad88e42f8da4032682892f9a0", .ja3s_str = "771,4,65281",
        .subject = "C=US, postalCode=94568, ST=CA, L=Dublin, street=Suite 400, "
                   "street=4140 Dublin Boulevard, O=Taleo Inc., OU=Web, "
                   "OU=Comodo PremiumSSL Wildcard, CN=*.taleo.net",
        .issuer = "C=GB, ST=Greater Manchester, L=Salford, O=COMODO CA Limited, "
                  "CN=COMODO High-Assurance Secure Server CA",
        .serial = "00:99:FA:A8:03:7A:4E:B2:FA:EF:84:EB:5E:55:D5:B8:C8",
        .fp = "33:67:a1:82:4a:60:13:c0:2a:3e:25:bb:e4:da:86:33:87:fa:f1:34",
        .nb = "2011-05-04T00:00:00", .na = "2016-07-04T23:59:59", .chain = 3};
    check_expect(&e);
}

static void test_expired_cert(void **st)
{
    (void)st;
    expect e0 = {
        .pcap = "zeek-tls-expired-cert.pcap", .conn = 0, .version = "TLSv1",
        .ja3_hash = "bd9c99b3a0f752c3ab8b052a79e9de3e", .ja3_str = JA3_OPENSSL101,
        .ja3s_hash = "ae7ebaa87c327353949114a3b85f13cc", .ja3s_str = "769,57,65281-35",
        .subject = "OU=Domain Control Validated, OU=COMODO SSL, CN=www.spidh.org",
        .issuer = "C=GB, ST=Greater Manchester, L=Salford, O=COMODO CA Limited, "
                  "CN=COMODO SSL CA",
        .serial = "00:F2:8E:A8:4B:C0:3A:07:06:69:40:CE:EA:F6:1E:FE:FB",
        .fp = "ee:a2:68:a5:d1:79:f4:3c:30:ba:57:97:bf:3a:a9:c1:cc:d9:14:ee",
        .nb = "2013-02-04T00:00:00", .na = "2014-03-04T23:59:59", .chain = 2};
    check_expect(&e0);
    expect e1 = {
        .pcap = "zeek-tls-expired-cert.pcap", .conn = 1, .version = "TLSv1",
        .ja3_hash = "bd9c99b3a0f752c3ab8b052a79e9de3e",
        .ja3s_hash = "ab1e32eeaf70ee94c0af00f08d126891", .ja3s_str = "769,53,",
        .subject = "C=JP, ST=Tokyo, L=Sumida-ku, O=TOBU RAILWAY Co.,Ltd., "
                   "OU=Terms of use at www.verisign.com/rpa (c)05, CN=www.tobu-estate.com",
        .issuer = "C=US, O=VeriSign, Inc., OU=VeriSign Trust Network, "
                  "OU=Terms of use at https://www.verisign.com/rpa (c)10, "
                  "CN=VeriSign Class 3 Secure Server CA - G3",
        .serial = "3A:35:70:32:A2:CC:40:16:5C:91:90:2D:BC:86:30:69",
        .fp = "70:82:9f:77:ff:4b:6e:90:83:24:a3:f4:e1:94:0f:ce:6c:48:90:98",
        .nb = "2013-02-08T00:00:00", .na = "2014-03-14T23:59:59", .chain = 3};
    check_expect(&e1);
}

static void test_cert_no_cn(void **st)
{
    (void)st;
    expect e = {
        .pcap = "zeek-cert-no-cn.pcap", .conn = 0, .version = "TLSv1",
        .ja3_hash = "6eca5d94b8020b2a51d96384782083b9",
        .ja3s_hash = "ae7ebaa87c327353949114a3b85f13cc", .ja3s_str = "769,57,65281-35",
        .subject = "O=TestCorp", .issuer = "O=TestCorp",
        .serial = "00:FA:17:A6:14:05:9B:1E:F3",
        .fp = "36:ff:d6:dc:09:f1:57:8d:3a:97:8c:29:fe:ed:84:c4:25:f1:e9:d4",
        .nb = "2015-03-04T00:31:05", .na = "2016-03-03T00:31:05", .chain = 1};
    check_expect(&e);
}

static void test_selfsigned_null_linktype(void **st)
{
    (void)st;
    expect e = {
        .pcap = "ndpi-selfsigned.pcap", .conn = 0, .sni = "localhost", .version = "TLS 1.2",
        .ja3_hash = "2a26b1a62e40d25d4de3babc9d532f30",
        .ja3s_hash = "0debd3853f330c574b05e0b6d882dc27", .ja3s_str = "771,49200,65281-11",
        .subject = "C=IT, ST=Some-State, O=ntop.org", .issuer = "C=IT, ST=Some-State, O=ntop.org",
        .serial = "00:91:6A:4C:D1:67:87:16:02",
        .fp = "af:cc:98:49:f2:00:0e:05:21:18:6c:77:5f:2a:cf:10:44:6e:d8:8b",
        .nb = "2015-10-10T15:55:47", .na = "2016-10-09T15:55:47", .chain = 1};
    check_expect(&e);
}

static void test_tls13_draft28(void **st)
{
    (void)st;
    /* test.yaml: two tls events, sni localhost, version "TLS 1.3 draft-28" */
    expect e0 = {
        .pcap = "sv-tls13-draft28.pcap", .conn = 0, .sni = "localhost",
        .version = "TLS 1.3 draft-28", .ja3_hash = "43202faa1c8c1760d6f7f4bd9adde4ab",
        .ja3_str = "771,4866-4867-4865-4868-49196-52393-49325-49162-49195-49324-49161-"
                   "49200-52392-49172-49199-49171-157-49309-53-156-49308-47-159-52394-"
                   "49311-57-158-49310-51,5-10-11-13-22-23-35-51-43-65281-0-45,23,0",
        .ja3s_hash = "15af977ce25de452b96affa2addb1036", .ja3s_str = "771,4866,43-51"};
    check_expect(&e0);
    expect e1 = {
        .pcap = "sv-tls13-draft28.pcap", .conn = 1, .sni = "localhost",
        .version = "TLS 1.3 draft-28", .ja3_hash = "d00857e0c8e7a7f35e446508c6233460",
        .ja3_str = "771,4866-4867-4865-4868-49196-52393-49325-49162-49195-49324-49161-"
                   "49200-52392-49172-49199-49171-157-49309-53-156-49308-47-159-52394-"
                   "49311-57-158-49310-51,5-10-11-13-22-23-35-51-43-65281-0-45-41,23,0",
        .ja3s_hash = "2253c82f03b621c5144709b393fde2c9", .ja3s_str = "771,4866,43-51-41"};
    check_expect(&e1);
}

static void test_tls13_ech(void **st)
{
    (void)st;
    /* Connection 0 of the capture is a bare 3-packet TCP exchange; the two
     * handshakes are connections 1 and 2 (tshark's streams 1 and 2). */
    expect e1 = {
        .pcap = "zeek-tls13-ech.pcap", .conn = 1, .sni = "cloudflare-ech.com",
        .version = "TLS 1.3", .ja3_hash = "2fcbf8655473005933c5869b2b5d8044",
        .ja3_str = "771,4865-4866-4867-49195-49199-49196-49200-52393-52392-49171-49172-"
                   "156-157-47-53,65281-16-13-51-45-17513-35-43-10-65037-23-5-18-11-0-"
                   "27-21,29-23-24,0",
        .ja3s_hash = "f4febc55ea12b31ae17cfb7e614afda8", .ja3s_str = "771,4865,43-51"};
    check_expect(&e1);
    expect e2 = {
        .pcap = "zeek-tls13-ech.pcap", .conn = 2, .sni = "cloudflare-ech.com",
        .version = "TLS 1.3", .ja3_hash = "fa58f5ffd45a2d590a1677134966dc64",
        .ja3s_hash = "f4febc55ea12b31ae17cfb7e614afda8"};
    check_expect(&e2);
}

static void test_ja4(void **st)
{
    (void)st;
    expect e = {
        .pcap = "sv-ja4-tls.pcap", .conn = 0, .version = "TLS 1.2",
        .ja3_hash = "308b0bd904abbef5e0034a1ff7a78920",
        .ja3s_hash = "ccc514751b175866924439bdbb5bba34", .ja3s_str = "771,49199,65281-11-35",
        .ja4 = "t12i1810s1_27d4652c4487_06a4338d0495",
        /* The SELKS certificate: serial and issuerdn exactly as the
         * suricata-verify tls-cert-issuer test expects them. */
        .subject = "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS",
        .issuer = "C=FR, ST=IDF, L=Paris, O=Stamus, CN=SELKS",
        .serial = "00:97:E6:47:09:8E:EA:C9:B4",
        .fp = "3a:0b:3b:23:15:2c:44:5c:27:ac:6a:0c:41:d6:fa:74:af:b4:09:5b",
        .nb = "2015-02-12T18:07:27", .na = "2025-02-09T18:07:27", .chain = 1};
    check_expect(&e);
    stream s;
    load_stream("sv-ja4-tls.pcap", 0, &s);
    sw_tls_state *t = run(&s, FEED_SEGMENTS, NULL);
    assert_int_equal(sw_tls_alpn_count(t, 0), 2);
    assert_string_equal(sw_tls_alpn(t, 0, 0), "spdy/3.1");
    assert_string_equal(sw_tls_alpn(t, 0, 1), "http/1.1");
    assert_null(sw_tls_alpn(t, 0, 2));
    sw_tls_free(t);
    /* Switched off: no fingerprints at all. */
    sw_tls_config c;
    sw_tls_config_defaults(&c);
    c.ja3 = c.ja4 = false;
    t = sw_tls_new(&c, NULL);
    for (size_t i = 0; i < s.nch; i++)
        sw_tls_feed(t, s.ch[i].dir, s.data + s.ch[i].off, s.ch[i].len);
    assert_true(sw_tls_progress(t) & SW_TLS_SERVER_HELLO);
    assert_null(sw_tls_ja3_hash(t));
    assert_null(sw_tls_ja3s_hash(t));
    assert_null(sw_tls_ja4(t));
    sw_tls_free(t);
    free_stream(&s);
}

static void test_heartbleed_cleartext(void **st)
{
    (void)st;
    stream s;
    load_stream("zeek-heartbleed.pcap", 0, &s);
    for (int mode = FEED_SEGMENTS; mode <= FEED_BYTES; mode++) {
        uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
        sw_tls_state *t = run(&s, mode, ctr);
        assert_true(sw_tls_heartbeat_flags(t) & SW_TLS_HB_OVERFLOW);
        assert_false(sw_tls_heartbeat_flags(t) & SW_TLS_HB_ENCRYPTED);
        assert_true(sw_tls_events(t) & (1u << SW_TLS_EV_OVERFLOW_HEARTBEAT));
        assert_int_equal(ctr[SW_TLS_CTR_HEARTBEAT_OVERFLOW], 1);
        assert_string_equal(sw_tls_event_name(SW_TLS_EV_OVERFLOW_HEARTBEAT),
                            "tls.overflow_heartbeat_message");
        assert_string_equal(sw_tls_ja3_hash(t), "0fbff214b79f536d55d3d39fb31f4d8d");
        assert_string_equal(sw_tls_ja3s_hash(t), "a95ca7eab4d47d051a5cd4fb7b6005dc");
        sw_tls_free(t);
    }
    free_stream(&s);
}

static void test_heartbleed_encrypted(void **st)
{
    (void)st;
    stream s;
    load_stream("zeek-heartbleed-encrypted.pcap", 0, &s);
    for (int mode = FEED_SEGMENTS; mode <= FEED_BYTES; mode++) {
        uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
        sw_tls_state *t = run(&s, mode, ctr);
        assert_true(sw_tls_heartbeat_flags(t) & SW_TLS_HB_ENCRYPTED);
        assert_false(sw_tls_heartbeat_flags(t) & SW_TLS_HB_OVERFLOW);
        assert_int_equal(ctr[SW_TLS_CTR_HEARTBEAT_ENCRYPTED], 1);
        assert_string_equal(sw_tls_sni(t), "www.lilawelt.net");
        assert_string_equal(sw_tls_ja3_hash(t), "20c9baf81bfe96ff89722899e75d0190");
        assert_string_equal(sw_tls_ja3s_hash(t), "699a80bdb17efe157c861f92c5bf5d1d");
        assert_true(sw_tls_progress(t) & SW_TLS_HANDSHAKE_DONE);
        sw_tls_free(t);
    }
    free_stream(&s);
}

static void test_sslv2(void **st)
{
    (void)st;
    stream s;
    load_stream("zeek-ssl-v2.pcap", 0, &s);
    for (int mode = FEED_SEGMENTS; mode <= FEED_BYTES; mode++) {
        uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
        sw_tls_state *t = run(&s, mode, ctr);
        char vb[24];
        assert_true(sw_tls_progress(t) & SW_TLS_CLIENT_HELLO);
        assert_true(sw_tls_progress(t) & SW_TLS_SERVER_HELLO);
        assert_string_equal(sw_tls_version_str(t, vb, sizeof vb), "SSLv2");
        assert_int_equal(ctr[SW_TLS_CTR_SSLV2], 1);
        assert_int_equal(ctr[SW_TLS_CTR_INVALID_RECORD], 0);
        assert_true(sw_tls_record_count(t, 0) >= 3);
        sw_tls_free(t);
    }
    free_stream(&s);
}

static void test_malformed_der(void **st)
{
    (void)st;
    const char *f[] = {"sv-bug-1450-04-tls_DER-incomplete-header.pcap",
                       "sv-bug-1450-05-tls_DER-incomplete-content.pcap"};
    for (int i = 0; i < 2; i++) {
        stream s;
        load_stream(f[i], 0, &s);
        for (int mode = FEED_SEGMENTS; mode <= FEED_DIR_WHOLE; mode++) {
            uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
            sw_tls_state *t = run(&s, mode, ctr);
            assert_true(ctr[SW_TLS_CTR_CERT_PARSE_ERROR] >= 1);
            assert_true(sw_tls_events(t) & (1u << SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE));
            assert_null(sw_tls_cert_subject(t));
            sw_tls_free(t);
        }
        free_stream(&s);
    }
}

/* The first client record of zeek-tls1.2 (the ClientHello), cut at every
 * length, both as a stream prefix and as a complete record whose lengths
 * were patched to the cut (so the hello parser itself sees short data). */
static void test_truncated_client_hello(void **st)
{
    (void)st;
    stream s;
    load_stream("zeek-tls1.2.pcap", 0, &s);
    const uint8_t *rec = s.data + s.ch[0].off;
    assert_int_equal(s.ch[0].dir, 0);
    assert_int_equal(rec[0], 22);
    size_t rlen = (size_t)(rec[3] << 8 | rec[4]);
    assert_true(rlen + 5 <= s.ch[0].len);
    assert_int_equal(rec[5], 1);
    size_t malformed = 0;
    for (size_t cut = 0; cut <= rlen + 5; cut++) {
        uint8_t *b = malloc(cut ? cut : 1);
        memcpy(b, rec, cut);
        sw_tls_state *t = sw_tls_new(NULL, NULL);
        assert_int_equal(sw_tls_feed(t, 0, b, cut), 0);
        assert_int_equal(sw_tls_progress(t) & SW_TLS_CLIENT_HELLO,
                         cut == rlen + 5 ? SW_TLS_CLIENT_HELLO : 0);
        sw_tls_free(t);
        if (cut >= 9) {
            size_t body = cut - 9;
            b[3] = (uint8_t)((cut - 5) >> 8);
            b[4] = (uint8_t)(cut - 5);
            b[6] = (uint8_t)(body >> 16);
            b[7] = (uint8_t)(body >> 8);
            b[8] = (uint8_t)body;
            uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
            t = sw_tls_new(NULL, ctr);
            sw_tls_feed(t, 0, b, cut);
            malformed += ctr[SW_TLS_CTR_MALFORMED_HANDSHAKE];
            if (ctr[SW_TLS_CTR_MALFORMED_HANDSHAKE] == 0)
                assert_true(sw_tls_progress(t) & SW_TLS_CLIENT_HELLO);
            sw_tls_free(t);
        }
        free(b);
    }
    /* Nearly every cut inside the fixed fields or lists is malformed. */
    assert_true(malformed > rlen / 2);
    free_stream(&s);
}

/* The server's chain is kept for tls.certs in order, at most
 * SW_TLS_MAX_CERTS certificates (the rest counted), until dropped. */
static void test_chain_kept_for_tls_certs(void **st)
{
    (void)st;
    uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
    sw_tls_state *t = sw_tls_new(NULL, ctr);
    /* record | handshake type 11 | u24 len | u24 list len | 10 x (u24 len, "CERTn") */
    uint8_t rec[5 + 4 + 3 + 10 * 8];
    size_t list = 10 * 8, hs = 3 + list, n = 0;
    rec[n++] = 22, rec[n++] = 3, rec[n++] = 3;
    rec[n++] = (uint8_t)((4 + hs) >> 8), rec[n++] = (uint8_t)(4 + hs);
    rec[n++] = 11, rec[n++] = 0, rec[n++] = (uint8_t)(hs >> 8), rec[n++] = (uint8_t)hs;
    rec[n++] = 0, rec[n++] = (uint8_t)(list >> 8), rec[n++] = (uint8_t)list;
    for (int i = 0; i < 10; i++) {
        rec[n++] = 0, rec[n++] = 0, rec[n++] = 5;
        memcpy(rec + n, "CERT", 4);
        rec[n + 4] = (uint8_t)('0' + i);
        n += 5;
    }
    assert_int_equal(n, sizeof rec);
    assert_int_equal(sw_tls_feed(t, 1, rec, n), 0);
    const uint8_t *der[16];
    uint32_t len[16];
    assert_int_equal(sw_tls_certs(t, der, len, 16), SW_TLS_MAX_CERTS);
    for (int i = 0; i < SW_TLS_MAX_CERTS; i++) {
        assert_int_equal(len[i], 5);
        assert_memory_equal(der[i], "CERT", 4);
        assert_int_equal(der[i][4], '0' + i);
    }
    assert_int_equal(ctr[SW_TLS_CTR_CERTS_NOT_KEPT], 1);
    assert_int_equal(sw_tls_certs(t, der, len, 2), 2); /* the caller's bound */
    sw_tls_drop_certs(t);
    assert_int_equal(sw_tls_certs(t, der, len, 16), 0);
    sw_tls_free(t);
    /* a client certificate (mutual TLS) is not the server's chain */
    t = sw_tls_new(NULL, ctr);
    assert_int_equal(sw_tls_feed(t, 0, rec, n), 0);
    assert_int_equal(sw_tls_certs(t, der, len, 16), 0);
    sw_tls_free(t);
}

static void test_not_tls_and_oversized(void **st)
{
    (void)st;
    uint64_t ctr[SW_TLS_CTR_COUNT] = {0};
    sw_tls_state *t = sw_tls_new(NULL, ctr);
    const uint8_t http[] = "GET / HTTP/1.1\r\n";
    assert_int_equal(sw_tls_feed(t, 0, http, sizeof http - 1), -1);
    assert_true(sw_tls_events(t) & (1u << SW_TLS_EV_INVALID_TLS_HEADER));
    assert_int_equal(sw_tls_feed(t, 0, http, 1), -1);
    /* The other direction is independent: an oversized application-data
     * record is an anomaly but framing continues past it. */
    uint8_t big[5 + 20000];
    memset(big, 0x41, sizeof big);
    big[0] = 23;
    big[1] = 3;
    big[2] = 3;
    big[3] = (uint8_t)(20000 >> 8);
    big[4] = (uint8_t)(20000 & 0xff);
    assert_int_equal(sw_tls_feed(t, 1, big, sizeof big), 0);
    const uint8_t alert[] = {21, 3, 3, 0, 2, 2, 40};
    assert_int_equal(sw_tls_feed(t, 1, alert, sizeof alert), 0);
    assert_int_equal(ctr[SW_TLS_CTR_RECORD_TOO_LARGE], 1);
    assert_int_equal(sw_tls_record_count(t, 1), 2);
    assert_true(sw_tls_events(t) & (1u << SW_TLS_EV_ERROR_MESSAGE_ENCOUNTERED));
    sw_tls_free(t);
    /* A handshake message above max-handshake-size is skipped, counted. */
    sw_tls_config c;
    sw_tls_config_defaults(&c);
    c.max_handshake = 1024;
    memset(ctr, 0, sizeof ctr);
    t = sw_tls_new(&c, ctr);
    uint8_t hs[5 + 4 + 2000];
    memset(hs, 0, sizeof hs);
    hs[0] = 22;
    hs[1] = 3;
    hs[2] = 1;
    hs[3] = (uint8_t)(2004 >> 8);
    hs[4] = (uint8_t)(2004 & 0xff);
    hs[5] = 1;
    hs[7] = (uint8_t)(2000 >> 8);
    hs[8] = (uint8_t)(2000 & 0xff);
    assert_int_equal(sw_tls_feed(t, 0, hs, sizeof hs), 0);
    assert_int_equal(ctr[SW_TLS_CTR_HANDSHAKE_TOO_LARGE], 1);
    assert_false(sw_tls_progress(t) & SW_TLS_CLIENT_HELLO);
    sw_tls_free(t);
}

static void test_eve(void **st)
{
    (void)st;
    stream s;
    load_stream("ndpi-selfsigned.pcap", 0, &s);
    sw_tls_state *t = run(&s, FEED_SEGMENTS, NULL);
    sw_json j;
    swj_init(&j);
    swj_reset(&j);
    sw_eve_tls(&j, t);
    size_t n = swj_finish(&j);
    assert_true(n > 0);
    const char *want =
        "{\"tls\":{\"subject\":\"C=IT, ST=Some-State, O=ntop.org\","
        "\"issuerdn\":\"C=IT, ST=Some-State, O=ntop.org\","
        "\"serial\":\"00:91:6A:4C:D1:67:87:16:02\","
        "\"fingerprint\":\"af:cc:98:49:f2:00:0e:05:21:18:6c:77:5f:2a:cf:10:44:6e:d8:8b\","
        "\"sni\":\"localhost\",\"version\":\"TLS 1.2\","
        "\"notbefore\":\"2015-10-10T15:55:47\",\"notafter\":\"2016-10-09T15:55:47\","
        "\"ja3\":{\"hash\":\"2a26b1a62e40d25d4de3babc9d532f30\",\"string\":\"771,";
    assert_memory_equal(j.buf, want, strlen(want));
    assert_non_null(strstr(j.buf, "\"ja3s\":{\"hash\":\"0debd3853f330c574b05e0b6d882dc27\","
                                  "\"string\":\"771,49200,65281-11\"}"));
    assert_non_null(strstr(j.buf, "\"ja4\":\"t12d"));
    sw_tls_free(t);
    /* Before any server byte: the ClientHello's version (Suricata 8.0.3),
     * no cert fields. */
    t = sw_tls_new(NULL, NULL);
    sw_tls_feed(t, 0, s.data + s.ch[0].off, s.ch[0].len);
    swj_reset(&j);
    sw_eve_tls(&j, t);
    swj_finish(&j);
    assert_non_null(strstr(j.buf, "\"version\":\"TLS 1.2\""));
    assert_null(strstr(j.buf, "subject"));
    sw_tls_free(t);
    /* No hello at all: UNDETERMINED. */
    t = sw_tls_new(NULL, NULL);
    sw_tls_feed(t, 0, s.data + s.ch[0].off, 3);
    swj_reset(&j);
    sw_eve_tls(&j, t);
    swj_finish(&j);
    assert_non_null(strstr(j.buf, "\"version\":\"UNDETERMINED\""));
    assert_null(strstr(j.buf, "ja3s"));
    sw_tls_free(t);
    swj_free(&j);
    free_stream(&s);
}

/* sv-bug-5713-01: a TLSv1 ClientHello the server never answers; Suricata
 * 8.0.3 logs tls.version "TLSv1" (suricata-verify test.yaml). */
static void test_bug5713_client_only(void **st)
{
    (void)st;
    stream s;
    load_stream("sv-bug-5713-01-TLSv1-MaliciousC2.pcap", 0, &s);
    sw_tls_state *t = run(&s, FEED_SEGMENTS, NULL);
    assert_true(sw_tls_progress(t) & SW_TLS_CLIENT_HELLO);
    assert_int_equal(sw_tls_server_version(t), 0);
    assert_int_equal(sw_tls_client_version(t), 0x0301);
    char vb[24];
    assert_string_equal(sw_tls_version_str(t, vb, sizeof vb), "TLSv1");
    sw_tls_free(t);
    free_stream(&s);
}

static void test_version_names(void **st)
{
    (void)st;
    char b[24];
    assert_string_equal(sw_tls_version_name(0x0301, b, sizeof b), "TLSv1");
    assert_string_equal(sw_tls_version_name(0x0302, b, sizeof b), "TLS 1.1");
    assert_string_equal(sw_tls_version_name(0x0300, b, sizeof b), "SSLv3");
    assert_string_equal(sw_tls_version_name(0x7f17, b, sizeof b), "TLS 1.3 draft-23");
    assert_string_equal(sw_tls_version_name(0xfb1a, b, sizeof b), "TLS 1.3 draft-26-fb");
    assert_string_equal(sw_tls_version_name(0x1234, b, sizeof b), "0x1234");
}

static void test_config(void **st)
{
    (void)st;
    char err[256];
    sw_tls_config c;
    sw_tls_config_defaults(&c);
    assert_int_equal(c.max_record, 16384 + 2048);
    sw_cfg_node *root = sw_cfg_load_string(
        "app-layer:\n  protocols:\n    tls:\n      max-record-size: 32kb\n"
        "      max-handshake-size: 1mb\n      ja3-fingerprints: auto\n"
        "      ja4-fingerprints: no\n",
        err, sizeof err);
    assert_non_null(root);
    assert_int_equal(sw_tls_config_load(root, &c, err, sizeof err), 0);
    assert_int_equal(c.max_record, 32768);
    assert_int_equal(c.max_handshake, 1024 * 1024);
    assert_true(c.ja3);
    assert_false(c.ja4);
    sw_cfg_free(root);
    root = sw_cfg_load_string("app-layer:\n  protocols:\n    tls:\n      ja4-fingerprints: maybe\n",
                              err, sizeof err);
    assert_non_null(root);
    assert_int_equal(sw_tls_config_load(root, &c, err, sizeof err), -1);
    assert_non_null(strstr(err, "ja4-fingerprints"));
    sw_cfg_free(root);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tls12_cert),
        cmocka_unit_test(test_expired_cert),
        cmocka_unit_test(test_cert_no_cn),
        cmocka_unit_test(test_selfsigned_null_linktype),
        cmocka_unit_test(test_tls13_draft28),
        cmocka_unit_test(test_tls13_ech),
        cmocka_unit_test(test_ja4),
        cmocka_unit_test(test_heartbleed_cleartext),
        cmocka_unit_test(test_heartbleed_encrypted),
        cmocka_unit_test(test_sslv2),
        cmocka_unit_test(test_malformed_der),
        cmocka_unit_test(test_truncated_client_hello),
        cmocka_unit_test(test_not_tls_and_oversized),
        cmocka_unit_test(test_chain_kept_for_tls_certs),
        cmocka_unit_test(test_eve),
        cmocka_unit_test(test_bug5713_client_only),
        cmocka_unit_test(test_version_names),
        cmocka_unit_test(test_config),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
