/* cexec_cmd: `ferry __cexec`, the blocking half of the container
 * executor (engine/cjob.c is the other): --setup carries out a job's
 * plan (images, network, services waited for, the job container),
 * --exec runs one step in the job container and stops it on SIGTERM,
 * --teardown removes what a job created, --reap what killed ferry
 * processes left.  Internal: started by the engine, never by people; it
 * decides nothing about workflows. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "docker/docker.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

/* TERM to KILL inside the container: the engine's own grace (5 s) is
 * longer, and each kill is an exec of its own */
#define GRACE_MS        2500
#define AFTER_KILL_MS   1000 /* then we stop waiting for the exec */
#define PIDFILE_WAIT_MS 2000 /* a step cancelled as it starts */
#define HEALTH_POLL_MS  1000 /* checks run at least this often */
#define NS_PER_MS       1000000LL
#define DEFAULT_HC_NS   (30LL * 1000 * NS_PER_MS) /* docker's 30 s */
#define DEFAULT_RETRIES 3
#define SETUP_SLACK_S   30   /* beyond a service's own health budget */
#define HEALTH_MAX_S    3600 /* and never more than this */
#define HC_NS_MAX       (24LL * 3600 * 1000 * NS_PER_MS) /* a day */
#define HC_RETRIES_MAX  1000
#define LOG_TAIL_BYTES  (128u * 1024u) /* of a failed service's log */
#define CREATE_HOLD_S   30   /* a cancel waits this long for a create */
#define SETTLE_PASSES   3    /* after a set-up killed mid-create, look */
#define SETTLE_MS       1000 /* again this often, this many times */
#define PIDFILE_MAX     32   /* "12345\n" and then some */

/* The wrapper every step runs under in the container: record our pid
 * (the exec is a session leader, so it is also our process group), say
 * clearly when the shell is missing, then become the step. */
#define WRAPPER                                                                \
    "echo $$ >\"$0\" || exit 126; "                                            \
    "command -v \"$1\" >/dev/null 2>&1 || { echo \"ferry: '$1' is not in "     \
    "the job's container\" >&2; exit 127; }; exec \"$@\""

static int usage(void)
{
    fprintf(stderr, "ferry __cexec: internal; usage: --setup | --exec ID "
                    "--pidfile F [--workdir D] -- CMD... | --teardown --run "
                    "R --job K --owner O [--network N] [--settle] | --reap\n");
    return 2;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}

static uint64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Wait @ms without a signal-driven loop: this is a short-lived helper
 * process, not the daemon. */
static void pause_ms(int ms)
{
    if (ms > 0)
        poll(NULL, 0, ms);
}

/* Everything on stdin (the plan or the step's env), at most @b's max.
 * Both hold secrets: the buffer is sized once from the memfd, so no
 * copy is left behind by a realloc, and the chunk is zeroed; the caller
 * zeroes @b. */
static int read_stdin(struct buf *b)
{
    char chunk[65536];
    struct stat st;
    int status;

    if (fstat(0, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0 &&
        (uint64_t)st.st_size < b->max && buf_grow(b, (size_t)st.st_size))
        return -1;
    for (;;) {
        ssize_t n = read(0, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0 || buf_add(b, chunk, (size_t)n)) {
            status = n == 0 ? 0 : -1;
            break;
        }
    }
    explicit_bzero(chunk, sizeof(chunk));
    return status;
}

/* Zero the text of every string of @v (recursively) that nothing else
 * holds, before it is freed: registry credentials, a step's secrets. */
static void zero_strings(json_t *v)
{
    const char *k;
    json_t *x;
    size_t i;

    if (json_is_string(v) && v->refcount == 1)
        explicit_bzero((char *)json_string_value(v), json_string_length(v));
    else if (json_is_object(v))
        json_object_foreach (v, k, x)
            zero_strings(x);
    else if (json_is_array(v))
        json_array_foreach (v, i, x)
            zero_strings(x);
}

static void write_all(int fd, const char *p, size_t n)
{
    while (n) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0 && errno == EAGAIN) {
            struct pollfd pf = {.fd = fd, .events = POLLOUT};

            poll(&pf, 1, 1000);
            continue;
        }
        if (w <= 0)
            return; /* the reader is gone: nothing to do about it */
        p += w;
        n -= (size_t)w;
    }
}

static void to_fds(void *ud, int stream, const char *p, size_t n)
{
    (void)ud;
    write_all(stream == 2 ? 2 : 1, p, n);
}

static enum ferr_code open_engine(struct docker **out, struct ferr *err)
{
    return docker_open(NULL, out, err);
}

/* ---------- --setup ---------- */

struct setup {
    struct docker *d;
    json_t *plan;
    json_t *labels;
    const char *network;
    json_t *result;
    bool said; /* the error was printed already (with the logs) */
};

static void on_progress(void *ud, const char *line)
{
    (void)ud;
    /* per-layer progress bars would flood the log */
    if (strncmp(line, "Downloading", 11) == 0 ||
        strncmp(line, "Extracting", 10) == 0 ||
        strncmp(line, "Waiting", 7) == 0)
        return;
    say("  %s", line);
}

static enum ferr_code ensure_image(struct setup *s, const json_t *entry,
                                   struct ferr *err)
{
    const char *image = json_string_value(json_object_get(entry, "image"));
    const json_t *cred = json_object_get(entry, "credentials");
    json_t *info = NULL;
    char *auth = NULL;
    struct ferr e2;
    enum ferr_code rc;

    ferr_clear(&e2);
    rc = docker_image_inspect(s->d, image, &info, &e2);
    json_decref(info);
    if (rc != FERR_NOTFOUND) {
        if (rc)
            return ferr_set(err, rc, NULL, "image '%s': %s", image, e2.msg);
        return FERR_OK;
    }
    say("pulling image '%s'", image);
    if (cred)
        auth = docker_auth_header(
            json_string_value(json_object_get(cred, "username")),
            json_string_value(json_object_get(cred, "password")),
            json_string_value(json_object_get(cred, "server")));
    ferr_clear(&e2);
    rc = docker_image_pull(s->d, image, auth, on_progress, NULL, &e2);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (rc)
        return ferr_set(err, rc, NULL, "cannot pull image '%s': %s", image,
                        e2.msg);
    return FERR_OK;
}

/* A cancel (SIGTERM, or INT/HUP) stops the set-up at once, except while
 * a create is with the engine: the engine finishes a create whose caller
 * went away, and the tear-down, which starts when we have exited, would
 * list the job's objects before it exists.  So a stop that arrives then
 * is held until the engine has answered (at most CREATE_HOLD_S: then
 * SIGALRM ends us), and we die of it right after. */
static volatile sig_atomic_t in_create;
static volatile sig_atomic_t held_sig;

static void die_of(int sig)
{
    static const struct sigaction dfl = {.sa_handler = SIG_DFL};

    sigaction(sig, &dfl, NULL);
    raise(sig); /* delivered when the handler (if any) returns */
}

static void on_stop(int sig)
{
    static const struct sigaction dfl = {.sa_handler = SIG_DFL};

    if (in_create) {
        if (!held_sig) {
            held_sig = sig;
            sigaction(SIGALRM, &dfl, NULL);
            alarm(CREATE_HOLD_S);
        }
        return;
    }
    die_of(sig);
}

static void catch_stops(void)
{
    static const int sigs[] = {SIGTERM, SIGINT, SIGHUP};
    struct sigaction sa;

    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_stop;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaddset(&sa.sa_mask, sigs[i]);
    for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
        sigaction(sigs[i], &sa, NULL);
}

static void create_begin(void)
{
    in_create = 1;
}

/* The engine answered: a stop held meanwhile takes effect now. */
static void create_end(void)
{
    in_create = 0;
    if (held_sig) {
        alarm(0);
        die_of(held_sig);
    }
}

/* Is the object @o (inspected) an orphan: managed, and its owner gone? */
static bool orphaned(const json_t *o)
{
    const json_t *labels = json_object_get(o, "Labels");
    const char *owner;

    if (!labels)
        labels = json_object_get(json_object_get(o, "Config"), "Labels");
    owner = json_string_value(json_object_get(labels, DOCKER_LABEL_OWNER));
    return owner && json_object_get(labels, DOCKER_LABEL_MANAGED) &&
           !docker_owner_alive(owner);
}

static enum ferr_code create_network(struct setup *s, struct ferr *err)
{
    json_t *body =
        json_pack("{s:s, s:s, s:b, s:O}", "Name", s->network, "Driver",
                  "bridge", "CheckDuplicate", 1, "Labels", s->labels);
    struct ferr e2;
    enum ferr_code rc = FERR_OK;

    create_begin();
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *ans = NULL;
        json_t *old = NULL;
        char *path;

        ferr_clear(&e2);
        rc = docker_call(s->d, "POST", "/networks/create", body, &ans, &e2);
        json_decref(ans);
        if (rc != FERR_INVALID || attempt)
            break;
        /* the name is taken: by a killed ferry's job, it can go */
        path = xasprintf("/networks/%s", s->network);
        if (docker_call(s->d, "GET", path, NULL, &old, NULL) == FERR_OK &&
            orphaned(old)) {
            struct ferr e3;

            ferr_clear(&e3);
            if (docker_network_remove(s->d, s->network, &e3))
                e3.code = FERR_OK; /* the create says what is wrong */
        }
        json_decref(old);
        free(path);
    }
    create_end();
    json_decref(body);
    if (rc)
        return ferr_set(err, rc, NULL, "cannot create network '%s': %s",
                        s->network, e2.msg);
    return FERR_OK;
}

/* Create and start the container of @entry; *@out_id is the caller's. */
static enum ferr_code start_container(struct setup *s, const json_t *entry,
                                      char **out_id, struct ferr *err)
{
    const char *name = json_string_value(json_object_get(entry, "name"));
    const json_t *create = json_object_get(entry, "create");
    char *path = xasprintf("/containers/create?name=%s", name);
    json_t *ans = NULL;
    struct ferr e2;
    enum ferr_code rc = FERR_OK;

    *out_id = NULL;
    create_begin();
    for (int attempt = 0; attempt < 2; attempt++) {
        json_t *old = NULL;

        ferr_clear(&e2);
        json_decref(ans);
        ans = NULL;
        rc = docker_call(s->d, "POST", path, create, &ans, &e2);
        if (rc != FERR_INVALID || attempt)
            break;
        /* a conflict: a container of a killed ferry's job may hold the
         * name; anything else keeps it */
        ferr_clear(&e2);
        if (docker_container_inspect(s->d, name, &old, &e2) != FERR_OK ||
            !orphaned(json_object_get(old, "Config"))) {
            json_decref(old);
            ferr_clear(&e2);
            rc = docker_call(s->d, "POST", path, create, &ans, &e2);
            break;
        }
        json_decref(old);
        if (docker_container_remove(s->d, name, true, NULL))
            continue; /* the next create says what is wrong */
    }
    create_end();
    free(path);
    if (rc) {
        json_decref(ans);
        return ferr_set(err, rc, NULL, "cannot create container '%s': %s", name,
                        e2.msg);
    }
    if (!json_is_string(json_object_get(ans, "Id"))) {
        json_decref(ans);
        return ferr_set(err, FERR_IO, NULL,
                        "the engine created '%s' without an id", name);
    }
    *out_id = xstrdup(json_string_value(json_object_get(ans, "Id")));
    json_decref(ans);
    ferr_clear(&e2);
    rc = docker_container_start(s->d, *out_id, &e2);
    if (rc)
        return ferr_set(err, rc, NULL, "cannot start container '%s': %s", name,
                        e2.msg);
    return FERR_OK;
}

/* Keep the last LOG_TAIL_BYTES of a log (the buffer holds twice that,
 * so a piece always fits before the front is dropped). */
static void print_log(void *ud, int stream, const char *p, size_t n)
{
    struct buf *b = ud;

    (void)stream;
    if (n > LOG_TAIL_BYTES) {
        p += n - LOG_TAIL_BYTES;
        n = LOG_TAIL_BYTES;
    }
    if (buf_add(b, p, n)) {
        /* cannot happen within the cap */
    }
    if (b->len > LOG_TAIL_BYTES)
        buf_consume(b, b->len - LOG_TAIL_BYTES);
}

/* The last lines of a failed service's log, each prefixed. */
static void show_logs(struct setup *s, const char *key, const char *id)
{
    struct buf b;
    struct span rest, line;
    struct ferr e2;

    buf_init(&b, 2 * LOG_TAIL_BYTES);
    ferr_clear(&e2);
    if (docker_container_logs(s->d, id, false, print_log, &b, &e2) == FERR_OK) {
        size_t start = b.len;
        int lines = 0;

        /* from the 40th newline counted from the end */
        while (start > 0 && lines <= 40)
            if (b.p[--start] == '\n')
                lines++;
        rest = span_of(b.p ? b.p + start : "", b.len - start);
        while (rest.len) {
            if (!span_cut(rest, '\n', &line, &rest))
                rest.len = 0;
            if (line.len)
                say("  %s | %.*s", key, SPAN_ARGS(line));
        }
    }
    buf_release(&b);
}

struct capture {
    struct buf b;
};

static void capture_out(void *ud, int stream, const char *p, size_t n)
{
    struct capture *c = ud;

    (void)stream;
    if (c->b.len + n > c->b.max)
        n = c->b.max - c->b.len;
    if (buf_add(&c->b, p, n))
        return; /* kept for a message only */
}

static void on_alarm(int sig)
{
    static const char msg[] =
        "error: a service did not become healthy in time\n";

    (void)sig;
    (void)!write(1, msg, sizeof(msg) - 1);
    _exit(1);
}

/* @o's positive integer @k, else @dflt; never above @max (the engine's
 * answer, an image's HEALTHCHECK, may say anything) */
static int64_t jint(const json_t *o, const char *k, int64_t dflt, int64_t max)
{
    json_t *v = json_object_get(o, k);
    int64_t n = json_is_integer(v) && json_integer_value(v) > 0
                    ? (int64_t)json_integer_value(v)
                    : dflt;

    return n > max ? max : n;
}

/* Wait until service @key (@id) runs, and is healthy when it has a
 * health check: ours from options, else its image's.  The checks are
 * run here, as execs, so they work where the engine runs none (Podman
 * without systemd); the engine's own verdict counts too. */
static enum ferr_code wait_service(struct setup *s, const json_t *entry,
                                   const char *id, struct ferr *err)
{
    const char *key = json_string_value(json_object_get(entry, "key"));
    const json_t *hc = json_object_get(entry, "health");
    const json_t *test = NULL;
    json_t *info = NULL;
    char **cmd = NULL;
    int64_t interval, timeout, start, retries;
    uint64_t t0 = mono_ms(), last_counted = 0;
    int failures = 0;
    struct ferr e2;
    enum ferr_code rc = FERR_OK;
    struct sigaction sa;

    ferr_clear(&e2);
    rc = docker_container_inspect(s->d, id, &info, &e2);
    if (rc)
        return ferr_set(err, rc, NULL, "service '%s': %s", key, e2.msg);
    if (json_is_false(hc)) {
        hc = NULL;
    } else {
        const json_t *img =
            json_object_get(json_object_get(info, "Config"), "Healthcheck");

        if (!hc || !json_object_get(hc, "Test"))
            test = json_object_get(img, "Test");
        else
            test = json_object_get(hc, "Test");
        if (!hc)
            hc = img;
    }
    if (json_is_array(test) && json_array_size(test) >= 2) {
        const char *kind = json_string_value(json_array_get(test, 0));
        size_t n = json_array_size(test);

        if (kind && strcmp(kind, "CMD-SHELL") == 0) {
            cmd = xcalloc(4, sizeof(*cmd));
            cmd[0] = xstrdup("/bin/sh");
            cmd[1] = xstrdup("-c");
            cmd[2] = xstrdup(json_string_value(json_array_get(test, 1))
                                 ? json_string_value(json_array_get(test, 1))
                                 : "false");
        } else if (kind && strcmp(kind, "CMD") == 0) {
            cmd = xcalloc(n, sizeof(*cmd));
            for (size_t i = 1; i < n; i++) {
                const char *w = json_string_value(json_array_get(test, i));

                cmd[i - 1] = xstrdup(w ? w : "");
            }
        }
    }
    /* bounded so that the budget below cannot overflow */
    interval = jint(hc, "Interval", DEFAULT_HC_NS, HC_NS_MAX);
    timeout = jint(hc, "Timeout", DEFAULT_HC_NS, HC_NS_MAX);
    start = jint(hc, "StartPeriod", 0, HC_NS_MAX);
    retries = jint(hc, "Retries", DEFAULT_RETRIES, HC_RETRIES_MAX);
    if (cmd) {
        /* a check may hang (timeout cannot cut an exec short): the
         * whole wait is bounded instead */
        int64_t budget_s =
            (start + retries * (interval + timeout)) / (1000 * NS_PER_MS) +
            SETUP_SLACK_S;

        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_alarm;
        sigaction(SIGALRM, &sa, NULL);
        alarm((unsigned)(budget_s > HEALTH_MAX_S ? HEALTH_MAX_S : budget_s));
        say("waiting for service '%s' to be healthy", key);
    }
    for (;;) {
        const json_t *state = json_object_get(info, "State");
        const char *health = json_string_value(
            json_object_get(json_object_get(state, "Health"), "Status"));
        struct capture cap;
        int code = -1;
        uint64_t now;

        if (!json_is_true(json_object_get(state, "Running"))) {
            say("error: service '%s' stopped (exit code %" PRId64 "); "
                "its last lines:",
                key, jint(state, "ExitCode", 0, INT32_MAX));
            show_logs(s, key, id);
            s->said = true;
            rc = ferr_set(err, FERR_INVALID, NULL, "service '%s' stopped", key);
            break;
        }
        if (!cmd || (health && strcmp(health, "healthy") == 0)) {
            say("service '%s' is %s", key, cmd ? "healthy" : "running");
            break;
        }
        if (health && strcmp(health, "unhealthy") == 0) {
            say("error: service '%s' is unhealthy; its last lines:", key);
            show_logs(s, key, id);
            s->said = true;
            rc = ferr_set(err, FERR_INVALID, NULL, "service '%s' is unhealthy",
                          key);
            break;
        }
        buf_init(&cap.b, 4096);
        {
            struct docker_exec x = {.cmd = (const char *const *)cmd};

            ferr_clear(&e2);
            if (docker_exec_run(s->d, id, &x, capture_out, &cap, &code, &e2) !=
                FERR_OK)
                code = -1;
        }
        now = mono_ms();
        if (code == 0) {
            buf_release(&cap.b);
            say("service '%s' is healthy", key);
            break;
        }
        if ((int64_t)(now - t0) * NS_PER_MS >= start &&
            (last_counted == 0 ||
             (int64_t)(now - last_counted) * NS_PER_MS >= interval)) {
            last_counted = now;
            if (++failures >= retries) {
                struct span o = span_trim(buf_span(&cap.b));

                say("error: service '%s' is unhealthy: its check failed %d "
                    "times%s%.*s",
                    key, failures, o.len ? "; last output: " : "",
                    (int)(o.len > 400 ? 400 : o.len), o.p ? o.p : "");
                say("its last lines:");
                show_logs(s, key, id);
                s->said = true;
                buf_release(&cap.b);
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "service '%s' is unhealthy", key);
                break;
            }
        }
        buf_release(&cap.b);
        pause_ms((int)(interval / NS_PER_MS < HEALTH_POLL_MS
                           ? interval / NS_PER_MS
                           : HEALTH_POLL_MS));
        json_decref(info);
        info = NULL;
        ferr_clear(&e2);
        rc = docker_container_inspect(s->d, id, &info, &e2);
        if (rc) {
            rc = ferr_set(err, rc, NULL, "service '%s': %s", key, e2.msg);
            break;
        }
    }
    alarm(0);
    for (size_t i = 0; cmd && cmd[i]; i++)
        free(cmd[i]);
    free(cmd);
    json_decref(info);
    return rc;
}

/* {"8080": "40555"} from an inspected container's published ports. */
static json_t *ports_of(const json_t *info)
{
    json_t *ports =
        json_object_get(json_object_get(info, "NetworkSettings"), "Ports");
    json_t *out = json_object();
    const char *k;
    json_t *v;

    json_object_foreach (ports, k, v) {
        const char *hp = json_string_value(
            json_object_get(json_array_get(v, 0), "HostPort"));
        const char *slash = strchr(k, '/');
        char *cp = slash ? xstrndup(k, (size_t)(slash - k)) : xstrdup(k);

        if (hp && *hp)
            json_object_set_new(out, cp, json_string(hp));
        free(cp);
    }
    return out;
}

static enum ferr_code write_result(const char *path, const json_t *r,
                                   struct ferr *err)
{
    char *tmp = xasprintf("%s.tmp", path);
    enum ferr_code rc = FERR_OK;

    if (json_dump_file(r, tmp, JSON_COMPACT) != 0 || rename(tmp, path) != 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", path,
                      strerror(errno));
    free(tmp);
    return rc;
}

static enum ferr_code run_setup(struct setup *s, struct ferr *err)
{
    json_t *services = json_object_get(s->plan, "services");
    const json_t *job = json_object_get(s->plan, "job");
    json_t *ids = json_array();
    json_t *rsvc = json_object();
    unsigned reaped = 0;
    size_t i;
    json_t *e;
    enum ferr_code rc = FERR_OK;
    struct ferr e2;

    /* what a killed ferry left goes first (its names may be ours) */
    ferr_clear(&e2);
    if (docker_reap_orphans(s->d, &reaped, &e2) == FERR_OK && reaped)
        say("removed %u container(s) and network(s) left by a killed ferry",
            reaped);
    json_array_foreach (services, i, e) {
        rc = ensure_image(s, e, err);
        if (rc)
            goto done;
    }
    if (job) {
        rc = ensure_image(s, job, err);
        if (rc)
            goto done;
    }
    rc = create_network(s, err);
    if (rc)
        goto done;
    say("created network '%s'", s->network);
    json_array_foreach (services, i, e) {
        char *id = NULL;

        say("starting service '%s' (%s)",
            json_string_value(json_object_get(e, "key")),
            json_string_value(json_object_get(e, "image")));
        rc = start_container(s, e, &id, err);
        if (id)
            json_array_append_new(ids, json_string(id));
        free(id);
        if (rc)
            goto done;
    }
    if (job) {
        char *id = NULL;
        json_t *info = NULL;
        const char *path = NULL;
        size_t k;
        json_t *v;

        say("starting the job container (%s)",
            json_string_value(json_object_get(job, "image")));
        rc = start_container(s, job, &id, err);
        if (!rc) {
            ferr_clear(&e2);
            rc = docker_container_inspect(s->d, id, &info, &e2);
            if (rc)
                ferr_set(err, rc, NULL, "the job container: %s", e2.msg);
        }
        if (!rc && !json_is_true(json_object_get(json_object_get(info, "State"),
                                                 "Running"))) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "the job container stopped at once: its image "
                          "needs 'tail' (as on GitHub)");
        }
        json_array_foreach (
            json_object_get(json_object_get(info, "Config"), "Env"), k, v) {
            const char *kv = json_string_value(v);

            if (kv && strncmp(kv, "PATH=", 5) == 0)
                path = kv + 5;
        }
        if (!rc) {
            json_object_set_new(
                s->result, "container",
                json_pack("{s:s, s:s}", "id", id, "network", s->network));
            if (path)
                json_object_set_new(s->result, "path", json_string(path));
        }
        json_decref(info);
        free(id);
        if (rc)
            goto done;
    }
    json_array_foreach (services, i, e) {
        const char *id = json_string_value(json_array_get(ids, i));
        json_t *info = NULL;

        rc = wait_service(s, e, id, err);
        if (rc)
            goto done;
        ferr_clear(&e2);
        if (docker_container_inspect(s->d, id, &info, &e2) == FERR_OK)
            json_object_set_new(
                rsvc, json_string_value(json_object_get(e, "key")),
                json_pack("{s:s, s:s, s:o}", "id", id, "network", s->network,
                          "ports", ports_of(info)));
        json_decref(info);
    }
    json_object_set(s->result, "services", rsvc);
    rc = write_result(json_string_value(json_object_get(s->plan, "result")),
                      s->result, err);
done:
    json_decref(ids);
    json_decref(rsvc);
    return rc;
}

static int cmd_setup(void)
{
    struct setup s;
    struct buf in;
    json_error_t je;
    struct ferr err;
    int status = 1;

    memset(&s, 0, sizeof(s));
    /* the engine that asked is gone: stop creating things (what exists
     * carries its dead owner, and the next start removes it) */
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    catch_stops();
    if (getppid() == 1)
        return 1;
    buf_init(&in, LIM_CEXEC_INPUT);
    if (read_stdin(&in)) {
        say("error: cannot read the container plan");
        goto done;
    }
    s.plan = json_loadb(in.p ? in.p : "", in.len, 0, &je);
    s.labels = json_object_get(s.plan, "labels");
    s.network = json_string_value(json_object_get(s.plan, "network"));
    if (!json_is_object(s.plan) || !json_is_object(s.labels) || !s.network ||
        !json_is_string(json_object_get(s.plan, "result"))) {
        say("error: the container plan is not valid");
        goto done;
    }
    s.result = json_object();
    ferr_clear(&err);
    if (open_engine(&s.d, &err) || run_setup(&s, &err)) {
        char msg[1200];

        if (!s.said)
            say("error: %s", ferr_format(&err, msg, sizeof(msg)));
        goto done;
    }
    status = 0;
done:
    docker_close(s.d);
    /* the plan holds registry credentials */
    zero_strings(s.plan);
    json_decref(s.plan);
    json_decref(s.result);
    if (in.p)
        explicit_bzero(in.p, in.len);
    buf_release(&in);
    return status;
}

/* ---------- --teardown ---------- */

/* Remove the objects of @list (an engine list answer) of kind @what;
 * *@found counts them; false when one could not be removed. */
static bool remove_all(struct docker *d, const json_t *list, const char *what,
                       unsigned *found)
{
    bool ok = true;
    size_t i;
    json_t *o;

    json_array_foreach (list, i, o) {
        const char *id = json_string_value(json_object_get(o, "Id"));
        enum ferr_code rc;
        struct ferr e2;

        if (!id) /* volumes have a Name */
            id = json_string_value(json_object_get(o, "Name"));
        if (!id)
            continue;
        (*found)++;
        ferr_clear(&e2);
        if (strcmp(what, "container") == 0)
            rc = docker_container_remove(d, id, true, &e2);
        else if (strcmp(what, "network") == 0)
            rc = docker_network_remove(d, id, &e2);
        else
            rc = docker_volume_remove(d, id, &e2);
        if (rc && e2.code != FERR_NOTFOUND) {
            say("error: cannot remove %s '%.12s': %s", what, id, e2.msg);
            ok = false;
        }
    }
    return ok;
}

/* The volumes whose labels match all of @labels ("k=v"), as listed. */
static enum ferr_code list_volumes(struct docker *d, const char *const *labels,
                                   json_t **out, struct ferr *err)
{
    json_t *f = json_pack("{s:[]}", "label");
    struct buf path;
    json_t *ans = NULL;
    char *text;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    for (size_t i = 0; labels[i]; i++)
        json_array_append_new(json_object_get(f, "label"),
                              json_string(labels[i]));
    text = json_dumps(f, JSON_COMPACT);
    json_decref(f);
    buf_init(&path, 16384);
    rc = buf_adds(&path, "/volumes?filters=");
    for (const char *p = text; !rc && p && *p; p++) {
        unsigned char ch = (unsigned char)*p;

        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
            (ch >= '0' && ch <= '9') || strchr("-._~", ch))
            rc = buf_addch(&path, (char)ch);
        else
            rc = buf_addf(&path, "%%%02X", ch);
    }
    free(text);
    if (rc)
        rc = ferr_set(err, rc, NULL, "the volume filter is too long");
    if (!rc)
        rc = docker_call(d, "GET", path.p, NULL, &ans, err);
    buf_release(&path);
    if (rc) {
        json_decref(ans);
        return rc;
    }
    *out = json_incref(json_object_get(ans, "Volumes"));
    json_decref(ans);
    if (!*out)
        *out = json_array(); /* "Volumes": null when there are none */
    return FERR_OK;
}

/* One pass: the job's containers (with their anonymous volumes), then
 * its networks and volumes.  *@found counts what was there; false when
 * something could not be listed or removed. */
static bool teardown_pass(struct docker *d, const char *const *labels,
                          unsigned *found)
{
    json_t *list = NULL;
    struct ferr err;
    bool ok = true;

    *found = 0;
    ferr_clear(&err);
    if (docker_container_list(d, labels, true, &list, &err)) {
        say("error: cannot list the job's containers: %s", err.msg);
        return false;
    }
    ok = remove_all(d, list, "container", found);
    json_decref(list);
    list = NULL;
    ferr_clear(&err);
    if (docker_network_list(d, labels, &list, &err)) {
        say("error: cannot list the job's network: %s", err.msg);
        return false;
    }
    ok = remove_all(d, list, "network", found) && ok;
    json_decref(list);
    list = NULL;
    ferr_clear(&err);
    if (list_volumes(d, labels, &list, &err)) {
        say("error: cannot list the job's volumes: %s", err.msg);
        return false;
    }
    ok = remove_all(d, list, "volume", found) && ok;
    json_decref(list);
    return ok;
}

/* Everything that carries the job's labels (managed, owner, run, job)
 * goes.  With --settle (the set-up was killed, maybe while the engine
 * was creating something: a create whose caller is gone still
 * completes, later) it looks again SETTLE_PASSES times, SETTLE_MS
 * apart. */
static int cmd_teardown(int argc, char **argv)
{
    const char *run = NULL, *job = NULL, *owner = NULL;
    char *labels[5] = {NULL};
    struct docker *d = NULL;
    struct ferr err;
    sigset_t set;
    bool settle = false;
    unsigned found = 0;
    int status = 0;

    /* cleaning up is what a cancel wants: finish it */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGPIPE);
    sigprocmask(SIG_BLOCK, &set, NULL);
    for (int a = 2; a < argc; a++) {
        if (strcmp(argv[a], "--settle") == 0) {
            settle = true;
            continue;
        }
        if (a + 1 >= argc)
            break;
        if (strcmp(argv[a], "--run") == 0)
            run = argv[++a];
        else if (strcmp(argv[a], "--job") == 0)
            job = argv[++a];
        else if (strcmp(argv[a], "--owner") == 0)
            owner = argv[++a];
        else
            a++; /* --network N: found by its labels like the rest */
    }
    if (!run || !job || !owner)
        return usage();
    labels[0] = xstrdup(DOCKER_LABEL_MANAGED "=1");
    labels[1] = xasprintf("%s=%s", DOCKER_LABEL_OWNER, owner);
    labels[2] = xasprintf("%s=%s", DOCKER_LABEL_RUN, run);
    labels[3] = xasprintf("%s=%s", DOCKER_LABEL_JOB, job);
    ferr_clear(&err);
    if (open_engine(&d, &err)) {
        say("error: cannot remove the job's containers: %s", err.msg);
        status = 1;
        goto done;
    }
    if (!teardown_pass(d, (const char *const *)labels, &found))
        status = 1;
    for (int i = 0; settle && i < SETTLE_PASSES; i++) {
        pause_ms(SETTLE_MS);
        if (!teardown_pass(d, (const char *const *)labels, &found))
            status = 1;
        else if (found)
            say("removed %u object(s) the engine made after the set-up "
                "was killed",
                found);
    }
done:
    docker_close(d);
    for (size_t i = 0; i < 4; i++)
        free(labels[i]);
    return status;
}

/* ---------- --reap ---------- */

static int cmd_reap(void)
{
    struct sigaction sa;
    struct docker *d = NULL;
    struct ferr err;
    unsigned n = 0;
    int status = 0;

    /* nobody reads our output: writes must not kill us */
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigaction(SIGPIPE, &sa, NULL);
    ferr_clear(&err);
    if (open_engine(&d, &err) || docker_reap_orphans(d, &n, &err)) {
        fprintf(stderr, "ferry __cexec: reaping orphans: %s\n", err.msg);
        status = 1;
    }
    docker_close(d);
    return status;
}

/* ---------- --exec ---------- */

struct xrun {
    struct docker *d;
    const char *cid;
    struct docker_exec x;
    int code;
    enum ferr_code rc;
    struct ferr err;
    int done_fd; /* written once the exec is over */
};

static void *exec_thread(void *ud)
{
    struct xrun *r = ud;

    r->rc =
        docker_exec_run(r->d, r->cid, &r->x, to_fds, NULL, &r->code, &r->err);
    (void)!write(r->done_fd, "x", 1);
    return NULL;
}

/* The directory of @pidfile, opened without following a link (the
 * container may have replaced it with one: then it is not used), and
 * in *@out_name the file's name in it; -1 when it cannot be opened. */
static int open_pid_dir(const char *pidfile, const char **out_name)
{
    const char *slash = strrchr(pidfile, '/');
    char *dir;
    int fd;

    *out_name = slash ? slash + 1 : pidfile;
    dir = slash ? xstrndup(pidfile, (size_t)(slash - pidfile)) : xstrdup(".");
    fd =
        open(*dir ? dir : "/", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    free(dir);
    return fd;
}

/* The step's process group inside the container, from its pid file
 * @name in @dfd.  The file is in the job directory, which the container
 * writes: a FIFO (open or read would block), a link (to any host file)
 * or anything but a plain file is not read, and never more than
 * PIDFILE_MAX bytes. */
static long read_pgid(int dfd, const char *name)
{
    char text[PIDFILE_MAX];
    struct stat st;
    ssize_t n;
    int fd = dfd < 0 ? -1
                     : openat(dfd, name,
                              O_RDONLY | O_NONBLOCK | O_NOFOLLOW | O_CLOEXEC);
    uint64_t v;

    if (fd < 0)
        return -1;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        close(fd);
        return -1;
    }
    do
        n = read(fd, text, sizeof(text) - 1);
    while (n < 0 && errno == EINTR);
    close(fd);
    if (n <= 0)
        return -1;
    text[n] = '\0';
    if (span_to_u64(span_trim(span_cstr(text)), &v) || v < 2 || v > INT32_MAX)
        return -1;
    return (long)v;
}

static void signal_in_container(struct docker *d, const char *cid, long pgid,
                                const char *sig)
{
    char *script = xasprintf("kill -%s -%ld 2>/dev/null; kill -CONT -%ld "
                             "2>/dev/null; exit 0",
                             sig, pgid, pgid);
    const char *cmd[] = {"sh", "-c", script, NULL};
    struct docker_exec x = {.cmd = cmd};
    struct ferr err;
    int code;

    ferr_clear(&err);
    if (docker_exec_run(d, cid, &x, NULL, NULL, &code, &err))
        fprintf(stderr, "ferry: cannot signal the step: %s\n", err.msg);
    free(script);
}

static bool wait_done(int fd, int ms)
{
    struct pollfd pf = {.fd = fd, .events = POLLIN};

    return poll(&pf, 1, ms) > 0;
}

/* SIGTERM reached us: TERM the step's group in the container, KILL it
 * after the grace, and leave. */
static int stop_step(const char *cid, int pid_dir, const char *pid_name,
                     int done_fd)
{
    uint64_t t0 = mono_ms();
    struct docker *d = NULL;
    struct ferr err;
    long pg = -1;

    while ((pg = read_pgid(pid_dir, pid_name)) < 0 &&
           mono_ms() - t0 < PIDFILE_WAIT_MS) {
        if (wait_done(done_fd, 50))
            return 143;
    }
    if (pg < 0)
        return 143; /* it never started; tear-down removes the rest */
    /* a connection of our own: the exec thread's is busy streaming (the
     * library is loaded already, so this is thread-safe) */
    ferr_clear(&err);
    if (open_engine(&d, &err)) {
        fprintf(stderr, "ferry: cannot stop the step: %s\n", err.msg);
        return 143;
    }
    signal_in_container(d, cid, pg, "TERM");
    if (!wait_done(done_fd, GRACE_MS)) {
        signal_in_container(d, cid, pg, "KILL");
        (void)wait_done(done_fd, AFTER_KILL_MS);
    }
    docker_close(d);
    return 143;
}

static int cmd_exec(int argc, char **argv)
{
    const char *cid = NULL, *pidfile = NULL, *workdir = NULL;
    char **cmd = NULL;
    char **env = NULL;
    struct docker *d1 = NULL;
    struct xrun r;
    struct buf in;
    struct ferr err;
    sigset_t set;
    pthread_t th;
    int sfd = -1, done[2] = {-1, -1};
    int pid_dir = -1;
    const char *pid_name = NULL;
    int status = 1;
    int a;
    size_t nenv = 0;

    /* signals arrive on a signalfd; the exec thread must not take them */
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    prctl(PR_SET_PDEATHSIG, SIGTERM);
    buf_init(&in, LIM_CEXEC_INPUT);
    memset(&r, 0, sizeof(r));
    cid = argc > 2 ? argv[2] : NULL;
    for (a = 3; a < argc; a++) {
        if (strcmp(argv[a], "--") == 0) {
            a++;
            break;
        }
        if (a + 1 >= argc)
            return usage();
        if (strcmp(argv[a], "--pidfile") == 0)
            pidfile = argv[++a];
        else if (strcmp(argv[a], "--workdir") == 0)
            workdir = argv[++a];
        else
            return usage();
    }
    if (!cid || !pidfile || a >= argc)
        return usage();
    pid_dir = open_pid_dir(pidfile, &pid_name);
    /* sh -c WRAPPER PIDFILE ARGV... */
    cmd = xcalloc((size_t)(argc - a) + 5, sizeof(*cmd));
    cmd[0] = "sh";
    cmd[1] = "-c";
    cmd[2] = WRAPPER;
    cmd[3] = (char *)pidfile;
    for (int i = a; i < argc; i++)
        cmd[4 + i - a] = argv[i];
    if (read_stdin(&in)) {
        fprintf(stderr, "ferry: cannot read the step's environment\n");
        goto done;
    }
    for (size_t i = 0; i < in.len; i++)
        nenv += in.p[i] == '\0';
    env = xcalloc(nenv + 1, sizeof(*env));
    nenv = 0;
    for (size_t i = 0; i < in.len; i += strlen(in.p + i) + 1)
        env[nenv++] = in.p + i;
    ferr_clear(&err);
    if (open_engine(&d1, &err)) {
        fprintf(stderr, "ferry: %s\n", err.msg);
        goto done;
    }
    sfd = signalfd(-1, &set, SFD_CLOEXEC);
    if (sfd < 0 || pipe2(done, O_CLOEXEC) != 0) {
        fprintf(stderr, "ferry: cannot wait for signals: %s\n",
                strerror(errno));
        goto done;
    }
    r.d = d1;
    r.cid = cid;
    r.x.cmd = (const char *const *)cmd;
    r.x.env = (const char *const *)env;
    r.x.workdir = workdir;
    r.done_fd = done[1];
    ferr_clear(&r.err);
    if (getppid() == 1) {
        status = 143; /* the engine died before we started */
        goto done;
    }
    if (pthread_create(&th, NULL, exec_thread, &r) != 0) {
        fprintf(stderr, "ferry: cannot start a thread\n");
        goto done;
    }
    {
        struct pollfd pf[2] = {{.fd = done[0], .events = POLLIN},
                               {.fd = sfd, .events = POLLIN}};

        while (poll(pf, 2, -1) < 0 && errno == EINTR)
            ;
        if (!(pf[0].revents & POLLIN) && (pf[1].revents & POLLIN)) {
            status = stop_step(cid, pid_dir, pid_name, done[0]);
            /* the exec thread may still be blocked: exit without it */
            if (pid_dir >= 0)
                unlinkat(pid_dir, pid_name, 0);
            fflush(stdout);
            _exit(status);
        }
    }
    pthread_join(th, NULL);
    if (r.rc) {
        fprintf(stderr,
                "ferry: the step could not run in the job "
                "container: %s\n",
                r.err.msg);
        status = 1;
    } else if (r.code < 0) {
        fprintf(stderr, "ferry: the engine did not report the step's exit "
                        "code\n");
        status = 1;
    } else {
        status = r.code > 255 ? 255 : r.code;
    }
done:
    if (pid_dir >= 0) {
        unlinkat(pid_dir, pid_name, 0);
        close(pid_dir);
    }
    if (sfd >= 0)
        close(sfd);
    if (done[0] >= 0) {
        close(done[0]);
        close(done[1]);
    }
    docker_close(d1);
    if (in.p)
        explicit_bzero(in.p, in.len);
    buf_release(&in);
    free(env);
    free(cmd);
    return status;
}

/* jansson's free in this short-lived process: whatever JSON held (the
 * plan's credentials, the engine's auth header, the lexer's and the
 * dumper's scratch copies of them) is zeroed on the way out */
static void zero_free(void *p)
{
    if (p)
        explicit_bzero(p, malloc_usable_size(p));
    free(p);
}

int cli_cexec(int argc, char **argv)
{
    if (argc < 2)
        return usage();
    json_set_alloc_funcs(malloc, zero_free);
    if (strcmp(argv[1], "--setup") == 0)
        return cmd_setup();
    if (strcmp(argv[1], "--exec") == 0)
        return cmd_exec(argc, argv);
    if (strcmp(argv[1], "--teardown") == 0)
        return cmd_teardown(argc, argv);
    if (strcmp(argv[1], "--reap") == 0)
        return cmd_reap();
    return usage();
}
