/* report_cmd: `ferry __report` and `ferry __gate`, the processes behind
 * `uses: ferry/report@v1` (test and coverage reports, the coverage gate)
 * and `uses: ferry/gate@v1` (the security gate over SARIF and Bandit
 * findings).  Inputs come in INPUT_<NAME>; results go out as workflow
 * commands on stdout, a Markdown summary in $GITHUB_STEP_SUMMARY, step
 * outputs in $GITHUB_OUTPUT and one JSON line per report in
 * $FERRY_REPORT.  Parsing and arithmetic are report/report.h's. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "cli/cli.h"
#include "pipeline/ferryact.h"
#include "report/report.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define SHOW_MAX 50u /* annotations of each level the gate prints */

/* ---------- inputs ---------- */

/* INPUT_MIN-COVERAGE=70 → {"min-coverage": "70"}; an input the table
 * (pipeline/ferryact.h) does not list for @action is a usage error naming
 * it, in the words `ferry lint` uses.  Returns 0 or 2. */
static int read_inputs(const char *verb, const char *action, json_t **out)
{
    const struct ferryact *a = ferryact_find(action, strlen(action));
    json_t *o = cli_inputs_take();
    const char *name;
    json_t *v;
    struct ferr err;

    *out = NULL;
    ferr_clear(&err);
    json_object_foreach (o, name, v) {
        if (ferryact_check_input(a, name, strlen(name), NULL, &err)) {
            fprintf(stderr, "ferry %s: %s\n", verb, err.msg);
            json_decref(o);
            return 2;
        }
    }
    *out = o;
    return 0;
}

/* An input's value with blanks trimmed, NULL when absent or empty. */
static char *input(const json_t *in, const char *name)
{
    const char *v = json_string_value(json_object_get(in, name));
    struct span s = span_trim(span_cstr(v));

    return s.len ? xstrndup(s.p, s.len) : NULL;
}

/* ---------- what the step leaves behind ---------- */

struct out {
    const char *verb;
    struct buf summary; /* Markdown for GITHUB_STEP_SUMMARY */
    struct buf lines;   /* stdout, flushed as it goes */
    bool summary_full;  /* the summary went over its cap: cut */
};

static void flush_lines(struct out *o)
{
    fwrite(o->lines.p ? o->lines.p : "", 1, o->lines.len, stdout);
    fflush(stdout);
    buf_reset(&o->lines);
}

static void say(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void say(struct out *o, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    if (buf_vaddf(&o->lines, fmt, ap) || buf_addch(&o->lines, '\n'))
        buf_reset(&o->lines); /* too long to print: drop it whole */
    va_end(ap);
    flush_lines(o);
}

static void annotate(struct out *o, const char *level, const char *file,
                     uint32_t line, const char *title, const char *msg)
{
    if (report_annotation(&o->lines, level, file, line, title, msg) == 0)
        flush_lines(o);
}

/* Why the step fails, as an error annotation (ferry run prints it as
 * "error: MSG"; GitHub shows it on the run's page). */
static void fail(struct out *o, const char *title, const char *msg)
{
    annotate(o, "error", NULL, 0, title, msg);
}

static void fail_err(struct out *o, const char *title, const struct ferr *err)
{
    char msg[1024];

    fail(o, title, ferr_format(err, msg, sizeof(msg)));
}

static void md(struct out *o, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void md(struct out *o, const char *fmt, ...)
{
    va_list ap;

    if (o->summary_full)
        return;
    va_start(ap, fmt);
    if (buf_vaddf(&o->summary, fmt, ap))
        o->summary_full = true; /* the rest is dropped */
    va_end(ap);
}

/* Outside text in a Markdown table cell or list item. */
static void md_text(struct out *o, const char *s)
{
    for (; *s && !o->summary_full; s++) {
        enum ferr_code rc;

        switch (*s) {
        case '|': rc = buf_adds(&o->summary, "\\|"); break;
        case '<': rc = buf_adds(&o->summary, "&lt;"); break;
        case '>': rc = buf_adds(&o->summary, "&gt;"); break;
        case '`': rc = buf_addch(&o->summary, '\''); break;
        case '\n':
        case '\r': rc = buf_addch(&o->summary, ' '); break;
        default: rc = buf_addch(&o->summary, *s); break;
        }
        if (rc)
            o->summary_full = true;
    }
}

static void append_file(const char *env, const char *data, size_t len)
{
    const char *path = getenv(env);
    int fd;

    if (!path || !*path || !len)
        return;
    fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
    if (fd < 0) {
        fprintf(stderr, "warning: cannot open $%s '%s': %s\n", env, path,
                strerror(errno));
        return;
    }
    while (len) {
        ssize_t n = write(fd, data, len);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            fprintf(stderr, "warning: cannot write $%s: %s\n", env,
                    strerror(errno));
            break;
        }
        data += n;
        len -= (size_t)n;
    }
    close(fd);
}

static void set_output(const char *name, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void set_output(const char *name, const char *fmt, ...)
{
    struct buf b;
    va_list ap;

    buf_init(&b, 4096);
    va_start(ap, fmt);
    if (buf_addf(&b, "%s=", name) == 0 && buf_vaddf(&b, fmt, ap) == 0 &&
        !memchr(b.p, '\n', b.len) && buf_addch(&b, '\n') == 0)
        append_file("GITHUB_OUTPUT", b.p, b.len);
    va_end(ap);
    buf_release(&b);
}

/* One summary line in $FERRY_REPORT (taken: @o is released). */
static void record(json_t *o, const char *name, char *const *files,
                   size_t nfiles)
{
    char *line;

    if (name)
        json_object_set_new(o, "name", json_string(name));
    if (nfiles > 1) {
        json_t *a = json_array();

        for (size_t i = 0; i < nfiles; i++)
            json_array_append_new(a, json_string(files[i]));
        json_object_set_new(o, "files", a);
    }
    line = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    json_decref(o);
    if (!line)
        return;
    if (strlen(line) + 1 <= LIM_REPORT_FILE_BYTES) {
        char *nl = xasprintf("%s\n", line);

        append_file("FERRY_REPORT", nl, strlen(nl));
        free(nl);
    }
    free(line);
}

/* Expand, read and hand each file to @parse; files that parsed are kept
 * in *out_ok.  Returns false when anything failed (already reported). */
static bool each_file(struct out *o, const char *title, const char *patterns,
                      enum ferr_code (*parse)(void *ud, const char *name,
                                              struct span src,
                                              struct ferr *err),
                      void *ud, char ***out_ok, size_t *out_n)
{
    char **paths = NULL;
    size_t n = 0;
    bool all = true;
    struct ferr err;
    size_t k = 0;

    *out_ok = NULL;
    *out_n = 0;
    ferr_clear(&err);
    if (report_expand(".", patterns, &paths, &n, &err)) {
        fail_err(o, title, &err);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        char *data = NULL;
        size_t len = 0;

        ferr_clear(&err);
        if (report_read_file(paths[i], &data, &len, &err) ||
            parse(ud, paths[i], span_of(data, len), &err)) {
            fail_err(o, title, &err);
            all = false;
            free(paths[i]);
        } else {
            paths[k++] = paths[i];
        }
        free(data);
    }
    *out_ok = paths;
    *out_n = k;
    return all;
}

/* ---------- ferry/report ---------- */

struct tests_ud {
    struct report_tests sum;
    struct report_tests one;
};

static enum ferr_code parse_junit(void *ud, const char *name, struct span src,
                                  struct ferr *err)
{
    struct tests_ud *t = ud;
    enum ferr_code rc = report_junit_parse(name, src, &t->one, err);

    if (!rc)
        report_tests_add(&t->sum, &t->one);
    return rc;
}

struct cov_ud {
    enum report_cov_format format;
    struct report_coverage c;
};

static enum ferr_code parse_cov(void *ud, const char *name, struct span src,
                                struct ferr *err)
{
    struct cov_ud *c = ud;

    return report_coverage_parse(name, src, c->format, &c->c, err);
}

static bool parse_bool(const char *s, bool *out)
{
    if (strcasecmp(s, "true") == 0)
        *out = true;
    else if (strcasecmp(s, "false") == 0)
        *out = false;
    else
        return false;
    return true;
}

static void tests_step(struct out *o, const char *patterns,
                       bool fail_on_failures, const char *name, int *status)
{
    struct tests_ud *t = xcalloc(1, sizeof(*t));
    const struct report_tests *s = &t->sum;
    char **files = NULL;
    size_t n = 0;
    char *label;
    uint64_t bad, passed;

    if (!each_file(o, "ferry/report", patterns, parse_junit, t, &files, &n))
        *status = 1;
    if (!n)
        goto done;
    label = report_files_label(files, n);
    bad = s->failures + s->errors;
    passed = s->tests >= bad + s->skipped ? s->tests - bad - s->skipped : 0;
    say(o,
        "tests: %" PRIu64 " run, %" PRIu64 " passed, %" PRIu64
        " failed, %" PRIu64 " errors, %" PRIu64 " skipped in %.2fs (%s)",
        s->tests, passed, s->failures, s->errors, s->skipped, s->time_s, label);
    md(o, "### %s\n\n", name ? name : "Tests");
    md(o,
       "| Tests | Passed | Failed | Errors | Skipped | Time |\n"
       "|---:|---:|---:|---:|---:|---:|\n"
       "| %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
       " | %.2f s |\n\n",
       s->tests, passed, s->failures, s->errors, s->skipped, s->time_s);
    if (s->nfailed)
        md(o, "**Failed tests**\n\n");
    for (size_t i = 0; i < s->nfailed; i++) {
        const struct report_failed *f = &s->failed[i];
        char *title = *f->suite ? xasprintf("%s.%s", f->suite, f->name)
                                : xstrdup(f->name);
        char *msg = xasprintf("%s %s: %s", f->error ? "error in" : "failed",
                              title, *f->message ? f->message : "-");

        annotate(o, "error", *f->file ? f->file : NULL, f->line, title, msg);
        free(msg);
        md(o, "- `");
        md_text(o, title);
        md(o, "`%s", *f->message ? ": " : "");
        md_text(o, f->message);
        md(o, "\n");
        free(title);
    }
    if (bad > s->nfailed) {
        say(o, "... and %" PRIu64 " more failed tests", bad - s->nfailed);
        md(o, "- ... and %" PRIu64 " more\n", bad - s->nfailed);
    }
    if (s->nfailed)
        md(o, "\n");
    set_output("tests", "%" PRIu64, s->tests);
    set_output("passed", "%" PRIu64, passed);
    set_output("failures", "%" PRIu64, s->failures);
    set_output("errors", "%" PRIu64, s->errors);
    set_output("skipped", "%" PRIu64, s->skipped);
    record(report_tests_json(s, label), name, files, n);
    if (bad && fail_on_failures) {
        char *msg =
            xasprintf("%" PRIu64 " of %" PRIu64 " tests failed", bad, s->tests);

        fail(o, "Tests failed", msg);
        free(msg);
        *status = 1;
    }
    free(label);
done:
    report_paths_free(files, n);
    free(t);
}

static void coverage_step(struct out *o, const char *path,
                          enum report_cov_format format, const double *min,
                          const char *name, int *status)
{
    struct cov_ud c;
    char **files = NULL;
    size_t n = 0;
    char **all = NULL;
    size_t nall = 0;
    struct ferr err;
    char pct[16], bpct[16];
    const struct report_coverage *r = &c.c;

    memset(&c, 0, sizeof(c));
    c.format = format;
    ferr_clear(&err);
    /* one report: a pattern must name exactly one file */
    if (report_expand(".", path, &all, &nall, &err)) {
        fail_err(o, "ferry/report", &err);
        *status = 1;
        return;
    }
    if (nall > 1) {
        char *msg = xasprintf("coverage: '%s' matches %zu files; name one "
                              "report",
                              path, nall);

        fail(o, "ferry/report", msg);
        free(msg);
        report_paths_free(all, nall);
        *status = 1;
        return;
    }
    report_paths_free(all, nall);
    if (!each_file(o, "ferry/report", path, parse_cov, &c, &files, &n))
        *status = 1;
    if (!n)
        goto done;
    report_percent(r->line_rate, pct);
    report_percent(r->branches_valid
                       ? (double)r->branches_covered / (double)r->branches_valid
                       : 0,
                   bpct);
    say(o,
        "coverage: %s%% of lines (%" PRIu64 " of %" PRIu64
        "), branches %" PRIu64 " of %" PRIu64 " (%s, %s)",
        pct, r->lines_covered, r->lines_valid, r->branches_covered,
        r->branches_valid, files[0], report_cov_format_name(r->format));
    md(o, "### %s\n\n", name ? name : "Coverage");
    md(o, "| | Covered | Total | Rate |\n|---|---:|---:|---:|\n");
    md(o, "| Lines | %" PRIu64 " | %" PRIu64 " | %s%% |\n", r->lines_covered,
       r->lines_valid, pct);
    if (r->branches_valid)
        md(o, "| Branches | %" PRIu64 " | %" PRIu64 " | %s%% |\n",
           r->branches_covered, r->branches_valid, bpct);
    set_output("coverage", "%s", pct);
    set_output("lines-valid", "%" PRIu64, r->lines_valid);
    set_output("lines-covered", "%" PRIu64, r->lines_covered);
    if (min) {
        bool ok = report_coverage_passes(r, *min);
        char *msg = xasprintf("coverage %s%% is %s the minimum %g%%", pct,
                              ok ? "at or above" : "below", *min * 100.0);

        md(o, "\nMinimum %g%%: %s\n", *min * 100.0,
           ok ? "passed" : "**failed**");
        set_output("coverage-passed", "%s", ok ? "true" : "false");
        if (ok) {
            say(o, "%s", msg);
        } else {
            fail(o, "Coverage below minimum", msg);
            *status = 1;
        }
        free(msg);
    }
    md(o, "\n");
    record(report_coverage_json(r, files[0], min), name, files, n);
done:
    report_paths_free(files, n);
}

int cli_report(int argc, char **argv)
{
    struct out o = {"report", {0}, {0}, false};
    json_t *in = NULL;
    char *junit = NULL, *cov = NULL, *fmt_s = NULL, *min_s = NULL;
    char *fail_s = NULL, *name = NULL;
    enum report_cov_format fmt = REPORT_COV_AUTO;
    bool fail_on = true;
    double min = 0;
    struct ferr err;
    int status;

    if (argc > 1) {
        fprintf(stderr, "usage: ferry __report     (inputs in INPUT_*)\n"
                        "internal: run by `uses: ferry/report@v1`; see "
                        "docs/workflows.md\n");
        return 2;
    }
    (void)argv;
    status = read_inputs("report", "ferry/report", &in);
    if (status)
        return status;
    junit = input(in, "junit");
    cov = input(in, "coverage");
    fmt_s = input(in, "coverage-format");
    min_s = input(in, "min-coverage");
    fail_s = input(in, "fail-on-test-failures");
    name = input(in, "name");
    json_decref(in);
    ferr_clear(&err);
    status = 2;
    if (!junit && !cov) {
        fprintf(stderr, "ferry report: give the input 'junit' (test "
                        "reports) or 'coverage' (a coverage report), or "
                        "both\n");
        goto done;
    }
    if (fmt_s && report_cov_format_parse(fmt_s, &fmt, &err)) {
        fprintf(stderr, "ferry report: input 'coverage-format': %s\n", err.msg);
        goto done;
    }
    if (min_s && report_min_parse(min_s, &min, &err)) {
        fprintf(stderr, "ferry report: input 'min-coverage': %s\n", err.msg);
        goto done;
    }
    if (min_s && !cov) {
        fprintf(stderr, "ferry report: input 'min-coverage' needs the input "
                        "'coverage'\n");
        goto done;
    }
    if (fail_s && !parse_bool(fail_s, &fail_on)) {
        fprintf(stderr,
                "ferry report: input 'fail-on-test-failures' is "
                "'%s', not true or false\n",
                fail_s);
        goto done;
    }
    status = 0;
    buf_init(&o.summary, 1024 * 1024);
    buf_init(&o.lines, 64 * 1024);
    if (junit)
        tests_step(&o, junit, fail_on, name, &status);
    if (cov)
        coverage_step(&o, cov, fmt, min_s ? &min : NULL, name, &status);
    append_file("GITHUB_STEP_SUMMARY", o.summary.p, o.summary.len);
    buf_release(&o.summary);
    buf_release(&o.lines);
done:
    free(junit);
    free(cov);
    free(fmt_s);
    free(min_s);
    free(fail_s);
    free(name);
    return status;
}

/* ---------- ferry/gate ---------- */

struct find_ud {
    enum report_find_format format;
    struct report_findings f;
};

static enum ferr_code parse_find(void *ud, const char *name, struct span src,
                                 struct ferr *err)
{
    struct find_ud *u = ud;

    return report_findings_parse(name, src, u->format, &u->f, err);
}

/* Print the findings of @sets, highest severity first: at or above
 * @threshold as errors, the rest as warnings, SHOW_MAX of each. */
static void print_findings(struct out *o, struct find_ud *sets, size_t nsets,
                           enum report_severity threshold)
{
    uint64_t shown[2] = {0, 0};
    uint64_t total[2] = {0, 0};

    for (size_t k = 0; k < nsets; k++) {
        total[0] += report_findings_at_least(&sets[k].f, threshold);
        total[1] +=
            sets[k].f.total - report_findings_at_least(&sets[k].f, threshold);
    }
    for (int s = REPORT_SEV_CRITICAL; s >= REPORT_SEV_LOW; s--) {
        int blocking = s >= (int)threshold;

        for (size_t k = 0; k < nsets; k++) {
            const struct report_findings *f = &sets[k].f;

            for (size_t i = 0; i < f->n; i++) {
                const struct report_finding *x = &f->v[i];
                char *msg;

                if ((int)x->severity != s || shown[!blocking] >= SHOW_MAX)
                    continue;
                shown[!blocking]++;
                msg =
                    xasprintf("[%s] %s: %s", report_severity_name(x->severity),
                              x->rule, x->message);
                annotate(o, blocking ? "error" : "warning", x->file, x->line,
                         x->rule, msg);
                free(msg);
            }
        }
    }
    if (total[0] > shown[0])
        say(o, "... and %" PRIu64 " more findings at or above '%s'",
            total[0] - shown[0], report_severity_name(threshold));
    if (total[1] > shown[1])
        say(o, "... and %" PRIu64 " more findings below '%s'",
            total[1] - shown[1], report_severity_name(threshold));
}

int cli_gate(int argc, char **argv)
{
    struct out o = {"gate", {0}, {0}, false};
    struct find_ud sets[2];
    const char *titles[2] = {"sarif", "bandit"};
    char *pats[2] = {NULL, NULL};
    json_t *in = NULL;
    char *sev_s = NULL, *max_s = NULL, *name = NULL;
    enum report_severity threshold = REPORT_SEV_HIGH;
    uint64_t max = 0, blocking = 0, by[REPORT_SEV_COUNT] = {0};
    uint64_t total = 0;
    struct ferr err;
    int status;

    if (argc > 1) {
        fprintf(stderr, "usage: ferry __gate     (inputs in INPUT_*)\n"
                        "internal: run by `uses: ferry/gate@v1`; see "
                        "docs/workflows.md\n");
        return 2;
    }
    (void)argv;
    status = read_inputs("gate", "ferry/gate", &in);
    if (status)
        return status;
    pats[0] = input(in, "sarif");
    pats[1] = input(in, "bandit");
    sev_s = input(in, "severity");
    max_s = input(in, "max-findings");
    name = input(in, "name");
    json_decref(in);
    memset(sets, 0, sizeof(sets));
    sets[0].format = REPORT_FIND_SARIF;
    sets[1].format = REPORT_FIND_BANDIT;
    report_findings_init(&sets[0].f);
    report_findings_init(&sets[1].f);
    ferr_clear(&err);
    status = 2;
    if (!pats[0] && !pats[1]) {
        fprintf(stderr, "ferry gate: give the input 'sarif' (SARIF logs) or "
                        "'bandit' (Bandit JSON reports), or both\n");
        goto done;
    }
    if (sev_s && report_severity_parse(sev_s, &threshold, &err)) {
        fprintf(stderr, "ferry gate: input 'severity': %s\n", err.msg);
        goto done;
    }
    if (max_s &&
        (span_to_u64(span_cstr(max_s), &max) || max > LIM_REPORT_COUNT)) {
        fprintf(stderr,
                "ferry gate: input 'max-findings' is '%s', not a "
                "count\n",
                max_s);
        goto done;
    }
    status = 0;
    buf_init(&o.summary, 1024 * 1024);
    buf_init(&o.lines, 64 * 1024);
    md(&o, "### %s\n\n", name ? name : "Security gate");
    md(&o,
       "| Report | Critical | High | Medium | Low | At or above %s |\n"
       "|---|---:|---:|---:|---:|---:|\n",
       report_severity_name(threshold));
    for (size_t k = 0; k < 2; k++) {
        char **files = NULL;
        size_t n = 0;
        char *label;
        const struct report_findings *f = &sets[k].f;

        if (!pats[k])
            continue;
        if (!each_file(&o, titles[k], pats[k], parse_find, &sets[k], &files,
                       &n))
            status = 1;
        if (!n) {
            report_paths_free(files, n);
            continue;
        }
        label = report_files_label(files, n);
        md(&o, "| ");
        md_text(&o, label);
        md(&o,
           " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64 " | %" PRIu64
           " |\n",
           f->by_severity[REPORT_SEV_CRITICAL], f->by_severity[REPORT_SEV_HIGH],
           f->by_severity[REPORT_SEV_MEDIUM], f->by_severity[REPORT_SEV_LOW],
           report_findings_at_least(f, threshold));
        record(report_findings_json(f, label, threshold, max), name, files, n);
        for (int s = 0; s < REPORT_SEV_COUNT; s++)
            by[s] += f->by_severity[s];
        total += f->total;
        blocking += report_findings_at_least(f, threshold);
        free(label);
        report_paths_free(files, n);
    }
    print_findings(&o, sets, 2, threshold);
    say(&o,
        "gate: %" PRIu64 " findings (%" PRIu64 " critical, %" PRIu64
        " high, %" PRIu64 " medium, %" PRIu64 " low); %" PRIu64
        " at or above '%s', at most %" PRIu64 " allowed",
        total, by[REPORT_SEV_CRITICAL], by[REPORT_SEV_HIGH],
        by[REPORT_SEV_MEDIUM], by[REPORT_SEV_LOW], blocking,
        report_severity_name(threshold), max);
    set_output("findings", "%" PRIu64, total);
    set_output("blocking", "%" PRIu64, blocking);
    set_output("critical", "%" PRIu64, by[REPORT_SEV_CRITICAL]);
    set_output("high", "%" PRIu64, by[REPORT_SEV_HIGH]);
    set_output("medium", "%" PRIu64, by[REPORT_SEV_MEDIUM]);
    set_output("low", "%" PRIu64, by[REPORT_SEV_LOW]);
    set_output("passed", "%s", blocking <= max ? "true" : "false");
    if (blocking > max) {
        char *msg =
            xasprintf("%" PRIu64 " finding%s at or above '%s' (at most %" PRIu64
                      " allowed)",
                      blocking, blocking == 1 ? "" : "s",
                      report_severity_name(threshold), max);

        md(&o, "\n**Failed:** ");
        md_text(&o, msg);
        md(&o, "\n\n");
        fail(&o, "Security gate", msg);
        free(msg);
        status = 1;
    } else {
        md(&o, "\nPassed.\n\n");
    }
    append_file("GITHUB_STEP_SUMMARY", o.summary.p, o.summary.len);
    buf_release(&o.summary);
    buf_release(&o.lines);
done:
    report_findings_release(&sets[0].f);
    report_findings_release(&sets[1].f);
    free(pats[0]);
    free(pats[1]);
    free(sev_s);
    free(max_s);
    free(name);
    return status;
}
