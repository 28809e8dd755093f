/* httpd: libmicrohttpd in "external epoll" mode under our loop.  MHD's
 * epoll fd is one loop fd, MHD_get_timeout drives one loop timer, and a
 * stream with nothing to send is suspended (and its socket watched for
 * a hang-up) so that idle streams cost nothing.  It does not route,
 * authenticate or parse bodies: that is api.c's job. */
#include "server/httpd.h"

#include <arpa/inet.h>
#include <errno.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "server/route.h"
#include "server/sse.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

#define DEFAULT_TIMEOUT_S    30u
#define DEFAULT_HEARTBEAT_MS 15000u
/* bytes MHD asks a stream for at once */
#define STREAM_BLOCK (16u * 1024u)
/* body bytes read and thrown away past the limit before a 413 */
#define DRAIN_MAX (1024u * 1024u)
/* sent bytes at the head of a stream's queue worth a memmove */
#define COMPACT_AT (64u * 1024u)

struct httpd {
    struct loop *loop; /* borrowed */
    struct MHD_Daemon *d;
    int epfd;                    /* MHD's epoll fd, watched LOOP_READ */
    struct loop_timer *timer;    /* MHD_get_timeout, or 0 for a kick */
    struct loop_timer *hb_timer; /* next heartbeat due */
    httpd_handler handler;
    void *ud;
    size_t (*body_limit)(void *ud, const char *method, const char *path);
    unsigned timeout_s; /* idle timeout of connections */
    unsigned heartbeat_ms;
    int port;
    bool in_run;                  /* inside MHD_run */
    bool kick;                    /* run again at once after MHD_run */
    bool stopping;                /* httpd_stop: refuse new requests */
    bool starting;                /* MHD errors go to start_err */
    unsigned long runs;           /* MHD_run calls */
    struct httpd_stream *streams; /* live streams (doubly linked) */
    char start_err[256];          /* MHD's last message while starting */
};

struct hdr {
    const char *name;
    const char *value;
    struct hdr *next;
};

struct httpd_req {
    struct httpd *h;
    struct MHD_Connection *conn;
    struct arena *arena;
    const char *path;  /* raw, without the query */
    const char *query; /* raw, after '?'; NULL = none */
    const char *method;
    struct route_arg *args; /* the query, decoded before the handler runs */
    size_t nargs;
    struct hdr *hdrs;            /* response headers, in reverse order */
    struct buf body;             /* max = the body limit */
    size_t limit;                /* body limit in bytes */
    uint64_t received;           /* body bytes seen, discarded ones included */
    bool started;                /* the first access-handler call happened */
    bool too_large;              /* over the limit: draining, then 413 */
    bool responded;              /* an httpd_respond* was called */
    bool queued;                 /* MHD took the response */
    struct httpd_stream *stream; /* the stream answering it, if any */
};

struct httpd_stream {
    struct httpd *h;
    struct httpd_req *req;
    struct MHD_Connection *conn;
    struct buf q; /* queued bytes; q.p[off..len) unsent */
    size_t off;
    void (*on_close)(void *ud);
    void *ud;
    int fd;           /* the connection's socket (MHD's) */
    bool sse;         /* text/event-stream: heartbeats */
    bool suspended;   /* MHD_suspend_connection in force */
    bool parked;      /* suspended, or resumed but not yet run by MHD */
    bool timeout_set; /* the idle timeout is back (after end) */
    bool watching;    /* fd in our loop while suspended */
    bool peer_talks;  /* the client sent bytes: do not watch */
    bool ended;       /* httpd_stream_end called */
    bool overflow;    /* a write hit LIM_SSE_BACKLOG */
    bool gone;        /* abort: client gone, overflow or stop */
    bool closed;      /* on_close running or done */
    uint64_t last_ms; /* when bytes were last queued */
    struct httpd_stream *prev;
    struct httpd_stream *next;
};

/* ---------- the loop side ---------- */

static void run(struct httpd *h)
{
    MHD_UNSIGNED_LONG_LONG ms = 0;

    h->in_run = true;
    h->kick = false;
    (void)MHD_run(h->d);
    h->runs++;
    h->in_run = false;
    if (h->kick)
        loop_timer_arm(h->timer, 0);
    else if (MHD_get_timeout(h->d, &ms) == MHD_YES)
        loop_timer_arm(h->timer, ms);
    else
        loop_timer_disarm(h->timer);
}

static void on_epoll(struct loop *l, int fd, unsigned events, void *ud)
{
    (void)l;
    (void)fd;
    (void)events;
    run(ud);
}

static void on_timer(struct loop *l, struct loop_timer *t, void *ud)
{
    (void)l;
    (void)t;
    run(ud);
}

/* Have MHD_run called soon, never from inside itself. */
static void kick(struct httpd *h)
{
    if (h->in_run)
        h->kick = true;
    else
        loop_timer_arm(h->timer, 0);
}

__attribute__((format(printf, 2, 0))) static void
on_mhd_log(void *cls, const char *fmt, va_list ap)
{
    struct httpd *h = cls;
    char msg[256];
    size_t n;

    vsnprintf(msg, sizeof(msg), fmt, ap);
    n = strlen(msg);
    while (n > 0 && (msg[n - 1] == '\n' || msg[n - 1] == '.'))
        msg[--n] = '\0';
    if (n > 0 && msg[0] >= 'A' && msg[0] <= 'Z')
        msg[0] = (char)(msg[0] - 'A' + 'a');
    if (h->starting)
        snprintf(h->start_err, sizeof(h->start_err), "%s", msg);
    else
        log_info("httpd: %s", msg);
}

/* ---------- streams ---------- */

static size_t pending(const struct httpd_stream *s)
{
    return s->q.len - s->off;
}

static void unwatch(struct httpd_stream *s)
{
    if (!s->watching)
        return;
    loop_del_fd(s->h->loop, s->fd);
    s->watching = false;
}

/* Resume a suspended stream so that MHD calls stream_read again. */
static void wake(struct httpd_stream *s)
{
    if (!s->suspended)
        return;
    unwatch(s);
    s->suspended = false;
    MHD_resume_connection(s->conn);
    kick(s->h);
}

/* The client of a suspended stream: a hang-up or an error means it is
 * gone; bytes it sends are left to MHD (and we stop watching, so they
 * cannot make us spin). */
static void on_peer(struct loop *l, int fd, unsigned events, void *ud)
{
    struct httpd_stream *s = ud;
    char c;
    ssize_t n;

    (void)l;
    (void)events;
    n = recv(fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n > 0) {
        s->peer_talks = true;
        unwatch(s);
        return;
    }
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
        return;
    s->gone = true;
    wake(s);
}

static void watch(struct httpd_stream *s)
{
    if (s->watching || s->peer_talks || s->fd < 0)
        return;
    if (loop_add_fd(s->h->loop, s->fd, LOOP_READ, on_peer, s) == FERR_OK)
        s->watching = true;
}

/* An ended stream gets the idle timeout back, so that a client that
 * stopped reading cannot hold its connection forever.  Only while MHD
 * is not holding the connection suspended: MHD ignores (or mishandles)
 * timeout changes of suspended connections. */
static void restore_timeout(struct httpd_stream *s)
{
    if (s->timeout_set || s->parked)
        return;
    s->timeout_set = true;
    MHD_set_connection_option(s->conn, MHD_CONNECTION_OPTION_TIMEOUT,
                              s->h->timeout_s);
    kick(s->h); /* our timer must learn MHD's new deadline */
}

/* MHD's content reader.  Nothing to send: suspend (returning 0 without
 * suspending would have MHD call us again at once, a busy loop). */
static ssize_t stream_read(void *cls, uint64_t pos, char *buf, size_t max)
{
    struct httpd_stream *s = cls;
    size_t n = pending(s);

    (void)pos;
    s->parked = false;
    if (s->ended)
        restore_timeout(s);
    if (s->gone)
        return MHD_CONTENT_READER_END_WITH_ERROR;
    if (n > 0) {
        if (n > max)
            n = max;
        memcpy(buf, s->q.p + s->off, n);
        s->off += n;
        if (s->off == s->q.len) {
            buf_reset(&s->q);
            s->off = 0;
        } else if (s->off >= COMPACT_AT && s->off * 2 >= s->q.len) {
            buf_consume(&s->q, s->off);
            s->off = 0;
        }
        return (ssize_t)n;
    }
    if (s->ended)
        return MHD_CONTENT_READER_END_OF_STREAM;
    MHD_suspend_connection(s->conn);
    s->suspended = true;
    s->parked = true;
    watch(s);
    return 0;
}

static void arm_heartbeat(struct httpd *h)
{
    uint64_t now = loop_now_ms();
    uint64_t next = UINT64_MAX;

    for (struct httpd_stream *s = h->streams; s; s = s->next)
        if (s->sse && !s->ended && !s->gone &&
            s->last_ms + h->heartbeat_ms < next)
            next = s->last_ms + h->heartbeat_ms;
    if (next == UINT64_MAX)
        loop_timer_disarm(h->hb_timer);
    else
        loop_timer_arm(h->hb_timer, next > now ? next - now : 0);
}

static void on_heartbeat(struct loop *l, struct loop_timer *t, void *ud)
{
    struct httpd *h = ud;
    uint64_t now = loop_now_ms();

    (void)l;
    (void)t;
    for (struct httpd_stream *s = h->streams; s; s = s->next) {
        if (!s->sse || s->ended || s->gone ||
            now - s->last_ms < h->heartbeat_ms)
            continue;
        if (httpd_stream_write(s, SSE_HEARTBEAT, strlen(SSE_HEARTBEAT)) ==
            FERR_LIMIT) {
            /* the client has not read 4 MiB: it is not coming back */
            s->gone = true;
            restore_timeout(s);
            wake(s);
        }
    }
    arm_heartbeat(h);
}

static void stream_unlink(struct httpd_stream *s)
{
    struct httpd *h = s->h;

    if (s->prev)
        s->prev->next = s->next;
    else
        h->streams = s->next;
    if (s->next)
        s->next->prev = s->prev;
    s->prev = NULL;
    s->next = NULL;
}

/* The request of @s completed (flushed, client gone, or shutdown). */
static void stream_close(struct httpd_stream *s)
{
    stream_unlink(s);
    unwatch(s);
    s->req->stream = NULL;
    s->closed = true;
    s->ended = true;
    s->gone = true;
    s->suspended = false;
    if (s->on_close)
        s->on_close(s->ud);
    buf_release(&s->q);
    free(s);
}

enum ferr_code httpd_stream_write(struct httpd_stream *s, const void *data,
                                  size_t len)
{
    if (!s || s->closed || s->ended)
        return FERR_INVALID;
    if (s->gone)
        return FERR_IO;
    if (len > LIM_SSE_BACKLOG - pending(s)) {
        s->overflow = true;
        return FERR_LIMIT;
    }
    if (len == 0)
        return FERR_OK;
    if (s->off > 0 && s->q.len + len > s->q.max) {
        buf_consume(&s->q, s->off);
        s->off = 0;
    }
    if (buf_add(&s->q, data, len))
        return FERR_LIMIT; /* cannot happen: q.max is twice the backlog */
    s->last_ms = loop_now_ms();
    wake(s);
    return FERR_OK;
}

size_t httpd_stream_pending(const struct httpd_stream *s)
{
    return s ? pending(s) : 0;
}

void httpd_stream_end(struct httpd_stream *s)
{
    if (!s || s->closed || s->ended)
        return;
    s->ended = true;
    if (s->overflow)
        s->gone = true;
    restore_timeout(s);
    wake(s);
}

/* ---------- requests ---------- */

static struct httpd_req *req_new(struct httpd *h, const char *uri)
{
    struct httpd_req *r = xcalloc(1, sizeof(*r));
    const char *q = strchr(uri, '?');

    r->h = h;
    r->arena = arena_new(4096);
    if (q) {
        r->path = arena_strndup(r->arena, uri, (size_t)(q - uri));
        r->query = arena_strdup(r->arena, q + 1);
    } else {
        r->path = arena_strdup(r->arena, uri);
    }
    r->method = "";
    buf_init(&r->body, 0);
    return r;
}

static void req_free(struct httpd_req *r)
{
    buf_release(&r->body);
    arena_free(r->arena);
    free(r);
}

/* MHD_OPTION_URI_LOG_CALLBACK: the raw URI, before MHD decodes it; our
 * request object starts here (MHD then always calls on_completed). */
static void *on_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
    (void)c;
    return req_new(cls, uri ? uri : "");
}

static void on_completed(void *cls, struct MHD_Connection *c, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    struct httpd_req *r = *con_cls;

    (void)cls;
    (void)c;
    (void)toe;
    *con_cls = NULL;
    if (!r)
        return;
    if (r->stream)
        stream_close(r->stream);
    req_free(r);
}

/* Printable form of request text for the log (bounded, no controls). */
static const char *clean(struct arena *a, const char *s)
{
    size_t n = strnlen(s, 200);
    char *out = arena_alloc(a, n + 1);

    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];

        out[i] = (c < 0x20 || c == 0x7f || c == '\'') ? '?' : (char)c;
    }
    return out;
}

static bool claim(struct httpd_req *r)
{
    if (r->responded) {
        log_err("httpd: second response ignored method='%s' path='%s'",
                clean(r->arena, r->method), clean(r->arena, r->path));
        return false;
    }
    r->responded = true;
    return true;
}

static void queue(struct httpd_req *r, int status, const char *content_type,
                  struct MHD_Response *resp)
{
    if (!resp) {
        log_err("httpd: cannot create a response path='%s'",
                clean(r->arena, r->path));
        resp = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
        status = 500;
        content_type = NULL;
        if (!resp)
            return;
    }
    if (status < 200 || status > 599) {
        log_err("httpd: bad status %d path='%s'", status,
                clean(r->arena, r->path));
        status = 500;
    }
    (void)MHD_add_response_header(resp, "Cache-Control", "no-store");
    (void)MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    if (content_type &&
        MHD_add_response_header(resp, "Content-Type", content_type) != MHD_YES)
        log_err("httpd: bad content type path='%s'", clean(r->arena, r->path));
    for (const struct hdr *x = r->hdrs; x; x = x->next)
        if (MHD_add_response_header(resp, x->name, x->value) != MHD_YES)
            log_err("httpd: header refused name='%s'",
                    clean(r->arena, x->name));
    if (MHD_queue_response(r->conn, (unsigned)status, resp) == MHD_YES)
        r->queued = true;
    else
        log_err("httpd: cannot queue the response path='%s'",
                clean(r->arena, r->path));
    MHD_destroy_response(resp);
}

void httpd_req_add_header(struct httpd_req *r, const char *name,
                          const char *value)
{
    struct hdr *x;

    if (!name || !value || strpbrk(name, "\r\n:") || strpbrk(value, "\r\n")) {
        log_err("httpd: bad response header dropped name='%s'",
                clean(r->arena, name ? name : ""));
        return;
    }
    x = arena_alloc(r->arena, sizeof(*x));
    x->name = arena_strdup(r->arena, name);
    x->value = arena_strdup(r->arena, value);
    x->next = r->hdrs;
    r->hdrs = x;
}

void httpd_respond(struct httpd_req *r, int status, const char *content_type,
                   const void *body, size_t len)
{
    if (!claim(r))
        return;
    queue(r, status, content_type,
          MHD_create_response_from_buffer(len, (void *)(len ? body : ""),
                                          MHD_RESPMEM_MUST_COPY));
}

void httpd_respond_json(struct httpd_req *r, int status, json_t *body)
{
    char *text;

    if (!claim(r)) {
        json_decref(body);
        return;
    }
    text = body ? json_dumps(body, JSON_COMPACT | JSON_ENCODE_ANY) : NULL;
    json_decref(body);
    if (!text) {
        static const char oops[] = "{\"error\":\"internal error\"}";

        log_err("httpd: no JSON body path='%s'", clean(r->arena, r->path));
        queue(r, 500, "application/json",
              MHD_create_response_from_buffer(sizeof(oops) - 1, (void *)oops,
                                              MHD_RESPMEM_PERSISTENT));
        return;
    }
    queue(r, status, "application/json",
          MHD_create_response_from_buffer(strlen(text), text,
                                          MHD_RESPMEM_MUST_FREE));
}

void httpd_respond_error(struct httpd_req *r, int status, const char *fmt, ...)
{
    char msg[1024];
    va_list ap;
    json_t *o;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    o = json_object();
    json_object_set_new(o, "error", json_lossy_stringn(msg, strlen(msg)));
    httpd_respond_json(r, status, o);
}

void httpd_respond_fd(struct httpd_req *r, int status, const char *content_type,
                      int fd, uint64_t size)
{
    struct MHD_Response *resp;

    if (!claim(r)) {
        if (fd >= 0)
            close(fd);
        return;
    }
    resp = fd >= 0 ? MHD_create_response_from_fd64(size, fd) : NULL;
    if (!resp && fd >= 0)
        close(fd);
    queue(r, status, content_type, resp);
}

struct httpd_stream *httpd_respond_stream(struct httpd_req *r, int status,
                                          const char *content_type,
                                          void (*on_close)(void *ud), void *ud)
{
    struct httpd_stream *s;
    struct MHD_Response *resp;
    const union MHD_ConnectionInfo *ci;

    if (!claim(r))
        return NULL;
    s = xcalloc(1, sizeof(*s));
    resp = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, STREAM_BLOCK,
                                             stream_read, s, NULL);
    if (!resp) {
        free(s);
        queue(r, 500, NULL, NULL);
        return NULL;
    }
    s->h = r->h;
    s->req = r;
    s->conn = r->conn;
    buf_init(&s->q, 2 * (size_t)LIM_SSE_BACKLOG);
    s->on_close = on_close;
    s->ud = ud;
    ci = MHD_get_connection_info(r->conn, MHD_CONNECTION_INFO_CONNECTION_FD);
    s->fd = ci ? ci->connect_fd : -1;
    s->sse =
        content_type && strncasecmp(content_type, "text/event-stream", 17) == 0;
    s->last_ms = loop_now_ms();
    s->next = r->h->streams;
    if (s->next)
        s->next->prev = s;
    r->h->streams = s;
    r->stream = s;
    MHD_set_connection_option(r->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u);
    queue(r, status, content_type, resp);
    arm_heartbeat(r->h);
    return s;
}

static void respond_too_large(struct httpd_req *r)
{
    httpd_respond_error(r, 413, "request body too large (limit %zu bytes)",
                        r->limit);
}

/* Headers are in: pick the body limit; refuse a too large
 * Content-Length before its body is read. */
static void req_start(struct httpd_req *r, struct MHD_Connection *c,
                      const char *method)
{
    struct httpd *h = r->h;
    const char *cl;
    uint64_t n;

    r->started = true;
    r->conn = c;
    r->method = arena_strdup(r->arena, method ? method : "");
    r->limit =
        h->body_limit ? h->body_limit(h->ud, r->method, r->path) : LIM_API_BODY;
    buf_init(&r->body, r->limit);
    cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
                                     MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (cl && span_to_u64(span_cstr(cl), &n) == FERR_OK && n > r->limit) {
        r->too_large = true;
        respond_too_large(r);
    }
}

static void req_handle(struct httpd_req *r)
{
    struct httpd *h = r->h;

    if (r->too_large) {
        respond_too_large(r);
        return;
    }
    r->nargs = route_parse_query(r->arena, r->query, &r->args);
    h->handler(h->ud, r);
    if (!r->responded) {
        log_err("httpd: handler gave no response method='%s' path='%s'",
                clean(r->arena, r->method), clean(r->arena, r->path));
        httpd_respond_error(r, 500, "no response");
    }
}

static enum MHD_Result on_access(void *cls, struct MHD_Connection *c,
                                 const char *url, const char *method,
                                 const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
    struct httpd *h = cls;
    struct httpd_req *r = *con_cls;

    (void)version;
    if (h->stopping)
        return MHD_NO;
    if (!r) {
        r = req_new(h, url ? url : "");
        *con_cls = r;
    }
    if (!r->started) {
        req_start(r, c, method);
        return !r->responded || r->queued ? MHD_YES : MHD_NO;
    }
    if (*upload_size > 0) {
        size_t n = *upload_size;

        *upload_size = 0;
        r->received += n;
        if (!r->too_large && buf_add(&r->body, upload, n)) {
            r->too_large = true;
            buf_release(&r->body);
        }
        if (r->too_large && r->received > r->limit &&
            r->received - r->limit > DRAIN_MAX) {
            log_info("httpd: body far over the limit, connection closed "
                     "path='%s' limit=%zu",
                     clean(r->arena, r->path), r->limit);
            return MHD_NO;
        }
        return MHD_YES;
    }
    if (!r->responded)
        req_handle(r);
    /* without a response MHD would call us again at once: close */
    return r->queued ? MHD_YES : MHD_NO;
}

/* ---------- requests: accessors ---------- */

const char *httpd_req_method(const struct httpd_req *r)
{
    return r->method;
}

const char *httpd_req_path(const struct httpd_req *r)
{
    return r->path;
}

const char *httpd_req_header(const struct httpd_req *r, const char *name)
{
    if (!r->conn || !name)
        return NULL;
    return MHD_lookup_connection_value(r->conn, MHD_HEADER_KIND, name);
}

const char *httpd_req_query(const struct httpd_req *r, const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < r->nargs; i++)
        if (strcmp(r->args[i].key, name) == 0)
            return r->args[i].value;
    return NULL;
}

struct span httpd_req_body(const struct httpd_req *r)
{
    if (r->body.len == 0)
        return span_of("", 0);
    return span_of(r->body.p, r->body.len);
}

struct arena *httpd_req_arena(struct httpd_req *r)
{
    return r->arena;
}

/* ---------- start and stop ---------- */

static enum ferr_code bad_listen(struct ferr *err, const char *s,
                                 const char *why)
{
    return ferr_set(err, FERR_USAGE, NULL, "bad listen address '%.200s': %s", s,
                    why);
}

static enum ferr_code parse_listen(const char *s, struct sockaddr_storage *ss,
                                   bool *out_v6, struct ferr *err)
{
    char host[INET6_ADDRSTRLEN + 1];
    struct span h;
    struct span port;
    uint64_t pn;

    memset(ss, 0, sizeof(*ss));
    *out_v6 = false;
    if (!s || !*s)
        return bad_listen(err, s ? s : "", "empty");
    if (s[0] == '[') {
        const char *close = strchr(s, ']');

        if (!close)
            return bad_listen(err, s, "missing ']'");
        h = span_of(s + 1, (size_t)(close - s - 1));
        if (close[1] != ':')
            return bad_listen(err, s, "missing port (HOST:PORT)");
        port = span_cstr(close + 2);
        *out_v6 = true;
    } else {
        const char *colon = strrchr(s, ':');

        if (!colon)
            return bad_listen(err, s, "missing port (HOST:PORT)");
        h = span_of(s, (size_t)(colon - s));
        port = span_cstr(colon + 1);
        if (memchr(h.p, ':', h.len))
            return bad_listen(err, s,
                              "an IPv6 address needs brackets ('[::1]:8080')");
    }
    if (h.len == 0)
        return bad_listen(err, s, "missing host");
    if (h.len >= sizeof(host))
        return bad_listen(err, s, "host is not a numeric IP address");
    memcpy(host, h.p, h.len);
    host[h.len] = '\0';
    if (port.len == 0)
        return bad_listen(err, s, "missing port (HOST:PORT)");
    if (span_to_u64(port, &pn) || pn > 65535)
        return bad_listen(err, s, "port must be a number from 0 to 65535");
    if (*out_v6) {
        struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)ss;

        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((uint16_t)pn);
        if (inet_pton(AF_INET6, host, &a6->sin6_addr) != 1)
            return bad_listen(err, s, "host is not an IPv6 address");
    } else {
        struct sockaddr_in *a4 = (struct sockaddr_in *)ss;

        a4->sin_family = AF_INET;
        a4->sin_port = htons((uint16_t)pn);
        if (inet_pton(AF_INET, host, &a4->sin_addr) != 1)
            return bad_listen(err, s,
                              "host must be an IPv4 address or a bracketed "
                              "IPv6 address");
    }
    return FERR_OK;
}

static bool sigpipe_ignored(void)
{
    struct sigaction sa;

    return sigaction(SIGPIPE, NULL, &sa) == 0 && sa.sa_handler == SIG_IGN;
}

enum ferr_code httpd_start(struct loop *loop, const struct httpd_opts *o,
                           httpd_handler handler, void *ud, struct httpd **out,
                           struct ferr *err)
{
    struct sockaddr_storage ss;
    const union MHD_DaemonInfo *info;
    struct httpd *h;
    enum ferr_code rc;
    unsigned flags;
    uint16_t port; /* only for MHD's messages: ss has it too */
    bool v6;

    *out = NULL;
    rc = parse_listen(o->listen, &ss, &v6, err);
    if (rc)
        return rc;
    port = ntohs(v6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                    : ((struct sockaddr_in *)&ss)->sin_port);
    h = xcalloc(1, sizeof(*h));
    h->loop = loop;
    h->epfd = -1;
    h->handler = handler;
    h->ud = ud;
    h->body_limit = o->body_limit;
    h->timeout_s = o->timeout_s ? o->timeout_s : DEFAULT_TIMEOUT_S;
    h->heartbeat_ms = o->heartbeat_ms ? o->heartbeat_ms : DEFAULT_HEARTBEAT_MS;
    h->timer = loop_timer_new(loop, on_timer, h);
    h->hb_timer = loop_timer_new(loop, on_heartbeat, h);
    if (!h->timer || !h->hb_timer) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create a timer");
        goto done;
    }
    flags = MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME | MHD_USE_ERROR_LOG;
    if (v6)
        flags |= MHD_USE_IPv6;
    /* MHD_OPTION_LISTENING_ADDRESS_REUSE is left out on purpose: MHD's
     * default is SO_REUSEADDR, while setting it adds SO_REUSEPORT, which
     * would let a second server share our port silently. */
    h->starting = true;
    /* clang-format off */
    h->d = MHD_start_daemon(flags, port, NULL, NULL, on_access, h,
        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss,
        MHD_OPTION_CONNECTION_LIMIT,
            o->max_connections ? o->max_connections : LIM_HTTP_CONNECTIONS,
        MHD_OPTION_CONNECTION_TIMEOUT, h->timeout_s,
        MHD_OPTION_URI_LOG_CALLBACK, on_uri, h,
        MHD_OPTION_NOTIFY_COMPLETED, on_completed, h,
        MHD_OPTION_EXTERNAL_LOGGER, on_mhd_log, h,
        MHD_OPTION_SIGPIPE_HANDLED_BY_APP, (int)sigpipe_ignored(),
        MHD_OPTION_END);
    /* clang-format on */
    h->starting = false;
    if (!h->d) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot listen on '%.200s': %s",
                      o->listen,
                      h->start_err[0] ? h->start_err : "the server failed");
        goto done;
    }
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_BIND_PORT);
    h->port = info ? (int)info->port : -1;
    info = MHD_get_daemon_info(h->d, MHD_DAEMON_INFO_EPOLL_FD);
    h->epfd = info ? info->epoll_fd : -1;
    if (h->epfd < 0 || h->port <= 0 ||
        loop_add_fd(loop, h->epfd, LOOP_READ, on_epoll, h)) {
        h->epfd = -1;
        rc = ferr_set(err, FERR_IO, NULL,
                      "cannot listen on '%.200s': no epoll fd or port",
                      o->listen);
        goto done;
    }
    run(h);
done:
    if (rc) {
        if (h->d)
            MHD_stop_daemon(h->d);
        loop_timer_free(h->timer);
        loop_timer_free(h->hb_timer);
        free(h);
        return rc;
    }
    *out = h;
    return FERR_OK;
}

int httpd_port(const struct httpd *h)
{
    return h->port;
}

unsigned long httpd_run_count(const struct httpd *h)
{
    return h->runs;
}

void httpd_stop(struct httpd *h)
{
    if (!h)
        return;
    h->stopping = true;
    /* MHD_stop_daemon must not meet a suspended connection: abort every
     * stream and resume it; MHD then closes it and on_completed calls
     * its on_close. */
    for (struct httpd_stream *s = h->streams; s; s = s->next) {
        s->gone = true;
        wake(s);
    }
    if (h->epfd >= 0)
        loop_del_fd(h->loop, h->epfd);
    MHD_stop_daemon(h->d);
    loop_timer_free(h->timer);
    loop_timer_free(h->hb_timer);
    free(h);
}
