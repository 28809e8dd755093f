/* run: run a repository's workflows for one event on this machine — pick
 * the workflows the event triggers (on: filters against the repository),
 * expand matrices, walk the needs DAG, and execute jobs on the host
 * executor with bounded parallelism, reporting through an event sink.
 * Event driven: one loop, woken by child exits, pipes and timers. */
#ifndef FERRY_ENGINE_RUN_H
#define FERRY_ENGINE_RUN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/event.h"
#include "util/diag.h"
#include "util/ferr.h"

struct run_opts {
    const char *dir;        /* repository directory (default ".") */
    const char *event;      /* "push" when NULL */
    json_t *event_payload;  /* borrowed; NULL = synthesised like GitHub */
    const char **workflows; /* files or dirs (-W); NULL = the defaults */
    size_t nworkflows;
    const char **jobs; /* -j filters; jobs they need run too */
    size_t njobs;
    json_t *secrets;        /* borrowed object name -> string */
    json_t *vars;           /* borrowed object name -> string */
    json_t *inputs;         /* borrowed object name -> string */
    bool dry_run;           /* plan and report, run nothing */
    unsigned slots;         /* parallel jobs; 0 = number of CPUs */
    const char *home;       /* artifacts/caches; NULL = a temp dir */
    struct event_sink sink; /* where events go */
    /* identity given by a server (NULL: made up for a local run) */
    const char *run_id;      /* github.run_id; NULL = time and pid */
    const char *run_number;  /* github.run_number; NULL = "1" */
    const char *run_attempt; /* github.run_attempt; NULL = "1" */
    const char *repository;  /* "owner/name"; NULL = from origin's URL */
    const char *actor;       /* NULL = $USER */
    bool lazy_checkout; /* job workspaces start empty until
                           actions/checkout fills them (as on GitHub) */
    json_t *reuse; /* borrowed {job_id: {"result", "outputs"}}: jobs a
                      re-run keeps from the previous attempt, or NULL */
    bool remove_workspaces; /* delete the run's job directories at the
                               end (a server keeps only logs/artifacts) */
    /* Job slots granted from outside (a server bounding jobs across all
     * its runs): before starting a job the run needs a credit; it asks
     * with an EV_SLOT_WANTED event, and each byte read from @gate_fd is
     * one credit.  Every job started consumes one. */
    bool gated;
    int gate_fd;           /* borrowed, non-blocking read end */
    unsigned gate_credits; /* credits granted before the run starts */
};

/**
 * Run everything @opts selects and wait for it to finish (SIGINT/SIGTERM
 * cancel the run cleanly: every process group is terminated).
 * *out_result is the run's conclusion (RES_SUCCESS when no job failed,
 * RES_SKIPPED when nothing was triggered).
 * Errors: FERR_INVALID/FERR_PARSE for invalid workflows (all findings in
 * @diags), FERR_USAGE (unknown -j job, bad input), FERR_IO/FERR_EXEC for
 * environment failures.  Job failures are not errors.
 */
enum ferr_code run_workflows(const struct run_opts *opts, struct diags *diags,
                             enum result *out_result,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Print the jobs @opts selects, by stage (a job's stage is one more than
 * its deepest need), with their needs, to @out (ferry run -l).
 */
enum ferr_code run_list(const struct run_opts *opts, struct diags *diags,
                        FILE *out, struct ferr *err) FERR_MUST_CHECK;

struct plan_wf;
/**
 * Evaluate workflow @pw's `concurrency:` (github, inputs and @vars
 * contexts).  *@out_group is heap (caller frees) or NULL when the
 * workflow has no group; *@out_cip its cancel-in-progress.  Errors:
 * expression errors (FERR_PARSE/FERR_INVALID) with the position.
 */
enum ferr_code run_wf_concurrency(const struct plan_wf *pw, json_t *vars,
                                  char **out_group, bool *out_cip,
                                  struct ferr *err) FERR_MUST_CHECK;

#endif
