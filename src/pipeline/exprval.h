/* exprval: the values of GitHub Actions expressions and GitHub's rules
 * for them: ParseNumber coercion, truthiness, loose equality and
 * ordering (strings compared ordinally ignoring ASCII case), the string
 * form (numbers as .NET "G15"), and toJSON's indented output.  The
 * language itself (lexer, parser, evaluator, functions) is expr.
 * Only exprval_write_json can fail; nothing here does I/O, and any
 * thread may call these functions on values it does not share. */
#ifndef FERRY_PIPELINE_EXPRVAL_H
#define FERRY_PIPELINE_EXPRVAL_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/ferr.h"
#include "util/span.h"

/** Room for a number's string form, NUL included. */
#define EXPRVAL_NUM_CHARS 32

enum exprval_kind {
    EXPRVAL_NULL,
    EXPRVAL_BOOL,
    EXPRVAL_NUM,
    EXPRVAL_STR,
    EXPRVAL_ARR,
    EXPRVAL_OBJ,
};

/*
 * A value.  Plain data: copying the struct copies the references it
 * holds without counting them, so exactly one copy may be released.
 * Built with the constructors below; EXPRVAL_STR may also be filled in
 * by hand over borrowed bytes (k, s, len; the rest zero).
 */
struct exprval {
    enum exprval_kind k;
    bool b;           /* EXPRVAL_BOOL */
    bool own_j;       /* the value holds a reference to j */
    unsigned flags;   /* the caller's bits: the constructors set 0 and no
                       * exprval_ function reads them */
    double n;         /* EXPRVAL_NUM; any double, NaN and -0 included */
    const char *s;    /* EXPRVAL_STR bytes, NUL-terminated after len */
    size_t len;       /* EXPRVAL_STR length in bytes (may hold NULs) */
    char *own_s;      /* EXPRVAL_STR heap storage owned, or NULL */
    json_t *j;        /* EXPRVAL_ARR, EXPRVAL_OBJ; EXPRVAL_STR when the
                       * bytes live in a jansson string, else NULL */
};

/*
 * A value's string form.  p points into tmp or into the value, so it is
 * valid while both the value and this struct are: never copy the struct.
 */
struct exprval_str {
    const char *p;
    size_t len;
    char tmp[EXPRVAL_NUM_CHARS];
};

/** The null value.  Owns nothing; releasing it is a no-op. */
struct exprval exprval_null(void);

/** A boolean value.  Owns nothing. */
struct exprval exprval_bool(bool b);

/** A number value.  Owns nothing. */
struct exprval exprval_num(double n);

/**
 * A string value that adopts @s: heap memory (malloc) holding @len bytes
 * and a NUL after them.  exprval_release frees it.
 */
struct exprval exprval_adopt_str(char *s, size_t len);

/**
 * A value over @j that adopts the caller's reference to @j: kept for
 * strings, arrays and objects (exprval_release drops it), dropped at
 * once for the other kinds (their value is copied out).  @j is not NULL.
 */
struct exprval exprval_adopt_json(json_t *j);

/**
 * A value over @j that borrows it: @j (not NULL) must outlive the value
 * and every value borrowed from it; exprval_release leaves it alone.
 */
struct exprval exprval_borrow_json(json_t *j);

/**
 * A value for @e, an element of the array or object in @from: borrowed
 * when @from borrows its JSON, else holding a reference of its own, so
 * that @from may be released first.
 */
struct exprval exprval_child(const struct exprval *from, json_t *e);

/** Free what @v owns and make it null.  @v may be null already. */
void exprval_release(struct exprval *v);

/**
 * The value as a jansson value; the caller owns the new reference, and
 * @v is released (left null).  Numbers become JSON integers when
 * integral below 2^53 (but -0 stays a real), else reals; NaN and the
 * infinities, which JSON cannot hold, become their string form.  A
 * string that is not valid UTF-8 is converted lossily.  An array or
 * object is the same jansson value, shared: treat it as read-only.
 */
json_t *exprval_take_json(struct exprval *v);

/** True for null, booleans, numbers and strings. */
bool exprval_primitive(const struct exprval *v);

/** GitHub truthiness: false, 0, -0, NaN, "" and null are false. */
bool exprval_truthy(const struct exprval *v);

/**
 * The value as a number: null 0, booleans 1 and 0, strings through
 * exprval_parse_number, arrays and objects NaN.
 */
double exprval_to_num(const struct exprval *v);

/**
 * GitHub's string form of @v into *@out (see struct exprval_str for how
 * long it is valid): null "", booleans "true"/"false", numbers as
 * exprval_num_to_text, strings as they are, arrays "Array", objects
 * "Object".
 */
void exprval_to_str(const struct exprval *v, struct exprval_str *out);

/**
 * Loose equality, GitHub's ==: after coercion (a number against a string
 * parses the string; a boolean or null against another kind is 0 or 1),
 * strings are equal ignoring ASCII case, NaN equals nothing, and arrays
 * and objects only themselves (the same jansson value).
 */
bool exprval_eq(const struct exprval *a, const struct exprval *b);

/**
 * Ordering with the coercion of exprval_eq: 1 when @a > @b, -1 when
 * @a < @b, else 0 (equal, NaN involved, null against null, or an array
 * or object on either side).  Strings order ordinally ignoring ASCII
 * case, false before true.
 */
int exprval_order(const struct exprval *a, const struct exprval *b);

/**
 * Append toJSON's output for @v to @out: Newtonsoft's indented JSON
 * (two spaces per level, "key": value, [] and {} when empty), numbers as
 * exprval_num_to_text, strings escaped as Newtonsoft does (\u0085,
 * \u2028 and \u2029 included).
 * Errors: FERR_LIMIT when @out would grow past its max or the JSON nests
 * deeper than 4096 levels; @out then holds a prefix of the output.
 */
enum ferr_code exprval_write_json(const struct exprval *v, struct buf *out)
    FERR_MUST_CHECK;

/**
 * GitHub's ParseNumber (JavaScript's Number() as the runner has it) of
 * @s: surrounding whitespace (exprval_ws_len) ignored, empty is 0,
 * decimal with optional sign, fraction and exponent, "0x" hex and "0o"
 * octal digits as 32-bit two's complement, [+-]Infinity in any case;
 * anything else is NaN.  Never fails.
 */
double exprval_parse_number(struct span s);

/**
 * Write @d to @out as .NET's Double.ToString("G15") in the invariant
 * culture: 15 significant digits, the exponent form ("1E+15", "1E-05")
 * when the exponent is >= 15 or < -5, "-0", "NaN", "Infinity",
 * "-Infinity".  Returns the length; @out is NUL-terminated.
 */
size_t exprval_num_to_text(double d, char out[EXPRVAL_NUM_CHARS]);

/**
 * Bytes of the whitespace character (.NET Char.IsWhiteSpace: ASCII
 * spaces and controls \t..\r, U+0085, U+00A0, U+1680, U+2000..U+200A,
 * U+2028, U+2029, U+202F, U+205F, U+3000 in UTF-8) that starts at @p,
 * of which @avail bytes may be read; 0 when none does.  Inline: the
 * lexer asks for every byte between tokens.
 */
static inline size_t exprval_ws_len(const char *p, size_t avail)
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

/** @s without leading and trailing exprval_ws_len whitespace. */
struct span exprval_trim(struct span s);

/**
 * GitHub's string equality: ordinal, ignoring ASCII case (folded to
 * upper case as .NET's OrdinalIgnoreCase does).
 */
bool exprval_str_eq(const char *a, size_t an, const char *b, size_t bn);

/**
 * Whether @needle occurs in @hay as exprval_str_eq compares (an empty
 * needle always does).  Linear time; may allocate scratch copies.
 */
bool exprval_str_contains(const char *hay, size_t hn, const char *needle,
                          size_t nn);

#endif
