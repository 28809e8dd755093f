/* loop_test: the event loop against real pipes, timerfds, signals and a
 * real child process.  Time is only ever checked as a lower bound. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/loop.h"

struct counter {
    int calls;
    unsigned events;
    int fd;           /* the other fd to delete, or -1 */
    int *peer_calls;  /* the other fd's counter */
    bool stop;        /* loop_stop from the callback */
    bool del_self;    /* loop_del_fd of the fd itself */
    bool drain;       /* read one byte, so the fd is not ready again */
};

static struct loop *new_loop(void)
{
    struct loop *l = NULL;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(loop_new(&l, &err), FERR_OK);
    assert_non_null(l);
    return l;
}

static void make_pipe(int fds[2])
{
    assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
}

static void on_fd(struct loop *l, int fd, unsigned events, void *ud)
{
    struct counter *c = ud;

    c->calls++;
    c->events |= events;
    if (c->drain) {
        char ch;

        assert_int_equal(read(fd, &ch, 1), 1);
    }
    if (c->del_self)
        loop_del_fd(l, fd);
    if (c->fd >= 0) {
        loop_del_fd(l, c->fd);
        close(c->fd);
        c->fd = -1;
    }
    if (c->stop)
        loop_stop(l);
}

static void on_stop_timer(struct loop *l, struct loop_timer *t, void *ud)
{
    int *fired = ud;

    (void)t;
    if (fired)
        (*fired)++;
    loop_stop(l);
}

/* A timer that ends loop_run after @ms, for tests that must show that
 * something did NOT happen in the meantime. */
static struct loop_timer *stop_after(struct loop *l, uint64_t ms)
{
    struct loop_timer *t = loop_timer_new(l, on_stop_timer, NULL);

    assert_non_null(t);
    loop_timer_arm(t, ms);
    return t;
}

static void test_loop_fd_readable_calls_back(void **state)
{
    struct counter c = { .fd = -1, .stop = true };
    struct loop *l = new_loop();
    int p[2];

    (void)state;
    make_pipe(p);
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &c), FERR_OK);
    assert_int_equal(write(p[1], "x", 1), 1);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(c.calls, 1);
    assert_true(c.events & LOOP_READ);
    loop_del_fd(l, p[0]);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

static void test_loop_fd_hangup_reports_read(void **state)
{
    struct counter c = { .fd = -1, .stop = true };
    struct loop *l = new_loop();
    int p[2];

    (void)state;
    make_pipe(p);
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &c), FERR_OK);
    close(p[1]);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(c.calls, 1);
    assert_true(c.events & LOOP_READ);
    loop_del_fd(l, p[0]);
    close(p[0]);
    loop_free(l);
}

static void test_loop_fd_add_twice_is_invalid(void **state)
{
    struct counter c = { .fd = -1 };
    struct loop *l = new_loop();
    int p[2];

    (void)state;
    make_pipe(p);
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &c), FERR_OK);
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &c),
                     FERR_INVALID);
    assert_int_equal(loop_add_fd(l, -1, LOOP_READ, on_fd, &c), FERR_INVALID);
    assert_int_equal(loop_mod_fd(l, p[1], LOOP_READ), FERR_NOTFOUND);
    loop_del_fd(l, p[0]);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

static void test_loop_mod_fd_switches_to_write(void **state)
{
    struct counter c = { .fd = -1, .stop = true };
    struct loop *l = new_loop();
    int p[2];

    (void)state;
    make_pipe(p);
    /* an empty pipe's write end is writable but never readable */
    assert_int_equal(loop_add_fd(l, p[1], 0, on_fd, &c), FERR_OK);
    assert_int_equal(loop_mod_fd(l, p[1], LOOP_WRITE), FERR_OK);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(c.calls, 1);
    assert_int_equal(c.events, LOOP_WRITE);
    loop_del_fd(l, p[1]);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

static void test_loop_fd_removed_inside_callback(void **state)
{
    struct counter c = { .fd = -1, .del_self = true };
    struct loop *l = new_loop();
    struct loop_timer *t;
    int p[2];

    (void)state;
    make_pipe(p);
    assert_int_equal(loop_add_fd(l, p[0], LOOP_READ, on_fd, &c), FERR_OK);
    /* never read: level-triggered, it would fire forever if still watched */
    assert_int_equal(write(p[1], "x", 1), 1);
    t = stop_after(l, 30);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(c.calls, 1);
    loop_timer_free(t);
    close(p[0]);
    close(p[1]);
    loop_free(l);
}

static void test_loop_fd_removed_by_other_callback_in_batch(void **state)
{
    struct counter a = { .fd = -1 };
    struct counter b = { .fd = -1 };
    struct loop *l = new_loop();
    struct loop_timer *t;
    int pa[2];
    int pb[2];

    (void)state;
    make_pipe(pa);
    make_pipe(pb);
    /* both ready before loop_run, so both come in the first batch; the
     * first callback to run deletes and closes the other fd */
    a.fd = pb[0];
    b.fd = pa[0];
    a.del_self = true;
    b.del_self = true;
    assert_int_equal(loop_add_fd(l, pa[0], LOOP_READ, on_fd, &a), FERR_OK);
    assert_int_equal(loop_add_fd(l, pb[0], LOOP_READ, on_fd, &b), FERR_OK);
    assert_int_equal(write(pa[1], "x", 1), 1);
    assert_int_equal(write(pb[1], "x", 1), 1);
    t = stop_after(l, 30);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(a.calls + b.calls, 1);
    loop_timer_free(t);
    if (a.calls)
        close(pa[0]);
    else
        close(pb[0]);
    close(pa[1]);
    close(pb[1]);
    loop_free(l);
}

static void test_loop_stop_returns_after_current_callback(void **state)
{
    struct counter a = { .fd = -1, .stop = true, .drain = true };
    struct counter b = { .fd = -1, .stop = true, .drain = true };
    struct loop *l = new_loop();
    int pa[2];
    int pb[2];

    (void)state;
    make_pipe(pa);
    make_pipe(pb);
    assert_int_equal(loop_add_fd(l, pa[0], LOOP_READ, on_fd, &a), FERR_OK);
    assert_int_equal(loop_add_fd(l, pb[0], LOOP_READ, on_fd, &b), FERR_OK);
    assert_int_equal(write(pa[1], "x", 1), 1);
    assert_int_equal(write(pb[1], "x", 1), 1);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(a.calls + b.calls, 1);
    /* the other event stayed pending for the next run */
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(a.calls, 1);
    assert_int_equal(b.calls, 1);
    loop_del_fd(l, pa[0]);
    loop_del_fd(l, pb[0]);
    close(pa[0]);
    close(pa[1]);
    close(pb[0]);
    close(pb[1]);
    loop_free(l);
}

static void test_loop_stop_before_run_returns_at_once(void **state)
{
    struct loop *l = new_loop();

    (void)state;
    loop_stop(l);
    /* nothing is watched: without the stop this would block forever */
    assert_int_equal(loop_run(l), FERR_OK);
    loop_free(l);
}

struct timing {
    uint64_t armed;  /* loop_now_ms when armed */
    uint64_t fired;  /* loop_now_ms in the callback */
    int calls;
};

static void on_timing(struct loop *l, struct loop_timer *t, void *ud)
{
    struct timing *tm = ud;

    (void)l;
    (void)t;
    tm->fired = loop_now_ms();
    tm->calls++;
}

static void test_loop_timer_fires_once_not_early(void **state)
{
    struct timing tm = { 0 };
    struct loop *l = new_loop();
    struct loop_timer *t;
    struct loop_timer *stop;

    (void)state;
    t = loop_timer_new(l, on_timing, &tm);
    assert_non_null(t);
    tm.armed = loop_now_ms();
    loop_timer_arm(t, 50);
    stop = stop_after(l, 150);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(tm.calls, 1);
    assert_true(tm.fired - tm.armed >= 50);
    loop_timer_free(t);
    loop_timer_free(stop);
    loop_free(l);
}

static void test_loop_timer_zero_ms_fires(void **state)
{
    int fired = 0;
    struct loop *l = new_loop();
    struct loop_timer *t;

    (void)state;
    t = loop_timer_new(l, on_stop_timer, &fired);
    assert_non_null(t);
    loop_timer_arm(t, 0);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(fired, 1);
    loop_timer_free(t);
    loop_free(l);
}

static void test_loop_timer_disarm_prevents_firing(void **state)
{
    struct timing tm = { 0 };
    struct loop *l = new_loop();
    struct loop_timer *t;
    struct loop_timer *stop;

    (void)state;
    t = loop_timer_new(l, on_timing, &tm);
    assert_non_null(t);
    loop_timer_arm(t, 10);
    loop_timer_disarm(t);
    stop = stop_after(l, 40);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(tm.calls, 0);
    loop_timer_free(t);
    loop_timer_free(stop);
    loop_free(l);
}

static void on_free_self(struct loop *l, struct loop_timer *t, void *ud)
{
    int *fired = ud;

    (*fired)++;
    loop_timer_free(t); /* ASan reports any later use of t */
    loop_stop(l);
}

static void test_loop_timer_freed_inside_its_callback(void **state)
{
    int fired = 0;
    struct loop *l = new_loop();
    struct loop_timer *t;

    (void)state;
    t = loop_timer_new(l, on_free_self, &fired);
    assert_non_null(t);
    loop_timer_arm(t, 5);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(fired, 1);
    loop_free(l);
}

struct pair {
    struct loop_timer *other; /* freed by whichever fires first */
    int calls;
};

static void on_free_other(struct loop *l, struct loop_timer *t, void *ud)
{
    struct pair *p = ud;

    (void)l;
    p->calls++;
    loop_timer_free(p->other);
    loop_timer_free(t);
}

static void test_loop_timer_freed_by_other_timer(void **state)
{
    struct pair pa = { 0 };
    struct pair pb = { 0 };
    struct loop *l = new_loop();
    struct loop_timer *a;
    struct loop_timer *b;
    struct loop_timer *stop;

    (void)state;
    a = loop_timer_new(l, on_free_other, &pa);
    b = loop_timer_new(l, on_free_other, &pb);
    assert_non_null(a);
    assert_non_null(b);
    pa.other = b;
    pb.other = a;
    loop_timer_arm(a, 5);
    loop_timer_arm(b, 5);
    stop = stop_after(l, 40);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(pa.calls + pb.calls, 1);
    loop_timer_free(stop);
    loop_free(l);
}

static void test_loop_timer_outlives_loop(void **state)
{
    struct timing tm = { 0 };
    struct loop *l = new_loop();
    struct loop_timer *t;

    (void)state;
    t = loop_timer_new(l, on_timing, &tm);
    assert_non_null(t);
    loop_timer_arm(t, 1000);
    loop_free(l);
    loop_timer_arm(t, 5); /* orphaned: a no-op, not a crash */
    loop_timer_free(t);
}

static void on_signal(struct loop *l, int signo, void *ud)
{
    int *got = ud;

    *got = signo;
    loop_stop(l);
}

static void test_loop_signal_delivered_via_signalfd(void **state)
{
    struct loop *l = new_loop();
    int got = 0;

    (void)state;
    assert_int_equal(loop_on_signal(l, SIGHUP, on_signal, &got), FERR_OK);
    assert_int_equal(raise(SIGHUP), 0);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(got, SIGHUP);
    loop_free(l);
}

static void test_loop_signal_mask_grows(void **state)
{
    struct loop *l = new_loop();
    int got = 0;

    (void)state;
    assert_int_equal(loop_on_signal(l, SIGHUP, on_signal, &got), FERR_OK);
    assert_int_equal(loop_on_signal(l, SIGTERM, on_signal, &got), FERR_OK);
    assert_int_equal(raise(SIGTERM), 0);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(got, SIGTERM);
    assert_int_equal(raise(SIGHUP), 0);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_int_equal(got, SIGHUP);
    loop_free(l);
}

static void test_loop_signal_not_blocked_is_invalid(void **state)
{
    struct loop *l = new_loop();
    int got = 0;

    (void)state;
    assert_int_equal(loop_on_signal(l, SIGUSR1, on_signal, &got),
                     FERR_INVALID);
    assert_int_equal(loop_on_signal(l, 0, on_signal, &got), FERR_INVALID);
    assert_int_equal(loop_on_signal(l, NSIG, on_signal, &got), FERR_INVALID);
    loop_free(l);
}

struct reaped {
    pid_t pid;
    int status;
    bool done;
};

static void on_sigchld(struct loop *l, int signo, void *ud)
{
    struct reaped *r = ud;
    int status;
    pid_t pid;

    (void)signo;
    /* signals coalesce: reap everything that has ended */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        if (pid == r->pid) {
            r->status = status;
            r->done = true;
        }
    }
    if (r->done)
        loop_stop(l);
}

static void test_loop_sigchld_after_child_exits(void **state)
{
    struct reaped r = { 0 };
    struct loop *l = new_loop();

    (void)state;
    assert_int_equal(loop_on_signal(l, SIGCHLD, on_sigchld, &r), FERR_OK);
    r.pid = fork();
    assert_true(r.pid >= 0);
    if (r.pid == 0)
        _exit(7);
    assert_int_equal(loop_run(l), FERR_OK);
    assert_true(r.done);
    assert_true(WIFEXITED(r.status));
    assert_int_equal(WEXITSTATUS(r.status), 7);
    loop_free(l);
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

static void test_loop_free_closes_its_fds(void **state)
{
    int before = count_fds();
    struct loop_timer *t1;
    struct loop_timer *t2;
    struct loop *l;
    int got = 0;

    (void)state;
    l = new_loop();
    t1 = loop_timer_new(l, on_stop_timer, NULL);
    t2 = loop_timer_new(l, on_stop_timer, NULL);
    assert_non_null(t1);
    assert_non_null(t2);
    assert_int_equal(loop_on_signal(l, SIGHUP, on_signal, &got), FERR_OK);
    assert_int_equal(count_fds(), before + 4); /* epoll, 2 timers, signal */
    loop_timer_free(t1);
    loop_free(l); /* t2 is orphaned: its timerfd is closed */
    assert_int_equal(count_fds(), before);
    loop_timer_free(t2);
}

static void test_loop_block_signals_keeps_original_mask(void **state)
{
    const sigset_t *orig = loop_original_sigmask();
    struct sigaction sa;
    sigset_t cur;

    (void)state;
    assert_non_null(orig);
    assert_false(sigismember(orig, SIGHUP));
    assert_int_equal(sigprocmask(SIG_BLOCK, NULL, &cur), 0);
    assert_true(sigismember(&cur, SIGCHLD));
    assert_true(sigismember(&cur, SIGTERM));
    assert_true(sigismember(&cur, SIGINT));
    assert_true(sigismember(&cur, SIGHUP));
    assert_true(sigismember(&cur, SIGQUIT));
    assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
    assert_true(sa.sa_handler == SIG_IGN);
    /* a second call must not record the already-blocked mask */
    loop_block_signals();
    assert_true(loop_original_sigmask() == orig);
    assert_false(sigismember(orig, SIGHUP));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_loop_fd_readable_calls_back),
        cmocka_unit_test(test_loop_fd_hangup_reports_read),
        cmocka_unit_test(test_loop_fd_add_twice_is_invalid),
        cmocka_unit_test(test_loop_mod_fd_switches_to_write),
        cmocka_unit_test(test_loop_fd_removed_inside_callback),
        cmocka_unit_test(test_loop_fd_removed_by_other_callback_in_batch),
        cmocka_unit_test(test_loop_stop_returns_after_current_callback),
        cmocka_unit_test(test_loop_stop_before_run_returns_at_once),
        cmocka_unit_test(test_loop_timer_fires_once_not_early),
        cmocka_unit_test(test_loop_timer_zero_ms_fires),
        cmocka_unit_test(test_loop_timer_disarm_prevents_firing),
        cmocka_unit_test(test_loop_timer_freed_inside_its_callback),
        cmocka_unit_test(test_loop_timer_freed_by_other_timer),
        cmocka_unit_test(test_loop_timer_outlives_loop),
        cmocka_unit_test(test_loop_signal_delivered_via_signalfd),
        cmocka_unit_test(test_loop_signal_mask_grows),
        cmocka_unit_test(test_loop_signal_not_blocked_is_invalid),
        cmocka_unit_test(test_loop_sigchld_after_child_exits),
        cmocka_unit_test(test_loop_free_closes_its_fds),
        cmocka_unit_test(test_loop_block_signals_keeps_original_mask),
    };

    loop_block_signals();
    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
