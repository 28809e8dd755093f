/* traffic: the driver that says which instances get an application's
 * requests and in what proportion.  Two drivers: ferry's own proxy
 * (`ferry proxy`, through its admin API: PUT /backends replaces the set
 * atomically) and HAProxy (through its runtime API socket: `set server
 * BE/SRV addr|weight|state`, on server slots declared in its config).
 * It never starts the proxy: the operator runs it. */
#ifndef FERRY_DEPLOY_TRAFFIC_H
#define FERRY_DEPLOY_TRAFFIC_H

#include <stddef.h>
#include <stdint.h>

#include "util/ferr.h"

struct traffic;

/** One backend.  Input to traffic_set: name, addr, weight.  Output of
 *  traffic_get: all fields. */
struct traffic_backend {
    char *name;           /* ferry proxy: ours ("production-v7-1");
                             haproxy: the server slot ("app1") */
    char *addr;           /* "127.0.0.1:8081" */
    unsigned weight;      /* relative; 0 = no new requests */
    char state[16];       /* "ready", "draining", "down"; the haproxy
                             parser also says "maint" (a free slot,
                             which traffic_get leaves out) */
    uint64_t requests;    /* cumulative, since the proxy started */
    uint64_t errors_5xx;  /* cumulative responses 500-599 (and the
                             proxy's own 502/504 for this backend) */
    uint64_t active;      /* requests in flight now */
};

/**
 * Open a driver from @spec (the deploy step's input 'proxy'):
 *   "ferry:HOST:PORT"            ferry proxy's admin address
 *   "ferry:unix:/PATH"           … on a Unix socket; a relative PATH is
 *                                taken in the deploy home ($FERRY_DEPLOY_HOME,
 *                                see envstate_home_dup)
 *   "haproxy:/PATH/admin.sock:BACKEND"  HAProxy's runtime API (level
 *                                admin) and the backend whose server
 *                                slots ferry may use
 * Nothing is contacted yet.  *@out is the caller's (traffic_free).
 *
 * HAProxy (tested with 2.6): ferry only moves server slots the operator
 * declared, so the config needs an admin-level runtime socket and spare
 * slots, parked in maintenance:
 *     global
 *         stats socket /run/haproxy/admin.sock mode 600 level admin
 *     backend app
 *         balance roundrobin
 *         server-template slot 10 127.0.0.1:1 disabled
 * (slots slot1..slot10; as many as instances of two versions at once).
 * Relative weights over 256 are scaled into HAProxy's 0-256 range.
 * Errors: FERR_INVALID "input 'proxy': expected ferry:HOST:PORT,
 * ferry:unix:PATH or haproxy:SOCKET:BACKEND, not '…'".
 */
enum ferr_code traffic_open(const char *spec, struct traffic **out,
                            struct ferr *err) FERR_MUST_CHECK;

/** Free @t (NULL is a no-op). */
void traffic_free(struct traffic *t);

/**
 * Make @b[0..@n) the whole set, atomically for the ferry proxy: backends
 * left out drain (their in-flight requests finish; they get no new
 * ones).  For HAProxy, each backend is put on a slot by address (a slot
 * already on that address keeps it, else a slot in maintenance is
 * taken), weights are set, and slots left out go to state drain; the
 * change is not atomic there (HAProxy has no transaction for it), so
 * the new servers are made ready before the old ones drain.
 * Errors: FERR_IO (unreachable, refused: the proxy's JSON "error"),
 * FERR_LIMIT "haproxy backend 'be' has no free server slot (declare
 * more, e.g. server-template app 10 127.0.0.1:1 disabled)".
 */
enum ferr_code traffic_set(struct traffic *t, const struct traffic_backend *b,
                           size_t n, struct ferr *err) FERR_MUST_CHECK;

/**
 * The current set with counters, draining backends included.  *@out is
 * the caller's (traffic_backends_free), *@out_n its length.
 * Errors: FERR_IO, FERR_PARSE for an answer that is not the expected
 * shape.
 */
enum ferr_code traffic_get(struct traffic *t, struct traffic_backend **out,
                           size_t *out_n, struct ferr *err) FERR_MUST_CHECK;

/** Free an array from traffic_get. */
void traffic_backends_free(struct traffic_backend *b, size_t n);

/**
 * Wait until every backend whose address is in @addrs[0..@n) has no
 * request in flight (or is gone from the set), polling every 100 ms,
 * for at most @timeout_ms.
 * Errors: FERR_IO from traffic_get; FERR_IO "backend 127.0.0.1:8081
 * still has 2 requests in flight after 30000 ms".
 */
enum ferr_code traffic_wait_drained(struct traffic *t,
                                    const char *const *addrs, size_t n,
                                    unsigned timeout_ms,
                                    struct ferr *err) FERR_MUST_CHECK;

/**
 * Parse ferry proxy's answer to GET /backends (@text, @len bytes:
 * {"backends":[{"name","addr","weight","state","requests","errors_5xx",
 * "active"}]}; name and addr are required, the rest default to 0/"").
 * Pure: no I/O.  *@out is the caller's (traffic_backends_free).
 * Errors: FERR_PARSE for JSON that is not that shape, FERR_LIMIT over
 * LIM_PROXY_BACKENDS backends; *@out is NULL and *@out_n 0.
 */
enum ferr_code traffic_parse_ferry_answer(const char *text, size_t len,
                                          struct traffic_backend **out,
                                          size_t *out_n,
                                          struct ferr *err) FERR_MUST_CHECK;

/**
 * Parse HAProxy's `show stat` CSV (@text, @len bytes; the "# pxname,…"
 * header names the columns, so any HAProxy version's column order works)
 * and return every server slot of @backend, the unused ones too: state
 * "ready" (UP, no check), "draining" (DRAIN, NOLB), "down" (DOWN) or
 * "maint" (MAINT: a free slot); requests is req_tot (stot when HAProxy
 * leaves req_tot empty), errors_5xx hrsp_5xx, active scur, weight the
 * effective weight.  Pure: no I/O.  *@out is the caller's.
 * Errors: FERR_PARSE for an answer that is not that CSV (HAProxy's own
 * error text is quoted), FERR_LIMIT over LIM_PROXY_BACKENDS slots;
 * *@out is NULL and *@out_n 0.
 */
enum ferr_code traffic_parse_haproxy_stat(const char *text, size_t len,
                                          const char *backend,
                                          struct traffic_backend **out,
                                          size_t *out_n,
                                          struct ferr *err) FERR_MUST_CHECK;

#endif
