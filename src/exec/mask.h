/* mask: replace every registered secret in output lines with "***".
 * Built for throughput (many secrets, GB/s of output); line-oriented: the
 * engine assembles complete lines first (linebuf), so a secret split
 * across reads is still found. */
#ifndef FERRY_EXEC_MASK_H
#define FERRY_EXEC_MASK_H

#include <stddef.h>

#include "util/buf.h"
#include "util/ferr.h"
#include "util/span.h"

struct mask;

struct mask *mask_new(void);
void mask_free(struct mask *m);

/**
 * Register @secret.  A multi-line value registers each of its lines
 * (trailing '\r' removed); empty and whitespace-only lines are ignored,
 * as on GitHub.  Errors: FERR_LIMIT past LIM_SECRETS values or a value
 * over LIM_SECRET_BYTES.
 */
enum ferr_code mask_add(struct mask *m, struct span secret) FERR_MUST_CHECK;

/** Number of registered values. */
size_t mask_count(const struct mask *m);

/**
 * Append @line to @out with every occurrence of every registered value
 * replaced by "***" (longest match first at each position; overlapping
 * occurrences merge).  Errors: FERR_LIMIT from @out.
 */
enum ferr_code mask_line(const struct mask *m, struct span line,
                         struct buf *out) FERR_MUST_CHECK;

#endif
