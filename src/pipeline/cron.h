/* cron: 5-field POSIX/Vixie cron expressions (UTC), as GitHub's
 * on.schedule reads them: lists, ranges, steps, names (JAN-DEC, SUN-SAT),
 * and Vixie's rule that when both day-of-month and day-of-week are
 * restricted a time matches if either does.  Pure. */
#ifndef FERRY_PIPELINE_CRON_H
#define FERRY_PIPELINE_CRON_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "util/ferr.h"
#include "util/span.h"

struct cron {
    uint64_t minute;  /* bit i set: minute i matches (0-59) */
    uint32_t hour;    /* bits 0-23 */
    uint32_t mday;    /* bits 1-31 */
    uint16_t month;   /* bits 1-12 */
    uint8_t wday;     /* bits 0-6, Sunday = 0 (7 accepted as Sunday) */
    bool mday_star;   /* day-of-month field was '*' (or '*' with a step) */
    bool wday_star;   /* day-of-week field was '*' */
};

/**
 * Parse @src into @out.  Errors: FERR_PARSE with a message naming the
 * field and the reason; err->pos is @pos advanced to the field's column.
 */
enum ferr_code cron_parse(struct span src, const struct pos *pos,
                          struct cron *out, struct ferr *err) FERR_MUST_CHECK;

/** Does the minute containing @t (UTC) match? */
bool cron_matches(const struct cron *c, time_t t);

/**
 * The first matching minute strictly after @after (UTC), or -1 when none
 * exists within 5 years (e.g. "0 0 31 2 *").
 */
time_t cron_next(const struct cron *c, time_t after);

#endif
