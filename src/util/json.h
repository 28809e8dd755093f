/* json: glue over jansson for what it lacks. */
#ifndef FERRY_UTIL_JSON_H
#define FERRY_UTIL_JSON_H

#include <jansson.h>
#include <stddef.h>

/**
 * A JSON string from arbitrary bytes: valid UTF-8 is kept, each invalid
 * byte becomes U+FFFD.  New reference; the caller owns it.
 */
json_t *json_lossy_stringn(const char *p, size_t n);

/** json_object_get with a case-insensitive key match (first match). */
json_t *json_object_get_nocase(const json_t *o, const char *key);

#endif
