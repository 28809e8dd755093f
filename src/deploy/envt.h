/* envt: an environment's protection rules — who must approve (how many,
 * which role, which users, never the pusher alone), which branches may
 * deploy, the wait timer, the approval timeout and deploy freezes — as
 * the server stores them and the API takes them.  Pure: parsing,
 * validation and the checks; the server keeps the waiting and the
 * locks.  Rules live on the server, never in the repository, so a
 * branch cannot weaken its own protection. */
#ifndef FERRY_DEPLOY_ENVT_H
#define FERRY_DEPLOY_ENVT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/store.h"
#include "util/ferr.h"

#define ENVT_DEFAULT_TIMEOUT_S 1800u /* 30 minutes to approve */

/** A deploy freeze: no deployment starts in [from_ms, to_ms). */
struct envt_freeze {
    int64_t from_ms;
    int64_t to_ms;
};

struct envt_rules {
    unsigned reviewers;            /* approvals needed; 0: none */
    enum store_role reviewer_role; /* the least role that may approve */
    char **users;                  /* when n_users > 0: only these token
                                      names may approve */
    size_t n_users;
    bool prevent_self_review;      /* the run's actor may not approve */
    char **branches;               /* globs over the ref's short name,
                                      like main or v*; none: any ref
                                      may deploy */
    size_t n_branches;
    unsigned wait_timer_s;         /* the job waits this long first */
    unsigned approval_timeout_s;   /* then fails "approval timed out" */
    struct envt_freeze *freezes;
    size_t n_freezes;
    bool production;               /* releases get tags; DORA counts it */
};

/**
 * Parse @in (the API's body or the stored rules; borrowed) into @out.
 * Keys: "reviewers" (0..10), "reviewer_role" ("developer", "approver",
 * "admin"; default approver), "reviewer_users" ([names]),
 * "prevent_self_review" (bool, default true), "branches" ([globs]),
 * "wait_timer" and "approval_timeout" (seconds, or text "90s", "5m",
 * "2h"; the timeout 1 s..7 days, default 30 min), "freeze"
 * ([{"from": RFC 3339, "to": RFC 3339}], "2026-12-24T00:00:00Z" or a
 * date before the year 10000), "production" (bool).  The wait timer is
 * at most 30 days; branch globs must be valid.  Unknown keys, wrong
 * types and bad values are FERR_INVALID naming the key
 * ("'approval_timeout': bad duration '30 minutes'"); a list of more than
 * 100 entries is FERR_LIMIT.  @out is released and left empty on error.
 */
enum ferr_code envt_rules_parse(json_t *in, struct envt_rules *out,
                                struct ferr *err) FERR_MUST_CHECK;

/** Free what @r owns and zero it. */
void envt_rules_release(struct envt_rules *r);

/** @r in its stored form (a new object: durations in seconds, freezes
 *  as RFC 3339 text), which envt_rules_parse reads back. */
json_t *envt_rules_json(const struct envt_rules *r);

/** Whether @ref ("refs/heads/main", "refs/tags/v1.2.0") may deploy. */
bool envt_branch_allowed(const struct envt_rules *r, const char *ref);

/** The end (ms) of the freeze that holds at @now_ms, or 0 when none. */
int64_t envt_frozen_until(const struct envt_rules *r, int64_t now_ms);

/**
 * May the token named @user with @role approve (or reject) a deployment
 * that @actor triggered?  FERR_OK, or FERR_USAGE with why: "reviewing
 * 'production' needs the approver role (the token is developer)",
 * "'bob' is not a reviewer of 'production'", "'alice' triggered this
 * deployment and may not review it".
 */
enum ferr_code envt_may_review(const struct envt_rules *r, const char *env,
                               enum store_role role, const char *user,
                               const char *actor,
                               struct ferr *err) FERR_MUST_CHECK;

/** Parse "90", "90s", "5m", "2h", "1d" into seconds (< 2^31).
 *  FERR_INVALID otherwise. */
enum ferr_code envt_duration(const char *text, unsigned *out_s,
                             struct ferr *err) FERR_MUST_CHECK;

#endif
