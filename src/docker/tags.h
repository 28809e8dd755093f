/* tags: the image tag scheme of `uses: ferry/image@v1`, computed from
 * the job's GITHUB_REF, GITHUB_SHA and GITHUB_RUN_NUMBER: sha-<7> always;
 * latest on the default branch; <branch>-<run> on any other branch;
 * vX.Y.Z and X.Y on a release tag refs/tags/vX.Y.Z; pr-<N> on a pull
 * request.  Pure: no I/O, no environment. */
#ifndef FERRY_DOCKER_TAGS_H
#define FERRY_DOCKER_TAGS_H

#include <stdbool.h>
#include <stddef.h>

#include "util/ferr.h"

#define TAGS_MAX_LEN 128u /* a tag's length (Docker's limit) */
#define TAGS_MAX     64u  /* tags on one image */

/** What the scheme looks at (borrowed; any may be NULL). */
struct tags_input {
    const char *ref;            /* GITHUB_REF: refs/heads/develop,
                                   refs/tags/v1.2.3, refs/pull/7/merge */
    const char *sha;            /* GITHUB_SHA: at least 7 hex digits */
    const char *run_number;     /* GITHUB_RUN_NUMBER: digits; NULL or ""
                                   leaves the branch tag without it */
    const char *default_branch; /* NULL or "": "main" */
};

/** A list of distinct tags, in the order they were added. */
struct tags_list {
    char **v; /* each the list's own */
    size_t n;
};

/** An empty list. */
void tags_list_init(struct tags_list *l);

/** Free every tag; @l can be tags_list_init'ed again. */
void tags_list_release(struct tags_list *l);

/**
 * Whether @tag is a valid image tag: 1 to TAGS_MAX_LEN characters of
 * [A-Za-z0-9_.-], not starting with '.' or '-' (Docker's rule).
 */
bool tags_valid(const char *tag);

/**
 * Add a copy of @tag to @l unless it is there already.
 * Errors: FERR_INVALID "'x y' is not a valid image tag …" (tags_valid);
 * FERR_LIMIT past TAGS_MAX.  @l is unchanged on error.
 */
enum ferr_code tags_list_add(struct tags_list *l, const char *tag,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Make a tag from a branch name: lowercase; every character outside
 * [a-z0-9_.-] becomes '-', runs of '-' collapse to one; leading '.' and
 * '-' and trailing '-' and '.' are dropped; cut so that @reserve more
 * characters (a "-12" suffix) still fit in TAGS_MAX_LEN.  "feature/Login"
 * → "feature-login".  Returns a new string (the caller's, free()), ""
 * when nothing is left.
 */
char *tags_sanitize(const char *name, size_t reserve);

/**
 * The scheme's tags for @in, appended to @l: "sha-" and the first 7 hex
 * digits of the commit (lowercased), then by ref:
 * refs/heads/DEFAULT → "latest"; refs/heads/B → sanitize(B) "-" run
 * number (just sanitize(B) without a run number); refs/tags/vX.Y.Z →
 * "vX.Y.Z" and "X.Y" (a pre-release vX.Y.Z-rc.1 gets only its own tag,
 * '+' build metadata becoming '-'); any other refs/tags/T → sanitize(T);
 * refs/pull/N/… → "pr-N"; anything else nothing more.
 * Errors: FERR_INVALID when the sha is missing or not hex, or the run
 * number is not digits; FERR_LIMIT from tags_list_add.  On error @l may
 * hold the tags added before it.
 */
enum ferr_code tags_scheme(const struct tags_input *in, struct tags_list *l,
                           struct ferr *err) FERR_MUST_CHECK;

/**
 * Split @ref ("127.0.0.1:5000/ferry/app:v1", "app@sha256:…") into the
 * repository, the tag and the digest, each a new string or NULL when
 * absent (*@out_repo never NULL on success).  The registry host of the
 * repository is its first component when that has a '.' or ':' or is
 * "localhost"; *@out_registry (may be NULL) gets it, or NULL.
 * Errors: FERR_INVALID for an empty reference, an empty component, a
 * tag that is not valid, a digest that is not ALGO:HEX, a repository
 * with upper-case letters or characters outside [a-z0-9._/-:] (host
 * part only for ':'); every out is NULL then.
 */
enum ferr_code tags_parse_ref(const char *ref, char **out_repo, char **out_tag,
                              char **out_digest, char **out_registry,
                              struct ferr *err) FERR_MUST_CHECK;

#endif
