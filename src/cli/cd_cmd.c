/* cd_cmd: the continuous delivery verbs — env, approve, reject, rollback,
 * deployments and incidents — as clients of the server's API (remote.h).
 * They show and change what the server keeps; they deploy nothing and
 * decide nothing themselves: roles and environment rules are the
 * server's to check.  Exit status: 0 done, 1 the server refused or the
 * request failed (its message on stderr), 2 bad usage. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "cli/client.h"
#include "cli/remote.h"
#include "deploy/envt.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define REFUSED       1     /* exit status of a refused or failed request */
#define MAX_REVIEWERS 10u   /* as the server's rules allow */
#define POLL_MIN_MS   100L  /* rollback --wait: first pause between looks */
#define POLL_MAX_MS   1000L /* and the longest */

/* ---- requests and output ---- */

/* One JSON call; -1 on success, else REFUSED with the server's message. */
static int request(struct client *c, const char *method, const char *path,
                   json_t *body, json_t **out)
{
    struct ferr err;

    ferr_clear(&err);
    if (client_json(c, method, path, body, NULL, out, &err)) {
        (void)remote_fail(&err);
        return REFUSED;
    }
    return -1;
}

/* Print one line of text that quotes the server: no control characters
 * reach the terminal. */
static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void say(const char *fmt, ...)
{
    char line[4096];
    char *clean;
    va_list ap;
    size_t n;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    /* a padded column with nothing after it */
    for (n = strlen(line); n > 0 && line[n - 1] == ' '; n--)
        line[n - 1] = '\0';
    clean = remote_clean_dup(line);
    puts(clean);
    free(clean);
}

/* "label:" padded, then the value ("-" for NULL). */
static void field(const char *label, const char *value)
{
    char l[32];

    snprintf(l, sizeof(l), "%s:", label);
    say("%-18s%s", l, value ? value : "-");
}

/* "2026-11-23 10:04:05" from an RFC 3339 time; "-" for NULL. */
static void fmt_stamp(char *out, size_t n, const char *t)
{
    if (!t || strlen(t) < 19)
        snprintf(out, n, "%s", t ? t : "-");
    else
        snprintf(out, n, "%.10s %.8s", t, t + 11);
}

/* "12", or "-" for a JSON null or a missing key. */
static const char *int_or_dash(const json_t *o, const char *key, char *tmp,
                               size_t n)
{
    json_t *v = json_object_get(o, key);

    if (!json_is_integer(v))
        return "-";
    snprintf(tmp, n, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    return tmp;
}

/* The string @key of @o, or "-" when it is missing or empty. */
static const char *text_or_dash(const json_t *o, const char *key)
{
    const char *s = remote_jstr(o, key, NULL);

    return s && *s ? s : "-";
}

/* A list of strings joined with ", "; @none when empty. */
static void join_list(struct buf *b, const json_t *list, const char *none)
{
    size_t i;
    json_t *s;

    buf_reset(b);
    json_array_foreach (list, i, s)
        if (json_is_string(s) &&
            buf_addf(b, "%s%s", b->len ? ", " : "", json_string_value(s)))
            break; /* what fit is enough to show */
    if (b->len == 0 && buf_adds(b, none))
        buf_reset(b); /* a word never fills 4 KiB: not reached */
}

/* The repository: @given, else the server's only one.  -1 with *@out a
 * copy (the caller frees it), else the exit status. */
static int pick_repo(const struct remote_verb *v, struct client *c,
                     const char *given, char **out)
{
    json_t *ans = NULL;
    json_t *repos;
    int rc;

    *out = NULL;
    if (given) {
        *out = xstrdup(given);
        return -1;
    }
    if ((rc = request(c, "GET", "/api/v1/repos", NULL, &ans)) >= 0)
        return rc;
    rc = REFUSED;
    if (!(repos = remote_answer_array(ans, "repos"))) {
        /* the message is out */
    } else if (json_array_size(repos) == 1 &&
               remote_jstr(json_array_get(repos, 0), "name", NULL)) {
        *out = xstrdup(remote_jstr(json_array_get(repos, 0), "name", NULL));
        rc = -1;
    } else if (json_array_size(repos) == 0) {
        (void)remote_fail_msg("the server has no repository: add one with "
                              "'ferry repo add'");
    } else {
        rc = remote_usage(v, "several repositories: pass --repo");
    }
    json_decref(ans);
    return rc;
}

/* "/api/v1/repos/REPO/environments/ENV[TAIL]" into @b; false with a
 * message when too long. */
static bool env_path(struct buf *b, const char *repo, const char *env,
                     const char *tail)
{
    return remote_path_fmt(b, "/api/v1/repos/") && remote_path_esc(b, repo) &&
           remote_path_fmt(b, "/environments/") && remote_path_esc(b, env) &&
           remote_path_fmt(b, "%s", tail);
}

/* ---- ferry env ---- */

/* The rule options of env create and env set; NULL or false: not given. */
struct rule_opts {
    const char *reviewers; /* "N" or "ROLE:N" */
    const char *role;
    const char *users;    /* "a,b"; "" for any */
    const char *branches; /* "main,release/x"; "" for any */
    const char *wait;
    const char *timeout;
    struct remote_strv freeze; /* "FROM/TO"... or "none" */
    bool allow_self;
    bool prevent_self;
    bool production;
    bool not_production;
};

/* Split "a,b" into a JSON list of the non-empty names. */
static json_t *name_list(const char *s)
{
    json_t *list = json_array();
    const char *p = s;

    while (*p) {
        const char *end = strchr(p, ',');
        size_t n = end ? (size_t)(end - p) : strlen(p);

        if (n)
            json_array_append_new(list, json_lossy_stringn(p, n));
        p += n + (end != NULL);
    }
    return list;
}

/* --reviewers N or ROLE:N into @rules; an exit status, or -1. */
static int set_reviewers(const struct remote_verb *v, const struct rule_opts *o,
                         json_t *rules)
{
    const char *colon = strchr(o->reviewers, ':');
    const char *num = colon ? colon + 1 : o->reviewers;
    uint64_t n;

    if (span_to_u64(span_cstr(num), &n) || n > MAX_REVIEWERS)
        return remote_usage(v,
                            "bad --reviewers '%s': expected N or ROLE:N, N "
                            "from 0 to %u",
                            o->reviewers, MAX_REVIEWERS);
    json_object_set_new(rules, "reviewers", json_integer((json_int_t)n));
    if (colon) {
        size_t rl = (size_t)(colon - o->reviewers);

        if (rl == 0)
            return remote_usage(v, "bad --reviewers '%s': the role is empty",
                                o->reviewers);
        if (o->role &&
            (strlen(o->role) != rl || strncmp(o->role, o->reviewers, rl) != 0))
            return remote_usage(v,
                                "--reviewers '%s' and --reviewer-role "
                                "'%s' disagree",
                                o->reviewers, o->role);
        json_object_set_new(rules, "reviewer_role",
                            json_lossy_stringn(o->reviewers, rl));
    }
    return -1;
}

static int set_freezes(const struct remote_verb *v, const struct rule_opts *o,
                       json_t *rules)
{
    json_t *list = json_array();

    for (size_t i = 0; i < o->freeze.n; i++) {
        const char *f = o->freeze.v[i];
        const char *slash = strchr(f, '/');

        if (strcmp(f, "none") == 0 && o->freeze.n == 1)
            break;
        if (!slash || slash == f || !slash[1]) {
            json_decref(list);
            return remote_usage(v,
                                "bad --freeze '%s': expected FROM/TO (RFC "
                                "3339 times or dates), or none",
                                f);
        }
        json_array_append_new(
            list, json_pack("{s:o, s:o}", "from",
                            json_lossy_stringn(f, (size_t)(slash - f)), "to",
                            json_lossy_stringn(slash + 1, strlen(slash + 1))));
    }
    json_object_set_new(rules, "freeze", list);
    return -1;
}

/* Put the options @o on @rules (the API's rule object); then check the
 * whole as the server will.  -1, or the exit status (2, with why). */
static int apply_rules(const struct remote_verb *v, const struct rule_opts *o,
                       json_t *rules)
{
    struct envt_rules parsed;
    struct ferr err;
    int rc;

    if (o->allow_self && o->prevent_self)
        return remote_usage(v, "--allow-self-review and --prevent-self-review "
                               "exclude each other");
    if (o->production && o->not_production)
        return remote_usage(v, "--production and --no-production exclude "
                               "each other");
    if (o->reviewers && (rc = set_reviewers(v, o, rules)) >= 0)
        return rc;
    if (o->role)
        json_object_set_new(rules, "reviewer_role",
                            json_lossy_stringn(o->role, strlen(o->role)));
    if (o->users)
        json_object_set_new(rules, "reviewer_users", name_list(o->users));
    if (o->branches)
        json_object_set_new(rules, "branches", name_list(o->branches));
    if (o->wait)
        json_object_set_new(rules, "wait_timer",
                            json_lossy_stringn(o->wait, strlen(o->wait)));
    if (o->timeout)
        json_object_set_new(rules, "approval_timeout",
                            json_lossy_stringn(o->timeout, strlen(o->timeout)));
    if (o->freeze.n && (rc = set_freezes(v, o, rules)) >= 0)
        return rc;
    if (o->allow_self || o->prevent_self)
        json_object_set_new(rules, "prevent_self_review",
                            json_boolean(o->prevent_self));
    if (o->production || o->not_production)
        json_object_set_new(rules, "production", json_boolean(o->production));
    /* the server's own parser: bad values are usage errors, said here */
    ferr_clear(&err);
    if (envt_rules_parse(rules, &parsed, &err))
        return remote_usage(v, "%s", err.msg);
    envt_rules_release(&parsed);
    return -1;
}

static void print_rules(const json_t *rules)
{
    struct buf b;
    char tmp[64];
    json_int_t n = remote_jint(rules, "reviewers");
    size_t i;
    json_t *f;

    buf_init(&b, 4096);
    if (n == 0)
        field("reviewers", "none");
    else
        say("%-18s%" JSON_INTEGER_FORMAT " (%s or above%s)", "reviewers:", n,
            remote_jstr(rules, "reviewer_role", "approver"),
            json_is_false(json_object_get(rules, "prevent_self_review"))
                ? ""
                : "; not who triggered it");
    join_list(&b, json_object_get(rules, "reviewer_users"), "any");
    field("reviewer users", buf_cstr(&b));
    join_list(&b, json_object_get(rules, "branches"), "any");
    field("branches", buf_cstr(&b));
    n = remote_jint(rules, "wait_timer");
    remote_fmt_duration(tmp, sizeof(tmp), (long long)n);
    field("wait timer", n ? tmp : "none");
    remote_fmt_duration(tmp, sizeof(tmp),
                        (long long)remote_jint(rules, "approval_timeout"));
    field("approval timeout", tmp);
    if (json_array_size(json_object_get(rules, "freeze")) == 0)
        field("freezes", "none");
    json_array_foreach (json_object_get(rules, "freeze"), i, f)
        say("%-18s%s to %s", i ? "" : "freezes:", remote_jstr(f, "from", "?"),
            remote_jstr(f, "to", "?"));
    field("production",
          json_is_true(json_object_get(rules, "production")) ? "yes" : "no");
    buf_release(&b);
}

/* "deployment 3: v7 (0123abc, refs/heads/main), 2026-11-23 10:04". */
static void print_deploy_line(const char *label, const json_t *d)
{
    char when[32];
    char l[32];

    if (!json_is_object(d)) {
        field(label, "none");
        return;
    }
    remote_fmt_when(
        when, sizeof(when),
        remote_jstr(d, "finished_at", remote_jstr(d, "created_at", NULL)));
    snprintf(l, sizeof(l), "%s:", label);
    say("%-18sdeployment %" JSON_INTEGER_FORMAT ": %s (%.7s%s%s), %s", l,
        remote_jint(d, "id"), text_or_dash(d, "version"),
        remote_jstr(d, "sha", "-"), remote_jstr(d, "ref", NULL) ? ", " : "",
        remote_jstr(d, "ref", ""), when);
}

static void print_ids(const char *label, const json_t *ids)
{
    struct buf b;
    size_t i;
    json_t *id;

    buf_init(&b, 4096);
    json_array_foreach (ids, i, id)
        if (buf_addf(&b, "%s%" JSON_INTEGER_FORMAT, i ? ", " : "",
                     json_integer_value(id)))
            break;
    field(label, b.len ? buf_cstr(&b) : "none");
    buf_release(&b);
}

static void print_env(const json_t *e)
{
    const json_t *live = json_object_get(e, "live");
    char tmp[32];

    say("environment %s (repo %s)", remote_jstr(e, "name", "?"),
        remote_jstr(e, "repo", "?"));
    print_rules(json_object_get(e, "rules"));
    if (remote_jstr(e, "locked", NULL))
        say("%-18syes: %s", "locked:", remote_jstr(e, "locked", ""));
    else
        field("locked", "no");
    if (!json_object_get(e, "current") && !live)
        return; /* create and set answer the rules only */
    print_deploy_line("current", json_object_get(e, "current"));
    print_deploy_line("previous", json_object_get(e, "previous"));
    field("deploying", json_is_integer(json_object_get(live, "holder"))
                           ? int_or_dash(live, "holder", tmp, sizeof(tmp))
                           : "none");
    print_ids("queued", json_object_get(live, "queue"));
    print_ids("waiting approval", json_object_get(live, "waiting"));
}

static int env_list(int argc, char **argv)
{
    const struct remote_verb v = {"env", "ferry env list [--repo R] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *head[] = {"REPO",     "NAME",       "REVIEWERS",
                          "BRANCHES", "PRODUCTION", "LOCKED"};
    struct remote_table t = {6, 0, NULL};
    struct client *c = NULL;
    json_t *ans = NULL;
    json_t *list;
    json_t *e;
    struct buf path;
    struct buf br;
    bool first = true;
    size_t npos;
    size_t i;
    int rc;

    buf_init(&path, LIM_URL);
    buf_init(&br, 4096);
    rc = remote_parse_args(&v, argc, argv, 2, opts, &cm, NULL, 0, 0, &npos);
    if (rc >= 0)
        goto done;
    rc = 2;
    if (!remote_path_fmt(&path, "/api/v1/environments") ||
        !remote_add_query(&path, &first, "repo", repo))
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = request(c, "GET", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    rc = REFUSED;
    if (!(list = remote_answer_array(ans, "environments")))
        goto done;
    rc = 0;
    if (cm.json) {
        remote_print_json(ans);
        goto done;
    }
    if (json_array_size(list) == 0) {
        printf("no environments\n");
        goto done;
    }
    remote_table_row(&t, head);
    json_array_foreach (list, i, e) {
        const json_t *rules = json_object_get(e, "rules");
        char rev[64];
        const char *row[6];

        snprintf(rev, sizeof(rev), "%" JSON_INTEGER_FORMAT,
                 remote_jint(rules, "reviewers"));
        join_list(&br, json_object_get(rules, "branches"), "any");
        row[0] = remote_jstr(e, "repo", "?");
        row[1] = remote_jstr(e, "name", "?");
        row[2] = rev;
        row[3] = buf_cstr(&br);
        row[4] =
            json_is_true(json_object_get(rules, "production")) ? "yes" : "no";
        row[5] = remote_jstr(e, "locked", NULL) ? "yes" : "no";
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
done:
    buf_release(&path);
    buf_release(&br);
    json_decref(ans);
    client_free(c);
    return rc;
}

static int env_show(int argc, char **argv)
{
    const struct remote_verb v = {"env",
                                  "ferry env show NAME [--repo R] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    char *rname = NULL;
    json_t *ans = NULL;
    struct buf path;
    size_t npos;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 2, opts, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = pick_repo(&v, c, repo, &rname)) >= 0)
        goto done;
    rc = 2;
    if (!env_path(&path, rname, pos[0], ""))
        goto done;
    if ((rc = request(c, "GET", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    if (cm.json)
        remote_print_json(ans);
    else
        print_env(ans);
    rc = 0;
done:
    free(rname);
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}

/* env create (@create) or env set: PUT the whole rule set. */
static int env_put(int argc, char **argv, bool create)
{
    const struct remote_verb vc = {
        "env", "ferry env create NAME [--repo R] [--reviewers [ROLE:]N] "
               "[rules...]"};
    const struct remote_verb vs = {
        "env", "ferry env set NAME [--repo R] [--reviewers [ROLE:]N] "
               "[rules...]"};
    const struct remote_verb *v = create ? &vc : &vs;
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL;
    struct rule_opts o;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {"--reviewers", NULL, REMOTE_OPT_STR, &o.reviewers},
        {"--reviewer-role", NULL, REMOTE_OPT_STR, &o.role},
        {"--users", NULL, REMOTE_OPT_STR, &o.users},
        {"--allow-self-review", NULL, REMOTE_OPT_BOOL, &o.allow_self},
        {"--prevent-self-review", NULL, REMOTE_OPT_BOOL, &o.prevent_self},
        {"--branches", NULL, REMOTE_OPT_STR, &o.branches},
        {"--wait", NULL, REMOTE_OPT_STR, &o.wait},
        {"--timeout", NULL, REMOTE_OPT_STR, &o.timeout},
        {"--freeze", NULL, REMOTE_OPT_LIST, &o.freeze},
        {"--production", NULL, REMOTE_OPT_BOOL, &o.production},
        {"--no-production", NULL, REMOTE_OPT_BOOL, &o.not_production},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    char *rname = NULL;
    json_t *cur = NULL;
    json_t *rules = NULL;
    json_t *ans = NULL;
    struct buf path;
    struct ferr err;
    size_t npos;
    int rc;

    memset(&o, 0, sizeof(o));
    buf_init(&path, LIM_URL);
    rc = remote_parse_args(v, argc, argv, 2, opts, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        goto done;
    if (!create && !o.reviewers && !o.role && !o.users && !o.branches &&
        !o.wait && !o.timeout && !o.freeze.n && !o.allow_self &&
        !o.prevent_self && !o.production && !o.not_production) {
        rc = remote_usage(v, "nothing to change: give a rule option");
        goto done;
    }
    /* check the options before asking anything */
    rules = json_object();
    if ((rc = apply_rules(v, &o, rules)) >= 0)
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = pick_repo(v, c, repo, &rname)) >= 0)
        goto done;
    rc = 2;
    if (!env_path(&path, rname, pos[0], ""))
        goto done;
    ferr_clear(&err);
    if (client_json(c, "GET", buf_cstr(&path), NULL, NULL, &cur, &err) ==
        FERR_OK) {
        if (create) {
            (void)remote_fail_msg("environment '%s' of '%s' exists: change "
                                  "it with 'ferry env set'",
                                  pos[0], rname);
            rc = REFUSED;
            goto done;
        }
        json_decref(rules);
        rules = json_deep_copy(json_object_get(cur, "rules"));
        if (!json_is_object(rules)) {
            (void)remote_fail_msg("the server's answer has no rules");
            rc = REFUSED;
            goto done;
        }
        if ((rc = apply_rules(v, &o, rules)) >= 0)
            goto done;
    } else if (err.code != FERR_NOTFOUND || !create) {
        (void)remote_fail(&err);
        if (err.code == FERR_NOTFOUND)
            fprintf(stderr, "ferry: create it with 'ferry env create'\n");
        rc = REFUSED;
        goto done;
    }
    if ((rc = request(c, "PUT", buf_cstr(&path), rules, &ans)) >= 0)
        goto done;
    if (cm.json) {
        remote_print_json(ans);
    } else {
        say("%s environment %s of %s", create ? "created" : "updated",
            remote_jstr(ans, "name", pos[0]), remote_jstr(ans, "repo", rname));
        print_rules(json_object_get(ans, "rules"));
    }
    rc = 0;
done:
    free(o.freeze.v);
    free(rname);
    buf_release(&path);
    json_decref(cur);
    json_decref(rules);
    json_decref(ans);
    client_free(c);
    return rc;
}

static int env_create(int argc, char **argv)
{
    return env_put(argc, argv, true);
}

static int env_set(int argc, char **argv)
{
    return env_put(argc, argv, false);
}

static int env_unlock(int argc, char **argv)
{
    const struct remote_verb v = {"env", "ferry env unlock NAME [--repo R]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    char *rname = NULL;
    json_t *ans = NULL;
    struct buf path;
    size_t npos;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 2, opts, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = pick_repo(&v, c, repo, &rname)) >= 0)
        goto done;
    rc = 2;
    if (!env_path(&path, rname, pos[0], "/unlock"))
        goto done;
    if ((rc = request(c, "POST", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    if (cm.json)
        remote_print_json(ans);
    else
        say("unlocked environment %s of %s", pos[0], rname);
    rc = 0;
done:
    free(rname);
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}

int cli_env(int argc, char **argv)
{
    const struct remote_verb v = {"env",
                                  "ferry env list|show|create|set|unlock ..."};
    const char *const names[] = {"list", "ls",     "show", "create",
                                 "set",  "unlock", NULL};
    int (*const fns[])(int, char **) = {env_list,   env_list, env_show,
                                        env_create, env_set,  env_unlock};

    return remote_subcommand(&v, argc, argv, names, fns);
}

/* ---- ferry approve, ferry reject ---- */

static int review(int argc, char **argv, bool approve)
{
    const struct remote_verb va = {
        "approve", "ferry approve DEPLOYMENT [--comment C] [--json]"};
    const struct remote_verb vr = {
        "reject", "ferry reject DEPLOYMENT [--comment C] [--json]"};
    const struct remote_verb *v = approve ? &va : &vr;
    struct remote_common cm = {NULL, NULL, false};
    const char *comment = NULL;
    const struct remote_opt opts[] = {
        {"--comment", "-m", REMOTE_OPT_STR, &comment},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    json_t *body = NULL;
    json_t *ans = NULL;
    const char *st;
    char path[96];
    uint64_t id;
    size_t npos;
    int rc;

    rc = remote_parse_args(v, argc, argv, 1, opts, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        return rc;
    if (!remote_parse_id(pos[0], strlen(pos[0]), &id))
        return remote_usage(v, "bad deployment id '%s'", pos[0]);
    body = json_object();
    if (comment)
        json_object_set_new(body, "comment",
                            json_lossy_stringn(comment, strlen(comment)));
    if ((rc = remote_connect(&cm, &c)) >= 0)
        goto done;
    snprintf(path, sizeof(path), "/api/v1/deployments/%" PRIu64 "/%s", id,
             approve ? "approve" : "reject");
    if ((rc = request(c, "POST", path, body, &ans)) >= 0)
        goto done;
    st = remote_jstr(ans, "status", "?");
    if (cm.json)
        remote_print_json(ans);
    else if (!approve)
        say("rejected deployment %" PRIu64 " to %s/%s", id,
            remote_jstr(ans, "repo", "?"),
            remote_jstr(ans, "environment", "?"));
    else if (strcmp(st, "waiting") == 0)
        say("approved deployment %" PRIu64
            " to %s/%s: it waits for more approvals",
            id, remote_jstr(ans, "repo", "?"),
            remote_jstr(ans, "environment", "?"));
    else
        say("approved deployment %" PRIu64 " to %s/%s: it is %s", id,
            remote_jstr(ans, "repo", "?"), remote_jstr(ans, "environment", "?"),
            st);
    rc = 0;
done:
    json_decref(body);
    json_decref(ans);
    client_free(c);
    return rc;
}

int cli_approve(int argc, char **argv)
{
    return review(argc, argv, true);
}

int cli_reject(int argc, char **argv)
{
    return review(argc, argv, false);
}

/* ---- ferry rollback ---- */

/* The detail of the last phase of @d that did not succeed, or NULL. */
static const char *last_trouble(const json_t *d)
{
    const json_t *phases = json_object_get(d, "phases");

    for (size_t i = json_array_size(phases); i > 0; i--) {
        const json_t *p = json_array_get(phases, i - 1);
        const char *st = remote_jstr(p, "status", "");
        const char *detail = remote_jstr(p, "detail", "");

        if (strcmp(st, "succeeded") != 0 && strcmp(st, "started") != 0 &&
            *detail)
            return detail;
    }
    return NULL;
}

/* Poll deployment @id until it ends; -1 with *@out its record, or the
 * exit status. */
static int wait_deploy(struct client *c, uint64_t id, json_t **out)
{
    char path[64];
    long ms = POLL_MIN_MS;
    int rc;

    *out = NULL;
    snprintf(path, sizeof(path), "/api/v1/deployments/%" PRIu64, id);
    for (;;) {
        json_t *d = NULL;

        if ((rc = request(c, "GET", path, NULL, &d)) >= 0)
            return rc;
        if (remote_jstr(d, "finished_at", NULL)) {
            *out = d;
            return -1;
        }
        json_decref(d);
        client_pause_ms(ms);
        ms = ms * 2 > POLL_MAX_MS ? POLL_MAX_MS : ms * 2;
    }
}

int cli_rollback(int argc, char **argv)
{
    const struct remote_verb v = {"rollback",
                                  "ferry rollback ENV [--repo R] "
                                  "[--reason TEXT] [--wait] [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL, *reason = NULL;
    bool wait = false;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {"--reason", NULL, REMOTE_OPT_STR, &reason},
        {"--wait", "-w", REMOTE_OPT_BOOL, &wait},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    char *rname = NULL;
    json_t *body = NULL;
    json_t *ans = NULL;
    json_t *end = NULL;
    struct buf path;
    const char *st;
    const char *why;
    json_int_t id;
    size_t npos;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, pos, 1, 1, &npos);
    if (rc >= 0)
        goto done;
    body = json_object();
    if (reason)
        json_object_set_new(body, "reason",
                            json_lossy_stringn(reason, strlen(reason)));
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = pick_repo(&v, c, repo, &rname)) >= 0)
        goto done;
    rc = 2;
    if (!env_path(&path, rname, pos[0], "/rollback"))
        goto done;
    if ((rc = request(c, "POST", buf_cstr(&path), body, &ans)) >= 0)
        goto done;
    id = remote_jint(ans, "id");
    if (!wait) {
        if (cm.json)
            remote_print_json(ans);
        else
            say("rollback of %s/%s queued: deployment %" JSON_INTEGER_FORMAT,
                rname, pos[0], id);
        rc = 0;
        goto done;
    }
    if (id <= 0) {
        (void)remote_fail_msg("the server's answer has no deployment id");
        rc = REFUSED;
        goto done;
    }
    if (!cm.json) {
        say("rollback of %s/%s queued: deployment %" JSON_INTEGER_FORMAT
            "; waiting for it to end",
            rname, pos[0], id);
        fflush(stdout);
    }
    if ((rc = wait_deploy(c, (uint64_t)id, &end)) >= 0)
        goto done;
    st = remote_jstr(end, "status", "?");
    rc = strcmp(st, "success") == 0 ? 0 : 1;
    if (cm.json) {
        remote_print_json(end);
        goto done;
    }
    if (rc == 0) {
        say("deployment %" JSON_INTEGER_FORMAT ": success: %s/%s is rolled "
            "back",
            id, rname, pos[0]);
        goto done;
    }
    why = last_trouble(end);
    if (!why)
        why = remote_jstr(end, "reason", NULL);
    say("deployment %" JSON_INTEGER_FORMAT ": %s%s%s", id, st, why ? ": " : "",
        why ? why : "");
done:
    free(rname);
    buf_release(&path);
    json_decref(body);
    json_decref(ans);
    json_decref(end);
    client_free(c);
    return rc;
}

/* ---- ferry deployments ---- */

static void print_deploy(const json_t *d)
{
    char a[32], b[32], tmp[64];
    time_t t0, t1;
    size_t i;
    json_t *x;

    say("deployment %" JSON_INTEGER_FORMAT ": %s/%s (%s)", remote_jint(d, "id"),
        remote_jstr(d, "repo", "?"), remote_jstr(d, "environment", "?"),
        remote_jstr(d, "kind", "deploy"));
    field("status", remote_jstr(d, "status", "?"));
    if (remote_jstr(d, "reason", NULL))
        field("reason", remote_jstr(d, "reason", NULL));
    field("version", text_or_dash(d, "version"));
    if (remote_jstr(d, "strategy", NULL))
        field("strategy", remote_jstr(d, "strategy", NULL));
    if (remote_jstr(d, "sha", NULL))
        say("%-18s%.12s%s%s", "commit:", remote_jstr(d, "sha", ""),
            remote_jstr(d, "ref", NULL) ? " on " : "",
            remote_jstr(d, "ref", ""));
    if (json_is_integer(json_object_get(d, "run_id")))
        say("%-18s%" JSON_INTEGER_FORMAT
            " (job %s, attempt %" JSON_INTEGER_FORMAT ")",
            "run:", remote_jint(d, "run_id"), remote_jstr(d, "job", "?"),
            remote_jint(d, "attempt"));
    field("triggered by", remote_jstr(d, "actor", NULL));
    field("approved by", remote_jstr(d, "approved_by", NULL));
    if (remote_jstr(d, "url", NULL))
        field("url", remote_jstr(d, "url", NULL));
    if (remote_jstr(d, "release_tag", NULL))
        field("release", remote_jstr(d, "release_tag", NULL));
    fmt_stamp(a, sizeof(a), remote_jstr(d, "created_at", NULL));
    field("created", a);
    if (remote_jstr(d, "approved_at", NULL)) {
        fmt_stamp(a, sizeof(a), remote_jstr(d, "approved_at", NULL));
        field("approved", a);
    }
    fmt_stamp(a, sizeof(a), remote_jstr(d, "started_at", NULL));
    field("started", a);
    fmt_stamp(b, sizeof(b), remote_jstr(d, "finished_at", NULL));
    if (remote_parse_time(remote_jstr(d, "started_at", NULL), &t0) &&
        remote_parse_time(remote_jstr(d, "finished_at", NULL), &t1)) {
        remote_fmt_duration(tmp, sizeof(tmp), (long long)(t1 - t0));
        say("%-18s%s (took %s)", "finished:", b, tmp);
    } else {
        field("finished", b);
    }
    if (json_array_size(json_object_get(d, "approvals"))) {
        say("approvals:");
        json_array_foreach (json_object_get(d, "approvals"), i, x) {
            const char *cmt = remote_jstr(x, "comment", "");

            fmt_stamp(a, sizeof(a), remote_jstr(x, "at", NULL));
            say("  %s  %s %s%s%s", a, remote_jstr(x, "user", "?"),
                remote_jstr(x, "decision", "?"), *cmt ? ": " : "", cmt);
        }
    }
    if (json_array_size(json_object_get(d, "phases"))) {
        say("phases:");
        json_array_foreach (json_object_get(d, "phases"), i, x) {
            const char *detail = remote_jstr(x, "detail", "");

            fmt_stamp(a, sizeof(a), remote_jstr(x, "at", NULL));
            say("  %s  %-10s %-10s %s", a, remote_jstr(x, "phase", "?"),
                remote_jstr(x, "status", "?"), detail);
        }
    }
}

static void print_deploys(const json_t *list)
{
    const char *head[] = {"ID",          "ENV", "VERSION", "STATUS",
                          "APPROVED BY", "AGE", "RUN"};
    struct remote_table t = {7, 0, NULL};
    time_t now = time(NULL);
    size_t i;
    json_t *d;

    if (json_array_size(list) == 0) {
        printf("no deployments\n");
        return;
    }
    remote_table_row(&t, head);
    json_array_foreach (list, i, d) {
        char id[24], age[32], run[24];
        const char *row[7];
        time_t created;

        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, remote_jint(d, "id"));
        if (remote_parse_time(remote_jstr(d, "created_at", NULL), &created))
            remote_fmt_age(age, sizeof(age), (long long)(now - created));
        else
            snprintf(age, sizeof(age), "-");
        row[0] = id;
        row[1] = remote_jstr(d, "environment", "?");
        row[2] = text_or_dash(d, "version");
        row[3] = remote_jstr(d, "status", "?");
        row[4] = remote_jstr(d, "approved_by", "-");
        row[5] = age;
        row[6] = int_or_dash(d, "run_id", run, sizeof(run));
        if (strcmp(row[6], "-") == 0 &&
            strcmp(remote_jstr(d, "kind", ""), "rollback") == 0)
            row[6] = "(rollback)";
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
}

int cli_deployments(int argc, char **argv)
{
    const struct remote_verb v = {"deployments",
                                  "ferry deployments [--repo R] [--env E] "
                                  "[--status S] [--limit N] | DEPLOYMENT"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL, *env = NULL, *status = NULL, *limit = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {"--env", NULL, REMOTE_OPT_STR, &env},
        {"--status", NULL, REMOTE_OPT_STR, &status},
        {"--limit", "-n", REMOTE_OPT_STR, &limit},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    json_t *ans = NULL;
    json_t *list;
    struct buf path;
    bool first = true;
    uint64_t n;
    size_t npos;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, pos, 0, 1, &npos);
    if (rc >= 0)
        goto done;
    if (npos && (repo || env || status || limit)) {
        rc = remote_usage(&v, "a DEPLOYMENT takes no filter");
        goto done;
    }
    if (npos && !remote_parse_id(pos[0], strlen(pos[0]), &n)) {
        rc = remote_usage(&v, "bad deployment id '%s'", pos[0]);
        goto done;
    }
    if (limit && (span_to_u64(span_cstr(limit), &n) || n < 1 || n > 200)) {
        rc = remote_usage(&v, "--limit needs a number from 1 to 200, got '%s'",
                          limit);
        goto done;
    }
    rc = 2;
    if (npos ? !remote_path_fmt(&path, "/api/v1/deployments/%" PRIu64, n)
             : (!remote_path_fmt(&path, "/api/v1/deployments") ||
                !remote_add_query(&path, &first, "repo", repo) ||
                !remote_add_query(&path, &first, "environment", env) ||
                !remote_add_query(&path, &first, "status", status) ||
                !remote_add_query(&path, &first, "limit", limit)))
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = request(c, "GET", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    rc = 0;
    if (cm.json) {
        remote_print_json(ans);
    } else if (npos) {
        print_deploy(ans);
    } else if ((list = remote_answer_array(ans, "deployments"))) {
        print_deploys(list);
    } else {
        rc = REFUSED;
    }
done:
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}

/* ---- ferry incidents ---- */

static void print_incident(const json_t *i)
{
    char a[32];
    char tmp[32];
    size_t k;
    json_t *e;

    say("incident %" JSON_INTEGER_FORMAT ": %s/%s, %s", remote_jint(i, "id"),
        remote_jstr(i, "repo", "?"), remote_jstr(i, "environment", "?"),
        remote_jstr(i, "status", "?"));
    field("deployment", int_or_dash(i, "deployment_id", tmp, sizeof(tmp)));
    field("reason", remote_jstr(i, "reason", NULL));
    fmt_stamp(a, sizeof(a), remote_jstr(i, "opened_at", NULL));
    field("opened", a);
    fmt_stamp(a, sizeof(a), remote_jstr(i, "resolved_at", NULL));
    field("resolved", a);
    say("timeline:");
    json_array_foreach (json_object_get(i, "timeline"), k, e) {
        fmt_stamp(a, sizeof(a), remote_jstr(e, "at", NULL));
        say("  %s  %s", a, remote_jstr(e, "what", ""));
    }
}

static void print_incidents(const json_t *list)
{
    const char *head[] = {"ID",     "REPO",   "ENV",   "DEPLOYMENT",
                          "STATUS", "OPENED", "REASON"};
    struct remote_table t = {7, 0, NULL};
    size_t k;
    json_t *i;

    if (json_array_size(list) == 0) {
        printf("no incidents\n");
        return;
    }
    remote_table_row(&t, head);
    json_array_foreach (list, k, i) {
        char id[24], dep[24], opened[32];
        const char *row[7];

        snprintf(id, sizeof(id), "%" JSON_INTEGER_FORMAT, remote_jint(i, "id"));
        remote_fmt_when(opened, sizeof(opened),
                        remote_jstr(i, "opened_at", NULL));
        row[0] = id;
        row[1] = remote_jstr(i, "repo", "?");
        row[2] = remote_jstr(i, "environment", "?");
        row[3] = int_or_dash(i, "deployment_id", dep, sizeof(dep));
        row[4] = remote_jstr(i, "status", "?");
        row[5] = opened;
        row[6] = remote_jstr(i, "reason", "");
        remote_table_row(&t, row);
    }
    remote_table_print_free(&t);
}

int cli_incidents(int argc, char **argv)
{
    const struct remote_verb v = {
        "incidents", "ferry incidents [--repo R] | INCIDENT [--json]"};
    struct remote_common cm = {NULL, NULL, false};
    const char *repo = NULL;
    const struct remote_opt opts[] = {
        {"--repo", NULL, REMOTE_OPT_STR, &repo},
        {NULL, NULL, REMOTE_OPT_BOOL, NULL},
    };
    const char *pos[1];
    struct client *c = NULL;
    json_t *ans = NULL;
    json_t *list;
    struct buf path;
    bool first = true;
    uint64_t id = 0;
    size_t npos;
    int rc;

    buf_init(&path, LIM_URL);
    rc = remote_parse_args(&v, argc, argv, 1, opts, &cm, pos, 0, 1, &npos);
    if (rc >= 0)
        goto done;
    if (npos && repo) {
        rc = remote_usage(&v, "an INCIDENT takes no --repo");
        goto done;
    }
    if (npos && !remote_parse_id(pos[0], strlen(pos[0]), &id)) {
        rc = remote_usage(&v, "bad incident id '%s'", pos[0]);
        goto done;
    }
    rc = 2;
    if (npos ? !remote_path_fmt(&path, "/api/v1/incidents/%" PRIu64, id)
             : (!remote_path_fmt(&path, "/api/v1/incidents") ||
                !remote_add_query(&path, &first, "repo", repo)))
        goto done;
    if ((rc = remote_connect(&cm, &c)) >= 0 ||
        (rc = request(c, "GET", buf_cstr(&path), NULL, &ans)) >= 0)
        goto done;
    rc = 0;
    if (cm.json) {
        remote_print_json(ans);
    } else if (npos) {
        print_incident(ans);
    } else if ((list = remote_answer_array(ans, "incidents"))) {
        print_incidents(list);
    } else {
        rc = REFUSED;
    }
done:
    buf_release(&path);
    json_decref(ans);
    client_free(c);
    return rc;
}
