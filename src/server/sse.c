/* sse: formats Server-Sent Events (one "data:" line per line of data).
 * It does not keep connections, track ids or send heartbeats: httpd
 * writes SSE_HEARTBEAT to idle streams. */
#include "server/sse.h"

#include <string.h>

static enum ferr_code add_field(struct buf *b, const char *name,
                                const char *value, size_t len)
{
    enum ferr_code rc = buf_adds(b, name);

    if (!rc)
        rc = buf_add(b, ": ", 2);
    if (!rc)
        rc = buf_add(b, value, len);
    if (!rc)
        rc = buf_addch(b, '\n');
    return rc;
}

enum ferr_code sse_format(struct buf *out, const char *id, const char *event,
                          const char *data)
{
    struct buf ev;
    enum ferr_code rc = FERR_OK;
    const char *p = data ? data : "";

    if ((id && strpbrk(id, "\r\n")) || (event && strpbrk(event, "\r\n")))
        return FERR_INVALID;
    /* built apart so that a FERR_LIMIT leaves @out as it was */
    buf_init(&ev, out->max);
    if (id)
        rc = add_field(&ev, "id", id, strlen(id));
    if (!rc && event)
        rc = add_field(&ev, "event", event, strlen(event));
    for (;;) {
        size_t n = strcspn(p, "\r\n");

        if (!rc)
            rc = add_field(&ev, "data", p, n);
        p += n;
        if (rc || *p == '\0')
            break;
        p += (p[0] == '\r' && p[1] == '\n') ? 2 : 1;
    }
    if (!rc)
        rc = buf_addch(&ev, '\n');
    if (!rc)
        rc = buf_add(out, ev.p, ev.len);
    buf_release(&ev);
    return rc;
}
