/* event: the run event stream and its JSON form.  No I/O here. */
#include "engine/event.h"

#include <time.h>

#include "util/json.h"

const char *result_name(enum result r)
{
    switch (r) {
    case RES_SUCCESS: return "success";
    case RES_FAILURE: return "failure";
    case RES_CANCELLED: return "cancelled";
    case RES_SKIPPED: return "skipped";
    case RES_NONE: break;
    }
    return "";
}

void event_emit(const struct event_sink *sink, struct event *ev)
{
    if (!ev->time_ms) {
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        ev->time_ms =
            (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
    }
    if (sink && sink->emit)
        sink->emit(sink->ud, ev);
}

static const char *type_name(enum event_kind k)
{
    switch (k) {
    case EV_RUN_STARTED: return "run.started";
    case EV_RUN_FINISHED: return "run.finished";
    case EV_WORKFLOW_SKIPPED: return "workflow.skipped";
    case EV_JOB_STARTED: return "job.started";
    case EV_JOB_FINISHED: return "job.finished";
    case EV_STEP_STARTED: return "step.started";
    case EV_STEP_FINISHED: return "step.finished";
    case EV_LOG: return "log";
    case EV_ANNOTATION: return "annotation";
    case EV_SLOT_WANTED: return "slot.wanted";
    case EV_ENV_WANTED: return "environment.wanted";
    case EV_REPORT: return "report";
    }
    return "unknown";
}

static void set_str(json_t *o, const char *k, const char *v)
{
    if (v)
        json_object_set_new(o, k, json_string(v));
}

json_t *event_to_json(const struct event *ev)
{
    json_t *o = json_object();
    bool fin = ev->kind == EV_RUN_FINISHED || ev->kind == EV_JOB_FINISHED ||
               ev->kind == EV_STEP_FINISHED;

    json_object_set_new(o, "type", json_string(type_name(ev->kind)));
    json_object_set_new(o, "time_ms", json_integer((json_int_t)ev->time_ms));
    set_str(o, "run_id", ev->run_id);
    set_str(o, "workflow", ev->workflow);
    set_str(o, "workflow_file", ev->workflow_file);
    set_str(o, "job", ev->job_id);
    set_str(o, "job_name", ev->job_name);
    set_str(o, "job_key", ev->job_key);
    if (ev->matrix && ev->kind != EV_LOG)
        json_object_set(o, "matrix", (json_t *)ev->matrix);
    if (ev->step >= 0 && ev->kind != EV_RUN_STARTED &&
        ev->kind != EV_RUN_FINISHED && ev->kind != EV_JOB_STARTED &&
        ev->kind != EV_JOB_FINISHED && ev->kind != EV_WORKFLOW_SKIPPED) {
        json_object_set_new(o, "step", json_integer(ev->step));
        set_str(o, "step_name", ev->step_name);
    }
    if (ev->kind == EV_STEP_FINISHED)
        json_object_set_new(o, "outcome",
                            json_string(result_name(ev->outcome)));
    if (fin) {
        json_object_set_new(o, "conclusion",
                            json_string(result_name(ev->result)));
        json_object_set_new(o, "duration_ms",
                            json_integer((json_int_t)ev->duration_ms));
    }
    if (ev->kind == EV_ANNOTATION) {
        set_str(o, "level", ev->level);
        set_str(o, "file", ev->file);
        if (ev->line)
            json_object_set_new(o, "line", json_integer(ev->line));
        if (ev->col)
            json_object_set_new(o, "col", json_integer(ev->col));
    }
    if (ev->kind == EV_LOG)
        set_str(o, "group", ev->group);
    if (ev->text.len || ev->kind == EV_LOG || ev->kind == EV_ANNOTATION) {
        const char *key = ev->kind == EV_LOG          ? "line"
                          : ev->kind == EV_ANNOTATION ? "message"
                                                      : "reason";

        json_object_set_new(o, key,
                            json_lossy_stringn(ev->text.p, ev->text.len));
    }
    if (ev->outputs)
        json_object_set(o, "outputs", (json_t *)ev->outputs);
    set_str(o, "environment", ev->environment);
    set_str(o, "env_url", ev->env_url);
    if (ev->report)
        json_object_set(o, "report", (json_t *)ev->report);
    return o;
}
