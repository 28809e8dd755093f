/* loop: the event loop — epoll for fds, timerfd timers, signalfd signals.
 * Single-threaded; every callback runs on the loop's thread.  No sleeping,
 * no polling: the loop blocks in epoll_wait until something happens. */
#ifndef FERRY_UTIL_LOOP_H
#define FERRY_UTIL_LOOP_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ferr.h"

struct loop;
struct loop_timer;

enum loop_events { LOOP_READ = 1 << 0, LOOP_WRITE = 1 << 1 };

/** Called with the ready events; LOOP_READ is also set on hang-up/error. */
typedef void (*loop_fd_cb)(struct loop *l, int fd, unsigned events, void *ud);
typedef void (*loop_timer_cb)(struct loop *l, struct loop_timer *t, void *ud);
typedef void (*loop_signal_cb)(struct loop *l, int signo, void *ud);

/**
 * Block SIGCHLD, SIGTERM, SIGINT, SIGHUP and SIGPIPE-ignore for the whole
 * process.  Call first thing in main(), before any thread starts.
 * proc_spawn restores the original mask in children.
 */
void loop_block_signals(void);

/** A new loop.  Errors: FERR_IO (epoll_create1). */
enum ferr_code loop_new(struct loop **out, struct ferr *err) FERR_MUST_CHECK;
/** Close every fd the loop made (not the watched ones); NULL is a no-op. */
void loop_free(struct loop *l);

/** Watch @fd (borrowed: the caller closes it, after loop_del_fd). */
enum ferr_code loop_add_fd(struct loop *l, int fd, unsigned events,
                           loop_fd_cb cb, void *ud) FERR_MUST_CHECK;
enum ferr_code loop_mod_fd(struct loop *l, int fd, unsigned events)
    FERR_MUST_CHECK;
/** Stop watching @fd; safe to call from inside that fd's callback. */
void loop_del_fd(struct loop *l, int fd);

/**
 * A one-shot timer firing after @ms milliseconds.  The timer stays valid
 * until loop_timer_free (re-arm with loop_timer_arm).  Owned by the
 * caller; free it with loop_timer_free, also from inside its callback.
 */
struct loop_timer *loop_timer_new(struct loop *l, loop_timer_cb cb, void *ud);
void loop_timer_arm(struct loop_timer *t, uint64_t ms);
void loop_timer_disarm(struct loop_timer *t);
void loop_timer_free(struct loop_timer *t);

/** Deliver @signo (one of the blocked ones) to @cb via a signalfd. */
enum ferr_code loop_on_signal(struct loop *l, int signo, loop_signal_cb cb,
                              void *ud) FERR_MUST_CHECK;

/** Run until loop_stop.  Errors: FERR_IO from epoll_wait. */
enum ferr_code loop_run(struct loop *l) FERR_MUST_CHECK;
/** Make loop_run return after the current callback. */
void loop_stop(struct loop *l);
/** Monotonic milliseconds. */
uint64_t loop_now_ms(void);

#endif
