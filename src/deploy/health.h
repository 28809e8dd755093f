/* health: is one instance of an application healthy?  HTTP (status and
 * a body substring), TCP connect, or a command's exit status, probed
 * every interval until a run of successes (healthy) or of failures
 * (unhealthy) or a deadline.  Blocking: it runs in the deploy step's own
 * process, never in the server. */
#ifndef FERRY_DEPLOY_HEALTH_H
#define FERRY_DEPLOY_HEALTH_H

#include <stdbool.h>

#include "util/ferr.h"

enum health_kind { HEALTH_HTTP, HEALTH_TCP, HEALTH_EXEC };

/** A check; the owner frees the strings with health_spec_release. */
struct health_spec {
    enum health_kind kind;
    char *path;            /* http: "/healthz", or a full http(s):// URL
                              (then the instance's host:port is unused) */
    int status;            /* http: the status wanted; 0: any 200-399 */
    char *body;            /* http: a substring the body must hold; NULL */
    char *command;         /* exec: run by /bin/sh -c with HOST and PORT
                              in its environment; exit 0 is healthy */
    unsigned interval_ms;  /* between probes; default 1000 */
    unsigned timeout_ms;   /* one probe; default 2000 */
    unsigned successes;    /* consecutive successes = healthy; default 1 */
    unsigned failures;     /* consecutive failures = unhealthy; default 3 */
    unsigned deadline_ms;  /* give up (unhealthy) after; default 60000 */
};

/**
 * Fill @s from the deploy step's text inputs: @check is "http:PATH" or
 * "http://…" or "https://…", "tcp", or "exec:COMMAND"; the other
 * arguments may be NULL (defaults above) and are "200", "ok", "1s"/
 * "500ms"/"2m", and counts as decimal text.  Each is named in errors as
 * the input it came from: "input 'health': unknown check 'htp:/x'
 * (http:PATH, tcp, exec:COMMAND)", "input 'health-interval': bad
 * duration '1x'".
 * The inputs, in order: 'health', 'health-status', 'health-body',
 * 'health-interval', 'health-timeout', 'health-successes',
 * 'health-failures', 'health-deadline'.  An empty string counts as
 * NULL (GitHub passes unset inputs as "").  Durations are read by
 * health_parse_duration; a PATH starts with '/'; a status is 100-599;
 * counts are 1 to 1000000.  'health-status' and 'health-body' with a
 * check that is not http are refused (they would check nothing).
 * Ownership: @s is initialised and its strings are its own, also on
 * error (release it either way).
 * Errors: FERR_INVALID as above.
 */
enum ferr_code health_spec_parse(struct health_spec *s, const char *check,
                                 const char *status, const char *body,
                                 const char *interval, const char *timeout,
                                 const char *successes, const char *failures,
                                 const char *deadline,
                                 struct ferr *err) FERR_MUST_CHECK;

/** Free the strings of @s and zero it. */
void health_spec_release(struct health_spec *s);

/**
 * Parse @text, the value of the step input @name, as a duration in *@out_ms:
 * a whole number followed by "ms", "s", "m" or "h" ("500ms", "1s", "2m",
 * "1h"); a plain number is seconds ("30" is 30 s).  Spaces around it are
 * ignored; fractions ("1.5s") and a space before the unit are not taken.
 * It must be more than 0 and at most 24 h.
 * Errors: FERR_INVALID "input 'health-interval': bad duration '1x' (…)";
 * *@out_ms is 0 then.  (analysis uses it for its own inputs.)
 */
enum ferr_code health_parse_duration(const char *name, const char *text,
                                     unsigned *out_ms,
                                     struct ferr *err) FERR_MUST_CHECK;

/**
 * One probe of the instance at @host:@port (@host NULL: "127.0.0.1"; an
 * IPv6 literal goes in brackets in URLs).  http: a GET of PATH with the
 * timeout; no redirect is followed (a 302 is its status), and only the
 * first LIM_HEALTH_BODY bytes are searched for the body.  tcp: a connect
 * within the timeout.  exec: /bin/sh -c COMMAND with HOST and PORT set,
 * as a new process group that is killed (SIGKILL) at the timeout, and
 * also once the shell ends, so nothing it started is left; the last line
 * of its output (stdout and stderr) follows the exit status in the why.
 * FERR_OK when healthy; FERR_NOTFOUND when nothing listens there
 * ("connect 127.0.0.1:8081: Connection refused"); otherwise FERR_IO
 * with why, e.g. "GET /healthz: status 500, wanted 200", "GET /healthz:
 * body does not contain 'ok'", "exit status 1", "timed out after 2000
 * ms".
 */
enum ferr_code health_probe(const struct health_spec *s, const char *host,
                            unsigned port, struct ferr *err) FERR_MUST_CHECK;

/** Told about each probe (@ok and, when not ok, @why); may be NULL. */
typedef void (*health_log_fn)(void *ud, bool ok, const char *why);

/**
 * Probe every interval until @s->successes successes in a row (FERR_OK),
 * or @s->failures failures in a row or the deadline (FERR_IO "unhealthy
 * after 3 failed probes: <last why>" / "not healthy within 60 s: <last
 * why>").  Until the instance has answered once, refused connections do
 * not count as failures (it is starting: only the deadline bounds
 * that); wrong answers, timeouts and failed commands always count.
 * Probes start @s->interval_ms apart (at once when one took
 * longer); the first starts at once; none starts at or after the
 * deadline, and a probe's timeout is cut to the time left before it.
 * @log (may be NULL) hears of each probe as it ends.
 * Context: blocks the calling thread (clock_nanosleep between probes).
 */
enum ferr_code health_wait(const struct health_spec *s, const char *host,
                           unsigned port, health_log_fn log, void *ud,
                           struct ferr *err) FERR_MUST_CHECK;

#endif
