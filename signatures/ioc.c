/* IoC database: load, normalise, match.
 *
 * Layout, chosen so a million indicators fit in well under 100 MB:
 *  - one string arena (NUL-terminated keys and, only where they differ,
 *    the indicator as written);
 *  - 16-byte entries;
 *  - an open-addressing table of (hash, entry) over the normalised keys of
 *    every string-keyed type (the type is part of the hash and the key
 *    comparison), so a domain lookup walks the name's dot positions and
 *    probes each suffix: O(labels) probes, no allocation;
 *  - IP prefixes as sorted arrays per prefix length; a lookup probes only the
 *    lengths present, longest first (binary search each). */
#define _GNU_SOURCE /* memmem, getline */
#include "signatures/ioc.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

const char *const sw_ioc_counter_names[SW_IOC_CTR_COUNT] = {
#define SW_IOC_CTR_NAME_(id, path) path,
    SW_IOC_COUNTERS(SW_IOC_CTR_NAME_)
#undef SW_IOC_CTR_NAME_
};

static const char *const type_names[SW_IOC_TYPE_COUNT] = {
    "auto", "domain", "ip", "url", "ja3", "ja3s", "ja4", "md5", "sha1", "sha256", "hash",
};

const char *sw_ioc_type_name(sw_ioc_type t)
{
    if ((int)t < 0 || t >= SW_IOC_TYPE_COUNT)
        return NULL;
    return type_names[t];
}

int sw_ioc_type_parse(const char *s)
{
    if (!s)
        return -1;
    for (int i = 0; i < SW_IOC_TYPE_COUNT; i++)
        if (strcasecmp(s, type_names[i]) == 0)
            return i;
    /* common synonyms in feeds */
    if (strcasecmp(s, "hostname") == 0 || strcasecmp(s, "fqdn") == 0)
        return SW_IOC_DOMAIN;
    if (strcasecmp(s, "ip-dst") == 0 || strcasecmp(s, "ip-src") == 0 ||
        strcasecmp(s, "ipv4") == 0 || strcasecmp(s, "ipv6") == 0 ||
        strcasecmp(s, "cidr") == 0)
        return SW_IOC_IP;
    if (strcasecmp(s, "sha-256") == 0)
        return SW_IOC_SHA256;
    if (strcasecmp(s, "sha-1") == 0)
        return SW_IOC_SHA1;
    return -1;
}

/* ------------------------------------------------------------------ */
/* database                                                            */

typedef struct ioc_entry {
    uint32_t key_off; /* normalised key (arena) */
    uint32_t val_off; /* indicator as written (arena; may equal key_off) */
    uint16_t list;    /* index into names */
    uint16_t source;  /* index into names; 0 = none */
    uint8_t type;
    uint8_t severity;
    uint8_t pad[2];
} ioc_entry;

typedef struct ioc_slot {
    uint32_t hash;
    uint32_t idx; /* entry index + 1; 0 = empty */
} ioc_slot;

typedef struct pfx4 {
    uint32_t net; /* host order */
    uint32_t entry;
    uint8_t len;
} pfx4;

typedef struct pfx6 {
    uint64_t hi, lo;
    uint32_t entry;
    uint8_t len;
} pfx6;

#define NAMES_MAX 65535u

struct sw_ioc_db {
    char *arena;
    size_t arena_len, arena_cap;
    ioc_entry *ent;
    size_t n_ent, cap_ent;
    ioc_slot *slots;
    size_t n_slots; /* power of two */
    size_t n_used;
    uint32_t *names; /* arena offsets; names[0] = "" */
    size_t n_names, cap_names;
    pfx4 *v4;
    size_t n_v4, cap_v4;
    pfx6 *v6;
    size_t n_v6, cap_v6;
    /* [len] = first index of that length in the sorted array; [len+1] end */
    uint32_t v4_off[34];
    uint32_t v6_off[130];
    uint64_t v4_lens; /* bit per present prefix length (0..32) */
    uint64_t v6_lens[3];
};

/* FNV-1a, 32-bit, fed in pieces so keys never need concatenating. */
#define FNV_INIT 2166136261u
static inline uint32_t fnv(uint32_t h, const void *p, size_t n)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++) {
        h ^= b[i];
        h *= 16777619u;
    }
    return h;
}

static inline uint32_t key_hash(uint8_t type, const char *a, size_t na, const char *b, size_t nb)
{
    uint32_t h = fnv(FNV_INIT, &type, 1);
    h = fnv(h, a, na);
    h = fnv(h, b, nb);
    return h ? h : 1;
}

static inline bool key_eq(const sw_ioc_db *db, const ioc_entry *e, uint8_t type, const char *a,
                          size_t na, const char *b, size_t nb)
{
    if (e->type != type)
        return false;
    const char *k = db->arena + e->key_off;
    return memcmp(k, a, na) == 0 && memcmp(k + na, b, nb) == 0 && k[na + nb] == '\0';
}

/* Keys never contain NUL, so a key that compares equal over na+nb bytes and
 * ends there is the same key; memcmp stops reading at the first difference
 * only logically, so guard against reading past a shorter key by checking
 * NULs in the probed range first. */
static const ioc_entry *lookup2(const sw_ioc_db *db, uint8_t type, const char *a, size_t na,
                                const char *b, size_t nb)
{
    if (!db->n_slots)
        return NULL;
    uint32_t h = key_hash(type, a, na, b, nb);
    size_t mask = db->n_slots - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
        const ioc_slot *s = &db->slots[i];
        if (!s->idx)
            return NULL;
        if (s->hash != h)
            continue;
        const ioc_entry *e = &db->ent[s->idx - 1];
        if (e->type != type)
            continue;
        const char *k = db->arena + e->key_off;
        size_t kl = strnlen(k, na + nb + 1);
        if (kl == na + nb && key_eq(db, e, type, a, na, b, nb))
            return e;
    }
}

static void fill_hit(const sw_ioc_db *db, const ioc_entry *e, sw_ioc_hit *hit)
{
    if (!hit)
        return;
    hit->type = type_names[e->type];
    hit->value = db->arena + e->val_off;
    hit->list = db->arena + db->names[e->list];
    hit->source = e->source ? db->arena + db->names[e->source] : NULL;
    hit->severity = e->severity;
}

/* ------------------------------------------------------------------ */
/* building                                                            */

static bool grow(void **p, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return true;
    size_t nc = *cap ? *cap : 16;
    while (nc < need)
        nc *= 2;
    void *np = realloc(*p, nc * elem);
    if (!np)
        return false;
    *p = np;
    *cap = nc;
    return true;
}

/* Returns the offset or UINT32_MAX when out of memory / over 4 GB. */
static uint32_t arena_add(sw_ioc_db *db, const char *s, size_t n)
{
    if (db->arena_len + n + 1 > UINT32_MAX)
        return UINT32_MAX;
    if (!grow((void **)&db->arena, &db->arena_cap, db->arena_len + n + 1, 1))
        return UINT32_MAX;
    uint32_t off = (uint32_t)db->arena_len;
    memcpy(db->arena + off, s, n);
    db->arena[off + n] = '\0';
    db->arena_len += n + 1;
    return off;
}

static bool rehash(sw_ioc_db *db, size_t nslots)
{
    ioc_slot *ns = calloc(nslots, sizeof(*ns));
    if (!ns)
        return false;
    for (size_t i = 0; i < db->n_slots; i++) {
        ioc_slot s = db->slots[i];
        if (!s.idx)
            continue;
        size_t j = s.hash & (nslots - 1);
        while (ns[j].idx)
            j = (j + 1) & (nslots - 1);
        ns[j] = s;
    }
    free(db->slots);
    db->slots = ns;
    db->n_slots = nslots;
    return true;
}

/* Interned list/source names; they use the hash table with an internal
 * type so repeated CSV sources cost one probe. */
#define NAME_TYPE 0xff
static int intern_name(sw_ioc_db *db, const char *s, size_t n, uint16_t *out);

typedef enum add_res { ADD_OK, ADD_DUP, ADD_OOM } add_res;

static add_res add_keyed(sw_ioc_db *db, uint8_t type, const char *key, size_t kn, const char *val,
                         size_t vn, uint16_t list, uint16_t source, uint8_t sev, uint32_t *out_idx)
{
    if (lookup2(db, type, key, kn, "", 0))
        return ADD_DUP;
    if ((db->n_used + 1) * 2 > db->n_slots && !rehash(db, db->n_slots ? db->n_slots * 2 : 1024))
        return ADD_OOM;
    if (!grow((void **)&db->ent, &db->cap_ent, db->n_ent + 1, sizeof(ioc_entry)))
        return ADD_OOM;
    if (db->n_ent >= UINT32_MAX - 1)
        return ADD_OOM;
    uint32_t ko = arena_add(db, key, kn);
    if (ko == UINT32_MAX)
        return ADD_OOM;
    uint32_t vo = ko;
    if (val && (vn != kn || memcmp(val, key, kn) != 0)) {
        vo = arena_add(db, val, vn);
        if (vo == UINT32_MAX)
            return ADD_OOM;
    }
    ioc_entry *e = &db->ent[db->n_ent];
    memset(e, 0, sizeof(*e));
    e->key_off = ko;
    e->val_off = vo;
    e->list = list;
    e->source = source;
    e->type = type;
    e->severity = sev;
    uint32_t h = key_hash(type, key, kn, "", 0);
    size_t mask = db->n_slots - 1;
    size_t j = h & mask;
    while (db->slots[j].idx)
        j = (j + 1) & mask;
    db->slots[j].hash = h;
    db->slots[j].idx = (uint32_t)db->n_ent + 1;
    db->n_used++;
    if (out_idx)
        *out_idx = (uint32_t)db->n_ent;
    db->n_ent++;
    return ADD_OK;
}

static int intern_name(sw_ioc_db *db, const char *s, size_t n, uint16_t *out)
{
    if (n == 0) {
        *out = 0;
        return 0;
    }
    const ioc_entry *e = lookup2(db, NAME_TYPE, s, n, "", 0);
    if (e) {
        *out = e->list;
        return 0;
    }
    if (db->n_names >= NAMES_MAX)
        return -2; /* the table is full: the caller goes on without the name */
    if (!grow((void **)&db->names, &db->cap_names, db->n_names + 1, sizeof(uint32_t)))
        return -1;
    uint32_t idx;
    if (add_keyed(db, NAME_TYPE, s, n, NULL, 0, (uint16_t)db->n_names, 0, 0, &idx) != ADD_OK)
        return -1;
    db->names[db->n_names] = db->ent[idx].key_off;
    *out = (uint16_t)db->n_names++;
    return 0;
}

/* ------------------------------------------------------------------ */
/* normalisation and detection                                         */

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)s[i]))
            return false;
    return true;
}

static void lower(char *d, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        d[i] = (char)tolower((unsigned char)s[i]);
}

/* Validates and lower-cases a DNS name into out (>= 256 bytes); drops one
 * trailing dot and a leading "*." or ".". Returns the length or -1.
 * Underscores are accepted: they occur in real hostnames (SRV, DKIM, some
 * malware infrastructure). */
static int norm_domain(const char *s, size_t n, char *out, bool need_dot)
{
    if (n >= 2 && s[0] == '*' && s[1] == '.') {
        s += 2;
        n -= 2;
    } else if (n >= 1 && s[0] == '.') {
        s++;
        n--;
    }
    if (n && s[n - 1] == '.')
        n--;
    if (n == 0 || n > 253)
        return -1;
    size_t lab = 0;
    bool dot = false, alpha = false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '.') {
            if (lab == 0)
                return -1;
            lab = 0;
            dot = true;
            out[i] = '.';
            continue;
        }
        if (!(isalnum(c) || c == '-' || c == '_'))
            return -1;
        if (isalpha(c))
            alpha = true;
        if (++lab > 63)
            return -1;
        out[i] = (char)tolower(c);
    }
    if (lab == 0 || (need_dot && !dot) || !alpha)
        return -1; /* all-numeric is an IP address, not a name */
    out[n] = '\0';
    return (int)n;
}

/* Parses "addr" or "addr/len". */
static bool parse_ip(const char *s, size_t n, int *family, uint8_t addr[16], int *plen)
{
    char buf[64];
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, s, n);
    buf[n] = '\0';
    char *slash = strchr(buf, '/');
    long len = -1;
    if (slash) {
        *slash = '\0';
        const char *p = slash + 1;
        if (!*p || strlen(p) > 3)
            return false;
        len = 0;
        for (; *p; p++) {
            if (!isdigit((unsigned char)*p))
                return false;
            len = len * 10 + (*p - '0');
        }
    }
    if (inet_pton(AF_INET, buf, addr) == 1) {
        *family = 4;
        if (len > 32)
            return false;
        *plen = len < 0 ? 32 : (int)len;
        return true;
    }
    if (inet_pton(AF_INET6, buf, addr) == 1) {
        *family = 6;
        if (len > 128)
            return false;
        *plen = len < 0 ? 128 : (int)len;
        return true;
    }
    return false;
}

static bool looks_ja4(const char *s, size_t n)
{
    /* t13d1516h2_8daaf6152771_b186095e22b6 */
    if (n != 36 || (s[0] != 't' && s[0] != 'q' && s[0] != 'd' && s[0] != 'T' && s[0] != 'Q' &&
                    s[0] != 'D'))
        return false;
    if (s[10] != '_' || s[23] != '_')
        return false;
    for (size_t i = 1; i < 10; i++)
        if (!isalnum((unsigned char)s[i]))
            return false;
    return is_hex(s + 11, 12) && is_hex(s + 24, 12);
}

/* Splits a URL indicator into lower-cased host and path; out gets
 * "host" + "path" with path defaulting to "/". Returns key length or -1. */
static int norm_url(const char *s, size_t n, char *out, size_t cap)
{
    const char *p = s, *end = s + n;
    const char *sep = NULL;
    for (const char *q = s; q + 2 < end; q++) {
        if (q[0] == ':' && q[1] == '/' && q[2] == '/') {
            sep = q;
            break;
        }
        if (!isalnum((unsigned char)*q) && *q != '+' && *q != '-' && *q != '.')
            break;
    }
    if (sep) {
        size_t sl = (size_t)(sep - s);
        if (!(sl == 4 && (strncasecmp(s, "http", 4) == 0 || strncasecmp(s, "hxxp", 4) == 0)) &&
            !(sl == 5 && (strncasecmp(s, "https", 5) == 0 || strncasecmp(s, "hxxps", 5) == 0)))
            return -1;
        p = sep + 3;
    }
    const char *hend = p;
    while (hend < end && *hend != '/' && *hend != '?' && *hend != '#')
        hend++;
    const char *host = p;
    size_t hl = (size_t)(hend - host);
    /* userinfo is not part of what a request carries in Host */
    const char *at = memchr(host, '@', hl);
    if (at) {
        hl -= (size_t)(at + 1 - host);
        host = at + 1;
    }
    /* Port dropped: requests carry it in Host only sometimes, and a host
     * serving malware on one port is rarely clean on another. */
    const char *colon = NULL;
    if (hl && host[0] != '[')
        colon = memchr(host, ':', hl);
    if (colon)
        hl = (size_t)(colon - host);
    if (hl && host[hl - 1] == '.')
        hl--;
    if (hl == 0 || hl > 255)
        return -1;
    for (size_t i = 0; i < hl; i++) {
        unsigned char c = (unsigned char)host[i];
        if (c <= ' ' || c >= 0x7f)
            return -1;
    }
    const char *path = hend;
    const char *pend = end;
    const char *hash = memchr(path, '#', (size_t)(end - path));
    if (hash)
        pend = hash;
    size_t pl = (size_t)(pend - path);
    for (size_t i = 0; i < pl; i++)
        if ((unsigned char)path[i] <= ' ')
            return -1;
    bool add_slash = pl == 0 || path[0] == '?';
    if (hl + pl + 1 + add_slash >= cap)
        return -1;
    lower(out, host, hl);
    size_t o = hl;
    if (add_slash)
        out[o++] = '/';
    memcpy(out + o, path, pl);
    o += pl;
    out[o] = '\0';
    return (int)o;
}

/* ------------------------------------------------------------------ */
/* loading                                                             */

typedef struct load_ctx {
    sw_ioc_db *db;
    sw_ioc_report *r;
    const char *path;
    unsigned long line;
} load_ctx;

static void note(load_ctx *x, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void note(load_ctx *x, const char *fmt, ...)
{
    if (x->r->n_errors >= SW_IOC_MAX_ERRORS)
        return;
    char *o = x->r->errors[x->r->n_errors++];
    int k = x->line ? snprintf(o, SW_IOC_ERRLEN, "%s:%lu: ", x->path, x->line)
                    : snprintf(o, SW_IOC_ERRLEN, "%s: ", x->path);
    if (k < 0 || k >= SW_IOC_ERRLEN)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(o + k, SW_IOC_ERRLEN - (size_t)k, fmt, ap);
    va_end(ap);
}

static void malformed(load_ctx *x, const char *reason)
{
    x->r->skipped++;
    note(x, "%s", reason);
}

/* "evil[.]com", "hxxp://" and similar defanging is how indicators are
 * shared in reports; accept it rather than make analysts clean lists. */
static size_t refang(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < cap; i++) {
        if (i + 2 < n && s[i] == '[' && s[i + 1] == '.' && s[i + 2] == ']') {
            out[o++] = '.';
            i += 2;
        } else if (i + 2 < n && s[i] == '(' && s[i + 1] == '.' && s[i + 2] == ')') {
            out[o++] = '.';
            i += 2;
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    return o;
}

/* Adds one indicator; returns false only when out of memory. */
static bool add_indicator(load_ctx *x, const char *raw, size_t rn, sw_ioc_type want,
                          uint16_t list, uint16_t source, int sev)
{
    sw_ioc_db *db = x->db;
    char val[4096];
    if (rn >= sizeof(val)) {
        malformed(x, "indicator too long");
        return true;
    }
    size_t n = refang(raw, rn, val, sizeof(val));
    char key[4096];
    int kl = -1;
    sw_ioc_type t = want;

    if (t == SW_IOC_AUTO) {
        int fam, plen;
        uint8_t a[16];
        if (memmem(val, n, "://", 3))
            t = SW_IOC_URL;
        else if (parse_ip(val, n, &fam, a, &plen))
            t = SW_IOC_IP;
        else if (is_hex(val, n) && n == 32)
            t = SW_IOC_MD5;
        else if (is_hex(val, n) && n == 40)
            t = SW_IOC_SHA1;
        else if (is_hex(val, n) && n == 64)
            t = SW_IOC_SHA256;
        else if (looks_ja4(val, n))
            t = SW_IOC_JA4;
        else if (memchr(val, '/', n))
            t = SW_IOC_URL;
        else
            t = SW_IOC_DOMAIN;
    } else if (t == SW_IOC_HASH) {
        if (!is_hex(val, n) || (n != 32 && n != 40 && n != 64)) {
            malformed(x, "invalid hash (want 32, 40 or 64 hex digits)");
            return true;
        }
        t = n == 32 ? SW_IOC_MD5 : n == 40 ? SW_IOC_SHA1 : SW_IOC_SHA256;
    }

    switch (t) {
    case SW_IOC_DOMAIN:
        kl = norm_domain(val, n, key, want == SW_IOC_AUTO);
        if (kl < 0) {
            malformed(x, want == SW_IOC_AUTO ? "unrecognised indicator" : "invalid domain name");
            return true;
        }
        break;
    case SW_IOC_URL:
        kl = norm_url(val, n, key, sizeof(key));
        if (kl < 0) {
            malformed(x, "invalid URL");
            return true;
        }
        break;
    case SW_IOC_IP: {
        int fam, plen;
        uint8_t a[16];
        if (!parse_ip(val, n, &fam, a, &plen)) {
            malformed(x, "invalid IP address or CIDR");
            return true;
        }
        /* The entry holds value/list/severity; the prefix arrays point at it.
         * Its key is the canonical prefix text so exact duplicates fold. */
        char canon[INET6_ADDRSTRLEN + 8];
        if (fam == 4) {
            uint32_t v = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
            v &= plen ? ~0u << (32 - plen) : 0;
            a[0] = (uint8_t)(v >> 24); a[1] = (uint8_t)(v >> 16); a[2] = (uint8_t)(v >> 8); a[3] = (uint8_t)v;
            if (!grow((void **)&db->v4, &db->cap_v4, db->n_v4 + 1, sizeof(pfx4)))
                return false;
        } else {
            for (int i = 0; i < 16; i++) {
                int keep = plen - i * 8;
                a[i] &= keep >= 8 ? 0xff : keep <= 0 ? 0 : (uint8_t)(0xff << (8 - keep));
            }
            if (!grow((void **)&db->v6, &db->cap_v6, db->n_v6 + 1, sizeof(pfx6)))
                return false;
        }
        inet_ntop(fam == 4 ? AF_INET : AF_INET6, a, canon, INET6_ADDRSTRLEN);
        size_t cl = strlen(canon);
        cl += (size_t)snprintf(canon + cl, sizeof(canon) - cl, "/%d", plen);
        uint32_t idx;
        add_res ar = add_keyed(db, SW_IOC_IP, canon, cl, val, n, list, source, (uint8_t)sev, &idx);
        if (ar == ADD_OOM)
            return false;
        if (ar == ADD_DUP) {
            x->r->duplicates++;
            return true;
        }
        if (fam == 4) {
            pfx4 *p = &db->v4[db->n_v4++];
            p->net = ((uint32_t)a[0] << 24) | ((uint32_t)a[1] << 16) | ((uint32_t)a[2] << 8) | a[3];
            p->len = (uint8_t)plen;
            p->entry = idx;
        } else {
            pfx6 *p = &db->v6[db->n_v6++];
            p->hi = p->lo = 0;
            for (int i = 0; i < 8; i++) {
                p->hi = (p->hi << 8) | a[i];
                p->lo = (p->lo << 8) | a[8 + i];
            }
            p->len = (uint8_t)plen;
            p->entry = idx;
        }
        x->r->by_type[SW_IOC_IP]++;
        return true;
    }
    case SW_IOC_JA3:
    case SW_IOC_JA3S:
    case SW_IOC_MD5:
        if (n != 32 || !is_hex(val, n)) {
            malformed(x, "invalid MD5-style hex (want 32 hex digits)");
            return true;
        }
        lower(key, val, n);
        kl = (int)n;
        break;
    case SW_IOC_SHA1:
        if (n != 40 || !is_hex(val, n)) {
            malformed(x, "invalid SHA1 (want 40 hex digits)");
            return true;
        }
        lower(key, val, n);
        kl = (int)n;
        break;
    case SW_IOC_SHA256:
        if (n != 64 || !is_hex(val, n)) {
            malformed(x, "invalid SHA256 (want 64 hex digits)");
            return true;
        }
        lower(key, val, n);
        kl = (int)n;
        break;
    case SW_IOC_JA4:
        if (!looks_ja4(val, n)) {
            malformed(x, "invalid JA4 fingerprint");
            return true;
        }
        lower(key, val, n);
        kl = (int)n;
        break;
    default:
        malformed(x, "unsupported indicator type");
        return true;
    }
    add_res ar = add_keyed(db, (uint8_t)t, key, (size_t)kl, val, n, list, source, (uint8_t)sev, NULL);
    if (ar == ADD_OOM)
        return false;
    if (ar == ADD_DUP)
        x->r->duplicates++;
    else
        x->r->by_type[t]++;
    return true;
}

static void trim(const char **s, size_t *n)
{
    while (*n && isspace((unsigned char)**s)) {
        (*s)++;
        (*n)--;
    }
    while (*n && isspace((unsigned char)(*s)[*n - 1]))
        (*n)--;
}

static int parse_severity(const char *s, size_t n)
{
    if (n == 1 && s[0] >= '1' && s[0] <= '3')
        return s[0] - '0';
    if (n == 4 && strncasecmp(s, "high", 4) == 0)
        return 1;
    if (n == 6 && strncasecmp(s, "medium", 6) == 0)
        return 2;
    if (n == 3 && strncasecmp(s, "low", 3) == 0)
        return 3;
    return -1;
}

#define CSV_MAX_COLS 32
typedef struct csv_field {
    const char *s;
    size_t n;
} csv_field;

/* RFC 4180 fields on one line; quoted fields are unescaped in place (the
 * line buffer is ours). Returns the field count or -1 on a bad quote. */
static int csv_split(char *line, size_t n, csv_field *f, int max)
{
    int k = 0;
    size_t i = 0;
    for (;;) {
        if (k == max)
            return -1;
        if (i < n && line[i] == '"') {
            size_t o = i + 1, w = i + 1;
            for (;;) {
                if (o >= n)
                    return -1;
                if (line[o] == '"') {
                    if (o + 1 < n && line[o + 1] == '"') {
                        line[w++] = '"';
                        o += 2;
                        continue;
                    }
                    o++;
                    break;
                }
                line[w++] = line[o++];
            }
            f[k].s = line + i + 1;
            f[k].n = w - i - 1;
            k++;
            while (o < n && line[o] != ',')
                if (!isspace((unsigned char)line[o++]))
                    return -1;
            if (o >= n)
                return k;
            i = o + 1;
        } else {
            size_t st = i;
            while (i < n && line[i] != ',')
                i++;
            f[k].s = line + st;
            f[k].n = i - st;
            trim(&f[k].s, &f[k].n);
            k++;
            if (i >= n)
                return k;
            i++;
        }
    }
}

typedef struct csv_cols {
    int ind, type, sev, source, list;
} csv_cols;

static bool csv_header(csv_field *f, int nf, csv_cols *c)
{
    c->ind = c->type = c->sev = c->source = c->list = -1;
    for (int i = 0; i < nf; i++) {
        char h[32];
        size_t n = f[i].n < sizeof(h) - 1 ? f[i].n : sizeof(h) - 1;
        lower(h, f[i].s, n);
        h[n] = '\0';
        if (!strcmp(h, "indicator") || !strcmp(h, "value") || !strcmp(h, "ioc"))
            c->ind = i;
        else if (!strcmp(h, "type") || !strcmp(h, "indicator_type") || !strcmp(h, "ioc_type"))
            c->type = i;
        else if (!strcmp(h, "severity"))
            c->sev = i;
        else if (!strcmp(h, "source"))
            c->source = i;
        else if (!strcmp(h, "list"))
            c->list = i;
    }
    return c->ind >= 0;
}

static bool ends_with(const char *s, const char *suf)
{
    size_t a = strlen(s), b = strlen(suf);
    return a >= b && strcasecmp(s + a - b, suf) == 0;
}

/* Returns 0, or -1 with r->fatal set. */
static int load_list(sw_ioc_db *db, const sw_ioc_config *c, const sw_ioc_list_config *lc,
                     sw_ioc_report *r)
{
    load_ctx x = {.db = db, .r = r, .path = lc->path, .line = 0};
    FILE *f = fopen(lc->path, "r");
    if (!f) {
        snprintf(r->fatal, sizeof(r->fatal), "%s: %s", lc->path, strerror(errno));
        return -1;
    }
    r->files++;
    const char *lname = lc->name;
    if (!lname || !*lname) {
        const char *sl = strrchr(lc->path, '/');
        lname = sl ? sl + 1 : lc->path;
    }
    uint16_t list_id = 0;
    bool names_full = false; /* noted once per file */
    int ir = intern_name(db, lname, strlen(lname), &list_id);
    if (ir == -1)
        goto oom;
    if (ir == -2) {
        names_full = true;
        note(&x, "more than %u distinct list/source names: this list's name is not kept",
             NAMES_MAX);
    }
    int lsev = lc->severity >= 1 && lc->severity <= 3 ? lc->severity : c->default_severity;
    bool csv = lc->format == SW_IOC_FMT_CSV ||
               (lc->format == SW_IOC_FMT_AUTO && ends_with(lc->path, ".csv"));
    csv_cols cols = {-1, -1, -1, -1, -1};
    bool have_header = false;
    uint64_t seen = 0;
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    size_t maxl = c->max_line ? c->max_line : 8192;
    while ((got = getline(&line, &cap, f)) >= 0) {
        x.line++;
        size_t n = (size_t)got;
        if (memchr(line, '\0', n)) {
            malformed(&x, "NUL byte in line");
            continue;
        }
        while (n && (line[n - 1] == '\n' || line[n - 1] == '\r'))
            n--;
        if (n > maxl) {
            malformed(&x, "line too long");
            continue;
        }
        if (x.line == 1 && n >= 3 && (unsigned char)line[0] == 0xef &&
            (unsigned char)line[1] == 0xbb && (unsigned char)line[2] == 0xbf) {
            memmove(line, line + 3, n - 3); /* UTF-8 BOM from spreadsheet exports */
            n -= 3;
        }
        const char *s = line;
        size_t sn = n;
        trim(&s, &sn);
        if (sn == 0 || s[0] == '#')
            continue;
        if (!csv) {
            /* "indicator  # comment" */
            for (size_t i = 1; i < sn; i++)
                if (s[i] == '#' && isspace((unsigned char)s[i - 1])) {
                    sn = i;
                    break;
                }
            trim(&s, &sn);
            if (memchr(s, ' ', sn) || memchr(s, '\t', sn)) {
                malformed(&x, "whitespace inside indicator");
                continue;
            }
            seen++;
            if (!add_indicator(&x, s, sn, lc->type, list_id, 0, lsev))
                goto oom_line;
            continue;
        }
        csv_field fl[CSV_MAX_COLS];
        int nf = csv_split((char *)s, sn, fl, CSV_MAX_COLS);
        if (!have_header) {
            if (nf < 0 || !csv_header(fl, nf, &cols)) {
                malformed(&x, "CSV header names no indicator/value column");
                fclose(f);
                free(line);
                return 0; /* nothing else in this file can be read */
            }
            have_header = true;
            continue;
        }
        if (nf < 0) {
            malformed(&x, "bad CSV quoting or too many columns");
            continue;
        }
        if (cols.ind >= nf || fl[cols.ind].n == 0) {
            malformed(&x, "missing indicator");
            continue;
        }
        sw_ioc_type t = lc->type;
        if (cols.type >= 0 && cols.type < nf && fl[cols.type].n) {
            char tb[32];
            size_t tn = fl[cols.type].n < sizeof(tb) - 1 ? fl[cols.type].n : sizeof(tb) - 1;
            memcpy(tb, fl[cols.type].s, tn);
            tb[tn] = '\0';
            int ti = sw_ioc_type_parse(tb);
            if (ti < 0) {
                malformed(&x, "unknown indicator type");
                continue;
            }
            t = (sw_ioc_type)ti;
        }
        int sev = lsev;
        if (cols.sev >= 0 && cols.sev < nf && fl[cols.sev].n) {
            sev = parse_severity(fl[cols.sev].s, fl[cols.sev].n);
            if (sev < 0) {
                malformed(&x, "bad severity (want 1..3 or high/medium/low)");
                continue;
            }
        }
        /* A feed with a distinct source per row (a report URL, an id) must
         * not fail the whole load when the 16-bit name table fills: the
         * indicator is kept, the name falls back (file list, no source). */
        uint16_t lid = list_id, src = 0;
        bool dropped_name = false;
        if (cols.list >= 0 && cols.list < nf && fl[cols.list].n) {
            int lr = intern_name(db, fl[cols.list].s, fl[cols.list].n, &lid);
            if (lr == -1)
                goto oom_line;
            if (lr == -2) {
                lid = list_id;
                dropped_name = true;
            }
        }
        if (cols.source >= 0 && cols.source < nf && fl[cols.source].n) {
            int sr = intern_name(db, fl[cols.source].s, fl[cols.source].n, &src);
            if (sr == -1)
                goto oom_line;
            if (sr == -2) {
                src = 0;
                dropped_name = true;
            }
        }
        if (dropped_name && !names_full) {
            names_full = true;
            note(&x, "more than %u distinct list/source names: further ones are not kept",
                 NAMES_MAX);
        }
        seen++;
        if (!add_indicator(&x, fl[cols.ind].s, fl[cols.ind].n, t, lid, src, sev))
            goto oom_line;
    }
    free(line);
    if (ferror(f)) {
        snprintf(r->fatal, sizeof(r->fatal), "%s: read error", lc->path);
        fclose(f);
        return -1;
    }
    fclose(f);
    if (seen == 0) {
        x.line = 0;
        note(&x, "list holds no indicators");
    }
    return 0;
oom_line:
    free(line);
oom:
    fclose(f);
    snprintf(r->fatal, sizeof(r->fatal), "%s: out of memory", lc->path);
    return -1;
}

static int cmp4(const void *a, const void *b)
{
    const pfx4 *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    if (x->net != y->net)
        return x->net < y->net ? -1 : 1;
    return 0;
}

static int cmp6(const void *a, const void *b)
{
    const pfx6 *x = a, *y = b;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    if (x->hi != y->hi)
        return x->hi < y->hi ? -1 : 1;
    if (x->lo != y->lo)
        return x->lo < y->lo ? -1 : 1;
    return 0;
}

/* Exact duplicates were folded at insert (same canonical key), so each
 * (len, net) occurs once and the sorted arrays can be searched directly. */
static void build_prefixes(sw_ioc_db *db)
{
    if (db->n_v4)
        qsort(db->v4, db->n_v4, sizeof(pfx4), cmp4);
    if (db->n_v6)
        qsort(db->v6, db->n_v6, sizeof(pfx6), cmp6);
    size_t i = 0;
    for (int l = 0; l <= 32; l++) {
        db->v4_off[l] = (uint32_t)i;
        while (i < db->n_v4 && db->v4[i].len == l)
            i++;
        if (i > db->v4_off[l])
            db->v4_lens |= 1ull << l;
    }
    db->v4_off[33] = (uint32_t)i;
    i = 0;
    for (int l = 0; l <= 128; l++) {
        db->v6_off[l] = (uint32_t)i;
        while (i < db->n_v6 && db->v6[i].len == l)
            i++;
        if (i > db->v6_off[l])
            db->v6_lens[l / 64] |= 1ull << (l % 64);
    }
    db->v6_off[129] = (uint32_t)i;
}

sw_ioc_db *sw_ioc_load(const sw_ioc_config *c, sw_ioc_report *r)
{
    memset(r, 0, sizeof(*r));
    sw_ioc_db *db = calloc(1, sizeof(*db));
    if (!db) {
        snprintf(r->fatal, sizeof(r->fatal), "ioc: out of memory");
        return NULL;
    }
    /* names[0] is the empty name ("no source") */
    if (!grow((void **)&db->names, &db->cap_names, 16, sizeof(uint32_t)) ||
        arena_add(db, "", 0) == UINT32_MAX) {
        sw_ioc_free(db);
        snprintf(r->fatal, sizeof(r->fatal), "ioc: out of memory");
        return NULL;
    }
    db->names[0] = 0;
    db->n_names = 1;
    if (c->enabled) {
        for (size_t i = 0; i < c->n_lists && i < SW_IOC_MAX_LISTS; i++) {
            if (!c->lists[i].path || !*c->lists[i].path) {
                snprintf(r->fatal, sizeof(r->fatal), "ioc.lists[%zu]: no path", i);
                sw_ioc_free(db);
                return NULL;
            }
            if (load_list(db, c, &c->lists[i], r) < 0) {
                sw_ioc_free(db);
                return NULL;
            }
        }
    }
    build_prefixes(db);
    for (int t = 1; t < SW_IOC_TYPE_COUNT; t++)
        r->loaded += r->by_type[t];
    /* Shrink the arena: building doubled it, and it lives until reload. */
    char *a = realloc(db->arena, db->arena_len ? db->arena_len : 1);
    if (a) {
        db->arena = a;
        db->arena_cap = db->arena_len;
    }
    return db;
}

void sw_ioc_free(sw_ioc_db *db)
{
    if (!db)
        return;
    free(db->arena);
    free(db->ent);
    free(db->slots);
    free(db->names);
    free(db->v4);
    free(db->v6);
    free(db);
}

uint64_t sw_ioc_count(const sw_ioc_db *db)
{
    /* entries minus interned names (names[0] is not an entry) */
    return db ? db->n_ent - (db->n_names - 1) : 0;
}

size_t sw_ioc_memuse(const sw_ioc_db *db)
{
    if (!db)
        return 0;
    return sizeof(*db) + db->arena_cap + db->cap_ent * sizeof(ioc_entry) +
           db->n_slots * sizeof(ioc_slot) + db->cap_names * sizeof(uint32_t) +
           db->cap_v4 * sizeof(pfx4) + db->cap_v6 * sizeof(pfx6);
}

/* ------------------------------------------------------------------ */
/* matching                                                            */

bool sw_ioc_match_domain(const sw_ioc_db *db, const char *name, size_t len, sw_ioc_hit *hit)
{
    if (!db || !name)
        return false;
    if (len && name[len - 1] == '.')
        len--;
    /* A name longer than any listable one can still end in a listed name:
     * only its last 253 bytes can matter, cut at a label boundary. */
    if (len > 253) {
        size_t st = len - 253;
        while (st < len && name[st - 1] != '.')
            st++;
        name += st;
        len -= st;
    }
    if (len == 0)
        return false;
    char buf[256];
    lower(buf, name, len);
    size_t i = 0;
    for (;;) {
        const ioc_entry *e = lookup2(db, SW_IOC_DOMAIN, buf + i, len - i, "", 0);
        if (e) {
            fill_hit(db, e, hit);
            return true;
        }
        const char *dot = memchr(buf + i, '.', len - i);
        if (!dot)
            return false;
        i = (size_t)(dot - buf) + 1;
        if (i >= len)
            return false;
    }
}

static const pfx4 *find4(const sw_ioc_db *db, uint32_t a)
{
    for (int l = 32; l >= 0; l--) {
        if (!(db->v4_lens & (1ull << l)))
            continue;
        uint32_t net = l ? a & (~0u << (32 - l)) : 0;
        size_t lo = db->v4_off[l], hi = db->v4_off[l + 1];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            uint32_t v = db->v4[mid].net;
            if (v == net)
                return &db->v4[mid];
            if (v < net)
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return NULL;
}

static const pfx6 *find6(const sw_ioc_db *db, uint64_t ahi, uint64_t alo)
{
    for (int l = 128; l >= 0; l--) {
        if (!(db->v6_lens[l / 64] & (1ull << (l % 64))))
            continue;
        uint64_t h, lo_;
        if (l == 0) {
            h = lo_ = 0;
        } else if (l <= 64) {
            h = ahi & (~0ull << (64 - l));
            lo_ = 0;
        } else {
            h = ahi;
            lo_ = l == 128 ? alo : alo & (~0ull << (128 - l));
        }
        size_t lo = db->v6_off[l], hi = db->v6_off[l + 1];
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            const pfx6 *p = &db->v6[mid];
            if (p->hi == h && p->lo == lo_)
                return p;
            if (p->hi < h || (p->hi == h && p->lo < lo_))
                lo = mid + 1;
            else
                hi = mid;
        }
    }
    return NULL;
}

bool sw_ioc_match_ip(const sw_ioc_db *db, int family, const uint8_t *addr, sw_ioc_hit *hit)
{
    if (!db || !addr)
        return false;
    if (family == 4) {
        if (!db->n_v4)
            return false;
        uint32_t a = ((uint32_t)addr[0] << 24) | ((uint32_t)addr[1] << 16) |
                     ((uint32_t)addr[2] << 8) | addr[3];
        const pfx4 *p = find4(db, a);
        if (p)
            fill_hit(db, &db->ent[p->entry], hit);
        return p != NULL;
    }
    if (family != 6)
        return false;
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (db->n_v6) {
        uint64_t h = 0, l = 0;
        for (int i = 0; i < 8; i++) {
            h = (h << 8) | addr[i];
            l = (l << 8) | addr[8 + i];
        }
        const pfx6 *p = find6(db, h, l);
        if (p) {
            fill_hit(db, &db->ent[p->entry], hit);
            return true;
        }
    }
    if (memcmp(addr, mapped, 12) == 0)
        return sw_ioc_match_ip(db, 4, addr + 12, hit);
    return false;
}

bool sw_ioc_match_url(const sw_ioc_db *db, const char *host, size_t hostlen, const char *path,
                      size_t pathlen, sw_ioc_hit *hit)
{
    if (!db || !host || !path)
        return false;
    /* absolute-form request target: "http://host/path" */
    if (pathlen > 7 && (strncasecmp(path, "http://", 7) == 0 || strncasecmp(path, "https://", 8) == 0)) {
        const char *p = memchr(path, ':', pathlen) + 3;
        const char *end = path + pathlen;
        const char *s = p;
        while (s < end && *s != '/' && *s != '?')
            s++;
        host = p;
        hostlen = (size_t)(s - p);
        path = s;
        pathlen = (size_t)(end - s);
    }
    /* Host header: drop the port, as norm_url does for listed URLs. */
    if (hostlen && host[0] != '[') {
        const char *colon = memchr(host, ':', hostlen);
        if (colon)
            hostlen = (size_t)(colon - host);
    }
    if (hostlen && host[hostlen - 1] == '.')
        hostlen--;
    if (hostlen == 0 || hostlen > 255)
        return false;
    char hb[256];
    lower(hb, host, hostlen);
    const char *hash = memchr(path, '#', pathlen);
    if (hash)
        pathlen = (size_t)(hash - path);
    if (pathlen == 0) {
        path = "/";
        pathlen = 1;
    }
    /* lookup2 hashes the pieces as one key: host then path */
    const ioc_entry *e = lookup2(db, SW_IOC_URL, hb, hostlen, path, pathlen);
    if (!e) {
        const char *q = memchr(path, '?', pathlen);
        if (q)
            e = lookup2(db, SW_IOC_URL, hb, hostlen, path, (size_t)(q - path));
    }
    if (e)
        fill_hit(db, e, hit);
    return e != NULL;
}

static bool match_hex(const sw_ioc_db *db, sw_ioc_type kind, const char *hex, sw_ioc_hit *hit)
{
    if (!db || !hex)
        return false;
    size_t n = strnlen(hex, 65);
    if (n == 0 || n > 64)
        return false;
    char b[64];
    lower(b, hex, n);
    const ioc_entry *e = lookup2(db, (uint8_t)kind, b, n, "", 0);
    if (e)
        fill_hit(db, e, hit);
    return e != NULL;
}

bool sw_ioc_match_tls_fp(const sw_ioc_db *db, sw_ioc_type kind, const char *hex, sw_ioc_hit *hit)
{
    if (kind != SW_IOC_JA3 && kind != SW_IOC_JA3S && kind != SW_IOC_JA4)
        return false;
    return match_hex(db, kind, hex, hit);
}

bool sw_ioc_match_file_hash(const sw_ioc_db *db, sw_ioc_type kind, const char *hex, sw_ioc_hit *hit)
{
    if (kind != SW_IOC_MD5 && kind != SW_IOC_SHA1 && kind != SW_IOC_SHA256)
        return false;
    return match_hex(db, kind, hex, hit);
}

void sw_eve_ioc(sw_json *j, const sw_ioc_hit *h)
{
    swj_open_object(j, "ioc");
    swj_str(j, "type", h->type);
    swj_str(j, "value", h->value);
    swj_str(j, "list", h->list);
    swj_close_object(j);
}

/* ------------------------------------------------------------------ */
/* configuration                                                       */

void sw_ioc_config_defaults(sw_ioc_config *c)
{
    memset(c, 0, sizeof(*c));
    c->enabled = true;
    c->default_severity = 2;
    c->max_line = 8192;
}

int sw_ioc_config_load(const sw_cfg_node *root, sw_ioc_config *c, char *err, size_t errlen)
{
    if (sw_cfg_get_bool(root, "ioc.enabled", &c->enabled, err, errlen) < 0)
        return -1;
    int64_t v = c->default_severity;
    if (sw_cfg_get_int(root, "ioc.default-severity", &v, err, errlen) < 0)
        return -1;
    if (v < 1 || v > 3) {
        snprintf(err, errlen, "config: ioc.default-severity: must be 1..3");
        return -1;
    }
    c->default_severity = (int)v;
    uint64_t ml = c->max_line;
    if (sw_cfg_get_size(root, "ioc.max-line-length", &ml, err, errlen) < 0)
        return -1;
    if (ml < 64 || ml > 1u << 20) {
        snprintf(err, errlen, "config: ioc.max-line-length: must be 64..1mb");
        return -1;
    }
    c->max_line = (size_t)ml;
    const sw_cfg_node *lists = sw_cfg_get(root, "ioc.lists");
    if (!lists)
        return 0;
    if (sw_cfg_type_of(lists) != SW_CFG_SEQ) {
        snprintf(err, errlen, "config: ioc.lists: must be a list");
        return -1;
    }
    size_t n = sw_cfg_len(lists);
    if (n > SW_IOC_MAX_LISTS) {
        snprintf(err, errlen, "config: ioc.lists: more than %d lists", SW_IOC_MAX_LISTS);
        return -1;
    }
    c->n_lists = 0;
    for (size_t i = 0; i < n; i++) {
        const sw_cfg_node *it = sw_cfg_at(lists, i);
        sw_ioc_list_config *l = &c->lists[c->n_lists];
        memset(l, 0, sizeof(*l));
        if (sw_cfg_type_of(it) == SW_CFG_SCALAR) { /* "- /path/list.txt" */
            l->path = sw_cfg_scalar(it);
            c->n_lists++;
            continue;
        }
        if (sw_cfg_type_of(it) != SW_CFG_MAP) {
            snprintf(err, errlen, "config: ioc.lists[%zu]: must be a map or a path", i);
            return -1;
        }
        const char *s = NULL;
        if (sw_cfg_get_str(it, "path", &l->path, err, errlen) < 0 ||
            sw_cfg_get_str(it, "name", &l->name, err, errlen) < 0)
            return -1;
        if (!l->path || !*l->path) {
            snprintf(err, errlen, "config: ioc.lists[%zu].path: missing", i);
            return -1;
        }
        if (sw_cfg_get_str(it, "type", &s, err, errlen) < 0)
            return -1;
        if (s) {
            int t = sw_ioc_type_parse(s);
            if (t < 0) {
                snprintf(err, errlen,
                         "config: ioc.lists[%zu].type: unknown '%s' (auto|domain|ip|url|ja3|ja3s|"
                         "ja4|md5|sha1|sha256|hash)", i, s);
                return -1;
            }
            l->type = (sw_ioc_type)t;
        }
        s = NULL;
        if (sw_cfg_get_str(it, "format", &s, err, errlen) < 0)
            return -1;
        if (s) {
            if (!strcasecmp(s, "auto"))
                l->format = SW_IOC_FMT_AUTO;
            else if (!strcasecmp(s, "text"))
                l->format = SW_IOC_FMT_TEXT;
            else if (!strcasecmp(s, "csv"))
                l->format = SW_IOC_FMT_CSV;
            else {
                snprintf(err, errlen, "config: ioc.lists[%zu].format: want auto|text|csv", i);
                return -1;
            }
        }
        int64_t sv = 0;
        if (sw_cfg_get_int(it, "severity", &sv, err, errlen) < 0)
            return -1;
        if (sv != 0 && (sv < 1 || sv > 3)) {
            snprintf(err, errlen, "config: ioc.lists[%zu].severity: must be 1..3", i);
            return -1;
        }
        l->severity = (int)sv;
        c->n_lists++;
    }
    return 0;
}
