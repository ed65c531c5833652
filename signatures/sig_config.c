/* Signature engine configuration from the YAML tree. Kept apart from the
 * engine so that programs using the engine without the config tree (tests,
 * tools) do not pull in the YAML layer. */
#include <stdio.h>
#include <string.h>

#include "sensor/cfg.h"
#include "signatures/sig_engine.h"

static int load_vars(const sw_cfg_node *root, const char *path,
                     __typeof__(((sw_sig_config *)0)->addr_vars[0]) *out, size_t *n, char *err,
                     size_t errlen)
{
    const sw_cfg_node *g = sw_cfg_get(root, path);
    if (!g)
        return 0;
    if (sw_cfg_type_of(g) != SW_CFG_MAP) {
        snprintf(err, errlen, "config: %s: must be a map of NAME: value", path);
        return -1;
    }
    size_t len = sw_cfg_len(g);
    for (size_t i = 0; i < len; i++) {
        const char *k = sw_cfg_key_at(g, i);
        const char *v = sw_cfg_scalar(sw_cfg_at(g, i));
        if (!k || !v) {
            snprintf(err, errlen, "config: %s: entry %zu is not NAME: value", path, i);
            return -1;
        }
        if (*n >= SW_SIG_MAX_VARS) {
            snprintf(err, errlen, "config: %s: more than %d variables", path, SW_SIG_MAX_VARS);
            return -1;
        }
        out[*n].name = k;
        out[*n].value = v;
        (*n)++;
    }
    return 0;
}

int sw_sig_config_load(const struct sw_cfg_node *root, sw_sig_config *c, char *err, size_t errlen)
{
    if (load_vars(root, "vars.address-groups", c->addr_vars, &c->n_addr_vars, err, errlen) < 0 ||
        load_vars(root, "vars.port-groups", c->port_vars, &c->n_port_vars, err, errlen) < 0)
        return -1;
    if (sw_cfg_get_str(root, "classification-file", &c->classification_file, err, errlen) < 0)
        return -1;
    if (sw_cfg_get_u32_in(root, "detect.thresholds.max-entries", &c->threshold_entries, 1,
                          16u * 1024 * 1024, err, errlen) < 0 ||
        sw_cfg_get_u32_in(root, "detect.xbits.max-entries", &c->xbits_entries, 1,
                          16u * 1024 * 1024, err, errlen) < 0 ||
        sw_cfg_get_u32_in(root, "detect.base64-decode-max", &c->base64_max, 64, 16u << 20, err,
                          errlen) < 0 ||
        sw_cfg_get_u32_in(root, "pcre.match-limit", &c->pcre_match_limit, 1, 100000000, err,
                          errlen) < 0 ||
        sw_cfg_get_u32_in(root, "detect.inspection-recursion-limit",
                          &c->inspection_recursion_limit, 1, 1000000, err, errlen) < 0 ||
        sw_cfg_get_u32_in(root, "detect.packet-alert-max", &c->packet_alert_max, 1, 1024, err,
                          errlen) < 0)
        return -1;
    if (sw_cfg_get_str(root, "detect.cache-dir", &c->cache_dir, err, errlen) < 0)
        return -1;
    return 0;
}
