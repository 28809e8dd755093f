/* api (internal to src/server): what the API's handler files share — a
 * request's context and the helpers that answer errors, audit, and load
 * what a path names.  api.c holds the route table; cdapi.c the handlers
 * of environments, deployments and incidents. */
#ifndef FERRY_SERVER_API_H
#define FERRY_SERVER_API_H

#include <stdbool.h>
#include <stdint.h>

#include "server/httpd.h"
#include "server/route.h"
#include "server/server.h"
#include "store/store.h"
#include "util/ferr.h"

/** One request being answered (all borrowed for the handler's call). */
struct api_ctx {
    struct server *s;
    struct httpd_req *req;
    const char *caps[ROUTE_MAX_CAPS]; /* the route's :captures, in order */
    size_t ncaps;
    struct store_token tok; /* the caller (id 0 without a token) */
};

/** Answer @err: 404 for FERR_NOTFOUND, 413 FERR_LIMIT, 400 FERR_PARSE,
 *  422 FERR_INVALID/USAGE/UNSUPPORTED, else 500 (logged, not shown). */
void api_fail(struct api_ctx *c, enum ferr_code rc, const struct ferr *err);

/** Record @action on @target by the caller in the audit log (a failure
 *  is logged, never answered). */
void api_audit(struct api_ctx *c, const char *action, const char *target,
               const char *detail);

/** Capture @i as an id in *@out; false after answering 404. */
bool api_cap_id(struct api_ctx *c, size_t i, int64_t *out);

/** Repository @name into @out (the caller releases it); false after
 *  answering 404 or 500. */
bool api_load_repo(struct api_ctx *c, const char *name,
                   struct store_repo *out);

/**
 * Artifact @name of run @run_id as a tar in an unnamed temp file under
 * the server's home: *@out_fd (the caller's, at offset 0; -1 on error)
 * holds *@out_size bytes.  Errors: the artifact store's (FERR_NOTFOUND
 * for no such artifact, FERR_INVALID for a name it refuses), FERR_IO.
 * Context: loop thread; blocking for the export.
 */
enum ferr_code api_artifact_export(struct server *s, int64_t run_id,
                                   const char *name, int *out_fd,
                                   uint64_t *out_size,
                                   struct ferr *err) FERR_MUST_CHECK;

/** Add `Content-Disposition: attachment; filename="NAME.tar"` to @req's
 *  answer, leaving out of @name what a quoted header value cannot hold
 *  (control bytes, non-ASCII, '"' and '\\'). */
void api_attachment_header(struct httpd_req *req, const char *name);

/* ---------- cdapi.c: environments, deployments, incidents ---------- */
void cdapi_env_list(struct api_ctx *c);
void cdapi_env_get(struct api_ctx *c);
void cdapi_env_put(struct api_ctx *c);
void cdapi_env_unlock(struct api_ctx *c);
void cdapi_env_rollback(struct api_ctx *c);
void cdapi_deploy_list(struct api_ctx *c);
void cdapi_deploy_get(struct api_ctx *c);
void cdapi_deploy_approve(struct api_ctx *c);
void cdapi_deploy_reject(struct api_ctx *c);
void cdapi_deploy_event(struct api_ctx *c);
void cdapi_incident_list(struct api_ctx *c);
void cdapi_incident_get(struct api_ctx *c);
void cdapi_alert_list(struct api_ctx *c);

/* ---------- watchapi.c: DORA figures, reports and their trends ---------- */
/** GET /api/v1/dora?window=30d&repo=R&environment=E */
void watchapi_dora(struct api_ctx *c);
/** GET /api/v1/runs/:id/reports */
void watchapi_run_reports(struct api_ctx *c);
/** GET /api/v1/repos/:name/trends?kind=coverage|tests&branch=B&limit=N */
void watchapi_trend(struct api_ctx *c);

/* ---------- the web dashboard (dash.c) ---------- */
/** Answer a request for a path outside the API (/, /runs/…, /login,
 *  /static/…): the dashboard's own routing, session and CSRF checks. */
void dash_handle(struct server *s, struct httpd_req *req);

#endif
