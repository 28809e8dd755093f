/* target: the process target's releases and instances, seen from the
 * deploy step — install and prune releases, start an instance's
 * supervisor (supervise.c) and wait for its report, stop it through a
 * pidfd, list what runs; plus the script target's runner.  It does not
 * supervise anything itself, pick traffic weights or health-check. */
#include "deploy/target.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "deploy/ctarget.h" /* container target hooks (ctarget.h) */
#include "deploy/supervise.h"
#include "exec/linebuf.h"
#include "exec/proc.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define START_TIMEOUT_MS 15000  /* the supervisor's report */
#define STOP_SLACK_MS 5000      /* beyond the grace period */
#define LOG_TAIL_BYTES 2048     /* of the log, in a start failure */
#define NAME_MAX_LEN 128        /* instance names and version labels */

extern char **environ;

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

bool target_plain_name(const char *s)
{
    size_t n = strlen(s);

    if (n == 0 || n > NAME_MAX_LEN || s[0] == '.')
        return false;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.' ||
              c == '+'))
            return false;
    }
    return true;
}

void target_instance_release(struct target_instance *i)
{
    if (!i)
        return;
    free(i->name);
    free(i->version);
    free(i->release);
    memset(i, 0, sizeof(*i));
}

void target_instances_free(struct target_instance *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        target_instance_release(&v[i]);
    free(v);
}

static void from_state(struct target_instance *out,
                       struct supervise_state *st)
{
    out->name = st->name;
    out->version = st->version;
    out->release = st->release;
    out->port = st->port;
    out->pid = st->pid;
    out->restarts = st->restarts;
    st->name = st->version = st->release = NULL;
}

/* ---- releases -------------------------------------------------------- */

/* The N of "VERSION-N" (the last '-'), 0 when there is none. */
static uint64_t release_seq(const char *name)
{
    const char *dash = strrchr(name, '-');
    uint64_t v;

    if (!dash || span_to_u64(span_cstr(dash + 1), &v))
        return 0;
    return v;
}

struct rel {
    char *name;
    uint64_t seq;
};

static int rel_newest_first(const void *a, const void *b)
{
    const struct rel *x = a;
    const struct rel *y = b;

    return x->seq < y->seq ? 1 : x->seq > y->seq ? -1 : 0;
}

static bool release_in_use(const char *path, const struct target_instance *v,
                           size_t n)
{
    struct stat a;
    struct stat b;

    if (stat(path, &a) < 0)
        return false;
    for (size_t i = 0; i < n; i++)
        if (stat(v[i].release, &b) == 0 && a.st_dev == b.st_dev &&
            a.st_ino == b.st_ino)
            return true;
    return false;
}

static enum ferr_code prune(const char *envdir, const char *dir, unsigned keep,
                            struct ferr *err)
{
    struct target_instance *inst = NULL;
    struct rel *r = NULL;
    size_t ninst = 0;
    size_t n = 0;
    enum ferr_code rc;
    struct dirent *de;
    DIR *d;

    rc = target_list(envdir, &inst, &ninst, err);
    if (rc)
        return rc;
    d = opendir(dir);
    if (!d) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", dir,
                      strerror(errno));
        goto done;
    }
    while ((de = readdir(d))) {
        if (de->d_name[0] == '.' || release_seq(de->d_name) == 0)
            continue;
        r = xrealloc(r, (n + 1) * sizeof(*r));
        r[n].name = xstrdup(de->d_name);
        r[n].seq = release_seq(de->d_name);
        n++;
    }
    closedir(d);
    qsort(r, n, sizeof(*r), rel_newest_first);
    for (size_t i = keep; i < n && !rc; i++) {
        char *path = xasprintf("%s/%s", dir, r[i].name);

        if (!release_in_use(path, inst, ninst))
            rc = workspace_rmtree(path, err);
        free(path);
    }
done:
    for (size_t i = 0; i < n; i++)
        free(r[i].name);
    free(r);
    target_instances_free(inst, ninst);
    return rc;
}

enum ferr_code target_install_release(const char *envdir, const char *src,
                                      const char *version, unsigned keep,
                                      char **out, struct ferr *err)
{
    char *dir = xasprintf("%s/releases", envdir);
    char *dst = NULL;
    uint64_t seq = 0;
    enum ferr_code rc;
    struct dirent *de;
    DIR *d;

    *out = NULL;
    if (!target_plain_name(version)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "version '%s' is not a plain name (letters, digits, "
                      "'.', '_', '-', '+')",
                      version);
        goto done;
    }
    rc = workspace_mkdirs(dir, err);
    if (rc)
        goto done;
    /* N counts over every version, so the newest release is the one with
     * the largest N (mtimes are copied from the source and say nothing) */
    d = opendir(dir);
    if (!d) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", dir,
                      strerror(errno));
        goto done;
    }
    while ((de = readdir(d)))
        if (de->d_name[0] != '.' && release_seq(de->d_name) > seq)
            seq = release_seq(de->d_name);
    closedir(d);
    dst = xasprintf("%s/%s-%llu", dir, version,
                    (unsigned long long)seq + 1);
    rc = workspace_copy(src, dst, true, err);
    if (rc) {
        struct ferr ignored;

        ferr_clear(&ignored);
        if (workspace_rmtree(dst, &ignored)) {
            /* the copy's error is the one to report */
        }
        goto done;
    }
    rc = prune(envdir, dir, keep ? keep : 1, err);
    if (rc)
        goto done;
    *out = dst;
    dst = NULL;
done:
    free(dst);
    free(dir);
    return rc;
}

/* ---- instances ------------------------------------------------------- */

static char *state_path(const char *envdir, const char *name)
{
    return xasprintf("%s/instances/%s.json", envdir, name);
}

enum ferr_code target_free_port(unsigned *out, struct ferr *err)
{
    struct sockaddr_in sa;
    socklen_t len = sizeof(sa);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

    *out = 0;
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ||
        getsockname(fd, (struct sockaddr *)&sa, &len) < 0) {
        int e = errno;

        if (fd >= 0)
            close(fd);
        return ferr_set(err, FERR_IO, NULL, "cannot find a free port: %s",
                        strerror(e));
    }
    close(fd);
    *out = ntohs(sa.sin_port);
    return FERR_OK;
}

/* Entries of the deploy step's environment an application must not
 * inherit: the job's tracking ids (crash recovery kills whatever carries
 * a lost attempt's FERRY_ATTEMPT), the server's deploy token and
 * address, and the job's runner files and paths, gone after the job. */
static bool job_only(const char *e)
{
    static const char *const names[] = {
        "FERRY_ATTEMPT=", "FERRY_TRACKING_ID=", "FERRY_INSTANCE=",
        "FERRY_DEPLOY_TOKEN=", "FERRY_DEPLOYMENT=", "FERRY_SERVER=",
        "GITHUB_", "RUNNER_", "ACTIONS_", "INPUT_"};

    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        if (strncmp(e, names[i], strlen(names[i])) == 0)
            return true;
    return false;
}

/* The supervisor's environment (and its application's): ours without
 * what belongs to the job alone. */
static char **supervisor_env(const char *name)
{
    size_t n = 0;
    char **v;

    for (char **e = environ; *e; e++)
        n++;
    v = xcalloc(n + 2, sizeof(*v));
    n = 0;
    for (char **e = environ; *e; e++)
        if (!job_only(*e))
            v[n++] = *e;
    v[n++] = xasprintf("FERRY_INSTANCE=%s", name);
    return v;
}

static void free_supervisor_env(char **v)
{
    size_t n = 0;

    while (v[n])
        n++;
    if (n)
        free(v[n - 1]); /* the FERRY_INSTANCE entry is ours */
    free(v);
}

static int spec_fd(const struct target_process *p, unsigned port)
{
    json_t *j = json_pack("{s:s, s:s, s:s, s:I, s:I, s:O?}", "command",
                          p->command, "release", p->release, "version",
                          p->version, "port", (json_int_t)port, "grace_ms",
                          (json_int_t)(p->grace_ms ? p->grace_ms : 10000),
                          "env", p->env);
    char *text = j ? json_dumps(j, JSON_COMPACT) : NULL;
    size_t len = text ? strlen(text) : 0;
    size_t off = 0;
    int fd = -1;

    json_decref(j);
    if (!text)
        return -1;
    fd = memfd_create("ferry-instance-spec", MFD_CLOEXEC);
    while (fd >= 0 && off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            fd = -1;
            break;
        }
        off += (size_t)w;
    }
    if (fd >= 0 && lseek(fd, 0, SEEK_SET) < 0) {
        close(fd);
        fd = -1;
    }
    free(text);
    return fd;
}

/* Read the supervisor's report from @fd until EOF or the deadline. */
static void read_report(int fd, struct buf *out)
{
    uint64_t deadline = now_ms() + START_TIMEOUT_MS;
    char chunk[4096];

    for (;;) {
        uint64_t now = now_ms();
        struct pollfd pfd = { fd, POLLIN, 0 };
        ssize_t n;

        if (now >= deadline)
            break;
        if (poll(&pfd, 1, (int)(deadline - now)) < 0 && errno != EINTR)
            break;
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        if (buf_add(out, chunk, (size_t)n))
            break;
    }
}

static void log_tail(const char *envdir, const char *name, struct buf *out)
{
    char *path = xasprintf("%s/logs/%s.log", envdir, name);
    char chunk[LOG_TAIL_BYTES];
    ssize_t n = 0;
    struct stat st;
    int fd = open(path, O_RDONLY | O_CLOEXEC);

    if (fd >= 0 && fstat(fd, &st) == 0) {
        off_t from = st.st_size > LOG_TAIL_BYTES
                         ? st.st_size - LOG_TAIL_BYTES
                         : 0;

        n = pread(fd, chunk, sizeof(chunk), from);
    }
    if (n > 0) {
        struct span s = span_of(chunk, (size_t)n);

        /* start at a line boundary when the tail was cut */
        if (n == LOG_TAIL_BYTES) {
            const char *nl = memchr(s.p, '\n', s.len);

            if (nl)
                s = span_of(nl + 1, s.len - (size_t)(nl + 1 - s.p));
        }
        if (buf_adds(out, "; last lines of its log:\n") ||
            buf_addspan(out, span_trim(s))) {
            /* the error message is cut, nothing else */
        }
    }
    if (fd >= 0)
        close(fd);
    free(path);
}

static enum ferr_code check_not_running(const char *path, const char *name,
                                        struct ferr *err)
{
    struct supervise_state st;
    struct ferr ignored;
    enum ferr_code rc = FERR_OK;

    ferr_clear(&ignored);
    if (supervise_read_state(path, &st, &ignored))
        return FERR_OK;
    if (supervise_alive(&st))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "instance '%s' is already running (supervisor pid %d)",
                      name, (int)st.pid);
    else
        (void)unlink(path);
    supervise_state_release(&st);
    return rc;
}

static enum ferr_code process_start(const char *envdir,
                                    const char *self_exe,
                                    const struct target_process *p,
                                    const char *name,
                                    struct target_instance *out,
                                    struct ferr *err)
{
    char *dirs[2] = { xasprintf("%s/instances", envdir),
                      xasprintf("%s/logs", envdir) };
    char *abs_envdir = NULL;
    char *spath = NULL;
    char **envp = NULL;
    struct supervise_state st;
    struct proc_spec spec;
    struct span answer;
    struct buf rep;
    enum ferr_code rc;
    unsigned port;
    pid_t pid = -1;
    int in_fd = -1;
    int out_fd = -1;

    memset(out, 0, sizeof(*out));
    memset(&st, 0, sizeof(st));
    buf_init(&rep, 64 * 1024);
    if (!target_plain_name(name) || !p->command || !p->release || !p->version) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "instance '%s' needs a plain name, a command, a "
                      "release and a version",
                      name);
        goto done;
    }
    rc = workspace_mkdirs(dirs[0], err);
    if (!rc)
        rc = workspace_mkdirs(dirs[1], err);
    if (rc)
        goto done;
    /* the supervisor runs in "/": the paths it gets must be absolute */
    abs_envdir = realpath(envdir, NULL);
    if (!abs_envdir) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot resolve '%s': %s", envdir,
                      strerror(errno));
        goto done;
    }
    spath = state_path(abs_envdir, name);
    rc = check_not_running(spath, name, err);
    if (!rc)
        rc = target_free_port(&port, err);
    if (rc)
        goto done;
    {
        struct target_process abs = *p;
        char *rel = realpath(p->release, NULL);

        if (!rel) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot resolve '%s': %s",
                          p->release, strerror(errno));
            goto done;
        }
        abs.release = rel;
        in_fd = spec_fd(&abs, port);
        free(rel);
    }
    if (in_fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "cannot pass the spec to the supervisor: %s",
                      strerror(errno));
        goto done;
    }
    envp = supervisor_env(name);
    memset(&spec, 0, sizeof(spec));
    spec.path = self_exe;
    spec.argv = (char *const[]){ (char *)self_exe, "__instance", abs_envdir,
                                 (char *)name, NULL };
    spec.envp = envp;
    spec.cwd = "/";
    spec.stdin_fd = in_fd;
    rc = proc_spawn(&spec, &pid, &out_fd, err);
    if (rc)
        goto done;
    /* the supervisor's first process exits as soon as it has forked;
     * the fork reports on the pipe it inherited */
    read_report(out_fd, &rep);
    while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
        ;
    answer = span_trim(buf_span(&rep));
    if (!span_eq_cstr(answer, "ok")) {
        struct buf msg;

        buf_init(&msg, 4096);
        if (answer.len == 0)
            answer = SPAN_LIT("no report from its supervisor");
        if (buf_addspan(&msg, answer)) {
            /* cut */
        }
        log_tail(abs_envdir, name, &msg);
        rc = ferr_set(err, FERR_EXEC, NULL, "instance '%s' did not start: %s",
                      name, buf_cstr(&msg));
        buf_release(&msg);
        /* a supervisor that said nothing in time is not left behind */
        {
            struct ferr ignored;

            ferr_clear(&ignored);
            if (target_stop(abs_envdir, name, &ignored)) {
                /* the start's error is the one to report */
            }
        }
        goto done;
    }
    rc = supervise_read_state(spath, &st, err);
    if (rc)
        goto done;
    from_state(out, &st);
done:
    supervise_state_release(&st);
    if (envp)
        free_supervisor_env(envp);
    if (in_fd >= 0)
        close(in_fd);
    if (out_fd >= 0)
        close(out_fd);
    buf_release(&rep);
    free(spath);
    free(abs_envdir);
    free(dirs[0]);
    free(dirs[1]);
    return rc;
}

enum ferr_code target_start(const char *envdir, const char *self_exe,
                            const struct target_process *p, const char *name,
                            struct target_instance *out, struct ferr *err)
{
    /* container target hook: a container release starts a container */
    if (ctarget_is_release(p->release))
        return ctarget_start(envdir, p, name, out, err);
    return process_start(envdir, self_exe, p, name, out, err);
}

/* Wait for @pidfd to say its process ended, at most @ms. */
static bool wait_exit(int pidfd, uint64_t ms)
{
    uint64_t deadline = now_ms() + ms;

    for (;;) {
        struct pollfd pfd = { pidfd, POLLIN, 0 };
        uint64_t now = now_ms();
        int n;

        if (now >= deadline)
            return false;
        n = poll(&pfd, 1, (int)(deadline - now));
        if (n > 0)
            return true;
        if (n < 0 && errno != EINTR)
            return false;
    }
}

enum ferr_code target_stop(const char *envdir, const char *name,
                           struct ferr *err)
{
    char *path;
    struct supervise_state st;
    struct ferr ignored;
    enum ferr_code rc = FERR_OK;
    int pidfd = -1;

    if (!target_plain_name(name))
        return ferr_set(err, FERR_INVALID, NULL,
                        "instance name '%s' is not a plain name", name);
    /* container target hook: a container instance is stopped there */
    if (ctarget_has(envdir, name))
        return ctarget_stop(envdir, name, err);
    path = state_path(envdir, name);
    ferr_clear(&ignored);
    if (supervise_read_state(path, &st, &ignored)) {
        /* none, or not ours to signal: nothing runs under this name */
        if (ignored.code != FERR_NOTFOUND)
            (void)unlink(path);
        free(path);
        return FERR_OK;
    }
    pidfd = (int)syscall(SYS_pidfd_open, st.pid, 0);
    /* checked after pidfd_open: the pidfd then names the process we
     * checked, even if its pid is reused later */
    if (pidfd < 0 || !supervise_alive(&st)) {
        (void)unlink(path);
        goto done;
    }
    if (syscall(SYS_pidfd_send_signal, pidfd, SIGTERM, NULL, 0) < 0 &&
        errno != ESRCH) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "cannot signal the supervisor of '%s': %s", name,
                      strerror(errno));
        goto done;
    }
    if (!wait_exit(pidfd, (uint64_t)st.grace_ms + STOP_SLACK_MS)) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "instance '%s' (supervisor pid %d) is still running "
                      "after %u ms",
                      name, (int)st.pid, st.grace_ms + STOP_SLACK_MS);
        goto done;
    }
    /* its supervisor removes it; a killed one could not */
    (void)unlink(path);
done:
    if (pidfd >= 0)
        close(pidfd);
    supervise_state_release(&st);
    free(path);
    return rc;
}

static int inst_by_name(const void *a, const void *b)
{
    const struct target_instance *x = a;
    const struct target_instance *y = b;

    return strcmp(x->name, y->name);
}

static enum ferr_code process_list(const char *envdir,
                                   struct target_instance **out,
                                   size_t *out_n, struct ferr *err)
{
    char *dir = xasprintf("%s/instances", envdir);
    struct target_instance *v = NULL;
    size_t n = 0;
    struct dirent *de;
    DIR *d;

    *out = NULL;
    *out_n = 0;
    d = opendir(dir);
    if (!d) {
        enum ferr_code rc = FERR_OK;

        if (errno != ENOENT)
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", dir,
                          strerror(errno));
        free(dir);
        return rc;
    }
    while ((de = readdir(d))) {
        size_t len = strlen(de->d_name);
        struct supervise_state st;
        struct ferr ignored;
        char *path;

        if (de->d_name[0] == '.' || len < 6 ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        path = xasprintf("%s/%s", dir, de->d_name);
        ferr_clear(&ignored);
        if (supervise_read_state(path, &st, &ignored)) {
            free(path);
            continue; /* not a state file (or gone meanwhile) */
        }
        if (!supervise_alive(&st)) {
            (void)unlink(path);
        } else if (n < LIM_PROXY_BACKENDS) {
            v = xrealloc(v, (n + 1) * sizeof(*v));
            from_state(&v[n++], &st);
        }
        supervise_state_release(&st);
        free(path);
    }
    closedir(d);
    free(dir);
    *out = v;
    *out_n = n;
    return FERR_OK;
}

enum ferr_code target_list(const char *envdir, struct target_instance **out,
                           size_t *out_n, struct ferr *err)
{
    enum ferr_code rc = process_list(envdir, out, out_n, err);

    /* container target hook: its instances are listed beside these */
    if (!rc)
        rc = ctarget_list(envdir, out, out_n, err);
    if (rc) {
        target_instances_free(*out, *out_n);
        *out = NULL;
        *out_n = 0;
        return rc;
    }
    if (*out_n)
        qsort(*out, *out_n, sizeof(**out), inst_by_name);
    return FERR_OK;
}

int target_supervise_main(int argc, char **argv)
{
    return supervise_main(argc, argv);
}

/* ---- the script target ----------------------------------------------- */

static int copy_line(void *ud, struct span line)
{
    (void)ud;
    /* a closed stdout is no reason to stop the script */
    fwrite(line.p, 1, line.len, stdout);
    fputc('\n', stdout);
    fflush(stdout);
    return 0;
}

static char **script_env(json_t *env, struct ferr *err)
{
    size_t n = 0;
    const char *key;
    json_t *val;
    char **v;

    for (char **e = environ; *e; e++)
        n++;
    v = xcalloc(n + json_object_size(env) + 1, sizeof(*v));
    n = 0;
    json_object_foreach(env, key, val)
    {
        const char *s = json_string_value(val);
        char *text = NULL;

        if (json_is_integer(val))
            text = xasprintf("%" JSON_INTEGER_FORMAT,
                             json_integer_value(val));
        else if (json_is_boolean(val))
            text = xstrdup(json_is_true(val) ? "true" : "false");
        else if (s)
            text = xstrdup(s);
        if (!key[0] || strchr(key, '=') || !text) {
            free(text);
            for (size_t i = 0; i < n; i++)
                free(v[i]);
            free(v);
            ferr_set(err, FERR_INVALID, NULL,
                     "env '%s' must be a NAME with a scalar value", key);
            return NULL;
        }
        v[n++] = xasprintf("%s=%s", key, text);
        free(text);
    }
    for (char **e = environ; *e; e++) {
        const char *eq = strchr(*e, '=');
        size_t klen = eq ? (size_t)(eq - *e) : strlen(*e);
        bool overridden = false;

        json_object_foreach(env, key, val)
        {
            (void)val;
            if (strlen(key) == klen && memcmp(key, *e, klen) == 0)
                overridden = true;
        }
        if (!overridden)
            v[n++] = xstrdup(*e);
    }
    v[n] = NULL;
    return v;
}

/* The command's first line, for messages. */
static void first_line(const char *command, char out[72])
{
    size_t n = strcspn(command, "\n");

    span_quote(command, n, out);
}

enum ferr_code target_run_script(const char *command, const char *dir,
                                 json_t *env, unsigned timeout_ms,
                                 struct ferr *err)
{
    char *argv[] = { "sh", "-c", (char *)command, NULL };
    uint64_t deadline = timeout_ms ? now_ms() + timeout_ms : 0;
    struct linebuf lb;
    struct proc_spec spec;
    enum ferr_code rc;
    bool timed_out = false;
    bool exited = false;
    int wstatus = 0;
    char first[72];
    char **envp;
    pid_t pid = -1;
    int pidfd = -1;
    int fd = -1;

    first_line(command, first);
    envp = script_env(json_is_object(env) ? env : NULL, err);
    if (!envp)
        return FERR_INVALID;
    linebuf_init(&lb);
    memset(&spec, 0, sizeof(spec));
    spec.path = "/bin/sh";
    spec.argv = argv;
    spec.envp = envp;
    spec.cwd = dir;
    spec.stdin_fd = -1;
    rc = proc_spawn(&spec, &pid, &fd, err);
    if (rc)
        goto done;
    pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    if (pidfd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot watch '%s': %s", first,
                      strerror(errno));
        proc_signal_group(pid, SIGKILL);
        goto done;
    }
    /* output until the shell exits (what it left running in the
     * background may keep the pipe open: we do not wait for that) */
    while (!exited) {
        struct pollfd pfd[2];
        nfds_t np = 0;
        int wait_ms = -1;
        char chunk[16384];
        ssize_t n;

        if (deadline) {
            uint64_t now = now_ms();

            if (now >= deadline) {
                timed_out = true;
                proc_signal_group(pid, SIGKILL);
                deadline = 0;
            } else {
                wait_ms = (int)(deadline - now);
            }
        }
        pfd[np++] = (struct pollfd){ pidfd, POLLIN, 0 };
        if (fd >= 0)
            pfd[np++] = (struct pollfd){ fd, POLLIN, 0 };
        if (poll(pfd, np, wait_ms) < 0 && errno != EINTR)
            break;
        if (np == 2 && pfd[1].revents) {
            n = read(fd, chunk, sizeof(chunk));
            if (n > 0) {
                linebuf_feed(&lb, chunk, (size_t)n, copy_line, NULL);
            } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
                close(fd);
                fd = -1;
            }
        }
        if (pfd[0].revents)
            exited = true;
    }
    /* what the shell wrote before it ended is in the pipe already */
    while (fd >= 0) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n <= 0)
            break;
        linebuf_feed(&lb, chunk, (size_t)n, copy_line, NULL);
    }
    linebuf_finish(&lb, copy_line, NULL);
    while (waitpid(pid, &wstatus, 0) < 0 && errno == EINTR)
        ;
    if (timed_out && timeout_ms % 1000 == 0)
        rc = ferr_set(err, FERR_EXEC, NULL, "'%s' was killed after %u s",
                      first, timeout_ms / 1000);
    else if (timed_out)
        rc = ferr_set(err, FERR_EXEC, NULL, "'%s' was killed after %u ms",
                      first, timeout_ms);
    else if (WIFSIGNALED(wstatus))
        rc = ferr_set(err, FERR_EXEC, NULL, "'%s' was killed by signal %d",
                      first, WTERMSIG(wstatus));
    else if (WEXITSTATUS(wstatus) != 0)
        rc = ferr_set(err, FERR_EXEC, NULL, "'%s' exited with status %d",
                      first, WEXITSTATUS(wstatus));
done:
    linebuf_release(&lb);
    if (pidfd >= 0)
        close(pidfd);
    if (fd >= 0)
        close(fd);
    for (char **e = envp; *e; e++)
        free(*e);
    free(envp);
    return rc;
}
