/* remote_cmd: the client verbs — status, logs, cancel, rerun, dispatch,
 * repo, token, secret and hook-notify — as thin shells over the HTTP API
 * (client.h), and the helpers every client verb shares (remote.h).  Human
 * output goes to stdout, errors to stderr as "ferry: message"; --json
 * prints the API's answer as it is.  No verb keeps state between runs or
 * talks to the store directly. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/remote.h"
#include "trigger/hook.h"
#include "util/buf.h"
#include "util/crypto.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define HOOK_TIMEOUT_MS 30000L /* a push waits this long for CI at most */

/* ---- arguments ---- */

int remote_usage(const struct remote_verb *v, const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ferry: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fprintf(stderr, "\nusage: %s\nrun 'ferry help %s' for the options\n",
            v->synopsis, v->topic);
    return 2;
}

static const struct remote_opt *find_opt(const struct remote_opt *opts,
                                         const char *a, size_t alen)
{
    for (size_t i = 0; opts && opts[i].name; i++)
        if ((strlen(opts[i].name) == alen &&
             strncmp(opts[i].name, a, alen) == 0) ||
            (opts[i].alt && strlen(opts[i].alt) == alen &&
             strncmp(opts[i].alt, a, alen) == 0))
            return &opts[i];
    return NULL;
}

/*
 * Parse argv[first..]: @opts, the common options and between @minpos and
 * @maxpos positional arguments into @pos.  "--opt=value" and "--" work.
 * Returns -1 to go on, else the exit status: 0 after -h, 2 on bad usage.
 */
int remote_parse_args(const struct remote_verb *v, int argc, char **argv,
                      int first, const struct remote_opt *opts,
                      struct remote_common *cm, const char **pos, size_t minpos,
                      size_t maxpos, size_t *npos)
{
    const struct remote_opt common[] = {
        {"--server", NULL, REMOTE_OPT_STR, &cm->server},
        {"--token", NULL, REMOTE_OPT_STR, &cm->token},
        {"--json", NULL, REMOTE_OPT_BOOL, &cm->json},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    bool dashdash = false;

    *npos = 0;
    for (int i = first; i < argc; i++) {
        const char *a = argv[i];
        const char *eq;
        const char *val;
        const struct remote_opt *o;
        size_t alen;

        if (dashdash || a[0] != '-' || strcmp(a, "-") == 0) {
            if (*npos == maxpos)
                return remote_usage(v, "unexpected argument '%s'", a);
            pos[(*npos)++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            dashdash = true;
            continue;
        }
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            cli_help(v->topic);
            return 0;
        }
        eq = strncmp(a, "--", 2) == 0 ? strchr(a, '=') : NULL;
        alen = eq ? (size_t)(eq - a) : strlen(a);
        o = find_opt(opts, a, alen);
        if (!o)
            o = find_opt(common, a, alen);
        if (!o)
            return remote_usage(v, "unknown option '%.*s'", (int)alen, a);
        if (o->kind == REMOTE_OPT_BOOL) {
            if (eq)
                return remote_usage(v, "option '%s' takes no value", o->name);
            *(bool *)o->dst = true;
            continue;
        }
        if (eq) {
            val = eq + 1;
        } else if (i + 1 < argc) {
            val = argv[++i];
        } else {
            return remote_usage(v, "option '%s' needs a value", o->name);
        }
        if (o->kind == REMOTE_OPT_STR) {
            *(const char **)o->dst = val;
        } else {
            struct remote_strv *sv = o->dst;

            sv->v = xrealloc(sv->v, (sv->n + 1) * sizeof(*sv->v));
            sv->v[sv->n++] = val;
        }
    }
    if (*npos < minpos)
        return remote_usage(v, "missing arguments");
    return -1;
}

/* ---- errors, connection, output ---- */

int remote_fail(const struct ferr *err)
{
    char msg[1200];

    fprintf(stderr, "ferry: %s\n", ferr_format(err, msg, sizeof(msg)));
    return 2;
}

int remote_fail_msg(const char *fmt, ...)
{
    va_list ap;

    fprintf(stderr, "ferry: ");
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    return 2;
}

/* Connect as @cm says; -1 on success, else the exit status. */
int remote_connect(const struct remote_common *cm, struct client **out)
{
    struct ferr err;

    ferr_clear(&err);
    if (client_new(cm->server, cm->token, out, &err))
        return remote_fail(&err);
    return -1;
}

/* One API call; -1 on success (*@out may be NULL for 204), else 2. */
int remote_call(struct client *c, const char *method, const char *path,
                json_t *body, json_t **out)
{
    struct ferr err;
    long status;

    ferr_clear(&err);
    if (client_json(c, method, path, body, &status, out, &err))
        return remote_fail(&err);
    return -1;
}

void remote_print_json(const json_t *j)
{
    char *s;

    if (!j)
        return; /* 204: the server said nothing */
    s = json_dumps(j, JSON_INDENT(2) | JSON_ENCODE_ANY);
    if (s)
        printf("%s\n", s);
    free(s);
}

const char *remote_jstr(const json_t *o, const char *key, const char *dflt)
{
    const char *s = json_string_value(json_object_get(o, key));

    return s ? s : dflt;
}

json_int_t remote_jint(const json_t *o, const char *key)
{
    return json_integer_value(json_object_get(o, key));
}

/* The array @key of the answer @ans, or an error exit. */
json_t *remote_answer_array(const json_t *ans, const char *key)
{
    json_t *a = json_object_get(ans, key);

    if (!json_is_array(a))
        remote_fail_msg("the server's answer has no '%s' list", key);
    return json_is_array(a) ? a : NULL;
}

/* A run id: digits only. */
bool remote_parse_id(const char *s, size_t n, uint64_t *out)
{
    return n > 0 && span_to_u64(span_of(s, n), out) == FERR_OK;
}

/* Build "/…" into @b; false (with a message) when it got too long. */
bool remote_path_fmt(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    enum ferr_code rc;

    va_start(ap, fmt);
    rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    if (rc)
        remote_fail_msg("the request path is too long");
    return rc == FERR_OK;
}

bool remote_path_esc(struct buf *b, const char *s)
{
    if (client_escape(b, s)) {
        remote_fail_msg("the request path is too long");
        return false;
    }
    return true;
}

/* ---- times and tables ---- */

static bool digits(const char *s, int n, int *out)
{
    int v = 0;

    for (int i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (s[i] - '0');
    }
    *out = v;
    return true;
}

/* RFC 3339: YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM). */
bool remote_parse_time(const char *s, time_t *out)
{
    struct tm tm;
    int y, mo, d, h, mi, sec, oh = 0, om = 0;
    long off = 0;

    if (!s || strlen(s) < 20 || s[4] != '-' || s[7] != '-' ||
        (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || s[13] != ':' ||
        s[16] != ':' || !digits(s, 4, &y) || !digits(s + 5, 2, &mo) ||
        !digits(s + 8, 2, &d) || !digits(s + 11, 2, &h) ||
        !digits(s + 14, 2, &mi) || !digits(s + 17, 2, &sec))
        return false;
    s += 19;
    if (*s == '.')
        for (s++; *s >= '0' && *s <= '9'; s++)
            ;
    if ((*s == '+' || *s == '-') && strlen(s) == 6 && s[3] == ':' &&
        digits(s + 1, 2, &oh) && digits(s + 4, 2, &om))
        off = (*s == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    else if (strcmp(s, "Z") != 0 && strcmp(s, "z") != 0)
        return false;
    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = sec;
    *out = timegm(&tm) - off;
    return true;
}

/* "12s", "4m05s", "1h02m", "3d04h" */
void remote_fmt_duration(char *out, size_t n, long long s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, n, "%llds", s);
    else if (s < 3600)
        snprintf(out, n, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, n, "%lldh%02lldm", s / 3600, s / 60 % 60);
    else
        snprintf(out, n, "%lldd%02lldh", s / 86400, s / 3600 % 24);
}

/* "12s", "5m", "3h", "2d" */
void remote_fmt_age(char *out, size_t n, long long s)
{
    if (s < 0)
        s = 0;
    if (s < 60)
        snprintf(out, n, "%llds", s);
    else if (s < 3600)
        snprintf(out, n, "%lldm", s / 60);
    else if (s < 86400)
        snprintf(out, n, "%lldh", s / 3600);
    else
        snprintf(out, n, "%lldd", s / 86400);
}

/* "2026-11-23 10:04" from an RFC 3339 time; "-" for null. */
void remote_fmt_when(char *out, size_t n, const char *t)
{
    if (!t || strlen(t) < 16) {
        snprintf(out, n, "%s", t ? t : "-");
        return;
    }
    snprintf(out, n, "%.10s %.5s", t, t + 11);
}

/* Text from the server shown in a table: no control characters. */
char *remote_clean_dup(const char *s)
{
    char *d = xstrdup(s ? s : "");

    for (char *p = d; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = '?';
    return d;
}

void remote_table_row(struct remote_table *t, const char *const *cells)
{
    t->cells = xrealloc(t->cells, (t->nrow + 1) * t->ncol * sizeof(char *));
    for (size_t i = 0; i < t->ncol; i++)
        t->cells[t->nrow * t->ncol + i] = remote_clean_dup(cells[i]);
    t->nrow++;
}

/* Display width: UTF-8 code points. */
static size_t width(const char *s)
{
    size_t w = 0;

    for (; *s; s++)
        w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

void remote_table_print_free(struct remote_table *t)
{
    size_t *w = xcalloc(t->ncol, sizeof(*w));

    for (size_t r = 0; r < t->nrow; r++)
        for (size_t i = 0; i < t->ncol; i++) {
            size_t cw = width(t->cells[r * t->ncol + i]);

            if (cw > w[i])
                w[i] = cw;
        }
    for (size_t r = 0; r < t->nrow; r++) {
        for (size_t i = 0; i < t->ncol; i++) {
            const char *s = t->cells[r * t->ncol + i];

            fputs(s, stdout);
            if (i + 1 < t->ncol)
                printf("%*s", (int)(w[i] - width(s) + 2), "");
        }
        putchar('\n');
    }
    for (size_t i = 0; i < t->nrow * t->ncol; i++)
        free(t->cells[i]);
    free(t->cells);
    t->cells = NULL;
    t->nrow = 0;
    free(w);
}

/* ---- ferry status ---- */

static const char *short_ref(const char *ref, char *tmp, size_t n)
{
    unsigned long pr;
    char tail[16];

    if (!ref)
        return "-";
    if (strncmp(ref, "refs/heads/", 11) == 0)
        return ref + 11;
    if (strncmp(ref, "refs/tags/", 10) == 0)
        return ref + 10;
    if (sscanf(ref, "refs/pull/%lu/%15s", &pr, tail) == 2) {
        snprintf(tmp, n, "pull/%lu", pr);
        return tmp;
    }
    return ref;
}

static const char *run_state(const json_t *run)
{
    const char *st = remote_jstr(run, "status", "?");
    const char *concl = remote_jstr(run, "conclusion", NULL);

    return strcmp(st, "completed") == 0 && concl ? concl : st;
}

static void print_runs(const json_t *runs)
{
    const char *head[] = {"ID",  "REPO", "WORKFLOW", "NUMBER", "EVENT",
                          "REF", "SHA",  "STATUS",   "AGE",    "DURATION"};
    struct remote_table t = {10, 0, NULL};
    time_t now = time(NULL);
    size_t i;
    json_t *run;

    if (json_array_size(runs) == 0) {
        printf("no runs\n");
        return;
    }
    remote_table_row(&t, head);
    json_array_foreach (runs, i, run) {
        char id[24], num[24], sha[8], age[32], dur[32], ref[32];
        const char *wf = remote_jstr(run, "workflow_name", NULL);
        time_t created, started, finished;
        const char *row[10];

        /* an unnamed workflow goes by its path: its file name will do */
        if (!wf || !*wf || strcmp(wf, remote_jstr(run, "workflow", "")) == 0) {
            const char *p = remote_jstr(run, "workflow", "?");
            const char *slash = strrchr(p, '/');

            wf = slash ? slash + 1 : p;
        }
        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT,
                 remote_jint(run, "id"));
        snprintf(num, sizeof(num), "#%" JSON_INTEGER_FORMAT,
                 remote_jint(run, "number"));
        snprintf(sha, sizeof(sha), "%.7s", remote_jstr(run, "sha", "-"));
        if (remote_parse_time(remote_jstr(run, "created_at", NULL), &created))
            remote_fmt_age(age, sizeof(age), (long long)(now - created));
        else
            snprintf(age, sizeof(age), "-");
        if (remote_parse_time(remote_jstr(run, "started_at", NULL), &started)) {
            if (!remote_parse_time(remote_jstr(run, "finished_at", NULL),
                                   &finished))
                finished = now;
            remote_fmt_duration(dur, sizeof(dur),
                                (long long)(finished - started));
        } else {
            snprintf(dur, sizeof(dur), "-");
        }
        row[0] = id;
        row[1] = remote_jstr(run, "repo", "?");
        row[2] = wf;
        row[3] = num;
        row[4] = remote_jstr(run, "event", "?");
        row[5] = short_ref(remote_jstr(run, "ref", NULL), ref, sizeof(ref));
        row[6] = sha;
        row[7] = run_state(run);
        row[8] = age;
        row[9] = dur;
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
}

static bool is_conclusion(const char *s)
{
    return strcmp(s, "success") == 0 || strcmp(s, "failure") == 0 ||
           strcmp(s, "cancelled") == 0 || strcmp(s, "skipped") == 0;
}

/* Add "&key=value" (the first one with '?') to @b when @value is set. */
bool remote_add_query(struct buf *b, bool *first, const char *key,
                      const char *value)
{
    if (!value)
        return true;
    if (!remote_path_fmt(b, "%c%s=", *first ? '?' : '&', key) ||
        !remote_path_esc(b, value))
        return false;
    *first = false;
    return true;
}

int cli_status(int argc, char **argv)
{
    const struct remote_verb v = {"status",
                                  "ferry status [--repo R] [--branch B] "
                                  "[--status S] [--limit N] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL, *branch = NULL, *status = NULL, *limit = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {"--branch", NULL, REMOTE_OPT_STR, &branch},
        {"--status", NULL, REMOTE_OPT_STR, &status},
        {"--limit", "-n", REMOTE_OPT_STR, &limit},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    struct client *c = NULL;
    json_t *ans = NULL;
    json_t *runs;
    struct buf path;
    bool first = true;
    uint64_t n;
    size_t npos;
    int rc;

    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        return rc;
    if (limit && (span_to_u64(span_cstr(limit), &n) || n < 1 || n > 200))
        return remote_usage(
            &v, "--limit needs a number from 1 to 200, got '%s'", limit);
    buf_init(&path, LIM_URL);
    /* --status failure means the conclusion: it is what people ask */
    if (!remote_path_fmt(&path, "/api/v1/runs") ||
        !remote_add_query(&path, &first, "repo", repo) ||
        !remote_add_query(&path, &first, "branch", branch) ||
        !remote_add_query(&path, &first,
                          status && is_conclusion(status) ? "conclusion"
                                                          : "status",
                          status) ||
        !remote_add_query(&path, &first, "limit", limit)) {
        rc = 2;
        goto done;
    }
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = remote_call(c, "GET", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    rc = 2;
    if (!(runs = remote_answer_array(ans, "runs")))
        goto done;
    if (cm.json)
        remote_print_json(runs);
    else
        print_runs(runs);
    rc = 0;
done:
    json_decref(ans);
    client_free(c);
    buf_release(&path);
    return rc;
}

/* ---- ferry logs ---- */

struct job_name {
    json_int_t id;
    char *name;
};

struct logs {
    const struct remote_common *cm;
    bool json;
    json_int_t only_job;    /* 0: every job */
    struct job_name *names; /* job id -> name, learned as we go */
    size_t nnames;
    struct client *side;  /* for lookups while the stream is busy */
    char *run_conclusion; /* from the "end" event */
    char *job_conclusion; /* of only_job, from its "job" event */
};

static const char *known_name(const struct logs *l, json_int_t id)
{
    for (size_t i = 0; i < l->nnames; i++)
        if (l->names[i].id == id)
            return l->names[i].name;
    return NULL;
}

static void learn_name(struct logs *l, json_int_t id, const char *name)
{
    if (!name || known_name(l, id))
        return;
    l->names = xrealloc(l->names, (l->nnames + 1) * sizeof(*l->names));
    l->names[l->nnames].id = id;
    l->names[l->nnames].name = xstrdup(name);
    l->nnames++;
}

static void learn_jobs(struct logs *l, const json_t *run)
{
    size_t i;
    json_t *job;

    json_array_foreach (json_object_get(run, "jobs"), i, job)
        learn_name(l, remote_jint(job, "id"), remote_jstr(job, "name", NULL));
}

/* The job's name; asks the server on a second connection when unknown. */
static const char *job_name(struct logs *l, json_int_t id)
{
    const char *n = known_name(l, id);
    char path[64];
    struct ferr err;
    json_t *job = NULL;

    if (n)
        return n;
    ferr_clear(&err);
    if (!l->side && client_new(l->cm->server, l->cm->token, &l->side, &err))
        return NULL;
    snprintf(path, sizeof(path), "/api/v1/jobs/%" JSON_INTEGER_FORMAT, id);
    if (client_json(l->side, "GET", path, NULL, NULL, &job, &err) == FERR_OK)
        learn_name(l, id, remote_jstr(job, "name", NULL));
    json_decref(job);
    return known_name(l, id);
}

static int on_log_event(void *ud, const char *id, const char *event,
                        const char *data)
{
    struct logs *l = ud;
    json_t *d = json_loads(data, JSON_DECODE_ANY, NULL);
    json_int_t job = remote_jint(d, "job");
    int stop = 0;

    if (l->json) {
        json_t *o = json_object();
        char *s;

        json_object_set_new(o, "id", json_lossy_stringn(id, strlen(id)));
        json_object_set_new(o, "event",
                            json_lossy_stringn(event, strlen(event)));
        json_object_set_new(o, "data",
                            d ? json_incref(d)
                              : json_lossy_stringn(data, strlen(data)));
        s = json_dumps(o, JSON_COMPACT);

        if (s)
            printf("%s\n", s);
        free(s);
        json_decref(o);
    }
    if (strcmp(event, "line") == 0) {
        const char *name = remote_jstr(d, "job_name", NULL);

        learn_name(l, job, name);
        if (!l->json && (!l->only_job || job == l->only_job)) {
            if (name)
                printf("[%s] %s\n", name, remote_jstr(d, "text", ""));
            else
                printf("[job %" JSON_INTEGER_FORMAT "] %s\n", job,
                       remote_jstr(d, "text", ""));
        }
    } else if (strcmp(event, "job") == 0) {
        const char *st = remote_jstr(d, "status", "?");
        const char *concl = remote_jstr(d, "conclusion", NULL);
        bool done = strcmp(st, "completed") == 0;

        learn_name(l, job, remote_jstr(d, "name", NULL));
        if (!l->only_job || job == l->only_job) {
            if (!l->json) {
                const char *name = job_name(l, job);
                char tmp[32];

                if (!name) {
                    snprintf(tmp, sizeof(tmp), "%" JSON_INTEGER_FORMAT, job);
                    name = tmp;
                }
                printf("== job %s: %s\n", name, done && concl ? concl : st);
            }
            if (l->only_job && done) {
                l->job_conclusion = xstrdup(concl ? concl : "");
                stop = 1;
            }
        }
    } else if (strcmp(event, "end") == 0) {
        const char *concl = remote_jstr(d, "conclusion", "");

        l->run_conclusion = xstrdup(concl);
        if (!l->json && !l->only_job)
            printf("== run %s\n",
                   *concl ? concl : remote_jstr(d, "status", "?"));
        stop = 1;
    }
    /* live output: a pipe reader sees each line as it happens */
    fflush(stdout);
    json_decref(d);
    return stop;
}

/* Resolve the JOB of RUN/JOB: a job id, or a name or key of the run's
 * jobs.  0 with a message when it matches none or several. */
static json_int_t resolve_job(const json_t *run, const char *want)
{
    json_int_t found = 0;
    int matches = 0;
    size_t i;
    json_t *job;
    uint64_t n;

    if (span_to_u64(span_cstr(want), &n) == FERR_OK && n > 0 && n <= INT64_MAX)
        return (json_int_t)n;
    /* an exact name wins over a key shared by matrix cells */
    json_array_foreach (json_object_get(run, "jobs"), i, job)
        if (strcmp(remote_jstr(job, "name", ""), want) == 0)
            return remote_jint(job, "id");
    json_array_foreach (json_object_get(run, "jobs"), i, job)
        if (strcmp(remote_jstr(job, "job_id", ""), want) == 0) {
            found = remote_jint(job, "id");
            matches++;
        }
    if (matches == 1)
        return found;
    if (matches == 0) {
        remote_fail_msg("run %" JSON_INTEGER_FORMAT " has no job '%s'",
                        remote_jint(run, "id"), want);
        return 0;
    }
    fprintf(stderr, "ferry: job '%s' is ambiguous; name one of:", want);
    json_array_foreach (json_object_get(run, "jobs"), i, job)
        if (strcmp(remote_jstr(job, "job_id", ""), want) == 0)
            fprintf(stderr, " '%s'", remote_jstr(job, "name", "?"));
    fputc('\n', stderr);
    return 0;
}

int cli_logs(int argc, char **argv)
{
    const struct remote_verb v = {"logs", "ferry logs RUN[/JOB] [-f] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    bool follow = false;
    const struct remote_opt opts[] = {
        {"--follow", "-f", REMOTE_OPT_BOOL, &follow},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    const char *slash;
    struct logs l;
    struct client *c = NULL;
    json_t *run = NULL;
    struct ferr err;
    char path[96];
    uint64_t run_id;
    size_t npos;
    int rc;

    memset(&l, 0, sizeof(l));
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        return rc;
    slash = strchr(pos[0], '/');
    if (!remote_parse_id(pos[0],
                         slash ? (size_t)(slash - pos[0]) : strlen(pos[0]),
                         &run_id) ||
        (slash && !slash[1]))
        return remote_usage(&v, "bad run '%s': expected RUN or RUN/JOB",
                            pos[0]);
    if ((rc = remote_connect(&cm, &c)) >= 0)
        return rc;
    l.cm = &cm;
    l.json = cm.json;
    rc = 2;
    snprintf(path, sizeof(path), "/api/v1/runs/%" PRIu64, run_id);
    /* the run first: a clear 404, the jobs' names, and JOB by name */
    if ((slash || follow) && remote_call(c, "GET", path, NULL, &run) >= 0)
        goto done;
    learn_jobs(&l, run);
    if (slash && !(l.only_job = resolve_job(run, slash + 1)))
        goto done;
    ferr_clear(&err);
    if (!follow) {
        if (l.only_job)
            snprintf(path, sizeof(path),
                     "/api/v1/jobs/%" JSON_INTEGER_FORMAT "/logs", l.only_job);
        else
            snprintf(path, sizeof(path), "/api/v1/runs/%" PRIu64 "/logs",
                     run_id);
        if (client_download(c, path, stdout, NULL, &err))
            rc = remote_fail(&err);
        else
            rc = 0;
        goto done;
    }
    snprintf(path, sizeof(path), "/api/v1/runs/%" PRIu64 "/logs", run_id);
    if (client_follow(c, path, NULL, on_log_event, &l, &err)) {
        rc = remote_fail(&err);
        goto done;
    }
    if (l.only_job && !l.job_conclusion) {
        /* the run ended without a word on the job: ask */
        json_t *job = NULL;

        snprintf(path, sizeof(path), "/api/v1/jobs/%" JSON_INTEGER_FORMAT,
                 l.only_job);
        if (remote_call(c, "GET", path, NULL, &job) >= 0)
            goto done;
        l.job_conclusion = xstrdup(remote_jstr(job, "conclusion", ""));
        json_decref(job);
    }
    if (l.only_job)
        rc = strcmp(l.job_conclusion, "success") == 0 ? 0 : 1;
    else
        rc = l.run_conclusion && strcmp(l.run_conclusion, "success") == 0 ? 0
                                                                          : 1;
done:
    for (size_t i = 0; i < l.nnames; i++)
        free(l.names[i].name);
    free(l.names);
    free(l.run_conclusion);
    free(l.job_conclusion);
    client_free(l.side);
    client_free(c);
    json_decref(run);
    return rc;
}

/* ---- ferry cancel, ferry rerun ---- */

static int run_action(int argc, char **argv, bool rerun)
{
    const struct remote_verb vc = {"cancel", "ferry cancel RUN [--json]"};
    const struct remote_verb vr = {"rerun",
                                   "ferry rerun RUN [--failed] [--json]"};
    const struct remote_verb *v = rerun ? &vr : &vc;
    struct remote_common cm = {NULL, NULL, false};
    bool failed = false;
    const struct remote_opt ropts[] = {
        {"--failed", NULL, REMOTE_OPT_BOOL, &failed},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    json_t *body = NULL;
    json_t *ans = NULL;
    char path[96];
    uint64_t id;
    size_t npos;
    int rc;

    rc = remote_parse_args(v, argc, argv, 1, rerun ? ropts : NULL, &cm, pos, 1,
                           1, &npos);
    if (rc >= 0)
        return rc;
    if (!remote_parse_id(pos[0], strlen(pos[0]), &id))
        return remote_usage(v, "bad run id '%s'", pos[0]);
    if ((rc = remote_connect(&cm, &c)) >= 0)
        return rc;
    snprintf(path, sizeof(path), "/api/v1/runs/%" PRIu64 "/%s", id,
             rerun ? "rerun" : "cancel");
    if (rerun)
        body = json_pack("{sb}", "failed_only", failed);
    if ((rc = remote_call(c, "POST", path, body, &ans)) >= 0)
        goto done;
    if (cm.json)
        remote_print_json(ans);
    else if (rerun)
        printf("run %" PRIu64 ": attempt %" JSON_INTEGER_FORMAT " queued%s\n",
               id, remote_jint(ans, "attempt"),
               failed ? " (the failed jobs only)" : "");
    else if (strcmp(remote_jstr(ans, "status", ""), "completed") == 0)
        printf("run %" PRIu64 ": %s\n", id,
               remote_jstr(ans, "conclusion", "done"));
    else
        printf("run %" PRIu64 ": cancelling\n", id);
    rc = 0;
done:
    json_decref(body);
    json_decref(ans);
    client_free(c);
    return rc;
}

int cli_cancel(int argc, char **argv)
{
    return run_action(argc, argv, false);
}

int cli_rerun(int argc, char **argv)
{
    return run_action(argc, argv, true);
}

/* ---- ferry dispatch ---- */

int cli_dispatch(int argc, char **argv)
{
    const struct remote_verb v = {"dispatch",
                                  "ferry dispatch REPO WORKFLOW "
                                  "[--ref R] [--input K=V]... [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *ref = NULL;
    struct remote_strv inputs = {NULL, 0};
    const struct remote_opt opts[] = {
        {"--ref", NULL, REMOTE_OPT_STR, &ref},
        {"--input", "-i", REMOTE_OPT_LIST, &inputs},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[2];
    const char *wf;
    struct client *c = NULL;
    json_t *body = json_object();
    json_t *in = json_object();
    json_t *ans = NULL;
    json_t *repo = NULL;
    json_t *runs;
    struct buf path;
    size_t npos;
    size_t i;
    json_t *run;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, pos, 2, 2, &npos);
    if (rc >= 0)
        goto done;
    for (i = 0; i < inputs.n; i++) {
        const char *eq = strchr(inputs.v[i], '=');
        char *k;

        if (!eq || eq == inputs.v[i]) {
            rc = remote_usage(&v, "bad input '%s': expected NAME=VALUE",
                              inputs.v[i]);
            goto done;
        }
        k = xstrndup(inputs.v[i], (size_t)(eq - inputs.v[i]));
        json_object_set_new(in, k, json_lossy_stringn(eq + 1, strlen(eq + 1)));
        free(k);
    }
    /* the workflow's file name: ".github/workflows/ci.yml" is "ci.yml" */
    wf = strrchr(pos[1], '/') ? strrchr(pos[1], '/') + 1 : pos[1];
    if (!*wf) {
        rc = remote_usage(&v, "bad workflow '%s': expected its file name",
                          pos[1]);
        goto done;
    }
    if ((rc = remote_connect(&cm, &c)) >= 0)
        goto done;
    rc = 2;
    if (!remote_path_fmt(&path, "/api/v1/repos/") ||
        !remote_path_esc(&path, pos[0]))
        goto done;
    if (!ref) {
        /* the server's idea of the default branch, stated explicitly */
        if (remote_call(c, "GET", buf_cstr(&path), NULL, &repo) >= 0)
            goto done;
        ref = remote_jstr(repo, "default_branch", NULL);
    }
    if (ref)
        json_object_set_new(body, "ref", json_string(ref));
    json_object_set(body, "inputs", in);
    if (!remote_path_fmt(&path, "/workflows/") || !remote_path_esc(&path, wf) ||
        !remote_path_fmt(&path, "/dispatches"))
        goto done;
    if (remote_call(c, "POST", buf_cstr(&path), body, &ans) >= 0)
        goto done;
    if (cm.json) {
        remote_print_json(ans);
    } else if ((runs = remote_answer_array(ans, "runs"))) {
        json_array_foreach (runs, i, run)
            printf("queued run %" JSON_INTEGER_FORMAT "\n",
                   remote_jint(run, "id"));
        if (json_array_size(runs) == 0)
            printf("no run queued\n");
    } else {
        goto done;
    }
    rc = 0;
done:
    free(inputs.v);
    json_decref(body);
    json_decref(in);
    json_decref(ans);
    json_decref(repo);
    client_free(c);
    buf_release(&path);
    return rc;
}

/* ---- ferry repo ---- */

static int repo_add(int argc, char **argv)
{
    const struct remote_verb v = {"repo", "ferry repo add NAME PATH [--hook] "
                                          "[--branch B] [--webhook-secret S]"};
    struct remote_common cm = {NULL, NULL, false};
    bool hook = false;
    const char *branch = NULL, *secret = NULL;
    const struct remote_opt opts[] = {
        {"--hook", NULL, REMOTE_OPT_BOOL, &hook},
        {"--branch", NULL, REMOTE_OPT_STR, &branch},
        {"--webhook-secret", NULL, REMOTE_OPT_STR, &secret},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[2];
    char *local = NULL;
    char *self = NULL;
    struct client *c = NULL;
    json_t *body = NULL;
    json_t *ans = NULL;
    const char *key;
    struct ferr err;
    size_t npos;
    int rc;

    rc = remote_parse_args(&v, argc, argv, 2, opts, &cm, pos, 2, 2, &npos);
    if (rc >= 0)
        return rc;
    /* a local repository is registered by its absolute path */
    local = realpath(pos[1], NULL);
    if (hook && !local)
        return remote_usage(&v,
                            "--hook needs PATH to be a local repository: "
                            "'%s': %s",
                            pos[1], strerror(errno));
    if (hook && !(self = realpath("/proc/self/exe", NULL))) {
        rc = remote_fail_msg("cannot find the ferry binary: %s",
                             strerror(errno));
        goto done;
    }
    if ((rc = remote_connect(&cm, &c)) >= 0)
        goto done;
    body = json_pack("{ss,ss}", "name", pos[0], "url", local ? local : pos[1]);
    if (!body) {
        rc = remote_fail_msg("the name and the path must be UTF-8 text");
        goto done;
    }
    if (branch)
        json_object_set_new(body, "default_branch", json_string(branch));
    if (secret)
        json_object_set_new(body, "webhook_secret", json_string(secret));
    if ((rc = remote_call(c, "POST", "/api/v1/repos", body, &ans)) >= 0)
        goto done;
    key = remote_jstr(ans, "hook_key", NULL);
    if (cm.json) {
        remote_print_json(ans);
    } else {
        printf("added repo %s: %s\n", remote_jstr(ans, "name", pos[0]),
               remote_jstr(ans, "url", local ? local : pos[1]));
        if (key)
            printf("webhook secret: %s\n", key);
    }
    rc = 0;
    if (hook) {
        ferr_clear(&err);
        if (!key) {
            rc =
                remote_fail_msg("the server sent no hook key: the hook was not "
                                "installed");
        } else if (hook_install(local, self, client_server(c), pos[0], key,
                                &err)) {
            ferr_prefix(&err, "the repo was added but its hook was not "
                              "installed");
            rc = remote_fail(&err);
        } else if (!cm.json) {
            printf("installed the post-receive hook in %s\n", local);
        }
    }
done:
    free(local);
    free(self);
    json_decref(body);
    json_decref(ans);
    client_free(c);
    return rc;
}

static int repo_list(int argc, char **argv)
{
    const struct remote_verb v = {"repo", "ferry repo list [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *head[] = {"NAME", "URL", "BRANCH", "CREATED"};
    struct remote_table t = {4, 0, NULL};
    struct client *c = NULL;
    json_t *ans = NULL;
    json_t *repos;
    json_t *r;
    size_t npos;
    size_t i;
    int rc;

    rc = remote_parse_args(&v, argc, argv, 2, NULL, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        return rc;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = remote_call(c, "GET", "/api/v1/repos", NULL, &ans)) >= 0)
        goto done;
    rc = 2;
    if (!(repos = remote_answer_array(ans, "repos")))
        goto done;
    rc = 0;
    if (cm.json) {
        remote_print_json(ans);
        goto done;
    }
    if (json_array_size(repos) == 0) {
        printf("no repos\n");
        goto done;
    }
    remote_table_row(&t, head);
    json_array_foreach (repos, i, r) {
        char when[32];
        const char *row[4];

        remote_fmt_when(when, sizeof(when), remote_jstr(r, "created_at", NULL));
        row[0] = remote_jstr(r, "name", "?");
        row[1] = remote_jstr(r, "url", "?");
        row[2] = remote_jstr(r, "default_branch", "-");
        row[3] = when;
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
done:
    json_decref(ans);
    client_free(c);
    return rc;
}

/* Dispatch "VERB SUB …" to @subs; NULL-terminated names and functions. */
int remote_subcommand(const struct remote_verb *v, int argc, char **argv,
                      const char *const *names, int (*const *fns)(int, char **))
{
    if (argc < 2)
        return remote_usage(v, "missing command");
    if (strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "--help") == 0) {
        cli_help(v->topic);
        return 0;
    }
    for (size_t i = 0; names[i]; i++)
        if (strcmp(argv[1], names[i]) == 0)
            return fns[i](argc, argv);
    return remote_usage(v, "unknown command '%s'", argv[1]);
}

int cli_repo(int argc, char **argv)
{
    const struct remote_verb v = {"repo", "ferry repo add|list ..."};
    const char *const names[] = {"add", "list", "ls", NULL};
    int (*const fns[])(int, char **) = {repo_add, repo_list, repo_list};

    return remote_subcommand(&v, argc, argv, names, fns);
}

/* ---- ferry token ---- */

static int token_create(int argc, char **argv)
{
    const struct remote_verb v = {"token", "ferry token create --role ROLE "
                                           "[--name N] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *role = NULL, *name = NULL;
    const struct remote_opt opts[] = {
        {"--role", NULL, REMOTE_OPT_STR, &role},
        {"--name", NULL, REMOTE_OPT_STR, &name},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    struct client *c = NULL;
    json_t *body = NULL;
    json_t *ans = NULL;
    const char *tok;
    size_t npos;
    int rc;

    rc = remote_parse_args(&v, argc, argv, 2, opts, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        return rc;
    if (!role)
        return remote_usage(&v,
                            "--role is required (viewer, developer, approver "
                            "or admin)");
    if ((rc = remote_connect(&cm, &c)) >= 0)
        return rc;
    body = json_pack("{ss}", "role", role);
    if (name)
        json_object_set_new(body, "name", json_string(name));
    if ((rc = remote_call(c, "POST", "/api/v1/tokens", body, &ans)) >= 0)
        goto done;
    tok = remote_jstr(ans, "token", NULL);
    if (cm.json) {
        remote_print_json(ans);
    } else if (!tok) {
        rc = remote_fail_msg("the server's answer has no token");
        goto done;
    } else {
        /* stdout holds the token alone, for $(ferry token create …) */
        printf("%s\n", tok);
        fprintf(stderr,
                "ferry: token %" JSON_INTEGER_FORMAT " (%s%s%s) created; "
                "it is not shown again\n",
                remote_jint(ans, "id"), remote_jstr(ans, "role", role),
                name ? ", " : "", name ? name : "");
    }
    rc = 0;
done:
    json_decref(body);
    json_decref(ans);
    client_free(c);
    return rc;
}

static int token_list(int argc, char **argv)
{
    const struct remote_verb v = {"token", "ferry token list [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *head[] = {"ID",      "NAME",      "ROLE",
                          "CREATED", "LAST USED", "REVOKED"};
    struct remote_table t = {6, 0, NULL};
    struct client *c = NULL;
    json_t *ans = NULL;
    json_t *toks;
    json_t *k;
    size_t npos;
    size_t i;
    int rc;

    rc = remote_parse_args(&v, argc, argv, 2, NULL, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        return rc;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = remote_call(c, "GET", "/api/v1/tokens", NULL, &ans)) >= 0)
        goto done;
    rc = 2;
    if (!(toks = remote_answer_array(ans, "tokens")))
        goto done;
    rc = 0;
    if (cm.json) {
        remote_print_json(ans);
        goto done;
    }
    remote_table_row(&t, head);
    json_array_foreach (toks, i, k) {
        char id[24], created[32], used[32];
        const char *row[6];

        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, remote_jint(k, "id"));
        remote_fmt_when(created, sizeof(created),
                        remote_jstr(k, "created_at", NULL));
        remote_fmt_when(used, sizeof(used),
                        remote_jstr(k, "last_used_at", NULL));
        row[0] = id;
        row[1] = remote_jstr(k, "name", "-");
        row[2] = remote_jstr(k, "role", "?");
        row[3] = created;
        row[4] = used;
        row[5] = json_is_true(json_object_get(k, "revoked")) ? "yes" : "no";
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
done:
    json_decref(ans);
    client_free(c);
    return rc;
}

static int token_revoke(int argc, char **argv)
{
    const struct remote_verb v = {"token", "ferry token revoke ID"};
    struct remote_common cm = {NULL, NULL, false};
    const char *pos[1];
    struct client *c = NULL;
    json_t *ans = NULL;
    char path[64];
    uint64_t id;
    size_t npos;
    int rc;

    rc = remote_parse_args(&v, argc, argv, 2, NULL, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        return rc;
    if (!remote_parse_id(pos[0], strlen(pos[0]), &id))
        return remote_usage(&v, "bad token id '%s'", pos[0]);
    if ((rc = remote_connect(&cm, &c)) >= 0)
        return rc;
    snprintf(path, sizeof(path), "/api/v1/tokens/%" PRIu64, id);
    if ((rc = remote_call(c, "DELETE", path, NULL, &ans)) < 0) {
        if (cm.json)
            remote_print_json(ans);
        else
            printf("revoked token %" PRIu64 "\n", id);
        rc = 0;
    }
    json_decref(ans);
    client_free(c);
    return rc;
}

int cli_token(int argc, char **argv)
{
    const struct remote_verb v = {"token",
                                  "ferry token create|list|revoke ..."};
    const char *const names[] = {"create", "list", "ls", "revoke", NULL};
    int (*const fns[])(int, char **) = {token_create, token_list, token_list,
                                        token_revoke};

    return remote_subcommand(&v, argc, argv, names, fns);
}

/* ---- ferry secret ---- */

/* Read all of @f into @out (at most its max).  FERR_LIMIT when longer. */
static enum ferr_code read_stream(FILE *f, struct buf *out, struct ferr *err)
{
    char chunk[65536];
    size_t n;

    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
        if (buf_add(out, chunk, n))
            return ferr_set(err, FERR_LIMIT, NULL,
                            "the input is over %zu "
                            "bytes",
                            out->max);
    if (ferror(f))
        return ferr_set(err, FERR_IO, NULL, "cannot read: %s", strerror(errno));
    return FERR_OK;
}

static void strip_newline(struct buf *b)
{
    if (b->len && b->p[b->len - 1] == '\n') {
        b->len--;
        if (b->len && b->p[b->len - 1] == '\r')
            b->len--;
        b->p[b->len] = '\0';
    }
}

static int secret_set(int argc, char **argv)
{
    const struct remote_verb v = {"secret", "ferry secret set REPO NAME "
                                            "[--value V] < value"};
    struct remote_common cm = {NULL, NULL, false};
    const char *value = NULL;
    const struct remote_opt opts[] = {
        {"--value", NULL, REMOTE_OPT_STR, &value},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[2];
    struct client *c = NULL;
    struct buf val;
    struct buf path;
    struct ferr err;
    json_t *body = NULL;
    json_t *ans = NULL;
    json_t *s;
    size_t npos;
    int rc;

    buf_init(&val, LIM_SECRET_BYTES);
    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 2, opts, &cm, pos, 2, 2, &npos);
    if (rc >= 0)
        goto done;
    ferr_clear(&err);
    rc = 2;
    if (value) {
        if (buf_adds(&val, value)) {
            rc =
                remote_fail_msg("the value is over %u bytes", LIM_SECRET_BYTES);
            goto done;
        }
    } else {
        if (isatty(STDIN_FILENO))
            fprintf(stderr,
                    "ferry: reading the value of '%s' from stdin; "
                    "end it with Ctrl-D\n",
                    pos[1]);
        if (read_stream(stdin, &val, &err)) {
            ferr_prefix(&err, "the secret's value");
            rc = remote_fail(&err);
            goto done;
        }
        strip_newline(&val);
    }
    s = json_stringn(val.p ? val.p : "", val.len);
    if (!s) {
        rc = remote_fail_msg("the value is not UTF-8 text");
        goto done;
    }
    body = json_object();
    json_object_set_new(body, "value", s);
    if ((rc = remote_connect(&cm, &c)) >= 0)
        goto done;
    rc = 2;
    if (!remote_path_fmt(&path, "/api/v1/repos/") ||
        !remote_path_esc(&path, pos[0]) ||
        !remote_path_fmt(&path, "/secrets/") || !remote_path_esc(&path, pos[1]))
        goto done;
    if (remote_call(c, "PUT", buf_cstr(&path), body, &ans) >= 0)
        goto done;
    if (cm.json)
        remote_print_json(ans);
    else
        printf("set secret %s of %s\n", pos[1], pos[0]);
    rc = 0;
done:
    if (val.p)
        explicit_bzero(val.p, val.cap);
    buf_release(&val);
    buf_release(&path);
    json_decref(body);
    json_decref(ans);
    client_free(c);
    return rc;
}

static int secret_list(int argc, char **argv)
{
    const struct remote_verb v = {"secret", "ferry secret list REPO [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *head[] = {"NAME", "UPDATED"};
    struct remote_table t = {2, 0, NULL};
    const char *pos[1];
    struct client *c = NULL;
    struct buf path;
    json_t *ans = NULL;
    json_t *list;
    json_t *s;
    size_t npos;
    size_t i;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 2, NULL, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        goto done;
    rc = 2;
    if (!remote_path_fmt(&path, "/api/v1/repos/") ||
        !remote_path_esc(&path, pos[0]) || !remote_path_fmt(&path, "/secrets"))
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = remote_call(c, "GET", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    rc = 2;
    if (!(list = remote_answer_array(ans, "secrets")))
        goto done;
    rc = 0;
    if (cm.json) {
        remote_print_json(ans);
        goto done;
    }
    if (json_array_size(list) == 0) {
        printf("no secrets\n");
        goto done;
    }
    remote_table_row(&t, head);
    json_array_foreach (list, i, s) {
        char when[32];
        const char *row[2];

        remote_fmt_when(when, sizeof(when), remote_jstr(s, "updated_at", NULL));
        row[0] = remote_jstr(s, "name", "?");
        row[1] = when;
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
done:
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}

static int secret_rm(int argc, char **argv)
{
    const struct remote_verb v = {"secret", "ferry secret rm REPO NAME"};
    struct remote_common cm = {NULL, NULL, false};
    const char *pos[2];
    struct client *c = NULL;
    struct buf path;
    json_t *ans = NULL;
    size_t npos;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 2, NULL, &cm, pos, 2, 2, &npos);
    if (rc >= 0)
        goto done;
    rc = 2;
    if (!remote_path_fmt(&path, "/api/v1/repos/") ||
        !remote_path_esc(&path, pos[0]) ||
        !remote_path_fmt(&path, "/secrets/") || !remote_path_esc(&path, pos[1]))
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = remote_call(c, "DELETE", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    if (cm.json)
        remote_print_json(ans);
    else
        printf("removed secret %s from %s\n", pos[1], pos[0]);
    rc = 0;
done:
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}

int cli_secret(int argc, char **argv)
{
    const struct remote_verb v = {"secret", "ferry secret set|list|rm ..."};
    const char *const names[] = {"set", "list", "ls", "rm", "remove", NULL};
    int (*const fns[])(int, char **) = {secret_set, secret_list, secret_list,
                                        secret_rm, secret_rm};

    return remote_subcommand(&v, argc, argv, names, fns);
}

/* ---- ferry hook-notify ---- */

/* A push must never fail because CI is down: say so and exit 0. */
static int hook_warn(const char *fmt, ...)
    __attribute__((format(printf, 1, 2)));

static int hook_warn(const char *fmt, ...)
{
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    /* it may quote the server: no control characters to the terminal */
    for (char *p = msg; *p; p++)
        if ((unsigned char)*p < ' ' || *p == 0x7f)
            *p = '?';
    fprintf(stderr, "ferry: warning: CI was not notified: %s\n", msg);
    return 0;
}

static enum ferr_code read_key(const char *path, struct buf *key,
                               struct ferr *err)
{
    FILE *f = fopen(path, "re");
    enum ferr_code rc;

    if (!f)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", path,
                        strerror(errno));
    rc = read_stream(f, key, err);
    fclose(f);
    if (rc)
        ferr_prefix(err, "key file '%s'", path);
    /* an editor's final newline is not part of the key */
    while (!rc && key->len &&
           (key->p[key->len - 1] == '\n' || key->p[key->len - 1] == '\r'))
        key->p[--key->len] = '\0';
    if (!rc && key->len == 0)
        rc = ferr_set(err, FERR_INVALID, NULL, "key file '%s' is empty", path);
    return rc;
}

int cli_hook_notify(int argc, char **argv)
{
    const struct remote_verb v = {"hook-notify",
                                  "ferry hook-notify --server URL "
                                  "--repo NAME --key-file F "
                                  "< post-receive input"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL, *key_file = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {"--key-file", NULL, REMOTE_OPT_STR, &key_file},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *headers[4] = {"Content-Type: text/plain",
                              "Accept: application/json", NULL, NULL};
    unsigned char mac[32];
    char sig[sizeof("X-Ferry-Signature-256: sha256=") + 64];
    struct client *c = NULL;
    struct buf body, key, path, ans;
    struct ferr err;
    json_t *j = NULL;
    long status = 0;
    size_t npos;
    int rc;
    int o;

    buf_init(&body, LIM_HOOK_BODY);
    buf_init(&key, LIM_SECRET_BYTES);
    buf_init(&path, LIM_URL);
    buf_init(&ans, LIM_API_BODY);
    ferr_clear(&err);
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        goto done;
    if (!repo || !key_file) {
        rc = remote_usage(&v, "--repo and --key-file are required");
        goto done;
    }
    rc = 0;
    if (read_stream(stdin, &body, &err)) {
        hook_warn("the push's ref list: %s", err.msg);
        goto done;
    }
    if (body.len == 0)
        goto done; /* nothing was pushed */
    if (read_key(key_file, &key, &err)) {
        hook_warn("%s", err.msg);
        goto done;
    }
    crypto_hmac_sha256(key.p, key.len, body.p, body.len, mac);
    o = snprintf(sig, sizeof(sig), "X-Ferry-Signature-256: sha256=");
    for (size_t i = 0; i < sizeof(mac); i++)
        o += snprintf(sig + o, sizeof(sig) - (size_t)o, "%02x", mac[i]);
    headers[2] = sig;
    /* the hook's signature is its credential: no token from the env */
    if (client_new(cm.server, cm.token ? cm.token : "", &c, &err)) {
        hook_warn("%s", err.msg);
        goto done;
    }
    client_set_timeout(c, HOOK_TIMEOUT_MS);
    if (!remote_path_fmt(&path, "/hooks/git?repo=") ||
        !remote_path_esc(&path, repo))
        goto done;
    if (client_request(c, "POST", buf_cstr(&path), body.p, body.len, headers,
                       &status, &ans, &err)) {
        hook_warn("%s", err.msg);
        goto done;
    }
    j = json_loadb(ans.p ? ans.p : "", ans.len, 0, NULL);
    if (status < 200 || status >= 300) {
        const char *e = remote_jstr(j, "error", NULL);

        hook_warn("%s (HTTP %ld)", e ? e : "the server refused it", status);
        goto done;
    }
    printf("ferry: queued %zu run(s)\n",
           json_array_size(json_object_get(j, "runs")));
done:
    explicit_bzero(mac, sizeof(mac));
    if (key.p)
        explicit_bzero(key.p, key.cap);
    buf_release(&body);
    buf_release(&key);
    buf_release(&path);
    buf_release(&ans);
    json_decref(j);
    client_free(c);
    return rc;
}
