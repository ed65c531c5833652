#define _GNU_SOURCE /* memrchr, POLLRDHUP */
#include "sensor/spool.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Segments bound how much a delivered prefix costs before its file is
 * removed; 16 MiB keeps the file count low for a 1 GiB spool. */
#define SEG_MAX (16u << 20)
#define MAX_SEGS 4096

struct sw_spool {
    char dir[PATH_MAX];
    uint64_t max_bytes;
    uint64_t ids[MAX_SEGS]; /* ascending: head .. tail */
    uint64_t sizes[MAX_SEGS];
    size_t nseg;
    uint64_t head_off;  /* delivered bytes of ids[0] */
    uint64_t disk;      /* sum of sizes */
    int wfd;            /* tail segment, -1 when closed */
    int rfd;            /* head segment, -1 when closed */
    uint64_t rfd_id;
};

static void seg_path(const sw_spool *s, uint64_t id, char *out, size_t cap)
{
    snprintf(out, cap, "%s/%016" PRIu64 ".seg", s->dir, id);
}

static int mkdirs(const char *dir)
{
    char tmp[PATH_MAX];
    snprintf(tmp, sizeof(tmp), "%s", dir);
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = '\0';
            if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0750) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int write_cursor(sw_spool *s)
{
    char tmp[PATH_MAX + 16], fin[PATH_MAX + 16], line[64];
    snprintf(tmp, sizeof(tmp), "%s/cursor.tmp", s->dir);
    snprintf(fin, sizeof(fin), "%s/cursor", s->dir);
    int n = snprintf(line, sizeof(line), "%" PRIu64 " %" PRIu64 "\n",
                     s->nseg ? s->ids[0] : 0, s->head_off);
    int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0640);
    if (fd < 0)
        return -1;
    bool ok = write(fd, line, (size_t)n) == n;
    /* No fsync: a power loss may redeliver a chunk, never lose one. */
    close(fd);
    if (!ok || rename(tmp, fin) != 0)
        return -1;
    return 0;
}

/* Drops a trailing partial line left by a crash in the middle of a write. */
static uint64_t trim_partial(const char *path, uint64_t size)
{
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return size;
    char buf[4096];
    uint64_t end = size;
    while (end > 0) {
        size_t n = end > sizeof(buf) ? sizeof(buf) : (size_t)end;
        if (pread(fd, buf, n, (off_t)(end - n)) != (ssize_t)n)
            break;
        char *nl = memrchr(buf, '\n', n);
        if (nl) {
            end = end - n + (uint64_t)(nl - buf) + 1;
            break;
        }
        end -= n;
    }
    if (end != size && ftruncate(fd, (off_t)end) != 0)
        end = size;
    close(fd);
    return end;
}

sw_spool *sw_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen)
{
    sw_spool *s = calloc(1, sizeof(*s));
    if (!s) {
        snprintf(err, errlen, "spool: out of memory");
        return NULL;
    }
    snprintf(s->dir, sizeof(s->dir), "%s", dir);
    s->max_bytes = max_bytes;
    s->wfd = s->rfd = -1;
    if (mkdirs(dir) != 0) {
        snprintf(err, errlen, "spool: %s: %s", dir, strerror(errno));
        free(s);
        return NULL;
    }
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "spool: %s: %s", dir, strerror(errno));
        free(s);
        return NULL;
    }
    struct dirent *de;
    while ((de = readdir(d))) {
        uint64_t id;
        char tail[8];
        if (strlen(de->d_name) == 20 && sscanf(de->d_name, "%16" SCNu64 "%4s", &id, tail) == 2 &&
            strcmp(tail, ".seg") == 0 && s->nseg < MAX_SEGS)
            s->ids[s->nseg++] = id;
    }
    closedir(d);
    qsort(s->ids, s->nseg, sizeof(s->ids[0]), cmp_u64);
    for (size_t i = 0; i < s->nseg; i++) {
        char p[PATH_MAX + 32];
        struct stat st;
        seg_path(s, s->ids[i], p, sizeof(p));
        s->sizes[i] = stat(p, &st) == 0 ? (uint64_t)st.st_size : 0;
        s->sizes[i] = trim_partial(p, s->sizes[i]);
        s->disk += s->sizes[i];
    }
    char cp[PATH_MAX + 16];
    snprintf(cp, sizeof(cp), "%s/cursor", dir);
    FILE *f = fopen(cp, "re");
    if (f) {
        uint64_t id, off;
        if (fscanf(f, "%" SCNu64 " %" SCNu64, &id, &off) == 2) {
            /* Segments before the cursor's were delivered; remove them. */
            while (s->nseg && s->ids[0] < id) {
                char p[PATH_MAX + 32];
                seg_path(s, s->ids[0], p, sizeof(p));
                unlink(p);
                s->disk -= s->sizes[0];
                memmove(s->ids, s->ids + 1, (s->nseg - 1) * sizeof(s->ids[0]));
                memmove(s->sizes, s->sizes + 1, (s->nseg - 1) * sizeof(s->sizes[0]));
                s->nseg--;
            }
            if (s->nseg && s->ids[0] == id)
                s->head_off = off <= s->sizes[0] ? off : s->sizes[0];
        }
        fclose(f);
    }
    return s;
}

void sw_spool_close(sw_spool *s)
{
    if (!s)
        return;
    if (s->wfd >= 0)
        close(s->wfd);
    if (s->rfd >= 0)
        close(s->rfd);
    free(s);
}

bool sw_spool_empty(const sw_spool *s) { return sw_spool_pending(s) == 0; }

uint64_t sw_spool_pending(const sw_spool *s) { return s->disk - (s->nseg ? s->head_off : 0); }

static int open_tail(sw_spool *s, bool new_seg)
{
    if (s->wfd >= 0 && !new_seg)
        return 0;
    if (s->wfd >= 0) {
        close(s->wfd);
        s->wfd = -1;
    }
    if (new_seg || s->nseg == 0) {
        if (s->nseg == MAX_SEGS)
            return -1;
        uint64_t id = s->nseg ? s->ids[s->nseg - 1] + 1 : 1;
        s->ids[s->nseg] = id;
        s->sizes[s->nseg] = 0;
        s->nseg++;
        if (s->nseg == 1) {
            s->head_off = 0;
            write_cursor(s);
        }
    }
    char p[PATH_MAX + 32];
    seg_path(s, s->ids[s->nseg - 1], p, sizeof(p));
    s->wfd = open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    return s->wfd >= 0 ? 0 : -1;
}

long sw_spool_append(sw_spool *s, const char *buf, size_t len)
{
    size_t room = s->disk >= s->max_bytes ? 0 : (size_t)(s->max_bytes - s->disk);
    size_t n = len <= room ? len : room;
    if (n < len) {
        const char *nl = n ? memrchr(buf, '\n', n) : NULL;
        n = nl ? (size_t)(nl - buf) + 1 : 0;
    }
    if (n == 0)
        return 0;
    bool roll = s->nseg && s->sizes[s->nseg - 1] >= SEG_MAX;
    if (open_tail(s, roll) != 0)
        return -1;
    size_t done = 0;
    while (done < n) {
        ssize_t w = write(s->wfd, buf + done, n - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            /* Keep the segment whole-line: cut back what this call wrote. */
            uint64_t keep = s->sizes[s->nseg - 1];
            if (ftruncate(s->wfd, (off_t)keep) != 0) {
                /* cannot trim: account the bytes so offsets stay right;
                 * the reader then sees a partial line it will skip */
                s->sizes[s->nseg - 1] += done;
                s->disk += done;
            }
            return -1;
        }
        done += (size_t)w;
    }
    s->sizes[s->nseg - 1] += n;
    s->disk += n;
    return (long)n;
}

/* Removes the fully delivered head segment (never the tail while it is
 * the only one: the writer keeps appending to it). */
static void drop_head(sw_spool *s)
{
    char p[PATH_MAX + 32];
    if (s->rfd >= 0) {
        close(s->rfd);
        s->rfd = -1;
    }
    if (s->nseg == 1 && s->wfd >= 0) {
        close(s->wfd);
        s->wfd = -1;
    }
    seg_path(s, s->ids[0], p, sizeof(p));
    unlink(p);
    s->disk -= s->sizes[0];
    uint64_t last = s->ids[0];
    memmove(s->ids, s->ids + 1, (s->nseg - 1) * sizeof(s->ids[0]));
    memmove(s->sizes, s->sizes + 1, (s->nseg - 1) * sizeof(s->sizes[0]));
    s->nseg--;
    s->head_off = 0;
    if (s->nseg == 0) {
        /* Keep ids increasing across an empty spool so a stale cursor can
         * never point into a new segment. */
        s->ids[0] = last + 1;
        s->sizes[0] = 0;
        s->nseg = 1;
    }
    write_cursor(s);
}

size_t sw_spool_peek(sw_spool *s, char *buf, size_t cap, uint64_t *skipped_lines)
{
    while (s->nseg) {
        if (s->head_off >= s->sizes[0]) {
            if (s->nseg == 1)
                return 0;
            drop_head(s);
            continue;
        }
        if (s->rfd < 0 || s->rfd_id != s->ids[0]) {
            if (s->rfd >= 0)
                close(s->rfd);
            char p[PATH_MAX + 32];
            seg_path(s, s->ids[0], p, sizeof(p));
            s->rfd = open(p, O_RDONLY | O_CLOEXEC);
            if (s->rfd < 0)
                return 0;
            s->rfd_id = s->ids[0];
        }
        uint64_t avail = s->sizes[0] - s->head_off;
        size_t want = avail < cap ? (size_t)avail : cap;
        ssize_t r = pread(s->rfd, buf, want, (off_t)s->head_off);
        if (r <= 0)
            return 0;
        char *nl = memrchr(buf, '\n', (size_t)r);
        if (nl)
            return (size_t)(nl - buf) + 1;
        /* No newline within cap (or a partial line at the end of a segment
         * whose trim failed): skip to the next newline. */
        if (skipped_lines)
            (*skipped_lines)++;
        uint64_t off = s->head_off + (uint64_t)r;
        char tmp[4096];
        for (;;) {
            ssize_t k = pread(s->rfd, tmp, sizeof(tmp), (off_t)off);
            if (k <= 0) {
                off = s->sizes[0];
                break;
            }
            char *q = memchr(tmp, '\n', (size_t)k);
            if (q) {
                off += (uint64_t)(q - tmp) + 1;
                break;
            }
            off += (uint64_t)k;
        }
        s->head_off = off;
        write_cursor(s);
    }
    return 0;
}

int sw_spool_consume(sw_spool *s, size_t n)
{
    if (!s->nseg)
        return 0;
    s->head_off += n;
    if (s->head_off > s->sizes[0])
        s->head_off = s->sizes[0];
    if (s->head_off == s->sizes[0]) {
        drop_head(s);
        return 0;
    }
    return write_cursor(s);
}
