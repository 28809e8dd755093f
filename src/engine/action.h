/* action: what `uses:` names — ferry's built-in actions/checkout,
 * upload-artifact, download-artifact and cache (run in-process), and
 * local actions (`./path` with an action.yml: composite or node), and
 * ferry's own process actions (ferry/deploy).
 * Remote actions are refused with a message saying how to vendor them. */
#ifndef FERRY_ENGINE_ACTION_H
#define FERRY_ENGINE_ACTION_H

#include <jansson.h>
#include <stdbool.h>

#include "exec/artifact.h"
#include "pipeline/wf.h"
#include "util/arena.h"
#include "util/diag.h"
#include "util/ferr.h"

enum action_kind {
    ACTION_BUILTIN, /* handled by action_run_builtin */
    ACTION_LOCAL,   /* ./path: load with action_load_local */
    ACTION_FERRY,   /* ferry/deploy, report, gate, image @v1: ferry
                       itself runs as the step's process (`ferry
                       __deploy` ...), inputs in INPUT_* */
    ACTION_DOCKER,  /* docker://image: needs the container executor */
    ACTION_REMOTE,  /* owner/repo@ref: not available offline */
};

/** Classify a `uses:` value. */
enum action_kind action_classify(const char *uses);

/** The ferry verb an ACTION_FERRY @uses runs as its step's process
 *  ("__deploy", "__report", "__gate", "__image"); NULL for any other. */
const char *action_ferry_verb(const char *uses);

/** Work left for the end of the job (actions/cache saves there). */
struct action_post {
    enum { POST_NONE, POST_CACHE_SAVE } kind;
    char *key;         /* owned */
    char *paths;       /* owned */
    bool success_only; /* post-if: success() */
};

/** Free what @p owns; it is left with kind POST_NONE. */
void action_post_release(struct action_post *p);

struct action_call {
    const char *uses;      /* "actions/checkout@v4" */
    json_t *with;          /* evaluated inputs: name -> string */
    const char *workspace; /* GITHUB_WORKSPACE */
    const char *repo_root; /* the repository ferry runs */
    bool lazy_checkout;    /* the workspace is empty until checkout */
    struct artifact_store *store;
    const char *run_id;
    void (*say)(void *ud, const char *line); /* a log line */
    void *ud;
    json_t *outputs;         /* step outputs are set here (borrowed) */
    struct action_post post; /* out: kind POST_NONE when nothing */
};

/**
 * Run built-in action @c->uses in-process.  Errors (the step fails with
 * the message): FERR_INVALID (bad input), FERR_NOTFOUND (artifact not
 * found), FERR_IO, FERR_LIMIT.
 */
enum ferr_code action_run_builtin(struct action_call *c,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Run a post step recorded by a built-in action. */
enum ferr_code action_run_post(struct action_call *c,
                               const struct action_post *p,
                               struct ferr *err) FERR_MUST_CHECK;

/** A loaded local action. */
struct action_def {
    struct arena *arena;
    char *src;
    char *dir; /* absolute directory of the action */
    struct wf_action *wa;
};

/**
 * Load DIR/action.yml (or action.yaml).  Errors: FERR_NOTFOUND when
 * neither exists; FERR_INVALID with findings in @diags.
 */
enum ferr_code action_load_local(const char *dir, struct action_def **out,
                                 struct diags *diags,
                                 struct ferr *err) FERR_MUST_CHECK;
/** Free @d and its action; NULL is a no-op. */
void action_def_free(struct action_def *d);

/** The message for an action that cannot run here. */
const char *action_unavailable_hint(enum action_kind k);

#endif
