/* exprval_test: the values of expressions.  The tables run whole
 * expressions (number formatting, loose equality, ordering, toJSON)
 * through expr_eval and compare the result rendered as in expr_test;
 * the other tests call the exprval_ functions directly: ParseNumber,
 * G15 formatting, the coercion matrix of == and <, truthiness, string
 * forms, toJSON, conversion to jansson and value ownership.  Expected
 * values follow docs.github.com "Evaluate expressions in workflows and
 * actions" and the actions/runner DTExpressions2 sources. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/expr.h"
#include "pipeline/exprval.h"
#include "util/buf.h"

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

static const char default_ctx[] =
    "{"
    "\"github\": {\"ref\": \"refs/heads/main\", \"event_name\": \"push\","
    "  \"run_number\": 7,"
    "  \"event\": {"
    "    \"issue\": {\"labels\": [{\"name\": \"bug\"},"
    "                            {\"name\": \"help wanted\"}]},"
    "    \"pull_request\": {\"title\": \"Add X\", \"number\": 42}"
    "  }},"
    "\"env\": {\"FOO\": \"bar\", \"EMPTY\": \"\", \"NUM\": \"42\"},"
    "\"matrix\": {\"os\": \"ubuntu-latest\", \"node\": 18},"
    "\"steps\": {\"build\": {\"outputs\": {\"version\": \"1.2.3\","
    "  \"json\": \"{\\\"a\\\": [1, 2]}\"}, \"outcome\": \"success\"}},"
    "\"inputs\": {\"debug\": true, \"count\": 3}"
    "}";

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &jerr);

    if (!j)
        fail_msg("bad test JSON: %s", jerr.text);
    return j;
}

/* Strings in double quotes (unescaped), numbers in GitHub's string
 * form, everything else as compact JSON.  The caller frees. */
static char *render(const json_t *v)
{
    struct buf b;

    buf_init(&b, 1u << 24);
    if (json_is_string(v)) {
        assert_int_equal(buf_addch(&b, '"'), FERR_OK);
        assert_int_equal(
            buf_add(&b, json_string_value(v), json_string_length(v)),
            FERR_OK);
        assert_int_equal(buf_addch(&b, '"'), FERR_OK);
    } else if (json_is_number(v)) {
        char num[EXPRVAL_NUM_CHARS];
        size_t n = exprval_num_to_text(json_number_value(v), num);

        assert_int_equal(buf_add(&b, num, n), FERR_OK);
    } else {
        char *s = json_dumps(v, JSON_ENCODE_ANY | JSON_COMPACT);

        assert_non_null(s);
        assert_int_equal(buf_adds(&b, s), FERR_OK);
        free(s);
    }
    return buf_take(&b, NULL);
}

struct tcase {
    const char *expr;
    const char *want; /* render()ed result */
};

#define OK(e, w) { (e), (w) }

/* Evaluate every row against default_ctx; print each mismatch, then
 * fail if there was one. */
static void run_table(const struct tcase *t, size_t n)
{
    json_t *ctx = load(default_ctx);
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    size_t bad = 0;

    for (size_t i = 0; i < n; i++) {
        struct ferr err;
        json_t *out = NULL;
        enum ferr_code rc;
        char *got;

        ferr_clear(&err);
        rc = expr_eval(&env, span_cstr(t[i].expr), NULL, &out, &err);
        if (rc) {
            print_error("row %zu '%s': code %d (%s)\n", i, t[i].expr, rc,
                        err.msg);
            bad++;
            continue;
        }
        got = render(out);
        if (strcmp(got, t[i].want) != 0) {
            print_error("row %zu '%s': got %s, want %s\n", i, t[i].expr,
                        got, t[i].want);
            bad++;
        }
        free(got);
        json_decref(out);
    }
    json_decref(ctx);
    assert_int_equal(bad, 0);
}

#define RUN(tab) run_table((tab), sizeof(tab) / sizeof((tab)[0]))

/* ------------------------------------------------------------------ */
/* the tables                                                          */

/* How numbers print: .NET Double.ToString("G15"), invariant culture. */
static const struct tcase number_format_rows[] = {
    OK("format('{0}', 1.0)", "\"1\""),
    OK("format('{0}', 0.1)", "\"0.1\""),
    OK("format('{0}', 2.5)", "\"2.5\""),
    OK("format('{0}', 100)", "\"100\""),
    OK("format('{0}', -12)", "\"-12\""),
    OK("format('{0}', 123456789012345)", "\"123456789012345\""),
    OK("format('{0}', 999999999999999)", "\"999999999999999\""),
    OK("format('{0}', 1e15)", "\"1E+15\""),
    OK("format('{0}', 1234567890123456)", "\"1.23456789012346E+15\""),
    OK("format('{0}', 1e21)", "\"1E+21\""),
    OK("format('{0}', 1e300)", "\"1E+300\""),
    OK("format('{0}', 0.0001)", "\"0.0001\""),
    OK("format('{0}', 0.00001)", "\"1E-05\""),
    OK("format('{0}', 1.5e-7)", "\"1.5E-07\""),
    OK("format('{0}', 3.14159265358979323)", "\"3.14159265358979\""),
    OK("format('{0}', 0.30000000000000004)", "\"0.3\""),
    OK("format('{0}', -0)", "\"-0\""),
    OK("format('{0}', 0xff)", "\"255\""),
    OK("format('{0}', fromJSON('0.3333333333333333'))",
       "\"0.333333333333333\""),
    OK("format('{0}', fromJSON('12345678901234567890'))",
       "\"1.23456789012346E+19\""),
    OK("format('{0}', 1e400)", "\"Infinity\""),
    OK("1e15", "1E+15"),
    OK("-1.5", "-1.5"),
    OK("0.1", "0.1"),
};

/* == and != : loose equality with GitHub's coercion. */
static const struct tcase equality_rows[] = {
    OK("null == 0", "true"),
    OK("'' == 0", "true"),
    OK("'abc' == 'ABC'", "true"),
    OK("'1' == 1", "true"),
    OK("true == 1", "true"),
    OK("false == 0", "true"),
    OK("true == 2", "false"),
    OK("'true' == true", "false"),
    OK("'TRUE' == true", "false"),
    OK("'1' == true", "true"),
    OK("NaN == NaN", "false"),
    OK("NaN != NaN", "true"),
    OK("'abc' == NaN", "false"),
    OK("null == null", "true"),
    OK("null == false", "true"),
    OK("null == ''", "true"),
    OK("null == 'null'", "false"),
    OK("' 1 ' == 1", "true"),
    OK("'  ' == 0", "true"),
    OK("'0x10' == 16", "true"),
    OK("'0o10' == 8", "true"),
    OK("'1e3' == 1000", "true"),
    OK("'-1.5' == -1.5", "true"),
    OK("'12abc' == 12", "false"),
    OK("'abc' != 0", "true"),
    OK("'' != null", "false"),
    OK("1 == 1.0", "true"),
    OK("0 == -0", "true"),
    OK("'Infinity' == Infinity", "true"),
    OK("'-Infinity' == -Infinity", "true"),
    OK("1 != 2", "true"),
    OK("'a' == 'b'", "false"),
    OK("github.event == github.event", "true"),
    OK("github.event.issue.labels == github.event.issue.labels", "true"),
    OK("github.event == github.event.issue", "false"),
    OK("fromJSON('{}') == fromJSON('{}')", "false"),
    OK("fromJSON('[]') == 0", "false"),
    OK("fromJSON('[]') == null", "false"),
    OK("fromJSON('[]') != fromJSON('[]')", "true"),
    OK("github.event.issue.labels.*.name == github.event.issue.labels.*.name",
       "false"),
    OK("github.event_name == 'PUSH'", "true"),
    OK("matrix.node == '18'", "true"),
    OK("inputs.debug == 'true'", "false"),
    OK("inputs.debug == true", "true"),
    OK("env.NUM == 42", "true"),
    OK("env.EMPTY == 0", "true"),
    OK("github.nothing == null", "true"),
};

/* < <= > >= : same coercion, strings ordinal ignoring case. */
static const struct tcase ordering_rows[] = {
    OK("'a' < 'b'", "true"),
    OK("'B' > 'a'", "true"),
    OK("'abc' >= 'ABC'", "true"),
    OK("'abc' <= 'ABC'", "true"),
    OK("'abc' < 'abcd'", "true"),
    OK("'a' < '_'", "true"), /* compared upper-cased: 'A' < '_' */
    OK("null < 1", "true"),
    OK("null <= 0", "true"),
    OK("true > false", "true"),
    OK("false < true", "true"),
    OK("true >= 1", "true"),
    OK("'10' > 9", "true"),
    OK("'10' < '9'", "true"),
    OK("'abc' < 1", "false"),
    OK("'abc' > 1", "false"),
    OK("NaN >= NaN", "false"),
    OK("NaN <= 1", "false"),
    OK("fromJSON('[]') < 1", "false"),
    OK("fromJSON('{}') >= fromJSON('{}')", "false"),
    OK("1 <= '1'", "true"),
    OK("2 > 1", "true"),
    OK("3 > 4", "false"),
    OK("2 <= 2", "true"),
    OK("-1 < 0", "true"),
    OK("Infinity > 1e300", "true"),
    OK("github.run_number >= 7", "true"),
    OK("inputs.count < 10", "true"),
};

/* toJSON(): Newtonsoft's indented form, GitHub's numbers. */
static const struct tcase tojson_rows[] = {
    OK("toJSON('a')", "\"\"a\"\""),
    OK("toJSON(1)", "\"1\""),
    OK("toJSON(0.5)", "\"0.5\""),
    OK("toJSON(null)", "\"null\""),
    OK("toJSON(true)", "\"true\""),
    OK("toJSON(fromJSON('[1,2]'))", "\"[\n  1,\n  2\n]\""),
    OK("toJSON(fromJSON('{\"a\":1,\"b\":[true,null]}'))",
       "\"{\n  \"a\": 1,\n  \"b\": [\n    true,\n    null\n  ]\n}\""),
    OK("toJSON(fromJSON('[]'))", "\"[]\""),
    OK("toJSON(fromJSON('{}'))", "\"{}\""),
    OK("toJSON(fromJSON('{\"x\":{}}'))", "\"{\n  \"x\": {}\n}\""),
    OK("toJSON(fromJSON('[[]]'))", "\"[\n  []\n]\""),
    OK("toJSON(github.event.issue.labels.*.name)",
       "\"[\n  \"bug\",\n  \"help wanted\"\n]\""),
    OK("toJSON(fromJSON('1.0'))", "\"1\""),
    OK("toJSON(fromJSON('1e20'))", "\"1E+20\""),
    OK("toJSON(fromJSON('\"\\u0001\"'))", "\"\"\\u0001\"\""),
    OK("toJSON('a\"b')", "\"\"a\\\"b\"\""),
    OK("toJSON(fromJSON('\"tab\\there\\nline\\\\\"'))",
       "\"\"tab\\there\\nline\\\\\"\""),
    OK("toJSON('ünï')", "\"\"ünï\"\""),
    OK("toJSON(matrix)",
       "\"{\n  \"os\": \"ubuntu-latest\",\n  \"node\": 18\n}\""),
    OK("toJSON(steps.build.outputs)",
       "\"{\n  \"version\": \"1.2.3\",\n"
       "  \"json\": \"{\\\"a\\\": [1, 2]}\"\n}\""),
    OK("toJson(1)", "\"1\""),
};

static void test_exprval_number_format(void **state)
{
    (void)state;
    RUN(number_format_rows);
}

static void test_exprval_equality(void **state)
{
    (void)state;
    RUN(equality_rows);
}

static void test_exprval_ordering(void **state)
{
    (void)state;
    RUN(ordering_rows);
}

static void test_exprval_tojson(void **state)
{
    (void)state;
    RUN(tojson_rows);
}

/* ------------------------------------------------------------------ */
/* numbers                                                             */

static bool same_double(double a, double b)
{
    if (isnan(a) || isnan(b))
        return isnan(a) && isnan(b);
    return a == b && signbit(a) == signbit(b);
}

static void test_exprval_parse_number(void **state)
{
    static const struct {
        const char *s;
        double want;
    } rows[] = {
        { "", 0.0 },
        { "  \t\n", 0.0 },
        { "1", 1.0 },
        { " 1 ", 1.0 },
        { "\xc2\xa0" "5\xe3\x80\x80", 5.0 }, /* NBSP, U+3000 */
        { "1.5", 1.5 },
        { ".5", 0.5 },
        { "5.", 5.0 },
        { "+7", 7.0 },
        { "-0", -0.0 },
        { "-1.5e3", -1500.0 },
        { "2.99E-2", 0.0299 },
        { "1e400", INFINITY },
        { "0x10", 16.0 },
        { "0xFf", 255.0 },
        { "0x7fffffff", 2147483647.0 },
        { "0xffffffff", -1.0 },
        { "0o17", 15.0 },
        { " 0o10 ", 8.0 },
        { "Infinity", INFINITY },
        { "-INFINITY", -INFINITY },
        { "+infinity", INFINITY },
        { "1e", NAN },
        { "e5", NAN },
        { ".", NAN },
        { "-", NAN },
        { "1.2.3", NAN },
        { "12abc", NAN },
        { "1,5", NAN },
        { "1 2", NAN },
        { "0x", NAN },
        { "0X10", NAN },
        { "0x100000000", NAN },
        { "-0x1", NAN },
        { "0o8", NAN },
        { "0b1", NAN },
        { "inf", NAN },
        { "NaN", NAN },
        { "true", NAN },
    };
    size_t bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        double got = exprval_parse_number(span_cstr(rows[i].s));

        if (!same_double(got, rows[i].want)) {
            print_error("'%s': got %.17g, want %.17g\n", rows[i].s, got,
                        rows[i].want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

static void test_exprval_parse_number_sees_only_span(void **state)
{
    (void)state;
    /* the bytes after the span are not part of the number */
    assert_true(same_double(exprval_parse_number(span_of("12abc", 2)),
                            12.0));
    assert_true(same_double(exprval_parse_number(span_of("0x1z", 3)), 1.0));
}

static void test_exprval_num_to_text(void **state)
{
    static const struct {
        double d;
        const char *want;
    } rows[] = {
        { 0.0, "0" },
        { -0.0, "-0" },
        { 1.0, "1" },
        { -12.0, "-12" },
        { 0.1, "0.1" },
        { 2.5, "2.5" },
        { 999999999999999.0, "999999999999999" },
        { 1e15, "1E+15" },
        { 1234567890123456.0, "1.23456789012346E+15" },
        { 123456789012345.6, "123456789012346" },
        { 1e300, "1E+300" },
        { 0.0001, "0.0001" },
        { 0.00001, "1E-05" },
        { 1.5e-7, "1.5E-07" },
        { -1.5e-300, "-1.5E-300" },
        { 3.14159265358979323, "3.14159265358979" },
        { 0.30000000000000004, "0.3" },
        { 4.9406564584124654e-324, "4.94065645841247E-324" },
        { NAN, "NaN" },
        { INFINITY, "Infinity" },
        { -INFINITY, "-Infinity" },
    };
    size_t bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char out[EXPRVAL_NUM_CHARS];
        size_t n = exprval_num_to_text(rows[i].d, out);

        if (n != strlen(out) || strcmp(out, rows[i].want) != 0) {
            print_error("%.17g: got '%s' (%zu), want '%s'\n", rows[i].d, out,
                        n, rows[i].want);
            bad++;
        }
    }
    assert_int_equal(bad, 0);
}

/* ------------------------------------------------------------------ */
/* coercion: == and ordering on every pair of kinds                    */

static void test_exprval_coercion_matrix(void **state)
{
    /* a and b as JSON; "@" is b = a (the same array or object) */
    static const struct {
        const char *a;
        const char *b;
        bool eq;
        int order;
    } rows[] = {
        { "null", "null", true, 0 },
        { "null", "0", true, 0 },
        { "null", "\"\"", true, 0 },
        { "null", "false", true, 0 },
        { "null", "\"null\"", false, 0 },
        { "null", "1", false, -1 },
        { "null", "true", false, -1 },
        { "null", "[]", false, 0 },
        { "false", "0", true, 0 },
        { "true", "1", true, 0 },
        { "true", "2", false, -1 },
        { "true", "\"1\"", true, 0 },
        { "true", "\"true\"", false, 0 },
        { "\"TRUE\"", "true", false, 0 },
        { "false", "true", false, -1 },
        { "true", "false", false, 1 },
        { "true", "true", true, 0 },
        { "1", "\"1\"", true, 0 },
        { "\" 1 \"", "1", true, 0 },
        { "\"0x10\"", "16", true, 0 },
        { "\"1e3\"", "1000", true, 0 },
        { "\"12abc\"", "12", false, 0 },
        { "\"abc\"", "0", false, 0 },
        { "\"\"", "0", true, 0 },
        { "\"10\"", "9", false, 1 },
        { "\"10\"", "\"9\"", false, -1 },
        { "\"abc\"", "\"ABC\"", true, 0 },
        { "\"a\"", "\"b\"", false, -1 },
        { "\"B\"", "\"a\"", false, 1 },
        { "\"a\"", "\"_\"", false, -1 }, /* upper-cased: 'A' < '_' */
        { "\"abc\"", "\"abcd\"", false, -1 },
        { "\"\xc3\xa4\"", "\"\xc3\x84\"", false, 1 }, /* ASCII folding only */
        { "1", "1.0", true, 0 },
        { "-0.0", "0", true, 0 },
        { "2", "1", false, 1 },
        { "[]", "[]", false, 0 },
        { "[]", "@", true, 0 },
        { "{}", "{}", false, 0 },
        { "{}", "@", true, 0 },
        { "[]", "0", false, 0 },
        { "[]", "\"Array\"", false, 0 },
        { "{}", "\"Object\"", false, 0 },
        { "[]", "{}", false, 0 },
        { "[1]", "true", false, 0 },
    };
    size_t bad = 0;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        json_t *ja = load(rows[i].a);
        json_t *jb = strcmp(rows[i].b, "@") == 0 ? json_incref(ja)
                                                 : load(rows[i].b);
        struct exprval a = exprval_borrow_json(ja);
        struct exprval b = exprval_borrow_json(jb);
        bool eq = exprval_eq(&a, &b);
        int ord = exprval_order(&a, &b);

        if (eq != rows[i].eq || ord != rows[i].order ||
            exprval_eq(&b, &a) != eq || exprval_order(&b, &a) != -ord) {
            print_error("%s vs %s: eq %d order %d, want eq %d order %d\n",
                        rows[i].a, rows[i].b, eq, ord, rows[i].eq,
                        rows[i].order);
            bad++;
        }
        json_decref(ja);
        json_decref(jb);
    }
    assert_int_equal(bad, 0);
}

static void test_exprval_nan_and_infinity(void **state)
{
    struct exprval nan = exprval_num(NAN);
    struct exprval one = exprval_num(1);
    struct exprval inf = exprval_num(-INFINITY);
    struct exprval str = exprval_adopt_str(strdup("x"), 1);
    struct exprval istr = exprval_adopt_str(strdup(" -Infinity"), 10);

    (void)state;
    assert_true(exprval_eq(&inf, &istr));
    assert_int_equal(exprval_order(&inf, &one), -1);
    assert_int_equal(exprval_order(&istr, &one), -1);
    exprval_release(&istr);
    assert_false(exprval_eq(&nan, &nan));
    assert_int_equal(exprval_order(&nan, &one), 0);
    assert_int_equal(exprval_order(&one, &nan), 0);
    assert_false(exprval_eq(&str, &one)); /* "x" is NaN */
    assert_int_equal(exprval_order(&str, &one), 0);
    exprval_release(&str);
}

/* ------------------------------------------------------------------ */
/* truthiness, string form, toJSON                                     */

static void test_exprval_truthy(void **state)
{
    json_t *v[] = { json_null(),       json_false(),       json_true(),
                    json_integer(0),   json_integer(2),    json_real(0.0),
                    json_real(-0.0),   json_real(0.5),     json_string(""),
                    json_string("0"),  json_array(),       json_object() };
    bool want[] = { false, false, true, false, true, false,
                    false, true,  false, true, true, true };
    struct exprval nan = exprval_num(NAN);
    struct exprval inf = exprval_num(-INFINITY);

    (void)state;
    for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
        struct exprval x = exprval_borrow_json(v[i]);

        assert_int_equal(exprval_truthy(&x), want[i]);
        json_decref(v[i]);
    }
    assert_false(exprval_truthy(&nan));
    assert_true(exprval_truthy(&inf));
}

static void test_exprval_to_str(void **state)
{
    json_t *v =
        load("[null, true, false, 1, 2.5, 1e15, -0.0, \"s\", [1], {}]");
    const char *want[] = { "", "true", "false", "1", "2.5", "1E+15", "-0",
                           "s", "Array", "Object" };

    (void)state;
    for (size_t i = 0; i < json_array_size(v); i++) {
        struct exprval x = exprval_borrow_json(json_array_get(v, i));
        struct exprval_str s;

        exprval_to_str(&x, &s);
        assert_int_equal(s.len, strlen(want[i]));
        assert_memory_equal(s.p, want[i], s.len);
    }
    json_decref(v);
}

static void test_exprval_to_num(void **state)
{
    json_t *v = load("[null, true, false, 7, \" 0x10 \", \"x\", [], {}]");
    const double want[] = { 0, 1, 0, 7, 16, NAN, NAN, NAN };

    (void)state;
    for (size_t i = 0; i < json_array_size(v); i++) {
        struct exprval x = exprval_borrow_json(json_array_get(v, i));

        assert_true(same_double(exprval_to_num(&x), want[i]));
    }
    json_decref(v);
}

static void test_exprval_write_json(void **state)
{
    json_t *v = load("{\"a\": [1, 2.5, \"x\\u2028\"], \"b\": {}}");
    struct exprval x = exprval_borrow_json(v);
    struct buf b;

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(exprval_write_json(&x, &b), FERR_OK);
    assert_string_equal(buf_cstr(&b), "{\n  \"a\": [\n    1,\n    2.5,\n"
                                      "    \"x\\u2028\"\n  ],\n"
                                      "  \"b\": {}\n}");
    buf_release(&b);
    buf_init(&b, 4);
    assert_int_equal(exprval_write_json(&x, &b), FERR_LIMIT);
    buf_release(&b);
    json_decref(v);
}

static void test_exprval_write_json_escapes(void **state)
{
    const char s[] = "q\"b\\\x01\x1f\b\f\n\r\t\xc2\x85\xe2\x80\xa9\xc3\xa9/";
    struct exprval x = exprval_adopt_str(strdup(s), sizeof(s) - 1);
    struct buf b;

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(exprval_write_json(&x, &b), FERR_OK);
    assert_string_equal(buf_cstr(&b),
                        "\"q\\\"b\\\\\\u0001\\u001f\\b\\f\\n\\r\\t"
                        "\\u0085\\u2029\xc3\xa9/\"");
    buf_reset(&b);
    exprval_release(&x);
    x = exprval_num(-0.0);
    assert_int_equal(exprval_write_json(&x, &b), FERR_OK);
    assert_string_equal(buf_cstr(&b), "-0");
    buf_release(&b);
}

static void test_exprval_write_json_nesting_limit(void **state)
{
    json_t *root = json_array();
    json_t *cur = root;
    struct exprval x;
    struct buf b;

    (void)state;
    for (int i = 0; i < 5000; i++) {
        json_t *next = json_array();

        json_array_append_new(cur, next);
        cur = next;
    }
    x = exprval_borrow_json(root);
    buf_init(&b, 1u << 26);
    assert_int_equal(exprval_write_json(&x, &b), FERR_LIMIT);
    buf_release(&b);
    json_decref(root);
}

/* ------------------------------------------------------------------ */
/* jansson conversion and ownership                                    */

static void test_exprval_take_json(void **state)
{
    static const struct {
        double n;
        const char *want; /* compact JSON */
    } rows[] = {
        { 3.0, "3" },
        { -42.0, "-42" },
        { 0.5, "0.5" },
        { 9007199254740991.0, "9007199254740991" },
        { NAN, "\"NaN\"" },
        { INFINITY, "\"Infinity\"" },
        { -INFINITY, "\"-Infinity\"" },
    };
    struct exprval x;
    json_t *j;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
        char *s;

        x = exprval_num(rows[i].n);
        j = exprval_take_json(&x);
        assert_int_equal(x.k, EXPRVAL_NULL);
        s = json_dumps(j, JSON_ENCODE_ANY | JSON_COMPACT);
        assert_string_equal(s, rows[i].want);
        free(s);
        json_decref(j);
    }
    /* integral but beyond 2^53, and -0: reals */
    x = exprval_num(9007199254740992.0);
    j = exprval_take_json(&x);
    assert_true(json_is_real(j));
    json_decref(j);
    x = exprval_num(-0.0);
    j = exprval_take_json(&x);
    assert_true(json_is_real(j));
    assert_true(signbit(json_real_value(j)));
    json_decref(j);
    /* a string that is not UTF-8 still becomes a JSON string */
    x = exprval_adopt_str(strdup("\xff\xfe"), 2);
    j = exprval_take_json(&x);
    assert_true(json_is_string(j));
    assert_null(x.own_s);
    json_decref(j);
    x = exprval_bool(true);
    j = exprval_take_json(&x);
    assert_true(json_is_true(j));
    json_decref(j);
    x = exprval_null();
    j = exprval_take_json(&x);
    assert_true(json_is_null(j));
    json_decref(j);
}

static void test_exprval_take_json_shares(void **state)
{
    json_t *arr = load("[1, 2]");
    struct exprval x = exprval_borrow_json(arr);
    json_t *j = exprval_take_json(&x);

    (void)state;
    assert_ptr_equal(j, arr); /* a new reference to the same array */
    json_decref(j);
    x = exprval_adopt_json(arr); /* the test's reference moves in */
    j = exprval_take_json(&x);
    assert_ptr_equal(j, arr);
    assert_false(x.own_j);
    json_decref(j);
}

static void test_exprval_child_outlives_parent(void **state)
{
    struct exprval parent = exprval_adopt_json(load("{\"a\": \"kept\"}"));
    struct exprval child;
    json_t *borrowed = load("[\"b\"]");
    struct exprval bparent = exprval_borrow_json(borrowed);
    struct exprval bchild;

    (void)state;
    child = exprval_child(&parent, json_object_get(parent.j, "a"));
    assert_true(child.own_j);
    exprval_release(&parent); /* the child holds its own reference */
    assert_int_equal(child.k, EXPRVAL_STR);
    assert_string_equal(child.s, "kept");
    exprval_release(&child);

    bchild = exprval_child(&bparent, json_array_get(borrowed, 0));
    assert_false(bchild.own_j);
    assert_string_equal(bchild.s, "b");
    exprval_release(&bchild);
    exprval_release(&bparent);
    json_decref(borrowed);
}

static void test_exprval_adopt_json_scalars(void **state)
{
    struct exprval x;

    (void)state;
    /* scalars copy their value out and drop the reference at once */
    x = exprval_adopt_json(json_real(2.5));
    assert_int_equal(x.k, EXPRVAL_NUM);
    assert_false(x.own_j);
    assert_null(x.j);
    assert_true(x.n == 2.5);
    x = exprval_adopt_json(json_false());
    assert_int_equal(x.k, EXPRVAL_BOOL);
    assert_false(x.b);
    x = exprval_adopt_json(json_null());
    assert_int_equal(x.k, EXPRVAL_NULL);
    exprval_release(&x);
    exprval_release(&x); /* releasing null again is fine */
    assert_true(exprval_primitive(&x));
}

/* ------------------------------------------------------------------ */
/* strings and whitespace                                              */

static void test_exprval_str_eq_ascii_case(void **state)
{
    (void)state;
    assert_true(exprval_str_eq("Hello", 5, "hELLO", 5));
    assert_true(exprval_str_eq("", 0, "", 0));
    assert_false(exprval_str_eq("a", 1, "ab", 2));
    assert_false(exprval_str_eq("\xc3\xa4", 2, "\xc3\x84", 2));
    assert_true(exprval_str_eq("a\0b", 3, "A\0B", 3));
    assert_false(exprval_str_eq("a\0b", 3, "a\0c", 3));
}

static void test_exprval_str_contains(void **state)
{
    char hay[600];
    char needle[100];

    (void)state;
    assert_true(exprval_str_contains("Hello world", 11, "LLO W", 5));
    assert_true(exprval_str_contains("abc", 3, "", 0));
    assert_true(exprval_str_contains("", 0, "", 0));
    assert_false(exprval_str_contains("", 0, "a", 1));
    assert_false(exprval_str_contains("ab", 2, "abc", 3));
    /* longer than the stack scratch buffers */
    memset(hay, 'a', sizeof(hay));
    memset(needle, 'A', sizeof(needle));
    needle[sizeof(needle) - 1] = 'B';
    assert_false(exprval_str_contains(hay, sizeof(hay), needle,
                                      sizeof(needle)));
    hay[sizeof(hay) - 1] = 'b';
    assert_true(exprval_str_contains(hay, sizeof(hay), needle,
                                     sizeof(needle)));
}

static void test_exprval_whitespace(void **state)
{
    static const struct {
        const char *s;
        size_t want;
    } rows[] = {
        { " ", 1 },   { "\t", 1 },  { "\r", 1 },
        { "\v", 1 },  { "\f", 1 },  { "x", 0 },
        { "\x1f", 0 },
        { "\xc2\x85", 2 },          /* U+0085 */
        { "\xc2\xa0", 2 },          /* U+00A0 */
        { "\xc2\xa1", 0 },
        { "\xe1\x9a\x80", 3 },      /* U+1680 */
        { "\xe2\x80\x80", 3 },      /* U+2000 */
        { "\xe2\x80\x8a", 3 },      /* U+200A */
        { "\xe2\x80\x8b", 0 },      /* U+200B is not */
        { "\xe2\x80\xa8", 3 },      /* U+2028 */
        { "\xe2\x80\xaf", 3 },      /* U+202F */
        { "\xe2\x81\x9f", 3 },      /* U+205F */
        { "\xe3\x80\x80", 3 },      /* U+3000 */
    };
    struct span t;

    (void)state;
    for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
        assert_int_equal(exprval_ws_len(rows[i].s, strlen(rows[i].s)),
                         rows[i].want);
    /* a sequence cut short is not whitespace */
    assert_int_equal(exprval_ws_len("\xe3\x80\x80", 2), 0);
    assert_int_equal(exprval_ws_len("\xc2\xa0", 1), 0);
    assert_int_equal(exprval_ws_len("", 0), 0);
    t = exprval_trim(span_cstr("\xc2\xa0 \tab c\xe3\x80\x80\n"));
    assert_int_equal(t.len, 4);
    assert_memory_equal(t.p, "ab c", 4);
    t = exprval_trim(span_cstr(" \xe2\x80\xa9 "));
    assert_int_equal(t.len, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_exprval_number_format),
        cmocka_unit_test(test_exprval_equality),
        cmocka_unit_test(test_exprval_ordering),
        cmocka_unit_test(test_exprval_tojson),
        cmocka_unit_test(test_exprval_parse_number),
        cmocka_unit_test(test_exprval_parse_number_sees_only_span),
        cmocka_unit_test(test_exprval_num_to_text),
        cmocka_unit_test(test_exprval_coercion_matrix),
        cmocka_unit_test(test_exprval_nan_and_infinity),
        cmocka_unit_test(test_exprval_truthy),
        cmocka_unit_test(test_exprval_to_str),
        cmocka_unit_test(test_exprval_to_num),
        cmocka_unit_test(test_exprval_write_json),
        cmocka_unit_test(test_exprval_write_json_escapes),
        cmocka_unit_test(test_exprval_write_json_nesting_limit),
        cmocka_unit_test(test_exprval_take_json),
        cmocka_unit_test(test_exprval_take_json_shares),
        cmocka_unit_test(test_exprval_child_outlives_parent),
        cmocka_unit_test(test_exprval_adopt_json_scalars),
        cmocka_unit_test(test_exprval_str_eq_ascii_case),
        cmocka_unit_test(test_exprval_str_contains),
        cmocka_unit_test(test_exprval_whitespace),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
