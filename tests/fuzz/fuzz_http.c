/* HTTP/1.x parser fed in random chunk sizes, with file tracking and the EVE
 * http/fileinfo serialisers on every transaction.
 * Input: [chunk seed][config bits][records...], a record being
 * [flags][u16 len][len bytes]: flags bit 0 = direction (1 server to
 * client), bit 1 = a gap of len bytes instead of data. */
#include "decoders/http.h"
#include "sensor/eve_http.h"
#include "sensor/files.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_json_check.h"

static sw_files_thread *magic_thr;
static sw_file file;
static bool file_open;
static sw_json js;

/* Touches every byte of a field so that a dangling pointer is caught. */
static void touch(sw_http_bytes b)
{
    if (!b.p)
        return;
    volatile uint8_t x = 0;
    for (size_t i = 0; i < b.len; i++)
        x ^= b.p[i];
    (void)x;
}

static void touch_tx(const sw_http_tx *tx)
{
    touch(tx->request_line); touch(tx->method); touch(tx->uri_raw); touch(tx->uri);
    touch(tx->protocol); touch(tx->host); touch(tx->user_agent); touch(tx->referer);
    touch(tx->cookie); touch(tx->req_content_type); touch(tx->xff);
    touch(tx->req_headers); touch(tx->req_body); touch(tx->status_str);
    touch(tx->resp_protocol); touch(tx->resp_headers); touch(tx->content_type);
    touch(tx->content_encoding); touch(tx->location); touch(tx->filename);
    touch(tx->resp_body);
    touch(sw_http_header(tx->req_headers, "host"));
    touch(sw_http_header(tx->resp_headers, "content-type"));
}

static void on_req(void *u, const sw_http_tx *tx)
{
    (void)u;
    touch_tx(tx);
    swj_reset(&js);
    sw_eve_http(&js, tx);
    fz_check_line(&js, swj_finish(&js));
}

static void on_resp_headers(void *u, const sw_http_tx *tx)
{
    (void)u;
    touch_tx(tx);
    if (file_open)
        sw_file_close(&file, magic_thr, true);
    sw_file_open_http(&file, tx);
    file_open = true;
}

static void on_body(void *u, const sw_http_tx *tx, const uint8_t *d, size_t n)
{
    (void)u;
    (void)tx;
    if (!file_open)
        return;
    if (d)
        sw_file_update(&file, d, n);
    else
        sw_file_gap(&file, n);
}

static void on_done(void *u, const sw_http_tx *tx)
{
    (void)u;
    touch_tx(tx);
    swj_reset(&js);
    sw_eve_http(&js, tx);
    if (file_open) {
        sw_file_close(&file, magic_thr, tx->resp_truncated);
        file_open = false;
        FZ_CHECK(file.head_len <= SW_FILE_HEAD);
        FZ_CHECK(sw_file_kind_name(file.kind) != NULL);
        (void)sw_file_is_executable_download(&file);
        sw_eve_fileinfo(&js, &file);
    }
    fz_check_line(&js, swj_finish(&js));
}

static const sw_http_callbacks cbs = {on_req, on_resp_headers, on_body, on_done};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static uint64_t ctrs[SW_HTTP_CTR_COUNT];
    if (!ready) {
        char err[256];
        magic_thr = sw_files_thread_new(err, sizeof err);
        if (!magic_thr) {
            fprintf(stderr, "fuzz_http: %s\n", err);
            abort();
        }
        if (sw_file_init(&file) < 0)
            abort();
        swj_init(&js);
        ready = 1;
    }
    fz_cur c = fz_init(data, size);
    uint32_t seed = fz_u8(&c) | 0x100u;
    uint8_t cfgbits = fz_u8(&c);
    sw_http_config hc;
    sw_http_config_defaults(&hc);
    if (cfgbits & 1) { /* tight limits: the paths where they are hit */
        hc.max_header_bytes = 256;
        hc.max_headers = 4;
        hc.request_body_limit = 64;
        hc.response_body_limit = 64;
        hc.max_pipeline = 2;
        hc.max_chunk_size = 4096;
        hc.decompress_max_output = 1024;
        hc.decompress_bomb_min = 256;
    }
    hc.decompress = !(cfgbits & 2);
    sw_http_state *s = sw_http_new(&hc, ctrs);
    if (!s)
        return 0;
    file_open = false;
    uint64_t ts = 1000;
    while (fz_left(&c) >= 3) {
        uint8_t flags = fz_u8(&c);
        uint16_t want = fz_u16(&c);
        int dir = flags & 1;
        ts += 10;
        if (flags & 2) {
            sw_http_gap(s, dir, want, ts, &cbs, NULL);
            continue;
        }
        size_t n;
        const uint8_t *rec = fz_bytes(&c, want, &n);
        size_t off = 0;
        while (off < n) {
            size_t k = 1 + fz_rand(&seed) % ((seed & 0x300) ? 64 : 2000);
            if (k > n - off)
                k = n - off;
            /* Exact-size copy: the parser may keep nothing pointing in it. */
            uint8_t *chunk = malloc(k);
            memcpy(chunk, rec + off, k);
            sw_http_feed(s, dir, chunk, k, ts, &cbs, NULL);
            free(chunk);
            off += k;
        }
    }
    sw_http_close(s, ts + 1, &cbs, NULL);
    (void)sw_http_is_tunnel(s);
    (void)sw_http_is_dead(s);
    sw_http_free(s);
    if (file_open) {
        sw_file_close(&file, magic_thr, true);
        file_open = false;
    }
    return 0;
}
