/* webhook: authenticate deliveries from GitHub, Gitea, GitLab and ferry's
 * own post-receive hook, and normalise them into GitHub-shaped events
 * (the payload shape the engine reads as github.event). */
#ifndef FERRY_TRIGGER_WEBHOOK_H
#define FERRY_TRIGGER_WEBHOOK_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/ferr.h"

enum webhook_source {
    WH_GITHUB, /* POST /hooks/github */
    WH_GITEA,  /* POST /hooks/gitea (also Forgejo) */
    WH_GITLAB, /* POST /hooks/gitlab */
    WH_GIT     /* POST /hooks/git: ferry's post-receive hook */
};

/** "github", "gitea", "gitlab" or "git" (static). */
const char *webhook_source_name(enum webhook_source s);

/**
 * The source named @name ("github", "gitea", "gitlab", "git"), for the
 * route /hooks/NAME.  False (and *@out untouched) for any other name.
 */
bool webhook_source_parse(const char *name, enum webhook_source *out);

/**
 * Check the delivery's authenticity against the repository's webhook key
 * (@key, @klen bytes).  @signature is the header's value, NULL when the
 * header is absent:
 *   github  "X-Hub-Signature-256: sha256=HEX", HEX = HMAC-SHA256(body, key)
 *   gitea   "X-Gitea-Signature: HEX" (a "sha256=" prefix is accepted)
 *   gitlab  "X-Gitlab-Token: KEY" (the key itself)
 *   git     "X-Ferry-Signature-256: sha256=HEX"
 * HEX is 64 hex digits in either case.  Every comparison is constant
 * time; for gitlab the length is not leaked either.  An empty key never
 * authenticates anything.
 * Errors: FERR_INVALID "missing signature" (NULL or empty @signature) or
 * "bad signature" (anything else wrong; never which byte).  Any thread.
 */
enum ferr_code webhook_verify(enum webhook_source src, const char *signature,
                              const void *key, size_t klen, const char *body,
                              size_t len, struct ferr *err) FERR_MUST_CHECK;

/** One event to run workflows for.  Every string is non-NULL, heap. */
struct webhook_event {
    char *event;     /* "push", "pull_request", "ping" */
    char *repo;      /* repository name from the payload ("" for git: the
                        caller knows it) */
    char *repo_full; /* "owner/name" or "" */
    char *ref;       /* push: "refs/heads/x" / "refs/tags/v1";
                        pull_request: the base ref "refs/heads/main";
                        ping: "" */
    char sha[65];    /* the commit to run, 40 (or 64, SHA-256 repositories)
                        lowercase hex: push after / PR head sha; "" for ping
                        and deletions */
    char before[65]; /* push before (PR: the previous head on synchronize),
                        or zeros (40, or 64 when sha has 64) */
    bool deleted;    /* a branch/tag deletion: nothing to run */
    char *actor;     /* sender login / pusher name, or "" */
    json_t *payload; /* the GitHub-shaped payload (owned; a JSON object) */
};

/**
 * Parse a delivery of @len bytes at @body.  @event_header is the value of
 * X-GitHub-Event / X-Gitea-Event / X-Gitlab-Event (NULL for git).
 *
 * github, gitea: "push", "pull_request", "ping"; the payload is kept as
 * sent (a form-encoded "payload=..." body is decoded).  Gitea's payload is
 * completed to GitHub's shape: pusher.name, created/deleted/forced,
 * head_commit (the commit whose id is 'after'), and its pull_request
 * action "synchronized" becomes "synchronize".
 * gitlab: "Push Hook" and "Tag Push Hook" become push, "Merge Request
 * Hook" becomes pull_request with GitHub's actions (open → opened,
 * update → synchronize when it carries new commits (oldrev) and edited
 * when not, reopen → reopened, close and merge → closed, merge also sets
 * pull_request.merged); GitLab's newest-first commits are put oldest
 * first.  Other merge request actions (approved, ...) are FERR_UNSUPPORTED.
 * git: the body is post-receive's stdin, lines "OLD NEW REFNAME" (40 or
 * 64 hex each, the same length; blank lines skipped; at most
 * LIM_HOOK_REFS lines), one push event per line with the payload {ref,
 * before, after, created, deleted, forced: false}.
 * Every ref is checked like git check-ref-format (and must start with
 * "refs/"); every commit id is 40 or 64 hex.
 *
 * Ownership: on success *@out (an array of *@out_n ≥ 1 events) is the
 * caller's (webhook_events_free).
 * Errors: FERR_LIMIT (body over LIM_HOOK_BODY, too many hook lines);
 * FERR_PARSE "malformed JSON at line L col C: ...", "payload must be a
 * JSON object", "malformed hook line N"; FERR_INVALID for a missing
 * header, a missing or mistyped required field ("push payload without
 * 'ref'"), an invalid ref or commit id; FERR_UNSUPPORTED "event 'x' is
 * not handled" (the server answers 200, outcome "ignored").  On error
 * *@out is NULL and *@out_n 0.  Never crashes on any input.  Any thread.
 */
enum ferr_code webhook_parse(enum webhook_source src, const char *event_header,
                             const char *body, size_t len,
                             struct webhook_event **out, size_t *out_n,
                             struct ferr *err) FERR_MUST_CHECK;

/** Free @n events of @v and the array; NULL is a no-op. */
void webhook_events_free(struct webhook_event *v, size_t n);

/**
 * Whether the @len bytes at @ref are a full ref git accepts: "refs/"
 * then components, none starting with '.' or ending in ".lock", no "..",
 * "//", "@{", no control character, space, ~ ^ : ? * [ or backslash, not
 * ending in '/' or '.', valid UTF-8, at most LIM_REF_BYTES bytes.
 */
bool webhook_ref_valid(const char *ref, size_t len);

/**
 * Whether @name (@len bytes) is a valid branch name: "refs/heads/" +
 * @name passes webhook_ref_valid.
 */
bool webhook_branch_valid(const char *name, size_t len);

#endif
