/* prom_test: the registry (name and label checks, series on first use,
 * the series cap) and the text exposition, compared byte for byte and
 * read back by a small parser of the format. */
#include <malloc.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "metrics/prom.h"
#include "util/limits.h"

/* cmocka 1.1.5 has no assert_double_equal */
#define assert_dbl(a, b) assert_dbl_at((a), (b), __FILE__, __LINE__)

static void assert_dbl_at(double a, double b, const char *file, int line)
{
    if (!(a == b))
        fail_msg("%s:%d: %.17g != %.17g", file, line, a, b);
}

#define V(...) ((const char *const[]){__VA_ARGS__, NULL})
#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

/* prom_write into a fresh string the caller frees */
static char *write_all(struct prom *r)
{
    struct buf b;
    struct ferr err;

    ferr_clear(&err);
    buf_init(&b, 64u * 1024 * 1024);
    if (prom_write(r, &b, &err))
        fail_msg("prom_write: %s", err.msg);
    return buf_take(&b, NULL);
}

static struct prom_metric *counter(struct prom *r, const char *name,
                                   const char *const *labels)
{
    struct prom_metric *m;
    struct ferr err;

    ferr_clear(&err);
    if (prom_counter(r, name, "help", labels, &m, &err))
        fail_msg("prom_counter '%s': %s", name, err.msg);
    return m;
}

static void test_prom_exposition_exact(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *runs;
    struct prom_metric *queued;
    struct prom_metric *dur;
    static const double b[] = {0.5, 1, 2.5};
    char *text;

    (void)state;
    /* registered out of order: the output is sorted by name */
    assert_int_equal(
        prom_gauge(r, "ferry_runs_queued", "Runs queued.", NULL, &queued, NULL),
        FERR_OK);
    assert_int_equal(prom_histogram(r, "ferry_run_duration_seconds",
                                    "Wall time of runs.", L("repo"), b, 3, &dur,
                                    NULL),
                     FERR_OK);
    assert_int_equal(prom_counter(r, "ferry_runs_total", "Completed runs.",
                                  L("repo", "conclusion"), &runs, NULL),
                     FERR_OK);
    assert_int_equal(prom_inc(runs, V("web", "success"), 1), FERR_OK);
    assert_int_equal(prom_inc(runs, V("api", "success"), 2), FERR_OK);
    assert_int_equal(prom_inc(runs, V("api", "failure"), 1), FERR_OK);
    assert_int_equal(prom_inc(runs, V("web", "success"), 1), FERR_OK);
    assert_int_equal(prom_set(queued, NULL, 3), FERR_OK);
    assert_int_equal(prom_observe(dur, V("api"), 0.25), FERR_OK);
    assert_int_equal(prom_observe(dur, V("api"), 2), FERR_OK);
    text = write_all(r);
    assert_string_equal(
        text, "# HELP ferry_metrics_series_dropped_total Observations dropped "
              "because a metric had too many series.\n"
              "# TYPE ferry_metrics_series_dropped_total counter\n"
              "# HELP ferry_run_duration_seconds Wall time of runs.\n"
              "# TYPE ferry_run_duration_seconds histogram\n"
              "ferry_run_duration_seconds_bucket{repo=\"api\",le=\"0.5\"} 1\n"
              "ferry_run_duration_seconds_bucket{repo=\"api\",le=\"1\"} 1\n"
              "ferry_run_duration_seconds_bucket{repo=\"api\",le=\"2.5\"} 2\n"
              "ferry_run_duration_seconds_bucket{repo=\"api\",le=\"+Inf\"} 2\n"
              "ferry_run_duration_seconds_sum{repo=\"api\"} 2.25\n"
              "ferry_run_duration_seconds_count{repo=\"api\"} 2\n"
              "# HELP ferry_runs_queued Runs queued.\n"
              "# TYPE ferry_runs_queued gauge\n"
              "ferry_runs_queued 3\n"
              "# HELP ferry_runs_total Completed runs.\n"
              "# TYPE ferry_runs_total counter\n"
              "ferry_runs_total{repo=\"api\",conclusion=\"failure\"} 1\n"
              "ferry_runs_total{repo=\"api\",conclusion=\"success\"} 2\n"
              "ferry_runs_total{repo=\"web\",conclusion=\"success\"} 2\n");
    free(text);
    prom_free(r);
}

static void test_prom_unlabelled_series_exist_from_start(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *c;
    struct prom_metric *h;
    static const double b[] = {1};
    char *text;

    (void)state;
    c = counter(r, "a_total", NULL);
    assert_int_equal(prom_histogram(r, "b_seconds", "B.", NULL, b, 1, &h, NULL),
                     FERR_OK);
    assert_int_equal(prom_series_count(c), 1);
    text = write_all(r);
    assert_non_null(strstr(text, "\na_total 0\n"));
    assert_non_null(strstr(text, "\nb_seconds_bucket{le=\"1\"} 0\n"
                                 "b_seconds_bucket{le=\"+Inf\"} 0\n"
                                 "b_seconds_sum 0\n"
                                 "b_seconds_count 0\n"));
    free(text);
    prom_free(r);
}

static void test_prom_label_value_escaping(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m = counter(r, "esc_total", L("v"));
    char *text;

    (void)state;
    assert_int_equal(prom_inc(m, V("a\\b\"c\nd}e,f=g"), 1), FERR_OK);
    text = write_all(r);
    assert_non_null(
        strstr(text, "\nesc_total{v=\"a\\\\b\\\"c\\nd}e,f=g\"} 1\n"));
    free(text);
    prom_free(r);
}

static void test_prom_help_escaping(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m;
    char *text;

    (void)state;
    assert_int_equal(
        prom_gauge(r, "g", "back\\slash \"quoted\"\nnext", NULL, &m, NULL),
        FERR_OK);
    text = write_all(r);
    /* HELP escapes backslash and newline, not the double quote */
    assert_non_null(strstr(text,
                           "# HELP g back\\\\slash \"quoted\"\\nnext\n# TYPE g "
                           "gauge\ng 0\n"));
    free(text);
    prom_free(r);
}

static void test_prom_histogram_bucket_math(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *h;
    static const double b[] = {0.1, 1, 10};
    static const double obs[] = {0.05, 0.1, 0.1000001, 1, 5, 10, 10.5, 1e9};
    double sum = 0;
    double got;
    char *text;

    (void)state;
    assert_int_equal(prom_histogram(r, "h_seconds", "H.", NULL, b, 3, &h, NULL),
                     FERR_OK);
    for (size_t i = 0; i < sizeof(obs) / sizeof(obs[0]); i++) {
        assert_int_equal(prom_observe(h, NULL, obs[i]), FERR_OK);
        sum += obs[i];
    }
    assert_int_equal(prom_observe(h, NULL, NAN), FERR_INVALID);
    text = write_all(r);
    /* le is inclusive: 0.1 is in le="0.1", 10 in le="10"; cumulative */
    assert_non_null(strstr(text, "h_seconds_bucket{le=\"0.1\"} 2\n"
                                 "h_seconds_bucket{le=\"1\"} 4\n"
                                 "h_seconds_bucket{le=\"10\"} 6\n"
                                 "h_seconds_bucket{le=\"+Inf\"} 8\n"));
    assert_non_null(strstr(text, "h_seconds_sum "));
    assert_dbl(strtod(strstr(text, "h_seconds_sum ") + 14, NULL), sum);
    assert_non_null(strstr(text, "h_seconds_count 8\n"));
    assert_int_equal(prom_get(h, NULL, &got), FERR_OK);
    assert_dbl(got, 8);
    free(text);
    prom_free(r);
}

static void test_prom_histogram_negative_and_inf(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *h;
    static const double b[] = {-1, 0, INFINITY};
    char *text;

    (void)state;
    /* a final +Inf bound is accepted and not doubled */
    assert_int_equal(prom_histogram(r, "t", "T.", NULL, b, 3, &h, NULL),
                     FERR_OK);
    assert_int_equal(prom_observe(h, NULL, -5), FERR_OK);
    assert_int_equal(prom_observe(h, NULL, INFINITY), FERR_OK);
    text = write_all(r);
    assert_non_null(strstr(text, "t_bucket{le=\"-1\"} 1\n"
                                 "t_bucket{le=\"0\"} 1\n"
                                 "t_bucket{le=\"+Inf\"} 2\n"
                                 "t_sum +Inf\n"
                                 "t_count 2\n"));
    free(text);
    prom_free(r);
}

static void test_prom_bad_buckets_rejected(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *h;
    static const double same[] = {1, 1};
    static const double down[] = {2, 1};
    static const double nan[] = {1, NAN};
    static const double ninf[] = {-INFINITY, 1};
    double many[PROM_MAX_BUCKETS + 1];
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < PROM_MAX_BUCKETS + 1; i++)
        many[i] = (double)i;
    ferr_clear(&err);
    assert_int_equal(prom_histogram(r, "h", "", NULL, same, 2, &h, &err),
                     FERR_INVALID);
    assert_null(h);
    assert_non_null(strstr(err.msg, "not increasing"));
    assert_int_equal(prom_histogram(r, "h", "", NULL, down, 2, &h, NULL),
                     FERR_INVALID);
    assert_int_equal(prom_histogram(r, "h", "", NULL, nan, 2, &h, NULL),
                     FERR_INVALID);
    assert_int_equal(prom_histogram(r, "h", "", NULL, ninf, 2, &h, NULL),
                     FERR_INVALID);
    assert_int_equal(
        prom_histogram(r, "h", "", NULL, many, PROM_MAX_BUCKETS + 1, &h, NULL),
        FERR_LIMIT);
    assert_int_equal(prom_histogram(r, "h", "", L("le"), same, 1, &h, NULL),
                     FERR_INVALID);
    /* nothing was registered by the failures */
    assert_int_equal(prom_histogram(r, "h", "", NULL, many, 2, &h, NULL),
                     FERR_OK);
    prom_free(r);
}

static void test_prom_label_count_mismatch_rejected(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m = counter(r, "two_total", L("a", "b"));
    struct prom_metric *u = counter(r, "none_total", NULL);
    struct prom_metric *h;
    static const double b[] = {1};
    double got;

    (void)state;
    assert_int_equal(prom_histogram(r, "h", "", L("a"), b, 1, &h, NULL),
                     FERR_OK);
    assert_int_equal(prom_inc(m, V("x"), 1), FERR_INVALID);
    assert_int_equal(prom_inc(m, V("x", "y", "z"), 1), FERR_INVALID);
    assert_int_equal(prom_inc(m, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_inc(u, V("x"), 1), FERR_INVALID);
    assert_int_equal(prom_observe(h, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_observe(h, V("a", "b"), 1), FERR_INVALID);
    assert_int_equal(prom_get(m, V("x"), &got), FERR_INVALID);
    assert_int_equal(prom_series_count(m), 0);
    assert_int_equal(prom_series_count(h), 0);
    /* an empty list is the same as NULL for a metric without labels */
    assert_int_equal(prom_inc(u, (const char *const[]){NULL}, 2), FERR_OK);
    assert_int_equal(prom_get(u, NULL, &got), FERR_OK);
    assert_dbl(got, 2);
    prom_free(r);
}

static void test_prom_wrong_kind_of_update_rejected(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *c = counter(r, "c_total", NULL);
    struct prom_metric *g;
    struct prom_metric *h;
    static const double b[] = {1};
    double got;

    (void)state;
    assert_int_equal(prom_gauge(r, "g", "", NULL, &g, NULL), FERR_OK);
    assert_int_equal(prom_histogram(r, "h", "", NULL, b, 1, &h, NULL), FERR_OK);
    assert_int_equal(prom_inc(c, NULL, -1), FERR_INVALID);
    assert_int_equal(prom_inc(c, NULL, NAN), FERR_INVALID);
    assert_int_equal(prom_set(c, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_observe(c, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_inc(h, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_observe(g, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_inc(NULL, NULL, 1), FERR_INVALID);
    /* gauges go down too */
    assert_int_equal(prom_inc(g, NULL, 5), FERR_OK);
    assert_int_equal(prom_inc(g, NULL, -2), FERR_OK);
    assert_int_equal(prom_get(g, NULL, &got), FERR_OK);
    assert_dbl(got, 3);
    assert_int_equal(prom_get(c, NULL, &got), FERR_OK);
    assert_dbl(got, 0);
    prom_free(r);
}

static void test_prom_bad_names_rejected(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m;
    struct ferr err;
    static const char *const bad_metric[] = {"",  "1abc", "a-b",  "a b",
                                             "é", "a.b",  "ab\n", NULL};
    static const char *const bad_label[] = {"",    "1a", "a:b", "__x",
                                            "a-b", "é",  NULL};

    (void)state;
    for (size_t i = 0; bad_metric[i]; i++) {
        assert_int_equal(prom_gauge(r, bad_metric[i], "", NULL, &m, NULL),
                         FERR_INVALID);
        assert_null(m);
    }
    assert_int_equal(prom_gauge(r, NULL, "", NULL, &m, NULL), FERR_INVALID);
    for (size_t i = 0; bad_label[i]; i++)
        assert_int_equal(prom_gauge(r, "g", "", L(bad_label[i]), &m, NULL),
                         FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(prom_gauge(r, "g", "", L("a", "b", "a"), &m, &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "'a' given twice"));
    assert_int_equal(prom_gauge(r, "g", "",
                                L("a", "b", "c", "d", "e", "f", "g", "h", "i"),
                                &m, NULL),
                     FERR_LIMIT);
    ferr_clear(&err);
    assert_int_equal(prom_counter(r, "runs", "", NULL, &m, &err), FERR_INVALID);
    assert_string_equal(err.msg, "counter 'runs' does not end in '_total'");
    /* the good ones: colons in metric names, one underscore, 8 labels */
    assert_int_equal(prom_gauge(r, "ns:sub_x:y", "", L("_a", "b_1"), &m, NULL),
                     FERR_OK);
    assert_int_equal(prom_gauge(r, "_g", "",
                                L("a", "b", "c", "d", "e", "f", "g", "h"), &m,
                                NULL),
                     FERR_OK);
    ferr_clear(&err);
    assert_int_equal(prom_gauge(r, "_g", "", NULL, &m, &err), FERR_INVALID);
    assert_string_equal(err.msg, "metric '_g' is already registered");
    assert_int_equal(
        prom_counter(r, PROM_SERIES_DROPPED_TOTAL, "", NULL, &m, NULL),
        FERR_INVALID);
    prom_free(r);
}

static void test_prom_series_cap(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m = counter(r, "many_total", L("id"));
    struct prom_metric *other = counter(r, "other_total", L("id"));
    char id[32];
    char *text;
    double got;

    (void)state;
    for (unsigned i = 0; i < LIM_PROM_SERIES; i++) {
        snprintf(id, sizeof(id), "s%u", i);
        assert_int_equal(prom_inc(m, V(id), 1), FERR_OK);
    }
    assert_int_equal(prom_series_count(m), LIM_PROM_SERIES);
    assert_int_equal(prom_inc(m, V("new-1"), 1), FERR_LIMIT);
    assert_int_equal(prom_inc(m, V("new-2"), 1), FERR_LIMIT);
    assert_int_equal(prom_series_count(m), LIM_PROM_SERIES);
    /* existing series still count; other metrics are not affected */
    assert_int_equal(prom_inc(m, V("s7"), 1), FERR_OK);
    assert_int_equal(prom_get(m, V("s7"), &got), FERR_OK);
    assert_dbl(got, 2);
    assert_int_equal(prom_inc(other, V("x"), 1), FERR_OK);
    assert_int_equal(prom_get(m, V("new-1"), &got), FERR_NOTFOUND);
    text = write_all(r);
    assert_non_null(strstr(
        text, "\nferry_metrics_series_dropped_total{metric=\"many_total\"} "
              "2\n"));
    assert_null(strstr(text, "new-1"));
    free(text);
    prom_free(r);
}

static void test_prom_long_and_bad_label_values(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m = counter(r, "v_total", L("v"));
    char big[LIM_PROM_LABEL_VALUE + 50];
    char want[LIM_PROM_LABEL_VALUE + 64];
    char *text;
    double got;

    (void)state;
    /* 'é' (2 bytes) straddling the cap is cut whole */
    memset(big, 'x', sizeof(big));
    big[LIM_PROM_LABEL_VALUE - 1] = (char)0xc3;
    big[LIM_PROM_LABEL_VALUE] = (char)0xa9;
    big[sizeof(big) - 1] = '\0';
    assert_int_equal(prom_inc(m, V(big), 1), FERR_OK);
    big[LIM_PROM_LABEL_VALUE + 10] = 'y';
    assert_int_equal(prom_inc(m, V(big), 1), FERR_OK);
    assert_int_equal(prom_series_count(m), 1);
    assert_int_equal(prom_get(m, V(big), &got), FERR_OK);
    assert_dbl(got, 2);
    /* bytes that are not UTF-8 become '?' */
    assert_int_equal(prom_inc(m,
                              V("a\xff"
                                "b\xc3"),
                              1),
                     FERR_OK);
    assert_int_equal(prom_inc(m, V("a?b?"), 1), FERR_OK);
    assert_int_equal(prom_inc(m, V("caf\xc3\xa9"), 1), FERR_OK);
    text = write_all(r);
    assert_non_null(strstr(text, "v_total{v=\"a?b?\"} 2\n"));
    assert_non_null(strstr(text, "v_total{v=\"caf\xc3\xa9\"} 1\n"));
    memset(want, 'x', LIM_PROM_LABEL_VALUE - 1);
    want[LIM_PROM_LABEL_VALUE - 1] = '\0';
    assert_non_null(strstr(text, want));
    snprintf(want + LIM_PROM_LABEL_VALUE - 1, 8, "\"} 2\n");
    assert_non_null(strstr(text, want));
    free(text);
    prom_free(r);
}

static double fn_value;
static int fn_calls;

static double read_fn(void *ctx)
{
    fn_calls++;
    return *(double *)ctx;
}

static void test_prom_gauge_callback(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m;
    char *text;
    double got;

    (void)state;
    fn_calls = 0;
    fn_value = 4;
    assert_int_equal(prom_gauge_fn(r, "q", "Queue.", NULL, &fn_value, &m, NULL),
                     FERR_INVALID);
    assert_int_equal(
        prom_gauge_fn(r, "q", "Queue.", read_fn, &fn_value, &m, NULL), FERR_OK);
    text = write_all(r);
    assert_non_null(strstr(text, "# TYPE q gauge\nq 4\n"));
    free(text);
    fn_value = 0.5;
    text = write_all(r);
    assert_non_null(strstr(text, "# TYPE q gauge\nq 0.5\n"));
    free(text);
    assert_int_equal(fn_calls, 2);
    assert_int_equal(prom_set(m, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_inc(m, NULL, 1), FERR_INVALID);
    assert_int_equal(prom_get(m, NULL, &got), FERR_OK);
    assert_dbl(got, 0.5);
    assert_int_equal(prom_series_count(m), 1);
    prom_free(r);
}

static void set_info(struct prom *r, void *ctx)
{
    (void)r;
    assert_int_equal(prom_set(ctx, V("1.2.3"), 1), FERR_OK);
}

static void test_prom_on_write_hook(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *info;
    char *text;

    (void)state;
    assert_int_equal(prom_gauge(r, PROM_BUILD_INFO, PROM_BUILD_INFO_HELP,
                                L("version"), &info, NULL),
                     FERR_OK);
    prom_on_write(r, set_info, info);
    text = write_all(r);
    assert_non_null(strstr(text, "\nferry_build_info{version=\"1.2.3\"} 1\n"));
    free(text);
    prom_free(r);
}

static void test_prom_number_formats(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *g;
    char *text;

    (void)state;
    assert_int_equal(prom_gauge(r, "n", "", L("k"), &g, NULL), FERR_OK);
    assert_int_equal(prom_set(g, V("a"), 0.1), FERR_OK);
    assert_int_equal(prom_set(g, V("b"), -3), FERR_OK);
    assert_int_equal(prom_set(g, V("c"), 1e-05), FERR_OK);
    assert_int_equal(prom_set(g, V("d"), 1e20), FERR_OK);
    assert_int_equal(prom_set(g, V("e"), NAN), FERR_OK);
    assert_int_equal(prom_set(g, V("f"), -INFINITY), FERR_OK);
    assert_int_equal(prom_set(g, V("g"), 1.0 / 3), FERR_OK);
    assert_int_equal(prom_set(g, V("h"), 123456789012345.0), FERR_OK);
    text = write_all(r);
    assert_non_null(strstr(text, "n{k=\"a\"} 0.1\n"
                                 "n{k=\"b\"} -3\n"
                                 "n{k=\"c\"} 1e-05\n"
                                 "n{k=\"d\"} 1e+20\n"
                                 "n{k=\"e\"} NaN\n"
                                 "n{k=\"f\"} -Inf\n"
                                 "n{k=\"g\"} 0.33333333333333331\n"
                                 "n{k=\"h\"} 123456789012345\n"));
    free(text);
    prom_free(r);
}

static void test_prom_write_limit_leaves_buffer(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *m = counter(r, "x_total", L("a"));
    struct buf b;
    struct ferr err;

    (void)state;
    assert_int_equal(prom_inc(m, V("some value"), 1), FERR_OK);
    buf_init(&b, 200);
    assert_int_equal(buf_adds(&b, "kept"), FERR_OK);
    ferr_clear(&err);
    assert_int_equal(prom_write(r, &b, &err), FERR_LIMIT);
    assert_int_equal(err.code, FERR_LIMIT);
    assert_int_equal(b.len, 4);
    assert_string_equal(buf_cstr(&b), "kept");
    buf_release(&b);
    buf_init(&b, 4096);
    assert_int_equal(prom_write(r, &b, NULL), FERR_OK);
    assert_true(b.len > 200);
    buf_release(&b);
    prom_free(r);
}

/* ---------- a small reader of the text format ---------- */

struct sample {
    char name[128];
    char lname[PROM_MAX_LABELS + 1][64];
    char lval[PROM_MAX_LABELS + 1][512];
    size_t nl;
    double value;
};

/* Read one sample line; false on anything the format does not allow. */
static bool parse_sample(const char *line, struct sample *s)
{
    const char *p = line;
    size_t n = 0;
    char *end;

    memset(s, 0, sizeof(*s));
    while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || *p == '_' ||
           *p == ':' || (n > 0 && *p >= '0' && *p <= '9')) {
        if (n + 1 >= sizeof(s->name))
            return false;
        s->name[n++] = *p++;
    }
    if (n == 0)
        return false;
    if (*p == '{') {
        p++;
        while (*p != '}') {
            size_t k = 0;

            if (s->nl == PROM_MAX_LABELS + 1)
                return false;
            while ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                   *p == '_' || (k > 0 && *p >= '0' && *p <= '9')) {
                if (k + 1 >= sizeof(s->lname[0]))
                    return false;
                s->lname[s->nl][k++] = *p++;
            }
            if (k == 0 || p[0] != '=' || p[1] != '"')
                return false;
            p += 2;
            k = 0;
            while (*p != '"') {
                char c = *p++;

                if (c == '\0' || c == '\n')
                    return false;
                if (c == '\\') {
                    c = *p++;
                    if (c == 'n')
                        c = '\n';
                    else if (c != '\\' && c != '"')
                        return false;
                }
                if (k + 1 >= sizeof(s->lval[0]))
                    return false;
                s->lval[s->nl][k++] = c;
            }
            p++;
            s->nl++;
            if (*p == ',')
                p++;
            else if (*p != '}')
                return false;
        }
        p++;
    }
    if (*p++ != ' ')
        return false;
    if (!strcmp(p, "+Inf"))
        s->value = INFINITY;
    else if (!strcmp(p, "-Inf"))
        s->value = -INFINITY;
    else if (!strcmp(p, "NaN"))
        s->value = NAN;
    else {
        s->value = strtod(p, &end);
        if (end == p || *end != '\0')
            return false;
    }
    return true;
}

static void test_prom_output_parses_back(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *c = counter(r, "p_total", L("repo", "result"));
    struct prom_metric *h;
    static const double b[] = PROM_BUCKETS_SECONDS;
    static const char *const odd[] = {"plain",       "with space", "q\"uote",
                                      "back\\slash", "new\nline",  "",
                                      "{}=,",        "ünï",        NULL};
    char *text;
    char *line;
    char *nl;
    size_t samples = 0;
    size_t comments = 0;
    double total = 0;
    uint64_t hcount = 0;

    (void)state;
    assert_int_equal(prom_histogram(r, PROM_RUN_DURATION_SECONDS,
                                    PROM_RUN_DURATION_SECONDS_HELP, L("repo"),
                                    b, sizeof(b) / sizeof(b[0]), &h, NULL),
                     FERR_OK);
    for (size_t i = 0; odd[i]; i++)
        for (size_t j = 0; odd[j]; j++) {
            assert_int_equal(prom_inc(c, V(odd[i], odd[j]), (double)(i + j)),
                             FERR_OK);
            assert_int_equal(prom_observe(h, V(odd[i]), (double)j * 0.37),
                             FERR_OK);
        }
    text = write_all(r);
    for (line = text; *line; line = nl + 1) {
        struct sample s;

        nl = strchr(line, '\n');
        assert_non_null(nl); /* every line ends in a newline */
        *nl = '\0';

        if (line[0] == '#') {
            assert_true(!strncmp(line, "# HELP ", 7) ||
                        !strncmp(line, "# TYPE ", 7));
            comments++;
            continue;
        }
        if (!parse_sample(line, &s))
            fail_msg("not a sample line: '%s'", line);
        samples++;
        if (!strcmp(s.name, "p_total")) {
            size_t i = 0;
            size_t j = 0;

            assert_int_equal(s.nl, 2);
            assert_string_equal(s.lname[0], "repo");
            assert_string_equal(s.lname[1], "result");
            while (odd[i] && strcmp(odd[i], s.lval[0]))
                i++;
            while (odd[j] && strcmp(odd[j], s.lval[1]))
                j++;
            assert_non_null(odd[i]);
            assert_non_null(odd[j]);
            assert_dbl(s.value, (double)(i + j));
            total += s.value;
        } else if (!strcmp(s.name, "ferry_run_duration_seconds_count")) {
            assert_dbl(s.value, 8);
            hcount += (uint64_t)s.value;
        } else if (!strcmp(s.name, "ferry_run_duration_seconds_bucket")) {
            assert_int_equal(s.nl, 2);
            assert_string_equal(s.lname[1], "le");
        }
    }
    /* sum over i, j of (i + j), 8 values each */
    assert_dbl(total, 2 * 8 * 28);
    assert_int_equal(hcount, 64);
    /* 64 counter series; 8 histogram series of 16 + 1 + 2 lines */
    assert_int_equal(samples, 64 + 8 * 19);
    assert_int_equal(comments, 6);
    free(text);
    prom_free(r);
}

static void test_prom_no_allocation_per_increment(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *c = counter(r, "a_total", L("repo", "result"));
    struct prom_metric *h;
    static const double b[] = PROM_BUCKETS_SECONDS;
    struct mallinfo2 before;
    struct mallinfo2 after;

    (void)state;
    assert_int_equal(prom_histogram(r, "h", "", L("repo"), b,
                                    sizeof(b) / sizeof(b[0]), &h, NULL),
                     FERR_OK);
    assert_int_equal(prom_inc(c, V("web", "ok"), 1), FERR_OK);
    assert_int_equal(prom_observe(h, V("web"), 1), FERR_OK);
    before = mallinfo2();
    for (int i = 0; i < 10000; i++) {
        assert_int_equal(prom_inc(c, V("web", "ok"), 1), FERR_OK);
        assert_int_equal(prom_observe(h, V("web"), i * 0.01), FERR_OK);
    }
    after = mallinfo2();
    assert_int_equal(before.uordblks, after.uordblks);
    assert_int_equal(prom_series_count(c), 1);
    prom_free(r);
}

static double now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void test_prom_write_is_fast(void **state)
{
    struct prom *r = prom_new();
    struct prom_metric *c =
        counter(r, PROM_RUNS_TOTAL, L("repo", "workflow", "conclusion"));
    struct prom_metric *d =
        counter(r, PROM_DEPLOYMENTS_TOTAL, L("repo", "environment", "result"));
    struct prom_metric *w =
        counter(r, PROM_WEBHOOK_DELIVERIES_TOTAL, L("source", "outcome"));
    struct buf b;
    char repo[32];
    double t0;
    double best = 1e9;

    (void)state;
    for (int i = 0; i < 1000; i++) {
        snprintf(repo, sizeof(repo), "repo-%d", i);
        assert_int_equal(prom_inc(c, V(repo, "ci.yml", "success"), i), FERR_OK);
        assert_int_equal(prom_inc(d, V(repo, "production", "success"), 1),
                         FERR_OK);
        assert_int_equal(prom_inc(w, V(repo, "accepted"), 3), FERR_OK);
    }
    buf_init(&b, 64u * 1024 * 1024);
    for (int k = 0; k < 20; k++) {
        double ms;

        buf_reset(&b);
        t0 = now_ms();
        assert_int_equal(prom_write(r, &b, NULL), FERR_OK);
        ms = now_ms() - t0;
        if (ms < best)
            best = ms;
    }
    /* 3000 series: well under 1 ms in a normal build; sanitizer builds
     * are several times slower, so the bound here is loose */
    printf("# prom_write: 3000 series, %zu bytes, best of 20: %.3f ms\n", b.len,
           best);
    assert_true(best < 10.0);
    buf_release(&b);
    prom_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prom_exposition_exact),
        cmocka_unit_test(test_prom_unlabelled_series_exist_from_start),
        cmocka_unit_test(test_prom_label_value_escaping),
        cmocka_unit_test(test_prom_help_escaping),
        cmocka_unit_test(test_prom_histogram_bucket_math),
        cmocka_unit_test(test_prom_histogram_negative_and_inf),
        cmocka_unit_test(test_prom_bad_buckets_rejected),
        cmocka_unit_test(test_prom_label_count_mismatch_rejected),
        cmocka_unit_test(test_prom_wrong_kind_of_update_rejected),
        cmocka_unit_test(test_prom_bad_names_rejected),
        cmocka_unit_test(test_prom_series_cap),
        cmocka_unit_test(test_prom_long_and_bad_label_values),
        cmocka_unit_test(test_prom_gauge_callback),
        cmocka_unit_test(test_prom_on_write_hook),
        cmocka_unit_test(test_prom_number_formats),
        cmocka_unit_test(test_prom_write_limit_leaves_buffer),
        cmocka_unit_test(test_prom_output_parses_back),
        cmocka_unit_test(test_prom_no_allocation_per_increment),
        cmocka_unit_test(test_prom_write_is_fast),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
