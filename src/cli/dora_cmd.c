/* dora_cmd: `ferry dora`, the DORA figures and the build figures of the
 * server (GET /api/v1/dora) as a small table, each beside its target
 * with a tick or a cross, or the API's JSON with --json.  A client verb
 * (remote.h): it computes nothing itself, the server's answer says what
 * is met.  Exit status: 0 shown, 1 the server refused or the request
 * failed (its message on stderr), 2 bad usage. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/remote.h"
#include "metrics/dora.h"
#include "util/buf.h"
#include "util/limits.h"

#define REFUSED 1 /* exit status of a refused or failed request */

/* A number of the figure @fig's field @key; false when null/missing. */
static bool fnum(const json_t *fig, const char *key, double *out)
{
    json_t *v = json_object_get(fig, key);

    if (!json_is_number(v))
        return false;
    *out = json_number_value(v);
    return isfinite(*out);
}

static json_int_t fint(const json_t *fig, const char *key)
{
    return remote_jint(fig, key);
}

/* "✓", "✗", or "-" when the server could not tell. */
static const char *mark(const json_t *fig, const char *key)
{
    json_t *v = json_object_get(fig, key);

    if (json_is_true(v))
        return "\u2713";
    if (json_is_false(v))
        return "\u2717";
    return "-";
}

/* @rate as a percent with one decimal, rounded towards failing the
 * target (@higher_is_better: down) so that a rate shown as meeting it
 * does. */
static void pct(char *out, size_t n, double rate, bool higher_is_better)
{
    double p = rate * 1000.0;

    p = higher_is_better ? floor(p + 1e-9) : ceil(p - 1e-9);
    snprintf(out, n, "%.1f%%", p / 10.0);
}

/* "850ms", "4.2s", then remote_fmt_duration's "4m05s", "1h02m"... */
static void duration(char *out, size_t n, double secs)
{
    if (secs < 1.0)
        snprintf(out, n, "%.0fms", secs < 0 ? 0.0 : secs * 1000.0);
    else if (secs < 10.0)
        snprintf(out, n, "%.1fs", secs);
    else
        remote_fmt_duration(out, n, (long long)llround(secs));
}

struct row {
    char value[96];
    char target[32];
};

static void add(struct remote_table *t, const char *name, const struct row *r,
                const char *tick, const char *rating)
{
    const char *cells[5] = {name, r->value, r->target, tick, rating};

    remote_table_row(t, cells);
}

/* "last 30d (2026-11-01 10:04 to 2026-12-01 10:04 UTC), repository app,
 *  production environments" */
static void print_head(const json_t *ans)
{
    char since[32], until[32];
    const char *repo = remote_jstr(ans, "repo", NULL);
    const char *env = remote_jstr(ans, "environment", NULL);
    char *line;
    struct buf b;

    buf_init(&b, 1024);
    remote_fmt_when(since, sizeof(since), remote_jstr(ans, "since", NULL));
    remote_fmt_when(until, sizeof(until), remote_jstr(ans, "until", NULL));
    if (buf_addf(&b, "KEY METRICS  last %s (%s to %s UTC), ",
                 remote_jstr(ans, "window", "?"), since, until) ||
        (repo ? buf_addf(&b, "repository %s, ", repo)
              : buf_adds(&b, "every repository, ")) ||
        (env ? buf_addf(&b, "environment %s", env)
             : buf_adds(&b, "production environments")))
        buf_reset(&b); /* names are short: not reached */
    line = remote_clean_dup(buf_cstr(&b));
    printf("%s\n\n", line);
    free(line);
    buf_release(&b);
}

static void print_figures(const json_t *ans)
{
    static const char *const head[] = {"METRIC", "VALUE", "TARGET", "", "DORA"};
    struct remote_table t = {5, 0, NULL};
    const json_t *df = json_object_get(ans, "deployment_frequency");
    const json_t *lt = json_object_get(ans, "lead_time");
    const json_t *cf = json_object_get(ans, "change_failure_rate");
    const json_t *tr = json_object_get(ans, "time_to_restore");
    const json_t *ds = json_object_get(ans, "deployment_success_rate");
    const json_t *bu = json_object_get(ans, "builds");
    const json_t *cv = json_object_get(ans, "coverage");
    char d1[32], d2[32];
    struct row r;
    double v, tg;

    print_head(ans);
    remote_table_row(&t, head);

    /* deployment frequency: a month's worth, as the seed's target */
    memset(&r, 0, sizeof(r));
    if (fnum(df, "per_month", &v))
        snprintf(r.value, sizeof(r.value),
                 "%.1f/month (%" JSON_INTEGER_FORMAT " in %s)", v,
                 fint(df, "count"), remote_jstr(ans, "window", "?"));
    else
        snprintf(r.value, sizeof(r.value), "-");
    snprintf(r.target, sizeof(r.target), ">= %g/month",
             fnum(df, "target", &tg) ? tg : 15);
    add(&t, "Deployment frequency", &r, mark(df, "met"),
        remote_jstr(df, "rating", "-"));

    memset(&r, 0, sizeof(r));
    if (fnum(lt, "median_s", &v)) {
        duration(d1, sizeof(d1), v);
        snprintf(r.value, sizeof(r.value),
                 "%s (median of %" JSON_INTEGER_FORMAT ")", d1,
                 fint(lt, "count"));
    } else {
        snprintf(r.value, sizeof(r.value), "-");
    }
    duration(d2, sizeof(d2), fnum(lt, "target", &tg) ? tg : 86400);
    snprintf(r.target, sizeof(r.target), "< %s", d2);
    add(&t, "Lead time", &r, mark(lt, "met"), remote_jstr(lt, "rating", "-"));

    memset(&r, 0, sizeof(r));
    if (fnum(cf, "rate", &v)) {
        pct(d1, sizeof(d1), v, false);
        snprintf(r.value, sizeof(r.value),
                 "%s (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT ")",
                 d1, fint(cf, "failed"), fint(cf, "total"));
    } else {
        snprintf(r.value, sizeof(r.value), "-");
    }
    pct(d2, sizeof(d2), fnum(cf, "target", &tg) ? tg : 0.05, false);
    snprintf(r.target, sizeof(r.target), "< %s", d2);
    add(&t, "Change failure rate", &r, mark(cf, "met"),
        remote_jstr(cf, "rating", "-"));

    memset(&r, 0, sizeof(r));
    if (fnum(tr, "median_s", &v)) {
        duration(d1, sizeof(d1), v);
        snprintf(r.value, sizeof(r.value),
                 "%s (median of %" JSON_INTEGER_FORMAT ", %" JSON_INTEGER_FORMAT
                 " open)",
                 d1, fint(tr, "count"), fint(tr, "open"));
    } else if (fint(tr, "open") > 0) {
        snprintf(r.value, sizeof(r.value), "- (%" JSON_INTEGER_FORMAT " open)",
                 fint(tr, "open"));
    } else {
        snprintf(r.value, sizeof(r.value), "-");
    }
    duration(d2, sizeof(d2), fnum(tr, "target", &tg) ? tg : 1800);
    snprintf(r.target, sizeof(r.target), "< %s", d2);
    add(&t, "Time to restore", &r, mark(tr, "met"),
        remote_jstr(tr, "rating", "-"));

    memset(&r, 0, sizeof(r));
    if (fnum(ds, "rate", &v)) {
        pct(d1, sizeof(d1), v, true);
        snprintf(r.value, sizeof(r.value),
                 "%s (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT ")",
                 d1, fint(ds, "succeeded"), fint(ds, "total"));
    } else {
        snprintf(r.value, sizeof(r.value), "-");
    }
    pct(d2, sizeof(d2), fnum(ds, "target", &tg) ? tg : 0.95, true);
    snprintf(r.target, sizeof(r.target), "> %s", d2);
    add(&t, "Deployment success rate", &r, mark(ds, "met"), "");

    memset(&r, 0, sizeof(r));
    if (fnum(bu, "success_rate", &v)) {
        pct(d1, sizeof(d1), v, true);
        snprintf(r.value, sizeof(r.value),
                 "%s (%" JSON_INTEGER_FORMAT " of %" JSON_INTEGER_FORMAT ")",
                 d1, fint(bu, "success"),
                 fint(bu, "success") + fint(bu, "failure"));
    } else {
        snprintf(r.value, sizeof(r.value), "-");
    }
    pct(d2, sizeof(d2), fnum(bu, "target_success_rate", &tg) ? tg : 0.95, true);
    snprintf(r.target, sizeof(r.target), "> %s", d2);
    add(&t, "Build success rate", &r, mark(bu, "success_rate_met"), "");

    memset(&r, 0, sizeof(r));
    if (fnum(bu, "avg_duration_s", &v))
        duration(r.value, sizeof(r.value), v);
    else
        snprintf(r.value, sizeof(r.value), "-");
    duration(d2, sizeof(d2),
             fnum(bu, "target_avg_duration_s", &tg) ? tg : 3600);
    snprintf(r.target, sizeof(r.target), "< %s", d2);
    add(&t, "Avg build time", &r, mark(bu, "avg_duration_met"), "");

    memset(&r, 0, sizeof(r));
    if (fnum(cv, "latest", &v))
        pct(r.value, sizeof(r.value), v, true);
    else
        snprintf(r.value, sizeof(r.value), "-");
    pct(d2, sizeof(d2), fnum(cv, "target", &tg) ? tg : 0.7, true);
    snprintf(r.target, sizeof(r.target), "> %s", d2);
    add(&t, "Coverage", &r, mark(cv, "met"), "");

    remote_table_print_free(&t);
}

int cli_dora(int argc, char **argv)
{
    const struct remote_verb v = {"dora", "ferry dora [--repo R] [--env E] "
                                          "[--window 30d] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL, *env = NULL, *window = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {"--env", NULL, REMOTE_OPT_STR, &env},
        {"--window", "-w", REMOTE_OPT_STR, &window},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    struct client *c = NULL;
    json_t *ans = NULL;
    struct buf path;
    struct ferr err;
    bool first = true;
    int64_t ms;
    size_t npos;
    int rc;

    ferr_clear(&err);
    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        goto done;
    if (window && dora_parse_window(window, &ms, &err)) {
        rc = remote_usage(&v, "%s", err.msg);
        goto done;
    }
    rc = 2;
    if (!remote_path_fmt(&path, "/api/v1/dora") ||
        !remote_add_query(&path, &first, "window", window) ||
        !remote_add_query(&path, &first, "repo", repo) ||
        !remote_add_query(&path, &first, "environment", env))
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0)
        goto done;
    if (client_json(c, "GET", buf_cstr(&path), NULL, NULL, &ans, &err)) {
        (void)remote_fail(&err);
        rc = REFUSED;
        goto done;
    }
    rc = 0;
    if (cm.json)
        remote_print_json(ans);
    else if (json_is_object(ans))
        print_figures(ans);
    else if (remote_fail_msg("the server's answer is not an object"))
        rc = REFUSED;
done:
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}
