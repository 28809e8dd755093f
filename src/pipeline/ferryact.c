/* ferryact: the table of ferry's own actions and the checks over it that
 * lint (before a run) and the commands (when the step runs) share: is
 * this a ferry action, does it take this input, is a required input
 * missing.  It does not check input values: each command does that. */
#include "pipeline/ferryact.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "pipeline/wf.h"
#include "util/buf.h"

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))
#define SHOW_MAX 100
#define LIST_MAX 200 /* a longer list of inputs is left to the docs */

static int shown(size_t len)
{
    return (int)(len > SHOW_MAX ? SHOW_MAX : len);
}

/* ---- ferry/report (src/cli/report_cmd.c) ---- */

static const char *const report_inputs[] = {
    "junit", "coverage", "coverage-format", "min-coverage",
    "fail-on-test-failures", "name", NULL,
};
static const char *const report_any[] = { "junit", "coverage", NULL };
static const char *const report_cov[] = { "coverage", NULL };
static const struct ferryact_rule report_rules[] = {
    { report_any, NULL, NULL, false },
    { report_cov, "min-coverage", NULL, false },
};

/* ---- ferry/gate (src/cli/report_cmd.c) ---- */

static const char *const gate_inputs[] = {
    "sarif", "bandit", "severity", "max-findings", "name", NULL,
};
static const char *const gate_any[] = { "sarif", "bandit", NULL };
static const struct ferryact_rule gate_rules[] = {
    { gate_any, NULL, NULL, false },
};

/* ---- ferry/deploy (src/deploy/deploy.c, docs/deploy.md) ---- */

static const char *const deploy_inputs[] = {
    "environment", "version", "target", "command", "path", "instances",
    "env", "strategy", "batch-size", "steps", "keep-previous", "proxy",
    "health", "health-status", "health-body", "health-interval",
    "health-timeout", "health-successes", "health-failures",
    "health-deadline", "analysis", "prometheus", "analysis-max",
    "analysis-interval", "analysis-count", "analysis-failure-limit",
    "analysis-min-requests", "backup", "restore", "post-deploy", "deploy",
    "verify", "rollback", "release", "grace", "timeout", "url",
    "image", "container-port", "username", "password", NULL,
};
static const char *const deploy_env[] = { "environment", NULL };
static const char *const deploy_command[] = { "command", NULL };
static const char *const deploy_deploy[] = { "deploy", NULL };
static const char *const deploy_image[] = { "image", NULL };
static const char *const deploy_proxy[] = { "proxy", NULL };
static const char *const target_process[] = { "process", NULL };
static const char *const target_script[] = { "script", NULL };
static const char *const target_container[] = { "container", NULL };
static const char *const strategy_proxied[] = { "blue-green", "canary",
                                                NULL };
static const char *const user[] = { "username", NULL };
static const char *const password[] = { "password", NULL };
static const struct ferryact_rule deploy_rules[] = {
    { deploy_env, NULL, NULL, false },
    { deploy_command, "target", target_process, true },
    { deploy_deploy, "target", target_script, false },
    { deploy_image, "target", target_container, false },
    { deploy_proxy, "strategy", strategy_proxied, false },
    { password, "username", NULL, false },
    { user, "password", NULL, false },
};

/* ---- ferry/image (src/cli/image_cmd.c) ---- */

static const char *const image_inputs[] = {
    "context", "file", "build-args", "name", "tags", "push",
    "username", "password", "labels", "target", "no-cache", NULL,
};
static const char *const image_name[] = { "name", NULL };
static const struct ferryact_rule image_rules[] = {
    { image_name, NULL, NULL, false },
    { password, "username", NULL, false },
    { user, "password", NULL, false },
};

static const struct ferryact table[] = {
    { "ferry/deploy", "__deploy", "docs/deploy.md", deploy_inputs,
      deploy_rules, NELEM(deploy_rules) },
    { "ferry/report", "__report", "docs/reports.md", report_inputs,
      report_rules, NELEM(report_rules) },
    { "ferry/gate", "__gate", "docs/reports.md", gate_inputs, gate_rules,
      NELEM(gate_rules) },
    { "ferry/image", "__image", "docs/containers.md", image_inputs,
      image_rules, NELEM(image_rules) },
};

/* The names, for suggestions. */
static const char *const names[] = {
    "ferry/deploy", "ferry/report", "ferry/gate", "ferry/image", NULL,
};

const struct ferryact *ferryact_find(const char *name, size_t len)
{
    for (size_t i = 0; i < NELEM(table); i++)
        if (strlen(table[i].name) == len &&
            memcmp(table[i].name, name, len) == 0)
            return &table[i];
    return NULL;
}

const struct ferryact *ferryact_of_uses(const char *uses)
{
    size_t n = strcspn(uses, "@");
    const struct ferryact *a = ferryact_find(uses, n);

    if (!a || uses[n] != '@' || strcmp(uses + n + 1, FERRYACT_VERSION) != 0)
        return NULL;
    return a;
}

bool ferryact_is_ferry(const char *uses)
{
    return strncasecmp(uses, "ferry/", 6) == 0;
}

enum ferr_code ferryact_check_uses(const char *uses, const struct pos *at,
                                   const struct ferryact **out,
                                   struct ferr *err)
{
    size_t n = strcspn(uses, "@");
    const struct ferryact *a = ferryact_find(uses, n);
    const char *s;

    *out = NULL;
    if (!a) {
        s = wf_suggest(uses, n, names);
        if (s)
            return ferr_set(err, FERR_INVALID, at,
                            "unknown action '%.*s' (did you mean '%s'?)",
                            shown(n), uses, s);
        return ferr_set(err, FERR_INVALID, at,
                        "unknown action '%.*s': ferry's own actions are "
                        "ferry/deploy, ferry/report, ferry/gate and "
                        "ferry/image",
                        shown(n), uses);
    }
    if (uses[n] != '@')
        return ferr_set(err, FERR_INVALID, at,
                        "'%s' needs a version (use '%s@%s')", a->name,
                        a->name, FERRYACT_VERSION);
    if (strcmp(uses + n + 1, FERRYACT_VERSION) != 0)
        return ferr_set(err, FERR_INVALID, at,
                        "'%s' has no version '%.*s' (use '%s@%s')", a->name,
                        shown(strlen(uses + n + 1)), uses + n + 1, a->name,
                        FERRYACT_VERSION);
    *out = a;
    return FERR_OK;
}

const char *ferryact_input(const struct ferryact *a, const char *name,
                           size_t len)
{
    for (size_t i = 0; a->inputs[i]; i++)
        if (strlen(a->inputs[i]) == len &&
            strncasecmp(a->inputs[i], name, len) == 0)
            return a->inputs[i];
    return NULL;
}

/* "a, b, c" when it is short enough to read in one message. */
static bool input_list(const struct ferryact *a, char *out, size_t cap)
{
    struct buf b;
    bool ok = true;

    buf_init(&b, LIST_MAX);
    for (size_t i = 0; ok && a->inputs[i]; i++)
        ok = buf_addf(&b, "%s%s", i ? ", " : "", a->inputs[i]) == FERR_OK;
    if (ok)
        snprintf(out, cap, "%s", buf_cstr(&b));
    buf_release(&b);
    return ok;
}

enum ferr_code ferryact_check_input(const struct ferryact *a, const char *name,
                                    size_t len, const struct pos *at,
                                    struct ferr *err)
{
    const char *s;
    char list[LIST_MAX + 1];

    if (ferryact_input(a, name, len))
        return FERR_OK;
    s = wf_suggest(name, len, a->inputs);
    if (s)
        return ferr_set(err, FERR_INVALID, at,
                        "unknown input '%.*s' for %s (did you mean '%s'?)",
                        shown(len), name, a->name, s);
    if (input_list(a, list, sizeof(list)))
        return ferr_set(err, FERR_INVALID, at,
                        "unknown input '%.*s' for %s (valid inputs: %s)",
                        shown(len), name, a->name, list);
    return ferr_set(err, FERR_INVALID, at,
                    "unknown input '%.*s' for %s (its inputs are in %s)",
                    shown(len), name, a->name, a->doc);
}

enum ferr_code ferryact_check_inputs(const struct ferryact *a,
                                     const json_t *inputs, struct ferr *err)
{
    const char *k;
    json_t *v;

    json_object_foreach ((json_t *)inputs, k, v) {
        enum ferr_code rc = ferryact_check_input(a, k, strlen(k), NULL, err);

        if (rc)
            return rc;
    }
    return FERR_OK;
}

static bool one_of(const char *v, const char *const *list)
{
    for (size_t i = 0; list[i]; i++)
        if (strcmp(v, list[i]) == 0)
            return true;
    return false;
}

enum ferr_code ferryact_check_rule(const struct ferryact *a, size_t i,
                                   const json_t *given, const struct pos *at,
                                   struct ferr *err)
{
    const struct ferryact_rule *r = &a->rules[i];
    const json_t *w = NULL;
    const char *wv = NULL;
    char want[256];
    char cond[160];
    size_t off = 0;

    if (r->when) {
        w = json_object_get(given, r->when);
        if (w && !json_is_string(w))
            return FERR_OK; /* not known before the step runs */
        wv = json_string_value(w);
        if (!w && !r->absent)
            return FERR_OK;
        if (w && r->values && !one_of(wv, r->values))
            return FERR_OK;
    }
    for (size_t k = 0; r->any[k]; k++)
        if (json_object_get(given, r->any[k]))
            return FERR_OK;
    want[0] = '\0';
    for (size_t k = 0; r->any[k] && off < sizeof(want); k++) {
        int m = snprintf(want + off, sizeof(want) - off, "%s'%s'",
                         k == 0 ? "" : r->any[k + 1] ? ", " : " or ",
                         r->any[k]);

        if (m < 0)
            break;
        off += (size_t)m;
    }
    cond[0] = '\0';
    if (r->when && r->values)
        snprintf(cond, sizeof(cond), " with %s '%.*s'%s", r->when,
                 wv ? shown(strlen(wv)) : (int)strlen(r->values[0]),
                 wv ? wv : r->values[0], wv ? "" : " (the default)");
    else if (r->when)
        snprintf(cond, sizeof(cond), " with input '%s'", r->when);
    return ferr_set(err, FERR_INVALID, at,
                    "missing input %s required by %s%s", want, a->name,
                    cond);
}
