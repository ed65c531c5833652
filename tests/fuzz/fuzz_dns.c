/* DNS: message parser, EVE serialisation (request and response forms, with
 * detailed and grouped answers) and DNS-over-TCP framing.
 * Input: [mode][chunk seed][bytes]. mode bit 0 clear: bytes are one message
 * (UDP payload); set: bytes are a TCP stream fed in random chunks, every
 * framed message is parsed and serialised. */
#include "decoders/dns.h"
#include "sensor/eve_dns.h"
#include "tests/fuzz/fuzz_common.h"
#include "tests/fuzz/fuzz_json_check.h"

static sw_dns_msg msg;
static sw_json js;
static uint64_t ctr[SW_DNS_CTR_COUNT];
static uint8_t mode;

static void one_message(const uint8_t *buf, size_t n)
{
    int rc = sw_dns_parse(buf, n, &msg);
    sw_dns_count(ctr, rc, &msg);
    FZ_CHECK(rc <= 0 && rc >= SW_DNS_ERR_ARG);
    FZ_CHECK(sw_dns_strerror(rc) != NULL);
    if (rc != 0)
        return;
    FZ_CHECK(msg.parsed_len <= n);
    FZ_CHECK(msg.pool_len <= SW_DNS_POOL_SIZE);
    FZ_CHECK(msg.n_questions <= SW_DNS_MAX_QUESTIONS);
    FZ_CHECK(msg.n_answers <= SW_DNS_MAX_RRS && msg.n_authorities <= SW_DNS_MAX_RRS &&
             msg.n_additionals <= SW_DNS_MAX_RRS);
    for (unsigned i = 0; i < msg.n_questions; i++) {
        sw_dns_ref r = msg.questions[i].name.s;
        FZ_CHECK(r.off + r.len <= msg.pool_len);
        FZ_CHECK(r.len <= SW_DNS_MAX_NAME);
    }
    size_t qlen;
    const uint8_t *q = sw_dns_first_query(&msg, &qlen);
    FZ_CHECK((q == NULL) == (msg.n_questions == 0));
    for (unsigned i = 0; i < msg.n_answers; i++) {
        const sw_dns_rr *rr = &msg.answers[i];
        FZ_CHECK(rr->name.s.off + rr->name.s.len <= msg.pool_len);
        if (rr->type == SW_DNS_T_TXT && rr->rdata_ok) {
            uint32_t pos = 0;
            const uint8_t *s;
            size_t sn;
            unsigned k = 0;
            while (sw_dns_txt_next(&msg, rr, &pos, &s, &sn)) {
                FZ_CHECK(s >= msg.pool && s + sn <= msg.pool + msg.pool_len);
                FZ_CHECK(++k <= 65535);
            }
        }
        char tb[16];
        FZ_CHECK(sw_dns_rrtype_str(rr->type, tb, sizeof tb) != NULL);
    }
    sw_dns_config cfg = {.log_detailed = mode & 2, .log_grouped = mode & 4};
    for (int resp = 0; resp < 2; resp++) {
        swj_reset(&js);
        sw_eve_dns_write(&js, &msg, 7, resp, &cfg);
        fz_check_line(&js, swj_finish(&js));
    }
}

static void on_msg(void *u, const uint8_t *m, size_t n)
{
    (void)u;
    one_message(m, n);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    if (!ready) {
        swj_init(&js);
        ready = 1;
    }
    fz_cur c = fz_init(data, size);
    mode = fz_u8(&c);
    uint32_t seed = fz_u8(&c) | 0x100u;
    size_t n;
    const uint8_t *rest = fz_bytes(&c, fz_left(&c), &n);
    if (!(mode & 1)) {
        one_message(rest, n);
        return 0;
    }
    static sw_dns_tcp tcp;
    sw_dns_tcp_init(&tcp, ctr);
    size_t off = 0;
    while (off < n) {
        size_t k = 1 + fz_rand(&seed) % 300;
        if (k > n - off)
            k = n - off;
        sw_dns_tcp_feed(&tcp, rest + off, k, on_msg, NULL);
        off += k;
        if ((fz_rand(&seed) & 63) == 0)
            sw_dns_tcp_reset(&tcp);
    }
    FZ_CHECK(tcp.have <= SW_DNS_TCP_BUF);
    return 0;
}
