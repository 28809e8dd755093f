/* history: what a deployment shipped, read from a repository's commits
 * through libgit2 — the time of the oldest commit a new version brings
 * over the one it replaces, where DORA's lead time for changes starts.
 * Read-only; it never fetches. */
#ifndef FERRY_GIT_HISTORY_H
#define FERRY_GIT_HISTORY_H

#include <stdint.h>

#include "util/ferr.h"

/* The most commits one history_oldest_ms call walks: a deployment of a
 * long-lived branch over a much older one stops there. */
#define HISTORY_MAX_COMMITS 10000u

/**
 * The committer time (ms since the epoch) of the oldest commit reachable
 * from @sha and not from @prev_sha in the repository at @repo_path (bare
 * or not; a mirror has every commit) — of the first HISTORY_MAX_COMMITS
 * such commits walked newest first.  When @prev_sha is NULL, not a full
 * 40-hex sha or not a commit of the repository (the first deployment, or
 * one from history the repository lost), and when nothing is new (a
 * redeploy, or a rollback to an ancestor), the time of @sha itself.
 * Committer time is when the commit was made as it is now: a rebase or a
 * cherry-pick starts its clock again.
 * Ownership: all arguments borrowed.  Errors: FERR_NOTFOUND when
 * @repo_path is not a repository or @sha (40 hex) is not a commit of it,
 * FERR_INVALID for a malformed @sha, FERR_IO from libgit2; *@out_ms 0.
 * Context: any thread (libgit2 is initialised once per process); reads
 * only, so it may run beside a mirror sync of another repository.
 */
enum ferr_code history_oldest_ms(const char *repo_path, const char *sha,
                                 const char *prev_sha, int64_t *out_ms,
                                 struct ferr *err) FERR_MUST_CHECK;

#endif
