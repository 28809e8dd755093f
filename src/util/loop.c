/* loop: one epoll set per loop; each timer is its own timerfd and all
 * signals share one signalfd.  Sources removed while a batch of events is
 * being dispatched are only marked dead and freed after the batch, so
 * callbacks may delete anything, themselves included.  It deliberately
 * does not do threads, edge-triggered mode or a self-pipe fallback. */
#include "util/loop.h"

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

#include "util/xalloc.h"

#define BATCH 64 /* events fetched per epoll_wait */

enum src_kind { SRC_FD, SRC_TIMER, SRC_SIGNAL };

/* What epoll_event.data.ptr points to: the first member of every source. */
struct src {
    enum src_kind kind;
    bool dead;             /* removed; freed after the current batch */
    struct src *next_dead; /* in loop.dead while dead */
};

struct fdreg {
    struct src src;
    int fd;           /* borrowed from the caller */
    loop_fd_cb cb;
    void *ud;
};

struct loop_timer {
    struct src src;
    struct loop *loop;       /* NULL once the loop is freed (orphan) */
    int tfd;                 /* timerfd, -1 for an orphan */
    loop_timer_cb cb;
    void *ud;
    struct loop_timer *prev; /* live timers of the loop */
    struct loop_timer *next;
};

struct sighandler {
    loop_signal_cb cb; /* NULL = not handled */
    void *ud;
};

struct loop {
    int epfd;
    struct fdreg **fds;    /* indexed by fd; NULL = not watched */
    size_t nfds;           /* length of fds */
    struct loop_timer *timers; /* live timers (doubly linked) */
    struct src *dead;      /* sources to free after the batch */
    bool dispatching;      /* inside the callbacks of one batch */
    bool stop;             /* loop_stop was called */
    struct src sigsrc;     /* the signalfd's epoll source */
    int sfd;               /* signalfd, -1 until the first loop_on_signal */
    sigset_t sigmask;      /* signals routed to sfd */
    struct sighandler sig[NSIG];
};

static sigset_t orig_mask; /* before the first loop_block_signals */
static bool orig_saved;

/* strerror, lowercased as our messages are: "no such file or directory". */
static const char *errtext(int e, char *out, size_t n)
{
    const char *s = strerror_r(e, out, n);

    if (s != out)
        snprintf(out, n, "%s", s);
    if (out[0] >= 'A' && out[0] <= 'Z')
        out[0] = (char)(out[0] - 'A' + 'a');
    return out;
}

void loop_block_signals(void)
{
    static const int blocked[] = { SIGCHLD, SIGTERM, SIGINT, SIGHUP,
                                   SIGQUIT };
    struct sigaction sa;
    sigset_t set;
    sigset_t old;
    size_t i;

    sigemptyset(&set);
    for (i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
        sigaddset(&set, blocked[i]);
    sigprocmask(SIG_BLOCK, &set, &old);
    if (!orig_saved) {
        orig_mask = old;
        orig_saved = true;
    }
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = SIG_IGN;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGPIPE, &sa, NULL);
}

const sigset_t *loop_original_sigmask(void)
{
    return orig_saved ? &orig_mask : NULL;
}

uint64_t loop_now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

enum ferr_code loop_new(struct loop **out, struct ferr *err)
{
    struct loop *l;
    char eb[128];
    int epfd;

    *out = NULL;
    epfd = epoll_create1(EPOLL_CLOEXEC);
    if (epfd < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot create epoll set: %s",
                        errtext(errno, eb, sizeof(eb)));
    l = xcalloc(1, sizeof(*l));
    l->epfd = epfd;
    l->sfd = -1;
    l->sigsrc.kind = SRC_SIGNAL;
    sigemptyset(&l->sigmask);
    *out = l;
    return FERR_OK;
}

static void free_src(struct src *s)
{
    /* SRC_SIGNAL is embedded in the loop and never queued */
    if (s->kind == SRC_FD)
        free((struct fdreg *)s);
    else if (s->kind == SRC_TIMER)
        free((struct loop_timer *)s);
}

static void reap_dead(struct loop *l)
{
    while (l->dead) {
        struct src *s = l->dead;

        l->dead = s->next_dead;
        free_src(s);
    }
}

/* Free now, or after the batch if callbacks may still hold events for it. */
static void retire(struct loop *l, struct src *s)
{
    s->dead = true;
    if (!l->dispatching) {
        free_src(s);
        return;
    }
    s->next_dead = l->dead;
    l->dead = s;
}

static void timer_unlink(struct loop_timer *t)
{
    struct loop *l = t->loop;

    if (t->prev)
        t->prev->next = t->next;
    else
        l->timers = t->next;
    if (t->next)
        t->next->prev = t->prev;
    t->prev = NULL;
    t->next = NULL;
}

void loop_free(struct loop *l)
{
    size_t i;

    if (!l)
        return;
    while (l->timers) {
        struct loop_timer *t = l->timers;

        timer_unlink(t);
        close(t->tfd);
        t->tfd = -1;
        t->loop = NULL;
    }
    for (i = 0; i < l->nfds; i++)
        free(l->fds[i]);
    free(l->fds);
    reap_dead(l);
    if (l->sfd >= 0)
        close(l->sfd);
    close(l->epfd);
    free(l);
}

static uint32_t to_epoll(unsigned events)
{
    uint32_t ev = 0;

    if (events & LOOP_READ)
        ev |= EPOLLIN | EPOLLRDHUP;
    if (events & LOOP_WRITE)
        ev |= EPOLLOUT;
    return ev;
}

static unsigned from_epoll(uint32_t ev)
{
    unsigned events = 0;

    if (ev & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR | EPOLLPRI))
        events |= LOOP_READ;
    if (ev & EPOLLOUT)
        events |= LOOP_WRITE;
    return events;
}

enum ferr_code loop_add_fd(struct loop *l, int fd, unsigned events,
                           loop_fd_cb cb, void *ud)
{
    struct epoll_event ev;
    struct fdreg *r;
    size_t ufd;

    if (fd < 0)
        return FERR_INVALID;
    ufd = (size_t)fd;
    if (ufd < l->nfds && l->fds[ufd])
        return FERR_INVALID;
    if (ufd >= l->nfds) {
        size_t n = l->nfds ? l->nfds : 16;

        while (n <= ufd)
            n *= 2;
        l->fds = xrealloc(l->fds, n * sizeof(*l->fds));
        memset(l->fds + l->nfds, 0, (n - l->nfds) * sizeof(*l->fds));
        l->nfds = n;
    }
    r = xcalloc(1, sizeof(*r));
    r->src.kind = SRC_FD;
    r->fd = fd;
    r->cb = cb;
    r->ud = ud;
    memset(&ev, 0, sizeof(ev));
    ev.events = to_epoll(events);
    ev.data.ptr = r;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
        int e = errno;

        free(r);
        return e == EEXIST ? FERR_INVALID : FERR_IO;
    }
    l->fds[ufd] = r;
    return FERR_OK;
}

enum ferr_code loop_mod_fd(struct loop *l, int fd, unsigned events)
{
    struct epoll_event ev;
    struct fdreg *r;

    if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd])
        return FERR_NOTFOUND;
    r = l->fds[fd];
    memset(&ev, 0, sizeof(ev));
    ev.events = to_epoll(events);
    ev.data.ptr = r;
    if (epoll_ctl(l->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
        return FERR_IO;
    return FERR_OK;
}

void loop_del_fd(struct loop *l, int fd)
{
    struct fdreg *r;

    if (fd < 0 || (size_t)fd >= l->nfds || !l->fds[fd])
        return;
    r = l->fds[fd];
    l->fds[fd] = NULL;
    /* fails only if the caller already closed fd, which removed it too */
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, fd, NULL);
    retire(l, &r->src);
}

struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *ud)
{
    struct epoll_event ev;
    struct loop_timer *t;
    int tfd;

    tfd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
    if (tfd < 0)
        return NULL;
    t = xcalloc(1, sizeof(*t));
    t->src.kind = SRC_TIMER;
    t->loop = l;
    t->tfd = tfd;
    t->cb = cb;
    t->ud = ud;
    memset(&ev, 0, sizeof(ev));
    ev.events = EPOLLIN;
    ev.data.ptr = t;
    if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, tfd, &ev) < 0) {
        close(tfd);
        free(t);
        return NULL;
    }
    t->next = l->timers;
    if (l->timers)
        l->timers->prev = t;
    l->timers = t;
    return t;
}

void loop_timer_arm(struct loop_timer *t, uint64_t ms)
{
    struct itimerspec its;

    if (!t || !t->loop)
        return;
    memset(&its, 0, sizeof(its));
    its.it_value.tv_sec = (time_t)(ms / 1000u);
    its.it_value.tv_nsec = (long)(ms % 1000u) * 1000000L;
    if (ms == 0)
        its.it_value.tv_nsec = 1; /* an all-zero value would disarm */
    (void)timerfd_settime(t->tfd, 0, &its, NULL);
}

void loop_timer_disarm(struct loop_timer *t)
{
    struct itimerspec its;

    if (!t || !t->loop)
        return;
    memset(&its, 0, sizeof(its));
    (void)timerfd_settime(t->tfd, 0, &its, NULL);
}

void loop_timer_free(struct loop_timer *t)
{
    struct loop *l;

    if (!t)
        return;
    l = t->loop;
    if (!l) {
        free(t);
        return;
    }
    timer_unlink(t);
    (void)epoll_ctl(l->epfd, EPOLL_CTL_DEL, t->tfd, NULL);
    close(t->tfd);
    t->tfd = -1;
    retire(l, &t->src);
}

enum ferr_code loop_on_signal(struct loop *l, int signo, loop_signal_cb cb,
                              void *ud)
{
    struct epoll_event ev;
    sigset_t cur;
    sigset_t want;
    int fd;

    if (signo <= 0 || signo >= NSIG)
        return FERR_INVALID;
    if (sigprocmask(SIG_BLOCK, NULL, &cur) < 0 || !sigismember(&cur, signo))
        return FERR_INVALID;
    want = l->sigmask;
    sigaddset(&want, signo);
    fd = signalfd(l->sfd, &want, SFD_CLOEXEC | SFD_NONBLOCK);
    if (fd < 0)
        return FERR_IO;
    if (l->sfd < 0) {
        memset(&ev, 0, sizeof(ev));
        ev.events = EPOLLIN;
        ev.data.ptr = &l->sigsrc;
        if (epoll_ctl(l->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            close(fd);
            return FERR_IO;
        }
        l->sfd = fd;
    }
    l->sigmask = want;
    l->sig[signo].cb = cb;
    l->sig[signo].ud = ud;
    return FERR_OK;
}

void loop_stop(struct loop *l)
{
    l->stop = true;
}

static void dispatch_fd(struct loop *l, struct fdreg *r, uint32_t ev)
{
    r->cb(l, r->fd, from_epoll(ev), r->ud);
}

static void dispatch_timer(struct loop *l, struct loop_timer *t)
{
    uint64_t expirations;
    ssize_t n;

    /* EAGAIN: re-armed or disarmed since epoll_wait saw it expire */
    do
        n = read(t->tfd, &expirations, sizeof(expirations));
    while (n < 0 && errno == EINTR);
    if (n != (ssize_t)sizeof(expirations))
        return;
    t->cb(l, t, t->ud);
}

/* One signal per call so that loop_stop takes effect between signals;
 * the rest stay queued in the signalfd for the next round. */
static void dispatch_signal(struct loop *l)
{
    struct signalfd_siginfo si;
    ssize_t n;

    while (!l->stop) {
        int signo;

        n = read(l->sfd, &si, sizeof(si));
        if (n < 0 && errno == EINTR)
            continue;
        if (n != (ssize_t)sizeof(si))
            return;
        signo = (int)si.ssi_signo;
        if (signo > 0 && signo < NSIG && l->sig[signo].cb)
            l->sig[signo].cb(l, signo, l->sig[signo].ud);
    }
}

enum ferr_code loop_run(struct loop *l)
{
    struct epoll_event evs[BATCH];
    enum ferr_code rc = FERR_OK;

    while (!l->stop) {
        int n;
        int i;

        n = epoll_wait(l->epfd, evs, BATCH, -1);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            rc = FERR_IO;
            break;
        }
        l->dispatching = true;
        for (i = 0; i < n && !l->stop; i++) {
            struct src *s = evs[i].data.ptr;

            if (s->dead)
                continue;
            if (s->kind == SRC_FD)
                dispatch_fd(l, (struct fdreg *)s, evs[i].events);
            else if (s->kind == SRC_TIMER)
                dispatch_timer(l, (struct loop_timer *)s);
            else
                dispatch_signal(l);
        }
        l->dispatching = false;
        reap_dead(l);
    }
    l->stop = false;
    return rc;
}
