/* telemetry: what ferry serve counts for GET /metrics — the registry
 * (src/metrics/prom.c) filled at the events that change it (a run or a
 * job ends, a deployment ends, a rollback starts, a webhook is answered)
 * and gauges read when scraped.  The DORA gauges are computed off the
 * loop, by a thread with its own store connection, when a scrape finds
 * them older than DORA_CACHE_MS; the scrape shows the last figures and
 * never waits for new ones.  Counters start from zero with the process,
 * as Prometheus expects of counters; the store keeps history. */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "metrics/dora.h"
#include "metrics/prom.h"
#include "server/server.h"
#include "util/log.h"
#include "util/version.h"
#include "util/xalloc.h"

#define BODY_MAX (16u * 1024u * 1024u) /* one exposition */
#define DORA_WINDOW_MS (30LL * 86400000LL) /* the gauges' window */
#define DORA_CACHE_MS 10000 /* a scrape storm computes once per this */
#define NGAUGES 6 /* entries of dora_gauges[] */
#define DORA_NICE 10 /* the thread's: requests first */

struct telemetry {
    struct prom *reg;
    struct prom_metric *runs, *jobs, *run_secs, *wait_secs, *job_secs;
    struct prom_metric *deploys, *rollbacks, *hooks, *build;
    /* the DORA gauges' thread; db_url is read-only while it runs */
    char *db_url;
    pthread_t thread;
    bool thread_ok;   /* it runs: telemetry_stop joins it */
    int64_t asked_at; /* loop only: monotonic ms of the last ask, 0: never */
    /* shared with the thread: everything below, under mu */
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool want;        /* a computation is asked for, not begun */
    bool pending;     /* asked for or under way: no new ask */
    bool quit;        /* telemetry_stop: the thread returns */
    int64_t want_now; /* server_now_ms() of the ask: the window's end */
    bool have;        /* fig holds figures; false: none (or the last
                         computation failed) */
    double fig[NGAUGES]; /* per dora_gauges[]; NaN: the figure is null */
};

/* The DORA gauges: written after the registry's metrics, each sample
 * only when its figure is known (a null figure has no sample). */
static const struct {
    const char *name;
    const char *help;
    const char *figure, *field; /* where dora_compute puts it */
} dora_gauges[] = {
    {"ferry_dora_deployment_frequency_per_day",
     "Production deployments per day over the last 30 days (DORA).",
     "deployment_frequency", "per_day"},
    {"ferry_dora_lead_time_seconds",
     "Median time from commit to running in production of the changes "
     "deployed in the last 30 days (DORA lead time for changes).",
     "lead_time", "median_s"},
    {"ferry_dora_change_failure_ratio",
     "Share of the production deployments of the last 30 days that failed "
     "or caused an incident or a rollback (DORA).",
     "change_failure_rate", "rate"},
    {"ferry_dora_time_to_restore_seconds",
     "Median time from opening to resolution of the production incidents "
     "opened in the last 30 days (DORA).",
     "time_to_restore", "median_s"},
    {"ferry_build_success_ratio",
     "Share of the runs of the last 30 days that succeeded, of those that "
     "succeeded or failed.",
     "builds", "success_rate"},
    {"ferry_coverage_ratio",
     "Line coverage (0..1) of the newest coverage report of the last 30 "
     "days.",
     "coverage", "latest"},
};
_Static_assert(sizeof(dora_gauges) / sizeof(dora_gauges[0]) == NGAUGES,
               "NGAUGES is the number of DORA gauges");

static double runs_queued(void *ctx)
{
    struct server *s = ctx;
    struct store_run *v = NULL;
    size_t n = 0;
    struct ferr err;

    ferr_clear(&err);
    if (store_run_queue(s->store, &v, &n, &err))
        return 0.0 / 0.0; /* NaN: unknown now */
    store_runs_free(v, n);
    return (double)n;
}

static double incidents_open(void *ctx)
{
    struct server *s = ctx;
    json_t *list = NULL;
    size_t i;
    json_t *v;
    double n = 0;
    struct ferr err;

    ferr_clear(&err);
    if (store_incident_list(s->store, 0, 200, &list, &err))
        return 0.0 / 0.0;
    json_array_foreach (list, i, v) {
        const char *st = json_string_value(json_object_get(v, "status"));

        if (st && strcmp(st, "resolved") != 0)
            n++;
    }
    json_decref(list);
    return n;
}

static double approvals_pending(void *ctx)
{
    return (double)cd_pending_approvals(ctx);
}

static double agents(void *ctx)
{
    (void)ctx;
    return 0; /* no agents yet (DESIGN.md §8) */
}

static void *dora_main(void *arg);
static void dora_ask(struct server *s);

/* Start the DORA gauges' thread (its signals blocked: the loop takes
 * them with a signalfd) and ask it for the first figures.  Without it
 * the gauges have no samples (logged). */
static void dora_start(struct server *s, const char *db_url)
{
    struct telemetry *t = s->telemetry;
    sigset_t all, old;
    int e;

    pthread_mutex_init(&t->mu, NULL);
    pthread_cond_init(&t->cv, NULL);
    if (!db_url)
        return;
    t->db_url = xstrdup(db_url);
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    e = pthread_create(&t->thread, NULL, dora_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e) {
        log_warn("dora gauges not computed err='cannot start a thread: %s'",
                 strerror(e));
        return;
    }
    t->thread_ok = true;
    dora_ask(s);
}

enum ferr_code telemetry_start(struct server *s, const char *db_url,
                               struct ferr *err)
{
    static const double b[] = PROM_BUCKETS_SECONDS;
    static const char *const run_l[] = {"repo", "workflow", "conclusion",
                                        NULL};
    static const char *const concl_l[] = {"conclusion", NULL};
    static const char *const repo_l[] = {"repo", NULL};
    static const char *const dep_l[] = {"repo", "environment", "result",
                                        NULL};
    static const char *const env_l[] = {"repo", "environment", NULL};
    static const char *const hook_l[] = {"source", "outcome", NULL};
    static const char *const ver_l[] = {"version", NULL};
    static const char *const ver[] = {FERRY_VERSION, NULL};
    struct telemetry *t = xcalloc(1, sizeof(*t));
    struct prom_metric *g;
    size_t nb = sizeof(b) / sizeof(b[0]);
    enum ferr_code rc;

    t->reg = prom_new();
    rc = prom_counter(t->reg, PROM_RUNS_TOTAL, PROM_RUNS_TOTAL_HELP, run_l,
                      &t->runs, err);
    if (!rc)
        rc = prom_counter(t->reg, PROM_JOBS_TOTAL, PROM_JOBS_TOTAL_HELP,
                          concl_l, &t->jobs, err);
    if (!rc)
        rc = prom_histogram(t->reg, PROM_RUN_DURATION_SECONDS,
                            PROM_RUN_DURATION_SECONDS_HELP, repo_l, b, nb,
                            &t->run_secs, err);
    if (!rc)
        rc = prom_histogram(t->reg, PROM_QUEUE_WAIT_SECONDS,
                            PROM_QUEUE_WAIT_SECONDS_HELP, NULL, b, nb,
                            &t->wait_secs, err);
    if (!rc)
        rc = prom_histogram(t->reg, PROM_JOB_DURATION_SECONDS,
                            PROM_JOB_DURATION_SECONDS_HELP, NULL, b, nb,
                            &t->job_secs, err);
    if (!rc)
        rc = prom_counter(t->reg, PROM_DEPLOYMENTS_TOTAL,
                          PROM_DEPLOYMENTS_TOTAL_HELP, dep_l, &t->deploys,
                          err);
    if (!rc)
        rc = prom_counter(t->reg, PROM_ROLLBACKS_TOTAL,
                          PROM_ROLLBACKS_TOTAL_HELP, env_l, &t->rollbacks,
                          err);
    if (!rc)
        rc = prom_counter(t->reg, PROM_WEBHOOK_DELIVERIES_TOTAL,
                          PROM_WEBHOOK_DELIVERIES_TOTAL_HELP, hook_l,
                          &t->hooks, err);
    if (!rc)
        rc = prom_gauge(t->reg, PROM_BUILD_INFO, PROM_BUILD_INFO_HELP, ver_l,
                        &t->build, err);
    if (!rc)
        rc = prom_gauge_fn(t->reg, PROM_RUNS_QUEUED, PROM_RUNS_QUEUED_HELP,
                           runs_queued, s, &g, err);
    if (!rc)
        rc = prom_gauge_fn(t->reg, PROM_INCIDENTS_OPEN,
                           PROM_INCIDENTS_OPEN_HELP, incidents_open, s, &g,
                           err);
    if (!rc)
        rc = prom_gauge_fn(t->reg, PROM_APPROVALS_PENDING,
                           PROM_APPROVALS_PENDING_HELP, approvals_pending, s,
                           &g, err);
    if (!rc)
        rc = prom_gauge_fn(t->reg, PROM_AGENTS, PROM_AGENTS_HELP, agents, s,
                           &g, err);
    if (rc) {
        prom_free(t->reg);
        free(t);
        return rc;
    }
    (void)prom_set(t->build, ver, 1);
    s->telemetry = t;
    dora_start(s, db_url);
    return FERR_OK;
}

void telemetry_stop(struct server *s)
{
    struct telemetry *t = s->telemetry;

    if (!t)
        return;
    if (t->thread_ok) {
        /* a computation under way ends first (it is not interrupted) */
        pthread_mutex_lock(&t->mu);
        t->quit = true;
        pthread_cond_signal(&t->cv);
        pthread_mutex_unlock(&t->mu);
        pthread_join(t->thread, NULL);
    }
    pthread_cond_destroy(&t->cv);
    pthread_mutex_destroy(&t->mu);
    free(t->db_url);
    prom_free(t->reg);
    free(t);
    s->telemetry = NULL;
}

void telemetry_run(struct server *s, const struct store_run *r)
{
    const char *l[] = {r->repo ? r->repo : "",
                       r->workflow ? r->workflow : "",
                       r->conclusion ? r->conclusion : "", NULL};
    const char *repo[] = {r->repo ? r->repo : "", NULL};

    if (!s->telemetry)
        return;
    (void)prom_inc(s->telemetry->runs, l, 1);
    if (r->started_at > 0 && r->finished_at >= r->started_at)
        (void)prom_observe(s->telemetry->run_secs, repo,
                           (double)(r->finished_at - r->started_at) / 1000.0);
}

void telemetry_run_started(struct server *s, const struct store_run *r,
                           int64_t now_ms)
{
    if (!s->telemetry || r->attempt != 1 || r->created_at <= 0 ||
        now_ms < r->created_at)
        return;
    (void)prom_observe(s->telemetry->wait_secs, NULL,
                       (double)(now_ms - r->created_at) / 1000.0);
}

void telemetry_job(struct server *s, const char *conclusion,
                   int64_t duration_ms)
{
    const char *l[] = {conclusion ? conclusion : "", NULL};

    if (!s->telemetry)
        return;
    (void)prom_inc(s->telemetry->jobs, l, 1);
    if (duration_ms >= 0)
        (void)prom_observe(s->telemetry->job_secs, NULL,
                           (double)duration_ms / 1000.0);
}

void telemetry_deployment(struct server *s, const char *repo, const char *env,
                          const char *result)
{
    const char *l[] = {repo, env, result, NULL};

    if (s->telemetry)
        (void)prom_inc(s->telemetry->deploys, l, 1);
}

void telemetry_rollback(struct server *s, const char *repo, const char *env)
{
    const char *l[] = {repo, env, NULL};

    if (s->telemetry)
        (void)prom_inc(s->telemetry->rollbacks, l, 1);
}

void telemetry_webhook(struct server *s, const char *source, int status)
{
    const char *l[] = {source ? source : "",
                       status < 300   ? "accepted"
                       : status < 500 ? "rejected"
                                      : "failed",
                       NULL};

    if (s->telemetry)
        (void)prom_inc(s->telemetry->hooks, l, 1);
}

/* ---------- the DORA gauges' thread ---------- */

/* Compute the figures of every repository's production over the 30 days
 * to @now into @fig, on the thread's connection *@st (opened here when
 * there is none; closed after an error, so the next ask opens it
 * again).  False when the store cannot say (logged). */
static bool dora_compute_into(struct telemetry *t, struct store **st,
                              int64_t now, double fig[NGAUGES])
{
    json_t *in = NULL;
    json_t *out;
    struct ferr err;

    ferr_clear(&err);
    if (!*st && store_open(t->db_url, st, &err)) {
        log_warn("dora gauges not computed err='%s'", err.msg);
        return false;
    }
    if (store_dora_input(*st, 0, NULL, now - DORA_WINDOW_MS, now, &in,
                         &err)) {
        log_warn("dora gauges not computed err='%s'", err.msg);
        store_close(*st);
        *st = NULL;
        return false;
    }
    out = dora_compute(in, now - DORA_WINDOW_MS, now);
    json_decref(in);
    if (!out) {
        log_warn("dora gauges not computed err='%s'", "out of memory");
        return false;
    }
    for (size_t i = 0; i < NGAUGES; i++) {
        json_t *v = json_object_get(
            json_object_get(out, dora_gauges[i].figure), dora_gauges[i].field);

        fig[i] = json_is_number(v) ? json_number_value(v) : NAN;
    }
    json_decref(out);
    return true;
}

/* The thread: wait for an ask, compute without the lock, hand the
 * doubles over under it.  Its store connection is its own. */
static void *dora_main(void *arg)
{
    struct telemetry *t = arg;
    struct store *st = NULL;

    /* on Linux a thread id names one thread: the loop keeps its own
     * priority, and on a busy machine this waits rather than the loop */
    (void)setpriority(PRIO_PROCESS, (id_t)gettid(), DORA_NICE);
    pthread_mutex_lock(&t->mu);
    for (;;) {
        double fig[NGAUGES];
        int64_t now;
        bool ok;

        while (!t->want && !t->quit)
            pthread_cond_wait(&t->cv, &t->mu);
        if (t->quit)
            break;
        t->want = false;
        now = t->want_now;
        pthread_mutex_unlock(&t->mu);
        ok = dora_compute_into(t, &st, now, fig);
        pthread_mutex_lock(&t->mu);
        t->have = ok;
        if (ok)
            memcpy(t->fig, fig, sizeof(t->fig));
        t->pending = false;
    }
    pthread_mutex_unlock(&t->mu);
    store_close(st);
    return NULL;
}

static int64_t mono_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Ask the thread for figures as of now (server_now_ms: the test clock
 * offset holds), unless it has a computation pending.  Never waits:
 * the thread holds the lock only to take an ask or hand figures over. */
static void dora_ask(struct server *s)
{
    struct telemetry *t = s->telemetry;

    pthread_mutex_lock(&t->mu);
    if (!t->pending) {
        t->want = true;
        t->pending = true;
        t->want_now = server_now_ms(s);
        t->asked_at = mono_ms();
        if (!t->asked_at)
            t->asked_at = 1;
        pthread_cond_signal(&t->cv);
    }
    pthread_mutex_unlock(&t->mu);
}

/* The last figures into @fig (false: none yet, or the store could not
 * say); asks for new ones when they are DORA_CACHE_MS old, and shows
 * the old ones meanwhile. */
static bool dora_figures(struct server *s, double fig[NGAUGES])
{
    struct telemetry *t = s->telemetry;
    bool have;

    if (!t->thread_ok)
        return false;
    if (mono_ms() - t->asked_at >= DORA_CACHE_MS)
        dora_ask(s);
    pthread_mutex_lock(&t->mu);
    have = t->have;
    memcpy(fig, t->fig, sizeof(t->fig));
    pthread_mutex_unlock(&t->mu);
    return have;
}

/* @v as prom.c writes values: the shortest of %.15g and %.17g that
 * reads back as @v. */
static const char *fmt_value(char out[40], double v)
{
    snprintf(out, 40, "%.15g", v);
    if (strtod(out, NULL) != v)
        snprintf(out, 40, "%.17g", v);
    return out;
}

static enum ferr_code write_dora(struct server *s, struct buf *out)
{
    double fig[NGAUGES];
    bool have = dora_figures(s, fig);
    enum ferr_code rc = FERR_OK;
    char num[40];

    for (size_t i = 0; i < NGAUGES && !rc; i++) {
        rc = buf_addf(out, "# HELP %s %s\n# TYPE %s gauge\n",
                      dora_gauges[i].name, dora_gauges[i].help,
                      dora_gauges[i].name);
        if (!rc && have && isfinite(fig[i]))
            rc = buf_addf(out, "%s %s\n", dora_gauges[i].name,
                          fmt_value(num, fig[i]));
    }
    return rc;
}

enum ferr_code telemetry_write(struct server *s, struct buf *out,
                               struct ferr *err)
{
    size_t start;
    enum ferr_code rc;

    buf_init(out, BODY_MAX);
    if (!s->telemetry)
        return FERR_OK;
    rc = prom_write(s->telemetry->reg, out, err);
    if (rc)
        return rc;
    start = out->len;
    if (write_dora(s, out)) {
        out->len = start; /* the registry's part is whole on its own */
        if (out->p)
            out->p[start] = '\0';
        return ferr_set(err, FERR_LIMIT, NULL,
                        "metrics exposition is larger than %zu bytes",
                        out->max);
    }
    return FERR_OK;
}
