/* Rule evaluation: Hyperscan prefilter, then every option of each candidate.
 *
 * Byte options of one buffer are inspected as Suricata's
 * DetectEngineContentInspection does: a chain of relative options is tried
 * from each match of its anchor in turn (backtracking), but only when the
 * next option is relative to it; a step budget bounds the work on hostile
 * input. Nothing here allocates. */
#define _GNU_SOURCE
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "signatures/sig_internal.h"

/* ---- searching ---- */

static const uint8_t *find_nocase(const uint8_t *h, size_t hl, const uint8_t *n, size_t nl)
{
    if (nl == 0 || nl > hl)
        return NULL;
    uint8_t f0 = n[0] | 0x20, f1 = (uint8_t)(n[0] & ~0x20);
    bool alpha = (f0 >= 'a' && f0 <= 'z');
    for (size_t i = 0; i + nl <= hl; i++) {
        uint8_t c = h[i];
        if (alpha ? (c != f0 && c != f1) : c != n[0])
            continue;
        size_t k = 1;
        for (; k < nl; k++) {
            uint8_t a = h[i + k], b = n[k];
            if (a == b)
                continue;
            if (a >= 'A' && a <= 'Z')
                a |= 0x20;
            if (b >= 'A' && b <= 'Z')
                b |= 0x20;
            if (a != b)
                break;
        }
        if (k == nl)
            return h + i;
    }
    return NULL;
}

static bool eq_at(const uint8_t *h, const sw_content *c)
{
    if (!(c->flags & SW_CF_NOCASE))
        return memcmp(h, c->pat, c->len) == 0;
    return find_nocase(h, c->len, c->pat, c->len) != NULL;
}

/* Finds c in buf[start, end); returns the position or -1. */
static int64_t search(const uint8_t *buf, uint32_t start, uint32_t end, const sw_content *c)
{
    if (end < start || end - start < c->len)
        return -1;
    if (c->flags & SW_CF_ENDSWITH) {
        /* only an occurrence that ends at the buffer end counts */
        uint32_t pos = end - c->len;
        return eq_at(buf + pos, c) ? (int64_t)pos : -1;
    }
    const uint8_t *p = (c->flags & SW_CF_NOCASE)
                           ? find_nocase(buf + start, end - start, c->pat, c->len)
                           : memmem(buf + start, end - start, c->pat, c->len);
    return p ? p - buf : -1;
}

/* ---- byte_test / byte_jump value extraction ---- */

static bool extract(const sw_byteop *b, const uint8_t *p, uint32_t avail, uint64_t *out)
{
    uint64_t v = 0;
    if (b->flags & SW_BT_STRING) {
        int nd = 0;
        uint32_t nb = (b->flags & SW_BT_TO_END) ? (avail < 20 ? avail : 20) : b->nbytes;
        for (uint32_t i = 0; i < nb; i++) {
            int d;
            uint8_t ch = p[i];
            if (ch >= '0' && ch <= '9')
                d = ch - '0';
            else if (b->base == 16 && ch >= 'a' && ch <= 'f')
                d = ch - 'a' + 10;
            else if (b->base == 16 && ch >= 'A' && ch <= 'F')
                d = ch - 'A' + 10;
            else
                break;
            if (d >= b->base)
                break;
            v = v * b->base + (uint64_t)d;
            nd++;
        }
        if (nd == 0)
            return false;
    } else if (b->flags & SW_BT_LITTLE) {
        for (int i = b->nbytes - 1; i >= 0; i--)
            v = v << 8 | p[i];
    } else {
        for (uint8_t i = 0; i < b->nbytes; i++)
            v = v << 8 | p[i];
    }
    if (b->flags & SW_BT_BITMASK) {
        v &= b->bitmask;
        uint64_t m = b->bitmask;
        while (m && !(m & 1)) {
            m >>= 1;
            v >>= 1;
        }
    }
    *out = v;
    return true;
}

static bool byte_test_cmp(const sw_byteop *b, uint64_t v)
{
    bool r;
    switch (b->op) {
    case '<': r = v < b->value; break;
    case '>': r = v > b->value; break;
    case '=': r = v == b->value; break;
    case '&': r = (v & b->value) != 0; break;
    case '^': r = (v ^ b->value) != 0; break;
    case 'l': r = v <= b->value; break;
    case 'g': r = v >= b->value; break;
    default: r = false;
    }
    return (b->flags & SW_BT_NOT) ? !r : r;
}

/* ---- content inspection ---- */

typedef struct insp {
    sw_sig_thread *t;
    const sw_sm *const *list;
    int n;
    const uint8_t *buf;
    uint32_t len;
    /* stream input: bytes before this offset were inspected already (the
     * tail); a match must reach past it, and absolute offsets count from
     * it. 0 otherwise. */
    uint32_t need_end;
} insp;

/* 1 match, 0 no match, -1 give up (budget or engine error). */
/* hi: the furthest byte the options matched so far reached. */
/* RFC 2045 style: whitespace skipped, decoding stops at '=' or at any
 * byte outside the alphabet; a last partial group gives what it holds.
 * Returns the decoded length (at most cap; *cut when more was there). */
static uint32_t b64_decode(const uint8_t *in, uint32_t n, uint8_t *out, uint32_t cap, bool *cut)
{
    uint32_t o = 0, acc = 0;
    int bits = 0;
    *cut = false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t c = in[i];
        int v;
        if (c >= 'A' && c <= 'Z')
            v = c - 'A';
        else if (c >= 'a' && c <= 'z')
            v = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            v = c - '0' + 52;
        else if (c == '+')
            v = 62;
        else if (c == '/')
            v = 63;
        else if (c == ' ' || c == '\r' || c == '\n' || c == '\t')
            continue;
        else
            break;
        acc = (acc << 6) | (uint32_t)v;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            if (o == cap) {
                *cut = true;
                break;
            }
            out[o++] = (uint8_t)(acc >> bits);
        }
    }
    return o;
}

/* A number option: the literal, or the byte_extract variable it names
 * (clamped so offsets stay in int32 arithmetic). */
static inline int64_t num_or_var(const insp *x, uint8_t var, int64_t lit)
{
    if (!var)
        return lit;
    uint64_t v = x->t->vars[var - 1];
    return v > INT32_MAX ? INT32_MAX : (int64_t)v;
}

static int inspect(insp *x, int i, uint32_t prev, uint32_t hi)
{
    if (i == x->n)
        return hi > x->need_end || !x->need_end ? 1 : 0;
    if (x->t->budget == 0) {
        SW_CTR_INC(x->t->ctr, SW_SIGC_RECURSION_LIMIT);
        return -1;
    }
    x->t->budget--;
    const sw_sm *sm = x->list[i];
    const uint8_t *buf = x->buf;
    uint32_t len = x->len;
    switch (sm->type) {
    case SW_SM_B64DECODE: {
        const sw_b64decode *d = &sm->u.b64;
        uint64_t start = (uint64_t)(d->relative ? prev : 0) + d->offset;
        if (start >= len || !x->t->b64)
            return 0;
        uint32_t n = len - (uint32_t)start;
        if (d->bytes && d->bytes < n)
            n = d->bytes;
        bool cut;
        x->t->b64_len = b64_decode(buf + start, n, x->t->b64, x->t->b64_cap, &cut);
        if (cut)
            SW_CTR_INC(x->t->ctr, SW_SIGC_B64_TRUNCATED);
        if (!x->t->b64_len)
            return 0;
        return inspect(x, i + 1, prev, hi);
    }
    case SW_SM_CONTENT: {
        const sw_content *c = &sm->u.c;
        int64_t start, end = len;
        if (c->flags & (SW_CF_DISTANCE | SW_CF_WITHIN)) {
            start = prev;
            int64_t dist = (c->flags & SW_CF_DISTANCE) ? num_or_var(x, c->var_distance, c->distance) : 0;
            start += dist;
            if (start < 0)
                start = 0;
            if (c->flags & SW_CF_WITHIN) {
                int64_t w = (int64_t)prev + dist + num_or_var(x, c->var_within, c->within);
                if (w < end)
                    end = w;
            }
        } else {
            /* offset/depth count from the new stream data; an unanchored
             * content also searches the tail (patterns across chunks) */
            int64_t b0 = (c->flags & (SW_CF_OFFSET | SW_CF_DEPTH | SW_CF_STARTSWITH))
                             ? (int64_t)x->need_end
                             : 0;
            start = b0 + ((c->flags & SW_CF_OFFSET) ? num_or_var(x, c->var_offset, c->offset) : 0);
            if (c->flags & SW_CF_DEPTH) {
                int64_t d = start + num_or_var(x, c->var_depth, c->depth);
                if (d < end)
                    end = d;
            }
            if (c->flags & SW_CF_STARTSWITH) {
                start = b0;
                if (b0 + (int64_t)c->len < end)
                    end = b0 + c->len;
            }
        }
        if (c->flags & SW_CF_ENDSWITH && end < (int64_t)len) {
            /* the window must reach the end of the buffer */
            if (c->flags & SW_CF_NEGATED)
                return inspect(x, i + 1, prev, hi);
            return 0;
        }
        for (;;) {
            if (start > end || end < 0) {
                if (c->flags & SW_CF_NEGATED)
                    return inspect(x, i + 1, prev, hi);
                return 0;
            }
            int64_t pos = search(buf, (uint32_t)start, (uint32_t)end, c);
            if (c->flags & SW_CF_NEGATED)
                return pos >= 0 ? 0 : inspect(x, i + 1, prev, hi);
            if (pos < 0)
                return 0;
            uint32_t e = (uint32_t)pos + c->len;
            int r = inspect(x, i + 1, e, e > hi ? e : hi);
            /* a later occurrence may be the one in new stream data */
            if (r != 0 || (!sm->relative_next && (!x->need_end || e > x->need_end)))
                return r;
            start = pos + 1;
        }
    }
    case SW_SM_PCRE: {
        const sw_pcre *p = &sm->u.p;
        uint32_t start = (p->flags & SW_PCRE_RELATIVE) ? prev : 0;
        if (!(p->flags & SW_PCRE_RELATIVE) && x->need_end) {
            /* an anchored pattern starts at the new stream data */
            uint32_t opts = 0;
            if (pcre2_pattern_info(p->code, PCRE2_INFO_ALLOPTIONS, &opts) == 0 &&
                (opts & PCRE2_ANCHORED))
                start = x->need_end;
        }
        for (;;) {
            if (start > len)
                return (p->flags & SW_PCRE_NEGATED) ? inspect(x, i + 1, prev, hi) : 0;
            /* the subject starts at the relative offset so that '^' anchors
             * there, as in Suricata */
            int rc = pcre2_match(p->code, buf + start, len - start, 0, 0, x->t->md, x->t->mctx);
            if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT ||
                rc == PCRE2_ERROR_JIT_STACKLIMIT) {
                SW_CTR_INC(x->t->ctr, SW_SIGC_PCRE_LIMIT);
                return 0;
            }
            bool m = rc >= 0;
            if (p->flags & SW_PCRE_NEGATED)
                return m ? 0 : inspect(x, i + 1, prev, hi);
            if (!m)
                return 0;
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(x->t->md);
            uint32_t s0 = start + (uint32_t)ov[0], e0 = start + (uint32_t)ov[1];
            int r = inspect(x, i + 1, e0, e0 > hi ? e0 : hi);
            if (r != 0 || (!sm->relative_next && (!x->need_end || e0 > x->need_end)))
                return r;
            start = s0 + 1;
        }
    }
    case SW_SM_BYTE_TEST:
    case SW_SM_BYTE_JUMP:
    case SW_SM_BYTE_EXTRACT: {
        const sw_byteop *b = &sm->u.b;
        int64_t pos = ((b->flags & SW_BT_RELATIVE) ? (int64_t)prev : (int64_t)x->need_end) +
                      num_or_var(x, b->var_offset, b->offset);
        if (pos < 0 || pos + b->nbytes > (int64_t)len || ((b->flags & SW_BT_TO_END) && pos >= (int64_t)len))
            return 0;
        uint64_t v;
        if (!extract(b, buf + pos, len - (uint32_t)pos, &v))
            return 0;
        uint32_t rd = (uint32_t)pos + b->nbytes;
        if (rd > hi)
            hi = rd;
        if (sm->type == SW_SM_BYTE_TEST) {
            if (b->var_value) { /* compare with a value extracted earlier */
                sw_byteop cmp = *b;
                cmp.value = x->t->vars[b->var_value - 1];
                return byte_test_cmp(&cmp, v) ? inspect(x, i + 1, prev, hi) : 0;
            }
            return byte_test_cmp(b, v) ? inspect(x, i + 1, prev, hi) : 0;
        }
        if (sm->type == SW_SM_BYTE_EXTRACT) {
            /* as Suricata: the value, times the multiplier, rounded up to
             * the alignment; the cursor moves past the bytes read */
            v *= b->multiplier;
            if (b->align_to && v % b->align_to)
                v += b->align_to - v % b->align_to;
            x->t->vars[b->var] = v;
            return inspect(x, i + 1, rd, hi);
        }
        if (v > 0xffffffffu)
            return 0;
        v *= b->multiplier;
        if ((b->flags & SW_BT_ALIGN) && (v % 4))
            v += 4 - (v % 4);
        int64_t np;
        if (b->flags & SW_BT_FROM_BEGIN)
            np = (int64_t)x->need_end + (int64_t)v;
        else if (b->flags & SW_BT_FROM_END)
            np = (int64_t)len + (int64_t)v;
        else
            np = pos + b->nbytes + (int64_t)v;
        np += b->post_offset;
        if (np < 0 || np > (int64_t)len)
            return 0;
        return inspect(x, i + 1, (uint32_t)np, hi);
    }
    case SW_SM_ISDATAAT: {
        const sw_isdataat *d = &sm->u.d;
        /* as Suricata: relative N means N more bytes exist, absolute N
         * means a byte exists at offset N */
        uint64_t dn = (uint64_t)num_or_var(x, d->var_n, d->n);
        bool has = d->relative ? (uint64_t)prev + dn <= len : (uint64_t)x->need_end + dn < len;
        if (d->negated)
            has = !has;
        return has ? inspect(x, i + 1, prev, hi) : 0;
    }
    case SW_SM_BSIZE:
        return sw_u32cmp_eval(&sm->u.len, len) ? inspect(x, i + 1, prev, hi) : 0;
    }
    return 0;
}

/* ---- header, flow, flowbits ---- */

static bool fb_isset(const sw_sig_flow *fs, uint32_t id)
{
    if (!fs)
        return false;
    for (uint8_t i = 0; i < fs->n; i++)
        if (fs->bits[i] == id)
            return true;
    return false;
}

static void fb_set(sw_sig_thread *t, sw_sig_flow *fs, uint32_t id)
{
    if (!fs || fb_isset(fs, id))
        return;
    if (fs->n >= SW_SIG_FLOW_BITS) {
        SW_CTR_INC(t->ctr, SW_SIGC_FLOWBITS_FULL);
        return;
    }
    fs->bits[fs->n++] = id;
}

static void fb_unset(sw_sig_flow *fs, uint32_t id)
{
    if (!fs)
        return;
    for (uint8_t i = 0; i < fs->n; i++) {
        if (fs->bits[i] == id) {
            fs->bits[i] = fs->bits[--fs->n];
            return;
        }
    }
}

static bool flowbits_ok(const sw_rule *r, const sw_sig_flow *fs)
{
    for (int i = 0; i < r->n_flowbits; i++) {
        const sw_flowbit *fb = &r->flowbits[i];
        if (fb->cmd != SW_FB_ISSET && fb->cmd != SW_FB_ISNOTSET)
            continue;
        bool want = fb->cmd == SW_FB_ISSET;
        /* isset a|b: any set; isset a&b: all set; isnotset a|b: any unset;
         * isnotset a&b: all unset */
        bool any = false, all = true;
        for (int k = 0; k < fb->n; k++) {
            bool hit = fb_isset(fs, fb->ids[k]) == want;
            any |= hit;
            all &= hit;
        }
        if (!(fb->and_names ? all : any))
            return false;
    }
    return true;
}

static void flowbits_apply(sw_sig_thread *t, const sw_rule *r, sw_sig_flow *fs)
{
    for (int i = 0; i < r->n_flowbits; i++) {
        const sw_flowbit *fb = &r->flowbits[i];
        for (int k = 0; k < fb->n; k++) {
            switch (fb->cmd) {
            case SW_FB_SET: fb_set(t, fs, fb->ids[k]); break;
            case SW_FB_UNSET: fb_unset(fs, fb->ids[k]); break;
            case SW_FB_TOGGLE:
                if (fb_isset(fs, fb->ids[k]))
                    fb_unset(fs, fb->ids[k]);
                else
                    fb_set(t, fs, fb->ids[k]);
                break;
            default: break;
            }
        }
    }
}

static int fi_index(const sw_sig_flow *fs, uint32_t id)
{
    for (uint8_t i = 0; i < fs->n_ints; i++)
        if (fs->int_ids[i] == id)
            return i;
    return -1;
}

static bool flowints_ok(const sw_rule *r, const sw_sig_flow *fs)
{
    for (int i = 0; i < r->n_flowints; i++) {
        const sw_flowint *x = &r->flowints[i];
        if (x->op <= SW_FI_SUB)
            continue;
        int k = fs ? fi_index(fs, x->id) : -1;
        const uint32_t *v = k >= 0 ? &fs->int_vals[k] : NULL;
        bool ok;
        switch (x->op) {
        case SW_FI_ISSET: ok = v != NULL; break;
        case SW_FI_NOTSET: ok = v == NULL; break;
        case SW_FI_EQ: ok = v && *v == x->value; break;
        case SW_FI_NE: ok = v && *v != x->value; break;
        case SW_FI_LT: ok = v && *v < x->value; break;
        case SW_FI_LE: ok = v && *v <= x->value; break;
        case SW_FI_GT: ok = v && *v > x->value; break;
        default: ok = v && *v >= x->value; break;
        }
        if (!ok)
            return false;
    }
    return true;
}

/* An unset variable counts from 0; subtraction stops at 0. */
static void flowints_apply(sw_sig_thread *t, const sw_rule *r, sw_sig_flow *fs)
{
    if (!fs)
        return;
    for (int i = 0; i < r->n_flowints; i++) {
        const sw_flowint *x = &r->flowints[i];
        if (x->op > SW_FI_SUB)
            continue;
        int k = fi_index(fs, x->id);
        uint32_t *v = k >= 0 ? &fs->int_vals[k] : NULL;
        if (!v) {
            if (fs->n_ints >= SW_SIG_FLOW_INTS) {
                SW_CTR_INC(t->ctr, SW_SIGC_FLOWINT_FULL);
                continue;
            }
            fs->int_ids[fs->n_ints] = x->id;
            v = &fs->int_vals[fs->n_ints++];
            *v = 0;
        }
        if (x->op == SW_FI_SET)
            *v = x->value;
        else if (x->op == SW_FI_ADD)
            *v = *v > UINT32_MAX - x->value ? UINT32_MAX : *v + x->value;
        else
            *v = *v > x->value ? *v - x->value : 0;
    }
}

static bool header_ok(const sw_rule *r, const sw_detect_input *in)
{
    if (!r->proto_any) {
        if (in->proto != r->proto &&
            !(r->proto == IPPROTO_ICMP && in->proto == IPPROTO_ICMPV6))
            return false;
    }
    if (r->app_proto && in->app_proto != r->app_proto)
        return false;
    bool has_ports = in->proto == IPPROTO_TCP || in->proto == IPPROTO_UDP || in->proto == IPPROTO_SCTP;
    if (!has_ports && (!r->sp.any || !r->dp.any))
        return false;
    int fam = in->ip_version;
    if (sw_addr_match(&r->src, fam, in->src_ip) && sw_addr_match(&r->dst, fam, in->dst_ip) &&
        (!has_ports || (sw_port_match(&r->sp, in->src_port) && sw_port_match(&r->dp, in->dst_port))))
        return true;
    if (r->bidir && sw_addr_match(&r->src, fam, in->dst_ip) && sw_addr_match(&r->dst, fam, in->src_ip) &&
        (!has_ports || (sw_port_match(&r->sp, in->dst_port) && sw_port_match(&r->dp, in->src_port))))
        return true;
    return false;
}

static bool flow_ok(const sw_rule *r, const sw_detect_input *in)
{
    uint8_t f = r->flow;
    if (!f)
        return true;
    if ((f & SW_FLOW_TO_SERVER) && !(in->has_flow && in->to_server))
        return false;
    if ((f & SW_FLOW_TO_CLIENT) && !(in->has_flow && !in->to_server))
        return false;
    if ((f & SW_FLOW_ESTABLISHED) && !(in->has_flow && in->established))
        return false;
    if ((f & SW_FLOW_NOT_ESTABLISHED) && in->has_flow && in->established)
        return false;
    if ((f & SW_FLOW_ONLY_STREAM) && !in->is_stream)
        return false;
    if ((f & SW_FLOW_NO_STREAM) && in->is_stream)
        return false;
    return true;
}

static bool events_ok(const sw_rule *r, const sw_detect_input *in)
{
    for (int i = 0; i < r->n_events; i++) {
        bool found = false;
        for (uint32_t k = 0; k < in->n_events && !found; k++)
            found = in->events[k] && strcasecmp(in->events[k], r->events[i]) == 0;
        if (!found)
            return false;
    }
    return true;
}

/* vlan.id as Suricata 8: no VLAN header, no match; "!N" on a layer or
 * "all" compares each id, so "!500,all" means no id is 500. */
static bool vlan_ok(const sw_rule *r, const sw_detect_input *in)
{
    int n = in->vlan_count < 3 ? in->vlan_count : 3;
    for (int i = 0; i < r->n_vlan; i++) {
        const sw_vlan_cond *c = &r->vlan[i];
        if (n == 0)
            return false;
        if (c->mode == 2) {
            int idx = c->layer < 0 ? n + c->layer : c->layer;
            if (idx < 0 || idx >= n || !sw_u32cmp_eval(&c->cmp, in->vlan_id[idx]))
                return false;
            continue;
        }
        bool any = false, all = true;
        for (int k = 0; k < n; k++) {
            bool m = sw_u32cmp_eval(&c->cmp, in->vlan_id[k]);
            any |= m;
            all &= m;
        }
        if (!(c->mode == 1 ? all : any))
            return false;
    }
    return true;
}

/* flags as Suricata: no flags wanted but some set matches only "!";
 * otherwise compare after dropping the ignored flags. */
static bool flags_ok(const sw_rule *r, const sw_detect_input *in)
{
    if (!in->has_tcp_flags)
        return false;
    uint8_t f = in->tcp_flags;
    if (!r->flags && f)
        return r->flags_mod == SW_FLAGS_NOT;
    f &= r->flags_mask;
    switch (r->flags_mod) {
    case SW_FLAGS_ANY: return (f & r->flags) != 0;
    case SW_FLAGS_PLUS: return (f & r->flags) == r->flags;
    case SW_FLAGS_NOT: return (f & r->flags) != r->flags;
    default: return f == r->flags;
    }
}

static bool stream_size_ok(const sw_rule *r, const sw_detect_input *in)
{
    if (!in->has_stream_size)
        return false;
    bool c = sw_u32cmp_eval(&r->stream_size, in->client_bytes);
    bool s = sw_u32cmp_eval(&r->stream_size, in->server_bytes);
    switch (r->stream_size_side) {
    case SW_SSIZE_CLIENT: return c;
    case SW_SSIZE_SERVER: return s;
    case SW_SSIZE_BOTH: return c && s;
    default: return c || s;
    }
}

static bool packet_header_ok(const sw_rule *r, const sw_detect_input *in)
{
    if (r->has_flags && !flags_ok(r, in))
        return false;
    if (r->has_itype && !(in->has_icmp && sw_u32cmp_eval(&r->itype, in->icmp_type)))
        return false;
    if (r->has_icode && !(in->has_icmp && sw_u32cmp_eval(&r->icode, in->icmp_code)))
        return false;
    if (r->has_ip_proto && !sw_u32cmp_eval(&r->ip_proto, in->proto))
        return false;
    if (r->stream_size_side && !stream_size_ok(r, in))
        return false;
    if (r->tls_version && in->tls_version != r->tls_version)
        return false;
    /* tls.version is a transaction keyword: alone it is checked once per
     * handshake side, beside payload content on the packets that carry it */
    if (r->tls_version && !in->is_tx && !sw_rule_uses_buf(r, SW_BUF_PAYLOAD))
        return false;
    return true;
}

/* The buffer as the rule sees it: with dotprefix, "." + buffer. */
static bool get_buf(sw_sig_thread *t, const sw_rule *r, const sw_detect_input *in, int b,
                    const uint8_t **p, uint32_t *len)
{
    if (b == SW_BUF_BASE64) { /* decoded while the buffers before it were inspected */
        *p = t->b64;
        *len = t->b64_len;
        return t->b64_len > 0;
    }
    if (!in->buf[b].ptr)
        return false;
    *p = in->buf[b].ptr;
    *len = in->buf[b].len;
    if (sw_rule_dotprefix(r, b)) {
        if ((size_t)*len + 1 > t->dotcap)
            return false; /* sw_sig_match sized dotbuf for the largest such buffer */
        t->dotbuf[0] = '.';
        memcpy(t->dotbuf + 1, *p, *len);
        *p = t->dotbuf;
        *len += 1;
    }
    return true;
}

static bool rule_match(const sw_sig_engine *e, sw_sig_thread *t, const sw_rule *r,
                       const sw_detect_input *in, const sw_sig_flow *fs)
{
    if (!header_ok(r, in) || !flow_ok(r, in))
        return false;
    t->b64_len = 0; /* base64_data is what this rule decodes, nothing older */
    bool payload = sw_rule_uses_buf(r, SW_BUF_PAYLOAD);
    if (in->is_stream && !payload)
        return false; /* header-only rules run once per packet, not per chunk */
    if (in->payload_streamed && payload && !r->packet_only && !(r->flow & SW_FLOW_NO_STREAM))
        return false;
    if (r->packet_only && in->is_stream)
        return false;
    if (r->has_dsize && !sw_u32cmp_eval(&r->dsize, in->dsize))
        return false;
    if (!packet_header_ok(r, in))
        return false;
    if (r->n_flowbits && !flowbits_ok(r, fs))
        return false;
    if (r->n_flowints && !flowints_ok(r, fs))
        return false;
    if (r->n_events && !events_ok(r, in))
        return false;
    if (r->has_dns_opcode && (!in->has_dns_opcode || !sw_u32cmp_eval(&r->dns_opcode, in->dns_opcode)))
        return false;
    if (r->n_vlan && !vlan_ok(r, in))
        return false;
    for (int b = 0; b < SW_BUF_COUNT; b++) {
        if (!sw_rule_uses_buf(r, b))
            continue;
        const uint8_t *p;
        uint32_t len;
        if (!get_buf(t, r, in, b, &p, &len))
            return false;
        const sw_sm *list[SW_RULE_MAX_SM];
        int n = 0;
        for (int i = 0; i < r->n_sm; i++)
            if (r->sm[i].buf == b)
                list[n++] = &r->sm[i];
        insp x = {t, list, n, p, len,
                  b == SW_BUF_PAYLOAD && in->is_stream ? in->stream_seen : 0};
        t->budget = e->recursion_limit;
        int ok = inspect(&x, 0, 0, 0);
        /* tls.certs: the other certificates of the chain, until one holds */
        for (int k = 1; ok != 1 && b == SW_BUF_TLS_CERTS && k < in->n_certs; k++) {
            x.buf = in->certs[k];
            x.len = in->cert_len[k];
            t->budget = e->recursion_limit;
            ok = inspect(&x, 0, 0, 0);
        }
        if (ok != 1)
            return false;
    }
    /* last: the shared table's lock only for rules that matched otherwise */
    return !r->n_xbits || sw_sig_xbits_ok(e, r, in);
}

/* ---- xbits (packet time) ---- */

#define XB_PROBE 32

static void xb_key(const sw_xbit *x, const sw_detect_input *in, sw_xb_entry *k)
{
    memset(k, 0, sizeof(*k));
    k->id = x->id;
    k->used = 1;
    k->family = (uint8_t)in->ip_version;
    size_t alen = in->ip_version == 6 ? 16 : 4;
    const uint8_t *s = in->src_ip, *d = in->dst_ip;
    if (x->track == SW_XB_TRACK_PAIR) {
        /* either direction is the same pair */
        if (s && d && memcmp(s, d, alen) > 0) {
            const uint8_t *tmp = s;
            s = d;
            d = tmp;
        }
        k->pair = 1;
        if (s)
            memcpy(k->a, s, alen);
        if (d)
            memcpy(k->b, d, alen);
    } else {
        const uint8_t *h = x->track == SW_XB_TRACK_SRC ? s : d;
        if (h)
            memcpy(k->a, h, alen);
    }
}

static uint64_t xb_hash(const sw_xb_entry *k)
{
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = (const uint8_t *)k;
    for (size_t i = 0; i < offsetof(sw_xb_entry, expire_us); i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

static bool xb_same(const sw_xb_entry *x, const sw_xb_entry *k)
{
    return memcmp(x, k, offsetof(sw_xb_entry, expire_us)) == 0;
}

/* The live entry for k, or NULL; *free_slot gets a reusable slot (empty or
 * expired) on the probe path. Caller holds xb_lock. */
static sw_xb_entry *xb_find(sw_sig_engine *e, const sw_xb_entry *k, uint64_t now,
                            sw_xb_entry **free_slot)
{
    uint64_t h = xb_hash(k);
    *free_slot = NULL;
    for (uint32_t i = 0; i < XB_PROBE && i < e->xb_cap; i++) {
        sw_xb_entry *x = &e->xb[(h + i) % e->xb_cap];
        bool live = x->used && x->expire_us > now;
        if (live && xb_same(x, k))
            return x;
        if (!live && !*free_slot)
            *free_slot = x;
    }
    return NULL;
}

bool sw_sig_xbits_ok(const sw_sig_engine *e, const sw_rule *r, const sw_detect_input *in)
{
    sw_sig_engine *me = (sw_sig_engine *)e; /* the table is mutable state */
    if (!me->xb)
        return false;
    bool ok = true;
    pthread_mutex_lock(&me->xb_lock);
    for (int i = 0; i < r->n_xbits && ok; i++) {
        const sw_xbit *x = &r->xbits[i];
        if (x->cmd != SW_FB_ISSET && x->cmd != SW_FB_ISNOTSET)
            continue;
        sw_xb_entry k, *fs;
        xb_key(x, in, &k);
        bool set = xb_find(me, &k, in->ts_us, &fs) != NULL;
        ok = set == (x->cmd == SW_FB_ISSET);
    }
    pthread_mutex_unlock(&me->xb_lock);
    return ok;
}

void sw_sig_xbits_apply(const sw_sig_engine *e, const sw_rule *r, const sw_detect_input *in)
{
    sw_sig_engine *me = (sw_sig_engine *)e;
    if (!me->xb)
        return;
    pthread_mutex_lock(&me->xb_lock);
    for (int i = 0; i < r->n_xbits; i++) {
        const sw_xbit *x = &r->xbits[i];
        if (x->cmd == SW_FB_ISSET || x->cmd == SW_FB_ISNOTSET)
            continue;
        sw_xb_entry k, *fs;
        xb_key(x, in, &k);
        sw_xb_entry *cur = xb_find(me, &k, in->ts_us, &fs);
        bool set = x->cmd == SW_FB_SET || (x->cmd == SW_FB_TOGGLE && !cur);
        if (!set) {
            if (cur)
                cur->used = 0;
            continue;
        }
        if (!cur) {
            if (!fs) {
                SW_CTR_INC(me->ctr, SW_SIGE_XBITS_FULL);
                continue;
            }
            cur = fs;
            *cur = k;
        }
        cur->expire_us = in->ts_us + (uint64_t)x->expire_s * 1000000u;
        SW_CTR_INC(me->ctr, SW_SIGE_XBITS_SET);
    }
    pthread_mutex_unlock(&me->xb_lock);
}

void sw_sig_engine_carry_state(sw_sig_engine *to, const sw_sig_engine *from)
{
    sw_sig_engine *src = (sw_sig_engine *)from;
    if (!to || !src || !to->xb || !src->xb)
        return;
    pthread_mutex_lock(&src->xb_lock);
    pthread_mutex_lock(&to->xb_lock);
    for (uint32_t i = 0; i < src->xb_cap; i++) {
        const sw_xb_entry *x = &src->xb[i];
        if (!x->used)
            continue;
        sw_xb_entry *fs;
        /* packet time 0: every bit the old table holds counts as live */
        if (xb_find(to, x, 0, &fs) || !fs) {
            if (!fs)
                SW_CTR_INC(to->ctr, SW_SIGE_XBITS_FULL);
            continue;
        }
        *fs = *x;
    }
    pthread_mutex_unlock(&to->xb_lock);
    pthread_mutex_unlock(&src->xb_lock);
}

/* ---- thresholds (packet time) ---- */

static uint64_t thr_hash(const sw_thr_entry *k)
{
    uint64_t h = 1469598103934665603ull;
    const uint8_t *p = (const uint8_t *)k;
    size_t n = offsetof(sw_thr_entry, count);
    for (size_t i = 0; i < n; i++) {
        h ^= p[i];
        h *= 1099511628211ull;
    }
    return h;
}

#define THR_PROBE 32

bool sw_sig_threshold_check(const sw_sig_engine *e, const sw_rule *r, const sw_detect_input *in)
{
    const sw_threshold *th = &r->threshold;
    sw_thr_entry key;
    memset(&key, 0, sizeof(key));
    key.sid = r->sid;
    key.gid = r->gid;
    key.track = th->track;
    key.used = 1;
    size_t alen = in->ip_version == 6 ? 16 : 4;
    key.family = (uint8_t)in->ip_version;
    if ((th->track == SW_TRACK_SRC || th->track == SW_TRACK_BOTH) && in->src_ip)
        memcpy(key.a, in->src_ip, alen);
    if (th->track == SW_TRACK_DST && in->dst_ip)
        memcpy(key.a, in->dst_ip, alen);
    if (th->track == SW_TRACK_BOTH && in->dst_ip)
        memcpy(key.b, in->dst_ip, alen);
    if (th->track == SW_TRACK_RULE)
        key.family = 0;
    uint64_t window = (uint64_t)th->seconds * 1000000u;
    sw_sig_engine *me = (sw_sig_engine *)e; /* the table is the engine's one mutable part */
    pthread_mutex_lock(&me->thr_lock);
    uint64_t h = thr_hash(&key);
    sw_thr_entry *slot = NULL, *free_slot = NULL;
    for (uint32_t k = 0; k < THR_PROBE && k < me->thr_cap; k++) {
        sw_thr_entry *x = &me->thr[(h + k) % me->thr_cap];
        if (!x->used) {
            if (!free_slot)
                free_slot = x;
            continue;
        }
        if (memcmp(x, &key, offsetof(sw_thr_entry, count)) == 0) {
            slot = x;
            break;
        }
        /* an entry whose window has passed holds no state worth keeping;
         * 24 h past covers every window ET uses */
        if (!free_slot && in->ts_us > x->first_us + 86400ull * 1000000u)
            free_slot = x;
    }
    bool alert;
    bool fresh = !slot || in->ts_us < slot->first_us || in->ts_us - slot->first_us >= window;
    if (fresh) {
        if (!slot) {
            if (!free_slot) {
                SW_CTR_INC(me->ctr, SW_SIGE_THRESH_FULL);
                pthread_mutex_unlock(&me->thr_lock);
                return th->type != SW_THR_DETECTION_FILTER; /* fail open, as Suricata at memcap */
            }
            if (!free_slot->used)
                SW_CTR_ADD(me->ctr, SW_SIGE_THRESH_ENTRIES, 1);
            slot = free_slot;
            memcpy(slot, &key, sizeof(key));
        }
        slot->first_us = in->ts_us;
        slot->count = 1;
        switch (th->type) {
        case SW_THR_LIMIT: alert = true; break;
        case SW_THR_THRESHOLD:
            alert = th->count == 1;
            if (alert)
                slot->count = 0;
            break;
        case SW_THR_BOTH: alert = th->count == 1; break;
        default: alert = 1 > th->count; break; /* detection_filter */
        }
    } else {
        slot->count++;
        switch (th->type) {
        case SW_THR_LIMIT: alert = slot->count <= th->count; break;
        case SW_THR_THRESHOLD:
            alert = slot->count >= th->count;
            if (alert)
                slot->count = 0;
            break;
        case SW_THR_BOTH: alert = slot->count == th->count; break;
        default: alert = slot->count > th->count; break;
        }
    }
    pthread_mutex_unlock(&me->thr_lock);
    return alert;
}

/* ---- prefilter ---- */

static int on_hit(unsigned int id, unsigned long long from, unsigned long long to,
                  unsigned int flags, void *ctx)
{
    (void)from;
    (void)to;
    (void)flags;
    sw_sig_thread *t = ctx;
    const sw_sig_bufdb *d = t->scan_db;
    if (id >= d->n_pat)
        return 0;
    for (uint32_t j = d->pat_start[id]; j < d->pat_start[id + 1]; j++) {
        uint32_t r = d->rule_ids[j];
        if (t->stamp[r] != t->cur_stamp) {
            t->stamp[r] = t->cur_stamp;
            t->cand[t->n_cand++] = r;
        }
    }
    return 0;
}

static int u32_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return x < y ? -1 : x > y;
}

int sw_sig_match(const sw_sig_engine *e, sw_sig_thread *t, const sw_detect_input *in,
                 sw_sig_flow *fs, sw_sig_alert *alerts, int max_alerts)
{
    if (!e || !t || !in || e->n_rules == 0)
        return 0;
    if (t->gen != e->gen && sw_sig_thread_sync(t, e) < 0)
        return 0;
    /* dotprefix copies need len+1 bytes; grow only when a larger buffer
     * than ever before shows up (rare: names and hosts are short) */
    for (int b = 0; b < SW_BUF_COUNT; b++) {
        if (e->db[b].dotprefix && in->buf[b].ptr && (size_t)in->buf[b].len + 1 > t->dotcap) {
            size_t nc = (size_t)in->buf[b].len + 1 < 512 ? 512 : (size_t)in->buf[b].len + 1;
            uint8_t *p = realloc(t->dotbuf, nc);
            if (p) {
                t->dotbuf = p;
                t->dotcap = nc;
            }
        }
    }
    if (++t->cur_stamp == 0) {
        memset(t->stamp, 0, t->cap_rules * sizeof(uint32_t));
        t->cur_stamp = 1;
    }
    t->n_cand = 0;
    for (int b = 0; b < SW_BUF_COUNT; b++) {
        const sw_sig_bufdb *d = &e->db[b];
        if (!d->db || !in->buf[b].ptr)
            continue;
        /* a multi-buffer is scanned one instance at a time */
        int n_inst = b == SW_BUF_TLS_CERTS && in->n_certs ? in->n_certs : 1;
        for (int k = 0; k < n_inst; k++) {
            const uint8_t *p = n_inst > 1 ? in->certs[k] : in->buf[b].ptr;
            uint32_t len = n_inst > 1 ? in->cert_len[k] : in->buf[b].len;
            if (d->dotprefix && t->dotcap >= (size_t)len + 1) {
                t->dotbuf[0] = '.';
                memcpy(t->dotbuf + 1, p, len);
                p = t->dotbuf;
                len++;
            }
            t->scan_db = d;
            if (hs_scan(d->db, (const char *)p, len, 0, t->scratch, on_hit, t) != HS_SUCCESS)
                SW_CTR_INC(t->ctr, SW_SIGC_HS_ERROR);
        }
    }
    SW_CTR_ADD(t->ctr, SW_SIGC_PREFILTER_HITS, t->n_cand);
    for (uint32_t i = 0; i < e->n_always; i++) {
        uint32_t r = e->always[i];
        if (t->stamp[r] != t->cur_stamp) {
            t->stamp[r] = t->cur_stamp;
            t->cand[t->n_cand++] = r;
        }
    }
    qsort(t->cand, t->n_cand, sizeof(uint32_t), u32_cmp);
    SW_CTR_ADD(t->ctr, SW_SIGC_RULES_CHECKED, t->n_cand);
    int n = 0;
    for (uint32_t i = 0; i < t->n_cand; i++) {
        const sw_rule *r = e->rules[t->cand[i]];
        if (!rule_match(e, t, r, in, fs))
            continue;
        if (r->n_flowbits)
            flowbits_apply(t, r, fs);
        if (r->n_xbits)
            sw_sig_xbits_apply(e, r, in);
        if (r->n_flowints)
            flowints_apply(t, r, fs);
        if (r->noalert)
            continue;
        if (r->threshold.type != SW_THR_NONE && !sw_sig_threshold_check(e, r, in)) {
            SW_CTR_INC(t->ctr, SW_SIGC_SUPPRESSED);
            continue;
        }
        if (n >= max_alerts) {
            SW_CTR_INC(t->ctr, SW_SIGC_ALERT_OVERFLOW);
            continue;
        }
        sw_sig_alert *a = &alerts[n++];
        a->gid = r->gid;
        a->sid = r->sid;
        a->rev = r->rev;
        a->msg = r->msg;
        a->category = r->category ? r->category : "";
        a->severity = r->priority;
        a->action = (sw_sig_action)r->action;
        a->target = r->target;
        a->rule = r;
        SW_CTR_INC(t->ctr, SW_SIGC_ALERT);
    }
    return n;
}
