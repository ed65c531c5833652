/* floor: the physical limit of reading a capture file with libpcap.
 *
 * A bare pcap_next_ex() loop that touches nothing but the packet headers.
 * Every spanwatch throughput figure in bench/RESULTS.md is divided by this
 * program's packets/s on the same file, so "share of floor" says how much
 * of the time the sensor spends on its own work rather than on reading.
 * It is the same loop as the reference figure in shared/bench/README.md.
 *
 * usage: floor FILE
 * prints: packets=N bytes=B seconds=S pps=P  (stdout, one line) */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: floor FILE\n");
        return 2;
    }
    char errbuf[PCAP_ERRBUF_SIZE];
    double t0 = now_s();
    pcap_t *p = pcap_open_offline(argv[1], errbuf);
    if (!p) {
        fprintf(stderr, "floor: %s: %s\n", argv[1], errbuf);
        return 2;
    }
    struct pcap_pkthdr *h;
    const u_char *data;
    uint64_t pkts = 0, bytes = 0;
    /* Sum one byte per packet so the loop cannot be optimised into skipping
     * the data the sensor would have to look at. */
    unsigned sink = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        pkts++;
        bytes += h->caplen;
        if (h->caplen)
            sink += data[0];
    }
    if (rc == PCAP_ERROR)
        fprintf(stderr, "floor: %s: %s (after %llu packets)\n", argv[1], pcap_geterr(p),
                (unsigned long long)pkts);
    pcap_close(p);
    double dt = now_s() - t0;
    printf("packets=%llu bytes=%llu seconds=%.4f pps=%.0f sink=%u\n",
           (unsigned long long)pkts, (unsigned long long)bytes, dt,
           dt > 0 ? (double)pkts / dt : 0.0, sink & 1u);
    return rc == PCAP_ERROR ? 1 : 0;
}
