/* runalert: the alerts a finished run raises — a failed run on a
 * protected branch (error), a failed scheduled run (error), and the
 * resolve of either when the next run of the same workflow and ref
 * succeeds (info).  Deployments raise their own alerts (cd.c).  It only
 * queues them in the outbox; the notifier delivers them. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/glob.h"
#include "server/server.h"
#include "util/log.h"
#include "util/xalloc.h"

/* The branch a ref names, or NULL for tags and pull requests. */
static const char *branch_of(const char *ref)
{
    if (ref && strncmp(ref, "refs/heads/", 11) == 0)
        return ref + 11;
    return NULL;
}

/* Protected: the repository's default branch, or a branch one of its
 * environments accepts deployments from (those are the ones that ship). */
static bool is_protected(struct server *s, const struct store_run *r,
                         const char *branch)
{
    struct store_repo repo;
    struct ferr err;
    json_t *envs = NULL;
    json_t *e;
    size_t i;
    bool yes = false;

    memset(&repo, 0, sizeof(repo));
    ferr_clear(&err);
    if (store_repo_get_id(s->store, r->repo_id, &repo, &err) == FERR_OK &&
        repo.default_branch && strcmp(repo.default_branch, branch) == 0)
        yes = true;
    store_repo_release(&repo);
    if (yes || store_env_list(s->store, r->repo_id, &envs, &err))
        goto done;
    json_array_foreach (envs, i, e) {
        json_t *globs = json_object_get(json_object_get(e, "rules"),
                                        "branches");
        json_t *g;
        size_t k;

        json_array_foreach (globs, k, g) {
            const char *pat = json_string_value(g);

            if (pat && glob_match(span_cstr(pat), span_cstr(branch))) {
                yes = true;
                goto done;
            }
        }
    }
done:
    json_decref(envs);
    return yes;
}

/* The id of the first run of the failure streak that ends just before
 * @r (the same workflow, ref, and schedule or not), or 0 when the run
 * before @r did not fail.  Cancelled and skipped runs (a newer push
 * superseding one) neither end nor start a streak: they are passed
 * over.  Looks back at most 200 runs. */
static int64_t streak_start(struct server *s, const struct store_run *r)
{
    struct store_run_filter f;
    struct store_run *v = NULL;
    size_t n = 0;
    bool more = false;
    struct ferr err;
    int64_t start = 0;

    memset(&f, 0, sizeof(f));
    f.repo = r->repo;
    f.ref = r->ref;
    f.workflow = r->workflow;
    f.status = "completed";
    f.before_id = r->id;
    f.limit = 200;
    ferr_clear(&err);
    if (store_run_list(s->store, &f, &v, &n, &more, &err) == FERR_OK) {
        for (size_t i = 0; i < n; i++) {
            bool sched = v[i].event && strcmp(v[i].event, "schedule") == 0;

            if (sched != (strcmp(r->event, "schedule") == 0))
                continue;
            if (v[i].conclusion &&
                (strcmp(v[i].conclusion, "cancelled") == 0 ||
                 strcmp(v[i].conclusion, "skipped") == 0))
                continue;
            if (!v[i].conclusion || strcmp(v[i].conclusion, "failure") != 0)
                break;
            start = v[i].id;
        }
    }
    store_runs_free(v, n);
    return start;
}

static void queue(struct server *s, const char *level, const char *kind,
                  const char *dedup, const char *resolves,
                  const struct store_run *r, const char *summary)
{
    struct ferr err;
    json_t *p = json_pack("{s:s, s:s, s:s, s:s, s:s?, s:s?, s:I, s:I, s:s}",
                          "kind", kind, "level", level, "repo", r->repo,
                          "workflow", r->workflow, "ref", r->ref, "sha",
                          r->sha, "run", (json_int_t)r->id, "number",
                          (json_int_t)r->number, "summary", summary);

    if (!p) /* a summary JSON refuses: keep the alert without it */
        p = json_pack("{s:s, s:s, s:s, s:I}", "kind", kind, "level", level,
                      "repo", r->repo, "run", (json_int_t)r->id);
    if (resolves)
        json_object_set_new(p, "resolves", json_string(resolves));
    log_info("alert level=%s kind='%s' repo='%s' run=%" PRId64
             " summary='%s'",
             level, kind, r->repo, r->id, summary);
    ferr_clear(&err);
    if (store_outbox_add(s->store, level, kind, dedup, p, &err))
        log_err("cannot queue alert kind='%s' err='%s'", kind, err.msg);
    else
        notifier_poke(s);
    json_decref(p);
}

void runalert_run_done(struct server *s, const struct store_run *r)
{
    bool scheduled = r->event && strcmp(r->event, "schedule") == 0;
    const char *branch = branch_of(r->ref);
    const char *name = r->workflow_name && *r->workflow_name
                           ? r->workflow_name
                           : r->workflow;
    int64_t start;
    char *base;
    char *key;
    char *summary;

    if (!r->conclusion || !r->repo || !r->workflow || !r->event)
        return;
    if (!scheduled && !(branch && is_protected(s, r, branch)))
        return;
    if (strcmp(r->conclusion, "failure") != 0 &&
        strcmp(r->conclusion, "success") != 0)
        return;
    /* one alert per failure streak of a workflow on a ref (or on its
     * schedule), keyed by the streak's first run; the success that ends
     * the streak resolves it */
    start = streak_start(s, r);
    base = scheduled ? xasprintf("%s/schedule/%s", r->repo, r->workflow)
                     : xasprintf("%s/run/%s/%s", r->repo, r->workflow,
                                 r->ref);
    if (strcmp(r->conclusion, "failure") == 0 && start == 0) {
        key = xasprintf("%s/%" PRId64, base, r->id);
        if (scheduled)
            summary = xasprintf("%s: scheduled %s #%" PRId64 " failed",
                                r->repo, name, r->number);
        else
            summary = xasprintf("%s: %s #%" PRId64 " failed on %s", r->repo,
                                name, r->number, branch);
        queue(s, "error", scheduled ? "schedule.failed" : "run.failed", key,
              NULL, r, summary);
        free(summary);
        free(key);
    } else if (strcmp(r->conclusion, "success") == 0 && start != 0) {
        char *failed = xasprintf("%s/%" PRId64, base, start);

        key = xasprintf("%s/recovered", failed);
        summary = xasprintf("%s: %s #%" PRId64 " succeeded again", r->repo,
                            name, r->number);
        queue(s, "info", scheduled ? "schedule.recovered" : "run.recovered",
              key, failed, r, summary);
        free(summary);
        free(key);
        free(failed);
    }
    free(base);
}
