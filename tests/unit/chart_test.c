/* chart_test: the SVG charts — nice ticks, gaps in lines, stacked bars,
 * targets, empty and hostile input (NaN, inf, huge values, markup and
 * broken UTF-8 in labels), the buffer limit, and number formats. */
#include <float.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cmocka.h>

#include "web/chart.h"

/* cmocka 1.1.5 has no assert_double_equal */
#define assert_dbl(a, b) assert_dbl_at((a), (b), __FILE__, __LINE__)

static void assert_dbl_at(double a, double b, const char *file, int line)
{
    if (!(fabs(a - b) <= 1e-9 * (fabs(a) + fabs(b) + 1)))
        fail_msg("%s:%d: %.17g != %.17g", file, line, a, b);
}

enum kind { LINE, BARS };

/* The chart as a fresh string the caller frees (fails the test on an
 * error). */
static char *render(enum kind k, const struct chart *c)
{
    struct buf b;

    buf_init(&b, 16u * 1024 * 1024);
    if ((k == LINE ? chart_line(&b, c) : chart_bars(&b, c)) != FERR_OK)
        fail_msg("the chart failed");
    return buf_take(&b, NULL);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = hay; (p = strstr(p, needle)) != NULL; p++)
        n++;
    return n;
}

/* How many @needle there are in the <g> that starts at @g. */
static size_t count_in_group(const char *g, const char *needle)
{
    const char *end = strstr(g, "</g>");
    size_t n = 0;

    for (const char *p = g; (p = strstr(p, needle)) != NULL && p < end; p++)
        n++;
    return n;
}

/* No "nan"/"inf" in any case anywhere (the labels used are safe). */
static void assert_finite_markup(const char *svg)
{
    for (const char *p = svg; *p; p++)
        if (strncasecmp(p, "nan", 3) == 0 || strncasecmp(p, "inf", 3) == 0)
            fail_msg("non-finite number in: %.80s", p > svg + 20 ? p - 20 : p);
}

/* ticks evenly spaced by 1, 2 or 5 times a power of ten, covering
 * [lo, hi], between 2 and CHART_MAX_TICKS of them */
static void check_ticks(double lo, double hi, size_t want)
{
    double t[CHART_MAX_TICKS];
    size_t n = chart_ticks(lo, hi, want, t);
    double step;
    double m;
    double e;

    assert_true(n >= 2 && n <= CHART_MAX_TICKS);
    step = t[1] - t[0];
    assert_true(step > 0 && isfinite(step));
    e = floor(log10(step));
    m = step / pow(10, e);
    if (!(fabs(m - 1) < 1e-6 || fabs(m - 2) < 1e-6 || fabs(m - 5) < 1e-6 ||
          fabs(m - 10) < 1e-6))
        fail_msg("step %.17g for [%g, %g] is not nice", step, lo, hi);
    for (size_t i = 0; i < n; i++) {
        assert_true(isfinite(t[i]));
        if (i > 0)
            assert_dbl(t[i] - t[i - 1], step);
    }
    if (isfinite(lo) && isfinite(hi) && fabs(lo) < 1e16 && fabs(hi) < 1e16) {
        double a = lo < hi ? lo : hi;
        double z = lo < hi ? hi : lo;

        assert_true(t[0] <= a + 1e-9 * fabs(a));
        assert_true(t[n - 1] >= z - 1e-9 * fabs(z));
    }
}

static void test_chart_ticks_are_nice(void **state)
{
    double t[CHART_MAX_TICKS];
    size_t n;

    (void)state;
    n = chart_ticks(0, 97, 6, t);
    assert_int_equal(n, 6);
    for (size_t i = 0; i < n; i++)
        assert_dbl(t[i], 20.0 * (double)i);
    n = chart_ticks(0, 1, 6, t);
    assert_dbl(t[1] - t[0], 0.2);
    assert_dbl(t[n - 1], 1);
    check_ticks(0, 0.003, 6);
    check_ticks(-37, 112, 6);
    check_ticks(3, 4, 2);
    check_ticks(0, 86400 * 3, 6);
}

static void test_chart_ticks_sweep(void **state)
{
    (void)state;
    srand(42);
    for (int i = 0; i < 20000; i++) {
        double lo = (rand() % 2 ? -1 : 1) * pow(10, rand() % 30 - 12) *
                    (rand() / (double)RAND_MAX);
        double hi =
            lo + pow(10, rand() % 30 - 12) * (rand() / (double)RAND_MAX);

        check_ticks(lo, hi, (size_t)(rand() % 14));
    }
}

static void test_chart_ticks_empty_range_widened(void **state)
{
    double t[CHART_MAX_TICKS];
    size_t n;

    (void)state;
    n = chart_ticks(0, 0, 6, t);
    assert_dbl(t[0], 0);
    assert_true(t[n - 1] >= 1);
    n = chart_ticks(5, 5, 6, t);
    assert_true(t[0] < 5 && t[n - 1] > 5);
    n = chart_ticks(-3, -3, 6, t);
    assert_true(t[0] < -3 && t[n - 1] > -3);
}

static void test_chart_ticks_nonfinite_and_reversed(void **state)
{
    double t[CHART_MAX_TICKS];
    size_t n;

    (void)state;
    n = chart_ticks(NAN, INFINITY, 6, t);
    for (size_t i = 0; i < n; i++)
        assert_true(isfinite(t[i]));
    n = chart_ticks(100, 0, 6, t);
    assert_dbl(t[0], 0);
    assert_dbl(t[n - 1], 100);
    n = chart_ticks(-1e300, 1e300, 6, t);
    assert_true(n >= 2 && n <= CHART_MAX_TICKS);
    for (size_t i = 0; i < n; i++)
        assert_true(isfinite(t[i]));
    n = chart_ticks(0, DBL_MAX, 100, t);
    assert_true(n <= CHART_MAX_TICKS);
}

static void test_chart_line_gaps_break_the_path(void **state)
{
    const double v[] = {1, NAN, 3, 4, INFINITY, 2};
    const struct chart_series s = {"lead time", NULL, v};
    const char *const labels[] = {"d1", "d2", "d3", "d4", "d5", "d6"};
    const struct chart c = {"c", "t", CHART_COUNT, labels, 6,
                            &s,  1,   false,       0,      NULL};
    char *svg = render(LINE, &c);
    const char *d = strstr(svg, " d=\"");

    (void)state;
    assert_non_null(d);
    /* three runs: [1], [3 4], [2] */
    assert_int_equal(count(d, "M"), 3);
    assert_int_equal(count(svg, "<circle"), 4);
    assert_null(strstr(svg, "no data"));
    assert_finite_markup(svg);
    free(svg);
}

static void test_chart_line_lone_value_is_a_dot(void **state)
{
    const double v[] = {NAN, 7, NAN};
    const struct chart_series s = {NULL, NULL, v};
    const struct chart c = {NULL, NULL, CHART_COUNT, NULL, 3,
                            &s,   1,    false,       0,    NULL};
    char *svg = render(LINE, &c);

    (void)state;
    assert_int_equal(count(svg, "<circle"), 1);
    assert_non_null(strstr(svg, "cx=\"345.0\""));
    free(svg);
}

static void test_chart_empty_series_says_no_data(void **state)
{
    const double v[] = {NAN, NAN};
    const struct chart_series s = {"x", NULL, v};
    const struct chart none = {"e", "empty", CHART_SECONDS, NULL, 0,
                               &s,  1,       false,         0,    NULL};
    const struct chart gaps = {"g", "gaps", CHART_PERCENT, NULL, 2,
                               &s,  1,      true,          70,   NULL};
    const struct chart noseries = {NULL, NULL, CHART_COUNT, NULL, 5,
                                   NULL, 0,    false,       0,    NULL};
    char *svg;

    (void)state;
    svg = render(LINE, &none);
    assert_non_null(strstr(svg, "no data"));
    assert_non_null(strstr(svg, "viewBox=\"0 0 640 220\""));
    assert_int_equal(count(svg, "<svg"), 1);
    assert_int_equal(count(svg, "</svg>"), 1);
    assert_finite_markup(svg);
    free(svg);
    svg = render(LINE, &gaps);
    assert_non_null(strstr(svg, "no data"));
    assert_non_null(strstr(svg, "target 70 %"));
    assert_int_equal(count(svg, "<circle"), 0);
    free(svg);
    svg = render(BARS, &none);
    assert_non_null(strstr(svg, "no data"));
    free(svg);
    svg = render(BARS, &noseries);
    assert_non_null(strstr(svg, "no data"));
    assert_finite_markup(svg);
    free(svg);
}

static void test_chart_hostile_numbers_stay_finite(void **state)
{
    const double v[] = {NAN,     INFINITY, -INFINITY, DBL_MAX, -DBL_MAX,
                        DBL_MIN, -0.0,     1e300,     5e-324,  42};
    const double w[] = {DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX,
                        DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX, DBL_MAX};
    const struct chart_series s[2] = {{"a", NULL, v}, {"b", NULL, w}};
    const struct chart c = {"h", "huge", CHART_COUNT, NULL,    10,
                            s,   2,      true,        DBL_MAX, NULL};
    const struct chart t = {"h", "huge", CHART_SECONDS, NULL,      10,
                            s,   2,      true,          -INFINITY, NULL};
    char *svg;

    (void)state;
    svg = render(LINE, &c);
    assert_finite_markup(svg);
    free(svg);
    svg = render(BARS, &c);
    assert_finite_markup(svg);
    free(svg);
    svg = render(LINE, &t);
    assert_finite_markup(svg);
    free(svg);
    svg = render(BARS, &t);
    assert_finite_markup(svg);
    free(svg);
}

static void test_chart_huge_values_scale_with_suffix(void **state)
{
    const double v[] = {0, 2.5e6, 5e6};
    const struct chart_series s = {"n", NULL, v};
    const struct chart c = {NULL, NULL, CHART_COUNT, NULL, 3,
                            &s,   1,    false,       0,    NULL};
    char *svg = render(BARS, &c);

    (void)state;
    assert_non_null(strstr(svg, ">5M</text>"));
    assert_non_null(strstr(svg, "<title>n: 2.5M</title>"));
    free(svg);
}

static void test_chart_text_is_escaped(void **state)
{
    const double v[] = {1, 2};
    const struct chart_series s = {"<b>&\"'", "red\" onload=\"x()", v};
    const char *const labels[] = {"<script>alert(1)</script>", "a&b"};
    const struct chart c = {
        "x\"><script>", "<img src=x>", CHART_COUNT, labels, 2, &s, 1, true, 1,
        "</text><svg>"};
    char *svg;

    (void)state;
    for (int k = 0; k < 2; k++) {
        svg = render(k ? BARS : LINE, &c);
        assert_null(strstr(svg, "<script"));
        assert_null(strstr(svg, "<img"));
        assert_null(strstr(svg, "<b>"));
        assert_null(strstr(svg, "onload=\""));
        assert_int_equal(count(svg, "<svg"), 1);
        assert_non_null(strstr(svg, "&lt;script&gt;alert(1)"));
        assert_non_null(strstr(svg, "a&amp;b"));
        assert_non_null(strstr(svg, "&lt;b&gt;&amp;&quot;&#39;"));
        assert_non_null(strstr(svg, "id=\"x&quot;&gt;&lt;script&gt;\""));
        assert_non_null(strstr(svg, "&lt;/text&gt;&lt;svg&gt;"));
        assert_non_null(strstr(svg, "fill=\"redonloadx\""));
        free(svg);
    }
}

static void test_chart_bad_utf8_and_controls_replaced(void **state)
{
    const double v[] = {1};
    const char *const labels[] = {"a\xff\xc0\x80z\x01\x7f\x1b[31m"};
    const struct chart_series s = {"\xe2\x82", NULL, v};
    const struct chart c = {NULL, NULL, CHART_COUNT, labels, 1,
                            &s,   1,    false,       0,      NULL};
    char *svg = render(LINE, &c);

    (void)state;
    assert_non_null(strstr(svg, "a\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbdz"));
    assert_null(strchr(svg, '\x01'));
    assert_null(strchr(svg, '\x1b'));
    assert_null(strchr(svg, '\x7f'));
    assert_null(strstr(svg, "\xff"));
    free(svg);
}

static void test_chart_long_labels_are_clipped(void **state)
{
    char big[4096];
    const double v[] = {1};
    const char *const labels[] = {big};
    const struct chart_series s = {big, NULL, v};
    const struct chart c = {NULL, big, CHART_COUNT, labels, 1,
                            &s,   1,   false,       0,      NULL};
    char *svg;

    (void)state;
    memset(big, 'x', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    svg = render(LINE, &c);
    assert_true(strlen(svg) < 4096);
    assert_non_null(strstr(svg, "x\xe2\x80\xa6"));
    free(svg);
}

static void test_chart_bars_stack_in_order(void **state)
{
    const double ok[] = {2, 0, NAN};
    const double bad[] = {2, 1, 3};
    const struct chart_series s[2] = {{"ok", "#00aa00", ok},
                                      {"failed", "#aa0000", bad}};
    const char *const labels[] = {"mon", "tue", "wed"};
    const struct chart c = {"b", "deploys", CHART_COUNT, labels, 3,
                            s,   2,         false,       0,      NULL};
    char *svg = render(BARS, &c);
    const char *g1 = strstr(svg, "fill=\"#00aa00\">");
    const char *g2 = strstr(svg, "fill=\"#aa0000\">");
    double y1;
    double h1;
    double y2;
    double h2;

    (void)state;
    assert_non_null(g1);
    assert_non_null(g2);
    /* "ok" has one bar (2 on mon; 0 and a gap draw nothing) */
    assert_int_equal(count_in_group(g1, "<rect"), 1);
    assert_int_equal(count_in_group(g2, "<rect"), 3);
    assert_int_equal(sscanf(strstr(g1, "<rect"),
                            "<rect x=\"%*f\" y=\"%lf\" width=\"%*f\" "
                            "height=\"%lf\"",
                            &y1, &h1),
                     2);
    assert_int_equal(sscanf(strstr(g2, "<rect"),
                            "<rect x=\"%*f\" y=\"%lf\" width=\"%*f\" "
                            "height=\"%lf\"",
                            &y2, &h2),
                     2);
    /* mon: failed sits on ok, both the same height */
    assert_true(fabs(y2 + h2 - y1) < 0.11);
    assert_true(fabs(h1 - h2) < 0.11);
    assert_non_null(strstr(svg, "<title>wed \xc2\xb7 failed: 3</title>"));
    assert_non_null(strstr(svg, ">ok</text>"));
    free(svg);
}

static void test_chart_bars_negative_ignored(void **state)
{
    const double v[] = {-5, 3};
    const struct chart_series s = {"x", NULL, v};
    const struct chart c = {NULL, NULL, CHART_COUNT, NULL, 2,
                            &s,   1,    false,       0,    NULL};
    char *svg = render(BARS, &c);

    (void)state;
    assert_int_equal(count_in_group(strstr(svg, "<g class=\"series"), "<rect"),
                     1);
    assert_null(strstr(svg, ">-"));
    free(svg);
}

static void test_chart_target_extends_the_axis(void **state)
{
    const double v[] = {40, 55, 50};
    const struct chart_series s = {"coverage", NULL, v};
    const struct chart c = {"cov", "coverage", CHART_PERCENT, NULL, 3,
                            &s,    1,          true,          70,   NULL};
    char *svg = render(LINE, &c);
    double t[CHART_MAX_TICKS];
    double y;

    (void)state;
    (void)t;
    assert_non_null(strstr(svg, "stroke-dasharray"));
    assert_non_null(strstr(svg, ">target 70 %</text>"));
    /* the axis goes to at least 70 % */
    assert_non_null(strstr(svg, ">80 %</text>"));
    assert_non_null(strstr(svg, ">0 %</text>"));
    /* the dashed line is inside the plot */
    assert_int_equal(sscanf(strstr(svg, "<g class=\"target\">"),
                            "<g class=\"target\"><line x1=\"%*f\" y1=\"%lf\"",
                            &y),
                     1);
    assert_true(y > 28 && y < 190);
    free(svg);
}

static void test_chart_seconds_axis_in_hours(void **state)
{
    const double v[] = {3600, 7200 * 3, NAN, 5400};
    const struct chart_series s = {"lead", NULL, v};
    const struct chart c = {NULL, NULL, CHART_SECONDS, NULL,  4,
                            &s,   1,    true,          86400, "target 1 day"};
    char *svg = render(LINE, &c);

    (void)state;
    assert_non_null(strstr(svg, " h</text>"));
    assert_null(strstr(svg, " s</text>"));
    assert_non_null(strstr(svg, ">target 1 day</text>"));
    assert_non_null(strstr(svg, "<title>lead: 6 h</title>"));
    free(svg);
}

static void test_chart_limit_leaves_buffer(void **state)
{
    const double v[] = {1, 2, 3};
    const struct chart_series s = {"x", NULL, v};
    const struct chart c = {NULL, NULL, CHART_COUNT, NULL, 3,
                            &s,   1,    false,       0,    NULL};
    struct buf b;

    (void)state;
    buf_init(&b, 300);
    assert_int_equal(buf_adds(&b, "<p>"), FERR_OK);
    assert_int_equal(chart_line(&b, &c), FERR_LIMIT);
    assert_int_equal(b.len, 3);
    assert_string_equal(buf_cstr(&b), "<p>");
    assert_int_equal(chart_bars(&b, &c), FERR_LIMIT);
    assert_string_equal(buf_cstr(&b), "<p>");
    buf_release(&b);
}

static void test_chart_too_many_points_or_series(void **state)
{
    static double v[CHART_MAX_POINTS + 1];
    struct chart_series s[CHART_MAX_SERIES + 1];
    struct chart c = {NULL, NULL, CHART_COUNT, NULL, CHART_MAX_POINTS + 1,
                      s,    1,    false,       0,    NULL};
    struct buf b;

    (void)state;
    for (size_t i = 0; i <= CHART_MAX_SERIES; i++)
        s[i] = (struct chart_series){NULL, NULL, v};
    buf_init(&b, 1u << 24);
    assert_int_equal(chart_line(&b, &c), FERR_LIMIT);
    c.n = CHART_MAX_POINTS;
    c.nseries = CHART_MAX_SERIES + 1;
    assert_int_equal(chart_bars(&b, &c), FERR_LIMIT);
    assert_int_equal(b.len, 0);
    c.nseries = CHART_MAX_SERIES;
    assert_int_equal(chart_line(&b, &c), FERR_OK);
    assert_int_equal(count(b.p, "<circle"),
                     CHART_MAX_POINTS * CHART_MAX_SERIES);
    buf_release(&b);
}

static void test_chart_fmt_units(void **state)
{
    char o[64];

    (void)state;
    assert_string_equal(chart_fmt(o, sizeof(o), 1500, CHART_COUNT), "1500");
    assert_string_equal(chart_fmt(o, sizeof(o), 15000, CHART_COUNT), "15k");
    assert_string_equal(chart_fmt(o, sizeof(o), 2.5e6, CHART_COUNT), "2.5M");
    assert_string_equal(chart_fmt(o, sizeof(o), 0.53, CHART_COUNT), "0.53");
    assert_string_equal(chart_fmt(o, sizeof(o), -0.0, CHART_COUNT), "0");
    assert_string_equal(chart_fmt(o, sizeof(o), 1e300, CHART_COUNT), "1000T");
    assert_string_equal(chart_fmt(o, sizeof(o), 72.46, CHART_PERCENT),
                        "72.5 %");
    assert_string_equal(chart_fmt(o, sizeof(o), 45, CHART_SECONDS), "45 s");
    assert_string_equal(chart_fmt(o, sizeof(o), 750, CHART_SECONDS),
                        "12.5 min");
    assert_string_equal(chart_fmt(o, sizeof(o), 7200, CHART_SECONDS), "2 h");
    assert_string_equal(chart_fmt(o, sizeof(o), 259200, CHART_SECONDS), "3 d");
    assert_string_equal(chart_fmt(o, sizeof(o), NAN, CHART_SECONDS),
                        "\xe2\x80\x94");
    assert_string_equal(chart_fmt(o, 4, 123456, CHART_COUNT), "123");
}

static void test_chart_values_from_json(void **state)
{
    json_t *rows = json_loads("[{\"a\":1},{\"a\":null},{\"b\":2},\"x\","
                              "{\"a\":\"3\"},{\"a\":0.5}]",
                              0, NULL);
    double v[8];

    (void)state;
    assert_non_null(rows);
    assert_int_equal(chart_values_json(rows, "a", 100, v, 8), 2);
    assert_dbl(v[0], 100);
    assert_true(isnan(v[1]) && isnan(v[2]) && isnan(v[3]) && isnan(v[4]));
    assert_dbl(v[5], 50);
    assert_true(isnan(v[6]) && isnan(v[7]));
    assert_int_equal(chart_values_json(NULL, "a", 1, v, 2), 0);
    json_decref(rows);
}

static void test_chart_single_point_centred(void **state)
{
    const double v[] = {3};
    const char *const labels[] = {"only"};
    const struct chart_series s = {"x", NULL, v};
    const struct chart c = {NULL, NULL, CHART_COUNT, labels, 1,
                            &s,   1,    false,       0,      NULL};
    char *svg = render(LINE, &c);

    (void)state;
    assert_non_null(strstr(svg, "cx=\"345.0\""));
    assert_non_null(strstr(svg, "x=\"345.0\" y=\"206.0\">only</text>"));
    free(svg);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_chart_ticks_are_nice),
        cmocka_unit_test(test_chart_ticks_sweep),
        cmocka_unit_test(test_chart_ticks_empty_range_widened),
        cmocka_unit_test(test_chart_ticks_nonfinite_and_reversed),
        cmocka_unit_test(test_chart_line_gaps_break_the_path),
        cmocka_unit_test(test_chart_line_lone_value_is_a_dot),
        cmocka_unit_test(test_chart_empty_series_says_no_data),
        cmocka_unit_test(test_chart_hostile_numbers_stay_finite),
        cmocka_unit_test(test_chart_huge_values_scale_with_suffix),
        cmocka_unit_test(test_chart_text_is_escaped),
        cmocka_unit_test(test_chart_bad_utf8_and_controls_replaced),
        cmocka_unit_test(test_chart_long_labels_are_clipped),
        cmocka_unit_test(test_chart_bars_stack_in_order),
        cmocka_unit_test(test_chart_bars_negative_ignored),
        cmocka_unit_test(test_chart_target_extends_the_axis),
        cmocka_unit_test(test_chart_seconds_axis_in_hours),
        cmocka_unit_test(test_chart_limit_leaves_buffer),
        cmocka_unit_test(test_chart_too_many_points_or_series),
        cmocka_unit_test(test_chart_fmt_units),
        cmocka_unit_test(test_chart_values_from_json),
        cmocka_unit_test(test_chart_single_point_centred),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
