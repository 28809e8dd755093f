/* dashruns: the dashboard's CI pages — the runs list with its filters,
 * a run (its job graph drawn from the workflow's `needs`, steps, reports
 * and artifacts, a cancel form), its logs with groups folded, and the
 * SSE stream the live log follows.  It renders through src/web/ and the
 * dash_* answers; sign-in, CSRF and routing are dash.c's. */
#include "server/dash.h"

#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/artifact.h"
#include "exec/workspace.h"
#include "pipeline/wf.h"
#include "server/route.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/span.h"
#include "util/xalloc.h"
#include "web/dag.h"
#include "web/html.h"

#define RUNS_PER_PAGE   50
#define LOG_READ_MAX    ((size_t)64 << 20) /* what the log page reads */
#define LOG_HTML_MAX    ((size_t)LIM_WEB_PAGE - ((size_t)1 << 20))

static const char *shortref(const char *ref)
{
    if (!ref)
        return "";
    if (strncmp(ref, "refs/heads/", 11) == 0)
        return ref + 11;
    if (strncmp(ref, "refs/tags/", 10) == 0)
        return ref + 10;
    return ref;
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static const char *const run_statuses[] = {"queued", "waiting", "running",
                                           "completed", NULL};
static const char *const conclusions[] = {"success", "failure", "cancelled",
                                          "skipped", NULL};

static int64_t span_ms(int64_t from, int64_t to)
{
    return from > 0 && to >= from ? to - from : -1;
}

/* Capture @i as an id; false after answering 404. */
static bool cap_id(struct dash_ctx *d, size_t i, int64_t *out)
{
    if (i < d->api.ncaps && route_id(d->api.caps[i], out))
        return true;
    dash_error(d, 404, "no such id '%s'",
               i < d->api.ncaps ? d->api.caps[i] : "");
    return false;
}

static bool load_run(struct dash_ctx *d, int64_t id, struct store_run *out)
{
    struct ferr err;

    ferr_clear(&err);
    memset(out, 0, sizeof(*out));
    if (store_run_get(d->api.s->store, id, out, &err) == FERR_OK)
        return true;
    if (err.code == FERR_NOTFOUND) {
        dash_error(d, 404, "no run %" PRId64, id);
    } else {
        log_err("cannot read run=%" PRId64 " err='%s'", id, err.msg);
        dash_error(d, 500, "cannot read run %" PRId64 " now", id);
    }
    return false;
}

/* ---------- the runs list ---------- */

static void filter_select(struct buf *b, const char *name, const char *label,
                          const char *const *opts, const char *cur)
{
    html_addf(b,
              "<label>%s<select name=\"%s\"><option value=\"\">any"
              "</option>",
              label, name);
    for (size_t i = 0; opts[i]; i++) {
        html_addf(b, "<option%s>",
                  cur && strcmp(cur, opts[i]) == 0 ? " selected" : "");
        html_esc(b, opts[i]);
        html_add(b, "</option>");
    }
    html_add(b, "</select></label>");
}

/* "repo=..&branch=.." of the filters set, each followed by '&'. */
static void filter_query(struct buf *b, const struct store_run_filter *f)
{
    const char *names[] = {"repo", "branch", "status", "conclusion"};
    const char *vals[] = {f->repo, f->ref, f->status, f->conclusion};

    for (size_t i = 0; i < 4; i++) {
        if (!vals[i])
            continue;
        html_addf(b, "%s=", names[i]);
        html_urlenc(b, vals[i]);
        html_add(b, "&amp;");
    }
}

/* The workflow's name, else its file's name. */
static const char *wf_name(const struct store_run *r)
{
    const char *slash;

    if (r->workflow_name && *r->workflow_name)
        return r->workflow_name;
    if (!r->workflow)
        return "";
    slash = strrchr(r->workflow, '/');
    return slash && slash[1] ? slash + 1 : r->workflow;
}

static void run_title(struct buf *b, const struct store_run *r)
{
    html_esc(b, wf_name(r));
    html_addf(b, " #%" PRId64, r->number);
}

static void run_duration(struct buf *b, const struct store_run *r, int64_t now)
{
    if (r->started_at > 0 && r->finished_at > 0) {
        html_duration(b, span_ms(r->started_at, r->finished_at));
    } else if (r->started_at > 0 && strcmp(r->status, "completed") != 0) {
        html_duration(b, span_ms(r->started_at, now));
        html_add(b, "\xe2\x80\xa6");
    } else {
        html_add(b, "\xe2\x80\x94");
    }
}

static void run_row(struct buf *b, const struct store_run *r, int64_t now)
{
    html_addf(b, "<tr data-run=\"%" PRId64 "\"><td>", r->id);
    html_badge(b, r->status, r->conclusion);
    html_addf(b, "</td><td><a href=\"/runs/%" PRId64 "\">", r->id);
    run_title(b, r);
    html_add(b, "</a><div class=\"muted\">");
    html_esc(b, r->event);
    if (r->actor && *r->actor) {
        html_add(b, " by ");
        html_esc(b, r->actor);
    }
    html_add(b, "</div></td><td>");
    html_esc(b, r->repo);
    html_add(b, "</td><td>");
    html_esc(b, shortref(r->ref));
    html_add(b, "</td><td><code>");
    if (r->sha)
        html_escn(b, r->sha, strnlen(r->sha, 7));
    html_add(b, "</code></td><td>");
    html_time_ms(b, r->created_at);
    html_add(b, "</td><td>");
    run_duration(b, r, now);
    html_add(b, "</td></tr>");
}

/* A filter value: NULL when absent or empty; false after answering 400
 * for a bad one. */
static bool filter_arg(struct dash_ctx *d, const char *name,
                       const char *const *set, size_t max, const char **out)
{
    const char *v = dash_query(d, name);

    *out = NULL;
    if (!v || !*v)
        return true;
    if (strlen(v) > max || (set && !one_of(v, set))) {
        dash_error(d, 400, "bad '%s' filter", name);
        return false;
    }
    *out = v;
    return true;
}

void dashruns_list(struct dash_ctx *d)
{
    struct store_run_filter f;
    struct store_run *v = NULL;
    struct store_repo *repos = NULL;
    size_t n = 0, nrepos = 0;
    bool more = false;
    const char *cur = dash_query(d, "cursor");
    struct ferr err;
    struct buf b;
    int64_t now = server_now_ms(d->api.s);
    uint64_t x;

    ferr_clear(&err);
    memset(&f, 0, sizeof(f));
    if (!filter_arg(d, "repo", NULL, LIM_NAME, &f.repo) ||
        !filter_arg(d, "branch", NULL, LIM_REF_BYTES, &f.ref) ||
        !filter_arg(d, "status", run_statuses, 16, &f.status) ||
        !filter_arg(d, "conclusion", conclusions, 16, &f.conclusion))
        return;
    f.limit = RUNS_PER_PAGE;
    if (cur && *cur) {
        if (span_to_u64(span_cstr(cur), &x) || x < 1 || x > INT64_MAX) {
            dash_error(d, 400, "bad 'cursor'");
            return;
        }
        f.before_id = (int64_t)x;
    }
    if (store_run_list(d->api.s->store, &f, &v, &n, &more, &err)) {
        log_err("cannot list runs err='%s'", err.msg);
        dash_error(d, 500, "cannot list the runs now");
        return;
    }
    ferr_clear(&err);
    if (store_repo_list(d->api.s->store, &repos, &nrepos, &err))
        log_warn("cannot list repos err='%s'", err.msg);
    buf_init(&b, LIM_WEB_PAGE);
    html_add(&b, "<form class=\"filters\" method=\"get\" action=\"/runs\">"
                 "<label>Repository<select name=\"repo\"><option value=\"\">"
                 "any</option>");
    for (size_t i = 0; i < nrepos; i++) {
        html_add(&b, "<option");
        if (f.repo && strcmp(f.repo, repos[i].name) == 0)
            html_add(&b, " selected");
        html_add(&b, ">");
        html_esc(&b, repos[i].name);
        html_add(&b, "</option>");
    }
    html_add(&b, "</select></label><label>Branch<input name=\"branch\" "
                 "size=\"14\" value=\"");
    html_esc(&b, f.ref ? f.ref : "");
    html_add(&b, "\"></label>");
    filter_select(&b, "status", "Status", run_statuses, f.status);
    filter_select(&b, "conclusion", "Conclusion", conclusions, f.conclusion);
    html_add(&b, "<button type=\"submit\">Filter</button>"
                 "<a href=\"/runs\">clear</a></form>");
    if (!n) {
        html_add(&b, "<p class=\"note\" id=\"no-runs\">");
        html_add(&b, f.repo || f.ref || f.status || f.conclusion || cur
                         ? "No runs match these filters."
                         : "No runs yet. Add a repository and push, or "
                           "dispatch a workflow.");
        html_add(&b, "</p>");
    } else {
        html_add(&b, "<table class=\"runs\"><thead><tr><th>Status</th>"
                     "<th>Run</th><th>Repository</th><th>Branch</th>"
                     "<th>Commit</th><th>Created</th><th>Duration</th></tr>"
                     "</thead><tbody>");
        for (size_t i = 0; i < n; i++)
            run_row(&b, &v[i], now);
        html_add(&b, "</tbody></table>");
    }
    html_add(&b, "<div class=\"pager\">");
    if (cur && *cur) {
        html_add(&b, "<a href=\"/runs?");
        filter_query(&b, &f);
        html_add(&b, "\" id=\"newest\">\xe2\x86\x90 Newest</a>");
    }
    if (more && n) {
        html_add(&b, "<a href=\"/runs?");
        filter_query(&b, &f);
        html_addf(&b,
                  "cursor=%" PRId64 "\" id=\"older\">Older \xe2\x86\x92"
                  "</a>",
                  v[n - 1].id);
    }
    html_add(&b, "</div>");
    dash_page(d, 200, "Runs", "runs", &b);
    store_runs_free(v, n);
    store_repos_free(repos, nrepos);
}

/* ---------- the run page ---------- */

/* The state of the jobs that share a workflow key. */
static const char *aggregate(const struct store_job *const *rows, size_t n,
                             bool run_done)
{
    bool fail = false, cancel = false, running = false, queued = false;
    bool all_skipped = true;

    if (!n)
        return run_done ? "not_run" : "pending";
    for (size_t i = 0; i < n; i++) {
        const char *c = rows[i]->conclusion;

        if (!c) {
            if (rows[i]->status && strcmp(rows[i]->status, "running") == 0)
                running = true;
            else
                queued = true;
            all_skipped = false;
            continue;
        }
        if (strcmp(c, "failure") == 0)
            fail = true;
        else if (strcmp(c, "cancelled") == 0)
            cancel = true;
        if (strcmp(c, "skipped") != 0)
            all_skipped = false;
    }
    if (running)
        return "running";
    if (fail)
        return "failure";
    if (queued)
        return "queued";
    if (cancel)
        return "cancelled";
    return all_skipped ? "skipped" : "success";
}

struct gnode {
    const char *key;
    const struct store_job **rows;
    size_t nrows;
    char *label, *sub, *href;
};

/* The job graph: one node per workflow job (matrix cells together),
 * edges from `needs`; false when the workflow cannot be read (the
 * caller lists the jobs only). */
static bool draw_graph(struct dash_ctx *d, const struct store_run *r,
                       const struct store_job *jobs, size_t njobs,
                       struct buf *b)
{
    struct ferr err;
    char *path = NULL;
    char *data = NULL;
    size_t len = 0;
    struct arena *a = NULL;
    struct wf *wf = NULL;
    struct diags diags;
    struct gnode *g = NULL;
    size_t ng = 0;
    struct dag_node *nodes = NULL;
    struct dag_edge *edges = NULL;
    size_t ne = 0, cape = 0;
    bool *used = NULL;
    bool ok = false;
    bool done = strcmp(r->status, "completed") == 0;
    int64_t now = server_now_ms(d->api.s);

    ferr_clear(&err);
    diags_init(&diags);
    if (!r->sha || !r->workflow || strlen(r->sha) != 40 ||
        strspn(r->sha, "0123456789abcdef") != 40 || r->sha[40] || workspace_check_relpath(r->workflow, &err))
        goto done;
    path = xasprintf("%s/src/%" PRId64 "/%s/%s", d->api.s->home, r->repo_id,
                     r->sha, r->workflow);
    if (workspace_read_file(path, LIM_WORKFLOW_BYTES, &data, &len, &err))
        goto done;
    a = arena_new(64 * 1024);
    if (wf_load(a, r->workflow, span_of(data, len), &wf, &diags, &err))
        goto done;
    used = xcalloc(njobs + 1, sizeof(*used));
    g = xcalloc(wf->njobs + njobs + 1, sizeof(*g));
    for (size_t i = 0; i < wf->njobs; i++) {
        struct gnode *x = &g[ng++];

        x->key = wf->jobs[i].id;
        x->rows = xcalloc(njobs + 1, sizeof(*x->rows));
        for (size_t j = 0; j < njobs; j++)
            if (jobs[j].job_key && strcmp(jobs[j].job_key, x->key) == 0) {
                x->rows[x->nrows++] = &jobs[j];
                used[j] = true;
            }
    }
    for (size_t j = 0; j < njobs; j++) {
        struct gnode *x;

        if (used[j])
            continue;
        x = &g[ng++];
        x->key = jobs[j].job_key ? jobs[j].job_key : "";
        x->rows = xcalloc(1, sizeof(*x->rows));
        x->rows[x->nrows++] = &jobs[j];
    }
    nodes = xcalloc(ng + 1, sizeof(*nodes));
    for (size_t i = 0; i < ng; i++) {
        struct gnode *x = &g[i];
        const struct wf_job *wj = i < wf->njobs ? &wf->jobs[i] : NULL;
        int64_t first = 0, last = 0;
        bool open = false;

        for (size_t k = 0; k < x->nrows; k++) {
            const struct store_job *j = x->rows[k];

            if (j->started_at > 0 && (!first || j->started_at < first))
                first = j->started_at;
            if (j->finished_at > last)
                last = j->finished_at;
            if (!j->conclusion)
                open = true;
        }
        if (x->nrows == 1)
            x->label =
                xstrdup(x->rows[0]->name && *x->rows[0]->name ? x->rows[0]->name
                                                              : x->key);
        else if (wj && wj->name && !strstr(wj->name, "${{"))
            x->label = xstrdup(wj->name);
        else
            x->label = xstrdup(x->key);
        {
            struct buf s;

            buf_init(&s, 256);
            if (x->nrows > 1)
                html_addf(&s, "%zu jobs \xc2\xb7 ", x->nrows);
            if (first && (open || !last)) {
                html_add(&s, "running \xc2\xb7 ");
                html_duration(&s, now - first);
            } else if (first && last) {
                html_duration(&s, span_ms(first, last));
            } else {
                html_add(&s, aggregate(x->rows, x->nrows, done));
            }
            x->sub = buf_take(&s, NULL);
        }
        if (x->nrows == 1)
            x->href = xasprintf("/runs/%" PRId64 "/logs?job=%" PRId64, r->id,
                                x->rows[0]->id);
        else if (x->nrows > 1)
            x->href = xasprintf("#job-%" PRId64, x->rows[0]->id);
        nodes[i].id = x->key;
        nodes[i].label = x->label;
        nodes[i].sub = x->sub;
        nodes[i].state = aggregate(x->rows, x->nrows, done);
        nodes[i].href = x->href;
    }
    for (size_t i = 0; i < wf->njobs; i++)
        for (size_t k = 0; k < wf->jobs[i].needs.n; k++) {
            const char *need = wf->jobs[i].needs.v[k];

            for (size_t m = 0; m < wf->njobs; m++) {
                if (strcmp(wf->jobs[m].id, need) != 0)
                    continue;
                if (ne == cape) {
                    cape = cape ? cape * 2 : 16;
                    edges = xrealloc(edges, cape * sizeof(*edges));
                }
                edges[ne].from = m;
                edges[ne].to = i;
                ne++;
                break;
            }
        }
    html_add(b, "<div class=\"graph\">");
    if (dag_svg(b, nodes, ng, edges, ne, &err)) {
        html_add(b, "</div><p class=\"note\">The job graph cannot be drawn: ");
        html_esc(b, err.msg);
        html_add(b, ".</p>");
    } else {
        html_add(b, "</div>");
    }
    ok = true;
done:
    if (!ok) {
        html_add(b, "<p class=\"note\" id=\"no-graph\">The workflow file of "
                    "this run is not available any more (");
        html_esc(b, err.msg[0] ? err.msg : "no checkout");
        html_add(b, "), so its job graph cannot be drawn; the jobs are "
                    "listed below.</p>");
    }
    for (size_t i = 0; i < ng; i++) {
        free(g[i].rows);
        free(g[i].label);
        free(g[i].sub);
        free(g[i].href);
    }
    free(g);
    free(nodes);
    free(edges);
    free(used);
    diags_release(&diags);
    arena_free(a);
    free(data);
    free(path);
    return ok;
}

static void job_card(struct dash_ctx *d, struct buf *b,
                     const struct store_run *r, const struct store_job *j,
                     int64_t now)
{
    struct store_step *st = NULL;
    size_t nst = 0;
    struct ferr err;

    ferr_clear(&err);
    html_addf(b, "<div class=\"card job\" id=\"job-%" PRId64 "\" data-key=\"",
              j->id);
    html_esc(b, j->job_key);
    html_add(b, "\"><h3>");
    html_badge(b, j->status, j->conclusion);
    html_add(b, " ");
    html_esc(b, j->name && *j->name ? j->name : j->job_key);
    html_add(b, " <span class=\"muted\">");
    if (j->finished_at > 0) {
        html_duration(b, span_ms(j->started_at, j->finished_at));
    } else if (j->started_at > 0) {
        html_duration(b, span_ms(j->started_at, now));
        html_add(b, "\xe2\x80\xa6");
    }
    html_addf(b,
              "</span> <a href=\"/runs/%" PRId64 "/logs?job=%" PRId64
              "\">log</a></h3>",
              r->id, j->id);
    if (j->reason && *j->reason) {
        html_add(b, "<p class=\"muted\">");
        html_esc(b, j->reason);
        html_add(b, "</p>");
    }
    if (store_step_list(d->api.s->store, j->id, &st, &nst, &err))
        log_warn("cannot list steps job=%" PRId64 " err='%s'", j->id, err.msg);
    if (nst) {
        html_add(b, "<ol class=\"steps\">");
        for (size_t i = 0; i < nst; i++) {
            html_addf(b, "<li><span class=\"num\">%d</span>", st[i].number);
            html_badge(b, st[i].status, st[i].conclusion);
            html_add(b, "<span class=\"name\">");
            html_esc(b, st[i].name);
            html_add(b, "</span><span class=\"dur\">");
            if (st[i].finished_at > 0 && st[i].started_at > 0) {
                html_duration(b, span_ms(st[i].started_at, st[i].finished_at));
            } else if (st[i].started_at > 0 && !st[i].conclusion) {
                html_duration(b, span_ms(st[i].started_at, now));
                html_add(b, "\xe2\x80\xa6");
            }
            html_add(b, "</span></li>");
        }
        html_add(b, "</ol>");
    }
    store_steps_free(st, nst);
    html_add(b, "</div>");
}

static void summary_value(struct buf *b, json_t *v)
{
    char *s;

    if (json_is_string(v)) {
        html_esc(b, json_string_value(v));
        return;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return;
    if (strlen(s) > 160) {
        size_t k = 157;

        while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
        html_escn(b, s, k);
        html_add(b, "\xe2\x80\xa6");
    } else {
        html_esc(b, s);
    }
    free(s);
}

/* A report's job: the engine's instance key ("0-wf-test-2": workflow,
 * job id, matrix cell) shown as the job's name when that is one job,
 * else without its workflow prefix ("test-2"). */
static void report_job(struct buf *b, const char *key,
                       const struct store_job *jobs, size_t njobs)
{
    const char *rest = key ? key : "";
    const struct store_job *one = NULL;
    size_t same = 0;

    while (*rest >= '0' && *rest <= '9')
        rest++;
    rest = rest != key && strncmp(rest, "-wf-", 4) == 0 ? rest + 4 : key;
    for (size_t i = 0; rest && i < njobs; i++)
        if (jobs[i].job_key && strcmp(jobs[i].job_key, rest) == 0) {
            one = &jobs[i];
            same++;
        }
    html_esc(b, same == 1 && one->name && *one->name ? one->name : rest);
}

static void reports_section(struct dash_ctx *d, struct buf *b, int64_t run_id,
                            int attempt, const struct store_job *jobs,
                            size_t njobs)
{
    json_t *arr = NULL;
    struct ferr err;
    size_t i, shown = 0;
    json_t *x;

    ferr_clear(&err);
    if (store_report_list(d->api.s->store, run_id, &arr, &err)) {
        log_warn("cannot list reports run=%" PRId64 " err='%s'", run_id,
                 err.msg);
        return;
    }
    json_array_foreach (arr, i, x) {
        json_t *sum = json_object_get(x, "summary");
        const char *k;
        json_t *v;

        if (json_integer_value(json_object_get(x, "attempt")) != attempt)
            continue;
        if (!shown++)
            html_add(b, "<h2>Reports</h2><table class=\"reports\"><thead><tr>"
                        "<th>Kind</th><th>Job</th><th>Summary</th></tr>"
                        "</thead><tbody>");
        html_add(b, "<tr><td>");
        html_esc(b, json_string_value(json_object_get(x, "kind")));
        html_add(b, "</td><td>");
        report_job(b, json_string_value(json_object_get(x, "job")), jobs,
                   njobs);
        html_add(b, "</td><td><div class=\"kv\">");
        json_object_foreach (sum, k, v) {
            if (strcmp(k, "kind") == 0)
                continue;
            html_add(b, "<span><b>");
            html_esc(b, k);
            html_add(b, "</b> ");
            summary_value(b, v);
            html_add(b, "</span>");
        }
        html_add(b, "</div></td></tr>");
    }
    if (shown)
        html_add(b, "</tbody></table>");
    json_decref(arr);
}

static void artifacts_section(struct dash_ctx *d, struct buf *b, int64_t run_id)
{
    struct artifact_store *as = NULL;
    struct artifact_info *v = NULL;
    size_t n = 0;
    struct ferr err;
    char scope[32];

    ferr_clear(&err);
    snprintf(scope, sizeof(scope), "%" PRId64, run_id);
    if (artifact_store_open(d->api.s->home, &as, &err) ||
        artifact_list(as, scope, &v, &n, &err)) {
        if (err.code != FERR_NOTFOUND)
            log_warn("cannot list artifacts run=%" PRId64 " err='%s'", run_id,
                     err.msg);
        goto done;
    }
    if (!n)
        goto done;
    html_add(b, "<h2>Artifacts</h2><table class=\"artifacts\"><thead><tr>"
                "<th>Name</th><th class=\"num\">Files</th>"
                "<th class=\"num\">Size</th><th>Created</th></tr></thead>"
                "<tbody>");
    for (size_t i = 0; i < n; i++) {
        html_addf(b, "<tr><td><a href=\"/runs/%" PRId64 "/artifacts/", run_id);
        html_urlenc(b, v[i].name);
        html_add(b, "\">");
        html_esc(b, v[i].name);
        html_addf(b,
                  "</a></td><td class=\"num\">%" PRIu64 "</td>"
                  "<td class=\"num\">%" PRIu64 " B</td><td>",
                  v[i].files, v[i].bytes);
        html_time_ms(b, v[i].created_ms);
        html_add(b, "</td></tr>");
    }
    html_add(b, "</tbody></table>");
done:
    artifact_infos_free(v, n);
    artifact_store_free(as);
}

/* ?attempt=N of run @r: 0 (the current one) when absent; -1 after
 * answering 400. */
static int attempt_arg(struct dash_ctx *d, const struct store_run *r)
{
    const char *a = dash_query(d, "attempt");
    uint64_t x;

    if (!a || !*a)
        return 0;
    if (span_to_u64(span_cstr(a), &x) || x < 1 || x > (uint64_t)r->attempt) {
        dash_error(d, 400, "'attempt' must be from 1 to %d", r->attempt);
        return -1;
    }
    return (int)x;
}

static void meta_row(struct buf *b, const char *name)
{
    html_addf(b, "<dt>%s</dt><dd>", name);
}

void dashruns_run(struct dash_ctx *d)
{
    struct store_run r;
    struct store_job *jobs = NULL;
    size_t njobs = 0;
    struct ferr err;
    struct buf b;
    int64_t id;
    int attempt;
    bool done;
    int64_t now = server_now_ms(d->api.s);
    char *title;

    ferr_clear(&err);
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    attempt = attempt_arg(d, &r);
    if (attempt < 0)
        goto out;
    if (!attempt)
        attempt = r.attempt;
    if (store_job_list(d->api.s->store, id, attempt, &jobs, &njobs, &err))
        log_warn("cannot list jobs run=%" PRId64 " err='%s'", id, err.msg);
    done = strcmp(r.status, "completed") == 0;
    buf_init(&b, LIM_WEB_PAGE);
    if (!done && attempt == r.attempt)
        html_addf(&b,
                  "<div id=\"run-live\" data-events=\"/runs/%" PRId64
                  "/events?after=%d.999999999999\"></div>",
                  id, r.attempt);
    html_add(&b, "<dl class=\"meta\">");
    meta_row(&b, "Status");
    html_add(&b, "<span id=\"run-badge\"");
    {
        const char *w = r.conclusion && *r.conclusion ? r.conclusion : r.status;

        html_addf(&b, " class=\"badge b-%s\">", html_state_class(w));
        html_esc(&b, w);
        html_add(&b, "</span>");
    }
    if (r.reason && *r.reason) {
        html_add(&b, " <span class=\"muted\">");
        html_esc(&b, r.reason);
        html_add(&b, "</span>");
    }
    html_add(&b, "</dd>");
    meta_row(&b, "Repository");
    html_add(&b, "<a href=\"/runs?repo=");
    html_urlenc(&b, r.repo);
    html_add(&b, "\">");
    html_esc(&b, r.repo);
    html_add(&b, "</a></dd>");
    meta_row(&b, "Workflow");
    html_add(&b, "<code>");
    html_esc(&b, r.workflow);
    html_add(&b, "</code></dd>");
    meta_row(&b, "Event");
    html_esc(&b, r.event);
    if (r.actor && *r.actor) {
        html_add(&b, " by ");
        html_esc(&b, r.actor);
    }
    html_add(&b, "</dd>");
    meta_row(&b, "Ref");
    html_esc(&b, r.ref);
    html_add(&b, " <code>");
    html_esc(&b, r.sha);
    html_add(&b, "</code></dd>");
    meta_row(&b, "Attempt");
    for (int i = 1; i <= r.attempt; i++) {
        if (i == attempt)
            html_addf(&b, "<b>%d</b> ", i);
        else
            html_addf(&b, "<a href=\"/runs/%" PRId64 "?attempt=%d\">%d</a> ",
                      id, i, i);
    }
    html_add(&b, "</dd>");
    meta_row(&b, "Created");
    html_time_ms(&b, r.created_at);
    html_add(&b, "</dd>");
    meta_row(&b, "Duration");
    run_duration(&b, &r, now);
    html_add(&b, "</dd></dl><div class=\"actions\">");
    html_addf(&b, "<a href=\"/runs/%" PRId64 "/logs", id);
    if (attempt != r.attempt)
        html_addf(&b, "?attempt=%d", attempt);
    html_add(&b, "\" id=\"view-log\">View the log</a>");
    if (!done && d->api.tok.role >= ROLE_DEVELOPER && d->csrf && *d->csrf) {
        html_addf(&b,
                  "<form method=\"post\" action=\"/runs/%" PRId64
                  "/cancel\"><input type=\"hidden\" name=\"csrf\" "
                  "value=\"",
                  id);
        html_esc(&b, d->csrf);
        html_add(&b, "\"><button class=\"danger\" type=\"submit\">Cancel "
                     "run</button></form>");
    }
    html_add(&b, "</div><h2>Job graph</h2>");
    draw_graph(d, &r, jobs, njobs, &b);
    html_add(&b, "<h2>Jobs</h2>");
    if (!njobs)
        html_add(&b, "<p class=\"muted\" id=\"no-jobs\">No job has started "
                     "yet.</p>");
    for (size_t i = 0; i < njobs; i++)
        job_card(d, &b, &r, &jobs[i], now);
    reports_section(d, &b, id, attempt, jobs, njobs);
    artifacts_section(d, &b, id);
    title = xasprintf("%s #%" PRId64, wf_name(&r), r.number);
    dash_page(d, 200, title, "runs", &b);
    free(title);
out:
    store_jobs_free(jobs, njobs);
    store_run_release(&r);
}

void dashruns_cancel(struct dash_ctx *d)
{
    struct ferr err;
    int64_t id;
    char target[32];
    char loc[48];

    ferr_clear(&err);
    if (!cap_id(d, 0, &id))
        return;
    if (queue_cancel(d->api.s, id, "cancelled by a user", &err)) {
        if (err.code == FERR_NOTFOUND)
            dash_error(d, 404, "no run %" PRId64, id);
        else if (err.code == FERR_INVALID)
            dash_error(d, 409, "%s", err.msg);
        else
            dash_error(d, 500, "cannot cancel run %" PRId64 ": %s", id,
                       err.msg);
        return;
    }
    snprintf(target, sizeof(target), "run/%" PRId64, id);
    api_audit(&d->api, "run.cancel", target, "from the dashboard");
    snprintf(loc, sizeof(loc), "/runs/%" PRId64, id);
    dash_redirect(d, loc);
}

void dashruns_artifact(struct dash_ctx *d)
{
    struct store_run r;
    struct ferr err;
    uint64_t size = 0;
    int64_t id;
    int fd = -1;

    ferr_clear(&err);
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    if (api_artifact_export(d->api.s, id, d->api.caps[1], &fd, &size, &err)) {
        if (err.code == FERR_NOTFOUND || err.code == FERR_INVALID)
            dash_error(d, 404, "no artifact '%s' in run %" PRId64,
                       d->api.caps[1], id);
        else {
            log_err("artifact export failed run=%" PRId64 " err='%s'", id,
                    err.msg);
            dash_error(d, 500, "cannot export the artifact now");
        }
    } else {
        api_attachment_header(d->api.req, d->api.caps[1]);
        httpd_respond_fd(d->api.req, 200, "application/x-tar", fd, size);
    }
    store_run_release(&r);
}

/* ---------- logs ---------- */

struct logline {
    int64_t ms;
    int64_t job;
    const char *text;
    size_t len;
};

/* "MS\tJOB\tTEXT" (TEXT may hold tabs). */
static bool parse_line(const char *p, size_t len, struct logline *out)
{
    const char *t1 = memchr(p, '\t', len);
    const char *t2 =
        t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p)) : NULL;
    uint64_t a, b;

    if (!t2 || span_to_u64(span_of(p, (size_t)(t1 - p)), &a) ||
        span_to_u64(span_of(t1 + 1, (size_t)(t2 - t1 - 1)), &b) ||
        a > INT64_MAX || b > INT64_MAX)
        return false;
    out->ms = (int64_t)a;
    out->job = (int64_t)b;
    out->text = t2 + 1;
    out->len = len - (size_t)(t2 + 1 - p);
    return true;
}

struct section {
    int64_t job;
    const struct store_job *row; /* NULL for the server's own lines */
    struct buf html;
    bool group_open;
    size_t lines;
};

static struct section *section_of(struct section **v, size_t *n, int64_t job,
                                  const struct store_job *jobs, size_t njobs)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].job == job)
            return &(*v)[i];
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    memset(&(*v)[*n], 0, sizeof(**v));
    (*v)[*n].job = job;
    buf_init(&(*v)[*n].html, LIM_WEB_PAGE);
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i].id == job)
            (*v)[*n].row = &jobs[i];
    return &(*v)[(*n)++];
}

static bool starts(const struct logline *l, const char *prefix)
{
    size_t n = strlen(prefix);

    return l->len >= n && memcmp(l->text, prefix, n) == 0;
}

static void render_line(struct section *sec, const struct logline *l,
                        uint64_t n)
{
    struct buf *b = &sec->html;
    char t[32];

    if (starts(l, "::group::")) {
        if (sec->group_open)
            html_add(b, "</details>");
        html_add(b, "<details><summary>");
        html_esc_log(b, l->text + 9, l->len - 9);
        html_add(b, "</summary>");
        sec->group_open = true;
        return;
    }
    if (l->len == 12 && starts(l, "::endgroup::")) {
        if (sec->group_open)
            html_add(b, "</details>");
        sec->group_open = false;
        return;
    }
    html_rfc3339(l->ms, t);
    html_addf(b, "<div class=\"ln\" id=\"l%" PRIu64 "\"><span class=\"ts\">",
              n);
    if (t[0])
        html_addf(b, "%.8s", t + 11);
    html_add(b, "</span>");
    html_esc_log(b, l->text, l->len);
    html_add(b, "</div>");
    sec->lines++;
}

static void section_head(struct buf *b, const struct section *sec,
                         int64_t run_id, bool single)
{
    html_addf(b, "<section class=\"job\" data-job=\"%" PRId64 "\">", sec->job);
    if (!single) {
        html_add(b, "<h2>");
        if (sec->row) {
            html_badge(b, sec->row->status, sec->row->conclusion);
            html_add(b, " ");
            html_esc(b, sec->row->name && *sec->row->name ? sec->row->name
                                                          : sec->row->job_key);
            html_addf(b,
                      " <a class=\"muted\" href=\"/runs/%" PRId64
                      "/logs?job=%" PRId64 "\">only this job</a>",
                      run_id, sec->job);
        } else {
            html_add(b, "<span class=\"badge b-other\">server</span> ferry");
        }
        html_add(b, "</h2>");
    }
    html_addf(b, "<div class=\"log\" data-job=\"%" PRId64 "\"%s>", sec->job,
              sec->group_open ? " data-group-open=\"1\"" : "");
}

void dashruns_logs(struct dash_ctx *d)
{
    struct store_run r;
    struct store_job job;
    struct store_job *jobs = NULL;
    size_t njobs = 0;
    struct section *secs = NULL;
    size_t nsecs = 0;
    const char *jq = dash_query(d, "job");
    int64_t job_id = 0;
    int attempt;
    char *path = NULL;
    char *data = NULL;
    size_t len = 0, off = 0, total = 0;
    uint64_t n = 0, hidden = 0;
    struct ferr err;
    struct buf b;
    bool live, too_big = false;
    char *title = NULL;
    int64_t id;

    ferr_clear(&err);
    memset(&job, 0, sizeof(job));
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    attempt = attempt_arg(d, &r);
    if (attempt < 0)
        goto out;
    if (jq) {
        if (!route_id(jq, &job_id)) {
            dash_error(d, 400, "bad 'job'");
            goto out;
        }
        if (store_job_get(d->api.s->store, job_id, &job, &err) ||
            job.run_id != id) {
            dash_error(d, 404, "no job %" PRId64 " in run %" PRId64, job_id,
                       id);
            goto out;
        }
        attempt = job.attempt;
    }
    if (!attempt)
        attempt = r.attempt;
    if (store_job_list(d->api.s->store, id, attempt, &jobs, &njobs, &err))
        log_warn("cannot list jobs run=%" PRId64 " err='%s'", id, err.msg);
    ferr_clear(&err);
    /* a section per job, in job order (the server's own lines, job 0,
     * get one when they come, shown first) */
    if (!job_id)
        for (size_t i = 0; i < njobs; i++)
            section_of(&secs, &nsecs, jobs[i].id, jobs, njobs);
    else
        section_of(&secs, &nsecs, job_id, jobs, njobs);
    path = worker_log_path(d->api.s, id, attempt);
    if (workspace_read_file(path, LOG_READ_MAX, &data, &len, &err)) {
        if (err.code == FERR_LIMIT)
            too_big = true;
        else if (err.code != FERR_NOTFOUND)
            log_warn("cannot read log path='%s' err='%s'", path, err.msg);
    }
    while (off < len) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
        struct logline ln;
        struct section *sec;

        n++;
        if (parse_line(data + off, l, &ln) && (!job_id || ln.job == job_id)) {
            if (total > LOG_HTML_MAX) {
                hidden++;
            } else {
                sec = section_of(&secs, &nsecs, ln.job, jobs, njobs);
                total -= sec->html.len;
                render_line(sec, &ln, n);
                total += sec->html.len;
            }
        }
        off += l + 1;
    }
    free(data); /* the page is built from the sections now */
    data = NULL;
    live =
        !too_big && attempt == r.attempt && strcmp(r.status, "completed") != 0;
    buf_init(&b, LIM_WEB_PAGE);
    html_addf(&b, "<p><a href=\"/runs/%" PRId64 "\">\xe2\x86\x90 Run ", id);
    run_title(&b, &r);
    html_add(&b, "</a> ");
    html_addf(&b, "<span id=\"run-badge\" class=\"badge b-%s\">",
              html_state_class(r.conclusion ? r.conclusion : r.status));
    html_esc(&b, r.conclusion ? r.conclusion : r.status);
    html_add(&b, "</span>");
    if (job_id)
        html_addf(&b,
                  " \xc2\xb7 <a href=\"/runs/%" PRId64 "/logs\">the whole "
                  "run's log</a>",
                  id);
    html_add(&b, "</p>");
    if (live) {
        html_add(&b, "<p class=\"live\"><span id=\"live-status\">The run is "
                     "still going.</span><span id=\"refresh-hint\"> <a "
                     "id=\"refresh\" href=\"");
        html_addf(&b, "/runs/%" PRId64 "/logs", id);
        if (job_id)
            html_addf(&b, "?job=%" PRId64, job_id);
        html_add(&b, "\">Refresh</a> to see new lines.</span></p>");
    }
    if (too_big)
        html_add(&b, "<p class=\"note\">The log is over 64 MiB: read it with "
                     "<code>ferry logs</code>.</p>");
    if (hidden)
        html_addf(&b,
                  "<p class=\"note\" id=\"log-cut\">%" PRIu64 " more lines "
                  "are not shown here: read the whole log with "
                  "<code>ferry logs</code>.</p>",
                  hidden);
    html_addf(&b, "<div id=\"logview\" data-run=\"%" PRId64 "\"", id);
    if (job_id)
        html_addf(&b, " data-job=\"%" PRId64 "\"", job_id);
    if (live) {
        html_addf(&b,
                  " data-events=\"/runs/%" PRId64 "/events?attempt=%d"
                  "&amp;after=%d.%" PRIu64,
                  id, attempt, attempt, n);
        if (job_id)
            html_addf(&b, "&amp;job=%" PRId64, job_id);
        html_add(&b, "\"");
    }
    html_add(&b, ">");
    for (size_t k = 0; k < 2 * nsecs; k++) {
        struct section *sec = &secs[k % nsecs];

        if ((k < nsecs) != (sec->job == 0))
            continue;
        section_head(&b, sec, id, job_id != 0);
        if (sec->html.len)
            html_add(&b, buf_cstr(&sec->html));
        if (sec->group_open)
            html_add(&b, "</details>");
        if (!sec->lines && !sec->html.len)
            html_add(&b, "<div class=\"empty\">No lines yet.</div>");
        html_add(&b, "</div></section>");
        buf_release(&sec->html);
    }
    if (!nsecs)
        html_add(&b, "<p class=\"muted\" id=\"no-log\">Nothing logged yet."
                     "</p>");
    html_add(&b, "</div>");
    if (job_id)
        title = xasprintf("Log of %s",
                          job.name && *job.name ? job.name
                          : job.job_key         ? job.job_key
                                                : "a job");
    else
        title = xasprintf("Log of %s #%" PRId64, wf_name(&r), r.number);
    dash_page(d, 200, title, "runs", &b);
out:
    free(title);
    for (size_t i = 0; i < nsecs; i++)
        buf_release(&secs[i].html);
    free(secs);
    free(data);
    free(path);
    store_jobs_free(jobs, njobs);
    store_job_release(&job);
    store_run_release(&r);
}

/* GET /runs/:id/events?job=&attempt=&after=: the API's live-log stream
 * (sub_start) for the dashboard's JavaScript, with cookie sign-in. */
void dashruns_events(struct dash_ctx *d)
{
    struct store_run r;
    struct store_job job;
    struct ferr err;
    const char *jq = dash_query(d, "job");
    const char *last = httpd_req_header(d->api.req, "Last-Event-ID");
    int64_t job_id = 0;
    int attempt;
    int64_t id;

    ferr_clear(&err);
    memset(&job, 0, sizeof(job));
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    attempt = attempt_arg(d, &r);
    if (attempt < 0)
        goto out;
    if (jq) {
        if (!route_id(jq, &job_id) ||
            store_job_get(d->api.s->store, job_id, &job, &err) ||
            job.run_id != id) {
            dash_error(d, 404, "no job '%s' in run %" PRId64, jq, id);
            goto out;
        }
        attempt = job.attempt;
    }
    sub_start(d->api.s, d->api.req, id, job_id, attempt,
              last ? last : dash_query(d, "after"));
out:
    store_job_release(&job);
    store_run_release(&r);
}

