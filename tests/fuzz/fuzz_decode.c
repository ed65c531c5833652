/* L2-L4 decoders: sw_decode_packet over every linktype the sensor accepts.
 * Input: [selector][packet bytes]; the selector's low 6 bits pick the
 * linktype, bit 6 tries Teredo on every UDP port, bit 7 marks the packet
 * as cut by a snap length. Checks that every view the
 * decoder hands out lies inside the captured bytes. */
#include "decoders/decode.h"
#include "tests/fuzz/fuzz_common.h"

static const int linktypes[] = {
    SW_DLT_EN10MB, SW_DLT_NULL, SW_DLT_RAW,   SW_DLT_LOOP,       SW_DLT_LINKTYPE_RAW,
    SW_DLT_LINUX_SLL, SW_DLT_IPV4, SW_DLT_IPV6, SW_DLT_LINUX_SLL2, 9999,
    SW_DLT_PPP,
};

static void inside(const sw_packet *p, const uint8_t *ptr, uint32_t len)
{
    if (!ptr)
        return;
    FZ_CHECK(ptr >= p->data);
    FZ_CHECK((size_t)(ptr - p->data) + len <= p->caplen);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static sw_dec_ctx ctx;
    static int ready;
    if (!ready) {
        sw_dec_config c;
        sw_dec_config_defaults(&c);
        sw_dec_ctx_init(&ctx, &c);
        ready = 1;
    }
    sw_packet p;
    memset(&p, 0, sizeof p);
    p.linktype = linktypes[(data[0] & 0x3f) % (sizeof linktypes / sizeof linktypes[0])];
    p.data = data + 1;
    p.caplen = (uint32_t)(size - 1);
    p.wirelen = p.caplen + (data[0] >> 7) * 100; /* sometimes "snapped" */
    /* half the inputs try Teredo on every UDP port, not only 3544 */
    ctx.cfg.teredo_any_port = (data[0] >> 6) & 1;
    p.ts_us = 1;
    sw_dec_result r = sw_decode_packet(&ctx, &p);
    FZ_CHECK(r == SW_DEC_OK || r == SW_DEC_FRAGMENT || r == SW_DEC_NOT_IP ||
             r == SW_DEC_INVALID);
    FZ_CHECK(p.n_events <= SW_MAX_PKT_EVENTS);
    for (unsigned i = 0; i < p.n_events; i++)
        FZ_CHECK(sw_dec_event_name(p.events[i]) != NULL);
    if (p.ip.version) {
        FZ_CHECK(p.ip.version == 4 || p.ip.version == 6);
        inside(&p, p.ip.hdr, p.ip.hdr_len);
        inside(&p, p.ip.payload, p.ip.payload_len);
    }
    inside(&p, p.l4.payload, p.l4.payload_len);
    (void)sw_packet_pair_hash(&p);
    sw_ctr_group g = sw_dec_counters(&ctx);
    FZ_CHECK(g.n == SW_DEC_CTR_COUNT);
    return 0;
}
