/* target_test: the process target with real supervisors (this binary
 * re-executed as `__instance`), real commands (python3 http.server, sh)
 * and real signals; releases on disk; the script runner.  The test
 * process is a child subreaper, as the run engine is, so detached
 * supervisors are re-parented to it and reaped here. */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy/supervise.h"
#include "deploy/target.h"
#include "exec/workspace.h"
#include "util/xalloc.h"

#define SELF "/proc/self/exe"
#define SERVE "exec /usr/bin/python3 -m http.server $PORT --bind 127.0.0.1"

struct fx {
    char dir[64];     /* the environment directory */
    char rel[96];     /* a release to run in */
};

static void pause_ms(int ms)
{
    (void)poll(NULL, 0, ms);
}

static uint64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void reap(void)
{
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ;
}

static void put(const char *path, const char *text)
{
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_put_file(path, text, strlen(text), &err),
                     FERR_OK);
}

static int fx_setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));
    struct ferr err;
    char path[160];

    snprintf(f->dir, sizeof(f->dir), "/tmp/target-test-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    snprintf(f->rel, sizeof(f->rel), "%s/app", f->dir);
    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(f->rel, &err), FERR_OK);
    snprintf(path, sizeof(path), "%s/index.html", f->rel);
    put(path, "hello-v1\n");
    *state = f;
    return 0;
}

static int fx_teardown(void **state)
{
    struct fx *f = *state;
    struct target_instance *v;
    struct ferr err;
    size_t n;

    ferr_clear(&err);
    if (target_list(f->dir, &v, &n, &err) == FERR_OK) {
        for (size_t i = 0; i < n; i++) {
            ferr_clear(&err);
            if (target_stop(f->dir, v[i].name, &err))
                kill(v[i].pid, SIGKILL);
        }
        target_instances_free(v, n);
    }
    reap();
    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(f->dir, &err), FERR_OK);
    free(f);
    return 0;
}

static bool state_of(struct fx *f, const char *name,
                     struct supervise_state *st)
{
    char path[160];
    struct ferr err;

    snprintf(path, sizeof(path), "%s/instances/%s.json", f->dir, name);
    ferr_clear(&err);
    return supervise_read_state(path, st, &err) == FERR_OK;
}

/* GET / on 127.0.0.1:@port, retried while the app starts. */
static bool http_get(unsigned port, char *out, size_t n)
{
    uint64_t deadline = now_ms() + 5000;

    while (now_ms() < deadline) {
        struct sockaddr_in sa;
        const char req[] = "GET / HTTP/1.0\r\n\r\n";
        size_t got = 0;
        int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

        memset(&sa, 0, sizeof(sa));
        sa.sin_family = AF_INET;
        sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        sa.sin_port = htons((uint16_t)port);
        if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
            close(fd);
            pause_ms(50);
            continue;
        }
        assert_int_equal(write(fd, req, sizeof(req) - 1),
                         (ssize_t)sizeof(req) - 1);
        for (;;) {
            ssize_t r = read(fd, out + got, n - 1 - got);

            if (r <= 0)
                break;
            got += (size_t)r;
        }
        out[got] = '\0';
        close(fd);
        return true;
    }
    return false;
}

static bool env_has(pid_t pid, const char *entry_prefix)
{
    char path[64];
    char buf[65536];
    ssize_t n;
    int fd;

    snprintf(path, sizeof(path), "/proc/%d/environ", (int)pid);
    fd = open(path, O_RDONLY | O_CLOEXEC);
    assert_true(fd >= 0);
    n = read(fd, buf, sizeof(buf) - 1);
    close(fd);
    assert_true(n > 0);
    buf[n] = '\0';
    for (ssize_t i = 0; i < n; i += (ssize_t)strlen(buf + i) + 1)
        if (strncmp(buf + i, entry_prefix, strlen(entry_prefix)) == 0)
            return true;
    return false;
}

static void start_ok(struct fx *f, const char *cmd, const char *name,
                     unsigned grace_ms, json_t *env,
                     struct target_instance *out)
{
    struct target_process p = { .command = cmd, .release = f->rel,
                                .version = "v1", .env = env,
                                .grace_ms = grace_ms };
    struct ferr err;
    char msg[700];

    ferr_clear(&err);
    if (target_start(f->dir, SELF, &p, name, out, &err))
        fail_msg("start: %s", ferr_format(&err, msg, sizeof(msg)));
}

/* ---- tests ----------------------------------------------------------- */

static void test_target_start_serves_on_port(void **state)
{
    struct fx *f = *state;
    struct target_instance in;
    struct supervise_state st;
    struct target_instance *v;
    struct ferr err;
    char answer[4096];
    size_t n;

    start_ok(f, SERVE, "staging-v1-1", 0, NULL, &in);
    assert_string_equal(in.name, "staging-v1-1");
    assert_string_equal(in.version, "v1");
    assert_true(in.port > 0);
    assert_true(in.pid > 0);
    assert_int_equal(in.restarts, 0);
    assert_true(state_of(f, "staging-v1-1", &st));
    assert_true(supervise_alive(&st));
    assert_true(st.child_pid > 0);
    assert_int_equal(st.port, in.port);
    supervise_state_release(&st);
    assert_true(http_get(in.port, answer, sizeof(answer)));
    assert_non_null(strstr(answer, "200 OK"));
    assert_non_null(strstr(answer, "hello-v1"));
    ferr_clear(&err);
    assert_int_equal(target_list(f->dir, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].port, in.port);
    target_instances_free(v, n);
    /* a second start under the same name is refused */
    {
        struct target_process p = { .command = SERVE, .release = f->rel,
                                    .version = "v1" };
        struct target_instance again;

        ferr_clear(&err);
        assert_int_equal(target_start(f->dir, SELF, &p, "staging-v1-1",
                                      &again, &err),
                         FERR_INVALID);
    }
    target_instance_release(&in);
}

static void test_target_child_env(void **state)
{
    struct fx *f = *state;
    json_t *env = json_pack("{s:s, s:i}", "GREETING", "hi", "WORKERS", 3);
    struct target_instance in;
    struct supervise_state st;

    setenv("FERRY_ATTEMPT", "7.1.deadbeef", 1);
    setenv("FERRY_TRACKING_ID", "abc", 1);
    start_ok(f, "exec sleep 1000", "env-1", 0, env, &in);
    unsetenv("FERRY_ATTEMPT");
    unsetenv("FERRY_TRACKING_ID");
    json_decref(env);
    assert_true(state_of(f, "env-1", &st));
    assert_false(env_has(st.child_pid, "FERRY_ATTEMPT="));
    assert_false(env_has(st.child_pid, "FERRY_TRACKING_ID="));
    assert_false(env_has(st.pid, "FERRY_ATTEMPT="));
    assert_true(env_has(st.child_pid, "FERRY_INSTANCE=env-1"));
    assert_true(env_has(st.child_pid, "FERRY_VERSION=v1"));
    assert_true(env_has(st.child_pid, "GREETING=hi"));
    assert_true(env_has(st.child_pid, "WORKERS=3"));
    {
        char port[32];

        snprintf(port, sizeof(port), "PORT=%u", in.port);
        assert_true(env_has(st.child_pid, port));
    }
    /* its own session and process group */
    assert_int_equal(getsid(st.pid), st.pid);
    assert_int_equal(getpgid(st.child_pid), st.child_pid);
    supervise_state_release(&st);
    target_instance_release(&in);
}

static void test_target_crash_is_restarted(void **state)
{
    struct fx *f = *state;
    struct target_instance in;
    struct supervise_state st;
    pid_t first;
    uint64_t deadline;
    bool restarted = false;

    start_ok(f, SERVE, "crashy", 0, NULL, &in);
    assert_true(state_of(f, "crashy", &st));
    first = st.child_pid;
    supervise_state_release(&st);
    assert_int_equal(kill(first, SIGKILL), 0);
    deadline = now_ms() + 5000;
    while (!restarted && now_ms() < deadline) {
        pause_ms(50);
        if (!state_of(f, "crashy", &st))
            continue;
        restarted = st.restarts == 1 && st.child_pid > 0 &&
                    st.child_pid != first;
        supervise_state_release(&st);
    }
    assert_true(restarted);
    {
        char answer[4096];

        assert_true(http_get(in.port, answer, sizeof(answer)));
        assert_non_null(strstr(answer, "hello-v1"));
    }
    target_instance_release(&in);
}

static void test_target_stop_kills_after_grace(void **state)
{
    struct fx *f = *state;
    struct target_instance in;
    struct supervise_state st;
    struct ferr err;
    char path[160];
    uint64_t t0;
    uint64_t took;

    start_ok(f, "trap '' TERM; echo ready; while :; do sleep 0.1; done",
             "stubborn", 400, NULL, &in);
    assert_true(state_of(f, "stubborn", &st));
    t0 = now_ms();
    ferr_clear(&err);
    assert_int_equal(target_stop(f->dir, "stubborn", &err), FERR_OK);
    took = now_ms() - t0;
    assert_true(took >= 400);
    assert_true(took < 5000);
    assert_false(supervise_alive(&st));
    reap();
    /* the whole group went */
    assert_int_equal(kill(-st.child_pid, 0), -1);
    assert_int_equal(errno, ESRCH);
    snprintf(path, sizeof(path), "%s/instances/stubborn.json", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    /* the log has the command's output and the supervisor's story */
    {
        char *text;
        size_t len;

        snprintf(path, sizeof(path), "%s/logs/stubborn.log", f->dir);
        ferr_clear(&err);
        assert_int_equal(workspace_read_file(path, 65536, &text, &len, &err),
                         FERR_OK);
        assert_non_null(strstr(text, "ready"));
        assert_non_null(strstr(text, "SIGKILL"));
        free(text);
    }
    /* stopping what is not there is fine */
    ferr_clear(&err);
    assert_int_equal(target_stop(f->dir, "stubborn", &err), FERR_OK);
    supervise_state_release(&st);
    target_instance_release(&in);
}

static void test_target_list_removes_stale(void **state)
{
    struct fx *f = *state;
    struct target_instance *v;
    struct ferr err;
    char path[160];
    char text[512];
    size_t n;

    ferr_clear(&err);
    snprintf(path, sizeof(path), "%s/instances", f->dir);
    assert_int_equal(workspace_mkdirs(path, &err), FERR_OK);
    /* a dead pid */
    snprintf(path, sizeof(path), "%s/instances/dead.json", f->dir);
    put(path, "{\"name\":\"dead\",\"version\":\"v0\",\"release\":\"/x\","
              "\"port\":1,\"pid\":4194303,\"start_time\":1,\"child_pid\":0,"
              "\"restarts\":0,\"grace_ms\":10}");
    /* a live pid that is someone else (our own, other start time) */
    snprintf(path, sizeof(path), "%s/instances/reused.json", f->dir);
    snprintf(text, sizeof(text),
             "{\"name\":\"reused\",\"version\":\"v0\",\"release\":\"/x\","
             "\"port\":1,\"pid\":%d,\"start_time\":1,\"child_pid\":0,"
             "\"restarts\":0,\"grace_ms\":10}",
             (int)getpid());
    put(path, text);
    assert_int_equal(target_list(f->dir, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 0);
    assert_null(v);
    assert_int_equal(access(path, F_OK), -1);
    snprintf(path, sizeof(path), "%s/instances/dead.json", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    /* stop on a stale file removes it and never signals that pid */
    put(path, text);
    assert_int_equal(target_stop(f->dir, "dead", &err), FERR_OK);
    assert_int_equal(access(path, F_OK), -1);
}

static void test_target_start_reports_early_exit(void **state)
{
    struct fx *f = *state;
    struct target_process p = { .command = "echo boom-on-start >&2; exit 7",
                                .release = f->rel, .version = "v1" };
    struct target_instance in;
    struct ferr err;
    char path[160];

    ferr_clear(&err);
    assert_int_equal(target_start(f->dir, SELF, &p, "bad", &in, &err),
                     FERR_EXEC);
    assert_non_null(strstr(err.msg, "exited with status 7"));
    assert_non_null(strstr(err.msg, "boom-on-start"));
    assert_null(in.name);
    snprintf(path, sizeof(path), "%s/instances/bad.json", f->dir);
    assert_int_equal(access(path, F_OK), -1);
    /* a release that does not exist */
    p.release = "/nonexistent/release";
    ferr_clear(&err);
    assert_int_not_equal(target_start(f->dir, SELF, &p, "bad", &in, &err),
                         FERR_OK);
    /* a name that would escape the directory */
    p.release = f->rel;
    ferr_clear(&err);
    assert_int_equal(target_start(f->dir, SELF, &p, "../x", &in, &err),
                     FERR_INVALID);
}

static void test_target_install_release_prunes(void **state)
{
    struct fx *f = *state;
    struct target_instance in;
    struct ferr err;
    char *paths[5];
    char path[160];

    snprintf(path, sizeof(path), "%s/app/.git", f->dir);
    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(path, &err), FERR_OK);
    for (int i = 0; i < 5; i++) {
        ferr_clear(&err);
        assert_int_equal(target_install_release(f->dir, f->rel,
                                                i < 3 ? "v1" : "v2", 2,
                                                &paths[i], &err),
                         FERR_OK);
        if (i == 0) {
            /* an instance runs in the first release: it stays */
            struct target_process p = { .command = "exec sleep 1000",
                                        .release = paths[0],
                                        .version = "v1" };

            ferr_clear(&err);
            assert_int_equal(target_start(f->dir, SELF, &p, "old", &in,
                                          &err),
                             FERR_OK);
            target_instance_release(&in);
        }
    }
    snprintf(path, sizeof(path), "%s/releases/v1-1", f->dir);
    assert_string_equal(paths[0], path);
    snprintf(path, sizeof(path), "%s/releases/v2-5", f->dir);
    assert_string_equal(paths[4], path);
    snprintf(path, sizeof(path), "%s/index.html", paths[4]);
    assert_int_equal(access(path, F_OK), 0);
    snprintf(path, sizeof(path), "%s/.git", paths[4]);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(paths[0], F_OK), 0); /* in use */
    assert_int_equal(access(paths[1], F_OK), -1);
    assert_int_equal(access(paths[2], F_OK), -1);
    assert_int_equal(access(paths[3], F_OK), 0);
    assert_int_equal(access(paths[4], F_OK), 0);
    for (int i = 0; i < 5; i++)
        free(paths[i]);
    ferr_clear(&err);
    assert_int_equal(target_install_release(f->dir, f->rel, "../evil", 2,
                                            &paths[0], &err),
                     FERR_INVALID);
    assert_null(paths[0]);
}

/* Run @cmd with stdout sent to a file; its output in @out. */
static enum ferr_code run_captured(struct fx *f, const char *cmd,
                                   json_t *env, unsigned timeout_ms,
                                   struct ferr *err, char **out)
{
    char path[160];
    enum ferr_code rc;
    struct ferr rerr;
    size_t len;
    int saved;
    int fd;

    snprintf(path, sizeof(path), "%s/script.out", f->dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    fflush(stdout);
    saved = dup(1);
    dup2(fd, 1);
    close(fd);
    rc = target_run_script(cmd, f->rel, env, timeout_ms, err);
    fflush(stdout);
    dup2(saved, 1);
    close(saved);
    ferr_clear(&rerr);
    assert_int_equal(workspace_read_file(path, 65536, out, &len, &rerr),
                     FERR_OK);
    return rc;
}

static void test_target_run_script_status(void **state)
{
    struct fx *f = *state;
    json_t *env = json_pack("{s:s}", "WHO", "world");
    struct ferr err;
    char *out;

    ferr_clear(&err);
    assert_int_equal(run_captured(f, "echo hello $WHO; cat index.html; "
                                     "printf 'no newline'",
                                  env, 0, &err, &out),
                     FERR_OK);
    assert_string_equal(out, "hello world\nhello-v1\nno newline\n");
    free(out);
    ferr_clear(&err);
    assert_int_equal(run_captured(f, "echo one\nexit 3", env, 0, &err,
                                  &out),
                     FERR_EXEC);
    assert_string_equal(err.msg, "'echo one' exited with status 3");
    assert_string_equal(out, "one\n");
    free(out);
    json_decref(env);
}

static void test_target_run_script_timeout(void **state)
{
    struct fx *f = *state;
    struct ferr err;
    uint64_t t0 = now_ms();
    char *out;

    ferr_clear(&err);
    assert_int_equal(run_captured(f, "echo $$ > pid; sleep 30 & sleep 30",
                                  NULL, 300, &err, &out),
                     FERR_EXEC);
    assert_true(now_ms() - t0 < 5000);
    assert_non_null(strstr(err.msg, "was killed after 300 ms"));
    free(out);
    /* the background sleep went with its group */
    {
        char path[160];
        char *text;
        size_t len;
        uint64_t pgid;

        snprintf(path, sizeof(path), "%s/pid", f->rel);
        ferr_clear(&err);
        assert_int_equal(workspace_read_file(path, 64, &text, &len, &err),
                         FERR_OK);
        pgid = strtoull(text, NULL, 10);
        free(text);
        reap();
        for (int i = 0; i < 40 && kill(-(pid_t)pgid, 0) == 0; i++) {
            pause_ms(25);
            reap();
        }
        assert_int_equal(kill(-(pid_t)pgid, 0), -1);
    }
}

int main(int argc, char **argv)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_target_start_serves_on_port,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_child_env, fx_setup,
                                        fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_crash_is_restarted,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_stop_kills_after_grace,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_list_removes_stale,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_start_reports_early_exit,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_install_release_prunes,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_run_script_status,
                                        fx_setup, fx_teardown),
        cmocka_unit_test_setup_teardown(test_target_run_script_timeout,
                                        fx_setup, fx_teardown),
    };

    /* this binary is also the supervisor, as ferry is */
    if (argc > 1 && strcmp(argv[1], "__instance") == 0)
        return target_supervise_main(argc - 1, argv + 1);
    prctl(PR_SET_CHILD_SUBREAPER, 1L, 0L, 0L, 0L);
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
