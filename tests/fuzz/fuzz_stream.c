/* TCP stream reassembly (one direction) under arbitrary segment, ACK and
 * flush sequences, with an oracle: in "consistent" mode every segment
 * carries the bytes a single true stream has at its offset, so whatever the
 * reassembler delivers (in any order of arrival, with any overlaps, after
 * any drops) must equal that stream at the delivered offset, and delivery
 * (data plus gaps) must be contiguous. At the end every pool chunk must be
 * back (memuse 0).
 * Input: [mode][u32 isn][ops...]; op: [kind][...]. */
#include "sensor/stream.h"
#include "tests/fuzz/fuzz_common.h"

static uint64_t pos;      /* stream offset of the next delivered byte */
static uint64_t data_out; /* data bytes delivered (what depth limits) */
static bool consistent;

static uint8_t pat(uint64_t off) { return (uint8_t)(off * 131u + (off >> 8) * 7u + 3u); }

static void deliver(void *user, const uint8_t *data, uint32_t len)
{
    (void)user;
    FZ_CHECK(len > 0);
    if (data && consistent)
        for (uint32_t i = 0; i < len; i++)
            FZ_CHECK(data[i] == pat(pos + i));
    if (data)
        data_out += len;
    pos += len;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_stream_pool *pools[2];
    static uint64_t depths[2];
    if (!pools[0]) {
        sw_stream_config c;
        sw_stream_config_defaults(&c);
        c.memcap = 64 * 1024; /* small: the memcap path is reachable */
        c.depth = 0;
        c.max_segments = 32;
        pools[0] = sw_stream_pool_new(&c);
        c.depth = 3000;
        c.max_segments = 1000;
        pools[1] = sw_stream_pool_new(&c);
        depths[1] = 3000;
        if (!pools[0] || !pools[1])
            abort();
    }
    fz_cur c = fz_init(data, size);
    uint8_t mode = fz_u8(&c);
    consistent = !(mode & 1);
    sw_stream_pool *pool = pools[(mode >> 1) & 1];
    uint64_t depth = depths[(mode >> 1) & 1];
    uint32_t isn = fz_u32(&c);
    sw_stream s;
    memset(&s, 0, sizeof s);
    pos = 0;
    data_out = 0;
    if (!(mode & 4))
        sw_stream_syn(&s, isn);
    static uint8_t buf[4096];
    uint64_t max_end = 0;
    int ops = 0;
    while (fz_left(&c) > 0 && ops++ < 512) {
        uint8_t kind = fz_u8(&c);
        uint32_t rel = fz_u16(&c);
        if (!consistent && (kind & 0x80))
            rel = fz_u32(&c);
        switch (kind % 4) {
        case 0:
        case 1: {
            uint32_t len = fz_u16(&c) % 2000;
            if (consistent) {
                for (uint32_t i = 0; i < len; i++)
                    buf[i] = pat((uint64_t)rel + i);
            } else {
                size_t got;
                const uint8_t *b = fz_bytes(&c, len, &got);
                memcpy(buf, b, got);
                len = (uint32_t)got;
            }
            /* Exact-size copy: in-order data is delivered from the packet. */
            uint8_t *seg = malloc(len ? len : 1);
            memcpy(seg, buf, len);
            if (!s.started && len)
                pos = rel; /* midstream pickup: the first data is the start */
            sw_stream_segment(pool, &s, isn + 1 + rel, seg, len, deliver, NULL);
            free(seg);
            if ((uint64_t)rel + len > max_end)
                max_end = (uint64_t)rel + len;
            break;
        }
        case 2:
            sw_stream_ack(pool, &s, isn + 1 + rel, deliver, NULL);
            if (rel > max_end)
                max_end = rel;
            break;
        case 3:
            if (kind & 0x40)
                sw_stream_flush(pool, &s, deliver, NULL);
            break;
        }
        if (consistent) {
            /* Nothing is delivered beyond what was sent or acknowledged. */
            FZ_CHECK(pos <= max_end);
            if (depth) /* gaps do not count against depth */
                FZ_CHECK(data_out <= depth);
        }
    }
    if (mode & 8)
        sw_stream_flush(pool, &s, deliver, NULL);
    sw_stream_release(pool, &s);
    sw_ctr_group g = sw_stream_counters(pool);
    FZ_CHECK(g.n == SW_STREAM_CTR_COUNT);
    FZ_CHECK(g.vals[SW_CTR_STREAM_MEMUSE] == 0);
    return 0;
}
