/* html: the dashboard's HTML building blocks — escaping, the page
 * layout with its stylesheet, status badges, times and durations.  Pure:
 * it appends to a struct buf and does no I/O; the server's dash*.c files
 * decide what goes on a page. */
#ifndef FERRY_WEB_HTML_H
#define FERRY_WEB_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/buf.h"

/** What the layout shows around a page's body (all borrowed). */
struct html_page {
    const char *title; /* <title> and <h1> */
    const char *nav;   /* the current section (see dash_page) or NULL */
    const char *user;  /* the token's name, NULL on the login page */
    const char *role;  /* "viewer" ... "admin" */
    const char *csrf;  /* for the logout form; NULL: no form */
};

/** Append @s escaped for HTML text and attribute values (& < > " '). */
void html_esc(struct buf *b, const char *s);
/** The same for @n bytes of @s (invalid UTF-8 replaced by U+FFFD). */
void html_escn(struct buf *b, const char *s, size_t n);
/** Append the doctype, head (title, inline stylesheet), header and
 *  navigation, and open <main>. */
void html_page_begin(struct buf *b, const struct html_page *p);
/** Close <main> and the document. */
void html_page_end(struct buf *b);
/** A status badge for a run, job, step or deployment: <span
 *  class="badge b-CLASS">TEXT</span>, where the text is @conclusion when
 *  set, else @status. */
void html_badge(struct buf *b, const char *status, const char *conclusion);
/** <time datetime="@rfc3339">…</time> in UTC, or "—" for NULL. */
void html_time(struct buf *b, const char *rfc3339);
/** A duration such as "850 ms", "12.3 s", "4 min 05 s", "2 h 10 min". */
void html_duration(struct buf *b, int64_t ms);

/*
 * Additions (dash helper).  Every html_* append is all or nothing; when
 * one does not fit under the buffer's max, the buffer is closed (its max
 * is lowered to its length), so nothing after it lands either and the
 * page is never cut in the middle of a tag: html_full() tells.  A
 * buffer that was closed keeps its lowered max across buf_release.
 */

/** True when an append to @b did not fit (the buffer is closed). */
bool html_full(const struct buf *b);
/** Append @raw as it is (markup the caller wrote; never outside text). */
void html_add(struct buf *b, const char *raw);
/** Append printf-style markup.  Strings from outside must not go
 *  through %s here: escape them with html_esc. */
void html_addf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/** Escape @n bytes of a log line as html_escn does, dropping terminal
 *  escape sequences (ESC [ ... final byte, ESC ] ... BEL/ST, and other
 *  ESC pairs) that colour tools' output. */
void html_esc_log(struct buf *b, const char *s, size_t n);
/** Append @s percent-encoded for a URL query value or path segment
 *  (everything but A-Z a-z 0-9 - . _ ~ is %XX). */
void html_urlenc(struct buf *b, const char *s);
/** html_time for a time in ms since the epoch (0 or less: "—"). */
void html_time_ms(struct buf *b, int64_t ms);
/** Format @ms since the epoch as RFC 3339 UTC with milliseconds
 *  ("2024-05-01T12:00:03.250Z") into @out; "" for 0 or less. */
void html_rfc3339(int64_t ms, char out[32]);
/** The CSS class word for a status: "success", "failure", ... as they
 *  are when they are lowercase letters, digits, '_' or '-' (at most 32),
 *  else "other". */
const char *html_state_class(const char *state);

#endif
