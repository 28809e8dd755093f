/* hook_test: hook_install into bare and non-bare repositories made with
 * libgit2 in a temp dir — files, modes, quoting (the hook is run with a
 * fake ferry), core.hooksPath, refusal of foreign hooks, re-install. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "trigger/hook.h"
#include "util/xalloc.h"

struct fixture {
    char *root; /* temp dir, removed at teardown */
    char *repo; /* root/repo (bare) or root/work (non-bare) */
    char *hooks; /* where the hook should land */
    bool bare;
};

static int setup_kind(void **state, bool bare)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    char tmpl[] = "/tmp/hook_test.XXXXXX";
    git_repository *r = NULL;
    char real[4096];

    assert_non_null(mkdtemp(tmpl));
    assert_non_null(realpath(tmpl, real));
    f->root = xstrdup(real);
    f->bare = bare;
    f->repo = xasprintf("%s/%s", f->root, bare ? "repo.git" : "work");
    f->hooks = xasprintf("%s%s/hooks", f->repo, bare ? "" : "/.git");
    git_libgit2_init();
    assert_int_equal(git_repository_init(&r, f->repo, bare), 0);
    git_repository_free(r);
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
    assert_int_equal(workspace_rmtree(f->root, &err), FERR_OK);
    git_libgit2_shutdown();
    free(f->root);
    free(f->repo);
    free(f->hooks);
    free(f);
    return 0;
}

static char *slurp(const char *path)
{
    struct ferr err;
    char *text = NULL;
    size_t len;

    ferr_clear(&err);
    if (workspace_read_file(path, 1 << 20, &text, &len, &err))
        fail_msg("read '%s': %s", path, err.msg);
    return text;
}

static void put(const char *path, const char *text, mode_t mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
}

static void ensure_hooks(const struct fixture *f)
{
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(f->hooks, &err), FERR_OK);
}

static mode_t mode_of(const char *path)
{
    struct stat st;

    assert_int_equal(lstat(path, &st), 0);
    return st.st_mode & 07777;
}

static void install_ok(const char *repo, const char *bin, const char *url,
                       const char *name, const char *key)
{
    struct ferr err;

    ferr_clear(&err);
    if (hook_install(repo, bin, url, name, key, &err))
        fail_msg("hook_install: %s", err.msg);
}

/* Run @hook with @input on stdin; returns its exit status. */
static int run_hook(const char *hook, const char *input)
{
    int pfd[2];
    int status;
    pid_t pid;

    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        char *const argv[] = { (char *)hook, NULL };

        dup2(pfd[0], 0);
        execv(hook, argv);
        _exit(127);
    }
    close(pfd[0]);
    assert_int_equal(write(pfd[1], input, strlen(input)),
                     (ssize_t)strlen(input));
    close(pfd[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void test_hook_install_bare(void **state)
{
    struct fixture *f = *state;
    char *hook = xasprintf("%s/post-receive", f->hooks);
    char *key = xasprintf("%s/ferry-hook.key", f->hooks);
    char *want = xasprintf("exec '/usr/bin/ferry' hook-notify --server "
                           "'http://127.0.0.1:8080' --repo 'app' "
                           "--key-file '%s'\n",
                           key);
    char *text;

    install_ok(f->repo, "/usr/bin/ferry", "http://127.0.0.1:8080", "app",
               "s3cret");
    text = slurp(hook);
    assert_true(!strncmp(text, "#!/bin/sh\n", 10));
    assert_non_null(strstr(text, want));
    free(text);
    assert_int_equal(mode_of(hook), 0755);
    text = slurp(key);
    assert_string_equal(text, "s3cret");
    free(text);
    assert_int_equal(mode_of(key), 0600);
    free(want);
    free(key);
    free(hook);
}

static void test_hook_install_non_bare_uses_dot_git(void **state)
{
    struct fixture *f = *state;
    char *hook = xasprintf("%s/post-receive", f->hooks);
    char *key = xasprintf("%s/ferry-hook.key", f->hooks);
    char *text;

    install_ok(f->repo, "/opt/ferry", "http://h:1", "w", "k");
    assert_int_equal(mode_of(hook), 0755);
    assert_int_equal(mode_of(key), 0600);
    text = slurp(hook);
    assert_non_null(strstr(text, "/.git/hooks/ferry-hook.key'"));
    free(text);
    free(key);
    free(hook);
}

static void test_hook_script_quotes_and_passes_stdin(void **state)
{
    struct fixture *f = *state;
    char *bindir = xasprintf("%s/my bin", f->root);
    char *bin = xasprintf("%s/fer'ry", bindir);
    char *hook = xasprintf("%s/post-receive", f->hooks);
    char *args_path = xasprintf("%s/args", bindir);
    char *stdin_path = xasprintf("%s/stdin", bindir);
    char *want = xasprintf("hook-notify\n--server\nhttp://x/$HOME\n--repo\n"
                           "it's `me`\n--key-file\n%s/ferry-hook.key\n",
                           f->hooks);
    char *text;

    assert_int_equal(mkdir(bindir, 0755), 0);
    put(bin,
        "#!/bin/sh\n"
        "d=$(dirname \"$0\")\n"
        "printf '%s\\n' \"$@\" > \"$d/args\"\n"
        "cat > \"$d/stdin\"\n",
        0755);
    install_ok(f->repo, bin, "http://x/$HOME", "it's `me`", "k");
    assert_int_equal(run_hook(hook, "0000 1111 refs/heads/main\n"), 0);
    text = slurp(args_path);
    assert_string_equal(text, want);
    free(text);
    text = slurp(stdin_path);
    assert_string_equal(text, "0000 1111 refs/heads/main\n");
    free(text);
    free(want);
    free(stdin_path);
    free(args_path);
    free(hook);
    free(bin);
    free(bindir);
}

static void test_hook_refuses_foreign_hook(void **state)
{
    struct fixture *f = *state;
    char *hook = xasprintf("%s/post-receive", f->hooks);
    char *key = xasprintf("%s/ferry-hook.key", f->hooks);
    struct ferr err;
    struct stat st;
    char *text;

    ensure_hooks(f);
    put(hook, "#!/bin/sh\necho deploy\n", 0700);
    ferr_clear(&err);
    assert_int_equal(hook_install(f->repo, "/usr/bin/ferry", "http://h",
                                  "app", "k", &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "exists and was not written by ferry"));
    assert_non_null(strstr(err.msg, "add this line to it"));
    assert_non_null(strstr(err.msg, "'/usr/bin/ferry' hook-notify"));
    text = slurp(hook);
    assert_string_equal(text, "#!/bin/sh\necho deploy\n");
    free(text);
    assert_int_equal(mode_of(hook), 0700);
    assert_int_equal(lstat(key, &st), -1); /* nothing written */
    free(key);
    free(hook);
}

static void test_hook_refuses_symlinked_hook(void **state)
{
    struct fixture *f = *state;
    char *hook = xasprintf("%s/post-receive", f->hooks);
    char *target = xasprintf("%s/elsewhere", f->root);
    struct ferr err;
    char *text;

    put(target, "#!/bin/sh\n", 0755);
    ensure_hooks(f);
    assert_int_equal(symlink(target, hook), 0);
    ferr_clear(&err);
    assert_int_equal(hook_install(f->repo, "/usr/bin/ferry", "http://h",
                                  "app", "k", &err),
                     FERR_INVALID);
    text = slurp(target);
    assert_string_equal(text, "#!/bin/sh\n");
    free(text);
    free(target);
    free(hook);
}

static void test_hook_key_symlink_is_replaced_not_followed(void **state)
{
    struct fixture *f = *state;
    char *key = xasprintf("%s/ferry-hook.key", f->hooks);
    char *target = xasprintf("%s/victim", f->root);
    char *text;

    put(target, "precious", 0644);
    ensure_hooks(f);
    assert_int_equal(symlink(target, key), 0);
    install_ok(f->repo, "/usr/bin/ferry", "http://h", "app", "newkey");
    text = slurp(target);
    assert_string_equal(text, "precious");
    free(text);
    assert_int_equal(mode_of(key), 0600); /* a regular file now */
    text = slurp(key);
    assert_string_equal(text, "newkey");
    free(text);
    free(target);
    free(key);
}

static void test_hook_reinstall_replaces_own_hook(void **state)
{
    struct fixture *f = *state;
    char *hook = xasprintf("%s/post-receive", f->hooks);
    char *key = xasprintf("%s/ferry-hook.key", f->hooks);
    char *text;

    install_ok(f->repo, "/usr/bin/ferry", "http://old:1", "app", "k1");
    install_ok(f->repo, "/usr/bin/ferry", "http://new:2", "app", "k2");
    text = slurp(hook);
    assert_non_null(strstr(text, "'http://new:2'"));
    assert_null(strstr(text, "old:1"));
    free(text);
    text = slurp(key);
    assert_string_equal(text, "k2");
    free(text);
    assert_int_equal(mode_of(hook), 0755);
    free(key);
    free(hook);
}

static void test_hook_honours_relative_hooks_path(void **state)
{
    struct fixture *f = *state;
    git_repository *r = NULL;
    git_config *cfg = NULL;
    char *hook = xasprintf("%s/githooks/post-receive", f->repo);
    char *text;

    assert_int_equal(git_repository_open(&r, f->repo), 0);
    assert_int_equal(git_repository_config(&cfg, r), 0);
    assert_int_equal(git_config_set_string(cfg, "core.hooksPath",
                                           "githooks"),
                     0);
    git_config_free(cfg);
    git_repository_free(r);
    install_ok(f->repo, "/usr/bin/ferry", "http://h", "app", "k");
    assert_int_equal(mode_of(hook), 0755);
    text = slurp(hook);
    assert_non_null(strstr(text, "/githooks/ferry-hook.key'"));
    free(text);
    free(hook);
}

static void test_hook_errors(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(hook_install(f->root, "/usr/bin/ferry", "http://h",
                                  "app", "k", &err),
                     FERR_NOTFOUND);
    ferr_clear(&err);
    assert_int_equal(hook_install(f->repo, "/usr/bin/ferry", "http://h",
                                  "app", "", &err),
                     FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(hook_install(f->repo, "/usr/bin/ferry", "http://h",
                                  "a\npp", "k", &err),
                     FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(hook_install(f->repo, "", "http://h", "app", "k",
                                  &err),
                     FERR_INVALID);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_hook_install_bare, setup_bare,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_hook_install_non_bare_uses_dot_git, setup_work, teardown),
        cmocka_unit_test_setup_teardown(
            test_hook_script_quotes_and_passes_stdin, setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_hook_refuses_foreign_hook,
                                        setup_work, teardown),
        cmocka_unit_test_setup_teardown(test_hook_refuses_symlinked_hook,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(
            test_hook_key_symlink_is_replaced_not_followed, setup_bare,
            teardown),
        cmocka_unit_test_setup_teardown(test_hook_reinstall_replaces_own_hook,
                                        setup_bare, teardown),
        cmocka_unit_test_setup_teardown(test_hook_honours_relative_hooks_path,
                                        setup_work, teardown),
        cmocka_unit_test_setup_teardown(test_hook_errors, setup_bare,
                                        teardown),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
