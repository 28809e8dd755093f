/* report: test, coverage and security reports summarised for a run's
 * record — JUnit XML, Cobertura XML, lcov, SARIF 2.1.0 and Bandit JSON.
 * The parsers are pure (the bytes in, a summary out; positions in errors
 * name @name); report_read_file, report_expand and report_scan do the
 * file work.  XML goes through libexpat: nothing is ever fetched, and a
 * DOCTYPE with an internal subset (where entities are declared) is
 * refused.  The JSON shapes built here are the FERRY_REPORT line format
 * (docs/workflows.md) that the engine turns into `report` events. */
#ifndef FERRY_REPORT_REPORT_H
#define FERRY_REPORT_REPORT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"
#include "util/ferr.h"
#include "util/span.h"

#define REPORT_FAILED_MAX 20u  /* failed tests kept in a summary */
#define REPORT_TEXT_MAX   200u /* bytes kept of a suite, name or message */

/* ---------- tests (JUnit XML) ---------- */

/** One failed (or errored) test case; strings cut to REPORT_TEXT_MAX
 *  bytes at a UTF-8 boundary, "" when absent. */
struct report_failed {
    char suite[REPORT_TEXT_MAX + 1]; /* classname, else the suite's name */
    char name[REPORT_TEXT_MAX + 1];
    char message[REPORT_TEXT_MAX + 1]; /* message attribute, else the
                                        * first line of the text */
    char file[REPORT_TEXT_MAX + 1];    /* the testcase's file attribute */
    uint32_t line;                     /* its line attribute, 0: none */
    bool error;                        /* <error> rather than <failure> */
};

/** What a JUnit report says. */
struct report_tests {
    uint64_t tests;
    uint64_t failures;
    uint64_t errors;
    uint64_t skipped;
    double time_s;
    size_t nfailed; /* entries used in failed[] */
    struct report_failed failed[REPORT_FAILED_MAX];
};

/**
 * Parse a JUnit XML report (pytest --junitxml, Maven Surefire, Jest,
 * Go's go-junit-report...): root <testsuites> or <testsuite>, nested
 * suites allowed.  Counts come from the <testcase> elements (each counts
 * once: failure, else error, else skipped); a report without any takes
 * the outermost suites' tests/failures/errors/skipped attributes.  The
 * time is the outermost suites' time, else the sum of the test cases'.
 * *out is zeroed first.  Errors: FERR_PARSE (malformed XML, with the
 * line and column; a DOCTYPE with an internal subset), FERR_INVALID (not
 * JUnit; a count that is not a number), FERR_LIMIT (input over
 * LIM_REPORT_BYTES, nesting over LIM_XML_DEPTH, a count over
 * LIM_REPORT_COUNT).  Positions name @name (borrowed).
 */
enum ferr_code report_junit_parse(const char *name, struct span src,
                                  struct report_tests *out,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Add @t to @sum: counts and time add up, failed[] keeps the first
 *  REPORT_FAILED_MAX.  Counts saturate at LIM_REPORT_COUNT. */
void report_tests_add(struct report_tests *sum, const struct report_tests *t);

/**
 * The FERRY_REPORT object: {"kind":"tests","file":@file,"tests":N,
 * "failures":N,"errors":N,"skipped":N,"time_s":X,"failed":[{"suite",
 * "name","message"}]} (failed: at most REPORT_FAILED_MAX).  New
 * reference.
 */
json_t *report_tests_json(const struct report_tests *t, const char *file);

/* ---------- coverage (Cobertura XML, lcov) ---------- */

enum report_cov_format {
    REPORT_COV_AUTO = 0, /* by content */
    REPORT_COV_COBERTURA,
    REPORT_COV_LCOV,
};

/** Line and branch coverage of a report. */
struct report_coverage {
    enum report_cov_format format;
    uint64_t lines_valid;
    uint64_t lines_covered;
    uint64_t branches_valid;
    uint64_t branches_covered;
    double line_rate; /* 0..1: covered / valid, or the report's own
                       * line-rate when it has no line counts */
};

/** The format @src looks like: COBERTURA when its first non-blank byte is
 *  '<', LCOV when it has an lcov record (TN:, SF:, DA:, end_of_record),
 *  else AUTO (unknown). */
enum report_cov_format report_coverage_detect(struct span src);

/** Parse "auto", "cobertura" or "lcov" (any case).  FERR_INVALID
 *  otherwise, naming @s. */
enum ferr_code report_cov_format_parse(const char *s,
                                       enum report_cov_format *out,
                                       struct ferr *err) FERR_MUST_CHECK;

/** "cobertura", "lcov" or "auto". */
const char *report_cov_format_name(enum report_cov_format f);

/**
 * Parse a coverage report in @format (AUTO: report_coverage_detect).
 * Cobertura: the root's lines-valid/lines-covered/branches-* attributes
 * when present, else counted from the <line> elements of each <class>
 * (branches from condition-coverage="50% (1/2)").  lcov: per SF record
 * the distinct DA lines (a line is covered when any DA for it has hits),
 * else LF/LH; branches from BRDA, else BRF/BRH; unknown record types are
 * skipped.  *out is zeroed first.  Errors: FERR_PARSE (malformed XML or
 * lcov line, with its position; a negative count; a DOCTYPE with an
 * internal subset), FERR_INVALID (not a coverage report, covered > valid,
 * a rate outside 0..1), FERR_LIMIT (LIM_REPORT_BYTES, LIM_XML_DEPTH,
 * LIM_REPORT_COUNT, LIM_LCOV_RECORD_LINES).
 */
enum ferr_code report_coverage_parse(const char *name, struct span src,
                                     enum report_cov_format format,
                                     struct report_coverage *out,
                                     struct ferr *err) FERR_MUST_CHECK;

/**
 * Parse a minimum coverage given in percent ("70", "70.5", "70%") into a
 * fraction (0.7) in *out.  Errors: FERR_INVALID when it is not a number
 * from 0 to 100.
 */
enum ferr_code report_min_parse(const char *s, double *out,
                                struct ferr *err) FERR_MUST_CHECK;

/** Whether @c meets @min (a fraction): covered / valid >= min, exactly
 *  (the report's line-rate when it has no counts). */
bool report_coverage_passes(const struct report_coverage *c, double min);

/** @rate (0..1) as a percent with one decimal, rounded down so that a
 *  rate under a minimum never prints as reaching it ("69.9").  Returns
 *  @out. */
const char *report_percent(double rate, char out[16]);

/**
 * The FERRY_REPORT object: {"kind":"coverage","file":@file,"format":...,
 * "lines_valid":N,"lines_covered":N,"line_rate":0.8134 (4 decimals),
 * "branches_valid":N,"branches_covered":N,"min":@min or null,
 * "passed":bool} (passed is true when @min is NULL).  New reference.
 */
json_t *report_coverage_json(const struct report_coverage *c, const char *file,
                             const double *min);

/* ---------- findings (SARIF 2.1.0, Bandit JSON) ---------- */

enum report_severity {
    REPORT_SEV_NONE = 0, /* not counted (SARIF level "none") */
    REPORT_SEV_LOW,
    REPORT_SEV_MEDIUM,
    REPORT_SEV_HIGH,
    REPORT_SEV_CRITICAL,
};
#define REPORT_SEV_COUNT 5

enum report_find_format {
    REPORT_FIND_AUTO = 0, /* by content: "runs" → SARIF, "results" →
                           * Bandit */
    REPORT_FIND_SARIF,
    REPORT_FIND_BANDIT,
};

/** One finding; strings owned by the findings set. */
struct report_finding {
    enum report_severity severity;
    char *rule;    /* SARIF ruleId, Bandit test_id; never NULL */
    char *file;    /* NULL: no location */
    uint32_t line; /* 0: none */
    char *message; /* never NULL; at most 1 KiB */
};

/** Findings of one or more reports. */
struct report_findings {
    enum report_find_format format; /* of the last report parsed */
    uint64_t total;                 /* counted (severity above NONE) */
    uint64_t by_severity[REPORT_SEV_COUNT];
    uint64_t suppressed; /* SARIF results with an accepted
                          * suppression: not counted */
    size_t n;            /* findings kept in v (at most
                          * LIM_REPORT_FINDINGS) */
    size_t cap;
    struct report_finding *v;
};

/** An empty set. */
void report_findings_init(struct report_findings *f);
/** Free the findings; @f can be report_findings_init'ed again. */
void report_findings_release(struct report_findings *f);

/**
 * Parse a SARIF 2.1.0 log or a Bandit JSON report and add its findings
 * to @f.  SARIF severity: the result's rule (ruleIndex, rule.index with
 * rule.toolComponent, or ruleId in the driver's and extensions' rules)
 * properties."security-severity" as a CVSS score when present
 * (report_severity_from_cvss), else the level (result's, else the rule's
 * defaultConfiguration, else "warning"): error → high, warning → medium,
 * note → low, none → not counted; results whose kind is not "fail" and
 * suppressed ones are not counted.  Bandit: issue_severity HIGH, MEDIUM,
 * LOW; UNDEFINED is not counted.  On error @f is as it was.  Errors:
 * FERR_PARSE (bad JSON, with its position), FERR_INVALID (no 'runs' /
 * 'results' array, an unsupported SARIF version, a field of the wrong
 * type), FERR_LIMIT (LIM_REPORT_BYTES, LIM_REPORT_COUNT).
 */
enum ferr_code report_findings_parse(const char *name, struct span src,
                                     enum report_find_format format,
                                     struct report_findings *f,
                                     struct ferr *err) FERR_MUST_CHECK;

/** Findings counted at or above @threshold. */
uint64_t report_findings_at_least(const struct report_findings *f,
                                  enum report_severity threshold);

/** Order the kept findings by severity, highest first, keeping the
 *  reports' order among equals. */
void report_findings_sort(struct report_findings *f);

/** "critical", "high", "medium", "low" or "none". */
const char *report_severity_name(enum report_severity s);

/** Parse critical|high|medium|low (any case).  FERR_INVALID otherwise,
 *  naming @s. */
enum ferr_code report_severity_parse(const char *s, enum report_severity *out,
                                     struct ferr *err) FERR_MUST_CHECK;

/** A CVSS score as GitHub ranks security-severity: >= 9 critical, >= 7
 *  high, >= 4 medium, > 0 low, else (0, negative, NaN) NONE. */
enum report_severity report_severity_from_cvss(double score);

/**
 * The FERRY_REPORT object: {"kind":"findings","file":@file,"format":
 * "sarif"|"bandit","total":N,"by_severity":{"critical":N,"high":N,
 * "medium":N,"low":N},"threshold":...,"blocking":N,"passed":bool}, where
 * blocking counts findings at or above @threshold and passed is
 * blocking <= @max_findings.  New reference.
 */
json_t *report_findings_json(const struct report_findings *f, const char *file,
                             enum report_severity threshold,
                             uint64_t max_findings);

/**
 * Append a workflow command line "::@command file=F,line=N,title=T::MSG\n"
 * to @out, with GitHub's escapes (%25 %0D %0A in the message; also %3A
 * %2C in properties).  @file, @title may be NULL and @line 0 to leave
 * them out.  Errors: FERR_LIMIT from @out.
 */
enum ferr_code report_annotation(struct buf *out, const char *command,
                                 const char *file, uint32_t line,
                                 const char *title,
                                 const char *message) FERR_MUST_CHECK;

/* ---------- shared by the XML parsers (junit.c, coverage.c) ---------- */

struct report_xml; /* one parse in progress */

/** Callbacks of report_xml_parse.  @attrs is expat's NULL-terminated
 *  name, value, name, value... array.  Any may be NULL. */
struct report_xml_handlers {
    void (*start)(struct report_xml *x, void *ud, const char *el,
                  const char **attrs);
    void (*end)(struct report_xml *x, void *ud, const char *el);
    void (*text)(struct report_xml *x, void *ud, const char *s, size_t n);
};

/**
 * Run libexpat over @src with @h: no external entity is ever loaded, a
 * DOCTYPE with an internal subset (or any entity declaration) is
 * FERR_PARSE, nesting past LIM_XML_DEPTH and input past LIM_REPORT_BYTES
 * are FERR_LIMIT.  Malformed XML is FERR_PARSE at expat's line and
 * column.  A handler stops the parse with report_xml_fail.
 */
enum ferr_code report_xml_parse(const char *name, struct span src,
                                const struct report_xml_handlers *h, void *ud,
                                struct ferr *err) FERR_MUST_CHECK;

/** From a handler: record an error at the current position and stop the
 *  parse (later callbacks are not delivered).  Returns @code. */
enum ferr_code report_xml_fail(struct report_xml *x, enum ferr_code code,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Nesting of the current element (the root is 1). */
unsigned report_xml_depth(const struct report_xml *x);

/** The name of the element @up levels above the current one (0: the
 *  current one), "" past the root or when the name is long. */
const char *report_xml_parent(const struct report_xml *x, unsigned up);

/** The value of attribute @key in @attrs, or NULL. */
const char *report_xml_attr(const char **attrs, const char *key);

/**
 * Attribute @key of @attrs as a count into *out: *out_present is false
 * (and *out 0) when absent; otherwise digits (blanks trimmed) up to
 * LIM_REPORT_COUNT.  Stops the parse on a bad value: FERR_INVALID (not
 * a count, e.g. negative) or FERR_LIMIT, naming the attribute and
 * element @el.
 */
enum ferr_code report_xml_count(struct report_xml *x, const char *el,
                                const char **attrs, const char *key,
                                uint64_t *out,
                                bool *out_present) FERR_MUST_CHECK;

/* ---------- files ---------- */

/** Read a report file (at most LIM_REPORT_BYTES); the caller frees *out.
 *  Errors: FERR_NOTFOUND, FERR_IO, FERR_LIMIT, naming @path. */
enum ferr_code report_read_file(const char *path, char **out, size_t *out_len,
                                struct ferr *err) FERR_MUST_CHECK;

/**
 * The regular files that @patterns (newline or comma separated, blanks
 * trimmed) name under @workspace: a literal path must exist; a pattern
 * with * ? [ is matched with GitHub's glob rules (`*` within a
 * directory, `**` across; .git is never searched); a leading '!'
 * excludes what it matches.  *out is a sorted, deduplicated array of
 * paths as the patterns spelled them (relative to @workspace unless the
 * pattern was absolute); free it with report_paths_free.  Errors:
 * FERR_NOTFOUND (a literal path is missing, or nothing matched),
 * FERR_LIMIT (more than LIM_REPORT_FILES files, or a '**' walk over
 * LIM_REPORT_WALK entries), FERR_PARSE (a bad pattern, from glob_check).
 */
enum ferr_code report_expand(const char *workspace, const char *patterns,
                             char ***out, size_t *out_n,
                             struct ferr *err) FERR_MUST_CHECK;

/** Free what report_expand returned (NULL is fine). */
void report_paths_free(char **v, size_t n);

/**
 * "a.xml", "a.xml, b.xml" or "a.xml, b.xml and 3 more": the "file" of a
 * summary made from several files.  The caller frees the result.
 */
char *report_files_label(char *const *paths, size_t n);

/**
 * The reports found at a workspace's conventional paths, for a job
 * where no step recorded one.  *out is {"reports":[...],"warnings":[...]}:
 * - one "tests" summary (report_tests_json) of junit.xml and the *.xml
 *   files of test-results/ together (the first LIM_REPORT_FILES of
 *   them, by name), when any exists;
 * - one "coverage" summary (report_coverage_json, "min":null) of the
 *   first of coverage.xml, coverage/cobertura-coverage.xml, lcov.info,
 *   coverage/lcov.info that parses.
 * A file that cannot be read or parsed is skipped and named with the
 * reason in "warnings" (strings like "junit.xml:3:1: mismatched tag");
 * so are test-results files past the limit.  Errors only when
 * @workspace itself cannot be read: FERR_IO / FERR_NOTFOUND.
 */
enum ferr_code report_scan(const char *workspace, json_t **out,
                           struct ferr *err) FERR_MUST_CHECK;

#endif
