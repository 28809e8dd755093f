/* event: the stream of what happens in a run — run, job and step started
 * and finished, log lines, annotations.  The CLI prints it (text or JSON
 * lines); the server will persist and stream it.  Producers call
 * event_emit; consumers implement struct event_sink. */
#ifndef FERRY_ENGINE_EVENT_H
#define FERRY_ENGINE_EVENT_H

#include <jansson.h>
#include <stdint.h>

#include "util/span.h"

enum event_kind {
    EV_RUN_STARTED,
    EV_RUN_FINISHED,
    EV_WORKFLOW_SKIPPED, /* the event does not trigger it; reason in text */
    EV_JOB_STARTED,
    EV_JOB_FINISHED,
    EV_STEP_STARTED,
    EV_STEP_FINISHED,
    EV_LOG,        /* one masked output line */
    EV_ANNOTATION, /* ::error:: / ::warning:: / ::notice:: */
    EV_SLOT_WANTED, /* a gated run wants one more job slot */
    EV_ENV_WANTED,  /* a gated run's job with `environment:` waits for
                       the server's word (job_key, environment, env_url) */
    EV_REPORT,      /* a step recorded a report summary (tests, coverage,
                       findings, image) in $FERRY_REPORT: `report` */
};

/** Results as GitHub names them. */
enum result {
    RES_NONE = 0,
    RES_SUCCESS,
    RES_FAILURE,
    RES_CANCELLED,
    RES_SKIPPED
};

/** "success", "failure", "cancelled", "skipped", or "" for RES_NONE. */
const char *result_name(enum result r);

struct event {
    enum event_kind kind;
    uint64_t time_ms; /* wall clock, ms since the epoch */
    const char *run_id;
    const char *workflow; /* display name */
    const char *workflow_file;
    const char *job_id;   /* the job's key in the workflow */
    const char *job_name; /* display name (matrix values appended) */
    const char *job_key;  /* unique per job instance in the run
                           * ("0-wf-test-2"); NULL for run events */
    const json_t *matrix; /* the job's matrix cell or NULL */
    int step;             /* 0-based step number; -1 when not a step */
    const char *step_name;
    enum result outcome;   /* step outcome (before continue-on-error) */
    enum result result;    /* step conclusion / job / run result */
    uint64_t duration_ms;  /* *_FINISHED */
    const char *level;     /* EV_ANNOTATION: error|warning|notice */
    const char *file;      /* EV_ANNOTATION: file property or NULL */
    uint32_t line, col;    /* EV_ANNOTATION: 0 when not given */
    const char *group;     /* EV_LOG: the open ::group:: title or NULL */
    struct span text;      /* EV_LOG line; EV_ANNOTATION message;
                            * EV_WORKFLOW_SKIPPED reason;
                            * *_FINISHED: a failure reason or empty */
    const json_t *outputs; /* EV_JOB_FINISHED: the job's outputs */
    const char *environment; /* EV_ENV_WANTED: the evaluated name */
    const char *env_url;     /* EV_ENV_WANTED: its url or NULL */
    const json_t *report;    /* EV_REPORT: one summary object with a
                                string "kind" (docs/workflows.md) */
};

struct event_sink {
    void (*emit)(void *ud, const struct event *ev);
    void *ud;
};

/** Deliver @ev to @sink (stamping time_ms when it is 0). */
void event_emit(const struct event_sink *sink, struct event *ev);

/** One JSON object for @ev ({"type":"job.finished",...}); caller owns. */
json_t *event_to_json(const struct event *ev);

#endif
