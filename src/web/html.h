/* html: the dashboard's HTML building blocks — escaping, the page
 * layout with its stylesheet, status badges, times and durations.  Pure:
 * it appends to a struct buf and does no I/O; the server's dash*.c files
 * decide what goes on a page. */
#ifndef FERRY_WEB_HTML_H
#define FERRY_WEB_HTML_H

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

#endif
