/* glob_test: GitHub's filter pattern cheat sheet, row by row, plus list
 * ordering, escapes, syntax errors and a pathological pattern. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "pipeline/glob.h"

static bool m(const char *pattern, const char *s)
{
    return glob_match(span_cstr(pattern), span_cstr(s));
}

static bool ml(const char *const *pats, size_t n, const char *s)
{
    return glob_match_list(pats, n, span_cstr(s));
}

/* Patterns to match branches and tags */

static void test_glob_branch_star_stops_at_slash(void **state)
{
    (void)state;
    assert_true(m("feature/*", "feature/my-branch"));
    assert_true(m("feature/*", "feature/your-branch"));
    assert_false(m("feature/*", "feature/your-branch/x"));
    assert_false(m("feature/*", "feature"));
    assert_true(m("feature/*", "feature/"));
}

static void test_glob_branch_double_star_crosses_slash(void **state)
{
    (void)state;
    assert_true(m("feature/**", "feature/beta-a/my-branch"));
    assert_true(m("feature/**", "feature/your-branch"));
    assert_true(m("feature/**", "feature/mona/the/octocat"));
    assert_false(m("feature/**", "feat/x"));
}

static void test_glob_branch_exact_names(void **state)
{
    static const char *const pats[] = { "main",
                                        "releases/mona-the-octocat" };

    (void)state;
    assert_true(ml(pats, 2, "main"));
    assert_true(ml(pats, 2, "releases/mona-the-octocat"));
    assert_false(ml(pats, 2, "mainline"));
    assert_false(ml(pats, 2, "releases/mona"));
    assert_false(m("main", "Main"));
}

static void test_glob_branch_star_alone(void **state)
{
    (void)state;
    assert_true(m("*", "main"));
    assert_true(m("*", "releases"));
    assert_true(m("*", ""));
    assert_false(m("*", "all/the/branches"));
}

static void test_glob_branch_double_star_alone(void **state)
{
    (void)state;
    assert_true(m("**", "all/the/branches"));
    assert_true(m("**", "every/tag"));
    assert_true(m("**", "main"));
}

static void test_glob_branch_leading_star(void **state)
{
    (void)state;
    assert_true(m("*feature", "mona-feature"));
    assert_true(m("*feature", "feature"));
    assert_true(m("*feature", "ver-10-feature"));
    assert_false(m("*feature", "x/feature"));
    assert_false(m("*feature", "features"));
}

static void test_glob_branch_prefix(void **state)
{
    (void)state;
    assert_true(m("v2*", "v2"));
    assert_true(m("v2*", "v2.0"));
    assert_true(m("v2*", "v2.9"));
    assert_false(m("v2*", "v1.0"));
    assert_false(m("v2*", "v2/x"));
}

static void test_glob_branch_semver_class_plus(void **state)
{
    (void)state;
    assert_true(m("v[12].[0-9]+.[0-9]+", "v1.10.1"));
    assert_true(m("v[12].[0-9]+.[0-9]+", "v2.0.0"));
    assert_false(m("v[12].[0-9]+.[0-9]+", "v3.0.0"));
    assert_false(m("v[12].[0-9]+.[0-9]+", "v1..0"));
    assert_false(m("v[12].[0-9]+.[0-9]+", "v1.0.0-rc1"));
}

/* Patterns to match file paths */

static void test_glob_path_star(void **state)
{
    (void)state;
    assert_true(m("*", "README.md"));
    assert_true(m("*", "server.rb"));
    assert_false(m("*", "docs/README.md"));
}

static void test_glob_path_question_optional_char(void **state)
{
    (void)state;
    assert_true(m("*.jsx?", "page.js"));
    assert_true(m("*.jsx?", "page.jsx"));
    assert_false(m("*.jsx?", "page.jsxx"));
    assert_false(m("*.jsx?", "page.j"));
}

static void test_glob_path_double_star(void **state)
{
    (void)state;
    assert_true(m("**", "all/the/files.md"));
}

static void test_glob_path_star_js_root_only(void **state)
{
    (void)state;
    assert_true(m("*.js", "app.js"));
    assert_true(m("*.js", "index.js"));
    assert_false(m("*.js", "js/index.js"));
}

static void test_glob_path_double_star_js_anywhere(void **state)
{
    (void)state;
    assert_true(m("**.js", "index.js"));
    assert_true(m("**.js", "js/index.js"));
    assert_true(m("**.js", "src/js/app.js"));
    assert_false(m("**.js", "src/js/app.jsx"));
}

static void test_glob_path_docs_star(void **state)
{
    (void)state;
    assert_true(m("docs/*", "docs/README.md"));
    assert_true(m("docs/*", "docs/file.txt"));
    assert_false(m("docs/*", "docs/mona/octocat.txt"));
    assert_false(m("docs/*", "src/docs/file.txt"));
}

static void test_glob_path_docs_double_star(void **state)
{
    (void)state;
    assert_true(m("docs/**", "docs/README.md"));
    assert_true(m("docs/**", "docs/mona/octocat.txt"));
    assert_false(m("docs/**", "src/docs/file.txt"));
}

static void test_glob_path_docs_any_depth_md(void **state)
{
    (void)state;
    assert_true(m("docs/**/*.md", "docs/README.md"));
    assert_true(m("docs/**/*.md", "docs/mona/hello-world.md"));
    assert_true(m("docs/**/*.md", "docs/a/markdown/file.md"));
    assert_false(m("docs/**/*.md", "docs/a/markdown/file.txt"));
    assert_false(m("docs/**/*.md", "src/docs/file.md"));
}

static void test_glob_path_docs_dir_anywhere(void **state)
{
    (void)state;
    assert_true(m("**/docs/**", "docs/hello.md"));
    assert_true(m("**/docs/**", "dir/docs/my-file.txt"));
    assert_true(m("**/docs/**", "space/docs/plan/space.doc"));
    assert_false(m("**/docs/**", "mydocs/x"));
    assert_false(m("**/docs/**", "docs"));
}

static void test_glob_path_readme_anywhere(void **state)
{
    (void)state;
    assert_true(m("**/README.md", "README.md"));
    assert_true(m("**/README.md", "js/README.md"));
    assert_true(m("**/README.md", "a/b/c/README.md"));
    assert_false(m("**/README.md", "js/NOTREADME.md"));
}

static void test_glob_path_src_suffix_folder(void **state)
{
    (void)state;
    assert_true(m("**/*src/**", "a/src/app.js"));
    assert_true(m("**/*src/**", "my-src/code/js/app.js"));
    assert_false(m("**/*src/**", "a/source/app.js"));
}

static void test_glob_path_post_suffix(void **state)
{
    (void)state;
    assert_true(m("**/*-post.md", "my-post.md"));
    assert_true(m("**/*-post.md", "path/their-post.md"));
    assert_false(m("**/*-post.md", "path/their-post.txt"));
}

static void test_glob_path_migrate_prefix_suffix(void **state)
{
    (void)state;
    assert_true(m("**/migrate-*.sql", "migrate-10909.sql"));
    assert_true(m("**/migrate-*.sql", "db/migrate-v1.0.sql"));
    assert_true(m("**/migrate-*.sql", "db/sept/migrate-v1.sql"));
    assert_false(m("**/migrate-*.sql", "db/migrate/v1.sql"));
}

static void test_glob_list_negation(void **state)
{
    static const char *const pats[] = { "*.md", "!README.md" };

    (void)state;
    assert_true(ml(pats, 2, "hello.md"));
    assert_false(ml(pats, 2, "README.md"));
    assert_false(ml(pats, 2, "docs/hello.md"));
}

static void test_glob_list_reinclude_after_negation(void **state)
{
    static const char *const pats[] = { "*.md", "!README.md", "README*" };

    (void)state;
    assert_true(ml(pats, 3, "hello.md"));
    assert_true(ml(pats, 3, "README.md"));
    assert_true(ml(pats, 3, "README.doc"));
    assert_false(ml(pats, 3, "docs/hello.md"));
}

static void test_glob_list_last_match_decides(void **state)
{
    static const char *const neg_first[] = { "!docs/**", "**" };
    static const char *const neg_last[] = { "**", "!docs/**" };

    (void)state;
    assert_true(ml(neg_first, 2, "docs/a.md"));
    assert_false(ml(neg_last, 2, "docs/a.md"));
    assert_true(ml(neg_last, 2, "src/a.c"));
}

static void test_glob_list_no_match_excluded(void **state)
{
    static const char *const pats[] = { "main" };
    static const char *const only_neg[] = { "!main" };

    (void)state;
    assert_false(ml(pats, 1, "dev"));
    assert_false(ml(NULL, 0, "main"));
    assert_false(ml(only_neg, 1, "dev"));
    assert_false(ml(only_neg, 1, "main"));
}

static void test_glob_bang_literal_inside_pattern(void **state)
{
    (void)state;
    assert_true(m("a!b", "a!b"));
    /* glob_match takes one pattern without negation: '!' is literal */
    assert_true(m("!x", "!x"));
}

static void test_glob_escapes(void **state)
{
    static const char *const pats[] = { "\\!file" };

    (void)state;
    assert_true(ml(pats, 1, "!file"));
    assert_true(m("a\\*b", "a*b"));
    assert_false(m("a\\*b", "axb"));
    assert_true(m("escape\\\\backslash", "escape\\backslash"));
    assert_true(m("v1\\.0\\?", "v1.0?"));
    assert_false(m("v1\\.0\\?", "v1.0"));
    assert_true(m("\\[x]", "[x]"));
}

static void test_glob_class_forms(void **state)
{
    (void)state;
    assert_true(m("[CB]at", "Cat"));
    assert_true(m("[CB]at", "Bat"));
    assert_false(m("[CB]at", "Rat"));
    assert_true(m("[1-2]00", "100"));
    assert_true(m("[1-2]00", "200"));
    assert_false(m("[1-2]00", "300"));
    assert_true(m("[0-9a-z]", "q"));
    assert_false(m("[0-9a-z]", "Q"));
    assert_true(m("[a-]", "-"));
}

static void test_glob_quantifier_at_start_is_literal(void **state)
{
    (void)state;
    assert_true(m("?x", "?x"));
    assert_true(m("+x", "+x"));
    assert_false(m("?x", "x"));
}

static void test_glob_plus_and_question_on_class(void **state)
{
    (void)state;
    assert_true(m("a[0-9]?b", "ab"));
    assert_true(m("a[0-9]?b", "a5b"));
    assert_false(m("a[0-9]?b", "a55b"));
    assert_true(m("ab+c", "abbbc"));
    assert_false(m("ab+c", "ac"));
}

static void test_glob_double_star_slash_needs_component(void **state)
{
    (void)state;
    assert_true(m("a/**/b", "a/b"));
    assert_true(m("a/**/b", "a/x/y/b"));
    assert_false(m("a/**/b", "a/xb"));
}

static void test_glob_empty_pattern_matches_empty_only(void **state)
{
    (void)state;
    assert_true(m("", ""));
    assert_false(m("", "a"));
}

static void test_glob_not_exponential(void **state)
{
    char subject[20001];
    clock_t t0;

    (void)state;
    memset(subject, 'a', sizeof(subject) - 1);
    subject[sizeof(subject) - 1] = '\0';
    t0 = clock();
    assert_false(m("*a*a*a*a*a*a*a*a*a*a*a*a*b", subject));
    assert_false(m("**a**a**a**a**a**a**a**b", subject));
    assert_false(m("a?a?a?a?a?a?a?a?a?a?a?a?a?a?a?b", subject));
    assert_true(m("**a**a**a**a**a**a**a**", subject));
    assert_true((double)(clock() - t0) / CLOCKS_PER_SEC < 2.0);
}

static void test_glob_check_accepts_valid(void **state)
{
    static const char *const ok[] = { "main", "**/*.md", "!README.md",
                                      "v[12].[0-9]+", "a\\*", "[a-]x" };
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(glob_check(span_cstr(ok[i]), NULL, &err), FERR_OK);
    }
}

static void test_glob_check_rejects_unclosed_bracket(void **state)
{
    struct ferr err;
    struct pos pos = { "w.yml", 3, 10 };

    (void)state;
    ferr_clear(&err);
    assert_int_equal(glob_check(span_cstr("v[12.x"), &pos, &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "'v[12.x'"));
    assert_non_null(strstr(err.msg, "missing ']'"));
    assert_int_equal(err.pos.line, 3);
    assert_int_equal(err.pos.col, 11);
}

static void test_glob_check_rejects_empty(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(glob_check(span_cstr(""), NULL, &err), FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(glob_check(span_cstr("!"), NULL, &err), FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(glob_check(span_cstr("[]"), NULL, &err), FERR_PARSE);
}

static void test_glob_check_rejects_bad_escape_and_range(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(glob_check(span_cstr("abc\\"), NULL, &err), FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(glob_check(span_cstr("[z-a]"), NULL, &err), FERR_PARSE);
    assert_non_null(strstr(err.msg, "reversed range"));
}

static void test_glob_invalid_pattern_matches_nothing(void **state)
{
    (void)state;
    assert_false(m("v[12", "v1"));
    assert_false(m("v[12", "v[12"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_glob_branch_star_stops_at_slash),
        cmocka_unit_test(test_glob_branch_double_star_crosses_slash),
        cmocka_unit_test(test_glob_branch_exact_names),
        cmocka_unit_test(test_glob_branch_star_alone),
        cmocka_unit_test(test_glob_branch_double_star_alone),
        cmocka_unit_test(test_glob_branch_leading_star),
        cmocka_unit_test(test_glob_branch_prefix),
        cmocka_unit_test(test_glob_branch_semver_class_plus),
        cmocka_unit_test(test_glob_path_star),
        cmocka_unit_test(test_glob_path_question_optional_char),
        cmocka_unit_test(test_glob_path_double_star),
        cmocka_unit_test(test_glob_path_star_js_root_only),
        cmocka_unit_test(test_glob_path_double_star_js_anywhere),
        cmocka_unit_test(test_glob_path_docs_star),
        cmocka_unit_test(test_glob_path_docs_double_star),
        cmocka_unit_test(test_glob_path_docs_any_depth_md),
        cmocka_unit_test(test_glob_path_docs_dir_anywhere),
        cmocka_unit_test(test_glob_path_readme_anywhere),
        cmocka_unit_test(test_glob_path_src_suffix_folder),
        cmocka_unit_test(test_glob_path_post_suffix),
        cmocka_unit_test(test_glob_path_migrate_prefix_suffix),
        cmocka_unit_test(test_glob_list_negation),
        cmocka_unit_test(test_glob_list_reinclude_after_negation),
        cmocka_unit_test(test_glob_list_last_match_decides),
        cmocka_unit_test(test_glob_list_no_match_excluded),
        cmocka_unit_test(test_glob_bang_literal_inside_pattern),
        cmocka_unit_test(test_glob_escapes),
        cmocka_unit_test(test_glob_class_forms),
        cmocka_unit_test(test_glob_quantifier_at_start_is_literal),
        cmocka_unit_test(test_glob_plus_and_question_on_class),
        cmocka_unit_test(test_glob_double_star_slash_needs_component),
        cmocka_unit_test(test_glob_empty_pattern_matches_empty_only),
        cmocka_unit_test(test_glob_not_exponential),
        cmocka_unit_test(test_glob_check_accepts_valid),
        cmocka_unit_test(test_glob_check_rejects_unclosed_bracket),
        cmocka_unit_test(test_glob_check_rejects_empty),
        cmocka_unit_test(test_glob_check_rejects_bad_escape_and_range),
        cmocka_unit_test(test_glob_invalid_pattern_matches_nothing),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
