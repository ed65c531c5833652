/* Streaming JSON builder for EVE events.
 *
 * One builder per thread, reused for every event: the buffer grows only when
 * an event is larger than any before it, so the hot path does not allocate.
 * Keys are trusted literals; every value string is escaped. Byte strings
 * that are not valid UTF-8 are written the way Suricata's JsonBuilder does:
 * each byte >= 0x80 becomes the four characters \xHH (so "\\xHH" in JSON). */
#ifndef SW_JSON_H
#define SW_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SWJ_MAX_DEPTH 32

typedef struct sw_json {
    char *buf;
    size_t len;
    size_t cap;
    int depth;
    bool first[SWJ_MAX_DEPTH]; /* no member written yet at this depth */
    bool oom;                  /* an allocation failed; event is dropped */
} sw_json;

void swj_init(sw_json *j);
void swj_free(sw_json *j);
/* Starts a new top-level object: "{". */
void swj_reset(sw_json *j);
/* Closes the top-level object and appends "\n". Returns the line length or
 * 0 when the builder is unusable (oom or unbalanced). */
size_t swj_finish(sw_json *j);

/* key may be NULL inside arrays. */
void swj_open_object(sw_json *j, const char *key);
void swj_close_object(sw_json *j);
void swj_open_array(sw_json *j, const char *key);
void swj_close_array(sw_json *j);

void swj_str(sw_json *j, const char *key, const char *s);
void swj_strn(sw_json *j, const char *key, const uint8_t *s, size_t n);
void swj_int(sw_json *j, const char *key, int64_t v);
void swj_uint(sw_json *j, const char *key, uint64_t v);
/* Non-finite values are written as null (JSON has no NaN). */
void swj_double(sw_json *j, const char *key, double v);
void swj_bool(sw_json *j, const char *key, bool v);
void swj_null(sw_json *j, const char *key);
/* Appends an already serialised JSON value. */
void swj_raw(sw_json *j, const char *key, const char *json, size_t n);
/* Packet time in EVE form: 2026-11-21T09:13:05.123456+0000 (UTC). */
void swj_ts(sw_json *j, const char *key, uint64_t ts_us);
/* family 4 or 6; addr in network order (4 or 16 bytes). */
void swj_ip(sw_json *j, const char *key, int family, const uint8_t *addr);
/* Lower-case hex of a byte string, e.g. hashes. */
void swj_hex(sw_json *j, const char *key, const uint8_t *b, size_t n, char sep);

/* Standard base64 with padding (EVE's payload and packet). */
void swj_base64(sw_json *j, const char *key, const uint8_t *b, size_t n);
/* Suricata's payload_printable: printable ASCII, CR and LF kept, every
 * other byte a '.', then JSON-escaped. */
void swj_printable(sw_json *j, const char *key, const uint8_t *b, size_t n);

/* Formats ts_us into out (at least 32 bytes); returns the length. */
size_t sw_format_ts(char *out, size_t cap, uint64_t ts_us);
/* Appends the JSON-escaped form of s to j without quotes or key. */
void swj_escape_append(sw_json *j, const uint8_t *s, size_t n);

#endif
