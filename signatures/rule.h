/* One parsed Suricata rule, internal to the signature engine.
 *
 * A rule owns one heap block per rule (strings and option arrays); the
 * engine frees them with sw_rule_free. Options that inspect bytes ("sm",
 * after Suricata's SigMatch) each name the buffer they inspect and are kept
 * in rule order, so relative keywords refer to the previous sm of the same
 * buffer. */
#ifndef SW_RULE_H
#define SW_RULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signatures/sig_engine.h"

#define SW_RULE_MAX_SM 96
#define SW_RULE_MAX_FLOWBITS 8
#define SW_RULE_MAX_XBITS 4
#define SW_RULE_MAX_FLOWINTS 4
#define SW_RULE_MAX_META 32

/* ---- addresses and ports ---- */
typedef struct sw_addr_range {
    uint8_t family; /* 4 or 6 */
    uint8_t neg;
    uint8_t prefix;
    uint8_t addr[16];
} sw_addr_range;

typedef struct sw_addr_set {
    bool any;
    uint16_t n;
    sw_addr_range *r; /* owned */
} sw_addr_set;

typedef struct sw_port_range {
    uint16_t lo, hi;
    uint8_t neg;
} sw_port_range;

typedef struct sw_port_set {
    bool any;
    uint16_t n;
    sw_port_range *r; /* owned */
} sw_port_set;

typedef struct sw_vars sw_vars;

/* Variable tables from config plus Suricata's defaults. */
sw_vars *sw_vars_new(const sw_sig_config *cfg);
void sw_vars_free(sw_vars *v);
/* 0 ok; -1 with err. Expands $VARS, groups and negation. */
int sw_addr_parse(const sw_vars *v, const char *s, sw_addr_set *out, char *err, size_t errlen);
int sw_port_parse(const sw_vars *v, const char *s, sw_port_set *out, char *err, size_t errlen);
void sw_addr_set_free(sw_addr_set *s);
void sw_port_set_free(sw_port_set *s);
bool sw_addr_match(const sw_addr_set *s, int family, const uint8_t *ip);
bool sw_port_match(const sw_port_set *s, uint16_t port);

/* ---- classification ---- */
typedef struct sw_classes sw_classes;
/* NULL path: empty table. Bad lines are skipped and counted in *bad. */
sw_classes *sw_classes_load(const char *path, char *err, size_t errlen);
void sw_classes_free(sw_classes *c);
/* Returns 0 and fills desc/prio, -1 when unknown. */
int sw_classes_lookup(const sw_classes *c, const char *name, const char **desc, int *prio);

/* ---- byte options ---- */
typedef enum sw_sm_type {
    SW_SM_CONTENT = 0,
    SW_SM_PCRE,
    SW_SM_BYTE_TEST,
    SW_SM_BYTE_JUMP,
    SW_SM_ISDATAAT,
    SW_SM_BSIZE, /* bsize and urilen: compare the buffer length */
    SW_SM_B64DECODE, /* base64_decode: fills the base64_data buffer */
    SW_SM_BYTE_EXTRACT, /* byte_extract: a value later options refer to */
} sw_sm_type;

/* byte_extract variables a rule may define; options that take a number
 * take a variable instead, stored as its index + 1 (0: the literal). */
#define SW_RULE_MAX_VARS 8

/* Comparison of a length: dsize, bsize, urilen. */
typedef enum sw_cmp { SW_CMP_EQ, SW_CMP_LT, SW_CMP_GT, SW_CMP_RANGE, SW_CMP_NE, SW_CMP_LE, SW_CMP_GE } sw_cmp;
typedef struct sw_u32cmp {
    uint8_t op; /* sw_cmp */
    uint32_t a, b;
} sw_u32cmp;
bool sw_u32cmp_eval(const sw_u32cmp *c, uint32_t v);
int sw_u32cmp_parse(const char *s, sw_u32cmp *out);

enum {
    SW_CF_NOCASE = 1 << 0,
    SW_CF_NEGATED = 1 << 1,
    SW_CF_OFFSET = 1 << 2,
    SW_CF_DEPTH = 1 << 3,
    SW_CF_DISTANCE = 1 << 4,
    SW_CF_WITHIN = 1 << 5,
    SW_CF_STARTSWITH = 1 << 6,
    SW_CF_ENDSWITH = 1 << 7,
    SW_CF_FAST_PATTERN = 1 << 8,
    SW_CF_FP_ONLY = 1 << 9,
    SW_CF_FP_CHOP = 1 << 10,
};

typedef struct sw_content {
    uint8_t *pat; /* owned */
    uint32_t len;
    uint32_t flags;
    int32_t offset, depth, distance, within;
    uint8_t var_offset, var_depth, var_distance, var_within;
    uint32_t fp_chop_off, fp_chop_len;
} sw_content;

enum {
    SW_PCRE_RELATIVE = 1,
    SW_PCRE_NEGATED = 2,
};

typedef struct sw_pcre {
    void *code; /* pcre2_code_8 * */
    uint32_t flags;
} sw_pcre;

enum {
    SW_BT_RELATIVE = 1,
    SW_BT_LITTLE = 2,
    SW_BT_STRING = 4,
    SW_BT_NOT = 8,
    SW_BT_FROM_BEGIN = 16,
    SW_BT_FROM_END = 32,
    SW_BT_ALIGN = 64,
    SW_BT_BITMASK = 128,
    SW_BT_TO_END = 256, /* string of nbytes 0: up to 20 digits to the end */
};

typedef struct sw_byteop {
    uint8_t nbytes;
    uint8_t base; /* 0 binary, else 8/10/16 for string */
    char op;      /* byte_test: < > = & ^ and 'l' <=, 'g' >= */
    uint32_t flags;
    uint64_t value; /* byte_test compare value */
    int32_t offset;
    int32_t post_offset; /* byte_jump */
    uint32_t multiplier; /* byte_jump, byte_extract */
    uint64_t bitmask;
    uint8_t align_to;    /* byte_extract: round up to 2 or 4; 0 none */
    uint8_t var;         /* byte_extract: the variable it sets (index) */
    uint8_t var_value, var_offset; /* byte_test value, byte_test/jump offset */
} sw_byteop;

typedef struct sw_isdataat {
    uint32_t n;
    uint8_t var_n;
    bool relative, negated;
} sw_isdataat;

typedef struct sw_b64decode {
    uint32_t bytes; /* encoded bytes to decode at most; 0 = to the end */
    uint32_t offset;
    bool relative;
} sw_b64decode;

typedef struct sw_sm {
    uint8_t type; /* sw_sm_type */
    uint8_t buf;  /* sw_buf_id */
    bool relative_next; /* the next sm of this buffer is relative to this one */
    union {
        sw_content c;
        sw_pcre p;
        sw_byteop b;
        sw_isdataat d;
        sw_u32cmp len;
        sw_b64decode b64;
    } u;
} sw_sm;

/* ---- flow / flowbits / threshold ---- */
enum {
    SW_FLOW_TO_SERVER = 1,
    SW_FLOW_TO_CLIENT = 2,
    SW_FLOW_ESTABLISHED = 4,
    SW_FLOW_NOT_ESTABLISHED = 8,
    SW_FLOW_STATELESS = 16,
    SW_FLOW_ONLY_STREAM = 32,
    SW_FLOW_NO_STREAM = 64,
};

typedef enum sw_fb_cmd { SW_FB_SET, SW_FB_ISSET, SW_FB_ISNOTSET, SW_FB_UNSET, SW_FB_TOGGLE } sw_fb_cmd;

typedef struct sw_flowbit {
    uint8_t cmd;
    uint8_t n;         /* names OR'ed with '|' (isset) or AND'ed with '&' */
    bool and_names;
    uint32_t ids[4];   /* hashes of the names */
} sw_flowbit;

/* xbits: flowbits kept per host (ip_src, ip_dst: the same host store) or
 * per host pair (either direction), with an expiry in packet time. */
enum { SW_XB_TRACK_SRC, SW_XB_TRACK_DST, SW_XB_TRACK_PAIR };
typedef struct sw_xbit {
    uint8_t cmd; /* sw_fb_cmd */
    uint8_t track;
    uint32_t id;       /* hash of the name */
    uint32_t expire_s; /* set/toggle: lifetime */
} sw_xbit;

/* flowint: modifiers apply after the rule matched, the rest are conditions */
enum {
    SW_FI_SET, SW_FI_ADD, SW_FI_SUB,             /* =, +, - */
    SW_FI_EQ, SW_FI_NE, SW_FI_LT, SW_FI_LE, SW_FI_GT, SW_FI_GE,
    SW_FI_ISSET, SW_FI_NOTSET
};
typedef struct sw_flowint {
    uint8_t op;
    uint32_t id; /* hash of the name */
    uint32_t value;
} sw_flowint;

typedef enum sw_thr_type { SW_THR_NONE = 0, SW_THR_LIMIT, SW_THR_THRESHOLD, SW_THR_BOTH, SW_THR_DETECTION_FILTER } sw_thr_type;
typedef enum sw_thr_track { SW_TRACK_SRC = 0, SW_TRACK_DST, SW_TRACK_RULE, SW_TRACK_BOTH } sw_thr_track;

typedef struct sw_threshold {
    uint8_t type;
    uint8_t track;
    uint32_t count;
    uint32_t seconds;
} sw_threshold;

typedef struct sw_meta {
    const char *key, *value; /* point into the rule's string block */
} sw_meta;

#define SW_RULE_MAX_EVENTS 4
#define SW_RULE_EVENT_LEN 64
#define SW_RULE_MAX_VLAN 3

/* vlan.id: compare one layer (index, negative from the innermost), any
 * layer, or all layers. */
typedef struct sw_vlan_cond {
    sw_u32cmp cmp;
    int8_t layer;
    uint8_t mode; /* 0 any, 1 all, 2 layer */
} sw_vlan_cond;

enum { SW_FLAGS_EXACT, SW_FLAGS_PLUS, SW_FLAGS_ANY, SW_FLAGS_NOT };
enum { SW_SSIZE_CLIENT = 1, SW_SSIZE_SERVER, SW_SSIZE_BOTH, SW_SSIZE_EITHER };

typedef struct sw_rule {
    uint32_t gid, sid, rev;
    uint8_t action; /* sw_sig_action */
    uint8_t proto;  /* IPPROTO number, 0 = ip (any) */
    bool proto_any;
    uint8_t app_proto; /* sw_app_proto; 0 = none required */
    bool bidir;
    uint8_t target;
    uint8_t flow; /* SW_FLOW_* */
    bool noalert;
    bool has_dsize;
    sw_u32cmp dsize;
    /* Packet-header conditions; a rule with any of them inspects packets,
     * never reassembled stream data or transactions. */
    bool packet_only;
    bool has_flags;
    uint8_t flags, flags_mask; /* TCP flags compared after & flags_mask */
    uint8_t flags_mod;         /* SW_FLAGS_EXACT, _PLUS, _ANY, _NOT */
    bool has_itype, has_icode;
    sw_u32cmp itype, icode;
    bool has_ip_proto;
    sw_u32cmp ip_proto;
    /* stream_size: bytes sent by the client, the server, both or either */
    uint8_t stream_size_side; /* 0 none, SW_SSIZE_* */
    sw_u32cmp stream_size;
    uint16_t tls_version; /* tls.version; 0 = none */
    /* app-layer-event / decode-event names, lower case, without a
     * "decoder." prefix: every one must be among the input's events */
    uint8_t n_events;
    char events[SW_RULE_MAX_EVENTS][SW_RULE_EVENT_LEN];
    bool has_dns_opcode;
    sw_u32cmp dns_opcode;
    uint8_t n_vlan;
    sw_vlan_cond vlan[SW_RULE_MAX_VLAN];
    int priority; /* -1: from classtype */
    char *msg;
    char *classtype;
    const char *category; /* owned by the classes table, may be "" */
    sw_addr_set src, dst;
    sw_port_set sp, dp;
    uint16_t n_sm;
    sw_sm *sm; /* owned */
    uint8_t n_flowbits;
    sw_flowbit flowbits[SW_RULE_MAX_FLOWBITS];
    uint8_t n_xbits;
    sw_xbit xbits[SW_RULE_MAX_XBITS];
    uint8_t n_flowints;
    sw_flowint flowints[SW_RULE_MAX_FLOWINTS];
    sw_threshold threshold;
    uint8_t n_meta;
    sw_meta meta[SW_RULE_MAX_META];
    char *meta_block; /* owned: keys and values */
    uint32_t buf_mask_lo; /* bit i: buffer i inspected (i < 32) */
    uint32_t buf_mask_hi;
    uint32_t dotprefix_mask_lo, dotprefix_mask_hi; /* buffers transformed */
    char *text; /* owned, the rule as written (one line) */
    const char *file;
    int line;
    uint32_t idx; /* position in the engine */
    int32_t fp_sm; /* index of the fast-pattern content, -1 none */
} sw_rule;

static inline bool sw_rule_uses_buf(const sw_rule *r, int b)
{
    return b < 32 ? (r->buf_mask_lo >> b) & 1 : (r->buf_mask_hi >> (b - 32)) & 1;
}
static inline bool sw_rule_dotprefix(const sw_rule *r, int b)
{
    return b < 32 ? (r->dotprefix_mask_lo >> b) & 1 : (r->dotprefix_mask_hi >> (b - 32)) & 1;
}

typedef enum sw_parse_result {
    SW_PARSE_OK = 0,
    SW_PARSE_ERROR = -1,       /* syntax or value error */
    SW_PARSE_UNSUPPORTED = -2, /* valid rule with a keyword we do not do */
} sw_parse_result;

typedef struct sw_parse_ctx {
    const sw_vars *vars;
    const sw_classes *classes;
    uint32_t pcre_match_limit;
} sw_parse_ctx;

/* Parses one rule (comments and blank lines must be filtered already).
 * On error/unsupported, *out is untouched and why names the reason (for
 * unsupported: the keyword, in kw). */
sw_parse_result sw_rule_parse(const sw_parse_ctx *ctx, const char *text, sw_rule **out,
                              char *why, size_t whylen, char *kw, size_t kwlen);
void sw_rule_free(sw_rule *r);

uint32_t sw_flowbit_hash(const char *name, size_t n);
const char *sw_app_proto_name(int app);

#endif
