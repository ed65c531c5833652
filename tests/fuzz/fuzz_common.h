/* Helpers shared by the libFuzzer targets (header only: every fuzz_*.c is
 * its own program). Inputs are read through a cursor that never fails: past
 * the end it yields zeros, so every byte string is a valid input. */
#ifndef SW_FUZZ_COMMON_H
#define SW_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct fz_cur {
    const uint8_t *p;
    size_t n, off;
} fz_cur;

static inline fz_cur fz_init(const uint8_t *p, size_t n)
{
    fz_cur c = {p, n, 0};
    return c;
}

static inline size_t fz_left(const fz_cur *c) { return c->n - c->off; }

static inline uint8_t fz_u8(fz_cur *c)
{
    return c->off < c->n ? c->p[c->off++] : 0;
}

static inline uint16_t fz_u16(fz_cur *c)
{
    uint16_t hi = fz_u8(c);
    return (uint16_t)(hi << 8 | fz_u8(c));
}

static inline uint32_t fz_u32(fz_cur *c)
{
    uint32_t hi = fz_u16(c);
    return hi << 16 | fz_u16(c);
}

/* Takes up to want bytes; *got says how many there were. */
static inline const uint8_t *fz_bytes(fz_cur *c, size_t want, size_t *got)
{
    size_t k = fz_left(c) < want ? fz_left(c) : want;
    const uint8_t *r = c->p + c->off;
    c->off += k;
    *got = k;
    return r;
}

/* Deterministic chunk sizes: xorshift seeded from the input. */
static inline uint32_t fz_rand(uint32_t *s)
{
    uint32_t x = *s ? *s : 0x9e3779b9u;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *s = x;
    return x;
}

/* Writes data to a fresh private temp file; returns its path in buf or
 * NULL. The caller unlinks it. */
static inline const char *fz_tempfile(char *buf, size_t cap, const char *suffix,
                                      const uint8_t *data, size_t n)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(buf, cap, "%s/swfuzz-%d-XXXXXX%s", dir, (int)getpid(), suffix);
    int fd = mkstemps(buf, (int)strlen(suffix));
    if (fd < 0)
        return NULL;
    size_t off = 0;
    while (off < n) {
        ssize_t w = write(fd, data + off, n - off);
        if (w <= 0) {
            close(fd);
            unlink(buf);
            return NULL;
        }
        off += (size_t)w;
    }
    close(fd);
    return buf;
}

/* Aborts (a finding) when an invariant of the code under test breaks. */
#define FZ_CHECK(cond)                                                        \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,        \
                    __LINE__, #cond);                                         \
            abort();                                                          \
        }                                                                     \
    } while (0)

#endif
