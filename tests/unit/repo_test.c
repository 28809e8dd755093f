/* repo_test: repository facts and changed paths against real repositories
 * built in a temp dir with the git CLI (run through fork/exec). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "git/repo.h"
#include "util/xalloc.h"

#define ZEROS "0000000000000000000000000000000000000000"

struct fixture {
    char *root;  /* temp dir; removed at teardown */
    char *repo;  /* root/repo, real path */
};

/* Run git with @argv (NULL-terminated, without "git") in @dir; the
 * trimmed stdout goes to @out (may be NULL).  Returns the exit status. */
static int git_run(const char *dir, char *out, size_t outsz,
                   const char *const *argv)
{
    const char *args[32];
    int pfd[2];
    size_t n = 0;
    size_t got = 0;
    int status;
    pid_t pid;

    args[n++] = "git";
    args[n++] = "-C";
    args[n++] = dir;
    args[n++] = "-c";
    args[n++] = "init.defaultBranch=main";
    while (*argv && n < 31)
        args[n++] = *argv++;
    args[n] = NULL;
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_WRONLY);

        dup2(pfd[1], 1);
        if (devnull >= 0)
            dup2(devnull, 2);
        execvp("git", (char *const *)args);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        char tmp[4096];
        ssize_t r = read(pfd[0], tmp, sizeof(tmp));

        if (r <= 0)
            break;
        if (out && got + (size_t)r < outsz) {
            memcpy(out + got, tmp, (size_t)r);
            got += (size_t)r;
        }
    }
    close(pfd[0]);
    if (out) {
        while (got > 0 && (out[got - 1] == '\n' || out[got - 1] == ' '))
            got--;
        out[got] = '\0';
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

#define GIT(dir, ...)                                                      \
    do {                                                                   \
        const char *const a_[] = { __VA_ARGS__, NULL };                    \
        assert_int_equal(git_run((dir), NULL, 0, a_), 0);                  \
    } while (0)

#define GIT_OUT(dir, out, ...)                                             \
    do {                                                                   \
        const char *const a_[] = { __VA_ARGS__, NULL };                    \
        assert_int_equal(git_run((dir), (out), sizeof(out), a_), 0);       \
    } while (0)

static void put(const char *dir, const char *rel, const char *text)
{
    char *p = xasprintf("%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    struct ferr err;
    int fd;

    ferr_clear(&err);
    *slash = '\0';
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    *slash = '/';
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
    free(p);
}

static void commit_all(const char *dir, const char *msg)
{
    GIT(dir, "add", "-A");
    GIT(dir, "commit", "-q", "-m", msg);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *base = getenv("TMPDIR");
    char real[PATH_MAX];
    char *p;

    f->root = xasprintf("%s/repo-test-XXXXXX", base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(f->root));
    assert_non_null(realpath(f->root, real));
    free(f->root);
    f->root = xstrdup(real);
    f->repo = xasprintf("%s/repo", f->root);
    assert_int_equal(mkdir(f->repo, 0755), 0);
    /* isolate git from the user's configuration */
    setenv("HOME", f->root, 1);
    setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
    setenv("GIT_CONFIG_GLOBAL", "/dev/null", 1);
    setenv("GIT_AUTHOR_NAME", "Ada Lovelace", 1);
    setenv("GIT_AUTHOR_EMAIL", "ada@example.com", 1);
    setenv("GIT_COMMITTER_NAME", "Ada Lovelace", 1);
    setenv("GIT_COMMITTER_EMAIL", "ada@example.com", 1);
    p = f->repo;
    GIT(p, "init", "-q");
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(f->root, &err), FERR_OK);
    free(f->root);
    free(f->repo);
    free(f);
    return 0;
}

static void test_repo_not_a_repo(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;
    char **paths;
    size_t n;
    char *dir = xasprintf("%s/plain", f->root);

    assert_int_equal(mkdir(dir, 0755), 0);
    ferr_clear(&err);
    assert_int_equal(repo_describe(dir, &ri, &err), FERR_NOTFOUND);
    assert_null(ri.toplevel);
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(dir, NULL, NULL, true, &paths, &n,
                                        &err),
                     FERR_NOTFOUND);
    assert_null(paths);
    free(dir);
}

static void test_repo_fresh_without_commits(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(repo_describe(f->repo, &ri, &err), FERR_OK);
    assert_string_equal(ri.sha, "");
    assert_string_equal(ri.before, ZEROS);
    assert_string_equal(ri.ref, "refs/heads/main");
    assert_string_equal(ri.branch, "main");
    assert_string_equal(ri.default_branch, "main");
    assert_string_equal(ri.toplevel, f->repo);
    assert_int_equal(ri.ntags, 0);
    assert_null(ri.author);
    assert_null(ri.message);
    assert_null(ri.remote_url);
    repo_info_release(&ri);
}

static void test_repo_head_branch_parent_author(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;
    char first[64];
    char second[64];
    char *sub;

    put(f->repo, "a.txt", "a\n");
    commit_all(f->repo, "first commit");
    GIT_OUT(f->repo, first, "rev-parse", "HEAD");
    ferr_clear(&err);
    assert_int_equal(repo_describe(f->repo, &ri, &err), FERR_OK);
    assert_string_equal(ri.sha, first);
    assert_string_equal(ri.before, ZEROS); /* root commit */
    repo_info_release(&ri);

    put(f->repo, "sub/b.txt", "b\n");
    commit_all(f->repo, "second commit\n\nwith a body");
    GIT_OUT(f->repo, second, "rev-parse", "HEAD");
    GIT(f->repo, "checkout", "-q", "-b", "feature/x");
    sub = xasprintf("%s/sub", f->repo);
    assert_int_equal(repo_describe(sub, &ri, &err), FERR_OK);
    assert_string_equal(ri.sha, second);
    assert_string_equal(ri.before, first);
    assert_string_equal(ri.ref, "refs/heads/feature/x");
    assert_string_equal(ri.branch, "feature/x");
    assert_string_equal(ri.default_branch, "main");
    assert_string_equal(ri.toplevel, f->repo); /* found searching upward */
    assert_string_equal(ri.author, "Ada Lovelace");
    assert_string_equal(ri.message, "second commit\n\nwith a body\n");
    repo_info_release(&ri);
    free(sub);
}

static void test_repo_detached_head(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;
    char sha[64];

    put(f->repo, "a.txt", "a\n");
    commit_all(f->repo, "one");
    put(f->repo, "a.txt", "b\n");
    commit_all(f->repo, "two");
    GIT(f->repo, "checkout", "-q", "--detach", "HEAD~1");
    GIT_OUT(f->repo, sha, "rev-parse", "HEAD");
    ferr_clear(&err);
    assert_int_equal(repo_describe(f->repo, &ri, &err), FERR_OK);
    assert_string_equal(ri.sha, sha);
    assert_null(ri.ref);
    assert_null(ri.branch);
    assert_string_equal(ri.default_branch, "main");
    repo_info_release(&ri);
}

static void test_repo_tags_lightweight_and_annotated(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;

    put(f->repo, "a.txt", "a\n");
    commit_all(f->repo, "one");
    GIT(f->repo, "tag", "old");
    put(f->repo, "a.txt", "b\n");
    commit_all(f->repo, "two");
    GIT(f->repo, "tag", "v1.0");
    GIT(f->repo, "tag", "-a", "-m", "release", "release/1");
    GIT(f->repo, "tag", "-a", "-m", "tree tag", "treetag", "HEAD^{tree}");
    ferr_clear(&err);
    assert_int_equal(repo_describe(f->repo, &ri, &err), FERR_OK);
    assert_int_equal(ri.ntags, 2);
    assert_string_equal(ri.tags[0], "release/1");
    assert_string_equal(ri.tags[1], "v1.0");
    repo_info_release(&ri);
}

static void test_repo_default_branch_from_origin_head(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;

    put(f->repo, "a.txt", "a\n");
    commit_all(f->repo, "one");
    GIT(f->repo, "remote", "add", "origin", "https://example.com/o/r.git");
    GIT(f->repo, "update-ref", "refs/remotes/origin/trunk", "HEAD");
    GIT(f->repo, "symbolic-ref", "refs/remotes/origin/HEAD",
        "refs/remotes/origin/trunk");
    ferr_clear(&err);
    assert_int_equal(repo_describe(f->repo, &ri, &err), FERR_OK);
    assert_string_equal(ri.default_branch, "trunk");
    assert_string_equal(ri.remote_url, "https://example.com/o/r.git");
    repo_info_release(&ri);
}

static void test_repo_default_branch_master_fallback(void **state)
{
    struct fixture *f = *state;
    struct repo_info ri;
    struct ferr err;

    GIT(f->repo, "checkout", "-q", "-b", "master");
    put(f->repo, "a.txt", "a\n");
    commit_all(f->repo, "one");
    GIT(f->repo, "checkout", "-q", "-b", "topic");
    ferr_clear(&err);
    assert_int_equal(repo_describe(f->repo, &ri, &err), FERR_OK);
    assert_string_equal(ri.branch, "topic");
    assert_string_equal(ri.default_branch, "master");
    repo_info_release(&ri);
}

static void expect_paths(char **paths, size_t n, const char *const *want)
{
    size_t i;

    for (i = 0; want[i]; i++) {
        if (i >= n)
            fail_msg("missing path '%s'", want[i]);
        assert_string_equal(paths[i], want[i]);
    }
    if (i != n)
        fail_msg("extra path '%s'", paths[i]);
}

static void test_repo_changed_paths_between_commits(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = { "a.txt", "dir/new.txt", "gone.txt",
                                        NULL };
    char from[64];
    char to[64];
    char **paths;
    size_t n;
    struct ferr err;

    put(f->repo, "a.txt", "a\n");
    put(f->repo, "gone.txt", "bye\n");
    put(f->repo, "same.txt", "same\n");
    commit_all(f->repo, "one");
    GIT_OUT(f->repo, from, "rev-parse", "HEAD");
    put(f->repo, "a.txt", "changed\n");
    put(f->repo, "dir/new.txt", "new\n");
    GIT(f->repo, "rm", "-q", "gone.txt");
    commit_all(f->repo, "two");
    GIT_OUT(f->repo, to, "rev-parse", "HEAD");
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(f->repo, from, to, false, &paths, &n,
                                        &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
    /* an empty @from means "against the first parent": the same here */
    assert_int_equal(repo_changed_paths(f->repo, "", to, false, &paths, &n,
                                        &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
    assert_int_equal(repo_changed_paths(f->repo, ZEROS, "HEAD", false,
                                        &paths, &n, &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
}

static void test_repo_changed_paths_rename(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = { "docs/new-name.md", "old-name.md",
                                        NULL };
    char **paths;
    size_t n;
    struct ferr err;

    put(f->repo, "old-name.md",
        "# a document long enough for rename detection\n"
        "line two\nline three\nline four\n");
    commit_all(f->repo, "one");
    put(f->repo, "docs/.keep", "");
    GIT(f->repo, "add", "docs/.keep");
    commit_all(f->repo, "two");
    GIT(f->repo, "mv", "old-name.md", "docs/new-name.md");
    commit_all(f->repo, "rename");
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(f->repo, "HEAD~1", "HEAD", false,
                                        &paths, &n, &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
}

static void test_repo_changed_paths_root_commit(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = { "README", "src/main.c", NULL };
    char **paths;
    size_t n;
    struct ferr err;

    put(f->repo, "README", "hi\n");
    put(f->repo, "src/main.c", "int main(void) { return 0; }\n");
    commit_all(f->repo, "root");
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(f->repo, NULL, "HEAD", false, &paths,
                                        &n, &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
}

static void test_repo_changed_paths_dirty_worktree(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = { "new/untracked.txt", "staged.txt",
                                        "tracked.txt", NULL };
    char **paths;
    size_t n;
    struct ferr err;

    put(f->repo, ".gitignore", "*.log\n");
    put(f->repo, "tracked.txt", "v1\n");
    put(f->repo, "clean.txt", "clean\n");
    commit_all(f->repo, "one");
    put(f->repo, "tracked.txt", "v2\n");             /* modified */
    put(f->repo, "staged.txt", "s\n");               /* added to index */
    GIT(f->repo, "add", "staged.txt");
    put(f->repo, "new/untracked.txt", "u\n");        /* untracked, in a dir */
    put(f->repo, "debug.log", "ignored\n");          /* ignored */
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(f->repo, "", "HEAD", true, &paths,
                                        &n, &err),
                     FERR_OK);
    /* HEAD's own diff (the root commit) is included too */
    {
        static const char *const all[] = { ".gitignore", "clean.txt",
                                           "new/untracked.txt",
                                           "staged.txt", "tracked.txt",
                                           NULL };
        expect_paths(paths, n, all);
    }
    repo_free_paths(paths, n);
    assert_int_equal(repo_changed_paths(f->repo, "HEAD", "HEAD", true,
                                        &paths, &n, &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
    assert_int_equal(repo_changed_paths(f->repo, "HEAD", "HEAD", false,
                                        &paths, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 0);
    repo_free_paths(paths, n);
}

static void test_repo_changed_paths_unborn_worktree(void **state)
{
    struct fixture *f = *state;
    static const char *const want[] = { "first.txt", NULL };
    char **paths;
    size_t n;
    struct ferr err;

    put(f->repo, "first.txt", "x\n");
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(f->repo, NULL, NULL, true, &paths,
                                        &n, &err),
                     FERR_OK);
    expect_paths(paths, n, want);
    repo_free_paths(paths, n);
}

static void test_repo_changed_paths_unknown_revision(void **state)
{
    struct fixture *f = *state;
    const char *missing = "1234567890123456789012345678901234567890";
    char **paths;
    size_t n;
    struct ferr err;

    put(f->repo, "a.txt", "a\n");
    commit_all(f->repo, "one");
    ferr_clear(&err);
    assert_int_equal(repo_changed_paths(f->repo, missing, "HEAD", false,
                                        &paths, &n, &err),
                     FERR_NOTFOUND);
    assert_null(paths);
    assert_int_equal(n, 0);
    assert_non_null(strstr(err.msg, "unknown revision"));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_repo_not_a_repo),
        T(test_repo_fresh_without_commits),
        T(test_repo_head_branch_parent_author),
        T(test_repo_detached_head),
        T(test_repo_tags_lightweight_and_annotated),
        T(test_repo_default_branch_from_origin_head),
        T(test_repo_default_branch_master_fallback),
        T(test_repo_changed_paths_between_commits),
        T(test_repo_changed_paths_rename),
        T(test_repo_changed_paths_root_commit),
        T(test_repo_changed_paths_dirty_worktree),
        T(test_repo_changed_paths_unborn_worktree),
        T(test_repo_changed_paths_unknown_revision),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
