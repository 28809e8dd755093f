/* cjob: the container executor's side in the engine — a job with
 * `container:`, `services:` or a runs-on label mapped to an image (-P,
 * --platform).  It turns those keys into a plan of Docker Engine API
 * calls, and runs every call that may block in a child process
 * (`ferry __cexec`, cli/cexec_cmd.c): set-up (images, a per-job network,
 * services waited for, the job container), each step (an exec in the
 * job container), tear-down.  The loop only spawns and reaps. */
#ifndef FERRY_ENGINE_CJOB_H
#define FERRY_ENGINE_CJOB_H

#include <jansson.h>
#include <stdbool.h>
#include <sys/types.h>

#include "engine/job.h"
#include "engine/output.h"
#include "pipeline/expr.h"
#include "pipeline/wf.h"
#include "util/ferr.h"

struct cjob;

/** What the job tells the executor (all borrowed, for the call only). */
struct cjob_spec {
    const struct wf_job *wj;
    const char *run_id;    /* labels and names */
    const char *job_key;   /* unique within the run, path-safe */
    const char *job_dir;   /* bind-mounted at the same path (workspace,
                              temp, runner files, event.json are in it) */
    const char *workspace; /* the job container's working directory */
};

/**
 * Decide whether the job of @spec needs containers and plan them: its
 * `container` (string or mapping: image, credentials, env, ports,
 * volumes, options), its `services` (the same keys; a service with an
 * empty image is left out, as on GitHub), or else the first runs-on
 * label mapped by cjob_platform_add.  ${{ }} in them is evaluated with
 * @e.  *@out is NULL when the job runs on the host.
 * Ownership: *@out is the caller's (cjob_free).
 * Errors: FERR_INVALID (a missing image, a wrong type, a bad port,
 * volume or option value), FERR_UNSUPPORTED (an option ferry does not
 * pass on, --network), FERR_LIMIT (too many services or option words),
 * expression errors; with the position in the workflow; *@out is NULL.
 * Context: loop thread; never blocks (no engine call).
 */
enum ferr_code cjob_new(const struct cjob_spec *spec, const struct expr_env *e,
                        struct cjob **out, struct ferr *err) FERR_MUST_CHECK;

/** Free @c; NULL is a no-op.  Never kills anything: tear down first. */
void cjob_free(struct cjob *c);

/** True when the job's steps run in a job container (false: only
 *  services, reached from the host on their mapped ports). */
bool cjob_has_container(const struct cjob *c);

/**
 * The plan as `ferry __cexec --setup` reads it (borrowed; valid while
 * @c lives): network, labels, and per service and job container the
 * image, credentials and the engine's create body.  For tests and
 * debugging.
 */
const json_t *cjob_plan(const struct cjob *c);

/**
 * Start the set-up child: images pulled when missing, the network, the
 * services (waited for until running, and healthy when they have a
 * health check), the job container.  Its lines go to @o as the job's.
 * @done(@ud, ok) is called once, from the loop, when it has exited; ok
 * is false when it failed or was cancelled (the reason is in the log).
 * When the child cannot start, @done is called before this returns.
 * @h and @o are borrowed and must outlive the set-up.
 * Context: loop thread.
 */
void cjob_setup(struct cjob *c, const struct job_host *h, struct output *o,
                void (*done)(void *ud, bool ok), void *ud);

/** Cancel a set-up in progress (SIGTERM to its process group); no-op
 *  otherwise.  The set-up stops at once, except while the engine is
 *  creating something for it: then right after the engine answered (at
 *  most 30 s), so that the tear-down finds it.  It is not in the job's
 *  process groups (an abort's SIGKILL would cut a create short).  Steps
 *  are cancelled by the job, like host steps. */
void cjob_cancel(struct cjob *c);

/**
 * Start the tear-down child when a set-up was started and no tear-down
 * ran yet: every container (with its anonymous volumes), network and
 * volume that carries this job's labels (managed, owner, run, job) is
 * force-removed, so a set-up cut short is cleaned too; when the set-up
 * was killed (not cancelled), it looks again for a few seconds, for a
 * create the engine finished after its caller died.  Returns true when
 * @done(@ud) will be called, once, from the loop; false when there is
 * nothing to do.  The tear-down is not in the job's process groups: a
 * hard abort does not stop it (if something kills it anyway, it is
 * started once more).
 * Context: loop thread.
 */
bool cjob_teardown(struct cjob *c, const struct job_host *h, struct output *o,
                   void (*done)(void *ud), void *ud);

/**
 * Spawn one step in the job container: `ferry __cexec --exec` runs
 * @argv there with @envp (the step's whole environment, sent on the
 * child's stdin, never in its argv) in @cwd, as the leader of its own
 * process group inside the container; its output is the step's and its
 * exit status the step's.  SIGTERM to the child's group stops the
 * step's processes in the container (TERM, then KILL after a grace)
 * and it exits 143.  Same contract as proc_spawn otherwise.
 * Errors: FERR_IO (no memfd), proc_spawn's; nothing is left running.
 */
enum ferr_code cjob_spawn_step(struct cjob *c, char *const *argv,
                               char *const *envp, const char *cwd,
                               pid_t *out_pid, int *out_fd,
                               struct ferr *err) FERR_MUST_CHECK;

/** The job container's PATH (from its image), or NULL before set-up or
 *  when unknown; borrowed. */
const char *cjob_path(const struct cjob *c);

/**
 * Fill the `job` context's "container" ({id, network}) and "services"
 * ({<id>: {id, network, ports: {"<container port>": "<host port>"}}})
 * in @jobc from what the set-up reported.
 */
void cjob_job_context(const struct cjob *c, json_t *jobc);

/* ---------- process-wide configuration ---------- */

/**
 * Map runs-on label @arg's "LABEL=IMAGE" (ferry run -P, ferry serve
 * --platform; repeatable, a later one for the same label wins):
 * a job whose runs-on names LABEL (case-insensitively) runs as if it
 * had `container: IMAGE`.  IMAGE "-self-hosted" keeps the label on the
 * host.  Errors: FERR_USAGE for a missing '=', label or image.
 * Context: main thread, before any run starts.
 */
enum ferr_code cjob_platform_add(const char *arg,
                                 struct ferr *err) FERR_MUST_CHECK;

/** The label -> image map (borrowed; an object, possibly empty). */
const json_t *cjob_platforms(void);

/** Replace the map with a copy of @map's string members (a worker
 *  takes the server's from its spec); NULL empties it. */
void cjob_platforms_set(const json_t *map);

/**
 * When a container engine's socket exists (DOCKER_HOST's unix path, or
 * /var/run/docker.sock), start `ferry __cexec --reap` in the
 * background: what killed ferry processes left behind (containers and
 * networks whose owner process is gone) is removed.  Never waits; the
 * caller's SIGCHLD handling reaps the child.  Silent when there is no
 * engine.  Context: the main thread (at start, or from the server's loop
 * when a worker died of a signal: it only spawns).
 */
void cjob_reap_orphans(void);

#endif
