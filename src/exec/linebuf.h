/* linebuf: turn a byte stream (reads of any size) into lines.  Lines
 * longer than LIM_LOG_LINE are cut into pieces of that size. */
#ifndef FERRY_EXEC_LINEBUF_H
#define FERRY_EXEC_LINEBUF_H

#include <stddef.h>

#include "util/buf.h"
#include "util/span.h"

struct linebuf {
    struct buf pending;  /* bytes after the last newline */
};

/** Start with no pending bytes. */
void linebuf_init(struct linebuf *lb);
/** Drop pending bytes and free them; @lb can be linebuf_init'ed again. */
void linebuf_release(struct linebuf *lb);

/**
 * Feed @n bytes; call @cb for each complete line (without "\n" or a
 * trailing "\r").  Stops early and returns @cb's non-zero result (the
 * rest of @p is then dropped).  The lines depend only on the bytes, not
 * on how they were split into calls; @cb's span is valid during the call.
 */
int linebuf_feed(struct linebuf *lb, const char *p, size_t n,
                 int (*cb)(void *ud, struct span line), void *ud);

/** At EOF: deliver the unterminated rest, if any, as a last line; @lb is
 *  then empty and can take a new stream. */
int linebuf_finish(struct linebuf *lb,
                   int (*cb)(void *ud, struct span line), void *ud);

#endif
