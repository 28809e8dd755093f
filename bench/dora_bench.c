/* dora_bench: what one DORA answer costs (GET /api/v1/dora, and a
 * /metrics scrape past its cache): store_dora_input + dora_compute over
 * a real SQLite store holding 10k deployments, 2k incidents, 10k runs
 * and 1k coverage reports, all in the window — median and p99 of 20
 * repetitions, next to the same store's store_deploy_list of 200 rows
 * (the deployments page) as the baseline.  The store is filled through
 * the store API in a temp dir (argv[1] to keep it elsewhere).  Not a
 * test: it checks only that the figures count what was put in. */
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "metrics/dora.h"
#include "store/store.h"
#include "util/xalloc.h"

#define N_DEPLOYS   10000
#define N_INCIDENTS 2000
#define N_RUNS      10000
#define N_REPORTS   1000
#define REPS        20
#define WINDOW_MS   (30LL * 86400000LL)

static uint64_t rng = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static double clock_s(clockid_t id)
{
    struct timespec ts;

    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double mono_s(void)
{
    return clock_s(CLOCK_MONOTONIC);
}

/* CPU time too: on a loaded machine wall time says more about the load */
static double cpu_s(void)
{
    return clock_s(CLOCK_PROCESS_CPUTIME_ID);
}

static void check(enum ferr_code rc, const struct ferr *err, const char *what)
{
    if (rc) {
        fprintf(stderr, "dora_bench: %s: %s\n", what, err->msg);
        exit(1);
    }
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a;
    double y = *(const double *)b;

    return (x > y) - (x < y);
}

static double median(double *t, size_t n)
{
    qsort(t, n, sizeof(*t), cmp_double);
    return n % 2 ? t[n / 2] : (t[n / 2 - 1] + t[n / 2]) / 2;
}

/* p99 (nearest rank) of @n sorted times */
static double p99(const double *t, size_t n)
{
    size_t r = (99 * n + 99) / 100;

    return t[(r ? r : 1) - 1];
}

/* median and p99 of @n wall times and the median of their CPU times,
 * in ms */
static void summary(const char *what, double *wall, double *cpu, size_t n)
{
    double m = median(wall, n);

    printf("%-40s median %8.2f ms  p99 %8.2f ms  (cpu median %7.2f ms)\n", what,
           m * 1000.0, p99(wall, n) * 1000.0, median(cpu, n) * 1000.0);
}

static void fill(struct store *s, int64_t *out_repo)
{
    static const char *const statuses[] = {
        "success", "success", "success", "success",     "success",
        "success", "success", "failure", "rolled_back", "cancelled"};
    struct store_repo repo = {0};
    struct ferr err;
    int64_t repo_id, id, number;
    int64_t t = now_ms();

    ferr_clear(&err);
    repo.name = (char *)"app";
    repo.url = (char *)"/srv/git/app.git";
    repo.default_branch = (char *)"main";
    check(store_repo_add(s, &repo, &repo_id, &err), &err, "repo add");
    {
        json_t *rules = json_pack("{s:b}", "production", 1);

        check(store_env_put(s, repo_id, "production", rules, &id, &err), &err,
              "env put");
        json_decref(rules);
    }
    for (int i = 0; i < N_RUNS; i++) {
        struct store_run in = {0};
        const char *concl = rnd() % 10 < 8 ? "success" : "failure";

        in.repo_id = repo_id;
        in.workflow = (char *)(i % 3 ? ".github/workflows/ci.yml"
                                     : ".github/workflows/deliver.yml");
        in.workflow_name = (char *)"ci";
        in.event = (char *)"push";
        in.ref = (char *)"refs/heads/main";
        in.sha = (char *)"0123456789012345678901234567890123456789";
        in.payload = (char *)"{}";
        in.actor = (char *)"alice";
        check(store_run_create(s, &in, &id, &number, &err), &err, "run create");
        check(store_run_start(s, id, 4242, "bench", &err), &err, "run start");
        check(store_run_finish(s, id, concl, NULL, &err), &err, "run finish");
        if (i < N_REPORTS) {
            json_t *rep =
                json_pack("{s:s, s:f}", "kind", "coverage", "line_rate",
                          0.6 + (double)(rnd() % 300) / 1000.0);

            check(store_report_add(s, id, 1, "test", 1, rep, &err), &err,
                  "report add");
            json_decref(rep);
        }
    }
    for (int i = 0; i < N_DEPLOYS; i++) {
        const char *st = statuses[rnd() % 10];
        bool rollback = rnd() % 50 == 0;
        json_t *in = json_pack(
            "{s:I, s:s, s:s, s:s, s:s, s:s}", "repo_id", (json_int_t)repo_id,
            "environment", i % 4 ? "production" : "staging", "status", "queued",
            "kind", rollback ? "rollback" : "deploy", "sha",
            "0123456789012345678901234567890123456789", "version", "v1");
        json_t *set;

        check(store_deploy_create(s, in, &id, &err), &err, "deploy create");
        json_decref(in);
        set = json_pack("{s:s, s:I, s:I}", "status", st, "started_at",
                        (json_int_t)(t - 3600000), "finished_at",
                        (json_int_t)(t - 3000000));
        check(store_deploy_update(s, id, set, &err), &err, "deploy update");
        json_decref(set);
        if (strcmp(st, "success") == 0 && !rollback)
            check(store_deploy_commit_at(
                      s, id, t - 3600000 - (int64_t)(rnd() % 604800000), &err),
                  &err, "deploy commit_at");
        if (i < N_INCIDENTS * 4 && i % 4 == 1) {
            int64_t inc;

            check(store_incident_open(s, repo_id, "production", id,
                                      "rollback started", &inc, &err),
                  &err, "incident open");
            if (rnd() % 10)
                check(store_incident_note(s, inc, "resolved",
                                          "rollback succeeded", &err),
                      &err, "incident note");
        }
    }
    *out_repo = repo_id;
}

int main(int argc, char **argv)
{
    char tmpl[] = "/tmp/dora_bench.XXXXXX";
    const char *dir = argc > 1 ? argv[1] : mkdtemp(tmpl);
    double t_all[REPS], t_in[REPS], t_comp[REPS], t_base[REPS];
    double c_all[REPS], c_in[REPS], c_comp[REPS], c_base[REPS];
    struct store *s = NULL;
    struct ferr err;
    char *path;
    int64_t repo_id;
    double t0;
    json_t *fig = NULL;

    ferr_clear(&err);
    if (!dir) {
        perror("dora_bench: mkdtemp");
        return 1;
    }
    path = xasprintf("%s/ferry.db", dir);
    check(store_open(path, &s, &err), &err, "store open");
    t0 = mono_s();
    fill(s, &repo_id);
    printf("dora_bench: filled %s with %d deployments, %d incidents, %d runs, "
           "%d reports in %.1f s\n",
           path, N_DEPLOYS, N_INCIDENTS, N_RUNS, N_REPORTS, mono_s() - t0);

    for (int r = 0; r < REPS; r++) {
        int64_t until = now_ms();
        json_t *in = NULL;
        double a, b, c, ca, cb, cc;

        json_decref(fig);
        a = mono_s();
        ca = cpu_s();
        check(store_dora_input(s, 0, NULL, until - WINDOW_MS, until, &in, &err),
              &err, "dora input");
        b = mono_s();
        cb = cpu_s();
        fig = dora_compute(in, until - WINDOW_MS, until);
        c = mono_s();
        cc = cpu_s();
        json_decref(in);
        t_in[r] = b - a;
        t_comp[r] = c - b;
        t_all[r] = c - a;
        c_in[r] = cb - ca;
        c_comp[r] = cc - cb;
        c_all[r] = cc - ca;
    }
    for (int r = 0; r < REPS; r++) {
        json_t *list = NULL;
        double a = mono_s();
        double ca = cpu_s();

        check(store_deploy_list(s, repo_id, NULL, NULL, 200, &list, &err), &err,
              "deploy list");
        t_base[r] = mono_s() - a;
        c_base[r] = cpu_s() - ca;
        if (json_array_size(list) != 200) {
            fprintf(stderr, "dora_bench: deploy list gave %zu rows\n",
                    json_array_size(list));
            return 1;
        }
        json_decref(list);
    }
    /* the figures count what was put in: production is 3 in 4 */
    {
        json_int_t n = json_integer_value(json_object_get(
            json_object_get(fig, "deployment_frequency"), "count"));
        json_int_t runs = json_integer_value(
            json_object_get(json_object_get(fig, "builds"), "total"));

        printf("dora_bench: %" JSON_INTEGER_FORMAT " production deployments "
               "counted, %" JSON_INTEGER_FORMAT " runs, change failure rate "
               "%.3f\n",
               n, runs,
               json_number_value(json_object_get(
                   json_object_get(fig, "change_failure_rate"), "rate")));
        if (n < N_DEPLOYS / 2 || runs != N_RUNS) {
            fprintf(stderr, "dora_bench: the figures miss rows\n");
            return 1;
        }
    }
    summary("store_dora_input + dora_compute (30d)", t_all, c_all, REPS);
    summary("  of which store_dora_input", t_in, c_in, REPS);
    summary("  of which dora_compute", t_comp, c_comp, REPS);
    summary("baseline: store_deploy_list (200 rows)", t_base, c_base, REPS);
    json_decref(fig);
    store_close(s);
    if (argc <= 1 && workspace_rmtree(dir, &err))
        fprintf(stderr, "dora_bench: %s\n", err.msg);
    free(path);
    return 0;
}
