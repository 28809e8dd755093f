/* proxy: `ferry proxy`'s data plane — an HTTP/1.1 reverse proxy on one
 * epoll loop: client connections, keep-alive pools to the backends,
 * smooth weighted round robin, retries on connect failure, draining and
 * a graceful stop.  The admin API (admin.h) drives it through the
 * functions below. */
#ifndef FERRY_PROXY_PROXY_H
#define FERRY_PROXY_PROXY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/socket.h>

#include "proxy/backend.h"
#include "util/ferr.h"
#include "util/loop.h"

struct proxy;

struct proxy_opts {
    const char *listen;        /* "HOST:PORT"; port 0 = any free port */
    unsigned max_connections;  /* client connections, 0 = default */
    uint64_t max_body;         /* request Content-Length, 0 = default */
};

/** Proxy-wide counters (GET /stats). */
struct proxy_stats {
    uint64_t connections_total;  /* client connections accepted */
    uint64_t connections_active; /* open now */
    uint64_t connections_refused; /* over --max-connections */
    uint64_t requests;           /* request heads received */
    uint64_t own_4xx;            /* answered 4xx by the proxy itself */
    uint64_t own_5xx;            /* answered 502/503/504 by the proxy */
};

/**
 * Listen on the TCP address @sa (@len bytes; @addr is its text, for
 * messages): a non-blocking, close-on-exec socket with SO_REUSEADDR and
 * @backlog.  *@out_fd is the caller's; @out_addr (@n bytes) gets the
 * address really bound ("127.0.0.1:PORT", "[::1]:PORT"), port 0 resolved.
 * Errors: FERR_IO with errno's words; *@out_fd is -1.
 */
enum ferr_code proxy_listen_tcp(const struct sockaddr_storage *sa,
                                socklen_t len, const char *addr, int backlog,
                                int *out_fd, char *out_addr, size_t n,
                                struct ferr *err) FERR_MUST_CHECK;

/**
 * Bind @o->listen (SO_REUSEADDR, backlog SOMAXCONN) and set up a loop
 * with an empty backend set; nothing is served until proxy_run.
 * Ownership: *@out is the caller's (proxy_free).
 * Errors: FERR_INVALID for a bad address, FERR_IO for bind/listen or the
 * loop; *@out is NULL.  Context: main thread.
 */
enum ferr_code proxy_new(const struct proxy_opts *o, struct proxy **out,
                         struct ferr *err) FERR_MUST_CHECK;

/** Close every connection and free @px (NULL is a no-op). */
void proxy_free(struct proxy *px);

/** The loop the proxy runs on (borrowed; the admin API adds its fds). */
struct loop *proxy_loop(struct proxy *px);

/** The address actually bound, "127.0.0.1:PORT" or "[::1]:PORT"
 *  (borrowed, valid until proxy_free). */
const char *proxy_listen_addr(const struct proxy *px);

/**
 * Serve until SIGTERM or SIGINT (which must be blocked, see
 * loop_block_signals), then stop accepting, let the requests in flight
 * finish for at most 10 s, and return.  Errors: FERR_IO from the loop.
 * Context: main thread, once.
 */
enum ferr_code proxy_run(struct proxy *px, struct ferr *err) FERR_MUST_CHECK;

/** The backend registry, for listing (borrowed; do not change it
 *  directly — use proxy_replace / proxy_drain). */
const struct backend_reg *proxy_backends(const struct proxy *px);

/**
 * Replace the backend set atomically (see backend_reg_replace); idle
 * connections to backends that left the set are closed at once, busy
 * ones when their request ends.  Errors: FERR_INVALID / FERR_LIMIT;
 * nothing changes.  Context: loop thread.
 */
enum ferr_code proxy_replace(struct proxy *px, const struct backend_spec *specs,
                             size_t n, struct ferr *err) FERR_MUST_CHECK;

/**
 * Drain the backend named @name (it leaves the set; see
 * backend_reg_drain).  Returns it (borrowed, valid until the loop runs
 * again), or NULL when unknown.  Context: loop thread.
 */
const struct backend *proxy_drain(struct proxy *px, const char *name);

/** Copy the proxy-wide counters into *@out. */
void proxy_get_stats(const struct proxy *px, struct proxy_stats *out);

#endif
