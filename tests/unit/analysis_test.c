/* analysis_test: input parsing; the error-rate analysis from counters fed
 * through the callback; the parser of Prometheus' answers; and instant
 * queries against a real prometheus scraping a static /metrics file that
 * python3's http.server serves (and against a stopped one). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <math.h>

#include "deploy/analysis.h"
#include "testsrv.h"
#include "util/limits.h"

/* ---- parsing the inputs ---- */

static void test_analysis_parse_defaults(void **state)
{
    struct analysis_spec s;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        analysis_spec_parse(&s, NULL, NULL, NULL, NULL, NULL, NULL, NULL, &err),
        FERR_OK);
    assert_int_equal(s.kind, ANALYSIS_ERROR_RATE);
    assert_null(s.prometheus);
    assert_null(s.query);
    assert_true(s.max == 0.05);
    assert_int_equal(s.interval_ms, 1000);
    assert_int_equal(s.count, 5);
    assert_int_equal(s.failure_limit, 0);
    assert_int_equal(s.min_requests, 1);
    analysis_spec_release(&s);
    assert_int_equal(analysis_spec_parse(&s, "error-rate", "", "2%", "500ms",
                                         "10", "2", "20", &err),
                     FERR_OK);
    assert_true(fabs(s.max - 0.02) < 1e-12);
    assert_int_equal(s.interval_ms, 500);
    assert_int_equal(s.count, 10);
    assert_int_equal(s.failure_limit, 2);
    assert_int_equal(s.min_requests, 20);
    analysis_spec_release(&s);
    assert_int_equal(analysis_spec_parse(&s, "prometheus: sum(rate(x[1m]))",
                                         "http://127.0.0.1:9090/", "0.3", "2",
                                         NULL, NULL, NULL, &err),
                     FERR_OK);
    assert_int_equal(s.kind, ANALYSIS_PROMETHEUS);
    assert_string_equal(s.query, "sum(rate(x[1m]))");
    assert_string_equal(s.prometheus, "http://127.0.0.1:9090");
    assert_true(s.max == 0.3);
    assert_int_equal(s.interval_ms, 2000); /* a plain number is seconds */
    analysis_spec_release(&s);
}

static void test_analysis_parse_thresholds(void **state)
{
    struct {
        const char *text;
        double want;
    } ok[] = {{"5%", 0.05}, {"0.05", 0.05},  {"12.5 %", 0.125}, {"250", 250},
              {"-1", -1},   {"1e-3", 0.001}, {" 0 ", 0},        {"100%", 1}};
    const char *bad[] = {"5 percent", "%",   "inf", "nan",  "0x10",
                         "1,5",       "5%%", "--1", "1e999"};
    struct analysis_spec s;
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(analysis_spec_parse(&s, NULL, NULL, ok[i].text, NULL,
                                             NULL, NULL, NULL, &err),
                         FERR_OK);
        assert_true(fabs(s.max - ok[i].want) < 1e-12);
        analysis_spec_release(&s);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char want[128];

        ferr_clear(&err);
        assert_int_equal(analysis_spec_parse(&s, NULL, NULL, bad[i], NULL, NULL,
                                             NULL, NULL, &err),
                         FERR_INVALID);
        snprintf(want, sizeof(want), "input 'analysis-max': bad threshold '%s'",
                 bad[i]);
        if (!strstr(err.msg, want))
            fail_msg("'%s' lacks '%s'", err.msg, want);
        analysis_spec_release(&s);
    }
}

static void test_analysis_parse_errors_name_the_input(void **state)
{
    struct {
        const char *metric, *prom, *max, *interval, *count, *limit, *minreq,
            *want;
    } cases[] = {
        {"x", 0, 0, 0, 0, 0, 0,
         "input 'analysis': unknown metric 'x' (error-rate, "
         "prometheus:QUERY)"},
        {"prometheus:", "http://p:9090", 0, 0, 0, 0, 0,
         "input 'analysis': 'prometheus:' needs a query"},
        {"prometheus:up", NULL, 0, 0, 0, 0, 0,
         "input 'prometheus' is needed by analysis 'prometheus:up'"},
        {"prometheus:up", "p:9090", 0, 0, 0, 0, 0,
         "input 'prometheus': bad URL 'p:9090'"},
        {"prometheus:up", "http://p:9090", 0, 0, 0, 0, "5",
         "input 'analysis-min-requests' applies to analysis 'error-rate' "
         "only"},
        {"error-rate", "http://p:9090", 0, 0, 0, 0, 0,
         "input 'prometheus' is only used by analysis 'prometheus:QUERY'"},
        {0, 0, "5 percent", 0, 0, 0, 0,
         "input 'analysis-max': bad threshold '5 percent'"},
        {0, 0, 0, "1x", 0, 0, 0,
         "input 'analysis-interval': bad duration '1x'"},
        {0, 0, 0, "0", 0, 0, 0,
         "input 'analysis-interval': duration '0' must be more than 0"},
        {0, 0, 0, 0, "0", 0, 0, "input 'analysis-count': bad count '0'"},
        {0, 0, 0, 0, "five", 0, 0, "input 'analysis-count': bad count 'five'"},
        {0, 0, 0, 0, 0, "-1", 0,
         "input 'analysis-failure-limit': bad count '-1'"},
        {0, 0, 0, 0, 0, 0, "1k",
         "input 'analysis-min-requests': bad count '1k'"},
    };
    struct analysis_spec s;
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(analysis_spec_parse(&s, cases[i].metric, cases[i].prom,
                                             cases[i].max, cases[i].interval,
                                             cases[i].count, cases[i].limit,
                                             cases[i].minreq, &err),
                         FERR_INVALID);
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
        analysis_spec_release(&s); /* owned also on error */
    }
}

/* ---- error rate from fed counters ---- */

struct feed {
    const uint64_t (*at)[2]; /* requests, 5xx per call; the first is the
                                baseline */
    size_t n;
    size_t calls;
    size_t fail_call; /* 1-based call that fails; 0: none */
};

static enum ferr_code counters(void *ud, uint64_t *requests,
                               uint64_t *errors_5xx, struct ferr *err)
{
    struct feed *f = ud;
    size_t i = f->calls++;

    if (f->fail_call && f->calls == f->fail_call)
        return ferr_set(err, FERR_IO, NULL, "proxy admin down");
    assert_true(i < f->n);
    *requests = f->at[i][0];
    *errors_5xx = f->at[i][1];
    return FERR_OK;
}

struct seen {
    int n;
    double values[16];
    char verdicts[16][256];
};

static void on_measure(void *ud, double value, const char *verdict)
{
    struct seen *s = ud;

    assert_true(s->n < 16);
    s->values[s->n] = value;
    snprintf(s->verdicts[s->n], sizeof(s->verdicts[0]), "%s", verdict);
    s->n++;
}

static struct analysis_spec rate_spec(unsigned count, unsigned limit,
                                      uint64_t min_requests)
{
    struct analysis_spec s;

    memset(&s, 0, sizeof(s));
    s.kind = ANALYSIS_ERROR_RATE;
    s.max = 0.05;
    s.interval_ms = 10;
    s.count = count;
    s.failure_limit = limit;
    s.min_requests = min_requests;
    return s;
}

static void test_analysis_error_rate_passes(void **state)
{
    static const uint64_t at[][2] = {{0, 0}, {100, 1}, {200, 3}, {300, 8}};
    struct feed f = {at, 4, 0, 0};
    struct analysis_spec s = rate_spec(3, 0, 1);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_FAILED;
    char why[256];
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, counters, &f, on_measure, &seen, &res,
                                  why, sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    assert_int_equal(f.calls, 4);
    assert_int_equal(seen.n, 3);
    assert_true(fabs(seen.values[0] - 0.01) < 1e-12);
    assert_true(fabs(seen.values[1] - 0.02) < 1e-12);
    assert_true(fabs(seen.values[2] - 0.05) < 1e-12); /* == max passes */
    assert_string_equal(seen.verdicts[0],
                        "error rate 1 % (1/100) <= 5 %: passed");
    assert_string_equal(why, "3 measurements: 3 passed, 0 failed (limit 0), "
                             "0 inconclusive");
}

static void test_analysis_error_rate_fails_at_once(void **state)
{
    static const uint64_t at[][2] = {{0, 0}, {40, 5}, {80, 5}, {120, 5}};
    struct feed f = {at, 4, 0, 0};
    struct analysis_spec s = rate_spec(3, 0, 1);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_PASSED;
    char why[256];
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, counters, &f, on_measure, &seen, &res,
                                  why, sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    assert_int_equal(seen.n, 1); /* not after count measurements */
    assert_int_equal(f.calls, 2);
    assert_string_equal(why, "error rate 12.5 % (5/40) > 5 %: failed");
}

/* Judged on what happened in each interval, not since the start. */
static void test_analysis_error_rate_uses_deltas(void **state)
{
    static const uint64_t at[][2] = {{1000, 500}, {1100, 501}, {1200, 502}};
    static const uint64_t bad[][2] = {{1000, 0}, {1100, 0}, {1200, 10}};
    struct feed f = {at, 3, 0, 0};
    struct feed g = {bad, 3, 0, 0};
    struct analysis_spec s = rate_spec(2, 0, 1);
    enum analysis_result res = ANALYSIS_FAILED;
    struct seen seen = {0};
    char why[256];
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    /* 50 % of errors before the analysis began, 1 % during it */
    assert_int_equal(analysis_run(&s, counters, &f, NULL, NULL, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    /* 0.8 % overall, but 10 % in the second interval */
    assert_int_equal(analysis_run(&s, counters, &g, on_measure, &seen, &res,
                                  why, sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    assert_int_equal(seen.n, 2);
    assert_string_equal(why, "error rate 10 % (10/100) > 5 %: failed");
}

static void test_analysis_error_rate_inconclusive(void **state)
{
    /* 5 requests (< 10): inconclusive even at 100 % errors; then the
     * counters go back (a restart): inconclusive, and the next interval
     * counts from there */
    static const uint64_t at[][2] = {
        {0, 0}, {5, 5}, {105, 6}, {3, 3}, {103, 4}};
    struct feed f = {at, 5, 0, 0};
    struct analysis_spec s = rate_spec(4, 0, 10);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_FAILED;
    char why[256];
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, counters, &f, on_measure, &seen, &res,
                                  why, sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    assert_int_equal(seen.n, 4);
    assert_true(isnan(seen.values[0]));
    assert_string_equal(seen.verdicts[0], "error rate inconclusive: 5 "
                                          "requests (fewer than 10)");
    assert_true(fabs(seen.values[1] - 0.01) < 1e-12);
    assert_true(isnan(seen.values[2]));
    assert_non_null(strstr(seen.verdicts[2], "went back"));
    assert_true(fabs(seen.values[3] - 0.01) < 1e-12);
    assert_string_equal(why, "4 measurements: 2 passed, 0 failed (limit 0), "
                             "2 inconclusive");
}

static void test_analysis_error_rate_no_traffic_passes(void **state)
{
    static const uint64_t at[][2] = {{7, 1}, {7, 1}, {7, 1}};
    struct feed f = {at, 3, 0, 0};
    struct analysis_spec s = rate_spec(2, 0, 0);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_FAILED;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        analysis_run(&s, counters, &f, on_measure, &seen, &res, NULL, 0, &err),
        FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    assert_string_equal(seen.verdicts[1], "error rate inconclusive: 0 "
                                          "requests (fewer than 1)");
}

static void test_analysis_failure_limit(void **state)
{
    /* fail, pass, fail, pass */
    static const uint64_t at[][2] = {
        {0, 0}, {100, 10}, {200, 10}, {300, 20}, {400, 20}};
    struct analysis_spec s = rate_spec(4, 1, 1);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_PASSED;
    char why[256];
    struct ferr err;
    struct feed f = {at, 5, 0, 0};
    struct feed g = {at, 5, 0, 0};

    (void)state;
    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, counters, &f, on_measure, &seen, &res,
                                  why, sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    assert_int_equal(seen.n, 3); /* the second failure decides */
    assert_string_equal(why, "error rate 10 % (10/100) > 5 %: failed (2 "
                             "failed measurements, limit 1)");
    s.failure_limit = 2;
    assert_int_equal(analysis_run(&s, counters, &g, NULL, NULL, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    assert_string_equal(why, "4 measurements: 2 passed, 2 failed (limit 2), "
                             "0 inconclusive");
}

static void test_analysis_counters_error_fails_measurement(void **state)
{
    static const uint64_t at[][2] = {{0, 0}, {100, 0}, {200, 0}};
    struct feed f = {at, 3, 0, 2}; /* the first measurement cannot read */
    struct analysis_spec s = rate_spec(2, 0, 1);
    enum analysis_result res = ANALYSIS_PASSED;
    char why[256];
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, counters, &f, NULL, NULL, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    assert_string_equal(why, "cannot read the counters: proxy admin down: "
                             "failed");
}

static void test_analysis_error_rate_needs_counters(void **state)
{
    struct analysis_spec s = rate_spec(2, 0, 1);
    enum analysis_result res;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        analysis_run(&s, NULL, NULL, NULL, NULL, &res, NULL, 0, &err),
        FERR_INVALID);
}

/* ---- the parser ---- */

static enum ferr_code parse_text(const char *text, double *v, struct ferr *err)
{
    ferr_clear(err);
    return analysis_parse_prometheus(text, strlen(text), v, err);
}

static void test_analysis_parse_prometheus_values(void **state)
{
    struct {
        const char *body;
        double want;
    } ok[] = {
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
         "\"result\":[{\"metric\":{\"job\":\"a\"},\"value\":[1700000000.1,"
         "\"0.125\"]},{\"metric\":{},\"value\":[1,\"9\"]}]}}",
         0.125},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1700000000,\"42\"]},\"warnings\":[\"w\"]}",
         42},
        {"{\"data\":{\"result\":[1,\"1e+06\"],\"resultType\":\"scalar\"},"
         "\"status\":\"success\"}",
         1e6},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,\"-0.5\"]}}",
         -0.5},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,3.5]}}",
         3.5},
    };
    struct ferr err;
    double v;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        assert_int_equal(parse_text(ok[i].body, &v, &err), FERR_OK);
        assert_true(v == ok[i].want);
    }
}

static void test_analysis_parse_prometheus_special_values(void **state)
{
    const char *fmt = "{\"status\":\"success\",\"data\":{\"resultType\":"
                      "\"vector\",\"result\":[{\"metric\":{},\"value\":[1,"
                      "\"%s\"]}]}}";
    char body[256];
    struct ferr err;
    double v;

    (void)state;
    snprintf(body, sizeof(body), fmt, "NaN");
    assert_int_equal(parse_text(body, &v, &err), FERR_OK);
    assert_true(isnan(v));
    snprintf(body, sizeof(body), fmt, "+Inf");
    assert_int_equal(parse_text(body, &v, &err), FERR_OK);
    assert_true(isinf(v) && v > 0);
    snprintf(body, sizeof(body), fmt, "Inf");
    assert_int_equal(parse_text(body, &v, &err), FERR_OK);
    assert_true(isinf(v) && v > 0);
    snprintf(body, sizeof(body), fmt, "-Inf");
    assert_int_equal(parse_text(body, &v, &err), FERR_OK);
    assert_true(isinf(v) && v < 0);
    /* not Prometheus' spelling */
    snprintf(body, sizeof(body), fmt, "nan");
    assert_int_equal(parse_text(body, &v, &err), FERR_PARSE);
    assert_true(isnan(v));
    assert_string_equal(err.msg, "bad sample value 'nan'");
    snprintf(body, sizeof(body), fmt, "infinity");
    assert_int_equal(parse_text(body, &v, &err), FERR_PARSE);
    snprintf(body, sizeof(body), fmt, "0x10");
    assert_int_equal(parse_text(body, &v, &err), FERR_PARSE);
    snprintf(body, sizeof(body), fmt, "");
    assert_int_equal(parse_text(body, &v, &err), FERR_PARSE);
    snprintf(body, sizeof(body), fmt, "1 ");
    assert_int_equal(parse_text(body, &v, &err), FERR_PARSE);
}

static void test_analysis_parse_prometheus_errors(void **state)
{
    struct {
        const char *body;
        enum ferr_code code;
        const char *want;
    } cases[] = {
        {"{\"status\":\"error\",\"errorType\":\"bad_data\",\"error\":"
         "\"1:5: parse error: unclosed left parenthesis\"}",
         FERR_IO,
         "prometheus answered an error: bad_data: 1:5: parse error: "
         "unclosed left parenthesis"},
        {"{\"status\":\"error\"}", FERR_IO,
         "prometheus answered an error: (no message)"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
         "\"result\":[]}}",
         FERR_NOTFOUND, "the answer holds no sample"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"matrix\","
         "\"result\":[{\"metric\":{},\"values\":[[1,\"1\"]]}]}}",
         FERR_PARSE, "resultType 'matrix' is not one value"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"string\","
         "\"result\":[1,\"x\"]}}",
         FERR_PARSE, "resultType 'string' is not one value"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
         "\"result\":[{\"metric\":{},\"histogram\":[1,{\"count\":\"2\"}]}]}}",
         FERR_PARSE, "native histogram"},
        {"<html>502 Bad Gateway</html>", FERR_PARSE,
         "the answer is not Prometheus' JSON"},
        {"", FERR_PARSE, "the answer is not Prometheus' JSON"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\"",
         FERR_PARSE, "the answer is not Prometheus' JSON"},
        {"[1,2]", FERR_PARSE, "no \"status\""},
        {"{\"status\":7}", FERR_PARSE, "no \"status\""},
        {"{\"status\":\"pending\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,\"1\"]}}",
         FERR_PARSE, "no successful \"data\""},
        {"{\"status\":\"success\"}", FERR_PARSE, "no successful \"data\""},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
         "\"result\":{}}}",
         FERR_PARSE, "a vector that is not an array"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
         "\"result\":[7]}}",
         FERR_PARSE, "a series that is not an object"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"vector\","
         "\"result\":[{\"metric\":{}}]}}",
         FERR_PARSE, "a sample is not [time, \"value\"]"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,\"2\",3]}}",
         FERR_PARSE, "a sample is not [time, \"value\"]"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[\"1\",\"2\"]}}",
         FERR_PARSE, "a sample is not [time, \"value\"]"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,null]}}",
         FERR_PARSE, "bad sample value '(not a string)'"},
        {"{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\","
         "\"result\":[1,\"\\u0000\"]}}",
         FERR_PARSE, "the answer is not Prometheus' JSON"},
    };
    struct ferr err;
    double v;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        v = 1;
        assert_int_equal(parse_text(cases[i].body, &v, &err), cases[i].code);
        assert_true(isnan(v));
        if (!strstr(err.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, err.msg, cases[i].want);
    }
}

static void test_analysis_parse_prometheus_limits(void **state)
{
    size_t n = (size_t)LIM_PROM_ANSWER + 1;
    char *big = malloc(n);
    char *deep = malloc(100001);
    struct ferr err;
    double v;

    (void)state;
    assert_non_null(big);
    assert_non_null(deep);
    memset(big, ' ', n);
    ferr_clear(&err);
    assert_int_equal(analysis_parse_prometheus(big, n, &v, &err), FERR_LIMIT);
    /* deep nesting is refused by jansson, not a stack overflow */
    memset(deep, '[', 100000);
    deep[100000] = '\0';
    assert_int_equal(parse_text(deep, &v, &err), FERR_PARSE);
    /* not NUL-terminated, and bytes past @len are not read */
    memcpy(big, "{\"status\":\"error\",\"error\":\"x\"}garbage", 37);
    ferr_clear(&err);
    assert_int_equal(analysis_parse_prometheus(big, 30, &v, &err), FERR_IO);
    free(big);
    free(deep);
}

/* ---- a real prometheus ---- */

struct prom {
    char dir[64];
    char base[64];
    pid_t web;  /* python3 -m http.server with metrics */
    pid_t prom; /* prometheus */
    unsigned web_port;
};

static const char metrics[] =
    "# HELP bad_requests_ratio share of failed requests\n"
    "# TYPE bad_requests_ratio gauge\n"
    "bad_requests_ratio 0.125\n"
    "# TYPE good_requests_ratio gauge\n"
    "good_requests_ratio 0.01\n";

static bool write_file(const char *path, const char *text)
{
    FILE *fp = fopen(path, "w");
    bool ok;

    if (!fp)
        return false;
    ok = fputs(text, fp) >= 0;
    return fclose(fp) == 0 && ok;
}

static pid_t start_web(const char *dir, unsigned *port)
{
    char *argv[] = {
        TESTSRV_PYTHON, "-u",        "-m",          "http.server", "0",
        "--bind",       "127.0.0.1", "--directory", (char *)dir,   NULL};
    char line[256];
    const char *p;
    int fd = -1;
    pid_t pid = testsrv_spawn(argv, &fd, NULL);
    bool ok;

    *port = 0;
    if (pid < 0)
        return -1;
    /* "Serving HTTP on 127.0.0.1 port 41517 (http://…) ..." */
    ok = testsrv_read_line(fd, line, sizeof(line), 15000);
    close(fd);
    p = ok ? strstr(line, " port ") : NULL;
    if (p)
        *port = (unsigned)strtoul(p + 6, NULL, 10);
    if (!*port)
        testsrv_stop(&pid);
    return pid;
}

/* Start prometheus scraping 127.0.0.1:@web_port on a free port; wait
 * until @ready_query has an answer.  A port taken between the pick and
 * the bind: try another. */
static bool start_prom(struct prom *p, unsigned web_port,
                       const char *ready_query)
{
    char cfg[128];
    char text[512];
    char flag_cfg[160];
    char flag_data[160];
    char flag_listen[64];
    char log_path[128];

    snprintf(cfg, sizeof(cfg), "%s/prometheus.yml", p->dir);
    snprintf(text, sizeof(text),
             "global: {scrape_interval: 1s, evaluation_interval: 1s}\n"
             "scrape_configs:\n"
             "  - job_name: app\n"
             "    static_configs: [{targets: ['127.0.0.1:%u']}]\n",
             web_port);
    if (!write_file(cfg, text))
        return false;
    snprintf(log_path, sizeof(log_path), "%s/prometheus.log", p->dir);
    for (int attempt = 0; attempt < 3; attempt++) {
        unsigned port = testsrv_free_port();
        char *argv[] = {"/usr/bin/prometheus", flag_cfg, flag_data, flag_listen,
                        NULL};
        long long end = testsrv_now_ms() + 30000;

        snprintf(flag_cfg, sizeof(flag_cfg), "--config.file=%s", cfg);
        snprintf(flag_data, sizeof(flag_data), "--storage.tsdb.path=%s/data%d",
                 p->dir, attempt);
        snprintf(flag_listen, sizeof(flag_listen),
                 "--web.listen-address=127.0.0.1:%u", port);
        snprintf(p->base, sizeof(p->base), "http://127.0.0.1:%u", port);
        p->prom = testsrv_spawn(argv, NULL, log_path);
        if (p->prom < 0)
            return false;
        while (testsrv_now_ms() < end) {
            struct ferr err;
            double v;

            ferr_clear(&err);
            if (analysis_prometheus_query(p->base, ready_query, 1000, &v,
                                          &err) == FERR_OK)
                return true;
            if (waitpid(p->prom, NULL, WNOHANG) == p->prom) {
                p->prom = -1; /* it exited (port taken?) */
                break;
            }
            testsrv_pause_ms(100);
        }
        testsrv_stop(&p->prom);
    }
    return false;
}

static bool have_prometheus(void)
{
    if (access("/usr/bin/prometheus", X_OK) == 0)
        return true;
    fprintf(stderr, "# prometheus is not installed (apt-get install "
                    "--no-install-recommends prometheus)\n");
    return false;
}

/* One prometheus for the tests that query the scraped file: its first
 * scrape comes ~5 s after it starts (the scrape manager applies targets
 * on a 5 s tick), too slow to pay per test.  Started by the first test
 * that needs it, stopped by the group's teardown (which cmocka runs also
 * after failed tests). */
static struct prom shared = {"", "", -1, -1, 0};

static int setup_prom(void **state)
{
    char path[128];

    *state = &shared;
    if (shared.prom > 0)
        return 0;
    if (!have_prometheus())
        return -1;
    if (!shared.dir[0] && !testsrv_tmpdir(shared.dir, sizeof(shared.dir)))
        return -1;
    snprintf(path, sizeof(path), "%s/metrics", shared.dir);
    if (!write_file(path, metrics))
        return -1;
    if (shared.web < 0)
        shared.web = start_web(shared.dir, &shared.web_port);
    if (shared.web < 0)
        return -1;
    return start_prom(&shared, shared.web_port, "bad_requests_ratio") ? 0 : -1;
}

static int teardown_shared(void **state)
{
    (void)state;
    testsrv_stop(&shared.prom);
    testsrv_stop(&shared.web);
    testsrv_rmtree(shared.dir);
    shared.dir[0] = '\0';
    return 0;
}

/* A prometheus of the test's own, ready once it answers "vector(1)"
 * (no scrape needed), for the test that stops it. */
static int setup_own_prom(void **state)
{
    struct prom *p = calloc(1, sizeof(*p));

    if (!p)
        return -1;
    p->web = -1;
    p->prom = -1;
    *state = p;
    if (!have_prometheus() || !testsrv_tmpdir(p->dir, sizeof(p->dir)))
        return -1;
    return start_prom(p, testsrv_free_port(), "vector(1)") ? 0 : -1;
}

static int teardown_own_prom(void **state)
{
    struct prom *p = *state;

    if (!p)
        return 0;
    testsrv_stop(&p->prom);
    testsrv_stop(&p->web);
    testsrv_rmtree(p->dir);
    free(p);
    return 0;
}

static struct analysis_spec prom_spec(struct prom *p, const char *query,
                                      double max)
{
    struct analysis_spec s;

    memset(&s, 0, sizeof(s));
    s.kind = ANALYSIS_PROMETHEUS;
    s.prometheus = p->base;
    s.query = (char *)query;
    s.max = max;
    s.interval_ms = 100;
    s.count = 2;
    return s;
}

static void test_analysis_prometheus_query(void **state)
{
    struct prom *p = *state;
    struct ferr err;
    double v = 0;

    ferr_clear(&err);
    assert_int_equal(analysis_prometheus_query(p->base, "bad_requests_ratio",
                                               2000, &v, &err),
                     FERR_OK);
    assert_true(v == 0.125);
    /* a scalar, and characters that need escaping in the URL */
    assert_int_equal(analysis_prometheus_query(
                         p->base,
                         "scalar(bad_requests_ratio{job=\"app\"}) * 2 + 0",
                         2000, &v, &err),
                     FERR_OK);
    assert_true(v == 0.25);
    assert_int_equal(analysis_prometheus_query(p->base, "0/0", 2000, &v, &err),
                     FERR_OK);
    assert_true(isnan(v));
    assert_int_equal(
        analysis_prometheus_query(p->base, "no_such_metric", 2000, &v, &err),
        FERR_NOTFOUND);
    assert_string_equal(err.msg, "query 'no_such_metric' returned no sample");
    ferr_clear(&err);
    assert_int_equal(
        analysis_prometheus_query(p->base, "rate(", 2000, &v, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "query 'rate(': prometheus answered an "
                                    "error: bad_data: "));
    assert_true(isnan(v));
    ferr_clear(&err);
    assert_int_equal(analysis_prometheus_query("ftp://x", "up", 2000, &v, &err),
                     FERR_INVALID);
}

static void test_analysis_prometheus_passes(void **state)
{
    struct prom *p = *state;
    struct analysis_spec s = prom_spec(p, "bad_requests_ratio", 0.2);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_FAILED;
    char why[256];
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, NULL, NULL, on_measure, &seen, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    assert_int_equal(seen.n, 2);
    assert_true(seen.values[0] == 0.125);
    assert_string_equal(seen.verdicts[0],
                        "'bad_requests_ratio' = 0.125 <= 0.2: passed");
}

static void test_analysis_prometheus_fails(void **state)
{
    struct prom *p = *state;
    struct analysis_spec s = prom_spec(p, "bad_requests_ratio", 0.05);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_PASSED;
    char why[256];
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, NULL, NULL, on_measure, &seen, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    assert_int_equal(seen.n, 1);
    assert_string_equal(why, "'bad_requests_ratio' = 0.125 > 0.05: failed");
}

static void test_analysis_prometheus_no_sample(void **state)
{
    struct prom *p = *state;
    struct analysis_spec s = prom_spec(p, "no_such_ratio", 0.05);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_PASSED;
    char why[256];
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, NULL, NULL, on_measure, &seen, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    assert_true(isnan(seen.values[0]));
    assert_string_equal(why,
                        "query 'no_such_ratio' returned no sample: failed");
}

static void test_analysis_prometheus_nan_inconclusive(void **state)
{
    struct prom *p = *state;
    struct analysis_spec s = prom_spec(p, "bad_requests_ratio / 0 * 0", 0.05);
    struct seen seen = {0};
    enum analysis_result res = ANALYSIS_FAILED;
    char why[256];
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(analysis_run(&s, NULL, NULL, on_measure, &seen, &res, why,
                                  sizeof(why), &err),
                     FERR_OK);
    assert_int_equal(res, ANALYSIS_PASSED);
    assert_string_equal(seen.verdicts[0],
                        "'bad_requests_ratio / 0 * 0' = NaN: inconclusive");
    assert_string_equal(why, "2 measurements: 0 passed, 0 failed (limit 0), "
                             "2 inconclusive");
}

static void test_analysis_prometheus_down(void **state)
{
    struct prom *p = *state;
    struct analysis_spec s = prom_spec(p, "bad_requests_ratio", 0.2);
    enum analysis_result res = ANALYSIS_PASSED;
    char why[256];
    char want[128];
    struct ferr err;

    /* it answered a moment ago (setup); now it is stopped */
    testsrv_stop(&p->prom);
    ferr_clear(&err);
    assert_int_equal(
        analysis_run(&s, NULL, NULL, NULL, NULL, &res, why, sizeof(why), &err),
        FERR_OK);
    assert_int_equal(res, ANALYSIS_FAILED);
    snprintf(want, sizeof(want), "query 'bad_requests_ratio': cannot reach %s",
             p->base);
    assert_non_null(strstr(why, want));
    assert_non_null(strstr(why, "Connection refused: failed"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_analysis_parse_defaults),
        cmocka_unit_test(test_analysis_parse_thresholds),
        cmocka_unit_test(test_analysis_parse_errors_name_the_input),
        cmocka_unit_test(test_analysis_error_rate_passes),
        cmocka_unit_test(test_analysis_error_rate_fails_at_once),
        cmocka_unit_test(test_analysis_error_rate_uses_deltas),
        cmocka_unit_test(test_analysis_error_rate_inconclusive),
        cmocka_unit_test(test_analysis_error_rate_no_traffic_passes),
        cmocka_unit_test(test_analysis_failure_limit),
        cmocka_unit_test(test_analysis_counters_error_fails_measurement),
        cmocka_unit_test(test_analysis_error_rate_needs_counters),
        cmocka_unit_test(test_analysis_parse_prometheus_values),
        cmocka_unit_test(test_analysis_parse_prometheus_special_values),
        cmocka_unit_test(test_analysis_parse_prometheus_errors),
        cmocka_unit_test(test_analysis_parse_prometheus_limits),
        cmocka_unit_test_setup(test_analysis_prometheus_query, setup_prom),
        cmocka_unit_test_setup(test_analysis_prometheus_passes, setup_prom),
        cmocka_unit_test_setup(test_analysis_prometheus_fails, setup_prom),
        cmocka_unit_test_setup(test_analysis_prometheus_no_sample, setup_prom),
        cmocka_unit_test_setup(test_analysis_prometheus_nan_inconclusive,
                               setup_prom),
        cmocka_unit_test_setup_teardown(test_analysis_prometheus_down,
                                        setup_own_prom, teardown_own_prom),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    /* the group teardown stops the shared prometheus */
    return cmocka_run_group_tests(tests, NULL, teardown_shared);
}
