/* findings: security findings from SARIF 2.1.0 logs (Trivy, CodeQL,
 * Semgrep...) and Bandit's JSON report, ranked critical/high/medium/low
 * the way GitHub code scanning ranks them, and the workflow-command
 * lines the gate prints.  Pure: it does not read files, and it does not
 * decide pass or fail beyond counting what is at or above a threshold. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/report.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define MESSAGE_MAX   1024u
#define RULE_MAX      200u
#define PATH_MAX_KEEP 1024u

/* ---------- severities ---------- */

const char *report_severity_name(enum report_severity s)
{
    switch (s) {
    case REPORT_SEV_CRITICAL: return "critical";
    case REPORT_SEV_HIGH: return "high";
    case REPORT_SEV_MEDIUM: return "medium";
    case REPORT_SEV_LOW: return "low";
    case REPORT_SEV_NONE: break;
    }
    return "none";
}

enum ferr_code report_severity_parse(const char *s, enum report_severity *out,
                                     struct ferr *err)
{
    for (int i = REPORT_SEV_LOW; i <= REPORT_SEV_CRITICAL; i++) {
        if (strcasecmp(s, report_severity_name((enum report_severity)i)) == 0) {
            *out = (enum report_severity)i;
            return FERR_OK;
        }
    }
    *out = REPORT_SEV_NONE;
    return ferr_set(err, FERR_INVALID, NULL,
                    "unknown severity '%s' (critical, high, medium, low)", s);
}

enum report_severity report_severity_from_cvss(double score)
{
    if (!(score > 0))
        return REPORT_SEV_NONE; /* also NaN */
    if (score >= 9.0)
        return REPORT_SEV_CRITICAL;
    if (score >= 7.0)
        return REPORT_SEV_HIGH;
    if (score >= 4.0)
        return REPORT_SEV_MEDIUM;
    return REPORT_SEV_LOW;
}

/* ---------- the set ---------- */

void report_findings_init(struct report_findings *f)
{
    memset(f, 0, sizeof(*f));
}

static void finding_release(struct report_finding *x)
{
    free(x->rule);
    free(x->file);
    free(x->message);
}

void report_findings_release(struct report_findings *f)
{
    for (size_t i = 0; i < f->n; i++)
        finding_release(&f->v[i]);
    free(f->v);
    memset(f, 0, sizeof(*f));
}

/* A copy of @s cut to @max bytes at a UTF-8 boundary. */
static char *dup_cut(const char *s, size_t max)
{
    size_t n = strlen(s);
    size_t i = 0;

    while (i < n) {
        size_t k = span_utf8_len((const unsigned char *)s + i, n - i);

        if (k == 0)
            k = 1;
        if (i + k > max)
            break;
        i += k;
    }
    return xstrndup(s, i);
}

/* Count a finding and keep it while there is room.  @file may be NULL. */
static void add(struct report_findings *f, enum report_severity sev,
                const char *rule, const char *file, uint64_t line,
                const char *message)
{
    struct report_finding *x;

    if (sev == REPORT_SEV_NONE)
        return;
    f->total++;
    f->by_severity[sev]++;
    if (f->n >= LIM_REPORT_FINDINGS)
        return;
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 32;
        f->v = xrealloc(f->v, f->cap * sizeof(*f->v));
    }
    x = &f->v[f->n++];
    x->severity = sev;
    x->rule = dup_cut(rule && *rule ? rule : "finding", RULE_MAX);
    x->file = file && *file ? dup_cut(file, PATH_MAX_KEEP) : NULL;
    x->line = line <= UINT32_MAX ? (uint32_t)line : 0;
    x->message = dup_cut(message ? message : "", MESSAGE_MAX);
}

/* Back to @n kept findings and the counts in @saved. */
static void roll_back(struct report_findings *f,
                      const struct report_findings *saved)
{
    for (size_t i = saved->n; i < f->n; i++)
        finding_release(&f->v[i]);
    f->n = saved->n;
    f->total = saved->total;
    f->suppressed = saved->suppressed;
    f->format = saved->format;
    memcpy(f->by_severity, saved->by_severity, sizeof(f->by_severity));
}

uint64_t report_findings_at_least(const struct report_findings *f,
                                  enum report_severity threshold)
{
    uint64_t n = 0;

    if (threshold == REPORT_SEV_NONE)
        threshold = REPORT_SEV_LOW;
    for (int s = threshold; s <= REPORT_SEV_CRITICAL; s++)
        n += f->by_severity[s];
    return n;
}

void report_findings_sort(struct report_findings *f)
{
    /* stable: insertion sort by buckets, no allocation beyond one copy */
    struct report_finding *sorted;
    size_t k = 0;

    if (f->n < 2)
        return;
    sorted = xmalloc(f->n * sizeof(*sorted));
    for (int s = REPORT_SEV_CRITICAL; s >= REPORT_SEV_NONE; s--)
        for (size_t i = 0; i < f->n; i++)
            if ((int)f->v[i].severity == s)
                sorted[k++] = f->v[i];
    memcpy(f->v, sorted, f->n * sizeof(*sorted));
    free(sorted);
}

/* ---------- SARIF ---------- */

static const char *str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* The text of a SARIF message object: text, else markdown. */
static const char *message_text(const json_t *m)
{
    const char *t = str(m, "text");

    return t ? t : str(m, "markdown");
}

static bool as_index(const json_t *v, size_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (size_t)json_integer_value(v);
    return true;
}

/* The reporting descriptor (rule) of @result in @run, or NULL. */
static const json_t *find_rule(const json_t *run, const json_t *result,
                               const char *rule_id)
{
    const json_t *tool = json_object_get(run, "tool");
    const json_t *driver = json_object_get(tool, "driver");
    const json_t *exts = json_object_get(tool, "extensions");
    const json_t *ref = json_object_get(result, "rule");
    const json_t *comp = driver;
    const json_t *rule;
    size_t idx, ci, i;

    /* rule.toolComponent.index picks an extension (CodeQL's packs) */
    if (as_index(
            json_object_get(json_object_get(ref, "toolComponent"), "index"),
            &ci))
        comp = json_array_get(exts, ci);
    if (as_index(json_object_get(ref, "index"), &idx) ||
        as_index(json_object_get(result, "ruleIndex"), &idx)) {
        rule = json_array_get(json_object_get(comp, "rules"), idx);
        if (json_is_object(rule))
            return rule;
    }
    if (!rule_id)
        return NULL;
    json_array_foreach (json_object_get(driver, "rules"), i, rule)
        if (json_is_object(rule) && str(rule, "id") &&
            strcmp(str(rule, "id"), rule_id) == 0)
            return rule;
    {
        const json_t *ext;
        size_t e;

        json_array_foreach (exts, e, ext) {
            json_array_foreach (json_object_get(ext, "rules"), i, rule)
                if (json_is_object(rule) && str(rule, "id") &&
                    strcmp(str(rule, "id"), rule_id) == 0)
                    return rule;
        }
    }
    return NULL;
}

/* security-severity as a CVSS score: a string ("7.5", as GitHub wants)
 * or a number; false when absent or not a score from 0 to 10. */
static bool security_severity(const json_t *rule, double *out)
{
    const json_t *v = json_object_get(json_object_get(rule, "properties"),
                                      "security-severity");
    double d;

    if (json_is_number(v)) {
        d = json_number_value(v);
    } else if (json_is_string(v)) {
        char tmp[32];
        char *end;
        struct span s = span_trim(span_cstr(json_string_value(v)));

        if (!s.len || s.len >= sizeof(tmp))
            return false;
        memcpy(tmp, s.p, s.len);
        tmp[s.len] = '\0';
        d = strtod(tmp, &end);
        if (end == tmp || *end)
            return false;
    } else {
        return false;
    }
    if (!isfinite(d) || d < 0 || d > 10)
        return false;
    *out = d;
    return true;
}

static enum report_severity from_level(const char *level)
{
    if (!level)
        return REPORT_SEV_MEDIUM; /* SARIF's default: warning */
    if (strcmp(level, "error") == 0)
        return REPORT_SEV_HIGH;
    if (strcmp(level, "warning") == 0)
        return REPORT_SEV_MEDIUM;
    if (strcmp(level, "note") == 0)
        return REPORT_SEV_LOW;
    return REPORT_SEV_NONE; /* "none" or unknown */
}

/* An accepted suppression (or one without a status, which SARIF says
 * is accepted) hides the result, as GitHub dismisses it. */
static bool suppressed(const json_t *result)
{
    const json_t *s;
    size_t i;

    json_array_foreach (json_object_get(result, "suppressions"), i, s) {
        const char *st = str(s, "status");

        if (!st || strcmp(st, "accepted") == 0)
            return true;
    }
    return false;
}

/* The file and line of a result's first location. */
static void location(const json_t *run, const json_t *result,
                     const char **out_file, uint64_t *out_line)
{
    const json_t *loc = json_array_get(json_object_get(result, "locations"), 0);
    const json_t *phys = json_object_get(loc, "physicalLocation");
    const json_t *art = json_object_get(phys, "artifactLocation");
    const json_t *line =
        json_object_get(json_object_get(phys, "region"), "startLine");
    const char *uri = str(art, "uri");
    size_t idx;

    if (!uri && as_index(json_object_get(art, "index"), &idx))
        uri = str(json_object_get(
                      json_array_get(json_object_get(run, "artifacts"), idx),
                      "location"),
                  "uri");
    if (uri && strncmp(uri, "file://", 7) == 0)
        uri += 7;
    *out_file = uri;
    *out_line = json_is_integer(line) && json_integer_value(line) > 0
                    ? (uint64_t)json_integer_value(line)
                    : 0;
}

static enum ferr_code sarif_run(const char *name, const json_t *run, size_t ri,
                                struct report_findings *f, struct ferr *err)
{
    struct pos p = {name, 0, 0};
    const json_t *results = json_object_get(run, "results");
    const json_t *r;
    size_t i;

    if (!json_is_object(run))
        return ferr_set(err, FERR_INVALID, &p,
                        "SARIF runs[%zu] is not an object", ri);
    if (!results || json_is_null(results))
        return FERR_OK; /* the tool did not run its analysis */
    if (!json_is_array(results))
        return ferr_set(err, FERR_INVALID, &p,
                        "SARIF runs[%zu].results is not an array", ri);
    json_array_foreach (results, i, r) {
        const char *rule_id;
        const json_t *rule;
        const char *kind;
        const char *level;
        const char *msg;
        const char *file;
        uint64_t line;
        double cvss;
        enum report_severity sev;

        if (!json_is_object(r))
            return ferr_set(err, FERR_INVALID, &p,
                            "SARIF runs[%zu].results[%zu] is not an object", ri,
                            i);
        rule_id = str(r, "ruleId");
        if (!rule_id)
            rule_id = str(json_object_get(r, "rule"), "id");
        rule = find_rule(run, r, rule_id);
        if (!rule_id)
            rule_id = str(rule, "id");
        kind = str(r, "kind");
        if (kind && strcmp(kind, "fail") != 0)
            continue;
        if (suppressed(r)) {
            f->suppressed++;
            continue;
        }
        level = str(r, "level");
        if (!level)
            level = str(json_object_get(rule, "defaultConfiguration"), "level");
        if (rule && security_severity(rule, &cvss))
            sev = report_severity_from_cvss(cvss);
        else
            sev = from_level(level);
        msg = message_text(json_object_get(r, "message"));
        if (!msg)
            msg = message_text(json_object_get(rule, "shortDescription"));
        if (!msg)
            msg = rule_id ? rule_id : "";
        location(run, r, &file, &line);
        add(f, sev, rule_id, file, line, msg);
    }
    return FERR_OK;
}

static enum ferr_code parse_sarif(const char *name, const json_t *root,
                                  struct report_findings *f, struct ferr *err)
{
    struct pos p = {name, 0, 0};
    const json_t *runs = json_object_get(root, "runs");
    const char *version = str(root, "version");
    const json_t *run;
    size_t i;
    enum ferr_code rc;

    if (!json_is_array(runs))
        return ferr_set(err, FERR_INVALID, &p,
                        "not a SARIF log: no 'runs' array");
    if (json_object_get(root, "version") &&
        (!version || strcmp(version, "2.1.0") != 0)) {
        char q[72];

        return ferr_set(err, FERR_INVALID, &p,
                        "SARIF version '%s' is not supported (2.1.0 is)",
                        version ? span_quote(version, strlen(version), q)
                                : "?");
    }
    f->format = REPORT_FIND_SARIF;
    json_array_foreach (runs, i, run) {
        rc = sarif_run(name, run, i, f, err);
        if (rc)
            return rc;
    }
    return FERR_OK;
}

/* ---------- Bandit ---------- */

static enum ferr_code parse_bandit(const char *name, const json_t *root,
                                   struct report_findings *f, struct ferr *err)
{
    struct pos p = {name, 0, 0};
    const json_t *results = json_object_get(root, "results");
    const json_t *r;
    size_t i;

    if (!json_is_array(results))
        return ferr_set(err, FERR_INVALID, &p,
                        "not a Bandit report: no 'results' array");
    f->format = REPORT_FIND_BANDIT;
    json_array_foreach (results, i, r) {
        const char *sev_s;
        const json_t *line;
        enum report_severity sev = REPORT_SEV_NONE;

        if (!json_is_object(r))
            return ferr_set(err, FERR_INVALID, &p,
                            "Bandit results[%zu] is not an object", i);
        sev_s = str(r, "issue_severity");
        if (!sev_s)
            return ferr_set(err, FERR_INVALID, &p,
                            "Bandit results[%zu] has no 'issue_severity'", i);
        if (strcasecmp(sev_s, "HIGH") == 0)
            sev = REPORT_SEV_HIGH;
        else if (strcasecmp(sev_s, "MEDIUM") == 0)
            sev = REPORT_SEV_MEDIUM;
        else if (strcasecmp(sev_s, "LOW") == 0)
            sev = REPORT_SEV_LOW;
        line = json_object_get(r, "line_number");
        add(f, sev, str(r, "test_id"), str(r, "filename"),
            json_is_integer(line) && json_integer_value(line) > 0
                ? (uint64_t)json_integer_value(line)
                : 0,
            str(r, "issue_text"));
    }
    return FERR_OK;
}

/* ---------- the entry point ---------- */

enum ferr_code report_findings_parse(const char *name, struct span src,
                                     enum report_find_format format,
                                     struct report_findings *f,
                                     struct ferr *err)
{
    struct report_findings saved = *f;
    struct pos p = {name, 0, 0};
    json_error_t jerr;
    json_t *root;
    enum ferr_code rc;

    if (src.len > LIM_REPORT_BYTES)
        return ferr_set(err, FERR_LIMIT, &p, "report is over %u bytes",
                        LIM_REPORT_BYTES);
    root =
        json_loadb(src.p ? src.p : "", src.len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        struct pos jp = {name, (uint32_t)(jerr.line > 0 ? jerr.line : 1),
                         (uint32_t)(jerr.column > 0 ? jerr.column : 1)};

        return ferr_set(err, FERR_PARSE, &jp, "malformed JSON: %s", jerr.text);
    }
    if (!json_is_object(root)) {
        rc = ferr_set(err, FERR_INVALID, &p,
                      "not a SARIF log or Bandit report: not a JSON object");
        goto done;
    }
    if (format == REPORT_FIND_AUTO) {
        if (json_object_get(root, "runs"))
            format = REPORT_FIND_SARIF;
        else if (json_object_get(root, "results"))
            format = REPORT_FIND_BANDIT;
        else {
            rc = ferr_set(err, FERR_INVALID, &p,
                          "not a SARIF log or Bandit report: no 'runs' or "
                          "'results'");
            goto done;
        }
    }
    if (format == REPORT_FIND_SARIF)
        rc = parse_sarif(name, root, f, err);
    else
        rc = parse_bandit(name, root, f, err);
done:
    if (rc)
        roll_back(f, &saved);
    json_decref(root);
    return rc;
}

json_t *report_findings_json(const struct report_findings *f, const char *file,
                             enum report_severity threshold,
                             uint64_t max_findings)
{
    json_t *o = json_object();
    json_t *by = json_object();
    uint64_t blocking = report_findings_at_least(f, threshold);

    for (int s = REPORT_SEV_CRITICAL; s >= REPORT_SEV_LOW; s--)
        json_object_set_new(by, report_severity_name((enum report_severity)s),
                            json_integer((json_int_t)f->by_severity[s]));
    json_object_set_new(o, "kind", json_string("findings"));
    json_object_set_new(o, "file", json_lossy_stringn(file, strlen(file)));
    json_object_set_new(
        o, "format",
        json_string(f->format == REPORT_FIND_BANDIT ? "bandit" : "sarif"));
    json_object_set_new(o, "total", json_integer((json_int_t)f->total));
    json_object_set_new(o, "by_severity", by);
    json_object_set_new(o, "threshold",
                        json_string(report_severity_name(threshold)));
    json_object_set_new(o, "blocking", json_integer((json_int_t)blocking));
    json_object_set_new(o, "passed", json_boolean(blocking <= max_findings));
    return o;
}

/* ---------- workflow commands ---------- */

static enum ferr_code add_escaped(struct buf *out, const char *s, bool prop)
{
    enum ferr_code rc = FERR_OK;

    for (; *s && !rc; s++) {
        switch (*s) {
        case '%': rc = buf_adds(out, "%25"); break;
        case '\r': rc = buf_adds(out, "%0D"); break;
        case '\n': rc = buf_adds(out, "%0A"); break;
        case ':': rc = prop ? buf_adds(out, "%3A") : buf_addch(out, ':'); break;
        case ',': rc = prop ? buf_adds(out, "%2C") : buf_addch(out, ','); break;
        default: rc = buf_addch(out, *s); break;
        }
    }
    return rc;
}

enum ferr_code report_annotation(struct buf *out, const char *command,
                                 const char *file, uint32_t line,
                                 const char *title, const char *message)
{
    size_t mark = out->len;
    const char *sep = " ";
    enum ferr_code rc;

    rc = buf_addf(out, "::%s", command);
    if (!rc && file && *file) {
        rc = buf_adds(out, " file=");
        if (!rc)
            rc = add_escaped(out, file, true);
        sep = ",";
        if (!rc && line)
            rc = buf_addf(out, ",line=%u", (unsigned)line);
    }
    if (!rc && title && *title) {
        rc = buf_addf(out, "%stitle=", sep);
        if (!rc)
            rc = add_escaped(out, title, true);
    }
    if (!rc)
        rc = buf_adds(out, "::");
    if (!rc)
        rc = add_escaped(out, message ? message : "", false);
    if (!rc)
        rc = buf_addch(out, '\n');
    if (rc) {
        out->len = mark;
        if (out->p)
            out->p[mark] = '\0';
    }
    return rc;
}
