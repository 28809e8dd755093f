/* health: probes one instance (HTTP through util/httpc, a TCP connect, or
 * a shell command through exec/proc) and waits for a verdict with
 * thresholds and a deadline.  It blocks: it runs in the deploy step's own
 * process, never in the server's loop.  It does not decide what to do
 * with an unhealthy instance (deploy rolls back) nor keep connections. */
#include "deploy/health.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/proc.h"
#include "util/buf.h"
#include "util/httpc.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define DEF_INTERVAL_MS 1000u
#define DEF_TIMEOUT_MS  2000u
#define DEF_SUCCESSES   1u
#define DEF_FAILURES    3u
#define DEF_DEADLINE_MS 60000u
#define MAX_DURATION_MS (24u * 3600u * 1000u)
#define MAX_COUNT       1000000u
#define OUTPUT_TAIL     4096u /* bytes of a command's output kept */
#define WHY_OUTPUT      200   /* bytes of its last line in the why */

/* ---- parsing the inputs ---- */

static bool unset(const char *text)
{
    return !text || !*text;
}

enum ferr_code health_parse_duration(const char *name, const char *text,
                                     unsigned *out_ms, struct ferr *err)
{
    struct span t = span_trim(span_cstr(text));
    struct span digits = t;
    uint64_t mult = 1000;
    uint64_t n;
    char q[72];

    *out_ms = 0;
    span_quote(text ? text : "", text ? strlen(text) : 0, q);
    while (digits.len && !(digits.p[digits.len - 1] >= '0' &&
                           digits.p[digits.len - 1] <= '9'))
        digits.len--;
    {
        struct span unit = span_of(t.p + digits.len, t.len - digits.len);

        if (unit.len == 0 || span_eq_cstr(unit, "s"))
            mult = 1000;
        else if (span_eq_cstr(unit, "ms"))
            mult = 1;
        else if (span_eq_cstr(unit, "m"))
            mult = 60u * 1000u;
        else if (span_eq_cstr(unit, "h"))
            mult = 3600u * 1000u;
        else
            mult = 0;
    }
    if (!mult || !digits.len || span_to_u64(digits, &n))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': bad duration '%s' (like 500ms, 1s, 2m, "
                        "1h; a plain number is seconds)",
                        name, q);
    if (n == 0)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': duration '%s' must be more than 0", name,
                        q);
    if (n > MAX_DURATION_MS / mult)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': duration '%s' is over 24 h", name, q);
    *out_ms = (unsigned)(n * mult);
    return FERR_OK;
}

static enum ferr_code parse_count(const char *name, const char *text,
                                  unsigned *out, struct ferr *err)
{
    uint64_t n;
    char q[72];

    if (span_to_u64(span_trim(span_cstr(text)), &n) || n < 1 || n > MAX_COUNT)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': bad count '%s' (a whole number from 1 "
                        "to %u)",
                        name, span_quote(text, strlen(text), q), MAX_COUNT);
    *out = (unsigned)n;
    return FERR_OK;
}

/* No spaces or control bytes: a path or URL goes on a request line. */
static bool url_safe(struct span s)
{
    for (size_t i = 0; i < s.len; i++)
        if ((unsigned char)s.p[i] <= ' ' || s.p[i] == 0x7f)
            return false;
    return true;
}

static enum ferr_code parse_check(struct health_spec *s, const char *check,
                                  struct ferr *err)
{
    struct span c = span_trim(span_cstr(check));
    char q[72];

    span_quote(check ? check : "", check ? strlen(check) : 0, q);
    if (c.len == 0)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'health' is empty (http:PATH, tcp, "
                        "exec:COMMAND)");
    if (span_eq_cstr(c, "tcp")) {
        s->kind = HEALTH_TCP;
        return FERR_OK;
    }
    if (span_starts_with(c, SPAN_LIT("exec:"))) {
        struct span cmd = span_trim(span_of(c.p + 5, c.len - 5));

        if (cmd.len == 0)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health': 'exec:' needs a command");
        if (cmd.len > LIM_INPUT_BYTES)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health': the command is over %u bytes",
                            LIM_INPUT_BYTES);
        s->kind = HEALTH_EXEC;
        s->command = xstrndup(cmd.p, cmd.len);
        return FERR_OK;
    }
    if (c.len > 7 && (strncasecmp(c.p, "http://", 7) == 0 ||
                      (c.len > 8 && strncasecmp(c.p, "https://", 8) == 0))) {
        if (c.len > LIM_URL || !url_safe(c))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health': bad URL '%s'", q);
        s->kind = HEALTH_HTTP;
        s->path = xstrndup(c.p, c.len);
        return FERR_OK;
    }
    if (span_starts_with(c, SPAN_LIT("http:"))) {
        struct span path = span_of(c.p + 5, c.len - 5);

        if (path.len == 0 || path.p[0] != '/' || path.len > LIM_URL ||
            !url_safe(path))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health': bad path in '%s' (http:/PATH, "
                            "e.g. http:/healthz)",
                            q);
        s->kind = HEALTH_HTTP;
        s->path = xstrndup(path.p, path.len);
        return FERR_OK;
    }
    return ferr_set(err, FERR_INVALID, NULL,
                    "input 'health': unknown check '%s' (http:PATH, tcp, "
                    "exec:COMMAND)",
                    q);
}

enum ferr_code health_spec_parse(struct health_spec *s, const char *check,
                                 const char *status, const char *body,
                                 const char *interval, const char *timeout,
                                 const char *successes, const char *failures,
                                 const char *deadline, struct ferr *err)
{
    enum ferr_code rc;

    memset(s, 0, sizeof(*s));
    s->interval_ms = DEF_INTERVAL_MS;
    s->timeout_ms = DEF_TIMEOUT_MS;
    s->successes = DEF_SUCCESSES;
    s->failures = DEF_FAILURES;
    s->deadline_ms = DEF_DEADLINE_MS;
    rc = parse_check(s, check, err);
    if (rc)
        return rc;
    if (!unset(status)) {
        uint64_t n;
        char q[72];

        if (s->kind != HEALTH_HTTP)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health-status' applies to http checks "
                            "only");
        if (span_to_u64(span_trim(span_cstr(status)), &n) || n < 100 || n > 599)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health-status': bad status '%s' (100 to "
                            "599)",
                            span_quote(status, strlen(status), q));
        s->status = (int)n;
    }
    if (!unset(body)) {
        if (s->kind != HEALTH_HTTP)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health-body' applies to http checks "
                            "only");
        if (strlen(body) > LIM_INPUT_BYTES)
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'health-body' is over %u bytes",
                            LIM_INPUT_BYTES);
        s->body = xstrdup(body);
    }
    if (!unset(interval)) {
        rc = health_parse_duration("health-interval", interval, &s->interval_ms,
                                   err);
        if (rc)
            return rc;
    }
    if (!unset(timeout)) {
        rc = health_parse_duration("health-timeout", timeout, &s->timeout_ms,
                                   err);
        if (rc)
            return rc;
    }
    if (!unset(successes)) {
        rc = parse_count("health-successes", successes, &s->successes, err);
        if (rc)
            return rc;
    }
    if (!unset(failures)) {
        rc = parse_count("health-failures", failures, &s->failures, err);
        if (rc)
            return rc;
    }
    if (!unset(deadline)) {
        rc = health_parse_duration("health-deadline", deadline, &s->deadline_ms,
                                   err);
        if (rc)
            return rc;
    }
    return FERR_OK;
}

void health_spec_release(struct health_spec *s)
{
    free(s->path);
    free(s->body);
    free(s->command);
    memset(s, 0, sizeof(*s));
}

/* ---- time ---- */

static uint64_t now_ms(void)
{
    struct timespec t;

    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000u + (uint64_t)t.tv_nsec / 1000000u;
}

/* Block until the monotonic clock reads @at_ms. */
static void pause_until(uint64_t at_ms)
{
    struct timespec t = {(time_t)(at_ms / 1000u),
                         (long)(at_ms % 1000u) * 1000000L};

    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &t, NULL) == EINTR)
        ;
}

/* ---- http ---- */

static enum ferr_code probe_http(const struct health_spec *s, const char *host,
                                 unsigned port, struct ferr *err)
{
    struct httpc_req req;
    struct buf url;
    struct buf body;
    struct ferr herr;
    long status = 0;
    enum ferr_code rc;
    bool v6 = strchr(host, ':') != NULL;

    buf_init(&url, (size_t)LIM_URL * 2);
    buf_init(&body, LIM_HEALTH_BODY);
    if (strncasecmp(s->path, "http://", 7) == 0 ||
        strncasecmp(s->path, "https://", 8) == 0)
        rc = buf_adds(&url, s->path);
    else
        rc = buf_addf(&url, "http://%s%s%s:%u%s", v6 ? "[" : "", host,
                      v6 ? "]" : "", port, s->path);
    if (rc) {
        rc = ferr_set(err, FERR_IO, NULL, "GET %s: the URL is too long",
                      s->path);
        goto done;
    }
    memset(&req, 0, sizeof(req));
    req.url = buf_cstr(&url);
    req.timeout_ms = (long)s->timeout_ms;
    ferr_clear(&herr);
    rc = httpc_do(&req, &status, &body, &herr);
    if (rc && rc != FERR_LIMIT) {
        rc = ferr_set(err, rc == FERR_NOTFOUND ? FERR_NOTFOUND : FERR_IO, NULL,
                      "%s", herr.msg);
        goto done;
    }
    rc = FERR_OK; /* over LIM_HEALTH_BODY: judge the start */
    if (s->status ? status != s->status : status < 200 || status > 399) {
        if (s->status)
            rc = ferr_set(err, FERR_IO, NULL, "GET %s: status %ld, wanted %d",
                          s->path, status, s->status);
        else
            rc =
                ferr_set(err, FERR_IO, NULL,
                         "GET %s: status %ld, wanted 200-399", s->path, status);
        goto done;
    }
    if (s->body &&
        !memmem(body.p ? body.p : "", body.len, s->body, strlen(s->body))) {
        char q[72];

        rc = ferr_set(err, FERR_IO, NULL, "GET %s: body does not contain '%s'",
                      s->path, span_quote(s->body, strlen(s->body), q));
    }
done:
    buf_release(&url);
    buf_release(&body);
    return rc;
}

/* ---- tcp ---- */

/* Connect to @ai within @timeout_ms: 0 or an errno (ETIMEDOUT). */
static int try_connect(const struct addrinfo *ai, unsigned timeout_ms)
{
    int fd =
        socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC,
               ai->ai_protocol);
    int e = 0;

    if (fd < 0)
        return errno;
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
        e = errno;
        if (e == EINPROGRESS) {
            struct pollfd p = {fd, POLLOUT, 0};
            uint64_t end = now_ms() + timeout_ms;
            int n;

            for (;;) {
                uint64_t now = now_ms();

                n = poll(&p, 1, now < end ? (int)(end - now) : 0);
                if (n >= 0 || errno != EINTR)
                    break;
            }
            if (n == 0) {
                e = ETIMEDOUT;
            } else if (n < 0) {
                e = errno;
            } else {
                socklen_t len = sizeof(e);

                if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) != 0)
                    e = errno;
            }
        }
    }
    close(fd);
    return e;
}

static enum ferr_code probe_tcp(const struct health_spec *s, const char *host,
                                unsigned port, struct ferr *err)
{
    struct addrinfo hints;
    struct addrinfo *res = NULL;
    char serv[16];
    uint64_t end = now_ms() + s->timeout_ms;
    int e = ETIMEDOUT;
    int g;

    memset(&hints, 0, sizeof(hints));
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = AI_NUMERICSERV;
    snprintf(serv, sizeof(serv), "%u", port);
    g = getaddrinfo(host, serv, &hints, &res);
    if (g != 0)
        return ferr_set(err, FERR_IO, NULL, "connect %s:%u: %s", host, port,
                        g == EAI_SYSTEM ? strerror(errno) : gai_strerror(g));
    for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
        uint64_t now = now_ms();

        if (now >= end) {
            e = ETIMEDOUT;
            break;
        }
        e = try_connect(ai, (unsigned)(end - now));
        if (e == 0)
            break;
    }
    freeaddrinfo(res);
    if (e == 0)
        return FERR_OK;
    if (e == ETIMEDOUT)
        return ferr_set(err, FERR_IO, NULL,
                        "connect %s:%u: timed out after %u ms", host, port,
                        s->timeout_ms);
    return ferr_set(err, e == ECONNREFUSED ? FERR_NOTFOUND : FERR_IO, NULL,
                    "connect %s:%u: %s", host, port, strerror(e));
}

/* ---- exec ---- */

/* environ without HOST and PORT, then those two; the caller frees the
 * array and its last two strings (the others are environ's). */
static char **probe_env(const char *host, unsigned port)
{
    extern char **environ;
    size_t n = 0;
    size_t k = 0;
    char **envp;

    while (environ && environ[n])
        n++;
    envp = xcalloc(n + 3, sizeof(*envp));
    for (size_t i = 0; i < n; i++)
        if (strncmp(environ[i], "HOST=", 5) != 0 &&
            strncmp(environ[i], "PORT=", 5) != 0)
            envp[k++] = environ[i];
    envp[k++] = xasprintf("HOST=%s", host);
    envp[k++] = xasprintf("PORT=%u", port);
    envp[k] = NULL;
    return envp;
}

static void free_env(char **envp)
{
    size_t n = 0;

    while (envp[n])
        n++;
    /* the last two are ours */
    free(envp[n - 1]);
    free(envp[n - 2]);
    free(envp);
}

/* Read what @fd has now into @tail, keeping its last OUTPUT_TAIL bytes;
 * false at EOF or on an error. */
static bool drain(int fd, struct buf *tail)
{
    char chunk[OUTPUT_TAIL];

    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r > 0) {
            size_t n = (size_t)r; /* <= sizeof(chunk) == OUTPUT_TAIL */

            if (tail->len + n > tail->max)
                buf_consume(tail, tail->len + n - tail->max);
            if (buf_add(tail, chunk, n)) /* fits now: cannot fail */
                buf_reset(tail);
            continue;
        }
        if (r < 0 && errno == EINTR)
            continue;
        return r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK);
    }
}

/* The last non-empty line of @tail for a message, controls as '?'. */
static void last_line(const struct buf *tail, char *out, size_t n)
{
    size_t end = tail->len;
    size_t start;
    size_t j = 0;

    while (end && (tail->p[end - 1] == '\n' || tail->p[end - 1] == '\r' ||
                   tail->p[end - 1] == ' '))
        end--;
    start = end;
    while (start && tail->p[start - 1] != '\n' && tail->p[start - 1] != '\r')
        start--;
    for (size_t i = start; i < end && j + 1 < n && j < WHY_OUTPUT; i++) {
        unsigned char c = (unsigned char)tail->p[i];

        out[j++] = c < 0x20 || c == 0x7f ? '?' : (char)c;
    }
    out[j] = '\0';
}

/* Has the child @pid ended?  (Not reaped: its pid stays reserved.) */
static bool ended(pid_t pid)
{
    siginfo_t si;

    memset(&si, 0, sizeof(si));
    if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) != 0)
        return errno != EINTR;
    return si.si_pid == pid;
}

/* Wait until @pid ends or @end_ms, reading @fd into @tail meanwhile;
 * true when it ended.  A pidfd makes the exit pollable; without one (old
 * kernels) we look every 20 ms. */
static bool wait_child(pid_t pid, int fd, uint64_t end_ms, struct buf *tail)
{
    int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
    bool open_out = true;
    bool done = false;

    for (;;) {
        struct pollfd p[2];
        nfds_t n = 0;
        uint64_t now = now_ms();
        int wait;

        if (ended(pid)) {
            done = true;
            break;
        }
        if (now >= end_ms)
            break;
        wait = (int)(end_ms - now);
        if (pidfd >= 0) {
            p[n].fd = pidfd;
            p[n++].events = POLLIN;
        } else if (wait > 20) {
            wait = 20;
        }
        if (open_out) {
            p[n].fd = fd;
            p[n++].events = POLLIN;
        }
        if (poll(p, n, wait) < 0 && errno != EINTR)
            break;
        if (open_out)
            open_out = drain(fd, tail);
    }
    if (pidfd >= 0)
        close(pidfd);
    return done;
}

static enum ferr_code probe_exec(const struct health_spec *s, const char *host,
                                 unsigned port, struct ferr *err)
{
    char *argv[] = {"/bin/sh", "-c", s->command, NULL};
    char **envp = probe_env(host, port);
    struct proc_spec spec;
    struct ferr perr;
    struct buf tail;
    char line[WHY_OUTPUT + 1];
    pid_t pid = -1;
    int fd = -1;
    int st = 0;
    pid_t r;
    bool done;
    enum ferr_code rc;

    memset(&spec, 0, sizeof(spec));
    spec.path = "/bin/sh";
    spec.argv = argv;
    spec.envp = envp;
    spec.stdin_fd = -1;
    ferr_clear(&perr);
    rc = proc_spawn(&spec, &pid, &fd, &perr);
    free_env(envp);
    if (rc)
        return ferr_set(err, FERR_IO, NULL, "%s", perr.msg);
    buf_init(&tail, OUTPUT_TAIL);
    done = wait_child(pid, fd, now_ms() + s->timeout_ms, &tail);
    /* the leader is unreaped, so its pid names our group still: kill
     * whatever is left of it (everything, on a timeout) */
    (void)proc_signal_group(pid, SIGKILL);
    (void)drain(fd, &tail);
    close(fd);
    while ((r = waitpid(pid, &st, 0)) < 0 && errno == EINTR)
        ;
    last_line(&tail, line, sizeof(line));
    buf_release(&tail);
    if (r < 0) /* SIGCHLD ignored: the kernel reaped it, status unknown */
        return ferr_set(err, FERR_IO, NULL, "cannot wait for the command: %s",
                        strerror(errno));
    if (!done)
        return ferr_set(err, FERR_IO, NULL, "timed out after %u ms",
                        s->timeout_ms);
    if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
        return FERR_OK;
    if (WIFEXITED(st))
        return ferr_set(err, FERR_IO, NULL, "exit status %d%s%s",
                        WEXITSTATUS(st), line[0] ? ": " : "", line);
    return ferr_set(err, FERR_IO, NULL, "killed by signal %d%s%s",
                    WIFSIGNALED(st) ? WTERMSIG(st) : 0, line[0] ? ": " : "",
                    line);
}

/* ---- probing ---- */

enum ferr_code health_probe(const struct health_spec *s, const char *host,
                            unsigned port, struct ferr *err)
{
    if (!host || !*host)
        host = "127.0.0.1";
    switch (s->kind) {
    case HEALTH_HTTP:
        if (!s->path)
            break;
        return probe_http(s, host, port, err);
    case HEALTH_TCP: return probe_tcp(s, host, port, err);
    case HEALTH_EXEC:
        if (!s->command)
            break;
        return probe_exec(s, host, port, err);
    }
    return ferr_set(err, FERR_INVALID, NULL, "an incomplete health check");
}

static void fmt_ms(unsigned ms, char *out, size_t n)
{
    if (ms % 1000u == 0)
        snprintf(out, n, "%u s", ms / 1000u);
    else
        snprintf(out, n, "%u ms", ms);
}

enum ferr_code health_wait(const struct health_spec *s, const char *host,
                           unsigned port, health_log_fn log, void *ud,
                           struct ferr *err)
{
    uint64_t start = now_ms();
    uint64_t deadline = start + s->deadline_ms;
    unsigned ok_run = 0;
    unsigned fail_run = 0;
    bool up = false; /* answered once: refusals count from then on */
    char why[sizeof(err->msg)] = "no probe ran";
    char d[32];

    for (;;) {
        struct health_spec one = *s;
        uint64_t t0 = now_ms();
        struct ferr perr;
        bool ok;

        if (t0 >= deadline) /* the last probe ran past it */
            break;
        if (deadline - t0 < one.timeout_ms)
            one.timeout_ms = (unsigned)(deadline - t0);
        if (one.timeout_ms == 0)
            one.timeout_ms = 1;
        ferr_clear(&perr);
        ok = health_probe(&one, host, port, &perr) == FERR_OK;
        if (ok) {
            ok_run++;
            fail_run = 0;
            up = true;
        } else {
            snprintf(why, sizeof(why), "%s", perr.msg);
            /* a starting instance that does not listen yet has until the
             * deadline; one that answers wrongly, or stopped listening,
             * is failing */
            if (up || perr.code != FERR_NOTFOUND)
                fail_run++;
            ok_run = 0;
        }
        if (log)
            log(ud, ok, ok ? NULL : why);
        if (ok && ok_run >= s->successes)
            return FERR_OK;
        if (!ok && fail_run >= s->failures)
            return ferr_set(err, FERR_IO, NULL,
                            "unhealthy after %u failed probe%s: %s", fail_run,
                            fail_run == 1 ? "" : "s", why);
        if (t0 + s->interval_ms >= deadline)
            break;
        pause_until(t0 + s->interval_ms);
    }
    fmt_ms(s->deadline_ms, d, sizeof(d));
    if (ok_run)
        return ferr_set(err, FERR_IO, NULL,
                        "not healthy within %s: %u of %u probes in a row "
                        "passed",
                        d, ok_run, s->successes);
    return ferr_set(err, FERR_IO, NULL, "not healthy within %s: %s", d, why);
}
