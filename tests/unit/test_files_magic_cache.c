/* The per-thread libmagic answer cache must not be poisonable by the
 * sender: a file whose leading bytes were crafted to collide with those of
 * a file seen before must still get its own libmagic answer.
 *
 * The cache used to be keyed by a 64-bit FNV-style mix of the head, which
 * is invertible word by word: choosing the last 8 bytes of an ELF head
 * makes it hash like a PNG head, and the ELF was logged as
 * "PNG image data". old_head_hash() below is that function, kept here only
 * to build the colliding input. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "sensor/files.h"

#define N 512 /* a multiple of 8: the old mix had no tail bytes then */
#define P 0x100000001b3ULL

static uint64_t old_mix_words(const uint8_t *p, size_t nwords, uint64_t h)
{
    for (size_t i = 0; i < nwords; i++) {
        uint64_t w;
        memcpy(&w, p + 8 * i, 8);
        h = (h ^ w) * P;
        h ^= h >> 29;
    }
    return h;
}

static uint64_t old_head_hash(const uint8_t *p, size_t n)
{
    uint64_t h = old_mix_words(p, n / 8, 0xcbf29ce484222325ULL ^ n);
    return h ? h : 1;
}

/* Rewrites the last 8 bytes of b so that old_head_hash(b) == target. */
static void force_collision(uint8_t *b, size_t n, uint64_t target)
{
    uint64_t s = old_mix_words(b, n / 8 - 1, 0xcbf29ce484222325ULL ^ n);
    uint64_t y = target;
    y ^= (y >> 29) ^ (y >> 58); /* undoes h ^= h >> 29 */
    uint64_t inv = P;
    for (int i = 0; i < 6; i++)
        inv *= 2 - P * inv;
    uint64_t w = s ^ (y * inv);
    memcpy(b + n - 8, &w, 8);
}

static void make_png(uint8_t *b)
{
    static const uint8_t hdr[] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n', 0, 0, 0, 13,
                                  'I', 'H', 'D', 'R', 0, 0, 0, 16, 0, 0, 0, 16,
                                  8, 2, 0, 0, 0, 0x90, 0x91, 0x68, 0x36};
    memset(b, 0, N);
    memcpy(b, hdr, sizeof hdr);
}

static void make_elf(uint8_t *b)
{
    static const uint8_t hdr[] = {0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                  2, 0, 0x3e, 0, 1, 0, 0, 0};
    memset(b, 0, N);
    memcpy(b, hdr, sizeof hdr);
}

static void run_file(sw_file *f, sw_files_thread *t, const uint8_t *b)
{
    sw_file_open(f, (const uint8_t *)"x", 1, NULL, 0, 1);
    sw_file_update(f, b, N);
    sw_file_close(f, t, false);
}

static void test_crafted_collision_gets_its_own_magic(void **st)
{
    (void)st;
    char err[256];
    uint8_t png[N], elf[N];
    make_png(png);
    make_elf(elf);
    force_collision(elf, N, old_head_hash(png, N));
    /* the input is what it claims to be: a collision under the old key */
    assert_true(old_head_hash(elf, N) == old_head_hash(png, N));
    assert_memory_not_equal(png, elf, N);

    /* what libmagic says about each on its own */
    sw_files_thread *fresh = sw_files_thread_new(err, sizeof err);
    assert_non_null(fresh);
    sw_file f;
    assert_int_equal(sw_file_init(&f), 0);
    run_file(&f, fresh, elf);
    assert_non_null(strstr(f.magic, "ELF"));
    char elf_alone[SW_FILE_MAGIC_MAX];
    snprintf(elf_alone, sizeof elf_alone, "%s", f.magic);
    sw_files_thread_free(fresh);

    /* the PNG first, then the colliding ELF on the same thread */
    sw_files_thread *t = sw_files_thread_new(err, sizeof err);
    assert_non_null(t);
    run_file(&f, t, png);
    assert_non_null(strstr(f.magic, "PNG"));
    run_file(&f, t, elf);
    assert_string_equal(f.magic, elf_alone);
    assert_null(strstr(f.magic, "PNG"));
    assert_int_equal(f.kind, SW_FILE_KIND_ELF);

    /* and the cache still answers a true repeat */
    run_file(&f, t, png);
    assert_non_null(strstr(f.magic, "PNG"));
    sw_files_thread_free(t);
    sw_file_cleanup(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crafted_collision_gets_its_own_magic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
