/* buf: growable buffer with a hard cap.  Does not know about encodings. */
#include "util/buf.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

void buf_init(struct buf *b, size_t max)
{
    b->p = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void buf_release(struct buf *b)
{
    free(b->p);
    buf_init(b, b->max);
}

void buf_reset(struct buf *b)
{
    b->len = 0;
    if (b->p)
        b->p[0] = '\0';
}

enum ferr_code buf_grow(struct buf *b, size_t n)
{
    size_t need;
    size_t cap;

    if (n > b->max || b->len > b->max - n)
        return FERR_LIMIT;
    need = b->len + n + 1;
    if (need <= b->cap)
        return FERR_OK;
    cap = b->cap ? b->cap : 64;
    while (cap < need)
        cap = cap * 2;
    if (cap > b->max + 1)
        cap = b->max + 1;
    b->p = xrealloc(b->p, cap);
    if (b->cap == 0)
        b->p[0] = '\0';
    b->cap = cap;
    return FERR_OK;
}

enum ferr_code buf_add(struct buf *b, const void *p, size_t n)
{
    enum ferr_code rc = buf_grow(b, n);

    if (rc)
        return rc;
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
    b->p[b->len] = '\0';
    return FERR_OK;
}

enum ferr_code buf_adds(struct buf *b, const char *s)
{
    return buf_add(b, s, strlen(s));
}

enum ferr_code buf_addspan(struct buf *b, struct span s)
{
    return buf_add(b, s.p, s.len);
}

enum ferr_code buf_addch(struct buf *b, char c)
{
    return buf_add(b, &c, 1);
}

enum ferr_code buf_vaddf(struct buf *b, const char *fmt, va_list ap)
{
    va_list ap2;
    int n;
    enum ferr_code rc;

    va_copy(ap2, ap);
    n = vsnprintf(NULL, 0, fmt, ap2);
    va_end(ap2);
    if (n < 0)
        return FERR_PARSE;
    rc = buf_grow(b, (size_t)n);
    if (rc)
        return rc;
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    b->len += (size_t)n;
    return FERR_OK;
}

enum ferr_code buf_addf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    enum ferr_code rc;

    va_start(ap, fmt);
    rc = buf_vaddf(b, fmt, ap);
    va_end(ap);
    return rc;
}

void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        buf_reset(b);
        return;
    }
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
    b->p[b->len] = '\0';
}

struct span buf_span(const struct buf *b)
{
    return (struct span){ b->p ? b->p : "", b->len };
}

const char *buf_cstr(const struct buf *b)
{
    return b->p ? b->p : "";
}

char *buf_take(struct buf *b, size_t *out_len)
{
    char *p = b->p ? b->p : xstrdup("");

    if (out_len)
        *out_len = b->len;
    buf_init(b, b->max);
    return p;
}
