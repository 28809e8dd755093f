/* runfile_test: GITHUB_ENV / GITHUB_OUTPUT / GITHUB_STATE and GITHUB_PATH
 * parsing, following actions/runner's FileCommandManager. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/runfile.h"
#include "util/buf.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* Pairs rendered as "name=[value]\n" for easy comparison. */
struct pairs {
    struct buf all;
    size_t n;
    int stop_at;
};

static int collect(void *ud, struct span name, struct span value)
{
    struct pairs *p = ud;

    /* binary-safe: no %.*s, which stops at a NUL */
    p->n++;
    assert_int_equal(buf_addspan(&p->all, name), FERR_OK);
    assert_int_equal(buf_adds(&p->all, "=["), FERR_OK);
    assert_int_equal(buf_addspan(&p->all, value), FERR_OK);
    assert_int_equal(buf_adds(&p->all, "]\n"), FERR_OK);
    return p->stop_at && (int)p->n == p->stop_at ? 42 : 0;
}

/* Parse @src; returns the code, fills *out (caller frees) and @err. */
static enum ferr_code parse(const char *src, char **out, struct ferr *err)
{
    struct pairs p = { { 0 }, 0, 0 };
    enum ferr_code rc;

    buf_init(&p.all, 1 << 20);
    ferr_clear(err);
    rc = runfile_parse_env("env.txt", span_cstr(src), collect, &p, err);
    *out = buf_take(&p.all, NULL);
    return rc;
}

static void ok(const char *src, const char *want)
{
    struct ferr err;
    char *got;

    assert_int_equal(parse(src, &got, &err), FERR_OK);
    assert_string_equal(got, want);
    free(got);
}

static void bad(const char *src, enum ferr_code code, uint32_t line,
                const char *msg_part)
{
    struct ferr err;
    char *got;

    assert_int_equal(parse(src, &got, &err), code);
    assert_int_equal(err.code, code);
    assert_int_equal(err.pos.line, line);
    if (line)
        assert_int_equal(err.pos.col, 1);
    assert_non_null(err.pos.file);
    assert_string_equal(err.pos.file, "env.txt");
    if (msg_part && !strstr(err.msg, msg_part))
        fail_msg("message '%s' lacks '%s'", err.msg, msg_part);
    free(got);
}

static void test_runfile_simple_assignments(void **state)
{
    (void)state;
    ok("A=1\nB=two words\n", "A=[1]\nB=[two words]\n");
    ok("A=1", "A=[1]\n");
    ok("", "");
}

static void test_runfile_value_after_first_equals(void **state)
{
    (void)state;
    ok("URL=a=b=c\nEMPTY=\n", "URL=[a=b=c]\nEMPTY=[]\n");
    /* '=' before '<<': a plain assignment whose value holds "<<" */
    ok("X=y<<EOF\n", "X=[y<<EOF]\n");
    /* spaces are kept, as by the runner */
    ok(" SP = v \n", " SP =[ v ]\n");
}

static void test_runfile_empty_lines_skipped(void **state)
{
    (void)state;
    ok("\n\nA=1\n\n\r\nB=2\n\n", "A=[1]\nB=[2]\n");
}

static void test_runfile_crlf(void **state)
{
    (void)state;
    ok("A=1\r\nB=2\r\n", "A=[1]\nB=[2]\n");
    ok("M<<EOF\r\nl1\r\nl2\r\nEOF\r\nN=3\r\n", "M=[l1\nl2]\nN=[3]\n");
    /* a lone '\r' inside a line is data */
    ok("A=x\ry\n", "A=[x\ry]\n");
}

static void test_runfile_heredoc(void **state)
{
    (void)state;
    ok("M<<EOF\nline 1\nline 2\nEOF\n", "M=[line 1\nline 2]\n");
    ok("M<<EOF\nEOF\n", "M=[]\n");
    ok("M<<EOF\n\nEOF\n", "M=[]\n");
    ok("M<<EOF\n\n\nEOF\n", "M=[\n]\n");
    ok("M<<EOF\na\nEOF", "M=[a]\n");
    /* the delimiter must be the whole line */
    ok("M<<EOF\n EOF\nEOF \nEOFX\nEOF\n", "M=[ EOF\nEOF \nEOFX]\n");
    /* lines that look like assignments are value */
    ok("M<<END\nA=1\nN<<X\nEND\nB=2\n", "M=[A=1\nN<<X]\nB=[2]\n");
    /* '<<' before '=': the delimiter may hold '=' */
    ok("M<<a=b\nv\na=b\n", "M=[v]\n");
}

static void test_runfile_heredoc_random_delimiter(void **state)
{
    (void)state;
    ok("out<<ghadelimiter_0b7c3e1f\n{\"k\": \"v\"}\n"
       "ghadelimiter_0b7c3e1f\n",
       "out=[{\"k\": \"v\"}]\n");
}

static void test_runfile_missing_delimiter(void **state)
{
    (void)state;
    bad("A=1\nM<<EOF\nline\n", FERR_PARSE, 2,
        "matching delimiter 'EOF' not found");
    /* last line glued to the delimiter, the common mistake */
    bad("M<<EOF\nlineEOF", FERR_PARSE, 1,
        "matching delimiter 'EOF' not found");
    bad("M<<EOF", FERR_PARSE, 1, "matching delimiter 'EOF' not found");
}

static void test_runfile_empty_name(void **state)
{
    (void)state;
    bad("A=1\n=value\n", FERR_PARSE, 2, "empty name");
    bad("<<EOF\nx\nEOF\n", FERR_PARSE, 1, "empty name");
}

static void test_runfile_empty_delimiter(void **state)
{
    (void)state;
    bad("M<<\nx\n", FERR_PARSE, 1, "empty delimiter");
}

static void test_runfile_line_without_form(void **state)
{
    (void)state;
    bad("A=1\nB=2\njust text\n", FERR_PARSE, 3, "NAME=VALUE");
    bad("   \n", FERR_PARSE, 1, NULL);
    bad("A<b\n", FERR_PARSE, 1, NULL);
}

static void test_runfile_error_does_not_quote_line(void **state)
{
    struct ferr err;
    char *got;

    (void)state;
    assert_int_equal(parse("hunter2-secret-value\n", &got, &err),
                     FERR_PARSE);
    assert_null(strstr(err.msg, "hunter2"));
    free(got);
}

static void test_runfile_callback_stops(void **state)
{
    struct pairs p = { { 0 }, 0, 2 };
    struct ferr err;

    (void)state;
    buf_init(&p.all, 1000);
    ferr_clear(&err);
    assert_int_equal(runfile_parse_env("f", SPAN_LIT("A=1\nB=2\nC=3\n"),
                                       collect, &p, &err),
                     42);
    assert_int_equal(p.n, 2);
    buf_release(&p.all);
}

static void test_runfile_limit(void **state)
{
    struct pairs p = { { 0 }, 0, 0 };
    struct ferr err;
    char *big = xmalloc(LIM_ENV_FILE_BYTES + 1);

    (void)state;
    memset(big, 'A', LIM_ENV_FILE_BYTES + 1);
    big[1] = '=';
    buf_init(&p.all, 1000);
    ferr_clear(&err);
    assert_int_equal(runfile_parse_env("big.env",
                                       span_of(big, LIM_ENV_FILE_BYTES + 1),
                                       collect, &p, &err),
                     FERR_LIMIT);
    assert_int_equal(err.pos.line, 0);
    assert_string_equal(err.pos.file, "big.env");
    assert_int_equal(p.n, 0);
    free(big);
    buf_release(&p.all);
}

static void test_runfile_binary_value(void **state)
{
    static const char src[] = "A=x\0y\nB=\xff\n";
    struct pairs p = { { 0 }, 0, 0 };
    struct ferr err;

    (void)state;
    buf_init(&p.all, 1000);
    ferr_clear(&err);
    assert_int_equal(runfile_parse_env("f", span_of(src, sizeof(src) - 1),
                                       collect, &p, &err),
                     FERR_OK);
    assert_int_equal(p.n, 2);
    assert_memory_equal(p.all.p, "A=[x\0y]\nB=[\xff]\n", 15);
    buf_release(&p.all);
}

static int collect_dir(void *ud, struct span dir)
{
    struct buf *b = ud;

    assert_int_equal(buf_addf(b, "[%.*s]", SPAN_ARGS(dir)), FERR_OK);
    return span_eq_cstr(dir, "stop") ? 9 : 0;
}

static void test_runfile_path(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1000);
    assert_int_equal(runfile_parse_path(SPAN_LIT("/opt/bin\n\n  /usr/x y \r\n"
                                                 "\t\r\n/last"),
                                        collect_dir, &b),
                     FERR_OK);
    assert_string_equal(buf_cstr(&b), "[/opt/bin][/usr/x y][/last]");
    buf_reset(&b);
    assert_int_equal(runfile_parse_path(SPAN_LIT("a\nstop\nb\n"),
                                        collect_dir, &b),
                     9);
    assert_string_equal(buf_cstr(&b), "[a][stop]");
    buf_reset(&b);
    assert_int_equal(runfile_parse_path(SPAN_LIT(""), collect_dir, &b),
                     FERR_OK);
    assert_string_equal(buf_cstr(&b), "");
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_runfile_simple_assignments),
        cmocka_unit_test(test_runfile_value_after_first_equals),
        cmocka_unit_test(test_runfile_empty_lines_skipped),
        cmocka_unit_test(test_runfile_crlf),
        cmocka_unit_test(test_runfile_heredoc),
        cmocka_unit_test(test_runfile_heredoc_random_delimiter),
        cmocka_unit_test(test_runfile_missing_delimiter),
        cmocka_unit_test(test_runfile_empty_name),
        cmocka_unit_test(test_runfile_empty_delimiter),
        cmocka_unit_test(test_runfile_line_without_form),
        cmocka_unit_test(test_runfile_error_does_not_quote_line),
        cmocka_unit_test(test_runfile_callback_stops),
        cmocka_unit_test(test_runfile_limit),
        cmocka_unit_test(test_runfile_binary_value),
        cmocka_unit_test(test_runfile_path),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
