/* scan: the file side of reports — reading a report, expanding the
 * paths and globs a step names, and finding reports at a workspace's
 * conventional paths for a job that recorded none.  It parses through
 * junit.c and coverage.c and never writes anything. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "exec/workspace.h"
#include "pipeline/glob.h"
#include "report/report.h"
#include "util/limits.h"
#include "util/xalloc.h"

enum ferr_code report_read_file(const char *path, char **out, size_t *out_len,
                                struct ferr *err)
{
    return workspace_read_file(path, LIM_REPORT_BYTES, out, out_len, err);
}

/* ---------- a growable list of paths ---------- */

struct paths {
    char **v;
    size_t n;
    size_t cap;
};

static void push(struct paths *ps, char *p)
{
    if (ps->n == ps->cap) {
        ps->cap = ps->cap ? ps->cap * 2 : 16;
        ps->v = xrealloc(ps->v, ps->cap * sizeof(*ps->v));
    }
    ps->v[ps->n++] = p;
}

void report_paths_free(char **v, size_t n)
{
    for (size_t i = 0; v && i < n; i++)
        free(v[i]);
    free(v);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* ---------- expansion ---------- */

static bool has_magic(struct span s)
{
    for (size_t i = 0; i < s.len; i++)
        if (s.p[i] == '*' || s.p[i] == '?' || s.p[i] == '[')
            return true;
    return false;
}

/* @rel joined to the workspace (as is when absolute or no workspace). */
static char *fs_path(const char *workspace, const char *rel)
{
    if (rel[0] == '/' || !workspace || !*workspace)
        return xstrdup(*rel ? rel : ".");
    if (!*rel)
        return xstrdup(workspace);
    return xasprintf("%s/%s", workspace, rel);
}

struct walk {
    struct span pattern;
    unsigned maxdepth;
    size_t visited;
    struct paths *found;
};

static enum ferr_code walk(struct walk *w, const char *dir, const char *rel,
                           unsigned depth, struct ferr *err)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    enum ferr_code rc = FERR_OK;

    if (!d)
        return FERR_OK; /* missing or unreadable: nothing matches */
    while (!rc && (e = readdir(d))) {
        struct stat st;
        char *child;
        char *crel;

        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0 ||
            strcmp(e->d_name, ".git") == 0)
            continue;
        if (++w->visited > LIM_REPORT_WALK) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "pattern '%.*s' looks at more than %u files",
                          SPAN_ARGS(w->pattern), LIM_REPORT_WALK);
            break;
        }
        child = xasprintf("%s/%s", dir, e->d_name);
        crel = *rel ? xasprintf("%s/%s", rel, e->d_name) : xstrdup(e->d_name);
        if (lstat(child, &st) == 0) {
            bool link = S_ISLNK(st.st_mode);

            if (link && stat(child, &st) != 0)
                st.st_mode = 0;
            if (S_ISDIR(st.st_mode) && !link && depth + 1 < w->maxdepth &&
                depth + 1 < LIM_TREE_DEPTH) {
                rc = walk(w, child, crel, depth + 1, err);
            } else if (S_ISREG(st.st_mode) &&
                       glob_match(w->pattern, span_cstr(crel))) {
                push(w->found, crel);
                crel = NULL;
            }
        }
        free(child);
        free(crel);
    }
    closedir(d);
    return rc;
}

/* One positive pattern into @found. */
static enum ferr_code expand_one(const char *workspace, struct span pat,
                                 struct paths *found, struct ferr *err)
{
    char *text = xstrndup(pat.p, pat.len);
    enum ferr_code rc = FERR_OK;

    if (!has_magic(pat)) {
        char *path = fs_path(workspace, text);
        struct stat st;

        if (stat(path, &st) != 0)
            rc = ferr_set(err, FERR_NOTFOUND, NULL, "no file '%s'", text);
        else if (!S_ISREG(st.st_mode))
            rc = ferr_set(err, FERR_NOTFOUND, NULL,
                          "'%s' is not a regular file", text);
        else {
            push(found, text);
            text = NULL;
        }
        free(path);
    } else {
        /* the directory part before the first component with magic */
        size_t base_len = 0;
        size_t comp = 0;
        unsigned rest = 0;
        struct walk w;
        char *base;
        char *dir;

        for (size_t i = 0; i <= pat.len; i++) {
            if (i == pat.len || pat.p[i] == '/') {
                if (has_magic(span_of(pat.p + comp, i - comp)))
                    break;
                base_len = i;
                comp = i + 1;
            }
        }
        for (size_t i = comp; i < pat.len; i++)
            rest += pat.p[i] == '/';
        rest++;
        rc = glob_check(pat, NULL, err);
        if (rc)
            goto done;
        w.pattern = pat;
        w.maxdepth = strstr(text, "**") ? LIM_TREE_DEPTH : rest;
        w.visited = 0;
        w.found = found;
        base = xstrndup(pat.p, base_len);
        if (base_len == 0 && pat.len && pat.p[0] == '/')
            dir = xstrdup("/");
        else
            dir = fs_path(workspace, base);
        rc = walk(&w, dir, base, 0, err);
        free(base);
        free(dir);
    }
done:
    free(text);
    return rc;
}

enum ferr_code report_expand(const char *workspace, const char *patterns,
                             char ***out, size_t *out_n, struct ferr *err)
{
    struct paths found = {NULL, 0, 0};
    struct paths excl = {NULL, 0, 0};
    struct span rest = span_cstr(patterns);
    enum ferr_code rc = FERR_OK;
    size_t k = 0;

    *out = NULL;
    *out_n = 0;
    while (rest.len && !rc) {
        struct span pat = rest;
        size_t i = 0;

        while (i < rest.len && rest.p[i] != '\n' && rest.p[i] != ',')
            i++;
        pat = span_trim(span_of(rest.p, i));
        rest = i < rest.len ? span_of(rest.p + i + 1, rest.len - i - 1)
                            : span_of(rest.p + i, 0);
        if (!pat.len)
            continue;
        if (pat.p[0] == '!') {
            pat = span_trim(span_of(pat.p + 1, pat.len - 1));
            rc = pat.len ? glob_check(pat, NULL, err) : FERR_OK;
            if (pat.len && !rc)
                push(&excl, xstrndup(pat.p, pat.len));
            continue;
        }
        rc = expand_one(workspace, pat, &found, err);
        if (!rc && found.n > LIM_REPORT_WALK)
            rc = ferr_set(err, FERR_LIMIT, NULL, "too many files match");
    }
    if (rc)
        goto done;
    if (found.n)
        qsort(found.v, found.n, sizeof(*found.v), cmp_str);
    for (size_t i = 0; i < found.n; i++) {
        bool drop = k && strcmp(found.v[k - 1], found.v[i]) == 0;

        for (size_t e = 0; e < excl.n && !drop; e++)
            drop = glob_match(span_cstr(excl.v[e]), span_cstr(found.v[i]));
        if (drop) {
            free(found.v[i]);
            continue;
        }
        found.v[k++] = found.v[i];
    }
    found.n = k;
    if (found.n == 0) {
        rc = ferr_set(err, FERR_NOTFOUND, NULL, "no file matches '%s'",
                      patterns);
    } else if (found.n > LIM_REPORT_FILES) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "%zu files match '%s': at most %u are read", found.n,
                      patterns, LIM_REPORT_FILES);
    }
done:
    report_paths_free(excl.v, excl.n);
    if (rc) {
        report_paths_free(found.v, found.n);
        return rc;
    }
    *out = found.v;
    *out_n = found.n;
    return FERR_OK;
}

char *report_files_label(char *const *paths, size_t n)
{
    struct buf b;
    size_t show = n > 3 ? 3 : n;

    buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < show; i++)
        if (buf_addf(&b, "%s%s", i ? ", " : "", paths[i]))
            break;
    if (n > show && buf_addf(&b, " and %zu more", n - show))
        buf_reset(&b);
    return buf_take(&b, NULL);
}

/* ---------- the conventional paths ---------- */

static void warn(json_t *warnings, const struct ferr *err)
{
    char msg[1024];

    json_array_append_new(warnings,
                          json_string(ferr_format(err, msg, sizeof(msg))));
}

static bool is_file(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Whether @path, with its links resolved, stays in the workspace whose
 * resolved path is @ws_real: a job (in a container, say) may leave a
 * link to a file of the host where the engine scans, and nothing
 * outside the workspace is read for it. */
static bool beneath(const char *ws_real, const char *path)
{
    char *real = realpath(path, NULL);
    size_t n = strlen(ws_real);
    bool ok;

    if (!real)
        return false;
    ok = strncmp(real, ws_real, n) == 0 &&
         (real[n] == '/' || (n == 1 && ws_real[0] == '/'));
    free(real);
    return ok;
}

/* A file the scan may read: a regular file beneath the workspace;
 * one that leads outside it is a warning naming @rel. */
static bool scannable(const char *ws_real, const char *path, const char *rel,
                      json_t *warnings)
{
    char msg[REPORT_TEXT_MAX + 64];

    if (!is_file(path))
        return false;
    if (beneath(ws_real, path))
        return true;
    snprintf(msg, sizeof(msg), "%.*s: leads outside the workspace: not read",
             (int)REPORT_TEXT_MAX, rel);
    json_array_append_new(warnings, json_string(msg));
    return false;
}

/* junit.xml and the *.xml of test-results/, sorted, at most
 * LIM_REPORT_FILES; the rest is a warning. */
static void junit_files(const char *ws, const char *ws_real,
                        struct paths *ps, json_t *warnings)
{
    char *p = fs_path(ws, "junit.xml");
    char *dir = fs_path(ws, "test-results");
    struct paths more = {NULL, 0, 0};
    DIR *d = NULL;
    struct dirent *e;

    if (scannable(ws_real, p, "junit.xml", warnings))
        push(ps, xstrdup("junit.xml"));
    free(p);
    if (beneath(ws_real, dir))
        d = opendir(dir);
    while (d && (e = readdir(d))) {
        size_t n = strlen(e->d_name);
        char *full;
        char *rel;

        if (n < 5 || strcmp(e->d_name + n - 4, ".xml") != 0)
            continue;
        full = xasprintf("%s/%s", dir, e->d_name);
        rel = xasprintf("test-results/%s", e->d_name);
        if (scannable(ws_real, full, rel, warnings)) {
            push(&more, rel);
            rel = NULL;
        }
        free(rel);
        free(full);
        if (more.n > LIM_REPORT_WALK)
            break;
    }
    if (d)
        closedir(d);
    free(dir);
    if (more.n)
        qsort(more.v, more.n, sizeof(*more.v), cmp_str);
    for (size_t i = 0; i < more.n; i++) {
        if (ps->n < LIM_REPORT_FILES) {
            push(ps, more.v[i]);
            more.v[i] = NULL;
        }
    }
    if (more.n && ps->n == LIM_REPORT_FILES) {
        size_t skipped = 0;

        for (size_t i = 0; i < more.n; i++)
            skipped += more.v[i] != NULL;
        if (skipped) {
            char msg[200];

            snprintf(msg, sizeof(msg),
                     "test-results: %zu more XML files not read (at most "
                     "%u)",
                     skipped, LIM_REPORT_FILES);
            json_array_append_new(warnings, json_string(msg));
        }
    }
    report_paths_free(more.v, more.n);
}

static void scan_tests(const char *ws, const char *ws_real, json_t *reports,
                       json_t *warnings)
{
    struct paths ps = {NULL, 0, 0};
    struct paths ok = {NULL, 0, 0};
    struct report_tests *sum = xcalloc(1, sizeof(*sum));
    struct report_tests *one = xcalloc(1, sizeof(*one));

    junit_files(ws, ws_real, &ps, warnings);
    for (size_t i = 0; i < ps.n; i++) {
        char *path = fs_path(ws, ps.v[i]);
        char *data = NULL;
        size_t len = 0;
        struct ferr err;

        ferr_clear(&err);
        if (report_read_file(path, &data, &len, &err) ||
            report_junit_parse(ps.v[i], span_of(data, len), one, &err)) {
            warn(warnings, &err);
        } else {
            report_tests_add(sum, one);
            push(&ok, ps.v[i]);
            ps.v[i] = NULL;
        }
        free(data);
        free(path);
    }
    if (ok.n) {
        char *label = report_files_label(ok.v, ok.n);
        json_t *o = report_tests_json(sum, label);

        if (ok.n > 1) {
            json_t *files = json_array();

            for (size_t i = 0; i < ok.n; i++)
                json_array_append_new(files, json_string(ok.v[i]));
            json_object_set_new(o, "files", files);
        }
        json_array_append_new(reports, o);
        free(label);
    }
    report_paths_free(ps.v, ps.n);
    report_paths_free(ok.v, ok.n);
    free(sum);
    free(one);
}

static void scan_coverage(const char *ws, const char *ws_real,
                          json_t *reports, json_t *warnings)
{
    static const struct {
        const char *path;
        enum report_cov_format format;
    } cands[] = {
        {"coverage.xml", REPORT_COV_COBERTURA},
        {"coverage/cobertura-coverage.xml", REPORT_COV_COBERTURA},
        {"lcov.info", REPORT_COV_LCOV},
        {"coverage/lcov.info", REPORT_COV_LCOV},
    };

    for (size_t i = 0; i < sizeof(cands) / sizeof(cands[0]); i++) {
        char *path = fs_path(ws, cands[i].path);
        char *data = NULL;
        size_t len = 0;
        struct report_coverage c;
        struct ferr err;
        bool done = false;

        ferr_clear(&err);
        if (scannable(ws_real, path, cands[i].path, warnings)) {
            if (report_read_file(path, &data, &len, &err) ||
                report_coverage_parse(cands[i].path, span_of(data, len),
                                      cands[i].format, &c, &err)) {
                warn(warnings, &err);
            } else {
                json_array_append_new(
                    reports, report_coverage_json(&c, cands[i].path, NULL));
                done = true;
            }
        }
        free(data);
        free(path);
        if (done)
            break;
    }
}

enum ferr_code report_scan(const char *workspace, json_t **out,
                           struct ferr *err)
{
    struct stat st;
    json_t *reports;
    json_t *warnings;
    char *ws_real;

    *out = NULL;
    if (stat(workspace, &st) != 0)
        return ferr_set(err, errno == ENOENT ? FERR_NOTFOUND : FERR_IO, NULL,
                        "cannot scan '%s' for reports: %s", workspace,
                        strerror(errno));
    if (!S_ISDIR(st.st_mode))
        return ferr_set(err, FERR_IO, NULL,
                        "cannot scan '%s' for reports: not a directory",
                        workspace);
    ws_real = realpath(workspace, NULL);
    if (!ws_real)
        return ferr_set(err, FERR_IO, NULL, "cannot scan '%s' for reports: %s",
                        workspace, strerror(errno));
    reports = json_array();
    warnings = json_array();
    scan_tests(workspace, ws_real, reports, warnings);
    scan_coverage(workspace, ws_real, reports, warnings);
    free(ws_real);
    *out = json_pack("{s:o, s:o}", "reports", reports, "warnings", warnings);
    return FERR_OK;
}
