/* fuzz_coverage: the input is a coverage report, tried as detected, as
 * Cobertura XML and as an lcov tracefile.  Never a crash or a leak; a
 * failure carries its code and message (a parse error in lcov its line);
 * a success never has more covered than valid and renders as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/limits.h"

static void one(const uint8_t *data, size_t size, enum report_cov_format f)
{
    struct report_coverage c;
    struct ferr err;
    enum ferr_code rc;
    double min = 0.5;
    char pct[16];
    json_t *o;
    char *s;

    ferr_clear(&err);
    rc = report_coverage_parse("fuzz.cov", span_of(data, size), f, &c, &err);
    if (rc != FERR_OK) {
        if (err.code != rc || err.msg[0] == '\0' || c.lines_valid)
            __builtin_trap();
        return;
    }
    if (err.code != FERR_OK || c.lines_covered > c.lines_valid ||
        c.branches_covered > c.branches_valid ||
        c.lines_valid > LIM_REPORT_COUNT ||
        c.branches_valid > LIM_REPORT_COUNT || !(c.line_rate >= 0) ||
        !(c.line_rate <= 1) || c.format == REPORT_COV_AUTO)
        __builtin_trap();
    report_percent(c.line_rate, pct);
    if (strlen(pct) > 5)
        __builtin_trap();
    (void)report_coverage_passes(&c, min);
    o = report_coverage_json(&c, "fuzz.cov", &min);
    s = json_dumps(o, JSON_COMPACT);
    if (!s)
        __builtin_trap();
    free(s);
    json_decref(o);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size, REPORT_COV_AUTO);
    one(data, size, REPORT_COV_COBERTURA);
    one(data, size, REPORT_COV_LCOV);
    return 0;
}
