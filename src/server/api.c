/* api: the HTTP API of docs/api.md — authentication by bearer token and
 * role, the route table, JSON in and out, webhooks.  Handlers are thin:
 * they check input (server/body.c parses every body), call the store or
 * the queue, and shape JSON.  Errors are {"error": ...} with a 4xx; a
 * failure of our own is a 500 with the reason logged. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec/artifact.h"
#include "exec/workspace.h"
#include "git/mirror.h"
#include "metrics/prom.h"
#include "pipeline/cron.h"
#include "server/api.h"
#include "server/body.h"
#include "server/route.h"
#include "server/server.h"
#include "trigger/schedule.h"
#include "trigger/webhook.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

typedef void (*handler)(struct api_ctx *c);

struct route {
    const char *method;
    const char *pattern;
    enum store_role role; /* ROLE_NONE: no token needed */
    handler h;
};

/* ---------- JSON shapes ---------- */

json_t *api_time(int64_t ms)
{
    char out[40];
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (ms <= 0 || !gmtime_r(&t, &tm))
        return json_null();
    strftime(out, sizeof(out), "%Y-%m-%dT%H:%M:%S", &tm);
    snprintf(out + strlen(out), sizeof(out) - strlen(out), ".%03dZ",
             (int)(ms % 1000));
    return json_string(out);
}

static json_t *str_or_null(const char *s)
{
    return s ? json_string(s) : json_null();
}

static json_t *json_text_or_null(const char *text)
{
    json_t *v = text ? json_loads(text, 0, NULL) : NULL;

    return v ? v : json_null();
}

json_t *api_run_json(const struct store_run *r)
{
    json_t *o = json_object();

    json_object_set_new(o, "id", json_integer(r->id));
    json_object_set_new(o, "repo", str_or_null(r->repo));
    json_object_set_new(o, "workflow", str_or_null(r->workflow));
    json_object_set_new(o, "workflow_name", str_or_null(r->workflow_name));
    json_object_set_new(o, "number", json_integer(r->number));
    json_object_set_new(o, "event", str_or_null(r->event));
    json_object_set_new(o, "ref", str_or_null(r->ref));
    json_object_set_new(o, "sha", str_or_null(r->sha));
    json_object_set_new(o, "actor", str_or_null(r->actor));
    json_object_set_new(o, "attempt", json_integer(r->attempt));
    json_object_set_new(o, "status", str_or_null(r->status));
    json_object_set_new(o, "conclusion", str_or_null(r->conclusion));
    json_object_set_new(o, "reason", str_or_null(r->reason));
    json_object_set_new(o, "concurrency", str_or_null(r->concurrency));
    json_object_set_new(o, "created_at", api_time(r->created_at));
    json_object_set_new(o, "started_at", api_time(r->started_at));
    json_object_set_new(o, "finished_at", api_time(r->finished_at));
    return o;
}

static json_t *step_json(const struct store_step *st)
{
    return json_pack(
        "{s:i, s:s, s:o, s:o, s:o, s:o}", "number", st->number, "name",
        st->name ? st->name : "", "status", str_or_null(st->status),
        "conclusion", str_or_null(st->conclusion), "started_at",
        api_time(st->started_at), "finished_at", api_time(st->finished_at));
}

static json_t *job_json(struct server *s, const struct store_job *j)
{
    json_t *o = json_object();
    json_t *steps = json_array();
    struct store_step *v = NULL;
    size_t n = 0;
    struct ferr err;

    ferr_clear(&err);
    json_object_set_new(o, "id", json_integer(j->id));
    json_object_set_new(o, "run_id", json_integer(j->run_id));
    json_object_set_new(o, "attempt", json_integer(j->attempt));
    json_object_set_new(o, "job_id", str_or_null(j->job_key));
    json_object_set_new(o, "name", str_or_null(j->name));
    json_object_set_new(o, "matrix", json_text_or_null(j->matrix));
    json_object_set_new(o, "status", str_or_null(j->status));
    json_object_set_new(o, "conclusion", str_or_null(j->conclusion));
    json_object_set_new(o, "reason", str_or_null(j->reason));
    json_object_set_new(o, "outputs", json_text_or_null(j->outputs));
    json_object_set_new(o, "started_at", api_time(j->started_at));
    json_object_set_new(o, "finished_at", api_time(j->finished_at));
    if (store_step_list(s->store, j->id, &v, &n, &err) == FERR_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(steps, step_json(&v[i]));
    store_steps_free(v, n);
    json_object_set_new(o, "steps", steps);
    return o;
}

/* ---------- answers ---------- */

static int status_of(enum ferr_code rc)
{
    switch (rc) {
    case FERR_NOTFOUND: return 404;
    case FERR_LIMIT: return 413;
    case FERR_PARSE: return 400;
    case FERR_INVALID:
    case FERR_USAGE:
    case FERR_UNSUPPORTED: return 422;
    default: return 500;
    }
}

void api_fail(struct api_ctx *c, enum ferr_code rc, const struct ferr *err)
{
    int st = status_of(rc);

    if (st == 500)
        log_err("request failed method='%s' path='%s' err='%s'",
                httpd_req_method(c->req), httpd_req_path(c->req), err->msg);
    httpd_respond_error(c->req, st, "%s",
                        st == 500 ? "internal error" : err->msg);
}

void api_audit(struct api_ctx *c, const char *action, const char *target,
                  const char *detail)
{
    struct ferr err;

    ferr_clear(&err);
    if (store_audit_add(c->s->store, c->tok.id, action, target,
                        detail ? detail : "", &err))
        log_err("audit not recorded action='%s' err='%s'", action, err.msg);
}

bool api_cap_id(struct api_ctx *c, size_t i, int64_t *out)
{
    if (i < c->ncaps && route_id(c->caps[i], out))
        return true;
    httpd_respond_error(c->req, 404, "no such id '%s'",
                        i < c->ncaps ? c->caps[i] : "");
    return false;
}

/* ---------- handlers: health ---------- */

static void h_metrics(struct api_ctx *c)
{
    struct buf b;
    struct ferr err;

    ferr_clear(&err);
    if (telemetry_write(c->s, &b, &err)) {
        buf_release(&b);
        api_fail(c, err.code, &err);
        return;
    }
    httpd_respond(c->req, 200, PROM_CONTENT_TYPE, b.p ? b.p : "", b.len);
    buf_release(&b);
}

static void h_healthz(struct api_ctx *c)
{
    httpd_respond_json(c->req, 200, json_pack("{s:s}", "status", "ok"));
}

static void h_readyz(struct api_ctx *c)
{
    struct ferr err;

    ferr_clear(&err);
    if (store_ping(c->s->store, &err))
        httpd_respond_error(c->req, 503, "store: %s", err.msg);
    else
        httpd_respond_json(c->req, 200, json_pack("{s:s}", "status", "ready"));
}

static void h_whoami(struct api_ctx *c)
{
    httpd_respond_json(c->req, 200,
                       json_pack("{s:I, s:s, s:s}", "id", (json_int_t)c->tok.id,
                                 "name", c->tok.name ? c->tok.name : "", "role",
                                 store_role_name(c->tok.role)));
}

/* ---------- repositories ---------- */

static json_t *repo_json(const struct store_repo *r)
{
    return json_pack("{s:s, s:s, s:s, s:o}", "name", r->name, "url", r->url,
                     "default_branch", r->default_branch, "created_at",
                     api_time(r->created_at));
}

static void h_repos(struct api_ctx *c)
{
    struct store_repo *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a;

    ferr_clear(&err);
    if (store_repo_list(c->s->store, &v, &n, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, repo_json(&v[i]));
    store_repos_free(v, n);
    httpd_respond_json(c->req, 200, json_pack("{s:o}", "repos", a));
}

bool api_load_repo(struct api_ctx *c, const char *name, struct store_repo *out)
{
    struct ferr err;

    ferr_clear(&err);
    memset(out, 0, sizeof(*out));
    if (store_repo_get(c->s->store, name, out, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no repository '%s'", name);
        else
            api_fail(c, err.code, &err);
        return false;
    }
    return true;
}

static void h_repo_get(struct api_ctx *c)
{
    struct store_repo r;

    if (!api_load_repo(c, c->caps[0], &r))
        return;
    httpd_respond_json(c->req, 200, repo_json(&r));
    store_repo_release(&r);
}

static void h_repo_add(struct api_ctx *c)
{
    struct span body = httpd_req_body(c->req);
    struct body_repo b;
    struct store_repo r;
    char key[65];
    const char *secret;
    unsigned char *sealed = NULL;
    size_t sealed_len = 0;
    char *aad = NULL;
    int64_t id = 0;
    struct ferr err;
    json_t *o;

    ferr_clear(&err);
    memset(&b, 0, sizeof(b));
    if (body_parse_repo(body.p, body.len, &b, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    if (b.webhook_secret) {
        secret = b.webhook_secret;
    } else if (crypto_token_hex(key)) {
        httpd_respond_error(c->req, 500, "no randomness");
        goto done;
    } else {
        secret = key;
    }
    aad = xasprintf("hook:%s", b.name);
    if (crypto_seal(&c->s->key, secret, strlen(secret), aad, &sealed,
                    &sealed_len, &err)) {
        api_fail(c, err.code, &err);
        goto done;
    }
    memset(&r, 0, sizeof(r));
    r.name = b.name;
    r.url = b.url;
    r.default_branch = b.default_branch;
    r.hook_key = sealed;
    r.hook_key_len = sealed_len;
    if (store_repo_add(c->s->store, &r, &id, &err)) {
        if (err.code == FERR_INVALID)
            httpd_respond_error(c->req, 409, "%s", err.msg);
        else
            api_fail(c, err.code, &err);
        goto done;
    }
    r.id = id;
    r.created_at = server_now_ms(c->s);
    api_audit(c, "repo.add", b.name, b.url);
    o = repo_json(&r);
    json_object_set_new(o, "hook_key", json_string(secret));
    httpd_respond_json(c->req, 201, o);
    /* a first fetch tells whether the URL works and finds schedules */
    {
        struct store_repo full;

        if (store_repo_get_id(c->s->store, id, &full, &err) == FERR_OK) {
            char *mirror = queue_mirror_path(c->s, id);
            struct ferr e2;

            ferr_clear(&e2);
            if (mirror_sync(mirror, full.url, &e2) == FERR_OK)
                queue_sync_schedules(c->s, &full);
            else
                log_warn("cannot fetch repo='%s' err='%s'", full.name, e2.msg);
            free(mirror);
            store_repo_release(&full);
        }
    }
done:
    explicit_bzero(key, sizeof(key));
    free(aad);
    free(sealed);
    body_repo_release(&b);
}

/* ---------- runs ---------- */

static void h_runs(struct api_ctx *c)
{
    struct store_run_filter f;
    struct store_run *v = NULL;
    size_t n = 0;
    bool more = false;
    const char *lim = httpd_req_query(c->req, "limit");
    const char *cur = httpd_req_query(c->req, "cursor");
    struct ferr err;
    json_t *a;
    uint64_t x;

    ferr_clear(&err);
    memset(&f, 0, sizeof(f));
    f.repo = httpd_req_query(c->req, "repo");
    f.ref = httpd_req_query(c->req, "branch");
    f.status = httpd_req_query(c->req, "status");
    f.conclusion = httpd_req_query(c->req, "conclusion");
    f.event = httpd_req_query(c->req, "event");
    f.workflow = httpd_req_query(c->req, "workflow");
    f.limit = 50;
    if (lim) {
        if (span_to_u64(span_cstr(lim), &x) || x < 1 || x > 200) {
            httpd_respond_error(c->req, 400,
                                "'limit' must be a number from 1 to 200");
            return;
        }
        f.limit = (size_t)x;
    }
    if (cur) {
        if (span_to_u64(span_cstr(cur), &x) || x < 1 || x > INT64_MAX) {
            httpd_respond_error(c->req, 400, "bad 'cursor'");
            return;
        }
        f.before_id = (int64_t)x;
    }
    if (store_run_list(c->s->store, &f, &v, &n, &more, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, api_run_json(&v[i]));
    httpd_respond_json(c->req, 200,
                       json_pack("{s:o, s:o}", "runs", a, "next",
                                 more && n
                                     ? json_sprintf("%" PRId64, v[n - 1].id)
                                     : json_null()));
    store_runs_free(v, n);
}

static bool load_run(struct api_ctx *c, int64_t id, struct store_run *out)
{
    struct ferr err;

    ferr_clear(&err);
    memset(out, 0, sizeof(*out));
    if (store_run_get(c->s->store, id, out, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no run %" PRId64, id);
        else
            api_fail(c, err.code, &err);
        return false;
    }
    return true;
}

static json_t *jobs_json(struct api_ctx *c, int64_t run_id, int attempt)
{
    struct store_job *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a = json_array();

    ferr_clear(&err);
    if (store_job_list(c->s->store, run_id, attempt, &v, &n, &err) == FERR_OK)
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, job_json(c->s, &v[i]));
    store_jobs_free(v, n);
    return a;
}

static void h_run_get(struct api_ctx *c)
{
    struct store_run r;
    int64_t id;
    json_t *o;

    if (!api_cap_id(c, 0, &id) || !load_run(c, id, &r))
        return;
    o = api_run_json(&r);
    json_object_set_new(o, "jobs", jobs_json(c, id, 0));
    httpd_respond_json(c->req, 200, o);
    store_run_release(&r);
}

static void h_run_jobs(struct api_ctx *c)
{
    struct store_run r;
    const char *att = httpd_req_query(c->req, "attempt");
    uint64_t a = 0;
    int64_t id;

    if (!api_cap_id(c, 0, &id) || !load_run(c, id, &r))
        return;
    if (att &&
        (span_to_u64(span_cstr(att), &a) || a < 1 || a > (uint64_t)r.attempt)) {
        httpd_respond_error(c->req, 400, "'attempt' must be from 1 to %d",
                            r.attempt);
    } else {
        httpd_respond_json(
            c->req, 200, json_pack("{s:o}", "jobs", jobs_json(c, id, (int)a)));
    }
    store_run_release(&r);
}

static void h_job_get(struct api_ctx *c)
{
    struct store_job j;
    struct ferr err;
    int64_t id;

    ferr_clear(&err);
    memset(&j, 0, sizeof(j));
    if (!api_cap_id(c, 0, &id))
        return;
    if (store_job_get(c->s->store, id, &j, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no job %" PRId64, id);
        else
            api_fail(c, err.code, &err);
        return;
    }
    httpd_respond_json(c->req, 200, job_json(c->s, &j));
    store_job_release(&j);
}

static void h_run_cancel(struct api_ctx *c)
{
    struct store_run r;
    struct ferr err;
    int64_t id;
    char target[32];

    ferr_clear(&err);
    if (!api_cap_id(c, 0, &id))
        return;
    if (queue_cancel(c->s, id, "cancelled by a user", &err)) {
        if (err.code == FERR_INVALID)
            httpd_respond_error(c->req, 409, "%s", err.msg);
        else
            api_fail(c, err.code, &err);
        return;
    }
    snprintf(target, sizeof(target), "run/%" PRId64, id);
    api_audit(c, "run.cancel", target, NULL);
    if (load_run(c, id, &r)) {
        httpd_respond_json(c->req, 202, api_run_json(&r));
        store_run_release(&r);
    }
}

/* {job_id: {result, outputs}} of the jobs that succeeded (every cell of
 * a matrix job must have), for a re-run of the failed ones. */
static char *kept_jobs(struct api_ctx *c, const struct store_run *r)
{
    struct store_job *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *keep = json_object();
    json_t *bad = json_object();
    const char *k;
    json_t *x;
    void *tmp;
    char *out;

    ferr_clear(&err);
    if (store_job_list(c->s->store, r->id, r->attempt, &v, &n, &err) == FERR_OK)
        for (size_t i = 0; i < n; i++) {
            bool ok =
                v[i].conclusion && (strcmp(v[i].conclusion, "success") == 0 ||
                                    strcmp(v[i].conclusion, "skipped") == 0);

            if (!ok) {
                json_object_set_new(bad, v[i].job_key, json_true());
                continue;
            }
            if (!json_object_get(keep, v[i].job_key)) {
                json_t *outs = json_text_or_null(v[i].outputs);

                json_object_set_new(
                    keep, v[i].job_key,
                    json_pack("{s:s, s:o}", "result", v[i].conclusion,
                              "outputs",
                              json_is_object(outs)
                                  ? outs
                                  : (json_decref(outs), json_object())));
            } else {
                json_t *o = json_object_get(json_object_get(keep, v[i].job_key),
                                            "outputs");
                json_t *more = json_text_or_null(v[i].outputs);

                if (json_is_object(more))
                    json_object_update(o, more);
                json_decref(more);
            }
        }
    store_jobs_free(v, n);
    json_object_foreach_safe (keep, tmp, k, x)
        if (json_object_get(bad, k))
            json_object_del(keep, k);
    json_decref(bad);
    out = json_dumps(keep, JSON_COMPACT);
    json_decref(keep);
    return out;
}

static void h_run_rerun(struct api_ctx *c)
{
    struct span body = httpd_req_body(c->req);
    struct body_rerun b;
    struct store_run r;
    struct ferr err;
    char *keep = NULL;
    char target[32];
    int64_t id;

    ferr_clear(&err);
    memset(&b, 0, sizeof(b));
    if (!api_cap_id(c, 0, &id))
        return;
    if (body_parse_rerun(body.p, body.len, &b, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    if (!load_run(c, id, &r))
        return;
    if (strcmp(r.status, "completed") != 0) {
        httpd_respond_error(c->req, 409,
                            "run %" PRId64 " is %s: cancel it or "
                            "wait for it to complete",
                            id, r.status);
        goto done;
    }
    if (b.failed_only)
        keep = kept_jobs(c, &r);
    if (store_run_retry(c->s->store, id, r.conclusion, r.reason, keep, &err)) {
        api_fail(c, err.code, &err);
        goto done;
    }
    snprintf(target, sizeof(target), "run/%" PRId64, id);
    api_audit(c, "run.rerun", target, b.failed_only ? "failed jobs" : "all jobs");
    queue_kick(c->s);
    store_run_release(&r);
    if (load_run(c, id, &r))
        httpd_respond_json(c->req, 201, api_run_json(&r));
done:
    free(keep);
    store_run_release(&r);
}

/* ---------- logs ---------- */

static bool wants_stream(struct api_ctx *c)
{
    const char *f = httpd_req_query(c->req, "follow");
    const char *acc = httpd_req_header(c->req, "Accept");

    return (f && strcmp(f, "0") != 0) ||
           (acc && strstr(acc, "text/event-stream"));
}

static const char *after_of(struct api_ctx *c)
{
    const char *l = httpd_req_header(c->req, "Last-Event-ID");

    return l ? l : httpd_req_query(c->req, "after");
}

static void send_log(struct api_ctx *c, const struct store_run *r, int64_t job)
{
    char *path = worker_log_path(c->s, r->id, r->attempt);
    struct store_job *v = NULL;
    size_t n = 0;
    char *data = NULL;
    size_t len = 0;
    struct buf out;
    struct ferr err;
    size_t off = 0;

    ferr_clear(&err);
    buf_init(&out, (size_t)256 << 20);
    if (store_job_list(c->s->store, r->id, r->attempt, &v, &n, &err))
        log_warn("no job names run=%" PRId64 " err='%s'", r->id, err.msg);
    ferr_clear(&err);
    if (workspace_read_file(path, (size_t)128 << 20, &data, &len, &err) &&
        err.code != FERR_NOTFOUND) {
        api_fail(c, err.code, &err);
        goto done;
    }
    while (off < len) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
        const char *p = data + off;
        const char *t1 = memchr(p, '\t', l);
        const char *t2 =
            t1 ? memchr(t1 + 1, '\t', l - (size_t)(t1 + 1 - p)) : NULL;
        uint64_t jid = 0;

        off += l + 1;
        if (!t2 || span_to_u64(span_of(t1 + 1, (size_t)(t2 - t1 - 1)), &jid) ||
            (job && (int64_t)jid != job))
            continue;
        if (!job) {
            const char *name = "";

            for (size_t i = 0; i < n; i++)
                if (v[i].id == (int64_t)jid)
                    name = v[i].name;
            if (buf_addf(&out, "[%s] ", name))
                break;
        }
        if (buf_add(&out, t2 + 1, l - (size_t)(t2 + 1 - p)) ||
            buf_add(&out, "\n", 1))
            break;
    }
    httpd_respond(c->req, 200, "text/plain; charset=utf-8", out.p, out.len);
done:
    buf_release(&out);
    free(data);
    free(path);
    store_jobs_free(v, n);
}

static void h_run_logs(struct api_ctx *c)
{
    struct store_run r;
    int64_t id;

    if (!api_cap_id(c, 0, &id) || !load_run(c, id, &r))
        return;
    if (wants_stream(c))
        sub_start(c->s, c->req, id, 0, 0, after_of(c));
    else
        send_log(c, &r, 0);
    store_run_release(&r);
}

static void h_job_logs(struct api_ctx *c)
{
    struct store_job j;
    struct store_run r;
    struct ferr err;
    int64_t id;

    ferr_clear(&err);
    memset(&j, 0, sizeof(j));
    if (!api_cap_id(c, 0, &id))
        return;
    if (store_job_get(c->s->store, id, &j, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no job %" PRId64, id);
        else
            api_fail(c, err.code, &err);
        return;
    }
    if (load_run(c, j.run_id, &r)) {
        r.attempt = j.attempt;
        if (wants_stream(c))
            sub_start(c->s, c->req, j.run_id, id, j.attempt, after_of(c));
        else
            send_log(c, &r, id);
        store_run_release(&r);
    }
    store_job_release(&j);
}

/* ---------- artifacts ---------- */

static void h_artifacts(struct api_ctx *c)
{
    struct artifact_store *as = NULL;
    struct artifact_info *v = NULL;
    size_t n = 0;
    struct store_run r;
    struct ferr err;
    char scope[32];
    json_t *a;
    int64_t id;

    ferr_clear(&err);
    if (!api_cap_id(c, 0, &id) || !load_run(c, id, &r))
        return;
    snprintf(scope, sizeof(scope), "%" PRId64, id);
    if (artifact_store_open(c->s->home, &as, &err) ||
        artifact_list(as, scope, &v, &n, &err)) {
        api_fail(c, err.code, &err);
        goto done;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:s, s:I, s:I, s:o}", "name", v[i].name, "files",
                         (json_int_t)v[i].files, "size", (json_int_t)v[i].bytes,
                         "created_at", api_time(v[i].created_ms)));
    httpd_respond_json(c->req, 200, json_pack("{s:o}", "artifacts", a));
done:
    artifact_infos_free(v, n);
    artifact_store_free(as);
    store_run_release(&r);
}

enum ferr_code api_artifact_export(struct server *s, int64_t run_id,
                                   const char *name, int *out_fd,
                                   uint64_t *out_size, struct ferr *err)
{
    struct artifact_store *as = NULL;
    char scope[32];
    enum ferr_code rc;
    /* an unnamed temp file: nothing to clean up, whatever happens */
    int fd = open(s->home, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);

    *out_fd = -1;
    *out_size = 0;
    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL, "temp file: %s", strerror(errno));
    snprintf(scope, sizeof(scope), "%" PRId64, run_id);
    rc = artifact_store_open(s->home, &as, err);
    if (!rc)
        rc = artifact_export_tar(as, scope, name, fd, out_size, err);
    if (!rc && lseek(fd, 0, SEEK_SET) != 0)
        rc = ferr_set(err, FERR_IO, NULL, "seek: %s", strerror(errno));
    artifact_store_free(as);
    if (rc) {
        close(fd);
        *out_size = 0;
        return rc;
    }
    *out_fd = fd;
    return FERR_OK;
}

void api_attachment_header(struct httpd_req *req, const char *name)
{
    struct buf disp;

    buf_init(&disp, 1024);
    if (buf_adds(&disp, "attachment; filename=\"") == FERR_OK) {
        for (const char *p = name; *p; p++)
            if ((unsigned char)*p >= 0x20 && (unsigned char)*p < 0x7f &&
                *p != '"' && *p != '\\' && buf_addf(&disp, "%c", *p))
                break;
        if (buf_adds(&disp, ".tar\"") == FERR_OK)
            httpd_req_add_header(req, "Content-Disposition", buf_cstr(&disp));
    }
    buf_release(&disp);
}

static void h_artifact_get(struct api_ctx *c)
{
    struct store_run r;
    struct ferr err;
    uint64_t size = 0;
    int64_t id;
    int fd = -1;

    ferr_clear(&err);
    if (!api_cap_id(c, 0, &id) || !load_run(c, id, &r))
        return;
    if (api_artifact_export(c->s, id, c->caps[1], &fd, &size, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no artifact '%s' in run %" PRId64,
                                c->caps[1], id);
        else
            api_fail(c, err.code, &err);
    } else {
        api_attachment_header(c->req, c->caps[1]);
        httpd_respond_fd(c->req, 200, "application/x-tar", fd, size);
    }
    store_run_release(&r);
}

/* ---------- dispatch ---------- */

static void h_dispatch(struct api_ctx *c)
{
    struct span body = httpd_req_body(c->req);
    struct body_dispatch b;
    struct store_repo repo;
    struct trigger t;
    struct ferr err;
    json_t *ids = json_array();
    json_t *payload = NULL;
    json_t *runs;
    char *ref = NULL;
    const char *file = c->caps[1];

    ferr_clear(&err);
    memset(&b, 0, sizeof(b));
    if (body_parse_dispatch(body.p, body.len, &b, &err)) {
        api_fail(c, err.code, &err);
        json_decref(ids);
        return;
    }
    if (!api_load_repo(c, c->caps[0], &repo)) {
        body_dispatch_release(&b);
        json_decref(ids);
        return;
    }
    if (!b.ref)
        ref = xasprintf("refs/heads/%s", repo.default_branch);
    else if (strncmp(b.ref, "refs/", 5) == 0)
        ref = xstrdup(b.ref);
    else
        ref = xasprintf("refs/heads/%s", b.ref);
    payload = json_pack("{s:s, s:o, s:{s:s}}", "ref", ref, "inputs",
                        b.inputs ? json_incref(b.inputs) : json_object(),
                        "sender", "login", c->tok.name ? c->tok.name : "");
    memset(&t, 0, sizeof(t));
    t.repo = &repo;
    t.event = "workflow_dispatch";
    t.ref = ref;
    t.payload = payload;
    t.inputs = b.inputs;
    t.workflow = file;
    t.actor = c->tok.name && *c->tok.name ? c->tok.name : "api";
    if (queue_trigger(c->s, &t, ids, &err)) {
        api_fail(c, err.code, &err);
        goto done;
    }
    api_audit(c, "run.dispatch", repo.name, file);
    runs = json_array();
    for (size_t i = 0; i < json_array_size(ids); i++) {
        struct store_run r;

        memset(&r, 0, sizeof(r));
        if (store_run_get(c->s->store,
                          json_integer_value(json_array_get(ids, i)), &r,
                          &err) == FERR_OK)
            json_array_append_new(runs, api_run_json(&r));
        store_run_release(&r);
    }
    httpd_respond_json(c->req, 201, json_pack("{s:o}", "runs", runs));
done:
    json_decref(ids);
    json_decref(payload);
    free(ref);
    store_repo_release(&repo);
    body_dispatch_release(&b);
}

/* ---------- secrets ---------- */

static void h_secrets(struct api_ctx *c)
{
    struct store_repo repo;
    struct store_secret *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a;

    ferr_clear(&err);
    if (!api_load_repo(c, c->caps[0], &repo))
        return;
    if (store_secret_list(c->s->store, repo.id, &v, &n, &err)) {
        api_fail(c, err.code, &err);
    } else {
        a = json_array();
        for (size_t i = 0; i < n; i++)
            json_array_append_new(a, json_pack("{s:s, s:o}", "name", v[i].name,
                                               "updated_at",
                                               api_time(v[i].updated_at)));
        httpd_respond_json(c->req, 200, json_pack("{s:o}", "secrets", a));
    }
    store_secrets_free(v, n);
    store_repo_release(&repo);
}

static void h_secret_put(struct api_ctx *c)
{
    struct span body = httpd_req_body(c->req);
    struct store_repo repo;
    struct body_secret b;
    struct ferr err;
    unsigned char *sealed = NULL;
    size_t len = 0;
    char *aad = NULL;
    char *target;

    ferr_clear(&err);
    memset(&b, 0, sizeof(b));
    if (!body_valid_secret_name(c->caps[1])) {
        httpd_respond_error(c->req, 422,
                            "bad secret name '%s': letters, digits and '_', "
                            "not starting with a digit or GITHUB_",
                            c->caps[1]);
        return;
    }
    if (body_parse_secret(body.p, body.len, &b, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    if (!api_load_repo(c, c->caps[0], &repo)) {
        body_secret_release(&b);
        return;
    }
    aad = xasprintf("secret:%s:%s", repo.name, c->caps[1]);
    if (crypto_seal(&c->s->key, b.value, b.len, aad, &sealed, &len, &err) ||
        store_secret_set(c->s->store, repo.id, c->caps[1], sealed, len, &err)) {
        api_fail(c, err.code, &err);
    } else {
        target = xasprintf("repo/%s/secret/%s", repo.name, c->caps[1]);
        api_audit(c, "secret.set", target, NULL);
        free(target);
        httpd_respond(c->req, 204, NULL, NULL, 0);
    }
    free(aad);
    free(sealed);
    body_secret_release(&b);
    store_repo_release(&repo);
}

static void h_secret_delete(struct api_ctx *c)
{
    struct store_repo repo;
    struct ferr err;
    char *target;

    ferr_clear(&err);
    if (!api_load_repo(c, c->caps[0], &repo))
        return;
    if (store_secret_delete(c->s->store, repo.id, c->caps[1], &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no secret '%s'", c->caps[1]);
        else
            api_fail(c, err.code, &err);
    } else {
        target = xasprintf("repo/%s/secret/%s", repo.name, c->caps[1]);
        api_audit(c, "secret.delete", target, NULL);
        free(target);
        httpd_respond(c->req, 204, NULL, NULL, 0);
    }
    store_repo_release(&repo);
}

/* ---------- schedules, tokens, deliveries, audit ---------- */

static void h_schedules(struct api_ctx *c)
{
    struct store_schedule *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a;

    ferr_clear(&err);
    if (store_schedule_list(c->s->store, &v, &n, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++) {
        struct cron cr;
        int64_t next = -1;
        struct ferr e2;

        ferr_clear(&e2);
        if (cron_parse(span_cstr(v[i].cron), NULL, &cr, &e2) == FERR_OK)
            next = schedule_next(&cr, server_now_ms(c->s));
        json_array_append_new(
            a, json_pack("{s:s, s:s, s:s, s:o, s:o}", "repo",
                         v[i].repo ? v[i].repo : "", "workflow", v[i].workflow,
                         "cron", v[i].cron, "last_fired_at",
                         api_time(v[i].last_fired_at), "next_at",
                         api_time(next > 0 ? next : 0)));
    }
    store_schedules_free(v, n);
    httpd_respond_json(c->req, 200, json_pack("{s:o}", "schedules", a));
}

static void h_tokens(struct api_ctx *c)
{
    struct store_token *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a;

    ferr_clear(&err);
    if (store_token_list(c->s->store, &v, &n, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a,
            json_pack("{s:I, s:s, s:s, s:o, s:o, s:b}", "id",
                      (json_int_t)v[i].id, "name", v[i].name ? v[i].name : "",
                      "role", store_role_name(v[i].role), "created_at",
                      api_time(v[i].created_at), "last_used_at",
                      api_time(v[i].last_used_at), "revoked", v[i].revoked));
    store_tokens_free(v, n);
    httpd_respond_json(c->req, 200, json_pack("{s:o}", "tokens", a));
}

static void h_token_add(struct api_ctx *c)
{
    struct span body = httpd_req_body(c->req);
    struct body_token b;
    struct ferr err;
    char tok[65], hash[65], target[32];
    int64_t id = 0;

    ferr_clear(&err);
    memset(&b, 0, sizeof(b));
    if (body_parse_token(body.p, body.len, &b, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    if (crypto_token_hex(tok)) {
        httpd_respond_error(c->req, 500, "no randomness");
        goto done;
    }
    crypto_sha256_hex(tok, 64, hash);
    if (store_token_add(c->s->store, hash, b.role, b.name ? b.name : "", &id,
                        &err)) {
        api_fail(c, err.code, &err);
        goto done;
    }
    snprintf(target, sizeof(target), "token/%" PRId64, id);
    api_audit(c, "token.create", target, store_role_name(b.role));
    httpd_respond_json(c->req, 201,
                       json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)id,
                                 "name", b.name ? b.name : "", "role",
                                 store_role_name(b.role), "token", tok));
done:
    explicit_bzero(tok, sizeof(tok));
    body_token_release(&b);
}

static void h_token_delete(struct api_ctx *c)
{
    struct ferr err;
    char target[32];
    int64_t id;

    ferr_clear(&err);
    if (!api_cap_id(c, 0, &id))
        return;
    if (store_token_revoke(c->s->store, id, &err)) {
        if (err.code == FERR_NOTFOUND)
            httpd_respond_error(c->req, 404, "no token %" PRId64, id);
        else
            api_fail(c, err.code, &err);
        return;
    }
    snprintf(target, sizeof(target), "token/%" PRId64, id);
    api_audit(c, "token.revoke", target, NULL);
    httpd_respond(c->req, 204, NULL, NULL, 0);
}

static void h_deliveries(struct api_ctx *c)
{
    struct store_delivery *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a;

    ferr_clear(&err);
    if (store_delivery_list(c->s->store, 100, &v, &n, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a,
            json_pack("{s:I, s:s, s:s, s:s, s:s, s:i, s:s, s:o}", "id",
                      (json_int_t)v[i].id, "source", v[i].source, "event",
                      v[i].event, "delivery", v[i].delivery, "repo", v[i].repo,
                      "status", v[i].status, "outcome", v[i].outcome,
                      "created_at", api_time(v[i].created_at)));
    store_deliveries_free(v, n);
    httpd_respond_json(c->req, 200, json_pack("{s:o}", "deliveries", a));
}

static void h_audit(struct api_ctx *c)
{
    struct store_audit *v = NULL;
    size_t n = 0;
    struct ferr err;
    json_t *a;

    ferr_clear(&err);
    if (store_audit_list(c->s->store, 200, &v, &n, &err)) {
        api_fail(c, err.code, &err);
        return;
    }
    a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(
            a, json_pack("{s:I, s:I, s:s, s:s, s:s, s:o}", "id",
                         (json_int_t)v[i].id, "token_id",
                         (json_int_t)v[i].token_id, "action", v[i].action,
                         "target", v[i].target, "detail", v[i].detail,
                         "created_at", api_time(v[i].created_at)));
    store_audits_free(v, n);
    httpd_respond_json(c->req, 200, json_pack("{s:o}", "audit", a));
}

/* ---------- webhooks ---------- */

static const char *sig_header(enum webhook_source src)
{
    switch (src) {
    case WH_GITHUB: return "X-Hub-Signature-256";
    case WH_GITEA: return "X-Gitea-Signature";
    case WH_GITLAB: return "X-Gitlab-Token";
    case WH_GIT: return "X-Ferry-Signature-256";
    }
    return "";
}

static const char *event_header(struct api_ctx *c, enum webhook_source src)
{
    switch (src) {
    case WH_GITHUB: return httpd_req_header(c->req, "X-GitHub-Event");
    case WH_GITEA: return httpd_req_header(c->req, "X-Gitea-Event");
    case WH_GITLAB: return httpd_req_header(c->req, "X-Gitlab-Event");
    case WH_GIT: return NULL;
    }
    return NULL;
}

static const char *delivery_header(struct api_ctx *c, enum webhook_source src)
{
    const char *v = NULL;

    switch (src) {
    case WH_GITHUB: v = httpd_req_header(c->req, "X-GitHub-Delivery"); break;
    case WH_GITEA: v = httpd_req_header(c->req, "X-Gitea-Delivery"); break;
    case WH_GITLAB: v = httpd_req_header(c->req, "X-Gitlab-Event-UUID"); break;
    case WH_GIT: break;
    }
    return v ? v : "";
}

static void deliver(struct api_ctx *c, enum webhook_source src, const char *event,
                    const char *repo, int status, json_t *answer,
                    const char *outcome)
{
    struct store_delivery d;
    struct ferr err;
    char ev[128];
    char dl[128];

    snprintf(ev, sizeof(ev), "%s", event ? event : "");
    snprintf(dl, sizeof(dl), "%s", delivery_header(c, src));
    ferr_clear(&err);
    memset(&d, 0, sizeof(d));
    d.source = (char *)webhook_source_name(src);
    d.event = ev;
    d.delivery = dl;
    d.repo = (char *)(repo ? repo : "");
    d.status = status;
    d.outcome = (char *)outcome;
    /* a bad signature proves nothing about the sender: recording it
     * would let anyone who guesses a repository's name grow the table */
    if (status != 401 && store_delivery_add(c->s->store, &d, &err))
        log_err("delivery not recorded err='%s'", err.msg);
    telemetry_webhook(c->s, d.source, status);
    if (status >= 400) {
        log_warn("webhook rejected source='%s' repo='%s' status=%d "
                 "reason='%s'",
                 d.source, d.repo, status, outcome);
        httpd_respond_error(c->req, status, "%s", outcome);
        json_decref(answer);
    } else {
        json_object_set_new(answer, "outcome", json_string(outcome));
        httpd_respond_json(c->req, status, answer);
    }
}

/* The repository a delivery names, for events the parser does not
 * handle (it does not read their bodies): repository.name (GitHub,
 * Gitea) or project.path (GitLab).  Heap or NULL. */
static char *named_repo(struct span body)
{
    json_t *o = json_loadb(body.p, body.len, 0, NULL);
    const char *v = json_string_value(
        json_object_get(json_object_get(o, "repository"), "name"));
    char *out;

    if (!v)
        v = json_string_value(
            json_object_get(json_object_get(o, "project"), "path"));
    out = v && *v && strlen(v) <= LIM_NAME ? xstrdup(v) : NULL;
    json_decref(o);
    return out;
}

static void hook(struct api_ctx *c, enum webhook_source src)
{
    struct span body = httpd_req_body(c->req);
    const char *ev_name = event_header(c, src);
    const char *name = httpd_req_query(c->req, "repo");
    struct webhook_event *evs = NULL;
    size_t nev = 0;
    struct store_repo repo;
    struct ferr err, perr;
    char *aad = NULL;
    char *key = NULL;
    size_t klen = 0;
    enum ferr_code prc;
    json_t *ids = json_array();
    char outcome[700];
    size_t queued_runs = 0;
    bool have_repo = false;
    char *named = NULL;

    ferr_clear(&err);
    ferr_clear(&perr);
    memset(&repo, 0, sizeof(repo));
    /* parsing changes nothing; acting waits for the signature */
    prc = webhook_parse(src, ev_name, body.p, body.len, &evs, &nev, &perr);
    if (!name && !prc && nev > 0 && evs[0].repo && *evs[0].repo)
        name = evs[0].repo;
    if (!name && prc == FERR_UNSUPPORTED)
        name = named = named_repo(body);
    /* deliveries are recorded for known repositories only: anonymous
     * junk must not grow the table */
    if (!name) {
        httpd_respond_error(c->req, prc ? 400 : 404, "%s",
                            prc ? perr.msg
                                : "no repository: pass ?repo=NAME or send "
                                  "repository.name");
        goto done;
    }
    if (store_repo_get(c->s->store, name, &repo, &err)) {
        httpd_respond_error(c->req, 404, "no repository '%s'", name);
        goto done;
    }
    have_repo = true;
    aad = xasprintf("hook:%s", repo.name);
    if (!repo.hook_key ||
        crypto_open(&c->s->key, repo.hook_key, repo.hook_key_len, aad, &key,
                    &klen, &err)) {
        deliver(c, src, ev_name, name, 401, ids,
                "the repository has no usable webhook secret");
        ids = NULL;
        goto done;
    }
    if (webhook_verify(src, httpd_req_header(c->req, sig_header(src)), key,
                       klen, body.p, body.len, &err)) {
        deliver(c, src, ev_name, name, 401, ids, err.msg);
        ids = NULL;
        goto done;
    }
    if (prc == FERR_UNSUPPORTED) {
        snprintf(outcome, sizeof(outcome), "ignored: %s", perr.msg);
        deliver(c, src, ev_name, name, 200, json_pack("{s:o}", "runs", ids),
                outcome);
        ids = NULL;
        goto done;
    }
    if (prc) {
        deliver(c, src, ev_name, name, prc == FERR_LIMIT ? 413 : 400, ids,
                perr.msg);
        ids = NULL;
        goto done;
    }
    for (size_t i = 0; i < nev; i++) {
        struct trigger t;
        size_t before = json_array_size(ids);

        if (strcmp(evs[i].event, "ping") == 0) {
            deliver(c, src, "ping", name, 202, json_pack("{s:o}", "runs", ids),
                    "pong");
            ids = NULL;
            goto done;
        }
        if (evs[i].deleted || !evs[i].sha[0])
            continue;
        memset(&t, 0, sizeof(t));
        t.repo = &repo;
        t.event = evs[i].event;
        t.ref = evs[i].ref;
        t.sha = evs[i].sha;
        t.payload = evs[i].payload;
        t.actor = evs[i].actor && *evs[i].actor ? evs[i].actor : "ferry";
        if (queue_trigger(c->s, &t, ids, &err)) {
            snprintf(outcome, sizeof(outcome), "%s", err.msg);
            deliver(c, src, evs[i].event, name,
                    status_of(err.code) == 500 ? 502 : 422, ids, outcome);
            ids = NULL;
            goto done;
        }
        queued_runs += json_array_size(ids) - before;
    }
    snprintf(outcome, sizeof(outcome), "%zu run%s queued", queued_runs,
             queued_runs == 1 ? "" : "s");
    deliver(c, src, nev ? evs[0].event : ev_name, name, 200,
            json_pack("{s:o}", "runs", ids), outcome);
    ids = NULL;
done:
    if (key) {
        explicit_bzero(key, klen);
        free(key);
    }
    free(aad);
    free(named);
    json_decref(ids);
    webhook_events_free(evs, nev);
    if (have_repo)
        store_repo_release(&repo);
}

static void h_hook_github(struct api_ctx *c)
{
    hook(c, WH_GITHUB);
}
static void h_hook_gitea(struct api_ctx *c)
{
    hook(c, WH_GITEA);
}
static void h_hook_gitlab(struct api_ctx *c)
{
    hook(c, WH_GITLAB);
}
static void h_hook_git(struct api_ctx *c)
{
    hook(c, WH_GIT);
}

/* ---------- the table ---------- */

static const struct route routes[] = {
    {"GET", "/healthz", ROLE_NONE, h_healthz},
    {"GET", "/readyz", ROLE_NONE, h_readyz},
    {"POST", "/hooks/github", ROLE_NONE, h_hook_github},
    {"POST", "/hooks/gitea", ROLE_NONE, h_hook_gitea},
    {"POST", "/hooks/gitlab", ROLE_NONE, h_hook_gitlab},
    {"POST", "/hooks/git", ROLE_NONE, h_hook_git},
    {"GET", "/metrics", ROLE_VIEWER, h_metrics},
    {"GET", "/api/v1/whoami", ROLE_VIEWER, h_whoami},
    {"GET", "/api/v1/repos", ROLE_VIEWER, h_repos},
    {"POST", "/api/v1/repos", ROLE_ADMIN, h_repo_add},
    {"GET", "/api/v1/repos/:name", ROLE_VIEWER, h_repo_get},
    {"POST", "/api/v1/repos/:name/workflows/:file/dispatches", ROLE_DEVELOPER,
     h_dispatch},
    {"GET", "/api/v1/repos/:name/secrets", ROLE_ADMIN, h_secrets},
    {"PUT", "/api/v1/repos/:name/secrets/:secret", ROLE_ADMIN, h_secret_put},
    {"DELETE", "/api/v1/repos/:name/secrets/:secret", ROLE_ADMIN,
     h_secret_delete},
    {"GET", "/api/v1/runs", ROLE_VIEWER, h_runs},
    {"GET", "/api/v1/runs/:id", ROLE_VIEWER, h_run_get},
    {"POST", "/api/v1/runs/:id/cancel", ROLE_DEVELOPER, h_run_cancel},
    {"POST", "/api/v1/runs/:id/rerun", ROLE_DEVELOPER, h_run_rerun},
    {"GET", "/api/v1/runs/:id/jobs", ROLE_VIEWER, h_run_jobs},
    {"GET", "/api/v1/runs/:id/logs", ROLE_VIEWER, h_run_logs},
    {"GET", "/api/v1/runs/:id/artifacts", ROLE_VIEWER, h_artifacts},
    {"GET", "/api/v1/runs/:id/artifacts/:name", ROLE_VIEWER, h_artifact_get},
    {"GET", "/api/v1/jobs/:id", ROLE_VIEWER, h_job_get},
    {"GET", "/api/v1/jobs/:id/logs", ROLE_VIEWER, h_job_logs},
    {"GET", "/api/v1/schedules", ROLE_VIEWER, h_schedules},
    {"GET", "/api/v1/tokens", ROLE_ADMIN, h_tokens},
    {"POST", "/api/v1/tokens", ROLE_ADMIN, h_token_add},
    {"DELETE", "/api/v1/tokens/:id", ROLE_ADMIN, h_token_delete},
    {"GET", "/api/v1/environments", ROLE_VIEWER, cdapi_env_list},
    {"GET", "/api/v1/repos/:name/environments/:env", ROLE_VIEWER,
     cdapi_env_get},
    {"PUT", "/api/v1/repos/:name/environments/:env", ROLE_ADMIN,
     cdapi_env_put},
    {"POST", "/api/v1/repos/:name/environments/:env/unlock", ROLE_ADMIN,
     cdapi_env_unlock},
    {"POST", "/api/v1/repos/:name/environments/:env/rollback", ROLE_APPROVER,
     cdapi_env_rollback},
    {"GET", "/api/v1/deployments", ROLE_VIEWER, cdapi_deploy_list},
    {"GET", "/api/v1/deployments/:id", ROLE_VIEWER, cdapi_deploy_get},
    /* the environment's rules say who may review: developer is the least */
    {"POST", "/api/v1/deployments/:id/approve", ROLE_DEVELOPER,
     cdapi_deploy_approve},
    {"POST", "/api/v1/deployments/:id/reject", ROLE_DEVELOPER,
     cdapi_deploy_reject},
    /* the deploy step's own token, checked by the handler */
    {"POST", "/api/v1/deployments/:id/events", ROLE_NONE, cdapi_deploy_event},
    {"GET", "/api/v1/incidents", ROLE_VIEWER, cdapi_incident_list},
    {"GET", "/api/v1/incidents/:id", ROLE_VIEWER, cdapi_incident_get},
    {"GET", "/api/v1/alerts", ROLE_VIEWER, cdapi_alert_list},
    {"GET", "/api/v1/deliveries", ROLE_ADMIN, h_deliveries},
    {"GET", "/api/v1/audit", ROLE_ADMIN, h_audit},
    {"GET", "/api/v1/dora", ROLE_VIEWER, watchapi_dora},
    {"GET", "/api/v1/runs/:id/reports", ROLE_VIEWER, watchapi_run_reports},
    {"GET", "/api/v1/repos/:name/trends", ROLE_VIEWER, watchapi_trend},
};

/* Paths the API answers; everything else is the dashboard's. */
static bool api_path(const char *path)
{
    static const char *const prefixes[] = {"/api/", "/hooks/"};
    static const char *const exact[] = {"/healthz", "/readyz", "/metrics",
                                        "/api"};

    for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++)
        if (strncmp(path, prefixes[i], strlen(prefixes[i])) == 0)
            return true;
    for (size_t i = 0; i < sizeof(exact) / sizeof(exact[0]); i++)
        if (strcmp(path, exact[i]) == 0)
            return true;
    return false;
}

size_t api_body_limit(void *ud, const char *method, const char *path)
{
    (void)ud;
    (void)method;
    return strncmp(path, "/hooks/", 7) == 0 ? LIM_HOOK_BODY : LIM_API_BODY;
}

/* Who is calling: 0 when the token is good, else the HTTP status. */
static int authenticate(struct api_ctx *c)
{
    const char *h = httpd_req_header(c->req, "Authorization");
    char hash[65];
    struct ferr err;
    size_t len;

    if (!h || strncasecmp(h, "Bearer ", 7) != 0)
        return 401;
    h += 7;
    while (*h == ' ')
        h++;
    len = strlen(h);
    while (len && h[len - 1] == ' ')
        len--;
    if (len != 64)
        return 401;
    crypto_sha256_hex(h, len, hash);
    ferr_clear(&err);
    if (store_token_find(c->s->store, hash, &c->tok, &err)) {
        if (err.code != FERR_NOTFOUND)
            log_err("token lookup failed err='%s'", err.msg);
        return err.code == FERR_NOTFOUND ? 401 : 503;
    }
    return 0;
}

void api_handle(void *ud, struct httpd_req *req)
{
    struct api_ctx c;
    const char *method = httpd_req_method(req);
    const char *path = httpd_req_path(req);
    const struct route *hit = NULL;
    bool path_known = false;
    int st;

    if (!api_path(path)) {
        dash_handle(ud, req);
        return;
    }
    memset(&c, 0, sizeof(c));
    c.s = ud;
    c.req = req;
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = 0;
        const char *caps[ROUTE_MAX_CAPS];

        if (!route_match(httpd_req_arena(req), routes[i].pattern, path, caps,
                         &n))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) != 0)
            continue;
        hit = &routes[i];
        memcpy(c.caps, caps, sizeof(caps));
        c.ncaps = n;
        break;
    }
    if (!hit) {
        if (path_known)
            httpd_respond_error(req, 405, "method %s is not allowed here",
                                method);
        else
            httpd_respond_error(req, 404, "no route %s", path);
        return;
    }
    if (hit->role != ROLE_NONE) {
        st = authenticate(&c);
        if (st == 401) {
            httpd_req_add_header(req, "WWW-Authenticate", "Bearer");
            httpd_respond_error(req, 401, "a valid bearer token is required");
            goto done;
        }
        if (st) {
            httpd_respond_error(req, st, "cannot check the token now");
            goto done;
        }
        if (c.tok.role < hit->role) {
            httpd_respond_error(req, 403,
                                "this needs the %s role (the token "
                                "is %s)",
                                store_role_name(hit->role),
                                store_role_name(c.tok.role));
            goto done;
        }
    }
    hit->h(&c);
done:
    store_token_release(&c.tok);
}
