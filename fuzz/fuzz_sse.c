/* fuzz_sse: the input's first two bytes choose chunk sizes, the rest is an
 * event stream.  Fed in those chunks it must give exactly the events (and
 * the error) it gives fed at once; no type or id holds a line break, no
 * data holds a CR, and an event never carries more bytes than came in. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli/client.h"

struct seen {
    struct buf log; /* every event, length-prefixed */
    size_t in;      /* bytes of input, bounding what an event holds */
};

static int on_event(void *ud, const char *id, const char *event,
                    const char *data)
{
    struct seen *s = ud;
    size_t il = strlen(id), el = strlen(event), dl = strlen(data);

    if (el == 0 || strpbrk(event, "\r\n") || strpbrk(id, "\r\n") ||
        strchr(data, '\r'))
        __builtin_trap();
    if (il > s->in || dl > s->in || (el > s->in && strcmp(event, "message")))
        __builtin_trap();
    if (buf_addf(&s->log, "%zu:%s|%zu:%s|%zu:%s\n", il, id, el, event, dl,
                 data))
        __builtin_trap();
    return 0;
}

static enum ferr_code run(const uint8_t *data, size_t size, unsigned seed,
                          struct seen *s, char *last_id, size_t id_max)
{
    struct client_sse *p = client_sse_new(on_event, s);
    struct ferr err;
    enum ferr_code rc = FERR_OK;
    size_t off = 0;

    ferr_clear(&err);
    while (off < size && !rc) {
        size_t n = size - off;

        if (seed) {
            seed = seed * 1103515245u + 12345u;
            n = 1 + (seed >> 16) % 17;
            if (n > size - off)
                n = size - off;
        }
        rc = client_sse_feed(p, data + off, n, &err);
        off += n;
    }
    if (rc && (err.code != rc || err.msg[0] == '\0'))
        __builtin_trap();
    snprintf(last_id, id_max, "%s", client_sse_last_id(p));
    client_sse_free(p);
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct seen a, b;
    unsigned seed;
    char ida[256], idb[256];
    enum ferr_code ra, rb;

    if (size < 2)
        return 0;
    seed = ((unsigned)data[0] << 8 | data[1]) | 1u;
    data += 2;
    size -= 2;
    buf_init(&a.log, 64u * 1024 * 1024);
    buf_init(&b.log, 64u * 1024 * 1024);
    a.in = b.in = size;
    ra = run(data, size, 0, &a, ida, sizeof(ida));
    rb = run(data, size, seed, &b, idb, sizeof(idb));
    if (ra != rb || a.log.len != b.log.len ||
        memcmp(buf_cstr(&a.log), buf_cstr(&b.log), a.log.len) != 0 ||
        strcmp(ida, idb) != 0)
        __builtin_trap();
    buf_release(&a.log);
    buf_release(&b.log);
    return 0;
}
