/* schedule: collects the on.schedule crons of a repository's workflows
 * from its mirror, and answers "is it due" (the latest missed slot, once)
 * and "when next" over pipeline/cron.  It does not store anything, start
 * runs or keep timers: the server does, from these answers.  Times are
 * UTC only (an on.schedule timezone is reported and ignored). */
#include "trigger/schedule.h"

#include <stdlib.h>
#include <string.h>

#include "git/mirror.h"
#include "pipeline/node.h"
#include "pipeline/wf.h"
#include "util/arena.h"
#include "util/diag.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/span.h"
#include "util/xalloc.h"

#define MS_PER_MIN INT64_C(60000)
#define MIN_PER_DAY 1440

struct entries {
    struct schedule_entry *v;
    size_t n, cap;
};

static void entries_add(struct entries *es, const char *workflow,
                        const char *cron)
{
    for (size_t i = 0; i < es->n; i++)
        if (!strcmp(es->v[i].workflow, workflow) &&
            !strcmp(es->v[i].cron, cron))
            return;
    if (es->n == es->cap) {
        es->cap = es->cap ? es->cap * 2 : 8;
        es->v = xrealloc(es->v, es->cap * sizeof(*es->v));
    }
    es->v[es->n].workflow = xstrdup(workflow);
    es->v[es->n].cron = xstrdup(cron);
    es->n++;
}

/* GitHub honours `timezone:`; ferry's store and cron are UTC-only. */
static void warn_timezones(const char *path, const struct wf_trigger *t)
{
    if (!t->node || t->node->kind != NODE_SEQ)
        return;
    for (size_t i = 0; i < t->node->n; i++) {
        const struct node *it = t->node->items[i];
        const struct node *tz;

        if (it->kind != NODE_MAP)
            continue;
        tz = node_get(it, "timezone", NULL);
        if (tz && tz->kind == NODE_SCALAR && tz->str &&
            strcmp(tz->str, "UTC") && strcmp(tz->str, "Etc/UTC"))
            log_warn("schedule timezone ignored, cron runs in UTC "
                     "workflow='%s' timezone='%s'",
                     path, tz->str);
    }
}

/* Add the crons of workflow @path at @sha; problems are logged. */
static enum ferr_code collect_one(const char *mirror, const char *sha,
                                  const char *path, struct entries *es,
                                  struct ferr *err)
{
    struct arena *a = NULL;
    struct diags d;
    struct ferr e;
    struct wf *wf = NULL;
    const struct wf_trigger *t;
    char *src = NULL;
    size_t len = 0;
    char msg[600];
    enum ferr_code rc;

    ferr_clear(&e);
    diags_init(&d);
    rc = mirror_read_file(mirror, sha, path, LIM_WORKFLOW_BYTES, &src, &len,
                          &e);
    if (rc == FERR_LIMIT || rc == FERR_NOTFOUND || rc == FERR_INVALID) {
        log_warn("schedule: workflow skipped workflow='%s' sha='%.12s' "
                 "reason='%s'",
                 path, sha, ferr_format(&e, msg, sizeof(msg)));
        rc = FERR_OK;
        goto done;
    }
    if (rc) {
        rc = ferr_set(err, e.code, NULL, "%s", e.msg);
        goto done;
    }
    a = arena_new(16 * 1024);
    if (wf_load(a, path, span_of(src, len), &wf, &d, &e)) {
        log_warn("schedule: workflow skipped workflow='%s' sha='%.12s' "
                 "reason='%s'",
                 path, sha, ferr_format(&e, msg, sizeof(msg)));
        goto done;
    }
    t = wf_trigger_find(wf, "schedule");
    if (!t)
        goto done;
    warn_timezones(path, t);
    for (size_t i = 0; i < t->crons.n; i++) {
        struct cron c;
        struct pos at = { path, 0, 0 };

        if (t->crons.nodes && t->crons.nodes[i])
            at = t->crons.nodes[i]->pos;
        ferr_clear(&e);
        if (cron_parse(span_cstr(t->crons.v[i]), &at, &c, &e)) {
            log_warn("schedule: cron skipped workflow='%s' sha='%.12s' "
                     "reason='%s'",
                     path, sha, ferr_format(&e, msg, sizeof(msg)));
            continue;
        }
        entries_add(es, path, t->crons.v[i]);
    }
done:
    arena_free(a);
    diags_release(&d);
    free(src);
    return rc;
}

enum ferr_code schedule_collect(const char *mirror, const char *sha,
                                struct schedule_entry **out, size_t *out_n,
                                struct ferr *err)
{
    struct entries es = { NULL, 0, 0 };
    char **paths = NULL;
    size_t np = 0;
    enum ferr_code rc;

    *out = NULL;
    *out_n = 0;
    rc = mirror_workflows(mirror, sha, &paths, &np, err);
    for (size_t i = 0; !rc && i < np; i++)
        rc = collect_one(mirror, sha, paths[i], &es, err);
    mirror_free_paths(paths, np);
    if (rc) {
        schedule_entries_free(es.v, es.n);
        return rc;
    }
    *out = es.v;
    *out_n = es.n;
    return FERR_OK;
}

void schedule_entries_free(struct schedule_entry *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].workflow);
        free(v[i].cron);
    }
    free(v);
}

static int64_t floor_div(int64_t a, int64_t b)
{
    int64_t q = a / b;

    return (a % b != 0 && (a < 0) != (b < 0)) ? q - 1 : q;
}

static int high_bit(uint64_t bits, int limit)
{
    for (int i = limit - 1; i >= 0; i--)
        if ((bits >> i) & 1u)
            return i;
    return -1;
}

/* The latest minute of the day (h * 60 + m) at or before @bound whose
 * hour and minute match @c, or -1.  The day itself is checked apart. */
static int latest_minute(const struct cron *c, int bound)
{
    for (int h = bound / 60; h >= 0; h--) {
        int m;

        if (!((c->hour >> h) & 1u))
            continue;
        m = high_bit(c->minute, h == bound / 60 ? bound % 60 + 1 : 60);
        if (m >= 0)
            return h * 60 + m;
    }
    return -1;
}

bool schedule_due(const struct cron *c, int64_t last_ms, int64_t now_ms,
                  int64_t *out_slot_ms)
{
    /* keep day * 86400 and minute * 60000 far inside int64 */
    const int64_t lim = INT64_C(1) << 52;
    int maxh = high_bit(c->hour, 24);
    int maxm = high_bit(c->minute, 60);
    int64_t minute;
    int64_t day;
    int bound;

    *out_slot_ms = -1;
    if (maxh < 0 || maxm < 0 || now_ms <= last_ms || now_ms > lim ||
        now_ms < -lim)
        return false;
    minute = floor_div(now_ms, MS_PER_MIN);
    day = floor_div(minute, MIN_PER_DAY);
    bound = (int)(minute - day * MIN_PER_DAY);
    for (int k = 0; k <= SCHEDULE_LOOKBACK_DAYS;
         k++, day--, bound = MIN_PER_DAY - 1) {
        int64_t t;
        int m;

        if ((day * MIN_PER_DAY + bound) * MS_PER_MIN <= last_ms)
            return false; /* nothing later than last_ms is left */
        /* the day matches iff its last hour/minute slot does */
        if (!cron_matches(c, (time_t)(day * 86400 + maxh * 3600 +
                                      maxm * 60)))
            continue;
        m = latest_minute(c, bound);
        if (m < 0)
            continue;
        t = (day * MIN_PER_DAY + m) * MS_PER_MIN;
        if (t <= last_ms)
            return false;
        *out_slot_ms = t;
        return true;
    }
    return false;
}

int64_t schedule_next(const struct cron *c, int64_t after_ms)
{
    time_t next = cron_next(c, (time_t)floor_div(after_ms, 1000));

    if (next < 0 || (int64_t)next > INT64_MAX / 1000)
        return -1;
    return (int64_t)next * 1000;
}
