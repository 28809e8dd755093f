/* schedule_test: due/next over pipeline/cron (downtime fires once,
 * boundaries, Vixie day rule, long gaps stay fast, the lookback cap) and
 * schedule_collect from a mirror of a repository made with libgit2. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/workspace.h"
#include "git/mirror.h"
#include "trigger/schedule.h"
#include "util/log.h"
#include "util/xalloc.h"

#define MIN_MS INT64_C(60000)
#define HOUR_MS (60 * MIN_MS)

/* ms since the epoch of a UTC civil time */
static int64_t utc(int y, int mo, int d, int h, int mi, int s)
{
    struct tm tm;

    memset(&tm, 0, sizeof(tm));
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d;
    tm.tm_hour = h;
    tm.tm_min = mi;
    tm.tm_sec = s;
    return (int64_t)timegm(&tm) * 1000;
}

static struct cron parse(const char *expr)
{
    struct cron c;
    struct ferr err;

    ferr_clear(&err);
    if (cron_parse(span_cstr(expr), NULL, &c, &err))
        fail_msg("cron_parse '%s': %s", expr, err.msg);
    return c;
}

static void test_schedule_due_after_downtime_fires_once(void **state)
{
    struct cron c = parse("0 * * * *");
    int64_t slot = 0;

    (void)state;
    /* last fired at 00:00, down until 05:30: one run, for 05:00 */
    assert_true(schedule_due(&c, utc(2024, 1, 1, 0, 0, 0),
                             utc(2024, 1, 1, 5, 30, 0), &slot));
    assert_int_equal(slot, utc(2024, 1, 1, 5, 0, 0));
    /* recorded 05:00 as fired: nothing more until 06:00 */
    assert_false(schedule_due(&c, slot, utc(2024, 1, 1, 5, 59, 59), &slot));
    assert_int_equal(slot, -1);
}

static void test_schedule_due_not_due(void **state)
{
    struct cron c = parse("15 3 * * *");
    int64_t slot = 0;

    (void)state;
    assert_false(schedule_due(&c, utc(2024, 3, 1, 3, 15, 0),
                              utc(2024, 3, 2, 3, 14, 59), &slot));
    assert_false(schedule_due(&c, utc(2024, 3, 2, 0, 0, 0),
                              utc(2024, 3, 1, 0, 0, 0), &slot)); /* now<last */
}

static void test_schedule_due_exact_boundary(void **state)
{
    struct cron c = parse("0 * * * *");
    int64_t last = utc(2024, 1, 1, 4, 0, 0);
    int64_t slot = 0;

    (void)state;
    /* the slot itself is included (t <= now) ... */
    assert_true(schedule_due(&c, last, utc(2024, 1, 1, 5, 0, 0), &slot));
    assert_int_equal(slot, utc(2024, 1, 1, 5, 0, 0));
    /* ... one ms before it is not */
    assert_false(schedule_due(&c, last, utc(2024, 1, 1, 5, 0, 0) - 1, &slot));
    /* and last_ms itself is excluded (last < t) */
    assert_false(schedule_due(&c, utc(2024, 1, 1, 5, 0, 0),
                              utc(2024, 1, 1, 5, 0, 0) + 999, &slot));
    /* a slot later in the same minute as now counts from its start */
    assert_true(schedule_due(&c, last, utc(2024, 1, 1, 5, 0, 59) + 999,
                             &slot));
    assert_int_equal(slot, utc(2024, 1, 1, 5, 0, 0));
}

static void test_schedule_due_day_of_month_or_day_of_week(void **state)
{
    /* 2024-09-10 is a Tuesday; Fridays are the 6th and 13th */
    struct cron both = parse("0 12 10 * 5");  /* the 10th OR a Friday */
    struct cron fri = parse("0 12 * * 5");    /* Fridays only */
    struct cron star = parse("0 12 */10 * 2"); /* '*' form: AND */
    int64_t last = utc(2024, 9, 7, 0, 0, 0);
    int64_t now = utc(2024, 9, 11, 0, 0, 0);
    int64_t slot = 0;

    (void)state;
    assert_true(schedule_due(&both, last, now, &slot));
    assert_int_equal(slot, utc(2024, 9, 10, 12, 0, 0));
    assert_false(schedule_due(&fri, last, now, &slot));
    assert_true(schedule_due(&both, last, utc(2024, 9, 13, 13, 0, 0),
                             &slot));
    assert_int_equal(slot, utc(2024, 9, 13, 12, 0, 0));
    /* days 1, 11, 21, 31 that are Tuesdays: 2024-10-01 */
    assert_true(schedule_due(&star, utc(2024, 9, 1, 0, 0, 0),
                             utc(2024, 10, 5, 0, 0, 0), &slot));
    assert_int_equal(slot, utc(2024, 10, 1, 12, 0, 0));
}

static void test_schedule_due_ten_year_gap_is_fast(void **state)
{
    struct cron weekly = parse("30 2 * * 1");
    struct cron leap = parse("0 0 29 2 *");
    int64_t last = utc(2014, 1, 1, 0, 0, 0);
    int64_t now = utc(2024, 6, 15, 10, 17, 0); /* a Saturday */
    int64_t slot = 0;
    struct timespec t0;
    struct timespec t1;
    double secs;

    (void)state;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < 200; i++) {
        assert_true(schedule_due(&weekly, last, now, &slot));
        assert_true(schedule_due(&leap, last, now, &slot));
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    secs = (double)(t1.tv_sec - t0.tv_sec) +
           (double)(t1.tv_nsec - t0.tv_nsec) / 1e9;
    assert_true(secs < 1.0);
    assert_true(schedule_due(&weekly, last, now, &slot));
    assert_int_equal(slot, utc(2024, 6, 10, 2, 30, 0));
    assert_true(schedule_due(&leap, last, now, &slot));
    assert_int_equal(slot, utc(2024, 2, 29, 0, 0, 0));
    /* never fired (0): the latest slot still */
    assert_true(schedule_due(&weekly, 0, now, &slot));
    assert_int_equal(slot, utc(2024, 6, 10, 2, 30, 0));
}

static void test_schedule_due_lookback_is_capped(void **state)
{
    struct cron leap = parse("0 0 29 2 *");
    int64_t slot = 0;

    (void)state;
    /* 2100 is not a leap year: the last 29 February before mid-2103 is
     * in 2096, more than SCHEDULE_LOOKBACK_DAYS back */
    assert_false(schedule_due(&leap, utc(2090, 1, 1, 0, 0, 0),
                              utc(2103, 6, 1, 0, 0, 0), &slot));
    assert_true(schedule_due(&leap, utc(2090, 1, 1, 0, 0, 0),
                             utc(2100, 6, 1, 0, 0, 0), &slot));
    assert_int_equal(slot, utc(2096, 2, 29, 0, 0, 0));
}

/* The latest slot by stepping minute by minute (small windows only). */
static bool brute_due(const struct cron *c, int64_t last, int64_t now,
                      int64_t *slot)
{
    for (int64_t t = now - now % MIN_MS; t > last; t -= MIN_MS) {
        if (cron_matches(c, (time_t)(t / 1000))) {
            *slot = t;
            return true;
        }
    }
    *slot = -1;
    return false;
}

static void test_schedule_due_matches_brute_force(void **state)
{
    static const char *const exprs[] = {
        "*/7 * * * *", "0 */5 * * *",  "59 23 * * *", "0 0 1 * *",
        "15 10 13 * 5", "30 6 * * 0,6", "0 0 29 2 *",  "5-10 3 * 1-3 *",
    };
    uint64_t seed = 12345;
    int64_t base = utc(2023, 12, 20, 0, 0, 0);

    (void)state;
    for (size_t e = 0; e < sizeof(exprs) / sizeof(*exprs); e++) {
        struct cron c = parse(exprs[e]);

        for (int i = 0; i < 60; i++) {
            int64_t last;
            int64_t now;
            int64_t got;
            int64_t want;
            bool due;

            seed = seed * 6364136223846793005u + 1442695040888963407u;
            now = base + (int64_t)((seed >> 20) % (120 * 86400000ull));
            seed = seed * 6364136223846793005u + 1442695040888963407u;
            last = now - (int64_t)((seed >> 20) % (3 * 86400000ull));
            due = schedule_due(&c, last, now, &got);
            assert_int_equal(due, brute_due(&c, last, now, &want));
            assert_int_equal(got, want);
        }
    }
}

static void test_schedule_next(void **state)
{
    struct cron hourly = parse("0 * * * *");
    struct cron never = parse("0 0 31 2 *");
    struct cron weekday = parse("30 9 * * MON-FRI");

    (void)state;
    assert_int_equal(schedule_next(&hourly, utc(2024, 1, 1, 5, 0, 0)),
                     utc(2024, 1, 1, 6, 0, 0)); /* strictly after */
    assert_int_equal(schedule_next(&hourly, utc(2024, 1, 1, 5, 0, 0) - 1),
                     utc(2024, 1, 1, 5, 0, 0));
    assert_int_equal(schedule_next(&hourly, utc(2024, 1, 1, 5, 0, 0) + 1),
                     utc(2024, 1, 1, 6, 0, 0));
    /* 2024-06-15 is a Saturday: Monday the 17th */
    assert_int_equal(schedule_next(&weekday, utc(2024, 6, 15, 12, 0, 0)),
                     utc(2024, 6, 17, 9, 30, 0));
    assert_int_equal(schedule_next(&never, utc(2024, 1, 1, 0, 0, 0)), -1);
}

/* ---- collect ------------------------------------------------------- */

struct repo_fixture {
    char *root;
    char *src;
    char *mirror;
    char sha[41];
};

struct file {
    const char *path;
    const char *text;
};

static const char scheduled_wf[] =
    "name: nightly\n"
    "on:\n"
    "  schedule:\n"
    "    - cron: '0 2 * * *'\n"
    "    - cron: \"30 4 * * 1-5\"\n"
    "    - cron: '0 2 * * *'\n"   /* duplicate: dropped */
    "    - cron: '61 * * * *'\n"  /* invalid: skipped */
    "  workflow_dispatch:\n"
    "jobs:\n"
    "  build:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - run: echo hi\n";

static const char push_wf[] =
    "on: push\n"
    "jobs:\n"
    "  test:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - run: make test\n";

static const char broken_wf[] =
    "on:\n"
    "  schedule:\n"
    "    - cron: '5 5 * * *'\n"
    "jobs: [oops\n";

static const char ferry_wf[] =
    "on:\n"
    "  schedule:\n"
    "    - cron: '*/15 * * * *'\n"
    "jobs:\n"
    "  a:\n"
    "    runs-on: ubuntu-latest\n"
    "    steps:\n"
    "      - run: true\n";

static void make_mirror(struct repo_fixture *f, const struct file *files,
                        size_t n)
{
    char tmpl[] = "/tmp/schedule_test.XXXXXX";
    git_repository *repo = NULL;
    git_index *idx = NULL;
    git_tree *tree = NULL;
    git_signature *sig = NULL;
    git_oid tree_id;
    git_oid oid;
    struct ferr err;

    assert_non_null(mkdtemp(tmpl));
    f->root = xstrdup(tmpl);
    f->src = xasprintf("%s/src.git", f->root);
    f->mirror = xasprintf("%s/mirror.git", f->root);
    git_libgit2_init();
    assert_int_equal(git_repository_init(&repo, f->src, 1), 0);
    assert_int_equal(git_index_new(&idx), 0);
    for (size_t i = 0; i < n; i++) {
        git_index_entry e;

        memset(&e, 0, sizeof(e));
        assert_int_equal(git_blob_create_from_buffer(&e.id, repo,
                                                     files[i].text,
                                                     strlen(files[i].text)),
                         0);
        e.mode = GIT_FILEMODE_BLOB;
        e.path = files[i].path;
        assert_int_equal(git_index_add(idx, &e), 0);
    }
    assert_int_equal(git_index_write_tree_to(&tree_id, idx, repo), 0);
    assert_int_equal(git_tree_lookup(&tree, repo, &tree_id), 0);
    assert_int_equal(git_signature_new(&sig, "T", "t@example.com",
                                       1700000000, 0),
                     0);
    assert_int_equal(git_commit_create(&oid, repo, "refs/heads/main", sig,
                                       sig, NULL, "init\n", tree, 0, NULL),
                     0);
    git_oid_tostr(f->sha, sizeof(f->sha), &oid);
    git_signature_free(sig);
    git_tree_free(tree);
    git_index_free(idx);
    git_repository_free(repo);
    ferr_clear(&err);
    if (mirror_sync(f->mirror, f->src, &err))
        fail_msg("mirror_sync: %s", err.msg);
}

static void drop_mirror(struct repo_fixture *f)
{
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(f->root, &err), FERR_OK);
    git_libgit2_shutdown();
    free(f->root);
    free(f->src);
    free(f->mirror);
}

static void test_schedule_collect_two_workflows_one_scheduled(void **state)
{
    struct repo_fixture f;
    const struct file files[] = {
        { ".github/workflows/ci.yml", push_wf },
        { ".github/workflows/nightly.yml", scheduled_wf },
    };
    struct schedule_entry *v = NULL;
    size_t n = 0;
    struct ferr err;

    (void)state;
    log_set_level(LL_ERR); /* the invalid cron is logged */
    make_mirror(&f, files, 2);
    ferr_clear(&err);
    assert_int_equal(schedule_collect(f.mirror, f.sha, &v, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].workflow, ".github/workflows/nightly.yml");
    assert_string_equal(v[0].cron, "0 2 * * *");
    assert_string_equal(v[1].workflow, ".github/workflows/nightly.yml");
    assert_string_equal(v[1].cron, "30 4 * * 1-5");
    schedule_entries_free(v, n);
    drop_mirror(&f);
}

static void test_schedule_collect_skips_broken_and_reads_ferry_dir(
    void **state)
{
    struct repo_fixture f;
    const struct file files[] = {
        { ".github/workflows/broken.yml", broken_wf },
        { ".github/workflows/nightly.yml", scheduled_wf },
        { ".ferry/workflows/often.yaml", ferry_wf },
    };
    struct schedule_entry *v = NULL;
    size_t n = 0;
    struct ferr err;

    (void)state;
    log_set_level(LL_ERR);
    make_mirror(&f, files, 3);
    ferr_clear(&err);
    assert_int_equal(schedule_collect(f.mirror, "main", &v, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].workflow, ".github/workflows/nightly.yml");
    assert_string_equal(v[2].workflow, ".ferry/workflows/often.yaml");
    assert_string_equal(v[2].cron, "*/15 * * * *");
    schedule_entries_free(v, n);
    ferr_clear(&err);
    assert_int_equal(schedule_collect(f.mirror, "nope", &v, &n, &err),
                     FERR_NOTFOUND);
    assert_null(v);
    assert_int_equal(n, 0);
    drop_mirror(&f);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_schedule_due_after_downtime_fires_once),
        cmocka_unit_test(test_schedule_due_not_due),
        cmocka_unit_test(test_schedule_due_exact_boundary),
        cmocka_unit_test(test_schedule_due_day_of_month_or_day_of_week),
        cmocka_unit_test(test_schedule_due_ten_year_gap_is_fast),
        cmocka_unit_test(test_schedule_due_lookback_is_capped),
        cmocka_unit_test(test_schedule_due_matches_brute_force),
        cmocka_unit_test(test_schedule_next),
        cmocka_unit_test(test_schedule_collect_two_workflows_one_scheduled),
        cmocka_unit_test(
            test_schedule_collect_skips_broken_and_reads_ferry_dir),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
