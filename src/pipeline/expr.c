/* expr: GitHub Actions expressions.  A lexer and recursive-descent parser
 * with the token rules of actions/runner's DTExpressions2, and an evaluator
 * with its coercion, index, filter and formatting rules (.NET "G15"
 * numbers, Newtonsoft's indented toJSON).  No I/O (hashFiles is a callback);
 * no Azure Pipelines-only functions; no case folding beyond ASCII. */
#include "pipeline/expr.h"

#include <locale.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/arena.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

#define MAX_FORMAT_ARGS 255u /* GitHub: a Byte of parameters */
#define MAX_JSON_NEST 4096u  /* toJSON recursion on outside values */
#define HASH_MAX 1024u       /* hashFiles result */

/* ------------------------------------------------------------------ */
/* characters and numbers                                              */

/* Bytes of the .NET Char.IsWhiteSpace character at @p (0 if none). */
static size_t ws_len(const char *p, size_t avail)
{
    const unsigned char *u = (const unsigned char *)p;

    if (!avail)
        return 0;
    if (u[0] == ' ' || (u[0] >= '\t' && u[0] <= '\r'))
        return 1;
    if (u[0] < 0xc2)
        return 0;
    if (u[0] == 0xc2)
        return avail >= 2 && (u[1] == 0x85 || u[1] == 0xa0) ? 2 : 0;
    if (avail < 3)
        return 0;
    if (u[0] == 0xe1 && u[1] == 0x9a && u[2] == 0x80) /* U+1680 */
        return 3;
    if (u[0] == 0xe2 && u[1] == 0x80 &&
        ((u[2] >= 0x80 && u[2] <= 0x8a) || u[2] == 0xa8 || u[2] == 0xa9 ||
         u[2] == 0xaf)) /* U+2000..200A, 2028, 2029, 202F */
        return 3;
    if (u[0] == 0xe2 && u[1] == 0x81 && u[2] == 0x9f) /* U+205F */
        return 3;
    if (u[0] == 0xe3 && u[1] == 0x80 && u[2] == 0x80) /* U+3000 */
        return 3;
    return 0;
}

/* .NET String.Trim(). */
static struct span trim_ws(struct span s)
{
    size_t k;

    while (s.len && (k = ws_len(s.p, s.len))) {
        s.p += k;
        s.len -= k;
    }
    for (;;) {
        if (s.len >= 1 && ws_len(s.p + s.len - 1, 1) == 1)
            s.len -= 1;
        else if (s.len >= 2 && ws_len(s.p + s.len - 2, 2) == 2)
            s.len -= 2;
        else if (s.len >= 3 && ws_len(s.p + s.len - 3, 3) == 3)
            s.len -= 3;
        else
            break;
    }
    return s;
}

static int upc(unsigned char c)
{
    return c >= 'a' && c <= 'z' ? c - ('a' - 'A') : c;
}

/* Ordinal ignore-case compare (.NET folds to upper case). */
static int ci_cmp(const char *a, size_t an, const char *b, size_t bn)
{
    size_t n = an < bn ? an : bn;

    for (size_t i = 0; i < n; i++) {
        int d = upc((unsigned char)a[i]) - upc((unsigned char)b[i]);

        if (d)
            return d;
    }
    return an < bn ? -1 : an > bn;
}

static bool ci_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (upc((unsigned char)a[i]) != upc((unsigned char)b[i]))
            return false;
    return true;
}

/* Case-insensitive substring test, linear (upper-cased copies + memmem). */
static bool ci_contains(const char *h, size_t hn, const char *nd, size_t nn)
{
    char hs[256];
    char ns[64];
    char *hb;
    char *nb;
    bool found;

    if (nn == 0)
        return true;
    if (nn > hn)
        return false;
    hb = hn <= sizeof(hs) ? hs : xmalloc(hn);
    nb = nn <= sizeof(ns) ? ns : xmalloc(nn);
    for (size_t i = 0; i < hn; i++)
        hb[i] = (char)upc((unsigned char)h[i]);
    for (size_t i = 0; i < nn; i++)
        nb[i] = (char)upc((unsigned char)nd[i]);
    found = memmem(hb, hn, nb, nn) != NULL;
    if (hb != hs)
        free(hb);
    if (nb != ns)
        free(nb);
    return found;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

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

/* Double.TryParse with AllowLeadingSign | AllowDecimalPoint |
 * AllowExponent: [+-] digits [. digits] [e [+-] digits], one digit at
 * least before the exponent. */
static bool decimal_syntax(const char *s, size_t n)
{
    size_t i = 0;
    size_t digits = 0;

    if (i < n && (s[i] == '+' || s[i] == '-'))
        i++;
    while (i < n && is_digit(s[i])) {
        i++;
        digits++;
    }
    if (i < n && s[i] == '.') {
        i++;
        while (i < n && is_digit(s[i])) {
            i++;
            digits++;
        }
    }
    if (!digits)
        return false;
    if (i < n && (s[i] == 'e' || s[i] == 'E')) {
        size_t exp_digits = 0;

        i++;
        if (i < n && (s[i] == '+' || s[i] == '-'))
            i++;
        while (i < n && is_digit(s[i])) {
            i++;
            exp_digits++;
        }
        if (!exp_digits)
            return false;
    }
    return i == n;
}

/* The "C" locale for strtod_l, made once (ferry never needs another). */
static locale_t c_locale(void)
{
    static locale_t loc;
    locale_t l = __atomic_load_n(&loc, __ATOMIC_ACQUIRE);
    locale_t none = (locale_t)0;

    if (l)
        return l;
    l = newlocale(LC_ALL_MASK, "C", (locale_t)0);
    if (!l)
        return (locale_t)0;
    if (!__atomic_compare_exchange_n(&loc, &none, l, false, __ATOMIC_ACQ_REL,
                                     __ATOMIC_ACQUIRE)) {
        freelocale(l);
        l = none;
    }
    return l;
}

/* @s has passed decimal_syntax. */
static double decimal_value(const char *s, size_t n)
{
    char small[64];
    char *b = n < sizeof(small) ? small : xmalloc(n + 1);
    locale_t loc = c_locale();
    double d;

    memcpy(b, s, n);
    b[n] = '\0';
    d = loc ? strtod_l(b, NULL, loc) : strtod(b, NULL);
    if (b != small)
        free(b);
    return d;
}

/* Digits of a "0x" or "0o" literal as Int32 (two's complement, as .NET's
 * hex and base-8 parsers); false on overflow past 32 bits. */
static bool radix_value(const char *s, size_t n, unsigned radix, double *out)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n; i++) {
        int d = hexval(s[i]);

        if (d < 0 || (unsigned)d >= radix)
            return false;
        v = v * radix + (unsigned)d;
        if (v > 0xffffffffull)
            return false;
    }
    *out = (double)(int32_t)(uint32_t)v;
    return true;
}

static bool word_nocase(const char *s, size_t n, const char *w)
{
    return ci_eq(s, n, w, strlen(w));
}

/* ExpressionUtility.ParseNumber: JavaScript's Number() as GitHub has it. */
static double parse_number(const char *p, size_t len)
{
    struct span s = trim_ws(span_of(p, len));
    double d;

    if (s.len == 0)
        return 0.0;
    if (decimal_syntax(s.p, s.len))
        return decimal_value(s.p, s.len);
    if (s.len > 2 && s.p[0] == '0' && s.p[1] == 'x') {
        if (radix_value(s.p + 2, s.len - 2, 16, &d))
            return d;
        return NAN;
    }
    if (s.len > 2 && s.p[0] == '0' && s.p[1] == 'o') {
        if (radix_value(s.p + 2, s.len - 2, 8, &d))
            return d;
        return NAN;
    }
    {
        size_t i = 0;
        double sign = 1.0;

        if (s.p[0] == '+' || s.p[0] == '-') {
            sign = s.p[0] == '-' ? -1.0 : 1.0;
            i = 1;
        }
        if (word_nocase(s.p + i, s.len - i, "infinity"))
            return sign * INFINITY;
    }
    return NAN;
}

/* Double.ToString("G15", InvariantCulture) as .NET Core 3.0+ prints it:
 * 15 significant digits, exponent form ("1E+15", "1E-05") when the
 * exponent is >= 15 or < -5, "-0" for negative zero, "NaN",
 * "Infinity", "-Infinity".  Returns the length written to @out. */
static size_t fmt_num(double d, char out[32])
{
    char tmp[64];
    size_t o = 0;
    bool in_point = false;

    if (isnan(d))
        return (size_t)snprintf(out, 32, "NaN");
    if (isinf(d))
        return (size_t)snprintf(out, 32, d > 0 ? "Infinity" : "-Infinity");
    if (d == 0)
        return (size_t)snprintf(out, 32, signbit(d) ? "-0" : "0");
    if (fabs(d) < 1e15 && d == (double)(int64_t)d)
        return (size_t)snprintf(out, 32, "%lld", (long long)(int64_t)d);
    snprintf(tmp, sizeof(tmp), "%.15G", d);
    /* the C library writes the current locale's decimal point: make it
     * '.', whatever its bytes are */
    for (size_t i = 0; tmp[i] && o < 31; i++) {
        char c = tmp[i];

        if (is_digit(c) || c == '-' || c == '+' || c == 'E') {
            out[o++] = c;
            in_point = false;
        } else if (!in_point) {
            out[o++] = '.';
            in_point = true;
        }
    }
    out[o] = '\0';
    return o;
}

/* ------------------------------------------------------------------ */
/* values                                                              */

enum vk { V_NULL, V_BOOL, V_NUM, V_STR, V_ARR, V_OBJ };

struct val {
    enum vk k;
    bool b;         /* V_BOOL */
    bool filtered;  /* V_ARR made by '*': indexing maps over its items */
    bool exact;     /* V_OBJ whose keys are case-sensitive (env) */
    bool own_j;     /* we hold a reference to j */
    double n;       /* V_NUM */
    const char *s;  /* V_STR bytes, NUL-terminated */
    size_t len;     /* V_STR length */
    char *own_s;    /* V_STR storage we own, or NULL */
    json_t *j;      /* V_ARR, V_OBJ; V_STR when the bytes live in j */
};

static struct val v_null(void)
{
    struct val v;

    memset(&v, 0, sizeof(v));
    v.k = V_NULL;
    return v;
}

static struct val v_bool(bool b)
{
    struct val v = v_null();

    v.k = V_BOOL;
    v.b = b;
    return v;
}

static struct val v_num(double n)
{
    struct val v = v_null();

    v.k = V_NUM;
    v.n = n;
    return v;
}

/* A string value owning @s (malloc'd, NUL-terminated). */
static struct val v_str_take(char *s, size_t len)
{
    struct val v = v_null();

    v.k = V_STR;
    v.s = s;
    v.len = len;
    v.own_s = s;
    return v;
}

/* A value over @j; @own: the reference to @j is handed to the value. */
static struct val v_json(json_t *j, bool own)
{
    struct val v = v_null();

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        v.k = V_OBJ;
        break;
    case JSON_ARRAY:
        v.k = V_ARR;
        break;
    case JSON_STRING:
        v.k = V_STR;
        v.s = json_string_value(j);
        v.len = json_string_length(j);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        v.k = V_NUM;
        v.n = json_number_value(j);
        break;
    case JSON_TRUE:
        v.k = V_BOOL;
        v.b = true;
        break;
    case JSON_FALSE:
        v.k = V_BOOL;
        break;
    case JSON_NULL:
        break;
    }
    if (v.k == V_STR || v.k == V_ARR || v.k == V_OBJ) {
        v.j = j;
        v.own_j = own;
    } else if (own) {
        json_decref(j);
    }
    return v;
}

/* An element @e of the collection @from: borrowed when @from is, else
 * it takes its own reference (@from may be released first). */
static struct val v_child(const struct val *from, json_t *e)
{
    if (from->own_j)
        return v_json(json_incref(e), true);
    return v_json(e, false);
}

static void v_release(struct val *v)
{
    free(v->own_s);
    if (v->own_j)
        json_decref(v->j);
    *v = v_null();
}

static bool v_prim(const struct val *v)
{
    return v->k != V_ARR && v->k != V_OBJ;
}

static bool v_truthy(const struct val *v)
{
    switch (v->k) {
    case V_NULL:
        return false;
    case V_BOOL:
        return v->b;
    case V_NUM:
        return !(v->n == 0 || isnan(v->n));
    case V_STR:
        return v->len > 0;
    default:
        return true;
    }
}

static double v_to_num(const struct val *v)
{
    switch (v->k) {
    case V_NULL:
        return 0.0;
    case V_BOOL:
        return v->b ? 1.0 : 0.0;
    case V_NUM:
        return v->n;
    case V_STR:
        return parse_number(v->s, v->len);
    default:
        return NAN;
    }
}

/* A string form; p may point into tmp, so an sv is never copied. */
struct sv {
    const char *p;
    size_t len;
    char tmp[32];
};

static void v_to_sv(const struct val *v, struct sv *o)
{
    switch (v->k) {
    case V_NULL:
        o->p = "";
        o->len = 0;
        break;
    case V_BOOL:
        o->p = v->b ? "true" : "false";
        o->len = strlen(o->p);
        break;
    case V_NUM:
        o->len = fmt_num(v->n, o->tmp);
        o->p = o->tmp;
        break;
    case V_STR:
        o->p = v->s;
        o->len = v->len;
        break;
    case V_ARR:
        o->p = "Array";
        o->len = 5;
        break;
    case V_OBJ:
        o->p = "Object";
        o->len = 6;
        break;
    }
}

/* The value as a new jansson reference; consumes @v. */
static json_t *v_to_json(struct val *v)
{
    json_t *j = NULL;
    char num[32];

    switch (v->k) {
    case V_NULL:
        j = json_null();
        break;
    case V_BOOL:
        j = json_boolean(v->b);
        break;
    case V_NUM:
        if (!isfinite(v->n)) {
            /* JSON cannot hold NaN or infinities: their string form */
            size_t n = fmt_num(v->n, num);

            j = json_stringn(num, n);
        } else if (v->n == floor(v->n) && fabs(v->n) < 9007199254740992.0 &&
                   !(v->n == 0 && signbit(v->n))) {
            j = json_integer((json_int_t)v->n);
        } else {
            j = json_real(v->n);
        }
        break;
    case V_STR:
        if (v->j) {
            j = v->own_j ? v->j : json_incref(v->j);
            v->own_j = false;
        } else {
            j = json_stringn(v->s, v->len);
            if (!j)
                j = json_lossy_stringn(v->s, v->len);
        }
        break;
    case V_ARR:
    case V_OBJ:
        j = v->own_j ? v->j : json_incref(v->j);
        v->own_j = false;
        break;
    }
    v_release(v);
    return j;
}

/* EvaluationResult.CoerceTypes + AbstractEqual/GreaterThan/LessThan. */
struct prim {
    enum vk k;
    bool b;
    double n;
    const char *s;
    size_t len;
    const json_t *ref;
};

static struct prim to_prim(const struct val *v)
{
    struct prim p;

    p.k = v->k;
    p.b = v->b;
    p.n = v->n;
    p.s = v->s;
    p.len = v->len;
    p.ref = v->j;
    return p;
}

static void coerce(struct prim *l, struct prim *r)
{
    if (l->k == r->k)
        return;
    if (l->k == V_NUM && r->k == V_STR) {
        r->n = parse_number(r->s, r->len);
        r->k = V_NUM;
    } else if (l->k == V_STR && r->k == V_NUM) {
        l->n = parse_number(l->s, l->len);
        l->k = V_NUM;
    } else if (l->k == V_BOOL || l->k == V_NULL) {
        l->n = l->k == V_BOOL && l->b ? 1.0 : 0.0;
        l->k = V_NUM;
        coerce(l, r);
    } else if (r->k == V_BOOL || r->k == V_NULL) {
        r->n = r->k == V_BOOL && r->b ? 1.0 : 0.0;
        r->k = V_NUM;
        coerce(l, r);
    }
}

static bool v_eq(const struct val *a, const struct val *b)
{
    struct prim l = to_prim(a);
    struct prim r = to_prim(b);

    coerce(&l, &r);
    if (l.k != r.k)
        return false;
    switch (l.k) {
    case V_NULL:
        return true;
    case V_NUM:
        return !isnan(l.n) && !isnan(r.n) && l.n == r.n;
    case V_STR:
        return ci_eq(l.s, l.len, r.s, r.len);
    case V_BOOL:
        return l.b == r.b;
    default:
        return l.ref == r.ref;
    }
}

/* >0: a > b, <0: a < b, 0: neither (also for NaN and other kinds). */
static int v_order(const struct val *a, const struct val *b)
{
    struct prim l = to_prim(a);
    struct prim r = to_prim(b);
    int c;

    coerce(&l, &r);
    if (l.k != r.k)
        return 0;
    switch (l.k) {
    case V_NUM:
        if (isnan(l.n) || isnan(r.n))
            return 0;
        return l.n > r.n ? 1 : l.n < r.n ? -1 : 0;
    case V_STR:
        c = ci_cmp(l.s, l.len, r.s, r.len);
        return c > 0 ? 1 : c < 0 ? -1 : 0;
    case V_BOOL:
        return l.b && !r.b ? 1 : !l.b && r.b ? -1 : 0;
    default:
        return 0;
    }
}

/* ------------------------------------------------------------------ */
/* toJSON                                                              */

/* Newtonsoft's JSON string escaping (default handling). */
static enum ferr_code add_json_str(struct buf *b, const char *s, size_t n)
{
    enum ferr_code rc = buf_addch(b, '"');
    size_t start = 0;

    for (size_t i = 0; !rc && i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        const char *esc = NULL;
        char ub[8];
        size_t skip = 1;

        if (c == '"')
            esc = "\\\"";
        else if (c == '\\')
            esc = "\\\\";
        else if (c == '\n')
            esc = "\\n";
        else if (c == '\r')
            esc = "\\r";
        else if (c == '\t')
            esc = "\\t";
        else if (c == '\b')
            esc = "\\b";
        else if (c == '\f')
            esc = "\\f";
        else if (c < 0x20) {
            snprintf(ub, sizeof(ub), "\\u%04x", c);
            esc = ub;
        } else if (c == 0xc2 && i + 1 < n && (unsigned char)s[i + 1] == 0x85) {
            esc = "\\u0085";
            skip = 2;
        } else if (c == 0xe2 && i + 2 < n && (unsigned char)s[i + 1] == 0x80 &&
                   ((unsigned char)s[i + 2] == 0xa8 ||
                    (unsigned char)s[i + 2] == 0xa9)) {
            esc = (unsigned char)s[i + 2] == 0xa8 ? "\\u2028" : "\\u2029";
            skip = 3;
        }
        if (!esc)
            continue;
        rc = buf_add(b, s + start, i - start);
        if (!rc)
            rc = buf_adds(b, esc);
        i += skip - 1;
        start = i + 1;
    }
    if (!rc)
        rc = buf_add(b, s + start, n - start);
    if (!rc)
        rc = buf_addch(b, '"');
    return rc;
}

static enum ferr_code add_indent(struct buf *b, unsigned level)
{
    enum ferr_code rc = buf_addch(b, '\n');

    for (unsigned i = 0; !rc && i < level; i++)
        rc = buf_add(b, "  ", 2);
    return rc;
}

static enum ferr_code add_num(struct buf *b, double d)
{
    char num[32];
    size_t n = fmt_num(d, num);

    return buf_add(b, num, n);
}

/* ToJson.cs: "[" / "{", each item on its own line indented two spaces
 * per level, "key": value, empty collections as [] and {}. */
static enum ferr_code json_write(struct buf *b, json_t *j, unsigned level)
{
    enum ferr_code rc = FERR_OK;
    bool first = true;

    if (level > MAX_JSON_NEST)
        return FERR_LIMIT;
    switch (json_typeof(j)) {
    case JSON_OBJECT: {
        const char *key;
        size_t klen;
        json_t *v;

        if (json_object_size(j) == 0)
            return buf_add(b, "{}", 2);
        rc = buf_addch(b, '{');
        json_object_keylen_foreach(j, key, klen, v)
        {
            if (rc)
                break;
            if (!first)
                rc = buf_addch(b, ',');
            first = false;
            if (!rc)
                rc = add_indent(b, level + 1);
            if (!rc)
                rc = add_json_str(b, key, klen);
            if (!rc)
                rc = buf_add(b, ": ", 2);
            if (!rc)
                rc = json_write(b, v, level + 1);
        }
        if (!rc)
            rc = add_indent(b, level);
        if (!rc)
            rc = buf_addch(b, '}');
        return rc;
    }
    case JSON_ARRAY: {
        size_t i;
        json_t *v;

        if (json_array_size(j) == 0)
            return buf_add(b, "[]", 2);
        rc = buf_addch(b, '[');
        json_array_foreach(j, i, v)
        {
            if (rc)
                break;
            if (i > 0)
                rc = buf_addch(b, ',');
            if (!rc)
                rc = add_indent(b, level + 1);
            if (!rc)
                rc = json_write(b, v, level + 1);
        }
        if (!rc)
            rc = add_indent(b, level);
        if (!rc)
            rc = buf_addch(b, ']');
        return rc;
    }
    case JSON_STRING:
        return add_json_str(b, json_string_value(j), json_string_length(j));
    case JSON_INTEGER:
    case JSON_REAL:
        return add_num(b, json_number_value(j));
    case JSON_TRUE:
        return buf_add(b, "true", 4);
    case JSON_FALSE:
        return buf_add(b, "false", 5);
    case JSON_NULL:
        return buf_add(b, "null", 4);
    }
    return FERR_OK;
}

static enum ferr_code val_write_json(struct buf *b, const struct val *v)
{
    switch (v->k) {
    case V_NULL:
        return buf_add(b, "null", 4);
    case V_BOOL:
        return buf_adds(b, v->b ? "true" : "false");
    case V_NUM:
        return add_num(b, v->n);
    case V_STR:
        return add_json_str(b, v->s, v->len);
    default:
        return json_write(b, v->j, 0);
    }
}

/* ------------------------------------------------------------------ */
/* errors                                                              */

/* @base advanced by the characters of @src before @off. */
static struct pos pos_at(const struct pos *base, struct span src, size_t off)
{
    struct pos p = *base;

    for (size_t i = 0; i < off && i < src.len; i++)
        if (((unsigned char)src.p[i] & 0xc0) != 0x80)
            p.col++;
    return p;
}

__attribute__((format(printf, 6, 7))) static enum ferr_code
fail(struct ferr *err, enum ferr_code code, const struct pos *base,
     struct span src, size_t off, const char *fmt, ...)
{
    char msg[sizeof(err->msg)];
    struct pos p;
    va_list ap;

    if (!err || err->code != FERR_OK)
        return code;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    if (!base)
        return ferr_set(err, code, NULL, "%s", msg);
    p = pos_at(base, src, off);
    return ferr_set(err, code, &p, "%s", msg);
}

/* ------------------------------------------------------------------ */
/* lexer (LexicalAnalyzer.cs)                                          */

enum tk {
    T_END, /* also "no token yet" */
    T_LPAREN,
    T_RPAREN,
    T_LBRACK,
    T_RBRACK,
    T_COMMA,
    T_DOT,
    T_STAR,
    T_NOT,
    T_EQ,
    T_NE,
    T_LT,
    T_LE,
    T_GT,
    T_GE,
    T_AND,
    T_OR,
    T_NULL,
    T_TRUE,
    T_FALSE,
    T_NUMBER,
    T_STRING,
    T_FUNC, /* a keyword followed by "(" */
    T_NAME, /* a named value (context) */
    T_PROP, /* a keyword after "." */
    T_BAD,
};

struct tok {
    enum tk k;
    size_t off; /* byte offset in the source */
    size_t len;
    double num; /* T_NUMBER */
};

struct lexer {
    const char *s;
    size_t n;
    size_t i;
    enum tk last;
};

static bool is_boundary(const struct lexer *lx, size_t i)
{
    switch (lx->s[i]) {
    case '(':
    case '[':
    case ')':
    case ']':
    case ',':
    case '.':
    case '!':
    case '>':
    case '<':
    case '=':
    case '&':
    case '|':
        return true;
    default:
        return ws_len(lx->s + i, lx->n - i) > 0;
    }
}

static bool legal_keyword(const char *s, size_t n)
{
    if (!n || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z') ||
                s[0] == '_'))
        return false;
    for (size_t i = 1; i < n; i++) {
        char c = s[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              is_digit(c) || c == '_' || c == '-'))
            return false;
    }
    return true;
}

static bool span_is(const char *s, size_t n, const char *w)
{
    return strlen(w) == n && memcmp(s, w, n) == 0;
}

static void lex_skip_ws(struct lexer *lx)
{
    size_t k;

    while (lx->i < lx->n && (k = ws_len(lx->s + lx->i, lx->n - lx->i)))
        lx->i += k;
}

static void lex_number(struct lexer *lx, struct tok *t)
{
    lx->i++;
    while (lx->i < lx->n && (!is_boundary(lx, lx->i) || lx->s[lx->i] == '.'))
        lx->i++;
    t->len = lx->i - t->off;
    t->num = parse_number(lx->s + t->off, t->len);
    t->k = isnan(t->num) ? T_BAD : T_NUMBER;
}

static void lex_keyword(struct lexer *lx, struct tok *t)
{
    const char *w = lx->s + t->off;
    size_t save;

    lx->i++;
    while (lx->i < lx->n && !is_boundary(lx, lx->i))
        lx->i++;
    t->len = lx->i - t->off;
    if (!legal_keyword(w, t->len)) {
        t->k = T_BAD;
        return;
    }
    if (lx->last == T_DOT) {
        t->k = T_PROP;
        return;
    }
    if (span_is(w, t->len, "null")) {
        t->k = T_NULL;
        return;
    }
    if (span_is(w, t->len, "true")) {
        t->k = T_TRUE;
        return;
    }
    if (span_is(w, t->len, "false")) {
        t->k = T_FALSE;
        return;
    }
    if (span_is(w, t->len, "NaN") || span_is(w, t->len, "Infinity")) {
        t->k = T_NUMBER;
        t->num = w[0] == 'N' ? NAN : INFINITY;
        return;
    }
    save = lx->i;
    lex_skip_ws(lx);
    t->k = lx->i < lx->n && lx->s[lx->i] == '(' ? T_FUNC : T_NAME;
    lx->i = save;
}

static void lex_string(struct lexer *lx, struct tok *t)
{
    lx->i++;
    while (lx->i < lx->n) {
        if (lx->s[lx->i++] != '\'')
            continue;
        if (lx->i < lx->n && lx->s[lx->i] == '\'') {
            lx->i++;
            continue;
        }
        t->k = T_STRING;
        t->len = lx->i - t->off;
        return;
    }
    t->k = T_BAD;
    t->len = lx->i - t->off;
}

static void lex_operator(struct lexer *lx, struct tok *t)
{
    char c = lx->s[lx->i];
    char d = lx->i + 1 < lx->n ? lx->s[lx->i + 1] : '\0';

    t->len = 2;
    if (c == '!' && d == '=')
        t->k = T_NE;
    else if (c == '>' && d == '=')
        t->k = T_GE;
    else if (c == '<' && d == '=')
        t->k = T_LE;
    else if (c == '=' && d == '=')
        t->k = T_EQ;
    else if (c == '&' && d == '&')
        t->k = T_AND;
    else if (c == '|' && d == '|')
        t->k = T_OR;
    else {
        t->len = 1;
        t->k = c == '!' ? T_NOT : c == '>' ? T_GT : c == '<' ? T_LT : T_BAD;
    }
    lx->i += t->len;
}

static bool operand_expected(enum tk last)
{
    return last == T_END || last == T_COMMA || last == T_LPAREN ||
           last == T_LBRACK || (last >= T_NOT && last <= T_OR);
}

static struct tok lex_next(struct lexer *lx)
{
    struct tok t;
    char c;

    memset(&t, 0, sizeof(t));
    lex_skip_ws(lx);
    t.off = lx->i;
    if (lx->i >= lx->n) {
        t.k = T_END;
        return t;
    }
    c = lx->s[lx->i];
    t.len = 1;
    switch (c) {
    case '(':
        t.k = T_LPAREN;
        lx->i++;
        break;
    case ')':
        t.k = T_RPAREN;
        lx->i++;
        break;
    case '[':
        t.k = T_LBRACK;
        lx->i++;
        break;
    case ']':
        t.k = T_RBRACK;
        lx->i++;
        break;
    case ',':
        t.k = T_COMMA;
        lx->i++;
        break;
    case '*':
        t.k = T_STAR;
        lx->i++;
        break;
    case '\'':
        lex_string(lx, &t);
        break;
    case '!':
    case '>':
    case '<':
    case '=':
    case '&':
    case '|':
        lex_operator(lx, &t);
        break;
    default:
        if (c == '.' && !operand_expected(lx->last)) {
            t.k = T_DOT;
            lx->i++;
        } else if (c == '.' || c == '-' || c == '+' || is_digit(c)) {
            lex_number(lx, &t);
        } else {
            lex_keyword(lx, &t);
        }
        break;
    }
    lx->last = t.k;
    return t;
}

/* ------------------------------------------------------------------ */
/* syntax tree and parser                                              */

enum nk {
    N_LIT,
    N_CTX,
    N_INDEX, /* kid[0][kid[1]]; kid[1] NULL for '*' */
    N_NOT,
    N_AND,
    N_OR,
    N_EQ,
    N_NE,
    N_LT,
    N_LE,
    N_GT,
    N_GE,
    N_CALL,
};

enum fn {
    F_CONTAINS,
    F_STARTSWITH,
    F_ENDSWITH,
    F_FORMAT,
    F_JOIN,
    F_TOJSON,
    F_FROMJSON,
    F_HASHFILES,
    F_SUCCESS,
    F_ALWAYS,
    F_CANCELLED,
    F_FAILURE,
    F_UNKNOWN, /* expr_refs only */
};

static const struct fninfo {
    const char *name;
    unsigned min, max;
    unsigned flag; /* EXPR_FN_* needed, 0 = always allowed */
} fns[] = {
    [F_CONTAINS] = { "contains", 2, 2, 0 },
    [F_STARTSWITH] = { "startsWith", 2, 2, 0 },
    [F_ENDSWITH] = { "endsWith", 2, 2, 0 },
    [F_FORMAT] = { "format", 1, MAX_FORMAT_ARGS, 0 },
    [F_JOIN] = { "join", 1, 2, 0 },
    [F_TOJSON] = { "toJSON", 1, 1, 0 },
    [F_FROMJSON] = { "fromJSON", 1, 1, 0 },
    [F_HASHFILES] = { "hashFiles", 1, MAX_FORMAT_ARGS, EXPR_FN_HASHFILES },
    [F_SUCCESS] = { "success", 0, 0, EXPR_FN_STATUS },
    [F_ALWAYS] = { "always", 0, 0, EXPR_FN_STATUS },
    [F_CANCELLED] = { "cancelled", 0, 0, EXPR_FN_STATUS },
    [F_FAILURE] = { "failure", 0, 0, EXPR_FN_STATUS },
};

/* In enum expr_ctx_flags bit order. */
static const char *const ctx_names[] = {
    "github", "env", "vars", "job", "jobs", "steps",
    "runner", "secrets", "strategy", "matrix", "needs", "inputs",
};
#define N_CTXS (sizeof(ctx_names) / sizeof(ctx_names[0]))
#define CTX_ENV 1

struct node {
    enum nk k;
    int id;              /* N_CTX: ctx_names index (-1 unknown); N_CALL: fn */
    unsigned depth;      /* tree depth below and including this node */
    size_t off;          /* byte offset of the token, for errors */
    size_t name_len;     /* N_CTX / N_CALL: the name as written */
    const char *name;
    struct val lit;      /* N_LIT: borrowed from the arena */
    struct node **kid;
    size_t nkid;
};

struct parser {
    struct lexer lx;
    struct tok t;        /* current token */
    struct arena *a;
    struct span src;
    const struct pos *pos;
    struct ferr *err;
    unsigned ctx_allowed;
    unsigned fn_allowed;
    bool lenient;        /* unknown names and functions pass (expr_refs) */
    bool has_status;     /* a status function is called */
    unsigned rec;        /* recursion depth */
};

static void advance(struct parser *p)
{
    p->t = lex_next(&p->lx);
}

static enum ferr_code unexpected(struct parser *p)
{
    const struct tok *t = &p->t;

    if (t->k == T_END)
        return fail(p->err, FERR_PARSE, p->pos, p->src, t->off,
                    "unexpected end of expression");
    return fail(p->err, FERR_PARSE, p->pos, p->src, t->off,
                "unexpected symbol '%.*s'", t->len > 40 ? 40 : (int)t->len,
                p->src.p + t->off);
}

static struct node *mk(struct parser *p, enum nk k, size_t off, size_t nkid)
{
    struct node *n = arena_alloc(p->a, sizeof(*n));

    n->k = k;
    n->off = off;
    n->depth = 1;
    n->nkid = nkid;
    if (nkid)
        n->kid = arena_alloc(p->a, nkid * sizeof(*n->kid));
    return n;
}

/* Set n->depth from its kids; GitHub caps the tree depth. */
static enum ferr_code seal(struct parser *p, struct node *n)
{
    unsigned d = 0;

    for (size_t i = 0; i < n->nkid; i++)
        if (n->kid[i] && n->kid[i]->depth > d)
            d = n->kid[i]->depth;
    n->depth = d + 1;
    if (n->depth > LIM_EXPR_DEPTH)
        return fail(p->err, FERR_LIMIT, p->pos, p->src, n->off,
                    "expression nested deeper than %u levels",
                    LIM_EXPR_DEPTH);
    return FERR_OK;
}

/* A growable list of nodes, heap-backed while parsing. */
struct nvec {
    struct node **v;
    size_t n, cap;
};

static void nvec_push(struct nvec *nv, struct node *x)
{
    if (nv->n == nv->cap) {
        nv->cap = nv->cap ? nv->cap * 2 : 8;
        nv->v = xrealloc(nv->v, nv->cap * sizeof(*nv->v));
    }
    nv->v[nv->n++] = x;
}

static struct node *mk_from(struct parser *p, enum nk k, size_t off,
                            struct nvec *nv)
{
    struct node *n = mk(p, k, off, nv->n);

    if (nv->n)
        memcpy(n->kid, nv->v, nv->n * sizeof(*nv->v));
    return n;
}

static enum ferr_code parse_expr(struct parser *p, struct node **out);

static enum ferr_code enter(struct parser *p)
{
    if (++p->rec > LIM_EXPR_DEPTH)
        return fail(p->err, FERR_LIMIT, p->pos, p->src, p->t.off,
                    "expression nested deeper than %u levels",
                    LIM_EXPR_DEPTH);
    return FERR_OK;
}

static struct node *mk_string_lit(struct parser *p, const struct tok *t)
{
    struct node *n = mk(p, N_LIT, t->off, 0);
    const char *r = p->src.p + t->off + 1;
    size_t rn = t->len - 2;
    char *s = arena_alloc(p->a, rn + 1);
    size_t o = 0;

    for (size_t i = 0; i < rn; i++) {
        s[o++] = r[i];
        if (r[i] == '\'')
            i++; /* '' is one quote */
    }
    s[o] = '\0';
    n->lit = v_null();
    n->lit.k = V_STR;
    n->lit.s = s;
    n->lit.len = o;
    return n;
}

static int find_ctx(const char *s, size_t n)
{
    for (size_t i = 0; i < N_CTXS; i++)
        if (ci_eq(s, n, ctx_names[i], strlen(ctx_names[i])))
            return (int)i;
    return -1;
}

static int find_fn(const char *s, size_t n)
{
    for (size_t i = 0; i < F_UNKNOWN; i++)
        if (ci_eq(s, n, fns[i].name, strlen(fns[i].name)))
            return (int)i;
    return -1;
}

static enum ferr_code parse_call(struct parser *p, struct node **out)
{
    struct tok name = p->t;
    const char *ns = p->src.p + name.off;
    int id = find_fn(ns, name.len);
    struct nvec args = { NULL, 0, 0 };
    enum ferr_code rc = FERR_OK;
    struct node *n;

    if (id < 0 && !p->lenient)
        return fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                    "unrecognized function '%.*s'", (int)name.len, ns);
    if (id >= 0 && fns[id].flag && !(fns[id].flag & p->fn_allowed))
        return fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                    "function '%.*s' is not allowed here", (int)name.len, ns);
    if (id >= 0 && fns[id].flag == EXPR_FN_STATUS)
        p->has_status = true;
    advance(p); /* the name; "(" follows, the lexer saw it */
    advance(p);
    if (p->t.k == T_RPAREN) {
        advance(p);
    } else {
        for (;;) {
            struct node *arg;

            rc = parse_expr(p, &arg);
            if (rc)
                goto done;
            nvec_push(&args, arg);
            if (p->t.k == T_COMMA) {
                advance(p);
                continue;
            }
            if (p->t.k == T_RPAREN) {
                advance(p);
                break;
            }
            rc = unexpected(p);
            goto done;
        }
    }
    if (id >= 0 && args.n < fns[id].min) {
        rc = fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                  "too few parameters supplied to '%.*s'", (int)name.len, ns);
        goto done;
    }
    if (id >= 0 && args.n > fns[id].max) {
        rc = fail(p->err, FERR_INVALID, p->pos, p->src, name.off,
                  "too many parameters supplied to '%.*s'", (int)name.len, ns);
        goto done;
    }
    n = mk_from(p, N_CALL, name.off, &args);
    n->id = id < 0 ? F_UNKNOWN : id;
    n->name = ns;
    n->name_len = name.len;
    rc = seal(p, n);
    if (!rc)
        *out = n;
done:
    free(args.v);
    return rc;
}

static enum ferr_code parse_postfix(struct parser *p, struct node **io)
{
    enum ferr_code rc;

    while (p->t.k == T_DOT || p->t.k == T_LBRACK) {
        struct node *n = mk(p, N_INDEX, p->t.off, 2);

        n->kid[0] = *io;
        if (p->t.k == T_DOT) {
            advance(p);
            if (p->t.k == T_PROP) {
                struct node *key = mk(p, N_LIT, p->t.off, 0);
                char *s = arena_strndup(p->a, p->src.p + p->t.off, p->t.len);

                key->lit.k = V_STR;
                key->lit.s = s;
                key->lit.len = p->t.len;
                n->kid[1] = key;
            } else if (p->t.k != T_STAR) {
                return unexpected(p);
            }
            advance(p);
        } else {
            advance(p);
            if (p->t.k == T_STAR) {
                advance(p);
            } else {
                rc = parse_expr(p, &n->kid[1]);
                if (rc)
                    return rc;
            }
            if (p->t.k != T_RBRACK)
                return unexpected(p);
            advance(p);
        }
        rc = seal(p, n);
        if (rc)
            return rc;
        *io = n;
    }
    return FERR_OK;
}

static enum ferr_code parse_primary(struct parser *p, struct node **out)
{
    struct tok t = p->t;
    const char *w = p->src.p + t.off;
    struct node *n = NULL;
    enum ferr_code rc;

    switch (t.k) {
    case T_NULL:
    case T_TRUE:
    case T_FALSE:
    case T_NUMBER:
        n = mk(p, N_LIT, t.off, 0);
        n->lit = t.k == T_NULL     ? v_null()
                 : t.k == T_NUMBER ? v_num(t.num)
                                   : v_bool(t.k == T_TRUE);
        advance(p);
        *out = n;
        return FERR_OK; /* a literal takes no "." or "[" */
    case T_STRING:
        *out = mk_string_lit(p, &t);
        advance(p);
        return FERR_OK;
    case T_NAME:
        n = mk(p, N_CTX, t.off, 0);
        n->id = find_ctx(w, t.len);
        n->name = w;
        n->name_len = t.len;
        if (n->id < 0 && !p->lenient)
            return fail(p->err, FERR_INVALID, p->pos, p->src, t.off,
                        "unrecognized named-value '%.*s'", (int)t.len, w);
        if (n->id >= 0 && !(p->ctx_allowed & (1u << n->id)))
            return fail(p->err, FERR_INVALID, p->pos, p->src, t.off,
                        "named-value '%.*s' is not allowed here", (int)t.len,
                        w);
        advance(p);
        break;
    case T_FUNC:
        rc = parse_call(p, &n);
        if (rc)
            return rc;
        break;
    case T_LPAREN:
        advance(p);
        rc = parse_expr(p, &n);
        if (rc)
            return rc;
        if (p->t.k != T_RPAREN)
            return unexpected(p);
        advance(p);
        break;
    default:
        return unexpected(p);
    }
    rc = parse_postfix(p, &n);
    if (!rc)
        *out = n;
    return rc;
}

static enum ferr_code parse_unary(struct parser *p, struct node **out)
{
    struct node *n;
    size_t off = p->t.off;
    enum ferr_code rc;

    if (p->t.k != T_NOT)
        return parse_primary(p, out);
    rc = enter(p);
    if (rc)
        return rc;
    advance(p);
    n = mk(p, N_NOT, off, 1);
    rc = parse_unary(p, &n->kid[0]);
    if (!rc)
        rc = seal(p, n);
    p->rec--;
    if (!rc)
        *out = n;
    return rc;
}

static enum nk binop(enum tk k)
{
    switch (k) {
    case T_EQ:
        return N_EQ;
    case T_NE:
        return N_NE;
    case T_LT:
        return N_LT;
    case T_LE:
        return N_LE;
    case T_GT:
        return N_GT;
    default:
        return N_GE;
    }
}

/* Left-associative binary levels: 0 comparisons, 1 equality. */
static enum ferr_code parse_binary(struct parser *p, int level,
                                   struct node **out)
{
    struct node *l;
    enum ferr_code rc;

    rc = level == 0 ? parse_unary(p, &l) : parse_binary(p, 0, &l);
    while (!rc) {
        enum tk k = p->t.k;
        struct node *n;

        if (level == 0 && k != T_LT && k != T_LE && k != T_GT && k != T_GE)
            break;
        if (level == 1 && k != T_EQ && k != T_NE)
            break;
        n = mk(p, binop(k), p->t.off, 2);
        advance(p);
        n->kid[0] = l;
        rc = level == 0 ? parse_unary(p, &n->kid[1])
                        : parse_binary(p, 0, &n->kid[1]);
        if (!rc)
            rc = seal(p, n);
        l = n;
    }
    if (!rc)
        *out = l;
    return rc;
}

/* "&&" (level 0) and "||" (level 1), n-ary and flattened as GitHub's
 * parser does, so long chains do not deepen the tree. */
static enum ferr_code parse_logic(struct parser *p, int level,
                                  struct node **out)
{
    enum tk op = level == 0 ? T_AND : T_OR;
    enum nk kind = level == 0 ? N_AND : N_OR;
    struct nvec ops = { NULL, 0, 0 };
    size_t off = p->t.off;
    enum ferr_code rc;

    for (;;) {
        struct node *x;

        rc = level == 0 ? parse_binary(p, 1, &x) : parse_logic(p, 0, &x);
        if (rc)
            break;
        if (x->k == kind) {
            for (size_t i = 0; i < x->nkid; i++)
                nvec_push(&ops, x->kid[i]);
        } else {
            nvec_push(&ops, x);
        }
        if (p->t.k != op)
            break;
        advance(p);
    }
    if (!rc && ops.n == 1) {
        *out = ops.v[0];
    } else if (!rc) {
        struct node *n = mk_from(p, kind, off, &ops);

        rc = seal(p, n);
        if (!rc)
            *out = n;
    }
    free(ops.v);
    return rc;
}

static enum ferr_code parse_expr(struct parser *p, struct node **out)
{
    enum ferr_code rc = enter(p);

    if (!rc)
        rc = parse_logic(p, 1, out);
    p->rec--;
    return rc;
}

static void parser_init(struct parser *p, struct arena *a, struct span src,
                        const struct pos *pos, struct ferr *err)
{
    memset(p, 0, sizeof(*p));
    p->lx.s = src.p;
    p->lx.n = src.len;
    p->lx.last = T_END;
    p->a = a;
    p->src = src;
    p->pos = pos;
    p->err = err;
    p->ctx_allowed = EXPR_CTX_ALL;
    p->fn_allowed = EXPR_FN_ALL;
}

/* Parse all of p->src into *out. */
static enum ferr_code parse_all(struct parser *p, struct node **out)
{
    enum ferr_code rc;

    *out = NULL;
    if (p->src.len > LIM_EXPR_BYTES)
        return fail(p->err, FERR_LIMIT, p->pos, p->src, 0,
                    "expression longer than %u bytes", LIM_EXPR_BYTES);
    advance(p);
    if (p->t.k == T_END)
        return fail(p->err, FERR_PARSE, p->pos, p->src, 0,
                    "expected an expression");
    rc = parse_expr(p, out);
    if (!rc && p->t.k != T_END)
        rc = unexpected(p);
    if (rc)
        *out = NULL;
    return rc;
}

/* ------------------------------------------------------------------ */
/* evaluation                                                          */

struct ev {
    const struct expr_env *env;
    struct span src;
    const struct pos *pos;
    struct ferr *err;
    size_t made; /* bytes of strings built so far, for the value limit */
};

static enum ferr_code eval(struct ev *e, const struct node *n,
                           struct val *out);

static struct val v_filtered_new(void)
{
    struct val v = v_null();

    v.k = V_ARR;
    v.j = json_array();
    v.own_j = true;
    v.filtered = true;
    return v;
}

/* Object lookup: exact key first, then ignoring case (unless @exact). */
static json_t *obj_get(json_t *o, const char *k, size_t kn, bool exact)
{
    json_t *v = json_object_getn(o, k, kn);
    const char *key;
    size_t klen;

    if (v || exact)
        return v;
    json_object_keylen_foreach(o, key, klen, v)
    {
        if (ci_eq(key, klen, k, kn))
            return v;
    }
    return NULL;
}

/* IndexHelper's integer index: floor of the number, 0..INT32_MAX. */
static bool int_index(const struct val *k, size_t *out)
{
    double d = v_to_num(k);

    if (isnan(d) || d < 0)
        return false;
    d = floor(d);
    if (d > 2147483647.0)
        return false;
    *out = (size_t)d;
    return true;
}

static void append_all(json_t *dst, json_t *coll)
{
    json_t *v;

    if (json_is_object(coll)) {
        const char *key;
        size_t klen;

        json_object_keylen_foreach(coll, key, klen, v)
        {
            json_array_append(dst, v);
        }
        (void)key;
        (void)klen;
    } else {
        size_t i;

        json_array_foreach(coll, i, v)
        {
            json_array_append(dst, v);
        }
    }
}

static enum ferr_code ev_index(struct ev *e, const struct node *n,
                               struct val *out)
{
    struct val l;
    struct val k = v_null();
    struct sv ks;
    size_t ix = 0;
    bool has_ix;
    bool has_ks;
    enum ferr_code rc;

    rc = eval(e, n->kid[0], &l);
    if (rc)
        return rc;
    if (v_prim(&l)) {
        v_release(&l);
        *out = n->kid[1] ? v_null() : v_filtered_new();
        return FERR_OK;
    }
    if (!n->kid[1]) {
        struct val f = v_filtered_new();

        if (l.filtered) {
            size_t i;
            json_t *item;

            json_array_foreach(l.j, i, item)
            {
                if (json_is_object(item) || json_is_array(item))
                    append_all(f.j, item);
            }
        } else {
            append_all(f.j, l.j);
        }
        v_release(&l);
        *out = f;
        return FERR_OK;
    }
    rc = eval(e, n->kid[1], &k);
    if (rc) {
        v_release(&l);
        return rc;
    }
    has_ix = int_index(&k, &ix);
    has_ks = v_prim(&k);
    if (has_ks)
        v_to_sv(&k, &ks);
    if (l.filtered) {
        struct val f = v_filtered_new();
        size_t i;
        json_t *item;

        json_array_foreach(l.j, i, item)
        {
            json_t *hit = NULL;

            if (json_is_object(item) && has_ks)
                hit = obj_get(item, ks.p, ks.len, false);
            else if (json_is_array(item) && has_ix)
                hit = json_array_get(item, ix);
            if (hit)
                json_array_append(f.j, hit);
        }
        *out = f;
    } else {
        json_t *hit = NULL;

        if (l.k == V_OBJ && has_ks)
            hit = obj_get(l.j, ks.p, ks.len, l.exact);
        else if (l.k == V_ARR && has_ix)
            hit = json_array_get(l.j, ix);
        *out = hit ? v_child(&l, hit) : v_null();
    }
    v_release(&k);
    v_release(&l);
    return FERR_OK;
}

static enum ferr_code limit_err(struct ev *e, const struct node *n)
{
    return fail(e->err, FERR_LIMIT, e->pos, e->src, n->off,
                "result of '%.*s' longer than %u bytes", (int)n->name_len,
                n->name, LIM_EXPR_VALUE_BYTES);
}

/* The string built in @b as the result of @n.  All strings built in one
 * evaluation count together against LIM_EXPR_VALUE_BYTES, so nesting
 * cannot multiply memory (as GitHub's per-evaluation memory counter). */
static enum ferr_code take_result(struct ev *e, const struct node *n,
                                  struct buf *b, struct val *out)
{
    size_t len;
    char *s;

    if (b->len > LIM_EXPR_VALUE_BYTES - e->made)
        return limit_err(e, n);
    e->made += b->len;
    s = buf_take(b, &len);
    *out = v_str_take(s, len);
    return FERR_OK;
}

static enum ferr_code fn_contains(struct ev *e, const struct node *n,
                                  struct val *out)
{
    struct val l;
    struct val r = v_null();
    bool res = false;
    enum ferr_code rc = eval(e, n->kid[0], &l);

    if (rc)
        return rc;
    if (v_prim(&l)) {
        struct sv ls;
        struct sv rs;

        rc = eval(e, n->kid[1], &r);
        if (!rc && v_prim(&r)) {
            v_to_sv(&l, &ls);
            v_to_sv(&r, &rs);
            res = ci_contains(ls.p, ls.len, rs.p, rs.len);
        }
    } else if (l.k == V_ARR && json_array_size(l.j) > 0) {
        size_t i;
        json_t *item;

        rc = eval(e, n->kid[1], &r);
        if (!rc) {
            json_array_foreach(l.j, i, item)
            {
                struct val iv = v_json(item, false);

                if (v_eq(&r, &iv)) {
                    res = true;
                    break;
                }
            }
        }
    }
    v_release(&r);
    v_release(&l);
    if (!rc)
        *out = v_bool(res);
    return rc;
}

static enum ferr_code fn_affix(struct ev *e, const struct node *n,
                               struct val *out)
{
    struct val l;
    struct val r = v_null();
    bool res = false;
    enum ferr_code rc = eval(e, n->kid[0], &l);

    if (rc)
        return rc;
    if (v_prim(&l)) {
        rc = eval(e, n->kid[1], &r);
        if (!rc && v_prim(&r)) {
            struct sv ls;
            struct sv rs;

            v_to_sv(&l, &ls);
            v_to_sv(&r, &rs);
            if (rs.len <= ls.len) {
                const char *at = n->id == F_STARTSWITH
                                     ? ls.p
                                     : ls.p + ls.len - rs.len;

                res = ci_eq(at, rs.len, rs.p, rs.len);
            }
        }
    }
    v_release(&r);
    v_release(&l);
    if (!rc)
        *out = v_bool(res);
    return rc;
}

/* Format.cs, in two passes as GitHub does: the format string is checked
 * whole before any argument is evaluated, and arguments are evaluated
 * lazily, once each. */
struct fmt_args {
    struct val *v;
    bool *done;
    size_t n;
};

static enum ferr_code fmt_arg(struct ev *e, const struct node *n,
                              struct fmt_args *fa, size_t ai, struct buf *b)
{
    struct sv s;
    enum ferr_code rc;

    if (!fa->done[ai]) {
        rc = eval(e, n->kid[ai + 1], &fa->v[ai]);
        if (rc)
            return rc;
        fa->done[ai] = true;
    }
    if (!b)
        return FERR_OK;
    v_to_sv(&fa->v[ai], &s);
    if (buf_add(b, s.p, s.len))
        return limit_err(e, n);
    return FERR_OK;
}

/* Digits after "{": a Byte; *end is the index after them. */
static bool fmt_index(const char *f, size_t fn, size_t i, unsigned *out,
                      size_t *end)
{
    unsigned v = 0;
    size_t start = i;

    while (i < fn && is_digit(f[i])) {
        v = v * 10 + (unsigned)(f[i] - '0');
        if (v > 255)
            return false;
        i++;
    }
    *out = v;
    *end = i;
    return i > start;
}

/* After the index: "}" or ":" specifiers "}" ("}}" escapes inside).
 * *close is the closing brace, *has_spec whether specifiers are set. */
static bool fmt_spec(const char *f, size_t fn, size_t i, size_t *close,
                     bool *has_spec)
{
    *has_spec = false;
    if (i < fn && f[i] == '}') {
        *close = i;
        return true;
    }
    if (i >= fn || f[i] != ':')
        return false;
    for (i++; i < fn; i++) {
        if (f[i] != '}') {
            *has_spec = true;
        } else if (i + 1 < fn && f[i + 1] == '}') {
            *has_spec = true;
            i++;
        } else {
            *close = i;
            return true;
        }
    }
    return false;
}

static enum ferr_code fmt_run(struct ev *e, const struct node *n,
                              const struct sv *fs, struct fmt_args *fa,
                              struct buf *b)
{
    const char *f = fs->p;
    size_t fn = fs->len;
    size_t i = 0;
    bool dry = b == NULL;
    enum ferr_code rc;

#define FMT_ADD(p, len)                                                 \
    do {                                                                \
        if (!dry && buf_add(b, (p), (len)))                             \
            return limit_err(e, n);                                     \
    } while (0)

    /* the next '{' and '}' at or after i, searched again only once
     * passed, so a long format string costs linear time */
    const char *lp = memchr(f, '{', fn);
    const char *rp = memchr(f, '}', fn);
    size_t lb = lp ? (size_t)(lp - f) : SIZE_MAX;
    size_t rb = rp ? (size_t)(rp - f) : SIZE_MAX;

    while (i < fn) {
        if (lp && lb < i) {
            lp = memchr(f + i, '{', fn - i);
            lb = lp ? (size_t)(lp - f) : SIZE_MAX;
        }
        if (rp && rb < i) {
            rp = memchr(f + i, '}', fn - i);
            rb = rp ? (size_t)(rp - f) : SIZE_MAX;
        }
        if (lp && (!rp || rb > lb)) {
            unsigned ai;
            size_t end;
            size_t close;
            bool spec;

            if (lb + 1 < fn && f[lb + 1] == '{') {
                FMT_ADD(f + i, lb - i + 1);
                i = lb + 2;
            } else if (rp && rb > lb + 1 &&
                       fmt_index(f, fn, lb + 1, &ai, &end) &&
                       fmt_spec(f, fn, end, &close, &spec)) {
                if (ai + 1 >= n->nkid)
                    return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                                "format string references more arguments "
                                "than were supplied: '%.*s'",
                                fn > 100 ? 100 : (int)fn, f);
                if (!dry) {
                    FMT_ADD(f + i, lb - i);
                    rc = fmt_arg(e, n, fa, ai, spec ? NULL : b);
                    if (rc)
                        return rc;
                    if (spec)
                        return fail(e->err, FERR_INVALID, e->pos, e->src,
                                    n->off,
                                    "format specifiers are not supported: "
                                    "'%.*s'",
                                    (int)(close - end), f + end);
                }
                i = close + 1;
            } else {
                return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                            "invalid format string: '%.*s'",
                            fn > 100 ? 100 : (int)fn, f);
            }
        } else if (rp) {
            if (rb + 1 < fn && f[rb + 1] == '}') {
                FMT_ADD(f + i, rb - i + 1);
                i = rb + 2;
            } else {
                return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                            "invalid format string: '%.*s'",
                            fn > 100 ? 100 : (int)fn, f);
            }
        } else {
            FMT_ADD(f + i, fn - i);
            break;
        }
    }
#undef FMT_ADD
    return FERR_OK;
}

static enum ferr_code fn_format(struct ev *e, const struct node *n,
                                struct val *out)
{
    struct val fv;
    struct sv fs;
    struct fmt_args fa;
    struct buf b;
    enum ferr_code rc = eval(e, n->kid[0], &fv);

    if (rc)
        return rc;
    v_to_sv(&fv, &fs);
    fa.n = n->nkid - 1;
    fa.v = xcalloc(fa.n + 1, sizeof(*fa.v));
    fa.done = xcalloc(fa.n + 1, sizeof(*fa.done));
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    rc = fmt_run(e, n, &fs, &fa, NULL);
    if (!rc)
        rc = fmt_run(e, n, &fs, &fa, &b);
    if (!rc)
        rc = take_result(e, n, &b, out);
    buf_release(&b);
    for (size_t i = 0; i < fa.n; i++)
        v_release(&fa.v[i]);
    free(fa.v);
    free(fa.done);
    v_release(&fv);
    return rc;
}

static enum ferr_code fn_join(struct ev *e, const struct node *n,
                              struct val *out)
{
    struct val a;
    struct val sep = v_null();
    struct buf b;
    enum ferr_code rc = eval(e, n->kid[0], &a);

    if (rc)
        return rc;
    if (a.k == V_STR) {
        *out = a;
        return FERR_OK;
    }
    if (v_prim(&a)) {
        struct sv s;

        v_to_sv(&a, &s);
        *out = v_str_take(xstrndup(s.p, s.len), s.len);
        v_release(&a);
        return FERR_OK;
    }
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    if (a.k == V_ARR && json_array_size(a.j) > 0) {
        struct sv ss;
        size_t i;
        json_t *item;

        ss.p = ",";
        ss.len = 1;
        if (json_array_size(a.j) > 1 && n->nkid > 1) {
            rc = eval(e, n->kid[1], &sep);
            if (!rc && v_prim(&sep))
                v_to_sv(&sep, &ss);
        }
        json_array_foreach(a.j, i, item)
        {
            struct val iv = v_json(item, false);
            struct sv is;

            if (rc)
                break;
            v_to_sv(&iv, &is);
            if ((i > 0 && buf_add(&b, ss.p, ss.len)) ||
                buf_add(&b, is.p, is.len))
                rc = limit_err(e, n);
        }
    }
    if (!rc)
        rc = take_result(e, n, &b, out);
    buf_release(&b);
    v_release(&sep);
    v_release(&a);
    return rc;
}

static enum ferr_code fn_tojson(struct ev *e, const struct node *n,
                                struct val *out)
{
    struct val a;
    struct buf b;
    enum ferr_code rc = eval(e, n->kid[0], &a);

    if (rc)
        return rc;
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    if (val_write_json(&b, &a))
        rc = limit_err(e, n);
    else
        rc = take_result(e, n, &b, out);
    buf_release(&b);
    v_release(&a);
    return rc;
}

static enum ferr_code fn_fromjson(struct ev *e, const struct node *n,
                                  struct val *out)
{
    struct val a;
    struct sv s;
    json_error_t jerr;
    json_t *j;
    enum ferr_code rc = eval(e, n->kid[0], &a);

    if (rc)
        return rc;
    v_to_sv(&a, &s);
    j = json_loadb(s.p, s.len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!j && strstr(jerr.text, "too big"))
        j = json_loadb(s.p, s.len,
                       JSON_DECODE_ANY | JSON_ALLOW_NUL |
                           JSON_DECODE_INT_AS_REAL,
                       &jerr);
    if (!j)
        rc = fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                  "fromJSON: invalid JSON at offset %d: %s",
                  jerr.position, jerr.text);
    else
        *out = v_json(j, true);
    v_release(&a);
    return rc;
}

static enum ferr_code fn_hashfiles(struct ev *e, const struct node *n,
                                   struct val *out)
{
    char **pats;
    struct buf b;
    struct ferr herr;
    enum ferr_code rc = FERR_OK;
    size_t got = 0;

    if (!e->env->hash_files)
        return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                    "function 'hashFiles' is not available here");
    pats = xcalloc(n->nkid, sizeof(*pats));
    for (; got < n->nkid; got++) {
        struct val v;
        struct sv s;

        rc = eval(e, n->kid[got], &v);
        if (rc)
            break;
        v_to_sv(&v, &s);
        pats[got] = xstrndup(s.p, s.len);
        v_release(&v);
    }
    if (!rc) {
        buf_init(&b, HASH_MAX);
        ferr_clear(&herr);
        rc = e->env->hash_files(e->env->ud, (const char *const *)pats,
                                n->nkid, &b, &herr);
        if (rc)
            fail(e->err, rc, e->pos, e->src, n->off, "hashFiles: %s",
                 herr.code ? herr.msg : "failed");
        else
            rc = take_result(e, n, &b, out);
        buf_release(&b);
    }
    for (size_t i = 0; i < got; i++)
        free(pats[i]);
    free(pats);
    return rc;
}

static enum ferr_code ev_call(struct ev *e, const struct node *n,
                              struct val *out)
{
    enum expr_status st = e->env->status;

    switch ((enum fn)n->id) {
    case F_CONTAINS:
        return fn_contains(e, n, out);
    case F_STARTSWITH:
    case F_ENDSWITH:
        return fn_affix(e, n, out);
    case F_FORMAT:
        return fn_format(e, n, out);
    case F_JOIN:
        return fn_join(e, n, out);
    case F_TOJSON:
        return fn_tojson(e, n, out);
    case F_FROMJSON:
        return fn_fromjson(e, n, out);
    case F_HASHFILES:
        return fn_hashfiles(e, n, out);
    case F_SUCCESS:
        *out = v_bool(st == EXPR_OK);
        return FERR_OK;
    case F_ALWAYS:
        *out = v_bool(true);
        return FERR_OK;
    case F_CANCELLED:
        *out = v_bool(st == EXPR_CANCELLED);
        return FERR_OK;
    case F_FAILURE:
        *out = v_bool(st == EXPR_FAILED);
        return FERR_OK;
    case F_UNKNOWN:
        break;
    }
    return fail(e->err, FERR_INVALID, e->pos, e->src, n->off,
                "unrecognized function '%.*s'", (int)n->name_len, n->name);
}

static enum ferr_code ev_logic(struct ev *e, const struct node *n,
                               struct val *out)
{
    for (size_t i = 0; i < n->nkid; i++) {
        struct val v;
        enum ferr_code rc = eval(e, n->kid[i], &v);
        bool t;

        if (rc)
            return rc;
        t = v_truthy(&v);
        if (i + 1 == n->nkid || (n->k == N_AND ? !t : t)) {
            *out = v;
            return FERR_OK;
        }
        v_release(&v);
    }
    *out = v_null();
    return FERR_OK;
}

static enum ferr_code ev_compare(struct ev *e, const struct node *n,
                                 struct val *out)
{
    struct val l;
    struct val r;
    bool res;
    enum ferr_code rc = eval(e, n->kid[0], &l);

    if (rc)
        return rc;
    rc = eval(e, n->kid[1], &r);
    if (rc) {
        v_release(&l);
        return rc;
    }
    switch (n->k) {
    case N_EQ:
        res = v_eq(&l, &r);
        break;
    case N_NE:
        res = !v_eq(&l, &r);
        break;
    case N_LT:
        res = v_order(&l, &r) < 0;
        break;
    case N_LE:
        res = v_eq(&l, &r) || v_order(&l, &r) < 0;
        break;
    case N_GT:
        res = v_order(&l, &r) > 0;
        break;
    default:
        res = v_eq(&l, &r) || v_order(&l, &r) > 0;
        break;
    }
    v_release(&l);
    v_release(&r);
    *out = v_bool(res);
    return FERR_OK;
}

static enum ferr_code eval(struct ev *e, const struct node *n,
                           struct val *out)
{
    enum ferr_code rc;

    switch (n->k) {
    case N_LIT:
        *out = n->lit;
        return FERR_OK;
    case N_CTX: {
        json_t *c = NULL;

        if (n->id >= 0 && e->env->contexts)
            c = obj_get(e->env->contexts, ctx_names[n->id],
                        strlen(ctx_names[n->id]), false);
        *out = c ? v_json(c, false) : v_null();
        out->exact = n->id == CTX_ENV; /* a case-sensitive dictionary on
                                        * Linux runners */
        return FERR_OK;
    }
    case N_INDEX:
        return ev_index(e, n, out);
    case N_NOT: {
        struct val v;

        rc = eval(e, n->kid[0], &v);
        if (rc)
            return rc;
        *out = v_bool(!v_truthy(&v));
        v_release(&v);
        return FERR_OK;
    }
    case N_AND:
    case N_OR:
        return ev_logic(e, n, out);
    case N_CALL:
        return ev_call(e, n, out);
    default:
        return ev_compare(e, n, out);
    }
}

/* ------------------------------------------------------------------ */
/* public entry points                                                 */

static const struct expr_env empty_env = { NULL, EXPR_OK, NULL, NULL };

/* Parse and evaluate @src; *out is set only on success. */
static enum ferr_code eval_src(const struct expr_env *env, struct span src,
                               const struct pos *pos, struct val *out,
                               struct ferr *err)
{
    struct arena *a = arena_new(2048);
    struct parser p;
    struct node *root;
    enum ferr_code rc;

    parser_init(&p, a, src, pos, err);
    rc = parse_all(&p, &root);
    if (!rc) {
        struct ev e = { env ? env : &empty_env, src, pos, err, 0 };

        rc = eval(&e, root, out);
    }
    /* a string literal result lives in the arena: copy it out */
    if (!rc && out->k == V_STR && !out->j && !out->own_s) {
        out->own_s = xmemdup(out->s, out->len + 1);
        out->s = out->own_s;
    }
    arena_free(a);
    return rc;
}

enum ferr_code expr_eval(const struct expr_env *env, struct span src,
                         const struct pos *pos, json_t **out,
                         struct ferr *err)
{
    struct val v;
    enum ferr_code rc;

    *out = NULL;
    rc = eval_src(env, src, pos, &v, err);
    if (!rc)
        *out = v_to_json(&v);
    return rc;
}

/* The template reader's scan for the next "${{ }}" from @from: "}}"
 * ends it unless inside a '...' string.  1: found, *start at "${{" and
 * *end after "}}"; 0: none; -1: not closed (*start set). */
static int scan_one(struct span s, size_t from, size_t *start, size_t *end)
{
    const char *p;
    bool in_str = false;

    if (from >= s.len)
        return 0;
    p = memmem(s.p + from, s.len - from, "${{", 3);
    if (!p)
        return 0;
    *start = (size_t)(p - s.p);
    for (size_t i = *start + 3; i < s.len; i++) {
        if (s.p[i] == '\'') {
            in_str = !in_str;
        } else if (!in_str && s.p[i] == '}' && s.p[i - 1] == '}') {
            *end = i + 1;
            return 1;
        }
    }
    return -1;
}

static enum ferr_code unclosed(struct span src, const struct pos *pos,
                               size_t start, struct ferr *err)
{
    return fail(err, FERR_PARSE, pos, src, start,
                "expression '${{' is not closed with '}}'");
}

enum ferr_code expr_scan(struct span src, const struct pos *pos,
                         int (*cb)(void *ud, struct span inner, size_t off),
                         void *ud, struct ferr *err)
{
    size_t from = 0;
    size_t start;
    size_t end;
    int r;

    while ((r = scan_one(src, from, &start, &end)) != 0) {
        int stop;

        if (r < 0)
            return unclosed(src, pos, start, err);
        stop = cb(ud, span_of(src.p + start + 3, end - start - 5), start + 3);
        if (stop)
            return (enum ferr_code)stop;
        from = end;
    }
    return FERR_OK;
}

/* Evaluate the ${{ }} at [start, end) of @src, errors placed in @src. */
static enum ferr_code eval_piece(const struct expr_env *env, struct span src,
                                 const struct pos *pos, size_t start,
                                 size_t end, struct val *out, struct ferr *err)
{
    struct span inner = span_of(src.p + start + 3, end - start - 5);
    struct pos ip;

    if (!pos)
        return eval_src(env, inner, NULL, out, err);
    ip = pos_at(pos, src, start + 3);
    return eval_src(env, inner, &ip, out, err);
}

enum ferr_code expr_interp(const struct expr_env *env, struct span src,
                           const struct pos *pos, struct buf *out,
                           struct ferr *err)
{
    size_t from = 0;
    size_t start;
    size_t end;
    int r;

    while ((r = scan_one(src, from, &start, &end)) != 0) {
        struct val v;
        struct sv s;
        enum ferr_code rc;

        if (r < 0)
            return unclosed(src, pos, start, err);
        if (buf_add(out, src.p + from, start - from))
            goto too_long;
        rc = eval_piece(env, src, pos, start, end, &v, err);
        if (rc)
            return rc;
        v_to_sv(&v, &s);
        rc = buf_add(out, s.p, s.len);
        v_release(&v);
        if (rc)
            goto too_long;
        from = end;
    }
    if (from < src.len && buf_add(out, src.p + from, src.len - from))
        goto too_long;
    return FERR_OK;
too_long:
    return fail(err, FERR_LIMIT, pos, src, 0,
                "interpolated value longer than %zu bytes", out->max);
}

/* When @src (trimmed) is exactly one ${{ }}: true, with its bounds. */
static bool single_piece(struct span src, size_t *start, size_t *end)
{
    struct span t = span_trim(src);
    size_t lead = (size_t)(t.p - src.p);

    if (t.len < 5 || memcmp(t.p, "${{", 3) != 0)
        return false;
    if (scan_one(src, lead, start, end) != 1)
        return false;
    return *start == lead && *end == lead + t.len;
}

enum ferr_code expr_interp_value(const struct expr_env *env, struct span src,
                                 const struct pos *pos, json_t **out,
                                 struct ferr *err)
{
    size_t start;
    size_t end;
    struct buf b;
    enum ferr_code rc;

    *out = NULL;
    if (single_piece(src, &start, &end)) {
        struct val v;

        rc = eval_piece(env, src, pos, start, end, &v, err);
        if (!rc)
            *out = v_to_json(&v);
        return rc;
    }
    buf_init(&b, LIM_EXPR_VALUE_BYTES);
    rc = expr_interp(env, src, pos, &b, err);
    if (!rc) {
        *out = json_stringn(b.len ? b.p : "", b.len);
        if (!*out)
            *out = json_lossy_stringn(b.p, b.len);
    }
    buf_release(&b);
    return rc;
}

/* Parse one condition expression; *has_status tells whether it calls a
 * status function.  The tree lives in @a. */
static enum ferr_code parse_cond(struct arena *a, struct span src,
                                 const struct pos *pos, struct node **root,
                                 bool *has_status, struct ferr *err)
{
    struct parser p;
    enum ferr_code rc;

    parser_init(&p, a, src, pos, err);
    rc = parse_all(&p, root);
    *has_status = p.has_status;
    return rc;
}

enum ferr_code expr_eval_cond(const struct expr_env *env, struct span src,
                              const struct pos *pos, bool *out,
                              struct ferr *err)
{
    const struct expr_env *en = env ? env : &empty_env;
    struct span s = trim_ws(src);
    struct pos sp;
    const struct pos *spos = NULL;
    struct arena *a;
    struct node *root;
    bool has_status = false;
    size_t start;
    size_t end;
    enum ferr_code rc;

    *out = false;
    if (pos) {
        sp = pos_at(pos, src, (size_t)(s.p - src.p));
        spos = &sp;
    }
    if (s.len == 0) {
        *out = en->status == EXPR_OK;
        return FERR_OK;
    }
    if (memmem(s.p, s.len, "${{", 3) && !single_piece(s, &start, &end)) {
        /* text around ${{ }}: GitHub turns it into format('...', ...),
         * a string, so the condition is its truthiness */
        size_t from = 0;
        int r;
        struct buf b;

        while ((r = scan_one(s, from, &start, &end)) != 0) {
            struct span inner = span_of(s.p + start + 3, end - start - 5);
            struct pos ip;
            bool hs = false;

            if (r < 0)
                return unclosed(s, spos, start, err);
            if (spos)
                ip = pos_at(spos, s, start + 3);
            a = arena_new(2048);
            rc = parse_cond(a, inner, spos ? &ip : NULL, &root, &hs, err);
            arena_free(a);
            if (rc)
                return rc;
            has_status = has_status || hs;
            from = end;
        }
        if (!has_status && en->status != EXPR_OK)
            return FERR_OK;
        buf_init(&b, LIM_EXPR_VALUE_BYTES);
        rc = expr_interp(en, s, spos, &b, err);
        if (!rc)
            *out = b.len > 0;
        buf_release(&b);
        return rc;
    }
    if (memmem(s.p, s.len, "${{", 3)) {
        size_t off = start + 3;

        if (spos)
            sp = pos_at(spos, s, off);
        s = span_of(s.p + off, end - start - 5);
    }
    a = arena_new(2048);
    rc = parse_cond(a, s, spos, &root, &has_status, err);
    if (!rc && (has_status || en->status == EXPR_OK)) {
        struct ev e = { en, s, spos, err, 0 };
        struct val v;

        rc = eval(&e, root, &v);
        if (!rc) {
            *out = v_truthy(&v);
            v_release(&v);
        }
    }
    arena_free(a);
    return rc;
}

bool expr_truthy(const json_t *v)
{
    struct val x;

    if (!v)
        return false;
    x = v_json((json_t *)v, false);
    return v_truthy(&x);
}

enum ferr_code expr_to_string(const json_t *v, struct buf *out)
{
    struct val x;
    struct sv s;

    if (!v)
        return FERR_OK;
    x = v_json((json_t *)v, false);
    v_to_sv(&x, &s);
    return buf_add(out, s.p, s.len);
}

enum ferr_code expr_to_json(const json_t *v, struct buf *out)
{
    struct val x;

    if (!v)
        return buf_add(out, "null", 4);
    x = v_json((json_t *)v, false);
    return val_write_json(out, &x);
}

enum ferr_code expr_check(struct span src, const struct pos *pos,
                          unsigned ctx_allowed, unsigned fn_allowed,
                          struct ferr *err)
{
    struct arena *a = arena_new(2048);
    struct parser p;
    struct node *root;
    enum ferr_code rc;

    parser_init(&p, a, src, pos, err);
    p.ctx_allowed = ctx_allowed;
    p.fn_allowed = fn_allowed;
    rc = parse_all(&p, &root);
    arena_free(a);
    return rc;
}

struct refs {
    void (*cb)(void *ud, const char *path);
    void *ud;
    struct buf path;
    const struct node **chain;
    size_t nchain;
    size_t cap;
};

/* Report the chain ending at @n when it starts at a context. */
static void emit_chain(struct refs *r, const struct node *n)
{
    const struct node *x = n;

    r->nchain = 0;
    while (x->k == N_INDEX) {
        if (r->nchain == r->cap) {
            r->cap = r->cap ? r->cap * 2 : 16;
            r->chain = xrealloc(r->chain, r->cap * sizeof(*r->chain));
        }
        r->chain[r->nchain++] = x;
        x = x->kid[0];
    }
    if (x->k != N_CTX)
        return;
    buf_reset(&r->path);
    if (buf_add(&r->path, x->name, x->name_len))
        return;
    for (size_t i = r->nchain; i-- > 0;) {
        const struct node *key = r->chain[i]->kid[1];
        struct sv s;

        if (!key || key->k != N_LIT) {
            s.p = "*";
            s.len = 1;
        } else {
            v_to_sv(&key->lit, &s);
        }
        if (buf_addch(&r->path, '.') || buf_add(&r->path, s.p, s.len))
            return;
    }
    r->cb(r->ud, buf_cstr(&r->path));
}

static void walk_refs(struct refs *r, const struct node *n, bool in_chain)
{
    if ((n->k == N_INDEX || n->k == N_CTX) && !in_chain)
        emit_chain(r, n);
    if (n->k == N_INDEX) {
        walk_refs(r, n->kid[0], true);
        if (n->kid[1])
            walk_refs(r, n->kid[1], false);
        return;
    }
    for (size_t i = 0; i < n->nkid; i++)
        walk_refs(r, n->kid[i], false);
}

enum ferr_code expr_refs(struct span src,
                         void (*cb)(void *ud, const char *path), void *ud,
                         struct ferr *err)
{
    struct arena *a = arena_new(2048);
    struct parser p;
    struct node *root;
    enum ferr_code rc;

    parser_init(&p, a, src, NULL, err);
    p.lenient = true;
    rc = parse_all(&p, &root);
    if (!rc) {
        struct refs r;

        memset(&r, 0, sizeof(r));
        r.cb = cb;
        r.ud = ud;
        buf_init(&r.path, 2 * LIM_EXPR_BYTES);
        walk_refs(&r, root, false);
        buf_release(&r.path);
        free(r.chain);
    }
    arena_free(a);
    return rc;
}
