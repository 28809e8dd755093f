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

#endif
