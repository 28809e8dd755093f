/* store_test: the store over SQLite — schema migrations, every record
 * type, the run lifecycle (start, finish, retry, cancel), listing with
 * filters and paging, throughput of the hot transitions, and a database
 * that survives its writer being SIGKILLed.  Each test has its own
 * database in a fresh directory under /tmp. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store/store.h"
#include "store/store_sqlite.h"

struct fx {
    char dir[64];
    char path[128];
    struct store *s;
};

static void remove_db(const char *path)
{
    char p[160];

    unlink(path);
    snprintf(p, sizeof(p), "%s-wal", path);
    unlink(p);
    snprintf(p, sizeof(p), "%s-shm", path);
    unlink(p);
}

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));
    struct ferr err = {0};

    if (!f)
        return -1;
    snprintf(f->dir, sizeof(f->dir), "/tmp/store_test.XXXXXX");
    if (!mkdtemp(f->dir)) {
        free(f);
        return -1;
    }
    snprintf(f->path, sizeof(f->path), "%s/ferry.db", f->dir);
    if (store_open(f->path, &f->s, &err)) {
        fprintf(stderr, "store_open: %s\n", err.msg);
        rmdir(f->dir);
        free(f);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    char p[160];

    store_close(f->s);
    remove_db(f->path);
    snprintf(p, sizeof(p), "%s/garbage.db", f->dir);
    unlink(p);
    rmdir(f->dir);
    free(f);
    return 0;
}

static struct ferr E; /* the error of the last call given fresh() */

/* @call (given fresh() as its error) must succeed */
#define OK(call)                                                               \
    do {                                                                       \
        enum ferr_code rc_ = (call);                                           \
        if (rc_)                                                               \
            fail_msg("%s: %s", #call, E.msg);                                  \
    } while (0)

static struct ferr *fresh(void)
{
    ferr_clear(&E);
    return &E;
}

static int64_t add_repo(struct store *s, const char *name)
{
    struct store_repo r = {0};
    int64_t id = 0;

    r.name = (char *)name;
    r.url = (char *)"/srv/git/x.git";
    r.default_branch = (char *)"main";
    assert_int_equal(store_repo_add(s, &r, &id, fresh()), FERR_OK);
    assert_true(id > 0);
    return id;
}

static int64_t add_run(struct store *s, int64_t repo_id, const char *wf,
                       const char *event, const char *ref, int64_t *out_number)
{
    struct store_run in = {0};
    int64_t id = 0;
    int64_t number = 0;

    in.repo_id = repo_id;
    in.workflow = (char *)wf;
    in.workflow_name = (char *)"CI";
    in.event = (char *)event;
    in.ref = (char *)ref;
    in.sha = (char *)"0123456789012345678901234567890123456789";
    in.payload = (char *)"{\"ref\":\"x\"}";
    in.actor = (char *)"alice";
    assert_int_equal(store_run_create(s, &in, &id, &number, fresh()), FERR_OK);
    if (out_number)
        *out_number = number;
    return id;
}

static const char H1[] =
    "0000000000000000000000000000000000000000000000000000000000000001";
static const char H2[] =
    "00000000000000000000000000000000000000000000000000000000000000ff";

/* ---------- open and migrations ---------- */

static void test_store_open_url_schemes(void **state)
{
    struct fx *f = *state;
    struct store *s = (struct store *)1;
    char url[200];

    assert_int_equal(store_open("postgresql://u:pw@h/db", &s, fresh()),
                     FERR_UNSUPPORTED);
    assert_null(s);
    assert_string_equal(E.msg, "postgresql is not supported yet");
    assert_int_equal(store_open("postgres://h/db", &s, fresh()),
                     FERR_UNSUPPORTED);
    assert_int_equal(store_open("mysql://u:secret@h/db", &s, fresh()),
                     FERR_USAGE);
    assert_null(strstr(E.msg, "secret"));
    assert_int_equal(store_open("", &s, fresh()), FERR_USAGE);
    assert_int_equal(store_open("sqlite:", &s, fresh()), FERR_USAGE);

    store_close(f->s);
    f->s = NULL;
    snprintf(url, sizeof(url), "sqlite:%s", f->path);
    assert_int_equal(store_open(url, &f->s, fresh()), FERR_OK);
    assert_int_equal(store_schema_version(f->s), STORE_SQLITE_SCHEMA_VERSION);
    assert_int_equal(store_ping(f->s, fresh()), FERR_OK);
}

static void test_store_open_missing_dir(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    char path[200];

    snprintf(path, sizeof(path), "%s/no/such/dir/ferry.db", f->dir);
    assert_int_equal(store_open(path, &s, fresh()), FERR_IO);
    assert_null(s);
    assert_non_null(strstr(E.msg, "no/such/dir"));
}

static void test_store_open_not_a_database(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    char path[200];
    int fd;

    snprintf(path, sizeof(path), "%s/garbage.db", f->dir);
    fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    assert_true(fd >= 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(write(fd, "this is not sqlite at all.......", 32), 32);
    close(fd);
    assert_int_equal(store_open(path, &s, fresh()), FERR_IO);
    assert_null(s);
}

static void test_store_migrate_fresh_and_reopen(void **state)
{
    struct fx *f = *state;
    struct store_repo r = {0};
    struct stat st;
    char wal[160];
    sqlite3 *db;
    sqlite3_stmt *q;

    assert_int_equal(store_schema_version(f->s), STORE_SQLITE_SCHEMA_VERSION);
    add_repo(f->s, "app");
    assert_int_equal(stat(f->path, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);
    snprintf(wal, sizeof(wal), "%s-wal", f->path);
    assert_int_equal(stat(wal, &st), 0);
    assert_int_equal(st.st_mode & 0777, 0600);

    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA user_version", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_int_equal(sqlite3_column_int(q, 0), STORE_SQLITE_SCHEMA_VERSION);
    sqlite3_finalize(q);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA journal_mode", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "wal");
    sqlite3_finalize(q);
    sqlite3_close(db);

    assert_int_equal(store_open(f->path, &f->s, fresh()), FERR_OK);
    assert_int_equal(store_schema_version(f->s), STORE_SQLITE_SCHEMA_VERSION);
    assert_int_equal(store_repo_get(f->s, "app", &r, fresh()), FERR_OK);
    assert_string_equal(r.url, "/srv/git/x.git");
    store_repo_release(&r);
}

static void test_store_newer_schema_refused(void **state)
{
    struct fx *f = *state;
    struct store *s = (struct store *)1;
    sqlite3 *db;
    char want[128];

    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA user_version = 999", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->path, &s, fresh()), FERR_INVALID);
    assert_null(s);
    snprintf(want, sizeof(want),
             "database schema version 999 is newer than this ferry (%d)",
             STORE_SQLITE_SCHEMA_VERSION);
    assert_string_equal(E.msg, want);
}

static void test_store_foreign_database_refused(void **state)
{
    struct fx *f = *state;
    struct store *s = NULL;
    sqlite3 *db;

    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_exec(db, "PRAGMA application_id = 42", NULL, NULL, NULL),
        SQLITE_OK);
    sqlite3_close(db);
    assert_int_equal(store_open(f->path, &s, fresh()), FERR_INVALID);
    assert_null(s);
}

/* ---------- roles and tokens ---------- */

static void test_store_role_names(void **state)
{
    (void)state;
    assert_string_equal(store_role_name(ROLE_VIEWER), "viewer");
    assert_string_equal(store_role_name(ROLE_DEVELOPER), "developer");
    assert_string_equal(store_role_name(ROLE_APPROVER), "approver");
    assert_string_equal(store_role_name(ROLE_ADMIN), "admin");
    assert_string_equal(store_role_name(ROLE_NONE), "none");
    assert_string_equal(store_role_name((enum store_role)77), "none");
    assert_int_equal(store_role_parse("admin"), ROLE_ADMIN);
    assert_int_equal(store_role_parse("approver"), ROLE_APPROVER);
    assert_int_equal(store_role_parse("developer"), ROLE_DEVELOPER);
    assert_int_equal(store_role_parse("viewer"), ROLE_VIEWER);
    assert_int_equal(store_role_parse("none"), ROLE_NONE);
    assert_int_equal(store_role_parse("Admin"), ROLE_NONE);
    assert_int_equal(store_role_parse("root"), ROLE_NONE);
    assert_int_equal(store_role_parse(NULL), ROLE_NONE);
}

static void test_store_token_add_find_revoke(void **state)
{
    struct fx *f = *state;
    struct store_token t = {0};
    int64_t id = 0;
    int64_t n = -1;

    assert_int_equal(store_token_count(f->s, &n, fresh()), FERR_OK);
    assert_int_equal(n, 0);
    assert_int_equal(
        store_token_add(f->s, H1, ROLE_DEVELOPER, "ci-bot", &id, fresh()),
        FERR_OK);
    assert_true(id > 0);
    assert_int_equal(store_token_find(f->s, H1, &t, fresh()), FERR_OK);
    assert_int_equal(t.id, id);
    assert_string_equal(t.name, "ci-bot");
    assert_int_equal(t.role, ROLE_DEVELOPER);
    assert_true(t.created_at > 0);
    assert_true(t.last_used_at >= t.created_at);
    assert_false(t.revoked);
    store_token_release(&t);

    assert_int_equal(store_token_find(f->s, H2, &t, fresh()), FERR_NOTFOUND);
    assert_null(t.name);
    assert_int_equal(store_token_revoke(f->s, id, fresh()), FERR_OK);
    assert_int_equal(store_token_find(f->s, H1, &t, fresh()), FERR_NOTFOUND);
    assert_int_equal(store_token_revoke(f->s, id + 100, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_token_count(f->s, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1); /* revoked tokens still count */
}

static void test_store_token_duplicate_and_list(void **state)
{
    struct fx *f = *state;
    struct store_token *v = NULL;
    size_t n = 0;
    int64_t id1 = 0, id2 = 0, count = 0;

    assert_int_equal(store_token_add(f->s, H1, ROLE_ADMIN, NULL, &id1, fresh()),
                     FERR_OK);
    assert_int_equal(
        store_token_add(f->s, H1, ROLE_VIEWER, "again", &id2, fresh()),
        FERR_INVALID);
    assert_int_equal(id2, 0);
    assert_string_equal(E.msg, "token exists");
    assert_int_equal(
        store_token_add(f->s, H2, ROLE_VIEWER, "viewer", &id2, fresh()),
        FERR_OK);
    assert_int_equal(store_token_revoke(f->s, id1, fresh()), FERR_OK);
    assert_int_equal(store_token_count(f->s, &count, fresh()), FERR_OK);
    assert_int_equal(count, 2);
    assert_int_equal(store_token_list(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, id1);
    assert_string_equal(v[0].name, "");
    assert_int_equal(v[0].role, ROLE_ADMIN);
    assert_true(v[0].revoked);
    assert_int_equal(v[0].last_used_at, 0);
    assert_int_equal(v[1].id, id2);
    assert_int_equal(v[1].role, ROLE_VIEWER);
    assert_false(v[1].revoked);
    store_tokens_free(v, n);
}

static void test_store_token_bad_input(void **state)
{
    struct fx *f = *state;
    struct store_token t = {0};
    int64_t id = 0;

    assert_int_equal(
        store_token_add(f->s, "abc", ROLE_ADMIN, "x", &id, fresh()),
        FERR_INVALID);
    assert_int_equal(store_token_add(f->s,
                                     "000000000000000000000000000000000000000"
                                     "000000000000000000000000A",
                                     ROLE_ADMIN, "x", &id, fresh()),
                     FERR_INVALID);
    assert_int_equal(store_token_add(f->s, H1, ROLE_NONE, "x", &id, fresh()),
                     FERR_INVALID);
    assert_int_equal(
        store_token_add(f->s, H1, (enum store_role)9, "x", &id, fresh()),
        FERR_INVALID);
    assert_int_equal(store_token_find(f->s, "' OR 1=1 --", &t, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_token_find(f->s, NULL, &t, fresh()), FERR_NOTFOUND);
}

/* ---------- repositories ---------- */

static void test_store_repo_add_get_list(void **state)
{
    struct fx *f = *state;
    struct store_repo in = {0};
    struct store_repo r = {0};
    struct store_repo *v = NULL;
    size_t n = 0;
    int64_t id = 0;
    static const unsigned char key[] = {1, 0, 2, 0, 3};

    in.name = (char *)"zeta";
    in.url = (char *)"https://example.com/zeta.git";
    in.default_branch = NULL; /* defaults to main */
    in.hook_key = (unsigned char *)key;
    in.hook_key_len = sizeof(key);
    assert_int_equal(store_repo_add(f->s, &in, &id, fresh()), FERR_OK);
    add_repo(f->s, "alpha");

    assert_int_equal(store_repo_get(f->s, "zeta", &r, fresh()), FERR_OK);
    assert_int_equal(r.id, id);
    assert_string_equal(r.url, "https://example.com/zeta.git");
    assert_string_equal(r.default_branch, "main");
    assert_int_equal(r.hook_key_len, sizeof(key));
    assert_memory_equal(r.hook_key, key, sizeof(key));
    assert_true(r.created_at > 0);
    store_repo_release(&r);

    assert_int_equal(store_repo_get_id(f->s, id, &r, fresh()), FERR_OK);
    assert_string_equal(r.name, "zeta");
    store_repo_release(&r);
    assert_int_equal(store_repo_get_id(f->s, id + 50, &r, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_repo_get(f->s, "nope", &r, fresh()), FERR_NOTFOUND);
    assert_string_equal(E.msg, "repository 'nope' not found");
    assert_null(r.name);

    assert_int_equal(store_repo_list(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "alpha");
    assert_null(v[0].hook_key);
    assert_int_equal(v[0].hook_key_len, 0);
    assert_string_equal(v[1].name, "zeta");
    store_repos_free(v, n);
}

static void test_store_repo_duplicate_and_bad_name(void **state)
{
    struct fx *f = *state;
    struct store_repo in = {0};
    int64_t id = 0;

    add_repo(f->s, "app");
    in.name = (char *)"app";
    in.url = (char *)"/other";
    assert_int_equal(store_repo_add(f->s, &in, &id, fresh()), FERR_INVALID);
    assert_string_equal(E.msg, "repository 'app' exists");
    in.name = (char *)"bad/name";
    assert_int_equal(store_repo_add(f->s, &in, &id, fresh()), FERR_INVALID);
    in.name = (char *)"";
    assert_int_equal(store_repo_add(f->s, &in, &id, fresh()), FERR_INVALID);
    in.name = (char *)"ok";
    in.url = NULL;
    assert_int_equal(store_repo_add(f->s, &in, &id, fresh()), FERR_INVALID);
}

static void test_store_repo_update(void **state)
{
    struct fx *f = *state;
    struct store_repo in = {0};
    struct store_repo r = {0};
    int64_t id = add_repo(f->s, "app");
    static const unsigned char key[] = {9, 9};

    in.id = id;
    in.url = (char *)"/new/url";
    in.default_branch = (char *)"trunk";
    in.hook_key = (unsigned char *)key;
    in.hook_key_len = sizeof(key);
    assert_int_equal(store_repo_update(f->s, &in, fresh()), FERR_OK);
    assert_int_equal(store_repo_get(f->s, "app", &r, fresh()), FERR_OK);
    assert_string_equal(r.url, "/new/url");
    assert_string_equal(r.default_branch, "trunk");
    assert_int_equal(r.hook_key_len, 2);
    store_repo_release(&r);

    in.hook_key = NULL;
    in.hook_key_len = 0;
    in.default_branch = NULL; /* kept */
    assert_int_equal(store_repo_update(f->s, &in, fresh()), FERR_OK);
    assert_int_equal(store_repo_get_id(f->s, id, &r, fresh()), FERR_OK);
    assert_string_equal(r.default_branch, "trunk");
    assert_null(r.hook_key);
    store_repo_release(&r);

    in.id = id + 9;
    assert_int_equal(store_repo_update(f->s, &in, fresh()), FERR_NOTFOUND);
}

/* ---------- secrets ---------- */

static void test_store_secrets(void **state)
{
    struct fx *f = *state;
    int64_t repo = add_repo(f->s, "app");
    struct store_secret *v = NULL;
    size_t n = 0;

    OK(store_secret_set(f->s, repo, "DB_PASS", (const unsigned char *)"s1", 2,
                        fresh()));
    OK(store_secret_set(f->s, repo, "API_KEY", (const unsigned char *)"k1", 2,
                        fresh()));
    OK(store_secret_set(f->s, repo, "DB_PASS",
                        (const unsigned char *)"s2-longer", 9, fresh()));

    assert_int_equal(store_secret_list(f->s, repo, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "API_KEY");
    assert_null(v[0].blob);
    assert_string_equal(v[1].name, "DB_PASS");
    assert_null(v[1].blob);
    assert_true(v[1].updated_at > 0);
    store_secrets_free(v, n);

    assert_int_equal(store_secret_load(f->s, repo, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[1].len, 9);
    assert_memory_equal(v[1].blob, "s2-longer", 9);
    store_secrets_free(v, n);

    OK(store_secret_delete(f->s, repo, "API_KEY", fresh()));
    assert_int_equal(store_secret_delete(f->s, repo, "API_KEY", fresh()),
                     FERR_NOTFOUND);
    assert_string_equal(E.msg, "secret 'API_KEY' not found");
    assert_int_equal(store_secret_load(f->s, repo, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    store_secrets_free(v, n);

    assert_int_equal(store_secret_set(f->s, repo + 5, "X",
                                      (const unsigned char *)"x", 1, fresh()),
                     FERR_NOTFOUND);
}

/* ---------- runs ---------- */

static void test_store_run_create_numbering(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t b = add_repo(f->s, "b");
    int64_t num = 0;
    struct store_run r = {0};
    struct store_run in = {0};
    int64_t id;

    add_run(f->s, a, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 1);
    add_run(f->s, a, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 2);
    add_run(f->s, a, "deploy.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 1);
    add_run(f->s, b, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 1);
    id = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 3);

    assert_int_equal(store_run_get(f->s, id, &r, fresh()), FERR_OK);
    assert_int_equal(r.id, id);
    assert_int_equal(r.repo_id, a);
    assert_string_equal(r.repo, "a");
    assert_string_equal(r.workflow, "ci.yml");
    assert_string_equal(r.workflow_name, "CI");
    assert_int_equal(r.number, 3);
    assert_string_equal(r.event, "push");
    assert_string_equal(r.ref, "refs/heads/main");
    assert_string_equal(r.payload, "{\"ref\":\"x\"}");
    assert_string_equal(r.actor, "alice");
    assert_int_equal(r.attempt, 1);
    assert_string_equal(r.status, "queued");
    assert_null(r.conclusion);
    assert_null(r.reason);
    assert_null(r.concurrency);
    assert_null(r.rerun_jobs);
    assert_false(r.cancel_requested);
    assert_true(r.created_at > 0);
    assert_int_equal(r.started_at, 0);
    assert_int_equal(r.finished_at, 0);
    store_run_release(&r);

    assert_int_equal(store_run_get(f->s, id + 100, &r, fresh()), FERR_NOTFOUND);
    assert_null(r.repo);

    in.repo_id = b;
    in.workflow = (char *)"deploy.yml";
    in.event = (char *)"workflow_dispatch";
    in.concurrency = (char *)"deploy-main";
    in.cancel_in_progress = true;
    assert_int_equal(store_run_create(f->s, &in, &id, &num, fresh()), FERR_OK);
    assert_int_equal(num, 1);
    assert_int_equal(store_run_get(f->s, id, &r, fresh()), FERR_OK);
    assert_string_equal(r.concurrency, "deploy-main");
    assert_true(r.cancel_in_progress);
    assert_null(r.ref);
    assert_null(r.payload);
    assert_null(r.workflow_name);
    store_run_release(&r);
}

static void test_store_run_create_unknown_repo(void **state)
{
    struct fx *f = *state;
    struct store_run in = {0};
    int64_t id = 7, num = 7;
    int64_t repo = add_repo(f->s, "a");

    in.repo_id = repo + 40;
    in.workflow = (char *)"ci.yml";
    in.event = (char *)"push";
    assert_int_equal(store_run_create(f->s, &in, &id, &num, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(id, 0);
    /* the failed transaction was rolled back: the next one works */
    add_run(f->s, repo, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 1);
    in.workflow = NULL;
    assert_int_equal(store_run_create(f->s, &in, &id, &num, fresh()),
                     FERR_INVALID);
}

static size_t list_n(struct store *s, const struct store_run_filter *flt,
                     bool *more)
{
    struct store_run *v = NULL;
    size_t n = 0;
    bool m = false;

    assert_int_equal(store_run_list(s, flt, &v, &n, &m, fresh()), FERR_OK);
    for (size_t i = 0; i < n; i++) {
        assert_null(v[i].payload);
        if (i > 0)
            assert_true(v[i].id < v[i - 1].id);
    }
    store_runs_free(v, n);
    if (more)
        *more = m;
    return n;
}

static void test_store_run_list_filters(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t b = add_repo(f->s, "b");
    struct store_run_filter flt = {.limit = 50};
    int64_t r1, r3;

    r1 = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    add_run(f->s, a, "ci.yml", "pull_request", "refs/pull/1/merge", NULL);
    r3 = add_run(f->s, a, "deploy.yml", "push", "refs/heads/dev", NULL);
    add_run(f->s, b, "ci.yml", "push", "refs/tags/v1", NULL);
    add_run(f->s, b, "ci.yml", "schedule", "main", NULL);
    OK(store_run_start(f->s, r1, 1, "t1", fresh()));
    OK(store_run_finish(f->s, r1, "success", NULL, fresh()));
    OK(store_run_start(f->s, r3, 1, "t3", fresh()));

    assert_int_equal(list_n(f->s, &flt, NULL), 5);
    flt.repo = "a";
    assert_int_equal(list_n(f->s, &flt, NULL), 3);
    flt.repo = "nope";
    assert_int_equal(list_n(f->s, &flt, NULL), 0);
    flt.repo = NULL;
    flt.ref = "main"; /* refs/heads/main and the literal "main" */
    assert_int_equal(list_n(f->s, &flt, NULL), 2);
    flt.ref = "refs/heads/main"; /* a full ref: itself only */
    assert_int_equal(list_n(f->s, &flt, NULL), 1);
    flt.ref = "refs/tags/v1";
    assert_int_equal(list_n(f->s, &flt, NULL), 1);
    flt.ref = "' OR 1=1 --";
    assert_int_equal(list_n(f->s, &flt, NULL), 0);
    flt.ref = NULL;
    flt.status = "queued";
    assert_int_equal(list_n(f->s, &flt, NULL), 3);
    flt.status = "running";
    assert_int_equal(list_n(f->s, &flt, NULL), 1);
    flt.status = NULL;
    flt.conclusion = "success";
    assert_int_equal(list_n(f->s, &flt, NULL), 1);
    flt.conclusion = NULL;
    flt.event = "push";
    assert_int_equal(list_n(f->s, &flt, NULL), 3);
    flt.workflow = "ci.yml";
    assert_int_equal(list_n(f->s, &flt, NULL), 2);
    flt.repo = "b";
    assert_int_equal(list_n(f->s, &flt, NULL), 1);
    flt.event = NULL;
    assert_int_equal(list_n(f->s, &flt, NULL), 2);
    flt.workflow = "deploy.yml";
    flt.repo = NULL;
    assert_int_equal(list_n(f->s, &flt, NULL), 1);
}

static void test_store_run_list_paging(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    struct store_run_filter flt = {.limit = 3};
    struct store_run *v = NULL;
    size_t n = 0;
    bool more = false;
    int64_t ids[7];

    for (int i = 0; i < 7; i++)
        ids[i] = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);

    assert_int_equal(store_run_list(f->s, &flt, &v, &n, &more, fresh()),
                     FERR_OK);
    assert_int_equal(n, 3);
    assert_true(more);
    assert_int_equal(v[0].id, ids[6]);
    assert_int_equal(v[2].id, ids[4]);
    flt.before_id = v[2].id;
    store_runs_free(v, n);

    assert_int_equal(store_run_list(f->s, &flt, &v, &n, &more, fresh()),
                     FERR_OK);
    assert_int_equal(n, 3);
    assert_true(more);
    assert_int_equal(v[0].id, ids[3]);
    assert_int_equal(v[2].id, ids[1]);
    flt.before_id = v[2].id;
    store_runs_free(v, n);

    assert_int_equal(store_run_list(f->s, &flt, &v, &n, &more, fresh()),
                     FERR_OK);
    assert_int_equal(n, 1);
    assert_false(more);
    assert_int_equal(v[0].id, ids[0]);
    store_runs_free(v, n);

    flt.before_id = 0;
    flt.limit = 0; /* clamped to 1 */
    assert_int_equal(list_n(f->s, &flt, &more), 1);
    assert_true(more);
    flt.limit = 7;
    assert_int_equal(list_n(f->s, &flt, &more), 7);
    assert_false(more);
}

/* ---------- schema 5: the runs list's indexes, the token touch ---------- */

static int64_t db_i64(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *q = NULL;
    int64_t v;

    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    v = sqlite3_column_int64(q, 0);
    sqlite3_finalize(q);
    return v;
}

static void db_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;

    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/* the ids store_run_list gives for @flt, page after page of @page */
static size_t list_ids(struct store *s, struct store_run_filter flt,
                       size_t page, int64_t *ids, size_t cap)
{
    size_t n = 0;
    bool more = true;

    flt.limit = page;
    flt.before_id = 0;
    while (more) {
        struct store_run *v = NULL;
        size_t k = 0;

        assert_int_equal(store_run_list(s, &flt, &v, &k, &more, fresh()),
                         FERR_OK);
        for (size_t i = 0; i < k; i++) {
            assert_true(n < cap);
            ids[n++] = v[i].id;
        }
        if (k > 0)
            flt.before_id = v[k - 1].id;
        store_runs_free(v, k);
        if (k == 0)
            break;
    }
    return n;
}

static const struct store_run_filter LIST_FILTERS[] = {
    {.limit = 0},
    {.repo = "a"},
    {.ref = "main"},
    {.ref = "refs/heads/main"},
    {.ref = "dev", .conclusion = "failure"},
    {.conclusion = "failure"},
    {.repo = "a", .conclusion = "success"},
    {.repo = "a", .ref = "main", .conclusion = "failure"},
    {.repo = "b", .ref = "refs/tags/v1", .status = "completed"},
    {.repo = "a", .ref = "dev", .workflow = "ci.yml", .event = "push"},
};
#define N_LIST_FILTERS (sizeof(LIST_FILTERS) / sizeof(LIST_FILTERS[0]))

/* 48 finished runs over two repositories, four refs (one of them a bare
 * branch name), two workflows, two events, two conclusions */
static void add_list_runs(struct store *s)
{
    static const char *const refs[] = {"refs/heads/main", "refs/heads/dev",
                                       "main", "refs/tags/v1"};
    int64_t a = add_repo(s, "a");
    int64_t b = add_repo(s, "b");

    for (int i = 0; i < 48; i++) {
        int64_t id =
            add_run(s, i % 5 == 4 ? b : a, i % 2 ? "ci.yml" : "deploy.yml",
                    i % 3 ? "push" : "schedule", refs[i % 4], NULL);

        if (i % 7 == 6)
            continue; /* queued */
        OK(store_run_start(s, id, 1, "t", fresh()));
        OK(store_run_finish(s, id, i % 3 == 1 ? "failure" : "success", NULL,
                            fresh()));
    }
}

static void test_store_migrate_from_schema_4(void **state)
{
    struct fx *f = *state;
    int64_t before[N_LIST_FILTERS][64];
    size_t n_before[N_LIST_FILTERS];
    int64_t ids[64];
    sqlite3 *db;

    add_list_runs(f->s);
    for (size_t i = 0; i < N_LIST_FILTERS; i++)
        n_before[i] = list_ids(f->s, LIST_FILTERS[i], 50, before[i], 64);
    assert_int_equal(n_before[0], 48);
    assert_int_equal(n_before[2], 24); /* refs/heads/main and "main" */
    assert_int_equal(n_before[3], 12); /* refs/heads/main only */

    /* schema 4 is schema 5 less two indexes and with runs_by_repo on
     * (repo_id, id) only, as migration 1 made it: make the file one */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    db_exec(db, "DROP INDEX runs_by_conclusion; DROP INDEX runs_by_branch;"
                " DROP INDEX runs_by_repo;"
                " CREATE INDEX runs_by_repo ON runs (repo_id, id);"
                " PRAGMA user_version = 4");
    assert_int_equal(db_i64(db, "SELECT count(*) FROM sqlite_master WHERE"
                                " name LIKE 'runs_by_%'"),
                     3);
    assert_int_equal(db_i64(db, "SELECT count(*) FROM"
                                " pragma_index_info('runs_by_repo')"),
                     2);
    sqlite3_close(db);

    assert_int_equal(store_open(f->path, &f->s, fresh()), FERR_OK);
    assert_int_equal(store_schema_version(f->s), 5);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(db_i64(db, "PRAGMA user_version"), 5);
    assert_int_equal(db_i64(db, "SELECT count(*) FROM sqlite_master WHERE"
                                " type = 'index' AND name IN"
                                " ('runs_by_conclusion', 'runs_by_branch')"),
                     2);
    assert_int_equal(db_i64(db, "SELECT count(*) FROM"
                                " pragma_index_info('runs_by_repo')"),
                     4);
    sqlite3_close(db);
    for (size_t i = 0; i < N_LIST_FILTERS; i++) {
        size_t n = list_ids(f->s, LIST_FILTERS[i], 50, ids, 64);

        assert_int_equal(n, n_before[i]);
        assert_memory_equal(ids, before[i], n * sizeof(ids[0]));
        /* and paged three at a time */
        n = list_ids(f->s, LIST_FILTERS[i], 3, ids, 64);
        assert_int_equal(n, n_before[i]);
        assert_memory_equal(ids, before[i], n * sizeof(ids[0]));
    }
}

/* The plan of store_run_list for @flt: a search of runs through one of
 * @want (a "|"-separated list), and no sort. */
static void assert_list_plan(sqlite3 *db, const struct store_run_filter *flt,
                             const char *want)
{
    char *sql = store_sqlite_run_list_sql(flt);
    char eqp[4096];
    char plan[2048] = "";
    char one[64];
    sqlite3_stmt *q = NULL;
    bool found = false;
    size_t n = 0;

    assert_non_null(sql);
    assert_true(strlen(sql) + 32 < sizeof(eqp));
    snprintf(eqp, sizeof(eqp), "EXPLAIN QUERY PLAN %s", sql);
    free(sql);
    assert_int_equal(sqlite3_prepare_v2(db, eqp, -1, &q, NULL), SQLITE_OK);
    while (sqlite3_step(q) == SQLITE_ROW) {
        const char *d = (const char *)sqlite3_column_text(q, 3);

        n += (size_t)snprintf(plan + n, sizeof(plan) - n, "%s; ", d);
        assert_true(n < sizeof(plan));
    }
    sqlite3_finalize(q);
    for (const char *w = want; *w;) {
        size_t len = strcspn(w, "|");

        snprintf(one, sizeof(one), "SEARCH r USING INDEX %.*s (", (int)len, w);
        found = found || strstr(plan, one) != NULL;
        w += len + (w[len] == '|');
    }
    if (!found || strstr(plan, "TEMP B-TREE") || strstr(plan, "SCAN r"))
        fail_msg("plan of %s: %s(wanted %s, no sort, no scan)", eqp + 19, plan,
                 want);
}

static void test_store_run_list_plans(void **state)
{
    struct fx *f = *state;
    const char *either = "runs_by_branch|runs_by_conclusion";
    struct store_run_filter flt = {.limit = 50};
    sqlite3 *db;

    add_list_runs(f->s);
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);

    flt.conclusion = "failure";
    assert_list_plan(db, &flt, "runs_by_conclusion");
    flt.before_id = 10;
    assert_list_plan(db, &flt, "runs_by_conclusion");
    flt.ref = "main"; /* the dashboard's ?conclusion=&branch= */
    assert_list_plan(db, &flt, either);
    flt.before_id = 0;
    assert_list_plan(db, &flt, either);
    flt.conclusion = NULL;
    assert_list_plan(db, &flt, "runs_by_branch");
    flt.before_id = 10;
    assert_list_plan(db, &flt, "runs_by_branch");
    /* with a repository: its runs, the branch and the conclusion tested
     * in runs_by_repo's entries */
    flt.repo = "a"; /* runalert's previous run on the branch */
    flt.workflow = "ci.yml";
    flt.status = "completed";
    assert_list_plan(db, &flt, "runs_by_repo");
    memset(&flt, 0, sizeof(flt));
    flt.repo = "a"; /* the API's ?repo=&branch=&conclusion= */
    flt.ref = "main";
    flt.conclusion = "failure";
    assert_list_plan(db, &flt, "runs_by_repo");
    flt.before_id = 10;
    assert_list_plan(db, &flt, "runs_by_repo");
    flt.ref = NULL;
    assert_list_plan(db, &flt, "runs_by_repo");
    flt.conclusion = NULL;
    assert_list_plan(db, &flt, "runs_by_repo");
    memset(&flt, 0, sizeof(flt));
    flt.status = "queued";
    assert_list_plan(db, &flt, "runs_by_status");
    sqlite3_close(db);
}

static int64_t wall_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* store_token_find writes last_used_at on first use, not again within
 * STORE_TOKEN_TOUCH_MS (no write at all: the database's data_version
 * seen from another connection stays), and again once it is older.
 * The store takes no clock: the test ages the stored value instead. */
static void test_store_token_touch_once_a_minute(void **state)
{
    struct fx *f = *state;
    struct store_token t = {0};
    int64_t id = 0;
    int64_t t0;
    int64_t dv;
    char sql[128];
    sqlite3 *db;

    OK(store_token_add(f->s, H1, ROLE_VIEWER, "web", &id, fresh()));
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(db_i64(db, "SELECT last_used_at FROM tokens"), 0);

    t0 = wall_ms();
    OK(store_token_find(f->s, H1, &t, fresh()));
    assert_true(t.last_used_at >= t0 && t.last_used_at <= wall_ms());
    assert_int_equal(db_i64(db, "SELECT last_used_at FROM tokens"),
                     t.last_used_at);
    store_token_release(&t);

    /* used 30 s ago: read only */
    snprintf(sql, sizeof(sql), "UPDATE tokens SET last_used_at = %" PRId64,
             wall_ms() - 30000);
    db_exec(db, sql);
    dv = db_i64(db, "PRAGMA data_version");
    for (int i = 0; i < 3; i++) {
        OK(store_token_find(f->s, H1, &t, fresh()));
        assert_true(wall_ms() - t.last_used_at >= 30000);
        store_token_release(&t);
    }
    assert_int_equal(db_i64(db, "PRAGMA data_version"), dv);
    assert_true(wall_ms() - db_i64(db, "SELECT last_used_at FROM tokens") >=
                30000);

    /* used just over a minute ago: written again */
    snprintf(sql, sizeof(sql), "UPDATE tokens SET last_used_at = %" PRId64,
             wall_ms() - STORE_TOKEN_TOUCH_MS - 1000);
    db_exec(db, sql);
    dv = db_i64(db, "PRAGMA data_version");
    t0 = wall_ms();
    OK(store_token_find(f->s, H1, &t, fresh()));
    assert_true(t.last_used_at >= t0);
    assert_int_equal(db_i64(db, "SELECT last_used_at FROM tokens"),
                     t.last_used_at);
    assert_int_not_equal(db_i64(db, "PRAGMA data_version"), dv);
    store_token_release(&t);

    /* a revoked token is not found, and not touched */
    OK(store_token_revoke(f->s, id, fresh()));
    db_exec(db, "UPDATE tokens SET last_used_at = 1");
    assert_int_equal(store_token_find(f->s, H1, &t, fresh()), FERR_NOTFOUND);
    assert_null(t.name);
    assert_int_equal(db_i64(db, "SELECT last_used_at FROM tokens"), 1);
    sqlite3_close(db);
}

static void test_store_run_list_limit_clamped(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    struct store_run_filter flt = {.limit = 100000};
    bool more = false;

    for (int i = 0; i < 205; i++)
        add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    assert_int_equal(list_n(f->s, &flt, &more), 200);
    assert_true(more);
}

static void test_store_run_queue_order(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r1 = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    int64_t r2 = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    int64_t r3 = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    int64_t r4 = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_run *v = NULL;
    size_t n = 0;

    OK(store_run_set_waiting(f->s, r2, true, "group 'deploy' is busy",
                             fresh()));
    OK(store_run_start(f->s, r1, 100, "tag1", fresh()));
    OK(store_run_start(f->s, r4, 101, "tag4", fresh()));
    OK(store_run_finish(f->s, r4, "failure", "boom", fresh()));

    assert_int_equal(store_run_queue(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, r2);
    assert_string_equal(v[0].status, "waiting");
    assert_string_equal(v[0].reason, "group 'deploy' is busy");
    assert_non_null(v[0].payload);
    assert_int_equal(v[1].id, r3);
    assert_string_equal(v[1].status, "queued");
    store_runs_free(v, n);

    assert_int_equal(store_run_running(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(v[0].id, r1);
    store_runs_free(v, n);

    /* back to queued; a waiting run can start (its reason is cleared) */
    OK(store_run_set_waiting(f->s, r2, false, NULL, fresh()));
    OK(store_run_set_waiting(f->s, r2, true, "busy", fresh()));
    OK(store_run_start(f->s, r2, 102, "tag2", fresh()));
    assert_int_equal(store_run_set_waiting(f->s, r2, true, "x", fresh()),
                     FERR_INVALID);
    assert_int_equal(store_run_set_waiting(f->s, r4 + 9, true, "x", fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_run_running(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_null(v[1].reason);
    store_runs_free(v, n);
}

static void test_store_run_start_finish(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_run run = {0};
    struct store_attempt *at = NULL;
    size_t n = 0;

    OK(store_run_start(f->s, r, 4242, "ferry-r1-a1", fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_string_equal(run.status, "running");
    assert_true(run.started_at > 0);
    assert_int_equal(run.finished_at, 0);
    store_run_release(&run);
    assert_int_equal(store_attempt_list(f->s, r, &at, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    assert_int_equal(at[0].number, 1);
    assert_int_equal(at[0].pid, 4242);
    assert_string_equal(at[0].tag, "ferry-r1-a1");
    assert_string_equal(at[0].status, "running");
    assert_null(at[0].conclusion);
    store_attempts_free(at, n);

    assert_int_equal(store_run_start(f->s, r, 1, "again", fresh()),
                     FERR_INVALID);
    assert_int_equal(store_run_start(f->s, r + 9, 1, "x", fresh()),
                     FERR_NOTFOUND);

    OK(store_run_finish(f->s, r, "success", NULL, fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_string_equal(run.status, "completed");
    assert_string_equal(run.conclusion, "success");
    assert_null(run.reason);
    assert_true(run.finished_at >= run.started_at);
    store_run_release(&run);
    assert_int_equal(store_attempt_list(f->s, r, &at, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(at[0].status, "completed");
    assert_string_equal(at[0].conclusion, "success");
    assert_true(at[0].finished_at > 0);
    store_attempts_free(at, n);

    assert_int_equal(store_run_finish(f->s, r, "failure", NULL, fresh()),
                     FERR_INVALID);
    assert_int_equal(store_run_finish(f->s, r, "bogus", NULL, fresh()),
                     FERR_INVALID);
}

static void test_store_run_finish_cancels_jobs(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    int64_t j1, j2, j3, sid;
    struct store_job *jobs = NULL;
    struct store_step *steps = NULL;
    size_t n = 0;

    OK(store_run_start(f->s, r, 1, "t", fresh()));
    OK(store_job_start(f->s, r, 1, "build", NULL, NULL, "/logs/1", &j1,
                       fresh()));
    OK(store_job_start(f->s, r, 1, "test", "test (3.11)", "{\"py\":\"3.11\"}",
                       NULL, &j2, fresh()));
    OK(store_job_start(f->s, r, 1, "lint", NULL, NULL, NULL, &j3, fresh()));
    OK(store_job_finish(f->s, j1, "success", NULL, "{\"v\":\"1\"}", fresh()));
    OK(store_step_start(f->s, j2, 1, "checkout", &sid, fresh()));
    /* a reason a job already has is kept */
    OK(store_run_request_cancel(f->s, r, fresh()));
    OK(store_run_finish(f->s, r, "cancelled", "cancelled by alice", fresh()));

    assert_int_equal(store_job_list(f->s, r, 0, &jobs, &n, fresh()), FERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(jobs[0].conclusion, "success");
    assert_null(jobs[0].reason);
    assert_string_equal(jobs[0].outputs, "{\"v\":\"1\"}");
    assert_string_equal(jobs[1].status, "completed");
    assert_string_equal(jobs[1].conclusion, "cancelled");
    assert_string_equal(jobs[1].reason, "the run ended");
    assert_string_equal(jobs[1].name, "test (3.11)");
    assert_string_equal(jobs[2].conclusion, "cancelled");
    assert_true(jobs[2].finished_at > 0);
    store_jobs_free(jobs, n);
    assert_int_equal(store_step_list(f->s, j2, &steps, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(steps[0].status, "completed");
    assert_string_equal(steps[0].conclusion, "cancelled");
    store_steps_free(steps, n);
}

static void test_store_run_finish_queued(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_attempt *at = NULL;
    struct store_run run = {0};
    size_t n = 0;

    OK(store_run_finish(f->s, r, "cancelled", "cancelled before start",
                        fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_string_equal(run.status, "completed");
    assert_string_equal(run.reason, "cancelled before start");
    assert_int_equal(run.started_at, 0);
    store_run_release(&run);
    assert_int_equal(store_attempt_list(f->s, r, &at, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(at[0].status, "completed");
    assert_string_equal(at[0].conclusion, "cancelled");
    assert_int_equal(at[0].started_at, 0);
    store_attempts_free(at, n);
}

static void test_store_run_retry(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_run before = {0};
    struct store_run run = {0};
    struct store_attempt *at = NULL;
    struct store_job *jobs = NULL;
    struct store_step *steps = NULL;
    size_t n = 0;
    int64_t j1, j2, sid;

    OK(store_run_start(f->s, r, 1, "t1", fresh()));
    OK(store_job_start(f->s, r, 1, "build", NULL, NULL, NULL, &j1, fresh()));
    OK(store_step_start(f->s, j1, 1, "make", &sid, fresh()));
    OK(store_job_add_completed(f->s, r, 1, "deploy", NULL, NULL, "skipped",
                               NULL, &j2, fresh()));
    OK(store_run_request_cancel(f->s, r, fresh()));
    assert_int_equal(store_run_get(f->s, r, &before, fresh()), FERR_OK);

    OK(store_run_retry(f->s, r, "failure", "the server restarted", NULL,
                       fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_int_equal(run.attempt, 2);
    assert_string_equal(run.status, "queued");
    assert_null(run.conclusion);
    assert_null(run.reason);
    assert_int_equal(run.started_at, 0);
    assert_int_equal(run.finished_at, 0);
    assert_int_equal(run.created_at, before.created_at);
    assert_false(run.cancel_requested);
    assert_null(run.rerun_jobs);
    store_run_release(&run);
    store_run_release(&before);

    assert_int_equal(store_attempt_list(f->s, r, &at, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(at[0].status, "completed");
    assert_string_equal(at[0].conclusion, "failure");
    assert_string_equal(at[0].reason, "the server restarted");
    store_attempts_free(at, n);

    /* the old attempt's jobs: the running one cancelled, the rest kept */
    assert_int_equal(store_job_list(f->s, r, 1, &jobs, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(jobs[0].id, j1);
    assert_string_equal(jobs[0].conclusion, "cancelled");
    assert_string_equal(jobs[1].conclusion, "skipped");
    store_jobs_free(jobs, n);
    assert_int_equal(store_step_list(f->s, j1, &steps, &n, fresh()), FERR_OK);
    assert_string_equal(steps[0].conclusion, "cancelled");
    store_steps_free(steps, n);
    assert_int_equal(store_job_list(f->s, r, 0, &jobs, &n, fresh()), FERR_OK);
    assert_int_equal(n, 0);
    store_jobs_free(jobs, n);

    /* queued: nothing to retry */
    assert_int_equal(store_run_retry(f->s, r, "failure", NULL, NULL, fresh()),
                     FERR_INVALID);
    assert_int_equal(
        store_run_retry(f->s, r + 5, "failure", NULL, NULL, fresh()),
        FERR_NOTFOUND);

    /* attempt 2 runs and succeeds; a re-run keeps its conclusion */
    OK(store_run_start(f->s, r, 2, "t2", fresh()));
    assert_int_equal(
        store_job_start(f->s, r, 1, "late", NULL, NULL, NULL, &j1, fresh()),
        FERR_INVALID);
    OK(store_run_finish(f->s, r, "success", NULL, fresh()));
    OK(store_run_retry(f->s, r, "failure", NULL,
                       "{\"build\":{\"result\":\"success\"}}", fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_int_equal(run.attempt, 3);
    assert_string_equal(run.rerun_jobs, "{\"build\":{\"result\":\"success\"}}");
    store_run_release(&run);
    assert_int_equal(store_attempt_list(f->s, r, &at, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(at[1].number, 2);
    assert_string_equal(at[1].conclusion, "success");
    assert_string_equal(at[1].tag, "t2");
    store_attempts_free(at, n);
}

static void test_store_run_request_cancel(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_run run = {0};

    OK(store_run_start(f->s, r, 1, "t", fresh()));
    OK(store_run_request_cancel(f->s, r, fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_true(run.cancel_requested);
    assert_string_equal(run.status, "running");
    store_run_release(&run);
    OK(store_run_finish(f->s, r, "cancelled", NULL, fresh()));
    assert_int_equal(store_run_request_cancel(f->s, r, fresh()), FERR_INVALID);
    assert_int_equal(store_run_request_cancel(f->s, r + 3, fresh()),
                     FERR_NOTFOUND);
}

static void test_store_transition_rolls_back(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_run run = {0};
    sqlite3 *db;
    char sql[160];

    /* a stray attempt row makes the second statement of run_start fail */
    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    snprintf(sql, sizeof(sql),
             "INSERT INTO attempts (run_id, number, status)"
             " VALUES (%" PRId64 ", 1, 'running')",
             r);
    assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);

    assert_int_equal(store_run_start(f->s, r, 1, "t", fresh()), FERR_INVALID);
    assert_non_null(strstr(E.msg, "store: insert attempt: "));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_string_equal(run.status, "queued"); /* the first was undone */
    assert_int_equal(run.started_at, 0);
    store_run_release(&run);
    /* and the connection is usable: no transaction left open */
    add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
}

static void test_store_two_connections(void **state)
{
    struct fx *f = *state;
    struct store *s2 = NULL;
    struct store_run run = {0};
    int64_t a = add_repo(f->s, "a");
    int64_t r, num = 0;

    assert_int_equal(store_open(f->path, &s2, fresh()), FERR_OK);
    r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    OK(store_run_start(s2, r, 7, "t", fresh()));
    assert_int_equal(store_run_get(f->s, r, &run, fresh()), FERR_OK);
    assert_string_equal(run.status, "running");
    store_run_release(&run);
    add_run(s2, a, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 2);
    add_run(f->s, a, "ci.yml", "push", "refs/heads/main", &num);
    assert_int_equal(num, 3);
    store_close(s2);
}

/* ---------- jobs and steps ---------- */

static void test_store_jobs(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_job j = {0};
    struct store_job *v = NULL;
    size_t n = 0;
    int64_t j1, j2;

    /* not running yet */
    assert_int_equal(
        store_job_start(f->s, r, 1, "build", NULL, NULL, NULL, &j1, fresh()),
        FERR_INVALID);
    assert_int_equal(j1, 0);
    assert_int_equal(store_job_start(f->s, r + 7, 1, "build", NULL, NULL, NULL,
                                     &j1, fresh()),
                     FERR_NOTFOUND);
    OK(store_run_start(f->s, r, 1, "t", fresh()));
    OK(store_job_start(f->s, r, 1, "build", "Build it", "{\"os\":\"linux\"}",
                       "/var/log/j1", &j1, fresh()));
    assert_int_equal(store_job_get(f->s, j1, &j, fresh()), FERR_OK);
    assert_int_equal(j.run_id, r);
    assert_int_equal(j.attempt, 1);
    assert_string_equal(j.job_key, "build");
    assert_string_equal(j.name, "Build it");
    assert_string_equal(j.matrix, "{\"os\":\"linux\"}");
    assert_string_equal(j.status, "running");
    assert_null(j.conclusion);
    assert_null(j.outputs);
    assert_string_equal(j.log_path, "/var/log/j1");
    assert_true(j.started_at > 0);
    store_job_release(&j);

    OK(store_job_finish(f->s, j1, "failure", "exit code 2", NULL, fresh()));
    assert_int_equal(store_job_finish(f->s, j1, "success", NULL, NULL, fresh()),
                     FERR_INVALID);
    assert_int_equal(
        store_job_finish(f->s, j1 + 50, "success", NULL, NULL, fresh()),
        FERR_NOTFOUND);
    assert_int_equal(store_job_finish(f->s, j1, NULL, NULL, NULL, fresh()),
                     FERR_INVALID);

    OK(store_job_add_completed(f->s, r, 1, "deploy", NULL, NULL, "skipped",
                               "if: false", &j2, fresh()));
    assert_int_equal(store_job_add_completed(f->s, r, 2, "x", NULL, NULL,
                                             "skipped", NULL, &j2, fresh()),
                     FERR_INVALID);
    assert_int_equal(store_job_get(f->s, j2 + 100, &j, fresh()), FERR_NOTFOUND);

    assert_int_equal(store_job_list(f->s, r, 1, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_int_equal(v[0].id, j1);
    assert_string_equal(v[0].status, "completed");
    assert_string_equal(v[0].conclusion, "failure");
    assert_string_equal(v[0].reason, "exit code 2");
    assert_true(v[0].finished_at >= v[0].started_at);
    assert_string_equal(v[1].job_key, "deploy");
    assert_string_equal(v[1].name, "deploy");
    assert_string_equal(v[1].status, "completed");
    assert_string_equal(v[1].reason, "if: false");
    assert_int_equal(v[1].started_at, 0);
    store_jobs_free(v, n);
    assert_int_equal(store_job_list(f->s, r, 0, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    store_jobs_free(v, n);
    assert_int_equal(store_job_list(f->s, r, 2, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 0);
    store_jobs_free(v, n);
}

static void test_store_steps(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_step *v = NULL;
    size_t n = 0;
    int64_t j, s1, s3;

    OK(store_run_start(f->s, r, 1, "t", fresh()));
    OK(store_job_start(f->s, r, 1, "build", NULL, NULL, NULL, &j, fresh()));
    OK(store_step_start(f->s, j, 1, "checkout", &s1, fresh()));
    assert_true(s1 > 0);
    OK(store_step_finish(f->s, j, 1, NULL, "success", fresh()));
    /* step 2 never started: inserted completed */
    OK(store_step_finish(f->s, j, 2, "deploy", "skipped", fresh()));
    OK(store_step_start(f->s, j, 3, "test", &s3, fresh()));
    assert_int_equal(store_step_start(f->s, j, 1, "again", &s1, fresh()),
                     FERR_INVALID);
    assert_int_equal(store_step_start(f->s, j + 9, 1, "x", &s1, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_step_finish(f->s, j + 9, 1, "x", "success", fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_step_start(f->s, j, 0, "x", &s1, fresh()),
                     FERR_INVALID);

    assert_int_equal(store_step_list(f->s, j, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].number, 1);
    assert_string_equal(v[0].name, "checkout");
    assert_string_equal(v[0].status, "completed");
    assert_string_equal(v[0].conclusion, "success");
    assert_true(v[0].started_at > 0);
    assert_true(v[0].finished_at >= v[0].started_at);
    assert_int_equal(v[1].number, 2);
    assert_string_equal(v[1].name, "deploy");
    assert_string_equal(v[1].conclusion, "skipped");
    assert_int_equal(v[1].started_at, 0);
    assert_int_equal(v[2].id, s3);
    assert_string_equal(v[2].status, "running");
    assert_null(v[2].conclusion);
    store_steps_free(v, n);

    /* the job ends: its running step ends with it */
    OK(store_job_finish(f->s, j, "failure", NULL, NULL, fresh()));
    assert_int_equal(store_step_list(f->s, j, &v, &n, fresh()), FERR_OK);
    assert_string_equal(v[2].status, "completed");
    assert_string_equal(v[2].conclusion, "cancelled");
    store_steps_free(v, n);
}

/* ---------- artifacts, schedules, deliveries, audit ---------- */

static void test_store_artifacts(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
    struct store_artifact *v = NULL;
    size_t n = 0;

    OK(store_artifact_add(f->s, r, "dist", "/art/1/dist.tar", 1000, fresh()));
    OK(store_artifact_add(f->s, r, "coverage", "/art/1/cov.tar", 20, fresh()));
    OK(store_artifact_add(f->s, r, "dist", "/art/1/dist2.tar", 2000, fresh()));
    assert_int_equal(store_artifact_add(f->s, r + 4, "x", "/x", 1, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_artifact_list(f->s, r, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "coverage");
    assert_int_equal(v[0].size, 20);
    assert_string_equal(v[1].name, "dist");
    assert_string_equal(v[1].path, "/art/1/dist2.tar");
    assert_int_equal(v[1].size, 2000);
    assert_int_equal(v[1].run_id, r);
    assert_true(v[1].created_at > 0);
    store_artifacts_free(v, n);
}

static const struct store_schedule *find_sched(const struct store_schedule *v,
                                               size_t n, const char *wf)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(v[i].workflow, wf) == 0)
            return &v[i];
    return NULL;
}

static void test_store_schedule_sync(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    int64_t b = add_repo(f->s, "b");
    const char *wf1[] = {"ci.yml", "nightly.yml"};
    const char *cr1[] = {"0 * * * *", "0 3 * * *"};
    const char *wf2[] = {"ci.yml", "new.yml", "new.yml"};
    const char *cr2[] = {"0 * * * *", "*/5 * * * *", "*/5 * * * *"};
    const char *wfb[] = {"b.yml"};
    const char *crb[] = {"1 1 * * *"};
    struct store_schedule *v = NULL;
    const struct store_schedule *s;
    size_t n = 0;
    int64_t ci_id;

    OK(store_schedule_sync(f->s, a, wf1, cr1, 2, 1000, fresh()));
    OK(store_schedule_sync(f->s, b, wfb, crb, 1, 1000, fresh()));
    assert_int_equal(store_schedule_list(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 3);
    s = find_sched(v, n, "ci.yml");
    assert_non_null(s);
    assert_string_equal(s->repo, "a");
    assert_int_equal(s->repo_id, a);
    assert_string_equal(s->cron, "0 * * * *");
    assert_int_equal(s->last_fired_at, 1000);
    ci_id = s->id;
    store_schedules_free(v, n);

    OK(store_schedule_fired(f->s, ci_id, 5000, fresh()));
    assert_int_equal(store_schedule_fired(f->s, ci_id + 99, 5000, fresh()),
                     FERR_NOTFOUND);
    OK(store_schedule_sync(f->s, a, wf2, cr2, 3, 9000, fresh()));
    assert_int_equal(store_schedule_list(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 3);
    s = find_sched(v, n, "ci.yml");
    assert_non_null(s);
    assert_int_equal(s->id, ci_id);
    assert_int_equal(s->last_fired_at, 5000); /* unchanged entry kept */
    assert_null(find_sched(v, n, "nightly.yml"));
    s = find_sched(v, n, "new.yml");
    assert_non_null(s);
    assert_int_equal(s->last_fired_at, 9000);
    assert_int_equal(s->created_at, 9000);
    assert_non_null(find_sched(v, n, "b.yml")); /* other repo untouched */
    store_schedules_free(v, n);

    OK(store_schedule_sync(f->s, a, NULL, NULL, 0, 9000, fresh()));
    assert_int_equal(store_schedule_list(f->s, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 1);
    store_schedules_free(v, n);
    assert_int_equal(store_schedule_sync(f->s, a, NULL, crb, 1, 1, fresh()),
                     FERR_INVALID);
    assert_int_equal(store_schedule_sync(f->s, b + 10, wfb, crb, 1, 1, fresh()),
                     FERR_NOTFOUND);
}

static void test_store_deliveries_newest_first(void **state)
{
    struct fx *f = *state;
    struct store_delivery in = {0};
    struct store_delivery *v = NULL;
    size_t n = 0;
    char outcome[32];

    for (int i = 0; i < 5; i++) {
        snprintf(outcome, sizeof(outcome), "%d runs queued", i);
        in.source = (char *)"github";
        in.event = (char *)"push";
        in.delivery = (char *)"abc-123";
        in.repo = i == 4 ? NULL : (char *)"app";
        in.status = 200 + i;
        in.outcome = outcome;
        OK(store_delivery_add(f->s, &in, fresh()));
    }
    assert_int_equal(store_delivery_list(f->s, 3, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 3);
    assert_int_equal(v[0].status, 204);
    assert_string_equal(v[0].repo, "");
    assert_string_equal(v[0].outcome, "4 runs queued");
    assert_int_equal(v[1].status, 203);
    assert_string_equal(v[1].source, "github");
    assert_string_equal(v[1].event, "push");
    assert_string_equal(v[1].delivery, "abc-123");
    assert_string_equal(v[1].repo, "app");
    assert_int_equal(v[2].status, 202);
    assert_true(v[0].id > v[1].id && v[1].id > v[2].id);
    assert_true(v[2].created_at > 0);
    store_deliveries_free(v, n);
    assert_int_equal(store_delivery_list(f->s, 100, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 5);
    store_deliveries_free(v, n);
    assert_int_equal(store_delivery_list(f->s, 0, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 0);
}

static void test_store_audit_newest_first(void **state)
{
    struct fx *f = *state;
    struct store_audit *v = NULL;
    size_t n = 0;

    OK(store_audit_add(f->s, 0, "token.create", "token/1", "role admin",
                       fresh()));
    OK(store_audit_add(f->s, 1, "secret.set", "repo/app/secret/DB", NULL,
                       fresh()));
    OK(store_audit_add(f->s, 1, "run.cancel", "run/12", "", fresh()));
    assert_int_equal(store_audit_add(f->s, 1, NULL, "x", "", fresh()),
                     FERR_INVALID);
    assert_int_equal(store_audit_list(f->s, 2, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].action, "run.cancel");
    assert_string_equal(v[0].target, "run/12");
    assert_int_equal(v[0].token_id, 1);
    assert_string_equal(v[1].action, "secret.set");
    assert_string_equal(v[1].detail, "");
    store_audits_free(v, n);
    assert_int_equal(store_audit_list(f->s, 10, &v, &n, fresh()), FERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[2].detail, "role admin");
    assert_int_equal(v[2].token_id, 0);
    store_audits_free(v, n);
}

static void test_store_release_null_safe(void **state)
{
    struct store_run r = {0};
    struct store_job j = {0};
    struct store_repo p = {0};
    struct store_token t = {0};

    (void)state;
    store_close(NULL);
    store_run_release(NULL);
    store_run_release(&r);
    store_run_release(&r);
    store_job_release(NULL);
    store_job_release(&j);
    store_repo_release(NULL);
    store_repo_release(&p);
    store_token_release(NULL);
    store_token_release(&t);
    store_runs_free(NULL, 3);
    store_jobs_free(NULL, 3);
    store_repos_free(NULL, 3);
    store_tokens_free(NULL, 3);
    store_secrets_free(NULL, 3);
    store_attempts_free(NULL, 3);
    store_steps_free(NULL, 3);
    store_artifacts_free(NULL, 3);
    store_schedules_free(NULL, 3);
    store_deliveries_free(NULL, 3);
    store_audits_free(NULL, 3);
}

/* ---------- throughput and kill-safety ---------- */

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void test_store_throughput(void **state)
{
    struct fx *f = *state;
    int64_t a = add_repo(f->s, "a");
    long transitions = 0;
    double t0 = now_s();
    double dt;

    for (int i = 0; i < 400; i++) {
        int64_t r = add_run(f->s, a, "ci.yml", "push", "refs/heads/main", NULL);
        int64_t j, sid;

        OK(store_run_start(f->s, r, 1, "t", fresh()));
        transitions += 2;
        for (int k = 0; k < 2; k++) {
            OK(store_job_start(f->s, r, 1, "build", NULL, NULL, NULL, &j,
                               fresh()));
            for (int st = 1; st <= 3; st++) {
                OK(store_step_start(f->s, j, st, "step", &sid, fresh()));
                OK(store_step_finish(f->s, j, st, NULL, "success", fresh()));
            }
            OK(store_job_finish(f->s, j, "success", NULL, "{}", fresh()));
            transitions += 8;
        }
        OK(store_run_finish(f->s, r, "success", NULL, fresh()));
        transitions += 1;
    }
    dt = now_s() - t0;
    printf("# store: %.0f transitions/s (%ld in %.3f s)\n",
           (double)transitions / dt, transitions, dt);
    fflush(stdout);
    assert_true(transitions > 0);
}

static void test_store_kill_safety(void **state)
{
    struct fx *f = *state;
    int64_t repo = add_repo(f->s, "a");
    int64_t ids[4096];
    size_t nids = 0;
    int fds[2];
    pid_t pid;
    int status;
    sqlite3 *db;
    sqlite3_stmt *q;

    /* no connection may cross the fork */
    store_close(f->s);
    f->s = NULL;
    assert_int_equal(pipe2(fds, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct store *s = NULL;

        close(fds[0]);
        if (store_open(f->path, &s, NULL))
            _exit(2);
        for (int i = 0; i < 1000000; i++) {
            struct store_run in = {0};
            int64_t id = 0, num = 0, j = 0;

            in.repo_id = repo;
            in.workflow = (char *)"ci.yml";
            in.event = (char *)"push";
            if (store_run_create(s, &in, &id, &num, NULL) ||
                write(fds[1], &id, sizeof(id)) != (ssize_t)sizeof(id) ||
                store_run_start(s, id, getpid(), "kill", NULL) ||
                store_job_start(s, id, 1, "build", NULL, NULL, NULL, &j,
                                NULL) ||
                store_job_finish(s, j, "success", NULL, NULL, NULL) ||
                store_run_finish(s, id, "success", NULL, NULL))
                _exit(3);
        }
        _exit(0);
    }
    close(fds[1]);
    while (nids < 300) {
        ssize_t got = read(fds[0], &ids[nids], sizeof(ids[0]));

        if (got <= 0 && errno == EINTR)
            continue;
        assert_int_equal(got, sizeof(ids[0]));
        nids++;
    }
    assert_int_equal(kill(pid, SIGKILL), 0);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFSIGNALED(status));
    for (;;) { /* ids committed and reported before the kill */
        ssize_t got;

        if (nids == sizeof(ids) / sizeof(ids[0]))
            break;
        got = read(fds[0], &ids[nids], sizeof(ids[0]));
        if (got != (ssize_t)sizeof(ids[0]))
            break;
        nids++;
    }
    close(fds[0]);

    assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(q, 0), "ok");
    sqlite3_finalize(q);
    assert_int_equal(
        sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &q, NULL),
        SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_DONE);
    sqlite3_finalize(q);
    sqlite3_close(db);

    assert_int_equal(store_open(f->path, &f->s, fresh()), FERR_OK);
    for (size_t i = 0; i < nids; i++) {
        struct store_run r = {0};
        struct store_attempt *at = NULL;
        struct store_job *jobs = NULL;
        size_t nat = 0, nj = 0;

        assert_int_equal(store_run_get(f->s, ids[i], &r, fresh()), FERR_OK);
        assert_int_equal(r.number, (int64_t)i + 1);
        assert_int_equal(store_attempt_list(f->s, r.id, &at, &nat, fresh()),
                         FERR_OK);
        assert_int_equal(store_job_list(f->s, r.id, 0, &jobs, &nj, fresh()),
                         FERR_OK);
        if (strcmp(r.status, "queued") == 0) {
            assert_int_equal(nat, 0);
            assert_int_equal(nj, 0);
        } else if (strcmp(r.status, "running") == 0) {
            assert_int_equal(nat, 1);
            assert_string_equal(at[0].status, "running");
        } else {
            assert_string_equal(r.status, "completed");
            assert_string_equal(r.conclusion, "success");
            assert_int_equal(nat, 1);
            assert_string_equal(at[0].conclusion, "success");
            assert_int_equal(nj, 1);
            assert_string_equal(jobs[0].status, "completed");
        }
        /* all but the last reported run completed in full */
        if (i + 1 < nids)
            assert_string_equal(r.status, "completed");
        store_attempts_free(at, nat);
        store_jobs_free(jobs, nj);
        store_run_release(&r);
    }
    /* the database goes on: numbering continues after the last commit */
    {
        int64_t num = 0;
        struct store_run_filter flt = {.limit = 1};
        struct store_run *v = NULL;
        size_t n = 0;
        bool more;

        assert_int_equal(store_run_list(f->s, &flt, &v, &n, &more, fresh()),
                         FERR_OK);
        assert_int_equal(n, 1);
        add_run(f->s, repo, "ci.yml", "push", "refs/heads/main", &num);
        assert_int_equal(num, v[0].number + 1);
        assert_true(v[0].number >= (int64_t)nids);
        store_runs_free(v, n);
    }
}

static void test_store_environment_put_get_lock(void **state)
{
    struct fx *f = *state;
    int64_t repo = add_repo(f->s, "app");
    int64_t id = 0;
    int64_t id2 = 0;
    json_t *rules = json_pack("{s:i, s:[s]}", "reviewers", 1, "branches",
                              "main");
    json_t *e = NULL;
    json_t *all = NULL;

    assert_int_equal(store_env_put(f->s, repo, "production", rules, &id,
                                   fresh()),
                     FERR_OK);
    json_object_set_new(rules, "reviewers", json_integer(2));
    assert_int_equal(store_env_put(f->s, repo, "production", rules, &id2,
                                   fresh()),
                     FERR_OK);
    assert_int_equal(id, id2); /* replaced, same row */
    assert_int_equal(store_env_get(f->s, repo, "production", &e, fresh()),
                     FERR_OK);
    assert_string_equal(json_string_value(json_object_get(e, "repo")), "app");
    assert_int_equal(json_integer_value(json_object_get(
                         json_object_get(e, "rules"), "reviewers")),
                     2);
    assert_true(json_is_null(json_object_get(e, "locked")));
    json_decref(e);
    assert_int_equal(store_env_lock(f->s, id, "rollback failed", fresh()),
                     FERR_OK);
    assert_int_equal(store_env_get(f->s, repo, "production", &e, fresh()),
                     FERR_OK);
    assert_string_equal(json_string_value(json_object_get(e, "locked")),
                        "rollback failed");
    json_decref(e);
    assert_int_equal(store_env_get(f->s, repo, "staging", &e, fresh()),
                     FERR_NOTFOUND);
    assert_null(e);
    assert_int_equal(store_env_put(f->s, 999, "x", rules, &id, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_env_list(f->s, 0, &all, fresh()), FERR_OK);
    assert_int_equal(json_array_size(all), 1);
    json_decref(all);
    json_decref(rules);
}

static void test_store_deployment_lifecycle(void **state)
{
    struct fx *f = *state;
    int64_t repo = add_repo(f->s, "app");
    int64_t id = 0;
    int64_t inc = 0;
    json_t *in = json_pack("{s:I, s:s, s:s, s:s, s:s}", "repo_id",
                           (json_int_t)repo, "environment", "production",
                           "status", "waiting", "sha", "abc123", "job",
                           "0-cd-deploy");
    json_t *set;
    json_t *ph;
    json_t *d = NULL;
    json_t *list = NULL;

    assert_int_equal(store_deploy_create(f->s, in, &id, fresh()), FERR_OK);
    assert_true(id > 0);
    assert_int_equal(store_approval_add(f->s, id, 3, "alice", "approved",
                                        "looks good", fresh()),
                     FERR_OK);
    set = json_pack("{s:s, s:s, s:I}", "status", "success", "version", "v7",
                    "finished_at", (json_int_t)1700000000000);
    assert_int_equal(store_deploy_update(f->s, id, set, fresh()), FERR_OK);
    ph = json_pack("{s:s, s:s}", "phase", "health", "status", "succeeded");
    assert_int_equal(store_deploy_phase(f->s, id, ph, fresh()), FERR_OK);
    assert_int_equal(store_deploy_get(f->s, id, &d, fresh()), FERR_OK);
    assert_string_equal(json_string_value(json_object_get(d, "status")),
                        "success");
    assert_string_equal(json_string_value(json_object_get(d, "sha")),
                        "abc123");
    assert_string_equal(json_string_value(json_object_get(d, "finished_at")),
                        "2023-11-14T22:13:20Z");
    assert_int_equal(json_array_size(json_object_get(d, "phases")), 1);
    assert_string_equal(
        json_string_value(json_object_get(
            json_array_get(json_object_get(d, "approvals"), 0), "user")),
        "alice");
    json_decref(d);
    assert_int_equal(store_deploy_update(f->s, id + 100, set, fresh()),
                     FERR_NOTFOUND);
    assert_int_equal(store_deploy_list(f->s, repo, "production", "success", 10,
                                       &list, fresh()),
                     FERR_OK);
    assert_int_equal(json_array_size(list), 1);
    json_decref(list);
    assert_int_equal(store_deploy_list(f->s, repo, "staging", NULL, 10, &list,
                                       fresh()),
                     FERR_OK);
    assert_int_equal(json_array_size(list), 0);
    json_decref(list);
    /* the incident opened by a rollback, then resolved */
    assert_int_equal(store_incident_open(f->s, repo, "production", id,
                                         "analysis failed", &inc, fresh()),
                     FERR_OK);
    assert_int_equal(store_incident_note(f->s, inc, "resolved",
                                         "previous version verified", fresh()),
                     FERR_OK);
    assert_int_equal(store_incident_get(f->s, inc, &d, fresh()), FERR_OK);
    assert_string_equal(json_string_value(json_object_get(d, "status")),
                        "resolved");
    assert_int_equal(json_array_size(json_object_get(d, "timeline")), 2);
    assert_true(json_is_string(json_object_get(d, "resolved_at")));
    json_decref(d);
    assert_int_equal(store_outbox_add(f->s, "critical", "rollback.started",
                                      "production", in, fresh()),
                     FERR_OK);
    assert_int_equal(store_outbox_list(f->s, 10, &list, fresh()), FERR_OK);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_array_get(list, 0), "level")),
                        "critical");
    json_decref(list);
    json_decref(in);
    json_decref(set);
    json_decref(ph);
}

/* ---------- watching: reports and DORA inputs ---------- */

static void test_store_reports_and_trend(void **state)
{
    struct fx *f = *state;
    int64_t repo = add_repo(f->s, "app");
    int64_t r1 = add_run(f->s, repo, "ci.yml", "push", "refs/heads/main",
                         NULL);
    int64_t r2 = add_run(f->s, repo, "ci.yml", "push", "refs/heads/dev",
                         NULL);
    json_t *cov = json_pack("{s:s, s:f}", "kind", "coverage", "line_rate",
                            0.75);
    json_t *bad = json_pack("{s:i}", "tests", 3);
    json_t *list = NULL;
    json_t *row;

    assert_int_equal(store_report_add(f->s, r1, 1, "0-ci-test", 2, cov,
                                      fresh()),
                     FERR_OK);
    assert_int_equal(store_report_add(f->s, r2, 1, "0-ci-test", 2, cov,
                                      fresh()),
                     FERR_OK);
    assert_int_equal(store_report_add(f->s, r1, 1, "x", 0, bad, fresh()),
                     FERR_INVALID);
    assert_int_equal(store_report_list(f->s, r1, &list, fresh()), FERR_OK);
    assert_int_equal(json_array_size(list), 1);
    row = json_array_get(list, 0);
    assert_string_equal(json_string_value(json_object_get(row, "kind")),
                        "coverage");
    assert_string_equal(json_string_value(json_object_get(row, "job")),
                        "0-ci-test");
    assert_true(json_number_value(json_object_get(
                    json_object_get(row, "summary"), "line_rate")) == 0.75);
    json_decref(list);
    /* the trend of one branch leaves the other out */
    assert_int_equal(store_report_trend(f->s, repo, "refs/heads/main",
                                        "coverage", 10, &list, fresh()),
                     FERR_OK);
    assert_int_equal(json_array_size(list), 1);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(list, 0), "run_id")),
                     r1);
    json_decref(list);
    assert_int_equal(store_report_trend(f->s, repo, NULL, "coverage", 10,
                                        &list, fresh()),
                     FERR_OK);
    assert_int_equal(json_array_size(list), 2);
    json_decref(list);
    json_decref(cov);
    json_decref(bad);
}

static void test_store_dora_input(void **state)
{
    struct fx *f = *state;
    int64_t repo = add_repo(f->s, "app");
    json_t *rules = json_pack("{s:b}", "production", 1);
    json_t *in;
    json_t *out = NULL;
    json_t *deps;
    int64_t env = 0;
    int64_t prod = 0;
    int64_t live = 0;
    int64_t stage = 0;
    int64_t inc = 0;

    assert_int_equal(store_env_put(f->s, repo, "live", rules, &env, fresh()),
                     FERR_OK);
    in = json_pack("{s:I, s:s, s:s}", "repo_id", (json_int_t)repo,
                   "environment", "production", "status", "success");
    assert_int_equal(store_deploy_create(f->s, in, &prod, fresh()), FERR_OK);
    json_object_set_new(in, "environment", json_string("live"));
    assert_int_equal(store_deploy_create(f->s, in, &live, fresh()), FERR_OK);
    json_object_set_new(in, "environment", json_string("staging"));
    assert_int_equal(store_deploy_create(f->s, in, &stage, fresh()), FERR_OK);
    assert_int_equal(store_deploy_commit_at(f->s, prod, 1234, fresh()),
                     FERR_OK);
    assert_int_equal(store_incident_open(f->s, repo, "production", prod,
                                         "bad", &inc, fresh()),
                     FERR_OK);
    (void)add_run(f->s, repo, "ci.yml", "push", "refs/heads/main", NULL);
    /* production and every environment with the production rule */
    assert_int_equal(store_dora_input(f->s, 0, NULL, 0, INT64_MAX, &out,
                                      fresh()),
                     FERR_OK);
    deps = json_object_get(out, "deployments");
    assert_int_equal(json_array_size(deps), 2);
    assert_int_equal(json_integer_value(json_object_get(
                         json_array_get(deps, 0), "commit_at")),
                     1234);
    assert_true(json_is_true(
        json_object_get(json_array_get(deps, 0), "incident")));
    assert_true(json_is_false(
        json_object_get(json_array_get(deps, 1), "incident")));
    assert_int_equal(json_array_size(json_object_get(out, "incidents")), 1);
    assert_int_equal(json_array_size(json_object_get(out, "runs")), 1);
    json_decref(out);
    /* one named environment; an empty window */
    assert_int_equal(store_dora_input(f->s, repo, "staging", 0, INT64_MAX,
                                      &out, fresh()),
                     FERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "deployments")), 1);
    assert_int_equal(json_array_size(json_object_get(out, "incidents")), 0);
    json_decref(out);
    assert_int_equal(store_dora_input(f->s, repo, NULL, 0, 1, &out, fresh()),
                     FERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "deployments")), 0);
    assert_int_equal(json_array_size(json_object_get(out, "runs")), 0);
    json_decref(out);
    json_decref(in);
    json_decref(rules);
}

int main(void)
{
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_store_open_url_schemes),
        T(test_store_environment_put_get_lock),
        T(test_store_deployment_lifecycle),
        T(test_store_open_missing_dir),
        T(test_store_open_not_a_database),
        T(test_store_migrate_fresh_and_reopen),
        T(test_store_newer_schema_refused),
        T(test_store_foreign_database_refused),
        cmocka_unit_test(test_store_role_names),
        T(test_store_token_add_find_revoke),
        T(test_store_token_duplicate_and_list),
        T(test_store_token_bad_input),
        T(test_store_repo_add_get_list),
        T(test_store_repo_duplicate_and_bad_name),
        T(test_store_repo_update),
        T(test_store_secrets),
        T(test_store_run_create_numbering),
        T(test_store_run_create_unknown_repo),
        T(test_store_run_list_filters),
        T(test_store_run_list_paging),
        T(test_store_run_list_limit_clamped),
        T(test_store_migrate_from_schema_4),
        T(test_store_run_list_plans),
        T(test_store_token_touch_once_a_minute),
        T(test_store_run_queue_order),
        T(test_store_run_start_finish),
        T(test_store_run_finish_cancels_jobs),
        T(test_store_run_finish_queued),
        T(test_store_run_retry),
        T(test_store_run_request_cancel),
        T(test_store_transition_rolls_back),
        T(test_store_two_connections),
        T(test_store_jobs),
        T(test_store_steps),
        T(test_store_artifacts),
        T(test_store_schedule_sync),
        T(test_store_deliveries_newest_first),
        T(test_store_audit_newest_first),
        cmocka_unit_test(test_store_release_null_safe),
        T(test_store_throughput),
        T(test_store_kill_safety),
        T(test_store_reports_and_trend),
        T(test_store_dora_input),
    };
#undef T

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
