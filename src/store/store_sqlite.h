/* store_sqlite: the backend table store.c dispatches through, and the
 * SQLite backend that fills it.  Internal to src/store/: callers use
 * store.h only.  A PostgreSQL backend adds its own table of the same
 * shape (then struct store_backend moves to a store_backend.h). */
#ifndef FERRY_STORE_STORE_SQLITE_H
#define FERRY_STORE_STORE_SQLITE_H

#include "store/store.h"

/**
 * One backend: a function per store operation, each taking the backend's
 * own handle (@db, opaque here) where store.h takes the struct store.
 * store.c has checked the arguments store.h documents as required
 * (non-NULL names, valid roles and conclusions, token hashes) and has
 * cleared the out-parameters before the call.  The contract of each
 * entry is the one of the store.h function of the same name.
 */
struct store_backend {
    const char *name; /* "sqlite" */
    /* @target is the backend's part of the URL (a path for SQLite) */
    enum ferr_code (*open)(const char *target, void **out_db, struct ferr *err);
    void (*close)(void *db);
    int (*schema_version)(void *db);
    enum ferr_code (*ping)(void *db, struct ferr *err);

    enum ferr_code (*token_add)(void *db, const char *sha256_hex,
                                enum store_role role, const char *name,
                                int64_t *out_id, struct ferr *err);
    enum ferr_code (*token_find)(void *db, const char *sha256_hex,
                                 struct store_token *out, struct ferr *err);
    enum ferr_code (*token_count)(void *db, int64_t *out, struct ferr *err);
    enum ferr_code (*token_list)(void *db, struct store_token **out,
                                 size_t *out_n, struct ferr *err);
    enum ferr_code (*token_revoke)(void *db, int64_t id, struct ferr *err);

    enum ferr_code (*repo_add)(void *db, const struct store_repo *in,
                               int64_t *out_id, struct ferr *err);
    enum ferr_code (*repo_update)(void *db, const struct store_repo *in,
                                  struct ferr *err);
    enum ferr_code (*repo_get)(void *db, const char *name,
                               struct store_repo *out, struct ferr *err);
    enum ferr_code (*repo_get_id)(void *db, int64_t id, struct store_repo *out,
                                  struct ferr *err);
    enum ferr_code (*repo_list)(void *db, struct store_repo **out,
                                size_t *out_n, struct ferr *err);

    enum ferr_code (*secret_set)(void *db, int64_t repo_id, const char *name,
                                 const unsigned char *blob, size_t len,
                                 struct ferr *err);
    enum ferr_code (*secret_delete)(void *db, int64_t repo_id, const char *name,
                                    struct ferr *err);
    enum ferr_code (*secret_list)(void *db, int64_t repo_id, bool blobs,
                                  struct store_secret **out, size_t *out_n,
                                  struct ferr *err);

    enum ferr_code (*run_create)(void *db, const struct store_run *in,
                                 int64_t *out_id, int64_t *out_number,
                                 struct ferr *err);
    enum ferr_code (*run_get)(void *db, int64_t id, struct store_run *out,
                              struct ferr *err);
    /* @f->limit already clamped to 1..200 */
    enum ferr_code (*run_list)(void *db, const struct store_run_filter *f,
                               struct store_run **out, size_t *out_n,
                               bool *out_more, struct ferr *err);
    enum ferr_code (*run_queue)(void *db, struct store_run **out, size_t *out_n,
                                struct ferr *err);
    enum ferr_code (*run_running)(void *db, struct store_run **out,
                                  size_t *out_n, struct ferr *err);
    enum ferr_code (*run_start)(void *db, int64_t run_id, int pid,
                                const char *tag, struct ferr *err);
    enum ferr_code (*run_finish)(void *db, int64_t run_id,
                                 const char *conclusion, const char *reason,
                                 struct ferr *err);
    enum ferr_code (*run_retry)(void *db, int64_t run_id,
                                const char *conclusion, const char *reason,
                                const char *rerun_jobs, struct ferr *err);
    enum ferr_code (*run_request_cancel)(void *db, int64_t run_id,
                                         struct ferr *err);
    enum ferr_code (*run_set_waiting)(void *db, int64_t run_id, bool waiting,
                                      const char *reason, struct ferr *err);
    enum ferr_code (*attempt_list)(void *db, int64_t run_id,
                                   struct store_attempt **out, size_t *out_n,
                                   struct ferr *err);

    enum ferr_code (*job_start)(void *db, int64_t run_id, int attempt,
                                const char *job_key, const char *name,
                                const char *matrix, const char *log_path,
                                int64_t *out_id, struct ferr *err);
    enum ferr_code (*job_finish)(void *db, int64_t job_id,
                                 const char *conclusion, const char *reason,
                                 const char *outputs, struct ferr *err);
    enum ferr_code (*job_add_completed)(void *db, int64_t run_id, int attempt,
                                        const char *job_key, const char *name,
                                        const char *matrix,
                                        const char *conclusion,
                                        const char *reason, int64_t *out_id,
                                        struct ferr *err);
    enum ferr_code (*job_list)(void *db, int64_t run_id, int attempt,
                               struct store_job **out, size_t *out_n,
                               struct ferr *err);
    enum ferr_code (*job_get)(void *db, int64_t job_id, struct store_job *out,
                              struct ferr *err);

    enum ferr_code (*step_start)(void *db, int64_t job_id, int number,
                                 const char *name, int64_t *out_id,
                                 struct ferr *err);
    enum ferr_code (*step_finish)(void *db, int64_t job_id, int number,
                                  const char *name, const char *conclusion,
                                  struct ferr *err);
    enum ferr_code (*step_list)(void *db, int64_t job_id,
                                struct store_step **out, size_t *out_n,
                                struct ferr *err);

    enum ferr_code (*artifact_add)(void *db, int64_t run_id, const char *name,
                                   const char *path, int64_t size,
                                   struct ferr *err);
    enum ferr_code (*artifact_list)(void *db, int64_t run_id,
                                    struct store_artifact **out, size_t *out_n,
                                    struct ferr *err);

    enum ferr_code (*schedule_sync)(void *db, int64_t repo_id,
                                    const char *const *workflows,
                                    const char *const *crons, size_t n,
                                    int64_t now_ms, struct ferr *err);
    enum ferr_code (*schedule_list)(void *db, struct store_schedule **out,
                                    size_t *out_n, struct ferr *err);
    enum ferr_code (*schedule_fired)(void *db, int64_t id, int64_t slot_ms,
                                     struct ferr *err);

    enum ferr_code (*delivery_add)(void *db, const struct store_delivery *in,
                                   struct ferr *err);
    enum ferr_code (*delivery_list)(void *db, size_t limit,
                                    struct store_delivery **out, size_t *out_n,
                                    struct ferr *err);
    enum ferr_code (*audit_add)(void *db, int64_t token_id, const char *action,
                                const char *target, const char *detail,
                                struct ferr *err);
    enum ferr_code (*audit_list)(void *db, size_t limit,
                                 struct store_audit **out, size_t *out_n,
                                 struct ferr *err);

    enum ferr_code (*env_put)(void *db, int64_t repo_id, const char *name,
                              const char *rules, int64_t *out_id,
                              struct ferr *err);
    enum ferr_code (*env_get)(void *db, int64_t repo_id, const char *name,
                              json_t **out, struct ferr *err);
    enum ferr_code (*env_list)(void *db, int64_t repo_id, json_t **out,
                               struct ferr *err);
    enum ferr_code (*env_lock)(void *db, int64_t env_id, const char *reason,
                               struct ferr *err);
    enum ferr_code (*deploy_add)(void *db, json_t *in, int64_t *out_id,
                                 struct ferr *err);
    enum ferr_code (*deploy_set)(void *db, int64_t id, json_t *set,
                                 struct ferr *err);
    enum ferr_code (*deploy_phase)(void *db, int64_t id, const char *phase,
                                   struct ferr *err);
    enum ferr_code (*deploy_get)(void *db, int64_t id, json_t **out,
                                 struct ferr *err);
    enum ferr_code (*deploy_list)(void *db, int64_t repo_id,
                                  const char *environment, const char *status,
                                  size_t limit, json_t **out,
                                  struct ferr *err);
    enum ferr_code (*deploy_commit_at)(void *db, int64_t id,
                                       int64_t commit_at, struct ferr *err);
    enum ferr_code (*report_add)(void *db, int64_t run_id, int attempt,
                                 const char *job_key, int step,
                                 const char *kind, const char *summary,
                                 struct ferr *err);
    enum ferr_code (*report_list)(void *db, int64_t run_id, json_t **out,
                                  struct ferr *err);
    enum ferr_code (*report_trend)(void *db, int64_t repo_id,
                                   const char *ref, const char *kind,
                                   size_t limit, json_t **out,
                                   struct ferr *err);
    enum ferr_code (*dora_input)(void *db, int64_t repo_id,
                                 const char *environment, int64_t since,
                                 int64_t until, json_t **out,
                                 struct ferr *err);
    enum ferr_code (*approval_add)(void *db, int64_t deployment_id,
                                   int64_t token_id, const char *user,
                                   const char *decision, const char *comment,
                                   struct ferr *err);
    enum ferr_code (*incident_open)(void *db, int64_t repo_id,
                                    const char *environment,
                                    int64_t deployment_id, const char *reason,
                                    int64_t *out_id, struct ferr *err);
    enum ferr_code (*incident_note)(void *db, int64_t id, const char *status,
                                    const char *what, struct ferr *err);
    enum ferr_code (*incident_get)(void *db, int64_t id, json_t **out,
                                   struct ferr *err);
    enum ferr_code (*incident_list)(void *db, int64_t repo_id, size_t limit,
                                    json_t **out, struct ferr *err);
    enum ferr_code (*outbox_add)(void *db, const char *level, const char *kind,
                                 const char *dedup_key, const char *payload,
                                 struct ferr *err);
    enum ferr_code (*outbox_list)(void *db, size_t limit, json_t **out,
                                  struct ferr *err);
    enum ferr_code (*outbox_unrouted)(void *db, size_t limit, json_t **out,
                                      struct ferr *err);
    enum ferr_code (*outbox_channels_of)(void *db, const char *dedup_key,
                                         json_t **out, struct ferr *err);
    enum ferr_code (*outbox_route)(void *db, int64_t id,
                                   const char *const *channels, size_t n,
                                   struct ferr *err);
    enum ferr_code (*outbox_due)(void *db, int64_t now, size_t limit,
                                 json_t **out, struct ferr *err);
    enum ferr_code (*outbox_next_due)(void *db, int64_t *out,
                                      struct ferr *err);
    enum ferr_code (*outbox_sent)(void *db, int64_t id, const char *channel,
                                  struct ferr *err);
    enum ferr_code (*outbox_retry)(void *db, int64_t id, const char *channel,
                                   bool attempted, int64_t next_at,
                                   const char *error, struct ferr *err);
};

/** The SQLite backend (WAL, synchronous=NORMAL, foreign keys on,
 *  5 s busy timeout; a new database file is created with mode 0600). */
extern const struct store_backend store_sqlite_backend;

/**
 * Test-only: the SQL that store_run_list prepares for the filters set in
 * @f (which fields are non-NULL, before_id > 0; the values are unused),
 * in a new string the caller frees, or NULL when it cannot be built.
 * tests/unit/store_test.c reads its EXPLAIN QUERY PLAN; nothing else
 * calls it.
 */
char *store_sqlite_run_list_sql(const struct store_run_filter *f);

/** The schema version this ferry's SQLite backend migrates to. */
#define STORE_SQLITE_SCHEMA_VERSION 5

#endif
