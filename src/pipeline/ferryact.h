/* ferryact: the one table of ferry's own actions (ferry/deploy, report,
 * gate, image @v1) — the verb each runs as, its input names and which
 * inputs it requires — for lint, the engine and the commands alike.
 * Input names follow GitHub's rule: compared case-insensitively (they
 * reach the step as upper-cased INPUT_<NAME>). */
#ifndef FERRY_PIPELINE_FERRYACT_H
#define FERRY_PIPELINE_FERRYACT_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/ferr.h"

/* The only version of every ferry action. */
#define FERRYACT_VERSION "v1"

/* A requirement: at least one input of @any must be given, always (@when
 * NULL) or only when input @when has one of @values (exactly, as the
 * command compares it), or is not given and @absent is set. */
struct ferryact_rule {
    const char *const *any;    /* NULL-terminated */
    const char *when;          /* NULL: always */
    const char *const *values; /* NULL-terminated; with @when */
    bool absent;               /* @when not given counts as a match */
};

struct ferryact {
    const char *name;               /* "ferry/deploy" */
    const char *verb;               /* "__deploy": `ferry __deploy` */
    const char *doc;                /* where its inputs are described */
    const char *const *inputs;      /* NULL-terminated, lower case */
    const struct ferryact_rule *rules;
    size_t nrules;
};

/**
 * The action named @name (@len bytes, without "@ref": "ferry/report"),
 * compared exactly as the engine does; NULL when ferry has none.
 */
const struct ferryact *ferryact_find(const char *name, size_t len);

/**
 * The action a `uses:` value runs: "ferry/NAME@v1" with NAME in the
 * table; NULL for anything else (another version, another action).
 */
const struct ferryact *ferryact_of_uses(const char *uses);

/**
 * Whether @uses names ferry's own actions at all (it starts with
 * "ferry/", in any case), so ferryact_check_uses has a verdict on it.
 */
bool ferryact_is_ferry(const char *uses);

/**
 * Check a `uses:` value that ferryact_is_ferry: the action must exist
 * (FERR_INVALID "unknown action 'ferry/deplo' (did you mean
 * 'ferry/deploy'?) ...") and its ref be "v1" (FERR_INVALID
 * "'ferry/deploy' has no version 'v2' (use 'ferry/deploy@v1')").  On
 * FERR_OK *@out is the action.  @at (may be NULL) positions the error.
 */
enum ferr_code ferryact_check_uses(const char *uses, const struct pos *at,
                                   const struct ferryact **out,
                                   struct ferr *err) FERR_MUST_CHECK;

/**
 * The table's spelling of input @name (@len bytes) of @a, matched
 * case-insensitively; NULL when @a has no such input.
 */
const char *ferryact_input(const struct ferryact *a, const char *name,
                           size_t len);

/**
 * FERR_OK when @a has input @name (@len bytes, any case); else
 * FERR_INVALID "unknown input 'min-covrage' for ferry/report (did you
 * mean 'min-coverage'?)" — without a close name, the valid inputs (or
 * where they are described) instead of the suggestion.  @at may be NULL.
 */
enum ferr_code ferryact_check_input(const struct ferryact *a, const char *name,
                                    size_t len, const struct pos *at,
                                    struct ferr *err) FERR_MUST_CHECK;

/**
 * Check every key of @inputs (an object) with ferryact_check_input; the
 * first unknown one is the error.
 */
enum ferr_code ferryact_check_inputs(const struct ferryact *a,
                                     const json_t *inputs,
                                     struct ferr *err) FERR_MUST_CHECK;

/**
 * Check rule @i (< @a->nrules) against @given: an object from the
 * table's input names (lower case) to the given value as a string, or to
 * JSON null when the value is not known yet (an expression); blank
 * values must be left out (the commands treat them as not given).  A
 * rule whose condition input is unknown yet holds.  FERR_INVALID
 * "missing input 'command' required by ferry/deploy with target
 * 'process'" (or "input 'junit' or 'coverage'") when it does not.
 */
enum ferr_code ferryact_check_rule(const struct ferryact *a, size_t i,
                                   const json_t *given, const struct pos *at,
                                   struct ferr *err) FERR_MUST_CHECK;

#endif
