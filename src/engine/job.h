/* job: one job instance (a matrix cell) on the host executor — its
 * workspace, its steps in order (run: scripts in their shells, built-in
 * and local actions, composite actions as nested frames), runner files,
 * workflow commands, masking, timeouts and cancel.  Asynchronous: the
 * loop drives it; `done` is called once, from the loop. */
#ifndef FERRY_ENGINE_JOB_H
#define FERRY_ENGINE_JOB_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "engine/event.h"
#include "engine/plan.h"
#include "exec/artifact.h"
#include "exec/mask.h"
#include "util/loop.h"

struct job;

/** What every job of a run shares (all borrowed; outlives the jobs). */
struct job_host {
    struct loop *loop;
    const struct event_sink *sink;
    struct artifact_store *store;
    struct mask *mask; /* secrets and ::add-mask:: values */
    const char *run_id;
    const char *run_dir; /* each job makes its directory below */
    const char *repo_root;
    bool dry_run;
    bool lazy_checkout; /* workspaces start empty (actions/checkout) */
    json_t *secrets;
    json_t *vars;
    /* call @cb(ud, wait status) when child @pid exits */
    void (*watch_child)(void *hud, pid_t pid, void (*cb)(void *ud, int status),
                        void *ud);
    void *hud;
};

struct job_spec {
    const struct plan_wf *pw; /* borrowed */
    const struct wf_job *wj;  /* borrowed */
    char *key;                /* unique, path-safe ("test-2") */
    char *name;               /* display name ("test (app)") */
    json_t *matrix;           /* matrix context or NULL */
    json_t *strategy;         /* strategy context */
    json_t *needs;            /* needs context */
    json_t *env;              /* variables the server adds (environment
                                 grants: FERRY_DEPLOYMENT, …) or NULL;
                                 values of *_TOKEN are masked */
};

/**
 * A new job.  Ownership: the strings and JSON of @spec are adopted (even
 * on failure); @host is borrowed.  @done is called exactly once, from the
 * loop, when the job has finished and left no process behind.  NULL (with
 * errno) when the loop cannot make the job's timer (fd limit).
 */
struct job *job_new(const struct job_host *host, struct job_spec *spec,
                    void (*done)(void *ud, struct job *j), void *ud);

/** Start running (asynchronously). */
void job_start(struct job *j);

/**
 * Cancel: the running step's process group gets SIGTERM, then SIGKILL
 * after a grace period; the remaining steps see cancelled() (only
 * `if: always()`/`cancelled()` steps run).  @reason is shown.
 */
void job_cancel(struct job *j, const char *reason);

/**
 * Abort hard (a second Ctrl-C): cancel, SIGKILL every process group of
 * the job at once, and run no further step, not even `if: always()`.
 */
void job_abort(struct job *j);

/** The job's conclusion (valid once done) and its outcome before
 *  continue-on-error. */
enum result job_result(const struct job *j);
enum result job_outcome(const struct job *j);
/** The job's evaluated outputs (valid once done; borrowed). */
const json_t *job_outputs(const struct job *j);
/** The spec the job was made from (borrowed). */
const struct job_spec *job_spec_of(const struct job *j);

/** Free a job that is done (or never started); NULL is a no-op. */
void job_free(struct job *j);

#endif
