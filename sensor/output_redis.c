/* Redis EVE output (hiredis 0.14): RPUSH/LPUSH to a list, PUBLISH to a
 * channel, or XADD to a stream.
 *
 * List and stream writes go in batches of redis_batch lines through one
 * Lua script call that is idempotent: every line carries a sequence number
 * and the script skips numbers at or below the one stored in
 * "<key>:spanwatch-seq". A line counts as delivered only when the reply
 * arrived; when Redis dies after executing a batch but before replying,
 * the resent batch is skipped instead of doubled, so the receiver sees
 * every event exactly once. PUBLISH has no storage to deduplicate against
 * and is sent as plain pipelined commands. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <hiredis/hiredis.h>

#include "sensor/output.h"

typedef struct rd {
    sw_output_config c;
    redisContext *ctx;
    size_t *lend; /* line ends of one pipeline round */
    const char **argv;
    size_t *argl;
    char seqkey[300];
    uint64_t next_seq; /* sequence number of the next undelivered line */
    bool synced;
} rd;

/* KEYS[1] target, KEYS[2] sequence key; ARGV[1] first sequence number,
 * ARGV[2..] lines. pcall so a refused line (WRONGTYPE) neither aborts the
 * batch half-applied nor is retried: it is counted in the reply. */
#define RD_SCRIPT(CALL)                                                          \
    "local last = tonumber(redis.call('GET', KEYS[2]) or '0') "                  \
    "local first = tonumber(ARGV[1]) local bad = 0 "                             \
    "for i = 2, #ARGV do if first + i - 2 > last then "                         \
    "local r = redis.pcall(" CALL ") "                                           \
    "if type(r) == 'table' and r.err then bad = bad + 1 end end end "            \
    "if first + #ARGV - 2 > last then redis.call('SET', KEYS[2], first + #ARGV - 2) end " \
    "return bad"
static const char *const rd_scripts[] = {
    [SW_REDIS_RPUSH] = RD_SCRIPT("'RPUSH', KEYS[1], ARGV[i]"),
    [SW_REDIS_LPUSH] = RD_SCRIPT("'LPUSH', KEYS[1], ARGV[i]"),
    [SW_REDIS_PUBLISH] = NULL,
    [SW_REDIS_XADD] = RD_SCRIPT("'XADD', KEYS[1], '*', 'event', ARGV[i]"),
};

static void *rd_create(const sw_output_config *c, char *err, size_t errlen)
{
    rd *r = calloc(1, sizeof(*r));
    size_t nb = c->redis_batch ? c->redis_batch : 1;
    if (r) {
        r->lend = calloc(nb, sizeof(size_t));
        r->argv = calloc(nb + 6, sizeof(char *));
        r->argl = calloc(nb + 6, sizeof(size_t));
    }
    if (!r || !r->lend || !r->argv || !r->argl) {
        if (r) {
            free(r->lend);
            free(r->argv);
            free(r->argl);
        }
        free(r);
        snprintf(err, errlen, "output %s: out of memory", c->name);
        return NULL;
    }
    r->c = *c;
    if (!r->c.redis_batch)
        r->c.redis_batch = 1;
    snprintf(r->seqkey, sizeof(r->seqkey), "%s:spanwatch-seq", c->redis_key);
    return r;
}

static void rd_disconnect(void *t)
{
    rd *r = t;
    if (r->ctx)
        redisFree(r->ctx);
    r->ctx = NULL;
}

static void rd_destroy(void *t)
{
    rd *r = t;
    rd_disconnect(r);
    free(r->lend);
    free(r->argv);
    free(r->argl);
    free(r);
}

static int rd_connect(void *t, char *err, size_t errlen)
{
    rd *r = t;
    struct timeval tv = {.tv_sec = (time_t)(r->c.timeout_us / 1000000u),
                         .tv_usec = (suseconds_t)(r->c.timeout_us % 1000000u)};
    r->ctx = redisConnectWithTimeout(r->c.server, r->c.port, tv);
    if (!r->ctx || r->ctx->err) {
        snprintf(err, errlen, "redis %s:%u: %s", r->c.server, r->c.port,
                 r->ctx ? r->ctx->errstr : "out of memory");
        return -1;
    }
    redisSetTimeout(r->ctx, tv);
    if (!r->synced && rd_scripts[r->c.redis_mode]) {
        /* Continue numbering after what a previous run delivered. */
        redisReply *rep = redisCommand(r->ctx, "GET %s", r->seqkey);
        if (!rep) {
            snprintf(err, errlen, "redis: %s", r->ctx->errstr);
            return -1;
        }
        r->next_seq = (rep->type == REDIS_REPLY_STRING ? strtoull(rep->str, NULL, 10) : 0) + 1;
        freeReplyObject(rep);
        r->synced = true;
    }
    return 0;
}

static int rd_send_script(rd *r, const char *buf, size_t len, size_t *done, uint64_t *rej)
{
    while (*done < len) {
        size_t k = 0, off = *done;
        char seq[24];
        snprintf(seq, sizeof(seq), "%llu", (unsigned long long)r->next_seq);
        r->argv[0] = "EVAL";
        r->argv[1] = rd_scripts[r->c.redis_mode];
        r->argv[2] = "2";
        r->argv[3] = r->c.redis_key;
        r->argv[4] = r->seqkey;
        r->argv[5] = seq;
        for (int i = 0; i < 6; i++)
            r->argl[i] = strlen(r->argv[i]);
        while (off < len && k < r->c.redis_batch) {
            const char *l = buf + off;
            const char *nl = memchr(l, '\n', len - off);
            size_t n = nl ? (size_t)(nl - l) : len - off;
            r->argv[6 + k] = l;
            r->argl[6 + k] = n;
            off += n + (nl ? 1 : 0);
            k++;
        }
        redisReply *rep = redisCommandArgv(r->ctx, (int)(6 + k), r->argv, r->argl);
        if (!rep)
            return -1;
        bool ok = rep->type == REDIS_REPLY_INTEGER;
        if (ok)
            *rej += (uint64_t)rep->integer;
        freeReplyObject(rep);
        if (!ok)
            return -1; /* script refused (e.g. NOSCRIPT, OOM): retry later */
        r->next_seq += k;
        *done = off;
    }
    return 0;
}

static int rd_append(rd *r, const char *l, size_t n)
{
    const char *key = r->c.redis_key;
    switch (r->c.redis_mode) {
    case SW_REDIS_LPUSH:
        return redisAppendCommand(r->ctx, "LPUSH %s %b", key, l, n);
    case SW_REDIS_PUBLISH:
        return redisAppendCommand(r->ctx, "PUBLISH %s %b", key, l, n);
    case SW_REDIS_XADD:
        return redisAppendCommand(r->ctx, "XADD %s * event %b", key, l, n);
    default:
        return redisAppendCommand(r->ctx, "RPUSH %s %b", key, l, n);
    }
}

static int rd_send(void *t, const char *buf, size_t len, size_t *done, uint64_t *rej)
{
    rd *r = t;
    *done = 0;
    if (rd_scripts[r->c.redis_mode])
        return rd_send_script(r, buf, len, done, rej);
    while (*done < len) {
        size_t k = 0, off = *done;
        while (off < len && k < r->c.redis_batch) {
            const char *l = buf + off;
            const char *nl = memchr(l, '\n', len - off);
            size_t n = nl ? (size_t)(nl - l) : len - off;
            if (rd_append(r, l, n) != REDIS_OK)
                return -1;
            off += n + (nl ? 1 : 0);
            r->lend[k++] = off;
        }
        for (size_t i = 0; i < k; i++) {
            redisReply *rep = NULL;
            if (redisGetReply(r->ctx, (void **)&rep) != REDIS_OK || !rep) {
                *done = i ? r->lend[i - 1] : *done;
                return -1;
            }
            /* WRONGTYPE and the like will fail the same way forever:
             * count the line as rejected rather than retry it. */
            if (rep->type == REDIS_REPLY_ERROR)
                (*rej)++;
            freeReplyObject(rep);
            *done = r->lend[i];
        }
    }
    return 0;
}

const sw_transport sw_transport_redis = {rd_create, rd_connect, rd_send, rd_disconnect,
                                         rd_destroy};
