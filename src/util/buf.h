/* buf: the one growable byte buffer.  Binary-safe, always NUL-terminated,
 * with a mandatory maximum size set at init. */
#ifndef FERRY_UTIL_BUF_H
#define FERRY_UTIL_BUF_H

#include <stdarg.h>
#include <stddef.h>

#include "util/ferr.h"
#include "util/span.h"

struct buf {
    char *p;    /* NUL-terminated when cap > 0; NULL before first growth */
    size_t len; /* bytes used, excluding the NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* hard limit on len; growing past it is FERR_LIMIT */
};

/** Initialise an empty buffer that may hold at most @max bytes. */
void buf_init(struct buf *b, size_t max);
/** Free the storage; @b can be buf_init'ed again. */
void buf_release(struct buf *b);
/** Empty the buffer, keeping its storage. */
void buf_reset(struct buf *b);
/** Make room for @n more bytes.  FERR_LIMIT if len + n > max. */
enum ferr_code buf_grow(struct buf *b, size_t n) FERR_MUST_CHECK;
/** Append.  On FERR_LIMIT the contents are unchanged. */
enum ferr_code buf_add(struct buf *b, const void *p, size_t n) FERR_MUST_CHECK;
enum ferr_code buf_adds(struct buf *b, const char *s) FERR_MUST_CHECK;
enum ferr_code buf_addspan(struct buf *b, struct span s) FERR_MUST_CHECK;
enum ferr_code buf_addch(struct buf *b, char c) FERR_MUST_CHECK;
enum ferr_code buf_addf(struct buf *b, const char *fmt, ...) FERR_MUST_CHECK
    __attribute__((format(printf, 2, 3)));
enum ferr_code buf_vaddf(struct buf *b, const char *fmt, va_list ap)
    FERR_MUST_CHECK;
/** Drop the first @n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/** Borrowed view, valid until the next change of @b. */
struct span buf_span(const struct buf *b);
/** The contents as a C string ("" when empty), valid until the next change. */
const char *buf_cstr(const struct buf *b);
/**
 * Take the contents out: the caller owns (and frees) the returned string
 * (never NULL); @b is left empty but valid.  *out_len may be NULL.
 */
char *buf_take(struct buf *b, size_t *out_len);

#endif
