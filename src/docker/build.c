/* build: `POST /build` with a tar of the context directory, made with
 * libarchive into an unlinked temporary file and honouring .dockerignore
 * as Docker documents it (Go's filepath.Match plus "**", '!' exceptions,
 * the last matching line deciding).  It follows no symlink out of the
 * context (links are archived as links) and skips sockets, fifos and
 * devices; it neither compresses the context nor talks to BuildKit. */
#include "docker/docker.h"

#include <archive.h>
#include <archive_entry.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "docker/internal.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define IGNORE_FILE_MAX (1024u * 1024u) /* a .dockerignore file */
#define IGNORE_PATTERNS 10000u          /* patterns in it */
#define PATTERN_MAX     4096u           /* one pattern */
#define PATH_MAX_BYTES  (8u * 1024u)

/* ---------- .dockerignore patterns ---------- */

/* Go's filepath.Clean of @p (n bytes) with the leading '/' dropped;
 * the caller's string. */
static char *clean_path(const char *p, size_t n)
{
    char *out = xmalloc(n + 2);
    size_t o = 0;
    size_t i = 0;

    while (i < n) {
        size_t j = i;

        while (j < n && p[j] != '/')
            j++;
        if (j - i == 0 || (j - i == 1 && p[i] == '.')) {
            /* "//" or "/./": nothing */
        } else if (j - i == 2 && p[i] == '.' && p[i + 1] == '.') {
            /* drop the last element; ".." at the root stays at the root */
            while (o > 0 && out[o - 1] != '/')
                o--;
            if (o > 0)
                o--;
        } else {
            if (o > 0)
                out[o++] = '/';
            memcpy(out + o, p + i, j - i);
            o += j - i;
        }
        i = j + 1;
    }
    if (o == 0)
        out[o++] = '.';
    out[o] = '\0';
    return out;
}

/* Is @pat's syntax good (classes closed, escapes complete)? */
static bool pattern_ok(const char *pat)
{
    for (const char *p = pat; *p; p++) {
        if (*p == '\\') {
            if (!p[1])
                return false;
            p++;
        } else if (*p == '[') {
            p++;
            if (*p == '^')
                p++;
            if (*p == ']')
                return false; /* Go: an empty class is an error */
            while (*p && *p != ']') {
                if (*p == '\\') {
                    if (!p[1])
                        return false;
                    p++;
                }
                p++;
            }
            if (!*p)
                return false;
        }
    }
    return true;
}

void docker__ignore_release(struct docker__ignore *ig)
{
    for (size_t i = 0; i < ig->n; i++)
        free(ig->v[i].pat);
    free(ig->v);
    ig->v = NULL;
    ig->n = 0;
    ig->has_negation = false;
}

static void ignore_push(struct docker__ignore *ig, char *pat, bool negate)
{
    ig->v = xrealloc(ig->v, (ig->n + 1) * sizeof(*ig->v));
    ig->v[ig->n].pat = pat;
    ig->v[ig->n].negate = negate;
    ig->n++;
    if (negate)
        ig->has_negation = true;
}

enum ferr_code docker__ignore_parse(const char *p, size_t n,
                                    struct docker__ignore *ig, struct ferr *err)
{
    struct span rest = span_of(p, n), line;
    unsigned lineno = 0;

    ig->v = NULL;
    ig->n = 0;
    ig->has_negation = false;
    while (rest.len > 0) {
        bool negate = false;
        char q[72];

        span_cut(rest, '\n', &line, &rest);
        lineno++;
        line = span_trim(line);
        if (line.len == 0 || line.p[0] == '#')
            continue;
        if (line.p[0] == '!') {
            negate = true;
            line = span_trim(span_of(line.p + 1, line.len - 1));
            if (line.len == 0) {
                docker__ignore_release(ig);
                return ferr_set(err, FERR_PARSE, NULL,
                                ".dockerignore line %u: '!' without a "
                                "pattern",
                                lineno);
            }
        }
        if (line.len > PATTERN_MAX || ig->n >= IGNORE_PATTERNS) {
            docker__ignore_release(ig);
            return ferr_set(err, FERR_LIMIT, NULL,
                            ".dockerignore line %u: over %u patterns or a "
                            "pattern over %u bytes",
                            lineno, IGNORE_PATTERNS, PATTERN_MAX);
        }
        char *pat = clean_path(line.p, line.len);

        if (!pattern_ok(pat)) {
            span_quote(line.p, line.len, q);
            free(pat);
            docker__ignore_release(ig);
            return ferr_set(err, FERR_PARSE, NULL,
                            ".dockerignore line %u: bad pattern '%s'", lineno,
                            q);
        }
        ignore_push(ig, pat, negate);
    }
    return FERR_OK;
}

/* Does the class at @pat (just after '[') match @c?  *@end gets the
 * byte after its ']'. */
static bool class_match(const char *pat, unsigned char c, const char **end)
{
    bool neg = false, hit = false;
    const char *p = pat;

    if (*p == '^') {
        neg = true;
        p++;
    }
    while (*p && *p != ']') {
        unsigned char lo, hi;

        if (*p == '\\' && p[1])
            p++;
        lo = (unsigned char)*p++;
        hi = lo;
        if (*p == '-' && p[1] && p[1] != ']') {
            p++;
            if (*p == '\\' && p[1])
                p++;
            hi = (unsigned char)*p++;
        }
        if (c >= lo && c <= hi)
            hit = true;
    }
    *end = *p ? p + 1 : p;
    return hit != neg;
}

enum tok { T_CHAR, T_ANY, T_CLASS, T_STAR, T_GLOBSTAR, T_DIRS };

/* The next token of @p: *@len its bytes in the pattern. */
static enum tok next_tok(const char *p, size_t *len)
{
    if (p[0] == '*' && p[1] == '*') {
        if (p[2] == '/') {
            *len = 3;
            return T_DIRS; /* "**\/": any directories, or none */
        }
        *len = 2;
        return T_GLOBSTAR;
    }
    if (p[0] == '*') {
        *len = 1;
        return T_STAR;
    }
    if (p[0] == '?') {
        *len = 1;
        return T_ANY;
    }
    if (p[0] == '[') {
        const char *end;

        class_match(p + 1, 0, &end);
        *len = (size_t)(end - p);
        return T_CLASS;
    }
    *len = p[0] == '\\' && p[1] ? 2 : 1;
    return T_CHAR;
}

/* One row per token of the pattern over the positions of @s: row[j] is
 * "the pattern so far matches s[0..j)".  O(pattern × path), no
 * backtracking, whatever the stars. */
bool docker__ignore_match1(const char *pat, const char *s)
{
    size_t n = strlen(s);
    bool *cur = xcalloc(n + 1, sizeof(bool));
    bool *next = xcalloc(n + 1, sizeof(bool));
    bool ok;

    cur[0] = true;
    for (const char *p = pat; *p;) {
        size_t tl;
        enum tok t = next_tok(p, &tl);
        bool run = false;

        memset(next, 0, (n + 1) * sizeof(bool));
        switch (t) {
        case T_STAR:
            for (size_t j = 0; j <= n; j++) {
                if (j > 0 && s[j - 1] == '/')
                    run = false;
                run = run || cur[j];
                next[j] = run;
            }
            break;
        case T_GLOBSTAR:
            for (size_t j = 0; j <= n; j++) {
                run = run || cur[j];
                next[j] = run;
            }
            break;
        case T_DIRS:
            for (size_t j = 0; j <= n; j++) {
                next[j] = cur[j] || (j > 0 && run && s[j - 1] == '/');
                run = run || cur[j];
            }
            break;
        default:
            for (size_t j = 0; j < n; j++) {
                unsigned char c = (unsigned char)s[j];
                bool m;
                const char *end;

                if (!cur[j])
                    continue;
                if (t == T_ANY)
                    m = c != '/';
                else if (t == T_CLASS)
                    m = c != '/' && class_match(p + 1, c, &end);
                else
                    m = (unsigned char)p[tl - 1] == c;
                next[j + 1] = m;
            }
            break;
        }
        bool *tmp = cur;

        cur = next;
        next = tmp;
        p += tl;
    }
    ok = cur[n];
    free(cur);
    free(next);
    return ok;
}

bool docker__ignore_excluded(const struct docker__ignore *ig, const char *path)
{
    bool excluded = false;
    size_t n = strlen(path);
    char *prefix = xmalloc(n + 1);

    for (size_t i = 0; i < ig->n; i++) {
        bool m = docker__ignore_match1(ig->v[i].pat, path);

        /* a pattern that matches a parent directory matches inside it */
        for (size_t j = 0; !m && j < n; j++) {
            if (path[j] != '/')
                continue;
            memcpy(prefix, path, j);
            prefix[j] = '\0';
            m = docker__ignore_match1(ig->v[i].pat, prefix);
        }
        if (m)
            excluded = !ig->v[i].negate;
    }
    free(prefix);
    return excluded;
}

/* ---------- the context tar ---------- */

struct tarw {
    struct archive *a;
    int fd;         /* the unlinked temporary file */
    uint64_t bytes; /* written to fd */
    bool over;      /* went past LIM_BUILD_CONTEXT */
    int werrno;     /* writing fd failed */
    const struct docker__ignore *ig;
    const char *root_shown;
};

static la_ssize_t tar_write(struct archive *a, void *ud, const void *p,
                            size_t n)
{
    struct tarw *t = ud;
    const char *c = p;
    size_t left = n;

    (void)a;
    if (t->bytes + n > LIM_BUILD_CONTEXT) {
        t->over = true;
        return -1;
    }
    while (left > 0) {
        ssize_t w = write(t->fd, c, left);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            t->werrno = w < 0 ? errno : EIO;
            return -1;
        }
        c += w;
        left -= (size_t)w;
    }
    t->bytes += n;
    return (la_ssize_t)n;
}

static enum ferr_code tar_error(struct tarw *t, const char *rel,
                                struct ferr *err)
{
    if (t->over)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "the build context '%s' is over %llu bytes (list "
                        "what it need not send in .dockerignore)",
                        t->root_shown, (unsigned long long)LIM_BUILD_CONTEXT);
    if (t->werrno)
        return ferr_set(err, FERR_IO, NULL,
                        "cannot write the build context: %s",
                        strerror(t->werrno));
    return ferr_set(err, FERR_IO, NULL, "cannot archive '%s': %s", rel,
                    archive_error_string(t->a) ? archive_error_string(t->a)
                                               : "libarchive failed");
}

static struct archive_entry *entry_of(const char *rel, const struct stat *st)
{
    struct archive_entry *e = archive_entry_new();

    archive_entry_copy_stat(e, st);
    archive_entry_set_pathname(e, rel);
    /* as `docker build` sends it: owned by root */
    archive_entry_set_uid(e, 0);
    archive_entry_set_gid(e, 0);
    archive_entry_set_uname(e, NULL);
    archive_entry_set_gname(e, NULL);
    archive_entry_set_nlink(e, 1);
    return e;
}

static enum ferr_code add_file(struct tarw *t, int dirfd, const char *name,
                               const char *rel, const struct stat *st,
                               struct ferr *err)
{
    struct archive_entry *e;
    char data[64 * 1024];
    uint64_t left = (uint64_t)st->st_size;
    enum ferr_code rc = FERR_OK;
    int fd;

    if ((uint64_t)st->st_size > LIM_BUILD_CONTEXT) {
        t->over = true;
        return tar_error(t, rel, err);
    }
    fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL,
                        "cannot read '%s' of the build "
                        "context: %s",
                        rel, strerror(errno));
    e = entry_of(rel, st);
    if (archive_write_header(t->a, e) != ARCHIVE_OK) {
        rc = tar_error(t, rel, err);
        goto done;
    }
    while (left > 0) {
        ssize_t r = read(fd, data, left < sizeof(data) ? left : sizeof(data));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            rc = ferr_set(err, FERR_IO, NULL,
                          "cannot read '%s' of the build context: %s", rel,
                          r < 0 ? strerror(errno) : "it shrank while read");
            goto done;
        }
        if (archive_write_data(t->a, data, (size_t)r) != r) {
            rc = tar_error(t, rel, err);
            goto done;
        }
        left -= (uint64_t)r;
    }
done:
    archive_entry_free(e);
    close(fd);
    return rc;
}

static enum ferr_code add_entry(struct tarw *t, const char *rel,
                                const struct stat *st, const char *link,
                                struct ferr *err)
{
    struct archive_entry *e = entry_of(rel, st);
    enum ferr_code rc = FERR_OK;

    if (link)
        archive_entry_set_symlink(e, link);
    archive_entry_set_size(e, 0);
    if (archive_write_header(t->a, e) != ARCHIVE_OK)
        rc = tar_error(t, rel, err);
    archive_entry_free(e);
    return rc;
}

static int by_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The names in @dirfd, sorted (the tar is then the same for the same
 * tree); the caller frees each and the array. */
static enum ferr_code list_dir(int dirfd, const char *rel, char ***out,
                               size_t *out_n, struct ferr *err)
{
    int fd = dup(dirfd);
    DIR *dir = fd >= 0 ? fdopendir(fd) : NULL;
    char **v = NULL;
    size_t n = 0;
    struct dirent *de;

    *out = NULL;
    *out_n = 0;
    if (!dir) {
        if (fd >= 0)
            close(fd);
        return ferr_set(err, FERR_IO, NULL,
                        "cannot list '%s' of the build context: %s",
                        rel[0] ? rel : ".", strerror(errno));
    }
    rewinddir(dir); /* a dup shares the offset of an earlier listing */
    while ((de = readdir(dir)) != NULL) {
        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
            continue;
        v = xrealloc(v, (n + 1) * sizeof(*v));
        v[n++] = xstrdup(de->d_name);
    }
    closedir(dir);
    if (n > 1)
        qsort(v, n, sizeof(*v), by_name);
    *out = v;
    *out_n = n;
    return FERR_OK;
}

static enum ferr_code walk(struct tarw *t, int dirfd, const char *rel,
                           unsigned depth, struct ferr *err)
{
    char **names = NULL;
    size_t n = 0;
    enum ferr_code rc;

    if (depth > LIM_TREE_DEPTH)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "the build context is nested over %u directories "
                        "deep at '%s'",
                        LIM_TREE_DEPTH, rel);
    rc = list_dir(dirfd, rel, &names, &n, err);
    for (size_t i = 0; !rc && i < n; i++) {
        char *path =
            rel[0] ? xasprintf("%s/%s", rel, names[i]) : xstrdup(names[i]);
        bool excluded = docker__ignore_excluded(t->ig, path);
        struct stat st;

        if (strlen(path) > PATH_MAX_BYTES) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "a path in the build context is over %u bytes",
                          PATH_MAX_BYTES);
        } else if (fstatat(dirfd, names[i], &st, AT_SYMLINK_NOFOLLOW) != 0) {
            if (errno != ENOENT) /* gone since the listing: fine */
                rc = ferr_set(err, FERR_IO, NULL,
                              "cannot stat '%s' of the build context: %s", path,
                              strerror(errno));
        } else if (S_ISDIR(st.st_mode)) {
            /* an excluded directory is entered only when a '!' line may
             * bring something inside it back */
            if (!excluded)
                rc = add_entry(t, path, &st, NULL, err);
            if (!rc && (!excluded || t->ig->has_negation)) {
                int sub =
                    openat(dirfd, names[i],
                           O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                if (sub < 0) {
                    rc = ferr_set(err, FERR_IO, NULL,
                                  "cannot open '%s' of the build context: "
                                  "%s",
                                  path, strerror(errno));
                } else {
                    rc = walk(t, sub, path, depth + 1, err);
                    close(sub);
                }
            }
        } else if (excluded) {
            /* left out */
        } else if (S_ISREG(st.st_mode)) {
            rc = add_file(t, dirfd, names[i], path, &st, err);
        } else if (S_ISLNK(st.st_mode)) {
            char target[4096];
            ssize_t k = readlinkat(dirfd, names[i], target, sizeof(target) - 1);

            if (k < 0) {
                rc = ferr_set(err, FERR_IO, NULL,
                              "cannot read link '%s' of the build context: "
                              "%s",
                              path, strerror(errno));
            } else {
                target[k] = '\0';
                rc = add_entry(t, path, &st, target, err);
            }
        }
        /* sockets, fifos and devices are not sent (neither does docker) */
        free(path);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return rc;
}

/* An anonymous temporary file (gone when closed). */
static int temp_file(void)
{
    const char *dir = getenv("TMPDIR");
    char *tmpl;
    int fd;

    if (!dir || !*dir)
        dir = "/tmp";
    fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
    if (fd >= 0)
        return fd;
    tmpl = xasprintf("%s/ferry-context.XXXXXX", dir);
    fd = mkostemp(tmpl, O_CLOEXEC);
    if (fd >= 0)
        unlink(tmpl);
    free(tmpl);
    return fd;
}

/* Read the context's .dockerignore (none: no patterns). */
static enum ferr_code read_ignore(int rootfd, struct docker__ignore *ig,
                                  struct ferr *err)
{
    struct buf text;
    char chunk[8192];
    enum ferr_code rc = FERR_OK;
    int fd;

    ig->v = NULL;
    ig->n = 0;
    ig->has_negation = false;
    fd = openat(rootfd, ".dockerignore", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return errno == ENOENT
                   ? FERR_OK
                   : ferr_set(err, FERR_IO, NULL,
                              "cannot read .dockerignore: %s", strerror(errno));
    buf_init(&text, IGNORE_FILE_MAX);
    for (;;) {
        ssize_t r = read(fd, chunk, sizeof(chunk));

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read .dockerignore: %s",
                          strerror(errno));
            break;
        }
        if (r == 0)
            break;
        if (buf_add(&text, chunk, (size_t)r)) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          ".dockerignore is over %u bytes", IGNORE_FILE_MAX);
            break;
        }
    }
    close(fd);
    if (!rc)
        rc = docker__ignore_parse(text.p ? text.p : "", text.len, ig, err);
    buf_release(&text);
    return rc;
}

/* The Dockerfile's path in the context: the one given (checked to stay
 * inside), else Dockerfile, else Containerfile. */
static enum ferr_code pick_dockerfile(int rootfd, const char *given,
                                      const char *dir, char **out,
                                      struct ferr *err)
{
    char q[72];

    *out = NULL;
    if (given) {
        char *c = clean_path(given, strlen(given));

        span_quote(given, strlen(given), q);
        if (given[0] == '/' || strcmp(c, ".") == 0 ||
            strncmp(c, "..", 2) == 0 || strstr(given, "..")) {
            free(c);
            return ferr_set(err, FERR_INVALID, NULL,
                            "bad dockerfile '%s': want a path inside the "
                            "context",
                            q);
        }
        if (faccessat(rootfd, c, R_OK, 0) != 0) {
            free(c);
            return ferr_set(err, FERR_NOTFOUND, NULL,
                            "no dockerfile '%s' in the build context '%s'", q,
                            dir);
        }
        *out = c;
        return FERR_OK;
    }
    if (faccessat(rootfd, "Dockerfile", R_OK, 0) == 0)
        *out = xstrdup("Dockerfile");
    else if (faccessat(rootfd, "Containerfile", R_OK, 0) == 0)
        *out = xstrdup("Containerfile");
    else
        return ferr_set(err, FERR_NOTFOUND, NULL,
                        "no Dockerfile or Containerfile in the build "
                        "context '%s'",
                        dir);
    return FERR_OK;
}

enum ferr_code docker__context_tar(int rootfd, const char *dir,
                                   const char *dockerfile, int *out_fd,
                                   uint64_t *out_len, struct ferr *err)
{
    struct docker__ignore ig;
    struct tarw t = {0};
    enum ferr_code rc;

    *out_fd = -1;
    *out_len = 0;
    rc = read_ignore(rootfd, &ig, err);
    if (rc)
        return rc;
    /* as the docker CLI: the Dockerfile and .dockerignore always go, the
     * engine needs them (COPY still leaves them out) */
    if (docker__ignore_excluded(&ig, dockerfile))
        ignore_push(&ig, xstrdup(dockerfile), true);
    if (docker__ignore_excluded(&ig, ".dockerignore"))
        ignore_push(&ig, xstrdup(".dockerignore"), true);
    t.ig = &ig;
    t.root_shown = dir;
    t.fd = temp_file();
    if (t.fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL,
                      "cannot make a temporary file for the build context: "
                      "%s",
                      strerror(errno));
        goto done;
    }
    t.a = archive_write_new();
    if (!t.a || archive_write_set_format_pax_restricted(t.a) != ARCHIVE_OK ||
        archive_write_set_bytes_in_last_block(t.a, 1) != ARCHIVE_OK ||
        archive_write_open2(t.a, &t, NULL, tar_write, NULL, NULL) !=
            ARCHIVE_OK) {
        rc = tar_error(&t, ".", err);
        goto done;
    }
    rc = walk(&t, rootfd, "", 0, err);
    if (!rc && archive_write_close(t.a) != ARCHIVE_OK)
        rc = tar_error(&t, ".", err);
done:
    if (t.a)
        archive_write_free(t.a);
    docker__ignore_release(&ig);
    if (rc) {
        if (t.fd >= 0)
            close(t.fd);
        return rc;
    }
    *out_fd = t.fd;
    *out_len = t.bytes;
    return FERR_OK;
}

/* ---------- the build request ---------- */

struct build_ctx {
    docker_progress_fn cb;
    void *ud;
    char *id;          /* aux.ID */
    char short_id[72]; /* "Successfully built X" */
    bool creds;        /* an X-Registry-Config was given */
};

static enum ferr_code build_obj(void *ud, json_t *obj, struct ferr *err)
{
    struct build_ctx *c = ud;
    const char *m = docker__stream_error(obj);
    const char *id =
        json_string_value(json_object_get(json_object_get(obj, "aux"), "ID"));
    const char *stream = json_string_value(json_object_get(obj, "stream"));
    static const char built[] = "Successfully built ";

    if (m) {
        char msg[400];
        struct span t = span_trim(span_cstr(m));

        snprintf(msg, sizeof(msg), "%.*s", SPAN_ARGS(t));
        for (char *p = msg; *p; p++)
            if ((unsigned char)*p < 0x20 || *p == 0x7f)
                *p = ' ';
        docker__lower_first(msg);
        if (docker_auth_refused(msg))
            return ferr_set(err, FERR_INVALID, NULL,
                            "build failed: %s (it said: %s)",
                            c->creds ? "the registry refused the credentials "
                                       "given for an image the build pulls"
                                     : "the registry wants credentials for "
                                       "an image the build pulls, and none "
                                       "were given",
                            msg);
        return ferr_set(err, FERR_INVALID, NULL, "build failed: %s", msg);
    }
    if (id && !c->id && strncmp(id, "sha256:", 7) == 0)
        c->id = xstrdup(id);
    if (stream && strncmp(stream, built, sizeof(built) - 1) == 0) {
        struct span s = span_trim(span_cstr(stream + sizeof(built) - 1));

        if (s.len > 0 && s.len < sizeof(c->short_id)) {
            memcpy(c->short_id, s.p, s.len);
            c->short_id[s.len] = '\0';
        }
    }
    docker__progress_text(obj, c->cb, c->ud);
    return FERR_OK;
}

/* A JSON object of strings from @o ("buildargs", "labels") into the
 * query; @extra adds the managed label. */
static enum ferr_code string_map(struct buf *path, const char *key,
                                 const json_t *o, bool managed,
                                 struct ferr *err)
{
    json_t *m = json_object();
    const char *k;
    json_t *v;
    char *text;
    enum ferr_code rc = FERR_OK;

    if (o && !json_is_object(o)) {
        json_decref(m);
        return ferr_set(err, FERR_INVALID, NULL,
                        "build %s must be an object of strings", key);
    }
    json_object_foreach ((json_t *)o, k, v) {
        if (!json_is_string(v)) {
            json_decref(m);
            return ferr_set(err, FERR_INVALID, NULL,
                            "build %s '%s' must be a string", key, k);
        }
        json_object_set(m, k, v);
    }
    if (managed)
        json_object_set_new(m, DOCKER_LABEL_MANAGED, json_string("1"));
    if (json_object_size(m) > 0) {
        text = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
        if (!text || docker__qadd(path, key, text))
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "the build %s are too long for a request", key);
        free(text);
    }
    json_decref(m);
    return rc;
}

/* The build's query: tags, dockerfile, args, labels, target, cache. */
static enum ferr_code build_query(struct buf *path,
                                  const struct docker_build *b,
                                  const char *dockerfile, struct ferr *err)
{
    enum ferr_code rc = FERR_OK;

    if (buf_adds(path, "/build") ||
        docker__qadd(path, "dockerfile", dockerfile) ||
        docker__qadd(path, "rm", "1") || docker__qadd(path, "forcerm", "1"))
        return ferr_set(err, FERR_LIMIT, NULL, "a request path is too long");
    for (size_t i = 0; !rc && b->tags && b->tags[i]; i++) {
        rc = docker__check_ref(b->tags[i], "image tag", err);
        if (!rc && docker__qadd(path, "t", b->tags[i]))
            rc = ferr_set(err, FERR_LIMIT, NULL, "too many tags to build");
    }
    if (!rc && b->target && docker__qadd(path, "target", b->target))
        rc = ferr_set(err, FERR_LIMIT, NULL, "a request path is too long");
    if (!rc && b->no_cache && docker__qadd(path, "nocache", "1"))
        rc = ferr_set(err, FERR_LIMIT, NULL, "a request path is too long");
    if (!rc)
        rc = string_map(path, "buildargs", b->buildargs, false, err);
    /* images get the managed label only: an owner (a pid) would make
     * every build of the same tree a different image */
    if (!rc)
        rc = string_map(path, "labels", b->labels, true, err);
    return rc;
}

/* The full id of @ref ("sha256:…"). */
static enum ferr_code image_id(struct docker *d, const char *ref, char **out,
                               struct ferr *err)
{
    json_t *info = NULL;
    const char *id;
    enum ferr_code rc = docker_image_inspect(d, ref, &info, err);

    *out = NULL;
    if (!rc) {
        id = json_string_value(json_object_get(info, "Id"));
        if (id && *id)
            *out = strncmp(id, "sha256:", 7) == 0 ? xstrdup(id)
                                                  : xasprintf("sha256:%s", id);
        else
            rc = ferr_set(err, FERR_IO, NULL,
                          "the container engine's image '%s' has no id", ref);
    }
    json_decref(info);
    return rc;
}

enum ferr_code docker_image_build(struct docker *d,
                                  const struct docker_build *b,
                                  docker_progress_fn cb, void *ud,
                                  char **out_id, struct ferr *err)
{
    struct build_ctx c = {.cb = cb, .ud = ud, .creds = !!b->registry_config};
    struct docker__req rq = {.method = "POST", .ctype = "application/x-tar"};
    const char *headers[2] = {NULL, NULL};
    char *hdr = NULL;
    struct buf path;
    char *dockerfile = NULL;
    uint64_t len = 0;
    int rootfd = -1, tarfd = -1;
    enum ferr_code rc;

    *out_id = NULL;
    buf_init(&path, PATH_MAX_BYTES);
    if (!b->context_dir) {
        rc = ferr_set(err, FERR_INVALID, NULL, "a build needs a context");
        goto done;
    }
    rootfd = open(b->context_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (rootfd < 0) {
        rc = ferr_set(err, errno == ENOENT ? FERR_NOTFOUND : FERR_IO, NULL,
                      "cannot open the build context '%s': %s", b->context_dir,
                      strerror(errno));
        goto done;
    }
    rc = pick_dockerfile(rootfd, b->dockerfile, b->context_dir, &dockerfile,
                         err);
    if (!rc)
        rc = build_query(&path, b, dockerfile, err);
    if (!rc)
        rc = docker__context_tar(rootfd, b->context_dir, dockerfile, &tarfd,
                                 &len, err);
    if (rc)
        goto done;
    if (b->registry_config) {
        if (strpbrk(b->registry_config, "\r\n")) {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "bad registry config: a line break");
            goto done;
        }
        hdr = xasprintf("X-Registry-Config: %s", b->registry_config);
        headers[0] = hdr;
        rq.headers = headers;
    }
    rq.path = path.p;
    rq.body_fd = tarfd;
    rq.body_fd_len = len;
    rc = docker__streamed(d, &rq, build_obj, &c, err);
    if (rc)
        goto done;
    if (c.id) {
        *out_id = c.id;
        c.id = NULL;
    } else if (b->tags && b->tags[0]) {
        rc = image_id(d, b->tags[0], out_id, err);
    } else if (c.short_id[0]) {
        rc = image_id(d, c.short_id, out_id, err);
    } else {
        rc = ferr_set(err, FERR_IO, NULL,
                      "the container engine's build gave no image id");
    }
done:
    if (hdr)
        explicit_bzero(hdr, strlen(hdr));
    free(hdr);
    free(c.id);
    free(dockerfile);
    buf_release(&path);
    if (tarfd >= 0)
        close(tarfd);
    if (rootfd >= 0)
        close(rootfd);
    return rc;
}
