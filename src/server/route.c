/* route: segment-by-segment matching of raw request paths against the
 * API's patterns, with percent-decoding of what ':name' and '*' capture,
 * and the splitting of raw queries.  It does not decode literal
 * segments or normalise paths: dot segments and empty segments are
 * refused, not resolved. */
#include "server/route.h"

#include <string.h>

#include "util/span.h"

enum cap_kind { CAP_SEG, CAP_REST };

struct cap {
    enum cap_kind kind;
    struct span raw; /* undecoded; CAP_REST without its leading '/' */
};

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decode @s into @out (room for s.len bytes; *@out_len bytes written)
 * or only check it when @out is NULL.  False on a bad escape, or when a
 * decoded byte is '/' or NUL, or when the segment decodes to "." or "..". */
static bool decode_seg(struct span s, char *out, size_t *out_len)
{
    size_t n = 0;
    bool dots = true;

    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (c == '%') {
            int hi;
            int lo;

            if (s.len - i < 3)
                return false;
            hi = hexval(s.p[i + 1]);
            lo = hexval(s.p[i + 2]);
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi * 16 + lo);
            i += 2;
        }
        if (c == '/' || c == '\0')
            return false;
        if (c != '.')
            dots = false;
        if (out)
            out[n] = c;
        n++;
    }
    if (out_len)
        *out_len = n;
    return !(dots && (n == 1 || n == 2));
}

/* A raw segment that never matches anything: empty, "." or "..". */
static bool bad_raw_seg(struct span s)
{
    return s.len == 0 || span_eq_cstr(s, ".") || span_eq_cstr(s, "..");
}

/* The segment starting after the '/' at *@pos; *@pos moves to the next
 * '/' or to the terminating NUL. */
static struct span take_seg(const char **pos)
{
    const char *start = *pos + 1;
    const char *end = strchr(start, '/');

    if (!end)
        end = start + strlen(start);
    *pos = end;
    return span_of(start, (size_t)(end - start));
}

/* Every segment of a '*' capture must be acceptable on its own. */
static bool check_rest(struct span rest)
{
    struct span head;
    struct span tail = rest;

    if (rest.len == 0)
        return true;
    for (;;) {
        bool more = span_cut(tail, '/', &head, &tail);

        if (bad_raw_seg(head) || !decode_seg(head, NULL, NULL))
            return false;
        if (!more)
            return true;
    }
}

/* Pass 1: structure and validity, without allocating. */
static bool match_raw(const char *pattern, const char *path, struct cap *caps,
                      size_t *out_n)
{
    const char *pp = pattern;
    const char *sp = path;
    size_t n = 0;

    if (strcmp(pattern, "/") == 0)
        return strcmp(path, "/") == 0;
    for (;;) {
        struct span pseg;
        struct span sseg;

        if (strcmp(pp, "/*") == 0) {
            struct span rest = span_cstr(*sp ? sp + 1 : sp);

            if (n >= ROUTE_MAX_CAPS || !check_rest(rest))
                return false;
            caps[n].kind = CAP_REST;
            caps[n].raw = rest;
            *out_n = n + 1;
            return true;
        }
        if (*pp == '\0' || *sp == '\0') {
            *out_n = n;
            return *pp == '\0' && *sp == '\0';
        }
        pseg = take_seg(&pp);
        sseg = take_seg(&sp);
        if (bad_raw_seg(sseg))
            return false;
        if (pseg.len > 0 && pseg.p[0] == ':') {
            if (n >= ROUTE_MAX_CAPS || !decode_seg(sseg, NULL, NULL))
                return false;
            caps[n].kind = CAP_SEG;
            caps[n].raw = sseg;
            n++;
        } else if (!span_eq(pseg, sseg)) {
            return false;
        }
    }
}

/* Pass 2: decode a capture that pass 1 accepted. */
static char *decode_cap(struct arena *a, const struct cap *c)
{
    char *out = arena_alloc(a, c->raw.len + 1);
    struct span head;
    struct span tail = c->raw;
    size_t n = 0;
    size_t len = 0;

    if (c->kind == CAP_SEG) {
        (void)decode_seg(c->raw, out, &len);
        out[len] = '\0';
        return out;
    }
    while (tail.len > 0) {
        bool more = span_cut(tail, '/', &head, &tail);

        (void)decode_seg(head, out + n, &len);
        n += len;
        if (more)
            out[n++] = '/';
    }
    out[n] = '\0';
    return out;
}

bool route_match(struct arena *a, const char *pattern, const char *path,
                 const char **caps, size_t *out_ncaps)
{
    struct cap raw[ROUTE_MAX_CAPS];
    size_t n = 0;

    *out_ncaps = 0;
    if (!pattern || !path || pattern[0] != '/' || path[0] != '/')
        return false;
    if (!match_raw(pattern, path, raw, &n))
        return false;
    for (size_t i = 0; i < n; i++)
        caps[i] = decode_cap(a, &raw[i]);
    *out_ncaps = n;
    return true;
}

/* application/x-www-form-urlencoded decoding of @s into @a. */
static const char *form_decode(struct arena *a, struct span s)
{
    char *out = arena_alloc(a, s.len + 1);
    size_t n = 0;

    for (size_t i = 0; i < s.len; i++) {
        char c = s.p[i];

        if (c == '+') {
            c = ' ';
        } else if (c == '%' && s.len - i >= 3 && hexval(s.p[i + 1]) >= 0 &&
                   hexval(s.p[i + 2]) >= 0) {
            c = (char)(hexval(s.p[i + 1]) * 16 + hexval(s.p[i + 2]));
            i += 2;
        }
        out[n++] = c;
    }
    out[n] = '\0';
    return out;
}

size_t route_parse_query(struct arena *a, const char *query,
                         struct route_arg **out_args)
{
    struct span rest = span_cstr(query);
    struct route_arg *args;
    size_t max = 1;
    size_t n = 0;

    *out_args = NULL;
    if (rest.len == 0)
        return 0;
    for (size_t i = 0; i < rest.len; i++)
        if (rest.p[i] == '&')
            max++;
    args = arena_alloc(a, max * sizeof(*args));
    while (rest.len > 0) {
        struct span pair;
        struct span key;
        struct span value;

        span_cut(rest, '&', &pair, &rest);
        if (pair.len == 0)
            continue;
        span_cut(pair, '=', &key, &value);
        args[n].key = form_decode(a, key);
        args[n].value = form_decode(a, value);
        n++;
    }
    *out_args = n ? args : NULL;
    return n;
}

bool route_id(const char *s, int64_t *out)
{
    uint64_t v;

    *out = 0;
    if (!s || s[0] < '1' || s[0] > '9')
        return false;
    if (span_to_u64(span_cstr(s), &v) || v > (uint64_t)INT64_MAX)
        return false;
    *out = (int64_t)v;
    return true;
}
