/* action: built-in actions run in-process against the artifact store,
 * and loading of local actions.  Remote actions are never fetched. */
#include "engine/action.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/workspace.h"
#include "pipeline/ferryact.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define CACHE_SCOPE "repository"

/* The part of @uses before '@', compared with @name. */
static bool named(const char *uses, const char *name)
{
    size_t n = strcspn(uses, "@");

    return strlen(name) == n && strncmp(uses, name, n) == 0;
}

const char *action_ferry_verb(const char *uses)
{
    /* only ferry/NAME@v1: another version is no action ferry has */
    const struct ferryact *a = ferryact_of_uses(uses);

    return a ? a->verb : NULL;
}

enum action_kind action_classify(const char *uses)
{
    if (strncmp(uses, "./", 2) == 0 || strcmp(uses, ".") == 0)
        return ACTION_LOCAL;
    if (strncmp(uses, "docker://", 9) == 0)
        return ACTION_DOCKER;
    if (action_ferry_verb(uses))
        return ACTION_FERRY;
    if (named(uses, "actions/checkout") ||
        named(uses, "actions/upload-artifact") ||
        named(uses, "actions/download-artifact") ||
        named(uses, "actions/cache") || named(uses, "actions/cache/restore") ||
        named(uses, "actions/cache/save"))
        return ACTION_BUILTIN;
    return ACTION_REMOTE;
}

const char *action_unavailable_hint(enum action_kind k)
{
    if (k == ACTION_DOCKER)
        return "is a Docker container action, which ferry does not run "
               "yet; run the tool in a container job instead "
               "('container: IMAGE', or ferry run -P)";
    return "is not available offline: ferry runs actions/checkout, "
           "upload-artifact, download-artifact and cache itself, "
           "ferry/deploy, report, gate and image (@v1), and local "
           "actions; vendor this one into the repository (e.g. "
           "'.github/actions/NAME' with its action.yml) and use "
           "'uses: ./.github/actions/NAME'";
}

void action_post_release(struct action_post *p)
{
    free(p->key);
    free(p->paths);
    memset(p, 0, sizeof(*p));
}

static const char *in(const struct action_call *c, const char *name)
{
    const char *v = json_string_value(json_object_get(c->with, name));

    return v && *v ? v : NULL;
}

static void sayf(const struct action_call *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void sayf(const struct action_call *c, const char *fmt, ...)
{
    char line[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(line, sizeof(line), fmt, ap);
    va_end(ap);
    c->say(c->ud, line);
}

static enum ferr_code checkout(struct action_call *c, struct ferr *err)
{
    const char *path = in(c, "path");
    char *dst;
    enum ferr_code rc;
    struct stat st;

    if (in(c, "repository"))
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "actions/checkout of another repository ('%s') "
                        "needs the network",
                        in(c, "repository"));
    if (in(c, "ref"))
        sayf(c, "warning: checkout 'ref' is ignored: the workspace holds "
                "the working tree ferry runs");
    while (path && path[0] == '.' && path[1] == '/')
        path += 2;
    if (!path || !*path || strcmp(path, ".") == 0) {
        if (!c->lazy_checkout) {
            sayf(c, "workspace holds a copy of %s", c->repo_root);
            return FERR_OK;
        }
        /* clean: true, as GitHub's: the workspace becomes the tree */
        rc = workspace_rmtree(c->workspace, err);
        if (!rc)
            rc = workspace_copy(c->repo_root, c->workspace, false, err);
        if (!rc)
            sayf(c, "checked out %s", c->repo_root);
        return rc;
    }
    rc = workspace_check_relpath(path, err);
    if (rc)
        return rc;
    dst = xasprintf("%s/%s", c->workspace, path);
    if (stat(dst, &st) == 0) {
        rc = workspace_rmtree(dst, err);
        if (rc)
            goto done;
    }
    rc = workspace_copy(c->repo_root, dst, false, err);
    if (!rc)
        sayf(c, "copied %s to %s", c->repo_root, path);
done:
    free(dst);
    return rc;
}

static enum ferr_code upload(struct action_call *c, struct ferr *err)
{
    const char *name = in(c, "name");
    const char *paths = in(c, "path");
    const char *missing = in(c, "if-no-files-found");
    struct artifact_stats stats;
    enum ferr_code rc;

    if (!name)
        name = "artifact";
    if (!paths)
        return ferr_set(err, FERR_INVALID, NULL,
                        "upload-artifact needs input 'path'");
    if (!missing)
        missing = "warn";
    if (strcmp(missing, "warn") && strcmp(missing, "error") &&
        strcmp(missing, "ignore"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "if-no-files-found must be warn, error or ignore, "
                        "got '%s'",
                        missing);
    memset(&stats, 0, sizeof(stats));
    rc = artifact_save(c->store, ARTIFACT_UPLOAD, c->run_id, name, c->workspace,
                       paths, false, &stats, err);
    if (rc == FERR_NOTFOUND && strcmp(missing, "error") != 0) {
        if (strcmp(missing, "warn") == 0)
            sayf(c,
                 "warning: no files were found with the provided path: "
                 "%s; no artifact will be uploaded",
                 paths);
        ferr_clear(err);
        return FERR_OK;
    }
    if (rc)
        return rc;
    json_object_set_new(c->outputs, "artifact-id", json_string(name));
    sayf(c, "uploaded artifact '%s': %llu files, %llu bytes", name,
         (unsigned long long)stats.files, (unsigned long long)stats.bytes);
    return FERR_OK;
}

static enum ferr_code download(struct action_call *c, struct ferr *err)
{
    const char *name = in(c, "name");
    const char *path = in(c, "path");
    struct artifact_stats stats;
    char *dst;
    enum ferr_code rc;

    if (!name)
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "download-artifact without 'name' (all artifacts) "
                        "is not supported yet; name the artifact");
    if (path && path[0] == '/')
        dst = xstrdup(path);
    else if (path) {
        rc = workspace_check_relpath(path, err);
        if (rc)
            return rc;
        dst = xasprintf("%s/%s", c->workspace, path);
    } else
        dst = xstrdup(c->workspace);
    memset(&stats, 0, sizeof(stats));
    rc = artifact_restore(c->store, ARTIFACT_UPLOAD, c->run_id, name, dst,
                          &stats, err);
    if (!rc) {
        json_object_set_new(c->outputs, "download-path", json_string(dst));
        sayf(c, "downloaded artifact '%s': %llu files, %llu bytes", name,
             (unsigned long long)stats.files, (unsigned long long)stats.bytes);
    } else if (rc == FERR_NOTFOUND) {
        ferr_clear(err);
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "artifact '%s' not found: an earlier job of this run "
                      "must upload it",
                      name);
    }
    free(dst);
    return rc;
}

static enum ferr_code cache(struct action_call *c, bool restore, bool save,
                            struct ferr *err)
{
    const char *key = in(c, "key");
    const char *paths = in(c, "path");
    struct artifact_stats stats;
    bool hit = false;
    enum ferr_code rc = FERR_OK;

    if (!key || !paths)
        return ferr_set(err, FERR_INVALID, NULL,
                        "actions/cache needs inputs 'key' and 'path'");
    if (strlen(key) > 512)
        return ferr_set(err, FERR_INVALID, NULL,
                        "cache key is longer than 512 characters");
    if (restore) {
        memset(&stats, 0, sizeof(stats));
        if (artifact_exists(c->store, ARTIFACT_CACHE, CACHE_SCOPE, key)) {
            rc = artifact_restore(c->store, ARTIFACT_CACHE, CACHE_SCOPE, key,
                                  c->workspace, &stats, err);
            if (rc)
                return rc;
            hit = true;
            sayf(c, "cache restored from key: %s (%llu files)", key,
                 (unsigned long long)stats.files);
        } else {
            if (in(c, "restore-keys"))
                sayf(c, "note: restore-keys prefix matching is not "
                        "supported; only the exact key is looked up");
            sayf(c, "cache not found for input keys: %s", key);
        }
        json_object_set_new(c->outputs, "cache-hit",
                            json_string(hit ? "true" : "false"));
        json_object_set_new(c->outputs, "cache-primary-key", json_string(key));
        if (hit)
            json_object_set_new(c->outputs, "cache-matched-key",
                                json_string(key));
    }
    if (save && !hit) {
        if (restore) {
            c->post.kind = POST_CACHE_SAVE;
            c->post.key = xstrdup(key);
            c->post.paths = xstrdup(paths);
            c->post.success_only = true;
        } else {
            struct action_post p = {POST_CACHE_SAVE, (char *)key, (char *)paths,
                                    false};

            rc = action_run_post(c, &p, err);
        }
    }
    return rc;
}

enum ferr_code action_run_builtin(struct action_call *c, struct ferr *err)
{
    memset(&c->post, 0, sizeof(c->post));
    if (named(c->uses, "actions/checkout"))
        return checkout(c, err);
    if (named(c->uses, "actions/upload-artifact"))
        return upload(c, err);
    if (named(c->uses, "actions/download-artifact"))
        return download(c, err);
    if (named(c->uses, "actions/cache"))
        return cache(c, true, true, err);
    if (named(c->uses, "actions/cache/restore"))
        return cache(c, true, false, err);
    if (named(c->uses, "actions/cache/save"))
        return cache(c, false, true, err);
    return ferr_set(err, FERR_NOTFOUND, NULL, "'%s' is not a built-in action",
                    c->uses);
}

enum ferr_code action_run_post(struct action_call *c,
                               const struct action_post *p, struct ferr *err)
{
    struct artifact_stats stats;
    enum ferr_code rc;

    if (p->kind != POST_CACHE_SAVE)
        return FERR_OK;
    memset(&stats, 0, sizeof(stats));
    rc = artifact_save(c->store, ARTIFACT_CACHE, CACHE_SCOPE, p->key,
                       c->workspace, p->paths, true, &stats, err);
    if (rc == FERR_NOTFOUND) {
        ferr_clear(err);
        sayf(c, "warning: cache not saved: no files match '%s'", p->paths);
        return FERR_OK;
    }
    if (!rc)
        sayf(c, "cache saved with key: %s (%llu files, %llu bytes)", p->key,
             (unsigned long long)stats.files, (unsigned long long)stats.bytes);
    return rc;
}

enum ferr_code action_load_local(const char *dir, struct action_def **out,
                                 struct diags *diags, struct ferr *err)
{
    struct action_def *d = xcalloc(1, sizeof(*d));
    char *path = xasprintf("%s/action.yml", dir);
    size_t len = 0;
    enum ferr_code rc;
    struct stat st;

    *out = NULL;
    if (stat(path, &st) != 0) {
        free(path);
        path = xasprintf("%s/action.yaml", dir);
        if (stat(path, &st) != 0) {
            rc = ferr_set(err, FERR_NOTFOUND, NULL,
                          "no action.yml or action.yaml in '%s'", dir);
            goto done;
        }
    }
    d->dir = xstrdup(dir);
    rc = workspace_read_file(path, LIM_WORKFLOW_BYTES, &d->src, &len, err);
    if (rc)
        goto done;
    d->arena = arena_new(16 * 1024);
    rc = wf_load_action(d->arena, arena_strdup(d->arena, path),
                        span_of(d->src, len), &d->wa, diags, err);
done:
    free(path);
    if (rc) {
        action_def_free(d);
        return rc;
    }
    *out = d;
    return FERR_OK;
}

void action_def_free(struct action_def *d)
{
    if (!d)
        return;
    arena_free(d->arena);
    free(d->src);
    free(d->dir);
    free(d);
}
