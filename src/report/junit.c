/* junit: JUnit XML test reports (pytest --junitxml, Surefire, Jest, Go's
 * junit reporters) summarised as counts and the first failed tests, and
 * the libexpat driver the XML parsers share.  It never loads a DTD or an
 * external entity and refuses internal DTD subsets (billion laughs); it
 * does not read files (the callers do). */
#include <expat.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "report/report.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* ---------- the XML driver ---------- */

#define NAME_MAX_LEN 31

struct report_xml {
    XML_Parser p;
    const struct report_xml_handlers *h;
    void *ud;
    const char *name;
    struct ferr *err;
    bool stopped;
    unsigned depth;
    char stack[LIM_XML_DEPTH][NAME_MAX_LEN + 1];
};

static struct pos here(const struct report_xml *x)
{
    struct pos p;

    p.file = x->name;
    p.line = (uint32_t)XML_GetCurrentLineNumber(x->p);
    p.col = (uint32_t)XML_GetCurrentColumnNumber(x->p) + 1;
    if (p.line == 0)
        p.line = 1;
    return p;
}

enum ferr_code report_xml_fail(struct report_xml *x, enum ferr_code code,
                               const char *fmt, ...)
{
    char msg[sizeof(x->err->msg)];
    struct pos p = here(x);
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!x->stopped) {
        x->stopped = true;
        XML_StopParser(x->p, XML_FALSE);
        ferr_set(x->err, code, &p, "%s", msg);
    }
    return code;
}

unsigned report_xml_depth(const struct report_xml *x)
{
    return x->depth;
}

const char *report_xml_parent(const struct report_xml *x, unsigned up)
{
    if (up >= x->depth)
        return "";
    return x->stack[x->depth - 1 - up];
}

const char *report_xml_attr(const char **attrs, const char *key)
{
    for (size_t i = 0; attrs && attrs[i] && attrs[i + 1]; i += 2)
        if (strcmp(attrs[i], key) == 0)
            return attrs[i + 1];
    return NULL;
}

enum ferr_code report_xml_count(struct report_xml *x, const char *el,
                                const char **attrs, const char *key,
                                uint64_t *out, bool *out_present)
{
    const char *v = report_xml_attr(attrs, key);
    char q[72];
    enum ferr_code rc;

    *out = 0;
    *out_present = false;
    if (!v)
        return FERR_OK;
    rc = span_to_u64(span_trim(span_cstr(v)), out);
    if (rc == FERR_LIMIT || (!rc && *out > LIM_REPORT_COUNT)) {
        *out = 0;
        return report_xml_fail(
            x, FERR_LIMIT, "attribute '%s' of <%s> is over %llu: '%s'", key, el,
            (unsigned long long)LIM_REPORT_COUNT, span_quote(v, strlen(v), q));
    }
    if (rc)
        return report_xml_fail(x, FERR_INVALID,
                               "attribute '%s' of <%s> is not a count: '%s'",
                               key, el, span_quote(v, strlen(v), q));
    *out_present = true;
    return FERR_OK;
}

static void XMLCALL on_start(void *ud, const XML_Char *el,
                             const XML_Char **attrs)
{
    struct report_xml *x = ud;
    size_t n = strlen(el);

    if (x->stopped)
        return;
    if (x->depth >= LIM_XML_DEPTH) {
        report_xml_fail(x, FERR_LIMIT, "elements nested deeper than %u",
                        LIM_XML_DEPTH);
        return;
    }
    if (n <= NAME_MAX_LEN)
        memcpy(x->stack[x->depth], el, n + 1);
    else
        x->stack[x->depth][0] = '\0';
    x->depth++;
    if (x->h->start)
        x->h->start(x, x->ud, el, attrs);
}

static void XMLCALL on_end(void *ud, const XML_Char *el)
{
    struct report_xml *x = ud;

    if (x->stopped)
        return;
    if (x->h->end)
        x->h->end(x, x->ud, el);
    if (x->depth)
        x->depth--;
}

static void XMLCALL on_text(void *ud, const XML_Char *s, int len)
{
    struct report_xml *x = ud;

    if (x->stopped || len <= 0 || !x->h->text)
        return;
    x->h->text(x, x->ud, s, (size_t)len);
}

static void XMLCALL on_doctype(void *ud, const XML_Char *doctype,
                               const XML_Char *sysid, const XML_Char *pubid,
                               int has_internal_subset)
{
    struct report_xml *x = ud;

    (void)doctype;
    (void)sysid;
    (void)pubid;
    /* an external id alone is harmless (never fetched): Cobertura writes
     * one; entities can only be declared in an internal subset */
    if (has_internal_subset)
        report_xml_fail(x, FERR_PARSE,
                        "DOCTYPE with an internal subset refused (entity "
                        "declarations are not allowed in reports)");
}

static void XMLCALL on_entity(void *ud, const XML_Char *name, int is_param,
                              const XML_Char *value, int value_length,
                              const XML_Char *base, const XML_Char *sysid,
                              const XML_Char *pubid, const XML_Char *notation)
{
    struct report_xml *x = ud;

    (void)is_param;
    (void)value;
    (void)value_length;
    (void)base;
    (void)sysid;
    (void)pubid;
    (void)notation;
    report_xml_fail(x, FERR_PARSE, "entity declaration '%s' refused", name);
}

enum ferr_code report_xml_parse(const char *name, struct span src,
                                const struct report_xml_handlers *h, void *ud,
                                struct ferr *err)
{
    struct report_xml *x;
    enum ferr_code rc = FERR_OK;

    if (src.len > LIM_REPORT_BYTES) {
        struct pos p = {name, 0, 0};

        return ferr_set(err, FERR_LIMIT, &p, "report is over %u bytes",
                        LIM_REPORT_BYTES);
    }
    x = xcalloc(1, sizeof(*x));
    x->p = XML_ParserCreate(NULL);
    if (!x->p)
        abort();
    x->h = h;
    x->ud = ud;
    x->name = name;
    x->err = err;
    XML_SetUserData(x->p, x);
    XML_SetElementHandler(x->p, on_start, on_end);
    XML_SetCharacterDataHandler(x->p, on_text);
    XML_SetStartDoctypeDeclHandler(x->p, on_doctype);
    XML_SetEntityDeclHandler(x->p, on_entity);
    XML_SetParamEntityParsing(x->p, XML_PARAM_ENTITY_PARSING_NEVER);
    if (XML_Parse(x->p, src.p ? src.p : "", (int)src.len, XML_TRUE) !=
        XML_STATUS_OK) {
        if (x->stopped) {
            rc = err ? err->code : FERR_PARSE;
            if (rc == FERR_OK)
                rc = FERR_PARSE;
        } else {
            struct pos p = here(x);
            enum XML_Error e = XML_GetErrorCode(x->p);

            rc = ferr_set(err, FERR_PARSE, &p, "malformed XML: %s",
                          XML_ErrorString(e));
        }
    } else if (x->stopped) {
        rc = err ? err->code : FERR_PARSE;
    }
    XML_ParserFree(x->p);
    free(x);
    return rc;
}

/* ---------- JUnit ---------- */

/* Copy at most REPORT_TEXT_MAX bytes of @s (@n bytes) into @dst, cut at a
 * UTF-8 boundary (invalid bytes count as one). */
static void cut_copy(char dst[REPORT_TEXT_MAX + 1], const char *s, size_t n)
{
    size_t i = 0;

    while (i < n) {
        size_t k = span_utf8_len((const unsigned char *)s + i, n - i);

        if (k == 0)
            k = 1;
        if (i + k > REPORT_TEXT_MAX)
            break;
        i += k;
    }
    memcpy(dst, s, i);
    dst[i] = '\0';
}

/* The first non-blank line of @s (@n bytes). */
static struct span first_line(const char *s, size_t n)
{
    struct span rest = span_of(s, n);
    struct span line;

    while (rest.len) {
        if (!span_cut(rest, '\n', &line, &rest))
            rest.len = 0;
        line = span_trim(line);
        if (line.len)
            return line;
    }
    return span_of(s, 0);
}

#define TEXT_KEEP (REPORT_TEXT_MAX * 4)

struct junit {
    struct report_tests *t;
    bool root_seen;
    /* outermost suites' attributes (for a report without test cases),
     * and the root <testsuites>' (for one without suites either) */
    uint64_t attr[4];
    uint64_t root_attr[4];
    unsigned outer_suites;
    double attr_time;
    bool suite_time_seen;
    unsigned suite_depth;                 /* <testsuite>s open */
    char suite_name[REPORT_TEXT_MAX + 1]; /* innermost named suite */
    unsigned suite_name_depth;            /* depth it was set at */
    uint64_t cases;
    double case_time;
    /* the open test case */
    bool in_case;
    unsigned case_depth;
    int verdict; /* 0 pass, 1 skipped, 2 error, 3 fail */
    struct report_failed cur;
    bool want_text; /* a failure without a message */
    unsigned text_depth;
    char text[TEXT_KEEP];
    size_t text_len;
};

/* A JUnit time: seconds, possibly "1,234.5" (old Surefire); anything
 * unreadable counts as 0 — time is informative, never a verdict. */
static double parse_time(const char *v)
{
    char tmp[64];
    size_t j = 0;
    char *end;
    double d;

    if (!v)
        return 0;
    for (size_t i = 0; v[i] && j + 1 < sizeof(tmp); i++)
        if (v[i] != ',')
            tmp[j++] = v[i];
    tmp[j] = '\0';
    d = strtod(tmp, &end);
    while (*end == ' ' || *end == '\t')
        end++;
    if (end == tmp || *end || !isfinite(d) || d < 0 || d > 1e12)
        return 0;
    return d;
}

static void suite_start(struct report_xml *x, struct junit *j, const char *el,
                        const char **attrs)
{
    static const char *const keys[4] = {"tests", "failures", "errors",
                                        "skipped"};
    const char *name = report_xml_attr(attrs, "name");
    bool outer = strcmp(el, "testsuites") == 0 || j->suite_depth == 0;

    if (strcmp(el, "testsuite") == 0) {
        j->suite_depth++;
        if (name && *name) {
            cut_copy(j->suite_name, name, strlen(name));
            j->suite_name_depth = report_xml_depth(x);
        }
    }
    if (!outer)
        return;
    /* <testsuites> totals are used only when no <testsuite> has any */
    if (strcmp(el, "testsuites") == 0 && report_xml_depth(x) != 1)
        return;
    for (size_t i = 0; i < 4; i++) {
        uint64_t v;
        bool present;

        if (report_xml_count(x, el, attrs, keys[i], &v, &present))
            return;
        if (strcmp(el, "testsuites") == 0) {
            j->root_attr[i] = v;
            continue;
        }
        if (i == 3 && !present) {
            /* Surefire's older name for it */
            if (report_xml_count(x, el, attrs, "skip", &v, &present))
                return;
        }
        j->attr[i] += v;
        if (j->attr[i] > LIM_REPORT_COUNT) {
            report_xml_fail(x, FERR_LIMIT, "more than %llu %s",
                            (unsigned long long)LIM_REPORT_COUNT, keys[i]);
            return;
        }
    }
    if (strcmp(el, "testsuite") == 0)
        j->outer_suites++;
    if (strcmp(el, "testsuite") == 0 && report_xml_attr(attrs, "time")) {
        j->attr_time += parse_time(report_xml_attr(attrs, "time"));
        j->suite_time_seen = true;
    }
}

static void case_start(struct report_xml *x, struct junit *j,
                       const char **attrs)
{
    const char *cls = report_xml_attr(attrs, "classname");
    const char *name = report_xml_attr(attrs, "name");
    const char *file = report_xml_attr(attrs, "file");
    const char *line = report_xml_attr(attrs, "line");
    uint64_t ln = 0;

    if (j->in_case)
        return; /* nested test cases: count the outer one */
    j->in_case = true;
    j->case_depth = report_xml_depth(x);
    j->verdict = 0;
    memset(&j->cur, 0, sizeof(j->cur));
    if (cls && *cls)
        cut_copy(j->cur.suite, cls, strlen(cls));
    else
        memcpy(j->cur.suite, j->suite_name, sizeof(j->cur.suite));
    if (name)
        cut_copy(j->cur.name, name, strlen(name));
    if (file)
        cut_copy(j->cur.file, file, strlen(file));
    if (line && span_to_u64(span_trim(span_cstr(line)), &ln) == FERR_OK &&
        ln <= UINT32_MAX)
        j->cur.line = (uint32_t)ln;
    j->case_time += parse_time(report_xml_attr(attrs, "time"));
}

static void verdict_start(struct report_xml *x, struct junit *j, const char *el,
                          const char **attrs)
{
    int v = strcmp(el, "failure") == 0   ? 3
            : strcmp(el, "error") == 0   ? 2
            : strcmp(el, "skipped") == 0 ? 1
                                         : 0;
    const char *msg;

    if (!v || report_xml_depth(x) != j->case_depth + 1 || v <= j->verdict)
        return;
    j->verdict = v;
    if (v < 2)
        return;
    j->cur.error = v == 2;
    msg = report_xml_attr(attrs, "message");
    if (!msg || !span_trim(span_cstr(msg)).len)
        msg = NULL;
    j->cur.message[0] = '\0';
    j->want_text = false;
    if (msg) {
        struct span l = first_line(msg, strlen(msg));

        cut_copy(j->cur.message, l.p, l.len);
    } else {
        const char *type = report_xml_attr(attrs, "type");

        if (type)
            cut_copy(j->cur.message, type, strlen(type));
        j->want_text = true;
        j->text_depth = report_xml_depth(x);
        j->text_len = 0;
    }
}

static void junit_start(struct report_xml *x, void *ud, const char *el,
                        const char **attrs)
{
    struct junit *j = ud;

    if (!j->root_seen) {
        j->root_seen = true;
        if (strcmp(el, "testsuites") != 0 && strcmp(el, "testsuite") != 0) {
            report_xml_fail(x, FERR_INVALID,
                            "not a JUnit report: the root element is <%s>, "
                            "not <testsuites> or <testsuite>",
                            report_xml_parent(x, 0));
            return;
        }
    }
    if (strcmp(el, "testsuite") == 0 || strcmp(el, "testsuites") == 0) {
        if (!j->in_case)
            suite_start(x, j, el, attrs);
    } else if (strcmp(el, "testcase") == 0) {
        case_start(x, j, attrs);
    } else if (j->in_case) {
        verdict_start(x, j, el, attrs);
    }
}

static void case_end(struct junit *j)
{
    struct report_tests *t = j->t;

    j->in_case = false;
    j->want_text = false;
    j->cases++;
    t->tests++;
    switch (j->verdict) {
    case 1: t->skipped++; return;
    case 2: t->errors++; break;
    case 3: t->failures++; break;
    default: return;
    }
    if (t->nfailed < REPORT_FAILED_MAX)
        t->failed[t->nfailed++] = j->cur;
}

static void junit_end(struct report_xml *x, void *ud, const char *el)
{
    struct junit *j = ud;
    unsigned d = report_xml_depth(x);

    if (j->want_text && d == j->text_depth) {
        struct span l = first_line(j->text, j->text_len);

        j->want_text = false;
        if (l.len)
            cut_copy(j->cur.message, l.p, l.len);
    }
    if (j->in_case && d == j->case_depth && strcmp(el, "testcase") == 0) {
        case_end(j);
    } else if (!j->in_case && strcmp(el, "testsuite") == 0) {
        if (j->suite_depth)
            j->suite_depth--;
        if (d == j->suite_name_depth) {
            j->suite_name[0] = '\0';
            j->suite_name_depth = 0;
        }
    }
}

static void junit_text(struct report_xml *x, void *ud, const char *s, size_t n)
{
    struct junit *j = ud;
    size_t room = sizeof(j->text) - j->text_len;

    (void)x;
    if (!j->want_text || !room)
        return;
    if (n > room)
        n = room;
    memcpy(j->text + j->text_len, s, n);
    j->text_len += n;
}

enum ferr_code report_junit_parse(const char *name, struct span src,
                                  struct report_tests *out, struct ferr *err)
{
    static const struct report_xml_handlers h = {junit_start, junit_end,
                                                 junit_text};
    struct junit *j;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    j = xcalloc(1, sizeof(*j));
    j->t = out;
    rc = report_xml_parse(name, src, &h, j, err);
    if (!rc && !j->root_seen) {
        struct pos p = {name, 0, 0};

        rc = ferr_set(err, FERR_INVALID, &p, "not a JUnit report: empty");
    }
    if (!rc) {
        const uint64_t *a = j->outer_suites ? j->attr : j->root_attr;

        if (j->cases == 0) {
            out->tests = a[0];
            out->failures = a[1];
            out->errors = a[2];
            out->skipped = a[3];
        }
        out->time_s = j->suite_time_seen ? j->attr_time : j->case_time;
    }
    if (rc)
        memset(out, 0, sizeof(*out));
    free(j);
    return rc;
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a + b > LIM_REPORT_COUNT || a + b < a ? LIM_REPORT_COUNT : a + b;
}

void report_tests_add(struct report_tests *sum, const struct report_tests *t)
{
    sum->tests = sat_add(sum->tests, t->tests);
    sum->failures = sat_add(sum->failures, t->failures);
    sum->errors = sat_add(sum->errors, t->errors);
    sum->skipped = sat_add(sum->skipped, t->skipped);
    sum->time_s += t->time_s;
    for (size_t i = 0; i < t->nfailed && sum->nfailed < REPORT_FAILED_MAX; i++)
        sum->failed[sum->nfailed++] = t->failed[i];
}

json_t *report_tests_json(const struct report_tests *t, const char *file)
{
    json_t *o = json_object();
    json_t *failed = json_array();

    json_object_set_new(o, "kind", json_string("tests"));
    json_object_set_new(o, "file", json_lossy_stringn(file, strlen(file)));
    json_object_set_new(o, "tests", json_integer((json_int_t)t->tests));
    json_object_set_new(o, "failures", json_integer((json_int_t)t->failures));
    json_object_set_new(o, "errors", json_integer((json_int_t)t->errors));
    json_object_set_new(o, "skipped", json_integer((json_int_t)t->skipped));
    json_object_set_new(o, "time_s",
                        json_real(round(t->time_s * 1000.0) / 1000.0));
    for (size_t i = 0; i < t->nfailed && i < REPORT_FAILED_MAX; i++) {
        const struct report_failed *f = &t->failed[i];
        json_t *e = json_object();

        json_object_set_new(e, "suite",
                            json_lossy_stringn(f->suite, strlen(f->suite)));
        json_object_set_new(e, "name",
                            json_lossy_stringn(f->name, strlen(f->name)));
        json_object_set_new(e, "message",
                            json_lossy_stringn(f->message, strlen(f->message)));
        json_array_append_new(failed, e);
    }
    json_object_set_new(o, "failed", failed);
    return o;
}
