/* json: UTF-8 repair for strings that come from child processes, and a
 * case-insensitive lookup (GitHub contexts ignore key case). */
#include "util/json.h"

#include <stdint.h>
#include <strings.h>

#include "util/buf.h"
#include "util/span.h"

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
        size_t l = span_utf8_len(u + i, n - i);

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
