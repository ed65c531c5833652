/* The YAML configuration as a read-only tree (libyaml parses it; every
 * module reads its own section through these getters).
 *
 * Paths are dot-separated map keys: "outputs.redis.port". Getters leave *out
 * untouched when the key is absent, so a module sets its defaults first and
 * then overlays what the file says. A present but bad value returns -1 and
 * writes "config: <path>: <problem>" into err. */
#ifndef SW_CFG_H
#define SW_CFG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct sw_cfg_node sw_cfg_node;

typedef enum sw_cfg_type { SW_CFG_SCALAR, SW_CFG_MAP, SW_CFG_SEQ } sw_cfg_type;

/* Parses a YAML file; NULL on error with "file:line: problem" in err. */
sw_cfg_node *sw_cfg_load_file(const char *path, char *err, size_t errlen);
sw_cfg_node *sw_cfg_load_string(const char *yaml, char *err, size_t errlen);
void sw_cfg_free(sw_cfg_node *root);

/* NULL when absent (root may be NULL: then everything is absent). */
const sw_cfg_node *sw_cfg_get(const sw_cfg_node *root, const char *path);
sw_cfg_type sw_cfg_type_of(const sw_cfg_node *n);
const char *sw_cfg_scalar(const sw_cfg_node *n); /* NULL unless scalar */
size_t sw_cfg_len(const sw_cfg_node *n);        /* map/seq entries */
const sw_cfg_node *sw_cfg_at(const sw_cfg_node *n, size_t i);
const char *sw_cfg_key_at(const sw_cfg_node *n, size_t i); /* maps only */
int sw_cfg_line(const sw_cfg_node *n); /* 1-based line in the file */

/* Typed getters: 0 = absent or set, -1 = bad value (err filled). */
int sw_cfg_get_u64(const sw_cfg_node *root, const char *path, uint64_t *out,
                   char *err, size_t errlen);
int sw_cfg_get_int(const sw_cfg_node *root, const char *path, int64_t *out,
                   char *err, size_t errlen);
int sw_cfg_get_double(const sw_cfg_node *root, const char *path, double *out,
                      char *err, size_t errlen);
/* An unsigned count that must lie in lo..hi (the value *out already holds
 * when the key is absent is not checked); -1 names the key and the range. */
int sw_cfg_get_u32_in(const sw_cfg_node *root, const char *path, uint32_t *out, uint32_t lo,
                      uint32_t hi, char *err, size_t errlen);
/* yes/no/true/false/on/off/1/0 */
int sw_cfg_get_bool(const sw_cfg_node *root, const char *path, bool *out,
                    char *err, size_t errlen);
/* Byte sizes: 1024, "64kb", "32mb", "1gb" (powers of 1024). */
int sw_cfg_get_size(const sw_cfg_node *root, const char *path, uint64_t *out,
                    char *err, size_t errlen);
/* Durations: 30, "30s", "5m", "2h", "500ms" -> microseconds. */
int sw_cfg_get_duration(const sw_cfg_node *root, const char *path,
                        uint64_t *out_us, char *err, size_t errlen);
/* A list of ports ([53, 5353] or a single 53). When present, *n is set to
 * its length (at most max, each 1..65535); "any" as the only entry sets
 * *any (if any is non-NULL) and *n = 0. */
int sw_cfg_get_ports(const sw_cfg_node *root, const char *path, uint16_t *out, size_t max,
                     size_t *n, bool *any, char *err, size_t errlen);
/* Points *out at the scalar owned by the tree (valid while it lives). */
int sw_cfg_get_str(const sw_cfg_node *root, const char *path, const char **out,
                   char *err, size_t errlen);

#endif
