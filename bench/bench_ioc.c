/* IoC load benchmark: writes 1M mixed indicators (85% domains, 10% IPv4/v6
 * addresses and prefixes, 3% URLs, 2% hashes) to a temp file, loads them and
 * prints load time, peak RSS and lookup rate. Usage: bench_ioc [count] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "signatures/ioc.h"

/* deterministic xorshift so every run loads the same list */
static unsigned long rng_state = 88172645463325252ul;
static unsigned long rnd(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return rng_state;
}
#define RND() rnd()

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long status_kb(const char *field)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    size_t fl = strlen(field);
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, field, fl) == 0)
            v = strtol(line + fl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? strtol(argv[1], NULL, 10) : 1000000;
    char path[] = "/tmp/bench_ioc_XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    FILE *f = fdopen(fd, "w");
    static const char *tld[] = {"com", "net", "org", "info", "xyz", "top", "ru", "io"};
    for (long i = 0; i < n; i++) {
        int k = (int)(i % 100);
        if (k < 85) {
            char lab[24];
            int ln = 6 + (int)(RND() % 12);
            for (int j = 0; j < ln; j++)
                lab[j] = (char)('a' + RND() % 26);
            lab[ln] = '\0';
            if (i % 3)
                fprintf(f, "%s%ld.%s\n", lab, i, tld[RND() % 8]);
            else
                fprintf(f, "cdn%ld.%s.%s\n", i, lab, tld[RND() % 8]);
        } else if (k < 93) {
            unsigned long a = RND();
            fprintf(f, "%lu.%lu.%lu.%lu%s\n", (a >> 24) & 255, (a >> 16) & 255, (a >> 8) & 255,
                    a & 255, i % 5 == 0 ? "/24" : "");
        } else if (k < 95) {
            fprintf(f, "2001:db8:%lx:%lx::%lx/%d\n", RND() & 0xffff, RND() & 0xffff, i & 0xffff,
                    i % 2 ? 64 : 128);
        } else if (k < 98) {
            fprintf(f, "http://site%ld.example.com/path/%lx.php?id=%ld\n", i, RND(), i);
        } else {
            fprintf(f, "%016lx%016lx%016lx%016lx\n", RND(), RND(), RND(), (unsigned long)i);
        }
    }
    fclose(f);
    long rss0 = status_kb("VmRSS:");

    sw_ioc_config c;
    sw_ioc_config_defaults(&c);
    c.n_lists = 1;
    c.lists[0].path = path;
    c.lists[0].name = "bench";
    sw_ioc_report r;
    double t0 = now();
    sw_ioc_db *db = sw_ioc_load(&c, &r);
    double t1 = now();
    unlink(path);
    if (!db) {
        fprintf(stderr, "load failed: %s\n", r.fatal);
        return 1;
    }
    printf("indicators: %llu loaded, %llu duplicates, %llu skipped (domain %llu ip %llu url %llu sha256 %llu)\n",
           (unsigned long long)r.loaded, (unsigned long long)r.duplicates,
           (unsigned long long)r.skipped, (unsigned long long)r.by_type[SW_IOC_DOMAIN],
           (unsigned long long)r.by_type[SW_IOC_IP], (unsigned long long)r.by_type[SW_IOC_URL],
           (unsigned long long)r.by_type[SW_IOC_SHA256]);
    printf("load time: %.3f s\n", t1 - t0);
    printf("db memuse: %.1f MB\n", (double)sw_ioc_memuse(db) / 1048576.0);
    printf("RSS before load: %.1f MB, after: %.1f MB, peak (VmHWM): %.1f MB\n", rss0 / 1024.0,
           status_kb("VmRSS:") / 1024.0, status_kb("VmHWM:") / 1024.0);

    /* lookups: mostly misses, as on a real network */
    long hits = 0, q = 2000000;
    char name[64];
    double t2 = now();
    for (long i = 0; i < q; i++) {
        snprintf(name, sizeof(name), "www.host%ld.example%ld.com", i, i % 1000);
        hits += sw_ioc_match_domain(db, name, strlen(name), NULL);
        uint8_t a[4] = {(uint8_t)(i >> 24), (uint8_t)(i >> 16), (uint8_t)(i >> 8), (uint8_t)i};
        hits += sw_ioc_match_ip(db, 4, a, NULL);
    }
    double t3 = now();
    printf("lookups: %ld domain + %ld ipv4 in %.3f s (%.0f ns/lookup), %ld hits\n", q, q, t3 - t2,
           (t3 - t2) * 1e9 / (double)(2 * q), hits);
    sw_ioc_free(db);
    return 0;
}
