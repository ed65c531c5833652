/* Replays every input under tests/fuzz/regressions/tls/ through the TLS
 * fuzz target (built here with gcc, no libFuzzer): each once crashed the
 * decoder (heap overflow in decoders/tls.c record_payload, SSLv2 record
 * longer than max-handshake-size). Under the sanitizer build a regression
 * aborts this test. */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include "tests/fuzz/fuzz_tls.c"
#include "tests/unit/testutil.h"

static void replay_dir(void **state)
{
    (void)state;
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/tests/fuzz/regressions/tls", tu_srcdir());
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    int n = 0;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        char path[1400];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        assert_non_null(f);
        static uint8_t buf[1 << 20];
        size_t len = fread(buf, 1, sizeof buf, f);
        fclose(f);
        /* exact-size copy so that overreads of the input are caught too */
        uint8_t *in = malloc(len ? len : 1);
        memcpy(in, buf, len);
        assert_int_equal(LLVMFuzzerTestOneInput(in, len), 0);
        free(in);
        n++;
    }
    closedir(d);
    assert_true(n >= 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(replay_dir)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
