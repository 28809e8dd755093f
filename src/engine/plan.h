/* plan: what a run will do before anything runs — find the workflow
 * files, load and check them, decide which ones the event triggers (on:
 * event, branches/tags/paths filters against the repository), and build
 * the github context and event payload they share. */
#ifndef FERRY_ENGINE_PLAN_H
#define FERRY_ENGINE_PLAN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "engine/run.h"
#include "git/repo.h"
#include "pipeline/wf.h"
#include "util/arena.h"
#include "util/diag.h"

struct plan_wf {
    char *path;          /* as found on disk (owned) */
    char *display_path;  /* relative to the repository (owned) */
    struct arena *arena; /* owns wf and its nodes */
    char *src;           /* the file's bytes (owned; nodes point here) */
    struct wf *wf;
    bool triggered;    /* the event runs this workflow */
    char *skip_reason; /* why not (owned), or NULL */
    json_t *github;    /* github context for this workflow (owned) */
    json_t *inputs;    /* inputs context: typed, defaults applied (owned) */
    json_t *payload;   /* this workflow's event payload (owned) */
};

struct plan {
    struct plan_wf *wfs;
    size_t n;
    struct repo_info repo;
    bool have_repo;     /* dir is inside a git repository */
    char *root;         /* repository root (or dir) */
    char *event;        /* event name */
    json_t *payload;    /* the event payload (owned) */
    char *changed_note; /* how changed paths were computed, for -v */
};

/**
 * Build the plan for @opts.  Invalid workflows (structure, expressions,
 * needs) put every finding in @diags and return FERR_INVALID; warnings
 * are left in @diags too.  The caller frees with plan_free.
 */
enum ferr_code plan_build(const struct run_opts *opts, struct plan **out,
                          struct diags *diags,
                          struct ferr *err) FERR_MUST_CHECK;
/** Free @p and everything it owns; NULL is a no-op. */
void plan_free(struct plan *p);

/**
 * Find workflow files: each directory argument contributes its YAML
 * files (.yml, .yaml; sorted); with no arguments, DIR/.github/workflows
 * and DIR/.ferry/workflows.  The caller frees each path and the array.
 */
enum ferr_code plan_find_files(const char *root, const char **args,
                               size_t nargs, char ***out, size_t *out_n,
                               struct ferr *err) FERR_MUST_CHECK;

#endif
