/* coverage: line and branch coverage from Cobertura XML (coverage.py,
 * gcovr, Istanbul, JaCoCo converters) and lcov tracefiles (geninfo,
 * coverage.py, c8, grcov), and the coverage gate's arithmetic.  Pure:
 * the bytes in, the figures out; it does not read files and does not
 * keep per-file figures. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "report/report.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* ---------- detection and small helpers ---------- */

static struct span skip_bom_blanks(struct span s)
{
    if (s.len >= 3 && memcmp(s.p, "\xEF\xBB\xBF", 3) == 0) {
        s.p += 3;
        s.len -= 3;
    }
    while (s.len &&
           (*s.p == ' ' || *s.p == '\t' || *s.p == '\r' || *s.p == '\n')) {
        s.p++;
        s.len--;
    }
    return s;
}

enum report_cov_format report_coverage_detect(struct span src)
{
    struct span rest = skip_bom_blanks(src);
    struct span line;
    size_t seen = 0;

    if (rest.len && rest.p[0] == '<')
        return REPORT_COV_COBERTURA;
    /* lcov: a record among the first lines */
    while (rest.len && seen++ < 1000) {
        if (!span_cut(rest, '\n', &line, &rest))
            rest.len = 0;
        line = span_trim(line);
        if (span_starts_with(line, SPAN_LIT("SF:")) ||
            span_starts_with(line, SPAN_LIT("TN:")) ||
            span_starts_with(line, SPAN_LIT("DA:")) ||
            span_eq_cstr(line, "end_of_record"))
            return REPORT_COV_LCOV;
    }
    return REPORT_COV_AUTO;
}

enum ferr_code report_cov_format_parse(const char *s,
                                       enum report_cov_format *out,
                                       struct ferr *err)
{
    static const char *const names[] = {"auto", "cobertura", "lcov"};

    for (size_t i = 0; i < 3; i++) {
        if (strcasecmp(s, names[i]) == 0) {
            *out = (enum report_cov_format)i;
            return FERR_OK;
        }
    }
    *out = REPORT_COV_AUTO;
    return ferr_set(err, FERR_INVALID, NULL,
                    "unknown coverage format '%s' (auto, cobertura, lcov)", s);
}

const char *report_cov_format_name(enum report_cov_format f)
{
    switch (f) {
    case REPORT_COV_COBERTURA: return "cobertura";
    case REPORT_COV_LCOV: return "lcov";
    case REPORT_COV_AUTO: break;
    }
    return "auto";
}

/* A rate in 0..1 from an attribute; false when absent or unreadable. */
static bool parse_rate(const char *v, double *out)
{
    char *end;
    double d;

    if (!v)
        return false;
    d = strtod(v, &end);
    while (*end == ' ')
        end++;
    if (end == v || *end || !isfinite(d))
        return false;
    *out = d;
    return true;
}

/* ---------- Cobertura ---------- */

struct cob {
    bool root_seen;
    uint64_t root[4]; /* lines-valid, lines-covered, branches-... */
    bool root_has[4];
    bool has_rate;
    double rate;
    uint64_t lines_valid; /* counted from <line> */
    uint64_t lines_covered;
    uint64_t br_valid;
    uint64_t br_covered;
};

/* condition-coverage="50% (1/2)": 1 of 2; false when unreadable */
static bool parse_condition(const char *v, uint64_t *out_hit, uint64_t *out_all)
{
    const char *open = v ? strchr(v, '(') : NULL;
    const char *slash;
    const char *close;

    if (!open)
        return false;
    slash = strchr(open, '/');
    close = slash ? strchr(slash, ')') : NULL;
    if (!close)
        return false;
    if (span_to_u64(span_trim(span_of(open + 1, (size_t)(slash - open - 1))),
                    out_hit) ||
        span_to_u64(span_trim(span_of(slash + 1, (size_t)(close - slash - 1))),
                    out_all) ||
        *out_hit > *out_all || *out_all > LIM_REPORT_COUNT)
        return false;
    return true;
}

static void cob_root(struct report_xml *x, struct cob *c, const char *el,
                     const char **attrs)
{
    static const char *const keys[4] = {"lines-valid", "lines-covered",
                                        "branches-valid", "branches-covered"};
    const char *rate = report_xml_attr(attrs, "line-rate");

    c->root_seen = true;
    if (strcmp(el, "coverage") != 0) {
        report_xml_fail(x, FERR_INVALID,
                        "not a Cobertura report: the root element is <%s>, "
                        "not <coverage>",
                        report_xml_parent(x, 0));
        return;
    }
    for (size_t i = 0; i < 4; i++)
        if (report_xml_count(x, el, attrs, keys[i], &c->root[i],
                             &c->root_has[i]))
            return;
    if (rate) {
        if (!parse_rate(rate, &c->rate) || c->rate < 0 || c->rate > 1) {
            char q[72];

            report_xml_fail(x, FERR_INVALID,
                            "line-rate of <coverage> is not a rate from 0 "
                            "to 1: '%s'",
                            span_quote(rate, strlen(rate), q));
            return;
        }
        c->has_rate = true;
    }
}

static void cob_start(struct report_xml *x, void *ud, const char *el,
                      const char **attrs)
{
    struct cob *c = ud;
    uint64_t hits;
    bool present;

    if (!c->root_seen) {
        cob_root(x, c, el, attrs);
        return;
    }
    /* <class><lines><line>: <method><lines> repeats them */
    if (strcmp(el, "line") != 0 ||
        strcmp(report_xml_parent(x, 1), "lines") != 0 ||
        strcmp(report_xml_parent(x, 2), "class") != 0)
        return;
    if (report_xml_count(x, el, attrs, "hits", &hits, &present))
        return;
    if (c->lines_valid >= LIM_REPORT_COUNT) {
        report_xml_fail(x, FERR_LIMIT, "more than %llu lines",
                        (unsigned long long)LIM_REPORT_COUNT);
        return;
    }
    c->lines_valid++;
    if (hits > 0)
        c->lines_covered++;
    {
        const char *br = report_xml_attr(attrs, "branch");
        uint64_t hit, all;

        if (br && strcmp(br, "true") == 0 &&
            parse_condition(report_xml_attr(attrs, "condition-coverage"), &hit,
                            &all) &&
            c->br_valid + all <= LIM_REPORT_COUNT) {
            c->br_valid += all;
            c->br_covered += hit;
        }
    }
}

static enum ferr_code parse_cobertura(const char *name, struct span src,
                                      struct report_coverage *out,
                                      struct ferr *err)
{
    static const struct report_xml_handlers h = {cob_start, NULL, NULL};
    struct cob c;
    struct pos p = {name, 0, 0};
    enum ferr_code rc;

    memset(&c, 0, sizeof(c));
    rc = report_xml_parse(name, src, &h, &c, err);
    if (rc)
        return rc;
    if (!c.root_seen)
        return ferr_set(err, FERR_INVALID, &p,
                        "not a Cobertura report: no <coverage> element");
    out->format = REPORT_COV_COBERTURA;
    if (c.root_has[0] && c.root_has[1]) {
        out->lines_valid = c.root[0];
        out->lines_covered = c.root[1];
    } else {
        out->lines_valid = c.lines_valid;
        out->lines_covered = c.lines_covered;
    }
    if (c.root_has[2] && c.root_has[3]) {
        out->branches_valid = c.root[2];
        out->branches_covered = c.root[3];
    } else {
        out->branches_valid = c.br_valid;
        out->branches_covered = c.br_covered;
    }
    if (out->lines_covered > out->lines_valid)
        return ferr_set(err, FERR_INVALID, &p,
                        "lines-covered (%llu) is more than lines-valid "
                        "(%llu)",
                        (unsigned long long)out->lines_covered,
                        (unsigned long long)out->lines_valid);
    if (out->branches_covered > out->branches_valid)
        return ferr_set(err, FERR_INVALID, &p,
                        "branches-covered (%llu) is more than "
                        "branches-valid (%llu)",
                        (unsigned long long)out->branches_covered,
                        (unsigned long long)out->branches_valid);
    if (out->lines_valid)
        out->line_rate = (double)out->lines_covered / (double)out->lines_valid;
    else
        out->line_rate = c.has_rate ? c.rate : 0;
    return FERR_OK;
}

/* ---------- lcov ---------- */

struct da {
    uint64_t line;
    bool hit;
};

struct lcov {
    const char *name;
    struct report_coverage *out;
    /* the open SF record */
    bool open;
    struct da *v;
    size_t n;
    size_t cap;
    uint64_t lf, lh, brf, brh; /* summary lines */
    bool has_lf, has_brf;
    uint64_t br_valid, br_covered; /* from BRDA */
    bool has_brda;
};

static int cmp_da(const void *a, const void *b)
{
    const struct da *x = a;
    const struct da *y = b;

    return x->line < y->line ? -1 : x->line > y->line;
}

static enum ferr_code add_count(uint64_t *sum, uint64_t v, const struct lcov *l,
                                struct ferr *err)
{
    struct pos p = {l->name, 0, 0};

    if (v > LIM_REPORT_COUNT || *sum + v > LIM_REPORT_COUNT)
        return ferr_set(err, FERR_LIMIT, &p, "more than %llu lines",
                        (unsigned long long)LIM_REPORT_COUNT);
    *sum += v;
    return FERR_OK;
}

/* Close the open record: its figures go to the totals. */
static enum ferr_code lcov_flush(struct lcov *l, struct ferr *err)
{
    uint64_t valid = 0, covered = 0;
    enum ferr_code rc;

    if (!l->open)
        return FERR_OK;
    if (l->n) {
        qsort(l->v, l->n, sizeof(*l->v), cmp_da);
        for (size_t i = 0; i < l->n;) {
            bool hit = false;
            size_t k = i;

            while (k < l->n && l->v[k].line == l->v[i].line)
                hit |= l->v[k++].hit;
            valid++;
            covered += hit;
            i = k;
        }
    } else if (l->has_lf) {
        valid = l->lf;
        covered = l->lh < l->lf ? l->lh : l->lf;
    }
    rc = add_count(&l->out->lines_valid, valid, l, err);
    if (!rc)
        rc = add_count(&l->out->lines_covered, covered, l, err);
    if (!rc && l->has_brda) {
        rc = add_count(&l->out->branches_valid, l->br_valid, l, err);
        if (!rc)
            rc = add_count(&l->out->branches_covered, l->br_covered, l, err);
    } else if (!rc && l->has_brf) {
        rc = add_count(&l->out->branches_valid, l->brf, l, err);
        if (!rc)
            rc = add_count(&l->out->branches_covered,
                           l->brh < l->brf ? l->brh : l->brf, l, err);
    }
    l->open = false;
    l->n = 0;
    l->has_lf = l->has_brf = l->has_brda = false;
    l->lf = l->lh = l->brf = l->brh = 0;
    l->br_valid = l->br_covered = 0;
    return rc;
}

/* Split @s at commas into at most @max fields; returns how many. */
static size_t fields(struct span s, struct span *f, size_t max)
{
    size_t n = 0;

    while (n < max) {
        struct span head;

        if (!span_cut(s, ',', &head, &s)) {
            f[n++] = span_trim(head); /* head is all of it */
            break;
        }
        f[n++] = span_trim(head);
    }
    return n;
}

static enum ferr_code lcov_num(const struct lcov *l, uint32_t lineno,
                               const char *what, struct span v, uint64_t *out,
                               struct ferr *err)
{
    struct pos p = {l->name, lineno, 1};
    char q[72];
    enum ferr_code rc = span_to_u64(v, out);

    if (rc == FERR_LIMIT || (!rc && *out > LIM_REPORT_COUNT))
        return ferr_set(err, FERR_LIMIT, &p, "%s is over %llu: '%s'", what,
                        (unsigned long long)LIM_REPORT_COUNT,
                        span_quote(v.p, v.len, q));
    if (rc && v.len && v.p[0] == '-')
        return ferr_set(err, FERR_PARSE, &p, "%s is negative: '%s'", what,
                        span_quote(v.p, v.len, q));
    if (rc)
        return ferr_set(err, FERR_PARSE, &p, "%s is not a number: '%s'", what,
                        span_quote(v.p, v.len, q));
    return FERR_OK;
}

/* An execution count: only "is it above zero" matters, so a count too
 * big for 64 bits is simply a hit; a sign or a non-digit is an error. */
static enum ferr_code lcov_hits(const struct lcov *l, uint32_t lineno,
                                const char *what, struct span v, bool *out,
                                struct ferr *err)
{
    uint64_t n;
    enum ferr_code rc = span_to_u64(v, &n);

    *out = false;
    if (rc == FERR_LIMIT) {
        *out = true;
        return FERR_OK;
    }
    if (rc)
        return lcov_num(l, lineno, what, v, &n, err);
    *out = n > 0;
    return FERR_OK;
}

static enum ferr_code lcov_line(struct lcov *l, uint32_t lineno,
                                struct span line, struct ferr *err)
{
    struct pos p = {l->name, lineno, 1};
    struct span key, val;
    struct span f[4];
    uint64_t a;
    bool hit;
    enum ferr_code rc;
    char q[72];

    if (span_eq_cstr(line, "end_of_record"))
        return lcov_flush(l, err);
    if (!span_cut(line, ':', &key, &val))
        return ferr_set(err, FERR_PARSE, &p, "not an lcov line: '%s'",
                        span_quote(line.p, line.len, q));
    if (span_eq_cstr(key, "SF")) {
        rc = lcov_flush(l, err);
        l->open = true;
        return rc;
    }
    if (span_eq_cstr(key, "DA")) {
        /* DA:<line>,<hits>[,<checksum>] */
        if (fields(val, f, 3) < 2)
            return ferr_set(err, FERR_PARSE, &p, "DA needs 'LINE,HITS': '%s'",
                            span_quote(line.p, line.len, q));
        rc = lcov_num(l, lineno, "DA line", f[0], &a, err);
        if (!rc)
            rc = lcov_hits(l, lineno, "DA hits", f[1], &hit, err);
        if (rc)
            return rc;
        l->open = true;
        if (l->n >= LIM_LCOV_RECORD_LINES)
            return ferr_set(err, FERR_LIMIT, &p,
                            "more than %u DA lines in one SF record",
                            LIM_LCOV_RECORD_LINES);
        if (l->n == l->cap) {
            l->cap = l->cap ? l->cap * 2 : 256;
            l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
        }
        l->v[l->n].line = a;
        l->v[l->n].hit = hit;
        l->n++;
        return FERR_OK;
    }
    if (span_eq_cstr(key, "BRDA")) {
        /* BRDA:<line>,<block>,<branch>,<taken or ->; block may be
         * "e0" (exception branches, lcov 2) */
        if (fields(val, f, 4) != 4)
            return ferr_set(err, FERR_PARSE, &p,
                            "BRDA needs 'LINE,BLOCK,BRANCH,TAKEN': '%s'",
                            span_quote(line.p, line.len, q));
        rc = lcov_num(l, lineno, "BRDA line", f[0], &a, err);
        if (rc)
            return rc;
        hit = false;
        if (!span_eq_cstr(f[3], "-")) {
            rc = lcov_hits(l, lineno, "BRDA taken", f[3], &hit, err);
            if (rc)
                return rc;
        }
        l->open = true;
        l->has_brda = true;
        if (l->br_valid >= LIM_REPORT_COUNT)
            return ferr_set(err, FERR_LIMIT, &p, "more than %llu branches",
                            (unsigned long long)LIM_REPORT_COUNT);
        l->br_valid++;
        l->br_covered += hit;
        return FERR_OK;
    }
    if (span_eq_cstr(key, "LF") || span_eq_cstr(key, "LH") ||
        span_eq_cstr(key, "BRF") || span_eq_cstr(key, "BRH")) {
        char what[8];

        snprintf(what, sizeof(what), "%.*s", SPAN_ARGS(key));
        rc = lcov_num(l, lineno, what, span_trim(val), &a, err);
        if (rc)
            return rc;
        l->open = true;
        if (span_eq_cstr(key, "LF")) {
            l->lf = a;
            l->has_lf = true;
        } else if (span_eq_cstr(key, "LH")) {
            l->lh = a;
        } else if (span_eq_cstr(key, "BRF")) {
            l->brf = a;
            l->has_brf = true;
        } else {
            l->brh = a;
        }
        return FERR_OK;
    }
    /* TN, VER, FN, FNDA, FNF, FNH, FNL, FNA, MCDC...: not needed; a key
     * must still look like one */
    for (size_t i = 0; i < key.len; i++) {
        char c = key.p[i];

        if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_'))
            return ferr_set(err, FERR_PARSE, &p, "not an lcov line: '%s'",
                            span_quote(line.p, line.len, q));
    }
    if (!key.len)
        return ferr_set(err, FERR_PARSE, &p, "not an lcov line: '%s'",
                        span_quote(line.p, line.len, q));
    return FERR_OK;
}

static enum ferr_code parse_lcov(const char *name, struct span src,
                                 struct report_coverage *out, struct ferr *err)
{
    struct lcov l;
    struct span rest = src;
    struct span line;
    uint32_t lineno = 0;
    enum ferr_code rc = FERR_OK;

    memset(&l, 0, sizeof(l));
    l.name = name;
    l.out = out;
    out->format = REPORT_COV_LCOV;
    if (rest.len >= 3 && memcmp(rest.p, "\xEF\xBB\xBF", 3) == 0) {
        rest.p += 3;
        rest.len -= 3;
    }
    while (rest.len && !rc) {
        if (!span_cut(rest, '\n', &line, &rest))
            rest.len = 0;
        lineno++;
        line = span_trim(line);
        if (line.len)
            rc = lcov_line(&l, lineno, line, err);
    }
    if (!rc)
        rc = lcov_flush(&l, err);
    free(l.v);
    if (!rc && out->lines_valid)
        out->line_rate = (double)out->lines_covered / (double)out->lines_valid;
    return rc;
}

/* ---------- the entry point and the gate ---------- */

enum ferr_code report_coverage_parse(const char *name, struct span src,
                                     enum report_cov_format format,
                                     struct report_coverage *out,
                                     struct ferr *err)
{
    struct pos p = {name, 0, 0};
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    if (src.len > LIM_REPORT_BYTES)
        return ferr_set(err, FERR_LIMIT, &p, "report is over %u bytes",
                        LIM_REPORT_BYTES);
    if (format == REPORT_COV_AUTO)
        format = report_coverage_detect(src);
    switch (format) {
    case REPORT_COV_COBERTURA: rc = parse_cobertura(name, src, out, err); break;
    case REPORT_COV_LCOV: rc = parse_lcov(name, src, out, err); break;
    default:
        rc = ferr_set(err, FERR_INVALID, &p,
                      "not a coverage report: neither Cobertura XML nor "
                      "lcov");
        break;
    }
    if (rc)
        memset(out, 0, sizeof(*out));
    return rc;
}

enum ferr_code report_min_parse(const char *s, double *out, struct ferr *err)
{
    char tmp[64];
    struct span t = span_trim(span_cstr(s));
    char *end;
    double d;

    *out = 0;
    if (t.len && t.p[t.len - 1] == '%')
        t = span_trim(span_of(t.p, t.len - 1));
    if (!t.len || t.len >= sizeof(tmp))
        return ferr_set(err, FERR_INVALID, NULL,
                        "min-coverage '%s' is not a percent from 0 to 100", s);
    memcpy(tmp, t.p, t.len);
    tmp[t.len] = '\0';
    d = strtod(tmp, &end);
    if (end == tmp || *end || !isfinite(d) || d < 0 || d > 100)
        return ferr_set(err, FERR_INVALID, NULL,
                        "min-coverage '%s' is not a percent from 0 to 100", s);
    *out = d / 100.0;
    return FERR_OK;
}

bool report_coverage_passes(const struct report_coverage *c, double min)
{
    double rate = c->lines_valid
                      ? (double)c->lines_covered / (double)c->lines_valid
                      : c->line_rate;

    return rate + 1e-12 >= min;
}

const char *report_percent(double rate, char out[16])
{
    double tenths;

    if (!isfinite(rate) || rate < 0)
        rate = 0;
    if (rate > 1)
        rate = 1;
    tenths = floor(rate * 1000.0 + 1e-9);
    snprintf(out, 16, "%.1f", tenths / 10.0);
    return out;
}

json_t *report_coverage_json(const struct report_coverage *c, const char *file,
                             const double *min)
{
    json_t *o = json_object();

    json_object_set_new(o, "kind", json_string("coverage"));
    json_object_set_new(o, "file", json_lossy_stringn(file, strlen(file)));
    json_object_set_new(o, "format",
                        json_string(report_cov_format_name(c->format)));
    json_object_set_new(o, "lines_valid",
                        json_integer((json_int_t)c->lines_valid));
    json_object_set_new(o, "lines_covered",
                        json_integer((json_int_t)c->lines_covered));
    json_object_set_new(o, "line_rate",
                        json_real(round(c->line_rate * 10000.0) / 10000.0));
    json_object_set_new(o, "branches_valid",
                        json_integer((json_int_t)c->branches_valid));
    json_object_set_new(o, "branches_covered",
                        json_integer((json_int_t)c->branches_covered));
    json_object_set_new(o, "min",
                        min ? json_real(round(*min * 1e6) / 1e6) : json_null());
    json_object_set_new(o, "passed",
                        json_boolean(!min || report_coverage_passes(c, *min)));
    return o;
}
