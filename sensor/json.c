#include "sensor/json.h"

#include <arpa/inet.h>
#include <limits.h>
#include <openssl/evp.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static bool grow(sw_json *j, size_t extra)
{
    if (j->oom)
        return false;
    if (j->len + extra + 1 <= j->cap)
        return true;
    size_t ncap = j->cap ? j->cap : 4096;
    while (ncap < j->len + extra + 1)
        ncap *= 2;
    char *nb = realloc(j->buf, ncap);
    if (!nb) {
        j->oom = true;
        return false;
    }
    j->buf = nb;
    j->cap = ncap;
    return true;
}

static void put(sw_json *j, const char *s, size_t n)
{
    if (!grow(j, n))
        return;
    memcpy(j->buf + j->len, s, n);
    j->len += n;
    j->buf[j->len] = '\0';
}

static void putc1(sw_json *j, char c)
{
    if (!grow(j, 1))
        return;
    j->buf[j->len++] = c;
    j->buf[j->len] = '\0';
}

void swj_init(sw_json *j)
{
    memset(j, 0, sizeof(*j));
}

void swj_free(sw_json *j)
{
    free(j->buf);
    memset(j, 0, sizeof(*j));
}

void swj_reset(sw_json *j)
{
    j->len = 0;
    j->oom = false;
    j->depth = 0;
    j->first[0] = true;
    putc1(j, '{');
}

size_t swj_finish(sw_json *j)
{
    if (j->depth != 0 || j->oom)
        return 0;
    put(j, "}\n", 2);
    j->depth = -1;
    return j->oom ? 0 : j->len;
}

/* Writes the separator and "key": for the next member. */
static void member(sw_json *j, const char *key)
{
    if (j->depth < 0 || j->depth >= SWJ_MAX_DEPTH) {
        j->oom = true;
        return;
    }
    if (!j->first[j->depth])
        putc1(j, ',');
    j->first[j->depth] = false;
    if (key) {
        putc1(j, '"');
        put(j, key, strlen(key));
        put(j, "\":", 2);
    }
}

static void open_(sw_json *j, const char *key, char c)
{
    member(j, key);
    putc1(j, c);
    if (j->depth + 1 >= SWJ_MAX_DEPTH) {
        j->oom = true;
        return;
    }
    j->depth++;
    j->first[j->depth] = true;
}

void swj_open_object(sw_json *j, const char *key) { open_(j, key, '{'); }
void swj_open_array(sw_json *j, const char *key) { open_(j, key, '['); }

static void close_(sw_json *j, char c)
{
    if (j->depth <= 0) {
        j->oom = true;
        return;
    }
    putc1(j, c);
    j->depth--;
}

void swj_close_object(sw_json *j) { close_(j, '}'); }
void swj_close_array(sw_json *j) { close_(j, ']'); }

/* Length of the valid UTF-8 sequence at s, or 0 if invalid (overlongs,
 * surrogates and code points above U+10FFFF are invalid, as in Rust). */
static size_t utf8_seq(const uint8_t *s, size_t n)
{
    uint8_t c = s[0];
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF)
        return (n >= 2 && (s[1] & 0xC0) == 0x80) ? 2 : 0;
    if (c >= 0xE0 && c <= 0xEF) {
        if (n < 3 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80)
            return 0;
        if (c == 0xE0 && s[1] < 0xA0)
            return 0;
        if (c == 0xED && s[1] >= 0xA0)
            return 0;
        return 3;
    }
    if (c >= 0xF0 && c <= 0xF4) {
        if (n < 4 || (s[1] & 0xC0) != 0x80 || (s[2] & 0xC0) != 0x80 ||
            (s[3] & 0xC0) != 0x80)
            return 0;
        if (c == 0xF0 && s[1] < 0x90)
            return 0;
        if (c == 0xF4 && s[1] >= 0x90)
            return 0;
        return 4;
    }
    return 0;
}

static bool valid_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(s + i, n - i);
        if (!k)
            return false;
        i += k;
    }
    return true;
}

static const char hexd[] = "0123456789abcdef";

static void esc_ascii(sw_json *j, uint8_t c)
{
    switch (c) {
    case '"': put(j, "\\\"", 2); return;
    case '\\': put(j, "\\\\", 2); return;
    case '\n': put(j, "\\n", 2); return;
    case '\r': put(j, "\\r", 2); return;
    case '\t': put(j, "\\t", 2); return;
    case '\b': put(j, "\\b", 2); return;
    case '\f': put(j, "\\f", 2); return;
    default:
        break;
    }
    if (c < 0x20 || c == 0x7f) {
        char u[6] = {'\\', 'u', '0', '0', hexd[c >> 4], hexd[c & 15]};
        put(j, u, 6);
    } else {
        putc1(j, (char)c);
    }
}

void swj_escape_append(sw_json *j, const uint8_t *s, size_t n)
{
    /* Reserve the worst case once so the loop rarely re-checks capacity. */
    if (!grow(j, n * 6))
        return;
    if (valid_utf8(s, n)) {
        /* copy runs that need no escaping in one go */
        size_t i = 0;
        while (i < n) {
            size_t k = i;
            while (k < n && (s[k] >= 0x80 || (s[k] >= 0x20 && s[k] != '"' && s[k] != '\\' &&
                                              s[k] != 0x7f)))
                k++;
            if (k > i)
                put(j, (const char *)s + i, k - i);
            if (k < n)
                esc_ascii(j, s[k++]);
            i = k;
        }
        return;
    }
    for (size_t i = 0; i < n; i++) {
        if (s[i] >= 0x80) {
            char x[5] = {'\\', '\\', 'x', hexd[s[i] >> 4], hexd[s[i] & 15]};
            put(j, x, 5);
        } else {
            esc_ascii(j, s[i]);
        }
    }
}

void swj_strn(sw_json *j, const char *key, const uint8_t *s, size_t n)
{
    member(j, key);
    putc1(j, '"');
    if (n)
        swj_escape_append(j, s, n);
    putc1(j, '"');
}

void swj_str(sw_json *j, const char *key, const char *s)
{
    swj_strn(j, key, (const uint8_t *)(s ? s : ""), s ? strlen(s) : 0);
}

/* Decimal digits of v, right-aligned in b[24]; returns where they start.
 * Numbers are in every event: printf's machinery is too slow for them. */
static char *u64_dec(uint64_t v, char b[24])
{
    char *p = b + 24;
    do {
        *--p = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    return p;
}

void swj_int(sw_json *j, const char *key, int64_t v)
{
    char b[25];
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    char *p = u64_dec(u, b + 1);
    if (v < 0)
        *--p = '-';
    member(j, key);
    put(j, p, (size_t)(b + 25 - p));
}

void swj_uint(sw_json *j, const char *key, uint64_t v)
{
    char b[24];
    char *p = u64_dec(v, b);
    member(j, key);
    put(j, p, (size_t)(b + 24 - p));
}

void swj_double(sw_json *j, const char *key, double v)
{
    member(j, key);
    if (!isfinite(v)) {
        put(j, "null", 4);
        return;
    }
    /* the shortest text that reads back as the same value, as Suricata */
    char b[40];
    int n = snprintf(b, sizeof b, "%.15g", v);
    if (strtod(b, NULL) != v)
        n = snprintf(b, sizeof b, "%.17g", v);
    put(j, b, (size_t)n);
}

void swj_bool(sw_json *j, const char *key, bool v)
{
    member(j, key);
    if (v)
        put(j, "true", 4);
    else
        put(j, "false", 5);
}

void swj_null(sw_json *j, const char *key)
{
    member(j, key);
    put(j, "null", 4);
}

void swj_raw(sw_json *j, const char *key, const char *json, size_t n)
{
    member(j, key);
    put(j, json, n);
}

size_t sw_format_ts(char *out, size_t cap, uint64_t ts_us)
{
    /* Events of one thread mostly share their second: the calendar part is
     * worked out once per second and per thread. */
    static __thread time_t last_secs = (time_t)-1;
    static __thread char last_txt[32];
    static __thread int last_len;
    time_t secs = (time_t)(ts_us / 1000000u);
    unsigned usec = (unsigned)(ts_us % 1000000u);
    if (secs != last_secs) {
        struct tm tm;
        gmtime_r(&secs, &tm);
        last_len = snprintf(last_txt, sizeof last_txt, "%04d-%02d-%02dT%02d:%02d:%02d",
                            tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
                            tm.tm_min, tm.tm_sec);
        if (last_len < 0 || last_len >= (int)sizeof last_txt)
            last_len = 0;
        last_secs = secs;
    }
    if (cap < (size_t)last_len + 13) {
        if (cap)
            out[0] = '\0';
        return 0;
    }
    memcpy(out, last_txt, (size_t)last_len);
    char *p = out + last_len;
    *p++ = '.';
    for (int i = 5; i >= 0; i--) {
        p[i] = (char)('0' + usec % 10);
        usec /= 10;
    }
    p += 6;
    memcpy(p, "+0000", 6);
    return (size_t)(p + 5 - out);
}

void swj_ts(sw_json *j, const char *key, uint64_t ts_us)
{
    char b[48];
    size_t n = sw_format_ts(b, sizeof b, ts_us);
    member(j, key);
    putc1(j, '"');
    put(j, b, n);
    putc1(j, '"');
}

void swj_ip(sw_json *j, const char *key, int family, const uint8_t *addr)
{
    char b[48];
    if (family == 6) {
        /* Suricata writes IPv6 uncompressed (8 groups of 4 hex digits), and
         * SIEM parsers and lookups key on that exact text. */
        size_t n = 0;
        for (int i = 0; i < 16; i += 2) {
            if (i)
                b[n++] = ':';
            b[n++] = hexd[addr[i] >> 4];
            b[n++] = hexd[addr[i] & 15];
            b[n++] = hexd[addr[i + 1] >> 4];
            b[n++] = hexd[addr[i + 1] & 15];
        }
        b[n] = '\0';
    } else if (!inet_ntop(AF_INET, addr, b, sizeof b)) {
        b[0] = '\0';
    }
    swj_str(j, key, b);
}

void swj_base64(sw_json *j, const char *key, const uint8_t *b, size_t n)
{
    member(j, key);
    putc1(j, '"');
    /* OpenSSL writes the encoding and a NUL straight into the event buffer */
    if (n > INT_MAX / 2 || !grow(j, (n + 2) / 3 * 4 + 1))
        return;
    j->len += (size_t)EVP_EncodeBlock((unsigned char *)j->buf + j->len, b, (int)n);
    putc1(j, '"');
}

void swj_printable(sw_json *j, const char *key, const uint8_t *b, size_t n)
{
    member(j, key);
    putc1(j, '"');
    uint8_t chunk[256];
    while (n) {
        size_t k = n < sizeof(chunk) ? n : sizeof(chunk);
        for (size_t i = 0; i < k; i++)
            chunk[i] = (b[i] >= 0x20 && b[i] < 0x7f) || b[i] == '\r' || b[i] == '\n' ? b[i] : '.';
        swj_escape_append(j, chunk, k);
        b += k;
        n -= k;
    }
    putc1(j, '"');
}

void swj_hex(sw_json *j, const char *key, const uint8_t *b, size_t n, char sep)
{
    member(j, key);
    putc1(j, '"');
    for (size_t i = 0; i < n; i++) {
        if (sep && i)
            putc1(j, sep);
        putc1(j, hexd[b[i] >> 4]);
        putc1(j, hexd[b[i] & 15]);
    }
    putc1(j, '"');
}
