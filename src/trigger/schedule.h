/* schedule: the cron schedules of a repository (on.schedule of the
 * workflows on its default branch) and when each is due, with GitHub's
 * semantics: UTC, Vixie day rule, a missed slot fires once. */
#ifndef FERRY_TRIGGER_SCHEDULE_H
#define FERRY_TRIGGER_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "pipeline/cron.h"
#include "util/ferr.h"

struct schedule_entry {
    char *workflow; /* repository-relative path of the workflow file */
    char *cron;     /* the 5-field expression as written (it parses) */
};

/**
 * The (workflow path, cron) pairs of every workflow at commit @sha of
 * @mirror (mirror_workflows order) that has on.schedule, in file order
 * within a workflow, duplicates dropped.  Each file is read (at most
 * LIM_WORKFLOW_BYTES) and loaded with wf_load; a workflow that cannot be
 * read or loaded and a cron that does not parse are skipped with one
 * log_warn line each.  Ownership: free *@out with schedule_entries_free.
 * Errors: FERR_NOTFOUND for an unknown @sha, FERR_IO from the mirror;
 * then *@out is NULL and *@out_n 0.
 */
enum ferr_code schedule_collect(const char *mirror, const char *sha,
                                struct schedule_entry **out, size_t *out_n,
                                struct ferr *err) FERR_MUST_CHECK;

/** Free an array from schedule_collect (NULL is a no-op). */
void schedule_entries_free(struct schedule_entry *v, size_t n);

/**
 * Is @c due?  Finds the latest slot (a matching minute start, UTC, ms)
 * t with @last_ms < t <= @now_ms; true with *@out_slot_ms = t, else
 * false (and *@out_slot_ms -1).  After downtime a missed schedule fires
 * once, for the latest slot, not once per missed slot.  The search walks
 * back day by day from @now_ms and looks at most SCHEDULE_LOOKBACK_DAYS
 * (about 5 years, cron_next's horizon) back, so it is cheap however old
 * @last_ms is; a slot older than that is not reported.  Pure.
 */
bool schedule_due(const struct cron *c, int64_t last_ms, int64_t now_ms,
                  int64_t *out_slot_ms);

/** How far back schedule_due looks, in days. */
#define SCHEDULE_LOOKBACK_DAYS (5 * 366)

/**
 * The first slot of @c strictly after @after_ms (ms since the epoch,
 * UTC), in ms; -1 when there is none within about 5 years (cron_next).
 * Pure.
 */
int64_t schedule_next(const struct cron *c, int64_t after_ms);

#endif
