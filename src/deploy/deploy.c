/* deploy: the `uses: ferry/deploy@v1` step — its inputs, and one
 * deployment from backup to promotion or rollback, under the
 * environment's flock, with state.json updated at the end.  The process
 * target's strategies are in strategy.c and the rollback sequence in
 * rollback.c; the script target's three commands are run here.  It does
 * not talk to the server (the CLI reports the phases it is told of). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "deploy/ctarget.h" /* container target hooks */
#include "deploy/deploy.h"
#include "deploy/envstate.h"
#include "deploy/rollback.h"
#include "deploy/strategy.h"
#include "deploy/target.h"
#include "pipeline/ferryact.h"
#include "util/span.h"
#include "util/xalloc.h"

#define MAX_INSTANCES 64u     /* instances of one version */
#define MAX_ENV_VARS 256u     /* lines of input 'env' */
#define KEEP_RELEASES 5u      /* release directories kept */
#define KEEP_BACKUPS 5u       /* backup directories kept */
#define DRAIN_MS 30000u       /* longest wait for in-flight requests */

struct deploy_spec {
    json_t *inputs;          /* the given inputs, non-empty, as text */
    char *environment;
    char *version;
    bool script;             /* target: script */
    bool container;          /* target: container (ctarget.h) */
    unsigned container_port; /* container: where the image listens */
    char *workspace;         /* 'path' and hooks are relative to it */
    unsigned instances;
    json_t *env;             /* {NAME: value} from input 'env' */
    enum strategy_kind strategy;
    unsigned batch;
    struct strategy_step *steps;
    size_t nsteps;
    unsigned keep_previous_ms;
    json_t *health;          /* the health inputs, for state.json */
    bool has_health;         /* input 'health' given */
    struct analysis_spec analysis;
    bool has_analysis;       /* input 'analysis' given */
    unsigned grace_ms;
    unsigned timeout_ms;
};

static const char *const health_inputs[] = {
    "health", "health-status", "health-body", "health-interval",
    "health-timeout", "health-successes", "health-failures",
    "health-deadline",
};

/* inputs that only one target understands */
static const char *const process_only[] = {
    "command", "path", "instances", "strategy", "batch-size", "steps",
    "keep-previous", "proxy", "grace",
};
static const char *const script_only[] = { "deploy", "verify", "rollback" };
/* container target hook: its own inputs, and the process inputs it
 * does not take */
static const char *const container_only[] = {
    "image", "container-port", "username", "password",
};
static const char *const not_container[] = { "command", "path" };

#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

static const char *in(const struct deploy_spec *s, const char *name)
{
    return json_string_value(json_object_get(s->inputs, name));
}

/* An input of ferry/deploy: the names are pipeline/ferryact.h's, the
 * table `ferry lint` checks them by (spelled as there: the inputs come
 * lower-cased from cli_inputs_take). */
static bool known_input(const char *name)
{
    const char *t = ferryact_input(ferryact_of_uses("ferry/deploy@v1"), name,
                                   strlen(name));

    return t && strcmp(t, name) == 0;
}

const char *deploy_spec_environment(const struct deploy_spec *s)
{
    return s->environment;
}

const char *deploy_spec_version(const struct deploy_spec *s)
{
    return s->version;
}

const char *deploy_spec_release(const struct deploy_spec *s)
{
    return in(s, "release");
}

const char *deploy_spec_url(const struct deploy_spec *s)
{
    return in(s, "url");
}

void deploy_spec_set_workspace(struct deploy_spec *s, const char *dir)
{
    free(s->workspace);
    s->workspace = xstrdup(dir && *dir ? dir : ".");
}

void deploy_spec_free(struct deploy_spec *s)
{
    const char *pw;

    if (!s)
        return;
    /* container target hook: the registry password goes zeroed */
    pw = in(s, "password");
    if (pw)
        explicit_bzero((char *)pw, strlen(pw));
    json_decref(s->inputs);
    json_decref(s->env);
    json_decref(s->health);
    free(s->environment);
    free(s->version);
    free(s->workspace);
    free(s->steps);
    analysis_spec_release(&s->analysis);
    free(s);
}

/* A count input in [lo, hi], @def when absent. */
static enum ferr_code count_in(const struct deploy_spec *s, const char *name,
                               unsigned def, unsigned lo, unsigned hi,
                               unsigned *out, struct ferr *err)
{
    const char *t = in(s, name);
    uint64_t v;

    *out = def;
    if (!t)
        return FERR_OK;
    if (span_to_u64(span_trim(span_cstr(t)), &v) || v < lo || v > hi)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s': expected a number from %u to %u, not "
                        "'%s'",
                        name, lo, hi, t);
    *out = (unsigned)v;
    return FERR_OK;
}

static enum ferr_code duration_in(const struct deploy_spec *s,
                                  const char *name, unsigned def,
                                  unsigned *out, struct ferr *err)
{
    const char *t = in(s, name);

    *out = def;
    return t ? strategy_duration_parse(name, t, out, err) : FERR_OK;
}

static bool env_name_ok(struct span n)
{
    if (n.len == 0 || (n.p[0] >= '0' && n.p[0] <= '9'))
        return false;
    for (size_t i = 0; i < n.len; i++) {
        char c = n.p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

/* Input 'env': NAME=value lines. */
static enum ferr_code parse_env(const char *text, json_t *out,
                                struct ferr *err)
{
    struct span rest = span_cstr(text), line, name, value;
    unsigned lineno = 0, n = 0;
    bool more = true;

    while (more) {
        char q[72];

        more = span_cut(rest, '\n', &line, &rest);
        lineno++;
        line = span_trim(line);
        if (line.len == 0 || line.p[0] == '#')
            continue;
        if (!span_cut(line, '=', &name, &value) ||
            !env_name_ok(span_trim(name)))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'env': line %u: expected NAME=value, not "
                            "'%s'",
                            lineno, span_quote(line.p, line.len, q));
        name = span_trim(name);
        if (span_eq_cstr(name, "PORT") ||
            span_starts_with(name, SPAN_LIT("FERRY_")))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input 'env': line %u: '%.*s' is set by ferry",
                            lineno, SPAN_ARGS(name));
        if (++n > MAX_ENV_VARS)
            return ferr_set(err, FERR_LIMIT, NULL,
                            "input 'env': more than %u variables",
                            MAX_ENV_VARS);
        {
            char *k = xstrndup(name.p, name.len);

            json_object_set_new(out, k, json_stringn(value.p, value.len));
            free(k);
        }
    }
    return FERR_OK;
}

static bool release_ok(const char *r)
{
    const char *p = r;
    int parts = 0;

    if (strcmp(r, "auto") == 0)
        return true;
    if (*p++ != 'v') /* the server tags only vX.Y.Z */
        return false;
    for (;;) {
        const char *d = p;

        while (*p >= '0' && *p <= '9')
            p++;
        if (p == d || p - d > 9)
            return false;
        parts++;
        if (parts == 3)
            break;
        if (*p++ != '.')
            return false;
    }
    if (*p == '\0')
        return true;
    if (*p != '-' && *p != '+')
        return false;
    for (p++; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            return false;
    return strlen(r) <= 64;
}

/* Copy @inputs as text, dropping empty values (GitHub passes every
 * declared input; an empty one means "not given"). */
static enum ferr_code copy_inputs(json_t *inputs, json_t **out,
                                  struct ferr *err)
{
    json_t *o = json_object();
    const char *k;
    json_t *v;

    *out = NULL;
    if (!json_is_object(inputs)) {
        json_decref(o);
        return ferr_set(err, FERR_INVALID, NULL, "inputs are not an object");
    }
    json_object_foreach (inputs, k, v) {
        char num[32];
        const char *t = NULL;

        if (!known_input(k)) {
            json_decref(o);
            return ferr_set(err, FERR_INVALID, NULL,
                            "input '%s': unknown input (see docs/deploy.md)",
                            k);
        }
        if (json_is_string(v)) {
            t = json_string_value(v);
        } else if (json_is_integer(v)) {
            snprintf(num, sizeof(num), "%lld",
                     (long long)json_integer_value(v));
            t = num;
        } else if (json_is_boolean(v)) {
            t = json_is_true(v) ? "true" : "false";
        } else if (!json_is_null(v)) {
            json_decref(o);
            return ferr_set(err, FERR_INVALID, NULL,
                            "input '%s': expected text", k);
        }
        if (t && strlen(t) > 64 * 1024) {
            json_decref(o);
            return ferr_set(err, FERR_LIMIT, NULL,
                            "input '%s': longer than 64 KiB", k);
        }
        if (t && span_trim(span_cstr(t)).len > 0)
            json_object_set_new(o, k, json_string(t));
    }
    *out = o;
    return FERR_OK;
}

/* container target hook: the container target's inputs */
static enum ferr_code check_container_inputs(struct deploy_spec *s,
                                             struct ferr *err)
{
    enum ferr_code rc;

    if (!s->container) {
        for (size_t i = 0; i < NELEM(container_only); i++)
            if (in(s, container_only[i]))
                return ferr_set(err, FERR_INVALID, NULL,
                                "input '%s' applies to target 'container' "
                                "only",
                                container_only[i]);
        return FERR_OK;
    }
    for (size_t i = 0; i < NELEM(script_only); i++)
        if (in(s, script_only[i]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input '%s' applies to target 'script' only",
                            script_only[i]);
    for (size_t i = 0; i < NELEM(not_container); i++)
        if (in(s, not_container[i]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input '%s' applies to target 'process' only "
                            "(a container runs its image's command)",
                            not_container[i]);
    if (!in(s, "image"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'image' is required by target 'container' "
                        "(e.g. 127.0.0.1:5000/team/app@sha256:…)");
    if (!in(s, "username") != !in(s, "password"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "inputs 'username' and 'password' go together (the "
                        "registry credentials of input 'image')");
    rc = ctarget_check_image(in(s, "image"), err);
    if (!rc)
        rc = count_in(s, "container-port", CTARGET_DEFAULT_PORT, 1, 65535,
                      &s->container_port, err);
    return rc;
}

static enum ferr_code check_target_inputs(const struct deploy_spec *s,
                                          struct ferr *err)
{
    const char *const *other = s->script ? process_only : script_only;
    size_t n = s->script ? NELEM(process_only) : NELEM(script_only);

    if (s->container)
        return FERR_OK; /* check_container_inputs did */

    for (size_t i = 0; i < n; i++)
        if (in(s, other[i]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input '%s' applies to target '%s' only",
                            other[i], s->script ? "process" : "script");
    if (!s->script && !in(s, "command"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'command' is required by target 'process' "
                        "(it must listen on 127.0.0.1:$PORT)");
    if (s->script && !in(s, "deploy"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'deploy' is required by target 'script'");
    return FERR_OK;
}

static enum ferr_code parse_strategy(struct deploy_spec *s, struct ferr *err)
{
    const char *st = in(s, "strategy");
    enum ferr_code rc;

    s->strategy = STRATEGY_ROLLING;
    if (st) {
        rc = strategy_kind_parse(st, &s->strategy, err);
        if (rc)
            return rc;
    }
    if (in(s, "batch-size") && s->strategy != STRATEGY_ROLLING)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'batch-size' applies to strategy 'rolling' "
                        "only");
    if (in(s, "steps") && s->strategy != STRATEGY_CANARY)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'steps' applies to strategy 'canary' only");
    if (in(s, "keep-previous") && s->strategy != STRATEGY_BLUE_GREEN)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'keep-previous' applies to strategy "
                        "'blue-green' only");
    if ((s->strategy == STRATEGY_BLUE_GREEN ||
         s->strategy == STRATEGY_CANARY) && !in(s, "proxy"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'proxy' is required by strategy '%s' (e.g. "
                        "ferry:127.0.0.1:9001)",
                        strategy_kind_name(s->strategy));
    rc = count_in(s, "batch-size", 1, 1, MAX_INSTANCES, &s->batch, err);
    if (!rc)
        rc = duration_in(s, "keep-previous", 30000, &s->keep_previous_ms,
                         err);
    if (rc)
        return rc;
    if (s->strategy == STRATEGY_CANARY)
        rc = strategy_steps_parse(in(s, "steps") ? in(s, "steps")
                                                 : "setWeight: 20\n"
                                                   "analysis\n"
                                                   "setWeight: 50\n"
                                                   "analysis\n",
                                  &s->steps, &s->nsteps, err);
    return rc;
}

static enum ferr_code parse_checks(struct deploy_spec *s, struct ferr *err)
{
    struct health_spec h;
    bool steps_analyse = false;
    enum ferr_code rc;

    s->health = json_object();
    for (size_t i = 0; i < NELEM(health_inputs); i++)
        if (in(s, health_inputs[i]))
            json_object_set_new(s->health, health_inputs[i],
                                json_string(in(s, health_inputs[i])));
    s->has_health = in(s, "health") != NULL;
    if (!s->has_health && !s->script)
        json_object_set_new(s->health, "health", json_string("tcp"));
    if (s->has_health || !s->script) {
        const char *hc = in(s, "health") ? in(s, "health") : "tcp";

        rc = health_spec_parse(&h, hc, in(s, "health-status"),
                               in(s, "health-body"), in(s, "health-interval"),
                               in(s, "health-timeout"),
                               in(s, "health-successes"),
                               in(s, "health-failures"),
                               in(s, "health-deadline"), err);
        if (!rc && s->script && h.kind == HEALTH_TCP)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "input 'health': target 'script' has no instance "
                          "to probe: use a full URL (http://…) or "
                          "exec:COMMAND");
        if (!rc && s->script && h.kind == HEALTH_HTTP &&
            strncmp(h.path, "http://", 7) != 0 &&
            strncmp(h.path, "https://", 8) != 0)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "input 'health': target 'script' has no instance "
                          "to probe: use a full URL (http://…)");
        health_spec_release(&h);
        if (rc)
            return rc;
    }
    s->has_analysis = in(s, "analysis") != NULL;
    rc = analysis_spec_parse(&s->analysis, in(s, "analysis"),
                             in(s, "prometheus"), in(s, "analysis-max"),
                             in(s, "analysis-interval"),
                             in(s, "analysis-count"),
                             in(s, "analysis-failure-limit"),
                             in(s, "analysis-min-requests"), err);
    if (rc)
        return rc;
    for (size_t i = 0; i < s->nsteps; i++)
        steps_analyse |= s->steps[i].kind == STRATEGY_STEP_ANALYSIS;
    if ((s->has_analysis || steps_analyse) &&
        s->analysis.kind == ANALYSIS_ERROR_RATE && !in(s, "proxy"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'analysis': error-rate reads the proxy's "
                        "counters: give input 'proxy' or use "
                        "prometheus:QUERY");
    return FERR_OK;
}

enum ferr_code deploy_spec_parse(json_t *inputs, struct deploy_spec **out,
                                 struct ferr *err)
{
    struct deploy_spec *s = xcalloc(1, sizeof(*s));
    const char *t;
    enum ferr_code rc;

    *out = NULL;
    s->workspace = xstrdup(".");
    s->env = json_object();
    rc = copy_inputs(inputs, &s->inputs, err);
    if (rc)
        goto done;
    t = in(s, "environment");
    if (!t) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'environment' is required");
        goto done;
    }
    if (!envstate_name_ok(t)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'environment': bad name '%s' (letters, digits, "
                      "'.', '_', '-'; at most 64)",
                      t);
        goto done;
    }
    s->environment = xstrdup(t);
    t = in(s, "version") ? in(s, "version") : "dev";
    if (!envstate_name_ok(t)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'version': bad version '%s' (letters, digits, "
                      "'.', '_', '-'; at most 64)",
                      t);
        goto done;
    }
    s->version = xstrdup(t);
    t = in(s, "target") ? in(s, "target") : "process";
    if (strcmp(t, "script") == 0) {
        s->script = true;
    } else if (strcmp(t, "container") == 0) {
        s->container = true; /* container target hook */
    } else if (strcmp(t, "process") != 0) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'target': unknown target '%s' (process, "
                      "container, script)",
                      t);
        goto done;
    }
    rc = check_container_inputs(s, err);
    if (!rc)
        rc = check_target_inputs(s, err);
    if (!rc)
        rc = count_in(s, "instances", 1, 1, MAX_INSTANCES, &s->instances,
                      err);
    if (!rc && in(s, "env"))
        rc = parse_env(in(s, "env"), s->env, err);
    if (!rc && !s->script)
        rc = parse_strategy(s, err);
    if (!rc && in(s, "proxy")) {
        struct traffic *tr = NULL;

        rc = traffic_open(in(s, "proxy"), &tr, err);
        traffic_free(tr);
    }
    if (!rc)
        rc = parse_checks(s, err);
    if (!rc)
        rc = duration_in(s, "grace", 10000, &s->grace_ms, err);
    if (!rc)
        rc = duration_in(s, "timeout", 600000, &s->timeout_ms, err);
    if (!rc && in(s, "restore") && !in(s, "backup"))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'restore' needs input 'backup' (what would it "
                      "restore?)");
    if (!rc && in(s, "release") && !release_ok(in(s, "release")))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'release': expected a tag like v1.2.3 or "
                      "'auto', not '%s'",
                      in(s, "release"));
    if (!rc && in(s, "path")) {
        struct span p = span_cstr(in(s, "path"));

        if (p.p[0] == '/' || strstr(p.p, "..") != NULL)
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "input 'path': '%s' must be relative to the "
                          "workspace, without '..'",
                          p.p);
    }
done:
    if (rc) {
        deploy_spec_free(s);
        return rc;
    }
    *out = s;
    return FERR_OK;
}

/* ---- running ---- */

struct run {
    const struct deploy_spec *s;
    const char *envdir;
    json_t *state;           /* state.json */
    json_t *hook_env;        /* FERRY_VERSION … + input 'env' */
    char *backup_dir;        /* NULL: no backup taken */
    struct strategy st;
};

static json_t *hook_env_new(const char *env, const char *version,
                            const char *previous, json_t *extra)
{
    json_t *e = extra ? json_deep_copy(extra) : json_object();

    json_object_set_new(e, "FERRY_ENVIRONMENT", json_string(env));
    json_object_set_new(e, "FERRY_VERSION", json_string(version));
    json_object_set_new(e, "FERRY_PREVIOUS_VERSION",
                        json_string(previous ? previous : ""));
    return e;
}

static const char *rec_version(json_t *rec)
{
    return json_string_value(json_object_get(rec, "version"));
}

static enum ferr_code locked_error(json_t *state, const char *env,
                                   struct ferr *err)
{
    json_t *l = json_object_get(state, "locked");
    const char *why = json_string_value(json_object_get(l, "reason"));
    const char *at = json_string_value(json_object_get(l, "at"));

    return ferr_set(err, FERR_INVALID, NULL,
                    "environment '%s' is locked since a rollback failed at "
                    "%s (%s): run ferry env unlock %s",
                    env, at ? at : "?", why ? why : "no reason recorded", env);
}

static void lock_env(json_t *state, const char *version, const char *why)
{
    char now[32];

    json_object_set_new(state, "locked",
                        json_pack("{s:s, s:s, s:s}", "reason", why, "at",
                                  envstate_now(now, sizeof(now)), "version",
                                  version ? version : ""));
}

static void note_failure(json_t *state, const char *version, const char *why)
{
    char now[32];

    json_object_set_new(state, "last_failure",
                        json_pack("{s:s, s:s, s:s}", "version", version,
                                  "reason", why, "at",
                                  envstate_now(now, sizeof(now))));
}

static enum ferr_code take_backup(struct run *r, struct ferr *err)
{
    const struct deploy_spec *s = r->s;
    json_t *env;
    enum ferr_code rc;

    if (!in(s, "backup"))
        return FERR_OK;
    rc = envstate_backup_dir(r->envdir, s->version, KEEP_BACKUPS,
                             &r->backup_dir, err);
    if (rc)
        return rc;
    env = json_deep_copy(r->hook_env);
    json_object_set_new(env, "FERRY_BACKUP_DIR", json_string(r->backup_dir));
    strategy_phase(&r->st, "backup", "started", "into %s", r->backup_dir);
    rc = target_run_script(in(s, "backup"), s->workspace, env, s->timeout_ms,
                           err);
    json_decref(env);
    if (rc) {
        strategy_phase(&r->st, "backup", "failed", "%s", err->msg);
        ferr_prefix(err, "backup failed, nothing was deployed");
        return rc;
    }
    strategy_phase(&r->st, "backup", "succeeded", "%s", r->backup_dir);
    return FERR_OK;
}

static json_t *process_record(struct run *r, const char *release)
{
    const struct deploy_spec *s = r->s;
    char now[32];
    json_t *rec = json_object();

    json_object_set_new(rec, "version", json_string(s->version));
    json_object_set_new(rec, "target", json_string("process"));
    json_object_set_new(rec, "release", json_string(release));
    json_object_set_new(rec, "command", json_string(in(s, "command")));
    json_object_set(rec, "env", s->env);
    json_object_set_new(rec, "instances", json_integer(s->instances));
    json_object_set_new(rec, "grace_ms", json_integer(s->grace_ms));
    json_object_set(rec, "health", s->health);
    json_object_set_new(rec, "strategy",
                        json_string(strategy_kind_name(s->strategy)));
    if (in(s, "proxy"))
        json_object_set_new(rec, "proxy", json_string(in(s, "proxy")));
    json_object_set_new(rec, "workspace", json_string(s->workspace));
    if (r->backup_dir)
        json_object_set_new(rec, "backup", json_string(r->backup_dir));
    if (in(s, "restore"))
        json_object_set_new(rec, "restore", json_string(in(s, "restore")));
    json_object_set_new(rec, "deployed_at",
                        json_string(envstate_now(now, sizeof(now))));
    if (s->container) {
        /* container target hook: its release names the image; the
         * command (which strategy_launch wants) is only a label */
        json_object_set_new(rec, "target", json_string("container"));
        json_object_set_new(rec, "image", json_string(in(s, "image")));
        json_object_set_new(rec, "container_port",
                            json_integer(s->container_port));
        json_object_set_new(rec, "command", json_string(in(s, "image")));
    }
    return rec;
}

/* The previous version becomes current again, or the new one did. */
static void promote_state(json_t *state, json_t *rec)
{
    json_t *cur = json_object_get(state, "current");

    json_object_set(state, "previous", cur ? cur : json_null());
    json_object_set(state, "current", rec);
}

static enum ferr_code run_process(struct run *r, enum deploy_result *out,
                                  struct ferr *err)
{
    const struct deploy_spec *s = r->s;
    json_t *cur = json_object_get(r->state, "current");
    struct traffic *tr = NULL;
    char *src = NULL, *release = NULL;
    json_t *rec = NULL;
    struct strategy_plan plan;
    struct rollback_hooks hooks;
    enum rollback_outcome ro;
    char why[512];
    struct ferr ferr_run;
    enum ferr_code rc;

    if (json_is_object(cur) &&
        strcmp(json_string_value(json_object_get(cur, "target"))
                   ? json_string_value(json_object_get(cur, "target"))
                   : "process",
               s->container ? "container" : "process") != 0)
        cur = NULL; /* the environment changed target: no going back */
    if (in(s, "proxy")) {
        rc = traffic_open(in(s, "proxy"), &tr, err);
        if (rc)
            goto done;
    }
    r->st.traffic = tr;
    rc = take_backup(r, err);
    if (rc)
        goto done;
    src = xasprintf("%s/%s", s->workspace, in(s, "path") ? in(s, "path")
                                                         : ".");
    if (s->container) {
        /* container target hook: the release is the image */
        struct ctarget_spec cs = { in(s, "image"), s->container_port,
                                   s->environment, NULL };

        strategy_phase(&r->st, "release", "started", "%s", cs.image);
        rc = ctarget_install_release(r->envdir, &cs, s->version,
                                     KEEP_RELEASES, &release, err);
    } else {
        strategy_phase(&r->st, "release", "started", "%s", src);
        rc = target_install_release(r->envdir, src, s->version,
                                    KEEP_RELEASES, &release, err);
    }
    if (rc) {
        strategy_phase(&r->st, "release", "failed", "%s", err->msg);
        goto done;
    }
    strategy_phase(&r->st, "release", "succeeded", "%s", release);
    rec = process_record(r, release);
    rc = strategy_set_init(&r->st.old, json_is_object(cur) ? cur : NULL,
                           r->envdir, err);
    if (!rc)
        rc = strategy_set_init(&r->st.new, rec, r->envdir, err);
    if (rc)
        goto done;
    memset(&plan, 0, sizeof(plan));
    plan.kind = s->strategy;
    plan.instances = s->instances;
    plan.batch = s->batch;
    plan.keep_previous_ms = s->keep_previous_ms;
    plan.steps = s->steps;
    plan.nsteps = s->nsteps;
    plan.analysis = s->has_analysis ? &s->analysis : NULL;
    plan.step_analysis = &s->analysis;
    plan.post_deploy = in(s, "post-deploy");
    plan.workspace = s->workspace;
    plan.hook_env = r->hook_env;
    plan.timeout_ms = s->timeout_ms;
    printf("deploying %s to '%s' (%s, %u instance%s)\n", s->version,
           s->environment, strategy_kind_name(s->strategy), s->instances,
           s->instances == 1 ? "" : "s");
    fflush(stdout);
    ferr_clear(&ferr_run);
    if (!strategy_run(&r->st, &plan, &ferr_run)) {
        json_object_set_new(rec, "names", strategy_set_names(&r->st.new));
        promote_state(r->state, rec);
        rc = envstate_save(r->envdir, r->state, err);
        *out = DEPLOY_SUCCEEDED;
        goto done;
    }
    printf("deployment of %s failed: %s\n", s->version, ferr_run.msg);
    fflush(stdout);
    memset(&hooks, 0, sizeof(hooks));
    hooks.restore = in(s, "restore");
    hooks.backup_dir = r->backup_dir;
    hooks.workspace = s->workspace;
    hooks.hook_env = r->hook_env;
    hooks.timeout_ms = s->timeout_ms;
    rc = rollback_run(&r->st, ferr_run.msg, &hooks, &ro, why, sizeof(why),
                      err);
    if (rc)
        goto done;
    note_failure(r->state, s->version, ferr_run.msg);
    switch (ro) {
    case ROLLBACK_DONE:
        *out = DEPLOY_ROLLED_BACK;
        break;
    case ROLLBACK_ESCALATED:
        lock_env(r->state, s->version, why);
        *out = DEPLOY_ESCALATED;
        break;
    case ROLLBACK_NO_PREVIOUS:
        rc = ferr_set(err, FERR_EXEC, NULL,
                      "%s (a first deployment: no previous version to roll "
                      "back to; it was stopped)",
                      ferr_run.msg);
        break;
    }
    {
        struct ferr serr;

        ferr_clear(&serr);
        if (envstate_save(r->envdir, r->state, &serr)) {
            printf("warning: %s\n", serr.msg);
            if (!rc)
                rc = ferr_set(err, serr.code, NULL, "%s", serr.msg);
        }
    }
done:
    json_decref(rec);
    free(release);
    free(src);
    traffic_free(tr);
    r->st.traffic = NULL;
    return rc;
}

/* ---- the script target ---- */

static enum ferr_code script_cmd(struct run *r, const char *phase,
                                 const char *cmd, const char *version,
                                 const char *previous, json_t *extra,
                                 const char *dir, unsigned timeout_ms,
                                 struct ferr *err)
{
    json_t *env = hook_env_new(r->st.env, version, previous, extra);
    enum ferr_code rc;

    strategy_phase(&r->st, phase, "started", "%s", version);
    rc = target_run_script(cmd, dir, env, timeout_ms, err);
    json_decref(env);
    strategy_phase(&r->st, phase, rc ? "failed" : "succeeded", "%s",
                   rc ? err->msg : "");
    return rc;
}

static json_t *script_record(struct run *r)
{
    const struct deploy_spec *s = r->s;
    char now[32];
    json_t *rec = json_object();
    const char *keys[] = { "deploy", "verify", "rollback", "restore" };

    json_object_set_new(rec, "version", json_string(s->version));
    json_object_set_new(rec, "target", json_string("script"));
    for (size_t i = 0; i < NELEM(keys); i++)
        if (in(s, keys[i]))
            json_object_set_new(rec, keys[i], json_string(in(s, keys[i])));
    json_object_set(rec, "env", s->env);
    json_object_set(rec, "health", s->health);
    json_object_set_new(rec, "workspace", json_string(s->workspace));
    json_object_set_new(rec, "timeout_ms", json_integer(s->timeout_ms));
    if (r->backup_dir)
        json_object_set_new(rec, "backup", json_string(r->backup_dir));
    json_object_set_new(rec, "deployed_at",
                        json_string(envstate_now(now, sizeof(now))));
    return rec;
}

/* Where @rec's commands run: its workspace while it exists (a run's
 * workspace is removed after the run), else this run's, else ENVDIR. */
static const char *script_dir(const struct run *r, json_t *rec)
{
    const char *d = json_string_value(json_object_get(rec, "workspace"));

    if (d && access(d, F_OK) == 0)
        return d;
    if (r->s && access(r->s->workspace, F_OK) == 0)
        return r->s->workspace;
    return r->envdir;
}

/* Check the script target's new version: 'verify', then 'health'. */
static enum ferr_code script_check(struct run *r, const char *phase,
                                   json_t *rec, const char *version,
                                   const char *previous, struct ferr *err)
{
    const char *verify = json_string_value(json_object_get(rec, "verify"));
    json_t *h = json_object_get(rec, "health");
    json_t *to = json_object_get(rec, "timeout_ms");
    unsigned timeout = json_is_integer(to) ? (unsigned)json_integer_value(to)
                                           : 600000;
    const char *dir = script_dir(r, rec);
    enum ferr_code rc = FERR_OK;

    if (verify)
        rc = script_cmd(r, phase, verify, version, previous,
                        json_object_get(rec, "env"), dir, timeout, err);
    if (!rc && json_string_value(json_object_get(h, "health"))) {
        struct strategy_set set;

        rc = strategy_set_init(&set, rec, r->envdir, err);
        if (!rc) {
            strategy_phase(&r->st, phase, "started", "health");
            rc = health_wait(&set.health, "127.0.0.1", 0, NULL, NULL, err);
            strategy_phase(&r->st, phase, rc ? "failed" : "succeeded", "%s",
                           rc ? err->msg : "healthy");
        }
        strategy_set_release(&set);
    }
    return rc;
}

/* Put @prev back after @bad: its 'rollback' command (or @prev's
 * 'deploy' with FERRY_VERSION = the previous version), restore, verify. */
static enum rollback_outcome script_back(struct run *r, json_t *bad,
                                         json_t *prev, const char *reason,
                                         char *why, size_t why_len)
{
    const char *bv = rec_version(bad), *pv = rec_version(prev);
    const char *cmd = json_string_value(json_object_get(bad, "rollback"));
    const char *dir = script_dir(r, bad);
    const char *restore = json_string_value(json_object_get(bad, "restore"));
    const char *bdir = json_string_value(json_object_get(bad, "backup"));
    json_t *to = json_object_get(bad, "timeout_ms");
    unsigned timeout = json_is_integer(to) ? (unsigned)json_integer_value(to)
                                           : 600000;
    struct rollback_hooks h;
    struct ferr e;
    enum ferr_code rc;

    ferr_clear(&e);
    strategy_mark_failed(&r->st);
    strategy_phase(&r->st, "rollback", "started", "to %s: %s", pv, reason);
    /* phase "start": "rollback" is the whole sequence's (the server
     * opens an incident on its "started") */
    if (cmd)
        rc = script_cmd(r, "start", cmd, bv, pv, json_object_get(bad, "env"),
                        dir, timeout, &e);
    else
        rc = script_cmd(r, "start",
                        json_string_value(json_object_get(prev, "deploy")),
                        pv, "", json_object_get(prev, "env"), dir, timeout,
                        &e);
    if (!rc) {
        json_t *env = hook_env_new(r->st.env, pv, "", json_object_get(bad,
                                                                     "env"));

        memset(&h, 0, sizeof(h));
        h.restore = restore;
        h.backup_dir = bdir;
        h.workspace = dir;
        h.hook_env = env;
        h.timeout_ms = timeout;
        rc = rollback_restore(&r->st, &h, &e);
        json_decref(env);
    }
    if (!rc)
        rc = script_check(r, "verify", prev, pv, "", &e);
    if (rc) {
        snprintf(why, why_len, "%s", e.msg);
        strategy_phase(&r->st, "rollback", "failed", "%s", e.msg);
        return ROLLBACK_ESCALATED;
    }
    strategy_phase(&r->st, "rollback", "succeeded", "%s is back", pv);
    return ROLLBACK_DONE;
}

static enum ferr_code run_script(struct run *r, enum deploy_result *out,
                                 struct ferr *err)
{
    const struct deploy_spec *s = r->s;
    json_t *cur = json_object_get(r->state, "current");
    const char *prev = json_is_object(cur) ? rec_version(cur) : NULL;
    json_t *rec;
    struct ferr e;
    char why[512];
    enum rollback_outcome ro;
    enum ferr_code rc;

    if (json_is_object(cur) &&
        strcmp(json_string_value(json_object_get(cur, "target"))
                   ? json_string_value(json_object_get(cur, "target"))
                   : "",
               "script") != 0)
        cur = NULL;
    rc = take_backup(r, err);
    if (rc)
        return rc;
    rec = script_record(r);
    ferr_clear(&e);
    printf("deploying %s to '%s' (script)\n", s->version, s->environment);
    fflush(stdout);
    rc = script_cmd(r, "start", in(s, "deploy"), s->version, prev, s->env,
                    s->workspace, s->timeout_ms, &e);
    if (!rc)
        rc = script_check(r, "health", rec, s->version, prev, &e);
    if (!rc && in(s, "post-deploy"))
        rc = script_cmd(r, "post-deploy", in(s, "post-deploy"), s->version,
                        prev, s->env, s->workspace, s->timeout_ms, &e);
    if (!rc && s->has_analysis) {
        enum analysis_result res = ANALYSIS_FAILED;

        strategy_phase(&r->st, "analysis", "started", "%s", "");
        rc = analysis_run(&s->analysis, NULL, NULL, NULL, NULL, &res, why,
                          sizeof(why), &e);
        if (!rc && res == ANALYSIS_FAILED)
            rc = ferr_set(&e, FERR_INVALID, NULL, "analysis failed: %s", why);
        strategy_phase(&r->st, "analysis", rc ? "failed" : "succeeded", "%s",
                       rc ? e.msg : why);
    }
    if (!rc) {
        promote_state(r->state, rec);
        rc = envstate_save(r->envdir, r->state, err);
        *out = DEPLOY_SUCCEEDED;
        json_decref(rec);
        return rc;
    }
    printf("deployment of %s failed: %s\n", s->version, e.msg);
    fflush(stdout);
    note_failure(r->state, s->version, e.msg);
    if (!json_is_object(cur)) {
        struct rollback_hooks h;
        struct ferr e2;

        memset(&h, 0, sizeof(h));
        h.restore = in(s, "restore");
        h.backup_dir = r->backup_dir;
        h.workspace = s->workspace;
        h.hook_env = r->hook_env;
        h.timeout_ms = s->timeout_ms;
        ferr_clear(&e2);
        if (rollback_restore(&r->st, &h, &e2))
            printf("  warning: the restore failed\n");
        rc = ferr_set(err, FERR_EXEC, NULL,
                      "%s (a first deployment: no previous version to roll "
                      "back to)",
                      e.msg);
    } else {
        ro = script_back(r, rec, cur, e.msg, why, sizeof(why));
        if (ro == ROLLBACK_ESCALATED) {
            lock_env(r->state, s->version, why);
            *out = DEPLOY_ESCALATED;
        } else {
            *out = DEPLOY_ROLLED_BACK;
        }
        rc = FERR_OK;
    }
    {
        struct ferr serr;

        ferr_clear(&serr);
        if (envstate_save(r->envdir, r->state, &serr) && !rc)
            rc = ferr_set(err, serr.code, NULL, "%s", serr.msg);
    }
    json_decref(rec);
    return rc;
}

/* ---- entry points ---- */

static enum ferr_code open_env(const char *deploy_home, const char *env,
                               char **out_dir, int *out_lock, json_t **state,
                               struct ferr *err)
{
    char *home = envstate_home_dup(deploy_home);
    enum ferr_code rc;

    *out_lock = -1;
    *state = NULL;
    rc = envstate_dir(home, env, out_dir, err);
    free(home);
    if (!rc)
        rc = envstate_lock(*out_dir, env, out_lock, err);
    if (!rc)
        rc = envstate_load(*out_dir, state, err);
    return rc;
}

static void close_env(char *dir, int lock, json_t *state)
{
    if (lock >= 0)
        close(lock);
    free(dir);
    json_decref(state);
}

enum ferr_code deploy_run(const struct deploy_spec *s, const char *deploy_home,
                          const char *self_exe, const struct deploy_report *rep,
                          enum deploy_result *out, struct ferr *err)
{
    struct run r;
    char *dir = NULL;
    int lock = -1;
    json_t *cur;
    enum ferr_code rc;

    *out = DEPLOY_SUCCEEDED;
    memset(&r, 0, sizeof(r));
    rc = open_env(deploy_home, s->environment, &dir, &lock, &r.state, err);
    if (rc)
        goto done;
    if (!json_is_null(json_object_get(r.state, "locked"))) {
        rc = locked_error(r.state, s->environment, err);
        goto done;
    }
    cur = json_object_get(r.state, "current");
    r.s = s;
    r.envdir = dir;
    r.hook_env = hook_env_new(s->environment, s->version,
                              json_is_object(cur) ? rec_version(cur) : NULL,
                              s->env);
    r.st.env = s->environment;
    r.st.envdir = dir;
    r.st.self_exe = self_exe;
    r.st.r = rep;
    r.st.drain_ms = s->grace_ms > DRAIN_MS ? s->grace_ms : DRAIN_MS;
    if (s->container) /* container target hook: for its pulls */
        ctarget_set_credentials(in(s, "username"), in(s, "password"));
    rc = s->script ? run_script(&r, out, err) : run_process(&r, out, err);
    ctarget_set_credentials(NULL, NULL);
done:
    strategy_set_release(&r.st.old);
    strategy_set_release(&r.st.new);
    json_decref(r.hook_env);
    free(r.backup_dir);
    close_env(dir, lock, r.state);
    return rc;
}

enum ferr_code deploy_rollback(const char *deploy_home, const char *env,
                               const char *self_exe, const char *reason,
                               const struct deploy_report *rep,
                               enum deploy_result *out, struct ferr *err)
{
    struct run r;
    char *dir = NULL;
    int lock = -1;
    json_t *cur, *prev;
    const char *proxy;
    struct traffic *tr = NULL;
    struct rollback_hooks h;
    enum rollback_outcome ro = ROLLBACK_ESCALATED;
    char why[512] = "";
    enum ferr_code rc;

    *out = DEPLOY_ROLLED_BACK;
    memset(&r, 0, sizeof(r));
    if (!reason || !*reason)
        reason = "rolled back by hand";
    rc = open_env(deploy_home, env, &dir, &lock, &r.state, err);
    if (rc)
        goto done;
    if (!json_is_null(json_object_get(r.state, "locked"))) {
        rc = locked_error(r.state, env, err);
        goto done;
    }
    cur = json_object_get(r.state, "current");
    prev = json_object_get(r.state, "previous");
    if (!json_is_object(prev) || !json_is_object(cur)) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "environment '%s' has no previous version", env);
        goto done;
    }
    r.envdir = dir;
    r.st.env = env;
    r.st.envdir = dir;
    r.st.self_exe = self_exe;
    r.st.r = rep;
    r.st.drain_ms = DRAIN_MS;
    printf("rolling '%s' back from %s to %s: %s\n", env, rec_version(cur),
           rec_version(prev), reason);
    fflush(stdout);
    if (strcmp(json_string_value(json_object_get(cur, "target"))
                   ? json_string_value(json_object_get(cur, "target"))
                   : "process",
               "script") == 0) {
        ro = script_back(&r, cur, prev, reason, why, sizeof(why));
    } else {
        proxy = json_string_value(json_object_get(cur, "proxy"));
        if (!proxy)
            proxy = json_string_value(json_object_get(prev, "proxy"));
        if (proxy) {
            rc = traffic_open(proxy, &tr, err);
            if (rc)
                goto done;
        }
        r.st.traffic = tr;
        rc = strategy_set_init(&r.st.old, prev, dir, err);
        if (!rc)
            rc = strategy_set_init(&r.st.new, cur, dir, err);
        if (rc)
            goto done;
        r.hook_env = hook_env_new(env, rec_version(prev), rec_version(cur),
                                  json_object_get(cur, "env"));
        memset(&h, 0, sizeof(h));
        h.restore = json_string_value(json_object_get(cur, "restore"));
        h.backup_dir = json_string_value(json_object_get(cur, "backup"));
        h.workspace = json_string_value(json_object_get(cur, "workspace"));
        if (!h.workspace || access(h.workspace, F_OK) != 0)
            h.workspace = dir;
        h.hook_env = r.hook_env;
        h.timeout_ms = 600000;
        rc = rollback_run(&r.st, reason, &h, &ro, why, sizeof(why), err);
        if (rc)
            goto done;
    }
    if (ro == ROLLBACK_DONE) {
        json_t *was = json_incref(cur);

        json_object_set(r.state, "current", prev);
        json_object_set(r.state, "previous", was);
        json_decref(was);
        *out = DEPLOY_ROLLED_BACK;
    } else {
        lock_env(r.state, rec_version(cur), why);
        *out = DEPLOY_ESCALATED;
    }
    rc = envstate_save(dir, r.state, err);
done:
    strategy_set_release(&r.st.old);
    strategy_set_release(&r.st.new);
    traffic_free(tr);
    json_decref(r.hook_env);
    close_env(dir, lock, r.state);
    return rc;
}

enum ferr_code deploy_unlock(const char *deploy_home, const char *env,
                             struct ferr *err)
{
    char *dir = NULL;
    int lock = -1;
    json_t *state = NULL;
    enum ferr_code rc;

    rc = open_env(deploy_home, env, &dir, &lock, &state, err);
    if (!rc) {
        if (json_is_null(json_object_get(state, "locked"))) {
            printf("environment '%s' is not locked\n", env);
        } else {
            json_object_set_new(state, "locked", json_null());
            rc = envstate_save(dir, state, err);
            if (!rc)
                printf("environment '%s' unlocked\n", env);
        }
    }
    close_env(dir, lock, state);
    return rc;
}

enum ferr_code deploy_stop_all(const char *deploy_home, const char *env,
                               struct ferr *err)
{
    char *dir = NULL;
    int lock = -1;
    json_t *state = NULL;
    struct target_instance *v = NULL;
    size_t n = 0;
    enum ferr_code rc;

    rc = open_env(deploy_home, env, &dir, &lock, &state, err);
    if (!rc)
        rc = target_list(dir, &v, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        struct ferr e;

        ferr_clear(&e);
        if (target_stop(dir, v[i].name, &e))
            rc = ferr_set(err, e.code, NULL, "%s", e.msg);
        else
            printf("%s stopped\n", v[i].name);
    }
    if (!rc) {
        json_object_set_new(state, "current", json_null());
        json_object_set_new(state, "previous", json_null());
        rc = envstate_save(dir, state, err);
    }
    target_instances_free(v, n);
    close_env(dir, lock, state);
    return rc;
}

json_t *deploy_state(const char *deploy_home, const char *env,
                     struct ferr *err)
{
    char *home = envstate_home_dup(deploy_home);
    char *dir = NULL;
    json_t *state = NULL, *list;
    struct target_instance *v = NULL;
    size_t n = 0;

    if (!envstate_name_ok(env)) {
        ferr_set(err, FERR_INVALID, NULL, "bad environment name '%s'",
                 env ? env : "");
        goto done;
    }
    dir = xasprintf("%s/%s", home, env);
    if (envstate_load(dir, &state, err))
        goto done;
    list = json_array();
    if (access(dir, F_OK) == 0 && !target_list(dir, &v, &n, NULL)) {
        for (size_t i = 0; i < n; i++)
            json_array_append_new(
                list, json_pack("{s:s, s:s?, s:s?, s:i, s:i, s:i}", "name",
                                v[i].name, "version", v[i].version,
                                "release", v[i].release, "port",
                                (json_int_t)v[i].port, "pid",
                                (json_int_t)v[i].pid, "restarts",
                                (json_int_t)v[i].restarts));
        target_instances_free(v, n);
    }
    json_object_set_new(state, "instances", list);
done:
    free(dir);
    free(home);
    return state;
}
