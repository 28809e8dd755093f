/* dash: the web dashboard's core — its route table, sign-in (an API
 * token exchanged for a signed, stateless session cookie), CSRF checks,
 * security headers, the page layout, HTML error pages and the live-follow
 * script.  It keeps no session state (the cookie carries it and is
 * checked on every request) and renders no content pages: dashruns.c
 * (runs, logs) and dashcd.c (delivery, DORA) do. */
#include "server/dash.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "server/route.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/span.h"
#include "util/xalloc.h"
#include "web/html.h"

#define SESSION_COOKIE  "ferry_session"
#define LOGIN_COOKIE    "ferry_login"
#define SESSION_SECONDS (12 * 3600)
#define LOGIN_SECONDS   3600
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

/* ---------- the table ---------- */

struct droute {
    const char *method;
    const char *pattern;
    enum store_role role; /* ROLE_NONE: the handler checks what it needs */
    dash_handler h;
};

static const struct droute routes[] = {
    {"GET", "/", ROLE_VIEWER, dashruns_list},
    {"GET", "/runs", ROLE_VIEWER, dashruns_list},
    {"GET", "/runs/:id", ROLE_VIEWER, dashruns_run},
    {"POST", "/runs/:id/cancel", ROLE_DEVELOPER, dashruns_cancel},
    {"GET", "/runs/:id/logs", ROLE_VIEWER, dashruns_logs},
    {"GET", "/runs/:id/events", ROLE_VIEWER, dashruns_events},
    {"GET", "/runs/:id/artifacts/:name", ROLE_VIEWER, dashruns_artifact},
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
