/* store: the public face of the server's persistent state.  Picks a
 * backend from the database URL, checks arguments every backend would
 * otherwise check again, clears out-parameters, and dispatches through
 * the backend's table.  No SQL here (that is store_sqlite.c), and no
 * policy: who may do what is the server's business. */
#include "store/store.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "store/store_sqlite.h"
#include "util/limits.h"
#include "util/xalloc.h"

struct store {
    const struct store_backend *be;
    void *db; /* the backend's handle */
};

#define LIST_LIMIT_MAX 200u

static bool has_prefix(const char *s, const char *pre)
{
    return strncasecmp(s, pre, strlen(pre)) == 0;
}

enum ferr_code store_open(const char *url, struct store **out, struct ferr *err)
{
    const struct store_backend *be = &store_sqlite_backend;
    const char *target = url;
    const char *sep;
    struct store *s;
    void *db = NULL;
    enum ferr_code rc;

    *out = NULL;
    if (!url || !*url)
        return ferr_set(err, FERR_USAGE, NULL, "empty database url");
    if (has_prefix(url, "postgresql://") || has_prefix(url, "postgres://"))
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "postgresql is not supported yet");
    if (has_prefix(url, "sqlite:")) {
        target = url + strlen("sqlite:");
    } else if ((sep = strstr(url, "://")) != NULL) {
        /* the scheme only: the rest may carry a password */
        return ferr_set(err, FERR_USAGE, NULL,
                        "unsupported database url scheme '%.*s'",
                        (int)(sep - url > 32 ? 32 : sep - url), url);
    }
    if (!*target)
        return ferr_set(err, FERR_USAGE, NULL, "empty database path");
    rc = be->open(target, &db, err);
    if (rc)
        return rc;
    s = xcalloc(1, sizeof(*s));
    s->be = be;
    s->db = db;
    *out = s;
    return FERR_OK;
}

void store_close(struct store *s)
{
    if (!s)
        return;
    s->be->close(s->db);
    free(s);
}

int store_schema_version(struct store *s)
{
    return s->be->schema_version(s->db);
}

enum ferr_code store_ping(struct store *s, struct ferr *err)
{
    return s->be->ping(s->db, err);
}

/* ---------- argument checks ---------- */

static enum ferr_code need(const void *p, const char *what, struct ferr *err)
{
    if (p)
        return FERR_OK;
    return ferr_set(err, FERR_INVALID, NULL, "store: %s is missing", what);
}

static enum ferr_code check_conclusion(const char *c, struct ferr *err)
{
    static const char *const ok[] = {"success", "failure", "cancelled",
                                     "skipped"};

    if (!c)
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: conclusion is missing");
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
        if (strcmp(c, ok[i]) == 0)
            return FERR_OK;
    return ferr_set(err, FERR_INVALID, NULL,
                    "store: unknown conclusion '%.32s'", c);
}

static enum ferr_code check_hash(const char *h, struct ferr *err)
{
    size_t n = 0;

    if (!h)
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: token hash is missing");
    for (; h[n] && n <= 64; n++)
        if (!((h[n] >= '0' && h[n] <= '9') || (h[n] >= 'a' && h[n] <= 'f')))
            break;
    if (n != 64 || h[n])
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: a token hash is 64 lowercase hex digits");
    return FERR_OK;
}

static enum ferr_code check_repo_name(const char *name, struct ferr *err)
{
    size_t n;

    if (!name)
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: repository name is missing");
    n = strlen(name);
    if (n == 0 || n > LIM_NAME)
        return ferr_set(err, FERR_INVALID, NULL,
                        "invalid repository name '%.64s': 1 to %u characters",
                        name, LIM_NAME);
    if (strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-") != n)
        return ferr_set(err, FERR_INVALID, NULL,
                        "invalid repository name '%.64s': letters, digits, "
                        "'.', '_' and '-' only",
                        name);
    return FERR_OK;
}

/* ---------- roles ---------- */

static const char *const role_names[] = {
    [ROLE_NONE] = "none",           [ROLE_VIEWER] = "viewer",
    [ROLE_DEVELOPER] = "developer", [ROLE_APPROVER] = "approver",
    [ROLE_ADMIN] = "admin",
};

const char *store_role_name(enum store_role r)
{
    if ((int)r < 0 || (size_t)r >= sizeof(role_names) / sizeof(role_names[0]))
        return "none";
    return role_names[r];
}

enum store_role store_role_parse(const char *name)
{
    if (!name)
        return ROLE_NONE;
    for (size_t i = 1; i < sizeof(role_names) / sizeof(role_names[0]); i++)
        if (strcmp(name, role_names[i]) == 0)
            return (enum store_role)i;
    return ROLE_NONE;
}

/* ---------- tokens ---------- */

void store_token_release(struct store_token *t)
{
    if (!t)
        return;
    free(t->name);
    memset(t, 0, sizeof(*t));
}

void store_tokens_free(struct store_token *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        store_token_release(&v[i]);
    free(v);
}

enum ferr_code store_token_add(struct store *s, const char *sha256_hex,
                               enum store_role role, const char *name,
                               int64_t *out_id, struct ferr *err)
{
    enum ferr_code rc;

    *out_id = 0;
    rc = check_hash(sha256_hex, err);
    if (rc)
        return rc;
    if (role < ROLE_VIEWER || role > ROLE_ADMIN)
        return ferr_set(err, FERR_INVALID, NULL, "store: invalid role %d",
                        (int)role);
    return s->be->token_add(s->db, sha256_hex, role, name ? name : "", out_id,
                            err);
}

enum ferr_code store_token_find(struct store *s, const char *sha256_hex,
                                struct store_token *out, struct ferr *err)
{
    memset(out, 0, sizeof(*out));
    /* a malformed hash cannot be in the table: not found, not invalid,
     * so a bad bearer token is answered like an unknown one */
    if (check_hash(sha256_hex, NULL))
        return ferr_set(err, FERR_NOTFOUND, NULL, "token not found");
    return s->be->token_find(s->db, sha256_hex, out, err);
}

enum ferr_code store_token_count(struct store *s, int64_t *out,
                                 struct ferr *err)
{
    *out = 0;
    return s->be->token_count(s->db, out, err);
}

enum ferr_code store_token_list(struct store *s, struct store_token **out,
                                size_t *out_n, struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->token_list(s->db, out, out_n, err);
}

enum ferr_code store_token_revoke(struct store *s, int64_t id, struct ferr *err)
{
    return s->be->token_revoke(s->db, id, err);
}

/* ---------- repositories ---------- */

void store_repo_release(struct store_repo *r)
{
    if (!r)
        return;
    free(r->name);
    free(r->url);
    free(r->default_branch);
    free(r->hook_key);
    memset(r, 0, sizeof(*r));
}

void store_repos_free(struct store_repo *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        store_repo_release(&v[i]);
    free(v);
}

enum ferr_code store_repo_add(struct store *s, const struct store_repo *in,
                              int64_t *out_id, struct ferr *err)
{
    enum ferr_code rc;

    *out_id = 0;
    rc = check_repo_name(in->name, err);
    if (!rc)
        rc = need(in->url, "repository url", err);
    if (rc)
        return rc;
    return s->be->repo_add(s->db, in, out_id, err);
}

enum ferr_code store_repo_update(struct store *s, const struct store_repo *in,
                                 struct ferr *err)
{
    enum ferr_code rc = need(in->url, "repository url", err);

    if (rc)
        return rc;
    return s->be->repo_update(s->db, in, err);
}

enum ferr_code store_repo_get(struct store *s, const char *name,
                              struct store_repo *out, struct ferr *err)
{
    memset(out, 0, sizeof(*out));
    if (!name)
        return ferr_set(err, FERR_NOTFOUND, NULL, "repository not found");
    return s->be->repo_get(s->db, name, out, err);
}

enum ferr_code store_repo_get_id(struct store *s, int64_t id,
                                 struct store_repo *out, struct ferr *err)
{
    memset(out, 0, sizeof(*out));
    return s->be->repo_get_id(s->db, id, out, err);
}

enum ferr_code store_repo_list(struct store *s, struct store_repo **out,
                               size_t *out_n, struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->repo_list(s->db, out, out_n, err);
}

/* ---------- secrets ---------- */

void store_secrets_free(struct store_secret *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].blob);
    }
    free(v);
}

enum ferr_code store_secret_set(struct store *s, int64_t repo_id,
                                const char *name, const unsigned char *blob,
                                size_t len, struct ferr *err)
{
    enum ferr_code rc = need(name, "secret name", err);

    if (!rc && !blob && len > 0)
        rc = need(blob, "secret value", err);
    if (rc)
        return rc;
    return s->be->secret_set(s->db, repo_id, name, blob, len, err);
}

enum ferr_code store_secret_delete(struct store *s, int64_t repo_id,
                                   const char *name, struct ferr *err)
{
    if (!name)
        return ferr_set(err, FERR_NOTFOUND, NULL, "secret not found");
    return s->be->secret_delete(s->db, repo_id, name, err);
}

enum ferr_code store_secret_list(struct store *s, int64_t repo_id,
                                 struct store_secret **out, size_t *out_n,
                                 struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->secret_list(s->db, repo_id, false, out, out_n, err);
}

enum ferr_code store_secret_load(struct store *s, int64_t repo_id,
                                 struct store_secret **out, size_t *out_n,
                                 struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->secret_list(s->db, repo_id, true, out, out_n, err);
}

/* ---------- runs and attempts ---------- */

void store_run_release(struct store_run *r)
{
    if (!r)
        return;
    free(r->repo);
    free(r->workflow);
    free(r->workflow_name);
    free(r->event);
    free(r->ref);
    free(r->sha);
    free(r->payload);
    free(r->actor);
    free(r->status);
    free(r->conclusion);
    free(r->reason);
    free(r->concurrency);
    free(r->rerun_jobs);
    memset(r, 0, sizeof(*r));
}

void store_runs_free(struct store_run *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        store_run_release(&v[i]);
    free(v);
}

enum ferr_code store_run_create(struct store *s, const struct store_run *in,
                                int64_t *out_id, int64_t *out_number,
                                struct ferr *err)
{
    enum ferr_code rc;

    *out_id = 0;
    *out_number = 0;
    rc = need(in->workflow, "run workflow", err);
    if (!rc)
        rc = need(in->event, "run event", err);
    if (rc)
        return rc;
    return s->be->run_create(s->db, in, out_id, out_number, err);
}

enum ferr_code store_run_get(struct store *s, int64_t id, struct store_run *out,
                             struct ferr *err)
{
    memset(out, 0, sizeof(*out));
    return s->be->run_get(s->db, id, out, err);
}

enum ferr_code store_run_list(struct store *s, const struct store_run_filter *f,
                              struct store_run **out, size_t *out_n,
                              bool *out_more, struct ferr *err)
{
    struct store_run_filter g = *f;

    *out = NULL;
    *out_n = 0;
    *out_more = false;
    if (g.limit < 1)
        g.limit = 1;
    if (g.limit > LIST_LIMIT_MAX)
        g.limit = LIST_LIMIT_MAX;
    if (g.before_id < 0)
        g.before_id = 0;
    return s->be->run_list(s->db, &g, out, out_n, out_more, err);
}

enum ferr_code store_run_queue(struct store *s, struct store_run **out,
                               size_t *out_n, struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->run_queue(s->db, out, out_n, err);
}

enum ferr_code store_run_running(struct store *s, struct store_run **out,
                                 size_t *out_n, struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->run_running(s->db, out, out_n, err);
}

void store_attempts_free(struct store_attempt *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].status);
        free(v[i].conclusion);
        free(v[i].reason);
        free(v[i].tag);
    }
    free(v);
}

enum ferr_code store_run_start(struct store *s, int64_t run_id, int pid,
                               const char *tag, struct ferr *err)
{
    return s->be->run_start(s->db, run_id, pid, tag, err);
}

enum ferr_code store_run_finish(struct store *s, int64_t run_id,
                                const char *conclusion, const char *reason,
                                struct ferr *err)
{
    enum ferr_code rc = check_conclusion(conclusion, err);

    if (rc)
        return rc;
    return s->be->run_finish(s->db, run_id, conclusion, reason, err);
}

enum ferr_code store_run_retry(struct store *s, int64_t run_id,
                               const char *conclusion, const char *reason,
                               const char *rerun_jobs, struct ferr *err)
{
    enum ferr_code rc = check_conclusion(conclusion, err);

    if (rc)
        return rc;
    return s->be->run_retry(s->db, run_id, conclusion, reason, rerun_jobs, err);
}

enum ferr_code store_run_request_cancel(struct store *s, int64_t run_id,
                                        struct ferr *err)
{
    return s->be->run_request_cancel(s->db, run_id, err);
}

enum ferr_code store_run_set_waiting(struct store *s, int64_t run_id,
                                     bool waiting, const char *reason,
                                     struct ferr *err)
{
    return s->be->run_set_waiting(s->db, run_id, waiting, reason, err);
}

enum ferr_code store_attempt_list(struct store *s, int64_t run_id,
                                  struct store_attempt **out, size_t *out_n,
                                  struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->attempt_list(s->db, run_id, out, out_n, err);
}

/* ---------- jobs and steps ---------- */

void store_job_release(struct store_job *j)
{
    if (!j)
        return;
    free(j->job_key);
    free(j->name);
    free(j->matrix);
    free(j->status);
    free(j->conclusion);
    free(j->reason);
    free(j->outputs);
    free(j->log_path);
    memset(j, 0, sizeof(*j));
}

void store_jobs_free(struct store_job *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        store_job_release(&v[i]);
    free(v);
}

static enum ferr_code check_attempt(int attempt, struct ferr *err)
{
    if (attempt >= 1)
        return FERR_OK;
    return ferr_set(err, FERR_INVALID, NULL, "store: invalid attempt %d",
                    attempt);
}

enum ferr_code store_job_start(struct store *s, int64_t run_id, int attempt,
                               const char *job_key, const char *name,
                               const char *matrix, const char *log_path,
                               int64_t *out_id, struct ferr *err)
{
    enum ferr_code rc;

    *out_id = 0;
    rc = need(job_key, "job key", err);
    if (!rc)
        rc = check_attempt(attempt, err);
    if (rc)
        return rc;
    return s->be->job_start(s->db, run_id, attempt, job_key, name, matrix,
                            log_path, out_id, err);
}

enum ferr_code store_job_finish(struct store *s, int64_t job_id,
                                const char *conclusion, const char *reason,
                                const char *outputs, struct ferr *err)
{
    enum ferr_code rc = check_conclusion(conclusion, err);

    if (rc)
        return rc;
    return s->be->job_finish(s->db, job_id, conclusion, reason, outputs, err);
}

enum ferr_code store_job_add_completed(struct store *s, int64_t run_id,
                                       int attempt, const char *job_key,
                                       const char *name, const char *matrix,
                                       const char *conclusion,
                                       const char *reason, int64_t *out_id,
                                       struct ferr *err)
{
    enum ferr_code rc;

    *out_id = 0;
    rc = need(job_key, "job key", err);
    if (!rc)
        rc = check_attempt(attempt, err);
    if (!rc)
        rc = check_conclusion(conclusion, err);
    if (rc)
        return rc;
    return s->be->job_add_completed(s->db, run_id, attempt, job_key, name,
                                    matrix, conclusion, reason, out_id, err);
}

enum ferr_code store_job_list(struct store *s, int64_t run_id, int attempt,
                              struct store_job **out, size_t *out_n,
                              struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->job_list(s->db, run_id, attempt < 0 ? 0 : attempt, out, out_n,
                           err);
}

enum ferr_code store_job_get(struct store *s, int64_t job_id,
                             struct store_job *out, struct ferr *err)
{
    memset(out, 0, sizeof(*out));
    return s->be->job_get(s->db, job_id, out, err);
}

void store_steps_free(struct store_step *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].status);
        free(v[i].conclusion);
    }
    free(v);
}

static enum ferr_code check_step(int number, struct ferr *err)
{
    if (number >= 1)
        return FERR_OK;
    return ferr_set(err, FERR_INVALID, NULL, "store: invalid step number %d",
                    number);
}

enum ferr_code store_step_start(struct store *s, int64_t job_id, int number,
                                const char *name, int64_t *out_id,
                                struct ferr *err)
{
    enum ferr_code rc;

    *out_id = 0;
    rc = check_step(number, err);
    if (rc)
        return rc;
    return s->be->step_start(s->db, job_id, number, name, out_id, err);
}

enum ferr_code store_step_finish(struct store *s, int64_t job_id, int number,
                                 const char *name, const char *conclusion,
                                 struct ferr *err)
{
    enum ferr_code rc = check_step(number, err);

    if (!rc)
        rc = check_conclusion(conclusion, err);
    if (rc)
        return rc;
    return s->be->step_finish(s->db, job_id, number, name, conclusion, err);
}

enum ferr_code store_step_list(struct store *s, int64_t job_id,
                               struct store_step **out, size_t *out_n,
                               struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->step_list(s->db, job_id, out, out_n, err);
}

/* ---------- artifacts ---------- */

void store_artifacts_free(struct store_artifact *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].name);
        free(v[i].path);
    }
    free(v);
}

enum ferr_code store_artifact_add(struct store *s, int64_t run_id,
                                  const char *name, const char *path,
                                  int64_t size, struct ferr *err)
{
    enum ferr_code rc = need(name, "artifact name", err);

    if (!rc)
        rc = need(path, "artifact path", err);
    if (rc)
        return rc;
    return s->be->artifact_add(s->db, run_id, name, path, size, err);
}

enum ferr_code store_artifact_list(struct store *s, int64_t run_id,
                                   struct store_artifact **out, size_t *out_n,
                                   struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->artifact_list(s->db, run_id, out, out_n, err);
}

/* ---------- schedules ---------- */

void store_schedules_free(struct store_schedule *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].repo);
        free(v[i].workflow);
        free(v[i].cron);
    }
    free(v);
}

enum ferr_code store_schedule_sync(struct store *s, int64_t repo_id,
                                   const char *const *workflows,
                                   const char *const *crons, size_t n,
                                   int64_t now_ms, struct ferr *err)
{
    if (n > 0 && (!workflows || !crons))
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: schedules without workflows or crons");
    for (size_t i = 0; i < n; i++)
        if (!workflows[i] || !crons[i])
            return ferr_set(err, FERR_INVALID, NULL,
                            "store: schedule %zu has no workflow or cron", i);
    return s->be->schedule_sync(s->db, repo_id, workflows, crons, n, now_ms,
                                err);
}

enum ferr_code store_schedule_list(struct store *s, struct store_schedule **out,
                                   size_t *out_n, struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    return s->be->schedule_list(s->db, out, out_n, err);
}

enum ferr_code store_schedule_fired(struct store *s, int64_t id,
                                    int64_t slot_ms, struct ferr *err)
{
    return s->be->schedule_fired(s->db, id, slot_ms, err);
}

/* ---------- webhook deliveries and audit ---------- */

void store_deliveries_free(struct store_delivery *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].source);
        free(v[i].event);
        free(v[i].delivery);
        free(v[i].repo);
        free(v[i].outcome);
    }
    free(v);
}

enum ferr_code store_delivery_add(struct store *s,
                                  const struct store_delivery *in,
                                  struct ferr *err)
{
    enum ferr_code rc = need(in->source, "delivery source", err);

    if (rc)
        return rc;
    return s->be->delivery_add(s->db, in, err);
}

enum ferr_code store_delivery_list(struct store *s, size_t limit,
                                   struct store_delivery **out, size_t *out_n,
                                   struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    if (limit == 0)
        return FERR_OK;
    return s->be->delivery_list(s->db, limit, out, out_n, err);
}

void store_audits_free(struct store_audit *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].action);
        free(v[i].target);
        free(v[i].detail);
    }
    free(v);
}

enum ferr_code store_audit_add(struct store *s, int64_t token_id,
                               const char *action, const char *target,
                               const char *detail, struct ferr *err)
{
    enum ferr_code rc = need(action, "audit action", err);

    if (rc)
        return rc;
    return s->be->audit_add(s->db, token_id, action, target, detail, err);
}

enum ferr_code store_audit_list(struct store *s, size_t limit,
                                struct store_audit **out, size_t *out_n,
                                struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    if (limit == 0)
        return FERR_OK;
    return s->be->audit_list(s->db, limit, out, out_n, err);
}

/* ---------- continuous delivery ---------- */

enum ferr_code store_env_put(struct store *s, int64_t repo_id,
                             const char *name, json_t *rules, int64_t *out_id,
                             struct ferr *err)
{
    char *text;
    enum ferr_code rc = need(name, "environment name", err);

    *out_id = 0;
    if (rc)
        return rc;
    text = rules ? json_dumps(rules, JSON_COMPACT) : NULL;
    rc = s->be->env_put(s->db, repo_id, name, text ? text : "{}", out_id,
                        err);
    free(text);
    return rc;
}

enum ferr_code store_env_get(struct store *s, int64_t repo_id,
                             const char *name, json_t **out, struct ferr *err)
{
    enum ferr_code rc = need(name, "environment name", err);

    *out = NULL;
    if (rc)
        return rc;
    return s->be->env_get(s->db, repo_id, name, out, err);
}

enum ferr_code store_env_list(struct store *s, int64_t repo_id, json_t **out,
                              struct ferr *err)
{
    *out = NULL;
    return s->be->env_list(s->db, repo_id, out, err);
}

enum ferr_code store_env_lock(struct store *s, int64_t env_id,
                              const char *reason, struct ferr *err)
{
    return s->be->env_lock(s->db, env_id, reason, err);
}

enum ferr_code store_deploy_create(struct store *s, json_t *in,
                                   int64_t *out_id, struct ferr *err)
{
    *out_id = 0;
    if (!json_is_object(in) || !json_is_integer(json_object_get(in, "repo_id")) ||
        !json_is_string(json_object_get(in, "environment")) ||
        !json_is_string(json_object_get(in, "status")))
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: a deployment needs repo_id, environment "
                        "and status");
    return s->be->deploy_add(s->db, in, out_id, err);
}

enum ferr_code store_deploy_update(struct store *s, int64_t id, json_t *set,
                                   struct ferr *err)
{
    if (!json_is_object(set))
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: deployment fields must be an object");
    return s->be->deploy_set(s->db, id, set, err);
}

enum ferr_code store_deploy_phase(struct store *s, int64_t id, json_t *phase,
                                  struct ferr *err)
{
    char *text = json_dumps(phase, JSON_COMPACT);
    enum ferr_code rc;

    if (!text || !json_is_object(phase)) {
        free(text);
        return ferr_set(err, FERR_INVALID, NULL,
                        "store: a phase must be an object");
    }
    rc = s->be->deploy_phase(s->db, id, text, err);
    free(text);
    return rc;
}

enum ferr_code store_deploy_get(struct store *s, int64_t id, json_t **out,
                                struct ferr *err)
{
    *out = NULL;
    return s->be->deploy_get(s->db, id, out, err);
}

enum ferr_code store_deploy_list(struct store *s, int64_t repo_id,
                                 const char *environment, const char *status,
                                 size_t limit, json_t **out, struct ferr *err)
{
    *out = NULL;
    if (limit == 0 || limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    return s->be->deploy_list(s->db, repo_id, environment, status, limit, out,
                              err);
}

enum ferr_code store_deploy_commit_at(struct store *s, int64_t id,
                                      int64_t commit_at, struct ferr *err)
{
    return s->be->deploy_commit_at(s->db, id, commit_at, err);
}

enum ferr_code store_report_add(struct store *s, int64_t run_id, int attempt,
                                const char *job_key, int step,
                                json_t *summary, struct ferr *err)
{
    const char *kind = json_string_value(json_object_get(summary, "kind"));
    char *text;
    enum ferr_code rc;

    if (!json_is_object(summary) || !kind || !*kind)
        return ferr_set(err, FERR_INVALID, NULL,
                        "a report needs a string 'kind'");
    text = json_dumps(summary, JSON_COMPACT);
    if (!text)
        return ferr_set(err, FERR_INVALID, NULL, "report is not JSON");
    rc = s->be->report_add(s->db, run_id, attempt, job_key, step, kind, text,
                           err);
    free(text);
    return rc;
}

enum ferr_code store_report_list(struct store *s, int64_t run_id,
                                 json_t **out, struct ferr *err)
{
    *out = NULL;
    return s->be->report_list(s->db, run_id, out, err);
}

enum ferr_code store_report_trend(struct store *s, int64_t repo_id,
                                  const char *ref, const char *kind,
                                  size_t limit, json_t **out,
                                  struct ferr *err)
{
    *out = NULL;
    if (limit == 0 || limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    return s->be->report_trend(s->db, repo_id, ref, kind, limit, out, err);
}

enum ferr_code store_dora_input(struct store *s, int64_t repo_id,
                                const char *environment, int64_t since_ms,
                                int64_t until_ms, json_t **out,
                                struct ferr *err)
{
    *out = NULL;
    return s->be->dora_input(s->db, repo_id, environment, since_ms, until_ms,
                             out, err);
}

enum ferr_code store_approval_add(struct store *s, int64_t deployment_id,
                                  int64_t token_id, const char *user,
                                  const char *decision, const char *comment,
                                  struct ferr *err)
{
    enum ferr_code rc = need(decision, "decision", err);

    if (rc)
        return rc;
    return s->be->approval_add(s->db, deployment_id, token_id,
                               user ? user : "", decision, comment, err);
}

enum ferr_code store_incident_open(struct store *s, int64_t repo_id,
                                   const char *environment,
                                   int64_t deployment_id, const char *reason,
                                   int64_t *out_id, struct ferr *err)
{
    enum ferr_code rc = need(environment, "environment name", err);

    *out_id = 0;
    if (rc)
        return rc;
    return s->be->incident_open(s->db, repo_id, environment, deployment_id,
                                reason, out_id, err);
}

enum ferr_code store_incident_note(struct store *s, int64_t id,
                                   const char *status, const char *what,
                                   struct ferr *err)
{
    enum ferr_code rc = need(what, "incident note", err);

    if (rc)
        return rc;
    return s->be->incident_note(s->db, id, status, what, err);
}

enum ferr_code store_incident_get(struct store *s, int64_t id, json_t **out,
                                  struct ferr *err)
{
    *out = NULL;
    return s->be->incident_get(s->db, id, out, err);
}

enum ferr_code store_incident_list(struct store *s, int64_t repo_id,
                                   size_t limit, json_t **out,
                                   struct ferr *err)
{
    *out = NULL;
    if (limit == 0 || limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    return s->be->incident_list(s->db, repo_id, limit, out, err);
}

enum ferr_code store_outbox_add(struct store *s, const char *level,
                                const char *kind, const char *dedup_key,
                                json_t *payload, struct ferr *err)
{
    char *text;
    enum ferr_code rc = need(level, "alert level", err);

    if (!rc)
        rc = need(kind, "alert kind", err);
    if (rc)
        return rc;
    text = payload ? json_dumps(payload, JSON_COMPACT) : NULL;
    rc = s->be->outbox_add(s->db, level, kind, dedup_key, text ? text : "{}",
                           err);
    free(text);
    return rc;
}

enum ferr_code store_outbox_list(struct store *s, size_t limit, json_t **out,
                                 struct ferr *err)
{
    *out = NULL;
    if (limit == 0 || limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    return s->be->outbox_list(s->db, limit, out, err);
}

enum ferr_code store_outbox_unrouted(struct store *s, size_t limit,
                                     json_t **out, struct ferr *err)
{
    *out = NULL;
    if (limit == 0 || limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    return s->be->outbox_unrouted(s->db, limit, out, err);
}

enum ferr_code store_outbox_channels_of(struct store *s,
                                        const char *dedup_key, json_t **out,
                                        struct ferr *err)
{
    enum ferr_code rc = need(dedup_key, "dedup key", err);

    *out = NULL;
    if (rc)
        return rc;
    return s->be->outbox_channels_of(s->db, dedup_key, out, err);
}

enum ferr_code store_outbox_route(struct store *s, int64_t id,
                                  const char *const *channels, size_t n,
                                  struct ferr *err)
{
    for (size_t i = 0; i < n; i++) {
        enum ferr_code rc = need(channels[i], "channel name", err);

        if (rc)
            return rc;
    }
    return s->be->outbox_route(s->db, id, channels, n, err);
}

enum ferr_code store_outbox_due(struct store *s, int64_t now_ms, size_t limit,
                                json_t **out, struct ferr *err)
{
    *out = NULL;
    if (limit == 0 || limit > LIST_LIMIT_MAX)
        limit = LIST_LIMIT_MAX;
    return s->be->outbox_due(s->db, now_ms, limit, out, err);
}

enum ferr_code store_outbox_next_due(struct store *s, int64_t *out,
                                     struct ferr *err)
{
    *out = -1;
    return s->be->outbox_next_due(s->db, out, err);
}

enum ferr_code store_outbox_sent(struct store *s, int64_t id,
                                 const char *channel, struct ferr *err)
{
    enum ferr_code rc = need(channel, "channel name", err);

    if (rc)
        return rc;
    return s->be->outbox_sent(s->db, id, channel, err);
}

enum ferr_code store_outbox_retry(struct store *s, int64_t id,
                                  const char *channel, bool attempted,
                                  int64_t next_at, const char *error,
                                  struct ferr *err)
{
    enum ferr_code rc = need(channel, "channel name", err);

    if (rc)
        return rc;
    return s->be->outbox_retry(s->db, id, channel, attempted, next_at, error,
                               err);
}
