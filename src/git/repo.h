/* repo: what ferry needs from a git repository, through libgit2 —
 * the current commit, branch and tags, and the paths a push changed (for
 * on.push.paths filters).  No worktree writes here. */
#ifndef FERRY_GIT_REPO_H
#define FERRY_GIT_REPO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/ferr.h"

struct repo_info {
    char sha[41];        /* HEAD commit, "" in a repository without commits */
    char before[41];     /* HEAD's first parent, or 40 zeros */
    char *ref;           /* "refs/heads/main" (also for an unborn branch),
                            or NULL when detached */
    char *branch;        /* "main" or NULL */
    char **tags;         /* tags pointing at HEAD (short names, sorted;
                            annotated tags are peeled) */
    size_t ntags;
    char *default_branch; /* origin/HEAD's target, else "main"/"master"
                             if it exists, else the current branch */
    char *toplevel;       /* absolute worktree path, no trailing slash
                             (the git dir for a bare repository) */
    char *remote_url;     /* origin's URL or NULL */
    char *author;        /* HEAD's author name, or NULL */
    char *message;       /* HEAD's message, or NULL */
};

/**
 * Describe the repository containing @dir (searched upward).  Works for a
 * repository without commits (sha "", before all zeros, no author).
 * Initialises libgit2 on first use (once per process, thread-safe).
 * Errors: FERR_NOTFOUND when @dir is not in a repository; FERR_IO from
 * libgit2.  The caller releases @out with repo_info_release; on error
 * @out is left released (all pointers NULL).
 */
enum ferr_code repo_describe(const char *dir, struct repo_info *out,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Initialise libgit2 now rather than at first use: it reads and parses
 * the system's CA bundle, ~10 ms that a server's idle spare worker pays
 * before it has a run.  Thread-safe; later calls do nothing.
 */
void repo_warm_up(void);

/** Free the strings of @ri (NULL is a no-op); @ri can be reused. */
void repo_info_release(struct repo_info *ri);

/**
 * The paths changed between commits @from and @to (diff of their trees,
 * renames as both names), or for @from empty/all zeros the paths of
 * @to's diff against its first parent (all files for a root commit).
 * With @include_worktree, uncommitted changes of the worktree against
 * @to are added (what `ferry run` on a dirty tree would push): staged and
 * unstaged changes and untracked files, never ignored ones.
 * @from and @to are revisions (shas, branch names, "HEAD~1"); @to NULL,
 * empty or all zeros means HEAD (the empty tree when HEAD is unborn).
 * The result is sorted and deduplicated; the caller frees it with
 * repo_free_paths.  Errors: FERR_NOTFOUND for no repository or an unknown
 * revision, FERR_IO from libgit2; then *@out is NULL and *@out_n 0.
 */
enum ferr_code repo_changed_paths(const char *dir, const char *from,
                                  const char *to, bool include_worktree,
                                  char ***out, size_t *out_n,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Free an array from repo_changed_paths. */
void repo_free_paths(char **paths, size_t n);

#endif
