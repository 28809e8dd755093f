/* proc: start one command (clone with vfork semantics, then exec) as a
 * new process-group leader, with its output on one pipe and exec errors
 * on another; signal and find what is left of a job afterwards.  It
 * does not reap children (the loop's SIGCHLD handler does), read their
 * output, or decide about grace periods. */
#include "exec/proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/span.h"
#include "util/xalloc.h"

#ifndef CLOSE_RANGE_CLOEXEC
#define CLOSE_RANGE_CLOEXEC (1U << 2)
#endif

#define DEFAULT_PATH "/bin:/usr/bin" /* glibc execvp's choice */

/* What the child did last before failing, sent with errno on the error
 * pipe; anything else reaching the parent means execve succeeded. */
enum stage { STAGE_FDS = 1, STAGE_CWD, STAGE_EXEC };

struct report {
    int stage; /* enum stage */
    int err;   /* errno */
};

/* Everything the child needs, computed before it starts. */
struct plan {
    const char *path;     /* resolved executable */
    char *const *argv;
    char *const *envp;
    const char *cwd;      /* NULL = inherit */
    int in_fd;            /* becomes fd 0 */
    int out_fd;           /* write end, becomes fds 1 and 2 */
    int err_fd;           /* write end of the error pipe (O_CLOEXEC) */
    sigset_t mask;        /* the child's signal mask */
    struct sigaction dfl; /* SIG_DFL, for every signal */
};

static const char *errtext(int e, char *out, size_t n)
{
    const char *s = strerror_r(e, out, n);

    if (s != out)
        snprintf(out, n, "%s", s);
    if (out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (char)(out[0] - 'A' + 'a');
    return out;
}

static void close_fd(int *fd)
{
    if (*fd >= 0)
        close(*fd);
    *fd = -1;
}

static const char *path_var(char *const *envp)
{
    size_t i;

    if (!envp)
        return getenv("PATH");
    for (i = 0; envp[i]; i++)
        if (strncmp(envp[i], "PATH=", 5) == 0)
            return envp[i] + 5;
    return NULL;
}

/* Look for @name in @dir: true when the search is over (*out is set). */
static bool try_dir(const struct proc_spec *spec, struct span dir,
                    const char *name, struct buf *cand, char **out,
                    bool *denied)
{
    struct stat st;

    buf_reset(cand);
    if (dir.len == 0)
        dir = SPAN_LIT(".");
    if (dir.p[0] != '/' && spec->cwd && buf_addf(cand, "%s/", spec->cwd))
        return false;
    if (buf_addf(cand, "%.*s/%s", SPAN_ARGS(dir), name))
        return false; /* longer than PATH_MAX: cannot exist */
    if (stat(buf_cstr(cand), &st) < 0 || !S_ISREG(st.st_mode))
        return false;
    if (faccessat(AT_FDCWD, buf_cstr(cand), X_OK, AT_EACCESS) < 0) {
        *denied = true; /* like execvp: keep looking, report it at the end */
        return false;
    }
    *out = xstrdup(buf_cstr(cand));
    return true;
}

/* execvp's search, done in the parent so the child only calls execve. */
static enum ferr_code resolve(const struct proc_spec *spec, char **out,
                              struct ferr *err)
{
    const char *name = spec->path;
    const char *dirs = path_var(spec->envp);
    bool denied = false;
    struct span rest;
    struct span dir;
    struct buf cand;
    char eb[128];
    bool more;

    *out = NULL;
    if (strchr(name, '/')) {
        *out = xstrdup(name);
        return FERR_OK;
    }
    if (!dirs)
        dirs = DEFAULT_PATH;
    rest = span_cstr(dirs);
    buf_init(&cand, PATH_MAX);
    while (name[0]) {
        more = span_cut(rest, ':', &dir, &rest);
        if (try_dir(spec, dir, name, &cand, out, &denied) || !more)
            break;
    }
    buf_release(&cand);
    if (*out)
        return FERR_OK;
    if (denied)
        return ferr_set(err, FERR_EXEC, NULL, "cannot run '%s': %s", name,
                        errtext(EACCES, eb, sizeof(eb)));
    return ferr_set(err, FERR_EXEC, NULL, "'%s': command not found", name);
}

/* Move @fd to a number above 2 so that dup2 onto 0-2 cannot clobber it. */
/* The child runs on a stack in our memory: ASan's stack poisoning of its
 * frames would stay behind in our shadow memory (the child never returns
 * to unpoison it) and trip the next child, so its functions are not
 * instrumented. */
#define CHILD_CODE __attribute__((no_sanitize("address")))

CHILD_CODE static int lift(int fd)
{
    if (fd > 2)
        return fd;
    return fcntl(fd, F_DUPFD_CLOEXEC, 3);
}

CHILD_CODE static _Noreturn void child_fail(int err_fd, enum stage stage)
{
    struct report r = { (int)stage, errno };
    ssize_t n;

    do
        n = write(err_fd, &r, sizeof(r));
    while (n < 0 && errno == EINTR);
    _exit(127);
}

/* Between clone and exec: async-signal-safe calls only, no malloc, and
 * no writes outside this stack (the child shares our memory). */
CHILD_CODE static _Noreturn void child(const struct plan *p)
{
    int err_fd;
    int in_fd;
    int out_fd;
    int sig;

    setpgid(0, 0);
    /* ignored signals stay ignored across execve; handled ones do not,
     * but reset those too so none can run in the child before exec */
    for (sig = 1; sig < NSIG; sig++) {
        if (sig == SIGKILL || sig == SIGSTOP)
            continue;
        if (sigaction(sig, &p->dfl, NULL) != 0) {
            /* glibc refuses its own signals (32, 33), yet a parent such
             * as make can leave them ignored; the kernel takes an
             * all-zero sigaction (SIG_DFL, no flags, empty mask) in any
             * architecture's layout */
            unsigned long ksa[4] = { 0, 0, 0, 0 };

            (void)syscall(SYS_rt_sigaction, sig, ksa, NULL,
                          sizeof(unsigned long));
        }
    }
    sigprocmask(SIG_SETMASK, &p->mask, NULL);
    err_fd = lift(p->err_fd);
    if (err_fd < 0)
        child_fail(p->err_fd, STAGE_FDS); /* nothing dup2'ed over it yet */
    in_fd = p->in_fd == 0 ? 0 : lift(p->in_fd);
    out_fd = lift(p->out_fd);
    if (in_fd < 0 || out_fd < 0)
        child_fail(err_fd, STAGE_FDS);
    if (in_fd == 0) {
        if (fcntl(0, F_SETFD, 0) < 0)
            child_fail(err_fd, STAGE_FDS);
    } else if (dup2(in_fd, 0) < 0) {
        child_fail(err_fd, STAGE_FDS);
    }
    if (dup2(out_fd, 1) < 0 || dup2(out_fd, 2) < 0)
        child_fail(err_fd, STAGE_FDS);
    /* fds leaked without O_CLOEXEC by libraries stop at execve too;
     * ENOSYS on kernels before 5.11 is fine, ours are all O_CLOEXEC */
    (void)syscall(SYS_close_range, 3u, ~0u, CLOSE_RANGE_CLOEXEC);
    if (p->cwd && chdir(p->cwd) < 0)
        child_fail(err_fd, STAGE_CWD);
    execve(p->path, p->argv, p->envp);
    child_fail(err_fd, STAGE_EXEC);
}

CHILD_CODE static int child_entry(void *arg)
{
    child(arg);
}

/* Read the error pipe to EOF: true and *r filled if the child failed. */
static bool child_failed(int fd, struct report *r)
{
    size_t got = 0;

    while (got < sizeof(*r)) {
        ssize_t n = read(fd, (char *)r + got, sizeof(*r) - got);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    return got == sizeof(*r);
}

static void reap(pid_t pid)
{
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
}

static enum ferr_code report_failure(const struct plan *p,
                                     const struct report *r,
                                     struct ferr *err)
{
    char eb[128];

    errtext(r->err, eb, sizeof(eb));
    if (r->stage == STAGE_CWD)
        return ferr_set(err, FERR_EXEC, NULL,
                        "cannot enter '%s' to run '%s': %s", p->cwd,
                        p->path, eb);
    if (r->stage == STAGE_FDS)
        return ferr_set(err, FERR_EXEC, NULL,
                        "cannot set up fds to run '%s': %s", p->path, eb);
    return ferr_set(err, FERR_EXEC, NULL, "cannot run '%s': %s", p->path,
                    eb);
}

enum ferr_code proc_spawn(const struct proc_spec *spec, pid_t *out_pid,
                          int *out_fd, struct ferr *err)
{
    const sigset_t *orig = loop_original_sigmask();
    int outp[2] = { -1, -1 };
    int errp[2] = { -1, -1 };
    int devnull = -1;
    char *path = NULL;
    struct report rep;
    struct plan p;
    enum ferr_code rc;
    char eb[128];
    pid_t pid;

    *out_pid = -1;
    *out_fd = -1;
    if (!spec->path || !spec->argv || !spec->argv[0])
        return ferr_set(err, FERR_INVALID, NULL,
                        "no command to run (empty path or argv)");
    rc = resolve(spec, &path, err);
    if (rc)
        return rc;

    memset(&p, 0, sizeof(p));
    p.path = path;
    p.argv = spec->argv;
    p.envp = spec->envp ? spec->envp : environ;
    p.cwd = spec->cwd;
    if (orig)
        p.mask = *orig;
    else
        sigemptyset(&p.mask);
    p.dfl.sa_handler = SIG_DFL;
    sigemptyset(&p.dfl.sa_mask);
    p.in_fd = spec->stdin_fd;
    if (p.in_fd < 0) {
        devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (devnull < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot open '/dev/null': %s",
                          errtext(errno, eb, sizeof(eb)));
            goto done;
        }
        p.in_fd = devnull;
    }
    if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot make a pipe for '%s': %s",
                      path, errtext(errno, eb, sizeof(eb)));
        goto done;
    }
    /* only our end: a non-blocking stdout would break the child */
    if (fcntl(outp[0], F_SETFL, O_NONBLOCK) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot set up a pipe for '%s': %s",
                      path, errtext(errno, eb, sizeof(eb)));
        goto done;
    }
    p.out_fd = outp[1];
    p.err_fd = errp[1];

    /* vfork semantics, as glibc's posix_spawn: the child borrows our
     * memory until execve instead of copying our page tables, which made
     * every step cost a fork of the whole daemon.  It runs on its own
     * stack, touches only that stack and syscalls, and starts with every
     * signal blocked so that no handler of ours can run in it. */
    {
        static _Alignas(16) char stack[64 * 1024];
        sigset_t all;
        sigset_t old;

        sigfillset(&all);
        sigprocmask(SIG_SETMASK, &all, &old);
        pid = clone(child_entry, stack + sizeof(stack),
                    CLONE_VM | CLONE_VFORK | SIGCHLD, &p);
        sigprocmask(SIG_SETMASK, &old, NULL);
    }
    if (pid < 0) {
        rc = ferr_set(err, FERR_EXEC, NULL, "cannot start '%s': %s", path,
                      errtext(errno, eb, sizeof(eb)));
        goto done;
    }

    /* EACCES: the child already exec'd; ESRCH: already gone.  Either
     * way its own setpgid(0, 0) has happened. */
    (void)setpgid(pid, pid);
    close_fd(&outp[1]);
    close_fd(&errp[1]);
    close_fd(&devnull);
    if (child_failed(errp[0], &rep)) {
        reap(pid);
        rc = report_failure(&p, &rep, err);
        goto done;
    }
    *out_pid = pid;
    *out_fd = outp[0];
    outp[0] = -1;
    rc = FERR_OK;
done:
    close_fd(&outp[0]);
    close_fd(&outp[1]);
    close_fd(&errp[0]);
    close_fd(&errp[1]);
    close_fd(&devnull);
    free(path);
    return rc;
}

int proc_signal_group(pid_t pgid, int sig)
{
    if (pgid <= 1) {
        errno = EINVAL;
        return -1;
    }
    return kill(-pgid, sig);
}

bool proc_group_alive(pid_t pgid)
{
    if (pgid <= 1)
        return false;
    return kill(-pgid, 0) == 0 || errno == EPERM;
}

void proc_become_subreaper(void)
{
    char eb[128];

    if (prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L) < 0)
        log_warn("cannot become child subreaper err='%s'",
                 errtext(errno, eb, sizeof(eb)));
}

struct pinfo {
    pid_t pid;
    pid_t ppid;
    bool zombie;
};

/* Parse "pid (comm) S ppid ..." of /proc/<pid>/stat; comm may hold
 * spaces and parentheses, so look for the last ')'. */
static bool read_stat(const char *pidname, struct pinfo *pi)
{
    char path[64];
    char text[512];
    const char *close_paren;
    const char *end;
    struct span tok;
    uint64_t v;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%s/stat", pidname);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    do
        n = read(fd, text, sizeof(text) - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return false;
    text[n] = '\0';
    close_paren = strrchr(text, ')');
    if (!close_paren || close_paren[1] != ' ' || !close_paren[2] ||
        close_paren[3] != ' ')
        return false;
    pi->zombie = close_paren[2] == 'Z' || close_paren[2] == 'X';
    tok.p = close_paren + 4;
    end = strchr(tok.p, ' ');
    if (!end)
        return false;
    tok.len = (size_t)(end - tok.p);
    if (span_to_u64(tok, &v) || v > INT32_MAX)
        return false;
    pi->ppid = (pid_t)v;
    return true;
}

/* Does /proc/PID/environ hold the entry @s ("NAME=value"), or with
 * @prefix an entry starting with @s ("NAME=")? */
static bool env_has(pid_t pid, const char *s, bool prefix)
{
    char path[64];
    char buf[65536];
    size_t len = strlen(s);
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    if (n <= 0)
        return false;
    buf[n] = '\0';
    for (ssize_t i = 0; i < n;) {
        size_t e = strlen(buf + i);

        if ((prefix ? e >= len : e == len) && memcmp(buf + i, s, len) == 0)
            return true;
        i += (ssize_t)e + 1;
    }
    return false;
}

static bool has_env_entry(pid_t pid, const char *tag)
{
    return env_has(pid, tag, false);
}

/* A deployed application's supervisor: FERRY_INSTANCE in its
 * environment AND this very binary running `__instance` — the variable
 * alone would let any step escape the run's cleanup. */
static bool is_instance(pid_t pid)
{
    char path[64];
    char cmd[256];
    struct stat a;
    struct stat b;
    ssize_t n;
    int fd;
    size_t first;

    if (!env_has(pid, PROC_KEEP_ENV, true))
        return false;
    snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
    if (stat(path, &a) != 0 || stat("/proc/self/exe", &b) != 0 ||
        a.st_dev != b.st_dev || a.st_ino != b.st_ino)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    n = read(fd, cmd, sizeof(cmd) - 1);
    close(fd);
    if (n <= 0)
        return false;
    cmd[n] = '\0';
    first = strlen(cmd) + 1;
    return first < (size_t)n && strcmp(cmd + first, "__instance") == 0;
}

static int kill_descendants(int sig, const char *tag);

void proc_wait_children(void)
{
    pid_t self = getpid();
    bool waited = true;

    while (waited) {
        struct dirent *de;
        DIR *d = opendir("/proc");

        waited = false;
        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (!d)
            return;
        while ((de = readdir(d))) {
            struct pinfo pi;
            uint64_t v;

            if (span_to_u64(span_cstr(de->d_name), &v) || v == 0 ||
                v > INT32_MAX)
                continue;
            pi.pid = (pid_t)v;
            if (!read_stat(de->d_name, &pi) || pi.ppid != self ||
                (!pi.zombie && is_instance(pi.pid)))
                continue;
            while (waitpid(pi.pid, NULL, 0) < 0 && errno == EINTR)
                ;
            waited = true;
        }
        closedir(d);
    }
}

int proc_kill_descendants(int sig)
{
    return kill_descendants(sig, NULL);
}

int proc_kill_tagged(const char *tag, int sig)
{
    return kill_descendants(sig, tag);
}

int proc_kill_tagged_anywhere(const char *tag, int sig)
{
    struct dirent *de;
    pid_t self = getpid();
    int count = 0;
    DIR *d = opendir("/proc");

    if (!d)
        return 0;
    while ((de = readdir(d))) {
        struct pinfo pi;
        uint64_t v;

        if (span_to_u64(span_cstr(de->d_name), &v) || v == 0 ||
            v > INT32_MAX || (pid_t)v == self)
            continue;
        pi.pid = (pid_t)v;
        if (!read_stat(de->d_name, &pi) || pi.zombie)
            continue;
        if (has_env_entry(pi.pid, tag) && kill(pi.pid, sig) == 0)
            count++;
    }
    closedir(d);
    return count;
}

static int kill_descendants(int sig, const char *tag)
{
    struct pinfo *ps = NULL;
    size_t n = 0;
    size_t cap = 0;
    pid_t *queue = NULL;
    size_t qlen = 0;
    size_t qhead = 0;
    struct dirent *de;
    pid_t self = getpid();
    int count = 0;
    DIR *d;
    size_t i;

    d = opendir("/proc");
    if (!d)
        return 0;
    while ((de = readdir(d))) {
        struct pinfo pi;
        uint64_t v;

        if (span_to_u64(span_cstr(de->d_name), &v) || v == 0 ||
            v > INT32_MAX)
            continue;
        pi.pid = (pid_t)v;
        if (!read_stat(de->d_name, &pi))
            continue; /* exited since readdir */
        if (n == cap) {
            cap = cap ? cap * 2 : 256;
            ps = xrealloc(ps, cap * sizeof(*ps));
        }
        ps[n++] = pi;
    }
    closedir(d);

    /* breadth-first from ourselves; each pid is queued at most once
     * because every process has exactly one parent */
    queue = xmalloc((n + 1) * sizeof(*queue));
    queue[qlen++] = self;
    while (qhead < qlen) {
        pid_t parent = queue[qhead++];

        for (i = 0; i < n && qlen <= n; i++) {
            if (ps[i].ppid != parent || ps[i].pid == self)
                continue;
            if (!ps[i].zombie && is_instance(ps[i].pid))
                continue; /* a deployed app's supervisor: not ours */
            queue[qlen++] = ps[i].pid;
            if (!ps[i].zombie && (!tag || has_env_entry(ps[i].pid, tag)) &&
                kill(ps[i].pid, sig) == 0)
                count++;
        }
    }
    free(queue);
    free(ps);
    return count;
}
