/* proc_test: proc_spawn and friends against real processes (sh, echo,
 * sleep, setsid), with output read through the real loop. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "exec/proc.h"
#include "util/buf.h"
#include "util/loop.h"

#define SH(...) ((char *const[]){ "sh", "-c", __VA_ARGS__, NULL })

static char *const test_env[] = { "PATH=/usr/bin:/bin", "FOO=bar", NULL };

struct output {
    struct buf text;
    bool eof;
};

static void on_output(struct loop *l, int fd, unsigned events, void *ud)
{
    struct output *o = ud;
    char chunk[4096];
    ssize_t n;

    (void)events;
    for (;;) {
        n = read(fd, chunk, sizeof(chunk));
        if (n > 0) {
            assert_int_equal(buf_add(&o->text, chunk, (size_t)n), FERR_OK);
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        break;
    }
    if (n < 0) {
        assert_int_equal(errno, EAGAIN); /* the pipe is non-blocking */
        return;
    }
    o->eof = true;
    loop_del_fd(l, fd);
    close(fd);
    loop_stop(l);
}

/* Read @fd (adopted: closed at EOF) through a loop until EOF. */
static void read_all(int fd, struct output *o)
{
    struct loop *l = NULL;
    struct ferr err;

    ferr_clear(&err);
    buf_init(&o->text, 1024 * 1024);
    o->eof = false;
    assert_int_equal(loop_new(&l, &err), FERR_OK);
    assert_int_equal(loop_add_fd(l, fd, LOOP_READ, on_output, o), FERR_OK);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_true(o->eof);
    loop_free(l);
}

static int wait_for(pid_t pid)
{
    int status = -1;
    pid_t r;

    do
        r = waitpid(pid, &status, 0);
    while (r < 0 && errno == EINTR);
    assert_int_equal(r, pid);
    return status;
}

/* Spawn, read everything, reap: the exit status; *out gets the text. */
static int run(const struct proc_spec *spec, struct output *out)
{
    struct ferr err;
    pid_t pid;
    int fd;

    ferr_clear(&err);
    assert_int_equal(proc_spawn(spec, &pid, &fd, &err), FERR_OK);
    assert_true(pid > 0);
    assert_true(fd >= 0);
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    read_all(fd, out);
    return wait_for(pid);
}

static int count_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    struct dirent *de;
    int n = 0;

    assert_non_null(d);
    while ((de = readdir(d)))
        if (de->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1; /* the DIR's own fd */
}

static bool no_children_left(void)
{
    return waitpid(-1, NULL, WNOHANG) < 0 && errno == ECHILD;
}

static void test_proc_spawn_echo_output_until_eof(void **state)
{
    struct proc_spec spec = {
        .path = "echo",
        .argv = (char *const[]){ "echo", "hello", "world", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;
    int status;

    (void)state;
    status = run(&spec, &out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_string_equal(buf_cstr(&out.text), "hello world\n");
    buf_release(&out.text);
}

static void test_proc_spawn_exit_status(void **state)
{
    struct proc_spec spec = {
        .path = "/bin/sh",
        .argv = SH("exit 3"),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;
    int status;

    (void)state;
    status = run(&spec, &out);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 3);
    buf_release(&out.text);
}

static void test_proc_spawn_merges_stderr(void **state)
{
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("echo out; echo err >&2; echo out2"),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;

    (void)state;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_string_equal(buf_cstr(&out.text), "out\nerr\nout2\n");
    buf_release(&out.text);
}

static void test_proc_spawn_honours_cwd(void **state)
{
    char dir[] = "/tmp/proc_test.XXXXXX";
    char real[PATH_MAX];
    char want[PATH_MAX + 2];
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("pwd -P"),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;

    (void)state;
    assert_non_null(mkdtemp(dir));
    assert_non_null(realpath(dir, real));
    spec.cwd = dir;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    snprintf(want, sizeof(want), "%s\n", real);
    assert_string_equal(buf_cstr(&out.text), want);
    buf_release(&out.text);
    assert_int_equal(rmdir(dir), 0);
}

static void test_proc_spawn_honours_env(void **state)
{
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("echo \"$FOO ${HOME-nohome}\""),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;

    (void)state;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    /* envp replaces the environment: HOME is not inherited */
    assert_string_equal(buf_cstr(&out.text), "bar nohome\n");
    buf_release(&out.text);
}

static void write_file(const char *path, const char *text, mode_t mode)
{
    FILE *f = fopen(path, "w");

    assert_non_null(f);
    assert_true(fputs(text, f) >= 0);
    assert_int_equal(fclose(f), 0);
    assert_int_equal(chmod(path, mode), 0);
}

static void test_proc_spawn_searches_path_of_envp(void **state)
{
    char dir[] = "/tmp/proc_test.XXXXXX";
    char script[PATH_MAX];
    char pathvar[PATH_MAX + 8];
    struct proc_spec spec = {
        .path = "ferry-hello",
        .argv = (char *const[]){ "ferry-hello", NULL },
        .stdin_fd = -1,
    };
    struct output out;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(script, sizeof(script), "%s/ferry-hello", dir);
    write_file(script, "#!/bin/sh\necho found \"$0\"\n", 0755);
    snprintf(pathvar, sizeof(pathvar), "PATH=/nonexistent::%s", dir);
    spec.envp = (char *const[]){ pathvar, NULL };
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_non_null(strstr(buf_cstr(&out.text), "found "));
    assert_non_null(strstr(buf_cstr(&out.text), dir));
    buf_release(&out.text);
    assert_int_equal(unlink(script), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_proc_spawn_relative_path_entry_uses_cwd(void **state)
{
    char dir[] = "/tmp/proc_test.XXXXXX";
    char sub[64];
    char script[PATH_MAX];
    struct proc_spec spec = {
        .path = "ferry-rel",
        .argv = (char *const[]){ "ferry-rel", NULL },
        .envp = (char *const[]){ "PATH=bin", NULL },
        .stdin_fd = -1,
    };
    struct output out;

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(sub, sizeof(sub), "%s/bin", dir);
    assert_int_equal(mkdir(sub, 0755), 0);
    snprintf(script, sizeof(script), "%s/ferry-rel", sub);
    write_file(script, "#!/bin/sh\necho rel\n", 0755);
    spec.cwd = dir;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_string_equal(buf_cstr(&out.text), "rel\n");
    buf_release(&out.text);
    assert_int_equal(unlink(script), 0);
    assert_int_equal(rmdir(sub), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_proc_spawn_command_not_found(void **state)
{
    struct proc_spec spec = {
        .path = "ferry-no-such-command",
        .argv = (char *const[]){ "ferry-no-such-command", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct ferr err;
    pid_t pid = 0;
    int fd = 0;
    int before = count_fds();

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_EXEC);
    assert_string_equal(err.msg, "'ferry-no-such-command': command not found");
    assert_int_equal(pid, -1);
    assert_int_equal(fd, -1);
    assert_int_equal(count_fds(), before);
    assert_true(no_children_left());
}

static void test_proc_spawn_path_not_searched_in_parent_env(void **state)
{
    /* "sh" is in our PATH, but not in the child's (which has none set
     * to a directory holding it) */
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("true"),
        .envp = (char *const[]){ "PATH=/nonexistent", NULL },
        .stdin_fd = -1,
    };
    struct ferr err;
    pid_t pid;
    int fd;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_EXEC);
    assert_string_equal(err.msg, "'sh': command not found");
}

static void test_proc_spawn_exec_failure_no_leak(void **state)
{
    struct proc_spec spec = {
        .path = "/bin/ferry-nope",
        .argv = (char *const[]){ "nope", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct ferr err;
    pid_t pid = 0;
    int fd = 0;
    int before = count_fds();

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_EXEC);
    assert_string_equal(err.msg,
                        "cannot run '/bin/ferry-nope': no such file or "
                        "directory");
    assert_int_equal(pid, -1);
    assert_int_equal(fd, -1);
    assert_int_equal(count_fds(), before);
    assert_true(no_children_left()); /* the failed child was reaped */
}

static void test_proc_spawn_exec_permission_denied(void **state)
{
    char dir[] = "/tmp/proc_test.XXXXXX";
    char file[PATH_MAX];
    struct proc_spec spec = {
        .argv = (char *const[]){ "plain", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct ferr err;
    pid_t pid;
    int fd;
    int before = count_fds();

    (void)state;
    assert_non_null(mkdtemp(dir));
    snprintf(file, sizeof(file), "%s/plain", dir);
    write_file(file, "not a program\n", 0644);
    spec.path = file;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_EXEC);
    assert_non_null(strstr(err.msg, "permission denied"));
    assert_non_null(strstr(err.msg, file));
    assert_int_equal(count_fds(), before);
    assert_true(no_children_left());
    assert_int_equal(unlink(file), 0);
    assert_int_equal(rmdir(dir), 0);
}

static void test_proc_spawn_bad_cwd_fails(void **state)
{
    struct proc_spec spec = {
        .path = "/bin/sh",
        .argv = SH("true"),
        .envp = test_env,
        .cwd = "/nonexistent/ferry-dir",
        .stdin_fd = -1,
    };
    struct ferr err;
    pid_t pid;
    int fd;
    int before = count_fds();

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_EXEC);
    assert_string_equal(err.msg,
                        "cannot enter '/nonexistent/ferry-dir' to run "
                        "'/bin/sh': no such file or directory");
    assert_int_equal(count_fds(), before);
    assert_true(no_children_left());
}

static void test_proc_spawn_invalid_spec(void **state)
{
    struct proc_spec spec = { .argv = SH("true"), .stdin_fd = -1 };
    struct ferr err;
    pid_t pid;
    int fd;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_INVALID);
    spec.path = "sh";
    spec.argv = (char *const[]){ NULL };
    assert_int_equal(proc_spawn(&spec, &pid, &fd, NULL), FERR_INVALID);
    assert_int_equal(pid, -1);
    assert_int_equal(fd, -1);
}

static void test_proc_spawn_success_no_fd_leak(void **state)
{
    struct proc_spec spec = {
        .path = "true",
        .argv = (char *const[]){ "true", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;
    int before = count_fds();

    (void)state;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    buf_release(&out.text);
    assert_int_equal(count_fds(), before);
}

static void test_proc_spawn_stdin_from_fd(void **state)
{
    struct proc_spec spec = {
        .path = "cat",
        .argv = (char *const[]){ "cat", NULL },
        .envp = test_env,
    };
    struct output out;
    int p[2];

    (void)state;
    assert_int_equal(pipe2(p, O_CLOEXEC), 0);
    assert_int_equal(write(p[1], "abc", 3), 3);
    close(p[1]);
    spec.stdin_fd = p[0];
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_string_equal(buf_cstr(&out.text), "abc");
    buf_release(&out.text);
    close(p[0]);
}

static void test_proc_spawn_stdin_defaults_to_devnull(void **state)
{
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("cat; readlink /proc/self/fd/0"),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;

    (void)state;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_string_equal(buf_cstr(&out.text), "/dev/null\n");
    buf_release(&out.text);
}

static void test_proc_spawn_no_extra_fds_in_child(void **state)
{
    char cmd[128];
    struct proc_spec spec = {
        .path = "sh",
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;
    int leaky;

    (void)state;
    /* an fd some library opened without O_CLOEXEC */
    leaky = dup(2);
    assert_true(leaky > 2);
    snprintf(cmd, sizeof(cmd),
             "if test -e /proc/$$/fd/%d; then echo leaked; "
             "else echo clean; fi", leaky);
    spec.argv = SH(cmd);
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_string_equal(buf_cstr(&out.text), "clean\n");
    buf_release(&out.text);
    close(leaky);
}

static void test_proc_spawn_child_leads_own_group(void **state)
{
    struct proc_spec spec = {
        .path = "sleep",
        .argv = (char *const[]){ "sleep", "100", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct ferr err;
    int status;
    pid_t pid;
    int fd;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_OK);
    assert_int_equal(getpgid(pid), pid);
    assert_true(getpgid(pid) != getpgrp());
    assert_true(proc_group_alive(pid));
    assert_int_equal(proc_signal_group(pid, SIGKILL), 0);
    status = wait_for(pid);
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    assert_false(proc_group_alive(pid));
    close(fd);
}

/* The hex field @key ("SigBlk:") of /proc/@pid/status. */
static uint64_t status_mask(pid_t pid, const char *key)
{
    char path[64];
    char line[256];
    uint64_t v = UINT64_MAX;
    FILE *f;

    snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
    f = fopen(path, "r");
    assert_non_null(f);
    while (fgets(line, sizeof(line), f))
        if (strncmp(line, key, strlen(key)) == 0)
            v = strtoull(line + strlen(key), NULL, 16);
    fclose(f);
    assert_true(v != UINT64_MAX);
    return v;
}

static void test_proc_spawn_child_signal_mask_empty(void **state)
{
    struct proc_spec spec = {
        .path = "sleep",
        .argv = (char *const[]){ "sleep", "100", NULL },
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct ferr err;
    pid_t pid;
    int fd;

    (void)state;
    /* we block SIGCHLD and friends and ignore SIGPIPE ... */
    assert_true(status_mask(getpid(), "SigBlk:") &
                (1ull << (SIGCHLD - 1)));
    assert_true(status_mask(getpid(), "SigIgn:") &
                (1ull << (SIGPIPE - 1)));
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_OK);
    /* ... the child (exec'd: the error pipe hit EOF) does not */
    assert_int_equal(status_mask(pid, "SigBlk:"), 0);
    assert_int_equal(status_mask(pid, "SigIgn:"), 0);
    assert_int_equal(proc_signal_group(pid, SIGKILL), 0);
    (void)wait_for(pid);
    close(fd);
}

struct until {
    struct buf text;
    const char *want; /* stop once this has been read */
    bool eof;
};

static void on_until(struct loop *l, int fd, unsigned events, void *ud)
{
    struct until *u = ud;
    char chunk[256];
    ssize_t n;

    (void)fd;
    (void)events;
    while ((n = read(fd, chunk, sizeof(chunk))) > 0)
        assert_int_equal(buf_add(&u->text, chunk, (size_t)n), FERR_OK);
    if (n == 0)
        u->eof = true;
    else
        assert_int_equal(errno, EAGAIN);
    if (u->eof || strstr(buf_cstr(&u->text), u->want))
        loop_stop(l);
}

/* Read @fd through a loop until @want has been seen (or EOF). */
static void read_until(int fd, const char *want, struct until *u)
{
    struct loop *l = NULL;
    struct ferr err;

    ferr_clear(&err);
    buf_init(&u->text, 4096);
    u->want = want;
    u->eof = false;
    assert_int_equal(loop_new(&l, &err), FERR_OK);
    assert_int_equal(loop_add_fd(l, fd, LOOP_READ, on_until, u), FERR_OK);
    assert_int_equal(loop_run(l), FERR_OK);
    loop_del_fd(l, fd);
    loop_free(l);
}

static void test_proc_signal_group_kills_whole_group(void **state)
{
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("sleep 100 & sleep 100 & echo ready; wait"),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct until u;
    struct ferr err;
    int reaped = 0;
    pid_t pid;
    int fd;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(proc_spawn(&spec, &pid, &fd, &err), FERR_OK);
    read_until(fd, "ready\n", &u); /* both sleeps have been started */
    assert_false(u.eof);
    buf_release(&u.text);
    assert_true(proc_group_alive(pid));
    assert_int_equal(proc_signal_group(pid, SIGTERM), 0);
    /* we are a subreaper: the orphaned sleeps come to us to be reaped */
    while (waitpid(-pid, NULL, 0) > 0)
        reaped++;
    assert_int_equal(errno, ECHILD);
    assert_int_equal(reaped, 3);
    assert_false(proc_group_alive(pid));
    assert_int_equal(proc_signal_group(pid, SIGTERM), -1);
    assert_int_equal(errno, ESRCH);
    close(fd);
}

static void test_proc_signal_group_refuses_dangerous_pgid(void **state)
{
    (void)state;
    errno = 0;
    assert_int_equal(proc_signal_group(0, 0), -1);
    assert_int_equal(errno, EINVAL);
    assert_int_equal(proc_signal_group(1, 0), -1);
    assert_int_equal(proc_signal_group(-5, 0), -1);
    assert_false(proc_group_alive(0));
    assert_false(proc_group_alive(1));
}

static void test_proc_kill_descendants_kills_setsid_escapee(void **state)
{
    /* the inner sh prints its pid after setsid() and then becomes
     * "sleep 100" in its own session; EOF on our pipe means it has */
    struct proc_spec spec = {
        .path = "sh",
        .argv = SH("setsid sh -c 'echo $$ >&3; exec sleep 100 3>&-' "
                   "3>&1 >/dev/null 2>&1 </dev/null &"),
        .envp = test_env,
        .stdin_fd = -1,
    };
    struct output out;
    uint64_t v;
    pid_t esc;
    int status;

    (void)state;
    assert_int_equal(WEXITSTATUS(run(&spec, &out)), 0);
    assert_int_equal(span_to_u64(span_trim(buf_span(&out.text)), &v),
                     FERR_OK);
    esc = (pid_t)v;
    buf_release(&out.text);
    assert_int_equal(getsid(esc), esc); /* escaped our process groups */
    assert_int_equal(getpgid(esc), esc);
    assert_true(proc_kill_descendants(0) >= 1); /* signal 0: a probe */
    assert_true(proc_kill_descendants(SIGKILL) >= 1);
    status = wait_for(esc); /* our child now, as we are a subreaper */
    assert_true(WIFSIGNALED(status));
    assert_int_equal(WTERMSIG(status), SIGKILL);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    assert_int_equal(proc_kill_descendants(0), 0);
}

static void test_proc_kill_descendants_none(void **state)
{
    (void)state;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    assert_int_equal(proc_kill_descendants(0), 0);
}

/* Whatever a failed test left running dies here, not on the CI box. */
static int kill_leftovers(void **state)
{
    (void)state;
    while (proc_kill_descendants(SIGKILL) > 0)
        while (waitpid(-1, NULL, 0) > 0)
            ;
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_proc_spawn_echo_output_until_eof),
        cmocka_unit_test(test_proc_spawn_exit_status),
        cmocka_unit_test(test_proc_spawn_merges_stderr),
        cmocka_unit_test(test_proc_spawn_honours_cwd),
        cmocka_unit_test(test_proc_spawn_honours_env),
        cmocka_unit_test(test_proc_spawn_searches_path_of_envp),
        cmocka_unit_test(test_proc_spawn_relative_path_entry_uses_cwd),
        cmocka_unit_test(test_proc_spawn_command_not_found),
        cmocka_unit_test(test_proc_spawn_path_not_searched_in_parent_env),
        cmocka_unit_test(test_proc_spawn_exec_failure_no_leak),
        cmocka_unit_test(test_proc_spawn_exec_permission_denied),
        cmocka_unit_test(test_proc_spawn_bad_cwd_fails),
        cmocka_unit_test(test_proc_spawn_invalid_spec),
        cmocka_unit_test(test_proc_spawn_success_no_fd_leak),
        cmocka_unit_test(test_proc_spawn_stdin_from_fd),
        cmocka_unit_test(test_proc_spawn_stdin_defaults_to_devnull),
        cmocka_unit_test(test_proc_spawn_no_extra_fds_in_child),
        cmocka_unit_test(test_proc_spawn_child_leads_own_group),
        cmocka_unit_test(test_proc_spawn_child_signal_mask_empty),
        cmocka_unit_test(test_proc_signal_group_kills_whole_group),
        cmocka_unit_test(test_proc_signal_group_refuses_dangerous_pgid),
        cmocka_unit_test(test_proc_kill_descendants_kills_setsid_escapee),
        cmocka_unit_test(test_proc_kill_descendants_none),
    };

    loop_block_signals();
    proc_become_subreaper();
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, kill_leftovers);
}
