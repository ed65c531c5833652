/* Engine build: rule files -> parsed rules -> one Hyperscan block database
 * of fast patterns per inspection buffer.
 *
 * A Hyperscan hit only queues the rule; sig_match.c confirms every option.
 * Identical fast patterns (ET has thousands of repeats) are compiled once and
 * map to a list of rules. */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sensor/json.h"
#include "signatures/sig_internal.h"

static uint64_t g_engine_gen;

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

void sw_sig_config_defaults(sw_sig_config *c)
{
    memset(c, 0, sizeof(*c));
    c->threshold_entries = 65536;
    c->xbits_entries = 65536;
    c->base64_max = 65536;
    c->pcre_match_limit = 3500;
    c->inspection_recursion_limit = 3000;
    c->packet_alert_max = 16;
}

/* ---- report helpers ---- */

static void add_issue(sw_sig_report *rep, const char *file, int line, bool is_error,
                      const char *reason)
{
    if (rep->n_issues >= SW_SIG_REPORT_MAX_ISSUES) {
        rep->n_issues++;
        return;
    }
    sw_sig_issue *is = &rep->issues[rep->n_issues++];
    snprintf(is->file, sizeof(is->file), "%s", file);
    is->line = line;
    is->is_error = is_error;
    snprintf(is->reason, sizeof(is->reason), "%s", reason);
}

static void count_kw(sw_sig_report *rep, const char *kw)
{
    for (uint32_t i = 0; i < rep->n_unsupported; i++) {
        if (strcmp(rep->unsupported[i].keyword, kw) == 0) {
            rep->unsupported[i].count++;
            return;
        }
    }
    if (rep->n_unsupported < SW_SIG_REPORT_MAX_KW) {
        /* keywords are short; a longer one is cut, which is fine here */
        size_t cap = sizeof(rep->unsupported[0].keyword);
        size_t n = strnlen(kw, cap - 1);
        memcpy(rep->unsupported[rep->n_unsupported].keyword, kw, n);
        rep->unsupported[rep->n_unsupported].keyword[n] = '\0';
        rep->unsupported[rep->n_unsupported++].count = 1;
    }
}

static int kw_cmp(const void *a, const void *b)
{
    uint32_t ca = ((const uint32_t *)((const char *)a + 32))[0];
    uint32_t cb = ((const uint32_t *)((const char *)b + 32))[0];
    return ca < cb ? 1 : ca > cb ? -1 : 0;
}

/* ---- loading ---- */

typedef struct rule_vec {
    sw_rule **v;
    uint32_t n, cap;
} rule_vec;

static int vec_push(rule_vec *rv, sw_rule *r)
{
    if (rv->n == rv->cap) {
        uint32_t nc = rv->cap ? rv->cap * 2 : 256;
        sw_rule **p = realloc(rv->v, nc * sizeof(*p));
        if (!p)
            return -1;
        rv->v = p;
        rv->cap = nc;
    }
    rv->v[rv->n++] = r;
    return 0;
}

/* Reads rules from f: joins '\'-continued lines, skips comments. */
static void load_stream(const sw_parse_ctx *pc, FILE *f, const char *fname, rule_vec *rv,
                        sw_sig_report *rep)
{
    char *line = NULL;
    size_t lcap = 0;
    char *acc = NULL;
    size_t alen = 0, acap = 0;
    int lineno = 0, start_line = 0;
    ssize_t n;
    char why[256], kw[64];
    while ((n = getline(&line, &lcap, f)) >= 0) {
        lineno++;
        while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r' || line[n - 1] == ' ' ||
                         line[n - 1] == '\t'))
            line[--n] = 0;
        bool cont = n > 0 && line[n - 1] == '\\';
        if (cont)
            line[--n] = 0;
        if (alen == 0) {
            const char *s = line;
            while (isspace((unsigned char)*s))
                s++;
            if ((*s == 0 || *s == '#') && !cont)
                continue;
            if (*s == '#')
                continue; /* a commented multi-line rule: its tail follows as its own lines */
            start_line = lineno;
        }
        if (alen + (size_t)n + 1 > acap) {
            size_t nc = (alen + (size_t)n + 1) * 2;
            char *p = realloc(acc, nc);
            if (!p) {
                add_issue(rep, fname, lineno, true, "out of memory");
                rep->errors++;
                break;
            }
            acc = p;
            acap = nc;
        }
        memcpy(acc + alen, line, (size_t)n);
        alen += (size_t)n;
        acc[alen] = 0;
        if (cont)
            continue;
        sw_rule *r = NULL;
        sw_parse_result pr = sw_rule_parse(pc, acc, &r, why, sizeof(why), kw, sizeof(kw));
        if (pr == SW_PARSE_OK) {
            r->file = fname;
            r->line = start_line;
            if (vec_push(rv, r) < 0) {
                sw_rule_free(r);
                rep->errors++;
                add_issue(rep, fname, start_line, true, "out of memory");
            }
        } else if (pr == SW_PARSE_UNSUPPORTED) {
            rep->skipped++;
            count_kw(rep, kw);
            add_issue(rep, fname, start_line, false, why);
        } else {
            rep->errors++;
            add_issue(rep, fname, start_line, true, why);
        }
        alen = 0;
    }
    if (alen > 0) {
        rep->errors++;
        add_issue(rep, fname, start_line, true, "file ends inside a '\\'-continued rule");
    }
    free(acc);
    free(line);
}

static int gid_sid_cmp(const void *a, const void *b)
{
    const sw_rule *x = *(sw_rule *const *)a, *y = *(sw_rule *const *)b;
    if (x->gid != y->gid)
        return x->gid < y->gid ? -1 : 1;
    if (x->sid != y->sid)
        return x->sid < y->sid ? -1 : 1;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Suricata orders flowbit setters before readers so a rule that sets a bit
 * and one that checks it can fire on the same packet. */
static int fb_class(const sw_rule *r)
{
    bool set = false, read = false;
    for (int i = 0; i < r->n_flowbits; i++) {
        if (r->flowbits[i].cmd == SW_FB_ISSET || r->flowbits[i].cmd == SW_FB_ISNOTSET)
            read = true;
        else
            set = true;
    }
    return set && !read ? 0 : set ? 1 : read ? 2 : 3;
}

static int order_cmp(const void *a, const void *b)
{
    const sw_rule *x = *(sw_rule *const *)a, *y = *(sw_rule *const *)b;
    int cx = fb_class(x), cy = fb_class(y);
    if (cx != cy)
        return cx - cy;
    return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* ---- Hyperscan ---- */

typedef struct fp_entry {
    const uint8_t *pat;
    uint32_t len;
    bool nocase;
    uint32_t rule;
} fp_entry;

static int fp_cmp(const void *a, const void *b)
{
    const fp_entry *x = a, *y = b;
    if (x->nocase != y->nocase)
        return x->nocase - y->nocase;
    if (x->len != y->len)
        return x->len < y->len ? -1 : 1;
    if (x->nocase) {
        for (uint32_t i = 0; i < x->len; i++) {
            int p = tolower(x->pat[i]), q = tolower(y->pat[i]);
            if (p != q)
                return p - q;
        }
    } else {
        int m = memcmp(x->pat, y->pat, x->len);
        if (m)
            return m;
    }
    return x->rule < y->rule ? -1 : x->rule > y->rule;
}

static bool fp_same(const fp_entry *x, const fp_entry *y)
{
    if (x->nocase != y->nocase || x->len != y->len)
        return false;
    if (!x->nocase)
        return memcmp(x->pat, y->pat, x->len) == 0;
    for (uint32_t i = 0; i < x->len; i++)
        if (tolower(x->pat[i]) != tolower(y->pat[i]))
            return false;
    return true;
}

/* Dedups the fast patterns of one buffer into job (Hyperscan input) and the
 * pattern -> rules map of the engine. */
static int prep_bufdb(sw_sig_engine *e, int b, fp_entry *ents, uint32_t n, sw_sig_dbjob *job,
                      char *err, size_t errlen)
{
    sw_sig_bufdb *d = &e->db[b];
    if (n == 0)
        return 0;
    qsort(ents, n, sizeof(*ents), fp_cmp);
    uint32_t n_pat = 0;
    for (uint32_t i = 0; i < n; i++)
        if (i == 0 || !fp_same(&ents[i - 1], &ents[i]))
            n_pat++;
    d->pat_start = calloc(n_pat + 1, sizeof(uint32_t));
    d->rule_ids = calloc(n, sizeof(uint32_t));
    job->exprs = calloc(n_pat, sizeof(char *));
    job->flags = calloc(n_pat, sizeof(unsigned));
    job->ids = calloc(n_pat, sizeof(unsigned));
    job->dead = calloc(n_pat, sizeof(bool));
    job->n_pat = n_pat;
    if (!d->pat_start || !d->rule_ids || !job->exprs || !job->flags || !job->ids || !job->dead) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    uint32_t p = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (i > 0 && !fp_same(&ents[i - 1], &ents[i]))
            p++;
        if (i == 0 || !fp_same(&ents[i - 1], &ents[i])) {
            d->pat_start[p] = i;
            char *x = malloc(ents[i].len * 4 + 1);
            if (!x) {
                snprintf(err, errlen, "out of memory");
                return -1;
            }
            for (uint32_t k = 0; k < ents[i].len; k++)
                snprintf(x + k * 4, 5, "\\x%02x", ents[i].pat[k]);
            if (ents[i].len == 0)
                x[0] = 0;
            job->exprs[p] = x;
            job->flags[p] = HS_FLAG_SINGLEMATCH | (ents[i].nocase ? HS_FLAG_CASELESS : 0);
            job->ids[p] = p;
        }
        d->rule_ids[i] = ents[i].rule;
    }
    d->pat_start[n_pat] = n;
    d->n_pat = n_pat;
    return 0;
}

static void job_free(sw_sig_dbjob *job)
{
    if (job->exprs)
        for (uint32_t i = 0; i < job->n_pat; i++)
            free(job->exprs[i]);
    free(job->exprs);
    free(job->flags);
    free(job->ids);
    free(job->dead);
    hs_free_database(job->db);
    memset(job, 0, sizeof(*job));
}

/* Compiles one buffer's patterns; a pattern Hyperscan rejects is marked dead
 * and the rest compiled again. */
static int compile_job(sw_sig_dbjob *job, char *err, size_t errlen)
{
    uint32_t n_pat = job->n_pat;
    if (n_pat == 0)
        return 0;
    const char **ex = calloc(n_pat, sizeof(char *));
    unsigned *fl = calloc(n_pat, sizeof(unsigned));
    unsigned *id = calloc(n_pat, sizeof(unsigned));
    int rc = -1;
    if (!ex || !fl || !id) {
        snprintf(err, errlen, "out of memory");
        goto out;
    }
    for (int attempt = 0; attempt < 8; attempt++) {
        unsigned k = 0;
        for (uint32_t i = 0; i < n_pat; i++) {
            if (job->dead[i])
                continue;
            ex[k] = job->exprs[i];
            fl[k] = job->flags[i];
            id[k] = job->ids[i];
            k++;
        }
        hs_compile_error_t *ce = NULL;
        hs_error_t hr = k ? hs_compile_multi(ex, fl, id, k, HS_MODE_BLOCK, NULL, &job->db, &ce)
                          : HS_SUCCESS;
        int bad = (hr != HS_SUCCESS && ce && ce->expression >= 0) ? (int)id[ce->expression] : -1;
        if (hr == HS_SUCCESS) {
            rc = 0;
            break;
        }
        job->db = NULL;
        if (bad < 0) {
            snprintf(err, errlen, "hyperscan: %s", ce ? ce->message : "compile failed");
            hs_free_compile_error(ce);
            goto out;
        }
        hs_free_compile_error(ce);
        job->dead[bad] = true;
    }
    if (rc < 0)
        snprintf(err, errlen, "hyperscan: too many rejected patterns");
out:
    free(ex);
    free(fl);
    free(id);
    return rc;
}

/* Databases of every buffer: from cache_dir when it holds this ruleset's
 * key, else compiled (and the cache rewritten). Cache trouble never fails
 * the build; it only lands in rep->cache_note. */
static int compile_all(sw_sig_engine *e, const char *cache_dir, sw_sig_dbjob *jobs,
                       sw_sig_report *rep)
{
    bool any = false;
    for (int b = 0; b < SW_BUF_COUNT; b++)
        any |= jobs[b].n_pat > 0;
    bool use_cache = cache_dir && cache_dir[0] && any;
    uint8_t key[32];
    char note[sizeof(rep->cache_note)] = "";
    if (use_cache && sw_sig_cache_key(jobs, SW_BUF_COUNT, key, note, sizeof(note)) < 0)
        use_cache = false;
    if (use_cache) {
        int lr = sw_sig_cache_load(cache_dir, key, jobs, SW_BUF_COUNT, note, sizeof(note));
        if (lr == 1) {
            rep->cache_hit = true;
            SW_CTR_SET(e->ctr, SW_SIGE_CACHE_HITS, 1);
            return 0;
        }
        SW_CTR_SET(e->ctr, SW_SIGE_CACHE_MISSES, 1);
    }
    char err[256];
    for (int b = 0; b < SW_BUF_COUNT; b++) {
        err[0] = 0;
        if (compile_job(&jobs[b], err, sizeof(err)) < 0) {
            snprintf(rep->fatal, sizeof(rep->fatal), "buffer %d: %.200s", b, err);
            return -1;
        }
    }
    if (use_cache) {
        char werr[sizeof(rep->cache_note)] = "";
        if (sw_sig_cache_store(cache_dir, key, jobs, SW_BUF_COUNT, werr, sizeof(werr)) < 0)
            snprintf(note + strlen(note), sizeof(note) - strlen(note), "%s%s",
                     note[0] ? "; " : "", werr);
    }
    snprintf(rep->cache_note, sizeof(rep->cache_note), "%s", note);
    return 0;
}

void sw_sig_engine_free(sw_sig_engine *e)
{
    if (!e)
        return;
    for (uint32_t i = 0; i < e->n_rules; i++)
        sw_rule_free(e->rules[i]);
    free(e->rules);
    for (int b = 0; b < SW_BUF_COUNT; b++) {
        hs_free_database(e->db[b].db);
        free(e->db[b].pat_start);
        free(e->db[b].rule_ids);
    }
    free(e->always);
    sw_classes_free(e->classes);
    for (size_t i = 0; i < e->n_files; i++)
        free(e->files[i]);
    free(e->files);
    free(e->thr);
    pthread_mutex_destroy(&e->thr_lock);
    free(e->xb);
    pthread_mutex_destroy(&e->xb_lock);
    free(e);
}

/* Shared by the file and string entry points: src_fn feeds rule_vec. */
typedef void (*feed_fn)(const sw_parse_ctx *pc, void *arg, sw_sig_engine *e, rule_vec *rv,
                        sw_sig_report *rep);

static sw_sig_engine *build(const sw_sig_config *cfg_in, feed_fn feed, void *arg,
                            sw_sig_report *rep)
{
    sw_sig_config defcfg;
    if (!cfg_in) {
        sw_sig_config_defaults(&defcfg);
        cfg_in = &defcfg;
    }
    memset(rep, 0, sizeof(*rep));
    uint64_t t0 = now_us();
    sw_sig_engine *e = calloc(1, sizeof(*e));
    if (!e) {
        snprintf(rep->fatal, sizeof(rep->fatal), "out of memory");
        return NULL;
    }
    pthread_mutex_init(&e->thr_lock, NULL);
    pthread_mutex_init(&e->xb_lock, NULL);
    e->gen = __atomic_add_fetch(&g_engine_gen, 1, __ATOMIC_SEQ_CST);
    e->pcre_match_limit = cfg_in->pcre_match_limit ? cfg_in->pcre_match_limit : 3500;
    e->recursion_limit = cfg_in->inspection_recursion_limit ? cfg_in->inspection_recursion_limit : 3000;
    char err[256] = "";
    e->classes = sw_classes_load(cfg_in->classification_file, err, sizeof(err));
    sw_vars *vars = sw_vars_new(cfg_in);
    if (!e->classes || !vars) {
        snprintf(rep->fatal, sizeof(rep->fatal), "%s", e->classes ? "bad vars" : err);
        sw_vars_free(vars);
        sw_sig_engine_free(e);
        return NULL;
    }
    sw_parse_ctx pc = {.vars = vars, .classes = cfg_in->classification_file ? e->classes : NULL,
                       .pcre_match_limit = e->pcre_match_limit};
    rule_vec rv = {0};
    feed(&pc, arg, e, &rv, rep);
    sw_vars_free(vars);

    /* duplicate gid:sid: keep the first, as Suricata keeps one */
    for (uint32_t i = 0; i < rv.n; i++)
        rv.v[i]->idx = i;
    if (rv.n > 1) {
        qsort(rv.v, rv.n, sizeof(*rv.v), gid_sid_cmp);
        uint32_t w = 1;
        for (uint32_t i = 1; i < rv.n; i++) {
            if (rv.v[i]->gid == rv.v[w - 1]->gid && rv.v[i]->sid == rv.v[w - 1]->sid) {
                char msg[160];
                snprintf(msg, sizeof(msg), "duplicate signature %u:%u (first at %s:%d)",
                         rv.v[i]->gid, rv.v[i]->sid, rv.v[w - 1]->file, rv.v[w - 1]->line);
                rep->errors++;
                add_issue(rep, rv.v[i]->file, rv.v[i]->line, true, msg);
                sw_rule_free(rv.v[i]);
                continue;
            }
            rv.v[w++] = rv.v[i];
        }
        rv.n = w;
        qsort(rv.v, rv.n, sizeof(*rv.v), order_cmp);
    }
    e->rules = rv.v;
    e->n_rules = rv.n;
    for (uint32_t i = 0; i < rv.n; i++)
        rv.v[i]->idx = i;
    uint64_t t1 = now_us();
    rep->parse_us = t1 - t0;

    /* prefilter databases */
    e->always = calloc(e->n_rules + 1, sizeof(uint32_t));
    fp_entry *ents = calloc(e->n_rules + 1, sizeof(fp_entry));
    uint32_t *per_buf = calloc(SW_BUF_COUNT, sizeof(uint32_t));
    sw_sig_dbjob *jobs = calloc(SW_BUF_COUNT, sizeof(*jobs));
    if (!e->always || !ents || !per_buf || !jobs) {
        free(ents);
        free(per_buf);
        free(jobs);
        snprintf(rep->fatal, sizeof(rep->fatal), "out of memory");
        sw_sig_engine_free(e);
        return NULL;
    }
    for (int b = 0; b < SW_BUF_COUNT && !rep->fatal[0]; b++) {
        uint32_t n = 0;
        for (uint32_t i = 0; i < e->n_rules; i++) {
            sw_rule *r = e->rules[i];
            if (sw_rule_dotprefix(r, b))
                e->db[b].dotprefix = true;
            if (r->fp_sm < 0 || r->sm[r->fp_sm].buf != b)
                continue;
            const sw_content *c = &r->sm[r->fp_sm].u.c;
            fp_entry *fe = &ents[n++];
            fe->pat = c->pat;
            fe->len = c->len;
            if (c->flags & SW_CF_FP_CHOP) {
                fe->pat = c->pat + c->fp_chop_off;
                fe->len = c->fp_chop_len;
            }
            fe->nocase = (c->flags & SW_CF_NOCASE) != 0;
            fe->rule = i;
        }
        err[0] = 0;
        if (prep_bufdb(e, b, ents, n, &jobs[b], err, sizeof(err)) < 0)
            snprintf(rep->fatal, sizeof(rep->fatal), "buffer %d: %.200s", b, err);
        per_buf[b] = n;
    }
    if (!rep->fatal[0] && compile_all(e, cfg_in->cache_dir, jobs, rep) == 0) {
        for (int b = 0; b < SW_BUF_COUNT; b++) {
            sw_sig_bufdb *d = &e->db[b];
            d->db = jobs[b].db;
            jobs[b].db = NULL;
            for (uint32_t i = 0; i < jobs[b].n_pat; i++) {
                if (!jobs[b].dead[i])
                    continue;
                for (uint32_t j = d->pat_start[i]; j < d->pat_start[i + 1]; j++)
                    e->always[e->n_always++] = d->rule_ids[j];
            }
        }
    }
    for (int b = 0; b < SW_BUF_COUNT; b++)
        job_free(&jobs[b]);
    free(jobs);
    for (uint32_t i = 0; i < e->n_rules; i++)
        if (e->rules[i]->fp_sm < 0)
            e->always[e->n_always++] = i;
    free(ents);
    free(per_buf);
    if (rep->fatal[0]) {
        sw_sig_engine_free(e);
        return NULL;
    }
    /* always-list in rule order, so flowbit setters still come first */
    for (uint32_t i = 1; i < e->n_always; i++) {
        uint32_t v = e->always[i], j = i;
        while (j > 0 && e->always[j - 1] > v) {
            e->always[j] = e->always[j - 1];
            j--;
        }
        e->always[j] = v;
    }
    e->thr_cap = cfg_in->threshold_entries ? cfg_in->threshold_entries : 65536;
    e->thr = calloc(e->thr_cap, sizeof(sw_thr_entry));
    if (!e->thr) {
        snprintf(rep->fatal, sizeof(rep->fatal), "out of memory for the threshold table");
        sw_sig_engine_free(e);
        return NULL;
    }
    bool any_xbits = false;
    for (uint32_t i = 0; i < e->n_rules; i++) {
        any_xbits |= e->rules[i]->n_xbits > 0;
        if (e->rules[i]->stream_size_side)
            e->needs |= SW_SIG_NEEDS_STREAM_SIZE;
        if (e->rules[i]->tls_version)
            e->needs |= SW_SIG_NEEDS_TLS_VERSION;
        if (sw_rule_uses_buf(e->rules[i], SW_BUF_BASE64)) /* threads keep a decode buffer */
            e->base64_max = cfg_in->base64_max ? cfg_in->base64_max : 65536;
    }
    if (any_xbits) { /* only rulesets that use xbits pay for the table */
        e->xb_cap = cfg_in->xbits_entries ? cfg_in->xbits_entries : 65536;
        e->xb = calloc(e->xb_cap, sizeof(sw_xb_entry));
        if (!e->xb) {
            snprintf(rep->fatal, sizeof(rep->fatal), "out of memory for the xbits table");
            sw_sig_engine_free(e);
            return NULL;
        }
    }
    rep->loaded = e->n_rules;
    rep->always_rules = e->n_always;
    rep->prefilter_rules = e->n_rules - e->n_always;
    rep->compile_us = now_us() - t1;
    qsort(rep->unsupported, rep->n_unsupported, sizeof(rep->unsupported[0]), kw_cmp);
    SW_CTR_SET(e->ctr, SW_SIGE_RULES_LOADED, rep->loaded);
    SW_CTR_SET(e->ctr, SW_SIGE_RULES_SKIPPED, rep->skipped);
    SW_CTR_SET(e->ctr, SW_SIGE_RULES_FAILED, rep->errors);
    return e;
}

static int keep_name(sw_sig_engine *e, const char *name, const char **out)
{
    char **p = realloc(e->files, (e->n_files + 1) * sizeof(char *));
    if (!p)
        return -1;
    e->files = p;
    if (!(p[e->n_files] = strdup(name)))
        return -1;
    *out = p[e->n_files++];
    return 0;
}

typedef struct files_arg {
    const char *const *files;
    size_t n;
} files_arg;

static void feed_files(const sw_parse_ctx *pc, void *arg, sw_sig_engine *e, rule_vec *rv,
                       sw_sig_report *rep)
{
    files_arg *fa = arg;
    for (size_t i = 0; i < fa->n; i++) {
        const char *name;
        if (keep_name(e, fa->files[i], &name) < 0) {
            snprintf(rep->fatal, sizeof(rep->fatal), "out of memory");
            return;
        }
        FILE *f = fopen(fa->files[i], "r");
        if (!f) {
            char msg[160];
            snprintf(msg, sizeof(msg), "cannot open: %s", strerror(errno));
            rep->files_failed++;
            add_issue(rep, fa->files[i], 0, true, msg);
            continue;
        }
        load_stream(pc, f, name, rv, rep);
        fclose(f);
    }
}

typedef struct str_arg {
    const char *name, *text;
} str_arg;

static void feed_string(const sw_parse_ctx *pc, void *arg, sw_sig_engine *e, rule_vec *rv,
                        sw_sig_report *rep)
{
    str_arg *sa = arg;
    const char *name;
    if (keep_name(e, sa->name ? sa->name : "<string>", &name) < 0) {
        snprintf(rep->fatal, sizeof(rep->fatal), "out of memory");
        return;
    }
    size_t n = strlen(sa->text);
    if (n == 0)
        return;
    FILE *f = fmemopen((void *)sa->text, n, "r");
    if (!f) {
        snprintf(rep->fatal, sizeof(rep->fatal), "fmemopen failed");
        return;
    }
    load_stream(pc, f, name, rv, rep);
    fclose(f);
}

sw_sig_engine *sw_sig_engine_build(const sw_sig_config *cfg, const char *const *rule_files,
                                   size_t n_files, sw_sig_report *report)
{
    files_arg fa = {rule_files, n_files};
    return build(cfg, feed_files, &fa, report);
}

sw_sig_engine *sw_sig_engine_build_string(const sw_sig_config *cfg, const char *name,
                                          const char *rules, sw_sig_report *report)
{
    str_arg sa = {name, rules ? rules : ""};
    return build(cfg, feed_string, &sa, report);
}

uint32_t sw_sig_engine_rule_count(const sw_sig_engine *e)
{
    return e ? e->n_rules : 0;
}

uint64_t sw_sig_engine_generation(const sw_sig_engine *e)
{
    return e ? e->gen : 0;
}

sw_ctr_group sw_sig_engine_counters(const sw_sig_engine *e)
{
    static const char *const names[] = {
#define SW_SIG_X_NAME(id, name) name,
        SW_SIG_ENGINE_COUNTERS(SW_SIG_X_NAME)};
    sw_ctr_group g = {names, e->ctr, SW_SIGE_COUNT};
    return g;
}

/* ---- threads ---- */

uint32_t sw_sig_engine_needs(const sw_sig_engine *e) { return e ? e->needs : 0; }

sw_sig_thread *sw_sig_thread_new(const sw_sig_engine *e)
{
    sw_sig_thread *t = calloc(1, sizeof(*t));
    if (!t)
        return NULL;
    t->md = pcre2_match_data_create(1, NULL);
    t->mctx = pcre2_match_context_create(NULL);
    t->jit = pcre2_jit_stack_create(32 * 1024, 512 * 1024, NULL);
    if (!t->md || !t->mctx || !t->jit || (e && sw_sig_thread_sync(t, e) < 0)) {
        sw_sig_thread_free(t);
        return NULL;
    }
    pcre2_jit_stack_assign(t->mctx, NULL, t->jit);
    return t;
}

int sw_sig_thread_sync(sw_sig_thread *t, const sw_sig_engine *e)
{
    if (t->gen == e->gen)
        return 0;
    for (int b = 0; b < SW_BUF_COUNT; b++) {
        /* hs_alloc_scratch grows an existing scratch to fit each database */
        if (e->db[b].db && hs_alloc_scratch(e->db[b].db, &t->scratch) != HS_SUCCESS)
            return -1;
    }
    if (e->base64_max > t->b64_cap) {
        uint8_t *b = realloc(t->b64, e->base64_max);
        if (!b)
            return -1;
        t->b64 = b;
        t->b64_cap = e->base64_max;
    }
    if (e->n_rules > t->cap_rules) {
        uint32_t *s = realloc(t->stamp, e->n_rules * sizeof(uint32_t));
        if (!s)
            return -1;
        t->stamp = s;
        uint32_t *c = realloc(t->cand, e->n_rules * sizeof(uint32_t));
        if (!c)
            return -1;
        t->cand = c;
        t->cap_rules = e->n_rules;
    }
    if (t->stamp)
        memset(t->stamp, 0, t->cap_rules * sizeof(uint32_t));
    t->cur_stamp = 0;
    pcre2_set_match_limit(t->mctx, e->pcre_match_limit);
    t->gen = e->gen;
    return 0;
}

void sw_sig_thread_free(sw_sig_thread *t)
{
    if (!t)
        return;
    hs_free_scratch(t->scratch);
    free(t->stamp);
    free(t->cand);
    pcre2_match_data_free(t->md);
    pcre2_match_context_free(t->mctx);
    pcre2_jit_stack_free(t->jit);
    free(t->dotbuf);
    free(t->b64);
    free(t);
}

sw_ctr_group sw_sig_thread_counters(const sw_sig_thread *t)
{
    static const char *const names[] = {
#define SW_SIG_X_NAME2(id, name) name,
        SW_SIG_THREAD_COUNTERS(SW_SIG_X_NAME2)};
    sw_ctr_group g = {names, t->ctr, SW_SIGC_COUNT};
    return g;
}

/* ---- alert output helpers ---- */

void sw_sig_alert_metadata_json(const sw_rule *r, sw_json *j)
{
    if (!r || r->n_meta == 0)
        return;
    swj_open_object(j, "metadata");
    for (int i = 0; i < r->n_meta; i++) {
        bool seen = false;
        for (int k = 0; k < i && !seen; k++)
            seen = strcmp(r->meta[k].key, r->meta[i].key) == 0;
        if (seen)
            continue;
        swj_open_array(j, r->meta[i].key);
        for (int k = i; k < r->n_meta; k++)
            if (strcmp(r->meta[k].key, r->meta[i].key) == 0)
                swj_str(j, NULL, r->meta[k].value);
        swj_close_array(j);
    }
    swj_close_object(j);
}

const char *sw_sig_rule_text(const sw_rule *r)
{
    return r && r->text ? r->text : "";
}
