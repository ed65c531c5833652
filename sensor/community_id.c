#include "sensor/community_id.h"

#include <openssl/evp.h>
#include <pthread.h>
#include <string.h>

/* ICMP types that have a request/reply counterpart: the pair is treated as a
 * two-way conversation, everything else as one-way (spec, section ICMP). */
static int icmp4_peer(uint8_t t)
{
    switch (t) {
    case 8: return 0;   case 0: return 8;
    case 13: return 14; case 14: return 13;
    case 15: return 16; case 16: return 15;
    case 10: return 9;  case 9: return 10;
    case 17: return 18; case 18: return 17;
    default: return -1;
    }
}

static int icmp6_peer(uint8_t t)
{
    switch (t) {
    case 128: return 129; case 129: return 128;
    case 133: return 134; case 134: return 133;
    case 135: return 136; case 136: return 135;
    case 130: return 131; case 131: return 130;
    case 144: return 145; case 145: return 144;
    default: return -1;
    }
}

/* OpenSSL 3 looks the algorithm up on every EVP_sha1() digest call unless
 * it is fetched once: this runs for every new flow. */
static EVP_MD *g_sha1;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;

static void fetch_sha1(void)
{
    g_sha1 = EVP_MD_fetch(NULL, "SHA1", NULL);
}

void sw_community_id(uint16_t seed, int family, const uint8_t *saddr,
                     const uint8_t *daddr, uint8_t proto, uint16_t sport,
                     uint16_t dport, char out[32])
{
    size_t alen = family == 6 ? 16 : 4;
    int one_way = 0;
    if (proto == 1 || proto == 58) {
        int peer = proto == 1 ? icmp4_peer((uint8_t)sport) : icmp6_peer((uint8_t)sport);
        if (peer >= 0)
            dport = (uint16_t)peer;
        else
            one_way = 1;
    }
    const uint8_t *a1 = saddr, *a2 = daddr;
    uint16_t p1 = sport, p2 = dport;
    if (!one_way) {
        int c = memcmp(a1, a2, alen);
        if (c > 0 || (c == 0 && p1 > p2)) {
            a1 = daddr;
            a2 = saddr;
            p1 = dport;
            p2 = sport;
        }
    }
    uint8_t buf[2 + 16 + 16 + 2 + 2 + 2];
    size_t n = 0;
    buf[n++] = (uint8_t)(seed >> 8);
    buf[n++] = (uint8_t)seed;
    memcpy(buf + n, a1, alen);
    n += alen;
    memcpy(buf + n, a2, alen);
    n += alen;
    buf[n++] = proto;
    buf[n++] = 0;
    /* Protocols without ports hash only the addresses and protocol. */
    if (proto == 1 || proto == 58 || proto == 6 || proto == 17 || proto == 132) {
        buf[n++] = (uint8_t)(p1 >> 8);
        buf[n++] = (uint8_t)p1;
        buf[n++] = (uint8_t)(p2 >> 8);
        buf[n++] = (uint8_t)p2;
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int mdlen = 0;
    pthread_once(&g_once, fetch_sha1);
    EVP_Digest(buf, n, md, &mdlen, g_sha1 ? g_sha1 : EVP_sha1(), NULL);
    out[0] = '1';
    out[1] = ':';
    EVP_EncodeBlock((unsigned char *)out + 2, md, (int)mdlen);
}
