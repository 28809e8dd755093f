/* html: the dashboard's HTML building blocks — escaping (text and
 * attribute values, invalid UTF-8 and control bytes replaced), the page
 * layout with its stylesheet, badges, times and durations.  It appends
 * to a struct buf and does no I/O; it does not know what a run is or
 * which page shows what (that is the server's dash*.c). */
#include "web/html.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "util/span.h"

#define REPLACEMENT "\xef\xbf\xbd" /* U+FFFD */

/* ---------- all-or-nothing appends ---------- */

static void close_buf(struct buf *b)
{
    b->max = b->len;
}

static void put(struct buf *b, const char *p, size_t n)
{
    if (n && buf_add(b, p, n))
        close_buf(b);
}

bool html_full(const struct buf *b)
{
    return b->len >= b->max;
}

void html_add(struct buf *b, const char *raw)
{
    put(b, raw, strlen(raw));
}

void html_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    enum ferr_code rc;

    va_start(ap, fmt);
    rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    if (rc)
        close_buf(b);
}

/* ---------- escaping ---------- */

static const char *entity(unsigned char c)
{
    switch (c) {
    case '&': return "&amp;";
    case '<': return "&lt;";
    case '>': return "&gt;";
    case '"': return "&quot;";
    case '\'': return "&#39;";
    default: return NULL;
    }
}

/* Control bytes other than TAB, LF and CR have no business in a page
 * (NUL and most C0 are parse errors): they become U+FFFD too. */
static bool bad_control(unsigned char c)
{
    return (c < 0x20 && c != '\t' && c != '\n' && c != '\r') || c == 0x7f;
}

void html_escn(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t run = 0; /* start of the bytes not yet copied */
    size_t i = 0;

    if (!s)
        return;
    while (i < n) {
        unsigned char c = p[i];
        const char *ent = NULL;
        size_t len = 1;
        bool bad = false;

        if (c < 0x80) {
            ent = entity(c);
            bad = bad_control(c);
        } else {
            len = span_utf8_len(p + i, n - i);
            bad = len == 0;
            if (bad)
                len = 1;
        }
        if (!ent && !bad) {
            i += len;
            continue;
        }
        put(b, s + run, i - run);
        put(b, ent ? ent : REPLACEMENT, strlen(ent ? ent : REPLACEMENT));
        i += len;
        run = i;
    }
    put(b, s + run, n - run);
}

void html_esc(struct buf *b, const char *s)
{
    if (s)
        html_escn(b, s, strlen(s));
}

/* Length of the terminal escape sequence at @p (p[0] is ESC): CSI
 * (ESC [ params final@-~), OSC (ESC ] ... BEL or ESC \), else ESC and
 * one more byte.  A sequence cut by the end of the line runs to it. */
static size_t esc_len(const unsigned char *p, size_t n)
{
    size_t i = 2;

    if (n < 2)
        return n;
    if (p[1] == '[') {
        while (i < n && !(p[i] >= 0x40 && p[i] <= 0x7e))
            i++;
        return i < n ? i + 1 : n;
    }
    if (p[1] == ']') {
        while (i < n) {
            if (p[i] == 0x07)
                return i + 1;
            if (p[i] == 0x1b && i + 1 < n && p[i + 1] == '\\')
                return i + 2;
            i++;
        }
        return n;
    }
    return 2;
}

void html_esc_log(struct buf *b, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t start = 0;

    if (!s)
        return;
    for (size_t i = 0; i < n;) {
        if (p[i] != 0x1b) {
            i++;
            continue;
        }
        html_escn(b, s + start, i - start);
        i += esc_len(p + i, n - i);
        start = i;
    }
    html_escn(b, s + start, n - start);
}

void html_urlenc(struct buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";

    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        char e[3];

        if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
            (*p >= '0' && *p <= '9') || *p == '-' || *p == '.' || *p == '_' ||
            *p == '~') {
            put(b, (const char *)p, 1);
            continue;
        }
        e[0] = '%';
        e[1] = hex[*p >> 4];
        e[2] = hex[*p & 15];
        put(b, e, 3);
    }
}

/* ---------- the layout ---------- */

static const char stylesheet[] =
    ":root{--fg:#1f2328;--muted:#656d76;--bd:#d0d7de;--bg:#f6f8fa;"
    "--ok:#1a7f37;--bad:#cf222e;--run:#9a6700;--wait:#0969da;--off:#6e7781}"
    "*{box-sizing:border-box}"
    "body{margin:0;font:14px/1.45 system-ui,-apple-system,'Segoe UI',"
    "sans-serif;color:var(--fg);background:#fff}"
    "header{display:flex;align-items:center;gap:1.2em;padding:.55em 1.5em;"
    "background:#24292f;color:#fff;flex-wrap:wrap}"
    "header a{color:#fff;text-decoration:none}"
    ".brand{font-weight:700;font-size:1.15em;letter-spacing:.02em}"
    "nav a{margin-right:.9em;opacity:.78;padding-bottom:2px}"
    "nav a.cur,nav a:hover{opacity:1;border-bottom:2px solid #fff}"
    ".user{margin-left:auto;display:flex;gap:.7em;align-items:center}"
    ".user form{margin:0}.user .muted{color:#adbac7}"
    "main{padding:1em 1.5em 3em;max-width:1280px}"
    "h1{font-size:1.45em;margin:.3em 0 .6em}"
    "h2{font-size:1.12em;margin:1.3em 0 .5em}"
    "h3{font-size:1em;margin:1em 0 .4em}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{text-align:left;padding:.35em .6em;border-bottom:1px solid "
    "var(--bd);vertical-align:top}"
    "th{background:var(--bg);font-weight:600;white-space:nowrap}"
    "td.num,th.num{text-align:right}"
    "a{color:#0969da}"
    ".muted{color:var(--muted)}"
    ".badge{display:inline-block;padding:0 .55em;border-radius:1em;"
    "font-size:.82em;font-weight:600;border:1px solid currentColor;"
    "white-space:nowrap;line-height:1.5}"
    ".b-success,.b-approved,.b-resolved,.b-ready,.b-ok,.b-passed"
    "{color:var(--ok)}"
    ".b-failure,.b-rejected,.b-timed_out,.b-error,.b-critical,.b-open,"
    ".b-escalated,.b-failed,.b-rolled_back{color:var(--bad)}"
    ".b-running,.b-in_progress,.b-deploying,.b-rolling_back,.b-warning"
    "{color:var(--run)}"
    ".b-queued,.b-waiting,.b-pending,.b-info{color:var(--wait)}"
    ".b-cancelled,.b-skipped,.b-other,.b-not_run{color:var(--off)}"
    ".filters{display:flex;gap:.6em;flex-wrap:wrap;align-items:flex-end;"
    "margin:0 0 1em}"
    ".filters label{display:flex;flex-direction:column;font-size:.82em;"
    "color:var(--muted);gap:.15em}"
    "input,select,button,textarea{font:inherit;padding:.28em .55em;"
    "border:1px solid var(--bd);border-radius:6px;background:#fff;"
    "color:var(--fg)}"
    "button{background:var(--bg);cursor:pointer}"
    "button:hover{border-color:#8c959f}"
    "button.primary{background:#1f883d;color:#fff;border-color:#1a7f37}"
    "button.danger{color:var(--bad)}"
    ".pager{margin:1em 0;display:flex;gap:1.2em}"
    "dl.meta{display:grid;grid-template-columns:max-content 1fr;"
    "gap:.25em 1.2em;margin:.5em 0 1em}"
    "dl.meta dt{color:var(--muted)}dl.meta dd{margin:0}"
    "code,.log,.mono{font-family:ui-monospace,SFMono-Regular,Menlo,"
    "Consolas,monospace;font-size:12.5px}"
    ".card{border:1px solid var(--bd);border-radius:8px;padding:.7em 1em;"
    "margin:.6em 0}"
    ".card h3{margin-top:0}"
    ".err{border-color:var(--bad);background:#fff8f8}"
    ".note{background:var(--bg);border:1px solid var(--bd);border-radius:6px;"
    "padding:.5em .8em;margin:.6em 0}"
    ".actions{display:flex;gap:.6em;flex-wrap:wrap;margin:.4em 0}"
    ".actions form{margin:0}"
    ".steps{list-style:none;margin:.3em 0 .2em;padding:0}"
    ".steps li{display:flex;gap:.7em;align-items:baseline;padding:.12em 0}"
    ".steps .num{width:2em;text-align:right;color:var(--muted)}"
    ".steps .dur{margin-left:auto;color:var(--muted)}"
    ".log{background:#0d1117;color:#e6edf3;padding:.5em 0;border-radius:6px;"
    "overflow-x:auto;margin:.3em 0 1em}"
    ".log .ln{white-space:pre-wrap;overflow-wrap:anywhere;"
    "padding:0 1em 0 .8em;min-height:1.45em}"
    ".log .ln:hover{background:#161b22}"
    ".log .ts{color:#7d8590;margin-right:1em;user-select:none}"
    ".log details>summary{cursor:pointer;padding:0 1em 0 .8em;"
    "font-weight:600}"
    ".log details>summary:hover{background:#161b22}"
    ".log details>.ln{padding-left:2em}"
    ".log .empty{color:#7d8590;padding:0 1em}"
    ".live{font-size:.85em;color:var(--muted)}"
    ".graph{overflow-x:auto;border:1px solid var(--bd);border-radius:8px;"
    "background:var(--bg);padding:.4em;margin:.5em 0 1em}"
    ".dag{display:block;max-width:none}"
    ".dag .n rect.box{fill:#fff;stroke:var(--bd);stroke-width:1.5}"
    ".dag a:hover rect.box{stroke-width:2.5}"
    ".dag text{font:13px system-ui,-apple-system,sans-serif;fill:var(--fg)}"
    ".dag text.sub{font-size:11px;fill:var(--muted)}"
    ".dag .e{fill:none;stroke:#8c959f;stroke-width:1.5}"
    ".dag .e.back{stroke-dasharray:5 4}"
    ".dag .dot{fill:var(--off)}"
    ".dag .n-success .dot{fill:var(--ok)}"
    ".dag .n-success rect.box{stroke:#4ac26b}"
    ".dag .n-failure .dot{fill:var(--bad)}"
    ".dag .n-failure rect.box{stroke:#ff8182}"
    ".dag .n-running .dot{fill:#d4a72c}"
    ".dag .n-running rect.box{stroke:#d4a72c}"
    ".dag .n-queued .dot,.dag .n-waiting .dot,.dag .n-pending .dot"
    "{fill:var(--wait)}"
    ".dag .n-cancelled .dot,.dag .n-skipped .dot,.dag .n-not_run .dot"
    "{fill:#afb8c1}"
    ".dag .n-skipped text,.dag .n-not_run text{fill:var(--muted)}"
    ".dag #dag-arrow path{fill:#8c959f}"
    ".login{max-width:440px}"
    ".login label{display:block;margin:.6em 0 .2em}"
    ".login input[type=password]{width:100%}"
    ".login button{margin-top:.8em}"
    ".kv{display:flex;flex-wrap:wrap;gap:.2em 1.2em}"
    ".kv span b{font-weight:600}";

struct navitem {
    const char *key;
    const char *label;
};

static const struct navitem navitems[] = {
    {"runs", "Runs"},
    {"approvals", "Approvals"},
    {"environments", "Environments"},
    {"deployments", "Deployments"},
    {"incidents", "Incidents"},
    {"dora", "DORA"},
    {"trends", "Trends"},
};

void html_page_begin(struct buf *b, const struct html_page *p)
{
    const char *title = p->title ? p->title : "ferry";

    html_add(b, "<!DOCTYPE html>\n<html lang=\"en\"><head>"
                "<meta charset=\"utf-8\">"
                "<meta name=\"viewport\" content=\"width=device-width, "
                "initial-scale=1\">"
                "<link rel=\"icon\" href=\"data:,\"><title>");
    html_esc(b, title);
    html_add(b, " \xc2\xb7 ferry</title><style>");
    html_add(b, stylesheet);
    html_add(b, "</style><script src=\"/static/app.js\" defer></script>"
                "</head>\n<body><header><a class=\"brand\" href=\"/\">"
                "ferry</a>");
    if (p->user) {
        html_add(b, "<nav>");
        for (size_t i = 0; i < sizeof(navitems) / sizeof(navitems[0]); i++) {
            bool cur = p->nav && strcmp(p->nav, navitems[i].key) == 0;

            html_addf(b, "<a href=\"/%s\"%s>%s</a>", navitems[i].key,
                      cur ? " class=\"cur\" aria-current=\"page\"" : "",
                      navitems[i].label);
        }
        html_add(b, "</nav><div class=\"user\"><span class=\"who\">");
        if (*p->user)
            html_esc(b, p->user);
        else
            html_add(b, "(unnamed token)");
        html_add(b, " <span class=\"muted\">");
        html_esc(b, p->role ? p->role : "");
        html_add(b, "</span></span>");
        if (p->csrf) {
            html_add(b, "<form method=\"post\" action=\"/logout\">"
                        "<input type=\"hidden\" name=\"csrf\" value=\"");
            html_esc(b, p->csrf);
            html_add(b, "\"><button type=\"submit\">Sign out</button>"
                        "</form>");
        }
        html_add(b, "</div>");
    }
    html_add(b, "</header>\n<main><h1>");
    html_esc(b, title);
    html_add(b, "</h1>\n");
}

void html_page_end(struct buf *b)
{
    html_add(b, "</main></body></html>\n");
}

/* ---------- small pieces ---------- */

const char *html_state_class(const char *state)
{
    size_t n = 0;

    if (!state || !*state)
        return "other";
    for (const char *p = state; *p; p++, n++)
        if (n >= 32 || !((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                         *p == '_' || *p == '-'))
            return "other";
    return state;
}

void html_badge(struct buf *b, const char *status, const char *conclusion)
{
    const char *text = conclusion && *conclusion ? conclusion : status;

    if (!text || !*text)
        text = "unknown";
    html_addf(b, "<span class=\"badge b-%s\">", html_state_class(text));
    html_esc(b, text);
    html_add(b, "</span>");
}

void html_rfc3339(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    size_t n;

    out[0] = '\0';
    if (ms <= 0 || !gmtime_r(&t, &tm) || tm.tm_year > 9999 - 1900)
        return;
    n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
    if (n != 19) {
        out[0] = '\0';
        return;
    }
    out[19] = '.';
    out[20] = (char)('0' + (ms % 1000) / 100);
    out[21] = (char)('0' + (ms % 100) / 10);
    out[22] = (char)('0' + ms % 10);
    out[23] = 'Z';
    out[24] = '\0';
}

/* "YYYY-MM-DDTHH:MM:SS" at the start of @s, the shape we show. */
static bool rfc3339_shape(const char *s)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd";

    for (size_t i = 0; i < sizeof(shape) - 1; i++) {
        if (shape[i] == 'd' ? !(s[i] >= '0' && s[i] <= '9') : s[i] != shape[i])
            return false;
    }
    return true;
}

void html_time(struct buf *b, const char *rfc3339)
{
    if (!rfc3339 || !*rfc3339) {
        html_add(b, "\xe2\x80\x94");
        return;
    }
    html_add(b, "<time datetime=\"");
    html_esc(b, rfc3339);
    html_add(b, "\">");
    if (rfc3339_shape(rfc3339)) {
        put(b, rfc3339, 10);
        put(b, " ", 1);
        put(b, rfc3339 + 11, 8);
    } else {
        html_esc(b, rfc3339);
    }
    html_add(b, "</time>");
}

void html_time_ms(struct buf *b, int64_t ms)
{
    char t[32];

    html_rfc3339(ms, t);
    html_time(b, t[0] ? t : NULL);
}

void html_duration(struct buf *b, int64_t ms)
{
    if (ms < 0) {
        html_add(b, "\xe2\x80\x94");
    } else if (ms < 1000) {
        html_addf(b, "%" PRId64 " ms", ms);
    } else if (ms < 60000) {
        html_addf(b, "%" PRId64 ".%" PRId64 " s", ms / 1000, (ms % 1000) / 100);
    } else if (ms < 3600000) {
        html_addf(b, "%" PRId64 " min %02" PRId64 " s", ms / 60000,
                  (ms / 1000) % 60);
    } else {
        html_addf(b, "%" PRId64 " h %02" PRId64 " min", ms / 3600000,
                  (ms / 60000) % 60);
    }
}
