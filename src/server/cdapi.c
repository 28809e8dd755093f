/* cdapi: the HTTP handlers of continuous delivery — environments (rules,
 * live state, unlock, rollback), deployments (list, get, approve,
 * reject, the deploy step's events), incidents and the alerts queued in
 * the outbox.  Thin: parse, call the store or cd.c, answer JSON. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "deploy/envt.h"
#include "server/api.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The request body as a JSON object (an empty body is {}); NULL after
 * answering 400. */
static json_t *body_object(struct api_ctx *c)
{
    struct span b = httpd_req_body(c->req);
    json_error_t je;
    json_t *v;

    if (b.len == 0)
        return json_object();
    v = json_loadb(b.p, b.len, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(v)) {
        httpd_respond_error(c->req, 400, "the body must be a JSON object%s%s",
                            v ? "" : ": ", v ? "" : je.text);
        json_decref(v);
        return NULL;
    }
    return v;
}

/* An optional short text field; false after answering 422. */
static bool text_field(struct api_ctx *c, json_t *body, const char *key,
                       size_t max, const char **out)
{
    json_t *v = json_object_get(body, key);

    *out = NULL;
    if (!v || json_is_null(v))
        return true;
    if (!json_is_string(v) || json_string_length(v) > max ||
        strlen(json_string_value(v)) != json_string_length(v)) {
        httpd_respond_error(c->req, 422, "'%s' must be text of at most %zu "
                            "bytes", key, max);
        return false;
    }
    *out = json_string_value(v);
    return true;
}

static bool env_name_ok(struct api_ctx *c, const char *name)
{
    if (cd_env_name_ok(name))
        return true;
    httpd_respond_error(c->req, 422,
                        "an environment name is 1..%u letters, digits, "
                        "'-', '_' or '.'",
                        LIM_NAME);
    return false;
}

/* ---------- environments ---------- */

void cdapi_env_list(struct api_ctx *c)
{
    const char *rname = httpd_req_query(c->req, "repo");
    struct store_repo repo;
    json_t *out = NULL;
    struct ferr err;

    ferr_clear(&err);
    memset(&repo, 0, sizeof(repo));
    if (rname && !api_load_repo(c, rname, &repo))
        return;
    if (store_env_list(c->s->store, rname ? repo.id : 0, &out, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200,
                           json_pack("{s:o}", "environments", out));
    store_repo_release(&repo);
}

/* The newest deployment of @env with @status, or JSON null. */
static json_t *latest(struct api_ctx *c, int64_t repo_id, const char *env,
                      const char *status, size_t nth)
{
    json_t *list = NULL;
    json_t *d = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (store_deploy_list(c->s->store, repo_id, env, status, nth + 1, &list,
                          &err) == FERR_OK)
        d = json_array_get(list, nth);
    d = d ? json_incref(d) : json_null();
    json_decref(list);
    return d;
}

void cdapi_env_get(struct api_ctx *c)
{
    struct store_repo repo;
    json_t *e = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (!api_load_repo(c, c->caps[0], &repo))
        return;
    if (store_env_get(c->s->store, repo.id, c->caps[1], &e, &err)) {
        api_fail(c, err.code, &err);
    } else {
        json_object_set_new(e, "current",
                            latest(c, repo.id, c->caps[1], "success", 0));
        json_object_set_new(e, "previous",
                            latest(c, repo.id, c->caps[1], "success", 1));
        json_object_set_new(e, "live", cd_env_live(c->s, repo.id, c->caps[1]));
        httpd_respond_json(c->req, 200, e);
    }
    store_repo_release(&repo);
}

void cdapi_env_put(struct api_ctx *c)
{
    struct store_repo repo;
    struct envt_rules rules;
    json_t *body;
    json_t *norm;
    json_t *e = NULL;
    struct ferr err;
    int64_t id;
    bool created;

    ferr_clear(&err);
    if (!env_name_ok(c, c->caps[1]))
        return;
    body = body_object(c);
    if (!body)
        return;
    if (!api_load_repo(c, c->caps[0], &repo)) {
        json_decref(body);
        return;
    }
    if (envt_rules_parse(body, &rules, &err)) {
        api_fail(c, FERR_INVALID, &err);
        goto done;
    }
    created = store_env_get(c->s->store, repo.id, c->caps[1], &e, &err) ==
              FERR_NOTFOUND;
    json_decref(e);
    e = NULL;
    ferr_clear(&err);
    norm = envt_rules_json(&rules);
    envt_rules_release(&rules);
    if (store_env_put(c->s->store, repo.id, c->caps[1], norm, &id, &err) ||
        store_env_get(c->s->store, repo.id, c->caps[1], &e, &err)) {
        json_decref(norm);
        api_fail(c, err.code, &err);
        goto done;
    }
    {
        char *detail = json_dumps(norm, JSON_COMPACT);
        char *target = xasprintf("%s/%s", repo.name, c->caps[1]);

        api_audit(c, created ? "environment.create" : "environment.update",
                  target, detail);
        free(detail);
        free(target);
    }
    json_decref(norm);
    httpd_respond_json(c->req, created ? 201 : 200, e);
done:
    json_decref(body);
    store_repo_release(&repo);
}

void cdapi_env_unlock(struct api_ctx *c)
{
    struct store_repo repo;
    struct ferr err;

    ferr_clear(&err);
    if (!api_load_repo(c, c->caps[0], &repo))
        return;
    if (cd_unlock(c->s, &repo, c->caps[1], &err)) {
        api_fail(c, err.code, &err);
    } else {
        char *target = xasprintf("%s/%s", repo.name, c->caps[1]);

        api_audit(c, "environment.unlock", target, "");
        free(target);
        httpd_respond_json(c->req, 200, json_pack("{s:b}", "locked", 0));
    }
    store_repo_release(&repo);
}

void cdapi_env_rollback(struct api_ctx *c)
{
    struct store_repo repo;
    struct ferr err;
    json_t *body = body_object(c);
    json_t *d = NULL;
    const char *reason;
    int64_t id;

    ferr_clear(&err);
    if (!body)
        return;
    if (!text_field(c, body, "reason", 500, &reason) ||
        !api_load_repo(c, c->caps[0], &repo)) {
        json_decref(body);
        return;
    }
    if (cd_rollback(c->s, &repo, c->caps[1], &c->tok, reason, &id, &err) ||
        store_deploy_get(c->s->store, id, &d, &err)) {
        api_fail(c, err.code, &err);
    } else {
        char *target = xasprintf("%s/%s", repo.name, c->caps[1]);

        api_audit(c, "environment.rollback", target, reason ? reason : "");
        free(target);
        httpd_respond_json(c->req, 202, d);
    }
    json_decref(body);
    store_repo_release(&repo);
}

/* ---------- deployments ---------- */

void cdapi_deploy_list(struct api_ctx *c)
{
    const char *rname = httpd_req_query(c->req, "repo");
    const char *env = httpd_req_query(c->req, "environment");
    const char *status = httpd_req_query(c->req, "status");
    const char *lim = httpd_req_query(c->req, "limit");
    uint64_t limit = 50;
    struct store_repo repo;
    json_t *out = NULL;
    struct ferr err;

    ferr_clear(&err);
    memset(&repo, 0, sizeof(repo));
    if (lim && (span_to_u64(span_cstr(lim), &limit) || limit == 0 ||
                limit > 200)) {
        httpd_respond_error(c->req, 400, "'limit' must be 1..200");
        return;
    }
    if (rname && !api_load_repo(c, rname, &repo))
        return;
    if (store_deploy_list(c->s->store, rname ? repo.id : 0, env, status,
                          (size_t)limit, &out, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200, json_pack("{s:o}", "deployments", out));
    store_repo_release(&repo);
}

void cdapi_deploy_get(struct api_ctx *c)
{
    int64_t id;
    json_t *d = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (!api_cap_id(c, 0, &id))
        return;
    if (store_deploy_get(c->s->store, id, &d, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200, d);
}

static void review(struct api_ctx *c, bool approve)
{
    json_t *body = body_object(c);
    json_t *d = NULL;
    const char *comment;
    struct ferr err;
    int64_t id;
    char target[32];

    ferr_clear(&err);
    if (!body)
        return;
    if (!api_cap_id(c, 0, &id) ||
        !text_field(c, body, "comment", 1000, &comment)) {
        json_decref(body);
        return;
    }
    if (cd_review(c->s, id, &c->tok, approve, comment, &err)) {
        if (err.code == FERR_USAGE)
            httpd_respond_error(c->req, 403, "%s", err.msg);
        else if (err.code == FERR_INVALID)
            httpd_respond_error(c->req, 409, "%s", err.msg);
        else
            api_fail(c, err.code, &err);
        json_decref(body);
        return;
    }
    snprintf(target, sizeof(target), "deployment/%" PRId64, id);
    api_audit(c, approve ? "deployment.approve" : "deployment.reject", target,
              comment ? comment : "");
    if (store_deploy_get(c->s->store, id, &d, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200, d);
    json_decref(body);
}

void cdapi_deploy_approve(struct api_ctx *c)
{
    review(c, true);
}

void cdapi_deploy_reject(struct api_ctx *c)
{
    review(c, false);
}

/* The deploy step's reports, authenticated by its deploy token (not a
 * user token: the route needs none, this handler checks it). */
void cdapi_deploy_event(struct api_ctx *c)
{
    const char *h = httpd_req_header(c->req, "Authorization");
    json_t *body;
    json_t *out = NULL;
    struct ferr err;
    int64_t id;

    ferr_clear(&err);
    if (!h || strncasecmp(h, "Bearer ", 7) != 0) {
        httpd_req_add_header(c->req, "WWW-Authenticate", "Bearer");
        httpd_respond_error(c->req, 401, "the deploy token is required");
        return;
    }
    if (!api_cap_id(c, 0, &id))
        return;
    body = body_object(c);
    if (!body)
        return;
    if (cd_step_event(c->s, id, h + 7, body, &out, &err)) {
        if (err.code == FERR_USAGE)
            httpd_respond_error(c->req, 403, "%s", err.msg);
        else
            api_fail(c, err.code, &err);
    } else {
        httpd_respond_json(c->req, 200, out);
    }
    json_decref(body);
}

/* ---------- incidents and alerts ---------- */

void cdapi_incident_list(struct api_ctx *c)
{
    const char *rname = httpd_req_query(c->req, "repo");
    struct store_repo repo;
    json_t *out = NULL;
    struct ferr err;

    ferr_clear(&err);
    memset(&repo, 0, sizeof(repo));
    if (rname && !api_load_repo(c, rname, &repo))
        return;
    if (store_incident_list(c->s->store, rname ? repo.id : 0, 200, &out, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200, json_pack("{s:o}", "incidents", out));
    store_repo_release(&repo);
}

void cdapi_incident_get(struct api_ctx *c)
{
    int64_t id;
    json_t *d = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (!api_cap_id(c, 0, &id))
        return;
    if (store_incident_get(c->s->store, id, &d, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200, d);
}

void cdapi_alert_list(struct api_ctx *c)
{
    json_t *out = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (store_outbox_list(c->s->store, 200, &out, &err))
        api_fail(c, err.code, &err);
    else
        httpd_respond_json(c->req, 200, json_pack("{s:o}", "alerts", out));
}
