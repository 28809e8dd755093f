/* queue: from events to runs, and from queued runs to workers.  A
 * trigger fetches the repository into its mirror, checks the commit out
 * once (shared by the runs of that commit), plans with the engine's own
 * trigger rules and queues one run per triggered workflow.  The
 * dispatcher starts queued runs oldest first as the run limit and
 * workflow concurrency groups allow — across runs, as GitHub does (job
 * slots are granted to running workers by worker.c).  Cron
 * schedules fire from the default branch's workflows. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "engine/plan.h"
#include "engine/run.h"
#include "exec/workspace.h"
#include "git/mirror.h"
#include "pipeline/cron.h"
#include "server/server.h"
#include "trigger/schedule.h"
#include "util/buf.h"
#include "util/diag.h"
#include "util/log.h"
#include "util/xalloc.h"

char *queue_mirror_path(const struct server *s, int64_t repo_id)
{
    return xasprintf("%s/repos/%" PRId64 ".git", s->home, repo_id);
}

/* The commit's tree, checked out once for every run of that commit:
 * made beside its final name and renamed, so a crash never leaves a
 * half-made source that looks complete. */
static enum ferr_code source_dir(struct server *s, int64_t repo_id,
                                 const char *mirror, const char *sha,
                                 char **out, struct ferr *err)
{
    char *parent = xasprintf("%s/src/%" PRId64, s->home, repo_id);
    char *dir = xasprintf("%s/%s", parent, sha);
    char *tmp = xasprintf("%s/.%s.tmp", parent, sha);
    struct stat st;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    if (stat(dir, &st) == 0)
        goto done;
    rc = workspace_mkdirs(parent, err);
    if (!rc && stat(tmp, &st) == 0)
        rc = workspace_rmtree(tmp, err);
    if (!rc)
        rc = mirror_checkout(mirror, sha, tmp, err);
    if (!rc && rename(tmp, dir) != 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot rename '%s': %s", tmp,
                      strerror(errno));
done:
    if (!rc)
        *out = dir;
    else
        free(dir);
    free(parent);
    free(tmp);
    return rc;
}

/* The file of workflow @name in checkout @src: a repository path, or a
 * bare file name looked up in .github/workflows then .ferry/workflows.
 * Heap, or NULL when there is none. */
static char *workflow_path(const char *src, const char *name)
{
    static const char *const dirs[] = {".github/workflows/",
                                       ".ferry/workflows/"};
    struct stat st;

    if (strchr(name, '/')) {
        char *p = xasprintf("%s/%s", src, name);

        if (stat(p, &st) == 0)
            return p;
        free(p);
        return NULL;
    }
    for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
        char *p = xasprintf("%s/%s%s", src, dirs[i], name);

        if (stat(p, &st) == 0)
            return p;
        free(p);
    }
    return NULL;
}

static void diags_to_err(const struct diags *d, struct ferr *err)
{
    char msg[1200];

    for (size_t i = 0; i < d->n; i++)
        if (d->v[i].level == DIAG_ERROR) {
            struct ferr e;

            ferr_clear(&e);
            ferr_set(&e, FERR_INVALID, &d->v[i].pos, "%s", d->v[i].msg);
            ferr_format(&e, msg, sizeof(msg));
            ferr_clear(err); /* the first finding says more */
            ferr_set(err, FERR_INVALID, NULL, "invalid workflow: %s", msg);
            return;
        }
}

enum ferr_code queue_trigger(struct server *s, const struct trigger *t,
                             json_t *out_ids, struct ferr *err)
{
    char *mirror = queue_mirror_path(s, t->repo->id);
    char *src = NULL;
    char *wfabs = NULL;
    const char *wfs[1];
    char sha[41];
    struct run_opts o;
    struct plan *plan = NULL;
    struct diags diags;
    const char *full;
    char *fullbuf = NULL;
    enum ferr_code rc;
    size_t queued = 0;

    diags_init(&diags);
    rc = mirror_sync(mirror, t->repo->url, err);
    if (rc)
        goto done;
    if (t->sha && *t->sha) {
        snprintf(sha, sizeof(sha), "%s", t->sha);
    } else {
        rc = mirror_resolve(mirror, t->ref, sha, err);
        if (rc)
            goto done;
    }
    rc = source_dir(s, t->repo->id, mirror, sha, &src, err);
    if (rc)
        goto done;
    full = json_string_value(json_object_get(
        json_object_get(t->payload, "repository"), "full_name"));
    if (!full)
        full = fullbuf = xasprintf("local/%s", t->repo->name);
    memset(&o, 0, sizeof(o));
    o.dir = src;
    o.event = t->event;
    o.event_payload = t->payload;
    o.inputs = t->inputs;
    o.repository = full;
    o.actor = t->actor;
    if (t->workflow) {
        wfabs = workflow_path(src, t->workflow);
        if (!wfabs) {
            rc = ferr_set(err, FERR_NOTFOUND, NULL, "no workflow '%s' at %.7s",
                          t->workflow, sha);
            goto done;
        }
        wfs[0] = wfabs;
        o.workflows = wfs;
        o.nworkflows = 1;
    }
    rc = plan_build(&o, &plan, &diags, err);
    if (rc) {
        if (rc == FERR_INVALID || rc == FERR_PARSE)
            diags_to_err(&diags, err);
        goto done;
    }
    for (size_t i = 0; i < plan->n && !rc; i++) {
        struct plan_wf *pw = &plan->wfs[i];
        struct store_run r;
        int64_t id = 0, number = 0;
        char *group = NULL;
        bool cip = false;
        char *payload;

        if (!pw->triggered)
            continue;
        rc = run_wf_concurrency(pw, NULL, &group, &cip, err);
        if (rc)
            break;
        payload = json_dumps(pw->payload, JSON_COMPACT);
        memset(&r, 0, sizeof(r));
        r.repo_id = t->repo->id;
        r.workflow = pw->display_path;
        r.workflow_name =
            (char *)(pw->wf->name ? pw->wf->name : pw->display_path);
        r.event = (char *)t->event;
        r.ref = (char *)t->ref;
        r.sha = sha;
        r.payload = payload;
        r.actor = (char *)(t->actor ? t->actor : "ferry");
        r.concurrency = group;
        r.cancel_in_progress = cip;
        rc = store_run_create(s->store, &r, &id, &number, err);
        free(payload);
        free(group);
        if (rc)
            break;
        queued++;
        if (out_ids)
            json_array_append_new(out_ids, json_integer(id));
        log_info("run queued run=%" PRId64 " repo='%s' workflow='%s' "
                 "event='%s' ref='%s' sha='%.7s'",
                 id, t->repo->name, pw->display_path, t->event, t->ref, sha);
    }
    if (!rc && t->workflow && queued == 0 && plan->n == 1 &&
        plan->wfs[0].skip_reason)
        rc = ferr_set(err, FERR_INVALID, NULL, "'%s' is not triggered: %s",
                      t->workflow, plan->wfs[0].skip_reason);
    if (!rc && strcmp(t->event, "push") == 0 && t->ref &&
        strncmp(t->ref, "refs/heads/", 11) == 0 &&
        strcmp(t->ref + 11, t->repo->default_branch) == 0)
        queue_sync_schedules(s, t->repo);
done:
    if (queued)
        queue_kick(s);
    plan_free(plan);
    diags_release(&diags);
    free(fullbuf);
    free(wfabs);
    free(src);
    free(mirror);
    return rc;
}

/* ---------- the dispatcher ---------- */

static void finish(struct server *s, int64_t id, const char *concl,
                   const char *why)
{
    struct ferr err;

    ferr_clear(&err);
    if (store_run_finish(s->store, id, concl, why, &err))
        log_err("cannot finish run=%" PRId64 " err='%s'", id, err.msg);
    else
        log_info("run finished run=%" PRId64 " conclusion='%s' reason='%s'", id,
                 concl, why);
    /* a run that ends without a worker: its followers hear it here */
    sub_end_run(s, id, concl);
}

static bool newer_in_group(const struct store_run *v, size_t n, size_t i)
{
    for (size_t k = i + 1; k < n; k++)
        if (v[k].concurrency && !v[k].cancel_requested &&
            strcmp(v[k].concurrency, v[i].concurrency) == 0)
            return true;
    return false;
}

static struct worker *busy_group(struct server *s, const char *group)
{
    for (struct worker *w = s->workers; w; w = worker_next(w))
        if (worker_group(w) && strcmp(worker_group(w), group) == 0)
            return w;
    return NULL;
}

void queue_dispatch(struct server *s)
{
    struct store_run *v = NULL;
    size_t n = 0;
    struct ferr err;

    if (s->stopping)
        return;
    ferr_clear(&err);
    if (store_run_queue(s->store, &v, &n, &err)) {
        log_err("cannot read the queue err='%s'", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct store_run *r = &v[i];
        struct worker *busy;

        if (r->cancel_requested) {
            finish(s, r->id, "cancelled", "cancelled before it started");
            continue;
        }
        if (r->concurrency) {
            /* GitHub keeps one pending run per group: the newest */
            if (newer_in_group(v, n, i)) {
                finish(s, r->id, "cancelled",
                       "a newer run joined its concurrency group");
                continue;
            }
            busy = busy_group(s, r->concurrency);
            if (busy) {
                if (r->cancel_in_progress)
                    worker_cancel(busy);
                if (strcmp(r->status, "waiting") != 0 &&
                    store_run_set_waiting(s->store, r->id, true,
                                          "waiting for its concurrency "
                                          "group",
                                          &err))
                    log_err("cannot mark waiting run=%" PRId64 " err='%s'",
                            r->id, err.msg);
                continue;
            }
        }
        if (s->nworkers >= s->max_runs)
            break;
        ferr_clear(&err);
        if (worker_start(s, r, &err))
            finish(s, r->id, "failure", err.msg);
    }
    store_runs_free(v, n);
}

static void on_kick(struct loop *l, struct loop_timer *t, void *ud)
{
    (void)l;
    (void)t;
    queue_dispatch(ud);
}

void queue_kick(struct server *s)
{
    if (!s->kick)
        s->kick = loop_timer_new(s->loop, on_kick, s);
    if (s->kick)
        loop_timer_arm(s->kick, 0);
    else
        queue_dispatch(s);
}

enum ferr_code queue_cancel(struct server *s, int64_t id, const char *why,
                            struct ferr *err)
{
    struct store_run r;
    struct worker *w;
    enum ferr_code rc;

    memset(&r, 0, sizeof(r));
    rc = store_run_get(s->store, id, &r, err);
    if (rc)
        return rc;
    if (strcmp(r.status, "completed") == 0) {
        rc = ferr_set(err, FERR_INVALID, NULL, "run %" PRId64 " is completed",
                      id);
        goto done;
    }
    rc = store_run_request_cancel(s->store, id, err);
    if (rc)
        goto done;
    w = worker_find(s, id);
    if (w)
        worker_cancel(w);
    else
        finish(s, id, "cancelled", why);
    queue_kick(s);
done:
    store_run_release(&r);
    return rc;
}

/* ---------- cron ---------- */

void queue_sync_schedules(struct server *s, const struct store_repo *repo)
{
    char *mirror = queue_mirror_path(s, repo->id);
    struct schedule_entry *v = NULL;
    size_t n = 0;
    const char **wfs = NULL;
    const char **crons = NULL;
    char sha[41];
    char *ref = xasprintf("refs/heads/%s", repo->default_branch);
    struct ferr err;

    ferr_clear(&err);
    if (mirror_resolve(mirror, ref, sha, &err) ||
        schedule_collect(mirror, sha, &v, &n, &err)) {
        log_warn("no schedules repo='%s' err='%s'", repo->name, err.msg);
        goto done;
    }
    wfs = xcalloc(n + 1, sizeof(*wfs));
    crons = xcalloc(n + 1, sizeof(*crons));
    for (size_t i = 0; i < n; i++) {
        wfs[i] = v[i].workflow;
        crons[i] = v[i].cron;
    }
    if (store_schedule_sync(s->store, repo->id, wfs, crons, n, server_now_ms(s),
                            &err))
        log_err("cannot store schedules repo='%s' err='%s'", repo->name,
                err.msg);
done:
    free(wfs);
    free(crons);
    schedule_entries_free(v, n);
    free(ref);
    free(mirror);
}

static void fire(struct server *s, const struct store_schedule *sc,
                 int64_t slot)
{
    struct store_repo repo;
    struct trigger t;
    json_t *payload;
    char *ref;
    struct ferr err;

    memset(&repo, 0, sizeof(repo));
    ferr_clear(&err);
    /* the slot is taken first: a crash after this never fires it twice
     * (a missed run beats a storm of duplicates) */
    if (store_schedule_fired(s->store, sc->id, slot, &err) ||
        store_repo_get_id(s->store, sc->repo_id, &repo, &err)) {
        log_err("schedule id=%" PRId64 " err='%s'", sc->id, err.msg);
        store_repo_release(&repo);
        return;
    }
    ref = xasprintf("refs/heads/%s", repo.default_branch);
    payload = json_pack("{s:s, s:s}", "schedule", sc->cron, "ref", ref);
    memset(&t, 0, sizeof(t));
    t.repo = &repo;
    t.event = "schedule";
    t.ref = ref;
    t.payload = payload;
    t.workflow = sc->workflow;
    t.actor = "ferry";
    if (queue_trigger(s, &t, NULL, &err))
        log_err("scheduled run not queued repo='%s' workflow='%s' err='%s'",
                repo.name, sc->workflow, err.msg);
    json_decref(payload);
    free(ref);
    store_repo_release(&repo);
}

static void on_cron(struct loop *l, struct loop_timer *t, void *ud)
{
    struct server *s = ud;
    struct store_schedule *v = NULL;
    size_t n = 0;
    struct ferr err;
    int64_t now = server_now_ms(s);

    (void)l;
    (void)t;
    ferr_clear(&err);
    if (store_schedule_list(s->store, &v, &n, &err) == FERR_OK) {
        for (size_t i = 0; i < n; i++) {
            struct cron c;
            int64_t slot;

            if (cron_parse(span_cstr(v[i].cron), NULL, &c, &err)) {
                ferr_clear(&err);
                continue;
            }
            if (schedule_due(&c, v[i].last_fired_at, now, &slot))
                fire(s, &v[i], slot);
        }
    } else {
        log_err("cannot read schedules err='%s'", err.msg);
    }
    store_schedules_free(v, n);
    queue_arm_cron(s);
}

void queue_arm_cron(struct server *s)
{
    int64_t now = server_now_ms(s);
    int64_t next = (now / 60000 + 1) * 60000;

    if (!s->cron_timer)
        s->cron_timer = loop_timer_new(s->loop, on_cron, s);
    if (s->cron_timer)
        loop_timer_arm(s->cron_timer, (uint64_t)(next - now) + 5);
}
