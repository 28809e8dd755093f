/* expr_test: GitHub Actions expressions, the language: literals,
 * operators, property access and filters, the functions, syntax errors,
 * ${{ }} scanning and interpolation, conditions, checks, references,
 * error positions and limits.  Table-driven: each row is an expression,
 * optional contexts and status, and the expected result rendered by
 * render() (strings in double quotes without escaping, numbers in
 * GitHub's string form, the rest as compact JSON) or the expected error
 * code and a fragment of its message.  What values mean (coercion,
 * comparison, number and JSON formatting) is tested in exprval_test.
 * Expected values follow docs.github.com "Evaluate expressions in
 * workflows and actions" and the actions/runner DTExpressions2
 * sources. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/expr.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* ------------------------------------------------------------------ */
/* fixtures                                                            */

static const char default_ctx[] =
    "{"
    "\"github\": {\"ref\": \"refs/heads/main\", \"event_name\": \"push\","
    "  \"sha\": \"abc123\", \"repository\": \"octo/hello\","
    "  \"head_ref\": \"\", \"run_number\": 7,"
    "  \"event\": {"
    "    \"issue\": {\"labels\": [{\"name\": \"bug\"},"
    "                            {\"name\": \"help wanted\"}]},"
    "    \"commits\": [{\"message\": \"fix: a\","
    "                   \"author\": {\"name\": \"A\"}},"
    "                  {\"message\": \"feat: b\","
    "                   \"author\": {\"name\": \"B\"}}],"
    "    \"pull_request\": {\"title\": \"Add X\", \"number\": 42,"
    "                       \"draft\": false}"
    "  }},"
    "\"env\": {\"FOO\": \"bar\", \"EMPTY\": \"\", \"NUM\": \"42\"},"
    "\"vars\": {\"REGION\": \"eu\"},"
    "\"matrix\": {\"os\": \"ubuntu-latest\", \"node\": 18},"
    "\"steps\": {\"build\": {\"outputs\": {\"version\": \"1.2.3\","
    "  \"json\": \"{\\\"a\\\": [1, 2]}\"}, \"outcome\": \"success\"}},"
    "\"needs\": {\"setup\": {\"result\": \"success\","
    "  \"outputs\": {\"x\": \"y\"}}},"
    "\"secrets\": {\"TOKEN\": \"s3cr3t\"},"
    "\"inputs\": {\"debug\": true, \"count\": 3},"
    "\"runner\": {\"os\": \"Linux\", \"arch\": \"X64\"},"
    "\"strategy\": {\"fail-fast\": true, \"job-index\": 0},"
    "\"job\": {\"status\": \"success\"}"
    "}";

struct hash_calls {
    size_t n;          /* patterns seen in the last call */
    char seen[256];    /* those patterns, joined by '|' */
};

static struct hash_calls hash_calls;

static enum ferr_code fake_hash(void *ud, const char *const *patterns,
                                size_t n, struct buf *out, struct ferr *err)
{
    (void)ud;
    hash_calls.n = n;
    hash_calls.seen[0] = '\0';
    for (size_t i = 0; i < n; i++) {
        size_t l = strlen(hash_calls.seen);

        snprintf(hash_calls.seen + l, sizeof(hash_calls.seen) - l, "%s%s",
                 i ? "|" : "", patterns[i]);
    }
    if (n && strcmp(patterns[0], "fail") == 0)
        return ferr_set(err, FERR_IO, NULL, "cannot read 'x'");
    return buf_adds(out, "0123abcd");
}

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);

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
        assert_int_equal(expr_to_string(v, &b), FERR_OK);
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
    const char *want;        /* render()ed result, or a message fragment */
    enum ferr_code code;
    enum expr_status status;
    const char *ctx;         /* contexts as JSON; NULL = default_ctx */
};

#define OK(e, w) { (e), (w), FERR_OK, EXPR_OK, NULL }
#define ERR(e, c, frag) { (e), (frag), (c), EXPR_OK, NULL }
#define ST(e, st, w) { (e), (w), FERR_OK, (st), NULL }
#define CX(e, ctx, w) { (e), (w), FERR_OK, EXPR_OK, (ctx) }

static size_t rows_run;

/* Run every row; print each mismatch, then fail if there was one. */
static void run_table(const struct tcase *t, size_t n)
{
    json_t *def = load(default_ctx);
    size_t bad = 0;

    for (size_t i = 0; i < n; i++) {
        json_t *ctx = t[i].ctx ? load(t[i].ctx) : json_incref(def);
        struct expr_env env = { ctx, t[i].status, fake_hash, NULL };
        struct ferr err;
        json_t *out = NULL;
        enum ferr_code rc;

        ferr_clear(&err);
        rc = expr_eval(&env, span_cstr(t[i].expr), NULL, &out, &err);
        rows_run++;
        if (rc != t[i].code) {
            print_error("row %zu '%s': code %d (%s), want %d\n", i, t[i].expr,
                        rc, rc ? err.msg : "ok", t[i].code);
            bad++;
        } else if (rc) {
            if (out || (t[i].want && !strstr(err.msg, t[i].want))) {
                print_error("row %zu '%s': message '%s', want '%s'\n", i,
                            t[i].expr, err.msg, t[i].want);
                bad++;
            }
        } else {
            char *got = render(out);

            if (strcmp(got, t[i].want) != 0) {
                print_error("row %zu '%s': got %s, want %s\n", i, t[i].expr,
                            got, t[i].want);
                bad++;
            }
            free(got);
        }
        json_decref(out);
        json_decref(ctx);
    }
    json_decref(def);
    assert_int_equal(bad, 0);
}

#define RUN(tab) run_table((tab), sizeof(tab) / sizeof((tab)[0]))

/* ------------------------------------------------------------------ */
/* the tables                                                          */

/* Literals: null, booleans, numbers (decimal, exponent, hex, octal,
 * signs), single-quoted strings with '' escapes. */
static const struct tcase literal_rows[] = {
    OK("null", "null"),
    OK("true", "true"),
    OK("false", "false"),
    OK("1", "1"),
    OK("0", "0"),
    OK("-9.2", "-9.2"),
    OK("711", "711"),
    OK("2.99e-2", "0.0299"),
    OK("-2.99e-2", "-0.0299"),
    OK("'Mona the Octocat'", "\"Mona the Octocat\""),
    OK("'It''s open source!'", "\"It's open source!\""),
    OK("2.99E-2", "0.0299"),
    OK("1e2", "100"),
    OK("1e+2", "100"),
    OK("0xff", "255"),
    OK("0xFF", "255"),
    OK("0x7fffffff", "2147483647"),
    OK("0xffffffff", "-1"),
    OK("0o17", "15"),
    OK(".5", "0.5"),
    OK("5.", "5"),
    OK("+7", "7"),
    OK("'hello'", "\"hello\""),
    OK("'it''s'", "\"it's\""),
    OK("''", "\"\""),
    OK("''''", "\"'\""),
    OK("'a b\tc'", "\"a b\tc\""),
    OK("'${{ not an expression }}'", "\"${{ not an expression }}\""),
    OK("  'padded'  ", "\"padded\""),
    OK("format('{0}', NaN)", "\"NaN\""),
    OK("format('{0}', Infinity)", "\"Infinity\""),
    OK("format('{0}', -Infinity)", "\"-Infinity\""),
    ERR("0XFF", FERR_PARSE, "unexpected symbol '0XFF'"),
    ERR("0x", FERR_PARSE, "unexpected symbol"),
    ERR("0x100000000", FERR_PARSE, "unexpected symbol"),
    ERR("0o8", FERR_PARSE, "unexpected symbol"),
    ERR("-0x1", FERR_PARSE, "unexpected symbol '-0x1'"),
    ERR("1.2.3", FERR_PARSE, "unexpected symbol '1.2.3'"),
    ERR("1e", FERR_PARSE, "unexpected symbol"),
    ERR("-", FERR_PARSE, "unexpected symbol '-'"),
    ERR("'abc", FERR_PARSE, "unexpected symbol"),
    ERR("\"abc\"", FERR_PARSE, "unexpected symbol"),
    ERR("True", FERR_INVALID, "unrecognized named-value 'True'"),
    ERR("NULL", FERR_INVALID, "unrecognized named-value 'NULL'"),
};

/* ! < <= > >= == != && || and grouping, with GitHub's precedence;
 * && and || return an operand, as in JavaScript. */
static const struct tcase operator_rows[] = {
    OK("!true", "false"),
    OK("!false", "true"),
    OK("!0", "true"),
    OK("!1", "false"),
    OK("!''", "true"),
    OK("!'a'", "false"),
    OK("!null", "true"),
    OK("!NaN", "true"),
    OK("!-0", "true"),
    OK("!github.event", "false"),
    OK("!!'x'", "true"),
    OK("!!!true", "false"),
    OK("true && 'x'", "\"x\""),
    OK("'' && 'x'", "\"\""),
    OK("0 && 'x'", "0"),
    OK("null && 'x'", "null"),
    OK("null || 'def'", "\"def\""),
    OK("'a' || 'b'", "\"a\""),
    OK("false || 0", "0"),
    OK("1 && 2 && 3", "3"),
    OK("1 && 0 && 3", "0"),
    OK("0 || '' || null", "null"),
    OK("0 || '' || 'last'", "\"last\""),
    OK("github.event.nothing || 'fallback'", "\"fallback\""),
    OK("github.ref == 'refs/heads/main' && 'prod' || 'dev'", "\"prod\""),
    OK("github.ref == 'refs/heads/x' && 'prod' || 'dev'", "\"dev\""),
    OK("true || false && false", "true"),
    OK("(true || false) && false", "false"),
    OK("false && true || true", "true"),
    OK("!false == true", "true"),
    OK("!(1 == 2)", "true"),
    OK("1 == 1 && 2 == 2", "true"),
    OK("1 < 2 == true", "true"),
    OK("2 > 1 != false", "true"),
    OK("((((1))))", "1"),
    OK("(github).ref", "\"refs/heads/main\""),
    OK("(github.event)['pull_request'].number", "42"),
    OK("1<2", "true"),
    OK("1==1", "true"),
    OK("1==-1", "false"),
    OK("github.ref=='refs/heads/main'", "true"),
    OK("!contains('abc','d')", "true"),
};

/* Property and index access, * filters, missing values. */
static const struct tcase access_rows[] = {
    OK("github.ref", "\"refs/heads/main\""),
    OK("GITHUB.REF", "\"refs/heads/main\""),
    OK("github['ref']", "\"refs/heads/main\""),
    OK("github[ 'REF' ]", "\"refs/heads/main\""),
    OK("github.event.pull_request.number", "42"),
    OK("github.event.PULL_REQUEST.Number", "42"),
    OK("github['event']['pull_request']['title']", "\"Add X\""),
    OK("github.event.pull_request.draft", "false"),
    OK("github.nonexistent", "null"),
    OK("github.nonexistent.deeper", "null"),
    OK("github.ref.foo", "null"),
    OK("github.run_number.x", "null"),
    OK("github.event.issue.labels[0].name", "\"bug\""),
    OK("github.event.issue.labels[1].name", "\"help wanted\""),
    OK("github.event.issue.labels[2]", "null"),
    OK("github.event.issue.labels[-1]", "null"),
    OK("github.event.issue.labels['1'].name", "\"help wanted\""),
    OK("github.event.issue.labels[1.7].name", "\"help wanted\""),
    OK("github.event.issue.labels[null].name", "\"bug\""),
    OK("github.event.issue.labels[true].name", "\"help wanted\""),
    OK("github.event.issue.labels['x']", "null"),
    OK("github.event.issue.labels[github.event]", "null"),
    OK("github.event.issue['labels'][0]['name']", "\"bug\""),
    OK("matrix.node", "18"),
    OK("matrix.os", "\"ubuntu-latest\""),
    OK("steps.build.outputs.version", "\"1.2.3\""),
    OK("steps.build.outcome", "\"success\""),
    OK("steps.missing.outputs.version", "null"),
    OK("needs.setup.result", "\"success\""),
    OK("needs.setup.outputs.x", "\"y\""),
    OK("inputs.debug", "true"),
    OK("inputs.count", "3"),
    OK("strategy.fail-fast", "true"),
    OK("strategy.job-index", "0"),
    OK("runner.os", "\"Linux\""),
    OK("vars.REGION", "\"eu\""),
    OK("vars.region", "\"eu\""),
    OK("secrets.TOKEN", "\"s3cr3t\""),
    OK("env.FOO", "\"bar\""),
    OK("env.foo", "null"), /* env is case-sensitive on Linux runners */
    OK("job.status", "\"success\""),
    OK("jobs", "null"),
    OK("jobs.build.result", "null"),
    OK("github['event'].issue.labels[0].name", "\"bug\""),
    OK("(null).x", "null"),
    OK("github.event.issue.labels.*.name", "[\"bug\",\"help wanted\"]"),
    OK("github.event.issue.labels[*].name", "[\"bug\",\"help wanted\"]"),
    OK("github.event.commits.*.message", "[\"fix: a\",\"feat: b\"]"),
    OK("github.event.commits.*.author.name", "[\"A\",\"B\"]"),
    OK("github.event.pull_request.*", "[\"Add X\",42,false]"),
    OK("github.ref.*", "[]"),
    OK("github.nothing.*.x", "[]"),
    OK("github.event.issue.labels.*.nope", "[]"),
    OK("github.event.issue.labels.*.name[0]", "[]"),
    OK("fromJSON('[[1,2],[3]]').*[0]", "[1,3]"),
    OK("fromJSON('[[1,2],[3]]')[0]", "[1,2]"),
    OK("fromJSON('[[1,2],[3]]').*.*", "[1,2,3]"),
    OK("fromJSON('[[1,2],[3]]').*[5]", "[]"),
    OK("fromJSON('{\"a\":{\"x\":1},\"b\":{\"x\":2}}').*.x", "[1,2]"),
    OK("fromJSON('[{\"0\":\"s\"},[\"t\"]]').*[0]", "[\"s\",\"t\"]"),
    OK("fromJSON('{\"a\":1}')['A']", "1"),
    OK("fromJSON('{\"a\":{\"b\":[10,20]}}').a.b[1]", "20"),
    OK("fromJSON('{\"1\":\"one\"}')[1]", "\"one\""),
    OK("fromJSON('{\"true\":\"t\"}')[true]", "\"t\""),
    OK("fromJSON('{\"\":\"empty\"}')[null]", "\"empty\""),
    /* the docs' object filter examples */
    CX("github.event.fruits.*.name",
       "{\"github\": {\"event\": {\"fruits\": ["
       "{\"name\": \"apple\", \"quantity\": 1},"
       "{\"name\": \"orange\", \"quantity\": 2},"
       "{\"name\": \"pear\", \"quantity\": 1}]}}}",
       "[\"apple\",\"orange\",\"pear\"]"),
    CX("github.event.vegetables.*.ediblePortions",
       "{\"github\": {\"event\": {\"vegetables\": {"
       "\"scallions\": {\"colors\": [\"green\", \"white\"],"
       "  \"ediblePortions\": [\"roots\", \"stalks\"]},"
       "\"beets\": {\"colors\": [\"purple\"],"
       "  \"ediblePortions\": [\"roots\", \"stems\", \"leaves\"]},"
       "\"artichokes\": {\"colors\": [\"green\"],"
       "  \"ediblePortions\": [\"hearts\", \"stems\", \"leaves\"]}}}}}",
       "[[\"roots\",\"stalks\"],[\"roots\",\"stems\",\"leaves\"],"
       "[\"hearts\",\"stems\",\"leaves\"]]"),
    CX("github.event.vegetables.*.ediblePortions.*",
       "{\"github\": {\"event\": {\"vegetables\": {"
       "\"a\": {\"ediblePortions\": [\"roots\"]},"
       "\"b\": {\"ediblePortions\": [\"hearts\", \"stems\"]}}}}}",
       "[\"roots\",\"hearts\",\"stems\"]"),
    ERR("github.event.issue.labels.0", FERR_PARSE, "unexpected symbol '0'"),
    ERR("null.x", FERR_PARSE, "unexpected symbol '.'"),
    ERR("'abc'[0]", FERR_PARSE, "unexpected symbol '['"),
    ERR("1.x", FERR_PARSE, "unexpected symbol"),
    ERR("github.", FERR_PARSE, "unexpected end of expression"),
    ERR("github..ref", FERR_PARSE, "unexpected symbol"),
    ERR("github[0", FERR_PARSE, "unexpected end of expression"),
    ERR("github[]", FERR_PARSE, "unexpected symbol ']'"),
    ERR("github.'ref'", FERR_PARSE, "unexpected symbol"),
    ERR("github.ref(", FERR_PARSE, "unexpected symbol '('"),
    ERR("foo", FERR_INVALID, "unrecognized named-value 'foo'"),
    ERR("foo.bar", FERR_INVALID, "unrecognized named-value 'foo'"),
};

/* contains, startsWith, endsWith: case-insensitive, on string forms;
 * contains on an array uses loose equality. */
static const struct tcase search_rows[] = {
    OK("contains('Hello world', 'llo')", "true"),
    OK("contains('Hello world', 'LLO')", "true"),
    OK("contains('Hello world', 'xyz')", "false"),
    OK("contains('abc', '')", "true"),
    OK("contains('', '')", "true"),
    OK("contains('', 'a')", "false"),
    OK("contains(null, '')", "true"),
    OK("contains(123, 2)", "true"),
    OK("contains(true, 'RU')", "true"),
    OK("contains(1.5, '.')", "true"),
    OK("contains('abc', fromJSON('[]'))", "false"),
    OK("contains(fromJSON('[\"a\",\"b\"]'), 'B')", "true"),
    OK("contains(fromJSON('[1,2]'), '2')", "true"),
    OK("contains(fromJSON('[1,2]'), 3)", "false"),
    OK("contains(fromJSON('[]'), 'a')", "false"),
    OK("contains(fromJSON('{\"a\":1}'), 'a')", "false"),
    OK("contains(fromJSON('[null]'), 0)", "true"),
    OK("contains(fromJSON('[\"bug\"]'), 'bu')", "false"),
    OK("contains(github.event.issue.labels.*.name, 'bug')", "true"),
    OK("contains(github.event.issue.labels.*.name, 'HELP WANTED')", "true"),
    OK("contains(github.event.issue.labels.*.name, 'enhancement')", "false"),
    OK("contains(github.event.issue.labels, github.event.issue.labels[0])",
       "true"),
    OK("contains(fromJSON('{}'), fromJSON('bad'))", "false"),
    OK("contains(github.ref, 'refs/heads')", "true"),
    OK("contains(fromJSON('[\"push\", \"pull_request\"]'), "
       "github.event_name)",
       "true"),
    OK("startsWith('Hello world', 'He')", "true"),
    OK("startsWith('Hello world', 'he')", "true"),
    OK("startsWith('Hello world', 'lo')", "false"),
    OK("startsWith('Hello', 'Hello world')", "false"),
    OK("startsWith('abc', '')", "true"),
    OK("startsWith(12345, 12)", "true"),
    OK("startsWith(null, '')", "true"),
    OK("startsWith(fromJSON('[\"a\"]'), 'a')", "false"),
    OK("startsWith('a', fromJSON('[]'))", "false"),
    OK("startsWith(github.ref, 'refs/tags/')", "false"),
    OK("endsWith('Hello world', 'ld')", "true"),
    OK("endsWith('Hello world', 'LD')", "true"),
    OK("endsWith('Hello world', 'x')", "false"),
    OK("endsWith('ld', 'world')", "false"),
    OK("endsWith(1.5, '.5')", "true"),
    OK("endsWith(true, 'UE')", "true"),
    OK("endsWith(github.ref, '/main')", "true"),
    OK("CONTAINS('abc', 'B')", "true"),
    OK("StartsWith('abc', 'A')", "true"),
    ERR("contains('a')", FERR_INVALID, "too few parameters supplied to "
                                       "'contains'"),
    ERR("contains('a', 'b', 'c')", FERR_INVALID, "too many parameters"),
    ERR("startsWith()", FERR_INVALID, "too few parameters"),
    ERR("endsWith('a')", FERR_INVALID, "too few parameters"),
    ERR("contains('a',)", FERR_PARSE, "unexpected symbol ')'"),
    ERR("contains(,'a')", FERR_PARSE, "unexpected symbol ','"),
};

/* format(): {N} placeholders, {{ and }} escapes, errors. */
static const struct tcase format_rows[] = {
    OK("format('Hello {0} {1} {2}', 'Mona', 'the', 'Octocat')",
       "\"Hello Mona the Octocat\""),
    OK("format('{{Hello {0} {1} {2}!}}', 'Mona', 'the', 'Octocat')",
       "\"{Hello Mona the Octocat!}\""),
    OK("format('{0}', null)", "\"\""),
    OK("format('{0}', true)", "\"true\""),
    OK("format('{0}', github.event)", "\"Object\""),
    OK("format('{0}', github.event.issue.labels)", "\"Array\""),
    OK("format('{0}{0}', 'a')", "\"aa\""),
    OK("format('{1}{0}', 'a', 'b')", "\"ba\""),
    OK("format('no args')", "\"no args\""),
    OK("format('{{0}}', 'x')", "\"{0}\""),
    OK("format('}}{{')", "\"}{\""),
    OK("format('{0:}', 'a')", "\"a\""),
    OK("format('{00}', 'a')", "\"a\""),
    OK("format('{0}', 'a', fromJSON('bad'))", "\"a\""),
    OK("format(github.ref)", "\"refs/heads/main\""),
    OK("format('')", "\"\""),
    OK("format('{0}-{1}', matrix.os, matrix.node)", "\"ubuntu-latest-18\""),
    OK("format('{0}', '{1}')", "\"{1}\""),
    OK("FORMAT('{0}', 1)", "\"1\""),
    ERR("format('{0:x}', 1)", FERR_INVALID, "format specifiers"),
    ERR("format('{0}')", FERR_INVALID, "more arguments than were supplied"),
    ERR("format('{1}', 'a')", FERR_INVALID, "more arguments"),
    ERR("format('{')", FERR_INVALID, "invalid format string"),
    ERR("format('}')", FERR_INVALID, "invalid format string"),
    ERR("format('{x}', 1)", FERR_INVALID, "invalid format string"),
    ERR("format('{}', 1)", FERR_INVALID, "invalid format string"),
    ERR("format('{256}', 1)", FERR_INVALID, "invalid format string"),
    ERR("format('{0', 1)", FERR_INVALID, "invalid format string"),
    ERR("format('{0} {', fromJSON('bad'))", FERR_INVALID,
        "invalid format string"),
    ERR("format()", FERR_INVALID, "too few parameters"),
};

/* join(): arrays, separators, primitives. */
static const struct tcase join_rows[] = {
    OK("join(github.event.issue.labels.*.name, ', ')",
       "\"bug, help wanted\""),
    OK("join(fromJSON('[1,2,3]'))", "\"1,2,3\""),
    OK("join(fromJSON('[]'), '-')", "\"\""),
    OK("join(fromJSON('[\"only\"]'), '-')", "\"only\""),
    OK("join('abc', '-')", "\"abc\""),
    OK("join(1)", "\"1\""),
    OK("join(null)", "\"\""),
    OK("join(true, 'x')", "\"true\""),
    OK("join(fromJSON('{\"a\":1}'))", "\"\""),
    OK("join(fromJSON('[\"a\"]'), fromJSON('bad'))", "\"a\""),
    OK("join(fromJSON('[1,2]'), fromJSON('[]'))", "\"1,2\""),
    OK("join(fromJSON('[true,null,1.5]'), '|')", "\"true||1.5\""),
    OK("join(fromJSON('[[1],{}]'))", "\"Array,Object\""),
    OK("join(fromJSON('[1,2]'), 0)", "\"102\""),
    OK("join(fromJSON('[1,2]'), '')", "\"12\""),
    ERR("join()", FERR_INVALID, "too few parameters"),
    ERR("join(1, 2, 3)", FERR_INVALID, "too many parameters"),
};

/* fromJSON(): JSON text to values; errors on bad JSON. */
static const struct tcase fromjson_rows[] = {
    OK("fromJSON('{\"a\":1}').a", "1"),
    OK("fromJSON('true')", "true"),
    OK("fromJSON('false')", "false"),
    OK("fromJSON('null')", "null"),
    OK("fromJSON('\"s\"')", "\"s\""),
    OK("fromJSON('[1,2]')[1]", "2"),
    OK("fromJSON('[1,2]')", "[1,2]"),
    OK("fromJSON(' 5 ')", "5"),
    OK("fromJSON(42)", "42"),
    OK("fromJSON(true)", "true"),
    OK("fromJSON(steps.build.outputs.json).a[1]", "2"),
    OK("fromJSON('{\"include\":[{\"os\":\"linux\"}]}').include[0].os",
       "\"linux\""),
    OK("fromJSON('1.5e3')", "1500"),
    OK("fromJSON('-0.25')", "-0.25"),
    OK("fromjson('7')", "7"),
    ERR("fromJSON('bad')", FERR_INVALID, "invalid JSON"),
    ERR("fromJSON('')", FERR_INVALID, "invalid JSON"),
    ERR("fromJSON(null)", FERR_INVALID, "invalid JSON"),
    ERR("fromJSON('1 2')", FERR_INVALID, "invalid JSON"),
    ERR("fromJSON('{\"a\":}')", FERR_INVALID, "invalid JSON"),
    ERR("fromJSON('a', 'b')", FERR_INVALID, "too many parameters"),
};

/* success() always() cancelled() failure() and hashFiles(). */
static const struct tcase status_rows[] = {
    ST("success()", EXPR_OK, "true"),
    ST("failure()", EXPR_OK, "false"),
    ST("cancelled()", EXPR_OK, "false"),
    ST("always()", EXPR_OK, "true"),
    ST("success()", EXPR_FAILED, "false"),
    ST("failure()", EXPR_FAILED, "true"),
    ST("cancelled()", EXPR_FAILED, "false"),
    ST("always()", EXPR_FAILED, "true"),
    ST("success()", EXPR_CANCELLED, "false"),
    ST("failure()", EXPR_CANCELLED, "false"),
    ST("cancelled()", EXPR_CANCELLED, "true"),
    ST("always()", EXPR_CANCELLED, "true"),
    ST("SUCCESS()", EXPR_OK, "true"),
    ST("failure() || cancelled()", EXPR_CANCELLED, "true"),
    ST("success ( )", EXPR_OK, "true"),
    OK("hashFiles('**/package-lock.json')", "\"0123abcd\""),
    OK("hashFiles('a', 'b')", "\"0123abcd\""),
    ERR("hashFiles()", FERR_INVALID, "too few parameters"),
    ERR("hashFiles('fail')", FERR_IO, "hashFiles: cannot read 'x'"),
    ERR("success(1)", FERR_INVALID, "too many parameters supplied to "
                                    "'success'"),
    ERR("always(true)", FERR_INVALID, "too many parameters"),
    ERR("unknownFn()", FERR_INVALID, "unrecognized function 'unknownFn'"),
    ERR("github()", FERR_INVALID, "unrecognized function 'github'"),
};

/* Syntax errors. */
static const struct tcase syntax_rows[] = {
    ERR("", FERR_PARSE, "expected an expression"),
    ERR("   ", FERR_PARSE, "expected an expression"),
    ERR("1 ==", FERR_PARSE, "unexpected end of expression"),
    ERR("(1", FERR_PARSE, "unexpected end of expression"),
    ERR("1)", FERR_PARSE, "unexpected symbol ')'"),
    ERR("()", FERR_PARSE, "unexpected symbol ')'"),
    ERR("!", FERR_PARSE, "unexpected end of expression"),
    ERR("1 2", FERR_PARSE, "unexpected symbol '2'"),
    ERR("'a' 'b'", FERR_PARSE, "unexpected symbol ''b''"),
    ERR("1 = 1", FERR_PARSE, "unexpected symbol '='"),
    ERR("true & false", FERR_PARSE, "unexpected symbol '&'"),
    ERR("true | false", FERR_PARSE, "unexpected symbol '|'"),
    ERR("[1]", FERR_PARSE, "unexpected symbol '['"),
    ERR("*", FERR_PARSE, "unexpected symbol '*'"),
    ERR("github.ref.*x", FERR_PARSE, "unexpected symbol 'x'"),
    ERR("github[*", FERR_PARSE, "unexpected end of expression"),
    ERR("1 == == 1", FERR_PARSE, "unexpected symbol '=='"),
    ERR("a+b", FERR_PARSE, "unexpected symbol 'a+b'"),
    ERR("github.ref $", FERR_PARSE, "unexpected symbol '$'"),
    ERR("contains('a' 'b')", FERR_PARSE, "unexpected symbol"),
    ERR("1 -1", FERR_PARSE, "unexpected symbol '-1'"),
    ERR("true(1)", FERR_PARSE, "unexpected symbol '('"),
};

static void test_expr_literals(void **state)
{
    (void)state;
    RUN(literal_rows);
}

static void test_expr_operators(void **state)
{
    (void)state;
    RUN(operator_rows);
}

static void test_expr_access(void **state)
{
    (void)state;
    RUN(access_rows);
}

static void test_expr_search_functions(void **state)
{
    (void)state;
    RUN(search_rows);
}

static void test_expr_format(void **state)
{
    (void)state;
    RUN(format_rows);
}

static void test_expr_join(void **state)
{
    (void)state;
    RUN(join_rows);
}

static void test_expr_fromjson(void **state)
{
    (void)state;
    RUN(fromjson_rows);
}

static void test_expr_status_functions(void **state)
{
    (void)state;
    RUN(status_rows);
}

static void test_expr_syntax_errors(void **state)
{
    (void)state;
    RUN(syntax_rows);
}

static void test_expr_table_size(void **state)
{
    (void)state;
    /* the table tests above have all run by now */
    assert_true(rows_run >= 200);
}

/* ------------------------------------------------------------------ */
/* helpers for the non-table tests                                     */

static json_t *eval_ok(json_t *ctx, const char *src)
{
    struct expr_env env = { ctx, EXPR_OK, fake_hash, NULL };
    struct ferr err;
    json_t *out = NULL;

    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr(src), NULL, &out, &err),
                     FERR_OK);
    assert_non_null(out);
    return out;
}

static char *interp(json_t *ctx, const char *src, enum ferr_code want_rc,
                    struct ferr *err)
{
    struct expr_env env = { ctx, EXPR_OK, fake_hash, NULL };
    struct buf b;

    buf_init(&b, 1u << 20);
    ferr_clear(err);
    assert_int_equal(expr_interp(&env, span_cstr(src), NULL, &b, err),
                     want_rc);
    return buf_take(&b, NULL);
}

/* ------------------------------------------------------------------ */
/* expr_scan                                                           */

struct scan_log {
    size_t n;
    char inner[8][64];
    size_t off[8];
    int stop_at; /* 1-based call that returns 7, 0 = never */
};

static int scan_cb(void *ud, struct span inner, size_t off)
{
    struct scan_log *l = ud;

    if (l->n < 8) {
        snprintf(l->inner[l->n], sizeof(l->inner[0]), "%.*s",
                 SPAN_ARGS(inner));
        l->off[l->n] = off;
    }
    l->n++;
    return (int)l->n == l->stop_at ? 7 : 0;
}

static void test_expr_scan_finds_each_expression(void **state)
{
    struct scan_log l = { 0 };
    struct ferr err;
    const char *src = "a ${{ x }} b ${{y}}";

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_scan(span_cstr(src), NULL, scan_cb, &l, &err),
                     FERR_OK);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.inner[0], " x ");
    assert_int_equal(l.off[0], 5);
    assert_string_equal(l.inner[1], "y");
    assert_int_equal(l.off[1], 16);
}

static void test_expr_scan_skips_braces_in_strings(void **state)
{
    struct scan_log l = { 0 };
    struct ferr err;
    const char *src = "${{ format('{{0}}', 'a}}b') }}!";

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_scan(span_cstr(src), NULL, scan_cb, &l, &err),
                     FERR_OK);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.inner[0], " format('{{0}}', 'a}}b') ");
}

static void test_expr_scan_no_expression(void **state)
{
    struct scan_log l = { 0 };
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        expr_scan(span_cstr("plain $ { {text} }"), NULL, scan_cb, &l, &err),
        FERR_OK);
    assert_int_equal(l.n, 0);
}

static void test_expr_scan_unterminated(void **state)
{
    struct scan_log l = { 0 };
    struct ferr err;
    struct pos pos = { "wf.yml", 4, 10 };

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_scan(span_cstr("ok ${{ 'a }}' }"), &pos, scan_cb,
                               &l, &err),
                     FERR_PARSE);
    assert_int_equal(l.n, 0);
    assert_int_equal(err.pos.line, 4);
    assert_int_equal(err.pos.col, 13);
    assert_non_null(strstr(err.msg, "not closed"));
}

static void test_expr_scan_callback_stops(void **state)
{
    struct scan_log l = { 0 };
    struct ferr err;

    (void)state;
    l.stop_at = 2;
    ferr_clear(&err);
    assert_int_equal(expr_scan(span_cstr("${{a}}${{b}}${{c}}"), NULL,
                               scan_cb, &l, &err),
                     7);
    assert_int_equal(l.n, 2);
}

/* ------------------------------------------------------------------ */
/* expr_interp and expr_interp_value                                   */

static void test_expr_interp_replaces_each_expression(void **state)
{
    json_t *ctx = load(default_ctx);
    struct ferr err;
    char *s = interp(ctx,
                     "ref=${{ github.ref }} n=${{ matrix.node }}"
                     " nil=[${{ github.none }}] ok=${{ 1 == 1 }}"
                     " obj=${{ github.event }}",
                     FERR_OK, &err);

    (void)state;
    assert_string_equal(s, "ref=refs/heads/main n=18 nil=[] ok=true "
                           "obj=Object");
    free(s);
    json_decref(ctx);
}

static void test_expr_interp_format_escapes(void **state)
{
    json_t *ctx = load(default_ctx);
    struct ferr err;
    char *s = interp(ctx, "${{ format('{{0}}') }} and }} {{ kept", FERR_OK,
                     &err);

    (void)state;
    assert_string_equal(s, "{0} and }} {{ kept");
    free(s);
    json_decref(ctx);
}

static void test_expr_interp_plain_text_unchanged(void **state)
{
    json_t *ctx = load(default_ctx);
    struct ferr err;
    char *s = interp(ctx, "echo 'no expressions here' $HOME", FERR_OK, &err);

    (void)state;
    assert_string_equal(s, "echo 'no expressions here' $HOME");
    free(s);
    json_decref(ctx);
}

static void test_expr_interp_unterminated(void **state)
{
    json_t *ctx = load(default_ctx);
    struct ferr err;
    char *s = interp(ctx, "echo ${{ github.ref }", FERR_PARSE, &err);

    (void)state;
    assert_non_null(strstr(err.msg, "not closed"));
    free(s);
    json_decref(ctx);
}

static void test_expr_interp_empty_expression(void **state)
{
    json_t *ctx = load(default_ctx);
    struct ferr err;
    char *s = interp(ctx, "x ${{ }} y", FERR_PARSE, &err);

    (void)state;
    assert_non_null(strstr(err.msg, "expected an expression"));
    free(s);
    json_decref(ctx);
}

static void test_expr_interp_respects_out_max(void **state)
{
    json_t *ctx = load(default_ctx);
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    struct buf b;
    struct ferr err;

    (void)state;
    buf_init(&b, 8);
    ferr_clear(&err);
    assert_int_equal(expr_interp(&env, span_cstr("${{ github.ref }}"), NULL,
                                 &b, &err),
                     FERR_LIMIT);
    buf_release(&b);
    json_decref(ctx);
}

static json_t *interp_value(json_t *ctx, const char *src)
{
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    struct ferr err;
    json_t *out = NULL;

    ferr_clear(&err);
    assert_int_equal(expr_interp_value(&env, span_cstr(src), NULL, &out,
                                       &err),
                     FERR_OK);
    assert_non_null(out);
    return out;
}

static void test_expr_interp_value_keeps_type(void **state)
{
    json_t *ctx = load(default_ctx);
    json_t *v;

    (void)state;
    v = interp_value(ctx, "${{ matrix.node }}");
    assert_true(json_is_integer(v));
    assert_int_equal(json_integer_value(v), 18);
    json_decref(v);
    v = interp_value(ctx, "  ${{ inputs.debug }}  ");
    assert_true(json_is_true(v));
    json_decref(v);
    v = interp_value(ctx, "${{ fromJSON('{\"os\":[\"a\",\"b\"]}') }}");
    assert_true(json_is_object(v));
    assert_int_equal(json_array_size(json_object_get(v, "os")), 2);
    json_decref(v);
    v = interp_value(ctx, "${{ github.none }}");
    assert_true(json_is_null(v));
    json_decref(v);
    v = interp_value(ctx, "${{ 2.5 }}");
    assert_true(json_is_real(v));
    json_decref(v);
    json_decref(ctx);
}

static void test_expr_interp_value_mixed_is_string(void **state)
{
    json_t *ctx = load(default_ctx);
    json_t *v;

    (void)state;
    v = interp_value(ctx, "v${{ matrix.node }}");
    assert_true(json_is_string(v));
    assert_string_equal(json_string_value(v), "v18");
    json_decref(v);
    v = interp_value(ctx, "${{ 1 }}${{ 2 }}");
    assert_string_equal(json_string_value(v), "12");
    json_decref(v);
    v = interp_value(ctx, "plain 5");
    assert_string_equal(json_string_value(v), "plain 5");
    json_decref(v);
    v = interp_value(ctx, "");
    assert_string_equal(json_string_value(v), "");
    json_decref(v);
    json_decref(ctx);
}

/* ------------------------------------------------------------------ */
/* expr_eval_cond                                                      */

struct cond_case {
    const char *src;
    enum expr_status status;
    bool want;
};

static void run_cond(const struct cond_case *c, size_t n)
{
    json_t *ctx = load(default_ctx);

    for (size_t i = 0; i < n; i++) {
        struct expr_env env = { ctx, c[i].status, NULL, NULL };
        struct ferr err;
        bool out = !c[i].want;

        ferr_clear(&err);
        if (expr_eval_cond(&env, span_cstr(c[i].src), NULL, &out, &err))
            fail_msg("'%s': %s", c[i].src, err.msg);
        if (out != c[i].want)
            fail_msg("'%s' status %d: got %d", c[i].src, c[i].status, out);
    }
    json_decref(ctx);
}

static void test_expr_eval_cond_implicit_success(void **state)
{
    static const struct cond_case c[] = {
        { "true", EXPR_OK, true },
        { "true", EXPR_FAILED, false },
        { "true", EXPR_CANCELLED, false },
        { "github.ref == 'refs/heads/main'", EXPR_OK, true },
        { "github.ref == 'refs/heads/x'", EXPR_OK, false },
        { "'non-empty'", EXPR_OK, true },
        { "0", EXPR_OK, false },
        { "github.none", EXPR_OK, false },
        { "", EXPR_OK, true },
        { "  ", EXPR_FAILED, false },
        { "!cancelled()", EXPR_FAILED, true }, /* has a status call */
    };

    (void)state;
    run_cond(c, sizeof(c) / sizeof(c[0]));
}

static void test_expr_eval_cond_status_functions(void **state)
{
    static const struct cond_case c[] = {
        { "always()", EXPR_FAILED, true },
        { "always()", EXPR_CANCELLED, true },
        { "failure()", EXPR_FAILED, true },
        { "failure()", EXPR_OK, false },
        { "cancelled()", EXPR_CANCELLED, true },
        { "success()", EXPR_FAILED, false },
        { "failure() && github.ref == 'refs/heads/main'", EXPR_FAILED, true },
        { "always() && false", EXPR_FAILED, false },
        { "Always()", EXPR_FAILED, true },
    };

    (void)state;
    run_cond(c, sizeof(c) / sizeof(c[0]));
}

static void test_expr_eval_cond_wrapped(void **state)
{
    static const struct cond_case c[] = {
        { "${{ true }}", EXPR_OK, true },
        { "${{ false }}", EXPR_OK, false },
        { "${{ true }}", EXPR_FAILED, false },
        { "${{ failure() }}", EXPR_FAILED, true },
        { "  ${{ always() }}  ", EXPR_CANCELLED, true },
        { "${{ github.event_name == 'push' }}", EXPR_OK, true },
        /* text outside ${{ }}: GitHub makes a format() string, truthy */
        { "${{ false }} x", EXPR_OK, true },
        { "x ${{ false }}", EXPR_FAILED, false },
        { "x ${{ always() }}", EXPR_FAILED, true },
        { "${{ false }} == ${{ true }}", EXPR_OK, true },
    };

    (void)state;
    run_cond(c, sizeof(c) / sizeof(c[0]));
}

static void test_expr_eval_cond_errors(void **state)
{
    json_t *ctx = load(default_ctx);
    struct expr_env env = { ctx, EXPR_FAILED, NULL, NULL };
    struct ferr err;
    bool out = true;

    (void)state;
    /* parsed before success() short-circuits: still an error */
    ferr_clear(&err);
    assert_int_equal(
        expr_eval_cond(&env, span_cstr("github.ref =="), NULL, &out, &err),
        FERR_PARSE);
    assert_false(out);
    ferr_clear(&err);
    assert_int_equal(
        expr_eval_cond(&env, span_cstr("${{ }}"), NULL, &out, &err),
        FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(
        expr_eval_cond(&env, span_cstr("x ${{ nope }}"), NULL, &out, &err),
        FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(
        expr_eval_cond(&env, span_cstr("${{ true"), NULL, &out, &err),
        FERR_PARSE);
    /* the expression is not evaluated when success() is false */
    ferr_clear(&err);
    assert_int_equal(expr_eval_cond(&env, span_cstr("fromJSON('bad')"), NULL,
                                    &out, &err),
                     FERR_OK);
    assert_false(out);
    json_decref(ctx);
}

/* ------------------------------------------------------------------ */
/* expr_check                                                          */

static enum ferr_code check(const char *src, unsigned ctx, unsigned fn,
                            struct ferr *err)
{
    ferr_clear(err);
    return expr_check(span_cstr(src), NULL, ctx, fn, err);
}

static void test_expr_check_accepts_valid(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(check("github.ref == 'x' && contains(matrix.os, 'u')",
                           EXPR_CTX_GITHUB | EXPR_CTX_MATRIX, 0, &err),
                     FERR_OK);
    assert_int_equal(check("success() && hashFiles('x') != ''", EXPR_CTX_ALL,
                           EXPR_FN_ALL, &err),
                     FERR_OK);
    assert_int_equal(check("format('{0}', 1)", 0, 0, &err), FERR_OK);
}

static void test_expr_check_rejects_context(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(check("secrets.TOKEN", EXPR_CTX_GITHUB, 0, &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "'secrets'"));
    assert_int_equal(check("foo.bar", EXPR_CTX_ALL, 0, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "unrecognized named-value 'foo'"));
    assert_int_equal(check("STEPS.x", EXPR_CTX_ALL & ~EXPR_CTX_STEPS, 0,
                           &err),
                     FERR_INVALID);
}

static void test_expr_check_rejects_function(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(check("success()", EXPR_CTX_ALL, EXPR_FN_HASHFILES,
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "'success'"));
    assert_int_equal(check("hashFiles('a')", EXPR_CTX_ALL, EXPR_FN_STATUS,
                           &err),
                     FERR_INVALID);
    assert_int_equal(check("nope(1)", EXPR_CTX_ALL, EXPR_FN_ALL, &err),
                     FERR_INVALID);
    assert_int_equal(check("contains(1)", EXPR_CTX_ALL, EXPR_FN_ALL, &err),
                     FERR_INVALID);
    assert_int_equal(check("join(1, 2, 3)", EXPR_CTX_ALL, EXPR_FN_ALL, &err),
                     FERR_INVALID);
}

static void test_expr_check_syntax(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(check("github.ref ==", EXPR_CTX_ALL, EXPR_FN_ALL, &err),
                     FERR_PARSE);
    assert_int_equal(check("", EXPR_CTX_ALL, EXPR_FN_ALL, &err), FERR_PARSE);
}

/* ------------------------------------------------------------------ */
/* expr_refs                                                           */

struct ref_log {
    size_t n;
    char path[16][96];
};

static void ref_cb(void *ud, const char *path)
{
    struct ref_log *l = ud;

    if (l->n < 16)
        snprintf(l->path[l->n], sizeof(l->path[0]), "%s", path);
    l->n++;
}

static void refs(const char *src, struct ref_log *l)
{
    struct ferr err;

    memset(l, 0, sizeof(*l));
    ferr_clear(&err);
    assert_int_equal(expr_refs(span_cstr(src), ref_cb, l, &err), FERR_OK);
}

static void test_expr_refs_paths(void **state)
{
    struct ref_log l;

    (void)state;
    refs("github.event.pull_request.title", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.path[0], "github.event.pull_request.title");

    refs("steps.build.outputs.x == matrix.os && github", &l);
    assert_int_equal(l.n, 3);
    assert_string_equal(l.path[0], "steps.build.outputs.x");
    assert_string_equal(l.path[1], "matrix.os");
    assert_string_equal(l.path[2], "github");

    refs("github.event.commits.*.message", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.path[0], "github.event.commits.*.message");

    refs("github.event['pull_request'].body", &l);
    assert_string_equal(l.path[0], "github.event.pull_request.body");

    refs("github.event.commits[0].message", &l);
    assert_string_equal(l.path[0], "github.event.commits.0.message");
}

static void test_expr_refs_nonliteral_index(void **state)
{
    struct ref_log l;

    (void)state;
    refs("github.event[matrix.key].title", &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.path[0], "github.event.*.title");
    assert_string_equal(l.path[1], "matrix.key");
}

static void test_expr_refs_inside_functions(void **state)
{
    struct ref_log l;

    (void)state;
    refs("format('{0} {1}', github.head_ref, fromJSON(env.X).y)", &l);
    assert_int_equal(l.n, 2);
    assert_string_equal(l.path[0], "github.head_ref");
    assert_string_equal(l.path[1], "env.X");

    /* unknown names and functions are still reported, not errors */
    refs("custom(foo.bar)", &l);
    assert_int_equal(l.n, 1);
    assert_string_equal(l.path[0], "foo.bar");

    refs("'literal' == 1", &l);
    assert_int_equal(l.n, 0);
}

static void test_expr_refs_syntax_error(void **state)
{
    struct ref_log l = { 0 };
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_refs(span_cstr("github.ref =="), ref_cb, &l, &err),
                     FERR_PARSE);
}

/* ------------------------------------------------------------------ */
/* error positions                                                     */

static void test_expr_error_pos_eval(void **state)
{
    json_t *ctx = load(default_ctx);
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    struct pos pos = { "ci.yml", 12, 9 };
    struct ferr err;
    json_t *out = NULL;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr("github.ref == nope"), &pos,
                               &out, &err),
                     FERR_INVALID);
    assert_null(out);
    assert_string_equal(err.pos.file, "ci.yml");
    assert_int_equal(err.pos.line, 12);
    assert_int_equal(err.pos.col, 9 + 14);

    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr("1 == ) "), &pos, &out, &err),
                     FERR_PARSE);
    assert_int_equal(err.pos.col, 9 + 5);

    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr("1 =="), &pos, &out, &err),
                     FERR_PARSE);
    assert_int_equal(err.pos.col, 9 + 4);

    /* the column counts characters, not bytes */
    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr("'ü' == x"), &pos, &out,
                               &err),
                     FERR_INVALID);
    assert_int_equal(err.pos.col, 9 + 7);

    /* evaluation errors point at the function */
    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr("1 == fromJSON('x')"), &pos,
                               &out, &err),
                     FERR_INVALID);
    assert_int_equal(err.pos.col, 9 + 5);
    json_decref(ctx);
}

static void test_expr_error_pos_interp(void **state)
{
    json_t *ctx = load(default_ctx);
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    struct pos pos = { "ci.yml", 3, 12 };
    struct buf b;
    struct ferr err;

    (void)state;
    buf_init(&b, 1024);
    ferr_clear(&err);
    assert_int_equal(expr_interp(&env, span_cstr("echo ${{ github.x + }}"),
                                 &pos, &b, &err),
                     FERR_PARSE);
    /* the inner text starts 8 characters in, its '+' 10 more */
    assert_int_equal(err.pos.line, 3);
    assert_int_equal(err.pos.col, 12 + 8 + 10);
    buf_release(&b);

    ferr_clear(&err);
    {
        bool out;

        assert_int_equal(expr_eval_cond(&env, span_cstr("  ${{ a }}"), &pos,
                                        &out, &err),
                         FERR_INVALID);
        assert_int_equal(err.pos.col, 12 + 6);
    }
    json_decref(ctx);
}

/* ------------------------------------------------------------------ */
/* public value helpers (their rules are exprval's, see exprval_test)  */

static void test_expr_flag_reads_yaml_and_expression_booleans(void **state)
{
    json_t *v = load("[\"true\", \"false\", \"yes\", true, false, 1, 0]");

    (void)state;
    assert_true(expr_flag(json_array_get(v, 0)));
    assert_false(expr_flag(json_array_get(v, 1)));
    assert_false(expr_flag(json_array_get(v, 2))); /* only "true" */
    assert_true(expr_flag(json_array_get(v, 3)));
    assert_false(expr_flag(json_array_get(v, 4)));
    assert_true(expr_flag(json_array_get(v, 5)));
    assert_false(expr_flag(json_array_get(v, 6)));
    assert_false(expr_flag(NULL));
    json_decref(v);
}

static void test_expr_value_wrappers(void **state)
{
    json_t *v = load("[0.5, \"\", {\"a\": [1e15, null]}]");
    struct buf b;

    (void)state;
    buf_init(&b, 256);
    assert_false(expr_truthy(NULL));
    assert_true(expr_truthy(json_array_get(v, 0)));
    assert_false(expr_truthy(json_array_get(v, 1)));
    assert_int_equal(expr_to_string(NULL, &b), FERR_OK);
    assert_int_equal(b.len, 0);
    assert_int_equal(expr_to_string(json_array_get(v, 0), &b), FERR_OK);
    assert_int_equal(expr_to_string(json_array_get(v, 2), &b), FERR_OK);
    assert_string_equal(buf_cstr(&b), "0.5Object");
    buf_reset(&b);
    assert_int_equal(expr_to_json(NULL, &b), FERR_OK);
    assert_string_equal(buf_cstr(&b), "null");
    buf_reset(&b);
    assert_int_equal(expr_to_json(json_array_get(v, 2), &b), FERR_OK);
    assert_string_equal(buf_cstr(&b),
                        "{\n  \"a\": [\n    1E+15,\n    null\n  ]\n}");
    buf_release(&b);
    buf_init(&b, 4);
    assert_int_equal(expr_to_json(v, &b), FERR_LIMIT);
    buf_release(&b);
    json_decref(v);
}

/* ------------------------------------------------------------------ */
/* hashFiles plumbing                                                  */

static void test_expr_hashfiles_gets_patterns(void **state)
{
    json_t *ctx = load(default_ctx);
    json_t *v;

    (void)state;
    v = eval_ok(ctx, "hashFiles('**/go.sum', format('{0}/x', matrix.os), 1)");
    assert_string_equal(json_string_value(v), "0123abcd");
    assert_int_equal(hash_calls.n, 3);
    assert_string_equal(hash_calls.seen, "**/go.sum|ubuntu-latest/x|1");
    json_decref(v);
    json_decref(ctx);
}

static void test_expr_hashfiles_unavailable(void **state)
{
    struct expr_env env = { NULL, EXPR_OK, NULL, NULL };
    struct ferr err;
    json_t *out = NULL;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_cstr("hashFiles('x')"), NULL, &out,
                               &err),
                     FERR_INVALID);
    assert_null(out);
    assert_non_null(strstr(err.msg, "hashFiles"));
}

/* ------------------------------------------------------------------ */
/* limits and odd inputs                                               */

static char *repeat(const char *pre, size_t n, const char *mid,
                    const char *post)
{
    size_t pl = strlen(pre);
    size_t ml = strlen(mid);
    size_t ql = strlen(post);
    char *s = xmalloc(pl * n + ml + ql * n + 1);
    char *p = s;

    for (size_t i = 0; i < n; i++, p += pl)
        memcpy(p, pre, pl);
    memcpy(p, mid, ml);
    p += ml;
    for (size_t i = 0; i < n; i++, p += ql)
        memcpy(p, post, ql);
    *p = '\0';
    return s;
}

static enum ferr_code eval_rc(json_t *ctx, const char *src)
{
    struct expr_env env = { ctx, EXPR_OK, NULL, NULL };
    struct ferr err;
    json_t *out = NULL;
    enum ferr_code rc;

    ferr_clear(&err);
    rc = expr_eval(&env, span_cstr(src), NULL, &out, &err);
    json_decref(out);
    return rc;
}

static void test_expr_limit_depth(void **state)
{
    char *s;

    (void)state;
    s = repeat("(", 50, "1", ")");
    assert_int_equal(eval_rc(NULL, s), FERR_OK);
    free(s);
    s = repeat("(", 5000, "1", ")");
    assert_int_equal(eval_rc(NULL, s), FERR_LIMIT);
    free(s);
    s = repeat("!", 60, "true", "");
    assert_int_equal(eval_rc(NULL, s), FERR_OK);
    free(s);
    s = repeat("!", 20000, "true", "");
    assert_int_equal(eval_rc(NULL, s), FERR_LIMIT);
    free(s);
    s = repeat("contains(", 3000, "1", ",1)");
    assert_int_equal(eval_rc(NULL, s), FERR_LIMIT);
    free(s);
    s = repeat("", 1, "github", ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t"
                                ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t"
                                ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t"
                                ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t"
                                ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t"
                                ".a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q.r.s.t");
    assert_int_equal(eval_rc(NULL, s), FERR_LIMIT);
    free(s);
}

static void test_expr_limit_long_chains_stay_flat(void **state)
{
    char *s = repeat("true && ", 2000, "true", "");

    (void)state;
    /* && chains are n-ary, as GitHub flattens them: no depth limit */
    assert_int_equal(eval_rc(NULL, s), FERR_OK);
    free(s);
}

static void test_expr_limit_source_bytes(void **state)
{
    size_t n = LIM_EXPR_BYTES + 10;
    char *s = xmalloc(n + 1);

    (void)state;
    memset(s, ' ', n);
    s[0] = '1';
    s[n] = '\0';
    assert_int_equal(eval_rc(NULL, s), FERR_LIMIT);
    free(s);
}

static void test_expr_limit_value_bytes(void **state)
{
    size_t big = 1u << 20;
    char *text = xmalloc(big + 1);
    json_t *ctx;
    char *fmt;

    (void)state;
    memset(text, 'x', big);
    text[big] = '\0';
    ctx = json_pack("{s:{s:s}}", "env", "BIG", text);
    free(text);
    /* 17 copies of 1 MiB: over LIM_EXPR_VALUE_BYTES (16 MiB) */
    fmt = repeat("{0}", 17, "", "");
    {
        char *src = xasprintf("format('%s', env.BIG)", fmt);

        assert_int_equal(eval_rc(ctx, src), FERR_LIMIT);
        free(src);
        assert_int_equal(eval_rc(ctx, "join(fromJSON('[1,2]'), env.BIG)"),
                         FERR_OK);
        /* strings built in one evaluation count together: two 9 MiB
         * pieces are too much even though each is under the limit */
        src = xasprintf("format('{0}{1}', format('%.27s', env.BIG), "
                        "format('%.27s', env.BIG))",
                        fmt, fmt);
        assert_int_equal(eval_rc(ctx, src), FERR_LIMIT);
        free(src);
        assert_int_equal(
            eval_rc(ctx, "join(fromJSON('[1,2,3,4,5,6,7,8,9,10,11,12,13,"
                         "14,15,16,17,18]'), env.BIG)"),
            FERR_LIMIT);
    }
    free(fmt);
    json_decref(ctx);
}

/* A 2 MB format string of escapes: searching for the next brace from
 * each position again would take hours; it must stay linear. */
static void test_expr_format_long_string_linear(void **state)
{
    size_t n = 1u << 20;
    char *br = xmalloc(2 * n + 1);
    json_t *ctx;
    json_t *v;

    (void)state;
    for (size_t i = 0; i < n; i++) {
        br[2 * i] = i % 2 ? '}' : '{';
        br[2 * i + 1] = br[2 * i];
    }
    br[2 * n] = '\0';
    ctx = json_pack("{s:{s:s}}", "env", "BR", br);
    v = eval_ok(ctx, "format(env.BR)");
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), "{}{}", 4);
    json_decref(v);
    json_decref(ctx);
    free(br);
}

static void test_expr_nul_and_binary_bytes(void **state)
{
    struct expr_env env = { NULL, EXPR_OK, NULL, NULL };
    struct ferr err;
    json_t *out = NULL;
    const char src[] = "'a\0b' == 'a\0b'";
    const char bad[] = "'\xff\xfe'";

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_eval(&env, span_of(src, sizeof(src) - 1), NULL,
                               &out, &err),
                     FERR_OK);
    assert_true(json_is_true(out));
    json_decref(out);
    assert_int_equal(expr_eval(&env, span_of(src, 5), NULL, &out, &err),
                     FERR_OK);
    assert_int_equal(json_string_length(out), 3);
    assert_memory_equal(json_string_value(out), "a\0b", 3);
    json_decref(out);
    /* invalid UTF-8 in a literal still gives a valid JSON string */
    assert_int_equal(expr_eval(&env, span_of(bad, sizeof(bad) - 1), NULL,
                               &out, &err),
                     FERR_OK);
    assert_true(json_is_string(out));
    json_decref(out);
}

static void test_expr_unicode_whitespace(void **state)
{
    json_t *v;

    (void)state;
    /* NBSP and U+3000 separate tokens, as .NET's Char.IsWhiteSpace */
    v = eval_ok(NULL, "1\xc2\xa0==\xe3\x80\x80" "1");
    assert_true(json_is_true(v));
    json_decref(v);
    v = eval_ok(NULL, "'\xc2\xa0" "5\xc2\xa0' == 5");
    assert_true(json_is_true(v));
    json_decref(v);
}

static void test_expr_null_env_and_contexts(void **state)
{
    struct ferr err;
    json_t *out = NULL;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(expr_eval(NULL, span_cstr("github.ref || 'x'"), NULL,
                               &out, &err),
                     FERR_OK);
    assert_string_equal(json_string_value(out), "x");
    json_decref(out);
}

static void test_expr_result_outlives_context(void **state)
{
    json_t *ctx = load(default_ctx);
    json_t *v = eval_ok(ctx, "github.event.issue.labels[0]");
    json_t *w = eval_ok(ctx, "fromJSON('{\"a\":{\"b\":\"c\"}}').a.b");

    (void)state;
    json_decref(ctx);
    assert_string_equal(json_string_value(json_object_get(v, "name")),
                        "bug");
    assert_string_equal(json_string_value(w), "c");
    json_decref(v);
    json_decref(w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_expr_literals),
        cmocka_unit_test(test_expr_operators),
        cmocka_unit_test(test_expr_access),
        cmocka_unit_test(test_expr_search_functions),
        cmocka_unit_test(test_expr_format),
        cmocka_unit_test(test_expr_join),
        cmocka_unit_test(test_expr_fromjson),
        cmocka_unit_test(test_expr_status_functions),
        cmocka_unit_test(test_expr_syntax_errors),
        cmocka_unit_test(test_expr_table_size),
        cmocka_unit_test(test_expr_scan_finds_each_expression),
        cmocka_unit_test(test_expr_scan_skips_braces_in_strings),
        cmocka_unit_test(test_expr_scan_no_expression),
        cmocka_unit_test(test_expr_scan_unterminated),
        cmocka_unit_test(test_expr_scan_callback_stops),
        cmocka_unit_test(test_expr_interp_replaces_each_expression),
        cmocka_unit_test(test_expr_interp_format_escapes),
        cmocka_unit_test(test_expr_interp_plain_text_unchanged),
        cmocka_unit_test(test_expr_interp_unterminated),
        cmocka_unit_test(test_expr_interp_empty_expression),
        cmocka_unit_test(test_expr_interp_respects_out_max),
        cmocka_unit_test(test_expr_interp_value_keeps_type),
        cmocka_unit_test(test_expr_interp_value_mixed_is_string),
        cmocka_unit_test(test_expr_eval_cond_implicit_success),
        cmocka_unit_test(test_expr_eval_cond_status_functions),
        cmocka_unit_test(test_expr_eval_cond_wrapped),
        cmocka_unit_test(test_expr_eval_cond_errors),
        cmocka_unit_test(test_expr_check_accepts_valid),
        cmocka_unit_test(test_expr_check_rejects_context),
        cmocka_unit_test(test_expr_check_rejects_function),
        cmocka_unit_test(test_expr_check_syntax),
        cmocka_unit_test(test_expr_refs_paths),
        cmocka_unit_test(test_expr_refs_nonliteral_index),
        cmocka_unit_test(test_expr_refs_inside_functions),
        cmocka_unit_test(test_expr_refs_syntax_error),
        cmocka_unit_test(test_expr_error_pos_eval),
        cmocka_unit_test(test_expr_error_pos_interp),
        cmocka_unit_test(test_expr_flag_reads_yaml_and_expression_booleans),
        cmocka_unit_test(test_expr_value_wrappers),
        cmocka_unit_test(test_expr_hashfiles_gets_patterns),
        cmocka_unit_test(test_expr_hashfiles_unavailable),
        cmocka_unit_test(test_expr_limit_depth),
        cmocka_unit_test(test_expr_limit_long_chains_stay_flat),
        cmocka_unit_test(test_expr_limit_source_bytes),
        cmocka_unit_test(test_expr_limit_value_bytes),
        cmocka_unit_test(test_expr_format_long_string_linear),
        cmocka_unit_test(test_expr_nul_and_binary_bytes),
        cmocka_unit_test(test_expr_unicode_whitespace),
        cmocka_unit_test(test_expr_null_env_and_contexts),
        cmocka_unit_test(test_expr_result_outlives_context),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
