/* supervise: one instance's supervisor (`ferry __instance`).  It leaves
 * the caller's session, keeps ENVDIR/instances/NAME.json current, runs
 * the command (through proc_spawn) with PORT set, copies its output to
 * ENVDIR/logs/NAME.log, restarts it with backoff and stops it on
 * SIGTERM — all from one event loop (signalfd, timerfd), no polling.
 * It does not pick ports, copy releases or health-check the command:
 * the command running is all it knows. */
#include "deploy/supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/proc.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/loop.h"
#include "util/span.h"
#include "util/xalloc.h"

#define READY_MS 300u        /* the command must live this long at start */
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u
#define STABLE_MS 10000u     /* uptime that resets the backoff */

extern char **environ;

struct sup {
    struct loop *loop;
    char *state_path;
    const char *name;        /* argv: lives as long as the process */
    char *command;
    char *release;
    char *version;
    unsigned port;
    unsigned grace_ms;
    char **envp;             /* the command's environment */
    int log_fd;              /* ENVDIR/logs/NAME.log, O_APPEND */
    bool reported;           /* the start was reported on fd 1 */
    pid_t child;             /* the command's shell = pgid; 0 = none */
    pid_t pgid;              /* the last child's process group */
    bool finished;           /* finish() ran: the loop is stopping */
    int out_fd;              /* its output pipe; -1 = none */
    uint64_t child_started;  /* loop_now_ms() at spawn */
    unsigned restarts;
    unsigned backoff_ms;
    bool stopping;
    uint64_t start_time;     /* ours, /proc/self/stat field 22 */
    int status;              /* our exit status */
    struct loop_timer *ready_t;
    struct loop_timer *restart_t;
    struct loop_timer *grace_t;
};

/* ---- state file ------------------------------------------------------ */

bool supervise_start_time(pid_t pid, uint64_t *out)
{
    char path[64];
    char text[1024];
    const char *p;
    struct span rest;
    struct span f;
    ssize_t n;
    int fd;

    *out = 0;
    if (pid <= 0)
        return false;
    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
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
    /* "pid (comm) S f4 ...": comm may hold anything, so after the last ')' */
    p = strrchr(text, ')');
    if (!p || p[1] != ' ' || !p[2] || p[2] == 'Z' || p[2] == 'X')
        return false;
    rest = span_cstr(p + 2);
    /* field 3 is the state; field 22 is 19 fields further */
    for (int i = 3; i <= 22; i++)
        if (!span_cut(rest, ' ', &f, &rest) && i < 22)
            return false;
    return span_to_u64(f, out) == FERR_OK;
}

bool supervise_alive(const struct supervise_state *s)
{
    uint64_t st;

    return supervise_start_time(s->pid, &st) && st == s->start_time;
}

void supervise_state_release(struct supervise_state *s)
{
    free(s->name);
    free(s->version);
    free(s->release);
    memset(s, 0, sizeof(*s));
}

static bool get_uint(json_t *o, const char *key, uint64_t max, uint64_t *out)
{
    json_t *v = json_object_get(o, key);

    *out = 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_string(v) || strlen(json_string_value(v)) !=
                                  json_string_length(v))
        return NULL;
    return xstrdup(json_string_value(v));
}

enum ferr_code supervise_read_state(const char *path,
                                    struct supervise_state *out,
                                    struct ferr *err)
{
    char *text = NULL;
    size_t len = 0;
    json_t *j = NULL;
    enum ferr_code rc;
    uint64_t v[6];

    memset(out, 0, sizeof(*out));
    rc = workspace_read_file(path, LIM_INSTANCE_SPEC, &text, &len, err);
    if (rc)
        return rc;
    j = json_loadb(text, len, 0, NULL);
    out->name = get_str(j, "name");
    out->version = get_str(j, "version");
    out->release = get_str(j, "release");
    if (!json_is_object(j) || !out->name || !out->version ||
        !out->release || !get_uint(j, "port", 65535, &v[0]) ||
        !get_uint(j, "pid", INT32_MAX, &v[1]) ||
        !get_uint(j, "start_time", UINT64_MAX >> 1, &v[2]) ||
        !get_uint(j, "child_pid", INT32_MAX, &v[3]) ||
        !get_uint(j, "restarts", UINT_MAX, &v[4]) ||
        !get_uint(j, "grace_ms", UINT_MAX, &v[5])) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "'%s' is not an instance state file", path);
        supervise_state_release(out);
        goto done;
    }
    out->port = (unsigned)v[0];
    out->pid = (pid_t)v[1];
    out->start_time = v[2];
    out->child_pid = (pid_t)v[3];
    out->restarts = (unsigned)v[4];
    out->grace_ms = (unsigned)v[5];
done:
    json_decref(j);
    free(text);
    return rc;
}

static void note(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* A line of ours in the instance's log. */
static void note(struct sup *s, const char *fmt, ...)
{
    struct buf line;
    va_list ap;

    buf_init(&line, 4096);
    if (buf_adds(&line, "ferry: ")) {
        buf_release(&line);
        return;
    }
    va_start(ap, fmt);
    if (buf_vaddf(&line, fmt, ap)) {
        /* cut: the line is still worth writing */
    }
    va_end(ap);
    if (buf_addch(&line, '\n')) {
        line.p[line.len - 1] = '\n';
    }
    if (s->log_fd >= 0 && write(s->log_fd, line.p, line.len) < 0) {
        /* nowhere left to say it */
    }
    buf_release(&line);
}

static void write_state(struct sup *s)
{
    json_t *j = json_pack(
        "{s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I}", "name", s->name,
        "version", s->version, "release", s->release, "port",
        (json_int_t)s->port, "pid", (json_int_t)getpid(), "start_time",
        (json_int_t)s->start_time, "child_pid", (json_int_t)s->child,
        "restarts", (json_int_t)s->restarts, "grace_ms",
        (json_int_t)s->grace_ms);
    char *text = json_dumps(j, JSON_COMPACT);
    struct ferr err;
    char msg[600];

    ferr_clear(&err);
    if (!text || workspace_write_file(s->state_path, text, strlen(text),
                                      &err))
        note(s, "cannot write the state file: %s",
             ferr_format(&err, msg, sizeof(msg)));
    free(text);
    json_decref(j);
}

/* ---- start-up report ------------------------------------------------- */

/* Say how the start went on fd 1 (the starter's pipe) and from then on
 * send stdout and stderr to the log. */
static void report(struct sup *s, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void report(struct sup *s, const char *fmt, ...)
{
    va_list ap;

    if (s->reported)
        return;
    s->reported = true;
    va_start(ap, fmt);
    (void)vdprintf(1, fmt, ap);
    va_end(ap);
    (void)dprintf(1, "\n");
    if (s->log_fd >= 0) {
        (void)dup2(s->log_fd, 1);
        (void)dup2(s->log_fd, 2);
    }
}

/* ---- the command ----------------------------------------------------- */

static void describe(int wstatus, char *out, size_t n)
{
    if (WIFSIGNALED(wstatus))
        snprintf(out, n, "was killed by signal %d", WTERMSIG(wstatus));
    else
        snprintf(out, n, "exited with status %d", WEXITSTATUS(wstatus));
}

static void drain_output(struct sup *s, bool close_it)
{
    char chunk[16384];

    while (s->out_fd >= 0) {
        ssize_t n = read(s->out_fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n > 0) {
            if (write(s->log_fd, chunk, (size_t)n) < 0) {
                /* a full disk loses output, not the instance */
            }
            continue;
        }
        if (n == 0 || close_it || errno != EAGAIN) {
            loop_del_fd(s->loop, s->out_fd);
            close(s->out_fd);
            s->out_fd = -1;
        }
        break;
    }
}

static void on_output(struct loop *l, int fd, unsigned events, void *ud)
{
    (void)l;
    (void)fd;
    (void)events;
    drain_output(ud, false);
}

static void finish(struct sup *s)
{
    if (s->finished)
        return;
    s->finished = true;
    /* whatever left the group but stayed below us (we are its reaper) */
    for (int round = 0; round < 100; round++) {
        int n = proc_kill_descendants(SIGKILL);

        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (n == 0)
            break;
    }
    if (unlink(s->state_path) < 0 && errno != ENOENT)
        note(s, "cannot remove '%s': %s", s->state_path, strerror(errno));
    note(s, "instance '%s' stopped", s->name);
    loop_stop(s->loop);
}

static bool start_child(struct sup *s)
{
    char *argv[] = { "sh", "-c", s->command, NULL };
    struct proc_spec spec;
    struct ferr err;
    char msg[600];
    pid_t pid;
    int fd;

    memset(&spec, 0, sizeof(spec));
    spec.path = "/bin/sh";
    spec.argv = argv;
    spec.envp = s->envp;
    spec.cwd = s->release;
    spec.stdin_fd = -1;
    ferr_clear(&err);
    if (proc_spawn(&spec, &pid, &fd, &err) ||
        (loop_add_fd(s->loop, fd, LOOP_READ, on_output, s) &&
         ferr_set(&err, FERR_IO, NULL, "cannot watch the output pipe"))) {
        if (pid > 0) {
            proc_signal_group(pid, SIGKILL);
            waitpid(pid, NULL, 0);
            close(fd);
        }
        ferr_format(&err, msg, sizeof(msg));
        note(s, "cannot start the command: %s", msg);
        report(s, "cannot start the command: %s", msg);
        return false;
    }
    s->child = pid;
    s->pgid = pid;
    s->out_fd = fd;
    s->child_started = loop_now_ms();
    write_state(s);
    return true;
}

static void schedule_restart(struct sup *s)
{
    if (loop_now_ms() - s->child_started >= STABLE_MS)
        s->backoff_ms = BACKOFF_MIN_MS;
    note(s, "restarting in %u ms", s->backoff_ms);
    loop_timer_arm(s->restart_t, s->backoff_ms);
    s->backoff_ms *= 2;
    if (s->backoff_ms > BACKOFF_MAX_MS)
        s->backoff_ms = BACKOFF_MAX_MS;
}

static void on_restart(struct loop *l, struct loop_timer *t, void *ud)
{
    struct sup *s = ud;

    (void)l;
    (void)t;
    if (s->stopping || s->child)
        return;
    s->restarts++;
    if (!start_child(s)) {
        s->child_started = loop_now_ms();
        schedule_restart(s);
    }
}

static void child_exited(struct sup *s, int wstatus)
{
    pid_t pgid = s->child;
    char how[64];

    drain_output(s, true);
    s->child = 0;
    describe(wstatus, how, sizeof(how));
    if (s->stopping) {
        note(s, "the command %s", how);
        return;
    }
    /* what the shell left in its group would hold the port */
    proc_signal_group(pgid, SIGKILL);
    note(s, "the command %s", how);
    if (!s->reported) {
        report(s, "the command %s at once", how);
        s->status = 1;
        s->stopping = true;
        finish(s);
        return;
    }
    write_state(s);
    schedule_restart(s);
}

static void on_sigchld(struct loop *l, int signo, void *ud)
{
    struct sup *s = ud;
    int wstatus;
    pid_t pid;

    (void)l;
    (void)signo;
    while ((pid = waitpid(-1, &wstatus, WNOHANG)) > 0) {
        if (pid == s->child)
            child_exited(s, wstatus);
    }
    /* stopping: done when the shell and the rest of its group are gone
     * (they were re-parented to us, so each one's end is a SIGCHLD) */
    if (s->stopping && !s->child && !s->finished &&
        !proc_group_alive(s->pgid))
        finish(s);
}

static void on_grace(struct loop *l, struct loop_timer *t, void *ud)
{
    struct sup *s = ud;

    (void)l;
    (void)t;
    note(s, "grace period of %u ms over: SIGKILL", s->grace_ms);
    proc_signal_group(s->pgid, SIGKILL);
    if (s->child) {
        /* SIGKILL cannot be caught: this wait is short */
        while (waitpid(s->child, NULL, 0) < 0 && errno == EINTR)
            ;
        s->child = 0;
        drain_output(s, true);
    }
    finish(s);
}

static void on_stop(struct loop *l, int signo, void *ud)
{
    struct sup *s = ud;

    (void)l;
    if (s->stopping)
        return;
    s->stopping = true;
    note(s, "stopping on signal %d", signo);
    report(s, "stopped while starting");
    loop_timer_disarm(s->restart_t);
    loop_timer_disarm(s->ready_t);
    if (!s->child) {
        finish(s);
        return;
    }
    proc_signal_group(s->child, SIGTERM);
    loop_timer_arm(s->grace_t, s->grace_ms);
}

static void on_ready(struct loop *l, struct loop_timer *t, void *ud)
{
    struct sup *s = ud;

    (void)l;
    (void)t;
    if (s->child && !s->stopping)
        report(s, "ok");
}

static void on_hup(struct loop *l, int signo, void *ud)
{
    (void)l;
    (void)signo;
    (void)ud; /* no terminal to lose: ignored */
}

/* ---- set-up ---------------------------------------------------------- */

static bool env_name_ok(const char *k)
{
    if (!k[0] || strchr(k, '='))
        return false;
    return true;
}

/* Entries of @env that the instance must not inherit: the job's
 * tracking ids (the server kills whatever carries a lost attempt's
 * FERRY_ATTEMPT) and what we set ourselves. */
static bool dropped(const char *entry, json_t *extra)
{
    static const char *const names[] = { "FERRY_ATTEMPT", "FERRY_TRACKING_ID",
                                         "PORT", "FERRY_INSTANCE",
                                         "FERRY_VERSION" };
    const char *eq = strchr(entry, '=');
    size_t n = eq ? (size_t)(eq - entry) : strlen(entry);
    const char *key;
    json_t *v;

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strlen(names[i]) == n && memcmp(entry, names[i], n) == 0)
            return true;
    json_object_foreach(extra, key, v)
    {
        (void)v;
        if (strlen(key) == n && memcmp(entry, key, n) == 0)
            return true;
    }
    return false;
}

static char *env_value(json_t *v)
{
    if (json_is_string(v))
        return xstrdup(json_string_value(v));
    if (json_is_integer(v))
        return xasprintf("%" JSON_INTEGER_FORMAT, json_integer_value(v));
    if (json_is_real(v))
        return xasprintf("%.17g", json_real_value(v));
    if (json_is_boolean(v))
        return xstrdup(json_is_true(v) ? "true" : "false");
    return NULL;
}

static enum ferr_code build_env(struct sup *s, json_t *extra,
                                struct ferr *err)
{
    size_t n = 0;
    size_t cap;
    const char *key;
    json_t *v;

    for (char **e = environ; *e; e++)
        n++;
    cap = n + json_object_size(extra) + 4;
    s->envp = xcalloc(cap, sizeof(*s->envp));
    n = 0;
    for (char **e = environ; *e; e++)
        if (!dropped(*e, extra))
            s->envp[n++] = xstrdup(*e);
    json_object_foreach(extra, key, v)
    {
        char *val = env_value(v);

        if (!env_name_ok(key) || !val) {
            free(val);
            return ferr_set(err, FERR_INVALID, NULL,
                            "env '%s' must be a NAME with a scalar value",
                            key);
        }
        s->envp[n++] = xasprintf("%s=%s", key, val);
        free(val);
    }
    s->envp[n++] = xasprintf("PORT=%u", s->port);
    s->envp[n++] = xasprintf("FERRY_INSTANCE=%s", s->name);
    s->envp[n++] = xasprintf("FERRY_VERSION=%s", s->version);
    s->envp[n] = NULL;
    return FERR_OK;
}

static enum ferr_code read_spec(struct sup *s, struct ferr *err)
{
    struct buf in;
    enum ferr_code rc = FERR_OK;
    char chunk[8192];
    json_error_t jerr;
    json_t *j = NULL;
    json_t *extra;
    uint64_t v;

    buf_init(&in, LIM_INSTANCE_SPEC);
    for (;;) {
        ssize_t n = read(0, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read the spec: %s",
                          strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (buf_add(&in, chunk, (size_t)n)) {
            rc = ferr_set(err, FERR_LIMIT, NULL, "the spec is over %u bytes",
                          LIM_INSTANCE_SPEC);
            goto done;
        }
    }
    j = json_loadb(in.p ? in.p : "", in.len, 0, &jerr);
    if (!j) {
        rc = ferr_set(err, FERR_PARSE, NULL, "the spec is not JSON: %s",
                      jerr.text);
        goto done;
    }
    s->command = get_str(j, "command");
    s->release = get_str(j, "release");
    s->version = get_str(j, "version");
    extra = json_object_get(j, "env");
    if (!s->command || !s->release || !s->version ||
        !get_uint(j, "port", 65535, &v) || v == 0 ||
        (extra && !json_is_object(extra) && !json_is_null(extra))) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "the spec needs command, release, version, port");
        goto done;
    }
    s->port = (unsigned)v;
    s->grace_ms = 10000;
    if (json_object_get(j, "grace_ms") &&
        get_uint(j, "grace_ms", UINT_MAX, &v))
        s->grace_ms = (unsigned)v;
    rc = build_env(s, json_is_object(extra) ? extra : NULL, err);
done:
    json_decref(j);
    buf_release(&in);
    return rc;
}

static enum ferr_code setup(struct sup *s, const char *envdir,
                            struct ferr *err)
{
    char *log_path = xasprintf("%s/logs/%s.log", envdir, s->name);
    enum ferr_code rc;

    s->state_path = xasprintf("%s/instances/%s.json", envdir, s->name);
    rc = read_spec(s, err);
    if (rc)
        goto done;
    s->log_fd = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC,
                     0644);
    if (s->log_fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", log_path,
                      strerror(errno));
        goto done;
    }
done:
    free(log_path);
    return rc;
}

/* Leave the starter's process group and session.  proc_spawn made us a
 * group leader, and a group leader cannot setsid(), so we fork once
 * more: the parent exits at once and the child, no longer a leader,
 * makes its own session.  This process is single-threaded and fresh from
 * exec, so the child may do anything; it keeps our fd 1 (the starter's
 * pipe) for the report. */
static bool detach(void)
{
    pid_t pid = fork();
    int null_fd;

    if (pid < 0)
        return false;
    if (pid > 0)
        _exit(0);
    if (setsid() < 0)
        return false;
    null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 0) < 0)
        return false;
    close(null_fd);
    return chdir("/") == 0;
}

int supervise_main(int argc, char **argv)
{
    struct sup s;
    struct ferr err;
    char msg[600];
    int rc = 1;

    loop_block_signals();
    memset(&s, 0, sizeof(s));
    s.log_fd = -1;
    s.out_fd = -1;
    s.backoff_ms = BACKOFF_MIN_MS;
    ferr_clear(&err);
    if (argc != 3 || !argv[1][0] || !argv[2][0]) {
        (void)dprintf(2, "usage: ferry __instance ENVDIR NAME "
                         "(spec as JSON on stdin)\n");
        return 2;
    }
    s.name = argv[2];
    unsetenv("FERRY_ATTEMPT");
    unsetenv("FERRY_TRACKING_ID");
    if (setup(&s, argv[1], &err)) {
        (void)dprintf(1, "%s\n", ferr_format(&err, msg, sizeof(msg)));
        goto done;
    }
    if (!detach()) {
        (void)dprintf(1, "cannot detach: %s\n", strerror(errno));
        goto done;
    }
    proc_become_subreaper();
    if (!supervise_start_time(getpid(), &s.start_time) ||
        loop_new(&s.loop, &err) ||
        loop_on_signal(s.loop, SIGCHLD, on_sigchld, &s) ||
        loop_on_signal(s.loop, SIGTERM, on_stop, &s) ||
        loop_on_signal(s.loop, SIGINT, on_stop, &s) ||
        loop_on_signal(s.loop, SIGHUP, on_hup, &s) ||
        !(s.ready_t = loop_timer_new(s.loop, on_ready, &s)) ||
        !(s.restart_t = loop_timer_new(s.loop, on_restart, &s)) ||
        !(s.grace_t = loop_timer_new(s.loop, on_grace, &s))) {
        (void)dprintf(1, "cannot set up the supervisor: %s\n",
                      err.code ? ferr_format(&err, msg, sizeof(msg))
                               : "no timer or /proc");
        goto done;
    }
    note(&s, "instance '%s' version '%s' port %u supervisor pid %d",
         s.name, s.version, s.port, (int)getpid());
    if (!start_child(&s)) {
        (void)unlink(s.state_path);
        goto done;
    }
    loop_timer_arm(s.ready_t, READY_MS);
    if (loop_run(s.loop)) {
        note(&s, "the event loop failed: %s", strerror(errno));
        if (s.child)
            proc_signal_group(s.child, SIGKILL);
        (void)unlink(s.state_path);
        goto done;
    }
    rc = s.status;
done:
    loop_timer_free(s.ready_t);
    loop_timer_free(s.restart_t);
    loop_timer_free(s.grace_t);
    loop_free(s.loop);
    if (s.out_fd >= 0)
        close(s.out_fd);
    if (s.log_fd >= 0)
        close(s.log_fd);
    if (s.envp)
        for (char **e = s.envp; *e; e++)
            free(*e);
    free(s.envp);
    free(s.state_path);
    free(s.command);
    free(s.release);
    free(s.version);
    return rc;
}
