/* target: where an application runs.  The process target: ferry
 * supervises N instances of a command, each under its own small
 * supervisor process (`ferry __instance`) that outlives the deploy step
 * and the server, gives the command a PORT, restarts it when it crashes
 * and stops it with SIGTERM then SIGKILL.  Releases are copies of the
 * deployed directory.  The script target runs the user's commands.
 * State lives under the environment's directory (DEPLOY_HOME/ENV). */
#ifndef FERRY_DEPLOY_TARGET_H
#define FERRY_DEPLOY_TARGET_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "util/ferr.h"

/** A running instance (as recorded in ENVDIR/instances/NAME.json). */
struct target_instance {
    char *name;      /* "production-v7-2": unique in the environment */
    char *version;   /* the version label it runs */
    char *release;   /* the release directory it runs in */
    unsigned port;   /* its PORT; it listens on 127.0.0.1:port */
    pid_t pid;       /* the supervisor's pid */
    unsigned restarts; /* crashes restarted so far */
};

/** How to run one version (borrowed strings). */
struct target_process {
    const char *command;   /* run by /bin/sh -c in the release directory */
    const char *release;   /* from target_install_release */
    const char *version;
    json_t *env;           /* extra environment {NAME: value}; may be NULL */
    unsigned grace_ms;     /* SIGTERM → SIGKILL; default 10000 */
};

/** True when @s may name an instance or a version: 1 to 128 of
 *  [A-Za-z0-9_.+-], not starting with '.' (names end up in file names). */
bool target_plain_name(const char *s);

/**
 * A free TCP port on 127.0.0.1 in *@out: bind port 0 and read what the
 * kernel chose.  Racy by nature: another program may take it before the
 * instance (or the engine, for a container) binds it.
 * Errors: FERR_IO; *@out is 0.
 */
enum ferr_code target_free_port(unsigned *out,
                                struct ferr *err) FERR_MUST_CHECK;

/**
 * Copy @src (a directory; its .git is left out) to
 * @envdir/releases/@version-N (N making it unique) and return that path
 * in *@out (the caller's, free()).  Releases beyond the newest @keep
 * that no instance uses are removed.
 * Errors: FERR_IO with the path; *@out is NULL.
 */
enum ferr_code target_install_release(const char *envdir, const char *src,
                                      const char *version, unsigned keep,
                                      char **out,
                                      struct ferr *err) FERR_MUST_CHECK;

/**
 * Start instance @name of @p: pick a free loopback port, start the
 * supervisor (re-executing @self_exe as `__instance`), in a new session,
 * without FERRY_ATTEMPT in its environment (so run cleanup and crash
 * recovery never kill it), and return when its state file exists.  The
 * command gets PORT, FERRY_INSTANCE and FERRY_VERSION; its output is
 * appended to @envdir/logs/@name.log.  *@out is filled (release with
 * target_instance_release).  The port is found by binding 127.0.0.1:0
 * and closing the socket: another program may take it before the
 * command binds it (a small race; the health check then fails).  It
 * returns once the command has run ~300 ms.  The supervisor's own
 * environment has FERRY_INSTANCE=@name and none of the job's own
 * variables (FERRY_ATTEMPT, FERRY_TRACKING_ID, the deploy token and
 * FERRY_SERVER, FERRY_DEPLOYMENT, GITHUB_*, RUNNER_*, ACTIONS_*,
 * INPUT_*); the command's has that plus PORT, FERRY_INSTANCE,
 * FERRY_VERSION and @p->env.  Starting a name that is running is
 * FERR_INVALID.
 * Errors: FERR_EXEC when the supervisor cannot start or the command
 * exits at once (with the last lines of its log), FERR_IO.
 */
enum ferr_code target_start(const char *envdir, const char *self_exe,
                            const struct target_process *p, const char *name,
                            struct target_instance *out,
                            struct ferr *err) FERR_MUST_CHECK;

/**
 * Stop instance @name: SIGTERM to its supervisor, which sends SIGTERM to
 * the command's process group, SIGKILL after the grace period, removes
 * the state file and exits; wait for that (at most grace + 5 s).  A
 * stale state file (its pid gone or reused by another program) is just
 * removed.  Stopping an instance that does not exist is FERR_OK.
 * Errors: FERR_IO when it is still there after the wait.
 */
enum ferr_code target_stop(const char *envdir, const char *name,
                           struct ferr *err) FERR_MUST_CHECK;

/**
 * Every recorded instance, stale ones removed first; *@out is the
 * caller's (target_instances_free).
 */
enum ferr_code target_list(const char *envdir, struct target_instance **out,
                           size_t *out_n, struct ferr *err) FERR_MUST_CHECK;

void target_instance_release(struct target_instance *i);
void target_instances_free(struct target_instance *v, size_t n);

/**
 * The supervisor's body (`ferry __instance ENVDIR NAME`, started by
 * target_start with the command's spec as JSON on stdin).  Returns the
 * process exit status.  Context: its own process only.
 */
int target_supervise_main(int argc, char **argv);

/**
 * The script target and the hooks (backup, restore, post-deploy): run
 * @command with /bin/sh -c in @dir with @env added ({NAME: value}, may
 * be NULL), its output copied line by line to stdout (the step's log),
 * killed (its process group) after @timeout_ms (0: no limit).
 * Errors: FERR_EXEC "'<first line>' exited with status 3" / "… was
 * killed after 600 s", FERR_IO.
 */
enum ferr_code target_run_script(const char *command, const char *dir,
                                 json_t *env, unsigned timeout_ms,
                                 struct ferr *err) FERR_MUST_CHECK;

#endif
