/* HTTP/1.x stream parser. See http.h for the contract.
 *
 * Each direction is a small state machine fed with whatever bytes arrive.
 * Header blocks are copied (bounded) into per-transaction storage so the
 * fields can point into them until the transaction is logged; bodies are
 * never buffered beyond the inspection limits. Requests wait in a ring of
 * max_pipeline slots for their responses, matched in order. */
#include "decoders/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "sensor/cfg.h"

#define HTTP_MAX_CHUNK_LINE 1024u /* chunk-size line incl. extensions */
#define HTTP_ZOUT 16384u
#define HTTP_TW_MAX 16u           /* bytes sniffed after CONNECT */
#define HTTP_HOST_MAX 256u
#define HTTP_METHOD_MAX 32u

enum dstate {
    D_START,     /* between messages: skip stray CR/LF */
    D_HEADERS,   /* start line + header block */
    D_BODY_CL,
    D_BODY_CHUNKED,
    D_BODY_CLOSE, /* response body until the connection closes */
    D_TUNNEL_WAIT,
    D_TUNNEL,
    D_DEAD,
};

enum ckstate { CK_SIZE, CK_EXT, CK_DATA, CK_DATA_END, CK_TRAILER };

enum zstate { Z_OFF, Z_PENDING_GZIP, Z_PENDING_DEFLATE, Z_ON, Z_STOPPED };

typedef struct dir_state {
    int st;
    uint8_t *hbuf; /* header storage of the current message */
    size_t hcap, hlen;
    size_t line_start; /* offset of the current line in hbuf */
    uint64_t line_len; /* bytes of the current line, copied or not */
    uint32_t nlines;
    uint8_t last; /* last byte seen while in D_HEADERS */
    bool stop_copy;  /* too many headers: keep scanning, copy nothing */
    bool skip_line;  /* current line overflowed the buffer */
    bool too_long_counted;
    bool first_line_lost;
    bool method_seen_sp; /* request: a space ended the method token */
    uint32_t method_len;
    uint64_t remain; /* Content-Length or chunk bytes left */
    int ck;
    uint64_t ck_size;
    uint32_t ck_digits, ck_linelen;
    uint64_t ck_trailer;
    bool ck_line_has_data;
} dir_state;

typedef struct slot {
    sw_http_tx tx;
    uint8_t *buf; /* request header block, then the normalised URI */
    uint8_t host[HTTP_HOST_MAX];
    bool req_started, req_done, resp_done, logged;
} slot;

struct sw_http_state {
    sw_http_config c;
    uint64_t *ctr;
    uint64_t dummy_ctr[SW_HTTP_CTR_COUNT];
    slot *slots;
    uint32_t nslots;
    uint64_t next_tx; /* id the next new transaction gets */
    uint64_t resp_tx; /* id the next/current response belongs to */
    uint64_t oldest;  /* oldest transaction still holding a slot */
    slot *req_cur;    /* request being parsed */
    slot *resp_cur;   /* response being parsed */
    dir_state d[2];
    /* Buffers come when first needed: most flows never fill most of them,
     * and an idle connection should cost a few KiB, not the full limits. */
    uint8_t *req_body, *resp_hbuf, *resp_body, *zout;
    size_t slot_buf;  /* bytes of one slot's header buffer */
    size_t mem_bytes; /* everything allocated for this state */
    z_stream z;
    bool z_inited;
    int zst;
    uint64_t z_in, z_out;
    uint8_t tw[HTTP_TW_MAX];
    size_t tw_len;
    bool tunnel, dead, closed;
};

/* ---- config ---------------------------------------------------------- */

void sw_http_config_defaults(sw_http_config *c)
{
    c->max_header_bytes = 16384;
    c->max_headers = 100;
    c->request_body_limit = 65536;
    c->response_body_limit = 65536;
    c->max_pipeline = 8;
    c->max_chunk_size = 1ull << 30;
    c->decompress = true;
    c->decompress_ratio_limit = 250;
    c->decompress_bomb_min = 1u << 20;
    c->decompress_max_output = 64u << 20;
    c->dump_all_headers = 0;
}

static int get_u32(const sw_cfg_node *root, const char *path, uint32_t *out,
                   uint64_t min, uint64_t max, bool size, char *err, size_t errlen)
{
    uint64_t v = *out;
    int rc = size ? sw_cfg_get_size(root, path, &v, err, errlen)
                  : sw_cfg_get_u64(root, path, &v, err, errlen);
    if (rc != 0)
        return -1;
    if (v < min || v > max) {
        snprintf(err, errlen, "config: %s: must be between %llu and %llu", path,
                 (unsigned long long)min, (unsigned long long)max);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

int sw_http_config_load(const sw_cfg_node *root, sw_http_config *c, char *err,
                        size_t errlen)
{
    if (get_u32(root, "app-layer.http.max-header-bytes", &c->max_header_bytes,
                256, 1u << 20, true, err, errlen) ||
        get_u32(root, "app-layer.http.max-headers", &c->max_headers, 1, 10000,
                false, err, errlen) ||
        get_u32(root, "app-layer.http.request-body-limit", &c->request_body_limit,
                0, 64u << 20, true, err, errlen) ||
        get_u32(root, "app-layer.http.response-body-limit",
                &c->response_body_limit, 0, 64u << 20, true, err, errlen) ||
        get_u32(root, "app-layer.http.max-pipeline", &c->max_pipeline, 1, 1024,
                false, err, errlen) ||
        get_u32(root, "app-layer.http.decompress-ratio-limit",
                &c->decompress_ratio_limit, 1, 1u << 20, false, err, errlen))
        return -1;
    if (sw_cfg_get_size(root, "app-layer.http.max-chunk-size", &c->max_chunk_size,
                        err, errlen) ||
        sw_cfg_get_bool(root, "app-layer.http.decompress", &c->decompress, err,
                        errlen) ||
        sw_cfg_get_size(root, "app-layer.http.decompress-bomb-min",
                        &c->decompress_bomb_min, err, errlen) ||
        sw_cfg_get_size(root, "app-layer.http.decompress-max-output",
                        &c->decompress_max_output, err, errlen))
        return -1;
    if (c->max_chunk_size == 0) {
        snprintf(err, errlen, "config: app-layer.http.max-chunk-size: must be > 0");
        return -1;
    }
    const char *dump = NULL;
    if (sw_cfg_get_str(root, "app-layer.http.dump-all-headers", &dump, err, errlen))
        return -1;
    if (dump) {
        static const char *const names[] = {"none", "request", "response", "both"};
        unsigned i = 0;
        while (i < 4 && strcmp(dump, names[i]) != 0)
            i++;
        if (i == 4) {
            snprintf(err, errlen,
                     "config: app-layer.http.dump-all-headers: '%s' is not one of "
                     "none, request, response, both", dump);
            return -1;
        }
        c->dump_all_headers = i; /* the index is the SW_HTTP_DUMP_* bit set */
    }
    return 0;
}

#define SW_HTTP_CTR_NAME(id, name) name,
static const char *const http_ctr_names[] = {SW_HTTP_COUNTERS(SW_HTTP_CTR_NAME)};
#undef SW_HTTP_CTR_NAME

sw_ctr_group sw_http_counters(const uint64_t *vals)
{
    sw_ctr_group g = {http_ctr_names, vals, SW_HTTP_CTR_COUNT};
    return g;
}

/* ---- small helpers --------------------------------------------------- */

static inline uint8_t lc(uint8_t c) { return (c >= 'A' && c <= 'Z') ? c + 32 : c; }

static bool bytes_ieq(const uint8_t *p, size_t n, const char *s)
{
    size_t sl = strlen(s);
    if (n != sl)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lc(p[i]) != lc((uint8_t)s[i]))
            return false;
    return true;
}

static bool bytes_iprefix(const uint8_t *p, size_t n, const char *s)
{
    size_t sl = strlen(s);
    if (n < sl)
        return false;
    for (size_t i = 0; i < sl; i++)
        if (lc(p[i]) != lc((uint8_t)s[i]))
            return false;
    return true;
}

static bool is_tchar(uint8_t c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    return c && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static inline bool is_ws(uint8_t c) { return c == ' ' || c == '\t'; }
static inline bool is_space(uint8_t c) { return c == ' ' || (c >= 9 && c <= 13); }

static sw_http_bytes mkb(const uint8_t *p, size_t n)
{
    sw_http_bytes b = {p, n};
    return b;
}

static sw_http_bytes trim(const uint8_t *p, size_t n)
{
    while (n && (is_ws(*p) || *p == '\r' || *p == '\n')) {
        p++;
        n--;
    }
    while (n && (is_ws(p[n - 1]) || p[n - 1] == '\r' || p[n - 1] == '\n'))
        n--;
    return mkb(p, n);
}

static inline void ctr(sw_http_state *s, int id) { SW_CTR_INC(s->ctr, id); }

/* Iterates header lines of a raw block. Folded continuation lines belong to
 * the previous header; they are skipped rather than joined because the
 * fields point into the block and joining would need a copy. */
typedef struct hdr_iter {
    const uint8_t *p, *end;
} hdr_iter;

static bool hdr_next(hdr_iter *it, sw_http_bytes *name, sw_http_bytes *value)
{
    while (it->p < it->end) {
        const uint8_t *ls = it->p;
        const uint8_t *nl = memchr(ls, '\n', (size_t)(it->end - ls));
        const uint8_t *le = nl ? nl : it->end;
        it->p = nl ? nl + 1 : it->end;
        if (le > ls && le[-1] == '\r')
            le--;
        if (le == ls || is_ws(*ls))
            continue;
        const uint8_t *colon = memchr(ls, ':', (size_t)(le - ls));
        if (!colon)
            continue;
        *name = trim(ls, (size_t)(colon - ls));
        *value = trim(colon + 1, (size_t)(le - colon - 1));
        return true;
    }
    return false;
}

sw_http_bytes sw_http_header(sw_http_bytes block, const char *name)
{
    sw_http_bytes n, v, none = {NULL, 0};
    if (!block.p)
        return none;
    hdr_iter it = {block.p, block.p + block.len};
    while (hdr_next(&it, &n, &v))
        if (bytes_ieq(n.p, n.len, name))
            return v;
    return none;
}

const char *sw_http_event_name(unsigned bit)
{
    return bit == SW_HTTP_EV_REQUEST_LINE_MISSING_PROTOCOL ? "REQUEST_LINE_MISSING_PROTOCOL"
                                                           : NULL;
}

bool sw_http_header_next(sw_http_bytes *rest, sw_http_bytes *name, sw_http_bytes *value)
{
    if (!rest->p)
        return false;
    hdr_iter it = {rest->p, rest->p + rest->len};
    bool ok = hdr_next(&it, name, value);
    rest->p = it.p;
    rest->len = (size_t)(it.end - it.p);
    return ok;
}

static int hexval(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = lc(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

/* Percent-decodes in into out (capacity >= n); invalid escapes stay. */
static size_t pct_decode(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (in[i] == '%' && i + 2 < n &&
            hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            out[o++] = (uint8_t)(hexval(in[i + 1]) * 16 + hexval(in[i + 2]));
            i += 2;
        } else {
            out[o++] = in[i];
        }
    }
    return o;
}

/* Removes dot segments and empty segments of an absolute path in place, so
 * "/a/./b/../%2e%2e//c" (already decoded) inspects as "/c". */
static size_t remove_dots(uint8_t *p, size_t n)
{
    size_t o = 0, i = 0;
    while (i < n) {
        while (i < n && p[i] == '/')
            i++;
        size_t s = i;
        while (i < n && p[i] != '/')
            i++;
        size_t sl = i - s;
        bool last = (i >= n);
        if (sl == 0) {
            if (last)
                break;
            continue;
        }
        if (sl == 1 && p[s] == '.') {
            if (last && (o == 0 || p[o - 1] != '/'))
                p[o++] = '/';
            continue;
        }
        if (sl == 2 && p[s] == '.' && p[s + 1] == '.') {
            while (o > 0 && p[o - 1] != '/')
                o--;
            if (o > 0)
                o--; /* drop the separator before the popped segment */
            if (last || o == 0) {
                if (o == 0 || p[o - 1] != '/')
                    p[o++] = '/';
            }
            continue;
        }
        if (o == 0 || p[o - 1] != '/')
            p[o++] = '/';
        memmove(p + o, p + s, sl);
        o += sl;
    }
    /* Keep a trailing slash: "/dir/" and "/dir" are different resources. */
    if (n > 0 && p[n - 1] == '/' && (o == 0 || p[o - 1] != '/'))
        p[o++] = '/';
    if (o == 0)
        p[o++] = '/';
    return o;
}

/* Writes the normalised URI of uri (n bytes) to out (capacity >= n + 1).
 * Absolute URIs lose scheme and authority; *auth receives the authority. */
static size_t normalize_uri(const uint8_t *uri, size_t n, uint8_t *out,
                            sw_http_bytes *auth)
{
    auth->p = NULL;
    auth->len = 0;
    size_t i = 0;
    while (i < n && ((uri[i] >= 'a' && uri[i] <= 'z') || (uri[i] >= 'A' && uri[i] <= 'Z') ||
                     (i > 0 && ((uri[i] >= '0' && uri[i] <= '9') || uri[i] == '+' ||
                                uri[i] == '-' || uri[i] == '.'))))
        i++;
    const uint8_t *path = uri;
    size_t plen = n;
    if (i > 0 && i + 3 <= n && uri[i] == ':' && uri[i + 1] == '/' && uri[i + 2] == '/') {
        size_t a = i + 3, e = a;
        while (e < n && uri[e] != '/' && uri[e] != '?' && uri[e] != '#')
            e++;
        auth->p = uri + a;
        auth->len = e - a;
        path = uri + e;
        plen = n - e;
    }
    if (plen == 0 || path[0] != '/') {
        if (path != uri) { /* absolute URI without a path: "/" */
            out[0] = '/';
            size_t o = 1;
            if (plen && path[0] == '?')
                o += pct_decode(path, plen, out + 1);
            return o;
        }
        return pct_decode(path, plen, out); /* "*", authority form */
    }
    const uint8_t *q = memchr(path, '?', plen);
    size_t pl = q ? (size_t)(q - path) : plen;
    size_t o = pct_decode(path, pl, out);
    o = remove_dots(out, o);
    if (q)
        o += pct_decode(q, plen - pl, out + o);
    return o;
}

/* Host from a Host header or URI authority: userinfo and port removed,
 * lower-cased, trailing dot dropped. */
static size_t normalize_host(sw_http_bytes h, uint8_t *out, size_t cap, int *port)
{
    const uint8_t *p = h.p;
    size_t n = h.len;
    *port = -1;
    for (size_t i = n; i > 0; i--)
        if (p[i - 1] == '@') {
            p += i;
            n -= i;
            break;
        }
    size_t hn = n;
    const uint8_t *ps = NULL;
    if (n && p[0] == '[') {
        const uint8_t *rb = memchr(p, ']', n);
        if (rb) {
            hn = (size_t)(rb - p) + 1;
            if (hn < n && p[hn] == ':')
                ps = p + hn + 1;
        }
    } else {
        const uint8_t *colon = memchr(p, ':', n);
        if (colon) {
            hn = (size_t)(colon - p);
            ps = colon + 1;
        }
    }
    if (ps) {
        size_t pn = (size_t)(p + n - ps);
        long v = 0;
        size_t k;
        for (k = 0; k < pn && k < 6 && ps[k] >= '0' && ps[k] <= '9'; k++)
            v = v * 10 + (ps[k] - '0');
        if (k == pn && k > 0 && v > 0 && v <= 65535)
            *port = (int)v;
    }
    while (hn && p[hn - 1] == '.')
        hn--;
    if (hn > cap)
        hn = cap;
    for (size_t i = 0; i < hn; i++)
        out[i] = lc(p[i]);
    return hn;
}

/* filename from Content-Disposition: the plain parameter wins over the
 * RFC 5987 one because it needs no decoding. */
static sw_http_bytes cd_filename(sw_http_bytes v)
{
    sw_http_bytes none = {NULL, 0};
    if (!v.p)
        return none;
    sw_http_bytes ext = none;
    for (size_t i = 0; i + 8 < v.len; i++) {
        if (!bytes_iprefix(v.p + i, v.len - i, "filename"))
            continue;
        if (i > 0 && v.p[i - 1] != ';' && !is_ws(v.p[i - 1]))
            continue;
        size_t j = i + 8;
        bool star = (j < v.len && v.p[j] == '*');
        if (star)
            j++;
        while (j < v.len && is_ws(v.p[j]))
            j++;
        if (j >= v.len || v.p[j] != '=')
            continue;
        j++;
        while (j < v.len && is_ws(v.p[j]))
            j++;
        const uint8_t *s;
        size_t n;
        if (j < v.len && v.p[j] == '"') {
            s = v.p + j + 1;
            const uint8_t *e = memchr(s, '"', v.len - j - 1);
            n = e ? (size_t)(e - s) : v.len - j - 1;
        } else {
            s = v.p + j;
            const uint8_t *e = memchr(s, ';', v.len - j);
            n = e ? (size_t)(e - s) : v.len - j;
            sw_http_bytes t = trim(s, n);
            s = t.p;
            n = t.len;
        }
        if (star) {
            for (size_t k = 0; k + 1 < n; k++)
                if (s[k] == '\'' && s[k + 1] == '\'') {
                    s += k + 2;
                    n -= k + 2;
                    break;
                }
            if (!ext.p)
                ext = mkb(s, n);
            continue;
        }
        if (n)
            return mkb(s, n);
    }
    return ext;
}

/* Content-Length: digits only; repeated headers must agree. */
static int parse_cl(sw_http_bytes block, uint64_t *out)
{
    sw_http_bytes n, v;
    hdr_iter it = {block.p, block.p + block.len};
    bool have = false;
    uint64_t val = 0;
    while (hdr_next(&it, &n, &v)) {
        if (!bytes_ieq(n.p, n.len, "content-length"))
            continue;
        uint64_t x = 0;
        if (v.len == 0 || v.len > 18)
            return -1;
        for (size_t i = 0; i < v.len; i++) {
            if (v.p[i] < '0' || v.p[i] > '9')
                return -1;
            x = x * 10 + (uint64_t)(v.p[i] - '0');
        }
        if (have && x != val)
            return -1;
        have = true;
        val = x;
    }
    if (!have)
        return 0;
    *out = val;
    return 1;
}

static bool te_chunked(sw_http_bytes block)
{
    sw_http_bytes n, v;
    hdr_iter it = {block.p, block.p + block.len};
    while (hdr_next(&it, &n, &v)) {
        if (!bytes_ieq(n.p, n.len, "transfer-encoding"))
            continue;
        /* chunked must be the last coding to frame the message */
        sw_http_bytes t = v;
        const uint8_t *comma = NULL;
        for (size_t i = 0; i < t.len; i++)
            if (t.p[i] == ',')
                comma = t.p + i;
        if (comma)
            t = trim(comma + 1, (size_t)(t.p + t.len - comma - 1));
        if (bytes_ieq(t.p, t.len, "chunked"))
            return true;
    }
    return false;
}

/* ---- lifecycle -------------------------------------------------------- */

size_t sw_http_state_size(const sw_http_config *c)
{
    size_t slot_buf = 2 * (size_t)c->max_header_bytes + 1;
    return sizeof(sw_http_state) + c->max_pipeline * (sizeof(slot) + slot_buf) +
           c->request_body_limit + c->max_header_bytes + c->response_body_limit +
           HTTP_ZOUT;
}

sw_http_state *sw_http_new(const sw_http_config *c, uint64_t *ctrs)
{
    sw_http_state *s = calloc(1, sizeof(*s));
    if (!s)
        return NULL;
    s->c = *c;
    s->ctr = ctrs ? ctrs : s->dummy_ctr;
    s->nslots = c->max_pipeline ? c->max_pipeline : 1;
    s->slot_buf = 2 * (size_t)c->max_header_bytes + 1;
    s->slots = calloc(s->nslots, sizeof(slot));
    if (!s->slots) {
        free(s);
        return NULL;
    }
    s->mem_bytes = sizeof(*s) + s->nslots * sizeof(slot);
    return s;
}

/* *pp, allocated (n bytes) on first use; NULL when memory is short. */
static uint8_t *lazy_buf(sw_http_state *s, uint8_t **pp, size_t n)
{
    if (!*pp) {
        *pp = malloc(n);
        if (*pp)
            s->mem_bytes += n;
    }
    return *pp;
}

size_t sw_http_mem(const sw_http_state *s)
{
    return s ? s->mem_bytes : 0;
}

void sw_http_free(sw_http_state *s)
{
    if (!s)
        return;
    if (s->z_inited)
        inflateEnd(&s->z);
    if (s->slots)
        for (uint32_t i = 0; i < s->nslots; i++)
            free(s->slots[i].buf);
    free(s->req_body);
    free(s->resp_hbuf);
    free(s->resp_body);
    free(s->zout);
    free(s->slots);
    free(s);
}

bool sw_http_is_tunnel(const sw_http_state *s) { return s->tunnel; }
bool sw_http_is_dead(const sw_http_state *s) { return s->dead; }

/* ---- transactions ------------------------------------------------------ */

static slot *slot_of(sw_http_state *s, uint64_t id) { return &s->slots[id % s->nslots]; }

static void slot_init(slot *sl, uint64_t id)
{
    uint8_t *buf = sl->buf;
    memset(sl, 0, sizeof(*sl));
    sl->buf = buf;
    sl->tx.tx_id = id;
    sl->tx.port = -1;
    sl->tx.status = 0;
}

/* Frees slots from the oldest on while both sides are done. */
static void reap(sw_http_state *s)
{
    while (s->oldest < s->next_tx) {
        slot *sl = slot_of(s, s->oldest);
        if (!(sl->req_done && sl->resp_done))
            break;
        s->oldest++;
    }
}

static void dir_reset(dir_state *d)
{
    uint8_t *hb = d->hbuf;
    size_t hc = d->hcap;
    int st = d->st;
    memset(d, 0, sizeof(*d));
    d->hbuf = hb;
    d->hcap = hc;
    d->st = st;
}

static void tx_log(sw_http_state *s, slot *sl, const sw_http_callbacks *cb, void *user)
{
    if (sl->logged)
        return;
    sl->logged = true;
    if (!sl->tx.has_request && !sl->tx.has_response)
        return; /* only a fragment of a start line: nothing to describe */
    ctr(s, SW_HTTP_CTR_TX);
    if (cb && cb->on_tx_complete)
        cb->on_tx_complete(user, &sl->tx);
}

static void request_done(sw_http_state *s, const sw_http_callbacks *cb, void *user)
{
    slot *sl = s->req_cur;
    dir_state *d = &s->d[0];
    if (d->st != D_DEAD)
        d->st = D_START;
    if (!sl)
        return;
    s->req_cur = NULL;
    sl->tx.req_complete = true;
    if (cb && cb->on_request_complete)
        cb->on_request_complete(user, &sl->tx);
    sl->req_done = true;
    if (sl->resp_done)
        tx_log(s, sl, cb, user);
    reap(s);
}

static void zstop(sw_http_state *s) { s->zst = Z_STOPPED; }

static void response_done(sw_http_state *s, bool truncated,
                          const sw_http_callbacks *cb, void *user)
{
    slot *sl = s->resp_cur;
    dir_state *d = &s->d[1];
    if (d->st != D_DEAD && d->st != D_TUNNEL_WAIT && d->st != D_TUNNEL)
        d->st = D_START;
    if (s->zst != Z_OFF)
        s->zst = Z_OFF;
    if (!sl)
        return;
    s->resp_cur = NULL;
    if (truncated)
        sl->tx.resp_truncated = true;
    else
        sl->tx.resp_complete = true;
    sl->resp_done = true;
    s->resp_tx = sl->tx.tx_id + 1;
    /* The event is logged once the response ends even if the request body
     * is still uploading: the response storage is about to be reused. */
    tx_log(s, sl, cb, user);
    reap(s);
}

static void kill_dir(sw_http_state *s, int dir, const sw_http_callbacks *cb, void *user)
{
    if (dir == 1 && s->resp_cur)
        response_done(s, true, cb, user);
    if (dir == 0 && s->req_cur) {
        /* whatever of the request was parsed stays with its transaction */
        s->req_cur->req_done = true;
        s->req_cur = NULL;
        reap(s);
    }
    s->d[dir].st = D_DEAD;
}

static void garbage(sw_http_state *s, const sw_http_callbacks *cb, void *user)
{
    ctr(s, SW_HTTP_CTR_GARBAGE);
    ctr(s, SW_HTTP_CTR_PARSER_ERR);
    s->dead = true;
    kill_dir(s, 1, cb, user);
    s->d[0].st = D_DEAD;
}

/* ---- bodies ------------------------------------------------------------ */

static void req_body_data(sw_http_state *s, const uint8_t *p, size_t n)
{
    slot *sl = s->req_cur;
    if (!sl)
        return;
    sw_http_tx *tx = &sl->tx;
    size_t have = tx->req_body.len;
    if (p && have < s->c.request_body_limit) {
        size_t k = s->c.request_body_limit - have;
        if (k > n)
            k = n;
        if (!lazy_buf(s, &s->req_body, s->c.request_body_limit))
            return;
        memcpy(s->req_body + have, p, k);
        tx->req_body.p = s->req_body;
        tx->req_body.len = have + k;
        if (k < n)
            ctr(s, SW_HTTP_CTR_REQ_BODY_TRUNC);
    } else if (p && n && have >= s->c.request_body_limit &&
               tx->req_body_len == have) {
        ctr(s, SW_HTTP_CTR_REQ_BODY_TRUNC);
    }
    tx->req_body_len += n;
}

static void resp_emit(sw_http_state *s, const uint8_t *p, size_t n,
                      const sw_http_callbacks *cb, void *user)
{
    sw_http_tx *tx = &s->resp_cur->tx;
    if (p) {
        size_t have = tx->resp_body.len;
        if (have < s->c.response_body_limit) {
            size_t k = s->c.response_body_limit - have;
            if (k > n)
                k = n;
            if (lazy_buf(s, &s->resp_body, s->c.response_body_limit)) {
                memcpy(s->resp_body + have, p, k);
                tx->resp_body.p = s->resp_body;
                tx->resp_body.len = have + k;
            }
            if (k < n)
                ctr(s, SW_HTTP_CTR_RESP_BODY_TRUNC);
        }
        tx->resp_decoded_len += n;
    }
    if (n && cb && cb->on_response_body)
        cb->on_response_body(user, tx, p, n);
}

static bool zstart(sw_http_state *s, int wbits)
{
    int rc = s->z_inited ? inflateReset2(&s->z, wbits) : inflateInit2(&s->z, wbits);
    if (rc != Z_OK) {
        if (!s->z_inited)
            memset(&s->z, 0, sizeof(s->z));
        ctr(s, SW_HTTP_CTR_DECOMPRESS_ERR);
        return false;
    }
    s->z_inited = true;
    s->zst = Z_ON;
    s->z_in = s->z_out = 0;
    return true;
}

/* Encoded response body bytes (dechunked) in order; p == NULL: a gap. */
static void resp_body_data(sw_http_state *s, const uint8_t *p, size_t n,
                           const sw_http_callbacks *cb, void *user)
{
    sw_http_tx *tx = &s->resp_cur->tx;
    tx->resp_length += n;
    if (!p) {
        tx->resp_gap = true;
        if (s->zst != Z_OFF) {
            /* A deflate stream cannot resume after lost bytes. */
            zstop(s);
            return;
        }
        resp_emit(s, NULL, n, cb, user);
        return;
    }
    if (s->zst == Z_PENDING_GZIP || s->zst == Z_PENDING_DEFLATE) {
        int wbits = 15 + 32;
        if (s->zst == Z_PENDING_DEFLATE) {
            /* "deflate" is meant to be zlib-wrapped but is often raw. */
            bool zlib_hdr = n >= 2 && (p[0] & 0x0f) == 8 && (p[0] >> 4) <= 7 &&
                            ((p[0] << 8) | p[1]) % 31 == 0;
            wbits = zlib_hdr ? 15 : -15;
        }
        if (!zstart(s, wbits)) {
            s->zst = Z_OFF;
        }
    }
    if (s->zst == Z_STOPPED)
        return;
    if (s->zst == Z_OFF) {
        resp_emit(s, p, n, cb, user);
        return;
    }
    s->z.next_in = (Bytef *)(uintptr_t)p;
    s->z.avail_in = (uInt)n;
    if (!lazy_buf(s, &s->zout, HTTP_ZOUT)) {
        s->zst = Z_STOPPED;
        ctr(s, SW_HTTP_CTR_DECOMPRESS_ERR);
        return;
    }
    for (;;) {
        s->z.next_out = s->zout;
        s->z.avail_out = HTTP_ZOUT;
        uInt in_before = s->z.avail_in;
        int rc = inflate(&s->z, Z_NO_FLUSH);
        size_t got = HTTP_ZOUT - s->z.avail_out;
        s->z_in += in_before - s->z.avail_in;
        if (rc == Z_DATA_ERROR || rc == Z_NEED_DICT || rc == Z_MEM_ERROR ||
            rc == Z_STREAM_ERROR) {
            ctr(s, SW_HTTP_CTR_DECOMPRESS_ERR);
            if (s->z_out == 0 && got == 0 && s->z_in <= n) {
                /* Mislabelled plain body: pass it through as sent. */
                s->zst = Z_OFF;
                resp_emit(s, p, n, cb, user);
                return;
            }
            zstop(s);
            return;
        }
        if (got) {
            uint64_t limit = s->c.decompress_max_output;
            bool bomb = false;
            if (s->z_out + got > limit) {
                got = (size_t)(limit - s->z_out);
                bomb = true;
            }
            s->z_out += got;
            if (s->z_out > s->c.decompress_bomb_min &&
                s->z_out > (uint64_t)s->c.decompress_ratio_limit * (s->z_in ? s->z_in : 1))
                bomb = true;
            resp_emit(s, s->zout, got, cb, user);
            if (bomb) {
                ctr(s, SW_HTTP_CTR_DECOMPRESS_BOMB);
                tx->resp_bomb = true;
                zstop(s);
                return;
            }
        }
        if (rc == Z_STREAM_END) {
            zstop(s); /* trailing bytes after the stream are ignored */
            return;
        }
        if (s->z.avail_in == 0 && s->z.avail_out != 0)
            return;
        if (got == 0 && s->z.avail_in == 0)
            return;
    }
}

static void body_data(sw_http_state *s, int dir, const uint8_t *p, size_t n,
                      const sw_http_callbacks *cb, void *user)
{
    if (dir == 0)
        req_body_data(s, p, n);
    else if (s->resp_cur)
        resp_body_data(s, p, n, cb, user);
}

static void msg_done(sw_http_state *s, int dir, bool truncated,
                     const sw_http_callbacks *cb, void *user)
{
    if (dir == 0)
        request_done(s, cb, user);
    else
        response_done(s, truncated, cb, user);
}

/* ---- header blocks ------------------------------------------------------ */

/* Splits "A SP B [SP C]" (runs of spaces allowed) of the first line. */
static int split3(const uint8_t *p, size_t n, sw_http_bytes out[3])
{
    int k = 0;
    size_t i = 0;
    while (k < 3 && i < n) {
        while (i < n && is_ws(p[i]))
            i++;
        if (i >= n)
            break;
        size_t s = i;
        if (k == 2) { /* the rest (reason phrases contain spaces) */
            out[k++] = trim(p + s, n - s);
            break;
        }
        while (i < n && !is_ws(p[i]))
            i++;
        out[k++] = mkb(p + s, i - s);
    }
    return k;
}

static size_t first_line_len(const dir_state *d)
{
    const uint8_t *nl = memchr(d->hbuf, '\n', d->hlen);
    size_t n = nl ? (size_t)(nl - d->hbuf) : d->hlen;
    if (n && d->hbuf[n - 1] == '\r')
        n--;
    return n;
}

static void request_headers_done(sw_http_state *s, const sw_http_callbacks *cb,
                                 void *user)
{
    dir_state *d = &s->d[0];
    slot *sl = s->req_cur;
    sw_http_tx *tx = &sl->tx;
    if (d->first_line_lost) {
        ctr(s, SW_HTTP_CTR_PARSER_ERR);
        kill_dir(s, 0, cb, user);
        return;
    }
    size_t fl = first_line_len(d);
    sw_http_bytes parts[3] = {{0}};
    int k = split3(d->hbuf, fl, parts);
    tx->has_request = true;
    tx->request_line = mkb(d->hbuf, fl);
    tx->method = parts[0];
    if (k >= 2)
        tx->uri_raw = parts[1];
    if (k >= 3)
        tx->protocol = parts[2];
    size_t hdr_off = fl;
    while (hdr_off < d->hlen && (d->hbuf[hdr_off] == '\r' || d->hbuf[hdr_off] == '\n'))
        hdr_off++;
    /* trailing CRLF CRLF is not part of any header */
    tx->req_headers = mkb(d->hbuf + hdr_off, d->hlen - hdr_off);

    sw_http_bytes auth = {NULL, 0};
    if (tx->uri_raw.p) {
        uint8_t *nb = sl->buf + d->hlen;
        size_t nl = normalize_uri(tx->uri_raw.p, tx->uri_raw.len, nb, &auth);
        tx->uri = mkb(nb, nl);
    }
    sw_http_bytes hosthdr = sw_http_header(tx->req_headers, "host");
    if (bytes_ieq(tx->method.p, tx->method.len, "CONNECT") && tx->uri_raw.p && !auth.p)
        auth = tx->uri_raw;
    sw_http_bytes hsrc = auth.p && auth.len ? auth : hosthdr;
    if (hsrc.p) {
        size_t hn = normalize_host(hsrc, sl->host, sizeof(sl->host), &tx->port);
        tx->host = mkb(sl->host, hn);
    }
    tx->user_agent = sw_http_header(tx->req_headers, "user-agent");
    tx->referer = sw_http_header(tx->req_headers, "referer");
    tx->cookie = sw_http_header(tx->req_headers, "cookie");
    tx->req_content_type = sw_http_header(tx->req_headers, "content-type");
    tx->xff = sw_http_header(tx->req_headers, "x-forwarded-for");

    /* framing */
    uint64_t cl = 0;
    int clr = parse_cl(tx->req_headers, &cl);
    bool chunked = te_chunked(tx->req_headers);
    if (clr < 0) {
        ctr(s, SW_HTTP_CTR_CL_INVALID);
        ctr(s, SW_HTTP_CTR_PARSER_ERR);
    }
    if (chunked && clr != 0)
        ctr(s, SW_HTTP_CTR_CL_AND_TE);
    if (chunked) {
        dir_reset(d);
        d->st = D_BODY_CHUNKED;
        d->ck = CK_SIZE;
    } else if (clr > 0 && cl > 0) {
        dir_reset(d);
        d->st = D_BODY_CL;
        d->remain = cl;
    } else {
        request_done(s, cb, user);
    }
}

static void response_headers_done(sw_http_state *s, const sw_http_callbacks *cb,
                                  void *user)
{
    dir_state *d = &s->d[1];
    slot *sl = s->resp_cur;
    sw_http_tx *tx = &sl->tx;
    if (d->first_line_lost) {
        ctr(s, SW_HTTP_CTR_PARSER_ERR);
        kill_dir(s, 1, cb, user);
        return;
    }
    size_t fl = first_line_len(d);
    sw_http_bytes parts[3] = {{0}};
    int k = split3(d->hbuf, fl, parts);
    tx->has_response = true;
    tx->resp_protocol = parts[0];
    tx->status_str = k >= 2 ? parts[1] : mkb(NULL, 0);
    int status = -1;
    if (tx->status_str.len == 3) {
        status = 0;
        for (int i = 0; i < 3; i++) {
            uint8_t c = tx->status_str.p[i];
            if (c < '0' || c > '9') {
                status = -1;
                break;
            }
            status = status * 10 + (c - '0');
        }
    }
    tx->status = status;
    size_t hdr_off = fl;
    while (hdr_off < d->hlen && (d->hbuf[hdr_off] == '\r' || d->hbuf[hdr_off] == '\n'))
        hdr_off++;
    tx->resp_headers = mkb(d->hbuf + hdr_off, d->hlen - hdr_off);

    if (status >= 100 && status < 200 && status != 101) {
        /* Interim response (100 Continue): the final one follows. */
        tx->has_response = false;
        dir_reset(d);
        d->st = D_START;
        return;
    }
    tx->content_type = sw_http_header(tx->resp_headers, "content-type");
    tx->content_encoding = sw_http_header(tx->resp_headers, "content-encoding");
    tx->location = sw_http_header(tx->resp_headers, "location");
    tx->filename = cd_filename(sw_http_header(tx->resp_headers, "content-disposition"));
    tx->resp_body.p = s->resp_body;
    tx->resp_body.len = 0;

    bool connect = bytes_ieq(tx->method.p, tx->method.len, "CONNECT");
    bool head = bytes_ieq(tx->method.p, tx->method.len, "HEAD");
    if (cb && cb->on_response_headers)
        cb->on_response_headers(user, tx);

    if ((connect && status >= 200 && status < 300) || status == 101) {
        /* The connection is now a tunnel; HTTP may or may not continue. */
        ctr(s, SW_HTTP_CTR_TUNNEL);
        response_done(s, false, cb, user);
        s->d[1].st = D_TUNNEL_WAIT;
        s->d[0].st = D_TUNNEL_WAIT;
        s->tw_len = 0;
        if (status == 101) {
            s->tunnel = true;
            s->d[0].st = s->d[1].st = D_TUNNEL;
        }
        return;
    }
    if (head || status == 204 || status == 304 || (status >= 100 && status < 200)) {
        response_done(s, false, cb, user);
        return;
    }
    uint64_t cl = 0;
    int clr = parse_cl(tx->resp_headers, &cl);
    bool chunked = te_chunked(tx->resp_headers);
    if (clr < 0) {
        ctr(s, SW_HTTP_CTR_CL_INVALID);
        ctr(s, SW_HTTP_CTR_PARSER_ERR);
    }
    if (chunked && clr != 0)
        ctr(s, SW_HTTP_CTR_CL_AND_TE);
    s->zst = Z_OFF;
    if (s->c.decompress && tx->content_encoding.p) {
        sw_http_bytes ce = tx->content_encoding;
        if (bytes_ieq(ce.p, ce.len, "gzip") || bytes_ieq(ce.p, ce.len, "x-gzip"))
            s->zst = Z_PENDING_GZIP;
        else if (bytes_ieq(ce.p, ce.len, "deflate"))
            s->zst = Z_PENDING_DEFLATE;
    }
    dir_reset(d);
    if (chunked) {
        tx->chunked = true;
        d->st = D_BODY_CHUNKED;
        d->ck = CK_SIZE;
    } else if (clr > 0) {
        if (cl == 0) {
            response_done(s, false, cb, user);
            return;
        }
        d->st = D_BODY_CL;
        d->remain = cl;
    } else {
        d->st = D_BODY_CLOSE;
    }
}

/* Starts a message in dir at its first byte. Returns false if the
 * direction cannot take a new message. */
static bool msg_begin(sw_http_state *s, int dir, uint64_t ts_us,
                      const sw_http_callbacks *cb, void *user)
{
    dir_state *d = &s->d[dir];
    if (dir == 0) {
        if (s->next_tx - s->oldest >= s->nslots) {
            /* More requests in flight than slots: stop parsing requests
             * rather than buffer without bound. */
            ctr(s, SW_HTTP_CTR_PIPELINE_OVERFLOW);
            kill_dir(s, 0, cb, user);
            return false;
        }
        slot *sl = slot_of(s, s->next_tx);
        slot_init(sl, s->next_tx);
        s->next_tx++;
        sl->req_started = true;
        sl->tx.ts_request_us = ts_us;
        s->req_cur = sl;
        d->hbuf = lazy_buf(s, &sl->buf, s->slot_buf);
        if (!d->hbuf) {
            ctr(s, SW_HTTP_CTR_PARSER_ERR);
            kill_dir(s, 0, cb, user);
            return false;
        }
        d->hcap = s->c.max_header_bytes;
    } else {
        slot *sl;
        if (s->resp_tx < s->oldest)
            s->resp_tx = s->oldest;
        if (s->resp_tx < s->next_tx) {
            sl = slot_of(s, s->resp_tx);
        } else {
            if (s->next_tx - s->oldest >= s->nslots) {
                ctr(s, SW_HTTP_CTR_PIPELINE_OVERFLOW);
                kill_dir(s, 1, cb, user);
                return false;
            }
            ctr(s, SW_HTTP_CTR_NO_REQUEST);
            sl = slot_of(s, s->next_tx);
            slot_init(sl, s->next_tx);
            s->next_tx++;
            sl->req_done = true;
            sl->tx.req_complete = false;
        }
        sl->tx.ts_response_us = ts_us;
        s->resp_cur = sl;
        d->hbuf = lazy_buf(s, &s->resp_hbuf, s->c.max_header_bytes);
        if (!d->hbuf) {
            ctr(s, SW_HTTP_CTR_PARSER_ERR);
            kill_dir(s, 1, cb, user);
            return false;
        }
        d->hcap = s->c.max_header_bytes;
    }
    dir_reset(d);
    d->st = D_HEADERS;
    return true;
}

/* Consumes header bytes; returns bytes used. */
static size_t feed_headers(sw_http_state *s, int dir, const uint8_t *p, size_t n,
                           const sw_http_callbacks *cb, void *user)
{
    dir_state *d = &s->d[dir];
    const uint8_t *nl = memchr(p, '\n', n);
    size_t seg = nl ? (size_t)(nl - p) + 1 : n;

    if (d->nlines == 0) {
        /* Reject non-HTTP early, before buffering a whole "line" of it. */
        for (size_t i = 0; i < seg; i++) {
            uint64_t pos = d->line_len + i;
            uint8_t c = p[i];
            if (dir == 0) {
                if (d->method_seen_sp)
                    break;
                if (c == ' ' || c == '\t') {
                    if (pos == 0) {
                        garbage(s, cb, user);
                        return n;
                    }
                    d->method_seen_sp = true;
                    break;
                }
                if (!is_tchar(c) || pos >= HTTP_METHOD_MAX) {
                    garbage(s, cb, user);
                    return n;
                }
            } else {
                static const char http[] = "HTTP/";
                if (pos >= 5)
                    break;
                if (lc(c) != lc((uint8_t)http[pos])) {
                    garbage(s, cb, user);
                    return n;
                }
            }
        }
    }

    if (!d->stop_copy && !d->skip_line) {
        if (d->hlen + seg > d->hcap) {
            /* Drop this line only: later short lines (Host) still fit. */
            if (!d->too_long_counted)
                ctr(s, SW_HTTP_CTR_HEADER_TOO_LONG);
            d->too_long_counted = true;
            d->skip_line = true;
            d->hlen = d->line_start;
            if (d->nlines == 0)
                d->first_line_lost = true;
        } else {
            memcpy(d->hbuf + d->hlen, p, seg);
            d->hlen += seg;
        }
    }
    uint8_t prev = seg >= 2 ? p[seg - 2] : d->last;
    d->line_len += seg;
    d->last = p[seg - 1];
    if (!nl)
        return seg;

    bool empty = d->line_len == 1 || (d->line_len == 2 && prev == '\r');
    uint32_t lineno = d->nlines++;
    d->line_len = 0;
    if (d->skip_line) {
        d->skip_line = false;
        empty = false; /* the tail of a dropped line ends nothing */
    }
    if (empty && lineno > 0) {
        if (dir == 0)
            request_headers_done(s, cb, user);
        else
            response_headers_done(s, cb, user);
        return seg;
    }
    if (lineno == 0 && dir == 0 && !d->first_line_lost) {
        /* A request line without a protocol: HTTP/0.9 (no headers) only if
         * nothing but whitespace follows it in this chunk; otherwise the
         * protocol is just missing and headers follow. The same probe as
         * libhtp's (HTTP09_MAX_JUNK_LEN 16), so both sides agree on what
         * headers a "GET /" request has. */
        sw_http_bytes parts[3] = {{0}};
        if (split3(d->hbuf, first_line_len(d), parts) < 3) {
            const uint8_t *rest = p + seg;
            size_t rn = n - seg;
            bool headers = rn > 16;
            for (size_t i = 0; !headers && i < rn; i++)
                headers = !is_space(rest[i]);
            if (!headers) {
                request_headers_done(s, cb, user);
                return seg;
            }
            s->req_cur->tx.events |= SW_HTTP_EV_REQUEST_LINE_MISSING_PROTOCOL;
            ctr(s, SW_HTTP_CTR_MISSING_PROTOCOL);
        }
    }
    if (!d->stop_copy && lineno >= s->c.max_headers) {
        ctr(s, SW_HTTP_CTR_TOO_MANY_HEADERS);
        d->stop_copy = true;
        d->hlen = d->line_start;
    }
    d->line_start = d->hlen;
    return seg;
}

static void chunk_error(sw_http_state *s, int dir, const sw_http_callbacks *cb,
                        void *user)
{
    ctr(s, SW_HTTP_CTR_CHUNK_SIZE_INVALID);
    ctr(s, SW_HTTP_CTR_PARSER_ERR);
    if (dir == 0)
        request_done(s, cb, user);
    kill_dir(s, dir, cb, user);
}

static size_t feed_chunked(sw_http_state *s, int dir, const uint8_t *p, size_t n,
                           const sw_http_callbacks *cb, void *user)
{
    dir_state *d = &s->d[dir];
    size_t i = 0;
    while (i < n && d->st == D_BODY_CHUNKED) {
        uint8_t c = p[i];
        switch (d->ck) {
        case CK_SIZE: {
            int h = hexval(c);
            if (++d->ck_linelen > HTTP_MAX_CHUNK_LINE) {
                chunk_error(s, dir, cb, user);
                return n;
            }
            if (h >= 0) {
                if (d->ck_digits >= 16 ||
                    d->ck_size * 16 + (uint64_t)h > s->c.max_chunk_size) {
                    chunk_error(s, dir, cb, user);
                    return n;
                }
                d->ck_size = d->ck_size * 16 + (uint64_t)h;
                d->ck_digits++;
                i++;
            } else if (c == '\n') {
                i++;
                if (d->ck_digits == 0) {
                    /* tolerate blank lines before a size */
                    d->ck_linelen = 0;
                    break;
                }
                goto size_done;
            } else if (c == ';' || is_space(c)) {
                /* libhtp ends the size at any whitespace, \v and \f
                 * included (evader 012: "f\v\r\n") */
                if (d->ck_digits == 0 && !is_space(c)) {
                    chunk_error(s, dir, cb, user);
                    return n;
                }
                d->ck = CK_EXT;
                i++;
            } else {
                chunk_error(s, dir, cb, user);
                return n;
            }
            break;
        }
        case CK_EXT: {
            const uint8_t *e = memchr(p + i, '\n', n - i);
            size_t k = e ? (size_t)(e - (p + i)) + 1 : n - i;
            d->ck_linelen += (uint32_t)(k > HTTP_MAX_CHUNK_LINE ? HTTP_MAX_CHUNK_LINE : k);
            if (d->ck_linelen > HTTP_MAX_CHUNK_LINE) {
                chunk_error(s, dir, cb, user);
                return n;
            }
            i += k;
            if (!e)
                break;
            if (d->ck_digits == 0) {
                chunk_error(s, dir, cb, user);
                return n;
            }
            goto size_done;
        }
        case CK_DATA: {
            size_t k = n - i;
            if (k > d->remain)
                k = (size_t)d->remain;
            body_data(s, dir, p + i, k, cb, user);
            i += k;
            d->remain -= k;
            if (d->remain == 0)
                d->ck = CK_DATA_END;
            break;
        }
        case CK_DATA_END:
            if (c == '\r') {
                i++;
            } else if (c == '\n') {
                i++;
                d->ck = CK_SIZE;
                d->ck_size = 0;
                d->ck_digits = d->ck_linelen = 0;
            } else {
                /* missing CRLF after the data: read the next size */
                d->ck = CK_SIZE;
                d->ck_size = 0;
                d->ck_digits = d->ck_linelen = 0;
            }
            break;
        case CK_TRAILER: {
            const uint8_t *e = memchr(p + i, '\n', n - i);
            size_t k = e ? (size_t)(e - (p + i)) + 1 : n - i;
            for (size_t j = 0; j < k; j++)
                if (p[i + j] != '\r' && p[i + j] != '\n')
                    d->ck_line_has_data = true;
            d->ck_trailer += k;
            i += k;
            if (d->ck_trailer > s->c.max_header_bytes) {
                ctr(s, SW_HTTP_CTR_HEADER_TOO_LONG);
                msg_done(s, dir, false, cb, user);
                kill_dir(s, dir, cb, user);
                return n;
            }
            if (!e)
                break;
            if (!d->ck_line_has_data) {
                msg_done(s, dir, false, cb, user);
                return i;
            }
            d->ck_line_has_data = false;
            break;
        }
        }
        continue;
    size_done:
        if (d->ck_size == 0) {
            d->ck = CK_TRAILER;
            d->ck_trailer = 0;
            d->ck_line_has_data = false;
        } else {
            d->ck = CK_DATA;
            d->remain = d->ck_size;
        }
        d->ck_size = 0;
        d->ck_digits = d->ck_linelen = 0;
    }
    return i;
}

static void tunnel_reset(sw_http_state *s)
{
    for (uint32_t i = 0; i < s->nslots; i++)
        slot_init(&s->slots[i], 0);
    s->next_tx = s->resp_tx = s->oldest = 0;
    s->req_cur = s->resp_cur = NULL;
    dir_reset(&s->d[0]);
    dir_reset(&s->d[1]);
    s->d[0].st = s->d[1].st = D_START;
}

static void feed_dir(sw_http_state *s, int dir, const uint8_t *p, size_t n,
                     uint64_t ts_us, const sw_http_callbacks *cb, void *user);

/* After CONNECT succeeded: the client's first bytes tell whether HTTP goes
 * on inside (a plain proxy) or something else (TLS) does. */
static size_t feed_tunnel_wait(sw_http_state *s, int dir, const uint8_t *p, size_t n,
                               uint64_t ts_us, const sw_http_callbacks *cb, void *user)
{
    /* stray line ends after the CONNECT exchange decide nothing */
    size_t skip = 0;
    while (skip < n && s->tw_len == 0 && (p[skip] == '\r' || p[skip] == '\n'))
        skip++;
    if (skip == n)
        return n;
    if (skip) {
        size_t used = feed_tunnel_wait(s, dir, p + skip, n - skip, ts_us, cb, user);
        return skip + used;
    }
    if (dir == 1) {
        s->tunnel = true;
        s->d[0].st = s->d[1].st = D_TUNNEL;
        return n;
    }
    size_t i = 0;
    int verdict = 0; /* 1 http, -1 other */
    while (i < n && verdict == 0) {
        uint8_t c = p[i++];
        s->tw[s->tw_len++] = c;
        if (c == ' ' && s->tw_len > 1)
            verdict = 1;
        else if (!is_tchar(c) || s->tw_len >= HTTP_TW_MAX)
            verdict = -1;
    }
    if (verdict == 0)
        return n;
    if (verdict < 0) {
        s->tunnel = true;
        s->d[0].st = s->d[1].st = D_TUNNEL;
        return n;
    }
    uint8_t tw[HTTP_TW_MAX];
    size_t twl = s->tw_len;
    memcpy(tw, s->tw, twl);
    tunnel_reset(s);
    feed_dir(s, 0, tw, twl, ts_us, cb, user);
    return i;
}

/* libhtp (RES_FINALIZE) reads the line after a Content-Length body that
 * arrives in the same chunk; a line that does not start with "HTTP" (after
 * whitespace) is "unexpected response body" and is appended to the body
 * just ended, so the file Suricata logs includes it (sv-http-gap-simple: a
 * 12-byte Content-Length followed by "\r\n" is a 14-byte file). Returns
 * the bytes taken; a line not complete in this chunk is left alone. */
static size_t response_trailing_junk(sw_http_state *s, const uint8_t *p, size_t n,
                                     const sw_http_callbacks *cb, void *user)
{
    size_t used = 0;
    while (used < n) {
        const uint8_t *ls = p + used;
        const uint8_t *nl = memchr(ls, '\n', n - used);
        if (!nl)
            break;
        size_t len = (size_t)(nl - ls) + 1, k = 0;
        while (k < len && (is_space(ls[k]) || ls[k] == 0))
            k++;
        if (len >= k + 4 && lc(ls[k]) == 'h' && lc(ls[k + 1]) == 't' && lc(ls[k + 2]) == 't' &&
            lc(ls[k + 3]) == 'p')
            break;
        body_data(s, 1, ls, len, cb, user);
        used += len;
    }
    return used;
}

static void feed_dir(sw_http_state *s, int dir, const uint8_t *p, size_t n,
                     uint64_t ts_us, const sw_http_callbacks *cb, void *user)
{
    dir_state *d = &s->d[dir];
    size_t i = 0;
    while (i < n) {
        switch (d->st) {
        case D_START:
            if (p[i] == '\r' || p[i] == '\n') {
                i++;
                break;
            }
            if (!msg_begin(s, dir, ts_us, cb, user))
                return;
            break;
        case D_HEADERS:
            i += feed_headers(s, dir, p + i, n - i, cb, user);
            break;
        case D_BODY_CL: {
            size_t k = n - i;
            if (k > d->remain)
                k = (size_t)d->remain;
            body_data(s, dir, p + i, k, cb, user);
            i += k;
            d->remain -= k;
            if (d->remain == 0) {
                if (dir == 1)
                    i += response_trailing_junk(s, p + i, n - i, cb, user);
                msg_done(s, dir, false, cb, user);
            }
            break;
        }
        case D_BODY_CHUNKED:
            i += feed_chunked(s, dir, p + i, n - i, cb, user);
            break;
        case D_BODY_CLOSE:
            body_data(s, dir, p + i, n - i, cb, user);
            i = n;
            break;
        case D_TUNNEL_WAIT:
            i += feed_tunnel_wait(s, dir, p + i, n - i, ts_us, cb, user);
            d = &s->d[dir];
            break;
        case D_TUNNEL:
        case D_DEAD:
        default:
            return;
        }
    }
}

void sw_http_feed(sw_http_state *s, int dir, const uint8_t *data, size_t len,
                  uint64_t ts_us, const sw_http_callbacks *cb, void *user)
{
    if (!s || !data || len == 0 || (dir != 0 && dir != 1) || s->closed)
        return;
    feed_dir(s, dir, data, len, ts_us, cb, user);
}

void sw_http_gap(sw_http_state *s, int dir, uint64_t gap_len, uint64_t ts_us,
                 const sw_http_callbacks *cb, void *user)
{
    if (!s || (dir != 0 && dir != 1) || s->closed || gap_len == 0)
        return;
    dir_state *d = &s->d[dir];
    ctr(s, SW_HTTP_CTR_GAP);
    switch (d->st) {
    case D_TUNNEL:
    case D_DEAD:
        return;
    case D_BODY_CLOSE:
        body_data(s, dir, NULL, gap_len, cb, user);
        return;
    case D_BODY_CL:
    case D_BODY_CHUNKED:
        if ((d->st == D_BODY_CL || d->ck == CK_DATA) && gap_len <= d->remain) {
            body_data(s, dir, NULL, gap_len, cb, user);
            d->remain -= gap_len;
            if (d->remain == 0) {
                if (d->st == D_BODY_CL)
                    msg_done(s, dir, false, cb, user);
                else
                    d->ck = CK_DATA_END;
            }
            return;
        }
        /* The gap swallowed framing: this direction is lost. */
        ctr(s, SW_HTTP_CTR_GAP_ERR);
        if (dir == 0)
            request_done(s, cb, user);
        kill_dir(s, dir, cb, user);
        return;
    default:
        ctr(s, SW_HTTP_CTR_GAP_ERR);
        kill_dir(s, dir, cb, user);
        return;
    }
}

void sw_http_close(sw_http_state *s, uint64_t ts_us, const sw_http_callbacks *cb,
                   void *user)
{
    if (!s || s->closed)
        return;
    (void)ts_us;
    dir_state *rd = &s->d[1];
    if (s->resp_cur) {
        bool ok = rd->st == D_BODY_CLOSE;
        if (rd->st == D_HEADERS)
            s->resp_cur->tx.has_response = false;
        response_done(s, !ok, cb, user);
    }
    if (s->req_cur) {
        slot *sl = s->req_cur;
        if (s->d[0].st == D_HEADERS) {
            /* a request cut inside its headers is not reported */
            sl->req_done = true;
            sl->logged = true;
            s->req_cur = NULL;
        } else {
            request_done(s, cb, user);
        }
    }
    /* requests that never got a response are still transactions */
    for (uint64_t id = s->oldest; id < s->next_tx; id++) {
        slot *sl = slot_of(s, id);
        if (!sl->logged && sl->tx.has_request) {
            sl->resp_done = true;
            tx_log(s, sl, cb, user);
        }
    }
    s->oldest = s->next_tx;
    s->closed = true;
    s->d[0].st = s->d[1].st = D_DEAD;
}
