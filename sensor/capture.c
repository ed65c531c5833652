#define _GNU_SOURCE
#include "sensor/capture.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <zlib.h>

struct sw_capture {
    pcap_t *pcap;
    FILE *fp;          /* file sources: the stream libpcap reads */
    FILE *raw;         /* the file itself, for progress */
    gzFile gz;
    uint64_t size;
    bool live;
    int timeout_ms;
    /* libpcap's counters are 32 bits and wrap (after an hour at 1.2 Mpps):
     * the last raw values, and totals since open that do not wrap */
    uint32_t raw_recv, raw_drop, raw_ifdrop;
    uint64_t tot_recv, tot_drop, tot_ifdrop;
    char errbuf[PCAP_ERRBUF_SIZE + 256];
};

void sw_live_config_defaults(sw_live_config *c)
{
    memset(c, 0, sizeof(*c));
    c->snaplen = 65535;
    c->promisc = true;
    c->buffer_size = 64ULL << 20;
    c->timeout_ms = 100;
}

int sw_live_config_load(const sw_cfg_node *root, sw_live_config *c, char *err,
                        size_t errlen)
{
    int64_t snap = c->snaplen;
    const char *iface = NULL;
    if (sw_cfg_get_int(root, "capture.snaplen", &snap, err, errlen) ||
        sw_cfg_get_bool(root, "capture.promisc", &c->promisc, err, errlen) ||
        sw_cfg_get_size(root, "capture.buffer-size", &c->buffer_size, err, errlen) ||
        sw_cfg_get_str(root, "capture.bpf-filter", &c->bpf, err, errlen) ||
        sw_cfg_get_str(root, "capture.interface", &iface, err, errlen))
        return -1;
    if (snap < 64 || snap > 262144) {
        snprintf(err, errlen, "config: capture.snaplen: must be 64 .. 262144");
        return -1;
    }
    c->snaplen = (int)snap;
    if (iface)
        snprintf(c->iface, sizeof c->iface, "%s", iface);
    return 0;
}

/* gzip streams are read through a stdio cookie so libpcap sees a FILE*. */
static ssize_t gz_read(void *cookie, char *buf, size_t size)
{
    int n = gzread((gzFile)cookie, buf, (unsigned)(size > (1u << 30) ? (1u << 30) : size));
    return n < 0 ? -1 : n;
}

static int gz_close(void *cookie)
{
    gzclose((gzFile)cookie);
    return 0;
}

sw_capture *sw_capture_open_file(const char *path, char *err, size_t errlen)
{
    sw_capture *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", path);
        return NULL;
    }
    c->raw = fopen(path, "rb");
    if (!c->raw) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        free(c);
        return NULL;
    }
    struct stat st;
    if (fstat(fileno(c->raw), &st) == 0)
        c->size = (uint64_t)st.st_size;
    if (S_ISDIR(st.st_mode)) {
        snprintf(err, errlen, "%s: is a directory, not a capture file", path);
        fclose(c->raw);
        free(c);
        return NULL;
    }
    unsigned char magic[2] = {0, 0};
    size_t got = fread(magic, 1, 2, c->raw);
    rewind(c->raw);
    if (got == 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        int fd = dup(fileno(c->raw));
        c->gz = fd >= 0 ? gzdopen(fd, "rb") : NULL;
        if (!c->gz) {
            snprintf(err, errlen, "%s: cannot open gzip stream", path);
            fclose(c->raw);
            free(c);
            return NULL;
        }
        gzbuffer(c->gz, 256 * 1024);
        cookie_io_functions_t io = {.read = gz_read, .close = gz_close};
        c->fp = fopencookie(c->gz, "rb", io);
    } else {
        int fd = dup(fileno(c->raw));
        c->fp = fd >= 0 ? fdopen(fd, "rb") : NULL;
    }
    if (!c->fp) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        if (c->gz)
            gzclose(c->gz);
        fclose(c->raw);
        free(c);
        return NULL;
    }
    char perr[PCAP_ERRBUF_SIZE] = "";
    c->pcap = pcap_fopen_offline_with_tstamp_precision(c->fp, PCAP_TSTAMP_PRECISION_MICRO,
                                                       perr);
    if (!c->pcap) {
        snprintf(err, errlen, "%s: not a pcap or pcapng capture (%s)", path, perr);
        fclose(c->fp); /* closes the gz stream too, via the cookie */
        fclose(c->raw);
        free(c);
        return NULL;
    }
    return c;
}

sw_capture *sw_capture_open_live(const sw_live_config *cfg, char *err, size_t errlen)
{
    sw_capture *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(err, errlen, "%s: out of memory", cfg->iface);
        return NULL;
    }
    char perr[PCAP_ERRBUF_SIZE] = "";
    c->live = true;
    c->pcap = pcap_create(cfg->iface, perr);
    if (!c->pcap) {
        snprintf(err, errlen, "%s: %s", cfg->iface, perr);
        free(c);
        return NULL;
    }
    pcap_set_snaplen(c->pcap, cfg->snaplen);
    pcap_set_promisc(c->pcap, cfg->promisc ? 1 : 0);
    pcap_set_timeout(c->pcap, cfg->timeout_ms);
    pcap_set_buffer_size(c->pcap, (int)(cfg->buffer_size > (1u << 30) ? (1u << 30)
                                                                      : cfg->buffer_size));
    pcap_set_tstamp_precision(c->pcap, PCAP_TSTAMP_PRECISION_MICRO);
    int rc = pcap_activate(c->pcap);
    if (rc < 0) {
        snprintf(err, errlen, "%s: %s", cfg->iface, pcap_geterr(c->pcap));
        pcap_close(c->pcap);
        free(c);
        return NULL;
    }
    if (cfg->bpf && *cfg->bpf) {
        struct bpf_program prog;
        if (pcap_compile(c->pcap, &prog, cfg->bpf, 1, PCAP_NETMASK_UNKNOWN) < 0 ||
            pcap_setfilter(c->pcap, &prog) < 0) {
            snprintf(err, errlen, "%s: BPF filter '%s': %s", cfg->iface, cfg->bpf,
                     pcap_geterr(c->pcap));
            pcap_close(c->pcap);
            free(c);
            return NULL;
        }
        pcap_freecode(&prog);
    }
    /* With TPACKET_V3 a blocking read may never return on a silent link;
     * we poll ourselves so the loop notices stalls and signals. */
    c->timeout_ms = cfg->timeout_ms > 0 ? cfg->timeout_ms : 100;
    if (pcap_setnonblock(c->pcap, 1, perr) < 0) {
        snprintf(err, errlen, "%s: %s", cfg->iface, perr);
        pcap_close(c->pcap);
        free(c);
        return NULL;
    }
    return c;
}

void sw_capture_close(sw_capture *c)
{
    if (!c)
        return;
    if (c->pcap)
        pcap_close(c->pcap); /* closes c->fp */
    if (c->raw)
        fclose(c->raw);
    free(c);
}

int sw_capture_next(sw_capture *c, struct pcap_pkthdr **h, const uint8_t **data)
{
    int rc = pcap_next_ex(c->pcap, h, data);
    if (rc == 1)
        return SW_CAP_PACKET;
    if (rc == 0) {
        if (c->live) {
            struct pollfd pfd = {.fd = pcap_get_selectable_fd(c->pcap), .events = POLLIN};
            if (pfd.fd >= 0 && poll(&pfd, 1, c->timeout_ms) > 0 &&
                (pfd.revents & (POLLERR | POLLHUP | POLLNVAL))) {
                /* the device went away: let the next read report why */
                rc = pcap_next_ex(c->pcap, h, data);
                if (rc == 1)
                    return SW_CAP_PACKET;
                if (rc == 0)
                    return SW_CAP_NONE;
                snprintf(c->errbuf, sizeof c->errbuf, "%s", pcap_geterr(c->pcap));
                return SW_CAP_ERROR;
            }
        }
        return SW_CAP_NONE;
    }
    if (rc == PCAP_ERROR_BREAK)
        return SW_CAP_EOF;
    snprintf(c->errbuf, sizeof c->errbuf, "%s", pcap_geterr(c->pcap));
    return SW_CAP_ERROR;
}

int sw_capture_linktype(const sw_capture *c) { return pcap_datalink(c->pcap); }
const char *sw_capture_error(const sw_capture *c) { return c->errbuf; }
bool sw_capture_is_live(const sw_capture *c) { return c->live; }

int sw_capture_stats(sw_capture *c, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop)
{
    *recv = *drop = *ifdrop = 0;
    if (!c->live)
        return 0;
    struct pcap_stat st;
    if (pcap_stats(c->pcap, &st) < 0)
        return -1;
    /* unsigned 32-bit differences are right across one wrap */
    c->tot_recv += (uint32_t)(st.ps_recv - c->raw_recv);
    c->tot_drop += (uint32_t)(st.ps_drop - c->raw_drop);
    c->tot_ifdrop += (uint32_t)(st.ps_ifdrop - c->raw_ifdrop);
    c->raw_recv = st.ps_recv;
    c->raw_drop = st.ps_drop;
    c->raw_ifdrop = st.ps_ifdrop;
    *recv = c->tot_recv;
    *drop = c->tot_drop;
    *ifdrop = c->tot_ifdrop;
    return 0;
}

void sw_capture_progress(const sw_capture *c, uint64_t *done, uint64_t *total)
{
    *total = c->size;
    *done = 0;
    if (c->gz)
        *done = (uint64_t)gzoffset(c->gz);
    else if (c->fp)
        *done = (uint64_t)ftello(c->fp);
}
