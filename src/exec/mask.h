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

/** An empty masker (masks nothing).  Free with mask_free. */
struct mask *mask_new(void);
/** Free @m and its copies of the secrets.  NULL is a no-op. */
void mask_free(struct mask *m);

/**
 * Register @secret.  A multi-line value registers each of its lines
 * (trailing '\r' removed); empty and whitespace-only lines are ignored,
 * as on GitHub, and so are values already registered.  @secret is
 * copied.  Errors: FERR_LIMIT past LIM_SECRETS values or a value over
 * LIM_SECRET_BYTES; then nothing of @secret is registered.
 * Context: not concurrently with mask_line on the same @m.
 */
enum ferr_code mask_add(struct mask *m, struct span secret) FERR_MUST_CHECK;

/** Number of registered values. */
size_t mask_count(const struct mask *m);

/**
 * Append @line to @out with every occurrence of every registered value
 * replaced by "***" (longest match first at each position; overlapping
 * occurrences merge: each maximal run of masked bytes becomes one "***").
 * Secrets shorter than 4 bytes make this markedly slower.  Errors:
 * FERR_LIMIT from @out, whose contents are then unchanged.
 * Context: any thread, as long as no mask_add runs at the same time.
 */
enum ferr_code mask_line(const struct mask *m, struct span line,
                         struct buf *out) FERR_MUST_CHECK;

#endif
