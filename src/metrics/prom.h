/* prom: an in-process Prometheus metrics registry (counters, gauges,
 * histograms with labels) and the text exposition format 0.0.4 that
 * `ferry serve` answers on GET /metrics. */
#ifndef FERRY_METRICS_PROM_H
#define FERRY_METRICS_PROM_H

#include <stddef.h>

#include "util/buf.h"
#include "util/ferr.h"

/*
 * The metrics ferry exports.  The server, the docs and the tests use
 * these spellings and nothing else.  Prometheus naming: base units
 * (seconds), counters end in _total.  Each name has a _HELP text.
 */

/** counter {repo,workflow,conclusion}: completed runs by conclusion. */
#define PROM_RUNS_TOTAL      "ferry_runs_total"
#define PROM_RUNS_TOTAL_HELP "Completed workflow runs by conclusion."
/** counter {conclusion}: completed jobs by conclusion. */
#define PROM_JOBS_TOTAL      "ferry_jobs_total"
#define PROM_JOBS_TOTAL_HELP "Completed jobs by conclusion."
/** histogram {repo}: a run's wall time, queued to completed. */
#define PROM_RUN_DURATION_SECONDS      "ferry_run_duration_seconds"
#define PROM_RUN_DURATION_SECONDS_HELP "Wall time of completed runs."
/** histogram (no labels): time a job waited for a slot. */
#define PROM_QUEUE_WAIT_SECONDS      "ferry_queue_wait_seconds"
#define PROM_QUEUE_WAIT_SECONDS_HELP "Time jobs waited in the queue for a slot."
/** histogram (no labels): a job's run time, started to completed. */
#define PROM_JOB_DURATION_SECONDS      "ferry_job_duration_seconds"
#define PROM_JOB_DURATION_SECONDS_HELP "Run time of completed jobs."
/** counter {repo,environment,result}: finished deployments. */
#define PROM_DEPLOYMENTS_TOTAL      "ferry_deployments_total"
#define PROM_DEPLOYMENTS_TOTAL_HELP "Finished deployments by result."
/** counter {repo,environment}: rollbacks started. */
#define PROM_ROLLBACKS_TOTAL      "ferry_rollbacks_total"
#define PROM_ROLLBACKS_TOTAL_HELP "Rollbacks by repository and environment."
/** gauge (no labels): incidents not yet resolved. */
#define PROM_INCIDENTS_OPEN      "ferry_incidents_open"
#define PROM_INCIDENTS_OPEN_HELP "Incidents open now."
/** gauge (no labels): deployments waiting for an approval. */
#define PROM_APPROVALS_PENDING      "ferry_approvals_pending"
#define PROM_APPROVALS_PENDING_HELP "Deployments waiting for an approval."
/** counter {source,outcome}: webhook deliveries received. */
#define PROM_WEBHOOK_DELIVERIES_TOTAL "ferry_webhook_deliveries_total"
#define PROM_WEBHOOK_DELIVERIES_TOTAL_HELP                                     \
    "Webhook deliveries by source and outcome."
/** gauge (no labels): runs waiting to start. */
#define PROM_RUNS_QUEUED      "ferry_runs_queued"
#define PROM_RUNS_QUEUED_HELP "Runs queued and not yet started."
/** gauge (no labels): connected agents (0 until agents exist). */
#define PROM_AGENTS      "ferry_agents"
#define PROM_AGENTS_HELP "Connected agents."
/** gauge {version}: always 1; the label carries the build's version. */
#define PROM_BUILD_INFO      "ferry_build_info"
#define PROM_BUILD_INFO_HELP "Always 1; the version label names the build."
/** counter {metric}: observations dropped because @metric was at its
 *  series cap (LIM_PROM_SERIES).  Registered by prom_new itself. */
#define PROM_SERIES_DROPPED_TOTAL "ferry_metrics_series_dropped_total"
#define PROM_SERIES_DROPPED_TOTAL_HELP                                         \
    "Observations dropped because a metric had too many series."

/**
 * Histogram buckets (upper bounds, seconds) for run, job and queue
 * times: 50 ms to 2 h.  Use as `static const double b[] =
 * PROM_BUCKETS_SECONDS;`.
 */
#define PROM_BUCKETS_SECONDS                                                   \
    {                                                                          \
        0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800,      \
            3600, 7200                                                         \
    }

/** The Content-Type of prom_write's output. */
#define PROM_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

#define PROM_MAX_LABELS  8u  /* label names of one metric */
#define PROM_MAX_BUCKETS 64u /* finite buckets of one histogram */

struct prom;        /* a registry: every metric /metrics shows */
struct prom_metric; /* one metric (family); owned by its registry */

enum prom_type { PROM_COUNTER, PROM_GAUGE, PROM_HISTOGRAM };

/** A gauge's value computed at scrape time; @ctx as registered. */
typedef double (*prom_gauge_cb)(void *ctx);
/** Called at the start of every prom_write, before any output. */
typedef void (*prom_write_cb)(struct prom *r, void *ctx);

/*
 * Threading: a registry and its metrics are not locked.  All calls on one
 * registry come from one thread (the server's loop thread).
 *
 * Label names and values are NULL-terminated arrays of C strings.  The
 * names are fixed at registration; each update passes one value per name,
 * in the same order.  A metric without labels takes NULL (or {NULL}).
 */

/**
 * A fresh registry holding only PROM_SERIES_DROPPED_TOTAL.
 * Ownership: the caller frees it with prom_free.  Never NULL.
 */
struct prom *prom_new(void);

/** Free @r and every metric in it; prom_free(NULL) is a no-op.  Handles
 *  from @r are invalid afterwards. */
void prom_free(struct prom *r);

/**
 * Register a counter.  @name matches [a-zA-Z_:][a-zA-Z0-9_:]* and ends in
 * "_total"; @help is any text (escaped on output); @labels are the label
 * names ([a-zA-Z_][a-zA-Z0-9_]*, no "__" prefix, no duplicates, at most
 * PROM_MAX_LABELS), NULL for none.  A metric without labels has its one
 * series (value 0) from the start; a labelled one gets a series at the
 * first update with a new set of values.
 * Ownership: @name, @help and @labels are copied.  *@out is owned by @r
 * and valid until prom_free(@r).
 * Errors: FERR_INVALID for a bad or already registered name, bad label
 * names; FERR_LIMIT for too many labels.  *@out is NULL and @r unchanged.
 * Context: start-up, before the first prom_write.
 */
enum ferr_code prom_counter(struct prom *r, const char *name, const char *help,
                            const char *const *labels, struct prom_metric **out,
                            struct ferr *err) FERR_MUST_CHECK;

/**
 * Register a gauge: as prom_counter, without the "_total" rule.
 */
enum ferr_code prom_gauge(struct prom *r, const char *name, const char *help,
                          const char *const *labels, struct prom_metric **out,
                          struct ferr *err) FERR_MUST_CHECK;

/**
 * Register a gauge without labels whose value is @fn(@ctx), called once
 * per prom_write.  It cannot be prom_set or prom_inc'ed.
 * Ownership: @ctx is borrowed and must outlive @r (or stay valid as long
 * as prom_write is called).  Otherwise as prom_counter.
 * Errors: as prom_gauge; FERR_INVALID when @fn is NULL.
 */
enum ferr_code prom_gauge_fn(struct prom *r, const char *name, const char *help,
                             prom_gauge_cb fn, void *ctx,
                             struct prom_metric **out,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Register a histogram.  @buckets are the @nbuckets upper bounds (le),
 * finite and strictly increasing (a final +Inf is allowed and ignored:
 * the +Inf bucket is always there); at most PROM_MAX_BUCKETS.  The label
 * name "le" is reserved.  Otherwise as prom_counter.
 * Errors: as prom_counter; FERR_INVALID for bad buckets.
 */
enum ferr_code prom_histogram(struct prom *r, const char *name,
                              const char *help, const char *const *labels,
                              const double *buckets, size_t nbuckets,
                              struct prom_metric **out,
                              struct ferr *err) FERR_MUST_CHECK;

/**
 * Add @v to the series of @m named by @values: a counter (v >= 0) or a
 * gauge (any v).  The series is created on first use; once it exists this
 * allocates nothing.  A value longer than LIM_PROM_LABEL_VALUE bytes is
 * cut there (at a character boundary); bytes that are not UTF-8 become
 * '?'.  So the same outside text always lands on the same series.
 * Errors (the update is not recorded; the result may be ignored, because
 * metrics must never make an event fail):
 *   FERR_INVALID  wrong number of values, wrong type, counter with v < 0
 *                 or NaN, a gauge_fn gauge;
 *   FERR_LIMIT    @m already has LIM_PROM_SERIES series and these values
 *                 name a new one; PROM_SERIES_DROPPED_TOTAL{metric} is
 *                 incremented.
 * Context: the registry's thread.
 */
enum ferr_code prom_inc(struct prom_metric *m, const char *const *values,
                        double v);

/**
 * Set the series of gauge @m named by @values to @v (NaN and infinities
 * allowed).  Errors and context as prom_inc.
 */
enum ferr_code prom_set(struct prom_metric *m, const char *const *values,
                        double v);

/**
 * Count @v into the series of histogram @m named by @values: the first
 * bucket with v <= le, and _sum, _count.  NaN is rejected.  Errors and
 * context as prom_inc.
 */
enum ferr_code prom_observe(struct prom_metric *m, const char *const *values,
                            double v);

/**
 * The current value of a series (as prom_inc names it): a counter's or a
 * gauge's value, a histogram's _count.  For a gauge_fn gauge, @fn(@ctx).
 * Errors: FERR_NOTFOUND when the series does not exist (*@out = 0),
 * FERR_INVALID for a wrong number of values.
 */
enum ferr_code prom_get(struct prom_metric *m, const char *const *values,
                        double *out) FERR_MUST_CHECK;

/** How many series @m has now. */
size_t prom_series_count(const struct prom_metric *m);

/**
 * Have @fn(@r, @ctx) called at the start of every prom_write: the place
 * to prom_set gauges with labels that are cheaper to compute per scrape
 * than to keep current.  One hook per registry; a later call replaces
 * it; NULL removes it.  @ctx is borrowed.
 */
void prom_on_write(struct prom *r, prom_write_cb fn, void *ctx);

/**
 * Append the whole exposition (text format 0.0.4) to @out: per metric,
 * sorted by name, "# HELP" and "# TYPE" lines then its series sorted by
 * their label values; histograms as cumulative name_bucket{...,le="..."}
 * lines ending with le="+Inf", then name_sum and name_count.  Serve it
 * with Content-Type PROM_CONTENT_TYPE.
 * Errors: FERR_LIMIT when @out would pass its max; @out is then as it was
 * before the call.
 * Context: the registry's thread; calls the gauge_fn and on_write hooks.
 */
enum ferr_code prom_write(struct prom *r, struct buf *out,
                          struct ferr *err) FERR_MUST_CHECK;

#endif
