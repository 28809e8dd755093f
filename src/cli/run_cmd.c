/* run_cmd: `ferry run` — parse act's flags, run the engine, print the
 * event stream as prefixed text lines or as JSON lines. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/cjob.h"
#include "engine/run.h"
#include "exec/runfile.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

struct job_row {
    char *label; /* "workflow/job name" */
    enum result result;
    uint64_t ms;
};

struct printer {
    bool json;
    bool color;
    struct job_row *rows;
    size_t nrows;
};

static const char *mark(const struct printer *p, enum result r)
{
    (void)p;
    switch (r) {
    case RES_SUCCESS: return "\xe2\x9c\x93";   /* check mark */
    case RES_FAILURE: return "\xe2\x9c\x97";   /* ballot x */
    case RES_CANCELLED: return "\xe2\x8a\x98"; /* circled slash */
    case RES_SKIPPED: return "-";
    case RES_NONE: break;
    }
    return "?";
}

/* One line for a report summary: its kind, then its figures. */
static void print_report(const char *label, const json_t *r)
{
    const char *kind = json_string_value(json_object_get(r, "kind"));
    const char *file = json_string_value(json_object_get(r, "file"));
    json_t *v;

#define I(k) ((long long)json_integer_value(json_object_get(r, k)))
    if (strcmp(kind, "tests") == 0) {
        printf("[%s] report: %lld tests, %lld failed, %lld errors, "
               "%lld skipped",
               label, I("tests"), I("failures"), I("errors"), I("skipped"));
    } else if (strcmp(kind, "coverage") == 0) {
        v = json_object_get(r, "line_rate");
        printf("[%s] report: coverage %.1f%% (%lld of %lld lines)", label,
               json_number_value(v) * 100.0, I("lines_covered"),
               I("lines_valid"));
    } else if (strcmp(kind, "findings") == 0) {
        printf("[%s] report: %lld findings, %lld at or above '%s'", label,
               I("total"), I("blocking"),
               json_string_value(json_object_get(r, "threshold"))
                   ? json_string_value(json_object_get(r, "threshold"))
                   : "?");
    } else if (strcmp(kind, "image") == 0) {
        printf("[%s] report: image %s@%s", label,
               json_string_value(json_object_get(r, "name")),
               json_string_value(json_object_get(r, "digest")));
    } else {
        printf("[%s] report: %s", label, kind);
    }
#undef I
    if (file)
        printf(" (%s)", file);
    printf("\n");
}

static void print_text(struct printer *p, const struct event *ev)
{
    char label[512];

    snprintf(label, sizeof(label), "%s/%s", ev->workflow ? ev->workflow : "",
             ev->job_name ? ev->job_name : "");
    switch (ev->kind) {
    case EV_RUN_STARTED: break;
    case EV_WORKFLOW_SKIPPED:
        printf("[%s] skipped: %.*s\n", ev->workflow_file, SPAN_ARGS(ev->text));
        break;
    case EV_JOB_STARTED:
        printf("[%s] \xe2\x96\xb6 job started\n", label);
        break;
    case EV_STEP_STARTED:
        printf("[%s] \xe2\xad\x90 %s\n", label, ev->step_name);
        break;
    case EV_LOG: printf("[%s]   | %.*s\n", label, SPAN_ARGS(ev->text)); break;
    case EV_SLOT_WANTED: break;
    case EV_ENV_WANTED: break;
    case EV_REPORT: print_report(label, ev->report); break;
    case EV_ANNOTATION:
        if (ev->file)
            printf("[%s] %s: %.*s (%s:%u:%u)\n", label, ev->level,
                   SPAN_ARGS(ev->text), ev->file, ev->line, ev->col);
        else
            printf("[%s] %s: %.*s\n", label, ev->level, SPAN_ARGS(ev->text));
        break;
    case EV_STEP_FINISHED:
        if (ev->result == RES_SKIPPED)
            printf("[%s] - %s (skipped)\n", label, ev->step_name);
        else
            printf("[%s] %s %s (%s%s, %.2fs)\n", label, mark(p, ev->result),
                   ev->step_name, result_name(ev->outcome),
                   ev->outcome != ev->result ? ", continue-on-error" : "",
                   (double)ev->duration_ms / 1000.0);
        break;
    case EV_JOB_FINISHED:
        if (ev->text.len)
            printf("[%s] %s job %s: %.*s\n", label, mark(p, ev->result),
                   result_name(ev->result), SPAN_ARGS(ev->text));
        else
            printf("[%s] %s job %s (%.2fs)\n", label, mark(p, ev->result),
                   result_name(ev->result), (double)ev->duration_ms / 1000.0);
        p->rows = xrealloc(p->rows, (p->nrows + 1) * sizeof(*p->rows));
        p->rows[p->nrows].label = xstrdup(label);
        p->rows[p->nrows].result = ev->result;
        p->rows[p->nrows].ms = ev->duration_ms;
        p->nrows++;
        break;
    case EV_RUN_FINISHED:
        printf("\n");
        for (size_t i = 0; i < p->nrows; i++)
            printf("  %s %-50s %-10s %8.2fs\n", mark(p, p->rows[i].result),
                   p->rows[i].label, result_name(p->rows[i].result),
                   (double)p->rows[i].ms / 1000.0);
        printf("run %s in %.2fs\n", result_name(ev->result),
               (double)ev->duration_ms / 1000.0);
        break;
    }
}

static void emit(void *ud, const struct event *ev)
{
    struct printer *p = ud;

    if (p->json) {
        json_t *o = event_to_json(ev);
        char *s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));

        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    } else {
        print_text(p, ev);
    }
    /* live output: a pipe reader sees each line as it happens */
    fflush(stdout);
}

static int usage_error(const char *fmt, const char *arg)
{
    fprintf(stderr, "ferry run: ");
    fprintf(stderr, fmt, arg);
    fprintf(stderr, "\nrun 'ferry help run' for the options\n");
    return 2;
}

/* NAME=VALUE into @obj; for -s a bare NAME reads the environment. */
static int add_pair(json_t *obj, const char *arg, bool env_fallback,
                    const char *what)
{
    const char *eq = strchr(arg, '=');
    char *name;

    if (eq == arg)
        return usage_error("empty name in '%s'", arg);
    if (!eq) {
        const char *v = env_fallback ? getenv(arg) : NULL;

        if (!v) {
            fprintf(stderr, "ferry run: %s '%s' needs a value (NAME=VALUE)%s\n",
                    what, arg,
                    env_fallback ? " or an environment variable "
                                   "of that name"
                                 : "");
            return 2;
        }
        json_object_set_new(obj, arg, json_string(v));
        return 0;
    }
    name = xstrndup(arg, (size_t)(eq - arg));
    json_object_set_new(obj, name, json_lossy_stringn(eq + 1, strlen(eq + 1)));
    free(name);
    return 0;
}

static int secret_pair(void *ud, struct span name, struct span value)
{
    char *k = xstrndup(name.p, name.len);

    json_object_set_new(ud, k, json_lossy_stringn(value.p, value.len));
    free(k);
    return 0;
}

static int read_pairs_file(json_t *obj, const char *path)
{
    char *data = NULL;
    size_t len = 0;
    struct ferr err;
    char msg[1024];

    ferr_clear(&err);
    if (workspace_read_file(path, LIM_ENV_FILE_BYTES, &data, &len, &err) ||
        runfile_parse_env(path, span_of(data, len), secret_pair, obj, &err)) {
        fprintf(stderr, "ferry run: %s\n", ferr_format(&err, msg, sizeof(msg)));
        free(data);
        return 2;
    }
    free(data);
    return 0;
}

static void push(const char ***v, size_t *n, const char *s)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = s;
}

int cli_run(int argc, char **argv)
{
    struct run_opts o;
    struct printer p;
    struct diags diags;
    struct ferr err;
    json_t *secrets = json_object();
    json_t *vars = json_object();
    json_t *inputs = json_object();
    json_t *payload = NULL;
    bool list = false;
    int status = 2;
    enum result res = RES_NONE;
    enum ferr_code rc;
    char msg[1200];

    memset(&o, 0, sizeof(o));
    memset(&p, 0, sizeof(p));
    diags_init(&diags);
    ferr_clear(&err);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;

        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_help("run");
            status = 0;
            goto done;
        } else if (strcmp(a, "-l") == 0 || strcmp(a, "--list") == 0) {
            list = true;
            takes = false;
        } else if (strcmp(a, "-n") == 0 || strcmp(a, "--dry-run") == 0) {
            o.dry_run = true;
            takes = false;
        } else if (strcmp(a, "--json") == 0) {
            p.json = true;
            takes = false;
        } else if (a[0] != '-') {
            if (o.event) {
                status = usage_error("unexpected argument '%s' (one event "
                                     "only)",
                                     a);
                goto done;
            }
            o.event = a;
            takes = false;
        } else if (!val) {
            status = usage_error("option '%s' needs a value", a);
            goto done;
        } else if (strcmp(a, "-C") == 0 || strcmp(a, "--directory") == 0) {
            o.dir = val;
        } else if (strcmp(a, "-W") == 0 || strcmp(a, "--workflows") == 0) {
            push(&o.workflows, &o.nworkflows, val);
        } else if (strcmp(a, "-j") == 0 || strcmp(a, "--job") == 0) {
            push(&o.jobs, &o.njobs, val);
        } else if (strcmp(a, "-s") == 0 || strcmp(a, "--secret") == 0) {
            if ((status = add_pair(secrets, val, true, "secret")))
                goto done;
        } else if (strcmp(a, "--secret-file") == 0) {
            if ((status = read_pairs_file(secrets, val)))
                goto done;
        } else if (strcmp(a, "--var") == 0) {
            if ((status = add_pair(vars, val, false, "variable")))
                goto done;
        } else if (strcmp(a, "--var-file") == 0) {
            if ((status = read_pairs_file(vars, val)))
                goto done;
        } else if (strcmp(a, "--input") == 0) {
            if ((status = add_pair(inputs, val, false, "input")))
                goto done;
        } else if (strcmp(a, "-e") == 0 || strcmp(a, "--eventpath") == 0) {
            json_error_t je;

            json_decref(payload); /* the last -e wins */
            payload = json_load_file(val, JSON_REJECT_DUPLICATES, &je);
            if (!payload) {
                if (je.line > 0)
                    fprintf(stderr, "ferry run: %s:%d:%d: %s\n", val, je.line,
                            je.column, je.text);
                else
                    fprintf(stderr, "ferry run: %s: %s\n", val, je.text);
                status = 2;
                goto done;
            }
            if (!json_is_object(payload)) {
                fprintf(stderr,
                        "ferry run: %s: the event must be a JSON "
                        "object\n",
                        val);
                status = 2;
                goto done;
            }
        } else if (strcmp(a, "-P") == 0 || strcmp(a, "--platform") == 0) {
            /* act's flag: runs-on LABEL runs in container IMAGE */
            if (cjob_platform_add(val, &err)) {
                status = usage_error("%s", err.msg);
                goto done;
            }
        } else if (strcmp(a, "--home") == 0) {
            o.home = val;
        } else if (strcmp(a, "--slots") == 0) {
            uint64_t n;

            if (span_to_u64(span_cstr(val), &n) || n == 0 || n > 1024) {
                status = usage_error("--slots needs a number from 1 to 1024, "
                                     "got '%s'",
                                     val);
                goto done;
            }
            o.slots = (unsigned)n;
        } else {
            status = usage_error("unknown option '%s'", a);
            goto done;
        }
        if (takes)
            i++;
        status = 2;
    }
    o.secrets = secrets;
    o.vars = vars;
    o.inputs = inputs;
    o.event_payload = payload;
    o.sink.emit = emit;
    o.sink.ud = &p;
    if (!list && !o.dry_run)
        cjob_reap_orphans(); /* what a killed ferry left in the engine */
    if (list)
        rc = run_list(&o, &diags, stdout, &err);
    else
        rc = run_workflows(&o, &diags, &res, &err);
    diags_sort(&diags);
    diags_print(&diags, stderr);
    if (rc) {
        if (!(diags.nerrors && (rc == FERR_INVALID || rc == FERR_PARSE)))
            fprintf(stderr, "ferry run: %s\n",
                    ferr_format(&err, msg, sizeof(msg)));
        status = (rc == FERR_INVALID || rc == FERR_PARSE || rc == FERR_USAGE ||
                  rc == FERR_LIMIT)
                     ? 2
                     : 1;
        goto done;
    }
    if (!list && res == RES_SKIPPED && !p.json)
        printf("no job ran: no workflow is triggered by '%s'\n",
               o.event ? o.event : "push");
    status = list || res == RES_SUCCESS || res == RES_SKIPPED ? 0 : 1;
done:
    for (size_t i = 0; i < p.nrows; i++)
        free(p.rows[i].label);
    free(p.rows);
    free(o.workflows);
    free(o.jobs);
    diags_release(&diags);
    json_decref(secrets);
    json_decref(vars);
    json_decref(inputs);
    json_decref(payload);
    return status;
}
