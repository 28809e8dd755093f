/* mirror: the server's bare mirror of each repository (fetched from its
 * source with libgit2) and the job checkouts made from it — worktrees
 * that borrow the mirror's objects through objects/info/alternates. */
#ifndef FERRY_GIT_MIRROR_H
#define FERRY_GIT_MIRROR_H

#include <stddef.h>

#include "util/ferr.h"

/**
 * Make @mirror (a bare repository, created with its parents when
 * missing) and fetch every branch and tag from @url — a local path (bare
 * or not) or a file:// URL; other URLs are attempted through libgit2
 * (no credentials, no connect timeout in libgit2 1.5) — with the
 * refspecs +refs/heads/x:refs/heads/x and +refs/tags/x:refs/tags/x for
 * every x, pruning branches and tags gone from the source.  The
 * source's HEAD target, when advertised, becomes the mirror's HEAD (see
 * mirror_default_branch); otherwise HEAD is set to that function's
 * fallback.  Errors: FERR_IO with libgit2's message ("fetch 'URL': ...",
 * the URL without its user info; "cannot create mirror 'PATH': ...").
 * Owner checks are libgit2's: a local source owned by another user needs
 * a safe.directory entry in the global git config.  Refs fetched
 * before a failure may have been updated.  Context: any thread (libgit2
 * is initialised once per process); concurrent syncs of one mirror are
 * the caller's to prevent.
 */
enum ferr_code mirror_sync(const char *mirror, const char *url,
                           struct ferr *err) FERR_MUST_CHECK;

/**
 * Resolve @rev in @mirror to a commit sha: a 40-hex sha, a full ref
 * ("refs/heads/x", "refs/tags/v1"), a branch or tag name (git's
 * precedence: tags before branches for a bare name), or an abbreviated
 * sha (4+ hex digits, used when no ref has that name).  Annotated tags
 * are peeled.  No revision syntax ("HEAD~1", "@{...}", ":/x") is read.
 * @out_sha receives 40 hex digits and a NUL ("" on error).
 * Errors: FERR_NOTFOUND for an unknown or ambiguous revision or one that
 * is not a commit; FERR_IO from libgit2 (also: not a repository).
 */
enum ferr_code mirror_resolve(const char *mirror, const char *rev,
                              char out_sha[41], struct ferr *err)
    FERR_MUST_CHECK;

/**
 * The mirror's default branch as a short name ("main"): the branch the
 * mirror's HEAD names (mirror_sync stores the source's HEAD target
 * there) when it exists, else "main" or "master" when present, else the
 * first branch in byte order.  Ownership: the caller frees *@out.
 * Errors: FERR_NOTFOUND when the mirror has no branches, FERR_IO; then
 * *@out is NULL.
 */
enum ferr_code mirror_default_branch(const char *mirror, char **out,
                                     struct ferr *err) FERR_MUST_CHECK;

/**
 * Make @dir (which must not exist; its parent must) a git repository
 * whose objects come from @mirror through objects/info/alternates (no
 * copy), with HEAD detached at @sha (any revision mirror_resolve reads),
 * the worktree and index checked out, and the mirror's refs copied as
 * refs: refs/tags/x as refs/tags/x, refs/heads/x as
 * refs/remotes/origin/x, refs/remotes/origin/HEAD naming the mirror's
 * default branch, and remote "origin" pointing at @mirror.  So
 * repo_describe(@dir) reports the sha, the tags at it and the default
 * branch, and repo_changed_paths(@dir, a, b) works for any commits of
 * the mirror.  The mirror must outlive @dir (and must not be pruned of
 * objects @dir uses).  Errors: FERR_NOTFOUND for an unknown sha (nothing
 * is created), FERR_IO (also: @dir exists); on error a @dir this call
 * created is removed.
 */
enum ferr_code mirror_checkout(const char *mirror, const char *sha,
                               const char *dir, struct ferr *err)
    FERR_MUST_CHECK;

/**
 * Read the file at @path (repository-relative, '/'-separated, no "." or
 * ".." components) in commit @sha (any revision mirror_resolve reads),
 * at most @max bytes.  Ownership: the caller frees *@out (NUL-terminated;
 * *@out_len excludes the NUL).  Errors: FERR_NOTFOUND when @path is
 * absent or not a regular file (a directory, a symlink, a submodule) or
 * @sha unknown, FERR_LIMIT when it is larger than @max, FERR_INVALID for
 * a malformed @path, FERR_IO; then *@out is NULL and *@out_len 0.
 */
enum ferr_code mirror_read_file(const char *mirror, const char *sha,
                                const char *path, size_t max, char **out,
                                size_t *out_len, struct ferr *err)
    FERR_MUST_CHECK;

/**
 * The workflow files of commit @sha: the regular files named *.yml or
 * *.yaml directly in .github/workflows, then those in .ferry/workflows,
 * each group sorted by name, as repository-relative paths
 * (".github/workflows/ci.yml").  No workflows is not an error (*@out_n
 * 0).  Ownership: free with mirror_free_paths.  Errors: FERR_NOTFOUND
 * for an unknown @sha, FERR_IO; then *@out is NULL and *@out_n 0.
 */
enum ferr_code mirror_workflows(const char *mirror, const char *sha,
                                char ***out, size_t *out_n,
                                struct ferr *err) FERR_MUST_CHECK;

/** Free an array from mirror_workflows (NULL is a no-op). */
void mirror_free_paths(char **v, size_t n);

#endif
