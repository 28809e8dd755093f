/* dash: the web dashboard's core — its route table, sign-in (an API
 * token exchanged for a signed, stateless session cookie), CSRF checks,
 * security headers, HTML error pages, and the runs, run (job graph,
 * steps, reports, artifacts) and log pages with live follow over SSE.
 * It keeps no session state (the cookie carries it and is checked on
 * every request) and does not render the CD pages: dashcd.c does. */
#include "server/dash.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "exec/artifact.h"
#include "exec/workspace.h"
#include "pipeline/wf.h"
#include "server/route.h"
#include "util/crypto.h"
#include "util/diag.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/span.h"
#include "util/xalloc.h"
#include "web/dag.h"
#include "web/html.h"

#define SESSION_COOKIE  "ferry_session"
#define LOGIN_COOKIE    "ferry_login"
#define SESSION_SECONDS (12 * 3600)
#define LOGIN_SECONDS   3600
#define RUNS_PER_PAGE   50
#define LOG_READ_MAX    ((size_t)64 << 20) /* what the log page reads */
#define LOG_HTML_MAX    ((size_t)LIM_WEB_PAGE - ((size_t)1 << 20))
#define COOKIE_MAX      200  /* longest cookie value we look at */
#define NEXT_MAX        2048 /* longest ?next= we keep */

static const char csp[] =
    "default-src 'self'; script-src 'self'; style-src 'self' "
    "'unsafe-inline'; img-src 'self' data:; object-src 'none'; "
    "base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/* ---------- the key that signs sessions ---------- */

/* HOME/web.key, loaded (or made) at first use; one server per process. */
static struct {
    const struct server *s;
    struct crypto_key key;
} webkey;

static const unsigned char *key_of(struct server *s)
{
    char *path;
    struct ferr err;

    if (webkey.s == s)
        return webkey.key.k;
    ferr_clear(&err);
    path = xasprintf("%s/web.key", s->home);
    if (crypto_key_load(path, true, &webkey.key, &err)) {
        log_err("no web key path='%s' err='%s'", path, err.msg);
        free(path);
        return NULL;
    }
    free(path);
    webkey.s = s;
    return webkey.key.k;
}

static void hex_of(const unsigned char *p, size_t n, char *out)
{
    static const char hex[] = "0123456789abcdef";

    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hex[p[i] >> 4];
        out[2 * i + 1] = hex[p[i] & 15];
    }
    out[2 * n] = '\0';
}

/* hex(HMAC-SHA256(key, @label @value)) into @out. */
static void mac_hex(const unsigned char *key, const char *label,
                    const char *value, char out[65])
{
    unsigned char mac[32];
    char *msg = xasprintf("%s%s", label, value);

    crypto_hmac_sha256(key, 32, msg, strlen(msg), mac);
    hex_of(mac, sizeof(mac), out);
    free(msg);
}

/* ---------- small helpers ---------- */

/* A request's own state beside the handlers' context. */
struct dreq {
    struct dash_ctx d;            /* first: handlers get &q->d */
    char session[COOKIE_MAX + 1]; /* the session cookie, when used */
    char csrf[65];
    bool by_cookie; /* signed in by cookie (not bearer) */
};

static struct dreq *dreq_of(struct dash_ctx *d)
{
    return (struct dreq *)d;
}

/* Cookie @name of the request into @out (at most COOKIE_MAX bytes). */
static bool cookie_get(struct httpd_req *req, const char *name, char *out)
{
    const char *h = httpd_req_header(req, "Cookie");
    size_t nl = strlen(name);

    while (h && *h) {
        const char *end;
        size_t len;

        while (*h == ' ' || *h == ';')
            h++;
        end = strchr(h, ';');
        len = end ? (size_t)(end - h) : strlen(h);
        if (len > nl && strncmp(h, name, nl) == 0 && h[nl] == '=') {
            size_t vl = len - nl - 1;

            while (vl && h[nl + 1 + vl - 1] == ' ')
                vl--;
            if (vl == 0 || vl > COOKIE_MAX)
                return false;
            memcpy(out, h + nl + 1, vl);
            out[vl] = '\0';
            return true;
        }
        h = end;
    }
    return false;
}

static bool is_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return true;
}

static bool over_tls(struct httpd_req *req)
{
    /* httpd serves plain HTTP only; a TLS front (if any) terminates
     * before it, and we do not trust its headers for this */
    (void)req;
    return false;
}

static void set_cookie(struct httpd_req *req, const char *name,
                       const char *value, const char *path, long max_age)
{
    char *c =
        xasprintf("%s=%s; Path=%s; Max-Age=%ld; HttpOnly; "
                  "SameSite=Strict%s",
                  name, value, path, max_age, over_tls(req) ? "; Secure" : "");

    httpd_req_add_header(req, "Set-Cookie", c);
    free(c);
}

static const char *shortref(const char *ref)
{
    if (!ref)
        return "";
    if (strncmp(ref, "refs/heads/", 11) == 0)
        return ref + 11;
    if (strncmp(ref, "refs/tags/", 10) == 0)
        return ref + 10;
    return ref;
}

static bool one_of(const char *v, const char *const *set)
{
    for (; *set; set++)
        if (strcmp(v, *set) == 0)
            return true;
    return false;
}

static const char *const run_statuses[] = {"queued", "waiting", "running",
                                           "completed", NULL};
static const char *const conclusions[] = {"success", "failure", "cancelled",
                                          "skipped", NULL};

static int64_t span_ms(int64_t from, int64_t to)
{
    return from > 0 && to >= from ? to - from : -1;
}

/* ---------- answers ---------- */

/* Put @head in front of @body's contents, in @body's own storage (no
 * second copy of a large page), leaving room for the layout's end; false
 * when @body's max does not allow. */
static bool prepend(struct buf *body, const struct buf *head)
{
    if (buf_grow(body, head->len + 256))
        return false;
    memmove(body->p + head->len, body->p, body->len + 1);
    memcpy(body->p, head->p, head->len);
    body->len += head->len;
    return true;
}

void dash_page(struct dash_ctx *d, int status, const char *title,
               const char *nav, struct buf *body)
{
    struct buf head;
    struct html_page p;
    bool signed_in = d->api.tok.id != 0;
    bool too_big = html_full(body);
    size_t max = body->max;

    memset(&p, 0, sizeof(p));
    p.title = title;
    p.nav = nav;
    p.user = signed_in ? (d->api.tok.name ? d->api.tok.name : "") : NULL;
    p.role = store_role_name(d->api.tok.role);
    p.csrf = signed_in && d->csrf && *d->csrf ? d->csrf : NULL;
    buf_init(&head, LIM_WEB_PAGE);
    html_page_begin(&head, &p);
    if (!too_big && !prepend(body, &head)) {
        /* the handler's buffer is too small for the layout: copy */
        too_big = buf_add(&head, body->p ? body->p : "", body->len) != FERR_OK;
        buf_release(body);
        *body = head;
        buf_init(&head, LIM_WEB_PAGE);
    }
    html_page_end(body);
    too_big = too_big || html_full(body);
    if (too_big) {
        static const char msg[] = "<!DOCTYPE html><title>Too large</title>"
                                  "<p>This page is too large to show.</p>\n";

        log_err("page too large path='%s'", httpd_req_path(d->api.req));
        httpd_respond(d->api.req, 500, "text/html; charset=utf-8", msg,
                      sizeof(msg) - 1);
    } else {
        httpd_respond(d->api.req, status, "text/html; charset=utf-8", body->p,
                      body->len);
    }
    buf_release(&head);
    buf_release(body);
    buf_init(body, max);
}

static const char *status_title(int status)
{
    switch (status) {
    case 400: return "Bad request";
    case 401: return "Sign-in needed";
    case 403: return "Not allowed";
    case 404: return "Not found";
    case 405: return "Method not allowed";
    case 409: return "Conflict";
    case 413: return "Too large";
    case 415: return "Unsupported form";
    case 422: return "Cannot do that";
    case 503: return "Unavailable";
    default: return status >= 500 ? "Internal error" : "Error";
    }
}

void dash_error(struct dash_ctx *d, int status, const char *fmt, ...)
{
    struct buf msg;
    struct buf b;
    va_list ap;

    buf_init(&msg, 4096);
    va_start(ap, fmt);
    if (buf_vaddf(&msg, fmt, ap))
        buf_reset(&msg);
    va_end(ap);
    buf_init(&b, 16384);
    html_add(&b, "<div class=\"card err\"><p>");
    html_escn(&b, buf_cstr(&msg), msg.len);
    html_add(&b, "</p></div>");
    if (d->api.tok.id)
        html_add(&b, "<p><a href=\"/runs\">Back to the runs</a></p>");
    else if (status != 401)
        html_add(&b, "<p><a href=\"/login\">Sign in</a></p>");
    dash_page(d, status, status_title(status), NULL, &b);
    buf_release(&msg);
}

void dash_redirect(struct dash_ctx *d, const char *location)
{
    struct buf b;

    buf_init(&b, 8192);
    httpd_req_add_header(d->api.req, "Location", location);
    html_add(&b, "<!DOCTYPE html><title>See other</title><a href=\"");
    html_esc(&b, location);
    html_add(&b, "\">continue</a>\n");
    httpd_respond(d->api.req, 303, "text/html; charset=utf-8", b.p, b.len);
    buf_release(&b);
}

const char *dash_query(struct dash_ctx *d, const char *name)
{
    return httpd_req_query(d->api.req, name);
}

const char *dash_form(struct dash_ctx *d, const char *name)
{
    return d->form ? json_string_value(json_object_get(d->form, name)) : NULL;
}

bool dash_role(struct dash_ctx *d, enum store_role need)
{
    if (d->api.tok.role >= need)
        return true;
    dash_error(d, 403, "this needs the %s role (you are %s)",
               store_role_name(need), store_role_name(d->api.tok.role));
    return false;
}

/* Capture @i as an id; false after answering 404. */
static bool cap_id(struct dash_ctx *d, size_t i, int64_t *out)
{
    if (i < d->api.ncaps && route_id(d->api.caps[i], out))
        return true;
    dash_error(d, 404, "no such id '%s'",
               i < d->api.ncaps ? d->api.caps[i] : "");
    return false;
}

static bool load_run(struct dash_ctx *d, int64_t id, struct store_run *out)
{
    struct ferr err;

    ferr_clear(&err);
    memset(out, 0, sizeof(*out));
    if (store_run_get(d->api.s->store, id, out, &err) == FERR_OK)
        return true;
    if (err.code == FERR_NOTFOUND) {
        dash_error(d, 404, "no run %" PRId64, id);
    } else {
        log_err("cannot read run=%" PRId64 " err='%s'", id, err.msg);
        dash_error(d, 500, "cannot read run %" PRId64 " now", id);
    }
    return false;
}

/* ---------- who is asking ---------- */

enum auth { AUTH_NONE, AUTH_OK, AUTH_BAD, AUTH_DOWN };

/* A token as typed or sent (spaces around it are dropped). */
static enum auth token_check(struct dash_ctx *d, const char *text)
{
    char hash[65];
    struct ferr err;
    size_t len;

    while (*text == ' ' || *text == '\t')
        text++;
    len = strlen(text);
    while (len && (text[len - 1] == ' ' || text[len - 1] == '\t' ||
                   text[len - 1] == '\r' || text[len - 1] == '\n'))
        len--;
    if (len != 64)
        return AUTH_BAD;
    crypto_sha256_hex(text, len, hash);
    ferr_clear(&err);
    store_token_release(&d->api.tok);
    memset(&d->api.tok, 0, sizeof(d->api.tok));
    if (store_token_find(d->api.s->store, hash, &d->api.tok, &err) == FERR_OK)
        return AUTH_OK;
    memset(&d->api.tok, 0, sizeof(d->api.tok));
    if (err.code == FERR_NOTFOUND)
        return AUTH_BAD;
    log_err("token lookup failed err='%s'", err.msg);
    return AUTH_DOWN;
}

/* The live (not revoked) token @id into the context. */
static enum auth token_by_id(struct dash_ctx *d, int64_t id)
{
    struct store_token *v = NULL;
    size_t n = 0;
    struct ferr err;
    enum auth a = AUTH_BAD;

    ferr_clear(&err);
    if (store_token_list(d->api.s->store, &v, &n, &err)) {
        log_err("token lookup failed err='%s'", err.msg);
        return AUTH_DOWN;
    }
    for (size_t i = 0; i < n; i++)
        if (v[i].id == id && !v[i].revoked) {
            d->api.tok = v[i];
            v[i].name = NULL; /* moved */
            a = AUTH_OK;
            break;
        }
    store_tokens_free(v, n);
    return a;
}

/* "ID.EXPIRY.MAC" for token @id until @exp (Unix seconds). */
static void session_value(const unsigned char *key, int64_t id, int64_t exp,
                          char *out, size_t outsz)
{
    char body[64];
    char mac[65];

    snprintf(body, sizeof(body), "%" PRId64 ".%" PRId64, id, exp);
    mac_hex(key, "ferry-session:", body, mac);
    snprintf(out, outsz, "%s.%s", body, mac);
}

/* Check the session cookie's signature and expiry; the token id. */
static int64_t session_parse(const unsigned char *key, const char *v,
                             int64_t now_s)
{
    const char *d1 = strchr(v, '.');
    const char *d2 = d1 ? strchr(d1 + 1, '.') : NULL;
    uint64_t id = 0, exp = 0;
    char want[COOKIE_MAX + 1];

    if (!d2 || strlen(d2 + 1) != 64 || !is_hex(d2 + 1, 64) ||
        span_to_u64(span_of(v, (size_t)(d1 - v)), &id) ||
        span_to_u64(span_of(d1 + 1, (size_t)(d2 - d1 - 1)), &exp) || id < 1 ||
        id > INT64_MAX || exp > INT64_MAX || (int64_t)exp <= now_s)
        return 0;
    session_value(key, (int64_t)id, (int64_t)exp, want, sizeof(want));
    if (strlen(want) != strlen(v) || !crypto_equal(want, v, strlen(v)))
        return 0;
    return (int64_t)id;
}

static enum auth authenticate(struct dreq *q)
{
    struct dash_ctx *d = &q->d;
    const char *h = httpd_req_header(d->api.req, "Authorization");
    const unsigned char *key;
    int64_t id;
    enum auth a;

    if (h) {
        if (strncasecmp(h, "Bearer ", 7) != 0)
            return AUTH_BAD;
        return token_check(d, h + 7);
    }
    if (!cookie_get(d->api.req, SESSION_COOKIE, q->session))
        return AUTH_NONE;
    key = key_of(d->api.s);
    if (!key)
        return AUTH_DOWN;
    id = session_parse(key, q->session, server_now_ms(d->api.s) / 1000);
    if (!id)
        return AUTH_BAD;
    a = token_by_id(d, id);
    if (a == AUTH_OK) {
        q->by_cookie = true;
        mac_hex(key, "ferry-csrf:", q->session, q->csrf);
        d->csrf = q->csrf;
    }
    return a;
}

/* A local path to go back to after signing in, else "/". */
static const char *safe_next(const char *n)
{
    if (!n || n[0] != '/' || n[1] == '/' || n[1] == '\\' ||
        strlen(n) > NEXT_MAX || strncmp(n, "/login", 6) == 0 ||
        strncmp(n, "/logout", 7) == 0)
        return "/";
    for (const unsigned char *p = (const unsigned char *)n; *p; p++)
        if (*p <= 0x20 || *p == 0x7f || *p == '\\')
            return "/";
    return n;
}

/* The query parameters the pages read, for ?next= (httpd does not give
 * the raw query). */
static const char *const page_params[] = {
    "repo",   "branch",      "status", "conclusion", "cursor", "job", "attempt",
    "window", "environment", "env",    "kind",       "limit",  NULL};

static void login_redirect(struct dash_ctx *d)
{
    struct buf next;
    struct buf loc;
    char sep = '?';

    buf_init(&next, NEXT_MAX * 2);
    buf_init(&loc, NEXT_MAX * 8);
    html_add(&next, httpd_req_path(d->api.req));
    for (size_t i = 0; page_params[i]; i++) {
        const char *v = httpd_req_query(d->api.req, page_params[i]);

        if (!v)
            continue;
        html_addf(&next, "%c%s=", sep, page_params[i]);
        html_urlenc(&next, v);
        sep = '&';
    }
    html_add(&loc, "/login");
    if (strcmp(buf_cstr(&next), "/") != 0 && !html_full(&next) &&
        safe_next(buf_cstr(&next))[1]) {
        html_add(&loc, "?next=");
        html_urlenc(&loc, buf_cstr(&next));
    }
    dash_redirect(d, html_full(&loc) ? "/login" : buf_cstr(&loc));
    buf_release(&next);
    buf_release(&loc);
}

/* ---------- sign in and out ---------- */

static void login_form(struct dash_ctx *d, int status, const char *next,
                       const char *problem)
{
    const unsigned char *key = key_of(d->api.s);
    char nonce[COOKIE_MAX + 1];
    char csrf[65];
    unsigned char raw[16];
    struct buf b;

    if (!key) {
        dash_error(d, 500, "the dashboard's key is not available");
        return;
    }
    /* login CSRF: the form carries a MAC of a nonce kept in a cookie */
    if (!cookie_get(d->api.req, LOGIN_COOKIE, nonce) || strlen(nonce) != 32 ||
        !is_hex(nonce, 32)) {
        if (crypto_random(raw, sizeof(raw))) {
            dash_error(d, 500, "no randomness for the sign-in form");
            return;
        }
        hex_of(raw, sizeof(raw), nonce);
        set_cookie(d->api.req, LOGIN_COOKIE, nonce, "/login", LOGIN_SECONDS);
    }
    mac_hex(key, "ferry-login:", nonce, csrf);
    buf_init(&b, 65536);
    if (problem) {
        html_add(&b, "<div class=\"card err\" id=\"login-error\"><p>");
        html_esc(&b, problem);
        html_add(&b, "</p></div>");
    }
    html_add(&b, "<form class=\"login card\" method=\"post\" "
                 "action=\"/login\"><input type=\"hidden\" name=\"csrf\" "
                 "value=\"");
    html_esc(&b, csrf);
    html_add(&b, "\"><input type=\"hidden\" name=\"next\" value=\"");
    html_esc(&b, next);
    html_add(&b, "\"><label for=\"token\">API token</label>"
                 "<input type=\"password\" id=\"token\" name=\"token\" "
                 "autocomplete=\"current-password\" spellcheck=\"false\" "
                 "required autofocus>"
                 "<p class=\"muted\">The token <code>ferry serve --init</code> "
                 "printed, or one from <code>ferry token create</code>. The "
                 "browser keeps a signed session for 12 hours, not the "
                 "token.</p><button class=\"primary\" type=\"submit\">Sign in"
                 "</button></form>");
    dash_page(d, status, "Sign in to ferry", NULL, &b);
}

static void page_login(struct dash_ctx *d)
{
    struct dreq *q = dreq_of(d);
    const char *next = safe_next(dash_query(d, "next"));

    if (authenticate(q) == AUTH_OK) {
        dash_redirect(d, next);
        return;
    }
    store_token_release(&d->api.tok);
    memset(&d->api.tok, 0, sizeof(d->api.tok));
    d->csrf = NULL;
    login_form(d, 200, next, NULL);
}

static void post_login(struct dash_ctx *d)
{
    const unsigned char *key = key_of(d->api.s);
    const char *next = safe_next(dash_form(d, "next"));
    const char *token = dash_form(d, "token");
    const char *csrf = dash_form(d, "csrf");
    char nonce[COOKIE_MAX + 1];
    char want[65];
    char value[160];
    char target[32];
    enum auth a;

    if (!key) {
        dash_error(d, 500, "the dashboard's key is not available");
        return;
    }
    if (!cookie_get(d->api.req, LOGIN_COOKIE, nonce) || !csrf) {
        dash_error(d, 403,
                   "the sign-in form has expired or did not come "
                   "from this server: load it again");
        return;
    }
    mac_hex(key, "ferry-login:", nonce, want);
    if (strlen(csrf) != 64 || !crypto_equal(csrf, want, 64)) {
        dash_error(d, 403,
                   "the sign-in form has expired or did not come "
                   "from this server: load it again");
        return;
    }
    a = token ? token_check(d, token) : AUTH_BAD;
    if (a == AUTH_DOWN) {
        dash_error(d, 503, "cannot check tokens now");
        return;
    }
    if (a != AUTH_OK) {
        log_warn("web sign-in refused reason='bad token'");
        login_form(d, 401, next,
                   "That token is not valid (or it was "
                   "revoked).");
        return;
    }
    session_value(key, d->api.tok.id,
                  server_now_ms(d->api.s) / 1000 + SESSION_SECONDS, value,
                  sizeof(value));
    set_cookie(d->api.req, SESSION_COOKIE, value, "/", SESSION_SECONDS);
    set_cookie(d->api.req, LOGIN_COOKIE, "", "/login", 0);
    snprintf(target, sizeof(target), "token/%" PRId64, d->api.tok.id);
    api_audit(&d->api, "web.login", target, NULL);
    dash_redirect(d, next);
}

static void post_logout(struct dash_ctx *d)
{
    set_cookie(d->api.req, SESSION_COOKIE, "", "/", 0);
    dash_redirect(d, "/login");
}

/* ---------- static files ---------- */

static const char app_js[] =
    "/* ferry dashboard: live logs and live run pages over Server-Sent\n"
    " * Events.  Plain JavaScript; every page works without it. */\n"
    "(function () {\n"
    "  'use strict';\n"
    "  function el(tag, cls, text) {\n"
    "    var e = document.createElement(tag);\n"
    "    if (cls) e.className = cls;\n"
    "    if (text !== undefined && text !== null) e.textContent = text;\n"
    "    return e;\n"
    "  }\n"
    "  function strip(s) {\n"
    "    return s\n"
    "      .replace(/\\x1b\\[[\\x30-\\x3f]*[\\x20-\\x2f]*[\\x40-\\x7e]/g, '')\n"
    "      .replace(/\\x1b\\][^\\x07\\x1b]*(\\x07|\\x1b\\\\)?/g, '')\n"
    "      .replace(/\\x1b./g, '');\n"
    "  }\n"
    "  function badgeClass(word) {\n"
    "    return /^[a-z0-9_-]{1,32}$/.test(word || '') ? word : 'other';\n"
    "  }\n"
    "  function setBadge(b, status, conclusion) {\n"
    "    var w = conclusion || status || 'unknown';\n"
    "    b.textContent = w;\n"
    "    b.className = 'badge b-' + badgeClass(w);\n"
    "  }\n"
    "  function atBottom() {\n"
    "    return window.innerHeight + window.scrollY >=\n"
    "      document.documentElement.scrollHeight - 60;\n"
    "  }\n"
    "  function follow(view) {\n"
    "    var status = document.getElementById('live-status');\n"
    "    var single = view.getAttribute('data-job');\n"
    "    var es = new EventSource(view.getAttribute('data-events'));\n"
    "    var hint = document.getElementById('refresh-hint');\n"
    "    function say(t, stale) {\n"
    "      if (status) status.textContent = t;\n"
    "      if (hint) hint.hidden = !stale;\n"
    "    }\n"
    "    function logOf(job, name) {\n"
    "      var log = view.querySelector('.log[data-job=\"' + job + '\"]');\n"
    "      if (log || single) return log;\n"
    "      var sec = el('section', 'job');\n"
    "      sec.setAttribute('data-job', job);\n"
    "      var h = el('h2');\n"
    "      var b = el('span', 'badge b-running', 'running');\n"
    "      h.appendChild(b);\n"
    "      h.appendChild(document.createTextNode(' ' + (name || 'ferry')));\n"
    "      log = el('div', 'log');\n"
    "      log.setAttribute('data-job', job);\n"
    "      sec.appendChild(h);\n"
    "      sec.appendChild(log);\n"
    "      view.appendChild(sec);\n"
    "      return log;\n"
    "    }\n"
    "    function openGroup(log) {\n"
    "      if (log.fGroup === undefined) {\n"
    "        var last = log.lastElementChild;\n"
    "        log.fGroup = log.getAttribute('data-group-open') === '1' &&\n"
    "          last && last.tagName === 'DETAILS' ? last : null;\n"
    "      }\n"
    "      return log.fGroup;\n"
    "    }\n"
    "    say('Following live\\u2026');\n"
    "    es.addEventListener('line', function (ev) {\n"
    "      var m = JSON.parse(ev.data);\n"
    "      var log = logOf(m.job, m.job_name);\n"
    "      if (!log) return;\n"
    "      var down = atBottom();\n"
    "      var empty = log.querySelector('.empty');\n"
    "      if (empty) empty.remove();\n"
    "      var text = strip(m.text || '');\n"
    "      var g = openGroup(log);\n"
    "      if (text.indexOf('::group::') === 0) {\n"
    "        var d = el('details');\n"
    "        d.appendChild(el('summary', null, text.substring(9)));\n"
    "        log.appendChild(d);\n"
    "        log.fGroup = d;\n"
    "      } else if (text === '::endgroup::') {\n"
    "        log.fGroup = null;\n"
    "      } else {\n"
    "        var line = el('div', 'ln');\n"
    "        var n = (ev.lastEventId || '').split('.')[1];\n"
    "        if (n) line.id = 'l' + n;\n"
    "        var ts = (m.t || '').substring(11, 19);\n"
    "        line.appendChild(el('span', 'ts', ts));\n"
    "        line.appendChild(document.createTextNode(text));\n"
    "        (g || log).appendChild(line);\n"
    "      }\n"
    "      if (down)\n"
    "        window.scrollTo(0, document.documentElement.scrollHeight);\n"
    "    });\n"
    "    es.addEventListener('job', function (ev) {\n"
    "      var m = JSON.parse(ev.data);\n"
    "      var log = logOf(m.job, m.name);\n"
    "      if (!log) return;\n"
    "      var b = log.parentNode.querySelector('h2 .badge');\n"
    "      if (b) setBadge(b, m.status, m.conclusion);\n"
    "    });\n"
    "    es.addEventListener('end', function (ev) {\n"
    "      var m = JSON.parse(ev.data);\n"
    "      es.close();\n"
    "      var c = m.conclusion ? ': ' + m.conclusion : '';\n"
    "      say('The run completed' + c + '.');\n"
    "      var rb = document.getElementById('run-badge');\n"
    "      if (rb) setBadge(rb, m.status, m.conclusion);\n"
    "      view.setAttribute('data-ended', m.conclusion || 'completed');\n"
    "    });\n"
    "    es.onerror = function () {\n"
    "      if (es.readyState === EventSource.CLOSED)\n"
    "        say('Disconnected.', true);\n"
    "      else say('Reconnecting\\u2026');\n"
    "    };\n"
    "    es.onopen = function () { say('Following live\\u2026'); };\n"
    "  }\n"
    "  function watchRun(node) {\n"
    "    var es = new EventSource(node.getAttribute('data-events'));\n"
    "    var timer = null;\n"
    "    function reload() {\n"
    "      if (timer) return;\n"
    "      timer = setTimeout(function () {\n"
    "        es.close();\n"
    "        location.reload();\n"
    "      }, 800);\n"
    "    }\n"
    "    es.addEventListener('job', reload);\n"
    "    es.addEventListener('end', function () { es.close(); reload(); });\n"
    "  }\n"
    "  document.addEventListener('DOMContentLoaded', function () {\n"
    "    if (!window.EventSource) return;\n"
    "    var view = document.getElementById('logview');\n"
    "    if (view && view.getAttribute('data-events')) follow(view);\n"
    "    var run = document.getElementById('run-live');\n"
    "    if (run && run.getAttribute('data-events')) watchRun(run);\n"
    "  });\n"
    "})();\n";

static void static_js(struct dash_ctx *d)
{
    httpd_respond(d->api.req, 200, "text/javascript; charset=utf-8", app_js,
                  sizeof(app_js) - 1);
}

/* ---------- the runs list ---------- */

static void filter_select(struct buf *b, const char *name, const char *label,
                          const char *const *opts, const char *cur)
{
    html_addf(b,
              "<label>%s<select name=\"%s\"><option value=\"\">any"
              "</option>",
              label, name);
    for (size_t i = 0; opts[i]; i++) {
        html_addf(b, "<option%s>",
                  cur && strcmp(cur, opts[i]) == 0 ? " selected" : "");
        html_esc(b, opts[i]);
        html_add(b, "</option>");
    }
    html_add(b, "</select></label>");
}

/* "repo=..&branch=.." of the filters set, each followed by '&'. */
static void filter_query(struct buf *b, const struct store_run_filter *f)
{
    const char *names[] = {"repo", "branch", "status", "conclusion"};
    const char *vals[] = {f->repo, f->ref, f->status, f->conclusion};

    for (size_t i = 0; i < 4; i++) {
        if (!vals[i])
            continue;
        html_addf(b, "%s=", names[i]);
        html_urlenc(b, vals[i]);
        html_add(b, "&amp;");
    }
}

/* The workflow's name, else its file's name. */
static const char *wf_name(const struct store_run *r)
{
    const char *slash;

    if (r->workflow_name && *r->workflow_name)
        return r->workflow_name;
    if (!r->workflow)
        return "";
    slash = strrchr(r->workflow, '/');
    return slash && slash[1] ? slash + 1 : r->workflow;
}

static void run_title(struct buf *b, const struct store_run *r)
{
    html_esc(b, wf_name(r));
    html_addf(b, " #%" PRId64, r->number);
}

static void run_duration(struct buf *b, const struct store_run *r, int64_t now)
{
    if (r->started_at > 0 && r->finished_at > 0) {
        html_duration(b, span_ms(r->started_at, r->finished_at));
    } else if (r->started_at > 0 && strcmp(r->status, "completed") != 0) {
        html_duration(b, span_ms(r->started_at, now));
        html_add(b, "\xe2\x80\xa6");
    } else {
        html_add(b, "\xe2\x80\x94");
    }
}

static void run_row(struct buf *b, const struct store_run *r, int64_t now)
{
    html_addf(b, "<tr data-run=\"%" PRId64 "\"><td>", r->id);
    html_badge(b, r->status, r->conclusion);
    html_addf(b, "</td><td><a href=\"/runs/%" PRId64 "\">", r->id);
    run_title(b, r);
    html_add(b, "</a><div class=\"muted\">");
    html_esc(b, r->event);
    if (r->actor && *r->actor) {
        html_add(b, " by ");
        html_esc(b, r->actor);
    }
    html_add(b, "</div></td><td>");
    html_esc(b, r->repo);
    html_add(b, "</td><td>");
    html_esc(b, shortref(r->ref));
    html_add(b, "</td><td><code>");
    if (r->sha)
        html_escn(b, r->sha, strnlen(r->sha, 7));
    html_add(b, "</code></td><td>");
    html_time_ms(b, r->created_at);
    html_add(b, "</td><td>");
    run_duration(b, r, now);
    html_add(b, "</td></tr>");
}

/* A filter value: NULL when absent or empty; false after answering 400
 * for a bad one. */
static bool filter_arg(struct dash_ctx *d, const char *name,
                       const char *const *set, size_t max, const char **out)
{
    const char *v = dash_query(d, name);

    *out = NULL;
    if (!v || !*v)
        return true;
    if (strlen(v) > max || (set && !one_of(v, set))) {
        dash_error(d, 400, "bad '%s' filter", name);
        return false;
    }
    *out = v;
    return true;
}

static void page_runs(struct dash_ctx *d)
{
    struct store_run_filter f;
    struct store_run *v = NULL;
    struct store_repo *repos = NULL;
    size_t n = 0, nrepos = 0;
    bool more = false;
    const char *cur = dash_query(d, "cursor");
    struct ferr err;
    struct buf b;
    int64_t now = server_now_ms(d->api.s);
    uint64_t x;

    ferr_clear(&err);
    memset(&f, 0, sizeof(f));
    if (!filter_arg(d, "repo", NULL, LIM_NAME, &f.repo) ||
        !filter_arg(d, "branch", NULL, LIM_REF_BYTES, &f.ref) ||
        !filter_arg(d, "status", run_statuses, 16, &f.status) ||
        !filter_arg(d, "conclusion", conclusions, 16, &f.conclusion))
        return;
    f.limit = RUNS_PER_PAGE;
    if (cur && *cur) {
        if (span_to_u64(span_cstr(cur), &x) || x < 1 || x > INT64_MAX) {
            dash_error(d, 400, "bad 'cursor'");
            return;
        }
        f.before_id = (int64_t)x;
    }
    if (store_run_list(d->api.s->store, &f, &v, &n, &more, &err)) {
        log_err("cannot list runs err='%s'", err.msg);
        dash_error(d, 500, "cannot list the runs now");
        return;
    }
    ferr_clear(&err);
    if (store_repo_list(d->api.s->store, &repos, &nrepos, &err))
        log_warn("cannot list repos err='%s'", err.msg);
    buf_init(&b, LIM_WEB_PAGE);
    html_add(&b, "<form class=\"filters\" method=\"get\" action=\"/runs\">"
                 "<label>Repository<select name=\"repo\"><option value=\"\">"
                 "any</option>");
    for (size_t i = 0; i < nrepos; i++) {
        html_add(&b, "<option");
        if (f.repo && strcmp(f.repo, repos[i].name) == 0)
            html_add(&b, " selected");
        html_add(&b, ">");
        html_esc(&b, repos[i].name);
        html_add(&b, "</option>");
    }
    html_add(&b, "</select></label><label>Branch<input name=\"branch\" "
                 "size=\"14\" value=\"");
    html_esc(&b, f.ref ? f.ref : "");
    html_add(&b, "\"></label>");
    filter_select(&b, "status", "Status", run_statuses, f.status);
    filter_select(&b, "conclusion", "Conclusion", conclusions, f.conclusion);
    html_add(&b, "<button type=\"submit\">Filter</button>"
                 "<a href=\"/runs\">clear</a></form>");
    if (!n) {
        html_add(&b, "<p class=\"note\" id=\"no-runs\">");
        html_add(&b, f.repo || f.ref || f.status || f.conclusion || cur
                         ? "No runs match these filters."
                         : "No runs yet. Add a repository and push, or "
                           "dispatch a workflow.");
        html_add(&b, "</p>");
    } else {
        html_add(&b, "<table class=\"runs\"><thead><tr><th>Status</th>"
                     "<th>Run</th><th>Repository</th><th>Branch</th>"
                     "<th>Commit</th><th>Created</th><th>Duration</th></tr>"
                     "</thead><tbody>");
        for (size_t i = 0; i < n; i++)
            run_row(&b, &v[i], now);
        html_add(&b, "</tbody></table>");
    }
    html_add(&b, "<div class=\"pager\">");
    if (cur && *cur) {
        html_add(&b, "<a href=\"/runs?");
        filter_query(&b, &f);
        html_add(&b, "\" id=\"newest\">\xe2\x86\x90 Newest</a>");
    }
    if (more && n) {
        html_add(&b, "<a href=\"/runs?");
        filter_query(&b, &f);
        html_addf(&b,
                  "cursor=%" PRId64 "\" id=\"older\">Older \xe2\x86\x92"
                  "</a>",
                  v[n - 1].id);
    }
    html_add(&b, "</div>");
    dash_page(d, 200, "Runs", "runs", &b);
    store_runs_free(v, n);
    store_repos_free(repos, nrepos);
}

/* ---------- the run page ---------- */

/* The state of the jobs that share a workflow key. */
static const char *aggregate(const struct store_job *const *rows, size_t n,
                             bool run_done)
{
    bool fail = false, cancel = false, running = false, queued = false;
    bool all_skipped = true;

    if (!n)
        return run_done ? "not_run" : "pending";
    for (size_t i = 0; i < n; i++) {
        const char *c = rows[i]->conclusion;

        if (!c) {
            if (rows[i]->status && strcmp(rows[i]->status, "running") == 0)
                running = true;
            else
                queued = true;
            all_skipped = false;
            continue;
        }
        if (strcmp(c, "failure") == 0)
            fail = true;
        else if (strcmp(c, "cancelled") == 0)
            cancel = true;
        if (strcmp(c, "skipped") != 0)
            all_skipped = false;
    }
    if (running)
        return "running";
    if (fail)
        return "failure";
    if (queued)
        return "queued";
    if (cancel)
        return "cancelled";
    return all_skipped ? "skipped" : "success";
}

struct gnode {
    const char *key;
    const struct store_job **rows;
    size_t nrows;
    char *label, *sub, *href;
};

/* The job graph: one node per workflow job (matrix cells together),
 * edges from `needs`; false when the workflow cannot be read (the
 * caller lists the jobs only). */
static bool draw_graph(struct dash_ctx *d, const struct store_run *r,
                       const struct store_job *jobs, size_t njobs,
                       struct buf *b)
{
    struct ferr err;
    char *path = NULL;
    char *data = NULL;
    size_t len = 0;
    struct arena *a = NULL;
    struct wf *wf = NULL;
    struct diags diags;
    struct gnode *g = NULL;
    size_t ng = 0;
    struct dag_node *nodes = NULL;
    struct dag_edge *edges = NULL;
    size_t ne = 0, cape = 0;
    bool *used = NULL;
    bool ok = false;
    bool done = strcmp(r->status, "completed") == 0;
    int64_t now = server_now_ms(d->api.s);

    ferr_clear(&err);
    diags_init(&diags);
    if (!r->sha || !r->workflow || strlen(r->sha) != 40 ||
        !is_hex(r->sha, 40) || workspace_check_relpath(r->workflow, &err))
        goto done;
    path = xasprintf("%s/src/%" PRId64 "/%s/%s", d->api.s->home, r->repo_id,
                     r->sha, r->workflow);
    if (workspace_read_file(path, LIM_WORKFLOW_BYTES, &data, &len, &err))
        goto done;
    a = arena_new(64 * 1024);
    if (wf_load(a, r->workflow, span_of(data, len), &wf, &diags, &err))
        goto done;
    used = xcalloc(njobs + 1, sizeof(*used));
    g = xcalloc(wf->njobs + njobs + 1, sizeof(*g));
    for (size_t i = 0; i < wf->njobs; i++) {
        struct gnode *x = &g[ng++];

        x->key = wf->jobs[i].id;
        x->rows = xcalloc(njobs + 1, sizeof(*x->rows));
        for (size_t j = 0; j < njobs; j++)
            if (jobs[j].job_key && strcmp(jobs[j].job_key, x->key) == 0) {
                x->rows[x->nrows++] = &jobs[j];
                used[j] = true;
            }
    }
    for (size_t j = 0; j < njobs; j++) {
        struct gnode *x;

        if (used[j])
            continue;
        x = &g[ng++];
        x->key = jobs[j].job_key ? jobs[j].job_key : "";
        x->rows = xcalloc(1, sizeof(*x->rows));
        x->rows[x->nrows++] = &jobs[j];
    }
    nodes = xcalloc(ng + 1, sizeof(*nodes));
    for (size_t i = 0; i < ng; i++) {
        struct gnode *x = &g[i];
        const struct wf_job *wj = i < wf->njobs ? &wf->jobs[i] : NULL;
        int64_t first = 0, last = 0;
        bool open = false;

        for (size_t k = 0; k < x->nrows; k++) {
            const struct store_job *j = x->rows[k];

            if (j->started_at > 0 && (!first || j->started_at < first))
                first = j->started_at;
            if (j->finished_at > last)
                last = j->finished_at;
            if (!j->conclusion)
                open = true;
        }
        if (x->nrows == 1)
            x->label =
                xstrdup(x->rows[0]->name && *x->rows[0]->name ? x->rows[0]->name
                                                              : x->key);
        else if (wj && wj->name && !strstr(wj->name, "${{"))
            x->label = xstrdup(wj->name);
        else
            x->label = xstrdup(x->key);
        {
            struct buf s;

            buf_init(&s, 256);
            if (x->nrows > 1)
                html_addf(&s, "%zu jobs \xc2\xb7 ", x->nrows);
            if (first && (open || !last)) {
                html_add(&s, "running \xc2\xb7 ");
                html_duration(&s, now - first);
            } else if (first && last) {
                html_duration(&s, span_ms(first, last));
            } else {
                html_add(&s, aggregate(x->rows, x->nrows, done));
            }
            x->sub = buf_take(&s, NULL);
        }
        if (x->nrows == 1)
            x->href = xasprintf("/runs/%" PRId64 "/logs?job=%" PRId64, r->id,
                                x->rows[0]->id);
        else if (x->nrows > 1)
            x->href = xasprintf("#job-%" PRId64, x->rows[0]->id);
        nodes[i].id = x->key;
        nodes[i].label = x->label;
        nodes[i].sub = x->sub;
        nodes[i].state = aggregate(x->rows, x->nrows, done);
        nodes[i].href = x->href;
    }
    for (size_t i = 0; i < wf->njobs; i++)
        for (size_t k = 0; k < wf->jobs[i].needs.n; k++) {
            const char *need = wf->jobs[i].needs.v[k];

            for (size_t m = 0; m < wf->njobs; m++) {
                if (strcmp(wf->jobs[m].id, need) != 0)
                    continue;
                if (ne == cape) {
                    cape = cape ? cape * 2 : 16;
                    edges = xrealloc(edges, cape * sizeof(*edges));
                }
                edges[ne].from = m;
                edges[ne].to = i;
                ne++;
                break;
            }
        }
    html_add(b, "<div class=\"graph\">");
    if (dag_svg(b, nodes, ng, edges, ne, &err)) {
        html_add(b, "</div><p class=\"note\">The job graph cannot be drawn: ");
        html_esc(b, err.msg);
        html_add(b, ".</p>");
    } else {
        html_add(b, "</div>");
    }
    ok = true;
done:
    if (!ok) {
        html_add(b, "<p class=\"note\" id=\"no-graph\">The workflow file of "
                    "this run is not available any more (");
        html_esc(b, err.msg[0] ? err.msg : "no checkout");
        html_add(b, "), so its job graph cannot be drawn; the jobs are "
                    "listed below.</p>");
    }
    for (size_t i = 0; i < ng; i++) {
        free(g[i].rows);
        free(g[i].label);
        free(g[i].sub);
        free(g[i].href);
    }
    free(g);
    free(nodes);
    free(edges);
    free(used);
    diags_release(&diags);
    arena_free(a);
    free(data);
    free(path);
    return ok;
}

static void job_card(struct dash_ctx *d, struct buf *b,
                     const struct store_run *r, const struct store_job *j,
                     int64_t now)
{
    struct store_step *st = NULL;
    size_t nst = 0;
    struct ferr err;

    ferr_clear(&err);
    html_addf(b, "<div class=\"card job\" id=\"job-%" PRId64 "\" data-key=\"",
              j->id);
    html_esc(b, j->job_key);
    html_add(b, "\"><h3>");
    html_badge(b, j->status, j->conclusion);
    html_add(b, " ");
    html_esc(b, j->name && *j->name ? j->name : j->job_key);
    html_add(b, " <span class=\"muted\">");
    if (j->finished_at > 0) {
        html_duration(b, span_ms(j->started_at, j->finished_at));
    } else if (j->started_at > 0) {
        html_duration(b, span_ms(j->started_at, now));
        html_add(b, "\xe2\x80\xa6");
    }
    html_addf(b,
              "</span> <a href=\"/runs/%" PRId64 "/logs?job=%" PRId64
              "\">log</a></h3>",
              r->id, j->id);
    if (j->reason && *j->reason) {
        html_add(b, "<p class=\"muted\">");
        html_esc(b, j->reason);
        html_add(b, "</p>");
    }
    if (store_step_list(d->api.s->store, j->id, &st, &nst, &err))
        log_warn("cannot list steps job=%" PRId64 " err='%s'", j->id, err.msg);
    if (nst) {
        html_add(b, "<ol class=\"steps\">");
        for (size_t i = 0; i < nst; i++) {
            html_addf(b, "<li><span class=\"num\">%d</span>", st[i].number);
            html_badge(b, st[i].status, st[i].conclusion);
            html_add(b, "<span class=\"name\">");
            html_esc(b, st[i].name);
            html_add(b, "</span><span class=\"dur\">");
            if (st[i].finished_at > 0 && st[i].started_at > 0) {
                html_duration(b, span_ms(st[i].started_at, st[i].finished_at));
            } else if (st[i].started_at > 0 && !st[i].conclusion) {
                html_duration(b, span_ms(st[i].started_at, now));
                html_add(b, "\xe2\x80\xa6");
            }
            html_add(b, "</span></li>");
        }
        html_add(b, "</ol>");
    }
    store_steps_free(st, nst);
    html_add(b, "</div>");
}

static void summary_value(struct buf *b, json_t *v)
{
    char *s;

    if (json_is_string(v)) {
        html_esc(b, json_string_value(v));
        return;
    }
    s = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!s)
        return;
    if (strlen(s) > 160) {
        size_t k = 157;

        while (k && ((unsigned char)s[k] & 0xc0) == 0x80)
            k--;
        html_escn(b, s, k);
        html_add(b, "\xe2\x80\xa6");
    } else {
        html_esc(b, s);
    }
    free(s);
}

/* A report's job: the engine's instance key ("0-wf-test-2": workflow,
 * job id, matrix cell) shown as the job's name when that is one job,
 * else without its workflow prefix ("test-2"). */
static void report_job(struct buf *b, const char *key,
                       const struct store_job *jobs, size_t njobs)
{
    const char *rest = key ? key : "";
    const struct store_job *one = NULL;
    size_t same = 0;

    while (*rest >= '0' && *rest <= '9')
        rest++;
    rest = rest != key && strncmp(rest, "-wf-", 4) == 0 ? rest + 4 : key;
    for (size_t i = 0; rest && i < njobs; i++)
        if (jobs[i].job_key && strcmp(jobs[i].job_key, rest) == 0) {
            one = &jobs[i];
            same++;
        }
    html_esc(b, same == 1 && one->name && *one->name ? one->name : rest);
}

static void reports_section(struct dash_ctx *d, struct buf *b, int64_t run_id,
                            int attempt, const struct store_job *jobs,
                            size_t njobs)
{
    json_t *arr = NULL;
    struct ferr err;
    size_t i, shown = 0;
    json_t *x;

    ferr_clear(&err);
    if (store_report_list(d->api.s->store, run_id, &arr, &err)) {
        log_warn("cannot list reports run=%" PRId64 " err='%s'", run_id,
                 err.msg);
        return;
    }
    json_array_foreach (arr, i, x) {
        json_t *sum = json_object_get(x, "summary");
        const char *k;
        json_t *v;

        if (json_integer_value(json_object_get(x, "attempt")) != attempt)
            continue;
        if (!shown++)
            html_add(b, "<h2>Reports</h2><table class=\"reports\"><thead><tr>"
                        "<th>Kind</th><th>Job</th><th>Summary</th></tr>"
                        "</thead><tbody>");
        html_add(b, "<tr><td>");
        html_esc(b, json_string_value(json_object_get(x, "kind")));
        html_add(b, "</td><td>");
        report_job(b, json_string_value(json_object_get(x, "job")), jobs,
                   njobs);
        html_add(b, "</td><td><div class=\"kv\">");
        json_object_foreach (sum, k, v) {
            if (strcmp(k, "kind") == 0)
                continue;
            html_add(b, "<span><b>");
            html_esc(b, k);
            html_add(b, "</b> ");
            summary_value(b, v);
            html_add(b, "</span>");
        }
        html_add(b, "</div></td></tr>");
    }
    if (shown)
        html_add(b, "</tbody></table>");
    json_decref(arr);
}

static void artifacts_section(struct dash_ctx *d, struct buf *b, int64_t run_id)
{
    struct artifact_store *as = NULL;
    struct artifact_info *v = NULL;
    size_t n = 0;
    struct ferr err;
    char scope[32];

    ferr_clear(&err);
    snprintf(scope, sizeof(scope), "%" PRId64, run_id);
    if (artifact_store_open(d->api.s->home, &as, &err) ||
        artifact_list(as, scope, &v, &n, &err)) {
        if (err.code != FERR_NOTFOUND)
            log_warn("cannot list artifacts run=%" PRId64 " err='%s'", run_id,
                     err.msg);
        goto done;
    }
    if (!n)
        goto done;
    html_add(b, "<h2>Artifacts</h2><table class=\"artifacts\"><thead><tr>"
                "<th>Name</th><th class=\"num\">Files</th>"
                "<th class=\"num\">Size</th><th>Created</th></tr></thead>"
                "<tbody>");
    for (size_t i = 0; i < n; i++) {
        html_addf(b, "<tr><td><a href=\"/runs/%" PRId64 "/artifacts/", run_id);
        html_urlenc(b, v[i].name);
        html_add(b, "\">");
        html_esc(b, v[i].name);
        html_addf(b,
                  "</a></td><td class=\"num\">%" PRIu64 "</td>"
                  "<td class=\"num\">%" PRIu64 " B</td><td>",
                  v[i].files, v[i].bytes);
        html_time_ms(b, v[i].created_ms);
        html_add(b, "</td></tr>");
    }
    html_add(b, "</tbody></table>");
done:
    artifact_infos_free(v, n);
    artifact_store_free(as);
}

/* ?attempt=N of run @r: 0 (the current one) when absent; -1 after
 * answering 400. */
static int attempt_arg(struct dash_ctx *d, const struct store_run *r)
{
    const char *a = dash_query(d, "attempt");
    uint64_t x;

    if (!a || !*a)
        return 0;
    if (span_to_u64(span_cstr(a), &x) || x < 1 || x > (uint64_t)r->attempt) {
        dash_error(d, 400, "'attempt' must be from 1 to %d", r->attempt);
        return -1;
    }
    return (int)x;
}

static void meta_row(struct buf *b, const char *name)
{
    html_addf(b, "<dt>%s</dt><dd>", name);
}

static void page_run(struct dash_ctx *d)
{
    struct store_run r;
    struct store_job *jobs = NULL;
    size_t njobs = 0;
    struct ferr err;
    struct buf b;
    int64_t id;
    int attempt;
    bool done;
    int64_t now = server_now_ms(d->api.s);
    char *title;

    ferr_clear(&err);
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    attempt = attempt_arg(d, &r);
    if (attempt < 0)
        goto out;
    if (!attempt)
        attempt = r.attempt;
    if (store_job_list(d->api.s->store, id, attempt, &jobs, &njobs, &err))
        log_warn("cannot list jobs run=%" PRId64 " err='%s'", id, err.msg);
    done = strcmp(r.status, "completed") == 0;
    buf_init(&b, LIM_WEB_PAGE);
    if (!done && attempt == r.attempt)
        html_addf(&b,
                  "<div id=\"run-live\" data-events=\"/runs/%" PRId64
                  "/events?after=%d.999999999999\"></div>",
                  id, r.attempt);
    html_add(&b, "<dl class=\"meta\">");
    meta_row(&b, "Status");
    html_add(&b, "<span id=\"run-badge\"");
    {
        const char *w = r.conclusion && *r.conclusion ? r.conclusion : r.status;

        html_addf(&b, " class=\"badge b-%s\">", html_state_class(w));
        html_esc(&b, w);
        html_add(&b, "</span>");
    }
    if (r.reason && *r.reason) {
        html_add(&b, " <span class=\"muted\">");
        html_esc(&b, r.reason);
        html_add(&b, "</span>");
    }
    html_add(&b, "</dd>");
    meta_row(&b, "Repository");
    html_add(&b, "<a href=\"/runs?repo=");
    html_urlenc(&b, r.repo);
    html_add(&b, "\">");
    html_esc(&b, r.repo);
    html_add(&b, "</a></dd>");
    meta_row(&b, "Workflow");
    html_add(&b, "<code>");
    html_esc(&b, r.workflow);
    html_add(&b, "</code></dd>");
    meta_row(&b, "Event");
    html_esc(&b, r.event);
    if (r.actor && *r.actor) {
        html_add(&b, " by ");
        html_esc(&b, r.actor);
    }
    html_add(&b, "</dd>");
    meta_row(&b, "Ref");
    html_esc(&b, r.ref);
    html_add(&b, " <code>");
    html_esc(&b, r.sha);
    html_add(&b, "</code></dd>");
    meta_row(&b, "Attempt");
    for (int i = 1; i <= r.attempt; i++) {
        if (i == attempt)
            html_addf(&b, "<b>%d</b> ", i);
        else
            html_addf(&b, "<a href=\"/runs/%" PRId64 "?attempt=%d\">%d</a> ",
                      id, i, i);
    }
    html_add(&b, "</dd>");
    meta_row(&b, "Created");
    html_time_ms(&b, r.created_at);
    html_add(&b, "</dd>");
    meta_row(&b, "Duration");
    run_duration(&b, &r, now);
    html_add(&b, "</dd></dl><div class=\"actions\">");
    html_addf(&b, "<a href=\"/runs/%" PRId64 "/logs", id);
    if (attempt != r.attempt)
        html_addf(&b, "?attempt=%d", attempt);
    html_add(&b, "\" id=\"view-log\">View the log</a>");
    if (!done && d->api.tok.role >= ROLE_DEVELOPER && d->csrf && *d->csrf) {
        html_addf(&b,
                  "<form method=\"post\" action=\"/runs/%" PRId64
                  "/cancel\"><input type=\"hidden\" name=\"csrf\" "
                  "value=\"",
                  id);
        html_esc(&b, d->csrf);
        html_add(&b, "\"><button class=\"danger\" type=\"submit\">Cancel "
                     "run</button></form>");
    }
    html_add(&b, "</div><h2>Job graph</h2>");
    draw_graph(d, &r, jobs, njobs, &b);
    html_add(&b, "<h2>Jobs</h2>");
    if (!njobs)
        html_add(&b, "<p class=\"muted\" id=\"no-jobs\">No job has started "
                     "yet.</p>");
    for (size_t i = 0; i < njobs; i++)
        job_card(d, &b, &r, &jobs[i], now);
    reports_section(d, &b, id, attempt, jobs, njobs);
    artifacts_section(d, &b, id);
    title = xasprintf("%s #%" PRId64, wf_name(&r), r.number);
    dash_page(d, 200, title, "runs", &b);
    free(title);
out:
    store_jobs_free(jobs, njobs);
    store_run_release(&r);
}

static void post_cancel(struct dash_ctx *d)
{
    struct ferr err;
    int64_t id;
    char target[32];
    char loc[48];

    ferr_clear(&err);
    if (!cap_id(d, 0, &id))
        return;
    if (queue_cancel(d->api.s, id, "cancelled by a user", &err)) {
        if (err.code == FERR_NOTFOUND)
            dash_error(d, 404, "no run %" PRId64, id);
        else if (err.code == FERR_INVALID)
            dash_error(d, 409, "%s", err.msg);
        else
            dash_error(d, 500, "cannot cancel run %" PRId64 ": %s", id,
                       err.msg);
        return;
    }
    snprintf(target, sizeof(target), "run/%" PRId64, id);
    api_audit(&d->api, "run.cancel", target, "from the dashboard");
    snprintf(loc, sizeof(loc), "/runs/%" PRId64, id);
    dash_redirect(d, loc);
}

static void get_artifact(struct dash_ctx *d)
{
    struct store_run r;
    struct ferr err;
    uint64_t size = 0;
    int64_t id;
    int fd = -1;

    ferr_clear(&err);
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    if (api_artifact_export(d->api.s, id, d->api.caps[1], &fd, &size, &err)) {
        if (err.code == FERR_NOTFOUND || err.code == FERR_INVALID)
            dash_error(d, 404, "no artifact '%s' in run %" PRId64,
                       d->api.caps[1], id);
        else {
            log_err("artifact export failed run=%" PRId64 " err='%s'", id,
                    err.msg);
            dash_error(d, 500, "cannot export the artifact now");
        }
    } else {
        api_attachment_header(d->api.req, d->api.caps[1]);
        httpd_respond_fd(d->api.req, 200, "application/x-tar", fd, size);
    }
    store_run_release(&r);
}

/* ---------- logs ---------- */

struct logline {
    int64_t ms;
    int64_t job;
    const char *text;
    size_t len;
};

/* "MS\tJOB\tTEXT" (TEXT may hold tabs). */
static bool parse_line(const char *p, size_t len, struct logline *out)
{
    const char *t1 = memchr(p, '\t', len);
    const char *t2 =
        t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p)) : NULL;
    uint64_t a, b;

    if (!t2 || span_to_u64(span_of(p, (size_t)(t1 - p)), &a) ||
        span_to_u64(span_of(t1 + 1, (size_t)(t2 - t1 - 1)), &b) ||
        a > INT64_MAX || b > INT64_MAX)
        return false;
    out->ms = (int64_t)a;
    out->job = (int64_t)b;
    out->text = t2 + 1;
    out->len = len - (size_t)(t2 + 1 - p);
    return true;
}

struct section {
    int64_t job;
    const struct store_job *row; /* NULL for the server's own lines */
    struct buf html;
    bool group_open;
    size_t lines;
};

static struct section *section_of(struct section **v, size_t *n, int64_t job,
                                  const struct store_job *jobs, size_t njobs)
{
    for (size_t i = 0; i < *n; i++)
        if ((*v)[i].job == job)
            return &(*v)[i];
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    memset(&(*v)[*n], 0, sizeof(**v));
    (*v)[*n].job = job;
    buf_init(&(*v)[*n].html, LIM_WEB_PAGE);
    for (size_t i = 0; i < njobs; i++)
        if (jobs[i].id == job)
            (*v)[*n].row = &jobs[i];
    return &(*v)[(*n)++];
}

static bool starts(const struct logline *l, const char *prefix)
{
    size_t n = strlen(prefix);

    return l->len >= n && memcmp(l->text, prefix, n) == 0;
}

static void render_line(struct section *sec, const struct logline *l,
                        uint64_t n)
{
    struct buf *b = &sec->html;
    char t[32];

    if (starts(l, "::group::")) {
        if (sec->group_open)
            html_add(b, "</details>");
        html_add(b, "<details><summary>");
        html_esc_log(b, l->text + 9, l->len - 9);
        html_add(b, "</summary>");
        sec->group_open = true;
        return;
    }
    if (l->len == 12 && starts(l, "::endgroup::")) {
        if (sec->group_open)
            html_add(b, "</details>");
        sec->group_open = false;
        return;
    }
    html_rfc3339(l->ms, t);
    html_addf(b, "<div class=\"ln\" id=\"l%" PRIu64 "\"><span class=\"ts\">",
              n);
    if (t[0])
        html_addf(b, "%.8s", t + 11);
    html_add(b, "</span>");
    html_esc_log(b, l->text, l->len);
    html_add(b, "</div>");
    sec->lines++;
}

static void section_head(struct buf *b, const struct section *sec,
                         int64_t run_id, bool single)
{
    html_addf(b, "<section class=\"job\" data-job=\"%" PRId64 "\">", sec->job);
    if (!single) {
        html_add(b, "<h2>");
        if (sec->row) {
            html_badge(b, sec->row->status, sec->row->conclusion);
            html_add(b, " ");
            html_esc(b, sec->row->name && *sec->row->name ? sec->row->name
                                                          : sec->row->job_key);
            html_addf(b,
                      " <a class=\"muted\" href=\"/runs/%" PRId64
                      "/logs?job=%" PRId64 "\">only this job</a>",
                      run_id, sec->job);
        } else {
            html_add(b, "<span class=\"badge b-other\">server</span> ferry");
        }
        html_add(b, "</h2>");
    }
    html_addf(b, "<div class=\"log\" data-job=\"%" PRId64 "\"%s>", sec->job,
              sec->group_open ? " data-group-open=\"1\"" : "");
}

static void page_logs(struct dash_ctx *d)
{
    struct store_run r;
    struct store_job job;
    struct store_job *jobs = NULL;
    size_t njobs = 0;
    struct section *secs = NULL;
    size_t nsecs = 0;
    const char *jq = dash_query(d, "job");
    int64_t job_id = 0;
    int attempt;
    char *path = NULL;
    char *data = NULL;
    size_t len = 0, off = 0, total = 0;
    uint64_t n = 0, hidden = 0;
    struct ferr err;
    struct buf b;
    bool live, too_big = false;
    char *title = NULL;
    int64_t id;

    ferr_clear(&err);
    memset(&job, 0, sizeof(job));
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    attempt = attempt_arg(d, &r);
    if (attempt < 0)
        goto out;
    if (jq) {
        if (!route_id(jq, &job_id)) {
            dash_error(d, 400, "bad 'job'");
            goto out;
        }
        if (store_job_get(d->api.s->store, job_id, &job, &err) ||
            job.run_id != id) {
            dash_error(d, 404, "no job %" PRId64 " in run %" PRId64, job_id,
                       id);
            goto out;
        }
        attempt = job.attempt;
    }
    if (!attempt)
        attempt = r.attempt;
    if (store_job_list(d->api.s->store, id, attempt, &jobs, &njobs, &err))
        log_warn("cannot list jobs run=%" PRId64 " err='%s'", id, err.msg);
    ferr_clear(&err);
    /* a section per job, in job order (the server's own lines, job 0,
     * get one when they come, shown first) */
    if (!job_id)
        for (size_t i = 0; i < njobs; i++)
            section_of(&secs, &nsecs, jobs[i].id, jobs, njobs);
    else
        section_of(&secs, &nsecs, job_id, jobs, njobs);
    path = worker_log_path(d->api.s, id, attempt);
    if (workspace_read_file(path, LOG_READ_MAX, &data, &len, &err)) {
        if (err.code == FERR_LIMIT)
            too_big = true;
        else if (err.code != FERR_NOTFOUND)
            log_warn("cannot read log path='%s' err='%s'", path, err.msg);
    }
    while (off < len) {
        const char *nl = memchr(data + off, '\n', len - off);
        size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
        struct logline ln;
        struct section *sec;

        n++;
        if (parse_line(data + off, l, &ln) && (!job_id || ln.job == job_id)) {
            if (total > LOG_HTML_MAX) {
                hidden++;
            } else {
                sec = section_of(&secs, &nsecs, ln.job, jobs, njobs);
                total -= sec->html.len;
                render_line(sec, &ln, n);
                total += sec->html.len;
            }
        }
        off += l + 1;
    }
    free(data); /* the page is built from the sections now */
    data = NULL;
    live =
        !too_big && attempt == r.attempt && strcmp(r.status, "completed") != 0;
    buf_init(&b, LIM_WEB_PAGE);
    html_addf(&b, "<p><a href=\"/runs/%" PRId64 "\">\xe2\x86\x90 Run ", id);
    run_title(&b, &r);
    html_add(&b, "</a> ");
    html_addf(&b, "<span id=\"run-badge\" class=\"badge b-%s\">",
              html_state_class(r.conclusion ? r.conclusion : r.status));
    html_esc(&b, r.conclusion ? r.conclusion : r.status);
    html_add(&b, "</span>");
    if (job_id)
        html_addf(&b,
                  " \xc2\xb7 <a href=\"/runs/%" PRId64 "/logs\">the whole "
                  "run's log</a>",
                  id);
    html_add(&b, "</p>");
    if (live) {
        html_add(&b, "<p class=\"live\"><span id=\"live-status\">The run is "
                     "still going.</span><span id=\"refresh-hint\"> <a "
                     "id=\"refresh\" href=\"");
        html_addf(&b, "/runs/%" PRId64 "/logs", id);
        if (job_id)
            html_addf(&b, "?job=%" PRId64, job_id);
        html_add(&b, "\">Refresh</a> to see new lines.</span></p>");
    }
    if (too_big)
        html_add(&b, "<p class=\"note\">The log is over 64 MiB: read it with "
                     "<code>ferry logs</code>.</p>");
    if (hidden)
        html_addf(&b,
                  "<p class=\"note\" id=\"log-cut\">%" PRIu64 " more lines "
                  "are not shown here: read the whole log with "
                  "<code>ferry logs</code>.</p>",
                  hidden);
    html_addf(&b, "<div id=\"logview\" data-run=\"%" PRId64 "\"", id);
    if (job_id)
        html_addf(&b, " data-job=\"%" PRId64 "\"", job_id);
    if (live) {
        html_addf(&b,
                  " data-events=\"/runs/%" PRId64 "/events?attempt=%d"
                  "&amp;after=%d.%" PRIu64,
                  id, attempt, attempt, n);
        if (job_id)
            html_addf(&b, "&amp;job=%" PRId64, job_id);
        html_add(&b, "\"");
    }
    html_add(&b, ">");
    for (size_t k = 0; k < 2 * nsecs; k++) {
        struct section *sec = &secs[k % nsecs];

        if ((k < nsecs) != (sec->job == 0))
            continue;
        section_head(&b, sec, id, job_id != 0);
        if (sec->html.len)
            html_add(&b, buf_cstr(&sec->html));
        if (sec->group_open)
            html_add(&b, "</details>");
        if (!sec->lines && !sec->html.len)
            html_add(&b, "<div class=\"empty\">No lines yet.</div>");
        html_add(&b, "</div></section>");
        buf_release(&sec->html);
    }
    if (!nsecs)
        html_add(&b, "<p class=\"muted\" id=\"no-log\">Nothing logged yet."
                     "</p>");
    html_add(&b, "</div>");
    if (job_id)
        title = xasprintf("Log of %s",
                          job.name && *job.name ? job.name
                          : job.job_key         ? job.job_key
                                                : "a job");
    else
        title = xasprintf("Log of %s #%" PRId64, wf_name(&r), r.number);
    dash_page(d, 200, title, "runs", &b);
out:
    free(title);
    for (size_t i = 0; i < nsecs; i++)
        buf_release(&secs[i].html);
    free(secs);
    free(data);
    free(path);
    store_jobs_free(jobs, njobs);
    store_job_release(&job);
    store_run_release(&r);
}

/* GET /runs/:id/events?job=&attempt=&after=: the API's live-log stream
 * (sub_start) for the dashboard's JavaScript, with cookie sign-in. */
static void stream_events(struct dash_ctx *d)
{
    struct store_run r;
    struct store_job job;
    struct ferr err;
    const char *jq = dash_query(d, "job");
    const char *last = httpd_req_header(d->api.req, "Last-Event-ID");
    int64_t job_id = 0;
    int attempt;
    int64_t id;

    ferr_clear(&err);
    memset(&job, 0, sizeof(job));
    if (!cap_id(d, 0, &id) || !load_run(d, id, &r))
        return;
    attempt = attempt_arg(d, &r);
    if (attempt < 0)
        goto out;
    if (jq) {
        if (!route_id(jq, &job_id) ||
            store_job_get(d->api.s->store, job_id, &job, &err) ||
            job.run_id != id) {
            dash_error(d, 404, "no job '%s' in run %" PRId64, jq, id);
            goto out;
        }
        attempt = job.attempt;
    }
    sub_start(d->api.s, d->api.req, id, job_id, attempt,
              last ? last : dash_query(d, "after"));
out:
    store_job_release(&job);
    store_run_release(&r);
}

/* ---------- the table ---------- */

struct droute {
    const char *method;
    const char *pattern;
    enum store_role role; /* ROLE_NONE: the handler checks what it needs */
    dash_handler h;
};

static const struct droute routes[] = {
    {"GET", "/", ROLE_VIEWER, page_runs},
    {"GET", "/runs", ROLE_VIEWER, page_runs},
    {"GET", "/runs/:id", ROLE_VIEWER, page_run},
    {"POST", "/runs/:id/cancel", ROLE_DEVELOPER, post_cancel},
    {"GET", "/runs/:id/logs", ROLE_VIEWER, page_logs},
    {"GET", "/runs/:id/events", ROLE_VIEWER, stream_events},
    {"GET", "/runs/:id/artifacts/:name", ROLE_VIEWER, get_artifact},
    {"GET", "/login", ROLE_NONE, page_login},
    {"POST", "/login", ROLE_NONE, post_login},
    {"POST", "/logout", ROLE_VIEWER, post_logout},
    {"GET", "/static/app.js", ROLE_NONE, static_js},
    {"GET", "/approvals", ROLE_VIEWER, dashcd_approvals},
    /* the environment's rules say who may review (cd_review checks) */
    {"POST", "/deployments/:id/review", ROLE_DEVELOPER, dashcd_review},
    {"GET", "/environments", ROLE_VIEWER, dashcd_environments},
    {"GET", "/deployments", ROLE_VIEWER, dashcd_deployments},
    {"GET", "/deployments/:id", ROLE_VIEWER, dashcd_deployment},
    {"GET", "/incidents", ROLE_VIEWER, dashcd_incidents},
    {"GET", "/incidents/:id", ROLE_VIEWER, dashcd_incident},
    {"GET", "/dora", ROLE_VIEWER, dashcd_dora},
    {"GET", "/trends", ROLE_VIEWER, dashcd_trends},
};

/* The urlencoded body of a POST as {name: value} (first one wins). */
static json_t *parse_form(struct httpd_req *req)
{
    const char *ct = httpd_req_header(req, "Content-Type");
    struct span body = httpd_req_body(req);
    struct route_arg *args = NULL;
    json_t *form = json_object();
    size_t n;

    if (!ct || strncasecmp(ct, "application/x-www-form-urlencoded", 33) != 0 ||
        !body.len)
        return form;
    n = route_parse_query(httpd_req_arena(req), body.p, &args);
    for (size_t i = 0; i < n; i++)
        if (!json_object_get(form, args[i].key))
            json_object_set_new(
                form, args[i].key,
                json_lossy_stringn(args[i].value, strlen(args[i].value)));
    return form;
}

void dash_handle(struct server *s, struct httpd_req *req)
{
    struct dreq q;
    struct dash_ctx *d = &q.d;
    const char *method = httpd_req_method(req);
    const char *path = httpd_req_path(req);
    const struct droute *hit = NULL;
    bool path_known = false;
    bool post = strcmp(method, "POST") == 0;
    enum auth a = AUTH_NONE;

    memset(&q, 0, sizeof(q));
    d->api.s = s;
    d->api.req = req;
    httpd_req_add_header(req, "Content-Security-Policy", csp);
    httpd_req_add_header(req, "X-Frame-Options", "DENY");
    httpd_req_add_header(req, "Referrer-Policy", "same-origin");
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        size_t n = 0;
        const char *caps[ROUTE_MAX_CAPS];

        if (!route_match(httpd_req_arena(req), routes[i].pattern, path, caps,
                         &n))
            continue;
        path_known = true;
        if (strcmp(routes[i].method, method) != 0)
            continue;
        hit = &routes[i];
        memcpy(d->api.caps, caps, sizeof(caps));
        d->api.ncaps = n;
        break;
    }
    if (post)
        d->form = parse_form(req);
    if (!hit) {
        /* signed in or not, the page says so in its header */
        if (authenticate(&q) != AUTH_OK) {
            store_token_release(&d->api.tok);
            memset(&d->api.tok, 0, sizeof(d->api.tok));
            d->csrf = NULL;
        }
        if (path_known)
            dash_error(d, 405, "method %s is not allowed here", method);
        else
            dash_error(d, 404, "there is no page at %s", path);
        goto done;
    }
    if (hit->role != ROLE_NONE) {
        a = authenticate(&q);
        if (a == AUTH_DOWN) {
            memset(&d->api.tok, 0, sizeof(d->api.tok));
            dash_error(d, 503, "cannot check the session now");
            goto done;
        }
        if (a != AUTH_OK) {
            store_token_release(&d->api.tok);
            memset(&d->api.tok, 0, sizeof(d->api.tok));
            d->csrf = NULL;
            if (a == AUTH_BAD && q.session[0])
                set_cookie(req, SESSION_COOKIE, "", "/", 0);
            if (post)
                dash_error(d, 403, "sign in first");
            else
                login_redirect(d);
            goto done;
        }
        if (d->api.tok.role < hit->role) {
            dash_error(d, 403, "this needs the %s role (you are %s)",
                       store_role_name(hit->role),
                       store_role_name(d->api.tok.role));
            goto done;
        }
        /* a bearer header cannot be forged by another site's form: only
         * cookie sessions need the CSRF token */
        if (post && q.by_cookie) {
            const char *c = dash_form(d, "csrf");

            if (!c || strlen(c) != 64 || !crypto_equal(c, q.csrf, 64)) {
                log_warn("web post refused reason='csrf' path='%s'", path);
                dash_error(d, 403,
                           "this form has expired or did not come "
                           "from this server: reload the page and "
                           "try again");
                goto done;
            }
        }
    }
    hit->h(d);
done:
    json_decref(d->form);
    store_token_release(&d->api.tok);
}
