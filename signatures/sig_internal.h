/* Engine and per-thread structures shared by sig_compile.c and sig_match.c. */
#ifndef SW_SIG_INTERNAL_H
#define SW_SIG_INTERNAL_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <hs.h>
#include <pcre2.h>
#include <pthread.h>

#include "signatures/rule.h"
#include "signatures/sig_engine.h"

typedef struct sw_sig_bufdb {
    hs_database_t *db; /* NULL: no prefilter rule on this buffer */
    uint32_t n_pat;
    uint32_t *pat_start; /* n_pat + 1 offsets into rule_ids */
    uint32_t *rule_ids;
    bool dotprefix; /* scan the buffer with a '.' in front */
} sw_sig_bufdb;

typedef struct sw_thr_entry {
    uint32_t sid, gid;
    uint8_t family, track, used;
    uint8_t a[16], b[16];
    uint32_t count;
    uint64_t first_us;
} sw_thr_entry;

typedef struct sw_xb_entry {
    uint32_t id;
    uint8_t used, family, pair;
    uint8_t a[16], b[16];
    uint64_t expire_us;
} sw_xb_entry;

struct sw_sig_engine {
    uint64_t gen;
    sw_rule **rules;
    uint32_t n_rules;
    sw_sig_bufdb db[SW_BUF_COUNT];
    uint32_t *always; /* rules without a usable fast pattern */
    uint32_t n_always;
    sw_classes *classes;
    char **files;
    size_t n_files;
    uint32_t pcre_match_limit;
    uint32_t recursion_limit;
    uint32_t base64_max; /* 0: no rule decodes base64 */
    uint32_t needs;      /* SW_SIG_NEEDS_* of the rules */
    pthread_mutex_t thr_lock;
    sw_thr_entry *thr;
    uint32_t thr_cap;
    pthread_mutex_t xb_lock;
    sw_xb_entry *xb; /* detect.xbits.max-entries bits, open addressing */
    uint32_t xb_cap;
    uint64_t ctr[SW_SIGE_COUNT];
};

struct sw_sig_thread {
    uint64_t gen;
    hs_scratch_t *scratch;
    uint32_t *stamp; /* per rule: last cur_stamp it was queued in */
    uint32_t *cand;
    uint32_t cap_rules;
    uint32_t cur_stamp;
    uint32_t n_cand;
    const sw_sig_bufdb *scan_db; /* during a scan callback */
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *jit;
    uint8_t *dotbuf;
    size_t dotcap;
    uint32_t budget;
    uint64_t vars[SW_RULE_MAX_VARS]; /* byte_extract values on the current path */
    uint8_t *b64;     /* base64_data of the rule being inspected */
    uint32_t b64_len, b64_cap;
    uint64_t ctr[SW_SIGC_COUNT];
};

/* One buffer's hs_compile_multi input and result, the unit of the on-disk
 * database cache (sig_cache.c). dead[i]: pattern i was rejected by Hyperscan
 * and its rules run without a prefilter. */
typedef struct sw_sig_dbjob {
    char **exprs;
    unsigned *flags;
    unsigned *ids;
    bool *dead;
    uint32_t n_pat;
    hs_database_t *db; /* owned by the engine once the build succeeds */
} sw_sig_dbjob;

/* SHA-256 over every job's patterns, hs_version() and the host platform. */
int sw_sig_cache_key(const sw_sig_dbjob *jobs, int n_jobs, uint8_t key[32], char *err,
                     size_t errlen);
/* 1: every job's db and dead[] filled from the cache; 0: no file for the key;
 * -1: a file exists but is unusable (err says why), nothing is filled. */
int sw_sig_cache_load(const char *dir, const uint8_t key[32], sw_sig_dbjob *jobs, int n_jobs,
                      char *err, size_t errlen);
/* Writes the file for key atomically (temp file + rename); 0 or -1 + err. */
int sw_sig_cache_store(const char *dir, const uint8_t key[32], const sw_sig_dbjob *jobs,
                       int n_jobs, char *err, size_t errlen);

/* Threshold decision for a rule that matched: true = alert. */
/* xbits: whether the rule's isset/isnotset conditions hold, and applying
 * its set/unset/toggle after it matched. Thread-safe. */
bool sw_sig_xbits_ok(const sw_sig_engine *e, const sw_rule *r, const sw_detect_input *in);
void sw_sig_xbits_apply(const sw_sig_engine *e, const sw_rule *r, const sw_detect_input *in);
bool sw_sig_threshold_check(const sw_sig_engine *e, const sw_rule *r, const sw_detect_input *in);

#endif
