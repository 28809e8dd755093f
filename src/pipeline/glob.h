/* glob: GitHub Actions filter patterns for branches, tags and paths
 * (`*` not crossing '/', `**`, `?`, `+`, `[...]`, leading `!` to negate,
 * later patterns overriding earlier ones).  Pure. */
#ifndef FERRY_PIPELINE_GLOB_H
#define FERRY_PIPELINE_GLOB_H

#include <stdbool.h>
#include <stddef.h>

#include "util/ferr.h"
#include "util/span.h"

/** Does @pattern (one pattern, without a leading '!') match @s? */
bool glob_match(struct span pattern, struct span s);

/**
 * GitHub's list semantics: @s is included when the last pattern in
 * @patterns that matches it (a '!' pattern matching means excluded) is a
 * positive one.  An empty list matches nothing.
 */
bool glob_match_list(const char *const *patterns, size_t n, struct span s);

/**
 * Check one pattern's syntax (unclosed '[', empty '[]', reversed range,
 * trailing backslash, empty pattern).  A leading '!' is allowed and
 * skipped, so list entries can be checked as written.
 * Errors: FERR_PARSE naming the pattern and the reason; err->pos is @pos
 * advanced to the offending column (when @pos has a line).  A pattern
 * that fails this check matches nothing in glob_match.
 */
enum ferr_code glob_check(struct span pattern, const struct pos *pos,
                          struct ferr *err) FERR_MUST_CHECK;

#endif
