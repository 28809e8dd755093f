/* ctarget: the container target — releases that name an image, and
 * instances that are containers of it with their port published on
 * 127.0.0.1, started, stopped and listed through the Docker Engine API
 * below target.h's interface.  It does not build or push images
 * (ferry/image does), route traffic or health-check (the strategies do),
 * and it never uses the engine's networks: the proxy reaches each
 * container through its published loopback port. */
#include "deploy/ctarget.h"

#include <dirent.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>

#include "docker/docker.h"
#include "docker/tags.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define SETTLE_MS      300u  /* a new container must run this long */
#define LOG_TAIL_BYTES 2048u /* of its log, in a start failure */
#define DEFAULT_HOST   "unix:///var/run/docker.sock"

/* ---- small helpers ---- */

static void pause_ms(unsigned ms)
{
    struct timespec ts = {.tv_sec = ms / 1000,
                          .tv_nsec = (long)(ms % 1000) * 1000000L};

    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
        ;
}

/* The deploy step's engine: DOCKER_HOST as given (docker_open refuses
 * one that is not unix://, which is better than another engine), else
 * the default socket. */
static const char *default_host(void)
{
    const char *h = getenv("DOCKER_HOST");

    return h && *h ? h : DEFAULT_HOST;
}

/* FNV-1a of @s as 8 hex digits: which ENVDIR a container belongs to. */
static void short_hash(const char *s, char out[9])
{
    uint32_t h = 2166136261u;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        h ^= *p;
        h *= 16777619u;
    }
    snprintf(out, 9, "%08x", h);
}

/* "ferry-NAME-HASH", with '+' (allowed in versions, not in container
 * names) as '_'. */
static char *container_name(const char *abs_envdir, const char *name)
{
    char hash[9];
    char *c;

    short_hash(abs_envdir, hash);
    c = xasprintf("ferry-%s-%s", name, hash);
    for (char *p = c; *p; p++)
        if (*p == '+')
            *p = '_';
    return c;
}

static char *record_path(const char *envdir, const char *name)
{
    return xasprintf("%s/containers/%s.json", envdir, name);
}

static enum ferr_code read_json(const char *path, json_t **out,
                                struct ferr *err)
{
    char *text = NULL;
    size_t len = 0;
    json_error_t jerr;
    enum ferr_code rc;

    *out = NULL;
    rc = workspace_read_file(path, LIM_INSTANCE_SPEC, &text, &len, err);
    if (rc)
        return rc;
    *out = json_loadb(text, len, 0, &jerr);
    free(text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ferr_set(err, FERR_PARSE, NULL, "'%s' is not a JSON object",
                        path);
    }
    return FERR_OK;
}

static enum ferr_code write_json(const char *path, json_t *o, struct ferr *err)
{
    char *text = json_dumps(o, JSON_INDENT(2) | JSON_SORT_KEYS);
    enum ferr_code rc;

    if (!text)
        return ferr_set(err, FERR_IO, NULL, "cannot encode '%s'", path);
    rc = workspace_write_file(path, text, strlen(text), err);
    free(text);
    return rc;
}

static const char *jstr(json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

/* ---- credentials (this process only) ---- */

static char *cred_user, *cred_password;

static void wipe(char **p)
{
    if (*p) {
        explicit_bzero(*p, strlen(*p));
        free(*p);
        *p = NULL;
    }
}

void ctarget_set_credentials(const char *username, const char *password)
{
    wipe(&cred_user);
    wipe(&cred_password);
    if (username && password) {
        cred_user = xstrdup(username);
        cred_password = xstrdup(password);
    }
}

/* The X-Registry-Auth of @image's registry, or NULL without
 * credentials; the caller's, to zero. */
static char *auth_for(const char *image)
{
    char *repo = NULL, *tag = NULL, *digest = NULL, *registry = NULL;
    struct ferr e;
    char *auth;

    if (!cred_user)
        return NULL;
    ferr_clear(&e);
    if (tags_parse_ref(image, &repo, &tag, &digest, &registry, &e))
        registry = NULL;
    auth =
        docker_auth_header(cred_user, cred_password,
                           registry ? registry : "https://index.docker.io/v1/");
    free(repo);
    free(tag);
    free(digest);
    free(registry);
    return auth;
}

/* ---- releases ---- */

enum ferr_code ctarget_check_image(const char *image, struct ferr *err)
{
    char *repo = NULL, *tag = NULL, *digest = NULL;
    enum ferr_code rc;

    rc = tags_parse_ref(image, &repo, &tag, &digest, NULL, err);
    free(repo);
    free(tag);
    free(digest);
    if (rc)
        ferr_prefix(err, "input 'image'");
    return rc;
}

enum ferr_code ctarget_install_release(const char *envdir,
                                       const struct ctarget_spec *spec,
                                       const char *version, unsigned keep,
                                       char **out, struct ferr *err)
{
    char *tmpl = xasprintf("%s/.container-XXXXXX", envdir);
    char *file = NULL;
    json_t *o;
    enum ferr_code rc;

    *out = NULL;
    if (!mkdtemp(tmpl)) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot make a directory in '%s': %s",
                      envdir, strerror(errno));
        free(tmpl);
        return rc;
    }
    o = json_pack("{s:s, s:I, s:s, s:s}", "image", spec->image,
                  "container_port",
                  (json_int_t)(spec->container_port ? spec->container_port
                                                    : CTARGET_DEFAULT_PORT),
                  "environment", spec->environment ? spec->environment : "",
                  "host", spec->host ? spec->host : default_host());
    file = xasprintf("%s/%s", tmpl, CTARGET_SPEC_FILE);
    rc = o ? write_json(file, o, err)
           : ferr_set(err, FERR_INVALID, NULL, "bad container spec");
    if (!rc)
        rc = target_install_release(envdir, tmpl, version, keep, out, err);
    {
        struct ferr ignored;

        ferr_clear(&ignored);
        if (workspace_rmtree(tmpl, &ignored)) {
            /* a stray temp directory is harmless */
        }
    }
    json_decref(o);
    free(file);
    free(tmpl);
    return rc;
}

bool ctarget_is_release(const char *release)
{
    char *p;
    bool yes;

    if (!release)
        return false;
    p = xasprintf("%s/%s", release, CTARGET_SPEC_FILE);
    yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

/* ---- the engine ---- */

/* One connection per host, kept across the records of one listing. */
struct conn {
    char *host;
    struct docker *d; /* NULL: the host could not be reached */
};

static void conn_close(struct conn *c)
{
    docker_close(c->d);
    free(c->host);
    memset(c, 0, sizeof(*c));
}

static struct docker *conn_get(struct conn *c, const char *host)
{
    struct ferr e;

    if (c->host && strcmp(c->host, host) == 0)
        return c->d;
    conn_close(c);
    c->host = xstrdup(host);
    ferr_clear(&e);
    if (docker_open(host, &c->d, &e))
        c->d = NULL;
    return c->d;
}

static void on_pull(void *ud, const char *line)
{
    (void)ud;
    if (*line) {
        printf("    %s\n", line);
        fflush(stdout);
    }
}

static enum ferr_code ensure_image(struct docker *d, const char *image,
                                   struct ferr *err)
{
    char *auth;
    json_t *img = NULL;
    struct ferr e;
    enum ferr_code rc;

    ferr_clear(&e);
    rc = docker_image_inspect(d, image, &img, &e);
    json_decref(img);
    if (!rc)
        return FERR_OK;
    if (rc != FERR_NOTFOUND)
        return ferr_set(err, rc, NULL, "%s", e.msg);
    printf("  pulling %s\n", image);
    fflush(stdout);
    auth = auth_for(image);
    ferr_clear(&e);
    rc = docker_image_pull(d, image, auth, on_pull, NULL, &e);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (rc && docker_auth_refused(e.msg))
        return ferr_set(err, rc, NULL, "cannot pull '%s': %s (%s)", image,
                        e.msg,
                        cred_user ? "check inputs 'username' and 'password'"
                                  : "give inputs 'username' and 'password', "
                                    "e.g. from secrets");
    if (rc)
        return ferr_set(err, rc, NULL, "cannot pull '%s': %s", image, e.msg);
    return FERR_OK;
}

struct tail {
    struct buf b;
};

/* Keep the last LOG_TAIL_BYTES of the log (the buffer holds twice
 * that, so a piece always fits before the front is dropped). */
static void on_log(void *ud, int stream, const char *p, size_t n)
{
    struct tail *t = ud;

    (void)stream;
    if (n > LOG_TAIL_BYTES) {
        p += n - LOG_TAIL_BYTES;
        n = LOG_TAIL_BYTES;
    }
    if (buf_add(&t->b, p, n)) {
        /* cannot happen within the cap; the tail is only shorter */
    }
    if (t->b.len > LOG_TAIL_BYTES)
        buf_consume(&t->b, t->b.len - LOG_TAIL_BYTES);
}

/* "; last lines of its log:\n…" when it wrote anything. */
static void log_tail(struct docker *d, const char *id, struct buf *out)
{
    struct tail t;
    struct ferr e;
    struct span s;

    buf_init(&t.b, 2 * LOG_TAIL_BYTES);
    ferr_clear(&e);
    if (!docker_container_logs(d, id, false, on_log, &t, &e)) {
        s = span_trim(buf_span(&t.b));
        if (s.len && (buf_adds(out, "; last lines of its log:\n") ||
                      buf_addspan(out, s))) {
            /* the message is cut */
        }
    }
    buf_release(&t.b);
}

static json_t *env_list(const struct target_process *p, unsigned cport,
                        const char *name, const char *environment)
{
    json_t *a = json_array();
    const char *k;
    json_t *v;

    json_object_foreach (p->env, k, v) {
        char *e = NULL;

        if (json_is_string(v))
            e = xasprintf("%s=%s", k, json_string_value(v));
        else if (json_is_integer(v))
            e = xasprintf("%s=%" JSON_INTEGER_FORMAT, k, json_integer_value(v));
        else if (json_is_boolean(v))
            e = xasprintf("%s=%s", k, json_is_true(v) ? "true" : "false");
        if (e && *k && !strchr(k, '='))
            json_array_append_new(a, json_string_nocheck(e));
        free(e);
    }
    json_array_append_new(a, json_sprintf("PORT=%u", cport));
    json_array_append_new(a, json_sprintf("FERRY_INSTANCE=%s", name));
    json_array_append_new(a, json_sprintf("FERRY_VERSION=%s", p->version));
    json_array_append_new(a, json_sprintf("FERRY_ENVIRONMENT=%s", environment));
    return a;
}

static json_t *create_body(const struct target_process *p, json_t *spec,
                           const char *abs_envdir, const char *name,
                           unsigned port)
{
    json_t *cp = json_object_get(spec, "container_port");
    unsigned cport = json_is_integer(cp) ? (unsigned)json_integer_value(cp)
                                         : CTARGET_DEFAULT_PORT;
    const char *environment =
        jstr(spec, "environment") ? jstr(spec, "environment") : "";
    unsigned grace_s = p->grace_ms ? (p->grace_ms + 999) / 1000 : 10;
    char key[32];
    char hport[16];

    snprintf(key, sizeof(key), "%u/tcp", cport);
    snprintf(hport, sizeof(hport), "%u", port);
    /* io.ferry.managed "0": an image ferry/image built carries "1",
     * and a deployed container is no job's to reap */
    return json_pack("{s:s, s:o, s:{s:s, s:s, s:s, s:s, s:s}, s:{s:{}}, s:I,"
                     " s:{s:b, s:{s:s, s:i}, s:{s:[{s:s, s:s}]}}}",
                     "Image", jstr(spec, "image"), "Env",
                     env_list(p, cport, name, environment), "Labels",
                     CTARGET_LABEL_ENV, environment, CTARGET_LABEL_VERSION,
                     p->version, CTARGET_LABEL_INSTANCE, name,
                     CTARGET_LABEL_HOME, abs_envdir, DOCKER_LABEL_MANAGED, "0",
                     "ExposedPorts", key, "StopTimeout", (json_int_t)grace_s,
                     "HostConfig", "Init", 1, "RestartPolicy", "Name",
                     "unless-stopped", "MaximumRetryCount", 0, "PortBindings",
                     key, "HostIp", "127.0.0.1", "HostPort", hport);
}

/* Remove container @ref if it is a leftover of @abs_envdir; true when
 * it went. */
static bool remove_leftover(struct docker *d, const char *ref,
                            const char *abs_envdir)
{
    json_t *c = NULL;
    struct ferr e;
    const char *home;
    bool ours;

    ferr_clear(&e);
    if (docker_container_inspect(d, ref, &c, &e))
        return false;
    home = jstr(json_object_get(json_object_get(c, "Config"), "Labels"),
                CTARGET_LABEL_HOME);
    ours = home && strcmp(home, abs_envdir) == 0;
    json_decref(c);
    if (!ours)
        return false;
    ferr_clear(&e);
    return docker_container_remove(d, ref, true, &e) == FERR_OK ||
           e.code == FERR_NOTFOUND;
}

static enum ferr_code create(struct docker *d, const char *cname, json_t *body,
                             const char *abs_envdir, char **out_id,
                             struct ferr *err)
{
    char *path = xasprintf("/containers/create?name=%s", cname);
    json_t *ans = NULL;
    struct ferr e;
    enum ferr_code rc;

    *out_id = NULL;
    for (int attempt = 0;; attempt++) {
        ferr_clear(&e);
        rc = docker_call(d, "POST", path, body, &ans, &e);
        if (rc == FERR_INVALID && attempt == 0 &&
            remove_leftover(d, cname, abs_envdir))
            continue;
        break;
    }
    if (rc) {
        ferr_set(err, rc, NULL, "cannot create container '%s': %s", cname,
                 e.msg);
    } else if (!jstr(ans, "Id")) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "the engine created '%s' but did not say its id", cname);
    } else {
        *out_id = xstrdup(jstr(ans, "Id"));
    }
    json_decref(ans);
    free(path);
    return rc;
}

/* Stop and remove @id, quietly (cleanup after a failed start). */
static void discard(struct docker *d, const char *id)
{
    struct ferr e;

    ferr_clear(&e);
    if (docker_container_remove(d, id, true, &e)) {
        /* gone already, or the engine went away: nothing else to do */
    }
}

/* The record at @path names a running container: FERR_INVALID; a stale
 * one goes with its container.  One the engine cannot answer for stays
 * (FERR_IO), so that no container is forgotten while it may run. */
static enum ferr_code check_not_running(const char *path, const char *name,
                                        struct ferr *err)
{
    json_t *rec = NULL;
    json_t *c = NULL;
    struct docker *d = NULL;
    const char *id;
    struct ferr e;
    enum ferr_code rc;

    ferr_clear(&e);
    if (read_json(path, &rec, &e)) {
        if (e.code != FERR_NOTFOUND)
            (void)unlink(path); /* not a record */
        return FERR_OK;
    }
    id = jstr(rec, "id") ? jstr(rec, "id") : "";
    rc = docker_open(jstr(rec, "host"), &d, err);
    if (!rc) {
        rc = docker_container_inspect(d, id, &c, &e);
        if (rc == FERR_NOTFOUND) {
            rc = FERR_OK;
        } else if (rc) {
            ferr_set(err, rc, NULL, "%s", e.msg);
        } else if (json_is_true(json_object_get(json_object_get(c, "State"),
                                                "Running"))) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "instance '%s' is already running (container "
                          "%.12s)",
                          name, id);
        } else {
            discard(d, id);
        }
    }
    if (!rc)
        (void)unlink(path);
    else if (rc != FERR_INVALID)
        ferr_prefix(err, "instance '%s' has a record '%s'", name, path);
    json_decref(c);
    docker_close(d);
    json_decref(rec);
    return rc;
}

enum ferr_code ctarget_start(const char *envdir, const struct target_process *p,
                             const char *name, struct target_instance *out,
                             struct ferr *err)
{
    char *spec_path = NULL, *abs_envdir = NULL, *abs_release = NULL;
    char *dir = NULL, *rpath = NULL, *cname = NULL, *id = NULL;
    json_t *spec = NULL, *body = NULL, *rec = NULL, *c = NULL;
    struct docker *d = NULL;
    const char *host, *image;
    unsigned port = 0;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    if (!target_plain_name(name) || !p->release || !p->version)
        return ferr_set(err, FERR_INVALID, NULL,
                        "instance '%s' needs a plain name, a release and a "
                        "version",
                        name);
    abs_envdir = realpath(envdir, NULL);
    abs_release = realpath(p->release, NULL);
    if (!abs_envdir || !abs_release) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot resolve '%s': %s",
                      abs_envdir ? p->release : envdir, strerror(errno));
        goto done;
    }
    spec_path = xasprintf("%s/%s", abs_release, CTARGET_SPEC_FILE);
    rc = read_json(spec_path, &spec, err);
    if (rc)
        goto done;
    host = jstr(spec, "host") ? jstr(spec, "host") : default_host();
    image = jstr(spec, "image");
    if (!image) {
        rc =
            ferr_set(err, FERR_INVALID, NULL, "'%s' names no image", spec_path);
        goto done;
    }
    dir = xasprintf("%s/containers", abs_envdir);
    rc = workspace_mkdirs(dir, err);
    if (rc)
        goto done;
    rpath = record_path(abs_envdir, name);
    rc = check_not_running(rpath, name, err);
    if (!rc)
        rc = docker_open(host, &d, err);
    if (!rc)
        rc = ensure_image(d, image, err);
    if (!rc)
        rc = target_free_port(&port, err);
    if (rc)
        goto done;
    cname = container_name(abs_envdir, name);
    body = create_body(p, spec, abs_envdir, name, port);
    if (!body) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "cannot make the container spec of '%s'", name);
        goto done;
    }
    rc = create(d, cname, body, abs_envdir, &id, err);
    if (rc)
        goto done;
    /* recorded before it starts: a stop finds it whatever happens next */
    rec = json_pack(
        "{s:s, s:s, s:s, s:s, s:s, s:s, s:I, s:I, s:s}", "name", name, "id", id,
        "container", cname, "image", image, "version", p->version, "release",
        abs_release, "port", (json_int_t)port, "grace_ms",
        (json_int_t)(p->grace_ms ? p->grace_ms : 10000), "host", host);
    rc = write_json(rpath, rec, err);
    if (!rc)
        rc = docker_container_start(d, id, err);
    if (rc) {
        ferr_prefix(err, "container '%s'", cname);
        discard(d, id);
        (void)unlink(rpath);
        goto done;
    }
    printf("  container %s (%.12s) of %s on 127.0.0.1:%u\n", cname, id, image,
           port);
    fflush(stdout);
    pause_ms(SETTLE_MS);
    rc = docker_container_inspect(d, id, &c, err);
    if (!rc) {
        json_t *st = json_object_get(c, "State");
        json_int_t restarts =
            json_integer_value(json_object_get(c, "RestartCount"));

        /* the restart policy may have started it again already: a
         * restart this early is a crash too */
        if (!json_is_true(json_object_get(st, "Running")) || restarts > 0) {
            struct buf msg;

            buf_init(&msg, 4096);
            if (restarts > 0 &&
                buf_addf(&msg,
                         "exited and was restarted %" JSON_INTEGER_FORMAT
                         " time%s within %u ms",
                         restarts, restarts == 1 ? "" : "s", SETTLE_MS)) {
                /* cut */
            }
            if (restarts <= 0 &&
                buf_addf(&msg, "exited with status %" JSON_INTEGER_FORMAT,
                         json_integer_value(json_object_get(st, "ExitCode")))) {
                /* cut */
            }
            log_tail(d, id, &msg);
            rc =
                ferr_set(err, FERR_EXEC, NULL, "did not start: container %s %s",
                         cname, buf_cstr(&msg));
            buf_release(&msg);
            discard(d, id);
            (void)unlink(rpath);
            goto done;
        }
        out->pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
        out->restarts =
            (unsigned)json_integer_value(json_object_get(c, "RestartCount"));
    }
    if (rc) {
        discard(d, id);
        (void)unlink(rpath);
        goto done;
    }
    out->name = xstrdup(name);
    out->version = xstrdup(p->version);
    out->release = xstrdup(abs_release);
    out->port = port;
done:
    json_decref(c);
    json_decref(rec);
    json_decref(body);
    json_decref(spec);
    docker_close(d);
    free(id);
    free(cname);
    free(rpath);
    free(dir);
    free(spec_path);
    free(abs_release);
    free(abs_envdir);
    return rc;
}

bool ctarget_has(const char *envdir, const char *name)
{
    char *p;
    bool yes;

    if (!target_plain_name(name))
        return false;
    p = record_path(envdir, name);
    yes = access(p, F_OK) == 0;
    free(p);
    return yes;
}

enum ferr_code ctarget_stop(const char *envdir, const char *name,
                            struct ferr *err)
{
    char *path;
    json_t *rec = NULL;
    struct docker *d = NULL;
    const char *id;
    json_t *g;
    unsigned grace_s;
    struct ferr e;
    enum ferr_code rc;

    if (!target_plain_name(name))
        return ferr_set(err, FERR_INVALID, NULL,
                        "instance name '%s' is not a plain name", name);
    path = record_path(envdir, name);
    ferr_clear(&e);
    rc = read_json(path, &rec, &e);
    if (rc) {
        if (rc != FERR_NOTFOUND)
            (void)unlink(path); /* not a record of ours */
        free(path);
        return FERR_OK;
    }
    id = jstr(rec, "id");
    g = json_object_get(rec, "grace_ms");
    grace_s = json_is_integer(g) && json_integer_value(g) > 0
                  ? (unsigned)((json_integer_value(g) + 999) / 1000)
                  : 10;
    rc = FERR_OK;
    if (id) {
        rc = docker_open(jstr(rec, "host"), &d, err);
        if (rc) {
            ferr_prefix(err, "cannot stop instance '%s'", name);
            goto done;
        }
        ferr_clear(&e);
        if (docker_container_stop(d, id, (int)grace_s, &e) &&
            e.code != FERR_NOTFOUND) {
            /* already stopped (304) or refused: the forced removal
             * below kills what still runs */
        }
        ferr_clear(&e);
        if (docker_container_remove(d, id, true, &e) &&
            e.code != FERR_NOTFOUND) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "cannot remove the container of instance '%s': %s",
                          name, e.msg);
            goto done;
        }
    }
    (void)unlink(path);
done:
    docker_close(d);
    json_decref(rec);
    free(path);
    return rc;
}

/* Fill @out from record @rec, checking the container: false when it is
 * gone or exited (then removed with its record). */
static bool live(struct conn *cn, json_t *rec, const char *path,
                 struct target_instance *out)
{
    const char *id = jstr(rec, "id");
    struct docker *d;
    json_t *c = NULL, *st;
    struct ferr e;
    enum ferr_code rc;
    const char *status;
    bool alive;

    memset(out, 0, sizeof(*out));
    if (!jstr(rec, "name") || !id)
        return false;
    out->name = xstrdup(jstr(rec, "name"));
    out->version = jstr(rec, "version") ? xstrdup(jstr(rec, "version")) : NULL;
    out->release = jstr(rec, "release") ? xstrdup(jstr(rec, "release")) : NULL;
    out->port = (unsigned)json_integer_value(json_object_get(rec, "port"));
    d = conn_get(cn, jstr(rec, "host") ? jstr(rec, "host") : default_host());
    if (!d)
        return true; /* cannot tell: keep it */
    ferr_clear(&e);
    rc = docker_container_inspect(d, id, &c, &e);
    if (rc && rc != FERR_NOTFOUND) {
        json_decref(c);
        return true;
    }
    st = json_object_get(c, "State");
    status = jstr(st, "Status");
    /* "stopped" is Podman's word for a crash its restart policy is about
     * to undo (Docker says "restarting"); "exited" is final */
    alive =
        !rc && status &&
        (strcmp(status, "running") == 0 || strcmp(status, "restarting") == 0 ||
         strcmp(status, "stopped") == 0 || strcmp(status, "paused") == 0);
    if (alive) {
        out->pid = (pid_t)json_integer_value(json_object_get(st, "Pid"));
        out->restarts =
            (unsigned)json_integer_value(json_object_get(c, "RestartCount"));
    } else {
        if (!rc)
            discard(d, id);
        (void)unlink(path);
        target_instance_release(out);
    }
    json_decref(c);
    return alive;
}

enum ferr_code ctarget_list(const char *envdir, struct target_instance **v,
                            size_t *n, struct ferr *err)
{
    char *dir = xasprintf("%s/containers", envdir);
    struct conn cn;
    struct dirent *de;
    DIR *dh;

    memset(&cn, 0, sizeof(cn));
    dh = opendir(dir);
    if (!dh) {
        enum ferr_code rc = FERR_OK;

        if (errno != ENOENT)
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", dir,
                          strerror(errno));
        free(dir);
        return rc;
    }
    while ((de = readdir(dh))) {
        size_t len = strlen(de->d_name);
        struct target_instance ti;
        json_t *rec = NULL;
        struct ferr ignored;
        char *path;

        if (de->d_name[0] == '.' || len < 6 ||
            strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        path = xasprintf("%s/%s", dir, de->d_name);
        ferr_clear(&ignored);
        if (read_json(path, &rec, &ignored)) {
            free(path);
            continue;
        }
        if (live(&cn, rec, path, &ti)) {
            if (*n < LIM_PROXY_BACKENDS) {
                *v = xrealloc(*v, (*n + 1) * sizeof(**v));
                (*v)[(*n)++] = ti;
            } else {
                target_instance_release(&ti);
            }
        }
        json_decref(rec);
        free(path);
    }
    closedir(dh);
    conn_close(&cn);
    free(dir);
    return FERR_OK;
}
