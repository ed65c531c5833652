/* Packet sources: capture files (pcap, pcapng, either gzip-compressed) and
 * live interfaces, both behind one small libpcap-shaped API. */
#ifndef SW_CAPTURE_H
#define SW_CAPTURE_H

#include <pcap/pcap.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/cfg.h"

typedef struct sw_capture sw_capture;

typedef struct sw_live_config {
    char iface[64];
    int snaplen;
    bool promisc;
    uint64_t buffer_size; /* kernel ring, bytes */
    const char *bpf;      /* NULL: everything */
    int timeout_ms;       /* how long a read may wait before returning 0 */
} sw_live_config;

enum {
    SW_CAP_PACKET = 1,
    SW_CAP_NONE = 0,   /* live: nothing within timeout_ms */
    SW_CAP_EOF = -1,
    SW_CAP_ERROR = -2, /* file: truncated/corrupt from here; live: device error */
};

void sw_live_config_defaults(sw_live_config *c);
int sw_live_config_load(const sw_cfg_node *root, sw_live_config *c, char *err,
                        size_t errlen);

/* Fails (NULL, err = "<path>: <problem>") on unreadable or non-capture files. */
sw_capture *sw_capture_open_file(const char *path, char *err, size_t errlen);
sw_capture *sw_capture_open_live(const sw_live_config *c, char *err, size_t errlen);
void sw_capture_close(sw_capture *c);

int sw_capture_next(sw_capture *c, struct pcap_pkthdr **h, const uint8_t **data);
int sw_capture_linktype(const sw_capture *c);
const char *sw_capture_error(const sw_capture *c);
bool sw_capture_is_live(const sw_capture *c);
/* Live: kernel counters since open; files: 0. */
int sw_capture_stats(sw_capture *c, uint64_t *recv, uint64_t *drop, uint64_t *ifdrop);
/* Files: bytes of the (compressed) file consumed so far and its size. */
void sw_capture_progress(const sw_capture *c, uint64_t *done, uint64_t *total);

#endif
