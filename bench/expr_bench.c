/* expr_bench: evaluations per second of typical workflow expressions
 * (expr_eval: parse + evaluate + result as JSON), each for about one
 * second (argv[1] seconds to change it), next to a baseline loop doing
 * by hand only the jansson lookups and work the expression needs.  The
 * ratio is what parsing and evaluating cost over raw lookups.  Not a
 * test: it checks each expression's result once and nothing else. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/expr.h"
#include "util/buf.h"

static const char contexts_json[] =
    "{\"github\": {\"ref\": \"refs/heads/main\", \"sha\": "
    "\"4f0c2a9d1e2b3c4d5e6f708192a3b4c5d6e7f809\", \"event_name\": "
    "\"push\", \"repository\": \"octo/app\", \"event\": {\"head_commit\": "
    "{\"message\": \"fix: tidy the parser [skip ci]\", \"id\": \"4f0c\"},"
    " \"ref\": \"refs/heads/main\"}},"
    " \"runner\": {\"os\": \"Linux\", \"arch\": \"X64\"},"
    " \"matrix\": {\"os\": \"ubuntu-latest\", \"node\": 20},"
    " \"needs\": {\"setup\": {\"result\": \"success\", \"outputs\": "
    "{\"matrix\": \"{\\\"include\\\": [{\\\"os\\\": \\\"linux\\\"}, "
    "{\\\"os\\\": \\\"macos\\\"}]}\"}}},"
    " \"steps\": {\"build\": {\"outputs\": {\"version\": \"1.4.2\"}, "
    "\"outcome\": \"success\"}}}";

static volatile size_t sink; /* keeps the baselines from being elided */

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static json_t *path2(json_t *c, const char *a, const char *b)
{
    return json_object_get(json_object_get(c, a), b);
}

/* Baselines: what each expression does, written by hand. */
static void base_ref(json_t *c)
{
    const char *s = json_string_value(path2(c, "github", "ref"));

    sink += s && strcmp(s, "refs/heads/main") == 0;
}

static void base_contains(json_t *c)
{
    json_t *ev = path2(c, "github", "event");
    const char *s = json_string_value(
        json_object_get(json_object_get(ev, "head_commit"), "message"));

    sink += s && strcasestr(s, "[skip ci]") != NULL;
}

static void base_format(json_t *c)
{
    char out[256];
    const char *os = json_string_value(path2(c, "runner", "os"));
    json_int_t node = json_integer_value(path2(c, "matrix", "node"));
    const char *sha = json_string_value(path2(c, "github", "sha"));

    sink += (size_t)snprintf(out, sizeof(out), "%s-%lld-%s", os,
                             (long long)node, sha);
}

static void base_fromjson(json_t *c)
{
    json_t *o = json_object_get(path2(c, "needs", "setup"), "outputs");
    const char *s = json_string_value(json_object_get(o, "matrix"));
    json_t *j = json_loads(s, JSON_DECODE_ANY, NULL);
    json_t *first = json_array_get(json_object_get(j, "include"), 0);

    sink += json_string_length(json_object_get(first, "os"));
    json_decref(j);
}

static void base_steps(json_t *c)
{
    json_t *b = path2(c, "steps", "build");

    sink += json_string_length(
        json_object_get(json_object_get(b, "outputs"), "version"));
}

static void base_and(json_t *c)
{
    const char *s = json_string_value(path2(c, "matrix", "os"));

    sink += s && strcmp(s, "ubuntu-latest") == 0;
}

struct item {
    const char *expr;
    const char *want; /* the result's string form */
    void (*base)(json_t *c);
};

static const struct item items[] = {
    { "github.ref == 'refs/heads/main'", "true", base_ref },
    { "contains(github.event.head_commit.message, '[skip ci]')", "true",
      base_contains },
    { "format('{0}-{1}-{2}', runner.os, matrix.node, github.sha)",
      "Linux-20-4f0c2a9d1e2b3c4d5e6f708192a3b4c5d6e7f809", base_format },
    { "fromJSON(needs.setup.outputs.matrix).include[0].os", "linux",
      base_fromjson },
    { "steps.build.outputs.version", "1.4.2", base_steps },
    { "matrix.os == 'ubuntu-latest' && success()", "true", base_and },
};

#define NITEMS (sizeof(items) / sizeof(items[0]))
#define BATCH 1000

static int eval_once(const struct expr_env *env, const char *src,
                     struct buf *str)
{
    struct ferr err;
    json_t *out = NULL;
    int rc;

    ferr_clear(&err);
    rc = expr_eval(env, span_cstr(src), NULL, &out, &err);
    if (!rc && str) {
        buf_reset(str);
        rc = expr_to_string(out, str);
    }
    json_decref(out);
    if (rc)
        fprintf(stderr, "expr_bench: '%s': %s\n", src, err.msg);
    return rc;
}

int main(int argc, char **argv)
{
    double secs = argc > 1 ? strtod(argv[1], NULL) : 1.0;
    json_t *ctx = json_loads(contexts_json, 0, NULL);
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    struct buf str;
    double total_n = 0;
    double total_t = 0;

    if (!ctx || secs <= 0) {
        fprintf(stderr, "usage: expr_bench [seconds]\n");
        return 2;
    }
    buf_init(&str, 4096);
    printf("%-58s %12s %12s %9s\n", "expression", "evals/s", "baseline/s",
           "ratio");
    for (size_t i = 0; i < NITEMS; i++) {
        const struct item *it = &items[i];
        double t0;
        double te;
        double tb;
        double n = 0;
        double nb = 0;

        if (eval_once(&env, it->expr, &str) ||
            strcmp(str.p ? str.p : "", it->want) != 0) {
            fprintf(stderr, "expr_bench: '%s' gave '%s', want '%s'\n",
                    it->expr, str.p ? str.p : "", it->want);
            return 1;
        }
        t0 = now();
        do {
            for (int k = 0; k < BATCH; k++)
                if (eval_once(&env, it->expr, NULL))
                    return 1;
            n += BATCH;
            te = now() - t0;
        } while (te < secs);
        t0 = now();
        do {
            for (int k = 0; k < BATCH; k++)
                it->base(ctx);
            nb += BATCH;
            tb = now() - t0;
        } while (tb < secs);
        printf("%-58s %12.0f %12.0f %8.1fx\n", it->expr, n / te, nb / tb,
               (nb / tb) / (n / te));
        total_n += n;
        total_t += te;
    }
    printf("%-58s %12.0f\n", "overall (all expressions)", total_n / total_t);
    buf_release(&str);
    json_decref(ctx);
    return sink == 0; /* the baselines ran */
}
