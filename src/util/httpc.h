/* httpc: one blocking HTTP request through libcurl, which is loaded with
 * dlopen at first use (so `ferry serve` and `ferry proxy` never map it).
 * For the deploy steps (health checks, the proxy's admin API, Prometheus)
 * and, through httpc_curl(), the API client of the CLI.  It keeps no
 * connection between calls and follows no redirect. */
#ifndef FERRY_UTIL_HTTPC_H
#define FERRY_UTIL_HTTPC_H

#include <stddef.h>

#include "util/buf.h"
#include "util/ferr.h"

/**
 * Load libcurl from @soname (NULL: "libcurl.so.4") unless it is loaded.
 * Errors: FERR_UNSUPPORTED "libcurl is not installed (apt-get install
 * libcurl4)"; nothing is kept then, so a later call may succeed.
 * Context: not thread-safe (curl_global_init); call from the main thread
 * before any other thread exists.
 */
enum ferr_code httpc_load(const char *soname, struct ferr *err) FERR_MUST_CHECK;

/*
 * The libcurl functions ferry uses, resolved once by httpc_load and kept
 * for the process.  The table's layout needs libcurl's types, so it is
 * declared only where <curl/curl.h> was included before this header
 * (its include path comes from `pkg-config --cflags libcurl`; we never
 * link -lcurl); elsewhere struct httpc_curl stays incomplete.
 */
#if defined(CURLINC_CURL_H) || defined(__CURL_CURL_H)
struct httpc_curl {
    CURLcode (*global_init)(long flags);
    CURL *(*easy_init)(void);
    CURLcode (*easy_setopt)(CURL *h, CURLoption opt, ...);
    CURLcode (*easy_perform)(CURL *h);
    CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
    void (*easy_reset)(CURL *h);
    void (*easy_cleanup)(CURL *h);
    const char *(*easy_strerror)(CURLcode code);
    struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
    void (*slist_free_all)(struct curl_slist *l);
};
#endif
struct httpc_curl;

/**
 * The function table of the loaded libcurl, for callers that drive easy
 * handles themselves (the CLI's API client keeps one per client and
 * streams).  NULL until httpc_load (or httpc_do) succeeded; then the same
 * pointer for the life of the process (borrowed, never freed).
 * Context: any thread once loaded; reading it races with a first load.
 */
const struct httpc_curl *httpc_curl(void);

/** What one request is (all borrowed for the call). */
struct httpc_req {
    const char *method;          /* NULL: "GET" */
    const char *url;             /* "http://HOST:PORT/PATH?Q" or https */
    const char *unix_socket;     /* NULL, or HTTP over this socket path */
    const char *const *headers;  /* "Name: value", NULL-terminated; NULL */
    const char *body;            /* NULL: none */
    size_t body_len;
    long timeout_ms;             /* whole request; 0: 30000 */
};

/**
 * Send @req and append the response body to @out (whatever the status);
 * *@out_status gets the HTTP status, 0 on a transport error.
 * Errors: FERR_NOTFOUND when the connection is refused (nothing listens
 * there: "cannot reach http://127.0.0.1:8080/healthz: Connection
 * refused"), FERR_IO for the other transport failures, with curl's
 * reason ("… timed out after 2000 ms"); FERR_LIMIT when the body exceeds @out's max (what fit
 * stays); FERR_USAGE for a URL that is not http:// or https://;
 * FERR_UNSUPPORTED when libcurl is absent (httpc_load is called first).
 * Context: any one thread at a time per call; blocking.
 */
enum ferr_code httpc_do(const struct httpc_req *req, long *out_status,
                        struct buf *out, struct ferr *err) FERR_MUST_CHECK;

/** One e-mail to send (all borrowed for the call). */
struct httpc_mail {
    const char *url;            /* "smtp://HOST:PORT" or "smtps://…" */
    const char *from;           /* envelope sender, a bare address */
    const char *const *to;      /* envelope recipients, bare addresses */
    size_t n_to;                /* >= 1 */
    const char *username;       /* NULL: no AUTH */
    const char *password;       /* with @username */
    const char *msg;            /* the message: headers, CRLF, body (CRLF) */
    size_t msg_len;
    long timeout_ms;            /* whole transfer; 0: 30000 */
};

/**
 * Send @m over SMTP with libcurl (STARTTLS when the server offers it on
 * smtp://; TLS from the start on smtps://).  libcurl does the
 * dot-stuffing; @m->msg must already be a valid RFC 5322 message.
 * Errors: FERR_USAGE for a URL that is not smtp:// or smtps:// or no
 * recipient; FERR_NOTFOUND when the connection is refused; FERR_IO for
 * other failures, with the server's or curl's reason ("RCPT failed:
 * 550"); FERR_UNSUPPORTED when libcurl is absent.
 * Context: any one thread at a time per call; blocking.
 */
enum ferr_code httpc_smtp_send(const struct httpc_mail *m,
                               struct ferr *err) FERR_MUST_CHECK;

#endif
