#define _GNU_SOURCE /* memrchr, POLLRDHUP */
/* Regular-file EVE output: whole lines only (a batch is written with
 * O_APPEND, a short write is cut back to the last newline), reopen on
 * SIGHUP, rotation by size and/or time with gzip in a background thread,
 * and a disk-full state that is counted and cleared on recovery.
 *
 * The gzip thread has no queue of names: on each wake-up it compresses every
 * rotated file of this output still lying uncompressed in the directory.
 * So a burst of rotations is never dropped, and files a crash or an earlier
 * run left behind get compressed too. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "sensor/output.h"

struct sw_ofile {
    sw_output_config c;
    char path[PATH_MAX];
    int fd;
    uint64_t bytes, opened_us;
    uint64_t *ctr;
    bool disk_full;
    /* A failed write left a fragment we could not cut off: its start, so
     * the next write can retry the cut before appending. */
    bool trim_pending;
    uint64_t trim_to;

    pthread_t zt;
    bool zt_started, zstop, zwork;
    pthread_mutex_t zmu;
    pthread_cond_t zcv;
};

static uint64_t now_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int open_fd(sw_ofile *f)
{
    f->fd = open(f->path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (f->fd < 0)
        return -1;
    struct stat st;
    f->bytes = fstat(f->fd, &st) == 0 ? (uint64_t)st.st_size : 0;
    f->opened_us = now_wall_us();
    return 0;
}

/* gzip src to src.gz (via a temporary name so a half-written .gz is never
 * mistaken for a finished one), then remove src. */
static bool gzip_file(const char *src)
{
    char tmp[PATH_MAX + 16], dst[PATH_MAX + 8];
    snprintf(tmp, sizeof(tmp), "%s.gz.tmp", src);
    snprintf(dst, sizeof(dst), "%s.gz", src);
    int in = open(src, O_RDONLY | O_CLOEXEC);
    if (in < 0)
        return false;
    gzFile z = gzopen(tmp, "wb6");
    bool ok = z != NULL;
    char buf[65536];
    while (ok) {
        ssize_t r = read(in, buf, sizeof(buf));
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            ok = false;
        if (r <= 0)
            break;
        if (gzwrite(z, buf, (unsigned)r) != (int)r)
            ok = false;
    }
    close(in);
    if (z && gzclose(z) != Z_OK)
        ok = false;
    if (ok && rename(tmp, dst) == 0) {
        unlink(src);
        return true;
    }
    unlink(tmp); /* keep the uncompressed file rather than lose it */
    return false;
}

/* NAME is BASE.YYYYmmddTHHMMSSZ or BASE.YYYYmmddTHHMMSSZ.N: what rotate()
 * makes, and nothing a user would name by hand. */
bool sw_ofile_is_rotated_name(const char *base, const char *name)
{
    size_t bl = strlen(base);
    if (strncmp(name, base, bl) != 0 || name[bl] != '.')
        return false;
    const char *s = name + bl + 1;
    static const char shape[] = "ddddddddTddddddZ";
    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        char c = s[i];
        if (shape[i] == 'd' ? (c < '0' || c > '9') : c != shape[i])
            return false;
    }
    s += sizeof(shape) - 1;
    if (*s == '\0')
        return true;
    if (*s++ != '.' || *s == '\0')
        return false;
    for (; *s; s++)
        if (*s < '0' || *s > '9')
            return false;
    return true;
}

/* Compresses every rotated file of F still uncompressed; returns how many
 * could not be (they stay as they are and are counted). */
static unsigned gzip_pending(sw_ofile *f)
{
    char dir[PATH_MAX], base[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", f->path);
    char *slash = strrchr(dir, '/');
    if (slash) {
        snprintf(base, sizeof(base), "%s", slash + 1);
        if (slash == dir)
            slash[1] = '\0';
        else
            *slash = '\0';
    } else {
        snprintf(base, sizeof(base), "%s", dir);
        snprintf(dir, sizeof(dir), ".");
    }
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    unsigned failed = 0;
    struct dirent *de;
    while ((de = readdir(d))) {
        if (!sw_ofile_is_rotated_name(base, de->d_name))
            continue;
        char p[PATH_MAX];
        int n = snprintf(p, sizeof(p), "%s/%s", dir, de->d_name);
        if (n < 0 || (size_t)n >= sizeof(p) || !gzip_file(p))
            failed++;
    }
    closedir(d);
    return failed;
}

static void *zthread(void *arg)
{
    sw_ofile *f = arg;
    pthread_mutex_lock(&f->zmu);
    for (;;) {
        while (!f->zwork && !f->zstop)
            pthread_cond_wait(&f->zcv, &f->zmu);
        bool stop = f->zstop && !f->zwork;
        f->zwork = false;
        pthread_mutex_unlock(&f->zmu);
        if (stop)
            break;
        unsigned failed = gzip_pending(f);
        if (failed)
            SW_OCTR_ADD(f->ctr, SW_OCTR_COMPRESS_ERRORS, failed);
        pthread_mutex_lock(&f->zmu);
    }
    return NULL;
}

sw_ofile *sw_ofile_open(const sw_output_config *c, const char *logdir, uint64_t *ctr,
                        char *err, size_t errlen)
{
    sw_ofile *f = calloc(1, sizeof(*f));
    if (!f) {
        snprintf(err, errlen, "output %s: out of memory", c->name);
        return NULL;
    }
    f->c = *c;
    f->ctr = ctr;
    f->fd = -1;
    if (c->filename[0] == '/' || !logdir)
        snprintf(f->path, sizeof(f->path), "%s", c->filename);
    else
        snprintf(f->path, sizeof(f->path), "%s/%s", logdir, c->filename);
    if (open_fd(f) != 0) {
        snprintf(err, errlen, "output %s: %s: %s", c->name, f->path, strerror(errno));
        free(f);
        return NULL;
    }
    pthread_mutex_init(&f->zmu, NULL);
    pthread_cond_init(&f->zcv, NULL);
    if (c->rotate_compress && (c->rotate_size || c->rotate_interval_us)) {
        f->zwork = true; /* leftovers of an earlier run */
        if (pthread_create(&f->zt, NULL, zthread, f) == 0)
            f->zt_started = true;
    }
    return f;
}

static void set_disk_full(sw_ofile *f, bool full)
{
    if (full == f->disk_full)
        return;
    f->disk_full = full;
    SW_CTR_SET(f->ctr, SW_OCTR_DISK_FULL, full ? 1 : 0);
    if (!full)
        SW_OCTR_ADD(f->ctr, SW_OCTR_RECOVERIES, 1);
}

static void rotate(sw_ofile *f, uint64_t now_us);

/* Cuts a fragment an earlier failed write left at the end of the file.
 * If the cut fails again, a newline closes the fragment so that it, not the
 * next event, is the one unparseable line. */
static bool finish_trim(sw_ofile *f)
{
    if (!f->trim_pending)
        return true;
    if (ftruncate(f->fd, (off_t)f->trim_to) == 0) {
        f->bytes = f->trim_to;
        f->trim_pending = false;
        return true;
    }
    if (write(f->fd, "\n", 1) == 1) {
        f->bytes++;
        f->trim_pending = false;
        return true;
    }
    return false;
}

/* A pending cut belongs to the file it was for: try it once more before
 * letting go of that file. */
static void close_fd(sw_ofile *f)
{
    if (f->fd >= 0) {
        finish_trim(f);
        close(f->fd);
    }
    f->fd = -1;
    f->trim_pending = false;
}

static void write_chunk(sw_ofile *f, const char *buf, size_t len)
{
    if ((f->fd < 0 && open_fd(f) != 0) || !finish_trim(f)) {
        SW_OCTR_ADD(f->ctr, SW_OCTR_WRITE_ERRORS, sw_out_count_lines(buf, len));
        set_disk_full(f, true);
        return;
    }
    size_t done = 0;
    while (done < len) {
        ssize_t w = write(f->fd, buf + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        if (w > 0) {
            done += (size_t)w;
            continue;
        }
        /* Disk full or I/O error: cut the file back to the last whole line
         * this batch wrote, count the rest, and carry on. */
        const char *nl = done ? memrchr(buf, '\n', done) : NULL;
        size_t keep = nl ? (size_t)(nl - buf) + 1 : 0;
        struct stat st;
        if (keep < done && fstat(f->fd, &st) == 0 && (uint64_t)st.st_size >= done - keep) {
            f->trim_to = (uint64_t)st.st_size - (done - keep);
            f->trim_pending = true;
            finish_trim(f);
        }
        SW_OCTR_ADD(f->ctr, SW_OCTR_SENT, sw_out_count_lines(buf, keep));
        SW_OCTR_ADD(f->ctr, SW_OCTR_WRITE_ERRORS, sw_out_count_lines(buf + keep, len - keep));
        f->bytes += keep;
        set_disk_full(f, true);
        return;
    }
    f->bytes += len;
    SW_OCTR_ADD(f->ctr, SW_OCTR_SENT, sw_out_count_lines(buf, len));
    set_disk_full(f, false);
}

bool sw_ofile_rotate_due(const sw_output_config *c, uint64_t bytes, uint64_t opened_us,
                         uint64_t now_us)
{
    if (c->rotate_size && bytes >= c->rotate_size)
        return true;
    if (c->rotate_interval_us && bytes > 0 && now_us >= opened_us + c->rotate_interval_us)
        return true;
    return false;
}

static void rotate(sw_ofile *f, uint64_t now_us)
{
    char dst[PATH_MAX + 64], stamp[32];
    time_t t = (time_t)(now_us / 1000000u);
    struct tm tm;
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
    struct stat st;
    for (int k = 0;; k++) {
        if (k == 0)
            snprintf(dst, sizeof(dst), "%s.%s", f->path, stamp);
        else
            snprintf(dst, sizeof(dst), "%s.%s.%d", f->path, stamp, k);
        char gz[PATH_MAX + 72];
        snprintf(gz, sizeof(gz), "%s.gz", dst);
        if (stat(dst, &st) != 0 && stat(gz, &st) != 0)
            break;
        if (k > 1000)
            return;
    }
    if (rename(f->path, dst) != 0)
        return;
    close_fd(f);
    open_fd(f);
    f->opened_us = now_us;
    SW_OCTR_ADD(f->ctr, SW_OCTR_ROTATIONS, 1);
    if (!f->zt_started)
        return;
    pthread_mutex_lock(&f->zmu);
    f->zwork = true;
    pthread_cond_signal(&f->zcv);
    pthread_mutex_unlock(&f->zmu);
}

/* Size rotation cuts inside a batch (on a line end) so files stay near
 * rotate_size however large the batches are. */
void sw_ofile_write(sw_ofile *f, const char *buf, size_t len)
{
    while (len) {
        size_t n = len;
        if (f->c.rotate_size) {
            if (f->fd >= 0 && f->bytes >= f->c.rotate_size)
                rotate(f, now_wall_us());
            uint64_t room = f->bytes < f->c.rotate_size ? f->c.rotate_size - f->bytes : 0;
            if (room < len) {
                const char *nl = room ? memrchr(buf, '\n', (size_t)room) : NULL;
                if (!nl)
                    nl = memchr(buf, '\n', len); /* at least one line per file */
                n = nl ? (size_t)(nl - buf) + 1 : len;
            }
        }
        write_chunk(f, buf, n);
        buf += n;
        len -= n;
    }
}

void sw_ofile_tick(sw_ofile *f, uint64_t now_us)
{
    if (f->fd >= 0 && sw_ofile_rotate_due(&f->c, f->bytes, f->opened_us, now_us))
        rotate(f, now_us);
}

void sw_ofile_reopen(sw_ofile *f)
{
    close_fd(f);
    open_fd(f);
}

void sw_ofile_close(sw_ofile *f)
{
    if (!f)
        return;
    close_fd(f);
    if (f->zt_started) {
        pthread_mutex_lock(&f->zmu);
        f->zstop = true;
        pthread_cond_signal(&f->zcv);
        pthread_mutex_unlock(&f->zmu);
        pthread_join(f->zt, NULL);
    }
    pthread_mutex_destroy(&f->zmu);
    pthread_cond_destroy(&f->zcv);
    free(f);
}
