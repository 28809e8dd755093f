/* tags: the image tag scheme (sha-<7>, latest, <branch>-<run>, vX.Y.Z
 * and X.Y, pr-<N>) and the reading of image references, as plain
 * functions over strings.  It does not read the environment or talk to
 * an engine or a registry: cli/image_cmd.c does. */
#include "docker/tags.h"

#include <stdlib.h>
#include <string.h>

#include "util/span.h"
#include "util/xalloc.h"

#define NAME_MAX_LEN 255u /* a repository name (distribution's limit) */

static bool is_lower(char c)
{
    return c >= 'a' && c <= 'z';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
    return is_lower(c) || is_digit(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

void tags_list_init(struct tags_list *l)
{
    l->v = NULL;
    l->n = 0;
}

void tags_list_release(struct tags_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    tags_list_init(l);
}

bool tags_valid(const char *tag)
{
    size_t n = tag ? strlen(tag) : 0;

    if (n == 0 || n > TAGS_MAX_LEN || tag[0] == '.' || tag[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!is_alnum(tag[i]) && tag[i] != '_' && tag[i] != '.' &&
            tag[i] != '-')
            return false;
    return true;
}

enum ferr_code tags_list_add(struct tags_list *l, const char *tag,
                             struct ferr *err)
{
    if (!tags_valid(tag)) {
        char q[72];

        return ferr_set(err, FERR_INVALID, NULL,
                        "'%s' is not a valid image tag (1 to %u of "
                        "A-Z a-z 0-9 _ . -, not starting with . or -)",
                        span_quote(tag ? tag : "", tag ? strlen(tag) : 0, q),
                        TAGS_MAX_LEN);
    }
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->v[i], tag) == 0)
            return FERR_OK;
    if (l->n >= TAGS_MAX)
        return ferr_set(err, FERR_LIMIT, NULL, "more than %u image tags",
                        TAGS_MAX);
    l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
    l->v[l->n++] = xstrdup(tag);
    return FERR_OK;
}

char *tags_sanitize(const char *name, size_t reserve)
{
    size_t n = strlen(name);
    size_t max = reserve < TAGS_MAX_LEN ? TAGS_MAX_LEN - reserve : 0;
    char *out = xmalloc(n + 1);
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        char c = name[i];

        if (c >= 'A' && c <= 'Z')
            c = (char)(c - 'A' + 'a');
        if (!is_lower(c) && !is_digit(c) && c != '_' && c != '.')
            c = '-';
        if (c == '-' && (len == 0 || out[len - 1] == '-'))
            continue; /* no leading '-', no runs */
        if (c == '.' && len == 0)
            continue; /* no leading '.' */
        out[len++] = c;
    }
    if (len > max)
        len = max;
    while (len > 0 && (out[len - 1] == '-' || out[len - 1] == '.'))
        len--;
    out[len] = '\0';
    return out;
}

/* "vX.Y.Z" with an optional "-pre" / "+build" suffix: the three numbers'
 * spans in @num; *@pre true when a suffix follows. */
static bool semver(const char *t, struct span num[3], bool *pre)
{
    const char *p = t;

    if (*p++ != 'v')
        return false;
    for (int i = 0; i < 3; i++) {
        const char *d = p;

        while (is_digit(*p))
            p++;
        if (p == d || p - d > 9 || (p - d > 1 && *d == '0'))
            return false;
        num[i] = span_of(d, (size_t)(p - d));
        if (i < 2 && *p++ != '.')
            return false;
    }
    if (*p == '\0') {
        *pre = false;
        return true;
    }
    if (*p != '-' && *p != '+')
        return false;
    if (!p[1])
        return false;
    for (const char *q = p + 1; *q; q++)
        if (!is_alnum(*q) && *q != '.' && *q != '-' && *q != '+')
            return false;
    *pre = true;
    return true;
}

static enum ferr_code add_release(struct tags_list *l, const char *name,
                                  struct ferr *err)
{
    struct span num[3];
    bool pre = false;
    enum ferr_code rc;

    if (semver(name, num, &pre)) {
        char *t = xstrdup(name);

        for (char *p = t; *p; p++)
            if (*p == '+')
                *p = '-';
        rc = tags_list_add(l, t, err);
        free(t);
        if (!rc && !pre) {
            char *mm =
                xasprintf("%.*s.%.*s", SPAN_ARGS(num[0]), SPAN_ARGS(num[1]));

            rc = tags_list_add(l, mm, err);
            free(mm);
        }
        return rc;
    }
    {
        char *t = tags_sanitize(name, 0);

        rc = *t ? tags_list_add(l, t, err) : FERR_OK;
        free(t);
    }
    return rc;
}

static enum ferr_code add_branch(struct tags_list *l, const char *branch,
                                 const char *def, const char *run,
                                 struct ferr *err)
{
    bool has_run = run && *run;
    char *b, *t;
    enum ferr_code rc;

    if (strcmp(branch, def) == 0)
        return tags_list_add(l, "latest", err);
    b = tags_sanitize(branch, has_run ? strlen(run) + 1 : 0);
    if (!*b) {
        free(b);
        return FERR_OK; /* nothing usable in the name */
    }
    t = has_run ? xasprintf("%s-%s", b, run) : xstrdup(b);
    rc = tags_list_add(l, t, err);
    free(t);
    free(b);
    return rc;
}

enum ferr_code tags_scheme(const struct tags_input *in, struct tags_list *l,
                           struct ferr *err)
{
    const char *sha = in->sha ? in->sha : "";
    const char *ref = in->ref ? in->ref : "";
    const char *def =
        in->default_branch && *in->default_branch ? in->default_branch : "main";
    char short_sha[5 + 7 + 1] = "sha-";
    enum ferr_code rc;

    for (size_t i = 0; i < 7; i++) {
        if (!is_hex(sha[i]))
            return ferr_set(err, FERR_INVALID, NULL,
                            "GITHUB_SHA '%.40s' is not a commit id (the "
                            "sha-<7> tag needs one)",
                            sha);
        short_sha[4 + i] =
            (char)(sha[i] >= 'A' && sha[i] <= 'F' ? sha[i] - 'A' + 'a'
                                                  : sha[i]);
    }
    short_sha[11] = '\0';
    if (in->run_number)
        for (const char *p = in->run_number; *p; p++)
            if (!is_digit(*p) || p - in->run_number >= 20)
                return ferr_set(err, FERR_INVALID, NULL,
                                "GITHUB_RUN_NUMBER '%.24s' is not a number",
                                in->run_number);
    rc = tags_list_add(l, short_sha, err);
    if (rc)
        return rc;
    if (strncmp(ref, "refs/heads/", 11) == 0 && ref[11])
        return add_branch(l, ref + 11, def, in->run_number, err);
    if (strncmp(ref, "refs/tags/", 10) == 0 && ref[10])
        return add_release(l, ref + 10, err);
    if (strncmp(ref, "refs/pull/", 10) == 0) {
        const char *p = ref + 10;
        size_t n = 0;

        while (is_digit(p[n]) && n < 20)
            n++;
        if (n > 0 && (p[n] == '/' || p[n] == '\0')) {
            char *t = xasprintf("pr-%.*s", (int)n, p);

            rc = tags_list_add(l, t, err);
            free(t);
        }
        return rc;
    }
    return FERR_OK;
}

/* ---- references ---- */

static bool domain_ok(struct span d)
{
    struct span host = d, port = {NULL, 0};
    const char *colon = memchr(d.p, ':', d.len);

    if (colon) {
        host = span_of(d.p, (size_t)(colon - d.p));
        port = span_of(colon + 1, d.len - host.len - 1);
        if (port.len == 0 || port.len > 5)
            return false;
        for (size_t i = 0; i < port.len; i++)
            if (!is_digit(port.p[i]))
                return false;
    }
    if (host.len == 0)
        return false;
    for (size_t i = 0; i < host.len; i++) {
        char c = host.p[i];
        bool edge = i == 0 || i + 1 == host.len || host.p[i - 1] == '.' ||
                    host.p[i + 1] == '.';

        if (c == '.') {
            if (i == 0 || i + 1 == host.len || host.p[i - 1] == '.')
                return false;
        } else if (c == '-') {
            if (edge)
                return false;
        } else if (!is_alnum(c)) {
            return false;
        }
    }
    return true;
}

/* One path component: [a-z0-9]+ joined by '.', '_', '__' or '-'+. */
static bool component_ok(struct span c)
{
    size_t i = 0;

    while (i < c.len) {
        char ch = c.p[i];

        if (is_lower(ch) || is_digit(ch)) {
            i++;
            continue;
        }
        if (i == 0)
            return false; /* starts with a separator */
        if (ch == '.')
            i++;
        else if (ch == '_')
            i += i + 1 < c.len && c.p[i + 1] == '_' ? 2 : 1;
        else if (ch == '-')
            while (i < c.len && c.p[i] == '-')
                i++;
        else
            return false;
        /* a separator is followed by an alphanumeric */
        if (i >= c.len || !(is_lower(c.p[i]) || is_digit(c.p[i])))
            return false;
    }
    return c.len > 0;
}

static bool is_registry(struct span first)
{
    return memchr(first.p, '.', first.len) || memchr(first.p, ':', first.len) ||
           span_eq_cstr(first, "localhost");
}

static bool repo_ok(struct span repo, struct span *registry)
{
    struct span rest = repo, comp;
    bool first = true;

    registry->p = NULL;
    registry->len = 0;
    if (repo.len == 0 || repo.len > NAME_MAX_LEN)
        return false;
    while (rest.len) {
        bool more = span_cut(rest, '/', &comp, &rest);

        if (first && more && is_registry(comp)) {
            if (!domain_ok(comp))
                return false;
            *registry = comp;
        } else if (!component_ok(comp)) {
            return false;
        }
        if (more && rest.len == 0)
            return false; /* a trailing '/' */
        first = false;
    }
    /* a registry alone is not a repository */
    return !(registry->p && registry->len == repo.len);
}

static bool digest_ok(struct span d)
{
    const char *colon = memchr(d.p, ':', d.len);
    size_t alen, hlen;

    if (!colon)
        return false;
    alen = (size_t)(colon - d.p);
    hlen = d.len - alen - 1;
    if (alen == 0 || hlen < 32 || hlen > 128)
        return false;
    for (size_t i = 0; i < alen; i++)
        if (!is_lower(d.p[i]) && !is_digit(d.p[i]) && d.p[i] != '+' &&
            d.p[i] != '.' && d.p[i] != '_' && d.p[i] != '-')
            return false;
    for (size_t i = 0; i < hlen; i++)
        if (!is_digit(colon[1 + i]) &&
            !(colon[1 + i] >= 'a' && colon[1 + i] <= 'f'))
            return false;
    return true;
}

enum ferr_code tags_parse_ref(const char *ref, char **out_repo, char **out_tag,
                              char **out_digest, char **out_registry,
                              struct ferr *err)
{
    struct span all = span_cstr(ref ? ref : "");
    struct span name = all, digest = {NULL, 0}, tag = {NULL, 0};
    struct span registry;
    const char *at = memchr(all.p, '@', all.len);
    const char *slash, *colon = NULL;
    char q[72];

    *out_repo = NULL;
    *out_tag = NULL;
    *out_digest = NULL;
    if (out_registry)
        *out_registry = NULL;
    if (at) {
        name = span_of(all.p, (size_t)(at - all.p));
        digest = span_of(at + 1, all.len - name.len - 1);
        if (!digest_ok(digest))
            goto bad;
    }
    slash = name.len ? memrchr(name.p, '/', name.len) : NULL;
    {
        const char *from = slash ? slash + 1 : name.p;

        colon = memchr(from, ':', name.len - (size_t)(from - name.p));
    }
    if (colon) {
        tag = span_of(colon + 1, name.len - (size_t)(colon + 1 - name.p));
        name = span_of(name.p, (size_t)(colon - name.p));
        {
            char *t = xstrndup(tag.p, tag.len);
            bool ok = tags_valid(t);

            free(t);
            if (!ok)
                goto bad;
        }
    }
    if (!repo_ok(name, &registry))
        goto bad;
    *out_repo = xstrndup(name.p, name.len);
    if (tag.p)
        *out_tag = xstrndup(tag.p, tag.len);
    if (digest.p)
        *out_digest = xstrndup(digest.p, digest.len);
    if (out_registry && registry.p)
        *out_registry = xstrndup(registry.p, registry.len);
    return FERR_OK;
bad:
    return ferr_set(err, FERR_INVALID, NULL,
                    "'%s' is not an image reference (REGISTRY/NAME[:TAG]"
                    "[@sha256:DIGEST], the name in lower case)",
                    span_quote(all.p, all.len, q));
}
