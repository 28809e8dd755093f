/* span: borrowed text as pointer + length.  Not NUL-terminated: print with
 * "%.*s" and SPAN_ARGS, compare with span_eq. */
#ifndef FERRY_UTIL_SPAN_H
#define FERRY_UTIL_SPAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/ferr.h"

struct span {
    const char *p;
    size_t len;
};

#define SPAN_ARGS(s) (int)(s).len, (s).p
#define SPAN_LIT(lit) ((struct span){ (lit), sizeof(lit) - 1 })

/** A span over the C string @s (NULL gives the empty span). */
struct span span_cstr(const char *s);
/** A span over @n bytes at @p. */
static inline struct span span_of(const void *p, size_t n)
{
    return (struct span){ (const char *)p, n };
}
bool span_eq(struct span a, struct span b);
bool span_eq_cstr(struct span a, const char *s);
/** ASCII case-insensitive equality. */
bool span_eq_nocase(struct span a, struct span b);
bool span_starts_with(struct span s, struct span prefix);
/** Remove ASCII whitespace at both ends. */
struct span span_trim(struct span s);
/**
 * Parse an unsigned decimal integer: digits only, no sign, no trailing
 * junk, no overflow.  Returns FERR_PARSE or FERR_LIMIT; *out is 0 on error.
 */
enum ferr_code span_to_u64(struct span s, uint64_t *out) FERR_MUST_CHECK;
/** Like span_to_u64 with an optional leading '-'. */
enum ferr_code span_to_i64(struct span s, int64_t *out) FERR_MUST_CHECK;
/** Split at the first @c: *head before it, *tail after; false if absent
 *  (then *head = s and *tail is empty). */
bool span_cut(struct span s, char c, struct span *head, struct span *tail);
/**
 * Length (1..4) of the valid UTF-8 sequence at @p (@n bytes available),
 * or 0 when it is not one (overlong forms, surrogates and code points
 * past U+10FFFF are invalid).  @n must be at least 1.
 */
size_t span_utf8_len(const unsigned char *p, size_t n);
/**
 * A printable, bounded copy of outside text for an error message: at
 * most 64 bytes of @s, control and non-ASCII bytes as '?', "..." when
 * cut.  Returns @out.
 */
const char *span_quote(const char *s, size_t n, char out[72]);

#endif
