/* route: match raw request paths against patterns such as
 * "/api/v1/runs/:id/logs" and decode what the ':name' parts captured. */
#ifndef FERRY_SERVER_ROUTE_H
#define FERRY_SERVER_ROUTE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "util/arena.h"

#define ROUTE_MAX_CAPS 4 /* captures in one pattern, '*' included */

/**
 * Match @path (raw, undecoded, without the query) against @pattern like
 * "/api/v1/runs/:id/logs".
 *
 * - Literal segments must equal the path's segments byte for byte (no
 *   decoding: "/api/v1/%72uns" is not "/api/v1/runs").
 * - ':name' matches one non-empty segment; a trailing "/" "*" (a final
 *   '*' segment) matches the rest of the path, possibly empty (pattern
 *   "/web/" "*" matches "/web", "/web/" and "/web/a/b").  Each is
 *   one capture, in pattern order.
 * - Captures are percent-decoded into @a and NUL-terminated.  A ':name'
 *   capture that decodes to something containing '/' or NUL, or to "."
 *   or "..", or that has a bad %-escape, does not match.  The '*'
 *   capture is the rest without its leading '/', each of its segments
 *   decoded under the same rules ("a/b%20c" -> "a/b c").
 * - A path with an empty, "." or ".." segment ("//", "/./", "/../", a
 *   trailing '/' outside a '*') never matches; nor does one that does
 *   not start with '/'.
 *
 * @caps must have room for ROUTE_MAX_CAPS pointers; *@out_ncaps is the
 * number filled.  On no match *@out_ncaps is 0, @caps is untouched and
 * nothing is allocated from @a.  A pattern with more than
 * ROUTE_MAX_CAPS captures never matches.  @a is only used on a match.
 * Returns true on a match.  Context: any thread (pure).
 */
bool route_match(struct arena *a, const char *pattern, const char *path,
                 const char **caps, size_t *out_ncaps);

/** One decoded query parameter. */
struct route_arg {
    const char *key;   /* decoded, NUL-terminated, owned by the arena */
    const char *value; /* decoded; "" for "?key" without '=' */
};

/**
 * Split the raw query @query (the part after '?', NULL = none) at '&'
 * and each part at its first '=', decoding keys and values as
 * application/x-www-form-urlencoded: '+' is a space, %XX a byte; a bad
 * escape stays as it is; a %00 ends the string there.  Empty parts
 * ("a=1&&b=2") are skipped.  *@out_args (owned by @a, NULL when the
 * count is 0) gets the parameters in order; returns their count.
 * Context: any thread (pure).
 */
size_t route_parse_query(struct arena *a, const char *query,
                         struct route_arg **out_args);

/**
 * Parse a decimal id (1..INT64_MAX) from a capture: ASCII digits only,
 * no sign, no leading zero.  NULL gives false.  *@out is 0 when the
 * answer is false.  Context: any thread.
 */
bool route_id(const char *s, int64_t *out);

#endif
