/* client: the HTTP client of ferry's API for the client verbs.  libcurl is
 * loaded with dlopen at first use, so `ferry serve` and `ferry run` never
 * map it; the Server-Sent Events parser behind client_follow is exposed for
 * tests and fuzzing. */
#ifndef FERRY_CLI_CLIENT_H
#define FERRY_CLI_CLIENT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/buf.h"
#include "util/ferr.h"

struct client;

/**
 * Load libcurl from @soname (NULL: "libcurl.so.4") unless it is already
 * loaded.  client_new calls it; tests call it with a missing name.
 * Errors: FERR_UNSUPPORTED "libcurl is not installed (apt-get install
 * libcurl4)" when the library or one of its functions is absent; nothing
 * is kept then, so a later call may succeed.
 * Context: not thread-safe (it runs curl_global_init); the CLI's main
 * thread only.
 */
enum ferr_code client_load_curl(const char *soname,
                                struct ferr *err) FERR_MUST_CHECK;

/**
 * A client of the server at @server: "http://HOST[:PORT][/PREFIX]",
 * "https://…", or "unix:/PATH" (HTTP over a Unix socket); NULL reads
 * $FERRY_SERVER.  @token is the bearer token; NULL reads $FERRY_TOKEN;
 * with neither (or ""), requests go without Authorization.  Both are
 * copied.  *@out is the caller's (client_free).
 * Errors: FERR_USAGE "no server: set FERRY_SERVER or pass --server" when
 * there is no server, FERR_USAGE "bad server URL '…'" for anything else
 * than the forms above, FERR_USAGE for a token holding a line break,
 * FERR_UNSUPPORTED when libcurl is absent; *@out is NULL on error.
 */
enum ferr_code client_new(const char *server, const char *token,
                          struct client **out,
                          struct ferr *err) FERR_MUST_CHECK;

/** Wait @ms milliseconds (a client's pause between polls or reconnects;
 *  never for the daemon's loop). */
void client_pause_ms(long ms);

/** Free @c (NULL is a no-op). */
void client_free(struct client *c);

/** The server as given (for messages and the git hook); borrowed. */
const char *client_server(const struct client *c);

/** Whether @c sends a token. */
bool client_has_token(const struct client *c);

/**
 * Give up on any later request of @c that takes longer than @ms in all
 * (0, the default: no total limit; connecting is always limited to 10 s
 * and a plain request that receives nothing for 60 s is abandoned).
 * client_follow ignores it.
 */
void client_set_timeout(struct client *c, long ms);

/**
 * Append @s to @b percent-encoded for a path segment or a query value:
 * every byte but A-Z a-z 0-9 - . _ ~ becomes %XX.
 * Errors: FERR_LIMIT from @b (its contents are then unchanged).
 */
enum ferr_code client_escape(struct buf *b, const char *s) FERR_MUST_CHECK;

/**
 * One request: @method ("GET", "POST", "PUT", "DELETE", …) on @path (which
 * starts with '/', query included) with @len bytes of @body (@body may be
 * NULL) and the extra @headers ("Name: value", NULL-terminated; the array
 * may be NULL).  *@out_status gets the HTTP status (0 on a transport
 * error); the response body, whatever the status, is appended to @out.
 * Errors: FERR_IO for transport failures ("cannot reach http://…:
 * Connection refused"), FERR_LIMIT when the body exceeds @out's max (what
 * fit stays in @out), FERR_USAGE for a @path that does not start with '/'.
 * Context: one request at a time per client; blocking.
 */
enum ferr_code client_request(struct client *c, const char *method,
                              const char *path, const char *body, size_t len,
                              const char *const *headers, long *out_status,
                              struct buf *out,
                              struct ferr *err) FERR_MUST_CHECK;

/**
 * Like client_request, but a 2xx body goes to @to as it arrives (for logs
 * and downloads of any size).  A status >= 300 becomes an error as in
 * client_json.  Errors: those of client_request, FERR_IO when writing @to
 * fails, and client_json's for HTTP errors.
 */
enum ferr_code client_download(struct client *c, const char *path, FILE *to,
                               long *out_status,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * JSON round trip: @body is borrowed (NULL: no body).  A status >= 400
 * becomes an error whose message is the server's "error" field plus
 * " (HTTP 404)": FERR_NOTFOUND for 404, FERR_USAGE for 401/403 ("not
 * allowed: …"), FERR_INVALID otherwise (also for 3xx).  A 2xx answer with
 * a JSON body gives *@out (a new reference, the caller's); 204 or an
 * empty body gives NULL.  Errors also: client_request's, FERR_PARSE when
 * a 2xx body is not JSON.  *@out is NULL on error; *@out_status (may be
 * NULL) is always set.
 */
enum ferr_code client_json(struct client *c, const char *method,
                           const char *path, json_t *body, long *out_status,
                           json_t **out, struct ferr *err) FERR_MUST_CHECK;

/** Called for each complete event: @id is the last event id ("" when
 *  none), @event the type ("message" when not given), @data the data
 *  lines joined with '\n'; all borrowed for the call.  Non-zero stops. */
typedef int (*client_event_fn)(void *ud, const char *id, const char *event,
                               const char *data);

/**
 * Follow the Server-Sent Events at @path (Accept: text/event-stream, and
 * Last-Event-ID: @last_id when not NULL or ""), calling @on_event for each
 * event until the stream ends after an "end" event or @on_event returns
 * non-zero (both FERR_OK).  When the connection drops or the stream ends
 * before an "end" event, it reconnects with the last id seen, waiting 1 s
 * between tries; it gives up after 5 tries in a row that brought no event.
 * A 503 answer is retried the same way.
 * Errors: client_request's for the first connection; then HTTP errors as
 * in client_json; FERR_IO when the stream keeps breaking; FERR_INVALID
 * when the answer is not text/event-stream; FERR_LIMIT from the parser.
 * Context: blocks until the end; @on_event runs inside the transfer, so
 * it must not make requests on @c (another client may).
 */
enum ferr_code client_follow(struct client *c, const char *path,
                             const char *last_id, client_event_fn on_event,
                             void *ud, struct ferr *err) FERR_MUST_CHECK;

/* ---- the Server-Sent Events parser ---- */

struct client_sse;

/**
 * A parser that delivers events to @on_event(@ud, …) (WHATWG HTML
 * "event stream interpretation": field:value lines, one optional space
 * after the colon, ':' comments, CRLF/LF/CR line ends, a blank line
 * dispatches, data lines joined with '\n', an "id" holding NUL ignored,
 * events without data not dispatched).  Bytes are passed through as they
 * are (no UTF-8 repair); a leading BOM is dropped.  Since @on_event gets
 * C strings, an "event" holding NUL is ignored too, and data holding NUL
 * arrives cut at the first one.  Caller frees it (client_sse_free).
 */
struct client_sse *client_sse_new(client_event_fn on_event, void *ud);

/**
 * Feed @len bytes of the stream, in chunks of any size.  Once @on_event
 * returns non-zero, the rest is ignored (FERR_OK) and client_sse_stopped
 * tells the value.
 * Errors: FERR_LIMIT for a line over LIM_LOG_LINE * 2 bytes or an event's
 * data over LIM_SSE_BACKLOG; the parser then refuses every feed (the same
 * error) until client_sse_reset.
 */
enum ferr_code client_sse_feed(struct client_sse *p, const void *data,
                               size_t len, struct ferr *err) FERR_MUST_CHECK;

/**
 * Start a new connection's stream: drop the partial line and the event
 * being assembled (an event cut by the end of a stream is never
 * dispatched), the stop and the error; keep the last event id.
 */
void client_sse_reset(struct client_sse *p);

/** The last event id the stream set ("" when none); borrowed until the
 *  next feed. */
const char *client_sse_last_id(const struct client_sse *p);

/** The non-zero value @on_event stopped with, else 0. */
int client_sse_stopped(const struct client_sse *p);

/** Free @p (NULL is a no-op). */
void client_sse_free(struct client_sse *p);

#endif
