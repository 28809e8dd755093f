/* mirror: one bare mirror per repository, fetched from its source with
 * libgit2 (branches and tags only, pruned), plus what the server reads
 * from it — revisions, files, the workflow list — and job checkouts that
 * borrow its objects through alternates.  It never pushes, never runs the
 * git CLI and never garbage-collects the mirror. */
#include "git/mirror.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "util/xalloc.h"

#define REV_MAX 1024u  /* longest revision string looked up */
#define PATH_MAX_REL 4096u /* longest repository-relative path */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libgit2(void)
{
    /* libgit2 counts init calls; repo.c may take its own reference too */
    (void)git_libgit2_init();
}

static const char *git_msg(void)
{
    const git_error *ge = git_error_last();

    return ge && ge->message ? ge->message : "unknown git error";
}

/* FERR_IO "WHAT 'SUBJECT': libgit2's message". */
static enum ferr_code git_fail(struct ferr *err, const char *what,
                               const char *subject)
{
    enum ferr_code rc = ferr_set(err, FERR_IO, NULL, "%s '%s': %s", what,
                                 subject, git_msg());

    git_error_clear();
    return rc;
}

static enum ferr_code open_mirror(const char *mirror, git_repository **out,
                                  struct ferr *err)
{
    int grc;

    pthread_once(&init_once, init_libgit2);
    *out = NULL;
    grc = git_repository_open_ext(out, mirror,
                                  GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
    if (grc < 0)
        return git_fail(err, "cannot open mirror", mirror);
    return FERR_OK;
}

static bool all_hex(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char c = s[i];

        if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
              (c >= 'A' && c <= 'F')))
            return false;
    }
    return true;
}

static enum ferr_code unknown_rev(struct ferr *err, const char *rev)
{
    git_error_clear();
    return ferr_set(err, FERR_NOTFOUND, NULL, "unknown revision '%.*s'",
                    (int)(strlen(rev) > 80 ? 80 : strlen(rev)), rev);
}

/* Resolve @rev (see mirror_resolve) to a commit of @repo. */
static enum ferr_code lookup_commit(git_repository *repo, const char *rev,
                                    git_commit **out, struct ferr *err)
{
    size_t len = strlen(rev);
    git_object *obj = NULL;
    git_object *peeled = NULL;
    git_reference *ref = NULL;
    git_oid oid;
    int grc = GIT_ENOTFOUND;

    *out = NULL;
    if (len == 0 || len > REV_MAX)
        return unknown_rev(err, rev);
    if (len == GIT_OID_HEXSZ && all_hex(rev, len)) {
        if (git_oid_fromstr(&oid, rev) < 0)
            return unknown_rev(err, rev);
        grc = git_object_lookup(&obj, repo, &oid, GIT_OBJECT_ANY);
    } else {
        grc = git_reference_dwim(&ref, repo, rev);
        if (grc == 0) {
            grc = git_reference_peel(&obj, ref, GIT_OBJECT_ANY);
            git_reference_free(ref);
        } else if (grc == GIT_ENOTFOUND || grc == GIT_EINVALIDSPEC) {
            grc = GIT_ENOTFOUND;
            if (len >= GIT_OID_MINPREFIXLEN && all_hex(rev, len) &&
                git_oid_fromstrn(&oid, rev, len) == 0)
                grc = git_object_lookup_prefix(&obj, repo, &oid, len,
                                               GIT_OBJECT_ANY);
        }
    }
    if (grc == GIT_ENOTFOUND || grc == GIT_EAMBIGUOUS ||
        grc == GIT_EINVALIDSPEC || grc == GIT_EUNBORNBRANCH)
        return unknown_rev(err, rev);
    if (grc < 0)
        return git_fail(err, "cannot resolve revision", rev);
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

static bool ref_exists(git_repository *repo, const char *name)
{
    git_reference *r = NULL;
    bool ok = git_reference_lookup(&r, repo, name) == 0;

    git_reference_free(r);
    git_error_clear();
    return ok;
}

/* "main", "master" or the first branch in byte order; NULL when the
 * repository has no branches.  The caller frees. */
static char *fallback_branch(git_repository *repo)
{
    git_branch_iterator *it = NULL;
    git_reference *r = NULL;
    git_branch_t type;
    char *best = NULL;

    if (ref_exists(repo, "refs/heads/main"))
        return xstrdup("main");
    if (ref_exists(repo, "refs/heads/master"))
        return xstrdup("master");
    if (git_branch_iterator_new(&it, repo, GIT_BRANCH_LOCAL) < 0) {
        git_error_clear();
        return NULL;
    }
    while (git_branch_next(&r, &type, it) == 0) {
        const char *name = NULL;

        if (git_branch_name(&name, r) == 0 && name &&
            (!best || strcmp(name, best) < 0)) {
            free(best);
            best = xstrdup(name);
        }
        git_reference_free(r);
        r = NULL;
    }
    git_branch_iterator_free(it);
    git_error_clear();
    return best;
}

/* The default branch of an open mirror (see mirror_default_branch). */
static char *default_branch(git_repository *repo)
{
    git_reference *h = NULL;
    char *out = NULL;

    if (git_reference_lookup(&h, repo, "HEAD") == 0 &&
        git_reference_type(h) == GIT_REFERENCE_SYMBOLIC) {
        const char *t = git_reference_symbolic_target(h);

        if (t && !strncmp(t, "refs/heads/", 11) && t[11] &&
            ref_exists(repo, t))
            out = xstrdup(t + 11);
    }
    git_reference_free(h);
    git_error_clear();
    return out ? out : fallback_branch(repo);
}

/* ---- sync ------------------------------------------------------------ */

static enum ferr_code open_or_init(const char *mirror, git_repository **out,
                                   struct ferr *err)
{
    git_repository_init_options io;
    int grc;

    pthread_once(&init_once, init_libgit2);
    *out = NULL;
    grc = git_repository_open_ext(out, mirror,
                                  GIT_REPOSITORY_OPEN_NO_SEARCH |
                                      GIT_REPOSITORY_OPEN_BARE,
                                  NULL);
    if (grc == 0)
        return FERR_OK;
    if (grc != GIT_ENOTFOUND)
        return git_fail(err, "cannot open mirror", mirror);
    git_error_clear();
    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_BARE | GIT_REPOSITORY_INIT_MKPATH;
    if (git_repository_init_ext(out, mirror, &io) < 0)
        return git_fail(err, "cannot create mirror", mirror);
    return FERR_OK;
}

/* The branch the source's HEAD names ("refs/heads/x"), when its
 * advertisement says; NULL otherwise.  The caller frees. */
static char *advertised_head(git_remote *remote)
{
    const git_remote_head **heads = NULL;
    size_t n = 0;
    const char *t;

    if (git_remote_ls(&heads, &n, remote) < 0) {
        git_error_clear();
        return NULL;
    }
    if (n == 0 || strcmp(heads[0]->name, "HEAD"))
        return NULL;
    t = heads[0]->symref_target;
    if (!t || strncmp(t, "refs/heads/", 11) || !t[11])
        return NULL;
    return xstrdup(t);
}

/* Point the mirror's HEAD at @advertised when that branch exists (or when
 * there are no branches at all), else at the fallback. */
static enum ferr_code set_mirror_head(git_repository *repo,
                                      const char *mirror,
                                      const char *advertised,
                                      struct ferr *err)
{
    char *fb = NULL;
    char *target = NULL;
    enum ferr_code rc = FERR_OK;

    if (advertised && ref_exists(repo, advertised)) {
        target = xstrdup(advertised);
    } else {
        fb = fallback_branch(repo);
        if (fb)
            target = xasprintf("refs/heads/%s", fb);
        else if (advertised)
            target = xstrdup(advertised); /* an empty source */
    }
    if (target && git_repository_set_head(repo, target) < 0)
        rc = git_fail(err, "cannot set HEAD of mirror", mirror);
    free(target);
    free(fb);
    return rc;
}

/* @url for messages: "scheme://user:secret@host/x" loses its user info
 * (a token there must not reach logs).  The caller frees. */
static char *redact_url(const char *url)
{
    const char *scheme = strstr(url, "://");
    const char *host;
    const char *at;
    const char *slash;

    if (!scheme)
        return xstrdup(url);
    host = scheme + 3;
    slash = strchr(host, '/');
    at = memchr(host, '@', slash ? (size_t)(slash - host) : strlen(host));
    if (!at)
        return xstrdup(url);
    return xasprintf("%.*s***%s", (int)(host - url), url, at);
}

enum ferr_code mirror_sync(const char *mirror, const char *url,
                           struct ferr *err)
{
    static char heads_spec[] = "+refs/heads/*:refs/heads/*";
    static char tags_spec[] = "+refs/tags/*:refs/tags/*";
    char *specs[] = { heads_spec, tags_spec };
    git_strarray refspecs = { specs, 2 };
    git_repository *repo = NULL;
    git_remote *remote = NULL;
    git_remote_create_options co;
    git_remote_callbacks cbs;
    git_fetch_options fo;
    char *head = NULL;
    char *shown = redact_url(url);
    enum ferr_code rc;

    rc = open_or_init(mirror, &repo, err);
    if (rc)
        goto done;
    /* anonymous, no insteadOf (a regex path that leaks in libgit2 1.5
     * with system PCRE2) and no default refspec: only ours apply */
    git_remote_create_options_init(&co, GIT_REMOTE_CREATE_OPTIONS_VERSION);
    co.repository = repo;
    co.flags = GIT_REMOTE_CREATE_SKIP_INSTEADOF |
               GIT_REMOTE_CREATE_SKIP_DEFAULT_FETCHSPEC;
    git_remote_init_callbacks(&cbs, GIT_REMOTE_CALLBACKS_VERSION);
    git_fetch_options_init(&fo, GIT_FETCH_OPTIONS_VERSION);
    fo.prune = GIT_FETCH_PRUNE;
    fo.update_fetchhead = 0;
    fo.download_tags = GIT_REMOTE_DOWNLOAD_TAGS_NONE; /* our refspec */
    if (git_remote_create_with_opts(&remote, url, &co) < 0 ||
        git_remote_connect(remote, GIT_DIRECTION_FETCH, &cbs, NULL, NULL) <
            0 ||
        git_remote_download(remote, &refspecs, &fo) < 0) {
        rc = git_fail(err, "fetch", shown);
        goto done;
    }
    head = advertised_head(remote);
    /* prune before updating, so a branch "a" gone from the source cannot
     * block a new "a/b" */
    if (git_remote_prune(remote, &cbs) < 0 ||
        git_remote_update_tips(remote, &cbs, 0,
                               GIT_REMOTE_DOWNLOAD_TAGS_NONE,
                               "ferry: fetch") < 0) {
        rc = git_fail(err, "fetch", shown);
        goto done;
    }
    rc = set_mirror_head(repo, mirror, head, err);
done:
    if (remote)
        (void)git_remote_disconnect(remote);
    git_remote_free(remote);
    git_repository_free(repo);
    git_error_clear();
    free(head);
    free(shown);
    return rc;
}

/* ---- reading --------------------------------------------------------- */

enum ferr_code mirror_resolve(const char *mirror, const char *rev,
                              char out_sha[41], struct ferr *err)
{
    git_repository *repo = NULL;
    git_commit *c = NULL;
    enum ferr_code rc;

    out_sha[0] = '\0';
    rc = open_mirror(mirror, &repo, err);
    if (!rc)
        rc = lookup_commit(repo, rev, &c, err);
    if (!rc)
        git_oid_tostr(out_sha, 41, git_commit_id(c));
    git_commit_free(c);
    git_repository_free(repo);
    return rc;
}

enum ferr_code mirror_default_branch(const char *mirror, char **out,
                                     struct ferr *err)
{
    git_repository *repo = NULL;
    enum ferr_code rc;

    *out = NULL;
    rc = open_mirror(mirror, &repo, err);
    if (rc)
        return rc;
    *out = default_branch(repo);
    git_repository_free(repo);
    if (!*out)
        return ferr_set(err, FERR_NOTFOUND, NULL,
                        "mirror '%s' has no branches", mirror);
    return FERR_OK;
}

static enum ferr_code check_path(const char *path, struct ferr *err)
{
    const char *p = path;
    size_t len = strlen(path);

    if (len == 0 || len > PATH_MAX_REL || path[0] == '/')
        return ferr_set(err, FERR_INVALID, NULL,
                        "invalid repository path '%.*s'",
                        (int)(len > 200 ? 200 : len), path);
    while (*p) {
        const char *slash = strchr(p, '/');
        size_t n = slash ? (size_t)(slash - p) : strlen(p);

        if (n == 0 || (n == 1 && p[0] == '.') ||
            (n == 2 && p[0] == '.' && p[1] == '.'))
            return ferr_set(err, FERR_INVALID, NULL,
                            "invalid repository path '%.*s'",
                            (int)(len > 200 ? 200 : len), path);
        p += n;
        if (*p == '/')
            p++;
    }
    return FERR_OK;
}

static bool is_regular(const git_tree_entry *e)
{
    git_filemode_t m = git_tree_entry_filemode(e);

    return m == GIT_FILEMODE_BLOB || m == GIT_FILEMODE_BLOB_EXECUTABLE;
}

/* The tree of commit @rev. */
static enum ferr_code commit_tree(git_repository *repo, const char *rev,
                                  git_tree **out, struct ferr *err)
{
    git_commit *c = NULL;
    enum ferr_code rc;

    *out = NULL;
    rc = lookup_commit(repo, rev, &c, err);
    if (!rc && git_commit_tree(out, c) < 0)
        rc = git_fail(err, "cannot read tree of", rev);
    git_commit_free(c);
    return rc;
}

enum ferr_code mirror_read_file(const char *mirror, const char *sha,
                                const char *path, size_t max, char **out,
                                size_t *out_len, struct ferr *err)
{
    git_repository *repo = NULL;
    git_tree *tree = NULL;
    git_tree_entry *e = NULL;
    git_blob *blob = NULL;
    git_object_size_t size;
    enum ferr_code rc;
    int grc;

    *out = NULL;
    *out_len = 0;
    rc = check_path(path, err);
    if (rc)
        return rc;
    rc = open_mirror(mirror, &repo, err);
    if (!rc)
        rc = commit_tree(repo, sha, &tree, err);
    if (rc)
        goto done;
    grc = git_tree_entry_bypath(&e, tree, path);
    if (grc == GIT_ENOTFOUND || (grc == 0 && !is_regular(e))) {
        git_error_clear();
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "no file '%s' at '%.12s'",
                      path, sha);
        goto done;
    }
    if (grc < 0) {
        rc = git_fail(err, "cannot read", path);
        goto done;
    }
    if (git_blob_lookup(&blob, repo, git_tree_entry_id(e)) < 0) {
        rc = git_fail(err, "cannot read", path);
        goto done;
    }
    size = git_blob_rawsize(blob);
    if (size > (git_object_size_t)max || size >= (git_object_size_t)SIZE_MAX) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "'%s' is %llu bytes, over the limit of %zu", path,
                      (unsigned long long)size, max);
        goto done;
    }
    *out = xmalloc((size_t)size + 1);
    memcpy(*out, git_blob_rawcontent(blob), (size_t)size);
    (*out)[size] = '\0';
    *out_len = (size_t)size;
done:
    git_blob_free(blob);
    git_tree_entry_free(e);
    git_tree_free(tree);
    git_repository_free(repo);
    git_error_clear();
    return rc;
}

struct pathvec {
    char **v;
    size_t n, cap;
};

static void pathvec_take(struct pathvec *pv, char *s)
{
    if (pv->n == pv->cap) {
        pv->cap = pv->cap ? pv->cap * 2 : 8;
        pv->v = xrealloc(pv->v, pv->cap * sizeof(*pv->v));
    }
    pv->v[pv->n++] = s;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool yaml_name(const char *name)
{
    size_t n = strlen(name);

    return (n > 4 && !strcmp(name + n - 4, ".yml")) ||
           (n > 5 && !strcmp(name + n - 5, ".yaml"));
}

/* Append the workflow files directly in @dir of @root, sorted. */
static enum ferr_code list_dir(git_repository *repo, git_tree *root,
                               const char *dir, struct pathvec *pv,
                               struct ferr *err)
{
    git_tree_entry *e = NULL;
    git_tree *t = NULL;
    size_t first = pv->n;
    size_t n;
    int grc;

    grc = git_tree_entry_bypath(&e, root, dir);
    if (grc == GIT_ENOTFOUND) {
        git_error_clear();
        return FERR_OK;
    }
    if (grc < 0)
        return git_fail(err, "cannot read", dir);
    if (git_tree_entry_type(e) != GIT_OBJECT_TREE) {
        git_tree_entry_free(e);
        return FERR_OK;
    }
    grc = git_tree_lookup(&t, repo, git_tree_entry_id(e));
    git_tree_entry_free(e);
    if (grc < 0)
        return git_fail(err, "cannot read", dir);
    n = git_tree_entrycount(t);
    for (size_t i = 0; i < n; i++) {
        const git_tree_entry *c = git_tree_entry_byindex(t, i);
        const char *name = git_tree_entry_name(c);

        if (is_regular(c) && yaml_name(name))
            pathvec_take(pv, xasprintf("%s/%s", dir, name));
    }
    git_tree_free(t);
    if (pv->n - first > 1)
        qsort(pv->v + first, pv->n - first, sizeof(*pv->v), cmp_str);
    return FERR_OK;
}

enum ferr_code mirror_workflows(const char *mirror, const char *sha,
                                char ***out, size_t *out_n,
                                struct ferr *err)
{
    git_repository *repo = NULL;
    git_tree *tree = NULL;
    struct pathvec pv = { NULL, 0, 0 };
    enum ferr_code rc;

    *out = NULL;
    *out_n = 0;
    rc = open_mirror(mirror, &repo, err);
    if (!rc)
        rc = commit_tree(repo, sha, &tree, err);
    if (!rc)
        rc = list_dir(repo, tree, ".github/workflows", &pv, err);
    if (!rc)
        rc = list_dir(repo, tree, ".ferry/workflows", &pv, err);
    git_tree_free(tree);
    git_repository_free(repo);
    if (rc) {
        mirror_free_paths(pv.v, pv.n);
        return rc;
    }
    *out = pv.v;
    *out_n = pv.n;
    return FERR_OK;
}

void mirror_free_paths(char **v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- checkout -------------------------------------------------------- */

struct packed {
    char *name;      /* the ref's name in the checkout */
    char oid[41];
    char peeled[41]; /* "" when the ref is not an annotated tag */
};

struct refset {
    struct packed *v;
    size_t n, cap;
};

static int cmp_packed(const void *a, const void *b)
{
    return strcmp(((const struct packed *)a)->name,
                  ((const struct packed *)b)->name);
}

static void refset_free(struct refset *rs)
{
    for (size_t i = 0; i < rs->n; i++)
        free(rs->v[i].name);
    free(rs->v);
    rs->v = NULL;
    rs->n = rs->cap = 0;
}

/* The mirror's branches (as refs/remotes/origin/x) and tags, sorted. */
static enum ferr_code collect_refs(git_repository *repo, const char *mirror,
                                   struct refset *rs, struct ferr *err)
{
    git_reference_iterator *it = NULL;
    git_reference *r = NULL;
    int grc;

    if (git_reference_iterator_new(&it, repo) < 0)
        return git_fail(err, "cannot list refs of", mirror);
    while ((grc = git_reference_next(&r, it)) == 0) {
        const char *name = git_reference_name(r);
        const git_oid *id = git_reference_target(r);
        git_object *peeled = NULL;
        struct packed *p;

        if (!id || (strncmp(name, "refs/heads/", 11) &&
                    strncmp(name, "refs/tags/", 10))) {
            git_reference_free(r);
            continue;
        }
        if (rs->n == rs->cap) {
            rs->cap = rs->cap ? rs->cap * 2 : 16;
            rs->v = xrealloc(rs->v, rs->cap * sizeof(*rs->v));
        }
        p = &rs->v[rs->n++];
        p->name = !strncmp(name, "refs/heads/", 11)
                      ? xasprintf("refs/remotes/origin/%s", name + 11)
                      : xstrdup(name);
        git_oid_tostr(p->oid, sizeof(p->oid), id);
        p->peeled[0] = '\0';
        if (git_reference_peel(&peeled, r, GIT_OBJECT_ANY) == 0 &&
            !git_oid_equal(git_object_id(peeled), id))
            git_oid_tostr(p->peeled, sizeof(p->peeled),
                          git_object_id(peeled));
        git_object_free(peeled);
        git_reference_free(r);
    }
    git_reference_iterator_free(it);
    if (grc != GIT_ITEROVER)
        return git_fail(err, "cannot list refs of", mirror);
    git_error_clear();
    if (rs->n > 1)
        qsort(rs->v, rs->n, sizeof(*rs->v), cmp_packed);
    return FERR_OK;
}

/* Create @path (which must not exist) holding @text. */
static enum ferr_code write_new(const char *path, const char *text,
                                size_t len, struct ferr *err)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  0644);
    size_t off = 0;

    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", path,
                        strerror(errno));
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : EIO;

            close(fd);
            return ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s",
                            path, strerror(e));
        }
        off += (size_t)w;
    }
    if (close(fd) < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", path,
                        strerror(errno));
    return FERR_OK;
}

/* The packed-refs file of the checkout, in git's format. */
static enum ferr_code write_packed(const char *gitdir,
                                   const struct refset *rs,
                                   struct ferr *err)
{
    size_t cap = 64 + rs->n * 2 * (41 + 1);
    size_t len = 0;
    char *text;
    char *path;
    enum ferr_code rc;

    for (size_t i = 0; i < rs->n; i++)
        cap += strlen(rs->v[i].name) + 2;
    text = xmalloc(cap);
    len += (size_t)snprintf(text, cap,
                            "# pack-refs with: peeled fully-peeled sorted \n");
    for (size_t i = 0; i < rs->n; i++) {
        len += (size_t)snprintf(text + len, cap - len, "%s %s\n",
                                rs->v[i].oid, rs->v[i].name);
        if (rs->v[i].peeled[0])
            len += (size_t)snprintf(text + len, cap - len, "^%s\n",
                                    rs->v[i].peeled);
    }
    path = xasprintf("%s/packed-refs", gitdir);
    rc = write_new(path, text, len, err);
    free(path);
    free(text);
    return rc;
}

/* Everything after the empty repository exists: alternates, refs,
 * origin, HEAD and the worktree. */
static enum ferr_code fill_checkout(const char *dir, const char *objects,
                                    const char *mirror_abs,
                                    const struct refset *rs,
                                    const char *defbranch,
                                    const git_oid *oid, struct ferr *err)
{
    git_repository *co = NULL;
    git_config *cfg = NULL;
    git_reference *sym = NULL;
    git_checkout_options copts;
    char *gitdir = NULL;
    char *path = NULL;
    char *line = NULL;
    enum ferr_code rc = FERR_OK;

    if (git_repository_open_ext(&co, dir, GIT_REPOSITORY_OPEN_NO_SEARCH,
                                NULL) < 0)
        return git_fail(err, "cannot open checkout", dir);
    gitdir = xstrdup(git_repository_path(co));
    git_repository_free(co);
    co = NULL;
    /* written before libgit2 loads the object database of the checkout */
    path = xasprintf("%sobjects/info", gitdir);
    rc = workspace_mkdirs(path, err);
    free(path);
    path = xasprintf("%sobjects/info/alternates", gitdir);
    line = xasprintf("%s\n", objects);
    if (!rc)
        rc = write_new(path, line, strlen(line), err);
    if (!rc)
        rc = write_packed(gitdir, rs, err);
    if (rc)
        goto done;
    if (git_repository_open_ext(&co, dir, GIT_REPOSITORY_OPEN_NO_SEARCH,
                                NULL) < 0 ||
        git_repository_config(&cfg, co) < 0 ||
        git_config_set_string(cfg, "remote.origin.url", mirror_abs) < 0 ||
        git_config_set_string(cfg, "remote.origin.fetch",
                              "+refs/heads/*:refs/remotes/origin/*") < 0) {
        rc = git_fail(err, "cannot set up checkout", dir);
        goto done;
    }
    if (defbranch) {
        char *t = xasprintf("refs/remotes/origin/%s", defbranch);

        if (git_reference_symbolic_create(&sym, co,
                                          "refs/remotes/origin/HEAD", t, 1,
                                          NULL) < 0)
            rc = git_fail(err, "cannot set up checkout", dir);
        free(t);
        if (rc)
            goto done;
    }
    git_checkout_options_init(&copts, GIT_CHECKOUT_OPTIONS_VERSION);
    copts.checkout_strategy = GIT_CHECKOUT_FORCE;
    if (git_repository_set_head_detached(co, oid) < 0 ||
        git_checkout_head(co, &copts) < 0)
        rc = git_fail(err, "cannot check out", dir);
done:
    git_reference_free(sym);
    git_config_free(cfg);
    git_repository_free(co);
    free(line);
    free(path);
    free(gitdir);
    return rc;
}

enum ferr_code mirror_checkout(const char *mirror, const char *sha,
                               const char *dir, struct ferr *err)
{
    git_repository *repo = NULL;
    git_repository *co = NULL;
    git_commit *c = NULL;
    git_repository_init_options io;
    git_buf objbuf = { 0 };
    struct refset rs = { NULL, 0, 0 };
    char objects[PATH_MAX];
    char mirror_abs[PATH_MAX];
    char *defbranch = NULL;
    bool created = false;
    git_oid oid;
    enum ferr_code rc;

    rc = open_mirror(mirror, &repo, err);
    if (!rc)
        rc = lookup_commit(repo, sha, &c, err);
    if (rc)
        goto done;
    git_oid_cpy(&oid, git_commit_id(c));
    if (git_repository_item_path(&objbuf, repo,
                                 GIT_REPOSITORY_ITEM_OBJECTS) < 0) {
        rc = git_fail(err, "cannot find objects of mirror", mirror);
        goto done;
    }
    if (!realpath(objbuf.ptr, objects) || !realpath(mirror, mirror_abs)) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot resolve mirror '%s': %s",
                      mirror, strerror(errno));
        goto done;
    }
    rc = collect_refs(repo, mirror, &rs, err);
    if (rc)
        goto done;
    defbranch = default_branch(repo);
    if (mkdir(dir, 0755) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create checkout '%s': %s",
                      dir, strerror(errno));
        goto done;
    }
    created = true;
    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_NO_REINIT;
    if (git_repository_init_ext(&co, dir, &io) < 0) {
        rc = git_fail(err, "cannot create checkout", dir);
        goto done;
    }
    git_repository_free(co);
    rc = fill_checkout(dir, objects, mirror_abs, &rs, defbranch, &oid, err);
done:
    if (rc && created) {
        struct ferr ignored;

        ferr_clear(&ignored);
        if (workspace_rmtree(dir, &ignored))
            ferr_clear(&ignored); /* the first error is the one to tell */
    }
    free(defbranch);
    refset_free(&rs);
    git_buf_dispose(&objbuf);
    git_commit_free(c);
    git_repository_free(repo);
    git_error_clear();
    return rc;
}
