/* rollback: give an environment back to its previous version — the
 * previous version's instances started again where needed and given all
 * traffic, the failed version drained and stopped, the backup restored,
 * the previous version verified — reporting each step as a phase.  It
 * never loops: a rollback that fails escalates.  What it does not do:
 * write state.json or the escalation lock (deploy does, from the
 * outcome). */
#ifndef FERRY_DEPLOY_ROLLBACK_H
#define FERRY_DEPLOY_ROLLBACK_H

#include <jansson.h>
#include <stddef.h>

#include "deploy/strategy.h"
#include "util/ferr.h"

/** The restore hook (all borrowed). */
struct rollback_hooks {
    const char *restore;    /* command; NULL: none */
    const char *backup_dir; /* FERRY_BACKUP_DIR; NULL: no backup taken */
    const char *workspace;  /* the hook's directory */
    json_t *hook_env;       /* extra environment; NULL */
    unsigned timeout_ms;    /* 0: no limit */
};

/** How a rollback ended. */
enum rollback_outcome {
    ROLLBACK_DONE,        /* the previous version holds the traffic */
    ROLLBACK_NO_PREVIOUS, /* none to go back to: the new one is stopped */
    ROLLBACK_ESCALATED    /* the previous version could not be verified */
};

/**
 * Roll st->new back to st->old (st->old.rec NULL: no previous version)
 * for @reason (a line): report "rollback" "started"; start st->old's
 * missing instances (rec "instances" in all) and health-check them; give
 * them all traffic (printing how long after the failure mark that was);
 * drain and stop st->new; run @h->restore when a backup was taken;
 * verify st->old's health; report "rollback" "succeeded" or "failed".
 * *@out tells which; @why (@why_len bytes) gets the escalation's reason.
 * Errors: none beyond *@out (every failure escalates); FERR_OK always,
 * kept fallible for the caller's uniformity.
 */
enum ferr_code rollback_run(struct strategy *st, const char *reason,
                            const struct rollback_hooks *h,
                            enum rollback_outcome *out, char *why,
                            size_t why_len, struct ferr *err) FERR_MUST_CHECK;

/**
 * Run @h->restore (when both it and @h->backup_dir are set) as phase
 * "restore" of @st.  Errors: target_run_script's.
 */
enum ferr_code rollback_restore(struct strategy *st,
                                const struct rollback_hooks *h,
                                struct ferr *err) FERR_MUST_CHECK;

#endif
