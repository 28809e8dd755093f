/* lint: semantic checks over a loaded workflow.  Every ${{ }} is checked
 * against the contexts and functions GitHub allows at its key; needs are
 * resolved and searched for cycles; cron strings, filter patterns and
 * literal matrices are validated; the `with:` of ferry's own actions is
 * checked against pipeline/ferryact.h; with LINT_SECURITY, untrusted
 * event data expanded into a script is an error.  It reports and never
 * stops early; it does not evaluate anything or touch the file system. */
#include "pipeline/lint.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cron.h"
#include "pipeline/expr.h"
#include "pipeline/ferryact.h"
#include "pipeline/glob.h"
#include "pipeline/matrix.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define SHOW_MAX 100
#define NODE_ARGS(n) shown((n)->len), (n)->str

#define CTX(x) EXPR_CTX_##x

/* GitHub's context-availability table, one set per kind of key. */
enum {
    K_WF = CTX(GITHUB) | CTX(INPUTS) | CTX(VARS), /* run-name, concurrency */
    K_WF_ENV = K_WF | CTX(SECRETS),
    K_CALL_OUTPUT = K_WF | CTX(JOBS),
    K_JOB_IF = CTX(GITHUB) | CTX(INPUTS) | CTX(NEEDS) | CTX(VARS),
    K_STRATEGY = K_JOB_IF,
    K_JOB = K_JOB_IF | CTX(MATRIX) | CTX(STRATEGY),
    K_JOB_ENV = K_JOB | CTX(SECRETS),              /* env, secrets.<id> */
    K_DEFAULTS = K_JOB | CTX(ENV),
    K_CREDENTIALS = K_JOB | CTX(ENV) | CTX(SECRETS),
    K_CONTAINER_ENV = K_CREDENTIALS | CTX(JOB) | CTX(RUNNER),
    K_ENV_URL = K_JOB | CTX(ENV) | CTX(JOB) | CTX(RUNNER) | CTX(STEPS),
    K_OUTPUTS = K_ENV_URL | CTX(SECRETS),
    K_STEP = K_OUTPUTS,
    K_STEP_IF = K_ENV_URL,
};

#define ALL_STEPS ((size_t)-1)
/* Work units for one workflow: far above any real file, low enough that
 * aliases repeating a big value cannot make lint crawl. */
#define LINT_BUDGET (4 * (size_t)LIM_YAML_NODES)
/* An expression is parsed twice (check, refs): it costs more than a
 * value. */
#define EXPR_UNITS 8
#define MATRIX_KEYS_MAX 1000

/* Where a scalar sits: what its expressions may use and what they may
 * refer to. */
struct site {
    unsigned ctx;                 /* EXPR_CTX_* allowed */
    unsigned fn;                  /* EXPR_FN_* allowed */
    const struct wf_job *job;     /* NULL at workflow level */
    size_t nsteps;                /* steps.<id> may name steps [0, n) */
    const char *script;           /* the key, when the scalar is a script */
    const char *doc;              /* the key as GitHub's docs name it */
};

struct lint {
    const struct wf *wf;
    unsigned flags;
    struct diags *d;
    size_t budget;                /* work units left (see spend) */
    bool over_budget;
    /* the job being checked: its literal matrix's keys, or !mknown */
    const char **mkeys;
    size_t nmkeys;
    bool mknown;
};

static int shown(size_t len)
{
    return (int)(len > SHOW_MAX ? SHOW_MAX : len);
}

static bool is_scalar(const struct node *n)
{
    return n && n->kind == NODE_SCALAR;
}

static bool has_expr(const struct node *n)
{
    return is_scalar(n) && n->len >= 3 && memmem(n->str, n->len, "${{", 3);
}

/* diags_add keeps this many findings and only counts the rest. */
#define DIAGS_MAX 1000

/* Once @d holds its maximum, positions are not worth computing. */
static bool full(const struct lint *L)
{
    return L->d->n >= DIAGS_MAX;
}

/* diags keep their own copy of the file name. */
static bool same_file(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* Add a finding unless the same one is already there (aliases make the
 * linter visit a shared node once per use). */
static void vreport(struct lint *L, enum diag_level lvl, const struct pos *at,
                    const char *fmt, va_list ap)
    __attribute__((format(printf, 4, 0)));
static void vreport(struct lint *L, enum diag_level lvl, const struct pos *at,
                    const char *fmt, va_list ap)
{
    char msg[1024];
    struct pos none = { NULL, 0, 0 };

    if (!at)
        at = &none;
    if (full(L)) {
        /* dropped anyway; keep the count right without formatting */
        diags_add(L->d, lvl, at, "-");
        return;
    }
    vsnprintf(msg, sizeof(msg), fmt, ap);
    for (size_t i = 0; i < L->d->n; i++) {
        const struct diag *g = &L->d->v[i];

        if (g->level == lvl && g->pos.line == at->line &&
            g->pos.col == at->col && same_file(g->pos.file, at->file) &&
            strcmp(g->msg, msg) == 0)
            return;
    }
    diags_add(L->d, lvl, at, "%s", msg);
}

static void report(struct lint *L, enum diag_level lvl, const struct pos *at,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void report(struct lint *L, enum diag_level lvl, const struct pos *at,
                   const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(L, lvl, at, fmt, ap);
    va_end(ap);
}

static void report_ferr(struct lint *L, const struct ferr *e)
{
    if (e->code != FERR_OK)
        report(L, DIAG_ERROR, &e->pos, "%s", e->msg);
}

/* Charge @units of work (1 for a value or 256 bytes of text,
 * EXPR_UNITS for an expression);
 * false once the budget is gone, which is reported once. */
static bool spend(struct lint *L, size_t units)
{
    if (L->budget >= units) {
        L->budget -= units;
        return true;
    }
    L->budget = 0;
    if (!L->over_budget) {
        L->over_budget = true;
        report(L, DIAG_WARNING, &L->wf->root->pos,
               "workflow has too many values to check (aliases repeat "
               "them); the rest was skipped");
    }
    return false;
}

/* ---- references inside one expression ---- */

struct expr_at {
    struct lint *L;
    const struct site *s;
    const struct node *n;         /* the scalar */
    size_t dollar;                /* offset of its "${{" in n->str */
};

static struct pos at_pos(const struct expr_at *x)
{
    return node_pos_at(x->n, x->dollar);
}

/* Component @i (0-based) of dotted @path into @out; false if absent. */
static bool component(const char *path, size_t i, char *out, size_t cap)
{
    const char *p = path;
    size_t len;

    while (i-- > 0) {
        p = strchr(p, '.');
        if (!p)
            return false;
        p++;
    }
    len = strcspn(p, ".");
    if (len == 0 || len >= cap)
        return false;
    memcpy(out, p, len);
    out[len] = '\0';
    return true;
}

static bool starts_nocase(const char *s, const char *prefix)
{
    return strncasecmp(s, prefix, strlen(prefix)) == 0;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t a = strlen(s);
    size_t b = strlen(suffix);

    return a >= b && strcasecmp(s + a - b, suffix) == 0;
}

/* Event data anyone who can open an issue or push a branch controls. */
static bool untrusted(const char *path)
{
    static const char *const tails[] = {
        "title", "body", "message", "name", "email", "label", "ref",
        "page_name", "default_branch", "head_branch", NULL,
    };
    const char *last;

    if (strcasecmp(path, "github.head_ref") == 0)
        return true;
    if (!starts_nocase(path, "github.event."))
        return false;
    last = strrchr(path, '.') + 1;
    for (size_t i = 0; tails[i]; i++)
        if (ends_with(last, tails[i]))
            return true;
    return false;
}

static bool job_needs(const struct wf_job *j, const char *id)
{
    /* a longer list repeats or invents jobs, and is reported as such */
    if (j->needs.n > LIM_JOBS)
        return true;
    for (size_t i = 0; i < j->needs.n; i++)
        if (strcasecmp(j->needs.v[i], id) == 0)
            return true;
    return false;
}

static bool step_defined(const struct wf_job *j, size_t n, const char *id)
{
    if (n == ALL_STEPS || n > j->nsteps)
        n = j->nsteps;
    for (size_t i = 0; i < n; i++)
        if (j->steps[i].id && strcasecmp(j->steps[i].id, id) == 0)
            return true;
    return false;
}

static bool matrix_key(const struct lint *L, const char *key)
{
    for (size_t i = 0; i < L->nmkeys; i++)
        if (strcasecmp(L->mkeys[i], key) == 0)
            return true;
    return false;
}

static void on_ref(void *ud, const char *path)
{
    struct expr_at *x = ud;
    struct lint *L = x->L;
    const struct site *s = x->s;
    const struct wf_job *j = s->job;
    char c1[256];
    struct pos pos;

    if (full(L))
        return;
    if (s->script && (L->flags & LINT_SECURITY) && untrusted(path)) {
        pos = at_pos(x);
        report(L, DIAG_ERROR, &pos,
               "script injection: untrusted '%s' is expanded into '%s'; "
               "pass it through an environment variable instead "
               "(env: VALUE: ${{ %s }}, then use \"$VALUE\")",
               path, s->script, path);
    }
    if (!component(path, 1, c1, sizeof(c1)) || strcmp(c1, "*") == 0)
        return;
    if (j && starts_nocase(path, "needs.") && !job_needs(j, c1)) {
        pos = at_pos(x);
        report(L, DIAG_WARNING, &pos,
               "'needs.%s' is used but job '%s' does not list '%s' in "
               "'needs'", c1, j->id, c1);
    } else if (j && starts_nocase(path, "steps.") &&
               !step_defined(j, s->nsteps, c1)) {
        pos = at_pos(x);
        report(L, DIAG_WARNING, &pos,
               "'steps.%s' refers to no step with id '%s' %s job '%s'",
               c1, c1, s->nsteps == ALL_STEPS ? "in" : "before this in",
               j->id);
    } else if (j && starts_nocase(path, "matrix.") && L->mknown &&
               !matrix_key(L, c1)) {
        pos = at_pos(x);
        if (!j->matrix)
            report(L, DIAG_WARNING, &pos,
                   "'matrix.%s' is used but job '%s' has no matrix", c1,
                   j->id);
        else
            report(L, DIAG_WARNING, &pos,
                   "'matrix.%s' is not defined in the matrix of job '%s'",
                   c1, j->id);
    } else if (starts_nocase(path, "jobs.") && (s->ctx & CTX(JOBS)) &&
               !wf_job_find(L->wf, c1)) {
        pos = at_pos(x);
        report(L, DIAG_WARNING, &pos,
               "'jobs.%s' refers to a job that does not exist", c1);
    }
}

/* A context or function used where GitHub does not provide it: say what
 * the key does provide. */
static void report_unavailable(struct lint *L, const struct site *s,
                               const struct ferr *e)
{
    static const char *const names[] = {
        "github", "env", "vars", "job", "jobs", "steps", "runner",
        "secrets", "strategy", "matrix", "needs", "inputs",
    };
    char list[256];
    size_t off = 0;

    list[0] = '\0';
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        int w;

        if (!(s->ctx & (1u << i)))
            continue;
        w = snprintf(list + off, sizeof(list) - off, "%s%s",
                     off ? ", " : "", names[i]);
        if (w < 0 || (size_t)w >= sizeof(list) - off)
            break;
        off += (size_t)w;
    }
    report(L, DIAG_ERROR, &e->pos, "%s ('%s' can use %s)", e->msg, s->doc,
           list);
}

/* Check one expression @inner found at byte @off of scalar @n. */
static void check_expr(struct lint *L, const struct site *s,
                       const struct node *n, struct span inner, size_t off,
                       size_t dollar)
{
    struct ferr e;
    struct expr_at x = { L, s, n, dollar };

    ferr_clear(&e);
    /* positions cost a walk over the scalar: only compute them for a
     * finding */
    if (expr_check(inner, NULL, s->ctx, s->fn, &e)) {
        if (!full(L)) {
            struct pos pos = node_pos_at(n, off);

            ferr_clear(&e);
            if (expr_check(inner, &pos, s->ctx, s->fn, &e) == FERR_OK)
                ferr_set(&e, FERR_INVALID, &pos, "invalid expression");
        }
        if (s->doc && s->ctx != EXPR_CTX_ALL && strstr(e.msg, "named-value"))
            report_unavailable(L, s, &e);
        else
            report_ferr(L, &e);
        return;
    }
    ferr_clear(&e);
    /* expr_check accepted it, so a failure here has nothing to add */
    if (expr_refs(inner, on_ref, &x, &e) != FERR_OK)
        ferr_clear(&e);
}

struct scan_state {
    struct lint *L;
    const struct site *s;
    const struct node *n;
    size_t count;                 /* expressions seen */
    bool stopped;                 /* out of budget: scan cut short */
    size_t first;                 /* offset of the first "${{" */
    size_t end;                   /* offset just past the last "}}" */
};

static int on_expr(void *ud, struct span inner, size_t off)
{
    struct scan_state *st = ud;
    const struct node *n = st->n;
    size_t ioff = off;
    size_t dollar;
    const char *close;

    if (!spend(st->L, EXPR_UNITS)) {
        st->stopped = true;
        return 1;
    }
    if (inner.p >= n->str && inner.p <= n->str + n->len)
        ioff = (size_t)(inner.p - n->str);
    if (ioff > n->len)
        ioff = n->len;
    /* the "${{" that opens this expression: the last one before it */
    dollar = ioff >= 3 ? ioff - 3 : 0;
    while (dollar > 0 && memcmp(n->str + dollar, "${{", 3) != 0)
        dollar--;
    if (st->count++ == 0)
        st->first = dollar;
    close = ioff + inner.len <= n->len
                ? memmem(n->str + ioff + inner.len,
                         n->len - ioff - inner.len, "}}", 2)
                : NULL;
    st->end = close ? (size_t)(close - n->str) + 2 : n->len;
    check_expr(st->L, st->s, n, inner, ioff, dollar);
    return 0;
}

/* Check every ${{ }} in scalar @n; @st tells callers how many there were
 * and where. */
static void check_scalar(struct lint *L, const struct site *s,
                         const struct node *n, struct scan_state *st)
{
    struct ferr e;

    memset(st, 0, sizeof(*st));
    st->L = L;
    st->s = s;
    st->n = n;
    if (!has_expr(n))
        return;
    ferr_clear(&e);
    if (expr_scan(span_of(n->str, n->len), &n->pos, on_expr, st, &e) &&
        !st->stopped) {
        /* unterminated: point at the "${{" after the last good one */
        const char *open = memmem(n->str + st->end, n->len - st->end,
                                  "${{", 3);
        struct pos pos = n->pos;

        if (!full(L))
            pos = node_pos_at(n, open ? (size_t)(open - n->str) : st->end);
        if (e.code == FERR_PARSE || e.pos.line == 0)
            e.pos = pos;
        report_ferr(L, &e);
    }
}

static void scan(struct lint *L, const struct site *s, const struct node *n,
                 unsigned depth)
{
    struct scan_state st;

    if (!n || depth > 2 * LIM_YAML_DEPTH ||
        !spend(L, 1 + (n->kind == NODE_SCALAR ? n->len / 256 : 0)))
        return;
    if (n->kind == NODE_SCALAR) {
        check_scalar(L, s, n, &st);
        return;
    }
    for (size_t i = 0; i < n->n; i++)
        scan(L, s, n->items[i], depth + 1);
}

/* Scan @n as the value of workflow key @doc, where contexts @ctx are
 * available. */
static void scan_as(struct lint *L, struct site *s, const struct node *n,
                    unsigned ctx, const char *doc)
{
    s->ctx = ctx;
    s->doc = doc;
    scan(L, s, n, 0);
}

/* An if: condition, bare or wrapped in ${{ }}. */
static void check_cond(struct lint *L, const struct site *s,
                       const struct node *n)
{
    struct scan_state st;
    struct span all;
    struct span t;

    if (!is_scalar(n) || node_is_null(n) || !spend(L, 1 + n->len / 256))
        return;
    all = span_of(n->str, n->len);
    if (!has_expr(n)) {
        if (span_trim(all).len)
            check_expr(L, s, n, all, 0, 0);
        return;
    }
    check_scalar(L, s, n, &st);
    if (st.count == 0 || st.stopped)
        return;
    t = span_trim(span_of(n->str, st.first));
    if (st.count > 1 || t.len ||
        span_trim(span_of(n->str + st.end, n->len - st.end)).len) {
        struct pos pos = node_pos_at(n, 0);

        report(L, DIAG_WARNING, &pos,
               "'if' has text outside ${{ }}, so it is a non-empty "
               "string and always true; put the whole condition inside "
               "one ${{ }}");
    }
}

/* Keys whose value GitHub takes literally. */
static void no_expr(struct lint *L, const struct node *n, const char *key)
{
    const char *p;
    struct pos pos;

    if (!has_expr(n))
        return;
    p = memmem(n->str, n->len, "${{", 3);
    pos = node_pos_at(n, (size_t)(p - n->str));
    report(L, DIAG_ERROR, &pos, "expressions are not allowed in '%s'",
           key);
}

/* ---- workflow level ---- */

static void check_globs(struct lint *L, const struct wf_strs *list)
{
    for (size_t i = 0; i < list->n; i++) {
        const struct node *n = list->nodes[i];
        struct pos pos = node_pos_at(n, 0);
        struct ferr e;
        struct span p = span_of(n->str, n->len);

        /* a leading '!' negates; glob_check takes the bare pattern */
        if (p.len && p.p[0] == '!') {
            p.p++;
            p.len--;
            pos.col++;
        }
        ferr_clear(&e);
        if (glob_check(p, &pos, &e))
            report_ferr(L, &e);
    }
}

static void lint_call(struct lint *L, const struct node *ev)
{
    const struct node *ins = node_get(ev, "inputs", NULL);
    const struct node *outs = node_get(ev, "outputs", NULL);
    struct site s = { K_WF, 0, NULL, 0, NULL, NULL };

    for (size_t i = 0; ins && ins->kind == NODE_MAP && i < ins->n; i++)
        scan_as(L, &s, node_get(ins->items[i], "default", NULL), K_WF,
                "on.workflow_call.inputs.<inputs_id>.default");
    for (size_t i = 0; outs && outs->kind == NODE_MAP && i < outs->n; i++)
        scan_as(L, &s, node_get(outs->items[i], "value", NULL),
                K_CALL_OUTPUT, "on.workflow_call.outputs.<output_id>.value");
}

static void lint_triggers(struct lint *L)
{
    for (size_t i = 0; i < L->wf->ntriggers; i++) {
        const struct wf_trigger *t = &L->wf->triggers[i];

        for (size_t k = 0; k < t->crons.n; k++) {
            const struct node *n = t->crons.nodes[k];
            struct pos pos = node_pos_at(n, 0);
            struct cron c;
            struct ferr e;

            ferr_clear(&e);
            if (cron_parse(span_of(n->str, n->len), &pos, &c, &e))
                report_ferr(L, &e);
        }
        check_globs(L, &t->branches);
        check_globs(L, &t->branches_ignore);
        check_globs(L, &t->tags);
        check_globs(L, &t->tags_ignore);
        check_globs(L, &t->paths);
        check_globs(L, &t->paths_ignore);
        if (t->node && strcmp(t->event, "workflow_call") == 0)
            lint_call(L, t->node);
    }
}

/* ---- needs ---- */

struct graph {
    size_t **edges;      /* per job: resolved index per needs entry */
    int *color;          /* 0 new, 1 on the path, 2 done */
    size_t *path;
    size_t npath;
};

/* Job ids sorted, for resolving needs in O(log n). */
struct job_ids {
    size_t *index;       /* positions in wf->jobs, sorted by id */
    size_t n;
};

static int cmp_job(const void *a, const void *b, void *ud)
{
    const struct wf *wf = ud;
    size_t x = *(const size_t *)a;
    size_t y = *(const size_t *)b;

    return strcmp(wf->jobs[x].id, wf->jobs[y].id);
}

static void job_ids_init(struct job_ids *t, const struct wf *wf)
{
    t->n = wf->njobs;
    t->index = xcalloc(t->n ? t->n : 1, sizeof(*t->index));
    for (size_t i = 0; i < t->n; i++)
        t->index[i] = i;
    qsort_r(t->index, t->n, sizeof(*t->index), cmp_job, (void *)wf);
}

static size_t job_index(const struct wf *wf, const struct job_ids *t,
                        const char *id)
{
    size_t lo = 0;
    size_t hi = t->n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(id, wf->jobs[t->index[mid]].id);

        if (c == 0)
            return t->index[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return SIZE_MAX;
}

static void report_cycle(struct lint *L, struct graph *g, size_t from,
                         size_t entry, size_t to)
{
    const struct wf *wf = L->wf;
    struct buf b;
    size_t start = 0;
    struct pos pos = wf->jobs[from].needs.nodes[entry]->pos;
    enum ferr_code rc;

    while (start < g->npath && g->path[start] != to)
        start++;
    buf_init(&b, 4096);
    rc = buf_adds(&b, "cycle in needs: ");
    for (size_t i = start; !rc && i < g->npath; i++)
        rc = buf_addf(&b, "%s -> ", wf->jobs[g->path[i]].id);
    if (!rc)
        rc = buf_adds(&b, wf->jobs[to].id);
    if (rc)
        report(L, DIAG_ERROR, &pos, "cycle in needs through job '%s'",
               wf->jobs[to].id);
    else
        report(L, DIAG_ERROR, &pos, "%s", buf_cstr(&b));
    buf_release(&b);
}

static void dfs(struct lint *L, struct graph *g, size_t u)
{
    const struct wf_job *j = &L->wf->jobs[u];

    g->color[u] = 1;
    g->path[g->npath++] = u;
    for (size_t k = 0; k < j->needs.n; k++) {
        size_t v = g->edges[u][k];

        if (v == SIZE_MAX)
            continue;
        if (g->color[v] == 1)
            report_cycle(L, g, u, k, v);
        else if (g->color[v] == 0)
            dfs(L, g, v);
    }
    g->npath--;
    g->color[u] = 2;
}

static void lint_needs(struct lint *L)
{
    const struct wf *wf = L->wf;
    size_t nj = wf->njobs ? wf->njobs : 1;
    struct graph g;
    const char **ids = xcalloc(wf->njobs + 1, sizeof(*ids));
    size_t *mark = xcalloc(nj, sizeof(*mark));   /* job i + 1 listed it */
    struct job_ids t;

    job_ids_init(&t, wf);
    for (size_t i = 0; i < wf->njobs; i++)
        ids[i] = wf->jobs[i].id;
    g.edges = xcalloc(nj, sizeof(*g.edges));
    g.color = xcalloc(nj, sizeof(*g.color));
    g.path = xcalloc(nj, sizeof(*g.path));
    g.npath = 0;
    for (size_t i = 0; i < wf->njobs; i++) {
        const struct wf_job *j = &wf->jobs[i];

        g.edges[i] = xcalloc(j->needs.n ? j->needs.n : 1, sizeof(size_t));
        for (size_t k = 0; k < j->needs.n; k++) {
            const struct node *n = j->needs.nodes[k];
            size_t v = SIZE_MAX;

            if (has_expr(n)) {
                no_expr(L, n, "needs");
            } else if (strcmp(n->str, j->id) == 0) {
                report(L, DIAG_ERROR, &n->pos, "job '%s' needs itself",
                       j->id);
            } else if ((v = job_index(wf, &t, n->str)) == SIZE_MAX) {
                const char *s = full(L) ? NULL
                                        : wf_suggest(n->str, n->len, ids);

                report(L, DIAG_ERROR, &n->pos,
                       "job '%s' needs unknown job '%.*s'%s%s%s", j->id,
                       NODE_ARGS(n), s ? " (did you mean '" : "",
                       s ? s : "", s ? "'?)" : "");
            } else if (mark[v] == i + 1) {
                report(L, DIAG_WARNING, &n->pos,
                       "job '%s' lists '%s' in 'needs' twice", j->id,
                       n->str);
            } else {
                mark[v] = i + 1;
            }
            g.edges[i][k] = v;
        }
    }
    for (size_t i = 0; i < wf->njobs; i++)
        if (g.color[i] == 0)
            dfs(L, &g, i);
    for (size_t i = 0; i < wf->njobs; i++)
        free(g.edges[i]);
    free(g.edges);
    free(g.color);
    free(g.path);
    free(mark);
    free(ids);
    free(t.index);
}

/* ---- matrix ---- */

static void add_mkey(struct lint *L, const char *key)
{
    if (matrix_key(L, key))
        return;
    if (L->nmkeys >= MATRIX_KEYS_MAX) {
        L->mknown = false;
        return;
    }
    L->mkeys[L->nmkeys++] = key;
}

/* Collect the keys a literal matrix defines (for matrix.<key>). */
static void matrix_keys(struct lint *L, const struct wf_job *j)
{
    const struct node *m = j->matrix;

    L->nmkeys = 0;
    L->mknown = true;
    if (!m)
        return;
    if (m->kind != NODE_MAP) {
        L->mknown = false;
        return;
    }
    for (size_t i = 0; i < m->n && L->mknown; i++) {
        const struct node *k = m->keys[i];
        const struct node *v = m->items[i];

        if (strcmp(k->str, "exclude") == 0)
            continue;
        if (strcmp(k->str, "include") != 0) {
            add_mkey(L, k->str);
            continue;
        }
        if (v->kind != NODE_SEQ) {
            L->mknown = false;
            continue;
        }
        for (size_t e = 0; e < v->n && L->mknown; e++) {
            const struct node *it = v->items[e];

            if (it->kind != NODE_MAP) {
                L->mknown = false;
                continue;
            }
            /* an alias repeats the entry before it at no parse cost:
             * skip repeats, and charge the key lookups to the budget */
            if (e > 0 && it == v->items[e - 1])
                continue;
            if (!spend(L, it->n * (L->nmkeys / 64 + 1))) {
                L->mknown = false;
                break;
            }
            for (size_t f = 0; f < it->n; f++)
                add_mkey(L, it->keys[f]->str);
        }
    }
}

static void lint_matrix(struct lint *L, const struct wf_job *j)
{
    const struct node *m = j->matrix;
    bool literal = true;
    bool bad = false;
    bool dims = false;
    json_t *jm = NULL;
    json_t *out = NULL;
    struct ferr e;
    const struct node *key;
    struct pos at;

    if (!m || m->kind != NODE_MAP)
        return;
    /* point at the 'matrix' key: the mapping starts at its first entry */
    (void)node_get(j->strategy, "matrix", &key);
    at = key ? key->pos : m->pos;
    for (size_t i = 0; i < m->n; i++) {
        const struct node *k = m->keys[i];
        const struct node *v = m->items[i];
        bool inc = strcmp(k->str, "include") == 0;

        if (has_expr(v) || v->kind != NODE_SEQ) {
            literal = false;
            continue;
        }
        if (inc || strcmp(k->str, "exclude") == 0) {
            if (inc && v->n)
                dims = true;
            for (size_t x = 0; x < v->n; x++)
                if (v->items[x]->kind != NODE_MAP)
                    literal = false;
            continue;
        }
        dims = true;
        if (v->n == 0) {
            report(L, DIAG_ERROR, &v->pos,
                   "matrix '%.*s' of job '%s' has no values",
                   NODE_ARGS(k), j->id);
            bad = true;
        }
    }
    if (!dims && literal) {
        report(L, DIAG_ERROR, &at, "matrix of job '%s' defines no values",
               j->id);
        return;
    }
    if (!literal || bad)
        return;
    ferr_clear(&e);
    if (node_to_json(m, &jm, &e) ||
        matrix_expand(jm, &at, &out, &e)) {
        report_ferr(L, &e);
    } else if (json_array_size(out) == 0) {
        report(L, DIAG_WARNING, &at, "matrix of job '%s' expands to no jobs",
               j->id);
    }
    json_decref(jm);
    json_decref(out);
}

/* ---- jobs and steps ---- */

static bool uses_ok(const char *u)
{
    const char *at;
    const char *slash;

    if (strncmp(u, "./", 2) == 0)
        return u[2] != '\0';
    if (strncmp(u, "docker://", 9) == 0)
        return u[9] != '\0';
    at = strrchr(u, '@');
    slash = strchr(u, '/');
    return at && slash && slash > u && slash + 1 < at && at[1] != '\0';
}

static void lint_with(struct lint *L, struct site *s, const struct node *with,
                      bool github_script)
{
    if (!with || with->kind != NODE_MAP)
        return;
    for (size_t i = 0; i < with->n; i++) {
        s->script = github_script && strcmp(with->keys[i]->str, "script") == 0
                        ? "with.script"
                        : NULL;
        scan(L, s, with->items[i], 0);
    }
    s->script = NULL;
}

/* A `with:` value as ferryact_check_rule wants it: its text, JSON null
 * when an expression decides it, nothing when blank (not given). */
static json_t *given_value(const struct node *v)
{
    struct span t;

    if (!v || has_expr(v) || !is_scalar(v))
        return json_null();
    if (node_is_null(v))
        return NULL;
    t = span_trim(span_of(v->str, v->len));
    return t.len ? json_stringn(t.p, t.len) : NULL;
}

/* ferry's own actions: the action and its version exist, each input is
 * one it takes and the required ones are given — what the step would
 * refuse when it runs (action.c, ferry __deploy/__report/__gate/__image),
 * said before the run starts. */
static void lint_ferry(struct lint *L, const struct wf_step *st)
{
    const struct node *u = st->uses_node;
    const struct node *with = st->with;
    const struct ferryact *a = NULL;
    json_t *given;
    struct ferr e;

    if (!st->uses || !u || has_expr(u) || !ferryact_is_ferry(st->uses) ||
        !uses_ok(st->uses))
        return;
    ferr_clear(&e);
    if (ferryact_check_uses(st->uses, &u->pos, &a, &e)) {
        report_ferr(L, &e);
        return;
    }
    if (with && with->kind != NODE_MAP)
        return;
    given = json_object();
    for (size_t i = 0; with && i < with->n; i++) {
        const struct node *k = with->keys[i];
        const char *name = ferryact_input(a, k->str, k->len);
        json_t *v;

        if (!name) {
            ferr_clear(&e);
            if (ferryact_check_input(a, k->str, k->len, &k->pos, &e))
                report_ferr(L, &e);
            continue;
        }
        v = given_value(with->items[i]);
        if (v)
            json_object_set_new(given, name, v);
    }
    for (size_t i = 0; i < a->nrules; i++) {
        ferr_clear(&e);
        if (ferryact_check_rule(a, i, given, &u->pos, &e))
            report_ferr(L, &e);
    }
    json_decref(given);
}

static void lint_step(struct lint *L, const struct wf_job *j, size_t i)
{
    const struct wf_step *st = &j->steps[i];
    const struct node *n = st->node;
    struct site s = { 0, EXPR_FN_HASHFILES, j, i, NULL, NULL };

    if (n->kind != NODE_MAP)
        return;
    no_expr(L, node_get(n, "id", NULL), "id");
    if (st->uses_node) {
        no_expr(L, st->uses_node, "uses");
        if (st->uses && !has_expr(st->uses_node) && !uses_ok(st->uses))
            report(L, DIAG_ERROR, &st->uses_node->pos,
                   "'uses' must be 'owner/repo@ref', 'owner/repo/path@ref', "
                   "'./path' or 'docker://image', got '%.*s'",
                   NODE_ARGS(st->uses_node));
        lint_ferry(L, st);
    }
    s.fn = EXPR_FN_STATUS | EXPR_FN_HASHFILES;
    s.ctx = K_STEP_IF;
    s.doc = "jobs.<job_id>.steps.if";
    check_cond(L, &s, st->if_node);
    s.fn = EXPR_FN_HASHFILES;
    scan_as(L, &s, node_get(n, "name", NULL), K_STEP,
            "jobs.<job_id>.steps.name");
    scan_as(L, &s, node_get(n, "env", NULL), K_STEP,
            "jobs.<job_id>.steps.env");
    scan_as(L, &s, node_get(n, "working-directory", NULL), K_STEP,
            "jobs.<job_id>.steps.working-directory");
    scan_as(L, &s, node_get(n, "continue-on-error", NULL), K_STEP,
            "jobs.<job_id>.steps.continue-on-error");
    scan_as(L, &s, node_get(n, "timeout-minutes", NULL), K_STEP,
            "jobs.<job_id>.steps.timeout-minutes");
    /* not in GitHub's table, but evaluated like its neighbours */
    scan_as(L, &s, node_get(n, "shell", NULL), K_STEP,
            "jobs.<job_id>.steps.shell");
    s.script = "run";
    scan_as(L, &s, node_get(n, "run", NULL), K_STEP,
            "jobs.<job_id>.steps.run");
    s.script = NULL;
    s.ctx = K_STEP;
    s.doc = "jobs.<job_id>.steps.with";
    lint_with(L, &s, st->with,
              st->uses && strncmp(st->uses, "actions/github-script",
                                  strlen("actions/github-script")) == 0);
}

/* The container of a job (@service NULL) or one of its services. */
static void lint_container(struct lint *L, struct site *s,
                           const struct node *c, bool service)
{
    if (!c)
        return;
    if (c->kind != NODE_MAP) {
        scan_as(L, s, c, K_JOB, service ? "jobs.<job_id>.services"
                                        : "jobs.<job_id>.container");
        return;
    }
    for (size_t i = 0; i < c->n; i++) {
        const char *k = c->keys[i]->str;

        if (strcmp(k, "credentials") == 0)
            scan_as(L, s, c->items[i], K_CREDENTIALS,
                    service ? "jobs.<job_id>.services.<service_id>."
                              "credentials"
                            : "jobs.<job_id>.container.credentials");
        else if (strcmp(k, "env") == 0)
            scan_as(L, s, c->items[i], K_CONTAINER_ENV,
                    service ? "jobs.<job_id>.services.<service_id>.env"
                            : "jobs.<job_id>.container.env");
        else
            scan_as(L, s, c->items[i], K_JOB,
                    service ? "jobs.<job_id>.services"
                            : "jobs.<job_id>.container");
    }
}

static void lint_job(struct lint *L, const struct wf_job *j)
{
    const struct node *n = j->node;
    const struct node *v;
    struct site s = { K_JOB_IF, EXPR_FN_STATUS, j, 0, NULL,
                      "jobs.<job_id>.if" };

    matrix_keys(L, j);
    check_cond(L, &s, j->if_node);
    s.fn = 0;
    scan_as(L, &s, node_get(n, "name", NULL), K_JOB, "jobs.<job_id>.name");
    scan_as(L, &s, node_get(n, "runs-on", NULL), K_JOB,
            "jobs.<job_id>.runs-on");
    scan_as(L, &s, node_get(n, "continue-on-error", NULL), K_JOB,
            "jobs.<job_id>.continue-on-error");
    scan_as(L, &s, node_get(n, "timeout-minutes", NULL), K_JOB,
            "jobs.<job_id>.timeout-minutes");
    scan_as(L, &s, node_get(n, "concurrency", NULL), K_JOB,
            "jobs.<job_id>.concurrency");
    scan_as(L, &s, node_get(n, "with", NULL), K_JOB, "jobs.<job_id>.with");
    v = j->environment;
    if (v && v->kind == NODE_MAP) {
        scan_as(L, &s, node_get(v, "name", NULL), K_JOB,
                "jobs.<job_id>.environment");
        s.nsteps = ALL_STEPS;
        scan_as(L, &s, node_get(v, "url", NULL), K_ENV_URL,
                "jobs.<job_id>.environment.url");
        s.nsteps = 0;
    } else {
        scan_as(L, &s, v, K_JOB, "jobs.<job_id>.environment");
    }
    scan_as(L, &s, node_get(n, "env", NULL), K_JOB_ENV, "jobs.<job_id>.env");
    scan_as(L, &s, node_get(n, "secrets", NULL), K_JOB_ENV,
            "jobs.<job_id>.secrets");
    scan_as(L, &s, node_get(n, "defaults", NULL), K_DEFAULTS,
            "jobs.<job_id>.defaults.run");
    scan_as(L, &s, node_get(n, "strategy", NULL), K_STRATEGY,
            "jobs.<job_id>.strategy");
    s.nsteps = ALL_STEPS;
    scan_as(L, &s, node_get(n, "outputs", NULL), K_OUTPUTS,
            "jobs.<job_id>.outputs");
    s.nsteps = 0;
    lint_container(L, &s, j->container, false);
    v = j->services;
    if (v && v->kind == NODE_SCALAR)
        scan_as(L, &s, v, K_JOB, "jobs.<job_id>.services");
    for (size_t i = 0; v && v->kind == NODE_MAP && i < v->n; i++)
        lint_container(L, &s, v->items[i], true);
    if (j->uses) {
        v = node_get(n, "uses", NULL);
        no_expr(L, v, "uses");
        if (!has_expr(v) && !uses_ok(j->uses))
            report(L, DIAG_ERROR, &v->pos,
                   "'uses' of a job must be './.github/workflows/<file>' or "
                   "'owner/repo/.github/workflows/<file>@ref', got '%.*s'",
                   NODE_ARGS(v));
    }
    lint_matrix(L, j);
    for (size_t i = 0; i < j->nsteps; i++)
        lint_step(L, j, i);
}

void lint_wf(const struct wf *wf, unsigned flags, struct diags *diags)
{
    struct lint L;
    struct site s = { K_WF, 0, NULL, 0, NULL, NULL };
    const struct node *root;

    if (!wf || !wf->root)
        return;
    memset(&L, 0, sizeof(L));
    L.wf = wf;
    L.flags = flags;
    L.d = diags;
    L.budget = LINT_BUDGET;
    L.mkeys = xcalloc(MATRIX_KEYS_MAX, sizeof(*L.mkeys));
    root = wf->root;
    scan_as(&L, &s, node_get(root, "run-name", NULL), K_WF, "run-name");
    scan_as(&L, &s, node_get(root, "concurrency", NULL), K_WF,
            "concurrency");
    scan_as(&L, &s, node_get(root, "env", NULL), K_WF_ENV, "env");
    /* not in GitHub's table: check syntax, not contexts */
    scan_as(&L, &s, node_get(root, "defaults", NULL), EXPR_CTX_ALL,
            "defaults");
    lint_triggers(&L);
    lint_needs(&L);
    for (size_t i = 0; i < wf->njobs; i++)
        lint_job(&L, &wf->jobs[i]);
    free(L.mkeys);
}
