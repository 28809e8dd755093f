/* serve: the lifecycle of `ferry serve` — open the home and the store,
 * recover what a crash left (runs that were running get a new attempt,
 * and every process of the lost attempt is killed by its tag), listen,
 * run the loop, stop cleanly.  What a request or a run does lives in
 * api.c, queue.c and worker.c. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "exec/proc.h"
#include "exec/workspace.h"
#include "pipeline/node.h"
#include "pipeline/wf.h"
#include "util/arena.h"
#include "util/diag.h"
#include "util/limits.h"
#include "server/serve.h"
#include "server/server.h"
#include "util/log.h"
#include "util/span.h"
#include "util/xalloc.h"

int64_t server_now_ms(const struct server *s)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000 +
           s->clock_offset_ms;
}

static void on_sigchld(struct loop *l, int signo, void *ud)
{
    struct server *s = ud;
    pid_t pid;
    int status;

    (void)l;
    (void)signo;
    /* signals coalesce: reap until nothing is left; orphans re-parented
     * to us (we are a subreaper) are reaped and forgotten */
    while ((pid = waitpid(-1, &status, WNOHANG)) > 0)
        if (!cd_reaped(s, pid, status) && !notifier_reaped(s, pid, status))
            (void)worker_reaped(s, pid, status);
}

static void on_stop(struct loop *l, int signo, void *ud)
{
    struct server *s = ud;

    log_info("stopping signal=%s", strsignal(signo));
    s->stopping = true;
    loop_stop(l);
}

static bool env_says_fail(const struct node *env)
{
    const struct node *v = node_get(env, "FERRY_ON_RESTART", NULL);

    return v && v->kind == NODE_SCALAR && v->len == 4 &&
           memcmp(v->str, "fail", 4) == 0;
}

/* A job that is not safe to run twice (a deployment, a migration) says
 * so with env FERRY_ON_RESTART: fail (on the job or the workflow): a
 * run that lost such a job while it ran fails instead of being retried. */
static bool restart_fails(struct server *s, const struct store_run *r)
{
    char *path = xasprintf("%s/src/%" PRId64 "/%s/%s", s->home, r->repo_id,
                           r->sha, r->workflow);
    struct store_job *jobs = NULL;
    size_t njobs = 0;
    struct arena *a = arena_new(16 * 1024);
    struct diags diags;
    struct ferr err;
    struct wf *wf = NULL;
    char *src = NULL;
    size_t len = 0;
    bool fail = false;

    diags_init(&diags);
    ferr_clear(&err);
    if (workspace_read_file(path, LIM_WORKFLOW_BYTES, &src, &len, &err) ||
        wf_load(a, path, span_of(src, len), &wf, &diags, &err) ||
        store_job_list(s->store, r->id, r->attempt, &jobs, &njobs, &err))
        goto done;
    fail = env_says_fail(wf->env);
    for (size_t i = 0; i < njobs && !fail; i++) {
        const struct wf_job *wj = wf_job_find(wf, jobs[i].job_key);

        if (wj && strcmp(jobs[i].status, "completed") != 0)
            fail = env_says_fail(wj->env);
    }
done:
    store_jobs_free(jobs, njobs);
    diags_release(&diags);
    arena_free(a);
    free(src);
    free(path);
    return fail;
}

/* Runs that were running when the server died: kill what is left of
 * the attempt, then retry it (or fail it). */
static void recover(struct server *s)
{
    struct store_run *v = NULL;
    size_t n = 0;
    struct ferr err;

    ferr_clear(&err);
    if (store_run_running(s->store, &v, &n, &err)) {
        log_err("cannot read running runs err='%s'", err.msg);
        return;
    }
    for (size_t i = 0; i < n; i++) {
        struct store_attempt *a = NULL;
        size_t na = 0;
        int killed = 0;

        if (store_attempt_list(s->store, v[i].id, &a, &na, &err) == FERR_OK)
            for (size_t k = 0; k < na; k++) {
                if (strcmp(a[k].status, "running") != 0 || !a[k].tag)
                    continue;
                for (int round = 0; round < 100; round++) {
                    int c = proc_kill_tagged_anywhere(a[k].tag, SIGKILL);

                    killed += c;
                    if (c == 0)
                        break;
                }
            }
        store_attempts_free(a, na);
        ferr_clear(&err);
        if (s->o.fail_on_restart || v[i].cancel_requested ||
            restart_fails(s, &v[i])) {
            if (store_run_finish(s->store, v[i].id,
                                 v[i].cancel_requested ? "cancelled"
                                                       : "failure",
                                 "server restarted", &err))
                log_err("cannot fail run=%" PRId64 " err='%s'", v[i].id,
                        err.msg);
        } else if (store_run_retry(s->store, v[i].id, "failure",
                                   "server restarted", NULL, &err)) {
            log_err("cannot retry run=%" PRId64 " err='%s'", v[i].id, err.msg);
        }
        log_warn("recovered run=%" PRId64 " attempt=%d killed=%d", v[i].id,
                 v[i].attempt, killed);
    }
    store_runs_free(v, n);
}

static enum ferr_code init_token(struct server *s, struct ferr *err)
{
    char tok[65], hash[65];
    int64_t count = 0, id = 0;
    enum ferr_code rc = store_token_count(s->store, &count, err);

    if (rc)
        return rc;
    if (count > 0) {
        fprintf(stderr, "ferry serve: already initialised: the admin token "
                        "was printed when the home was made\n");
        return FERR_OK;
    }
    rc = crypto_token_hex(tok);
    if (rc)
        return ferr_set(err, rc, NULL, "no randomness: %s", strerror(errno));
    crypto_sha256_hex(tok, 64, hash);
    rc = store_token_add(s->store, hash, ROLE_ADMIN, "admin", &id, err);
    if (!rc)
        rc = store_audit_add(s->store, 0, "token.create", "token/1",
                             "first admin token (serve --init)", err);
    if (!rc) {
        printf("admin token: %s\n", tok);
        fflush(stdout);
    }
    explicit_bzero(tok, sizeof(tok));
    return rc;
}

static unsigned ncpus(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);

    return n > 0 ? (unsigned)n : 1;
}

/* *@out_db: the store's URL, for the DORA thread's own connection (NULL
 * until known; the caller frees it, also after a failure). */
static enum ferr_code open_home(struct server *s, char **out_db,
                                struct ferr *err)
{
    char path[PATH_MAX];
    char *keyfile;
    char *db;
    enum ferr_code rc;

    *out_db = NULL;
    if (mkdir(s->o.home, 0700) != 0 && errno != EEXIST)
        return ferr_set(err, FERR_IO, NULL, "cannot make home '%s': %s",
                        s->o.home, strerror(errno));
    if (!realpath(s->o.home, path))
        return ferr_set(err, FERR_IO, NULL, "cannot open home '%s': %s",
                        s->o.home, strerror(errno));
    s->home = xstrdup(path);
    keyfile = xasprintf("%s/secret.key", s->home);
    rc = crypto_key_load(keyfile, true, &s->key, err);
    free(keyfile);
    if (rc)
        return rc;
    db = s->o.db ? xstrdup(s->o.db) : xasprintf("%s/ferry.db", s->home);
    rc = store_open(db, &s->store, err);
    *out_db = db;
    if (rc)
        return rc;
    {
        ssize_t n = readlink("/proc/self/exe", path, sizeof(path) - 1);

        if (n <= 0)
            return ferr_set(err, FERR_IO, NULL, "cannot find myself: %s",
                            strerror(errno));
        path[n] = '\0';
        s->ferry_bin = xstrdup(path);
    }
    return FERR_OK;
}

static void write_url(struct server *s)
{
    char *path = xasprintf("%s/serve.url", s->home);
    struct ferr err;

    ferr_clear(&err);
    if (workspace_write_file(path, s->url, strlen(s->url), &err))
        log_warn("cannot write path='%s' err='%s'", path, err.msg);
    free(path);
}

enum ferr_code serve_run(const struct server_opts *o, struct ferr *err)
{
    struct server srv;
    struct server *s = &srv;
    struct httpd_opts ho;
    const char *off = getenv("FERRY_TEST_CLOCK_OFFSET");
    char *db = NULL;
    enum ferr_code rc;

    memset(s, 0, sizeof(*s));
    s->o = *o;
    s->notify.gate_fd = -1;
    s->notify.out_fd = -1;
    if (off) {
        int64_t v = 0;

        if (span_to_i64(span_cstr(off), &v) == FERR_OK)
            s->clock_offset_ms = v * 1000;
    }
    s->slots = o->slots ? o->slots : ncpus();
    if (!o->slots && s->slots < 2)
        s->slots = 2;
    /* a run mostly waits (for its needs, for a slot): let more runs be
     * in flight than jobs run */
    s->max_runs = o->runs ? o->runs : 4 * s->slots;
    rc = open_home(s, &db, err);
    if (rc)
        goto done;
    if (o->init) {
        rc = init_token(s, err);
        if (rc)
            goto done;
    }
    rc = loop_new(&s->loop, err);
    if (rc)
        goto done;
    proc_become_subreaper();
    rc = loop_on_signal(s->loop, SIGCHLD, on_sigchld, s);
    if (!rc)
        rc = loop_on_signal(s->loop, SIGTERM, on_stop, s);
    if (!rc)
        rc = loop_on_signal(s->loop, SIGINT, on_stop, s);
    if (!rc)
        rc = cd_new(s, &s->cd, err);
    if (rc)
        goto done;
    {
        /* where deployed environments keep their state; jobs inherit */
        char *dh = xasprintf("%s/deploy", s->home);

        if (!getenv("FERRY_DEPLOY_HOME"))
            setenv("FERRY_DEPLOY_HOME", dh, 1);
        free(dh);
    }
    /* after the last setenv: its DORA thread may read the environment */
    rc = telemetry_start(s, db, err);
    if (rc)
        goto done;
    recover(s);
    cd_recover(s);
    notifier_start(s);
    memset(&ho, 0, sizeof(ho));
    ho.listen = o->listen;
    ho.body_limit = api_body_limit;
    rc = httpd_start(s->loop, &ho, api_handle, s, &s->httpd, err);
    if (rc)
        goto done;
    {
        const char *host = o->listen;
        const char *colon = strrchr(host, ':');
        size_t hl = colon ? (size_t)(colon - host) : strlen(host);

        if (hl == 0 || (hl == 7 && memcmp(host, "0.0.0.0", 7) == 0))
            s->url = xasprintf("http://127.0.0.1:%d", httpd_port(s->httpd));
        else
            s->url = xasprintf("http://%.*s:%d", (int)hl, host,
                               httpd_port(s->httpd));
    }
    write_url(s);
    printf("ferry serve: listening on %s\n", s->url);
    fflush(stdout);
    log_info("serving url='%s' home='%s' slots=%u", s->url, s->home, s->slots);
    queue_arm_cron(s);
    worker_prepare_spare(s);
    queue_kick(s);
    rc = loop_run(s->loop);
    /* what runs now is retried by the next start, exactly as after a
     * crash: the workers cancel their processes when told (or when they
     * see us gone) */
    worker_stop_all(s);
done:
    if (s->loop)
        notifier_stop(s);
    cd_free(s->cd);
    s->cd = NULL;
    telemetry_stop(s); /* joins the DORA thread */
    free(db);
    httpd_stop(s->httpd);
    loop_timer_free(s->kick);
    loop_timer_free(s->spare_timer);
    loop_timer_free(s->cron_timer);
    loop_free(s->loop);
    store_close(s->store);
    explicit_bzero(&s->key, sizeof(s->key));
    free(s->home);
    free(s->ferry_bin);
    free(s->url);
    return rc;
}
