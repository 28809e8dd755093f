/* loop: the event loop — epoll for fds, timerfd timers, signalfd signals.
 * Single-threaded; every callback runs on the loop's thread.  No sleeping,
 * no polling: the loop blocks in epoll_wait until something happens. */
#ifndef FERRY_UTIL_LOOP_H
#define FERRY_UTIL_LOOP_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/ferr.h"

struct loop;
struct loop_timer;

enum loop_events { LOOP_READ = 1 << 0, LOOP_WRITE = 1 << 1 };

/** Called with the ready events; LOOP_READ is also set on hang-up/error. */
typedef void (*loop_fd_cb)(struct loop *l, int fd, unsigned events, void *ud);
/** Called once each time an armed timer expires. */
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t, void *ud);
/** Called once per signal read from the signalfd (signals coalesce). */
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *ud);

/**
 * Block SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGQUIT, and ignore SIGPIPE,
 * for the whole process.  Call first thing in main(), before any thread
 * starts.  The mask in force before the first call is saved (see
 * loop_original_sigmask); later calls block again but keep that mask.
 * proc_spawn restores the original mask and default dispositions in
 * children.  Context: main thread, before threads exist.
 */
void loop_block_signals(void);

/**
 * The signal mask that was in force before the first loop_block_signals,
 * or NULL if it was never called.  Borrowed; valid for the whole process
 * lifetime.  Context: any thread (read-only after loop_block_signals).
 */
const sigset_t *loop_original_sigmask(void);

/**
 * A new loop.  Ownership: *@out is the caller's (loop_free).
 * Errors: FERR_IO (epoll_create1); *@out is NULL.
 */
enum ferr_code loop_new(struct loop **out, struct ferr *err) FERR_MUST_CHECK;
/**
 * Close every fd the loop made (not the watched ones); NULL is a no-op.
 * Timers not yet freed are disarmed and orphaned: loop_timer_free must
 * still be called on them.  Not from inside a callback of @l.
 */
void loop_free(struct loop *l);

/**
 * Watch @fd (borrowed: the caller closes it, after loop_del_fd) for
 * @events (LOOP_READ | LOOP_WRITE; level-triggered).
 * Errors: FERR_INVALID if @fd is negative or already watched, FERR_IO if
 * epoll refuses it (e.g. a regular file); nothing is registered.
 * Context: loop thread, also from inside callbacks.
 */
enum ferr_code loop_add_fd(struct loop *l, int fd, unsigned events,
                           loop_fd_cb cb, void *ud) FERR_MUST_CHECK;
/**
 * Change the events watched on @fd.  Errors: FERR_NOTFOUND if @fd is not
 * watched, FERR_IO from epoll_ctl; the old events stay in force.
 */
enum ferr_code loop_mod_fd(struct loop *l, int fd, unsigned events)
    FERR_MUST_CHECK;
/**
 * Stop watching @fd; safe to call from inside any callback, including
 * that fd's: events of @fd already fetched are dropped.  Unknown fds are
 * ignored.  The caller may close @fd right after.
 */
void loop_del_fd(struct loop *l, int fd);

/**
 * A one-shot timer firing after @ms milliseconds.  The timer stays valid
 * until loop_timer_free (re-arm with loop_timer_arm).  Owned by the
 * caller; free it with loop_timer_free, also from inside its callback.
 * Returns NULL when no timerfd can be made (fd limit reached).  A new
 * timer is disarmed.
 */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *ud);
/** (Re)arm @t to fire once, @ms milliseconds from now (0 = at once). */
void loop_timer_arm(struct loop_timer *t, uint64_t ms);
/** Disarm @t; an expiry already fetched but not dispatched is dropped. */
void loop_timer_disarm(struct loop_timer *t);
/**
 * Free @t (NULL is a no-op); safe inside any callback, including @t's
 * own: its memory is released after the current batch of events.
 */
void loop_timer_free(struct loop_timer *t);

/**
 * Deliver @signo (one of the blocked ones) to @cb via the loop's
 * signalfd; a second call for the same @signo replaces the callback.
 * Errors: FERR_INVALID if @signo is out of range or not blocked in the
 * calling thread (it would never reach the signalfd), FERR_IO from
 * signalfd/epoll_ctl.
 */
enum ferr_code loop_on_signal(struct loop *l, int signo, loop_signal_cb cb,
                              void *ud) FERR_MUST_CHECK;

/**
 * Run until loop_stop.  Not re-entrant (do not call from a callback).
 * Errors: FERR_IO from epoll_wait (EINTR is retried).
 */
enum ferr_code loop_run(struct loop *l) FERR_MUST_CHECK;
/**
 * Make loop_run return after the current callback: no further callback
 * runs in this batch; undelivered events stay pending for the next
 * loop_run.  Called outside loop_run, the next loop_run returns at once.
 */
void loop_stop(struct loop *l);
/** Monotonic milliseconds (CLOCK_MONOTONIC); any thread. */
uint64_t loop_now_ms(void);

#endif
