/* httpd: the HTTP server of `ferry serve` — libmicrohttpd driven by our
 * own loop (no threads), one handler call per complete request, JSON
 * helpers and long-lived streams (Server-Sent Events). */
#ifndef FERRY_SERVER_HTTPD_H
#define FERRY_SERVER_HTTPD_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"
#include "util/ferr.h"
#include "util/loop.h"
#include "util/span.h"

struct httpd;
struct httpd_req;
struct httpd_stream;

struct httpd_opts {
    const char *listen; /* "127.0.0.1:8080", "[::1]:0", "0.0.0.0:0";
                           port 0 = any free port; numeric hosts only */
    /* max body bytes for a request; NULL = LIM_API_BODY (1 MiB).  Called
     * once per request when its headers are in, with the handler's ud,
     * the method and the raw path (as httpd_req_path). */
    size_t (*body_limit)(void *ud, const char *method, const char *path);
    unsigned max_connections; /* 0 = LIM_HTTP_CONNECTIONS */
    unsigned timeout_s;       /* idle connection timeout, 0 = 30; streams
                                 are exempt until httpd_stream_end */
    unsigned heartbeat_ms;    /* SSE_HEARTBEAT to idle text/event-stream
                                 streams; 0 = 15000 */
};

/** Called on the loop thread once per request, after its whole body
 *  arrived; must call exactly one httpd_respond* before returning. */
typedef void (*httpd_handler)(void *ud, struct httpd_req *req);

/**
 * Listen on @o->listen (exactly that address; SO_REUSEADDR, so a restart
 * does not wait for TIME_WAIT, but never SO_REUSEPORT: a second server
 * on the same port fails) and serve requests through @h on @loop.
 * @o is read during the call only; @loop and @ud are borrowed and must
 * outlive the server.  The process should have run loop_block_signals
 * (SIGPIPE ignored); if SIGPIPE is not ignored MHD avoids sendfile.
 * Ownership: *@out is the caller's (httpd_stop).
 * Errors: FERR_USAGE for a malformed address ("bad listen address 'x':
 * ..."), FERR_IO when the socket cannot be bound or the server not
 * started (the message has MHD's reason); *@out is NULL.
 * Context: loop thread.
 */
enum ferr_code httpd_start(struct loop *loop, const struct httpd_opts *o,
                           httpd_handler h, void *ud, struct httpd **out,
                           struct ferr *err) FERR_MUST_CHECK;

/** The bound TCP port (useful with port 0). */
int httpd_port(const struct httpd *h);

/**
 * Close the listening socket and every connection, end every stream
 * (their on_close is called, in here), and free @h.  NULL is a no-op.
 * Context: loop thread, not from inside a handler or an on_close.
 */
void httpd_stop(struct httpd *h);

/** Times MHD_run was called (diagnostics: an idle server stays put). */
unsigned long httpd_run_count(const struct httpd *h);

/*
 * Requests.  A struct httpd_req and everything it returns are valid
 * inside the handler call only (strings live in the request's arena).
 */

/** The method ("GET", "POST", ...). */
const char *httpd_req_method(const struct httpd_req *r);
/** The path as received, without the query; NOT percent-decoded. */
const char *httpd_req_path(const struct httpd_req *r);
/** Header @name (case-insensitive; the first one when repeated), NULL
 *  when absent. */
const char *httpd_req_header(const struct httpd_req *r, const char *name);
/**
 * Query parameter @name (exact, after decoding): its value with %XX and
 * '+' decoded (a bad escape stays as it is; a value with %00 ends
 * there), "" for "?name" without '=', NULL when absent.  The first one
 * wins when repeated.
 */
const char *httpd_req_query(const struct httpd_req *r, const char *name);
/** The body (empty for none); NUL-terminated after len. */
struct span httpd_req_body(const struct httpd_req *r);
/** The request's arena, freed when the request completes. */
struct arena *httpd_req_arena(struct httpd_req *r);

/*
 * Responses: call exactly one httpd_respond* per request, from its
 * handler.  A second one is logged and ignored (what it adopts is
 * still released).  Every response carries Cache-Control: no-store and
 * X-Content-Type-Options: nosniff; @status must be 200..599 (else 500).
 */

/** Add a header to the response; before the httpd_respond* call.  Both
 *  strings are copied; one with CR or LF is logged and dropped. */
void httpd_req_add_header(struct httpd_req *r, const char *name,
                          const char *value);
/** Answer with @len bytes of @body (copied; may be NULL when @len is 0)
 *  and Content-Type @content_type (NULL = none, e.g. for a 204). */
void httpd_respond(struct httpd_req *r, int status, const char *content_type,
                   const void *body, size_t len);
/** Answer with @body as compact JSON (application/json).  Adopts @body
 *  (json_decref'd); NULL gives 500 {"error":"internal error"}. */
void httpd_respond_json(struct httpd_req *r, int status, json_t *body);
/** Answer {"error": message} (invalid UTF-8 in it becomes U+FFFD). */
void httpd_respond_error(struct httpd_req *r, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/**
 * Answer with the first @size bytes of the regular file @fd (file
 * download; sendfile where it can).  Adopts @fd: it is closed even on
 * error (then the answer is a 500).
 */
void httpd_respond_fd(struct httpd_req *r, int status, const char *content_type,
                      int fd, uint64_t size);

/**
 * Start a long response (chunked for HTTP/1.1) whose bytes are written
 * later with httpd_stream_write, also from outside the handler.  The
 * connection has no idle timeout until httpd_stream_end.  For a
 * @content_type of text/event-stream httpd writes SSE_HEARTBEAT
 * (server/sse.h) whenever nothing was written for heartbeat_ms.
 *
 * @on_close(@ud) is called exactly once, on the loop thread: when the
 * client disconnects (a suspended stream watches its socket, so this is
 * noticed at once; otherwise at the next write or heartbeat), when the
 * bytes queued before httpd_stream_end have been sent, or in
 * httpd_stop.  The stream is invalid after on_close; inside on_close,
 * httpd_stream_* calls on it are harmless no-ops.
 *
 * Returns NULL (and on_close is never called) when the request already
 * has a response or the stream cannot be set up.
 */
struct httpd_stream *httpd_respond_stream(struct httpd_req *r, int status,
                                          const char *content_type,
                                          void (*on_close)(void *ud), void *ud);
/**
 * Queue @len bytes of @data (copied) and wake the connection.
 * Errors: FERR_LIMIT when more than LIM_SSE_BACKLOG bytes would be
 * queued (a slow client: nothing is queued and the caller should end
 * the stream, which then closes at once instead of flushing);
 * FERR_INVALID after httpd_stream_end; FERR_IO when the client is gone
 * (on_close follows soon).  Context: loop thread, also inside handlers.
 */
enum ferr_code httpd_stream_write(struct httpd_stream *s, const void *data,
                                  size_t len);
/** Bytes queued by httpd_stream_write and not yet taken by MHD (its
 *  own buffer and the socket's are not counted); 0 for NULL. */
size_t httpd_stream_pending(const struct httpd_stream *s);
/**
 * Finish after the queued bytes are sent (at once after a FERR_LIMIT);
 * on_close is then called once, later.  A second call is a no-op.  The
 * connection's idle timeout applies again, so a client that stops
 * reading is closed after timeout_s.  Context: loop thread.
 */
void httpd_stream_end(struct httpd_stream *s);

#endif
