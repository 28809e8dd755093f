/* admin: the proxy's admin API and state file.  One request per
 * connection (the API is for a local deploy tool, not for traffic), heads
 * parsed by http1, bodies by jansson.  It never touches the data path
 * directly: it calls proxy_replace / proxy_drain and reads counters. */
#include "proxy/admin.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "proxy/http1.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

#define ADMIN_CONNS 64u          /* open admin connections */
#define ADMIN_TIMEOUT_MS 10000u  /* one request, start to end */
#define ADMIN_TICK_MS 1000u

struct aconn {
    struct admin *a;
    int fd;
    struct aconn *prev;
    struct aconn *next;
    struct buf in;
    struct buf out;
    size_t out_off;     /* bytes of out already written */
    bool answered;      /* out holds the whole answer */
    uint64_t deadline;  /* ms */
};

struct admin {
    struct proxy *px;
    struct loop *loop;
    int lfd;
    char addr[sizeof(((struct sockaddr_un *)0)->sun_path) + 8];
    char *unix_path;    /* owned; NULL for TCP */
    char *state_path;   /* owned; NULL = no state file */
    struct aconn *conns;
    unsigned nconns;
    struct loop_timer *tick;
    struct http1_req req; /* parse scratch */
};

/* ---------- JSON ---------- */

enum ferr_code admin_parse_backends(const char *text, size_t len,
                                    struct backend_spec **out, size_t *out_n,
                                    struct ferr *err)
{
    json_error_t je;
    json_t *root = json_loadb(text, len, 0, &je);
    json_t *arr;
    struct backend_spec *specs = NULL;
    size_t n;
    size_t strbytes = 0;
    char *strings;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    *out_n = 0;
    if (!root)
        return ferr_set(err, FERR_PARSE, NULL, "body is not JSON: %s",
                        je.text);
    arr = json_is_object(root) ? json_object_get(root, "backends") : NULL;
    if (!json_is_array(arr)) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "expected {\"backends\":[{\"name\",\"addr\","
                      "\"weight\"}]}");
        goto done;
    }
    n = json_array_size(arr);
    if (n > LIM_PROXY_BACKENDS) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "too many backends: %zu, at most %u", n,
                      LIM_PROXY_BACKENDS);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(arr, i);
        json_t *name = json_object_get(b, "name");
        json_t *addr = json_object_get(b, "addr");
        json_t *w = json_object_get(b, "weight");

        if (!json_is_object(b)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "backends[%zu] is not an object", i);
            goto done;
        }
        if (!json_is_string(name) || !json_is_string(addr)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "backends[%zu] needs string 'name' and 'addr'", i);
            goto done;
        }
        if (w && (!json_is_integer(w) || json_integer_value(w) < 0 ||
                  json_integer_value(w) > BACKEND_MAX_WEIGHT)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "backends[%zu]: 'weight' must be an integer from "
                          "0 to %u",
                          i, BACKEND_MAX_WEIGHT);
            goto done;
        }
        strbytes += json_string_length(name) + json_string_length(addr) + 2;
    }
    /* one block: the specs, then their strings */
    specs = xmalloc(n * sizeof(*specs) + strbytes + 1);
    strings = (char *)(specs + n);
    for (size_t i = 0; i < n; i++) {
        json_t *b = json_array_get(arr, i);
        json_t *w = json_object_get(b, "weight");
        const char *fields[2] = { "name", "addr" };
        const char **dst[2] = { &specs[i].name, &specs[i].addr };

        for (int k = 0; k < 2; k++) {
            json_t *s = json_object_get(b, fields[k]);
            size_t l = json_string_length(s);

            /* an embedded NUL makes the name shorter, and then invalid
             * or different: backend_reg_replace judges it */
            memcpy(strings, json_string_value(s), l);
            strings[l] = '\0';
            *dst[k] = strings;
            strings += l + 1;
        }
        specs[i].weight = w ? (unsigned)json_integer_value(w) : 1u;
    }
    *out = specs;
    *out_n = n;
done:
    json_decref(root);
    return rc;
}

json_t *admin_backend_json(const struct backend *be, bool stats)
{
    json_t *o = json_pack("{s:s, s:s, s:I, s:s, s:I, s:I, s:I}", "name",
                          be->name, "addr", be->addr, "weight",
                          (json_int_t)be->weight, "state",
                          be->in_set ? "ready" : "draining", "requests",
                          (json_int_t)be->requests, "errors_5xx",
                          (json_int_t)be->errors_5xx, "active",
                          (json_int_t)be->active);
    json_t *buckets;
    uint64_t cum = 0;

    if (!stats)
        return o;
    json_object_set_new(o, "connect_errors",
                        json_integer((json_int_t)be->connect_errors));
    buckets = json_array();
    for (unsigned i = 0; i < BACKEND_BUCKETS; i++) {
        char le[32];

        cum += be->hist[i];
        if (i + 1 == BACKEND_BUCKETS)
            snprintf(le, sizeof(le), "+Inf");
        else
            snprintf(le, sizeof(le), "%g", backend_bucket_le[i]);
        json_array_append_new(buckets, json_pack("{s:s, s:I}", "le", le,
                                                 "count", (json_int_t)cum));
    }
    json_object_set_new(o, "latency",
                        json_pack("{s:o, s:f, s:I}", "buckets", buckets,
                                  "sum", (double)be->lat_sum_us / 1e6,
                                  "count", (json_int_t)be->lat_count));
    return o;
}

json_t *admin_backends_json(const struct backend_reg *reg, bool stats)
{
    json_t *arr = json_array();

    for (size_t i = 0; i < reg->nset; i++)
        json_array_append_new(arr, admin_backend_json(reg->set[i], stats));
    for (const struct backend *be = reg->all; be; be = be->next)
        if (!be->in_set && backend_listed(be))
            json_array_append_new(arr, admin_backend_json(be, stats));
    return json_pack("{s:o}", "backends", arr);
}

/* ---------- the state file ---------- */

static enum ferr_code save_state(struct admin *a, struct ferr *err)
{
    const struct backend_reg *reg = proxy_backends(a->px);
    json_t *arr = json_array();
    json_t *root;
    char *text;
    char *tmp;
    int fd;
    size_t len;
    enum ferr_code rc = FERR_OK;

    if (!a->state_path) {
        json_decref(arr);
        return FERR_OK;
    }
    for (size_t i = 0; i < reg->nset; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "name",
                                             reg->set[i]->name, "addr",
                                             reg->set[i]->addr, "weight",
                                             (json_int_t)reg->set[i]->weight));
    root = json_pack("{s:o}", "backends", arr);
    text = json_dumps(root, JSON_INDENT(2));
    json_decref(root);
    len = strlen(text);
    tmp = xasprintf("%s.tmp.%ld", a->state_path, (long)getpid());
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
        goto done;
    }
    for (size_t off = 0; off < len + 1;) {
        const char *p = off < len ? text + off : "\n";
        size_t n = off < len ? len - off : 1;
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                          strerror(errno));
            break;
        }
        off += (size_t)w;
    }
    if (!rc && fsync(fd) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot sync '%s': %s", tmp,
                      strerror(errno));
    close(fd);
    if (!rc && rename(tmp, a->state_path) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot rename to '%s': %s",
                      a->state_path, strerror(errno));
    if (rc)
        (void)unlink(tmp);
done:
    free(tmp);
    free(text);
    return rc;
}

static enum ferr_code load_state(struct admin *a, struct ferr *err)
{
    struct buf b;
    struct backend_spec *specs = NULL;
    size_t n = 0;
    enum ferr_code rc = FERR_OK;
    int fd = open(a->state_path, O_RDONLY | O_CLOEXEC);

    if (fd < 0) {
        if (errno == ENOENT)
            return FERR_OK;
        return ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s",
                        a->state_path, strerror(errno));
    }
    buf_init(&b, LIM_PROXY_ADMIN_BODY);
    for (;;) {
        ssize_t r;

        if (buf_grow(&b, 4096)) {
            rc = ferr_set(err, FERR_LIMIT, NULL, "'%s' is over %u bytes",
                          a->state_path, LIM_PROXY_ADMIN_BODY);
            goto done;
        }
        r = read(fd, b.p + b.len, b.cap - b.len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s",
                          a->state_path, strerror(errno));
            goto done;
        }
        if (r == 0)
            break;
        b.len += (size_t)r;
        b.p[b.len] = '\0';
    }
    rc = admin_parse_backends(b.p ? b.p : "", b.len, &specs, &n, err);
    if (!rc)
        rc = proxy_replace(a->px, specs, n, err);
    if (rc)
        ferr_prefix(err, "state file '%s'", a->state_path);
done:
    free(specs);
    buf_release(&b);
    close(fd);
    return rc;
}

/* ---------- HTTP ---------- */

static void aconn_close(struct aconn *c)
{
    struct admin *a = c->a;

    if (c->prev)
        c->prev->next = c->next;
    else
        a->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    loop_del_fd(a->loop, c->fd);
    close(c->fd);
    buf_release(&c->in);
    buf_release(&c->out);
    free(c);
    a->nconns--;
}

/* Put the whole answer in c->out: @body (stolen; NULL = {"error":@msg}).
 * Returns true (the request is answered). */
static bool answer(struct aconn *c, int status, json_t *body, const char *msg,
                   const char *extra)
{
    char *text;

    if (!body)
        body = json_pack("{s:s}", "error", msg ? msg : http1_reason(status));
    text = json_dumps(body, JSON_COMPACT | JSON_REAL_PRECISION(9));
    json_decref(body);
    buf_reset(&c->out);
    if (buf_addf(&c->out,
                 "HTTP/1.1 %d %s\r\n"
                 "Content-Type: application/json\r\n"
                 "Content-Length: %zu\r\n"
                 "%s"
                 "Connection: close\r\n"
                 "\r\n"
                 "%s\n",
                 status, http1_reason(status), strlen(text) + 1,
                 extra ? extra : "", text)) {
        buf_reset(&c->out);
        if (buf_adds(&c->out, "HTTP/1.1 500 Internal Server Error\r\n"
                              "Content-Length: 0\r\n"
                              "Connection: close\r\n\r\n"))
            buf_reset(&c->out); /* not reached: LIM_PROXY_ANSWER */
    }
    free(text);
    c->answered = true;
    return true;
}

static bool route(struct aconn *c, struct span method, struct span path,
                  const char *body, size_t blen)
{
    struct admin *a = c->a;
    struct ferr err;
    struct span drain_pre = SPAN_LIT("/backends/");
    struct span drain_suf = SPAN_LIT("/drain");

    ferr_clear(&err);
    if (span_eq_cstr(path, "/healthz")) {
        if (!span_eq_cstr(method, "GET") && !span_eq_cstr(method, "HEAD"))
            return answer(c, 405, NULL, "use GET", "Allow: GET\r\n");
        return answer(c, 200, json_pack("{s:s}", "status", "ok"), NULL,
                      NULL);
    }
    if (span_eq_cstr(path, "/stats")) {
        struct proxy_stats s;
        json_t *o;

        if (!span_eq_cstr(method, "GET"))
            return answer(c, 405, NULL, "use GET", "Allow: GET\r\n");
        proxy_get_stats(a->px, &s);
        o = admin_backends_json(proxy_backends(a->px), true);
        json_object_set_new(
            o, "proxy",
            json_pack("{s:I, s:I, s:I, s:I, s:I, s:I}", "connections",
                      (json_int_t)s.connections_active, "connections_total",
                      (json_int_t)s.connections_total, "connections_refused",
                      (json_int_t)s.connections_refused, "requests",
                      (json_int_t)s.requests, "own_4xx",
                      (json_int_t)s.own_4xx, "own_5xx",
                      (json_int_t)s.own_5xx));
        return answer(c, 200, o, NULL, NULL);
    }
    if (span_eq_cstr(path, "/backends")) {
        struct backend_spec *specs;
        size_t n;
        char msg[600];

        if (span_eq_cstr(method, "GET"))
            return answer(c, 200,
                          admin_backends_json(proxy_backends(a->px), false),
                          NULL, NULL);
        if (!span_eq_cstr(method, "PUT"))
            return answer(c, 405, NULL, "use GET or PUT",
                          "Allow: GET, PUT\r\n");
        if (admin_parse_backends(body, blen, &specs, &n, &err) ||
            proxy_replace(a->px, specs, n, &err)) {
            free(specs);
            snprintf(msg, sizeof(msg), "%s", err.msg);
            return answer(c, 400, NULL, msg, NULL);
        }
        free(specs);
        log_info("backend set replaced backends=%zu", n);
        if (save_state(a, &err))
            log_err("state file not saved reason='%s'", err.msg);
        return answer(c, 200,
                      admin_backends_json(proxy_backends(a->px), false), NULL,
                      NULL);
    }
    if (span_starts_with(path, drain_pre) && path.len > drain_pre.len +
                                                       drain_suf.len &&
        span_eq(span_of(path.p + path.len - drain_suf.len, drain_suf.len),
                drain_suf)) {
        char name[LIM_NAME + 1];
        size_t nlen = path.len - drain_pre.len - drain_suf.len;
        const struct backend *be;

        if (!span_eq_cstr(method, "POST"))
            return answer(c, 405, NULL, "use POST", "Allow: POST\r\n");
        if (nlen > LIM_NAME || memchr(path.p + drain_pre.len, '/', nlen))
            return answer(c, 404, NULL, "no such backend", NULL);
        memcpy(name, path.p + drain_pre.len, nlen);
        name[nlen] = '\0';
        be = proxy_drain(a->px, name);
        if (!be)
            return answer(c, 404, NULL, "no such backend", NULL);
        log_info("backend draining name='%s' active=%u", be->name,
                 be->active);
        if (save_state(a, &err))
            log_err("state file not saved reason='%s'", err.msg);
        return answer(c, 200, admin_backend_json(be, false), NULL, NULL);
    }
    return answer(c, 404, NULL, "no such endpoint", NULL);
}

/* Parse what arrived; answer when the request is complete or bad.
 * Returns false while the request is incomplete. */
static bool handle(struct aconn *c)
{
    struct admin *a = c->a;
    struct http1_req *r = &a->req;
    enum http1_rc rc = http1_parse_request(c->in.p, c->in.len,
                                           LIM_PROXY_ADMIN_BODY, r);
    struct span path;
    struct span query;

    if (rc == HTTP1_AGAIN)
        return false;
    if (rc == HTTP1_BAD)
        return answer(c, r->error_status, NULL, r->error, NULL);
    if (r->framing == HTTP1_CHUNKED)
        return answer(c, 411, NULL, "send a Content-Length", NULL);
    if (c->in.len - r->head_len < r->content_length)
        return false; /* the body is still coming */
    (void)span_cut(r->target, '?', &path, &query);
    return route(c, r->method, path, c->in.p + r->head_len, r->content_length);
}

static void flush(struct aconn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = write(c->fd, c->out.p + c->out_off,
                          c->out.len - c->out_off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN) {
            if (loop_mod_fd(c->a->loop, c->fd, LOOP_WRITE))
                break;
            return;
        }
        if (n <= 0)
            break;
        c->out_off += (size_t)n;
    }
    aconn_close(c);
}

static void aconn_cb(struct loop *l, int fd, unsigned events, void *ud)
{
    struct aconn *c = ud;

    (void)l;
    if (c->answered) {
        if (events & LOOP_WRITE)
            flush(c);
        return;
    }
    for (;;) {
        ssize_t n;

        if (buf_grow(&c->in, 4096)) {
            answer(c, 413, NULL, "request too large", NULL);
            break;
        }
        n = read(fd, c->in.p + c->in.len, c->in.cap - c->in.len - 1);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            aconn_close(c);
            return;
        }
        c->in.len += (size_t)n;
        c->in.p[c->in.len] = '\0';
    }
    if (!c->answered)
        (void)handle(c);
    if (c->answered)
        flush(c);
}

static void accept_cb(struct loop *l, int fd, unsigned events, void *ud)
{
    struct admin *a = ud;

    (void)events;
    for (int i = 0; i < 16; i++) {
        struct aconn *c;
        int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

        if (cfd < 0)
            return;
        if (a->nconns >= ADMIN_CONNS) {
            close(cfd);
            continue;
        }
        c = xcalloc(1, sizeof(*c));
        c->a = a;
        c->fd = cfd;
        buf_init(&c->in, LIM_PROXY_HEAD + LIM_PROXY_ADMIN_BODY);
        buf_init(&c->out, LIM_PROXY_ANSWER);
        c->deadline = loop_now_ms() + ADMIN_TIMEOUT_MS;
        if (loop_add_fd(l, cfd, LOOP_READ, aconn_cb, c)) {
            close(cfd);
            free(c);
            continue;
        }
        c->next = a->conns;
        if (a->conns)
            a->conns->prev = c;
        a->conns = c;
        a->nconns++;
    }
}

static void tick_cb(struct loop *l, struct loop_timer *t, void *ud)
{
    struct admin *a = ud;
    uint64_t now = loop_now_ms();
    struct aconn *c = a->conns;

    (void)l;
    while (c) {
        struct aconn *next = c->next;

        if (now >= c->deadline)
            aconn_close(c);
        c = next;
    }
    loop_timer_arm(t, ADMIN_TICK_MS);
}

/* ---------- setup ---------- */

static enum ferr_code listen_unix(struct admin *a, const char *path,
                                  struct ferr *err)
{
    struct sockaddr_un sun;
    struct stat st;
    int fd;

    memset(&sun, 0, sizeof(sun));
    sun.sun_family = AF_UNIX;
    if (path[0] == '\0' || strlen(path) >= sizeof(sun.sun_path))
        return ferr_set(err, FERR_INVALID, NULL,
                        "bad unix socket path '%s'", path);
    memcpy(sun.sun_path, path, strlen(path));
    if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
        (void)unlink(path); /* a stale socket from an earlier run */
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL, "socket: %s", strerror(errno));
    if (bind(fd, (struct sockaddr *)&sun, sizeof(sun)) < 0 ||
        chmod(path, 0600) < 0 || listen(fd, 64) < 0) {
        int e = errno;

        close(fd);
        return ferr_set(err, FERR_IO, NULL, "cannot listen on '%s': %s",
                        path, strerror(e));
    }
    a->lfd = fd;
    a->unix_path = xstrdup(path);
    snprintf(a->addr, sizeof(a->addr), "unix:%s", path);
    return FERR_OK;
}

static bool loopback(const struct sockaddr_storage *sa)
{
    if (sa->ss_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;

        return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
    }
    return IN6_IS_ADDR_LOOPBACK(&((const struct sockaddr_in6 *)sa)->sin6_addr);
}

static enum ferr_code listen_tcp(struct admin *a, const char *addr,
                                 struct ferr *err)
{
    struct sockaddr_storage sa;
    socklen_t len;

    if (backend_parse_listen(addr, &sa, &len, err))
        return err->code;
    if (!loopback(&sa))
        return ferr_set(err, FERR_INVALID, NULL,
                        "admin address '%s' is not loopback: use "
                        "127.0.0.1:PORT, [::1]:PORT or unix:/PATH",
                        addr);
    return proxy_listen_tcp(&sa, len, addr, 64, &a->lfd, a->addr,
                            sizeof(a->addr), err);
}

enum ferr_code admin_new(struct proxy *px, const char *addr,
                         const char *state_path, struct admin **out,
                         struct ferr *err)
{
    struct admin *a = xcalloc(1, sizeof(*a));
    enum ferr_code rc;

    *out = NULL;
    a->px = px;
    a->loop = proxy_loop(px);
    a->lfd = -1;
    if (state_path) {
        a->state_path = xstrdup(state_path);
        rc = load_state(a, err);
        if (rc)
            goto fail;
    }
    if (strncmp(addr, "unix:", 5) == 0)
        rc = listen_unix(a, addr + 5, err);
    else
        rc = listen_tcp(a, addr, err);
    if (rc)
        goto fail;
    if (loop_add_fd(a->loop, a->lfd, LOOP_READ, accept_cb, a)) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot watch the admin listener");
        goto fail;
    }
    a->tick = loop_timer_new(a->loop, tick_cb, a);
    if (!a->tick) {
        rc = ferr_set(err, FERR_IO, NULL, "timerfd: %s", strerror(errno));
        goto fail;
    }
    loop_timer_arm(a->tick, ADMIN_TICK_MS);
    *out = a;
    return FERR_OK;
fail:
    admin_free(a);
    return rc;
}

void admin_free(struct admin *a)
{
    if (!a)
        return;
    while (a->conns)
        aconn_close(a->conns);
    loop_timer_free(a->tick);
    if (a->lfd >= 0) {
        loop_del_fd(a->loop, a->lfd);
        close(a->lfd);
    }
    if (a->unix_path)
        (void)unlink(a->unix_path);
    free(a->unix_path);
    free(a->state_path);
    free(a);
}

const char *admin_addr(const struct admin *a)
{
    return a->addr;
}
