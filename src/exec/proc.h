/* proc: the only place that starts processes.  Every child is the
 * leader of a new process group with stdout+stderr merged into one
 * non-blocking pipe; exec failure is reported through a close-on-exec
 * pipe. */
#ifndef FERRY_EXEC_PROC_H
#define FERRY_EXEC_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/ferr.h"

struct proc_spec {
    const char *path;  /* executable; looked up in envp's PATH if no '/' */
    char *const *argv; /* NULL-terminated, borrowed */
    char *const *envp; /* NULL-terminated, borrowed; NULL = environ */
    const char *cwd;   /* NULL = inherit */
    int stdin_fd;      /* -1 = /dev/null; borrowed, stays open */
};

/**
 * Start @spec as the leader of a new process group (setpgid in child and
 * parent), with every signal disposition reset to default and the signal
 * mask restored to loop_original_sigmask() (empty if loop_block_signals
 * was never called).  A @spec->path without '/' is looked up, before
 * fork, in the PATH of @spec->envp (of environ when envp is NULL;
 * "/bin:/usr/bin" when there is none); relative PATH entries are taken
 * relative to @spec->cwd.  Only fds 0-2 reach the child: every other fd
 * is marked close-on-exec in the child.  Waits only until the exec
 * succeeded or failed, never for the child to end.
 * Ownership: @spec is borrowed; *@out_fd (the read end of the merged
 * stdout+stderr pipe, O_NONBLOCK|O_CLOEXEC) is the caller's, and so is
 * reaping *@out_pid.
 * Errors: FERR_INVALID (no path or empty argv); FERR_EXEC when the
 * command is not in PATH ("'nope': command not found"), when fork fails,
 * or when chdir or execve fail in the child ("cannot run '/bin/nope': no
 * such file or directory" — the child has then been reaped); FERR_IO
 * when pipes or /dev/null cannot be opened.  On error no child exists,
 * no fd is left open, *@out_pid is -1 and *@out_fd -1.
 * Context: loop thread; blocks only for the fork+exec itself.
 */
enum ferr_code proc_spawn(const struct proc_spec *spec, pid_t *out_pid,
                          int *out_fd, struct ferr *err) FERR_MUST_CHECK;

/**
 * kill(-pgid, sig); returns 0 or -1 with errno (ESRCH = group gone).
 * A @pgid <= 1 is refused with EINVAL: kill(0) or kill(-1) would signal
 * ourselves or every process.
 */
int proc_signal_group(pid_t pgid, int sig);

/**
 * Does any process of group @pgid still exist (unreaped zombies count,
 * as kill(-pgid, 0) sees them)?  False for @pgid <= 1.
 */
bool proc_group_alive(pid_t pgid);

/**
 * Make this process a child subreaper (PR_SET_CHILD_SUBREAPER) so that
 * orphaned grandchildren are re-parented to it and can be reaped/killed.
 * A failure is logged, not returned: ferry still works, but escaped
 * grandchildren then go to init.
 */
void proc_become_subreaper(void);

/** The environment entry prefix of deployed applications' supervisors
 *  (`ferry __instance`): they outlive the run that started them, so the
 *  descendant walks below neither signal them nor wait for them — when
 *  the process is also this binary running `__instance` (the variable
 *  alone does not let a step escape). */
#define PROC_KEEP_ENV "FERRY_INSTANCE="

/**
 * Kill every process that is a descendant of this process (walking
 * /proc), with @sig.  Used at job end so nothing is left behind even when
 * a step escaped its process group with setsid().  Returns how many were
 * signalled (zombies are skipped).  A snapshot: processes forked during
 * the walk may be missed, so callers repeat until it returns 0.
 * Processes whose environment has PROC_KEEP_ENV, and what is below them,
 * are left alone.
 */
int proc_kill_descendants(int sig);

/**
 * Reap every child of this process, blocking until each has exited,
 * except the PROC_KEEP_ENV ones (which a subreaper adopts when the step
 * that started them exits).  Repeats until no such child is left.
 */
void proc_wait_children(void);

/**
 * Like proc_kill_descendants, but only descendants whose environment
 * holds the exact entry @tag ("NAME=value") — how a job finds processes
 * that left its process groups (setsid) but inherited its tracking id.
 * Only the first 64 KiB of each environment is read.  Returns how many
 * were signalled; call again until it returns 0.
 */
int proc_kill_tagged(const char *tag, int sig);

/**
 * Like proc_kill_tagged, but over every process of the system, not only
 * our descendants: how a restarted server finds what is left of an
 * attempt whose server was killed (those processes were re-parented to
 * init).  Never signals itself.  Returns how many were signalled; call
 * again until it returns 0.
 */
int proc_kill_tagged_anywhere(const char *tag, int sig);

#endif
