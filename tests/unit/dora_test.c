/* dora_test: the window parser and the figures dora_compute derives from
 * hand-made store rows, each checked against numbers worked out by hand
 * (medians of odd and even counts, failures, open incidents, empty
 * input, odd rows). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <jansson.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/dora.h"

#define DAY  86400000LL
#define HOUR 3600000LL
#define T0   1767225600000LL /* 2026-01-01T00:00:00Z */

/* ---------- building input ---------- */

static json_t *input_new(void)
{
    return json_pack("{s:[], s:[], s:[], s:[]}", "deployments", "incidents",
                     "runs", "reports");
}

static void add(json_t *in, const char *key, json_t *row)
{
    assert_non_null(row);
    json_array_append_new(json_object_get(in, key), row);
}

/* a deployment of repo "app" */
static void dep(json_t *in, int64_t id, const char *env, const char *kind,
                const char *status, int64_t created, int64_t started,
                int64_t finished, int64_t commit_at, int incident)
{
    add(in, "deployments",
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I, s:I, "
                  "s:i}",
                  "id", (json_int_t)id, "repo", "app", "environment", env,
                  "kind", kind, "status", status, "sha", "abc", "version", "v",
                  "created_at", (json_int_t)created, "started_at",
                  (json_int_t)started, "finished_at", (json_int_t)finished,
                  "commit_at", (json_int_t)commit_at, "incident", incident));
}

/* a production deploy that succeeded @lead_s after its commit */
static void shipped(json_t *in, int64_t id, int64_t at, int64_t lead_s)
{
    dep(in, id, "production", "deploy", "success", at, at + 1000, at + 2000,
        at + 2000 - lead_s * 1000, 0);
}

static void incident(json_t *in, int64_t id, int64_t dep_id, int64_t opened,
                     int64_t resolved)
{
    add(in, "incidents",
        json_pack("{s:I, s:s, s:s, s:o, s:s, s:I, s:I}", "id", (json_int_t)id,
                  "repo", "app", "environment", "production", "deployment_id",
                  dep_id ? json_integer(dep_id) : json_null(), "status",
                  resolved ? "resolved" : "open", "opened_at",
                  (json_int_t)opened, "resolved_at", (json_int_t)resolved));
}

static void run(json_t *in, int64_t id, const char *status, const char *concl,
                int64_t created, int64_t started, int64_t finished)
{
    add(in, "runs",
        json_pack("{s:I, s:s, s:s, s:s, s:s, s:o, s:I, s:I, s:I}", "id",
                  (json_int_t)id, "workflow", ".github/workflows/ci.yml",
                  "event", "push", "ref", "refs/heads/main", "status", status,
                  "conclusion", concl ? json_string(concl) : json_null(),
                  "created_at", (json_int_t)created, "started_at",
                  (json_int_t)started, "finished_at", (json_int_t)finished));
}

static void report(json_t *in, int64_t run_id, const char *kind, int64_t at,
                   json_t *summary)
{
    add(in, "reports",
        json_pack("{s:I, s:s, s:s, s:I, s:o}", "run_id", (json_int_t)run_id,
                  "ref", "refs/heads/main", "kind", kind, "created_at",
                  (json_int_t)at, "summary", summary));
}

/* ---------- reading the answer ---------- */

/* The value at "a.b.0.c" */
static json_t *at(json_t *o, const char *path)
{
    while (o && *path) {
        const char *dot = strchr(path, '.');
        size_t n = dot ? (size_t)(dot - path) : strlen(path);
        char key[64];

        assert_true(n < sizeof(key));
        memcpy(key, path, n);
        key[n] = '\0';
        o = json_is_array(o) ? json_array_get(o, strtoul(key, NULL, 10))
                             : json_object_get(o, key);
        path += n + (dot != NULL);
    }
    return o;
}

static double dnum(json_t *o, const char *path)
{
    json_t *v = at(o, path);

    if (!json_is_number(v))
        fail_msg("'%s' is not a number", path);
    return json_number_value(v);
}

static json_int_t inum(json_t *o, const char *path)
{
    json_t *v = at(o, path);

    if (!json_is_integer(v))
        fail_msg("'%s' is not an integer", path);
    return json_integer_value(v);
}

static const char *str(json_t *o, const char *path)
{
    json_t *v = at(o, path);

    if (!json_is_string(v))
        fail_msg("'%s' is not a string", path);
    return json_string_value(v);
}

static void assert_null_at(json_t *o, const char *path)
{
    json_t *v = at(o, path);

    if (!v)
        fail_msg("'%s' is missing", path);
    if (!json_is_null(v))
        fail_msg("'%s' is not null", path);
}

#define assert_near(a, b) assert_true(fabs((double)(a) - (double)(b)) < 1e-9)

/* ---------- the window ---------- */

static void test_dora_window_parses_units(void **state)
{
    struct ferr err;
    int64_t ms = -1;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dora_parse_window("30d", &ms, &err), FERR_OK);
    assert_int_equal(ms, 30 * DAY);
    assert_int_equal(dora_parse_window("12h", &ms, &err), FERR_OK);
    assert_int_equal(ms, 12 * HOUR);
    assert_int_equal(dora_parse_window("4w", &ms, &err), FERR_OK);
    assert_int_equal(ms, 28 * DAY);
    assert_int_equal(dora_parse_window("90m", &ms, &err), FERR_OK);
    assert_int_equal(ms, 90 * 60000LL);
    assert_int_equal(dora_parse_window("1m", &ms, &err), FERR_OK);
    assert_int_equal(ms, 60000LL);
    assert_int_equal(err.code, FERR_OK);
}

static void test_dora_window_allows_366_days(void **state)
{
    struct ferr err;
    int64_t ms;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dora_parse_window("366d", &ms, &err), FERR_OK);
    assert_int_equal(ms, 366 * DAY);
    assert_int_equal(dora_parse_window("8784h", &ms, &err), FERR_OK);
    assert_int_equal(ms, 366 * DAY);
    assert_int_equal(dora_parse_window("52w", &ms, &err), FERR_OK);
    assert_int_equal(ms, 364 * DAY);
    assert_int_equal(dora_parse_window("527040m", &ms, &err), FERR_OK);
    assert_int_equal(ms, 366 * DAY);
}

static void test_dora_window_rejects_longer_than_366_days(void **state)
{
    static const char *const bad[] = {"367d", "53w", "8785h", "527041m",
                                      "99999999999999w"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ferr err;
        int64_t ms = 5;

        ferr_clear(&err);
        assert_int_equal(dora_parse_window(bad[i], &ms, &err), FERR_INVALID);
        assert_int_equal(ms, 0);
        assert_non_null(strstr(err.msg, "at most 366 days"));
    }
}

static void test_dora_window_rejects_malformed(void **state)
{
    static const char *const bad[] = {"",
                                      "d",
                                      "30",
                                      "0d",
                                      "-1d",
                                      "+3d",
                                      "30D",
                                      "30 d",
                                      " 30d",
                                      "30d ",
                                      "30dd",
                                      "3x",
                                      "1.5d",
                                      "d30",
                                      "0x1d",
                                      "99999999999999999999d",
                                      "000000000000000001d"};

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ferr err;
        int64_t ms = 5;

        ferr_clear(&err);
        if (dora_parse_window(bad[i], &ms, &err) != FERR_INVALID)
            fail_msg("'%s' was accepted", bad[i]);
        assert_int_equal(ms, 0);
        assert_int_equal(strncmp(err.msg, "bad window '", 12), 0);
        assert_non_null(strstr(err.msg, "(e.g. 30d)"));
    }
}

static void test_dora_window_rejects_null(void **state)
{
    struct ferr err;
    int64_t ms = 5;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dora_parse_window(NULL, &ms, &err), FERR_INVALID);
    assert_int_equal(ms, 0);
    assert_string_equal(err.msg, "bad window '': use a count and m, h, d or "
                                 "w (e.g. 30d)");
}

static void test_dora_window_quotes_control_bytes(void **state)
{
    struct ferr err;
    int64_t ms;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dora_parse_window("3\n\x1b[2Jd", &ms, &err), FERR_INVALID);
    assert_null(strchr(err.msg, '\n'));
    assert_null(strchr(err.msg, '\x1b'));
}

/* ---------- empty input ---------- */

static void test_dora_empty_input_gives_nulls(void **state)
{
    json_t *in = input_new();
    json_t *o = dora_compute(in, T0, T0 + 30 * DAY);

    (void)state;
    assert_non_null(o);
    assert_string_equal(str(o, "since"), "2026-01-01T00:00:00.000Z");
    assert_string_equal(str(o, "until"), "2026-01-31T00:00:00.000Z");
    assert_near(dnum(o, "days"), 30);
    /* no deployment is a frequency of 0, a real one */
    assert_int_equal(inum(o, "deployment_frequency.count"), 0);
    assert_near(dnum(o, "deployment_frequency.per_day"), 0);
    assert_string_equal(str(o, "deployment_frequency.rating"), "low");
    /* but no rate of nothing */
    assert_int_equal(inum(o, "lead_time.count"), 0);
    assert_null_at(o, "lead_time.median_s");
    assert_null_at(o, "lead_time.p90_s");
    assert_null_at(o, "lead_time.rating");
    assert_null_at(o, "lead_time.met");
    assert_int_equal(inum(o, "change_failure_rate.total"), 0);
    assert_null_at(o, "change_failure_rate.rate");
    assert_null_at(o, "change_failure_rate.rating");
    assert_null_at(o, "time_to_restore.median_s");
    assert_int_equal(inum(o, "time_to_restore.open"), 0);
    assert_null_at(o, "deployment_success_rate.rate");
    assert_null_at(o, "builds.success_rate");
    assert_null_at(o, "builds.avg_duration_s");
    assert_null_at(o, "coverage.latest");
    assert_null_at(o, "coverage.min");
    assert_null_at(o, "tests.latest_total");
    assert_null_at(o, "tests.latest_failed");
    /* targets are there all the same */
    assert_near(dnum(o, "deployment_frequency.target"), 15);
    assert_near(dnum(o, "lead_time.target"), 86400);
    assert_near(dnum(o, "change_failure_rate.target"), 0.05);
    assert_near(dnum(o, "time_to_restore.target"), 1800);
    assert_near(dnum(o, "deployment_success_rate.target"), 0.95);
    assert_near(dnum(o, "builds.target_success_rate"), 0.95);
    assert_near(dnum(o, "builds.target_avg_duration_s"), 3600);
    assert_near(dnum(o, "coverage.target"), 0.7);
    /* one day each, all empty */
    assert_int_equal(json_array_size(at(o, "series")), 30);
    assert_string_equal(str(o, "series.0.day"), "2026-01-01");
    assert_string_equal(str(o, "series.29.day"), "2026-01-30");
    assert_int_equal(inum(o, "series.29.deployments"), 0);
    assert_null_at(o, "series.29.lead_time_median_s");
    assert_null_at(o, "series.29.coverage");
    json_decref(o);
    json_decref(in);
}

static void test_dora_missing_arrays_are_empty(void **state)
{
    json_t *in = json_object();
    json_t *o = dora_compute(in, T0, T0 + DAY);

    (void)state;
    assert_int_equal(inum(o, "deployment_frequency.count"), 0);
    assert_int_equal(inum(o, "builds.total"), 0);
    assert_int_equal(json_array_size(at(o, "series")), 1);
    json_decref(o);
    o = dora_compute(NULL, T0, T0 + DAY);
    assert_int_equal(inum(o, "deployment_frequency.count"), 0);
    json_decref(o);
    json_decref(in);
}

/* ---------- the four keys ---------- */

static void test_dora_lead_time_median_odd_count(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 100);
    shipped(in, 2, T0 + 2 * HOUR, 300);
    shipped(in, 3, T0 + 3 * HOUR, 200);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "lead_time.count"), 3);
    assert_near(dnum(o, "lead_time.median_s"), 200);
    /* rank 0.9 * 2 = 1.8: 200 + 0.8 * (300 - 200) */
    assert_near(dnum(o, "lead_time.p90_s"), 280);
    assert_string_equal(str(o, "lead_time.rating"), "elite");
    assert_true(json_is_true(at(o, "lead_time.met")));
    json_decref(o);
    json_decref(in);
}

static void test_dora_lead_time_median_even_count(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 100);
    shipped(in, 2, T0 + 2 * HOUR, 300);
    shipped(in, 3, T0 + 3 * HOUR, 200);
    shipped(in, 4, T0 + 4 * HOUR, 1000);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "lead_time.count"), 4);
    assert_near(dnum(o, "lead_time.median_s"), 250); /* (200 + 300) / 2 */
    /* rank 0.9 * 3 = 2.7: 300 + 0.7 * (1000 - 300) */
    assert_near(dnum(o, "lead_time.p90_s"), 790);
    json_decref(o);
    json_decref(in);
}

static void test_dora_lead_time_counts_only_shipped_changes(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 600);
    /* no commit time known */
    dep(in, 2, "production", "deploy", "success", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, 0, 0);
    /* failed: it shipped nothing */
    dep(in, 3, "production", "deploy", "failure", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, T0, 0);
    /* a commit "after" the deployment: a clock skew, left out */
    dep(in, 4, "production", "deploy", "success", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, T0 + 2 * HOUR, 0);
    /* a rollback is no change */
    dep(in, 5, "production", "rollback", "success", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, T0, 0);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "lead_time.count"), 1);
    assert_near(dnum(o, "lead_time.median_s"), 600);
    assert_near(dnum(o, "lead_time.p90_s"), 600);
    json_decref(o);
    json_decref(in);
}

static void test_dora_lead_time_rating_bands(void **state)
{
    static const struct {
        int64_t lead_s;
        const char *rating;
        bool met;
    } cases[] = {
        {86399, "elite", true},         {86400, "high", false},
        {7 * 86400 - 1, "high", false}, {7 * 86400, "medium", false},
        {30 * 86400, "low", false},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        json_t *in = input_new();
        json_t *o;

        shipped(in, 1, T0 + HOUR, cases[i].lead_s);
        o = dora_compute(in, T0, T0 + DAY);
        assert_string_equal(str(o, "lead_time.rating"), cases[i].rating);
        assert_int_equal(json_is_true(at(o, "lead_time.met")), cases[i].met);
        json_decref(o);
        json_decref(in);
    }
}

static void test_dora_frequency_counts_started_deploys(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    for (int i = 0; i < 30; i++)
        shipped(in, i + 1, T0 + i * DAY + HOUR, 60);
    /* never reached production: rejected, waiting */
    dep(in, 100, "production", "deploy", "rejected", T0 + HOUR, 0,
        T0 + 2 * HOUR, 0, 0);
    dep(in, 101, "production", "deploy", "waiting", T0 + HOUR, 0, 0, 0, 0);
    o = dora_compute(in, T0, T0 + 30 * DAY);
    assert_int_equal(inum(o, "deployment_frequency.count"), 30);
    assert_near(dnum(o, "deployment_frequency.per_day"), 1);
    assert_near(dnum(o, "deployment_frequency.per_month"), 30);
    assert_string_equal(str(o, "deployment_frequency.rating"), "elite");
    assert_true(json_is_true(at(o, "deployment_frequency.met")));
    json_decref(o);
    json_decref(in);
}

static void test_dora_frequency_rating_bands(void **state)
{
    /* deployments in 30 days -> rating, target (15 a month) met */
    static const struct {
        int n;
        const char *rating;
        bool met;
    } cases[] = {
        {0, "low", false},   {1, "medium", false}, {4, "medium", false},
        {5, "high", false},  {15, "high", true},   {29, "high", true},
        {30, "elite", true},
    };

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        json_t *in = input_new();
        json_t *o;

        for (int i = 0; i < cases[c].n; i++)
            shipped(in, i + 1, T0 + HOUR + i * 60000, 60);
        o = dora_compute(in, T0, T0 + 30 * DAY);
        if (strcmp(str(o, "deployment_frequency.rating"), cases[c].rating))
            fail_msg("%d deployments: %s, want %s", cases[c].n,
                     str(o, "deployment_frequency.rating"), cases[c].rating);
        assert_int_equal(json_is_true(at(o, "deployment_frequency.met")),
                         cases[c].met);
        json_decref(o);
        json_decref(in);
    }
}

static void test_dora_failing_statuses_count_as_failures(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 60);
    dep(in, 2, "production", "deploy", "failure", T0 + HOUR, T0 + HOUR,
        T0 + 2 * HOUR, 0, 0);
    dep(in, 3, "production", "deploy", "rolled_back", T0 + HOUR, T0 + HOUR,
        T0 + 2 * HOUR, 0, 0);
    dep(in, 4, "production", "deploy", "escalated", T0 + HOUR, T0 + HOUR,
        T0 + 2 * HOUR, 0, 0);
    dep(in, 5, "production", "deploy", "failed", T0 + HOUR, T0 + HOUR,
        T0 + 2 * HOUR, 0, 0);
    shipped(in, 6, T0 + 3 * HOUR, 60);
    shipped(in, 7, T0 + 3 * HOUR, 60);
    shipped(in, 8, T0 + 3 * HOUR, 60);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "change_failure_rate.failed"), 4);
    assert_int_equal(inum(o, "change_failure_rate.total"), 8);
    assert_near(dnum(o, "change_failure_rate.rate"), 0.5);
    assert_string_equal(str(o, "change_failure_rate.rating"), "low");
    assert_false(json_is_true(at(o, "change_failure_rate.met")));
    assert_int_equal(inum(o, "deployment_success_rate.succeeded"), 4);
    assert_int_equal(inum(o, "deployment_success_rate.total"), 8);
    assert_near(dnum(o, "deployment_success_rate.rate"), 0.5);
    json_decref(o);
    json_decref(in);
}

static void test_dora_rollback_after_deploy_is_a_failure(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 60);
    shipped(in, 2, T0 + 2 * HOUR, 60); /* rolled back by 5 */
    /* staging's deployment is not what production's rollback undoes */
    dep(in, 3, "staging", "deploy", "success", T0 + 2 * HOUR, T0 + 2 * HOUR,
        T0 + 2 * HOUR + 1, 0, 0);
    /* queued, never started: 2 is still what runs */
    dep(in, 4, "production", "deploy", "cancelled", T0 + 2 * HOUR, 0,
        T0 + 2 * HOUR + 5, 0, 0);
    dep(in, 5, "production", "rollback", "success", T0 + 3 * HOUR,
        T0 + 3 * HOUR, T0 + 3 * HOUR + 1, 0, 0);
    shipped(in, 6, T0 + 4 * HOUR, 60);
    o = dora_compute(in, T0, T0 + DAY);
    /* 1, 2, 3 (staging), 6 */
    assert_int_equal(inum(o, "deployment_frequency.count"), 4);
    assert_int_equal(inum(o, "change_failure_rate.failed"), 1);
    assert_int_equal(inum(o, "change_failure_rate.total"), 4);
    assert_near(dnum(o, "change_failure_rate.rate"), 0.25);
    /* the deployment itself succeeded: the change failed */
    assert_int_equal(inum(o, "deployment_success_rate.succeeded"), 4);
    json_decref(o);
    json_decref(in);
}

static void test_dora_rollback_before_any_deploy_marks_nothing(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    dep(in, 1, "production", "rollback", "success", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, 0, 0);
    shipped(in, 2, T0 + 2 * HOUR, 60);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "change_failure_rate.failed"), 0);
    assert_int_equal(inum(o, "change_failure_rate.total"), 1);
    assert_near(dnum(o, "change_failure_rate.rate"), 0);
    assert_string_equal(str(o, "change_failure_rate.rating"), "elite");
    assert_true(json_is_true(at(o, "change_failure_rate.met")));
    json_decref(o);
    json_decref(in);
}

static void test_dora_incident_marks_its_deployment(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    /* the store's flag, as SQLite gives it (0/1) */
    dep(in, 1, "production", "deploy", "success", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, 0, 1);
    /* named by an incident row only */
    shipped(in, 2, T0 + 2 * HOUR, 60);
    incident(in, 1, 2, T0 + 3 * HOUR, T0 + 3 * HOUR + 60000);
    shipped(in, 3, T0 + 4 * HOUR, 60);
    shipped(in, 4, T0 + 5 * HOUR, 60);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "change_failure_rate.failed"), 2);
    assert_int_equal(inum(o, "change_failure_rate.total"), 4);
    assert_near(dnum(o, "change_failure_rate.rate"), 0.5);
    json_decref(o);
    json_decref(in);
}

static void test_dora_in_progress_deploy_not_yet_decided(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 60);
    dep(in, 2, "production", "deploy", "in_progress", T0 + 2 * HOUR,
        T0 + 2 * HOUR, 0, 0, 0);
    dep(in, 3, "production", "deploy", "rolling_back", T0 + 2 * HOUR,
        T0 + 2 * HOUR, 0, 0, 0);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "deployment_frequency.count"), 3);
    /* 1 succeeded, 3 is failing, 2 has no verdict yet */
    assert_int_equal(inum(o, "change_failure_rate.failed"), 1);
    assert_int_equal(inum(o, "change_failure_rate.total"), 2);
    assert_int_equal(inum(o, "deployment_success_rate.total"), 1);
    json_decref(o);
    json_decref(in);
}

static void test_dora_cfr_rating_bands(void **state)
{
    /* failures among 20 -> rating */
    static const struct {
        int failed;
        const char *rating;
    } cases[] = {
        {0, "elite"}, {1, "elite"}, {2, "high"}, {3, "medium"}, {4, "low"}};

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        json_t *in = input_new();
        json_t *o;

        for (int i = 0; i < 20; i++)
            dep(in, i + 1, "production", "deploy",
                i < cases[c].failed ? "failure" : "success", T0 + HOUR,
                T0 + HOUR, T0 + HOUR + 1, 0, 0);
        o = dora_compute(in, T0, T0 + DAY);
        assert_string_equal(str(o, "change_failure_rate.rating"),
                            cases[c].rating);
        /* the target is under 5 %: 1 of 20 is not under it */
        assert_int_equal(json_is_true(at(o, "change_failure_rate.met")),
                         cases[c].failed == 0);
        json_decref(o);
        json_decref(in);
    }
}

static void test_dora_restore_median_and_open_incidents(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    incident(in, 1, 0, T0 + HOUR, T0 + HOUR + 60000);          /* 60 s */
    incident(in, 2, 0, T0 + 2 * HOUR, T0 + 2 * HOUR + 120000); /* 120 s */
    incident(in, 3, 0, T0 + 3 * HOUR, 0);                      /* open */
    incident(in, 4, 0, T0 + 4 * HOUR, 0);                      /* open */
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "time_to_restore.count"), 2);
    assert_int_equal(inum(o, "time_to_restore.open"), 2);
    assert_near(dnum(o, "time_to_restore.median_s"), 90);
    assert_string_equal(str(o, "time_to_restore.rating"), "elite");
    assert_true(json_is_true(at(o, "time_to_restore.met")));
    assert_near(dnum(o, "series.0.restore_median_s"), 90);
    json_decref(o);
    json_decref(in);
}

static void test_dora_only_open_incidents_give_null(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    incident(in, 1, 0, T0 + HOUR, 0);
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "time_to_restore.count"), 0);
    assert_int_equal(inum(o, "time_to_restore.open"), 1);
    assert_null_at(o, "time_to_restore.median_s");
    assert_null_at(o, "time_to_restore.rating");
    json_decref(o);
    json_decref(in);
}

static void test_dora_restore_rating_bands(void **state)
{
    static const struct {
        int64_t secs;
        const char *rating;
        bool met;
    } cases[] = {{1799, "elite", true},
                 {1800, "elite", false},
                 {3600, "high", false},
                 {86400, "medium", false},
                 {7 * 86400, "low", false}};

    (void)state;
    for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
        json_t *in = input_new();
        json_t *o;

        incident(in, 1, 0, T0 + HOUR, T0 + HOUR + cases[c].secs * 1000);
        o = dora_compute(in, T0, T0 + DAY);
        assert_string_equal(str(o, "time_to_restore.rating"), cases[c].rating);
        assert_int_equal(json_is_true(at(o, "time_to_restore.met")),
                         cases[c].met);
        json_decref(o);
        json_decref(in);
    }
}

/* ---------- builds and reports ---------- */

static void test_dora_builds(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    run(in, 1, "completed", "success", T0 + HOUR, T0 + HOUR, T0 + HOUR + 60000);
    run(in, 2, "completed", "success", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 120000);
    run(in, 3, "completed", "failure", T0 + DAY + HOUR, T0 + DAY + HOUR,
        T0 + DAY + HOUR + 300000);
    run(in, 4, "completed", "cancelled", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 999000);
    run(in, 5, "running", NULL, T0 + HOUR, T0 + HOUR, 0);
    run(in, 6, "completed", "skipped", T0 + HOUR, 0, T0 + HOUR);
    o = dora_compute(in, T0, T0 + 2 * DAY);
    assert_int_equal(inum(o, "builds.total"), 5);
    assert_int_equal(inum(o, "builds.success"), 2);
    assert_int_equal(inum(o, "builds.failure"), 1);
    assert_int_equal(inum(o, "builds.cancelled"), 1);
    assert_near(dnum(o, "builds.success_rate"), 2.0 / 3.0);
    assert_near(dnum(o, "builds.avg_duration_s"), 160); /* (60+120+300)/3 */
    assert_false(json_is_true(at(o, "builds.success_rate_met")));
    assert_true(json_is_true(at(o, "builds.avg_duration_met")));
    assert_int_equal(inum(o, "series.0.builds"), 4);
    assert_int_equal(inum(o, "series.0.failed_builds"), 0);
    assert_int_equal(inum(o, "series.1.builds"), 1);
    assert_int_equal(inum(o, "series.1.failed_builds"), 1);
    json_decref(o);
    json_decref(in);
}

static void test_dora_coverage_and_tests_latest(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    report(in, 1, "coverage", T0 + HOUR,
           json_pack("{s:s, s:f}", "kind", "coverage", "line_rate", 0.6));
    report(in, 2, "coverage", T0 + 3 * HOUR,
           json_pack("{s:s, s:f}", "kind", "coverage", "line_rate", 0.8));
    report(in, 3, "coverage", T0 + 2 * HOUR,
           json_pack("{s:s, s:f}", "kind", "coverage", "line_rate", 0.7));
    report(in, 2, "tests", T0 + 3 * HOUR,
           json_pack("{s:s, s:i, s:i, s:i}", "kind", "tests", "tests", 10,
                     "failures", 1, "errors", 2));
    report(in, 1, "tests", T0 + HOUR,
           json_pack("{s:s, s:i}", "kind", "tests", "tests", 4));
    report(in, 4, "coverage", T0 + DAY + HOUR,
           json_pack("{s:s, s:i}", "kind", "coverage", "line_rate", 1));
    o = dora_compute(in, T0, T0 + DAY); /* the last one is outside */
    assert_near(dnum(o, "coverage.latest"), 0.8);
    assert_near(dnum(o, "coverage.min"), 0.6);
    assert_near(dnum(o, "coverage.max"), 0.8);
    assert_true(json_is_true(at(o, "coverage.met")));
    assert_int_equal(inum(o, "tests.latest_total"), 10);
    assert_int_equal(inum(o, "tests.latest_failed"), 3);
    assert_near(dnum(o, "series.0.coverage"), 0.8);
    json_decref(o);
    json_decref(in);
}

static void test_dora_coverage_out_of_range_skipped(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    report(in, 1, "coverage", T0 + HOUR,
           json_pack("{s:s, s:f}", "kind", "coverage", "line_rate", 0.5));
    report(in, 2, "coverage", T0 + 2 * HOUR,
           json_pack("{s:s, s:f}", "kind", "coverage", "line_rate", 1.5));
    report(in, 3, "coverage", T0 + 3 * HOUR,
           json_pack("{s:s, s:s}", "kind", "coverage", "line_rate", "0.9"));
    report(in, 4, "coverage", T0 + 4 * HOUR,
           json_pack("{s:s, s:f}", "kind", "coverage", "line_rate", -0.1));
    o = dora_compute(in, T0, T0 + DAY);
    assert_near(dnum(o, "coverage.latest"), 0.5);
    assert_false(json_is_true(at(o, "coverage.met")));
    json_decref(o);
    json_decref(in);
}

/* ---------- odd rows ---------- */

static void test_dora_rows_missing_fields_skipped(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + HOUR, 60);
    add(in, "deployments", json_string("not an object"));
    add(in, "deployments", json_pack("{s:s}", "kind", "deploy"));
    add(in, "deployments",
        json_pack("{s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:I}", "id", "2", "repo",
                  "app", "environment", "production", "kind", "deploy",
                  "status", "failure", "created_at", (json_int_t)(T0 + HOUR),
                  "started_at", (json_int_t)(T0 + HOUR), "finished_at",
                  (json_int_t)(T0 + HOUR)));
    add(in, "deployments",
        json_pack("{s:I, s:s, s:s, s:s, s:I, s:I, s:I}", "id", 3, "repo", "app",
                  "environment", "production", "status", "failure",
                  "created_at", (json_int_t)(T0 + HOUR), "started_at",
                  (json_int_t)(T0 + HOUR), "finished_at",
                  (json_int_t)(T0 + HOUR))); /* no kind */
    dep(in, 4, "production", "canary", "failure", T0 + HOUR, T0 + HOUR,
        T0 + HOUR + 1, 0, 0); /* an unknown kind */
    add(in, "incidents", json_pack("{s:I, s:s}", "id", 1, "status", "open"));
    add(in, "incidents", json_null());
    add(in, "runs",
        json_pack("{s:I, s:s, s:s}", "id", 1, "status", "completed",
                  "conclusion", "failure"));
    run(in, 2, "completed", "success", T0 + HOUR, T0 + HOUR, T0 + HOUR + 1000);
    add(in, "reports",
        json_pack("{s:I, s:s}", "run_id", 1, "kind", "coverage"));
    add(in, "reports",
        json_pack("{s:I, s:s, s:I, s:s}", "run_id", 1, "kind", "coverage",
                  "created_at", (json_int_t)(T0 + HOUR), "summary", "x"));
    o = dora_compute(in, T0, T0 + DAY);
    assert_int_equal(inum(o, "deployment_frequency.count"), 1);
    assert_int_equal(inum(o, "change_failure_rate.failed"), 0);
    assert_int_equal(inum(o, "time_to_restore.open"), 0);
    assert_int_equal(inum(o, "builds.total"), 1);
    assert_near(dnum(o, "builds.success_rate"), 1);
    assert_null_at(o, "coverage.latest");
    json_decref(o);
    json_decref(in);
}

static void test_dora_arrays_of_the_wrong_type_ignored(void **state)
{
    json_t *in = json_pack("{s:s, s:i, s:{}, s:n}", "deployments", "x",
                           "incidents", 3, "runs", "reports");
    json_t *o = dora_compute(in, T0, T0 + DAY);

    (void)state;
    assert_int_equal(inum(o, "deployment_frequency.count"), 0);
    assert_int_equal(inum(o, "builds.total"), 0);
    json_decref(o);
    json_decref(in);
}

/* ---------- the series ---------- */

static void test_dora_series_by_utc_day(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + 10 * HOUR, 100); /* 2026-01-01 */
    shipped(in, 2, T0 + 11 * HOUR, 300); /* 2026-01-01 */
    dep(in, 3, "production", "deploy", "failure", T0 + 2 * DAY + HOUR,
        T0 + 2 * DAY + HOUR, T0 + 2 * DAY + 2 * HOUR, 0, 0); /* 01-03 */
    o = dora_compute(in, T0, T0 + 3 * DAY);
    assert_int_equal(json_array_size(at(o, "series")), 3);
    assert_string_equal(str(o, "series.2.day"), "2026-01-03");
    assert_int_equal(inum(o, "series.0.deployments"), 2);
    assert_int_equal(inum(o, "series.0.failed_deployments"), 0);
    assert_near(dnum(o, "series.0.lead_time_median_s"), 200);
    assert_int_equal(inum(o, "series.1.deployments"), 0);
    assert_null_at(o, "series.1.lead_time_median_s");
    assert_int_equal(inum(o, "series.2.deployments"), 1);
    assert_int_equal(inum(o, "series.2.failed_deployments"), 1);
    json_decref(o);
    json_decref(in);
}

static void test_dora_series_of_unaligned_window(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    shipped(in, 1, T0 + DAY + HOUR, 100);
    /* 12:00 to 12:00 the next day touches two UTC days */
    o = dora_compute(in, T0 + 12 * HOUR, T0 + DAY + 12 * HOUR);
    assert_int_equal(json_array_size(at(o, "series")), 2);
    assert_string_equal(str(o, "series.0.day"), "2026-01-01");
    assert_string_equal(str(o, "series.1.day"), "2026-01-02");
    assert_int_equal(inum(o, "series.1.deployments"), 1);
    assert_near(dnum(o, "days"), 1);
    assert_string_equal(str(o, "since"), "2026-01-01T12:00:00.000Z");
    json_decref(o);
    json_decref(in);
}

static void test_dora_series_is_bounded(void **state)
{
    json_t *in = input_new();
    json_t *o;

    (void)state;
    /* no window this long comes through the API; still bounded */
    o = dora_compute(in, 0, T0);
    assert_int_equal(json_array_size(at(o, "series")), 367);
    assert_string_equal(str(o, "series.366.day"), "2025-12-31");
    json_decref(o);
    /* an empty or reversed window has no days */
    o = dora_compute(in, T0, T0);
    assert_int_equal(json_array_size(at(o, "series")), 0);
    assert_null_at(o, "deployment_frequency.per_day");
    json_decref(o);
    o = dora_compute(in, T0, T0 - DAY);
    assert_int_equal(json_array_size(at(o, "series")), 0);
    json_decref(o);
    json_decref(in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dora_window_parses_units),
        cmocka_unit_test(test_dora_window_allows_366_days),
        cmocka_unit_test(test_dora_window_rejects_longer_than_366_days),
        cmocka_unit_test(test_dora_window_rejects_malformed),
        cmocka_unit_test(test_dora_window_rejects_null),
        cmocka_unit_test(test_dora_window_quotes_control_bytes),
        cmocka_unit_test(test_dora_empty_input_gives_nulls),
        cmocka_unit_test(test_dora_missing_arrays_are_empty),
        cmocka_unit_test(test_dora_lead_time_median_odd_count),
        cmocka_unit_test(test_dora_lead_time_median_even_count),
        cmocka_unit_test(test_dora_lead_time_counts_only_shipped_changes),
        cmocka_unit_test(test_dora_lead_time_rating_bands),
        cmocka_unit_test(test_dora_frequency_counts_started_deploys),
        cmocka_unit_test(test_dora_frequency_rating_bands),
        cmocka_unit_test(test_dora_failing_statuses_count_as_failures),
        cmocka_unit_test(test_dora_rollback_after_deploy_is_a_failure),
        cmocka_unit_test(test_dora_rollback_before_any_deploy_marks_nothing),
        cmocka_unit_test(test_dora_incident_marks_its_deployment),
        cmocka_unit_test(test_dora_in_progress_deploy_not_yet_decided),
        cmocka_unit_test(test_dora_cfr_rating_bands),
        cmocka_unit_test(test_dora_restore_median_and_open_incidents),
        cmocka_unit_test(test_dora_only_open_incidents_give_null),
        cmocka_unit_test(test_dora_restore_rating_bands),
        cmocka_unit_test(test_dora_builds),
        cmocka_unit_test(test_dora_coverage_and_tests_latest),
        cmocka_unit_test(test_dora_coverage_out_of_range_skipped),
        cmocka_unit_test(test_dora_rows_missing_fields_skipped),
        cmocka_unit_test(test_dora_arrays_of_the_wrong_type_ignored),
        cmocka_unit_test(test_dora_series_by_utc_day),
        cmocka_unit_test(test_dora_series_of_unaligned_window),
        cmocka_unit_test(test_dora_series_is_bounded),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
