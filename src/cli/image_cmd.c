/* image_cmd: `ferry __image`, the process behind `uses: ferry/image@v1`
 * (inputs in INPUT_<NAME>): build an image from the workspace through the
 * Docker Engine API, tag it with the scheme of docker/tags.h plus the
 * extra tags given, push every tag when asked, and tell the job what it
 * made (outputs image, id, digest, ref, tags; the step summary; one
 * "image" line in $FERRY_REPORT, which the engine records on the run).
 * It does not log in to registries (inputs username and password go with
 * the build's pulls and each push, for the registry of 'name' only) or
 * sign or scan images. */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jansson.h>

#include "cli/cli.h"
#include "docker/docker.h"
#include "docker/tags.h"
#include "pipeline/ferryact.h"
#include "util/buf.h"
#include "util/span.h"
#include "util/xalloc.h"

extern char **environ;

#define MAX_PAIRS 256u          /* lines of build-args or labels */
#define MAX_INPUT (64u * 1024u) /* one input's text */

struct image_step {
    json_t *in;            /* the inputs given, non-empty, as text */
    const char *name;      /* input 'name' */
    char *registry;        /* its registry host, NULL: the default */
    const char *context;   /* input 'context' or "." */
    const char *file;      /* input 'file' or NULL */
    json_t *buildargs;     /* {NAME: value} */
    json_t *labels;        /* {NAME: value} */
    struct tags_list tags; /* the scheme's and the extra ones */
    bool push;
    bool no_cache;
};

static const char *in(const struct image_step *s, const char *name)
{
    return json_string_value(json_object_get(s->in, name));
}

/* Keep the given inputs with a value; an input the table
 * (pipeline/ferryact.h) does not list is an error, in the words of
 * `ferry lint`. */
static enum ferr_code copy_inputs(json_t *raw, json_t **out, struct ferr *err)
{
    const struct ferryact *a = ferryact_of_uses("ferry/image@v1");
    json_t *o = json_object();
    const char *k;
    json_t *v;

    *out = NULL;
    json_object_foreach (raw, k, v) {
        const char *t = json_string_value(v);

        if (ferryact_check_input(a, k, strlen(k), NULL, err)) {
            json_decref(o);
            return FERR_INVALID;
        }
        if (t && strlen(t) > MAX_INPUT) {
            json_decref(o);
            return ferr_set(err, FERR_LIMIT, NULL,
                            "input '%s': longer than %u bytes", k, MAX_INPUT);
        }
        if (t && span_trim(span_cstr(t)).len > 0)
            json_object_set_new(o, k, json_string(t));
    }
    *out = o;
    return FERR_OK;
}

static enum ferr_code bool_in(const struct image_step *s, const char *name,
                              bool *out, struct ferr *err)
{
    const char *t = in(s, name);
    struct span v;

    *out = false;
    if (!t)
        return FERR_OK;
    v = span_trim(span_cstr(t));
    if (span_eq_nocase(v, SPAN_LIT("true"))) {
        *out = true;
        return FERR_OK;
    }
    if (span_eq_nocase(v, SPAN_LIT("false")))
        return FERR_OK;
    return ferr_set(err, FERR_INVALID, NULL,
                    "input '%s': expected true or false, not '%s'", name, t);
}

static bool arg_name_ok(struct span n)
{
    if (n.len == 0 || n.len > 128 || (n.p[0] >= '0' && n.p[0] <= '9'))
        return false;
    for (size_t i = 0; i < n.len; i++) {
        char c = n.p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_'))
            return false;
    }
    return true;
}

static bool label_name_ok(struct span n)
{
    if (n.len == 0 || n.len > 256)
        return false;
    for (size_t i = 0; i < n.len; i++) {
        char c = n.p[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-' ||
              c == '/'))
            return false;
    }
    return true;
}

/* NAME=value lines ('#' comments, blank lines skipped) into @out. */
static enum ferr_code parse_pairs(const char *input, const char *text,
                                  bool (*name_ok)(struct span), json_t *out,
                                  struct ferr *err)
{
    struct span rest = span_cstr(text), line, name, value;
    unsigned lineno = 0;
    bool more = true;

    while (more) {
        char q[72];
        char *k;

        more = span_cut(rest, '\n', &line, &rest);
        lineno++;
        line = span_trim(line);
        if (line.len == 0 || line.p[0] == '#')
            continue;
        if (!span_cut(line, '=', &name, &value) || !name_ok(span_trim(name)))
            return ferr_set(err, FERR_INVALID, NULL,
                            "input '%s': line %u: expected NAME=value, not "
                            "'%s'",
                            input, lineno, span_quote(line.p, line.len, q));
        if (json_object_size(out) >= MAX_PAIRS)
            return ferr_set(err, FERR_LIMIT, NULL,
                            "input '%s': more than %u lines", input, MAX_PAIRS);
        name = span_trim(name);
        k = xstrndup(name.p, name.len);
        json_object_set_new(out, k, json_stringn(value.p, value.len));
        free(k);
    }
    return FERR_OK;
}

/* Input 'tags': tags separated by newlines, commas or blanks. */
static enum ferr_code extra_tags(struct image_step *s, struct ferr *err)
{
    const char *t = in(s, "tags");
    const char *p = t;

    while (p && *p) {
        size_t n = strcspn(p, ", \t\r\n");

        if (n) {
            char *tag = xstrndup(p, n);
            enum ferr_code rc = tags_list_add(&s->tags, tag, err);

            free(tag);
            if (rc) {
                ferr_prefix(err, "input 'tags'");
                return rc;
            }
        }
        p += n;
        p += strspn(p, ", \t\r\n");
    }
    return FERR_OK;
}

/* Zero the password input in @o before the object goes. */
static void wipe_password(json_t *o)
{
    const char *p = json_string_value(json_object_get(o, "password"));

    if (p && json_object_get(o, "password")->refcount == 1)
        explicit_bzero((char *)p, strlen(p));
}

static void step_release(struct image_step *s)
{
    wipe_password(s->in);
    json_decref(s->in);
    json_decref(s->buildargs);
    json_decref(s->labels);
    free(s->registry);
    tags_list_release(&s->tags);
    memset(s, 0, sizeof(*s));
}

/* Labels ferry adds unless given: where the image comes from. */
static void default_labels(json_t *labels)
{
    const char *sha = getenv("GITHUB_SHA");
    const char *server = getenv("GITHUB_SERVER_URL");
    const char *repo = getenv("GITHUB_REPOSITORY");

    if (sha && *sha &&
        !json_object_get(labels, "org.opencontainers.image.revision"))
        json_object_set_new(labels, "org.opencontainers.image.revision",
                            json_string_nocheck(sha));
    if (server && *server && repo && *repo &&
        !json_object_get(labels, "org.opencontainers.image.source")) {
        char *src = xasprintf("%s/%s", server, repo);

        json_object_set_new(labels, "org.opencontainers.image.source",
                            json_string_nocheck(src));
        free(src);
    }
}

static enum ferr_code parse_step(struct image_step *s, json_t *raw,
                                 struct ferr *err)
{
    struct tags_input ti;
    char *repo = NULL, *tag = NULL, *digest = NULL;
    enum ferr_code rc;

    memset(s, 0, sizeof(*s));
    tags_list_init(&s->tags);
    s->buildargs = json_object();
    s->labels = json_object();
    rc = copy_inputs(raw, &s->in, err);
    if (rc)
        return rc;
    s->name = in(s, "name");
    if (!s->name)
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'name' is required (the repository, e.g. "
                        "127.0.0.1:5000/team/app)");
    rc = tags_parse_ref(s->name, &repo, &tag, &digest, &s->registry, err);
    if (!rc && (tag || digest))
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "input 'name': '%s' is a repository without a tag or "
                      "digest (tags come from the scheme and input 'tags')",
                      s->name);
    free(repo);
    free(tag);
    free(digest);
    if (rc) {
        if (!strstr(err->msg, "input 'name'"))
            ferr_prefix(err, "input 'name'");
        return rc;
    }
    s->context = in(s, "context") ? in(s, "context") : ".";
    s->file = in(s, "file");
    if (s->file && (s->file[0] == '/' || strstr(s->file, "..")))
        return ferr_set(err, FERR_INVALID, NULL,
                        "input 'file': '%s' must be relative to the "
                        "context, without '..'",
                        s->file);
    rc = bool_in(s, "push", &s->push, err);
    if (!rc)
        rc = bool_in(s, "no-cache", &s->no_cache, err);
    if (rc)
        return rc;
    if (!in(s, "username") != !in(s, "password"))
        return ferr_set(err, FERR_INVALID, NULL,
                        "inputs 'username' and 'password' go together");
    /* with or without push: they also serve the build's pulls (a
     * private base image on the registry of 'name') */
    if (in(s, "build-args"))
        rc = parse_pairs("build-args", in(s, "build-args"), arg_name_ok,
                         s->buildargs, err);
    if (!rc && in(s, "labels"))
        rc = parse_pairs("labels", in(s, "labels"), label_name_ok, s->labels,
                         err);
    if (rc)
        return rc;
    default_labels(s->labels);
    ti.ref = getenv("GITHUB_REF");
    ti.sha = getenv("GITHUB_SHA");
    ti.run_number = getenv("GITHUB_RUN_NUMBER");
    ti.default_branch = getenv("FERRY_DEFAULT_BRANCH");
    rc = tags_scheme(&ti, &s->tags, err);
    if (!rc)
        rc = extra_tags(s, err);
    return rc;
}

/* ---- what the job gets back ---- */

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

static void append_file(const char *var, const char *text)
{
    const char *path = getenv(var);
    FILE *f;

    if (!path || !*path)
        return;
    f = fopen(path, "ae");
    if (!f) {
        fprintf(stderr, "ferry image: warning: cannot write $%s: %s\n", var,
                strerror(errno));
        return;
    }
    fputs(text, f);
    fclose(f);
}

static char *join_tags(const struct tags_list *l, const char *sep)
{
    struct buf b;

    buf_init(&b, 64 * 1024);
    for (size_t i = 0; i < l->n; i++)
        if (buf_adds(&b, i ? sep : "") || buf_adds(&b, l->v[i]))
            break; /* cut: TAGS_MAX tags of 128 fit */
    return buf_take(&b, NULL);
}

static void report(const struct image_step *s, const char *id,
                   const char *digest, const char *ref)
{
    json_t *tags = json_array();
    json_t *line;
    char *text, *joined, *summary;

    for (size_t i = 0; i < s->tags.n; i++)
        json_array_append_new(tags, json_string(s->tags.v[i]));
    line = json_pack("{s:s, s:s, s:s, s:s, s:o, s:b}", "kind", "image", "name",
                     s->name, "digest", digest, "id", id, "tags", tags,
                     "pushed", s->push);
    text = line ? json_dumps(line, JSON_COMPACT) : NULL;
    if (text) {
        char *l = xasprintf("%s\n", text);

        append_file("FERRY_REPORT", l);
        free(l);
    }
    free(text);
    json_decref(line);
    joined = join_tags(&s->tags, ",");
    set_output("image", s->name);
    set_output("id", id);
    set_output("digest", digest);
    set_output("ref", ref);
    set_output("tags", joined);
    free(joined);
    joined = join_tags(&s->tags, "`, `");
    summary = xasprintf("### Image `%s`\n\n"
                        "| | |\n|---|---|\n"
                        "| tags | `%s` |\n"
                        "| %s | `%s` |\n"
                        "| reference | `%s` |\n"
                        "| pushed | %s |\n\n",
                        s->name, joined, s->push ? "digest" : "image id",
                        digest, ref, s->push ? "yes" : "no (push: false)");
    append_file("GITHUB_STEP_SUMMARY", summary);
    free(summary);
    free(joined);
}

/* ---- the engine ---- */

static void on_progress(void *ud, const char *line)
{
    (void)ud;
    printf("%s\n", line);
    fflush(stdout);
}

static bool is_dir(const char *path)
{
    struct stat st;

    return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* What to do about a registry that said no. */
static void auth_hint(const struct image_step *s)
{
    const char *reg = s->registry ? s->registry : "docker.io";

    if (in(s, "username"))
        fprintf(stderr,
                "ferry image: check inputs 'username' and 'password': "
                "registry '%s' does not accept them\n",
                reg);
    else
        fprintf(stderr,
                "ferry image: registry '%s' needs credentials: give inputs "
                "'username' and 'password' (from secrets, e.g. "
                "${{ secrets.REGISTRY_PASSWORD }})\n",
                reg);
}

static int build_and_push(struct image_step *s)
{
    struct docker *d = NULL;
    struct docker_build b;
    const char **refs = xcalloc(s->tags.n + 1, sizeof(*refs));
    char *id = NULL, *digest = NULL, *auth = NULL, *ref = NULL;
    char *config = NULL;
    struct ferr err;
    int status = 1;

    ferr_clear(&err);
    for (size_t i = 0; i < s->tags.n; i++)
        refs[i] = xasprintf("%s:%s", s->name, s->tags.v[i]);
    if (!is_dir(s->context)) {
        fprintf(stderr,
                "ferry image: input 'context': '%s' is not a directory of "
                "the workspace\n",
                s->context);
        status = 2;
        goto done;
    }
    if (s->file) {
        char *p = xasprintf("%s/%s", s->context, s->file);
        bool there = access(p, R_OK) == 0;

        free(p);
        if (!there) {
            fprintf(stderr,
                    "ferry image: input 'file': '%s' is not in the context "
                    "'%s'\n",
                    s->file, s->context);
            status = 2;
            goto done;
        }
    }
    if (docker_open(NULL, &d, &err)) {
        fprintf(stderr, "ferry image: %s\n", err.msg);
        goto done;
    }
    printf("building %s from '%s'%s%s, tags: ", s->name, s->context,
           s->file ? " with " : "", s->file ? s->file : "");
    for (size_t i = 0; i < s->tags.n; i++)
        printf("%s%s", i ? ", " : "", s->tags.v[i]);
    printf("\n");
    fflush(stdout);
    memset(&b, 0, sizeof(b));
    b.context_dir = s->context;
    b.dockerfile = s->file;
    b.buildargs = json_object_size(s->buildargs) ? s->buildargs : NULL;
    b.labels = json_object_size(s->labels) ? s->labels : NULL;
    b.tags = refs;
    b.target = in(s, "target");
    b.no_cache = s->no_cache;
    if (in(s, "username")) {
        config = docker_registry_config(in(s, "username"), in(s, "password"),
                                        s->registry);
        b.registry_config = config;
    }
    if (docker_image_build(d, &b, on_progress, NULL, &id, &err)) {
        const char *why = err.msg;

        /* the engine's own words follow ours: no "build failed" twice */
        if (strncmp(why, "build failed: ", 14) == 0)
            why += 14;
        fprintf(stderr, "ferry image: the build of %s failed: %s\n", s->name,
                why);
        if (docker_auth_refused(err.msg))
            auth_hint(s);
        goto done;
    }
    printf("built %s (%s)\n", s->name, id);
    fflush(stdout);
    if (!s->push) {
        digest = xstrdup(id);
        ref = xasprintf("%s:%s", s->name, s->tags.v[0]);
        report(s, id, digest, ref);
        status = 0;
        goto done;
    }
    if (in(s, "username"))
        auth = docker_auth_header(in(s, "username"), in(s, "password"),
                                  s->registry);
    for (size_t i = 0; i < s->tags.n; i++) {
        char *got = NULL;

        printf("pushing %s\n", refs[i]);
        fflush(stdout);
        if (docker_image_push(d, s->name, s->tags.v[i], auth, on_progress, NULL,
                              &got, &err)) {
            fprintf(stderr, "ferry image: the push of %s was refused: %s\n",
                    refs[i], err.msg);
            if (docker_auth_refused(err.msg))
                auth_hint(s);
            goto done;
        }
        /* only the push knows: the engine's RepoDigests may name the
         * local manifest, which Podman recompresses on the way out */
        if (got && !digest)
            digest = xstrdup(got);
        else if (got && strcmp(got, digest) != 0)
            printf("warning: %s was stored as %s, not %s\n", refs[i], got,
                   digest);
        free(got);
    }
    if (!digest) {
        fprintf(stderr,
                "ferry image: the engine did not say which digest the "
                "registry stored for %s\n",
                s->name);
        goto done;
    }
    ref = xasprintf("%s@%s", s->name, digest);
    printf("pushed %s\n", ref);
    fflush(stdout);
    report(s, id, digest, ref);
    status = 0;
done:
    docker_close(d);
    for (size_t i = 0; i < s->tags.n; i++)
        free((char *)refs[i]);
    free(refs);
    free(id);
    free(digest);
    free(ref);
    if (auth) {
        explicit_bzero(auth, strlen(auth));
        free(auth);
    }
    if (config) {
        explicit_bzero(config, strlen(config));
        free(config);
    }
    return status;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: ferry __image                      (inputs in INPUT_*)\n"
            "internal: run by `uses: ferry/image@v1`; see "
            "docs/workflows.md\n");
    return 2;
}

int cli_image(int argc, char **argv)
{
    struct image_step s;
    json_t *raw;
    struct ferr err;
    int status;

    (void)argv;
    if (argc > 1)
        return usage();
    setvbuf(stdout, NULL, _IOLBF, 0);
    ferr_clear(&err);
    raw = cli_inputs_take();
    if (parse_step(&s, raw, &err)) {
        fprintf(stderr, "ferry image: %s\n", err.msg);
        wipe_password(raw);
        json_decref(raw);
        step_release(&s);
        return 2;
    }
    wipe_password(raw);
    json_decref(raw);
    if (getenv("GITHUB_WORKSPACE") && *getenv("GITHUB_WORKSPACE") &&
        chdir(getenv("GITHUB_WORKSPACE")) != 0) {
        fprintf(stderr, "ferry image: cannot enter the workspace '%s': %s\n",
                getenv("GITHUB_WORKSPACE"), strerror(errno));
        step_release(&s);
        return 1;
    }
    status = build_and_push(&s);
    step_release(&s);
    return status;
}
