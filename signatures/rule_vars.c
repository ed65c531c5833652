/* Rule header addresses and ports: $VARS, [groups], negation, CIDRs, ranges.
 *
 * A set keeps positive and negated leaves; an address matches when it is in
 * some positive leaf (or there is none) and in no negated leaf. Nested
 * negation flips the leaves' sign, which is what Suricata's merging gives for
 * every form used in practice ("!$HOME_NET", "[$HOME_NET,!1.2.3.4]"). */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/rule.h"

#define VAR_DEPTH 8
#define MAX_LEAVES 4096

struct sw_vars {
    size_t n_addr, n_port;
    char *addr_name[SW_SIG_MAX_VARS * 2], *addr_val[SW_SIG_MAX_VARS * 2];
    char *port_name[SW_SIG_MAX_VARS * 2], *port_val[SW_SIG_MAX_VARS * 2];
};

/* Suricata's default suricata.yaml values. */
static const char *const def_addr[][2] = {
    {"HOME_NET", "[192.168.0.0/16,10.0.0.0/8,172.16.0.0/12]"},
    {"EXTERNAL_NET", "!$HOME_NET"},
    {"HTTP_SERVERS", "$HOME_NET"},
    {"SMTP_SERVERS", "$HOME_NET"},
    {"SQL_SERVERS", "$HOME_NET"},
    {"DNS_SERVERS", "$HOME_NET"},
    {"TELNET_SERVERS", "$HOME_NET"},
    {"AIM_SERVERS", "$EXTERNAL_NET"},
    {"DC_SERVERS", "$HOME_NET"},
    {"DNP3_SERVER", "$HOME_NET"},
    {"DNP3_CLIENT", "$HOME_NET"},
    {"MODBUS_CLIENT", "$HOME_NET"},
    {"MODBUS_SERVER", "$HOME_NET"},
    {"ENIP_CLIENT", "$HOME_NET"},
    {"ENIP_SERVER", "$HOME_NET"},
};
static const char *const def_port[][2] = {
    {"HTTP_PORTS", "80"},         {"SHELLCODE_PORTS", "!80"}, {"ORACLE_PORTS", "1521"},
    {"SSH_PORTS", "22"},          {"DNP3_PORTS", "20000"},    {"MODBUS_PORTS", "502"},
    {"FILE_DATA_PORTS", "[$HTTP_PORTS,110,143]"},             {"FTP_PORTS", "21"},
    {"GENEVE_PORTS", "6081"},     {"VXLAN_PORTS", "4789"},    {"TEREDO_PORTS", "3544"},
};

static int var_set(char **names, char **vals, size_t *n, const char *name, const char *val)
{
    for (size_t i = 0; i < *n; i++) {
        if (strcmp(names[i], name) == 0) {
            char *v = strdup(val);
            if (!v)
                return -1;
            free(vals[i]);
            vals[i] = v;
            return 0;
        }
    }
    if (*n >= SW_SIG_MAX_VARS * 2)
        return -1;
    names[*n] = strdup(name);
    vals[*n] = strdup(val);
    if (!names[*n] || !vals[*n]) {
        free(names[*n]);
        free(vals[*n]);
        return -1;
    }
    (*n)++;
    return 0;
}

sw_vars *sw_vars_new(const sw_sig_config *cfg)
{
    sw_vars *v = calloc(1, sizeof(*v));
    if (!v)
        return NULL;
    int rc = 0;
    for (size_t i = 0; i < sizeof(def_addr) / sizeof(def_addr[0]); i++)
        rc |= var_set(v->addr_name, v->addr_val, &v->n_addr, def_addr[i][0], def_addr[i][1]);
    for (size_t i = 0; i < sizeof(def_port) / sizeof(def_port[0]); i++)
        rc |= var_set(v->port_name, v->port_val, &v->n_port, def_port[i][0], def_port[i][1]);
    if (cfg) {
        for (size_t i = 0; i < cfg->n_addr_vars && i < SW_SIG_MAX_VARS; i++)
            rc |= var_set(v->addr_name, v->addr_val, &v->n_addr, cfg->addr_vars[i].name,
                          cfg->addr_vars[i].value);
        for (size_t i = 0; i < cfg->n_port_vars && i < SW_SIG_MAX_VARS; i++)
            rc |= var_set(v->port_name, v->port_val, &v->n_port, cfg->port_vars[i].name,
                          cfg->port_vars[i].value);
    }
    if (rc) {
        sw_vars_free(v);
        return NULL;
    }
    return v;
}

void sw_vars_free(sw_vars *v)
{
    if (!v)
        return;
    for (size_t i = 0; i < v->n_addr; i++) {
        free(v->addr_name[i]);
        free(v->addr_val[i]);
    }
    for (size_t i = 0; i < v->n_port; i++) {
        free(v->port_name[i]);
        free(v->port_val[i]);
    }
    free(v);
}

static const char *var_get(char *const *names, char *const *vals, size_t n, const char *name,
                           size_t len)
{
    for (size_t i = 0; i < n; i++)
        if (strlen(names[i]) == len && memcmp(names[i], name, len) == 0)
            return vals[i];
    return NULL;
}

/* Trims [s, e) in place (pointer adjust). */
static void trim(const char **s, const char **e)
{
    while (*s < *e && isspace((unsigned char)**s))
        (*s)++;
    while (*e > *s && isspace((unsigned char)(*e)[-1]))
        (*e)--;
}

/* ---- generic group walker shared by addresses and ports ---- */
typedef struct walk {
    const sw_vars *v;
    bool is_port;
    bool any;
    size_t n, cap;
    void *leaves;
    char *err;
    size_t errlen;
} walk;

static int add_leaf(walk *w, const void *leaf, size_t sz)
{
    if (w->n >= MAX_LEAVES) {
        snprintf(w->err, w->errlen, "too many addresses/ports in group");
        return -1;
    }
    if (w->n == w->cap) {
        size_t nc = w->cap ? w->cap * 2 : 8;
        void *p = realloc(w->leaves, nc * sz);
        if (!p) {
            snprintf(w->err, w->errlen, "out of memory");
            return -1;
        }
        w->leaves = p;
        w->cap = nc;
    }
    memcpy((char *)w->leaves + w->n * sz, leaf, sz);
    w->n++;
    return 0;
}

static int parse_ip_leaf(walk *w, const char *s, size_t len, bool neg)
{
    char buf[80];
    if (len == 0 || len >= sizeof(buf)) {
        snprintf(w->err, w->errlen, "bad address '%.*s'", (int)(len > 60 ? 60 : len), s);
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = 0;
    sw_addr_range r = {0};
    r.neg = neg;
    char *slash = strchr(buf, '/');
    if (slash)
        *slash = 0;
    if (inet_pton(AF_INET, buf, r.addr) == 1) {
        r.family = 4;
        r.prefix = 32;
    } else if (inet_pton(AF_INET6, buf, r.addr) == 1) {
        r.family = 6;
        r.prefix = 128;
    } else {
        snprintf(w->err, w->errlen, "bad address '%s'", buf);
        return -1;
    }
    if (slash) {
        const char *m = slash + 1;
        uint8_t mask[4];
        if (r.family == 4 && strchr(m, '.') && inet_pton(AF_INET, m, mask) == 1) {
            uint32_t mm = (uint32_t)mask[0] << 24 | mask[1] << 16 | mask[2] << 8 | mask[3];
            int p = 0;
            while (p < 32 && (mm & (0x80000000u >> p)))
                p++;
            r.prefix = (uint8_t)p;
        } else {
            char *end;
            long p = strtol(m, &end, 10);
            if (*m == 0 || *end || p < 0 || p > (r.family == 4 ? 32 : 128)) {
                snprintf(w->err, w->errlen, "bad prefix length in '%.*s'", (int)len, s);
                return -1;
            }
            r.prefix = (uint8_t)p;
        }
    }
    return add_leaf(w, &r, sizeof(r));
}

static int parse_port_leaf(walk *w, const char *s, size_t len, bool neg)
{
    char buf[32];
    if (len == 0 || len >= sizeof(buf)) {
        snprintf(w->err, w->errlen, "bad port '%.*s'", (int)(len > 20 ? 20 : len), s);
        return -1;
    }
    memcpy(buf, s, len);
    buf[len] = 0;
    sw_port_range r = {0, 65535, neg};
    char *colon = strchr(buf, ':');
    char *end;
    if (colon) {
        *colon = 0;
        if (buf[0]) {
            long lo = strtol(buf, &end, 10);
            if (*end || lo < 0 || lo > 65535)
                goto bad;
            r.lo = (uint16_t)lo;
        }
        if (colon[1]) {
            long hi = strtol(colon + 1, &end, 10);
            if (*end || hi < 0 || hi > 65535)
                goto bad;
            r.hi = (uint16_t)hi;
        }
        if (r.lo > r.hi)
            goto bad;
    } else {
        long p = strtol(buf, &end, 10);
        if (!buf[0] || *end || p < 0 || p > 65535)
            goto bad;
        r.lo = r.hi = (uint16_t)p;
    }
    return add_leaf(w, &r, sizeof(r));
bad:
    snprintf(w->err, w->errlen, "bad port '%.*s'", (int)len, s);
    return -1;
}

static int walk_expr(walk *w, const char *s, const char *e, bool neg, int depth)
{
    if (depth > VAR_DEPTH) {
        snprintf(w->err, w->errlen, "variables or groups nested too deep");
        return -1;
    }
    trim(&s, &e);
    if (s == e) {
        snprintf(w->err, w->errlen, "empty %s", w->is_port ? "port" : "address");
        return -1;
    }
    if (*s == '!')
        return walk_expr(w, s + 1, e, !neg, depth + 1);
    if (*s == '[') {
        if (e[-1] != ']') {
            snprintf(w->err, w->errlen, "unbalanced '['");
            return -1;
        }
        s++;
        e--;
        int lvl = 0;
        const char *start = s;
        for (const char *p = s; p <= e; p++) {
            if (p == e || (*p == ',' && lvl == 0)) {
                if (walk_expr(w, start, p, neg, depth + 1) < 0)
                    return -1;
                start = p + 1;
            } else if (*p == '[') {
                lvl++;
            } else if (*p == ']') {
                if (--lvl < 0) {
                    snprintf(w->err, w->errlen, "unbalanced ']'");
                    return -1;
                }
            }
        }
        if (lvl != 0) {
            snprintf(w->err, w->errlen, "unbalanced '['");
            return -1;
        }
        return 0;
    }
    if (*s == '$') {
        const char *val = w->is_port
                              ? var_get(w->v->port_name, w->v->port_val, w->v->n_port, s + 1,
                                        (size_t)(e - s - 1))
                              : var_get(w->v->addr_name, w->v->addr_val, w->v->n_addr, s + 1,
                                        (size_t)(e - s - 1));
        if (!val) {
            snprintf(w->err, w->errlen, "unknown variable '%.*s'", (int)(e - s), s);
            return -1;
        }
        return walk_expr(w, val, val + strlen(val), neg, depth + 1);
    }
    if ((size_t)(e - s) == 3 && strncasecmp(s, "any", 3) == 0) {
        if (neg) {
            snprintf(w->err, w->errlen, "'!any' matches nothing");
            return -1;
        }
        w->any = true;
        return 0;
    }
    return w->is_port ? parse_port_leaf(w, s, (size_t)(e - s), neg)
                      : parse_ip_leaf(w, s, (size_t)(e - s), neg);
}

int sw_addr_parse(const sw_vars *v, const char *s, sw_addr_set *out, char *err, size_t errlen)
{
    walk w = {.v = v, .is_port = false, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    if (walk_expr(&w, s, s + strlen(s), false, 0) < 0) {
        free(w.leaves);
        return -1;
    }
    bool has_neg = false;
    for (size_t i = 0; i < w.n; i++)
        has_neg |= ((sw_addr_range *)w.leaves)[i].neg;
    /* "any" inside a group swallows the positive leaves. */
    out->any = w.any && !has_neg;
    if (out->any) {
        free(w.leaves);
        return 0;
    }
    out->r = w.leaves;
    out->n = (uint16_t)w.n;
    return 0;
}

int sw_port_parse(const sw_vars *v, const char *s, sw_port_set *out, char *err, size_t errlen)
{
    walk w = {.v = v, .is_port = true, .err = err, .errlen = errlen};
    memset(out, 0, sizeof(*out));
    if (walk_expr(&w, s, s + strlen(s), false, 0) < 0) {
        free(w.leaves);
        return -1;
    }
    bool has_neg = false;
    for (size_t i = 0; i < w.n; i++)
        has_neg |= ((sw_port_range *)w.leaves)[i].neg;
    out->any = w.any && !has_neg;
    if (out->any) {
        free(w.leaves);
        return 0;
    }
    out->r = w.leaves;
    out->n = (uint16_t)w.n;
    return 0;
}

void sw_addr_set_free(sw_addr_set *s)
{
    free(s->r);
    s->r = NULL;
    s->n = 0;
}

void sw_port_set_free(sw_port_set *s)
{
    free(s->r);
    s->r = NULL;
    s->n = 0;
}

static bool in_prefix(const sw_addr_range *r, int family, const uint8_t *ip)
{
    if (r->family != family)
        return false;
    unsigned full = r->prefix / 8, rem = r->prefix % 8;
    if (memcmp(r->addr, ip, full) != 0)
        return false;
    if (rem) {
        uint8_t m = (uint8_t)(0xff << (8 - rem));
        if ((r->addr[full] & m) != (ip[full] & m))
            return false;
    }
    return true;
}

bool sw_addr_match(const sw_addr_set *s, int family, const uint8_t *ip)
{
    if (s->any)
        return true;
    if (!ip)
        return false;
    bool has_pos = false, pos = false;
    for (uint16_t i = 0; i < s->n; i++) {
        const sw_addr_range *r = &s->r[i];
        if (r->neg) {
            if (in_prefix(r, family, ip))
                return false;
        } else {
            has_pos = true;
            if (!pos && in_prefix(r, family, ip))
                pos = true;
        }
    }
    return pos || !has_pos;
}

bool sw_port_match(const sw_port_set *s, uint16_t port)
{
    if (s->any)
        return true;
    bool has_pos = false, pos = false;
    for (uint16_t i = 0; i < s->n; i++) {
        const sw_port_range *r = &s->r[i];
        bool in = port >= r->lo && port <= r->hi;
        if (r->neg) {
            if (in)
                return false;
        } else {
            has_pos = true;
            pos |= in;
        }
    }
    return pos || !has_pos;
}

/* ---- unsigned comparisons (dsize, bsize, urilen, vlan.id, itype, ...) ---- */

/* Decimal, or hex with 0x; never octal ("010" is ten). */
static bool parse_num(const char *s, char **end, unsigned long *v)
{
    if (!isdigit((unsigned char)*s))
        return false;
    bool hex = s[0] == '0' && (s[1] == 'x' || s[1] == 'X');
    errno = 0;
    *v = strtoul(s + (hex ? 2 : 0), end, hex ? 16 : 10);
    return errno == 0 && *v <= UINT32_MAX && *end != s + (hex ? 2 : 0);
}

/* Suricata's unsigned comparisons: N, =N, <N, >N, <=N, >=N, !N, and the
 * exclusive ranges N<>M and N-M. */
int sw_u32cmp_parse(const char *s, sw_u32cmp *out)
{
    while (isspace((unsigned char)*s))
        s++;
    memset(out, 0, sizeof(*out));
    if (s[0] == '<' && s[1] == '=')
        out->op = SW_CMP_LE, s += 2;
    else if (s[0] == '>' && s[1] == '=')
        out->op = SW_CMP_GE, s += 2;
    else if (*s == '<')
        out->op = SW_CMP_LT, s++;
    else if (*s == '>')
        out->op = SW_CMP_GT, s++;
    else if (*s == '!')
        out->op = SW_CMP_NE, s++;
    else if (*s == '=')
        s++;
    while (isspace((unsigned char)*s))
        s++;
    char *end;
    unsigned long a, b;
    if (!parse_num(s, &end, &a))
        return -1;
    out->a = (uint32_t)a;
    while (isspace((unsigned char)*end))
        end++;
    bool arrow = end[0] == '<' && end[1] == '>';
    if ((arrow || end[0] == '-') && out->op == SW_CMP_EQ) {
        s = end + (arrow ? 2 : 1);
        while (isspace((unsigned char)*s))
            s++;
        if (!parse_num(s, &end, &b) || b <= a)
            return -1;
        out->b = (uint32_t)b;
        out->op = SW_CMP_RANGE;
        while (isspace((unsigned char)*end))
            end++;
    }
    return *end ? -1 : 0;
}

bool sw_u32cmp_eval(const sw_u32cmp *c, uint32_t v)
{
    switch (c->op) {
    case SW_CMP_EQ: return v == c->a;
    case SW_CMP_LT: return v < c->a;
    case SW_CMP_GT: return v > c->a;
    case SW_CMP_LE: return v <= c->a;
    case SW_CMP_GE: return v >= c->a;
    case SW_CMP_NE: return v != c->a;
    case SW_CMP_RANGE: return v > c->a && v < c->b;
    }
    return false;
}
