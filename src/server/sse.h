/* sse: the text/event-stream wire format (Server-Sent Events). */
#ifndef FERRY_SERVER_SSE_H
#define FERRY_SERVER_SSE_H

#include "util/buf.h"
#include "util/ferr.h"

/* The comment line httpd writes to an idle text/event-stream stream
 * (every httpd_opts.heartbeat_ms, 15 s by default): clients ignore it,
 * proxies see traffic and a gone client is noticed. */
#define SSE_HEARTBEAT ": keepalive\n\n"

/**
 * Append one event to @out: "id: ID\n" (when @id is not NULL), "event:
 * EVENT\n" (when @event is not NULL), one "data: LINE\n" per line of
 * @data (split at CRLF, CR and LF; NULL counts as ""), then an empty
 * line.
 * Errors: FERR_INVALID when @id or @event contains CR or LF;
 * FERR_LIMIT when @out would grow past its max.  @out is unchanged on
 * error.  Context: any thread.
 */
enum ferr_code sse_format(struct buf *out, const char *id, const char *event,
                          const char *data) FERR_MUST_CHECK;

#endif
