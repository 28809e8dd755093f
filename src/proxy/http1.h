/* http1: the HTTP/1.1 message heads `ferry proxy` reads and writes —
 * request and response head parsers, the chunked-framing tracker and the
 * head rewriters (hop-by-hop fields out, X-Forwarded-* in).  Pure
 * functions over caller memory: no I/O, no allocation. */
#ifndef FERRY_PROXY_HTTP1_H
#define FERRY_PROXY_HTTP1_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/limits.h"
#include "util/span.h"

#define HTTP1_MAX_CONN_TOKENS 16u /* options in Connection fields */

/** Outcome of a parse step. */
enum http1_rc {
    HTTP1_OK = 0, /* complete */
    HTTP1_AGAIN,  /* well-formed so far: more bytes needed */
    HTTP1_BAD,    /* malformed or over a limit: see error_status */
};

/** How a message body ends. */
enum http1_framing {
    HTTP1_NONE,    /* no body */
    HTTP1_LENGTH,  /* content_length bytes */
    HTTP1_CHUNKED, /* chunked transfer coding, passed through as is */
    HTTP1_CLOSE,   /* until the sender closes (responses only) */
};

struct http1_header {
    struct span name;  /* a token, as received */
    struct span value; /* without surrounding whitespace */
};

/** A parsed request head.  Spans borrow the parsed bytes. */
struct http1_req {
    struct span method;
    struct span target;  /* origin-form ("/x?y"), "*", absolute-form
                            reduced to its path */
    struct span host;    /* the absolute-form authority, else Host; may
                            be empty for HTTP/1.0 */
    unsigned minor;      /* HTTP/1.<minor>: 0 or 1 */
    size_t head_len;     /* bytes up to and including the empty line */
    size_t nhdr;
    struct http1_header hdr[LIM_PROXY_HEADERS];
    size_t nconn;        /* options named in Connection */
    struct span conn[HTTP1_MAX_CONN_TOKENS];
    enum http1_framing framing;  /* NONE, LENGTH or CHUNKED */
    uint64_t content_length;     /* for HTTP1_LENGTH */
    bool keep_alive;     /* the client wants the connection kept */
    bool is_head;        /* method HEAD: the response has no body */
    bool idempotent;     /* safe to send again (RFC 9110 §9.2.2) */
    bool expect_continue; /* Expect: 100-continue */
    int error_status;    /* with HTTP1_BAD: 400, 413, 431, 501 or 505 */
    const char *error;   /* with HTTP1_BAD: static lowercase reason */
};

/** A parsed response head.  Spans borrow the parsed bytes. */
struct http1_resp {
    unsigned status;     /* 100..999 */
    struct span reason;
    unsigned minor;
    size_t head_len;
    size_t nhdr;
    struct http1_header hdr[LIM_PROXY_HEADERS];
    size_t nconn;
    struct span conn[HTTP1_MAX_CONN_TOKENS];
    enum http1_framing framing;
    uint64_t content_length;
    bool keep_alive;     /* the connection may carry another request */
    const char *error;   /* with HTTP1_BAD: static lowercase reason */
};

/** What the proxy adds to a forwarded request. */
struct http1_fwd {
    struct span client_ip;    /* appended to X-Forwarded-For */
    struct span proto;        /* X-Forwarded-Proto, e.g. "http" */
    struct span default_host; /* Host when the request has none */
};

/** Progress through a chunked body (zero it to start). */
struct http1_chunked {
    unsigned state;
    uint64_t left;     /* bytes left in the current chunk */
    uint64_t total;    /* payload bytes so far */
    uint64_t max;      /* payload limit, 0 = none */
    uint32_t line;     /* bytes in the current size/trailer line */
    uint32_t trailers; /* bytes of trailer section so far */
    bool over_limit;   /* with HTTP1_BAD: total went over max */
};

/**
 * Parse the request head at the start of @p (@n bytes buffered).
 * Returns HTTP1_AGAIN while the head is incomplete but valid so far (the
 * request line is checked as soon as it is complete), HTTP1_OK with
 * *@out filled, or HTTP1_BAD with out->error_status and out->error: 400
 * malformed (also both Content-Length and Transfer-Encoding, a
 * Transfer-Encoding not ending in chunked, HTTP/1.1 without Host), 413
 * Content-Length over @max_body, 431 head over LIM_PROXY_HEAD or more
 * than LIM_PROXY_HEADERS fields, 501 CONNECT, 505 not HTTP/1.x.
 * Ownership: spans in *@out borrow @p.  Pure; any thread.
 */
enum http1_rc http1_parse_request(const char *p, size_t n, uint64_t max_body,
                                  struct http1_req *out);

/**
 * Parse the response head at the start of @p (@n bytes).  @head_request
 * says the request was HEAD (no body follows whatever the head says).
 * Returns HTTP1_AGAIN, HTTP1_OK, or HTTP1_BAD (with out->error) for a
 * malformed head, one over LIM_PROXY_HEAD or LIM_PROXY_HEADERS, or a bad
 * Content-Length.  Framing per RFC 9112 §6.3: 1xx, 204, 304 and HEAD
 * have none; Transfer-Encoding ending in chunked is CHUNKED, any other
 * Transfer-Encoding or no length is CLOSE.  Pure; any thread.
 */
enum http1_rc http1_parse_response(const char *p, size_t n,
                                   bool head_request, struct http1_resp *out);

/**
 * Feed @n bytes of a chunked body to @c.  Consumes *@used bytes (> 0
 * unless @n is 0): either a run of payload bytes (*@data == *@used) or a
 * run of framing bytes (*@data == 0).  Returns HTTP1_OK when the
 * consumed bytes end the body (last chunk and trailer section),
 * HTTP1_AGAIN otherwise, HTTP1_BAD on bad syntax (strict CRLF, at most 16
 * hex digits, extensions and trailers bounded) or c->max exceeded
 * (c->over_limit).  Pure; any thread.
 */
enum http1_rc http1_chunked_feed(struct http1_chunked *c, const char *p,
                                 size_t n, size_t *used, size_t *data);

/**
 * Write the head to send to a backend for @r into @out (@cap bytes):
 * "METHOD TARGET HTTP/1.1", Host first, the received fields minus the
 * hop-by-hop ones (Connection and the fields it names, Keep-Alive, TE,
 * Trailer, Upgrade, Proxy-Connection; the framing fields Content-Length
 * and Transfer-Encoding are always kept), X-Forwarded-For with
 * @f->client_ip appended, X-Forwarded-Proto and X-Forwarded-Host
 * replaced.  Returns the length, or 0 when it does not fit in @cap.
 * Pure; any thread.
 */
size_t http1_request_head(const struct http1_req *r, const struct http1_fwd *f,
                          char *out, size_t cap);

/**
 * Write the head to send to the client for @r into @out (@cap bytes):
 * "HTTP/1.1 STATUS REASON", the fields minus the hop-by-hop ones, then
 * "Connection: close" when !@keep_alive or "Connection: keep-alive" when
 * @keep_alive and @client_minor is 0.  With @dechunk the
 * Transfer-Encoding field is dropped too (the proxy removes the chunked
 * framing for an HTTP/1.0 client and closes after the body).  With a
 * Transfer-Encoding field, Content-Length is dropped (RFC 9112 §6.3).
 * Returns
 * the length, or 0 when it does not fit.  Pure; any thread.
 */
size_t http1_response_head(const struct http1_resp *r, unsigned client_minor,
                           bool keep_alive, bool dechunk, char *out,
                           size_t cap);

/**
 * A complete response the proxy makes itself ("HTTP/1.1 502 Bad
 * Gateway", Content-Type text/plain, Content-Length, Connection: close
 * unless @keep_alive) with body "@status REASON\n" into @out.  Returns
 * the length, or 0 when it does not fit.  Pure; any thread.
 */
size_t http1_error_response(int status, bool keep_alive, char *out,
                            size_t cap);

/** The standard reason phrase of @status ("Unknown" for others). */
const char *http1_reason(int status);

#endif
