/* TLS/SSL handshake decoder: see tls.h for the model. */
#include "decoders/tls.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/evp.h>
#include <openssl/objects.h>
#include <openssl/x509.h>

#define SW_TLS_CTR_NAME_(id, path) path,
const char *const sw_tls_counter_names[SW_TLS_CTR_COUNT] = {
    SW_TLS_COUNTERS(SW_TLS_CTR_NAME_)};
#undef SW_TLS_CTR_NAME_

#define SW_TLS_EV_NAME_(id, name) name,
static const char *const sw_tls_event_names[SW_TLS_EV_COUNT] = {
    SW_TLS_EVENTS(SW_TLS_EV_NAME_)};
#undef SW_TLS_EV_NAME_

enum {
    CT_CCS = 20,
    CT_ALERT = 21,
    CT_HANDSHAKE = 22,
    CT_APPDATA = 23,
    CT_HEARTBEAT = 24,
};
enum { HS_CLIENT_HELLO = 1, HS_SERVER_HELLO = 2, HS_CERTIFICATE = 11 };

/* How the direction frames its records. */
enum { FR_UNKNOWN = 0, FR_V3, FR_V2, FR_DEAD };

typedef struct tls_dir {
    int framing;
    bool encrypted;
    uint64_t records;

    /* record layer */
    uint8_t rhdr[5];
    uint8_t rhdr_got, rhdr_need;
    bool in_record;
    uint8_t rtype;
    uint32_t rlen, rgot;
    uint8_t hb[3];
    uint8_t hb_got;
    bool v2_first_msg; /* SSLv2 record whose message we parse */

    /* handshake layer: a byte stream made of cleartext handshake records */
    uint8_t hhdr[4];
    uint8_t hhdr_got;
    bool in_msg;
    uint8_t htype;
    uint32_t hlen, hgot;
    bool hkeep;
    uint8_t *hbuf;
    size_t hcap;
} tls_dir;

typedef struct alpn_list {
    uint8_t n;
    char v[SW_TLS_ALPN_MAX][SW_TLS_ALPN_LEN_MAX + 1];
} alpn_list;

struct sw_tls_state {
    sw_tls_config cfg;
    uint64_t *ctr;
    tls_dir d[2];
    uint32_t progress;
    uint32_t hb_flags;
    uint32_t events;
    bool app_data_seen;
    bool hb_inflight;
    uint32_t hb_req_len;
    bool session_resumed;

    /* client */
    uint16_t ch_version;
    bool ch_sni_seen;
    char sni[SW_TLS_SNI_MAX + 1];
    uint8_t ch_sid_len;
    uint8_t ch_sid[32];
    alpn_list alpn[2];
    char ja3_str[SW_TLS_JA3_STR_MAX];
    char ja3_hash[33];
    char ja4[48]; /* 36 used; room for what the compiler cannot prove */

    /* server */
    uint16_t sh_legacy_version;
    uint16_t server_version; /* selected; 0 = none yet */
    uint16_t sh_cipher;
    char ja3s_str[512];
    char ja3s_hash[33];

    /* certificate */
    unsigned chain_len;
    /* The server's chain as sent (the certificate_list), kept for tls.certs
     * rules until the sensor drops it after detection; cert_off/cert_len
     * index the certificates in it. */
    uint8_t *chain;
    uint8_t n_certs;
    uint32_t cert_off[SW_TLS_MAX_CERTS], cert_len[SW_TLS_MAX_CERTS];
    char subject[SW_TLS_DN_MAX];
    char issuer[SW_TLS_DN_MAX];
    char serial[3 * 64];
    char fingerprint[60];
    char notbefore[24], notafter[24];
    int64_t notbefore_epoch, notafter_epoch;
};

static void ctr_inc(sw_tls_state *s, int id)
{
    if (s->ctr)
        SW_CTR_INC(s->ctr, id);
}

static void set_event(sw_tls_state *s, int ev)
{
    s->events |= 1u << ev;
}

const char *sw_tls_event_name(int ev)
{
    return ev >= 0 && ev < SW_TLS_EV_COUNT ? sw_tls_event_names[ev] : NULL;
}

/* ------------------------------------------------------------------ */
/* config */

void sw_tls_config_defaults(sw_tls_config *c)
{
    c->max_record = SW_TLS_MAX_RECORD_DEFAULT;
    c->max_handshake = SW_TLS_MAX_HANDSHAKE_DEFAULT;
    c->ja3 = true;
    c->ja4 = true;
}

/* Suricata accepts "auto" for the fingerprint switches (on when a rule
 * needs it); we compute them whenever they are not switched off. */
static int get_switch(const sw_cfg_node *root, const char *path, bool *out,
                      char *err, size_t errlen)
{
    const char *v = NULL;
    if (sw_cfg_get_str(root, path, &v, err, errlen) != 0)
        return -1;
    if (v && strcmp(v, "auto") == 0) {
        *out = true;
        return 0;
    }
    return sw_cfg_get_bool(root, path, out, err, errlen);
}

int sw_tls_config_load(const sw_cfg_node *root, sw_tls_config *c, char *err,
                       size_t errlen)
{
    uint64_t v;
    v = c->max_record;
    if (sw_cfg_get_size(root, "app-layer.protocols.tls.max-record-size", &v, err,
                        errlen) != 0)
        return -1;
    if (v < 512 || v > (1u << 24)) {
        snprintf(err, errlen,
                 "config: app-layer.protocols.tls.max-record-size: must be 512..16mb");
        return -1;
    }
    c->max_record = (uint32_t)v;
    v = c->max_handshake;
    if (sw_cfg_get_size(root, "app-layer.protocols.tls.max-handshake-size", &v,
                        err, errlen) != 0)
        return -1;
    if (v < 1024 || v > (1u << 24)) {
        snprintf(err, errlen,
                 "config: app-layer.protocols.tls.max-handshake-size: must be 1kb..16mb");
        return -1;
    }
    c->max_handshake = (uint32_t)v;
    if (get_switch(root, "app-layer.protocols.tls.ja3-fingerprints", &c->ja3, err,
                   errlen) != 0)
        return -1;
    if (get_switch(root, "app-layer.protocols.tls.ja4-fingerprints", &c->ja4, err,
                   errlen) != 0)
        return -1;
    return 0;
}

/* ------------------------------------------------------------------ */
/* small helpers */

typedef struct rd {
    const uint8_t *p;
    size_t n;
    bool bad;
} rd;

static bool rd_need(rd *r, size_t k)
{
    if (r->bad || r->n < k) {
        r->bad = true;
        return false;
    }
    return true;
}
static uint8_t rd_u8(rd *r)
{
    if (!rd_need(r, 1))
        return 0;
    uint8_t v = r->p[0];
    r->p++;
    r->n--;
    return v;
}
static uint16_t rd_u16(rd *r)
{
    if (!rd_need(r, 2))
        return 0;
    uint16_t v = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    r->n -= 2;
    return v;
}
static uint32_t rd_u24(rd *r)
{
    if (!rd_need(r, 3))
        return 0;
    uint32_t v = (uint32_t)r->p[0] << 16 | (uint32_t)r->p[1] << 8 | r->p[2];
    r->p += 3;
    r->n -= 3;
    return v;
}
/* A sub-reader over the next k bytes. */
static rd rd_sub(rd *r, size_t k)
{
    rd s = {NULL, 0, true};
    if (!rd_need(r, k))
        return s;
    s.p = r->p;
    s.n = k;
    s.bad = false;
    r->p += k;
    r->n -= k;
    return s;
}

static bool is_grease(uint16_t v)
{
    return (v & 0x0f0f) == 0x0a0a && (v >> 8) == (v & 0xff);
}

static const char hexl[] = "0123456789abcdef";
static const char hexu[] = "0123456789ABCDEF";

static void digest_hex(const EVP_MD *md, const void *data, size_t n, char *out,
                       size_t hexchars)
{
    unsigned char d[EVP_MAX_MD_SIZE];
    unsigned int dl = 0;
    if (!EVP_Digest(data, n, d, &dl, md, NULL)) {
        out[0] = '\0';
        return;
    }
    size_t k = 0;
    for (unsigned i = 0; i < dl && k + 2 <= hexchars; i++) {
        out[k++] = hexl[d[i] >> 4];
        out[k++] = hexl[d[i] & 15];
    }
    out[k] = '\0';
}

/* Bounded appender; a string that would overflow is marked and dropped. */
typedef struct sbuf {
    char *b;
    size_t cap, len;
    bool over;
} sbuf;

static void sb_putn(sbuf *s, const char *p, size_t n)
{
    if (s->over || s->len + n + 1 > s->cap) {
        s->over = true;
        return;
    }
    memcpy(s->b + s->len, p, n);
    s->len += n;
    s->b[s->len] = '\0';
}
static void sb_puts(sbuf *s, const char *p)
{
    sb_putn(s, p, strlen(p));
}
static void sb_u(sbuf *s, unsigned v)
{
    char t[12];
    int n = snprintf(t, sizeof t, "%u", v);
    sb_putn(s, t, (size_t)n);
}

/* ------------------------------------------------------------------ */
/* ClientHello */

typedef struct ch_lists {
    uint16_t ciphers[SW_TLS_MAX_CIPHERS];
    size_t nciphers;
    uint16_t exts[SW_TLS_MAX_LIST];
    size_t nexts;
    uint16_t groups[SW_TLS_MAX_LIST];
    size_t ngroups;
    uint8_t pf[SW_TLS_MAX_POINT_FORMATS];
    size_t npf;
    uint16_t sigalgs[SW_TLS_MAX_LIST];
    size_t nsigalgs;
    uint16_t max_supported; /* highest non-GREASE supported_versions entry */
    bool has_supported;
    bool truncated;
    uint8_t alpn0[256];
    size_t alpn0_len;
    bool has_alpn0;
} ch_lists;

static void push16(uint16_t *a, size_t *n, size_t cap, uint16_t v, bool *trunc)
{
    if (*n < cap)
        a[(*n)++] = v;
    else
        *trunc = true;
}

static void alpn_add(alpn_list *l, const uint8_t *p, size_t n)
{
    if (l->n >= SW_TLS_ALPN_MAX)
        return;
    if (n > SW_TLS_ALPN_LEN_MAX)
        n = SW_TLS_ALPN_LEN_MAX;
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (p[i] != 0) /* NUL would cut the C string */
            l->v[l->n][k++] = (char)p[i];
    l->v[l->n][k] = '\0';
    l->n++;
}

/* Parses an ALPN ProtocolNameList into l; first (if not NULL) gets the
 * first protocol raw. */
static bool parse_alpn(rd *e, alpn_list *l, ch_lists *first)
{
    uint16_t ll = rd_u16(e);
    rd lst = rd_sub(e, ll);
    if (lst.bad)
        return false;
    bool any = false;
    while (lst.n > 0) {
        uint8_t pl = rd_u8(&lst);
        rd pr = rd_sub(&lst, pl);
        if (pr.bad)
            return false;
        alpn_add(l, pr.p, pr.n);
        if (first && !any) {
            memcpy(first->alpn0, pr.p, pr.n);
            first->alpn0_len = pr.n;
            first->has_alpn0 = true;
        }
        any = true;
    }
    return true;
}

static int u16cmp(const void *a, const void *b)
{
    uint16_t x = *(const uint16_t *)a, y = *(const uint16_t *)b;
    return (x > y) - (x < y);
}

static bool is_alnum(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static const char *ja4_version(uint16_t v)
{
    switch (v) {
    case 0x0304: return "13";
    case 0x0303: return "12";
    case 0x0302: return "11";
    case 0x0301: return "10";
    case 0x0300: return "s3";
    case 0x0002: return "s2";
    case 0xfeff: return "d1";
    case 0xfefd: return "d2";
    case 0xfefc: return "d3";
    default: return "00";
    }
}

/* JA4 as FoxIO defines it: GREASE ignored everywhere, an empty hashed part
 * is twelve zeros, no "_" before an empty signature-algorithm list. */
static void compute_ja4(sw_tls_state *s, const ch_lists *L)
{
    uint16_t ver = L->has_supported && L->max_supported ? L->max_supported : s->ch_version;
    size_t nc = 0, ne = 0;
    uint16_t c[SW_TLS_MAX_CIPHERS], e[SW_TLS_MAX_LIST];
    size_t next_all = 0;
    for (size_t i = 0; i < L->nciphers; i++)
        if (!is_grease(L->ciphers[i]))
            c[nc++] = L->ciphers[i];
    for (size_t i = 0; i < L->nexts; i++) {
        uint16_t x = L->exts[i];
        if (is_grease(x))
            continue;
        next_all++;
        if (x != 0x0000 && x != 0x0010)
            e[ne++] = x;
    }
    char alpn[3] = "00";
    if (L->has_alpn0 && L->alpn0_len > 0) {
        uint8_t f = L->alpn0[0], l = L->alpn0[L->alpn0_len - 1];
        if (is_alnum(f) && is_alnum(l)) {
            alpn[0] = (char)f;
            alpn[1] = (char)l;
        } else {
            alpn[0] = hexl[f >> 4];
            alpn[1] = hexl[l & 15];
        }
    }
    char a[16];
    snprintf(a, sizeof a, "t%s%c%02u%02u%s", ja4_version(ver),
             s->ch_sni_seen ? 'd' : 'i', (unsigned)(nc > 99 ? 99 : nc),
             (unsigned)(next_all > 99 ? 99 : next_all), alpn);

    /* raw lists: 5 chars per entry */
    char raw[5 * (SW_TLS_MAX_CIPHERS + 2 * SW_TLS_MAX_LIST) + 8];
    char hb[13] = "000000000000", hc[13] = "000000000000";
    size_t k = 0;
    qsort(c, nc, sizeof c[0], u16cmp);
    for (size_t i = 0; i < nc; i++)
        k += (size_t)snprintf(raw + k, sizeof raw - k, "%s%04x", i ? "," : "", c[i]);
    if (nc)
        digest_hex(EVP_sha256(), raw, k, hb, 12);
    k = 0;
    qsort(e, ne, sizeof e[0], u16cmp);
    for (size_t i = 0; i < ne; i++)
        k += (size_t)snprintf(raw + k, sizeof raw - k, "%s%04x", i ? "," : "", e[i]);
    bool first_sig = true;
    for (size_t i = 0; i < L->nsigalgs; i++) {
        if (is_grease(L->sigalgs[i]))
            continue;
        k += (size_t)snprintf(raw + k, sizeof raw - k, "%s%04x", first_sig ? "_" : ",",
                              L->sigalgs[i]);
        first_sig = false;
    }
    if (ne)
        digest_hex(EVP_sha256(), raw, k, hc, 12);
    snprintf(s->ja4, sizeof s->ja4, "%s_%s_%s", a, hb, hc);
}

static void compute_ja3(sw_tls_state *s, const ch_lists *L)
{
    sbuf b = {s->ja3_str, sizeof s->ja3_str, 0, false};
    s->ja3_str[0] = '\0';
    sb_u(&b, s->ch_version);
    sb_puts(&b, ",");
    bool first = true;
    for (size_t i = 0; i < L->nciphers; i++) {
        if (is_grease(L->ciphers[i]))
            continue;
        if (!first)
            sb_puts(&b, "-");
        sb_u(&b, L->ciphers[i]);
        first = false;
    }
    sb_puts(&b, ",");
    first = true;
    for (size_t i = 0; i < L->nexts; i++) {
        if (is_grease(L->exts[i]))
            continue;
        if (!first)
            sb_puts(&b, "-");
        sb_u(&b, L->exts[i]);
        first = false;
    }
    sb_puts(&b, ",");
    first = true;
    for (size_t i = 0; i < L->ngroups; i++) {
        if (is_grease(L->groups[i]))
            continue;
        if (!first)
            sb_puts(&b, "-");
        sb_u(&b, L->groups[i]);
        first = false;
    }
    sb_puts(&b, ",");
    for (size_t i = 0; i < L->npf; i++) {
        if (i)
            sb_puts(&b, "-");
        sb_u(&b, L->pf[i]);
    }
    if (b.over) { /* cannot happen within the list caps; be safe */
        s->ja3_str[0] = '\0';
        s->ja3_hash[0] = '\0';
        return;
    }
    digest_hex(EVP_md5(), s->ja3_str, b.len, s->ja3_hash, 32);
}

static bool parse_client_hello(sw_tls_state *s, const uint8_t *p, size_t n)
{
    ch_lists *L = calloc(1, sizeof *L);
    if (!L) {
        ctr_inc(s, SW_TLS_CTR_ALLOC_FAIL);
        return false;
    }
    rd r = {p, n, false};
    char sni[SW_TLS_SNI_MAX + 1] = "";
    bool sni_seen = false;
    alpn_list al = {0};
    uint16_t ver = rd_u16(&r);
    rd_sub(&r, 32); /* random */
    uint8_t sidl = rd_u8(&r);
    rd sid = rd_sub(&r, sidl);
    uint16_t cl = rd_u16(&r);
    rd cs = rd_sub(&r, cl);
    if (r.bad || sidl > 32 || (cl & 1)) {
        free(L);
        return false;
    }
    while (cs.n >= 2)
        push16(L->ciphers, &L->nciphers, SW_TLS_MAX_CIPHERS, rd_u16(&cs), &L->truncated);
    uint8_t compl = rd_u8(&r);
    rd_sub(&r, compl);
    if (r.bad) {
        free(L);
        return false;
    }
    if (r.n > 0) {
        uint16_t el = rd_u16(&r);
        rd ex = rd_sub(&r, el);
        if (ex.bad) {
            free(L);
            return false;
        }
        while (ex.n > 0) {
            uint16_t et = rd_u16(&ex);
            uint16_t elen = rd_u16(&ex);
            rd e = rd_sub(&ex, elen);
            if (ex.bad) {
                free(L);
                return false;
            }
            push16(L->exts, &L->nexts, SW_TLS_MAX_LIST, et, &L->truncated);
            switch (et) {
            case 0x0000: { /* server_name */
                if (sni_seen) {
                    set_event(s, SW_TLS_EV_MULTIPLE_SNI);
                    break;
                }
                sni_seen = true;
                if (e.n == 0) /* empty in ServerHello echoes; legal */
                    break;
                uint16_t ll = rd_u16(&e);
                rd lst = rd_sub(&e, ll);
                if (lst.bad) {
                    set_event(s, SW_TLS_EV_INVALID_SNI_LENGTH);
                    break;
                }
                uint8_t t = rd_u8(&lst);
                uint16_t hl = rd_u16(&lst);
                rd h = rd_sub(&lst, hl);
                if (t != 0) {
                    set_event(s, SW_TLS_EV_INVALID_SNI_TYPE);
                    break;
                }
                if (h.bad) {
                    set_event(s, SW_TLS_EV_INVALID_SNI_LENGTH);
                    break;
                }
                size_t k = 0;
                for (size_t i = 0; i < h.n && k < SW_TLS_SNI_MAX; i++)
                    if (h.p[i])
                        sni[k++] = (char)h.p[i];
                sni[k] = '\0';
                if (h.n > SW_TLS_SNI_MAX)
                    set_event(s, SW_TLS_EV_INVALID_SNI_LENGTH);
                break;
            }
            case 0x000a: { /* supported_groups */
                uint16_t ll = rd_u16(&e);
                rd lst = rd_sub(&e, ll);
                while (!lst.bad && lst.n >= 2)
                    push16(L->groups, &L->ngroups, SW_TLS_MAX_LIST, rd_u16(&lst),
                           &L->truncated);
                break;
            }
            case 0x000b: { /* ec_point_formats */
                uint8_t ll = rd_u8(&e);
                rd lst = rd_sub(&e, ll);
                while (!lst.bad && lst.n >= 1) {
                    uint8_t v = rd_u8(&lst);
                    if (L->npf < SW_TLS_MAX_POINT_FORMATS)
                        L->pf[L->npf++] = v;
                    else
                        L->truncated = true;
                }
                break;
            }
            case 0x000d: { /* signature_algorithms */
                uint16_t ll = rd_u16(&e);
                rd lst = rd_sub(&e, ll);
                while (!lst.bad && lst.n >= 2)
                    push16(L->sigalgs, &L->nsigalgs, SW_TLS_MAX_LIST, rd_u16(&lst),
                           &L->truncated);
                break;
            }
            case 0x0010: /* ALPN */
                parse_alpn(&e, &al, L);
                break;
            case 0x002b: { /* supported_versions */
                uint8_t ll = rd_u8(&e);
                rd lst = rd_sub(&e, ll);
                L->has_supported = true;
                while (!lst.bad && lst.n >= 2) {
                    uint16_t v = rd_u16(&lst);
                    if (!is_grease(v) && v > L->max_supported)
                        L->max_supported = v;
                }
                break;
            }
            default:
                break;
            }
        }
    }
    if (L->truncated)
        ctr_inc(s, SW_TLS_CTR_LIST_TRUNCATED);
    /* A second ClientHello (after HelloRetryRequest) replaces the first:
     * it is the one the handshake continues with. */
    s->ch_version = ver;
    s->ch_sni_seen = sni_seen;
    memcpy(s->sni, sni, sizeof sni);
    s->ch_sid_len = sidl;
    memcpy(s->ch_sid, sid.p, sidl);
    s->alpn[0] = al;
    if (s->cfg.ja3)
        compute_ja3(s, L);
    if (s->cfg.ja4)
        compute_ja4(s, L);
    s->progress |= SW_TLS_CLIENT_HELLO;
    free(L);
    return true;
}

/* ------------------------------------------------------------------ */
/* ServerHello */

/* SHA-256("HelloRetryRequest"), the random of a TLS 1.3 HRR (RFC 8446 4.1.3) */
static const uint8_t hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
    0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
    0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c};

static bool is_tls13(uint16_t v)
{
    return v == 0x0304 || (v >> 8) == 0x7f || (v >> 8) == 0xfb;
}

static bool parse_server_hello(sw_tls_state *s, const uint8_t *p, size_t n)
{
    rd r = {p, n, false};
    uint16_t ver = rd_u16(&r);
    rd rnd = rd_sub(&r, 32);
    uint8_t sidl = rd_u8(&r);
    rd sid = rd_sub(&r, sidl);
    uint16_t cipher = rd_u16(&r);
    rd_u8(&r); /* compression; absent in TLS 1.3 drafts < 23? no: always present */
    if (r.bad || sidl > 32)
        return false;
    uint16_t exts[SW_TLS_MAX_LIST];
    size_t nexts = 0;
    bool trunc = false;
    uint16_t selected = 0;
    alpn_list al = {0};
    if (r.n > 0) {
        uint16_t el = rd_u16(&r);
        rd ex = rd_sub(&r, el);
        if (ex.bad)
            return false;
        while (ex.n > 0) {
            uint16_t et = rd_u16(&ex);
            uint16_t elen = rd_u16(&ex);
            rd e = rd_sub(&ex, elen);
            if (ex.bad)
                return false;
            push16(exts, &nexts, SW_TLS_MAX_LIST, et, &trunc);
            if (et == 0x002b && e.n >= 2)
                selected = rd_u16(&e);
            else if (et == 0x0010)
                parse_alpn(&e, &al, NULL);
        }
    }
    if (trunc)
        ctr_inc(s, SW_TLS_CTR_LIST_TRUNCATED);
    s->sh_legacy_version = ver;
    s->server_version = selected ? selected : ver;
    s->sh_cipher = cipher;
    s->alpn[1] = al;
    s->progress |= SW_TLS_SERVER_HELLO;
    if (sidl > 0 && sidl == s->ch_sid_len && memcmp(sid.p, s->ch_sid, sidl) == 0 &&
        !is_tls13(s->server_version))
        s->session_resumed = true;

    if (s->cfg.ja3) {
        sbuf b = {s->ja3s_str, sizeof s->ja3s_str, 0, false};
        s->ja3s_str[0] = '\0';
        sb_u(&b, ver);
        sb_puts(&b, ",");
        sb_u(&b, cipher);
        sb_puts(&b, ",");
        bool first = true;
        for (size_t i = 0; i < nexts; i++) {
            if (is_grease(exts[i]))
                continue;
            if (!first)
                sb_puts(&b, "-");
            sb_u(&b, exts[i]);
            first = false;
        }
        if (b.over) {
            s->ja3s_str[0] = s->ja3s_hash[0] = '\0';
        } else {
            digest_hex(EVP_md5(), s->ja3s_str, b.len, s->ja3s_hash, 32);
        }
    }
    /* TLS 1.3: everything after the ServerHello is encrypted, except the
     * client's second ClientHello after a HelloRetryRequest. */
    if (is_tls13(s->server_version) && memcmp(rnd.p, hrr_random, 32) != 0) {
        s->d[1].encrypted = true;
        s->progress |= SW_TLS_HANDSHAKE_DONE | SW_TLS_ENCRYPTED;
    }
    return true;
}

/* ------------------------------------------------------------------ */
/* Certificate */

/* Minimal DER walk to the serial's content octets exactly as encoded
 * (Suricata prints the raw bytes, sign octet included). */
static bool der_hdr(rd *r, uint8_t *tag, size_t *len)
{
    *tag = rd_u8(r);
    uint8_t l = rd_u8(r);
    if (r->bad)
        return false;
    if (l < 0x80) {
        *len = l;
    } else {
        unsigned k = l & 0x7f;
        if (k == 0 || k > 4)
            return false;
        size_t v = 0;
        for (unsigned i = 0; i < k; i++)
            v = v << 8 | rd_u8(r);
        *len = v;
    }
    return !r->bad && *len <= r->n;
}

static bool der_serial(const uint8_t *p, size_t n, rd *out)
{
    rd r = {p, n, false};
    uint8_t tag;
    size_t len;
    if (!der_hdr(&r, &tag, &len) || tag != 0x30)
        return false;
    if (!der_hdr(&r, &tag, &len) || tag != 0x30)
        return false;
    if (!der_hdr(&r, &tag, &len))
        return false;
    if (tag == 0xa0) {
        rd_sub(&r, len);
        if (!der_hdr(&r, &tag, &len))
            return false;
    }
    if (tag != 0x02)
        return false;
    *out = rd_sub(&r, len);
    return !out->bad;
}

static const char *dn_abbrev(int nid)
{
    switch (nid) {
    case NID_commonName: return "CN";
    case NID_countryName: return "C";
    case NID_localityName: return "L";
    case NID_stateOrProvinceName: return "ST";
    case NID_organizationName: return "O";
    case NID_organizationalUnitName: return "OU";
    case NID_domainComponent: return "DC";
    case NID_pkcs9_emailAddress: return "Email";
    default: return NULL;
    }
}

/* Suricata's format (x509-parser's): RDNs in certificate order joined by
 * ", ", multi-valued RDN members by " + ", string types as their bytes,
 * other types as upper-case hex. */
static void format_dn(const X509_NAME *nm, char *out, size_t cap)
{
    sbuf b = {out, cap, 0, false};
    out[0] = '\0';
    int cnt = X509_NAME_entry_count(nm);
    int prev_set = -1;
    for (int i = 0; i < cnt; i++) {
        const X509_NAME_ENTRY *ne = X509_NAME_get_entry(nm, i);
        const ASN1_OBJECT *obj = X509_NAME_ENTRY_get_object(ne);
        const ASN1_STRING *v = X509_NAME_ENTRY_get_data(ne);
        int set = X509_NAME_ENTRY_set(ne);
        if (i > 0)
            sb_puts(&b, set == prev_set ? " + " : ", ");
        prev_set = set;
        int nid = OBJ_obj2nid(obj);
        const char *ab = dn_abbrev(nid);
        char oidbuf[80];
        if (!ab && nid != NID_undef)
            ab = OBJ_nid2sn(nid);
        if (!ab) {
            OBJ_obj2txt(oidbuf, sizeof oidbuf, obj, 1);
            ab = oidbuf;
        }
        sb_puts(&b, ab);
        sb_puts(&b, "=");
        const unsigned char *d = ASN1_STRING_get0_data(v);
        int dl = ASN1_STRING_length(v);
        switch (ASN1_STRING_type(v)) {
        case V_ASN1_NUMERICSTRING:
        case V_ASN1_PRINTABLESTRING:
        case V_ASN1_T61STRING:
        case V_ASN1_VIDEOTEXSTRING:
        case V_ASN1_IA5STRING:
        case V_ASN1_GRAPHICSTRING:
        case V_ASN1_VISIBLESTRING:
        case V_ASN1_GENERALSTRING:
        case V_ASN1_UTF8STRING:
        case V_ASN1_OBJECT_DESCRIPTOR:
            for (int k = 0; k < dl; k++)
                if (d[k]) /* NUL cannot travel in a C string */
                    sb_putn(&b, (const char *)d + k, 1);
            break;
        case V_ASN1_BMPSTRING: {
            unsigned char *u = NULL;
            int ul = ASN1_STRING_to_UTF8(&u, v);
            if (ul > 0)
                sb_putn(&b, (const char *)u, strnlen((const char *)u, (size_t)ul));
            OPENSSL_free(u);
            break;
        }
        default:
            for (int k = 0; k < dl; k++) {
                char h[2] = {hexu[d[k] >> 4], hexu[d[k] & 15]};
                sb_putn(&b, h, 2);
            }
            break;
        }
        if (b.over)
            break;
    }
    if (b.over) { /* keep what fits: a truncated DN beats none */
        out[cap - 1] = '\0';
    }
}

static bool format_time(const ASN1_TIME *t, char *out, size_t cap, int64_t *epoch)
{
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
        return false;
    if (strftime(out, cap, "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return false;
    *epoch = (int64_t)timegm(&tm);
    return true;
}

/* Servers present the same certificate to every client: the fields of
 * recently seen leaves are kept by SHA-1 of their DER, so a busy link does
 * not pay for a full X.509 decode per TLS session. Shared by all workers
 * (one lookup per session, so the lock is cold); fixed size, no heap. */
#define CERT_CACHE_SLOTS 512

typedef struct cert_entry {
    uint8_t sha1[20];
    bool used;
    char subject[SW_TLS_DN_MAX];
    char issuer[SW_TLS_DN_MAX];
    char serial[3 * 64];
    char notbefore[24], notafter[24];
    int64_t notbefore_epoch, notafter_epoch;
} cert_entry;

static cert_entry cert_cache[CERT_CACHE_SLOTS];
static pthread_mutex_t cert_mu = PTHREAD_MUTEX_INITIALIZER;

static cert_entry *cert_slot(const unsigned char md[20])
{
    return &cert_cache[((unsigned)md[0] << 8 | md[1]) % CERT_CACHE_SLOTS];
}

/* Decodes the fields of a leaf we have not seen lately. */
static bool decode_leaf(sw_tls_state *s, const uint8_t *der, size_t n)
{
    const unsigned char *q = der;
    X509 *x = d2i_X509(NULL, &q, (long)n);
    if (!x)
        return false;
    format_dn(X509_get_subject_name(x), s->subject, sizeof s->subject);
    format_dn(X509_get_issuer_name(x), s->issuer, sizeof s->issuer);
    rd ser;
    sbuf b = {s->serial, sizeof s->serial, 0, false};
    s->serial[0] = '\0';
    if (der_serial(der, n, &ser)) {
        for (size_t i = 0; i < ser.n; i++) {
            char h[3] = {hexu[ser.p[i] >> 4], hexu[ser.p[i] & 15], ':'};
            sb_putn(&b, h, i + 1 < ser.n ? 3 : 2);
        }
        if (b.over)
            s->serial[0] = '\0';
    }
    if (!format_time(X509_get0_notBefore(x), s->notbefore, sizeof s->notbefore,
                     &s->notbefore_epoch))
        s->notbefore[0] = '\0';
    if (!format_time(X509_get0_notAfter(x), s->notafter, sizeof s->notafter,
                     &s->notafter_epoch))
        s->notafter[0] = '\0';
    X509_free(x);
    return true;
}

/* Returns false on a parse failure of the leaf. */
static bool parse_leaf(sw_tls_state *s, const uint8_t *der, size_t n)
{
    unsigned char md[20];
    unsigned mdl = 0;
    if (!EVP_Digest(der, n, md, &mdl, EVP_sha1(), NULL) || mdl != 20)
        return false;
    bool hit = false;
    pthread_mutex_lock(&cert_mu);
    cert_entry *e = cert_slot(md);
    if (e->used && memcmp(e->sha1, md, 20) == 0) {
        memcpy(s->subject, e->subject, sizeof s->subject);
        memcpy(s->issuer, e->issuer, sizeof s->issuer);
        memcpy(s->serial, e->serial, sizeof s->serial);
        memcpy(s->notbefore, e->notbefore, sizeof s->notbefore);
        memcpy(s->notafter, e->notafter, sizeof s->notafter);
        s->notbefore_epoch = e->notbefore_epoch;
        s->notafter_epoch = e->notafter_epoch;
        hit = true;
    }
    pthread_mutex_unlock(&cert_mu);
    if (!hit) {
        if (!decode_leaf(s, der, n))
            return false;
        pthread_mutex_lock(&cert_mu);
        e = cert_slot(md);
        memcpy(e->sha1, md, 20);
        e->used = true;
        memcpy(e->subject, s->subject, sizeof e->subject);
        memcpy(e->issuer, s->issuer, sizeof e->issuer);
        memcpy(e->serial, s->serial, sizeof e->serial);
        memcpy(e->notbefore, s->notbefore, sizeof e->notbefore);
        memcpy(e->notafter, s->notafter, sizeof e->notafter);
        e->notbefore_epoch = s->notbefore_epoch;
        e->notafter_epoch = s->notafter_epoch;
        pthread_mutex_unlock(&cert_mu);
    }
    for (unsigned i = 0; i < 20; i++) {
        s->fingerprint[3 * i] = hexl[md[i] >> 4];
        s->fingerprint[3 * i + 1] = hexl[md[i] & 15];
        s->fingerprint[3 * i + 2] = i < 19 ? ':' : '\0';
    }
    s->progress |= SW_TLS_CERT;
    return true;
}

static void cert_error(sw_tls_state *s, int ev)
{
    set_event(s, ev);
    ctr_inc(s, SW_TLS_CTR_CERT_PARSE_ERROR);
}

/* One DER tag and length: the header size and the declared content length,
 * or 0 when the header itself does not fit in n bytes. */
static size_t der_header(const uint8_t *p, size_t n, size_t *len)
{
    if (n < 2)
        return 0;
    if (p[1] < 0x80) {
        *len = p[1];
        return 2;
    }
    size_t nb = p[1] & 0x7f;
    if (nb < 1 || nb > 4 || n < 2 + nb)
        return 0;
    *len = 0;
    for (size_t i = 0; i < nb; i++)
        *len = *len << 8 | p[2 + i];
    return 2 + nb;
}

/* Whether the headers of the Certificate and of its tbsCertificate can be
 * read: a cut there is a length error (Suricata's
 * certificate_invalid_length), a cut later in the content an invalid
 * certificate. */
static bool der_header_complete(const uint8_t *p, size_t n)
{
    size_t len, h = der_header(p, n, &len);
    if (!h)
        return false;
    size_t inner = n - h < len ? n - h : len, ilen;
    return der_header(p + h, inner, &ilen) != 0;
}

/* Keeps a copy of the server's certificate list (first one only). */
static void keep_chain(sw_tls_state *s, const uint8_t *p, size_t n)
{
    if (s->chain || n == 0)
        return;
    s->chain = malloc(n);
    if (!s->chain)
        return;
    memcpy(s->chain, p, n);
    rd lst = {s->chain, n, false};
    while (lst.n > 0 && s->n_certs < SW_TLS_MAX_CERTS) {
        uint32_t cl = rd_u24(&lst);
        rd c = rd_sub(&lst, cl);
        if (lst.bad)
            break;
        s->cert_off[s->n_certs] = (uint32_t)(c.p - s->chain);
        s->cert_len[s->n_certs++] = (uint32_t)c.n;
    }
    if (lst.n > 0 && !lst.bad) /* a chain longer than tls.certs inspects */
        ctr_inc(s, SW_TLS_CTR_CERTS_NOT_KEPT);
}

static void parse_certificate(sw_tls_state *s, int dir, const uint8_t *p, size_t n)
{
    rd r = {p, n, false};
    uint32_t total = rd_u24(&r);
    if (r.bad || total != r.n) {
        set_event(s, SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        cert_error(s, SW_TLS_EV_CERTIFICATE_INVALID_LENGTH);
        if (r.bad || total > r.n)
            return;
    }
    rd lst = rd_sub(&r, total);
    if (dir == 1)
        keep_chain(s, lst.p, lst.n);
    unsigned count = 0;
    bool leaf_done = false;
    while (lst.n > 0) {
        uint32_t cl = rd_u24(&lst);
        rd c = rd_sub(&lst, cl);
        if (lst.bad) {
            cert_error(s, SW_TLS_EV_CERTIFICATE_INVALID_LENGTH);
            set_event(s, SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE);
            break;
        }
        count++;
        if (!leaf_done) {
            leaf_done = true;
            if (!der_header_complete(c.p, c.n)) {
                cert_error(s, SW_TLS_EV_CERTIFICATE_INVALID_LENGTH);
                set_event(s, SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE);
            } else if (!parse_leaf(s, c.p, c.n)) {
                cert_error(s, SW_TLS_EV_INVALID_CERTIFICATE);
                set_event(s, SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE);
            }
        }
    }
    s->chain_len = count;
}

/* ------------------------------------------------------------------ */
/* SSLv2 */

static void parse_v2_message(sw_tls_state *s, int dir, const uint8_t *p, size_t n)
{
    rd r = {p, n, false};
    uint8_t mt = rd_u8(&r);
    if (dir == 0 && mt == 1) { /* CLIENT-HELLO */
        uint16_t ver = rd_u16(&r);
        uint16_t csl = rd_u16(&r);
        rd_u16(&r); /* session id length */
        rd_u16(&r); /* challenge length */
        if (r.bad || csl % 3) {
            set_event(s, SW_TLS_EV_INVALID_SSLV2_HEADER);
            ctr_inc(s, SW_TLS_CTR_MALFORMED_HANDSHAKE);
            return;
        }
        s->ch_version = ver;
        s->progress |= SW_TLS_CLIENT_HELLO;
        ctr_inc(s, SW_TLS_CTR_SSLV2);
        if (ver == 0x0002)
            s->d[0].framing = FR_V2;
    } else if (dir == 1 && mt == 4) { /* SERVER-HELLO */
        rd_u8(&r); /* session id hit */
        rd_u8(&r); /* certificate type */
        uint16_t ver = rd_u16(&r);
        uint16_t certl = rd_u16(&r);
        rd_u16(&r); /* cipher specs length */
        rd_u16(&r); /* connection id length */
        rd cert = rd_sub(&r, certl);
        if (r.bad) {
            set_event(s, SW_TLS_EV_INVALID_SSLV2_HEADER);
            ctr_inc(s, SW_TLS_CTR_MALFORMED_HANDSHAKE);
            return;
        }
        s->server_version = ver;
        s->sh_legacy_version = ver;
        s->progress |= SW_TLS_SERVER_HELLO;
        if (ver == 0x0002)
            s->d[1].framing = FR_V2;
        if (certl > 0) {
            s->chain_len = 1;
            if (!parse_leaf(s, cert.p, cert.n))
                cert_error(s, SW_TLS_EV_INVALID_CERTIFICATE);
        }
        /* Everything after SERVER-HELLO is encrypted in SSLv2. */
        s->progress |= SW_TLS_HANDSHAKE_DONE | SW_TLS_ENCRYPTED;
    }
}

/* ------------------------------------------------------------------ */
/* handshake layer */

static void hs_message_done(sw_tls_state *s, int dir, const uint8_t *p, size_t n)
{
    tls_dir *d = &s->d[dir];
    bool ok = true;
    switch (d->htype) {
    case HS_CLIENT_HELLO:
        ok = parse_client_hello(s, p, n);
        break;
    case HS_SERVER_HELLO:
        ok = parse_server_hello(s, p, n);
        break;
    case HS_CERTIFICATE:
        parse_certificate(s, dir, p, n);
        break;
    default:
        break;
    }
    if (!ok) {
        set_event(s, SW_TLS_EV_INVALID_HANDSHAKE_MESSAGE);
        ctr_inc(s, SW_TLS_CTR_MALFORMED_HANDSHAKE);
    }
}

static bool hs_wanted(int dir, uint8_t t)
{
    if (dir == 0)
        return t == HS_CLIENT_HELLO;
    return t == HS_SERVER_HELLO || t == HS_CERTIFICATE;
}

/* Grows the message buffer to hold want bytes (want <= max_handshake). */
static bool hs_reserve(sw_tls_state *s, tls_dir *d, size_t want)
{
    if (d->hcap >= want)
        return true;
    /* Never promise more than the cap: callers copy want bytes (found by
     * fuzzing with a small max-handshake-size and an SSLv2 record). */
    if (want > s->cfg.max_handshake) {
        ctr_inc(s, SW_TLS_CTR_HANDSHAKE_TOO_LARGE);
        return false;
    }
    size_t nc = d->hcap ? d->hcap : 4096;
    while (nc < want)
        nc *= 2;
    if (nc > s->cfg.max_handshake)
        nc = s->cfg.max_handshake;
    uint8_t *nb = realloc(d->hbuf, nc);
    if (!nb) {
        ctr_inc(s, SW_TLS_CTR_ALLOC_FAIL);
        return false;
    }
    d->hbuf = nb;
    d->hcap = nc;
    return true;
}

/* Feeds cleartext handshake-record payload bytes. */
static void hs_feed(sw_tls_state *s, int dir, const uint8_t *p, size_t n)
{
    tls_dir *d = &s->d[dir];
    while (n > 0) {
        if (!d->in_msg) {
            d->hhdr[d->hhdr_got++] = *p++;
            n--;
            if (d->hhdr_got < 4)
                continue;
            d->hhdr_got = 0;
            d->in_msg = true;
            d->htype = d->hhdr[0];
            d->hlen = (uint32_t)d->hhdr[1] << 16 | (uint32_t)d->hhdr[2] << 8 | d->hhdr[3];
            d->hgot = 0;
            d->hkeep = hs_wanted(dir, d->htype);
            if (d->hkeep && d->hlen > s->cfg.max_handshake) {
                d->hkeep = false;
                ctr_inc(s, SW_TLS_CTR_HANDSHAKE_TOO_LARGE);
                set_event(s, SW_TLS_EV_HANDSHAKE_INVALID_LENGTH);
            }
            if (d->hkeep && !hs_reserve(s, d, d->hlen))
                d->hkeep = false;
        }
        size_t take = d->hlen - d->hgot;
        if (take > n)
            take = n;
        /* Whole message inside this chunk: parse in place, no copy. */
        if (d->hkeep && d->hgot == 0 && take == d->hlen) {
            d->in_msg = false;
            hs_message_done(s, dir, p, take);
            p += take;
            n -= take;
            continue;
        }
        if (d->hkeep)
            memcpy(d->hbuf + d->hgot, p, take);
        d->hgot += (uint32_t)take;
        p += take;
        n -= take;
        if (d->hgot == d->hlen) {
            d->in_msg = false;
            if (d->hkeep)
                hs_message_done(s, dir, d->hbuf, d->hlen);
        }
        /* The parse may have switched this direction to encrypted (TLS 1.3
         * ServerHello): the rest of the record is not ours to read. */
        if (d->encrypted)
            return;
    }
}

/* ------------------------------------------------------------------ */
/* heartbeat */

static void hb_record_start(sw_tls_state *s, int dir)
{
    tls_dir *d = &s->d[dir];
    ctr_inc(s, SW_TLS_CTR_HEARTBEAT);
    set_event(s, SW_TLS_EV_HEARTBEAT_MESSAGE);
    d->hb_got = 0;
    if (!d->encrypted) {
        if (d->rlen < 3) {
            set_event(s, SW_TLS_EV_INVALID_HEARTBEAT);
            s->hb_flags |= SW_TLS_HB_INVALID;
            ctr_inc(s, SW_TLS_CTR_HEARTBEAT_INVALID);
        }
        return;
    }
    if (dir == 0) {
        if (!s->app_data_seen && !(s->hb_flags & SW_TLS_HB_ENCRYPTED)) {
            s->hb_flags |= SW_TLS_HB_ENCRYPTED;
            ctr_inc(s, SW_TLS_CTR_HEARTBEAT_ENCRYPTED);
        }
        s->hb_inflight = true;
        s->hb_req_len = d->rlen;
    } else if (s->hb_inflight) {
        s->hb_inflight = false;
        if (d->rlen != s->hb_req_len) {
            set_event(s, SW_TLS_EV_DATALEAK_HEARTBEAT_MISMATCH);
            s->hb_flags |= SW_TLS_HB_ENCRYPTED_MISMATCH;
            ctr_inc(s, SW_TLS_CTR_HEARTBEAT_MISMATCH);
        }
    }
}

static void hb_header_done(sw_tls_state *s, tls_dir *d)
{
    uint8_t t = d->hb[0];
    uint32_t pl = (uint32_t)d->hb[1] << 8 | d->hb[2];
    if (t != 1 && t != 2) {
        set_event(s, SW_TLS_EV_INVALID_HEARTBEAT);
        s->hb_flags |= SW_TLS_HB_INVALID;
        ctr_inc(s, SW_TLS_CTR_HEARTBEAT_INVALID);
        return;
    }
    /* RFC 6520: payload plus at least 16 bytes of padding must fit. */
    if (pl + 3 + 16 > d->rlen) {
        set_event(s, SW_TLS_EV_OVERFLOW_HEARTBEAT);
        if (!(s->hb_flags & SW_TLS_HB_OVERFLOW))
            ctr_inc(s, SW_TLS_CTR_HEARTBEAT_OVERFLOW);
        s->hb_flags |= SW_TLS_HB_OVERFLOW;
    }
}

/* ------------------------------------------------------------------ */
/* record layer */

static int dir_dead(sw_tls_state *s, tls_dir *d, int ev)
{
    set_event(s, ev);
    ctr_inc(s, SW_TLS_CTR_INVALID_RECORD);
    d->framing = FR_DEAD;
    return -1;
}

static void record_begin(sw_tls_state *s, int dir)
{
    tls_dir *d = &s->d[dir];
    d->records++;
    ctr_inc(s, SW_TLS_CTR_RECORDS);
    d->in_record = true;
    d->rgot = 0;
    if (d->rlen > s->cfg.max_record) {
        ctr_inc(s, SW_TLS_CTR_RECORD_TOO_LARGE);
        set_event(s, SW_TLS_EV_INVALID_SSL_RECORD);
    }
    switch (d->rtype) {
    case CT_CCS:
        d->encrypted = true;
        s->progress |= SW_TLS_ENCRYPTED;
        if (dir == 1)
            s->progress |= SW_TLS_HANDSHAKE_DONE;
        break;
    case CT_APPDATA:
        s->app_data_seen = true;
        break;
    case CT_HEARTBEAT:
        hb_record_start(s, dir);
        break;
    default:
        break;
    }
    if (s->server_version == 0 && dir == 1 && d->rhdr_need == 5)
        s->server_version = (uint16_t)(d->rhdr[1] << 8 | d->rhdr[2]);
}

/* Consumes record payload bytes; returns how many were used. */
static size_t record_payload(sw_tls_state *s, int dir, const uint8_t *p, size_t n)
{
    tls_dir *d = &s->d[dir];
    size_t take = d->rlen - d->rgot;
    if (take > n)
        take = n;
    if (d->framing == FR_V2 || d->v2_first_msg) {
        if (d->v2_first_msg) {
            if (d->rgot == 0 && take == d->rlen) {
                parse_v2_message(s, dir, p, take);
                d->v2_first_msg = false;
            } else if (hs_reserve(s, d, d->rlen)) {
                memcpy(d->hbuf + d->rgot, p, take);
                if (d->rgot + take == d->rlen) {
                    parse_v2_message(s, dir, d->hbuf, d->rlen);
                    d->v2_first_msg = false;
                }
            } else {
                d->v2_first_msg = false;
            }
        }
    } else if (d->rtype == CT_HANDSHAKE && !d->encrypted) {
        hs_feed(s, dir, p, take);
    } else if (d->rtype == CT_HEARTBEAT && !d->encrypted) {
        for (size_t i = 0; i < take && d->hb_got < 3; i++) {
            d->hb[d->hb_got++] = p[i];
            if (d->hb_got == 3 && d->rlen >= 3)
                hb_header_done(s, d);
        }
    } else if (d->rtype == CT_ALERT && !d->encrypted && d->rgot == 0 && take >= 1 &&
               p[0] == 2) {
        set_event(s, SW_TLS_EV_ERROR_MESSAGE_ENCOUNTERED);
    }
    d->rgot += (uint32_t)take;
    if (d->rgot == d->rlen)
        d->in_record = false;
    return take;
}

static bool valid_v3_type(uint8_t t)
{
    return t >= CT_CCS && t <= CT_HEARTBEAT;
}

/* A full record header is in d->rhdr (rhdr_need bytes). */
static int header_done(sw_tls_state *s, int dir)
{
    tls_dir *d = &s->d[dir];
    const uint8_t *h = d->rhdr;
    if (d->rhdr_need == 5) {
        if (!valid_v3_type(h[0]))
            return dir_dead(s, d, SW_TLS_EV_INVALID_RECORD_TYPE);
        if (h[1] != 3)
            return dir_dead(s, d, SW_TLS_EV_INVALID_RECORD_VERSION);
        if (d->framing == FR_UNKNOWN)
            d->framing = FR_V3;
        d->rtype = h[0];
        d->rlen = (uint32_t)h[3] << 8 | h[4];
        record_begin(s, dir);
        return 0;
    }
    /* SSLv2: 2-byte header (bit 7 set) or 3-byte header with padding. */
    if (h[0] & 0x80)
        d->rlen = (uint32_t)(h[0] & 0x7f) << 8 | h[1];
    else
        d->rlen = (uint32_t)(h[0] & 0x3f) << 8 | h[1];
    if (d->rlen == 0)
        return dir_dead(s, d, SW_TLS_EV_INVALID_SSLV2_HEADER);
    d->rtype = 0;
    bool first = d->records == 0;
    record_begin(s, dir);
    d->v2_first_msg = first;
    return 0;
}

/* Picks the header size from the first byte of a record: SSLv3+ records
 * start with a content type; SSLv2 (and SSLv2-compatible hellos, which
 * only ever open a stream) start with a length that has bit 7 set. */
static int header_size(const sw_tls_state *s, int dir, uint8_t b)
{
    const tls_dir *d = &s->d[dir];
    if (d->framing == FR_V2)
        return (b & 0x80) ? 2 : 3;
    if (valid_v3_type(b))
        return 5;
    if (d->records == 0 && (b & 0x80))
        return 2;
    return 0;
}

int sw_tls_feed(sw_tls_state *s, int dir, const uint8_t *data, size_t len)
{
    if (!s || dir < 0 || dir > 1 || (!data && len))
        return -1;
    tls_dir *d = &s->d[dir];
    while (len > 0) {
        if (d->framing == FR_DEAD)
            return -1;
        if (d->in_record) {
            size_t used = record_payload(s, dir, data, len);
            data += used;
            len -= used;
            continue;
        }
        if (d->rhdr_got == 0) {
            int need = header_size(s, dir, data[0]);
            if (need == 0)
                return dir_dead(s, d, SW_TLS_EV_INVALID_TLS_HEADER);
            d->rhdr_need = (uint8_t)need;
        }
        d->rhdr[d->rhdr_got++] = *data++;
        len--;
        if (d->rhdr_got == d->rhdr_need) {
            d->rhdr_got = 0;
            if (header_done(s, dir) != 0)
                return -1;
            if (d->rlen == 0)
                d->in_record = false;
        }
    }
    return d->framing == FR_DEAD ? -1 : 0;
}

void sw_tls_gap(sw_tls_state *s, int dir)
{
    if (!s || dir < 0 || dir > 1)
        return;
    s->d[dir].framing = FR_DEAD;
}

/* ------------------------------------------------------------------ */
/* lifecycle and accessors */

sw_tls_state *sw_tls_new(const sw_tls_config *cfg, uint64_t *ctr)
{
    sw_tls_state *s = calloc(1, sizeof *s);
    if (!s) {
        if (ctr)
            SW_CTR_INC(ctr, SW_TLS_CTR_ALLOC_FAIL);
        return NULL;
    }
    if (cfg)
        s->cfg = *cfg;
    else
        sw_tls_config_defaults(&s->cfg);
    if (s->cfg.max_handshake < 1024)
        s->cfg.max_handshake = 1024;
    s->ctr = ctr;
    return s;
}

void sw_tls_free(sw_tls_state *s)
{
    if (!s)
        return;
    free(s->d[0].hbuf);
    free(s->d[1].hbuf);
    free(s->chain);
    free(s);
}

unsigned sw_tls_certs(const sw_tls_state *s, const uint8_t **der, uint32_t *len, unsigned max)
{
    unsigned n = 0;
    for (; s->chain && n < s->n_certs && n < max; n++) {
        der[n] = s->chain + s->cert_off[n];
        len[n] = s->cert_len[n];
    }
    return n;
}

void sw_tls_drop_certs(sw_tls_state *s)
{
    free(s->chain);
    s->chain = NULL;
    s->n_certs = 0;
}

uint32_t sw_tls_progress(const sw_tls_state *s) { return s->progress; }
uint32_t sw_tls_heartbeat_flags(const sw_tls_state *s) { return s->hb_flags; }
uint32_t sw_tls_events(const sw_tls_state *s) { return s->events; }
uint64_t sw_tls_record_count(const sw_tls_state *s, int dir)
{
    return dir == 0 || dir == 1 ? s->d[dir].records : 0;
}

static const char *nz(const char *p)
{
    return p[0] ? p : NULL;
}

const char *sw_tls_sni(const sw_tls_state *s) { return nz(s->sni); }
const char *sw_tls_cert_subject(const sw_tls_state *s)
{
    return s->progress & SW_TLS_CERT ? s->subject : NULL;
}
const char *sw_tls_cert_issuer(const sw_tls_state *s)
{
    return s->progress & SW_TLS_CERT ? s->issuer : NULL;
}
const char *sw_tls_cert_serial(const sw_tls_state *s) { return nz(s->serial); }
const char *sw_tls_cert_fingerprint(const sw_tls_state *s) { return nz(s->fingerprint); }
const char *sw_tls_cert_notbefore(const sw_tls_state *s) { return nz(s->notbefore); }
const char *sw_tls_cert_notafter(const sw_tls_state *s) { return nz(s->notafter); }
int64_t sw_tls_cert_notbefore_epoch(const sw_tls_state *s) { return s->notbefore_epoch; }
int64_t sw_tls_cert_notafter_epoch(const sw_tls_state *s) { return s->notafter_epoch; }
unsigned sw_tls_cert_chain_len(const sw_tls_state *s) { return s->chain_len; }
const char *sw_tls_ja3_string(const sw_tls_state *s) { return nz(s->ja3_str); }
const char *sw_tls_ja3_hash(const sw_tls_state *s) { return nz(s->ja3_hash); }
const char *sw_tls_ja3s_string(const sw_tls_state *s) { return nz(s->ja3s_str); }
const char *sw_tls_ja3s_hash(const sw_tls_state *s) { return nz(s->ja3s_hash); }
const char *sw_tls_ja4(const sw_tls_state *s) { return nz(s->ja4); }
uint16_t sw_tls_server_version(const sw_tls_state *s) { return s->server_version; }
uint16_t sw_tls_client_version(const sw_tls_state *s) { return s->ch_version; }
bool sw_tls_session_resumed(const sw_tls_state *s) { return s->session_resumed; }
uint16_t sw_tls_server_cipher(const sw_tls_state *s) { return s->sh_cipher; }

size_t sw_tls_alpn_count(const sw_tls_state *s, int dir)
{
    return dir == 0 || dir == 1 ? s->alpn[dir].n : 0;
}

const char *sw_tls_alpn(const sw_tls_state *s, int dir, size_t i)
{
    if ((dir != 0 && dir != 1) || i >= s->alpn[dir].n)
        return NULL;
    return s->alpn[dir].v[i];
}

const char *sw_tls_version_name(uint16_t v, char *buf, size_t cap)
{
    switch (v) {
    case 0: return "UNDETERMINED";
    case 0x0002: return "SSLv2";
    case 0x0300: return "SSLv3";
    case 0x0301: return "TLSv1";
    case 0x0302: return "TLS 1.1";
    case 0x0303: return "TLS 1.2";
    case 0x0304: return "TLS 1.3";
    case 0x7f01: return "TLS 1.3 draft-<16";
    case 0xfb14: return "TLS 1.3 draft-20-fb";
    case 0xfb15: return "TLS 1.3 draft-21-fb";
    case 0xfb16: return "TLS 1.3 draft-22-fb";
    case 0xfb17: return "TLS 1.3 draft-23-fb";
    case 0xfb1a: return "TLS 1.3 draft-26-fb";
    default: break;
    }
    if (v >= 0x7f10 && v <= 0x7f1c)
        snprintf(buf, cap, "TLS 1.3 draft-%u", (unsigned)(v & 0xff));
    else
        snprintf(buf, cap, "0x%04x", v);
    return buf;
}

const char *sw_tls_version_str(const sw_tls_state *s, char *buf, size_t cap)
{
    /* Suricata 8.0.3 (bug 5713) logs the ClientHello's version when the
     * server never answered, e.g. a C2 server that resets after the hello;
     * UNDETERMINED is left for sessions without any hello. */
    return sw_tls_version_name(s->server_version ? s->server_version : s->ch_version, buf,
                               cap);
}
