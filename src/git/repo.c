/* repo: read-only facts about a git repository through libgit2 — HEAD,
 * its parent, branch, tags, default branch, origin, and the paths a push
 * changed (tree diff with rename detection, optionally plus the dirty
 * worktree).  It never writes to the repository and never fetches. */
#include "git/repo.h"

#include <git2.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define ZERO_SHA "0000000000000000000000000000000000000000"

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libgit2(void)
{
    /* libgit2 keeps a reference count; we take one for the process */
    (void)git_libgit2_init();
}

void repo_warm_up(void)
{
    pthread_once(&init_once, init_libgit2);
}

static enum ferr_code git_fail(struct ferr *err, const char *what)
{
    const git_error *ge = git_error_last();

    return ferr_set(err, FERR_IO, NULL, "%s: %s", what,
                    ge && ge->message ? ge->message : "unknown git error");
}

static enum ferr_code open_repo(const char *dir, git_repository **out,
                                struct ferr *err)
{
    int rc;

    pthread_once(&init_once, init_libgit2);
    *out = NULL;
    rc = git_repository_open_ext(out, dir, 0, NULL);
    if (rc == GIT_ENOTFOUND)
        return ferr_set(err, FERR_NOTFOUND, NULL,
                        "'%s' is not in a git repository", dir);
    if (rc < 0)
        return git_fail(err, "cannot open repository");
    return FERR_OK;
}

static char *strip_slash_dup(const char *p)
{
    size_t n = strlen(p);

    while (n > 1 && p[n - 1] == '/')
        n--;
    return xstrndup(p, n);
}

struct tag_scan {
    git_repository *repo;
    const git_oid *head;
    char **tags;
    size_t n, cap;
};

static int tag_cb(const char *name, git_oid *oid, void *payload)
{
    struct tag_scan *ts = payload;
    git_object *obj = NULL;
    git_object *peeled = NULL;
    const char *shortname = name;

    if (git_object_lookup(&obj, ts->repo, oid, GIT_OBJECT_ANY) < 0)
        goto done; /* dangling tag: not ours to report */
    if (git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT) < 0)
        goto done; /* a tag of a tree or blob */
    if (!git_oid_equal(git_object_id(peeled), ts->head))
        goto done;
    if (!strncmp(shortname, "refs/tags/", 10))
        shortname += 10;
    if (ts->n == ts->cap) {
        ts->cap = ts->cap ? ts->cap * 2 : 4;
        ts->tags = xrealloc(ts->tags, ts->cap * sizeof(*ts->tags));
    }
    ts->tags[ts->n++] = xstrdup(shortname);
done:
    git_object_free(peeled);
    git_object_free(obj);
    git_error_clear();
    return 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool ref_exists(git_repository *repo, const char *name)
{
    git_reference *r = NULL;
    bool ok = git_reference_lookup(&r, repo, name) == 0;

    git_reference_free(r);
    git_error_clear();
    return ok;
}

static char *default_branch(git_repository *repo, const char *current)
{
    git_reference *r = NULL;
    char *out = NULL;
    static const char prefix[] = "refs/remotes/origin/";

    if (git_reference_lookup(&r, repo, "refs/remotes/origin/HEAD") == 0 &&
        git_reference_type(r) == GIT_REFERENCE_SYMBOLIC) {
        const char *t = git_reference_symbolic_target(r);

        if (t && !strncmp(t, prefix, sizeof(prefix) - 1) &&
            t[sizeof(prefix) - 1])
            out = xstrdup(t + sizeof(prefix) - 1);
    }
    git_reference_free(r);
    git_error_clear();
    if (!out && ref_exists(repo, "refs/heads/main"))
        out = xstrdup("main");
    if (!out && ref_exists(repo, "refs/heads/master"))
        out = xstrdup("master");
    if (!out && current)
        out = xstrdup(current);
    return out;
}

/* Fill ref/branch from HEAD's symbolic target (also for an unborn
 * branch); leaves them NULL when HEAD is detached. */
static void head_ref(git_repository *repo, struct repo_info *ri)
{
    git_reference *h = NULL;
    const char *t;

    if (git_reference_lookup(&h, repo, "HEAD") < 0) {
        git_error_clear();
        return;
    }
    if (git_reference_type(h) == GIT_REFERENCE_SYMBOLIC) {
        t = git_reference_symbolic_target(h);
        if (t) {
            ri->ref = xstrdup(t);
            if (!strncmp(t, "refs/heads/", 11))
                ri->branch = xstrdup(t + 11);
        }
    }
    git_reference_free(h);
}

enum ferr_code repo_describe(const char *dir, struct repo_info *out,
                             struct ferr *err)
{
    git_repository *repo = NULL;
    git_commit *commit = NULL;
    git_config *cfg = NULL;
    git_oid oid;
    const char *wd;
    enum ferr_code rc;
    int grc;

    memset(out, 0, sizeof(*out));
    memcpy(out->before, ZERO_SHA, sizeof(out->before));
    rc = open_repo(dir, &repo, err);
    if (rc)
        return rc;
    head_ref(repo, out);
    grc = git_reference_name_to_id(&oid, repo, "HEAD");
    if (grc == 0) {
        const git_signature *author;
        const char *msg;

        if (git_commit_lookup(&commit, repo, &oid) < 0) {
            rc = git_fail(err, "cannot read HEAD commit");
            goto done;
        }
        git_oid_tostr(out->sha, sizeof(out->sha), &oid);
        if (git_commit_parentcount(commit) > 0)
            git_oid_tostr(out->before, sizeof(out->before),
                          git_commit_parent_id(commit, 0));
        author = git_commit_author(commit);
        if (author && author->name)
            out->author = xstrdup(author->name);
        msg = git_commit_message(commit);
        if (msg)
            out->message = xstrdup(msg);
    } else if (grc != GIT_ENOTFOUND && grc != GIT_EUNBORNBRANCH) {
        rc = git_fail(err, "cannot resolve HEAD");
        goto done;
    }
    git_error_clear();
    if (out->sha[0]) {
        struct tag_scan ts = { repo, &oid, NULL, 0, 0 };

        if (git_tag_foreach(repo, tag_cb, &ts) < 0)
            git_error_clear(); /* no tags is fine */
        if (ts.n > 1)
            qsort(ts.tags, ts.n, sizeof(*ts.tags), cmp_str);
        out->tags = ts.tags;
        out->ntags = ts.n;
    }
    out->default_branch = default_branch(repo, out->branch);
    wd = git_repository_workdir(repo);
    if (!wd)
        wd = git_repository_path(repo); /* bare: the git dir itself */
    out->toplevel = strip_slash_dup(wd);
    /* the configured URL, as `git config remote.origin.url`; not
     * git_remote_lookup, which applies insteadOf through a regex path
     * that leaks in libgit2 1.5 with system PCRE2 */
    if (git_repository_config_snapshot(&cfg, repo) == 0) {
        const char *url = NULL;

        if (git_config_get_string(&url, cfg, "remote.origin.url") == 0 &&
            url)
            out->remote_url = xstrdup(url);
    }
    git_error_clear();
done:
    git_config_free(cfg);
    git_commit_free(commit);
    git_repository_free(repo);
    if (rc)
        repo_info_release(out);
    return rc;
}

void repo_info_release(struct repo_info *ri)
{
    if (!ri)
        return;
    for (size_t i = 0; i < ri->ntags; i++)
        free(ri->tags[i]);
    free(ri->tags);
    free(ri->ref);
    free(ri->branch);
    free(ri->default_branch);
    free(ri->toplevel);
    free(ri->remote_url);
    free(ri->author);
    free(ri->message);
    memset(ri, 0, sizeof(*ri));
    memcpy(ri->before, ZERO_SHA, sizeof(ri->before));
}

/* ---- changed paths --------------------------------------------------- */

struct pathset {
    char **p;
    size_t n, cap;
};

static void pathset_add(struct pathset *ps, const char *path)
{
    if (!path || !*path)
        return;
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 64;
        ps->p = xrealloc(ps->p, ps->cap * sizeof(*ps->p));
    }
    ps->p[ps->n++] = xstrdup(path);
}

static bool is_zero(const char *rev)
{
    return !rev || !*rev || !strcmp(rev, ZERO_SHA);
}

/* Resolve @rev to a commit; FERR_NOTFOUND names it when it is unknown. */
static enum ferr_code lookup_commit(git_repository *repo, const char *rev,
                                   git_commit **out, struct ferr *err)
{
    git_object *obj = NULL;
    git_object *peeled = NULL;
    int grc;

    *out = NULL;
    grc = git_revparse_single(&obj, repo, rev);
    if (grc == GIT_ENOTFOUND || grc == GIT_EINVALIDSPEC ||
        grc == GIT_EAMBIGUOUS || grc == GIT_EUNBORNBRANCH) {
        git_error_clear();
        return ferr_set(err, FERR_NOTFOUND, NULL, "unknown revision '%s'",
                        rev);
    }
    if (grc < 0)
        return git_fail(err, "cannot resolve revision");
    grc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
    git_object_free(obj);
    if (grc < 0) {
        git_error_clear();
        return ferr_set(err, FERR_NOTFOUND, NULL,
                        "revision '%s' is not a commit", rev);
    }
    *out = (git_commit *)peeled;
    return FERR_OK;
}

/* Add both sides of every delta of @diff (after rename detection). */
static enum ferr_code collect(git_diff *diff, struct pathset *ps,
                              struct ferr *err)
{
    git_diff_find_options fo;
    size_t n;

    git_diff_find_options_init(&fo, GIT_DIFF_FIND_OPTIONS_VERSION);
    fo.flags = GIT_DIFF_FIND_RENAMES;
    if (git_diff_find_similar(diff, &fo) < 0)
        return git_fail(err, "cannot detect renames");
    n = git_diff_num_deltas(diff);
    for (size_t i = 0; i < n; i++) {
        const git_diff_delta *d = git_diff_get_delta(diff, i);

        pathset_add(ps, d->old_file.path);
        if (!d->old_file.path || !d->new_file.path ||
            strcmp(d->old_file.path, d->new_file.path))
            pathset_add(ps, d->new_file.path);
    }
    return FERR_OK;
}

enum ferr_code repo_changed_paths(const char *dir, const char *from,
                                  const char *to, bool include_worktree,
                                  char ***out, size_t *out_n,
                                  struct ferr *err)
{
    git_repository *repo = NULL;
    git_commit *to_c = NULL;
    git_commit *from_c = NULL;
    git_tree *to_t = NULL;
    git_tree *from_t = NULL;
    git_diff *diff = NULL;
    git_diff_options opts;
    struct pathset ps = { NULL, 0, 0 };
    enum ferr_code rc;

    *out = NULL;
    *out_n = 0;
    git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
    rc = open_repo(dir, &repo, err);
    if (rc)
        return rc;
    if (is_zero(to)) {
        /* HEAD; an unborn HEAD leaves to_t NULL (the empty tree) */
        rc = lookup_commit(repo, "HEAD", &to_c, err);
        if (rc == FERR_NOTFOUND && git_repository_head_unborn(repo) == 1) {
            ferr_clear(err);
            rc = FERR_OK;
        }
    } else {
        rc = lookup_commit(repo, to, &to_c, err);
    }
    if (rc)
        goto done;
    if (to_c && git_commit_tree(&to_t, to_c) < 0) {
        rc = git_fail(err, "cannot read tree");
        goto done;
    }
    if (!is_zero(from)) {
        rc = lookup_commit(repo, from, &from_c, err);
        if (rc)
            goto done;
    } else if (to_c && git_commit_parentcount(to_c) > 0 &&
               git_commit_parent(&from_c, to_c, 0) < 0) {
        rc = git_fail(err, "cannot read parent commit");
        goto done;
    }
    if (from_c && git_commit_tree(&from_t, from_c) < 0) {
        rc = git_fail(err, "cannot read tree");
        goto done;
    }
    if (git_diff_tree_to_tree(&diff, repo, from_t, to_t, &opts) < 0) {
        rc = git_fail(err, "cannot diff trees");
        goto done;
    }
    rc = collect(diff, &ps, err);
    git_diff_free(diff);
    diff = NULL;
    if (rc || !include_worktree)
        goto done;
    if (git_repository_is_bare(repo))
        goto done;
    opts.flags = GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
    if (git_diff_tree_to_workdir_with_index(&diff, repo, to_t, &opts) < 0) {
        rc = git_fail(err, "cannot diff worktree");
        goto done;
    }
    rc = collect(diff, &ps, err);
done:
    git_diff_free(diff);
    git_tree_free(from_t);
    git_tree_free(to_t);
    git_commit_free(from_c);
    git_commit_free(to_c);
    git_repository_free(repo);
    git_error_clear();
    if (rc) {
        repo_free_paths(ps.p, ps.n);
        return rc;
    }
    if (ps.n > 1) {
        size_t w = 1;

        qsort(ps.p, ps.n, sizeof(*ps.p), cmp_str);
        for (size_t i = 1; i < ps.n; i++) {
            if (!strcmp(ps.p[i], ps.p[w - 1]))
                free(ps.p[i]);
            else
                ps.p[w++] = ps.p[i];
        }
        ps.n = w;
    }
    *out = ps.p;
    *out_n = ps.n;
    return FERR_OK;
}

void repo_free_paths(char **paths, size_t n)
{
    if (!paths)
        return;
    for (size_t i = 0; i < n; i++)
        free(paths[i]);
    free(paths);
}
