/* EVE http and fileinfo objects. Field order follows Suricata's output so
 * diffs against Suricata's eve.json stay readable. */
#include "sensor/eve_http.h"

#include <string.h>

static void put(sw_json *j, const char *key, sw_http_bytes b)
{
    if (b.p && b.len)
        swj_strn(j, key, b.p, b.len);
}

void sw_eve_http(sw_json *j, const sw_http_tx *tx)
{
    swj_open_object(j, "http");
    put(j, "hostname", tx->host);
    if (tx->port >= 0)
        swj_uint(j, "http_port", (uint64_t)tx->port);
    put(j, "url", tx->uri_raw);
    put(j, "http_user_agent", tx->user_agent);
    put(j, "xff", tx->xff);
    if (tx->content_type.p && tx->content_type.len) {
        /* Suricata logs the media type without parameters */
        const uint8_t *semi = memchr(tx->content_type.p, ';', tx->content_type.len);
        size_t n = semi ? (size_t)(semi - tx->content_type.p) : tx->content_type.len;
        while (n && (tx->content_type.p[n - 1] == ' ' || tx->content_type.p[n - 1] == '\t'))
            n--;
        if (n)
            swj_strn(j, "http_content_type", tx->content_type.p, n);
    }
    put(j, "http_refer", tx->referer);
    put(j, "http_method", tx->method);
    put(j, "protocol", tx->protocol);
    if (tx->has_response) {
        if (tx->status > 0)
            swj_uint(j, "status", (uint64_t)tx->status);
        else
            put(j, "status_string", tx->status_str);
    }
    put(j, "redirect", tx->location);
    swj_uint(j, "length", tx->resp_length);
    swj_close_object(j);
}

void sw_eve_fileinfo(sw_json *j, const sw_file *f)
{
    swj_open_object(j, "fileinfo");
    swj_strn(j, "filename", (const uint8_t *)f->filename, f->filename_len);
    if (f->magic[0])
        swj_str(j, "magic", f->magic);
    swj_bool(j, "gaps", f->gaps);
    swj_str(j, "state", f->state == SW_FILE_CLOSED      ? "CLOSED"
                        : f->state == SW_FILE_TRUNCATED ? "TRUNCATED"
                                                        : "UNKNOWN");
    if (f->state == SW_FILE_CLOSED) {
        swj_hex(j, "md5", f->md5_digest, sizeof(f->md5_digest), 0);
        swj_hex(j, "sha1", f->sha1_digest, sizeof(f->sha1_digest), 0);
    }
    if (f->state == SW_FILE_CLOSED || f->state == SW_FILE_TRUNCATED)
        swj_hex(j, "sha256", f->sha256_digest, sizeof(f->sha256_digest), 0);
    swj_bool(j, "stored", false);
    swj_uint(j, "size", f->size);
    swj_uint(j, "tx_id", f->tx_id);
    swj_close_object(j);
}
