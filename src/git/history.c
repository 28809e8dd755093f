/* history: the oldest new commit of a deployment (lead time's start)
 * with a libgit2 revision walk, bounded to HISTORY_MAX_COMMITS.  It does
 * not resolve names or abbreviations (deployments record full shas) and
 * never writes to or fetches into the repository. */
#include "git/history.h"

#include <git2.h>
#include <stdbool.h>
#include <string.h>

static enum ferr_code git_fail(struct ferr *err, const char *what)
{
    const git_error *e = git_error_last();

    return ferr_set(err, FERR_IO, NULL, "%s: %s", what,
                    e && e->message ? e->message : "libgit2 error");
}

static bool full_sha(const char *s)
{
    if (!s || strlen(s) != GIT_OID_HEXSZ)
        return false;
    for (size_t i = 0; i < GIT_OID_HEXSZ; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f') ||
              (s[i] >= 'A' && s[i] <= 'F')))
            return false;
    return true;
}

static int64_t commit_ms(const git_commit *c)
{
    return (int64_t)git_commit_time(c) * 1000;
}

/* The commit named by @hex, or NULL when it is none of @r's. */
static git_commit *lookup(git_repository *r, const char *hex)
{
    git_commit *c = NULL;
    git_oid oid;

    if (!full_sha(hex) || git_oid_fromstr(&oid, hex) != 0 ||
        git_commit_lookup(&c, r, &oid) != 0)
        return NULL;
    return c;
}

enum ferr_code history_oldest_ms(const char *repo_path, const char *sha,
                                 const char *prev_sha, int64_t *out_ms,
                                 struct ferr *err)
{
    git_repository *r = NULL;
    git_commit *head = NULL;
    git_commit *prev = NULL;
    git_revwalk *walk = NULL;
    enum ferr_code rc = FERR_OK;
    int64_t oldest;
    git_oid oid;
    unsigned n = 0;

    *out_ms = 0;
    if (!full_sha(sha))
        return ferr_set(err, FERR_INVALID, NULL,
                        "'%.64s' is not a full commit sha", sha ? sha : "");
    (void)git_libgit2_init(); /* a reference count: once is enough */
    if (git_repository_open_ext(&r, repo_path, GIT_REPOSITORY_OPEN_NO_SEARCH,
                                NULL) != 0) {
        r = NULL;
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "'%s' is not a git repository",
                      repo_path);
        goto done;
    }
    if (!(head = lookup(r, sha))) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "commit '%s' is not in '%s'",
                      sha, repo_path);
        goto done;
    }
    oldest = commit_ms(head);
    prev = lookup(r, prev_sha);
    if (!prev)
        goto found;
    if (git_revwalk_new(&walk, r) != 0 ||
        git_revwalk_sorting(walk, GIT_SORT_TIME) != 0 ||
        git_revwalk_push(walk, git_commit_id(head)) != 0 ||
        git_revwalk_hide(walk, git_commit_id(prev)) != 0) {
        rc = git_fail(err, "cannot walk the history");
        goto done;
    }
    while (n < HISTORY_MAX_COMMITS && git_revwalk_next(&oid, walk) == 0) {
        git_commit *c = NULL;

        if (git_commit_lookup(&c, r, &oid) != 0) {
            rc = git_fail(err, "cannot read a commit");
            goto done;
        }
        if (n == 0 || commit_ms(c) < oldest)
            oldest = commit_ms(c);
        git_commit_free(c);
        n++;
    }
    if (n == 0) /* nothing new: a redeploy or a step back */
        oldest = commit_ms(head);
found:
    *out_ms = oldest;
done:
    git_revwalk_free(walk);
    git_commit_free(prev);
    git_commit_free(head);
    git_repository_free(r);
    return rc;
}
