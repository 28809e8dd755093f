/* client: ferry's API over HTTP for the client verbs.  libcurl is loaded
 * with dlopen at first use by util/httpc, the program's one loader
 * (linking it would cost `ferry serve`, which never needs it, ~7 MB of
 * RSS); this file drives easy handles through httpc's table.  One easy
 * handle per client keeps the connection.  It never follows redirects (a
 * token must not travel to another host) nor repairs UTF-8 in event
 * streams. */
#include "cli/client.h"

#include <curl/curl.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "cli/cli.h"
#include "util/httpc.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define CONNECT_TIMEOUT_MS 10000L
#define STALL_SECONDS      60L /* a plain request receiving nothing this long */
#define FOLLOW_TRIES       5   /* reconnects in a row that bring no event */
#define ERRBODY_MAX        (64u * 1024u) /* what we keep of an error answer */
#define SSE_LINE_MAX       ((size_t)LIM_LOG_LINE * 2)

/* libcurl's functions, loaded by httpc (the program's one loader); set by
 * client_load_curl, which client_new calls before any use. */
static const struct httpc_curl *cu;

struct client {
    char *shown;     /* the server as given, for messages */
    char *base;      /* URL prefix without a trailing '/' */
    char *unix_path; /* socket of a "unix:" server, else NULL */
    char *auth;      /* "Authorization: Bearer …" or NULL */
    long timeout_ms; /* total per plain request, 0 = none */
    CURL *h;
};

/* ---- loading libcurl ---- */

enum ferr_code client_load_curl(const char *soname, struct ferr *err)
{
    enum ferr_code rc = httpc_load(soname, err);

    if (!rc)
        cu = httpc_curl();
    return rc;
}

/* ---- the client ---- */

static enum ferr_code bad_url(const char *server, struct ferr *err)
{
    return ferr_set(err, FERR_USAGE, NULL,
                    "bad server URL '%s': expected http://HOST[:PORT], "
                    "https://HOST[:PORT] or unix:/PATH",
                    server);
}

/* Check @server and split it into the URL prefix and the Unix socket. */
static enum ferr_code parse_server(const char *server, char **out_base,
                                   char **out_unix, struct ferr *err)
{
    size_t n = strlen(server);
    size_t skip;

    *out_base = NULL;
    *out_unix = NULL;
    if (n > LIM_URL)
        return ferr_set(err, FERR_USAGE, NULL,
                        "the server URL is over %u bytes", LIM_URL);
    for (size_t i = 0; i < n; i++) {
        unsigned char ch = (unsigned char)server[i];

        if (ch <= ' ' || ch == 0x7f || ch == '?' || ch == '#')
            return bad_url(server, err);
    }
    if (strncmp(server, "unix:", 5) == 0) {
        const char *path = server + 5;

        if (strncmp(path, "//", 2) == 0)
            path += 2;
        if (!*path)
            return bad_url(server, err);
        *out_unix = xstrdup(path);
        *out_base = xstrdup("http://localhost");
        return FERR_OK;
    }
    if (strncasecmp(server, "http://", 7) == 0)
        skip = 7;
    else if (strncasecmp(server, "https://", 8) == 0)
        skip = 8;
    else
        return bad_url(server, err);
    /* a host, not an empty authority or a bare port */
    if (server[skip] == '\0' || server[skip] == '/' || server[skip] == ':' ||
        server[skip] == '@')
        return bad_url(server, err);
    while (n > skip && server[n - 1] == '/')
        n--;
    *out_base = xstrndup(server, n);
    return FERR_OK;
}

enum ferr_code client_new(const char *server, const char *token,
                          struct client **out, struct ferr *err)
{
    struct client *c;
    char *base;
    char *unix_path;
    enum ferr_code rc;

    *out = NULL;
    if (!server || !*server)
        server = getenv("FERRY_SERVER");
    if (!server || !*server)
        return ferr_set(err, FERR_USAGE, NULL,
                        "no server: set FERRY_SERVER or pass --server");
    if (!token)
        token = getenv("FERRY_TOKEN");
    if (token && strpbrk(token, "\r\n"))
        return ferr_set(err, FERR_USAGE, NULL,
                        "bad token: it holds a line break");
    if (token && strlen(token) > LIM_URL)
        return ferr_set(err, FERR_USAGE, NULL, "bad token: over %u bytes",
                        LIM_URL);
    rc = parse_server(server, &base, &unix_path, err);
    if (rc)
        return rc;
    rc = client_load_curl(NULL, err);
    if (rc) {
        free(base);
        free(unix_path);
        return rc;
    }
    c = xcalloc(1, sizeof(*c));
    c->shown = xstrdup(server);
    c->base = base;
    c->unix_path = unix_path;
    if (token && *token)
        c->auth = xasprintf("Authorization: Bearer %s", token);
    c->h = cu->easy_init();
    if (!c->h) {
        client_free(c);
        return ferr_set(err, FERR_IO, NULL, "libcurl cannot start a handle");
    }
    *out = c;
    return FERR_OK;
}

void client_free(struct client *c)
{
    if (!c)
        return;
    if (c->h)
        cu->easy_cleanup(c->h);
    free(c->shown);
    free(c->base);
    free(c->unix_path);
    free(c->auth);
    free(c);
}

const char *client_server(const struct client *c)
{
    return c->shown;
}

bool client_has_token(const struct client *c)
{
    return c->auth != NULL;
}

void client_set_timeout(struct client *c, long ms)
{
    c->timeout_ms = ms > 0 ? ms : 0;
}

enum ferr_code client_escape(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t start = b->len;

    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        enum ferr_code rc;

        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~') {
            rc = buf_addch(b, (char)*p);
        } else {
            char e[3] = {'%', hex[*p >> 4], hex[*p & 15]};

            rc = buf_add(b, e, 3);
        }
        if (rc) {
            b->len = start; /* unchanged on failure, like buf_add */
            if (b->p)
                b->p[start] = '\0';
            return rc;
        }
    }
    return FERR_OK;
}

/* ---- one transfer ---- */

/* Where the body of a transfer goes: all of it into @body, or, when
 * @stream is set, a 2xx body to @stream and any other into @errbody. */
struct xfer {
    struct client *c;
    struct buf *body;
    bool over; /* @body's max was reached */
    int (*stream)(void *ud, const char *p, size_t n); /* non-zero stops */
    void *ud;
    const char *want_type; /* a streamed 2xx must be of this type */
    bool started;          /* the first body bytes arrived */
    bool streaming;        /* the answer is 2xx: bytes go to @stream */
    bool aborted;          /* @stream stopped the transfer */
    bool bad_type;         /* the 2xx answer was not of @want_type */
    char type[128];        /* its content type, for the message */
    struct buf errbody;
};

static void sanitize(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < ' ' || *s == 0x7f)
            *s = '?';
}

static size_t on_write(char *p, size_t size, size_t nmemb, void *ud)
{
    struct xfer *x = ud;
    size_t n = size * nmemb;

    if (!x->stream) {
        if (buf_add(x->body, p, n)) {
            x->over = true;
            return 0;
        }
        return n;
    }
    if (!x->started) {
        long st = 0;
        char *ct = NULL;

        x->started = true;
        cu->easy_getinfo(x->c->h, CURLINFO_RESPONSE_CODE, &st);
        x->streaming = st >= 200 && st < 300;
        if (x->streaming && x->want_type) {
            cu->easy_getinfo(x->c->h, CURLINFO_CONTENT_TYPE, &ct);
            snprintf(x->type, sizeof(x->type), "%s", ct ? ct : "");
            sanitize(x->type);
            if (strncasecmp(x->type, x->want_type, strlen(x->want_type))) {
                x->bad_type = true;
                return 0;
            }
        }
    }
    if (!x->streaming) {
        size_t room = x->errbody.max - x->errbody.len;

        /* keep the start of an error answer, drop the rest */
        if (buf_add(&x->errbody, p, n < room ? n : room))
            return 0;
        return n;
    }
    if (x->stream(x->ud, p, n)) {
        x->aborted = true;
        return 0;
    }
    return n;
}

static void xfer_init(struct xfer *x, struct client *c)
{
    memset(x, 0, sizeof(*x));
    x->c = c;
    buf_init(&x->errbody, ERRBODY_MAX);
}

static bool connect_failure(CURLcode res)
{
    switch (res) {
    case CURLE_COULDNT_CONNECT:
    case CURLE_COULDNT_RESOLVE_HOST:
    case CURLE_COULDNT_RESOLVE_PROXY:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_UNSUPPORTED_PROTOCOL: return true;
    default: return false;
    }
}

static enum ferr_code transport_error(struct client *c, const char *method,
                                      const char *path, CURLcode res,
                                      const char *errbuf, struct ferr *err)
{
    const char *why = errbuf[0] ? errbuf : cu->easy_strerror(res);
    long oserr = 0;
    curl_off_t connected = 0;

    cu->easy_getinfo(c->h, CURLINFO_OS_ERRNO, &oserr);
    cu->easy_getinfo(c->h, CURLINFO_CONNECT_TIME_T, &connected);
    if (res == CURLE_COULDNT_CONNECT && oserr > 0)
        why = strerror((int)oserr);
    if (connect_failure(res) ||
        (res == CURLE_OPERATION_TIMEDOUT && connected == 0))
        return ferr_set(err, FERR_IO, NULL, "cannot reach %s: %s", c->shown,
                        why);
    return ferr_set(err, FERR_IO, NULL, "'%s %s' on %s failed: %s", method,
                    path, c->shown, why);
}

static bool has_body(const char *method, const char *body)
{
    return body || strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
           strcmp(method, "PATCH") == 0;
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

/* Run one transfer on @c's handle; @follow: a long-lived stream. */
static enum ferr_code perform(struct client *c, const char *method,
                              const char *path, const char *body, size_t len,
                              const char *const *headers, bool follow,
                              struct xfer *x, long *out_status,
                              struct ferr *err)
{
    struct curl_slist *hl;
    char errbuf[CURL_ERROR_SIZE];
    struct buf url;
    CURLcode res;
    CURL *h = c->h;
    enum ferr_code rc = FERR_OK;

    *out_status = 0;
    if (!path || path[0] != '/')
        return ferr_set(err, FERR_USAGE, NULL,
                        "bad request path '%s': it must start with '/'",
                        path ? path : "");
    if (!method || !*method || strpbrk(method, " \r\n"))
        return ferr_set(err, FERR_USAGE, NULL, "bad request method");
    buf_init(&url, (size_t)LIM_URL * 4);
    if (buf_adds(&url, c->base) || buf_adds(&url, path)) {
        buf_release(&url);
        return ferr_set(err, FERR_LIMIT, NULL,
                        "the request URL is over %u bytes", LIM_URL * 4);
    }
    errbuf[0] = '\0';
    cu->easy_reset(h);
    cu->easy_setopt(h, CURLOPT_URL, buf_cstr(&url));
    cu->easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
    cu->easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    cu->easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    cu->easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    cu->easy_setopt(h, CURLOPT_USERAGENT, "ferry/" CLI_VERSION);
    cu->easy_setopt(h, CURLOPT_WRITEFUNCTION, on_write);
    cu->easy_setopt(h, CURLOPT_WRITEDATA, x);
    if (c->unix_path)
        cu->easy_setopt(h, CURLOPT_UNIX_SOCKET_PATH, c->unix_path);
    if (follow) {
        /* a quiet job sends nothing for long: find a dead peer with TCP
         * keepalives rather than a low-speed limit */
        cu->easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);
        cu->easy_setopt(h, CURLOPT_TCP_KEEPIDLE, 30L);
        cu->easy_setopt(h, CURLOPT_TCP_KEEPINTVL, 15L);
    } else {
        cu->easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
        cu->easy_setopt(h, CURLOPT_LOW_SPEED_TIME, STALL_SECONDS);
        if (c->timeout_ms)
            cu->easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
    }
    /* no "Expect: 100-continue" round trip for big hook bodies */
    hl = cu->slist_append(NULL, "Expect:");
    if (c->auth)
        hl = add_header(hl, c->auth);
    for (size_t i = 0; hl && headers && headers[i]; i++)
        hl = add_header(hl, headers[i]);
    /* an empty POST is not a form: drop curl's default content type */
    if (!body && has_body(method, body))
        hl = add_header(hl, "Content-Type:");
    if (!hl) {
        rc = ferr_set(err, FERR_IO, NULL, "libcurl is out of memory");
        goto done;
    }
    cu->easy_setopt(h, CURLOPT_HTTPHEADER, hl);
    if (strcmp(method, "GET") == 0 && !body) {
        cu->easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (strcmp(method, "HEAD") == 0) {
        cu->easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
        cu->easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
        if (has_body(method, body)) {
            /* not copied: @body outlives the transfer */
            cu->easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                            (curl_off_t)(body ? len : 0));
            cu->easy_setopt(h, CURLOPT_POSTFIELDS, body ? body : "");
        }
    }
    res = cu->easy_perform(h);
    cu->easy_getinfo(h, CURLINFO_RESPONSE_CODE, out_status);
    if (res == CURLE_OK)
        goto done;
    if (res == CURLE_WRITE_ERROR && x->over) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "the answer to '%s %s' is over %zu bytes", method, path,
                      x->body->max);
    } else if (res == CURLE_WRITE_ERROR && (x->aborted || x->bad_type)) {
        rc = FERR_OK; /* the caller looks at why */
    } else {
        rc = transport_error(c, method, path, res, errbuf, err);
    }
done:
    /* the handle keeps pointers to errbuf and the headers: drop them */
    cu->easy_reset(h);
    cu->slist_free_all(hl);
    buf_release(&url);
    return rc;
}

enum ferr_code client_request(struct client *c, const char *method,
                              const char *path, const char *body, size_t len,
                              const char *const *headers, long *out_status,
                              struct buf *out, struct ferr *err)
{
    struct xfer x;
    enum ferr_code rc;

    xfer_init(&x, c);
    x.body = out;
    rc = perform(c, method, path, body, len, headers, false, &x, out_status,
                 err);
    buf_release(&x.errbody);
    return rc;
}

/* The error for a non-2xx @status whose body is @body. */
static enum ferr_code http_error(struct client *c, long status,
                                 struct span body, struct ferr *err)
{
    char msg[300];
    json_t *j = json_loadb(body.p ? body.p : "", body.len, 0, NULL);
    json_t *e = json_object_get(j, "error");

    if (json_is_string(e) && json_string_length(e) > 0) {
        snprintf(msg, sizeof(msg), "%s", json_string_value(e));
    } else {
        struct span first = body;
        struct span rest;

        span_cut(body, '\n', &first, &rest);
        first = span_trim(first);
        if (first.len && !j)
            snprintf(msg, sizeof(msg), "%.*s", SPAN_ARGS(first));
        else
            snprintf(msg, sizeof(msg), "the server refused the request");
    }
    json_decref(j);
    sanitize(msg);
    if (status == 404)
        return ferr_set(err, FERR_NOTFOUND, NULL, "%s (HTTP 404)", msg);
    if (status == 401 || status == 403)
        return ferr_set(
            err, FERR_USAGE, NULL, "not allowed: %s (HTTP %ld)%s", msg, status,
            status == 401 && !c->auth ? "; set FERRY_TOKEN or pass --token"
                                      : "");
    if (status >= 300 && status < 400)
        return ferr_set(err, FERR_INVALID, NULL,
                        "the server answered a redirect (HTTP %ld); "
                        "check the server URL",
                        status);
    return ferr_set(err, FERR_INVALID, NULL, "%s (HTTP %ld)", msg, status);
}

enum ferr_code client_json(struct client *c, const char *method,
                           const char *path, json_t *body, long *out_status,
                           json_t **out, struct ferr *err)
{
    const char *headers[3] = {"Accept: application/json", NULL, NULL};
    char *text = NULL;
    struct buf resp;
    json_error_t je;
    long status = 0;
    enum ferr_code rc;

    *out = NULL;
    if (out_status)
        *out_status = 0;
    if (body) {
        text = json_dumps(body, JSON_COMPACT);
        if (!text)
            return ferr_set(err, FERR_INVALID, NULL,
                            "cannot encode the request as JSON");
        headers[1] = "Content-Type: application/json";
    }
    buf_init(&resp, LIM_CLIENT_BODY);
    rc = client_request(c, method, path, text, text ? strlen(text) : 0, headers,
                        &status, &resp, err);
    if (out_status)
        *out_status = status;
    if (rc)
        goto done;
    if (status < 200 || status >= 300) {
        rc = http_error(c, status, buf_span(&resp), err);
        goto done;
    }
    if (status == 204 || span_trim(buf_span(&resp)).len == 0)
        goto done;
    *out = json_loadb(resp.p, resp.len, 0, &je);
    if (!*out)
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "the answer to '%s %s' is not JSON: %s", method, path,
                      je.text);
done:
    free(text);
    buf_release(&resp);
    return rc;
}

struct download {
    FILE *to;
    int errnum; /* errno of a failed write, else 0 */
};

static int download_bytes(void *ud, const char *p, size_t n)
{
    struct download *d = ud;

    if (fwrite(p, 1, n, d->to) != n) {
        d->errnum = errno ? errno : EIO;
        return 1;
    }
    return 0;
}

enum ferr_code client_download(struct client *c, const char *path, FILE *to,
                               long *out_status, struct ferr *err)
{
    struct download d = {to, 0};
    struct xfer x;
    long status = 0;
    enum ferr_code rc;

    xfer_init(&x, c);
    x.stream = download_bytes;
    x.ud = &d;
    rc = perform(c, "GET", path, NULL, 0, NULL, false, &x, &status, err);
    if (out_status)
        *out_status = status;
    if (!rc && d.errnum)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write the answer: %s",
                      strerror(d.errnum));
    else if (!rc && (status < 200 || status >= 300))
        rc = http_error(c, status, buf_span(&x.errbody), err);
    else if (!rc && fflush(to))
        rc = ferr_set(err, FERR_IO, NULL, "cannot write the answer: %s",
                      strerror(errno));
    buf_release(&x.errbody);
    return rc;
}

/* ---- following an event stream ---- */

struct follow {
    client_event_fn on_event;
    void *ud;
    struct client_sse *sse;
    struct ferr perr; /* the parser's error */
    bool failed;      /* perr holds one */
    bool stopped;     /* on_event returned non-zero */
    bool ended;       /* an "end" event came */
    bool progressed;  /* this connection brought an event */
};

static int follow_event(void *ud, const char *id, const char *event,
                        const char *data)
{
    struct follow *f = ud;
    int r;

    f->progressed = true;
    if (strcmp(event, "end") == 0)
        f->ended = true;
    r = f->on_event(f->ud, id, event, data);
    if (r)
        f->stopped = true;
    /* after "end", stop reading even if the server keeps the stream */
    return r ? r : f->ended;
}

static int follow_bytes(void *ud, const char *p, size_t n)
{
    struct follow *f = ud;

    if (client_sse_feed(f->sse, p, n, &f->perr)) {
        f->failed = true;
        return 1;
    }
    return client_sse_stopped(f->sse) != 0;
}

/* Blocking is right here: this is the client, not the daemon (STYLE.md
 * bans sleep/usleep there), and nothing else runs. */
void client_pause_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};

    while (nanosleep(&t, &t) != 0 && errno == EINTR)
        ;
}

enum ferr_code client_follow(struct client *c, const char *path,
                             const char *last_id, client_event_fn on_event,
                             void *ud, struct ferr *err)
{
    struct follow f;
    struct buf idh;
    char reason[sizeof(err->msg)];
    bool connected = false;
    int fails = 0;
    enum ferr_code rc = FERR_OK;

    memset(&f, 0, sizeof(f));
    f.on_event = on_event;
    f.ud = ud;
    buf_init(&idh, SSE_LINE_MAX + 64);
    if (last_id && strpbrk(last_id, "\r\n"))
        return ferr_set(err, FERR_USAGE, NULL,
                        "bad last event id: it holds a line break");
    if (buf_addf(&idh, "Last-Event-ID: %s", last_id ? last_id : ""))
        return ferr_set(err, FERR_LIMIT, NULL, "the last event id is too long");
    f.sse = client_sse_new(follow_event, &f);
    for (;;) {
        const char *headers[4] = {"Accept: text/event-stream",
                                  "Cache-Control: no-cache", NULL, NULL};
        struct ferr terr;
        struct xfer x;
        long status = 0;
        const char *id;
        bool retry;

        if (idh.len > strlen("Last-Event-ID: "))
            headers[2] = buf_cstr(&idh);
        xfer_init(&x, c);
        x.stream = follow_bytes;
        x.ud = &f;
        x.want_type = "text/event-stream";
        f.progressed = false;
        ferr_clear(&terr);
        rc =
            perform(c, "GET", path, NULL, 0, headers, true, &x, &status, &terr);
        retry = false;
        /* once a stream was answered, a later drop is worth a retry */
        if (status >= 200 && status < 300)
            connected = true;
        if (f.failed) {
            rc = ferr_set(err, f.perr.code, NULL, "%s", f.perr.msg);
        } else if (f.stopped || f.ended) {
            rc = FERR_OK;
        } else if (!rc && x.bad_type) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "'GET %s' answered '%s', not an event stream", path,
                          x.type);
        } else if (!rc && status != 503 && (status < 200 || status >= 300)) {
            rc = http_error(c, status, buf_span(&x.errbody), err);
        } else if (rc && !connected) {
            rc = ferr_set(err, terr.code, NULL, "%s", terr.msg);
        } else {
            /* a drop, an early end or a 503: try again */
            if (rc)
                snprintf(reason, sizeof(reason), "%s", terr.msg);
            else if (status == 503)
                snprintf(reason, sizeof(reason),
                         "the server is not ready (HTTP 503)");
            else
                snprintf(reason, sizeof(reason), "it ended early");
            retry = true;
        }
        buf_release(&x.errbody);
        if (!retry)
            break;
        if (f.progressed)
            fails = 0;
        if (++fails > FOLLOW_TRIES) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "the event stream of %s broke %d times in a row: "
                          "%s",
                          c->shown, FOLLOW_TRIES + 1, reason);
            break;
        }
        id = client_sse_last_id(f.sse);
        if (*id) {
            buf_reset(&idh);
            if (buf_addf(&idh, "Last-Event-ID: %s", id)) {
                rc = ferr_set(err, FERR_LIMIT, NULL,
                              "the last event id is too long");
                break;
            }
        }
        client_sse_reset(f.sse);
        client_pause_ms(1000);
    }
    client_sse_free(f.sse);
    buf_release(&idh);
    return rc;
}

/* ---- the event-stream parser ---- */

struct client_sse {
    client_event_fn on_event;
    void *ud;
    struct buf line;    /* a line split across feeds */
    struct buf data;    /* the data buffer: lines each ending in '\n' */
    struct buf type;    /* the event type buffer */
    struct buf idbuf;   /* the last event ID buffer */
    struct buf last_id; /* the stream's last event ID (set on dispatch) */
    bool cr;            /* the last feed ended with CR: skip a first LF */
    bool first_line;    /* the next line is the stream's first (BOM) */
    int stopped;        /* what on_event stopped with */
    struct ferr fail;   /* the error that broke the stream */
};

struct client_sse *client_sse_new(client_event_fn on_event, void *ud)
{
    struct client_sse *p = xcalloc(1, sizeof(*p));

    p->on_event = on_event;
    p->ud = ud;
    buf_init(&p->line, SSE_LINE_MAX);
    buf_init(&p->data, LIM_SSE_BACKLOG);
    buf_init(&p->type, SSE_LINE_MAX);
    buf_init(&p->idbuf, SSE_LINE_MAX);
    buf_init(&p->last_id, SSE_LINE_MAX);
    p->first_line = true;
    ferr_clear(&p->fail);
    return p;
}

void client_sse_free(struct client_sse *p)
{
    if (!p)
        return;
    buf_release(&p->line);
    buf_release(&p->data);
    buf_release(&p->type);
    buf_release(&p->idbuf);
    buf_release(&p->last_id);
    free(p);
}

void client_sse_reset(struct client_sse *p)
{
    buf_reset(&p->line);
    buf_reset(&p->data);
    buf_reset(&p->type);
    /* a new connection starts from the id it resumed at (as browsers
     * do), so an event without "id:" does not forget it */
    buf_reset(&p->idbuf);
    if (buf_addspan(&p->idbuf, buf_span(&p->last_id)))
        buf_reset(&p->idbuf); /* cannot happen: same max */
    p->cr = false;
    p->first_line = true;
    p->stopped = 0;
    ferr_clear(&p->fail);
}

const char *client_sse_last_id(const struct client_sse *p)
{
    return buf_cstr(&p->last_id);
}

int client_sse_stopped(const struct client_sse *p)
{
    return p->stopped;
}

static void set_buf(struct buf *b, struct span s)
{
    buf_reset(b);
    if (buf_addspan(b, s)) /* cannot happen: @s is a line, b's max a line's */
        buf_reset(b);
}

static void dispatch(struct client_sse *p)
{
    const char *event;
    int r;

    set_buf(&p->last_id, buf_span(&p->idbuf));
    if (p->data.len == 0) {
        buf_reset(&p->type);
        return;
    }
    p->data.len--; /* the '\n' after the last data line */
    p->data.p[p->data.len] = '\0';
    event = p->type.len ? buf_cstr(&p->type) : "message";
    r = p->on_event(p->ud, buf_cstr(&p->last_id), event, buf_cstr(&p->data));
    buf_reset(&p->data);
    buf_reset(&p->type);
    if (r)
        p->stopped = r;
}

static enum ferr_code process_line(struct client_sse *p, struct span ln,
                                   struct ferr *err)
{
    struct span field = ln;
    struct span value = {"", 0};
    const char *colon;

    if (p->first_line) {
        p->first_line = false;
        if (span_starts_with(ln, SPAN_LIT("\xef\xbb\xbf"))) {
            ln.p += 3;
            ln.len -= 3;
            field = ln;
        }
    }
    if (ln.len == 0) {
        dispatch(p);
        return FERR_OK;
    }
    if (ln.p[0] == ':')
        return FERR_OK; /* a comment: keep-alives */
    colon = memchr(ln.p, ':', ln.len);
    if (colon) {
        field = span_of(ln.p, (size_t)(colon - ln.p));
        value = span_of(colon + 1, ln.len - field.len - 1);
        if (value.len && value.p[0] == ' ') {
            value.p++;
            value.len--;
        }
    }
    if (span_eq_cstr(field, "event")) {
        /* the type reaches on_event as a C string: one holding NUL would
         * arrive cut short, maybe as another type; ignore it like an id */
        if (!memchr(value.p, '\0', value.len))
            set_buf(&p->type, value);
    } else if (span_eq_cstr(field, "data")) {
        if (buf_addspan(&p->data, value) || buf_addch(&p->data, '\n'))
            return ferr_set(err, FERR_LIMIT, NULL,
                            "an event's data is over %u bytes",
                            LIM_SSE_BACKLOG);
    } else if (span_eq_cstr(field, "id")) {
        if (!memchr(value.p, '\0', value.len))
            set_buf(&p->idbuf, value);
    }
    /* "retry" and unknown fields are ignored: client_follow waits 1 s */
    return FERR_OK;
}

static enum ferr_code line_too_long(struct client_sse *p, struct ferr *err)
{
    ferr_set(&p->fail, FERR_LIMIT, NULL,
             "a line of the event stream is over %zu bytes", SSE_LINE_MAX);
    return ferr_set(err, p->fail.code, NULL, "%s", p->fail.msg);
}

static const char *find_eol(const char *s, const char *end)
{
    for (; s < end; s++)
        if (*s == '\n' || *s == '\r')
            return s;
    return NULL;
}

enum ferr_code client_sse_feed(struct client_sse *p, const void *data,
                               size_t len, struct ferr *err)
{
    const char *s = data;
    const char *end = s + len;

    if (p->fail.code)
        return ferr_set(err, p->fail.code, NULL, "%s", p->fail.msg);
    if (p->stopped || len == 0)
        return FERR_OK;
    if (p->cr) {
        p->cr = false;
        if (*s == '\n')
            s++;
    }
    while (s < end && !p->stopped) {
        const char *eol = find_eol(s, end);
        struct span ln;
        enum ferr_code rc;

        if (!eol) {
            if (buf_add(&p->line, s, (size_t)(end - s)))
                return line_too_long(p, err);
            break;
        }
        if (p->line.len) {
            if (buf_add(&p->line, s, (size_t)(eol - s)))
                return line_too_long(p, err);
            ln = buf_span(&p->line);
        } else {
            if ((size_t)(eol - s) > SSE_LINE_MAX)
                return line_too_long(p, err);
            ln = span_of(s, (size_t)(eol - s));
        }
        rc = process_line(p, ln, &p->fail);
        buf_reset(&p->line);
        if (rc)
            return ferr_set(err, rc, NULL, "%s", p->fail.msg);
        if (*eol == '\r') {
            if (eol + 1 == end)
                p->cr = true;
            else if (eol[1] == '\n')
                eol++;
        }
        s = eol + 1;
    }
    return FERR_OK;
}
