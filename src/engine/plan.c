/* plan: load workflows and decide which ones an event triggers.  Reads
 * files and asks the repository what changed; runs nothing. */
#include "engine/plan.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "pipeline/glob.h"
#include "pipeline/lint.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/xalloc.h"

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_yaml(const char *name)
{
    size_t n = strlen(name);

    return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static void push_path(char ***v, size_t *n, char *p)
{
    *v = xrealloc(*v, (*n + 1) * sizeof(**v));
    (*v)[(*n)++] = p;
}

/* Append the YAML files of directory @dir, sorted; a missing directory
 * adds nothing when @optional. */
static enum ferr_code add_dir(const char *dir, bool optional, char ***v,
                              size_t *n, struct ferr *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    size_t first = *n;

    if (!d) {
        if (optional && errno == ENOENT)
            return FERR_OK;
        return ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", dir,
                        strerror(errno));
    }
    while ((e = readdir(d)))
        if (e->d_name[0] != '.' && is_yaml(e->d_name))
            push_path(v, n, xasprintf("%s/%s", dir, e->d_name));
    closedir(d);
    if (*n > first)
        qsort(*v + first, *n - first, sizeof(**v), cmp_str);
    return FERR_OK;
}

enum ferr_code plan_find_files(const char *root, const char **args,
                               size_t nargs, char ***out, size_t *out_n,
                               struct ferr *err)
{
    char **v = NULL;
    size_t n = 0;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    *out_n = 0;
    if (nargs == 0) {
        char *a = xasprintf("%s/.github/workflows", root);
        char *b = xasprintf("%s/.ferry/workflows", root);

        rc = add_dir(a, true, &v, &n, err);
        if (!rc)
            rc = add_dir(b, true, &v, &n, err);
        free(a);
        free(b);
    }
    for (size_t i = 0; !rc && i < nargs; i++) {
        struct stat st;

        if (stat(args[i], &st) != 0) {
            rc = ferr_set(err, FERR_USAGE, NULL, "cannot open '%s': %s",
                          args[i], strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            rc = add_dir(args[i], false, &v, &n, err);
        } else {
            push_path(&v, &n, xstrdup(args[i]));
        }
    }
    if (rc) {
        for (size_t i = 0; i < n; i++)
            free(v[i]);
        free(v);
        return rc;
    }
    *out = v;
    *out_n = n;
    return FERR_OK;
}

/* "owner/name" from an origin URL like git@host:owner/name.git or
 * https://host/owner/name; NULL when it has no such shape. */
static char *repo_slug(const char *url)
{
    const char *end;
    const char *p;
    int slashes = 0;

    if (!url || !*url)
        return NULL;
    end = url + strlen(url);
    while (end > url && end[-1] == '/')
        end--;
    if (end - url > 4 && memcmp(end - 4, ".git", 4) == 0)
        end -= 4;
    for (p = end; p > url; p--) {
        if (p[-1] == '/' || p[-1] == ':') {
            if (++slashes == 2)
                break;
        }
    }
    if (slashes < 2 && p == url)
        return NULL;
    return xstrndup(p, (size_t)(end - p));
}

static const char *str_or(const char *s, const char *dflt)
{
    return s && *s ? s : dflt;
}

static json_t *repository_json(const char *full, const char *default_branch)
{
    const char *slash = strchr(full, '/');
    char *owner = xstrndup(full, slash ? (size_t)(slash - full) : 0);
    json_t *o = json_pack("{s:s, s:s, s:{s:s, s:s}, s:s, s:b}", "name",
                          slash ? slash + 1 : full, "full_name", full, "owner",
                          "login", owner, "name", owner, "default_branch",
                          default_branch, "private", 1);

    free(owner);
    return o;
}

/* The payload GitHub would send for @event at the repository's HEAD. */
/* The ref the repository is at: its branch, else a tag at a detached
 * HEAD, else NULL.  Heap string. */
static char *checkout_ref(const struct repo_info *ri)
{
    if (ri->ref)
        return xstrdup(ri->ref);
    if (ri->ntags > 0)
        return xasprintf("refs/tags/%s", ri->tags[0]);
    return NULL;
}

static json_t *synth_payload(const struct plan *p, const char *full,
                             const char *actor)
{
    const struct repo_info *ri = &p->repo;
    const char *sha =
        str_or(ri->sha, "0000000000000000000000000000000000000000");
    const char *branch = str_or(ri->branch, "main");
    const char *dflt = str_or(ri->default_branch, "main");
    json_t *o = json_object();

    json_object_set_new(o, "repository", repository_json(full, dflt));
    json_object_set_new(o, "sender", json_pack("{s:s}", "login", actor));
    if (strcmp(p->event, "push") == 0) {
        char *ref = checkout_ref(ri);

        if (!ref)
            ref = xasprintf("refs/heads/%s", branch);

        json_object_set_new(o, "ref", json_string(ref));
        json_object_set_new(
            o, "before",
            json_string(ri->before[0]
                            ? ri->before
                            : "0000000000000000000000000000000000000000"));
        json_object_set_new(o, "after", json_string(sha));
        json_object_set_new(o, "created", json_false());
        json_object_set_new(o, "deleted", json_false());
        json_object_set_new(o, "forced", json_false());
        json_object_set_new(o, "pusher", json_pack("{s:s}", "name", actor));
        json_object_set_new(o, "head_commit",
                            json_pack("{s:s, s:s, s:{s:s}}", "id", sha,
                                      "message", str_or(ri->message, ""),
                                      "author", "name",
                                      str_or(ri->author, actor)));
        json_object_set_new(
            o, "commits", json_pack("[O]", json_object_get(o, "head_commit")));
        free(ref);
    } else if (strcmp(p->event, "pull_request") == 0 ||
               strcmp(p->event, "pull_request_target") == 0) {
        json_object_set_new(o, "action", json_string("opened"));
        json_object_set_new(o, "number", json_integer(1));
        json_object_set_new(
            o, "pull_request",
            json_pack("{s:i, s:s, s:s, s:{s:s, s:s, s:s}, s:{s:s, s:s}}",
                      "number", 1, "title", str_or(ri->message, ""), "body", "",
                      "head", "ref", branch, "sha", sha, "label", branch,
                      "base", "ref", dflt, "sha", sha));
    } else if (strcmp(p->event, "workflow_dispatch") == 0) {
        char *ref = checkout_ref(ri);

        if (!ref)
            ref = xasprintf("refs/heads/%s", branch);

        json_object_set_new(o, "ref", json_string(ref));
        json_object_set_new(o, "inputs", json_object());
        free(ref);
    }
    return o;
}

/* GitHub's schedule payload names the cron that fired: the first one. */
static void schedule_payload(json_t *payload, const struct wf *wf)
{
    const struct wf_trigger *t = wf_trigger_find(wf, "schedule");

    if (t && t->crons.n && !json_object_get(payload, "schedule"))
        json_object_set_new(payload, "schedule", json_string(t->crons.v[0]));
}

static const char *jstr(const json_t *o, const char *path)
{
    char key[128];
    const char *dot;
    const json_t *v = o;

    while (v && (dot = strchr(path, '.'))) {
        size_t n = (size_t)(dot - path);

        if (n >= sizeof(key))
            return NULL;
        memcpy(key, path, n);
        key[n] = '\0';
        v = json_object_get(v, key);
        path = dot + 1;
    }
    v = v ? json_object_get(v, path) : NULL;
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* The github context shared by every job of @pw (job-specific keys are
 * added when a job starts). */
static json_t *github_ctx(const struct plan *p, const struct plan_wf *pw,
                          const char *full, const char *actor,
                          const char *run_id, const struct run_opts *opts)
{
    const json_t *ev = pw->payload;
    const char *sha =
        str_or(p->repo.sha, "0000000000000000000000000000000000000000");
    const char *ref = NULL;
    const char *head_ref = "";
    const char *base_ref = "";
    const char *ref_name;
    const char *ref_type = "branch";
    const char *slash = strchr(full, '/');
    char *owner = xstrndup(full, slash ? (size_t)(slash - full) : 0);
    char *ref_buf = NULL;
    char *wf_ref;
    json_t *g;

    if (strncmp(p->event, "pull_request", 12) == 0) {
        const char *num = NULL;
        json_t *n = json_object_get(ev, "number");

        head_ref = str_or(jstr(ev, "pull_request.head.ref"), "");
        base_ref = str_or(jstr(ev, "pull_request.base.ref"), "");
        if (json_is_integer(n))
            ref_buf = xasprintf("refs/pull/%lld/merge",
                                (long long)json_integer_value(n));
        else
            ref_buf = xstrdup("refs/pull/1/merge");
        (void)num;
        ref = ref_buf;
        sha = str_or(jstr(ev, "pull_request.head.sha"), sha);
    } else {
        ref = jstr(ev, "ref");
        if (!ref) {
            ref_buf = checkout_ref(&p->repo);
            if (!ref_buf)
                ref_buf =
                    xasprintf("refs/heads/%s", str_or(p->repo.branch, "main"));
            ref = ref_buf;
        }
        sha = str_or(jstr(ev, "after"), sha);
    }
    if (strncmp(ref, "refs/tags/", 10) == 0) {
        ref_name = ref + 10;
        ref_type = "tag";
    } else if (strncmp(ref, "refs/heads/", 11) == 0) {
        ref_name = ref + 11;
    } else if (strncmp(ref, "refs/", 5) == 0) {
        ref_name = ref + 5;
    } else {
        ref_name = ref;
    }
    wf_ref = xasprintf("%s/%s@%s", full, pw->display_path, ref);
    g = json_object();
    json_object_set_new(g, "event_name", json_string(p->event));
    json_object_set(g, "event", pw->payload);
    json_object_set_new(g, "sha", json_string(sha));
    json_object_set_new(g, "ref", json_string(ref));
    json_object_set_new(g, "ref_name", json_string(ref_name));
    json_object_set_new(g, "ref_type", json_string(ref_type));
    json_object_set_new(g, "ref_protected", json_false());
    json_object_set_new(g, "head_ref", json_string(head_ref));
    json_object_set_new(g, "base_ref", json_string(base_ref));
    json_object_set_new(g, "repository", json_string(full));
    json_object_set_new(g, "repository_owner", json_string(owner));
    json_object_set_new(g, "repositoryUrl",
                        json_string(str_or(p->repo.remote_url, "")));
    json_object_set_new(g, "actor", json_string(actor));
    json_object_set_new(g, "triggering_actor", json_string(actor));
    json_object_set_new(
        g, "workflow",
        json_string(pw->wf->name ? pw->wf->name : pw->display_path));
    json_object_set_new(g, "workflow_ref", json_string(wf_ref));
    json_object_set_new(g, "workflow_sha", json_string(sha));
    json_object_set_new(g, "run_id", json_string(run_id));
    json_object_set_new(g, "run_number",
                        json_string(str_or(opts->run_number, "1")));
    json_object_set_new(g, "run_attempt",
                        json_string(str_or(opts->run_attempt, "1")));
    json_object_set_new(g, "retention_days", json_string("90"));
    json_object_set_new(g, "server_url", json_string("https://github.com"));
    json_object_set_new(g, "api_url", json_string("https://api.github.com"));
    json_object_set_new(g, "graphql_url",
                        json_string("https://api.github.com/graphql"));
    json_object_set_new(g, "token", json_string(""));
    json_object_set_new(g, "action", json_string(""));
    json_object_set_new(g, "job", json_string(""));
    json_object_set_new(g, "workspace", json_string(""));
    free(owner);
    free(ref_buf);
    free(wf_ref);
    return g;
}

/* Apply GitHub's filters of @t to the event; NULL = triggered, else a
 * reason (static or heap via *out_heap). */
static char *filter_reason(const struct plan *p, const struct wf_trigger *t,
                           char **changed, size_t nchanged)
{
    const json_t *ev = p->payload;
    const char *ref;
    bool is_tag;
    struct span name;

    if (strncmp(p->event, "pull_request", 12) == 0) {
        const char *action = jstr(ev, "action");
        const char *base = jstr(ev, "pull_request.base.ref");

        if (t->types.set) {
            bool ok = false;

            for (size_t i = 0; action && i < t->types.n; i++)
                ok |= strcmp(t->types.v[i], action) == 0;
            if (!ok)
                return xasprintf("activity type '%s' is not in on.%s.types",
                                 action ? action : "", p->event);
        } else if (action && strcmp(action, "opened") != 0 &&
                   strcmp(action, "synchronize") != 0 &&
                   strcmp(action, "reopened") != 0) {
            return xasprintf("activity type '%s' is not one of the default "
                             "types (opened, synchronize, reopened)",
                             action);
        }
        name = span_cstr(base ? base : "");
        if (t->branches.set &&
            !glob_match_list(t->branches.v, t->branches.n, name))
            return xasprintf("base branch '%s' does not match on.%s.branches",
                             base ? base : "", p->event);
        if (t->branches_ignore.set &&
            glob_match_list(t->branches_ignore.v, t->branches_ignore.n, name))
            return xasprintf("base branch '%s' matches on.%s.branches-ignore",
                             base ? base : "", p->event);
    } else if (strcmp(p->event, "push") == 0) {
        ref = jstr(ev, "ref");
        if (!ref)
            ref = "";
        is_tag = strncmp(ref, "refs/tags/", 10) == 0;
        name = span_cstr(ref + (is_tag                                 ? 10
                                : strncmp(ref, "refs/heads/", 11) == 0 ? 11
                                                                       : 0));
        if (is_tag) {
            if (t->tags.set) {
                if (!glob_match_list(t->tags.v, t->tags.n, name))
                    return xasprintf("tag '%.*s' does not match on.push.tags",
                                     SPAN_ARGS(name));
            } else if (t->tags_ignore.set) {
                if (glob_match_list(t->tags_ignore.v, t->tags_ignore.n, name))
                    return xasprintf("tag '%.*s' matches on.push.tags-ignore",
                                     SPAN_ARGS(name));
            } else if (t->branches.set || t->branches_ignore.set) {
                return xstrdup("a tag push, and on.push filters only "
                               "branches");
            }
            return NULL; /* paths filters do not apply to tags */
        }
        if (t->branches.set) {
            if (!glob_match_list(t->branches.v, t->branches.n, name))
                return xasprintf("branch '%.*s' does not match "
                                 "on.push.branches",
                                 SPAN_ARGS(name));
        } else if (t->branches_ignore.set) {
            if (glob_match_list(t->branches_ignore.v, t->branches_ignore.n,
                                name))
                return xasprintf("branch '%.*s' matches on.push."
                                 "branches-ignore",
                                 SPAN_ARGS(name));
        } else if (t->tags.set || t->tags_ignore.set) {
            return xstrdup("a branch push, and on.push filters only tags");
        }
    } else {
        return NULL;
    }
    if (t->paths.set) {
        bool any = false;

        for (size_t i = 0; i < nchanged && !any; i++)
            any =
                glob_match_list(t->paths.v, t->paths.n, span_cstr(changed[i]));
        if (!any)
            return xasprintf("no changed path matches on.%s.paths", p->event);
    } else if (t->paths_ignore.set && nchanged > 0) {
        bool all = true;

        for (size_t i = 0; i < nchanged && all; i++)
            all = glob_match_list(t->paths_ignore.v, t->paths_ignore.n,
                                  span_cstr(changed[i]));
        if (all)
            return xasprintf("every changed path matches on.%s.paths-ignore",
                             p->event);
    }
    return NULL;
}

/* Typed inputs for workflow_dispatch / workflow_call: defaults, then the
 * user's --input values, checked against type, options and required. */
static enum ferr_code build_inputs(const struct plan_wf *pw, const char *event,
                                   json_t *given, json_t **out,
                                   struct ferr *err)
{
    const struct wf_trigger *t = wf_trigger_find(pw->wf, event);
    const struct node *defs = t ? t->inputs : NULL;
    json_t *in = json_object();
    const char *k;
    json_t *v;

    *out = NULL;
    for (size_t i = 0; defs && defs->kind == NODE_MAP && i < defs->n; i++) {
        const char *name = defs->keys[i]->str;
        const struct node *d = defs->items[i];
        const struct node *type = node_get(d, "type", NULL);
        const struct node *dflt = node_get(d, "default", NULL);
        const struct node *req = node_get(d, "required", NULL);
        const struct node *opts = node_get(d, "options", NULL);
        json_t *gv = given ? json_object_get(given, name) : NULL;
        const char *ty =
            type && type->kind == NODE_SCALAR ? type->str : "string";
        const char *sval = json_is_string(gv) ? json_string_value(gv)
                           : dflt && dflt->kind == NODE_SCALAR ? dflt->str
                                                               : NULL;

        if (!sval) {
            if (req && req->kind == NODE_SCALAR &&
                strcmp(req->str, "true") == 0) {
                json_decref(in);
                return ferr_set(err, FERR_USAGE, NULL,
                                "input '%s' of '%s' is required (pass "
                                "--input %s=VALUE)",
                                name, pw->display_path, name);
            }
            json_object_set_new(in, name,
                                strcmp(ty, "boolean") == 0 ? json_false()
                                                           : json_string(""));
            continue;
        }
        if (strcmp(ty, "boolean") == 0) {
            if (strcmp(sval, "true") != 0 && strcmp(sval, "false") != 0) {
                json_decref(in);
                return ferr_set(err, FERR_USAGE, NULL,
                                "input '%s' must be true or false, got '%s'",
                                name, sval);
            }
            json_object_set_new(in, name, json_boolean(sval[0] == 't'));
        } else if (strcmp(ty, "number") == 0) {
            char *end;
            double num;

            errno = 0;
            num = strtod(sval, &end);
            if (!*sval || *end || errno || !isfinite(num)) {
                json_decref(in);
                return ferr_set(err, FERR_USAGE, NULL,
                                "input '%s' must be a number, got '%s'", name,
                                sval);
            }
            if (num >= -9007199254740992.0 && num <= 9007199254740992.0 &&
                num == (double)(json_int_t)num)
                json_object_set_new(in, name, json_integer((json_int_t)num));
            else
                json_object_set_new(in, name, json_real(num));
        } else {
            if (strcmp(ty, "choice") == 0 && opts && opts->kind == NODE_SEQ) {
                bool ok = false;

                for (size_t j = 0; j < opts->n; j++)
                    ok |= opts->items[j]->kind == NODE_SCALAR &&
                          strcmp(opts->items[j]->str, sval) == 0;
                if (!ok) {
                    json_decref(in);
                    return ferr_set(err, FERR_USAGE, NULL,
                                    "input '%s' must be one of its options, "
                                    "got '%s'",
                                    name, sval);
                }
            }
            json_object_set_new(in, name, json_string(sval));
        }
    }
    /* inputs the workflow does not declare are still passed, as strings */
    json_object_foreach (given, k, v) {
        if (!json_object_get(in, k)) {
            if (defs) {
                json_decref(in);
                return ferr_set(err, FERR_USAGE, NULL,
                                "'%s' declares no input '%s'", pw->display_path,
                                k);
            }
            json_object_set(in, k, v);
        }
    }
    *out = in;
    return FERR_OK;
}

static enum ferr_code load_one(struct plan_wf *pw, struct diags *diags,
                               struct ferr *err)
{
    size_t len = 0;
    enum ferr_code rc;
    size_t before = diags->nerrors;

    rc = workspace_read_file(pw->path, LIM_WORKFLOW_BYTES, &pw->src, &len, err);
    if (rc) {
        ferr_prefix(err, "workflow '%s'", pw->display_path);
        return rc;
    }
    pw->arena = arena_new(64 * 1024);
    rc = wf_load(pw->arena, pw->display_path, span_of(pw->src, len), &pw->wf,
                 diags, err);
    if (rc) {
        if (diags->nerrors == before)
            diags_add_ferr(diags, err);
        return rc;
    }
    lint_wf(pw->wf, 0, diags);
    if (diags->nerrors > before)
        return ferr_set(err, FERR_INVALID, NULL, "invalid workflow '%s'",
                        pw->display_path);
    return FERR_OK;
}

static char *display_path(const char *root, const char *path)
{
    size_t n = strlen(root);

    if (strncmp(path, root, n) == 0 && path[n] == '/')
        return xstrdup(path + n + 1);
    if (strncmp(path, "./", 2) == 0)
        return xstrdup(path + 2);
    return xstrdup(path);
}

enum ferr_code plan_build(const struct run_opts *opts, struct plan **out,
                          struct diags *diags, struct ferr *err)
{
    struct plan *p = xcalloc(1, sizeof(*p));
    const char *dir = opts->dir ? opts->dir : ".";
    char **files = NULL;
    char **changed = NULL;
    size_t nfiles = 0;
    size_t nchanged = 0;
    const char *actor;
    char *full = NULL;
    char run_id[32];
    char abs[PATH_MAX];
    enum ferr_code rc;
    struct ferr gerr;

    *out = NULL;
    p->event = xstrdup(opts->event ? opts->event : "push");
    ferr_clear(&gerr);
    if (repo_describe(dir, &p->repo, &gerr) == FERR_OK) {
        p->have_repo = true;
        p->root = xstrdup(p->repo.toplevel);
    } else {
        if (!realpath(dir, abs)) {
            rc = ferr_set(err, FERR_USAGE, NULL, "cannot open '%s': %s", dir,
                          strerror(errno));
            goto done;
        }
        p->root = xstrdup(abs);
    }
    /* -W paths are relative to the current directory, like act's */
    rc = plan_find_files(p->root, opts->workflows, opts->nworkflows, &files,
                         &nfiles, err);
    if (rc)
        goto done;
    if (nfiles == 0 && opts->nworkflows) {
        rc = ferr_set(err, FERR_USAGE, NULL,
                      "no workflow files (.yml, "
                      ".yaml) in what -W names");
        goto done;
    }
    if (nfiles == 0) {
        rc = ferr_set(err, FERR_USAGE, NULL,
                      "no workflows found in '%s/.github/workflows' or "
                      "'%s/.ferry/workflows'",
                      p->root, p->root);
        goto done;
    }
    actor = opts->actor ? opts->actor : getenv("USER");
    actor = str_or(actor, "ferry");
    full = opts->repository ? xstrdup(opts->repository)
                            : repo_slug(p->repo.remote_url);
    if (!full) {
        const char *base = strrchr(p->root, '/');

        full = xasprintf("local/%s", base && base[1] ? base + 1 : "repo");
    }
    if (opts->event_payload)
        p->payload = json_deep_copy(opts->event_payload);
    else
        p->payload = synth_payload(p, full, actor);
    if (strcmp(p->event, "workflow_dispatch") == 0 && opts->inputs &&
        json_is_object(json_object_get(p->payload, "inputs")))
        json_object_update(json_object_get(p->payload, "inputs"), opts->inputs);
    if (p->have_repo && p->repo.sha[0] &&
        (strcmp(p->event, "push") == 0 ||
         strncmp(p->event, "pull_request", 12) == 0)) {
        const char *from = jstr(p->payload, "before");
        const char *to = jstr(p->payload, "after");

        if (!from || strspn(from, "0") == strlen(from))
            from = p->repo.before;
        if (strncmp(p->event, "pull_request", 12) == 0)
            from = NULL;
        rc = repo_changed_paths(p->root, from ? from : "",
                                to ? to : p->repo.sha, !opts->event_payload,
                                &changed, &nchanged, &gerr);
        if (rc) {
            /* without a diff, path filters see no changes: say so */
            p->changed_note = xasprintf("changed paths unknown: %s", gerr.msg);
            rc = FERR_OK;
        }
    }
    /* unique among runs sharing a --home (artifacts are scoped by it),
     * and still a number as GitHub's are */
    if (opts->run_id)
        snprintf(run_id, sizeof(run_id), "%s", opts->run_id);
    else
        snprintf(run_id, sizeof(run_id), "%lld%07d", (long long)time(NULL),
                 (int)(getpid() % 10000000));
    p->wfs = xcalloc(nfiles, sizeof(*p->wfs));
    for (size_t i = 0; i < nfiles; i++) {
        struct plan_wf *pw = &p->wfs[p->n++];
        const struct wf_trigger *t;
        struct ferr lerr;

        pw->path = files[i];
        files[i] = NULL;
        pw->display_path = display_path(p->root, pw->path);
        ferr_clear(&lerr);
        if (load_one(pw, diags, &lerr)) {
            if (!rc)
                rc = ferr_set(err, lerr.code, &lerr.pos, "%s", lerr.msg);
            continue;
        }
        t = wf_trigger_find(pw->wf, p->event);
        if (!t)
            pw->skip_reason = xasprintf("not triggered by '%s'", p->event);
        else
            pw->skip_reason = filter_reason(p, t, changed, nchanged);
        pw->triggered = pw->skip_reason == NULL;
        if (!rc) {
            struct ferr ierr;

            ferr_clear(&ierr);
            if (build_inputs(pw, p->event, pw->triggered ? opts->inputs : NULL,
                             &pw->inputs, &ierr)) {
                if (pw->triggered)
                    rc = ferr_set(err, ierr.code, NULL, "%s", ierr.msg);
                pw->inputs = json_object();
            }
            /* each workflow gets its own payload: inputs and the cron
             * that fired are per workflow */
            pw->payload = json_deep_copy(p->payload);
            if (strcmp(p->event, "workflow_dispatch") == 0 && pw->triggered)
                json_object_set(pw->payload, "inputs", pw->inputs);
            if (strcmp(p->event, "schedule") == 0 && pw->triggered &&
                !opts->event_payload)
                schedule_payload(pw->payload, pw->wf);
            pw->github = github_ctx(p, pw, full, actor, run_id, opts);
        }
    }
done:
    for (size_t i = 0; i < nfiles; i++)
        free(files[i]);
    free(files);
    repo_free_paths(changed, nchanged);
    free(full);
    if (rc) {
        plan_free(p);
        return rc;
    }
    *out = p;
    return FERR_OK;
}

void plan_free(struct plan *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++) {
        struct plan_wf *pw = &p->wfs[i];

        free(pw->path);
        free(pw->display_path);
        arena_free(pw->arena);
        free(pw->src);
        free(pw->skip_reason);
        json_decref(pw->github);
        json_decref(pw->inputs);
        json_decref(pw->payload);
    }
    free(p->wfs);
    if (p->have_repo)
        repo_info_release(&p->repo);
    free(p->root);
    free(p->event);
    json_decref(p->payload);
    free(p->changed_note);
    free(p);
}
