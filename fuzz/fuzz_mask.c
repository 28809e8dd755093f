/* fuzz_mask: the first bytes choose the secrets (a count, then a length
 * byte and that many bytes per secret), the rest is the line.  The output
 * must equal a naive reference masker, and no registered secret without
 * a '*' may survive in it.  A too small output buffer must fail without
 * writing. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/mask.h"
#include "util/xalloc.h"

#define MAXSEC 1024 /* > 8 values x 80 bytes: every line fits */

struct sec {
    const char *p;
    size_t len;
};

static bool blank(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\n\r\f\v", p[i]) || p[i] == '\0')
            return false;
    return true;
}

/* The lines mask_add registers from one value. */
static size_t split(const char *p, size_t n, struct sec *out, size_t nout)
{
    while (n) {
        const char *nl = memchr(p, '\n', n);
        size_t len = nl ? (size_t)(nl - p) : n;
        size_t adv = nl ? len + 1 : len;

        if (len && p[len - 1] == '\r')
            len--;
        if (len && !blank(p, len) && nout < MAXSEC)
            out[nout++] = (struct sec){ p, len };
        p += adv;
        n -= adv;
    }
    return nout;
}

static size_t naive(const struct sec *sec, size_t nsec, const char *s,
                    size_t n, char *out)
{
    char *mark = xcalloc(n + 1, 1);
    size_t o = 0;

    for (size_t i = 0; i < n; i++)
        for (size_t k = 0; k < nsec; k++)
            if (sec[k].len <= n - i && memcmp(s + i, sec[k].p, sec[k].len) == 0)
                memset(mark + i, 1, sec[k].len);
    for (size_t i = 0; i < n;) {
        if (!mark[i]) {
            out[o++] = s[i++];
            continue;
        }
        memcpy(out + o, "***", 3);
        o += 3;
        while (i < n && mark[i])
            i++;
    }
    free(mark);
    return o;
}

static bool contains(const char *h, size_t hn, const char *nd, size_t nn)
{
    return nn <= hn && memmem(h, hn, nd, nn) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *d = (const char *)data;
    struct sec sec[MAXSEC];
    size_t nsec = 0;
    size_t pos = 1;
    struct mask *m;
    struct buf out;
    char *want;
    size_t wn;

    if (size < 1)
        return 0;
    m = mask_new();
    for (unsigned k = 0; k < data[0] % 9u && pos < size; k++) {
        size_t len = data[pos++] % 80u; /* past 32: the hashed compare */

        if (len > size - pos)
            len = size - pos;
        if (mask_add(m, span_of(d + pos, len)))
            __builtin_trap();
        nsec = split(d + pos, len, sec, nsec);
        pos += len;
    }
    struct span line = span_of(d + pos, size - pos);

    buf_init(&out, 4 * line.len + 16);
    if (mask_line(m, line, &out))
        __builtin_trap();
    want = xmalloc(3 * line.len + 1);
    wn = naive(sec, nsec, line.p, line.len, want);
    if (out.len != wn || (wn && memcmp(out.p, want, wn) != 0))
        __builtin_trap();
    for (size_t k = 0; k < nsec; k++)
        if (!memchr(sec[k].p, '*', sec[k].len) &&
            contains(out.p ? out.p : "", out.len, sec[k].p, sec[k].len))
            __builtin_trap();
    if (wn > 0) {
        /* one byte short: FERR_LIMIT and nothing written */
        struct buf small;

        buf_init(&small, wn - 1);
        if (mask_line(m, line, &small) != FERR_LIMIT || small.len != 0)
            __builtin_trap();
        buf_release(&small);
    }
    free(want);
    buf_release(&out);
    mask_free(m);
    return 0;
}
