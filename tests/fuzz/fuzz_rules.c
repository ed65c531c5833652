/* Rule parser and compiler: the input is a rules file held in memory. */
#include "signatures/sig_engine.h"
#include "tests/fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static sw_sig_report report;
    char *text = malloc(size + 1);
    memcpy(text, data, size);
    text[size] = 0;
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    memset(&report, 0, sizeof report);
    sw_sig_engine *e = sw_sig_engine_build_string(&cfg, "fuzz.rules", text, &report);
    FZ_CHECK(report.n_issues <= SW_SIG_REPORT_MAX_ISSUES);
    FZ_CHECK(memchr(report.fatal, 0, sizeof report.fatal) != NULL);
    for (uint32_t i = 0; i < report.n_issues; i++)
        FZ_CHECK(memchr(report.issues[i].reason, 0, sizeof report.issues[i].reason));
    if (e) {
        FZ_CHECK(sw_sig_engine_rule_count(e) == report.loaded);
        sw_sig_engine_free(e);
    }
    free(text);
    return 0;
}
