/* exprval: the values of GitHub Actions expressions, with the rules of
 * actions/runner's DTExpressions2: ParseNumber, truthiness, CoerceTypes
 * and the abstract comparisons, the string form (.NET "G15" numbers) and
 * ToJson (Newtonsoft's indented writer).  Knows no syntax: lexing,
 * parsing, evaluation and the functions are expr's. */
#include "pipeline/exprval.h"

#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"
#include "util/xalloc.h"

#define MAX_JSON_NEST 4096u /* toJSON recursion on outside values */

/* ------------------------------------------------------------------ */
/* characters and strings                                              */

struct span exprval_trim(struct span s)
{
    size_t k;

    while (s.len && (k = exprval_ws_len(s.p, s.len))) {
        s.p += k;
        s.len -= k;
    }
    for (;;) {
        if (s.len >= 1 && exprval_ws_len(s.p + s.len - 1, 1) == 1)
            s.len -= 1;
        else if (s.len >= 2 && exprval_ws_len(s.p + s.len - 2, 2) == 2)
            s.len -= 2;
        else if (s.len >= 3 && exprval_ws_len(s.p + s.len - 3, 3) == 3)
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

bool exprval_str_eq(const char *a, size_t an, const char *b, size_t bn)
{
    if (an != bn)
        return false;
    for (size_t i = 0; i < an; i++)
        if (upc((unsigned char)a[i]) != upc((unsigned char)b[i]))
            return false;
    return true;
}

/* Upper-cased copies and memmem: linear. */
bool exprval_str_contains(const char *h, size_t hn, const char *nd,
                          size_t nn)
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
    return exprval_str_eq(s, n, w, strlen(w));
}

/* ExpressionUtility.ParseNumber. */
double exprval_parse_number(struct span in)
{
    struct span s = exprval_trim(in);
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

/* Double.ToString("G15", InvariantCulture) as .NET Core 3.0+ prints it. */
size_t exprval_num_to_text(double d, char out[EXPRVAL_NUM_CHARS])
{
    char tmp[64];
    size_t o = 0;
    bool in_point = false;

    if (isnan(d))
        return (size_t)snprintf(out, EXPRVAL_NUM_CHARS, "NaN");
    if (isinf(d))
        return (size_t)snprintf(out, EXPRVAL_NUM_CHARS, "%s",
                                d > 0 ? "Infinity" : "-Infinity");
    if (d == 0)
        return (size_t)snprintf(out, EXPRVAL_NUM_CHARS, "%s",
                                signbit(d) ? "-0" : "0");
    if (fabs(d) < 1e15 && d == (double)(int64_t)d)
        return (size_t)snprintf(out, EXPRVAL_NUM_CHARS, "%lld",
                                (long long)(int64_t)d);
    snprintf(tmp, sizeof(tmp), "%.15G", d);
    /* the C library writes the current locale's decimal point: make it
     * '.', whatever its bytes are */
    for (size_t i = 0; tmp[i] && o < EXPRVAL_NUM_CHARS - 1; i++) {
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

struct exprval exprval_null(void)
{
    struct exprval v;

    memset(&v, 0, sizeof(v));
    v.k = EXPRVAL_NULL;
    return v;
}

struct exprval exprval_bool(bool b)
{
    struct exprval v = exprval_null();

    v.k = EXPRVAL_BOOL;
    v.b = b;
    return v;
}

struct exprval exprval_num(double n)
{
    struct exprval v = exprval_null();

    v.k = EXPRVAL_NUM;
    v.n = n;
    return v;
}

struct exprval exprval_adopt_str(char *s, size_t len)
{
    struct exprval v = exprval_null();

    v.k = EXPRVAL_STR;
    v.s = s;
    v.len = len;
    v.own_s = s;
    return v;
}

/* A value over @j; @own: the reference to @j is handed to the value. */
static struct exprval of_json(json_t *j, bool own)
{
    struct exprval v = exprval_null();

    switch (json_typeof(j)) {
    case JSON_OBJECT:
        v.k = EXPRVAL_OBJ;
        break;
    case JSON_ARRAY:
        v.k = EXPRVAL_ARR;
        break;
    case JSON_STRING:
        v.k = EXPRVAL_STR;
        v.s = json_string_value(j);
        v.len = json_string_length(j);
        break;
    case JSON_INTEGER:
    case JSON_REAL:
        v.k = EXPRVAL_NUM;
        v.n = json_number_value(j);
        break;
    case JSON_TRUE:
        v.k = EXPRVAL_BOOL;
        v.b = true;
        break;
    case JSON_FALSE:
        v.k = EXPRVAL_BOOL;
        break;
    case JSON_NULL:
        break;
    }
    if (v.k == EXPRVAL_STR || v.k == EXPRVAL_ARR || v.k == EXPRVAL_OBJ) {
        v.j = j;
        v.own_j = own;
    } else if (own) {
        json_decref(j);
    }
    return v;
}

struct exprval exprval_adopt_json(json_t *j)
{
    return of_json(j, true);
}

struct exprval exprval_borrow_json(json_t *j)
{
    return of_json(j, false);
}

struct exprval exprval_child(const struct exprval *from, json_t *e)
{
    if (from->own_j)
        return exprval_adopt_json(json_incref(e));
    return exprval_borrow_json(e);
}

void exprval_release(struct exprval *v)
{
    free(v->own_s);
    if (v->own_j)
        json_decref(v->j);
    *v = exprval_null();
}

bool exprval_primitive(const struct exprval *v)
{
    return v->k != EXPRVAL_ARR && v->k != EXPRVAL_OBJ;
}

bool exprval_truthy(const struct exprval *v)
{
    switch (v->k) {
    case EXPRVAL_NULL:
        return false;
    case EXPRVAL_BOOL:
        return v->b;
    case EXPRVAL_NUM:
        return !(v->n == 0 || isnan(v->n));
    case EXPRVAL_STR:
        return v->len > 0;
    default:
        return true;
    }
}

double exprval_to_num(const struct exprval *v)
{
    switch (v->k) {
    case EXPRVAL_NULL:
        return 0.0;
    case EXPRVAL_BOOL:
        return v->b ? 1.0 : 0.0;
    case EXPRVAL_NUM:
        return v->n;
    case EXPRVAL_STR:
        return exprval_parse_number(span_of(v->s, v->len));
    default:
        return NAN;
    }
}

void exprval_to_str(const struct exprval *v, struct exprval_str *o)
{
    switch (v->k) {
    case EXPRVAL_NULL:
        o->p = "";
        o->len = 0;
        break;
    case EXPRVAL_BOOL:
        o->p = v->b ? "true" : "false";
        o->len = strlen(o->p);
        break;
    case EXPRVAL_NUM:
        o->len = exprval_num_to_text(v->n, o->tmp);
        o->p = o->tmp;
        break;
    case EXPRVAL_STR:
        o->p = v->s;
        o->len = v->len;
        break;
    case EXPRVAL_ARR:
        o->p = "Array";
        o->len = 5;
        break;
    case EXPRVAL_OBJ:
        o->p = "Object";
        o->len = 6;
        break;
    }
}

json_t *exprval_take_json(struct exprval *v)
{
    json_t *j = NULL;
    char num[EXPRVAL_NUM_CHARS];

    switch (v->k) {
    case EXPRVAL_NULL:
        j = json_null();
        break;
    case EXPRVAL_BOOL:
        j = json_boolean(v->b);
        break;
    case EXPRVAL_NUM:
        if (!isfinite(v->n)) {
            /* JSON cannot hold NaN or infinities: their string form */
            size_t n = exprval_num_to_text(v->n, num);

            j = json_stringn(num, n);
        } else if (v->n == floor(v->n) && fabs(v->n) < 9007199254740992.0 &&
                   !(v->n == 0 && signbit(v->n))) {
            j = json_integer((json_int_t)v->n);
        } else {
            j = json_real(v->n);
        }
        break;
    case EXPRVAL_STR:
        if (v->j) {
            j = v->own_j ? v->j : json_incref(v->j);
            v->own_j = false;
        } else {
            j = json_stringn(v->s, v->len);
            if (!j)
                j = json_lossy_stringn(v->s, v->len);
        }
        break;
    case EXPRVAL_ARR:
    case EXPRVAL_OBJ:
        j = v->own_j ? v->j : json_incref(v->j);
        v->own_j = false;
        break;
    }
    exprval_release(v);
    return j;
}

/* EvaluationResult.CoerceTypes + AbstractEqual/GreaterThan/LessThan. */
struct prim {
    enum exprval_kind k;
    bool b;
    double n;
    const char *s;
    size_t len;
    const json_t *ref;
};

static struct prim to_prim(const struct exprval *v)
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
    if (l->k == EXPRVAL_NUM && r->k == EXPRVAL_STR) {
        r->n = exprval_parse_number(span_of(r->s, r->len));
        r->k = EXPRVAL_NUM;
    } else if (l->k == EXPRVAL_STR && r->k == EXPRVAL_NUM) {
        l->n = exprval_parse_number(span_of(l->s, l->len));
        l->k = EXPRVAL_NUM;
    } else if (l->k == EXPRVAL_BOOL || l->k == EXPRVAL_NULL) {
        l->n = l->k == EXPRVAL_BOOL && l->b ? 1.0 : 0.0;
        l->k = EXPRVAL_NUM;
        coerce(l, r);
    } else if (r->k == EXPRVAL_BOOL || r->k == EXPRVAL_NULL) {
        r->n = r->k == EXPRVAL_BOOL && r->b ? 1.0 : 0.0;
        r->k = EXPRVAL_NUM;
        coerce(l, r);
    }
}

bool exprval_eq(const struct exprval *a, const struct exprval *b)
{
    struct prim l = to_prim(a);
    struct prim r = to_prim(b);

    coerce(&l, &r);
    if (l.k != r.k)
        return false;
    switch (l.k) {
    case EXPRVAL_NULL:
        return true;
    case EXPRVAL_NUM:
        return !isnan(l.n) && !isnan(r.n) && l.n == r.n;
    case EXPRVAL_STR:
        return exprval_str_eq(l.s, l.len, r.s, r.len);
    case EXPRVAL_BOOL:
        return l.b == r.b;
    default:
        return l.ref == r.ref;
    }
}

int exprval_order(const struct exprval *a, const struct exprval *b)
{
    struct prim l = to_prim(a);
    struct prim r = to_prim(b);
    int c;

    coerce(&l, &r);
    if (l.k != r.k)
        return 0;
    switch (l.k) {
    case EXPRVAL_NUM:
        if (isnan(l.n) || isnan(r.n))
            return 0;
        return l.n > r.n ? 1 : l.n < r.n ? -1 : 0;
    case EXPRVAL_STR:
        c = ci_cmp(l.s, l.len, r.s, r.len);
        return c > 0 ? 1 : c < 0 ? -1 : 0;
    case EXPRVAL_BOOL:
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
    char num[EXPRVAL_NUM_CHARS];
    size_t n = exprval_num_to_text(d, num);

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

enum ferr_code exprval_write_json(const struct exprval *v, struct buf *b)
{
    switch (v->k) {
    case EXPRVAL_NULL:
        return buf_add(b, "null", 4);
    case EXPRVAL_BOOL:
        return buf_adds(b, v->b ? "true" : "false");
    case EXPRVAL_NUM:
        return add_num(b, v->n);
    case EXPRVAL_STR:
        return add_json_str(b, v->s, v->len);
    default:
        return json_write(b, v->j, 0);
    }
}
