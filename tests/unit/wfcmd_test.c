/* wfcmd_test: workflow commands ("::name k=v::message"), escapes and the
 * stop-commands state, following actions/runner's ActionCommand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec/wfcmd.h"
#include "util/limits.h"
#include "util/xalloc.h"

static int setup(void **state)
{
    struct wfcmd *c = xmalloc(sizeof(*c));

    wfcmd_init(c);
    *state = c;
    return 0;
}

static int teardown(void **state)
{
    struct wfcmd *c = *state;

    wfcmd_release(c);
    free(c);
    return 0;
}

static void parse_kind(struct wfcmd *c, const char *line,
                       enum wfcmd_kind kind, const char *value)
{
    assert_true(wfcmd_parse(span_cstr(line), c));
    assert_int_equal(c->kind, kind);
    assert_string_equal(buf_cstr(&c->value), value);
}

static void test_wfcmd_every_kind(void **state)
{
    struct wfcmd *c = *state;

    parse_kind(c, "::add-mask::s3cret", WFCMD_ADD_MASK, "s3cret");
    parse_kind(c, "::group::Build", WFCMD_GROUP, "Build");
    parse_kind(c, "::endgroup::", WFCMD_ENDGROUP, "");
    parse_kind(c, "::error::boom", WFCMD_ERROR, "boom");
    parse_kind(c, "::warning::careful", WFCMD_WARNING, "careful");
    parse_kind(c, "::notice::fyi", WFCMD_NOTICE, "fyi");
    parse_kind(c, "::debug::details", WFCMD_DEBUG, "details");
    parse_kind(c, "::set-output name=x::1", WFCMD_SET_OUTPUT, "1");
    parse_kind(c, "::save-state name=s::v", WFCMD_SAVE_STATE, "v");
    parse_kind(c, "::stop-commands::tok", WFCMD_STOP_COMMANDS, "tok");
    parse_kind(c, "::echo::on", WFCMD_ECHO, "on");
    parse_kind(c, "::add-matcher::m.json", WFCMD_UNKNOWN, "m.json");
    parse_kind(c, "::whatever::x", WFCMD_UNKNOWN, "x");
    assert_true(span_eq_cstr(c->name, "whatever"));
}

static void test_wfcmd_name_case_insensitive(void **state)
{
    struct wfcmd *c = *state;

    parse_kind(c, "::ERROR::x", WFCMD_ERROR, "x");
    assert_true(span_eq_cstr(c->name, "ERROR"));
    parse_kind(c, "::Add-Mask::y", WFCMD_ADD_MASK, "y");
}

static void test_wfcmd_leading_whitespace(void **state)
{
    struct wfcmd *c = *state;

    parse_kind(c, "   ::warning::w", WFCMD_WARNING, "w");
    parse_kind(c, "\t ::debug::d", WFCMD_DEBUG, "d");
    assert_false(wfcmd_parse(SPAN_LIT("x ::error::e"), c));
    assert_int_equal(c->kind, WFCMD_NONE);
}

static void test_wfcmd_annotation_properties(void **state)
{
    struct wfcmd *c = *state;

    assert_true(wfcmd_parse(
        SPAN_LIT("::error file=app.js,line=10,col=15,endLine=12,"
                 "endColumn=3,title=Bad thing::Something failed"),
        c));
    assert_int_equal(c->kind, WFCMD_ERROR);
    assert_int_equal(c->nprops, 6);
    assert_string_equal(wfcmd_prop(c, "file"), "app.js");
    assert_string_equal(wfcmd_prop(c, "line"), "10");
    assert_string_equal(wfcmd_prop(c, "col"), "15");
    assert_string_equal(wfcmd_prop(c, "endLine"), "12");
    assert_string_equal(wfcmd_prop(c, "endcolumn"), "3");
    assert_string_equal(wfcmd_prop(c, "TITLE"), "Bad thing");
    assert_null(wfcmd_prop(c, "missing"));
    assert_string_equal(buf_cstr(&c->value), "Something failed");
}

static void test_wfcmd_property_edge_cases(void **state)
{
    struct wfcmd *c = *state;

    /* empty items, empty key or value dropped; '=' in a value kept */
    assert_true(wfcmd_parse(SPAN_LIT("::warning  ,a=,=b,,k=v=w, ::m"), c));
    assert_int_equal(c->nprops, 1);
    assert_string_equal(wfcmd_prop(c, "k"), "v=w");
    /* the last of a repeated key wins, keys compare without case */
    assert_true(wfcmd_parse(SPAN_LIT("::notice title=a,TITLE=b::m"), c));
    assert_int_equal(c->nprops, 1);
    assert_string_equal(wfcmd_prop(c, "title"), "b");
    /* properties past the maximum are dropped, not an error */
    assert_true(wfcmd_parse(
        SPAN_LIT("::error a=1,b=2,c=3,d=4,e=5,f=6,g=7,h=8,i=9::m"), c));
    assert_int_equal(c->nprops, WFCMD_MAX_PROPS);
    assert_string_equal(wfcmd_prop(c, "h"), "8");
    assert_null(wfcmd_prop(c, "i"));
    /* a reparse forgets the old properties */
    assert_true(wfcmd_parse(SPAN_LIT("::error::m"), c));
    assert_int_equal(c->nprops, 0);
    assert_null(wfcmd_prop(c, "a"));
}

static void test_wfcmd_message_escapes(void **state)
{
    struct wfcmd *c = *state;

    parse_kind(c, "::error::100%25 done%0Aline2%0D%0Aend", WFCMD_ERROR,
               "100% done\nline2\r\nend");
    /* %3A and %2C stay escaped in messages; lower case is not decoded */
    parse_kind(c, "::error::a%3Ab%2Cc %0a %25%30", WFCMD_ERROR,
               "a%3Ab%2Cc %0a %%30");
    /* decoding is one pass: %250A is "%0A", not a newline */
    parse_kind(c, "::error::%250A", WFCMD_ERROR, "%0A");
    parse_kind(c, "::error::%%0A%", WFCMD_ERROR, "%\n%");
    /* "::" inside the message is data */
    parse_kind(c, "::notice::a::b", WFCMD_NOTICE, "a::b");
}

static void test_wfcmd_property_escapes(void **state)
{
    struct wfcmd *c = *state;

    assert_true(wfcmd_parse(
        SPAN_LIT("::error title=a%3Ab%2Cc%25d%0Ae%0D,file=x%2cy::m"), c));
    assert_string_equal(wfcmd_prop(c, "title"), "a:b,c%d\ne\r");
    assert_string_equal(wfcmd_prop(c, "file"), "x%2cy");
}

static void test_wfcmd_malformed(void **state)
{
    struct wfcmd *c = *state;
    static const char *const lines[] = {
        "",        "::",         ":::",          "::::",
        "::error", "::error file=a", ":error::x", "error::x",
        ":: error::x", "::::x",  " :: ",
    };

    for (size_t i = 0; i < sizeof(lines) / sizeof(lines[0]); i++) {
        if (wfcmd_parse(span_cstr(lines[i]), c))
            fail_msg("'%s' parsed as a command", lines[i]);
        assert_int_equal(c->kind, WFCMD_NONE);
    }
    assert_false(wfcmd_parse(span_of(NULL, 0), c));
    /* ":::x::" has the name ":x" */
    parse_kind(c, ":::x::", WFCMD_UNKNOWN, "");
}

static void test_wfcmd_overlong_line(void **state)
{
    struct wfcmd *c = *state;
    size_t n = LIM_LOG_LINE + 1;
    char *line = xmalloc(n);

    memset(line, 'x', n);
    memcpy(line, "::error::", 9);
    assert_false(wfcmd_parse(span_of(line, n), c));
    assert_true(wfcmd_parse(span_of(line, n - 1), c));
    assert_int_equal(c->value.len, LIM_LOG_LINE - 9);
    free(line);
}

static void test_wfcmd_stop_commands(void **state)
{
    struct wfcmd *c = *state;
    struct wfcmd_state s;

    wfcmd_state_init(&s);
    assert_true(wfcmd_feed(&s, SPAN_LIT("::stop-commands::pause-123"), c));
    assert_int_equal(c->kind, WFCMD_STOP_COMMANDS);
    assert_true(span_eq_cstr(c->name, "stop-commands"));
    /* nothing is a command now, add-mask included */
    assert_false(wfcmd_feed(&s, SPAN_LIT("::add-mask::secret"), c));
    assert_int_equal(c->kind, WFCMD_NONE);
    assert_false(wfcmd_feed(&s, SPAN_LIT("::error::e"), c));
    assert_false(wfcmd_feed(&s, SPAN_LIT("::stop-commands::other"), c));
    assert_false(wfcmd_feed(&s, SPAN_LIT("plain"), c));
    assert_false(wfcmd_feed(&s, SPAN_LIT("pause-123"), c));
    assert_false(wfcmd_feed(&s, SPAN_LIT("::pause-1234::"), c));
    /* the token resumes, reported as WFCMD_STOP_COMMANDS too */
    assert_true(wfcmd_feed(&s, SPAN_LIT("::pause-123::"), c));
    assert_int_equal(c->kind, WFCMD_STOP_COMMANDS);
    assert_true(span_eq_cstr(c->name, "pause-123"));
    assert_true(wfcmd_feed(&s, SPAN_LIT("::add-mask::secret"), c));
    assert_int_equal(c->kind, WFCMD_ADD_MASK);
    wfcmd_state_release(&s);
}

static void test_wfcmd_resume_token_any_case(void **state)
{
    struct wfcmd *c = *state;
    struct wfcmd_state s;

    wfcmd_state_init(&s);
    assert_true(wfcmd_feed(&s, SPAN_LIT("::stop-commands::AbC"), c));
    assert_false(wfcmd_feed(&s, SPAN_LIT("::warning::w"), c));
    assert_true(wfcmd_feed(&s, SPAN_LIT("  ::abc::tail"), c));
    assert_int_equal(c->kind, WFCMD_STOP_COMMANDS);
    assert_true(wfcmd_feed(&s, SPAN_LIT("::warning::w"), c));
    assert_int_equal(c->kind, WFCMD_WARNING);
    wfcmd_state_release(&s);
}

static void test_wfcmd_invalid_stop_token(void **state)
{
    struct wfcmd *c = *state;
    struct wfcmd_state s;
    static const char *const bad[] = {
        "::stop-commands::",          "::stop-commands::error",
        "::stop-commands::ADD-MASK",  "::stop-commands::pause-logging",
        "::stop-commands::set-env",
    };

    assert_false(wfcmd_stop_token_ok(SPAN_LIT("")));
    assert_false(wfcmd_stop_token_ok(SPAN_LIT("Warning")));
    assert_true(wfcmd_stop_token_ok(SPAN_LIT("c0ffee-token")));
    wfcmd_state_init(&s);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        /* reported, but commands stay active */
        assert_true(wfcmd_feed(&s, span_cstr(bad[i]), c));
        assert_int_equal(c->kind, WFCMD_STOP_COMMANDS);
        assert_int_equal(s.stop_token.len, 0);
        assert_true(wfcmd_feed(&s, SPAN_LIT("::error::still"), c));
        assert_int_equal(c->kind, WFCMD_ERROR);
    }
    wfcmd_state_release(&s);
}

static void test_wfcmd_feed_ordinary_lines(void **state)
{
    struct wfcmd *c = *state;
    struct wfcmd_state s;

    wfcmd_state_init(&s);
    assert_false(wfcmd_feed(&s, SPAN_LIT("hello world"), c));
    assert_int_equal(c->kind, WFCMD_NONE);
    assert_true(wfcmd_feed(&s, SPAN_LIT("::group::g"), c));
    assert_int_equal(c->kind, WFCMD_GROUP);
    wfcmd_state_release(&s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_wfcmd_every_kind, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_name_case_insensitive,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_leading_whitespace, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_annotation_properties,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_property_edge_cases,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_message_escapes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_property_escapes, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_malformed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_overlong_line, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_stop_commands, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_resume_token_any_case,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_invalid_stop_token, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_wfcmd_feed_ordinary_lines, setup,
                                        teardown),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
