/* Network outputs against real receivers: a real redis-server (started
 * here, AOF on so a SIGKILL loses nothing it acknowledged) and an RFC 6587
 * syslog receiver / unix-stream receiver run in a thread of this test. Each
 * receiver is killed and restarted in the middle of the stream; every line
 * must arrive exactly once and in order, via the disk spool. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <hiredis/hiredis.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sensor/output.h"
#include "tests/unit/testutil.h"

static char g_dir[64];

static int setup(void **state)
{
    (void)state;
    signal(SIGPIPE, SIG_IGN);
    return tu_mkdtemp(g_dir, sizeof(g_dir), "sw-onet");
}

static int teardown(void **state)
{
    (void)state;
    return tu_rmrf(g_dir);
}

static uint64_t ctr(const sw_outputs *o, const char *name)
{
    return tu_ctr(sw_outputs_counters(o), name);
}

static void write_range(sw_outputs *o, int from, int to)
{
    char line[128];
    for (int i = from; i < to; i++) {
        int n = snprintf(line, sizeof(line),
                         "{\"timestamp\":\"2026-11-21T09:13:05.%06d+0000\",\"seq\":%d}\n", i % 1000000, i);
        sw_outputs_write(o, line, (size_t)n);
    }
}

static int seq_of(const char *s)
{
    const char *p = strstr(s, "\"seq\":");
    return p ? atoi(p + 6) : -1;
}

/* ------------------------------------------------------------ redis */

static int free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(fd, (struct sockaddr *)&sa, sizeof(sa));
    socklen_t l = sizeof(sa);
    getsockname(fd, (struct sockaddr *)&sa, &l);
    close(fd);
    return ntohs(sa.sin_port);
}

static pid_t redis_start(int port, const char *dir)
{
    pid_t pid = fork();
    if (pid == 0) {
        char p[16];
        snprintf(p, sizeof(p), "%d", port);
        int dn = open("/dev/null", O_WRONLY);
        dup2(dn, 1);
        execlp("redis-server", "redis-server", "--port", p, "--bind", "127.0.0.1", "--dir", dir,
               "--save", "", "--appendonly", "yes", "--appendfsync", "always", (char *)NULL);
        _exit(127);
    }
    /* Wait (bounded by attempts, not by a clock) until it answers. */
    for (int k = 0; k < 500; k++) {
        redisContext *c = redisConnect("127.0.0.1", port);
        bool ok = c && !c->err;
        if (ok) {
            redisReply *r = redisCommand(c, "PING");
            ok = r && r->type == REDIS_REPLY_STATUS;
            if (r)
                freeReplyObject(r);
        }
        if (c)
            redisFree(c);
        if (ok)
            return pid;
        usleep(20000);
    }
    return -1;
}

static void redis_kill(pid_t pid)
{
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
}

static void test_redis_kill_restart(void **state)
{
    (void)state;
    if (system("command -v redis-server >/dev/null") != 0) {
        skip();
    }
    char rdir[128];
    snprintf(rdir, sizeof(rdir), "%s/redis", g_dir);
    mkdir(rdir, 0755);
    int port = free_port();
    pid_t rp = redis_start(port, rdir);
    assert_true(rp > 0);

    sw_outputs_config c;
    memset(&c, 0, sizeof(c));
    c.n = 2;
    sw_output_config_defaults(&c.out[0], SW_OUT_REGULAR);
    sw_output_config_defaults(&c.out[1], SW_OUT_REDIS);
    c.out[1].port = (uint16_t)port;
    c.out[1].redis_batch = 64;
    c.out[1].reconnect_max_us = 100000;
    c.out[1].close_timeout_us = 60000000;
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, g_dir, err, sizeof(err));
    assert_non_null(o);

    write_range(o, 0, 3000);
    sw_outputs_flush(o);
    assert_int_equal(ctr(o, "spanwatch.output.redis.sent"), 3000);
    redis_kill(rp);
    write_range(o, 3000, 6000); /* receiver down: spooled */
    sw_outputs_flush(o);
    assert_true(ctr(o, "spanwatch.output.redis.spooled") >= 3000);
    assert_true(ctr(o, "spanwatch.output.redis.spool_bytes") > 0);
    rp = redis_start(port, rdir);
    assert_true(rp > 0);
    write_range(o, 6000, 9000);
    sw_outputs_close(o); /* drains the spool, then exits */

    redisContext *rc = redisConnect("127.0.0.1", port);
    assert_true(rc && !rc->err);
    redisReply *r = redisCommand(rc, "LRANGE spanwatch 0 -1");
    assert_non_null(r);
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 9000);
    for (size_t i = 0; i < r->elements; i++)
        assert_int_equal(seq_of(r->element[i]->str), (int)i);
    freeReplyObject(r);
    redisFree(rc);
    redis_kill(rp);
}

/* Spool left on disk by a run that could not deliver is delivered first by
 * the next run; XADD and PUBLISH modes produce the right commands. */
static void test_redis_leftover_and_modes(void **state)
{
    (void)state;
    if (system("command -v redis-server >/dev/null") != 0)
        skip();
    char rdir[128], ldir[128];
    snprintf(rdir, sizeof(rdir), "%s/redis2", g_dir);
    snprintf(ldir, sizeof(ldir), "%s/log2", g_dir);
    mkdir(rdir, 0755);
    mkdir(ldir, 0755);
    int port = free_port();
    sw_outputs_config c;
    memset(&c, 0, sizeof(c));
    c.n = 1;
    sw_output_config_defaults(&c.out[0], SW_OUT_REDIS);
    c.out[0].port = (uint16_t)port;
    c.out[0].redis_mode = SW_REDIS_XADD;
    c.out[0].close_timeout_us = 0; /* nobody listening: leave it on disk */
    c.out[0].reconnect_max_us = 100000;
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, ldir, err, sizeof(err));
    assert_non_null(o);
    write_range(o, 0, 500);
    sw_outputs_close(o);

    pid_t rp = redis_start(port, rdir);
    assert_true(rp > 0);
    c.out[0].close_timeout_us = 60000000;
    o = sw_outputs_open(&c, ldir, err, sizeof(err));
    assert_non_null(o);
    assert_true(ctr(o, "spanwatch.output.redis.spool_bytes") > 0);
    write_range(o, 500, 1000);
    sw_outputs_close(o);

    redisContext *rc = redisConnect("127.0.0.1", port);
    redisReply *r = redisCommand(rc, "XRANGE spanwatch - +");
    assert_int_equal(r->type, REDIS_REPLY_ARRAY);
    assert_int_equal(r->elements, 1000);
    for (size_t i = 0; i < r->elements; i++) {
        redisReply *fields = r->element[i]->element[1];
        assert_string_equal(fields->element[0]->str, "event");
        assert_int_equal(seq_of(fields->element[1]->str), (int)i);
    }
    freeReplyObject(r);
    /* A key of the wrong type makes Redis refuse: counted, not retried. */
    freeReplyObject(redisCommand(rc, "SET wrong x"));
    c.out[0].redis_mode = SW_REDIS_RPUSH;
    snprintf(c.out[0].redis_key, sizeof(c.out[0].redis_key), "wrong");
    o = sw_outputs_open(&c, ldir, err, sizeof(err));
    write_range(o, 0, 10);
    sw_outputs_flush(o);
    assert_int_equal(ctr(o, "spanwatch.output.redis.dropped"), 10);
    assert_int_equal(ctr(o, "spanwatch.output.redis.sent"), 0);
    sw_outputs_close(o);
    redisFree(rc);
    redis_kill(rp);
}

/* ------------------------------------------------------------ receivers */

typedef struct rx {
    int lfd;
    bool unix_stream;
    bool syslog; /* octet-counted frames */
    pthread_t thr;
    volatile bool stop;
    pthread_mutex_t mu;
    int *seqs;
    size_t n, cap;
    char *bad; /* first malformed frame, for the failure message */
} rx;

static void rx_add(rx *r, const char *msg, size_t n)
{
    char tmp[512];
    if (n >= sizeof(tmp))
        n = sizeof(tmp) - 1;
    memcpy(tmp, msg, n);
    tmp[n] = 0;
    int s = seq_of(tmp);
    if (r->syslog) {
        /* <134>1 2026-11-21T09:13:05.000001+00:00 host spanwatch pid - - {...} */
        const char *j = strchr(tmp, '{');
        if (strncmp(tmp, "<134>1 2026-11-21T09:13:05.", 27) || !strstr(tmp, "+00:00 ") ||
            !strstr(tmp, " spanwatch ") || !j || !strstr(tmp, " - - {"))
            s = -1;
    }
    pthread_mutex_lock(&r->mu);
    if (s < 0 && !r->bad)
        r->bad = strdup(tmp);
    if (r->n == r->cap) {
        r->cap = r->cap ? r->cap * 2 : 1024;
        r->seqs = realloc(r->seqs, r->cap * sizeof(int));
    }
    r->seqs[r->n++] = s;
    pthread_mutex_unlock(&r->mu);
}

static void rx_conn(rx *r, int fd)
{
    static char buf[1 << 16];
    size_t have = 0;
    for (;;) {
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, 20) == 0) {
            if (r->stop)
                break;
            continue;
        }
        ssize_t k = recv(fd, buf + have, sizeof(buf) - have, 0);
        if (k <= 0)
            break;
        have += (size_t)k;
        size_t off = 0;
        for (;;) {
            if (r->syslog) {
                char *sp = memchr(buf + off, ' ', have - off);
                if (!sp)
                    break;
                size_t len = (size_t)atoi(buf + off);
                size_t start = (size_t)(sp - buf) + 1;
                if (start + len > have)
                    break;
                rx_add(r, buf + start, len);
                off = start + len;
            } else {
                char *nl = memchr(buf + off, '\n', have - off);
                if (!nl)
                    break;
                rx_add(r, buf + off, (size_t)(nl - (buf + off)));
                off = (size_t)(nl - buf) + 1;
            }
        }
        memmove(buf, buf + off, have - off);
        have -= off;
    }
    close(fd);
}

static void *rx_main(void *arg)
{
    rx *r = arg;
    while (!r->stop) {
        struct pollfd p = {.fd = r->lfd, .events = POLLIN};
        if (poll(&p, 1, 20) <= 0)
            continue;
        int fd = accept(r->lfd, NULL, NULL);
        if (fd >= 0)
            rx_conn(r, fd);
    }
    return NULL;
}

static void rx_start(rx *r, int port, const char *upath)
{
    r->stop = false;
    if (upath) {
        r->lfd = socket(AF_UNIX, SOCK_STREAM, 0);
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", upath);
        unlink(upath);
        assert_int_equal(bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    } else {
        r->lfd = socket(AF_INET, SOCK_STREAM, 0);
        int one = 1;
        setsockopt(r->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        assert_int_equal(bind(r->lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    }
    assert_int_equal(listen(r->lfd, 8), 0);
    pthread_create(&r->thr, NULL, rx_main, r);
}

/* "Kill": the receiver goes away; whatever it had read it keeps. */
static void rx_kill(rx *r, const char *upath)
{
    r->stop = true;
    pthread_join(r->thr, NULL);
    close(r->lfd);
    if (upath)
        unlink(upath);
}

static size_t rx_count(rx *r)
{
    pthread_mutex_lock(&r->mu);
    size_t n = r->n;
    pthread_mutex_unlock(&r->mu);
    return n;
}

static void wait_count(rx *r, size_t n)
{
    for (int k = 0; k < 3000 && rx_count(r) < n; k++)
        usleep(10000);
}

static void run_stream_case(sw_out_type type, const char *name, bool syslog, bool unix_sock)
{
    rx r;
    memset(&r, 0, sizeof(r));
    pthread_mutex_init(&r.mu, NULL);
    r.syslog = syslog;
    char upath[96], ldir[128], key[96];
    snprintf(upath, sizeof(upath), "%s/%s.sock", g_dir, name);
    snprintf(ldir, sizeof(ldir), "%s/log-%s", g_dir, name);
    mkdir(ldir, 0755);
    int port = free_port();
    rx_start(&r, port, unix_sock ? upath : NULL);

    sw_outputs_config c;
    memset(&c, 0, sizeof(c));
    c.n = 1;
    sw_output_config_defaults(&c.out[0], type);
    c.out[0].port = (uint16_t)port;
    c.out[0].syslog_facility = 16;
    c.out[0].syslog_severity = 6;
    snprintf(c.out[0].filename, sizeof(c.out[0].filename), "%s", upath);
    c.out[0].reconnect_max_us = 100000;
    c.out[0].close_timeout_us = 60000000;
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, ldir, err, sizeof(err));
    assert_non_null(o);

    write_range(o, 0, 2000);
    sw_outputs_flush(o);
    wait_count(&r, 2000);
    assert_int_equal(rx_count(&r), 2000);
    rx_kill(&r, unix_sock ? upath : NULL);
    write_range(o, 2000, 4000);
    sw_outputs_flush(o);
    snprintf(key, sizeof(key), "spanwatch.output.%s.spooled", name);
    assert_true(ctr(o, key) >= 2000);
    rx_start(&r, port, unix_sock ? upath : NULL);
    write_range(o, 4000, 6000);
    sw_outputs_close(o);
    wait_count(&r, 6000);
    rx_kill(&r, unix_sock ? upath : NULL);

    if (r.bad)
        fail_msg("malformed message: %s", r.bad);
    assert_int_equal(r.n, 6000);
    for (size_t i = 0; i < r.n; i++)
        assert_int_equal(r.seqs[i], (int)i);
    free(r.seqs);
    pthread_mutex_destroy(&r.mu);
}

static void test_syslog_tcp_kill_restart(void **state)
{
    (void)state;
    run_stream_case(SW_OUT_SYSLOG, "syslog", true, false);
}

static void test_unix_stream_kill_restart(void **state)
{
    (void)state;
    run_stream_case(SW_OUT_UNIX_STREAM, "unix_stream", false, true);
}

static void test_dgram_outputs(void **state)
{
    (void)state;
    /* unix_dgram: one event per datagram, no newline. */
    char upath[96];
    snprintf(upath, sizeof(upath), "%s/dg.sock", g_dir);
    int fd = socket(AF_UNIX, SOCK_DGRAM, 0);
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", upath);
    assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
    int ufd = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in si = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    assert_int_equal(bind(ufd, (struct sockaddr *)&si, sizeof(si)), 0);
    socklen_t sl = sizeof(si);
    getsockname(ufd, (struct sockaddr *)&si, &sl);

    sw_outputs_config c;
    memset(&c, 0, sizeof(c));
    c.n = 2;
    sw_output_config_defaults(&c.out[0], SW_OUT_UNIX_DGRAM);
    snprintf(c.out[0].filename, sizeof(c.out[0].filename), "%s", upath);
    sw_output_config_defaults(&c.out[1], SW_OUT_SYSLOG);
    c.out[1].syslog_tcp = false;
    c.out[1].port = ntohs(si.sin_port);
    snprintf(c.out[1].syslog_ident, sizeof(c.out[1].syslog_ident), "swtest");
    char err[256];
    sw_outputs *o = sw_outputs_open(&c, g_dir, err, sizeof(err));
    assert_non_null(o);
    /* Linux queues at most net.unix.max_dgram_qlen (10) datagrams for a
     * receiver that does not read: stay below it. */
    write_range(o, 0, 8);
    sw_outputs_flush(o);
    assert_int_equal(ctr(o, "spanwatch.output.unix_dgram.sent"), 8);
    assert_int_equal(ctr(o, "spanwatch.output.syslog.sent"), 8);
    sw_outputs_close(o);
    char buf[1024];
    for (int i = 0; i < 8; i++) {
        ssize_t n = recv(fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_int_equal(buf[0], '{');
        assert_int_not_equal(buf[n - 1], '\n');
        assert_int_equal(seq_of(buf), i);
        n = recv(ufd, buf, sizeof(buf) - 1, MSG_DONTWAIT);
        assert_true(n > 0);
        buf[n] = 0;
        assert_true(strncmp(buf, "<134>1 2026-11-21T09:13:05.", 27) == 0);
        assert_non_null(strstr(buf, " swtest "));
        assert_int_equal(seq_of(buf), i);
    }
    close(fd);
    close(ufd);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_redis_kill_restart),
        cmocka_unit_test(test_redis_leftover_and_modes),
        cmocka_unit_test(test_syslog_tcp_kill_restart),
        cmocka_unit_test(test_unix_stream_kill_restart),
        cmocka_unit_test(test_dgram_outputs),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
