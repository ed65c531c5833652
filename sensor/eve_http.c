/* EVE http and fileinfo objects. Field order follows Suricata's output so
 * diffs against Suricata's eve.json stay readable. */
#include "sensor/eve_http.h"

#include <string.h>
#include <strings.h>

static void put(sw_json *j, const char *key, sw_http_bytes b)
{
    if (b.p && b.len)
        swj_strn(j, key, b.p, b.len);
}

static void http_fields(sw_json *j, const sw_http_tx *tx)
{
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
}

void sw_eve_http(sw_json *j, const sw_http_tx *tx)
{
    swj_open_object(j, "http");
    http_fields(j, tx);
    swj_close_object(j);
}

/* Suricata copies names and values into fixed buffers of these sizes and
 * logs them as C strings: longer ones are cut, a NUL ends them. */
#define HDR_NAME_MAX 255
#define HDR_VALUE_MAX 2047

static size_t cstr_len(const uint8_t *p, size_t n, size_t max)
{
    if (n > max)
        n = max;
    const uint8_t *z = memchr(p, 0, n);
    return z ? (size_t)(z - p) : n;
}

static bool same_name(sw_http_bytes a, sw_http_bytes b)
{
    return a.len == b.len && strncasecmp((const char *)a.p, (const char *)b.p, a.len) == 0;
}

/* libhtp keeps one entry per header name, in first-seen order, and joins the
 * values of repeated names with ", ": so does this, without allocating, by
 * skipping a name seen earlier and gathering the later values of a new one. */
static void header_array(sw_json *j, const char *key, sw_http_bytes block)
{
    sw_http_bytes rest = block, name, value, n2, v2;
    bool open = false;
    uint8_t vbuf[HDR_VALUE_MAX];
    for (size_t idx = 0; sw_http_header_next(&rest, &name, &value); idx++) {
        sw_http_bytes back = block;
        bool seen = false;
        for (size_t i = 0; i < idx && sw_http_header_next(&back, &n2, &v2); i++)
            if (same_name(n2, name)) {
                seen = true;
                break;
            }
        if (seen)
            continue;
        size_t vl = cstr_len(value.p, value.len, sizeof vbuf);
        memcpy(vbuf, value.p, vl);
        bool cut = vl < value.len;
        sw_http_bytes later = rest;
        while (!cut && sw_http_header_next(&later, &n2, &v2)) {
            if (!same_name(n2, name))
                continue;
            const uint8_t sep[2] = {',', ' '};
            for (size_t k = 0; k < 2 + v2.len && !cut; k++) {
                uint8_t c = k < 2 ? sep[k] : v2.p[k - 2];
                if (vl == sizeof vbuf || c == 0)
                    cut = true;
                else
                    vbuf[vl++] = c;
            }
        }
        if (!open) {
            swj_open_array(j, key);
            open = true;
        }
        swj_open_object(j, NULL);
        swj_strn(j, "name", name.p, cstr_len(name.p, name.len, HDR_NAME_MAX));
        swj_strn(j, "value", vbuf, vl);
        swj_close_object(j);
    }
    if (open)
        swj_close_array(j);
}

void sw_eve_http_event(sw_json *j, const sw_http_tx *tx, unsigned dump)
{
    swj_open_object(j, "http");
    http_fields(j, tx);
    if ((dump & SW_HTTP_DUMP_REQUEST) && tx->has_request)
        header_array(j, "request_headers", tx->req_headers);
    if ((dump & SW_HTTP_DUMP_RESPONSE) && tx->has_response)
        header_array(j, "response_headers", tx->resp_headers);
    swj_close_object(j);
}

void sw_eve_http_anomaly(sw_json *j, unsigned bit)
{
    const char *name = sw_http_event_name(bit);
    swj_open_object(j, "anomaly");
    swj_str(j, "app_proto", "http");
    swj_str(j, "type", "applayer");
    swj_str(j, "event", name ? name : "Unknown");
    swj_str(j, "layer", "proto_parser");
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
