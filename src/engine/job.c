/* job: runs one job's steps on this machine.  Each step is a process
 * group; output goes pipe -> lines -> workflow commands -> masker -> the
 * event sink.  Built-in actions run in-process; local composite actions
 * push a frame of steps.  Does not decide which jobs run (run.c does). */
#include "engine/job.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/action.h"
#include "engine/cjob.h"
#include "engine/output.h"
#include "exec/proc.h"
#include "exec/runfile.h"
#include "exec/shell.h"
#include "exec/workspace.h"
#include "pipeline/expr.h"
#include "report/report.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

#define KILL_GRACE_MS           5000
#define DEFAULT_JOB_TIMEOUT_MIN 360.0

extern char **environ;

/* The step being executed in a frame. */
struct step_exec {
    const struct wf_step *s;
    int number; /* top-level step number for events */
    char *name;
    char *id; /* step id or NULL */
    bool continue_on_error;
    bool top; /* a job step, not inside a composite */
    uint64_t start_ms;
    json_t *env;     /* evaluated env of this step (owned) */
    json_t *outputs; /* (owned) */
    char *fail_reason;
    bool timed_out;
    pid_t pid; /* running process (its group) or 0 */
    struct outpipe *io;
    struct loop_timer *timeout;
};

struct frame {
    struct frame *parent;
    const struct wf_step *steps;
    size_t nsteps;
    size_t idx;
    bool failed;               /* a step failed without continue-on-error */
    json_t *steps_ctx;         /* owned */
    json_t *inputs;            /* composite inputs (owned) or NULL */
    json_t *env;               /* composite: the caller's env (owned) */
    char *action_path;         /* composite: its directory (owned) */
    struct action_def *action; /* composite: owned */
    struct step_exec cur;
};

struct post {
    struct post *next;
    struct action_post ap; /* what to do at job end */
};

struct job {
    const struct job_host *host;
    struct job_spec spec;
    void (*done)(void *ud, struct job *j);
    void *done_ud;
    char *dir; /* run_dir/key */
    char *workspace;
    char *temp;         /* RUNNER_TEMP */
    int temp_fd;        /* that directory, as files_fd */
    char *files;        /* runner file commands dir */
    int files_fd;       /* that directory, opened when made (-1: not yet):
                         * a job container can replace the path with a
                         * link, so ferry's own reads and writes there go
                         * through these descriptors */
    char *tool_cache;   /* RUNNER_TOOL_CACHE */
    char *tracking;     /* FERRY_TRACKING_ID of its processes */
    char *summary_path; /* GITHUB_STEP_SUMMARY of the current step */
    json_t *github;     /* per-job github context (owned) */
    json_t *env;        /* workflow + job env, evaluated (owned) */
    json_t *file_env;   /* from GITHUB_ENV (owned) */
    json_t *paths;      /* from GITHUB_PATH, newest first (owned) */
    json_t *runner;     /* runner context (owned) */
    json_t *outputs;    /* job outputs (owned) */
    struct frame *top;
    struct output out; /* the job's log */
    struct post *posts;
    enum expr_status status;
    bool cancelled;
    bool timed_out;
    bool finished;
    bool reported;           /* a step recorded a report (FERRY_REPORT)
                                or ran ferry/report */
    int next_step; /* top-level step counter */
    enum result result;
    enum result outcome;
    uint64_t start_ms;
    char *cancel_reason; /* why job_cancel was called */
    struct loop_timer *job_timeout;
    struct loop_timer *kill_timer;
    pid_t kill_pgid;         /* the group kill_timer will SIGKILL, or 0 */
    bool aborted;            /* a hard abort: no step starts any more */
    struct loop_timer *kick; /* deferred start / finish */
    struct cjob *cj;         /* container executor (cjob.c) or NULL */
};

static void advance(struct job *j);
static void finish_job(struct job *j);

static struct step_exec *current_step(struct job *j)
{
    return j->top ? &j->top->cur : NULL;
}

/* ---------- events ---------- */

static void base_event(const struct job *j, struct event *ev,
                       enum event_kind kind)
{
    memset(ev, 0, sizeof(*ev));
    ev->kind = kind;
    ev->run_id = j->host->run_id;
    ev->workflow =
        j->spec.pw->wf->name ? j->spec.pw->wf->name : j->spec.pw->display_path;
    ev->workflow_file = j->spec.pw->display_path;
    ev->job_id = j->spec.wj->id;
    ev->job_name = j->spec.name;
    ev->job_key = j->spec.key;
    ev->matrix = j->spec.matrix;
    ev->step = -1;
}

static uint64_t now_ms(void)
{
    return loop_now_ms();
}

/* ---------- contexts ---------- */

/* The context object for expressions in this job right now; @step_env
 * adds a step's env on top of the job's. */
static json_t *contexts(struct job *j, const struct frame *f,
                        const json_t *step_env)
{
    json_t *c = json_object();
    json_t *env = json_copy(j->env);
    json_t *jobc;

    json_object_update(env, j->file_env);
    if (f && f->env)
        json_object_update(env, f->env);
    if (step_env)
        json_object_update(env, (json_t *)step_env);
    jobc = json_pack("{s:s, s:{}, s:{}}", "status",
                     j->status == EXPR_OK       ? "success"
                     : j->status == EXPR_FAILED ? "failure"
                                                : "cancelled",
                     "container", "services");
    cjob_job_context(j->cj, jobc); /* container executor */
    json_object_set(c, "github", j->github);
    json_object_set_new(c, "env", env);
    json_object_set(c, "vars", j->host->vars);
    json_object_set_new(c, "job", jobc);
    json_object_set(c, "steps", f ? f->steps_ctx : j->top->steps_ctx);
    json_object_set(c, "runner", j->runner);
    json_object_set(c, "secrets", j->host->secrets);
    json_object_set(c, "strategy", j->spec.strategy);
    json_object_set_new(c, "matrix",
                        j->spec.matrix ? json_incref(j->spec.matrix)
                                       : json_object());
    json_object_set(c, "needs", j->spec.needs);
    json_object_set(c, "inputs",
                    f && f->inputs ? f->inputs : j->spec.pw->inputs);
    return c;
}

static enum ferr_code hash_files_cb(void *ud, const char *const *patterns,
                                    size_t n, struct buf *out, struct ferr *err)
{
    struct job *j = ud;
    char hex[65];
    enum ferr_code rc;

    rc = artifact_hash_files(j->workspace, patterns, n, hex, err);
    if (rc)
        return rc;
    return buf_adds(out, hex);
}

static void env_for(struct job *j, struct expr_env *e, json_t *ctx,
                    enum expr_status status)
{
    memset(e, 0, sizeof(*e));
    e->contexts = ctx;
    e->status = status;
    e->hash_files = hash_files_cb;
    e->ud = j;
}

/* Evaluate node @n (a scalar possibly holding ${{ }}) to a string. */
static enum ferr_code interp_node(struct job *j, json_t *ctx,
                                  const struct node *n, struct buf *out,
                                  struct ferr *err)
{
    struct expr_env e;

    env_for(j, &e, ctx, j->status);
    if (!n)
        return FERR_OK;
    if (n->kind != NODE_SCALAR)
        return ferr_set(err, FERR_INVALID, &n->pos,
                        "expected a string, "
                        "got a %s",
                        node_kind_name(n));
    return expr_interp(&e, span_of(n->str, n->len), &n->pos, out, err);
}

/* Evaluate node @n to a JSON value keeping the type of a lone ${{ }};
 * plain scalars are typed as YAML types them. */
static enum ferr_code value_node(struct job *j, json_t *ctx,
                                 const struct node *n, json_t **out,
                                 struct ferr *err)
{
    struct expr_env e;

    env_for(j, &e, ctx, j->status);
    *out = NULL;
    if (n->kind != NODE_SCALAR || !memmem(n->str, n->len, "${{", 3))
        return node_to_json(n, out, err);
    return expr_interp_value(&e, span_of(n->str, n->len), &n->pos, out, err);
}

/* Evaluate an env mapping into @into (string values). */
static enum ferr_code eval_env(struct job *j, json_t *ctx,
                               const struct node *map, json_t *into,
                               struct ferr *err)
{
    struct buf b;
    enum ferr_code rc = FERR_OK;

    if (map && map->kind == NODE_SCALAR && !node_is_null(map)) {
        /* env: ${{ fromJSON(...) }} — GitHub takes a mapping value */
        json_t *v = NULL;
        const char *k;
        json_t *x;

        rc = value_node(j, ctx, map, &v, err);
        if (!rc && !json_is_object(v))
            rc = ferr_set(err, FERR_INVALID, &map->pos,
                          "env must evaluate to a mapping");
        json_object_foreach (rc ? NULL : v, k, x) {
            buf_init(&b, LIM_EXPR_VALUE_BYTES);
            if (json_is_string(x))
                rc = buf_adds(&b, json_string_value(x));
            else if (!json_is_null(x))
                rc = expr_to_string(x, &b);
            if (!rc)
                json_object_set_new(into, k,
                                    json_lossy_stringn(buf_cstr(&b), b.len));
            buf_release(&b);
            if (rc) {
                rc = ferr_set(err, rc, &map->pos,
                              "env value '%s' is too "
                              "large",
                              k);
                break;
            }
        }
        json_decref(v);
        return rc;
    }
    if (!map || map->kind != NODE_MAP)
        return FERR_OK;
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    for (size_t i = 0; i < map->n && !rc; i++) {
        const struct node *v = map->items[i];

        buf_reset(&b);
        if (v->kind == NODE_SCALAR && v->style == NODE_PLAIN && node_is_null(v))
            rc = FERR_OK;
        else
            rc = interp_node(j, ctx, v, &b, err);
        if (!rc)
            json_object_set_new(into, map->keys[i]->str,
                                json_lossy_stringn(buf_cstr(&b), b.len));
    }
    buf_release(&b);
    return rc;
}

/* The number (minutes) of @n: a number or an expression giving one. */
static enum ferr_code minutes_of(struct job *j, json_t *ctx,
                                 const struct node *n, double *out,
                                 struct ferr *err)
{
    json_t *v = NULL;
    enum ferr_code rc;

    *out = 0;
    rc = value_node(j, ctx, n, &v, err);
    if (rc)
        return rc;
    if (json_is_number(v)) {
        *out = json_number_value(v);
    } else if (json_is_string(v)) {
        char *end;

        *out = strtod(json_string_value(v), &end);
        if (end == json_string_value(v) || *end)
            rc = ferr_set(err, FERR_INVALID, &n->pos,
                          "timeout-minutes must be a number, got '%s'",
                          json_string_value(v));
    } else {
        rc = ferr_set(err, FERR_INVALID, &n->pos,
                      "timeout-minutes must be a number");
    }
    if (!rc && !(*out > 0))
        rc = ferr_set(err, FERR_INVALID, &n->pos,
                      "timeout-minutes must be greater than 0");
    if (!rc && !(*out <= LIM_TIMEOUT_MINUTES))
        rc =
            ferr_set(err, FERR_LIMIT, &n->pos,
                     "timeout-minutes must be at most %u", LIM_TIMEOUT_MINUTES);
    json_decref(v);
    return rc;
}

static enum ferr_code bool_of(struct job *j, json_t *ctx, const struct node *n,
                              bool *out, struct ferr *err)
{
    json_t *v = NULL;
    enum ferr_code rc;

    *out = false;
    if (!n)
        return FERR_OK;
    rc = value_node(j, ctx, n, &v, err);
    if (rc)
        return rc;
    *out = expr_flag(v);
    json_decref(v);
    return FERR_OK;
}

/* ---------- process environment ---------- */

/* Environment values are bytes, not text: kept as given (jansson holds
 * them without checking UTF-8; they are only ever read back here). */
static void setenv_json(json_t *env, const char *k, const char *v)
{
    json_object_set_new(env, k, json_string_nocheck(v ? v : ""));
}

static const char *gh(const struct job *j, const char *key)
{
    const char *v = json_string_value(json_object_get(j->github, key));

    return v ? v : "";
}

static void setenv_fmt(json_t *env, const char *k, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void setenv_fmt(json_t *env, const char *k, const char *fmt, ...)
{
    va_list ap;
    char *v;

    va_start(ap, fmt);
    if (vasprintf(&v, fmt, ap) < 0)
        v = NULL;
    va_end(ap);
    setenv_json(env, k, v);
    free(v);
}

/* "K=V" strings for a step's process; caller frees with free_envp. */
static char **build_envp(struct job *j, const struct frame *f,
                         const json_t *step_env, const char *action_id,
                         json_t *extra, bool in_container)
{
    json_t *env = json_object();
    static const char *const from_github[][2] = {
        {"GITHUB_ACTOR", "actor"},
        {"GITHUB_API_URL", "api_url"},
        {"GITHUB_BASE_REF", "base_ref"},
        {"GITHUB_EVENT_NAME", "event_name"},
        {"GITHUB_GRAPHQL_URL", "graphql_url"},
        {"GITHUB_HEAD_REF", "head_ref"},
        {"GITHUB_REF", "ref"},
        {"GITHUB_REF_NAME", "ref_name"},
        {"GITHUB_REF_TYPE", "ref_type"},
        {"GITHUB_REPOSITORY", "repository"},
        {"GITHUB_REPOSITORY_OWNER", "repository_owner"},
        {"GITHUB_RETENTION_DAYS", "retention_days"},
        {"GITHUB_RUN_ATTEMPT", "run_attempt"},
        {"GITHUB_RUN_ID", "run_id"},
        {"GITHUB_RUN_NUMBER", "run_number"},
        {"GITHUB_SERVER_URL", "server_url"},
        {"GITHUB_SHA", "sha"},
        {"GITHUB_WORKFLOW", "workflow"},
        {"GITHUB_WORKFLOW_REF", "workflow_ref"},
        {"GITHUB_WORKFLOW_SHA", "workflow_sha"},
        {"GITHUB_TRIGGERING_ACTOR", "triggering_actor"},
    };
    struct buf path;
    const char *k;
    json_t *v;
    size_t n = 0;
    size_t i;
    char **envp;

    /* container executor: the container's PATH, not the host's env */
    if (in_container && cjob_path(j->cj))
        setenv_json(env, "PATH", cjob_path(j->cj));
    for (char **e = in_container ? NULL : environ; e && *e; e++) {
        const char *eq = strchr(*e, '=');

        if (eq && eq != *e) {
            char *name = xstrndup(*e, (size_t)(eq - *e));

            json_object_set_new(env, name, json_string_nocheck(eq + 1));
            free(name);
        }
    }
    setenv_json(env, "CI", "true");
    setenv_json(env, "GITHUB_ACTIONS", "true");
    for (i = 0; i < sizeof(from_github) / sizeof(from_github[0]); i++)
        setenv_json(env, from_github[i][0], gh(j, from_github[i][1]));
    setenv_json(env, "GITHUB_REF_PROTECTED", "false");
    setenv_json(env, "GITHUB_JOB", j->spec.wj->id);
    setenv_json(env, "GITHUB_ACTION", action_id);
    setenv_json(env, "GITHUB_WORKSPACE", j->workspace);
    setenv_fmt(env, "GITHUB_EVENT_PATH", "%s/event.json", j->dir);
    setenv_fmt(env, "GITHUB_ENV", "%s/env", j->files);
    setenv_fmt(env, "GITHUB_OUTPUT", "%s/output", j->files);
    setenv_fmt(env, "GITHUB_PATH", "%s/path", j->files);
    setenv_fmt(env, "GITHUB_STATE", "%s/state", j->files);
    setenv_json(env, "GITHUB_STEP_SUMMARY", j->summary_path);
    if (f && f->action_path)
        setenv_json(env, "GITHUB_ACTION_PATH", f->action_path);
    setenv_json(env, "RUNNER_OS", "Linux");
    setenv_json(env, "RUNNER_ARCH",
                json_string_value(json_object_get(j->runner, "arch")));
    setenv_json(env, "RUNNER_NAME", "ferry");
    setenv_json(env, "RUNNER_ENVIRONMENT", "self-hosted");
    setenv_json(env, "RUNNER_TEMP", j->temp);
    setenv_json(env, "RUNNER_TOOL_CACHE", j->tool_cache);
    if (j->out.debug)
        setenv_json(env, "RUNNER_DEBUG", "1");
    setenv_json(env, "FERRY", "true");
    setenv_json(env, "FERRY_RUN_ID", j->host->run_id);
    setenv_json(env, "FERRY_JOB", j->spec.key);
    setenv_json(env, "FERRY_TRACKING_ID", j->tracking);
    setenv_fmt(env, "FERRY_REPORT", "%s/report", j->files);
    json_object_update(env, j->env);
    json_object_update(env, j->file_env);
    if (f && f->env)
        json_object_update(env, f->env);
    if (step_env)
        json_object_update(env, (json_t *)step_env);
    if (extra)
        json_object_update(env, extra);
    /* GITHUB_PATH entries go first, newest first */
    buf_init(&path, 1024 * 1024);
    json_array_foreach (j->paths, i, v) {
        if (buf_addf(&path, "%s:", json_string_value(v)))
            break;
    }
    if (path.len) {
        const char *old = json_string_value(json_object_get(env, "PATH"));

        if (buf_adds(&path, old ? old : "/usr/local/bin:/usr/bin:/bin") == 0)
            setenv_json(env, "PATH", buf_cstr(&path));
    }
    buf_release(&path);
    envp = xcalloc(json_object_size(env) + 1, sizeof(*envp));
    json_object_foreach (env, k, v)
        envp[n++] = xasprintf("%s=%s", k, json_string_value(v));
    envp[n] = NULL;
    json_decref(env);
    return envp;
}

static void free_envp(char **envp)
{
    for (char **e = envp; e && *e; e++)
        free(*e);
    free(envp);
}

/* ---------- runner files ---------- */

static int collect_pair(void *ud, struct span name, struct span value)
{
    char *k = xstrndup(name.p, name.len);

    json_object_set_new(ud, k, json_lossy_stringn(value.p, value.len));
    free(k);
    return 0;
}

static int collect_path(void *ud, struct span dir)
{
    json_array_insert_new(ud, 0, json_lossy_stringn(dir.p, dir.len));
    return 0;
}

/* Empty the runner files before a step. */
static enum ferr_code reset_files(struct job *j, struct ferr *err)
{
    static const char *const names[] = {"env", "output", "path", "state",
                                        "report"};
    enum ferr_code rc = FERR_OK;

    for (size_t i = 0; i < 5 && !rc; i++)
        rc = workspace_put_at(j->files_fd, j->files, names[i], "", 0, err);
    free(j->summary_path);
    j->summary_path = xasprintf("%s/summary-%d.md", j->files, j->next_step);
    return rc;
}

/* The summaries a step recorded in $FERRY_REPORT, one JSON object per
 * line with a string "kind": each becomes an EV_REPORT.  A line that is
 * not one fails the step (the tool that wrote it is broken). */
static enum ferr_code read_reports(struct job *j, const struct step_exec *st,
                                   struct ferr *err)
{
    char *data = NULL;
    size_t len = 0;
    unsigned lineno = 0;
    unsigned n = 0;
    enum ferr_code rc;
    struct span rest;
    struct span line;

    rc = workspace_read_at(j->files_fd, j->files, "report",
                           LIM_REPORT_FILE_BYTES, &data, &len, err);
    if (rc)
        goto done;
    rest = span_of(data, len);
    while (rest.len) {
        json_t *o;
        json_error_t jerr;
        struct event ev;

        if (!span_cut(rest, '\n', &line, &rest))
            rest.len = 0;
        lineno++;
        line = span_trim(line);
        if (!line.len)
            continue;
        if (++n > LIM_REPORTS_PER_STEP) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "FERRY_REPORT has more than %u reports",
                          LIM_REPORTS_PER_STEP);
            goto done;
        }
        o = json_loadb(line.p, line.len, JSON_REJECT_DUPLICATES, &jerr);
        if (!json_is_object(o) ||
            !json_is_string(json_object_get(o, "kind"))) {
            json_decref(o);
            rc = ferr_set(err, FERR_PARSE, NULL,
                          "FERRY_REPORT line %u: not a JSON object with a "
                          "string 'kind'",
                          lineno);
            goto done;
        }
        base_event(j, &ev, EV_REPORT);
        ev.step = st->number;
        ev.step_name = st->name;
        ev.report = o;
        event_emit(j->host->sink, &ev);
        json_decref(o);
        j->reported = true;
    }
done:
    free(data);
    return rc;
}

/* A job whose steps recorded no report: the reports at the conventional
 * paths of its workspace (junit.xml, coverage.xml, lcov.info, ...), if
 * any, as if a step had recorded them.  Files that do not parse are named
 * in the log, and never fail the job. */
static void scan_reports(struct job *j)
{
    json_t *found = NULL;
    json_t *v;
    size_t i;
    struct ferr err;
    struct event ev;

    ferr_clear(&err);
    if (!j->workspace || report_scan(j->workspace, &found, &err))
        return;
    json_array_foreach (json_object_get(found, "warnings"), i, v)
        output_say(&j->out, -1, "warning: report skipped: %s",
                   json_string_value(v));
    json_array_foreach (json_object_get(found, "reports"), i, v) {
        base_event(j, &ev, EV_REPORT);
        ev.report = v;
        event_emit(j->host->sink, &ev);
    }
    json_decref(found);
}

/* Read back what a step wrote.  Errors fail the step. */
static enum ferr_code read_files(struct job *j, const struct step_exec *st,
                                 json_t *outputs, struct ferr *err)
{
    char *p;
    char *data = NULL;
    size_t len = 0;
    enum ferr_code rc;

    p = xasprintf("%s/env", j->files);
    rc = workspace_read_at(j->files_fd, j->files, "env", LIM_ENV_FILE_BYTES,
                           &data, &len, err);
    if (!rc)
        rc = runfile_parse_env(p, span_of(data, len), collect_pair, j->file_env,
                               err);
    free(p);
    free(data);
    data = NULL;
    if (rc)
        return rc;
    p = xasprintf("%s/output", j->files);
    rc = workspace_read_at(j->files_fd, j->files, "output", LIM_ENV_FILE_BYTES,
                           &data, &len, err);
    if (!rc)
        rc = runfile_parse_env(p, span_of(data, len), collect_pair, outputs,
                               err);
    free(p);
    free(data);
    data = NULL;
    if (rc)
        return rc;
    p = xasprintf("%s/path", j->files);
    rc = workspace_read_at(j->files_fd, j->files, "path", LIM_ENV_FILE_BYTES,
                           &data, &len, err);
    if (!rc)
        rc = runfile_parse_path(span_of(data, len), collect_path, j->paths);
    free(p);
    free(data);
    data = NULL;
    if (!rc)
        rc = read_reports(j, st, err);
    if (rc)
        return rc;
    /* the job summary is every step's summary, in order */
    if (workspace_read_at(j->files_fd, j->files,
                          strrchr(j->summary_path, '/') + 1,
                          LIM_ENV_FILE_BYTES, &data, &len, err) == FERR_OK &&
        len > 0) {
        char *all = xasprintf("%s/summary.md", j->dir);
        /* the job directory is a job container's too: never append
         * through a link it planted */
        int fd = open(all,
                      O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC | O_NOFOLLOW |
                          O_NONBLOCK,
                      0644);

        if (fd >= 0) {
            if (write(fd, data, len) < 0)
                log_warn("cannot write job summary path='%s'", all);
            close(fd);
        } else {
            output_say(&j->out, st->number,
                       "warning: the job summary was not written: '%s': %s",
                       all, strerror(errno));
        }
        free(all);
    }
    ferr_clear(err);
    free(data);
    return FERR_OK;
}

/* ---------- steps ---------- */

static void step_release(struct step_exec *st)
{
    free(st->name);
    free(st->id);
    json_decref(st->env);
    json_decref(st->outputs);
    free(st->fail_reason);
    loop_timer_free(st->timeout);
    memset(st, 0, sizeof(*st));
}

static void frame_free(struct frame *f)
{
    step_release(&f->cur);
    json_decref(f->steps_ctx);
    json_decref(f->inputs);
    json_decref(f->env);
    free(f->action_path);
    action_def_free(f->action);
    free(f);
}

/* Record the current step of @f as finished with @outcome. */
static void complete_step(struct job *j, struct frame *f, enum result outcome)
{
    struct step_exec *st = &f->cur;
    enum result concl = outcome;
    struct event ev;

    if (outcome == RES_FAILURE && st->continue_on_error)
        concl = RES_SUCCESS;
    if (concl == RES_FAILURE || concl == RES_CANCELLED) {
        f->failed = true;
        if (!f->parent && j->status == EXPR_OK)
            j->status = EXPR_FAILED;
    }
    if (st->id)
        json_object_set_new(f->steps_ctx, st->id,
                            json_pack("{s:O, s:s, s:s}", "outputs",
                                      st->outputs ? st->outputs : json_object(),
                                      "outcome", result_name(outcome),
                                      "conclusion", result_name(concl)));
    if (st->fail_reason && outcome != RES_SUCCESS)
        output_say(&j->out, st->number, "%s: %s",
                   outcome == RES_CANCELLED ? "cancelled" : "error",
                   st->fail_reason);
    if (st->top) {
        base_event(j, &ev, EV_STEP_FINISHED);
        ev.step = st->number;
        ev.step_name = st->name;
        ev.outcome = outcome;
        ev.result = concl;
        ev.duration_ms = now_ms() - st->start_ms;
        if (st->fail_reason && outcome != RES_SUCCESS)
            ev.text = span_cstr(st->fail_reason);
        event_emit(j->host->sink, &ev);
    } else if (outcome != RES_SKIPPED) {
        output_say(&j->out, st->number, "%s %s (%s)",
                   concl == RES_SUCCESS ? "\xe2\x9c\x93" : "\xe2\x9c\x97",
                   st->name, result_name(outcome));
    }
    if (j->out.set_output == st->outputs)
        j->out.set_output = NULL;
    step_release(st);
    f->idx++;
}

static void fail_step(struct job *j, struct frame *f, const struct ferr *err)
{
    char msg[1024];

    free(f->cur.fail_reason);
    f->cur.fail_reason = xstrdup(ferr_format(err, msg, sizeof(msg)));
    complete_step(j, f, RES_FAILURE);
}

static void on_kill_timer(struct loop *l, struct loop_timer *t, void *ud)
{
    struct job *j = ud;

    (void)l;
    (void)t;
    if (j->kill_pgid > 0)
        proc_signal_group(j->kill_pgid, SIGKILL);
    j->kill_pgid = 0;
}

/* SIGTERM the running step's group, SIGKILL after the grace period. */
static void terminate_step(struct job *j, struct step_exec *st)
{
    if (!st->pid)
        return;
    proc_signal_group(st->pid, SIGTERM);
    /* a process stopped by a signal cannot act on SIGTERM */
    proc_signal_group(st->pid, SIGCONT);
    if (!j->kill_timer)
        j->kill_timer = loop_timer_new(j->host->loop, on_kill_timer, j);
    if (!j->kill_timer) {
        /* no timer (fd limit): no grace either */
        proc_signal_group(st->pid, SIGKILL);
        return;
    }
    j->kill_pgid = st->pid;
    loop_timer_arm(j->kill_timer, KILL_GRACE_MS);
}

static void on_step_timeout(struct loop *l, struct loop_timer *t, void *ud)
{
    struct job *j = ud;
    struct step_exec *st = current_step(j);

    (void)l;
    (void)t;
    if (!st || !st->pid)
        return;
    st->timed_out = true;
    terminate_step(j, st);
}

static void on_step_exit(void *ud, int status)
{
    struct job *j = ud;
    struct frame *f = j->top;
    struct step_exec *st = &f->cur;
    enum result outcome = RES_SUCCESS;
    struct ferr err;

    if (j->kill_pgid == st->pid) {
        /* the leader is gone; what is left of its group gets no grace
         * beyond it, and the timer must not hit a later step */
        proc_signal_group(st->pid, SIGKILL);
        loop_timer_disarm(j->kill_timer);
        j->kill_pgid = 0;
    }
    st->pid = 0;
    loop_timer_disarm(st->timeout);
    if (st->io)
        output_pipe_exited(st->io, 64u * 1024 * 1024);
    if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        outcome = RES_FAILURE;
        free(st->fail_reason);
        st->fail_reason = xasprintf("process completed with exit code %d",
                                    WEXITSTATUS(status));
    } else if (WIFSIGNALED(status)) {
        outcome = RES_FAILURE;
        free(st->fail_reason);
        st->fail_reason =
            xasprintf("process killed by signal %d (%s)", WTERMSIG(status),
                      strsignal(WTERMSIG(status)));
    }
    if (st->timed_out) {
        outcome = RES_FAILURE;
        free(st->fail_reason);
        st->fail_reason = xstrdup("the step exceeded its timeout-minutes");
    } else if (j->cancelled && !j->timed_out && outcome != RES_SUCCESS) {
        outcome = RES_CANCELLED;
        free(st->fail_reason);
        st->fail_reason = xstrdup(j->cancel_reason ? j->cancel_reason
                                                   : "the job was cancelled");
    }
    ferr_clear(&err);
    if (!st->outputs)
        st->outputs = json_object();
    if (read_files(j, st, st->outputs, &err)) {
        char msg[1024];

        outcome = RES_FAILURE;
        free(st->fail_reason);
        st->fail_reason = xstrdup(ferr_format(&err, msg, sizeof(msg)));
    }
    complete_step(j, f, outcome);
    advance(j);
}

enum { STEP_DONE, STEP_ASYNC, STEP_PUSHED };

/* Spawn argv for the current step of @f with its env. */
static enum ferr_code spawn_step(struct job *j, struct frame *f, char **argv,
                                 const char *cwd, json_t *extra_env,
                                 bool in_container, struct ferr *err)
{
    struct step_exec *st = &f->cur;
    struct proc_spec spec;
    char **envp;
    pid_t pid;
    int fd;
    enum ferr_code rc;

    envp = build_envp(j, f, st->env, st->id ? st->id : "__run", extra_env,
                      in_container);
    memset(&spec, 0, sizeof(spec));
    spec.path = argv[0];
    spec.argv = argv;
    spec.envp = envp;
    spec.cwd = cwd;
    spec.stdin_fd = -1;
    if (in_container) /* container executor: an exec in the job container */
        rc = cjob_spawn_step(j->cj, argv, envp, cwd, &pid, &fd, err);
    else
        rc = proc_spawn(&spec, &pid, &fd, err);
    free_envp(envp);
    if (rc)
        return rc;
    st->pid = pid;
    st->io = output_adopt_pipe(&j->out, fd, pid, st->number);
    j->host->watch_child(j->host->hud, pid, on_step_exit, j);
    return FERR_OK;
}

static char *first_line(const char *s)
{
    size_t n = strcspn(s, "\n");

    return xstrndup(s, n);
}

static enum ferr_code run_script(struct job *j, struct frame *f, json_t *ctx,
                                 struct ferr *err)
{
    struct step_exec *st = &f->cur;
    const struct wf_step *s = st->s;
    const char *shell = s->shell;
    const char *wd = s->working_directory;
    struct shell sh;
    char *script = NULL;
    char *cwd = NULL;
    char **argv = NULL;
    struct buf body;
    struct buf b;
    struct stat sb;
    bool ctr = cjob_has_container(j->cj); /* container executor */
    enum ferr_code rc;

    buf_init(&body, LIM_EXPR_VALUE_BYTES);
    buf_init(&b, 4096);
    if (!shell && !f->parent)
        shell = j->spec.wj->defaults_shell ? j->spec.wj->defaults_shell
                                           : j->spec.pw->wf->defaults_shell;
    if (!wd && !f->parent)
        wd = j->spec.wj->defaults_wd ? j->spec.wj->defaults_wd
                                     : j->spec.pw->wf->defaults_wd;
    if (!shell && ctr)
        shell = "sh"; /* GitHub's default inside a container */
    rc = shell_parse(&sh, shell, f->parent != NULL, &s->pos, err);
    if (!rc)
        rc = interp_node(j, ctx, s->run_node, &body, err);
    if (!rc && wd) {
        struct expr_env e;

        env_for(j, &e, ctx, j->status);
        rc = expr_interp(&e, span_cstr(wd), &s->pos, &b, err);
    }
    if (rc)
        goto done;
    cwd = b.len == 0      ? xstrdup(j->workspace)
          : b.p[0] == '/' ? xstrdup(buf_cstr(&b))
                          : xasprintf("%s/%s", j->workspace, buf_cstr(&b));
    if (!(ctr && b.len && b.p[0] == '/') && /* may be the container's */
        (stat(cwd, &sb) != 0 || !S_ISDIR(sb.st_mode))) {
        rc = ferr_set(err, FERR_NOTFOUND, &s->pos,
                      "working directory '%s' does not exist", buf_cstr(&b));
        goto done;
    }
    if (j->host->dry_run) {
        char *l = first_line(buf_cstr(&body));

        output_say(&j->out, st->number, "(dry run) %s", l);
        free(l);
        rc = FERR_OK;
        goto done;
    }
    script = xasprintf("%s/step-%d-%zu%s", j->temp, st->number, f->idx, sh.ext);
    rc = workspace_put_at(j->temp_fd, j->temp, strrchr(script, '/') + 1,
                          buf_cstr(&body), body.len, err);
    if (rc)
        goto done;
    argv = shell_argv(&sh, script);
    rc = spawn_step(j, f, argv, cwd, NULL, ctr, err);
done:
    shell_release(&sh);
    free(script);
    free(cwd);
    shell_argv_free(argv);
    buf_release(&body);
    buf_release(&b);
    return rc;
}

static void action_say(void *ud, const char *line)
{
    struct job *j = ud;
    struct step_exec *st = current_step(j);

    output_say(&j->out, st ? st->number : -1, "%s", line);
}

/* Evaluate a step's `with:` into a JSON object of strings. */
static enum ferr_code eval_with(struct job *j, json_t *ctx,
                                const struct wf_step *s, json_t **out,
                                struct ferr *err)
{
    *out = json_object();
    return eval_env(j, ctx, s->with, *out, err);
}

/* The inputs context of a local action: its defaults, then `with`. */
static enum ferr_code action_inputs(struct job *j, json_t *ctx,
                                    const struct action_def *d, json_t *with,
                                    json_t **out, struct ferr *err)
{
    const struct node *defs = d->wa->inputs;
    json_t *in = json_object();
    struct buf b;
    enum ferr_code rc = FERR_OK;

    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    for (size_t i = 0; defs && defs->kind == NODE_MAP && i < defs->n; i++) {
        const struct node *dflt = node_get(defs->items[i], "default", NULL);

        buf_reset(&b);
        if (dflt && dflt->kind == NODE_SCALAR)
            rc = interp_node(j, ctx, dflt, &b, err);
        if (rc)
            break;
        json_object_set_new(in, defs->keys[i]->str,
                            json_lossy_stringn(buf_cstr(&b), b.len));
    }
    buf_release(&b);
    if (rc) {
        json_decref(in);
        return rc;
    }
    json_object_update(in, with);
    *out = in;
    return FERR_OK;
}

/* Inputs as a process action sees them: INPUT_<NAME>, upper-cased, spaces
 * as '_' (GitHub's JS actions' convention). */
static json_t *input_env(json_t *inputs)
{
    json_t *extra = json_object();
    const char *k;
    json_t *v;

    json_object_foreach (inputs, k, v) {
        char *name = xasprintf("INPUT_%s", k);

        for (char *p = name; *p; p++)
            *p = *p == ' ' ? '_'
                           : (char)((*p >= 'a' && *p <= 'z') ? *p - 32 : *p);
        json_object_set(extra, name, v);
        free(name);
    }
    return extra;
}

/* ferry/deploy, report, gate, image: ferry itself, as the step's
 * process. */
static enum ferr_code use_ferry(struct job *j, struct frame *f, json_t *with,
                                int *out_state, struct ferr *err)
{
    json_t *extra = input_env(with);
    char self[4096];
    char *argv[3];
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    enum ferr_code rc;

    if (n <= 0) {
        json_decref(extra);
        return ferr_set(err, FERR_IO, NULL,
                        "cannot find the ferry binary: %s", strerror(errno));
    }
    self[n] = '\0';
    argv[0] = self;
    argv[1] = (char *)action_ferry_verb(f->cur.s->uses);
    /* a job that reads its reports itself is not scanned at its end */
    if (strcmp(argv[1], "__report") == 0)
        j->reported = true;
    argv[2] = NULL;
    rc = spawn_step(j, f, argv, j->workspace, extra, false, err);
    if (!rc)
        *out_state = STEP_ASYNC;
    json_decref(extra);
    return rc;
}

static enum ferr_code use_local(struct job *j, struct frame *f, json_t *ctx,
                                json_t *with, int *out_state, struct ferr *err)
{
    struct step_exec *st = &f->cur;
    const char *rel = st->s->uses + 2;
    char *dir = NULL;
    struct action_def *d = NULL;
    struct diags diags;
    json_t *inputs = NULL;
    enum ferr_code rc;
    size_t depth = 0;

    diags_init(&diags);
    for (struct frame *p = f; p; p = p->parent)
        depth++;
    if (depth > LIM_COMPOSITE_DEPTH) {
        rc = ferr_set(err, FERR_LIMIT, &st->s->pos,
                      "composite actions nested deeper than %u",
                      LIM_COMPOSITE_DEPTH);
        goto done;
    }
    rc = workspace_check_relpath(*rel ? rel : ".", err);
    if (rc)
        goto done;
    dir = xasprintf("%s/%s", j->workspace, rel);
    rc = action_load_local(dir, &d, &diags, err);
    if (rc) {
        if (diags.n) {
            const struct diag *g = &diags.v[0];

            /* the position's file dies with diags: keep it as text */
            ferr_clear(err);
            rc = ferr_set(err, FERR_INVALID, NULL, "%s:%u:%u: %s",
                          g->pos.file ? g->pos.file : dir,
                          (unsigned)g->pos.line, (unsigned)g->pos.col, g->msg);
        }
        goto done;
    }
    rc = action_inputs(j, ctx, d, with, &inputs, err);
    if (rc)
        goto done;
    if (strcmp(d->wa->using, "composite") == 0) {
        struct frame *nf = xcalloc(1, sizeof(*nf));

        nf->parent = f;
        nf->steps = d->wa->steps;
        nf->nsteps = d->wa->nsteps;
        nf->steps_ctx = json_object();
        nf->inputs = inputs;
        inputs = NULL;
        nf->env = json_copy(st->env);
        nf->action_path = xstrdup(d->dir);
        nf->action = d;
        d = NULL;
        j->top = nf;
        *out_state = STEP_PUSHED; /* the caller finishes when nf does */
    } else if (strncmp(d->wa->using, "node", 4) == 0) {
        json_t *extra = input_env(inputs);
        char *argv[3];

        argv[0] = "node";
        argv[1] = xasprintf("%s/%s", d->dir, d->wa->main ? d->wa->main : "");
        argv[2] = NULL;
        if (j->host->dry_run)
            rc = FERR_OK;
        else
            rc = spawn_step(j, f, argv, j->workspace, extra, false, err);
        if (!rc && !j->host->dry_run)
            *out_state = STEP_ASYNC;
        free(argv[1]);
        json_decref(extra);
    } else {
        rc = ferr_set(err, FERR_UNSUPPORTED, &st->s->pos,
                      "action '%s' uses '%s'; ferry runs composite and node "
                      "actions",
                      st->s->uses, d->wa->using);
    }
done:
    json_decref(inputs);
    action_def_free(d);
    free(dir);
    diags_release(&diags);
    return rc;
}

static enum ferr_code run_uses(struct job *j, struct frame *f, json_t *ctx,
                               int *out_state, struct ferr *err)
{
    struct step_exec *st = &f->cur;
    const char *uses = st->s->uses;
    enum action_kind kind = action_classify(uses);
    json_t *with = NULL;
    enum ferr_code rc;

    *out_state = STEP_DONE;
    rc = eval_with(j, ctx, st->s, &with, err);
    if (rc)
        goto done;
    if (kind == ACTION_LOCAL) {
        rc = use_local(j, f, ctx, with, out_state, err);
    } else if (kind == ACTION_FERRY) {
        if (!j->host->dry_run)
            rc = use_ferry(j, f, with, out_state, err);
    } else if (kind == ACTION_BUILTIN) {
        struct action_call c;

        if (j->host->dry_run)
            goto done;
        memset(&c, 0, sizeof(c));
        c.uses = uses;
        c.with = with;
        c.workspace = j->workspace;
        c.repo_root = j->host->repo_root;
        c.lazy_checkout = j->host->lazy_checkout;
        c.store = j->host->store;
        c.run_id = j->host->run_id;
        c.say = action_say;
        c.ud = j;
        if (!st->outputs)
            st->outputs = json_object();
        c.outputs = st->outputs;
        rc = action_run_builtin(&c, err);
        if (c.post.kind != POST_NONE) {
            struct post *p = xcalloc(1, sizeof(*p));

            p->ap = c.post;
            p->next = j->posts;
            j->posts = p;
        }
    } else {
        rc = ferr_set(err, FERR_UNSUPPORTED, &st->s->uses_node->pos,
                      "action '%s' %s", uses, action_unavailable_hint(kind));
    }
done:
    json_decref(with);
    return rc;
}

static char *step_display_name(struct job *j, json_t *ctx,
                               const struct wf_step *s)
{
    char *raw;
    char *out;

    if (s->name) {
        struct expr_env e;
        struct buf b;

        env_for(j, &e, ctx, j->status);
        buf_init(&b, 4096);
        if (expr_interp(&e, span_cstr(s->name), &s->pos, &b, NULL) == FERR_OK)
            raw = xstrndup(buf_cstr(&b), b.len);
        else
            raw = xstrdup(s->name);
        buf_release(&b);
    } else if (s->run) {
        char *l = first_line(s->run);

        raw = xasprintf("Run %s", l);
        free(l);
    } else {
        raw = xasprintf("Run %s", s->uses ? s->uses : "step");
    }
    out = output_masked(&j->out, raw);
    free(raw);
    return out;
}

/* Start the next step of @f: STEP_DONE when it already finished
 * (skipped, in-process action, error), STEP_ASYNC when a process runs,
 * STEP_PUSHED when a composite action pushed a frame. */
static int start_step(struct job *j, struct frame *f)
{
    struct step_exec *st = &f->cur;
    const struct wf_step *s = &f->steps[f->idx];
    json_t *ctx;
    struct expr_env e;
    struct event ev;
    struct ferr err;
    bool run_it = false;
    enum expr_status status;
    int state = STEP_DONE;
    double minutes = 0;
    enum ferr_code rc;

    memset(st, 0, sizeof(*st));
    st->s = s;
    st->top = f->parent == NULL;
    if (j->aborted) {
        /* a hard abort: nothing more runs, not even always() steps */
        st->number = st->top ? j->next_step++ : 0;
        st->name = xstrdup(s->name ? s->name : "step");
        complete_step(j, f, RES_SKIPPED);
        return STEP_DONE;
    }
    if (st->top) {
        st->number = j->next_step++;
    } else {
        const struct frame *p = f;

        while (p->parent)
            p = p->parent;
        st->number = p->cur.number; /* the composite step's number */
    }
    st->id = s->id ? xstrdup(s->id) : NULL;
    st->start_ms = now_ms();
    st->outputs = json_object();
    j->out.set_output = st->outputs; /* for ::set-output:: */
    ferr_clear(&err);
    ctx = contexts(j, f, NULL);
    st->name = step_display_name(j, ctx, s);
    status = j->status;
    if (f->failed && status == EXPR_OK)
        status = EXPR_FAILED;
    env_for(j, &e, ctx, status);
    rc = expr_eval_cond(&e, span_cstr(s->if_expr ? s->if_expr : ""),
                        s->if_node ? &s->if_node->pos : &s->pos, &run_it, &err);
    if (st->top) {
        base_event(j, &ev, EV_STEP_STARTED);
        ev.step = st->number;
        ev.step_name = st->name;
        event_emit(j->host->sink, &ev);
    } else if (!rc && run_it) {
        output_say(&j->out, st->number, "> %s", st->name);
    }
    if (rc) {
        json_decref(ctx);
        fail_step(j, f, &err);
        return STEP_DONE;
    }
    if (!run_it) {
        json_decref(ctx);
        complete_step(j, f, RES_SKIPPED);
        return STEP_DONE;
    }
    st->env = json_object();
    rc = eval_env(j, ctx, s->env, st->env, &err);
    json_decref(ctx);
    ctx = contexts(j, f, st->env);
    if (!rc)
        rc =
            bool_of(j, ctx, s->continue_on_error, &st->continue_on_error, &err);
    if (!rc && s->timeout_minutes)
        rc = minutes_of(j, ctx, s->timeout_minutes, &minutes, &err);
    if (!rc && minutes > 0) {
        st->timeout = loop_timer_new(j->host->loop, on_step_timeout, j);
        if (!st->timeout)
            rc = ferr_set(&err, FERR_IO, NULL,
                          "cannot make a timer for "
                          "timeout-minutes: %s",
                          strerror(errno));
    }
    if (!rc)
        rc = reset_files(j, &err);
    if (!rc && s->run)
        rc = run_script(j, f, ctx, &err);
    else if (!rc && s->uses)
        rc = run_uses(j, f, ctx, &state, &err);
    json_decref(ctx);
    if (rc) {
        fail_step(j, f, &err);
        return STEP_DONE;
    }
    if (st->pid) {
        if (st->timeout)
            loop_timer_arm(st->timeout, (uint64_t)(minutes * 60000.0));
        return STEP_ASYNC;
    }
    if (state == STEP_PUSHED)
        return STEP_PUSHED;
    /* finished in-process (built-in action, dry run) */
    if (read_files(j, st, st->outputs, &err)) {
        fail_step(j, f, &err);
        return STEP_DONE;
    }
    complete_step(j, f, RES_SUCCESS);
    return STEP_DONE;
}

/* A composite frame finished: give its outputs to the calling step. */
static void pop_frame(struct job *j)
{
    struct frame *f = j->top;
    struct frame *parent = f->parent;
    const struct node *outs = f->action ? f->action->wa->outputs : NULL;
    struct step_exec *caller = &parent->cur;
    enum result outcome = f->failed ? RES_FAILURE : RES_SUCCESS;
    json_t *ctx = contexts(j, f, NULL);
    struct ferr err;
    struct buf b;

    ferr_clear(&err);
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    for (size_t i = 0; outs && outs->kind == NODE_MAP && i < outs->n; i++) {
        const struct node *v = node_get(outs->items[i], "value", NULL);

        buf_reset(&b);
        if (v && interp_node(j, ctx, v, &b, &err)) {
            outcome = RES_FAILURE;
            break;
        }
        json_object_set_new(caller->outputs, outs->keys[i]->str,
                            json_lossy_stringn(buf_cstr(&b), b.len));
    }
    buf_release(&b);
    json_decref(ctx);
    j->top = parent;
    frame_free(f);
    if (err.code) {
        char msg[1024];

        free(caller->fail_reason);
        caller->fail_reason = xstrdup(ferr_format(&err, msg, sizeof(msg)));
    } else if (outcome == RES_FAILURE && !caller->fail_reason) {
        caller->fail_reason = xstrdup("a step of the composite action failed");
    }
    complete_step(j, parent,
                  j->cancelled && !j->timed_out && outcome == RES_FAILURE
                      ? RES_CANCELLED
                      : outcome);
}

static void advance(struct job *j)
{
    while (!j->finished) {
        struct frame *f = j->top;

        if (f->idx >= f->nsteps) {
            if (!f->parent) {
                finish_job(j);
                return;
            }
            pop_frame(j);
            continue;
        }
        if (start_step(j, f) == STEP_ASYNC)
            return;
    }
}

/* ---------- the job ---------- */

static void on_kick(struct loop *l, struct loop_timer *t, void *ud)
{
    struct job *j = ud;

    (void)l;
    (void)t;
    if (j->finished)
        j->done(j->done_ud, j);
    else
        advance(j);
}

static void on_job_timeout(struct loop *l, struct loop_timer *t, void *ud)
{
    struct job *j = ud;

    (void)l;
    (void)t;
    j->timed_out = true;
    job_cancel(j, "the job exceeded its timeout-minutes");
    free(j->cancel_reason);
    j->cancel_reason = xstrdup("the job exceeded its timeout-minutes");
}

struct job *job_new(const struct job_host *host, struct job_spec *spec,
                    void (*done)(void *ud, struct job *j), void *ud)
{
    struct job *j = xcalloc(1, sizeof(*j));
    struct event base;

    j->host = host;
    j->spec = *spec;
    j->files_fd = -1;
    j->temp_fd = -1;
    memset(spec, 0, sizeof(*spec));
    base_event(j, &base, EV_LOG);
    output_init(&j->out, host->loop, host->sink, host->mask, &base);
    if (j->spec.name) {
        char *name = output_masked(&j->out, j->spec.name);

        free(j->spec.name);
        j->spec.name = name;
        j->out.base.job_name = name;
    }
    j->done = done;
    j->done_ud = ud;
    j->file_env = json_object();
    j->paths = json_array();
    j->env = json_object();
    j->outputs = json_object();
    j->kick = loop_timer_new(host->loop, on_kick, j);
    j->status = EXPR_OK;
    if (!j->kick) {
        /* without it the job could never report back (fd limit) */
        job_free(j);
        return NULL;
    }
    return j;
}

static void post_steps(struct job *j)
{
    struct post *p;

    while ((p = j->posts)) {
        struct action_call c;
        struct ferr err;

        j->posts = p->next;
        if (!p->ap.success_only || j->status == EXPR_OK) {
            memset(&c, 0, sizeof(c));
            c.workspace = j->workspace;
            c.repo_root = j->host->repo_root;
            c.store = j->host->store;
            c.run_id = j->host->run_id;
            c.say = action_say;
            c.ud = j;
            ferr_clear(&err);
            if (action_run_post(&c, &p->ap, &err)) {
                char msg[1024];

                output_say(&j->out, -1, "warning: post step failed: %s",
                           ferr_format(&err, msg, sizeof(msg)));
            }
        }
        action_post_release(&p->ap);
        free(p);
    }
}

static void eval_outputs(struct job *j)
{
    const struct node *outs = j->spec.wj->outputs;
    json_t *ctx;
    struct buf b;

    if (!outs || outs->kind != NODE_MAP)
        return;
    ctx = contexts(j, j->top, NULL);
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    for (size_t i = 0; i < outs->n; i++) {
        struct ferr err;

        ferr_clear(&err);
        buf_reset(&b);
        if (interp_node(j, ctx, outs->items[i], &b, &err)) {
            char msg[1024];

            output_say(&j->out, -1, "warning: output '%s': %s",
                       outs->keys[i]->str, ferr_format(&err, msg, sizeof(msg)));
            continue;
        }
        {
            /* as on GitHub: an output that holds a secret is dropped */
            struct buf m;
            bool secret;

            buf_init(&m, LIM_EXPR_VALUE_BYTES * 2);
            secret = mask_line(j->host->mask, buf_span(&b), &m) != FERR_OK ||
                     m.len != b.len ||
                     memcmp(buf_cstr(&m), buf_cstr(&b), b.len) != 0;
            buf_release(&m);
            if (secret) {
                output_say(&j->out, -1,
                           "warning: skip output '%s' since it may contain "
                           "a secret",
                           outs->keys[i]->str);
                continue;
            }
        }
        json_object_set_new(j->outputs, outs->keys[i]->str,
                            json_lossy_stringn(buf_cstr(&b), b.len));
    }
    buf_release(&b);
    json_decref(ctx);
}

static void on_cjob_teardown(void *ud)
{
    finish_job(ud); /* the containers are gone: finish for real */
}

static void finish_job(struct job *j)
{
    struct event ev;
    bool coe = false;
    json_t *ctx;

    /* container executor: remove the job's containers first */
    if (cjob_teardown(j->cj, j->host, &j->out, on_cjob_teardown, j))
        return;
    post_steps(j);
    eval_outputs(j);
    /* no process of the job survives it: orphans of every step die, and
     * so does whatever left their process groups but kept the job's
     * tracking id in its environment (as the runner's
     * RUNNER_TRACKING_ID) */
    output_signal_groups(&j->out, SIGKILL);
    if (j->tracking) {
        char *tag = xasprintf("FERRY_TRACKING_ID=%s", j->tracking);

        /* bounded: a process stuck in the kernel (D state) never dies,
         * and the run's end kills every descendant anyway */
        for (int round = 0; round < 20; round++)
            if (proc_kill_tagged(tag, SIGKILL) == 0)
                break;
        free(tag);
    }
    output_close_pipes(&j->out);
    loop_timer_disarm(j->job_timeout);
    loop_timer_disarm(j->kill_timer);
    if (j->timed_out)
        j->outcome = RES_FAILURE;
    else if (j->cancelled)
        j->outcome = RES_CANCELLED;
    else if (j->top->failed)
        j->outcome = RES_FAILURE;
    else
        j->outcome = RES_SUCCESS;
    j->result = j->outcome;
    ctx = contexts(j, j->top, NULL);
    if (j->outcome == RES_FAILURE &&
        bool_of(j, ctx, j->spec.wj->continue_on_error, &coe, NULL) == FERR_OK &&
        coe)
        j->result = RES_SUCCESS;
    json_decref(ctx);
    if (!j->reported && !j->host->dry_run)
        scan_reports(j);
    base_event(j, &ev, EV_JOB_FINISHED);
    ev.outcome = j->outcome;
    ev.result = j->result;
    ev.duration_ms = now_ms() - j->start_ms;
    ev.outputs = j->outputs;
    if (j->timed_out)
        ev.text = SPAN_LIT("the job exceeded its timeout-minutes");
    event_emit(j->host->sink, &ev);
    j->finished = true;
    loop_timer_arm(j->kick, 0);
}

/* Set up directories, contexts and env; errors fail the job before any
 * step runs. */
/* Open the directory @path (just made; not a link) into *@out_fd. */
static enum ferr_code open_dir(const char *path, int *out_fd, struct ferr *err)
{
    *out_fd = open(path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (*out_fd < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", path,
                        strerror(errno));
    return FERR_OK;
}

static enum ferr_code prepare(struct job *j, struct ferr *err)
{
    const struct wf_job *wj = j->spec.wj;
    struct utsname un;
    json_t *ctx;
    char *event_path;
    char *event;
    double minutes = DEFAULT_JOB_TIMEOUT_MIN;
    enum ferr_code rc;
    json_t *dbg = json_object_get(j->host->secrets, "ACTIONS_STEP_DEBUG");

    j->out.debug =
        (json_is_string(dbg) && strcmp(json_string_value(dbg), "true") == 0);
    dbg = json_object_get(j->host->vars, "ACTIONS_STEP_DEBUG");
    j->out.debug |=
        (json_is_string(dbg) && strcmp(json_string_value(dbg), "true") == 0);
    j->dir = xasprintf("%s/%s", j->host->run_dir, j->spec.key);
    j->workspace = xasprintf("%s/workspace", j->dir);
    j->temp = xasprintf("%s/temp", j->dir);
    j->files = xasprintf("%s/files", j->dir);
    j->tool_cache = xasprintf("%s/tool-cache", j->dir);
    j->tracking =
        xasprintf("%s-%d-%s", j->host->run_id, (int)getpid(), j->spec.key);
    j->summary_path = xasprintf("%s/summary-0.md", j->files);
    uname(&un);
    j->runner = json_pack("{s:s, s:s, s:s, s:s}", "name", "ferry", "os",
                          "Linux", "arch",
                          strcmp(un.machine, "aarch64") == 0  ? "ARM64"
                          : strcmp(un.machine, "x86_64") == 0 ? "X64"
                                                              : un.machine,
                          "environment", "self-hosted");
    /* paths come from --home and may be any bytes; contexts are text */
    json_object_set_new(j->runner, "temp",
                        json_lossy_stringn(j->temp, strlen(j->temp)));
    json_object_set_new(
        j->runner, "tool_cache",
        json_lossy_stringn(j->tool_cache, strlen(j->tool_cache)));
    if (j->out.debug)
        json_object_set_new(j->runner, "debug", json_string("1"));
    j->github = json_copy(j->spec.pw->github);
    json_object_set_new(j->github, "job", json_string(wj->id));
    json_object_set_new(j->github, "workspace",
                        json_lossy_stringn(j->workspace, strlen(j->workspace)));
    j->top = xcalloc(1, sizeof(*j->top));
    j->top->steps = wj->steps;
    j->top->nsteps = wj->nsteps;
    j->top->steps_ctx = json_object();
    rc = workspace_mkdirs(j->temp, err);
    if (!rc)
        rc = open_dir(j->temp, &j->temp_fd, err);
    if (!rc)
        rc = workspace_mkdirs(j->files, err);
    if (!rc)
        rc = open_dir(j->files, &j->files_fd, err);
    if (!rc)
        rc = workspace_mkdirs(j->tool_cache, err);
    if (rc)
        return rc;
    /* on a server, as on GitHub, only actions/checkout fills the
     * workspace: jobs that need no source cost no copy */
    if (j->host->lazy_checkout)
        rc = workspace_mkdirs(j->workspace, err);
    else
        rc = workspace_copy(j->host->repo_root, j->workspace, false, err);
    if (rc)
        return rc;
    event = json_dumps(json_object_get(j->github, "event"), JSON_INDENT(2));
    event_path = xasprintf("%s/event.json", j->dir);
    rc = workspace_put_file(event_path, event ? event : "{}",
                            event ? strlen(event) : 2, err);
    free(event);
    free(event_path);
    if (rc)
        return rc;
    /* workflow env, then job env on top (each sees what is below) */
    ctx = contexts(j, j->top, NULL);
    rc = eval_env(j, ctx, j->spec.pw->wf->env, j->env, err);
    json_decref(ctx);
    if (!rc) {
        ctx = contexts(j, j->top, NULL);
        rc = eval_env(j, ctx, wj->env, j->env, err);
        json_decref(ctx);
    }
    if (!rc && j->spec.env) {
        /* what the server grants wins over the workflow's env; its
         * tokens are never shown */
        const char *k;
        json_t *v;

        json_object_foreach (j->spec.env, k, v) {
            const char *sv = json_string_value(v);

            if (!sv)
                continue;
            json_object_set(j->env, k, v);
            if (strlen(k) > 6 && strcmp(k + strlen(k) - 6, "_TOKEN") == 0 &&
                mask_add(j->host->mask, span_cstr(sv)))
                rc = ferr_set(err, FERR_LIMIT, NULL,
                              "too many masked values");
        }
    }
    if (!rc && wj->timeout_minutes) {
        ctx = contexts(j, j->top, NULL);
        rc = minutes_of(j, ctx, wj->timeout_minutes, &minutes, err);
        json_decref(ctx);
    }
    if (rc)
        return rc;
    {
        /* container executor (cjob.c): container:, services:, or a
         * runs-on label mapped to an image */
        struct cjob_spec cs = {wj, j->host->run_id, j->spec.key, j->dir,
                               j->workspace};
        struct expr_env e;

        ctx = contexts(j, j->top, NULL);
        env_for(j, &e, ctx, j->status);
        rc = cjob_new(&cs, &e, &j->cj, err);
        json_decref(ctx);
        if (rc)
            return rc;
    }
    if (wj->uses)
        return ferr_set(err, FERR_UNSUPPORTED, &wj->pos,
                        "reusable workflows ('uses' on a job) are not "
                        "supported yet");
    j->job_timeout = loop_timer_new(j->host->loop, on_job_timeout, j);
    if (!j->job_timeout)
        return ferr_set(err, FERR_IO, NULL,
                        "cannot make a timer for "
                        "timeout-minutes: %s",
                        strerror(errno));
    loop_timer_arm(j->job_timeout, (uint64_t)(minutes * 60000.0));
    return FERR_OK;
}

static void on_cjob_setup(void *ud, bool ok)
{
    struct job *j = ud;

    if (!ok) {
        /* no container, no step: the job fails (or stays cancelled) */
        j->top->failed = true;
        j->top->nsteps = 0;
        if (j->status == EXPR_OK)
            j->status = EXPR_FAILED;
    }
    loop_timer_arm(j->kick, 0);
}

void job_start(struct job *j)
{
    struct event ev;
    struct ferr err;

    j->start_ms = now_ms();
    base_event(j, &ev, EV_JOB_STARTED);
    event_emit(j->host->sink, &ev);
    ferr_clear(&err);
    if (prepare(j, &err)) {
        char msg[1024];

        output_say(&j->out, -1, "error: %s",
                   ferr_format(&err, msg, sizeof(msg)));
        if (!j->top) {
            j->top = xcalloc(1, sizeof(*j->top));
            j->top->steps_ctx = json_object();
        }
        j->top->failed = true;
        j->top->nsteps = 0;
        j->status = EXPR_FAILED;
    } else if (j->cj && !j->host->dry_run) {
        /* container executor: the containers first, then the steps */
        cjob_setup(j->cj, j->host, &j->out, on_cjob_setup, j);
        return;
    }
    loop_timer_arm(j->kick, 0);
}

void job_abort(struct job *j)
{
    if (j->finished)
        return;
    job_cancel(j, "the run was aborted");
    j->aborted = true;
    output_signal_groups(&j->out, SIGKILL);
}

void job_cancel(struct job *j, const char *reason)
{
    struct step_exec *st;

    if (j->finished || (j->cancelled && !j->timed_out))
        return;
    if (j->cancelled)
        return;
    j->cancelled = true;
    j->status = EXPR_CANCELLED;
    if (reason) {
        j->cancel_reason = xstrdup(reason);
        output_say(&j->out, -1, "cancelled: %s", reason);
    }
    st = current_step(j);
    if (st && st->pid)
        terminate_step(j, st);
    cjob_cancel(j->cj); /* container executor: a set-up in progress */
}

enum result job_result(const struct job *j)
{
    return j->result;
}

enum result job_outcome(const struct job *j)
{
    return j->outcome;
}

const json_t *job_outputs(const struct job *j)
{
    return j->outputs;
}

const struct job_spec *job_spec_of(const struct job *j)
{
    return &j->spec;
}

void job_free(struct job *j)
{
    struct frame *f;

    if (!j)
        return;
    while ((f = j->top)) {
        j->top = f->parent;
        frame_free(f);
    }
    output_release(&j->out);
    while (j->posts) {
        struct post *p = j->posts;

        j->posts = p->next;
        action_post_release(&p->ap);
        free(p);
    }
    cjob_free(j->cj);
    loop_timer_free(j->kick);
    loop_timer_free(j->job_timeout);
    loop_timer_free(j->kill_timer);
    free(j->spec.key);
    free(j->spec.name);
    json_decref(j->spec.matrix);
    json_decref(j->spec.strategy);
    json_decref(j->spec.needs);
    json_decref(j->spec.env);
    free(j->dir);
    free(j->workspace);
    free(j->temp);
    free(j->files);
    if (j->files_fd >= 0)
        close(j->files_fd);
    if (j->temp_fd >= 0)
        close(j->temp_fd);
    free(j->tool_cache);
    free(j->tracking);
    free(j->summary_path);
    free(j->cancel_reason);
    json_decref(j->github);
    json_decref(j->env);
    json_decref(j->file_env);
    json_decref(j->paths);
    json_decref(j->runner);
    json_decref(j->outputs);
    free(j);
}
