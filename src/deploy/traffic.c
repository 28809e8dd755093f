/* traffic: the two traffic drivers — ferry proxy through its JSON admin
 * API (util/httpc) and HAProxy through its runtime API socket (one text
 * command per connection).  Both answers are outside input and go
 * through pure parsers.  It never starts, configures or reloads a proxy,
 * and it never declares HAProxy servers: it only moves the operator's
 * server slots between addresses, weights and states. */
#include "deploy/traffic.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <limits.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "deploy/envstate.h"
#include "util/buf.h"
#include "util/httpc.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define IO_TIMEOUT_MS 5000   /* one admin request or runtime API command */
#define HAP_MAX_WEIGHT 256u  /* HAProxy's server weight range is 0-256 */
#define DRAIN_POLL_MS 100

enum driver { DRV_FERRY, DRV_HAPROXY };

struct traffic {
    enum driver kind;
    char *url;         /* ferry: "http://HOST:PORT" (no trailing '/') */
    char *unix_path;   /* ferry over a unix socket, or haproxy's socket */
    char *backend;     /* haproxy: the backend whose slots we drive */
};

/* One HAProxy server slot as `show stat` describes it. */
struct slot {
    struct traffic_backend b;
    bool maint;        /* MAINT: free for us to take */
    bool taken;        /* assigned by the traffic_set being computed */
};

static const char *errtext(int e, char *out, size_t n)
{
    const char *s = strerror_r(e, out, n);

    if (s != out)
        snprintf(out, n, "%s", s);
    if (out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (char)(out[0] - 'A' + 'a');
    return out;
}

/* Characters safe to put in a runtime API command or a URL path: HAProxy
 * splits commands at ';' and words at blanks, so anything else is
 * refused rather than escaped. */
static bool safe_word(struct span s, const char *extra)
{
    if (s.len == 0)
        return false;
    for (size_t i = 0; i < s.len; i++) {
        unsigned char c = (unsigned char)s.p[i];

        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
            (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.')
            continue;
        if (c && strchr(extra, c))
            continue;
        return false;
    }
    return true;
}

static enum ferr_code bad_spec(const char *spec, struct ferr *err)
{
    char q[72];

    return ferr_set(err, FERR_INVALID, NULL,
                    "input 'proxy': expected ferry:HOST:PORT, "
                    "ferry:unix:PATH or haproxy:SOCKET:BACKEND, not '%s'",
                    span_quote(spec, strlen(spec), q));
}

/* "HOST:PORT" or "[V6]:PORT": split at the last ':' with a valid port. */
static bool split_hostport(struct span s, struct span *host, unsigned *port)
{
    const char *colon = NULL;
    uint64_t v;

    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] == ':')
            colon = s.p + i;
    if (!colon)
        return false;
    host->p = s.p;
    host->len = (size_t)(colon - s.p);
    if (span_to_u64(span_of(colon + 1, s.len - host->len - 1), &v) ||
        v == 0 || v > 65535)
        return false;
    *port = (unsigned)v;
    return host->len > 0 && safe_word(*host, ":[]");
}

enum ferr_code traffic_open(const char *spec, struct traffic **out,
                            struct ferr *err)
{
    struct span s = span_cstr(spec);
    struct traffic *t;
    struct span host;
    unsigned port;

    *out = NULL;
    if (!spec)
        return bad_spec("", err);
    if (span_starts_with(s, SPAN_LIT("ferry:unix:"))) {
        const char *path = spec + strlen("ferry:unix:");
        char *full;

        if (!path[0])
            return bad_spec(spec, err);
        /* a relative socket lives in the deploy home, where the
         * operator starts the proxy: workflows need no host paths */
        if (path[0] == '/') {
            full = xstrdup(path);
        } else {
            char *home = envstate_home_dup(NULL);

            full = xasprintf("%s/%s", home, path);
            free(home);
        }
        if (strlen(full) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
            free(full);
            return bad_spec(spec, err);
        }
        t = xcalloc(1, sizeof(*t));
        t->kind = DRV_FERRY;
        t->unix_path = full;
        t->url = xstrdup("http://localhost");
    } else if (span_starts_with(s, SPAN_LIT("ferry:"))) {
        struct span rest = span_of(spec + 6, s.len - 6);

        if (!split_hostport(rest, &host, &port))
            return bad_spec(spec, err);
        t = xcalloc(1, sizeof(*t));
        t->kind = DRV_FERRY;
        t->url = xasprintf("http://%.*s:%u", SPAN_ARGS(host), port);
    } else if (span_starts_with(s, SPAN_LIT("haproxy:"))) {
        const char *rest = spec + strlen("haproxy:");
        const char *colon = strrchr(rest, ':');
        size_t plen;

        if (!colon)
            return bad_spec(spec, err);
        plen = (size_t)(colon - rest);
        if (plen == 0 ||
            plen >= sizeof(((struct sockaddr_un *)0)->sun_path) ||
            memchr(rest, '\0', plen) ||
            !safe_word(span_cstr(colon + 1), ""))
            return bad_spec(spec, err);
        t = xcalloc(1, sizeof(*t));
        t->kind = DRV_HAPROXY;
        t->unix_path = xstrndup(rest, plen);
        t->backend = xstrdup(colon + 1);
    } else {
        return bad_spec(spec, err);
    }
    *out = t;
    return FERR_OK;
}

void traffic_free(struct traffic *t)
{
    if (!t)
        return;
    free(t->url);
    free(t->unix_path);
    free(t->backend);
    free(t);
}

void traffic_backends_free(struct traffic_backend *b, size_t n)
{
    if (!b)
        return;
    for (size_t i = 0; i < n; i++) {
        free(b[i].name);
        free(b[i].addr);
    }
    free(b);
}

static void set_state(struct traffic_backend *b, const char *state)
{
    snprintf(b->state, sizeof(b->state), "%s", state);
}

/* ---- ferry proxy: JSON ---------------------------------------------- */

static bool json_u64(json_t *o, const char *key, uint64_t *out)
{
    json_t *v = json_object_get(o, key);

    *out = 0;
    if (!v)
        return true;
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return false;
    *out = (uint64_t)json_integer_value(v);
    return true;
}

enum ferr_code traffic_parse_ferry_answer(const char *text, size_t len,
                                          struct traffic_backend **out,
                                          size_t *out_n, struct ferr *err)
{
    struct traffic_backend *v = NULL;
    json_error_t jerr;
    enum ferr_code rc = FERR_OK;
    json_t *root;
    json_t *arr;
    size_t n = 0;

    *out = NULL;
    *out_n = 0;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root)
        return ferr_set(err, FERR_PARSE, NULL,
                        "ferry proxy's answer is not JSON: %s", jerr.text);
    arr = json_object_get(root, "backends");
    if (!json_is_object(root) || !json_is_array(arr)) {
        rc = ferr_set(err, FERR_PARSE, NULL,
                      "ferry proxy's answer has no 'backends' array");
        goto done;
    }
    if (json_array_size(arr) > LIM_PROXY_BACKENDS) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "ferry proxy's answer has more than %u backends",
                      LIM_PROXY_BACKENDS);
        goto done;
    }
    v = xcalloc(json_array_size(arr) + 1, sizeof(*v));
    for (; n < json_array_size(arr); n++) {
        json_t *e = json_array_get(arr, n);
        json_t *name = json_object_get(e, "name");
        json_t *addr = json_object_get(e, "addr");
        json_t *state = json_object_get(e, "state");
        uint64_t w;

        if (!json_is_object(e) || !json_is_string(name) ||
            !json_is_string(addr) || (state && !json_is_string(state)) ||
            !json_u64(e, "weight", &w) || w > UINT_MAX ||
            !json_u64(e, "requests", &v[n].requests) ||
            !json_u64(e, "errors_5xx", &v[n].errors_5xx) ||
            !json_u64(e, "active", &v[n].active)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "ferry proxy's backend %zu is not "
                          "{name, addr, weight, state, requests, "
                          "errors_5xx, active}",
                          n + 1);
            goto done;
        }
        v[n].name = xstrndup(json_string_value(name),
                             json_string_length(name));
        v[n].addr = xstrndup(json_string_value(addr),
                             json_string_length(addr));
        v[n].weight = (unsigned)w;
        set_state(&v[n], state ? json_string_value(state) : "");
    }
done:
    json_decref(root);
    if (rc) {
        traffic_backends_free(v, n);
        return rc;
    }
    *out = v;
    *out_n = n;
    return FERR_OK;
}

/* One admin request; a non-2xx answer is FERR_IO with its "error". */
static enum ferr_code ferry_call(struct traffic *t, const char *method,
                                 const char *path, const char *body,
                                 struct buf *answer, struct ferr *err)
{
    char *url = xasprintf("%s%s", t->url, path);
    const char *const headers[] = { "Content-Type: application/json",
                                    NULL };
    struct httpc_req req;
    enum ferr_code rc;
    long status = 0;

    memset(&req, 0, sizeof(req));
    req.method = method;
    req.url = url;
    req.unix_socket = t->unix_path;
    req.headers = body ? headers : NULL;
    req.body = body;
    req.body_len = body ? strlen(body) : 0;
    req.timeout_ms = IO_TIMEOUT_MS;
    rc = httpc_do(&req, &status, answer, err);
    if (rc) {
        ferr_prefix(err, "ferry proxy");
        if (rc == FERR_NOTFOUND) /* refused: unreachable, as the rest */
            rc = err->code = FERR_IO;
        goto done;
    }
    if (status < 200 || status > 299) {
        json_t *j = json_loadb(answer->p ? answer->p : "", answer->len, 0,
                               NULL);
        const char *why = json_string_value(json_object_get(j, "error"));
        char q[72];

        if (!why)
            why = span_quote(buf_cstr(answer), answer->len, q);
        rc = ferr_set(err, FERR_IO, NULL,
                      "ferry proxy refused %s %s (HTTP %ld): %s", method,
                      path, status, why);
        json_decref(j);
    }
done:
    free(url);
    return rc;
}

static enum ferr_code ferry_get(struct traffic *t,
                                struct traffic_backend **out, size_t *out_n,
                                struct ferr *err)
{
    struct buf answer;
    enum ferr_code rc;

    buf_init(&answer, LIM_PROXY_ANSWER);
    rc = ferry_call(t, "GET", "/backends", NULL, &answer, err);
    if (!rc)
        rc = traffic_parse_ferry_answer(answer.p ? answer.p : "",
                                        answer.len, out, out_n, err);
    buf_release(&answer);
    return rc;
}

static enum ferr_code ferry_set(struct traffic *t,
                                const struct traffic_backend *b, size_t n,
                                struct ferr *err)
{
    json_t *arr = json_array();
    json_t *root = json_pack("{s:o}", "backends", arr);
    struct buf answer;
    enum ferr_code rc;
    char *body;

    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, json_pack("{s:s, s:s, s:I}", "name",
                                             b[i].name, "addr", b[i].addr,
                                             "weight",
                                             (json_int_t)b[i].weight));
    body = json_dumps(root, JSON_COMPACT);
    json_decref(root);
    buf_init(&answer, LIM_PROXY_ANSWER);
    rc = ferry_call(t, "PUT", "/backends", body, &answer, err);
    buf_release(&answer);
    free(body);
    return rc;
}

/* ---- HAProxy: runtime API ------------------------------------------- */

/* Send one command on a fresh connection and read the whole answer
 * (HAProxy closes the connection after answering, outside prompt mode). */
static enum ferr_code hap_cmd(struct traffic *t, const char *cmd,
                              struct buf *out, struct ferr *err)
{
    struct sockaddr_un sa;
    struct timeval tv = { IO_TIMEOUT_MS / 1000, 0 };
    enum ferr_code rc = FERR_OK;
    char chunk[16384];
    char eb[128];
    size_t off = 0;
    size_t len;
    char *line = xasprintf("%s\n", cmd);
    int fd;

    buf_reset(out);
    memset(&sa, 0, sizeof(sa));
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", t->unix_path);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv,
                             sizeof(tv)) < 0 ||
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "cannot reach haproxy at '%s': %s", t->unix_path,
                      errtext(errno, eb, sizeof(eb)));
        goto done;
    }
    len = strlen(line);
    while (off < len) {
        ssize_t w = send(fd, line + off, len - off, MSG_NOSIGNAL);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "cannot send to haproxy at '%s': %s",
                          t->unix_path, errtext(errno, eb, sizeof(eb)));
            goto done;
        }
        off += (size_t)w;
    }
    for (;;) {
        ssize_t r = recv(fd, chunk, sizeof(chunk), 0);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "no answer from haproxy at '%s' to '%s': %s",
                          t->unix_path, cmd,
                          errtext(errno, eb, sizeof(eb)));
            goto done;
        }
        if (r == 0)
            break;
        if (buf_add(out, chunk, (size_t)r)) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "haproxy's answer to '%s' is over %u bytes", cmd,
                          LIM_PROXY_ANSWER);
            goto done;
        }
    }
done:
    if (fd >= 0)
        close(fd);
    free(line);
    return rc;
}

/* A `set server` command: HAProxy answers nothing on success, except
 * for `addr`, which narrates the change ("IP changed from …", "no need
 * to change the addr, port changed from …"). */
static enum ferr_code hap_set(struct traffic *t, const char *cmd,
                              struct ferr *err)
{
    struct buf answer;
    enum ferr_code rc;
    struct span a;

    buf_init(&answer, LIM_PROXY_ANSWER);
    rc = hap_cmd(t, cmd, &answer, err);
    a = span_trim(buf_span(&answer));
    if (!rc && a.len > 0 &&
        !(strstr(cmd, " addr ") && strstr(buf_cstr(&answer), "changed"))) {
        char q[72];

        rc = ferr_set(err, FERR_IO, NULL, "haproxy refused '%s': %s", cmd,
                      span_quote(a.p, a.len, q));
    }
    buf_release(&answer);
    return rc;
}

/* Column indexes of `show stat` we use; -1 when absent. */
struct cols {
    long pxname, svname, scur, stot, status, weight, hrsp_5xx, req_tot,
        addr;
    size_t n;        /* columns in the header */
    bool last_empty; /* the header ends with ',' (an unnamed column) */
};

static void find_cols(struct span header, struct cols *c)
{
    struct span rest = header;
    struct span f;
    size_t i = 0;
    bool more = true;

    memset(c, 0xff, sizeof(*c)); /* every index -1 */
    while (more) {
        more = span_cut(rest, ',', &f, &rest);
        f = span_trim(f);
#define COL(name)                         \
    if (span_eq_cstr(f, #name) && c->name < 0) \
        c->name = (long)i;
        COL(pxname) COL(svname) COL(scur) COL(stot) COL(status)
        COL(weight) COL(hrsp_5xx) COL(req_tot) COL(addr)
#undef COL
        i++;
        c->last_empty = f.len == 0;
    }
    c->n = i;
}

static bool field_u64(const struct span *f, long idx, uint64_t *out)
{
    *out = 0;
    if (idx < 0 || f[idx].len == 0)
        return true;
    return span_to_u64(f[idx], out) == FERR_OK;
}

static void slots_free(struct slot *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(s[i].b.name);
        free(s[i].b.addr);
    }
    free(s);
}

static enum ferr_code parse_stat(const char *text, size_t len,
                                 const char *backend, struct slot **out,
                                 size_t *out_n, struct ferr *err)
{
    struct span rest = span_of(text, len);
    struct span line;
    struct span *f = NULL;
    struct slot *v = NULL;
    enum ferr_code rc = FERR_OK;
    size_t n = 0;
    size_t lineno = 0;
    struct cols c;
    char q[72];
    bool more = true;

    *out = NULL;
    *out_n = 0;
    memset(&c, 0, sizeof(c));
    while (more && !rc) {
        struct span fr;
        size_t nf = 0;
        bool fmore = true;
        uint64_t w;

        more = span_cut(rest, '\n', &line, &rest);
        lineno++;
        if (line.len && line.p[line.len - 1] == '\r')
            line.len--;
        if (lineno == 1) {
            if (!span_starts_with(line, SPAN_LIT("# "))) {
                rc = ferr_set(err, FERR_PARSE, NULL,
                              "haproxy's answer is not 'show stat' CSV: "
                              "'%s'",
                              span_quote(line.p, line.len, q));
                break;
            }
            find_cols(span_of(line.p + 2, line.len - 2), &c);
            if (c.pxname < 0 || c.svname < 0 || c.status < 0 ||
                c.weight < 0) {
                rc = ferr_set(err, FERR_PARSE, NULL,
                              "haproxy's 'show stat' header lacks pxname, "
                              "svname, status or weight");
                break;
            }
            f = xcalloc(c.n, sizeof(*f));
            continue;
        }
        if (line.len == 0)
            continue;
        fr = line;
        while (fmore && nf < c.n) {
            fmore = span_cut(fr, ',', &f[nf], &fr);
            nf++;
        }
        /* the header's trailing ',' makes an unnamed last column, which a
         * row may leave out; any other missing field is an error */
        if (nf < c.n - (c.last_empty ? 1 : 0)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "haproxy's 'show stat' line %zu has %zu fields, "
                          "not %zu",
                          lineno, nf, c.n);
            break;
        }
        for (; nf < c.n; nf++)
            f[nf] = span_of("", 0);
        if (!span_eq_cstr(f[c.pxname], backend) ||
            span_eq_cstr(f[c.svname], "FRONTEND") ||
            span_eq_cstr(f[c.svname], "BACKEND"))
            continue;
        if (n == LIM_PROXY_BACKENDS) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "haproxy backend '%s' has more than %u servers",
                          backend, LIM_PROXY_BACKENDS);
            break;
        }
        if (n % 16 == 0)
            v = xrealloc(v, (n + 16) * sizeof(*v));
        memset(&v[n], 0, sizeof(v[n]));
        if (!field_u64(f, c.weight, &w) || w > UINT_MAX ||
            !field_u64(f, c.scur, &v[n].b.active) ||
            !field_u64(f, c.hrsp_5xx, &v[n].b.errors_5xx) ||
            !field_u64(f, c.stot, &v[n].b.requests) ||
            f[c.svname].len == 0) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "haproxy's 'show stat' line %zu has a bad "
                          "number or no server name",
                          lineno);
            break;
        }
        if (c.req_tot >= 0 && f[c.req_tot].len > 0 &&
            !field_u64(f, c.req_tot, &v[n].b.requests)) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "haproxy's 'show stat' line %zu has a bad "
                          "req_tot",
                          lineno);
            break;
        }
        v[n].b.weight = (unsigned)w;
        v[n].b.name = xstrndup(f[c.svname].p, f[c.svname].len);
        v[n].b.addr = c.addr >= 0
                          ? xstrndup(f[c.addr].p, f[c.addr].len)
                          : xstrdup("");
        if (span_starts_with(f[c.status], SPAN_LIT("MAINT"))) {
            v[n].maint = true;
            set_state(&v[n].b, "maint");
        } else if (span_starts_with(f[c.status], SPAN_LIT("DRAIN")) ||
                   span_starts_with(f[c.status], SPAN_LIT("NOLB"))) {
            set_state(&v[n].b, "draining");
        } else if (span_starts_with(f[c.status], SPAN_LIT("DOWN"))) {
            set_state(&v[n].b, "down");
        } else {
            set_state(&v[n].b, "ready");
        }
        n++;
    }
    if (!rc && lineno <= 1 && c.n == 0)
        rc = ferr_set(err, FERR_PARSE, NULL, "haproxy's answer is empty");
    free(f);
    if (rc) {
        slots_free(v, n);
        return rc;
    }
    *out = v;
    *out_n = n;
    return FERR_OK;
}

enum ferr_code traffic_parse_haproxy_stat(const char *text, size_t len,
                                          const char *backend,
                                          struct traffic_backend **out,
                                          size_t *out_n, struct ferr *err)
{
    struct traffic_backend *v;
    struct slot *s;
    enum ferr_code rc;
    size_t n;

    *out = NULL;
    *out_n = 0;
    rc = parse_stat(text, len, backend, &s, &n, err);
    if (rc)
        return rc;
    v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++)
        v[i] = s[i].b;
    free(s);
    *out = v;
    *out_n = n;
    return FERR_OK;
}

static enum ferr_code hap_slots(struct traffic *t, struct slot **out,
                                size_t *out_n, struct ferr *err)
{
    char *cmd = xasprintf("show stat %s 4 -1", t->backend);
    struct buf answer;
    enum ferr_code rc;

    *out = NULL;
    *out_n = 0;
    buf_init(&answer, LIM_PROXY_ANSWER);
    rc = hap_cmd(t, cmd, &answer, err);
    if (!rc && span_starts_with(buf_span(&answer),
                                SPAN_LIT("No such proxy")))
        rc = ferr_set(err, FERR_IO, NULL, "haproxy has no backend '%s'",
                      t->backend);
    if (!rc)
        rc = parse_stat(buf_cstr(&answer), answer.len, t->backend, out,
                        out_n, err);
    if (!rc && *out_n == 0)
        rc = ferr_set(err, FERR_IO, NULL,
                      "haproxy has no backend '%s' with servers",
                      t->backend);
    buf_release(&answer);
    free(cmd);
    return rc;
}

static enum ferr_code hap_get(struct traffic *t,
                              struct traffic_backend **out, size_t *out_n,
                              struct ferr *err)
{
    struct traffic_backend *v;
    struct slot *s;
    enum ferr_code rc;
    size_t n;
    size_t k = 0;

    rc = hap_slots(t, &s, &n, err);
    if (rc)
        return rc;
    v = xcalloc(n + 1, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        if (s[i].maint) {
            free(s[i].b.name);
            free(s[i].b.addr);
            continue;
        }
        v[k++] = s[i].b;
    }
    free(s);
    *out = v;
    *out_n = k;
    return FERR_OK;
}

/* HAProxy weights are 0-256: scale larger relative weights down, keeping
 * every non-zero weight at least 1. */
static unsigned hap_weight(unsigned w, unsigned wmax)
{
    uint64_t x;

    if (wmax <= HAP_MAX_WEIGHT || w == 0)
        return w;
    x = (uint64_t)w * HAP_MAX_WEIGHT / wmax;
    return x ? (unsigned)x : 1;
}

static bool hap_addr(const char *addr, struct span *host, unsigned *port)
{
    struct span s = span_cstr(addr);

    if (!split_hostport(s, host, port))
        return false;
    if (host->len >= 2 && host->p[0] == '[' &&
        host->p[host->len - 1] == ']') {
        host->p++;
        host->len -= 2;
    }
    return host->len > 0;
}

static bool same_addr(const char *slot_addr, struct span host,
                      unsigned port)
{
    struct span h;
    unsigned p;

    return hap_addr(slot_addr, &h, &p) && p == port && span_eq(h, host);
}

static enum ferr_code hap_setf(struct traffic *t, struct ferr *err,
                               const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static enum ferr_code hap_setf(struct traffic *t, struct ferr *err,
                               const char *fmt, ...)
{
    enum ferr_code rc;
    struct buf cmd;
    va_list ap;

    buf_init(&cmd, 4096);
    va_start(ap, fmt);
    rc = buf_vaddf(&cmd, fmt, ap);
    va_end(ap);
    if (rc)
        rc = ferr_set(err, FERR_LIMIT, NULL, "haproxy command too long");
    else
        rc = hap_set(t, buf_cstr(&cmd), err);
    buf_release(&cmd);
    return rc;
}

static enum ferr_code hap_apply(struct traffic *t,
                                const struct traffic_backend *b, size_t n,
                                struct slot *s, size_t ns, struct ferr *err)
{
    size_t *pick = xcalloc(n + 1, sizeof(*pick));
    enum ferr_code rc = FERR_OK;
    unsigned wmax = 0;
    size_t i;
    size_t j;

    for (i = 0; i < n; i++)
        if (b[i].weight > wmax)
            wmax = b[i].weight;
    /* a slot already on the address keeps it (live ones first), then
     * free (MAINT) slots, then drained ones nobody uses any more */
    for (int pass = 0; pass < 4 && !rc; pass++) {
        for (i = 0; i < n; i++) {
            struct span host;
            unsigned port;

            if (pick[i])
                continue;
            (void)hap_addr(b[i].addr, &host, &port);
            for (j = 0; j < ns; j++) {
                bool ok;

                if (s[j].taken)
                    continue;
                if (pass == 0)
                    ok = !s[j].maint && same_addr(s[j].b.addr, host, port);
                else if (pass == 1)
                    ok = s[j].maint && same_addr(s[j].b.addr, host, port);
                else if (pass == 2)
                    ok = s[j].maint;
                else
                    ok = strcmp(s[j].b.state, "draining") == 0 &&
                         s[j].b.active == 0;
                if (ok)
                    break;
            }
            if (j == ns)
                continue;
            s[j].taken = true;
            pick[i] = j + 1;
        }
    }
    for (i = 0; i < n; i++)
        if (!pick[i]) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "haproxy backend '%s' has no free server slot "
                          "(declare more, e.g. server-template app 10 "
                          "127.0.0.1:1 disabled)",
                          t->backend);
            goto done;
        }
    /* the new set first, ready before anything drains */
    for (i = 0; i < n && !rc; i++) {
        struct slot *sl = &s[pick[i] - 1];
        const char *srv = sl->b.name;
        struct span host;
        unsigned port;

        (void)hap_addr(b[i].addr, &host, &port);
        if (!same_addr(sl->b.addr, host, port)) {
            if (!sl->maint)
                rc = hap_setf(t, err, "set server %s/%s state maint",
                              t->backend, srv);
            if (!rc)
                rc = hap_setf(t, err, "set server %s/%s addr %.*s port %u",
                              t->backend, srv, SPAN_ARGS(host), port);
        }
        if (!rc)
            rc = hap_setf(t, err, "set server %s/%s weight %u", t->backend,
                          srv, hap_weight(b[i].weight, wmax));
        if (!rc)
            rc = hap_setf(t, err, "set server %s/%s state ready",
                          t->backend, srv);
    }
    for (j = 0; j < ns && !rc; j++)
        if (!s[j].taken && !s[j].maint &&
            strcmp(s[j].b.state, "draining") != 0)
            rc = hap_setf(t, err, "set server %s/%s state drain",
                          t->backend, s[j].b.name);
done:
    free(pick);
    return rc;
}

static enum ferr_code hap_set_all(struct traffic *t,
                                  const struct traffic_backend *b, size_t n,
                                  struct ferr *err)
{
    struct slot *s = NULL;
    enum ferr_code rc;
    size_t ns = 0;
    char q[72];

    for (size_t i = 0; i < n; i++) {
        struct span host;
        unsigned port;

        if (!b[i].addr || !hap_addr(b[i].addr, &host, &port))
            return ferr_set(err, FERR_INVALID, NULL,
                            "backend address '%s' is not HOST:PORT",
                            b[i].addr ? span_quote(b[i].addr,
                                                   strlen(b[i].addr), q)
                                      : "");
        for (size_t k = 0; k < i; k++)
            if (strcmp(b[k].addr, b[i].addr) == 0)
                return ferr_set(err, FERR_INVALID, NULL,
                                "backend address '%s' is given twice",
                                b[i].addr);
    }
    rc = hap_slots(t, &s, &ns, err);
    if (rc)
        return rc;
    for (size_t j = 0; j < ns; j++)
        if (!safe_word(span_cstr(s[j].b.name), "")) {
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "haproxy server name '%s' is not a plain word",
                          span_quote(s[j].b.name, strlen(s[j].b.name), q));
            goto done;
        }
    rc = hap_apply(t, b, n, s, ns, err);
done:
    slots_free(s, ns);
    return rc;
}

/* ---- the interface ---------------------------------------------------- */

enum ferr_code traffic_set(struct traffic *t, const struct traffic_backend *b,
                           size_t n, struct ferr *err)
{
    if (n > LIM_PROXY_BACKENDS)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "more than %u backends", LIM_PROXY_BACKENDS);
    for (size_t i = 0; i < n; i++)
        if (!b[i].name || !b[i].addr)
            return ferr_set(err, FERR_INVALID, NULL,
                            "backend %zu has no name or address", i + 1);
    if (t->kind == DRV_FERRY)
        return ferry_set(t, b, n, err);
    return hap_set_all(t, b, n, err);
}

enum ferr_code traffic_get(struct traffic *t, struct traffic_backend **out,
                           size_t *out_n, struct ferr *err)
{
    *out = NULL;
    *out_n = 0;
    if (t->kind == DRV_FERRY)
        return ferry_get(t, out, out_n, err);
    return hap_get(t, out, out_n, err);
}

enum ferr_code traffic_wait_drained(struct traffic *t,
                                    const char *const *addrs, size_t n,
                                    unsigned timeout_ms, struct ferr *err)
{
    uint64_t start;
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    start = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    for (;;) {
        struct traffic_backend *b;
        const char *busy = NULL;
        uint64_t busy_n = 0;
        enum ferr_code rc;
        uint64_t now;
        size_t nb;

        rc = traffic_get(t, &b, &nb, err);
        if (rc)
            return rc;
        for (size_t i = 0; i < n && !busy; i++)
            for (size_t k = 0; k < nb; k++)
                if (strcmp(b[k].addr, addrs[i]) == 0 && b[k].active > 0) {
                    busy = addrs[i];
                    busy_n = b[k].active;
                    break;
                }
        traffic_backends_free(b, nb);
        if (!busy)
            return FERR_OK;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        now = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
        if (now - start >= timeout_ms)
            return ferr_set(err, FERR_IO, NULL,
                            "backend %s still has %" PRIu64
                            " requests in flight after %u ms",
                            busy, busy_n, timeout_ms);
        /* the proxies offer no drain notification: the contract is a
         * 100 ms poll, and this runs in a deploy step, not the daemon */
        (void)poll(NULL, 0, DRAIN_POLL_MS);
    }
}
