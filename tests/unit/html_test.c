/* html_test: escaping for text and attribute values (quotes, invalid
 * UTF-8, control bytes, terminal escapes), URL encoding, the closed-buffer
 * rule, badges, times, durations and the page layout. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "web/html.h"

#define FFFD "\xef\xbf\xbd"

/* @s escaped by html_escn, compared with @want. */
static void escn_is(const char *s, size_t n, const char *want)
{
    struct buf b;

    buf_init(&b, 4096);
    html_escn(&b, s, n);
    assert_string_equal(buf_cstr(&b), want);
    buf_release(&b);
}

static void esc_is(const char *s, const char *want)
{
    escn_is(s, strlen(s), want);
}

static void test_html_esc_text_specials(void **state)
{
    (void)state;
    esc_is("a < b && c > d", "a &lt; b &amp;&amp; c &gt; d");
    esc_is("<script>alert(1)</script>",
           "&lt;script&gt;alert(1)&lt;/script&gt;");
    esc_is("plain text", "plain text");
    esc_is("", "");
}

static void test_html_esc_attribute_quotes(void **state)
{
    (void)state;
    /* both quote kinds: a value may sit in "..." or '...' */
    esc_is("x\" onmouseover=\"alert(1)", "x&quot; onmouseover=&quot;alert(1)");
    esc_is("x' onclick='y", "x&#39; onclick=&#39;y");
    esc_is("&amp;", "&amp;amp;");
}

static void test_html_escn_invalid_utf8(void **state)
{
    (void)state;
    esc_is("caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80",
           "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80");
    esc_is("a\xff"
           "b",
           "a" FFFD "b");
    esc_is("\xc0\xaf", FFFD FFFD);                   /* overlong '/' */
    esc_is("\xed\xa0\x80", FFFD FFFD FFFD);          /* a surrogate */
    esc_is("\xf4\x90\x80\x80", FFFD FFFD FFFD FFFD); /* past U+10FFFF */
    esc_is("end\xe2\x82", "end" FFFD FFFD);          /* cut at the end */
    esc_is("\xe2<", FFFD "&lt;"); /* a cut sequence before markup */
}

static void test_html_escn_controls_and_length(void **state)
{
    (void)state;
    escn_is("a\0b", 3, "a" FFFD "b");
    esc_is("t\tn\nr\r", "t\tn\nr\r");
    esc_is("bell\x07 del\x7f", "bell" FFFD " del" FFFD);
    escn_is("<abc>", 2, "&lt;a");
    escn_is(NULL, 4, "");
}

static void test_html_esc_log_strips_terminal_escapes(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    html_esc_log(&b, "\x1b[1;31mred\x1b[0m <b>",
                 strlen("\x1b[1;31mred\x1b[0m <b>"));
    assert_string_equal(buf_cstr(&b), "red &lt;b&gt;");
    buf_reset(&b);
    html_esc_log(&b, "\x1b]0;title\x07ok", strlen("\x1b]0;title\x07ok"));
    assert_string_equal(buf_cstr(&b), "ok");
    buf_reset(&b);
    html_esc_log(&b, "cut\x1b[3", 6);
    assert_string_equal(buf_cstr(&b), "cut");
    buf_reset(&b);
    html_esc_log(&b,
                 "\x1b"
                 "7x\x1b",
                 4);
    assert_string_equal(buf_cstr(&b), "x");
    buf_release(&b);
}

static void test_html_urlenc_reserved_and_utf8(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    html_urlenc(&b, "a b/c?&=\"<\xc3\xa9~-._Z9");
    assert_string_equal(buf_cstr(&b), "a%20b%2Fc%3F%26%3D%22%3C%C3%A9~-._Z9");
    buf_release(&b);
}

static void test_html_full_closes_the_buffer(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 10);
    html_add(&b, "12345");
    assert_false(html_full(&b));
    html_add(&b, "123456");
    assert_true(html_full(&b));
    assert_int_equal(b.len, 5);
    html_add(&b, "1"); /* fits the old max, but the buffer is closed */
    html_esc(&b, "<");
    html_addf(&b, "%d", 7);
    assert_int_equal(b.len, 5);
    assert_string_equal(buf_cstr(&b), "12345");
    buf_release(&b);
}

static void test_html_escape_never_splits_an_entity(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 6);
    html_esc(&b, "ab<cd");
    /* "ab&lt;" fits, "cd" does not: the buffer closes after the entity */
    assert_true(html_full(&b));
    assert_string_equal(buf_cstr(&b), "ab&lt;");
    buf_release(&b);
}

static void test_html_badge_classes(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    html_badge(&b, "completed", "failure");
    assert_string_equal(buf_cstr(&b),
                        "<span class=\"badge b-failure\">failure</span>");
    buf_reset(&b);
    html_badge(&b, "running", NULL);
    assert_string_equal(buf_cstr(&b),
                        "<span class=\"badge b-running\">running</span>");
    buf_reset(&b);
    html_badge(&b, "x\" onclick=\"y", NULL);
    assert_string_equal(buf_cstr(&b), "<span class=\"badge b-other\">x&quot; "
                                      "onclick=&quot;y</span>");
    buf_reset(&b);
    html_badge(&b, NULL, "");
    assert_string_equal(buf_cstr(&b),
                        "<span class=\"badge b-unknown\">unknown</span>");
    buf_release(&b);
}

static void test_html_state_class(void **state)
{
    (void)state;
    assert_string_equal(html_state_class("timed_out"), "timed_out");
    assert_string_equal(html_state_class("in-progress"), "in-progress");
    assert_string_equal(html_state_class("Failure"), "other");
    assert_string_equal(html_state_class("a b"), "other");
    assert_string_equal(html_state_class(""), "other");
    assert_string_equal(html_state_class(NULL), "other");
    assert_string_equal(html_state_class("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"),
                        "other");
}

static void test_html_time_formats(void **state)
{
    struct buf b;
    char t[32];

    (void)state;
    buf_init(&b, 4096);
    html_time(&b, "2024-05-01T12:00:03.250Z");
    assert_string_equal(buf_cstr(&b),
                        "<time datetime=\"2024-05-01T12:00:03.250Z\">"
                        "2024-05-01 12:00:03</time>");
    buf_reset(&b);
    html_time(&b, NULL);
    assert_string_equal(buf_cstr(&b), "\xe2\x80\x94");
    buf_reset(&b);
    html_time(&b, "<soon>");
    assert_string_equal(buf_cstr(&b),
                        "<time datetime=\"&lt;soon&gt;\">&lt;soon&gt;</time>");
    buf_reset(&b);
    html_time_ms(&b, 0);
    assert_string_equal(buf_cstr(&b), "\xe2\x80\x94");
    html_rfc3339(1714564803250, t);
    assert_string_equal(t, "2024-05-01T12:00:03.250Z");
    html_rfc3339(-5, t);
    assert_string_equal(t, "");
    buf_release(&b);
}

static void duration_is(int64_t ms, const char *want)
{
    struct buf b;

    buf_init(&b, 256);
    html_duration(&b, ms);
    assert_string_equal(buf_cstr(&b), want);
    buf_release(&b);
}

static void test_html_duration_units(void **state)
{
    (void)state;
    duration_is(0, "0 ms");
    duration_is(850, "850 ms");
    duration_is(12345, "12.3 s");
    duration_is(59999, "59.9 s");
    duration_is(245000, "4 min 05 s");
    duration_is(7800000, "2 h 10 min");
    duration_is(-1, "\xe2\x80\x94");
}

static void test_html_page_layout(void **state)
{
    struct buf b;
    struct html_page p;

    (void)state;
    memset(&p, 0, sizeof(p));
    p.title = "Run <1>";
    p.nav = "runs";
    p.user = "ops \"bot\"";
    p.role = "admin";
    p.csrf = "abc123";
    buf_init(&b, 1 << 20);
    html_page_begin(&b, &p);
    html_page_end(&b);
    assert_false(html_full(&b));
    assert_non_null(strstr(buf_cstr(&b), "<title>Run &lt;1&gt; "));
    assert_non_null(strstr(buf_cstr(&b), "<h1>Run &lt;1&gt;</h1>"));
    assert_non_null(strstr(buf_cstr(&b), "ops &quot;bot&quot;"));
    assert_non_null(strstr(buf_cstr(&b), "<a href=\"/runs\" class=\"cur\""));
    assert_non_null(strstr(buf_cstr(&b), "name=\"csrf\" value=\"abc123\""));
    assert_non_null(strstr(buf_cstr(&b), "<script src=\"/static/app.js\""));
    assert_null(strstr(buf_cstr(&b), "<script>"));
    assert_non_null(strstr(buf_cstr(&b), "</main></body></html>"));
    /* signed out: no navigation, no logout form */
    buf_reset(&b);
    p.user = NULL;
    html_page_begin(&b, &p);
    assert_null(strstr(buf_cstr(&b), "<nav>"));
    assert_null(strstr(buf_cstr(&b), "/logout"));
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_html_esc_text_specials),
        cmocka_unit_test(test_html_esc_attribute_quotes),
        cmocka_unit_test(test_html_escn_invalid_utf8),
        cmocka_unit_test(test_html_escn_controls_and_length),
        cmocka_unit_test(test_html_esc_log_strips_terminal_escapes),
        cmocka_unit_test(test_html_urlenc_reserved_and_utf8),
        cmocka_unit_test(test_html_full_closes_the_buffer),
        cmocka_unit_test(test_html_escape_never_splits_an_entity),
        cmocka_unit_test(test_html_badge_classes),
        cmocka_unit_test(test_html_state_class),
        cmocka_unit_test(test_html_time_formats),
        cmocka_unit_test(test_html_duration_units),
        cmocka_unit_test(test_html_page_layout),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
