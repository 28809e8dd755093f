/* notifier: the server's side of alert delivery.  When a configuration
 * exists it keeps one `ferry __notify` process running, pokes it (a byte
 * on its stdin) after each alert queued, restarts it when it dies, and
 * stops it with the server.  Delivery (channels, retries, what was sent
 * where) is the notify layer's, in that process, from the store: a slow
 * or dead channel never touches the server's loop. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/proc.h"
#include "server/server.h"
#include "util/log.h"
#include "util/xalloc.h"

#define RESTART_MS 2000u /* a notifier that died starts again after */

static void start(struct server *s);

static void on_output(struct loop *l, int fd, unsigned events, void *ud)
{
    struct server *s = ud;
    char b[4096];
    ssize_t n;

    (void)events;
    while ((n = read(fd, b, sizeof(b) - 1)) > 0) {
        b[n] = '\0';
        while (n > 0 && b[n - 1] == '\n')
            b[--n] = '\0';
        log_warn("notifier said='%s'", b);
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
        loop_del_fd(l, fd);
        close(fd);
        s->notify.out_fd = -1;
    }
}

static void on_restart(struct loop *l, struct loop_timer *t, void *ud)
{
    struct server *s = ud;

    (void)l;
    (void)t;
    if (!s->stopping && s->notify.pid <= 0)
        start(s);
}

static void start(struct server *s)
{
    char *db = s->o.db ? xstrdup(s->o.db) : xasprintf("%s/ferry.db", s->home);
    char *argv[] = {s->ferry_bin, "__notify", "--db", db, "--config",
                    s->notify.config, NULL};
    struct proc_spec ps;
    struct ferr err;
    int p[2];

    if (pipe2(p, O_CLOEXEC) != 0) {
        log_err("cannot start the notifier: pipe: %s", strerror(errno));
        free(db);
        return;
    }
    memset(&ps, 0, sizeof(ps));
    ps.path = s->ferry_bin;
    ps.argv = argv;
    ps.cwd = s->home;
    ps.stdin_fd = p[0];
    ferr_clear(&err);
    if (proc_spawn(&ps, &s->notify.pid, &s->notify.out_fd, &err)) {
        log_err("cannot start the notifier: %s", err.msg);
        close(p[0]);
        close(p[1]);
        s->notify.pid = 0;
        if (s->notify.timer)
            loop_timer_arm(s->notify.timer, RESTART_MS);
        free(db);
        return;
    }
    close(p[0]);
    (void)fcntl(p[1], F_SETFL, fcntl(p[1], F_GETFL) | O_NONBLOCK);
    s->notify.gate_fd = p[1];
    if (loop_add_fd(s->loop, s->notify.out_fd, LOOP_READ, on_output, s)) {
        close(s->notify.out_fd); /* it still runs; its words are lost */
        s->notify.out_fd = -1;
    }
    log_info("notifier started pid=%d config='%s'", (int)s->notify.pid,
             s->notify.config);
    notifier_poke(s); /* whatever waited while none ran */
    free(db);
}

void notifier_start(struct server *s)
{
    struct stat st;

    s->notify.pid = 0;
    s->notify.out_fd = -1;
    s->notify.gate_fd = -1;
    if (s->o.notify)
        s->notify.config = xstrdup(s->o.notify);
    else
        s->notify.config = xasprintf("%s/notify.json", s->home);
    if (!s->o.notify && stat(s->notify.config, &st) != 0) {
        free(s->notify.config); /* no channels: alerts wait in the outbox */
        s->notify.config = NULL;
        return;
    }
    s->notify.timer = loop_timer_new(s->loop, on_restart, s);
    start(s);
}

void notifier_poke(struct server *s)
{
    ssize_t n;

    if (s->notify.gate_fd < 0)
        return;
    do
        n = write(s->notify.gate_fd, "!", 1);
    while (n < 0 && errno == EINTR);
    /* EAGAIN: the pipe is full of pokes already, which is as good */
}

bool notifier_reaped(struct server *s, pid_t pid, int status)
{
    if (pid <= 0 || pid != s->notify.pid)
        return false;
    s->notify.pid = 0;
    if (s->notify.gate_fd >= 0) {
        close(s->notify.gate_fd);
        s->notify.gate_fd = -1;
    }
    if (!s->stopping) {
        log_warn("notifier exited status=%d; starting it again in %u ms",
                 status, RESTART_MS);
        if (s->notify.timer)
            loop_timer_arm(s->notify.timer, RESTART_MS);
    }
    return true;
}

void notifier_stop(struct server *s)
{
    if (s->notify.pid > 0)
        kill(s->notify.pid, SIGTERM);
    if (s->notify.gate_fd >= 0)
        close(s->notify.gate_fd); /* EOF: it stops too */
    if (s->notify.out_fd >= 0) {
        loop_del_fd(s->loop, s->notify.out_fd);
        close(s->notify.out_fd);
    }
    s->notify.gate_fd = -1;
    s->notify.out_fd = -1;
    loop_timer_free(s->notify.timer);
    s->notify.timer = NULL;
    free(s->notify.config);
    s->notify.config = NULL;
}
