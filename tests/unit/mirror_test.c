/* mirror_test: mirrors fetched from real repositories (bare and not)
 * built in a temp dir with libgit2, re-syncs, revisions, files, workflow
 * lists and checkouts read back with git/repo. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "git/mirror.h"
#include "git/repo.h"
#include "util/xalloc.h"

struct fixture {
    char *root;   /* temp dir, removed at teardown */
    char *src;    /* root/src: the source repository */
    char *mirror; /* root/mirror.git */
    git_repository *repo; /* the source, open */
    int64_t clock; /* commit time, advanced per commit */
};

struct file {
    const char *path;
    const char *text; /* NULL: delete */
};

static int setup_kind(void **state, bool bare, const char *head)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char tmpl[] = "/tmp/mirror_test.XXXXXX";
    git_repository_init_options io;

    assert_non_null(mkdtemp(tmpl));
    f->root = xstrdup(tmpl);
    f->src = xasprintf("%s/src", f->root);
    f->mirror = xasprintf("%s/mirror.git", f->root);
    f->clock = 1700000000;
    git_libgit2_init();
    git_repository_init_options_init(&io, GIT_REPOSITORY_INIT_OPTIONS_VERSION);
    io.flags = GIT_REPOSITORY_INIT_MKPATH |
               (bare ? GIT_REPOSITORY_INIT_BARE : 0);
    io.initial_head = head;
    assert_int_equal(git_repository_init_ext(&f->repo, f->src, &io), 0);
    *state = f;
    return 0;
}

static int setup_bare(void **state)
{
    return setup_kind(state, true, "main");
}

static int setup_work(void **state)
{
    return setup_kind(state, false, "trunk");
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    ferr_clear(&err);
    git_repository_free(f->repo);
    assert_int_equal(workspace_rmtree(f->root, &err), FERR_OK);
    git_libgit2_shutdown();
    free(f->root);
    free(f->src);
    free(f->mirror);
    free(f);
    return 0;
}

/* Commit @files (on top of @ref's tip, if any) to @ref; returns the sha
 * in @out. */
static void commit_to(struct fixture *f, const char *ref,
                      const struct file *files, size_t n, char out[41])
{
    git_index *idx = NULL;
    git_commit *parent = NULL;
    git_tree *ptree = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_oid oid;
    git_oid tree_id;
    const git_commit *parents[1];

    assert_int_equal(git_index_new(&idx), 0);
    if (git_reference_name_to_id(&oid, f->repo, ref) == 0) {
        assert_int_equal(git_commit_lookup(&parent, f->repo, &oid), 0);
        assert_int_equal(git_commit_tree(&ptree, parent), 0);
        assert_int_equal(git_index_read_tree(idx, ptree), 0);
    }
    for (size_t i = 0; i < n; i++) {
        git_index_entry e;

        if (!files[i].text) {
            assert_int_equal(git_index_remove_bypath(idx, files[i].path), 0);
            continue;
        }
        memset(&e, 0, sizeof(e));
        assert_int_equal(git_blob_create_from_buffer(&e.id, f->repo,
                                                     files[i].text,
                                                     strlen(files[i].text)),
                         0);
        e.mode = GIT_FILEMODE_BLOB;
        e.path = files[i].path;
        assert_int_equal(git_index_add(idx, &e), 0);
    }
    assert_int_equal(git_index_write_tree_to(&tree_id, idx, f->repo), 0);
    assert_int_equal(git_tree_lookup(&tree, f->repo, &tree_id), 0);
    assert_int_equal(git_signature_new(&sig, "Tess", "t@example.com",
                                       f->clock++, 0),
                     0);
    parents[0] = parent;
    assert_int_equal(git_commit_create(&oid, f->repo, ref, sig, sig, NULL,
                                       "change\n", tree, parent ? 1 : 0,
                                       parents),
                     0);
    git_oid_tostr(out, 41, &oid);
    git_signature_free(sig);
    git_tree_free(tree);
    git_tree_free(ptree);
    git_commit_free(parent);
    git_index_free(idx);
}

static void commit1(struct fixture *f, const char *ref, const char *path,
                    const char *text, char out[41])
{
    struct file fl = { path, text };

    commit_to(f, ref, &fl, 1, out);
}

static void tag_light(struct fixture *f, const char *name, const char *sha)
{
    git_object *o = NULL;
    git_oid oid;

    assert_int_equal(git_revparse_single(&o, f->repo, sha), 0);
    assert_int_equal(git_tag_create_lightweight(&oid, f->repo, name, o, 1),
                     0);
    git_object_free(o);
}

static void tag_annotated(struct fixture *f, const char *name,
                          const char *sha)
{
    git_object *o = NULL;
    git_signature *sig = NULL;
    git_oid oid;

    assert_int_equal(git_revparse_single(&o, f->repo, sha), 0);
    assert_int_equal(git_signature_new(&sig, "Tess", "t@example.com",
                                       f->clock++, 0),
                     0);
    assert_int_equal(git_tag_create(&oid, f->repo, name, o, sig, "release\n",
                                    1),
                     0);
    git_signature_free(sig);
    git_object_free(o);
}

static void delete_ref(struct fixture *f, const char *name)
{
    assert_int_equal(git_reference_remove(f->repo, name), 0);
}

static void sync_ok(struct fixture *f, const char *url)
{
    struct ferr err;

    ferr_clear(&err);
    if (mirror_sync(f->mirror, url, &err))
        fail_msg("mirror_sync: %s", err.msg);
}

static void assert_resolves(struct fixture *f, const char *rev,
                            const char *want)
{
    struct ferr err;
    char sha[41];

    ferr_clear(&err);
    if (mirror_resolve(f->mirror, rev, sha, &err))
        fail_msg("mirror_resolve '%s': %s", rev, err.msg);
    assert_string_equal(sha, want);
}

static void assert_unknown(struct fixture *f, const char *rev)
{
    struct ferr err;
    char sha[41];

    ferr_clear(&err);
    assert_int_equal(mirror_resolve(f->mirror, rev, sha, &err),
                     FERR_NOTFOUND);
    assert_string_equal(sha, "");
}

static void assert_default(struct fixture *f, const char *want)
{
    struct ferr err;
    char *b = NULL;

    ferr_clear(&err);
    if (mirror_default_branch(f->mirror, &b, &err))
        fail_msg("mirror_default_branch: %s", err.msg);
    assert_string_equal(b, want);
    free(b);
}

static bool is_dir(const char *p)
{
    struct stat st;

    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* ---- sync ------------------------------------------------------------ */

static void test_mirror_sync_from_bare(void **state)
{
    struct fixture *f = *state;
    char c1[41];
    char c2[41];
    char *p;

    commit1(f, "refs/heads/main", "README", "one\n", c1);
    commit1(f, "refs/heads/main", "README", "two\n", c2);
    tag_light(f, "v1", c1);
    tag_annotated(f, "v2", c2);
    sync_ok(f, f->src);
    p = xasprintf("%s/objects", f->mirror);
    assert_true(is_dir(p)); /* a bare repository at the mirror path */
    free(p);
    assert_resolves(f, "refs/heads/main", c2);
    assert_resolves(f, "v1", c1);
    assert_resolves(f, "v2", c2); /* annotated: peeled to the commit */
    assert_default(f, "main");
}

static void test_mirror_sync_from_worktree_file_url(void **state)
{
    struct fixture *f = *state;
    char c1[41];
    char c2[41];
    char *url = NULL;

    commit1(f, "refs/heads/trunk", "a.txt", "a\n", c1);
    commit1(f, "refs/heads/main", "b.txt", "b\n", c2);
    url = xasprintf("file://%s", f->src);
    sync_ok(f, url);
    assert_resolves(f, "trunk", c1);
    assert_resolves(f, "main", c2);
    /* the source's HEAD (trunk) wins over a branch named main */
    assert_default(f, "trunk");
    free(url);
}

static void test_mirror_resync_updates_and_prunes(void **state)
{
    struct fixture *f = *state;
    char c1[41];
    char c2[41];
    char c3[41];
    char c4[41];

    commit1(f, "refs/heads/main", "README", "one\n", c1);
    commit1(f, "refs/heads/feat", "f.txt", "f\n", c2);
    tag_light(f, "old", c1);
    sync_ok(f, f->src);
    assert_resolves(f, "feat", c2);
    assert_resolves(f, "old", c1);

    commit1(f, "refs/heads/main", "README", "two\n", c3);
    tag_annotated(f, "v3", c3);
    delete_ref(f, "refs/heads/feat");
    delete_ref(f, "refs/tags/old");
    /* "feat" gone and "feat/x" new: pruning must come first */
    commit1(f, "refs/heads/feat/x", "x.txt", "x\n", c4);
    sync_ok(f, f->src);
    assert_resolves(f, "main", c3);
    assert_resolves(f, "v3", c3);
    assert_resolves(f, "feat/x", c4);
    assert_unknown(f, "refs/heads/feat");
    assert_unknown(f, "old");
}

static void test_mirror_sync_force_updates_rewritten_branch(void **state)
{
    struct fixture *f = *state;
    char c1[41];
    char c2[41];
    char c3[41];

    commit1(f, "refs/heads/main", "README", "one\n", c1);
    commit1(f, "refs/heads/main", "README", "two\n", c2);
    sync_ok(f, f->src);
    assert_resolves(f, "main", c2);
    /* rewrite: main goes back to c1 and gets a different child */
    {
        git_oid oid;
        git_reference *r = NULL;

        assert_int_equal(git_oid_fromstr(&oid, c1), 0);
        assert_int_equal(git_reference_create(&r, f->repo, "refs/heads/main",
                                              &oid, 1, NULL),
                         0);
        git_reference_free(r);
    }
    commit1(f, "refs/heads/main", "README", "three\n", c3);
    sync_ok(f, f->src);
    assert_resolves(f, "main", c3);
}

static void test_mirror_sync_bad_source_fails(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(mirror_sync(f->mirror, "/nonexistent/ferry/repo", &err),
                     FERR_IO);
    assert_non_null(strstr(err.msg, "fetch '/nonexistent/ferry/repo': "));
    ferr_clear(&err);
    /* nothing listens on port 1: fails at once, no network needed */
    assert_int_equal(mirror_sync(f->mirror, "http://127.0.0.1:1/r.git",
                                 &err),
                     FERR_IO);
    assert_non_null(strstr(err.msg, "fetch 'http://127.0.0.1:1/r.git': "));
}

static void test_mirror_sync_error_hides_url_credentials(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(mirror_sync(f->mirror,
                                 "http://bot:tok3n@127.0.0.1:1/r.git", &err),
                     FERR_IO);
    assert_non_null(strstr(err.msg, "fetch 'http://***@127.0.0.1:1/r.git'"));
    assert_null(strstr(err.msg, "tok3n"));
}

static void test_mirror_sync_empty_source(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char *b = NULL;

    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_default_branch(f->mirror, &b, &err),
                     FERR_NOTFOUND);
    assert_null(b);
    assert_unknown(f, "main");
}

/* ---- resolve and default branch ------------------------------------ */

static void test_mirror_resolve_forms(void **state)
{
    struct fixture *f = *state;
    char c1[41];
    char c2[41];
    char abbrev[8];

    commit1(f, "refs/heads/main", "README", "one\n", c1);
    commit1(f, "refs/heads/main", "README", "two\n", c2);
    tag_annotated(f, "v1", c1);
    sync_ok(f, f->src);
    assert_resolves(f, "refs/heads/main", c2);
    assert_resolves(f, "main", c2);
    assert_resolves(f, "refs/tags/v1", c1);
    assert_resolves(f, "v1", c1);
    assert_resolves(f, c1, c1);
    memcpy(abbrev, c1, 7);
    abbrev[7] = '\0';
    assert_resolves(f, abbrev, c1);
    assert_unknown(f, "nope");
    assert_unknown(f, "refs/heads/nope");
    assert_unknown(f, "0123456789012345678901234567890123456789");
    assert_unknown(f, "main~1"); /* no revision syntax */
    assert_unknown(f, "");
    assert_unknown(f, "a..b");
}

static void test_mirror_resolve_not_a_repository(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char sha[41];

    ferr_clear(&err);
    assert_int_equal(mirror_resolve(f->root, "main", sha, &err), FERR_IO);
    assert_string_equal(sha, "");
}

static void test_mirror_default_branch_fallbacks(void **state)
{
    struct fixture *f = *state;
    git_repository *m = NULL;
    char c[41];

    commit1(f, "refs/heads/zeta", "z", "z\n", c);
    commit1(f, "refs/heads/alpha", "a", "a\n", c);
    commit1(f, "refs/heads/master", "m", "m\n", c);
    sync_ok(f, f->src);
    /* the source's HEAD (main) is unborn: master is the fallback */
    assert_default(f, "master");
    /* a HEAD naming a missing branch falls back too */
    assert_int_equal(git_repository_open(&m, f->mirror), 0);
    assert_int_equal(git_repository_set_head(m, "refs/heads/gone"), 0);
    assert_default(f, "master");
    assert_int_equal(git_reference_remove(m, "refs/heads/master"), 0);
    assert_default(f, "alpha"); /* the first branch in byte order */
    git_repository_free(m);
}

/* ---- checkout ------------------------------------------------------ */

static void test_mirror_checkout_files_and_describe(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    struct repo_info ri;
    char c1[41];
    char c2[41];
    char *dir = xasprintf("%s/co", f->root);
    char *text = NULL;
    char *p;
    size_t len;
    const struct file files[] = {
        { "README", "hello\n" },
        { "src/main.c", "int main(void) { return 0; }\n" },
    };

    commit_to(f, "refs/heads/main", files, 2, c1);
    commit1(f, "refs/heads/main", "src/main.c", "/* v2 */\n", c2);
    tag_annotated(f, "v1.0", c1);
    tag_light(f, "first", c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    if (mirror_checkout(f->mirror, c1, dir, &err))
        fail_msg("mirror_checkout: %s", err.msg);
    p = xasprintf("%s/src/main.c", dir);
    assert_int_equal(workspace_read_file(p, 1024, &text, &len, &err),
                     FERR_OK);
    assert_string_equal(text, "int main(void) { return 0; }\n");
    free(text);
    free(p);
    /* objects are borrowed, not copied */
    p = xasprintf("%s/.git/objects/info/alternates", dir);
    assert_int_equal(workspace_read_file(p, 4096, &text, &len, &err),
                     FERR_OK);
    assert_non_null(strstr(text, "mirror.git/objects"));
    free(text);
    free(p);
    assert_int_equal(repo_describe(dir, &ri, &err), FERR_OK);
    assert_string_equal(ri.sha, c1);
    assert_null(ri.ref); /* detached */
    assert_int_equal(ri.ntags, 2);
    assert_string_equal(ri.tags[0], "first");
    assert_string_equal(ri.tags[1], "v1.0");
    assert_string_equal(ri.default_branch, "main");
    assert_non_null(ri.remote_url);
    repo_info_release(&ri);
    free(dir);
}

static void test_mirror_checkout_changed_paths_between_commits(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char c2[41];
    char c3[41];
    char **paths = NULL;
    size_t n = 0;
    char *dir = xasprintf("%s/co", f->root);

    commit1(f, "refs/heads/main", "a.txt", "a\n", c1);
    commit1(f, "refs/heads/main", "docs/b.md", "b\n", c2);
    commit1(f, "refs/heads/other", "c.txt", "c\n", c3);
    sync_ok(f, f->src);
    ferr_clear(&err);
    if (mirror_checkout(f->mirror, c2, dir, &err))
        fail_msg("mirror_checkout: %s", err.msg);
    assert_int_equal(repo_changed_paths(dir, c1, c2, false, &paths, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(paths[0], "docs/b.md");
    repo_free_paths(paths, n);
    /* any two commits of the mirror, also ones off HEAD's history */
    assert_int_equal(repo_changed_paths(dir, c2, c3, false, &paths, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 3); /* other is a root commit with c.txt only */
    assert_string_equal(paths[0], "a.txt");
    assert_string_equal(paths[1], "c.txt");
    assert_string_equal(paths[2], "docs/b.md");
    repo_free_paths(paths, n);
    /* a clean checkout: the worktree adds nothing */
    assert_int_equal(repo_changed_paths(dir, c1, NULL, true, &paths, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 1);
    repo_free_paths(paths, n);
    free(dir);
}

static void test_mirror_checkout_refuses_existing_dir(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char *p;

    commit1(f, "refs/heads/main", "a.txt", "a\n", c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_checkout(f->mirror, c1, f->root, &err), FERR_IO);
    p = xasprintf("%s/src", f->root);
    assert_true(is_dir(p)); /* left alone */
    free(p);
}

static void test_mirror_checkout_unknown_sha_creates_nothing(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char *dir = xasprintf("%s/co", f->root);

    commit1(f, "refs/heads/main", "a.txt", "a\n", c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_checkout(f->mirror,
                                     "0123456789abcdef0123456789abcdef01234567",
                                     dir, &err),
                     FERR_NOTFOUND);
    assert_false(is_dir(dir));
    free(dir);
}

/* ---- files --------------------------------------------------------- */

static void test_mirror_read_file(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char *text = NULL;
    size_t len = 7;
    const struct file files[] = {
        { "dir/file.txt", "content\n" },
        { "top", "t" },
    };

    commit_to(f, "refs/heads/main", files, 2, c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, c1, "dir/file.txt", 100,
                                      &text, &len, &err),
                     FERR_OK);
    assert_int_equal(len, 8);
    assert_string_equal(text, "content\n");
    free(text);
    assert_int_equal(mirror_read_file(f->mirror, "main", "top", 1, &text,
                                      &len, &err),
                     FERR_OK);
    assert_string_equal(text, "t");
    free(text);
}

static void test_mirror_read_file_errors(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char *text = (char *)"x";
    size_t len = 7;

    commit1(f, "refs/heads/main", "dir/file.txt", "content\n", c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, c1, "missing", 100, &text,
                                      &len, &err),
                     FERR_NOTFOUND);
    assert_null(text);
    assert_int_equal(len, 0);
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, c1, "dir", 100, &text, &len,
                                      &err),
                     FERR_NOTFOUND); /* a directory */
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, c1, "dir/file.txt", 7,
                                      &text, &len, &err),
                     FERR_LIMIT);
    assert_null(text);
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, c1, "../etc/passwd", 100,
                                      &text, &len, &err),
                     FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, c1, "/dir/file.txt", 100,
                                      &text, &len, &err),
                     FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(mirror_read_file(f->mirror, "nope", "dir/file.txt", 100,
                                      &text, &len, &err),
                     FERR_NOTFOUND);
}

static void test_mirror_workflows_lists_both_dirs_sorted(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char **v = NULL;
    size_t n = 0;
    const struct file files[] = {
        { ".github/workflows/b.yml", "x" },
        { ".github/workflows/a.yaml", "x" },
        { ".github/workflows/notes.txt", "x" },
        { ".github/workflows/sub/c.yml", "x" },
        { ".github/workflows/.yml", "x" },
        { ".ferry/workflows/z.yml", "x" },
        { ".ferry/workflows/m.yaml", "x" },
        { "other/workflows/o.yml", "x" },
    };

    commit_to(f, "refs/heads/main", files, sizeof(files) / sizeof(*files),
              c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_workflows(f->mirror, c1, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 4);
    assert_string_equal(v[0], ".github/workflows/a.yaml");
    assert_string_equal(v[1], ".github/workflows/b.yml");
    assert_string_equal(v[2], ".ferry/workflows/m.yaml");
    assert_string_equal(v[3], ".ferry/workflows/z.yml");
    mirror_free_paths(v, n);
}

static void test_mirror_workflows_none(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    char c1[41];
    char **v = NULL;
    size_t n = 3;

    commit1(f, "refs/heads/main", ".github/workflows", "a file\n", c1);
    sync_ok(f, f->src);
    ferr_clear(&err);
    assert_int_equal(mirror_workflows(f->mirror, c1, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 0);
    mirror_free_paths(v, n);
    ferr_clear(&err);
    assert_int_equal(mirror_workflows(f->mirror, "nope", &v, &n, &err),
                     FERR_NOTFOUND);
    assert_null(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_mirror_sync_from_bare,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_sync_from_worktree_file_url, setup_work, teardown),
        cmocka_unit_test_setup_teardown(test_mirror_resync_updates_and_prunes,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_sync_force_updates_rewritten_branch, setup_work,
            teardown),
        cmocka_unit_test_setup_teardown(test_mirror_sync_bad_source_fails,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_sync_error_hides_url_credentials, setup_bare,
            teardown),
        cmocka_unit_test_setup_teardown(test_mirror_sync_empty_source,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_mirror_resolve_forms, setup_bare,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mirror_resolve_not_a_repository,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_mirror_default_branch_fallbacks,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_checkout_files_and_describe, setup_work, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_checkout_changed_paths_between_commits, setup_bare,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_checkout_refuses_existing_dir, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_checkout_unknown_sha_creates_nothing, setup_bare,
            teardown),
        cmocka_unit_test_setup_teardown(test_mirror_read_file, setup_bare,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_mirror_read_file_errors,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_mirror_workflows_lists_both_dirs_sorted, setup_bare,
            teardown),
        cmocka_unit_test_setup_teardown(test_mirror_workflows_none,
                                        setup_bare, teardown),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
