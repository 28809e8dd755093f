/* analysis: measures a new version every interval (its error rate from
 * the proxy's counters, or a Prometheus instant query), compares each
 * measurement with a threshold and gives a verdict with a failure limit,
 * like Argo Rollouts' AnalysisTemplate.  Blocking, in the deploy step's
 * process.  It does not read the proxy itself (the caller's callback
 * does) nor keep history across runs. */
#include "deploy/analysis.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "deploy/health.h"
#include "util/buf.h"
#include "util/httpc.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define DEF_MAX          0.05
#define DEF_INTERVAL_MS  1000u
#define DEF_COUNT        5u
#define DEF_MIN_REQUESTS 1u
#define MAX_COUNT        100000u
#define QUERY_MIN_MS     1000L  /* a query's timeout: the interval, */
#define QUERY_MAX_MS     10000L /* kept within these */
#define VERDICT_MAX      640    /* a ferr message and some words */

/* ---- parsing the inputs ---- */

static bool unset(const char *text)
{
    return !text || !*text;
}

static const char *quote(const char *s, char q[72])
{
    return span_quote(s, strlen(s), q);
}

static bool http_url(struct span u)
{
    size_t skip;

    if (u.len > 7 && strncasecmp(u.p, "http://", 7) == 0)
        skip = 7;
    else if (u.len > 8 && strncasecmp(u.p, "https://", 8) == 0)
        skip = 8;
    else
        return false;
    if (u.p[skip] == '/' || u.len > LIM_URL)
        return false;
    for (size_t i = 0; i < u.len; i++)
        if ((unsigned char)u.p[i] <= ' ' || u.p[i] == 0x7f || u.p[i] == '?' ||
            u.p[i] == '#')
            return false;
    return true;
}

/* A decimal number, strictly: no "inf", "nan", hex or trailing junk. */
static bool parse_number(struct span t, double *out)
{
    char tmp[64];
    char *end;
    double v;

    if (t.len == 0 || t.len >= sizeof(tmp))
        return false;
    for (size_t i = 0; i < t.len; i++)
        if (!strchr("0123456789+-.eE", t.p[i]) || t.p[i] == '\0')
            return false;
    memcpy(tmp, t.p, t.len);
    tmp[t.len] = '\0';
    errno = 0;
    v = strtod(tmp, &end);
    if (end != tmp + t.len || errno == ERANGE || !isfinite(v))
        return false;
    *out = v;
    return true;
}

static enum ferr_code parse_max(const char *text, double *out, struct ferr *err)
{
    struct span t = span_trim(span_cstr(text));
    bool pct = t.len && t.p[t.len - 1] == '%';
    char q[72];

    if (pct)
        t = span_trim(span_of(t.p, t.len - 1));
    if (!parse_number(t, out))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'analysis-max': bad threshold '%s' (like 5%% "
                        "or 0.05)",
                        quote(text, q));
    if (pct)
        *out /= 100.0;
    return FERR_OK;
}

static enum ferr_code parse_u64(const char *name, const char *text,
                                uint64_t min, uint64_t max, uint64_t *out,
                                struct ferr *err)
{
    char q[72];

    if (span_to_u64(span_trim(span_cstr(text)), out) || *out < min ||
        *out > max)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': bad count '%s' (a whole number from "
                        "%" PRIu64 " to %" PRIu64 ")",
                        name, quote(text, q), min, max);
    return FERR_OK;
}

static enum ferr_code parse_metric(struct analysis_spec *s, const char *metric,
                                   struct ferr *err)
{
    struct span m = span_trim(span_cstr(metric));
    char q[72];

    if (m.len == 0 || span_eq_cstr(m, "error-rate")) {
        s->kind = ANALYSIS_ERROR_RATE;
        return FERR_OK;
    }
    if (span_starts_with(m, SPAN_LIT("prometheus:"))) {
        struct span query = span_trim(span_of(m.p + 11, m.len - 11));

        if (query.len == 0)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'analysis': 'prometheus:' needs a query");
        if (query.len > LIM_URL)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'analysis': the query is over %u bytes",
                            LIM_URL);
        s->kind = ANALYSIS_PROMETHEUS;
        s->query = xstrndup(query.p, query.len);
        return FERR_OK;
    }
    return ferr_set(err, FERR_INVALID, NULL,
                    "input 'analysis': unknown metric '%s' (error-rate, "
                    "prometheus:QUERY)",
                    quote(metric, q));
}

enum ferr_code analysis_spec_parse(struct analysis_spec *s, const char *metric,
                                   const char *prometheus, const char *max,
                                   const char *interval, const char *count,
                                   const char *failure_limit,
                                   const char *min_requests, struct ferr *err)
{
    uint64_t n;
    char q[72];
    enum ferr_code rc;

    memset(s, 0, sizeof(*s));
    s->max = DEF_MAX;
    s->interval_ms = DEF_INTERVAL_MS;
    s->count = DEF_COUNT;
    s->min_requests = DEF_MIN_REQUESTS;
    rc = parse_metric(s, metric, err);
    if (rc)
        return rc;
    if (s->kind == ANALYSIS_PROMETHEUS) {
        struct span u = span_trim(span_cstr(prometheus));

        if (u.len == 0)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'prometheus' is needed by analysis '%s'",
                            quote(metric, q));
        if (!http_url(u))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'prometheus': bad URL '%s' "
                            "(http://HOST:PORT)",
                            quote(prometheus, q));
        while (u.len && u.p[u.len - 1] == '/')
            u.len--;
        s->prometheus = xstrndup(u.p, u.len);
        if (!unset(min_requests))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'analysis-min-requests' applies to "
                            "analysis 'error-rate' only");
    } else if (!unset(prometheus)) {
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'prometheus' is only used by analysis "
                        "'prometheus:QUERY'");
    }
    if (!unset(max)) {
        rc = parse_max(max, &s->max, err);
        if (rc)
            return rc;
    }
    if (!unset(interval)) {
        rc = health_parse_duration("analysis-interval", interval,
                                   &s->interval_ms, err);
        if (rc)
            return rc;
    }
    if (!unset(count)) {
        rc = parse_u64("analysis-count", count, 1, MAX_COUNT, &n, err);
        if (rc)
            return rc;
        s->count = (unsigned)n;
    }
    if (!unset(failure_limit)) {
        rc = parse_u64("analysis-failure-limit", failure_limit, 0, MAX_COUNT,
                       &n, err);
        if (rc)
            return rc;
        s->failure_limit = (unsigned)n;
    }
    if (!unset(min_requests)) {
        rc = parse_u64("analysis-min-requests", min_requests, 0,
                       (uint64_t)INT64_MAX, &s->min_requests, err);
        if (rc)
            return rc;
    }
    return FERR_OK;
}

void analysis_spec_release(struct analysis_spec *s)
{
    free(s->prometheus);
    free(s->query);
    memset(s, 0, sizeof(*s));
}

/* ---- Prometheus' answer ---- */

/* A sample's value as Prometheus writes it. */
static bool sample_value(const json_t *v, double *out)
{
    const char *s;
    size_t n;

    if (json_is_number(v)) {
        *out = json_number_value(v);
        return true;
    }
    if (!json_is_string(v))
        return false;
    s = json_string_value(v);
    n = json_string_length(v);
    if (strlen(s) != n)
        return false;
    if (strcmp(s, "NaN") == 0) {
        *out = NAN;
        return true;
    }
    if (strcmp(s, "+Inf") == 0 || strcmp(s, "Inf") == 0) {
        *out = INFINITY;
        return true;
    }
    if (strcmp(s, "-Inf") == 0) {
        *out = -INFINITY;
        return true;
    }
    return parse_number(span_of(s, n), out);
}

/* [timestamp, "value"] */
static enum ferr_code read_sample(const json_t *pair, double *out,
                                  struct ferr *err)
{
    const json_t *v = json_array_get(pair, 1);
    char q[72];

    if (!json_is_array(pair) || json_array_size(pair) != 2 ||
        !json_is_number(json_array_get(pair, 0)))
        return ferr_set(err, FERR_PARSE, NULL,
                        "the answer is not Prometheus' JSON: a sample is not "
                        "[time, \"value\"]");
    if (!sample_value(v, out)) {
        if (json_is_string(v))
            span_quote(json_string_value(v), json_string_length(v), q);
        else
            snprintf(q, sizeof(q), "(not a string)");
        return ferr_set(err, FERR_PARSE, NULL, "bad sample value '%s'", q);
    }
    return FERR_OK;
}

static const char *jstr(const json_t *o, const char *key, char q[72])
{
    const json_t *v = json_object_get(o, key);

    if (!json_is_string(v))
        return NULL;
    return span_quote(json_string_value(v), json_string_length(v), q);
}

enum ferr_code analysis_parse_prometheus(const char *body, size_t len,
                                         double *out, struct ferr *err)
{
    json_error_t je;
    json_t *j;
    const json_t *status;
    const json_t *data;
    const json_t *result;
    const char *type;
    char q1[72];
    char q2[72];
    enum ferr_code rc;

    *out = NAN;
    if (!body)
        len = 0;
    if (len > LIM_PROM_ANSWER)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "prometheus' answer is over %u bytes", LIM_PROM_ANSWER);
    j = json_loadb(len ? body : "", len, 0, &je);
    if (!j) {
        /* jansson quotes the input near the error: make it printable */
        for (char *c = je.text; *c; c++)
            if ((unsigned char)*c < 0x20 || (unsigned char)*c >= 0x7f)
                *c = '?';
        return ferr_set(err, FERR_PARSE, NULL,
                        "the answer is not Prometheus' JSON: %s", je.text);
    }
    status = json_object_get(j, "status");
    if (!json_is_object(j) || !json_is_string(status)) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "the answer is not Prometheus' JSON: no \"status\"");
        goto done;
    }
    if (strcmp(json_string_value(status), "error") == 0) {
        const char *etype = jstr(j, "errorType", q1);
        const char *emsg = jstr(j, "error", q2);

        rc =
            ferr_set(err, FERR_IO, NULL, "prometheus answered an error: %s%s%s",
                     etype ? etype : "", etype ? ": " : "",
                     emsg ? emsg : "(no message)");
        goto done;
    }
    data = json_object_get(j, "data");
    result = json_object_get(data, "result");
    type = json_string_value(json_object_get(data, "resultType"));
    if (strcmp(json_string_value(status), "success") != 0 ||
        !json_is_object(data) || !type || !result) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "the answer is not Prometheus' JSON: no successful "
                      "\"data\" with \"resultType\" and \"result\"");
        goto done;
    }
    if (strcmp(type, "scalar") == 0) {
        rc = read_sample(result, out, err);
    } else if (strcmp(type, "vector") == 0) {
        const json_t *first = json_array_get(result, 0);

        if (!json_is_array(result)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "the answer is not Prometheus' JSON: a vector "
                          "that is not an array");
        } else if (!first) {
            rc = ferr_set(err, FERR_NOTFOUND, NULL,
                          "the answer holds no sample");
        } else if (!json_is_object(first)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "the answer is not Prometheus' JSON: a series "
                          "that is not an object");
        } else if (!json_object_get(first, "value") &&
                   json_object_get(first, "histogram")) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "the first sample is a native histogram, not a "
                          "number (use histogram_quantile or "
                          "histogram_count)");
        } else {
            rc = read_sample(json_object_get(first, "value"), out, err);
        }
    } else {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "the answer's resultType '%s' is not one value (use "
                      "a query that gives an instant vector or a scalar)",
                      quote(type, q1));
    }
done:
    if (rc)
        *out = NAN;
    json_decref(j);
    return rc;
}

/* ---- the query ---- */

static enum ferr_code add_escaped(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum ferr_code rc = FERR_OK;

    for (const unsigned char *p = (const unsigned char *)s; *p && !rc; p++) {
        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~') {
            rc = buf_addch(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            rc = buf_add(b, e, 3);
        }
    }
    return rc;
}

enum ferr_code analysis_prometheus_query(const char *base, const char *query,
                                         long timeout_ms, double *out,
                                         struct ferr *err)
{
    static const char *const headers[] = {"Accept: application/json", NULL};
    struct span b = span_trim(span_cstr(base));
    struct httpc_req req;
    struct ferr perr;
    struct buf url;
    struct buf body;
    long status = 0;
    char q[72];
    char bq[72];
    enum ferr_code rc;

    *out = NAN;
    quote(query ? query : "", q);
    quote(base ? base : "", bq);
    if (!http_url(b))
        return ferr_set(err, FERR_INVALID, NULL,
                        "bad prometheus URL '%s' (http://HOST:PORT)", bq);
    if (!query || !*query || strlen(query) > LIM_URL)
        return ferr_set(err, FERR_INVALID, NULL,
                        "bad query '%s': empty or over %u bytes", q, LIM_URL);
    while (b.len && b.p[b.len - 1] == '/')
        b.len--;
    buf_init(&url, (size_t)LIM_URL * 5);
    buf_init(&body, LIM_PROM_ANSWER);
    if (buf_addspan(&url, b) || buf_adds(&url, "/api/v1/query?query=") ||
        add_escaped(&url, query)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "query '%s': the URL is too long", q);
        goto done;
    }
    memset(&req, 0, sizeof(req));
    req.url = buf_cstr(&url);
    req.headers = headers;
    req.timeout_ms = timeout_ms;
    ferr_clear(&perr);
    rc = httpc_do(&req, &status, &body, &perr);
    if (rc) {
        rc = ferr_set(err, FERR_IO, NULL, "query '%s': %s", q, perr.msg);
        goto done;
    }
    rc = analysis_parse_prometheus(body.p, body.len, out, &perr);
    if (rc == FERR_NOTFOUND) {
        rc = ferr_set(err, rc, NULL, "query '%s' returned no sample", q);
    } else if (rc == FERR_PARSE && status != 200) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "query '%s': prometheus answered HTTP %ld", q, status);
    } else if (rc) {
        rc = ferr_set(err, rc, NULL, "query '%s': %s", q, perr.msg);
    } else if (status != 200) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "query '%s': prometheus answered HTTP %ld", q, status);
    }
done:
    if (rc)
        *out = NAN;
    buf_release(&url);
    buf_release(&body);
    return rc;
}

/* ---- the analysis ---- */

enum outcome { M_PASSED, M_FAILED, M_INCONCLUSIVE };

struct run {
    const struct analysis_spec *s;
    analysis_counters_fn counters;
    void *cud;
    bool have_base;
    uint64_t base_req;
    uint64_t base_err;
};

static uint64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

static void pause_until(uint64_t at_ms)
{
    struct timespec t = {(time_t)(at_ms / 1000u),
                         (long)(at_ms % 1000u) * 1000000L};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

static enum outcome measure_error_rate(struct run *r, double *value,
                                       char *verdict, size_t n)
{
    uint64_t req = 0;
    uint64_t errs = 0;
    uint64_t dreq;
    uint64_t derr;
    struct ferr cerr;
    double rate;
    bool fail;

    ferr_clear(&cerr);
    *value = NAN;
    if (r->counters(r->cud, &req, &errs, &cerr)) {
        snprintf(verdict, n, "cannot read the counters: %s: failed",
                 cerr.msg[0] ? cerr.msg : "no reason given");
        return M_FAILED;
    }
    if (!r->have_base || req < r->base_req || errs < r->base_err) {
        /* the first reading, or the proxy restarted: start over */
        snprintf(verdict, n,
                 r->have_base ? "error rate inconclusive: the counters went "
                                "back (a restart?)"
                              : "error rate inconclusive: no earlier reading");
        r->have_base = true;
        r->base_req = req;
        r->base_err = errs;
        return M_INCONCLUSIVE;
    }
    dreq = req - r->base_req;
    derr = errs - r->base_err;
    r->base_req = req;
    r->base_err = errs;
    if (dreq == 0 || dreq < r->s->min_requests) {
        snprintf(verdict, n,
                 "error rate inconclusive: %" PRIu64 " request%s (fewer "
                 "than %" PRIu64 ")",
                 dreq, dreq == 1 ? "" : "s",
                 r->s->min_requests ? r->s->min_requests : 1);
        return M_INCONCLUSIVE;
    }
    rate = (double)derr / (double)dreq;
    *value = rate;
    fail = rate > r->s->max;
    snprintf(verdict, n,
             "error rate %.4g %% (%" PRIu64 "/%" PRIu64 ") %s %.4g %%: %s",
             rate * 100.0, derr, dreq, fail ? ">" : "<=", r->s->max * 100.0,
             fail ? "failed" : "passed");
    return fail ? M_FAILED : M_PASSED;
}

static enum outcome measure_prometheus(struct run *r, double *value,
                                       char *verdict, size_t n)
{
    long timeout = (long)r->s->interval_ms;
    struct ferr qerr;
    char q[72];
    bool fail;

    if (timeout < QUERY_MIN_MS)
        timeout = QUERY_MIN_MS;
    if (timeout > QUERY_MAX_MS)
        timeout = QUERY_MAX_MS;
    ferr_clear(&qerr);
    if (analysis_prometheus_query(r->s->prometheus, r->s->query, timeout, value,
                                  &qerr)) {
        *value = NAN;
        snprintf(verdict, n, "%s: failed", qerr.msg);
        return M_FAILED;
    }
    quote(r->s->query, q);
    if (isnan(*value)) {
        snprintf(verdict, n, "'%s' = NaN: inconclusive", q);
        return M_INCONCLUSIVE;
    }
    fail = *value > r->s->max;
    snprintf(verdict, n, "'%s' = %.6g %s %.6g: %s", q, *value,
             fail ? ">" : "<=", r->s->max, fail ? "failed" : "passed");
    return fail ? M_FAILED : M_PASSED;
}

enum ferr_code analysis_run(const struct analysis_spec *s,
                            analysis_counters_fn counters, void *cud,
                            analysis_log_fn log, void *lud,
                            enum analysis_result *out, char *why,
                            size_t why_len, struct ferr *err)
{
    struct run r;
    char verdict[VERDICT_MAX];
    unsigned passed = 0;
    unsigned failed = 0;
    unsigned none = 0;
    uint64_t start;

    if (why && why_len)
        why[0] = '\0';
    if (s->kind == ANALYSIS_ERROR_RATE && !counters)
        return ferr_set(err, FERR_INVALID, NULL,
                        "analysis 'error-rate' needs the new version's "
                        "counters");
    if (s->kind == ANALYSIS_PROMETHEUS && (!s->prometheus || !s->query))
        return ferr_set(err, FERR_INVALID, NULL,
                        "analysis 'prometheus' needs a URL and a query");
    memset(&r, 0, sizeof(r));
    r.s = s;
    r.counters = counters;
    r.cud = cud;
    if (s->kind == ANALYSIS_ERROR_RATE) {
        struct ferr cerr;

        /* the baseline; when it cannot be read, the first measurement
         * becomes it */
        ferr_clear(&cerr);
        if (counters(cud, &r.base_req, &r.base_err, &cerr) == FERR_OK)
            r.have_base = true;
    }
    start = now_ms();
    for (unsigned i = 1; i <= s->count; i++) {
        enum outcome o;
        double value;

        pause_until(start + (uint64_t)i * s->interval_ms);
        if (s->kind == ANALYSIS_ERROR_RATE)
            o = measure_error_rate(&r, &value, verdict, sizeof(verdict));
        else
            o = measure_prometheus(&r, &value, verdict, sizeof(verdict));
        if (log)
            log(lud, value, verdict);
        if (o == M_PASSED) {
            passed++;
        } else if (o == M_INCONCLUSIVE) {
            none++;
        } else if (++failed > s->failure_limit) {
            *out = ANALYSIS_FAILED;
            if (why && why_len && s->failure_limit)
                snprintf(why, why_len,
                         "%s (%u failed measurements, limit "
                         "%u)",
                         verdict, failed, s->failure_limit);
            else if (why && why_len)
                snprintf(why, why_len, "%s", verdict);
            return FERR_OK;
        }
    }
    *out = ANALYSIS_PASSED;
    if (why && why_len)
        snprintf(why, why_len,
                 "%u measurement%s: %u passed, %u failed (limit %u), %u "
                 "inconclusive",
                 s->count, s->count == 1 ? "" : "s", passed, failed,
                 s->failure_limit, none);
    return FERR_OK;
}
