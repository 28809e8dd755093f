/* supervise: the instance supervisor of the process target (`ferry
 * __instance ENVDIR NAME`) and the state file it keeps, which target.c
 * reads.  A supervisor detaches into its own session, runs one command
 * under /bin/sh -c in its own process group, restarts it with backoff
 * when it exits, and stops it on SIGTERM. */
#ifndef FERRY_DEPLOY_SUPERVISE_H
#define FERRY_DEPLOY_SUPERVISE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "util/ferr.h"

/** ENVDIR/instances/NAME.json, as the supervisor writes it. */
struct supervise_state {
    char *name;          /* the instance name */
    char *version;
    char *release;       /* directory the command runs in */
    unsigned port;       /* its PORT */
    pid_t pid;           /* the supervisor */
    uint64_t start_time; /* the supervisor's start, clock ticks after boot
                            (/proc/PID/stat field 22): tells a reused pid */
    pid_t child_pid;     /* the command's shell (its pgid); 0 while it is
                            being restarted */
    unsigned restarts;   /* unexpected exits restarted so far */
    unsigned grace_ms;   /* SIGTERM -> SIGKILL for the command */
};

/**
 * The supervisor's body: argv = { "__instance", ENVDIR, NAME }, the spec
 * as JSON on stdin ({"command", "release", "version", "port", "grace_ms",
 * "env": {NAME: value}}).  Until the command has run ~300 ms its stdout
 * is the caller's pipe, on which it writes one final line: "ok" or why it
 * failed; from then on stdout and stderr are ENVDIR/logs/NAME.log.
 * Returns the exit status (0 after a SIGTERM stop).
 * Context: its own process only (it forks to leave the caller's process
 * group, blocks signals, and exits through the return value).
 */
int supervise_main(int argc, char **argv);

/**
 * Read a state file.  *@out's strings are the caller's
 * (supervise_state_release).
 * Errors: FERR_NOTFOUND (no file), FERR_IO, FERR_PARSE/FERR_LIMIT for a
 * file that is not a state file; *@out is then zeroed.
 */
enum ferr_code supervise_read_state(const char *path,
                                    struct supervise_state *out,
                                    struct ferr *err) FERR_MUST_CHECK;

/** Free @s's strings; @s can be read into again. */
void supervise_state_release(struct supervise_state *s);

/**
 * The start time of process @pid (/proc/PID/stat field 22, clock ticks
 * after boot); false when it does not exist, is a zombie, or its stat
 * cannot be read.
 */
bool supervise_start_time(pid_t pid, uint64_t *out);

/** Is the supervisor of @s still running (same pid and start time)? */
bool supervise_alive(const struct supervise_state *s);

#endif
