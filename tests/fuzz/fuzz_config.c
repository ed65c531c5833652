/* YAML config loader: the tree (sw_cfg_load_string / sw_cfg_load_file),
 * every typed getter, and every module's *_config_load over the result. */
#include "decoders/http.h"
#include "decoders/tls.h"
#include "sensor/beacon.h"
#include "sensor/cfg.h"
#include "sensor/engine.h"
#include "sensor/eve_dns.h"
#include "sensor/geoip.h"
#include "signatures/ioc.h"
#include "signatures/sig_engine.h"
#include "tests/fuzz/fuzz_common.h"

static void walk(const sw_cfg_node *n, int depth)
{
    FZ_CHECK(depth < 10000);
    if (!n)
        return;
    (void)sw_cfg_line(n);
    sw_cfg_type t = sw_cfg_type_of(n);
    if (t == SW_CFG_SCALAR) {
        FZ_CHECK(sw_cfg_scalar(n) != NULL);
        return;
    }
    size_t len = sw_cfg_len(n);
    for (size_t i = 0; i < len; i++) {
        if (t == SW_CFG_MAP)
            FZ_CHECK(sw_cfg_key_at(n, i) != NULL);
        walk(sw_cfg_at(n, i), depth + 1);
    }
}

#define ERR_OK(rc) FZ_CHECK((rc) == 0 || ((rc) == -1 && err[0] != 0))

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    char err[512] = "";
    sw_cfg_node *root = sw_cfg_load_string(text, err, sizeof err);
    free(text);
    if (!root) {
        FZ_CHECK(err[0] != 0);
        return 0;
    }
    walk(root, 0);
    /* Getters on keys the modules read, each type. */
    static const char *const keys[] = {"flow.memcap", "stream.reassembly.memcap", "a",
                                       "defrag.timeout", "outputs", "vars.address-groups"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        uint64_t u;
        int64_t v;
        double d;
        bool b;
        const char *s;
        err[0] = 0; ERR_OK(sw_cfg_get_u64(root, keys[i], &u, err, sizeof err));
        err[0] = 0; ERR_OK(sw_cfg_get_int(root, keys[i], &v, err, sizeof err));
        err[0] = 0; ERR_OK(sw_cfg_get_double(root, keys[i], &d, err, sizeof err));
        err[0] = 0; ERR_OK(sw_cfg_get_bool(root, keys[i], &b, err, sizeof err));
        err[0] = 0; ERR_OK(sw_cfg_get_size(root, keys[i], &u, err, sizeof err));
        err[0] = 0; ERR_OK(sw_cfg_get_duration(root, keys[i], &u, err, sizeof err));
        err[0] = 0; ERR_OK(sw_cfg_get_str(root, keys[i], &s, err, sizeof err));
    }
    static sw_engine_config ec;
    sw_engine_config_defaults(&ec);
    err[0] = 0; ERR_OK(sw_engine_config_load(root, &ec, err, sizeof err));
    sw_dns_config dc;
    sw_dns_config_defaults(&dc);
    err[0] = 0; ERR_OK(sw_dns_config_load(root, &dc, err, sizeof err));
    sw_http_config hc;
    sw_http_config_defaults(&hc);
    err[0] = 0; ERR_OK(sw_http_config_load(root, &hc, err, sizeof err));
    sw_tls_config tc;
    sw_tls_config_defaults(&tc);
    err[0] = 0; ERR_OK(sw_tls_config_load(root, &tc, err, sizeof err));
    static sw_ioc_config ic;
    sw_ioc_config_defaults(&ic);
    err[0] = 0; ERR_OK(sw_ioc_config_load(root, &ic, err, sizeof err));
    static sw_sig_config sc;
    sw_sig_config_defaults(&sc);
    err[0] = 0; ERR_OK(sw_sig_config_load(root, &sc, err, sizeof err));
    static sw_beacon_config bc;
    sw_beacon_config_defaults(&bc);
    err[0] = 0; ERR_OK(sw_beacon_config_load(root, &bc, err, sizeof err));
    static sw_geoip_config gc;
    sw_geoip_config_defaults(&gc);
    err[0] = 0; ERR_OK(sw_geoip_config_load(root, &gc, err, sizeof err));
    sw_cfg_free(root);
    return 0;
}
