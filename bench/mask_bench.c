/* mask_bench: throughput of mask_line over ~64 MB of generated CI log
 * lines with 100 random secrets, next to a plain memcpy of the same lines
 * and to the masker with no secrets.  Deterministic input (fixed seed);
 * prints MB/s, best of 5.  Not a test: it checks nothing but the count. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "exec/mask.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define TOTAL_BYTES (64u * 1024u * 1024u)
#define NSECRETS 100
#define SECRET_EVERY 200 /* about one line in this many carries a secret */
#define ROUNDS 5

struct lines {
    char *text;     /* all lines, back to back, no newlines */
    size_t *off;    /* line i is text[off[i] .. off[i + 1]) */
    size_t n;
    size_t bytes;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

static uint64_t rnd(void)
{
    uint64_t x = rng_state;

    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    rng_state = x;
    return x;
}

static size_t below(size_t n)
{
    return (size_t)(rnd() % n);
}

static const char *const words[] = {
    "the", "build", "test", "passed", "failed", "compiling", "linking",
    "warning", "error", "info", "debug", "downloading", "installing",
    "package", "version", "resolved", "dependency", "module", "target",
    "running", "finished", "in", "of", "to", "from", "with", "for", "at",
    "src/main.c", "lib/util/strings.go", "node_modules/.bin/tsc",
    "/home/runner/work/app/app", "cargo", "npm", "go", "make", "gcc",
    "-O2", "-Wall", "--release", "checking", "for", "working", "directory",
    "cache", "hit", "miss", "restored", "saved", "key", "artifact",
    "uploading", "bytes", "files", "seconds", "ms", "ok", "done", "step",
    "job", "workflow", "container", "image", "pulling", "layer", "sha256",
    "digest", "tests", "suite", "assertion", "expected", "actual", "line",
    "file", "function", "return", "value", "null", "undefined", "true",
    "false", "GET", "POST", "200", "404", "https://registry.npmjs.org/",
    "requests", "response", "timeout", "retry", "attempt", "connection",
};

static void add_str(struct buf *b, const char *s)
{
    if (buf_adds(b, s))
        abort();
}

static void add_word_line(struct buf *b, size_t want)
{
    char tmp[64];

    snprintf(tmp, sizeof(tmp), "2024-05-%02zuT%02zu:%02zu:%02zu.%03zuZ ",
             1 + below(28), below(24), below(60), below(60), below(1000));
    add_str(b, tmp);
    while (b->len < want) {
        size_t r = below(100);

        if (r < 80) {
            add_str(b, words[below(sizeof(words) / sizeof(words[0]))]);
        } else if (r < 92) {
            snprintf(tmp, sizeof(tmp), "%zu", below(100000));
            add_str(b, tmp);
        } else {
            /* hex digests are common in CI logs */
            for (int k = 0; k < 12; k++)
                tmp[k] = "0123456789abcdef"[below(16)];
            tmp[12] = '\0';
            add_str(b, tmp);
        }
        add_str(b, below(10) ? " " : ": ");
    }
}

static void make_secret(char *out, size_t len)
{
    static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnop"
                                "qrstuvwxyz0123456789_-";

    for (size_t i = 0; i < len; i++)
        out[i] = alnum[below(sizeof(alnum) - 1)];
}

static void make_lines(struct lines *L, char secrets[][41],
                       const size_t *slen)
{
    struct buf all;
    struct buf line;
    size_t cap = 1024;

    buf_init(&all, TOTAL_BYTES + 1024 * 1024);
    buf_init(&line, LIM_LOG_LINE);
    L->off = xmalloc(cap * sizeof(*L->off));
    L->n = 0;
    while (all.len < TOTAL_BYTES) {
        /* mostly short lines, some long ones (compiler commands, JSON) */
        size_t want = below(10) < 8 ? 20 + below(100) : 100 + below(400);

        buf_reset(&line);
        add_word_line(&line, want);
        if (below(SECRET_EVERY) == 0) {
            size_t k = below(NSECRETS);
            size_t at = below(line.len);

            line.len = at;
            add_str(&line, "token=");
            if (buf_add(&line, secrets[k], slen[k]))
                abort();
            add_str(&line, " rest of the line");
        }
        if (L->n + 2 > cap) {
            cap *= 2;
            L->off = xrealloc(L->off, cap * sizeof(*L->off));
        }
        L->off[L->n++] = all.len;
        if (buf_add(&all, line.p, line.len))
            abort();
    }
    L->off[L->n] = all.len;
    L->bytes = all.len;
    L->text = buf_take(&all, NULL);
    buf_release(&line);
}

static double now(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static volatile size_t sink;

static double time_mask(const struct mask *m, const struct lines *L,
                        struct buf *out, size_t *out_masked)
{
    double best = 1e9;

    for (int r = 0; r < ROUNDS; r++) {
        size_t total = 0;
        size_t masked = 0;
        double t0 = now();

        for (size_t i = 0; i < L->n; i++) {
            struct span s = { L->text + L->off[i], L->off[i + 1] - L->off[i] };

            buf_reset(out);
            if (mask_line(m, s, out))
                abort();
            total += out->len;
            masked += out->len != s.len;
        }
        double t = now() - t0;
        if (t < best)
            best = t;
        sink += total;
        *out_masked = masked;
    }
    return best;
}

static double time_memcpy(const struct lines *L, struct buf *out)
{
    double best = 1e9;

    for (int r = 0; r < ROUNDS; r++) {
        size_t total = 0;
        double t0 = now();

        for (size_t i = 0; i < L->n; i++) {
            size_t len = L->off[i + 1] - L->off[i];

            memcpy(out->p, L->text + L->off[i], len);
            out->p[len] = '\0';
            total += len + (unsigned char)out->p[len / 2];
        }
        double t = now() - t0;
        if (t < best)
            best = t;
        sink += total;
    }
    return best;
}

static void report(const char *what, const struct lines *L, double t)
{
    printf("%-34s %8.1f MB/s  (%.1f ms for %.1f MB, %zu lines)\n", what,
           (double)L->bytes / t / 1e6, t * 1e3, (double)L->bytes / 1e6,
           L->n);
}

int main(void)
{
    static char secrets[NSECRETS][41];
    size_t slen[NSECRETS];
    struct lines L;
    struct buf out;
    struct mask *none = mask_new();
    struct mask *m = mask_new();
    struct mask *one = mask_new();
    size_t masked = 0;
    double t;

    for (int i = 0; i < NSECRETS; i++) {
        slen[i] = 8 + below(33);
        make_secret(secrets[i], slen[i]);
        if (mask_add(m, span_of(secrets[i], slen[i])))
            abort();
    }
    make_lines(&L, secrets, slen);
    buf_init(&out, 4 * (size_t)LIM_LOG_LINE);
    if (buf_grow(&out, 4 * (size_t)LIM_LOG_LINE))
        abort();

    printf("mask_bench: %zu lines, %.1f MB, %zu secrets (8-40 bytes), "
           "best of %d\n", L.n, (double)L.bytes / 1e6, mask_count(m),
           ROUNDS);
    t = time_memcpy(&L, &out);
    report("memcpy baseline", &L, t);
    t = time_mask(none, &L, &out, &masked);
    report("mask_line, 0 secrets", &L, t);
    t = time_mask(m, &L, &out, &masked);
    report("mask_line, 100 secrets", &L, t);
    printf("%-34s %8zu\n", "  lines changed by masking", masked);
    if (mask_add(one, SPAN_LIT("#")) || mask_add(one, SPAN_LIT("Z")))
        abort();
    for (int i = 0; i < NSECRETS; i++)
        if (mask_add(one, span_of(secrets[i], slen[i])))
            abort();
    t = time_mask(one, &L, &out, &masked);
    report("mask_line, 100 + two 1-byte", &L, t);

    mask_free(none);
    mask_free(m);
    mask_free(one);
    buf_release(&out);
    free(L.text);
    free(L.off);
    return sink == 42;
}
