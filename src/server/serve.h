/* serve: `ferry serve`, the control plane — see server.h for how its
 * parts fit. */
#ifndef FERRY_SERVER_SERVE_H
#define FERRY_SERVER_SERVE_H

#include <stdbool.h>

#include "util/ferr.h"

struct server_opts {
    const char *home;   /* state directory (made 0700 when missing) */
    const char *listen; /* "127.0.0.1:8080" */
    const char *db;     /* store URL; NULL = HOME/ferry.db */
    unsigned slots;     /* jobs at a time across all runs; 0 = number of
                           CPUs (at least 2) */
    unsigned runs;      /* runs at a time; 0 = 4 x slots */
    bool init;          /* print the first admin token */
    bool fail_on_restart; /* a run lost to a restart fails instead of
                             being retried as a new attempt */
    const char *notify; /* the notifier's channels and routes (JSON);
                           NULL = HOME/notify.json when it exists */
};

/**
 * Serve until SIGTERM/SIGINT.  Prints "ferry serve: listening on URL"
 * (and with @o->init the first admin token as "admin token: TOKEN")
 * on stdout.  Errors: FERR_IO/FERR_USAGE (home, store, listen address);
 * FERR_INVALID (a database from a newer ferry).
 * Context: main thread, signals blocked (loop_block_signals).
 */
enum ferr_code serve_run(const struct server_opts *o,
                         struct ferr *err) FERR_MUST_CHECK;

#endif
