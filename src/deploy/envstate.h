/* envstate: an environment's directory on this host (DEPLOY_HOME/ENV):
 * the lock that serialises deployments to it, state.json (the current
 * and previous versions with all it takes to start them again, and the
 * escalation lock) and fresh backup directories.  It knows nothing of
 * strategies or targets: version records are opaque JSON objects. */
#ifndef FERRY_DEPLOY_ENVSTATE_H
#define FERRY_DEPLOY_ENVSTATE_H

#include <jansson.h>
#include <stdbool.h>

#include "util/ferr.h"

/**
 * Whether @env is a usable environment name: 1 to 64 bytes of
 * A-Z a-z 0-9 . _ -, not starting with '.' or '-'.  Also used for
 * version labels (which become parts of instance names and paths).
 */
bool envstate_name_ok(const char *env);

/**
 * The deploy home: @home when not NULL or "", else $FERRY_DEPLOY_HOME,
 * else $XDG_STATE_HOME/ferry/deploy, else $HOME/.local/state/ferry/deploy.
 * Returns fresh heap memory (the caller frees).
 */
char *envstate_home_dup(const char *home);

/**
 * Make @home/@env (and @home) if needed and return its path in *@out
 * (the caller's, free()).  Errors: FERR_INVALID for a bad @env name,
 * FERR_IO with the path; *@out is NULL.
 */
enum ferr_code envstate_dir(const char *home, const char *env, char **out,
                            struct ferr *err) FERR_MUST_CHECK;

/**
 * Take the exclusive flock on @envdir/lock, waiting for it; when another
 * process holds it, print on stdout that this one waits, once.  *@out_fd
 * is the caller's (close it to release the lock; it is O_CLOEXEC, so
 * instances and hooks never inherit it).
 * Errors: FERR_IO; *@out_fd is -1.
 */
enum ferr_code envstate_lock(const char *envdir, const char *env,
                             int *out_fd, struct ferr *err) FERR_MUST_CHECK;

/**
 * Read @envdir/state.json into *@out (a new reference, the caller's).  A
 * missing file gives {"current": null, "previous": null, "locked": null}.
 * Errors: FERR_IO, FERR_PARSE for a file that is not a JSON object;
 * *@out is NULL.
 */
enum ferr_code envstate_load(const char *envdir, json_t **out,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Write @state (borrowed) to @envdir/state.json atomically (a temporary
 * file, fsync, rename).  Errors: FERR_IO; the old file is left as it was.
 */
enum ferr_code envstate_save(const char *envdir, json_t *state,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Make a fresh directory @envdir/backups/<UTC time>-@version and return
 * its path in *@out (the caller's, free()).  Backups beyond the newest
 * @keep are removed.  Errors: FERR_IO; *@out is NULL.
 */
enum ferr_code envstate_backup_dir(const char *envdir, const char *version,
                                   unsigned keep, char **out,
                                   struct ferr *err) FERR_MUST_CHECK;

/** The current UTC time as "2024-05-01T12:00:00Z" into @out (21 bytes
 *  or more); returns @out. */
const char *envstate_now(char *out, size_t n);

#endif
