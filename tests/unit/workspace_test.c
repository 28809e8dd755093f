/* workspace_test: tree copy, tree removal, relative-path checks and small
 * file I/O, all against real temporary directories. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <ftw.h>
#include <grp.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "util/xalloc.h"

static char *tmp_root(void)
{
    const char *base = getenv("TMPDIR");
    char *t = xasprintf("%s/ws-test-XXXXXX", base && *base ? base : "/tmp");

    assert_non_null(mkdtemp(t));
    return t;
}

static char *pathf(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));
static char *pathf(const char *fmt, ...)
{
    va_list ap;
    char *p;

    va_start(ap, fmt);
    assert_true(vasprintf(&p, fmt, ap) >= 0);
    va_end(ap);
    return p;
}

static void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static char *slurp(const char *path)
{
    char *out;
    size_t len;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_read_file(path, 1 << 20, &out, &len, &err),
                     FERR_OK);
    return out;
}

static void cleanup(char *root)
{
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(root, &err), FERR_OK);
    free(root);
}

static void test_workspace_copy_nested_modes_and_mtime(void **state)
{
    char *t = tmp_root();
    char *src = pathf("%s/src", t);
    char *dst = pathf("%s/dst", t);
    char *p;
    struct stat st;
    struct timespec ts[2] = { { 1000000000, 0 }, { 1000000000, 0 } };
    struct ferr err;
    char *text;

    (void)state;
    ferr_clear(&err);
    p = pathf("%s/a/b/c", src);
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    free(p);
    p = pathf("%s/a/b/c/deep.txt", src);
    put(p, "deep\n", 0644);
    assert_int_equal(utimensat(AT_FDCWD, p, ts, 0), 0);
    free(p);
    p = pathf("%s/run.sh", src);
    put(p, "#!/bin/sh\n", 0755);
    free(p);
    p = pathf("%s/a/private", src);
    assert_int_equal(mkdir(p, 0755), 0);
    assert_int_equal(chmod(p, 0700), 0);
    free(p);

    assert_int_equal(workspace_copy(src, dst, false, &err), FERR_OK);
    p = pathf("%s/a/b/c/deep.txt", dst);
    text = slurp(p);
    assert_string_equal(text, "deep\n");
    free(text);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mtim.tv_sec, 1000000000);
    free(p);
    p = pathf("%s/run.sh", dst);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0755);
    free(p);
    p = pathf("%s/a/private", dst);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    free(p);
    free(src);
    free(dst);
    cleanup(t);
}

static void test_workspace_copy_keeps_symlink_as_link(void **state)
{
    char *t = tmp_root();
    char *src = pathf("%s/src", t);
    char *dst = pathf("%s/dst", t);
    char *outside = pathf("%s/outside.txt", t);
    char *p;
    char target[256];
    ssize_t n;
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(mkdir(src, 0755), 0);
    put(outside, "secret\n", 0644);
    p = pathf("%s/link", src);
    assert_int_equal(symlink(outside, p), 0);
    free(p);
    p = pathf("%s/dirlink", src);
    assert_int_equal(symlink(t, p), 0); /* a link to an ancestor: no loop */
    free(p);

    assert_int_equal(workspace_copy(src, dst, false, &err), FERR_OK);
    p = pathf("%s/link", dst);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    n = readlink(p, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, outside);
    free(p);
    p = pathf("%s/dirlink", dst);
    assert_int_equal(lstat(p, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    free(p);
    /* nothing besides the two links was created */
    p = pathf("%s/outside.txt", dst);
    assert_int_equal(lstat(p, &st), -1);
    free(p);
    free(src);
    free(dst);
    free(outside);
    cleanup(t);
}

static void test_workspace_copy_skips_fifo(void **state)
{
    char *t = tmp_root();
    char *src = pathf("%s/src", t);
    char *dst = pathf("%s/dst", t);
    char *p;
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(mkdir(src, 0755), 0);
    p = pathf("%s/pipe", src);
    assert_int_equal(mkfifo(p, 0644), 0);
    free(p);
    p = pathf("%s/file", src);
    put(p, "x", 0644);
    free(p);

    assert_int_equal(workspace_copy(src, dst, false, &err), FERR_OK);
    p = pathf("%s/pipe", dst);
    assert_int_equal(lstat(p, &st), -1);
    assert_int_equal(errno, ENOENT);
    free(p);
    p = pathf("%s/file", dst);
    assert_int_equal(lstat(p, &st), 0);
    free(p);
    free(src);
    free(dst);
    cleanup(t);
}

static void test_workspace_copy_skip_git(void **state)
{
    char *t = tmp_root();
    char *src = pathf("%s/src", t);
    char *dst = pathf("%s/dst", t);
    char *dst2 = pathf("%s/dst2", t);
    char *p;
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    p = pathf("%s/.git/objects", src);
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    free(p);
    p = pathf("%s/sub/.git", src);
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    free(p);

    assert_int_equal(workspace_copy(src, dst, true, &err), FERR_OK);
    p = pathf("%s/.git", dst);
    assert_int_equal(lstat(p, &st), -1);
    free(p);
    p = pathf("%s/sub/.git", dst); /* only the top-level one is skipped */
    assert_int_equal(lstat(p, &st), 0);
    free(p);
    assert_int_equal(workspace_copy(src, dst2, false, &err), FERR_OK);
    p = pathf("%s/.git/objects", dst2);
    assert_int_equal(lstat(p, &st), 0);
    free(p);
    free(src);
    free(dst);
    free(dst2);
    cleanup(t);
}

static void test_workspace_copy_existing_dst_fails(void **state)
{
    char *t = tmp_root();
    char *src = pathf("%s/src", t);
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(mkdir(src, 0755), 0);
    assert_int_equal(workspace_copy(src, t, false, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "cannot create"));
    free(src);
    cleanup(t);
}

static void test_workspace_copy_into_own_subdir(void **state)
{
    char *t = tmp_root();
    char *dst = pathf("%s/ws/copy", t);
    char *p;
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    p = pathf("%s/a.txt", t);
    put(p, "a", 0644);
    free(p);
    p = pathf("%s/ws", t);
    assert_int_equal(mkdir(p, 0755), 0);
    free(p);
    assert_int_equal(workspace_copy(t, dst, false, &err), FERR_OK);
    p = pathf("%s/a.txt", dst);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    p = pathf("%s/ws", dst); /* the parent of the copy is copied... */
    assert_int_equal(stat(p, &st), 0);
    free(p);
    p = pathf("%s/ws/copy", dst); /* ...but not the copy itself */
    assert_int_equal(lstat(p, &st), -1);
    free(p);
    free(dst);
    cleanup(t);
}

/* Build a chain of @depth directories below @dir without long paths. */
static void make_deep(const char *dir, int depth)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

    assert_true(fd >= 0);
    for (int i = 0; i < depth; i++) {
        int next;

        assert_int_equal(mkdirat(fd, "d", 0755), 0);
        next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        assert_true(next >= 0);
        if (i % 10 == 0) {
            int f = openat(next, "f", O_WRONLY | O_CREAT | O_CLOEXEC, 0644);

            assert_true(f >= 0);
            close(f);
        }
        close(fd);
        fd = next;
    }
    close(fd);
}

static int count_deep(const char *dir)
{
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int n = 0;

    assert_true(fd >= 0);
    for (;;) {
        int next = openat(fd, "d", O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (next < 0)
            break;
        close(fd);
        fd = next;
        n++;
    }
    close(fd);
    return n;
}

static void test_workspace_copy_and_rmtree_deep_tree(void **state)
{
    char *t = tmp_root();
    char *src = pathf("%s/src", t);
    char *dst = pathf("%s/dst", t);
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(mkdir(src, 0755), 0);
    make_deep(src, 1500); /* deeper than PATH_MAX allows as one path */
    assert_int_equal(workspace_copy(src, dst, false, &err), FERR_OK);
    assert_int_equal(count_deep(dst), 1500);
    assert_int_equal(workspace_rmtree(dst, &err), FERR_OK);
    assert_int_equal(lstat(dst, &st), -1);
    assert_int_equal(workspace_rmtree(src, &err), FERR_OK);
    assert_int_equal(lstat(src, &st), -1);
    free(src);
    free(dst);
    cleanup(t);
}

#define NOBODY 65534

static int chown_nobody(const char *path, const struct stat *st, int flag,
                        struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return lchown(path, NOBODY, NOBODY);
}

/* Remove @tree (below @parent) with permission checks in force: as root
 * they would be bypassed, so then the tree is handed to "nobody" and
 * removed by a child running as nobody. */
static enum ferr_code rmtree_unprivileged(const char *parent,
                                          const char *tree)
{
    struct ferr err;
    pid_t pid;
    int status;

    ferr_clear(&err);
    if (geteuid() != 0)
        return workspace_rmtree(tree, &err);
    assert_int_equal(nftw(tree, chown_nobody, 16, FTW_PHYS), 0);
    assert_int_equal(lchown(parent, NOBODY, NOBODY), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        if (setgroups(0, NULL) < 0 || setgid(NOBODY) < 0 ||
            setuid(NOBODY) < 0)
            _exit(100);
        _exit((int)workspace_rmtree(tree, &err));
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return (enum ferr_code)WEXITSTATUS(status);
}

static void test_workspace_rmtree_readonly_and_outside_link(void **state)
{
    char *t = tmp_root();
    char *tree = pathf("%s/tree", t);
    char *outside = pathf("%s/outside", t);
    char *p;
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    p = pathf("%s/ro/inner", tree);
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    free(p);
    p = pathf("%s/ro/inner/file", tree);
    put(p, "x", 0444);
    free(p);
    p = pathf("%s/ro/inner", tree);
    assert_int_equal(chmod(p, 0555), 0);
    free(p);
    p = pathf("%s/ro", tree);
    assert_int_equal(chmod(p, 0500), 0);
    free(p);
    assert_int_equal(mkdir(outside, 0755), 0);
    p = pathf("%s/keep.txt", outside);
    put(p, "keep", 0644);
    free(p);
    p = pathf("%s/link", tree);
    assert_int_equal(symlink(outside, p), 0);
    free(p);

    assert_int_equal(rmtree_unprivileged(t, tree), FERR_OK);
    assert_int_equal(lstat(tree, &st), -1);
    p = pathf("%s/keep.txt", outside);
    assert_int_equal(stat(p, &st), 0);
    free(p);
    free(tree);
    free(outside);
    cleanup(t);
}

static void test_workspace_rmtree_missing_and_link(void **state)
{
    char *t = tmp_root();
    char *p = pathf("%s/nope", t);
    char *link = pathf("%s/link", t);
    char *dir = pathf("%s/dir", t);
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(p, &err), FERR_OK);
    assert_int_equal(mkdir(dir, 0755), 0);
    assert_int_equal(symlink(dir, link), 0);
    assert_int_equal(workspace_rmtree(link, &err), FERR_OK);
    assert_int_equal(lstat(link, &st), -1);
    assert_int_equal(stat(dir, &st), 0); /* the link target survives */
    free(p);
    free(link);
    free(dir);
    cleanup(t);
}

static void test_workspace_check_relpath_table(void **state)
{
    static const struct {
        const char *path;
        enum ferr_code want;
    } cases[] = {
        { "a", FERR_OK },
        { "a/b/c.txt", FERR_OK },
        { "a/./b", FERR_OK },
        { "...", FERR_OK },
        { "..a", FERR_OK },
        { "a..", FERR_OK },
        { ".hidden", FERR_OK },
        { "../x", FERR_INVALID },
        { "a/../../b", FERR_INVALID },
        { "a/..", FERR_INVALID },
        { "..", FERR_INVALID },
        { "/abs", FERR_INVALID },
        { "", FERR_INVALID },
    };
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ferr_clear(&err);
        if (workspace_check_relpath(cases[i].path, &err) != cases[i].want)
            fail_msg("path '%s': got '%s'", cases[i].path, err.msg);
    }
    ferr_clear(&err);
    assert_int_equal(workspace_check_relpath(NULL, &err), FERR_INVALID);
}

static void test_workspace_check_relpath_too_long(void **state)
{
    char *p = xmalloc(5000);
    struct ferr err;

    (void)state;
    memset(p, 'a', 4999);
    p[4999] = '\0';
    ferr_clear(&err);
    assert_int_equal(workspace_check_relpath(p, &err), FERR_INVALID);
    p[4096] = '\0';
    ferr_clear(&err);
    assert_int_equal(workspace_check_relpath(p, &err), FERR_OK);
    free(p);
}

static void test_workspace_read_file_limit(void **state)
{
    char *t = tmp_root();
    char *p = pathf("%s/f", t);
    char *out = (char *)1;
    size_t len = 99;
    struct ferr err;

    (void)state;
    put(p, "0123456789", 0644);
    ferr_clear(&err);
    assert_int_equal(workspace_read_file(p, 9, &out, &len, &err),
                     FERR_LIMIT);
    assert_null(out);
    assert_int_equal(len, 0);
    ferr_clear(&err);
    assert_int_equal(workspace_read_file(p, 10, &out, &len, &err), FERR_OK);
    assert_int_equal(len, 10);
    assert_string_equal(out, "0123456789");
    free(out);
    ferr_clear(&err);
    free(p);
    p = pathf("%s/missing", t);
    assert_int_equal(workspace_read_file(p, 10, &out, &len, &err),
                     FERR_NOTFOUND);
    free(p);
    cleanup(t);
}

static void test_workspace_read_file_nonregular_limit(void **state)
{
    char *out;
    size_t len;
    struct ferr err;

    (void)state;
    /* /proc files report size 0: the limit must hold while reading */
    ferr_clear(&err);
    assert_int_equal(workspace_read_file("/proc/self/maps", 8, &out, &len,
                                         &err),
                     FERR_LIMIT);
}

static void test_workspace_write_file_replaces_atomically(void **state)
{
    char *t = tmp_root();
    char *p = pathf("%s/state.json", t);
    char *text;
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(workspace_write_file(p, "one", 3, &err), FERR_OK);
    assert_int_equal(chmod(p, 0600), 0);
    assert_int_equal(workspace_write_file(p, "two!", 4, &err), FERR_OK);
    text = slurp(p);
    assert_string_equal(text, "two!");
    free(text);
    assert_int_equal(stat(p, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600); /* the old mode is kept */
    free(p);
    p = pathf("%s/no/such/dir/f", t);
    assert_int_equal(workspace_write_file(p, "x", 1, &err), FERR_IO);
    free(p);
    cleanup(t);
}

static void test_workspace_put_file_truncates_but_never_follows(void **state)
{
    char *t = tmp_root();
    char *p = pathf("%s/env", t);
    char *target = pathf("%s/precious", t);
    char *text;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(workspace_put_file(p, "first", 5, &err), FERR_OK);
    assert_int_equal(workspace_put_file(p, "", 0, &err), FERR_OK);
    text = slurp(p);
    assert_string_equal(text, "");
    free(text);
    /* a step swaps its runner file for a link: the reset must refuse */
    assert_int_equal(workspace_put_file(target, "keep me", 7, &err), FERR_OK);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink(target, p), 0);
    assert_int_equal(workspace_put_file(p, "", 0, &err), FERR_IO);
    text = slurp(target);
    assert_string_equal(text, "keep me");
    free(text);
    free(target);
    free(p);
    cleanup(t);
}

static void test_workspace_read_at_refuses_links_and_fifos(void **state)
{
    char *t = tmp_root();
    char *dir = pathf("%s/files", t);
    char *p = pathf("%s/files/output", t);
    char *target = pathf("%s/secret", t);
    char *data = NULL;
    size_t len = 99;
    struct ferr err;
    int fd;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(mkdir(dir, 0755), 0);
    fd = open(dir, O_RDONLY | O_DIRECTORY);
    assert_true(fd >= 0);
    /* a regular file reads */
    assert_int_equal(workspace_put_at(fd, dir, "output", "a=1\n", 4, &err),
                     FERR_OK);
    assert_int_equal(
        workspace_read_at(fd, dir, "output", 100, &data, &len, &err), FERR_OK);
    assert_int_equal(len, 4);
    assert_string_equal(data, "a=1\n");
    free(data);
    /* over the limit */
    assert_int_equal(workspace_read_at(fd, dir, "output", 3, &data, &len, &err),
                     FERR_LIMIT);
    assert_null(data);
    /* a link is refused, by name, and its target is left alone */
    assert_int_equal(workspace_put_file(target, "secret", 6, &err), FERR_OK);
    assert_int_equal(unlink(p), 0);
    assert_int_equal(symlink(target, p), 0);
    ferr_clear(&err);
    assert_int_equal(
        workspace_read_at(fd, dir, "output", 100, &data, &len, &err),
        FERR_INVALID);
    assert_null(data);
    assert_int_equal(len, 0);
    assert_non_null(strstr(err.msg, "files/output' is a symbolic link"));
    assert_int_equal(workspace_put_at(fd, dir, "output", "", 0, &err),
                     FERR_IO);
    data = slurp(target);
    assert_string_equal(data, "secret");
    free(data);
    /* a FIFO neither blocks the open nor reads */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(mkfifo(p, 0644), 0);
    ferr_clear(&err);
    assert_int_equal(
        workspace_read_at(fd, dir, "output", 100, &data, &len, &err),
        FERR_INVALID);
    assert_non_null(strstr(err.msg, "is not a regular file"));
    /* missing */
    assert_int_equal(unlink(p), 0);
    assert_int_equal(
        workspace_read_at(fd, dir, "output", 100, &data, &len, &err),
        FERR_NOTFOUND);
    /* the directory swapped for a link: the descriptor still names the
     * directory it opened, never the link's target */
    assert_int_equal(workspace_put_at(fd, dir, "output", "x", 1, &err),
                     FERR_OK);
    {
        char *moved = pathf("%s/files.old", t);
        char *other = pathf("%s/other", t);

        assert_int_equal(rename(dir, moved), 0);
        assert_int_equal(mkdir(other, 0755), 0);
        assert_int_equal(symlink(other, dir), 0);
        assert_int_equal(workspace_put_at(fd, dir, "env", "", 0, &err),
                         FERR_OK);
        free(data);
        data = pathf("%s/env", other);
        assert_int_equal(access(data, F_OK), -1);
        free(data);
        data = pathf("%s/env", moved);
        assert_int_equal(access(data, F_OK), 0);
        free(data);
        data = NULL;
        free(moved);
        free(other);
    }
    close(fd);
    free(target);
    free(p);
    free(dir);
    cleanup(t);
}

static void test_workspace_mkdirs_existing_and_file(void **state)
{
    char *t = tmp_root();
    char *p = pathf("%s/a/b/c/", t);
    char *f = pathf("%s/file", t);
    char *under = pathf("%s/file/sub", t);
    struct stat st;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    assert_int_equal(stat(p, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    put(f, "x", 0644);
    assert_int_equal(workspace_mkdirs(under, &err), FERR_IO);
    free(p);
    free(f);
    free(under);
    cleanup(t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_workspace_copy_nested_modes_and_mtime),
        cmocka_unit_test(test_workspace_copy_keeps_symlink_as_link),
        cmocka_unit_test(test_workspace_copy_skips_fifo),
        cmocka_unit_test(test_workspace_copy_skip_git),
        cmocka_unit_test(test_workspace_copy_existing_dst_fails),
        cmocka_unit_test(test_workspace_copy_into_own_subdir),
        cmocka_unit_test(test_workspace_copy_and_rmtree_deep_tree),
        cmocka_unit_test(test_workspace_rmtree_readonly_and_outside_link),
        cmocka_unit_test(test_workspace_rmtree_missing_and_link),
        cmocka_unit_test(test_workspace_check_relpath_table),
        cmocka_unit_test(test_workspace_check_relpath_too_long),
        cmocka_unit_test(test_workspace_read_file_limit),
        cmocka_unit_test(test_workspace_read_file_nonregular_limit),
        cmocka_unit_test(test_workspace_write_file_replaces_atomically),
        cmocka_unit_test(test_workspace_put_file_truncates_but_never_follows),
        cmocka_unit_test(test_workspace_read_at_refuses_links_and_fifos),
        cmocka_unit_test(test_workspace_mkdirs_existing_and_file),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
