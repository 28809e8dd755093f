/* worker: one attempt of one run, carried by a `ferry __run` process.
 * The server hands it the run's spec (secrets included) as the first line
 * on its stdin, then one byte per job slot it grants, and reads its
 * event stream (JSON lines) from a pipe: every
 * job and step transition becomes a store transaction, every log line
 * is appended to the attempt's log file (written before it is shown to
 * anyone: what a follower saw survives a kill -9) and pushed to live
 * followers.  It does not decide what runs: queue.c does. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "engine/cjob.h"
#include "exec/artifact.h"
#include "exec/proc.h"
#include "exec/workspace.h"
#include "git/mirror.h"
#include "server/server.h"
#include "server/sse.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

struct jobrow {
    char *key;     /* the job instance's key ("0-wf-test-2") */
    char *name;    /* its display name */
    int64_t id;    /* store id, 0 when the store refused it */
    bool finished; /* its slot was given back */
    char *group;   /* its open ::group:: title, or NULL */
};

struct worker {
    struct worker *next;
    struct server *s;
    int64_t run_id;
    int attempt;
    pid_t pid;
    int out_fd; /* events from the worker, -1 after EOF */
    bool exited;
    int wstatus;
    char *tag;
    char *group; /* concurrency group or NULL */
    int log_fd;
    char *log_path;
    uint64_t lines; /* lines in the log so far */
    struct buf in;  /* a partial event line */
    struct buf out; /* log bytes of this batch, written at its end */
    struct jobrow *jobs;
    size_t njobs;
    char *conclusion; /* from run.finished, or NULL */
    char *reason;     /* from run.error, or NULL */
    bool cancelled;
    struct loop_timer *grace; /* SIGKILL when cancel takes too long */
    int gate_fd;       /* the worker's stdin: spec, then slot grants */
    unsigned held;     /* job slots granted and not yet given back */
    uint64_t want_seq; /* > 0: waiting for a slot since then */
};

static void spare_release(struct server *s, bool kill_it);

struct sub {
    struct sub *next;
    struct server *s;
    struct httpd_stream *st;
    int64_t run_id;
    int64_t job_id; /* 0 = every job */
    json_t *names;  /* job id (string) -> display name */
};

int64_t worker_run_id(const struct worker *w)
{
    return w->run_id;
}

int worker_attempt(const struct worker *w)
{
    return w->attempt;
}

char *worker_log_path(const struct server *s, int64_t run_id, int attempt)
{
    return xasprintf("%s/logs/%" PRId64 "/%d.log", s->home, run_id, attempt);
}

char *worker_tag(int64_t run_id, int attempt, const char *nonce)
{
    return xasprintf("FERRY_ATTEMPT=%" PRId64 ".%d.%s", run_id, attempt, nonce);
}

struct worker *worker_find(struct server *s, int64_t run_id)
{
    for (struct worker *w = s->workers; w; w = w->next)
        if (w->run_id == run_id)
            return w;
    return NULL;
}

struct worker *worker_next(const struct worker *w)
{
    return w->next;
}

const char *worker_group(const struct worker *w)
{
    return w->group;
}

/* ---------- live followers ---------- */

static void sub_send(struct sub *sb, const char *id, const char *event,
                     json_t *data)
{
    struct buf b;
    char *d = json_dumps(data, JSON_COMPACT);

    buf_init(&b, LIM_LOG_LINE * 8);
    if (d && sse_format(&b, id, event, d) == FERR_OK &&
        httpd_stream_write(sb->st, b.p, b.len))
        httpd_stream_end(sb->st); /* too slow: it can resume by id */
    buf_release(&b);
    free(d);
    json_decref(data);
}

static json_t *line_json(struct sub *sb, int64_t job, int64_t ms,
                         const char *text, size_t len)
{
    char key[32];
    json_t *name;

    snprintf(key, sizeof(key), "%" PRId64, job);
    name = json_object_get(sb->names, key);
    return json_pack("{s:I, s:O, s:o, s:o}", "job", (json_int_t)job, "job_name",
                     name ? name : json_null(), "t", api_time(ms), "text",
                     json_lossy_stringn(text, len));
}

static void sub_unlink(struct sub *sb)
{
    struct sub **pp = &sb->s->subs;

    while (*pp && *pp != sb)
        pp = &(*pp)->next;
    if (*pp)
        *pp = sb->next;
}

static void sub_closed(void *ud)
{
    struct sub *sb = ud;

    sub_unlink(sb);
    json_decref(sb->names);
    free(sb);
}

static void subs_line(struct worker *w, int64_t job, int64_t ms,
                      const char *text, size_t len)
{
    char id[32];

    snprintf(id, sizeof(id), "%d.%" PRIu64, w->attempt, w->lines);
    for (struct sub *sb = w->s->subs, *next; sb; sb = next) {
        next = sb->next;
        if (sb->run_id != w->run_id || (sb->job_id && sb->job_id != job))
            continue;
        sub_send(sb, id, "line", line_json(sb, job, ms, text, len));
    }
}

static void subs_job(struct server *s, int64_t run_id, int64_t job,
                     const char *name, const char *status,
                     const char *conclusion)
{
    for (struct sub *sb = s->subs, *next; sb; sb = next) {
        next = sb->next;
        if (sb->run_id != run_id || (sb->job_id && sb->job_id != job))
            continue;
        {
            char key[32];

            snprintf(key, sizeof(key), "%" PRId64, job);
            json_object_set_new(sb->names, key, json_string(name));
        }
        sub_send(sb, NULL, "job",
                 json_pack("{s:I, s:s, s:s, s:s?}", "job", (json_int_t)job,
                           "name", name, "status", status, "conclusion",
                           conclusion));
    }
}

void sub_end_run(struct server *s, int64_t run_id, const char *conclusion)
{
    for (struct sub *sb = s->subs, *next; sb; sb = next) {
        next = sb->next;
        if (sb->run_id != run_id)
            continue;
        sub_send(sb, NULL, "end",
                 json_pack("{s:s, s:s?}", "status", "completed", "conclusion",
                           conclusion));
        httpd_stream_end(sb->st);
    }
}

/* Event ids are ATTEMPT.LINE: a client that saw lines of an earlier
 * attempt gets all of the current one; of this attempt, those after
 * LINE.  A bare number (or ?after=N) means a line of the current one. */
static uint64_t resume_after(const char *last_id, int attempt)
{
    const char *dot = last_id ? strchr(last_id, '.') : NULL;
    uint64_t a = 0, n = 0;

    if (!last_id)
        return 0;
    if (!dot)
        return span_to_u64(span_cstr(last_id), &n) ? 0 : n;
    if (span_to_u64(span_of(last_id, (size_t)(dot - last_id)), &a) ||
        span_to_u64(span_cstr(dot + 1), &n) || a != (uint64_t)attempt)
        return 0;
    return n;
}

/* Parse "MS\tJOB\tTEXT" (TEXT may hold tabs). */
static bool parse_log_line(const char *p, size_t len, int64_t *ms, int64_t *job,
                           const char **text, size_t *tlen)
{
    const char *t1 = memchr(p, '\t', len);
    const char *t2 =
        t1 ? memchr(t1 + 1, '\t', len - (size_t)(t1 + 1 - p)) : NULL;
    uint64_t a, b;

    if (!t2 || span_to_u64(span_of(p, (size_t)(t1 - p)), &a) ||
        span_to_u64(span_of(t1 + 1, (size_t)(t2 - t1 - 1)), &b))
        return false;
    *ms = (int64_t)a;
    *job = (int64_t)b;
    *text = t2 + 1;
    *tlen = len - (size_t)(t2 + 1 - p);
    return true;
}

void sub_start(struct server *s, struct httpd_req *req, int64_t run_id,
               int64_t job_id, int attempt, const char *last_id)
{
    uint64_t after = 0;
    bool past;
    struct sub *sb = xcalloc(1, sizeof(*sb));
    struct httpd_stream *st;
    struct store_run r;
    struct store_job *jobs = NULL;
    size_t njobs = 0;
    struct ferr err;
    char *path = NULL;
    char *data = NULL;
    size_t len = 0;
    uint64_t n = 0;

    memset(&r, 0, sizeof(r));
    ferr_clear(&err);
    sb->s = s;
    httpd_req_add_header(req, "X-Accel-Buffering", "no");
    st = httpd_respond_stream(req, 200, "text/event-stream", sub_closed, sb);
    sb->st = st;
    sb->run_id = run_id;
    sb->job_id = job_id;
    sb->names = json_object();
    sb->next = s->subs;
    s->subs = sb;
    if (store_run_get(s->store, run_id, &r, &err)) {
        httpd_stream_end(st);
        goto done;
    }
    if (store_job_list(s->store, run_id, 0, &jobs, &njobs, &err) == FERR_OK)
        for (size_t i = 0; i < njobs; i++) {
            char key[32];

            snprintf(key, sizeof(key), "%" PRId64, jobs[i].id);
            json_object_set_new(sb->names, key, json_string(jobs[i].name));
        }
    /* an earlier attempt is over: its lines, then the end */
    past = attempt > 0 && attempt != r.attempt;
    if (!past)
        attempt = r.attempt;
    after = resume_after(last_id, attempt);
    path = worker_log_path(s, run_id, attempt);
    /* everything written so far is in the file: writes are synchronous
     * on this thread, so no line can slip between this read and the
     * live feed */
    if (workspace_read_file(path, (size_t)64 << 20, &data, &len, &err) ==
        FERR_OK) {
        char id[32];
        size_t off = 0;

        while (off < len) {
            const char *nl = memchr(data + off, '\n', len - off);
            size_t l = nl ? (size_t)(nl - (data + off)) : len - off;
            int64_t ms, job;
            const char *text;
            size_t tlen;

            n++;
            if (httpd_stream_pending(st) > LIM_SSE_BACKLOG / 2) {
                /* a long log: send what fits, end cleanly; the client
                 * resumes from the last id it got */
                httpd_stream_end(st);
                goto done;
            }
            if (n > after &&
                parse_log_line(data + off, l, &ms, &job, &text, &tlen) &&
                (!job_id || job == job_id)) {
                snprintf(id, sizeof(id), "%d.%" PRIu64, attempt, n);
                sub_send(sb, id, "line", line_json(sb, job, ms, text, tlen));
            }
            off += l + 1;
        }
    }
    if (past) {
        sub_send(sb, NULL, "end",
                 json_pack("{s:s, s:i}", "status", "completed", "attempt",
                           attempt));
        httpd_stream_end(st);
    } else if (strcmp(r.status, "completed") == 0) {
        sub_send(sb, NULL, "end",
                 json_pack("{s:s, s:s?}", "status", r.status, "conclusion",
                           r.conclusion));
        httpd_stream_end(st);
    }
done:
    free(data);
    free(path);
    store_jobs_free(jobs, njobs);
    store_run_release(&r);
}

/* ---------- job slots ---------- */

/* One slot to @w: a byte on its stdin. */
static void grant(struct worker *w)
{
    ssize_t n;

    w->want_seq = 0;
    w->held++;
    w->s->slots_used++;
    do
        n = write(w->gate_fd, "+", 1);
    while (n < 0 && errno == EINTR);
    if (n != 1)
        log_warn("cannot grant a slot run=%" PRId64 " err='%s'", w->run_id,
                 strerror(errno));
}

/* Free slots go to the workers that asked, longest waiting first. */
static void pump(struct server *s)
{
    while (s->slots_used < s->slots) {
        struct worker *best = NULL;

        for (struct worker *w = s->workers; w; w = w->next)
            if (w->want_seq && (!best || w->want_seq < best->want_seq))
                best = w;
        if (!best)
            break;
        grant(best);
    }
}

static void want(struct worker *w)
{
    if (w->want_seq)
        return;
    w->want_seq = ++w->s->want_seq;
    pump(w->s);
}

static void give_back(struct worker *w, unsigned n)
{
    if (n > w->held)
        n = w->held;
    w->held -= n;
    w->s->slots_used -= n;
    pump(w->s);
}

/* ---------- the event stream ---------- */

static struct jobrow *job_row(struct worker *w, const char *key)
{
    for (size_t i = 0; i < w->njobs; i++)
        if (strcmp(w->jobs[i].key, key) == 0)
            return &w->jobs[i];
    return NULL;
}

static const char *jstr(const json_t *o, const char *k)
{
    const char *v = json_string_value(json_object_get(o, k));

    return v ? v : "";
}

static char *dump_or_null(const json_t *v)
{
    return v && !json_is_null(v) ? json_dumps(v, JSON_COMPACT) : NULL;
}

static void flush_log(struct worker *w)
{
    size_t off = 0;

    while (off < w->out.len) {
        ssize_t n = write(w->log_fd, w->out.p + off, w->out.len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_err("cannot write log path='%s' err='%s'", w->log_path,
                    strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    buf_reset(&w->out);
}

static void log_line(struct worker *w, int64_t job, int64_t ms,
                     const char *text, size_t len)
{
    const char *nl;

    /* a line never holds a newline: the engine split them already */
    while ((nl = memchr(text, '\n', len)))
        len = (size_t)(nl - text);
    if (buf_addf(&w->out, "%" PRId64 "\t%" PRId64 "\t%.*s\n", ms, job, (int)len,
                 text)) {
        flush_log(w);
        if (buf_addf(&w->out, "%" PRId64 "\t%" PRId64 "\t%.*s\n", ms, job,
                     (int)len, text))
            return;
    }
    w->lines++;
}

/* A job's output line, to the log and its followers.  ::group:: stays in
 * the log as marker lines (the dashboard folds them): a group's title
 * line goes in as "::group::TITLE", and "::endgroup::" comes before the
 * first line outside it. */
static void job_line(struct worker *w, struct jobrow *row, int64_t id,
                     int64_t ms, const char *group, const char *text,
                     size_t len)
{
    if (row && row->group && (!group || strcmp(group, row->group) != 0)) {
        log_line(w, id, ms, "::endgroup::", 12);
        subs_line(w, id, ms, "::endgroup::", 12);
        free(row->group);
        row->group = NULL;
    }
    if (row && group && !row->group) {
        char *t = xasprintf("::group::%.*s", (int)len, text);

        row->group = xstrdup(group);
        log_line(w, id, ms, t, strlen(t));
        subs_line(w, id, ms, t, strlen(t));
        free(t);
        return;
    }
    log_line(w, id, ms, text, len);
    subs_line(w, id, ms, text, len);
}

void worker_say(struct worker *w, const char *text)
{
    struct timespec ts;
    int64_t ms;

    clock_gettime(CLOCK_REALTIME, &ts);
    ms = (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
    log_line(w, 0, ms, text, strlen(text));
    subs_line(w, 0, ms, text, strlen(text));
    flush_log(w);
}

void worker_send(struct worker *w, json_t *msg)
{
    char *text = json_dumps(msg, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    size_t off = 0;

    /* one line; a pipe takes a short message whole */
    while (text && off <= len) {
        ssize_t n = off < len ? write(w->gate_fd, text + off, len - off)
                              : write(w->gate_fd, "\n", 1);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            log_warn("cannot answer the worker run=%" PRId64 " err='%s'",
                     w->run_id, strerror(errno));
            break;
        }
        off += (size_t)n;
        if (off == len + 1)
            break;
    }
    free(text);
}

static void on_event(struct worker *w, json_t *ev)
{
    struct server *s = w->s;
    const char *type = jstr(ev, "type");
    const char *job = jstr(ev, "job");
    const char *name = jstr(ev, "job_name");
    int64_t ms = (int64_t)json_integer_value(json_object_get(ev, "time_ms"));
    const char *key = jstr(ev, "job_key");
    struct jobrow *row = *key ? job_row(w, key) : NULL;
    struct ferr err;
    enum ferr_code rc = FERR_OK;

    ferr_clear(&err);
    if (strcmp(type, "slot.wanted") == 0) {
        want(w);
    } else if (strcmp(type, "environment.wanted") == 0) {
        cd_env_wanted(s, w, ev);
    } else if (strcmp(type, "job.started") == 0 && !row) {
        char *matrix = dump_or_null(json_object_get(ev, "matrix"));
        int64_t id = 0;

        rc = store_job_start(s->store, w->run_id, w->attempt, job, name, matrix,
                             w->log_path, &id, &err);
        free(matrix);
        /* the row is kept even without a store id: its end gives the
         * job's slot back */
        w->jobs = xrealloc(w->jobs, (w->njobs + 1) * sizeof(*w->jobs));
        w->jobs[w->njobs].key = xstrdup(key);
        w->jobs[w->njobs].name = xstrdup(name);
        w->jobs[w->njobs].id = id;
        w->jobs[w->njobs].finished = false;
        w->jobs[w->njobs].group = NULL;
        w->njobs++;
        if (!rc)
            subs_job(s, w->run_id, id, name, "running", NULL);
    } else if (strcmp(type, "job.finished") == 0) {
        char *outputs = dump_or_null(json_object_get(ev, "outputs"));
        const char *concl = jstr(ev, "conclusion");
        const char *reason = json_string_value(json_object_get(ev, "reason"));
        int64_t id = 0;

        if (row && !row->finished) {
            id = row->id;
            row->finished = true;
            give_back(w, 1);
            if (id)
                rc = store_job_finish(s->store, row->id, concl, reason,
                                      outputs, &err);
        } else {
            char *matrix = dump_or_null(json_object_get(ev, "matrix"));

            rc =
                store_job_add_completed(s->store, w->run_id, w->attempt, job,
                                        name, matrix, concl, reason, &id, &err);
            free(matrix);
        }
        free(outputs);
        cd_job_finished(s, w, key, concl);
        telemetry_job(s, concl,
                      (int64_t)json_integer_value(
                          json_object_get(ev, "duration_ms")));
        if (!rc)
            subs_job(s, w->run_id, id, name, "completed", concl);
    } else if (strcmp(type, "step.started") == 0 && row) {
        int64_t id;

        rc = store_step_start(
            s->store, row->id,
            (int)json_integer_value(json_object_get(ev, "step")) + 1,
            jstr(ev, "step_name"), &id, &err);
    } else if (strcmp(type, "step.finished") == 0 && row) {
        rc = store_step_finish(
            s->store, row->id,
            (int)json_integer_value(json_object_get(ev, "step")) + 1,
            jstr(ev, "step_name"), jstr(ev, "conclusion"), &err);
    } else if (strcmp(type, "log") == 0) {
        json_t *line = json_object_get(ev, "line");
        int64_t id = row ? row->id : 0;

        job_line(w, row, id, ms,
                 json_string_value(json_object_get(ev, "group")),
                 json_string_value(line), json_string_length(line));
    } else if (strcmp(type, "annotation") == 0) {
        const char *file = json_string_value(json_object_get(ev, "file"));
        char *text;

        if (file)
            text = xasprintf(
                "%s: %s (%s:%" PRId64 ")", jstr(ev, "level"),
                jstr(ev, "message"), file,
                (int64_t)json_integer_value(json_object_get(ev, "line")));
        else
            text = xasprintf("%s: %s", jstr(ev, "level"), jstr(ev, "message"));
        log_line(w, row ? row->id : 0, ms, text, strlen(text));
        subs_line(w, row ? row->id : 0, ms, text, strlen(text));
        free(text);
    } else if (strcmp(type, "report") == 0) {
        json_t *step = json_object_get(ev, "step");

        rc = store_report_add(s->store, w->run_id, w->attempt,
                              jstr(ev, "job_key"),
                              step ? (int)json_integer_value(step) : -1,
                              json_object_get(ev, "report"), &err);
    } else if (strcmp(type, "workflow.skipped") == 0) {
        free(w->reason);
        w->reason = xstrdup(jstr(ev, "reason"));
    } else if (strcmp(type, "run.finished") == 0) {
        free(w->conclusion);
        w->conclusion = xstrdup(jstr(ev, "conclusion"));
    } else if (strcmp(type, "run.error") == 0) {
        free(w->reason);
        w->reason = xstrdup(jstr(ev, "reason"));
    }
    if (rc)
        log_err("cannot record event run=%" PRId64 " type='%s' err='%s'",
                w->run_id, type, err.msg);
}

static void on_text(struct worker *w, const char *p, size_t len)
{
    json_error_t je;
    json_t *ev;

    if (len == 0)
        return;
    if (p[0] != '{') {
        /* the engine's own log lines (stderr) */
        log_warn("worker run=%" PRId64 " said='%.*s'", w->run_id,
                 (int)(len > 400 ? 400 : len), p);
        return;
    }
    ev = json_loadb(p, len, JSON_ALLOW_NUL, &je);
    if (!json_is_object(ev))
        log_warn("worker run=%" PRId64 " sent a bad event err='%s'", w->run_id,
                 je.text);
    else
        on_event(w, ev);
    json_decref(ev);
}

static void worker_unlink(struct worker *w)
{
    struct worker **pp = &w->s->workers;

    while (*pp && *pp != w)
        pp = &(*pp)->next;
    if (*pp) {
        *pp = w->next;
        w->s->nworkers--;
    }
    /* what it held is free for the others */
    w->s->slots_used -= w->held;
    w->held = 0;
    w->want_seq = 0;
    pump(w->s);
}

static void worker_free(struct worker *w)
{
    cd_worker_gone(w->s, w);
    for (size_t i = 0; i < w->njobs; i++) {
        free(w->jobs[i].key);
        free(w->jobs[i].name);
        free(w->jobs[i].group);
    }
    free(w->jobs);
    buf_release(&w->in);
    buf_release(&w->out);
    if (w->log_fd >= 0)
        close(w->log_fd);
    if (w->gate_fd >= 0)
        close(w->gate_fd);
    loop_timer_free(w->grace);
    free(w->log_path);
    free(w->tag);
    free(w->group);
    free(w->conclusion);
    free(w->reason);
    free(w);
}

/* The artifacts the attempt uploaded go on the run's record. */
static void record_artifacts(struct worker *w)
{
    struct artifact_store *as = NULL;
    struct artifact_info *v = NULL;
    size_t n = 0;
    struct ferr err;
    char scope[32];

    ferr_clear(&err);
    snprintf(scope, sizeof(scope), "%" PRId64, w->run_id);
    if (artifact_store_open(w->s->home, &as, &err) == FERR_OK &&
        artifact_list(as, scope, &v, &n, &err) == FERR_OK)
        for (size_t i = 0; i < n; i++) {
            char *path = xasprintf("%s/artifacts/%s/%s.json", w->s->home, scope,
                                   v[i].name);

            if (store_artifact_add(w->s->store, w->run_id, v[i].name, path,
                                   (int64_t)v[i].bytes, &err))
                log_err("artifact not recorded run=%" PRId64 " err='%s'",
                        w->run_id, err.msg);
            free(path);
        }
    artifact_infos_free(v, n);
    artifact_store_free(as);
}

/* Both the pipe's EOF and the exit have been seen: record the end. */
static void maybe_done(struct worker *w)
{
    struct server *s = w->s;
    struct ferr err;
    const char *concl = w->conclusion;
    char *why = NULL;

    if (!w->exited || w->out_fd >= 0)
        return;
    flush_log(w);
    /* nothing of the attempt outlives it, not even what left the
     * worker's tree */
    for (int round = 0; round < 100; round++)
        if (proc_kill_tagged_anywhere(w->tag, SIGKILL) == 0)
            break;
    if (!concl || !*concl || strcmp(concl, "") == 0) {
        concl = w->cancelled ? "cancelled" : "failure";
        if (w->reason)
            why = xstrdup(w->reason);
        else if (WIFSIGNALED(w->wstatus))
            why = xasprintf("the worker was killed by signal %d",
                            WTERMSIG(w->wstatus));
        else
            why = xasprintf("the worker exited with status %d",
                            WEXITSTATUS(w->wstatus));
    } else if (w->reason) {
        why = xstrdup(w->reason);
    }
    record_artifacts(w);
    ferr_clear(&err);
    if (store_run_finish(s->store, w->run_id, concl, why, &err)) {
        log_err("cannot finish run=%" PRId64 " err='%s'", w->run_id, err.msg);
    } else {
        struct store_run done;

        memset(&done, 0, sizeof(done));
        if (store_run_get(s->store, w->run_id, &done, &err) == FERR_OK &&
            done.conclusion) { /* a retried attempt is not an end */
            telemetry_run(s, &done);
            runalert_run_done(s, &done);
        }
        store_run_release(&done);
    }
    log_info("run finished run=%" PRId64 " attempt=%d conclusion='%s'",
             w->run_id, w->attempt, concl);
    sub_end_run(s, w->run_id, concl);
    free(why);
    worker_unlink(w);
    worker_free(w);
    /* an idle server gives back what the busy one used */
    if (!s->workers)
        malloc_trim(0);
    queue_kick(s);
}

static void on_out(struct loop *l, int fd, unsigned events, void *ud)
{
    struct worker *w = ud;
    char chunk[65536];
    ssize_t n;

    (void)events;
    for (int rounds = 0; rounds < 16; rounds++) {
        n = read(fd, chunk, sizeof(chunk));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            break;
        if (n <= 0) {
            if (w->in.len)
                on_text(w, w->in.p, w->in.len);
            buf_reset(&w->in);
            loop_del_fd(l, fd);
            close(fd);
            w->out_fd = -1;
            break;
        }
        {
            size_t off = 0;

            while (off < (size_t)n) {
                const char *nl = memchr(chunk + off, '\n', (size_t)n - off);
                size_t take =
                    nl ? (size_t)(nl - (chunk + off)) : (size_t)n - off;

                if (w->in.len) {
                    if (buf_add(&w->in, chunk + off, take))
                        buf_reset(&w->in); /* an absurd line: drop it */
                    if (nl) {
                        on_text(w, w->in.p, w->in.len);
                        buf_reset(&w->in);
                    }
                } else if (nl) {
                    on_text(w, chunk + off, take);
                } else if (buf_add(&w->in, chunk + off, take)) {
                    buf_reset(&w->in);
                }
                off += take + (nl ? 1 : 0);
            }
        }
    }
    /* one write per batch; then followers may have seen these lines */
    flush_log(w);
    maybe_done(w);
}

bool worker_reaped(struct server *s, pid_t pid, int status)
{
    if (pid == s->spare.pid) {
        /* the spare died idle (killed by someone): make another later */
        log_warn("spare worker exited pid=%d status=%d", (int)pid, status);
        spare_release(s, false);
        return true;
    }
    for (struct worker *w = s->workers; w; w = w->next)
        if (w->pid == pid) {
            w->exited = true;
            w->wstatus = status;
            /* a worker killed by a signal never tore its job containers
             * down: they are orphans now (their owner is dead), so reap
             * them at once rather than at the next start or set-up */
            if (WIFSIGNALED(status))
                cjob_reap_orphans();
            maybe_done(w);
            return true;
        }
    return false;
}

static void on_grace(struct loop *l, struct loop_timer *t, void *ud)
{
    struct worker *w = ud;

    (void)l;
    (void)t;
    /* the engine had its grace for every job; now nothing waits */
    proc_kill_tagged_anywhere(w->tag, SIGKILL);
}

void worker_cancel(struct worker *w)
{
    /* an exited worker's pid may be someone else's already */
    if (w->cancelled || w->exited)
        return;
    w->cancelled = true;
    kill(w->pid, SIGTERM);
    if (!w->grace)
        w->grace = loop_timer_new(w->s->loop, on_grace, w);
    if (w->grace)
        loop_timer_arm(w->grace, 60 * 1000);
}

void worker_stop_all(struct server *s)
{
    struct worker *w;

    s->slots = 0; /* grant nothing more */
    spare_release(s, true);
    while ((w = s->workers)) {
        s->workers = w->next;
        kill(w->pid, SIGTERM);
        if (w->out_fd >= 0) {
            loop_del_fd(s->loop, w->out_fd);
            close(w->out_fd);
        }
        flush_log(w);
        worker_free(w);
    }
    s->nworkers = 0;
}

/* ---------- start ---------- */

static char **env_with(const char *extra)
{
    size_t n = 0;
    char **v;

    while (environ[n])
        n++;
    v = xcalloc(n + 2, sizeof(*v));
    for (size_t i = 0, k = 0; i < n; i++)
        if (strncmp(environ[i], "FERRY_ATTEMPT=", 14) != 0)
            v[k++] = environ[i];
    for (size_t i = 0; i < n + 1; i++)
        if (!v[i]) {
            v[i] = (char *)extra;
            break;
        }
    return v;
}

static enum ferr_code secrets_json(struct server *s, const struct store_run *r,
                                   json_t **out, struct ferr *err)
{
    struct store_secret *v = NULL;
    size_t n = 0;
    enum ferr_code rc;

    *out = json_object();
    rc = store_secret_load(s->store, r->repo_id, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char *aad = xasprintf("secret:%s:%s", r->repo, v[i].name);
        char *plain = NULL;
        size_t len = 0;

        rc = crypto_open(&s->key, v[i].blob, v[i].len, aad, &plain, &len, err);
        free(aad);
        if (!rc)
            json_object_set_new(*out, v[i].name,
                                json_lossy_stringn(plain, len));
        if (plain) {
            explicit_bzero(plain, len);
            free(plain);
        }
    }
    store_secrets_free(v, n);
    return rc;
}

/* The spec goes down the worker's stdin as one line (never on disk, on
 * argv or in the environment); the pipe then carries slot grants.  The
 * worker is reading it already, so a large spec does not block long. */
static enum ferr_code send_spec(int fd, json_t *spec, struct ferr *err)
{
    char *text = json_dumps(spec, JSON_COMPACT);
    size_t len = text ? strlen(text) : 0;
    size_t off = 0;
    enum ferr_code rc = FERR_OK;

    if (!text)
        return ferr_set(err, FERR_IO, NULL, "cannot encode the spec");
    text[len++] = '\0';
    text[len - 1] = '\n'; /* JSON_COMPACT never holds a newline */
    while (off < len) {
        ssize_t n = write(fd, text + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot send the spec: %s",
                          strerror(errno));
            break;
        }
        off += (size_t)n;
    }
    explicit_bzero(text, len);
    free(text);
    if (!rc)
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
    return rc;
}

/* A `ferry __run` process, its stdin (spec, then slot grants) and its
 * event pipe, tagged with a fresh FERRY_ATTEMPT value. */
static enum ferr_code spawn(struct server *s, pid_t *out_pid, int *out_fd,
                            int *out_gate, char **out_tag, struct ferr *err)
{
    char *argv[] = {s->ferry_bin, "__run", NULL};
    char nonce[65];
    int pfd[2] = {-1, -1};
    struct proc_spec ps;
    char **envp = NULL;
    enum ferr_code rc;

    *out_pid = -1;
    *out_fd = -1;
    *out_gate = -1;
    *out_tag = NULL;
    rc = crypto_token_hex(nonce);
    if (rc)
        return ferr_set(err, rc, NULL, "no randomness: %s", strerror(errno));
    nonce[24] = '\0';
    if (pipe2(pfd, O_CLOEXEC) != 0)
        return ferr_set(err, FERR_IO, NULL, "pipe: %s", strerror(errno));
    *out_tag = xasprintf("FERRY_ATTEMPT=%s", nonce);
    envp = env_with(*out_tag);
    memset(&ps, 0, sizeof(ps));
    ps.path = s->ferry_bin;
    ps.argv = argv;
    ps.envp = envp;
    ps.cwd = s->home;
    ps.stdin_fd = pfd[0];
    rc = proc_spawn(&ps, out_pid, out_fd, err);
    close(pfd[0]);
    free(envp);
    if (rc) {
        close(pfd[1]);
        free(*out_tag);
        *out_tag = NULL;
        return rc;
    }
    *out_gate = pfd[1];
    return FERR_OK;
}

static void on_spare(struct loop *l, struct loop_timer *t, void *ud)
{
    struct server *s = ud;
    struct ferr err;

    (void)l;
    (void)t;
    if (s->spare.pid > 0 || s->stopping)
        return;
    ferr_clear(&err);
    if (spawn(s, &s->spare.pid, &s->spare.out_fd, &s->spare.gate_fd,
              &s->spare.tag, &err)) {
        log_warn("no spare worker err='%s'", err.msg);
        memset(&s->spare, 0, sizeof(s->spare));
    }
}

void worker_prepare_spare(struct server *s)
{
    if (!s->spare_timer)
        s->spare_timer = loop_timer_new(s->loop, on_spare, s);
    if (s->spare_timer)
        loop_timer_arm(s->spare_timer, 0);
}

static void spare_release(struct server *s, bool kill_it)
{
    if (s->spare.pid > 0 && kill_it)
        kill(s->spare.pid, SIGKILL);
    if (s->spare.out_fd > 0)
        close(s->spare.out_fd);
    if (s->spare.gate_fd > 0)
        close(s->spare.gate_fd);
    free(s->spare.tag);
    memset(&s->spare, 0, sizeof(s->spare));
}

enum ferr_code worker_start(struct server *s, const struct store_run *r,
                            struct ferr *err)
{
    struct worker *w = xcalloc(1, sizeof(*w));
    char *mirror = queue_mirror_path(s, r->repo_id);
    char *src = xasprintf("%s/src/%" PRId64 "/%s", s->home, r->repo_id, r->sha);
    char *wfpath = xasprintf("%s/%s", src, r->workflow);
    char *logdir = xasprintf("%s/logs/%" PRId64, s->home, r->id);
    char run_id[32], number[32], attempt[32];
    json_t *spec = NULL;
    json_t *secrets = NULL;
    json_t *payload = NULL;
    struct stat st;
    const char *full;
    char *fullbuf = NULL;
    enum ferr_code rc;

    w->s = s;
    w->gate_fd = -1;
    w->run_id = r->id;
    w->attempt = r->attempt;
    w->out_fd = -1;
    w->log_fd = -1;
    w->group = r->concurrency ? xstrdup(r->concurrency) : NULL;
    buf_init(&w->in, LIM_EVENT_BYTES);
    buf_init(&w->out, 1024 * 1024);
    /* the source is shared by the runs of one commit; a restart may
     * find it gone (the home was cleaned): make it again */
    if (stat(src, &st) != 0) {
        char *parent = xasprintf("%s/src/%" PRId64, s->home, r->repo_id);

        rc = workspace_mkdirs(parent, err);
        free(parent);
        if (!rc)
            rc = mirror_checkout(mirror, r->sha, src, err);
        if (rc)
            goto done;
    }
    rc = workspace_mkdirs(logdir, err);
    if (rc)
        goto done;
    w->log_path = worker_log_path(s, r->id, r->attempt);
    w->log_fd =
        open(w->log_path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0640);
    if (w->log_fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", w->log_path,
                      strerror(errno));
        goto done;
    }
    rc = secrets_json(s, r, &secrets, err);
    if (rc)
        goto done;
    payload = json_loads(r->payload ? r->payload : "{}", 0, NULL);
    if (!json_is_object(payload)) {
        json_decref(payload);
        payload = json_object();
    }
    full = json_string_value(
        json_object_get(json_object_get(payload, "repository"), "full_name"));
    if (!full)
        full = fullbuf = xasprintf("local/%s", r->repo);
    snprintf(run_id, sizeof(run_id), "%" PRId64, r->id);
    snprintf(number, sizeof(number), "%" PRId64, r->number);
    snprintf(attempt, sizeof(attempt), "%d", r->attempt);
    spec = json_pack("{s:s, s:s, s:O, s:s, s:o, s:s, s:s, s:s, s:s, s:s, "
                     "s:s, s:b}",
                     "dir", src, "event", r->event, "payload", payload,
                     "workflow", wfpath, "secrets", secrets, "home", s->home,
                     "run_id", run_id, "run_number", number, "run_attempt",
                     attempt, "repository", full, "actor",
                     r->actor ? r->actor : "ferry", "lazy_checkout", 1);
    secrets = NULL;
    json_object_set_new(spec, "remove_workspaces", json_true());
    if (json_is_object(json_object_get(payload, "inputs")))
        json_object_set(spec, "inputs", json_object_get(payload, "inputs"));
    if (r->rerun_jobs) {
        json_t *reuse = json_loads(r->rerun_jobs, 0, NULL);

        if (json_is_object(reuse))
            json_object_set(spec, "reuse", reuse);
        json_decref(reuse);
    }
    json_object_set_new(spec, "gated", json_true());
    if (json_object_size(cjob_platforms()))
        json_object_set(spec, "platforms", (json_t *)cjob_platforms());
    if (s->spare.pid > 0 && waitpid(s->spare.pid, NULL, WNOHANG) != 0) {
        /* the spare died and was not reaped yet: do not hand it a run */
        s->spare.pid = 0;
        spare_release(s, false);
    }
    if (s->spare.pid > 0) {
        /* the worker started in advance: its start-up is already paid */
        w->pid = s->spare.pid;
        w->out_fd = s->spare.out_fd;
        w->gate_fd = s->spare.gate_fd;
        w->tag = s->spare.tag;
        memset(&s->spare, 0, sizeof(s->spare));
    } else {
        rc = spawn(s, &w->pid, &w->out_fd, &w->gate_fd, &w->tag, err);
        if (rc)
            goto done;
    }
    worker_prepare_spare(s);
    /* the tag is on record before the worker has anything to run: a
     * crash from here on finds and kills whatever it started */
    rc = store_run_start(s->store, r->id, (int)w->pid, w->tag, err);
    if (!rc)
        telemetry_run_started(s, r, server_now_ms(s));
    if (!rc)
        rc = send_spec(w->gate_fd, spec, err);
    if (!rc)
        rc = loop_add_fd(s->loop, w->out_fd, LOOP_READ, on_out, w);
    if (rc) {
        /* the attempt cannot be followed: stop it now */
        proc_signal_group(w->pid, SIGKILL);
        goto done;
    }
    log_info("run started run=%" PRId64 " attempt=%d pid=%d", r->id, r->attempt,
             (int)w->pid);
    w->next = s->workers;
    s->workers = w;
    s->nworkers++;
    w = NULL;
done:
    if (w && w->out_fd >= 0)
        close(w->out_fd);
    if (w && w->pid > 0) {
        /* spawned but not recorded: reaped by the SIGCHLD handler as an
         * unknown pid */
        w->pid = 0;
    }
    if (w)
        worker_free(w);
    json_decref(spec);
    json_decref(secrets);
    json_decref(payload);
    free(fullbuf);
    free(mirror);
    free(src);
    free(wfpath);
    free(logdir);
    return rc;
}
