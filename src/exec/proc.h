/* proc: the only place that forks.  Every child is the leader of a new
 * process group with stdout+stderr merged into one non-blocking pipe;
 * exec failure is reported through a close-on-exec pipe. */
#ifndef FERRY_EXEC_PROC_H
#define FERRY_EXEC_PROC_H

#include <stdbool.h>
#include <sys/types.h>

#include "util/ferr.h"

struct proc_spec {
    const char *path;        /* executable; searched in PATH of envp if no '/' */
    char *const *argv;       /* NULL-terminated, borrowed */
    char *const *envp;       /* NULL-terminated, borrowed; NULL = environ */
    const char *cwd;         /* NULL = inherit */
    int stdin_fd;            /* -1 = /dev/null */
};

/**
 * Start @spec as the leader of a new process group (setpgid in child and
 * parent), with the signal mask and dispositions reset to defaults.
 * Ownership: @spec is borrowed; *@out_fd (the read end of the merged
 * stdout+stderr pipe, O_NONBLOCK|O_CLOEXEC) is the caller's.
 * Errors: FERR_EXEC with the exec errno in err->msg ("'bash': no such
 * file or directory"); no child exists; *@out_pid is -1, *@out_fd -1.
 */
enum ferr_code proc_spawn(const struct proc_spec *spec, pid_t *out_pid,
                          int *out_fd, struct ferr *err) FERR_MUST_CHECK;

/** kill(-pgid, sig); returns 0 or -1 with errno (ESRCH = group gone). */
int proc_signal_group(pid_t pgid, int sig);

/** Does any process of group @pgid still exist? */
bool proc_group_alive(pid_t pgid);

/**
 * Make this process a child subreaper (PR_SET_CHILD_SUBREAPER) so that
 * orphaned grandchildren are re-parented to it and can be reaped/killed.
 */
void proc_become_subreaper(void);

/**
 * Kill every process that is a descendant of this process (walking
 * /proc), with @sig.  Used at job end so nothing is left behind even when
 * a step escaped its process group with setsid().  Returns how many were
 * signalled.
 */
int proc_kill_descendants(int sig);

#endif
