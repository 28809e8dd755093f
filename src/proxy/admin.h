/* admin: `ferry proxy`'s admin API — JSON over HTTP/1.1 on a loopback
 * address or a unix socket (GET/PUT /backends, POST /backends/NAME/drain,
 * GET /stats, GET /healthz), and the state file that keeps the backend
 * set across restarts.  It runs on the proxy's loop. */
#ifndef FERRY_PROXY_ADMIN_H
#define FERRY_PROXY_ADMIN_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "proxy/backend.h"
#include "proxy/proxy.h"
#include "util/ferr.h"

struct admin;

/**
 * Listen on @addr ("HOST:PORT" on a loopback address, port 0 = any, or
 * "unix:/PATH": a stale socket file there is replaced, the new one is
 * mode 0600 and removed by admin_free) on @px's loop.  With @state_path
 * (NULL = none) the set it holds is loaded into @px first (a missing
 * file is an empty set) and every later change is saved there.
 * Ownership: @px is borrowed and must outlive the admin; *@out is the
 * caller's (admin_free).
 * Errors: FERR_INVALID (address not loopback or malformed), FERR_IO
 * (bind, reading the state file), FERR_PARSE (state file not valid);
 * *@out is NULL.  Context: main thread, before proxy_run.
 */
enum ferr_code admin_new(struct proxy *px, const char *addr,
                         const char *state_path, struct admin **out,
                         struct ferr *err) FERR_MUST_CHECK;

/** Close the listener and connections, remove a unix socket file, free
 *  @a (NULL is a no-op).  The state file stays. */
void admin_free(struct admin *a);

/** The bound address: "127.0.0.1:PORT", "[::1]:PORT" or "unix:/PATH"
 *  (borrowed, valid until admin_free). */
const char *admin_addr(const struct admin *a);

/**
 * Parse a PUT /backends body (or a state file): {"backends":[{"name":S,
 * "addr":S,"weight":N}]}, weight optional (default 1), other keys
 * ignored.  *@out (and the strings it points to, in one block) is the
 * caller's: free(*@out).  Only the shape is checked here; names,
 * addresses and weights are checked by backend_reg_replace.
 * Errors: FERR_PARSE naming what is wrong, FERR_LIMIT over
 * LIM_PROXY_BACKENDS; *@out is NULL and *@out_n 0.  Pure; any thread.
 */
enum ferr_code admin_parse_backends(const char *text, size_t len,
                                    struct backend_spec **out, size_t *out_n,
                                    struct ferr *err) FERR_MUST_CHECK;

/**
 * One backend as JSON: name, addr, weight, state ("ready" in the set,
 * else "draining"), requests, errors_5xx, active; with @stats also
 * connect_errors and latency {buckets:[{le,count}] cumulative, le as
 * strings "0.001" … "+Inf"; sum in seconds; count}.  New reference.
 */
json_t *admin_backend_json(const struct backend *be, bool stats);

/** {"backends":[…]} of every listed backend (set order, then the
 *  draining ones with requests in flight).  New reference. */
json_t *admin_backends_json(const struct backend_reg *reg, bool stats);

#endif
