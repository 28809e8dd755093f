/* cjob: the engine's half of the container executor.  It evaluates a
 * job's `container:`/`services:` (or maps its runs-on label to an image),
 * checks them, and writes the Docker Engine API create bodies into a
 * plan; then it only spawns `ferry __cexec` children (set-up, one per
 * step, tear-down) and reaps them from the loop.  It never talks to the
 * engine itself: every call that may block is in those children. */
#include "engine/cjob.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "docker/docker.h"
#include "exec/proc.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

#define RESULT_MAX  (1024u * 1024u)
#define HEALTH_DURATION_MAX_NS (24LL * 3600 * 1000000000LL) /* a day */
#define PIPE_BUDGET (64u * 1024u * 1024u)

struct cjob {
    json_t *plan;       /* what `__cexec --setup` reads (owned) */
    bool has_container; /* steps run in a job container */
    char *self;         /* this executable */
    char *run_id;
    char *job_key;
    char *job_dir;
    char *network;      /* the per-job network's name */
    char *result_path;  /* where the set-up writes what it made */
    json_t *result;     /* what it made, once read (owned) or NULL */
    char *container_id; /* the job container, once set up */
    char *path;         /* the job container's PATH or NULL */
    unsigned execs;     /* steps spawned (pid file names) */
    const struct job_host *host;
    struct output *out;
    pid_t setup_pid; /* running set-up, or 0 */
    struct outpipe *setup_io;
    bool setup_started;
    bool setup_killed; /* by a signal it does not hold for a create */
    bool cancelled;
    void (*setup_done)(void *ud, bool ok);
    void *setup_ud;
    bool teardown_started;
    int teardown_tries;
    struct outpipe *teardown_io;
    void (*teardown_done)(void *ud);
    void *teardown_ud;
};

/* ---------- process-wide configuration ---------- */

static json_t *platforms; /* label -> image */

static json_t *platform_map(void)
{
    if (!platforms)
        platforms = json_object();
    return platforms;
}

enum ferr_code cjob_platform_add(const char *arg, struct ferr *err)
{
    const char *eq = strchr(arg, '=');
    char *label;

    if (!eq || eq == arg || !eq[1])
        return ferr_set(err, FERR_USAGE, NULL,
                        "platform '%s' is not LABEL=IMAGE", arg);
    label = xstrndup(arg, (size_t)(eq - arg));
    json_object_set_new(platform_map(), label, json_string(eq + 1));
    free(label);
    return FERR_OK;
}

const json_t *cjob_platforms(void)
{
    return platform_map();
}

void cjob_platforms_set(const json_t *map)
{
    const char *k;
    json_t *v;

    json_object_clear(platform_map());
    json_object_foreach ((json_t *)map, k, v) {
        if (json_is_string(v) && *k && json_string_length(v))
            json_object_set(platforms, k, v);
    }
}

static const char *engine_socket(void)
{
    const char *h = getenv("DOCKER_HOST");

    if (h && *h) {
        if (strncmp(h, "unix://", 7) != 0)
            return NULL;
        return h + 7;
    }
    return "/var/run/docker.sock";
}

static char *self_exe(void)
{
    char buf[4096];
    ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);

    if (n <= 0)
        return NULL;
    buf[n] = '\0';
    return xstrdup(buf);
}

void cjob_reap_orphans(void)
{
    const char *sock = engine_socket();
    struct proc_spec spec;
    struct ferr err;
    struct stat st;
    char *self;
    char *argv[4];
    pid_t pid;
    int fd;

    if (!sock || stat(sock, &st) != 0 || !S_ISSOCK(st.st_mode))
        return;
    self = self_exe();
    if (!self)
        return;
    argv[0] = self;
    argv[1] = "__cexec";
    argv[2] = "--reap";
    argv[3] = NULL;
    memset(&spec, 0, sizeof(spec));
    spec.path = self;
    spec.argv = argv;
    spec.stdin_fd = -1;
    ferr_clear(&err);
    if (proc_spawn(&spec, &pid, &fd, &err))
        log_warn("cannot start the orphan reaper err='%s'", err.msg);
    else
        close(fd); /* it says nothing: errors are for the next start */
    free(self);
}

/* ---------- evaluation ---------- */

/* @n with every ${{ }} evaluated, as JSON (plain scalars typed as YAML
 * types them); *@budget bounds the nodes visited (aliases). */
static enum ferr_code eval_tree(const struct expr_env *e, const struct node *n,
                                unsigned *budget, json_t **out,
                                struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    if (!n)
        return FERR_OK;
    if (*budget == 0)
        return ferr_set(err, FERR_LIMIT, &n->pos,
                        "the container definition repeats too much");
    (*budget)--;
    if (n->kind == NODE_SCALAR) {
        if (memmem(n->str, n->len, "${{", 3))
            return expr_interp_value(e, span_of(n->str, n->len), &n->pos, out,
                                     err);
        return node_to_json(n, out, err);
    }
    *out = n->kind == NODE_SEQ ? json_array() : json_object();
    for (size_t i = 0; i < n->n && !rc; i++) {
        json_t *v = NULL;

        rc = eval_tree(e, n->items[i], budget, &v, err);
        if (rc)
            break;
        if (n->kind == NODE_SEQ)
            json_array_append_new(*out, v ? v : json_null());
        else
            json_object_set_new(*out, n->keys[i]->str, v ? v : json_null());
    }
    if (rc) {
        json_decref(*out);
        *out = NULL;
    }
    return rc;
}

/* GitHub's string form of a scalar value into a fresh string; NULL for
 * objects and arrays. */
static char *string_of(const json_t *v)
{
    struct buf b;
    char *s;

    if (!v || json_is_object(v) || json_is_array(v))
        return NULL;
    if (json_is_string(v))
        return xstrndup(json_string_value(v), json_string_length(v));
    buf_init(&b, 4096);
    if (expr_to_string(v, &b)) {
        buf_release(&b);
        return NULL;
    }
    s = buf_take(&b, NULL);
    return s ? s : xstrdup("");
}

static const struct pos *pos_of(const struct node *n, const char *key)
{
    const struct node *k = NULL;
    const struct node *v = node_get(n, key, &k);

    if (v)
        return &v->pos;
    return n ? &n->pos : NULL;
}

/* ---------- option values ---------- */

/* Split @s like a shell would (blanks; '...'; "..." with \ escapes; \
 * outside quotes) into @words. */
static enum ferr_code split_words(const char *s, json_t *words,
                                  const struct pos *pos, struct ferr *err)
{
    struct buf w;
    enum ferr_code rc = FERR_OK;
    bool in_word = false;

    buf_init(&w, 64 * 1024);
    for (const char *p = s;; p++) {
        char ch = *p;

        if (ch == '\0' || ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r') {
            if (in_word) {
                if (json_array_size(words) >= LIM_CONTAINER_WORDS) {
                    rc = ferr_set(err, FERR_LIMIT, pos,
                                  "options have more than %u words",
                                  LIM_CONTAINER_WORDS);
                    break;
                }
                json_array_append_new(
                    words, json_lossy_stringn(w.p ? w.p : "", w.len));
                buf_reset(&w);
                in_word = false;
            }
            if (ch == '\0')
                break;
            continue;
        }
        in_word = true;
        if (ch == '\'') {
            const char *end = strchr(p + 1, '\'');

            if (!end) {
                rc = ferr_set(err, FERR_INVALID, pos,
                              "unterminated ' in options");
                break;
            }
            rc = buf_add(&w, p + 1, (size_t)(end - p - 1));
            p = end;
        } else if (ch == '"') {
            for (p++; *p && *p != '"'; p++) {
                if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
                    p++;
                rc = buf_addch(&w, *p);
                if (rc)
                    break;
            }
            if (!rc && *p != '"')
                rc = ferr_set(err, FERR_INVALID, pos,
                              "unterminated \" in options");
        } else if (ch == '\\' && p[1]) {
            p++;
            rc = buf_addch(&w, *p);
        } else {
            rc = buf_addch(&w, ch);
        }
        if (rc) {
            rc = ferr_set(err, rc, pos, "an option word is too long");
            break;
        }
    }
    buf_release(&w);
    return rc;
}

/* A Go duration ("1m30s", "500ms", "10s", "1.5h", "0") in ns. */
static bool parse_duration(const char *s, int64_t *out_ns)
{
    static const struct {
        const char *unit;
        double ns;
    } units[] = {
        {"ns", 1},  {"us", 1e3}, {"\xc2\xb5s", 1e3}, {"ms", 1e6},
        {"s", 1e9}, {"m", 60e9}, {"h", 3600e9},
    };
    double total = 0;
    const char *p = s;

    *out_ns = 0;
    if (strcmp(s, "0") == 0)
        return true;
    if (!*p)
        return false;
    while (*p) {
        char *end;
        double v;
        size_t best = 0;
        double mul = 0;

        if (!((*p >= '0' && *p <= '9') || *p == '.'))
            return false;
        v = strtod(p, &end);
        if (end == p || !(v >= 0))
            return false;
        p = end;
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
            size_t n = strlen(units[i].unit);

            if (n > best && strncmp(p, units[i].unit, n) == 0 &&
                !(n == 1 && units[i].unit[0] == 'm' && p[1] == 's')) {
                best = n;
                mul = units[i].ns;
            }
        }
        if (!best)
            return false;
        p += best;
        total += v * mul;
        if (total > 1e18)
            return false;
    }
    *out_ns = (int64_t)total;
    return true;
}

/* A size like docker's ("512m", "1g", "1024", "64k") in bytes. */
static bool parse_size(const char *s, int64_t *out)
{
    char *end;
    double v = strtod(s, &end);
    double mul = 1;

    *out = 0;
    if (end == s || !(v >= 0))
        return false;
    if (*end) {
        switch (*end | 0x20) {
        case 'b': mul = 1; break;
        case 'k': mul = 1024.0; break;
        case 'm': mul = 1024.0 * 1024; break;
        case 'g': mul = 1024.0 * 1024 * 1024; break;
        default: return false;
        }
        end++;
        if (*end == 'b' || *end == 'B')
            end++;
        if (*end)
            return false;
    }
    if (v * mul > 9e18)
        return false;
    *out = (int64_t)(v * mul);
    return true;
}

static bool port_number(const char *s, size_t n, bool allow_empty)
{
    unsigned v = 0;

    if (n == 0)
        return allow_empty;
    if (n > 5)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (unsigned)(s[i] - '0');
    }
    return v >= 1 && v <= 65535;
}

/* One `ports:` entry: [[IP:]HOST:]CONTAINER[/PROTO].  Host ports bind
 * 127.0.0.1 unless an address is given. */
static enum ferr_code add_port(json_t *create, const char *spec,
                               const struct pos *pos, struct ferr *err)
{
    char *s = xstrdup(spec);
    char *proto = strchr(s, '/');
    char *cport;
    char *hport = NULL;
    const char *ip = "127.0.0.1";
    char *key = NULL;
    json_t *hc = json_object_get(create, "HostConfig");
    json_t *pb;
    json_t *ex;
    enum ferr_code rc = FERR_OK;

    if (proto) {
        *proto++ = '\0';
        if (strcmp(proto, "tcp") != 0 && strcmp(proto, "udp") != 0 &&
            strcmp(proto, "sctp") != 0) {
            rc = ferr_set(err, FERR_INVALID, pos,
                          "port '%s': unknown protocol '%s'", spec, proto);
            goto done;
        }
    }
    cport = strrchr(s, ':');
    if (cport) {
        *cport++ = '\0';
        hport = strrchr(s, ':');
        if (hport) {
            *hport++ = '\0';
            ip = s;
            if (*ip == '[' && ip[strlen(ip) - 1] == ']') {
                s[strlen(s) - 1] = '\0';
                ip++;
            }
            if (!*ip)
                ip = "127.0.0.1";
        } else {
            hport = s;
        }
    } else {
        cport = s;
    }
    if (!port_number(cport, strlen(cport), false) ||
        (hport && !port_number(hport, strlen(hport), true))) {
        rc = ferr_set(err, FERR_INVALID, pos,
                      "port '%s' is not [[IP:]HOST:]CONTAINER[/PROTOCOL] "
                      "with ports from 1 to 65535",
                      spec);
        goto done;
    }
    key = xasprintf("%s/%s", cport, proto ? proto : "tcp");
    ex = json_object_get(create, "ExposedPorts");
    if (!ex) {
        ex = json_object();
        json_object_set_new(create, "ExposedPorts", ex);
    }
    json_object_set_new(ex, key, json_object());
    pb = json_object_get(hc, "PortBindings");
    if (!pb) {
        pb = json_object();
        json_object_set_new(hc, "PortBindings", pb);
    }
    if (!json_object_get(pb, key))
        json_object_set_new(pb, key, json_array());
    json_array_append_new(
        json_object_get(pb, key),
        json_pack("{s:s, s:s}", "HostIp", ip, "HostPort", hport ? hport : ""));
done:
    free(key);
    free(s);
    return rc;
}

/* One `volumes:` entry: SOURCE:DEST[:MODE] (a host path or a named
 * volume) or DEST (an anonymous volume, removed with the container). */
static enum ferr_code add_volume(json_t *create, const char *spec,
                                 const struct pos *pos, struct ferr *err)
{
    const char *colon = strchr(spec, ':');
    json_t *hc = json_object_get(create, "HostConfig");

    if (!colon) {
        json_t *vols = json_object_get(create, "Volumes");

        if (spec[0] != '/')
            return ferr_set(err, FERR_INVALID, pos,
                            "volume '%s' needs an absolute path in the "
                            "container",
                            spec);
        if (!vols) {
            vols = json_object();
            json_object_set_new(create, "Volumes", vols);
        }
        json_object_set_new(vols, spec, json_object());
        return FERR_OK;
    }
    if (colon == spec || colon[1] != '/')
        return ferr_set(err, FERR_INVALID, pos,
                        "volume '%s' is not SOURCE:/PATH[:MODE]", spec);
    if (!json_object_get(hc, "Binds"))
        json_object_set_new(hc, "Binds", json_array());
    json_array_append_new(json_object_get(hc, "Binds"), json_string(spec));
    return FERR_OK;
}

/* ---------- options ---------- */

struct health {
    bool set;         /* any --health-* option was given */
    bool none;        /* --no-healthcheck */
    json_t *test;     /* ["CMD-SHELL", cmd] or NULL: the image's */
    int64_t interval; /* ns, 0 = default */
    int64_t timeout;
    int64_t start;
    int64_t retries; /* 0 = default */
};

enum opt_kind {
    O_ENV,
    O_USER,
    O_HOSTNAME,
    O_WORKDIR,
    O_ENTRYPOINT,
    O_LABEL,
    O_PRIVILEGED,
    O_CAP_ADD,
    O_CAP_DROP,
    O_MEMORY,
    O_CPUS,
    O_SHM,
    O_TMPFS,
    O_ADD_HOST,
    O_INIT,
    O_READ_ONLY,
    O_VOLUME,
    O_HEALTH_CMD,
    O_HEALTH_INTERVAL,
    O_HEALTH_TIMEOUT,
    O_HEALTH_RETRIES,
    O_HEALTH_START,
    O_NO_HEALTH,
    O_NETWORK,
    O_NAME,
    O_PUBLISH,
    O_RM,
};

static const struct opt {
    const char *name; /* long form */
    char short_name;  /* 0: none */
    bool takes;       /* a value follows */
    enum opt_kind kind;
} opts[] = {
    {"env", 'e', true, O_ENV},
    {"user", 'u', true, O_USER},
    {"hostname", 'h', true, O_HOSTNAME},
    {"workdir", 'w', true, O_WORKDIR},
    {"entrypoint", 0, true, O_ENTRYPOINT},
    {"label", 'l', true, O_LABEL},
    {"privileged", 0, false, O_PRIVILEGED},
    {"cap-add", 0, true, O_CAP_ADD},
    {"cap-drop", 0, true, O_CAP_DROP},
    {"memory", 'm', true, O_MEMORY},
    {"cpus", 0, true, O_CPUS},
    {"shm-size", 0, true, O_SHM},
    {"tmpfs", 0, true, O_TMPFS},
    {"add-host", 0, true, O_ADD_HOST},
    {"init", 0, false, O_INIT},
    {"read-only", 0, false, O_READ_ONLY},
    {"volume", 'v', true, O_VOLUME},
    {"health-cmd", 0, true, O_HEALTH_CMD},
    {"health-interval", 0, true, O_HEALTH_INTERVAL},
    {"health-timeout", 0, true, O_HEALTH_TIMEOUT},
    {"health-retries", 0, true, O_HEALTH_RETRIES},
    {"health-start-period", 0, true, O_HEALTH_START},
    {"no-healthcheck", 0, false, O_NO_HEALTH},
    {"network", 0, true, O_NETWORK},
    {"net", 0, true, O_NETWORK},
    {"name", 0, true, O_NAME},
    {"publish", 'p', true, O_PUBLISH},
    {"rm", 0, false, O_RM},
};

static const struct opt *find_opt(const char *w, const char **out_inline)
{
    *out_inline = NULL;
    if (w[0] == '-' && w[1] == '-') {
        const char *eq = strchr(w + 2, '=');
        size_t n = eq ? (size_t)(eq - w - 2) : strlen(w + 2);

        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
            if (strlen(opts[i].name) == n &&
                strncmp(opts[i].name, w + 2, n) == 0) {
                *out_inline = eq ? eq + 1 : NULL;
                return &opts[i];
            }
        return NULL;
    }
    if (w[0] == '-' && w[1] && w[1] != '-') {
        for (size_t i = 0; i < sizeof(opts) / sizeof(opts[0]); i++)
            if (opts[i].short_name == w[1]) {
                if (w[2])
                    *out_inline = w[2] == '=' ? w + 3 : w + 2;
                return &opts[i];
            }
    }
    return NULL;
}

static void push_str(json_t *obj, const char *key, const char *v)
{
    json_t *a = json_object_get(obj, key);

    if (!a) {
        a = json_array();
        json_object_set_new(obj, key, a);
    }
    json_array_append_new(a, json_string(v));
}

static enum ferr_code bad_value(const struct opt *o, const char *v,
                                const struct pos *pos, struct ferr *err)
{
    return ferr_set(err, FERR_INVALID, pos,
                    "option '--%s' has a bad value '%s'", o->name, v);
}

/* Apply one option with value @v (NULL for flags). */
static enum ferr_code apply_opt(json_t *create, struct health *h,
                                const struct opt *o, const char *v,
                                const struct pos *pos, struct ferr *err)
{
    json_t *hc = json_object_get(create, "HostConfig");
    int64_t n;

    switch (o->kind) {
    case O_ENV:
        if (!strchr(v, '=')) {
            const char *hv = getenv(v);

            /* docker takes a bare NAME from its own environment */
            if (!hv)
                return FERR_OK;
            {
                char *kv = xasprintf("%s=%s", v, hv);

                push_str(create, "Env", kv);
                free(kv);
            }
            return FERR_OK;
        }
        push_str(create, "Env", v);
        return FERR_OK;
    case O_USER: json_object_set_new(create, "User", json_string(v)); break;
    case O_HOSTNAME:
        json_object_set_new(create, "Hostname", json_string(v));
        break;
    case O_WORKDIR:
        json_object_set_new(create, "WorkingDir", json_string(v));
        break;
    case O_ENTRYPOINT:
        json_object_set_new(create, "Entrypoint", json_pack("[s]", v));
        break;
    case O_LABEL: {
        const char *eq = strchr(v, '=');
        char *k = eq ? xstrndup(v, (size_t)(eq - v)) : xstrdup(v);
        json_t *labels = json_object_get(create, "Labels");

        if (strncmp(k, "io.ferry.", 9) != 0)
            json_object_set_new(labels, k, json_string(eq ? eq + 1 : ""));
        free(k);
        break;
    }
    case O_PRIVILEGED:
        json_object_set_new(hc, "Privileged", json_true());
        break;
    case O_CAP_ADD: push_str(hc, "CapAdd", v); break;
    case O_CAP_DROP: push_str(hc, "CapDrop", v); break;
    case O_MEMORY:
        if (!parse_size(v, &n))
            return bad_value(o, v, pos, err);
        json_object_set_new(hc, "Memory", json_integer(n));
        break;
    case O_SHM:
        if (!parse_size(v, &n))
            return bad_value(o, v, pos, err);
        json_object_set_new(hc, "ShmSize", json_integer(n));
        break;
    case O_CPUS: {
        char *end;
        double c = strtod(v, &end);

        if (end == v || *end || !(c > 0) || c > 4096)
            return bad_value(o, v, pos, err);
        json_object_set_new(hc, "NanoCpus",
                            json_integer((json_int_t)llround(c * 1e9)));
        break;
    }
    case O_TMPFS: {
        const char *colon = strchr(v, ':');
        char *path = colon ? xstrndup(v, (size_t)(colon - v)) : xstrdup(v);
        json_t *t = json_object_get(hc, "Tmpfs");

        if (!t) {
            t = json_object();
            json_object_set_new(hc, "Tmpfs", t);
        }
        json_object_set_new(t, path, json_string(colon ? colon + 1 : ""));
        free(path);
        break;
    }
    case O_ADD_HOST: push_str(hc, "ExtraHosts", v); break;
    case O_INIT: json_object_set_new(hc, "Init", json_true()); break;
    case O_READ_ONLY:
        json_object_set_new(hc, "ReadonlyRootfs", json_true());
        break;
    case O_VOLUME: return add_volume(create, v, pos, err);
    case O_PUBLISH: return add_port(create, v, pos, err);
    case O_HEALTH_CMD:
        h->set = true;
        json_decref(h->test);
        h->test = json_pack("[s, s]", "CMD-SHELL", v);
        break;
    case O_HEALTH_INTERVAL:
    case O_HEALTH_TIMEOUT:
    case O_HEALTH_START:
        /* the whole wait is capped at an hour (cexec_cmd.c): a day is
         * ample, and keeps retries * (interval + timeout) in range */
        if (!parse_duration(v, &n) || n > HEALTH_DURATION_MAX_NS)
            return bad_value(o, v, pos, err);
        h->set = true;
        if (o->kind == O_HEALTH_INTERVAL)
            h->interval = n;
        else if (o->kind == O_HEALTH_TIMEOUT)
            h->timeout = n;
        else
            h->start = n;
        break;
    case O_HEALTH_RETRIES: {
        uint64_t r;

        if (span_to_u64(span_cstr(v), &r) || r > 1000)
            return bad_value(o, v, pos, err);
        h->set = true;
        h->retries = (int64_t)r;
        break;
    }
    case O_NO_HEALTH: h->none = true; break;
    case O_NETWORK:
        return ferr_set(err, FERR_UNSUPPORTED, pos,
                        "option '--network' is not allowed: ferry puts "
                        "the job's containers on their own network");
    case O_NAME:
    case O_RM:
        return ferr_set(err, FERR_UNSUPPORTED, pos,
                        "option '--%s' is not allowed: ferry names and "
                        "removes the job's containers",
                        o->name);
    }
    return FERR_OK;
}

static enum ferr_code apply_options(json_t *create, struct health *h,
                                    const char *text, const struct pos *pos,
                                    struct ferr *err)
{
    json_t *words = json_array();
    enum ferr_code rc = split_words(text, words, pos, err);
    size_t n = json_array_size(words);

    for (size_t i = 0; i < n && !rc; i++) {
        const char *w = json_string_value(json_array_get(words, i));
        const char *inl;
        const struct opt *o = find_opt(w, &inl);
        const char *v = NULL;

        if (!o) {
            rc = ferr_set(err, FERR_UNSUPPORTED, pos,
                          "option '%s' is not supported by ferry's "
                          "container executor",
                          w);
            break;
        }
        if (o->takes) {
            if (inl) {
                v = inl;
            } else if (i + 1 < n) {
                v = json_string_value(json_array_get(words, ++i));
            } else {
                rc = ferr_set(err, FERR_INVALID, pos,
                              "option '--%s' needs a value", o->name);
                break;
            }
        } else if (inl && strcmp(inl, "true") != 0) {
            if (strcmp(inl, "false") == 0)
                continue;
            rc = bad_value(o, inl, pos, err);
            break;
        }
        rc = apply_opt(create, h, o, v, pos, err);
    }
    json_decref(words);
    return rc;
}

/* ---------- the plan ---------- */

static uint32_t fnv1a(const char *s)
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 16777619u;
    return h;
}

/* "-PART", or a long part's start and a hash of it all. */
static enum ferr_code add_part(struct buf *b, const char *p)
{
    if (strlen(p) <= 48)
        return buf_addf(b, "-%s", p);
    return buf_addf(b, "-%.40s-%08x", p, (unsigned)fnv1a(p));
}

/* "ferry-RUN-JOB-TAG[-SERVICE]", as the engine accepts names
 * ([a-zA-Z0-9][a-zA-Z0-9_.-]*).  TAG comes from this process (the owner
 * label): run ids are unique only per server, and servers may share an
 * engine. */
static char *engine_name(const char *run, const char *key, const char *svc)
{
    struct buf b;
    enum ferr_code rc;
    char *s;
    size_t n;

    buf_init(&b, 4096); /* each part is bounded: never reached */
    rc = buf_adds(&b, "ferry");
    if (!rc)
        rc = add_part(&b, run);
    if (!rc)
        rc = add_part(&b, key);
    if (!rc)
        rc = buf_addf(&b, "-%06x",
                      (unsigned)(fnv1a(docker_owner()) & 0xffffffu));
    if (!rc && svc)
        rc = add_part(&b, svc);
    s = buf_take(&b, &n);
    for (size_t i = 0; i < n; i++) {
        char ch = s[i];

        if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
              (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == '-'))
            s[i] = '-';
    }
    return s;
}

static json_t *labels_of(const struct cjob *c)
{
    return json_pack("{s:s, s:s, s:s, s:s}", DOCKER_LABEL_MANAGED, "1",
                     DOCKER_LABEL_OWNER, docker_owner(), DOCKER_LABEL_RUN,
                     c->run_id, DOCKER_LABEL_JOB, c->job_key);
}

/* The registry host of @image (for credentials): the first component
 * when it looks like a host, else Docker Hub. */
static char *registry_of(const char *image)
{
    const char *slash = strchr(image, '/');

    if (slash) {
        char *first = xstrndup(image, (size_t)(slash - image));

        if (strchr(first, '.') || strchr(first, ':') ||
            strcmp(first, "localhost") == 0)
            return first;
        free(first);
    }
    return xstrdup("https://index.docker.io/v1/");
}

/* One container of the plan from its evaluated definition @v (a string
 * or a mapping) written at @n; @key is the service's id, NULL for the
 * job container.  *@out is NULL for a service with an empty image. */
static enum ferr_code plan_container(struct cjob *c, const char *key,
                                     const json_t *v, const struct node *n,
                                     const char *workspace, json_t **out,
                                     struct ferr *err)
{
    const char *what = key ? "service" : "container";
    json_t *create = NULL;
    json_t *entry = NULL;
    json_t *x;
    char *image = NULL;
    struct health h;
    enum ferr_code rc = FERR_OK;
    const char *k;
    size_t i;

    memset(&h, 0, sizeof(h));
    *out = NULL;
    if (json_is_string(v) || json_is_number(v)) {
        image = string_of(v);
    } else if (json_is_object(v)) {
        x = json_object_get(v, "image");
        if (json_is_null(x))
            x = NULL;
        if (x && !json_is_string(x)) {
            rc = ferr_set(err, FERR_INVALID, pos_of(n, "image"),
                          "%s image must be a string", what);
            goto done;
        }
        image = xstrdup(x ? json_string_value(x) : "");
    } else {
        rc = ferr_set(err, FERR_INVALID, n ? &n->pos : NULL,
                      "%s must be an image name or a mapping", what);
        goto done;
    }
    if (!image[0])
        goto done; /* GitHub: no image, no container (a matrix may say) */
    create = json_pack("{s:s, s:o, s:{s:s}, s:{s:{}}}", "Image", image,
                       "Labels", labels_of(c), "HostConfig", "NetworkMode",
                       c->network, "NetworkingConfig", "EndpointsConfig");
    json_object_set_new(
        json_object_get(json_object_get(create, "NetworkingConfig"),
                        "EndpointsConfig"),
        c->network, key ? json_pack("{s:[s]}", "Aliases", key) : json_object());
    entry = json_pack("{s:s, s:s}", "image", image, "name", "" /* set below */);
    if (json_is_object(v)) {
        json_object_foreach ((json_t *)v, k, x) {
            if (strcmp(k, "image") == 0 || json_is_null(x))
                continue;
            if (strcmp(k, "credentials") == 0) {
                json_t *u = json_object_get(x, "username");
                json_t *p = json_object_get(x, "password");

                if (!json_is_object(x) || (u && !json_is_string(u)) ||
                    (p && !json_is_string(p))) {
                    rc = ferr_set(err, FERR_INVALID, pos_of(n, k),
                                  "credentials must be a mapping of "
                                  "username and password");
                    goto done;
                }
                if (u || p)
                    json_object_set_new(
                        entry, "credentials",
                        json_pack("{s:s, s:s}", "username",
                                  u ? json_string_value(u) : "", "password",
                                  p ? json_string_value(p) : ""));
            } else if (strcmp(k, "env") == 0) {
                const char *ek;
                json_t *ev;

                if (!json_is_object(x)) {
                    rc = ferr_set(err, FERR_INVALID, pos_of(n, k),
                                  "env must be a mapping");
                    goto done;
                }
                json_object_foreach (x, ek, ev) {
                    char *s = string_of(ev);
                    char *kv = xasprintf("%s=%s", ek, s ? s : "");

                    push_str(create, "Env", kv);
                    free(kv);
                    free(s);
                }
            } else if (strcmp(k, "ports") == 0 || strcmp(k, "volumes") == 0) {
                json_t *list = x;
                json_t *one = NULL;

                if (!json_is_array(x)) {
                    one = json_pack("[O]", x);
                    list = one;
                }
                for (i = 0; i < json_array_size(list) && !rc; i++) {
                    char *s = string_of(json_array_get(list, i));

                    if (!s)
                        rc = ferr_set(err, FERR_INVALID, pos_of(n, k),
                                      "%s must be a list of strings", k);
                    else if (k[0] == 'p')
                        rc = add_port(create, s, pos_of(n, k), err);
                    else
                        rc = add_volume(create, s, pos_of(n, k), err);
                    free(s);
                }
                json_decref(one);
                if (rc)
                    goto done;
            } else if (strcmp(k, "options") == 0) {
                char *s = string_of(x);

                if (!s) {
                    rc = ferr_set(err, FERR_INVALID, pos_of(n, k),
                                  "options must be a string");
                    goto done;
                }
                rc = apply_options(create, &h, s, pos_of(n, k), err);
                free(s);
                if (rc)
                    goto done;
            }
            /* other keys: lint warns about them */
        }
    }
    if (!key) {
        /* the job container idles; steps are execs in it */
        json_t *hc = json_object_get(create, "HostConfig");
        const char *list = strchr(c->job_dir, ':') ? "Mounts" : "Binds";
        json_t *l = json_object_get(hc, list);

        if (*list == 'M' && strchr(c->job_dir, ',')) {
            rc = ferr_set(err, FERR_UNSUPPORTED, NULL,
                          "the job directory '%s' has both ':' and ',' in "
                          "its path: engines cannot mount it (choose "
                          "another --home)",
                          c->job_dir);
            goto done;
        }
        json_object_set_new(create, "Entrypoint", json_pack("[s]", "tail"));
        json_object_set_new(create, "Cmd",
                            json_pack("[s, s]", "-f", "/dev/null"));
        if (!json_object_get(create, "WorkingDir"))
            json_object_set_new(create, "WorkingDir", json_string(workspace));
        json_object_set_new(hc, "Init", json_true());
        /* a ':' in FERRY_HOME's path would split a Binds "SRC:DST"
         * string: then a Mounts entry (which Podman turns into a
         * ','-separated spec: so not both, refused above) */
        if (!l) {
            l = json_array();
            json_object_set_new(hc, list, l);
        }
        json_array_insert_new(
            l, 0,
            *list == 'M'
                ? json_pack("{s:s, s:s, s:s}", "Type", "bind", "Source",
                            c->job_dir, "Target", c->job_dir)
                : json_sprintf("%s:%s", c->job_dir, c->job_dir));
    }
    if (h.none) {
        json_object_set_new(create, "Healthcheck",
                            json_pack("{s:[s]}", "Test", "NONE"));
        json_object_set_new(entry, "health", json_false());
    } else if (h.set) {
        json_t *hcj = json_object();

        if (h.test)
            json_object_set(hcj, "Test", h.test);
        if (h.interval)
            json_object_set_new(hcj, "Interval", json_integer(h.interval));
        if (h.timeout)
            json_object_set_new(hcj, "Timeout", json_integer(h.timeout));
        if (h.start)
            json_object_set_new(hcj, "StartPeriod", json_integer(h.start));
        if (h.retries)
            json_object_set_new(hcj, "Retries", json_integer(h.retries));
        json_object_set(entry, "health", hcj);
        json_object_set_new(create, "Healthcheck", hcj);
    }
    {
        json_t *cred = json_object_get(entry, "credentials");

        if (cred) {
            char *server = registry_of(image);

            json_object_set_new(cred, "server", json_string(server));
            free(server);
        }
    }
    {
        char *name = engine_name(c->run_id, c->job_key, key);

        json_object_set_new(entry, "name", json_string(name));
        free(name);
    }
    if (key)
        json_object_set_new(entry, "key", json_string(key));
    json_object_set(entry, "create", create);
    *out = entry;
    entry = NULL;
done:
    json_decref(h.test);
    json_decref(create);
    json_decref(entry);
    free(image);
    return rc;
}

/* Zero, before they are freed, the strings under every "credentials"
 * of @v (the plan, or an evaluated container/services definition) that
 * nothing else holds (an expression may hand out a context's own). */
static void zero_secrets_in(json_t *v, bool creds)
{
    const char *k;
    json_t *x;
    size_t i;

    if (creds && json_is_string(v) && v->refcount == 1)
        explicit_bzero((char *)json_string_value(v), json_string_length(v));
    else if (json_is_object(v))
        json_object_foreach (v, k, x)
            zero_secrets_in(x, creds || strcmp(k, "credentials") == 0);
    else if (json_is_array(v))
        json_array_foreach (v, i, x)
            zero_secrets_in(x, creds);
}

static void zero_secrets(json_t *v)
{
    zero_secrets_in(v, false);
}

/* The image runs-on maps to, or NULL: the first label with a mapping
 * (-P); "-self-hosted" keeps the job on the host. */
static enum ferr_code platform_image(const struct expr_env *e,
                                     const struct node *runs_on, char **out,
                                     struct ferr *err)
{
    json_t *v = NULL;
    json_t *labels;
    unsigned budget = LIM_YAML_NODES;
    enum ferr_code rc;
    size_t i;
    json_t *x;

    *out = NULL;
    if (!runs_on || json_object_size(platform_map()) == 0)
        return FERR_OK;
    rc = eval_tree(e, runs_on, &budget, &v, err);
    if (rc)
        return rc;
    labels = json_is_object(v) ? json_object_get(v, "labels") : v;
    if (json_is_string(labels)) {
        x = json_object_get_nocase(platforms, json_string_value(labels));
        if (json_is_string(x))
            *out = xstrdup(json_string_value(x));
    } else {
        json_array_foreach (labels, i, x) {
            json_t *img;

            if (!json_is_string(x))
                continue;
            img = json_object_get_nocase(platforms, json_string_value(x));
            if (json_is_string(img)) {
                *out = xstrdup(json_string_value(img));
                break;
            }
        }
    }
    json_decref(v);
    if (*out && strcmp(*out, "-self-hosted") == 0) {
        free(*out);
        *out = NULL;
    }
    return FERR_OK;
}

enum ferr_code cjob_new(const struct cjob_spec *spec, const struct expr_env *e,
                        struct cjob **out, struct ferr *err)
{
    const struct wf_job *wj = spec->wj;
    struct cjob *c = NULL;
    json_t *cv = NULL;
    json_t *sv = NULL;
    json_t *services = NULL;
    char *pimage = NULL;
    unsigned budget = LIM_YAML_NODES;
    enum ferr_code rc;

    *out = NULL;
    rc = eval_tree(e, wj->container, &budget, &cv, err);
    if (!rc)
        rc = eval_tree(e, wj->services, &budget, &sv, err);
    if (!rc && (!cv || json_is_null(cv)))
        rc = platform_image(e, wj->runs_on, &pimage, err);
    if (rc)
        goto done;
    if (json_is_null(cv)) {
        json_decref(cv);
        cv = NULL;
    }
    if (json_is_null(sv)) {
        json_decref(sv);
        sv = NULL;
    }
    if (!cv && pimage)
        cv = json_string(pimage);
    if (sv && !json_is_object(sv)) {
        rc = ferr_set(err, FERR_INVALID, &wj->services->pos,
                      "services must be a mapping of service ids");
        goto done;
    }
    if (json_object_size(sv) > LIM_SERVICES) {
        rc = ferr_set(err, FERR_LIMIT, &wj->services->pos,
                      "a job may have at most %u services", LIM_SERVICES);
        goto done;
    }
    if (!cv && json_object_size(sv) == 0)
        goto done;
    c = xcalloc(1, sizeof(*c));
    c->self = self_exe();
    if (!c->self) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot find the ferry binary: %s",
                      strerror(errno));
        goto done;
    }
    c->run_id = xstrdup(spec->run_id);
    c->job_key = xstrdup(spec->job_key);
    c->job_dir = xstrdup(spec->job_dir);
    c->network = engine_name(spec->run_id, spec->job_key, NULL);
    /* beside the job directory, not in it: the job container writes
     * that one (and runs its image's code before the set-up writes
     * this), so a link or a FIFO it planted at this name would have the
     * set-up write, or the engine read or block on, something else */
    c->result_path = xasprintf("%s.cexec-result.json", spec->job_dir);
    services = json_array();
    {
        const char *k;
        json_t *x;

        json_object_foreach (sv, k, x) {
            const struct node *sn = node_get(wj->services, k, NULL);
            json_t *entry = NULL;
            const char *p;

            for (p = k; *p; p++)
                if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
                      (*p >= '0' && *p <= '9') || *p == '_' || *p == '-'))
                    break;
            if (*p || !*k) {
                rc = ferr_set(err, FERR_INVALID,
                              sn ? &sn->pos : &wj->services->pos,
                              "service id '%s' is not a valid host name "
                              "(letters, digits, '-' and '_')",
                              k);
                goto done;
            }
            rc = plan_container(c, k, x, sn ? sn : wj->services,
                                spec->workspace, &entry, err);
            if (rc)
                goto done;
            if (entry)
                json_array_append_new(services, entry);
        }
    }
    c->plan =
        json_pack("{s:s, s:o, s:s, s:O}", "network", c->network, "labels",
                  labels_of(c), "result", c->result_path, "services", services);
    if (cv) {
        json_t *entry = NULL;

        rc = plan_container(c, NULL, cv,
                            wj->container ? wj->container : wj->runs_on,
                            spec->workspace, &entry, err);
        if (rc)
            goto done;
        if (entry) {
            json_object_set_new(c->plan, "job", entry);
            c->has_container = true;
        }
    }
    if (json_array_size(services) == 0 && !c->has_container) {
        /* only services without images: nothing to start */
        cjob_free(c);
        c = NULL;
    }
done:
    if (rc) {
        cjob_free(c);
        c = NULL;
    }
    *out = c;
    json_decref(services);
    zero_secrets(cv);
    json_decref(cv);
    zero_secrets(sv);
    json_decref(sv);
    free(pimage);
    return rc;
}

void cjob_free(struct cjob *c)
{
    if (!c)
        return;
    zero_secrets(c->plan);
    json_decref(c->plan);
    json_decref(c->result);
    free(c->self);
    free(c->run_id);
    free(c->job_key);
    free(c->job_dir);
    free(c->network);
    free(c->result_path);
    free(c->container_id);
    free(c->path);
    free(c);
}

bool cjob_has_container(const struct cjob *c)
{
    return c && c->has_container;
}

const json_t *cjob_plan(const struct cjob *c)
{
    return c->plan;
}

const char *cjob_path(const struct cjob *c)
{
    return c ? c->path : NULL;
}

void cjob_job_context(const struct cjob *c, json_t *jobc)
{
    json_t *x;

    if (!c || !c->result)
        return;
    x = json_object_get(c->result, "container");
    if (json_is_object(x))
        json_object_set_new(jobc, "container", json_deep_copy(x));
    x = json_object_get(c->result, "services");
    if (json_is_object(x))
        json_object_set_new(jobc, "services", json_deep_copy(x));
}

/* ---------- children ---------- */

/* Start `ferry __cexec ARGS…` with @in (may be NULL) on its stdin. */
static enum ferr_code spawn_cexec(const struct cjob *c, char *const *argv,
                                  const void *in, size_t inlen, pid_t *out_pid,
                                  int *out_fd, struct ferr *err)
{
    struct proc_spec spec;
    int mfd = -1;
    enum ferr_code rc;

    *out_pid = -1;
    *out_fd = -1;
    if (in) {
        const char *p = in;
        size_t left = inlen;

        /* the plan and the step's env hold secrets: never on disk or in
         * argv; a memfd needs no reader to be waiting */
        mfd = memfd_create("ferry-cexec", MFD_CLOEXEC);
        if (mfd < 0)
            return ferr_set(err, FERR_IO, NULL, "cannot make a memfd: %s",
                            strerror(errno));
        while (left) {
            ssize_t n = write(mfd, p, left);

            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0) {
                rc = ferr_set(err, FERR_IO, NULL, "cannot write to a memfd: %s",
                              strerror(errno));
                close(mfd);
                return rc;
            }
            p += n;
            left -= (size_t)n;
        }
        if (lseek(mfd, 0, SEEK_SET) != 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot rewind a memfd: %s",
                          strerror(errno));
            close(mfd);
            return rc;
        }
    }
    memset(&spec, 0, sizeof(spec));
    spec.path = c->self;
    spec.argv = argv;
    spec.stdin_fd = mfd;
    rc = proc_spawn(&spec, out_pid, out_fd, err);
    if (mfd >= 0)
        close(mfd);
    return rc;
}

static enum ferr_code read_result(struct cjob *c, struct ferr *err)
{
    char *data = NULL;
    size_t len = 0;
    json_error_t je;
    json_t *r;
    json_t *x;
    enum ferr_code rc;

    rc = workspace_read_file(c->result_path, RESULT_MAX, &data, &len, err);
    if (rc)
        return rc;
    r = json_loadb(data, len, 0, &je);
    free(data);
    if (!json_is_object(r)) {
        json_decref(r);
        return ferr_set(err, FERR_PARSE, NULL,
                        "the container set-up's report is not a JSON "
                        "object");
    }
    json_decref(c->result);
    c->result = r;
    x = json_object_get(json_object_get(r, "container"), "id");
    free(c->container_id);
    c->container_id = json_is_string(x) ? xstrdup(json_string_value(x)) : NULL;
    x = json_object_get(r, "path");
    free(c->path);
    c->path = json_is_string(x) ? xstrdup(json_string_value(x)) : NULL;
    if (c->has_container && !c->container_id)
        return ferr_set(err, FERR_PARSE, NULL,
                        "the container set-up did not report the job "
                        "container");
    return FERR_OK;
}

static void on_setup_exit(void *ud, int status)
{
    struct cjob *c = ud;
    struct ferr err;
    bool ok = false;

    c->setup_pid = 0;
    /* TERM, INT and HUP wait for a create in flight (cli/cexec_cmd.c);
     * anything else may have cut one short: the tear-down looks again */
    c->setup_killed = WIFSIGNALED(status) && WTERMSIG(status) != SIGTERM &&
                      WTERMSIG(status) != SIGINT && WTERMSIG(status) != SIGHUP;
    if (c->setup_io)
        output_pipe_exited(c->setup_io, PIPE_BUDGET);
    c->setup_io = NULL;
    ferr_clear(&err);
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
        if (read_result(c, &err) == FERR_OK) {
            ok = true;
        } else {
            char msg[1024];

            output_say(c->out, -1, "error: %s",
                       ferr_format(&err, msg, sizeof(msg)));
        }
    } else if (!c->cancelled) {
        if (WIFEXITED(status))
            output_say(c->out, -1,
                       "error: the job's containers could not be set up "
                       "(exit code %d)",
                       WEXITSTATUS(status));
        else
            output_say(c->out, -1,
                       "error: the container set-up was killed by signal %d",
                       WTERMSIG(status));
    }
    c->setup_done(c->setup_ud, ok);
}

void cjob_setup(struct cjob *c, const struct job_host *h, struct output *o,
                void (*done)(void *ud, bool ok), void *ud)
{
    char *argv[] = {c->self, "__cexec", "--setup", NULL};
    char *plan = json_dumps(c->plan, JSON_COMPACT);
    char *pids;
    struct ferr err;
    pid_t pid;
    int fd;

    c->host = h;
    c->out = o;
    c->setup_done = done;
    c->setup_ud = ud;
    c->setup_started = true;
    ferr_clear(&err);
    /* the steps' pid files (see cjob_spawn_step): writable by whatever
     * user the container runs its steps as */
    pids = xasprintf("%s/cexec", c->job_dir);
    if ((mkdir(pids, 0700) != 0 && errno != EEXIST) || chmod(pids, 01777) != 0)
        log_warn("cannot make the pid file directory path='%s' err='%s'", pids,
                 strerror(errno));
    free(pids);
    if (!plan || spawn_cexec(c, argv, plan, strlen(plan), &pid, &fd, &err)) {
        char msg[1024];

        free(plan);
        output_say(o, -1, "error: cannot start the container set-up: %s",
                   plan ? ferr_format(&err, msg, sizeof(msg))
                        : "cannot encode its plan");
        done(ud, false);
        return;
    }
    explicit_bzero(plan, strlen(plan));
    free(plan);
    c->setup_pid = pid;
    /* pgid 0: an abort's SIGKILL to the job's groups spares it, so that
     * its cancel (cjob_cancel's SIGTERM) can wait for a create in flight;
     * it never waits for anything else */
    c->setup_io = output_adopt_pipe(o, fd, 0, -1);
    h->watch_child(h->hud, pid, on_setup_exit, c);
}

void cjob_cancel(struct cjob *c)
{
    if (!c || !c->setup_pid)
        return;
    c->cancelled = true;
    proc_signal_group(c->setup_pid, SIGTERM);
}

static bool start_teardown(struct cjob *c);

static void on_teardown_exit(void *ud, int status)
{
    struct cjob *c = ud;

    if (c->teardown_io)
        output_pipe_exited(c->teardown_io, PIPE_BUDGET);
    c->teardown_io = NULL;
    if (WIFSIGNALED(status) && c->teardown_tries < 2 && start_teardown(c))
        return; /* a hard abort killed it: once more */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        output_say(c->out, -1,
                   "warning: the job's containers may be left behind; the "
                   "next ferry start removes them");
    c->teardown_done(c->teardown_ud);
}

static bool start_teardown(struct cjob *c)
{
    char *argv[] = {c->self,     "__cexec",  "--teardown",
                    "--run",     c->run_id,  "--job",
                    c->job_key,  "--owner",  (char *)docker_owner(),
                    "--network", c->network, NULL,
                    NULL};
    struct ferr err;
    pid_t pid;
    int fd;

    ferr_clear(&err);
    c->teardown_tries++;
    if (c->setup_killed)
        argv[11] = "--settle";
    if (spawn_cexec(c, argv, NULL, 0, &pid, &fd, &err)) {
        output_say(c->out, -1,
                   "warning: cannot remove the job's containers: "
                   "%s",
                   err.msg);
        return false;
    }
    /* pgid 0: not one of the job's groups, so an abort spares it */
    c->teardown_io = output_adopt_pipe(c->out, fd, 0, -1);
    c->host->watch_child(c->host->hud, pid, on_teardown_exit, c);
    return true;
}

bool cjob_teardown(struct cjob *c, const struct job_host *h, struct output *o,
                   void (*done)(void *ud), void *ud)
{
    if (!c || !c->setup_started || c->teardown_started)
        return false;
    c->teardown_started = true;
    c->host = h;
    c->out = o;
    c->teardown_done = done;
    c->teardown_ud = ud;
    return start_teardown(c);
}

enum ferr_code cjob_spawn_step(struct cjob *c, char *const *argv,
                               char *const *envp, const char *cwd,
                               pid_t *out_pid, int *out_fd, struct ferr *err)
{
    struct buf env;
    size_t n = 0;
    char **av;
    char *pidfile;
    enum ferr_code rc = FERR_OK;

    *out_pid = -1;
    *out_fd = -1;
    if (!c->container_id)
        return ferr_set(err, FERR_INVALID, NULL,
                        "the job container is not running");
    buf_init(&env, LIM_CEXEC_INPUT);
    for (char *const *e = envp; e && *e && !rc; e++)
        rc = buf_add(&env, *e, strlen(*e) + 1);
    if (rc) {
        buf_release(&env);
        return ferr_set(err, FERR_LIMIT, NULL,
                        "the step's environment is over %u bytes",
                        LIM_CEXEC_INPUT);
    }
    while (argv[n])
        n++;
    pidfile = xasprintf("%s/cexec/%u.pid", c->job_dir, ++c->execs);
    av = xcalloc(n + 10, sizeof(*av));
    av[0] = c->self;
    av[1] = "__cexec";
    av[2] = "--exec";
    av[3] = c->container_id;
    av[4] = "--pidfile";
    av[5] = pidfile;
    av[6] = "--workdir";
    av[7] = (char *)cwd;
    av[8] = "--";
    for (size_t i = 0; i < n; i++)
        av[9 + i] = argv[i];
    rc = spawn_cexec(c, av, env.p ? env.p : "", env.len, out_pid, out_fd, err);
    if (env.p)
        explicit_bzero(env.p, env.len);
    buf_release(&env);
    free(av);
    free(pidfile);
    return rc;
}
