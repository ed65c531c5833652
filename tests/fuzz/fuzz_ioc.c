/* IoC list loader: the input (after two selector bytes) is written to a
 * temp file loaded as a text or CSV list of one or any type; a few lookups
 * with strings from the input follow. */
#include "signatures/ioc.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_ioc_report rep;
    fz_cur c = fz_init(data, size);
    uint8_t tsel = fz_u8(&c);
    uint8_t fsel = fz_u8(&c);
    size_t n;
    const uint8_t *body = fz_bytes(&c, fz_left(&c), &n);
    char path[256];
    if (!fz_tempfile(path, sizeof path, (fsel & 1) ? ".csv" : ".txt", body, n))
        return 0;
    sw_ioc_config cfg;
    sw_ioc_config_defaults(&cfg);
    cfg.enabled = true;
    cfg.n_lists = 1;
    memset(&cfg.lists[0], 0, sizeof cfg.lists[0]);
    cfg.lists[0].path = path;
    cfg.lists[0].name = (fsel & 2) ? "fuzz" : NULL;
    cfg.lists[0].type = (sw_ioc_type)(tsel % SW_IOC_TYPE_COUNT);
    cfg.lists[0].format = (sw_ioc_format)((fsel >> 2) % 3);
    cfg.lists[0].severity = (fsel >> 4) & 3;
    if (fsel & 0x40)
        cfg.max_line = 64;
    memset(&rep, 0, sizeof rep);
    sw_ioc_db *db = sw_ioc_load(&cfg, &rep);
    unlink(path);
    FZ_CHECK(rep.n_errors <= SW_IOC_MAX_ERRORS);
    if (!db) {
        FZ_CHECK(rep.fatal[0] != 0);
        return 0;
    }
    FZ_CHECK(sw_ioc_count(db) == rep.loaded);
    sw_ioc_hit hit;
    /* Each line of the list looked up as every kind: a listed indicator
     * must find itself through at least its own type's lookup. */
    const char *p = (const char *)body;
    size_t off = 0;
    int lines = 0;
    while (off < n && lines++ < 16) {
        const char *nl = memchr(p + off, '\n', n - off);
        size_t len = nl ? (size_t)(nl - (p + off)) : n - off;
        char buf[512];
        size_t k = len < sizeof buf - 1 ? len : sizeof buf - 1;
        memcpy(buf, p + off, k);
        buf[k] = 0;
        if (sw_ioc_match_domain(db, buf, k, &hit))
            FZ_CHECK(hit.value && hit.list && hit.severity >= 1 && hit.severity <= 3);
        sw_ioc_match_url(db, buf, k / 2, buf + k / 2, k - k / 2, &hit);
        sw_ioc_match_tls_fp(db, SW_IOC_JA3, buf, &hit);
        sw_ioc_match_tls_fp(db, SW_IOC_JA4, buf, &hit);
        sw_ioc_match_file_hash(db, SW_IOC_SHA256, buf, &hit);
        uint8_t a[16] = {0};
        memcpy(a, buf, k < 16 ? k : 16);
        sw_ioc_match_ip(db, 4, a, &hit);
        sw_ioc_match_ip(db, 6, a, &hit);
        off += len + 1;
    }
    sw_ioc_free(db);
    return 0;
}
