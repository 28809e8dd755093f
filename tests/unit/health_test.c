/* health_test: input parsing, and probes and waits against real things:
 * a python3 HTTP server, TCP listeners made here, free ports where
 * nothing listens, and /bin/sh commands (with what they leave behind). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "deploy/health.h"
#include "testsrv.h"

struct fix {
    char dir[64];
    pid_t pid;     /* the python server, or -1 */
    unsigned port; /* its port */
    struct health_spec spec;
    struct ferr err;
};

static int setup_plain(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->pid = -1;
    ferr_clear(&f->err);
    *state = f;
    return testsrv_tmpdir(f->dir, sizeof(f->dir)) ? 0 : -1;
}

static int setup_http(void **state)
{
    struct fix *f;

    if (setup_plain(state))
        return -1;
    f = *state;
    f->pid = testsrv_python_http(NULL, &f->port);
    return f->pid > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    if (!f)
        return 0;
    testsrv_stop(&f->pid);
    testsrv_rmtree(f->dir);
    health_spec_release(&f->spec);
    free(f);
    return 0;
}

/* Parse with only the check and timings given. */
static enum ferr_code parse(struct fix *f, const char *check,
                            const char *status, const char *body)
{
    health_spec_release(&f->spec);
    ferr_clear(&f->err);
    return health_spec_parse(&f->spec, check, status, body, NULL, "1s", NULL,
                             NULL, NULL, &f->err);
}

/* ---- parsing ---- */

static void test_health_parse_defaults_and_kinds(void **state)
{
    struct fix *f = *state;
    struct health_spec *s = &f->spec;

    assert_int_equal(health_spec_parse(s, "http:/healthz", NULL, NULL, NULL,
                                       NULL, NULL, NULL, NULL, &f->err),
                     FERR_OK);
    assert_int_equal(s->kind, HEALTH_HTTP);
    assert_string_equal(s->path, "/healthz");
    assert_int_equal(s->status, 0);
    assert_null(s->body);
    assert_int_equal(s->interval_ms, 1000);
    assert_int_equal(s->timeout_ms, 2000);
    assert_int_equal(s->successes, 1);
    assert_int_equal(s->failures, 3);
    assert_int_equal(s->deadline_ms, 60000);
    health_spec_release(s);
    assert_int_equal(health_spec_parse(s, "https://example.com:8443/up", "204",
                                       "ready", "500ms", "3s", "2", "5", "2m",
                                       &f->err),
                     FERR_OK);
    assert_string_equal(s->path, "https://example.com:8443/up");
    assert_int_equal(s->status, 204);
    assert_string_equal(s->body, "ready");
    assert_int_equal(s->interval_ms, 500);
    assert_int_equal(s->timeout_ms, 3000);
    assert_int_equal(s->successes, 2);
    assert_int_equal(s->failures, 5);
    assert_int_equal(s->deadline_ms, 120000);
    assert_int_equal(parse(f, "tcp", "", ""), FERR_OK); /* "" = unset */
    assert_int_equal(s->kind, HEALTH_TCP);
    assert_int_equal(parse(f, "exec: test -n \"$PORT\" ", NULL, NULL), FERR_OK);
    assert_int_equal(s->kind, HEALTH_EXEC);
    assert_string_equal(s->command, "test -n \"$PORT\"");
}

static void test_health_parse_durations(void **state)
{
    struct {
        const char *text;
        unsigned ms;
    } ok[] = {{"500ms", 500},    {"1s", 1000},
              {"2m", 120000},    {"1h", 3600000},
              {"30", 30000},     {" 15s ", 15000},
              {"24h", 86400000}, {"86400000ms", 86400000}};
    const char *bad[] = {"1x",   "s",    "ms",
                         "-1s",  "1.5s", "1 s",
                         "1sec", "0x10", "99999999999999999999s"};
    struct ferr err;
    unsigned ms;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(health_parse_duration("d", ok[i].text, &ms, &err),
                         FERR_OK);
        assert_int_equal(ms, ok[i].ms);
    }
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(
            health_parse_duration("health-timeout", bad[i], &ms, &err),
            FERR_INVALID);
        assert_int_equal(ms, 0);
        assert_non_null(strstr(err.msg, "input 'health-timeout': bad "
                                        "duration '"));
    }
    ferr_clear(&err);
    assert_int_equal(health_parse_duration("x", "0s", &ms, &err), FERR_INVALID);
    assert_string_equal(err.msg, "input 'x': duration '0s' must be more "
                                 "than 0");
    ferr_clear(&err);
    assert_int_equal(health_parse_duration("x", "25h", &ms, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "input 'x': duration '25h' is over 24 h");
}

static void test_health_parse_errors_name_the_input(void **state)
{
    struct fix *f = *state;
    struct health_spec *s = &f->spec;
    struct {
        const char *check, *status, *body, *interval, *timeout, *succ, *fail,
            *deadline, *want;
    } cases[] = {
        {"htp:/x", 0, 0, 0, 0, 0, 0, 0,
         "input 'health': unknown check 'htp:/x' (http:PATH, tcp, "
         "exec:COMMAND)"},
        {NULL, 0, 0, 0, 0, 0, 0, 0, "input 'health' is empty"},
        {"http:healthz", 0, 0, 0, 0, 0, 0, 0,
         "input 'health': bad path in 'http:healthz'"},
        {"http:/a b", 0, 0, 0, 0, 0, 0, 0, "input 'health': bad path"},
        {"exec:  ", 0, 0, 0, 0, 0, 0, 0,
         "input 'health': 'exec:' needs a command"},
        {"http:/x", 0, 0, "1x", 0, 0, 0, 0,
         "input 'health-interval': bad duration '1x'"},
        {"http:/x", 0, 0, 0, "soon", 0, 0, 0,
         "input 'health-timeout': bad duration 'soon'"},
        {"http:/x", 0, 0, 0, 0, 0, 0, "1d",
         "input 'health-deadline': bad duration '1d'"},
        {"http:/x", "20O", 0, 0, 0, 0, 0, 0,
         "input 'health-status': bad status '20O' (100 to 599)"},
        {"http:/x", "600", 0, 0, 0, 0, 0, 0,
         "input 'health-status': bad status '600'"},
        {"http:/x", 0, 0, 0, 0, "0", 0, 0,
         "input 'health-successes': bad count '0'"},
        {"http:/x", 0, 0, 0, 0, 0, "three", 0,
         "input 'health-failures': bad count 'three'"},
        {"tcp", "200", 0, 0, 0, 0, 0, 0,
         "input 'health-status' applies to http checks only"},
        {"exec:true", 0, "ok", 0, 0, 0, 0, 0,
         "input 'health-body' applies to http checks only"},
    };

    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        ferr_clear(&f->err);
        assert_int_equal(health_spec_parse(
                             s, cases[i].check, cases[i].status, cases[i].body,
                             cases[i].interval, cases[i].timeout, cases[i].succ,
                             cases[i].fail, cases[i].deadline, &f->err),
                         FERR_INVALID);
        if (!strstr(f->err.msg, cases[i].want))
            fail_msg("case %zu: '%s' lacks '%s'", i, f->err.msg, cases[i].want);
        health_spec_release(s); /* owned also on error */
    }
}

/* ---- http ---- */

static enum ferr_code probe_path(struct fix *f, const char *path,
                                 const char *status, const char *body)
{
    char check[128];

    snprintf(check, sizeof(check), "http:%s", path);
    assert_int_equal(parse(f, check, status, body), FERR_OK);
    ferr_clear(&f->err);
    return health_probe(&f->spec, "127.0.0.1", f->port, &f->err);
}

static void test_health_http_ok_status_and_body(void **state)
{
    struct fix *f = *state;
    char url[128];

    assert_int_equal(probe_path(f, "/ok", NULL, NULL), FERR_OK);
    assert_int_equal(probe_path(f, "/ok", "200", "all ok"), FERR_OK);
    /* a full URL ignores the instance's host and port */
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/ok", f->port);
    assert_int_equal(parse(f, url, "200", NULL), FERR_OK);
    assert_int_equal(health_probe(&f->spec, "192.0.2.1", 1, &f->err), FERR_OK);
    /* the host defaults to 127.0.0.1 */
    assert_int_equal(parse(f, "http:/ok", NULL, NULL), FERR_OK);
    assert_int_equal(health_probe(&f->spec, NULL, f->port, &f->err), FERR_OK);
}

static void test_health_http_status_mismatch(void **state)
{
    struct fix *f = *state;

    assert_int_equal(probe_path(f, "/fail", "200", NULL), FERR_IO);
    assert_string_equal(f->err.msg, "GET /fail: status 500, wanted 200");
    assert_int_equal(probe_path(f, "/fail", NULL, NULL), FERR_IO);
    assert_string_equal(f->err.msg, "GET /fail: status 500, wanted 200-399");
    assert_int_equal(probe_path(f, "/missing", NULL, NULL), FERR_IO);
    assert_string_equal(f->err.msg, "GET /missing: status 404, wanted 200-399");
    /* the status wanted may be an error status */
    assert_int_equal(probe_path(f, "/fail", "500", "boom"), FERR_OK);
}

static void test_health_http_body_substring(void **state)
{
    struct fix *f = *state;

    assert_int_equal(probe_path(f, "/ok", NULL, "ok here"), FERR_OK);
    assert_int_equal(probe_path(f, "/ok", NULL, "ready"), FERR_IO);
    assert_string_equal(f->err.msg, "GET /ok: body does not contain 'ready'");
}

static void test_health_http_redirect_not_followed(void **state)
{
    struct fix *f = *state;

    /* /redirect points at /ok, which would pass */
    assert_int_equal(probe_path(f, "/redirect", "200", NULL), FERR_IO);
    assert_string_equal(f->err.msg, "GET /redirect: status 302, wanted 200");
    assert_int_equal(probe_path(f, "/redirect", NULL, "all ok"), FERR_IO);
    assert_string_equal(f->err.msg,
                        "GET /redirect: body does not contain 'all ok'");
}

static void test_health_http_timeout(void **state)
{
    struct fix *f = *state;
    unsigned port;
    int lfd = testsrv_listener(&port);
    long long t0;
    long long took;
    enum ferr_code rc;

    assert_true(lfd >= 0);
    assert_int_equal(health_spec_parse(&f->spec, "http:/healthz", NULL, NULL,
                                       NULL, "300ms", NULL, NULL, NULL,
                                       &f->err),
                     FERR_OK);
    t0 = testsrv_now_ms();
    rc = health_probe(&f->spec, "127.0.0.1", port, &f->err);
    took = testsrv_now_ms() - t0;
    close(lfd);
    assert_int_equal(rc, FERR_IO);
    assert_non_null(strstr(f->err.msg, "timed out after 300 ms"));
    assert_true(took >= 250 && took < 3000);
}

static void test_health_http_refused(void **state)
{
    struct fix *f = *state;
    unsigned port = testsrv_free_port();
    char want[160];

    assert_int_equal(parse(f, "http:/healthz", NULL, NULL), FERR_OK);
    assert_int_equal(health_probe(&f->spec, "127.0.0.1", port, &f->err),
                     FERR_NOTFOUND);
    snprintf(want, sizeof(want),
             "cannot reach http://127.0.0.1:%u/healthz: Connection refused",
             port);
    assert_string_equal(f->err.msg, want);
}

/* ---- tcp ---- */

static void test_health_tcp_ok_and_refused(void **state)
{
    struct fix *f = *state;
    unsigned port;
    int lfd = testsrv_listener(&port);
    unsigned closed = testsrv_free_port();
    char want[96];
    enum ferr_code ok_rc;
    enum ferr_code ok_name_rc;

    assert_true(lfd >= 0);
    assert_int_equal(parse(f, "tcp", NULL, NULL), FERR_OK);
    ok_rc = health_probe(&f->spec, "127.0.0.1", port, &f->err);
    ok_name_rc = health_probe(&f->spec, "localhost", port, &f->err);
    close(lfd);
    assert_int_equal(ok_rc, FERR_OK);
    assert_int_equal(ok_name_rc, FERR_OK);
    ferr_clear(&f->err);
    assert_int_equal(health_probe(&f->spec, "127.0.0.1", closed, &f->err),
                     FERR_NOTFOUND);
    snprintf(want, sizeof(want), "connect 127.0.0.1:%u: Connection refused",
             closed);
    assert_string_equal(f->err.msg, want);
}

/* ---- exec ---- */

static enum ferr_code probe_cmd(struct fix *f, const char *cmd,
                                const char *timeout)
{
    char check[1024];

    snprintf(check, sizeof(check), "exec:%s", cmd);
    health_spec_release(&f->spec);
    assert_int_equal(health_spec_parse(&f->spec, check, NULL, NULL, NULL,
                                       timeout, NULL, NULL, NULL, &f->err),
                     FERR_OK);
    ferr_clear(&f->err);
    return health_probe(&f->spec, "127.0.0.1", 8123, &f->err);
}

static void test_health_exec_exit_status(void **state)
{
    struct fix *f = *state;

    assert_int_equal(
        probe_cmd(f, "test \"$HOST:$PORT\" = 127.0.0.1:8123", NULL), FERR_OK);
    assert_int_equal(probe_cmd(f,
                               "echo first; echo 'not ready yet' >&2; "
                               "exit 1",
                               NULL),
                     FERR_IO);
    assert_string_equal(f->err.msg, "exit status 1: not ready yet");
    assert_int_equal(probe_cmd(f, "exit 3", NULL), FERR_IO);
    assert_string_equal(f->err.msg, "exit status 3");
    assert_int_equal(probe_cmd(f, "kill -TERM $$", NULL), FERR_IO);
    assert_string_equal(f->err.msg, "killed by signal 15");
}

/* Whether @pid is gone (or a zombie waiting for init to reap it). */
static bool gone(pid_t pid)
{
    char path[64];
    char buf[256];
    FILE *fp;
    char *rp;
    bool dead = true;

    snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
    fp = fopen(path, "r");
    if (!fp)
        return true;
    if (fgets(buf, sizeof(buf), fp) && (rp = strrchr(buf, ')')))
        dead = rp[1] == ' ' && rp[2] == 'Z';
    fclose(fp);
    return dead;
}

static pid_t read_pid(const char *path)
{
    FILE *fp = fopen(path, "r");
    int pid = -1;

    if (fp) {
        if (fscanf(fp, "%d", &pid) != 1)
            pid = -1;
        fclose(fp);
    }
    return pid;
}

static void wait_gone(pid_t pid)
{
    for (int i = 0; i < 100 && !gone(pid); i++)
        testsrv_pause_ms(20);
    assert_true(gone(pid));
}

static void test_health_exec_timeout_kills_group(void **state)
{
    struct fix *f = *state;
    char cmd[256];
    char pidfile[128];
    long long t0;
    long long took;
    enum ferr_code rc;
    pid_t child;

    snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", f->dir);
    snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; wait", pidfile);
    t0 = testsrv_now_ms();
    rc = probe_cmd(f, cmd, "300ms");
    took = testsrv_now_ms() - t0;
    assert_int_equal(rc, FERR_IO);
    assert_string_equal(f->err.msg, "timed out after 300 ms");
    assert_true(took >= 250 && took < 3000);
    child = read_pid(pidfile);
    assert_true(child > 1);
    wait_gone(child);
}

static void test_health_exec_leaves_nothing_behind(void **state)
{
    struct fix *f = *state;
    char cmd[256];
    char pidfile[128];
    pid_t child;

    snprintf(pidfile, sizeof(pidfile), "%s/bg.pid", f->dir);
    snprintf(cmd, sizeof(cmd), "sleep 30 & echo $! > %s; exit 0", pidfile);
    assert_int_equal(probe_cmd(f, cmd, "5s"), FERR_OK);
    child = read_pid(pidfile);
    assert_true(child > 1);
    wait_gone(child);
}

/* ---- waiting ---- */

struct log {
    int ok;
    int bad;
    char last[512];
};

static void on_probe(void *ud, bool ok, const char *why)
{
    struct log *l = ud;

    if (ok) {
        l->ok++;
        assert_null(why);
    } else {
        l->bad++;
        assert_non_null(why);
        snprintf(l->last, sizeof(l->last), "%s", why);
    }
}

static void test_health_wait_successes_in_a_row(void **state)
{
    struct fix *f = *state;
    struct log l = {0, 0, ""};

    assert_int_equal(health_spec_parse(&f->spec, "http:/ok", NULL, NULL, "50ms",
                                       "2s", "3", NULL, NULL, &f->err),
                     FERR_OK);
    assert_int_equal(
        health_wait(&f->spec, "127.0.0.1", f->port, on_probe, &l, &f->err),
        FERR_OK);
    assert_int_equal(l.ok, 3);
    assert_int_equal(l.bad, 0);
}

static void test_health_wait_failures_in_a_row(void **state)
{
    struct fix *f = *state;
    struct log l = {0, 0, ""};

    assert_int_equal(health_spec_parse(&f->spec, "http:/fail", NULL, NULL,
                                       "50ms", "2s", NULL, "2", NULL, &f->err),
                     FERR_OK);
    assert_int_equal(
        health_wait(&f->spec, "127.0.0.1", f->port, on_probe, &l, &f->err),
        FERR_IO);
    assert_string_equal(f->err.msg, "unhealthy after 2 failed probes: GET "
                                    "/fail: status 500, wanted 200-399");
    assert_int_equal(l.bad, 2);
    assert_string_equal(l.last, "GET /fail: status 500, wanted 200-399");
}

/* A command that fails its first two runs, then passes, fails once more,
 * then passes for good: runs in a row are counted, not totals. */
static void test_health_wait_runs_reset(void **state)
{
    struct fix *f = *state;
    struct log l = {0, 0, ""};
    char check[512];

    snprintf(check, sizeof(check),
             "exec:n=$(cat %s/n 2>/dev/null || echo 0); n=$((n+1)); "
             "echo $n > %s/n; case $n in 1|2|4) exit 1;; esac",
             f->dir, f->dir);
    assert_int_equal(health_spec_parse(&f->spec, check, NULL, NULL, "20ms",
                                       "2s", "2", "3", "20s", &f->err),
                     FERR_OK);
    assert_int_equal(
        health_wait(&f->spec, "127.0.0.1", 1, on_probe, &l, &f->err), FERR_OK);
    /* 1 bad, 2 bad, 3 ok, 4 bad, 5 ok, 6 ok */
    assert_int_equal(l.bad, 3);
    assert_int_equal(l.ok, 3);
}

static void test_health_wait_deadline(void **state)
{
    struct fix *f = *state;
    struct log l = {0, 0, ""};
    unsigned port = testsrv_free_port();
    long long t0;
    long long took;

    assert_int_equal(health_spec_parse(&f->spec, "tcp", NULL, NULL, "100ms",
                                       "1s", NULL, "1000", "350ms", &f->err),
                     FERR_OK);
    t0 = testsrv_now_ms();
    assert_int_equal(
        health_wait(&f->spec, "127.0.0.1", port, on_probe, &l, &f->err),
        FERR_IO);
    took = testsrv_now_ms() - t0;
    assert_non_null(strstr(f->err.msg, "not healthy within 350 ms: connect "
                                       "127.0.0.1:"));
    assert_non_null(strstr(f->err.msg, "Connection refused"));
    assert_int_equal(l.bad, 4); /* at 0, 100, 200 and 300 ms */
    assert_true(took >= 300 && took < 2000);
}

/* An instance that does not listen yet is starting: its refusals do not
 * count as failures (only the deadline bounds them), so it turns healthy
 * once it listens even with failures 1. */
static void test_health_wait_refused_while_starting(void **state)
{
    struct fix *f = *state;
    struct log l = {0, 0, ""};
    unsigned port = testsrv_free_port();
    pid_t pid;
    char cmd[256];

    assert_int_equal(health_spec_parse(&f->spec, "tcp", NULL, NULL, "100ms",
                                       "1s", NULL, "1", "10s", &f->err),
                     FERR_OK);
    snprintf(cmd, sizeof(cmd),
             "sleep 0.5; exec /usr/bin/python3 -c 'import socket,time; "
             "s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, "
             "socket.SO_REUSEADDR, 1); s.bind((\"127.0.0.1\", %u)); "
             "s.listen(); time.sleep(30)'",
             port);
    {
        char *argv[] = {"/bin/sh", "-c", cmd, NULL};
        enum ferr_code rc;

        pid = testsrv_spawn(argv, NULL, NULL);
        assert_true(pid > 0);
        rc = health_wait(&f->spec, "127.0.0.1", port, on_probe, &l, &f->err);
        testsrv_stop(&pid);
        assert_int_equal(rc, FERR_OK);
    }
    assert_true(l.bad >= 1); /* it was refused first, and waited */
}

static void test_health_wait_deadline_cuts_probe_timeout(void **state)
{
    struct fix *f = *state;
    struct log l = {0, 0, ""};
    long long t0;
    long long took;

    assert_int_equal(health_spec_parse(&f->spec, "exec:sleep 10", NULL, NULL,
                                       "1s", "10s", NULL, NULL, "400ms",
                                       &f->err),
                     FERR_OK);
    t0 = testsrv_now_ms();
    assert_int_equal(
        health_wait(&f->spec, "127.0.0.1", 1, on_probe, &l, &f->err), FERR_IO);
    took = testsrv_now_ms() - t0;
    assert_string_equal(f->err.msg, "not healthy within 400 ms: timed out "
                                    "after 400 ms");
    assert_int_equal(l.bad, 1);
    assert_true(took >= 350 && took < 3000);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_health_parse_defaults_and_kinds,
                                        setup_plain, teardown),
        cmocka_unit_test(test_health_parse_durations),
        cmocka_unit_test_setup_teardown(test_health_parse_errors_name_the_input,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_http_ok_status_and_body,
                                        setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_health_http_status_mismatch,
                                        setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_health_http_body_substring,
                                        setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_health_http_redirect_not_followed,
                                        setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_health_http_timeout, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_health_wait_refused_while_starting,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_http_refused, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_health_tcp_ok_and_refused,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_exec_exit_status,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_exec_timeout_kills_group,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_exec_leaves_nothing_behind,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_wait_successes_in_a_row,
                                        setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_health_wait_failures_in_a_row,
                                        setup_http, teardown),
        cmocka_unit_test_setup_teardown(test_health_wait_runs_reset,
                                        setup_plain, teardown),
        cmocka_unit_test_setup_teardown(test_health_wait_deadline, setup_plain,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_health_wait_deadline_cuts_probe_timeout, setup_plain,
            teardown),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
