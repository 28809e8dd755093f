/* store: the server's persistent state — repositories, runs, jobs, steps,
 * attempts, artifacts, tokens, secrets, schedules, webhook deliveries and
 * the audit log.  The only place SQL lives.  One interface, backends
 * behind it (SQLite now; PostgreSQL shaped for: nothing here assumes one
 * process owns the database — every change is one transaction and ids
 * come from the database).  Secrets and webhook keys are opaque sealed
 * blobs here: the store never sees plaintext.
 *
 * Conventions: times are ms since the epoch (UTC), 0 = unset.  Statuses
 * are "queued", "waiting", "running", "completed"; conclusions are
 * "success", "failure", "cancelled", "skipped" or NULL while not
 * completed.  Strings in result structs are heap copies owned by the
 * struct (released with the matching *_release / *_free).  Every
 * function is for the thread that opened the store. */
#ifndef FERRY_STORE_STORE_H
#define FERRY_STORE_STORE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ferr.h"

struct store;

/**
 * Open (creating when missing) the database named by @url: a file path
 * or "sqlite:PATH" for SQLite (WAL, foreign keys, busy timeout), and
 * migrate it to the current schema version.  "postgresql://..." answers
 * FERR_UNSUPPORTED for now.  Ownership: *@out is the caller's
 * (store_close).  Errors: FERR_IO (cannot open or migrate; message from
 * the backend), FERR_INVALID (a database from a newer ferry: schema
 * version above ours); *@out is NULL.
 */
enum ferr_code store_open(const char *url, struct store **out,
                          struct ferr *err) FERR_MUST_CHECK;
/** Close @s; NULL is a no-op. */
void store_close(struct store *s);
/** The schema version the store is at (after store_open). */
int store_schema_version(struct store *s);
/** 0 when the database answers a trivial query, else FERR_IO (readyz). */
enum ferr_code store_ping(struct store *s, struct ferr *err) FERR_MUST_CHECK;

/* ---------- tokens ---------- */

enum store_role {
    ROLE_NONE = 0,
    ROLE_VIEWER = 1,
    ROLE_DEVELOPER = 2,
    ROLE_APPROVER = 3,
    ROLE_ADMIN = 4
};
/** "viewer"... or "none". */
const char *store_role_name(enum store_role r);
/** Parse a role name; ROLE_NONE when unknown. */
enum store_role store_role_parse(const char *name);

struct store_token {
    int64_t id;
    char *name; /* a label ("ci-bot"), may be "" */
    enum store_role role;
    int64_t created_at;
    int64_t last_used_at; /* 0 = never */
    bool revoked;
};
void store_token_release(struct store_token *t);

/** Add a token by its SHA-256 (64 lowercase hex).  *@out_id its id.
 *  Errors: FERR_INVALID for a duplicate hash. */
enum ferr_code store_token_add(struct store *s, const char *sha256_hex,
                               enum store_role role, const char *name,
                               int64_t *out_id, struct ferr *err)
    FERR_MUST_CHECK;
/** last_used_at is rewritten only once it is older than this (ms). */
#define STORE_TOKEN_TOUCH_MS 60000

/** Find a live (not revoked) token by hash.  Sets its last_used_at to
 *  now only when the stored value is older than STORE_TOKEN_TOUCH_MS
 *  (60 s; 0, never used, is always older), so a request is a read and
 *  at most one a minute per token writes: last_used_at is accurate to a
 *  minute.  *@out holds the value after that.
 *  Errors: FERR_NOTFOUND; *@out released. */
enum ferr_code store_token_find(struct store *s, const char *sha256_hex,
                                struct store_token *out,
                                struct ferr *err) FERR_MUST_CHECK;
/** Number of tokens ever created (serve --init refuses when > 0). */
enum ferr_code store_token_count(struct store *s, int64_t *out,
                                 struct ferr *err) FERR_MUST_CHECK;
/** All tokens, oldest first; free with store_tokens_free. */
enum ferr_code store_token_list(struct store *s, struct store_token **out,
                                size_t *out_n, struct ferr *err)
    FERR_MUST_CHECK;
void store_tokens_free(struct store_token *v, size_t n);
/** Revoke token @id.  Errors: FERR_NOTFOUND. */
enum ferr_code store_token_revoke(struct store *s, int64_t id,
                                  struct ferr *err) FERR_MUST_CHECK;

/* ---------- repositories ---------- */

struct store_repo {
    int64_t id;
    char *name;           /* unique, [A-Za-z0-9._-]+ */
    char *url;            /* where to fetch from: a path or URL */
    char *default_branch; /* "main" */
    unsigned char *hook_key; /* sealed webhook secret, or NULL */
    size_t hook_key_len;
    int64_t created_at;
};
void store_repo_release(struct store_repo *r);
void store_repos_free(struct store_repo *v, size_t n);

/** Add a repository (@in->id ignored).  Errors: FERR_INVALID when the
 *  name exists. */
enum ferr_code store_repo_add(struct store *s, const struct store_repo *in,
                              int64_t *out_id, struct ferr *err)
    FERR_MUST_CHECK;
/** Update url, default_branch and hook_key of repository @in->id. */
enum ferr_code store_repo_update(struct store *s, const struct store_repo *in,
                                 struct ferr *err) FERR_MUST_CHECK;
/** By name / by id.  Errors: FERR_NOTFOUND; *@out released. */
enum ferr_code store_repo_get(struct store *s, const char *name,
                              struct store_repo *out,
                              struct ferr *err) FERR_MUST_CHECK;
enum ferr_code store_repo_get_id(struct store *s, int64_t id,
                                 struct store_repo *out,
                                 struct ferr *err) FERR_MUST_CHECK;
/** All repositories by name. */
enum ferr_code store_repo_list(struct store *s, struct store_repo **out,
                               size_t *out_n, struct ferr *err)
    FERR_MUST_CHECK;

/* ---------- secrets (sealed blobs) ---------- */

struct store_secret {
    char *name;
    unsigned char *blob; /* sealed value (NULL from store_secret_list) */
    size_t len;
    int64_t updated_at;
};
void store_secrets_free(struct store_secret *v, size_t n);

/** Create or replace secret @name of repository @repo_id. */
enum ferr_code store_secret_set(struct store *s, int64_t repo_id,
                                const char *name, const unsigned char *blob,
                                size_t len, struct ferr *err) FERR_MUST_CHECK;
/** Delete it.  Errors: FERR_NOTFOUND. */
enum ferr_code store_secret_delete(struct store *s, int64_t repo_id,
                                   const char *name,
                                   struct ferr *err) FERR_MUST_CHECK;
/** Names and times only (blob NULL), by name. */
enum ferr_code store_secret_list(struct store *s, int64_t repo_id,
                                 struct store_secret **out, size_t *out_n,
                                 struct ferr *err) FERR_MUST_CHECK;
/** Names with their sealed blobs (for a run's worker). */
enum ferr_code store_secret_load(struct store *s, int64_t repo_id,
                                 struct store_secret **out, size_t *out_n,
                                 struct ferr *err) FERR_MUST_CHECK;

/* ---------- runs and attempts ---------- */

struct store_run {
    int64_t id;
    int64_t repo_id;
    char *repo;          /* repository name (filled by reads) */
    char *workflow;      /* file path in the repository */
    char *workflow_name; /* display name */
    int64_t number;      /* per repository and workflow, from 1 */
    char *event;         /* push, pull_request, schedule, ... */
    char *ref;           /* refs/heads/main */
    char *sha;           /* 40 hex */
    char *payload;       /* the event payload, JSON text */
    char *actor;
    int attempt;         /* current attempt, from 1 */
    char *status;
    char *conclusion;   /* NULL until completed */
    char *reason;       /* why it failed/was cancelled, or NULL */
    char *concurrency;  /* workflow concurrency group or NULL */
    bool cancel_in_progress;
    bool cancel_requested;
    char *rerun_jobs;   /* JSON {job_id: {result, outputs}} to reuse, or NULL */
    int64_t created_at, started_at, finished_at;
};
void store_run_release(struct store_run *r);
void store_runs_free(struct store_run *v, size_t n);

/**
 * Queue a run: status "queued", attempt 1, number = the next for
 * (repo_id, workflow).  Reads repo_id, workflow, workflow_name, event,
 * ref, sha, payload, actor, concurrency, cancel_in_progress from @in.
 * One transaction.  *@out_id and *@out_number the new values.
 */
enum ferr_code store_run_create(struct store *s, const struct store_run *in,
                                int64_t *out_id, int64_t *out_number,
                                struct ferr *err) FERR_MUST_CHECK;
/** Errors: FERR_NOTFOUND; *@out released. */
enum ferr_code store_run_get(struct store *s, int64_t id, struct store_run *out,
                             struct ferr *err) FERR_MUST_CHECK;

struct store_run_filter {
    const char *repo;       /* name or NULL */
    const char *ref;        /* exact ref, or a branch name (matches
                               refs/heads/NAME), or NULL; a full
                               refs/heads/NAME matches only itself */
    const char *status;     /* or NULL */
    const char *conclusion; /* or NULL */
    const char *event;      /* or NULL */
    const char *workflow;   /* file path or NULL */
    int64_t before_id;      /* paging cursor: only ids < this; 0 = none */
    size_t limit;           /* 1..200 (clamped) */
};
/** Runs matching @f, newest (highest id) first.  *@out_more tells
 *  whether more match past the page.  payload is NULL in these results
 *  (a page would carry every event payload): store_run_get,
 *  store_run_queue and store_run_running fill it. */
enum ferr_code store_run_list(struct store *s, const struct store_run_filter *f,
                              struct store_run **out, size_t *out_n,
                              bool *out_more, struct ferr *err)
    FERR_MUST_CHECK;
/** Runs with status queued or waiting, oldest first (the queue). */
enum ferr_code store_run_queue(struct store *s, struct store_run **out,
                               size_t *out_n, struct ferr *err) FERR_MUST_CHECK;
/** Runs with status running (for recovery after a restart). */
enum ferr_code store_run_running(struct store *s, struct store_run **out,
                                 size_t *out_n, struct ferr *err)
    FERR_MUST_CHECK;

struct store_attempt {
    int64_t id;
    int64_t run_id;
    int number;
    char *status;     /* running | completed */
    char *conclusion; /* NULL while running */
    char *reason;
    int pid;           /* the worker process */
    char *tag;         /* FERRY_ATTEMPT value every process of it carries */
    int64_t started_at, finished_at;
};
void store_attempts_free(struct store_attempt *v, size_t n);

/**
 * queued → running: the run's current attempt starts, carried by worker
 * @pid whose processes carry @tag.  One transaction (run row + attempt
 * row; the run's reason is cleared).  Errors: FERR_NOTFOUND;
 * FERR_INVALID when the run is not queued/waiting.
 */
enum ferr_code store_run_start(struct store *s, int64_t run_id, int pid,
                               const char *tag, struct ferr *err)
    FERR_MUST_CHECK;
/** → completed with @conclusion (and @reason or NULL); the current
 *  attempt too (a run that never started gets its attempt row here,
 *  started_at 0); jobs/steps of the attempt still running/queued become
 *  completed/cancelled, a job's reason kept or "the run ended".  One
 *  transaction.  Errors: FERR_NOTFOUND; FERR_INVALID when the run is
 *  completed already or @conclusion is not one of the four. */
enum ferr_code store_run_finish(struct store *s, int64_t run_id,
                                const char *conclusion, const char *reason,
                                struct ferr *err) FERR_MUST_CHECK;
/**
 * The current attempt ends with @conclusion/@reason (its unfinished jobs
 * and steps as cancelled), and the run is queued again as attempt + 1
 * with rerun_jobs = @rerun_jobs (NULL: all jobs run).  Used for re-run
 * and for recovery.  An attempt already completed keeps its conclusion.
 * The run's conclusion, reason, started_at, finished_at and
 * cancel_requested are reset (created_at kept).  One transaction.
 * Errors: FERR_NOTFOUND; FERR_INVALID when the run is queued or waiting
 * (nothing to retry).
 */
enum ferr_code store_run_retry(struct store *s, int64_t run_id,
                               const char *conclusion, const char *reason,
                               const char *rerun_jobs,
                               struct ferr *err) FERR_MUST_CHECK;
/** Set cancel_requested (the server acts on it).  Errors:
 *  FERR_NOTFOUND; FERR_INVALID when the run is completed. */
enum ferr_code store_run_request_cancel(struct store *s, int64_t run_id,
                                        struct ferr *err) FERR_MUST_CHECK;
/** Set status of a queued run to "waiting" (or back to "queued") with a
 *  reason (e.g. its concurrency group is busy).  Errors: FERR_NOTFOUND;
 *  FERR_INVALID when the run is neither queued nor waiting. */
enum ferr_code store_run_set_waiting(struct store *s, int64_t run_id,
                                     bool waiting, const char *reason,
                                     struct ferr *err) FERR_MUST_CHECK;
/** Attempts of a run, oldest first. */
enum ferr_code store_attempt_list(struct store *s, int64_t run_id,
                                  struct store_attempt **out, size_t *out_n,
                                  struct ferr *err) FERR_MUST_CHECK;

/* ---------- jobs and steps ---------- */

struct store_job {
    int64_t id;
    int64_t run_id;
    int attempt;
    char *job_key; /* the job's id in the workflow */
    char *name;    /* display name (matrix values appended) */
    char *matrix;  /* JSON text or NULL */
    char *status;
    char *conclusion;
    char *reason;
    char *outputs;  /* JSON text or NULL */
    char *log_path; /* absolute path of its log file, or NULL */
    int64_t started_at, finished_at;
};
void store_jobs_free(struct store_job *v, size_t n);
void store_job_release(struct store_job *j);

/** A job of the run's current attempt starts (status running); @name
 *  NULL means @job_key.  Errors: FERR_NOTFOUND (no such run);
 *  FERR_INVALID when the run is not running at attempt @attempt (a
 *  worker of a retried attempt cannot add to the new one). */
enum ferr_code store_job_start(struct store *s, int64_t run_id, int attempt,
                               const char *job_key, const char *name,
                               const char *matrix, const char *log_path,
                               int64_t *out_id, struct ferr *err)
    FERR_MUST_CHECK;
/** A running job completes; its steps still running end as
 *  completed/cancelled.  Errors: FERR_NOTFOUND; FERR_INVALID when the
 *  job is not running. */
enum ferr_code store_job_finish(struct store *s, int64_t job_id,
                                const char *conclusion, const char *reason,
                                const char *outputs,
                                struct ferr *err) FERR_MUST_CHECK;
/** A job that never started (skipped, cancelled before start, failed
 *  to evaluate): inserted completed in one go.  Errors: FERR_NOTFOUND;
 *  FERR_INVALID when @attempt is not the run's current attempt. */
enum ferr_code store_job_add_completed(struct store *s, int64_t run_id,
                                       int attempt, const char *job_key,
                                       const char *name, const char *matrix,
                                       const char *conclusion,
                                       const char *reason, int64_t *out_id,
                                       struct ferr *err) FERR_MUST_CHECK;
/** Jobs of a run; @attempt 0 = the current attempt; by id. */
enum ferr_code store_job_list(struct store *s, int64_t run_id, int attempt,
                              struct store_job **out, size_t *out_n,
                              struct ferr *err) FERR_MUST_CHECK;
enum ferr_code store_job_get(struct store *s, int64_t job_id,
                             struct store_job *out,
                             struct ferr *err) FERR_MUST_CHECK;

struct store_step {
    int64_t id;
    int64_t job_id;
    int number; /* 1-based */
    char *name;
    char *status;
    char *conclusion;
    int64_t started_at, finished_at;
};
void store_steps_free(struct store_step *v, size_t n);

/** Step @number (1-based) of @job_id starts.  Errors: FERR_NOTFOUND
 *  (no such job); FERR_INVALID when that step exists already. */
enum ferr_code store_step_start(struct store *s, int64_t job_id, int number,
                                const char *name, int64_t *out_id,
                                struct ferr *err) FERR_MUST_CHECK;
/** Completes step @number of @job_id (inserting it when it never started,
 *  e.g. skipped). */
enum ferr_code store_step_finish(struct store *s, int64_t job_id, int number,
                                 const char *name, const char *conclusion,
                                 struct ferr *err) FERR_MUST_CHECK;
enum ferr_code store_step_list(struct store *s, int64_t job_id,
                               struct store_step **out, size_t *out_n,
                               struct ferr *err) FERR_MUST_CHECK;

/* ---------- artifacts ---------- */

struct store_artifact {
    int64_t id;
    int64_t run_id;
    char *name;
    char *path; /* absolute path of the stored archive/dir */
    int64_t size;
    int64_t created_at;
};
void store_artifacts_free(struct store_artifact *v, size_t n);
/** Record artifact @name of run @run_id, replacing one of the same name
 *  (a re-run uploads it again).  Errors: FERR_NOTFOUND (no such run). */
enum ferr_code store_artifact_add(struct store *s, int64_t run_id,
                                  const char *name, const char *path,
                                  int64_t size, struct ferr *err)
    FERR_MUST_CHECK;
enum ferr_code store_artifact_list(struct store *s, int64_t run_id,
                                   struct store_artifact **out, size_t *out_n,
                                   struct ferr *err) FERR_MUST_CHECK;

/* ---------- schedules ---------- */

struct store_schedule {
    int64_t id;
    int64_t repo_id;
    char *repo;     /* filled by reads */
    char *workflow; /* file path */
    char *cron;     /* the 5-field expression */
    int64_t last_fired_at; /* the slot time last run (ms), 0 = never */
    int64_t created_at;
};
void store_schedules_free(struct store_schedule *v, size_t n);
/**
 * Replace the schedules of (@repo_id) by @crons (pairs workflow, cron):
 * entries that stay keep their last_fired_at; new ones start at
 * @now_ms as last_fired_at (a new cron does not fire for the past).
 * One transaction.
 */
enum ferr_code store_schedule_sync(struct store *s, int64_t repo_id,
                                   const char *const *workflows,
                                   const char *const *crons, size_t n,
                                   int64_t now_ms, struct ferr *err)
    FERR_MUST_CHECK;
enum ferr_code store_schedule_list(struct store *s, struct store_schedule **out,
                                   size_t *out_n, struct ferr *err)
    FERR_MUST_CHECK;
/** Record that schedule @id fired for slot @slot_ms.  Errors:
 *  FERR_NOTFOUND. */
enum ferr_code store_schedule_fired(struct store *s, int64_t id,
                                    int64_t slot_ms, struct ferr *err)
    FERR_MUST_CHECK;

/* ---------- webhook deliveries and audit ---------- */

struct store_delivery {
    int64_t id;
    char *source;   /* github | gitea | gitlab | hook */
    char *event;    /* push, pull_request, ping, ... */
    char *delivery; /* the sender's delivery id or "" */
    char *repo;     /* repository name or "" */
    int status;     /* the HTTP status answered */
    char *outcome;  /* "2 runs queued", "bad signature", ... */
    int64_t created_at;
};
void store_deliveries_free(struct store_delivery *v, size_t n);
/** Record a webhook delivery (@in->id ignored; created_at 0 = now). */
enum ferr_code store_delivery_add(struct store *s,
                                  const struct store_delivery *in,
                                  struct ferr *err) FERR_MUST_CHECK;
/** Newest first, at most @limit. */
enum ferr_code store_delivery_list(struct store *s, size_t limit,
                                   struct store_delivery **out, size_t *out_n,
                                   struct ferr *err) FERR_MUST_CHECK;

struct store_audit {
    int64_t id;
    int64_t token_id; /* who (0 = the server itself) */
    char *action;     /* "run.cancel", "secret.set", "token.create", ... */
    char *target;     /* "run/12", "repo/app/secret/DB_PASS" */
    char *detail;     /* free text or "" */
    int64_t created_at;
};
void store_audits_free(struct store_audit *v, size_t n);
enum ferr_code store_audit_add(struct store *s, int64_t token_id,
                               const char *action, const char *target,
                               const char *detail, struct ferr *err)
    FERR_MUST_CHECK;
enum ferr_code store_audit_list(struct store *s, size_t limit,
                                struct store_audit **out, size_t *out_n,
                                struct ferr *err) FERR_MUST_CHECK;

/* ---------- continuous delivery ----------
 * Environments, deployments with their phases and approvals, incidents
 * and the notification outbox.  Rows come out as JSON objects in the
 * API's shapes (times RFC 3339, UTC; null when unset): the server hands
 * them out as they are.  Times going in are ms since the epoch. */

/**
 * Create or replace the protection rules of environment @name of repo
 * @repo_id (@rules: a JSON object the server has validated; borrowed).
 * *@out_id gets its id.  Errors: FERR_NOTFOUND (no such repo), FERR_IO.
 */
enum ferr_code store_env_put(struct store *s, int64_t repo_id,
                             const char *name, json_t *rules, int64_t *out_id,
                             struct ferr *err) FERR_MUST_CHECK;
/** {"id","repo","name","rules":{…},"locked":"why"|null,"created_at",
 *  "updated_at"} in *@out (a new reference).  FERR_NOTFOUND
 *  "environment 'x' not found". */
enum ferr_code store_env_get(struct store *s, int64_t repo_id,
                             const char *name, json_t **out,
                             struct ferr *err) FERR_MUST_CHECK;
/** Every environment of @repo_id (0: of every repo), as an array. */
enum ferr_code store_env_list(struct store *s, int64_t repo_id, json_t **out,
                              struct ferr *err) FERR_MUST_CHECK;
/** Lock environment @env_id with @reason (an escalated rollback), or
 *  unlock it (@reason NULL). */
enum ferr_code store_env_lock(struct store *s, int64_t env_id,
                              const char *reason,
                              struct ferr *err) FERR_MUST_CHECK;

/**
 * A new deployment record from @in (borrowed): "repo_id" and
 * "environment" and "status" are required; "kind" ("deploy" or
 * "rollback"), "run_id", "attempt", "job", "sha", "ref", "actor", "url",
 * "version", "strategy" optional.  Created now.
 * Errors: FERR_INVALID (a required field missing), FERR_NOTFOUND.
 */
enum ferr_code store_deploy_create(struct store *s, json_t *in,
                                   int64_t *out_id,
                                   struct ferr *err) FERR_MUST_CHECK;
/**
 * Change the fields of deployment @id present in @set (borrowed):
 * strings "status", "reason", "version", "strategy", "approved_by",
 * "release_tag", "url"; integers (ms) "approved_at", "started_at",
 * "finished_at".  Others are ignored.  FERR_NOTFOUND when @id is not a
 * deployment.
 */
enum ferr_code store_deploy_update(struct store *s, int64_t id, json_t *set,
                                   struct ferr *err) FERR_MUST_CHECK;
/** Append @phase (a JSON object, borrowed) to deployment @id's phases. */
enum ferr_code store_deploy_phase(struct store *s, int64_t id, json_t *phase,
                                  struct ferr *err) FERR_MUST_CHECK;
/** Deployment @id with its phases and approvals. */
enum ferr_code store_deploy_get(struct store *s, int64_t id, json_t **out,
                                struct ferr *err) FERR_MUST_CHECK;
/** The newest deployments first (at most @limit, 1..200), filtered by
 *  repo (0: any), environment and status (NULL: any). */
enum ferr_code store_deploy_list(struct store *s, int64_t repo_id,
                                 const char *environment, const char *status,
                                 size_t limit, json_t **out,
                                 struct ferr *err) FERR_MUST_CHECK;
/** Record when the oldest commit that deployment @id shipped was made
 *  (@commit_at, ms): the start of DORA's lead time.  Not in the API's
 *  deployment shape; store_dora_input returns it. */
enum ferr_code store_deploy_commit_at(struct store *s, int64_t id,
                                      int64_t commit_at,
                                      struct ferr *err) FERR_MUST_CHECK;

/* ---------- watching: reports and DORA inputs ---------- */

/**
 * Keep the report summary @summary (a JSON object with a string "kind":
 * "tests", "coverage", "findings", "image"; borrowed) that step @step of
 * job @job_key recorded in attempt @attempt of run @run_id.
 * Errors: FERR_INVALID (no "kind"), FERR_IO.
 */
enum ferr_code store_report_add(struct store *s, int64_t run_id, int attempt,
                                const char *job_key, int step,
                                json_t *summary,
                                struct ferr *err) FERR_MUST_CHECK;
/** Run @run_id's reports, oldest first: an array of {"id","attempt",
 *  "job","step","kind","summary":{…},"created_at"} in *@out. */
enum ferr_code store_report_list(struct store *s, int64_t run_id,
                                 json_t **out,
                                 struct ferr *err) FERR_MUST_CHECK;
/** The newest reports of @kind (at most @limit, 1..200) of the runs of
 *  @repo_id (0: any) on @ref (NULL: any; "refs/heads/main"): an array of
 *  {"run_id","number","workflow","ref","sha","created_at","summary"},
 *  newest first — a coverage or test-count trend. */
enum ferr_code store_report_trend(struct store *s, int64_t repo_id,
                                  const char *ref, const char *kind,
                                  size_t limit, json_t **out,
                                  struct ferr *err) FERR_MUST_CHECK;
/**
 * What the DORA figures are computed from, for repo @repo_id (0: every
 * repo) over [@since_ms, @until_ms): one object in *@out with arrays
 *  "deployments": {"id","repo","environment","kind" (deploy|rollback),
 *     "status","sha","version","created_at","started_at","finished_at",
 *     "commit_at" (ms, 0 unknown),"incident" (bool: an incident names it)}
 *     of @environment, or when it is NULL of every environment that is
 *     named "production" or has the production rule, by id;
 *  "incidents": {"id","repo","environment","deployment_id","status",
 *     "opened_at","resolved_at" (ms, 0 while open)} of the same
 *     environments, opened in the window;
 *  "runs": {"id","workflow","event","ref","status","conclusion",
 *     "created_at","started_at","finished_at"} created in the window;
 *  "reports": {"run_id","ref","kind" (tests|coverage),"created_at",
 *     "summary"} recorded in the window.
 * Times here are ms since the epoch (0: unset).  Errors: FERR_IO.
 */
enum ferr_code store_dora_input(struct store *s, int64_t repo_id,
                                const char *environment, int64_t since_ms,
                                int64_t until_ms, json_t **out,
                                struct ferr *err) FERR_MUST_CHECK;

/** Record @user's @decision ("approved" or "rejected") on deployment
 *  @deployment_id. */
enum ferr_code store_approval_add(struct store *s, int64_t deployment_id,
                                  int64_t token_id, const char *user,
                                  const char *decision, const char *comment,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Open an incident on @environment of @repo_id (status "open", its
 *  timeline starting with @reason). */
enum ferr_code store_incident_open(struct store *s, int64_t repo_id,
                                   const char *environment,
                                   int64_t deployment_id, const char *reason,
                                   int64_t *out_id,
                                   struct ferr *err) FERR_MUST_CHECK;
/** Append @what to incident @id's timeline, and set its status when
 *  @status is not NULL ("resolved" also stamps resolved_at). */
enum ferr_code store_incident_note(struct store *s, int64_t id,
                                   const char *status, const char *what,
                                   struct ferr *err) FERR_MUST_CHECK;
enum ferr_code store_incident_get(struct store *s, int64_t id, json_t **out,
                                  struct ferr *err) FERR_MUST_CHECK;
enum ferr_code store_incident_list(struct store *s, int64_t repo_id,
                                   size_t limit, json_t **out,
                                   struct ferr *err) FERR_MUST_CHECK;

/** Queue a notification (@level info|warning|error|critical, @kind like
 *  "deployment.failed", @dedup_key may be NULL, @payload borrowed) in
 *  the outbox; the notifier delivers it. */
enum ferr_code store_outbox_add(struct store *s, const char *level,
                                const char *kind, const char *dedup_key,
                                json_t *payload,
                                struct ferr *err) FERR_MUST_CHECK;
/** The newest outbox entries first, at most @limit (1..200): {"id",
 *  "level","kind","dedup_key","payload","attempts" (all channels),
 *  "delivered_at" (every routed channel done; null until then),
 *  "created_at","deliveries":[{"channel","state" ("pending"|"sent"|
 *  "duplicate"),"attempts","next_at","sent_at","last_error"}]}. */
enum ferr_code store_outbox_list(struct store *s, size_t limit, json_t **out,
                                 struct ferr *err) FERR_MUST_CHECK;

/* Delivery state, for the notifier (ferry __notify).  An outbox entry is
 * routed once: it gets one send per channel, "pending" until delivered
 * ("sent"), or "duplicate" when another entry with the same non-empty
 * dedup key already has a pending or sent send on that channel.  Sends
 * are never dropped.  One notifier per database. */

/**
 * Entries not routed yet, oldest first, at most @limit (1..200): an array
 * of {"id","level","kind","dedup_key","payload"} in *@out (a new
 * reference).  Errors: FERR_IO; *@out NULL.
 */
enum ferr_code store_outbox_unrouted(struct store *s, size_t limit,
                                     json_t **out,
                                     struct ferr *err) FERR_MUST_CHECK;
/**
 * The channels that got, or are getting, an entry with @dedup_key (sends
 * pending or sent), sorted: an array of names in *@out.  For a resolve,
 * which goes where the alert it clears went.  Errors: FERR_IO.
 */
enum ferr_code store_outbox_channels_of(struct store *s,
                                        const char *dedup_key, json_t **out,
                                        struct ferr *err) FERR_MUST_CHECK;
/**
 * Route entry @id to the @n @channels (borrowed names; n may be 0): one
 * send each, due now, or "duplicate" as above, and the entry marked
 * routed, in one transaction.  Routing twice adds nothing.
 * Errors: FERR_NOTFOUND (no entry @id), FERR_IO; nothing changed then.
 */
enum ferr_code store_outbox_route(struct store *s, int64_t id,
                                  const char *const *channels, size_t n,
                                  struct ferr *err) FERR_MUST_CHECK;
/**
 * Pending sends due at @now_ms (next_at <= @now_ms), oldest entry first,
 * at most @limit (1..200), less resolves whose resolved entry is still
 * pending on the same channel: an array of {"outbox_id","channel",
 * "attempts","level","kind","dedup_key","payload","created_at" (ms),
 * "resolved":{"level","kind","created_at","payload"}|null (the oldest
 * entry whose dedup key is payload.resolves)}.  Errors: FERR_IO.
 */
enum ferr_code store_outbox_due(struct store *s, int64_t now_ms, size_t limit,
                                json_t **out,
                                struct ferr *err) FERR_MUST_CHECK;
/** The earliest next_at (ms) of the pending sends store_outbox_due could
 *  return, in *@out; -1 when there is none.  Errors: FERR_IO. */
enum ferr_code store_outbox_next_due(struct store *s, int64_t *out,
                                     struct ferr *err) FERR_MUST_CHECK;
/** Record that entry @id reached @channel (attempts + 1, sent now); the
 *  entry is delivered when no send of it is pending.  Errors:
 *  FERR_NOTFOUND (no pending send of @id to @channel), FERR_IO. */
enum ferr_code store_outbox_sent(struct store *s, int64_t id,
                                 const char *channel,
                                 struct ferr *err) FERR_MUST_CHECK;
/**
 * Put off the pending send of entry @id to @channel until @next_at (ms;
 * never earlier than it was), keeping @error (NULL: keep the last one) as
 * its last error, and count an attempt when @attempted (false: postponed
 * without trying, as when its channel is known to be down).
 * Errors: FERR_NOTFOUND (no such pending send), FERR_IO.
 */
enum ferr_code store_outbox_retry(struct store *s, int64_t id,
                                  const char *channel, bool attempted,
                                  int64_t next_at, const char *error,
                                  struct ferr *err) FERR_MUST_CHECK;

#endif
