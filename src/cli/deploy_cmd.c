/* deploy_cmd: `ferry __deploy`, the process behind `uses: ferry/deploy@v1`
 * (inputs in INPUT_<NAME>) and behind `ferry rollback` / `ferry env
 * unlock` on a server (--rollback, --unlock, --state, --stop).  Under a
 * server (FERRY_SERVER) it reports every phase to the deployment record
 * and never gives up a deployment because a report failed.  It does no
 * deploying itself: that is deploy/deploy.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "deploy/deploy.h"
#include "deploy/envstate.h"
#include "pipeline/ferryact.h"
#include "util/span.h"
#include "util/xalloc.h"

extern char **environ;

struct reporter {
    struct client *c;     /* NULL: nothing is reported */
    char *path;           /* /api/v1/deployments/ID/events */
    unsigned failures;    /* reports that did not get through */
};

static const char *env_or(const char *name, const char *def)
{
    const char *v = getenv(name);

    return v && *v ? v : def;
}

static void on_phase(void *ud, const char *phase, const char *status,
                     const char *detail)
{
    struct reporter *rp = ud;
    json_t *body, *ans = NULL;
    struct ferr err;
    long st = 0;

    if (!rp->c)
        return;
    ferr_clear(&err);
    body = json_pack("{s:s, s:s, s:s}", "phase", phase, "status", status,
                     "detail", detail ? detail : "");
    if (client_json(rp->c, "POST", rp->path, body, &st, &ans, &err)) {
        if (rp->failures++ == 0 || rp->failures % 10 == 0)
            printf("warning: cannot report phase '%s' to the server (%s); "
                   "deploying on\n", phase, err.msg);
        fflush(stdout);
    }
    json_decref(ans);
    json_decref(body);
}

static void reporter_init(struct reporter *rp)
{
    const char *server = getenv("FERRY_SERVER");
    const char *id = getenv("FERRY_DEPLOYMENT");
    struct ferr err;

    memset(rp, 0, sizeof(*rp));
    if (!server || !*server || !id || !*id)
        return;
    ferr_clear(&err);
    if (client_new(NULL, env_or("FERRY_DEPLOY_TOKEN", ""), &rp->c, &err)) {
        printf("warning: deployment %s will not be reported: %s\n", id,
               err.msg);
        fflush(stdout);
        return;
    }
    client_set_timeout(rp->c, 10000);
    {
        struct buf b;

        buf_init(&b, 1024);
        if (buf_adds(&b, "/api/v1/deployments/") ||
            client_escape(&b, id) || buf_adds(&b, "/events")) {
            buf_release(&b);
            client_free(rp->c);
            rp->c = NULL;
            return;
        }
        rp->path = buf_take(&b, NULL);
    }
}

static void reporter_release(struct reporter *rp)
{
    client_free(rp->c);
    free(rp->path);
    memset(rp, 0, sizeof(*rp));
}

/* The final report; the answer may name the release tag made
 * (returned, the caller's). */
static char *report_final(struct reporter *rp, const char *status,
                          const char *detail, const char *version,
                          const char *release)
{
    json_t *body, *ans = NULL;
    struct ferr err;
    char *tag = NULL;
    long st = 0;

    if (!rp->c)
        return NULL;
    ferr_clear(&err);
    body = json_pack("{s:s, s:s, s:s, s:s, s:s}", "phase", "deploy", "status",
                     status, "detail", detail ? detail : "", "version",
                     version ? version : "", "release",
                     release ? release : "");
    if (client_json(rp->c, "POST", rp->path, body, &st, &ans, &err)) {
        printf("warning: cannot report the outcome to the server: %s\n",
               err.msg);
    } else {
        const char *t = json_string_value(json_object_get(ans, "release_tag"));

        if (t && *t) {
            tag = xstrdup(t);
            printf("released %s\n", tag);
        }
    }
    fflush(stdout);
    json_decref(ans);
    json_decref(body);
    return tag;
}

static void set_output(const char *name, const char *value)
{
    const char *path = getenv("GITHUB_OUTPUT");
    FILE *f;

    if (!path || !*path || !value || strchr(value, '\n'))
        return;
    f = fopen(path, "ae");
    if (!f)
        return;
    fprintf(f, "%s=%s\n", name, value);
    fclose(f);
}

static const char *result_name(enum deploy_result r)
{
    switch (r) {
    case DEPLOY_SUCCEEDED: return "succeeded";
    case DEPLOY_ROLLED_BACK: return "rolled_back";
    case DEPLOY_ESCALATED: return "escalated";
    }
    return "failed";
}

static int usage(void)
{
    fprintf(stderr,
            "usage: ferry __deploy                     (inputs in INPUT_*)\n"
            "       ferry __deploy --rollback ENV [--reason TEXT]\n"
            "       ferry __deploy --unlock ENV | --state ENV | --stop ENV\n"
            "internal: run by `uses: ferry/deploy@v1` and by the server; "
            "see docs/deploy.md\n");
    return 2;
}

static int do_deploy(const char *home, const char *self,
                     struct reporter *rp)
{
    json_t *inputs = cli_inputs_take();
    struct deploy_spec *s = NULL;
    struct deploy_report rep = { on_phase, rp };
    enum deploy_result res = DEPLOY_SUCCEEDED;
    const char *allowed = getenv("FERRY_ENVIRONMENT");
    char ws[4096];
    char *tag = NULL;
    struct ferr err;
    int status;

    ferr_clear(&err);
    /* the names are the table's, the one `ferry lint` checks them by */
    if (ferryact_check_inputs(ferryact_of_uses("ferry/deploy@v1"), inputs,
                              &err)) {
        fprintf(stderr, "ferry deploy: %s\n", err.msg);
        json_decref(inputs);
        return 2;
    }
    if (!json_object_get(inputs, "version") ||
        !*json_string_value(json_object_get(inputs, "version"))) {
        const char *sha = getenv("GITHUB_SHA");
        char v[8];

        snprintf(v, sizeof(v), "%s", sha && strlen(sha) >= 7 ? sha : "dev");
        json_object_set_new(inputs, "version", json_string(v));
    }
    if (deploy_spec_parse(inputs, &s, &err)) {
        fprintf(stderr, "ferry deploy: %s\n", err.msg);
        json_decref(inputs);
        return 2;
    }
    json_decref(inputs);
    if (getenv("FERRY_SERVER") && *getenv("FERRY_SERVER") && allowed &&
        strcmp(allowed, deploy_spec_environment(s)) != 0) {
        fprintf(stderr,
                "ferry deploy: this job may deploy only to environment '%s' "
                "(its 'environment:'), not '%s'\n",
                allowed, deploy_spec_environment(s));
        deploy_spec_free(s);
        return 2;
    }
    if (getenv("GITHUB_WORKSPACE") && *getenv("GITHUB_WORKSPACE"))
        deploy_spec_set_workspace(s, getenv("GITHUB_WORKSPACE"));
    else if (getcwd(ws, sizeof(ws)))
        deploy_spec_set_workspace(s, ws);
    set_output("version", deploy_spec_version(s));
    if (deploy_run(s, home, self, &rep, &res, &err)) {
        char msg[600];

        fprintf(stderr, "ferry deploy: %s\n", err.msg);
        snprintf(msg, sizeof(msg), "%s", err.msg);
        free(report_final(rp, "failed", msg, deploy_spec_version(s),
                          deploy_spec_release(s)));
        set_output("result", "failed");
        deploy_spec_free(s);
        return 1;
    }
    switch (res) {
    case DEPLOY_SUCCEEDED:
        printf("deployed %s to '%s'\n", deploy_spec_version(s),
               deploy_spec_environment(s));
        break;
    case DEPLOY_ROLLED_BACK:
        printf("%s was rolled back: '%s' runs its previous version\n",
               deploy_spec_version(s), deploy_spec_environment(s));
        break;
    case DEPLOY_ESCALATED:
        printf("%s failed and so did the rollback: '%s' is locked until "
               "`ferry env unlock %s`\n",
               deploy_spec_version(s), deploy_spec_environment(s),
               deploy_spec_environment(s));
        break;
    }
    fflush(stdout);
    tag = report_final(rp, result_name(res), "", deploy_spec_version(s),
                       res == DEPLOY_SUCCEEDED ? deploy_spec_release(s)
                                               : NULL);
    set_output("result", result_name(res));
    if (deploy_spec_url(s))
        set_output("url", deploy_spec_url(s));
    if (tag)
        set_output("release", tag);
    free(tag);
    status = res == DEPLOY_SUCCEEDED ? 0 : 1;
    deploy_spec_free(s);
    return status;
}

static int do_rollback(const char *home, const char *self, const char *env,
                       const char *reason, struct reporter *rp)
{
    struct deploy_report rep = { on_phase, rp };
    enum deploy_result res = DEPLOY_ROLLED_BACK;
    json_t *st;
    const char *now;
    struct ferr err;

    ferr_clear(&err);
    if (deploy_rollback(home, env, self, reason, &rep, &res, &err)) {
        fprintf(stderr, "ferry rollback: %s\n", err.msg);
        free(report_final(rp, "failed", err.msg, "", NULL));
        return 1;
    }
    st = deploy_state(home, env, NULL);
    now = json_string_value(
        json_object_get(json_object_get(st, "current"), "version"));
    if (res == DEPLOY_ROLLED_BACK)
        printf("'%s' runs %s again\n", env, now ? now : "?");
    else
        printf("the rollback of '%s' failed: it is locked until `ferry env "
               "unlock %s`\n", env, env);
    fflush(stdout);
    free(report_final(rp, result_name(res), reason ? reason : "",
                      now ? now : "", NULL));
    json_decref(st);
    return res == DEPLOY_ROLLED_BACK ? 0 : 1;
}

int cli_deploy(int argc, char **argv)
{
    const char *rollback = NULL, *unlock = NULL, *state = NULL, *stop = NULL;
    const char *reason = NULL, *home = NULL;
    char *full_home;
    char self[4096];
    ssize_t n;
    struct reporter rp;
    struct ferr err;
    int status = 0;

    for (int i = 1; i < argc; i++) {
        const char **dst = NULL;

        if (strcmp(argv[i], "--rollback") == 0)
            dst = &rollback;
        else if (strcmp(argv[i], "--unlock") == 0)
            dst = &unlock;
        else if (strcmp(argv[i], "--state") == 0)
            dst = &state;
        else if (strcmp(argv[i], "--stop") == 0)
            dst = &stop;
        else if (strcmp(argv[i], "--reason") == 0)
            dst = &reason;
        else if (strcmp(argv[i], "--home") == 0)
            dst = &home;
        if (!dst || i + 1 >= argc)
            return usage();
        *dst = argv[++i];
    }
    if ((rollback != NULL) + (unlock != NULL) + (state != NULL) +
            (stop != NULL) > 1 ||
        (reason && !rollback))
        return usage();
    n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0) {
        fprintf(stderr, "ferry deploy: cannot find the ferry binary: %s\n",
                strerror(errno));
        return 1;
    }
    self[n] = '\0';
    ferr_clear(&err);
    if (unlock) {
        if (deploy_unlock(home, unlock, &err)) {
            fprintf(stderr, "ferry env unlock: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    if (stop) {
        if (deploy_stop_all(home, stop, &err)) {
            fprintf(stderr, "ferry deploy: %s\n", err.msg);
            return 1;
        }
        return 0;
    }
    if (state) {
        json_t *st = deploy_state(home, state, &err);
        char *text;

        if (!st) {
            fprintf(stderr, "ferry deploy: %s\n", err.msg);
            return 1;
        }
        text = json_dumps(st, JSON_INDENT(2) | JSON_SORT_KEYS);
        printf("%s\n", text ? text : "{}");
        free(text);
        json_decref(st);
        return 0;
    }
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* instances and hooks find the deploy home where this step did */
    full_home = envstate_home_dup(home);
    setenv("FERRY_DEPLOY_HOME", full_home, 1);
    reporter_init(&rp);
    if (rollback)
        status = do_rollback(full_home, self, rollback, reason, &rp);
    else
        status = do_deploy(full_home, self, &rp);
    reporter_release(&rp);
    free(full_home);
    return status;
}
