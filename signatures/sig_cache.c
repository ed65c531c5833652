/* On-disk cache of the prefilter databases.
 *
 * One file per key, "<dir>/<64 hex>.hsdb". The key is a SHA-256 over every
 * input of hs_compile_multi (per buffer: expressions, flags, ids, in order),
 * the Hyperscan version and the host platform, so an unchanged ruleset on
 * the same library and CPU finds its databases and anything else misses.
 *
 * File layout (native byte order; the magic catches a foreign one):
 *   "SWHSC001" | key[32] | u32 n_buf
 *   per buffer: u32 n_pat | u32 n_dead | u32 dead[n_dead] | u64 len | db[len]
 *   sha256[32] over everything before it
 * The trailer turns any truncation or flipped byte into a clean miss before
 * Hyperscan sees the bytes. Files are written to a temp name and renamed, so
 * a reader sees a whole file or none; after a write only the CACHE_KEEP
 * newest files stay. A file not owned by us or writable by
 * others is refused: deserializing is only safe on bytes we wrote. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <openssl/evp.h>

#include "signatures/sig_internal.h"

#define CACHE_MAGIC "SWHSC001"
#define CACHE_MAX_FILE (1024ull * 1024 * 1024) /* far above any real ruleset */
#define HDR_LEN (8 + 32 + 4)
/* Files kept per directory: the current ruleset, a few to roll back to, and
 * room for a couple of sensors sharing the directory. */
#define CACHE_KEEP 4
/* A temp file this old is a crashed writer's, not one in progress. */
#define CACHE_TMP_AGE_S 600

static void put_u32(EVP_MD_CTX *c, uint32_t v)
{
    EVP_DigestUpdate(c, &v, sizeof(v));
}

static void put_u64(EVP_MD_CTX *c, uint64_t v)
{
    EVP_DigestUpdate(c, &v, sizeof(v));
}

int sw_sig_cache_key(const sw_sig_dbjob *jobs, int n_jobs, uint8_t key[32], char *err,
                     size_t errlen)
{
    hs_platform_info_t plat;
    if (hs_populate_platform(&plat) != HS_SUCCESS) {
        snprintf(err, errlen, "cache: hs_populate_platform failed");
        return -1;
    }
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (!c || EVP_DigestInit_ex(c, EVP_sha256(), NULL) != 1) {
        EVP_MD_CTX_free(c);
        snprintf(err, errlen, "cache: SHA-256 unavailable");
        return -1;
    }
    /* Format and compile mode first: a change to either must never load an
     * old file. Length-prefixed strings keep the encoding unambiguous. */
    EVP_DigestUpdate(c, CACHE_MAGIC "/block", sizeof(CACHE_MAGIC "/block") - 1);
    const char *ver = hs_version();
    put_u32(c, (uint32_t)strlen(ver));
    EVP_DigestUpdate(c, ver, strlen(ver));
    /* field by field: the struct has padding after tune */
    put_u32(c, plat.tune);
    put_u64(c, plat.cpu_features);
    put_u64(c, plat.reserved1);
    put_u64(c, plat.reserved2);
    put_u32(c, (uint32_t)n_jobs);
    for (int b = 0; b < n_jobs; b++) {
        const sw_sig_dbjob *j = &jobs[b];
        put_u32(c, j->n_pat);
        for (uint32_t i = 0; i < j->n_pat; i++) {
            size_t len = strlen(j->exprs[i]);
            put_u32(c, j->flags[i]);
            put_u32(c, j->ids[i]);
            put_u32(c, (uint32_t)len);
            EVP_DigestUpdate(c, j->exprs[i], len);
        }
    }
    unsigned int outlen = 0;
    int ok = EVP_DigestFinal_ex(c, key, &outlen) == 1 && outlen == 32;
    EVP_MD_CTX_free(c);
    if (!ok) {
        snprintf(err, errlen, "cache: SHA-256 failed");
        return -1;
    }
    return 0;
}

static void key_path(const char *dir, const uint8_t key[32], char *out, size_t outlen)
{
    char hex[65];
    for (int i = 0; i < 32; i++)
        snprintf(hex + i * 2, 3, "%02x", key[i]);
    snprintf(out, outlen, "%s/%s.hsdb", dir, hex);
}

static int sha256(const uint8_t *p, size_t n, uint8_t out[32])
{
    unsigned int len = 0;
    return EVP_Digest(p, n, out, &len, EVP_sha256(), NULL) == 1 && len == 32 ? 0 : -1;
}

/* Bounded reader over the file image. */
typedef struct rd {
    const uint8_t *p;
    size_t left;
} rd;

static int rd_u32(rd *r, uint32_t *v)
{
    if (r->left < 4)
        return -1;
    memcpy(v, r->p, 4);
    r->p += 4;
    r->left -= 4;
    return 0;
}

static int rd_u64(rd *r, uint64_t *v)
{
    if (r->left < 8)
        return -1;
    memcpy(v, r->p, 8);
    r->p += 8;
    r->left -= 8;
    return 0;
}

/* The library reports "Version: 5.4.0 Features: ... Mode: BLOCK"; hs_version()
 * is "5.4.0 2021-01-26". The key already covers the version, so this only
 * catches a file whose bytes were produced by another library build. */
static int check_db_info(const uint8_t *db, size_t len, char *err, size_t errlen)
{
    char *info = NULL;
    if (hs_serialized_database_info((const char *)db, len, &info) != HS_SUCCESS || !info) {
        snprintf(err, errlen, "cache: not a Hyperscan database");
        return -1;
    }
    const char *ver = hs_version();
    size_t vlen = strcspn(ver, " ");
    int ok = strncmp(info, "Version: ", 9) == 0 && strncmp(info + 9, ver, vlen) == 0 &&
             (info[9 + vlen] == ' ' || info[9 + vlen] == 0) && strstr(info, "BLOCK") != NULL;
    if (!ok)
        snprintf(err, errlen, "cache: database built by another Hyperscan (%.80s)", info);
    free(info); /* allocated with the default misc allocator (malloc) */
    return ok ? 0 : -1;
}

static void drop_loaded(sw_sig_dbjob *jobs, int n_jobs)
{
    for (int b = 0; b < n_jobs; b++) {
        hs_free_database(jobs[b].db);
        jobs[b].db = NULL;
        if (jobs[b].dead)
            memset(jobs[b].dead, 0, jobs[b].n_pat * sizeof(bool));
    }
}

static int parse_file(const uint8_t *img, size_t len, const uint8_t key[32], sw_sig_dbjob *jobs,
                      int n_jobs, char *err, size_t errlen)
{
    uint8_t sum[32];
    if (len < HDR_LEN + 32) {
        snprintf(err, errlen, "cache: file truncated");
        return -1;
    }
    if (sha256(img, len - 32, sum) < 0 || memcmp(sum, img + len - 32, 32) != 0) {
        snprintf(err, errlen, "cache: checksum mismatch (corrupt or truncated)");
        return -1;
    }
    if (memcmp(img, CACHE_MAGIC, 8) != 0 || memcmp(img + 8, key, 32) != 0) {
        snprintf(err, errlen, "cache: wrong format or key");
        return -1;
    }
    rd r = {img + 8 + 32, len - 32 - 8 - 32};
    uint32_t n_buf;
    if (rd_u32(&r, &n_buf) < 0 || n_buf != (uint32_t)n_jobs) {
        snprintf(err, errlen, "cache: buffer count differs");
        return -1;
    }
    for (int b = 0; b < n_jobs; b++) {
        sw_sig_dbjob *j = &jobs[b];
        uint32_t n_pat, n_dead;
        uint64_t dblen;
        if (rd_u32(&r, &n_pat) < 0 || n_pat != j->n_pat || rd_u32(&r, &n_dead) < 0 ||
            n_dead > n_pat) {
            snprintf(err, errlen, "cache: buffer %d: pattern count differs", b);
            return -1;
        }
        for (uint32_t i = 0; i < n_dead; i++) {
            uint32_t id;
            if (rd_u32(&r, &id) < 0 || id >= n_pat) {
                snprintf(err, errlen, "cache: buffer %d: bad rejected-pattern id", b);
                return -1;
            }
            j->dead[id] = true;
        }
        if (rd_u64(&r, &dblen) < 0 || dblen > r.left) {
            snprintf(err, errlen, "cache: buffer %d: database length out of range", b);
            return -1;
        }
        /* a buffer with live patterns must have a database, and only then */
        if ((dblen > 0) != (n_pat > n_dead)) {
            snprintf(err, errlen, "cache: buffer %d: database presence mismatch", b);
            return -1;
        }
        if (dblen > 0) {
            if (check_db_info(r.p, (size_t)dblen, err, errlen) < 0)
                return -1;
            if (hs_deserialize_database((const char *)r.p, (size_t)dblen, &j->db) !=
                HS_SUCCESS) {
                j->db = NULL;
                snprintf(err, errlen, "cache: buffer %d: hs_deserialize_database failed", b);
                return -1;
            }
            r.p += dblen;
            r.left -= (size_t)dblen;
        }
    }
    if (r.left != 0) {
        snprintf(err, errlen, "cache: trailing bytes");
        return -1;
    }
    return 0;
}

int sw_sig_cache_load(const char *dir, const uint8_t key[32], sw_sig_dbjob *jobs, int n_jobs,
                      char *err, size_t errlen)
{
    char path[4096];
    key_path(dir, key, path, sizeof(path));
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (fd < 0) {
        if (errno == ENOENT)
            return 0;
        snprintf(err, errlen, "cache: %s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    uint8_t *img = NULL;
    int rc = -1;
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        snprintf(err, errlen, "cache: %s: not a regular file", path);
        goto out;
    }
    if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH))) {
        snprintf(err, errlen, "cache: %s: not ours or writable by others; ignored", path);
        goto out;
    }
    if ((uint64_t)st.st_size > CACHE_MAX_FILE) {
        snprintf(err, errlen, "cache: %s: too large", path);
        goto out;
    }
    size_t len = (size_t)st.st_size;
    img = malloc(len ? len : 1);
    if (!img) {
        snprintf(err, errlen, "cache: out of memory");
        goto out;
    }
    size_t got = 0;
    while (got < len) {
        ssize_t n = read(fd, img + got, len - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    if (got != len) {
        snprintf(err, errlen, "cache: %s: short read", path);
        goto out;
    }
    if (parse_file(img, len, key, jobs, n_jobs, err, errlen) < 0) {
        drop_loaded(jobs, n_jobs);
        goto out;
    }
    /* in use: newest mtime, so pruning after another ruleset's write
     * keeps it */
    (void)futimens(fd, NULL);
    rc = 1;
out:
    free(img);
    close(fd);
    return rc;
}

/* Growable output image. */
typedef struct wbuf {
    uint8_t *p;
    size_t n, cap;
    bool oom;
} wbuf;

static void w_put(wbuf *w, const void *src, size_t n)
{
    if (w->oom)
        return;
    if (w->n + n > w->cap) {
        size_t nc = w->cap ? w->cap : 4096;
        while (nc < w->n + n)
            nc *= 2;
        uint8_t *q = realloc(w->p, nc);
        if (!q) {
            w->oom = true;
            return;
        }
        w->p = q;
        w->cap = nc;
    }
    memcpy(w->p + w->n, src, n);
    w->n += n;
}

static int write_all(int fd, const uint8_t *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static bool is_hex64(const char *s)
{
    for (int i = 0; i < 64; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

typedef struct cfile {
    char name[64 + 5 + 1];
    time_t mtime;
} cfile;

static int cfile_newer_first(const void *a, const void *b)
{
    const cfile *x = a, *y = b;
    if (x->mtime != y->mtime)
        return x->mtime > y->mtime ? -1 : 1;
    return strcmp(x->name, y->name);
}

/* Removes all but the CACHE_KEEP newest cache files (keep_name always stays)
 * and crashed writers' temp files; names not of our form are never touched.
 * Best effort: errors only leave files behind. */
static void prune(const char *dir, const char *keep_name)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    cfile *v = NULL;
    size_t n = 0, cap = 0;
    time_t now = time(NULL);
    struct dirent *de;
    char path[4096 + 256];
    while ((de = readdir(d))) {
        const char *nm = de->d_name;
        size_t l = strlen(nm);
        if (l < 64 + 5 || !is_hex64(nm) || strncmp(nm + 64, ".hsdb", 5) != 0)
            continue;
        bool tmp = l == 64 + 5 + 7 && nm[64 + 5] == '.'; /* "<key>.hsdb.XXXXXX" */
        if ((l != 64 + 5 && !tmp) || strcmp(nm, keep_name) == 0)
            continue;
        snprintf(path, sizeof(path), "%s/%s", dir, nm);
        struct stat st;
        if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
            continue;
        if (tmp) {
            if (now - st.st_mtime > CACHE_TMP_AGE_S)
                unlink(path);
            continue;
        }
        if (n == cap) {
            size_t nc = cap ? cap * 2 : 16;
            cfile *q = realloc(v, nc * sizeof(*q));
            if (!q)
                break;
            v = q;
            cap = nc;
        }
        memcpy(v[n].name, nm, sizeof(v[n].name));
        v[n++].mtime = st.st_mtime;
    }
    closedir(d);
    if (n > 0)
        qsort(v, n, sizeof(*v), cfile_newer_first);
    for (size_t i = CACHE_KEEP - 1; i < n; i++) {
        snprintf(path, sizeof(path), "%s/%s", dir, v[i].name);
        unlink(path);
    }
    free(v);
}

int sw_sig_cache_store(const char *dir, const uint8_t key[32], const sw_sig_dbjob *jobs,
                       int n_jobs, char *err, size_t errlen)
{
    wbuf w = {0};
    w_put(&w, CACHE_MAGIC, 8);
    w_put(&w, key, 32);
    uint32_t nb = (uint32_t)n_jobs;
    w_put(&w, &nb, 4);
    for (int b = 0; b < n_jobs && !w.oom; b++) {
        const sw_sig_dbjob *j = &jobs[b];
        uint32_t n_dead = 0;
        for (uint32_t i = 0; i < j->n_pat; i++)
            n_dead += j->dead[i];
        w_put(&w, &j->n_pat, 4);
        w_put(&w, &n_dead, 4);
        for (uint32_t i = 0; i < j->n_pat; i++)
            if (j->dead[i])
                w_put(&w, &i, 4);
        char *bytes = NULL;
        size_t blen = 0;
        if (j->db && hs_serialize_database(j->db, &bytes, &blen) != HS_SUCCESS) {
            free(w.p);
            snprintf(err, errlen, "cache: hs_serialize_database failed");
            return -1;
        }
        uint64_t l64 = blen;
        w_put(&w, &l64, 8);
        if (blen)
            w_put(&w, bytes, blen);
        free(bytes);
    }
    uint8_t sum[32];
    if (w.oom || sha256(w.p, w.n, sum) < 0) {
        free(w.p);
        snprintf(err, errlen, "cache: out of memory");
        return -1;
    }
    w_put(&w, sum, 32);
    if (w.oom) {
        free(w.p);
        snprintf(err, errlen, "cache: out of memory");
        return -1;
    }

    /* only the last path component is created: a missing parent is a
     * configuration error the message should show */
    if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
        snprintf(err, errlen, "cache: mkdir %s: %s", dir, strerror(errno));
        free(w.p);
        return -1;
    }
    char path[4096], tmp[4096 + 16];
    key_path(dir, key, path, sizeof(path));
    snprintf(tmp, sizeof(tmp), "%s.XXXXXX", path);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(err, errlen, "cache: %s: %s", dir, strerror(errno));
        free(w.p);
        return -1;
    }
    /* fsync before rename: after a crash the name points at whole data */
    int rc = write_all(fd, w.p, w.n) == 0 && fsync(fd) == 0 ? 0 : -1;
    int saved = errno;
    if (close(fd) < 0 && rc == 0) {
        rc = -1;
        saved = errno;
    }
    if (rc == 0 && rename(tmp, path) < 0) {
        rc = -1;
        saved = errno;
    }
    if (rc < 0) {
        snprintf(err, errlen, "cache: write %s: %s", path, strerror(saved));
        unlink(tmp);
    } else {
        prune(dir, strrchr(path, '/') + 1);
    }
    free(w.p);
    return rc;
}
