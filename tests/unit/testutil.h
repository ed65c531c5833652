/* Helpers shared by the cmocka unit tests: where the repository is, scratch
 * directories, counters by name. Include after <cmocka.h> (tu_ctr fails the
 * test through fail_msg). */
#ifndef SW_TESTUTIL_H
#define SW_TESTUTIL_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/counters.h"

/* The repository root: ctest sets SW_SOURCE_DIR, a binary started by hand
 * falls back to the tree it was configured from. */
static inline const char *tu_srcdir(void)
{
    const char *s = getenv("SW_SOURCE_DIR");
    return s ? s : SW_SOURCE_DIR;
}

/* buf = <repo>/test-pcaps/<name>; returns buf. */
static inline const char *tu_test_pcap(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/test-pcaps/%s", tu_srcdir(), name);
    return buf;
}

/* A fresh /tmp/<prefix>-XXXXXX in buf; 0 on success, -1 on failure. */
static inline int tu_mkdtemp(char *buf, size_t n, const char *prefix)
{
    snprintf(buf, n, "/tmp/%s-XXXXXX", prefix);
    return mkdtemp(buf) ? 0 : -1;
}

/* Removes a scratch directory and everything below it; system()'s status. */
static inline int tu_rmrf(const char *dir)
{
    char cmd[4200];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    return system(cmd);
}

/* The value of the counter called name; fails the test when there is none. */
static inline uint64_t tu_ctr(sw_ctr_group g, const char *name)
{
    for (size_t i = 0; i < g.n; i++)
        if (strcmp(g.names[i], name) == 0)
            return g.vals[i];
    fail_msg("no counter %s", name);
    return 0;
}

#endif
