/* span: small helpers over borrowed text. */
#include "util/span.h"

#include <string.h>

struct span span_cstr(const char *s)
{
    return (struct span){ s ? s : "", s ? strlen(s) : 0 };
}

bool span_eq(struct span a, struct span b)
{
    return a.len == b.len && (a.len == 0 || memcmp(a.p, b.p, a.len) == 0);
}

bool span_eq_cstr(struct span a, const char *s)
{
    return span_eq(a, span_cstr(s));
}

static char lower(char c)
{
    return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

bool span_eq_nocase(struct span a, struct span b)
{
    if (a.len != b.len)
        return false;
    for (size_t i = 0; i < a.len; i++)
        if (lower(a.p[i]) != lower(b.p[i]))
            return false;
    return true;
}

bool span_starts_with(struct span s, struct span prefix)
{
    return s.len >= prefix.len &&
           (prefix.len == 0 || memcmp(s.p, prefix.p, prefix.len) == 0);
}

static bool space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
           c == '\v';
}

struct span span_trim(struct span s)
{
    while (s.len && space(s.p[0])) {
        s.p++;
        s.len--;
    }
    while (s.len && space(s.p[s.len - 1]))
        s.len--;
    return s;
}

enum ferr_code span_to_u64(struct span s, uint64_t *out)
{
    uint64_t v = 0;

    *out = 0;
    if (s.len == 0)
        return FERR_PARSE;
    for (size_t i = 0; i < s.len; i++) {
        unsigned d;

        if (s.p[i] < '0' || s.p[i] > '9')
            return FERR_PARSE;
        d = (unsigned)(s.p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return FERR_LIMIT;
        v = v * 10 + d;
    }
    *out = v;
    return FERR_OK;
}

enum ferr_code span_to_i64(struct span s, int64_t *out)
{
    bool neg = s.len > 0 && s.p[0] == '-';
    uint64_t v;
    enum ferr_code rc;

    *out = 0;
    if (neg) {
        s.p++;
        s.len--;
    }
    rc = span_to_u64(s, &v);
    if (rc)
        return rc;
    if (v > (uint64_t)INT64_MAX + (neg ? 1u : 0u))
        return FERR_LIMIT;
    *out = neg ? (int64_t)(0 - v) : (int64_t)v;
    return FERR_OK;
}

bool span_cut(struct span s, char c, struct span *head, struct span *tail)
{
    const char *p = s.len ? memchr(s.p, c, s.len) : NULL;

    if (!p) {
        *head = s;
        *tail = (struct span){ s.p + s.len, 0 };
        return false;
    }
    *head = (struct span){ s.p, (size_t)(p - s.p) };
    *tail = (struct span){ p + 1, s.len - (size_t)(p - s.p) - 1 };
    return true;
}

size_t span_utf8_len(const unsigned char *p, size_t n)
{
    unsigned c = p[0];
    size_t len;
    uint32_t cp;

    if (c < 0x80)
        return 1;
    if (c >= 0xc2 && c <= 0xdf)
        len = 2, cp = c & 0x1f;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, cp = c & 0x0f;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, cp = c & 0x07;
    else
        return 0;
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((p[i] & 0xc0) != 0x80)
            return 0;
        cp = (cp << 6) | (p[i] & 0x3f);
    }
    if ((len == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (len == 4 && (cp < 0x10000 || cp > 0x10ffff)))
        return 0;
    return len;
}

const char *span_quote(const char *s, size_t n, char out[72])
{
    size_t j = 0;

    for (size_t i = 0; i < n && j < 64; i++) {
        unsigned char c = (unsigned char)s[i];

        out[j++] = c >= 0x20 && c < 0x7f ? (char)c : '?';
    }
    if (n > 64) {
        memcpy(out + j, "...", 3);
        j += 3;
    }
    out[j] = '\0';
    return out;
}
