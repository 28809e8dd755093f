/* proxy: the data plane.  One thread, non-blocking sockets, level-
 * triggered epoll through util/loop.  Each client connection owns four
 * fixed buffers (client in/out, backend in/out) so a request allocates
 * nothing; backend connections are bare fds lent to one client at a time
 * and pooled per backend when idle.  Bodies stream through the buffers
 * with back-pressure.  It does not do TLS, HTTP/2, Upgrade tunnels (the
 * Upgrade field is dropped as hop-by-hop, so the backend answers a plain
 * request) or caching.  Timeouts come from one 250 ms sweep rather than a
 * timerfd per connection. */
#include "proxy/proxy.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "proxy/http1.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

#define TICK_MS 250u
#define CLIENT_IDLE_MS 60000u /* no request / no progress from a client */
#define CONNECT_MS 5000u      /* backend connect */
#define RESPONSE_MS 60000u    /* response head, and between body reads */
#define POOL_IDLE_MS 10000u   /* an idle backend connection is closed */
#define LINGER_MS 2000u       /* reading what a closed client still sends */
#define STOP_MS 10000u        /* in-flight grace on SIGTERM */
#define POOL_MAX 64u          /* idle connections kept per backend */
#define MAX_TRIES 32u         /* backends tried for one request */

/* buffer sizes: a whole head must fit (16 KiB), a rewritten request head
 * may repeat Host in X-Forwarded-Host */
#define IN_CAP (LIM_PROXY_HEAD + 1u)
#define OUT_CAP (LIM_PROXY_HEAD + 1024u)
#define UIN_CAP (LIM_PROXY_HEAD + 1u)
#define UOUT_CAP (2u * LIM_PROXY_HEAD + 1024u)

/* A byte queue: data is p[off, off+len).  Not struct buf: consuming from
 * the front must not memmove on every partial write. */
struct iob {
    char *p;
    uint32_t off;
    uint32_t len;
    uint32_t cap;
};

enum cstate {
    C_IDLE,    /* waiting for / reading a request head */
    C_BUSY,    /* a request is in progress */
    C_CLOSING, /* flushing a last answer, then shutdown(SHUT_WR) */
    C_LINGER,  /* write side shut; discarding input until EOF */
};

enum fail {
    F_CONNECT,         /* connect refused or failed: no byte was sent */
    F_IO,              /* the connection broke or closed mid-exchange */
    F_GARBLED,         /* the response is not HTTP */
    F_TIMEOUT,         /* no response head (or body progress) in time */
    F_CONNECT_TIMEOUT, /* connect took longer than CONNECT_MS */
};

struct upstream;

struct client {
    struct proxy *px;
    int fd;
    unsigned ev;            /* events registered with the loop */
    struct client *prev;
    struct client *next;
    char ip[INET6_ADDRSTRLEN];
    enum cstate st;
    struct iob in;          /* from the client */
    struct iob out;         /* to the client */
    struct iob uin;         /* from the backend */
    struct iob uout;        /* to the backend; [0, off) sent */
    uint64_t last_io;       /* ms of the last client progress */
    uint64_t linger_until;  /* ms, C_LINGER */
    bool eof;               /* the client shut its side */
    bool abort;             /* close now, nothing more can be said */
    bool close_after;       /* close once this response is out */
    /* the request in progress */
    struct upstream *up;
    struct backend *be;     /* counted active on */
    uint64_t tried[MAX_TRIES]; /* backend ids whose connect failed */
    size_t ntried;
    uint64_t t0_ns;         /* request head complete */
    unsigned minor;
    bool keep_alive;
    bool is_head;
    bool idempotent;
    bool replayable;        /* uout holds the whole request from 0 */
    bool retried;           /* a fresh connection was tried already */
    bool got_resp;          /* a response byte came from this attempt */
    bool u_eof;             /* the backend closed (or reset) */
    bool u_wfail;           /* writing to the backend failed */
    enum http1_framing req_framing;
    uint64_t req_left;
    struct http1_chunked req_chunk;
    bool req_done;
    bool resp_head;         /* the final response head went out */
    enum http1_framing resp_framing;
    uint64_t resp_left;
    struct http1_chunked resp_chunk;
    bool resp_ka;           /* the backend connection may be reused */
    bool dechunk;           /* HTTP/1.0 client: strip chunked framing */
    bool resp_done;
    int status;
};

struct upstream {
    struct proxy *px;
    int fd;
    unsigned ev;
    struct backend *be;
    struct client *cl;      /* NULL: idle in be's pool */
    struct upstream *prev;  /* in be->idle while idle */
    struct upstream *next;
    struct upstream *aprev; /* in px->ups */
    struct upstream *anext;
    bool pooled;            /* in be->idle */
    bool connecting;
    bool reused;            /* served a request before this one */
    uint64_t deadline;      /* ms: connect, response or pool expiry */
};

struct proxy {
    struct loop *loop;
    int lfd;
    bool lpaused;           /* accept stopped for a tick (EMFILE) */
    char addr[INET6_ADDRSTRLEN + 8];
    unsigned max_conns;
    uint64_t max_body;
    struct backend_reg reg;
    struct client *clients;
    struct upstream *ups;
    struct loop_timer *tick;
    struct loop_timer *stop_timer;
    bool stopping;
    struct proxy_stats stats;
    struct http1_req req;   /* parse scratch (one thread) */
    struct http1_resp resp;
};

static void progress(struct client *c);
static void client_close(struct client *c);

static uint64_t now_ns(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* ---------- buffers ---------- */

static char *iob_data(const struct iob *b)
{
    return b->p + b->off;
}

static uint32_t iob_room(const struct iob *b)
{
    return b->cap - b->off - b->len;
}

static void iob_compact(struct iob *b)
{
    if (b->off) {
        memmove(b->p, b->p + b->off, b->len);
        b->off = 0;
    }
}

static void iob_consume(struct iob *b, uint32_t n)
{
    b->off += n;
    b->len -= n;
    if (b->len == 0)
        b->off = 0;
}

/* room at the tail, compacting when the tail is full */
static uint32_t iob_make_room(struct iob *b)
{
    if (iob_room(b) == 0)
        iob_compact(b);
    return iob_room(b);
}

static void iob_put(struct iob *b, const char *p, uint32_t n)
{
    memcpy(b->p + b->off + b->len, p, n);
    b->len += n;
}

/* ---------- events ---------- */

static void set_events(struct proxy *px, int fd, unsigned *cur, unsigned want)
{
    if (*cur == want)
        return;
    if (loop_mod_fd(px->loop, fd, want) == FERR_OK)
        *cur = want;
}

static void nodelay(int fd)
{
    int one = 1;

    (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ---------- backend connections ---------- */

static void up_cb(struct loop *l, int fd, unsigned events, void *ud);

static void pool_unlink(struct upstream *u)
{
    struct backend *be = u->be;

    if (u->prev)
        u->prev->next = u->next;
    else
        be->idle = u->next;
    if (u->next)
        u->next->prev = u->prev;
    u->prev = u->next = NULL;
    u->pooled = false;
    be->nidle--;
}

static void up_close(struct upstream *u)
{
    struct proxy *px = u->px;

    if (u->pooled)
        pool_unlink(u);
    else if (u->cl && u->cl->up == u)
        u->cl->up = NULL;
    if (u->aprev)
        u->aprev->anext = u->anext;
    else
        px->ups = u->anext;
    if (u->anext)
        u->anext->aprev = u->aprev;
    loop_del_fd(px->loop, u->fd);
    close(u->fd);
    u->be->nconns--;
    free(u);
}

/* A new connection to @be, connecting or connected; NULL when the
 * connect failed at once (refused on loopback, no fd left). */
static struct upstream *up_connect(struct proxy *px, struct backend *be)
{
    struct upstream *u;
    int fd = socket(be->sa.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
                                          SOCK_CLOEXEC, 0);
    bool connecting = false;

    if (fd < 0)
        return NULL;
    nodelay(fd);
    if (connect(fd, (struct sockaddr *)&be->sa, be->salen) < 0) {
        if (errno != EINPROGRESS) {
            close(fd);
            return NULL;
        }
        connecting = true;
    }
    u = xcalloc(1, sizeof(*u));
    u->px = px;
    u->fd = fd;
    u->be = be;
    u->connecting = connecting;
    u->ev = connecting ? LOOP_WRITE : LOOP_READ;
    if (loop_add_fd(px->loop, fd, u->ev, up_cb, u)) {
        close(fd);
        free(u);
        return NULL;
    }
    u->anext = px->ups;
    if (px->ups)
        px->ups->aprev = u;
    px->ups = u;
    be->nconns++;
    return u;
}

static struct upstream *pool_take(struct backend *be)
{
    struct upstream *u = be->idle;

    if (u)
        pool_unlink(u);
    return u;
}

static void pool_put(struct upstream *u)
{
    struct backend *be = u->be;
    struct proxy *px = u->px;

    u->cl = NULL;
    if (px->stopping || !be->in_set || be->nidle >= POOL_MAX) {
        up_close(u);
        return;
    }
    u->reused = true;
    u->pooled = true;
    u->prev = NULL;
    u->next = be->idle;
    if (be->idle)
        ((struct upstream *)be->idle)->prev = u;
    be->idle = u;
    be->nidle++;
    u->deadline = loop_now_ms() + POOL_IDLE_MS;
    set_events(px, u->fd, &u->ev, LOOP_READ);
}

static void close_idle_of(struct backend *be)
{
    while (be->idle)
        up_close(be->idle);
}

/* ---------- one request ---------- */

/* The attempt on c->be is over; @status (0 = none) and the latency go
 * into its histogram. */
static void end_attempt(struct client *c, int status)
{
    struct backend *be = c->be;

    if (!be)
        return;
    be->active--;
    if (status)
        backend_observe(be, status, (now_ns() - c->t0_ns) / 1000u);
    c->be = NULL;
}

/* Drop the backend connection of @c without reusing it. */
static void drop_up(struct client *c)
{
    if (c->up)
        up_close(c->up);
    c->up = NULL;
}

/* Answer @status ourselves and close: the request's framing is unknown
 * or the exchange broke, so nothing after it can be trusted. */
static void respond_error(struct client *c, int status)
{
    struct proxy *px = c->px;
    size_t n;

    if (status >= 500)
        px->stats.own_5xx++;
    else
        px->stats.own_4xx++;
    drop_up(c);
    c->out.len = 0;
    c->out.off = 0;
    n = http1_error_response(status, false, c->out.p, c->out.cap);
    c->out.len = (uint32_t)n;
    c->resp_head = true;
    c->st = C_CLOSING;
    c->close_after = true;
}

/* Lend a connection to @be (pooled, else new) to @c.  False when the
 * connect failed at once. */
static bool attach(struct client *c, struct backend *be, bool fresh)
{
    struct upstream *u = fresh ? NULL : pool_take(be);

    if (!u)
        u = up_connect(c->px, be);
    if (!u)
        return false;
    u->cl = c;
    c->up = u;
    c->got_resp = c->u_eof = c->u_wfail = false;
    u->deadline = loop_now_ms() + (u->connecting ? CONNECT_MS : RESPONSE_MS);
    return true;
}

/* Pick a backend and a connection for the request in @c, trying each
 * backend once when connects fail at once.  False: nothing worked. */
static bool dispatch(struct client *c)
{
    struct proxy *px = c->px;

    while (c->ntried < MAX_TRIES) {
        struct backend *be = backend_pick(&px->reg, c->tried, c->ntried);

        if (!be)
            return false;
        be->requests++;
        be->active++;
        c->be = be;
        if (attach(c, be, false))
            return true;
        be->connect_errors++;
        be->errors_5xx++;
        c->tried[c->ntried++] = be->id;
        end_attempt(c, 0);
    }
    return false;
}

static void uout_rewind(struct client *c)
{
    c->uout.len += c->uout.off;
    c->uout.off = 0;
}

/* The backend side of @c failed; retry, answer 502/504, or give up on
 * the client.  Never frees @c (progress does). */
static void up_failed(struct client *c, enum fail kind)
{
    struct upstream *u = c->up;
    struct backend *be = c->be;
    bool reused = u && u->reused;
    int status = kind == F_TIMEOUT || kind == F_CONNECT_TIMEOUT ? 504 : 502;

    drop_up(c);
    if (!be) {
        c->abort = true;
        return;
    }
    if (kind == F_CONNECT) {
        be->connect_errors++;
        be->errors_5xx++;
        if (c->ntried < MAX_TRIES)
            c->tried[c->ntried++] = be->id;
        end_attempt(c, 0);
        uout_rewind(c); /* nothing was sent: uout is whole */
        if (dispatch(c))
            return;
        respond_error(c, 502);
        return;
    }
    if (kind == F_IO && reused && !c->got_resp && c->replayable &&
        c->idempotent && !c->retried) {
        /* the keep-alive race: the backend closed an idle connection as
         * we sent on it; the request never reached it, send it again */
        c->retried = true;
        uout_rewind(c);
        if (attach(c, be, true))
            return;
        up_failed(c, F_CONNECT);
        return;
    }
    if (kind == F_CONNECT_TIMEOUT)
        be->connect_errors++;
    if (!c->resp_head) {
        end_attempt(c, status);
        respond_error(c, status);
        return;
    }
    /* the head is out: the client can only learn of it by the close */
    be->errors_5xx++;
    end_attempt(c, 0);
    c->abort = true;
}

static void finish_response(struct client *c)
{
    struct upstream *u = c->up;

    c->resp_done = true;
    end_attempt(c, c->status);
    if (u) {
        c->up = NULL;
        if (c->resp_ka && c->req_done && !c->u_eof && !c->u_wfail &&
            c->uin.len == 0 && c->resp_framing != HTTP1_CLOSE)
            pool_put(u);
        else
            up_close(u);
    }
    c->uin.len = c->uin.off = 0;
    if (!c->req_done)
        c->close_after = true;
}

static void start_request(struct client *c)
{
    struct proxy *px = c->px;
    struct http1_req *r = &px->req;
    struct http1_fwd f;
    size_t n;

    f.client_ip = span_cstr(c->ip);
    f.proto = SPAN_LIT("http");
    f.default_host = span_cstr(px->addr);
    c->uout.off = c->uout.len = 0;
    n = http1_request_head(r, &f, c->uout.p, c->uout.cap);
    if (n == 0) {
        respond_error(c, 431);
        return;
    }
    c->uout.len = (uint32_t)n;
    iob_consume(&c->in, (uint32_t)r->head_len);
    c->st = C_BUSY;
    c->t0_ns = now_ns();
    c->minor = r->minor;
    c->keep_alive = r->keep_alive && !px->stopping;
    c->is_head = r->is_head;
    c->idempotent = r->idempotent;
    c->replayable = true;
    c->retried = false;
    c->ntried = 0;
    c->req_framing = r->framing;
    c->req_left = r->content_length;
    memset(&c->req_chunk, 0, sizeof(c->req_chunk));
    c->req_chunk.max = px->max_body;
    c->req_done = r->framing == HTTP1_NONE;
    c->resp_head = c->resp_done = false;
    c->status = 0;
    c->uin.off = c->uin.len = 0;
    if (!dispatch(c))
        respond_error(c, c->ntried ? 502 : 503);
}

/* Client bytes of the request body into uout, as far as there is room. */
static void pump_request(struct client *c)
{
    while (!c->req_done && !c->u_wfail && c->in.len > 0) {
        uint32_t room = iob_room(&c->uout);
        uint32_t k;

        if (room == 0 && c->uout.off > 0) {
            iob_compact(&c->uout); /* what was sent cannot be replayed */
            c->replayable = false;
            room = iob_room(&c->uout);
        }
        if (room == 0)
            return;
        k = c->in.len < room ? c->in.len : room;
        if (c->req_framing == HTTP1_LENGTH) {
            if (k > c->req_left)
                k = (uint32_t)c->req_left;
            c->req_left -= k;
            c->req_done = c->req_left == 0;
        } else {
            size_t used;
            size_t data;
            enum http1_rc rc = http1_chunked_feed(&c->req_chunk,
                                                  iob_data(&c->in), k, &used,
                                                  &data);

            if (rc == HTTP1_BAD) {
                int st = c->req_chunk.over_limit ? 413 : 400;

                end_attempt(c, 0);
                if (!c->resp_head)
                    respond_error(c, st);
                else
                    c->abort = true;
                return;
            }
            k = (uint32_t)used;
            c->req_done = rc == HTTP1_OK;
        }
        iob_put(&c->uout, iob_data(&c->in), k);
        iob_consume(&c->in, k);
    }
}

/* Write uout to the backend.  A write error is not final: the backend
 * may have answered before closing, so the read side decides. */
static void flush_up(struct client *c)
{
    struct upstream *u = c->up;

    while (u && !u->connecting && !c->u_wfail && c->uout.len > 0) {
        ssize_t n = write(u->fd, iob_data(&c->uout), c->uout.len);

        if (n > 0) {
            c->uout.off += (uint32_t)n;
            c->uout.len -= (uint32_t)n;
            u->deadline = loop_now_ms() + RESPONSE_MS; /* a long upload */
            if (c->uout.len == 0 && !c->replayable)
                c->uout.off = 0;
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            c->u_wfail = true;
            c->uout.len = 0;
        }
    }
}

/* Parse the backend's head(s) in uin and put the rewritten final head in
 * out.  False when nothing more can happen now. */
static bool response_head(struct client *c)
{
    struct proxy *px = c->px;
    struct http1_resp *r = &px->resp;
    enum http1_rc rc;
    size_t n;
    bool ka;

    if (c->uin.len == 0)
        return false;
    rc = http1_parse_response(iob_data(&c->uin), c->uin.len, c->is_head, r);
    if (rc == HTTP1_AGAIN)
        return false;
    if (rc == HTTP1_BAD || r->status == 101) {
        log_info("bad response backend='%s' reason='%s'", c->be->name,
                 r->status == 101 ? "101 to a request without Upgrade"
                                  : r->error);
        up_failed(c, F_GARBLED);
        return false;
    }
    iob_make_room(&c->out);
    if (r->status < 200) {
        /* interim (100 Continue, 103): HTTP/1.0 clients must not see it */
        if (c->minor >= 1) {
            n = http1_response_head(r, 1, true, false, iob_data(&c->out) +
                                    c->out.len, iob_room(&c->out));
            if (n == 0)
                return false; /* wait for out to drain */
            c->out.len += (uint32_t)n;
        }
        iob_consume(&c->uin, (uint32_t)r->head_len);
        return true;
    }
    c->dechunk = c->minor == 0 && r->framing == HTTP1_CHUNKED;
    ka = c->keep_alive && !c->close_after && !c->px->stopping &&
         r->framing != HTTP1_CLOSE && !c->dechunk;
    n = http1_response_head(r, c->minor, ka, c->dechunk,
                            iob_data(&c->out) + c->out.len,
                            iob_room(&c->out));
    if (n == 0) {
        if (c->out.len > 0)
            return false;
        up_failed(c, F_GARBLED);
        return false;
    }
    c->out.len += (uint32_t)n;
    if (!ka)
        c->close_after = true;
    iob_consume(&c->uin, (uint32_t)r->head_len);
    c->resp_head = true;
    c->status = (int)r->status;
    c->resp_framing = r->framing;
    c->resp_left = r->content_length;
    c->resp_ka = r->keep_alive;
    memset(&c->resp_chunk, 0, sizeof(c->resp_chunk));
    if (r->framing == HTTP1_NONE)
        finish_response(c);
    return true;
}

/* Response bytes from uin to out, per the framing. */
static void pump_response(struct client *c)
{
    while (!c->resp_done && c->up && !c->abort && c->st == C_BUSY) {
        uint32_t room;
        uint32_t k;

        if (!c->resp_head) {
            if (!response_head(c))
                break;
            continue;
        }
        if (c->uin.len == 0)
            break;
        room = iob_make_room(&c->out);
        if (room == 0)
            break;
        k = c->uin.len < room ? c->uin.len : room;
        if (c->resp_framing == HTTP1_LENGTH) {
            if (k > c->resp_left)
                k = (uint32_t)c->resp_left;
            iob_put(&c->out, iob_data(&c->uin), k);
            iob_consume(&c->uin, k);
            c->resp_left -= k;
            if (c->resp_left == 0)
                finish_response(c);
        } else if (c->resp_framing == HTTP1_CHUNKED) {
            size_t used;
            size_t data;
            enum http1_rc rc = http1_chunked_feed(&c->resp_chunk,
                                                  iob_data(&c->uin), k, &used,
                                                  &data);

            if (rc == HTTP1_BAD) {
                up_failed(c, F_GARBLED);
                break;
            }
            if (!c->dechunk || data)
                iob_put(&c->out, iob_data(&c->uin), (uint32_t)used);
            iob_consume(&c->uin, (uint32_t)used);
            if (rc == HTTP1_OK)
                finish_response(c);
        } else {
            iob_put(&c->out, iob_data(&c->uin), k);
            iob_consume(&c->uin, k);
        }
    }
    if (c->st != C_BUSY || c->resp_done || !c->up || !c->u_eof)
        return;
    /* the backend closed: the end of an until-close body, or a failure
     * once what it sent before closing is used up */
    if (c->resp_head && c->resp_framing == HTTP1_CLOSE) {
        if (c->uin.len == 0)
            finish_response(c);
    } else if (c->uin.len == 0 || !c->resp_head) {
        up_failed(c, F_IO);
    }
}

/* Write out to the client; a write error aborts the client. */
static void flush_client(struct client *c)
{
    while (c->out.len > 0) {
        ssize_t n = write(c->fd, iob_data(&c->out), c->out.len);

        if (n > 0) {
            iob_consume(&c->out, (uint32_t)n);
            c->last_io = loop_now_ms();
        } else if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0 && errno == EAGAIN) {
            return;
        } else {
            c->abort = true;
            c->out.len = c->out.off = 0;
            return;
        }
    }
}

static void update_events(struct client *c)
{
    struct proxy *px = c->px;
    struct upstream *u = c->up;
    unsigned want = 0;

    if (c->st == C_LINGER || (!c->eof && c->st != C_CLOSING &&
                              iob_room(&c->in) + c->in.off > 0))
        want |= LOOP_READ;
    if (c->out.len > 0)
        want |= LOOP_WRITE;
    set_events(px, c->fd, &c->ev, want);
    if (!u)
        return;
    want = 0;
    if (u->connecting) {
        want = LOOP_WRITE;
    } else {
        if (!c->u_eof && !c->resp_done &&
            iob_room(&c->uin) + c->uin.off > 0)
            want |= LOOP_READ;
        if (c->uout.len > 0 && !c->u_wfail)
            want |= LOOP_WRITE;
    }
    set_events(px, u->fd, &u->ev, want);
}

static void linger_read(struct client *c)
{
    char sink[4096];

    for (;;) {
        ssize_t n = read(c->fd, sink, sizeof(sink));

        if (n > 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        c->abort = true; /* EOF or error: done */
        return;
    }
}

/* Move everything that can move for @c; may free @c. */
static void progress(struct client *c)
{
    struct proxy *px = c->px;

    for (int round = 0; round < 64; round++) {
        bool again = false;

        if (c->abort) {
            client_close(c);
            return;
        }
        if (c->st == C_IDLE) {
            enum http1_rc rc;

            if (c->in.len == 0) {
                if (c->eof || px->stopping) {
                    client_close(c);
                    return;
                }
                break;
            }
            iob_compact(&c->in);
            rc = http1_parse_request(iob_data(&c->in), c->in.len,
                                     px->max_body, &px->req);
            if (rc == HTTP1_AGAIN) {
                if (c->eof || px->stopping) {
                    client_close(c);
                    return;
                }
                break;
            }
            px->stats.requests++;
            if (rc == HTTP1_BAD) {
                c->minor = 1;
                respond_error(c, px->req.error_status);
            } else {
                start_request(c);
            }
        }
        if (c->st == C_BUSY) {
            pump_request(c);
            flush_up(c);
            pump_response(c);
        }
        flush_client(c);
        if (c->abort)
            continue;
        if (c->st == C_BUSY && c->resp_done && c->out.len == 0) {
            if (c->close_after || !c->keep_alive || px->stopping) {
                c->st = C_CLOSING;
            } else {
                c->st = C_IDLE;
                c->last_io = loop_now_ms();
                again = c->in.len > 0; /* a pipelined request */
            }
        }
        if (c->st == C_CLOSING && c->out.len == 0) {
            (void)shutdown(c->fd, SHUT_WR);
            c->st = C_LINGER;
            c->linger_until = loop_now_ms() + LINGER_MS;
            linger_read(c);
            if (c->abort)
                continue;
        }
        if (!again)
            break;
    }
    update_events(c);
}

/* ---------- callbacks ---------- */

static void client_read(struct client *c)
{
    uint32_t room = iob_make_room(&c->in);
    ssize_t n;

    if (room == 0)
        return;
    do
        n = read(c->fd, iob_data(&c->in) + c->in.len, room);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->in.len += (uint32_t)n;
        c->last_io = loop_now_ms();
    } else if (n == 0) {
        c->eof = true;
    } else if (errno != EAGAIN) {
        c->abort = true;
    }
}

static void client_cb(struct loop *l, int fd, unsigned events, void *ud)
{
    struct client *c = ud;

    (void)l;
    (void)fd;
    if (c->st == C_LINGER) {
        linger_read(c);
        if (c->abort)
            client_close(c);
        return;
    }
    if (events & LOOP_READ)
        client_read(c);
    if (c->eof && c->st == C_BUSY && !c->req_done)
        c->abort = true; /* gone in the middle of its own request */
    progress(c);
}

static void up_read(struct client *c)
{
    struct upstream *u = c->up;
    uint32_t room = iob_make_room(&c->uin);
    ssize_t n;

    if (room == 0)
        return;
    do
        n = read(u->fd, iob_data(&c->uin) + c->uin.len, room);
    while (n < 0 && errno == EINTR);
    if (n > 0) {
        c->uin.len += (uint32_t)n;
        c->got_resp = true;
        c->replayable = false;
        u->deadline = loop_now_ms() + RESPONSE_MS;
    } else if (n == 0 || errno != EAGAIN) {
        c->u_eof = true;
    }
}

static void up_cb(struct loop *l, int fd, unsigned events, void *ud)
{
    struct upstream *u = ud;
    struct client *c = u->cl;

    (void)l;
    if (!c) {
        /* idle in the pool: a close, or bytes nobody asked for */
        up_close(u);
        return;
    }
    if (u->connecting) {
        int e = 0;
        socklen_t len = sizeof(e);

        if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
            e = errno;
        if (e == EINPROGRESS || e == EALREADY)
            return;
        if (e) {
            up_failed(c, F_CONNECT);
            progress(c);
            return;
        }
        u->connecting = false;
        u->deadline = loop_now_ms() + RESPONSE_MS;
    } else if (events & LOOP_READ) {
        up_read(c);
    }
    progress(c);
}

static void client_close(struct client *c)
{
    struct proxy *px = c->px;

    drop_up(c);
    end_attempt(c, 0);
    if (c->prev)
        c->prev->next = c->next;
    else
        px->clients = c->next;
    if (c->next)
        c->next->prev = c->prev;
    loop_del_fd(px->loop, c->fd);
    close(c->fd);
    free(c->in.p);
    free(c);
    px->stats.connections_active--;
    if (px->stopping && !px->clients)
        loop_stop(px->loop);
}

static void refuse(int fd)
{
    static const char busy[] = "HTTP/1.1 503 Service Unavailable\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 24\r\n"
                               "Connection: close\r\n\r\n"
                               "503 too many connections";
    ssize_t n = write(fd, busy, sizeof(busy) - 1);

    (void)n;
    close(fd);
}

static void accept_cb(struct loop *l, int fd, unsigned events, void *ud)
{
    struct proxy *px = ud;

    (void)events;
    for (int i = 0; i < 64; i++) {
        struct sockaddr_storage sa;
        socklen_t salen = sizeof(sa);
        struct client *c;
        int cfd = accept4(fd, (struct sockaddr *)&sa, &salen,
                          SOCK_NONBLOCK | SOCK_CLOEXEC);
        char *mem;

        if (cfd < 0) {
            if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
                errno == ENOMEM) {
                log_warn("accept paused reason='%s'", strerror(errno));
                loop_del_fd(l, fd);
                px->lpaused = true;
            }
            return;
        }
        if (px->stats.connections_active >= px->max_conns) {
            px->stats.connections_refused++;
            refuse(cfd);
            continue;
        }
        nodelay(cfd);
        c = xcalloc(1, sizeof(*c));
        c->px = px;
        c->fd = cfd;
        c->ev = LOOP_READ;
        if (loop_add_fd(l, cfd, LOOP_READ, client_cb, c)) {
            close(cfd);
            free(c);
            continue;
        }
        mem = xmalloc(IN_CAP + OUT_CAP + UIN_CAP + UOUT_CAP);
        c->in = (struct iob){ mem, 0, 0, IN_CAP };
        c->out = (struct iob){ mem + IN_CAP, 0, 0, OUT_CAP };
        c->uin = (struct iob){ mem + IN_CAP + OUT_CAP, 0, 0, UIN_CAP };
        c->uout = (struct iob){ mem + IN_CAP + OUT_CAP + UIN_CAP, 0, 0,
                                UOUT_CAP };
        if (sa.ss_family == AF_INET)
            inet_ntop(AF_INET, &((struct sockaddr_in *)&sa)->sin_addr, c->ip,
                      sizeof(c->ip));
        else if (sa.ss_family == AF_INET6)
            inet_ntop(AF_INET6, &((struct sockaddr_in6 *)&sa)->sin6_addr,
                      c->ip, sizeof(c->ip));
        else
            snprintf(c->ip, sizeof(c->ip), "unknown");
        c->last_io = loop_now_ms();
        c->next = px->clients;
        if (px->clients)
            px->clients->prev = c;
        px->clients = c;
        px->stats.connections_total++;
        px->stats.connections_active++;
    }
}

/* The 250 ms sweep: timeouts, and garbage collection of drained
 * backends. */
static void tick_cb(struct loop *l, struct loop_timer *t, void *ud)
{
    struct proxy *px = ud;
    uint64_t now = loop_now_ms();
    struct client *c = px->clients;
    struct upstream *u = px->ups;

    (void)l;
    while (c) {
        struct client *next = c->next;

        if (c->st == C_LINGER) {
            if (now >= c->linger_until)
                c->abort = true;
        } else if (c->st == C_IDLE || c->st == C_CLOSING) {
            if (now - c->last_io >= CLIENT_IDLE_MS)
                c->abort = true;
        } else if (c->out.len > 0 ||
                   (!c->req_done && c->in.len == 0 && c->uout.len == 0)) {
            /* stuck on the client: it does not read or does not send */
            if (now - c->last_io >= CLIENT_IDLE_MS)
                c->abort = true;
        } else if (c->up && now >= c->up->deadline) {
            log_info("backend timeout backend='%s' connecting=%d",
                     c->be ? c->be->name : "?", (int)c->up->connecting);
            up_failed(c, c->up->connecting ? F_CONNECT_TIMEOUT : F_TIMEOUT);
            progress(c);
            c = next;
            continue;
        }
        if (c->abort)
            progress(c);
        c = next;
    }
    while (u) {
        struct upstream *next = u->anext;

        if (u->pooled && now >= u->deadline)
            up_close(u);
        u = next;
    }
    backend_reg_gc(&px->reg);
    if (px->lpaused && !px->stopping &&
        loop_add_fd(px->loop, px->lfd, LOOP_READ, accept_cb, px) == FERR_OK)
        px->lpaused = false;
    loop_timer_arm(t, TICK_MS);
}

static void stop_timer_cb(struct loop *l, struct loop_timer *t, void *ud)
{
    (void)t;
    (void)ud;
    log_warn("stop grace period over: closing the requests still in flight");
    loop_stop(l);
}

static void on_signal(struct loop *l, int signo, void *ud)
{
    struct proxy *px = ud;
    struct client *c = px->clients;

    if (px->stopping)
        return;
    log_info("stopping signal=%d", signo);
    px->stopping = true;
    if (!px->lpaused)
        loop_del_fd(l, px->lfd);
    close(px->lfd);
    px->lfd = -1;
    for (struct backend *be = px->reg.all; be; be = be->next)
        close_idle_of(be);
    while (c) {
        struct client *next = c->next;

        c->close_after = true;
        if (c->st != C_BUSY)
            progress(c); /* idle ones close now */
        c = next;
    }
    if (!px->clients) {
        loop_stop(l);
        return;
    }
    loop_timer_arm(px->stop_timer, STOP_MS);
}

/* ---------- the API ---------- */

enum ferr_code proxy_listen_tcp(const struct sockaddr_storage *sa,
                                socklen_t len, const char *addr, int backlog,
                                int *out_fd, char *out_addr, size_t n,
                                struct ferr *err)
{
    struct sockaddr_storage bound = *sa;
    int one = 1;
    int fd;
    char host[INET6_ADDRSTRLEN];

    *out_fd = -1;
    fd = socket(sa->ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL, "socket: %s", strerror(errno));
    (void)setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (const struct sockaddr *)sa, len) < 0 ||
        listen(fd, backlog) < 0) {
        int e = errno;

        close(fd);
        return ferr_set(err, FERR_IO, NULL, "cannot listen on '%s': %s",
                        addr, strerror(e));
    }
    len = sizeof(bound);
    (void)getsockname(fd, (struct sockaddr *)&bound, &len);
    if (bound.ss_family == AF_INET6) {
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&bound;

        inet_ntop(AF_INET6, &s6->sin6_addr, host, sizeof(host));
        snprintf(out_addr, n, "[%s]:%u", host, ntohs(s6->sin6_port));
    } else {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&bound;

        inet_ntop(AF_INET, &s4->sin_addr, host, sizeof(host));
        snprintf(out_addr, n, "%s:%u", host, ntohs(s4->sin_port));
    }
    *out_fd = fd;
    return FERR_OK;
}

static enum ferr_code listen_on(struct proxy *px, const char *addr,
                                struct ferr *err)
{
    struct sockaddr_storage sa;
    socklen_t len;

    if (backend_parse_listen(addr, &sa, &len, err))
        return err->code;
    return proxy_listen_tcp(&sa, len, addr, SOMAXCONN, &px->lfd, px->addr,
                            sizeof(px->addr), err);
}

enum ferr_code proxy_new(const struct proxy_opts *o, struct proxy **out,
                         struct ferr *err)
{
    struct proxy *px = xcalloc(1, sizeof(*px));
    enum ferr_code rc;

    *out = NULL;
    px->lfd = -1;
    px->max_conns = o->max_connections ? o->max_connections
                                       : LIM_PROXY_CONNECTIONS;
    px->max_body = o->max_body ? o->max_body : LIM_PROXY_BODY;
    backend_reg_init(&px->reg);
    rc = loop_new(&px->loop, err);
    if (rc)
        goto fail;
    rc = listen_on(px, o->listen, err);
    if (rc)
        goto fail;
    px->tick = loop_timer_new(px->loop, tick_cb, px);
    px->stop_timer = loop_timer_new(px->loop, stop_timer_cb, px);
    if (!px->tick || !px->stop_timer) {
        rc = ferr_set(err, FERR_IO, NULL, "timerfd: %s", strerror(errno));
        goto fail;
    }
    if (loop_add_fd(px->loop, px->lfd, LOOP_READ, accept_cb, px)) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot watch the listener");
        goto fail;
    }
    *out = px;
    return FERR_OK;
fail:
    proxy_free(px);
    return rc;
}

void proxy_free(struct proxy *px)
{
    if (!px)
        return;
    while (px->clients)
        client_close(px->clients);
    while (px->ups)
        up_close(px->ups);
    loop_timer_free(px->tick);
    loop_timer_free(px->stop_timer);
    if (px->lfd >= 0) {
        loop_del_fd(px->loop, px->lfd);
        close(px->lfd);
    }
    loop_free(px->loop);
    backend_reg_release(&px->reg);
    free(px);
}

struct loop *proxy_loop(struct proxy *px)
{
    return px->loop;
}

const char *proxy_listen_addr(const struct proxy *px)
{
    return px->addr;
}

enum ferr_code proxy_run(struct proxy *px, struct ferr *err)
{
    if (loop_on_signal(px->loop, SIGTERM, on_signal, px) ||
        loop_on_signal(px->loop, SIGINT, on_signal, px))
        return ferr_set(err, FERR_IO, NULL,
                        "cannot watch SIGTERM/SIGINT (are they blocked?)");
    loop_timer_arm(px->tick, TICK_MS);
    if (loop_run(px->loop))
        return ferr_set(err, FERR_IO, NULL, "event loop: %s",
                        strerror(errno));
    return FERR_OK;
}

const struct backend_reg *proxy_backends(const struct proxy *px)
{
    return &px->reg;
}

enum ferr_code proxy_replace(struct proxy *px, const struct backend_spec *specs,
                             size_t n, struct ferr *err)
{
    enum ferr_code rc = backend_reg_replace(&px->reg, specs, n, err);

    if (rc)
        return rc;
    for (struct backend *be = px->reg.all; be; be = be->next)
        if (!be->in_set)
            close_idle_of(be);
    return FERR_OK;
}

const struct backend *proxy_drain(struct proxy *px, const char *name)
{
    struct backend *be = backend_reg_drain(&px->reg, name);

    if (be)
        close_idle_of(be);
    return be;
}

void proxy_get_stats(const struct proxy *px, struct proxy_stats *out)
{
    *out = px->stats;
}
