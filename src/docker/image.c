/* image: images through the engine (inspect, pull, tag, push with the
 * digest the registry stored, remove) and the JSON-lines progress stream
 * that pull, push and build share.  It talks to registries only through
 * the engine: no registry client of its own, no credential store (the
 * caller passes X-Registry-Auth). */
#include "docker/docker.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "docker/internal.h"
#include "util/span.h"
#include "util/xalloc.h"

#define PATH_MAX_BYTES (8u * 1024u)
#define DIGEST_HEX     64

/* ---------- the JSON-lines stream ---------- */

void docker__jsonl_init(struct docker__jsonl *j,
                        enum ferr_code (*on_obj)(void *ud, json_t *obj,
                                                 struct ferr *err),
                        void *ud)
{
    buf_init(&j->line, DOCKER__LINE_MAX);
    j->on_obj = on_obj;
    j->ud = ud;
}

void docker__jsonl_release(struct docker__jsonl *j)
{
    buf_release(&j->line);
}

static bool blank(unsigned char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Every object of one line (several may be glued together). */
static enum ferr_code parse_line(struct docker__jsonl *j, const char *p,
                                 size_t n, struct ferr *err)
{
    size_t off = 0;

    for (;;) {
        json_error_t je;
        json_t *o;
        enum ferr_code rc;

        while (off < n && blank((unsigned char)p[off]))
            off++;
        if (off == n)
            return FERR_OK;
        o = json_loadb(p + off, n - off, JSON_DISABLE_EOF_CHECK, &je);
        if (!o || !json_is_object(o) || je.position <= 0 ||
            (size_t)je.position > n - off) {
            json_decref(o);
            return ferr_set(err, FERR_PARSE, NULL,
                            "the container engine sent a progress line that "
                            "is not a JSON object");
        }
        off += (size_t)je.position;
        rc = j->on_obj(j->ud, o, err);
        json_decref(o);
        if (rc)
            return rc;
    }
}

enum ferr_code docker__jsonl_feed(struct docker__jsonl *j, const char *p,
                                  size_t n, struct ferr *err)
{
    while (n > 0) {
        const char *nl = memchr(p, '\n', n);
        size_t k = nl ? (size_t)(nl - p) + 1 : n;
        enum ferr_code rc;

        if (!nl) {
            if (buf_add(&j->line, p, k))
                return ferr_set(err, FERR_LIMIT, NULL,
                                "a progress line of the container engine is "
                                "over %u bytes",
                                DOCKER__LINE_MAX);
            return FERR_OK;
        }
        if (j->line.len == 0) {
            rc = parse_line(j, p, k, err);
        } else {
            if (buf_add(&j->line, p, k))
                return ferr_set(err, FERR_LIMIT, NULL,
                                "a progress line of the container engine is "
                                "over %u bytes",
                                DOCKER__LINE_MAX);
            rc = parse_line(j, j->line.p, j->line.len, err);
            buf_reset(&j->line);
        }
        if (rc)
            return rc;
        p += k;
        n -= k;
    }
    return FERR_OK;
}

enum ferr_code docker__jsonl_finish(struct docker__jsonl *j, struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    if (j->line.len)
        rc = parse_line(j, j->line.p, j->line.len, err);
    buf_reset(&j->line);
    return rc;
}

static void emit(docker_progress_fn cb, void *ud, const char *p, size_t n)
{
    char line[1024];
    size_t k = 0;

    while (n > 0 && blank((unsigned char)p[n - 1]))
        n--;
    if (n == 0)
        return;
    for (size_t i = 0; i < n && k + 4 < sizeof(line); i++) {
        unsigned char c = (unsigned char)p[i];

        line[k++] = (c < 0x20 && c != '\t') || c == 0x7f ? '?' : (char)c;
    }
    if (k + 4 >= sizeof(line) && n > k) {
        memcpy(line + k, "...", 3);
        k += 3;
    }
    line[k] = '\0';
    cb(ud, line);
}

void docker__progress_text(const json_t *obj, docker_progress_fn cb, void *ud)
{
    const char *stream = json_string_value(json_object_get(obj, "stream"));
    const char *status = json_string_value(json_object_get(obj, "status"));

    if (!cb)
        return;
    if (stream) {
        struct span s = span_cstr(stream), line, rest;

        while (s.len > 0) {
            span_cut(s, '\n', &line, &rest);
            emit(cb, ud, line.p, line.len);
            s = rest;
        }
    }
    if (status) {
        const char *id = json_string_value(json_object_get(obj, "id"));
        const char *progress =
            json_string_value(json_object_get(obj, "progress"));
        char *line =
            xasprintf("%s%s%s%s%s", id ? id : "", id ? ": " : "", status,
                      progress ? " " : "", progress ? progress : "");

        emit(cb, ud, line, strlen(line));
        free(line);
    }
}

const char *docker__stream_error(const json_t *obj)
{
    const char *m = json_string_value(
        json_object_get(json_object_get(obj, "errorDetail"), "message"));

    if (!m || !*m)
        m = json_string_value(json_object_get(obj, "error"));
    return m && *m ? m : NULL;
}

/* An error object's message, trimmed, first letter lowered. */
static enum ferr_code stream_failed(enum ferr_code code, const char *prefix,
                                    const char *m, struct ferr *err)
{
    char msg[400];
    struct span t = span_trim(span_cstr(m));

    snprintf(msg, sizeof(msg), "%.*s", SPAN_ARGS(t));
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    docker__lower_first(msg);
    return ferr_set(err, code, NULL, "%s%s", prefix, msg);
}

/* ---------- streamed requests ---------- */

struct stream_ctx {
    struct docker__jsonl j;
    enum ferr_code (*on_obj)(void *ud, json_t *obj, struct ferr *err);
    void *ud;
};

static enum ferr_code stream_data(void *ud, const char *p, size_t n,
                                  struct ferr *err)
{
    struct stream_ctx *s = ud;

    return docker__jsonl_feed(&s->j, p, n, err);
}

enum ferr_code docker__streamed(struct docker *d, struct docker__req *rq,
                                enum ferr_code (*on_obj)(void *ud, json_t *obj,
                                                         struct ferr *err),
                                void *ud, struct ferr *err)
{
    struct stream_ctx s;
    struct docker__resp r;
    enum ferr_code rc;

    docker__jsonl_init(&s.j, on_obj, ud);
    rq->on_data = stream_data;
    rq->ud = &s;
    rc = docker__do(d, rq, &r, err);
    if (!rc)
        rc = docker__jsonl_finish(&s.j, err);
    docker__resp_release(&r);
    docker__jsonl_release(&s.j);
    return rc;
}

static enum ferr_code path_limit(struct ferr *err)
{
    return ferr_set(err, FERR_LIMIT, NULL, "a request path is too long");
}

/* ---------- inspect, tag, remove ---------- */

enum ferr_code docker_image_inspect(struct docker *d, const char *ref,
                                    json_t **out, struct ferr *err)
{
    bool fresh = err && err->code == FERR_OK; /* the first error wins */
    struct buf path;
    enum ferr_code rc;

    *out = NULL;
    buf_init(&path, PATH_MAX_BYTES);
    rc = docker__check_ref(ref, "image", err);
    if (!rc && buf_addf(&path, "/images/%s/json", ref))
        rc = path_limit(err);
    if (!rc)
        rc = docker_call(d, "GET", path.p, NULL, out, err);
    if (!rc && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine's inspect of image '%s' is not "
                      "an object",
                      ref);
    }
    if (rc == FERR_NOTFOUND && fresh) {
        /* name the image: the engine's "image not known" may not */
        char msg[sizeof(err->msg)];

        snprintf(msg, sizeof(msg), "%s", err->msg);
        ferr_clear(err);
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "no image '%s' in the container engine (%s)", ref, msg);
    }
    buf_release(&path);
    return rc;
}

enum ferr_code docker_image_tag(struct docker *d, const char *src,
                                const char *repo, const char *tag,
                                struct ferr *err)
{
    struct buf path;
    enum ferr_code rc;

    buf_init(&path, PATH_MAX_BYTES);
    rc = docker__check_ref(src, "image", err);
    if (!rc)
        rc = docker__check_ref(repo, "repository", err);
    if (!rc)
        rc = docker__check_ref(tag, "tag", err);
    if (!rc && (strchr(tag, '/') || strchr(tag, ':') || strchr(tag, '@')))
        rc = ferr_set(err, FERR_INVALID, NULL, "bad tag '%s'", tag);
    if (!rc &&
        (buf_addf(&path, "/images/%s/tag", src) ||
         docker__qadd(&path, "repo", repo) || docker__qadd(&path, "tag", tag)))
        rc = path_limit(err);
    if (!rc)
        rc = docker_call(d, "POST", path.p, NULL, NULL, err);
    buf_release(&path);
    return rc;
}

enum ferr_code docker_image_remove(struct docker *d, const char *ref,
                                   bool force, struct ferr *err)
{
    struct buf path;
    enum ferr_code rc;

    buf_init(&path, PATH_MAX_BYTES);
    rc = docker__check_ref(ref, "image", err);
    if (!rc && buf_addf(&path, "/images/%s%s", ref, force ? "?force=1" : ""))
        rc = path_limit(err);
    if (!rc)
        rc = docker_call(d, "DELETE", path.p, NULL, NULL, err);
    buf_release(&path);
    return rc;
}

/* ---------- pull ---------- */

struct pull_ctx {
    docker_progress_fn cb;
    void *ud;
    const char *ref; /* for messages */
    bool creds;      /* credentials were given */
};

/* The registry said no: name what it wanted, keep its words. */
static enum ferr_code auth_failed(const char *verb, const char *ref, bool creds,
                                  const char *m, struct ferr *err)
{
    char said[300];
    struct span t = span_trim(span_cstr(m));

    snprintf(said, sizeof(said), "%.*s", SPAN_ARGS(t));
    for (char *p = said; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    docker__lower_first(said);
    if (creds)
        return ferr_set(err, FERR_INVALID, NULL,
                        "%s failed: the registry refused the credentials "
                        "given for '%s' (it said: %s)",
                        verb, ref, said);
    return ferr_set(err, FERR_INVALID, NULL,
                    "%s failed: the registry wants credentials for '%s' "
                    "and none were given (it said: %s)",
                    verb, ref, said);
}

static bool says_missing(const char *m)
{
    return strcasestr(m, "manifest unknown") || strcasestr(m, "not found") ||
           strcasestr(m, "does not exist") || strcasestr(m, "no such");
}

static enum ferr_code pull_obj(void *ud, json_t *obj, struct ferr *err)
{
    struct pull_ctx *c = ud;
    const char *m = docker__stream_error(obj);

    if (m && docker_auth_refused(m))
        return auth_failed("pull", c->ref, c->creds, m, err);
    if (m)
        return stream_failed(says_missing(m) ? FERR_NOTFOUND : FERR_IO,
                             "pull failed: ", m, err);
    docker__progress_text(obj, c->cb, c->ud);
    return FERR_OK;
}

/* Split @ref into name and tag or digest ("latest" when it has none:
 * an empty tag would pull every tag). */
static void split_ref(const char *ref, char **out_name, const char **out_tag)
{
    const char *at = strchr(ref, '@');
    const char *slash = strrchr(ref, '/');
    const char *colon;

    if (at) {
        *out_name = xstrndup(ref, (size_t)(at - ref));
        *out_tag = at + 1;
        return;
    }
    colon = strrchr(slash ? slash : ref, ':');
    if (colon) {
        *out_name = xstrndup(ref, (size_t)(colon - ref));
        *out_tag = colon + 1;
        return;
    }
    *out_name = xstrdup(ref);
    *out_tag = "latest";
}

enum ferr_code docker_image_pull(struct docker *d, const char *ref,
                                 const char *auth, docker_progress_fn cb,
                                 void *ud, struct ferr *err)
{
    struct pull_ctx c = {cb, ud, ref, auth != NULL};
    struct docker__req rq = {.method = "POST"};
    const char *headers[2] = {NULL, NULL};
    char *name = NULL, *hdr = NULL;
    const char *tag;
    struct buf path;
    enum ferr_code rc;

    buf_init(&path, PATH_MAX_BYTES);
    rc = docker__check_ref(ref, "image", err);
    if (rc)
        goto done;
    split_ref(ref, &name, &tag);
    if (!*name || !*tag) {
        rc = ferr_set(err, FERR_INVALID, NULL, "bad image '%s'", ref);
        goto done;
    }
    if (buf_adds(&path, "/images/create") ||
        docker__qadd(&path, "fromImage", name) ||
        docker__qadd(&path, "tag", tag)) {
        rc = path_limit(err);
        goto done;
    }
    if (auth) {
        if (strpbrk(auth, "\r\n")) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "bad registry auth: a line break");
            goto done;
        }
        hdr = xasprintf("X-Registry-Auth: %s", auth);
        headers[0] = hdr;
        rq.headers = headers;
    }
    rq.path = path.p;
    rc = docker__streamed(d, &rq, pull_obj, &c, err);
done:
    if (hdr)
        explicit_bzero(hdr, strlen(hdr));
    free(hdr);
    free(name);
    buf_release(&path);
    return rc;
}

/* ---------- push ---------- */

struct push_ctx {
    docker_progress_fn cb;
    void *ud;
    const char *repo, *tag;          /* for messages */
    bool creds;                      /* credentials were given */
    char digest[8 + DIGEST_HEX + 1]; /* "sha256:…" or "" */
};

static bool hex64(const char *p)
{
    for (int i = 0; i < DIGEST_HEX; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Keep "sha256:<64 hex>" at @p in @c. */
static bool take_digest(struct push_ctx *c, const char *p)
{
    if (!p || strncmp(p, "sha256:", 7) != 0 || strlen(p + 7) < DIGEST_HEX ||
        !hex64(p + 7))
        return false;
    memcpy(c->digest, p, 7 + DIGEST_HEX);
    c->digest[7 + DIGEST_HEX] = '\0';
    return true;
}

static enum ferr_code push_obj(void *ud, json_t *obj, struct ferr *err)
{
    struct push_ctx *c = ud;
    const char *m = docker__stream_error(obj);
    const char *status, *at;

    if (m && docker_auth_refused(m)) {
        char *ref = xasprintf("%s:%s", c->repo, c->tag);
        enum ferr_code rc = auth_failed("push", ref, c->creds, m, err);

        free(ref);
        return rc;
    }
    if (m)
        return stream_failed(FERR_IO, "push failed: ", m, err);
    /* Docker: {"aux":{"Tag","Digest","Size"}}; Podman 4 only says it in
     * a status line, "TAG: digest: sha256:… size: N", as Docker also does */
    if (!take_digest(c, json_string_value(json_object_get(
                            json_object_get(obj, "aux"), "Digest")))) {
        status = json_string_value(json_object_get(obj, "status"));
        at = status ? strstr(status, "digest: ") : NULL;
        if (at && !c->digest[0])
            take_digest(c, at + 8);
    }
    docker__progress_text(obj, c->cb, c->ud);
    return FERR_OK;
}

enum ferr_code docker_image_push(struct docker *d, const char *repo,
                                 const char *tag, const char *auth,
                                 docker_progress_fn cb, void *ud,
                                 char **out_digest, struct ferr *err)
{
    struct push_ctx c = {cb, ud, repo, tag, auth != NULL, ""};
    struct docker__req rq = {.method = "POST"};
    const char *headers[2] = {NULL, NULL};
    char *hdr = NULL, *anon = NULL;
    struct buf path;
    enum ferr_code rc;

    *out_digest = NULL;
    buf_init(&path, PATH_MAX_BYTES);
    rc = docker__check_ref(repo, "repository", err);
    if (!rc)
        rc = docker__check_ref(tag, "tag", err);
    if (!rc && (strchr(repo, '@') ||
                strchr(strrchr(repo, '/') ? strrchr(repo, '/') : repo, ':') ||
                strchr(tag, '/') || strchr(tag, ':') || strchr(tag, '@')))
        rc = ferr_set(err, FERR_INVALID, NULL, "bad image '%s:%s' to push",
                      repo, tag);
    if (!rc && auth && strpbrk(auth, "\r\n"))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "bad registry auth: a line break");
    if (rc)
        goto done;
    if (buf_addf(&path, "/images/%s/push", repo) ||
        docker__qadd(&path, "tag", tag)) {
        rc = path_limit(err);
        goto done;
    }
    /* Docker refuses a push without the header, even anonymous */
    if (!auth)
        auth = anon = docker_auth_header(NULL, NULL, NULL);
    hdr = xasprintf("X-Registry-Auth: %s", auth);
    headers[0] = hdr;
    rq.headers = headers;
    rq.path = path.p;
    rc = docker__streamed(d, &rq, push_obj, &c, err);
    if (!rc && c.digest[0])
        *out_digest = xstrdup(c.digest);
done:
    if (hdr)
        explicit_bzero(hdr, strlen(hdr));
    free(hdr);
    free(anon);
    buf_release(&path);
    return rc;
}
