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
    char *ref;           /* "refs/heads/main", or NULL when detached/none */
    char *branch;        /* "main" or NULL */
    char **tags;         /* tags pointing at HEAD (short names) */
    size_t ntags;
    char *default_branch; /* origin/HEAD's target, else "main"/"master" */
    char *toplevel;       /* absolute worktree path */
    char *remote_url;     /* origin's URL or NULL */
    char *author;        /* HEAD's author name, or NULL */
    char *message;       /* HEAD's message, or NULL */
};

/**
 * Describe the repository containing @dir (searched upward).
 * Errors: FERR_NOTFOUND when @dir is not in a repository; FERR_IO from
 * libgit2.  The caller releases @out with repo_info_release.
 */
enum ferr_code repo_describe(const char *dir, struct repo_info *out,
                             struct ferr *err) FERR_MUST_CHECK;
void repo_info_release(struct repo_info *ri);

/**
 * The paths changed between commits @from and @to (diff of their trees,
 * renames as both names), or for @from empty/all zeros the paths of
 * @to's diff against its first parent (all files for a root commit).
 * With @include_worktree, uncommitted changes of the worktree against
 * @to are added (what `ferry run` on a dirty tree would push).
 * The caller frees each string and the array.
 */
enum ferr_code repo_changed_paths(const char *dir, const char *from,
                                  const char *to, bool include_worktree,
                                  char ***out, size_t *out_n,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Free an array from repo_changed_paths. */
void repo_free_paths(char **paths, size_t n);

#endif
