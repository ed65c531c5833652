#include "sensor/eve.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *sw_proto_name(uint8_t proto, char buf[8])
{
    switch (proto) {
    case 6: return "TCP";
    case 17: return "UDP";
    case 1: return "ICMP";
    case 58: return "IPv6-ICMP";
    case 132: return "SCTP";
    case 47: return "GRE";
    case 50: return "ESP";
    case 51: return "AH";
    case 2: return "IGMP";
    default:
        snprintf(buf, 8, "%03u", proto);
        return buf;
    }
}

static void begin_common(sw_json *j, const char *event_type, uint64_t ts_us,
                         const sw_flow *f)
{
    swj_reset(j);
    swj_ts(j, "timestamp", ts_us);
    if (f)
        swj_uint(j, "flow_id", f->flow_id);
    swj_str(j, "event_type", event_type);
}

static void vlan_array(sw_json *j, const sw_flow *f)
{
    if (!f->key.vlan0)
        return;
    swj_open_array(j, "vlan");
    swj_uint(j, NULL, f->key.vlan0);
    if (f->key.vlan1)
        swj_uint(j, NULL, f->key.vlan1);
    swj_close_array(j);
}

void sw_eve_begin_flow(sw_json *j, const char *event_type, uint64_t ts_us,
                       const sw_flow *f, const char *app_proto, uint64_t pcap_cnt,
                       bool to_client)
{
    char pb[8];
    int fam = f->key.ipver == 6 ? 6 : 4;
    swj_reset(j);
    swj_ts(j, "timestamp", ts_us);
    swj_uint(j, "flow_id", f->flow_id);
    if (pcap_cnt)
        swj_uint(j, "pcap_cnt", pcap_cnt);
    swj_str(j, "event_type", event_type);
    vlan_array(j, f);
    const uint8_t *sip = to_client ? sw_flow_server_ip(f) : sw_flow_client_ip(f);
    const uint8_t *dip = to_client ? sw_flow_client_ip(f) : sw_flow_server_ip(f);
    uint16_t sp = to_client ? sw_flow_server_port(f) : sw_flow_client_port(f);
    uint16_t dp = to_client ? sw_flow_client_port(f) : sw_flow_server_port(f);
    swj_ip(j, "src_ip", fam, sip);
    bool ports = f->key.proto == 6 || f->key.proto == 17 || f->key.proto == 132;
    if (ports)
        swj_uint(j, "src_port", sp);
    swj_ip(j, "dest_ip", fam, dip);
    if (ports)
        swj_uint(j, "dest_port", dp);
    swj_str(j, "proto", sw_proto_name(f->key.proto, pb));
    if ((f->key.proto == 1 || f->key.proto == 58) && f->icmp_seen_ts) {
        swj_uint(j, "icmp_type", f->icmp_type_ts);
        swj_uint(j, "icmp_code", f->icmp_code_ts);
        if (f->icmp_seen_tc) {
            swj_uint(j, "response_icmp_type", f->icmp_type_tc);
            swj_uint(j, "response_icmp_code", f->icmp_code_tc);
        }
    }
    swj_str(j, "community_id", f->community_id);
    if (app_proto && *app_proto)
        swj_str(j, "app_proto", app_proto);
}

void sw_eve_begin_packet(sw_json *j, const char *event_type, const sw_packet *p,
                         const sw_flow *f, const char *app_proto)
{
    char pb[8];
    begin_common(j, event_type, p->ts_us, f);
    swj_uint(j, "pcap_cnt", p->pcap_cnt);
    if (p->l2.vlan_count) {
        swj_open_array(j, "vlan");
        for (unsigned i = 0; i < p->l2.vlan_count && i < SW_MAX_VLANS; i++)
            swj_uint(j, NULL, p->l2.vlan_id[i]);
        swj_close_array(j);
    }
    if (p->ip.version) {
        int fam = p->ip.version;
        bool ports = p->ip.proto == 6 || p->ip.proto == 17 || p->ip.proto == 132;
        swj_ip(j, "src_ip", fam, p->ip.src);
        if (ports)
            swj_uint(j, "src_port", p->l4.sport);
        swj_ip(j, "dest_ip", fam, p->ip.dst);
        if (ports)
            swj_uint(j, "dest_port", p->l4.dport);
        swj_str(j, "proto", sw_proto_name(p->ip.proto, pb));
        if (p->ip.proto == 1 || p->ip.proto == 58) {
            swj_uint(j, "icmp_type", p->l4.icmp_type);
            swj_uint(j, "icmp_code", p->l4.icmp_code);
        }
    }
    if (f) {
        swj_str(j, "community_id", f->community_id);
        if (app_proto && *app_proto)
            swj_str(j, "app_proto", app_proto);
    }
}

void sw_eve_begin_plain(sw_json *j, const char *event_type, uint64_t ts_us)
{
    begin_common(j, event_type, ts_us, NULL);
}

static void tcp_flags_hex(char out[3], uint8_t fl)
{
    snprintf(out, 3, "%02x", fl);
}

void sw_eve_flow_body(sw_json *j, const sw_flow *f, sw_flow_end_reason why)
{
    swj_open_object(j, "flow");
    swj_uint(j, "pkts_toserver", f->pkts_ts);
    swj_uint(j, "pkts_toclient", f->pkts_tc);
    swj_uint(j, "bytes_toserver", f->bytes_ts);
    swj_uint(j, "bytes_toclient", f->bytes_tc);
    swj_ts(j, "start", f->start_us);
    swj_ts(j, "end", f->last_us);
    /* Suricata: whole seconds of the end minus whole seconds of the start */
    swj_uint(j, "age", f->last_us / 1000000u - f->start_us / 1000000u);
    swj_str(j, "state", sw_flow_state_name(f));
    swj_str(j, "reason", sw_flow_reason_name(why));
    swj_bool(j, "alerted", f->alerted);
    swj_close_object(j);
    if (f->key.proto == 6) {
        char b[3];
        uint8_t all = f->tcp_flags_ts | f->tcp_flags_tc;
        swj_open_object(j, "tcp");
        tcp_flags_hex(b, all);
        swj_str(j, "tcp_flags", b);
        tcp_flags_hex(b, f->tcp_flags_ts);
        swj_str(j, "tcp_flags_ts", b);
        tcp_flags_hex(b, f->tcp_flags_tc);
        swj_str(j, "tcp_flags_tc", b);
        if (all & SW_TCP_SYN) swj_bool(j, "syn", true);
        if (all & SW_TCP_FIN) swj_bool(j, "fin", true);
        if (all & SW_TCP_RST) swj_bool(j, "rst", true);
        if (all & SW_TCP_PSH) swj_bool(j, "psh", true);
        if (all & SW_TCP_ACK) swj_bool(j, "ack", true);
        if (all & SW_TCP_URG) swj_bool(j, "urg", true);
        if (all & SW_TCP_ECE) swj_bool(j, "ecn", true);
        if (all & SW_TCP_CWR) swj_bool(j, "cwr", true);
        swj_str(j, "state", sw_tcp_state_name(f->tcp_state));
        swj_close_object(j);
    }
}

/* ---- stats ---- */

typedef struct stat_ent {
    const char *name;
    uint64_t val;
} stat_ent;

/* Component-wise order keeps every object's members contiguous. */
static int path_cmp(const char *a, const char *b)
{
    for (;;) {
        size_t la = strcspn(a, "."), lb = strcspn(b, ".");
        size_t m = la < lb ? la : lb;
        int c = memcmp(a, b, m);
        if (c)
            return c;
        if (la != lb)
            return la < lb ? -1 : 1;
        if (!a[la] || !b[lb])
            return a[la] ? 1 : (b[lb] ? -1 : 0);
        a += la + 1;
        b += lb + 1;
    }
}

static int ent_cmp(const void *x, const void *y)
{
    return path_cmp(((const stat_ent *)x)->name, ((const stat_ent *)y)->name);
}

static size_t ncomp(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == '.';
    return n;
}

/* Length of the i-th component and its start. */
static const char *comp(const char *s, size_t i, size_t *len)
{
    while (i--)
        s = strchr(s, '.') + 1;
    *len = strcspn(s, ".");
    return s;
}

void sw_eve_stats(sw_json *j, const sw_ctr_group *groups, size_t ngroups,
                  uint64_t uptime_s)
{
    size_t total = 0;
    for (size_t g = 0; g < ngroups; g++)
        total += groups[g].n;
    stat_ent *e = calloc(total ? total : 1, sizeof(*e));
    if (!e)
        return;
    size_t n = 0;
    for (size_t g = 0; g < ngroups; g++)
        for (size_t i = 0; i < groups[g].n; i++) {
            e[n].name = groups[g].names[i];
            e[n].val = __atomic_load_n(&groups[g].vals[i], __ATOMIC_RELAXED);
            n++;
        }
    qsort(e, n, sizeof(*e), ent_cmp);
    swj_open_object(j, "stats");
    swj_uint(j, "uptime", uptime_s);
    const char *prev = NULL;
    size_t open = 0; /* components of prev currently open as objects */
    for (size_t i = 0; i < n;) {
        /* sum duplicates (one per worker) */
        uint64_t v = e[i].val;
        size_t k = i + 1;
        while (k < n && strcmp(e[k].name, e[i].name) == 0)
            v += e[k++].val;
        const char *name = e[i].name;
        size_t nc = ncomp(name);
        /* common prefix with what is open */
        size_t common = 0;
        if (prev) {
            while (common < open && common < nc - 1) {
                size_t l1, l2;
                const char *c1 = comp(prev, common, &l1), *c2 = comp(name, common, &l2);
                if (l1 != l2 || memcmp(c1, c2, l1))
                    break;
                common++;
            }
        }
        while (open > common) {
            swj_close_object(j);
            open--;
        }
        char key[128];
        while (open < nc - 1) {
            size_t l;
            const char *c = comp(name, open, &l);
            snprintf(key, sizeof key, "%.*s", (int)l, c);
            swj_open_object(j, key);
            open++;
        }
        size_t l;
        const char *c = comp(name, nc - 1, &l);
        snprintf(key, sizeof key, "%.*s", (int)l, c);
        swj_uint(j, key, v);
        prev = name;
        i = k;
    }
    while (open--)
        swj_close_object(j);
    swj_close_object(j);
    free(e);
}
