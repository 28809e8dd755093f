/* docker: the Docker Engine API over a unix socket (Docker, or Podman's
 * `podman system service`): the request core, containers, exec,
 * networks, volumes, and the owner labels that let a later ferry remove
 * what a killed one left.  Images are in image.c, the build context in
 * build.c.  HTTP/1.1 through libcurl, loaded by util/httpc; no TCP or TLS
 * engines, no retries, no event loop (callers block). */
#include <curl/curl.h>

#include "docker/docker.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "docker/internal.h"
#include "util/httpc.h"
#include "util/span.h"
#include "util/xalloc.h"

#define DEFAULT_SOCK       "/var/run/docker.sock"
#define CONNECT_TIMEOUT_MS 10000L
#define OPEN_TIMEOUT_MS    10000L /* the ping and version of docker_open */
#define START_HINT         "(start one: scripts/podman.sh start)"
#define MIN_API_MINOR      24  /* 1.24: the oldest API ferry speaks */
#define EXEC_SETTLE_TRIES  200 /* 10 ms each: an exec's state after EOF */
#define PATH_MAX_BYTES     (8u * 1024u) /* a request path with its query */

static const struct httpc_curl *cu;

/* ---------- small helpers ---------- */

void docker__lower_first(char *m)
{
    if (m[0] >= 'A' && m[0] <= 'Z' && m[1] >= 'a' && m[1] <= 'z')
        m[0] = (char)(m[0] - 'A' + 'a');
}

static bool ref_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-' ||
           c == '/' || c == ':' || c == '@' || c == '+';
}

enum ferr_code docker__check_ref(const char *s, const char *what,
                                 struct ferr *err)
{
    char q[72];
    size_t n = s ? strlen(s) : 0;

    if (n == 0)
        return ferr_set(err, FERR_INVALID, NULL, "no %s given", what);
    span_quote(s, n, q);
    if (n > DOCKER__REF_MAX)
        return ferr_set(err, FERR_INVALID, NULL, "bad %s '%s': over %u bytes",
                        what, q, DOCKER__REF_MAX);
    for (size_t i = 0; i < n; i++)
        if (!ref_char((unsigned char)s[i]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "bad %s '%s': unexpected character", what, q);
    if (s[0] == '/' || s[0] == '-' || s[0] == '.' || strstr(s, "..") ||
        strstr(s, "//"))
        return ferr_set(err, FERR_INVALID, NULL, "bad %s '%s'", what, q);
    return FERR_OK;
}

/* Docker's rule for container and network names. */
static enum ferr_code check_name(const char *s, const char *what,
                                 struct ferr *err)
{
    char q[72];
    size_t n = strlen(s);
    bool ok = n > 0 && n <= 255;

    for (size_t i = 0; ok && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        bool alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                     (c >= '0' && c <= '9');

        ok = alnum || (i > 0 && (c == '_' || c == '.' || c == '-'));
    }
    if (ok)
        return FERR_OK;
    return ferr_set(err, FERR_INVALID, NULL,
                    "bad %s name '%s': want [a-zA-Z0-9][a-zA-Z0-9_.-]*", what,
                    span_quote(s, n, q));
}

static bool unreserved(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c >= '0' && c <= '9') || c == '-' || c == '_' || c == '.' ||
           c == '~';
}

enum ferr_code docker__qadd(struct buf *b, const char *key, const char *val)
{
    static const char hex[] = "0123456789ABCDEF";
    enum ferr_code rc;

    rc = buf_addf(b, "%c%s=", memchr(b->p ? b->p : "", '?', b->len) ? '&' : '?',
                  key);
    for (const unsigned char *p = (const unsigned char *)val; !rc && *p; p++) {
        if (unreserved(*p)) {
            rc = buf_addch(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            rc = buf_add(b, e, 3);
        }
    }
    return rc;
}

/* "/PREFIX/REF/SUFFIX" into @b (initialised here) after checking @ref. */
static enum ferr_code ref_path(struct buf *b, const char *prefix,
                               const char *ref, const char *suffix,
                               const char *what, struct ferr *err)
{
    enum ferr_code rc;

    buf_init(b, PATH_MAX_BYTES); /* released by the caller either way */
    rc = docker__check_ref(ref, what, err);
    if (rc)
        return rc;
    if (buf_addf(b, "%s/%s%s", prefix, ref, suffix ? suffix : ""))
        return ferr_set(err, FERR_LIMIT, NULL, "a request path is too long");
    return FERR_OK;
}

static enum ferr_code path_limit(struct ferr *err)
{
    return ferr_set(err, FERR_LIMIT, NULL, "a request path is too long");
}

/* ---------- versions ---------- */

/* "1.41" -> 41 when the major is 1; -1 for anything else. */
static int api_minor(const char *v)
{
    struct span s = span_cstr(v), major, minor;
    uint64_t mj, mn;

    if (!span_cut(s, '.', &major, &minor) || span_to_u64(major, &mj) ||
        span_to_u64(minor, &mn) || mj != 1 || mn > 1000)
        return -1;
    return (int)mn;
}

/* ---------- the request core ---------- */

struct xfer {
    CURL *h;
    const struct docker__req *rq;
    struct docker__resp *resp;
    struct ferr *err;
    enum ferr_code cb_rc; /* on_data failed with this */
    bool over;            /* a collected answer went over its max */
    int read_errno;       /* reading body_fd failed */
    uint64_t left;        /* body_fd bytes still to send */
};

void docker__resp_init(struct docker__resp *r)
{
    r->status = 0;
    buf_init(&r->body, DOCKER__ANSWER_MAX);
    r->api_version[0] = '\0';
}

void docker__resp_release(struct docker__resp *r)
{
    buf_release(&r->body);
    docker__resp_init(r);
}

static size_t on_header(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    static const char name[] = "api-version:";
    size_t k = sizeof(name) - 1;

    if (n >= 5 && memcmp(p, "HTTP/", 5) == 0) {
        x->resp->api_version[0] = '\0'; /* a new (final) answer */
    } else if (n > k && strncasecmp(p, name, k) == 0) {
        struct span v = span_trim(span_of(p + k, n - k));

        if (v.len < sizeof(x->resp->api_version)) {
            memcpy(x->resp->api_version, v.p, v.len);
            x->resp->api_version[v.len] = '\0';
        }
    }
    return n;
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;
    struct buf *b = &x->resp->body;

    if (x->resp->status == 0)
        cu->easy_getinfo(x->h, CURLINFO_RESPONSE_CODE, &x->resp->status);
    if (x->rq->on_data && x->resp->status >= 200 && x->resp->status < 300) {
        enum ferr_code rc = x->rq->on_data(x->rq->ud, p, n, x->err);

        if (rc) {
            x->cb_rc = rc;
            return 0;
        }
        return n;
    }
    if (x->resp->status >= 300) {
        /* keep the start of an error answer, drain the rest */
        size_t room =
            b->len < DOCKER__ERRBODY_MAX ? DOCKER__ERRBODY_MAX - b->len : 0;

        if (buf_add(b, p, n < room ? n : room))
            return 0;
        return n;
    }
    if (buf_add(b, p, n)) {
        x->over = true;
        return 0;
    }
    return n;
}

static size_t on_read(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t want = size * nmemb;
    ssize_t r;

    if (want > x->left)
        want = (size_t)x->left;
    if (want == 0)
        return 0;
    do
        r = read(x->rq->body_fd, p, want);
    while (r < 0 && errno == EINTR);
    if (r <= 0) {
        x->read_errno = r < 0 ? errno : EIO; /* 0: the file shrank */
        return CURL_READFUNC_ABORT;
    }
    x->left -= (uint64_t)r;
    return (size_t)r;
}

/* Append @h to @l; on failure free @l and give NULL. */
static struct curl_slist *add_header(struct curl_slist *l, const char *h)
{
    struct curl_slist *n;

    if (!l)
        return NULL;
    n = cu->slist_append(l, h);
    if (!n)
        cu->slist_free_all(l);
    return n;
}

static enum ferr_code transport_error(struct docker *d, CURL *h,
                                      const struct docker__req *rq,
                                      CURLcode res, const char *errbuf,
                                      struct ferr *err)
{
    const char *why = errbuf[0] ? errbuf : cu->easy_strerror(res);
    long oserr = 0;
    char q[72];

    span_quote(rq->path, strlen(rq->path), q);
    cu->easy_getinfo(h, CURLINFO_OS_ERRNO, &oserr);
    if (res == CURLE_COULDNT_CONNECT) {
        if (oserr > 0)
            why = strerror((int)oserr);
        if (oserr == ENOENT || oserr == ECONNREFUSED || oserr == ENOTSOCK)
            return ferr_set(err, FERR_NOTFOUND, NULL,
                            "no container engine at %s: %s " START_HINT,
                            d->shown, why);
        return ferr_set(err, FERR_IO, NULL,
                        "cannot reach the container engine at %s: %s", d->shown,
                        why);
    }
    if (res == CURLE_OPERATION_TIMEDOUT)
        return ferr_set(err, FERR_IO, NULL,
                        "no answer from the container engine at %s to %s "
                        "'%s' within %ld ms",
                        d->shown, rq->method, q, rq->timeout_ms);
    return ferr_set(err, FERR_IO, NULL,
                    "the container engine at %s, %s '%s': %s", d->shown,
                    rq->method, q, why);
}

enum ferr_code docker__request(struct docker *d, const struct docker__req *rq,
                               struct docker__resp *out, struct ferr *err)
{
    struct xfer x = {.rq = rq, .resp = out, .err = err};
    struct curl_slist *hl = NULL;
    char errbuf[CURL_ERROR_SIZE];
    const char *method = rq->method ? rq->method : "GET";
    bool has_body = rq->body || rq->body_fd > 0;
    CURL *h = d->h;
    struct buf url;
    CURLcode res;
    enum ferr_code rc = FERR_OK;

    docker__resp_init(out);
    x.h = h;
    buf_init(&url, PATH_MAX_BYTES + 64);
    if (rq->path[0] != '/')
        return ferr_set(err, FERR_INVALID, NULL,
                        "a request path must start with '/'");
    if (buf_addf(&url, "http://localhost%s%s%s", rq->unversioned ? "" : "/v",
                 rq->unversioned ? "" : d->api, rq->path)) {
        buf_release(&url);
        return path_limit(err);
    }
    for (size_t i = 0; i < url.len; i++)
        if ((unsigned char)url.p[i] <= ' ' || url.p[i] == 0x7f) {
            buf_release(&url);
            return ferr_set(err, FERR_INVALID, NULL,
                            "bad request path: a space or control character");
        }
    errbuf[0] = '\0';
    cu->easy_reset(h);
    cu->easy_setopt(h, CURLOPT_URL, url.p);
    cu->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, d->sock);
    cu->easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
    cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    if (rq->timeout_ms > 0)
        cu->easy_setopt(h, CURLOPT_TIMEOUT_MS, rq->timeout_ms);
    cu->easy_setopt(h, CURLOPT_USERAGENT, "ferry");
    cu->easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
    cu->easy_setopt(h, CURLOPT_HEADERDATA, &x);
    cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    cu->easy_setopt(h, CURLOPT_WRITEDATA, &x);
    hl = cu->slist_append(NULL, "Expect:");
    if (has_body) {
        char ct[128];

        snprintf(ct, sizeof(ct), "Content-Type: %s",
                 rq->ctype ? rq->ctype : "application/json");
        hl = add_header(hl, ct);
    } else {
        hl = add_header(hl, "Content-Type:");
    }
    for (size_t i = 0; hl && rq->headers && rq->headers[i]; i++)
        hl = add_header(hl, rq->headers[i]);
    if (!hl) {
        rc = ferr_set(err, FERR_IO, NULL, "libcurl is out of memory");
        goto done;
    }
    cu->easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (strcmp(method, "GET") == 0 && !has_body) {
        cu->easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        cu->easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        if (rq->body_fd > 0) {
            if (lseek(rq->body_fd, 0, SEEK_SET) < 0) {
                rc = ferr_set(err, FERR_IO, NULL,
                              "cannot rewind a request body: %s",
                              strerror(errno));
                goto done;
            }
            x.left = rq->body_fd_len;
            cu->easy_setopt(h, CURLOPT_POST, 1L);
            cu->easy_setopt(h, CURLOPT_READFUNCTION, on_read);
            cu->easy_setopt(h, CURLOPT_READDATA, &x);
            cu->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t)rq->body_fd_len);
        } else if (rq->body || strcmp(method, "POST") == 0 ||
                   strcmp(method, "PUT") == 0) {
            /* not copied: the body outlives the transfer */
            cu->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t)(rq->body ? rq->body_len : 0));
            cu->easy_setopt(h, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
        }
        cu->easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
    }
    res = cu->easy_perform(h);
    if (out->status == 0)
        cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, &out->status);
    if (res == CURLE_OK) {
        rc = FERR_OK;
    } else if (x.cb_rc) {
        rc = x.cb_rc;
    } else if (x.over) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "the container engine's answer to %s '%s' is over %u "
                      "bytes",
                      method, rq->path, DOCKER__ANSWER_MAX);
    } else if (x.read_errno) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot read a request body: %s",
                      strerror(x.read_errno));
    } else {
        rc = transport_error(d, h, rq, res, errbuf, err);
    }
done:
    /* the handle must not keep pointers into this frame */
    cu->easy_setopt(h, CURLOPT_HTTPHEADER, NULL);
    cu->easy_setopt(h, CURLOPT_ERRORBUFFER, NULL);
    if (hl)
        cu->slist_free_all(hl);
    buf_release(&url);
    return rc;
}

enum ferr_code docker__status_error(const struct docker__resp *r,
                                    struct ferr *err)
{
    char msg[400];
    enum ferr_code code = r->status == 404                       ? FERR_NOTFOUND
                          : r->status == 400 || r->status == 409 ? FERR_INVALID
                                                                 : FERR_IO;
    json_t *j =
        r->body.len ? json_loadb(r->body.p, r->body.len, 0, NULL) : NULL;
    const char *m = json_string_value(json_object_get(j, "message"));

    if (m && *m) {
        snprintf(msg, sizeof(msg), "%s", m);
    } else if (r->body.len) {
        struct span line, rest;

        span_cut(span_trim(buf_span(&r->body)), '\n', &line, &rest);
        snprintf(msg, sizeof(msg), "%.*s", SPAN_ARGS(span_trim(line)));
    } else {
        snprintf(msg, sizeof(msg), "HTTP status %ld", r->status);
    }
    json_decref(j);
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f)
            *p = ' ';
    docker__lower_first(msg);
    /* Podman 4 answers 500 where Docker says 409 (a name in use) */
    if (code == FERR_IO && strstr(msg, "already in use"))
        code = FERR_INVALID;
    return ferr_set(err, code, NULL, "%s", msg);
}

enum ferr_code docker__do(struct docker *d, const struct docker__req *rq,
                          struct docker__resp *out, struct ferr *err)
{
    enum ferr_code rc = docker__request(d, rq, out, err);

    if (!rc && out->status >= 400)
        rc = docker__status_error(out, err);
    return rc;
}

/* ---------- opening ---------- */

static enum ferr_code sock_of(const char *host, const char **out,
                              struct ferr *err)
{
    const char *h = host;
    const char *e;
    char q[72];

    *out = NULL;
    if (!h) {
        e = getenv("DOCKER_HOST");
        if (e && *e)
            h = e;
    }
    if (!h) {
        *out = DEFAULT_SOCK;
        return FERR_OK;
    }
    span_quote(h, strlen(h), q);
    if (strncmp(h, "unix://", 7) != 0)
        return ferr_set(err, FERR_USAGE, NULL,
                        "container engine '%s' is not a unix:// socket "
                        "(ferry speaks to engines over unix sockets only)",
                        q);
    if (h[7] != '/')
        return ferr_set(err, FERR_USAGE, NULL,
                        "container engine '%s': want unix:///ABSOLUTE/PATH", q);
    if (strlen(h + 7) >= sizeof(((struct sockaddr_un *)0)->sun_path))
        return ferr_set(err, FERR_USAGE, NULL,
                        "container engine '%s': the socket path is too long",
                        q);
    *out = h + 7;
    return FERR_OK;
}

/* GET /version: the engine's ApiVersion and MinAPIVersion minors. */
static enum ferr_code engine_versions(struct docker *d, int *out_max,
                                      int *out_min, struct ferr *err)
{
    struct docker__req rq = {.method = "GET",
                             .path = "/version",
                             .unversioned = true,
                             .timeout_ms = OPEN_TIMEOUT_MS};
    struct docker__resp r;
    json_t *j = NULL;
    enum ferr_code rc;

    *out_max = -1;
    *out_min = -1;
    rc = docker__do(d, &rq, &r, err);
    if (!rc) {
        j = json_loadb(r.body.p ? r.body.p : "", r.body.len, 0, NULL);
        *out_max =
            api_minor(json_string_value(json_object_get(j, "ApiVersion")));
        *out_min =
            api_minor(json_string_value(json_object_get(j, "MinAPIVersion")));
        if (*out_max < 0)
            rc = ferr_set(err, FERR_IO, NULL,
                          "the container engine at %s gave no API version",
                          d->shown);
    }
    json_decref(j);
    docker__resp_release(&r);
    return rc;
}

/* Speak min(ours, the engine's); but never below the engine's minimum,
 * which Docker 29 raised above ours (1.44). */
static enum ferr_code negotiate(struct docker *d, const char *pinged,
                                struct ferr *err)
{
    int ours = api_minor(DOCKER_API_VERSION);
    int max = api_minor(pinged);
    int min = -1;
    int use;
    enum ferr_code rc;

    if (max < 0 || max > ours) {
        rc = engine_versions(d, &max, &min, err);
        if (rc)
            return rc;
    }
    use = max < ours ? max : ours;
    if (min > use)
        use = min;
    if (use < MIN_API_MINOR)
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "the container engine at %s speaks API 1.%d; ferry "
                        "needs 1.%d or newer",
                        d->shown, use, MIN_API_MINOR);
    snprintf(d->api, sizeof(d->api), "1.%d", use);
    return FERR_OK;
}

enum ferr_code docker_open(const char *host, struct docker **out,
                           struct ferr *err)
{
    struct docker__req rq = {.method = "GET",
                             .path = "/_ping",
                             .unversioned = true,
                             .timeout_ms = OPEN_TIMEOUT_MS};
    struct docker__resp r;
    struct docker *d = NULL;
    const char *sock;
    struct stat st;
    enum ferr_code rc;

    *out = NULL;
    rc = sock_of(host, &sock, err);
    if (rc)
        return rc;
    rc = httpc_load(NULL, err);
    if (rc)
        return rc;
    cu = httpc_curl();
    d = xcalloc(1, sizeof(*d));
    d->sock = xstrdup(sock);
    d->shown = xasprintf("unix://%s", sock);
    snprintf(d->api, sizeof(d->api), "%s", DOCKER_API_VERSION);
    if (stat(sock, &st) != 0) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "no container engine at %s: %s " START_HINT, d->shown,
                      strerror(errno));
        goto fail;
    }
    if (!S_ISSOCK(st.st_mode)) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "no container engine at %s: not a socket " START_HINT,
                      d->shown);
        goto fail;
    }
    d->h = cu->easy_init();
    if (!d->h) {
        rc = ferr_set(err, FERR_IO, NULL, "libcurl cannot start a handle");
        goto fail;
    }
    rc = docker__request(d, &rq, &r, err);
    if (!rc && r.status != 200)
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine at %s answered %ld to /_ping",
                      d->shown, r.status);
    if (!rc)
        rc = negotiate(d, r.api_version, err);
    docker__resp_release(&r);
    if (rc)
        goto fail;
    *out = d;
    return FERR_OK;
fail:
    docker_close(d);
    return rc;
}

void docker_close(struct docker *d)
{
    if (!d)
        return;
    if (d->h)
        cu->easy_cleanup(d->h);
    free(d->sock);
    free(d->shown);
    free(d);
}

const char *docker_api_version(const struct docker *d)
{
    return d->api;
}

/* ---------- one call ---------- */

/* @method @path with @body; the decoded answer into *out_json. */
static enum ferr_code call(struct docker *d, const char *method,
                           const char *path, const json_t *body,
                           json_t **out_json, struct ferr *err)
{
    struct docker__req rq = {.method = method, .path = path};
    struct docker__resp r;
    char *text = NULL;
    enum ferr_code rc;

    if (out_json)
        *out_json = NULL;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text)
            return ferr_set(err, FERR_INVALID, NULL,
                            "a request body cannot be encoded as JSON");
        rq.body = text;
        rq.body_len = strlen(text);
    }
    rc = docker__do(d, &rq, &r, err);
    if (!rc && out_json && r.body.len > 0) {
        json_error_t je;

        *out_json = json_loadb(r.body.p, r.body.len, 0, &je);
        if (!*out_json)
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "the container engine's answer to %s '%s' is not "
                          "JSON: %s",
                          method, path, je.text);
    }
    docker__resp_release(&r);
    free(text);
    return rc;
}

enum ferr_code docker_call(struct docker *d, const char *method,
                           const char *path, const json_t *body,
                           json_t **out_json, struct ferr *err)
{
    if (out_json)
        *out_json = NULL;
    bool good = method && *method && strlen(method) <= 16;

    for (const char *m = method; good && *m; m++)
        good = *m >= 'A' && *m <= 'Z';
    if (!good || !path || path[0] != '/')
        return ferr_set(err, FERR_INVALID, NULL,
                        "a call needs a method (GET, POST, …) and a path "
                        "starting with '/'");
    return call(d, method, path, body, out_json, err);
}

/* A path with a "filters" query of labels ({"label":[…]}). */
static enum ferr_code label_filter(struct buf *path, const char *const *labels,
                                   struct ferr *err)
{
    json_t *f, *l;
    char *text;
    enum ferr_code rc;

    if (!labels || !labels[0])
        return FERR_OK;
    l = json_array();
    for (size_t i = 0; labels[i]; i++)
        json_array_append_new(l, json_string(labels[i]));
    f = json_pack("{s:o}", "label", l);
    text = f ? json_dumps(f, JSON_COMPACT) : NULL;
    json_decref(f);
    if (!text)
        return ferr_set(err, FERR_INVALID, NULL,
                        "a label filter is not valid UTF-8");
    rc = docker__qadd(path, "filters", text);
    free(text);
    return rc ? path_limit(err) : FERR_OK;
}

/* ---------- containers ---------- */

enum ferr_code docker_container_create(struct docker *d, const char *name,
                                       const json_t *config, char **out_id,
                                       struct ferr *err)
{
    struct buf path;
    json_t *c = NULL, *labels, *ans = NULL;
    const char *id;
    enum ferr_code rc;

    *out_id = NULL;
    if (!json_is_object(config))
        return ferr_set(err, FERR_INVALID, NULL,
                        "a container's config must be a JSON object");
    if (name) {
        rc = check_name(name, "container", err);
        if (rc)
            return rc;
    }
    buf_init(&path, PATH_MAX_BYTES);
    if (buf_adds(&path, "/containers/create") ||
        (name && docker__qadd(&path, "name", name))) {
        rc = path_limit(err);
        goto done;
    }
    c = json_deep_copy(config);
    labels = json_object_get(c, "Labels");
    if (!json_is_object(labels)) {
        labels = json_object();
        json_object_set_new(c, "Labels", labels);
    }
    json_object_set_new(labels, DOCKER_LABEL_MANAGED, json_string("1"));
    json_object_set_new(labels, DOCKER_LABEL_OWNER,
                        json_string(docker_owner()));
    rc = call(d, "POST", path.p, c, &ans, err);
    if (rc)
        goto done;
    id = json_string_value(json_object_get(ans, "Id"));
    if (!id || !*id) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine created a container without "
                      "an id");
        goto done;
    }
    *out_id = xstrdup(id);
done:
    json_decref(ans);
    json_decref(c);
    buf_release(&path);
    return rc;
}

/* @method /containers/ID@suffix without a body; the answer dropped. */
static enum ferr_code container_verb(struct docker *d, const char *method,
                                     const char *id, const char *suffix,
                                     struct ferr *err)
{
    struct buf path;
    enum ferr_code rc =
        ref_path(&path, "/containers", id, suffix, "container id", err);

    if (!rc)
        rc = call(d, method, path.p, NULL, NULL, err);
    buf_release(&path);
    return rc;
}

enum ferr_code docker_container_start(struct docker *d, const char *id,
                                      struct ferr *err)
{
    return container_verb(d, "POST", id, "/start", err);
}

enum ferr_code docker_container_stop(struct docker *d, const char *id,
                                     int timeout_s, struct ferr *err)
{
    char suffix[48];

    snprintf(suffix, sizeof(suffix), "/stop?t=%d",
             timeout_s < 0 ? 0 : timeout_s);
    return container_verb(d, "POST", id, suffix, err);
}

enum ferr_code docker_container_wait(struct docker *d, const char *id,
                                     int *out_status, struct ferr *err)
{
    struct buf path;
    json_t *ans = NULL, *code;
    const char *emsg;
    enum ferr_code rc;

    *out_status = -1;
    rc = ref_path(&path, "/containers", id, "/wait", "container id", err);
    if (!rc)
        rc = call(d, "POST", path.p, NULL, &ans, err);
    if (rc)
        goto done;
    emsg = json_string_value(
        json_object_get(json_object_get(ans, "Error"), "Message"));
    code = json_object_get(ans, "StatusCode");
    if (emsg && *emsg) {
        rc = ferr_set(err, FERR_IO, NULL, "waiting for container '%s': %s", id,
                      emsg);
    } else if (!json_is_integer(code)) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine gave no exit status for '%s'", id);
    } else {
        json_int_t v = json_integer_value(code);

        *out_status = v < 0 || v > 255 ? (int)(v & 255) : (int)v;
    }
done:
    json_decref(ans);
    buf_release(&path);
    return rc;
}

enum ferr_code docker_container_remove(struct docker *d, const char *id,
                                       bool force, struct ferr *err)
{
    return container_verb(d, "DELETE", id, force ? "?v=1&force=1" : "?v=1",
                          err);
}

enum ferr_code docker_container_inspect(struct docker *d, const char *id,
                                        json_t **out, struct ferr *err)
{
    struct buf path;
    enum ferr_code rc;

    *out = NULL;
    rc = ref_path(&path, "/containers", id, "/json", "container id", err);
    if (!rc)
        rc = call(d, "GET", path.p, NULL, out, err);
    if (!rc && !json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine's inspect of '%s' is not an "
                      "object",
                      id);
    }
    buf_release(&path);
    return rc;
}

enum ferr_code docker_container_list(struct docker *d,
                                     const char *const *labels, bool all,
                                     json_t **out, struct ferr *err)
{
    struct buf path;
    enum ferr_code rc;

    *out = NULL;
    buf_init(&path, PATH_MAX_BYTES);
    if (buf_adds(&path, "/containers/json") ||
        (all && docker__qadd(&path, "all", "1")))
        rc = path_limit(err);
    else
        rc = label_filter(&path, labels, err);
    if (!rc)
        rc = call(d, "GET", path.p, NULL, out, err);
    if (!rc && !json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine's list is not an array");
    }
    buf_release(&path);
    return rc;
}

/* ---------- multiplexed streams: logs and exec ---------- */

typedef void (*stream_fn)(void *ud, int stream, const char *p, size_t n);

static void discard(void *ud, int stream, const char *p, size_t n)
{
    (void)ud;
    (void)stream;
    (void)p;
    (void)n;
}

struct mux_sink {
    struct docker_demux m;
    bool raw; /* a Tty stream: no frames, all stdout */
    stream_fn cb;
    void *ud;
};

static enum ferr_code mux_data(void *ud, const char *p, size_t n,
                               struct ferr *err)
{
    struct mux_sink *s = ud;

    if (s->raw) {
        s->cb(s->ud, 1, p, n);
        return FERR_OK;
    }
    if (docker_demux_feed(&s->m, p, n, s->cb, s->ud))
        return ferr_set(err, FERR_IO, NULL,
                        "the container engine's output stream is not "
                        "multiplexed as expected");
    return FERR_OK;
}

enum ferr_code
docker_container_logs(struct docker *d, const char *id, bool follow,
                      void (*cb)(void *ud, int stream, const char *p, size_t n),
                      void *ud, struct ferr *err)
{
    struct mux_sink s = {.cb = cb ? cb : discard, .ud = ud};
    struct docker__req rq = {.method = "GET", .on_data = mux_data, .ud = &s};
    struct docker__resp r;
    struct buf path;
    json_t *info = NULL;
    enum ferr_code rc;

    buf_init(&path, 0);
    rc = docker_container_inspect(d, id, &info, err);
    if (rc)
        goto done;
    s.raw =
        json_is_true(json_object_get(json_object_get(info, "Config"), "Tty"));
    docker_demux_init(&s.m);
    rc = ref_path(&path, "/containers", id,
                  follow ? "/logs?stdout=1&stderr=1&follow=1"
                         : "/logs?stdout=1&stderr=1",
                  "container id", err);
    if (rc)
        goto done;
    rq.path = path.p;
    rc = docker__do(d, &rq, &r, err);
    docker__resp_release(&r);
    if (!rc && !s.raw && docker_demux_partial(&s.m))
        rc = ferr_set(err, FERR_IO, NULL,
                      "the logs of container '%s' were cut short", id);
done:
    json_decref(info);
    buf_release(&path);
    return rc;
}

static json_t *string_array(const char *const *v)
{
    json_t *a = json_array();

    for (size_t i = 0; v && v[i]; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

static bool all_strings(const json_t *a, const char *const *v)
{
    size_t n = 0;

    while (v && v[n])
        n++;
    return json_array_size(a) == n;
}

static void nap_10ms(void)
{
    struct timespec ts = {0, 10 * 1000 * 1000};

    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

/* The exit code of exec @eid once the engine says it stopped. */
static enum ferr_code exec_code(struct docker *d, const char *eid,
                                int *out_code, struct ferr *err)
{
    struct buf path;
    json_t *ans = NULL;
    enum ferr_code rc;

    *out_code = -1;
    rc = ref_path(&path, "/exec", eid, "/json", "exec id", err);
    for (int i = 0; !rc && i < EXEC_SETTLE_TRIES; i++) {
        json_t *code;

        json_decref(ans);
        ans = NULL;
        rc = call(d, "GET", path.p, NULL, &ans, err);
        if (rc)
            break;
        if (json_is_true(json_object_get(ans, "Running"))) {
            nap_10ms(); /* the stream ended a moment before the state */
            continue;
        }
        code = json_object_get(ans, "ExitCode");
        /* no code: it never started (Docker records 126 then) */
        *out_code = json_is_integer(code) ? (int)json_integer_value(code) : 126;
        goto done;
    }
    if (!rc)
        rc = ferr_set(err, FERR_IO, NULL,
                      "exec '%s' still runs after its output ended", eid);
done:
    json_decref(ans);
    buf_release(&path);
    return rc;
}

enum ferr_code
docker_exec_run(struct docker *d, const char *id, const struct docker_exec *x,
                void (*cb)(void *ud, int stream, const char *p, size_t n),
                void *ud, int *out_code, struct ferr *err)
{
    struct mux_sink s = {.cb = cb ? cb : discard, .ud = ud};
    static const char start_body[] = "{\"Detach\":false,\"Tty\":false}";
    struct docker__req rq = {.method = "POST",
                             .body = start_body,
                             .body_len = sizeof(start_body) - 1,
                             .on_data = mux_data,
                             .ud = &s};
    struct docker__resp r;
    struct buf path, spath;
    json_t *body = NULL, *ans = NULL;
    const char *eid;
    char *eid_copy = NULL;
    enum ferr_code rc;

    *out_code = -1;
    buf_init(&spath, 0);
    rc = ref_path(&path, "/containers", id, "/exec", "container id", err);
    if (rc)
        goto done;
    if (!x->cmd || !x->cmd[0]) {
        rc = ferr_set(err, FERR_INVALID, NULL, "an exec needs a command");
        goto done;
    }
    body =
        json_pack("{s:b, s:b, s:b, s:b, s:o}", "AttachStdin", 0, "AttachStdout",
                  1, "AttachStderr", 1, "Tty", 0, "Cmd", string_array(x->cmd));
    if (x->env)
        json_object_set_new(body, "Env", string_array(x->env));
    if (x->workdir)
        json_object_set_new(body, "WorkingDir", json_string(x->workdir));
    if (x->user)
        json_object_set_new(body, "User", json_string(x->user));
    if (!all_strings(json_object_get(body, "Cmd"), x->cmd) ||
        (x->env && !all_strings(json_object_get(body, "Env"), x->env)) ||
        (x->workdir && !json_object_get(body, "WorkingDir")) ||
        (x->user && !json_object_get(body, "User"))) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "an exec's command, environment, directory or user "
                      "is not valid UTF-8");
        goto done;
    }
    rc = call(d, "POST", path.p, body, &ans, err);
    if (rc)
        goto done;
    eid = json_string_value(json_object_get(ans, "Id"));
    if (!eid || !*eid) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine created an exec without an id");
        goto done;
    }
    eid_copy = xstrdup(eid);
    rc = ref_path(&spath, "/exec", eid_copy, "/start", "exec id", err);
    if (rc)
        goto done;
    docker_demux_init(&s.m);
    rq.path = spath.p;
    rc = docker__do(d, &rq, &r, err);
    docker__resp_release(&r);
    if (!rc && docker_demux_partial(&s.m))
        rc = ferr_set(err, FERR_IO, NULL,
                      "the output of an exec in '%s' was cut short", id);
    if (!rc)
        rc = exec_code(d, eid_copy, out_code, err);
done:
    free(eid_copy);
    json_decref(ans);
    json_decref(body);
    buf_release(&path);
    buf_release(&spath);
    return rc;
}

/* ---------- networks and volumes ---------- */

enum ferr_code docker_network_create(struct docker *d, const char *name,
                                     const char *const *labels, char **out_id,
                                     struct ferr *err)
{
    json_t *body = NULL, *l, *ans = NULL;
    const char *id;
    enum ferr_code rc;

    *out_id = NULL;
    rc = check_name(name, "network", err);
    if (rc)
        return rc;
    l = json_object();
    for (size_t i = 0; labels && labels[i]; i++) {
        const char *eq = strchr(labels[i], '=');
        char *k = eq ? xstrndup(labels[i], (size_t)(eq - labels[i]))
                     : xstrdup(labels[i]);
        json_t *v = json_string(eq ? eq + 1 : "");

        if (!*k || !v || json_object_set_new(l, k, v)) {
            free(k);
            json_decref(l);
            return ferr_set(err, FERR_INVALID, NULL,
                            "bad network label: want KEY=VALUE in UTF-8");
        }
        free(k);
    }
    json_object_set_new(l, DOCKER_LABEL_MANAGED, json_string("1"));
    json_object_set_new(l, DOCKER_LABEL_OWNER, json_string(docker_owner()));
    body = json_pack("{s:s, s:s, s:o}", "Name", name, "Driver", "bridge",
                     "Labels", l);
    rc = call(d, "POST", "/networks/create", body, &ans, err);
    if (rc)
        goto done;
    id = json_string_value(json_object_get(ans, "Id"));
    if (!id || !*id) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine created network '%s' without "
                      "an id",
                      name);
        goto done;
    }
    *out_id = xstrdup(id);
done:
    json_decref(ans);
    json_decref(body);
    return rc;
}

enum ferr_code docker_network_remove(struct docker *d, const char *id,
                                     struct ferr *err)
{
    struct buf path;
    enum ferr_code rc =
        ref_path(&path, "/networks", id, NULL, "network id", err);

    if (!rc)
        rc = call(d, "DELETE", path.p, NULL, NULL, err);
    buf_release(&path);
    return rc;
}

enum ferr_code docker_network_list(struct docker *d, const char *const *labels,
                                   json_t **out, struct ferr *err)
{
    struct buf path;
    enum ferr_code rc;

    *out = NULL;
    buf_init(&path, PATH_MAX_BYTES);
    rc = buf_adds(&path, "/networks") ? path_limit(err)
                                      : label_filter(&path, labels, err);
    if (!rc)
        rc = call(d, "GET", path.p, NULL, out, err);
    if (!rc && !json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine's network list is not an array");
    }
    buf_release(&path);
    return rc;
}

enum ferr_code docker_volume_remove(struct docker *d, const char *name,
                                    struct ferr *err)
{
    struct buf path;
    enum ferr_code rc =
        ref_path(&path, "/volumes", name, NULL, "volume name", err);

    if (!rc)
        rc = call(d, "DELETE", path.p, NULL, NULL, err);
    buf_release(&path);
    return rc;
}

/* ---------- registry auth ---------- */

static char *base64url(const unsigned char *p, size_t n)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    char *out = xmalloc((n + 2) / 3 * 4 + 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;

        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < n ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? tab[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* base64url of @o's compact text; the text, which holds the password,
 * is zeroed before it is freed */
static char *encode_secret(json_t *o)
{
    char *text = json_dumps(o, JSON_COMPACT | JSON_SORT_KEYS);
    char *out;

    if (!text)
        return base64url((const unsigned char *)"{}", 2);
    out = base64url((const unsigned char *)text, strlen(text));
    explicit_bzero(text, strlen(text));
    free(text);
    return out;
}

char *docker_auth_header(const char *user, const char *password,
                         const char *server)
{
    json_t *o = json_object();
    char *out;

    if (user)
        json_object_set_new(o, "username", json_string(user));
    if (password)
        json_object_set_new(o, "password", json_string(password));
    if (server)
        json_object_set_new(o, "serveraddress", json_string(server));
    out = encode_secret(o);
    json_decref(o);
    return out;
}

char *docker_registry_config(const char *user, const char *password,
                             const char *server)
{
    json_t *o = json_object();
    json_t *cred = json_object();
    char *out;

    json_object_set_new(cred, "username", json_string(user ? user : ""));
    json_object_set_new(cred, "password",
                        json_string(password ? password : ""));
    if (!server || !*server || strcmp(server, "docker.io") == 0 ||
        strcmp(server, "index.docker.io") == 0 ||
        strcmp(server, "https://index.docker.io/v1/") == 0) {
        json_object_set(o, "https://index.docker.io/v1/", cred);
        json_object_set(o, "docker.io", cred);
    } else {
        json_object_set(o, server, cred);
    }
    json_decref(cred);
    out = encode_secret(o);
    json_decref(o);
    return out;
}

bool docker_auth_refused(const char *msg)
{
    static const char *const says[] = {
        "unauthorized",
        "authentication required",
        "access denied",
        "access to the resource is denied",
        "403 forbidden",
        "invalid username/password",
        "incorrect username or password",
        "no basic auth credentials",
    };

    /* a build's RUN that failed: the message quotes the command, whose
     * words ("curl … || echo unauthorized") are not the registry's */
    static const char *const run_failed[] = {
        "STEP \"RUN ",                   /* Podman (Buildah) */
        "returned a non-zero code",      /* Docker's classic builder */
        "did not complete successfully", /* BuildKit */
    };

    if (!msg)
        return false;
    for (size_t i = 0; i < sizeof(run_failed) / sizeof(run_failed[0]); i++)
        if (strstr(msg, run_failed[i]))
            return false;
    for (size_t i = 0; i < sizeof(says) / sizeof(says[0]); i++)
        if (strcasestr(msg, says[i]))
            return true;
    return false;
}

/* ---------- owners and orphans ---------- */

/* Field 22 of /proc/PID/stat (start time in clock ticks); 0 if gone. */
static unsigned long long start_time(long pid)
{
    char path[64], text[1024];
    unsigned long long v = 0;
    const char *p;
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    n = read(fd, text, sizeof(text) - 1);
    close(fd);
    if (n <= 0)
        return 0;
    text[n] = '\0';
    p = strrchr(text, ')'); /* the command name may hold ") " */
    if (!p)
        return 0;
    p++;
    /* after "comm)": field 3 (state) ... field 22 is the 20th */
    for (int field = 3; field < 22 && p; field++)
        p = strchr(p + 1, ' ');
    if (!p)
        return 0;
    p++;
    {
        struct span s = span_cstr(p), head, tail;
        uint64_t u;

        span_cut(s, ' ', &head, &tail);
        if (span_to_u64(head, &u) == FERR_OK)
            v = u;
    }
    return v;
}

static void host_name(char *out, size_t n)
{
    if (gethostname(out, n) != 0 || !out[0])
        snprintf(out, n, "localhost");
    out[n - 1] = '\0';
    for (char *p = out; *p; p++)
        if (*p == ':' || (unsigned char)*p <= ' ')
            *p = '_';
}

const char *docker_owner(void)
{
    static char owner[320];
    static pid_t owner_pid;
    char host[256];
    pid_t pid = getpid();

    if (owner_pid != pid) {
        host_name(host, sizeof(host));
        snprintf(owner, sizeof(owner), "%s:%ld:%llu", host, (long)pid,
                 start_time((long)pid));
        owner_pid = pid;
    }
    return owner;
}

bool docker_owner_alive(const char *owner)
{
    char host[256];
    const char *c2, *c1;
    struct span spid, sstart;
    uint64_t pid, start;

    if (!owner)
        return true;
    c2 = strrchr(owner, ':');
    if (!c2 || c2 == owner)
        return true; /* not ours to judge */
    c1 = c2 - 1;
    while (c1 > owner && *c1 != ':')
        c1--;
    if (*c1 != ':')
        return true;
    spid = span_of(c1 + 1, (size_t)(c2 - c1 - 1));
    sstart = span_cstr(c2 + 1);
    if (span_to_u64(spid, &pid) || span_to_u64(sstart, &start) || pid == 0 ||
        pid > INT32_MAX)
        return true;
    host_name(host, sizeof(host));
    if (strlen(host) != (size_t)(c1 - owner) ||
        memcmp(host, owner, (size_t)(c1 - owner)) != 0)
        return true; /* another host's ferry: it may well be alive */
    return start_time((long)pid) == start && start != 0;
}

/* Remove the managed objects of @list (containers or networks) whose
 * owner is dead; count them in *removed; the first error in *first. */
static void reap_list(struct docker *d, json_t *list, bool containers,
                      unsigned *removed, enum ferr_code *first,
                      struct ferr *err)
{
    size_t i;
    json_t *o;

    json_array_foreach (list, i, o) {
        json_t *labels = json_object_get(o, "Labels");
        const char *owner =
            json_string_value(json_object_get(labels, DOCKER_LABEL_OWNER));
        const char *id = json_string_value(json_object_get(o, "Id"));
        struct ferr e2 = {0};
        enum ferr_code rc;

        if (!id || !owner || docker_owner_alive(owner))
            continue;
        rc = containers ? docker_container_remove(d, id, true, &e2)
                        : docker_network_remove(d, id, &e2);
        if (rc == FERR_OK)
            (*removed)++;
        else if (rc != FERR_NOTFOUND && !*first) {
            *first = rc;
            ferr_set(err, rc, NULL, "removing orphan %s '%.12s': %s",
                     containers ? "container" : "network", id, e2.msg);
        }
    }
}

enum ferr_code docker_reap_orphans(struct docker *d, unsigned *out_removed,
                                   struct ferr *err)
{
    static const char *const managed[] = {DOCKER_LABEL_MANAGED "=1", NULL};
    enum ferr_code first = FERR_OK, rc;
    unsigned removed = 0;
    json_t *list = NULL;

    if (out_removed)
        *out_removed = 0;
    rc = docker_container_list(d, managed, true, &list, err);
    if (rc)
        return rc;
    reap_list(d, list, true, &removed, &first, err);
    json_decref(list);
    list = NULL;
    rc = docker_network_list(d, managed, &list, err);
    if (!rc)
        reap_list(d, list, false, &removed, &first, err);
    else if (!first)
        first = rc;
    json_decref(list);
    if (out_removed)
        *out_removed = removed;
    return first;
}
