/* rollback: the sequence that puts the previous version back — traffic
 * first (its instances are started again when they were stopped), then
 * the failed version drained and stopped, the backup restored, the
 * previous version verified.  Every failure on the way escalates instead
 * of retrying.  It does not decide when to roll back or keep state. */
#include <stdio.h>
#include <string.h>

#include "deploy/rollback.h"
#include "deploy/target.h"

static void set_why(char *why, size_t n, const char *msg)
{
    if (why && n)
        snprintf(why, n, "%s", msg);
}

enum ferr_code rollback_restore(struct strategy *st,
                                const struct rollback_hooks *h,
                                struct ferr *err)
{
    json_t *env;
    enum ferr_code rc;

    if (!h || !h->restore || !h->backup_dir)
        return FERR_OK;
    env = h->hook_env ? json_deep_copy(h->hook_env) : json_object();
    json_object_set_new(env, "FERRY_BACKUP_DIR", json_string(h->backup_dir));
    strategy_phase(st, "restore", "started", "from %s", h->backup_dir);
    rc = target_run_script(h->restore, h->workspace, env, h->timeout_ms, err);
    json_decref(env);
    if (rc) {
        strategy_phase(st, "restore", "failed", "%s", err ? err->msg : "");
        return rc;
    }
    strategy_phase(st, "restore", "succeeded", "%s", "");
    return FERR_OK;
}

static enum ferr_code stop_new(struct strategy *st, struct ferr *err)
{
    enum ferr_code rc;

    if (st->new.n == 0)
        return FERR_OK;
    printf("stopping %zu instance%s of the failed version\n", st->new.n,
           st->new.n == 1 ? "" : "s");
    fflush(stdout);
    rc = strategy_retire(st, &st->new, st->new.n, err);
    if (rc)
        printf("  warning: %s\n", err ? err->msg : "");
    return rc;
}

enum ferr_code rollback_run(struct strategy *st, const char *reason,
                            const struct rollback_hooks *h,
                            enum rollback_outcome *out, char *why,
                            size_t why_len, struct ferr *err)
{
    json_t *want_j = json_object_get(st->old.rec, "instances");
    size_t want = json_is_integer(want_j) ? (size_t)json_integer_value(want_j)
                                          : 1;
    const char *prev = json_string_value(json_object_get(st->old.rec,
                                                         "version"));
    struct ferr e;

    (void)err;
    ferr_clear(&e);
    set_why(why, why_len, "");
    strategy_mark_failed(st);
    if (!st->old.rec) {
        /* a first deployment: nothing to go back to */
        printf("no previous version: stopping the new one\n");
        fflush(stdout);
        (void)stop_new(st, &e);
        ferr_clear(&e);
        if (rollback_restore(st, h, &e))
            printf("  warning: the restore failed\n");
        *out = ROLLBACK_NO_PREVIOUS;
        return FERR_OK;
    }
    strategy_phase(st, "rollback", "started", "to %s: %s", prev ? prev : "?",
                   reason ? reason : "");
    if (st->old.n < want) {
        if (strategy_launch(st, &st->old, (unsigned)(want - st->old.n), &e))
            goto escalate;
    }
    strategy_weigh(st, 100, 0);
    if (strategy_route(st, &e))
        goto escalate;
    printf("the previous version %s holds 100 %% of traffic %.3f s after "
           "the failure\n", prev ? prev : "?", strategy_since_failed(st));
    fflush(stdout);
    (void)stop_new(st, &e);
    ferr_clear(&e);
    if (rollback_restore(st, h, &e))
        goto escalate;
    strategy_phase(st, "verify", "started", "%zu instance%s of %s",
                   st->old.n, st->old.n == 1 ? "" : "s", prev ? prev : "?");
    if (strategy_verify(st, &st->old, &e)) {
        strategy_phase(st, "verify", "failed", "%s", e.msg);
        goto escalate;
    }
    strategy_phase(st, "verify", "succeeded", "%s", "");
    strategy_phase(st, "rollback", "succeeded", "%s is back",
                   prev ? prev : "?");
    *out = ROLLBACK_DONE;
    return FERR_OK;
escalate:
    /* no loop and no further guess: what still runs keeps running (when
     * the previous version cannot start, the failed one may be all that
     * serves) until a person looks */
    set_why(why, why_len, e.msg);
    strategy_phase(st, "rollback", "failed", "%s", e.msg);
    *out = ROLLBACK_ESCALATED;
    return FERR_OK;
}
