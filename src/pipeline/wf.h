/* wf: the workflow model (GitHub Actions syntax) loaded from a node tree.
 * Structure and types only; semantic checks (expressions, needs cycles,
 * cron, injection) live in lint.  Pure: no I/O. */
#ifndef FERRY_PIPELINE_WF_H
#define FERRY_PIPELINE_WF_H

#include <stdbool.h>
#include <stddef.h>

#include "pipeline/node.h"
#include "util/arena.h"
#include "util/diag.h"
#include "util/ferr.h"
#include "util/span.h"

/** A list of strings from a scalar or a sequence of scalars. */
struct wf_strs {
    const char **v;           /* arena */
    const struct node **nodes; /* the scalar each came from */
    size_t n;
    bool set;                 /* the key was present (even if empty) */
};

struct wf_trigger {
    const char *event;          /* "push", "pull_request", "schedule", ... */
    const struct node *node;    /* the event's value; NULL when bare/null */
    struct wf_strs branches, branches_ignore, tags, tags_ignore;
    struct wf_strs paths, paths_ignore, types;
    struct wf_strs crons;       /* schedule: each `- cron:` string */
    const struct node *inputs;  /* workflow_dispatch/workflow_call inputs */
};

struct wf_step {
    const struct node *node;    /* the step mapping */
    struct pos pos;
    size_t index;               /* 0-based within the job */
    const char *id;             /* NULL when not set */
    const char *name;           /* NULL when not set; may hold ${{ }} */
    const char *if_expr;        /* NULL = success() */
    const struct node *if_node;
    const char *run;            /* NULL for uses: steps */
    const struct node *run_node;
    const char *uses;           /* NULL for run: steps */
    const struct node *uses_node;
    const char *shell;          /* NULL = job/workflow default */
    const char *working_directory; /* NULL = default */
    const struct node *env;     /* mapping, ${{ }} string, or NULL */
    const struct node *with;    /* mapping or NULL */
    const struct node *continue_on_error; /* bool scalar or ${{ }}; NULL */
    const struct node *timeout_minutes;   /* number or ${{ }}; NULL */
};

struct wf_job {
    const char *id;
    const struct node *node;    /* the job mapping */
    const struct node *id_node; /* the key */
    struct pos pos;
    const char *name;           /* NULL when not set; may hold ${{ }} */
    struct wf_strs needs;
    const char *if_expr;        /* NULL = success() */
    const struct node *if_node;
    const struct node *runs_on;
    const struct node *env;     /* mapping, ${{ }} string, or NULL */
    const char *defaults_shell; /* defaults.run.shell or NULL */
    const char *defaults_wd;    /* defaults.run.working-directory or NULL */
    const struct node *outputs; /* mapping or NULL */
    const struct node *strategy;     /* mapping or NULL */
    const struct node *matrix;       /* strategy.matrix (mapping or ${{ }}) */
    const struct node *fail_fast;    /* strategy.fail-fast or NULL */
    const struct node *max_parallel; /* strategy.max-parallel or NULL */
    const struct node *continue_on_error;
    const struct node *timeout_minutes;
    const struct node *concurrency;  /* string or {group, cancel-in-progress} */
    const struct node *environment;  /* string or {name, url} */
    const struct node *container;
    const struct node *services;     /* mapping, ${{ }} string, or NULL */
    const char *uses;           /* reusable workflow call; NULL normally */
    const struct node *with;    /* reusable workflow inputs (mapping) */
    const struct node *secrets; /* reusable workflow: mapping or "inherit" */
    struct wf_step *steps;      /* arena array */
    size_t nsteps;
};

struct wf {
    const char *path;           /* as given to wf_load */
    const struct node *root;
    const char *name;           /* NULL: the file's path is shown */
    const char *run_name;       /* NULL when not set */
    struct wf_trigger *triggers;
    size_t ntriggers;
    const struct node *env;     /* mapping, ${{ }} string, or NULL */
    const char *defaults_shell;
    const char *defaults_wd;
    const struct node *concurrency;
    struct wf_job *jobs;        /* file order */
    size_t njobs;
};

/**
 * Parse @src (the bytes of @path) into a workflow allocated in @a.
 * Structural problems go to @diags: wrong types and missing required
 * keys (`on`, `jobs`, a step without exactly one of run/uses) are errors;
 * unknown keys and events are warnings (with a "did you mean" hint).
 * Returns FERR_OK when the model is usable (no errors), else
 * FERR_INVALID/FERR_PARSE/FERR_LIMIT with @err set to the first error and
 * *out NULL.  FERR_LIMIT: @src over LIM_WORKFLOW_BYTES, too many jobs or
 * steps, or aliases that repeat too much of the file.  @path is borrowed
 * for positions; nodes in the model point into @a.
 */
enum ferr_code wf_load(struct arena *a, const char *path, struct span src,
                       struct wf **out, struct diags *diags,
                       struct ferr *err) FERR_MUST_CHECK;

/** The job with id @id, or NULL. */
const struct wf_job *wf_job_find(const struct wf *wf, const char *id);

/** The trigger for @event, or NULL when the workflow does not list it. */
const struct wf_trigger *wf_trigger_find(const struct wf *wf,
                                         const char *event);

/**
 * The word of @known (NULL-terminated) that @s most likely misspells: the
 * closest by case-insensitive edit distance (an adjacent swap counts
 * once), at most 1 for words up to 4 bytes and 2 beyond; else NULL.  For
 * "did you mean" hints.
 */
const char *wf_suggest(const char *s, size_t len, const char *const *known);

/* An action's metadata file (action.yml) — for local actions. */
struct wf_action {
    const char *path;            /* as given to wf_load_action */
    const struct node *root;
    const char *name;
    const struct node *inputs;   /* mapping name -> {required, default} */
    const struct node *outputs;  /* mapping name -> {value} */
    const char *using;           /* "composite", "node20", ... */
    const char *main;            /* node actions: runs.main */
    const char *post;            /* node actions: runs.post or NULL */
    const char *post_if;         /* runs.post-if or NULL (= always()) */
    struct wf_step *steps;       /* composite actions */
    size_t nsteps;
};

/**
 * Parse an action metadata file (action.yml) into @a: name, inputs,
 * outputs and runs (composite steps use the workflow step syntax; every
 * composite run: step needs a shell, as on GitHub).  Findings go to
 * @diags; FERR_INVALID when unusable.
 */
enum ferr_code wf_load_action(struct arena *a, const char *path,
                              struct span src, struct wf_action **out,
                              struct diags *diags,
                              struct ferr *err) FERR_MUST_CHECK;

#endif
