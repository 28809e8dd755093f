/* history_test: the oldest new commit of a deployment, on real
 * repositories built with libgit2 in a temp dir (bare, as the server's
 * mirrors are, and not), with commit times set by hand. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "exec/workspace.h"
#include "git/history.h"
#include "util/xalloc.h"

struct fixture {
    char *root; /* temp dir, removed at teardown */
    char *path; /* root/repo.git */
    git_repository *repo;
    git_oid tree; /* the empty tree every commit has */
};

static int setup_kind(void **state, bool bare)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char tmpl[] = "/tmp/history_test.XXXXXX";
    git_treebuilder *tb = NULL;

    assert_non_null(mkdtemp(tmpl));
    f->root = xstrdup(tmpl);
    f->path = xasprintf("%s/repo%s", f->root, bare ? ".git" : "");
    git_libgit2_init();
    assert_int_equal(git_repository_init(&f->repo, f->path, bare), 0);
    assert_int_equal(git_treebuilder_new(&tb, f->repo, NULL), 0);
    assert_int_equal(git_treebuilder_write(&f->tree, tb), 0);
    git_treebuilder_free(tb);
    *state = f;
    return 0;
}

static int setup_bare(void **state)
{
    return setup_kind(state, true);
}

static int setup_work(void **state)
{
    return setup_kind(state, false);
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
    free(f->path);
    free(f);
    return 0;
}

/* A commit made at @when (seconds) with the @n parents named by sha;
 * its sha in @out. */
static void commit_at(struct fixture *f, int64_t when, const char *const *par,
                      size_t n, char out[41])
{
    git_signature *sig = NULL;
    git_tree *tree = NULL;
    const git_commit *parents[2] = {NULL, NULL};
    git_commit *owned[2] = {NULL, NULL};
    git_oid oid;

    assert_true(n <= 2);
    for (size_t i = 0; i < n; i++) {
        assert_int_equal(git_oid_fromstr(&oid, par[i]), 0);
        assert_int_equal(git_commit_lookup(&owned[i], f->repo, &oid), 0);
        parents[i] = owned[i];
    }
    assert_int_equal(git_tree_lookup(&tree, f->repo, &f->tree), 0);
    assert_int_equal(
        git_signature_new(&sig, "Tess", "t@example.com", (git_time_t)when, 0),
        0);
    assert_int_equal(git_commit_create(&oid, f->repo, NULL, sig, sig, NULL,
                                       "change\n", tree, n, parents),
                     0);
    git_oid_tostr(out, 41, &oid);
    git_signature_free(sig);
    git_tree_free(tree);
    for (size_t i = 0; i < n; i++)
        git_commit_free(owned[i]);
}

/* c1 (1000) - c2 (2000) - c3 (3000) --- m (4000)
 *   \                                /
 *    f1 (1500) ----------------------
 * (times in seconds) */
struct graph {
    char c1[41], c2[41], c3[41], f1[41], m[41];
};

static void make_graph(struct fixture *f, struct graph *g)
{
    const char *p[2];

    commit_at(f, 1000, NULL, 0, g->c1);
    p[0] = g->c1;
    commit_at(f, 2000, p, 1, g->c2);
    p[0] = g->c2;
    commit_at(f, 3000, p, 1, g->c3);
    p[0] = g->c1;
    commit_at(f, 1500, p, 1, g->f1);
    p[0] = g->c3;
    p[1] = g->f1;
    commit_at(f, 4000, p, 2, g->m);
}

static int64_t oldest(struct fixture *f, const char *sha, const char *prev)
{
    struct ferr err;
    int64_t ms = -1;

    ferr_clear(&err);
    if (history_oldest_ms(f->path, sha, prev, &ms, &err) != FERR_OK)
        fail_msg("history_oldest_ms: %s", err.msg);
    return ms;
}

static void test_history_first_deploy_is_its_own_commit(void **state)
{
    struct fixture *f = *state;
    struct graph g;

    make_graph(f, &g);
    assert_int_equal(oldest(f, g.c3, NULL), 3000000);
    assert_int_equal(oldest(f, g.m, NULL), 4000000);
}

static void test_history_oldest_commit_not_in_previous(void **state)
{
    struct fixture *f = *state;
    struct graph g;

    make_graph(f, &g);
    /* c2 and c3 are new over c1 */
    assert_int_equal(oldest(f, g.c3, g.c1), 2000000);
    assert_int_equal(oldest(f, g.c3, g.c2), 3000000);
}

static void test_history_merge_brings_older_branch_commit(void **state)
{
    struct fixture *f = *state;
    struct graph g;

    make_graph(f, &g);
    /* over c3, the merge brings f1 (1500) and itself */
    assert_int_equal(oldest(f, g.m, g.c3), 1500000);
    /* over f1, it brings c2, c3 and itself */
    assert_int_equal(oldest(f, g.m, g.f1), 2000000);
}

static void test_history_nothing_new_is_its_own_commit(void **state)
{
    struct fixture *f = *state;
    struct graph g;

    make_graph(f, &g);
    assert_int_equal(oldest(f, g.c3, g.c3), 3000000); /* redeploy */
    assert_int_equal(oldest(f, g.c2, g.m), 2000000);  /* a step back */
}

static void test_history_unknown_previous_is_ignored(void **state)
{
    struct fixture *f = *state;
    struct graph g;

    make_graph(f, &g);
    assert_int_equal(
        oldest(f, g.c3, "0123456789012345678901234567890123456789"), 3000000);
    assert_int_equal(oldest(f, g.c3, "not a sha"), 3000000);
    assert_int_equal(oldest(f, g.c3, ""), 3000000);
    assert_int_equal(oldest(f, g.c3, "c1"), 3000000); /* abbreviations: no */
}

static void test_history_unknown_sha_is_not_found(void **state)
{
    struct fixture *f = *state;
    struct graph g;
    struct ferr err;
    int64_t ms = 5;

    make_graph(f, &g);
    ferr_clear(&err);
    assert_int_equal(
        history_oldest_ms(f->path, "0123456789012345678901234567890123456789",
                          g.c1, &ms, &err),
        FERR_NOTFOUND);
    assert_int_equal(ms, 0);
    assert_non_null(strstr(err.msg, "is not in"));
}

static void test_history_malformed_sha_is_invalid(void **state)
{
    struct fixture *f = *state;
    static const char *const bad[] = {
        "", "abc", "HEAD", "g123456789012345678901234567890123456789",
        "01234567890123456789012345678901234567890"};

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        struct ferr err;
        int64_t ms = 5;

        ferr_clear(&err);
        assert_int_equal(history_oldest_ms(f->path, bad[i], NULL, &ms, &err),
                         FERR_INVALID);
        assert_int_equal(ms, 0);
    }
    {
        struct ferr err;
        int64_t ms = 5;

        ferr_clear(&err);
        assert_int_equal(history_oldest_ms(f->path, NULL, NULL, &ms, &err),
                         FERR_INVALID);
    }
}

static void test_history_not_a_repository(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    int64_t ms = 5;
    char *p = xasprintf("%s/nothing-here", f->root);

    ferr_clear(&err);
    assert_int_equal(
        history_oldest_ms(p, "0123456789012345678901234567890123456789", NULL,
                          &ms, &err),
        FERR_NOTFOUND);
    assert_int_equal(ms, 0);
    assert_non_null(strstr(err.msg, "is not a git repository"));
    free(p);
}

static void test_history_walk_is_bounded(void **state)
{
    struct fixture *f = *state;
    const unsigned n = HISTORY_MAX_COMMITS + 10;
    char root[41];
    char prev[41];
    char cur[41];
    const char *p[1];

    /* a chain root (t=10000), then n commits at 10001, 10002, ... */
    commit_at(f, 10000, NULL, 0, root);
    memcpy(prev, root, sizeof(prev));
    for (unsigned i = 1; i <= n; i++) {
        p[0] = prev;
        commit_at(f, 10000 + i, p, 1, cur);
        memcpy(prev, cur, sizeof(prev));
    }
    /* n commits are new over root; only the newest HISTORY_MAX_COMMITS
     * are walked, the oldest of which was made at 10000 + n - MAX + 1 */
    assert_int_equal(oldest(f, cur, root),
                     (int64_t)(10000 + n - HISTORY_MAX_COMMITS + 1) * 1000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(
            test_history_first_deploy_is_its_own_commit, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_history_oldest_commit_not_in_previous, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_history_merge_brings_older_branch_commit, setup_work,
            teardown),
        cmocka_unit_test_setup_teardown(
            test_history_nothing_new_is_its_own_commit, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_history_unknown_previous_is_ignored, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_history_unknown_sha_is_not_found,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_history_malformed_sha_is_invalid,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_history_not_a_repository,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_history_walk_is_bounded,
                                        setup_bare, teardown),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
