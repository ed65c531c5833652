#include "sensor/cfg.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

/* Depth limit: the config is operator input, but a hostile or broken file
 * must not blow the stack. */
#define CFG_MAX_DEPTH 64

struct sw_cfg_node {
    sw_cfg_type type;
    int line;
    char *scalar;           /* SCALAR */
    char **keys;            /* MAP */
    struct sw_cfg_node **kids; /* MAP values / SEQ items */
    size_t n, cap;
};

static sw_cfg_node *node_new(sw_cfg_type t, int line)
{
    sw_cfg_node *n = calloc(1, sizeof(*n));
    if (n) {
        n->type = t;
        n->line = line;
    }
    return n;
}

void sw_cfg_free(sw_cfg_node *n)
{
    if (!n)
        return;
    free(n->scalar);
    for (size_t i = 0; i < n->n; i++) {
        if (n->keys)
            free(n->keys[i]);
        sw_cfg_free(n->kids[i]);
    }
    free(n->keys);
    free(n->kids);
    free(n);
}

static int node_add(sw_cfg_node *parent, char *key, sw_cfg_node *kid)
{
    if (parent->n == parent->cap) {
        size_t nc = parent->cap ? parent->cap * 2 : 8;
        sw_cfg_node **k = realloc(parent->kids, nc * sizeof(*k));
        if (!k)
            return -1;
        parent->kids = k;
        if (parent->type == SW_CFG_MAP) {
            char **ks = realloc(parent->keys, nc * sizeof(*ks));
            if (!ks)
                return -1;
            parent->keys = ks;
        }
        parent->cap = nc;
    }
    if (parent->type == SW_CFG_MAP) {
        /* A later duplicate key overrides the earlier one, as in Suricata;
         * two maps under one key are merged, so config fragments that each
         * add to a section (app-layer: http / tls / dns) can be joined. */
        for (size_t i = 0; i < parent->n; i++) {
            if (strcmp(parent->keys[i], key) == 0) {
                free(key);
                sw_cfg_node *old = parent->kids[i];
                if (old->type == SW_CFG_MAP && kid->type == SW_CFG_MAP) {
                    for (size_t k = 0; k < kid->n; k++) {
                        if (node_add(old, kid->keys[k], kid->kids[k]) < 0)
                            return -1;
                        kid->keys[k] = NULL;
                        kid->kids[k] = NULL;
                    }
                    kid->n = 0;
                    sw_cfg_free(kid);
                    return 0;
                }
                sw_cfg_free(old);
                parent->kids[i] = kid;
                return 0;
            }
        }
        parent->keys[parent->n] = key;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

typedef struct {
    yaml_parser_t p;
    char *err;
    size_t errlen;
    const char *name;
} cfg_parse;

static sw_cfg_node *parse_node(cfg_parse *cp, yaml_event_t *ev, int depth);

static bool next_event(cfg_parse *cp, yaml_event_t *ev)
{
    if (!yaml_parser_parse(&cp->p, ev)) {
        snprintf(cp->err, cp->errlen, "%s:%zu: %s", cp->name,
                 cp->p.problem_mark.line + 1,
                 cp->p.problem ? cp->p.problem : "YAML syntax error");
        return false;
    }
    return true;
}

static sw_cfg_node *parse_collection(cfg_parse *cp, sw_cfg_type t, int line, int depth)
{
    sw_cfg_node *n = node_new(t, line);
    if (!n)
        return NULL;
    for (;;) {
        yaml_event_t ev;
        if (!next_event(cp, &ev))
            goto fail;
        if (ev.type == YAML_MAPPING_END_EVENT || ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            return n;
        }
        char *key = NULL;
        if (t == SW_CFG_MAP) {
            if (ev.type != YAML_SCALAR_EVENT) {
                snprintf(cp->err, cp->errlen, "%s:%zu: map keys must be scalars",
                         cp->name, ev.start_mark.line + 1);
                yaml_event_delete(&ev);
                goto fail;
            }
            key = strdup((const char *)ev.data.scalar.value);
            yaml_event_delete(&ev);
            if (!key || !next_event(cp, &ev)) {
                free(key);
                goto fail;
            }
        }
        sw_cfg_node *kid = parse_node(cp, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!kid || node_add(n, key, kid) < 0) {
            free(key);
            sw_cfg_free(kid);
            goto fail;
        }
    }
fail:
    sw_cfg_free(n);
    return NULL;
}

static sw_cfg_node *parse_node(cfg_parse *cp, yaml_event_t *ev, int depth)
{
    int line = (int)ev->start_mark.line + 1;
    if (depth > CFG_MAX_DEPTH) {
        snprintf(cp->err, cp->errlen, "%s:%d: nesting deeper than %d", cp->name,
                 line, CFG_MAX_DEPTH);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: {
        sw_cfg_node *n = node_new(SW_CFG_SCALAR, line);
        if (n && !(n->scalar = strdup((const char *)ev->data.scalar.value))) {
            free(n);
            n = NULL;
        }
        return n;
    }
    case YAML_MAPPING_START_EVENT:
        return parse_collection(cp, SW_CFG_MAP, line, depth);
    case YAML_SEQUENCE_START_EVENT:
        return parse_collection(cp, SW_CFG_SEQ, line, depth);
    case YAML_ALIAS_EVENT:
        snprintf(cp->err, cp->errlen, "%s:%d: YAML aliases are not supported",
                 cp->name, line);
        return NULL;
    default:
        snprintf(cp->err, cp->errlen, "%s:%d: unexpected YAML event", cp->name, line);
        return NULL;
    }
}

static sw_cfg_node *parse_doc(cfg_parse *cp)
{
    sw_cfg_node *root = NULL;
    yaml_event_t ev;
    for (;;) {
        if (!next_event(cp, &ev)) {
            sw_cfg_free(root);
            return NULL;
        }
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (t == YAML_MAPPING_START_EVENT || t == YAML_SEQUENCE_START_EVENT ||
            t == YAML_SCALAR_EVENT) {
            if (root) { /* only the first document counts */
                yaml_event_delete(&ev);
                snprintf(cp->err, cp->errlen, "%s: more than one YAML document", cp->name);
                sw_cfg_free(root);
                return NULL;
            }
            root = parse_node(cp, &ev, 0);
            yaml_event_delete(&ev);
            if (!root)
                return NULL;
            if (root->type != SW_CFG_MAP) {
                snprintf(cp->err, cp->errlen, "%s: top level must be a map", cp->name);
                sw_cfg_free(root);
                return NULL;
            }
            continue;
        }
        yaml_event_delete(&ev);
    }
    if (!root)
        root = node_new(SW_CFG_MAP, 1);
    return root;
}

sw_cfg_node *sw_cfg_load_file(const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return NULL;
    }
    cfg_parse cp = {.err = err, .errlen = errlen, .name = path};
    yaml_parser_initialize(&cp.p);
    yaml_parser_set_input_file(&cp.p, f);
    sw_cfg_node *root = parse_doc(&cp);
    yaml_parser_delete(&cp.p);
    fclose(f);
    return root;
}

sw_cfg_node *sw_cfg_load_string(const char *yaml, char *err, size_t errlen)
{
    cfg_parse cp = {.err = err, .errlen = errlen, .name = "<string>"};
    yaml_parser_initialize(&cp.p);
    yaml_parser_set_input_string(&cp.p, (const unsigned char *)yaml, strlen(yaml));
    sw_cfg_node *root = parse_doc(&cp);
    yaml_parser_delete(&cp.p);
    return root;
}

const sw_cfg_node *sw_cfg_get(const sw_cfg_node *root, const char *path)
{
    const sw_cfg_node *n = root;
    const char *p = path;
    while (n && *p) {
        const char *dot = strchr(p, '.');
        size_t len = dot ? (size_t)(dot - p) : strlen(p);
        const sw_cfg_node *next = NULL;
        if (n->type == SW_CFG_MAP) {
            for (size_t i = 0; i < n->n; i++) {
                if (strlen(n->keys[i]) == len && memcmp(n->keys[i], p, len) == 0) {
                    next = n->kids[i];
                    break;
                }
            }
        } else if (n->type == SW_CFG_SEQ) {
            /* numeric path element indexes a sequence */
            char *end;
            unsigned long idx = strtoul(p, &end, 10);
            if (end == p + len && idx < n->n)
                next = n->kids[idx];
        }
        n = next;
        p = dot ? dot + 1 : p + len;
    }
    return n;
}

sw_cfg_type sw_cfg_type_of(const sw_cfg_node *n) { return n->type; }
const char *sw_cfg_scalar(const sw_cfg_node *n)
{
    return n && n->type == SW_CFG_SCALAR ? n->scalar : NULL;
}
size_t sw_cfg_len(const sw_cfg_node *n) { return n && n->type != SW_CFG_SCALAR ? n->n : 0; }
const sw_cfg_node *sw_cfg_at(const sw_cfg_node *n, size_t i)
{
    return n && n->type != SW_CFG_SCALAR && i < n->n ? n->kids[i] : NULL;
}
const char *sw_cfg_key_at(const sw_cfg_node *n, size_t i)
{
    return n && n->type == SW_CFG_MAP && i < n->n ? n->keys[i] : NULL;
}
int sw_cfg_line(const sw_cfg_node *n) { return n ? n->line : 0; }

/* Returns the scalar at path, NULL if absent; -1 via *bad if not a scalar. */
static const char *scalar_at(const sw_cfg_node *root, const char *path, bool *bad,
                             char *err, size_t errlen)
{
    *bad = false;
    const sw_cfg_node *n = sw_cfg_get(root, path);
    if (!n)
        return NULL;
    if (n->type != SW_CFG_SCALAR) {
        snprintf(err, errlen, "config: %s (line %d): expected a single value", path,
                 n->line);
        *bad = true;
        return NULL;
    }
    return n->scalar;
}

/* 1 with *v set when path holds a single value, 0 when absent, -1 (err
 * filled) when it holds a map or list: the common start of every getter. */
static int present(const sw_cfg_node *root, const char *path, const char **v, char *err,
                   size_t errlen)
{
    bool bad;
    *v = scalar_at(root, path, &bad, err, errlen);
    return bad ? -1 : (*v ? 1 : 0);
}

static int bad_value(const char *path, const sw_cfg_node *root, const char *v,
                     const char *want, char *err, size_t errlen)
{
    snprintf(err, errlen, "config: %s (line %d): '%s' is not %s", path,
             sw_cfg_line(sw_cfg_get(root, path)), v, want);
    return -1;
}

int sw_cfg_get_int(const sw_cfg_node *root, const char *path, int64_t *out, char *err,
                   size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc <= 0)
        return rc;
    char *end;
    errno = 0;
    long long x = strtoll(v, &end, 0);
    if (errno || end == v || *end)
        return bad_value(path, root, v, "an integer", err, errlen);
    *out = x;
    return 0;
}

int sw_cfg_get_u64(const sw_cfg_node *root, const char *path, uint64_t *out, char *err,
                   size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc <= 0)
        return rc;
    char *end;
    errno = 0;
    if (*v == '-')
        return bad_value(path, root, v, "a non-negative integer", err, errlen);
    unsigned long long x = strtoull(v, &end, 0);
    if (errno || end == v || *end)
        return bad_value(path, root, v, "a non-negative integer", err, errlen);
    *out = x;
    return 0;
}

int sw_cfg_get_double(const sw_cfg_node *root, const char *path, double *out, char *err,
                      size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc <= 0)
        return rc;
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x))
        return bad_value(path, root, v, "a number", err, errlen);
    *out = x;
    return 0;
}

int sw_cfg_get_bool(const sw_cfg_node *root, const char *path, bool *out, char *err,
                    size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc <= 0)
        return rc;
    static const char *yes[] = {"yes", "true", "on", "1"};
    static const char *no[] = {"no", "false", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(v, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(v, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return bad_value(path, root, v, "yes or no", err, errlen);
}

/* Parses "<number><unit>" where unit is looked up in the table. */
static int scaled(const char *v, const char *const *units, const uint64_t *mult,
                  size_t nunits, uint64_t deflt_mult, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*v == '-')
        return -1;
    double x = strtod(v, &end);
    if (errno || end == v || !isfinite(x) || x < 0)
        return -1;
    while (*end == ' ')
        end++;
    uint64_t m = deflt_mult;
    if (*end) {
        size_t i;
        for (i = 0; i < nunits; i++)
            if (strcasecmp(end, units[i]) == 0)
                break;
        if (i == nunits)
            return -1;
        m = mult[i];
    }
    double r = x * (double)m;
    if (r > 1.8e19)
        return -1;
    /* not llround: its long long stops at 2^63 */
    *out = (uint64_t)(r + 0.5);
    return 0;
}

int sw_cfg_get_size(const sw_cfg_node *root, const char *path, uint64_t *out, char *err,
                    size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc <= 0)
        return rc;
    static const char *const u[] = {"b", "kb", "k", "kib", "mb", "m", "mib", "gb", "g", "gib"};
    static const uint64_t m[] = {1, 1024, 1024, 1024, 1 << 20, 1 << 20, 1 << 20,
                                 1ULL << 30, 1ULL << 30, 1ULL << 30};
    if (scaled(v, u, m, 10, 1, out) < 0)
        return bad_value(path, root, v, "a size (e.g. 64mb)", err, errlen);
    return 0;
}

int sw_cfg_get_duration(const sw_cfg_node *root, const char *path, uint64_t *out_us,
                        char *err, size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc <= 0)
        return rc;
    static const char *const u[] = {"us", "ms", "s", "m", "min", "h", "d"};
    static const uint64_t m[] = {1, 1000, 1000000, 60000000, 60000000, 3600000000ULL,
                                 86400000000ULL};
    if (scaled(v, u, m, 7, 1000000, out_us) < 0)
        return bad_value(path, root, v, "a duration (e.g. 30s, 5m)", err, errlen);
    return 0;
}

int sw_cfg_get_u32_in(const sw_cfg_node *root, const char *path, uint32_t *out, uint32_t lo,
                      uint32_t hi, char *err, size_t errlen)
{
    uint64_t v = *out;
    if (!sw_cfg_get(root, path))
        return 0;
    if (sw_cfg_get_u64(root, path, &v, err, errlen) < 0)
        return -1;
    if (v < lo || v > hi) {
        snprintf(err, errlen, "config: %s: must be %u..%u", path, lo, hi);
        return -1;
    }
    *out = (uint32_t)v;
    return 0;
}

static int parse_port(const char *path, const char *v, uint16_t *out, char *err, size_t errlen)
{
    char *end = NULL;
    long port = v ? strtol(v, &end, 10) : -1;
    if (!v || end == v || *end || port < 1 || port > 65535) {
        snprintf(err, errlen, "config: %s: '%s' is not a port", path, v ? v : "?");
        return -1;
    }
    *out = (uint16_t)port;
    return 0;
}

int sw_cfg_get_ports(const sw_cfg_node *root, const char *path, uint16_t *out, size_t max,
                     size_t *n, bool *any, char *err, size_t errlen)
{
    const sw_cfg_node *node = sw_cfg_get(root, path);
    if (!node)
        return 0;
    const char *one = sw_cfg_scalar(node);
    size_t len = one ? 1 : sw_cfg_len(node);
    if (!one && sw_cfg_type_of(node) != SW_CFG_SEQ) {
        snprintf(err, errlen, "config: %s: expected a port or a list of ports", path);
        return -1;
    }
    if (len > max) {
        snprintf(err, errlen, "config: %s: at most %zu ports", path, max);
        return -1;
    }
    if (any)
        *any = false;
    *n = 0;
    for (size_t i = 0; i < len; i++) {
        const char *v = one ? one : sw_cfg_scalar(sw_cfg_at(node, i));
        if (any && len == 1 && v && !strcmp(v, "any")) {
            *any = true;
            return 0;
        }
        if (parse_port(path, v, &out[*n], err, errlen) < 0)
            return -1;
        (*n)++;
    }
    return 0;
}

int sw_cfg_get_str(const sw_cfg_node *root, const char *path, const char **out, char *err,
                   size_t errlen)
{
    const char *v;
    int rc = present(root, path, &v, err, errlen);
    if (rc > 0)
        *out = v;
    return rc < 0 ? -1 : 0;
}
