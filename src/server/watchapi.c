/* watchapi: the HTTP handlers of watching — the DORA figures over a
 * window (metrics/dora.c over the store's rows), a run's report
 * summaries, and a repository's coverage or test-count trend.  Thin:
 * parse, ask the store, answer JSON; the figures are dora.c's and the
 * rows the store's, nothing is computed or cached here. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/dora.h"
#include "server/api.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define DEFAULT_WINDOW "30d"
#define TREND_DEFAULT  50u
#define TREND_MAX      200u

/* A query parameter, NULL when absent or empty. */
static const char *query(struct api_ctx *c, const char *name)
{
    const char *v = httpd_req_query(c->req, name);

    return v && *v ? v : NULL;
}

void watchapi_dora(struct api_ctx *c)
{
    const char *win = query(c, "window");
    const char *rname = query(c, "repo");
    const char *env = query(c, "environment");
    struct store_repo repo;
    json_t *in = NULL;
    json_t *out;
    struct ferr err;
    int64_t window, now;

    ferr_clear(&err);
    memset(&repo, 0, sizeof(repo));
    if (!win)
        win = DEFAULT_WINDOW;
    if (dora_parse_window(win, &window, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    if (env && !cd_env_name_ok(env)) {
        httpd_respond_error(c->req, 422,
                            "an environment name is 1..%u letters, digits, "
                            "'-', '_' or '.'",
                            LIM_NAME);
        return;
    }
    if (rname && !api_load_repo(c, rname, &repo))
        return;
    now = server_now_ms(c->s);
    if (store_dora_input(c->s->store, rname ? repo.id : 0, env, now - window,
                         now, &in, &err)) {
        api_fail(c, err.code, &err);
        store_repo_release(&repo);
        return;
    }
    out = dora_compute(in, now - window, now);
    json_object_set_new(out, "window", json_string(win));
    json_object_set_new(out, "repo",
                        rname ? json_string(repo.name) : json_null());
    json_object_set_new(out, "environment",
                        env ? json_string(env) : json_null());
    httpd_respond_json(c->req, 200, out);
    json_decref(in);
    store_repo_release(&repo);
}

void watchapi_run_reports(struct api_ctx *c)
{
    struct store_run run;
    json_t *out = NULL;
    struct ferr err;
    int64_t id;

    ferr_clear(&err);
    memset(&run, 0, sizeof(run));
    if (!api_cap_id(c, 0, &id))
        return;
    if (store_run_get(c->s->store, id, &run, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no run %" PRId64, id);
        else
            api_fail(c, err.code, &err);
        return;
    }
    if (store_report_list(c->s->store, id, &out, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(
            c->req, 200,
            json_pack("{s:I, s:o}", "run_id", (json_int_t)id, "reports", out));
    store_run_release(&run);
}

/* The figure a trend point plots: coverage's line rate, the test count. */
static json_t *point_value(const char *kind, const json_t *summary)
{
    json_t *v = json_object_get(
        summary, strcmp(kind, "coverage") == 0 ? "line_rate" : "tests");

    return json_is_number(v) ? json_incref(v) : json_null();
}

void watchapi_trend(struct api_ctx *c)
{
    const char *kind = query(c, "kind");
    const char *branch = query(c, "branch");
    const char *lim = query(c, "limit");
    uint64_t limit = TREND_DEFAULT;
    struct store_repo repo;
    json_t *rows = NULL;
    json_t *points;
    json_t *out;
    json_t *v;
    struct ferr err;
    char *ref = NULL;
    size_t n;

    ferr_clear(&err);
    if (!kind ||
        (strcmp(kind, "coverage") != 0 && strcmp(kind, "tests") != 0)) {
        httpd_respond_error(c->req, 422, "'kind' must be coverage or tests");
        return;
    }
    if (lim && (span_to_u64(span_cstr(lim), &limit) || limit == 0 ||
                limit > TREND_MAX)) {
        httpd_respond_error(c->req, 400, "'limit' must be 1..%u", TREND_MAX);
        return;
    }
    if (branch && strlen(branch) > LIM_REF_BYTES) {
        httpd_respond_error(c->req, 422, "'branch' is longer than %u bytes",
                            LIM_REF_BYTES);
        return;
    }
    if (!api_load_repo(c, c->caps[0], &repo))
        return;
    /* a name is a branch; a full ref is taken as it is */
    if (!branch)
        branch = repo.default_branch;
    ref = strncmp(branch, "refs/", 5) == 0 ? xstrdup(branch)
                                           : xasprintf("refs/heads/%s", branch);
    if (store_report_trend(c->s->store, repo.id, ref, kind, (size_t)limit,
                           &rows, &err)) {
        api_fail(c, err.code, &err);
        goto done;
    }
    /* the store answers newest first; a trend reads left to right */
    points = json_array();
    n = json_array_size(rows);
    for (size_t i = n; i-- > 0;) {
        json_t *p = json_array_get(rows, i);

        json_object_set_new(p, "value",
                            point_value(kind, json_object_get(p, "summary")));
        json_array_append(points, p);
    }
    out = json_pack("{s:s, s:s, s:o}", "repo", repo.name, "kind", kind,
                    "points", points);
    v = json_string(ref); /* NULL for a ref that is not UTF-8 */
    json_object_set_new(out, "ref", v ? v : json_null());
    httpd_respond_json(c->req, 200, out);
done:
    json_decref(rows);
    free(ref);
    store_repo_release(&repo);
}
