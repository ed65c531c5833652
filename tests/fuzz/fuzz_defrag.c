/* IPv4/IPv6 reassembly. Input: [policy/flags][records...], a record being
 * [u16 len][raw IP packet]. Each record is decoded as LINKTYPE_RAW and, if
 * it is a fragment, handed to the defragmenter; every datagram it gives back
 * is decoded again (the pipeline's path). Small limits make the memcap,
 * tracker and fragment limits reachable. */
#include "decoders/decode.h"
#include "decoders/defrag.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_dec_ctx ctx;
    static int ready;
    if (!ready) {
        sw_dec_config c;
        sw_dec_config_defaults(&c);
        sw_dec_ctx_init(&ctx, &c);
        ready = 1;
    }
    fz_cur cur = fz_init(data, size);
    uint8_t mode = fz_u8(&cur);
    sw_defrag_config dc;
    sw_defrag_config_defaults(&dc);
    dc.policy = mode & 1 ? SW_DEFRAG_POLICY_LAST : SW_DEFRAG_POLICY_FIRST;
    dc.memcap = (mode & 2) ? 256 * 1024 : 4 * 1024 * 1024;
    dc.max_trackers = (mode & 4) ? 4 : 64;
    dc.max_frags = (mode & 8) ? 8 : 256;
    dc.timeout_us = 1000000;
    sw_defrag *d = sw_defrag_new(&dc);
    if (!d)
        return 0;
    uint64_t ts = 1000000;
    while (fz_left(&cur) > 2) {
        size_t n;
        uint16_t want = fz_u16(&cur);
        const uint8_t *pkt = fz_bytes(&cur, want, &n);
        /* A private copy so that reads past the record are caught. */
        uint8_t *copy = malloc(n ? n : 1);
        memcpy(copy, pkt, n);
        sw_packet p;
        memset(&p, 0, sizeof p);
        p.linktype = SW_DLT_LINKTYPE_RAW;
        p.data = copy;
        p.caplen = p.wirelen = (uint32_t)n;
        ts += (want & 0x8000) ? 2000000 : 1000; /* sometimes past the timeout */
        p.ts_us = ts;
        if (sw_decode_packet(&ctx, &p) == SW_DEC_FRAGMENT) {
            uint32_t len = 0;
            const uint8_t *dg = sw_defrag_add(d, &p, &len);
            if (dg) {
                FZ_CHECK(len > 0);
                uint8_t *dcopy = malloc(len);
                memcpy(dcopy, dg, len);
                p.n_events = 0;
                sw_decode_ip_datagram(&ctx, &p, dcopy, len);
                if (p.l4.payload)
                    FZ_CHECK(p.l4.payload >= dcopy &&
                             (size_t)(p.l4.payload - dcopy) + p.l4.payload_len <= len);
                free(dcopy);
            }
        }
        free(copy);
        sw_defrag_expire(d, ts);
    }
    sw_ctr_group g = sw_defrag_counters(d);
    FZ_CHECK(g.n == SW_DF_CTR_COUNT);
    sw_defrag_free(d);
    return 0;
}
