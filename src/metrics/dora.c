/* dora: the four keys and the build figures from the rows the store
 * hands out (store_dora_input), as the Four Keys project computes them:
 * medians are PERCENTILE_CONT(0.5) (the mean of the two middle values
 * for an even count), days are UTC days.  It reads JSON and builds JSON;
 * it does no I/O, keeps no state and never trusts a row: one with a
 * missing or mistyped field is left out, never a reason to fail. */
#include "metrics/dora.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "util/span.h"
#include "util/xalloc.h"

#define MS_MIN          60000LL
#define MS_HOUR         (60LL * MS_MIN)
#define MS_DAY          (24LL * MS_HOUR)
#define MS_WEEK         (7LL * MS_DAY)
#define WINDOW_MAX_DAYS 366LL
#define SERIES_MAX_DAYS 367LL /* a 366-day window not aligned on midnight */
#define DAYS_PER_MONTH  30.0  /* per_month = per_day * 30 */

/* The seed's targets (dora.h) */
#define TARGET_PER_MONTH      15.0
#define TARGET_LEAD_S         86400.0
#define TARGET_CFR            0.05
#define TARGET_RESTORE_S      1800.0
#define TARGET_DEPLOY_SUCCESS 0.95
#define TARGET_BUILD_SUCCESS  0.95
#define TARGET_BUILD_S        3600.0
#define TARGET_COVERAGE       0.7

/* ---------- the window ---------- */

static enum ferr_code bad_window(const char *s, struct ferr *err)
{
    char q[72];

    return ferr_set(err, FERR_INVALID, NULL,
                    "bad window '%s': use a count and m, h, d or w "
                    "(e.g. 30d)",
                    span_quote(s ? s : "", s ? strlen(s) : 0, q));
}

enum ferr_code dora_parse_window(const char *s, int64_t *out_ms,
                                 struct ferr *err)
{
    static const struct {
        char unit;
        int64_t ms;
    } units[] = {{'m', MS_MIN}, {'h', MS_HOUR}, {'d', MS_DAY}, {'w', MS_WEEK}};
    int64_t unit_ms = 0;
    uint64_t count;
    size_t n;
    char q[72];

    *out_ms = 0;
    if (!s)
        return bad_window(s, err);
    n = strlen(s);
    if (n < 2 || n > 16)
        return bad_window(s, err);
    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
        if (s[n - 1] == units[i].unit)
            unit_ms = units[i].ms;
    if (!unit_ms || s[0] < '0' || s[0] > '9' ||
        span_to_u64(span_of(s, n - 1), &count) || count == 0)
        return bad_window(s, err);
    /* compare counts, not products: no overflow for any count */
    if (count > (uint64_t)(WINDOW_MAX_DAYS * MS_DAY / unit_ms))
        return ferr_set(err, FERR_INVALID, NULL,
                        "bad window '%s': at most %lld days",
                        span_quote(s, n, q), (long long)WINDOW_MAX_DAYS);
    *out_ms = (int64_t)count * unit_ms;
    return FERR_OK;
}

/* ---------- reading rows ---------- */

/* An integer field (ms, ids); false when missing or not an integer. */
static bool get_int(const json_t *o, const char *key, int64_t *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        return false;
    *out = (int64_t)json_integer_value(v);
    return true;
}

static const char *get_str(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* A flag the store may give as a JSON bool or as SQLite's 0/1. */
static bool get_flag(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
}

static bool get_num(const json_t *o, const char *key, double *out)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out);
}

static const json_t *rows(const json_t *input, const char *key)
{
    json_t *a = json_object_get(input, key);

    return json_is_array(a) ? a : NULL;
}

static bool is(const char *s, const char *want)
{
    return s && strcmp(s, want) == 0;
}

/* ---------- statistics ---------- */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

/* PERCENTILE_CONT(@p) of the @n sorted values @v (n > 0): linear
 * interpolation between the closest ranks. */
static double percentile(const double *v, size_t n, double p)
{
    double rank = p * (double)(n - 1);
    size_t lo = (size_t)floor(rank);
    size_t hi = lo + 1 < n ? lo + 1 : lo;

    return v[lo] + (v[hi] - v[lo]) * (rank - (double)lo);
}

/* A value tagged with its UTC day (index in the series; -1 when outside
 * it), in a growable list. */
struct pt {
    long day;
    double v;
};

struct vals {
    struct pt *p;
    size_t n, cap;
};

static void vals_add(struct vals *vs, long day, double v)
{
    if (vs->n == vs->cap) {
        vs->cap = vs->cap ? vs->cap * 2 : 64;
        vs->p = xrealloc(vs->p, vs->cap * sizeof(*vs->p));
    }
    vs->p[vs->n].day = day;
    vs->p[vs->n].v = v;
    vs->n++;
}

static int cmp_pt(const void *a, const void *b)
{
    const struct pt *x = a;
    const struct pt *y = b;

    if (x->day != y->day)
        return (x->day > y->day) - (x->day < y->day);
    return (x->v > y->v) - (x->v < y->v);
}

/* The median and p90 of all of @vs, and each day's median into
 * @day_median (NAN when a day has none). */
static void vals_stats(struct vals *vs, double *median, double *p90,
                       double *day_median, long ndays)
{
    double *all;

    *median = NAN;
    *p90 = NAN;
    for (long d = 0; d < ndays; d++)
        day_median[d] = NAN;
    if (vs->n == 0)
        return;
    all = xmalloc(vs->n * sizeof(*all));
    for (size_t i = 0; i < vs->n; i++)
        all[i] = vs->p[i].v;
    qsort(all, vs->n, sizeof(*all), cmp_double);
    *median = percentile(all, vs->n, 0.5);
    *p90 = percentile(all, vs->n, 0.9);
    free(all);
    qsort(vs->p, vs->n, sizeof(*vs->p), cmp_pt);
    for (size_t i = 0; i < vs->n;) {
        size_t j = i;

        while (j < vs->n && vs->p[j].day == vs->p[i].day)
            j++;
        if (vs->p[i].day >= 0 && vs->p[i].day < ndays) {
            size_t m = j - i;
            const struct pt *g = vs->p + i;

            day_median[vs->p[i].day] =
                m % 2 ? g[m / 2].v : (g[m / 2 - 1].v + g[m / 2].v) / 2;
        }
        i = j;
    }
}

/* ---------- ratings: the DORA report's clusters ---------- */

/* 2023 Accelerate State of DevOps: elite deploys on demand (here: at
 * least daily), high between daily and weekly, medium between weekly and
 * monthly, low less often.  Counted against @days so that 15 in 30 days
 * is exactly 15 a month. */
static const char *rate_frequency(double count, double days)
{
    if (count >= days)
        return "elite";
    if (count * 7.0 >= days)
        return "high";
    if (count * DAYS_PER_MONTH >= days)
        return "medium";
    return "low";
}

/* elite under a day, high under a week, medium under a month */
static const char *rate_lead(double s)
{
    if (s < 86400.0)
        return "elite";
    if (s < 7 * 86400.0)
        return "high";
    if (s < 30 * 86400.0)
        return "medium";
    return "low";
}

/* the clusters' change failure rates: 5 %, 10 %, 15 %, above */
static const char *rate_cfr(double r)
{
    if (r <= 0.05)
        return "elite";
    if (r <= 0.10)
        return "high";
    if (r <= 0.15)
        return "medium";
    return "low";
}

/* elite under an hour, high under a day, medium under a week */
static const char *rate_restore(double s)
{
    if (s < 3600.0)
        return "elite";
    if (s < 86400.0)
        return "high";
    if (s < 7 * 86400.0)
        return "medium";
    return "low";
}

/* ---------- building the answer ---------- */

static json_t *num(double v)
{
    return isnan(v) ? json_null() : json_real(v);
}

static json_t *str_if(bool have, const char *s)
{
    return have ? json_string(s) : json_null();
}

static json_t *met(bool have, bool ok)
{
    return have ? json_boolean(ok) : json_null();
}

static json_t *rfc3339(int64_t ms)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    char out[48];
    int64_t frac = ms % 1000;

    if (frac < 0) {
        frac += 1000;
        t -= 1;
    }
    if (!gmtime_r(&t, &tm) ||
        strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%S", &tm) == 0)
        return json_null();
    snprintf(out + strlen(out), sizeof(out) - strlen(out), ".%03dZ", (int)frac);
    return json_string(out);
}

static json_t *day_name(int64_t day_ms)
{
    time_t t = (time_t)(day_ms / 1000);
    struct tm tm;
    char out[32];

    if (!gmtime_r(&t, &tm) || strftime(out, sizeof(out), "%Y-%m-%d", &tm) == 0)
        return json_null();
    return json_string(out);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

/* ---------- deployments ---------- */

struct dep {
    int64_t id;
    const char *repo, *env, *status;
    bool rollback; /* kind "rollback" */
    int64_t created, started, finished, commit_at;
    bool incident; /* an incident names it */
    bool failed;
};

static bool read_dep(const json_t *o, struct dep *d)
{
    const char *kind = get_str(o, "kind");

    memset(d, 0, sizeof(*d));
    d->repo = get_str(o, "repo");
    d->env = get_str(o, "environment");
    d->status = get_str(o, "status");
    if (!kind || !d->repo || !d->env || !d->status ||
        !get_int(o, "id", &d->id) || !get_int(o, "created_at", &d->created) ||
        !get_int(o, "started_at", &d->started) ||
        !get_int(o, "finished_at", &d->finished))
        return false;
    if (is(kind, "rollback"))
        d->rollback = true;
    else if (!is(kind, "deploy"))
        return false;
    if (!get_int(o, "commit_at", &d->commit_at))
        d->commit_at = 0;
    d->incident = get_flag(o, "incident");
    return true;
}

/* It reached its environment: what DORA counts as a deployment. */
static bool counted(const struct dep *d)
{
    return !d->rollback && d->started > 0;
}

static int cmp_dep_id(const void *a, const void *b)
{
    const struct dep *x = a;
    const struct dep *y = b;

    return (x->id > y->id) - (x->id < y->id);
}

/* by (repo, environment, id): each environment's history in order */
static int cmp_dep_env(const void *a, const void *b)
{
    const struct dep *x = *(const struct dep *const *)a;
    const struct dep *y = *(const struct dep *const *)b;
    int c = strcmp(x->repo, y->repo);

    if (!c)
        c = strcmp(x->env, y->env);
    return c ? c : cmp_dep_id(x, y);
}

/* Mark what failed: a failing status, an incident naming it, or a
 * rollback of its environment before the next deployment reached it. */
static void mark_failures(struct dep *deps, size_t n)
{
    struct dep **order = xmalloc((n ? n : 1) * sizeof(*order));
    struct dep *last = NULL;

    for (size_t i = 0; i < n; i++) {
        const char *st = deps[i].status;

        deps[i].failed = deps[i].incident || is(st, "failure") ||
                         is(st, "failed") || is(st, "rolled_back") ||
                         is(st, "escalated") || is(st, "rolling_back");
        order[i] = &deps[i];
    }
    qsort(order, n, sizeof(*order), cmp_dep_env);
    for (size_t i = 0; i < n; i++) {
        struct dep *d = order[i];

        if (i > 0 && (strcmp(d->repo, order[i - 1]->repo) != 0 ||
                      strcmp(d->env, order[i - 1]->env) != 0))
            last = NULL;
        if (counted(d))
            last = d;
        else if (d->rollback && last)
            last->failed = true;
    }
    free(order);
}

/* The incidents' own deployment ids mark deployments too (a store that
 * does not fill "incident" still gets them counted). */
static void mark_incidents(struct dep *deps, size_t n, const json_t *incs)
{
    size_t i;
    json_t *o;

    json_array_foreach (incs, i, o) {
        struct dep key;
        struct dep *d;

        if (!get_int(o, "deployment_id", &key.id))
            continue;
        d = bsearch(&key, deps, n, sizeof(*deps), cmp_dep_id);
        if (d)
            d->incident = true;
    }
}

/* ---------- the whole computation ---------- */

struct series {
    int64_t since, until; /* the window, ms */
    int64_t day0;         /* ms of the first UTC midnight */
    long ndays;
    long *deploys, *failed, *builds, *failed_builds;
    double *lead, *restore, *coverage; /* NAN: none */
    int64_t *coverage_at;              /* the newest report of the day */
};

/* Whether @ms is in the window: the store's rows are, but a row that is
 * not must not skew the figures. */
static bool inside(const struct series *sr, int64_t ms)
{
    return ms >= sr->since && ms < sr->until;
}

static long day_of(const struct series *sr, int64_t ms)
{
    int64_t d = floor_div(ms - sr->day0, MS_DAY);

    return d >= 0 && d < sr->ndays ? (long)d : -1;
}

static void series_init(struct series *sr, int64_t since, int64_t until)
{
    int64_t first = floor_div(since, MS_DAY);
    int64_t last = floor_div(until - 1, MS_DAY);
    int64_t n = until > since ? last - first + 1 : 0;

    if (n > SERIES_MAX_DAYS) { /* the most recent days of a huge window */
        first = last - SERIES_MAX_DAYS + 1;
        n = SERIES_MAX_DAYS;
    }
    sr->since = since;
    sr->until = until;
    sr->day0 = first * MS_DAY;
    sr->ndays = (long)n;
    sr->deploys = xcalloc((size_t)n + 1, sizeof(long));
    sr->failed = xcalloc((size_t)n + 1, sizeof(long));
    sr->builds = xcalloc((size_t)n + 1, sizeof(long));
    sr->failed_builds = xcalloc((size_t)n + 1, sizeof(long));
    sr->lead = xcalloc((size_t)n + 1, sizeof(double));
    sr->restore = xcalloc((size_t)n + 1, sizeof(double));
    sr->coverage = xcalloc((size_t)n + 1, sizeof(double));
    sr->coverage_at = xcalloc((size_t)n + 1, sizeof(int64_t));
    for (long d = 0; d < sr->ndays; d++)
        sr->coverage[d] = NAN;
}

static void series_release(struct series *sr)
{
    free(sr->deploys);
    free(sr->failed);
    free(sr->builds);
    free(sr->failed_builds);
    free(sr->lead);
    free(sr->restore);
    free(sr->coverage);
    free(sr->coverage_at);
}

static json_t *series_json(const struct series *sr)
{
    json_t *a = json_array();

    for (long d = 0; d < sr->ndays; d++)
        json_array_append_new(
            a,
            json_pack("{s:o, s:I, s:I, s:o, s:o, s:I, s:I, s:o}", "day",
                      day_name(sr->day0 + (int64_t)d * MS_DAY), "deployments",
                      (json_int_t)sr->deploys[d], "failed_deployments",
                      (json_int_t)sr->failed[d], "lead_time_median_s",
                      num(sr->lead[d]), "restore_median_s", num(sr->restore[d]),
                      "builds", (json_int_t)sr->builds[d], "failed_builds",
                      (json_int_t)sr->failed_builds[d], "coverage",
                      num(sr->coverage[d])));
    return a;
}

static void deploy_figures(const json_t *input, struct series *sr, double days,
                           json_t *out)
{
    const json_t *drows = rows(input, "deployments");
    const json_t *irows = rows(input, "incidents");
    size_t cap = json_array_size(drows);
    struct dep *deps = xmalloc((cap ? cap : 1) * sizeof(*deps));
    struct vals lead = {NULL, 0, 0};
    size_t n = 0;
    size_t i;
    json_t *o;
    long count = 0, decided = 0, failed = 0, finished = 0, succeeded = 0;
    double median, p90, per_day, per_month;

    json_array_foreach (drows, i, o)
        if (read_dep(o, &deps[n]) && inside(sr, deps[n].created))
            n++;
    qsort(deps, n, sizeof(*deps), cmp_dep_id);
    mark_incidents(deps, n, irows);
    mark_failures(deps, n);
    for (i = 0; i < n; i++) {
        const struct dep *d = &deps[i];
        long day = day_of(sr, d->created);
        int64_t at = d->finished > 0 ? d->finished : d->started;

        if (!counted(d))
            continue;
        count++;
        if (day >= 0)
            sr->deploys[day]++;
        if (d->failed || d->finished > 0)
            decided++;
        if (d->failed) {
            failed++;
            if (day >= 0)
                sr->failed[day]++;
        }
        if (d->finished > 0) {
            finished++;
            succeeded += is(d->status, "success");
        }
        /* a change shipped: the commit's age when it went live */
        if (is(d->status, "success") && d->commit_at > 0 && at >= d->commit_at)
            vals_add(&lead, day, (double)(at - d->commit_at) / 1000.0);
    }
    free(deps);

    per_day = days > 0 ? (double)count / days : NAN;
    per_month = days > 0 ? (double)count * DAYS_PER_MONTH / days : NAN;
    json_object_set_new(
        out, "deployment_frequency",
        json_pack("{s:I, s:o, s:o, s:o, s:f, s:o}", "count", (json_int_t)count,
                  "per_day", num(per_day), "per_month", num(per_month),
                  "rating",
                  str_if(days > 0, rate_frequency((double)count, days)),
                  "target", TARGET_PER_MONTH, "met",
                  met(days > 0, per_month >= TARGET_PER_MONTH)));

    vals_stats(&lead, &median, &p90, sr->lead, sr->ndays);
    json_object_set_new(out, "lead_time",
                        json_pack("{s:I, s:o, s:o, s:o, s:f, s:o}", "count",
                                  (json_int_t)lead.n, "median_s", num(median),
                                  "p90_s", num(p90), "rating",
                                  str_if(!isnan(median), rate_lead(median)),
                                  "target", TARGET_LEAD_S, "met",
                                  met(!isnan(median), median < TARGET_LEAD_S)));
    free(lead.p);

    {
        double rate = decided ? (double)failed / (double)decided : NAN;

        json_object_set_new(
            out, "change_failure_rate",
            json_pack("{s:I, s:I, s:o, s:o, s:f, s:o}", "failed",
                      (json_int_t)failed, "total", (json_int_t)decided, "rate",
                      num(rate), "rating", str_if(!isnan(rate), rate_cfr(rate)),
                      "target", TARGET_CFR, "met",
                      met(!isnan(rate), rate < TARGET_CFR)));
    }
    {
        double rate = finished ? (double)succeeded / (double)finished : NAN;

        json_object_set_new(
            out, "deployment_success_rate",
            json_pack("{s:I, s:I, s:o, s:f, s:o}", "succeeded",
                      (json_int_t)succeeded, "total", (json_int_t)finished,
                      "rate", num(rate), "target", TARGET_DEPLOY_SUCCESS, "met",
                      met(!isnan(rate), rate > TARGET_DEPLOY_SUCCESS)));
    }
}

static void restore_figures(const json_t *input, struct series *sr, json_t *out)
{
    struct vals rs = {NULL, 0, 0};
    long open = 0;
    double median, p90;
    size_t i;
    json_t *o;

    json_array_foreach (rows(input, "incidents"), i, o) {
        int64_t opened, resolved;

        if (!get_str(o, "status") || !get_int(o, "opened_at", &opened) ||
            !get_int(o, "resolved_at", &resolved) || !inside(sr, opened))
            continue;
        if (resolved <= 0)
            open++;
        else if (resolved >= opened)
            vals_add(&rs, day_of(sr, opened),
                     (double)(resolved - opened) / 1000.0);
    }
    vals_stats(&rs, &median, &p90, sr->restore, sr->ndays);
    json_object_set_new(
        out, "time_to_restore",
        json_pack("{s:I, s:I, s:o, s:o, s:f, s:o}", "count", (json_int_t)rs.n,
                  "open", (json_int_t)open, "median_s", num(median), "rating",
                  str_if(!isnan(median), rate_restore(median)), "target",
                  TARGET_RESTORE_S, "met",
                  met(!isnan(median), median < TARGET_RESTORE_S)));
    free(rs.p);
}

static void build_figures(const json_t *input, struct series *sr, json_t *out)
{
    long total = 0, success = 0, failure = 0, cancelled = 0, timed = 0;
    double secs = 0;
    size_t i;
    json_t *o;

    json_array_foreach (rows(input, "runs"), i, o) {
        const char *concl = get_str(o, "conclusion");
        int64_t id, created, started, finished;
        long day;

        if (!get_int(o, "id", &id) || !get_int(o, "created_at", &created) ||
            !get_int(o, "started_at", &started) ||
            !get_int(o, "finished_at", &finished) ||
            !is(get_str(o, "status"), "completed") || !concl ||
            !inside(sr, created))
            continue;
        day = day_of(sr, created);
        total++;
        if (day >= 0)
            sr->builds[day]++;
        if (is(concl, "success")) {
            success++;
        } else if (is(concl, "failure")) {
            failure++;
            if (day >= 0)
                sr->failed_builds[day]++;
        } else if (is(concl, "cancelled")) {
            cancelled++;
        }
        /* a build's time: ones that ran to a verdict */
        if ((is(concl, "success") || is(concl, "failure")) && started > 0 &&
            finished >= started) {
            timed++;
            secs += (double)(finished - started) / 1000.0;
        }
    }
    {
        double rate = success + failure
                          ? (double)success / (double)(success + failure)
                          : NAN;
        double avg = timed ? secs / (double)timed : NAN;

        json_object_set_new(
            out, "builds",
            json_pack(
                "{s:I, s:I, s:I, s:I, s:o, s:o, s:f, s:f, s:o, s:o}", "total",
                (json_int_t)total, "success", (json_int_t)success, "failure",
                (json_int_t)failure, "cancelled", (json_int_t)cancelled,
                "success_rate", num(rate), "avg_duration_s", num(avg),
                "target_success_rate", TARGET_BUILD_SUCCESS,
                "target_avg_duration_s", TARGET_BUILD_S, "success_rate_met",
                met(!isnan(rate), rate > TARGET_BUILD_SUCCESS),
                "avg_duration_met", met(!isnan(avg), avg < TARGET_BUILD_S)));
    }
}

static void report_figures(const json_t *input, struct series *sr, json_t *out)
{
    double cov = NAN, lo = NAN, hi = NAN;
    int64_t cov_at = INT64_MIN, tests_at = INT64_MIN;
    int64_t tests_total = -1, tests_failed = -1;
    size_t i;
    json_t *o;

    json_array_foreach (rows(input, "reports"), i, o) {
        const char *kind = get_str(o, "kind");
        json_t *sum = json_object_get(o, "summary");
        int64_t at, run;
        double rate;
        long day;

        if (!kind || !json_is_object(sum) || !get_int(o, "created_at", &at) ||
            !get_int(o, "run_id", &run) || !inside(sr, at))
            continue;
        day = day_of(sr, at);
        if (is(kind, "coverage") && get_num(sum, "line_rate", &rate) &&
            rate >= 0 && rate <= 1) {
            /* rows come oldest first: the later of equal times wins */
            if (at >= cov_at) {
                cov = rate;
                cov_at = at;
            }
            lo = isnan(lo) || rate < lo ? rate : lo;
            hi = isnan(hi) || rate > hi ? rate : hi;
            if (day >= 0 && at >= sr->coverage_at[day]) {
                sr->coverage[day] = rate;
                sr->coverage_at[day] = at;
            }
        } else if (is(kind, "tests")) {
            int64_t tests, failures = 0, errors = 0;

            if (!get_int(sum, "tests", &tests) || tests < 0)
                continue;
            (void)get_int(sum, "failures", &failures);
            (void)get_int(sum, "errors", &errors);
            if (failures < 0 || errors < 0 || at < tests_at)
                continue;
            tests_at = at;
            tests_total = tests;
            tests_failed = failures + errors;
        }
    }
    json_object_set_new(out, "coverage",
                        json_pack("{s:o, s:o, s:o, s:f, s:o}", "latest",
                                  num(cov), "min", num(lo), "max", num(hi),
                                  "target", TARGET_COVERAGE, "met",
                                  met(!isnan(cov), cov > TARGET_COVERAGE)));
    json_object_set_new(
        out, "tests",
        json_pack("{s:o, s:o}", "latest_total",
                  tests_total < 0 ? json_null() : json_integer(tests_total),
                  "latest_failed",
                  tests_failed < 0 ? json_null() : json_integer(tests_failed)));
}

json_t *dora_compute(const json_t *input, int64_t since_ms, int64_t until_ms)
{
    double days = (double)(until_ms - since_ms) / (double)MS_DAY;
    struct series sr;
    json_t *out;

    series_init(&sr, since_ms, until_ms);
    out = json_pack("{s:o, s:o, s:f}", "since", rfc3339(since_ms), "until",
                    rfc3339(until_ms), "days", days > 0 ? days : 0.0);
    deploy_figures(input, &sr, days, out);
    restore_figures(input, &sr, out);
    build_figures(input, &sr, out);
    report_figures(input, &sr, out);
    json_object_set_new(out, "series", series_json(&sr));
    series_release(&sr);
    return out;
}
