/* A finished EVE line must be one line of printable JSON text: no raw
 * control bytes (they would split or corrupt the NDJSON stream) and balanced
 * braces/brackets outside strings. */
#ifndef SW_FUZZ_JSON_CHECK_H
#define SW_FUZZ_JSON_CHECK_H

#include "sensor/json.h"
#include "tests/fuzz/fuzz_common.h"

static inline void fz_check_line(const sw_json *j, size_t n)
{
    if (n == 0)
        return; /* oom/unbalanced: the caller counts it, nothing written */
    FZ_CHECK(n == j->len);
    FZ_CHECK(j->buf[n - 1] == '\n');
    int depth = 0;
    int in_str = 0;
    for (size_t i = 0; i + 1 < n; i++) {
        unsigned char c = (unsigned char)j->buf[i];
        FZ_CHECK(c >= 0x20);
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = 0;
            continue;
        }
        if (c == '"')
            in_str = 1;
        else if (c == '{' || c == '[')
            depth++;
        else if (c == '}' || c == ']')
            depth--;
        FZ_CHECK(depth >= 0);
    }
    FZ_CHECK(!in_str);
    FZ_CHECK(depth == 0);
}

#endif
