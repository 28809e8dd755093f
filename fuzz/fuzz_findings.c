/* fuzz_findings: the input is a SARIF log or a Bandit JSON report.
 * Never a crash or a leak; the severity counts always add up to the
 * total; a failed parse leaves an earlier report's findings as they
 * were; every kept finding renders as a workflow command. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/limits.h"

static void check(const struct report_findings *f)
{
    uint64_t sum = 0;

    for (int s = 0; s < REPORT_SEV_COUNT; s++)
        sum += f->by_severity[s];
    if (sum != f->total || f->by_severity[REPORT_SEV_NONE] != 0 ||
        f->n > f->total || f->n > LIM_REPORT_FINDINGS)
        __builtin_trap();
    for (size_t i = 0; i < f->n; i++)
        if (!f->v[i].rule || !f->v[i].message ||
            f->v[i].severity == REPORT_SEV_NONE)
            __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const enum report_find_format fmts[] = {
        REPORT_FIND_AUTO, REPORT_FIND_SARIF, REPORT_FIND_BANDIT};
    struct report_findings f;
    struct ferr err;
    struct buf b;

    report_findings_init(&f);
    for (size_t k = 0; k < 3; k++) {
        uint64_t total = f.total;
        size_t n = f.n;
        enum ferr_code rc;

        ferr_clear(&err);
        rc = report_findings_parse("fuzz.json", span_of(data, size), fmts[k],
                                   &f, &err);
        if (rc != FERR_OK && (err.code != rc || err.msg[0] == '\0' ||
                              f.total != total || f.n != n))
            __builtin_trap();
        check(&f);
    }
    report_findings_sort(&f);
    check(&f);
    for (size_t i = 1; i < f.n; i++)
        if (f.v[i].severity > f.v[i - 1].severity)
            __builtin_trap();
    buf_init(&b, 1u << 20);
    for (size_t i = 0; i < f.n && i < 50; i++) {
        const struct report_finding *x = &f.v[i];

        buf_reset(&b);
        if (report_annotation(&b, "error", x->file, x->line, x->rule,
                              x->message) == FERR_OK &&
            (memchr(b.p, '\n', b.len) != b.p + b.len - 1))
            __builtin_trap(); /* one line, whatever the text */
    }
    buf_release(&b);
    {
        json_t *o = report_findings_json(&f, "fuzz.json", REPORT_SEV_HIGH, 0);
        char *s = json_dumps(o, JSON_COMPACT);

        if (!s)
            __builtin_trap();
        free(s);
        json_decref(o);
    }
    report_findings_release(&f);
    return 0;
}
