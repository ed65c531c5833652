/* Suricata rule language: header and options into an sw_rule.
 *
 * The parser follows Suricata's own (detect-parse.c) on the points that
 * decide whether real rule sets load: options end at an unescaped ';',
 * content modifiers apply to the latest content, sticky buffers apply to
 * every following byte option until the next one, legacy http_* modifiers
 * move the latest content into their buffer. Anything we cannot evaluate
 * makes the rule "unsupported" (skipped and reported), never half-loaded. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <ctype.h>
#include <errno.h>
#include <netinet/in.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signatures/rule.h"

#define MAX_RULE_LEN (64 * 1024)

uint32_t sw_flowbit_hash(const char *name, size_t n)
{
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < n; i++) {
        h ^= (uint8_t)name[i];
        h *= 16777619u;
    }
    return h ? h : 1;
}

static const struct {
    const char *name;
    int app;
} app_names[] = {
    {"http", SW_APP_HTTP},     {"http1", SW_APP_HTTP},    {"http2", SW_APP_HTTP2},
    {"dns", SW_APP_DNS},       {"tls", SW_APP_TLS},       {"ssl", SW_APP_TLS},
    {"smtp", SW_APP_SMTP},     {"ssh", SW_APP_SSH},       {"ftp", SW_APP_FTP},
    {"ftp-data", SW_APP_FTP_DATA},                        {"smb", SW_APP_SMB},
    {"dcerpc", SW_APP_DCERPC}, {"krb5", SW_APP_KRB5},     {"nfs", SW_APP_NFS},
    {"ntp", SW_APP_NTP},       {"dhcp", SW_APP_DHCP},     {"snmp", SW_APP_SNMP},
    {"sip", SW_APP_SIP},       {"rdp", SW_APP_RDP},       {"rfb", SW_APP_RFB},
    {"imap", SW_APP_IMAP},     {"pop3", SW_APP_POP3},     {"tftp", SW_APP_TFTP},
    {"mqtt", SW_APP_MQTT},     {"ike", SW_APP_IKE},       {"modbus", SW_APP_MODBUS},
    {"dnp3", SW_APP_DNP3},     {"enip", SW_APP_ENIP},     {"telnet", SW_APP_TELNET},
    {"irc", SW_APP_IRC},
};

const char *sw_app_proto_name(int app)
{
    for (size_t i = 0; i < sizeof(app_names) / sizeof(app_names[0]); i++)
        if (app_names[i].app == app)
            return app_names[i].name;
    return "unknown";
}

/* Sticky buffers and legacy content modifiers, by name. */
static const struct {
    const char *name;
    int buf;
    bool sticky; /* false: legacy modifier of the previous content */
} buf_names[] = {
    {"pkt_data", SW_BUF_PAYLOAD, true},
    {"http.uri", SW_BUF_HTTP_URI, true},
    {"http_uri", SW_BUF_HTTP_URI, false},
    {"http.uri.raw", SW_BUF_HTTP_URI_RAW, true},
    {"http_raw_uri", SW_BUF_HTTP_URI_RAW, false},
    {"http.host", SW_BUF_HTTP_HOST, true},
    {"http_host", SW_BUF_HTTP_HOST, false},
    {"http.host.raw", SW_BUF_HTTP_HOST_RAW, true},
    {"http_raw_host", SW_BUF_HTTP_HOST_RAW, false},
    {"http.method", SW_BUF_HTTP_METHOD, true},
    {"http_method", SW_BUF_HTTP_METHOD, false},
    {"http.user_agent", SW_BUF_HTTP_USER_AGENT, true},
    {"http_user_agent", SW_BUF_HTTP_USER_AGENT, false},
    {"http.header", SW_BUF_HTTP_HEADER, true},
    {"http_header", SW_BUF_HTTP_HEADER, false},
    {"http.header.raw", SW_BUF_HTTP_HEADER_RAW, true},
    {"http_raw_header", SW_BUF_HTTP_HEADER_RAW, false},
    {"http.header_names", SW_BUF_HTTP_HEADER_NAMES, true},
    {"http.cookie", SW_BUF_HTTP_COOKIE, true},
    {"http_cookie", SW_BUF_HTTP_COOKIE, false},
    {"http.request_line", SW_BUF_HTTP_REQUEST_LINE, true},
    {"http_request_line", SW_BUF_HTTP_REQUEST_LINE, true},
    {"http.request_body", SW_BUF_HTTP_REQUEST_BODY, true},
    {"http_client_body", SW_BUF_HTTP_REQUEST_BODY, false},
    {"http.stat_code", SW_BUF_HTTP_STAT_CODE, true},
    {"http_stat_code", SW_BUF_HTTP_STAT_CODE, false},
    {"http.stat_msg", SW_BUF_HTTP_STAT_MSG, true},
    {"http_stat_msg", SW_BUF_HTTP_STAT_MSG, false},
    {"http.response_line", SW_BUF_HTTP_RESPONSE_LINE, true},
    {"http_response_line", SW_BUF_HTTP_RESPONSE_LINE, true},
    {"http.content_type", SW_BUF_HTTP_CONTENT_TYPE, true},
    {"http_content_type", SW_BUF_HTTP_CONTENT_TYPE, true},
    {"http.content_len", SW_BUF_HTTP_CONTENT_LEN, true},
    {"http_content_len", SW_BUF_HTTP_CONTENT_LEN, true},
    {"http.response_header", SW_BUF_HTTP_RESPONSE_HEADER, true},
    {"http.response_body", SW_BUF_HTTP_RESPONSE_BODY, true},
    {"http_server_body", SW_BUF_HTTP_RESPONSE_BODY, false},
    {"file.data", SW_BUF_HTTP_RESPONSE_BODY, true},
    {"file_data", SW_BUF_HTTP_RESPONSE_BODY, true},
    {"http.referer", SW_BUF_HTTP_REFERER, true},
    {"http_referer", SW_BUF_HTTP_REFERER, true},
    {"http.accept", SW_BUF_HTTP_ACCEPT, true},
    {"http_accept", SW_BUF_HTTP_ACCEPT, true},
    {"http.accept_enc", SW_BUF_HTTP_ACCEPT_ENC, true},
    {"http_accept_enc", SW_BUF_HTTP_ACCEPT_ENC, true},
    {"http.accept_lang", SW_BUF_HTTP_ACCEPT_LANG, true},
    {"http_accept_lang", SW_BUF_HTTP_ACCEPT_LANG, true},
    {"http.connection", SW_BUF_HTTP_CONNECTION, true},
    {"http_connection", SW_BUF_HTTP_CONNECTION, true},
    {"http.location", SW_BUF_HTTP_LOCATION, true},
    {"http.server", SW_BUF_HTTP_SERVER, true},
    {"http.protocol", SW_BUF_HTTP_PROTOCOL, true},
    {"http_protocol", SW_BUF_HTTP_PROTOCOL, true},
    {"http.start", SW_BUF_HTTP_START, true},
    {"http_start", SW_BUF_HTTP_START, true},
    {"dns.query", SW_BUF_DNS_QUERY, true},
    {"dns_query", SW_BUF_DNS_QUERY, true},
    {"tls.sni", SW_BUF_TLS_SNI, true},
    {"tls_sni", SW_BUF_TLS_SNI, true},
    {"tls.cert_subject", SW_BUF_TLS_CERT_SUBJECT, true},
    {"tls_cert_subject", SW_BUF_TLS_CERT_SUBJECT, true},
    {"tls.cert_issuer", SW_BUF_TLS_CERT_ISSUER, true},
    {"tls_cert_issuer", SW_BUF_TLS_CERT_ISSUER, true},
    {"tls.cert_serial", SW_BUF_TLS_CERT_SERIAL, true},
    {"tls_cert_serial", SW_BUF_TLS_CERT_SERIAL, true},
    {"tls.cert_fingerprint", SW_BUF_TLS_CERT_FINGERPRINT, true},
    {"tls_cert_fingerprint", SW_BUF_TLS_CERT_FINGERPRINT, true},
    {"tls.certs", SW_BUF_TLS_CERTS, true},
    {"ja3.hash", SW_BUF_JA3_HASH, true},
    {"ja3_hash", SW_BUF_JA3_HASH, true},
    {"ja3.string", SW_BUF_JA3_STRING, true},
    {"ja3_string", SW_BUF_JA3_STRING, true},
    {"ja3s.hash", SW_BUF_JA3S_HASH, true},
    {"ja3s_hash", SW_BUF_JA3S_HASH, true},
    {"ja4.hash", SW_BUF_JA4_HASH, true},
    {"file.name", SW_BUF_FILE_NAME, true},
    {"file_name", SW_BUF_FILE_NAME, true},
    {"base64_data", SW_BUF_BASE64, true},
};

/* pcre flags that name a buffer (Suricata's /U /I /P ... ). */
static int pcre_flag_buf(char f)
{
    switch (f) {
    case 'U': return SW_BUF_HTTP_URI;
    case 'I': return SW_BUF_HTTP_URI_RAW;
    case 'P': return SW_BUF_HTTP_REQUEST_BODY;
    case 'Q': return SW_BUF_HTTP_RESPONSE_BODY;
    case 'H': return SW_BUF_HTTP_HEADER;
    case 'D': return SW_BUF_HTTP_HEADER_RAW;
    case 'M': return SW_BUF_HTTP_METHOD;
    case 'C': return SW_BUF_HTTP_COOKIE;
    case 'S': return SW_BUF_HTTP_STAT_CODE;
    case 'Y': return SW_BUF_HTTP_STAT_MSG;
    case 'V': return SW_BUF_HTTP_USER_AGENT;
    case 'W': return SW_BUF_HTTP_HOST;
    case 'Z': return SW_BUF_HTTP_HOST_RAW;
    default: return -1;
    }
}

/* Keywords that do not change what matches (or only change logging). */
static const char *const ignored_kw[] = {"reference", "rawbytes", "tag", "requires",
                                         "prefilter", NULL};

typedef struct pstate {
    const sw_parse_ctx *ctx;
    sw_rule *r;
    sw_sm sm[SW_RULE_MAX_SM];
    int n_sm;
    int cur_buf;
    int last_content; /* index in sm[], -1 none */
    int last_sm_in_buf[SW_BUF_COUNT];
    char *why;
    size_t whylen;
    char *kw;
    size_t kwlen;
    char meta[4096];
    size_t meta_len;
    bool meta_over;
    bool has_b64decode;
    char vars[SW_RULE_MAX_VARS][32]; /* byte_extract names, in order */
    int n_vars;
} pstate;

/* The 1-based index of byte_extract variable name, 0 when there is none. */
static uint8_t var_ref(const pstate *p, const char *name)
{
    for (int i = 0; i < p->n_vars; i++)
        if (!strcmp(p->vars[i], name))
            return (uint8_t)(i + 1);
    return 0;
}

static sw_parse_result fail(pstate *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static sw_parse_result fail(pstate *p, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->why, p->whylen, fmt, ap);
    va_end(ap);
    return SW_PARSE_ERROR;
}

static sw_parse_result unsupported(pstate *p, const char *kw, const char *what)
{
    snprintf(p->kw, p->kwlen, "%s", kw);
    snprintf(p->why, p->whylen, "unsupported %s '%s'", what, kw);
    return SW_PARSE_UNSUPPORTED;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = 0;
    return s;
}

/* "..." -> unescaped copy in place. Returns NULL when not quoted. */
static char *unquote(char *v)
{
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return NULL;
    v[n - 1] = 0;
    char *s = v + 1, *d = v + 1;
    char *out = d;
    while (*s) {
        if (*s == '\\' && s[1])
            s++;
        *d++ = *s++;
    }
    *d = 0;
    return out;
}

static bool parse_i32(const char *s, int32_t *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 0);
    while (isspace((unsigned char)*end))
        end++;
    if (end == s || *end || errno || v < -1000000000 || v > 1000000000)
        return false;
    *out = (int32_t)v;
    return true;
}

static bool parse_u64(const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    while (isspace((unsigned char)*s))
        s++;
    if (*s == '-')
        return false;
    unsigned long long v = strtoull(s, &end, 0);
    while (isspace((unsigned char)*end))
        end++;
    if (end == s || *end || errno)
        return false;
    *out = v;
    return true;
}

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = tolower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Decodes the inside of a content string: |hex| blocks and \-escapes. */
static int decode_content(const char *s, uint8_t *out, size_t cap, size_t *outlen)
{
    size_t n = 0;
    bool hex = false;
    int hi = -1;
    for (; *s; s++) {
        if (*s == '|') {
            if (hex && hi >= 0)
                return -1;
            hex = !hex;
            continue;
        }
        if (hex) {
            if (isspace((unsigned char)*s))
                continue;
            int v = hexval((unsigned char)*s);
            if (v < 0)
                return -1;
            if (hi < 0) {
                hi = v;
            } else {
                if (n >= cap)
                    return -1;
                out[n++] = (uint8_t)(hi << 4 | v);
                hi = -1;
            }
            continue;
        }
        if (*s == '\\') {
            s++;
            if (!*s)
                return -1;
        } else if (*s == '"' || *s == ';') {
            return -1; /* must be escaped */
        }
        if (n >= cap)
            return -1;
        out[n++] = (uint8_t)*s;
    }
    if (hex)
        return -1;
    *outlen = n;
    return 0;
}

static sw_sm *new_sm(pstate *p, int type)
{
    if (p->n_sm >= SW_RULE_MAX_SM)
        return NULL;
    sw_sm *s = &p->sm[p->n_sm];
    memset(s, 0, sizeof(*s));
    s->type = (uint8_t)type;
    s->buf = (uint8_t)p->cur_buf;
    p->last_sm_in_buf[p->cur_buf] = p->n_sm;
    p->n_sm++;
    return s;
}

static sw_parse_result kw_content(pstate *p, char *v)
{
    bool neg = false;
    v = trim(v);
    if (*v == '!') {
        neg = true;
        v = trim(v + 1);
    }
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return fail(p, "content: value must be quoted");
    v[n - 1] = 0;
    uint8_t tmp[4096];
    size_t len;
    if (decode_content(v + 1, tmp, sizeof(tmp), &len) < 0)
        return fail(p, "content: bad string (unescaped char or bad hex)");
    if (len == 0)
        return fail(p, "content: empty");
    sw_sm *s = new_sm(p, SW_SM_CONTENT);
    if (!s)
        return fail(p, "too many options");
    s->u.c.pat = malloc(len);
    if (!s->u.c.pat)
        return fail(p, "out of memory");
    memcpy(s->u.c.pat, tmp, len);
    s->u.c.len = (uint32_t)len;
    if (neg)
        s->u.c.flags |= SW_CF_NEGATED;
    p->last_content = p->n_sm - 1;
    return SW_PARSE_OK;
}

static sw_content *last_content(pstate *p)
{
    return p->last_content >= 0 ? &p->sm[p->last_content].u.c : NULL;
}

static sw_parse_result kw_content_mod(pstate *p, const char *kw, char *v)
{
    sw_content *c = last_content(p);
    if (!c)
        return fail(p, "%s without a preceding content", kw);
    int32_t n = 0;
    if (strcmp(kw, "nocase") == 0) {
        c->flags |= SW_CF_NOCASE;
    } else if (strcmp(kw, "startswith") == 0) {
        c->flags |= SW_CF_STARTSWITH;
    } else if (strcmp(kw, "endswith") == 0) {
        c->flags |= SW_CF_ENDSWITH;
    } else if (strcmp(kw, "fast_pattern") == 0) {
        c->flags |= SW_CF_FAST_PATTERN;
        if (v) {
            v = trim(v);
            if (strcmp(v, "only") == 0) {
                c->flags |= SW_CF_FP_ONLY;
            } else {
                char *comma = strchr(v, ',');
                int32_t off, len;
                if (!comma)
                    return fail(p, "fast_pattern: bad value");
                *comma = 0;
                if (!parse_i32(v, &off) || !parse_i32(comma + 1, &len) || off < 0 || len <= 0 ||
                    (uint32_t)off + (uint32_t)len > c->len)
                    return fail(p, "fast_pattern: chop outside the content");
                c->flags |= SW_CF_FP_CHOP;
                c->fp_chop_off = (uint32_t)off;
                c->fp_chop_len = (uint32_t)len;
            }
        }
    } else {
        uint8_t var = v ? var_ref(p, trim(v)) : 0;
        if (var)
            n = 1; /* checked when the variable's value is known */
        else if (!v || !parse_i32(trim(v), &n))
            return v && isalpha((unsigned char)*trim(v))
                       ? fail(p, "%s: '%s' is not a byte_extract variable of this rule", kw, trim(v))
                       : fail(p, "%s: bad number", kw);
        if (strcmp(kw, "depth") == 0) {
            if (n <= 0)
                return fail(p, "depth must be > 0");
            c->depth = n;
            c->var_depth = var;
            c->flags |= SW_CF_DEPTH;
        } else if (strcmp(kw, "offset") == 0) {
            if (n < 0)
                return fail(p, "offset must be >= 0");
            c->offset = n;
            c->var_offset = var;
            c->flags |= SW_CF_OFFSET;
        } else if (strcmp(kw, "distance") == 0) {
            c->distance = n;
            c->var_distance = var;
            c->flags |= SW_CF_DISTANCE;
        } else { /* within */
            if (n <= 0)
                return fail(p, "within must be > 0");
            c->within = n;
            c->var_within = var;
            c->flags |= SW_CF_WITHIN;
        }
    }
    if ((c->flags & (SW_CF_DISTANCE | SW_CF_WITHIN)) && (c->flags & (SW_CF_DEPTH | SW_CF_OFFSET)))
        return fail(p, "content mixes relative (distance/within) and absolute (offset/depth)");
    return SW_PARSE_OK;
}

static sw_parse_result kw_pcre(pstate *p, char *v)
{
    v = trim(v);
    uint32_t flags = 0;
    if (*v == '!') {
        flags |= SW_PCRE_NEGATED;
        v = trim(v + 1);
    }
    size_t n = strlen(v);
    if (n < 2 || v[0] != '"' || v[n - 1] != '"')
        return fail(p, "pcre: value must be quoted");
    v[n - 1] = 0;
    v++;
    if (*v != '/')
        return fail(p, "pcre: missing leading '/'");
    char *last = strrchr(v, '/');
    if (last == v)
        return fail(p, "pcre: missing trailing '/'");
    *last = 0;
    const char *re = v + 1;
    uint32_t opts = 0;
    int buf = p->cur_buf;
    for (const char *f = last + 1; *f; f++) {
        switch (*f) {
        case 'i': opts |= PCRE2_CASELESS; break;
        case 's': opts |= PCRE2_DOTALL; break;
        case 'm': opts |= PCRE2_MULTILINE; break;
        case 'x': opts |= PCRE2_EXTENDED; break;
        case 'A': opts |= PCRE2_ANCHORED; break;
        case 'E': opts |= PCRE2_DOLLAR_ENDONLY; break;
        case 'G': opts |= PCRE2_UNGREEDY; break;
        case 'R': flags |= SW_PCRE_RELATIVE; break;
        case 'B': case 'O': break; /* rawbytes / match-limit override */
        default: {
            int b = pcre_flag_buf(*f);
            if (b < 0)
                return fail(p, "pcre: unknown flag '%c'", *f);
            buf = b;
        }
        }
    }
    int ec;
    PCRE2_SIZE eo;
    pcre2_code *code = pcre2_compile((PCRE2_SPTR)re, PCRE2_ZERO_TERMINATED, opts, &ec, &eo, NULL);
    if (!code) {
        char msg[128];
        pcre2_get_error_message(ec, (PCRE2_UCHAR *)msg, sizeof(msg));
        return fail(p, "pcre: %s at offset %zu", msg, (size_t)eo);
    }
    (void)pcre2_jit_compile(code, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    int saved = p->cur_buf;
    p->cur_buf = buf;
    sw_sm *s = new_sm(p, SW_SM_PCRE);
    p->cur_buf = saved;
    if (!s) {
        pcre2_code_free(code);
        return fail(p, "too many options");
    }
    s->u.p.code = code;
    s->u.p.flags = flags;
    return SW_PARSE_OK;
}

/* Splits a comma-separated value into at most max trimmed fields. */
static int split_commas(char *v, char **f, int max)
{
    int n = 0;
    char *s = v;
    while (n < max) {
        char *c = strchr(s, ',');
        if (c)
            *c = 0;
        f[n++] = trim(s);
        if (!c)
            break;
        s = c + 1;
    }
    return n;
}

static sw_parse_result byte_common_flag(pstate *p, const char *f, sw_byteop *b, const char *kw)
{
    if (strcmp(f, "relative") == 0)
        b->flags |= SW_BT_RELATIVE;
    else if (strcmp(f, "little") == 0)
        b->flags |= SW_BT_LITTLE;
    else if (strcmp(f, "big") == 0)
        b->flags &= ~(uint32_t)SW_BT_LITTLE;
    else if (strcmp(f, "string") == 0)
        b->flags |= SW_BT_STRING;
    else if (strcmp(f, "hex") == 0)
        b->base = 16;
    else if (strcmp(f, "dec") == 0)
        b->base = 10;
    else if (strcmp(f, "oct") == 0)
        b->base = 8;
    else if (strncmp(f, "bitmask", 7) == 0) {
        uint64_t m;
        if (!parse_u64(f + 7, &m) || m == 0)
            return fail(p, "%s: bad bitmask", kw);
        b->bitmask = m;
        b->flags |= SW_BT_BITMASK;
    } else if (strcmp(f, "dce") == 0)
        return unsupported(p, "dce", "option of byte_test/byte_jump");
    else
        return fail(p, "%s: unknown option '%s'", kw, f);
    return SW_PARSE_OK;
}

static sw_parse_result byte_finish(pstate *p, sw_byteop *b, const char *kw)
{
    if (b->flags & SW_BT_STRING) {
        if (b->nbytes == 0)
            b->flags |= SW_BT_TO_END;
        if (!b->base)
            b->base = 10;
        if (b->nbytes > 20)
            return fail(p, "%s: string of more than 20 bytes", kw);
    } else {
        if (b->base)
            return fail(p, "%s: hex/dec/oct need 'string'", kw);
        if (b->nbytes > 8)
            return fail(p, "%s: more than 8 bytes without 'string'", kw);
    }
    if (b->nbytes == 0 && !(b->flags & SW_BT_TO_END))
        return fail(p, "%s: zero bytes", kw);
    return SW_PARSE_OK;
}

static sw_parse_result kw_byte_test(pstate *p, char *v)
{
    char *f[16];
    int n = split_commas(v, f, 16);
    if (n < 4)
        return fail(p, "byte_test: needs bytes, operator, value, offset");
    sw_sm *s = new_sm(p, SW_SM_BYTE_TEST);
    if (!s)
        return fail(p, "too many options");
    sw_byteop *b = &s->u.b;
    uint64_t nb;
    /* 0 with "string": the digits up to the end of the buffer (Suricata 7) */
    if (!parse_u64(f[0], &nb) || nb > 20)
        return fail(p, "byte_test: bad byte count");
    b->nbytes = (uint8_t)nb;
    const char *op = f[1];
    if (*op == '!') {
        b->flags |= SW_BT_NOT;
        op++;
    }
    if (strcmp(op, "<") == 0 || strcmp(op, ">") == 0 || strcmp(op, "=") == 0 ||
        strcmp(op, "&") == 0 || strcmp(op, "^") == 0)
        b->op = op[0];
    else if (strcmp(op, "<=") == 0)
        b->op = 'l';
    else if (strcmp(op, ">=") == 0)
        b->op = 'g';
    else if (*op == 0 && (b->flags & SW_BT_NOT)) /* "!" alone means != */
        b->op = '=';
    else if (strcmp(op, "=") == 0)
        b->op = '=';
    else
        return fail(p, "byte_test: bad operator '%s'", f[1]);
    b->var_value = var_ref(p, f[2]);
    if (!b->var_value && !parse_u64(f[2], &b->value))
        return fail(p, "byte_test: bad value '%s'", f[2]);
    b->var_offset = var_ref(p, f[3]);
    if (!b->var_offset && !parse_i32(f[3], &b->offset))
        return fail(p, "byte_test: bad offset '%s'", f[3]);
    for (int i = 4; i < n; i++) {
        sw_parse_result r = byte_common_flag(p, f[i], b, "byte_test");
        if (r != SW_PARSE_OK)
            return r;
    }
    return byte_finish(p, b, "byte_test");
}

/* byte_extract:<bytes>,<offset>,<name>[,relative][,multiplier N][,align 2|4]
 *              [,big|little][,string][,hex|dec|oct][,bitmask M] */
static sw_parse_result kw_byte_extract(pstate *p, char *v)
{
    char *f[16];
    int n = split_commas(v, f, 16);
    if (n < 3)
        return fail(p, "byte_extract: needs bytes, offset, name");
    if (p->n_vars >= SW_RULE_MAX_VARS)
        return fail(p, "byte_extract: more than %d variables", SW_RULE_MAX_VARS);
    const char *name = f[2];
    if (!isalpha((unsigned char)*name) || strlen(name) >= sizeof(p->vars[0]) || var_ref(p, name))
        return fail(p, "byte_extract: bad or repeated name '%s'", name);
    sw_sm *s = new_sm(p, SW_SM_BYTE_EXTRACT);
    if (!s)
        return fail(p, "too many options");
    sw_byteop *b = &s->u.b;
    b->multiplier = 1;
    uint64_t nb;
    if (!parse_u64(f[0], &nb) || nb == 0 || nb > 20)
        return fail(p, "byte_extract: bad byte count");
    b->nbytes = (uint8_t)nb;
    if (!parse_i32(f[1], &b->offset))
        return fail(p, "byte_extract: bad offset");
    for (int i = 3; i < n; i++) {
        if (strncmp(f[i], "multiplier", 10) == 0) {
            uint64_t m;
            if (!parse_u64(f[i] + 10, &m) || m == 0 || m > 65535)
                return fail(p, "byte_extract: bad multiplier");
            b->multiplier = (uint32_t)m;
        } else if (strncmp(f[i], "align", 5) == 0) {
            uint64_t a;
            if (!parse_u64(f[i] + 5, &a) || (a != 2 && a != 4))
                return fail(p, "byte_extract: align must be 2 or 4");
            b->align_to = (uint8_t)a;
        } else {
            sw_parse_result r = byte_common_flag(p, f[i], b, "byte_extract");
            if (r != SW_PARSE_OK)
                return r;
        }
    }
    b->var = (uint8_t)p->n_vars;
    snprintf(p->vars[p->n_vars++], sizeof(p->vars[0]), "%s", name);
    return byte_finish(p, b, "byte_extract");
}

static sw_parse_result kw_byte_jump(pstate *p, char *v)
{
    char *f[16];
    int n = split_commas(v, f, 16);
    if (n < 2)
        return fail(p, "byte_jump: needs bytes, offset");
    sw_sm *s = new_sm(p, SW_SM_BYTE_JUMP);
    if (!s)
        return fail(p, "too many options");
    sw_byteop *b = &s->u.b;
    b->multiplier = 1;
    uint64_t nb;
    if (!parse_u64(f[0], &nb) || nb == 0 || nb > 20)
        return fail(p, "byte_jump: bad byte count");
    b->nbytes = (uint8_t)nb;
    b->var_offset = var_ref(p, f[1]);
    if (!b->var_offset && !parse_i32(f[1], &b->offset))
        return fail(p, "byte_jump: bad offset '%s'", f[1]);
    for (int i = 2; i < n; i++) {
        if (strcmp(f[i], "align") == 0) {
            b->flags |= SW_BT_ALIGN;
        } else if (strcmp(f[i], "from_beginning") == 0) {
            b->flags |= SW_BT_FROM_BEGIN;
        } else if (strcmp(f[i], "from_end") == 0) {
            b->flags |= SW_BT_FROM_END;
        } else if (strncmp(f[i], "multiplier", 10) == 0) {
            uint64_t m;
            if (!parse_u64(f[i] + 10, &m) || m == 0 || m > 65535)
                return fail(p, "byte_jump: bad multiplier");
            b->multiplier = (uint32_t)m;
        } else if (strncmp(f[i], "post_offset", 11) == 0) {
            if (!parse_i32(trim(f[i] + 11), &b->post_offset))
                return fail(p, "byte_jump: bad post_offset");
        } else {
            sw_parse_result r = byte_common_flag(p, f[i], b, "byte_jump");
            if (r != SW_PARSE_OK)
                return r;
        }
    }
    return byte_finish(p, b, "byte_jump");
}

static sw_parse_result kw_isdataat(pstate *p, char *v)
{
    char *f[4];
    int n = split_commas(v, f, 4);
    sw_sm *s = new_sm(p, SW_SM_ISDATAAT);
    if (!s)
        return fail(p, "too many options");
    const char *num = f[0];
    if (*num == '!') {
        s->u.d.negated = true;
        num++;
    }
    uint64_t x = 0;
    s->u.d.var_n = var_ref(p, num);
    if (!s->u.d.var_n && (!parse_u64(num, &x) || x > 0xffffffffu))
        return fail(p, "isdataat: bad value '%s'", num);
    s->u.d.n = (uint32_t)x;
    for (int i = 1; i < n; i++) {
        if (strcmp(f[i], "relative") == 0)
            s->u.d.relative = true;
        else if (strcmp(f[i], "rawbytes") != 0)
            return fail(p, "isdataat: unknown option '%s'", f[i]);
    }
    return SW_PARSE_OK;
}

static sw_parse_result kw_len(pstate *p, const char *kw, char *v, int buf)
{
    char *f[2];
    int n = split_commas(v, f, 2);
    if (n == 2 && strcmp(kw, "urilen") == 0) {
        if (strcmp(f[1], "raw") == 0)
            buf = SW_BUF_HTTP_URI_RAW;
        else if (strcmp(f[1], "norm") != 0)
            return fail(p, "urilen: bad option");
    }
    int saved = p->cur_buf;
    p->cur_buf = buf;
    sw_sm *s = new_sm(p, SW_SM_BSIZE);
    p->cur_buf = saved;
    if (!s)
        return fail(p, "too many options");
    if (sw_u32cmp_parse(f[0], &s->u.len) < 0)
        return fail(p, "%s: bad value '%s'", kw, f[0]);
    return SW_PARSE_OK;
}

static sw_parse_result kw_flow(pstate *p, char *v)
{
    char *f[8];
    int n = split_commas(v, f, 8);
    for (int i = 0; i < n; i++) {
        const char *x = f[i];
        if (!strcmp(x, "to_server") || !strcmp(x, "from_client"))
            p->r->flow |= SW_FLOW_TO_SERVER;
        else if (!strcmp(x, "to_client") || !strcmp(x, "from_server"))
            p->r->flow |= SW_FLOW_TO_CLIENT;
        else if (!strcmp(x, "established"))
            p->r->flow |= SW_FLOW_ESTABLISHED;
        else if (!strcmp(x, "not_established"))
            p->r->flow |= SW_FLOW_NOT_ESTABLISHED;
        else if (!strcmp(x, "stateless"))
            p->r->flow |= SW_FLOW_STATELESS;
        else if (!strcmp(x, "only_stream"))
            p->r->flow |= SW_FLOW_ONLY_STREAM;
        else if (!strcmp(x, "no_stream"))
            p->r->flow |= SW_FLOW_NO_STREAM;
        else if (!strcmp(x, "no_frag") || !strcmp(x, "only_frag"))
            return unsupported(p, x, "flow option");
        else
            return fail(p, "flow: unknown option '%s'", x);
    }
    if ((p->r->flow & SW_FLOW_TO_SERVER) && (p->r->flow & SW_FLOW_TO_CLIENT))
        return fail(p, "flow: to_server and to_client together");
    return SW_PARSE_OK;
}

static sw_parse_result kw_flowbits(pstate *p, char *v)
{
    char *f[3];
    int n = split_commas(v, f, 3);
    if (n == 1 && strcmp(f[0], "noalert") == 0) {
        p->r->noalert = true;
        return SW_PARSE_OK;
    }
    if (n != 2 || !*f[1])
        return fail(p, "flowbits: expected command,name");
    if (p->r->n_flowbits >= SW_RULE_MAX_FLOWBITS)
        return fail(p, "flowbits: too many in one rule");
    sw_flowbit *fb = &p->r->flowbits[p->r->n_flowbits];
    memset(fb, 0, sizeof(*fb));
    if (!strcmp(f[0], "set"))
        fb->cmd = SW_FB_SET;
    else if (!strcmp(f[0], "isset"))
        fb->cmd = SW_FB_ISSET;
    else if (!strcmp(f[0], "isnotset"))
        fb->cmd = SW_FB_ISNOTSET;
    else if (!strcmp(f[0], "unset"))
        fb->cmd = SW_FB_UNSET;
    else if (!strcmp(f[0], "toggle"))
        fb->cmd = SW_FB_TOGGLE;
    else
        return fail(p, "flowbits: unknown command '%s'", f[0]);
    char *names = f[1];
    fb->and_names = strchr(names, '&') != NULL;
    if (fb->and_names && strchr(names, '|'))
        return fail(p, "flowbits: '&' and '|' mixed");
    char *s = names;
    while (*s) {
        size_t len = strcspn(s, "|&");
        char *nm = s;
        char save = s[len];
        s[len] = 0;
        nm = trim(nm);
        if (!*nm || fb->n >= 4)
            return fail(p, "flowbits: bad name list");
        fb->ids[fb->n++] = sw_flowbit_hash(nm, strlen(nm));
        if (!save)
            break;
        s += len + 1;
    }
    if (fb->n > 1 && fb->cmd != SW_FB_ISSET && fb->cmd != SW_FB_ISNOTSET && fb->cmd != SW_FB_SET &&
        fb->cmd != SW_FB_UNSET && fb->cmd != SW_FB_TOGGLE)
        return fail(p, "flowbits: name list not allowed here");
    p->r->n_flowbits++;
    return SW_PARSE_OK;
}

static sw_parse_result kw_threshold(pstate *p, char *v, bool detection_filter)
{
    if (p->r->threshold.type != SW_THR_NONE)
        return fail(p, "more than one threshold/detection_filter");
    sw_threshold *t = &p->r->threshold;
    t->type = detection_filter ? SW_THR_DETECTION_FILTER : SW_THR_NONE;
    bool have_count = false, have_secs = false, have_track = false;
    char *f[8];
    int n = split_commas(v, f, 8);
    for (int i = 0; i < n; i++) {
        char *k = f[i];
        char *val = k;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val)
            *val++ = 0;
        val = trim(val);
        uint64_t x;
        if (!strcmp(k, "type") && !detection_filter) {
            if (!strcmp(val, "limit"))
                t->type = SW_THR_LIMIT;
            else if (!strcmp(val, "threshold"))
                t->type = SW_THR_THRESHOLD;
            else if (!strcmp(val, "both"))
                t->type = SW_THR_BOTH;
            else
                return fail(p, "threshold: bad type '%s'", val);
        } else if (!strcmp(k, "track")) {
            if (!strcmp(val, "by_src"))
                t->track = SW_TRACK_SRC;
            else if (!strcmp(val, "by_dst"))
                t->track = SW_TRACK_DST;
            else if (!strcmp(val, "by_rule"))
                t->track = SW_TRACK_RULE;
            else if (!strcmp(val, "by_both"))
                t->track = SW_TRACK_BOTH;
            else if (!strcmp(val, "by_flow"))
                return unsupported(p, "track by_flow", "threshold");
            else
                return fail(p, "threshold: bad track '%s'", val);
            have_track = true;
        } else if (!strcmp(k, "count") && parse_u64(val, &x) && x > 0 && x < 0xffffffffu) {
            t->count = (uint32_t)x;
            have_count = true;
        } else if (!strcmp(k, "seconds") && parse_u64(val, &x) && x > 0 && x < 0xffffffffu) {
            t->seconds = (uint32_t)x;
            have_secs = true;
        } else {
            return fail(p, "%s: bad field '%s'", detection_filter ? "detection_filter" : "threshold", k);
        }
    }
    if (t->type == SW_THR_NONE || !have_count || !have_secs || !have_track)
        return fail(p, "%s: needs type, track, count and seconds",
                    detection_filter ? "detection_filter" : "threshold");
    return SW_PARSE_OK;
}

static sw_parse_result kw_metadata(pstate *p, char *v)
{
    char *f[SW_RULE_MAX_META];
    int n = split_commas(v, f, SW_RULE_MAX_META);
    for (int i = 0; i < n; i++) {
        char *k = f[i];
        if (!*k)
            continue;
        char *val = k;
        while (*val && !isspace((unsigned char)*val))
            val++;
        if (*val)
            *val++ = 0;
        val = trim(val);
        size_t kl = strlen(k) + 1, vl = strlen(val) + 1;
        if (p->r->n_meta >= SW_RULE_MAX_META || p->meta_len + kl + vl > sizeof(p->meta)) {
            p->meta_over = true; /* extra metadata is dropped, not an error */
            continue;
        }
        sw_meta *m = &p->r->meta[p->r->n_meta++];
        /* offsets now; pointers once the block is copied */
        m->key = (const char *)(uintptr_t)p->meta_len;
        memcpy(p->meta + p->meta_len, k, kl);
        p->meta_len += kl;
        m->value = (const char *)(uintptr_t)p->meta_len;
        memcpy(p->meta + p->meta_len, val, vl);
        p->meta_len += vl;
    }
    return SW_PARSE_OK;
}

/* Suricata's integer comparison: "N", "!N", "<N", ">N", "<=N", ">=N",
 * "N-M" (exclusive range); decimal or 0x hex. */
static sw_parse_result kw_event(pstate *p, const char *kw, char *v)
{
    sw_rule *r = p->r;
    char *n = v ? trim(v) : NULL;
    if (!n || !*n)
        return fail(p, "%s: missing event name", kw);
    if (!strncasecmp(n, "decoder.", 8))
        n += 8;
    if (!strchr(n, '.'))
        return fail(p, "%s: '%s' is not <protocol>.<event>", kw, n);
    if (strlen(n) >= SW_RULE_EVENT_LEN)
        return fail(p, "%s: event name too long", kw);
    if (r->n_events >= SW_RULE_MAX_EVENTS)
        return fail(p, "%s: more than %d events", kw, SW_RULE_MAX_EVENTS);
    char *d = r->events[r->n_events++];
    for (; *n; n++)
        *d++ = (char)tolower((unsigned char)*n);
    *d = 0;
    return SW_PARSE_OK;
}

static sw_parse_result kw_vlan_id(pstate *p, char *v)
{
    sw_rule *r = p->r;
    if (!v)
        return fail(p, "vlan.id: missing value");
    if (r->n_vlan >= SW_RULE_MAX_VLAN)
        return fail(p, "vlan.id: more than %d conditions", SW_RULE_MAX_VLAN);
    sw_vlan_cond *c = &r->vlan[r->n_vlan];
    memset(c, 0, sizeof(*c));
    char *comma = strchr(v, ',');
    if (comma) {
        *comma = 0;
        char *l = trim(comma + 1);
        char *end;
        if (!strcmp(l, "all"))
            c->mode = 1;
        else if (!strcmp(l, "any"))
            c->mode = 0;
        else {
            long li = strtol(l, &end, 10);
            if (*end || end == l || li < -3 || li > 2)
                return fail(p, "vlan.id: bad layer '%s'", l);
            c->mode = 2;
            c->layer = (int8_t)li;
        }
    }
    if (sw_u32cmp_parse(v, &c->cmp) < 0 || c->cmp.a > 4095)
        return fail(p, "vlan.id: bad value '%s'", v);
    r->n_vlan++;
    return SW_PARSE_OK;
}

static int tcp_flag_bit(char c)
{
    switch (c) {
    case 'F': case 'f': return 0x01;
    case 'S': case 's': return 0x02;
    case 'R': case 'r': return 0x04;
    case 'P': case 'p': return 0x08;
    case 'A': case 'a': return 0x10;
    case 'U': case 'u': return 0x20;
    case 'E': case 'e': case '2': return 0x40;
    case 'C': case 'c': case '1': return 0x80;
    default: return -1;
    }
}

/* flags:[!+*]<FSRPAUCE12 or 0>[+*][,<flags to ignore>]: one modifier,
 * before or after the letters, as Suricata and Snort both accept. */
static sw_parse_result kw_flags(pstate *p, char *v)
{
    sw_rule *r = p->r;
    if (!v)
        return fail(p, "flags: missing value");
    char *comma = strchr(v, ',');
    if (comma)
        *comma = 0;
    char *s = trim(v);
    int mods = 0, letters = 0;
    r->flags = 0;
    r->flags_mod = SW_FLAGS_EXACT;
    for (; *s; s++) {
        int bit = tcp_flag_bit(*s);
        if (bit > 0) {
            r->flags |= (uint8_t)bit;
            letters++;
        } else if (*s == '0') {
            letters++;
        } else if (*s == '+' || *s == '*' || *s == '!') {
            r->flags_mod = *s == '+' ? SW_FLAGS_PLUS : *s == '*' ? SW_FLAGS_ANY : SW_FLAGS_NOT;
            mods++;
        } else if (!isspace((unsigned char)*s)) {
            return fail(p, "flags: unknown flag '%c'", *s);
        }
    }
    if (!letters || mods > 1)
        return fail(p, "flags: %s", letters ? "more than one modifier" : "no flags");
    r->flags_mask = 0xff;
    if (comma) {
        char *ig = trim(comma + 1);
        if (!*ig)
            return fail(p, "flags: empty ignore list");
        for (; *ig; ig++) {
            int bit = tcp_flag_bit(*ig);
            if (bit < 0 && !isspace((unsigned char)*ig))
                return fail(p, "flags: unknown flag '%c' to ignore", *ig);
            if (bit > 0)
                r->flags_mask &= (uint8_t)~bit;
        }
    }
    r->has_flags = true;
    r->packet_only = true;
    return SW_PARSE_OK;
}

/* ip_proto:[!<>]N or a name. */
static sw_parse_result kw_ip_proto(pstate *p, char *v)
{
    static const struct {
        const char *name;
        uint8_t num;
    } names[] = {{"icmp", 1}, {"igmp", 2}, {"ipip", 4}, {"tcp", 6},  {"udp", 17},
                 {"ipv6", 41}, {"gre", 47}, {"esp", 50}, {"ah", 51}, {"ipv6-icmp", 58},
                 {"icmpv6", 58}, {"pim", 103}, {"sctp", 132}};
    sw_rule *r = p->r;
    char *s = v ? trim(v) : NULL;
    if (!s || !*s)
        return fail(p, "ip_proto: missing value");
    bool neg = *s == '!';
    char *n = trim(s + (neg ? 1 : 0));
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcasecmp(n, names[i].name)) {
            r->ip_proto.op = neg ? SW_CMP_NE : SW_CMP_EQ;
            r->ip_proto.a = names[i].num;
            r->has_ip_proto = true;
            return SW_PARSE_OK;
        }
    }
    if (sw_u32cmp_parse(s, &r->ip_proto) < 0 || r->ip_proto.a > 255)
        return fail(p, "ip_proto: bad value '%s'", s);
    r->has_ip_proto = true;
    return SW_PARSE_OK;
}

/* tls.version:1.0|1.1|1.2|1.3 or a raw 0xNNNN */
static sw_parse_result kw_tls_version(pstate *p, char *v)
{
    static const struct {
        const char *name;
        uint16_t num;
    } names[] = {{"1.0", 0x0301}, {"1.1", 0x0302}, {"1.2", 0x0303}, {"1.3", 0x0304}};
    char *s = v ? trim(v) : NULL;
    if (!s || !*s)
        return fail(p, "tls.version: missing value");
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        if (!strcmp(s, names[i].name)) {
            p->r->tls_version = names[i].num;
            return SW_PARSE_OK;
        }
    }
    char *end;
    errno = 0;
    unsigned long x = strtoul(s, &end, 16);
    if (strncasecmp(s, "0x", 2) != 0 || *end || errno || x == 0 || x > 0xffff)
        return fail(p, "tls.version: bad value '%s'", s);
    p->r->tls_version = (uint16_t)x;
    return SW_PARSE_OK;
}

/* stream_size:<server|client|both|either>,<op>,<n> */
static sw_parse_result kw_stream_size(pstate *p, char *v)
{
    sw_rule *r = p->r;
    char *f[4];
    int n = v ? split_commas(v, f, 4) : 0;
    if (n != 3)
        return fail(p, "stream_size: expected <side>,<operator>,<number>");
    if (!strcmp(f[0], "client"))
        r->stream_size_side = SW_SSIZE_CLIENT;
    else if (!strcmp(f[0], "server"))
        r->stream_size_side = SW_SSIZE_SERVER;
    else if (!strcmp(f[0], "both"))
        r->stream_size_side = SW_SSIZE_BOTH;
    else if (!strcmp(f[0], "either"))
        r->stream_size_side = SW_SSIZE_EITHER;
    else
        return fail(p, "stream_size: unknown side '%s'", f[0]);
    static const char *const ops[] = {"=", "<", ">", "!=", "<=", ">="};
    static const uint8_t codes[] = {SW_CMP_EQ, SW_CMP_LT, SW_CMP_GT,
                                    SW_CMP_NE, SW_CMP_LE, SW_CMP_GE};
    int op = -1;
    for (int i = 0; i < 6; i++)
        if (!strcmp(f[1], ops[i]))
            op = i;
    char *end;
    errno = 0;
    unsigned long num = strtoul(f[2], &end, 10);
    if (op < 0 || !isdigit((unsigned char)f[2][0]) || *end || errno || num > UINT32_MAX)
        return fail(p, "stream_size: bad operator or number");
    r->stream_size.op = codes[op];
    r->stream_size.a = (uint32_t)num;
    return SW_PARSE_OK;
}

/* base64_decode[:bytes N][,offset N][,relative]: decodes from the current
 * buffer (after the previous match when relative) into base64_data. */
static sw_parse_result kw_base64_decode(pstate *p, char *v)
{
    if (p->cur_buf == SW_BUF_BASE64)
        return fail(p, "base64_decode: cannot decode base64_data again");
    sw_sm *s = new_sm(p, SW_SM_B64DECODE);
    if (!s)
        return fail(p, "too many options");
    char *f[4];
    int n = v && *trim(v) ? split_commas(v, f, 4) : 0;
    for (int i = 0; i < n; i++) {
        char *k = f[i], *val = k + strcspn(k, " \t");
        uint32_t *dst = NULL;
        if (!strncmp(k, "bytes", 5) && val == k + 5)
            dst = &s->u.b64.bytes;
        else if (!strncmp(k, "offset", 6) && val == k + 6)
            dst = &s->u.b64.offset;
        else if (!strcmp(k, "relative")) {
            s->u.b64.relative = true;
            continue;
        } else {
            return fail(p, "base64_decode: unknown option '%s'", k);
        }
        val = trim(val);
        char *end;
        errno = 0;
        unsigned long x = strtoul(val, &end, 10);
        if (!isdigit((unsigned char)*val) || *end || errno || x > 65535)
            return fail(p, "base64_decode: bad number '%s'", val);
        *dst = (uint32_t)x;
    }
    p->last_content = -1;
    p->has_b64decode = true;
    return SW_PARSE_OK;
}

/* flowint:<name>,<op>[,<value>]: = + - modify; == != < <= > >= compare;
 * isset / notset (isnotset) test. Values are numbers. */
static sw_parse_result kw_flowint(pstate *p, char *v)
{
    sw_rule *r = p->r;
    char *f[4];
    int n = v ? split_commas(v, f, 4) : 0;
    if (n < 2 || n > 3 || !*f[0])
        return fail(p, "flowint: expected name,operator[,value]");
    if (r->n_flowints >= SW_RULE_MAX_FLOWINTS)
        return fail(p, "flowint: more than %d in one rule", SW_RULE_MAX_FLOWINTS);
    static const char *const ops[] = {"=", "+", "-", "==", "!=", "<", "<=", ">", ">=",
                                      "isset", "notset", "isnotset"};
    static const uint8_t codes[] = {SW_FI_SET, SW_FI_ADD, SW_FI_SUB, SW_FI_EQ, SW_FI_NE,
                                    SW_FI_LT,  SW_FI_LE,  SW_FI_GT,  SW_FI_GE, SW_FI_ISSET,
                                    SW_FI_NOTSET, SW_FI_NOTSET};
    int op = -1;
    for (int i = 0; i < 12; i++)
        if (!strcmp(f[1], ops[i]))
            op = i;
    if (op < 0)
        return fail(p, "flowint: unknown operator '%s'", f[1]);
    sw_flowint *x = &r->flowints[r->n_flowints];
    memset(x, 0, sizeof(*x));
    x->op = codes[op];
    x->id = sw_flowbit_hash(f[0], strlen(f[0]));
    bool test = x->op == SW_FI_ISSET || x->op == SW_FI_NOTSET;
    if (test != (n == 2))
        return fail(p, "flowint: '%s' %s a value", f[1], test ? "takes no" : "needs");
    if (!test) {
        char *end;
        errno = 0;
        unsigned long val = strtoul(f[2], &end, 10);
        if (!isdigit((unsigned char)f[2][0]))
            return unsupported(p, "flowint", "variable as value");
        if (*end || errno || val > UINT32_MAX)
            return fail(p, "flowint: bad value '%s'", f[2]);
        x->value = (uint32_t)val;
    }
    r->n_flowints++;
    return SW_PARSE_OK;
}

/* xbits:<set|unset|toggle|isset|isnotset>,<name>,track <ip_src|ip_dst|ip_pair>
 *       [,expire <seconds>] (default 30 s, as Suricata) */
static sw_parse_result kw_xbits(pstate *p, char *v)
{
    sw_rule *r = p->r;
    char *f[5];
    int n = v ? split_commas(v, f, 5) : 0;
    if (n < 3 || n > 4)
        return fail(p, "xbits: expected command,name,track <ip_src|ip_dst|ip_pair>[,expire N]");
    if (r->n_xbits >= SW_RULE_MAX_XBITS)
        return fail(p, "xbits: more than %d in one rule", SW_RULE_MAX_XBITS);
    sw_xbit *x = &r->xbits[r->n_xbits];
    memset(x, 0, sizeof(*x));
    static const char *const cmds[] = {"set", "isset", "isnotset", "unset", "toggle"};
    static const uint8_t codes[] = {SW_FB_SET, SW_FB_ISSET, SW_FB_ISNOTSET, SW_FB_UNSET,
                                    SW_FB_TOGGLE};
    int c = -1;
    for (int i = 0; i < 5; i++)
        if (!strcmp(f[0], cmds[i]))
            c = i;
    if (c < 0)
        return fail(p, "xbits: unknown command '%s'", f[0]);
    x->cmd = codes[c];
    if (!*f[1] || strpbrk(f[1], " \t|&"))
        return fail(p, "xbits: bad name '%s'", f[1]);
    x->id = sw_flowbit_hash(f[1], strlen(f[1]));
    if (strncmp(f[2], "track", 5) != 0)
        return fail(p, "xbits: expected 'track' after the name");
    const char *t = trim(f[2] + 5);
    if (!strcmp(t, "ip_src"))
        x->track = SW_XB_TRACK_SRC;
    else if (!strcmp(t, "ip_dst"))
        x->track = SW_XB_TRACK_DST;
    else if (!strcmp(t, "ip_pair"))
        x->track = SW_XB_TRACK_PAIR;
    else
        return fail(p, "xbits: unknown track '%s'", t);
    x->expire_s = 30;
    if (n == 4) {
        if (strncmp(f[3], "expire", 6) != 0)
            return fail(p, "xbits: expected 'expire N', got '%s'", f[3]);
        const char *e = trim(f[3] + 6);
        char *end;
        errno = 0;
        unsigned long s = strtoul(e, &end, 10);
        if (!isdigit((unsigned char)*e) || *end || errno || s == 0 || s > 31536000)
            return fail(p, "xbits: bad expire '%s'", e);
        x->expire_s = (uint32_t)s;
    }
    r->n_xbits++;
    return SW_PARSE_OK;
}

static sw_parse_result parse_option(pstate *p, char *kw, char *v)
{
    sw_rule *r = p->r;
    uint64_t x;
    for (size_t i = 0; i < sizeof(buf_names) / sizeof(buf_names[0]); i++) {
        if (strcmp(kw, buf_names[i].name) != 0)
            continue;
        if (buf_names[i].sticky) {
            p->cur_buf = buf_names[i].buf;
            p->last_content = -1;
            return SW_PARSE_OK;
        }
        sw_content *c = last_content(p);
        if (!c)
            return fail(p, "%s without a preceding content", kw);
        sw_sm *s = &p->sm[p->last_content];
        if (s->buf != SW_BUF_PAYLOAD)
            return fail(p, "%s: content already belongs to another buffer", kw);
        s->buf = (uint8_t)buf_names[i].buf;
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "msg")) {
        char *m = v ? unquote(trim(v)) : NULL;
        if (!m)
            return fail(p, "msg: value must be quoted");
        free(r->msg);
        r->msg = strdup(m);
        return r->msg ? SW_PARSE_OK : fail(p, "out of memory");
    }
    if (!strcmp(kw, "sid") || !strcmp(kw, "rev") || !strcmp(kw, "gid") || !strcmp(kw, "priority")) {
        if (!v || !parse_u64(trim(v), &x) || x > 0xffffffffu || (x == 0 && kw[0] == 's'))
            return fail(p, "%s: bad value", kw);
        if (kw[0] == 's')
            r->sid = (uint32_t)x;
        else if (kw[0] == 'r')
            r->rev = (uint32_t)x;
        else if (kw[0] == 'g')
            r->gid = (uint32_t)x;
        else {
            if (x < 1 || x > 255)
                return fail(p, "priority: out of range");
            r->priority = (int)x;
        }
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "classtype")) {
        if (!v)
            return fail(p, "classtype: missing value");
        v = trim(v);
        free(r->classtype);
        r->classtype = strdup(v);
        return r->classtype ? SW_PARSE_OK : fail(p, "out of memory");
    }
    if (!strcmp(kw, "metadata"))
        return v ? kw_metadata(p, v) : fail(p, "metadata: missing value");
    if (!strcmp(kw, "target")) {
        v = v ? trim(v) : "";
        if (!strcmp(v, "src_ip"))
            r->target = 1;
        else if (!strcmp(v, "dest_ip"))
            r->target = 2;
        else
            return fail(p, "target: must be src_ip or dest_ip");
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "content"))
        return v ? kw_content(p, v) : fail(p, "content: missing value");
    if (!strcmp(kw, "nocase") || !strcmp(kw, "depth") || !strcmp(kw, "offset") ||
        !strcmp(kw, "distance") || !strcmp(kw, "within") || !strcmp(kw, "startswith") ||
        !strcmp(kw, "endswith") || !strcmp(kw, "fast_pattern"))
        return kw_content_mod(p, kw, v);
    if (!strcmp(kw, "pcre"))
        return v ? kw_pcre(p, v) : fail(p, "pcre: missing value");
    if (!strcmp(kw, "byte_test"))
        return v ? kw_byte_test(p, v) : fail(p, "byte_test: missing value");
    if (!strcmp(kw, "byte_extract"))
        return v ? kw_byte_extract(p, v) : fail(p, "byte_extract: missing value");
    if (!strcmp(kw, "byte_jump"))
        return v ? kw_byte_jump(p, v) : fail(p, "byte_jump: missing value");
    if (!strcmp(kw, "isdataat"))
        return v ? kw_isdataat(p, v) : fail(p, "isdataat: missing value");
    if (!strcmp(kw, "bsize"))
        return v ? kw_len(p, kw, v, p->cur_buf) : fail(p, "bsize: missing value");
    if (!strcmp(kw, "urilen"))
        return v ? kw_len(p, kw, v, SW_BUF_HTTP_URI) : fail(p, "urilen: missing value");
    if (!strcmp(kw, "app-layer-event") || !strcmp(kw, "decode-event"))
        return kw_event(p, kw, v);
    if (!strcmp(kw, "vlan.id"))
        return kw_vlan_id(p, v);
    if (!strcmp(kw, "dns.opcode")) {
        if (!v || sw_u32cmp_parse(v, &r->dns_opcode) < 0 || r->dns_opcode.a > 15)
            return fail(p, "dns.opcode: bad value");
        r->has_dns_opcode = true;
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "flags") || !strcmp(kw, "tcp.flags")) /* tcp.flags: Suricata 8 */
        return kw_flags(p, v);
    if (!strcmp(kw, "itype") || !strcmp(kw, "icode")) {
        sw_u32cmp *c = kw[1] == 't' ? &r->itype : &r->icode;
        if (!v || sw_u32cmp_parse(v, c) < 0 || c->a > 255 || (c->op == SW_CMP_RANGE && c->b > 256))
            return fail(p, "%s: bad value", kw);
        if (kw[1] == 't')
            r->has_itype = true;
        else
            r->has_icode = true;
        r->packet_only = true;
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "ip_proto"))
        return kw_ip_proto(p, v);
    if (!strcmp(kw, "stream_size"))
        return kw_stream_size(p, v);
    if (!strcmp(kw, "tls.version"))
        return kw_tls_version(p, v);
    if (!strcmp(kw, "dsize")) {
        if (!v || sw_u32cmp_parse(v, &r->dsize) < 0)
            return fail(p, "dsize: bad value");
        r->has_dsize = true;
        r->packet_only = true;
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "flow"))
        return v ? kw_flow(p, v) : fail(p, "flow: missing value");
    if (!strcmp(kw, "flowbits"))
        return v ? kw_flowbits(p, v) : fail(p, "flowbits: missing value");
    if (!strcmp(kw, "xbits"))
        return kw_xbits(p, v);
    if (!strcmp(kw, "base64_decode"))
        return kw_base64_decode(p, v);
    if (!strcmp(kw, "flowint"))
        return kw_flowint(p, v);
    if (!strcmp(kw, "noalert")) {
        r->noalert = true;
        return SW_PARSE_OK;
    }
    if (!strcmp(kw, "threshold") || !strcmp(kw, "detection_filter"))
        return v ? kw_threshold(p, v, kw[0] == 'd') : fail(p, "%s: missing value", kw);
    if (!strcmp(kw, "dotprefix")) {
        int b = p->cur_buf;
        if (b == SW_BUF_PAYLOAD)
            return fail(p, "dotprefix needs a sticky buffer");
        if (b < 32)
            r->dotprefix_mask_lo |= 1u << b;
        else
            r->dotprefix_mask_hi |= 1u << (b - 32);
        return SW_PARSE_OK;
    }
    for (const char *const *ig = ignored_kw; *ig; ig++)
        if (!strcmp(kw, *ig))
            return SW_PARSE_OK;
    return unsupported(p, kw, "keyword");
}

/* ---- header ---- */

static sw_parse_result parse_proto(pstate *p, const char *s)
{
    sw_rule *r = p->r;
    if (!strcmp(s, "tcp") || !strcmp(s, "tcp-pkt") || !strcmp(s, "tcp-stream")) {
        r->proto = IPPROTO_TCP;
        if (!strcmp(s, "tcp-pkt"))
            r->flow |= SW_FLOW_NO_STREAM;
        else if (!strcmp(s, "tcp-stream"))
            r->flow |= SW_FLOW_ONLY_STREAM;
    } else if (!strcmp(s, "udp")) {
        r->proto = IPPROTO_UDP;
    } else if (!strcmp(s, "icmp")) {
        r->proto = IPPROTO_ICMP;
    } else if (!strcmp(s, "icmpv6") || !strcmp(s, "ipv6-icmp")) {
        r->proto = IPPROTO_ICMPV6;
    } else if (!strcmp(s, "ip") || !strcmp(s, "pkthdr") || !strcmp(s, "ipv4") || !strcmp(s, "ipv6")) {
        r->proto_any = true;
    } else if (!strcmp(s, "sctp")) {
        r->proto = IPPROTO_SCTP;
    } else {
        for (size_t i = 0; i < sizeof(app_names) / sizeof(app_names[0]); i++) {
            if (!strcmp(s, app_names[i].name)) {
                r->app_proto = (uint8_t)app_names[i].app;
                r->proto_any = true;
                return SW_PARSE_OK;
            }
        }
        return unsupported(p, s, "protocol");
    }
    return SW_PARSE_OK;
}

/* Next header token; brackets may contain spaces. */
static char *next_tok(char **sp)
{
    char *s = *sp;
    while (isspace((unsigned char)*s))
        s++;
    if (!*s)
        return NULL;
    char *start = s;
    int lvl = 0;
    while (*s && (lvl > 0 || !isspace((unsigned char)*s))) {
        if (*s == '[')
            lvl++;
        else if (*s == ']')
            lvl--;
        s++;
    }
    if (*s)
        *s++ = 0;
    *sp = s;
    return start;
}

sw_parse_result sw_rule_parse(const sw_parse_ctx *ctx, const char *text, sw_rule **out, char *why,
                              size_t whylen, char *kw, size_t kwlen)
{
    size_t tl = strlen(text);
    if (kwlen)
        kw[0] = 0;
    if (tl > MAX_RULE_LEN) {
        snprintf(why, whylen, "rule longer than %d bytes", MAX_RULE_LEN);
        return SW_PARSE_ERROR;
    }
    pstate *p = calloc(1, sizeof(*p));
    sw_rule *r = calloc(1, sizeof(*r));
    char *buf = strdup(text);
    if (!p || !r || !buf) {
        free(p);
        free(r);
        free(buf);
        snprintf(why, whylen, "out of memory");
        return SW_PARSE_ERROR;
    }
    p->ctx = ctx;
    p->r = r;
    p->why = why;
    p->whylen = whylen;
    p->kw = kw;
    p->kwlen = kwlen;
    p->last_content = -1;
    for (int i = 0; i < SW_BUF_COUNT; i++)
        p->last_sm_in_buf[i] = -1;
    r->gid = 1;
    r->priority = -1;
    r->fp_sm = -1;
    sw_parse_result res = SW_PARSE_OK;

    char *open = strchr(buf, '(');
    char *close = strrchr(buf, ')');
    if (!open || !close || close < open) {
        res = fail(p, "missing '(' ... ')' option block");
        goto done;
    }
    for (char *t = close + 1; *t; t++)
        if (!isspace((unsigned char)*t)) {
            res = fail(p, "text after the closing ')'");
            goto done;
        }
    *open = 0;
    *close = 0;
    char *hs = buf;
    char *tok[8];
    int nt = 0;
    char *t;
    while (nt < 8 && (t = next_tok(&hs)))
        tok[nt++] = t;
    if (nt != 7) {
        res = fail(p, "header needs: action proto src sport dir dst dport");
        goto done;
    }
    if (!strcmp(tok[0], "alert"))
        r->action = SW_ACT_ALERT;
    else if (!strcmp(tok[0], "pass"))
        r->action = SW_ACT_PASS;
    else if (!strcmp(tok[0], "drop"))
        r->action = SW_ACT_DROP;
    else if (!strncmp(tok[0], "reject", 6))
        r->action = SW_ACT_REJECT;
    else {
        res = fail(p, "unknown action '%s'", tok[0]);
        goto done;
    }
    if ((res = parse_proto(p, tok[1])) != SW_PARSE_OK)
        goto done;
    char err[160];
    if (sw_addr_parse(ctx->vars, tok[2], &r->src, err, sizeof(err)) < 0 ||
        sw_port_parse(ctx->vars, tok[3], &r->sp, err, sizeof(err)) < 0 ||
        sw_addr_parse(ctx->vars, tok[5], &r->dst, err, sizeof(err)) < 0 ||
        sw_port_parse(ctx->vars, tok[6], &r->dp, err, sizeof(err)) < 0) {
        res = fail(p, "header: %s", err);
        goto done;
    }
    if (!strcmp(tok[4], "<>"))
        r->bidir = true;
    else if (strcmp(tok[4], "->") != 0) {
        res = fail(p, "bad direction '%s'", tok[4]);
        goto done;
    }

    /* options: "kw[:value];" with '\;' escaping the separator */
    p->cur_buf = SW_BUF_PAYLOAD;
    char *s = open + 1;
    while (*s) {
        char *e = s;
        while (*e && !(*e == ';' && (e == s || e[-1] != '\\')))
            e++;
        bool last = *e == 0;
        *e = 0;
        char *opt = trim(s);
        if (*opt) {
            if (last) {
                res = fail(p, "option '%.40s' not terminated by ';'", opt);
                goto done;
            }
            char *colon = strchr(opt, ':');
            char *v = NULL;
            if (colon) {
                *colon = 0;
                v = colon + 1;
            }
            char *k = trim(opt);
            if ((res = parse_option(p, k, v)) != SW_PARSE_OK)
                goto done;
        }
        if (last)
            break;
        s = e + 1;
    }
    if (r->sid == 0) {
        res = fail(p, "no sid");
        goto done;
    }
    if (r->priority < 0) {
        r->priority = 3;
        r->category = "";
        if (r->classtype) {
            const char *desc;
            int prio;
            if (sw_classes_lookup(ctx->classes, r->classtype, &desc, &prio) == 0) {
                r->priority = prio;
                r->category = desc;
            } else if (ctx->classes) {
                res = fail(p, "unknown classtype '%s'", r->classtype);
                goto done;
            }
        }
    } else {
        r->category = "";
        const char *desc;
        int prio;
        if (r->classtype && sw_classes_lookup(ctx->classes, r->classtype, &desc, &prio) == 0)
            r->category = desc;
    }
    if (!r->msg && !(r->msg = strdup(""))) {
        res = fail(p, "out of memory");
        goto done;
    }
    /* Resolve relative links: each sm knows whether the next one in its
     * buffer depends on where it matched (needed for backtracking). */
    int prev[SW_BUF_COUNT];
    for (int i = 0; i < SW_BUF_COUNT; i++)
        prev[i] = -1;
    for (int i = 0; i < p->n_sm; i++) {
        sw_sm *m = &p->sm[i];
        bool rel = false;
        switch (m->type) {
        case SW_SM_CONTENT: {
            sw_content *c = &m->u.c;
            rel = (c->flags & (SW_CF_DISTANCE | SW_CF_WITHIN)) != 0;
            if ((c->flags & SW_CF_WITHIN) && c->within < (int32_t)c->len &&
                !(c->flags & SW_CF_NEGATED)) {
                res = fail(p, "within is less than the content length");
                goto done;
            }
            if ((c->flags & SW_CF_DEPTH) && c->depth < (int32_t)c->len) {
                res = fail(p, "depth is less than the content length");
                goto done;
            }
            break;
        }
        case SW_SM_PCRE: rel = m->u.p.flags & SW_PCRE_RELATIVE; break;
        case SW_SM_BYTE_TEST:
        case SW_SM_BYTE_JUMP:
        case SW_SM_BYTE_EXTRACT: rel = m->u.b.flags & SW_BT_RELATIVE; break;
        case SW_SM_ISDATAAT: rel = m->u.d.relative; break;
        case SW_SM_B64DECODE: rel = m->u.b64.relative; break;
        default: break;
        }
        if (rel && prev[m->buf] >= 0)
            p->sm[prev[m->buf]].relative_next = true;
        prev[m->buf] = i;
        if (m->buf < 32)
            r->buf_mask_lo |= 1u << m->buf;
        else
            r->buf_mask_hi |= 1u << (m->buf - 32);
    }
    if (sw_rule_uses_buf(r, SW_BUF_BASE64) && !p->has_b64decode) {
        res = fail(p, "base64_data without base64_decode");
        goto done;
    }
    /* Fast pattern: explicit, else the longest non-negated content. Decoded
     * base64 exists only during inspection, so it never prefilters. */
    int best = -1;
    for (int i = 0; i < p->n_sm; i++) {
        sw_sm *m = &p->sm[i];
        if (m->type != SW_SM_CONTENT || m->buf == SW_BUF_BASE64)
            continue;
        if (m->u.c.flags & SW_CF_FAST_PATTERN) {
            best = (m->u.c.flags & SW_CF_NEGATED) ? -1 : i;
            break;
        }
        if (m->u.c.flags & SW_CF_NEGATED)
            continue;
        if (best < 0 || m->u.c.len > p->sm[best].u.c.len)
            best = i;
    }
    r->fp_sm = best;
    r->n_sm = (uint16_t)p->n_sm;
    if (p->n_sm) {
        r->sm = malloc(sizeof(sw_sm) * (size_t)p->n_sm);
        if (!r->sm) {
            res = fail(p, "out of memory");
            goto done;
        }
        memcpy(r->sm, p->sm, sizeof(sw_sm) * (size_t)p->n_sm);
        p->n_sm = 0; /* owned by r now */
    }
    if (r->n_meta) {
        r->meta_block = malloc(p->meta_len);
        if (!r->meta_block) {
            res = fail(p, "out of memory");
            goto done;
        }
        memcpy(r->meta_block, p->meta, p->meta_len);
        for (int i = 0; i < r->n_meta; i++) {
            r->meta[i].key = r->meta_block + (uintptr_t)r->meta[i].key;
            r->meta[i].value = r->meta_block + (uintptr_t)r->meta[i].value;
        }
    }
    r->text = strdup(text);
    if (!r->text)
        res = fail(p, "out of memory");

done:
    if (res != SW_PARSE_OK) {
        if (r->n_meta && !r->meta_block)
            r->n_meta = 0; /* offsets, not pointers */
        for (int i = 0; i < p->n_sm; i++) {
            if (p->sm[i].type == SW_SM_CONTENT)
                free(p->sm[i].u.c.pat);
            else if (p->sm[i].type == SW_SM_PCRE)
                pcre2_code_free(p->sm[i].u.p.code);
        }
        sw_rule_free(r);
        r = NULL;
    }
    free(buf);
    free(p);
    *out = r;
    return res;
}

void sw_rule_free(sw_rule *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_sm; i++) {
        if (r->sm[i].type == SW_SM_CONTENT)
            free(r->sm[i].u.c.pat);
        else if (r->sm[i].type == SW_SM_PCRE)
            pcre2_code_free(r->sm[i].u.p.code);
    }
    free(r->sm);
    sw_addr_set_free(&r->src);
    sw_addr_set_free(&r->dst);
    sw_port_set_free(&r->sp);
    sw_port_set_free(&r->dp);
    free(r->msg);
    free(r->classtype);
    free(r->meta_block);
    free(r->text);
    free(r);
}
