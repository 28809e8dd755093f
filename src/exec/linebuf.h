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

void linebuf_init(struct linebuf *lb);
void linebuf_release(struct linebuf *lb);

/**
 * Feed @n bytes; call @cb for each complete line (without "\n" or a
 * trailing "\r").  Stops early and returns @cb's non-zero result.
 */
int linebuf_feed(struct linebuf *lb, const char *p, size_t n,
                 int (*cb)(void *ud, struct span line), void *ud);

/** At EOF: deliver the unterminated rest, if any, as a last line. */
int linebuf_finish(struct linebuf *lb,
                   int (*cb)(void *ud, struct span line), void *ud);

#endif
