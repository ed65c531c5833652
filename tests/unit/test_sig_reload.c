/* Live reload: a worker matches in a loop while engines are swapped under
 * it; old engines must be freed only after the worker's quiescent point
 * (ASan catches a use-after-free, LSan a leak). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signatures/sig_engine.h"

static sw_sig_engine *mk_gen(int k)
{
    char rules[512];
    /* each generation alerts with its own sid, so the worker can tell
     * which engine it used */
    snprintf(rules, sizeof(rules),
             "alert tcp any any -> any any (msg:\"gen %d\"; content:\"ping\"; pcre:\"/p.ng/\"; sid:%d;)\n"
             "alert tcp any any -> any any (msg:\"fb\"; content:\"ping\"; flowbits:set,seen; noalert; sid:%d;)\n",
             k, 1000 + k, 5000 + k);
    sw_sig_report rep;
    sw_sig_engine *e = sw_sig_engine_build_string(NULL, "gen", rules, &rep);
    assert_non_null(e);
    assert_int_equal(rep.loaded, 2);
    return e;
}

typedef struct wctx {
    sw_sig_manager *m;
    int stop;
    uint64_t iters, alerts, bad;
    uint32_t last_sid;
} wctx;

static void *worker(void *arg)
{
    wctx *w = arg;
    sw_sig_thread *t = sw_sig_thread_new(NULL);
    uint8_t a[4] = {10, 0, 0, 1}, b[4] = {10, 0, 0, 2};
    sw_detect_input in;
    memset(&in, 0, sizeof(in));
    in.ip_version = 4;
    in.src_ip = a;
    in.dst_ip = b;
    in.proto = IPPROTO_TCP;
    in.src_port = 1;
    in.dst_port = 2;
    in.buf[SW_BUF_PAYLOAD].ptr = (const uint8_t *)"xx ping xx";
    in.buf[SW_BUF_PAYLOAD].len = 10;
    sw_sig_flow fs = {0};
    sw_sig_alert al[4];
    while (!__atomic_load_n(&w->stop, __ATOMIC_SEQ_CST)) {
        const sw_sig_engine *e = sw_sig_manager_current(w->m);
        if (sw_sig_thread_sync(t, e) < 0) {
            __atomic_add_fetch(&w->bad, 1, __ATOMIC_SEQ_CST);
            break;
        }
        int n = sw_sig_match(e, t, &in, &fs, al, 4);
        if (n != 1 || al[0].sid < 1000 || al[0].sid > 1100 || strncmp(al[0].msg, "gen ", 4) != 0)
            __atomic_add_fetch(&w->bad, 1, __ATOMIC_SEQ_CST);
        else
            w->last_sid = al[0].sid;
        w->alerts += (uint64_t)n;
        __atomic_add_fetch(&w->iters, 1, __ATOMIC_SEQ_CST);
        sw_sig_manager_quiescent(w->m, 0);
    }
    sw_sig_manager_offline(w->m, 0);
    sw_sig_thread_free(t);
    return NULL;
}

static void t_swap_under_reader(void **st)
{
    (void)st;
    sw_sig_manager *m = sw_sig_manager_new(mk_gen(0), 1);
    assert_non_null(m);
    wctx w = {.m = m};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, worker, &w), 0);
    for (int k = 1; k <= 50; k++) {
        sw_sig_manager_swap(m, mk_gen(k));
        /* wait (bounded by progress, not time) until the worker has passed
         * a quiescent point, then old engines must be reclaimable */
        uint64_t it = __atomic_load_n(&w.iters, __ATOMIC_SEQ_CST);
        while (__atomic_load_n(&w.iters, __ATOMIC_SEQ_CST) < it + 2 && !__atomic_load_n(&w.bad, __ATOMIC_SEQ_CST))
            sched_yield();
        sw_sig_manager_collect(m);
    }
    __atomic_store_n(&w.stop, 1, __ATOMIC_SEQ_CST);
    pthread_join(th, NULL);
    assert_int_equal(w.bad, 0);
    assert_true(w.iters > 50);
    assert_int_equal(w.alerts, w.iters);
    assert_int_equal(w.last_sid, 1050); /* it saw the last engine */
    assert_int_equal(sw_sig_manager_collect(m), 0);
    assert_int_equal(sw_sig_engine_rule_count(sw_sig_manager_current(m)), 2);
    sw_sig_manager_free(m);
}

static void t_retire_waits_for_worker(void **st)
{
    (void)st;
    sw_sig_manager *m = sw_sig_manager_new(mk_gen(0), 2);
    sw_sig_manager_quiescent(m, 0);
    sw_sig_manager_quiescent(m, 1);
    sw_sig_manager_swap(m, mk_gen(1));
    assert_int_equal(sw_sig_manager_collect(m), 1); /* nobody passed a quiescent point */
    sw_sig_manager_quiescent(m, 0);
    assert_int_equal(sw_sig_manager_collect(m), 1); /* worker 1 may still hold it */
    sw_sig_manager_offline(m, 1);
    assert_int_equal(sw_sig_manager_collect(m), 0);
    sw_sig_manager_free(m);
}

static void t_async_reload(void **st)
{
    (void)st;
    char good[] = "/tmp/sw_rl_good_XXXXXX", bad[] = "/tmp/sw_rl_bad_XXXXXX";
    int fd = mkstemp(good);
    const char *g = "alert tcp any any -> any any (msg:\"new\"; content:\"ping\"; sid:7;)\n";
    assert_int_equal(write(fd, g, strlen(g)), (ssize_t)strlen(g));
    close(fd);
    fd = mkstemp(bad);
    const char *b = "alert tcp any any -> any any (msg:\"broken\"; content:\"ping\" sid:8;)\n";
    assert_int_equal(write(fd, b, strlen(b)), (ssize_t)strlen(b));
    close(fd);
    sw_sig_manager *m = sw_sig_manager_new(mk_gen(0), 1);
    const sw_sig_engine *first = sw_sig_manager_current(m);
    uint64_t gen0 = sw_sig_engine_generation(first);
    sw_sig_report *rep = calloc(1, sizeof(*rep));
    /* a ruleset where nothing loads keeps the old engine */
    const char *bf[] = {bad};
    assert_int_equal(sw_sig_manager_reload_async(m, NULL, bf, 1), 0);
    assert_int_equal(sw_sig_manager_reload_wait(m, rep), 0);
    assert_int_equal(rep->errors, 1);
    assert_true(rep->fatal[0] != 0);
    assert_int_equal(sw_sig_engine_generation(sw_sig_manager_current(m)), gen0);
    /* a missing file keeps it too */
    const char *mf[] = {good, "/nonexistent.rules"};
    assert_int_equal(sw_sig_manager_reload_async(m, NULL, mf, 2), 0);
    assert_int_equal(sw_sig_manager_reload_wait(m, rep), 0);
    assert_int_equal(sw_sig_engine_generation(sw_sig_manager_current(m)), gen0);
    /* a good one is swapped in */
    const char *gf[] = {good};
    assert_int_equal(sw_sig_manager_reload_async(m, NULL, gf, 1), 0);
    assert_int_equal(sw_sig_manager_reload_wait(m, rep), 1);
    assert_int_equal(rep->loaded, 1);
    assert_true(sw_sig_engine_generation(sw_sig_manager_current(m)) != gen0);
    assert_int_equal(sw_sig_manager_reloads(m), 1);
    assert_int_equal(sw_sig_manager_reload_wait(m, rep), -1);
    sw_sig_manager_quiescent(m, 0);
    assert_int_equal(sw_sig_manager_collect(m), 0);
    sw_sig_manager_free(m);
    free(rep);
    unlink(good);
    unlink(bad);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(t_swap_under_reader),
        cmocka_unit_test(t_retire_waits_for_worker),
        cmocka_unit_test(t_async_reload),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
