/* cron_test: parsing (every syntax form and every rejection), Vixie's
 * day-of-month / day-of-week rule, cron_matches and cron_next on known
 * dates. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pipeline/cron.h"

/* 2026-11-22T02:00:00Z etc., via the C library as an independent check */
static time_t ts(int y, int mo, int d, int h, int mi)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    return timegm(&tm);
}

static struct cron parse_ok(const char *src)
{
    struct cron c;
    struct ferr err;

    ferr_clear(&err);
    if (cron_parse(span_cstr(src), NULL, &c, &err) != FERR_OK)
        fail_msg("cron '%s' rejected: %s", src, err.msg);
    return c;
}

static enum ferr_code parse_err(const char *src, struct ferr *err)
{
    struct cron c;
    struct pos pos = { "wf.yml", 7, 13 };

    ferr_clear(err);
    return cron_parse(span_cstr(src), &pos, &c, err);
}

static void test_cron_star_fields(void **state)
{
    struct cron c = parse_ok("* * * * *");

    (void)state;
    assert_true(c.minute == (1ull << 60) - 1);
    assert_int_equal(c.hour, (1u << 24) - 1);
    assert_int_equal(c.mday, 0xfffffffeu);
    assert_int_equal(c.month, 0x1ffe);
    assert_int_equal(c.wday, 0x7f);
    assert_true(c.mday_star);
    assert_true(c.wday_star);
}

static void test_cron_single_values(void **state)
{
    struct cron c = parse_ok("5 4 3 2 1");

    (void)state;
    assert_true(c.minute == 1ull << 5);
    assert_int_equal(c.hour, 1u << 4);
    assert_int_equal(c.mday, 1u << 3);
    assert_int_equal(c.month, 1u << 2);
    assert_int_equal(c.wday, 1u << 1);
    assert_false(c.mday_star);
    assert_false(c.wday_star);
}

static void test_cron_lists_and_ranges(void **state)
{
    struct cron c = parse_ok("0,30 9-17 1,15 * 1-5");

    (void)state;
    assert_true(c.minute == ((1ull << 0) | (1ull << 30)));
    assert_int_equal(c.hour, 0x3fe00u);
    assert_int_equal(c.mday, (1u << 1) | (1u << 15));
    assert_int_equal(c.wday, 0x3e);
}

static void test_cron_steps(void **state)
{
    struct cron c = parse_ok("*/15 0-12/6 */10 1-12/3 *");

    (void)state;
    assert_true(c.minute ==
                ((1ull << 0) | (1ull << 15) | (1ull << 30) | (1ull << 45)));
    assert_int_equal(c.hour, (1u << 0) | (1u << 6) | (1u << 12));
    assert_int_equal(c.mday, (1u << 1) | (1u << 11) | (1u << 21) |
                                 (1u << 31));
    assert_int_equal(c.month, (1u << 1) | (1u << 4) | (1u << 7) |
                                  (1u << 10));
    assert_true(c.mday_star); /* '*' with a step still counts as '*' */
}

static void test_cron_value_slash_step_runs_to_max(void **state)
{
    struct cron c = parse_ok("5/20 22/1 * * *");

    (void)state;
    assert_true(c.minute == ((1ull << 5) | (1ull << 25) | (1ull << 45)));
    assert_int_equal(c.hour, (1u << 22) | (1u << 23));
}

static void test_cron_names_case_insensitive(void **state)
{
    struct cron c = parse_ok("0 0 * jan,Jul,DEC Mon-fri");
    struct cron d = parse_ok("0 0 * * sun,SAT");

    (void)state;
    assert_int_equal(c.month, (1u << 1) | (1u << 7) | (1u << 12));
    assert_int_equal(c.wday, 0x3e);
    assert_int_equal(d.wday, (1u << 0) | (1u << 6));
}

static void test_cron_wday_seven_is_sunday(void **state)
{
    struct cron c = parse_ok("0 0 * * 7");
    struct cron r = parse_ok("0 0 * * 5-7");

    (void)state;
    assert_int_equal(c.wday, 1u << 0);
    assert_int_equal(r.wday, (1u << 0) | (1u << 5) | (1u << 6));
}

static void test_cron_whitespace_tolerated(void **state)
{
    struct cron c = parse_ok("  0\t2  * *   *  ");

    (void)state;
    assert_true(c.minute == 1ull);
    assert_int_equal(c.hour, 1u << 2);
}

static void test_cron_rejects_field_count(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err("0 0 * *", &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "4 fields, expected 5"));
    assert_int_equal(parse_err("0 0 0 * * *", &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "6 fields"));
    assert_int_equal(parse_err("", &err), FERR_PARSE);
    assert_int_equal(parse_err("   ", &err), FERR_PARSE);
    assert_int_equal(parse_err("@daily", &err), FERR_PARSE);
}

static void test_cron_rejects_unknown_name_with_position(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err("0 0 * * MOX", &err), FERR_PARSE);
    assert_non_null(
        strstr(err.msg, "invalid day-of-week 'MOX' in cron '0 0 * * MOX'"));
    assert_string_equal(err.pos.file, "wf.yml");
    assert_int_equal(err.pos.line, 7);
    assert_int_equal(err.pos.col, 13 + 8);
}

static void test_cron_rejects_out_of_range(void **state)
{
    static const char *const bad[] = { "60 * * * *", "* 24 * * *",
                                       "* * 0 * *", "* * 32 * *",
                                       "* * * 0 *", "* * * 13 *",
                                       "* * * * 8", "99999999999 * * * *" };
    static const char *const field[] = { "minute", "hour", "day-of-month",
                                         "day-of-month", "month", "month",
                                         "day-of-week", "minute" };
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        assert_int_equal(parse_err(bad[i], &err), FERR_PARSE);
        assert_non_null(strstr(err.msg, field[i]));
        assert_non_null(strstr(err.msg, "out of range"));
    }
}

static void test_cron_rejects_reversed_range(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err("0 17-9 * * *", &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "invalid hour '17-9'"));
    assert_non_null(strstr(err.msg, "reversed range"));
    assert_int_equal(err.pos.col, 13 + 2);
    assert_int_equal(parse_err("0 0 * * FRI-MON", &err), FERR_PARSE);
}

static void test_cron_rejects_bad_steps(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err("*/0 * * * *", &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "step must be at least 1"));
    assert_int_equal(parse_err("*/ * * * *", &err), FERR_PARSE);
    assert_int_equal(parse_err("*/x * * * *", &err), FERR_PARSE);
    assert_int_equal(parse_err("*/61 * * * *", &err), FERR_PARSE);
    assert_int_equal(parse_err("1-5/2/2 * * * *", &err), FERR_PARSE);
}

static void test_cron_rejects_junk(void **state)
{
    static const char *const bad[] = { "1x * * * *", "* * * * MONDAY",
                                       "1,,2 * * * *", "1, * * * *",
                                       "-1 * * * *", "** * * * *",
                                       "* * * JAN- *", "? * * * *",
                                       "* * L * *", "0 0 * * 1#2" };
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(parse_err(bad[i], &err), FERR_PARSE);
}

static void test_cron_rejects_names_in_numeric_fields(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err("0 0 MON * *", &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "invalid day-of-month 'MON'"));
    assert_int_equal(parse_err("0 0 * SUN *", &err), FERR_PARSE);
}

static void test_cron_matches_simple(void **state)
{
    struct cron c = parse_ok("30 4 * * *");

    (void)state;
    assert_true(cron_matches(&c, ts(2026, 3, 1, 4, 30)));
    assert_true(cron_matches(&c, ts(2026, 3, 1, 4, 30) + 59));
    assert_false(cron_matches(&c, ts(2026, 3, 1, 4, 31)));
    assert_false(cron_matches(&c, ts(2026, 3, 1, 5, 30)));
}

static void test_cron_vixie_or_when_both_restricted(void **state)
{
    /* the 1st of the month OR a Monday */
    struct cron c = parse_ok("0 0 1 * MON");

    (void)state;
    assert_true(cron_matches(&c, ts(2026, 1, 1, 0, 0)));  /* Thursday 1st */
    assert_true(cron_matches(&c, ts(2026, 1, 5, 0, 0)));  /* Monday */
    assert_false(cron_matches(&c, ts(2026, 1, 6, 0, 0))); /* Tuesday */
}

static void test_cron_vixie_and_when_one_is_star(void **state)
{
    /* day-of-month '*' with a step: both must match (odd days, Monday) */
    struct cron c = parse_ok("0 0 */2 * MON");
    struct cron w = parse_ok("0 0 13 * *");

    (void)state;
    assert_true(cron_matches(&c, ts(2026, 1, 5, 0, 0)));   /* Mon 5th */
    assert_false(cron_matches(&c, ts(2026, 1, 12, 0, 0))); /* Mon 12th */
    assert_false(cron_matches(&c, ts(2026, 1, 7, 0, 0)));  /* Wed 7th */
    assert_true(cron_matches(&w, ts(2026, 2, 13, 0, 0)));
    assert_false(cron_matches(&w, ts(2026, 2, 14, 0, 0)));
}

static void test_cron_matches_before_epoch(void **state)
{
    struct cron c = parse_ok("59 23 31 12 *");

    (void)state;
    assert_true(cron_matches(&c, ts(1969, 12, 31, 23, 59)));
    assert_true(cron_matches(&c, -1));
    assert_false(cron_matches(&c, 0));
}

static void test_cron_next_daily(void **state)
{
    struct cron c = parse_ok("0 2 * * *");

    (void)state;
    assert_int_equal(ts(2026, 11, 22, 2, 0), 1795312800);
    assert_int_equal(cron_next(&c, ts(2026, 11, 22, 2, 0)),
                     ts(2026, 11, 23, 2, 0));
    assert_int_equal(cron_next(&c, ts(2026, 11, 22, 1, 59)),
                     ts(2026, 11, 22, 2, 0));
    assert_int_equal(cron_next(&c, ts(2026, 12, 31, 3, 0)),
                     ts(2027, 1, 1, 2, 0));
}

static void test_cron_next_every_fifteen_minutes(void **state)
{
    struct cron c = parse_ok("*/15 * * * *");

    (void)state;
    assert_int_equal(cron_next(&c, ts(2026, 5, 4, 12, 7) + 30),
                     ts(2026, 5, 4, 12, 15));
    assert_int_equal(cron_next(&c, ts(2026, 5, 4, 12, 15)),
                     ts(2026, 5, 4, 12, 30));
    assert_int_equal(cron_next(&c, ts(2026, 5, 4, 23, 45)),
                     ts(2026, 5, 5, 0, 0));
}

static void test_cron_next_is_strictly_after(void **state)
{
    struct cron c = parse_ok("* * * * *");

    (void)state;
    assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0)),
                     ts(2026, 1, 1, 0, 1));
    assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0) + 59),
                     ts(2026, 1, 1, 0, 1));
    assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0) - 1),
                     ts(2026, 1, 1, 0, 0));
}

static void test_cron_next_leap_day(void **state)
{
    struct cron c = parse_ok("0 0 29 2 *");

    (void)state;
    assert_int_equal(cron_next(&c, ts(2026, 3, 1, 0, 0)),
                     ts(2028, 2, 29, 0, 0));
    assert_int_equal(cron_next(&c, ts(2028, 2, 29, 0, 0)),
                     ts(2032, 2, 29, 0, 0));
    /* 2100 is not a leap year: nothing from 2096-03 to 2104-02 (> 5y) */
    assert_int_equal(cron_next(&c, ts(2096, 3, 1, 0, 0)), -1);
}

static void test_cron_next_first_or_monday(void **state)
{
    struct cron c = parse_ok("0 0 1 * MON");

    (void)state;
    assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0)),
                     ts(2026, 1, 5, 0, 0));
    assert_int_equal(cron_next(&c, ts(2026, 1, 26, 0, 0)),
                     ts(2026, 2, 1, 0, 0));
    assert_int_equal(cron_next(&c, ts(2026, 2, 1, 0, 0)),
                     ts(2026, 2, 2, 0, 0));
}

static void test_cron_next_impossible_date(void **state)
{
    struct cron c = parse_ok("0 0 30 2 *");
    struct cron d = parse_ok("0 0 31 4,6,9,11 *");

    (void)state;
    assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0)), -1);
    assert_int_equal(cron_next(&d, ts(2026, 1, 1, 0, 0)), -1);
}

static void test_cron_next_weekdays_and_month_names(void **state)
{
    struct cron c = parse_ok("30 9 * JUN MON-FRI");

    (void)state;
    /* 2026-06-01 is a Monday */
    assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0)),
                     ts(2026, 6, 1, 9, 30));
    /* Friday June 5 after its run: next is Monday June 8 */
    assert_int_equal(cron_next(&c, ts(2026, 6, 5, 9, 30)),
                     ts(2026, 6, 8, 9, 30));
    /* after the last weekday of June 2026 (Tue 30): June 2027 */
    assert_int_equal(cron_next(&c, ts(2026, 6, 30, 9, 30)),
                     ts(2027, 6, 1, 9, 30));
}

static void test_cron_next_sunday_as_seven(void **state)
{
    struct cron c = parse_ok("0 12 * * 7");

    (void)state;
    /* 2026-03-04 is a Wednesday; next Sunday is the 8th */
    assert_int_equal(cron_next(&c, ts(2026, 3, 4, 0, 0)),
                     ts(2026, 3, 8, 12, 0));
}

static void test_cron_next_agrees_with_matches(void **state)
{
    static const char *const exprs[] = { "7 */5 * * *", "0 0 1 * MON",
                                         "15 3 10-20 */2 *", "0 6 * * 0,3",
                                         "*/7 1 13 * FRI" };
    time_t t0 = ts(2026, 1, 1, 0, 0);

    (void)state;
    for (size_t i = 0; i < sizeof(exprs) / sizeof(exprs[0]); i++) {
        struct cron c = parse_ok(exprs[i]);
        time_t want = -1;

        for (time_t t = t0 + 60; t < t0 + 400 * 86400; t += 60) {
            if (cron_matches(&c, t)) {
                want = t;
                break;
            }
        }
        assert_int_equal(cron_next(&c, t0), want);
    }
}

static void test_cron_next_is_fast(void **state)
{
    struct cron c = parse_ok("59 23 31 2 *");
    clock_t t0 = clock();

    (void)state;
    for (int i = 0; i < 200; i++)
        assert_int_equal(cron_next(&c, ts(2026, 1, 1, 0, 0) + i), -1);
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 1.0);
}

static void test_cron_next_extreme_times(void **state)
{
    struct cron c = parse_ok("* * * * *");

    (void)state;
    assert_int_equal(cron_next(&c, (time_t)INT64_MAX), -1);
    assert_int_equal(cron_next(&c, (time_t)INT64_MIN), -1);
    assert_int_equal(cron_next(&c, -61), -60);
    (void)cron_matches(&c, (time_t)INT64_MIN);
    (void)cron_matches(&c, (time_t)INT64_MAX);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_cron_star_fields),
        cmocka_unit_test(test_cron_single_values),
        cmocka_unit_test(test_cron_lists_and_ranges),
        cmocka_unit_test(test_cron_steps),
        cmocka_unit_test(test_cron_value_slash_step_runs_to_max),
        cmocka_unit_test(test_cron_names_case_insensitive),
        cmocka_unit_test(test_cron_wday_seven_is_sunday),
        cmocka_unit_test(test_cron_whitespace_tolerated),
        cmocka_unit_test(test_cron_rejects_field_count),
        cmocka_unit_test(test_cron_rejects_unknown_name_with_position),
        cmocka_unit_test(test_cron_rejects_out_of_range),
        cmocka_unit_test(test_cron_rejects_reversed_range),
        cmocka_unit_test(test_cron_rejects_bad_steps),
        cmocka_unit_test(test_cron_rejects_junk),
        cmocka_unit_test(test_cron_rejects_names_in_numeric_fields),
        cmocka_unit_test(test_cron_matches_simple),
        cmocka_unit_test(test_cron_vixie_or_when_both_restricted),
        cmocka_unit_test(test_cron_vixie_and_when_one_is_star),
        cmocka_unit_test(test_cron_matches_before_epoch),
        cmocka_unit_test(test_cron_next_daily),
        cmocka_unit_test(test_cron_next_every_fifteen_minutes),
        cmocka_unit_test(test_cron_next_is_strictly_after),
        cmocka_unit_test(test_cron_next_leap_day),
        cmocka_unit_test(test_cron_next_first_or_monday),
        cmocka_unit_test(test_cron_next_impossible_date),
        cmocka_unit_test(test_cron_next_weekdays_and_month_names),
        cmocka_unit_test(test_cron_next_sunday_as_seven),
        cmocka_unit_test(test_cron_next_agrees_with_matches),
        cmocka_unit_test(test_cron_next_is_fast),
        cmocka_unit_test(test_cron_next_extreme_times),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
