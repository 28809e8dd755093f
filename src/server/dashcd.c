/* dashcd: the dashboard's delivery pages — approvals with their review
 * forms, environments, deployments, incidents, the DORA figures and
 * charts, coverage and test trends — rendered from the store's rows and
 * cd.c's live state.  No routing, sessions or CSRF checks (dash.c) and no
 * figures computed here (dora.c). */
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy/envt.h"
#include "metrics/dora.h"
#include "server/dash.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"
#include "web/chart.h"
#include "web/html.h"

#define PAGE_MAX    (16u * 1024u * 1024u) /* one page's HTML */
#define LIST_MAX    200u                  /* rows on a list page */
#define TREND_MAX   50u                   /* runs on the trend charts */
#define COMMENT_MAX 1000u                 /* a review's comment, bytes */

/* What the pages add to the layout's stylesheet: cards, timelines,
 * review forms.  Classes start with cd- so they cannot clash. */
static const char cd_style[] =
    "<style>"
    ".cd-cards{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(210px,1fr));gap:12px;margin:12px 0}"
    ".cd-card{border:1px solid #d0d7de;border-radius:6px;padding:10px 12px;"
    "background:#fff}"
    ".cd-card h3{margin:0 0 4px;font-size:13px;color:#57606a;"
    "font-weight:600}"
    ".cd-card .cd-value{font-size:26px;font-weight:600}"
    ".cd-card .cd-sub{font-size:12px;color:#57606a}"
    ".cd-met{color:#1a7f37;font-weight:700}"
    ".cd-miss{color:#cf222e;font-weight:700}"
    ".cd-rating{display:inline-block;padding:0 6px;border-radius:10px;"
    "font-size:11px;background:#ddf4ff;color:#0969da}"
    ".cd-rating.elite,.cd-rating.high{background:#dafbe1;color:#1a7f37}"
    ".cd-rating.low{background:#ffebe9;color:#cf222e}"
    ".cd-charts{display:grid;grid-template-columns:repeat(auto-fill,"
    "minmax(420px,1fr));gap:16px}"
    ".cd-charts figure{margin:0}"
    ".cd-charts figcaption{font-weight:600;margin-bottom:4px}"
    ".cd-timeline{list-style:none;padding-left:0;border-left:3px solid "
    "#d0d7de;margin-left:6px}"
    ".cd-timeline li{padding:4px 0 4px 12px;position:relative}"
    ".cd-timeline li:before{content:'';position:absolute;left:-8px;"
    "top:9px;width:10px;height:10px;border-radius:50%;background:#8c959f}"
    ".cd-timeline li.cd-bad:before{background:#cf222e}"
    ".cd-timeline li.cd-good:before{background:#1a7f37}"
    ".cd-review{display:flex;gap:6px;align-items:flex-start;"
    "flex-wrap:wrap}"
    ".cd-review textarea{min-width:200px;height:2.2em}"
    ".note.cd-warn{background:#fff8c5}"
    ".cd-windows a{margin-right:8px}"
    ".cd-windows a.cd-current{font-weight:700;text-decoration:none;"
    "color:inherit}"
    "</style>\n";

/* A page being written: appends remember the first failure, so the
 * rendering code stays flat; html_* helpers write to .b directly. */
struct page {
    struct buf b;
    enum ferr_code rc;
};

static void page_init(struct page *pg)
{
    buf_init(&pg->b, PAGE_MAX);
    pg->rc = FERR_OK;
    if (buf_adds(&pg->b, cd_style))
        pg->rc = FERR_LIMIT;
}

static void add(struct page *pg, const char *s)
{
    if (!pg->rc)
        pg->rc = buf_adds(&pg->b, s);
}

static void addf(struct page *pg, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void addf(struct page *pg, const char *fmt, ...)
{
    va_list ap;

    if (pg->rc)
        return;
    va_start(ap, fmt);
    pg->rc = buf_vaddf(&pg->b, fmt, ap);
    va_end(ap);
}

static void esc(struct page *pg, const char *s)
{
    html_esc(&pg->b, s ? s : "");
}

/* Text or a dash when it is missing or empty. */
static void esc_or_dash(struct page *pg, const char *s)
{
    if (s && *s)
        esc(pg, s);
    else
        add(pg, "\xe2\x80\x94");
}

/* @s percent-encoded for a query value (markup-safe as it is). */
static void add_qval(struct page *pg, const char *s)
{
    html_urlenc(&pg->b, s ? s : "");
}

/* Answer the page, or a 500 when it could not be written whole. */
static void page_send(struct dash_ctx *d, struct page *pg, int status,
                      const char *title, const char *nav)
{
    if (pg->rc || html_full(&pg->b)) {
        log_err("dashboard page too large title='%s'", title);
        buf_release(&pg->b);
        dash_error(d, 500, "the page is too large to show");
        return;
    }
    dash_page(d, status, title, nav, &pg->b);
    buf_release(&pg->b);
}

/* ---------- JSON fields ---------- */

static const char *jstr(const json_t *o, const char *key)
{
    return json_string_value(json_object_get(o, key));
}

static int64_t jint(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    if (json_is_integer(v))
        return (int64_t)json_integer_value(v);
    if (json_is_real(v) && isfinite(json_real_value(v)) &&
        fabs(json_real_value(v)) < 9e15)
        return (int64_t)json_real_value(v);
    return 0;
}

/* A number member, NaN when missing, null or not a number. */
static double jnum(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);

    return json_is_number(v) ? json_number_value(v) : NAN;
}

/* "2026-11-23T04:02:15Z" or with ".553Z" into ms since the epoch; 0
 * when it is not one. */
static int64_t parse_time(const char *s)
{
    struct tm tm;
    int y;
    int mo;
    int da;
    int h;
    int mi;
    int se;
    int used = 0;
    int64_t ms = 0;
    time_t t;

    if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &da, &h, &mi, &se,
                     &used) != 6)
        return 0;
    if (s[used] == '.') {
        int scale = 100;

        for (used++; s[used] >= '0' && s[used] <= '9'; used++) {
            ms += (s[used] - '0') * scale;
            scale /= 10;
        }
    }
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || da < 1 || da > 31 ||
        h > 23 || mi > 59 || se > 60)
        return 0;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = da;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = se;
    t = timegm(&tm);
    if (t == (time_t)-1)
        return 0;
    return (int64_t)t * 1000 + ms;
}

/* The time between two RFC 3339 fields of @o, or "—". */
static void add_span(struct page *pg, const json_t *o, const char *from,
                     const char *to)
{
    int64_t a = parse_time(jstr(o, from));
    int64_t b = parse_time(jstr(o, to));

    /* the store's times are often whole seconds: 0 is "under 1 s" */
    if (a && b && b - a >= 1000)
        html_duration(&pg->b, b - a);
    else if (a && b && b >= a)
        add(pg, "&lt; 1 s");
    else
        add(pg, "\xe2\x80\x94");
}

static void add_time(struct page *pg, const char *rfc3339)
{
    html_time(&pg->b, rfc3339);
}

/* The first 12 characters of a commit, as code. */
static void add_sha(struct page *pg, const char *sha)
{
    char s[13];

    if (!sha || !*sha) {
        add(pg, "\xe2\x80\x94");
        return;
    }
    snprintf(s, sizeof(s), "%s", sha);
    add(pg, "<code title=\"");
    esc(pg, sha);
    add(pg, "\">");
    esc(pg, s);
    add(pg, "</code>");
}

/* ---------- what the store has ---------- */

/* Repository @name's id, 0 when there is none. */
static int64_t repo_id_of(struct dash_ctx *d, const char *name)
{
    struct store_repo r;
    struct ferr err;
    int64_t id = 0;

    ferr_clear(&err);
    memset(&r, 0, sizeof(r));
    if (name && store_repo_get(d->api.s->store, name, &r, &err) == FERR_OK)
        id = r.id;
    store_repo_release(&r);
    return id;
}

/* Environment @env of @repo (a new reference) or NULL. */
static json_t *env_row(struct dash_ctx *d, const char *repo, const char *env)
{
    int64_t id = repo_id_of(d, repo);
    json_t *e = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (!id || !env ||
        store_env_get(d->api.s->store, id, env, &e, &err) != FERR_OK)
        return NULL;
    return e;
}

/* The newest deployment of @env with @status (nth from the newest), a
 * new reference or NULL: as cdapi's environment answers. */
static json_t *latest(struct dash_ctx *d, int64_t repo_id, const char *env,
                      const char *status, size_t nth)
{
    json_t *list = NULL;
    json_t *v = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (store_deploy_list(d->api.s->store, repo_id, env, status, nth + 1, &list,
                          &err) == FERR_OK)
        v = json_incref(json_array_get(list, nth));
    json_decref(list);
    return v;
}

/* Whether the session may review deployment @dep now: *@why (when not)
 * says why, in the rules' words. */
static bool may_review(struct dash_ctx *d, const json_t *dep, const json_t *env,
                       char *why, size_t whylen)
{
    const struct store_token *tok = &d->api.tok;
    const char *user = tok->name ? tok->name : "";
    struct envt_rules rules;
    struct ferr err;
    json_t *a;
    size_t i;
    bool ok;

    why[0] = '\0';
    if (!*user) {
        snprintf(why, whylen, "reviews need a named token");
        return false;
    }
    json_array_foreach (json_object_get(dep, "approvals"), i, a) {
        const char *u = jstr(a, "user");

        if (u && strcmp(u, user) == 0) {
            snprintf(why, whylen, "you reviewed it already");
            return false;
        }
    }
    ferr_clear(&err);
    if (!env || envt_rules_parse(json_object_get(env, "rules"), &rules, &err) !=
                    FERR_OK) {
        snprintf(why, whylen, "its environment's rules cannot be read");
        return false;
    }
    ok = envt_may_review(&rules, jstr(dep, "environment"), tok->role, user,
                         jstr(dep, "actor") ? jstr(dep, "actor") : "",
                         &err) == FERR_OK;
    if (!ok)
        snprintf(why, whylen, "%s", err.msg);
    envt_rules_release(&rules);
    return ok;
}

/* The approve/reject form of deployment @id. */
static void review_form(struct dash_ctx *d, struct page *pg, int64_t id)
{
    addf(pg,
         "<form class=\"cd-review\" method=\"post\" "
         "action=\"/deployments/%" PRId64 "/review\" id=\"review-%" PRId64
         "\"><input type=\"hidden\" name=\"csrf\" value=\"",
         id, id);
    esc(pg, d->csrf);
    addf(pg,
         "\"><textarea name=\"comment\" maxlength=\"%u\" "
         "placeholder=\"comment (optional)\" aria-label=\"comment\">"
         "</textarea><button type=\"submit\" name=\"decision\" "
         "value=\"approve\" class=\"primary\" id=\"approve-%" PRId64
         "\">Approve</button>"
         "<button type=\"submit\" name=\"decision\" value=\"reject\" "
         "class=\"danger\" id=\"reject-%" PRId64 "\">Reject</button>"
         "</form>",
         COMMENT_MAX, id, id);
}

static void approvals_list(struct page *pg, const json_t *dep)
{
    json_t *a;
    size_t i;

    if (json_array_size(json_object_get(dep, "approvals")) == 0) {
        add(pg, "<span class=\"muted\">none yet</span>");
        return;
    }
    add(pg, "<ul class=\"cd-approvals\">");
    json_array_foreach (json_object_get(dep, "approvals"), i, a) {
        add(pg, "<li>");
        esc_or_dash(pg, jstr(a, "user"));
        add(pg, " ");
        html_badge(&pg->b, jstr(a, "decision"), NULL);
        if (jstr(a, "comment") && *jstr(a, "comment")) {
            add(pg, " \xe2\x80\x9c");
            esc(pg, jstr(a, "comment"));
            add(pg, "\xe2\x80\x9d");
        }
        add(pg, " ");
        add_time(pg, jstr(a, "at"));
        add(pg, "</li>");
    }
    add(pg, "</ul>");
}

/* A deployment's link: "#12". */
static void dep_link(struct page *pg, int64_t id)
{
    addf(pg, "<a href=\"/deployments/%" PRId64 "\">#%" PRId64 "</a>", id, id);
}

static void run_link(struct page *pg, const json_t *o, const char *key)
{
    int64_t run = jint(o, key);

    if (run > 0)
        addf(pg, "<a href=\"/runs/%" PRId64 "\">run %" PRId64 "</a>", run, run);
    else
        add(pg, "\xe2\x80\x94");
}

/* A path capture as a positive id; false after answering 404. */
static bool cap_id(struct dash_ctx *d, const char *what, int64_t *out)
{
    const char *c = d->api.ncaps > 0 ? d->api.caps[0] : NULL;

    *out = 0;
    if (!c || span_to_i64(span_cstr(c), out) || *out <= 0) {
        dash_error(d, 404, "no such %s", what);
        *out = 0;
        return false;
    }
    return true;
}

/* A query parameter, NULL when absent or empty. */
static const char *query(struct dash_ctx *d, const char *name)
{
    const char *v = dash_query(d, name);

    return v && *v ? v : NULL;
}

/* ---------- /approvals ---------- */

void dashcd_approvals(struct dash_ctx *d)
{
    struct page pg;
    json_t *list = NULL;
    json_t *dep;
    struct ferr err;
    size_t i;
    int64_t now = server_now_ms(d->api.s);

    ferr_clear(&err);
    if (store_deploy_list(d->api.s->store, 0, NULL, "waiting", LIST_MAX, &list,
                          &err)) {
        log_err("dashboard: cannot list deployments err='%s'", err.msg);
        dash_error(d, 500, "the deployments cannot be read");
        return;
    }
    page_init(&pg);
    if (json_array_size(list) == 0) {
        add(&pg, "<p class=\"note\" id=\"approvals-none\">No deployment "
                 "is waiting for approval.</p>");
    } else {
        add(&pg, "<table class=\"table\" id=\"approvals\"><thead><tr>"
                 "<th>Deployment</th><th>Environment</th><th>Run</th>"
                 "<th>Commit</th><th>Version</th><th>Triggered by</th>"
                 "<th>Times out</th><th>Approved so far</th><th>Review</th>"
                 "</tr></thead><tbody>");
    }
    json_array_foreach (list, i, dep) {
        int64_t id = jint(dep, "id");
        json_t *env = env_row(d, jstr(dep, "repo"), jstr(dep, "environment"));
        json_t *rules = json_object_get(env, "rules");
        int64_t created = parse_time(jstr(dep, "created_at"));
        json_t *tmo = json_object_get(rules, "approval_timeout");
        int64_t timeout_s = json_is_integer(tmo) ? json_integer_value(tmo)
                                                 : ENVT_DEFAULT_TIMEOUT_S;
        char why[512];

        addf(&pg, "<tr id=\"approval-%" PRId64 "\"><td>", id);
        dep_link(&pg, id);
        add(&pg, "</td><td>");
        esc(&pg, jstr(dep, "repo"));
        add(&pg, " / <strong>");
        esc(&pg, jstr(dep, "environment"));
        add(&pg, "</strong></td><td>");
        run_link(&pg, dep, "run_id");
        add(&pg, "</td><td>");
        add_sha(&pg, jstr(dep, "sha"));
        add(&pg, "</td><td>");
        esc_or_dash(&pg, jstr(dep, "version"));
        add(&pg, "</td><td>");
        esc_or_dash(&pg, jstr(dep, "actor"));
        addf(&pg, "</td><td class=\"cd-timeout\" id=\"timeout-%" PRId64 "\">",
             id);
        if (created && timeout_s > 0) {
            int64_t left = created + timeout_s * 1000 - now;

            if (left > 0) {
                add(&pg, "in ");
                html_duration(&pg.b, left);
            } else {
                add(&pg, "now");
            }
        } else {
            add(&pg, "\xe2\x80\x94");
        }
        add(&pg, "</td><td>");
        approvals_list(&pg, dep);
        add(&pg, "</td><td>");
        if (may_review(d, dep, env, why, sizeof(why))) {
            review_form(d, &pg, id);
        } else {
            add(&pg, "<span class=\"muted cd-cannot\">");
            esc(&pg, why);
            add(&pg, "</span>");
        }
        add(&pg, "</td></tr>");
        json_decref(env);
    }
    if (json_array_size(list) > 0)
        add(&pg, "</tbody></table>");
    json_decref(list);
    page_send(d, &pg, 200, "Approvals", "approvals");
}

/* ---------- POST /deployments/:id/review ---------- */

void dashcd_review(struct dash_ctx *d)
{
    const char *decision = dash_form(d, "decision");
    const char *comment = dash_form(d, "comment");
    struct ferr err;
    int64_t id;
    bool approve;
    char target[48];
    char loc[96];

    ferr_clear(&err);
    if (!dash_role(d, ROLE_DEVELOPER) || !cap_id(d, "deployment", &id))
        return;
    if (!decision ||
        (strcmp(decision, "approve") != 0 && strcmp(decision, "reject") != 0)) {
        dash_error(d, 422, "the decision must be approve or reject");
        return;
    }
    approve = strcmp(decision, "approve") == 0;
    if (comment && strlen(comment) > COMMENT_MAX) {
        dash_error(d, 422, "a comment is at most %u bytes", COMMENT_MAX);
        return;
    }
    if (comment && !*comment)
        comment = NULL;
    if (cd_review(d->api.s, id, &d->api.tok, approve, comment, &err)) {
        switch (err.code) {
        case FERR_USAGE: dash_error(d, 403, "%s", err.msg); break;
        case FERR_INVALID: dash_error(d, 409, "%s", err.msg); break;
        case FERR_NOTFOUND: dash_error(d, 404, "%s", err.msg); break;
        case FERR_PARSE:
        case FERR_LIMIT:
        case FERR_UNSUPPORTED: dash_error(d, 422, "%s", err.msg); break;
        default:
            log_err("dashboard: review failed deployment=%" PRId64 " err='%s'",
                    id, err.msg);
            dash_error(d, 500, "the review could not be recorded");
            break;
        }
        return;
    }
    snprintf(target, sizeof(target), "deployment/%" PRId64, id);
    api_audit(&d->api, approve ? "deployment.approve" : "deployment.reject",
              target, comment ? comment : "");
    snprintf(loc, sizeof(loc), "/deployments/%" PRId64 "?review=%s", id,
             approve ? "approved" : "rejected");
    dash_redirect(d, loc);
}

/* ---------- /environments ---------- */

/* The rules in a line: "1 approval (approver) · branches main · …". */
static void rules_summary(struct page *pg, const json_t *rules)
{
    json_t *v;
    size_t i;
    int64_t n = jint(rules, "reviewers");
    bool first = true;

#define SEP() (first ? (void)(first = false) : add(pg, " \xc2\xb7 "))
    if (n > 0) {
        SEP();
        addf(pg, "%" PRId64 " approval%s (", n, n == 1 ? "" : "s");
        esc_or_dash(pg, jstr(rules, "reviewer_role"));
        add(pg, ")");
        if (json_array_size(json_object_get(rules, "reviewer_users"))) {
            add(pg, " by ");
            json_array_foreach (json_object_get(rules, "reviewer_users"), i,
                                v) {
                if (i)
                    add(pg, ", ");
                esc(pg, json_string_value(v));
            }
        }
    } else {
        SEP();
        add(pg, "no approval");
    }
    if (json_array_size(json_object_get(rules, "branches"))) {
        SEP();
        add(pg, "branches ");
        json_array_foreach (json_object_get(rules, "branches"), i, v) {
            if (i)
                add(pg, ", ");
            add(pg, "<code>");
            esc(pg, json_string_value(v));
            add(pg, "</code>");
        }
    }
    if (jint(rules, "wait_timer") > 0) {
        SEP();
        add(pg, "wait ");
        html_duration(&pg->b, jint(rules, "wait_timer") * 1000);
    }
    if (n > 0 && jint(rules, "approval_timeout") > 0) {
        SEP();
        add(pg, "approve within ");
        html_duration(&pg->b, jint(rules, "approval_timeout") * 1000);
    }
    if (json_array_size(json_object_get(rules, "freeze"))) {
        SEP();
        addf(pg, "%zu freeze window%s",
             json_array_size(json_object_get(rules, "freeze")),
             json_array_size(json_object_get(rules, "freeze")) == 1 ? "" : "s");
    }
    if (json_is_true(json_object_get(rules, "production"))) {
        SEP();
        add(pg, "<strong>production</strong>");
    }
#undef SEP
}

/* A version cell: the version (or what deployed it), its commit, when. */
static void version_cell(struct page *pg, const json_t *dep, const char *id)
{
    add(pg, "<td><span class=\"cd-version\" id=\"");
    esc(pg, id);
    add(pg, "\">");
    if (!dep) {
        add(pg, "\xe2\x80\x94</span></td>");
        return;
    }
    if (jstr(dep, "version") && *jstr(dep, "version"))
        esc(pg, jstr(dep, "version"));
    else if (jstr(dep, "kind") && strcmp(jstr(dep, "kind"), "rollback") == 0)
        add(pg, "(rollback)");
    else
        add(pg, "(no version)");
    add(pg, "</span> ");
    dep_link(pg, jint(dep, "id"));
    add(pg, "<br><span class=\"muted\">");
    add_sha(pg, jstr(dep, "sha"));
    add(pg, " ");
    add_time(pg, jstr(dep, "finished_at"));
    add(pg, "</span></td>");
}

/* The ids in @arr as "#1, #2", or "—". */
static void id_list(struct page *pg, const json_t *arr)
{
    json_t *v;
    size_t i;

    if (json_array_size(arr) == 0) {
        add(pg, "\xe2\x80\x94");
        return;
    }
    json_array_foreach (arr, i, v) {
        if (i)
            add(pg, ", ");
        dep_link(pg, json_integer_value(v));
    }
}

void dashcd_environments(struct dash_ctx *d)
{
    struct page pg;
    json_t *list = NULL;
    json_t *e;
    struct ferr err;
    size_t i;

    ferr_clear(&err);
    if (store_env_list(d->api.s->store, 0, &list, &err)) {
        log_err("dashboard: cannot list environments err='%s'", err.msg);
        dash_error(d, 500, "the environments cannot be read");
        return;
    }
    page_init(&pg);
    if (json_array_size(list) == 0)
        add(&pg, "<p class=\"note\">No environment yet: a job that "
                 "names <code>environment:</code> creates one, and "
                 "<code>ferry env set</code> sets its rules.</p>");
    else
        add(&pg, "<table class=\"table\" id=\"environments\"><thead><tr>"
                 "<th>Environment</th><th>Current</th><th>Previous</th>"
                 "<th>State</th><th>Rules</th><th>Last deployment</th>"
                 "</tr></thead><tbody>");
    json_array_foreach (list, i, e) {
        const char *repo = jstr(e, "repo");
        const char *name = jstr(e, "name");
        int64_t rid = repo_id_of(d, repo);
        json_t *cur = rid ? latest(d, rid, name, "success", 0) : NULL;
        json_t *prev = rid ? latest(d, rid, name, "success", 1) : NULL;
        json_t *last = rid ? latest(d, rid, name, NULL, 0) : NULL;
        json_t *live = rid && name ? cd_env_live(d->api.s, rid, name) : NULL;
        char *base = xasprintf("env-%s-%s", repo ? repo : "", name ? name : "");
        char *cid = xasprintf("%s-current", base);
        char *pid = xasprintf("%s-previous", base);

        add(&pg, "<tr id=\"");
        esc(&pg, base);
        add(&pg, "\"><td><strong>");
        esc(&pg, name);
        add(&pg, "</strong><br><span class=\"muted\">");
        esc(&pg, repo);
        add(&pg, "</span></td>");
        version_cell(&pg, cur, cid);
        version_cell(&pg, prev, pid);
        add(&pg, "<td>");
        if (jstr(e, "locked")) {
            add(&pg,
                "<span class=\"badge b-failure cd-locked\">locked</span> ");
            esc(&pg, jstr(e, "locked"));
        } else {
            add(&pg, "<span class=\"cd-unlocked\">unlocked</span>");
        }
        if (live) {
            json_t *holder = json_object_get(live, "holder");

            if (json_is_integer(holder)) {
                add(&pg, "<br>deploying ");
                dep_link(&pg, json_integer_value(holder));
            }
            if (json_array_size(json_object_get(live, "queue"))) {
                add(&pg, "<br>queued: ");
                id_list(&pg, json_object_get(live, "queue"));
            }
            if (json_array_size(json_object_get(live, "waiting"))) {
                add(&pg, "<br><a href=\"/approvals\">waiting for "
                         "approval</a>: ");
                id_list(&pg, json_object_get(live, "waiting"));
            }
        }
        add(&pg, "</td><td class=\"cd-rules\">");
        rules_summary(&pg, json_object_get(e, "rules"));
        add(&pg, "</td><td>");
        if (last) {
            dep_link(&pg, jint(last, "id"));
            add(&pg, " ");
            html_badge(&pg.b, jstr(last, "status"), NULL);
            add(&pg, "<br>");
            add_time(&pg, jstr(last, "created_at"));
        } else {
            add(&pg, "\xe2\x80\x94");
        }
        add(&pg, "</td></tr>");
        json_decref(cur);
        json_decref(prev);
        json_decref(last);
        json_decref(live);
        free(base);
        free(cid);
        free(pid);
    }
    if (json_array_size(list) > 0)
        add(&pg, "</tbody></table>");
    json_decref(list);
    page_send(d, &pg, 200, "Environments", "environments");
}

/* ---------- /deployments ---------- */

static const char *const statuses[] = {
    "waiting",   "queued",   "in_progress", "rolling_back",
    "success",   "failure",  "failed",      "rolled_back",
    "escalated", "rejected", "timed_out",   "cancelled",
};

static void deploy_filters(struct dash_ctx *d, struct page *pg,
                           const char *repo, const char *env,
                           const char *status)
{
    struct store_repo *repos = NULL;
    size_t n = 0;
    struct ferr err;

    ferr_clear(&err);
    add(pg, "<form class=\"filters\" method=\"get\" action=\"/deployments\">"
            "<label>Repository<select name=\"repo\"><option value=\"\">any"
            "</option>");
    if (store_repo_list(d->api.s->store, &repos, &n, &err) == FERR_OK) {
        for (size_t i = 0; i < n; i++) {
            add(pg, "<option");
            if (repo && strcmp(repo, repos[i].name) == 0)
                add(pg, " selected");
            add(pg, ">");
            esc(pg, repos[i].name);
            add(pg, "</option>");
        }
        store_repos_free(repos, n);
    }
    add(pg, "</select></label><label>Environment<input name=\"env\" "
            "value=\"");
    esc(pg, env);
    add(pg, "\" size=\"12\"></label><label>Status<select name=\"status\">"
            "<option value=\"\">any</option>");
    for (size_t i = 0; i < sizeof(statuses) / sizeof(statuses[0]); i++) {
        addf(pg, "<option%s>%s</option>",
             status && strcmp(status, statuses[i]) == 0 ? " selected" : "",
             statuses[i]);
    }
    add(pg, "</select></label><button type=\"submit\">Filter</button></form>");
}

void dashcd_deployments(struct dash_ctx *d)
{
    const char *repo = query(d, "repo");
    const char *env = query(d, "env");
    const char *status = query(d, "status");
    struct page pg;
    json_t *list = NULL;
    json_t *dep;
    struct ferr err;
    int64_t rid = 0;
    size_t i;

    ferr_clear(&err);
    if (!env)
        env = query(d, "environment");
    if (repo && !(rid = repo_id_of(d, repo))) {
        dash_error(d, 404, "repository '%s' not found", repo);
        return;
    }
    if (env && strlen(env) > LIM_NAME) {
        dash_error(d, 422, "an environment name is at most %u bytes", LIM_NAME);
        return;
    }
    if (status && strlen(status) > 32) {
        dash_error(d, 422, "no such status");
        return;
    }
    if (store_deploy_list(d->api.s->store, rid, env, status, LIST_MAX, &list,
                          &err)) {
        log_err("dashboard: cannot list deployments err='%s'", err.msg);
        dash_error(d, 500, "the deployments cannot be read");
        return;
    }
    page_init(&pg);
    deploy_filters(d, &pg, repo, env, status);
    if (json_array_size(list) == 0) {
        add(&pg, "<p class=\"note\" id=\"deployments-none\">No "
                 "deployment matches.</p>");
    } else {
        add(&pg, "<table class=\"table\" id=\"deployments\"><thead><tr>"
                 "<th>#</th><th>Environment</th><th>Kind</th>"
                 "<th>Version</th><th>Status</th><th>Commit</th>"
                 "<th>Run</th><th>By</th><th>Created</th><th>Took</th>"
                 "</tr></thead><tbody>");
    }
    json_array_foreach (list, i, dep) {
        addf(&pg, "<tr id=\"deployment-%" PRId64 "\"><td>", jint(dep, "id"));
        dep_link(&pg, jint(dep, "id"));
        add(&pg, "</td><td>");
        esc(&pg, jstr(dep, "repo"));
        add(&pg, " / ");
        esc(&pg, jstr(dep, "environment"));
        add(&pg, "</td><td>");
        esc_or_dash(&pg, jstr(dep, "kind"));
        add(&pg, "</td><td>");
        esc_or_dash(&pg, jstr(dep, "version"));
        add(&pg, "</td><td>");
        html_badge(&pg.b, jstr(dep, "status"), NULL);
        add(&pg, "</td><td>");
        add_sha(&pg, jstr(dep, "sha"));
        add(&pg, "</td><td>");
        run_link(&pg, dep, "run_id");
        add(&pg, "</td><td>");
        esc_or_dash(&pg, jstr(dep, "actor"));
        add(&pg, "</td><td>");
        add_time(&pg, jstr(dep, "created_at"));
        add(&pg, "</td><td>");
        add_span(&pg, dep, "started_at", "finished_at");
        add(&pg, "</td></tr>");
    }
    if (json_array_size(list) > 0)
        add(&pg, "</tbody></table>");
    json_decref(list);
    page_send(d, &pg, 200, "Deployments", "deployments");
}

/* Whether a phase's status reads as bad or good (the timeline dot). */
static const char *phase_class(const char *status)
{
    static const char *const bad[] = {"failed", "failure", "error",
                                      "rolled_back", "escalated"};
    static const char *const good[] = {"succeeded", "success", "ok", "passed",
                                       "healthy"};

    for (size_t i = 0; status && i < sizeof(bad) / sizeof(bad[0]); i++)
        if (strcmp(status, bad[i]) == 0)
            return " class=\"cd-bad\"";
    for (size_t i = 0; status && i < sizeof(good) / sizeof(good[0]); i++)
        if (strcmp(status, good[i]) == 0)
            return " class=\"cd-good\"";
    return "";
}

/* How long each phase took, as bars: from its "started" event to the
 * next event of the same phase (succeeded, failed...).  Phases never
 * reported as started are left out; no pair, no chart. */
static void phase_chart(struct page *pg, const json_t *dep)
{
    json_t *phases = json_object_get(dep, "phases");
    size_t n = json_array_size(phases);
    const char **labels;
    double *v;
    size_t m = 0;
    struct chart_series s = {NULL, "#0969da", NULL};
    struct chart c;

    if (n == 0 || n > CHART_MAX_POINTS)
        return;
    labels = xcalloc(n, sizeof(*labels));
    v = xcalloc(n, sizeof(*v));
    for (size_t i = 0; i < n; i++) {
        json_t *p = json_array_get(phases, i);
        const char *name = jstr(p, "phase");
        const char *st = jstr(p, "status");
        int64_t t0 = parse_time(jstr(p, "at"));

        if (!name || !st || strcmp(st, "started") != 0 || !t0)
            continue;
        for (size_t k = i + 1; k < n; k++) {
            json_t *q = json_array_get(phases, k);
            int64_t t1 = parse_time(jstr(q, "at"));

            if (!jstr(q, "phase") || strcmp(jstr(q, "phase"), name) != 0)
                continue;
            if (t1 >= t0) {
                labels[m] = name;
                v[m++] = (double)(t1 - t0) / 1000.0;
            }
            break;
        }
    }
    if (m > 0) {
        s.v = v;
        memset(&c, 0, sizeof(c));
        c.id = "phase-durations";
        c.title = "how long each phase took";
        c.unit = CHART_SECONDS;
        c.labels = labels;
        c.n = m;
        c.series = &s;
        c.nseries = 1;
        add(pg, "<figure class=\"cd-phase-chart\"><figcaption>How long each "
                "phase took</figcaption>");
        if (!pg->rc)
            pg->rc = chart_bars(&pg->b, &c);
        add(pg, "</figure>");
    }
    free(labels);
    free(v);
}

/* The fixed notice after a review (the query names one of two; nothing
 * from it is echoed). */
static void review_notice(struct dash_ctx *d, struct page *pg,
                          const json_t *dep)
{
    const char *r = query(d, "review");

    if (!r)
        return;
    if (strcmp(r, "approved") == 0) {
        add(pg, "<p class=\"note\" id=\"review-outcome\">You approved "
                "this deployment: it is now ");
        html_badge(&pg->b, jstr(dep, "status"), NULL);
        add(pg, ".</p>");
    } else if (strcmp(r, "rejected") == 0) {
        add(pg, "<p class=\"note cd-warn\" id=\"review-outcome\">You "
                "rejected this deployment: it is now ");
        html_badge(&pg->b, jstr(dep, "status"), NULL);
        add(pg, ".</p>");
    }
}

static void fact(struct page *pg, const char *name)
{
    add(pg, "<dt>");
    add(pg, name);
    add(pg, "</dt><dd>");
}

void dashcd_deployment(struct dash_ctx *d)
{
    struct page pg;
    json_t *dep = NULL;
    json_t *env;
    json_t *incs = NULL;
    json_t *p;
    struct ferr err;
    int64_t id;
    size_t i;
    char title[64];
    char why[512];
    const char *url;

    ferr_clear(&err);
    if (!cap_id(d, "deployment", &id))
        return;
    if (store_deploy_get(d->api.s->store, id, &dep, &err)) {
        if (err.code == FERR_NOTFOUND) {
            dash_error(d, 404, "deployment %" PRId64 " not found", id);
        } else {
            log_err("dashboard: cannot read deployment err='%s'", err.msg);
            dash_error(d, 500, "the deployment cannot be read");
        }
        return;
    }
    env = env_row(d, jstr(dep, "repo"), jstr(dep, "environment"));
    snprintf(title, sizeof(title), "Deployment %" PRId64, id);
    page_init(&pg);
    review_notice(d, &pg, dep);
    add(&pg, "<p>");
    html_badge(&pg.b, jstr(dep, "status"), NULL);
    add(&pg, " to <strong>");
    esc(&pg, jstr(dep, "environment"));
    add(&pg, "</strong> of ");
    esc(&pg, jstr(dep, "repo"));
    add(&pg, "</p>");
    add(&pg, "<dl class=\"meta\">");
    fact(&pg, "Status");
    add(&pg, "<span id=\"deployment-status\">");
    esc(&pg, jstr(dep, "status"));
    add(&pg, "</span></dd>");
    fact(&pg, "Kind");
    esc_or_dash(&pg, jstr(dep, "kind"));
    add(&pg, "</dd>");
    fact(&pg, "Run");
    run_link(&pg, dep, "run_id");
    if (jstr(dep, "job")) {
        add(&pg, " job <code>");
        esc(&pg, jstr(dep, "job"));
        add(&pg, "</code>");
    }
    add(&pg, "</dd>");
    fact(&pg, "Commit");
    add_sha(&pg, jstr(dep, "sha"));
    if (jstr(dep, "ref")) {
        add(&pg, " <code>");
        esc(&pg, jstr(dep, "ref"));
        add(&pg, "</code>");
    }
    add(&pg, "</dd>");
    fact(&pg, "Version");
    add(&pg, "<span id=\"deployment-version\">");
    esc_or_dash(&pg, jstr(dep, "version"));
    add(&pg, "</span></dd>");
    fact(&pg, "Strategy");
    esc_or_dash(&pg, jstr(dep, "strategy"));
    add(&pg, "</dd>");
    fact(&pg, "Triggered by");
    esc_or_dash(&pg, jstr(dep, "actor"));
    add(&pg, "</dd>");
    fact(&pg, "Approved by");
    add(&pg, "<span id=\"deployment-approved-by\">");
    esc_or_dash(&pg, jstr(dep, "approved_by"));
    add(&pg, "</span></dd>");
    fact(&pg, "Release");
    add(&pg, "<span id=\"deployment-release\">");
    esc_or_dash(&pg, jstr(dep, "release_tag"));
    add(&pg, "</span></dd>");
    fact(&pg, "Reason");
    add(&pg, "<span id=\"deployment-reason\">");
    esc_or_dash(&pg, jstr(dep, "reason"));
    add(&pg, "</span></dd>");
    url = jstr(dep, "url");
    if (url &&
        (strncmp(url, "https://", 8) == 0 || strncmp(url, "http://", 7) == 0)) {
        fact(&pg, "URL");
        add(&pg, "<a rel=\"noopener noreferrer\" href=\"");
        esc(&pg, url);
        add(&pg, "\">");
        esc(&pg, url);
        add(&pg, "</a></dd>");
    }
    fact(&pg, "Created");
    add_time(&pg, jstr(dep, "created_at"));
    add(&pg, "</dd>");
    fact(&pg, "Approved");
    add_time(&pg, jstr(dep, "approved_at"));
    add(&pg, "</dd>");
    fact(&pg, "Started");
    add_time(&pg, jstr(dep, "started_at"));
    add(&pg, "</dd>");
    fact(&pg, "Finished");
    add_time(&pg, jstr(dep, "finished_at"));
    add(&pg, " (");
    add_span(&pg, dep, "started_at", "finished_at");
    add(&pg, ")</dd></dl>");

    add(&pg, "<h2>Approvals</h2><div id=\"deployment-approvals\">");
    approvals_list(&pg, dep);
    add(&pg, "</div>");
    if (jstr(dep, "status") && strcmp(jstr(dep, "status"), "waiting") == 0) {
        if (may_review(d, dep, env, why, sizeof(why))) {
            review_form(d, &pg, id);
        } else {
            add(&pg, "<p class=\"muted cd-cannot\">You cannot review it: ");
            esc(&pg, why);
            add(&pg, "</p>");
        }
    }

    add(&pg, "<h2>Phases</h2>");
    if (json_array_size(json_object_get(dep, "phases")) == 0) {
        add(&pg, "<p class=\"muted\">No phase reported.</p>");
    } else {
        add(&pg, "<ol class=\"cd-timeline\" id=\"deployment-phases\">");
        json_array_foreach (json_object_get(dep, "phases"), i, p) {
            addf(&pg, "<li%s>", phase_class(jstr(p, "status")));
            add_time(&pg, jstr(p, "at"));
            add(&pg, " <strong>");
            esc(&pg, jstr(p, "phase"));
            add(&pg, "</strong> ");
            esc(&pg, jstr(p, "status"));
            if (jstr(p, "detail") && *jstr(p, "detail")) {
                add(&pg, " \xe2\x80\x94 ");
                esc(&pg, jstr(p, "detail"));
            }
            add(&pg, "</li>");
        }
        add(&pg, "</ol>");
        phase_chart(&pg, dep);
    }

    ferr_clear(&err);
    if (store_incident_list(d->api.s->store, repo_id_of(d, jstr(dep, "repo")),
                            LIST_MAX, &incs, &err) == FERR_OK) {
        bool any = false;

        json_array_foreach (incs, i, p) {
            if (jint(p, "deployment_id") != id)
                continue;
            if (!any)
                add(&pg, "<h2>Incidents</h2><ul>");
            any = true;
            addf(&pg,
                 "<li><a href=\"/incidents/%" PRId64 "\">incident %" PRId64
                 "</a> ",
                 jint(p, "id"), jint(p, "id"));
            html_badge(&pg.b, jstr(p, "status"), NULL);
            add(&pg, " ");
            esc(&pg, jstr(p, "reason"));
            add(&pg, "</li>");
        }
        if (any)
            add(&pg, "</ul>");
    }
    json_decref(incs);
    json_decref(env);
    json_decref(dep);
    page_send(d, &pg, 200, title, "deployments");
}

/* ---------- /incidents ---------- */

void dashcd_incidents(struct dash_ctx *d)
{
    const char *repo = query(d, "repo");
    struct page pg;
    json_t *list = NULL;
    json_t *inc;
    struct ferr err;
    int64_t rid = 0;
    size_t i;

    ferr_clear(&err);
    if (repo && !(rid = repo_id_of(d, repo))) {
        dash_error(d, 404, "repository '%s' not found", repo);
        return;
    }
    if (store_incident_list(d->api.s->store, rid, LIST_MAX, &list, &err)) {
        log_err("dashboard: cannot list incidents err='%s'", err.msg);
        dash_error(d, 500, "the incidents cannot be read");
        return;
    }
    page_init(&pg);
    if (json_array_size(list) == 0)
        add(&pg, "<p class=\"note\" id=\"incidents-none\">No incident. "
                 "A deployment that rolls back opens one.</p>");
    else
        add(&pg, "<table class=\"table\" id=\"incidents\"><thead><tr>"
                 "<th>#</th><th>Environment</th><th>Deployment</th>"
                 "<th>Status</th><th>Reason</th><th>Opened</th>"
                 "<th>Restored in</th></tr></thead><tbody>");
    json_array_foreach (list, i, inc) {
        int64_t id = jint(inc, "id");

        addf(&pg,
             "<tr id=\"incident-%" PRId64 "\"><td><a href=\"/incidents/%" PRId64
             "\">%" PRId64 "</a></td><td>",
             id, id, id);
        esc(&pg, jstr(inc, "repo"));
        add(&pg, " / ");
        esc(&pg, jstr(inc, "environment"));
        add(&pg, "</td><td>");
        if (jint(inc, "deployment_id") > 0)
            dep_link(&pg, jint(inc, "deployment_id"));
        else
            add(&pg, "\xe2\x80\x94");
        add(&pg, "</td><td>");
        html_badge(&pg.b, jstr(inc, "status"), NULL);
        add(&pg, "</td><td>");
        esc_or_dash(&pg, jstr(inc, "reason"));
        add(&pg, "</td><td>");
        add_time(&pg, jstr(inc, "opened_at"));
        add(&pg, "</td><td>");
        add_span(&pg, inc, "opened_at", "resolved_at");
        add(&pg, "</td></tr>");
    }
    if (json_array_size(list) > 0)
        add(&pg, "</tbody></table>");
    json_decref(list);
    page_send(d, &pg, 200, "Incidents", "incidents");
}

void dashcd_incident(struct dash_ctx *d)
{
    struct page pg;
    json_t *inc = NULL;
    json_t *t;
    struct ferr err;
    int64_t id;
    size_t i;
    char title[64];

    ferr_clear(&err);
    if (!cap_id(d, "incident", &id))
        return;
    if (store_incident_get(d->api.s->store, id, &inc, &err)) {
        if (err.code == FERR_NOTFOUND) {
            dash_error(d, 404, "incident %" PRId64 " not found", id);
        } else {
            log_err("dashboard: cannot read incident err='%s'", err.msg);
            dash_error(d, 500, "the incident cannot be read");
        }
        return;
    }
    snprintf(title, sizeof(title), "Incident %" PRId64, id);
    page_init(&pg);
    add(&pg, "<dl class=\"meta\">");
    fact(&pg, "Status");
    html_badge(&pg.b, jstr(inc, "status"), NULL);
    add(&pg, " <span id=\"incident-status\">");
    esc(&pg, jstr(inc, "status"));
    add(&pg, "</span></dd>");
    fact(&pg, "Environment");
    esc(&pg, jstr(inc, "repo"));
    add(&pg, " / ");
    esc(&pg, jstr(inc, "environment"));
    add(&pg, "</dd>");
    fact(&pg, "Deployment");
    if (jint(inc, "deployment_id") > 0)
        dep_link(&pg, jint(inc, "deployment_id"));
    else
        add(&pg, "\xe2\x80\x94");
    add(&pg, "</dd>");
    fact(&pg, "Reason");
    esc_or_dash(&pg, jstr(inc, "reason"));
    add(&pg, "</dd>");
    fact(&pg, "Opened");
    add_time(&pg, jstr(inc, "opened_at"));
    add(&pg, "</dd>");
    fact(&pg, "Resolved");
    add_time(&pg, jstr(inc, "resolved_at"));
    add(&pg, "</dd>");
    fact(&pg, "Time to restore");
    add(&pg, "<span id=\"incident-restore\">");
    add_span(&pg, inc, "opened_at", "resolved_at");
    add(&pg, "</span></dd></dl><h2>Timeline</h2>"
             "<ol class=\"cd-timeline\" id=\"incident-timeline\">");
    json_array_foreach (json_object_get(inc, "timeline"), i, t) {
        const char *what = jstr(t, "what");

        addf(&pg, "<li%s>",
             what && strstr(what, "failed")      ? " class=\"cd-bad\""
             : what && strstr(what, "succeeded") ? " class=\"cd-good\""
                                                 : "");
        add_time(&pg, jstr(t, "at"));
        add(&pg, " ");
        esc(&pg, what);
        add(&pg, "</li>");
    }
    add(&pg, "</ol>");
    json_decref(inc);
    page_send(d, &pg, 200, title, "incidents");
}

/* ---------- /dora ---------- */

/* How a figure compares with its target. */
enum want { AT_LEAST, AT_MOST };

/* A target as dora.c gives it: a number, or {"value": n}; NaN when it
 * is neither (a text target is shown as it is). */
static double target_value(const json_t *t)
{
    if (json_is_number(t))
        return json_number_value(t);
    return jnum(t, "value");
}

/* Whether @v meets @target: a "met" member of @o wins; rates compare
 * with percent targets too. */
static int target_met(const json_t *o, double v, double target, enum want w)
{
    json_t *met = json_object_get(o, "met");

    if (json_is_boolean(met))
        return json_is_true(met);
    if (!isfinite(v) || !isfinite(target))
        return -1;
    return w == AT_LEAST ? v >= target : v <= target;
}

struct card {
    const char *id; /* "deployment-frequency": dora-ID */
    const char *title;
    const json_t *obj; /* the figure's object (rating, target, met) */
    double raw;        /* the value as dora.c has it (data-value) */
    const char *text;  /* the value as shown */
    const char *sub;   /* a line under it, or NULL */
    double tval;       /* the value compared with the target */
    double target;     /* NaN: none */
    const char *ttext; /* the target as shown */
    enum want want;
};

static void card(struct page *pg, const struct card *c)
{
    const char *rating = jstr(c->obj, "rating");
    json_t *traw = json_object_get(c->obj, "target");
    int met = target_met(c->obj, c->tval, c->target, c->want);

    addf(pg, "<div class=\"cd-card\" id=\"card-%s\"><h3>", c->id);
    esc(pg, c->title);
    addf(pg, "</h3><div><span class=\"cd-value\" id=\"dora-%s\"", c->id);
    if (isfinite(c->raw))
        addf(pg, " data-value=\"%.17g\"", c->raw);
    add(pg, ">");
    esc(pg, c->text);
    add(pg, "</span>");
    if (met >= 0)
        addf(pg,
             " <span id=\"dora-%s-met\" class=\"%s\" title=\"%s\">%s"
             "</span>",
             c->id, met ? "cd-met" : "cd-miss",
             met ? "meets its target" : "misses its target",
             met ? "\xe2\x9c\x93" : "\xe2\x9c\x97");
    add(pg, "</div>");
    if (c->sub) {
        add(pg, "<div class=\"cd-sub\">");
        esc(pg, c->sub);
        add(pg, "</div>");
    }
    add(pg, "<div class=\"cd-sub\">");
    if (rating) {
        add(pg, "<span class=\"cd-rating ");
        esc(pg, rating);
        addf(pg, "\" id=\"dora-%s-rating\">", c->id);
        esc(pg, rating);
        add(pg, "</span> ");
    }
    if (c->ttext) {
        addf(pg, "target <span id=\"dora-%s-target\">", c->id);
        esc(pg, c->ttext);
        add(pg, "</span>");
    } else if (json_is_string(traw)) {
        addf(pg, "target <span id=\"dora-%s-target\">", c->id);
        esc(pg, json_string_value(traw));
        add(pg, "</span>");
    }
    add(pg, "</div></div>");
}

/* A rate (0..1) as "93.1 %", or "—". */
static void pct_text(char *out, size_t n, double rate)
{
    chart_fmt(out, n, isfinite(rate) ? rate * 100 : NAN, CHART_PERCENT);
}

static void dur_text(char *out, size_t n, double s)
{
    chart_fmt(out, n, s, CHART_SECONDS);
}

/* A target as "> 95 %" (a rate) or "< 1 d" (seconds). */
static void target_text(char *out, size_t n, double t, enum chart_unit u,
                        enum want w)
{
    char v[48];

    if (!isfinite(t)) {
        out[0] = '\0';
        return;
    }
    if (u == CHART_PERCENT && t <= 1)
        t *= 100;
    chart_fmt(v, sizeof(v), t, u);
    snprintf(out, n, "%s %s", w == AT_LEAST ? "\xe2\x89\xa5" : "\xe2\x89\xa4",
             v);
}

/* A rate compared with a target given as a rate or in percent. */
static double rate_for(double rate, double target)
{
    return isfinite(target) && target > 1 && isfinite(rate) ? rate * 100 : rate;
}

static void dora_cards(struct page *pg, const json_t *f)
{
    const json_t *df = json_object_get(f, "deployment_frequency");
    const json_t *lt = json_object_get(f, "lead_time");
    const json_t *cfr = json_object_get(f, "change_failure_rate");
    const json_t *ttr = json_object_get(f, "time_to_restore");
    const json_t *dsr = json_object_get(f, "deployment_success_rate");
    const json_t *b = json_object_get(f, "builds");
    const json_t *cov = json_object_get(f, "coverage");
    const json_t *tests = json_object_get(f, "tests");
    char val[64];
    char sub[160];
    char tt[64];
    char a[48];
    char c2[48];
    struct card k;
    double t;
    double v;

    add(pg, "<h2>The four keys</h2><div class=\"cd-cards\">");
    /* deployment frequency: per day, its target a month's count */
    v = jnum(df, "per_day");
    t = target_value(json_object_get(df, "target"));
    snprintf(val, sizeof(val), "%.2f", isfinite(v) ? v : 0);
    snprintf(sub, sizeof(sub),
             "per day \xc2\xb7 %" PRId64 " in %s days "
             "\xc2\xb7 %s a month",
             jint(df, "count"),
             chart_fmt(a, sizeof(a), jnum(f, "days"), CHART_COUNT),
             chart_fmt(c2, sizeof(c2), jnum(df, "per_month"), CHART_COUNT));
    if (isfinite(t))
        snprintf(tt, sizeof(tt), "\xe2\x89\xa5 %s a month",
                 chart_fmt(a, sizeof(a), t, CHART_COUNT));
    k = (struct card){"deployment-frequency",
                      "Deployment frequency",
                      df,
                      v,
                      val,
                      sub,
                      jnum(df, "per_month"),
                      t,
                      isfinite(t) ? tt : NULL,
                      AT_LEAST};
    card(pg, &k);
    /* lead time */
    v = jnum(lt, "median_s");
    t = target_value(json_object_get(lt, "target"));
    dur_text(val, sizeof(val), v);
    dur_text(a, sizeof(a), jnum(lt, "p90_s"));
    snprintf(sub, sizeof(sub),
             "median, commit to production \xc2\xb7 p90 %s"
             " \xc2\xb7 %" PRId64 " changes",
             a, jint(lt, "count"));
    target_text(tt, sizeof(tt), t, CHART_SECONDS, AT_MOST);
    k = (struct card){
        "lead-time", "Lead time for changes", lt,     v, val, sub, v,
        t,           *tt ? tt : NULL,         AT_MOST};
    card(pg, &k);
    /* change failure rate */
    v = jnum(cfr, "rate");
    t = target_value(json_object_get(cfr, "target"));
    pct_text(val, sizeof(val), v);
    snprintf(sub, sizeof(sub), "%" PRId64 " of %" PRId64 " deployments failed",
             jint(cfr, "failed"), jint(cfr, "total"));
    target_text(tt, sizeof(tt), t, CHART_PERCENT, AT_MOST);
    k = (struct card){"change-failure-rate",
                      "Change failure rate",
                      cfr,
                      v,
                      val,
                      sub,
                      rate_for(v, t),
                      t,
                      *tt ? tt : NULL,
                      AT_MOST};
    card(pg, &k);
    /* time to restore */
    v = jnum(ttr, "median_s");
    t = target_value(json_object_get(ttr, "target"));
    dur_text(val, sizeof(val), v);
    snprintf(sub, sizeof(sub),
             "median \xc2\xb7 %" PRId64 " restored, %" PRId64 " open",
             jint(ttr, "count"), jint(ttr, "open"));
    target_text(tt, sizeof(tt), t, CHART_SECONDS, AT_MOST);
    k = (struct card){"time-to-restore",
                      "Time to restore service",
                      ttr,
                      v,
                      val,
                      sub,
                      v,
                      t,
                      *tt ? tt : NULL,
                      AT_MOST};
    card(pg, &k);
    add(pg, "</div><h2>Delivery and builds</h2><div class=\"cd-cards\">");
    /* deployment success */
    v = jnum(dsr, "rate");
    t = target_value(json_object_get(dsr, "target"));
    pct_text(val, sizeof(val), v);
    snprintf(sub, sizeof(sub), "%" PRId64 " of %" PRId64 " succeeded",
             jint(dsr, "succeeded"), jint(dsr, "total"));
    target_text(tt, sizeof(tt), t, CHART_PERCENT, AT_LEAST);
    k = (struct card){"deployment-success-rate",
                      "Deployment success rate",
                      dsr,
                      v,
                      val,
                      sub,
                      rate_for(v, t),
                      t,
                      *tt ? tt : NULL,
                      AT_LEAST};
    card(pg, &k);
    /* builds: success and time */
    v = jnum(b, "success_rate");
    t = jnum(b, "target_success_rate");
    pct_text(val, sizeof(val), v);
    snprintf(sub, sizeof(sub),
             "%" PRId64 " of %" PRId64 " runs succeeded, %" PRId64
             " failed, %" PRId64 " cancelled",
             jint(b, "success"), jint(b, "total"), jint(b, "failure"),
             jint(b, "cancelled"));
    target_text(tt, sizeof(tt), t, CHART_PERCENT, AT_LEAST);
    k = (struct card){"build-success-rate",
                      "Build success rate",
                      NULL,
                      v,
                      val,
                      sub,
                      rate_for(v, t),
                      t,
                      *tt ? tt : NULL,
                      AT_LEAST};
    card(pg, &k);
    v = jnum(b, "avg_duration_s");
    t = jnum(b, "target_avg_duration_s");
    dur_text(val, sizeof(val), v);
    target_text(tt, sizeof(tt), t, CHART_SECONDS, AT_MOST);
    k = (struct card){"build-time",
                      "Average build time",
                      NULL,
                      v,
                      val,
                      "per completed run",
                      v,
                      t,
                      *tt ? tt : NULL,
                      AT_MOST};
    card(pg, &k);
    /* coverage and tests */
    v = jnum(cov, "latest");
    t = target_value(json_object_get(cov, "target"));
    pct_text(val, sizeof(val), v);
    pct_text(a, sizeof(a), jnum(cov, "min"));
    pct_text(c2, sizeof(c2), jnum(cov, "max"));
    snprintf(sub, sizeof(sub), "latest \xc2\xb7 between %s and %s", a, c2);
    target_text(tt, sizeof(tt), t, CHART_PERCENT, AT_LEAST);
    k = (struct card){
        "coverage", "Test coverage", cov,     v, val, sub, rate_for(v, t),
        t,          *tt ? tt : NULL, AT_LEAST};
    card(pg, &k);
    v = jnum(tests, "latest_total");
    chart_fmt(val, sizeof(val), v, CHART_COUNT);
    chart_fmt(a, sizeof(a), jnum(tests, "latest_failed"), CHART_COUNT);
    snprintf(sub, sizeof(sub), "in the latest report \xc2\xb7 %s failed", a);
    k = (struct card){"tests", "Tests", NULL, v,    val,
                      sub,     NAN,     NAN,  NULL, AT_LEAST};
    card(pg, &k);
    add(pg, "</div>");
}

static void figure(struct page *pg, const char *caption, const struct chart *c,
                   bool bars)
{
    add(pg, "<figure><figcaption>");
    esc(pg, caption);
    add(pg, "</figcaption>");
    if (!pg->rc)
        pg->rc = bars ? chart_bars(&pg->b, c) : chart_line(&pg->b, c);
    add(pg, "</figure>");
}

static void dora_charts(struct page *pg, const json_t *f)
{
    const json_t *rows = json_object_get(f, "series");
    size_t n = json_array_size(rows);
    const char **labels;
    double *ok;
    double *bad;
    double *lt;
    double *rs;
    double *bs;
    double *cov;
    double *builds;
    double *bfail;
    struct chart c;

    if (n > CHART_MAX_POINTS)
        n = CHART_MAX_POINTS;
    labels = xcalloc(n + 1, sizeof(*labels));
    ok = xcalloc(n + 1, sizeof(double));
    bad = xcalloc(n + 1, sizeof(double));
    lt = xcalloc(n + 1, sizeof(double));
    rs = xcalloc(n + 1, sizeof(double));
    bs = xcalloc(n + 1, sizeof(double));
    cov = xcalloc(n + 1, sizeof(double));
    builds = xcalloc(n + 1, sizeof(double));
    bfail = xcalloc(n + 1, sizeof(double));
    for (size_t i = 0; i < n; i++)
        labels[i] = jstr(json_array_get(rows, i), "day");
    chart_values_json(rows, "deployments", 1, ok, n);
    chart_values_json(rows, "failed_deployments", 1, bad, n);
    chart_values_json(rows, "lead_time_median_s", 1, lt, n);
    chart_values_json(rows, "restore_median_s", 1, rs, n);
    chart_values_json(rows, "coverage", 100, cov, n);
    chart_values_json(rows, "builds", 1, builds, n);
    chart_values_json(rows, "failed_builds", 1, bfail, n);
    for (size_t i = 0; i < n; i++) {
        double fb = isfinite(bfail[i]) ? bfail[i] : 0;

        if (isfinite(ok[i]) && isfinite(bad[i]))
            ok[i] -= bad[i];
        bs[i] = isfinite(builds[i]) && builds[i] > 0
                    ? (builds[i] - fb) / builds[i] * 100
                    : NAN;
    }
    add(pg, "<h2>Over the window</h2><div class=\"cd-charts\">");
    {
        const struct chart_series deploys[2] = {{"succeeded", "#2da44e", ok},
                                                {"failed", "#d1242f", bad}};
        const struct chart_series lead = {"lead time (median)", "#0969da", lt};
        const struct chart_series restore = {"time to restore (median)",
                                             "#bf3989", rs};
        const struct chart_series bsr = {"build success", "#1a7f37", bs};
        const struct chart_series covs = {"coverage", "#8250df", cov};
        double t;

        memset(&c, 0, sizeof(c));
        c.labels = labels;
        c.n = n;
        c.id = "chart-deployments";
        c.title = "deployments per day";
        c.unit = CHART_COUNT;
        c.series = deploys;
        c.nseries = 2;
        figure(pg, "Deployments per day", &c, true);
        c.id = "chart-lead-time";
        c.title = "lead time for changes";
        c.unit = CHART_SECONDS;
        c.series = &lead;
        c.nseries = 1;
        t = target_value(
            json_object_get(json_object_get(f, "lead_time"), "target"));
        c.has_target = isfinite(t);
        c.target = t;
        figure(pg, "Lead time for changes", &c, false);
        c.id = "chart-time-to-restore";
        c.title = "time to restore service";
        c.series = &restore;
        t = target_value(
            json_object_get(json_object_get(f, "time_to_restore"), "target"));
        c.has_target = isfinite(t);
        c.target = t;
        figure(pg, "Time to restore service", &c, false);
        c.id = "chart-build-success";
        c.title = "build success rate";
        c.unit = CHART_PERCENT;
        c.series = &bsr;
        t = jnum(json_object_get(f, "builds"), "target_success_rate");
        c.has_target = isfinite(t);
        c.target = isfinite(t) && t <= 1 ? t * 100 : t;
        figure(pg, "Build success", &c, false);
        c.id = "chart-coverage";
        c.title = "coverage";
        c.series = &covs;
        t = target_value(
            json_object_get(json_object_get(f, "coverage"), "target"));
        c.has_target = isfinite(t);
        c.target = isfinite(t) && t <= 1 ? t * 100 : t;
        figure(pg, "Coverage", &c, false);
    }
    add(pg, "</div>");
    free(labels);
    free(ok);
    free(bad);
    free(lt);
    free(rs);
    free(bs);
    free(cov);
    free(builds);
    free(bfail);
}

/* A link to this page with other parameters: ?window=W&repo=R&… */
static void dora_href(struct page *pg, const char *window, const char *repo,
                      const char *env)
{
    add(pg, "/dora?window=");
    add_qval(pg, window);
    if (repo) {
        add(pg, "&amp;repo=");
        add_qval(pg, repo);
    }
    if (env) {
        add(pg, "&amp;environment=");
        add_qval(pg, env);
    }
}

void dashcd_dora(struct dash_ctx *d)
{
    static const char *const windows[] = {"7d", "30d", "90d"};
    const char *window = query(d, "window");
    const char *repo = query(d, "repo");
    const char *env = query(d, "environment");
    struct page pg;
    json_t *in = NULL;
    json_t *f;
    struct ferr err;
    int64_t ms;
    int64_t rid = 0;
    int64_t now = server_now_ms(d->api.s);

    ferr_clear(&err);
    if (!window)
        window = "30d";
    if (strlen(window) > 16 || dora_parse_window(window, &ms, &err)) {
        dash_error(d, 400, "%s",
                   err.msg[0] ? err.msg : "bad window: use e.g. 30d");
        return;
    }
    if (repo && !(rid = repo_id_of(d, repo))) {
        dash_error(d, 404, "repository '%s' not found", repo);
        return;
    }
    if (env && !cd_env_name_ok(env)) {
        dash_error(d, 422,
                   "an environment name is 1..%u letters, digits, "
                   "'-', '_' or '.'",
                   LIM_NAME);
        return;
    }
    ferr_clear(&err);
    if (store_dora_input(d->api.s->store, rid, env, now - ms, now, &in, &err)) {
        log_err("dashboard: cannot read the DORA input err='%s'", err.msg);
        dash_error(d, 500, "the figures cannot be computed");
        return;
    }
    f = dora_compute(in, now - ms, now);
    json_decref(in);
    if (!f) {
        dash_error(d, 500, "the figures cannot be computed");
        return;
    }
    page_init(&pg);
    add(&pg, "<p class=\"cd-windows\" id=\"dora-windows\">Window: ");
    for (size_t i = 0; i < sizeof(windows) / sizeof(windows[0]); i++) {
        bool cur = strcmp(window, windows[i]) == 0;

        addf(&pg, "<a id=\"window-%s\"%s href=\"", windows[i],
             cur ? " class=\"cd-current\" aria-current=\"page\"" : "");
        dora_href(&pg, windows[i], repo, env);
        addf(&pg, "\">%s</a>", windows[i]);
    }
    add(&pg, "<span class=\"muted\">");
    add_time(&pg, jstr(f, "since"));
    add(&pg, " \xe2\x80\x93 ");
    add_time(&pg, jstr(f, "until"));
    add(&pg, " \xc2\xb7 ");
    if (repo) {
        add(&pg, "repository ");
        esc(&pg, repo);
    } else {
        add(&pg, "every repository");
    }
    add(&pg, " \xc2\xb7 ");
    if (env) {
        add(&pg, "environment ");
        esc(&pg, env);
    } else {
        add(&pg, "production environments");
    }
    add(&pg, "</span></p><form class=\"filters\" method=\"get\" "
             "action=\"/dora\"><input type=\"hidden\" name=\"window\" "
             "value=\"");
    esc(&pg, window);
    add(&pg, "\"><label>Repository<input name=\"repo\" size=\"14\" value=\"");
    esc(&pg, repo);
    add(&pg, "\"></label><label>Environment<input name=\"environment\" "
             "size=\"14\" value=\"");
    esc(&pg, env);
    add(&pg, "\"></label><button type=\"submit\">Show</button></form>");
    dora_cards(&pg, f);
    dora_charts(&pg, f);
    json_decref(f);
    page_send(d, &pg, 200, "DORA metrics", "dora");
}

/* ---------- /trends ---------- */

void dashcd_trends(struct dash_ctx *d)
{
    const char *repo = query(d, "repo");
    const char *branch = query(d, "branch");
    struct page pg;
    json_t *cov = NULL;
    json_t *tests = NULL;
    struct ferr err;
    int64_t rid;
    char *ref;
    size_t nc;
    size_t nt;

    ferr_clear(&err);
    if (!branch)
        branch = "main";
    if (!repo) {
        struct store_repo *repos = NULL;
        size_t n = 0;

        if (store_repo_list(d->api.s->store, &repos, &n, &err) == FERR_OK &&
            n > 0) {
            page_init(&pg);
            add(&pg, "<p>Coverage and test counts of a repository's "
                     "runs:</p><ul id=\"trend-repos\">");
            for (size_t i = 0; i < n; i++) {
                add(&pg, "<li><a href=\"/trends?repo=");
                add_qval(&pg, repos[i].name);
                add(&pg, "&amp;branch=");
                add_qval(&pg, branch);
                add(&pg, "\">");
                esc(&pg, repos[i].name);
                add(&pg, "</a></li>");
            }
            add(&pg, "</ul>");
            store_repos_free(repos, n);
            page_send(d, &pg, 200, "Trends", "trends");
            return;
        }
        store_repos_free(repos, n);
        page_init(&pg);
        add(&pg, "<p class=\"note\">No repository yet.</p>");
        page_send(d, &pg, 200, "Trends", "trends");
        return;
    }
    if (!(rid = repo_id_of(d, repo))) {
        dash_error(d, 404, "repository '%s' not found", repo);
        return;
    }
    if (strlen(branch) > LIM_REF_BYTES) {
        dash_error(d, 422, "a branch name is at most %u bytes", LIM_REF_BYTES);
        return;
    }
    ref = strncmp(branch, "refs/", 5) == 0 ? xstrdup(branch)
                                           : xasprintf("refs/heads/%s", branch);
    if (store_report_trend(d->api.s->store, rid, ref, "coverage", TREND_MAX,
                           &cov, &err) ||
        store_report_trend(d->api.s->store, rid, ref, "tests", TREND_MAX,
                           &tests, &err)) {
        log_err("dashboard: cannot read the trends err='%s'", err.msg);
        json_decref(cov);
        json_decref(tests);
        free(ref);
        dash_error(d, 500, "the trends cannot be read");
        return;
    }
    free(ref);
    nc = json_array_size(cov);
    nt = json_array_size(tests);
    page_init(&pg);
    add(&pg, "<form class=\"filters\" method=\"get\" action=\"/trends\">"
             "<label>Repository<input name=\"repo\" size=\"14\" value=\"");
    esc(&pg, repo);
    add(&pg, "\"></label><label>Branch<input name=\"branch\" size=\"14\" "
             "value=\"");
    esc(&pg, branch);
    add(&pg, "\"></label><button type=\"submit\">Show</button></form>"
             "<div class=\"cd-charts\">");
    {
        /* the store answers newest first: charts read oldest first */
        char(*lab)[24] = xcalloc(TREND_MAX + 1, sizeof(*lab));
        const char **labels = xcalloc(TREND_MAX + 1, sizeof(*labels));
        double *v = xcalloc(TREND_MAX + 1, sizeof(double));
        double *passed = xcalloc(TREND_MAX + 1, sizeof(double));
        double *failed = xcalloc(TREND_MAX + 1, sizeof(double));
        double *skipped = xcalloc(TREND_MAX + 1, sizeof(double));
        struct chart_series cs = {"coverage", "#8250df", v};
        struct chart_series ts[3] = {{"passed", "#2da44e", passed},
                                     {"failed", "#d1242f", failed},
                                     {"skipped", "#8c959f", skipped}};
        struct chart c;

        for (size_t i = 0; i < nc && i < TREND_MAX; i++) {
            json_t *r = json_array_get(cov, nc - 1 - i);
            double rate = jnum(json_object_get(r, "summary"), "line_rate");

            snprintf(lab[i], sizeof(lab[i]), "run %" PRId64, jint(r, "run_id"));
            labels[i] = lab[i];
            v[i] = isfinite(rate) ? rate * 100 : NAN;
        }
        memset(&c, 0, sizeof(c));
        c.id = "chart-trend-coverage";
        c.title = "coverage over the last runs";
        c.unit = CHART_PERCENT;
        c.labels = labels;
        c.n = nc < TREND_MAX ? nc : TREND_MAX;
        c.series = &cs;
        c.nseries = 1;
        c.has_target = true;
        c.target = 70;
        c.target_label = "target 70 %";
        figure(&pg, "Coverage", &c, false);
        for (size_t i = 0; i < nt && i < TREND_MAX; i++) {
            json_t *r = json_array_get(tests, nt - 1 - i);
            json_t *s = json_object_get(r, "summary");
            double all = jnum(s, "tests");
            double bad =
                (isfinite(jnum(s, "failures")) ? jnum(s, "failures") : 0) +
                (isfinite(jnum(s, "errors")) ? jnum(s, "errors") : 0);
            double skip = isfinite(jnum(s, "skipped")) ? jnum(s, "skipped") : 0;

            snprintf(lab[i], sizeof(lab[i]), "run %" PRId64, jint(r, "run_id"));
            labels[i] = lab[i];
            passed[i] = isfinite(all) ? all - bad - skip : NAN;
            failed[i] = bad;
            skipped[i] = skip;
        }
        c.id = "chart-trend-tests";
        c.title = "tests over the last runs";
        c.unit = CHART_COUNT;
        c.n = nt < TREND_MAX ? nt : TREND_MAX;
        c.series = ts;
        c.nseries = 3;
        c.has_target = false;
        c.target_label = NULL;
        figure(&pg, "Tests", &c, true);
        free(lab);
        free(labels);
        free(v);
        free(passed);
        free(failed);
        free(skipped);
    }
    add(&pg, "</div>");
    if (nc > 0 || nt > 0) {
        json_t *r;
        size_t i;

        add(&pg, "<h2>Latest reports</h2><table class=\"table\" "
                 "id=\"trend-table\"><thead><tr><th>Run</th><th>Commit</th>"
                 "<th>Kind</th><th>Figures</th><th>When</th></tr></thead>"
                 "<tbody>");
        for (int k = 0; k < 2; k++) {
            json_array_foreach (k ? tests : cov, i, r) {
                json_t *s = json_object_get(r, "summary");
                char a[48];

                if (i >= 10)
                    break;
                add(&pg, "<tr><td>");
                run_link(&pg, r, "run_id");
                add(&pg, "</td><td>");
                add_sha(&pg, jstr(r, "sha"));
                addf(&pg, "</td><td>%s</td><td>", k ? "tests" : "coverage");
                if (k) {
                    addf(&pg,
                         "%" PRId64 " tests, %" PRId64 " failed, %" PRId64
                         " skipped",
                         jint(s, "tests"),
                         jint(s, "failures") + jint(s, "errors"),
                         jint(s, "skipped"));
                } else {
                    pct_text(a, sizeof(a), jnum(s, "line_rate"));
                    esc(&pg, a);
                }
                add(&pg, "</td><td>");
                add_time(&pg, jstr(r, "created_at"));
                add(&pg, "</td></tr>");
            }
        }
        add(&pg, "</tbody></table>");
    }
    json_decref(cov);
    json_decref(tests);
    page_send(d, &pg, 200, "Trends", "trends");
}
