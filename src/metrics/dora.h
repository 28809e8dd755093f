/* dora: the four DORA keys (deployment frequency, lead time for changes,
 * change failure rate, time to restore service) and the build figures
 * (success rate, average build time, coverage, test counts), computed
 * from ferry's own records as the DORA research and the Four Keys
 * project define them.  Pure: it reads the JSON store_dora_input returns
 * and builds the JSON the API, `ferry dora`, /metrics and the dashboard
 * show; it does no I/O. */
#ifndef FERRY_METRICS_DORA_H
#define FERRY_METRICS_DORA_H

#include <jansson.h>
#include <stdint.h>

#include "util/ferr.h"

/**
 * Parse a window such as "30d", "12h", "4w", "90m" (a positive count and
 * one unit m|h|d|w; at most 366 days) into *@out_ms.
 * Errors: FERR_INVALID "bad window 'x': use a count and m, h, d or w
 * (e.g. 30d)"; *@out_ms 0.
 */
enum ferr_code dora_parse_window(const char *s, int64_t *out_ms,
                                 struct ferr *err) FERR_MUST_CHECK;

/**
 * The figures over [@since_ms, @until_ms) from @input (the object
 * store_dora_input fills; borrowed), as a new JSON object (the caller's):
 *
 *   {"since","until" (RFC 3339), "days" (window length, number),
 *    "deployment_frequency": {"count","per_day","per_month","rating",
 *        "target"},
 *    "lead_time": {"count","median_s","p90_s"|null,"rating","target"},
 *    "change_failure_rate": {"failed","total","rate"|null,"rating",
 *        "target"},
 *    "time_to_restore": {"count","open","median_s"|null,"rating",
 *        "target"},
 *    "deployment_success_rate": {"succeeded","total","rate"|null,
 *        "target"},
 *    "builds": {"total","success","failure","cancelled",
 *        "success_rate"|null,"avg_duration_s"|null,"target_success_rate",
 *        "target_avg_duration_s"},
 *    "coverage": {"latest"|null (0..1),"min"|null,"max"|null,
 *        "target" (0.7)},
 *    "tests": {"latest_total"|null,"latest_failed"|null},
 *    "series": [{"day":"YYYY-MM-DD","deployments","failed_deployments",
 *        "lead_time_median_s"|null,"restore_median_s"|null,"builds",
 *        "failed_builds","coverage"|null}, …one per UTC day of the window]}
 *
 * Ratings follow the DORA report's elite/high/medium/low bands; targets
 * are the seed's (15 deployments a month, lead time under 1 day, change
 * failure under 5 %, restore under 30 min, build success over 95 %,
 * builds under 60 min, coverage over 70 %).  A deployment counts when
 * it reached its environment (kind "deploy", started); it failed when
 * its status is failure, rolled_back or escalated, when an incident
 * names it, or when a rollback of the same environment follows it
 * before the next deployment.  Never fails on odd rows: a row missing a
 * field is skipped.
 */
json_t *dora_compute(const json_t *input, int64_t since_ms, int64_t until_ms);

#endif
