/* Live rule reload: epoch-based reclamation of swapped-out engines.
 *
 * Publishing is one atomic exchange; readers pay one atomic load per packet
 * and one store at their quiescent point. An engine retired at epoch E is
 * freed once every online worker has announced an epoch >= E, i.e. has
 * passed a quiescent point after the swap and so can no longer hold it. */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/sig_engine.h"

#define OFFLINE UINT64_MAX

typedef struct retired {
    sw_sig_engine *e;
    uint64_t epoch;
    struct retired *next;
} retired;

typedef struct worker_slot {
    uint64_t epoch;
    char pad[56]; /* one cache line per worker: no false sharing */
} worker_slot;

struct sw_sig_manager {
    sw_sig_engine *cur; /* atomic */
    uint64_t epoch;     /* atomic */
    int n_workers;
    worker_slot *w;
    pthread_mutex_t lock; /* retired list, swaps, reload state */
    retired *ret;
    /* background reload */
    pthread_t th;
    bool running; /* under lock */
    bool joined;
    sw_sig_config cfg;
    char **cfg_strings;
    size_t n_cfg_strings;
    char **files;
    size_t n_files;
    sw_sig_report report;
    int result;
    uint64_t reloads;
};

sw_sig_manager *sw_sig_manager_new(sw_sig_engine *initial, int n_workers)
{
    if (n_workers < 0)
        return NULL;
    sw_sig_manager *m = calloc(1, sizeof(*m));
    if (!m)
        return NULL;
    m->w = calloc((size_t)n_workers + 1, sizeof(worker_slot));
    if (!m->w) {
        free(m);
        return NULL;
    }
    m->n_workers = n_workers;
    m->cur = initial;
    m->joined = true;
    pthread_mutex_init(&m->lock, NULL);
    return m;
}

static void free_reload_args(sw_sig_manager *m)
{
    for (size_t i = 0; i < m->n_cfg_strings; i++)
        free(m->cfg_strings[i]);
    free(m->cfg_strings);
    m->cfg_strings = NULL;
    m->n_cfg_strings = 0;
    for (size_t i = 0; i < m->n_files; i++)
        free(m->files[i]);
    free(m->files);
    m->files = NULL;
    m->n_files = 0;
}

void sw_sig_manager_free(sw_sig_manager *m)
{
    if (!m)
        return;
    if (!m->joined)
        pthread_join(m->th, NULL);
    free_reload_args(m);
    sw_sig_engine_free(m->cur);
    retired *r = m->ret;
    while (r) {
        retired *n = r->next;
        sw_sig_engine_free(r->e);
        free(r);
        r = n;
    }
    pthread_mutex_destroy(&m->lock);
    free(m->w);
    free(m);
}

const sw_sig_engine *sw_sig_manager_current(sw_sig_manager *m)
{
    return __atomic_load_n(&m->cur, __ATOMIC_SEQ_CST);
}

void sw_sig_manager_quiescent(sw_sig_manager *m, int worker_id)
{
    if (worker_id < 0 || worker_id >= m->n_workers)
        return;
    uint64_t e = __atomic_load_n(&m->epoch, __ATOMIC_SEQ_CST);
    __atomic_store_n(&m->w[worker_id].epoch, e, __ATOMIC_SEQ_CST);
}

void sw_sig_manager_offline(sw_sig_manager *m, int worker_id)
{
    if (worker_id < 0 || worker_id >= m->n_workers)
        return;
    __atomic_store_n(&m->w[worker_id].epoch, OFFLINE, __ATOMIC_SEQ_CST);
}

static int collect_locked(sw_sig_manager *m)
{
    uint64_t min = OFFLINE;
    for (int i = 0; i < m->n_workers; i++) {
        uint64_t e = __atomic_load_n(&m->w[i].epoch, __ATOMIC_SEQ_CST);
        if (e < min)
            min = e;
    }
    int left = 0;
    retired **pp = &m->ret;
    while (*pp) {
        retired *r = *pp;
        if (r->epoch <= min) {
            *pp = r->next;
            sw_sig_engine_free(r->e);
            free(r);
        } else {
            left++;
            pp = &r->next;
        }
    }
    return left;
}

int sw_sig_manager_collect(sw_sig_manager *m)
{
    pthread_mutex_lock(&m->lock);
    int left = collect_locked(m);
    pthread_mutex_unlock(&m->lock);
    return left;
}

void sw_sig_manager_swap(sw_sig_manager *m, sw_sig_engine *e)
{
    retired *r = calloc(1, sizeof(*r));
    pthread_mutex_lock(&m->lock);
    sw_sig_engine_carry_state(e, __atomic_load_n(&m->cur, __ATOMIC_SEQ_CST));
    sw_sig_engine *old = __atomic_exchange_n(&m->cur, e, __ATOMIC_SEQ_CST);
    uint64_t ep = __atomic_add_fetch(&m->epoch, 1, __ATOMIC_SEQ_CST);
    if (old) {
        if (r) {
            r->e = old;
            r->epoch = ep;
            r->next = m->ret;
            m->ret = r;
            r = NULL;
        } else {
            /* cannot queue it: leaking beats freeing under a reader */
        }
    }
    collect_locked(m);
    pthread_mutex_unlock(&m->lock);
    free(r);
}

uint64_t sw_sig_manager_reloads(const sw_sig_manager *m)
{
    return __atomic_load_n(&m->reloads, __ATOMIC_SEQ_CST);
}

static void *reload_main(void *arg)
{
    sw_sig_manager *m = arg;
    sw_sig_report *rep = malloc(sizeof(*rep));
    if (!rep) {
        pthread_mutex_lock(&m->lock);
        memset(&m->report, 0, sizeof(m->report));
        snprintf(m->report.fatal, sizeof(m->report.fatal), "out of memory");
        m->result = 0;
        m->running = false;
        pthread_mutex_unlock(&m->lock);
        return NULL;
    }
    sw_sig_engine *e = sw_sig_engine_build(&m->cfg, (const char *const *)m->files, m->n_files, rep);
    int result = 0;
    if (e && rep->loaded > 0 && rep->files_failed == 0 && !rep->fatal[0]) {
        sw_sig_manager_swap(m, e);
        __atomic_add_fetch(&m->reloads, 1, __ATOMIC_SEQ_CST);
        result = 1;
    } else {
        if (!rep->fatal[0])
            snprintf(rep->fatal, sizeof(rep->fatal), "%s",
                     rep->files_failed ? "a rule file could not be read; old rules kept"
                                       : "no rule loaded; old rules kept");
        sw_sig_engine_free(e);
    }
    pthread_mutex_lock(&m->lock);
    m->report = *rep;
    m->result = result;
    m->running = false;
    pthread_mutex_unlock(&m->lock);
    free(rep);
    return NULL;
}

static char *keep(sw_sig_manager *m, const char *s)
{
    if (!s)
        return NULL;
    char **p = realloc(m->cfg_strings, (m->n_cfg_strings + 1) * sizeof(char *));
    if (!p)
        return NULL;
    m->cfg_strings = p;
    char *d = strdup(s);
    if (d)
        p[m->n_cfg_strings++] = d;
    return d;
}

int sw_sig_manager_reload_async(sw_sig_manager *m, const sw_sig_config *cfg,
                                const char *const *rule_files, size_t n_files)
{
    pthread_mutex_lock(&m->lock);
    if (m->running || !m->joined) {
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    free_reload_args(m);
    if (cfg)
        m->cfg = *cfg;
    else
        sw_sig_config_defaults(&m->cfg);
    bool oom = false;
    if (cfg) {
        if (cfg->classification_file)
            oom |= !(m->cfg.classification_file = keep(m, cfg->classification_file));
        if (cfg->cache_dir)
            oom |= !(m->cfg.cache_dir = keep(m, cfg->cache_dir));
        for (size_t i = 0; i < cfg->n_addr_vars && i < SW_SIG_MAX_VARS; i++) {
            oom |= !(m->cfg.addr_vars[i].name = keep(m, cfg->addr_vars[i].name));
            oom |= !(m->cfg.addr_vars[i].value = keep(m, cfg->addr_vars[i].value));
        }
        for (size_t i = 0; i < cfg->n_port_vars && i < SW_SIG_MAX_VARS; i++) {
            oom |= !(m->cfg.port_vars[i].name = keep(m, cfg->port_vars[i].name));
            oom |= !(m->cfg.port_vars[i].value = keep(m, cfg->port_vars[i].value));
        }
    }
    m->files = calloc(n_files + 1, sizeof(char *));
    oom |= !m->files;
    for (size_t i = 0; m->files && i < n_files; i++) {
        oom |= !(m->files[i] = strdup(rule_files[i]));
        m->n_files = i + 1;
    }
    if (oom || pthread_create(&m->th, NULL, reload_main, m) != 0) {
        free_reload_args(m);
        pthread_mutex_unlock(&m->lock);
        return -1;
    }
    m->running = true;
    m->joined = false;
    pthread_mutex_unlock(&m->lock);
    return 0;
}

int sw_sig_manager_reload_wait(sw_sig_manager *m, sw_sig_report *report)
{
    pthread_mutex_lock(&m->lock);
    bool joined = m->joined;
    pthread_mutex_unlock(&m->lock);
    if (joined)
        return -1;
    pthread_join(m->th, NULL);
    pthread_mutex_lock(&m->lock);
    m->joined = true;
    int r = m->result;
    if (report)
        *report = m->report;
    free_reload_args(m);
    pthread_mutex_unlock(&m->lock);
    return r;
}
