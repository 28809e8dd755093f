/* analysis: is a new version behaving?  Like Argo Rollouts'
 * AnalysisTemplate: a metric measured every interval, compared with a
 * threshold, with a failure limit.  The metric is the proxy's own error
 * rate (5xx / requests of the new backends, from counters the caller
 * reads) or a Prometheus instant query.  Blocking. */
#ifndef FERRY_DEPLOY_ANALYSIS_H
#define FERRY_DEPLOY_ANALYSIS_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ferr.h"

enum analysis_kind { ANALYSIS_ERROR_RATE, ANALYSIS_PROMETHEUS };

/** An analysis; strings freed by analysis_spec_release. */
struct analysis_spec {
    enum analysis_kind kind;
    char *prometheus;       /* base URL "http://127.0.0.1:9090" */
    char *query;            /* PromQL; its first sample is the value */
    double max;             /* a measurement fails when value > max;
                               default 0.05 (5 % errors) */
    unsigned interval_ms;   /* between measurements; default 1000 */
    unsigned count;         /* measurements in all; default 5 */
    unsigned failure_limit; /* failed measurements tolerated; default 0:
                               the first failure fails the analysis */
    uint64_t min_requests;  /* error-rate: an interval with fewer requests
                               is inconclusive (neither); default 1 */
};

/**
 * Fill @s from the deploy step's inputs: @metric is "error-rate" (the
 * default when NULL) or "prometheus:QUERY" with @prometheus the base URL
 * (input 'prometheus'); @max "5%" or "0.05"; @interval a duration; the
 * others decimal text; NULL takes the default.  The inputs, in order:
 * 'analysis', 'prometheus', 'analysis-max', 'analysis-interval',
 * 'analysis-count', 'analysis-failure-limit', 'analysis-min-requests';
 * an empty string counts as NULL.  @max is a plain decimal number
 * ("0.05", "250", "-1", "1e3"), or one followed by '%' (divided by 100);
 * "inf" and "nan" are refused.  @interval is read by
 * health_parse_duration (a plain number is seconds).  @count is 1 to
 * 100000, @failure_limit 0 to 100000, @min_requests any 64-bit count.
 * 'prometheus' without a prometheus metric, and 'analysis-min-requests'
 * with one, are refused (they would do nothing).  Errors name the input:
 * "input 'analysis': unknown metric 'x' (error-rate, prometheus:QUERY)",
 * "input 'analysis-max': bad threshold '5 percent'", "input
 * 'prometheus' is needed by analysis 'prometheus:…'".
 * Ownership: @s is initialised and owns its strings also on error.
 * Errors: FERR_INVALID.
 */
enum ferr_code analysis_spec_parse(struct analysis_spec *s, const char *metric,
                                   const char *prometheus, const char *max,
                                   const char *interval, const char *count,
                                   const char *failure_limit,
                                   const char *min_requests,
                                   struct ferr *err) FERR_MUST_CHECK;

/** Free the strings of @s and zero it. */
void analysis_spec_release(struct analysis_spec *s);

/** Cumulative counters of the backends being judged (the new version's),
 *  summed; the analysis takes differences between calls.  FERR_OK or an
 *  error that fails the measurement. */
typedef enum ferr_code (*analysis_counters_fn)(void *ud, uint64_t *requests,
                                               uint64_t *errors_5xx,
                                               struct ferr *err);

/** Told about each measurement: @value (NaN when inconclusive) and a
 *  one-line verdict ("error rate 12.5 % (5/40) > 5 %: failed"). */
typedef void (*analysis_log_fn)(void *ud, double value, const char *verdict);

/** The outcome of a whole analysis. */
enum analysis_result { ANALYSIS_PASSED, ANALYSIS_FAILED };

/**
 * Run @s: @s->count measurements @s->interval_ms apart (the first after
 * one interval).  It fails as soon as failures exceed the failure limit
 * (so a bad version is caught after (failure_limit + 1) intervals, not
 * after count); otherwise passes (inconclusive measurements do not
 * count either way).  @counters is needed for error-rate (may be NULL
 * for prometheus).  A measurement that cannot be taken (Prometheus down,
 * an empty result, counters that cannot be read) counts as failed, with
 * why in the verdict.  Inconclusive: an error-rate interval with fewer
 * than @s->min_requests requests (or none), the first reading when the
 * baseline read before the first interval failed, counters that went
 * back (the proxy restarted: the next interval starts from there), and a
 * Prometheus value of NaN (e.g. 0/0 without traffic); +Inf compares as
 * a number.  A measurement that takes longer than the interval delays
 * only itself: the next one is due at start + i * interval.  On passing,
 * @why gets a summary ("5 measurements: 4 passed, 0 failed (limit 0), 1
 * inconclusive").
 * *@out is set on FERR_OK; @why (may be NULL, @why_len bytes) gets the
 * verdict that decided it.
 * Errors: FERR_INVALID for an unusable spec (error-rate without
 * @counters).
 */
enum ferr_code analysis_run(const struct analysis_spec *s,
                            analysis_counters_fn counters, void *cud,
                            analysis_log_fn log, void *lud,
                            enum analysis_result *out, char *why,
                            size_t why_len, struct ferr *err) FERR_MUST_CHECK;

/**
 * One Prometheus instant query: GET @base/api/v1/query?query=@query (the
 * query percent-encoded) and the first sample's value in *@out (read by
 * analysis_parse_prometheus, so NaN and ±Inf may come back); @timeout_ms
 * 0 takes httpc's default.
 * Errors: FERR_IO (unreachable, non-200, "status":"error" with its
 * message), FERR_NOTFOUND "query 'q' returned no sample", FERR_PARSE
 * for an answer that is not Prometheus' JSON; also FERR_INVALID for a
 * @base that is not http(s):// or a query over LIM_URL bytes.  *@out is
 * NaN on error.
 */
enum ferr_code analysis_prometheus_query(const char *base, const char *query,
                                         long timeout_ms, double *out,
                                         struct ferr *err) FERR_MUST_CHECK;

/**
 * Read Prometheus' answer to an instant query (@len bytes of @body, the
 * JSON of /api/v1/query) into *@out: for "resultType":"vector" the value
 * of the first sample, for "scalar" its value.  A value is the string
 * Prometheus writes: a decimal number ("0.125", "1e+06"), "NaN", "+Inf"
 * or "-Inf" (also "Inf"); a JSON number is taken too.  Pure: no I/O, no
 * state; @body needs no NUL.
 * Errors: FERR_IO "prometheus answered an error: bad_data: …" for
 * "status":"error" (its errorType and error); FERR_NOTFOUND "the answer
 * holds no sample" for an empty vector; FERR_PARSE for anything that is
 * not that JSON, for a "matrix" or "string" result, for a native
 * histogram sample, and for a bad value; FERR_LIMIT over
 * LIM_PROM_ANSWER bytes.  *@out is NaN on error.
 */
enum ferr_code analysis_parse_prometheus(const char *body, size_t len,
                                         double *out,
                                         struct ferr *err) FERR_MUST_CHECK;

#endif
