/* deploy: one deployment of one version to one environment — the
 * `uses: ferry/deploy@v1` step, run in its own process (`ferry
 * __deploy`).  It reads the step's inputs, takes a backup, installs the
 * release, runs the strategy (recreate, rolling, blue-green, canary)
 * against the target and the traffic driver with health checks and
 * analysis, and when anything fails rolls back by itself: drain and stop
 * the new version, restore the backup, give the previous version all
 * traffic, verify it.  The environment's state (current and previous
 * version, how to run them) is ENVDIR/state.json on this host.  What it
 * does not do: approvals and the environment lock across runs (the
 * server does both before the job starts) or notifications (it reports
 * phases; the server raises alerts and incidents from them). */
#ifndef FERRY_DEPLOY_DEPLOY_H
#define FERRY_DEPLOY_DEPLOY_H

#include <jansson.h>
#include <stdbool.h>

#include "util/ferr.h"

struct deploy_spec; /* parsed inputs; opaque */

/**
 * Parse the step's inputs @inputs ({"strategy": "canary", …}: the names
 * of docs/deploy.md, values strings) into *@out (the caller's,
 * deploy_spec_free).  Unknown inputs, missing required ones, bad values
 * and combinations that cannot work (blue-green without 'proxy', script
 * target without 'deploy') are FERR_INVALID naming the input: "input
 * 'strategy': unknown strategy 'bluegreen' (recreate, rolling,
 * blue-green, canary)".
 */
enum ferr_code deploy_spec_parse(json_t *inputs, struct deploy_spec **out,
                                 struct ferr *err) FERR_MUST_CHECK;

void deploy_spec_free(struct deploy_spec *s);

/** The environment the spec deploys to (borrowed). */
const char *deploy_spec_environment(const struct deploy_spec *s);

/** The version label the spec deploys (borrowed). */
const char *deploy_spec_version(const struct deploy_spec *s);

/** Input 'release' ("v1.2.3", "auto") or NULL (borrowed). */
const char *deploy_spec_release(const struct deploy_spec *s);

/** Input 'url' or NULL (borrowed). */
const char *deploy_spec_url(const struct deploy_spec *s);

/**
 * Set the directory that 'path' is relative to and the hooks run in
 * (GITHUB_WORKSPACE; the default is the current directory).  Copied.
 */
void deploy_spec_set_workspace(struct deploy_spec *s, const char *dir);

/**
 * Where each phase stands, for the log and the server's deployment
 * record.  @phase is one of "backup", "release", "start", "health",
 * "traffic", "analysis", "post-deploy", "promote" (stop the previous
 * version), "rollback", "restore", "verify"; @status "started",
 * "succeeded" or "failed"; @detail a line (may be "").  A "rollback"
 * "started" opens an incident on the server; "rollback" "succeeded"
 * resolves it; "rollback" "failed" escalates (the environment stays
 * locked).  All may be NULL.
 */
struct deploy_report {
    void (*phase)(void *ud, const char *phase, const char *status,
                  const char *detail);
    void *ud;
};

/** How a deployment ended. */
enum deploy_result {
    DEPLOY_SUCCEEDED,   /* the new version holds the traffic */
    DEPLOY_ROLLED_BACK, /* it failed; the previous version is back */
    DEPLOY_ESCALATED    /* it failed and so did the rollback: locked */
};

/**
 * Run @s with the environment's directory under @deploy_home
 * (@deploy_home/ENV, made if needed; an flock on ENVDIR/lock is held
 * throughout).  @self_exe re-executes ferry for the supervisors.  Output
 * (phases, probes, analysis verdicts, hook output) goes to stdout.
 * *@out tells how it ended; a rolled-back or escalated deployment is
 * FERR_OK with err unset, so the caller decides the step's exit status.
 * Errors (nothing deployed, or the environment is locked by an
 * escalation: "environment 'production' is locked since a rollback
 * failed at …: run ferry env unlock"): FERR_INVALID, FERR_IO.
 */
enum ferr_code deploy_run(const struct deploy_spec *s, const char *deploy_home,
                          const char *self_exe, const struct deploy_report *r,
                          enum deploy_result *out,
                          struct ferr *err) FERR_MUST_CHECK;

/**
 * Roll environment @env back to its previous version by hand (`ferry
 * rollback ENV`): the same sequence as an automatic rollback, with
 * @reason on the record.  The version being replaced becomes "previous".
 * Errors: FERR_NOTFOUND "environment 'x' has no previous version".
 */
enum ferr_code deploy_rollback(const char *deploy_home, const char *env,
                               const char *self_exe, const char *reason,
                               const struct deploy_report *r,
                               enum deploy_result *out,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * Clear an escalation's lock on @env (after a person fixed it).
 * Errors: FERR_IO.
 */
enum ferr_code deploy_unlock(const char *deploy_home, const char *env,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Stop every instance recorded in @env's directory (`ferry __deploy
 * --stop ENV`: tearing an environment down, and tests' cleanup) and
 * forget its versions (state.json's current and previous become null).
 * Errors: FERR_IO from the target; what could be stopped is stopped.
 */
enum ferr_code deploy_stop_all(const char *deploy_home, const char *env,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * The environment's state for `ferry env show` and the server: a new
 * reference {"current": {...}|null, "previous": {...}|null, "locked":
 * "why"|null, "instances": [...]}, or NULL with err.
 */
json_t *deploy_state(const char *deploy_home, const char *env,
                     struct ferr *err);

#endif
