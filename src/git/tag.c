/* tag: release tags through libgit2.  It never moves or deletes a tag,
 * and never talks to a remote. */
#include "git/tag.h"

#include <git2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

static enum ferr_code git_fail(struct ferr *err, const char *what)
{
    const git_error *e = git_error_last();

    return ferr_set(err, FERR_IO, NULL, "%s: %s", what,
                    e && e->message ? e->message : "libgit2 error");
}

static enum ferr_code open_repo(const char *path, git_repository **out,
                                struct ferr *err)
{
    (void)git_libgit2_init();
    if (git_repository_open_ext(out, path, GIT_REPOSITORY_OPEN_NO_SEARCH,
                                NULL) != 0) {
        *out = NULL;
        return ferr_set(err, FERR_NOTFOUND, NULL,
                        "'%s' is not a git repository", path);
    }
    return FERR_OK;
}

/* vX.Y.Z into its numbers; 0 when @name is not one.  With @suffix, a
 * semver pre-release or build suffix (-rc.1, +build.5) may follow. */
static int parse_release(const char *name, unsigned long v[3], int suffix)
{
    const char *p = name;

    if (*p++ != 'v')
        return 0;
    for (int i = 0; i < 3; i++) {
        size_t n = 0;

        v[i] = 0;
        while (p[n] >= '0' && p[n] <= '9' && n < 9) {
            v[i] = v[i] * 10 + (unsigned long)(p[n] - '0');
            n++;
        }
        if (n == 0 || (p[n] >= '0' && p[n] <= '9'))
            return 0;
        p += n;
        if (i < 2 && *p++ != '.')
            return 0;
    }
    if (*p == '\0')
        return 1;
    if (!suffix || (*p != '-' && *p != '+') || !p[1])
        return 0;
    for (p++; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
              (*p >= '0' && *p <= '9') || *p == '.' || *p == '-'))
            return 0;
    return 1;
}

int tag_is_release(const char *name)
{
    unsigned long v[3];

    return strlen(name) <= 64 && parse_release(name, v, 1);
}

enum ferr_code tag_next_patch(const char *repo_path, char **out,
                              struct ferr *err)
{
    git_repository *r = NULL;
    git_strarray names = {0};
    unsigned long best[3] = {0, 0, 0};
    int found = 0;
    enum ferr_code rc = open_repo(repo_path, &r, err);

    *out = NULL;
    if (rc)
        return rc;
    if (git_tag_list_match(&names, "v*", r) != 0) {
        rc = git_fail(err, "list tags");
        goto done;
    }
    for (size_t i = 0; i < names.count; i++) {
        unsigned long v[3];

        if (!parse_release(names.strings[i], v, 0))
            continue;
        if (!found || v[0] > best[0] || (v[0] == best[0] && v[1] > best[1]) ||
            (v[0] == best[0] && v[1] == best[1] && v[2] > best[2])) {
            memcpy(best, v, sizeof(best));
            found = 1;
        }
    }
    if (found)
        *out = xasprintf("v%lu.%lu.%lu", best[0], best[1], best[2] + 1);
    else
        *out = xstrdup("v1.0.0");
done:
    git_strarray_dispose(&names);
    git_repository_free(r);
    return rc;
}

enum ferr_code tag_create(const char *repo_path, const char *name,
                          const char *sha, const char *message,
                          struct ferr *err)
{
    git_repository *r = NULL;
    git_object *target = NULL;
    git_signature *who = NULL;
    git_oid oid;
    git_oid tag_oid;
    int grc;
    enum ferr_code rc = open_repo(repo_path, &r, err);

    if (rc)
        return rc;
    if (git_tag_name_is_valid(&grc, name) != 0 || !grc) {
        rc = ferr_set(err, FERR_INVALID, NULL, "'%s' is not a valid tag name",
                      name);
        goto done;
    }
    if (strlen(sha) != GIT_OID_HEXSZ || git_oid_fromstr(&oid, sha) != 0 ||
        git_object_lookup(&target, r, &oid, GIT_OBJECT_COMMIT) != 0) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "no commit '%.40s' in '%s'",
                      sha, repo_path);
        goto done;
    }
    if (git_signature_now(&who, "ferry", "ferry@localhost") != 0) {
        rc = git_fail(err, "signature");
        goto done;
    }
    grc = git_tag_create(&tag_oid, r, name, target, who, message, 0);
    if (grc == GIT_EEXISTS)
        rc = ferr_set(err, FERR_INVALID, NULL, "tag '%s' exists", name);
    else if (grc != 0)
        rc = git_fail(err, "create tag");
done:
    git_signature_free(who);
    git_object_free(target);
    git_repository_free(r);
    return rc;
}
