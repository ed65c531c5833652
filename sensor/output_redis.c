/* Redis EVE output (hiredis 0.14): RPUSH/LPUSH to a list, PUBLISH to a
 * channel, or XADD to a stream, pipelined: up to redis_batch commands are
 * appended, then their replies read. A line counts as delivered only when
 * its reply arrived, so a connection lost mid-batch resends exactly the
 * lines without a reply. */
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
} rd;

static void *rd_create(const sw_output_config *c, char *err, size_t errlen)
{
    rd *r = calloc(1, sizeof(*r));
    if (r)
        r->lend = calloc(c->redis_batch ? c->redis_batch : 1, sizeof(size_t));
    if (!r || !r->lend) {
        free(r);
        snprintf(err, errlen, "output %s: out of memory", c->name);
        return NULL;
    }
    r->c = *c;
    if (!r->c.redis_batch)
        r->c.redis_batch = 1;
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
