/* run: the scheduler of a local run.  Workflow jobs wait for their needs,
 * then expand their matrix into job instances that start as slots,
 * max-parallel and concurrency groups allow.  Everything happens in loop
 * callbacks: child exits, pipe readiness, timers, signals. */
#include "engine/run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/job.h"
#include "engine/plan.h"
#include "exec/artifact.h"
#include "exec/mask.h"
#include "exec/proc.h"
#include "exec/workspace.h"
#include "pipeline/expr.h"
#include "pipeline/matrix.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/loop.h"
#include "util/xalloc.h"

enum tstate { T_WAIT, T_ACTIVE, T_DONE };

struct inst {
    struct tmpl *t;
    struct job *job;
    size_t index;
    bool started;
    bool finished;
    bool waiting_group; /* parked as the pending job of its group */
    enum result res;    /* the result when it never got a job */
    char *group;        /* concurrency group or NULL */
    bool cancel_in_progress;
    /* gated runs: a job with `environment:` waits for the server */
    enum { ENV_NONE, ENV_ASKED, ENV_GRANTED } env_state;
    char *env_key;   /* the instance key the server answers to */
    json_t *env_grant; /* variables granted, until the job adopts them */
};

struct tmpl {
    struct run *r;
    struct plan_wf *pw;
    const struct wf_job *wj;
    size_t *needs; /* indices into the workflow's tmpls */
    size_t nneeds;
    struct tmpl *siblings; /* the workflow's tmpl array */
    enum tstate state;
    bool selected;
    bool anc_failed;     /* some ancestor failed */
    bool anc_incomplete; /* some ancestor was skipped or cancelled */
    enum result result;
    struct inst *insts;
    size_t ninst;
    size_t running;
    size_t ndone;
    unsigned max_parallel; /* 0 = no limit */
    bool fail_fast;
    bool after_cancel; /* activated after the run was cancelled */
    json_t *outputs;
    json_t *cells; /* matrix cells, or NULL without a matrix */
};

struct child {
    pid_t pid;
    void (*cb)(void *ud, int status);
    void *ud;
};

struct cgroup {
    char *name;
    struct inst *running;
    struct inst *pending;
};

/* Workflow-level concurrency: one workflow of a group at a time. */
enum wcstate { WC_FREE, WC_WAIT, WC_RUN, WC_DONE };

struct wfconc {
    char *group; /* NULL: no concurrency key */
    bool cancel_in_progress;
    enum wcstate state;
};

struct run {
    const struct run_opts *opts;
    struct wfconc *wfc; /* per workflow */
    struct plan *plan;
    struct loop *loop;
    struct tmpl **tmpls; /* per workflow */
    size_t *ntmpls;
    unsigned slots;
    unsigned running;
    struct child *children;
    size_t nchildren;
    struct cgroup *groups;
    size_t ngroups;
    bool cancelled;
    bool aborted; /* a second interrupt: stop everything */
    int interrupts;
    struct job_host host;
    struct mask *mask;
    struct artifact_store *store;
    unsigned credits; /* gated runs: job slots granted, not yet used */
    bool wanted;      /* gated runs: a slot was asked for */
    struct buf gate_msg; /* gated runs: a JSON line being read */
    bool in_msg;         /* … between its '{' and its '\n' */
    bool skip_msg;       /* … which is too long: to its '\n' */
    char *home;
    bool own_home;
    char *run_dir;
    char run_id[32];
};

static void schedule(struct run *r);

/* ---------- children ---------- */

static void watch_child(void *hud, pid_t pid, void (*cb)(void *, int), void *ud)
{
    struct run *r = hud;

    r->children =
        xrealloc(r->children, (r->nchildren + 1) * sizeof(*r->children));
    r->children[r->nchildren].pid = pid;
    r->children[r->nchildren].cb = cb;
    r->children[r->nchildren].ud = ud;
    r->nchildren++;
}

static void on_sigchld(struct loop *l, int signo, void *ud)
{
    struct run *r = ud;
    pid_t pid;
    int status;

    (void)l;
    (void)signo;
    /* signals coalesce: reap until nothing is left */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
        for (size_t i = 0; i < r->nchildren; i++) {
            if (r->children[i].pid == pid) {
                struct child c = r->children[i];

                r->children[i] = r->children[--r->nchildren];
                c.cb(c.ud, status);
                break;
            }
        }
    }
}

/* ---------- expressions at the workflow-job level ---------- */

static json_t *needs_ctx(const struct tmpl *t)
{
    json_t *n = json_object();

    for (size_t i = 0; i < t->nneeds; i++) {
        const struct tmpl *d = &t->siblings[t->needs[i]];

        json_object_set_new(n, d->wj->id,
                            json_pack("{s:s, s:O}", "result",
                                      result_name(d->result), "outputs",
                                      d->outputs));
    }
    return n;
}

static json_t *tmpl_ctx(const struct tmpl *t, json_t *needs)
{
    json_t *c = json_object();

    json_object_set(c, "github", t->pw->github);
    json_object_set(c, "needs", needs);
    json_object_set(c, "vars", t->r->opts->vars);
    json_object_set(c, "inputs", t->pw->inputs);
    json_object_set_new(c, "env", json_object());
    return c;
}

static void expr_env_of(struct expr_env *e, json_t *ctx, enum expr_status st)
{
    memset(e, 0, sizeof(*e));
    e->contexts = ctx;
    e->status = st;
}

/* Evaluate every string with ${{ }} inside @v (matrix values). */
static enum ferr_code eval_deep(const struct expr_env *e, json_t **v,
                                const struct pos *pos, struct ferr *err)
{
    if (json_is_string(*v) && strstr(json_string_value(*v), "${{")) {
        json_t *out = NULL;
        enum ferr_code rc = expr_interp_value(
            e, span_cstr(json_string_value(*v)), pos, &out, err);

        if (rc)
            return rc;
        json_decref(*v);
        *v = out;
    } else if (json_is_object(*v)) {
        const char *k;
        json_t *x;
        void *tmp;

        json_object_foreach_safe (*v, tmp, k, x) {
            json_t *y = json_incref(x);
            enum ferr_code rc = eval_deep(e, &y, pos, err);

            if (rc) {
                json_decref(y);
                return rc;
            }
            json_object_set_new(*v, k, y);
        }
    } else if (json_is_array(*v)) {
        for (size_t i = 0; i < json_array_size(*v); i++) {
            json_t *y = json_incref(json_array_get(*v, i));
            enum ferr_code rc = eval_deep(e, &y, pos, err);

            if (rc) {
                json_decref(y);
                return rc;
            }
            json_array_set_new(*v, i, y);
        }
    }
    return FERR_OK;
}

/* The key of instance @index of @t (-1: the job as a whole), unique
 * across the workflows of the run: workflow index, job id, matrix cell.
 * Heap. */
static char *inst_key(const struct tmpl *t, long index)
{
    size_t w = (size_t)(t->pw - t->r->plan->wfs);

    if (index >= 0 && t->cells)
        return xasprintf("%zu-wf-%s-%ld", w, t->wj->id, index + 1);
    return xasprintf("%zu-wf-%s", w, t->wj->id);
}

static void emit_job_only(struct tmpl *t, const char *name,
                          const json_t *matrix, long index, enum result res,
                          const char *why)
{
    struct event ev;
    char *key = inst_key(t, index);

    memset(&ev, 0, sizeof(ev));
    ev.kind = EV_JOB_FINISHED;
    ev.run_id = t->r->run_id;
    ev.workflow = t->pw->wf->name ? t->pw->wf->name : t->pw->display_path;
    ev.workflow_file = t->pw->display_path;
    ev.job_id = t->wj->id;
    ev.job_name = name;
    ev.job_key = key;
    ev.matrix = matrix;
    ev.step = -1;
    ev.outcome = res;
    ev.result = res;
    ev.text = span_cstr(why);
    ev.outputs = t->outputs;
    event_emit(&t->r->opts->sink, &ev);
    free(key);
}

static void tmpl_finish(struct tmpl *t, enum result res, const char *why)
{
    t->state = T_DONE;
    t->result = res;
    if (why)
        emit_job_only(t, t->wj->name ? t->wj->name : t->wj->id, NULL, -1, res,
                      why);
}

/* Display name of instance @i: the job's name (matrix values appended
 * when the name does not use them). */
static char *inst_name(struct tmpl *t, json_t *ctx, const json_t *cell)
{
    struct buf b;
    const char *k;
    json_t *v;
    bool first = true;
    char *out;

    buf_init(&b, 4096);
    if (t->wj->name) {
        struct expr_env e;

        expr_env_of(&e, ctx, EXPR_OK);
        if (expr_interp(&e, span_cstr(t->wj->name), &t->wj->pos, &b, NULL))
            buf_reset(&b);
    }
    if (!b.len && buf_adds(&b, t->wj->name ? t->wj->name : t->wj->id))
        buf_reset(&b);
    if (cell && (!t->wj->name || !strstr(t->wj->name, "${{"))) {
        if (buf_adds(&b, " (") == FERR_OK) {
            json_object_foreach ((json_t *)cell, k, v) {
                if (!first && buf_adds(&b, ", "))
                    break;
                first = false;
                if (expr_to_string(v, &b))
                    break;
            }
            if (buf_adds(&b, ")"))
                buf_reset(&b);
        }
    }
    out = xstrndup(buf_cstr(&b), b.len);
    buf_release(&b);
    return out;
}

static enum result result_of_name(const char *s)
{
    static const enum result all[] = {RES_SUCCESS, RES_FAILURE,
                                      RES_CANCELLED, RES_SKIPPED};

    for (size_t i = 0; s && i < sizeof(all) / sizeof(all[0]); i++)
        if (strcmp(s, result_name(all[i])) == 0)
            return all[i];
    return RES_NONE;
}

/* A re-run keeps a job from the previous attempt: its result and
 * outputs stand, it does not run again. */
static bool reused(struct tmpl *t)
{
    json_t *keep = t->r->opts->reuse
                       ? json_object_get(t->r->opts->reuse, t->wj->id)
                       : NULL;
    enum result res = result_of_name(
        json_string_value(json_object_get(keep, "result")));
    json_t *outs = json_object_get(keep, "outputs");

    if (res == RES_NONE)
        return false;
    if (json_is_object(outs))
        json_object_update(t->outputs, outs);
    tmpl_finish(t, res, "kept from the previous attempt");
    return true;
}

/* All needs are done: decide whether the job runs and expand it. */
static void activate(struct tmpl *t)
{
    struct run *r = t->r;
    const struct wf_job *wj = t->wj;
    json_t *needs = needs_ctx(t);
    json_t *ctx = tmpl_ctx(t, needs);
    json_t *cells = NULL;
    json_t *strategy_fail_fast = NULL;
    struct expr_env e;
    struct ferr err;
    enum expr_status st;
    bool run_it = true;
    bool all_ok = true;
    char msg[1200];

    ferr_clear(&err);
    if (r->aborted) {
        tmpl_finish(t, RES_CANCELLED, "the run was aborted");
        goto done;
    }
    if (reused(t))
        goto done;
    for (size_t i = 0; i < t->nneeds; i++) {
        const struct tmpl *d = &t->siblings[t->needs[i]];

        if (d->result != RES_SUCCESS)
            all_ok = false;
        if (d->result == RES_FAILURE || d->anc_failed)
            t->anc_failed = true;
        if (d->result == RES_SKIPPED || d->result == RES_CANCELLED ||
            d->anc_incomplete)
            t->anc_incomplete = true;
    }
    /* as GitHub: success() needs every ancestor to have succeeded;
     * failure() needs one to have failed; a skipped or cancelled one
     * makes both false */
    st = r->cancelled        ? EXPR_CANCELLED
         : t->anc_failed     ? EXPR_FAILED
         : t->anc_incomplete ? EXPR_INCOMPLETE
                             : EXPR_OK;
    expr_env_of(&e, ctx, st);
    if (wj->if_expr) {
        if (expr_eval_cond(&e, span_cstr(wj->if_expr),
                           wj->if_node ? &wj->if_node->pos : &wj->pos, &run_it,
                           &err)) {
            tmpl_finish(t, RES_FAILURE, ferr_format(&err, msg, sizeof(msg)));
            goto done;
        }
    } else {
        run_it = all_ok && !r->cancelled;
    }
    if (!run_it) {
        tmpl_finish(t, r->cancelled ? RES_CANCELLED : RES_SKIPPED, "");
        goto done;
    }
    if (wj->matrix) {
        json_t *m = NULL;

        if (node_to_json(wj->matrix, &m, &err) ||
            eval_deep(&e, &m, &wj->matrix->pos, &err) ||
            (json_is_string(m) &&
             ferr_set(&err, FERR_INVALID, &wj->matrix->pos,
                      "strategy.matrix must be a mapping")) ||
            matrix_expand(m, &wj->matrix->pos, &cells, &err)) {
            json_decref(m);
            tmpl_finish(t, RES_FAILURE, ferr_format(&err, msg, sizeof(msg)));
            goto done;
        }
        json_decref(m);
        if (json_array_size(cells) == 0) {
            json_decref(cells);
            tmpl_finish(t, RES_SKIPPED, "the matrix is empty");
            goto done;
        }
    }
    t->fail_fast = true;
    if (wj->fail_fast) {
        if (node_to_json(wj->fail_fast, &strategy_fail_fast, &err) ||
            eval_deep(&e, &strategy_fail_fast, &wj->fail_fast->pos, &err)) {
            json_decref(strategy_fail_fast);
            json_decref(cells);
            tmpl_finish(t, RES_FAILURE, ferr_format(&err, msg, sizeof(msg)));
            goto done;
        }
        t->fail_fast =
            json_is_string(strategy_fail_fast)
                ? strcmp(json_string_value(strategy_fail_fast), "false") != 0
                : expr_truthy(strategy_fail_fast); /* default on */
        json_decref(strategy_fail_fast);
    }
    if (wj->max_parallel) {
        json_t *mp = NULL;
        double d = 0;

        if (node_to_json(wj->max_parallel, &mp, &err) ||
            eval_deep(&e, &mp, &wj->max_parallel->pos, &err)) {
            json_decref(mp);
            json_decref(cells);
            tmpl_finish(t, RES_FAILURE, ferr_format(&err, msg, sizeof(msg)));
            goto done;
        }
        d = json_is_number(mp)   ? json_number_value(mp)
            : json_is_string(mp) ? strtod(json_string_value(mp), NULL)
                                 : 0;
        json_decref(mp);
        /* NaN fails both tests; huge values mean no limit */
        t->max_parallel =
            d >= 1 && d < (double)LIM_MATRIX_JOBS ? (unsigned)d : 0;
    }
    t->ninst = cells ? json_array_size(cells) : 1;
    t->insts = xcalloc(t->ninst, sizeof(*t->insts));
    for (size_t i = 0; i < t->ninst; i++) {
        struct inst *in = &t->insts[i];

        in->t = t;
        in->index = i;
    }
    t->state = T_ACTIVE;
    t->after_cancel = r->cancelled; /* it chose to run anyway: always() */
    t->cells = cells;               /* jobs are created when they start */
done:
    json_decref(ctx);
    json_decref(needs);
}

/* ---------- instances ---------- */

/* Evaluate a `concurrency:` value (a group string, or {group,
 * cancel-in-progress}).  *out_group is heap or NULL (no group). */
static enum ferr_code eval_concurrency(const struct node *c, json_t *ctx,
                                       char **out_group, bool *out_cip,
                                       struct ferr *err)
{
    const struct node *gn =
        c->kind == NODE_MAP ? node_get(c, "group", NULL) : c;
    const struct node *cip =
        c->kind == NODE_MAP ? node_get(c, "cancel-in-progress", NULL) : NULL;
    struct expr_env e;
    struct buf b;
    enum ferr_code rc = FERR_OK;

    *out_group = NULL;
    *out_cip = false;
    expr_env_of(&e, ctx, EXPR_OK);
    buf_init(&b, 4096);
    if (gn && gn->kind == NODE_SCALAR)
        rc = expr_interp(&e, span_of(gn->str, gn->len), &gn->pos, &b, err);
    if (!rc && b.len)
        *out_group = xstrndup(buf_cstr(&b), b.len);
    buf_release(&b);
    if (!rc && cip && cip->kind == NODE_SCALAR) {
        json_t *v = NULL;

        rc = expr_interp_value(&e, span_of(cip->str, cip->len), &cip->pos, &v,
                               err);
        if (!rc)
            *out_cip = expr_flag(v);
        json_decref(v);
    }
    if (rc) {
        free(*out_group);
        *out_group = NULL;
        ferr_prefix(err, "concurrency");
    }
    return rc;
}

enum ferr_code run_wf_concurrency(const struct plan_wf *pw, json_t *vars,
                                  char **out_group, bool *out_cip,
                                  struct ferr *err)
{
    json_t *ctx;
    enum ferr_code rc;

    *out_group = NULL;
    *out_cip = false;
    if (!pw->wf || !pw->wf->concurrency)
        return FERR_OK;
    ctx = json_object();
    json_object_set(ctx, "github", pw->github);
    json_object_set_new(ctx, "inputs",
                        pw->inputs ? json_incref(pw->inputs) : json_object());
    json_object_set_new(ctx, "vars",
                        vars ? json_incref(vars) : json_object());
    rc = eval_concurrency(pw->wf->concurrency, ctx, out_group, out_cip, err);
    json_decref(ctx);
    return rc;
}

static struct cgroup *group_of(struct run *r, const char *name)
{
    for (size_t i = 0; i < r->ngroups; i++)
        if (strcmp(r->groups[i].name, name) == 0)
            return &r->groups[i];
    r->groups = xrealloc(r->groups, (r->ngroups + 1) * sizeof(*r->groups));
    r->groups[r->ngroups].name = xstrdup(name);
    r->groups[r->ngroups].running = NULL;
    r->groups[r->ngroups].pending = NULL;
    return &r->groups[r->ngroups++];
}

static void tmpl_check_done(struct tmpl *t)
{
    bool failed = false;
    bool cancelled = false;

    if (t->state != T_ACTIVE || t->ndone < t->ninst)
        return;
    for (size_t i = 0; i < t->ninst; i++) {
        const struct inst *in = &t->insts[i];
        enum result res = in->job ? job_result(in->job) : in->res;

        failed |= res == RES_FAILURE;
        cancelled |= res == RES_CANCELLED;
    }
    t->state = T_DONE;
    t->result = failed ? RES_FAILURE : cancelled ? RES_CANCELLED : RES_SUCCESS;
}

/* An instance that never got a job ends with @res. */
static void end_unstarted(struct inst *in, enum result res, const char *why)
{
    struct tmpl *t = in->t;
    json_t *cell = t->cells ? json_array_get(t->cells, in->index) : NULL;
    json_t *needs = needs_ctx(t);
    json_t *ctx = tmpl_ctx(t, needs);
    char *name;

    json_object_set_new(ctx, "matrix",
                        cell ? json_incref(cell) : json_object());
    name = inst_name(t, ctx, cell);
    in->started = true;
    in->finished = true;
    in->waiting_group = false;
    for (size_t i = 0; i < t->r->ngroups; i++)
        if (t->r->groups[i].pending == in)
            t->r->groups[i].pending = NULL;
    in->res = res;
    t->ndone++;
    emit_job_only(t, name, cell, (long)in->index, res, why);
    free(name);
    json_decref(ctx);
    json_decref(needs);
    tmpl_check_done(t);
}

static void cancel_unstarted(struct inst *in, const char *why)
{
    end_unstarted(in, RES_CANCELLED, why);
}

static void on_job_done(void *ud, struct job *j)
{
    struct inst *in = ud;
    struct tmpl *t = in->t;
    struct run *r = t->r;

    (void)j;
    in->finished = true;
    t->running--;
    t->ndone++;
    r->running--;
    json_object_update(t->outputs, (json_t *)job_outputs(in->job));
    if (in->group) {
        struct cgroup *g = group_of(r, in->group);

        if (g->running == in)
            g->running = NULL;
    }
    if (job_result(in->job) == RES_FAILURE && t->fail_fast && t->cells) {
        for (size_t i = 0; i < t->ninst; i++) {
            struct inst *o = &t->insts[i];

            if (o == in || o->finished)
                continue;
            if (o->started)
                job_cancel(o->job, "another job of the matrix failed "
                                   "(fail-fast)");
            else
                cancel_unstarted(o, "another job of the matrix failed "
                                    "(fail-fast)");
        }
    }
    tmpl_check_done(t);
    schedule(r);
}

/* Evaluate the job's concurrency: 1 start, 0 wait, -1 the job ended
 * (its concurrency could not be evaluated). */
static int concurrency_allows(struct inst *in, json_t *ctx)
{
    struct tmpl *t = in->t;
    const struct node *c = t->wj->concurrency;
    struct cgroup *g;

    if (!c)
        return 1;
    if (!in->group) {
        struct ferr err;
        char msg[1200];

        ferr_clear(&err);
        if (eval_concurrency(c, ctx, &in->group, &in->cancel_in_progress,
                             &err)) {
            end_unstarted(in, RES_FAILURE, ferr_format(&err, msg, sizeof(msg)));
            return -1;
        }
        if (!in->group)
            return 1;
    }
    g = group_of(t->r, in->group);
    if (!g->running || g->running == in) {
        if (g->pending == in)
            g->pending = NULL;
        g->running = in;
        return 1;
    }
    if (!in->waiting_group) {
        /* GitHub keeps one pending job per group: a newer one replaces it */
        if (g->pending && g->pending != in) {
            struct inst *old = g->pending;

            old->waiting_group = false;
            cancel_unstarted(old, "a newer job joined its concurrency "
                                  "group");
        }
        g->pending = in;
        in->waiting_group = true;
        if (in->cancel_in_progress)
            job_cancel(g->running->job,
                       "a newer job of its concurrency group started "
                       "(cancel-in-progress)");
    }
    return 0;
}

/* Start instance @in if concurrency allows; true when started. */
static bool start_inst(struct inst *in)
{
    struct tmpl *t = in->t;
    struct run *r = t->r;
    json_t *cell = t->cells ? json_array_get(t->cells, in->index) : NULL;
    json_t *needs = needs_ctx(t);
    json_t *ctx = tmpl_ctx(t, needs);
    json_t *strategy;
    struct job_spec spec;

    strategy =
        json_pack("{s:b, s:I, s:I, s:I}", "fail-fast", t->fail_fast,
                  "job-index", (json_int_t)in->index, "job-total",
                  (json_int_t)t->ninst, "max-parallel",
                  (json_int_t)(t->max_parallel ? t->max_parallel : t->ninst));
    json_object_set_new(ctx, "matrix",
                        cell ? json_incref(cell) : json_object());
    json_object_set(ctx, "strategy", strategy);
    switch (concurrency_allows(in, ctx)) {
    case 0:
        json_decref(strategy);
        json_decref(ctx);
        json_decref(needs);
        return false;
    case -1:
        json_decref(strategy);
        json_decref(ctx);
        json_decref(needs);
        return true;
    default: break;
    }
    in->waiting_group = false;
    memset(&spec, 0, sizeof(spec));
    spec.pw = t->pw;
    spec.wj = t->wj;
    spec.name = inst_name(t, ctx, cell);
    /* unique across the workflows of the run: workflow index, job id,
     * matrix cell */
    spec.key = inst_key(t, (long)in->index);
    spec.matrix = cell ? json_incref(cell) : NULL;
    spec.strategy = strategy;
    spec.needs = needs;
    spec.env = in->env_grant; /* the job adopts it */
    in->env_grant = NULL;
    in->job = job_new(&r->host, &spec, on_job_done, in);
    json_decref(ctx);
    if (!in->job) {
        char why[256];

        snprintf(why, sizeof(why), "cannot start the job: %s", strerror(errno));
        cancel_unstarted(in, why);
        return true;
    }
    in->started = true;
    t->running++;
    r->running++;
    if (r->opts->gated && r->credits)
        r->credits--;
    job_start(in->job);
    return true;
}

/* ---------- the schedule ---------- */

/* Finish every job of workflow @w that has not finished, as cancelled. */
static void wf_cancel(struct run *r, size_t w, const char *why)
{
    for (size_t i = 0; i < r->ntmpls[w]; i++) {
        struct tmpl *t = &r->tmpls[w][i];

        if (!t->selected)
            continue;
        if (t->state == T_WAIT) {
            tmpl_finish(t, RES_CANCELLED, why);
            continue;
        }
        for (size_t k = 0; t->state == T_ACTIVE && k < t->ninst; k++) {
            struct inst *in = &t->insts[k];

            if (!in->started)
                cancel_unstarted(in, why);
            else if (!in->finished)
                job_cancel(in->job, why);
        }
    }
}

static bool wf_finished(struct run *r, size_t w)
{
    for (size_t i = 0; i < r->ntmpls[w]; i++)
        if (r->tmpls[w][i].selected && r->tmpls[w][i].state != T_DONE)
            return false;
    return true;
}

/* Let waiting workflows into their concurrency group: the group runs one
 * workflow; one more waits; a newer waiter replaces (cancels) the older,
 * and with cancel-in-progress the newcomer cancels the running one. */
static void wf_gate(struct run *r)
{
    for (size_t w = 0; w < r->plan->n; w++) {
        struct wfconc *c = &r->wfc[w];

        if (c->state == WC_RUN && wf_finished(r, w))
            c->state = WC_DONE;
    }
    for (size_t w = 0; w < r->plan->n; w++) {
        struct wfconc *c = &r->wfc[w];
        bool busy = false;

        if (c->state != WC_WAIT)
            continue;
        for (size_t v = 0; v < r->plan->n; v++) {
            struct wfconc *o = &r->wfc[v];

            if (v == w || !o->group || strcmp(o->group, c->group) != 0)
                continue;
            if (o->state == WC_RUN)
                busy = true;
        }
        if (!busy)
            c->state = WC_RUN;
    }
}

/* Evaluate each workflow's concurrency group and queue the workflows
 * in file order, as runs queued one after another would be. */
static void wf_queue(struct run *r)
{
    r->wfc = xcalloc(r->plan->n + 1, sizeof(*r->wfc));
    for (size_t w = 0; w < r->plan->n; w++) {
        struct plan_wf *pw = &r->plan->wfs[w];
        const struct node *c = pw->wf ? pw->wf->concurrency : NULL;
        json_t *ctx;
        struct ferr err;
        bool selected = false;

        for (size_t i = 0; i < r->ntmpls[w]; i++)
            selected |= r->tmpls[w][i].selected;
        if (!c || !selected)
            continue;
        ctx = json_pack("{s:O, s:O, s:O}", "github", pw->github, "inputs",
                        pw->inputs, "vars", r->opts->vars);
        ferr_clear(&err);
        (void)eval_concurrency(c, ctx, &r->wfc[w].group,
                               &r->wfc[w].cancel_in_progress, &err);
        json_decref(ctx);
        if (err.code) {
            /* the workflow cannot be queued: every job of it fails */
            char msg[1200];

            ferr_format(&err, msg, sizeof(msg));
            for (size_t i = 0; i < r->ntmpls[w]; i++)
                if (r->tmpls[w][i].selected)
                    tmpl_finish(&r->tmpls[w][i], RES_FAILURE, msg);
            continue;
        }
        if (!r->wfc[w].group)
            continue;
        r->wfc[w].state = WC_WAIT;
    }
    /* walk each group in file order: the first runs, the last waits,
     * the ones between are replaced */
    for (size_t w = 0; w < r->plan->n; w++) {
        struct wfconc *c = &r->wfc[w];
        size_t last = w;
        bool first = true;

        if (c->state != WC_WAIT)
            continue;
        for (size_t v = 0; v < w; v++)
            if (r->wfc[v].group && strcmp(r->wfc[v].group, c->group) == 0)
                first = false;
        if (!first)
            continue;
        for (size_t v = w + 1; v < r->plan->n; v++)
            if (r->wfc[v].group && strcmp(r->wfc[v].group, c->group) == 0)
                last = v;
        for (size_t v = w + 1; v < last; v++)
            if (r->wfc[v].group && strcmp(r->wfc[v].group, c->group) == 0) {
                r->wfc[v].state = WC_DONE;
                wf_cancel(r, v, "a newer run joined its concurrency group");
            }
        if (last != w && r->wfc[last].cancel_in_progress) {
            c->state = WC_DONE;
            wf_cancel(r, w,
                      "a newer run of its concurrency group started "
                      "(cancel-in-progress)");
        }
    }
}

static bool all_done(struct run *r)
{
    for (size_t w = 0; w < r->plan->n; w++)
        for (size_t i = 0; i < r->ntmpls[w]; i++) {
            const struct tmpl *t = &r->tmpls[w][i];

            if (t->selected && t->state != T_DONE)
                return false;
        }
    return r->running == 0;
}

/* Ask the server for one job slot (once until it is granted). */
static void want_slot(struct run *r)
{
    struct event ev;

    if (r->wanted)
        return;
    r->wanted = true;
    memset(&ev, 0, sizeof(ev));
    ev.kind = EV_SLOT_WANTED;
    ev.run_id = r->run_id;
    ev.step = -1;
    event_emit(&r->opts->sink, &ev);
}

/* The environment of @in's job, evaluated: *@out_name (NULL when it
 * evaluates to nothing) and *@out_url, both the caller's. */
static enum ferr_code eval_environment(struct inst *in, char **out_name,
                                       char **out_url, struct ferr *err)
{
    struct tmpl *t = in->t;
    const struct node *n = t->wj->environment;
    const struct node *nn = n->kind == NODE_MAP ? node_get(n, "name", NULL) : n;
    const struct node *un = n->kind == NODE_MAP ? node_get(n, "url", NULL)
                                                : NULL;
    json_t *cell = t->cells ? json_array_get(t->cells, in->index) : NULL;
    json_t *needs = needs_ctx(t);
    json_t *ctx = tmpl_ctx(t, needs);
    struct expr_env e;
    struct buf b;
    enum ferr_code rc = FERR_OK;

    *out_name = NULL;
    *out_url = NULL;
    json_object_set_new(ctx, "matrix",
                        cell ? json_incref(cell) : json_object());
    expr_env_of(&e, ctx, EXPR_OK);
    buf_init(&b, LIM_NAME * 4);
    if (nn && nn->kind == NODE_SCALAR)
        rc = expr_interp(&e, span_of(nn->str, nn->len), &nn->pos, &b, err);
    if (!rc && b.len)
        *out_name = xstrndup(buf_cstr(&b), b.len);
    buf_release(&b);
    buf_init(&b, LIM_URL);
    if (!rc && un && un->kind == NODE_SCALAR)
        rc = expr_interp(&e, span_of(un->str, un->len), &un->pos, &b, err);
    if (!rc && b.len)
        *out_url = xstrndup(buf_cstr(&b), b.len);
    buf_release(&b);
    if (rc) {
        free(*out_name);
        *out_name = NULL;
        ferr_prefix(err, "environment");
    }
    json_decref(ctx);
    json_decref(needs);
    return rc;
}

/* A gated run's job with `environment:` asks the server first (which
 * checks the environment's rules, waits for approvals and takes its
 * lock): 1 go on, 0 wait, -1 the job ended. */
static int env_ready(struct inst *in)
{
    struct tmpl *t = in->t;
    struct run *r = t->r;
    struct event ev;
    struct ferr err;
    char *name = NULL;
    char *url = NULL;
    char msg[1200];

    if (!r->opts->gated || !t->wj->environment || in->env_state == ENV_GRANTED)
        return 1;
    if (in->env_state == ENV_ASKED)
        return 0;
    ferr_clear(&err);
    if (eval_environment(in, &name, &url, &err)) {
        end_unstarted(in, RES_FAILURE, ferr_format(&err, msg, sizeof(msg)));
        return -1;
    }
    if (!name) {
        free(url);
        return 1; /* an empty environment is none, as on GitHub */
    }
    in->env_state = ENV_ASKED;
    in->env_key = inst_key(t, (long)in->index);
    memset(&ev, 0, sizeof(ev));
    ev.kind = EV_ENV_WANTED;
    ev.run_id = r->run_id;
    ev.workflow = t->pw->wf->name ? t->pw->wf->name : t->pw->display_path;
    ev.workflow_file = t->pw->display_path;
    ev.job_id = t->wj->id;
    ev.job_key = in->env_key;
    ev.step = -1;
    ev.environment = name;
    ev.env_url = url;
    event_emit(&r->opts->sink, &ev);
    free(name);
    free(url);
    return 0;
}

/* The server's word on a job's environment:
 * {"job":KEY,"environment":"granted","env":{…}} or
 * {"job":KEY,"environment":"denied","reason":"approval timed out"}. */
static void on_gate_msg(struct run *r, const char *text, size_t len)
{
    json_t *m = json_loadb(text, len, 0, NULL);
    const char *key = json_string_value(json_object_get(m, "job"));
    const char *word = json_string_value(json_object_get(m, "environment"));

    for (size_t w = 0; key && word && w < r->plan->n; w++)
        for (size_t i = 0; i < r->ntmpls[w]; i++)
            for (size_t k = 0; k < r->tmpls[w][i].ninst; k++) {
                struct inst *in = &r->tmpls[w][i].insts[k];
                const char *why;

                if (in->env_state != ENV_ASKED || in->started ||
                    strcmp(in->env_key, key) != 0)
                    continue;
                if (strcmp(word, "granted") == 0) {
                    json_t *env = json_object_get(m, "env");

                    in->env_state = ENV_GRANTED;
                    in->env_grant = json_is_object(env) ? json_incref(env)
                                                         : NULL;
                } else {
                    why = json_string_value(json_object_get(m, "reason"));
                    end_unstarted(in, RES_FAILURE,
                                  why ? why : "the deployment was refused");
                }
            }
    json_decref(m);
}

static void on_gate(struct loop *l, int fd, unsigned events, void *ud)
{
    struct run *r = ud;
    char b[4096];
    ssize_t n;

    (void)events;
    /* '+' is one job slot; '{' starts a JSON line for one job */
    while ((n = read(fd, b, sizeof(b))) > 0) {
        for (ssize_t i = 0; i < n; i++) {
            if (r->in_msg) {
                if (b[i] == '\n') {
                    if (!r->skip_msg)
                        on_gate_msg(r, r->gate_msg.p, r->gate_msg.len);
                    buf_reset(&r->gate_msg);
                    r->in_msg = false;
                    r->skip_msg = false;
                } else if (!r->skip_msg &&
                           buf_add(&r->gate_msg, &b[i], 1)) {
                    r->skip_msg = true; /* too long: dropped whole */
                }
            } else if (b[i] == '{') {
                r->in_msg = buf_add(&r->gate_msg, "{", 1) == FERR_OK;
            } else {
                r->credits++;
                r->wanted = false;
            }
        }
    }
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
        loop_del_fd(l, fd); /* the server is gone: what runs, finishes */
    schedule(r);
}

static void schedule(struct run *r)
{
    bool progress = true;

    while (progress) {
        progress = false;
        wf_gate(r);
        for (size_t w = 0; w < r->plan->n; w++) {
            if (r->wfc[w].state == WC_WAIT)
                continue;
            for (size_t i = 0; i < r->ntmpls[w]; i++) {
                struct tmpl *t = &r->tmpls[w][i];
                bool ready = t->selected && t->state == T_WAIT;

                for (size_t k = 0; ready && k < t->nneeds; k++)
                    ready = t->siblings[t->needs[k]].state == T_DONE;
                if (ready) {
                    activate(t);
                    progress = true;
                }
            }
        }
        for (size_t w = 0; w < r->plan->n; w++) {
            for (size_t i = 0; i < r->ntmpls[w]; i++) {
                struct tmpl *t = &r->tmpls[w][i];

                for (size_t k = 0; t->state == T_ACTIVE && k < t->ninst; k++) {
                    struct inst *in = &t->insts[k];

                    if (in->started)
                        continue;
                    if (r->aborted || (r->cancelled && !t->after_cancel)) {
                        cancel_unstarted(in, "the run was cancelled");
                        progress = true;
                        continue;
                    }
                    if (r->running >= r->slots ||
                        (t->max_parallel && t->running >= t->max_parallel))
                        break;
                    switch (env_ready(in)) {
                    case 0: continue;
                    case -1: progress = true; continue;
                    default: break;
                    }
                    if (r->opts->gated && r->credits == 0) {
                        want_slot(r);
                        break;
                    }
                    if (!start_inst(in))
                        continue;
                }
                if (t->state == T_DONE)
                    progress = progress || false;
            }
        }
    }
    if (all_done(r))
        loop_stop(r->loop);
}

/* Call @fn on every job that runs now. */
static void each_running(struct run *r, void (*fn)(struct job *j))
{
    for (size_t w = 0; w < r->plan->n; w++)
        for (size_t i = 0; i < r->ntmpls[w]; i++)
            for (size_t k = 0; k < r->tmpls[w][i].ninst; k++) {
                struct inst *in = &r->tmpls[w][i].insts[k];

                if (in->started && !in->finished && in->job)
                    fn(in->job);
            }
}

static void cancel_for_run(struct job *j)
{
    job_cancel(j, "the run was cancelled");
}

static void on_signal(struct loop *l, int signo, void *ud)
{
    struct run *r = ud;

    (void)l;
    r->interrupts++;
    if (r->interrupts > 1) {
        /* a second interrupt: no more grace, nothing more starts */
        r->aborted = true;
        r->cancelled = true;
        each_running(r, job_abort);
        proc_kill_descendants(SIGKILL);
        schedule(r);
        return;
    }
    log_warn("cancelling the run signal=%s", strsignal(signo));
    r->cancelled = true;
    each_running(r, cancel_for_run);
    schedule(r);
}

/* ---------- setup ---------- */

static void select_job(struct tmpl *ts, size_t i)
{
    if (ts[i].selected)
        return;
    ts[i].selected = true;
    for (size_t k = 0; k < ts[i].nneeds; k++)
        select_job(ts, ts[i].needs[k]);
}

/* Build the job templates of every workflow and mark the selected ones. */
static enum ferr_code build_tmpls(struct run *r, struct ferr *err)
{
    const struct run_opts *o = r->opts;
    struct plan *p = r->plan;
    bool *found = xcalloc(o->njobs + 1, sizeof(bool));
    enum ferr_code rc = FERR_OK;

    r->tmpls = xcalloc(p->n, sizeof(*r->tmpls));
    r->ntmpls = xcalloc(p->n, sizeof(*r->ntmpls));
    for (size_t w = 0; w < p->n; w++) {
        struct plan_wf *pw = &p->wfs[w];
        struct tmpl *ts;

        if (!pw->wf)
            continue;
        ts = xcalloc(pw->wf->njobs ? pw->wf->njobs : 1, sizeof(*ts));
        r->tmpls[w] = ts;
        r->ntmpls[w] = pw->wf->njobs;
        for (size_t i = 0; i < pw->wf->njobs; i++) {
            struct tmpl *t = &ts[i];
            const struct wf_job *wj = &pw->wf->jobs[i];

            t->r = r;
            t->pw = pw;
            t->wj = wj;
            t->siblings = ts;
            t->outputs = json_object();
            t->needs = xcalloc(wj->needs.n + 1, sizeof(size_t));
            for (size_t k = 0; k < wj->needs.n; k++) {
                for (size_t m = 0; m < pw->wf->njobs; m++)
                    if (strcmp(pw->wf->jobs[m].id, wj->needs.v[k]) == 0)
                        t->needs[t->nneeds++] = m;
            }
        }
        for (size_t i = 0; i < pw->wf->njobs; i++) {
            bool want = o->njobs == 0 && pw->triggered;

            for (size_t k = 0; k < o->njobs; k++)
                if (strcmp(o->jobs[k], ts[i].wj->id) == 0) {
                    want = true;
                    found[k] = true;
                }
            if (want)
                select_job(ts, i);
        }
    }
    for (size_t k = 0; k < o->njobs && !rc; k++)
        if (!found[k])
            rc = ferr_set(err, FERR_USAGE, NULL, "no job '%s' in the workflows",
                          o->jobs[k]);
    free(found);
    return rc;
}

static unsigned ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

static void free_run(struct run *r)
{
    for (size_t w = 0; r->plan && w < r->plan->n; w++) {
        for (size_t i = 0; r->tmpls && i < r->ntmpls[w]; i++) {
            struct tmpl *t = &r->tmpls[w][i];

            for (size_t k = 0; k < t->ninst; k++) {
                job_free(t->insts[k].job);
                free(t->insts[k].group);
                free(t->insts[k].env_key);
                json_decref(t->insts[k].env_grant);
            }
            free(t->insts);
            free(t->needs);
            json_decref(t->outputs);
            json_decref(t->cells);
        }
        if (r->tmpls)
            free(r->tmpls[w]);
    }
    free(r->tmpls);
    free(r->ntmpls);
    for (size_t i = 0; r->wfc && i < r->plan->n; i++)
        free(r->wfc[i].group);
    free(r->wfc);
    for (size_t i = 0; i < r->ngroups; i++)
        free(r->groups[i].name);
    free(r->groups);
    free(r->children);
    buf_release(&r->gate_msg);
    mask_free(r->mask);
    artifact_store_free(r->store);
    loop_free(r->loop);
    plan_free(r->plan);
    free(r->run_dir);
    free(r->home);
}

static int add_secret(struct run *r, json_t *secrets, struct ferr *err)
{
    const char *k;
    json_t *v;

    json_object_foreach (secrets, k, v) {
        if (json_is_string(v) &&
            mask_add(r->mask,
                     span_of(json_string_value(v), json_string_length(v))))
            return ferr_set(err, FERR_LIMIT, NULL,
                            "too many or too large secrets ('%s')", k);
    }
    return FERR_OK;
}

static void emit_skips(struct run *r)
{
    for (size_t w = 0; w < r->plan->n; w++) {
        struct plan_wf *pw = &r->plan->wfs[w];
        struct event ev;

        if (pw->triggered || !pw->skip_reason || r->opts->njobs)
            continue;
        memset(&ev, 0, sizeof(ev));
        ev.kind = EV_WORKFLOW_SKIPPED;
        ev.run_id = r->run_id;
        ev.workflow = pw->wf->name ? pw->wf->name : pw->display_path;
        ev.workflow_file = pw->display_path;
        ev.step = -1;
        ev.text = span_cstr(pw->skip_reason);
        event_emit(&r->opts->sink, &ev);
    }
}

enum ferr_code run_workflows(const struct run_opts *opts, struct diags *diags,
                             enum result *out_result, struct ferr *err)
{
    struct run run;
    struct run *r = &run;
    struct event ev;
    enum ferr_code rc;
    bool any = false;
    bool failed = false;
    bool cancelled = false;
    uint64_t t0 = loop_now_ms();

    *out_result = RES_NONE;
    memset(r, 0, sizeof(*r));
    r->opts = opts;
    buf_init(&r->gate_msg, 1024 * 1024);
    rc = plan_build(opts, &r->plan, diags, err);
    if (rc)
        goto done;
    rc = build_tmpls(r, err);
    if (rc)
        goto done;
    rc = loop_new(&r->loop, err);
    if (rc)
        goto done;
    snprintf(r->run_id, sizeof(r->run_id), "%s",
             r->plan->n ? json_string_value(
                              json_object_get(r->plan->wfs[0].github, "run_id"))
                        : "0");
    if (opts->home) {
        r->home = xstrdup(opts->home);
    } else {
        char tmpl[] = "/tmp/ferry-run-XXXXXX";

        if (!mkdtemp(tmpl)) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot make a temp dir: %s",
                          strerror(errno));
            goto done;
        }
        r->home = xstrdup(tmpl);
        r->own_home = true;
    }
    r->run_dir = xasprintf("%s/runs/%s-%d", r->home, r->run_id, (int)getpid());
    rc = workspace_mkdirs(r->run_dir, err);
    if (!rc)
        rc = artifact_store_open(r->home, &r->store, err);
    if (rc)
        goto done;
    r->mask = mask_new();
    rc = add_secret(r, opts->secrets, err);
    if (rc)
        goto done;
    r->slots = opts->slots ? opts->slots : ncpus();
    if (!opts->slots && r->slots < 2)
        r->slots = 2; /* jobs mostly wait on children, not on a CPU */
    r->host.loop = r->loop;
    r->host.sink = &opts->sink;
    r->host.store = r->store;
    r->host.mask = r->mask;
    r->host.run_id = r->run_id;
    r->host.run_dir = r->run_dir;
    r->host.repo_root = r->plan->root;
    r->host.dry_run = opts->dry_run;
    r->host.lazy_checkout = opts->lazy_checkout;
    r->host.secrets = opts->secrets;
    r->host.vars = opts->vars;
    r->host.watch_child = watch_child;
    r->host.hud = r;
    proc_become_subreaper();
    rc = loop_on_signal(r->loop, SIGCHLD, on_sigchld, r);
    if (!rc)
        rc = loop_on_signal(r->loop, SIGINT, on_signal, r);
    if (!rc)
        rc = loop_on_signal(r->loop, SIGTERM, on_signal, r);
    if (!rc)
        rc = loop_on_signal(r->loop, SIGHUP, on_signal, r);
    if (!rc && opts->gated) {
        r->credits = opts->gate_credits;
        rc = loop_add_fd(r->loop, opts->gate_fd, LOOP_READ, on_gate, r);
    }
    if (rc)
        goto done;
    memset(&ev, 0, sizeof(ev));
    ev.kind = EV_RUN_STARTED;
    ev.run_id = r->run_id;
    ev.step = -1;
    event_emit(&opts->sink, &ev);
    emit_skips(r);
    wf_queue(r);
    schedule(r);
    if (!all_done(r))
        rc = loop_run(r->loop);
    /* nothing outlives the run, even what escaped its process group;
     * a process may fork while we look, so look until nothing is left */
    for (int round = 0; round < 1000; round++) {
        int n = proc_kill_descendants(SIGKILL);

        while (waitpid(-1, NULL, WNOHANG) > 0)
            ;
        if (n == 0)
            break;
    }
    proc_wait_children();
    for (size_t w = 0; w < r->plan->n; w++)
        for (size_t i = 0; i < r->ntmpls[w]; i++) {
            const struct tmpl *t = &r->tmpls[w][i];

            if (!t->selected)
                continue;
            any = true;
            failed |= t->result == RES_FAILURE;
            cancelled |= t->result == RES_CANCELLED;
        }
    *out_result = !any                        ? RES_SKIPPED
                  : failed                    ? RES_FAILURE
                  : cancelled || r->cancelled ? RES_CANCELLED
                                              : RES_SUCCESS;
    memset(&ev, 0, sizeof(ev));
    ev.kind = EV_RUN_FINISHED;
    ev.run_id = r->run_id;
    ev.step = -1;
    ev.result = *out_result;
    ev.duration_ms = loop_now_ms() - t0;
    event_emit(&opts->sink, &ev);
    if (opts->remove_workspaces && r->run_dir) {
        struct ferr e2;

        ferr_clear(&e2);
        if (workspace_rmtree(r->run_dir, &e2))
            log_warn("cannot remove run dir path='%s' err='%s'", r->run_dir,
                     e2.msg);
    }
done:
    if (r->own_home && r->home) {
        struct ferr e2;

        ferr_clear(&e2);
        if (workspace_rmtree(r->home, &e2))
            log_warn("cannot remove temp dir path='%s'", r->home);
    }
    free_run(r);
    return rc;
}

/* ---------- -l ---------- */

/* A job's stage: one more than its deepest need.  @memo (one entry per
 * job, 0 = not known yet, else stage + 1) makes it linear. */
static size_t stage_of(struct tmpl *ts, size_t i, size_t *memo, size_t depth)
{
    size_t s = 0;

    if (memo[i])
        return memo[i] - 1;
    if (depth > LIM_JOBS)
        return 0;
    for (size_t k = 0; k < ts[i].nneeds; k++) {
        size_t d = stage_of(ts, ts[i].needs[k], memo, depth + 1) + 1;

        if (d > s)
            s = d;
    }
    memo[i] = s + 1;
    return s;
}

static char *events_of(const struct wf *wf)
{
    struct buf b;

    buf_init(&b, 4096);
    for (size_t i = 0; i < wf->ntriggers; i++)
        if (buf_addf(&b, "%s%s", i ? "," : "", wf->triggers[i].event))
            break;
    return buf_take(&b, NULL);
}

enum ferr_code run_list(const struct run_opts *opts, struct diags *diags,
                        FILE *out, struct ferr *err)
{
    struct run run;
    struct run *r = &run;
    enum ferr_code rc;
    size_t max_stage = 0;
    size_t **memo = NULL;

    memset(r, 0, sizeof(*r));
    r->opts = opts;
    buf_init(&r->gate_msg, 1024 * 1024);
    rc = plan_build(opts, &r->plan, diags, err);
    if (!rc)
        rc = build_tmpls(r, err);
    if (rc)
        goto done;
    fprintf(out, "%-6s %-20s %-28s %-16s %-24s %-6s %s\n", "Stage", "Job ID",
            "Job name", "Workflow name", "Workflow file", "Runs", "Needs");
    memo = xcalloc(r->plan->n + 1, sizeof(*memo));
    for (size_t w = 0; w < r->plan->n; w++) {
        memo[w] = xcalloc(r->ntmpls[w] + 1, sizeof(size_t));
        for (size_t i = 0; i < r->ntmpls[w]; i++) {
            size_t s = stage_of(r->tmpls[w], i, memo[w], 0);

            if (s > max_stage)
                max_stage = s;
        }
    }
    for (size_t s = 0; s <= max_stage; s++)
        for (size_t w = 0; w < r->plan->n; w++) {
            struct plan_wf *pw = &r->plan->wfs[w];

            for (size_t i = 0; i < r->ntmpls[w]; i++) {
                struct tmpl *t = &r->tmpls[w][i];
                struct buf needs;

                if (memo[w][i] - 1 != s)
                    continue;
                buf_init(&needs, 4096);
                for (size_t k = 0; k < t->wj->needs.n; k++)
                    if (buf_addf(&needs, "%s%s", k ? "," : "",
                                 t->wj->needs.v[k]))
                        break;
                fprintf(out, "%-6zu %-20s %-28s %-16s %-24s %-6s %s\n", s,
                        t->wj->id, t->wj->name ? t->wj->name : t->wj->id,
                        pw->wf->name ? pw->wf->name : "-", pw->display_path,
                        t->selected ? "yes" : "no",
                        needs.len ? buf_cstr(&needs) : "-");
                buf_release(&needs);
            }
        }
    for (size_t w = 0; w < r->plan->n; w++) {
        struct plan_wf *pw = &r->plan->wfs[w];
        char *evs = events_of(pw->wf);

        fprintf(out, "\n%s (%s) on: %s — %s\n", pw->display_path,
                pw->wf->name ? pw->wf->name : "-", evs,
                pw->triggered     ? "runs on this event"
                : pw->skip_reason ? pw->skip_reason
                                  : "");
        free(evs);
    }
done:
    for (size_t w = 0; memo && w < r->plan->n; w++)
        free(memo[w]);
    free(memo);
    free_run(r);
    return rc;
}
