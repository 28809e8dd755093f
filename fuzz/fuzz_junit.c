/* fuzz_junit: the input is a JUnit XML report.  The parser must never
 * crash or leak on any bytes (expat underneath, DOCTYPEs refused); a
 * failure carries its code and a message, a success keeps its bounds:
 * at most REPORT_FAILED_MAX failed tests with cut, NUL-terminated
 * strings, and a summary that renders as JSON. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/limits.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct report_tests t;
    struct report_tests sum;
    struct ferr err;
    enum ferr_code rc;
    json_t *o;
    char *s;

    ferr_clear(&err);
    rc = report_junit_parse("fuzz.xml", span_of(data, size), &t, &err);
    if (rc != FERR_OK) {
        if (err.code != rc || err.msg[0] == '\0' || t.tests || t.nfailed)
            __builtin_trap();
        return 0;
    }
    if (err.code != FERR_OK || t.nfailed > REPORT_FAILED_MAX ||
        t.tests > LIM_REPORT_COUNT || t.failures > LIM_REPORT_COUNT ||
        !(t.time_s >= 0))
        __builtin_trap();
    for (size_t i = 0; i < t.nfailed; i++) {
        const struct report_failed *f = &t.failed[i];

        if (strlen(f->suite) > REPORT_TEXT_MAX ||
            strlen(f->name) > REPORT_TEXT_MAX ||
            strlen(f->message) > REPORT_TEXT_MAX ||
            strlen(f->file) > REPORT_TEXT_MAX)
            __builtin_trap();
    }
    memset(&sum, 0, sizeof(sum));
    report_tests_add(&sum, &t);
    report_tests_add(&sum, &t);
    if (sum.nfailed > REPORT_FAILED_MAX || sum.tests > LIM_REPORT_COUNT)
        __builtin_trap();
    o = report_tests_json(&sum, "fuzz.xml");
    s = json_dumps(o, JSON_COMPACT);
    if (!s)
        __builtin_trap();
    free(s);
    json_decref(o);
    return 0;
}
