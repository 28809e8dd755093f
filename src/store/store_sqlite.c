/* store_sqlite: the SQLite backend of the store — the schema and its
 * migrations, and every query, each state change one transaction.
 * Statements are prepared once per connection and cached.  It does not
 * check arguments store.c has checked, and it knows nothing of HTTP,
 * roles or workflows. */
#include "store/store_sqlite.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "util/buf.h"
#include "util/xalloc.h"

/* PRAGMA application_id of a ferry database ("FERY") */
#define APP_ID 0x46455259

/* ---------- schema ---------- */

/* migrations[i] takes the schema from version i to i + 1; each runs in
 * its own transaction together with the user_version bump.  Append only:
 * a released migration is never edited. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "PRAGMA application_id = 1178948185;"
    "CREATE TABLE tokens ("
    " id INTEGER PRIMARY KEY,"
    " sha256 TEXT NOT NULL UNIQUE,"
    " name TEXT NOT NULL DEFAULT '',"
    " role TEXT NOT NULL,"
    " created_at INTEGER NOT NULL,"
    " last_used_at INTEGER NOT NULL DEFAULT 0,"
    " revoked INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE repos ("
    " id INTEGER PRIMARY KEY,"
    " name TEXT NOT NULL UNIQUE,"
    " url TEXT NOT NULL,"
    " default_branch TEXT NOT NULL DEFAULT 'main',"
    " hook_key BLOB,"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE secrets ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " blob BLOB NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE (repo_id, name));"
    "CREATE TABLE runs ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " workflow TEXT NOT NULL,"
    " workflow_name TEXT,"
    " number INTEGER NOT NULL,"
    " event TEXT NOT NULL,"
    " ref TEXT,"
    " sha TEXT,"
    " payload TEXT,"
    " actor TEXT,"
    " attempt INTEGER NOT NULL DEFAULT 1,"
    " status TEXT NOT NULL,"
    " conclusion TEXT,"
    " reason TEXT,"
    " concurrency TEXT,"
    " cancel_in_progress INTEGER NOT NULL DEFAULT 0,"
    " cancel_requested INTEGER NOT NULL DEFAULT 0,"
    " rerun_jobs TEXT,"
    " created_at INTEGER NOT NULL,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (repo_id, workflow, number));"
    "CREATE INDEX runs_by_repo ON runs (repo_id, id);"
    "CREATE INDEX runs_by_status ON runs (status, id);"
    "CREATE TABLE attempts ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL,"
    " status TEXT NOT NULL,"
    " conclusion TEXT,"
    " reason TEXT,"
    " pid INTEGER NOT NULL DEFAULT 0,"
    " tag TEXT,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (run_id, number));"
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL,"
    " job_key TEXT NOT NULL,"
    " name TEXT NOT NULL,"
    " matrix TEXT,"
    " status TEXT NOT NULL,"
    " conclusion TEXT,"
    " reason TEXT,"
    " outputs TEXT,"
    " log_path TEXT,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX jobs_by_run ON jobs (run_id, attempt, id);"
    "CREATE TABLE steps ("
    " id INTEGER PRIMARY KEY,"
    " job_id INTEGER NOT NULL REFERENCES jobs(id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL,"
    " name TEXT NOT NULL DEFAULT '',"
    " status TEXT NOT NULL,"
    " conclusion TEXT,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0,"
    " UNIQUE (job_id, number));"
    "CREATE TABLE artifacts ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " path TEXT NOT NULL,"
    " size INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (run_id, name));"
    "CREATE TABLE schedules ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " workflow TEXT NOT NULL,"
    " cron TEXT NOT NULL,"
    " last_fired_at INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL,"
    " UNIQUE (repo_id, workflow, cron));"
    "CREATE TABLE deliveries ("
    " id INTEGER PRIMARY KEY,"
    " source TEXT NOT NULL,"
    " event TEXT NOT NULL DEFAULT '',"
    " delivery TEXT NOT NULL DEFAULT '',"
    " repo TEXT NOT NULL DEFAULT '',"
    " status INTEGER NOT NULL,"
    " outcome TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE audit ("
    " id INTEGER PRIMARY KEY,"
    " token_id INTEGER NOT NULL DEFAULT 0,"
    " action TEXT NOT NULL,"
    " target TEXT NOT NULL DEFAULT '',"
    " detail TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);",
    /* 2: continuous delivery */
    "CREATE TABLE environments ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " rules TEXT NOT NULL DEFAULT '{}',"
    " locked TEXT,"
    " created_at INTEGER NOT NULL,"
    " updated_at INTEGER NOT NULL,"
    " UNIQUE (repo_id, name));"
    "CREATE TABLE deployments ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " environment TEXT NOT NULL,"
    " kind TEXT NOT NULL DEFAULT 'deploy',"
    " run_id INTEGER,"
    " attempt INTEGER,"
    " job_key TEXT,"
    " sha TEXT,"
    " ref TEXT,"
    " actor TEXT,"
    " version TEXT,"
    " strategy TEXT,"
    " status TEXT NOT NULL,"
    " reason TEXT,"
    " approved_by TEXT,"
    " release_tag TEXT,"
    " url TEXT,"
    " phases TEXT NOT NULL DEFAULT '[]',"
    " created_at INTEGER NOT NULL,"
    " approved_at INTEGER NOT NULL DEFAULT 0,"
    " started_at INTEGER NOT NULL DEFAULT 0,"
    " finished_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE INDEX deployments_by_env ON deployments"
    " (repo_id, environment, id);"
    "CREATE TABLE approvals ("
    " id INTEGER PRIMARY KEY,"
    " deployment_id INTEGER NOT NULL"
    "  REFERENCES deployments(id) ON DELETE CASCADE,"
    " token_id INTEGER NOT NULL DEFAULT 0,"
    " user TEXT NOT NULL DEFAULT '',"
    " decision TEXT NOT NULL,"
    " comment TEXT NOT NULL DEFAULT '',"
    " created_at INTEGER NOT NULL);"
    "CREATE TABLE incidents ("
    " id INTEGER PRIMARY KEY,"
    " repo_id INTEGER NOT NULL REFERENCES repos(id) ON DELETE CASCADE,"
    " environment TEXT NOT NULL,"
    " deployment_id INTEGER,"
    " status TEXT NOT NULL,"
    " reason TEXT NOT NULL DEFAULT '',"
    " timeline TEXT NOT NULL DEFAULT '[]',"
    " opened_at INTEGER NOT NULL,"
    " resolved_at INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE outbox ("
    " id INTEGER PRIMARY KEY,"
    " level TEXT NOT NULL,"
    " kind TEXT NOT NULL,"
    " dedup_key TEXT NOT NULL DEFAULT '',"
    " payload TEXT NOT NULL DEFAULT '{}',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL DEFAULT 0,"
    " delivered_at INTEGER NOT NULL DEFAULT 0,"
    " created_at INTEGER NOT NULL);",
    /* 3: alert delivery, one row per (alert, channel); outbox.attempts
     * and outbox.next_at are unused from here on */
    "ALTER TABLE outbox ADD COLUMN routed_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX outbox_unrouted ON outbox (routed_at, id);"
    "CREATE INDEX outbox_by_dedup ON outbox (dedup_key, id);"
    "CREATE TABLE outbox_sends ("
    " outbox_id INTEGER NOT NULL REFERENCES outbox(id) ON DELETE CASCADE,"
    " channel TEXT NOT NULL,"
    " state TEXT NOT NULL DEFAULT 'pending',"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " next_at INTEGER NOT NULL DEFAULT 0,"
    " sent_at INTEGER NOT NULL DEFAULT 0,"
    " last_error TEXT,"
    " PRIMARY KEY (outbox_id, channel));"
    "CREATE INDEX outbox_sends_due ON outbox_sends (state, next_at);"
    "CREATE INDEX outbox_sends_by_channel ON outbox_sends (channel, state);",
    /* 4: watching — report summaries per run, the first commit time of
     * what a deployment shipped (DORA's lead time), time indexes */
    "CREATE TABLE reports ("
    " id INTEGER PRIMARY KEY,"
    " run_id INTEGER NOT NULL REFERENCES runs(id) ON DELETE CASCADE,"
    " attempt INTEGER NOT NULL,"
    " job_key TEXT NOT NULL DEFAULT '',"
    " step INTEGER NOT NULL DEFAULT -1,"
    " kind TEXT NOT NULL,"
    " summary TEXT NOT NULL,"
    " created_at INTEGER NOT NULL);"
    "CREATE INDEX reports_by_run ON reports (run_id, id);"
    "CREATE INDEX reports_by_kind ON reports (kind, created_at);"
    "ALTER TABLE deployments ADD COLUMN commit_at INTEGER NOT NULL DEFAULT 0;"
    "CREATE INDEX deployments_by_time ON deployments (created_at);"
    "CREATE INDEX incidents_by_time ON incidents (opened_at);"
    "CREATE INDEX incidents_by_deployment ON incidents (deployment_id);"
    "CREATE INDEX runs_by_time ON runs (created_at);",
    /* 5: the runs list, newest first and paged by id, filtered by
     * branch or conclusion is an index range scan (the branch is the
     * ref less refs/heads/: RUN_BRANCH below, which the list's WHERE
     * repeats exactly).  Trailing columns let the other filters be
     * tested in the index entry, reading no row that they drop; so
     * does runs_by_repo, now (repo_id, id, conclusion, branch). */
    "CREATE INDEX runs_by_conclusion ON runs (conclusion, id);"
    "CREATE INDEX runs_by_branch ON runs ((CASE WHEN ref GLOB 'refs/heads/*'"
    " THEN substr(ref, 12) ELSE ref END), id, conclusion);"
    "DROP INDEX runs_by_repo;"
    "CREATE INDEX runs_by_repo ON runs (repo_id, id, conclusion,"
    " (CASE WHEN ref GLOB 'refs/heads/*' THEN substr(ref, 12) ELSE ref END));",
};

#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

_Static_assert(SCHEMA_VERSION == STORE_SQLITE_SCHEMA_VERSION,
               "STORE_SQLITE_SCHEMA_VERSION must follow the migrations");

/* ---------- statements ---------- */

#define TOKEN_COLS "id, name, role, created_at, last_used_at, revoked"
#define REPO_COLS  "id, name, url, default_branch, hook_key, created_at"
#define RUN_COLS_A                                                             \
    "r.id, r.repo_id, p.name, r.workflow, r.workflow_name, r.number,"          \
    " r.event, r.ref, r.sha, "
#define RUN_COLS_B                                                             \
    ", r.actor, r.attempt, r.status, r.conclusion, r.reason,"                  \
    " r.concurrency, r.cancel_in_progress, r.cancel_requested,"                \
    " r.rerun_jobs, r.created_at, r.started_at, r.finished_at"
#define RUN_COLS RUN_COLS_A "r.payload" RUN_COLS_B
#define RUN_FROM " FROM runs r JOIN repos p ON p.id = r.repo_id"
/* a run's branch: its ref less refs/heads/, as runs_by_branch and
 * runs_by_repo (schema 5) index it; the expression must stay theirs */
#define RUN_BRANCH                                                             \
    "(CASE WHEN r.ref GLOB 'refs/heads/*' THEN substr(r.ref, 12) ELSE r.ref"   \
    " END)"
#define JOB_COLS                                                               \
    "id, run_id, attempt, job_key, name, matrix, status, conclusion,"          \
    " reason, outputs, log_path, started_at, finished_at"
#define UNFINISHED "status <> 'completed'"
/* RFC 3339 (UTC, seconds) from ms since the epoch; NULL for 0 */
#define TS(col)                                                                \
    "CASE WHEN " col " > 0 THEN strftime('%Y-%m-%dT%H:%M:%SZ', " col           \
    " / 1000, 'unixepoch') END"
#define ENV_JSON                                                               \
    "json_object('id', e.id, 'repo', p.name, 'name', e.name, 'rules',"         \
    " json(e.rules), 'locked', e.locked, 'created_at', " TS("e.created_at")   \
    ", 'updated_at', " TS("e.updated_at") ")"
#define ENV_FROM " FROM environments e JOIN repos p ON p.id = e.repo_id"
#define DEPLOY_JSON                                                            \
    "json_object('id', d.id, 'repo', p.name, 'environment', d.environment,"    \
    " 'kind', d.kind, 'run_id', d.run_id, 'attempt', d.attempt, 'job',"        \
    " d.job_key, 'sha', d.sha, 'ref', d.ref, 'actor', d.actor, 'version',"     \
    " d.version, 'strategy', d.strategy, 'status', d.status, 'reason',"       \
    " d.reason, 'approved_by', d.approved_by, 'release_tag', d.release_tag,"   \
    " 'url', d.url, 'phases', json(d.phases), 'approvals', (SELECT"            \
    " json_group_array(json_object('user', a.user, 'decision', a.decision,"    \
    " 'comment', a.comment, 'at', " TS("a.created_at") ")) FROM approvals a"  \
    " WHERE a.deployment_id = d.id), 'created_at', " TS("d.created_at")       \
    ", 'approved_at', " TS("d.approved_at") ", 'started_at', "                \
    TS("d.started_at") ", 'finished_at', " TS("d.finished_at") ")"
#define DEPLOY_FROM " FROM deployments d JOIN repos p ON p.id = d.repo_id"
#define INCIDENT_JSON                                                          \
    "json_object('id', i.id, 'repo', p.name, 'environment', i.environment,"    \
    " 'deployment_id', i.deployment_id, 'status', i.status, 'reason',"         \
    " i.reason, 'timeline', json(i.timeline), 'opened_at', "                  \
    TS("i.opened_at") ", 'resolved_at', " TS("i.resolved_at") ")"
#define INCIDENT_FROM " FROM incidents i JOIN repos p ON p.id = i.repo_id"
/* an alert's per-channel delivery state, for outbox o */
#define SENDS_JSON                                                             \
    "(SELECT json_group_array(json_object('channel', channel, 'state',"        \
    " state, 'attempts', attempts, 'next_at', " TS("next_at") ", 'sent_at', "  \
    TS("sent_at") ", 'last_error', last_error)) FROM (SELECT * FROM"           \
    " outbox_sends WHERE outbox_id = o.id ORDER BY channel))"
/* pending sends, less those that resolve an alert still pending on the
 * same channel (a resolve never overtakes what it resolves) */
#define SENDS_FROM                                                             \
    " FROM outbox_sends s JOIN outbox o ON o.id = s.outbox_id"                 \
    " WHERE s.state = 'pending' AND NOT EXISTS (SELECT 1 FROM outbox_sends b"  \
    " JOIN outbox bo ON bo.id = b.outbox_id WHERE b.channel = s.channel"       \
    " AND b.state = 'pending' AND bo.id < o.id AND bo.dedup_key <> ''"         \
    " AND bo.dedup_key = json_extract(o.payload, '$.resolves'))"

/* X(id, sql): every fixed statement, prepared on first use */
#define STATEMENTS(X)                                                          \
    X(BEGIN, "BEGIN IMMEDIATE")                                                \
    X(COMMIT, "COMMIT")                                                        \
    X(ROLLBACK, "ROLLBACK")                                                    \
    X(PING, "SELECT 1")                                                        \
    X(TOKEN_ADD, "INSERT INTO tokens (sha256, name, role, created_at)"         \
                 " VALUES (?1, ?2, ?3, ?4)")                                   \
    X(TOKEN_TOUCH, "UPDATE tokens SET last_used_at = ?2"                       \
                   " WHERE id = ?1 AND revoked = 0 AND last_used_at < ?3")     \
    X(TOKEN_BY_HASH, "SELECT " TOKEN_COLS " FROM tokens WHERE sha256 = ?1")    \
    X(TOKEN_COUNT, "SELECT count(*) FROM tokens")                              \
    X(TOKEN_LIST, "SELECT " TOKEN_COLS " FROM tokens ORDER BY id")             \
    X(TOKEN_REVOKE, "UPDATE tokens SET revoked = 1 WHERE id = ?1")             \
    X(REPO_ADD, "INSERT INTO repos (name, url, default_branch, hook_key,"      \
                " created_at) VALUES (?1, ?2, COALESCE(?3, 'main'), ?4, ?5)")  \
    X(REPO_UPDATE, "UPDATE repos SET url = ?2,"                                \
                   " default_branch = COALESCE(?3, default_branch),"           \
                   " hook_key = ?4 WHERE id = ?1")                             \
    X(REPO_BY_NAME, "SELECT " REPO_COLS " FROM repos WHERE name = ?1")         \
    X(REPO_BY_ID, "SELECT " REPO_COLS " FROM repos WHERE id = ?1")             \
    X(REPO_LIST, "SELECT " REPO_COLS " FROM repos ORDER BY name")              \
    X(SECRET_SET, "INSERT INTO secrets (repo_id, name, blob, updated_at)"      \
                  " VALUES (?1, ?2, ?3, ?4) ON CONFLICT (repo_id, name)"       \
                  " DO UPDATE SET blob = excluded.blob,"                       \
                  " updated_at = excluded.updated_at")                         \
    X(SECRET_DELETE, "DELETE FROM secrets WHERE repo_id = ?1 AND name = ?2")   \
    X(SECRET_NAMES, "SELECT name, NULL, updated_at FROM secrets"               \
                    " WHERE repo_id = ?1 ORDER BY name")                       \
    X(SECRET_BLOBS, "SELECT name, blob, updated_at FROM secrets"               \
                    " WHERE repo_id = ?1 ORDER BY name")                       \
    X(RUN_NEXT_NUMBER, "SELECT COALESCE(MAX(number), 0) + 1 FROM runs"         \
                       " WHERE repo_id = ?1 AND workflow = ?2")                \
    X(RUN_INSERT, "INSERT INTO runs (repo_id, workflow, workflow_name,"        \
                  " number, event, ref, sha, payload, actor, attempt,"         \
                  " status, concurrency, cancel_in_progress, created_at)"      \
                  " VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, 1,"            \
                  " 'queued', ?10, ?11, ?12)")                                 \
    X(RUN_BY_ID, "SELECT " RUN_COLS RUN_FROM " WHERE r.id = ?1")               \
    X(RUN_QUEUE, "SELECT " RUN_COLS RUN_FROM                                   \
                 " WHERE r.status IN ('queued', 'waiting') ORDER BY r.id")     \
    X(RUN_RUNNING,                                                             \
      "SELECT " RUN_COLS RUN_FROM " WHERE r.status = 'running' ORDER BY r.id") \
    X(RUN_STATE, "SELECT status, attempt FROM runs WHERE id = ?1")             \
    X(RUN_SET_RUNNING, "UPDATE runs SET status = 'running',"                   \
                       " started_at = ?2, finished_at = 0, reason = NULL"      \
                       " WHERE id = ?1")                                       \
    X(RUN_SET_DONE, "UPDATE runs SET status = 'completed',"                    \
                    " conclusion = ?2, reason = ?3, finished_at = ?4"          \
                    " WHERE id = ?1")                                          \
    X(RUN_REQUEUE, "UPDATE runs SET attempt = attempt + 1,"                    \
                   " status = 'queued', conclusion = NULL, reason = NULL,"     \
                   " started_at = 0, finished_at = 0,"                         \
                   " cancel_requested = 0, rerun_jobs = ?2 WHERE id = ?1")     \
    X(RUN_CANCEL_REQ, "UPDATE runs SET cancel_requested = 1 WHERE id = ?1")    \
    X(RUN_SET_WAIT, "UPDATE runs SET status = ?2, reason = ?3 WHERE id = ?1")  \
    X(ATTEMPT_INSERT, "INSERT INTO attempts (run_id, number, status, pid,"     \
                      " tag, started_at)"                                      \
                      " VALUES (?1, ?2, 'running', ?3, ?4, ?5)")               \
    X(ATTEMPT_END, "INSERT INTO attempts (run_id, number, status,"             \
                   " conclusion, reason, finished_at)"                         \
                   " VALUES (?1, ?2, 'completed', ?3, ?4, ?5)"                 \
                   " ON CONFLICT (run_id, number) DO UPDATE SET"               \
                   " status = 'completed', conclusion = excluded.conclusion,"  \
                   " reason = excluded.reason,"                                \
                   " finished_at = excluded.finished_at WHERE " UNFINISHED)    \
    X(ATTEMPT_LIST, "SELECT id, run_id, number, status, conclusion,"           \
                    " reason, pid, tag, started_at, finished_at"               \
                    " FROM attempts WHERE run_id = ?1 ORDER BY number")        \
    X(ATTEMPT_STEPS_CANCEL, "UPDATE steps SET status = 'completed',"           \
                            " conclusion = 'cancelled', finished_at = ?3"      \
                            " WHERE " UNFINISHED " AND job_id IN"              \
                            " (SELECT id FROM jobs"                            \
                            " WHERE run_id = ?1 AND attempt = ?2)")            \
    X(ATTEMPT_JOBS_CANCEL, "UPDATE jobs SET status = 'completed',"             \
                           " conclusion = 'cancelled',"                        \
                           " reason = COALESCE(reason, 'the run ended'),"      \
                           " finished_at = ?3 WHERE run_id = ?1"               \
                           " AND attempt = ?2 AND " UNFINISHED)                \
    X(JOB_START, "INSERT INTO jobs (run_id, attempt, job_key, name,"           \
                 " matrix, status, log_path, started_at)"                      \
                 " VALUES (?1, ?2, ?3, COALESCE(?4, ?3), ?5, 'running',"       \
                 " ?6, ?7)")                                                   \
    X(JOB_ADD_DONE, "INSERT INTO jobs (run_id, attempt, job_key, name,"        \
                    " matrix, status, conclusion, reason, finished_at)"        \
                    " VALUES (?1, ?2, ?3, COALESCE(?4, ?3), ?5,"               \
                    " 'completed', ?6, ?7, ?8)")                               \
    X(JOB_STATE, "SELECT status FROM jobs WHERE id = ?1")                      \
    X(JOB_FINISH, "UPDATE jobs SET status = 'completed', conclusion = ?2,"     \
                  " reason = ?3, outputs = ?4, finished_at = ?5"               \
                  " WHERE id = ?1")                                            \
    X(JOB_STEPS_CANCEL, "UPDATE steps SET status = 'completed',"               \
                        " conclusion = 'cancelled', finished_at = ?2"          \
                        " WHERE job_id = ?1 AND " UNFINISHED)                  \
    X(JOB_LIST, "SELECT " JOB_COLS " FROM jobs WHERE run_id = ?1"              \
                " AND attempt = CASE WHEN ?2 > 0 THEN ?2 ELSE"                 \
                " (SELECT attempt FROM runs WHERE id = ?1) END"                \
                " ORDER BY id")                                                \
    X(JOB_BY_ID, "SELECT " JOB_COLS " FROM jobs WHERE id = ?1")                \
    X(STEP_START, "INSERT INTO steps (job_id, number, name, status,"           \
                  " started_at) VALUES (?1, ?2, COALESCE(?3, ''),"             \
                  " 'running', ?4)")                                           \
    X(STEP_FINISH, "INSERT INTO steps (job_id, number, name, status,"          \
                   " conclusion, finished_at) VALUES (?1, ?2,"                 \
                   " COALESCE(?3, ''), 'completed', ?4, ?5)"                   \
                   " ON CONFLICT (job_id, number) DO UPDATE SET"               \
                   " name = COALESCE(?3, name), status = 'completed',"         \
                   " conclusion = excluded.conclusion,"                        \
                   " finished_at = excluded.finished_at")                      \
    X(STEP_LIST, "SELECT id, job_id, number, name, status, conclusion,"        \
                 " started_at, finished_at FROM steps WHERE job_id = ?1"       \
                 " ORDER BY number")                                           \
    X(ARTIFACT_ADD, "INSERT INTO artifacts (run_id, name, path, size,"         \
                    " created_at) VALUES (?1, ?2, ?3, ?4, ?5)"                 \
                    " ON CONFLICT (run_id, name) DO UPDATE SET"                \
                    " path = excluded.path, size = excluded.size,"             \
                    " created_at = excluded.created_at")                       \
    X(ARTIFACT_LIST, "SELECT id, run_id, name, path, size, created_at"         \
                     " FROM artifacts WHERE run_id = ?1 ORDER BY name")        \
    X(SCHED_ADD, "INSERT INTO schedules (repo_id, workflow, cron,"             \
                 " last_fired_at, created_at) VALUES (?1, ?2, ?3, ?4, ?4)"     \
                 " ON CONFLICT (repo_id, workflow, cron) DO NOTHING")          \
    X(SCHED_OF_REPO, "SELECT id, workflow, cron FROM schedules"                \
                     " WHERE repo_id = ?1")                                    \
    X(SCHED_DELETE, "DELETE FROM schedules WHERE id = ?1")                     \
    X(SCHED_LIST, "SELECT s.id, s.repo_id, p.name, s.workflow, s.cron,"        \
                  " s.last_fired_at, s.created_at FROM schedules s"            \
                  " JOIN repos p ON p.id = s.repo_id ORDER BY s.id")           \
    X(SCHED_FIRED, "UPDATE schedules SET last_fired_at = ?2 WHERE id = ?1")    \
    X(DELIVERY_ADD, "INSERT INTO deliveries (source, event, delivery,"         \
                    " repo, status, outcome, created_at) VALUES (?1,"          \
                    " COALESCE(?2, ''), COALESCE(?3, ''), COALESCE(?4, ''),"   \
                    " ?5, COALESCE(?6, ''), ?7)")                              \
    X(DELIVERY_LIST, "SELECT id, source, event, delivery, repo, status,"       \
                     " outcome, created_at FROM deliveries"                    \
                     " ORDER BY id DESC LIMIT ?1")                             \
    X(AUDIT_ADD, "INSERT INTO audit (token_id, action, target, detail,"        \
                 " created_at) VALUES (?1, ?2, COALESCE(?3, ''),"              \
                 " COALESCE(?4, ''), ?5)")                                     \
    X(AUDIT_LIST, "SELECT id, token_id, action, target, detail,"               \
                  " created_at FROM audit ORDER BY id DESC LIMIT ?1")          \
    X(ENV_PUT, "INSERT INTO environments (repo_id, name, rules, created_at,"   \
               " updated_at) VALUES (?1, ?2, ?3, ?4, ?4)"                      \
               " ON CONFLICT (repo_id, name) DO UPDATE SET"                    \
               " rules = excluded.rules, updated_at = excluded.updated_at"     \
               " RETURNING id")                                                \
    X(ENV_GET, "SELECT " ENV_JSON ENV_FROM                                     \
               " WHERE e.repo_id = ?1 AND e.name = ?2")                        \
    X(ENV_LIST, "SELECT " ENV_JSON ENV_FROM                                    \
                " WHERE ?1 = 0 OR e.repo_id = ?1 ORDER BY p.name, e.name")    \
    X(ENV_LOCK, "UPDATE environments SET locked = ?2, updated_at = ?3"         \
                " WHERE id = ?1")                                              \
    X(DEPLOY_ADD, "INSERT INTO deployments (repo_id, environment, kind,"       \
                  " run_id, attempt, job_key, sha, ref, actor, status, url,"   \
                  " version, strategy, created_at) VALUES (?1, ?2,"            \
                  " COALESCE(?3, 'deploy'), ?4, ?5, ?6, ?7, ?8, ?9, ?10,"      \
                  " ?11, ?12, ?13, ?14)")                                      \
    X(DEPLOY_SET, "UPDATE deployments SET status = COALESCE(?2, status),"      \
                  " reason = COALESCE(?3, reason),"                            \
                  " version = COALESCE(?4, version),"                          \
                  " strategy = COALESCE(?5, strategy),"                        \
                  " approved_by = COALESCE(?6, approved_by),"                  \
                  " release_tag = COALESCE(?7, release_tag),"                  \
                  " url = COALESCE(?8, url),"                                  \
                  " approved_at = COALESCE(?9, approved_at),"                  \
                  " started_at = COALESCE(?10, started_at),"                   \
                  " finished_at = COALESCE(?11, finished_at) WHERE id = ?1")  \
    X(DEPLOY_PHASE, "UPDATE deployments SET phases ="                          \
                    " json_insert(phases, '$[#]', json(?2)) WHERE id = ?1")   \
    X(DEPLOY_GET, "SELECT " DEPLOY_JSON DEPLOY_FROM " WHERE d.id = ?1")        \
    X(DEPLOY_LIST, "SELECT " DEPLOY_JSON DEPLOY_FROM                           \
                   " WHERE (?1 = 0 OR d.repo_id = ?1)"                         \
                   " AND (?2 IS NULL OR d.environment = ?2)"                   \
                   " AND (?3 IS NULL OR d.status = ?3)"                        \
                   " ORDER BY d.id DESC LIMIT ?4")                             \
    X(APPROVAL_ADD, "INSERT INTO approvals (deployment_id, token_id, user,"    \
                    " decision, comment, created_at)"                          \
                    " VALUES (?1, ?2, ?3, ?4, COALESCE(?5, ''), ?6)")          \
    X(INCIDENT_ADD, "INSERT INTO incidents (repo_id, environment,"             \
                    " deployment_id, status, reason, timeline, opened_at)"     \
                    " VALUES (?1, ?2, ?3, 'open', COALESCE(?4, ''),"           \
                    " json_array(json_object('at', " TS("?5") ", 'what',"      \
                    " ?4)), ?5)")                                              \
    X(INCIDENT_NOTE, "UPDATE incidents SET"                                    \
                     " status = COALESCE(?2, status),"                         \
                     " resolved_at = CASE WHEN ?2 = 'resolved' THEN ?4"        \
                     " ELSE resolved_at END, timeline = json_insert(timeline," \
                     " '$[#]', json_object('at', " TS("?4") ", 'what', ?3))"   \
                     " WHERE id = ?1")                                         \
    X(INCIDENT_GET, "SELECT " INCIDENT_JSON INCIDENT_FROM " WHERE i.id = ?1")  \
    X(INCIDENT_LIST, "SELECT " INCIDENT_JSON INCIDENT_FROM                     \
                     " WHERE ?1 = 0 OR i.repo_id = ?1"                         \
                     " ORDER BY i.id DESC LIMIT ?2")                           \
    X(OUTBOX_ADD, "INSERT INTO outbox (level, kind, dedup_key, payload,"       \
                  " created_at) VALUES (?1, ?2, COALESCE(?3, ''), ?4, ?5)")    \
    X(OUTBOX_LIST, "SELECT json_object('id', o.id, 'level', o.level, 'kind',"  \
                   " o.kind, 'dedup_key', o.dedup_key, 'payload',"             \
                   " json(o.payload), 'attempts', (SELECT"                     \
                   " COALESCE(SUM(attempts), 0) FROM outbox_sends"             \
                   " WHERE outbox_id = o.id), 'delivered_at', "                \
                   TS("o.delivered_at") ", 'created_at', "                     \
                   TS("o.created_at") ", 'deliveries', " SENDS_JSON           \
                   ") FROM outbox o ORDER BY o.id DESC LIMIT ?1")              \
    X(OUTBOX_UNROUTED, "SELECT json_object('id', id, 'level', level,"          \
                       " 'kind', kind, 'dedup_key', dedup_key, 'payload',"     \
                       " json(payload)) FROM outbox WHERE routed_at = 0"       \
                       " ORDER BY id LIMIT ?1")                                \
    X(OUTBOX_CHANNELS_OF, "SELECT json_group_array(channel) FROM (SELECT"      \
                          " DISTINCT s.channel FROM outbox_sends s"            \
                          " JOIN outbox o ON o.id = s.outbox_id"               \
                          " WHERE o.dedup_key = ?1 AND s.state <>"             \
                          " 'duplicate' ORDER BY s.channel)")                  \
    X(SEND_ADD, "INSERT INTO outbox_sends (outbox_id, channel, state,"         \
                " next_at) VALUES (?1, ?2, CASE WHEN EXISTS (SELECT 1"         \
                " FROM outbox_sends d JOIN outbox dd ON dd.id = d.outbox_id"   \
                " WHERE d.channel = ?2 AND d.state <> 'duplicate'"             \
                " AND dd.id <> ?1 AND dd.dedup_key <> '' AND dd.dedup_key ="   \
                " (SELECT dedup_key FROM outbox WHERE id = ?1))"               \
                " THEN 'duplicate' ELSE 'pending' END, ?3)"                    \
                " ON CONFLICT (outbox_id, channel) DO NOTHING")                \
    X(OUTBOX_ROUTED, "UPDATE outbox SET routed_at = ?2 WHERE id = ?1")         \
    X(OUTBOX_SETTLE, "UPDATE outbox SET delivered_at = ?2 WHERE id = ?1"       \
                     " AND delivered_at = 0 AND EXISTS (SELECT 1"              \
                     " FROM outbox_sends WHERE outbox_id = ?1) AND NOT"        \
                     " EXISTS (SELECT 1 FROM outbox_sends WHERE"               \
                     " outbox_id = ?1 AND state = 'pending')")                 \
    X(SEND_DUE, "SELECT json_object('outbox_id', o.id, 'channel', s.channel,"  \
                " 'attempts', s.attempts, 'level', o.level, 'kind', o.kind,"   \
                " 'dedup_key', o.dedup_key, 'payload', json(o.payload),"       \
                " 'created_at', o.created_at, 'resolved', (SELECT"             \
                " json_object('level', r.level, 'kind', r.kind,"               \
                " 'created_at', r.created_at, 'payload', json(r.payload))"     \
                " FROM outbox r WHERE r.dedup_key <> '' AND r.dedup_key ="     \
                " json_extract(o.payload, '$.resolves') AND r.id < o.id"       \
                " ORDER BY r.id LIMIT 1))" SENDS_FROM                          \
                " AND s.next_at <= ?1 ORDER BY o.id, s.channel LIMIT ?2")      \
    X(SEND_NEXT, "SELECT MIN(s.next_at)" SENDS_FROM)                           \
    X(SEND_DONE, "UPDATE outbox_sends SET state = 'sent', attempts ="          \
                 " attempts + 1, sent_at = ?3, last_error = NULL"              \
                 " WHERE outbox_id = ?1 AND channel = ?2"                      \
                 " AND state = 'pending'")                                     \
    X(REPORT_ADD, "INSERT INTO reports (run_id, attempt, job_key, step, kind,"  \
                  " summary, created_at) VALUES (?1, ?2, COALESCE(?3, ''),"   \
                  " ?4, ?5, ?6, ?7)")                                          \
    X(REPORT_LIST, "SELECT json_object('id', id, 'attempt', attempt, 'job',"   \
                   " job_key, 'step', step, 'kind', kind, 'summary',"          \
                   " json(summary), 'created_at', " TS("created_at") ")"      \
                   " FROM reports WHERE run_id = ?1 ORDER BY id")              \
    X(REPORT_TREND, "SELECT json_object('run_id', r.id, 'number', r.number,"   \
                    " 'workflow', r.workflow, 'ref', r.ref, 'sha', r.sha,"     \
                    " 'created_at', " TS("x.created_at") ", 'summary',"       \
                    " json(x.summary)) FROM reports x JOIN runs r"             \
                    " ON r.id = x.run_id WHERE x.kind = ?3"                     \
                    " AND (?1 = 0 OR r.repo_id = ?1)"                           \
                    " AND (?2 IS NULL OR r.ref = ?2)"                           \
                    " ORDER BY x.id DESC LIMIT ?4")                            \
    X(DORA_DEPLOYS, "SELECT json_object('id', d.id, 'repo', p.name,"           \
                    " 'environment', d.environment, 'kind', d.kind,"           \
                    " 'status', d.status, 'sha', d.sha, 'version', d.version," \
                    " 'created_at', d.created_at, 'started_at', d.started_at," \
                    " 'finished_at', d.finished_at, 'commit_at', d.commit_at," \
                    " 'incident', json(CASE WHEN EXISTS (SELECT 1 FROM"        \
                    " incidents i WHERE i.deployment_id = d.id) THEN 'true'"   \
                    " ELSE 'false' END))" DEPLOY_FROM                           \
                    " LEFT JOIN environments e ON e.repo_id = d.repo_id"       \
                    " AND e.name = d.environment"                              \
                    " WHERE (?1 = 0 OR d.repo_id = ?1) AND CASE WHEN ?2 IS"    \
                    " NULL THEN d.environment = 'production' OR COALESCE("     \
                    "json_extract(e.rules, '$.production'), 0) = 1 ELSE"        \
                    " d.environment = ?2 END AND d.created_at >= ?3"           \
                    " AND d.created_at < ?4 ORDER BY d.id")                    \
    X(DORA_INCIDENTS, "SELECT json_object('id', i.id, 'repo', p.name,"         \
                      " 'environment', i.environment, 'deployment_id',"        \
                      " i.deployment_id, 'status', i.status, 'opened_at',"     \
                      " i.opened_at, 'resolved_at', i.resolved_at)"            \
                      INCIDENT_FROM                                            \
                      " LEFT JOIN environments e ON e.repo_id = i.repo_id"     \
                      " AND e.name = i.environment"                            \
                      " WHERE (?1 = 0 OR i.repo_id = ?1) AND CASE WHEN ?2"     \
                      " IS NULL THEN i.environment = 'production' OR"          \
                      " COALESCE(json_extract(e.rules, '$.production'), 0)"    \
                      " = 1 ELSE i.environment = ?2 END"                       \
                      " AND i.opened_at >= ?3 AND i.opened_at < ?4"            \
                      " ORDER BY i.id")                                        \
    X(DORA_RUNS, "SELECT json_object('id', r.id, 'workflow', r.workflow,"      \
                 " 'event', r.event, 'ref', r.ref, 'status', r.status,"        \
                 " 'conclusion', r.conclusion, 'created_at', r.created_at,"    \
                 " 'started_at', r.started_at, 'finished_at', r.finished_at)"  \
                 " FROM runs r WHERE (?1 = 0 OR r.repo_id = ?1)"                \
                 " AND r.created_at >= ?3 AND r.created_at < ?4"               \
                 " AND (?2 IS NULL OR 1) ORDER BY r.id")                       \
    X(DORA_REPORTS, "SELECT json_object('run_id', x.run_id, 'ref', r.ref,"     \
                    " 'kind', x.kind, 'created_at', x.created_at, 'summary',"  \
                    " json(x.summary)) FROM reports x JOIN runs r"             \
                    " ON r.id = x.run_id WHERE x.kind IN ('tests',"           \
                    " 'coverage') AND (?1 = 0 OR r.repo_id = ?1)"             \
                    " AND x.created_at >= ?3 AND x.created_at < ?4"            \
                    " AND (?2 IS NULL OR 1) ORDER BY x.id")                    \
    X(DEPLOY_COMMIT_AT, "UPDATE deployments SET commit_at = ?2 WHERE id = ?1") \
    X(SEND_RETRY, "UPDATE outbox_sends SET attempts = attempts + ?3,"          \
                  " next_at = MAX(next_at, ?4), last_error ="                  \
                  " COALESCE(?5, last_error) WHERE outbox_id = ?1"             \
                  " AND channel = ?2 AND state = 'pending'")

#define AS_ENUM(id, sql) ST_##id,
#define AS_TEXT(id, sql) sql,
enum stmt_id { STATEMENTS(AS_ENUM) ST_COUNT };
static const char *const stmt_sql[] = {STATEMENTS(AS_TEXT)};

/* run_list's WHERE is one of 2^7 shapes (which filters are set); each
 * shape is prepared once */
enum {
    LF_REPO = 1 << 0,
    LF_REF = 1 << 1,
    LF_STATUS = 1 << 2,
    LF_CONCLUSION = 1 << 3,
    LF_EVENT = 1 << 4,
    LF_WORKFLOW = 1 << 5,
    LF_BEFORE = 1 << 6,
    LF_SHAPES = 1 << 7
};

struct sdb {
    sqlite3 *db;
    int version;                /* schema version after migration */
    sqlite3_stmt *st[ST_COUNT]; /* NULL until first use */
    sqlite3_stmt *list_st[LF_SHAPES];
};

/* ---------- small helpers ---------- */

static int64_t now_ms(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Map a SQLite result to a ferr code and message "store: WHAT: MSG". */
static enum ferr_code fail(struct sdb *d, int src, struct ferr *err,
                           const char *what)
{
    enum ferr_code code = FERR_IO;

    if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
        code = FERR_NOTFOUND;
    else if ((src & 0xff) == SQLITE_CONSTRAINT)
        code = FERR_INVALID;
    else if ((src & 0xff) == SQLITE_TOOBIG)
        code = FERR_LIMIT;
    return ferr_set(err, code, NULL, "store: %s: %s", what,
                    d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(src));
}

/* One use of a statement: bind in order, step, then q_end (which resets
 * it and drops the bindings, so the STATIC-bound strings are not kept). */
struct q {
    struct sdb *d;
    sqlite3_stmt *st;
    int next; /* the next parameter index, from 1 */
    int brc;  /* the first bind error, SQLITE_OK when none */
};

static enum ferr_code prepare(struct sdb *d, const char *sql,
                              sqlite3_stmt **out, struct ferr *err)
{
    int src = sqlite3_prepare_v3(d->db, sql, -1, SQLITE_PREPARE_PERSISTENT, out,
                                 NULL);

    if (src != SQLITE_OK) {
        *out = NULL;
        return fail(d, src, err, "prepare");
    }
    return FERR_OK;
}

static enum ferr_code q_use(struct sdb *d, sqlite3_stmt **slot, const char *sql,
                            struct q *q, struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    q->d = d;
    q->st = NULL;
    q->next = 1;
    q->brc = SQLITE_OK;
    if (!*slot)
        rc = prepare(d, sql, slot, err);
    q->st = *slot;
    return rc;
}

static enum ferr_code q_begin(struct sdb *d, enum stmt_id id, struct q *q,
                              struct ferr *err)
{
    return q_use(d, &d->st[id], stmt_sql[id], q, err);
}

static void q_end(struct q *q)
{
    if (!q->st)
        return;
    sqlite3_reset(q->st);
    sqlite3_clear_bindings(q->st);
    q->st = NULL;
}

static void q_note(struct q *q, int src)
{
    if (src != SQLITE_OK && q->brc == SQLITE_OK)
        q->brc = src;
    q->next++;
}

static void q_i64(struct q *q, int64_t v)
{
    q_note(q, sqlite3_bind_int64(q->st, q->next, v));
}

static void q_text(struct q *q, const char *s)
{
    if (s)
        q_note(q, sqlite3_bind_text(q->st, q->next, s, -1, SQLITE_STATIC));
    else
        q_note(q, sqlite3_bind_null(q->st, q->next));
}

static void q_blob(struct q *q, const void *p, size_t n)
{
    if (!p)
        q_note(q, sqlite3_bind_null(q->st, q->next));
    else if (n == 0)
        q_note(q, sqlite3_bind_zeroblob(q->st, q->next, 0));
    else
        q_note(q, sqlite3_bind_blob64(q->st, q->next, p, n, SQLITE_STATIC));
}

/* SQLITE_ROW, SQLITE_DONE or an error (a bind error first) */
static int q_step(struct q *q)
{
    if (q->brc != SQLITE_OK)
        return q->brc;
    return sqlite3_step(q->st);
}

/* Step a statement that returns no rows; the raw SQLite code. */
static int q_run(struct q *q)
{
    int src = q_step(q);

    while (src == SQLITE_ROW)
        src = sqlite3_step(q->st);
    return src;
}

static enum ferr_code q_exec(struct q *q, const char *what, struct ferr *err)
{
    int src = q_run(q);

    if (src != SQLITE_DONE)
        return fail(q->d, src, err, what);
    return FERR_OK;
}

/* Read the single row of @q with @read into @out.  FERR_NOTFOUND
 * without a message when there is none: the caller says what was not
 * found. */
static enum ferr_code q_one(struct q *q, void (*read)(sqlite3_stmt *, void *),
                            void *out, const char *what, struct ferr *err)
{
    int src = q_step(q);

    if (src == SQLITE_ROW) {
        read(q->st, out);
        return FERR_OK;
    }
    if (src == SQLITE_DONE)
        return FERR_NOTFOUND;
    return fail(q->d, src, err, what);
}

/* Read every row of @q into a fresh array of @elem-sized records.  On
 * error the records read so far are freed with @free_v. */
static enum ferr_code q_rows(struct q *q, size_t elem,
                             void (*read)(sqlite3_stmt *, void *),
                             void (*free_v)(void *, size_t), void **out,
                             size_t *out_n, const char *what, struct ferr *err)
{
    char *v = NULL;
    size_t n = 0;
    size_t cap = 0;
    int src;

    while ((src = q_step(q)) == SQLITE_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 8;
            v = xrealloc(v, cap * elem);
        }
        memset(v + n * elem, 0, elem);
        read(q->st, v + n * elem);
        n++;
    }
    if (src != SQLITE_DONE) {
        free_v(v, n);
        *out = NULL;
        *out_n = 0;
        return fail(q->d, src, err, what);
    }
    *out = v;
    *out_n = n;
    return FERR_OK;
}

static int64_t col_i64(sqlite3_stmt *st, int i)
{
    return sqlite3_column_int64(st, i);
}

static char *col_str(sqlite3_stmt *st, int i)
{
    const unsigned char *p;

    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    p = sqlite3_column_text(st, i);
    if (!p)
        return xstrdup(""); /* out of memory in SQLite reads as empty */
    return xstrndup((const char *)p, (size_t)sqlite3_column_bytes(st, i));
}

/* A BLOB column as a heap copy (NULL for SQL NULL; an empty blob is a
 * non-NULL allocation of length 0). */
static unsigned char *col_blob(sqlite3_stmt *st, int i, size_t *out_len)
{
    const void *p;
    size_t n;

    *out_len = 0;
    if (sqlite3_column_type(st, i) == SQLITE_NULL)
        return NULL;
    p = sqlite3_column_blob(st, i);
    n = (size_t)sqlite3_column_bytes(st, i);
    *out_len = n;
    return n ? xmemdup(p, n) : xmalloc(1);
}

/* ---------- transactions ---------- */

/* Every change of more than one statement runs between tx_begin and
 * tx_end.  A change of a single statement runs in autocommit mode, which
 * is one transaction as well: SQLite takes the write lock (waiting in
 * the busy handler) before it reads. */
static enum ferr_code tx_begin(struct sdb *d, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(d, ST_BEGIN, &q, err);

    if (!rc)
        rc = q_exec(&q, "begin", err);
    q_end(&q);
    return rc;
}

/* COMMIT when @rc is FERR_OK, else (or when COMMIT fails) ROLLBACK.
 * Returns @rc or the commit error. */
static enum ferr_code tx_end(struct sdb *d, enum ferr_code rc, struct ferr *err)
{
    struct q q;

    if (!rc) {
        rc = q_begin(d, ST_COMMIT, &q, err);
        if (!rc)
            rc = q_exec(&q, "commit", err);
        q_end(&q);
    }
    if (rc && !sqlite3_get_autocommit(d->db)) {
        if (!q_begin(d, ST_ROLLBACK, &q, NULL))
            (void)q_run(&q);
        q_end(&q);
    }
    return rc;
}

/* ---------- open, migrate, close ---------- */

/* Create a missing database file with mode 0600, so that neither it nor
 * its -wal and -shm files (SQLite gives them the database's mode) are
 * readable by others: tokens' hashes and sealed secrets live there. */
static enum ferr_code create_private(const char *path, struct ferr *err)
{
    int fd;

    if (strcmp(path, ":memory:") == 0)
        return FERR_OK;
    fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd >= 0) {
        close(fd);
        return FERR_OK;
    }
    if (errno == EEXIST)
        return FERR_OK;
    return ferr_set(err, FERR_IO, NULL, "store: cannot create '%s': %s", path,
                    strerror(errno));
}

static enum ferr_code exec_sql(struct sdb *d, const char *sql, const char *what,
                               struct ferr *err)
{
    char *msg = NULL;
    int src = sqlite3_exec(d->db, sql, NULL, NULL, &msg);
    enum ferr_code rc = FERR_OK;

    if (src != SQLITE_OK)
        rc = ferr_set(err, FERR_IO, NULL, "store: %s: %s", what,
                      msg ? msg : sqlite3_errstr(src));
    sqlite3_free(msg);
    return rc;
}

static enum ferr_code pragma_int(struct sdb *d, const char *sql, int64_t *out,
                                 struct ferr *err)
{
    sqlite3_stmt *st = NULL;
    int src = sqlite3_prepare_v2(d->db, sql, -1, &st, NULL);

    *out = 0;
    if (src == SQLITE_OK) {
        src = sqlite3_step(st);
        if (src == SQLITE_ROW) {
            *out = sqlite3_column_int64(st, 0);
            src = SQLITE_OK;
        }
    }
    if (src != SQLITE_OK) {
        enum ferr_code rc = fail(d, src, err, "read schema version");

        sqlite3_finalize(st);
        return rc;
    }
    sqlite3_finalize(st);
    return FERR_OK;
}

/* Bring the schema to SCHEMA_VERSION, one transaction per migration;
 * another process migrating at the same time is fine (the version is
 * read again under the write lock). */
static enum ferr_code migrate(struct sdb *d, struct ferr *err)
{
    enum ferr_code rc = FERR_OK;
    int64_t v = 0;
    int64_t app = 0;

    for (;;) {
        rc = tx_begin(d, err);
        if (rc)
            return rc;
        rc = pragma_int(d, "PRAGMA user_version", &v, err);
        if (!rc)
            rc = pragma_int(d, "PRAGMA application_id", &app, err);
        if (!rc && app != 0 && app != APP_ID)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "store: not a ferry database (application id "
                          "%" PRId64 ")",
                          app);
        if (!rc && v > SCHEMA_VERSION)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "database schema version %" PRId64
                          " is newer than this ferry (%d)",
                          v, SCHEMA_VERSION);
        if (!rc && v < 0)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "database schema version %" PRId64 " is unknown", v);
        if (rc || v == SCHEMA_VERSION) {
            rc = tx_end(d, rc, err);
            break;
        }
        rc = exec_sql(d, migrations[v], "migrate", err);
        if (!rc) {
            char bump[64];

            snprintf(bump, sizeof(bump), "PRAGMA user_version = %" PRId64,
                     v + 1);
            rc = exec_sql(d, bump, "migrate", err);
        }
        if (rc)
            ferr_prefix(err, "to version %" PRId64, v + 1);
        rc = tx_end(d, rc, err);
        if (rc)
            break;
    }
    if (!rc)
        d->version = (int)v;
    return rc;
}

static void sq_close(void *db)
{
    struct sdb *d = db;

    if (!d)
        return;
    for (size_t i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(d->st[i]);
    for (size_t i = 0; i < LF_SHAPES; i++)
        sqlite3_finalize(d->list_st[i]);
    sqlite3_close(d->db);
    free(d);
}

static enum ferr_code sq_open(const char *path, void **out_db, struct ferr *err)
{
    struct sdb *d;
    enum ferr_code rc;
    int src;

    *out_db = NULL;
    /* upsert (ON CONFLICT ... DO UPDATE) arrived in 3.24.0 */
    if (sqlite3_libversion_number() < 3024000)
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "store: sqlite %s is too old (3.24.0 or later)",
                        sqlite3_libversion());
    rc = create_private(path, err);
    if (rc)
        return rc;
    d = xcalloc(1, sizeof(*d));
    /* one connection per thread (store.h): no mutex needed */
    src = sqlite3_open_v2(
        path, &d->db,
        SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
    if (src != SQLITE_OK) {
        rc = ferr_set(err, FERR_IO, NULL, "store: cannot open '%s': %s", path,
                      d->db ? sqlite3_errmsg(d->db) : sqlite3_errstr(src));
        goto done;
    }
    sqlite3_extended_result_codes(d->db, 1);
    sqlite3_busy_timeout(d->db, 5000);
    /* WAL: readers do not block the writer.  synchronous=NORMAL: in WAL
     * mode a commit is durable once it is in the WAL file, which
     * survives the process being killed (kill -9 at any moment loses no
     * committed transaction and never corrupts the database); only a
     * power loss or OS crash may lose the last commits, never
     * consistency.  That is our requirement, and it spares an fsync per
     * transition. */
    rc = exec_sql(d, "PRAGMA journal_mode = WAL", "set journal mode", err);
    if (!rc)
        rc = exec_sql(d,
                      "PRAGMA synchronous = NORMAL;"
                      "PRAGMA foreign_keys = ON",
                      "set pragmas", err);
    if (!rc)
        rc = migrate(d, err);
    if (rc == FERR_IO)
        ferr_prefix(err, "'%s'", path);
done:
    if (rc) {
        sq_close(d);
        return rc;
    }
    *out_db = d;
    return FERR_OK;
}

static int sq_schema_version(void *db)
{
    return ((struct sdb *)db)->version;
}

static enum ferr_code sq_ping(void *db, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_PING, &q, err);

    if (!rc)
        rc = q_exec(&q, "ping", err);
    q_end(&q);
    return rc;
}

/* ---------- tokens ---------- */

static void read_token(sqlite3_stmt *st, void *out)
{
    struct store_token *t = out;
    const unsigned char *role = sqlite3_column_text(st, 2);

    t->id = col_i64(st, 0);
    t->name = col_str(st, 1);
    t->role = store_role_parse((const char *)role);
    t->created_at = col_i64(st, 3);
    t->last_used_at = col_i64(st, 4);
    t->revoked = col_i64(st, 5) != 0;
}

static void free_tokens(void *v, size_t n)
{
    store_tokens_free(v, n);
}

static enum ferr_code sq_token_add(void *db, const char *sha256_hex,
                                   enum store_role role, const char *name,
                                   int64_t *out_id, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_TOKEN_ADD, &q, err);
    int src;

    if (rc)
        return rc;
    q_text(&q, sha256_hex);
    q_text(&q, name);
    q_text(&q, store_role_name(role));
    q_i64(&q, now_ms());
    src = q_run(&q);
    if (src == SQLITE_DONE)
        *out_id = sqlite3_last_insert_rowid(d->db);
    else if (src == SQLITE_CONSTRAINT_UNIQUE)
        rc = ferr_set(err, FERR_INVALID, NULL, "token exists");
    else
        rc = fail(d, src, err, "insert token");
    q_end(&q);
    return rc;
}

/* A read, and a write only when last_used_at is over STORE_TOKEN_TOUCH_MS
 * old: an API request or a dashboard page is no write transaction. */
static enum ferr_code sq_token_find(void *db, const char *sha256_hex,
                                    struct store_token *out, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_TOKEN_BY_HASH, &q, err);
    int64_t now = now_ms();

    if (!rc) {
        q_text(&q, sha256_hex);
        rc = q_one(&q, read_token, out, "read token", err);
    }
    q_end(&q);
    if (rc == FERR_NOTFOUND || (!rc && out->revoked))
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "token not found");
    if (!rc && now - out->last_used_at > STORE_TOKEN_TOUCH_MS) {
        /* the guard keeps a concurrent touch from being undone */
        rc = q_begin(d, ST_TOKEN_TOUCH, &q, err);
        if (!rc) {
            q_i64(&q, out->id);
            q_i64(&q, now);
            q_i64(&q, now - STORE_TOKEN_TOUCH_MS);
            rc = q_exec(&q, "update token", err);
        }
        q_end(&q);
        if (!rc && sqlite3_changes(d->db) > 0)
            out->last_used_at = now;
    }
    if (rc)
        store_token_release(out);
    return rc;
}

static enum ferr_code sq_token_count(void *db, int64_t *out, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_TOKEN_COUNT, &q, err);
    int src;

    if (rc)
        return rc;
    src = q_step(&q);
    if (src == SQLITE_ROW)
        *out = col_i64(q.st, 0);
    else
        rc = fail(d, src, err, "count tokens");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_token_list(void *db, struct store_token **out,
                                    size_t *out_n, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_TOKEN_LIST, &q, err);

    if (!rc)
        rc = q_rows(&q, sizeof(**out), read_token, free_tokens, (void **)out,
                    out_n, "list tokens", err);
    q_end(&q);
    return rc;
}

static enum ferr_code sq_token_revoke(void *db, int64_t id, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_TOKEN_REVOKE, &q, err);

    if (!rc) {
        q_i64(&q, id);
        rc = q_exec(&q, "revoke token", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "token %" PRId64 " not found",
                      id);
    return rc;
}

/* ---------- repositories ---------- */

static void read_repo(sqlite3_stmt *st, void *out)
{
    struct store_repo *r = out;

    r->id = col_i64(st, 0);
    r->name = col_str(st, 1);
    r->url = col_str(st, 2);
    r->default_branch = col_str(st, 3);
    r->hook_key = col_blob(st, 4, &r->hook_key_len);
    r->created_at = col_i64(st, 5);
}

static void free_repos(void *v, size_t n)
{
    store_repos_free(v, n);
}

static enum ferr_code sq_repo_add(void *db, const struct store_repo *in,
                                  int64_t *out_id, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_REPO_ADD, &q, err);
    int src;

    if (rc)
        return rc;
    q_text(&q, in->name);
    q_text(&q, in->url);
    q_text(&q, in->default_branch);
    q_blob(&q, in->hook_key, in->hook_key_len);
    q_i64(&q, now_ms());
    src = q_run(&q);
    if (src == SQLITE_DONE)
        *out_id = sqlite3_last_insert_rowid(d->db);
    else if (src == SQLITE_CONSTRAINT_UNIQUE)
        rc = ferr_set(err, FERR_INVALID, NULL, "repository '%s' exists",
                      in->name);
    else
        rc = fail(d, src, err, "insert repository");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_repo_update(void *db, const struct store_repo *in,
                                     struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_REPO_UPDATE, &q, err);

    if (!rc) {
        q_i64(&q, in->id);
        q_text(&q, in->url);
        q_text(&q, in->default_branch);
        q_blob(&q, in->hook_key, in->hook_key_len);
        rc = q_exec(&q, "update repository", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "repository %" PRId64 " not found", in->id);
    return rc;
}

static enum ferr_code sq_repo_get(void *db, const char *name,
                                  struct store_repo *out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_REPO_BY_NAME, &q, err);

    if (!rc) {
        q_text(&q, name);
        rc = q_one(&q, read_repo, out, "read repository", err);
        if (rc == FERR_NOTFOUND)
            ferr_set(err, rc, NULL, "repository '%s' not found", name);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_repo_get_id(void *db, int64_t id,
                                     struct store_repo *out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_REPO_BY_ID, &q, err);

    if (!rc) {
        q_i64(&q, id);
        rc = q_one(&q, read_repo, out, "read repository", err);
        if (rc == FERR_NOTFOUND)
            ferr_set(err, rc, NULL, "repository %" PRId64 " not found", id);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_repo_list(void *db, struct store_repo **out,
                                   size_t *out_n, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_REPO_LIST, &q, err);

    if (!rc)
        rc = q_rows(&q, sizeof(**out), read_repo, free_repos, (void **)out,
                    out_n, "list repositories", err);
    q_end(&q);
    return rc;
}

/* ---------- secrets ---------- */

static void read_secret(sqlite3_stmt *st, void *out)
{
    struct store_secret *s = out;

    s->name = col_str(st, 0);
    s->blob = col_blob(st, 1, &s->len);
    s->updated_at = col_i64(st, 2);
}

static void free_secrets(void *v, size_t n)
{
    store_secrets_free(v, n);
}

static enum ferr_code sq_secret_set(void *db, int64_t repo_id, const char *name,
                                    const unsigned char *blob, size_t len,
                                    struct ferr *err)
{
    static const unsigned char empty[1];
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_SECRET_SET, &q, err);
    int src;

    if (rc)
        return rc;
    q_i64(&q, repo_id);
    q_text(&q, name);
    q_blob(&q, blob ? blob : empty, len);
    q_i64(&q, now_ms());
    src = q_run(&q);
    if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "repository %" PRId64 " not found", repo_id);
    else if (src != SQLITE_DONE)
        rc = fail(d, src, err, "set secret");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_secret_delete(void *db, int64_t repo_id,
                                       const char *name, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_SECRET_DELETE, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        q_text(&q, name);
        rc = q_exec(&q, "delete secret", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "secret '%s' not found", name);
    return rc;
}

static enum ferr_code sq_secret_list(void *db, int64_t repo_id, bool blobs,
                                     struct store_secret **out, size_t *out_n,
                                     struct ferr *err)
{
    struct q q;
    enum ferr_code rc =
        q_begin(db, blobs ? ST_SECRET_BLOBS : ST_SECRET_NAMES, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        rc = q_rows(&q, sizeof(**out), read_secret, free_secrets, (void **)out,
                    out_n, "list secrets", err);
    }
    q_end(&q);
    return rc;
}

/* ---------- runs ---------- */

static void read_run(sqlite3_stmt *st, void *out)
{
    struct store_run *r = out;

    r->id = col_i64(st, 0);
    r->repo_id = col_i64(st, 1);
    r->repo = col_str(st, 2);
    r->workflow = col_str(st, 3);
    r->workflow_name = col_str(st, 4);
    r->number = col_i64(st, 5);
    r->event = col_str(st, 6);
    r->ref = col_str(st, 7);
    r->sha = col_str(st, 8);
    r->payload = col_str(st, 9);
    r->actor = col_str(st, 10);
    r->attempt = (int)col_i64(st, 11);
    r->status = col_str(st, 12);
    r->conclusion = col_str(st, 13);
    r->reason = col_str(st, 14);
    r->concurrency = col_str(st, 15);
    r->cancel_in_progress = col_i64(st, 16) != 0;
    r->cancel_requested = col_i64(st, 17) != 0;
    r->rerun_jobs = col_str(st, 18);
    r->created_at = col_i64(st, 19);
    r->started_at = col_i64(st, 20);
    r->finished_at = col_i64(st, 21);
}

static void free_runs(void *v, size_t n)
{
    store_runs_free(v, n);
}

static bool is_waiting(const char *status)
{
    return strcmp(status, "queued") == 0 || strcmp(status, "waiting") == 0;
}

/* The status (into @status) and current attempt of run @id, read in the
 * caller's transaction.  Errors: FERR_NOTFOUND. */
static enum ferr_code run_state(struct sdb *d, int64_t id, char status[16],
                                int *attempt, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(d, ST_RUN_STATE, &q, err);
    int src;

    status[0] = '\0';
    *attempt = 0;
    if (rc)
        return rc;
    q_i64(&q, id);
    src = q_step(&q);
    if (src == SQLITE_ROW) {
        const unsigned char *s = sqlite3_column_text(q.st, 0);

        snprintf(status, 16, "%s", s ? (const char *)s : "");
        *attempt = (int)col_i64(q.st, 1);
    } else if (src == SQLITE_DONE) {
        rc =
            ferr_set(err, FERR_NOTFOUND, NULL, "run %" PRId64 " not found", id);
    } else {
        rc = fail(d, src, err, "read run");
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_run_create(void *db, const struct store_run *in,
                                    int64_t *out_id, int64_t *out_number,
                                    struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    int64_t number = 0;
    enum ferr_code rc = tx_begin(d, err);
    int src;

    if (rc)
        return rc;
    rc = q_begin(d, ST_RUN_NEXT_NUMBER, &q, err);
    if (!rc) {
        q_i64(&q, in->repo_id);
        q_text(&q, in->workflow);
        src = q_step(&q);
        if (src == SQLITE_ROW)
            number = col_i64(q.st, 0);
        else
            rc = fail(d, src, err, "number run");
    }
    q_end(&q);
    if (!rc)
        rc = q_begin(d, ST_RUN_INSERT, &q, err);
    if (!rc) {
        q_i64(&q, in->repo_id);
        q_text(&q, in->workflow);
        q_text(&q, in->workflow_name);
        q_i64(&q, number);
        q_text(&q, in->event);
        q_text(&q, in->ref);
        q_text(&q, in->sha);
        q_text(&q, in->payload);
        q_text(&q, in->actor);
        q_text(&q, in->concurrency);
        q_i64(&q, in->cancel_in_progress ? 1 : 0);
        q_i64(&q, now_ms());
        src = q_run(&q);
        if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
            rc = ferr_set(err, FERR_NOTFOUND, NULL,
                          "repository %" PRId64 " not found", in->repo_id);
        else if (src != SQLITE_DONE)
            rc = fail(d, src, err, "insert run");
        else
            *out_id = sqlite3_last_insert_rowid(d->db);
    }
    q_end(&q);
    rc = tx_end(d, rc, err);
    if (rc)
        *out_id = 0;
    else
        *out_number = number;
    return rc;
}

static enum ferr_code sq_run_get(void *db, int64_t id, struct store_run *out,
                                 struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_RUN_BY_ID, &q, err);

    if (!rc) {
        q_i64(&q, id);
        rc = q_one(&q, read_run, out, "read run", err);
        if (rc == FERR_NOTFOUND)
            ferr_set(err, rc, NULL, "run %" PRId64 " not found", id);
    }
    q_end(&q);
    return rc;
}

/* The SQL of run_list for the filters in @shape: fixed fragments only;
 * every value is a bound parameter.  Each shape with a repository, a
 * branch, a conclusion or a status reads one index range newest first
 * (runs_by_repo, _branch, _conclusion, _status: schema 5), no sort. */
static enum ferr_code list_sql(unsigned shape, struct buf *b)
{
    enum ferr_code rc =
        buf_adds(b, "SELECT " RUN_COLS_A "NULL" RUN_COLS_B RUN_FROM " WHERE 1");

    if (!rc && (shape & LF_REPO))
        rc = buf_adds(b, " AND p.name = ?");
    /* the branch key narrows to the index range; the exact test follows
     * (a full refs/heads/ ref matches only itself) */
    if (!rc && (shape & LF_REF))
        rc = buf_adds(b, " AND " RUN_BRANCH " = ?"
                         " AND (r.ref = ? OR r.ref = 'refs/heads/' || ?)");
    if (!rc && (shape & LF_STATUS))
        rc = buf_adds(b, " AND r.status = ?");
    if (!rc && (shape & LF_CONCLUSION))
        rc = buf_adds(b, " AND r.conclusion = ?");
    if (!rc && (shape & LF_EVENT))
        rc = buf_adds(b, " AND r.event = ?");
    if (!rc && (shape & LF_WORKFLOW))
        rc = buf_adds(b, " AND r.workflow = ?");
    if (!rc && (shape & LF_BEFORE))
        rc = buf_adds(b, " AND r.id < ?");
    if (!rc)
        rc = buf_adds(b, " ORDER BY r.id DESC LIMIT ?");
    return rc;
}

static unsigned list_shape(const struct store_run_filter *f)
{
    return (f->repo ? LF_REPO : 0) | (f->ref ? LF_REF : 0) |
           (f->status ? LF_STATUS : 0) | (f->conclusion ? LF_CONCLUSION : 0) |
           (f->event ? LF_EVENT : 0) | (f->workflow ? LF_WORKFLOW : 0) |
           (f->before_id > 0 ? LF_BEFORE : 0);
}

char *store_sqlite_run_list_sql(const struct store_run_filter *f)
{
    struct buf b;

    buf_init(&b, 4096);
    if (list_sql(list_shape(f), &b)) {
        buf_release(&b);
        return NULL;
    }
    return buf_take(&b, NULL);
}

static enum ferr_code sq_run_list(void *db, const struct store_run_filter *f,
                                  struct store_run **out, size_t *out_n,
                                  bool *out_more, struct ferr *err)
{
    struct sdb *d = db;
    unsigned shape = list_shape(f);
    enum ferr_code rc = FERR_OK;
    struct q q;
    struct buf sql;

    buf_init(&sql, 4096);
    if (!d->list_st[shape] && list_sql(shape, &sql))
        rc = ferr_set(err, FERR_LIMIT, NULL, "store: list runs: query");
    if (!rc)
        rc = q_use(d, &d->list_st[shape], buf_cstr(&sql), &q, err);
    buf_release(&sql);
    if (rc)
        return rc;
    if (f->repo)
        q_text(&q, f->repo);
    if (f->ref) {
        /* RUN_BRANCH of the filter itself */
        q_text(&q,
               strncmp(f->ref, "refs/heads/", 11) == 0 ? f->ref + 11 : f->ref);
        q_text(&q, f->ref);
        q_text(&q, f->ref);
    }
    if (f->status)
        q_text(&q, f->status);
    if (f->conclusion)
        q_text(&q, f->conclusion);
    if (f->event)
        q_text(&q, f->event);
    if (f->workflow)
        q_text(&q, f->workflow);
    if (f->before_id > 0)
        q_i64(&q, f->before_id);
    q_i64(&q, (int64_t)f->limit + 1);
    rc = q_rows(&q, sizeof(**out), read_run, free_runs, (void **)out, out_n,
                "list runs", err);
    q_end(&q);
    if (!rc && *out_n > f->limit) {
        store_run_release(&(*out)[f->limit]);
        *out_n = f->limit;
        *out_more = true;
    }
    return rc;
}

static enum ferr_code run_rows(struct sdb *d, enum stmt_id id,
                               struct store_run **out, size_t *out_n,
                               struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(d, id, &q, err);

    if (!rc)
        rc = q_rows(&q, sizeof(**out), read_run, free_runs, (void **)out, out_n,
                    "list runs", err);
    q_end(&q);
    return rc;
}

static enum ferr_code sq_run_queue(void *db, struct store_run **out,
                                   size_t *out_n, struct ferr *err)
{
    return run_rows(db, ST_RUN_QUEUE, out, out_n, err);
}

static enum ferr_code sq_run_running(void *db, struct store_run **out,
                                     size_t *out_n, struct ferr *err)
{
    return run_rows(db, ST_RUN_RUNNING, out, out_n, err);
}

static enum ferr_code sq_run_start(void *db, int64_t run_id, int pid,
                                   const char *tag, struct ferr *err)
{
    struct sdb *d = db;
    char status[16];
    int attempt;
    int64_t now = now_ms();
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = run_state(d, run_id, status, &attempt, err);
    if (!rc && !is_waiting(status))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "run %" PRId64 " is %s, not queued", run_id, status);
    if (!rc)
        rc = q_begin(d, ST_RUN_SET_RUNNING, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, now);
        rc = q_exec(&q, "start run", err);
    }
    q_end(&q);
    if (!rc)
        rc = q_begin(d, ST_ATTEMPT_INSERT, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, attempt);
        q_i64(&q, pid);
        q_text(&q, tag);
        q_i64(&q, now);
        rc = q_exec(&q, "insert attempt", err);
    }
    q_end(&q);
    return tx_end(d, rc, err);
}

/* Complete attempt @attempt of @run_id (inserting its row when it never
 * started; an attempt already completed keeps its conclusion), and
 * cancel its unfinished jobs and steps.  In the caller's transaction. */
static enum ferr_code end_attempt(struct sdb *d, int64_t run_id, int attempt,
                                  const char *conclusion, const char *reason,
                                  int64_t now, struct ferr *err)
{
    static const enum stmt_id cancel[] = {ST_ATTEMPT_STEPS_CANCEL,
                                          ST_ATTEMPT_JOBS_CANCEL};
    struct q q;
    enum ferr_code rc = q_begin(d, ST_ATTEMPT_END, &q, err);

    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, attempt);
        q_text(&q, conclusion);
        q_text(&q, reason);
        q_i64(&q, now);
        rc = q_exec(&q, "complete attempt", err);
    }
    q_end(&q);
    for (size_t i = 0; !rc && i < sizeof(cancel) / sizeof(cancel[0]); i++) {
        rc = q_begin(d, cancel[i], &q, err);
        if (!rc) {
            q_i64(&q, run_id);
            q_i64(&q, attempt);
            q_i64(&q, now);
            rc = q_exec(&q, "cancel jobs", err);
        }
        q_end(&q);
    }
    return rc;
}

static enum ferr_code sq_run_finish(void *db, int64_t run_id,
                                    const char *conclusion, const char *reason,
                                    struct ferr *err)
{
    struct sdb *d = db;
    char status[16];
    int attempt;
    int64_t now = now_ms();
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = run_state(d, run_id, status, &attempt, err);
    if (!rc && strcmp(status, "completed") == 0)
        rc = ferr_set(err, FERR_INVALID, NULL, "run %" PRId64 " is completed",
                      run_id);
    if (!rc)
        rc = end_attempt(d, run_id, attempt, conclusion, reason, now, err);
    if (!rc)
        rc = q_begin(d, ST_RUN_SET_DONE, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_text(&q, conclusion);
        q_text(&q, reason);
        q_i64(&q, now);
        rc = q_exec(&q, "finish run", err);
    }
    q_end(&q);
    return tx_end(d, rc, err);
}

static enum ferr_code sq_run_retry(void *db, int64_t run_id,
                                   const char *conclusion, const char *reason,
                                   const char *rerun_jobs, struct ferr *err)
{
    struct sdb *d = db;
    char status[16];
    int attempt;
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = run_state(d, run_id, status, &attempt, err);
    if (!rc && is_waiting(status))
        rc =
            ferr_set(err, FERR_INVALID, NULL,
                     "run %" PRId64 " is %s: nothing to retry", run_id, status);
    if (!rc)
        rc = end_attempt(d, run_id, attempt, conclusion, reason, now_ms(), err);
    if (!rc)
        rc = q_begin(d, ST_RUN_REQUEUE, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_text(&q, rerun_jobs);
        rc = q_exec(&q, "queue run again", err);
    }
    q_end(&q);
    return tx_end(d, rc, err);
}

static enum ferr_code sq_run_request_cancel(void *db, int64_t run_id,
                                            struct ferr *err)
{
    struct sdb *d = db;
    char status[16];
    int attempt;
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = run_state(d, run_id, status, &attempt, err);
    if (!rc && strcmp(status, "completed") == 0)
        rc = ferr_set(err, FERR_INVALID, NULL, "run %" PRId64 " is completed",
                      run_id);
    if (!rc)
        rc = q_begin(d, ST_RUN_CANCEL_REQ, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        rc = q_exec(&q, "request cancel", err);
    }
    q_end(&q);
    return tx_end(d, rc, err);
}

static enum ferr_code sq_run_set_waiting(void *db, int64_t run_id, bool waiting,
                                         const char *reason, struct ferr *err)
{
    struct sdb *d = db;
    char status[16];
    int attempt;
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = run_state(d, run_id, status, &attempt, err);
    if (!rc && !is_waiting(status))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "run %" PRId64 " is %s, not queued", run_id, status);
    if (!rc)
        rc = q_begin(d, ST_RUN_SET_WAIT, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_text(&q, waiting ? "waiting" : "queued");
        q_text(&q, reason);
        rc = q_exec(&q, "set run waiting", err);
    }
    q_end(&q);
    return tx_end(d, rc, err);
}

static void read_attempt(sqlite3_stmt *st, void *out)
{
    struct store_attempt *a = out;

    a->id = col_i64(st, 0);
    a->run_id = col_i64(st, 1);
    a->number = (int)col_i64(st, 2);
    a->status = col_str(st, 3);
    a->conclusion = col_str(st, 4);
    a->reason = col_str(st, 5);
    a->pid = (int)col_i64(st, 6);
    a->tag = col_str(st, 7);
    a->started_at = col_i64(st, 8);
    a->finished_at = col_i64(st, 9);
}

static void free_attempts(void *v, size_t n)
{
    store_attempts_free(v, n);
}

static enum ferr_code sq_attempt_list(void *db, int64_t run_id,
                                      struct store_attempt **out, size_t *out_n,
                                      struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_ATTEMPT_LIST, &q, err);

    if (!rc) {
        q_i64(&q, run_id);
        rc = q_rows(&q, sizeof(**out), read_attempt, free_attempts,
                    (void **)out, out_n, "list attempts", err);
    }
    q_end(&q);
    return rc;
}

/* ---------- jobs ---------- */

static void read_job(sqlite3_stmt *st, void *out)
{
    struct store_job *j = out;

    j->id = col_i64(st, 0);
    j->run_id = col_i64(st, 1);
    j->attempt = (int)col_i64(st, 2);
    j->job_key = col_str(st, 3);
    j->name = col_str(st, 4);
    j->matrix = col_str(st, 5);
    j->status = col_str(st, 6);
    j->conclusion = col_str(st, 7);
    j->reason = col_str(st, 8);
    j->outputs = col_str(st, 9);
    j->log_path = col_str(st, 10);
    j->started_at = col_i64(st, 11);
    j->finished_at = col_i64(st, 12);
}

static void free_jobs(void *v, size_t n)
{
    store_jobs_free(v, n);
}

/* Jobs are recorded only for the run's current attempt, so a worker of
 * an attempt that was retried (recovery) cannot add to the new one. */
static enum ferr_code check_attempt_is_current(struct sdb *d, int64_t run_id,
                                               int attempt, bool running,
                                               struct ferr *err)
{
    char status[16];
    int cur;
    enum ferr_code rc = run_state(d, run_id, status, &cur, err);

    if (rc)
        return rc;
    if (cur != attempt)
        return ferr_set(err, FERR_INVALID, NULL,
                        "run %" PRId64 " is at attempt %d, not %d", run_id, cur,
                        attempt);
    if (running && strcmp(status, "running") != 0)
        return ferr_set(err, FERR_INVALID, NULL,
                        "run %" PRId64 " is %s, not running", run_id, status);
    return FERR_OK;
}

static enum ferr_code sq_job_start(void *db, int64_t run_id, int attempt,
                                   const char *job_key, const char *name,
                                   const char *matrix, const char *log_path,
                                   int64_t *out_id, struct ferr *err)
{
    struct sdb *d = db;
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = check_attempt_is_current(d, run_id, attempt, true, err);
    if (!rc)
        rc = q_begin(d, ST_JOB_START, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, attempt);
        q_text(&q, job_key);
        q_text(&q, name);
        q_text(&q, matrix);
        q_text(&q, log_path);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "insert job", err);
        if (!rc)
            *out_id = sqlite3_last_insert_rowid(d->db);
    }
    q_end(&q);
    rc = tx_end(d, rc, err);
    if (rc)
        *out_id = 0;
    return rc;
}

static enum ferr_code sq_job_finish(void *db, int64_t job_id,
                                    const char *conclusion, const char *reason,
                                    const char *outputs, struct ferr *err)
{
    struct sdb *d = db;
    int64_t now = now_ms();
    struct q q;
    enum ferr_code rc = tx_begin(d, err);
    int src;

    if (rc)
        return rc;
    rc = q_begin(d, ST_JOB_STATE, &q, err);
    if (!rc) {
        q_i64(&q, job_id);
        src = q_step(&q);
        if (src == SQLITE_DONE)
            rc = ferr_set(err, FERR_NOTFOUND, NULL, "job %" PRId64 " not found",
                          job_id);
        else if (src != SQLITE_ROW)
            rc = fail(d, src, err, "read job");
        else if (!sqlite3_column_text(q.st, 0) ||
                 strcmp((const char *)sqlite3_column_text(q.st, 0),
                        "running") != 0)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "job %" PRId64 " is not running", job_id);
    }
    q_end(&q);
    if (!rc)
        rc = q_begin(d, ST_JOB_FINISH, &q, err);
    if (!rc) {
        q_i64(&q, job_id);
        q_text(&q, conclusion);
        q_text(&q, reason);
        q_text(&q, outputs);
        q_i64(&q, now);
        rc = q_exec(&q, "finish job", err);
    }
    q_end(&q);
    /* steps a killed job left running end with it */
    if (!rc)
        rc = q_begin(d, ST_JOB_STEPS_CANCEL, &q, err);
    if (!rc) {
        q_i64(&q, job_id);
        q_i64(&q, now);
        rc = q_exec(&q, "cancel steps", err);
    }
    q_end(&q);
    return tx_end(d, rc, err);
}

static enum ferr_code sq_job_add_completed(void *db, int64_t run_id,
                                           int attempt, const char *job_key,
                                           const char *name, const char *matrix,
                                           const char *conclusion,
                                           const char *reason, int64_t *out_id,
                                           struct ferr *err)
{
    struct sdb *d = db;
    struct q q = {0};
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = check_attempt_is_current(d, run_id, attempt, false, err);
    if (!rc)
        rc = q_begin(d, ST_JOB_ADD_DONE, &q, err);
    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, attempt);
        q_text(&q, job_key);
        q_text(&q, name);
        q_text(&q, matrix);
        q_text(&q, conclusion);
        q_text(&q, reason);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "insert job", err);
        if (!rc)
            *out_id = sqlite3_last_insert_rowid(d->db);
    }
    q_end(&q);
    rc = tx_end(d, rc, err);
    if (rc)
        *out_id = 0;
    return rc;
}

static enum ferr_code sq_job_list(void *db, int64_t run_id, int attempt,
                                  struct store_job **out, size_t *out_n,
                                  struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_JOB_LIST, &q, err);

    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, attempt);
        rc = q_rows(&q, sizeof(**out), read_job, free_jobs, (void **)out, out_n,
                    "list jobs", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_job_get(void *db, int64_t job_id,
                                 struct store_job *out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_JOB_BY_ID, &q, err);

    if (!rc) {
        q_i64(&q, job_id);
        rc = q_one(&q, read_job, out, "read job", err);
        if (rc == FERR_NOTFOUND)
            ferr_set(err, rc, NULL, "job %" PRId64 " not found", job_id);
    }
    q_end(&q);
    return rc;
}

/* ---------- steps ---------- */

static void read_step(sqlite3_stmt *st, void *out)
{
    struct store_step *s = out;

    s->id = col_i64(st, 0);
    s->job_id = col_i64(st, 1);
    s->number = (int)col_i64(st, 2);
    s->name = col_str(st, 3);
    s->status = col_str(st, 4);
    s->conclusion = col_str(st, 5);
    s->started_at = col_i64(st, 6);
    s->finished_at = col_i64(st, 7);
}

static void free_steps(void *v, size_t n)
{
    store_steps_free(v, n);
}

static enum ferr_code sq_step_start(void *db, int64_t job_id, int number,
                                    const char *name, int64_t *out_id,
                                    struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_STEP_START, &q, err);
    int src;

    if (rc)
        return rc;
    q_i64(&q, job_id);
    q_i64(&q, number);
    q_text(&q, name);
    q_i64(&q, now_ms());
    src = q_run(&q);
    if (src == SQLITE_DONE)
        *out_id = sqlite3_last_insert_rowid(d->db);
    else if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "job %" PRId64 " not found",
                      job_id);
    else if (src == SQLITE_CONSTRAINT_UNIQUE)
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "step %d of job %" PRId64 " exists", number, job_id);
    else
        rc = fail(d, src, err, "insert step");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_step_finish(void *db, int64_t job_id, int number,
                                     const char *name, const char *conclusion,
                                     struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_STEP_FINISH, &q, err);
    int src;

    if (rc)
        return rc;
    q_i64(&q, job_id);
    q_i64(&q, number);
    q_text(&q, name);
    q_text(&q, conclusion);
    q_i64(&q, now_ms());
    src = q_run(&q);
    if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "job %" PRId64 " not found",
                      job_id);
    else if (src != SQLITE_DONE)
        rc = fail(d, src, err, "finish step");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_step_list(void *db, int64_t job_id,
                                   struct store_step **out, size_t *out_n,
                                   struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_STEP_LIST, &q, err);

    if (!rc) {
        q_i64(&q, job_id);
        rc = q_rows(&q, sizeof(**out), read_step, free_steps, (void **)out,
                    out_n, "list steps", err);
    }
    q_end(&q);
    return rc;
}

/* ---------- artifacts ---------- */

static void read_artifact(sqlite3_stmt *st, void *out)
{
    struct store_artifact *a = out;

    a->id = col_i64(st, 0);
    a->run_id = col_i64(st, 1);
    a->name = col_str(st, 2);
    a->path = col_str(st, 3);
    a->size = col_i64(st, 4);
    a->created_at = col_i64(st, 5);
}

static void free_artifacts(void *v, size_t n)
{
    store_artifacts_free(v, n);
}

static enum ferr_code sq_artifact_add(void *db, int64_t run_id,
                                      const char *name, const char *path,
                                      int64_t size, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_ARTIFACT_ADD, &q, err);
    int src;

    if (rc)
        return rc;
    q_i64(&q, run_id);
    q_text(&q, name);
    q_text(&q, path);
    q_i64(&q, size);
    q_i64(&q, now_ms());
    src = q_run(&q);
    if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "run %" PRId64 " not found",
                      run_id);
    else if (src != SQLITE_DONE)
        rc = fail(d, src, err, "insert artifact");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_artifact_list(void *db, int64_t run_id,
                                       struct store_artifact **out,
                                       size_t *out_n, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_ARTIFACT_LIST, &q, err);

    if (!rc) {
        q_i64(&q, run_id);
        rc = q_rows(&q, sizeof(**out), read_artifact, free_artifacts,
                    (void **)out, out_n, "list artifacts", err);
    }
    q_end(&q);
    return rc;
}

/* ---------- schedules ---------- */

static void read_schedule(sqlite3_stmt *st, void *out)
{
    struct store_schedule *s = out;

    s->id = col_i64(st, 0);
    s->repo_id = col_i64(st, 1);
    s->repo = col_str(st, 2);
    s->workflow = col_str(st, 3);
    s->cron = col_str(st, 4);
    s->last_fired_at = col_i64(st, 5);
    s->created_at = col_i64(st, 6);
}

static void free_schedules(void *v, size_t n)
{
    store_schedules_free(v, n);
}

static bool wanted(const char *wf, const char *cron,
                   const char *const *workflows, const char *const *crons,
                   size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(wf, workflows[i]) == 0 && strcmp(cron, crons[i]) == 0)
            return true;
    return false;
}

/* Delete the schedules of @repo_id that are not in the new set. */
static enum ferr_code drop_unwanted(struct sdb *d, int64_t repo_id,
                                    const char *const *workflows,
                                    const char *const *crons, size_t n,
                                    struct ferr *err)
{
    int64_t *gone = NULL;
    size_t ngone = 0;
    size_t cap = 0;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_SCHED_OF_REPO, &q, err);
    int src = SQLITE_DONE;

    if (!rc) {
        q_i64(&q, repo_id);
        while ((src = q_step(&q)) == SQLITE_ROW) {
            const char *wf = (const char *)sqlite3_column_text(q.st, 1);
            const char *cron = (const char *)sqlite3_column_text(q.st, 2);

            if (wf && cron && wanted(wf, cron, workflows, crons, n))
                continue;
            if (ngone == cap) {
                cap = cap ? cap * 2 : 8;
                gone = xrealloc(gone, cap * sizeof(*gone));
            }
            gone[ngone++] = col_i64(q.st, 0);
        }
        if (src != SQLITE_DONE)
            rc = fail(d, src, err, "read schedules");
    }
    q_end(&q);
    for (size_t i = 0; !rc && i < ngone; i++) {
        rc = q_begin(d, ST_SCHED_DELETE, &q, err);
        if (!rc) {
            q_i64(&q, gone[i]);
            rc = q_exec(&q, "delete schedule", err);
        }
        q_end(&q);
    }
    free(gone);
    return rc;
}

static enum ferr_code sq_schedule_sync(void *db, int64_t repo_id,
                                       const char *const *workflows,
                                       const char *const *crons, size_t n,
                                       int64_t now, struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = tx_begin(d, err);

    if (rc)
        return rc;
    rc = drop_unwanted(d, repo_id, workflows, crons, n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        rc = q_begin(d, ST_SCHED_ADD, &q, err);
        if (!rc) {
            int src;

            q_i64(&q, repo_id);
            q_text(&q, workflows[i]);
            q_text(&q, crons[i]);
            q_i64(&q, now);
            src = q_run(&q);
            if (src == SQLITE_CONSTRAINT_FOREIGNKEY)
                rc = ferr_set(err, FERR_NOTFOUND, NULL,
                              "repository %" PRId64 " not found", repo_id);
            else if (src != SQLITE_DONE)
                rc = fail(d, src, err, "insert schedule");
        }
        q_end(&q);
    }
    return tx_end(d, rc, err);
}

static enum ferr_code sq_schedule_list(void *db, struct store_schedule **out,
                                       size_t *out_n, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_SCHED_LIST, &q, err);

    if (!rc)
        rc = q_rows(&q, sizeof(**out), read_schedule, free_schedules,
                    (void **)out, out_n, "list schedules", err);
    q_end(&q);
    return rc;
}

static enum ferr_code sq_schedule_fired(void *db, int64_t id, int64_t slot_ms,
                                        struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_SCHED_FIRED, &q, err);

    if (!rc) {
        q_i64(&q, id);
        q_i64(&q, slot_ms);
        rc = q_exec(&q, "update schedule", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "schedule %" PRId64 " not found", id);
    return rc;
}

/* ---------- deliveries and audit ---------- */

static void read_delivery(sqlite3_stmt *st, void *out)
{
    struct store_delivery *v = out;

    v->id = col_i64(st, 0);
    v->source = col_str(st, 1);
    v->event = col_str(st, 2);
    v->delivery = col_str(st, 3);
    v->repo = col_str(st, 4);
    v->status = (int)col_i64(st, 5);
    v->outcome = col_str(st, 6);
    v->created_at = col_i64(st, 7);
}

static void free_deliveries(void *v, size_t n)
{
    store_deliveries_free(v, n);
}

static int64_t sql_limit(size_t limit)
{
    return limit > (size_t)INT64_MAX ? INT64_MAX : (int64_t)limit;
}

static enum ferr_code sq_delivery_add(void *db, const struct store_delivery *in,
                                      struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_DELIVERY_ADD, &q, err);

    if (!rc) {
        q_text(&q, in->source);
        q_text(&q, in->event);
        q_text(&q, in->delivery);
        q_text(&q, in->repo);
        q_i64(&q, in->status);
        q_text(&q, in->outcome);
        q_i64(&q, in->created_at > 0 ? in->created_at : now_ms());
        rc = q_exec(&q, "insert delivery", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_delivery_list(void *db, size_t limit,
                                       struct store_delivery **out,
                                       size_t *out_n, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_DELIVERY_LIST, &q, err);

    if (!rc) {
        q_i64(&q, sql_limit(limit));
        rc = q_rows(&q, sizeof(**out), read_delivery, free_deliveries,
                    (void **)out, out_n, "list deliveries", err);
    }
    q_end(&q);
    return rc;
}

static void read_audit(sqlite3_stmt *st, void *out)
{
    struct store_audit *a = out;

    a->id = col_i64(st, 0);
    a->token_id = col_i64(st, 1);
    a->action = col_str(st, 2);
    a->target = col_str(st, 3);
    a->detail = col_str(st, 4);
    a->created_at = col_i64(st, 5);
}

static void free_audits(void *v, size_t n)
{
    store_audits_free(v, n);
}

static enum ferr_code sq_audit_add(void *db, int64_t token_id,
                                   const char *action, const char *target,
                                   const char *detail, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_AUDIT_ADD, &q, err);

    if (!rc) {
        q_i64(&q, token_id);
        q_text(&q, action);
        q_text(&q, target);
        q_text(&q, detail);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "insert audit", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_audit_list(void *db, size_t limit,
                                    struct store_audit **out, size_t *out_n,
                                    struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_AUDIT_LIST, &q, err);

    if (!rc) {
        q_i64(&q, sql_limit(limit));
        rc = q_rows(&q, sizeof(**out), read_audit, free_audits, (void **)out,
                    out_n, "list audit", err);
    }
    q_end(&q);
    return rc;
}

/* ---------- continuous delivery ---------- */

/* Every row of @q is one JSON text in column 0: collect them into a new
 * array (or, with @one, the single object; FERR_NOTFOUND without a
 * message when there is no row). */
static enum ferr_code q_json(struct q *q, bool one, json_t **out,
                             const char *what, struct ferr *err)
{
    json_t *arr = json_array();
    int src;

    *out = NULL;
    while ((src = q_step(q)) == SQLITE_ROW) {
        const char *t = (const char *)sqlite3_column_text(q->st, 0);
        json_t *v = t ? json_loads(t, 0, NULL) : NULL;

        if (!v) {
            json_decref(arr);
            return ferr_set(err, FERR_PARSE, NULL, "store: %s: bad row",
                            what);
        }
        json_array_append_new(arr, v);
    }
    if (src != SQLITE_DONE) {
        json_decref(arr);
        return fail(q->d, src, err, what);
    }
    if (!one) {
        *out = arr;
        return FERR_OK;
    }
    if (json_array_size(arr) == 0) {
        json_decref(arr);
        return FERR_NOTFOUND;
    }
    *out = json_incref(json_array_get(arr, 0));
    json_decref(arr);
    return FERR_OK;
}

static const char *jstr(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

/* Bind integer field @k of @o, or NULL when absent. */
static void q_jint(struct q *q, json_t *o, const char *k)
{
    json_t *v = json_object_get(o, k);

    if (json_is_integer(v))
        q_i64(q, json_integer_value(v));
    else
        q_text(q, NULL);
}

static enum ferr_code sq_env_put(void *db, int64_t repo_id, const char *name,
                                 const char *rules, int64_t *out_id,
                                 struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_ENV_PUT, &q, err);
    int src;

    if (rc)
        return rc;
    q_i64(&q, repo_id);
    q_text(&q, name);
    q_text(&q, rules);
    q_i64(&q, now_ms());
    src = q_step(&q);
    if (src == SQLITE_ROW)
        *out_id = col_i64(q.st, 0);
    else
        rc = fail(d, src, err, "put environment");
    q_end(&q);
    return rc;
}

static enum ferr_code sq_env_get(void *db, int64_t repo_id, const char *name,
                                 json_t **out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_ENV_GET, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        q_text(&q, name);
        rc = q_json(&q, true, out, "get environment", err);
        if (rc == FERR_NOTFOUND)
            rc = ferr_set(err, rc, NULL, "environment '%s' not found", name);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_env_list(void *db, int64_t repo_id, json_t **out,
                                  struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_ENV_LIST, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        rc = q_json(&q, false, out, "list environments", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_env_lock(void *db, int64_t env_id, const char *reason,
                                  struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_ENV_LOCK, &q, err);

    if (!rc) {
        q_i64(&q, env_id);
        q_text(&q, reason);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "lock environment", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "environment %" PRId64 " not found", env_id);
    return rc;
}

static enum ferr_code sq_deploy_add(void *db, json_t *in, int64_t *out_id,
                                    struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_DEPLOY_ADD, &q, err);

    if (rc)
        return rc;
    q_jint(&q, in, "repo_id");
    q_text(&q, jstr(in, "environment"));
    q_text(&q, jstr(in, "kind"));
    q_jint(&q, in, "run_id");
    q_jint(&q, in, "attempt");
    q_text(&q, jstr(in, "job"));
    q_text(&q, jstr(in, "sha"));
    q_text(&q, jstr(in, "ref"));
    q_text(&q, jstr(in, "actor"));
    q_text(&q, jstr(in, "status"));
    q_text(&q, jstr(in, "url"));
    q_text(&q, jstr(in, "version"));
    q_text(&q, jstr(in, "strategy"));
    q_i64(&q, now_ms());
    rc = q_exec(&q, "insert deployment", err);
    if (!rc)
        *out_id = sqlite3_last_insert_rowid(d->db);
    q_end(&q);
    return rc;
}

static enum ferr_code sq_deploy_set(void *db, int64_t id, json_t *set,
                                    struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_DEPLOY_SET, &q, err);

    if (rc)
        return rc;
    q_i64(&q, id);
    q_text(&q, jstr(set, "status"));
    q_text(&q, jstr(set, "reason"));
    q_text(&q, jstr(set, "version"));
    q_text(&q, jstr(set, "strategy"));
    q_text(&q, jstr(set, "approved_by"));
    q_text(&q, jstr(set, "release_tag"));
    q_text(&q, jstr(set, "url"));
    q_jint(&q, set, "approved_at");
    q_jint(&q, set, "started_at");
    q_jint(&q, set, "finished_at");
    rc = q_exec(&q, "update deployment", err);
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "deployment %" PRId64 " not found", id);
    return rc;
}

static enum ferr_code sq_deploy_phase(void *db, int64_t id, const char *phase,
                                      struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_DEPLOY_PHASE, &q, err);

    if (!rc) {
        q_i64(&q, id);
        q_text(&q, phase);
        rc = q_exec(&q, "add deployment phase", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "deployment %" PRId64 " not found", id);
    return rc;
}

static enum ferr_code sq_deploy_get(void *db, int64_t id, json_t **out,
                                    struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_DEPLOY_GET, &q, err);

    if (!rc) {
        q_i64(&q, id);
        rc = q_json(&q, true, out, "get deployment", err);
        if (rc == FERR_NOTFOUND)
            rc = ferr_set(err, rc, NULL, "deployment %" PRId64 " not found",
                          id);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_deploy_commit_at(void *db, int64_t id,
                                          int64_t commit_at, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_DEPLOY_COMMIT_AT, &q, err);

    if (!rc) {
        q_i64(&q, id);
        q_i64(&q, commit_at);
        rc = q_exec(&q, "set deployment commit time", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_report_add(void *db, int64_t run_id, int attempt,
                                    const char *job_key, int step,
                                    const char *kind, const char *summary,
                                    struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_REPORT_ADD, &q, err);

    if (!rc) {
        q_i64(&q, run_id);
        q_i64(&q, attempt);
        q_text(&q, job_key);
        q_i64(&q, step);
        q_text(&q, kind);
        q_text(&q, summary);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "insert report", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_report_list(void *db, int64_t run_id, json_t **out,
                                     struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_REPORT_LIST, &q, err);

    if (!rc) {
        q_i64(&q, run_id);
        rc = q_json(&q, false, out, "list reports", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_report_trend(void *db, int64_t repo_id,
                                      const char *ref, const char *kind,
                                      size_t limit, json_t **out,
                                      struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_REPORT_TREND, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        q_text(&q, ref);
        q_text(&q, kind);
        q_i64(&q, sql_limit(limit));
        rc = q_json(&q, false, out, "list report trend", err);
    }
    q_end(&q);
    return rc;
}

/* One of the DORA queries, all bound alike: repo, environment, window. */
static enum ferr_code dora_query(void *db, enum stmt_id id, int64_t repo_id,
                                 const char *environment, int64_t since,
                                 int64_t until, json_t **out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, id, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        q_text(&q, environment);
        q_i64(&q, since);
        q_i64(&q, until);
        rc = q_json(&q, false, out, "read DORA inputs", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_dora_input(void *db, int64_t repo_id,
                                    const char *environment, int64_t since,
                                    int64_t until, json_t **out,
                                    struct ferr *err)
{
    static const struct {
        const char *key;
        enum stmt_id id;
    } parts[] = {
        {"deployments", ST_DORA_DEPLOYS},
        {"incidents", ST_DORA_INCIDENTS},
        {"runs", ST_DORA_RUNS},
        {"reports", ST_DORA_REPORTS},
    };
    json_t *o = json_object();
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    for (size_t i = 0; i < sizeof(parts) / sizeof(parts[0]) && !rc; i++) {
        json_t *rows = NULL;

        rc = dora_query(db, parts[i].id, repo_id, environment, since, until,
                        &rows, err);
        if (!rc)
            json_object_set_new(o, parts[i].key, rows);
    }
    if (rc)
        json_decref(o);
    else
        *out = o;
    return rc;
}

static enum ferr_code sq_deploy_list(void *db, int64_t repo_id,
                                     const char *environment,
                                     const char *status, size_t limit,
                                     json_t **out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_DEPLOY_LIST, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        q_text(&q, environment);
        q_text(&q, status);
        q_i64(&q, sql_limit(limit));
        rc = q_json(&q, false, out, "list deployments", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_approval_add(void *db, int64_t deployment_id,
                                      int64_t token_id, const char *user,
                                      const char *decision,
                                      const char *comment, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_APPROVAL_ADD, &q, err);

    if (!rc) {
        q_i64(&q, deployment_id);
        q_i64(&q, token_id);
        q_text(&q, user);
        q_text(&q, decision);
        q_text(&q, comment);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "insert approval", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_incident_open(void *db, int64_t repo_id,
                                       const char *environment,
                                       int64_t deployment_id,
                                       const char *reason, int64_t *out_id,
                                       struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_INCIDENT_ADD, &q, err);

    if (rc)
        return rc;
    q_i64(&q, repo_id);
    q_text(&q, environment);
    if (deployment_id > 0)
        q_i64(&q, deployment_id);
    else
        q_text(&q, NULL);
    q_text(&q, reason ? reason : "");
    q_i64(&q, now_ms());
    rc = q_exec(&q, "open incident", err);
    if (!rc)
        *out_id = sqlite3_last_insert_rowid(d->db);
    q_end(&q);
    return rc;
}

static enum ferr_code sq_incident_note(void *db, int64_t id,
                                       const char *status, const char *what,
                                       struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_INCIDENT_NOTE, &q, err);

    if (!rc) {
        q_i64(&q, id);
        q_text(&q, status);
        q_text(&q, what);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "note incident", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "incident %" PRId64 " not found", id);
    return rc;
}

static enum ferr_code sq_incident_get(void *db, int64_t id, json_t **out,
                                      struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_INCIDENT_GET, &q, err);

    if (!rc) {
        q_i64(&q, id);
        rc = q_json(&q, true, out, "get incident", err);
        if (rc == FERR_NOTFOUND)
            rc = ferr_set(err, rc, NULL, "incident %" PRId64 " not found",
                          id);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_incident_list(void *db, int64_t repo_id, size_t limit,
                                       json_t **out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_INCIDENT_LIST, &q, err);

    if (!rc) {
        q_i64(&q, repo_id);
        q_i64(&q, sql_limit(limit));
        rc = q_json(&q, false, out, "list incidents", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_outbox_add(void *db, const char *level,
                                    const char *kind, const char *dedup_key,
                                    const char *payload, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_OUTBOX_ADD, &q, err);

    if (!rc) {
        q_text(&q, level);
        q_text(&q, kind);
        q_text(&q, dedup_key);
        q_text(&q, payload);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "queue notification", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_outbox_list(void *db, size_t limit, json_t **out,
                                     struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_OUTBOX_LIST, &q, err);

    if (!rc) {
        q_i64(&q, sql_limit(limit));
        rc = q_json(&q, false, out, "list outbox", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_outbox_unrouted(void *db, size_t limit, json_t **out,
                                         struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_OUTBOX_UNROUTED, &q, err);

    if (!rc) {
        q_i64(&q, sql_limit(limit));
        rc = q_json(&q, false, out, "list unrouted alerts", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_outbox_channels_of(void *db, const char *dedup_key,
                                            json_t **out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_OUTBOX_CHANNELS_OF, &q, err);

    if (!rc) {
        q_text(&q, dedup_key);
        rc = q_json(&q, true, out, "channels of an alert", err);
    }
    q_end(&q);
    return rc;
}

/* Mark outbox entry @id delivered when it has sends and none is pending. */
static enum ferr_code settle(struct sdb *d, int64_t id, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(d, ST_OUTBOX_SETTLE, &q, err);

    if (!rc) {
        q_i64(&q, id);
        q_i64(&q, now_ms());
        rc = q_exec(&q, "settle alert", err);
    }
    q_end(&q);
    return rc;
}

static enum ferr_code sq_outbox_route(void *db, int64_t id,
                                      const char *const *channels, size_t n,
                                      struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    int64_t now = now_ms();
    enum ferr_code rc = tx_begin(d, err);

    for (size_t i = 0; !rc && i < n; i++) {
        rc = q_begin(d, ST_SEND_ADD, &q, err);
        if (!rc) {
            q_i64(&q, id);
            q_text(&q, channels[i]);
            q_i64(&q, now);
            rc = q_exec(&q, "route alert", err);
        }
        q_end(&q);
    }
    if (!rc) {
        rc = q_begin(d, ST_OUTBOX_ROUTED, &q, err);
        if (!rc) {
            q_i64(&q, id);
            q_i64(&q, now);
            rc = q_exec(&q, "route alert", err);
        }
        q_end(&q);
    }
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "alert %" PRId64 " not found",
                      id);
    if (!rc)
        rc = settle(d, id, err);
    return tx_end(d, rc, err);
}

static enum ferr_code sq_outbox_due(void *db, int64_t now, size_t limit,
                                    json_t **out, struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_SEND_DUE, &q, err);

    if (!rc) {
        q_i64(&q, now);
        q_i64(&q, sql_limit(limit));
        rc = q_json(&q, false, out, "list due alerts", err);
    }
    q_end(&q);
    return rc;
}

static void read_min(sqlite3_stmt *st, void *out)
{
    *(int64_t *)out = sqlite3_column_type(st, 0) == SQLITE_NULL
                          ? -1
                          : sqlite3_column_int64(st, 0);
}

static enum ferr_code sq_outbox_next_due(void *db, int64_t *out,
                                         struct ferr *err)
{
    struct q q;
    enum ferr_code rc = q_begin(db, ST_SEND_NEXT, &q, err);

    if (!rc)
        rc = q_one(&q, read_min, out, "next due alert", err);
    q_end(&q);
    return rc;
}

static enum ferr_code sq_outbox_sent(void *db, int64_t id, const char *channel,
                                     struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = tx_begin(d, err);

    if (!rc) {
        rc = q_begin(d, ST_SEND_DONE, &q, err);
        if (!rc) {
            q_i64(&q, id);
            q_text(&q, channel);
            q_i64(&q, now_ms());
            rc = q_exec(&q, "record delivery", err);
        }
        q_end(&q);
    }
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "no pending delivery of alert %" PRId64 " to '%s'", id,
                      channel);
    if (!rc)
        rc = settle(d, id, err);
    return tx_end(d, rc, err);
}

static enum ferr_code sq_outbox_retry(void *db, int64_t id,
                                      const char *channel, bool attempted,
                                      int64_t next_at, const char *error,
                                      struct ferr *err)
{
    struct sdb *d = db;
    struct q q;
    enum ferr_code rc = q_begin(d, ST_SEND_RETRY, &q, err);

    if (!rc) {
        q_i64(&q, id);
        q_text(&q, channel);
        q_i64(&q, attempted ? 1 : 0);
        q_i64(&q, next_at);
        q_text(&q, error);
        rc = q_exec(&q, "record failed delivery", err);
    }
    q_end(&q);
    if (!rc && sqlite3_changes(d->db) == 0)
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "no pending delivery of alert %" PRId64 " to '%s'", id,
                      channel);
    return rc;
}

const struct store_backend store_sqlite_backend = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .schema_version = sq_schema_version,
    .ping = sq_ping,
    .token_add = sq_token_add,
    .token_find = sq_token_find,
    .token_count = sq_token_count,
    .token_list = sq_token_list,
    .token_revoke = sq_token_revoke,
    .repo_add = sq_repo_add,
    .repo_update = sq_repo_update,
    .repo_get = sq_repo_get,
    .repo_get_id = sq_repo_get_id,
    .repo_list = sq_repo_list,
    .secret_set = sq_secret_set,
    .secret_delete = sq_secret_delete,
    .secret_list = sq_secret_list,
    .run_create = sq_run_create,
    .run_get = sq_run_get,
    .run_list = sq_run_list,
    .run_queue = sq_run_queue,
    .run_running = sq_run_running,
    .run_start = sq_run_start,
    .run_finish = sq_run_finish,
    .run_retry = sq_run_retry,
    .run_request_cancel = sq_run_request_cancel,
    .run_set_waiting = sq_run_set_waiting,
    .attempt_list = sq_attempt_list,
    .job_start = sq_job_start,
    .job_finish = sq_job_finish,
    .job_add_completed = sq_job_add_completed,
    .job_list = sq_job_list,
    .job_get = sq_job_get,
    .step_start = sq_step_start,
    .step_finish = sq_step_finish,
    .step_list = sq_step_list,
    .artifact_add = sq_artifact_add,
    .artifact_list = sq_artifact_list,
    .schedule_sync = sq_schedule_sync,
    .schedule_list = sq_schedule_list,
    .schedule_fired = sq_schedule_fired,
    .delivery_add = sq_delivery_add,
    .delivery_list = sq_delivery_list,
    .audit_add = sq_audit_add,
    .audit_list = sq_audit_list,
    .env_put = sq_env_put,
    .env_get = sq_env_get,
    .env_list = sq_env_list,
    .env_lock = sq_env_lock,
    .deploy_add = sq_deploy_add,
    .deploy_set = sq_deploy_set,
    .deploy_phase = sq_deploy_phase,
    .deploy_get = sq_deploy_get,
    .deploy_list = sq_deploy_list,
    .deploy_commit_at = sq_deploy_commit_at,
    .report_add = sq_report_add,
    .report_list = sq_report_list,
    .report_trend = sq_report_trend,
    .dora_input = sq_dora_input,
    .approval_add = sq_approval_add,
    .incident_open = sq_incident_open,
    .incident_note = sq_incident_note,
    .incident_get = sq_incident_get,
    .incident_list = sq_incident_list,
    .outbox_add = sq_outbox_add,
    .outbox_list = sq_outbox_list,
    .outbox_unrouted = sq_outbox_unrouted,
    .outbox_channels_of = sq_outbox_channels_of,
    .outbox_route = sq_outbox_route,
    .outbox_due = sq_outbox_due,
    .outbox_next_due = sq_outbox_next_due,
    .outbox_sent = sq_outbox_sent,
    .outbox_retry = sq_outbox_retry,
};
