/* route_test: a table of patterns x raw paths with the expected
 * captures, and route_id's accepted and refused ids. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "server/route.h"

struct row {
    const char *pattern;
    const char *path;
    bool match;
    const char *caps[ROUTE_MAX_CAPS]; /* expected, NULL-terminated */
};

static void check_rows(const struct row *rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        struct arena *a = arena_new(1024);
        const char *caps[ROUTE_MAX_CAPS] = {0};
        size_t ncaps = 99;
        size_t want = 0;
        bool got;

        got = route_match(a, rows[i].pattern, rows[i].path, caps, &ncaps);
        if (got != rows[i].match)
            fail_msg("pattern '%s' path '%s': got %d", rows[i].pattern,
                     rows[i].path, got);
        while (want < ROUTE_MAX_CAPS && rows[i].caps[want])
            want++;
        assert_int_equal(ncaps, got ? want : 0);
        for (size_t k = 0; got && k < want; k++)
            if (strcmp(caps[k], rows[i].caps[k]) != 0)
                fail_msg("pattern '%s' path '%s': capture %zu is '%s'",
                         rows[i].pattern, rows[i].path, k, caps[k]);
        if (!got)
            assert_int_equal(arena_used(a), 0);
        arena_free(a);
    }
}

static void test_route_literals(void **state)
{
    static const struct row rows[] = {
        {"/healthz", "/healthz", true, {NULL}},
        {"/healthz", "/healthz/", false, {NULL}},
        {"/healthz", "/healthzz", false, {NULL}},
        {"/healthz", "/health", false, {NULL}},
        {"/healthz", "/HEALTHZ", false, {NULL}},
        {"/healthz", "healthz", false, {NULL}},
        {"/healthz", "", false, {NULL}},
        {"/", "/", true, {NULL}},
        {"/", "//", false, {NULL}},
        {"/", "/x", false, {NULL}},
        {"/api/v1/runs", "/api/v1/runs", true, {NULL}},
        {"/api/v1/runs", "/api/v1/%72uns", false, {NULL}},
        {"/api/v1/runs", "/api/v1", false, {NULL}},
        {"/api/v1/runs", "/api/v1/runs/1", false, {NULL}},
        {"/api/v1/runs", "/api//v1/runs", false, {NULL}},
    };

    (void)state;
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_route_captures(void **state)
{
    static const struct row rows[] = {
        {"/api/v1/runs/:id", "/api/v1/runs/12", true, {"12"}},
        {"/api/v1/runs/:id/logs", "/api/v1/runs/12/logs", true, {"12"}},
        {"/api/v1/runs/:id/logs", "/api/v1/runs/12/log", false, {NULL}},
        {"/api/v1/runs/:id/logs", "/api/v1/runs//logs", false, {NULL}},
        {"/api/v1/runs/:id", "/api/v1/runs/", false, {NULL}},
        {"/api/v1/runs/:id", "/api/v1/runs", false, {NULL}},
        {"/api/v1/runs/:id/artifacts/:name",
         "/api/v1/runs/3/artifacts/my%20build",
         true,
         {"3", "my build"}},
        {"/api/v1/repos/:name/workflows/:file/dispatches",
         "/api/v1/repos/app/workflows/ci.yml/dispatches",
         true,
         {"app", "ci.yml"}},
        {"/api/v1/repos/:name/secrets/:secret",
         "/api/v1/repos/app/secrets/DB_PASS",
         true,
         {"app", "DB_PASS"}},
        {"/a/:x", "/a/%e2%9c%93", true, {"\xe2\x9c\x93"}},
        {"/a/:x", "/a/%41%42c", true, {"ABc"}},
        {"/a/:x", "/a/a+b", true, {"a+b"}},
        {"/a/:x", "/a/...", true, {"..."}},
        {"/:a/:b/:c/:d", "/1/2/3/4", true, {"1", "2", "3", "4"}},
        {"/:a/:b/:c/:d/:e", "/1/2/3/4/5", false, {NULL}},
    };

    (void)state;
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_route_rejects_bad_captures(void **state)
{
    static const struct row rows[] = {
        {"/a/:x", "/a/b%2Fc", false, {NULL}}, /* decodes to '/' */
        {"/a/:x", "/a/b%2fc", false, {NULL}},
        {"/a/:x", "/a/b%00c", false, {NULL}}, /* NUL */
        {"/a/:x", "/a/%", false, {NULL}},     /* bad escapes */
        {"/a/:x", "/a/%4", false, {NULL}},
        {"/a/:x", "/a/%zz", false, {NULL}},
        {"/a/:x", "/a/%g0", false, {NULL}},
        {"/a/:x", "/a/.", false, {NULL}}, /* dot segments */
        {"/a/:x", "/a/..", false, {NULL}},
        {"/a/:x", "/a/%2e%2e", false, {NULL}},
        {"/a/:x", "/a/%2E", false, {NULL}},
        {"/a/:x/b", "/a/../b", false, {NULL}},
        {"/a/:x/b", "/a/./b", false, {NULL}},
        {"/a/b/:x", "/a/./b/c", false, {NULL}},
    };

    (void)state;
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_route_rest(void **state)
{
    static const struct row rows[] = {
        {"/web/*", "/web", true, {""}},
        {"/web/*", "/web/", true, {""}},
        {"/web/*", "/web/app.css", true, {"app.css"}},
        {"/web/*", "/web/a/b%20c/d", true, {"a/b c/d"}},
        {"/web/*", "/webx", false, {NULL}},
        {"/web/*", "/web//a", false, {NULL}},
        {"/web/*", "/web/a//b", false, {NULL}},
        {"/web/*", "/web/a/", false, {NULL}},
        {"/web/*", "/web/../etc/passwd", false, {NULL}},
        {"/web/*", "/web/a/%2e%2e/b", false, {NULL}},
        {"/web/*", "/web/a%2fb", false, {NULL}},
        {"/web/*", "/web/%zz", false, {NULL}},
        {"/*", "/", true, {""}},
        {"/*", "/x/y", true, {"x/y"}},
        {"/r/:id/*", "/r/7/a/b", true, {"7", "a/b"}},
        {"/r/:id/*", "/r/7", true, {"7", ""}},
        {"/:a/:b/:c/:d/*", "/1/2/3/4/5", false, {NULL}},
    };

    (void)state;
    check_rows(rows, sizeof(rows) / sizeof(rows[0]));
}

static void test_route_bad_input(void **state)
{
    struct arena *a = arena_new(256);
    const char *caps[ROUTE_MAX_CAPS];
    size_t n = 5;

    (void)state;
    assert_false(route_match(a, NULL, "/x", caps, &n));
    assert_int_equal(n, 0);
    assert_false(route_match(a, "/x", NULL, caps, &n));
    assert_false(route_match(a, "x", "x", caps, &n));
    assert_false(route_match(a, "", "", caps, &n));
    arena_free(a);
}

static void test_route_id(void **state)
{
    static const char *const bad[] = {
        "",
        "0",
        "-1",
        "+1",
        "01",
        "1a",
        "a1",
        " 1",
        "1 ",
        "1.0",
        "9223372036854775808",
        "18446744073709551616",
        "99999999999999999999",
    };
    int64_t v = 5;

    (void)state;
    assert_true(route_id("1", &v));
    assert_int_equal(v, 1);
    assert_true(route_id("12", &v));
    assert_int_equal(v, 12);
    assert_true(route_id("9223372036854775807", &v));
    assert_true(v == INT64_MAX);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        v = 5;
        if (route_id(bad[i], &v))
            fail_msg("route_id accepted '%s'", bad[i]);
        assert_int_equal(v, 0);
    }
    assert_false(route_id(NULL, &v));
}

static void test_route_parse_query(void **state)
{
    struct arena *a = arena_new(256);
    struct route_arg *args = (struct route_arg *)1;
    size_t n;

    (void)state;
    n = route_parse_query(a,
                          "a=1&b=x%20y+z&flag&&=v&k=&c=%zz%4&d=a%00b"
                          "&e=%2B%26%3D&a=2",
                          &args);
    assert_int_equal(n, 9);
    assert_string_equal(args[0].key, "a");
    assert_string_equal(args[0].value, "1");
    assert_string_equal(args[1].value, "x y z");
    assert_string_equal(args[2].key, "flag");
    assert_string_equal(args[2].value, "");
    assert_string_equal(args[3].key, "");
    assert_string_equal(args[3].value, "v");
    assert_string_equal(args[4].key, "k");
    assert_string_equal(args[4].value, "");
    assert_string_equal(args[5].value, "%zz%4"); /* bad escapes kept */
    assert_string_equal(args[6].value, "a");     /* ends at %00 */
    assert_string_equal(args[7].value, "+&=");
    assert_string_equal(args[8].value, "2");
    assert_int_equal(route_parse_query(a, NULL, &args), 0);
    assert_null(args);
    assert_int_equal(route_parse_query(a, "", &args), 0);
    assert_int_equal(route_parse_query(a, "&&", &args), 0);
    assert_null(args);
    arena_free(a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_route_literals),
        cmocka_unit_test(test_route_captures),
        cmocka_unit_test(test_route_rejects_bad_captures),
        cmocka_unit_test(test_route_rest),
        cmocka_unit_test(test_route_bad_input),
        cmocka_unit_test(test_route_id),
        cmocka_unit_test(test_route_parse_query),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
