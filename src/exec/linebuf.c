/* linebuf: assemble lines from reads of any size.  The lines delivered
 * depend only on the byte stream, never on how it was split: a line of L
 * bytes (after dropping one trailing '\r') comes out as ceil(L / LIM_LOG_LINE)
 * pieces.  It does not decode, mask or store anything. */
#include "exec/linebuf.h"

#include <assert.h>
#include <string.h>

#include "util/limits.h"

/* Pending never holds more than a piece plus two bytes: once it does, the
 * first LIM_LOG_LINE bytes are a full piece whatever follows (at most one
 * '\r' of the rest can vanish, and at least one byte remains). */
#define PENDING_MAX ((size_t)LIM_LOG_LINE + 2)

void linebuf_init(struct linebuf *lb)
{
    buf_init(&lb->pending, PENDING_MAX);
}

void linebuf_release(struct linebuf *lb)
{
    buf_release(&lb->pending);
}

/* Deliver one complete line (its '\r' still attached) in pieces. */
static int deliver(const char *p, size_t len,
                   int (*cb)(void *ud, struct span line), void *ud)
{
    int rc;

    if (len && p[len - 1] == '\r')
        len--;
    while (len > LIM_LOG_LINE) {
        rc = cb(ud, span_of(p, LIM_LOG_LINE));
        if (rc)
            return rc;
        p += LIM_LOG_LINE;
        len -= LIM_LOG_LINE;
    }
    return cb(ud, span_of(p, len));
}

/* Append bytes of an unfinished line, handing out full pieces. */
static int push(struct linebuf *lb, const char *p, size_t n,
                int (*cb)(void *ud, struct span line), void *ud)
{
    struct buf *b = &lb->pending;

    while (n) {
        size_t take = PENDING_MAX - b->len;
        enum ferr_code frc;

        if (take > n)
            take = n;
        frc = buf_add(b, p, take);
        assert(frc == FERR_OK); /* take keeps len <= PENDING_MAX */
        (void)frc;
        p += take;
        n -= take;
        if (b->len == PENDING_MAX) {
            int rc = cb(ud, span_of(b->p, LIM_LOG_LINE));

            buf_consume(b, LIM_LOG_LINE);
            if (rc)
                return rc;
        }
    }
    return 0;
}

int linebuf_feed(struct linebuf *lb, const char *p, size_t n,
                 int (*cb)(void *ud, struct span line), void *ud)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t len;
        int rc;

        if (!nl)
            return push(lb, p, n, cb, ud);
        len = (size_t)(nl - p);
        if (lb->pending.len == 0) {
            rc = deliver(p, len, cb, ud);
        } else {
            rc = push(lb, p, len, cb, ud);
            if (!rc)
                rc = deliver(lb->pending.p, lb->pending.len, cb, ud);
            buf_reset(&lb->pending);
        }
        if (rc)
            return rc;
        p += len + 1;
        n -= len + 1;
    }
    return 0;
}

int linebuf_finish(struct linebuf *lb,
                   int (*cb)(void *ud, struct span line), void *ud)
{
    int rc = 0;

    if (lb->pending.len)
        rc = deliver(lb->pending.p, lb->pending.len, cb, ud);
    buf_reset(&lb->pending);
    return rc;
}
