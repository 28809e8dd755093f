/* dash (internal to src/server): what the web dashboard's page files
 * share.  dash.c routes every path outside the API, logs people in (a
 * token exchanged for a session cookie) and checks CSRF on every POST;
 * dashruns.c serves the runs, run (job graph) and live-log pages;
 * dashcd.c serves approvals, environments, deployments, incidents, the
 * DORA page and the coverage/test trends.  HTML comes from src/web/
 * (pure rendering). */
#ifndef FERRY_SERVER_DASH_H
#define FERRY_SERVER_DASH_H

#include <jansson.h>
#include <stdbool.h>

#include "server/api.h"
#include "util/buf.h"

/** One dashboard request (all borrowed for the handler's call). */
struct dash_ctx {
    struct api_ctx api; /* server, request, captures; api.tok is the
                           session's token (id 0 on the login page) */
    const char *csrf;   /* the session's CSRF token, for forms'
                           hidden input named "csrf" */
    json_t *form;       /* POST: the urlencoded body's fields (name ->
                           string); NULL for GET */
};

/** A page handler.  POST handlers run only after the CSRF check and
 *  the route's role check passed. */
typedef void (*dash_handler)(struct dash_ctx *d);

/**
 * Answer @status with a whole page: the layout (title, navigation with
 * @nav marked current: "runs", "approvals", "environments",
 * "deployments", "incidents", "dora", "trends"; the user and a logout
 * form), then @body.  Takes @body's contents (it is left empty).
 */
void dash_page(struct dash_ctx *d, int status, const char *title,
               const char *nav, struct buf *body);

/** Answer @status with an error page saying @fmt (HTML-escaped). */
void dash_error(struct dash_ctx *d, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** Answer 303 See Other to @location (a path on this server). */
void dash_redirect(struct dash_ctx *d, const char *location);

/** Query parameter @name, NULL when absent. */
const char *dash_query(struct dash_ctx *d, const char *name);

/** Form field @name of a POST, NULL when absent. */
const char *dash_form(struct dash_ctx *d, const char *name);

/** True when the session's role is at least @need; otherwise answers a
 *  403 page naming the role and returns false. */
bool dash_role(struct dash_ctx *d, enum store_role need);

/* ---------- dashruns.c ---------- */
/** GET / and /runs?repo=&branch=&status=&conclusion=&cursor=: the runs,
 *  newest first, with filters. */
void dashruns_list(struct dash_ctx *d);
/** GET /runs/:id?attempt=N: the run, its job graph, jobs and steps,
 *  reports and artifacts. */
void dashruns_run(struct dash_ctx *d);
/** POST /runs/:id/cancel: cancel the run, then back to it. */
void dashruns_cancel(struct dash_ctx *d);
/** GET /runs/:id/logs?job=: the run's log, per job and step, groups
 *  folded. */
void dashruns_logs(struct dash_ctx *d);
/** GET /runs/:id/events: the run's live log lines as Server-Sent Events
 *  (what /static/app.js follows). */
void dashruns_events(struct dash_ctx *d);
/** GET /runs/:id/artifacts/:name: the artifact as a tar file. */
void dashruns_artifact(struct dash_ctx *d);

/* ---------- dashcd.c ---------- */
/** GET /approvals: deployments waiting for a review, with approve and
 *  reject forms for those the user may review. */
void dashcd_approvals(struct dash_ctx *d);
/** POST /deployments/:id/review (form: decision=approve|reject,
 *  comment): cd_review, then back to the deployment. */
void dashcd_review(struct dash_ctx *d);
/** GET /environments: each with its current and previous version,
 *  lock and rules. */
void dashcd_environments(struct dash_ctx *d);
/** GET /deployments?repo=&env=&status= */
void dashcd_deployments(struct dash_ctx *d);
/** GET /deployments/:id: the record, its phases and approvals. */
void dashcd_deployment(struct dash_ctx *d);
/** GET /incidents */
void dashcd_incidents(struct dash_ctx *d);
/** GET /incidents/:id: the timeline. */
void dashcd_incident(struct dash_ctx *d);
/** GET /dora?window=30d&repo=&environment=: the figures and charts. */
void dashcd_dora(struct dash_ctx *d);
/** GET /trends?repo=&branch=: coverage and test counts over runs. */
void dashcd_trends(struct dash_ctx *d);

#endif
