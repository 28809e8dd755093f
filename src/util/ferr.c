/* ferr: the error struct.  Formatting only; no allocation, so it is safe
 * to use on every error path. */
#include "util/ferr.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void ferr_clear(struct ferr *err)
{
    memset(err, 0, sizeof(*err));
}

enum ferr_code ferr_set_at(struct ferr *err, enum ferr_code code,
                           const struct pos *pos, const char *src_file,
                           int src_line, const char *fmt, ...)
{
    va_list ap;

    if (!err || err->code != FERR_OK)
        return code;
    err->code = code;
    if (pos)
        err->pos = *pos;
    else
        memset(&err->pos, 0, sizeof(err->pos));
    err->src_file = src_file;
    err->src_line = src_line;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
    va_end(ap);
    return code;
}

void ferr_prefix(struct ferr *err, const char *fmt, ...)
{
    char pre[256];
    char old[sizeof(err->msg)];
    va_list ap;

    if (!err || err->code == FERR_OK)
        return;
    va_start(ap, fmt);
    vsnprintf(pre, sizeof(pre), fmt, ap);
    va_end(ap);
    memcpy(old, err->msg, sizeof(old));
    snprintf(err->msg, sizeof(err->msg), "%s: %s", pre, old);
}

const char *ferr_format(const struct ferr *err, char *out, size_t n)
{
    if (err->pos.line > 0)
        snprintf(out, n, "%s:%u:%u: %s",
                 err->pos.file ? err->pos.file : "<input>",
                 (unsigned)err->pos.line, (unsigned)err->pos.col, err->msg);
    else if (err->pos.file)
        snprintf(out, n, "%s: %s", err->pos.file, err->msg);
    else
        snprintf(out, n, "%s", err->msg);
    return out;
}

const char *ferr_code_name(enum ferr_code code)
{
    switch (code) {
    case FERR_OK: return "ok";
    case FERR_PARSE: return "parse error";
    case FERR_INVALID: return "invalid";
    case FERR_LIMIT: return "limit exceeded";
    case FERR_NOTFOUND: return "not found";
    case FERR_IO: return "i/o error";
    case FERR_EXEC: return "exec failed";
    case FERR_USAGE: return "usage";
    case FERR_UNSUPPORTED: return "unsupported";
    }
    return "unknown";
}
