/* tag: release tags on a repository (`vX.Y.Z` after a successful
 * production deployment) through libgit2: the next patch version and an
 * annotated tag at a commit.  Local repositories only (a path, bare or
 * not): ferry does not push to remotes. */
#ifndef FERRY_GIT_TAG_H
#define FERRY_GIT_TAG_H

#include "util/ferr.h"

/**
 * The release after the highest tag vX.Y.Z of @repo_path: its patch
 * version plus one, or "v1.0.0" when there is none.  *@out is the
 * caller's (free).  Errors: FERR_NOTFOUND (not a repository), FERR_IO.
 */
enum ferr_code tag_next_patch(const char *repo_path, char **out,
                              struct ferr *err) FERR_MUST_CHECK;

/** Whether @name is a release tag vX.Y.Z (numbers without sign, at most
 *  9 digits each), optionally with a semver suffix (v1.2.0-rc.1); at most
 *  64 bytes.  tag_next_patch counts only plain vX.Y.Z. */
int tag_is_release(const char *name);

/**
 * Create annotated tag @name at commit @sha in @repo_path with
 * @message, tagged by "ferry".  Errors: FERR_INVALID "tag 'v1.0.0'
 * exists" (it is never moved), FERR_NOTFOUND (no such repository or
 * commit), FERR_IO.
 */
enum ferr_code tag_create(const char *repo_path, const char *name,
                          const char *sha, const char *message,
                          struct ferr *err) FERR_MUST_CHECK;

#endif
