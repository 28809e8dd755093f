/* fuzz_docker_demux: the engine's streams as they arrive off the socket.
 * Byte 0 picks the parser (0: the multiplexed attach/exec stream, 1: the
 * JSON-lines progress stream, 2: .dockerignore text, a NUL, a path);
 * byte 1 seeds how the rest is cut into pieces.  The demux must give
 * exactly what a one-shot reference parse gives however the bytes are
 * cut; the JSON-lines splitter must see the same objects cut or whole;
 * nothing may crash or hang. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker/docker.h"
#include "docker/internal.h"

struct seen {
    unsigned char out[1 << 16];
    size_t n;
    int last_stream;
};

static void collect(void *ud, int stream, const char *p, size_t n)
{
    struct seen *s = ud;

    if (stream != 1 && stream != 2)
        __builtin_trap();
    if (n == 0)
        __builtin_trap(); /* empty pieces are never passed on */
    /* the stream id, then the bytes: equal sequences mean equal output */
    for (size_t i = 0; i < n && s->n + 2 <= sizeof(s->out); i++) {
        s->out[s->n++] = (unsigned char)stream;
        s->out[s->n++] = (unsigned char)p[i];
    }
}

/* The whole input at once, by the format's definition. */
static enum ferr_code reference(const unsigned char *p, size_t n,
                                struct seen *s, bool *partial)
{
    size_t i = 0;

    *partial = false;
    while (i < n) {
        uint32_t len;

        if (n - i < 8) {
            *partial = true;
            return FERR_OK;
        }
        if (p[i] > 2 || p[i + 1] || p[i + 2] || p[i + 3])
            return FERR_PARSE;
        len = (uint32_t)p[i + 4] << 24 | (uint32_t)p[i + 5] << 16 |
              (uint32_t)p[i + 6] << 8 | p[i + 7];
        i += 8;
        if (len > n - i) {
            if (n > i)
                collect(s, p[i - 8] == 0 ? 1 : p[i - 8], (const char *)p + i,
                        n - i);
            *partial = true;
            return FERR_OK;
        }
        if (len)
            collect(s, p[i - 8] == 0 ? 1 : p[i - 8], (const char *)p + i, len);
        i += len;
    }
    return FERR_OK;
}

static size_t next_cut(uint32_t *seed)
{
    *seed = *seed * 1103515245u + 12345u;
    return (*seed >> 16) % 23 + 1;
}

static void demux(const unsigned char *p, size_t n, uint32_t seed)
{
    static struct seen a, b;
    struct docker_demux m;
    enum ferr_code want, got = FERR_OK;
    bool partial;

    a.n = b.n = 0;
    want = reference(p, n, &a, &partial);
    docker_demux_init(&m);
    for (size_t i = 0; i < n && !got;) {
        size_t k = next_cut(&seed);

        if (k > n - i)
            k = n - i;
        got = docker_demux_feed(&m, p + i, k, collect, &b);
        i += k;
    }
    if (got != want || a.n != b.n || memcmp(a.out, b.out, a.n) != 0)
        __builtin_trap();
    if (!got && docker_demux_partial(&m) != partial)
        __builtin_trap();
    if (got && docker_demux_feed(&m, "x", 1, collect, &b) != FERR_PARSE)
        __builtin_trap(); /* stays unusable until init */
}

struct count {
    unsigned objs;
};

static void line_check(void *ud, const char *line)
{
    (void)ud;
    if (!line[0] || strchr(line, '\n') || strlen(line) > 1100)
        __builtin_trap();
}

static enum ferr_code on_obj(void *ud, json_t *obj, struct ferr *err)
{
    struct count *c = ud;

    (void)err;
    if (!json_is_object(obj))
        __builtin_trap();
    c->objs++;
    docker__progress_text(obj, line_check, NULL);
    (void)docker__stream_error(obj);
    return FERR_OK;
}

static void jsonl(const unsigned char *p, size_t n, uint32_t seed)
{
    struct count whole = {0}, cut = {0};
    struct docker__jsonl j;
    struct ferr err;
    enum ferr_code rw, rc = FERR_OK;

    ferr_clear(&err);
    docker__jsonl_init(&j, on_obj, &whole);
    rw = docker__jsonl_feed(&j, (const char *)p, n, &err);
    if (!rw)
        rw = docker__jsonl_finish(&j, &err);
    docker__jsonl_release(&j);
    ferr_clear(&err);
    docker__jsonl_init(&j, on_obj, &cut);
    for (size_t i = 0; i < n && !rc;) {
        size_t k = next_cut(&seed);

        if (k > n - i)
            k = n - i;
        rc = docker__jsonl_feed(&j, (const char *)p + i, k, &err);
        i += k;
    }
    if (!rc)
        rc = docker__jsonl_finish(&j, &err);
    docker__jsonl_release(&j);
    if (rc != rw || whole.objs != cut.objs)
        __builtin_trap();
    if (rc && !err.msg[0])
        __builtin_trap();
}

static void ignore(const unsigned char *p, size_t n)
{
    const unsigned char *nul = memchr(p, 0, n);
    size_t tn = nul ? (size_t)(nul - p) : n;
    char path[512];
    struct docker__ignore ig;
    struct ferr err;
    size_t pn = nul ? n - tn - 1 : 0;

    if (pn >= sizeof(path))
        pn = sizeof(path) - 1;
    memcpy(path, nul ? (const char *)nul + 1 : "", pn);
    path[pn] = '\0';
    ferr_clear(&err);
    if (docker__ignore_parse((const char *)p, tn, &ig, &err)) {
        if (ig.n || !err.msg[0])
            __builtin_trap();
        return;
    }
    (void)docker__ignore_excluded(&ig, path);
    for (size_t i = 0; i < ig.n; i++) {
        if (ig.v[i].pat[0] == '/' || !ig.v[i].pat[0])
            __builtin_trap(); /* cleaned: relative, never empty */
        (void)docker__ignore_match1(ig.v[i].pat, path);
    }
    docker__ignore_release(&ig);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    switch (data[0] % 3) {
    case 0: demux(data + 2, size - 2, data[1]); break;
    case 1: jsonl(data + 2, size - 2, data[1]); break;
    default: ignore(data + 2, size - 2); break;
    }
    return 0;
}
