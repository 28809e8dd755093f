/* wf: GitHub Actions workflow files (and action.yml metadata) from a node
 * tree into the model of wf.h, reporting wrong types, missing keys and
 * unknown keys with their positions.  Structure only: it does not look
 * inside ${{ }}, check needs for cycles, or parse cron and glob patterns;
 * lint does. */
#include "pipeline/wf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "util/limits.h"

/* diags_add keeps this many findings and only counts the rest. */
#define DIAGS_MAX 1000

/* Longest user text quoted in a message. */
#define SHOW_MAX 100

struct ld {
    struct arena *a;
    const char *path;
    struct diags *d;
    struct ferr *err;      /* the first error */
    size_t nsteps;         /* steps loaded so far, over all jobs */
    size_t work;           /* mapping and sequence entries looked at */
    bool over;             /* work went over WORK_MAX: loading stopped */
};

/* Aliases let a small file name one big mapping from many places; bound
 * the entries looked at so loading stays linear in practice. */
#define WORK_MAX (4 * (size_t)LIM_YAML_NODES)

static int shown(size_t len)
{
    return (int)(len > SHOW_MAX ? SHOW_MAX : len);
}

#define NODE_ARGS(n) shown((n)->len), (n)->str

/* diags keep their own copy of the file name. */
static bool same_file(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

/* A node shared through an alias is loaded once per use: report each
 * finding once. */
static bool seen(const struct diags *d, enum diag_level lvl,
                 const struct pos *at, const char *msg)
{
    /* past its maximum the list only counts: nothing to compare with */
    if (d->n >= DIAGS_MAX)
        return false;
    for (size_t i = 0; i < d->n; i++) {
        const struct diag *g = &d->v[i];

        if (g->level == lvl && g->pos.line == at->line &&
            g->pos.col == at->col && same_file(g->pos.file, at->file) &&
            strcmp(g->msg, msg) == 0)
            return true;
    }
    return false;
}

static void vreport(struct ld *l, enum diag_level lvl, enum ferr_code code,
                    const struct pos *at, const char *fmt, va_list ap)
    __attribute__((format(printf, 5, 0)));
static void vreport(struct ld *l, enum diag_level lvl, enum ferr_code code,
                    const struct pos *at, const char *fmt, va_list ap)
{
    char msg[512];

    vsnprintf(msg, sizeof(msg), fmt, ap);
    if (seen(l->d, lvl, at, msg))
        return;
    diags_add(l->d, lvl, at, "%s", msg);
    if (lvl == DIAG_ERROR)
        ferr_set(l->err, code, at, "%s", msg);
}

static void fail_code(struct ld *l, enum ferr_code code, const struct pos *at,
                      const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void fail_code(struct ld *l, enum ferr_code code, const struct pos *at,
                      const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(l, DIAG_ERROR, code, at, fmt, ap);
    va_end(ap);
}

static void fail(struct ld *l, const struct node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void fail(struct ld *l, const struct node *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(l, DIAG_ERROR, FERR_INVALID, &at->pos, fmt, ap);
    va_end(ap);
}

static void warn(struct ld *l, const struct node *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void warn(struct ld *l, const struct node *at, const char *fmt, ...)
{
    va_list ap;

    va_start(ap, fmt);
    vreport(l, DIAG_WARNING, FERR_OK, &at->pos, fmt, ap);
    va_end(ap);
}

/* Account for looking at the entries of @n; false once over budget. */
static bool charge(struct ld *l, const struct node *n)
{
    if (l->over)
        return false;
    l->work += 1 + (n && n->kind != NODE_SCALAR ? n->n : 0);
    if (l->work <= WORK_MAX)
        return true;
    l->over = true;
    fail_code(l, FERR_LIMIT, &n->pos, "workflow is too large to load: "
              "aliases repeat more than %zu entries", WORK_MAX);
    return false;
}

/* "a string", "a mapping", ... for "must be X, got Y" messages. */
static const char *got(const struct node *n)
{
    if (n->kind == NODE_SEQ)
        return "a sequence";
    if (n->kind == NODE_MAP)
        return "a mapping";
    if (node_is_null(n))
        return "null";
    if (node_is_bool(n, NULL))
        return "a boolean";
    if (node_is_number(n, NULL))
        return "a number";
    return "a string";
}

static bool is_scalar(const struct node *n)
{
    return n && n->kind == NODE_SCALAR;
}

static bool is_expr(const struct node *n)
{
    return is_scalar(n) && n->len >= 3 && memmem(n->str, n->len, "${{", 3);
}

static bool key_is(const struct node *k, const char *s)
{
    size_t len = strlen(s);

    return k->len == len && memcmp(k->str, s, len) == 0;
}

/* GitHub's rule for job, step and input ids. */
static bool is_ident(const char *s, size_t len)
{
    if (len == 0 || !((s[0] >= 'a' && s[0] <= 'z') ||
                      (s[0] >= 'A' && s[0] <= 'Z') || s[0] == '_'))
        return false;
    for (size_t i = 1; i < len; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* Optimal string alignment distance (adjacent swaps cost 1), ignoring
 * ASCII case; SIZE_MAX for strings too long to bother with. */
static size_t distance(const char *a, size_t la, const char *b, size_t lb)
{
    size_t d[33][33];

    if (la > 32 || lb > 32)
        return SIZE_MAX;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            size_t cost = lower(a[i - 1]) != lower(b[j - 1]);
            size_t v = d[i - 1][j] + 1;

            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && lower(a[i - 1]) == lower(b[j - 2]) &&
                lower(a[i - 2]) == lower(b[j - 1]) && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;
            d[i][j] = v;
        }
    }
    return d[la][lb];
}

const char *wf_suggest(const char *s, size_t len, const char *const *known)
{
    const char *best = NULL;
    size_t best_d = SIZE_MAX;
    size_t limit = len <= 4 ? 1 : 2;

    for (size_t i = 0; known[i]; i++) {
        size_t kl = strlen(known[i]);
        size_t d;

        /* the length difference alone rules most words out */
        if ((len > kl ? len - kl : kl - len) > limit)
            continue;
        d = distance(s, len, known[i], kl);
        if (d < best_d) {
            best_d = d;
            best = known[i];
        }
    }
    return best_d <= limit ? best : NULL;
}

static bool known_word(const struct node *k, const char *const *known)
{
    for (size_t i = 0; known[i]; i++)
        if (key_is(k, known[i]))
            return true;
    return false;
}

/* Warn about every key of @map not in @known, naming @where ("job
 * 'build'") and the likely intended key. */
static void check_keys(struct ld *l, const struct node *map,
                       const char *const *known, const char *where)
{
    if (!map || map->kind != NODE_MAP || !charge(l, map))
        return;
    for (size_t i = 0; i < map->n; i++) {
        const struct node *k = map->keys[i];
        const char *s;

        if (known_word(k, known))
            continue;
        s = l->d->n < DIAGS_MAX ? wf_suggest(k->str, k->len, known) : NULL;
        if (s)
            warn(l, k, "unknown key '%.*s' in %s (did you mean '%s'?)",
                 NODE_ARGS(k), where, s);
        else
            warn(l, k, "unknown key '%.*s' in %s", NODE_ARGS(k), where);
    }
}

/* A string value: any scalar (a plain null means unset).  Others are an
 * error; returns NULL then. */
static const char *get_str(struct ld *l, const struct node *map,
                           const char *key, const struct node **out_node)
{
    const struct node *n = node_get(map, key, NULL);

    if (out_node)
        *out_node = NULL;
    if (!n)
        return NULL;
    if (!is_scalar(n)) {
        fail(l, n, "'%s' must be a string, got %s", key, got(n));
        return NULL;
    }
    if (out_node)
        *out_node = n;
    return node_is_null(n) ? NULL : n->str;
}

/* A mapping value (a plain null means unset). */
static const struct node *get_map(struct ld *l, const struct node *map,
                                  const char *key)
{
    const struct node *n = node_get(map, key, NULL);

    if (!n || node_is_null(n))
        return NULL;
    if (n->kind != NODE_MAP) {
        fail(l, n, "'%s' must be a mapping, got %s", key, got(n));
        return NULL;
    }
    return n;
}

static const struct node *get_bool(struct ld *l, const struct node *map,
                                   const char *key)
{
    const struct node *n = node_get(map, key, NULL);

    if (!n)
        return NULL;
    if (!node_is_bool(n, NULL) && !is_expr(n)) {
        fail(l, n, "'%s' must be a boolean or an expression, got %s", key,
             got(n));
        return NULL;
    }
    return n;
}

static const struct node *get_number(struct ld *l, const struct node *map,
                                     const char *key)
{
    const struct node *n = node_get(map, key, NULL);

    if (!n)
        return NULL;
    if (!node_is_number(n, NULL) && !is_expr(n)) {
        fail(l, n, "'%s' must be a number or an expression, got %s", key,
             got(n));
        return NULL;
    }
    return n;
}

/* A string or a sequence of strings. */
static void load_strs(struct ld *l, const char *key, const struct node *n,
                      struct wf_strs *out)
{
    memset(out, 0, sizeof(*out));
    if (!n)
        return;
    out->set = true;
    if (is_scalar(n)) {
        if (node_is_null(n))
            return;
        out->v = arena_alloc(l->a, sizeof(*out->v));
        out->nodes = arena_alloc(l->a, sizeof(*out->nodes));
        out->v[0] = n->str;
        out->nodes[0] = n;
        out->n = 1;
        return;
    }
    if (n->kind != NODE_SEQ) {
        fail(l, n, "'%s' must be a string or a sequence of strings, got %s",
             key, got(n));
        return;
    }
    if (n->n == 0 || !charge(l, n))
        return;
    out->v = arena_alloc(l->a, n->n * sizeof(*out->v));
    out->nodes = arena_alloc(l->a, n->n * sizeof(*out->nodes));
    for (size_t i = 0; i < n->n; i++) {
        const struct node *it = n->items[i];

        if (!is_scalar(it)) {
            fail(l, it, "'%s' entries must be strings, got %s", key, got(it));
            continue;
        }
        out->v[out->n] = it->str;
        out->nodes[out->n] = it;
        out->n++;
    }
}

/* env: a mapping of names to scalars, or one ${{ }} giving the mapping. */
static const struct node *load_env(struct ld *l, const struct node *map,
                                   const char *key)
{
    const struct node *n = node_get(map, key, NULL);

    if (is_expr(n))
        return n;
    n = get_map(l, map, key);
    if (!n || !charge(l, n))
        return NULL;
    for (size_t i = 0; i < n->n; i++) {
        const struct node *v = n->items[i];

        if (!is_scalar(v))
            fail(l, v, "'%s.%.*s' must be a string, number or boolean, "
                       "got %s", key, NODE_ARGS(n->keys[i]), got(v));
    }
    return n;
}

/* A mapping whose values are strings (outputs, with). */
static const struct node *load_str_map(struct ld *l, const struct node *map,
                                       const char *key)
{
    const struct node *n = get_map(l, map, key);

    if (!n || !charge(l, n))
        return NULL;
    for (size_t i = 0; i < n->n; i++) {
        const struct node *v = n->items[i];

        if (!is_scalar(v))
            fail(l, v, "'%s.%.*s' must be a string, got %s", key,
                 NODE_ARGS(n->keys[i]), got(v));
    }
    return n;
}

static const char *const defaults_keys[] = { "run", NULL };
static const char *const defaults_run_keys[] = { "shell", "working-directory",
                                                 NULL };

static void load_defaults(struct ld *l, const struct node *map,
                          const char *where, const char **out_shell,
                          const char **out_wd)
{
    const struct node *d = get_map(l, map, "defaults");
    const struct node *run;
    char buf[256];

    *out_shell = NULL;
    *out_wd = NULL;
    if (!d)
        return;
    snprintf(buf, sizeof(buf), "'defaults' of %s", where);
    check_keys(l, d, defaults_keys, buf);
    run = get_map(l, d, "run");
    if (!run)
        return;
    snprintf(buf, sizeof(buf), "'defaults.run' of %s", where);
    check_keys(l, run, defaults_run_keys, buf);
    *out_shell = get_str(l, run, "shell", NULL);
    *out_wd = get_str(l, run, "working-directory", NULL);
}

static const char *const concurrency_keys[] = { "group", "cancel-in-progress",
                                                "queue", NULL };

static const struct node *load_concurrency(struct ld *l,
                                           const struct node *map,
                                           const char *where)
{
    const struct node *n = node_get(map, "concurrency", NULL);
    char buf[256];

    if (!n || node_is_null(n))
        return NULL;
    if (is_scalar(n))
        return n;
    if (n->kind != NODE_MAP) {
        fail(l, n, "'concurrency' must be a string or a mapping, got %s",
             got(n));
        return NULL;
    }
    snprintf(buf, sizeof(buf), "'concurrency' of %s", where);
    check_keys(l, n, concurrency_keys, buf);
    if (!node_get(n, "group", NULL))
        fail(l, n, "'concurrency' of %s is missing 'group'", where);
    else
        (void)get_str(l, n, "group", NULL);
    (void)get_bool(l, n, "cancel-in-progress");
    return n;
}

static void load_permissions(struct ld *l, const struct node *map)
{
    const struct node *n = node_get(map, "permissions", NULL);

    /* accepted for compatibility; ferry has no token to scope */
    if (n && n->kind == NODE_SEQ)
        fail(l, n, "'permissions' must be a string or a mapping, got %s",
             got(n));
}

/* ---- triggers ---- */

enum evkey {
    EK_BRANCHES = 1 << 0,
    EK_BRANCHES_IGNORE = 1 << 1,
    EK_TAGS = 1 << 2,
    EK_TAGS_IGNORE = 1 << 3,
    EK_PATHS = 1 << 4,
    EK_PATHS_IGNORE = 1 << 5,
    EK_TYPES = 1 << 6,
    EK_WORKFLOWS = 1 << 7,
    EK_INPUTS = 1 << 8,
    EK_OUTPUTS = 1 << 9,
    EK_SECRETS = 1 << 10,
    EK_NAMES = 1 << 11,
    EK_VERSIONS = 1 << 12,
};

static const char *const evkey_names[] = {
    "branches", "branches-ignore", "tags",      "tags-ignore",
    "paths",    "paths-ignore",    "types",     "workflows",
    "inputs",   "outputs",         "secrets",   "names",
    "versions", NULL,
};

#define EK_FILTERS (EK_BRANCHES | EK_BRANCHES_IGNORE | EK_PATHS | \
                    EK_PATHS_IGNORE)

struct event {
    const char *name;
    unsigned keys;
};

/* The events GitHub can trigger a workflow on, with their filters. */
static const struct event events[] = {
    { "branch_protection_rule", EK_TYPES },
    { "check_run", EK_TYPES },
    { "check_suite", EK_TYPES },
    { "create", 0 },
    { "delete", 0 },
    { "deployment", 0 },
    { "deployment_status", 0 },
    { "discussion", EK_TYPES },
    { "discussion_comment", EK_TYPES },
    { "fork", 0 },
    { "gollum", 0 },
    { "image_version", EK_NAMES | EK_VERSIONS },
    { "issue_comment", EK_TYPES },
    { "issues", EK_TYPES },
    { "label", EK_TYPES },
    { "merge_group", EK_TYPES },
    { "milestone", EK_TYPES },
    { "page_build", 0 },
    { "project", EK_TYPES },
    { "project_card", EK_TYPES },
    { "project_column", EK_TYPES },
    { "public", 0 },
    { "pull_request", EK_FILTERS | EK_TYPES },
    { "pull_request_review", EK_TYPES },
    { "pull_request_review_comment", EK_TYPES },
    { "pull_request_target", EK_FILTERS | EK_TYPES },
    { "push", EK_FILTERS | EK_TAGS | EK_TAGS_IGNORE },
    { "registry_package", EK_TYPES },
    { "release", EK_TYPES },
    { "repository_dispatch", EK_TYPES },
    { "schedule", 0 },
    { "status", 0 },
    { "watch", EK_TYPES },
    { "workflow_call", EK_INPUTS | EK_OUTPUTS | EK_SECRETS },
    { "workflow_dispatch", EK_INPUTS },
    { "workflow_run", EK_WORKFLOWS | EK_TYPES | EK_BRANCHES |
                          EK_BRANCHES_IGNORE },
};

#define NEVENTS (sizeof(events) / sizeof(events[0]))

static const char *event_names[NEVENTS + 1];

static const struct event *event_find(const struct node *k)
{
    for (size_t i = 0; i < NEVENTS; i++)
        if (key_is(k, events[i].name))
            return &events[i];
    return NULL;
}

static const char *const *event_name_list(void)
{
    for (size_t i = 0; i < NEVENTS; i++)
        event_names[i] = events[i].name;
    event_names[NEVENTS] = NULL;
    return event_names;
}

static const char *const dispatch_input_keys[] = {
    "description", "required", "default", "type", "options", NULL,
};
static const char *const call_input_keys[] = {
    "description", "required", "default", "type", NULL,
};
static const char *const call_output_keys[] = { "description", "value", NULL };
static const char *const call_secret_keys[] = { "description", "required",
                                                NULL };

static bool str_in(const struct node *n, const char *const *list)
{
    return is_scalar(n) && known_word(n, list);
}

static void load_inputs(struct ld *l, const struct node *ev, bool call)
{
    static const char *const dispatch_types[] = {
        "string", "boolean", "choice", "number", "environment", NULL,
    };
    static const char *const call_types[] = { "string", "boolean", "number",
                                              NULL };
    const struct node *in = get_map(l, ev, "inputs");
    const char *const *types = call ? call_types : dispatch_types;

    if (!in || !charge(l, in))
        return;
    for (size_t i = 0; i < in->n; i++) {
        const struct node *k = in->keys[i];
        const struct node *v = in->items[i];
        const struct node *type;
        char where[160];

        if (!is_ident(k->str, k->len))
            fail(l, k, "invalid input id '%.*s': must start with a letter "
                       "or '_' and contain only letters, digits, '-' and '_'",
                 NODE_ARGS(k));
        if (node_is_null(v) && !call)
            continue;
        if (v->kind != NODE_MAP) {
            fail(l, v, "input '%.*s' must be a mapping, got %s", NODE_ARGS(k),
                 got(v));
            continue;
        }
        snprintf(where, sizeof(where), "input '%.*s'", NODE_ARGS(k));
        check_keys(l, v, call ? call_input_keys : dispatch_input_keys, where);
        (void)get_str(l, v, "description", NULL);
        (void)get_bool(l, v, "required");
        type = node_get(v, "type", NULL);
        if (!type && call)
            fail(l, v, "input '%.*s' is missing 'type'", NODE_ARGS(k));
        else if (type && !str_in(type, types))
            fail(l, type, "input '%.*s' has unknown type '%.*s' (expected %s)",
                 NODE_ARGS(k), NODE_ARGS(type),
                 call ? "string, boolean or number"
                      : "string, boolean, choice, number or environment");
        if (type && key_is(type, "choice")) {
            const struct node *o = node_get(v, "options", NULL);

            if (!o || o->kind != NODE_SEQ || o->n == 0)
                fail(l, o ? o : v, "input '%.*s' of type 'choice' needs "
                                   "'options' (a non-empty sequence)",
                     NODE_ARGS(k));
        }
    }
}

static void load_call(struct ld *l, const struct node *ev)
{
    const struct node *outs = get_map(l, ev, "outputs");
    const struct node *secs = get_map(l, ev, "secrets");

    load_inputs(l, ev, true);
    if ((outs && !charge(l, outs)) || (secs && !charge(l, secs)))
        return;
    for (size_t i = 0; outs && i < outs->n; i++) {
        const struct node *k = outs->keys[i];
        const struct node *v = outs->items[i];
        char where[160];

        if (v->kind != NODE_MAP) {
            fail(l, v, "output '%.*s' must be a mapping, got %s",
                 NODE_ARGS(k), got(v));
            continue;
        }
        snprintf(where, sizeof(where), "output '%.*s'", NODE_ARGS(k));
        check_keys(l, v, call_output_keys, where);
        if (!node_get(v, "value", NULL))
            fail(l, v, "output '%.*s' is missing 'value'", NODE_ARGS(k));
        else
            (void)get_str(l, v, "value", NULL);
    }
    for (size_t i = 0; secs && i < secs->n; i++) {
        const struct node *k = secs->keys[i];
        const struct node *v = secs->items[i];
        char where[160];

        if (node_is_null(v))
            continue;
        if (v->kind != NODE_MAP) {
            fail(l, v, "secret '%.*s' must be a mapping, got %s",
                 NODE_ARGS(k), got(v));
            continue;
        }
        snprintf(where, sizeof(where), "secret '%.*s'", NODE_ARGS(k));
        check_keys(l, v, call_secret_keys, where);
        (void)get_bool(l, v, "required");
    }
}

static void load_schedule(struct ld *l, const struct node *v,
                          struct wf_trigger *t)
{
    static const char *const cron_keys[] = { "cron", "timezone", NULL };

    if (v->kind != NODE_SEQ) {
        fail(l, v, "'on.schedule' must be a sequence of '- cron: ...' "
                   "entries, got %s", got(v));
        return;
    }
    t->crons.set = true;
    if (v->n == 0)
        return;
    t->crons.v = arena_alloc(l->a, v->n * sizeof(*t->crons.v));
    t->crons.nodes = arena_alloc(l->a, v->n * sizeof(*t->crons.nodes));
    for (size_t i = 0; i < v->n; i++) {
        const struct node *it = v->items[i];
        const struct node *c;

        if (it->kind != NODE_MAP) {
            fail(l, it, "'on.schedule' entries must be mappings with 'cron', "
                        "got %s", got(it));
            continue;
        }
        check_keys(l, it, cron_keys, "'on.schedule'");
        c = node_get(it, "cron", NULL);
        if (!c) {
            fail(l, it, "'on.schedule' entry is missing 'cron'");
            continue;
        }
        if (!is_scalar(c) || node_is_null(c)) {
            fail(l, c, "'cron' must be a string, got %s", got(c));
            continue;
        }
        t->crons.v[t->crons.n] = c->str;
        t->crons.nodes[t->crons.n] = c;
        t->crons.n++;
    }
}

static void exclusive(struct ld *l, const struct node *v, const char *a,
                      const char *b, const char *event)
{
    const struct node *kb;

    if (node_get(v, a, NULL) && node_get(v, b, &kb))
        fail(l, kb, "'%s' and '%s' cannot both be used for '%s'", a, b,
             event);
}

static void load_event(struct ld *l, const struct node *k,
                       const struct node *v, struct wf_trigger *t)
{
    const struct event *e = event_find(k);
    char where[160];
    const char *known[sizeof(evkey_names) / sizeof(evkey_names[0])];
    size_t nk = 0;

    t->event = k->str;
    t->node = v && !node_is_null(v) ? v : NULL;
    if (!e) {
        const char *s = wf_suggest(k->str, k->len, event_name_list());

        if (s)
            warn(l, k, "unknown event '%.*s' (did you mean '%s'?)",
                 NODE_ARGS(k), s);
        else
            warn(l, k, "unknown event '%.*s'", NODE_ARGS(k));
        return;
    }
    if (!t->node)
        return;
    if (strcmp(e->name, "schedule") == 0) {
        load_schedule(l, v, t);
        return;
    }
    snprintf(where, sizeof(where), "'on.%s'", e->name);
    if (v->kind != NODE_MAP) {
        fail(l, v, "%s must be a mapping, got %s", where, got(v));
        return;
    }
    for (size_t i = 0; evkey_names[i]; i++)
        if (e->keys & (1u << i))
            known[nk++] = evkey_names[i];
    known[nk] = NULL;
    check_keys(l, v, known, where);
    if (e->keys & EK_BRANCHES)
        load_strs(l, "branches", node_get(v, "branches", NULL), &t->branches);
    if (e->keys & EK_BRANCHES_IGNORE)
        load_strs(l, "branches-ignore", node_get(v, "branches-ignore", NULL),
                  &t->branches_ignore);
    if (e->keys & EK_TAGS)
        load_strs(l, "tags", node_get(v, "tags", NULL), &t->tags);
    if (e->keys & EK_TAGS_IGNORE)
        load_strs(l, "tags-ignore", node_get(v, "tags-ignore", NULL),
                  &t->tags_ignore);
    if (e->keys & EK_PATHS)
        load_strs(l, "paths", node_get(v, "paths", NULL), &t->paths);
    if (e->keys & EK_PATHS_IGNORE)
        load_strs(l, "paths-ignore", node_get(v, "paths-ignore", NULL),
                  &t->paths_ignore);
    if (e->keys & EK_TYPES)
        load_strs(l, "types", node_get(v, "types", NULL), &t->types);
    for (size_t i = 0; evkey_names[i]; i++) {
        unsigned bit = 1u << i;
        struct wf_strs w;

        if ((e->keys & bit) && (bit & (EK_WORKFLOWS | EK_NAMES | EK_VERSIONS)))
            load_strs(l, evkey_names[i], node_get(v, evkey_names[i], NULL),
                      &w);
    }
    if (e->keys & EK_BRANCHES_IGNORE)
        exclusive(l, v, "branches", "branches-ignore", e->name);
    if (e->keys & EK_TAGS_IGNORE)
        exclusive(l, v, "tags", "tags-ignore", e->name);
    if (e->keys & EK_PATHS_IGNORE)
        exclusive(l, v, "paths", "paths-ignore", e->name);
    if (e->keys & EK_INPUTS)
        t->inputs = node_get(v, "inputs", NULL);
    if (strcmp(e->name, "workflow_dispatch") == 0)
        load_inputs(l, v, false);
    else if (strcmp(e->name, "workflow_call") == 0)
        load_call(l, v);
}

static void add_trigger(struct ld *l, struct wf *wf, const struct node *k,
                        const struct node *v)
{
    for (size_t i = 0; i < wf->ntriggers; i++)
        if (strcmp(wf->triggers[i].event, k->str) == 0) {
            warn(l, k, "event '%.*s' is listed twice", NODE_ARGS(k));
            return;
        }
    load_event(l, k, v, &wf->triggers[wf->ntriggers++]);
}

static void load_on(struct ld *l, struct wf *wf, const struct node *on)
{
    if (is_scalar(on)) {
        if (node_is_null(on)) {
            fail(l, on, "'on' must name at least one event");
            return;
        }
        wf->triggers = arena_alloc(l->a, sizeof(*wf->triggers));
        add_trigger(l, wf, on, NULL);
        return;
    }
    if (on->n == 0) {
        fail(l, on, "'on' must name at least one event");
        return;
    }
    wf->triggers = arena_alloc(l->a, on->n * sizeof(*wf->triggers));
    for (size_t i = 0; i < on->n; i++) {
        if (on->kind == NODE_MAP) {
            add_trigger(l, wf, on->keys[i], on->items[i]);
        } else if (!is_scalar(on->items[i]) || node_is_null(on->items[i])) {
            fail(l, on->items[i], "'on' entries must be event names, got %s",
                 got(on->items[i]));
        } else {
            add_trigger(l, wf, on->items[i], NULL);
        }
    }
}

/* ---- steps ---- */

static const char *const step_keys[] = {
    "id",    "name", "if",    "run",
    "uses",  "with", "env",   "shell",
    "working-directory", "continue-on-error", "timeout-minutes", NULL,
};

/* @owner names the job or action in messages; @composite requires a
 * shell on run: steps, as GitHub does in composite actions. */
static void load_step(struct ld *l, const struct node *n, size_t index,
                      const char *owner, bool composite, struct wf_step *s)
{
    char where[200];
    const struct node *id;
    const struct node *run;
    const struct node *uses;

    snprintf(where, sizeof(where), "step %zu of %s", index + 1, owner);
    s->node = n;
    s->pos = n->pos;
    s->index = index;
    if (!charge(l, n))
        return;
    if (n->kind != NODE_MAP) {
        fail(l, n, "%s must be a mapping, got %s", where, got(n));
        return;
    }
    check_keys(l, n, step_keys, where);
    s->id = get_str(l, n, "id", &id);
    if (s->id && !is_ident(id->str, id->len)) {
        fail(l, id, "invalid step id '%.*s': must start with a letter or "
                    "'_' and contain only letters, digits, '-' and '_'",
             NODE_ARGS(id));
    }
    s->name = get_str(l, n, "name", NULL);
    s->if_expr = get_str(l, n, "if", &s->if_node);
    s->run = get_str(l, n, "run", &s->run_node);
    s->uses = get_str(l, n, "uses", &s->uses_node);
    s->shell = get_str(l, n, "shell", NULL);
    s->working_directory = get_str(l, n, "working-directory", NULL);
    s->env = load_env(l, n, "env");
    s->with = load_str_map(l, n, "with");
    s->continue_on_error = get_bool(l, n, "continue-on-error");
    s->timeout_minutes = get_number(l, n, "timeout-minutes");
    run = node_get(n, "run", NULL);
    uses = node_get(n, "uses", NULL);
    if (run && uses)
        fail(l, n, "%s has both 'run' and 'uses'", where);
    else if (!run && !uses)
        fail(l, n, "%s must have 'run' or 'uses'", where);
    else if (is_scalar(run) && !s->run)
        fail(l, run, "'run' must not be empty");
    else if (is_scalar(uses) && !s->uses)
        fail(l, uses, "'uses' must not be empty");
    if (run && s->with)
        warn(l, node_get(n, "with", NULL),
             "'with' is ignored in a 'run' step; use 'env'");
    if (s->uses && s->shell)
        warn(l, node_get(n, "shell", NULL),
             "'shell' is ignored in a 'uses' step");
    if (composite && s->run && !s->shell)
        fail(l, s->run_node, "%s has 'run' but no 'shell' (composite "
                             "actions require one)", where);
}

static void load_steps(struct ld *l, const struct node *n, const char *owner,
                       bool composite, struct wf_step **out, size_t *out_n)
{
    struct wf_step *steps;

    *out = NULL;
    *out_n = 0;
    if (n->kind != NODE_SEQ) {
        fail(l, n, "'steps' must be a sequence, got %s", got(n));
        return;
    }
    if (n->n > LIM_STEPS) {
        fail_code(l, FERR_LIMIT, &n->pos, "%s has more than %u steps", owner,
                  LIM_STEPS);
        return;
    }
    /* aliases can share one long list between many jobs */
    if (l->nsteps + n->n > LIM_YAML_NODES) {
        fail_code(l, FERR_LIMIT, &n->pos,
                  "workflow has more than %u steps in all", LIM_YAML_NODES);
        return;
    }
    l->nsteps += n->n;
    if (n->n == 0)
        return;
    steps = arena_alloc(l->a, n->n * sizeof(*steps));
    for (size_t i = 0; i < n->n; i++) {
        struct wf_step *s = &steps[i];

        load_step(l, n->items[i], i, owner, composite, s);
        if (!s->id)
            continue;
        for (size_t j = 0; j < i; j++)
            if (steps[j].id && strcmp(steps[j].id, s->id) == 0) {
                fail(l, node_get(s->node, "id", NULL),
                     "step id '%s' is already used by step %zu of %s",
                     s->id, j + 1, owner);
                break;
            }
    }
    *out = steps;
    *out_n = n->n;
}

/* ---- jobs ---- */

static const char *const job_keys[] = {
    "name",      "needs",     "if",          "runs-on",
    "environment", "env",     "defaults",    "outputs",
    "strategy",  "continue-on-error", "timeout-minutes", "concurrency",
    "container", "services",  "steps",       "permissions",
    "uses",      "with",      "secrets",     NULL,
};

/* Keys of a job that runs steps, which a reusable-workflow call lacks. */
static const char *const steps_job_only[] = {
    "runs-on", "environment", "env", "defaults", "outputs",
    "continue-on-error", "timeout-minutes", "container", "services",
    "steps", NULL,
};

static const char *const strategy_keys[] = { "matrix", "fail-fast",
                                             "max-parallel", NULL };
static const char *const environment_keys[] = { "name", "url", NULL };
static const char *const container_keys[] = {
    "image", "credentials", "env", "ports", "volumes", "options",
    "entrypoint", "command", NULL,
};
static const char *const credentials_keys[] = { "username", "password",
                                                NULL };
static const char *const runs_on_keys[] = { "group", "labels", NULL };

static void load_matrix(struct ld *l, const struct node *m)
{
    if (is_expr(m))
        return;
    if (m->kind != NODE_MAP) {
        fail(l, m, "'matrix' must be a mapping or an expression, got %s",
             got(m));
        return;
    }
    if (!charge(l, m))
        return;
    for (size_t i = 0; i < m->n; i++) {
        const struct node *k = m->keys[i];
        const struct node *v = m->items[i];

        if (key_is(k, "include") || key_is(k, "exclude")) {
            if (is_expr(v))
                continue;
            if (v->kind != NODE_SEQ) {
                fail(l, v, "'%.*s' must be a sequence of mappings or an "
                           "expression, got %s", NODE_ARGS(k), got(v));
                continue;
            }
            if (!charge(l, v))
                return;
            for (size_t j = 0; j < v->n; j++)
                if (v->items[j]->kind != NODE_MAP && !is_expr(v->items[j]))
                    fail(l, v->items[j], "'%.*s' entries must be mappings, "
                                         "got %s", NODE_ARGS(k),
                         got(v->items[j]));
            continue;
        }
        if (!is_expr(v) && v->kind != NODE_SEQ)
            fail(l, v, "matrix '%.*s' must be a sequence or an expression, "
                       "got %s", NODE_ARGS(k), got(v));
    }
}

static void load_strategy(struct ld *l, struct wf_job *j, const char *where)
{
    const struct node *s = get_map(l, j->node, "strategy");
    char buf[256];

    if (!s)
        return;
    j->strategy = s;
    snprintf(buf, sizeof(buf), "'strategy' of %s", where);
    check_keys(l, s, strategy_keys, buf);
    j->matrix = node_get(s, "matrix", NULL);
    if (j->matrix && node_is_null(j->matrix))
        j->matrix = NULL;
    if (j->matrix)
        load_matrix(l, j->matrix);
    j->fail_fast = get_bool(l, s, "fail-fast");
    j->max_parallel = get_number(l, s, "max-parallel");
}

static void load_container(struct ld *l, const struct node *c,
                           const char *what, bool need_image)
{
    const struct node *cred;
    char buf[256];
    struct wf_strs tmp;

    if (is_scalar(c)) {
        if (node_is_null(c) && need_image)
            fail(l, c, "%s must name an image", what);
        return;
    }
    if (c->kind != NODE_MAP) {
        fail(l, c, "%s must be a string or a mapping, got %s", what, got(c));
        return;
    }
    check_keys(l, c, container_keys, what);
    if (!node_get(c, "image", NULL) && need_image)
        fail(l, c, "%s is missing 'image'", what);
    (void)get_str(l, c, "image", NULL);
    (void)get_str(l, c, "options", NULL);
    (void)load_env(l, c, "env");
    load_strs(l, "ports", node_get(c, "ports", NULL), &tmp);
    load_strs(l, "volumes", node_get(c, "volumes", NULL), &tmp);
    cred = get_map(l, c, "credentials");
    if (cred) {
        snprintf(buf, sizeof(buf), "'credentials' of %s", what);
        check_keys(l, cred, credentials_keys, buf);
        (void)get_str(l, cred, "username", NULL);
        (void)get_str(l, cred, "password", NULL);
    }
}

static void load_runs_on(struct ld *l, const struct node *n,
                         const char *where)
{
    struct wf_strs tmp;
    char buf[256];

    if (n->kind == NODE_MAP) {
        snprintf(buf, sizeof(buf), "'runs-on' of %s", where);
        check_keys(l, n, runs_on_keys, buf);
        (void)get_str(l, n, "group", NULL);
        load_strs(l, "labels", node_get(n, "labels", NULL), &tmp);
        return;
    }
    if (is_scalar(n) && node_is_null(n)) {
        fail(l, n, "'runs-on' must name a runner");
        return;
    }
    load_strs(l, "runs-on", n, &tmp);
}

static void load_environment(struct ld *l, const struct node *n,
                             const char *where)
{
    char buf[256];

    if (is_scalar(n))
        return;
    if (n->kind != NODE_MAP) {
        fail(l, n, "'environment' must be a string or a mapping, got %s",
             got(n));
        return;
    }
    snprintf(buf, sizeof(buf), "'environment' of %s", where);
    check_keys(l, n, environment_keys, buf);
    if (!node_get(n, "name", NULL))
        fail(l, n, "'environment' of %s is missing 'name'", where);
    (void)get_str(l, n, "name", NULL);
    (void)get_str(l, n, "url", NULL);
}

static void load_job(struct ld *l, const struct node *k, const struct node *n,
                     struct wf_job *j)
{
    char where[160];
    const struct node *v;

    j->id = k->str;
    j->id_node = k;
    j->node = n;
    j->pos = k->pos;
    if (l->over)
        return;
    snprintf(where, sizeof(where), "job '%.*s'", NODE_ARGS(k));
    if (!is_ident(k->str, k->len))
        fail(l, k, "invalid job id '%.*s': must start with a letter or '_' "
                   "and contain only letters, digits, '-' and '_'",
             NODE_ARGS(k));
    if (n->kind != NODE_MAP) {
        fail(l, n, "%s must be a mapping, got %s", where, got(n));
        return;
    }
    check_keys(l, n, job_keys, where);
    j->name = get_str(l, n, "name", NULL);
    load_strs(l, "needs", node_get(n, "needs", NULL), &j->needs);
    j->if_expr = get_str(l, n, "if", &j->if_node);
    j->uses = get_str(l, n, "uses", NULL);
    load_permissions(l, n);
    load_strategy(l, j, where);
    j->concurrency = load_concurrency(l, n, where);
    if (node_get(n, "uses", NULL)) {
        for (size_t i = 0; steps_job_only[i]; i++) {
            const struct node *bad;

            if (node_get(n, steps_job_only[i], &bad))
                fail(l, bad, "'%s' cannot be used in %s, which calls a "
                             "reusable workflow", steps_job_only[i], where);
        }
        if (!j->uses)
            fail(l, node_get(n, "uses", NULL), "'uses' must not be empty");
        j->with = load_str_map(l, n, "with");
        v = node_get(n, "secrets", NULL);
        if (v && !(is_scalar(v) && key_is(v, "inherit")) &&
            v->kind != NODE_MAP)
            fail(l, v, "'secrets' must be 'inherit' or a mapping, got %s",
                 got(v));
        else if (v && v->kind == NODE_MAP)
            (void)load_str_map(l, n, "secrets");
        j->secrets = v;
        return;
    }
    if (node_get(n, "with", &v))
        fail(l, v, "'with' can only be used in a job that calls a reusable "
                   "workflow ('uses')");
    if (node_get(n, "secrets", &v))
        fail(l, v, "'secrets' can only be used in a job that calls a "
                   "reusable workflow ('uses')");
    v = node_get(n, "runs-on", NULL);
    if (!v)
        fail(l, k, "%s is missing 'runs-on'", where);
    else
        load_runs_on(l, v, where);
    j->runs_on = v;
    v = node_get(n, "environment", NULL);
    if (v && !node_is_null(v)) {
        load_environment(l, v, where);
        j->environment = v;
    }
    j->env = load_env(l, n, "env");
    load_defaults(l, n, where, &j->defaults_shell, &j->defaults_wd);
    j->outputs = load_str_map(l, n, "outputs");
    j->continue_on_error = get_bool(l, n, "continue-on-error");
    j->timeout_minutes = get_number(l, n, "timeout-minutes");
    v = node_get(n, "container", NULL);
    if (v && !node_is_null(v)) {
        load_container(l, v, "'container'", true);
        j->container = v;
    }
    v = node_get(n, "services", NULL);
    if (!is_expr(v))
        v = get_map(l, n, "services");
    if (v && !charge(l, v))
        return;
    for (size_t i = 0; v && v->kind == NODE_MAP && i < v->n; i++) {
        char what[160];

        snprintf(what, sizeof(what), "service '%.*s'", NODE_ARGS(v->keys[i]));
        if (v->items[i]->kind != NODE_MAP)
            fail(l, v->items[i], "%s must be a mapping, got %s", what,
                 got(v->items[i]));
        else
            load_container(l, v->items[i], what, true);
    }
    j->services = v;
    v = node_get(n, "steps", NULL);
    if (!v || node_is_null(v))
        fail(l, k, "%s has no 'steps'", where);
    else if (v->kind == NODE_SEQ && v->n == 0)
        fail(l, v, "%s has no steps", where);
    else
        load_steps(l, v, where, false, &j->steps, &j->nsteps);
}

static void load_jobs(struct ld *l, struct wf *wf, const struct node *jobs)
{
    if (jobs->kind != NODE_MAP) {
        fail(l, jobs, "'jobs' must be a mapping, got %s", got(jobs));
        return;
    }
    if (jobs->n == 0) {
        fail(l, jobs, "'jobs' must define at least one job");
        return;
    }
    if (jobs->n > LIM_JOBS) {
        fail_code(l, FERR_LIMIT, &jobs->pos,
                  "workflow has more than %u jobs", LIM_JOBS);
        return;
    }
    wf->jobs = arena_alloc(l->a, jobs->n * sizeof(*wf->jobs));
    wf->njobs = jobs->n;
    for (size_t i = 0; i < jobs->n; i++)
        load_job(l, jobs->keys[i], jobs->items[i], &wf->jobs[i]);
}

static const char *const wf_keys[] = {
    "name", "run-name", "on", "env", "defaults", "concurrency",
    "permissions", "jobs", NULL,
};

static void load_wf(struct ld *l, struct wf *wf, const struct node *root)
{
    const struct node *v;

    check_keys(l, root, wf_keys, "workflow");
    wf->name = get_str(l, root, "name", NULL);
    wf->run_name = get_str(l, root, "run-name", NULL);
    v = node_get(root, "on", NULL);
    if (!v)
        fail(l, root, "workflow is missing 'on' (the events that "
                      "trigger it)");
    else
        load_on(l, wf, v);
    wf->env = load_env(l, root, "env");
    load_defaults(l, root, "the workflow", &wf->defaults_shell,
                  &wf->defaults_wd);
    wf->concurrency = load_concurrency(l, root, "the workflow");
    load_permissions(l, root);
    v = node_get(root, "jobs", NULL);
    if (!v)
        fail(l, root, "workflow is missing 'jobs'");
    else
        load_jobs(l, wf, v);
}

/* Parse @src into the root mapping; errors are recorded. */
static const struct node *parse_root(struct ld *l, struct span src,
                                     const char *what)
{
    struct node *root = NULL;
    struct ferr perr;
    struct pos start = { l->path, 1, 1 };

    if (src.len > LIM_WORKFLOW_BYTES) {
        fail_code(l, FERR_LIMIT, &start, "%s is larger than %u bytes", what,
                  LIM_WORKFLOW_BYTES);
        return NULL;
    }
    ferr_clear(&perr);
    if (node_parse(l->a, l->path, src, &root, &perr)) {
        diags_add_ferr(l->d, &perr);
        ferr_set(l->err, perr.code, &perr.pos, "%s", perr.msg);
        return NULL;
    }
    if (!root) {
        fail_code(l, FERR_INVALID, &start, "%s is empty", what);
        return NULL;
    }
    if (root->kind != NODE_MAP) {
        fail(l, root, "%s must be a mapping, got %s", what, got(root));
        return NULL;
    }
    return root;
}

/* Parse @src and hand its root to @load (workflow or action); the first
 * error of this file goes to @err even when @err already holds one.
 * Returns what @load filled in, or NULL when the file is invalid. */
static void *load_file(struct arena *a, const char *path, struct span src,
                       struct diags *diags, const char *what,
                       void *(*load)(struct ld *l, const struct node *root),
                       enum ferr_code *out_rc, struct ferr *err)
{
    struct ld l = { .a = a, .path = path, .d = diags, .err = err };
    size_t nerrors = diags->nerrors;
    const struct node *root;
    struct ferr mine;
    void *obj;

    ferr_clear(&mine);
    l.err = &mine;
    root = parse_root(&l, src, what);
    if (root) {
        obj = load(&l, root);
        if (diags->nerrors == nerrors) {
            *out_rc = FERR_OK;
            return obj;
        }
    }
    if (mine.code == FERR_OK)
        ferr_set(&mine, FERR_INVALID, NULL, "%s is invalid", what);
    ferr_set(err, mine.code, &mine.pos, "%s", mine.msg);
    *out_rc = mine.code;
    return NULL;
}

static void *load_wf_root(struct ld *l, const struct node *root)
{
    struct wf *wf = arena_alloc(l->a, sizeof(*wf));

    wf->path = l->path;
    wf->root = root;
    load_wf(l, wf, root);
    return wf;
}

enum ferr_code wf_load(struct arena *a, const char *path, struct span src,
                       struct wf **out, struct diags *diags,
                       struct ferr *err)
{
    enum ferr_code rc;

    *out = load_file(a, path, src, diags, "workflow", load_wf_root, &rc,
                     err);
    return rc;
}

const struct wf_job *wf_job_find(const struct wf *wf, const char *id)
{
    for (size_t i = 0; wf && i < wf->njobs; i++)
        if (strcmp(wf->jobs[i].id, id) == 0)
            return &wf->jobs[i];
    return NULL;
}

const struct wf_trigger *wf_trigger_find(const struct wf *wf,
                                         const char *event)
{
    for (size_t i = 0; wf && i < wf->ntriggers; i++)
        if (strcmp(wf->triggers[i].event, event) == 0)
            return &wf->triggers[i];
    return NULL;
}

/* ---- action.yml ---- */

static const char *const action_keys[] = {
    "name", "author", "description", "inputs", "outputs", "runs",
    "branding", NULL,
};
static const char *const action_input_keys[] = {
    "description", "required", "default", "deprecationMessage", NULL,
};
static const char *const action_output_keys[] = { "description", "value",
                                                  NULL };
static const char *const runs_keys[] = {
    "using", "main", "pre", "pre-if", "post", "post-if", "steps", "image",
    "env", "entrypoint", "pre-entrypoint", "post-entrypoint", "args", NULL,
};

static bool node_using(const char *u)
{
    size_t i = 4;

    if (strncmp(u, "node", 4) != 0 || u[4] == '\0')
        return false;
    while (u[i] >= '0' && u[i] <= '9')
        i++;
    return u[i] == '\0';
}

static void load_action(struct ld *l, struct wf_action *act,
                        const struct node *root)
{
    const struct node *v;
    const struct node *runs;
    const struct node *using_node;
    bool composite;

    check_keys(l, root, action_keys, "the action");
    act->name = get_str(l, root, "name", NULL);
    if (!node_get(root, "name", NULL))
        warn(l, root, "action has no 'name'");
    (void)get_str(l, root, "description", NULL);
    act->inputs = get_map(l, root, "inputs");
    for (size_t i = 0; act->inputs && i < act->inputs->n; i++) {
        const struct node *k = act->inputs->keys[i];
        char where[160];

        v = act->inputs->items[i];
        if (node_is_null(v))
            continue;
        if (v->kind != NODE_MAP) {
            fail(l, v, "input '%.*s' must be a mapping, got %s", NODE_ARGS(k),
                 got(v));
            continue;
        }
        snprintf(where, sizeof(where), "input '%.*s'", NODE_ARGS(k));
        check_keys(l, v, action_input_keys, where);
        (void)get_str(l, v, "default", NULL);
        (void)get_str(l, v, "description", NULL);
    }
    runs = node_get(root, "runs", NULL);
    if (!runs) {
        fail(l, root, "action is missing 'runs'");
        return;
    }
    if (runs->kind != NODE_MAP) {
        fail(l, runs, "'runs' must be a mapping, got %s", got(runs));
        return;
    }
    check_keys(l, runs, runs_keys, "'runs'");
    act->using = get_str(l, runs, "using", &using_node);
    if (!act->using) {
        if (!node_get(runs, "using", NULL))
            fail(l, runs, "'runs' is missing 'using'");
        return;
    }
    composite = strcmp(act->using, "composite") == 0;
    if (!composite && !node_using(act->using) &&
        strcmp(act->using, "docker") != 0)
        fail(l, using_node, "unknown 'using' value '%.*s' (expected "
                            "composite, docker or node20)",
             NODE_ARGS(using_node));
    act->outputs = get_map(l, root, "outputs");
    for (size_t i = 0; act->outputs && i < act->outputs->n; i++) {
        const struct node *k = act->outputs->keys[i];
        char where[160];

        v = act->outputs->items[i];
        if (v->kind != NODE_MAP) {
            fail(l, v, "output '%.*s' must be a mapping, got %s",
                 NODE_ARGS(k), got(v));
            continue;
        }
        snprintf(where, sizeof(where), "output '%.*s'", NODE_ARGS(k));
        check_keys(l, v, action_output_keys, where);
        (void)get_str(l, v, "value", NULL);
        if (composite && !node_get(v, "value", NULL))
            fail(l, v, "output '%.*s' of a composite action is missing "
                       "'value'", NODE_ARGS(k));
    }
    act->main = get_str(l, runs, "main", NULL);
    act->post = get_str(l, runs, "post", NULL);
    act->post_if = get_str(l, runs, "post-if", NULL);
    (void)get_str(l, runs, "pre", NULL);
    (void)get_str(l, runs, "pre-if", NULL);
    if (node_using(act->using) && !act->main)
        fail(l, runs, "'runs' of a '%s' action is missing 'main'",
             act->using);
    if (composite) {
        v = node_get(runs, "steps", NULL);
        if (!v)
            fail(l, runs, "'runs' of a composite action is missing 'steps'");
        else
            load_steps(l, v, "the action", true, &act->steps, &act->nsteps);
    }
}

static void *load_action_root(struct ld *l, const struct node *root)
{
    struct wf_action *act = arena_alloc(l->a, sizeof(*act));

    act->path = l->path;
    act->root = root;
    load_action(l, act, root);
    return act;
}

enum ferr_code wf_load_action(struct arena *a, const char *path,
                              struct span src, struct wf_action **out,
                              struct diags *diags, struct ferr *err)
{
    enum ferr_code rc;

    *out = load_file(a, path, src, diags, "action", load_action_root, &rc,
                     err);
    return rc;
}
