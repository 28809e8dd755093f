/* server: the control plane's shared state — the loop, the store, the
 * HTTP server, the run queue and its workers, live-log subscribers and
 * the cron timer.  serve.c owns the lifecycle (start, recovery, stop),
 * queue.c turns events into queued runs and runs into workers,
 * worker.c supervises one attempt's process and persists what it
 * reports, api.c answers HTTP.  All of it runs on the loop thread. */
#ifndef FERRY_SERVER_SERVER_H
#define FERRY_SERVER_SERVER_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "server/httpd.h"
#include "server/serve.h"
#include "store/store.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/loop.h"

struct worker;
struct sub;

struct server {
    struct server_opts o;
    struct loop *loop;
    struct store *store;
    struct httpd *httpd;
    struct crypto_key key; /* seals secrets and webhook keys */
    char *home;            /* absolute */
    char *ferry_bin;       /* this executable, for workers */
    char *url;             /* http://host:port */
    unsigned slots;         /* jobs at a time, across every run */
    unsigned slots_used;    /* job slots granted to workers */
    unsigned max_runs;      /* runs (workers) at a time */
    uint64_t want_seq;      /* orders the workers waiting for a slot */
    struct {
        pid_t pid; /* 0 = none */
        int out_fd, gate_fd;
        char *tag;
    } spare;                /* a worker started ahead of need */
    struct loop_timer *spare_timer;
    struct worker *workers; /* running attempts (list) */
    unsigned nworkers;
    struct sub *subs;       /* live-log followers (list) */
    struct loop_timer *cron_timer;
    struct loop_timer *kick; /* re-run the dispatcher soon */
    bool stopping;
    int64_t clock_offset_ms; /* FERRY_TEST_CLOCK_OFFSET: cron tests */
    struct cd *cd;           /* the deploy controller */
    struct telemetry *telemetry; /* what GET /metrics shows */
    struct {
        char *config;        /* its configuration file; NULL = none */
        pid_t pid;           /* 0 = not running */
        int gate_fd;         /* its stdin: a byte per poke; -1 */
        int out_fd;          /* its output, logged; -1 */
        struct loop_timer *timer; /* restarts it */
    } notify;                /* `ferry __notify`, the alert deliverer */
};

/* ---------- telemetry.c: GET /metrics ---------- */

struct telemetry;

/** Register every metric (src/metrics/prom.h's names) in a registry the
 *  server owns, and start the thread that computes the DORA gauges on
 *  its own connection to the store at @db_url (the URL store_open took;
 *  NULL: no DORA samples), asking it for the first figures.  Call it
 *  after the last setenv() (the thread may read the environment).  A
 *  thread that cannot start is logged, not an error.  Errors:
 *  FERR_INVALID/FERR_LIMIT (a bad registration: a bug). */
enum ferr_code telemetry_start(struct server *s, const char *db_url,
                               struct ferr *err) FERR_MUST_CHECK;
/** Stop the DORA thread (a computation under way finishes first), join
 *  it and free everything; no-op when telemetry_start did not succeed. */
void telemetry_stop(struct server *s);
/** Run @r (as the store has it, completed) ended. */
void telemetry_run(struct server *s, const struct store_run *r);
/** Run @r starts its attempt at @now_ms (its queue wait, first
 *  attempts only). */
void telemetry_run_started(struct server *s, const struct store_run *r,
                           int64_t now_ms);
/** A job ended with @conclusion after @duration_ms. */
void telemetry_job(struct server *s, const char *conclusion,
                   int64_t duration_ms);
/** A deployment of @env of @repo ended as @result (the record's
 *  status). */
void telemetry_deployment(struct server *s, const char *repo, const char *env,
                          const char *result);
/** A rollback of @env of @repo started. */
void telemetry_rollback(struct server *s, const char *repo, const char *env);
/** A webhook from @source was answered with @status. */
void telemetry_webhook(struct server *s, const char *source, int status);
/** The exposition in *@out (buf_init'ed here; the caller releases it).
 *  The DORA gauges show the thread's last figures (none yet: no
 *  samples) and never wait for it; figures DORA_CACHE_MS (10 s) old are
 *  recomputed in the background for a later scrape. */
enum ferr_code telemetry_write(struct server *s, struct buf *out,
                               struct ferr *err) FERR_MUST_CHECK;

/* ---------- notifier.c ---------- */

/** Start `ferry __notify` when a configuration exists (--notify, else
 *  HOME/notify.json); without one, alerts wait in the outbox. */
void notifier_start(struct server *s);
/** Tell the notifier that the outbox has something new (no-op when none
 *  runs; never blocks). */
void notifier_poke(struct server *s);

/** Queue the alerts finished run @r raises (runalert.c): a failure on a
 *  protected branch or of a scheduled run (error), and the resolve when
 *  the next run of the same workflow and ref succeeds (info). */
void runalert_run_done(struct server *s, const struct store_run *r);
/** The SIGCHLD handler reports @pid: true when it was the notifier (it
 *  is started again after a pause unless the server stops). */
bool notifier_reaped(struct server *s, pid_t pid, int status);
/** Stop it (SIGTERM and EOF on its stdin) and free its state. */
void notifier_stop(struct server *s);

/** Wall clock in ms (with the test offset). */
int64_t server_now_ms(const struct server *s);

/* ---------- queue.c ---------- */

/** What starts runs: an event on a repository at a commit. */
struct trigger {
    const struct store_repo *repo; /* borrowed */
    const char *event;             /* push, pull_request, schedule, ... */
    const char *ref;               /* full ref */
    const char *sha;               /* commit to run; NULL = resolve ref */
    json_t *payload;               /* borrowed GitHub-shaped payload */
    json_t *inputs;                /* borrowed dispatch inputs or NULL */
    const char *workflow;          /* only this workflow (dispatch, cron):
                                      a path in the repository, or a file
                                      name in .github/ or .ferry/workflows */
    const char *actor;
};

/**
 * Fetch the repository into its mirror, check the commit out, decide
 * which workflows @t triggers and queue one run for each (one store
 * transaction each).  Run ids are appended to @out_ids (may be NULL).
 * Errors: FERR_NOTFOUND (unknown ref/workflow), FERR_INVALID /
 * FERR_PARSE (an invalid workflow or inputs: the message says where),
 * FERR_IO.
 */
enum ferr_code queue_trigger(struct server *s, const struct trigger *t,
                             json_t *out_ids, struct ferr *err)
    FERR_MUST_CHECK;
/** Start what the queue allows (slots, concurrency groups).  Cheap to
 *  call after every change. */
void queue_dispatch(struct server *s);
/** Ask for queue_dispatch on the next loop turn. */
void queue_kick(struct server *s);
/** Cancel run @id: a queued one completes at once, a running one is
 *  cancelled through its worker.  FERR_INVALID when completed. */
enum ferr_code queue_cancel(struct server *s, int64_t id, const char *why,
                            struct ferr *err) FERR_MUST_CHECK;
/** Re-sync the cron schedules of @repo from its default branch. */
void queue_sync_schedules(struct server *s, const struct store_repo *repo);
/** Arm the cron timer for the next minute boundary. */
void queue_arm_cron(struct server *s);
/** Path of the mirror of repository @id (heap). */
char *queue_mirror_path(const struct server *s, int64_t repo_id);

/* ---------- worker.c ---------- */

/**
 * Start the current attempt of queued run @r in a worker process.
 * Errors: FERR_EXEC/FERR_IO; the run is then finished as failure by the
 * caller.
 */
enum ferr_code worker_start(struct server *s, const struct store_run *r,
                            struct ferr *err) FERR_MUST_CHECK;
/** The next worker of the server's list after @w, or NULL. */
struct worker *worker_next(const struct worker *w);
/** The worker running run @run_id, or NULL. */
struct worker *worker_find(struct server *s, int64_t run_id);
/** The SIGCHLD handler reports reaped @pid: true when it was a worker. */
bool worker_reaped(struct server *s, pid_t pid, int status);
/** Cancel the worker's run (SIGTERM: the engine cancels its jobs). */
void worker_cancel(struct worker *w);
/** The worker's run's concurrency group or NULL (borrowed). */
const char *worker_group(const struct worker *w);
/** Stop every worker (server shutdown): they cancel; no wait.  Their
 *  runs stay "running" for the next start to retry.  Frees them. */
void worker_stop_all(struct server *s);
/** The run and attempt @w runs. */
int64_t worker_run_id(const struct worker *w);
int worker_attempt(const struct worker *w);
/** A line of the server's own in the run's log (not of any job), shown
 *  to live followers too: "waiting for approval …". */
void worker_say(struct worker *w, const char *text);
/** Send @msg (borrowed) to the worker's engine as one JSON line on its
 *  stdin (the answer to an environment.wanted event). */
void worker_send(struct worker *w, json_t *msg);
/** The log file of attempt @attempt of run @run_id (heap). */
char *worker_log_path(const struct server *s, int64_t run_id, int attempt);
/** Start a spare worker soon (idle, waiting for a spec), so that the
 *  next run does not wait for a process to start. */
void worker_prepare_spare(struct server *s);

/* ---------- cd.c: the deploy controller ---------- */

struct cd;

/** The controller's state (the server owns it).  Errors: FERR_IO when
 *  its timer cannot be made. */
enum ferr_code cd_new(struct server *s, struct cd **out,
                      struct ferr *err) FERR_MUST_CHECK;
/** Free @cd (NULL is a no-op); rollbacks still running are left to
 *  finish on their own. */
void cd_free(struct cd *cd);
/** On start: deployments left waiting, queued or running by a previous
 *  server are cancelled ("the server restarted"). */
void cd_recover(struct server *s);
/** A job of @w's run names an environment (@ev: the engine's
 *  environment.wanted event): check the rules, record the deployment,
 *  wait for approvals and the lock, then answer the worker. */
void cd_env_wanted(struct server *s, struct worker *w, json_t *ev);
/** Job @job_key of @w's run finished (or will never start). */
void cd_job_finished(struct server *s, struct worker *w, const char *job_key,
                     const char *conclusion);
/** Worker @w is going away: what it waited for or held is released. */
void cd_worker_gone(struct server *s, struct worker *w);
/** Deployments waiting for approvals now. */
unsigned cd_pending_approvals(struct server *s);
/** Whether @name may name an environment: 1..64 letters, digits, '-',
 *  '_' or '.' (the same for workflows and the API). */
bool cd_env_name_ok(const char *name);
/** The SIGCHLD handler reports @pid: true when it was a rollback. */
bool cd_reaped(struct server *s, pid_t pid, int status);
/**
 * Approve (@approve) or reject deployment @id as the token @tok, with
 * @comment (may be NULL).  Errors: FERR_NOTFOUND, FERR_INVALID "deployment
 * 3 is not waiting for approval (it is success)" (→ 409 by the caller),
 * FERR_USAGE (the rules forbid this reviewer; → 403), FERR_IO.
 */
enum ferr_code cd_review(struct server *s, int64_t id,
                         const struct store_token *tok, bool approve,
                         const char *comment, struct ferr *err) FERR_MUST_CHECK;
/**
 * A phase the deploy step of deployment @id reports, authenticated by
 * @token (the deploy token the job was given).  *@out gets the answer
 * ({} or {"release_tag": …} for the final phase).  Errors: FERR_USAGE
 * for a wrong token or a deployment not in progress (→ 401/403),
 * FERR_INVALID for a malformed event, FERR_IO.
 */
enum ferr_code cd_step_event(struct server *s, int64_t id, const char *token,
                             json_t *ev, json_t **out,
                             struct ferr *err) FERR_MUST_CHECK;
/**
 * Roll @env of @repo back to its previous version: a rollback deployment
 * queued ahead of every other, run as `ferry __deploy --rollback` once
 * it holds the environment's lock.  *@out_id is its deployment.
 */
enum ferr_code cd_rollback(struct server *s, const struct store_repo *repo,
                           const char *env, const struct store_token *tok,
                           const char *reason, int64_t *out_id,
                           struct ferr *err) FERR_MUST_CHECK;
/** Clear the lock an escalated rollback left on @env of @repo (the
 *  server's and the deploy home's). */
enum ferr_code cd_unlock(struct server *s, const struct store_repo *repo,
                         const char *env, struct ferr *err) FERR_MUST_CHECK;
/** The live side of @env of repo @repo_id: {"holder": deployment id or
 *  null, "queue": [ids waiting for the lock], "waiting": [ids waiting
 *  for approval]} (a new object). */
json_t *cd_env_live(struct server *s, int64_t repo_id, const char *env);

/* ---------- live logs (worker.c) ---------- */

/**
 * Answer @req with a Server-Sent Events stream following the log of run
 * @run_id (only job @job_id's lines when > 0): the lines after
 * @last_id (an event id "ATTEMPT.LINE", a line number, or NULL for all),
 * then live ones until the run completes.  @attempt 0 follows the
 * current attempt; an earlier one gets its lines and the end at once.
 */
void sub_start(struct server *s, struct httpd_req *req, int64_t run_id,
               int64_t job_id, int attempt, const char *last_id);

/** Tell run @run_id's followers it completed with @conclusion and end
 *  their streams (the worker's end, or a run finished unstarted). */
void sub_end_run(struct server *s, int64_t run_id, const char *conclusion);

/* ---------- api.c ---------- */

/** The HTTP handler (httpd_handler). */
void api_handle(void *ud, struct httpd_req *req);
/** Body limit per route (httpd_opts.body_limit). */
size_t api_body_limit(void *ud, const char *method, const char *path);
/** A run as the API's JSON (owned). */
json_t *api_run_json(const struct store_run *r);
/** RFC 3339 UTC time for @ms, or JSON null for 0. */
json_t *api_time(int64_t ms);

#endif
