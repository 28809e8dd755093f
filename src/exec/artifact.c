/* artifact: a content-addressed file store for upload/download-artifact
 * and actions/cache, plus hashFiles(), and for the server a listing and
 * a ustar export of a run's artifacts.  Files are hashed and copied in one
 * streaming pass into HOME/blobs/<sha256>; a named set is a JSON manifest
 * (path, sha256, mode, size) written atomically.  Path selection follows
 * @actions/glob as upload-artifact uses it (lines, '!' excludes, a match
 * on a directory takes everything below it).  Directory symlinks are never
 * followed.  No compression, no garbage collection of unused blobs. */
#include "exec/artifact.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "pipeline/glob.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/log.h"
#include "util/xalloc.h"

#define CHUNK (128u * 1024u)
#define PATH_LIM 4096u

struct artifact_store {
    char *home;   /* absolute or as given; no trailing slash */
    char *blobs;  /* HOME/blobs */
    char *tmp;    /* HOME/tmp: temp files, renamed into blobs/ */
};

/* One line of a path list, normalised (no "./", no "..", no '!'). */
struct pat {
    char *text;   /* "" for the root itself */
    char *desc;   /* text + slash + "**": what lies below a match */
    bool neg;
    bool literal; /* no glob characters: compared as a path */
};

struct patlist {
    struct pat *p;
    size_t n, cap;
};

enum ent_kind { ENT_FILE, ENT_LINK };

/* A file the walk found and the patterns selected. */
struct ent {
    char *rel;        /* relative to root */
    char *src;        /* absolute path to read instead (resolved link) */
    char *link;       /* ENT_LINK: the target as stored */
    enum ent_kind kind;
    uint64_t size;
    unsigned mode;    /* permission bits */
    char sha[65];
};

struct entlist {
    struct ent *e;
    size_t n, cap;
};

/* What a walk is for: which symlinks it keeps and how. */
enum walk_mode { WM_UPLOAD, WM_CACHE, WM_HASH };

struct walker {
    const struct patlist *pats;
    struct entlist *out;
    enum walk_mode mode;
    const char *root_real;  /* WM_UPLOAD: realpath of root */
};

/* ---- names ------------------------------------------------------------ */

/* A manifest path must be plain: relative, no empty, "." or ".."
 * component, no trailing slash. */
static bool safe_path(const char *p)
{
    struct ferr scratch;
    const char *c = p;

    ferr_clear(&scratch);
    if (workspace_check_relpath(p, &scratch))
        return false;
    for (;;) {
        const char *slash = strchr(c, '/');
        size_t n = slash ? (size_t)(slash - c) : strlen(c);

        if (n == 0 || n > NAME_MAX || (n == 1 && c[0] == '.'))
            return false;
        if (!slash)
            return true;
        c = slash + 1;
    }
}

static enum ferr_code check_scope(const char *scope, struct ferr *err)
{
    if (!scope || !safe_path(scope))
        return ferr_set(err, FERR_INVALID, NULL, "invalid scope '%s'",
                        scope ? scope : "");
    return FERR_OK;
}

static enum ferr_code check_artifact_name(const char *name, struct ferr *err)
{
    static const char bad[] = "\":<>|*?\r\n\\/";
    enum ferr_code rc;
    const char *c;

    rc = workspace_check_relpath(name, err);
    if (rc) {
        ferr_prefix(err, "invalid artifact name");
        return rc;
    }
    if (strlen(name) > LIM_ARTIFACT_NAME)
        return ferr_set(err, FERR_INVALID, NULL,
                        "artifact name is longer than %u bytes",
                        LIM_ARTIFACT_NAME);
    c = strpbrk(name, bad);
    if (c) {
        char shown[3] = { *c, '\0', '\0' };

        if (*c == '\r' || *c == '\n') {
            shown[0] = '\\';
            shown[1] = *c == '\r' ? 'r' : 'n';
        }
        return ferr_set(err, FERR_INVALID, NULL,
                        "artifact name '%s' contains the invalid character "
                        "'%s'",
                        name, shown);
    }
    if (!strcmp(name, "."))
        return ferr_set(err, FERR_INVALID, NULL,
                        "invalid artifact name '%s'", name);
    return FERR_OK;
}

static enum ferr_code check_cache_key(const char *key, struct ferr *err)
{
    if (!key || !*key)
        return ferr_set(err, FERR_INVALID, NULL, "empty cache key");
    if (strlen(key) > LIM_CACHE_KEY)
        return ferr_set(err, FERR_INVALID, NULL,
                        "cache key is longer than %u bytes", LIM_CACHE_KEY);
    if (strchr(key, ','))
        return ferr_set(err, FERR_INVALID, NULL,
                        "cache key '%s' must not contain commas", key);
    return FERR_OK;
}

static void hex32(const unsigned char *md, char out[65])
{
    static const char digits[] = "0123456789abcdef";

    for (int i = 0; i < 32; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    out[64] = '\0';
}

static void sha256_hex(const void *p, size_t n, char out[65])
{
    unsigned char md[32];
    unsigned len = 0;

    EVP_Digest(p, n, md, &len, EVP_sha256(), NULL);
    hex32(md, out);
}

/* The manifest path of a set, after checking scope and name. */
static enum ferr_code manifest_path(const struct artifact_store *s,
                                    enum artifact_kind kind,
                                    const char *scope, const char *name,
                                    char **out_dir, char **out,
                                    struct ferr *err)
{
    char hex[65];
    enum ferr_code rc;
    const char *file = name;

    *out = NULL;
    *out_dir = NULL;
    rc = check_scope(scope, err);
    if (rc)
        return rc;
    if (kind == ARTIFACT_CACHE) {
        rc = check_cache_key(name, err);
        if (rc)
            return rc;
        sha256_hex(name, strlen(name), hex);
        file = hex;
    } else {
        rc = check_artifact_name(name, err);
        if (rc)
            return rc;
    }
    *out_dir = xasprintf("%s/%s/%s", s->home,
                         kind == ARTIFACT_CACHE ? "caches" : "artifacts",
                         scope);
    *out = xasprintf("%s/%s.json", *out_dir, file);
    return FERR_OK;
}

/* ---- store ------------------------------------------------------------ */

enum ferr_code artifact_store_open(const char *home,
                                   struct artifact_store **out,
                                   struct ferr *err)
{
    struct artifact_store *s;
    enum ferr_code rc;
    size_t n;

    *out = NULL;
    if (!home || !*home)
        return ferr_set(err, FERR_INVALID, NULL, "empty store directory");
    s = xcalloc(1, sizeof(*s));
    n = strlen(home);
    while (n > 1 && home[n - 1] == '/')
        n--;
    s->home = xstrndup(home, n);
    s->blobs = xasprintf("%s/blobs", s->home);
    s->tmp = xasprintf("%s/tmp", s->home);
    rc = workspace_mkdirs(s->blobs, err);
    if (!rc)
        rc = workspace_mkdirs(s->tmp, err);
    if (rc) {
        ferr_prefix(err, "open artifact store");
        artifact_store_free(s);
        return rc;
    }
    *out = s;
    return FERR_OK;
}

void artifact_store_free(struct artifact_store *s)
{
    if (!s)
        return;
    free(s->home);
    free(s->blobs);
    free(s->tmp);
    free(s);
}

/* ---- patterns --------------------------------------------------------- */

static void patlist_release(struct patlist *pl)
{
    for (size_t i = 0; i < pl->n; i++) {
        free(pl->p[i].text);
        free(pl->p[i].desc);
    }
    free(pl->p);
    memset(pl, 0, sizeof(*pl));
}

/* Normalise one pattern (already trimmed, '!' removed) relative to the
 * root: drop "." and empty components, resolve ".." lexically (escaping
 * is an error).  @root_abs, when not NULL, is a prefix an absolute
 * pattern may carry (hashFiles('${{ github.workspace }}/x')). */
static enum ferr_code normalize(const char *line, const char *root_abs,
                                char **out, struct ferr *err)
{
    struct buf b;
    const char *c = line;
    size_t *starts = NULL;
    size_t depth = 0;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    if (line[0] == '~')
        return ferr_set(err, FERR_UNSUPPORTED, NULL,
                        "'~' is not supported in path '%s'", line);
    if (line[0] == '/') {
        size_t n = root_abs ? strlen(root_abs) : 0;

        if (!n || strncmp(line, root_abs, n) || (line[n] && line[n] != '/'))
            return ferr_set(err, FERR_INVALID, NULL,
                            "path '%s' must be relative", line);
        c = line + n;
    }
    if (strlen(c) > PATH_LIM)
        return ferr_set(err, FERR_INVALID, NULL,
                        "path is longer than %u bytes", PATH_LIM);
    buf_init(&b, PATH_LIM);
    starts = xmalloc((strlen(c) / 2 + 2) * sizeof(*starts));
    while (*c) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);

        if (n == 0 || (n == 1 && c[0] == '.')) {
            /* nothing */
        } else if (n == 2 && c[0] == '.' && c[1] == '.') {
            if (depth == 0) {
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "path '%s' escapes the root", line);
                goto done;
            }
            b.len = starts[--depth];
            b.p[b.len] = '\0';
        } else {
            starts[depth++] = b.len;
            if ((b.len && buf_addch(&b, '/')) || buf_add(&b, c, n)) {
                rc = ferr_set(err, FERR_INVALID, NULL, "path is too long");
                goto done;
            }
        }
        c += n;
        if (*c == '/')
            c++;
    }
    *out = buf_take(&b, NULL);
done:
    free(starts);
    buf_release(&b);
    return rc;
}

/* Parse a newline-separated list as @actions/glob does: surrounding
 * whitespace trimmed, empty lines and '#' comments skipped, each leading
 * '!' flips the pattern to an exclude. */
static enum ferr_code parse_patterns(const char *text, const char *root_abs,
                                     struct patlist *pl, struct ferr *err)
{
    struct span rest = span_cstr(text);
    struct span line;
    enum ferr_code rc = FERR_OK;

    memset(pl, 0, sizeof(*pl));
    while (rest.len > 0) {
        struct pat *p;
        char *lz;
        const char *l;
        bool neg = false;

        span_cut(rest, '\n', &line, &rest);
        line = span_trim(line);
        if (line.len == 0 || line.p[0] == '#')
            continue;
        lz = xstrndup(line.p, line.len);
        if (strlen(lz) != line.len) {
            free(lz);
            rc = ferr_set(err, FERR_INVALID, NULL, "path contains NUL");
            break;
        }
        l = lz;
        while (*l == '!') {
            neg = !neg;
            l++;
        }
        if (!*l) {
            rc = ferr_set(err, FERR_INVALID, NULL, "empty exclude pattern");
            free(lz);
            break;
        }
        if (pl->n == pl->cap) {
            pl->cap = pl->cap ? pl->cap * 2 : 8;
            pl->p = xrealloc(pl->p, pl->cap * sizeof(*pl->p));
        }
        p = &pl->p[pl->n];
        memset(p, 0, sizeof(*p));
        rc = normalize(l, root_abs, &p->text, err);
        free(lz);
        if (rc)
            break;
        pl->n++;
        p->neg = neg;
        p->literal = !strpbrk(p->text, "*?[");
        p->desc = p->text[0] ? xasprintf("%s/**", p->text) : xstrdup("**");
        if (!p->literal &&
            (rc = glob_check(span_cstr(p->text), NULL, err)) != FERR_OK)
            break;
    }
    return rc;
}

static bool pat_match(const struct pat *p, const char *rel)
{
    size_t n;

    if (p->literal) {
        n = strlen(p->text);
        return n == 0 ||
               (!strncmp(rel, p->text, n) && (!rel[n] || rel[n] == '/'));
    }
    return glob_match(span_cstr(p->text), span_cstr(rel)) ||
           glob_match(span_cstr(p->desc), span_cstr(rel));
}

/* @actions/glob's rule: the last pattern that matches decides. */
static bool selected(const struct patlist *pl, const char *rel)
{
    bool in = false;

    for (size_t i = 0; i < pl->n; i++)
        if (pl->p[i].neg ? in : !in)
            if (pat_match(&pl->p[i], rel))
                in = !pl->p[i].neg;
    return in;
}

/* Where to start walking for pattern @p: the leading components without
 * glob characters. */
static char *search_path(const struct pat *p)
{
    const char *c = p->text;
    const char *keep = p->text;

    if (p->literal)
        return xstrdup(p->text);
    while (*c) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);

        if (memchr(c, '*', n) || memchr(c, '?', n) || memchr(c, '[', n) ||
            memchr(c, '+', n) || memchr(c, '\\', n))
            break;
        keep = c + n;
        c += n;
        if (*c == '/')
            c++;
    }
    return xstrndup(p->text, (size_t)(keep - p->text));
}

static int cmp_cstr(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool under(const char *path, const char *dir)
{
    size_t n = strlen(dir);

    return n == 0 || (!strncmp(path, dir, n) && path[n] == '/');
}

/* The distinct search paths of the positive patterns, none below another
 * (what @actions/glob's getSearchPaths returns). */
static char **search_paths(const struct patlist *pl, size_t *out_n)
{
    char **sp = xcalloc(pl->n + 1, sizeof(*sp));
    size_t n = 0;
    size_t w = 0;

    for (size_t i = 0; i < pl->n; i++)
        if (!pl->p[i].neg)
            sp[n++] = search_path(&pl->p[i]);
    qsort(sp, n, sizeof(*sp), cmp_cstr);
    for (size_t i = 0; i < n; i++) {
        bool drop = false;

        for (size_t j = 0; j < w && !drop; j++)
            drop = !strcmp(sp[i], sp[j]) || under(sp[i], sp[j]);
        if (drop)
            free(sp[i]);
        else
            sp[w++] = sp[i];
    }
    *out_n = w;
    return sp;
}

static void free_strv(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- walking ---------------------------------------------------------- */

static void entlist_release(struct entlist *el)
{
    for (size_t i = 0; i < el->n; i++) {
        free(el->e[i].rel);
        free(el->e[i].src);
        free(el->e[i].link);
    }
    free(el->e);
    memset(el, 0, sizeof(*el));
}

static struct ent *ent_add(struct entlist *el, const char *rel,
                           enum ent_kind kind)
{
    struct ent *e;

    if (el->n == el->cap) {
        el->cap = el->cap ? el->cap * 2 : 64;
        el->e = xrealloc(el->e, el->cap * sizeof(*el->e));
    }
    e = &el->e[el->n++];
    memset(e, 0, sizeof(*e));
    e->rel = xstrdup(rel);
    e->kind = kind;
    return e;
}

/* Consider the non-directory @name in @dir, at @rel below the root. */
static enum ferr_code visit(struct walker *w, int dir, const char *name,
                            const char *rel, const struct stat *st,
                            struct ferr *err)
{
    struct ent *e;

    if (!S_ISREG(st->st_mode) && !S_ISLNK(st->st_mode))
        return FERR_OK;
    if (!selected(w->pats, rel))
        return FERR_OK;
    if (S_ISREG(st->st_mode)) {
        e = ent_add(w->out, rel, ENT_FILE);
        e->size = (uint64_t)st->st_size;
        e->mode = st->st_mode & 0777;
        return FERR_OK;
    }
    if (w->mode == WM_HASH)
        return FERR_OK;
    if (w->mode == WM_CACHE) {
        /* caches keep links as links, like the tar actions/cache uses */
        char target[PATH_LIM + 1];
        ssize_t n = readlinkat(dir, name, target, sizeof(target));

        if (n < 0 || (size_t)n >= sizeof(target))
            return ferr_set(err, FERR_IO, NULL, "cannot read link '%s': %s",
                            rel, n < 0 ? strerror(errno) : "too long");
        target[n] = '\0';
        e = ent_add(w->out, rel, ENT_LINK);
        e->link = xstrdup(target);
        e->mode = 0777;
        return FERR_OK;
    }
    /* upload: a link to a regular file inside the root is uploaded as
     * that file's content, as upload-artifact follows links; others are
     * left out */
    {
        char *full = xasprintf("%s/%s", w->root_real, rel);
        char *res = realpath(full, NULL);
        struct stat ts;

        free(full);
        if (res && under(res, w->root_real) && stat(res, &ts) == 0 &&
            S_ISREG(ts.st_mode)) {
            e = ent_add(w->out, rel, ENT_FILE);
            e->src = res;
            e->size = (uint64_t)ts.st_size;
            e->mode = ts.st_mode & 0777;
            return FERR_OK;
        }
        free(res);
    }
    return FERR_OK;
}

/* Walk directory @fd (owned: closed here) found at @rel. */
static enum ferr_code walk_dir(struct walker *w, int fd, const char *rel,
                               unsigned depth, struct ferr *err)
{
    struct dirent *de;
    enum ferr_code rc = FERR_OK;
    DIR *d;

    if (depth > LIM_TREE_DEPTH) {
        close(fd);
        return ferr_set(err, FERR_LIMIT, NULL,
                        "directories nested deeper than %u at '%s'",
                        LIM_TREE_DEPTH, rel);
    }
    d = fdopendir(fd);
    if (!d) {
        close(fd);
        return ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", rel,
                        strerror(errno));
    }
    while (!rc) {
        struct stat st;
        char *child;

        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s",
                              rel, strerror(errno));
            break;
        }
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            continue; /* vanished */
        child = *rel ? xasprintf("%s/%s", rel, de->d_name)
                     : xstrdup(de->d_name);
        if (S_ISDIR(st.st_mode)) {
            int cfd = openat(dirfd(d), de->d_name,
                             O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

            if (cfd < 0)
                rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s",
                              child, strerror(errno));
            else
                rc = walk_dir(w, cfd, child, depth + 1, err);
        } else {
            rc = visit(w, dirfd(d), de->d_name, child, &st, err);
        }
        free(child);
    }
    closedir(d);
    return rc;
}

/* Open the parent directory of @rel below @rootfd without following any
 * symlink, creating missing directories when @create; *out_base points
 * into @rel at the last component.  Returns -1 with errno set. */
static int walk_parent(int rootfd, const char *rel, bool create,
                       const char **out_base)
{
    const char *c = rel;
    int fd = dup(rootfd);

    *out_base = rel;
    if (fd < 0)
        return -1;
    for (;;) {
        const char *slash = strchr(c, '/');
        char comp[NAME_MAX + 1];
        size_t n;
        int next;

        if (!slash) {
            *out_base = c;
            return fd;
        }
        n = (size_t)(slash - c);
        if (n > NAME_MAX) {
            close(fd);
            errno = ENAMETOOLONG;
            return -1;
        }
        memcpy(comp, c, n);
        comp[n] = '\0';
        if (create && mkdirat(fd, comp, 0755) < 0 && errno != EEXIST) {
            int e = errno;

            close(fd);
            errno = e;
            return -1;
        }
        next = openat(fd, comp,
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        close(fd);
        if (next < 0)
            return -1;
        fd = next;
        c = slash + 1;
    }
}

/* Walk from one search path @sp (may be "" for the root). */
static enum ferr_code walk_search_path(struct walker *w, int rootfd,
                                       const char *sp, struct ferr *err)
{
    struct stat st;
    const char *base;
    enum ferr_code rc = FERR_OK;
    int pfd;
    int fd;

    if (!*sp) {
        fd = dup(rootfd);
        if (fd < 0)
            return ferr_set(err, FERR_IO, NULL, "dup: %s", strerror(errno));
        return walk_dir(w, fd, "", 0, err);
    }
    pfd = walk_parent(rootfd, sp, false, &base);
    if (pfd < 0)
        return FERR_OK; /* missing, or behind a symlink: nothing there */
    if (fstatat(pfd, base, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        close(pfd);
        return FERR_OK;
    }
    if (S_ISDIR(st.st_mode)) {
        fd = openat(pfd, base, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                   O_CLOEXEC);
        if (fd < 0)
            rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", sp,
                          strerror(errno));
        else
            rc = walk_dir(w, fd, sp, 1, err);
    } else {
        rc = visit(w, pfd, base, sp, &st, err);
    }
    close(pfd);
    return rc;
}

static int cmp_ent(const void *a, const void *b)
{
    return strcmp(((const struct ent *)a)->rel, ((const struct ent *)b)->rel);
}

/* Select the entries under @rootfd matched by @pl, sorted by path. */
static enum ferr_code collect(int rootfd, const struct patlist *pl,
                              enum walk_mode mode, const char *root_real,
                              struct entlist *out, char ***out_sp,
                              size_t *out_nsp, struct ferr *err)
{
    struct walker w = { pl, out, mode, root_real };
    enum ferr_code rc = FERR_OK;
    char **sp;
    size_t nsp;
    size_t k = 0;

    memset(out, 0, sizeof(*out));
    sp = search_paths(pl, &nsp);
    for (size_t i = 0; i < nsp && !rc; i++)
        rc = walk_search_path(&w, rootfd, sp[i], err);
    if (!rc && out->n > 1) {
        qsort(out->e, out->n, sizeof(*out->e), cmp_ent);
        /* a file reached twice (it cannot, search paths are disjoint,
         * but a duplicate must never reach a manifest) */
        for (size_t i = 0; i < out->n; i++) {
            if (k > 0 && !strcmp(out->e[i].rel, out->e[k - 1].rel)) {
                free(out->e[i].rel);
                free(out->e[i].src);
                free(out->e[i].link);
                continue;
            }
            out->e[k++] = out->e[i];
        }
        out->n = k;
    }
    if (out_sp) {
        *out_sp = sp;
        *out_nsp = nsp;
    } else {
        free_strv(sp, nsp);
    }
    return rc;
}

/* ---- blobs ------------------------------------------------------------ */

/* The directory of the previous entry, kept open: entries come sorted,
 * so neighbours mostly share it and a path is walked once per directory,
 * not once per file. */
struct dcache {
    char *dir;   /* relative directory of the cached fd; NULL = none */
    int fd;      /* -1 when none */
    bool create; /* make missing directories (restore) */
};


static void dcache_release(struct dcache *c)
{
    if (c->fd >= 0)
        close(c->fd);
    free(c->dir);
    c->dir = NULL;
    c->fd = -1;
}

/* The directory holding @rel below @rootfd (borrowed: valid until the
 * next call), never reached through a symlink; -1 with errno set. */
static int dcache_get(struct dcache *c, int rootfd, const char *rel,
                      const char **out_base)
{
    const char *slash = strrchr(rel, '/');
    size_t n = slash ? (size_t)(slash - rel) : 0;

    *out_base = slash ? slash + 1 : rel;
    if (!slash)
        return rootfd;
    if (c->fd >= 0 && strlen(c->dir) == n && !memcmp(c->dir, rel, n))
        return c->fd;
    dcache_release(c);
    c->fd = walk_parent(rootfd, rel, c->create, out_base);
    if (c->fd >= 0)
        c->dir = xstrndup(rel, n);
    return c->fd;
}

static int open_entry(struct dcache *c, int rootfd, const struct ent *e)
{
    const char *base;
    int pfd;

    if (e->src)
        return open(e->src, O_RDONLY | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    pfd = dcache_get(c, rootfd, e->rel, &base);
    if (pfd < 0)
        return -1;
    return openat(pfd, base,
                  O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
}

static enum ferr_code write_all(int fd, const char *p, size_t n,
                                const char *what, struct ferr *err)
{
    while (n > 0) {
        ssize_t w = write(fd, p, n);

        if (w < 0 && errno == EINTR)
            continue;
        if (w < 0)
            return ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s",
                            what, strerror(errno));
        p += w;
        n -= (size_t)w;
    }
    return FERR_OK;
}

/* Copy @in to a temp file while hashing it, then move it to blobs/<sha>
 * unless that blob exists.  *@total counts bytes against @limit. */
static enum ferr_code put_blob(const struct artifact_store *s, int in,
                               const char *what, uint64_t *total,
                               uint64_t limit, char sha[65],
                               uint64_t *out_size, bool *out_new,
                               struct ferr *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned mdlen = 0;
    struct stat st;
    char *tmp = xasprintf("%s/blob.XXXXXX", s->tmp);
    char *blob = NULL;
    char *buf = xmalloc(CHUNK);
    enum ferr_code rc = FERR_OK;
    uint64_t size = 0;
    int out;

    *out_new = false;
    *out_size = 0;
    if (!ctx)
        abort(); /* out of memory, as xmalloc */
    out = mkostemp(tmp, O_CLOEXEC);
    if (out < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", tmp,
                      strerror(errno));
        goto done;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (;;) {
        ssize_t n = read(in, buf, CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", what,
                          strerror(errno));
            break;
        }
        if (n == 0)
            break;
        if ((uint64_t)n > limit - *total) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "files are larger than %llu bytes in total",
                          (unsigned long long)limit);
            break;
        }
        *total += (uint64_t)n;
        size += (uint64_t)n;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        rc = write_all(out, buf, (size_t)n, tmp, err);
        if (rc)
            break;
    }
    if (!rc && fchmod(out, 0444) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot chmod '%s': %s", tmp,
                      strerror(errno));
    if (close(out) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (rc)
        goto done;
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    hex32(md, sha);
    blob = xasprintf("%s/%s", s->blobs, sha);
    if (stat(blob, &st) == 0 && S_ISREG(st.st_mode) &&
        (uint64_t)st.st_size == size)
        goto done; /* reuse; the temp file goes */
    if (rename(tmp, blob) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot store '%s': %s", blob,
                      strerror(errno));
        goto done;
    }
    *out_new = true;
done:
    if (out >= 0 && !*out_new)
        unlink(tmp);
    if (!rc)
        *out_size = size;
    free(blob);
    free(buf);
    free(tmp);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* ---- manifests -------------------------------------------------------- */

/* Write @text to @path atomically; with @exclusive an existing file is
 * kept and *@out_kept set. */
static enum ferr_code write_manifest(const char *path, const char *text,
                                     bool exclusive, bool *out_kept,
                                     struct ferr *err)
{
    const char *slash = strrchr(path, '/');
    /* a short temp name: a long @path may already be at NAME_MAX */
    char *tmp = xasprintf("%.*s/.manifest.XXXXXX",
                          slash ? (int)(slash - path) : 1,
                          slash ? path : ".");
    enum ferr_code rc = FERR_OK;
    int fd;

    *out_kept = false;
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", tmp,
                      strerror(errno));
        free(tmp);
        return rc;
    }
    rc = write_all(fd, text, strlen(text), tmp, err);
    if (!rc && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (!rc && exclusive) {
        if (link(tmp, path) < 0) {
            if (errno == EEXIST)
                *out_kept = true;
            else
                rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s",
                              path, strerror(errno));
        }
    } else if (!rc && rename(tmp, path) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", path,
                      strerror(errno));
    }
    if (rc || exclusive)
        unlink(tmp);
    free(tmp);
    return rc;
}

/* Bytes of the leading whole components @a and @b share. */
static size_t common_components(const char *a, const char *b)
{
    size_t last = 0;

    for (size_t i = 0;; i++) {
        bool enda = a[i] == '\0' || a[i] == '/';
        bool endb = b[i] == '\0' || b[i] == '/';

        if (enda && endb) {
            last = i;
            if (!a[i] || !b[i])
                return last;
        } else if (a[i] != b[i]) {
            return last;
        }
    }
}

/* The directory stored paths are relative to, following upload-artifact:
 * several search paths -> their least common ancestor; one search path
 * that is the single file found -> its directory; else the search path.
 * Caches keep paths relative to the root (actions/cache restores them in
 * place). */
static char *upload_base(char **sp, size_t nsp, const struct entlist *el)
{
    size_t len;

    if (nsp == 0)
        return xstrdup("");
    if (nsp == 1) {
        if (el->n == 1 && !strcmp(el->e[0].rel, sp[0])) {
            const char *slash = strrchr(sp[0], '/');

            return slash ? xstrndup(sp[0], (size_t)(slash - sp[0]))
                         : xstrdup("");
        }
        return xstrdup(sp[0]);
    }
    len = strlen(sp[0]);
    for (size_t i = 1; i < nsp; i++) {
        size_t k = common_components(sp[0], sp[i]);

        if (k < len)
            len = k;
    }
    return xstrndup(sp[0], len);
}

/* @rel as stored: relative to @base, which is normally its ancestor. */
static const char *stored_rel(const char *rel, const char *base)
{
    size_t n = strlen(base);
    const char *slash;

    if (n == 0)
        return rel;
    if (!strncmp(rel, base, n) && rel[n] == '/')
        return rel + n + 1;
    slash = strrchr(rel, '/');
    return slash ? slash + 1 : rel;
}

static enum ferr_code json_set_str(json_t *o, const char *key,
                                   const char *val, struct ferr *err)
{
    json_t *s = json_string(val);

    if (!s)
        return ferr_set(err, FERR_INVALID, NULL,
                        "'%s' is not valid UTF-8", val);
    json_object_set_new(o, key, s);
    return FERR_OK;
}

static enum ferr_code build_manifest(enum artifact_kind kind,
                                     const char *name,
                                     const struct entlist *el,
                                     const char *base, char **out,
                                     struct ferr *err)
{
    json_t *root = json_object();
    json_t *files = json_array();
    enum ferr_code rc;

    *out = NULL;
    json_object_set_new(root, "version", json_integer(1));
    json_object_set_new(root, "kind",
                        json_string(kind == ARTIFACT_CACHE ? "cache"
                                                           : "artifact"));
    rc = json_set_str(root, kind == ARTIFACT_CACHE ? "key" : "name", name,
                      err);
    for (size_t i = 0; i < el->n && !rc; i++) {
        const struct ent *e = &el->e[i];
        json_t *f = json_object();

        json_array_append_new(files, f);
        rc = json_set_str(f, "path", stored_rel(e->rel, base), err);
        if (rc)
            break;
        if (e->kind == ENT_LINK) {
            rc = json_set_str(f, "link", e->link, err);
            continue;
        }
        json_object_set_new(f, "sha256", json_string(e->sha));
        json_object_set_new(f, "mode", json_integer((json_int_t)e->mode));
        json_object_set_new(f, "size", json_integer((json_int_t)e->size));
    }
    json_object_set_new(root, "files", files);
    if (!rc) {
        *out = json_dumps(root, JSON_INDENT(1));
        if (!*out)
            rc = ferr_set(err, FERR_IO, NULL, "cannot encode manifest");
        else if (strlen(*out) > LIM_MANIFEST_BYTES) {
            free(*out);
            *out = NULL;
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "manifest of %zu files is over %u bytes", el->n,
                          LIM_MANIFEST_BYTES);
        }
    }
    json_decref(root);
    return rc;
}

enum ferr_code artifact_save(struct artifact_store *s, enum artifact_kind kind,
                             const char *scope, const char *name,
                             const char *root, const char *paths,
                             bool if_absent, struct artifact_stats *out_stats,
                             struct ferr *err)
{
    struct patlist pl = { NULL, 0, 0 };
    struct entlist el = { NULL, 0, 0 };
    struct artifact_stats stats = { 0, 0, 0 };
    struct stat st;
    struct dcache dc = { NULL, -1, false };
    char *dir = NULL;
    char *mpath = NULL;
    char *root_real = NULL;
    char *base = NULL;
    char *text = NULL;
    char **sp = NULL;
    size_t nsp = 0;
    uint64_t limit = kind == ARTIFACT_CACHE ? LIM_CACHE_BYTES
                                            : LIM_ARTIFACT_BYTES;
    uint64_t total = 0;
    enum ferr_code rc;
    bool kept = false;
    int rootfd = -1;

    if (out_stats)
        memset(out_stats, 0, sizeof(*out_stats));
    rc = manifest_path(s, kind, scope, name, &dir, &mpath, err);
    if (rc)
        goto done;
    if (if_absent && stat(mpath, &st) == 0)
        goto done;
    rc = parse_patterns(paths ? paths : "", NULL, &pl, err);
    if (rc)
        goto done;
    if (pl.n == 0) {
        rc = ferr_set(err, FERR_INVALID, NULL, "no paths given");
        goto done;
    }
    root_real = realpath(root, NULL);
    rootfd = root_real ? open(root_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
                       : -1;
    if (rootfd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", root,
                      strerror(errno));
        goto done;
    }
    rc = collect(rootfd, &pl,
                 kind == ARTIFACT_CACHE ? WM_CACHE : WM_UPLOAD, root_real,
                 &el, &sp, &nsp, err);
    if (rc)
        goto done;
    if (el.n == 0) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL,
                      "no files were found with the provided path");
        goto done;
    }
    for (size_t i = 0; i < el.n; i++) {
        if (el.e[i].kind != ENT_FILE)
            continue;
        total += el.e[i].size;
        if (total > limit) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "files are larger than %llu bytes in total",
                          (unsigned long long)limit);
            goto done;
        }
    }
    total = 0;
    for (size_t i = 0; i < el.n; i++) {
        struct ent *e = &el.e[i];
        bool created;
        int fd;

        stats.files++;
        if (e->kind != ENT_FILE)
            continue;
        fd = open_entry(&dc, rootfd, e);
        if (fd < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s",
                          e->rel, strerror(errno));
            goto done;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
            close(fd);
            rc = ferr_set(err, FERR_IO, NULL,
                          "'%s' changed while saving", e->rel);
            goto done;
        }
        rc = put_blob(s, fd, e->rel, &total, limit, e->sha, &e->size,
                      &created, err);
        close(fd);
        if (rc)
            goto done;
        stats.bytes += e->size;
        stats.new_blobs += created;
    }
    base = kind == ARTIFACT_CACHE ? xstrdup("") : upload_base(sp, nsp, &el);
    rc = build_manifest(kind, name, &el, base, &text, err);
    if (!rc)
        rc = workspace_mkdirs(dir, err);
    if (!rc)
        rc = write_manifest(mpath, text, if_absent, &kept, err);
    if (!rc && !kept && out_stats)
        *out_stats = stats;
done:
    if (rc)
        ferr_prefix(err, "save %s '%s'",
                    kind == ARTIFACT_CACHE ? "cache" : "artifact", name);
    dcache_release(&dc);
    if (rootfd >= 0)
        close(rootfd);
    free(text);
    free(base);
    free_strv(sp, nsp);
    entlist_release(&el);
    patlist_release(&pl);
    free(root_real);
    free(mpath);
    free(dir);
    return rc;
}

/* ---- restore ---------------------------------------------------------- */

static bool is_hex64(const char *s)
{
    size_t i;

    for (i = 0; s[i]; i++)
        if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
            return false;
    return i == 64;
}

/* A string member without embedded NUL, or NULL. */
static const char *get_str(json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    const char *s;

    if (!json_is_string(v))
        return NULL;
    s = json_string_value(v);
    if (strlen(s) != json_string_length(v))
        return NULL;
    return s;
}

/* Check every entry before anything is written. */
static enum ferr_code check_manifest(json_t *root, json_t **out_files,
                                     struct ferr *err)
{
    json_t *files = json_object_get(root, "files");
    size_t i;
    json_t *f;

    *out_files = NULL;
    if (!json_is_object(root) || !json_is_array(files))
        return ferr_set(err, FERR_INVALID, NULL, "manifest has no files");
    json_array_foreach(files, i, f) {
        const char *path = get_str(f, "path");
        const char *sha = get_str(f, "sha256");
        const char *link = get_str(f, "link");
        json_t *mode = json_object_get(f, "mode");
        json_t *size = json_object_get(f, "size");

        if (!path || !safe_path(path))
            return ferr_set(err, FERR_INVALID, NULL,
                            "manifest entry %zu has an unsafe path '%s'", i,
                            path ? path : "");
        if (link) {
            if (!*link || strlen(link) > PATH_LIM)
                return ferr_set(err, FERR_INVALID, NULL,
                                "manifest entry '%s' has a bad link", path);
            continue;
        }
        if (!sha || !is_hex64(sha) || !json_is_integer(mode) ||
            json_integer_value(mode) < 0 ||
            json_integer_value(mode) > 0777 || !json_is_integer(size) ||
            json_integer_value(size) < 0)
            return ferr_set(err, FERR_INVALID, NULL,
                            "manifest entry '%s' is malformed", path);
    }
    *out_files = files;
    return FERR_OK;
}

/* Copy blob @sha into @pfd/@base, verifying its hash on the way. */
static enum ferr_code restore_file(const struct artifact_store *s, int pfd,
                                   const char *base, const char *rel,
                                   const char *sha, unsigned mode,
                                   uint64_t *out_bytes, struct ferr *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned mdlen = 0;
    char got[65];
    char *blob = xasprintf("%s/%s", s->blobs, sha);
    char *buf = xmalloc(CHUNK);
    enum ferr_code rc = FERR_OK;
    uint64_t n_total = 0;
    int in;
    int out = -1;

    *out_bytes = 0;
    if (!ctx)
        abort(); /* out of memory, as xmalloc */
    in = open(blob, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
    if (in < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "missing blob for '%s': %s", rel,
                      strerror(errno));
        goto done;
    }
    if (unlinkat(pfd, base, 0) < 0 && errno != ENOENT) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot replace '%s': %s", rel,
                      strerror(errno));
        goto done;
    }
    out = openat(pfd, base,
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", rel,
                      strerror(errno));
        goto done;
    }
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (;;) {
        ssize_t n = read(in, buf, CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read blob '%s': %s",
                          sha, strerror(errno));
            break;
        }
        if (n == 0)
            break;
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        n_total += (uint64_t)n;
        rc = write_all(out, buf, (size_t)n, rel, err);
        if (rc)
            break;
    }
    if (!rc) {
        EVP_DigestFinal_ex(ctx, md, &mdlen);
        hex32(md, got);
        if (strcmp(got, sha)) {
            /* a damaged blob must not be reused by later saves */
            unlink(blob);
            rc = ferr_set(err, FERR_IO, NULL,
                          "blob '%s' for '%s' is corrupt", sha, rel);
        }
    }
    if (!rc && fchmod(out, mode & 0777) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot chmod '%s': %s", rel,
                      strerror(errno));
    if (close(out) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", rel,
                      strerror(errno));
    if (rc)
        unlinkat(pfd, base, 0);
    else
        *out_bytes = n_total;
done:
    if (in >= 0)
        close(in);
    free(buf);
    free(blob);
    EVP_MD_CTX_free(ctx);
    return rc;
}

enum ferr_code artifact_restore(struct artifact_store *s,
                                enum artifact_kind kind, const char *scope,
                                const char *name, const char *dest,
                                struct artifact_stats *out_stats,
                                struct ferr *err)
{
    struct artifact_stats stats = { 0, 0, 0 };
    json_error_t jerr;
    struct dcache dc = { NULL, -1, true };
    json_t *root = NULL;
    json_t *files = NULL;
    json_t *f;
    char *dir = NULL;
    char *mpath = NULL;
    char *text = NULL;
    size_t len = 0;
    size_t i;
    enum ferr_code rc;
    int destfd = -1;

    if (out_stats)
        memset(out_stats, 0, sizeof(*out_stats));
    rc = manifest_path(s, kind, scope, name, &dir, &mpath, err);
    if (rc)
        goto done;
    rc = workspace_read_file(mpath, LIM_MANIFEST_BYTES, &text, &len, err);
    if (rc == FERR_NOTFOUND) {
        ferr_clear(err);
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "no %s named '%s'",
                      kind == ARTIFACT_CACHE ? "cache" : "artifact", name);
        goto done;
    }
    if (rc)
        goto done;
    root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr);
    if (!root) {
        rc = ferr_set(err, FERR_PARSE, NULL, "bad manifest '%s': %s", mpath,
                      jerr.text);
        goto done;
    }
    rc = check_manifest(root, &files, err);
    if (rc)
        goto done;
    rc = workspace_mkdirs(dest, err);
    if (rc)
        goto done;
    destfd = open(dest, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (destfd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", dest,
                      strerror(errno));
        goto done;
    }
    json_array_foreach(files, i, f) {
        const char *path = get_str(f, "path");
        const char *link = get_str(f, "link");
        const char *base;
        int pfd = dcache_get(&dc, destfd, path, &base);

        if (pfd < 0) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "cannot create the directory of '%s': %s", path,
                          strerror(errno));
            break;
        }
        if (link) {
            if ((unlinkat(pfd, base, 0) < 0 && errno != ENOENT) ||
                symlinkat(link, pfd, base) < 0)
                rc = ferr_set(err, FERR_IO, NULL, "cannot link '%s': %s",
                              path, strerror(errno));
        } else {
            uint64_t bytes = 0;

            rc = restore_file(
                s, pfd, base, path, get_str(f, "sha256"),
                (unsigned)json_integer_value(json_object_get(f, "mode")),
                &bytes, err);
            stats.bytes += bytes;
        }
        if (rc)
            break;
        stats.files++;
    }
    if (!rc && out_stats)
        *out_stats = stats;
done:
    if (rc)
        ferr_prefix(err, "restore %s '%s'",
                    kind == ARTIFACT_CACHE ? "cache" : "artifact",
                    name ? name : "");
    dcache_release(&dc);
    if (destfd >= 0)
        close(destfd);
    json_decref(root);
    free(text);
    free(mpath);
    free(dir);
    return rc;
}

bool artifact_exists(struct artifact_store *s, enum artifact_kind kind,
                     const char *scope, const char *name)
{
    struct ferr scratch;
    struct stat st;
    char *dir;
    char *mpath;
    bool ok;

    ferr_clear(&scratch);
    if (manifest_path(s, kind, scope, name, &dir, &mpath, &scratch))
        return false;
    ok = stat(mpath, &st) == 0 && S_ISREG(st.st_mode);
    free(mpath);
    free(dir);
    return ok;
}

/* ---- listing and export ----------------------------------------------- */

#define TAR_BLOCK 512u
#define TAR_RECORD (20u * TAR_BLOCK)
#define TAR_OCTAL11 077777777777ull /* the largest 11-digit octal field */

/* Read manifest @mpath: *@out_root the checked JSON (the caller's),
 * *@out_files its "files" array (borrowed from it), *@out_mtime_ms when
 * it was written.  FERR_NOTFOUND when there is none. */
static enum ferr_code load_manifest(const char *mpath, json_t **out_root,
                                    json_t **out_files,
                                    int64_t *out_mtime_ms, struct ferr *err)
{
    json_error_t jerr;
    struct stat st;
    struct buf b;
    char chunk[64 * 1024];
    enum ferr_code rc = FERR_OK;
    json_t *root = NULL;
    int fd;

    *out_root = NULL;
    *out_files = NULL;
    *out_mtime_ms = 0;
    fd = open(mpath, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0)
        return ferr_set(err, errno == ENOENT ? FERR_NOTFOUND : FERR_IO, NULL,
                        "cannot open '%s': %s", mpath, strerror(errno));
    buf_init(&b, LIM_MANIFEST_BYTES);
    if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = ferr_set(err, FERR_IO, NULL, "'%s' is not a regular file",
                      mpath);
        goto done;
    }
    for (;;) {
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", mpath,
                          strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (buf_add(&b, chunk, (size_t)n)) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "manifest '%s' is over %u bytes", mpath,
                          LIM_MANIFEST_BYTES);
            goto done;
        }
    }
    root = json_loadb(b.len ? b.p : "", b.len, JSON_REJECT_DUPLICATES,
                      &jerr);
    if (!root) {
        rc = ferr_set(err, FERR_PARSE, NULL, "bad manifest '%s': %s", mpath,
                      jerr.text);
        goto done;
    }
    rc = check_manifest(root, out_files, err);
    if (rc)
        goto done;
    *out_root = root;
    root = NULL;
    *out_mtime_ms = (int64_t)st.st_mtim.tv_sec * 1000 +
                    st.st_mtim.tv_nsec / 1000000;
done:
    json_decref(root);
    buf_release(&b);
    close(fd);
    return rc;
}

void artifact_infos_free(struct artifact_info *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++)
        free(v[i].name);
    free(v);
}

static int cmp_info(const void *a, const void *b)
{
    return strcmp(((const struct artifact_info *)a)->name,
                  ((const struct artifact_info *)b)->name);
}

/* The info of manifest @file in @dir (named @name); FERR_NOTFOUND when
 * it should be left out (vanished or damaged: logged). */
static enum ferr_code list_one(const char *dir, const char *file,
                               const char *name, struct artifact_info *out,
                               struct ferr *err)
{
    struct ferr scratch;
    char *mpath = xasprintf("%s/%s", dir, file);
    json_t *root = NULL;
    json_t *files = NULL;
    json_t *f;
    size_t i;
    int64_t mtime = 0;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    ferr_clear(&scratch);
    rc = load_manifest(mpath, &root, &files, &mtime, &scratch);
    if (rc == FERR_IO) {
        rc = ferr_set(err, FERR_IO, NULL, "%s", scratch.msg);
        goto done;
    }
    if (rc) {
        if (rc != FERR_NOTFOUND)
            log_warn("skipping damaged artifact manifest '%s': %s",
                     file, scratch.msg);
        rc = FERR_NOTFOUND;
        goto done;
    }
    json_array_foreach(files, i, f) {
        json_t *size = json_object_get(f, "size");
        uint64_t n = json_is_integer(size) && json_integer_value(size) > 0
                         ? (uint64_t)json_integer_value(size)
                         : 0;

        out->files++;
        out->bytes = n > UINT64_MAX - out->bytes ? UINT64_MAX
                                                 : out->bytes + n;
    }
    out->name = xstrdup(name);
    out->created_ms = mtime;
done:
    json_decref(root);
    free(mpath);
    return rc;
}

enum ferr_code artifact_list(struct artifact_store *s, const char *scope,
                             struct artifact_info **out, size_t *out_n,
                             struct ferr *err)
{
    struct artifact_info *v = NULL;
    struct dirent *de;
    size_t n = 0;
    size_t cap = 0;
    char *dir = NULL;
    enum ferr_code rc;
    DIR *d = NULL;
    int dfd;

    *out = NULL;
    *out_n = 0;
    rc = check_scope(scope, err);
    if (rc)
        goto done;
    dir = xasprintf("%s/artifacts/%s", s->home, scope);
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0) {
        if (errno != ENOENT)
            rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", dir,
                          strerror(errno));
        goto done; /* no such scope: nothing was saved in it */
    }
    d = fdopendir(dfd);
    if (!d) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", dir,
                      strerror(errno));
        close(dfd);
        goto done;
    }
    for (;;) {
        struct ferr scratch;
        struct stat st;
        char *name;
        size_t len;

        errno = 0;
        de = readdir(d);
        if (!de) {
            if (errno)
                rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s",
                              dir, strerror(errno));
            break;
        }
        len = strlen(de->d_name);
        if (len <= 5 || strcmp(de->d_name + len - 5, ".json"))
            continue; /* temp files, nested scopes */
        if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
            !S_ISREG(st.st_mode))
            continue;
        name = xstrndup(de->d_name, len - 5);
        ferr_clear(&scratch);
        if (check_artifact_name(name, &scratch)) {
            free(name);
            continue; /* artifact_save never writes it */
        }
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            v = xrealloc(v, cap * sizeof(*v));
        }
        rc = list_one(dir, de->d_name, name, &v[n], err);
        free(name);
        if (rc == FERR_NOTFOUND) {
            rc = FERR_OK;
            continue;
        }
        if (rc)
            break;
        n++;
    }
    if (!rc && n > 1)
        qsort(v, n, sizeof(*v), cmp_info);
done:
    if (d)
        closedir(d);
    if (rc) {
        ferr_prefix(err, "list artifacts");
        artifact_infos_free(v, n);
    } else if (n) {
        *out = v;
        *out_n = n;
    } else {
        free(v);
    }
    free(dir);
    return rc;
}

/* A tar archive being written: output buffered in CHUNK bytes. */
struct tarw {
    int fd;
    char *buf;
    size_t len;
    uint64_t bytes; /* written or buffered so far */
};

static enum ferr_code tw_flush(struct tarw *t, struct ferr *err)
{
    enum ferr_code rc = write_all(t->fd, t->buf, t->len, "archive", err);

    t->len = 0;
    return rc;
}

static enum ferr_code tw_put(struct tarw *t, const void *p, size_t n,
                             struct ferr *err)
{
    const char *c = p;

    while (n > 0) {
        size_t k = CHUNK - t->len < n ? CHUNK - t->len : n;

        if (c)
            memcpy(t->buf + t->len, c, k);
        else
            memset(t->buf + t->len, 0, k);
        t->len += k;
        t->bytes += k;
        n -= k;
        if (c)
            c += k;
        if (t->len == CHUNK && tw_flush(t, err))
            return FERR_IO;
    }
    return FERR_OK;
}

/* Zeros up to the next multiple of @unit. */
static enum ferr_code tw_pad(struct tarw *t, uint64_t unit, struct ferr *err)
{
    uint64_t rem = t->bytes % unit;

    return rem ? tw_put(t, NULL, (size_t)(unit - rem), err) : FERR_OK;
}

/* @v as zero-padded octal filling @width - 1 bytes, then NUL; @v fits. */
static void tar_octal(char *field, size_t width, uint64_t v)
{
    field[width - 1] = '\0';
    for (size_t i = width - 1; i > 0; i--) {
        field[i - 1] = (char)('0' + (v & 7));
        v >>= 3;
    }
}

/* Fill a ustar header block (@h is TAR_BLOCK zeroed bytes). */
static void tar_header(unsigned char *h, const char *name, size_t name_len,
                       const char *prefix, size_t prefix_len, unsigned mode,
                       uint64_t size, uint64_t mtime, char type)
{
    unsigned sum = 0;

    memcpy(h, name, name_len);
    tar_octal((char *)h + 100, 8, mode & 07777);
    tar_octal((char *)h + 108, 8, 0);
    tar_octal((char *)h + 116, 8, 0);
    tar_octal((char *)h + 124, 12, size);
    tar_octal((char *)h + 136, 12, mtime);
    h[156] = (unsigned char)type;
    memcpy(h + 257, "ustar", 6);
    memcpy(h + 263, "00", 2);
    tar_octal((char *)h + 329, 8, 0);
    tar_octal((char *)h + 337, 8, 0);
    memcpy(h + 345, prefix, prefix_len);
    memset(h + 148, ' ', 8);
    for (size_t i = 0; i < TAR_BLOCK; i++)
        sum += h[i];
    tar_octal((char *)h + 148, 7, sum);
    h[155] = ' ';
}

/* Split @path for the ustar name (<= 100) and prefix (<= 155) fields at
 * a '/'; false when it cannot be. */
static bool tar_split(const char *path, size_t len, size_t *out_prefix)
{
    for (const char *c = strchr(path, '/'); c; c = strchr(c + 1, '/')) {
        size_t pre = (size_t)(c - path);

        if (len - pre - 1 > 100)
            continue;
        if (pre > 155 || pre + 1 == len)
            return false;
        *out_prefix = pre;
        return true;
    }
    return false;
}

static size_t ndigits(size_t v)
{
    size_t n = 1;

    while (v >= 10) {
        v /= 10;
        n++;
    }
    return n;
}

/* Append the pax record "LEN KEY=VALUE\n"; LEN counts itself. */
static enum ferr_code pax_record(struct buf *b, const char *key,
                                 const char *val)
{
    size_t base = strlen(key) + strlen(val) + 3;
    size_t len = base + ndigits(base);

    while (len != base + ndigits(len))
        len = base + ndigits(len);
    return buf_addf(b, "%zu %s=%s\n", len, key, val);
}

/* The header(s) of a regular file at @path: a pax extended header first
 * when the path or size do not fit ustar. */
static enum ferr_code tar_file_header(struct tarw *t, const char *path,
                                      unsigned mode, uint64_t size,
                                      uint64_t mtime, struct ferr *err)
{
    unsigned char h[TAR_BLOCK];
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path; /* for old readers */
    size_t blen = strlen(base);
    size_t len = strlen(path);
    size_t pre = 0;
    bool fits = len <= 100 || tar_split(path, len, &pre);
    enum ferr_code rc = FERR_OK;

    if (!fits || size > TAR_OCTAL11) {
        char *pname;
        struct buf rec;
        char num[24];

        buf_init(&rec, 2 * PATH_LIM);
        if (!fits && pax_record(&rec, "path", path))
            rc = ferr_set(err, FERR_LIMIT, NULL, "path '%s' is too long",
                          path);
        snprintf(num, sizeof(num), "%llu", (unsigned long long)size);
        if (!rc && size > TAR_OCTAL11 && pax_record(&rec, "size", num))
            rc = ferr_set(err, FERR_LIMIT, NULL, "pax header too long");
        /* the extended header's own name only matters to old readers */
        pname = xasprintf("PaxHeaders/%.*s", (int)(blen > 89 ? 89 : blen),
                          base);
        memset(h, 0, sizeof(h));
        tar_header(h, pname, strlen(pname), "", 0, 0644, rec.len, mtime,
                   'x');
        free(pname);
        if (!rc)
            rc = tw_put(t, h, sizeof(h), err);
        if (!rc)
            rc = tw_put(t, rec.p, rec.len, err);
        if (!rc)
            rc = tw_pad(t, TAR_BLOCK, err);
        buf_release(&rec);
        if (rc)
            return rc;
    }
    if (size > TAR_OCTAL11)
        size = 0; /* the pax header has it */
    memset(h, 0, sizeof(h));
    if (len <= 100)
        tar_header(h, path, len, "", 0, mode, size, mtime, '0');
    else if (fits)
        tar_header(h, path + pre + 1, len - pre - 1, path, pre, mode, size,
                   mtime, '0');
    else
        tar_header(h, base, blen > 100 ? 100 : blen, "", 0, mode, size,
                   mtime, '0');
    return tw_put(t, h, sizeof(h), err);
}

/* Append blob @sha as the contents of @path, verifying its hash. */
static enum ferr_code tar_file(const struct artifact_store *s,
                               struct tarw *t, const char *path,
                               const char *sha, unsigned mode,
                               uint64_t want_size, uint64_t mtime,
                               struct ferr *err)
{
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char md[32];
    unsigned mdlen = 0;
    struct stat st;
    char got[65];
    char *blob = xasprintf("%s/%s", s->blobs, sha);
    char *buf = xmalloc(CHUNK);
    enum ferr_code rc = FERR_OK;
    uint64_t left;
    int in;

    if (!ctx)
        abort(); /* out of memory, as xmalloc */
    in = open(blob, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
    if (in < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "missing blob for '%s': %s", path,
                      strerror(errno));
        goto done;
    }
    if (fstat(in, &st) < 0 || !S_ISREG(st.st_mode)) {
        rc = ferr_set(err, FERR_IO, NULL, "blob '%s' for '%s' is damaged",
                      sha, path);
        goto done;
    }
    /* the header holds the blob's real size; a manifest disagreeing is
     * told apart from a damaged blob by the hash below */
    rc = tar_file_header(t, path, mode, (uint64_t)st.st_size, mtime, err);
    if (rc)
        goto done;
    EVP_DigestInit_ex(ctx, EVP_sha256(), NULL);
    for (left = (uint64_t)st.st_size; left > 0;) {
        ssize_t n = read(in, buf, left < CHUNK ? (size_t)left : CHUNK);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read blob '%s': %s",
                          sha, strerror(errno));
            goto done;
        }
        if (n == 0) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "blob '%s' for '%s' is damaged (truncated)", sha,
                          path);
            goto done;
        }
        EVP_DigestUpdate(ctx, buf, (size_t)n);
        left -= (uint64_t)n;
        rc = tw_put(t, buf, (size_t)n, err);
        if (rc)
            goto done;
    }
    EVP_DigestFinal_ex(ctx, md, &mdlen);
    hex32(md, got);
    if (strcmp(got, sha)) {
        /* a damaged blob must not be reused by later saves */
        unlink(blob);
        rc = ferr_set(err, FERR_IO, NULL, "blob '%s' for '%s' is damaged",
                      sha, path);
        goto done;
    }
    if ((uint64_t)st.st_size != want_size) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "manifest entry '%s' has the wrong size", path);
        goto done;
    }
    rc = tw_pad(t, TAR_BLOCK, err);
done:
    if (in >= 0)
        close(in);
    free(buf);
    free(blob);
    EVP_MD_CTX_free(ctx);
    return rc;
}

/* A prefix of a path, compared as strcmp would compare it as a string. */
struct pkey {
    const char *p;
    size_t n;
};

static int cmp_pkey(const void *k, const void *e)
{
    const struct pkey *key = k;
    const char *s = *(const char *const *)e;
    int c = strncmp(key->p, s, key->n);

    if (c)
        return c;
    return s[key->n] ? -1 : 0;
}

/* Beyond check_manifest, what an archive needs: regular files only,
 * each path once, and no path also a directory of another (an extractor
 * would fail on it, or worse). */
static enum ferr_code check_export(json_t *files, struct ferr *err)
{
    size_t n = json_array_size(files);
    const char **paths = xcalloc(n + 1, sizeof(*paths));
    enum ferr_code rc = FERR_OK;
    size_t i;
    json_t *f;

    json_array_foreach(files, i, f) {
        paths[i] = get_str(f, "path");
        if (json_object_get(f, "link")) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "manifest entry '%s' is a link, not a file",
                          paths[i]);
            goto done;
        }
    }
    qsort(paths, n, sizeof(*paths), cmp_cstr);
    for (i = 0; i < n; i++) {
        if (i > 0 && !strcmp(paths[i], paths[i - 1])) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "manifest lists '%s' twice", paths[i]);
            goto done;
        }
        for (const char *c = strchr(paths[i], '/'); c;
             c = strchr(c + 1, '/')) {
            struct pkey key = { paths[i], (size_t)(c - paths[i]) };

            if (bsearch(&key, paths, n, sizeof(*paths), cmp_pkey)) {
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "manifest has '%.*s' as a file and as the "
                              "directory of '%s'",
                              (int)key.n, key.p, paths[i]);
                goto done;
            }
        }
    }
done:
    free(paths);
    return rc;
}

enum ferr_code artifact_export_tar(struct artifact_store *s,
                                   const char *scope, const char *name,
                                   int fd, uint64_t *out_bytes,
                                   struct ferr *err)
{
    struct tarw t = { fd, NULL, 0, 0 };
    json_t *root = NULL;
    json_t *files = NULL;
    json_t *f;
    char *dir = NULL;
    char *mpath = NULL;
    int64_t mtime_ms = 0;
    uint64_t mtime;
    size_t i;
    enum ferr_code rc;

    *out_bytes = 0;
    rc = manifest_path(s, ARTIFACT_UPLOAD, scope, name, &dir, &mpath, err);
    if (rc)
        goto done;
    rc = load_manifest(mpath, &root, &files, &mtime_ms, err);
    if (rc == FERR_NOTFOUND) {
        ferr_clear(err);
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "no artifact named '%s'",
                      name);
    }
    if (!rc)
        rc = check_export(files, err);
    if (rc)
        goto done;
    mtime = mtime_ms < 0 ? 0 : (uint64_t)mtime_ms / 1000;
    if (mtime > TAR_OCTAL11)
        mtime = TAR_OCTAL11;
    t.buf = xmalloc(CHUNK);
    json_array_foreach(files, i, f) {
        json_int_t size = json_integer_value(json_object_get(f, "size"));

        rc = tar_file(s, &t, get_str(f, "path"), get_str(f, "sha256"),
                      (unsigned)json_integer_value(json_object_get(f, "mode")),
                      (uint64_t)size, mtime, err);
        if (rc)
            goto done;
    }
    /* the end: two zero blocks, then a whole record as tar(1) writes */
    rc = tw_put(&t, NULL, 2 * TAR_BLOCK, err);
    if (!rc)
        rc = tw_pad(&t, TAR_RECORD, err);
    if (!rc)
        rc = tw_flush(&t, err);
    if (!rc)
        *out_bytes = t.bytes;
done:
    if (rc)
        ferr_prefix(err, "export artifact '%s'", name ? name : "");
    json_decref(root);
    free(t.buf);
    free(mpath);
    free(dir);
    return rc;
}

/* ---- hashFiles -------------------------------------------------------- */

enum ferr_code artifact_hash_files(const char *root,
                                   const char *const *patterns, size_t n,
                                   char out[65], struct ferr *err)
{
    struct patlist pl = { NULL, 0, 0 };
    struct entlist el = { NULL, 0, 0 };
    struct buf joined;
    struct dcache dc = { NULL, -1, false };
    EVP_MD_CTX *all = NULL;
    EVP_MD_CTX *one = NULL;
    char *root_real = NULL;
    char *buf = NULL;
    enum ferr_code rc = FERR_OK;
    int rootfd = -1;

    out[0] = '\0';
    buf_init(&joined, 16u * 1024u * 1024u);
    for (size_t i = 0; i < n && !rc; i++)
        if (patterns[i] &&
            (buf_adds(&joined, patterns[i]) || buf_addch(&joined, '\n')))
            rc = ferr_set(err, FERR_LIMIT, NULL, "patterns are too long");
    if (rc)
        goto done;
    root_real = realpath(root, NULL);
    if (!root_real) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot resolve '%s': %s", root,
                      strerror(errno));
        goto done;
    }
    rc = parse_patterns(buf_cstr(&joined), root_real, &pl, err);
    if (rc || pl.n == 0)
        goto done;
    rootfd = open(root_real, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", root,
                      strerror(errno));
        goto done;
    }
    rc = collect(rootfd, &pl, WM_HASH, root_real, &el, NULL, NULL, err);
    if (rc || el.n == 0)
        goto done;
    all = EVP_MD_CTX_new();
    one = EVP_MD_CTX_new();
    if (!all || !one)
        abort(); /* out of memory, as xmalloc */
    buf = xmalloc(CHUNK);
    EVP_DigestInit_ex(all, EVP_sha256(), NULL);
    /* as actions/runner's hashFiles: the SHA-256 of the concatenated
     * binary SHA-256 digests of the files */
    for (size_t i = 0; i < el.n && !rc; i++) {
        unsigned char md[32];
        unsigned mdlen = 0;
        int fd = open_entry(&dc, rootfd, &el.e[i]);

        if (fd < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s",
                          el.e[i].rel, strerror(errno));
            break;
        }
        EVP_DigestInit_ex(one, EVP_sha256(), NULL);
        for (;;) {
            ssize_t r = read(fd, buf, CHUNK);

            if (r < 0 && errno == EINTR)
                continue;
            if (r < 0) {
                rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s",
                              el.e[i].rel, strerror(errno));
                break;
            }
            if (r == 0)
                break;
            EVP_DigestUpdate(one, buf, (size_t)r);
        }
        close(fd);
        EVP_DigestFinal_ex(one, md, &mdlen);
        EVP_DigestUpdate(all, md, sizeof(md));
    }
    if (!rc) {
        unsigned char md[32];
        unsigned mdlen = 0;

        EVP_DigestFinal_ex(all, md, &mdlen);
        hex32(md, out);
    }
done:
    if (rc) {
        out[0] = '\0';
        ferr_prefix(err, "hashFiles");
    }
    dcache_release(&dc);
    if (rootfd >= 0)
        close(rootfd);
    EVP_MD_CTX_free(all);
    EVP_MD_CTX_free(one);
    free(buf);
    free(root_real);
    entlist_release(&el);
    patlist_release(&pl);
    buf_release(&joined);
    return rc;
}
