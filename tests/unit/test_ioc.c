/* IoC lists: loading, normalisation and every matcher. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signatures/ioc.h"
#include "tests/unit/testutil.h"

/* Temp files live until the test process ends; paths are unique per call. */
static const char *write_tmp(const char *suffix, const char *content)
{
    static char paths[16][128];
    static int n;
    char *p = paths[n++ % 16];
    snprintf(p, 128, "/tmp/sw_test_ioc_%d_%d%s", (int)getpid(), n, suffix);
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs(content, f);
    fclose(f);
    return p;
}

static sw_ioc_db *load1(const char *path, sw_ioc_type t, sw_ioc_report *r)
{
    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    c.n_lists = 1;
    c.lists[0].path = path;
    c.lists[0].type = t;
    c.lists[0].name = "testlist";
    return sw_ioc_load(&c, r);
}

static bool dom(const sw_ioc_db *db, const char *n)
{
    return sw_ioc_match_domain(db, n, strlen(n), NULL);
}

static bool ip(const sw_ioc_db *db, const char *s, sw_ioc_hit *h)
{
    uint8_t a[16];
    if (inet_pton(AF_INET, s, a) == 1)
        return sw_ioc_match_ip(db, 4, a, h);
    assert_int_equal(inet_pton(AF_INET6, s, a), 1);
    return sw_ioc_match_ip(db, 6, a, h);
}

static void test_domain_suffix(void **st)
{
    (void)st;
    sw_ioc_report r;
    sw_ioc_db *db = load1(write_tmp(".txt", "# test domains\n"
                                            "evil.example\n"
                                            "\n"
                                            "Bad.Test.\n"
                                            "*.wild.example.net\n"
                                            "deep.sub.example.org   # inline comment\n"),
                          SW_IOC_DOMAIN, &r);
    assert_non_null(db);
    assert_int_equal(r.loaded, 4);
    assert_int_equal(r.skipped, 0);
    assert_true(dom(db, "evil.example"));
    assert_true(dom(db, "a.b.evil.example"));
    assert_true(dom(db, "EVIL.EXAMPLE."));
    assert_false(dom(db, "notevil.example"));
    assert_false(dom(db, "evil.example.com"));
    assert_false(dom(db, "example"));
    assert_true(dom(db, "bad.test"));
    assert_true(dom(db, "x.BAD.test"));
    assert_true(dom(db, "wild.example.net"));
    assert_true(dom(db, "a.wild.example.net"));
    assert_false(dom(db, "example.net"));
    assert_false(dom(db, "sub.example.org"));
    assert_true(dom(db, "x.deep.sub.example.org"));
    assert_false(dom(db, ""));
    assert_false(dom(db, "."));
    assert_false(dom(db, "evil.example.."));

    /* the most specific listed name is reported, as written */
    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "www.bad.test", 12, &h));
    assert_string_equal(h.type, "domain");
    assert_string_equal(h.value, "Bad.Test.");
    assert_string_equal(h.list, "testlist");
    assert_null(h.source);
    assert_int_equal(h.severity, 2);

    /* length is honoured: no reading past len */
    assert_true(sw_ioc_match_domain(db, "evil.exampleXYZ", 12, NULL));
    assert_false(sw_ioc_match_domain(db, "evil.exampleXYZ", 11, NULL));

    /* names longer than 253 bytes still match on their tail */
    char longn[600];
    memset(longn, 'a', sizeof(longn));
    for (size_t i = 50; i < 580; i += 50)
        longn[i] = '.';
    strcpy(longn + 580, ".evil.example");
    assert_true(dom(db, longn));
    sw_ioc_free(db);
}

static void test_domain_most_specific(void **st)
{
    (void)st;
    sw_ioc_report r;
    const char *p = write_tmp(".csv", "value,severity\n"
                                      "example.com,3\n"
                                      "c2.example.com,1\n");
    sw_ioc_db *db = load1(p, SW_IOC_DOMAIN, &r);
    assert_non_null(db);
    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "x.c2.example.com", 16, &h));
    assert_string_equal(h.value, "c2.example.com");
    assert_int_equal(h.severity, 1);
    assert_true(sw_ioc_match_domain(db, "www.example.com", 15, &h));
    assert_string_equal(h.value, "example.com");
    assert_int_equal(h.severity, 3);
    sw_ioc_free(db);
}

static void test_cidr(void **st)
{
    (void)st;
    sw_ioc_report r;
    sw_ioc_db *db = load1(write_tmp(".txt", "10.0.0.0/8\n"
                                            "10.1.0.0/16\n"
                                            "10.1.2.3\n"
                                            "192.0.2.77/32\n"
                                            "198.51.100.130/25\n" /* host bits: masked */
                                            "2001:db8::/32\n"
                                            "2001:db8:1::/48\n"
                                            "2001:db8:1::1/128\n"
                                            "fe80::1\n"),
                          SW_IOC_IP, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(r.loaded, 9);
    sw_ioc_hit h;
    assert_true(ip(db, "10.1.2.3", &h));
    assert_string_equal(h.value, "10.1.2.3");
    assert_string_equal(h.type, "ip");
    assert_true(ip(db, "10.1.2.4", &h));
    assert_string_equal(h.value, "10.1.0.0/16");
    assert_true(ip(db, "10.200.0.1", &h));
    assert_string_equal(h.value, "10.0.0.0/8");
    assert_false(ip(db, "11.0.0.0", NULL));
    assert_false(ip(db, "9.255.255.255", NULL));
    assert_true(ip(db, "192.0.2.77", NULL));
    assert_false(ip(db, "192.0.2.76", NULL));
    assert_true(ip(db, "198.51.100.128", &h));
    assert_string_equal(h.value, "198.51.100.130/25");
    assert_true(ip(db, "198.51.100.255", NULL));
    assert_false(ip(db, "198.51.100.127", NULL));
    assert_true(ip(db, "2001:db8:1::1", &h));
    assert_string_equal(h.value, "2001:db8:1::1/128");
    assert_true(ip(db, "2001:db8:1::2", &h));
    assert_string_equal(h.value, "2001:db8:1::/48");
    assert_true(ip(db, "2001:db8:ffff::2", &h));
    assert_string_equal(h.value, "2001:db8::/32");
    assert_false(ip(db, "2001:db9::1", NULL));
    assert_true(ip(db, "fe80::1", NULL));
    assert_false(ip(db, "fe80::2", NULL));
    /* IPv4-mapped IPv6 falls back to the v4 prefixes */
    assert_true(ip(db, "::ffff:10.9.9.9", &h));
    assert_string_equal(h.value, "10.0.0.0/8");
    assert_false(sw_ioc_match_ip(db, 5, (const uint8_t *)"\0\0\0\0", NULL));
    sw_ioc_free(db);

    /* /0 matches everything of its family, and only that family */
    db = load1(write_tmp(".txt", "0.0.0.0/0\n"), SW_IOC_IP, &r);
    assert_non_null(db);
    assert_true(ip(db, "255.255.255.255", NULL));
    assert_true(ip(db, "0.0.0.0", NULL));
    assert_false(ip(db, "2001:db8::1", NULL));
    sw_ioc_free(db);
    db = load1(write_tmp(".txt", "::/0\n2001:db8::5/127\n"), SW_IOC_IP, &r);
    assert_non_null(db);
    assert_true(ip(db, "2001:db8::4", &h));
    assert_string_equal(h.value, "2001:db8::5/127");
    assert_true(ip(db, "::1", &h));
    assert_string_equal(h.value, "::/0");
    assert_false(ip(db, "1.2.3.4", NULL));
    sw_ioc_free(db);
}

static void test_url(void **st)
{
    (void)st;
    sw_ioc_report r;
    sw_ioc_db *db = load1(write_tmp(".txt", "HTTP://Malware.Example/Gate.php\n"
                                            "https://cdn.example.net:443/a/b?id=7\n"
                                            "http://x.example:8080/p\n"
                                            "hxxp://defanged[.]example/drop.exe\n"
                                            "host-only.example/\n"),
                          SW_IOC_URL, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(r.loaded, 5);
    sw_ioc_hit h;
#define U(host, path) sw_ioc_match_url(db, host, strlen(host), path, strlen(path), &h)
    assert_true(U("malware.example", "/Gate.php"));
    assert_string_equal(h.type, "url");
    assert_string_equal(h.value, "HTTP://Malware.Example/Gate.php");
    assert_true(U("MALWARE.example:80", "/Gate.php?x=1")); /* listed without query */
    assert_false(U("malware.example", "/gate.php"));       /* path is case-sensitive */
    assert_false(U("malware.example", "/Gate.php/x"));
    assert_true(U("cdn.example.net", "/a/b?id=7"));
    assert_false(U("cdn.example.net", "/a/b?id=8"));
    assert_false(U("cdn.example.net", "/a/b"));
    assert_true(U("x.example", "/p"));
    assert_true(U("defanged.example", "/drop.exe"));
    assert_true(U("host-only.example", "/"));
    assert_true(U("host-only.example", ""));
    assert_true(U("ignored", "http://Malware.example/Gate.php"));
#undef U
    sw_ioc_free(db);
}

static void test_fingerprints_and_hashes(void **st)
{
    (void)st;
    sw_ioc_report r;
    /* JA3 of the client hello in ndpi-selfsigned.pcap (tshark
     * tls.handshake.ja3); JA4 from suricata-verify's ja4-tls test.yaml. */
    const char *csv = "type,indicator\n"
                      "ja3,2A26B1A62E40D25D4DE3BABC9D532F30\n"
                      "ja3s,f4febc55ea12b31ae17cfb7e614afda8\n"
                      "ja4,t12i1810s1_27d4652c4487_06a4338d0495\n"
                      "md5,44d88612fea8a8f36de82e1278abb02f\n"
                      "sha1,3395856ce81f2b7382dee72602f798b642f14140\n"
                      "sha256,275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\n";
    sw_ioc_db *db = load1(write_tmp(".csv", csv), SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(r.loaded, 6);
    sw_ioc_hit h;
    assert_true(sw_ioc_match_tls_fp(db, SW_IOC_JA3, "2a26b1a62e40d25d4de3babc9d532f30", &h));
    assert_string_equal(h.type, "ja3");
    /* a JA3 list entry is not a JA3S nor an MD5 file hash */
    assert_false(sw_ioc_match_tls_fp(db, SW_IOC_JA3S, "2a26b1a62e40d25d4de3babc9d532f30", NULL));
    assert_false(sw_ioc_match_file_hash(db, SW_IOC_MD5, "2a26b1a62e40d25d4de3babc9d532f30", NULL));
    assert_true(sw_ioc_match_tls_fp(db, SW_IOC_JA3S, "F4FEBC55EA12B31AE17CFB7E614AFDA8", &h));
    assert_string_equal(h.type, "ja3s");
    assert_true(sw_ioc_match_tls_fp(db, SW_IOC_JA4, "t12i1810s1_27d4652c4487_06a4338d0495", &h));
    assert_string_equal(h.type, "ja4");
    assert_false(sw_ioc_match_tls_fp(db, SW_IOC_JA4, "t13i1810s1_27d4652c4487_06a4338d0495", NULL));
    assert_false(sw_ioc_match_tls_fp(db, SW_IOC_MD5, "44d88612fea8a8f36de82e1278abb02f", NULL));
    assert_true(sw_ioc_match_file_hash(db, SW_IOC_MD5, "44D88612FEA8A8F36DE82E1278ABB02F", &h));
    assert_string_equal(h.type, "md5");
    assert_true(sw_ioc_match_file_hash(db, SW_IOC_SHA1, "3395856ce81f2b7382dee72602f798b642f14140", &h));
    assert_string_equal(h.type, "sha1");
    assert_true(sw_ioc_match_file_hash(
        db, SW_IOC_SHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", &h));
    assert_string_equal(h.type, "sha256");
    assert_false(sw_ioc_match_file_hash(
        db, SW_IOC_SHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0e", NULL));
    assert_false(sw_ioc_match_file_hash(db, SW_IOC_SHA1, "", NULL));
    sw_ioc_free(db);
}

static void test_autodetect(void **st)
{
    (void)st;
    sw_ioc_report r;
    sw_ioc_db *db = load1(write_tmp(".txt", "evil.example\n"
                                            "203.0.113.9\n"
                                            "2001:db8::/32\n"
                                            "http://evil.example/x\n"
                                            "malware.example/gate.php\n"
                                            "44d88612fea8a8f36de82e1278abb02f\n"
                                            "3395856ce81f2b7382dee72602f798b642f14140\n"
                                            "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f\n"
                                            "t13d1516h2_8daaf6152771_b186095e22b6\n"
                                            "localhost\n"       /* no dot: not a domain in auto */
                                            "1.2.3\n"),         /* numeric: not a name */
                          SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.by_type[SW_IOC_DOMAIN], 1);
    assert_int_equal(r.by_type[SW_IOC_IP], 2);
    assert_int_equal(r.by_type[SW_IOC_URL], 2);
    assert_int_equal(r.by_type[SW_IOC_MD5], 1);
    assert_int_equal(r.by_type[SW_IOC_SHA1], 1);
    assert_int_equal(r.by_type[SW_IOC_SHA256], 1);
    assert_int_equal(r.by_type[SW_IOC_JA4], 1);
    assert_int_equal(r.loaded, 9);
    assert_int_equal(r.skipped, 2);
    assert_true(strstr(r.errors[0], ":10: unrecognised indicator") != NULL);
    assert_true(strstr(r.errors[1], ":11: ") != NULL);
    assert_true(sw_ioc_match_url(db, "malware.example", 15, "/gate.php", 9, NULL));
    assert_true(sw_ioc_match_tls_fp(db, SW_IOC_JA4, "t13d1516h2_8daaf6152771_b186095e22b6", NULL));
    sw_ioc_free(db);
}

static void test_csv_columns_any_order(void **st)
{
    (void)st;
    sw_ioc_report r;
    const char *p = write_tmp(".csv", "\xef\xbb\xbf" /* BOM */
                                      "Source,Severity,Comment,Type,Indicator,List\n"
                                      "abuse-feed,1,\"botnet, C2\",domain,c2.example.org,c2\n"
                                      "\"abuse-feed\",low,,ip,198.51.100.0/24,\n"
                                      "\"vendor \"\"x\"\"\",,,sha256,"
                                      "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F,hashes\n");
    sw_ioc_db *db = load1(p, SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(r.loaded, 3);
    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "www.c2.example.org", 18, &h));
    assert_string_equal(h.list, "c2");
    assert_string_equal(h.source, "abuse-feed");
    assert_int_equal(h.severity, 1);
    assert_true(ip(db, "198.51.100.200", &h));
    assert_string_equal(h.list, "testlist"); /* empty list column -> config name */
    assert_string_equal(h.source, "abuse-feed");
    assert_int_equal(h.severity, 3);
    assert_true(sw_ioc_match_file_hash(
        db, SW_IOC_SHA256, "275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f", &h));
    assert_string_equal(h.source, "vendor \"x\"");
    assert_string_equal(h.list, "hashes");
    assert_string_equal(h.value, "275A021BBFB6489E54D471899F7DB9D1663FC695EC2FE2A2C4538AABF651FD0F");
    assert_int_equal(h.severity, 2);
    /* interned names are not indicators */
    assert_int_equal(sw_ioc_count(db), 3);
    sw_ioc_free(db);
}

static void test_malformed_lines(void **st)
{
    (void)st;
    sw_ioc_report r;
    const char *p = write_tmp(".csv", "indicator,type,severity\n"
                                      "good.example,domain,2\n"
                                      "bad..example,domain,2\n"     /* 3 */
                                      "10.0.0.0/33,ip,1\n"          /* 4 */
                                      "abc,md5,1\n"                 /* 5 */
                                      "x.example,weird,1\n"         /* 6 */
                                      "y.example,domain,9\n"        /* 7 */
                                      "\"unterminated,domain,1\n"   /* 8 */
                                      ",domain,1\n"                 /* 9 */
                                      "good.example,domain,1\n"     /* duplicate */
                                      "ok.example\n");
    sw_ioc_db *db = load1(p, SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.loaded, 2);
    assert_int_equal(r.duplicates, 1);
    assert_int_equal(r.skipped, 7);
    assert_int_equal(r.n_errors, 7);
    const char *want[] = {":3: invalid domain", ":4: invalid IP", ":5: invalid MD5",
                          ":6: unknown indicator type", ":7: bad severity", ":8: bad CSV quoting",
                          ":9: missing indicator"};
    for (size_t i = 0; i < 7; i++) {
        assert_true(strncmp(r.errors[i], p, strlen(p)) == 0);
        if (!strstr(r.errors[i], want[i]))
            fail_msg("error %zu: '%s' lacks '%s'", i, r.errors[i], want[i]);
    }
    /* first occurrence wins on duplicates */
    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "good.example", 12, &h));
    assert_int_equal(h.severity, 2);
    sw_ioc_free(db);

    /* the kept messages are bounded, the count is not */
    char big[64 * 1024] = "";
    for (int i = 0; i < 100; i++)
        strcat(big, "not a domain\n");
    db = load1(write_tmp(".txt", big), SW_IOC_DOMAIN, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 100);
    assert_int_equal(r.n_errors, SW_IOC_MAX_ERRORS);
    assert_true(strstr(r.errors[SW_IOC_MAX_ERRORS - 1], ":32: whitespace") != NULL);
    sw_ioc_free(db);

    /* a CSV without a usable header is one malformed line, no indicators */
    db = load1(write_tmp(".csv", "foo,bar\nevil.example,1\n"), SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 1);
    assert_int_equal(r.loaded, 0);
    assert_true(strstr(r.errors[0], ":1: CSV header") != NULL);
    sw_ioc_free(db);

    /* a list typed "ip" rejects a domain */
    db = load1(write_tmp(".txt", "evil.example\n"), SW_IOC_IP, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 1);
    sw_ioc_free(db);
}

static void test_empty_and_missing(void **st)
{
    (void)st;
    sw_ioc_report r;
    sw_ioc_db *db = load1(write_tmp(".txt", "# nothing yet\n\n"), SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.loaded, 0);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(r.files, 1);
    assert_int_equal(r.n_errors, 1);
    assert_non_null(strstr(r.errors[0], "no indicators"));
    assert_false(dom(db, "anything.example"));
    assert_false(ip(db, "1.2.3.4", NULL));
    sw_ioc_free(db);

    db = load1("/nonexistent/dir/list.txt", SW_IOC_AUTO, &r);
    assert_null(db);
    assert_non_null(strstr(r.fatal, "/nonexistent/dir/list.txt"));
    assert_non_null(strstr(r.fatal, "No such file"));

    /* no lists at all: an empty, usable database */
    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    db = sw_ioc_load(&c, &r);
    assert_non_null(db);
    assert_int_equal(sw_ioc_count(db), 0);
    assert_false(sw_ioc_match_url(db, "a", 1, "/", 1, NULL));
    sw_ioc_free(db);
}

static void test_many_lists_severity(void **st)
{
    (void)st;
    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    c.default_severity = 3;
    c.n_lists = 2;
    c.lists[0].path = write_tmp(".txt", "one.example\n");
    c.lists[1].path = write_tmp(".lst", "two.example\n");
    c.lists[1].severity = 1;
    c.lists[1].name = "high";
    sw_ioc_report r;
    sw_ioc_db *db = sw_ioc_load(&c, &r);
    assert_non_null(db);
    assert_int_equal(r.files, 2);
    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "one.example", 11, &h));
    assert_int_equal(h.severity, 3);
    assert_non_null(strstr(c.lists[0].path, h.list)); /* default name: file name */
    assert_true(sw_ioc_match_domain(db, "two.example", 11, &h));
    assert_int_equal(h.severity, 1);
    assert_string_equal(h.list, "high");
    sw_ioc_free(db);
}

static void test_100k(void **st)
{
    (void)st;
    char path[64];
    snprintf(path, sizeof(path), "/tmp/sw_test_ioc_big_%d.txt", (int)getpid());
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    for (int i = 0; i < 100000; i++) {
        if (i % 10 == 0)
            fprintf(f, "10.%d.%d.0/24\n", (i / 256) % 256, i % 256);
        else
            fprintf(f, "host%d.bad%d.example\n", i, i % 977);
    }
    fclose(f);
    sw_ioc_report r;
    sw_ioc_db *db = load1(path, SW_IOC_AUTO, &r);
    unlink(path);
    assert_non_null(db);
    assert_int_equal(r.skipped, 0);
    assert_int_equal(r.loaded + r.duplicates, 100000);
    assert_int_equal(r.by_type[SW_IOC_DOMAIN], 90000);
    for (int i = 1; i < 100000; i += 7919) {
        char n[64];
        if (i % 10 == 0)
            continue;
        snprintf(n, sizeof(n), "www.host%d.bad%d.example", i, i % 977);
        assert_true(dom(db, n));
        snprintf(n, sizeof(n), "host%d.bad%d.example", i + 100000, i % 977);
        assert_false(dom(db, n));
    }
    assert_true(ip(db, "10.3.232.77", NULL)); /* i = 1000 -> 10.3.232.0/24 */
    assert_false(ip(db, "11.3.232.77", NULL));
    assert_true(sw_ioc_memuse(db) < 20u * 1024 * 1024);
    sw_ioc_free(db);
}

static void test_eve(void **st)
{
    (void)st;
    sw_ioc_report r;
    sw_ioc_db *db = load1(write_tmp(".txt", "\"q\".example\n"), SW_IOC_AUTO, &r);
    assert_non_null(db);
    assert_int_equal(r.skipped, 1); /* quotes are not DNS characters */
    sw_ioc_free(db);
    db = load1(write_tmp(".txt", "Evil.Example\n"), SW_IOC_AUTO, &r);
    sw_ioc_hit h;
    assert_true(sw_ioc_match_domain(db, "a.evil.example", 14, &h));
    sw_json j;
    swj_init(&j);
    swj_reset(&j);
    swj_str(&j, "event_type", "alert");
    sw_eve_ioc(&j, &h);
    size_t n = swj_finish(&j);
    assert_true(n > 0);
    assert_string_equal(j.buf, "{\"event_type\":\"alert\",\"ioc\":{\"type\":\"domain\","
                               "\"value\":\"Evil.Example\",\"list\":\"testlist\"}}\n");
    swj_free(&j);
    sw_ioc_free(db);
}

static void test_config(void **st)
{
    (void)st;
    char err[256] = "";
    const char *y = "ioc:\n"
                    "  default-severity: 1\n"
                    "  lists:\n"
                    "    - path: /etc/spanwatch/ioc/domains.txt\n"
                    "      type: domain\n"
                    "      name: c2-domains\n"
                    "      severity: 3\n"
                    "    - path: /etc/spanwatch/ioc/feed.csv\n"
                    "      format: csv\n"
                    "    - /etc/spanwatch/ioc/plain.txt\n";
    sw_cfg_node *root = sw_cfg_load_string(y, err, sizeof(err));
    assert_non_null(root);
    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    assert_int_equal(sw_ioc_config_load(root, &c, err, sizeof(err)), 0);
    assert_true(c.enabled);
    assert_int_equal(c.default_severity, 1);
    assert_int_equal(c.n_lists, 3);
    assert_string_equal(c.lists[0].path, "/etc/spanwatch/ioc/domains.txt");
    assert_int_equal(c.lists[0].type, SW_IOC_DOMAIN);
    assert_string_equal(c.lists[0].name, "c2-domains");
    assert_int_equal(c.lists[0].severity, 3);
    assert_int_equal(c.lists[1].format, SW_IOC_FMT_CSV);
    assert_int_equal(c.lists[1].type, SW_IOC_AUTO);
    assert_string_equal(c.lists[2].path, "/etc/spanwatch/ioc/plain.txt");
    sw_cfg_free(root);

    root = sw_cfg_load_string("ioc:\n  lists:\n    - path: x\n      type: bogus\n", err, sizeof(err));
    assert_non_null(root);
    sw_ioc_config_defaults(&c);
    assert_int_equal(sw_ioc_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ioc.lists[0].type"));
    sw_cfg_free(root);

    root = sw_cfg_load_string("ioc:\n  default-severity: 7\n", err, sizeof(err));
    sw_ioc_config_defaults(&c);
    assert_int_equal(sw_ioc_config_load(root, &c, err, sizeof(err)), -1);
    assert_non_null(strstr(err, "ioc.default-severity"));
    sw_cfg_free(root);

    assert_string_equal(sw_ioc_counter_names[SW_IOC_CTR_HITS], "spanwatch.ioc.hits");
}

static void test_sample_lists(void **st)
{
    (void)st;
    /* The shipped examples must load without a single malformed line. */
    const char *src = tu_srcdir();
    char p[3][512];
    snprintf(p[0], sizeof(p[0]), "%s/signatures/ioc/example-domains.txt", src);
    snprintf(p[1], sizeof(p[1]), "%s/signatures/ioc/example-ips.txt", src);
    snprintf(p[2], sizeof(p[2]), "%s/signatures/ioc/example-feed.csv", src);
    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    c.n_lists = 3;
    for (int i = 0; i < 3; i++)
        c.lists[i].path = p[i];
    sw_ioc_report r;
    sw_ioc_db *db = sw_ioc_load(&c, &r);
    if (!db)
        fail_msg("%s", r.fatal);
    if (r.skipped)
        fail_msg("%s", r.errors[0]);
    assert_true(r.loaded >= 10);
    assert_true(dom(db, "www.malware.testing.google.test"));
    assert_true(ip(db, "192.0.2.1", NULL));
    sw_ioc_free(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_domain_suffix),
        cmocka_unit_test(test_domain_most_specific),
        cmocka_unit_test(test_cidr),
        cmocka_unit_test(test_url),
        cmocka_unit_test(test_fingerprints_and_hashes),
        cmocka_unit_test(test_autodetect),
        cmocka_unit_test(test_csv_columns_any_order),
        cmocka_unit_test(test_malformed_lines),
        cmocka_unit_test(test_empty_and_missing),
        cmocka_unit_test(test_many_lists_severity),
        cmocka_unit_test(test_100k),
        cmocka_unit_test(test_eve),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_sample_lists),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
