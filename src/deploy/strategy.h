/* strategy: moving an environment's traffic from one version's process
 * instances to another's — recreate, rolling, blue-green, canary — with
 * the building blocks rollback shares: start and health-check instances,
 * route traffic to the live sets with weights, drain and stop.  What it
 * does not do: read inputs, keep state.json, back up or restore (deploy
 * and rollback do). */
#ifndef FERRY_DEPLOY_STRATEGY_H
#define FERRY_DEPLOY_STRATEGY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "deploy/analysis.h"
#include "deploy/deploy.h"
#include "deploy/health.h"
#include "deploy/traffic.h"
#include "util/ferr.h"

enum strategy_kind {
    STRATEGY_RECREATE,
    STRATEGY_ROLLING,
    STRATEGY_BLUE_GREEN,
    STRATEGY_CANARY
};

enum strategy_step_kind {
    STRATEGY_STEP_WEIGHT,   /* value: percent of traffic to the new version */
    STRATEGY_STEP_PAUSE,    /* value: ms */
    STRATEGY_STEP_ANALYSIS  /* value unused */
};

/** One canary step. */
struct strategy_step {
    enum strategy_step_kind kind;
    unsigned value; /* see the kind */
};

/** A live instance in a set. */
struct strategy_inst {
    char *name;      /* the target's instance name */
    char *addr;      /* "127.0.0.1:PORT" */
    unsigned port;
    unsigned weight; /* relative traffic weight; 0 = routed nothing */
};

/**
 * One version: its record (as in state.json: "version", "release",
 * "command", "env", "instances", "grace_ms", "health" {input: text}) and
 * its live instances.
 */
struct strategy_set {
    json_t *rec;               /* own reference; NULL = no such version */
    struct health_spec health; /* parsed from rec "health" */
    struct strategy_inst *v;   /* live instances, in start order */
    size_t n;
};

/** A deployment in motion: the version going away and the one coming. */
struct strategy {
    const char *env;             /* borrowed */
    const char *envdir;          /* borrowed */
    const char *self_exe;        /* borrowed */
    struct traffic *traffic;     /* borrowed; NULL: no proxy */
    const struct deploy_report *r; /* borrowed; may be NULL */
    unsigned drain_ms;           /* longest wait for in-flight requests */
    struct strategy_set old;     /* the version that serves now */
    struct strategy_set new;     /* the version being deployed */
    struct timespec failed_at;   /* CLOCK_MONOTONIC of the failure verdict;
                                    zero until something fails */
};

/** What a strategy needs besides the sets (all borrowed). */
struct strategy_plan {
    enum strategy_kind kind;
    unsigned instances;          /* of the new version, >= 1 */
    unsigned batch;              /* rolling, >= 1 */
    unsigned keep_previous_ms;   /* blue-green */
    const struct strategy_step *steps; /* canary */
    size_t nsteps;
    const struct analysis_spec *analysis; /* run after the switch; NULL:
                                             only at canary steps */
    const struct analysis_spec *step_analysis; /* canary 'analysis' steps */
    const char *post_deploy;     /* hook after the switch; NULL */
    const char *workspace;       /* the hooks' directory */
    json_t *hook_env;            /* the hooks' extra environment; NULL */
    unsigned timeout_ms;         /* one hook */
};

/**
 * Parse @name ("recreate", "rolling", "blue-green", "canary") into
 * *@out.  Errors: FERR_INVALID "input 'strategy': unknown strategy 'x'
 * (recreate, rolling, blue-green, canary)".
 */
enum ferr_code strategy_kind_parse(const char *name, enum strategy_kind *out,
                                   struct ferr *err) FERR_MUST_CHECK;

/** The input spelling of @k ("blue-green"). */
const char *strategy_kind_name(enum strategy_kind k);

/**
 * Parse input 'steps': one step a line ("setWeight: 20", "pause: 5s",
 * "analysis", an optional leading "- ", blank lines and '#' comments
 * skipped).  A final setWeight: 100 is appended when the last weight
 * is below 100.  *@out (the caller's, free()) and *@out_n.
 * Errors: FERR_INVALID "input 'steps': line 2: …"; *@out NULL.
 */
enum ferr_code strategy_steps_parse(const char *text,
                                    struct strategy_step **out,
                                    size_t *out_n,
                                    struct ferr *err) FERR_MUST_CHECK;

/**
 * Parse a duration: "500ms", "5s", "2m", "1h", or bare seconds; at most
 * 24 h.  Errors: FERR_INVALID "input '@input': bad duration '1x'".
 */
enum ferr_code strategy_duration_parse(const char *input, const char *text,
                                       unsigned *out_ms,
                                       struct ferr *err) FERR_MUST_CHECK;

/**
 * Fill @s for record @rec (a new reference is taken; NULL makes an empty
 * set) and find its live instances in @envdir: those running
 * rec "release".  Errors: FERR_INVALID when rec "health" does not parse,
 * those of target_list.  @s is usable (and must be released) either way.
 */
enum ferr_code strategy_set_init(struct strategy_set *s, json_t *rec,
                                 const char *envdir,
                                 struct ferr *err) FERR_MUST_CHECK;

/** Free @s's instances and record; it can be initialised again. */
void strategy_set_release(struct strategy_set *s);

/** @s's instance names as a JSON array (new reference). */
json_t *strategy_set_names(const struct strategy_set *s);

/**
 * Print "[phase] status: detail" on stdout and tell st->r.
 */
void strategy_phase(struct strategy *st, const char *phase,
                    const char *status, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/** Mark now as the moment of failure, unless one is already marked. */
void strategy_mark_failed(struct strategy *st);

/** Seconds since strategy_mark_failed (0 when none). */
double strategy_since_failed(const struct strategy *st);

/**
 * Start @count more instances of @s's version (names ENV-VERSION-i with
 * the first free i) and health-check each; each is added to @s (weight
 * 0) as soon as it runs, so a failure leaves it there to be stopped.
 * Errors: those of target_start and health_wait, prefixed with the
 * instance's name.
 */
enum ferr_code strategy_launch(struct strategy *st, struct strategy_set *s,
                               unsigned count,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * Give the proxy the instances of both sets with weight > 0 as the whole
 * backend set (no-op without a proxy or when nothing has weight).
 * Errors: those of traffic_set.
 */
enum ferr_code strategy_route(struct strategy *st,
                              struct ferr *err) FERR_MUST_CHECK;

/**
 * Take the first @count instances out of @s: weight 0, routed away,
 * drained (in-flight requests finish, at most st->drain_ms) and
 * stopped.  They leave @s even when stopping fails.
 * Errors: those of strategy_route (nothing stopped then) and
 * target_stop; a drain that times out is only a warning.
 */
enum ferr_code strategy_retire(struct strategy *st, struct strategy_set *s,
                               size_t count, struct ferr *err) FERR_MUST_CHECK;

/**
 * Weigh the sets: each of @old_share and @new_share is split over the
 * set's instances (shares are percentages, 0..100).
 */
void strategy_weigh(struct strategy *st, unsigned old_share,
                    unsigned new_share);

/**
 * Health-check every instance of @s again (rollback's verification).
 * Errors: health_wait's, prefixed with the instance's name.
 */
enum ferr_code strategy_verify(struct strategy *st, struct strategy_set *s,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * Run @p from st->old to st->new.  On success the new version holds all
 * traffic and st->old has no instance left.  On failure the error says
 * why (health, analysis, post-deploy, a crash while starting), the
 * failure time is marked, and both sets hold whatever is still running
 * for rollback to sort out.
 */
enum ferr_code strategy_run(struct strategy *st, const struct strategy_plan *p,
                            struct ferr *err) FERR_MUST_CHECK;

/** Sleep @ms, restarting after signals (clock_nanosleep). */
void strategy_pause(unsigned ms);

#endif
