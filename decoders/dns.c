#include "decoders/dns.h"

#include <string.h>

/* Parse state: the whole message (pointers are offsets into it). */
typedef struct pctx {
    const uint8_t *msg;
    size_t len;
    sw_dns_msg *m;
} pctx;

const char *sw_dns_strerror(int err)
{
    switch (err) {
    case SW_DNS_OK: return "ok";
    case SW_DNS_ERR_SHORT_HEADER: return "message shorter than the DNS header";
    case SW_DNS_ERR_QUESTION: return "malformed or truncated question section";
    case SW_DNS_ERR_ANSWER: return "malformed or truncated answer section";
    case SW_DNS_ERR_ARG: return "invalid argument";
    default: return "unknown DNS error";
    }
}

static inline uint16_t rd16(const uint8_t *p) { return (uint16_t)((p[0] << 8) | p[1]); }
static inline uint32_t rd32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Copies n bytes into the pool; on exhaustion stores an empty string and
 * flags the message (the caller decides whether that matters). */
static bool pool_put(sw_dns_msg *m, const uint8_t *p, size_t n, sw_dns_ref *r)
{
    if (n > SW_DNS_POOL_SIZE - m->pool_len) {
        r->off = m->pool_len;
        r->len = 0;
        m->pool_full = true;
        return false;
    }
    r->off = m->pool_len;
    r->len = (uint32_t)n;
    if (n)
        memcpy(m->pool + m->pool_len, p, n);
    m->pool_len += (uint32_t)n;
    return true;
}

/* Decodes the name at pos; labels are read up to limit until the first
 * pointer, then anywhere in the message. *next is where the record goes on:
 * after the first pointer if one was followed. Mirrors Suricata 8's
 * dns_parse_name so names, flags and failures agree with it. */
static int parse_name(pctx *c, size_t pos, size_t limit, size_t *next, sw_dns_name *out)
{
    uint8_t tmp[SW_DNS_MAX_NAME + 1 + 63 + 2];
    size_t n = 0;
    unsigned steps = 0;
    uint8_t flags = 0;
    bool jumped = false;
    size_t pivot = 0;

    for (;;) {
        if (pos >= limit)
            break; /* ran off the data: the next field read fails instead */
        uint8_t l = c->msg[pos];
        if (l == 0) {
            pos++;
            break;
        }
        if ((l & 0xC0) == 0) {
            if (limit - pos < 1 + (size_t)l)
                goto fail;
            if (!(flags & SW_DNS_NAME_TRUNCATED)) {
                if (n)
                    tmp[n++] = '.';
                memcpy(tmp + n, c->msg + pos + 1, l);
                n += l;
            }
            pos += 1 + (size_t)l;
        } else if ((l & 0xC0) == 0xC0) {
            if (limit - pos < 2)
                goto fail;
            size_t off = ((size_t)(l & 0x3F) << 8) | c->msg[pos + 1];
            if (off > c->len)
                goto fail;
            if (off == pos) {
                /* Points at itself: once a pointer was followed we know
                 * where the record continues, so keep what we have. */
                flags |= SW_DNS_NAME_LOOP;
                if (jumped)
                    break;
                goto fail;
            }
            if (!jumped) {
                jumped = true;
                pivot = pos + 2;
            }
            pos = off;
            limit = c->len;
        } else {
            goto fail; /* 0x40/0x80: extended/reserved label types */
        }

        /* cut before any way out of the loop: the stored name never
         * exceeds the bound */
        if (n > SW_DNS_MAX_NAME) {
            n = SW_DNS_MAX_NAME;
            flags |= SW_DNS_NAME_TRUNCATED;
            /* Without a pointer the end of the name is still ahead and
             * must be found to go on with the record. */
            if (jumped)
                break;
        }
        /* The step bound is the loop guard: a pointer cycle ends here. */
        if (++steps > SW_DNS_MAX_LABELS) {
            flags |= SW_DNS_NAME_LABEL_LIMIT;
            if (jumped) {
                flags |= SW_DNS_NAME_TRUNCATED;
                break;
            }
            goto fail;
        }
    }

    if (!pool_put(c->m, tmp, n, &out->s))
        flags |= SW_DNS_NAME_POOL_FULL;
    out->flags = flags;
    c->m->name_flags |= flags;
    *next = jumped ? pivot : pos;
    return 0;
fail:
    /* Keep the reason (loop, label limit) for the counters. */
    c->m->name_flags |= flags;
    return -1;
}

/* Validates TXT rdata as Suricata reads it: at least one complete
 * character-string; a trailing incomplete one is ignored. */
static int parse_txt(pctx *c, size_t p, size_t end, sw_dns_rr *rr)
{
    size_t start = p;
    uint16_t count = 0;
    while (p < end && end - p >= 1u + c->msg[p]) {
        p += 1u + c->msg[p];
        count++;
    }
    if (count == 0)
        return -1;
    pool_put(c->m, c->msg + start, p - start, &rr->u.txt.wire);
    rr->u.txt.count = rr->u.txt.wire.len ? count : 0;
    return 0;
}

/* Decodes rdata [p, end) for rr->type. Returns -1 where Suricata's rdata
 * parser fails (that fails the section); types it does not decode (SVCB,
 * HTTPS) never fail, they only leave rdata_ok false. */
static int parse_rdata(pctx *c, size_t p, size_t end, sw_dns_rr *rr)
{
    size_t n = end - p, q;
    const uint8_t *d = c->msg + p;

    switch (rr->type) {
    case SW_DNS_T_A:
    case SW_DNS_T_AAAA:
        /* Any length is accepted; only the right one prints as an address. */
        if (n == (rr->type == SW_DNS_T_A ? 4u : 16u)) {
            memcpy(rr->u.addr, d, n);
            rr->rdata_ok = true;
        }
        return 0;
    case SW_DNS_T_CNAME:
    case SW_DNS_T_NS:
    case SW_DNS_T_PTR:
        if (parse_name(c, p, end, &q, &rr->u.target) < 0)
            return -1;
        break;
    case SW_DNS_T_MX:
        if (n < 2)
            return -1;
        rr->u.mx.preference = rd16(d);
        if (parse_name(c, p + 2, end, &q, &rr->u.mx.exchange) < 0)
            return -1;
        break;
    case SW_DNS_T_SOA:
        if (parse_name(c, p, end, &q, &rr->u.soa.mname) < 0)
            return -1;
        if (parse_name(c, q, end, &q, &rr->u.soa.rname) < 0)
            return -1;
        /* A name that left via a pointer may put q past end only if the
         * pointer itself was inside the rdata, so q <= end holds. */
        if (q > end || end - q < 20)
            return -1;
        rr->u.soa.serial = rd32(c->msg + q);
        rr->u.soa.refresh = rd32(c->msg + q + 4);
        rr->u.soa.retry = rd32(c->msg + q + 8);
        rr->u.soa.expire = rd32(c->msg + q + 12);
        rr->u.soa.minimum = rd32(c->msg + q + 16);
        break;
    case SW_DNS_T_SRV:
        if (n < 6)
            return -1;
        rr->u.srv.priority = rd16(d);
        rr->u.srv.weight = rd16(d + 2);
        rr->u.srv.port = rd16(d + 4);
        if (parse_name(c, p + 6, end, &q, &rr->u.srv.target) < 0)
            return -1;
        break;
    case SW_DNS_T_TXT:
        if (parse_txt(c, p, end, rr) < 0)
            return -1;
        break;
    case SW_DNS_T_SSHFP:
        if (n < 2)
            return -1;
        rr->u.sshfp.algo = d[0];
        rr->u.sshfp.fp_type = d[1];
        pool_put(c->m, d + 2, n - 2, &rr->u.sshfp.fingerprint);
        break;
    case SW_DNS_T_OPT: {
        /* Options must tile the rdata exactly. */
        size_t o = 0;
        while (o < n) {
            if (n - o < 4 || n - o - 4 < rd16(d + o + 2))
                return -1;
            o += 4u + rd16(d + o + 2);
        }
        pool_put(c->m, d, n, &rr->u.raw);
        break;
    }
    case SW_DNS_T_SVCB:
    case SW_DNS_T_HTTPS: {
        uint32_t mark = c->m->pool_len;
        if (n >= 2 && parse_name(c, p + 2, end, &q, &rr->u.svcb.target) == 0) {
            rr->u.svcb.priority = rd16(d);
            rr->rdata_ok = true;
        } else {
            c->m->pool_len = mark;
        }
        return 0;
    }
    default: /* NULL and everything else: raw bytes */
        pool_put(c->m, d, n, &rr->u.raw);
        break;
    }
    rr->rdata_ok = true;
    return 0;
}

static int parse_rr(pctx *c, size_t *pos, sw_dns_rr *rr)
{
    size_t p;
    memset(rr, 0, sizeof(*rr));
    if (parse_name(c, *pos, c->len, &p, &rr->name) < 0)
        return -1;
    if (p > c->len || c->len - p < 10)
        return -1;
    rr->type = rd16(c->msg + p);
    rr->rclass = rd16(c->msg + p + 2);
    rr->ttl = rd32(c->msg + p + 4);
    rr->rdlength = rd16(c->msg + p + 8);
    p += 10;
    if (c->len - p < rr->rdlength)
        return -1;
    if (parse_rdata(c, p, p + rr->rdlength, rr) < 0)
        return -1;
    if (rr->type == SW_DNS_T_OPT) {
        c->m->edns = true;
        c->m->edns_udp_size = rr->rclass;
        c->m->edns_version = (uint8_t)(rr->ttl >> 16);
        c->m->edns_do = (rr->ttl & 0x8000) != 0;
    }
    *pos = p + rr->rdlength;
    return 0;
}

/* Parses count records; past the bound they are parsed into a scratch
 * record and their pool bytes released, so only the count shows them. */
static int parse_section(pctx *c, size_t *pos, uint16_t count, sw_dns_rr *arr,
                         uint16_t *n, uint16_t *dropped)
{
    for (uint32_t i = 0; i < count; i++) {
        if (*n < SW_DNS_MAX_RRS) {
            if (parse_rr(c, pos, &arr[*n]) < 0)
                return -1;
            (*n)++;
        } else {
            sw_dns_rr scratch;
            uint32_t mark = c->m->pool_len;
            bool full = c->m->pool_full;
            int rc = parse_rr(c, pos, &scratch);
            c->m->pool_len = mark;
            c->m->pool_full = full;
            if (rc < 0)
                return -1;
            (*dropped)++;
        }
    }
    return 0;
}

int sw_dns_parse(const uint8_t *buf, size_t len, sw_dns_msg *out)
{
    if (!out)
        return SW_DNS_ERR_ARG;
    /* The big arrays need no clearing: the counts say what is valid. */
    memset(out, 0, offsetof(sw_dns_msg, questions));
    out->pool_len = 0;
    if (!buf)
        return SW_DNS_ERR_ARG;
    if (len < SW_DNS_HEADER_LEN)
        return SW_DNS_ERR_SHORT_HEADER;

    sw_dns_msg *m = out;
    m->id = rd16(buf);
    m->flags = rd16(buf + 2);
    m->qr = (m->flags & 0x8000) != 0;
    m->opcode = (m->flags >> 11) & 0xF;
    m->aa = (m->flags & 0x0400) != 0;
    m->tc = (m->flags & 0x0200) != 0;
    m->rd = (m->flags & 0x0100) != 0;
    m->ra = (m->flags & 0x0080) != 0;
    m->z = (m->flags & 0x0040) != 0;
    m->ad = (m->flags & 0x0020) != 0;
    m->cd = (m->flags & 0x0010) != 0;
    m->rcode = m->flags & 0xF;
    m->qdcount = rd16(buf + 4);
    m->ancount = rd16(buf + 6);
    m->nscount = rd16(buf + 8);
    m->arcount = rd16(buf + 10);

    pctx c = {buf, len, m};
    size_t pos = SW_DNS_HEADER_LEN;

    for (uint32_t i = 0; i < m->qdcount; i++) {
        sw_dns_question q;
        size_t p;
        uint32_t mark = m->pool_len;
        bool full = m->pool_full;
        if (parse_name(&c, pos, len, &p, &q.name) < 0 || p > len || len - p < 4) {
            m->parsed_len = pos;
            return SW_DNS_ERR_QUESTION;
        }
        q.type = rd16(buf + p);
        q.rclass = rd16(buf + p + 2);
        pos = p + 4;
        if (m->n_questions < SW_DNS_MAX_QUESTIONS) {
            m->questions[m->n_questions++] = q;
        } else {
            m->pool_len = mark;
            m->pool_full = full;
            m->questions_dropped++;
        }
    }

    if (parse_section(&c, &pos, m->ancount, m->answers, &m->n_answers,
                      &m->answers_dropped) < 0) {
        m->parsed_len = pos;
        return SW_DNS_ERR_ANSWER;
    }
    /* Past the answers Suricata keeps what it has and flags the section. */
    if (parse_section(&c, &pos, m->nscount, m->authorities, &m->n_authorities,
                      &m->authorities_dropped) < 0) {
        m->invalid_authorities = true;
    } else if (parse_section(&c, &pos, m->arcount, m->additionals,
                             &m->n_additionals, &m->additionals_dropped) < 0) {
        m->invalid_additionals = true;
    }
    m->parsed_len = pos;
    return SW_DNS_OK;
}

const uint8_t *sw_dns_first_query(const sw_dns_msg *m, size_t *len)
{
    if (!m || m->n_questions == 0) {
        if (len)
            *len = 0;
        return NULL;
    }
    if (len)
        *len = m->questions[0].name.s.len;
    return sw_dns_str(m, m->questions[0].name.s);
}

bool sw_dns_txt_next(const sw_dns_msg *m, const sw_dns_rr *rr, uint32_t *pos,
                     const uint8_t **s, size_t *n)
{
    if (rr->type != SW_DNS_T_TXT || !rr->rdata_ok)
        return false;
    sw_dns_ref w = rr->u.txt.wire;
    if (*pos >= w.len)
        return false;
    const uint8_t *p = m->pool + w.off + *pos;
    size_t l = p[0];
    if (w.len - *pos < 1 + l)
        return false; /* cannot happen for a validated record */
    *s = p + 1;
    *n = l;
    *pos += (uint32_t)(1 + l);
    return true;
}

/* Suricata's names, including its spellings "NSAPPT", "CDSNKEY" and "ND". */
const char *sw_dns_rrtype_name(uint16_t t)
{
    switch (t) {
    case 1: return "A";
    case 2: return "NS";
    case 3: return "ND";
    case 4: return "MF";
    case 5: return "CNAME";
    case 6: return "SOA";
    case 7: return "MB";
    case 8: return "MG";
    case 9: return "MR";
    case 10: return "NULL";
    case 11: return "WKS";
    case 12: return "PTR";
    case 13: return "HINFO";
    case 14: return "MINFO";
    case 15: return "MX";
    case 16: return "TXT";
    case 17: return "RP";
    case 18: return "AFSDB";
    case 19: return "X25";
    case 20: return "ISDN";
    case 21: return "RT";
    case 22: return "NSAP";
    case 23: return "NSAPPT";
    case 24: return "SIG";
    case 25: return "KEY";
    case 26: return "PX";
    case 27: return "GPOS";
    case 28: return "AAAA";
    case 29: return "LOC";
    case 30: return "NXT";
    case 33: return "SRV";
    case 34: return "ATMA";
    case 35: return "NAPTR";
    case 36: return "KX";
    case 37: return "CERT";
    case 38: return "A6";
    case 39: return "DNAME";
    case 41: return "OPT";
    case 42: return "APL";
    case 43: return "DS";
    case 44: return "SSHFP";
    case 45: return "IPSECKEY";
    case 46: return "RRSIG";
    case 47: return "NSEC";
    case 48: return "DNSKEY";
    case 49: return "DHCID";
    case 50: return "NSEC3";
    case 51: return "NSEC3PARAM";
    case 52: return "TLSA";
    case 55: return "HIP";
    case 59: return "CDS";
    case 60: return "CDSNKEY";
    case 65: return "HTTPS";
    case 99: return "SPF";
    case 249: return "TKEY";
    case 250: return "TSIG";
    case 251: return "IXFR";
    case 252: return "AXFR";
    case 254: return "MAILA";
    case 255: return "ANY";
    case 256: return "URI";
    default: return NULL;
    }
}

static const char *u16_str(unsigned v, char *buf, size_t cap)
{
    char tmp[6];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v && n < sizeof(tmp));
    if (cap == 0)
        return "";
    size_t i = 0;
    while (n && i + 1 < cap)
        buf[i++] = tmp[--n];
    buf[i] = '\0';
    return buf;
}

const char *sw_dns_rrtype_str(uint16_t t, char *buf, size_t cap)
{
    const char *s = sw_dns_rrtype_name(t);
    return s ? s : u16_str(t, buf, cap);
}

const char *sw_dns_rcode_name(uint8_t rcode)
{
    static const char *const names[] = {
        "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
        "YXDOMAIN", "YXRRSET", "NXRRSET", "NOTAUTH", "NOTZONE",
    };
    return rcode < sizeof(names) / sizeof(names[0]) ? names[rcode] : NULL;
}

#define SW_DNS_CTR_NAME_(id, path) [id] = path,
const char *const sw_dns_counter_names[SW_DNS_CTR_COUNT] = {
    SW_DNS_COUNTERS(SW_DNS_CTR_NAME_)};
#undef SW_DNS_CTR_NAME_

void sw_dns_count(uint64_t *ctr, int rc, const sw_dns_msg *m)
{
    SW_CTR_INC(ctr, SW_DNS_CTR_MESSAGES);
    if (rc == SW_DNS_ERR_SHORT_HEADER)
        SW_CTR_INC(ctr, SW_DNS_CTR_SHORT_HEADER);
    if (rc < 0)
        SW_CTR_INC(ctr, SW_DNS_CTR_MALFORMED);
    if (!m || rc == SW_DNS_ERR_ARG)
        return;
    if (m->invalid_authorities)
        SW_CTR_INC(ctr, SW_DNS_CTR_INVALID_AUTHORITIES);
    if (m->invalid_additionals)
        SW_CTR_INC(ctr, SW_DNS_CTR_INVALID_ADDITIONALS);
    if (m->name_flags & SW_DNS_NAME_TRUNCATED)
        SW_CTR_INC(ctr, SW_DNS_CTR_NAME_TOO_LONG);
    if (m->name_flags & SW_DNS_NAME_LOOP)
        SW_CTR_INC(ctr, SW_DNS_CTR_POINTER_LOOP);
    if (m->name_flags & SW_DNS_NAME_LABEL_LIMIT)
        SW_CTR_INC(ctr, SW_DNS_CTR_TOO_MANY_LABELS);
    unsigned dropped = (unsigned)m->questions_dropped + m->answers_dropped +
                       m->authorities_dropped + m->additionals_dropped;
    if (dropped)
        SW_CTR_ADD(ctr, SW_DNS_CTR_RECORDS_DROPPED, dropped);
    if (m->pool_full)
        SW_CTR_INC(ctr, SW_DNS_CTR_POOL_FULL);
}

void sw_dns_tcp_init(sw_dns_tcp *s, uint64_t *ctr)
{
    s->have = 0;
    s->ctr = ctr;
}

void sw_dns_tcp_reset(sw_dns_tcp *s)
{
    if (s->have && s->ctr)
        SW_CTR_INC(s->ctr, SW_DNS_CTR_TCP_GAP);
    s->have = 0;
}

void sw_dns_tcp_feed(sw_dns_tcp *s, const uint8_t *data, size_t len,
                     void (*on_msg)(void *u, const uint8_t *msg, size_t n),
                     void *u)
{
    while (len > 0) {
        if (s->have < 2) {
            s->buf[s->have++] = *data++;
            len--;
            if (s->have == 2 && rd16(s->buf) == 0) {
                /* An empty message carries nothing to parse. */
                if (s->ctr)
                    SW_CTR_INC(s->ctr, SW_DNS_CTR_TCP_EMPTY);
                s->have = 0;
            }
            continue;
        }
        size_t need = 2u + rd16(s->buf);
        if (s->have == 2 && len >= need - 2) {
            /* Whole message in this chunk: hand it over without copying. */
            on_msg(u, data, need - 2);
            data += need - 2;
            len -= need - 2;
            s->have = 0;
            continue;
        }
        size_t take = need - s->have;
        if (take > len)
            take = len;
        memcpy(s->buf + s->have, data, take);
        s->have += (uint32_t)take;
        data += take;
        len -= take;
        if (s->have == need) {
            on_msg(u, s->buf + 2, need - 2);
            s->have = 0;
        }
    }
}
