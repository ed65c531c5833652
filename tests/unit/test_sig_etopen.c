/* The whole ET Open ruleset loads (>= 95%), compiles, and matches real
 * traffic shapes without crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/sig_engine.h"

#ifndef SW_SOURCE_DIR
#define SW_SOURCE_DIR "."
#endif

static char dir[1024];

static void t_load_all(void **st)
{
    (void)st;
    DIR *d = opendir(dir);
    assert_non_null(d);
    char *files[128];
    size_t n = 0;
    struct dirent *de;
    while ((de = readdir(d)) && n < 128) {
        size_t l = strlen(de->d_name);
        if (l > 6 && strcmp(de->d_name + l - 6, ".rules") == 0) {
            files[n] = malloc(strlen(dir) + l + 2);
            sprintf(files[n], "%s/%s", dir, de->d_name);
            n++;
        }
    }
    closedir(d);
    assert_true(n > 40);
    char cls[1100];
    snprintf(cls, sizeof(cls), "%s/classification.config", dir);
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    cfg.classification_file = cls;
    sw_sig_report *rep = calloc(1, sizeof(*rep));
    sw_sig_engine *e = sw_sig_engine_build(&cfg, (const char *const *)files, n, rep);
    assert_non_null(e);
    uint32_t total = rep->loaded + rep->skipped + rep->errors;
    printf("ET Open: loaded %u skipped %u errors %u (%.2f%%) parse %.0f ms compile %.0f ms\n",
           rep->loaded, rep->skipped, rep->errors, 100.0 * rep->loaded / total,
           rep->parse_us / 1000.0, rep->compile_us / 1000.0);
    for (uint32_t i = 0; i < rep->n_unsupported && i < 5; i++)
        printf("  unsupported %s: %u\n", rep->unsupported[i].keyword, rep->unsupported[i].count);
    assert_true(total > 20000);
    assert_true((uint64_t)rep->loaded * 100 >= (uint64_t)total * 95);
    assert_int_equal(rep->files_failed, 0);
    assert_true(rep->always_rules * 10 < rep->loaded); /* the prefilter carries the load */

    /* real-shaped inputs: the testmyids response, a DNS query, an HTTP request */
    sw_sig_thread *t = sw_sig_thread_new(e);
    assert_non_null(t);
    uint8_t a[4] = {192, 168, 1, 10}, b[4] = {203, 0, 113, 5};
    sw_detect_input in;
    memset(&in, 0, sizeof(in));
    in.ip_version = 4;
    in.src_ip = b;
    in.dst_ip = a;
    in.src_port = 80;
    in.dst_port = 51000;
    in.proto = IPPROTO_TCP;
    in.has_flow = true;
    in.established = true;
    in.to_server = false;
    const char *resp = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\nuid=0(root) gid=0(root) groups=0(root)\n";
    in.buf[SW_BUF_PAYLOAD].ptr = (const uint8_t *)resp;
    in.buf[SW_BUF_PAYLOAD].len = (uint32_t)strlen(resp);
    in.dsize = in.buf[SW_BUF_PAYLOAD].len;
    in.ts_us = 1700000000ull * 1000000u;
    sw_sig_flow fs = {0};
    sw_sig_alert al[32];
    int k = sw_sig_match(e, t, &in, &fs, al, 32);
    int found = 0;
    for (int i = 0; i < k; i++)
        found |= al[i].sid == 2100498;
    assert_true(found);

    memset(&in, 0, sizeof(in));
    in.ip_version = 4;
    in.src_ip = a;
    in.dst_ip = b;
    in.src_port = 51000;
    in.dst_port = 80;
    in.proto = IPPROTO_TCP;
    in.has_flow = in.established = in.to_server = true;
    in.app_proto = SW_APP_HTTP;
    const char *uri = "/wp-admin/admin-ajax.php?action=revslider_show_image&img=../wp-config.php";
    in.buf[SW_BUF_HTTP_URI].ptr = (const uint8_t *)uri;
    in.buf[SW_BUF_HTTP_URI].len = (uint32_t)strlen(uri);
    in.buf[SW_BUF_HTTP_METHOD].ptr = (const uint8_t *)"GET";
    in.buf[SW_BUF_HTTP_METHOD].len = 3;
    const char *ua = "Mozilla/5.0 zgrab/0.x";
    in.buf[SW_BUF_HTTP_USER_AGENT].ptr = (const uint8_t *)ua;
    in.buf[SW_BUF_HTTP_USER_AGENT].len = (uint32_t)strlen(ua);
    k = sw_sig_match(e, t, &in, &fs, al, 32);
    assert_true(k >= 0);
    for (int i = 0; i < k; i++)
        assert_true(al[i].sid > 0 && al[i].msg && al[i].category);

    memset(&in, 0, sizeof(in));
    in.ip_version = 4;
    in.src_ip = a;
    in.dst_ip = b;
    in.src_port = 53000;
    in.dst_port = 53;
    in.proto = IPPROTO_UDP;
    in.has_flow = in.to_server = true;
    in.app_proto = SW_APP_DNS;
    in.buf[SW_BUF_DNS_QUERY].ptr = (const uint8_t *)"api.ipify.org";
    in.buf[SW_BUF_DNS_QUERY].len = 13;
    k = sw_sig_match(e, t, &in, &fs, al, 32);
    found = 0;
    for (int i = 0; i < k; i++)
        found |= strstr(al[i].msg, "ipify") != NULL;
    assert_true(found);
    sw_sig_thread_free(t);
    sw_sig_engine_free(e);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(rep);
}

/* suricata-verify rule files the end-to-end tests will use */
static void t_sv_rules(void **st)
{
    (void)st;
    static const char *const names[] = {"dns/sv-dns-detect-query-02.test.rules",
                                        "http/sv-alert-testmyids.test.rules",
                                        "files/sv-bug-130.test.rules",
                                        "tls/sv-tls-certs-alert.test.rules"};
    static const uint32_t want[] = {2, 1, 3, 3};
    for (size_t i = 0; i < 4; i++) {
        char path[1200];
        snprintf(path, sizeof(path), "%s/../../pcaps/%s", dir, names[i]);
        const char *f[] = {path};
        sw_sig_report rep;
        sw_sig_engine *e = sw_sig_engine_build(NULL, f, 1, &rep);
        assert_non_null(e);
        assert_int_equal(rep.files_failed, 0);
        assert_int_equal(rep.errors, 0);
        assert_int_equal(rep.loaded, want[i]);
        sw_sig_engine_free(e);
    }
}

int main(void)
{
    const char *src = getenv("SW_SOURCE_DIR");
    snprintf(dir, sizeof(dir), "%s/../shared/rules/et-open", src ? src : SW_SOURCE_DIR);
    const struct CMUnitTest tests[] = {cmocka_unit_test(t_load_all), cmocka_unit_test(t_sv_rules)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
