/* Memory per tracked beacon key with 1M keys (budget: 200 bytes).
 * Usage: bench_beacon [keys]   -- prints bytes/key from the allocator's
 * view (table size / capacity) and from RSS growth while filling. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sensor/beacon.h"

static long rss_kb(void)
{
    FILE *f = fopen("/proc/self/status", "r");
    char line[256];
    long v = -1;
    while (f && fgets(line, sizeof(line), f))
        if (strncmp(line, "VmRSS:", 6) == 0)
            v = strtol(line + 6, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

int main(int argc, char **argv)
{
    uint64_t keys = argc > 1 ? strtoull(argv[1], NULL, 10) : 1000000;
    sw_beacon_config c;
    sw_beacon_config_defaults(&c);
    c.memcap = keys * sw_beacon_bytes_per_key();
    c.prevalence_slots = 4;
    long r0 = rss_kb();
    char err[256];
    sw_beacon *b = sw_beacon_new(&c, err, sizeof(err));
    if (!b) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    sw_beacon_alert a[4];
    /* 2x the keys: every slot used, then LRU eviction on the second half */
    for (uint64_t k = 0; k < 2 * keys; k++) {
        sw_checkin ci;
        memset(&ci, 0, sizeof(ci));
        ci.ts_us = 1700000000000000ull + k * 1000;
        ci.ip_version = 4;
        ci.src[0] = 10, ci.src[1] = (uint8_t)(k >> 16), ci.src[2] = (uint8_t)(k >> 8), ci.src[3] = (uint8_t)k;
        ci.dst[0] = 93, ci.dst[1] = (uint8_t)(k >> 24), ci.dst[2] = (uint8_t)(k >> 16), ci.dst[3] = (uint8_t)(k % 250);
        ci.dport = 443;
        ci.proto = 6;
        sw_beacon_observe(b, &ci, a, 4);
    }
    long r1 = rss_kb();
    sw_ctr_group g = sw_beacon_counters(b);
    uint64_t cap = g.vals[SW_BEACON_CTR_KEYS_CAPACITY], act = g.vals[SW_BEACON_CTR_KEYS_ACTIVE];
    double per_key = (double)sw_beacon_bytes_per_key();
    double per_rss = act ? (double)(r1 - r0) * 1024.0 / (double)act : 0;
    printf("keys_capacity=%llu keys_active=%llu evicted=%llu\n", (unsigned long long)cap, (unsigned long long)act,
           (unsigned long long)g.vals[SW_BEACON_CTR_EVICTED]);
    printf("bytes_per_key(table)=%.1f bytes_per_key(rss)=%.1f budget=200 -> %s\n", per_key, per_rss,
           per_key <= 200 && per_rss <= 200 ? "OK" : "OVER");
    sw_beacon_free(b);
    return per_key <= 200 ? 0 : 1;
}
