/* TLS handshake decoder fed in random chunks in both directions, then the
 * EVE tls object and every accessor.
 * Input: [chunk seed][config bits][records...], a record being
 * [flags][u16 len][bytes]: bit 0 = direction, bit 1 = a gap. */
#include "decoders/tls.h"
#include "sensor/eve_tls.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_json_check.h"

static void str_ok(const char *s)
{
    if (s)
        FZ_CHECK(strlen(s) < 1u << 20);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_json js;
    static int ready;
    static uint64_t ctr[SW_TLS_CTR_COUNT];
    if (!ready) {
        swj_init(&js);
        ready = 1;
    }
    fz_cur c = fz_init(data, size);
    uint32_t seed = fz_u8(&c) | 0x100u;
    uint8_t bits = fz_u8(&c);
    sw_tls_config cfg;
    sw_tls_config_defaults(&cfg);
    if (bits & 1) {
        cfg.max_record = 512;
        cfg.max_handshake = 1024;
    }
    cfg.ja3 = !(bits & 2);
    cfg.ja4 = !(bits & 4);
    sw_tls_state *s = sw_tls_new(&cfg, ctr);
    if (!s)
        return 0;
    while (fz_left(&c) >= 3) {
        uint8_t flags = fz_u8(&c);
        uint16_t want = fz_u16(&c);
        int dir = flags & 1;
        if (flags & 2) {
            sw_tls_gap(s, dir);
            continue;
        }
        size_t n;
        const uint8_t *rec = fz_bytes(&c, want, &n);
        size_t off = 0;
        while (off < n) {
            size_t k = 1 + fz_rand(&seed) % ((seed & 0x300) ? 16 : 1500);
            if (k > n - off)
                k = n - off;
            uint8_t *chunk = malloc(k);
            memcpy(chunk, rec + off, k);
            int rc = sw_tls_feed(s, dir, chunk, k);
            FZ_CHECK(rc == 0 || rc == -1);
            free(chunk);
            off += k;
        }
    }
    str_ok(sw_tls_sni(s));
    str_ok(sw_tls_cert_subject(s));
    str_ok(sw_tls_cert_issuer(s));
    str_ok(sw_tls_cert_serial(s));
    str_ok(sw_tls_cert_fingerprint(s));
    str_ok(sw_tls_cert_notbefore(s));
    str_ok(sw_tls_cert_notafter(s));
    str_ok(sw_tls_ja3_string(s));
    str_ok(sw_tls_ja3s_string(s));
    const char *ja3 = sw_tls_ja3_hash(s);
    if (ja3)
        FZ_CHECK(strlen(ja3) == 32);
    const char *ja4 = sw_tls_ja4(s);
    if (ja4)
        FZ_CHECK(strlen(ja4) <= SW_TLS_JA4_LEN);
    char vb[32];
    FZ_CHECK(sw_tls_version_str(s, vb, sizeof vb) != NULL);
    for (int dir = 0; dir < 2; dir++) {
        size_t na = sw_tls_alpn_count(s, dir);
        FZ_CHECK(na <= SW_TLS_ALPN_MAX);
        for (size_t i = 0; i < na; i++)
            FZ_CHECK(strlen(sw_tls_alpn(s, dir, i)) <= SW_TLS_ALPN_LEN_MAX);
    }
    uint32_t ev = sw_tls_events(s);
    for (int i = 0; i < SW_TLS_EV_COUNT; i++)
        if (ev & (1u << i))
            FZ_CHECK(sw_tls_event_name(i) != NULL);
    swj_reset(&js);
    sw_eve_tls(&js, s);
    fz_check_line(&js, swj_finish(&js));
    sw_tls_free(s);
    return 0;
}
