/* EVE "tls" object: field order follows Suricata's extended TLS logger. */
#include "sensor/eve_tls.h"

static void opt_str(sw_json *j, const char *key, const char *v)
{
    if (v)
        swj_str(j, key, v);
}

static void fp_object(sw_json *j, const char *key, const char *hash, const char *str)
{
    if (!hash || !str)
        return;
    swj_open_object(j, key);
    swj_str(j, "hash", hash);
    swj_str(j, "string", str);
    swj_close_object(j);
}

static void alpns(sw_json *j, const char *key, const sw_tls_state *s, int dir)
{
    size_t n = sw_tls_alpn_count(s, dir);
    if (n == 0)
        return;
    swj_open_array(j, key);
    for (size_t i = 0; i < n; i++)
        swj_str(j, NULL, sw_tls_alpn(s, dir, i));
    swj_close_array(j);
}

/* Suricata's schema takes years 1000-2999 only; a certificate valid "for
 * ever" (9999-12-31) would make the event invalid for SIEM parsers that
 * validate, so such a date is left out rather than bent. */
static void opt_date(sw_json *j, const char *key, const char *v)
{
    if (v && (v[0] == '1' || v[0] == '2'))
        opt_str(j, key, v);
}

void sw_eve_tls(sw_json *j, const sw_tls_state *s)
{
    char vbuf[24];
    swj_open_object(j, "tls");
    opt_str(j, "subject", sw_tls_cert_subject(s));
    opt_str(j, "issuerdn", sw_tls_cert_issuer(s));
    if (sw_tls_session_resumed(s))
        swj_bool(j, "session_resumed", true);
    opt_str(j, "serial", sw_tls_cert_serial(s));
    opt_str(j, "fingerprint", sw_tls_cert_fingerprint(s));
    opt_str(j, "sni", sw_tls_sni(s));
    swj_str(j, "version", sw_tls_version_str(s, vbuf, sizeof vbuf));
    opt_date(j, "notbefore", sw_tls_cert_notbefore(s));
    opt_date(j, "notafter", sw_tls_cert_notafter(s));
    fp_object(j, "ja3", sw_tls_ja3_hash(s), sw_tls_ja3_string(s));
    fp_object(j, "ja3s", sw_tls_ja3s_hash(s), sw_tls_ja3s_string(s));
    opt_str(j, "ja4", sw_tls_ja4(s));
    alpns(j, "client_alpns", s, 0);
    alpns(j, "server_alpns", s, 1);
    swj_close_object(j);
}
