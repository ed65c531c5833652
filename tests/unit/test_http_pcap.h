/* Test helper: reads one TCP connection of a capture into the ordered list
 * of in-order stream chunks (and gaps) per direction, as reassembly would
 * hand them to an application parser. Small and strict on purpose: only
 * what the HTTP/file tests need (Ethernet/VLAN, Linux SLL, NULL, raw IP;
 * IPv4/IPv6; no IP options parsing beyond IHL). */
#ifndef TEST_HTTP_PCAP_H
#define TEST_HTTP_PCAP_H

#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/unit/testutil.h"

typedef struct tp_chunk {
    int dir;       /* 0 client->server, 1 server->client */
    size_t off;    /* into data[dir]; for gaps unused */
    size_t len;
    int gap;       /* 1: len bytes lost */
    uint64_t ts_us;
} tp_chunk;

typedef struct tp_seg {
    uint32_t seq;
    size_t len;
    uint8_t *p;
    uint64_t ts;
} tp_seg;

typedef struct tp_conn {
    uint8_t *data[2];
    size_t len[2], cap[2];
    tp_chunk *ch;
    size_t nch, capch;
    /* internal */
    int have;
    uint8_t cli[16], srv[16];
    int alen;
    uint16_t cport, sport;
    uint32_t next[2];
    int isn_known[2];
    tp_seg *ooo[2];
    size_t nooo[2];
} tp_conn;

static void tp_emit(tp_conn *c, int dir, const uint8_t *p, size_t n, uint64_t ts)
{
    if (c->len[dir] + n > c->cap[dir]) {
        c->cap[dir] = (c->len[dir] + n) * 2 + 4096;
        c->data[dir] = realloc(c->data[dir], c->cap[dir]);
    }
    if (c->nch == c->capch) {
        c->capch = c->capch * 2 + 64;
        c->ch = realloc(c->ch, c->capch * sizeof(tp_chunk));
    }
    tp_chunk k = {dir, c->len[dir], n, p ? 0 : 1, ts};
    c->ch[c->nch++] = k;
    if (p) {
        memcpy(c->data[dir] + c->len[dir], p, n);
        c->len[dir] += n;
    }
}

static void tp_drain(tp_conn *c, int dir)
{
    int progress = 1;
    while (progress) {
        progress = 0;
        for (size_t i = 0; i < c->nooo[dir]; i++) {
            tp_seg *s = &c->ooo[dir][i];
            int32_t d = (int32_t)(s->seq - c->next[dir]);
            if (d <= 0) {
                size_t skip = (size_t)(-d);
                if (skip < s->len) {
                    tp_emit(c, dir, s->p + skip, s->len - skip, s->ts);
                    c->next[dir] += (uint32_t)(s->len - skip);
                }
                free(s->p);
                c->ooo[dir][i] = c->ooo[dir][--c->nooo[dir]];
                progress = 1;
                break;
            }
        }
    }
}

static void tp_tcp(tp_conn *c, const uint8_t *src, const uint8_t *dst, int alen,
                   const uint8_t *t, size_t tl, uint64_t ts, uint16_t want_port)
{
    if (tl < 20)
        return;
    uint16_t sp = (uint16_t)(t[0] << 8 | t[1]), dp = (uint16_t)(t[2] << 8 | t[3]);
    uint32_t seq = (uint32_t)t[4] << 24 | (uint32_t)t[5] << 16 | (uint32_t)t[6] << 8 | t[7];
    size_t hl = (size_t)(t[12] >> 4) * 4;
    uint8_t fl = t[13];
    if (hl < 20 || hl > tl)
        return;
    if (!c->have) {
        if (want_port && sp != want_port && dp != want_port)
            return;
        /* the client is the SYN sender, else the side not on want_port,
         * else the first talker */
        int from_client = (fl & 0x02) ? !(fl & 0x10) : (want_port ? dp == want_port : 1);
        c->have = 1;
        c->alen = alen;
        memcpy(c->cli, from_client ? src : dst, (size_t)alen);
        memcpy(c->srv, from_client ? dst : src, (size_t)alen);
        c->cport = from_client ? sp : dp;
        c->sport = from_client ? dp : sp;
    }
    int dir;
    if (alen == c->alen && sp == c->cport && dp == c->sport && !memcmp(src, c->cli, (size_t)alen))
        dir = 0;
    else if (alen == c->alen && sp == c->sport && dp == c->cport && !memcmp(src, c->srv, (size_t)alen))
        dir = 1;
    else
        return;
    const uint8_t *p = t + hl;
    size_t n = tl - hl;
    if (fl & 0x02) {
        c->next[dir] = seq + 1;
        c->isn_known[dir] = 1;
        return;
    }
    if (!c->isn_known[dir]) {
        c->next[dir] = seq;
        c->isn_known[dir] = 1;
    }
    if (n == 0)
        return;
    tp_seg s = {seq, n, malloc(n), ts};
    memcpy(s.p, p, n);
    c->ooo[dir] = realloc(c->ooo[dir], (c->nooo[dir] + 1) * sizeof(tp_seg));
    c->ooo[dir][c->nooo[dir]++] = s;
    tp_drain(c, dir);
}

/* Reads the first TCP connection (on port want_port if non-zero). Returns
 * 0 on success. Segments left behind a hole at the end become a gap. */
static int tp_read(const char *path, uint16_t want_port, tp_conn *c)
{
    char eb[PCAP_ERRBUF_SIZE];
    memset(c, 0, sizeof(*c));
    pcap_t *pc = pcap_open_offline(path, eb);
    if (!pc) {
        fprintf(stderr, "%s: %s\n", path, eb);
        return -1;
    }
    int dl = pcap_datalink(pc);
    struct pcap_pkthdr *h;
    const u_char *pkt;
    while (pcap_next_ex(pc, &h, &pkt) == 1) {
        const uint8_t *p = pkt;
        size_t n = h->caplen;
        uint16_t et = 0;
        if (dl == DLT_EN10MB) {
            if (n < 14)
                continue;
            et = (uint16_t)(p[12] << 8 | p[13]);
            p += 14;
            n -= 14;
            while ((et == 0x8100 || et == 0x88a8) && n >= 4) {
                et = (uint16_t)(p[2] << 8 | p[3]);
                p += 4;
                n -= 4;
            }
        } else if (dl == DLT_LINUX_SLL) {
            if (n < 16)
                continue;
            et = (uint16_t)(p[14] << 8 | p[15]);
            p += 16;
            n -= 16;
        } else if (dl == DLT_NULL || dl == DLT_LOOP) {
            if (n < 4)
                continue;
            et = (p[4] >> 4) == 6 ? 0x86dd : 0x0800;
            p += 4;
            n -= 4;
        } else if (dl == DLT_RAW || dl == 101) {
            et = n && (p[0] >> 4) == 6 ? 0x86dd : 0x0800;
        } else {
            continue;
        }
        uint64_t ts = (uint64_t)h->ts.tv_sec * 1000000u + (uint64_t)h->ts.tv_usec;
        if (et == 0x0800 && n >= 20 && (p[0] >> 4) == 4 && p[9] == 6) {
            size_t ihl = (size_t)(p[0] & 15) * 4;
            size_t tot = (size_t)(p[2] << 8 | p[3]);
            if (tot > n)
                tot = n;
            if (ihl < 20 || ihl > tot)
                continue;
            tp_tcp(c, p + 12, p + 16, 4, p + ihl, tot - ihl, ts, want_port);
        } else if (et == 0x86dd && n >= 40 && p[6] == 6) {
            size_t pl = (size_t)(p[4] << 8 | p[5]);
            if (pl > n - 40)
                pl = n - 40;
            tp_tcp(c, p + 8, p + 24, 16, p + 40, pl, ts, want_port);
        }
    }
    pcap_close(pc);
    for (int dir = 0; dir < 2; dir++) {
        while (c->nooo[dir]) {
            /* lowest pending segment after a hole */
            size_t lo = 0;
            for (size_t i = 1; i < c->nooo[dir]; i++)
                if ((int32_t)(c->ooo[dir][i].seq - c->ooo[dir][lo].seq) < 0)
                    lo = i;
            uint32_t gap = c->ooo[dir][lo].seq - c->next[dir];
            tp_emit(c, dir, NULL, gap, c->ooo[dir][lo].ts);
            c->next[dir] += gap;
            tp_drain(c, dir);
        }
        free(c->ooo[dir]);
    }
    return c->have ? 0 : -1;
}

static void tp_free(tp_conn *c)
{
    free(c->data[0]);
    free(c->data[1]);
    free(c->ch);
    memset(c, 0, sizeof(*c));
}

#endif
