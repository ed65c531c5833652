/* EVE outputs: fan-out of finished NDJSON lines to several sinks at once
 * (Suricata's eve-log types: regular file, unix stream/dgram sockets,
 * syslog over TCP/UDP (TLS optional), Redis list/channel/stream).
 *
 * Write path: sw_outputs_write() only copies the line into each output's
 * bounded in-memory queue (one mutex per output); each output has its own
 * thread that writes the file or talks to the network. Network outputs never
 * block the caller: while the receiver is down (or slow) lines go to a disk
 * spool under <logdir>/spool/<name>/, and once spooling started every new
 * line goes there too until the spool is drained, so order is kept. What
 * does not fit anywhere is counted as dropped, never silently lost. */
#ifndef SW_OUTPUT_H
#define SW_OUTPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sensor/cfg.h"
#include "sensor/counters.h"

#define SW_OUTPUTS_MAX 8
#define SW_OUT_PATH_MAX 512
/* Longest line a network output accepts (longer ones are dropped and
 * counted); files take any line that fits the queue. */
#define SW_OUT_MAX_LINE (1u << 20)

typedef enum sw_out_type {
    SW_OUT_REGULAR,
    SW_OUT_UNIX_STREAM,
    SW_OUT_UNIX_DGRAM,
    SW_OUT_SYSLOG,
    SW_OUT_REDIS,
} sw_out_type;

typedef enum sw_redis_mode {
    SW_REDIS_RPUSH, /* "list" / "rpush" */
    SW_REDIS_LPUSH, /* "lpush" */
    SW_REDIS_PUBLISH, /* "channel" / "publish" */
    SW_REDIS_XADD,  /* "stream" / "xadd" */
} sw_redis_mode;

typedef struct sw_output_config {
    sw_out_type type;
    char name[32];              /* counter name; default "file", "redis", ... */
    char filename[SW_OUT_PATH_MAX]; /* regular: relative to logdir unless
                                       absolute; unix: the socket path */
    uint64_t buffer_size;       /* in-memory queue bytes (default 16 MiB) */

    /* regular file */
    uint64_t rotate_size;       /* bytes, 0 = off */
    uint64_t rotate_interval_us; /* 0 = off */
    bool rotate_compress;       /* gzip rotated files (default yes) */

    /* network */
    char server[256];           /* syslog / redis host (default 127.0.0.1) */
    uint16_t port;              /* default 514 syslog, 6379 redis */
    bool syslog_tcp;            /* protocol: tcp (default) | udp */
    bool tls;                   /* syslog over TLS (tcp only) */
    bool tls_verify;            /* verify peer certificate (default yes) */
    char tls_ca[SW_OUT_PATH_MAX], tls_cert[SW_OUT_PATH_MAX], tls_key[SW_OUT_PATH_MAX];
    int syslog_facility;        /* 0..23, default 16 (local0) */
    int syslog_severity;        /* default 6 (info) */
    char syslog_ident[48];      /* APP-NAME, default "spanwatch" */
    sw_redis_mode redis_mode;
    char redis_key[256];        /* default "spanwatch" */
    uint32_t redis_batch;       /* commands per pipeline round trip (default 256) */

    bool spool_enabled;         /* default yes */
    char spool_dir[SW_OUT_PATH_MAX]; /* default <logdir>/spool/<name> */
    uint64_t spool_size;        /* default 1 GiB */
    uint64_t reconnect_max_us;  /* back-off ceiling (default 30 s) */
    uint64_t timeout_us;        /* connect / send timeout (default 2 s) */
    uint64_t close_timeout_us;  /* how long close tries to drain (default 5 s) */
} sw_output_config;

typedef struct sw_outputs_config {
    size_t n;
    sw_output_config out[SW_OUTPUTS_MAX];
} sw_outputs_config;

typedef struct sw_outputs sw_outputs;

/* Sets the defaults of one output of the given type (name, ports, sizes). */
void sw_output_config_defaults(sw_output_config *c, sw_out_type type);
/* Default: one regular file "eve.json". */
void sw_outputs_config_defaults(sw_outputs_config *c);
/* Reads the `outputs:` list; when present it replaces the default. */
int sw_outputs_config_load(const sw_cfg_node *root, sw_outputs_config *c, char *err,
                           size_t errlen);

/* Opens every output (files are created, network outputs connect in their
 * thread, so an absent receiver is not an error here). NULL + err when a
 * file or spool cannot be opened. */
sw_outputs *sw_outputs_open(const sw_outputs_config *c, const char *logdir, char *err,
                            size_t errlen);
/* line: one complete JSON object ending in '\n'. Any thread. */
void sw_outputs_write(sw_outputs *o, const char *line, size_t len);
/* Waits until everything written so far reached the file or the network
 * output's socket/spool. */
void sw_outputs_flush(sw_outputs *o);
/* Reopen files (SIGHUP after logrotate). Async-signal-safe? No: call it
 * from the thread that saw the signal flag. */
void sw_outputs_reopen(sw_outputs *o);
/* Flushes, drains network outputs for at most close_timeout, leaves the
 * rest in the spool for the next start, and frees. NULL is fine. */
void sw_outputs_close(sw_outputs *o);

/* spanwatch.output.<name>.{sent,spooled,dropped,reconnects,queue_len,
 * spool_bytes,write_errors,disk_full,recoveries,rotations,compress_errors}
 * (compress_errors: rotated files left uncompressed). Line counts,
 * except queue_len/spool_bytes (bytes, gauges) and disk_full (0/1 gauge:
 * the lead turns a 1 into an alert; recoveries counts it going back to 0). */
sw_ctr_group sw_outputs_counters(const sw_outputs *o);
/* True when any output currently loses lines (disk full, spool full). */
bool sw_outputs_degraded(const sw_outputs *o);

/* ---- Internal to the output module (output*.c); not for callers. ---- */

enum {
    SW_OCTR_SENT, SW_OCTR_SPOOLED, SW_OCTR_DROPPED, SW_OCTR_RECONNECTS,
    SW_OCTR_QUEUE_LEN, SW_OCTR_SPOOL_BYTES, SW_OCTR_WRITE_ERRORS,
    SW_OCTR_DISK_FULL, SW_OCTR_RECOVERIES, SW_OCTR_ROTATIONS, SW_OCTR_COMPRESS_ERRORS,
    SW_OCTR_N
};
#define SW_OCTR_ADD(ctr, id, n) __atomic_fetch_add(&(ctr)[id], (uint64_t)(n), __ATOMIC_RELAXED)

/* A network transport owned by one output thread. send() takes whole lines
 * and reports in *done how many leading bytes (whole lines) were handed to
 * the receiver; lines the receiver refused for good (e.g. a Redis error
 * reply) are counted in *rejected and included in *done. */
typedef struct sw_transport {
    void *(*create)(const sw_output_config *c, char *err, size_t errlen);
    int (*connect)(void *t, char *err, size_t errlen);
    int (*send)(void *t, const char *buf, size_t len, size_t *done, uint64_t *rejected);
    void (*disconnect)(void *t);
    void (*destroy)(void *t);
} sw_transport;
extern const sw_transport sw_transport_unix_stream, sw_transport_unix_dgram,
    sw_transport_syslog, sw_transport_redis;

/* Regular file (output_file.c), driven by its output thread only. */
typedef struct sw_ofile sw_ofile;
sw_ofile *sw_ofile_open(const sw_output_config *c, const char *logdir, uint64_t *ctr,
                        char *err, size_t errlen);
void sw_ofile_write(sw_ofile *f, const char *buf, size_t len);
void sw_ofile_tick(sw_ofile *f, uint64_t now_us);
void sw_ofile_reopen(sw_ofile *f);
void sw_ofile_close(sw_ofile *f);
/* Rotation decision, pure so it is testable without a clock. */
bool sw_ofile_rotate_due(const sw_output_config *c, uint64_t bytes, uint64_t opened_us,
                         uint64_t now_us);
/* Whether directory entry NAME is a rotated file of output file BASE. */
bool sw_ofile_is_rotated_name(const char *base, const char *name);

/* Waits until fd is connected or timeout (non-blocking connect). */
int sw_out_connect_fd(int fd, const void *sa, unsigned salen, uint64_t timeout_us);
/* Writes all of buf to a stream socket; *done = bytes written. */
/* Newlines in b[0..n): how many whole lines a buffer holds. */
uint64_t sw_out_count_lines(const char *b, size_t n);
int sw_out_send_all(int fd, const char *buf, size_t len, size_t *done);
/* True when a socket the peer should never write to has data/EOF/error:
 * the peer closed it, so sending more would vanish. */
bool sw_out_peer_gone(int fd);
void sw_out_set_timeouts(int fd, uint64_t timeout_us);

#endif
