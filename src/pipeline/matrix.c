/* matrix: expand an evaluated strategy.matrix into job combinations the way
 * GitHub's workflow parser does: cross product in key order (first key
 * slowest), exclude, then include (extend matching combinations or append
 * new ones).  It does not evaluate expressions, name jobs or apply
 * max-parallel/fail-fast; the caller does. */
#include "pipeline/matrix.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"
#include "util/xalloc.h"

struct dim {
    const char *key;
    const json_t *values; /* non-empty array */
};

struct spec {
    struct dim *dims;
    size_t ndims;
    const json_t *include; /* array of objects, or NULL */
    const json_t *exclude; /* array of objects, or NULL */
};

/* Filters compare like GitHub's expression '==' (they are compiled to
 * "matrix[...] == literal" there): strings ignore ASCII case, and values
 * of different primitive kinds are compared as numbers. */
enum kind { K_NULL, K_BOOL, K_NUM, K_STR, K_OBJ };

static enum kind kind_of(const json_t *v)
{
    if (!v || json_is_null(v))
        return K_NULL;
    if (json_is_boolean(v))
        return K_BOOL;
    if (json_is_number(v))
        return K_NUM;
    if (json_is_string(v))
        return K_STR;
    return K_OBJ;
}

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
           c == '\f';
}

/* GitHub's string-to-number: trimmed, "" is 0, 0x/0o prefixes, otherwise
 * a plain decimal with optional sign, fraction and exponent; else NaN. */
static double str_to_num(const char *p, size_t n)
{
    size_t i = 0;
    size_t digits = 0;
    char tmp[128];

    while (n > 0 && is_ws(p[0])) {
        p++;
        n--;
    }
    while (n > 0 && is_ws(p[n - 1]))
        n--;
    if (n == 0)
        return 0;
    if (n > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'o')) {
        unsigned base = p[1] == 'x' ? 16 : 8;
        double v = 0;

        for (i = 2; i < n; i++) {
            char c = p[i];
            unsigned d;

            if (c >= '0' && c <= '9')
                d = (unsigned)(c - '0');
            else if (c >= 'a' && c <= 'f')
                d = (unsigned)(c - 'a' + 10);
            else if (c >= 'A' && c <= 'F')
                d = (unsigned)(c - 'A' + 10);
            else
                return NAN;
            if (d >= base)
                return NAN;
            v = v * base + d;
        }
        return v;
    }
    if (p[i] == '+' || p[i] == '-')
        i++;
    while (i < n && p[i] >= '0' && p[i] <= '9') {
        i++;
        digits++;
    }
    if (i < n && p[i] == '.') {
        i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            i++;
            digits++;
        }
    }
    if (digits == 0)
        return NAN;
    if (i < n && (p[i] == 'e' || p[i] == 'E')) {
        size_t exp_digits = 0;

        i++;
        if (i < n && (p[i] == '+' || p[i] == '-'))
            i++;
        while (i < n && p[i] >= '0' && p[i] <= '9') {
            i++;
            exp_digits++;
        }
        if (exp_digits == 0)
            return NAN;
    }
    if (i != n)
        return NAN;
    if (n < sizeof(tmp)) {
        memcpy(tmp, p, n);
        tmp[n] = '\0';
        return strtod(tmp, NULL);
    } else {
        char *big = xstrndup(p, n);
        double v = strtod(big, NULL);

        free(big);
        return v;
    }
}

static double to_num(const json_t *v)
{
    switch (kind_of(v)) {
    case K_NULL:
        return 0;
    case K_BOOL:
        return json_is_true(v) ? 1 : 0;
    case K_NUM:
        return json_number_value(v);
    case K_STR:
        return str_to_num(json_string_value(v), json_string_length(v));
    case K_OBJ:
        break;
    }
    return NAN;
}

static bool str_eq_nocase(const json_t *a, const json_t *b)
{
    size_t n = json_string_length(a);
    const char *p = json_string_value(a);
    const char *q = json_string_value(b);

    if (n != json_string_length(b))
        return false;
    for (size_t i = 0; i < n; i++) {
        char x = p[i];
        char y = q[i];

        if (x >= 'A' && x <= 'Z')
            x = (char)(x - 'A' + 'a');
        if (y >= 'A' && y <= 'Z')
            y = (char)(y - 'A' + 'a');
        if (x != y)
            return false;
    }
    return true;
}

static bool loose_eq(const json_t *a, const json_t *b)
{
    enum kind ka = kind_of(a);
    enum kind kb = kind_of(b);

    if (ka == kb) {
        switch (ka) {
        case K_NULL:
            return true;
        case K_BOOL:
            return json_is_true(a) == json_is_true(b);
        case K_NUM:
            if (json_is_integer(a) && json_is_integer(b))
                return json_integer_value(a) == json_integer_value(b);
            return json_number_value(a) == json_number_value(b);
        case K_STR:
            return str_eq_nocase(a, b);
        case K_OBJ:
            return a == b;
        }
    }
    if (ka == K_OBJ || kb == K_OBJ)
        return false;
    return to_num(a) == to_num(b); /* NaN never equals */
}

/* Does @have satisfy the filter value @want?  Every leaf of @want must
 * equal the value at the same path in @have (missing paths are null), so
 * objects match partially at every level. */
static bool leaf_match(const json_t *want, const json_t *have)
{
    if (json_is_object(want)) {
        const char *k;
        json_t *v;

        json_object_foreach((json_t *)want, k, v) {
            const json_t *sub =
                json_is_object(have) ? json_object_get(have, k) : NULL;

            if (!leaf_match(v, sub))
                return false;
        }
        return true;
    }
    if (json_is_array(want)) {
        size_t i;
        json_t *v;

        json_array_foreach(want, i, v) {
            const json_t *sub =
                json_is_array(have) ? json_array_get(have, i) : NULL;

            if (!leaf_match(v, sub))
                return false;
        }
        return true;
    }
    return loose_eq(want, have);
}

static long dim_index(const struct spec *sp, const char *key)
{
    for (size_t i = 0; i < sp->ndims; i++)
        if (strcmp(sp->dims[i].key, key) == 0)
            return (long)i;
    return -1;
}

/* Do the keys of @entry that name dimensions all match @chosen?  Keys that
 * are not dimensions are ignored (for include they are the extras). */
static bool entry_matches(const struct spec *sp, const json_t *entry,
                          const json_t *const *chosen)
{
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)entry, k, v) {
        long d = dim_index(sp, k);

        if (d >= 0 && !leaf_match(v, chosen[d]))
            return false;
    }
    return true;
}

static bool excluded(const struct spec *sp, const json_t *const *chosen)
{
    size_t i;
    json_t *e;

    if (!sp->exclude)
        return false;
    json_array_foreach(sp->exclude, i, e) {
        if (entry_matches(sp, e, chosen))
            return true;
    }
    return false;
}

static enum ferr_code check_list(const json_t *list, const char *what,
                                 const struct pos *pos, struct ferr *err)
{
    size_t i;
    json_t *e;

    if (!json_is_array(list))
        return ferr_set(err, FERR_INVALID, pos,
                        "matrix '%s' must be a sequence of mappings", what);
    json_array_foreach(list, i, e) {
        if (!json_is_object(e))
            return ferr_set(err, FERR_INVALID, pos,
                            "matrix '%s' entry %zu must be a mapping", what,
                            i + 1);
        if (json_object_size(e) == 0)
            return ferr_set(err, FERR_INVALID, pos,
                            "matrix '%s' entry %zu does not contain any "
                            "values",
                            what, i + 1);
    }
    return FERR_OK;
}

static enum ferr_code read_spec(const json_t *matrix, struct spec *sp,
                                size_t *out_product, const struct pos *pos,
                                struct ferr *err)
{
    const char *k;
    json_t *v;
    size_t product = 1;
    enum ferr_code rc;

    *out_product = 0;
    if (!json_is_object(matrix))
        return ferr_set(err, FERR_INVALID, pos, "matrix must be a mapping");
    sp->dims = xcalloc(json_object_size(matrix) + 1, sizeof(*sp->dims));
    /* jansson's iterators take non-const objects; nothing is modified */
    json_object_foreach((json_t *)matrix, k, v) {
        if (strcmp(k, "include") == 0) {
            if ((rc = check_list(v, "include", pos, err)))
                return rc;
            sp->include = v;
        } else if (strcmp(k, "exclude") == 0) {
            if ((rc = check_list(v, "exclude", pos, err)))
                return rc;
            sp->exclude = v;
        } else if (!json_is_array(v)) {
            return ferr_set(err, FERR_INVALID, pos,
                            "matrix vector '%s' must be a sequence", k);
        } else if (json_array_size(v) == 0) {
            return ferr_set(err, FERR_INVALID, pos,
                            "matrix vector '%s' does not contain any values",
                            k);
        } else {
            sp->dims[sp->ndims].key = k;
            sp->dims[sp->ndims].values = v;
            sp->ndims++;
            if (json_array_size(v) > LIM_MATRIX_PRODUCT / product)
                return ferr_set(err, FERR_LIMIT, pos,
                                "matrix has more than %u combinations before "
                                "exclude",
                                (unsigned)LIM_MATRIX_PRODUCT);
            product *= json_array_size(v);
        }
    }
    if (sp->exclude) {
        size_t i;
        json_t *e;

        json_array_foreach(sp->exclude, i, e) {
            json_object_foreach(e, k, v) {
                if (dim_index(sp, k) < 0)
                    return ferr_set(err, FERR_INVALID, pos,
                                    "matrix exclude key '%s' does not match "
                                    "any key within the matrix",
                                    k);
            }
        }
    }
    *out_product = sp->ndims > 0 ? product : 0;
    return FERR_OK;
}

static enum ferr_code append(json_t *res, json_t *combo, const struct pos *pos,
                             struct ferr *err)
{
    if (json_array_size(res) >= LIM_MATRIX_JOBS) {
        json_decref(combo);
        return ferr_set(err, FERR_LIMIT, pos,
                        "matrix expands to more than %u jobs",
                        (unsigned)LIM_MATRIX_JOBS);
    }
    json_array_append_new(res, combo);
    return FERR_OK;
}

/* One combination of the cross product: the dimensions in key order, then
 * every include's extra keys (later includes overwrite earlier extras). */
static json_t *build(const struct spec *sp, const json_t *const *chosen,
                     bool *matched)
{
    json_t *combo = json_object();
    size_t i;
    json_t *inc;

    for (size_t d = 0; d < sp->ndims; d++)
        json_object_set_new(combo, sp->dims[d].key, json_deep_copy(chosen[d]));
    if (!sp->include)
        return combo;
    json_array_foreach(sp->include, i, inc) {
        const char *k;
        json_t *v;

        if (!entry_matches(sp, inc, chosen))
            continue;
        matched[i] = true;
        json_object_foreach(inc, k, v) {
            if (dim_index(sp, k) < 0)
                json_object_set_new(combo, k, json_deep_copy(v));
        }
    }
    return combo;
}

/* An include that extended nothing: its dimension keys, then the rest. */
static json_t *build_unmatched(const struct spec *sp, const json_t *inc)
{
    json_t *combo = json_object();
    const char *k;
    json_t *v;

    json_object_foreach((json_t *)inc, k, v) {
        if (dim_index(sp, k) >= 0)
            json_object_set_new(combo, k, json_deep_copy(v));
    }
    json_object_foreach((json_t *)inc, k, v) {
        if (dim_index(sp, k) < 0)
            json_object_set_new(combo, k, json_deep_copy(v));
    }
    return combo;
}

enum ferr_code matrix_expand(const json_t *matrix, const struct pos *pos,
                             json_t **out, struct ferr *err)
{
    struct spec sp = { 0 };
    const json_t **chosen = NULL;
    bool *matched = NULL;
    json_t *res = NULL;
    size_t product = 0;
    enum ferr_code rc;

    *out = NULL;
    rc = read_spec(matrix, &sp, &product, pos, err);
    if (rc)
        goto done;
    {
        /* each combination is matched against every include and exclude
         * entry, each key looked up among the dimensions: bound that
         * before doing it (aliases make huge lists cheap to write) */
        double work = ((double)product + 1.0) *
                      ((double)json_array_size(sp.include) +
                       (double)json_array_size(sp.exclude) + 1.0) *
                      ((double)sp.ndims + 1.0);

        if (work > (double)LIM_MATRIX_WORK) {
            rc = ferr_set(err, FERR_LIMIT, pos,
                          "matrix is too large to expand: %zu combinations, "
                          "%zu include and %zu exclude entries, %zu "
                          "dimensions", product, json_array_size(sp.include),
                          json_array_size(sp.exclude), sp.ndims);
            goto done;
        }
    }
    chosen = xcalloc(sp.ndims + 1, sizeof(*chosen));
    matched = xcalloc(json_array_size(sp.include) + 1, sizeof(*matched));
    res = json_array();
    for (size_t idx = 0; idx < product; idx++) {
        size_t block = product;

        for (size_t d = 0; d < sp.ndims; d++) {
            size_t n = json_array_size(sp.dims[d].values);

            block /= n;
            chosen[d] = json_array_get(sp.dims[d].values, (idx / block) % n);
        }
        if (excluded(&sp, chosen))
            continue;
        rc = append(res, build(&sp, chosen, matched), pos, err);
        if (rc)
            goto done;
    }
    if (sp.include) {
        size_t i;
        json_t *inc;

        json_array_foreach(sp.include, i, inc) {
            if (matched[i])
                continue;
            rc = append(res, build_unmatched(&sp, inc), pos, err);
            if (rc)
                goto done;
        }
    }
    *out = res;
    res = NULL;
done:
    json_decref(res);
    free(sp.dims);
    free(chosen);
    free(matched);
    return rc;
}
