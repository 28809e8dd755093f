/* cd: the deploy controller of ferry serve.  A job that names an
 * environment waits here: the environment's rules (branches, freezes,
 * approvals, wait timer, approval timeout), then one deployment at a
 * time per environment (a FIFO lock that a rollback jumps).  It keeps
 * the deployment records, turns the phases the deploy step reports into
 * incidents and alerts (the outbox), tags releases, and runs manual
 * rollbacks as `ferry __deploy --rollback`.  It deploys nothing itself:
 * the deploy step does, inside the job.  Loop thread only. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "deploy/envt.h"
#include "exec/proc.h"
#include "git/history.h"
#include "git/tag.h"
#include "server/server.h"
#include "util/crypto.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/log.h"
#include "util/xalloc.h"

extern char **environ;

/* rollbacks queue ahead of deployments: their order numbers are lower */
#define DEPLOY_SEQ_BASE (UINT64_C(1) << 40)

enum wstate {
    W_APPROVAL, /* waiting for reviewers */
    W_LOCK,     /* approved (or none needed): waiting for the lock */
    W_HOLDS     /* deploying */
};

/* One deployment that waits for, or holds, its environment. */
struct wait {
    struct wait *next;
    struct worker *w; /* the job's worker; NULL for a manual rollback */
    int64_t run_id;
    int attempt;
    char *job_key;
    int64_t repo_id;
    char *repo;
    char *env;
    int64_t env_id;
    char *actor; /* who triggered it (self-review) */
    char *sha;
    int64_t deploy_id;
    struct envt_rules rules;
    enum wstate state;
    int64_t *reviewers; /* token ids that approved */
    size_t napproved;
    char *approved_by;  /* names, comma separated */
    int64_t ready_ms;   /* the wait timer ends */
    int64_t deadline_ms; /* approvals are due */
    uint64_t seq;
    char token[65];     /* the deploy step's token while it holds */
    char *final;        /* the step's final status, once reported */
    int64_t incident;   /* open incident, 0 = none */
    bool rollback;      /* a manual rollback (kind "rollback") */
    char *reason;       /* a manual rollback's reason */
    pid_t pid;          /* a manual rollback's process */
    int out_fd;
    int log_fd;
};

struct cd {
    struct server *s;
    struct wait *waits;
    struct loop_timer *timer;
    uint64_t seq;          /* deployments */
    uint64_t rollback_seq; /* rollbacks, below DEPLOY_SEQ_BASE */
};

static void pump(struct server *s);

/* ---------- small helpers ---------- */

/* Cut @s back to whole UTF-8 characters: a snprintf into a fixed buffer
 * may have split one, and JSON (the store's rows, the worker's line)
 * takes only valid text. */
static char *utf8_clip(char *s)
{
    size_t n = strlen(s);
    size_t i = 0;

    while (i < n) {
        size_t k = span_utf8_len((const unsigned char *)s + i, n - i);

        if (k == 0)
            break;
        i += k;
    }
    s[i] = '\0';
    return s;
}

static void note_err(const char *what, const struct ferr *err)
{
    log_err("cd: %s failed err='%s'", what, err->msg);
}

/* An alert into the outbox (the notifier delivers it) and a log line.
 * Its dedup key is repo/env/deployment/kind; @resolves (may be NULL)
 * names the kind of the same deployment whose condition it clears. */
static void alert_resolving(struct server *s, const char *level,
                            const char *kind, const struct wait *wt,
                            const char *text, const char *resolves)
{
    struct ferr err;
    json_t *p = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s}", "kind", kind,
                          "repo", wt->repo, "environment", wt->env,
                          "deployment", (json_int_t)wt->deploy_id, "summary",
                          text, "level", level);
    char *dedup = xasprintf("%s/%s/%" PRId64 "/%s", wt->repo, wt->env,
                            wt->deploy_id, kind);

    ferr_clear(&err);
    if (!p) /* text that JSON refuses: never lose the alert itself */
        p = json_pack("{s:s, s:s, s:s, s:I, s:s}", "kind", kind, "repo",
                      wt->repo, "environment", wt->env, "deployment",
                      (json_int_t)wt->deploy_id, "level", level);
    if (resolves)
        json_object_set_new(p, "resolves",
                            json_sprintf("%s/%s/%" PRId64 "/%s", wt->repo,
                                         wt->env, wt->deploy_id, resolves));
    log_info("alert level=%s kind='%s' repo='%s' env='%s' deployment=%" PRId64
             " summary='%s'",
             level, kind, wt->repo, wt->env, wt->deploy_id, text);
    if (store_outbox_add(s->store, level, kind, dedup, p, &err))
        note_err("queue alert", &err);
    else
        notifier_poke(s);
    free(dedup);
    json_decref(p);
}

static void alert(struct server *s, const char *level, const char *kind,
                  const struct wait *wt, const char *text)
{
    alert_resolving(s, level, kind, wt, text, NULL);
}

/* A decision nobody made by hand (token 0) in the audit log. */
static void audit_system(struct server *s, const struct wait *wt,
                         const char *action, const char *detail)
{
    struct ferr err;
    char target[64];

    ferr_clear(&err);
    snprintf(target, sizeof(target), "deployment/%" PRId64, wt->deploy_id);
    if (store_audit_add(s->store, 0, action, target, detail, &err))
        note_err("audit", &err);
}

static void deploy_set(struct server *s, int64_t id, json_t *set)
{
    struct ferr err;

    ferr_clear(&err);
    if (store_deploy_update(s->store, id, set, &err))
        note_err("update deployment", &err);
    json_decref(set);
}

static void say(struct wait *wt, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void say(struct wait *wt, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    if (!wt->w)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    worker_say(wt->w, utf8_clip(line));
}

static void wait_free(struct wait *wt)
{
    envt_rules_release(&wt->rules);
    free(wt->job_key);
    free(wt->repo);
    free(wt->env);
    free(wt->actor);
    free(wt->sha);
    free(wt->reviewers);
    free(wt->approved_by);
    free(wt->final);
    free(wt->reason);
    if (wt->out_fd >= 0)
        close(wt->out_fd);
    if (wt->log_fd >= 0)
        close(wt->log_fd);
    explicit_bzero(wt->token, sizeof(wt->token));
    free(wt);
}

static void unlink_wait(struct server *s, struct wait *wt)
{
    for (struct wait **p = &s->cd->waits; *p; p = &(*p)->next)
        if (*p == wt) {
            *p = wt->next;
            return;
        }
}

static struct wait *find_deploy(struct server *s, int64_t id)
{
    for (struct wait *wt = s->cd->waits; wt; wt = wt->next)
        if (wt->deploy_id == id)
            return wt;
    return NULL;
}

static const char *short_ref(const char *ref)
{
    if (strncmp(ref, "refs/heads/", 11) == 0)
        return ref + 11;
    if (strncmp(ref, "refs/tags/", 10) == 0)
        return ref + 10;
    return ref;
}

/* ---------- the end of a deployment ---------- */

/* What a deployment's record says when it ends with job conclusion
 * @concl, unless the step reported better. */
static const char *final_status(const struct wait *wt, const char *concl)
{
    if (wt->final) {
        if (strcmp(wt->final, "succeeded") == 0)
            return "success";
        /* a manual rollback's own goal is the rollback */
        if (wt->rollback && strcmp(wt->final, "rolled_back") == 0)
            return "success";
        return wt->final; /* rolled_back, escalated, failed */
    }
    if (strcmp(concl, "success") == 0)
        return "success";
    if (strcmp(concl, "cancelled") == 0)
        return "cancelled";
    return "failure";
}

/* @wt ends: with @status when it never got the lock (rejected, timed
 * out, denied, cancelled), or by its job's conclusion @concl. */
static void finish_quiet(struct server *s, struct wait *wt,
                         const char *status, const char *reason);

static void finish(struct server *s, struct wait *wt, const char *status,
                   const char *reason)
{
    finish_quiet(s, wt, status, reason);
    pump(s);
}

/* DORA's lead time starts at the oldest commit a successful deployment
 * shipped over the environment's previous one: read from the mirror,
 * which has every commit, else from a repository given by local path.
 * Not finding it only leaves this deployment out of the lead time. */
static void record_commit_at(struct server *s, const struct wait *wt)
{
    json_t *list = NULL;
    const char *prev = NULL;
    char *mirror = queue_mirror_path(s, wt->repo_id);
    struct store_repo repo;
    struct ferr err;
    int64_t at = 0;
    size_t i;
    json_t *d;

    ferr_clear(&err);
    memset(&repo, 0, sizeof(repo));
    if (!store_deploy_list(s->store, wt->repo_id, wt->env, "success", 2,
                           &list, &err))
        json_array_foreach (list, i, d)
            if (!prev && json_integer_value(json_object_get(d, "id")) !=
                             wt->deploy_id)
                prev = json_string_value(json_object_get(d, "sha"));
    ferr_clear(&err);
    if (history_oldest_ms(mirror, wt->sha, prev, &at, &err) &&
        !store_repo_get_id(s->store, wt->repo_id, &repo, &err) &&
        repo.url[0] == '/') {
        ferr_clear(&err);
        if (history_oldest_ms(repo.url, wt->sha, prev, &at, &err))
            at = 0;
    }
    if (at > 0 && !store_deploy_commit_at(s->store, wt->deploy_id, at, &err))
        ferr_clear(&err);
    if (err.code)
        log_warn("no lead time deployment=%" PRId64 " err='%s'",
                 wt->deploy_id, err.msg);
    store_repo_release(&repo);
    json_decref(list);
    free(mirror);
}

/* finish without starting what waits: the caller pumps afterwards */
static void finish_quiet(struct server *s, struct wait *wt,
                         const char *status, const char *reason)
{
    int64_t now = server_now_ms(s);
    json_t *set = json_pack("{s:s, s:I}", "status", status, "finished_at",
                            (json_int_t)now);

    if (reason)
        json_object_set_new(set, "reason", json_string(reason));
    deploy_set(s, wt->deploy_id, set);
    if (!wt->rollback && wt->sha && strcmp(status, "success") == 0)
        record_commit_at(s, wt);
    if (wt->state == W_HOLDS) {
        if (strcmp(status, "success") == 0)
            alert(s, "info", "deployment.succeeded", wt,
                  "deployment succeeded");
        else if (strcmp(status, "cancelled") != 0)
            alert(s, "error", "deployment.failed", wt,
                  reason ? reason : "deployment failed");
    }
    log_info("deployment ended id=%" PRId64 " env='%s' status=%s",
             wt->deploy_id, wt->env, status);
    telemetry_deployment(s, wt->repo, wt->env, status);
    unlink_wait(s, wt);
    wait_free(wt);
}

/* Tell the job it may not deploy (and end its wait). */
static void deny(struct server *s, struct wait *wt, const char *status,
                 const char *why)
{
    char text[1024];

    snprintf(text, sizeof(text), "%s", why);
    utf8_clip(text);
    /* what no person decided is audited here; reviews by the API */
    if (strcmp(status, "timed_out") == 0)
        audit_system(s, wt, "deployment.timeout", text);
    else if (strcmp(status, "failure") == 0)
        audit_system(s, wt, "deployment.deny", text);
    if (wt->w) {
        json_t *m = json_pack("{s:s, s:s, s:s}", "job", wt->job_key,
                              "environment", "denied", "reason", text);

        if (!m) /* never leave the job waiting */
            m = json_pack("{s:s, s:s, s:s}", "job", wt->job_key,
                          "environment", "denied", "reason",
                          "the deployment was refused");
        say(wt, "deployment %" PRId64 " to '%s' %s: %s", wt->deploy_id,
            wt->env, status, text);
        worker_send(wt->w, m);
        json_decref(m);
    }
    finish(s, wt, status, text);
}

/* ---------- granting ---------- */

static void spawn_rollback(struct server *s, struct wait *wt);

/* Why the environment refuses deployments now (locked since, or frozen
 * while, this one waited), in @why; false when it does not. */
static bool env_refuses(struct server *s, struct wait *wt, int64_t now,
                        char *why, size_t n)
{
    json_t *row = NULL;
    struct envt_rules rules;
    struct ferr err;
    int64_t until = 0;
    bool no = false;

    ferr_clear(&err);
    if (store_env_get(s->store, wt->repo_id, wt->env, &row, &err)) {
        snprintf(why, n, "the server cannot read environment '%s'", wt->env);
        return true;
    }
    if (json_is_string(json_object_get(row, "locked"))) {
        snprintf(why, n,
                 "environment '%s' is locked: %s (an admin unlocks it: "
                 "ferry env unlock %s --repo %s)",
                 wt->env, json_string_value(json_object_get(row, "locked")),
                 wt->env, wt->repo);
        no = true;
    } else if (envt_rules_parse(json_object_get(row, "rules"), &rules,
                                &err) == FERR_OK) {
        until = envt_frozen_until(&rules, now);
        envt_rules_release(&rules);
        if (until > 0) {
            json_t *t = api_time(until);

            snprintf(why, n, "'%s' is frozen until %s", wt->env,
                     json_string_value(t));
            json_decref(t);
            no = true;
        }
    }
    json_decref(row);
    return no;
}

static void grant(struct server *s, struct wait *wt)
{
    int64_t now = server_now_ms(s);
    char id[24];
    char why[1024];

    /* the rules may have changed while it waited; a rollback is what
     * an environment needs most when it is in trouble */
    if (wt->w && env_refuses(s, wt, now, why, sizeof(why))) {
        deny(s, wt, "failure", why);
        return;
    }
    wt->state = W_HOLDS;
    if (crypto_token_hex(wt->token)) {
        deny(s, wt, "failure", "no randomness for the deploy token");
        return;
    }
    deploy_set(s, wt->deploy_id,
               json_pack("{s:s, s:I}", "status", "in_progress", "started_at",
                         (json_int_t)now));
    alert(s, "info", "deployment.started", wt, "deployment started");
    if (!wt->w) {
        spawn_rollback(s, wt);
        return;
    }
    snprintf(id, sizeof(id), "%" PRId64, wt->deploy_id);
    {
        json_t *m = json_pack(
            "{s:s, s:s, s:{s:s, s:s, s:s, s:s}}", "job", wt->job_key,
            "environment", "granted", "env", "FERRY_SERVER", s->url,
            "FERRY_DEPLOY_TOKEN", wt->token, "FERRY_DEPLOYMENT", id,
            "FERRY_ENVIRONMENT", wt->env);

        say(wt, "deployment %s to '%s' starts", id, wt->env);
        worker_send(wt->w, m);
        json_decref(m);
    }
}

static bool env_busy(struct server *s, const struct wait *me)
{
    for (struct wait *o = s->cd->waits; o; o = o->next)
        if (o != me && o->state == W_HOLDS && o->repo_id == me->repo_id &&
            strcmp(o->env, me->env) == 0)
            return true;
    return false;
}

static struct wait *first_in_line(struct server *s, const struct wait *me,
                                  int64_t now)
{
    struct wait *best = NULL;

    for (struct wait *o = s->cd->waits; o; o = o->next)
        if (o->state == W_LOCK && o->ready_ms <= now &&
            o->repo_id == me->repo_id && strcmp(o->env, me->env) == 0 &&
            (!best || o->seq < best->seq))
            best = o;
    return best;
}

/* Time out approvals, start what may start, and arm the timer for the
 * next deadline. */
static void pump(struct server *s)
{
    struct cd *cd = s->cd;
    int64_t now = server_now_ms(s);
    int64_t next = 0;
    bool again = true;

    while (again) {
        again = false;
        for (struct wait *wt = cd->waits; wt; wt = wt->next) {
            if (wt->state == W_APPROVAL && now >= wt->deadline_ms) {
                char why[128];

                snprintf(why, sizeof(why),
                         "approval timed out after %u s without %u "
                         "approval(s)",
                         wt->rules.approval_timeout_s, wt->rules.reviewers);
                alert(s, "error", "approval.timed_out", wt, why);
                deny(s, wt, "timed_out", why);
                again = true;
                break;
            }
            if (wt->state == W_LOCK && !env_busy(s, wt) &&
                first_in_line(s, wt, now) == wt) {
                grant(s, wt);
                again = true;
                break;
            }
        }
    }
    for (struct wait *wt = cd->waits; wt; wt = wt->next) {
        int64_t at = wt->state == W_APPROVAL                    ? wt->deadline_ms
                     : wt->state == W_LOCK && wt->ready_ms > now ? wt->ready_ms
                                                                 : 0;

        if (at && (!next || at < next))
            next = at;
    }
    if (next)
        loop_timer_arm(cd->timer, (uint64_t)(next > now ? next - now : 1));
}

static void on_timer(struct loop *l, struct loop_timer *t, void *ud)
{
    (void)l;
    (void)t;
    pump(ud);
}

/* ---------- lifecycle ---------- */

enum ferr_code cd_new(struct server *s, struct cd **out, struct ferr *err)
{
    struct cd *cd = xcalloc(1, sizeof(*cd));

    cd->s = s;
    cd->seq = DEPLOY_SEQ_BASE;
    cd->timer = loop_timer_new(s->loop, on_timer, s);
    if (!cd->timer) {
        free(cd);
        *out = NULL;
        return ferr_set(err, FERR_IO, NULL, "cannot make the deploy timer: %s",
                        strerror(errno));
    }
    *out = cd;
    return FERR_OK;
}

void cd_free(struct cd *cd)
{
    struct wait *wt;

    if (!cd)
        return;
    while ((wt = cd->waits)) {
        cd->waits = wt->next;
        if (wt->out_fd >= 0)
            loop_del_fd(cd->s->loop, wt->out_fd);
        wait_free(wt);
    }
    loop_timer_free(cd->timer);
    free(cd);
}

void cd_recover(struct server *s)
{
    static const char *const open_states[] = {"waiting", "queued",
                                              "in_progress", "rolling_back"};
    struct ferr err;

    for (size_t i = 0; i < 4; i++) {
        json_t *list = NULL;
        size_t k;
        json_t *d;

        ferr_clear(&err);
        if (store_deploy_list(s->store, 0, NULL, open_states[i], 200, &list,
                              &err)) {
            note_err("list deployments", &err);
            continue;
        }
        if (json_array_size(list) == 200)
            i--; /* another page after these (they leave the state) */
        json_array_foreach (list, k, d) {
            int64_t id = json_integer_value(json_object_get(d, "id"));

            log_warn("deployment left by the previous server id=%" PRId64
                     " status=%s",
                     id, open_states[i]);
            deploy_set(s, id,
                       json_pack("{s:s, s:s, s:I}", "status", "cancelled",
                                 "reason", "the server restarted",
                                 "finished_at",
                                 (json_int_t)server_now_ms(s)));
        }
        json_decref(list);
    }
}

/* ---------- a job asks for its environment ---------- */

bool cd_env_name_ok(const char *name)
{
    size_t n = strlen(name);

    if (n == 0 || n > LIM_NAME)
        return false;
    for (size_t i = 0; i < n; i++) {
        char ch = name[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
              ch == '.'))
            return false;
    }
    return true;
}

/* Deny job @key of @w before any record exists. */
static void refuse(struct worker *w, const char *key, const char *why)
{
    json_t *m = json_pack("{s:s, s:s, s:s}", "job", key, "environment",
                          "denied", "reason", why);

    if (m)
        worker_send(w, m);
    json_decref(m);
}

/* The environment's row, made (without rules) on first use as GitHub
 * does. */
static enum ferr_code load_env(struct server *s, int64_t repo_id,
                               const char *name, json_t **out,
                               struct ferr *err)
{
    enum ferr_code rc = store_env_get(s->store, repo_id, name, out, err);
    int64_t id;

    if (rc != FERR_NOTFOUND)
        return rc;
    ferr_clear(err);
    rc = store_env_put(s->store, repo_id, name, NULL, &id, err);
    if (!rc)
        rc = store_env_get(s->store, repo_id, name, out, err);
    return rc;
}

void cd_env_wanted(struct server *s, struct worker *w, json_t *ev)
{
    const char *env = json_string_value(json_object_get(ev, "environment"));
    const char *key = json_string_value(json_object_get(ev, "job_key"));
    const char *url = json_string_value(json_object_get(ev, "env_url"));
    struct store_run run;
    struct wait *wt;
    struct ferr err;
    json_t *row = NULL;
    json_t *in;
    int64_t now = server_now_ms(s);
    int64_t until;
    char why[512];

    if (!key)
        return; /* nothing to answer to: the engine always sends one */
    if (!env || !cd_env_name_ok(env)) {
        refuse(w, key, "an environment's name is 1 to 64 letters, digits, "
                       "'-', '_' or '.'");
        return;
    }
    ferr_clear(&err);
    memset(&run, 0, sizeof(run));
    if (store_run_get(s->store, worker_run_id(w), &run, &err)) {
        note_err("load run", &err);
        refuse(w, key, "the server cannot read the run");
        return;
    }
    wt = xcalloc(1, sizeof(*wt));
    wt->w = w;
    wt->out_fd = -1;
    wt->log_fd = -1;
    wt->run_id = run.id;
    wt->attempt = worker_attempt(w);
    wt->job_key = xstrdup(key);
    wt->repo_id = run.repo_id;
    wt->repo = xstrdup(run.repo ? run.repo : "");
    wt->env = xstrdup(env);
    wt->actor = xstrdup(run.actor ? run.actor : "");
    wt->sha = xstrdup(run.sha ? run.sha : "");
    wt->seq = ++s->cd->seq;
    wt->next = s->cd->waits;
    s->cd->waits = wt;
    in = json_pack("{s:I, s:s, s:s, s:I, s:I, s:s, s:s?, s:s?, s:s?, s:s?}",
                   "repo_id", (json_int_t)run.repo_id, "environment", env,
                   "status", "waiting", "run_id", (json_int_t)run.id,
                   "attempt", (json_int_t)wt->attempt, "job", key, "sha",
                   run.sha, "ref", run.ref, "actor", run.actor, "url", url);
    if (store_deploy_create(s->store, in, &wt->deploy_id, &err) ||
        load_env(s, run.repo_id, env, &row, &err)) {
        json_decref(in);
        store_run_release(&run);
        log_err("cd: cannot record deployment err='%s'", err.msg);
        if (wt->deploy_id) {
            deny(s, wt, "failure", "the server cannot record the deployment");
        } else {
            refuse(w, key, "the server cannot record the deployment");
            unlink_wait(s, wt);
            wait_free(wt);
        }
        return;
    }
    json_decref(in);
    wt->env_id = json_integer_value(json_object_get(row, "id"));
    if (envt_rules_parse(json_object_get(row, "rules"), &wt->rules, &err)) {
        snprintf(why, sizeof(why), "environment '%s' has bad rules: %s", env,
                 err.msg);
        deny(s, wt, "failure", why);
    } else if (json_is_string(json_object_get(row, "locked"))) {
        snprintf(why, sizeof(why),
                 "environment '%s' is locked: %s (an admin unlocks it: "
                 "ferry env unlock %s --repo %s)",
                 env, json_string_value(json_object_get(row, "locked")), env,
                 wt->repo);
        deny(s, wt, "failure", why);
    } else if (!envt_branch_allowed(&wt->rules, run.ref ? run.ref : "")) {
        snprintf(why, sizeof(why),
                 "'%s' may not deploy to '%s' (its rules allow other "
                 "branches)",
                 short_ref(run.ref ? run.ref : ""), env);
        deny(s, wt, "failure", why);
    } else if ((until = envt_frozen_until(&wt->rules, now)) > 0) {
        json_t *t = api_time(until);

        snprintf(why, sizeof(why), "'%s' is frozen until %s", env,
                 json_string_value(t));
        json_decref(t);
        deny(s, wt, "failure", why);
    } else {
        wt->ready_ms = now + (int64_t)wt->rules.wait_timer_s * 1000;
        wt->deadline_ms = now + (int64_t)wt->rules.approval_timeout_s * 1000;
        if (wt->rules.reviewers > 0) {
            wt->state = W_APPROVAL;
            say(wt,
                "deployment %" PRId64 " to '%s' waits for %u approval(s): "
                "ferry approve %" PRId64,
                wt->deploy_id, env, wt->rules.reviewers, wt->deploy_id);
            alert(s, "info", "approval.waiting", wt,
                  "a deployment waits for approval");
        } else {
            wt->state = W_LOCK;
            deploy_set(s, wt->deploy_id, json_pack("{s:s}", "status", "queued"));
        }
        log_info("deployment waits id=%" PRId64 " env='%s' run=%" PRId64
                 " job='%s'",
                 wt->deploy_id, env, run.id, key);
        pump(s);
    }
    json_decref(row);
    store_run_release(&run);
}

void cd_job_finished(struct server *s, struct worker *w, const char *job_key,
                     const char *conclusion)
{
    for (struct wait *wt = s->cd->waits; wt; wt = wt->next) {
        if (wt->w != w || strcmp(wt->job_key, job_key) != 0)
            continue;
        if (wt->state == W_HOLDS)
            finish(s, wt, final_status(wt, conclusion), NULL);
        else
            finish(s, wt, "cancelled", "the job ended before it deployed");
        return;
    }
}

void cd_worker_gone(struct server *s, struct worker *w)
{
    bool again = true;
    bool any = false;

    if (!s->cd)
        return;
    /* end all of its deployments before anything else may start: a
     * queued one of the same worker must not be granted to it now */
    while (again) {
        again = false;
        for (struct wait *wt = s->cd->waits; wt; wt = wt->next)
            if (wt->w == w) {
                wt->w = NULL; /* nobody to answer any more */
                finish_quiet(s, wt,
                             wt->state == W_HOLDS ? final_status(wt, "failure")
                                                  : "cancelled",
                             "the run ended");
                again = true;
                any = true;
                break;
            }
    }
    if (any)
        pump(s);
}

/* ---------- reviews ---------- */

/* Is @name one of the comma-separated @names? */
static bool name_in(const char *names, const char *name)
{
    size_t n = strlen(name);

    for (const char *p = names; p && *p;) {
        const char *c = strchr(p, ',');
        size_t len = c ? (size_t)(c - p) : strlen(p);

        if (len == n && memcmp(p, name, n) == 0)
            return true;
        p = c ? c + 1 : NULL;
    }
    return false;
}

enum ferr_code cd_review(struct server *s, int64_t id,
                         const struct store_token *tok, bool approve,
                         const char *comment, struct ferr *err)
{
    struct wait *wt = find_deploy(s, id);
    const char *user = tok->name ? tok->name : "";
    enum ferr_code rc;

    if (!wt || wt->state != W_APPROVAL) {
        json_t *d = NULL;
        const char *st;

        rc = store_deploy_get(s->store, id, &d, err);
        if (rc)
            return rc;
        st = json_string_value(json_object_get(d, "status"));
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "deployment %" PRId64
                      " is not waiting for approval (it is %s)",
                      id, st ? st : "?");
        json_decref(d);
        return rc;
    }
    /* a review counts a person: by name, so the name must exist */
    if (!*user)
        return ferr_set(err, FERR_USAGE, NULL,
                        "reviews need a named token (ferry token create "
                        "--name NAME): an unnamed one cannot be told "
                        "apart from the pusher or from another reviewer");
    rc = envt_may_review(&wt->rules, wt->env, tok->role, user, wt->actor,
                         err);
    if (rc)
        return rc;
    for (size_t i = 0; i < wt->napproved; i++)
        if (wt->reviewers[i] == tok->id || name_in(wt->approved_by, user))
            return ferr_set(err, FERR_INVALID, NULL,
                            "'%s' approved deployment %" PRId64 " already",
                            user, id);
    rc = store_approval_add(s->store, id, tok->id, user,
                            approve ? "approved" : "rejected", comment, err);
    if (rc)
        return rc;
    if (!approve) {
        char why[600];

        snprintf(why, sizeof(why), "rejected by '%s'%s%s", user,
                 comment && *comment ? ": " : "", comment ? comment : "");
        utf8_clip(why);
        alert(s, "warning", "deployment.rejected", wt, why);
        deny(s, wt, "rejected", why);
        return FERR_OK;
    }
    wt->reviewers = xrealloc(wt->reviewers,
                             (wt->napproved + 1) * sizeof(*wt->reviewers));
    wt->reviewers[wt->napproved++] = tok->id;
    {
        char *names = wt->approved_by
                          ? xasprintf("%s,%s", wt->approved_by, user)
                          : xstrdup(user);

        free(wt->approved_by);
        wt->approved_by = names;
    }
    say(wt, "deployment %" PRId64 " to '%s' approved by '%s' (%zu of %u)", id,
        wt->env, user, wt->napproved, wt->rules.reviewers);
    if (wt->napproved >= wt->rules.reviewers) {
        wt->state = W_LOCK;
        deploy_set(s, id,
                   json_pack("{s:s, s:s, s:I}", "status", "queued",
                             "approved_by", wt->approved_by, "approved_at",
                             (json_int_t)server_now_ms(s)));
        pump(s);
    }
    return FERR_OK;
}

/* ---------- what the deploy step reports ---------- */

static enum ferr_code release_tag(struct server *s, struct wait *wt,
                                  const char *want, char **out,
                                  struct ferr *err)
{
    struct store_repo repo;
    char *name = NULL;
    char *msg;
    enum ferr_code rc;

    *out = NULL;
    memset(&repo, 0, sizeof(repo));
    rc = store_repo_get_id(s->store, wt->repo_id, &repo, err);
    if (rc)
        return rc;
    if (strcmp(want, "auto") == 0) {
        rc = tag_next_patch(repo.url, &name, err);
    } else if (!tag_is_release(want)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "release '%.40s' is not vX.Y.Z or auto", want);
    } else {
        name = xstrdup(want);
    }
    if (!rc) {
        msg = xasprintf("%s: deployed to %s (deployment %" PRId64 ")", name,
                        wt->env, wt->deploy_id);
        rc = tag_create(repo.url, name, wt->sha, msg, err);
        free(msg);
    }
    if (!rc) {
        *out = name;
        name = NULL;
    }
    free(name);
    store_repo_release(&repo);
    return rc;
}

enum ferr_code cd_step_event(struct server *s, int64_t id, const char *token,
                             json_t *ev, json_t **out, struct ferr *err)
{
    struct wait *wt = find_deploy(s, id);
    const char *phase = json_string_value(json_object_get(ev, "phase"));
    const char *status = json_string_value(json_object_get(ev, "status"));
    const char *detail = json_string_value(json_object_get(ev, "detail"));
    json_t *rec;
    json_t *set = json_object();
    enum ferr_code rc;
    char what[700];

    *out = NULL;
    if (!wt || wt->state != W_HOLDS || !token || strlen(token) != 64 ||
        !crypto_equal(token, wt->token, 64)) {
        json_decref(set);
        return ferr_set(err, FERR_USAGE, NULL,
                        "not the deploy token of deployment %" PRId64
                        " in progress",
                        id);
    }
    if (!phase || !status || strlen(phase) > 32 || strlen(status) > 32) {
        json_decref(set);
        return ferr_set(err, FERR_INVALID, NULL,
                        "an event needs 'phase' and 'status' (short text)");
    }
    if (!detail)
        detail = "";
    rec = json_pack("{s:s, s:s, s:s, s:o}", "phase", phase, "status", status,
                    "detail", detail, "at", api_time(server_now_ms(s)));
    rc = store_deploy_phase(s->store, id, rec, err);
    json_decref(rec);
    if (rc) {
        json_decref(set);
        return rc;
    }
    if (json_is_string(json_object_get(ev, "version")))
        json_object_set(set, "version", json_object_get(ev, "version"));
    if (json_is_string(json_object_get(ev, "strategy")))
        json_object_set(set, "strategy", json_object_get(ev, "strategy"));
    snprintf(what, sizeof(what), "%s %s%s%s", phase, status,
             *detail ? ": " : "", detail);
    utf8_clip(what);
    if (wt->incident &&
        store_incident_note(s->store, wt->incident,
                            strcmp(phase, "rollback") != 0 ? NULL
                            : strcmp(status, "succeeded") == 0 ? "resolved"
                            : strcmp(status, "failed") == 0    ? "escalated"
                                                               : NULL,
                            what, err))
        note_err("note incident", err);
    ferr_clear(err);
    *out = json_object();
    if (strcmp(phase, "rollback") == 0 && strcmp(status, "started") == 0 &&
        !wt->incident) {
        if (store_incident_open(s->store, wt->repo_id, wt->env, id, what,
                                &wt->incident, err))
            note_err("open incident", err);
        ferr_clear(err);
        alert(s, "critical", "rollback.started", wt, what);
        telemetry_rollback(s, wt->repo, wt->env);
        json_object_set_new(set, "status", json_string("rolling_back"));
    } else if (strcmp(phase, "rollback") == 0 &&
               strcmp(status, "succeeded") == 0) {
        alert_resolving(s, "info", "incident.resolved", wt, what,
                        "rollback.started");
    } else if (strcmp(phase, "rollback") == 0 && strcmp(status, "failed") == 0) {
        char lock[800];

        snprintf(lock, sizeof(lock), "the rollback of deployment %" PRId64
                 " failed: %s", id, detail);
        utf8_clip(lock);
        if (store_env_lock(s->store, wt->env_id, lock, err))
            note_err("lock environment", err);
        ferr_clear(err);
        alert(s, "critical", "rollback.failed", wt, lock);
    } else if (strcmp(phase, "deploy") == 0 &&
               strcmp(status, "succeeded") != 0 &&
               strcmp(status, "rolled_back") != 0 &&
               strcmp(status, "escalated") != 0 &&
               strcmp(status, "failed") != 0) {
        json_decref(set);
        json_decref(*out);
        *out = NULL;
        return ferr_set(err, FERR_INVALID, NULL,
                        "the final phase's status is succeeded, rolled_back, "
                        "escalated or failed, not '%.32s'",
                        status);
    } else if (strcmp(phase, "deploy") == 0) {
        const char *want = json_string_value(json_object_get(ev, "release"));

        free(wt->final);
        wt->final = xstrdup(status);
        if (strcmp(status, "succeeded") == 0 && want && *want) {
            char *tag = NULL;

            if (release_tag(s, wt, want, &tag, err)) {
                log_warn("release not tagged deployment=%" PRId64
                         " err='%s'",
                         id, err->msg);
                json_object_set_new(*out, "release_error",
                                    json_string(err->msg));
                ferr_clear(err);
            } else {
                json_object_set_new(set, "release_tag", json_string(tag));
                json_object_set_new(*out, "release_tag", json_string(tag));
                alert(s, "info", "release.tagged", wt, tag);
                free(tag);
            }
        }
    }
    if (json_object_size(set))
        deploy_set(s, id, set);
    else
        json_decref(set);
    if (!json_object_get(*out, "release_tag"))
        json_object_set_new(*out, "release_tag", json_null());
    return FERR_OK;
}

/* ---------- manual rollbacks ---------- */

static void on_rollback_out(struct loop *l, int fd, unsigned events, void *ud)
{
    struct wait *wt = ud;
    char b[8192];
    ssize_t n;

    (void)events;
    while ((n = read(fd, b, sizeof(b))) > 0)
        if (wt->log_fd >= 0 && write(wt->log_fd, b, (size_t)n) != n)
            log_warn("cannot write the rollback log deployment=%" PRId64,
                     wt->deploy_id);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        loop_del_fd(l, fd);
        close(fd);
        wt->out_fd = -1;
    }
}

static void spawn_rollback(struct server *s, struct wait *wt)
{
    char id[24];
    char *argv[] = {s->ferry_bin, "__deploy", "--rollback", wt->env,
                    "--reason", wt->reason, NULL};
    char *extra[4];
    char **envp;
    size_t n = 0;
    size_t k = 0;
    struct proc_spec ps;
    struct ferr err;
    char *log_path;

    snprintf(id, sizeof(id), "%" PRId64, wt->deploy_id);
    extra[0] = xasprintf("FERRY_SERVER=%s", s->url);
    extra[1] = xasprintf("FERRY_DEPLOY_TOKEN=%s", wt->token);
    extra[2] = xasprintf("FERRY_DEPLOYMENT=%s", id);
    extra[3] = xasprintf("FERRY_ENVIRONMENT=%s", wt->env);
    while (environ[n])
        n++;
    envp = xcalloc(n + 5, sizeof(*envp));
    for (size_t i = 0; i < n; i++) /* FERRY_DEPLOY_HOME stays */
        if (strncmp(environ[i], "FERRY_SERVER=", 13) != 0 &&
            strncmp(environ[i], "FERRY_DEPLOY_TOKEN=", 19) != 0 &&
            strncmp(environ[i], "FERRY_DEPLOYMENT=", 17) != 0 &&
            strncmp(environ[i], "FERRY_ENVIRONMENT=", 18) != 0)
            envp[k++] = environ[i];
    for (size_t i = 0; i < 4; i++)
        envp[k++] = extra[i];
    log_path = xasprintf("%s/logs/deploy-%s.log", s->home, id);
    {
        char *dir = xasprintf("%s/logs", s->home);

        (void)mkdir(dir, 0700);
        free(dir);
    }
    wt->log_fd = open(log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
                      0600);
    if (wt->log_fd < 0)
        log_warn("cannot open the rollback log path='%s' err='%s'", log_path,
                 strerror(errno));
    memset(&ps, 0, sizeof(ps));
    ps.path = s->ferry_bin;
    ps.argv = argv;
    ps.envp = envp;
    ps.cwd = s->home;
    ps.stdin_fd = -1;
    ferr_clear(&err);
    if (proc_spawn(&ps, &wt->pid, &wt->out_fd, &err)) {
        char why[600];

        snprintf(why, sizeof(why), "cannot start the rollback: %s", err.msg);
        utf8_clip(why);
        wt->pid = 0;
        finish(s, wt, "failure", why);
    } else if (loop_add_fd(s->loop, wt->out_fd, LOOP_READ, on_rollback_out,
                           wt)) {
        log_warn("rollback output not followed deployment=%s", id);
    } else {
        log_info("rollback started deployment=%s env='%s' pid=%d log='%s'", id,
                 wt->env, (int)wt->pid, log_path);
    }
    free(log_path);
    for (size_t i = 0; i < 4; i++)
        free(extra[i]);
    free(envp);
}

bool cd_reaped(struct server *s, pid_t pid, int status)
{
    if (!s->cd)
        return false;
    for (struct wait *wt = s->cd->waits; wt; wt = wt->next) {
        if (wt->w || wt->pid != pid)
            continue;
        if (wt->out_fd >= 0) {
            char b[8192];
            ssize_t n;

            /* what it wrote before exiting */
            while ((n = read(wt->out_fd, b, sizeof(b))) > 0)
                if (wt->log_fd >= 0 && write(wt->log_fd, b, (size_t)n) != n)
                    break;
            loop_del_fd(s->loop, wt->out_fd);
            close(wt->out_fd);
            wt->out_fd = -1;
        }
        wt->pid = 0;
        finish(s, wt,
               final_status(wt, WIFEXITED(status) && WEXITSTATUS(status) == 0
                                    ? "success"
                                    : "failure"),
               NULL);
        return true;
    }
    return false;
}

enum ferr_code cd_rollback(struct server *s, const struct store_repo *repo,
                           const char *env, const struct store_token *tok,
                           const char *reason, int64_t *out_id,
                           struct ferr *err)
{
    struct wait *wt;
    json_t *row = NULL;
    json_t *in;
    enum ferr_code rc;

    *out_id = 0;
    rc = store_env_get(s->store, repo->id, env, &row, err);
    if (rc)
        return rc;
    wt = xcalloc(1, sizeof(*wt));
    wt->out_fd = -1;
    wt->log_fd = -1;
    wt->repo_id = repo->id;
    wt->repo = xstrdup(repo->name);
    wt->env = xstrdup(env);
    wt->env_id = json_integer_value(json_object_get(row, "id"));
    wt->actor = xstrdup(tok->name ? tok->name : "");
    wt->sha = xstrdup("");
    wt->job_key = xstrdup("");
    wt->reason = xasprintf("%s (by %s)",
                           reason && *reason ? reason : "manual rollback",
                           tok->name && *tok->name ? tok->name : "a token");
    wt->state = W_LOCK;
    wt->rollback = true;
    wt->seq = ++s->cd->rollback_seq;
    json_decref(row);
    in = json_pack("{s:I, s:s, s:s, s:s, s:s}", "repo_id", (json_int_t)repo->id,
                   "environment", env, "status", "queued", "kind", "rollback",
                   "actor", wt->actor);
    rc = store_deploy_create(s->store, in, &wt->deploy_id, err);
    json_decref(in);
    if (rc) {
        wait_free(wt);
        return rc;
    }
    deploy_set(s, wt->deploy_id, json_pack("{s:s}", "reason", wt->reason));
    wt->next = s->cd->waits;
    s->cd->waits = wt;
    *out_id = wt->deploy_id;
    pump(s);
    return FERR_OK;
}

enum ferr_code cd_unlock(struct server *s, const struct store_repo *repo,
                         const char *env, struct ferr *err)
{
    char *argv[] = {s->ferry_bin, "__deploy", "--unlock", (char *)env, NULL};
    struct proc_spec ps;
    json_t *row = NULL;
    pid_t pid;
    int fd;
    int status = 0;
    enum ferr_code rc = store_env_get(s->store, repo->id, env, &row, err);

    if (rc)
        return rc;
    /* the deploy home's lock first (a short process, waited for here),
     * then the server's: a failure leaves both locked */
    memset(&ps, 0, sizeof(ps));
    ps.path = s->ferry_bin;
    ps.argv = argv;
    ps.cwd = s->home;
    ps.stdin_fd = -1;
    rc = proc_spawn(&ps, &pid, &fd, err);
    if (rc) {
        json_decref(row);
        return rc;
    }
    {
        /* read what it says to the end (closing early would SIGPIPE it) */
        char out[512];
        size_t len = 0;
        ssize_t n;

        (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
        while ((n = read(fd, out + len, sizeof(out) - 1 - len)) != 0) {
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                break;
            len += (size_t)n;
            if (len == sizeof(out) - 1)
                len = 0; /* keep the end */
        }
        out[len] = '\0';
        while (len && out[len - 1] == '\n')
            out[--len] = '\0';
        close(fd);
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
            json_decref(row);
            return ferr_set(err, FERR_IO, NULL,
                            "the deploy home of '%s' could not be unlocked: "
                            "%s",
                            env, len ? out : "ferry __deploy --unlock failed");
        }
    }
    rc = store_env_lock(s->store,
                        json_integer_value(json_object_get(row, "id")), NULL,
                        err);
    json_decref(row);
    if (rc)
        return rc;
    pump(s);
    return FERR_OK;
}

json_t *cd_env_live(struct server *s, int64_t repo_id, const char *env)
{
    json_t *o = json_pack("{s:n, s:[], s:[]}", "holder", "queue", "waiting");
    struct wait *order[256];
    size_t n = 0;

    for (struct wait *wt = s->cd->waits; wt; wt = wt->next) {
        if (wt->repo_id != repo_id || strcmp(wt->env, env) != 0)
            continue;
        if (wt->state == W_HOLDS)
            json_object_set_new(o, "holder", json_integer(wt->deploy_id));
        else if (wt->state == W_APPROVAL)
            json_array_append_new(json_object_get(o, "waiting"),
                                  json_integer(wt->deploy_id));
        else if (n < 256)
            order[n++] = wt;
    }
    /* the queue in the order it is served */
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && order[j]->seq < order[j - 1]->seq; j--) {
            struct wait *t = order[j];

            order[j] = order[j - 1];
            order[j - 1] = t;
        }
    for (size_t i = 0; i < n; i++)
        json_array_append_new(json_object_get(o, "queue"),
                              json_integer(order[i]->deploy_id));
    return o;
}

unsigned cd_pending_approvals(struct server *s)
{
    unsigned n = 0;

    for (struct wait *wt = s->cd ? s->cd->waits : NULL; wt; wt = wt->next)
        n += wt->state == W_APPROVAL;
    return n;
}
