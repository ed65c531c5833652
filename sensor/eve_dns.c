/* EVE "dns" object: Suricata 8's EVE DNS version 3.
 *
 * Why v3: the suricata-verify expectations we test against
 * (the test.yaml files in ../shared/pcaps/dns and malformed/sv-dns-*) check
 * dns.version 3, dns.type "request"/"response" and dns.queries[...], and
 * the shared EVE schema marks the v2 "query" array as legacy. The layout
 * follows Suricata 8's rust/src/dns/log.rs:
 *
 *   version, type, tx_id, id, flags (hex, no padding), qr/aa/tc/rd/ra/z
 *   (only when set), opcode, rcode, queries[{rrname, rrtype}],
 *   and for responses: answers[...], grouped{TYPE:[...]}, authorities[...],
 *   additionals[...] (OPT records without options are left out).
 *
 * Like Suricata, every TXT character-string is its own answer entry, MX
 * rdata is the exchange name, AAAA rdata is eight zero-padded groups, and
 * records Suricata does not decode (HTTPS, SVCB, ...) carry no rdata.
 * Where the schema allows it the truncation flags are written
 * (queries[].rrname_truncated, authorities[].rrname_truncated and
 * rdata_truncated, soa.mname_truncated); "answers" items have no such field
 * in the schema, so none is written there. "grouped" keys appear in first
 * occurrence order (Suricata's order comes from a hash map). */
#include "sensor/eve_dns.h"

#include <stdio.h>
#include <string.h>

void sw_dns_config_defaults(sw_dns_config *c)
{
    c->log_detailed = true;
    c->log_grouped = true;
}

int sw_dns_config_load(const sw_cfg_node *root, sw_dns_config *c, char *err,
                       size_t errlen)
{
    if (sw_cfg_get_bool(root, "dns.eve.detailed", &c->log_detailed, err, errlen) < 0)
        return -1;
    if (sw_cfg_get_bool(root, "dns.eve.grouped", &c->log_grouped, err, errlen) < 0)
        return -1;
    return 0;
}

static void put_name(sw_json *j, const char *key, const sw_dns_msg *m,
                     const sw_dns_name *n)
{
    swj_strn(j, key, sw_dns_str(m, n->s), n->s.len);
}

static void put_rrtype(sw_json *j, uint16_t t)
{
    char b[8];
    swj_str(j, "rrtype", sw_dns_rrtype_str(t, b, sizeof b));
}

/* Suricata's dns_print_addr: dotted quad, or 8 groups of 4 hex digits;
 * any other length prints as "". */
static void put_addr(sw_json *j, const char *key, const sw_dns_rr *rr)
{
    char b[48];
    b[0] = '\0';
    if (rr->rdata_ok) {
        const uint8_t *a = rr->u.addr;
        if (rr->type == SW_DNS_T_A) {
            snprintf(b, sizeof b, "%u.%u.%u.%u", a[0], a[1], a[2], a[3]);
        } else {
            size_t o = 0;
            for (int i = 0; i < 16; i += 2)
                o += (size_t)snprintf(b + o, sizeof b - o, "%s%02x%02x",
                                      i ? ":" : "", a[i], a[i + 1]);
        }
    }
    swj_str(j, key, b);
}

static void put_soa(sw_json *j, const sw_dns_msg *m, const sw_dns_rr *rr)
{
    put_name(j, "mname", m, &rr->u.soa.mname);
    if (rr->u.soa.mname.flags & SW_DNS_NAME_TRUNCATED)
        swj_bool(j, "mname_truncated", true);
    put_name(j, "rname", m, &rr->u.soa.rname);
    swj_uint(j, "serial", rr->u.soa.serial);
    swj_uint(j, "refresh", rr->u.soa.refresh);
    swj_uint(j, "retry", rr->u.soa.retry);
    swj_uint(j, "expire", rr->u.soa.expire);
    swj_uint(j, "minimum", rr->u.soa.minimum);
}

static void put_sshfp(sw_json *j, const sw_dns_msg *m, const sw_dns_rr *rr)
{
    swj_hex(j, "fingerprint", sw_dns_str(m, rr->u.sshfp.fingerprint),
            rr->u.sshfp.fingerprint.len, ':');
    swj_uint(j, "algo", rr->u.sshfp.algo);
    swj_uint(j, "type", rr->u.sshfp.fp_type);
}

static void put_srv(sw_json *j, const sw_dns_msg *m, const sw_dns_rr *rr)
{
    swj_uint(j, "priority", rr->u.srv.priority);
    swj_uint(j, "weight", rr->u.srv.weight);
    swj_uint(j, "port", rr->u.srv.port);
    put_name(j, "name", m, &rr->u.srv.target);
}

/* The name that is a record's rdata, or NULL. */
static const sw_dns_name *rdata_name(const sw_dns_rr *rr)
{
    if (!rr->rdata_ok)
        return NULL;
    switch (rr->type) {
    case SW_DNS_T_CNAME:
    case SW_DNS_T_NS:
    case SW_DNS_T_PTR:
        return &rr->u.target;
    case SW_DNS_T_MX:
        return &rr->u.mx.exchange;
    default:
        return NULL;
    }
}

typedef enum section { SEC_ANSWER, SEC_AUTHORITY, SEC_ADDITIONAL } section;

/* One detailed entry; txt/txt_n is the character-string for TXT entries. */
static void put_detail(sw_json *j, const sw_dns_msg *m, const sw_dns_rr *rr,
                       section sec, const uint8_t *txt, size_t txt_n)
{
    bool flags_ok = sec == SEC_AUTHORITY; /* the schema's choice */
    swj_open_object(j, NULL);
    put_name(j, "rrname", m, &rr->name);
    if (flags_ok && (rr->name.flags & SW_DNS_NAME_TRUNCATED))
        swj_bool(j, "rrname_truncated", true);
    put_rrtype(j, rr->type);
    swj_uint(j, "ttl", rr->ttl);

    const sw_dns_name *rn = rdata_name(rr);
    if (rn) {
        put_name(j, "rdata", m, rn);
        if (flags_ok && (rn->flags & SW_DNS_NAME_TRUNCATED))
            swj_bool(j, "rdata_truncated", true);
    } else if (rr->type == SW_DNS_T_A || rr->type == SW_DNS_T_AAAA) {
        put_addr(j, "rdata", rr);
    } else if (rr->type == SW_DNS_T_TXT && txt) {
        swj_strn(j, "rdata", txt, txt_n);
    } else if (rr->rdata_ok) {
        switch (rr->type) {
        case SW_DNS_T_NULL:
            swj_strn(j, "rdata", sw_dns_str(m, rr->u.raw), rr->u.raw.len);
            break;
        /* The schema has soa in answers and authorities, srv and sshfp
         * only in answers: stay inside it. */
        case SW_DNS_T_SOA:
            if (sec == SEC_ADDITIONAL)
                break;
            swj_open_object(j, "soa");
            put_soa(j, m, rr);
            swj_close_object(j);
            break;
        case SW_DNS_T_SSHFP:
            if (sec != SEC_ANSWER)
                break;
            swj_open_object(j, "sshfp");
            put_sshfp(j, m, rr);
            swj_close_object(j);
            break;
        case SW_DNS_T_SRV:
            if (sec != SEC_ANSWER)
                break;
            swj_open_object(j, "srv");
            put_srv(j, m, rr);
            swj_close_object(j);
            break;
        case SW_DNS_T_OPT:
            /* Only additionals have "opt" in the schema. */
            if (sec == SEC_ADDITIONAL) {
                const uint8_t *d = sw_dns_str(m, rr->u.raw);
                uint32_t n = rr->u.raw.len, o = 0;
                swj_open_array(j, "opt");
                while (n - o >= 4) {
                    uint32_t l = (uint32_t)((d[o + 2] << 8) | d[o + 3]);
                    if (n - o - 4 < l)
                        break;
                    swj_open_object(j, NULL);
                    swj_uint(j, "code", (uint32_t)((d[o] << 8) | d[o + 1]));
                    swj_hex(j, "data", d + o + 4, l, 0);
                    swj_close_object(j);
                    o += 4 + l;
                }
                swj_close_array(j);
            }
            break;
        default:
            break;
        }
    }
    swj_close_object(j);
}

/* Appends rr's entries (one per TXT string) to the open array. */
static void put_details(sw_json *j, const sw_dns_msg *m, const sw_dns_rr *rr,
                        section sec)
{
    if (rr->type == SW_DNS_T_TXT && rr->rdata_ok) {
        uint32_t pos = 0;
        const uint8_t *s;
        size_t n;
        while (sw_dns_txt_next(m, rr, &pos, &s, &n))
            put_detail(j, m, rr, sec, s, n);
        return;
    }
    put_detail(j, m, rr, sec, NULL, 0);
}

static bool groupable(uint16_t t)
{
    switch (t) {
    case SW_DNS_T_A: case SW_DNS_T_AAAA: case SW_DNS_T_CNAME: case SW_DNS_T_MX:
    case SW_DNS_T_NS: case SW_DNS_T_TXT: case SW_DNS_T_NULL: case SW_DNS_T_PTR:
    case SW_DNS_T_SOA: case SW_DNS_T_SSHFP: case SW_DNS_T_SRV:
        return true;
    default:
        return false;
    }
}

static void put_grouped_value(sw_json *j, const sw_dns_msg *m, const sw_dns_rr *rr)
{
    const sw_dns_name *rn = rdata_name(rr);
    if (rn) {
        put_name(j, NULL, m, rn);
        return;
    }
    switch (rr->type) {
    case SW_DNS_T_A:
    case SW_DNS_T_AAAA:
        put_addr(j, NULL, rr);
        break;
    case SW_DNS_T_TXT: {
        uint32_t pos = 0;
        const uint8_t *s;
        size_t n;
        while (sw_dns_txt_next(m, rr, &pos, &s, &n))
            swj_strn(j, NULL, s, n);
        break;
    }
    case SW_DNS_T_NULL:
        swj_strn(j, NULL, sw_dns_str(m, rr->u.raw), rr->u.raw.len);
        break;
    case SW_DNS_T_SOA:
        swj_open_object(j, NULL);
        put_soa(j, m, rr);
        swj_close_object(j);
        break;
    case SW_DNS_T_SSHFP:
        swj_open_object(j, NULL);
        put_sshfp(j, m, rr);
        swj_close_object(j);
        break;
    case SW_DNS_T_SRV:
        swj_open_object(j, NULL);
        put_srv(j, m, rr);
        swj_close_object(j);
        break;
    default:
        break;
    }
}

static void put_grouped(sw_json *j, const sw_dns_msg *m)
{
    swj_open_object(j, "grouped");
    for (uint16_t i = 0; i < m->n_answers; i++) {
        const sw_dns_rr *rr = &m->answers[i];
        if (!groupable(rr->type) || (!rr->rdata_ok && rr->type != SW_DNS_T_A &&
                                     rr->type != SW_DNS_T_AAAA))
            continue;
        bool seen = false;
        for (uint16_t k = 0; k < i && !seen; k++)
            seen = m->answers[k].type == rr->type;
        if (seen)
            continue;
        swj_open_array(j, sw_dns_rrtype_name(rr->type));
        for (uint16_t k = i; k < m->n_answers; k++)
            if (m->answers[k].type == rr->type)
                put_grouped_value(j, m, &m->answers[k]);
        swj_close_array(j);
    }
    swj_close_object(j);
}

void sw_eve_dns_write(sw_json *j, const sw_dns_msg *m, uint64_t tx_id,
                      bool response, const sw_dns_config *cfg)
{
    sw_dns_config def;
    if (!cfg) {
        sw_dns_config_defaults(&def);
        cfg = &def;
    }
    char b[8];

    swj_open_object(j, "dns");
    swj_uint(j, "version", 3);
    swj_str(j, "type", response ? "response" : "request");
    swj_uint(j, "tx_id", tx_id);
    swj_uint(j, "id", m->id);
    snprintf(b, sizeof b, "%x", m->flags);
    swj_str(j, "flags", b);
    if (m->qr)
        swj_bool(j, "qr", true);
    if (m->aa)
        swj_bool(j, "aa", true);
    if (m->tc)
        swj_bool(j, "tc", true);
    if (m->rd)
        swj_bool(j, "rd", true);
    if (m->ra)
        swj_bool(j, "ra", true);
    if (m->z)
        swj_bool(j, "z", true);
    swj_uint(j, "opcode", m->opcode);
    const char *rc = sw_dns_rcode_name(m->rcode);
    if (!rc) {
        snprintf(b, sizeof b, "%u", m->rcode);
        rc = b;
    }
    swj_str(j, "rcode", rc);

    if (m->n_questions) {
        swj_open_array(j, "queries");
        for (uint16_t i = 0; i < m->n_questions; i++) {
            const sw_dns_question *q = &m->questions[i];
            swj_open_object(j, NULL);
            put_name(j, "rrname", m, &q->name);
            if (q->name.flags & SW_DNS_NAME_TRUNCATED)
                swj_bool(j, "rrname_truncated", true);
            put_rrtype(j, q->type);
            swj_close_object(j);
        }
        swj_close_array(j);
    }

    if (response) {
        if (m->n_answers) {
            if (cfg->log_detailed) {
                swj_open_array(j, "answers");
                for (uint16_t i = 0; i < m->n_answers; i++)
                    put_details(j, m, &m->answers[i], SEC_ANSWER);
                swj_close_array(j);
            }
            if (cfg->log_grouped)
                put_grouped(j, m);
        }
        if (m->n_authorities) {
            swj_open_array(j, "authorities");
            for (uint16_t i = 0; i < m->n_authorities; i++)
                put_details(j, m, &m->authorities[i], SEC_AUTHORITY);
            swj_close_array(j);
        }
        bool open = false;
        for (uint16_t i = 0; i < m->n_additionals; i++) {
            const sw_dns_rr *rr = &m->additionals[i];
            if (rr->type == SW_DNS_T_OPT && rr->rdlength == 0)
                continue;
            if (!open) {
                swj_open_array(j, "additionals");
                open = true;
            }
            put_details(j, m, rr, SEC_ADDITIONAL);
        }
        if (open)
            swj_close_array(j);
    }
    swj_close_object(j);
}

void sw_eve_dns_query(sw_json *j, const sw_dns_msg *m, uint64_t tx_id)
{
    sw_eve_dns_write(j, m, tx_id, false, NULL);
}

void sw_eve_dns_answer(sw_json *j, const sw_dns_msg *m, uint64_t tx_id)
{
    sw_eve_dns_write(j, m, tx_id, true, NULL);
}
