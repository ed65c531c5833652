/* Disk spool for one network output: an ordered queue of whole NDJSON lines
 * kept in segment files under one directory, so events survive a receiver
 * outage and a restart of the sensor.
 *
 * Layout: <dir>/<16-digit id>.seg (appended, O_APPEND) and <dir>/cursor
 * ("<id> <offset>\n", replaced atomically by rename) naming the first byte
 * not yet delivered. Only whole lines are appended; a line cut short by a
 * crash is trimmed at open. One thread owns a spool; nothing is locked. */
#ifndef SW_SPOOL_H
#define SW_SPOOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sw_spool sw_spool;

/* Creates dir if needed and recovers what a previous run left there.
 * max_bytes bounds the disk use (segments, delivered prefix included). */
sw_spool *sw_spool_open(const char *dir, uint64_t max_bytes, char *err, size_t errlen);
void sw_spool_close(sw_spool *s);

/* Appends the longest prefix of whole lines of buf[0..len) that fits;
 * returns its length (the caller counts the rest as dropped). -1 on an I/O
 * error (nothing appended). */
long sw_spool_append(sw_spool *s, const char *buf, size_t len);

/* Copies up to cap bytes of whole lines from the head into buf and returns
 * the length (0 = empty). A line longer than cap is skipped and counted in
 * *skipped_lines (it could never be delivered). */
size_t sw_spool_peek(sw_spool *s, char *buf, size_t cap, uint64_t *skipped_lines);
/* Marks the first n peeked bytes delivered (persisted before returning). */
int sw_spool_consume(sw_spool *s, size_t n);

bool sw_spool_empty(const sw_spool *s);
/* Undelivered bytes. */
uint64_t sw_spool_pending(const sw_spool *s);

#endif
