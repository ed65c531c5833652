/* sw-ruletest: load rule files the way the sensor does and print the report.
 * usage: sw-ruletest [-c classification.config] [-v] FILE.rules...
 * Exit 0 when every rule loaded, 1 when some were skipped or failed, 2 when
 * the engine could not be built. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "signatures/sig_engine.h"

int main(int argc, char **argv)
{
    sw_sig_config cfg;
    sw_sig_config_defaults(&cfg);
    int verbose = 0, i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-c") && i + 1 < argc)
            cfg.classification_file = argv[++i];
        else if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else {
            fprintf(stderr, "usage: %s [-c classification.config] [-v] FILE.rules...\n", argv[0]);
            return 2;
        }
    }
    sw_sig_report *rep = calloc(1, sizeof(*rep));
    if (!rep)
        return 2;
    sw_sig_engine *e = sw_sig_engine_build(&cfg, (const char *const *)argv + i, (size_t)(argc - i), rep);
    printf("loaded %u skipped %u errors %u files_failed %u prefilter %u always %u parse %.1f ms compile %.1f ms\n",
           rep->loaded, rep->skipped, rep->errors, rep->files_failed, rep->prefilter_rules,
           rep->always_rules, rep->parse_us / 1000.0, rep->compile_us / 1000.0);
    for (uint32_t k = 0; k < rep->n_unsupported; k++)
        printf("  unsupported %-24s %u\n", rep->unsupported[k].keyword, rep->unsupported[k].count);
    uint32_t shown = rep->n_issues < SW_SIG_REPORT_MAX_ISSUES ? rep->n_issues : SW_SIG_REPORT_MAX_ISSUES;
    for (uint32_t k = 0; k < shown; k++)
        if (verbose || rep->issues[k].is_error)
            printf("  %s %s:%d: %s\n", rep->issues[k].is_error ? "error" : "skip",
                   rep->issues[k].file, rep->issues[k].line, rep->issues[k].reason);
    if (rep->fatal[0])
        printf("fatal: %s\n", rep->fatal);
    int rc = !e ? 2 : (rep->skipped || rep->errors || rep->files_failed) ? 1 : 0;
    sw_sig_engine_free(e);
    free(rep);
    return rc;
}
