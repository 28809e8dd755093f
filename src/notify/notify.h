/* notify: the alert notifier behind `ferry __notify` — its configuration
 * (channels and per-level routes, a JSON file), routing the outbox's new
 * entries to channels, and delivering what is due with retries and
 * backoff.  Every bit of delivery state lives in the store, so the
 * process can be killed at any moment and started again. */
#ifndef FERRY_NOTIFY_NOTIFY_H
#define FERRY_NOTIFY_NOTIFY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "notify/chan.h"
#include "store/store.h"
#include "util/ferr.h"

enum notify_level {
    NOTIFY_INFO,
    NOTIFY_WARNING,
    NOTIFY_ERROR,
    NOTIFY_CRITICAL,
    NOTIFY_LEVELS
};

/** The channels and routes of one configuration file. */
struct notify_config {
    struct chan *chans;                  /* n_chans channels, names unique */
    size_t n_chans;
    size_t *routes[NOTIFY_LEVELS];       /* indexes into chans, no repeats */
    size_t n_routes[NOTIFY_LEVELS];
    int recheck_ms;                      /* idle look at the outbox */
};

/** The level named @s ("info"...); false when unknown. */
bool notify_level_parse(const char *s, enum notify_level *out);

/**
 * Parse the configuration text @text (@len bytes) of file @file (used in
 * messages; borrowed, and kept in err->pos.file: it must outlive @err).
 * Shape: {"channels": {NAME: {"type": …, options}}, "routes": {LEVEL:
 * [NAME…]}, "recheck": SECONDS} (docs/operations.md, "Notifications").
 * Ownership: *@out is the caller's (notify_config_free).
 * Errors: FERR_PARSE (not JSON; with line and column), FERR_INVALID
 * (unknown keys, types, levels or channel names; a route to a channel
 * that is not defined), FERR_LIMIT; *@out is NULL.
 */
enum ferr_code notify_config_parse(const char *file, const char *text,
                                   size_t len, struct notify_config **out,
                                   struct ferr *err) FERR_MUST_CHECK;
/** Read @path (at most LIM_NOTIFY_CONFIG bytes) and parse it as above.
 *  Errors: FERR_IO (cannot read), FERR_LIMIT, and notify_config_parse's. */
enum ferr_code notify_config_load(const char *path, struct notify_config **out,
                                  struct ferr *err) FERR_MUST_CHECK;
/** Free @c; NULL is a no-op. */
void notify_config_free(struct notify_config *c);
/** The channel named @name, or NULL (borrowed from @c). */
const struct chan *notify_config_channel(const struct notify_config *c,
                                         const char *name);

/** The delay (ms) before the next try after the @attempts-th failure:
 *  1 s doubling, at most 5 min. */
int64_t notify_backoff_ms(int64_t attempts);

struct notify;

/**
 * A notifier over @cfg and @store (both borrowed: they must outlive it).
 * Ownership: the result is the caller's (notify_free).
 */
struct notify *notify_new(const struct notify_config *cfg,
                          struct store *store);
/** Free @n; NULL is a no-op. */
void notify_free(struct notify *n);

/**
 * One pass: route every new outbox entry (the channels of its level's
 * route, plus, for an entry that resolves another, the channels that got
 * that one), then send every pending send due at the wall clock.  A
 * failed send is retried after notify_backoff_ms, and its channel is
 * left alone until then (its other due sends are put off, not tried).
 * *@out_next_ms is the wall-clock time (ms) of the next due send, -1 when
 * nothing is pending.  Errors: FERR_IO from the store (the pass stopped
 * there; nothing is lost, the next pass goes on).  Context: one thread.
 */
enum ferr_code notify_pass(struct notify *n, int64_t *out_next_ms,
                           struct ferr *err) FERR_MUST_CHECK;

/**
 * Run passes until @wake_fd reaches EOF (the server is gone) or @stop_fd
 * (a signalfd, or -1) is readable: a pass, then poll() on both until the
 * next due send, or the configuration's "recheck" (30 s) when none is
 * due sooner (alerts another process wrote come without a wake-up);
 * each byte on @wake_fd (one per outbox insert) starts a pass.  Store
 * errors are logged and the pass is tried again a second later.
 * Returns FERR_OK on EOF or stop; FERR_IO when poll fails.
 */
enum ferr_code notify_run(struct notify *n, int wake_fd, int stop_fd,
                          struct ferr *err) FERR_MUST_CHECK;

#endif
