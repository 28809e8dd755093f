/* json: UTF-8 repair for strings that come from child processes, and a
 * case-insensitive lookup (GitHub contexts ignore key case). */
#include "util/json.h"

#include <stdint.h>
#include <strings.h>

#include "util/buf.h"

/* Length of the valid UTF-8 sequence at p (1..4), or 0 if invalid. */
static size_t utf8_len(const unsigned char *p, size_t n)
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

json_t *json_lossy_stringn(const char *p, size_t n)
{
    const unsigned char *u = (const unsigned char *)p;
    struct buf b;
    size_t i = 0;
    json_t *s;

    s = json_stringn(p, n);
    if (s)
        return s;
    buf_init(&b, n * 3 + 16);
    while (i < n) {
        size_t l = utf8_len(u + i, n - i);

        if (l && u[i] != 0) {
            if (buf_add(&b, p + i, l))
                break;
            i += l;
        } else {
            /* NUL is valid UTF-8 but jansson rejects it in C strings */
            if (buf_add(&b, u[i] ? "\xef\xbf\xbd" : "\\0", u[i] ? 3 : 2))
                break;
            i++;
        }
    }
    s = json_stringn(buf_cstr(&b), b.len);
    buf_release(&b);
    return s ? s : json_string("");
}

json_t *json_object_get_nocase(const json_t *o, const char *key)
{
    const char *k;
    json_t *v;

    if (!json_is_object(o))
        return NULL;
    v = json_object_get(o, key);
    if (v)
        return v;
    json_object_foreach((json_t *)o, k, v) {
        if (strcasecmp(k, key) == 0)
            return v;
    }
    return NULL;
}
