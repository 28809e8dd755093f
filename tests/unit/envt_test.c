/* envt_test: an environment's protection rules — defaults, every key
 * with good and bad values, durations, freeze windows, branch globs,
 * who may review, and the stored JSON form read back. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "deploy/envt.h"

/* Seconds since the epoch of a UTC time, via the C library, in ms. */
static int64_t ms_at(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000;
}

/* Parse @text (JSON) into @r; fails the test unless it parses. */
static void parse_ok(const char *text, struct envt_rules *r)
{
    json_error_t jerr;
    json_t *in = json_loads(text, 0, &jerr);
    struct ferr err;

    assert_non_null(in);
    ferr_clear(&err);
    if (envt_rules_parse(in, r, &err) != FERR_OK)
        fail_msg("rejected %s: %s", text, err.msg);
    json_decref(in);
}

/* Parse @text, expect @code and a message containing @want; the rules
 * must come back released (all zero). */
static void parse_bad(const char *text, enum ferr_code code, const char *want)
{
    json_error_t jerr;
    json_t *in = json_loads(text, JSON_DECODE_ANY, &jerr);
    struct envt_rules r;
    struct envt_rules zero;
    struct ferr err;

    assert_non_null(in);
    ferr_clear(&err);
    memset(&zero, 0, sizeof(zero));
    assert_int_equal(envt_rules_parse(in, &r, &err), code);
    assert_int_equal(err.code, code);
    if (!strstr(err.msg, want))
        fail_msg("%s: message '%s' lacks '%s'", text, err.msg, want);
    assert_memory_equal(&r, &zero, sizeof(r));
    json_decref(in);
}

static unsigned dur_ok(const char *text)
{
    struct ferr err;
    unsigned s = 12345;

    ferr_clear(&err);
    if (envt_duration(text, &s, &err) != FERR_OK)
        fail_msg("duration '%s' rejected: %s", text, err.msg);
    return s;
}

static void dur_bad(const char *text)
{
    struct ferr err;
    unsigned s = 12345;

    ferr_clear(&err);
    if (envt_duration(text, &s, &err) != FERR_INVALID)
        fail_msg("duration '%s' accepted as %u", text, s);
    assert_non_null(strstr(err.msg, "bad duration"));
    assert_int_equal(s, 0);
}

/* ---------- defaults ---------- */

static void test_envt_defaults(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{}", &r);
    assert_int_equal(r.reviewers, 0);
    assert_int_equal(r.reviewer_role, ROLE_APPROVER);
    assert_true(r.prevent_self_review);
    assert_int_equal(r.approval_timeout_s, 1800);
    assert_int_equal(r.approval_timeout_s, ENVT_DEFAULT_TIMEOUT_S);
    assert_int_equal(r.wait_timer_s, 0);
    assert_int_equal(r.n_users, 0);
    assert_int_equal(r.n_branches, 0);
    assert_int_equal(r.n_freezes, 0);
    assert_false(r.production);
    envt_rules_release(&r);
}

static void test_envt_release_zeroes(void **state)
{
    struct envt_rules r;
    struct envt_rules zero;

    (void)state;
    memset(&zero, 0, sizeof(zero));
    parse_ok("{\"reviewer_users\": [\"a\"], \"branches\": [\"main\"],"
             " \"freeze\": [{\"from\": \"2026-01-01\","
             " \"to\": \"2026-01-02\"}]}",
             &r);
    envt_rules_release(&r);
    assert_memory_equal(&r, &zero, sizeof(r));
    envt_rules_release(&r); /* twice is harmless */
}

static void test_envt_not_an_object(void **state)
{
    (void)state;
    parse_bad("[]", FERR_INVALID, "must be a JSON object");
    parse_bad("\"reviewers\"", FERR_INVALID, "must be a JSON object");
    parse_bad("null", FERR_INVALID, "must be a JSON object");
}

static void test_envt_full_rules(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"reviewers\": 2, \"reviewer_role\": \"admin\","
             " \"reviewer_users\": [\"alice\", \"bob\"],"
             " \"prevent_self_review\": false,"
             " \"branches\": [\"main\", \"release/*\"],"
             " \"wait_timer\": \"5m\", \"approval_timeout\": 3600,"
             " \"freeze\": [{\"from\": \"2026-12-24T00:00:00Z\","
             " \"to\": \"2026-12-27\"}], \"production\": true}",
             &r);
    assert_int_equal(r.reviewers, 2);
    assert_int_equal(r.reviewer_role, ROLE_ADMIN);
    assert_int_equal(r.n_users, 2);
    assert_string_equal(r.users[0], "alice");
    assert_string_equal(r.users[1], "bob");
    assert_false(r.prevent_self_review);
    assert_int_equal(r.n_branches, 2);
    assert_string_equal(r.branches[0], "main");
    assert_string_equal(r.branches[1], "release/*");
    assert_int_equal(r.wait_timer_s, 300);
    assert_int_equal(r.approval_timeout_s, 3600);
    assert_int_equal(r.n_freezes, 1);
    assert_true(r.freezes[0].from_ms == ms_at(2026, 12, 24, 0, 0, 0));
    assert_true(r.freezes[0].to_ms == ms_at(2026, 12, 27, 0, 0, 0));
    assert_true(r.production);
    envt_rules_release(&r);
}

/* ---------- each key ---------- */

static void test_envt_reviewers_range(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"reviewers\": 0}", &r);
    assert_int_equal(r.reviewers, 0);
    envt_rules_release(&r);
    parse_ok("{\"reviewers\": 10}", &r);
    assert_int_equal(r.reviewers, 10);
    envt_rules_release(&r);
    parse_bad("{\"reviewers\": 11}", FERR_INVALID, "'reviewers'");
    parse_bad("{\"reviewers\": -1}", FERR_INVALID, "'reviewers'");
    parse_bad("{\"reviewers\": \"2\"}", FERR_INVALID, "'reviewers'");
    parse_bad("{\"reviewers\": 1.0}", FERR_INVALID, "'reviewers'");
    parse_bad("{\"reviewers\": true}", FERR_INVALID, "'reviewers'");
    parse_bad("{\"reviewers\": 9223372036854775807}", FERR_INVALID,
              "'reviewers'");
}

static void test_envt_reviewer_role_values(void **state)
{
    static const struct {
        const char *json;
        enum store_role role;
    } good[] = {
        { "{\"reviewer_role\": \"developer\"}", ROLE_DEVELOPER },
        { "{\"reviewer_role\": \"approver\"}", ROLE_APPROVER },
        { "{\"reviewer_role\": \"admin\"}", ROLE_ADMIN },
    };
    struct envt_rules r;

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        parse_ok(good[i].json, &r);
        assert_int_equal(r.reviewer_role, good[i].role);
        envt_rules_release(&r);
    }
    /* viewer and none are roles, but too weak to approve anything */
    parse_bad("{\"reviewer_role\": \"viewer\"}", FERR_INVALID,
              "'reviewer_role'");
    parse_bad("{\"reviewer_role\": \"none\"}", FERR_INVALID,
              "'reviewer_role'");
    parse_bad("{\"reviewer_role\": \"Admin\"}", FERR_INVALID,
              "'reviewer_role'");
    parse_bad("{\"reviewer_role\": \"\"}", FERR_INVALID, "'reviewer_role'");
    parse_bad("{\"reviewer_role\": 3}", FERR_INVALID, "'reviewer_role'");
    parse_bad("{\"reviewer_role\": null}", FERR_INVALID, "'reviewer_role'");
}

static void test_envt_reviewer_users_values(void **state)
{
    char big[200];
    char text[300];
    struct envt_rules r;

    (void)state;
    parse_ok("{\"reviewer_users\": []}", &r);
    assert_int_equal(r.n_users, 0);
    envt_rules_release(&r);
    parse_bad("{\"reviewer_users\": \"alice\"}", FERR_INVALID,
              "'reviewer_users' must be a list");
    parse_bad("{\"reviewer_users\": [\"alice\", 7]}", FERR_INVALID,
              "'reviewer_users' entry 2");
    parse_bad("{\"reviewer_users\": [\"\"]}", FERR_INVALID,
              "'reviewer_users' entry 1");
    parse_bad("{\"reviewer_users\": [\"a\\nb\"]}", FERR_INVALID,
              "'reviewer_users' entry 1");
    /* a name longer than LIM_NAME (64) */
    memset(big, 'x', 65);
    big[65] = '\0';
    snprintf(text, sizeof(text), "{\"reviewer_users\": [\"%s\"]}", big);
    parse_bad(text, FERR_INVALID, "'reviewer_users' entry 1");
    big[64] = '\0';
    snprintf(text, sizeof(text), "{\"reviewer_users\": [\"%s\"]}", big);
    parse_ok(text, &r);
    assert_int_equal(r.n_users, 1);
    envt_rules_release(&r);
}

static void test_envt_list_limit(void **state)
{
    char text[2048];
    size_t n;

    (void)state;
    n = (size_t)snprintf(text, sizeof(text), "{\"branches\": [");
    for (int i = 0; i < 101; i++)
        n += (size_t)snprintf(text + n, sizeof(text) - n, "%s\"b%d\"",
                              i ? "," : "", i);
    snprintf(text + n, sizeof(text) - n, "]}");
    parse_bad(text, FERR_LIMIT, "'branches' has more than 100");
}

static void test_envt_prevent_self_review_values(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"prevent_self_review\": false}", &r);
    assert_false(r.prevent_self_review);
    envt_rules_release(&r);
    parse_ok("{\"prevent_self_review\": true}", &r);
    assert_true(r.prevent_self_review);
    envt_rules_release(&r);
    parse_bad("{\"prevent_self_review\": 0}", FERR_INVALID,
              "'prevent_self_review'");
    parse_bad("{\"prevent_self_review\": \"false\"}", FERR_INVALID,
              "'prevent_self_review'");
}

static void test_envt_branches_values(void **state)
{
    (void)state;
    parse_bad("{\"branches\": \"main\"}", FERR_INVALID, "'branches'");
    parse_bad("{\"branches\": [\"main\", null]}", FERR_INVALID,
              "'branches' entry 2");
    parse_bad("{\"branches\": [{}]}", FERR_INVALID, "'branches' entry 1");
}

static void test_envt_wait_timer_values(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"wait_timer\": 90}", &r);
    assert_int_equal(r.wait_timer_s, 90);
    envt_rules_release(&r);
    parse_ok("{\"wait_timer\": \"2h\"}", &r);
    assert_int_equal(r.wait_timer_s, 7200);
    envt_rules_release(&r);
    parse_ok("{\"wait_timer\": 0}", &r);
    assert_int_equal(r.wait_timer_s, 0);
    envt_rules_release(&r);
    parse_bad("{\"wait_timer\": -5}", FERR_INVALID,
              "'wait_timer': -5 seconds is out of range");
    parse_bad("{\"wait_timer\": 1099511627776}", FERR_INVALID,
              "'wait_timer'");
    parse_bad("{\"wait_timer\": \"30 minutes\"}", FERR_INVALID,
              "'wait_timer': bad duration '30 minutes'");
    parse_bad("{\"wait_timer\": 1.5}", FERR_INVALID,
              "'wait_timer' must be seconds");
    parse_bad("{\"wait_timer\": null}", FERR_INVALID, "'wait_timer'");
}

static void test_envt_approval_timeout_values(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"approval_timeout\": 1}", &r);
    assert_int_equal(r.approval_timeout_s, 1);
    envt_rules_release(&r);
    parse_ok("{\"approval_timeout\": \"7d\"}", &r);
    assert_int_equal(r.approval_timeout_s, 7 * 86400);
    envt_rules_release(&r);
    parse_ok("{\"approval_timeout\": \"45m\"}", &r);
    assert_int_equal(r.approval_timeout_s, 2700);
    envt_rules_release(&r);
    parse_bad("{\"approval_timeout\": 0}", FERR_INVALID,
              "'approval_timeout' must be from 1 s to 7 days");
    parse_bad("{\"approval_timeout\": \"0s\"}", FERR_INVALID,
              "'approval_timeout' must be from 1 s to 7 days");
    parse_bad("{\"approval_timeout\": 604801}", FERR_INVALID,
              "'approval_timeout' must be from 1 s to 7 days");
    parse_bad("{\"approval_timeout\": \"8d\"}", FERR_INVALID,
              "'approval_timeout' must be from 1 s to 7 days");
    parse_bad("{\"approval_timeout\": \"30 minutes\"}", FERR_INVALID,
              "'approval_timeout': bad duration '30 minutes'");
    parse_bad("{\"approval_timeout\": -1}", FERR_INVALID,
              "'approval_timeout': -1 seconds is out of range");
    parse_bad("{\"approval_timeout\": [60]}", FERR_INVALID,
              "'approval_timeout' must be seconds");
}

static void test_envt_production_values(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"production\": true}", &r);
    assert_true(r.production);
    envt_rules_release(&r);
    parse_bad("{\"production\": 1}", FERR_INVALID, "'production'");
    parse_bad("{\"production\": \"yes\"}", FERR_INVALID, "'production'");
}

static void test_envt_unknown_key(void **state)
{
    (void)state;
    parse_bad("{\"reviewer\": 1}", FERR_INVALID,
              "unknown environment rule 'reviewer'");
    parse_bad("{\"production\": true, \"Branches\": []}", FERR_INVALID,
              "unknown environment rule 'Branches'");
}

/* Lists and freezes parsed before a bad key must be freed (ASan) and the
 * struct left zeroed (parse_bad checks). */
static void test_envt_error_after_lists_releases(void **state)
{
    (void)state;
    parse_bad("{\"reviewer_users\": [\"a\", \"b\"], \"branches\": [\"main\"],"
              " \"freeze\": [{\"from\": \"2026-01-01\","
              " \"to\": \"2026-01-02\"}],"
              " \"zzz\": 1}",
              FERR_INVALID, "unknown environment rule 'zzz'");
    parse_bad("{\"reviewer_users\": [\"a\", \"b\", 3]}", FERR_INVALID,
              "entry 3");
    parse_bad("{\"freeze\": [{\"from\": \"2026-01-01\","
              " \"to\": \"2026-01-02\"},"
              " {\"from\": \"x\", \"to\": \"2026-01-02\"}]}",
              FERR_INVALID, "'freeze' entry 2");
}

/* ---------- durations ---------- */

static void test_envt_duration_units(void **state)
{
    (void)state;
    assert_int_equal(dur_ok("90"), 90);
    assert_int_equal(dur_ok("90s"), 90);
    assert_int_equal(dur_ok("5m"), 300);
    assert_int_equal(dur_ok("2h"), 7200);
    assert_int_equal(dur_ok("1d"), 86400);
    assert_int_equal(dur_ok("0"), 0);
    assert_int_equal(dur_ok("007m"), 420);
}

static void test_envt_duration_junk(void **state)
{
    (void)state;
    dur_bad("");
    dur_bad("s");
    dur_bad("m5");
    dur_bad("5x");
    dur_bad("5M");
    dur_bad("5 m");
    dur_bad(" 5m");
    dur_bad("5m ");
    dur_bad("5ms");
    dur_bad("1h30m");
    dur_bad("-5");
    dur_bad("-5m");
    dur_bad("+5");
    dur_bad("1.5h");
    dur_bad("30 minutes");
    dur_bad(NULL);
}

static void test_envt_duration_overflow(void **state)
{
    (void)state;
    assert_int_equal(dur_ok("2147483647"), 2147483647u);
    assert_int_equal(dur_ok("24855d"), 24855u * 86400u);
    dur_bad("2147483648");
    dur_bad("4294967295");
    dur_bad("4294967296");
    dur_bad("99999999999999999999999999");
    dur_bad("24856d");
    dur_bad("35791395m");
    dur_bad("596524h");
    dur_bad("18446744073709551616s");
}

static void test_envt_duration_message_truncated(void **state)
{
    char big[300];
    struct ferr err;
    unsigned s;

    (void)state;
    memset(big, 'z', sizeof(big) - 1);
    big[sizeof(big) - 1] = '\0';
    ferr_clear(&err);
    assert_int_equal(envt_duration(big, &s, &err), FERR_INVALID);
    assert_true(strlen(err.msg) < 120);
}

/* ---------- freezes ---------- */

static void test_envt_freeze_rfc3339_and_date(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"freeze\": [{\"from\": \"2026-12-24T18:30:05Z\","
             " \"to\": \"2026-12-26\"},"
             " {\"to\": \"2027-01-01T00:00:01Z\", \"from\": \"2026-12-31\"}]}",
             &r);
    assert_int_equal(r.n_freezes, 2);
    assert_true(r.freezes[0].from_ms == ms_at(2026, 12, 24, 18, 30, 5));
    assert_true(r.freezes[0].to_ms == ms_at(2026, 12, 26, 0, 0, 0));
    assert_true(r.freezes[1].from_ms == ms_at(2026, 12, 31, 0, 0, 0));
    assert_true(r.freezes[1].to_ms == ms_at(2027, 1, 1, 0, 0, 1));
    envt_rules_release(&r);
}

static void test_envt_freeze_empty_list(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"freeze\": []}", &r);
    assert_int_equal(r.n_freezes, 0);
    assert_true(envt_frozen_until(&r, ms_at(2026, 1, 1, 0, 0, 0)) == 0);
    envt_rules_release(&r);
}

static void test_envt_freeze_end_not_after_start(void **state)
{
    (void)state;
    parse_bad("{\"freeze\": [{\"from\": \"2026-12-24\","
              " \"to\": \"2026-12-24T00:00:00Z\"}]}",
              FERR_INVALID, "'freeze' entry 1 ends before it starts");
    parse_bad("{\"freeze\": [{\"from\": \"2026-12-25\","
              " \"to\": \"2026-12-24\"}]}",
              FERR_INVALID, "'freeze' entry 1 ends before it starts");
}

static void test_envt_freeze_bad_times(void **state)
{
    static const char *const bad[] = {
        "{\"freeze\": [{\"from\": \"tomorrow\", \"to\": \"2026-12-24\"}]}",
        "{\"freeze\": [{\"from\": \"2026-12-24\", \"to\": \"2026-13-01\"}]}",
        "{\"freeze\": [{\"from\": \"2026-12-24T25:00:00Z\","
        " \"to\": \"2026-12-25\"}]}",
        "{\"freeze\": [{\"from\": \"2026-12-24T00:00:00+01:00\","
        " \"to\": \"2026-12-25\"}]}",
        "{\"freeze\": [{\"from\": \"2026-12-24T00:00:00\","
        " \"to\": \"2026-12-25\"}]}",
        "{\"freeze\": [{\"from\": \"2026-12-24 junk\","
        " \"to\": \"2026-12-25\"}]}",
        "{\"freeze\": [{\"from\": \"\", \"to\": \"2026-12-25\"}]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        parse_bad(bad[i], FERR_INVALID, "'freeze' entry 1: times are");
}

static void test_envt_freeze_bad_shapes(void **state)
{
    (void)state;
    parse_bad("{\"freeze\": {\"from\": \"2026-12-24\","
              " \"to\": \"2026-12-25\"}}",
              FERR_INVALID, "'freeze' must be a list");
    parse_bad("{\"freeze\": [\"2026-12-24\"]}", FERR_INVALID,
              "'freeze' entry 1 must be");
    parse_bad("{\"freeze\": [{\"from\": \"2026-12-24\"}]}", FERR_INVALID,
              "'freeze' entry 1 must be");
    parse_bad("{\"freeze\": [{\"from\": \"2026-12-24\", \"to\": 5}]}",
              FERR_INVALID, "'freeze' entry 1 must be");
    parse_bad("{\"freeze\": [{\"from\": \"2026-12-24\", \"to\": \"2026-12-25\","
              " \"why\": \"xmas\"}]}",
              FERR_INVALID, "'freeze' entry 1 must be");
    parse_bad("{\"freeze\": [{\"from\": \"2026-12-24\", \"until\": "
              "\"2026-12-25\"}]}",
              FERR_INVALID, "'freeze' entry 1 must be");
}

static void test_envt_frozen_until_edges(void **state)
{
    struct envt_rules r;
    int64_t from = ms_at(2026, 12, 24, 0, 0, 0);
    int64_t to = ms_at(2026, 12, 27, 0, 0, 0);

    (void)state;
    parse_ok("{\"freeze\": [{\"from\": \"2026-12-24\","
             " \"to\": \"2026-12-27\"}]}",
             &r);
    assert_true(envt_frozen_until(&r, from - 1) == 0);   /* before */
    assert_true(envt_frozen_until(&r, from) == to);      /* from is inside */
    assert_true(envt_frozen_until(&r, from + 3600000) == to);
    assert_true(envt_frozen_until(&r, to - 1) == to);
    assert_true(envt_frozen_until(&r, to) == 0);         /* to is outside */
    assert_true(envt_frozen_until(&r, to + 86400000) == 0);
    envt_rules_release(&r);
}

static void test_envt_frozen_until_overlap_latest_end(void **state)
{
    struct envt_rules r;

    (void)state;
    /* listed with the longer one first and last: order must not matter */
    parse_ok("{\"freeze\": ["
             " {\"from\": \"2026-12-20\", \"to\": \"2027-01-02\"},"
             " {\"from\": \"2026-12-24\", \"to\": \"2026-12-27\"},"
             " {\"from\": \"2026-12-25\", \"to\": \"2026-12-26\"}]}",
             &r);
    assert_true(envt_frozen_until(&r, ms_at(2026, 12, 25, 12, 0, 0)) ==
                ms_at(2027, 1, 2, 0, 0, 0));
    assert_true(envt_frozen_until(&r, ms_at(2026, 12, 21, 0, 0, 0)) ==
                ms_at(2027, 1, 2, 0, 0, 0));
    envt_rules_release(&r);
    parse_ok("{\"freeze\": ["
             " {\"from\": \"2026-12-25\", \"to\": \"2026-12-26\"},"
             " {\"from\": \"2026-12-24\", \"to\": \"2026-12-27\"}]}",
             &r);
    assert_true(envt_frozen_until(&r, ms_at(2026, 12, 25, 12, 0, 0)) ==
                ms_at(2026, 12, 27, 0, 0, 0));
    envt_rules_release(&r);
}

/* Only freezes holding at now count: a later freeze that has not begun
 * does not extend the answer. */
static void test_envt_frozen_until_ignores_later_freeze(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"freeze\": ["
             " {\"from\": \"2026-12-24\", \"to\": \"2026-12-25\"},"
             " {\"from\": \"2026-12-31\", \"to\": \"2027-01-02\"}]}",
             &r);
    assert_true(envt_frozen_until(&r, ms_at(2026, 12, 24, 8, 0, 0)) ==
                ms_at(2026, 12, 25, 0, 0, 0));
    assert_true(envt_frozen_until(&r, ms_at(2026, 12, 28, 0, 0, 0)) == 0);
    envt_rules_release(&r);
}

/* ---------- branches ---------- */

static void test_envt_branch_no_list_allows_all(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{}", &r);
    assert_true(envt_branch_allowed(&r, "refs/heads/main"));
    assert_true(envt_branch_allowed(&r, "refs/heads/feature/x"));
    assert_true(envt_branch_allowed(&r, "refs/tags/v1.0.0"));
    envt_rules_release(&r);
    parse_ok("{\"branches\": []}", &r);
    assert_true(envt_branch_allowed(&r, "refs/heads/anything"));
    envt_rules_release(&r);
}

static void test_envt_branch_globs(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"branches\": [\"main\", \"release/*\", \"v*\"]}", &r);
    assert_true(envt_branch_allowed(&r, "refs/heads/main"));
    assert_true(envt_branch_allowed(&r, "refs/heads/release/1.2"));
    assert_true(envt_branch_allowed(&r, "refs/tags/v1.2.0"));
    assert_true(envt_branch_allowed(&r, "refs/heads/v2"));
    assert_false(envt_branch_allowed(&r, "refs/heads/mainline"));
    assert_false(envt_branch_allowed(&r, "refs/heads/feature/main"));
    assert_false(envt_branch_allowed(&r, "refs/heads/release"));
    /* '*' does not cross '/' */
    assert_false(envt_branch_allowed(&r, "refs/heads/release/1.2/hotfix"));
    assert_false(envt_branch_allowed(&r, "refs/tags/release-1"));
    assert_false(envt_branch_allowed(&r, "refs/tags/V1.0"));
    /* a ref that is neither a head nor a tag is matched whole */
    assert_false(envt_branch_allowed(&r, "refs/pull/7/merge"));
    assert_true(envt_branch_allowed(&r, "main"));
    envt_rules_release(&r);
}

static void test_envt_branch_negation(void **state)
{
    struct envt_rules r;

    (void)state;
    parse_ok("{\"branches\": [\"release/**\", \"!release/**-rc\"]}", &r);
    assert_true(envt_branch_allowed(&r, "refs/heads/release/a/b"));
    assert_false(envt_branch_allowed(&r, "refs/heads/release/2.0-rc"));
    envt_rules_release(&r);
}

/* ---------- who may review ---------- */

static void test_envt_may_review_role_too_low(void **state)
{
    struct envt_rules r;
    struct ferr err;

    (void)state;
    parse_ok("{\"reviewers\": 1}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_DEVELOPER, "bob",
                                     "alice", &err),
                     FERR_USAGE);
    assert_non_null(strstr(err.msg, "'production' needs the approver role "
                                    "(the token is developer)"));
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_VIEWER, "bob",
                                     "alice", &err),
                     FERR_USAGE);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_APPROVER, "bob",
                                     "alice", &err),
                     FERR_OK);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, "bob",
                                     "alice", &err),
                     FERR_OK);
    envt_rules_release(&r);
    parse_ok("{\"reviewer_role\": \"admin\"}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "prod", ROLE_APPROVER, "bob",
                                     "alice", &err),
                     FERR_USAGE);
    assert_non_null(strstr(err.msg, "admin role"));
    envt_rules_release(&r);
}

static void test_envt_may_review_developer_role(void **state)
{
    struct envt_rules r;
    struct ferr err;

    (void)state;
    parse_ok("{\"reviewer_role\": \"developer\"}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "staging", ROLE_DEVELOPER, "bob",
                                     "alice", &err),
                     FERR_OK);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "staging", ROLE_VIEWER, "bob",
                                     "alice", &err),
                     FERR_USAGE);
    envt_rules_release(&r);
}

static void test_envt_may_review_user_not_listed(void **state)
{
    struct envt_rules r;
    struct ferr err;

    (void)state;
    parse_ok("{\"reviewer_users\": [\"alice\", \"carol\"]}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, "bob",
                                     "dave", &err),
                     FERR_USAGE);
    assert_string_equal(err.msg, "'bob' is not a reviewer of 'production'");
    /* names are exact, not prefixes or case-folded */
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, "Alice",
                                     "dave", &err),
                     FERR_USAGE);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, "car",
                                     "dave", &err),
                     FERR_USAGE);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, NULL,
                                     "dave", &err),
                     FERR_USAGE);
    envt_rules_release(&r);
}

static void test_envt_may_review_listed_user(void **state)
{
    struct envt_rules r;
    struct ferr err;

    (void)state;
    parse_ok("{\"reviewer_users\": [\"alice\", \"carol\"]}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_APPROVER, "carol",
                                     "dave", &err),
                     FERR_OK);
    assert_int_equal(err.code, FERR_OK);
    /* a listed user still needs the role */
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_DEVELOPER,
                                     "carol", "dave", &err),
                     FERR_USAGE);
    envt_rules_release(&r);
}

static void test_envt_may_review_self_prevented(void **state)
{
    struct envt_rules r;
    struct ferr err;

    (void)state;
    parse_ok("{\"reviewers\": 1}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, "alice",
                                     "alice", &err),
                     FERR_USAGE);
    assert_non_null(strstr(err.msg, "'alice' triggered this deployment"));
    envt_rules_release(&r);
    /* also when alice is a listed reviewer */
    parse_ok("{\"reviewer_users\": [\"alice\"]}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_ADMIN, "alice",
                                     "alice", &err),
                     FERR_USAGE);
    envt_rules_release(&r);
}

static void test_envt_may_review_self_allowed(void **state)
{
    struct envt_rules r;
    struct ferr err;

    (void)state;
    parse_ok("{\"prevent_self_review\": false}", &r);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_APPROVER, "alice",
                                     "alice", &err),
                     FERR_OK);
    ferr_clear(&err);
    assert_int_equal(envt_may_review(&r, "production", ROLE_APPROVER, "alice",
                                     NULL, &err),
                     FERR_OK);
    envt_rules_release(&r);
}

/* ---------- stored form ---------- */

/* parse(text) -> json -> parse -> json: both JSON forms are equal and the
 * second parse accepts what the first json produced. */
static void round_trip(const char *text)
{
    struct envt_rules a;
    struct envt_rules b;
    struct ferr err;
    json_t *ja;
    json_t *jb;

    parse_ok(text, &a);
    ja = envt_rules_json(&a);
    assert_non_null(ja);
    ferr_clear(&err);
    if (envt_rules_parse(ja, &b, &err) != FERR_OK) {
        json_decref(ja);
        envt_rules_release(&a);
        fail_msg("stored form of %s rejected: %s", text, err.msg);
    }
    jb = envt_rules_json(&b);
    assert_non_null(jb);
    assert_true(json_equal(ja, jb));
    json_decref(ja);
    json_decref(jb);
    envt_rules_release(&a);
    envt_rules_release(&b);
}

static void test_envt_json_stored_form(void **state)
{
    struct envt_rules r;
    json_t *j;
    json_t *f;

    (void)state;
    parse_ok("{\"reviewers\": 2, \"reviewer_role\": \"admin\","
             " \"reviewer_users\": [\"alice\"], \"prevent_self_review\": false,"
             " \"branches\": [\"main\", \"v*\"], \"wait_timer\": \"5m\","
             " \"approval_timeout\": \"1h\", \"production\": true,"
             " \"freeze\": [{\"from\": \"2026-12-24\","
             " \"to\": \"2026-12-26T12:00:00Z\"}]}",
             &r);
    j = envt_rules_json(&r);
    assert_non_null(j);
    assert_int_equal(json_integer_value(json_object_get(j, "reviewers")), 2);
    assert_string_equal(json_string_value(json_object_get(j, "reviewer_role")),
                        "admin");
    assert_string_equal(json_string_value(json_array_get(
                            json_object_get(j, "reviewer_users"), 0)),
                        "alice");
    assert_true(json_is_false(json_object_get(j, "prevent_self_review")));
    assert_int_equal(json_array_size(json_object_get(j, "branches")), 2);
    assert_int_equal(json_integer_value(json_object_get(j, "wait_timer")),
                     300);
    assert_int_equal(json_integer_value(json_object_get(j,
                                                        "approval_timeout")),
                     3600);
    assert_true(json_is_true(json_object_get(j, "production")));
    f = json_array_get(json_object_get(j, "freeze"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "from")),
                        "2026-12-24T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(f, "to")),
                        "2026-12-26T12:00:00Z");
    json_decref(j);
    envt_rules_release(&r);
}

static void test_envt_json_round_trip(void **state)
{
    (void)state;
    round_trip("{}");
    round_trip("{\"reviewers\": 10, \"reviewer_role\": \"developer\","
               " \"reviewer_users\": [\"alice\", \"bob\"],"
               " \"prevent_self_review\": false,"
               " \"branches\": [\"main\", \"release/*\", \"!release/old\"],"
               " \"wait_timer\": \"1d\", \"approval_timeout\": \"7d\","
               " \"freeze\": [{\"from\": \"2026-12-24\","
               " \"to\": \"2026-12-27\"},"
               " {\"from\": \"1970-01-01T00:00:00Z\","
               " \"to\": \"9999-12-31T23:59:59Z\"}],"
               " \"production\": true}");
    round_trip("{\"wait_timer\": 2592000}");
}

/* The stored form must be read back whatever a valid input held: a
 * wait_timer given as text may reach 2^31 - 1 s, and the stored form
 * writes it as an integer. */
/* The longest wait timer (30 days, as GitHub) reads back in either
 * form; a longer one is refused in either form (a text form once
 * reached 2^31 s while the stored integer was read back only below
 * 2^30). */
static void test_envt_json_round_trip_long_wait_timer(void **state)
{
    (void)state;
    round_trip("{\"wait_timer\": \"30d\"}");
    round_trip("{\"wait_timer\": \"2592000s\"}");
    parse_bad("{\"wait_timer\": \"1073741824\"}", FERR_INVALID,
              "'wait_timer' must be at most 30 days");
    parse_bad("{\"wait_timer\": 2592001}", FERR_INVALID,
              "'wait_timer' must be at most 30 days");
}

/* A branch glob that can match nothing is refused, not kept. */
static void test_envt_branches_bad_glob(void **state)
{
    (void)state;
    parse_bad("{\"branches\": [\"main\", \"release/[\"]}", FERR_INVALID,
              "'branches' entry 2");
}

/* Lenient time text (seconds 60, a 31st of February) is normalised, and
 * the normalised form reads back the same. */
static void test_envt_json_round_trip_normalised_times(void **state)
{
    struct envt_rules r;
    json_t *j;
    json_t *f;

    (void)state;
    round_trip("{\"freeze\": [{\"from\": \"2026-02-31\","
               " \"to\": \"2026-12-31T23:59:60Z\"}]}");
    parse_ok("{\"freeze\": [{\"from\": \"2026-02-31\","
             " \"to\": \"2026-12-31T23:59:60Z\"}]}",
             &r);
    j = envt_rules_json(&r);
    f = json_array_get(json_object_get(j, "freeze"), 0);
    assert_string_equal(json_string_value(json_object_get(f, "from")),
                        "2026-03-03T00:00:00Z");
    assert_string_equal(json_string_value(json_object_get(f, "to")),
                        "2027-01-01T00:00:00Z");
    json_decref(j);
    envt_rules_release(&r);
}

/* A leap second at the very end of 9999 normalises into year 10000,
 * which the stored form writes as "10000-01-01T00:00:00Z": either the
 * input is refused or the stored form reads back. */
static void test_envt_json_round_trip_year_10000(void **state)
{
    static const char *const texts[] = {
        "{\"freeze\": [{\"from\": \"9999-12-31T23:59:59Z\","
        " \"to\": \"9999-12-31T23:59:60Z\"}]}",
        "{\"freeze\": [{\"from\": \"9999-12-31\","
        " \"to\": \"9999-12-31T23:59:61Z\"}]}",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
        json_t *in = json_loads(texts[i], 0, NULL);
        struct envt_rules r;
        struct ferr err;

        enum ferr_code rc;

        assert_non_null(in);
        ferr_clear(&err);
        rc = envt_rules_parse(in, &r, &err);
        json_decref(in);
        if (rc == FERR_OK) {
            envt_rules_release(&r);
            round_trip(texts[i]);
        } else {
            assert_non_null(strstr(err.msg, "'freeze' entry 1"));
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_envt_defaults),
        cmocka_unit_test(test_envt_release_zeroes),
        cmocka_unit_test(test_envt_not_an_object),
        cmocka_unit_test(test_envt_full_rules),
        cmocka_unit_test(test_envt_reviewers_range),
        cmocka_unit_test(test_envt_reviewer_role_values),
        cmocka_unit_test(test_envt_reviewer_users_values),
        cmocka_unit_test(test_envt_list_limit),
        cmocka_unit_test(test_envt_prevent_self_review_values),
        cmocka_unit_test(test_envt_branches_values),
        cmocka_unit_test(test_envt_wait_timer_values),
        cmocka_unit_test(test_envt_approval_timeout_values),
        cmocka_unit_test(test_envt_production_values),
        cmocka_unit_test(test_envt_unknown_key),
        cmocka_unit_test(test_envt_error_after_lists_releases),
        cmocka_unit_test(test_envt_duration_units),
        cmocka_unit_test(test_envt_duration_junk),
        cmocka_unit_test(test_envt_duration_overflow),
        cmocka_unit_test(test_envt_duration_message_truncated),
        cmocka_unit_test(test_envt_freeze_rfc3339_and_date),
        cmocka_unit_test(test_envt_freeze_empty_list),
        cmocka_unit_test(test_envt_freeze_end_not_after_start),
        cmocka_unit_test(test_envt_freeze_bad_times),
        cmocka_unit_test(test_envt_freeze_bad_shapes),
        cmocka_unit_test(test_envt_frozen_until_edges),
        cmocka_unit_test(test_envt_frozen_until_overlap_latest_end),
        cmocka_unit_test(test_envt_frozen_until_ignores_later_freeze),
        cmocka_unit_test(test_envt_branch_no_list_allows_all),
        cmocka_unit_test(test_envt_branch_globs),
        cmocka_unit_test(test_envt_branch_negation),
        cmocka_unit_test(test_envt_may_review_role_too_low),
        cmocka_unit_test(test_envt_may_review_developer_role),
        cmocka_unit_test(test_envt_may_review_user_not_listed),
        cmocka_unit_test(test_envt_may_review_listed_user),
        cmocka_unit_test(test_envt_may_review_self_prevented),
        cmocka_unit_test(test_envt_may_review_self_allowed),
        cmocka_unit_test(test_envt_json_stored_form),
        cmocka_unit_test(test_envt_json_round_trip),
        cmocka_unit_test(test_envt_json_round_trip_long_wait_timer),
        cmocka_unit_test(test_envt_branches_bad_glob),
        cmocka_unit_test(test_envt_json_round_trip_normalised_times),
        cmocka_unit_test(test_envt_json_round_trip_year_10000),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
