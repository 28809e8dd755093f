/* httpd_test: a real server on 127.0.0.1:0 under a real loop on the test
 * thread, and small blocking clients on other threads that write raw
 * requests and read raw answers.  Assertions run on the test thread only;
 * time is only ever checked as a bound that leaves generous room.  Also
 * sse_format, which httpd's streams carry. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "server/httpd.h"
#include "server/sse.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/loop.h"

#define GUARD_MS    10000 /* a test that needs longer has hung */
#define SMALL_LIMIT 16    /* body limit of paths under /small */
#define MAX_CLIENTS 4

struct client {
    int port;
    struct span req;   /* bytes to send */
    const char *until; /* close once the answer contains this */
    int until_n;       /* ... that many times (0 = once) */
    const char *then;  /* or, instead of closing, send this and read
                          on until EOF */
    bool no_read;      /* close right after sending */
    bool hold;         /* read nothing until client_release_hold */
    int hold_pipe[2];
    struct buf resp; /* raw answer */
    int notify;      /* written when done */
    pthread_t thread;
};

struct env {
    struct loop *loop;
    struct httpd *h;
    int port;
    bool timed_out;
    struct loop_timer *guard;
    int pipe[2]; /* clients -> loop: "done" */
    int clients_done;
    /* what the handler saw */
    int calls;
    char method[16];
    char path[256];
    char qa[64];
    char qb[64];
    bool qflag;
    bool qnone;
    char xtest[64];
    struct buf body;
    /* streams */
    struct httpd_stream *st[MAX_CLIENTS];
    int nstreams;
    int closes[MAX_CLIENTS];
    int writes_left;
    struct loop_timer *writer;
    enum ferr_code last_write;
    int fd_to_send;
};

static struct env *G; /* the handler's and callbacks' view */

/* ---------- clients (other threads: no cmocka calls here) ---------- */

static int count(const char *hay, const char *needle)
{
    int n = 0;

    while ((hay = strstr(hay, needle))) {
        n++;
        hay += strlen(needle);
    }
    return n;
}

static void *client_main(void *arg)
{
    struct client *c = arg;
    struct sockaddr_in sa;
    char buf[65536];
    size_t sent = 0;
    int fd;

    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd >= 0 && c->hold) {
        int small = 4096;

        (void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
    }
    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    sa.sin_port = htons((uint16_t)c->port);
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
        goto done;
    while (sent < c->req.len) {
        ssize_t n = send(fd, c->req.p + sent, c->req.len - sent, MSG_NOSIGNAL);

        if (n <= 0)
            break;
        sent += (size_t)n;
    }
    if (c->hold) {
        char ch;

        if (read(c->hold_pipe[0], &ch, 1) != 1)
            abort();
        goto done;
    }
    while (!c->no_read) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);

        if (n <= 0)
            break;
        if (buf_add(&c->resp, buf, (size_t)n))
            break;
        if (c->until && count(buf_cstr(&c->resp), c->until) >=
                            (c->until_n ? c->until_n : 1)) {
            if (!c->then)
                break;
            if (send(fd, c->then, strlen(c->then), MSG_NOSIGNAL) < 0)
                break;
            c->until = NULL;
        }
    }
done:
    if (fd >= 0)
        close(fd);
    if (write(c->notify, "x", 1) != 1)
        abort();
    return NULL;
}

static void client_start(struct env *e, struct client *c, const char *req,
                         size_t len)
{
    c->port = e->port;
    c->req = span_of(req, len);
    buf_init(&c->resp, 64u * 1024 * 1024);
    c->notify = e->pipe[1];
    if (c->hold)
        assert_int_equal(pipe2(c->hold_pipe, O_CLOEXEC), 0);
    assert_int_equal(pthread_create(&c->thread, NULL, client_main, c), 0);
}

static void client_join(struct client *c)
{
    assert_int_equal(pthread_join(c->thread, NULL), 0);
}

static void client_release_hold(struct client *c)
{
    assert_int_equal(write(c->hold_pipe[1], "x", 1), 1);
}

static void client_release(struct client *c)
{
    if (c->hold) {
        close(c->hold_pipe[0]);
        close(c->hold_pipe[1]);
    }
    buf_release(&c->resp);
}

/* ---------- the loop side ---------- */

static void on_notify(struct loop *l, int fd, unsigned events, void *ud)
{
    struct env *e = ud;
    char ch;

    (void)events;
    while (read(fd, &ch, 1) == 1)
        e->clients_done++;
    loop_stop(l);
}

static void on_guard(struct loop *l, struct loop_timer *t, void *ud)
{
    struct env *e = ud;

    (void)t;
    e->timed_out = true;
    loop_stop(l);
}

typedef bool (*cond_fn)(struct env *e, int arg);

static bool clients_done(struct env *e, int n)
{
    return e->clients_done >= n;
}

static bool streams_open(struct env *e, int n)
{
    return e->nstreams >= n;
}

static bool closes_seen(struct env *e, int n)
{
    int sum = 0;

    for (int i = 0; i < MAX_CLIENTS; i++)
        sum += e->closes[i];
    return sum >= n;
}

/* Run the loop until @cond holds; fail if that takes over GUARD_MS. */
static void run_until(struct env *e, cond_fn cond, int arg)
{
    loop_timer_arm(e->guard, GUARD_MS);
    while (!cond(e, arg) && !e->timed_out)
        assert_int_equal(loop_run(e->loop), FERR_OK);
    loop_timer_disarm(e->guard);
    assert_false(e->timed_out);
}

static void on_stop_timer(struct loop *l, struct loop_timer *t, void *ud)
{
    bool *fired = ud;

    (void)t;
    *fired = true;
    loop_stop(l);
}

/* Run the loop for @ms whatever happens. */
static void run_for(struct env *e, uint64_t ms)
{
    bool fired = false;
    struct loop_timer *t = loop_timer_new(e->loop, on_stop_timer, &fired);

    loop_timer_arm(t, ms);
    while (!fired)
        assert_int_equal(loop_run(e->loop), FERR_OK);
    loop_timer_free(t);
}

/* ---------- the handler ---------- */

static void copy(char *dst, size_t n, const char *src)
{
    snprintf(dst, n, "%s", src ? src : "");
}

static void on_stream_close(void *ud)
{
    int i = (int)(intptr_t)ud;

    G->closes[i]++;
    G->st[i] = NULL;
    loop_stop(G->loop);
}

static void handler(void *ud, struct httpd_req *r)
{
    struct env *e = ud;
    const char *path = httpd_req_path(r);
    struct span body = httpd_req_body(r);

    e->calls++;
    copy(e->method, sizeof(e->method), httpd_req_method(r));
    copy(e->path, sizeof(e->path), path);
    copy(e->qa, sizeof(e->qa), httpd_req_query(r, "a"));
    copy(e->qb, sizeof(e->qb), httpd_req_query(r, "b"));
    e->qflag = httpd_req_query(r, "flag") != NULL;
    e->qnone = httpd_req_query(r, "none") == NULL;
    copy(e->xtest, sizeof(e->xtest), httpd_req_header(r, "x-TEST"));
    buf_reset(&e->body);
    if (body.p[body.len] != '\0')
        return; /* not NUL-terminated: the 500 fails the test */
    if (buf_add(&e->body, body.p, body.len))
        abort();
    if (strcmp(path, "/forget") == 0)
        return;
    if (strcmp(path, "/error") == 0) {
        httpd_respond_error(r, 404, "no run '%s'", "x\"y");
        return;
    }
    if (strcmp(path, "/twice") == 0) {
        httpd_respond(r, 201, "text/plain", "one", 3);
        httpd_respond_json(r, 200, json_string("two"));
        return;
    }
    if (strcmp(path, "/badstatus") == 0) {
        httpd_respond(r, 42, "text/plain", "x", 1);
        return;
    }
    if (strcmp(path, "/nulljson") == 0) {
        httpd_respond_json(r, 200, NULL); /* e.g. a failed json_pack */
        return;
    }
    if (strcmp(path, "/file") == 0) {
        httpd_respond_fd(r, 200, "application/x-tar", e->fd_to_send, 10);
        return;
    }
    if (strncmp(path, "/stream", 7) == 0) {
        int i = e->nstreams;
        struct httpd_stream *s;

        s = httpd_respond_stream(r, 200, "text/event-stream", on_stream_close,
                                 (void *)(intptr_t)i);
        assert_non_null(s);
        e->st[i] = s;
        e->nstreams++;
        if (strcmp(path, "/stream-now") == 0) {
            /* written inside the handler, before MHD sent anything */
            assert_int_equal(httpd_stream_write(s, "hello\n", 6), FERR_OK);
            httpd_stream_end(s);
            assert_int_equal(httpd_stream_write(s, "late", 4), FERR_INVALID);
        }
        loop_stop(e->loop);
        return;
    }
    httpd_req_add_header(r, "X-Ferry-Test", "yes");
    httpd_req_add_header(r, "X-Bad", "a\r\nInjected: 1");
    httpd_respond_json(r, 200, json_pack("{s:s}", "status", "ok"));
}

static size_t body_limit(void *ud, const char *method, const char *path)
{
    (void)ud;
    (void)method;
    return strncmp(path, "/small", 6) == 0 ? SMALL_LIMIT : LIM_API_BODY;
}

static struct env *env_new(const struct httpd_opts *o)
{
    struct env *e = calloc(1, sizeof(*e));
    struct httpd_opts def = {.listen = "127.0.0.1:0"};
    struct ferr err;

    assert_non_null(e);
    G = e;
    ferr_clear(&err);
    assert_int_equal(loop_new(&e->loop, &err), FERR_OK);
    e->guard = loop_timer_new(e->loop, on_guard, e);
    assert_non_null(e->guard);
    assert_int_equal(pipe2(e->pipe, O_CLOEXEC | O_NONBLOCK), 0);
    assert_int_equal(loop_add_fd(e->loop, e->pipe[0], LOOP_READ, on_notify, e),
                     FERR_OK);
    buf_init(&e->body, 64u * 1024 * 1024);
    if (!o) {
        def.body_limit = body_limit;
        o = &def;
    }
    if (httpd_start(e->loop, o, handler, e, &e->h, &err))
        fail_msg("httpd_start: %s", err.msg);
    e->port = httpd_port(e->h);
    assert_true(e->port > 0);
    return e;
}

static void env_free(struct env *e)
{
    httpd_stop(e->h);
    loop_timer_free(e->writer);
    loop_timer_free(e->guard);
    loop_del_fd(e->loop, e->pipe[0]);
    close(e->pipe[0]);
    close(e->pipe[1]);
    loop_free(e->loop);
    buf_release(&e->body);
    free(e);
    G = NULL;
}

/* One request on its own connection, answered completely. */
static void exchange(struct env *e, struct client *c, const char *req,
                     size_t len)
{
    int before = e->clients_done;

    client_start(e, c, req, len);
    run_until(e, clients_done, before + 1);
    client_join(c);
}

/* ---------- parsing answers ---------- */

struct answer {
    int status;
    char head[8192]; /* status line and headers */
    struct buf body; /* de-chunked */
    bool complete;   /* chunked: the last chunk arrived */
};

static void parse_answer(const struct buf *raw, struct answer *a)
{
    const char *p = buf_cstr(raw);
    const char *end = strstr(p, "\r\n\r\n");
    size_t hlen;

    memset(a, 0, sizeof(*a));
    buf_init(&a->body, raw->len + 1);
    assert_non_null(end);
    hlen = (size_t)(end - p);
    assert_true(hlen < sizeof(a->head));
    memcpy(a->head, p, hlen);
    assert_int_equal(sscanf(p, "HTTP/1.%*d %d", &a->status), 1);
    p = end + 4;
    if (!strcasestr(a->head, "\r\nTransfer-Encoding: chunked")) {
        assert_int_equal(buf_add(&a->body, p, raw->len - (size_t)(p - raw->p)),
                         FERR_OK);
        a->complete = true;
        return;
    }
    for (;;) {
        char *next;
        unsigned long n = strtoul(p, &next, 16);

        if (next == p || strncmp(next, "\r\n", 2) != 0)
            return;
        p = next + 2;
        if (n == 0) {
            a->complete = true;
            return;
        }
        if ((size_t)(raw->p + raw->len - p) < n + 2)
            return;
        assert_int_equal(buf_add(&a->body, p, n), FERR_OK);
        p += n + 2;
    }
}

/* The value of header @name in @a (case-insensitive), or "" */
static const char *header(const struct answer *a, const char *name, char *out,
                          size_t n)
{
    const char *p = a->head;

    out[0] = '\0';
    while ((p = strstr(p, "\r\n"))) {
        p += 2;
        if (strncasecmp(p, name, strlen(name)) == 0 && p[strlen(name)] == ':') {
            const char *v = p + strlen(name) + 1;
            size_t len = strcspn(v, "\r");

            while (*v == ' ') {
                v++;
                len--;
            }
            snprintf(out, n, "%.*s", (int)len, v);
            break;
        }
    }
    return out;
}

static void assert_common_headers(const struct answer *a)
{
    char v[256];

    assert_string_equal(header(a, "Cache-Control", v, sizeof(v)), "no-store");
    assert_string_equal(header(a, "X-Content-Type-Options", v, sizeof(v)),
                        "nosniff");
}

#define REQ(s) (s), strlen(s)

/* ---------- tests ---------- */

static void test_httpd_get_query_and_headers(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;
    char v[256];

    (void)state;
    exchange(e, &c,
             REQ("GET /echo/a%2Fb?a=1&b=x%20y+z&flag&b=2&a HTTP/1.1\r\n"
                 "Host: t\r\nX-Test: hello\r\nConnection: close\r\n"
                 "\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_common_headers(&a);
    assert_string_equal(header(&a, "Content-Type", v, sizeof(v)),
                        "application/json");
    assert_string_equal(header(&a, "X-Ferry-Test", v, sizeof(v)), "yes");
    assert_string_equal(header(&a, "X-Bad", v, sizeof(v)), "");
    assert_string_equal(header(&a, "Injected", v, sizeof(v)), "");
    assert_string_equal(buf_cstr(&a.body), "{\"status\":\"ok\"}");
    assert_int_equal(e->calls, 1);
    assert_string_equal(e->method, "GET");
    assert_string_equal(e->path, "/echo/a%2Fb"); /* raw, not decoded */
    assert_string_equal(e->qa, "1");             /* the first one wins */
    assert_string_equal(e->qb, "x y z");
    assert_true(e->qflag);
    assert_true(e->qnone);
    assert_string_equal(e->xtest, "hello");
    assert_int_equal(e->body.len, 0);
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_post_body(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("POST /echo HTTP/1.1\r\nHost: t\r\n"
                 "Content-Length: 11\r\nConnection: close\r\n\r\n"
                 "hello world"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(e->method, "POST");
    assert_int_equal(e->body.len, 11);
    assert_string_equal(buf_cstr(&e->body), "hello world");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_post_chunked_body(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("POST /echo HTTP/1.1\r\nHost: t\r\n"
                 "Transfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n"
                 "5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(buf_cstr(&e->body), "hello world");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_413_content_length(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;
    char v[256];

    (void)state;
    /* only the headers: the answer must come before any body is read */
    exchange(e, &c,
             REQ("POST /small/x HTTP/1.1\r\nHost: t\r\n"
                 "Content-Length: 17\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 413);
    assert_common_headers(&a);
    assert_string_equal(header(&a, "Content-Type", v, sizeof(v)),
                        "application/json");
    assert_string_equal(buf_cstr(&a.body),
                        "{\"error\":\"request body too large (limit 16 "
                        "bytes)\"}");
    assert_int_equal(e->calls, 0);
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_413_default_limit(void **state)
{
    struct httpd_opts o = {.listen = "127.0.0.1:0"}; /* no body_limit */
    struct env *e = env_new(&o);
    struct client c = {0};
    struct answer a;
    char req[256];

    (void)state;
    snprintf(req, sizeof(req),
             "PUT /x HTTP/1.1\r\nHost: t\r\nContent-Length: %u\r\n\r\n",
             LIM_API_BODY + 1);
    exchange(e, &c, REQ(req));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 413);
    assert_string_equal(buf_cstr(&a.body),
                        "{\"error\":\"request body too large (limit 1048576 "
                        "bytes)\"}");
    assert_int_equal(e->calls, 0);
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_413_chunked(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("POST /small/x HTTP/1.1\r\nHost: t\r\n"
                 "Transfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n"
                 "a\r\n0123456789\r\n7\r\nabcdefg\r\n0\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 413);
    assert_string_equal(buf_cstr(&a.body),
                        "{\"error\":\"request body too large (limit 16 "
                        "bytes)\"}");
    assert_int_equal(e->calls, 0);
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_body_at_limit_passes(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("POST /small/x HTTP/1.1\r\nHost: t\r\n"
                 "Transfer-Encoding: chunked\r\n"
                 "Connection: close\r\n\r\n"
                 "a\r\n0123456789\r\n6\r\nabcdef\r\n0\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(buf_cstr(&e->body), "0123456789abcdef");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_500_when_handler_forgets(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("GET /forget HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 500);
    assert_common_headers(&a);
    assert_string_equal(buf_cstr(&a.body), "{\"error\":\"no response\"}");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_error_json_shape(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;
    char v[256];

    (void)state;
    exchange(e, &c,
             REQ("GET /error HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 404);
    assert_string_equal(header(&a, "Content-Type", v, sizeof(v)),
                        "application/json");
    assert_string_equal(buf_cstr(&a.body), "{\"error\":\"no run 'x\\\"y'\"}");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_second_response_ignored(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("GET /twice HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 201);
    assert_string_equal(buf_cstr(&a.body), "one");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_bad_status_and_null_json_are_500(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct client d = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("GET /badstatus HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 500);
    assert_common_headers(&a);
    buf_release(&a.body);
    exchange(e, &d,
             REQ("GET /nulljson HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    parse_answer(&d.resp, &a);
    assert_int_equal(a.status, 500);
    assert_string_equal(buf_cstr(&a.body), "{\"error\":\"internal error\"}");
    buf_release(&a.body);
    client_release(&c);
    client_release(&d);
    env_free(e);
}

static void test_httpd_keep_alive_two_requests(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};

    (void)state;
    exchange(e, &c,
             REQ("GET /one HTTP/1.1\r\nHost: t\r\n\r\n"
                 "GET /two?a=2 HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    assert_int_equal(e->calls, 2);
    assert_string_equal(e->path, "/two");
    assert_string_equal(e->qa, "2");
    assert_non_null(strstr(buf_cstr(&c.resp), "HTTP/1.1 200"));
    assert_non_null(
        strstr(strstr(buf_cstr(&c.resp), "HTTP/1.1 200") + 1, "HTTP/1.1 200"));
    client_release(&c);
    env_free(e);
}

static void test_httpd_respond_fd_sends_file(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;
    char path[] = "/tmp/httpd_test_XXXXXX";
    char v[256];
    int fd = mkstemp(path);

    (void)state;
    assert_true(fd >= 0);
    unlink(path);
    assert_int_equal(write(fd, "0123456789tail", 14), 14);
    e->fd_to_send = fd; /* adopted by httpd_respond_fd */
    exchange(e, &c,
             REQ("GET /file HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_common_headers(&a);
    assert_string_equal(header(&a, "Content-Type", v, sizeof(v)),
                        "application/x-tar");
    assert_string_equal(buf_cstr(&a.body), "0123456789");
    env_free(e);
    /* adopted: httpd closed it (nothing opened a new fd since) */
    assert_int_equal(fcntl(fd, F_GETFD), -1);
    assert_int_equal(errno, EBADF);
    buf_release(&a.body);
    client_release(&c);
}

static void on_write_tick(struct loop *l, struct loop_timer *t, void *ud)
{
    struct env *e = ud;
    char line[64];
    struct buf ev;

    (void)l;
    buf_init(&ev, 1024);
    snprintf(line, sizeof(line), "{\"n\":%d}", e->writes_left);
    if (sse_format(&ev, NULL, "line", line))
        abort();
    e->last_write = httpd_stream_write(e->st[0], ev.p, ev.len);
    buf_release(&ev);
    if (--e->writes_left > 0) {
        loop_timer_arm(t, 20);
        return;
    }
    httpd_stream_end(e->st[0]);
}

static const char *const stream_req =
    "GET /stream HTTP/1.1\r\nHost: t\r\nAccept: text/event-stream\r\n\r\n";

static void test_httpd_stream_writes_over_time(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;
    char v[256];

    (void)state;
    client_start(e, &c, REQ(stream_req));
    run_until(e, streams_open, 1);
    e->writes_left = 3;
    e->writer = loop_timer_new(e->loop, on_write_tick, e);
    loop_timer_arm(e->writer, 20);
    run_until(e, closes_seen, 1);
    assert_int_equal(e->last_write, FERR_OK);
    assert_int_equal(e->closes[0], 1);
    assert_null(e->st[0]);
    /* the server keeps the connection (keep-alive): close from here */
    run_for(e, 50);
    httpd_stop(e->h);
    e->h = NULL;
    run_until(e, clients_done, 1);
    client_join(&c);
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_common_headers(&a);
    assert_string_equal(header(&a, "Content-Type", v, sizeof(v)),
                        "text/event-stream");
    assert_true(a.complete);
    assert_string_equal(buf_cstr(&a.body), "event: line\ndata: {\"n\":3}\n\n"
                                           "event: line\ndata: {\"n\":2}\n\n"
                                           "event: line\ndata: {\"n\":1}\n\n");
    assert_int_equal(e->closes[0], 1); /* not again in httpd_stop */
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_stream_written_in_handler(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    exchange(e, &c,
             REQ("GET /stream-now HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    run_until(e, closes_seen, 1);
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_true(a.complete);
    assert_string_equal(buf_cstr(&a.body), "hello\n");
    assert_int_equal(e->closes[0], 1);
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_stream_client_disconnects(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    uint64_t t0;

    (void)state;
    c.until = "first\n";
    client_start(e, &c, REQ(stream_req));
    run_until(e, streams_open, 1);
    assert_int_equal(httpd_stream_write(e->st[0], "first\n", 6), FERR_OK);
    run_until(e, clients_done, 1); /* the client read it and hung up */
    client_join(&c);
    t0 = loop_now_ms();
    run_until(e, closes_seen, 1);
    /* noticed through the socket, long before any heartbeat */
    assert_true(loop_now_ms() - t0 < 5000);
    assert_int_equal(e->closes[0], 1);
    run_for(e, 50);
    assert_int_equal(e->closes[0], 1);
    client_release(&c);
    env_free(e);
}

static void test_httpd_idle_stream_uses_no_cpu(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct rusage r0;
    struct rusage r1;
    unsigned long runs;
    long us;

    (void)state;
    client_start(e, &c, REQ(stream_req));
    run_until(e, streams_open, 1);
    run_for(e, 50); /* headers out, the stream suspends */
    runs = httpd_run_count(e->h);
    getrusage(RUSAGE_SELF, &r0);
    run_for(e, 1000);
    getrusage(RUSAGE_SELF, &r1);
    us = (r1.ru_utime.tv_sec - r0.ru_utime.tv_sec) * 1000000L +
         (r1.ru_utime.tv_usec - r0.ru_utime.tv_usec) +
         (r1.ru_stime.tv_sec - r0.ru_stime.tv_sec) * 1000000L +
         (r1.ru_stime.tv_usec - r0.ru_stime.tv_usec);
    assert_true(httpd_run_count(e->h) - runs <= 2);
    assert_true(us < 100000);
    assert_int_equal(e->closes[0], 0);
    httpd_stream_end(e->st[0]);
    run_until(e, closes_seen, 1);
    httpd_stop(e->h);
    e->h = NULL;
    run_until(e, clients_done, 1);
    client_join(&c);
    client_release(&c);
    env_free(e);
}

static void test_httpd_stream_heartbeat(void **state)
{
    struct httpd_opts o = {.listen = "127.0.0.1:0", .heartbeat_ms = 50};
    struct env *e = env_new(&o);
    struct client c = {0};

    (void)state;
    c.until = SSE_HEARTBEAT;
    c.until_n = 3;
    client_start(e, &c, REQ(stream_req));
    run_until(e, clients_done, 1);
    client_join(&c);
    assert_int_equal(count(buf_cstr(&c.resp), SSE_HEARTBEAT), 3);
    run_until(e, closes_seen, 1);
    client_release(&c);
    env_free(e);
}

static void test_httpd_stream_overflow_then_end_closes(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    char *big = calloc(1, LIM_SSE_BACKLOG);

    (void)state;
    assert_non_null(big);
    client_start(e, &c, REQ(stream_req));
    run_until(e, streams_open, 1);
    assert_int_equal(httpd_stream_write(e->st[0], big, LIM_SSE_BACKLOG),
                     FERR_OK);
    assert_int_equal(httpd_stream_write(e->st[0], "x", 1), FERR_LIMIT);
    httpd_stream_end(e->st[0]);
    run_until(e, closes_seen, 1);
    assert_int_equal(e->closes[0], 1);
    run_until(e, clients_done, 1);
    client_join(&c);
    free(big);
    client_release(&c);
    env_free(e);
}

static void test_httpd_stream_end_unread_times_out(void **state)
{
    struct httpd_opts o = {.listen = "127.0.0.1:0", .timeout_s = 1};
    struct env *e = env_new(&o);
    struct client c = {0};
    char *chunk = calloc(1, 1024 * 1024);
    unsigned long runs;
    uint64_t t0;
    int i;

    (void)state;
    assert_non_null(chunk);
    c.hold = true; /* connected, reading nothing */
    client_start(e, &c, REQ(stream_req));
    run_until(e, streams_open, 1);
    /* fill the socket buffers until bytes stay queued here */
    for (i = 0; i < 64 && httpd_stream_pending(e->st[0]) == 0; i++) {
        assert_int_equal(httpd_stream_write(e->st[0], chunk, 1024 * 1024),
                         FERR_OK);
        run_for(e, 50);
    }
    assert_true(httpd_stream_pending(e->st[0]) > 0);
    /* no idle timeout while the stream is open, and no spinning while
     * MHD waits for the socket to drain */
    runs = httpd_run_count(e->h);
    run_for(e, 1500);
    assert_int_equal(e->closes[0], 0);
    assert_true(httpd_run_count(e->h) - runs <= 2);
    t0 = loop_now_ms();
    httpd_stream_end(e->st[0]); /* cannot flush: the timeout ends it */
    run_until(e, closes_seen, 1);
    assert_true(loop_now_ms() - t0 >= 900);
    client_release_hold(&c);
    run_until(e, clients_done, 1);
    client_join(&c);
    free(chunk);
    client_release(&c);
    env_free(e);
}

static void test_httpd_stop_with_open_streams(void **state)
{
    struct env *e = env_new(NULL);
    struct client c[2] = {{0}};

    (void)state;
    client_start(e, &c[0], REQ(stream_req));
    client_start(e, &c[1], REQ(stream_req));
    run_until(e, streams_open, 2);
    assert_int_equal(httpd_stream_write(e->st[1], "x\n", 2), FERR_OK);
    run_for(e, 50); /* both suspended by now */
    httpd_stop(e->h);
    e->h = NULL;
    assert_int_equal(e->closes[0], 1);
    assert_int_equal(e->closes[1], 1);
    run_until(e, clients_done, 2); /* both see the connection close */
    client_join(&c[0]);
    client_join(&c[1]);
    client_release(&c[0]);
    client_release(&c[1]);
    env_free(e);
}

static void test_httpd_stream_client_talks_no_spin(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    unsigned long runs;

    (void)state;
    /* a second request sent while the stream is idle (suspended) sits
     * unread: it must not make the loop spin on a readable socket */
    c.until = "ready\n";
    c.then = "GET /after HTTP/1.1\r\nHost: t\r\nConnection: close\r\n\r\n";
    client_start(e, &c, REQ("GET /stream HTTP/1.1\r\nHost: t\r\n\r\n"));
    run_until(e, streams_open, 1);
    assert_int_equal(httpd_stream_write(e->st[0], "ready\n", 6), FERR_OK);
    run_for(e, 100);
    runs = httpd_run_count(e->h);
    run_for(e, 500);
    assert_true(httpd_run_count(e->h) - runs <= 2);
    assert_int_equal(httpd_stream_write(e->st[0], "data: x\n\n", 9), FERR_OK);
    httpd_stream_end(e->st[0]);
    run_until(e, clients_done, 1); /* then /after is answered, and closes */
    client_join(&c);
    assert_int_equal(e->closes[0], 1);
    assert_int_equal(e->calls, 2);
    assert_string_equal(e->path, "/after");
    assert_non_null(strstr(buf_cstr(&c.resp), "data: x\n\n"));
    client_release(&c);
    env_free(e);
}

static void test_httpd_stream_http10_closes_at_end(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct answer a;

    (void)state;
    client_start(e, &c, REQ("GET /stream HTTP/1.0\r\n\r\n"));
    run_until(e, streams_open, 1);
    assert_int_equal(httpd_stream_write(e->st[0], "data: 1\n\n", 9), FERR_OK);
    httpd_stream_end(e->st[0]);
    run_until(e, clients_done, 1);
    client_join(&c);
    run_until(e, closes_seen, 1);
    parse_answer(&c.resp, &a);
    assert_int_equal(a.status, 200);
    assert_string_equal(buf_cstr(&a.body), "data: 1\n\n");
    buf_release(&a.body);
    client_release(&c);
    env_free(e);
}

static void test_httpd_restart_same_port(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};
    struct httpd_opts o = {0};
    struct ferr err;
    char addr[64];

    (void)state;
    /* the server closes first, so its side sits in TIME_WAIT */
    exchange(e, &c,
             REQ("GET /x HTTP/1.1\r\nHost: t\r\n"
                 "Connection: close\r\n\r\n"));
    httpd_stop(e->h);
    e->h = NULL;
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", e->port);
    o.listen = addr;
    ferr_clear(&err);
    if (httpd_start(e->loop, &o, handler, e, &e->h, &err))
        fail_msg("restart: %s", err.msg);
    assert_int_equal(httpd_port(e->h), e->port);
    client_release(&c);
    env_free(e);
}

static void test_httpd_idle_timeout_closes(void **state)
{
    struct httpd_opts o = {.listen = "127.0.0.1:0", .timeout_s = 1};
    struct env *e = env_new(&o);
    struct client c = {0};
    uint64_t t0 = loop_now_ms();

    (void)state;
    client_start(e, &c, REQ("GET /x HTTP/1.1\r\n")); /* never finished */
    run_until(e, clients_done, 1);
    client_join(&c);
    assert_true(loop_now_ms() - t0 >= 900);
    assert_int_equal(e->calls, 0);
    client_release(&c);
    env_free(e);
}

static void test_httpd_partial_request_then_hangup(void **state)
{
    struct env *e = env_new(NULL);
    struct client c = {0};

    (void)state;
    c.no_read = true;
    client_start(e, &c, REQ("GET /x?a=1 HTTP/1.1\r\nHost"));
    run_until(e, clients_done, 1);
    client_join(&c);
    run_for(e, 100);
    assert_int_equal(e->calls, 0);
    client_release(&c);
    env_free(e); /* leak checkers see whether the request was freed */
}

static void test_httpd_bad_listen_addresses(void **state)
{
    static const char *const bad[] = {
        "",
        "127.0.0.1",
        "127.0.0.1:",
        ":8080",
        "localhost:8080",
        "127.0.0.1:65536",
        "127.0.0.1:-1",
        "127.0.0.1:80x",
        "::1:8080",
        "[::1]",
        "[::1]8080",
        "[::1:8080",
        "[127.0.0.1]:80",
        "1.2.3:80",
        "[zz::1]:80",
    };
    struct loop *l = NULL;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(loop_new(&l, &err), FERR_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct httpd_opts o = {.listen = bad[i]};
        struct httpd *h = (struct httpd *)1;
        char want[128];

        ferr_clear(&err);
        if (httpd_start(l, &o, handler, NULL, &h, &err) != FERR_USAGE)
            fail_msg("'%s' accepted", bad[i]);
        assert_null(h);
        snprintf(want, sizeof(want), "bad listen address '%s': ", bad[i]);
        if (strncmp(err.msg, want, strlen(want)) != 0)
            fail_msg("message '%s'", err.msg);
    }
    loop_free(l);
}

static void test_httpd_port_in_use(void **state)
{
    struct env *e = env_new(NULL);
    struct httpd_opts o = {0};
    struct httpd *h2 = NULL;
    struct ferr err;
    char addr[64];

    (void)state;
    snprintf(addr, sizeof(addr), "127.0.0.1:%d", e->port);
    o.listen = addr;
    ferr_clear(&err);
    assert_int_equal(httpd_start(e->loop, &o, handler, e, &h2, &err), FERR_IO);
    assert_null(h2);
    assert_non_null(strstr(err.msg, "cannot listen on '127.0.0.1:"));
    env_free(e);
}

static void test_httpd_ipv6_loopback(void **state)
{
    struct httpd_opts o = {.listen = "[::1]:0"};
    struct loop *l = NULL;
    struct httpd *h = NULL;
    struct ferr err;
    int probe = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in6 sa = {.sin6_family = AF_INET6,
                              .sin6_addr = IN6ADDR_LOOPBACK_INIT};

    (void)state;
    if (probe < 0 || bind(probe, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        if (probe >= 0)
            close(probe);
        skip(); /* no IPv6 here */
    }
    close(probe);
    ferr_clear(&err);
    assert_int_equal(loop_new(&l, &err), FERR_OK);
    if (httpd_start(l, &o, handler, NULL, &h, &err))
        fail_msg("httpd_start: %s", err.msg);
    assert_true(httpd_port(h) > 0);
    httpd_stop(h);
    loop_free(l);
}

/* ---------- sse_format ---------- */

static void test_sse_format_lines(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(sse_format(&b, "17", "line", "{\"a\":1}"), FERR_OK);
    assert_string_equal(buf_cstr(&b),
                        "id: 17\nevent: line\ndata: {\"a\":1}\n\n");
    buf_reset(&b);
    assert_int_equal(sse_format(&b, NULL, NULL, "a\nb\r\nc\rd"), FERR_OK);
    assert_string_equal(buf_cstr(&b), "data: a\ndata: b\ndata: c\ndata: d\n\n");
    buf_reset(&b);
    assert_int_equal(sse_format(&b, NULL, "end", NULL), FERR_OK);
    assert_string_equal(buf_cstr(&b), "event: end\ndata: \n\n");
    buf_reset(&b);
    assert_int_equal(sse_format(&b, NULL, NULL, "x\n"), FERR_OK);
    assert_string_equal(buf_cstr(&b), "data: x\ndata: \n\n");
    buf_release(&b);
}

static void test_sse_format_rejects(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 32);
    assert_int_equal(buf_adds(&b, "keep"), FERR_OK);
    assert_int_equal(sse_format(&b, "1\n2", NULL, "x"), FERR_INVALID);
    assert_int_equal(sse_format(&b, NULL, "a\rb", "x"), FERR_INVALID);
    assert_int_equal(
        sse_format(&b, NULL, NULL, "0123456789012345678901234567890123"),
        FERR_LIMIT);
    assert_string_equal(buf_cstr(&b), "keep");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpd_get_query_and_headers),
        cmocka_unit_test(test_httpd_post_body),
        cmocka_unit_test(test_httpd_post_chunked_body),
        cmocka_unit_test(test_httpd_413_content_length),
        cmocka_unit_test(test_httpd_413_default_limit),
        cmocka_unit_test(test_httpd_413_chunked),
        cmocka_unit_test(test_httpd_body_at_limit_passes),
        cmocka_unit_test(test_httpd_500_when_handler_forgets),
        cmocka_unit_test(test_httpd_error_json_shape),
        cmocka_unit_test(test_httpd_second_response_ignored),
        cmocka_unit_test(test_httpd_bad_status_and_null_json_are_500),
        cmocka_unit_test(test_httpd_keep_alive_two_requests),
        cmocka_unit_test(test_httpd_respond_fd_sends_file),
        cmocka_unit_test(test_httpd_stream_writes_over_time),
        cmocka_unit_test(test_httpd_stream_written_in_handler),
        cmocka_unit_test(test_httpd_stream_client_disconnects),
        cmocka_unit_test(test_httpd_idle_stream_uses_no_cpu),
        cmocka_unit_test(test_httpd_stream_heartbeat),
        cmocka_unit_test(test_httpd_stream_overflow_then_end_closes),
        cmocka_unit_test(test_httpd_stream_end_unread_times_out),
        cmocka_unit_test(test_httpd_stop_with_open_streams),
        cmocka_unit_test(test_httpd_stream_client_talks_no_spin),
        cmocka_unit_test(test_httpd_stream_http10_closes_at_end),
        cmocka_unit_test(test_httpd_restart_same_port),
        cmocka_unit_test(test_httpd_idle_timeout_closes),
        cmocka_unit_test(test_httpd_partial_request_then_hangup),
        cmocka_unit_test(test_httpd_bad_listen_addresses),
        cmocka_unit_test(test_httpd_port_in_use),
        cmocka_unit_test(test_httpd_ipv6_loopback),
        cmocka_unit_test(test_sse_format_lines),
        cmocka_unit_test(test_sse_format_rejects),
    };

    loop_block_signals();
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
