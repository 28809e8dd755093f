/* strategy: recreate, rolling, blue-green and canary over the process
 * target and a traffic driver, and the steps they share with rollback
 * (launch, route, retire, verify).  Traffic always moves before anything
 * stops, and stopping waits for in-flight requests.  It does not keep
 * state.json, run backups or decide to roll back: it reports a failure
 * and leaves both versions' live instances in their sets. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "deploy/strategy.h"
#include "deploy/target.h"
#include "util/span.h"
#include "util/xalloc.h"

#define MAX_STEPS 100u       /* canary steps */
#define MAX_WEIGHT 256u      /* per backend (HAProxy's limit) */

static const char *const kind_names[] = { "recreate", "rolling",
                                          "blue-green", "canary" };

enum ferr_code strategy_kind_parse(const char *name, enum strategy_kind *out,
                                   struct ferr *err)
{
    for (size_t i = 0; i < sizeof(kind_names) / sizeof(kind_names[0]); i++) {
        if (strcmp(name, kind_names[i]) == 0) {
            *out = (enum strategy_kind)i;
            return FERR_OK;
        }
    }
    *out = STRATEGY_ROLLING;
    return ferr_set(err, FERR_INVALID, NULL,
                    "input 'strategy': unknown strategy '%s' (recreate, "
                    "rolling, blue-green, canary)",
                    name);
}

const char *strategy_kind_name(enum strategy_kind k)
{
    return (unsigned)k < 4 ? kind_names[k] : "?";
}

enum ferr_code strategy_duration_parse(const char *input, const char *text,
                                       unsigned *out_ms, struct ferr *err)
{
    struct span s = span_trim(span_cstr(text));
    size_t digits = 0;
    uint64_t v, mult;
    struct span unit;

    *out_ms = 0;
    while (digits < s.len && s.p[digits] >= '0' && s.p[digits] <= '9')
        digits++;
    unit = span_trim(span_of(s.p + digits, s.len - digits));
    if (span_eq_cstr(unit, "ms"))
        mult = 1;
    else if (unit.len == 0 || span_eq_cstr(unit, "s"))
        mult = 1000;
    else if (span_eq_cstr(unit, "m"))
        mult = 60000;
    else if (span_eq_cstr(unit, "h"))
        mult = 3600000;
    else
        mult = 0;
    if (digits == 0 || mult == 0 || span_to_u64(span_of(s.p, digits), &v) ||
        v > 86400000u / mult)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': bad duration '%s' (e.g. 500ms, 30s, 5m, "
                        "1h; at most 24h)",
                        input, text);
    *out_ms = (unsigned)(v * mult);
    return FERR_OK;
}

/* One line of 'steps' into @st; NULL message when fine. */
static const char *parse_step(struct span line, struct strategy_step *st,
                              struct ferr *tmp)
{
    struct span key, val;
    uint64_t v;

    if (span_starts_with(line, SPAN_LIT("-")))
        line = span_trim(span_of(line.p + 1, line.len - 1));
    if (!span_cut(line, ':', &key, &val)) {
        if (span_eq_cstr(line, "analysis")) {
            st->kind = STRATEGY_STEP_ANALYSIS;
            st->value = 0;
            return NULL;
        }
        if (span_eq_cstr(line, "pause"))
            return "pause needs a duration (pause: 30s)";
        return "expected setWeight: N, pause: DURATION or analysis";
    }
    key = span_trim(key);
    val = span_trim(val);
    if (span_eq_cstr(key, "analysis") && val.len == 0) {
        st->kind = STRATEGY_STEP_ANALYSIS;
        st->value = 0;
        return NULL;
    }
    if (span_eq_cstr(key, "setWeight")) {
        if (span_to_u64(val, &v) || v > 100)
            return "setWeight wants a percentage from 0 to 100";
        st->kind = STRATEGY_STEP_WEIGHT;
        st->value = (unsigned)v;
        return NULL;
    }
    if (span_eq_cstr(key, "pause")) {
        char *t = xstrndup(val.p, val.len);
        enum ferr_code rc;

        if (val.len == 0) {
            free(t);
            return "pause needs a duration (pause: 30s)";
        }
        rc = strategy_duration_parse("steps", t, &st->value, tmp);
        free(t);
        st->kind = STRATEGY_STEP_PAUSE;
        return rc ? "bad duration (e.g. 500ms, 30s, 5m)" : NULL;
    }
    return "expected setWeight: N, pause: DURATION or analysis";
}

enum ferr_code strategy_steps_parse(const char *text,
                                    struct strategy_step **out,
                                    size_t *out_n, struct ferr *err)
{
    struct span rest = span_cstr(text), line;
    struct strategy_step *v = xcalloc(MAX_STEPS + 1, sizeof(*v));
    size_t n = 0;
    unsigned lineno = 0, last_weight = 0;
    bool more = true;

    *out = NULL;
    *out_n = 0;
    while (more) {
        struct ferr tmp;
        const char *why;

        ferr_clear(&tmp);
        more = span_cut(rest, '\n', &line, &rest);
        lineno++;
        line = span_trim(line);
        if (line.len == 0 || line.p[0] == '#')
            continue;
        if (n == MAX_STEPS) {
            free(v);
            return ferr_set(err, FERR_LIMIT, NULL,
                            "input 'steps': more than %u steps", MAX_STEPS);
        }
        why = parse_step(line, &v[n], &tmp);
        if (why) {
            char q[72];

            free(v);
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'steps': line %u: %s, not '%s'", lineno,
                            why, span_quote(line.p, line.len, q));
        }
        if (v[n].kind == STRATEGY_STEP_WEIGHT)
            last_weight = v[n].value;
        n++;
    }
    if (last_weight < 100) {
        v[n].kind = STRATEGY_STEP_WEIGHT;
        v[n].value = 100;
        n++;
    }
    *out = v;
    *out_n = n;
    return FERR_OK;
}

void strategy_pause(unsigned ms)
{
    struct timespec ts = { .tv_sec = ms / 1000,
                           .tv_nsec = (long)(ms % 1000) * 1000000L };

    while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
        ;
}

static double mono_now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void strategy_mark_failed(struct strategy *st)
{
    if (st->failed_at.tv_sec == 0 && st->failed_at.tv_nsec == 0)
        clock_gettime(CLOCK_MONOTONIC, &st->failed_at);
}

double strategy_since_failed(const struct strategy *st)
{
    if (st->failed_at.tv_sec == 0 && st->failed_at.tv_nsec == 0)
        return 0;
    return mono_now() - ((double)st->failed_at.tv_sec +
                         (double)st->failed_at.tv_nsec / 1e9);
}

void strategy_phase(struct strategy *st, const char *phase,
                    const char *status, const char *fmt, ...)
{
    char detail[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(detail, sizeof(detail), fmt, ap);
    va_end(ap);
    if (detail[0])
        printf("[%s] %s: %s\n", phase, status, detail);
    else
        printf("[%s] %s\n", phase, status);
    fflush(stdout);
    if (st->r && st->r->phase)
        st->r->phase(st->r->ud, phase, status, detail);
}

/* ---- sets ---- */

static const char *rec_str(json_t *rec, const char *key)
{
    const char *s = json_string_value(json_object_get(rec, key));

    return s ? s : NULL;
}

static const char *health_in(json_t *h, const char *key)
{
    return json_string_value(json_object_get(h, key));
}

static void add_inst(struct strategy_set *s, const char *name, unsigned port)
{
    s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
    s->v[s->n].name = xstrdup(name);
    s->v[s->n].addr = xasprintf("127.0.0.1:%u", port);
    s->v[s->n].port = port;
    s->v[s->n].weight = 0;
    s->n++;
}

static void drop_first(struct strategy_set *s, size_t count)
{
    for (size_t i = 0; i < count && i < s->n; i++) {
        free(s->v[i].name);
        free(s->v[i].addr);
    }
    if (count > s->n)
        count = s->n;
    if (count == 0)
        return; /* also an empty set, whose v may be NULL */
    memmove(s->v, s->v + count, (s->n - count) * sizeof(*s->v));
    s->n -= count;
}

enum ferr_code strategy_set_init(struct strategy_set *s, json_t *rec,
                                 const char *envdir, struct ferr *err)
{
    json_t *h;
    struct target_instance *live = NULL;
    size_t nlive = 0;
    const char *release;
    enum ferr_code rc;

    memset(s, 0, sizeof(*s));
    if (!rec || !json_is_object(rec))
        return FERR_OK;
    s->rec = json_incref(rec);
    h = json_object_get(rec, "health");
    rc = health_spec_parse(&s->health,
                           health_in(h, "health") ? health_in(h, "health")
                                                  : "tcp",
                           health_in(h, "health-status"),
                           health_in(h, "health-body"),
                           health_in(h, "health-interval"),
                           health_in(h, "health-timeout"),
                           health_in(h, "health-successes"),
                           health_in(h, "health-failures"),
                           health_in(h, "health-deadline"), err);
    if (rc)
        return rc;
    release = rec_str(rec, "release");
    if (!release)
        return FERR_OK;
    rc = target_list(envdir, &live, &nlive, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < nlive; i++)
        if (live[i].release && strcmp(live[i].release, release) == 0)
            add_inst(s, live[i].name, live[i].port);
    target_instances_free(live, nlive);
    return FERR_OK;
}

void strategy_set_release(struct strategy_set *s)
{
    drop_first(s, s->n);
    free(s->v);
    health_spec_release(&s->health);
    json_decref(s->rec);
    memset(s, 0, sizeof(*s));
}

json_t *strategy_set_names(const struct strategy_set *s)
{
    json_t *a = json_array();

    for (size_t i = 0; i < s->n; i++)
        json_array_append_new(a, json_string(s->v[i].name));
    return a;
}

/* ---- launching ---- */

static bool name_taken(const struct strategy *st, const char *name,
                       const struct target_instance *live, size_t nlive)
{
    const struct strategy_set *sets[2] = { &st->old, &st->new };

    for (size_t i = 0; i < nlive; i++)
        if (strcmp(live[i].name, name) == 0)
            return true;
    for (size_t k = 0; k < 2; k++)
        for (size_t i = 0; i < sets[k]->n; i++)
            if (strcmp(sets[k]->v[i].name, name) == 0)
                return true;
    return false;
}

static char *free_name(const struct strategy *st, const char *version,
                       struct ferr *err)
{
    struct target_instance *live = NULL;
    size_t nlive = 0;
    char *name = NULL;

    if (target_list(st->envdir, &live, &nlive, err))
        return NULL;
    for (unsigned i = 1; i < 100000 && !name; i++) {
        char *c = xasprintf("%s-%s-%u", st->env, version, i);

        if (!name_taken(st, c, live, nlive))
            name = c;
        else
            free(c);
    }
    target_instances_free(live, nlive);
    if (!name)
        ferr_set(err, FERR_LIMIT, NULL, "no free instance name");
    return name;
}

struct probe_log {
    const char *name;
    unsigned n;
};

static void on_probe(void *ud, bool ok, const char *why)
{
    struct probe_log *pl = ud;

    pl->n++;
    if (!ok)
        printf("  probe %u of %s: %s\n", pl->n, pl->name, why ? why : "failed");
    fflush(stdout);
}

static enum ferr_code check_one(struct strategy *st, struct strategy_set *s,
                                size_t i, struct ferr *err)
{
    struct probe_log pl = { s->v[i].name, 0 };
    enum ferr_code rc;

    (void)st;
    rc = health_wait(&s->health, "127.0.0.1", s->v[i].port, on_probe, &pl,
                     err);
    if (rc)
        ferr_prefix(err, "instance '%s'", s->v[i].name);
    else
        printf("  %s is healthy (%s)\n", s->v[i].name, s->v[i].addr);
    fflush(stdout);
    return rc;
}

enum ferr_code strategy_launch(struct strategy *st, struct strategy_set *s,
                               unsigned count, struct ferr *err)
{
    const char *version = rec_str(s->rec, "version");
    json_t *gr = json_object_get(s->rec, "grace_ms");
    struct target_process p = {
        .command = rec_str(s->rec, "command"),
        .release = rec_str(s->rec, "release"),
        .version = version,
        .env = json_object_get(s->rec, "env"),
        .grace_ms = json_is_integer(gr) ? (unsigned)json_integer_value(gr)
                                        : 10000,
    };
    size_t first = s->n;
    enum ferr_code rc = FERR_OK;

    if (!p.command || !p.release || !version)
        return ferr_set(err, FERR_INVALID, NULL,
                        "version record lacks its command or release");
    strategy_phase(st, "start", "started", "%u instance%s of %s", count,
                   count == 1 ? "" : "s", version);
    for (unsigned i = 0; i < count; i++) {
        struct target_instance ti;
        char *name = free_name(st, version, err);

        if (!name) {
            rc = err ? err->code : FERR_LIMIT;
            break;
        }
        memset(&ti, 0, sizeof(ti));
        rc = target_start(st->envdir, st->self_exe, &p, name, &ti, err);
        if (rc) {
            ferr_prefix(err, "instance '%s'", name);
            free(name);
            break;
        }
        add_inst(s, ti.name ? ti.name : name, ti.port);
        printf("  %s started on 127.0.0.1:%u (supervisor %d)\n",
               s->v[s->n - 1].name, ti.port, (int)ti.pid);
        fflush(stdout);
        target_instance_release(&ti);
        free(name);
    }
    if (rc) {
        strategy_mark_failed(st);
        strategy_phase(st, "start", "failed", "%s", err ? err->msg : "");
        return rc;
    }
    strategy_phase(st, "start", "succeeded", "%u running", count);
    strategy_phase(st, "health", "started", "%s", "");
    for (size_t i = first; i < s->n; i++) {
        rc = check_one(st, s, i, err);
        if (rc) {
            strategy_mark_failed(st);
            strategy_phase(st, "health", "failed", "%s", err ? err->msg : "");
            return rc;
        }
    }
    strategy_phase(st, "health", "succeeded", "%u healthy", count);
    return FERR_OK;
}

enum ferr_code strategy_verify(struct strategy *st, struct strategy_set *s,
                               struct ferr *err)
{
    for (size_t i = 0; i < s->n; i++) {
        enum ferr_code rc = check_one(st, s, i, err);

        if (rc)
            return rc;
    }
    return FERR_OK;
}

/* ---- traffic ---- */

enum ferr_code strategy_route(struct strategy *st, struct ferr *err)
{
    const struct strategy_set *sets[2] = { &st->old, &st->new };
    struct traffic_backend *b;
    size_t n = 0;
    enum ferr_code rc;

    if (!st->traffic)
        return FERR_OK;
    b = xcalloc(st->old.n + st->new.n + 1, sizeof(*b));
    for (size_t k = 0; k < 2; k++) {
        for (size_t i = 0; i < sets[k]->n; i++) {
            const struct strategy_inst *in = &sets[k]->v[i];

            if (in->weight == 0)
                continue;
            b[n].name = in->name;
            b[n].addr = in->addr;
            b[n].weight = in->weight;
            n++;
        }
    }
    rc = n ? traffic_set(st->traffic, b, n, err) : FERR_OK;
    free(b);
    return rc;
}

static unsigned gcd(unsigned a, unsigned b)
{
    while (b) {
        unsigned t = a % b;

        a = b;
        b = t;
    }
    return a;
}

static void set_weights(struct strategy_set *s, unsigned w)
{
    for (size_t i = 0; i < s->n; i++)
        s->v[i].weight = w;
}

void strategy_weigh(struct strategy *st, unsigned old_share,
                    unsigned new_share)
{
    unsigned wo, wn, g;

    if (st->old.n == 0 || old_share == 0) {
        set_weights(&st->old, 0);
        set_weights(&st->new, new_share ? 1 : 0);
        return;
    }
    if (st->new.n == 0 || new_share == 0) {
        set_weights(&st->new, 0);
        set_weights(&st->old, 1);
        return;
    }
    /* old_share:new_share over the sets: each old backend gets
     * old_share * |new|, each new one new_share * |old| */
    wo = old_share * (unsigned)st->new.n;
    wn = new_share * (unsigned)st->old.n;
    g = gcd(wo, wn);
    wo /= g;
    wn /= g;
    if (wo > MAX_WEIGHT || wn > MAX_WEIGHT) {
        double f = (double)MAX_WEIGHT / (wo > wn ? wo : wn);

        wo = (unsigned)lround(wo * f);
        wn = (unsigned)lround(wn * f);
        wo = wo ? wo : 1;
        wn = wn ? wn : 1;
    }
    set_weights(&st->old, wo);
    set_weights(&st->new, wn);
}

static size_t weighted(const struct strategy_set *s)
{
    size_t n = 0;

    for (size_t i = 0; i < s->n; i++)
        n += s->v[i].weight > 0;
    return n;
}

enum ferr_code strategy_retire(struct strategy *st, struct strategy_set *s,
                               size_t count, struct ferr *err)
{
    const char **addrs;
    size_t serving;
    enum ferr_code rc = FERR_OK;

    if (count > s->n)
        count = s->n;
    if (count == 0)
        return FERR_OK;
    for (size_t i = 0; i < count; i++)
        s->v[i].weight = 0;
    /* with nothing left to take the traffic, there is no one to drain
     * to: the proxy keeps the set and these just stop */
    serving = weighted(&st->old) + weighted(&st->new);
    if (serving) {
        rc = strategy_route(st, err);
        if (rc)
            return rc;
    }
    addrs = xcalloc(count, sizeof(*addrs));
    for (size_t i = 0; i < count; i++)
        addrs[i] = s->v[i].addr;
    if (st->traffic && serving) {
        struct ferr derr;

        ferr_clear(&derr);
        if (traffic_wait_drained(st->traffic, addrs, count,
                                 st->drain_ms ? st->drain_ms : 30000, &derr))
            printf("  warning: %s\n", derr.msg);
    }
    free(addrs);
    for (size_t i = 0; i < count; i++) {
        struct ferr serr;

        ferr_clear(&serr);
        if (target_stop(st->envdir, s->v[i].name, &serr)) {
            if (!rc)
                rc = ferr_set(err, serr.code, NULL, "%s", serr.msg);
        } else {
            printf("  %s stopped\n", s->v[i].name);
        }
    }
    fflush(stdout);
    drop_first(s, count);
    return rc;
}

/* Stop without routing away first (recreate: nothing replaces them). */
static enum ferr_code stop_all(struct strategy *st, struct strategy_set *s,
                               struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    for (size_t i = 0; i < s->n; i++) {
        struct ferr serr;

        ferr_clear(&serr);
        if (target_stop(st->envdir, s->v[i].name, &serr)) {
            if (!rc)
                rc = ferr_set(err, serr.code, NULL, "%s", serr.msg);
        } else {
            printf("  %s stopped\n", s->v[i].name);
        }
    }
    drop_first(s, s->n);
    return rc;
}

/* ---- the pieces of a strategy ---- */

static enum ferr_code route_phase(struct strategy *st, const char *what,
                                  struct ferr *err)
{
    enum ferr_code rc;

    if (!st->traffic)
        return FERR_OK;
    rc = strategy_route(st, err);
    if (rc) {
        strategy_mark_failed(st);
        strategy_phase(st, "traffic", "failed", "%s", err ? err->msg : "");
        return rc;
    }
    strategy_phase(st, "traffic", "succeeded", "%s", what);
    return FERR_OK;
}

struct counters_ud {
    struct strategy *st;
};

static bool in_set(const struct strategy_set *s, const char *name,
                   const char *addr)
{
    for (size_t i = 0; i < s->n; i++)
        if ((name && strcmp(s->v[i].name, name) == 0) ||
            (addr && strcmp(s->v[i].addr, addr) == 0))
            return true;
    return false;
}

static enum ferr_code new_counters(void *ud, uint64_t *requests,
                                   uint64_t *errors_5xx, struct ferr *err)
{
    struct strategy *st = ud;
    struct traffic_backend *b = NULL;
    size_t n = 0;
    enum ferr_code rc;

    *requests = 0;
    *errors_5xx = 0;
    rc = traffic_get(st->traffic, &b, &n, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < n; i++) {
        if (!in_set(&st->new, b[i].name, b[i].addr))
            continue;
        *requests += b[i].requests;
        *errors_5xx += b[i].errors_5xx;
    }
    traffic_backends_free(b, n);
    return FERR_OK;
}

static void on_measure(void *ud, double value, const char *verdict)
{
    (void)ud;
    (void)value;
    printf("  analysis: %s\n", verdict);
    fflush(stdout);
}

static enum ferr_code analyse(struct strategy *st,
                              const struct analysis_spec *a,
                              struct ferr *err)
{
    enum analysis_result res = ANALYSIS_FAILED;
    char why[512] = "";
    enum ferr_code rc;

    strategy_phase(st, "analysis", "started", "%u measurements %u ms apart",
                   a->count, a->interval_ms);
    rc = analysis_run(a, st->traffic ? new_counters : NULL, st, on_measure,
                      NULL, &res, why, sizeof(why), err);
    if (rc) {
        strategy_mark_failed(st);
        strategy_phase(st, "analysis", "failed", "%s", err ? err->msg : "");
        return rc;
    }
    if (res == ANALYSIS_FAILED) {
        strategy_mark_failed(st);
        strategy_phase(st, "analysis", "failed", "%s", why);
        return ferr_set(err, FERR_INVALID, NULL, "analysis failed: %s", why);
    }
    strategy_phase(st, "analysis", "succeeded", "%s", why);
    return FERR_OK;
}

static enum ferr_code post_deploy(struct strategy *st,
                                  const struct strategy_plan *p,
                                  struct ferr *err)
{
    enum ferr_code rc;

    if (!p->post_deploy)
        return FERR_OK;
    strategy_phase(st, "post-deploy", "started", "%s", "");
    rc = target_run_script(p->post_deploy, p->workspace, p->hook_env,
                           p->timeout_ms, err);
    if (rc) {
        strategy_mark_failed(st);
        strategy_phase(st, "post-deploy", "failed", "%s", err ? err->msg : "");
        return rc;
    }
    strategy_phase(st, "post-deploy", "succeeded", "%s", "");
    return FERR_OK;
}

static enum ferr_code promote(struct strategy *st, struct ferr *err)
{
    size_t n = st->old.n;
    enum ferr_code rc;

    if (n == 0)
        return FERR_OK;
    strategy_phase(st, "promote", "started", "stopping %zu instance%s of "
                   "the previous version", n, n == 1 ? "" : "s");
    rc = strategy_retire(st, &st->old, n, err);
    if (rc) {
        /* the new version holds the traffic: a stuck old instance is
         * not a reason to roll back */
        printf("  warning: %s\n", err ? err->msg : "");
        if (err)
            ferr_clear(err);
    }
    strategy_phase(st, "promote", "succeeded", "%s", "");
    return FERR_OK;
}

/* ---- the strategies ---- */

static enum ferr_code run_recreate(struct strategy *st,
                                   const struct strategy_plan *p,
                                   struct ferr *err)
{
    enum ferr_code rc;

    if (st->old.n) {
        strategy_phase(st, "promote", "started", "recreate: stopping %zu "
                       "instance%s first", st->old.n,
                       st->old.n == 1 ? "" : "s");
        rc = stop_all(st, &st->old, err);
        if (rc)
            return rc;
        strategy_phase(st, "promote", "succeeded", "%s", "");
    }
    rc = strategy_launch(st, &st->new, p->instances, err);
    if (rc)
        return rc;
    strategy_weigh(st, 0, 100);
    return route_phase(st, "all traffic to the new version", err);
}

static void weigh_equal(struct strategy *st)
{
    set_weights(&st->old, 1);
    set_weights(&st->new, 1);
}

static enum ferr_code run_rolling(struct strategy *st,
                                  const struct strategy_plan *p,
                                  struct ferr *err)
{
    unsigned done = 0;
    enum ferr_code rc;

    while (done < p->instances) {
        unsigned k = p->instances - done;
        size_t out;

        if (k > p->batch)
            k = p->batch;
        printf("batch: %u new instance%s (%u of %u)\n", k, k == 1 ? "" : "s",
               done + k, p->instances);
        rc = strategy_launch(st, &st->new, k, err);
        if (rc)
            return rc;
        weigh_equal(st);
        rc = route_phase(st, "new instances take their share", err);
        if (rc)
            return rc;
        out = st->old.n < k ? st->old.n : k;
        if (done + k >= p->instances)
            out = st->old.n;
        if (out) {
            rc = strategy_retire(st, &st->old, out, err);
            if (rc) {
                strategy_mark_failed(st);
                return rc;
            }
        }
        done += k;
    }
    return FERR_OK;
}

static enum ferr_code run_blue_green(struct strategy *st,
                                     const struct strategy_plan *p,
                                     struct ferr *err)
{
    double t0, left;
    enum ferr_code rc;

    rc = strategy_launch(st, &st->new, p->instances, err);
    if (rc)
        return rc;
    strategy_weigh(st, 0, 100);
    rc = route_phase(st, "switched to the new version", err);
    if (rc)
        return rc;
    t0 = mono_now();
    rc = post_deploy(st, p, err);
    if (rc)
        return rc;
    if (p->analysis) {
        rc = analyse(st, p->analysis, err);
        if (rc)
            return rc;
    }
    left = (double)p->keep_previous_ms / 1000.0 - (mono_now() - t0);
    if (left > 0 && st->old.n) {
        printf("keeping the previous version for %.1f s more (instant "
               "rollback)\n", left);
        fflush(stdout);
        strategy_pause((unsigned)(left * 1000));
    }
    return FERR_OK;
}

static enum ferr_code run_canary(struct strategy *st,
                                 const struct strategy_plan *p,
                                 struct ferr *err)
{
    bool analysed = false;
    enum ferr_code rc;

    rc = strategy_launch(st, &st->new, p->instances, err);
    if (rc)
        return rc;
    for (size_t i = 0; i < p->nsteps; i++) {
        const struct strategy_step *s = &p->steps[i];
        char what[64];

        switch (s->kind) {
        case STRATEGY_STEP_WEIGHT:
            strategy_weigh(st, 100 - s->value, s->value);
            snprintf(what, sizeof(what), "weight %u %% to the new version",
                     s->value);
            rc = route_phase(st, what, err);
            break;
        case STRATEGY_STEP_PAUSE:
            printf("pause %u ms\n", s->value);
            fflush(stdout);
            strategy_pause(s->value);
            break;
        case STRATEGY_STEP_ANALYSIS:
            rc = analyse(st, p->step_analysis, err);
            analysed = true;
            break;
        }
        if (rc)
            return rc;
    }
    rc = post_deploy(st, p, err);
    if (rc)
        return rc;
    if (p->analysis && !analysed)
        rc = analyse(st, p->analysis, err);
    return rc;
}

enum ferr_code strategy_run(struct strategy *st, const struct strategy_plan *p,
                            struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    switch (p->kind) {
    case STRATEGY_RECREATE: rc = run_recreate(st, p, err); break;
    case STRATEGY_ROLLING: rc = run_rolling(st, p, err); break;
    case STRATEGY_BLUE_GREEN: rc = run_blue_green(st, p, err); break;
    case STRATEGY_CANARY: rc = run_canary(st, p, err); break;
    }
    if (rc)
        return rc;
    if (p->kind == STRATEGY_RECREATE || p->kind == STRATEGY_ROLLING) {
        rc = post_deploy(st, p, err);
        if (!rc && p->analysis)
            rc = analyse(st, p->analysis, err);
        if (rc)
            return rc;
    }
    return promote(st, err);
}
