/* tags_test: the image tag scheme of ferry/image (sha-<7>, latest,
 * <branch>-<run>, vX.Y.Z and X.Y, pr-N), branch sanitising, tag
 * validity and the reading of image references. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "docker/tags.h"
#include "util/xalloc.h"

#define SHA "AbC1234def5678901234567890123456789abcde"

/* The scheme's tags for @ref, joined by ' ' (the caller frees). */
static char *scheme(const char *ref, const char *run, const char *def)
{
    struct tags_input in = {ref, SHA, run, def};
    struct tags_list l;
    struct ferr err;
    char *out = xstrdup("");

    ferr_clear(&err);
    tags_list_init(&l);
    assert_int_equal(tags_scheme(&in, &l, &err), FERR_OK);
    for (size_t i = 0; i < l.n; i++) {
        char *t = xasprintf("%s%s%s", out, i ? " " : "", l.v[i]);

        free(out);
        out = t;
    }
    tags_list_release(&l);
    return out;
}

static void expect_scheme(const char *ref, const char *run, const char *def,
                          const char *want)
{
    char *got = scheme(ref, run, def);

    assert_string_equal(got, want);
    free(got);
}

static void test_tags_develop_gets_branch_and_run(void **state)
{
    (void)state;
    expect_scheme("refs/heads/develop", "12", NULL, "sha-abc1234 develop-12");
}

static void test_tags_main_gets_latest(void **state)
{
    (void)state;
    expect_scheme("refs/heads/main", "3", NULL, "sha-abc1234 latest");
}

static void test_tags_default_branch_is_configurable(void **state)
{
    (void)state;
    expect_scheme("refs/heads/trunk", "3", "trunk", "sha-abc1234 latest");
    expect_scheme("refs/heads/main", "3", "trunk", "sha-abc1234 main-3");
}

static void test_tags_release_tag_gets_version_and_minor(void **state)
{
    (void)state;
    expect_scheme("refs/tags/v1.2.3", "9", NULL, "sha-abc1234 v1.2.3 1.2");
    expect_scheme("refs/tags/v10.0.12", NULL, NULL,
                  "sha-abc1234 v10.0.12 10.0");
}

static void test_tags_prerelease_gets_only_its_own_tag(void **state)
{
    (void)state;
    expect_scheme("refs/tags/v1.2.3-rc.1", "9", NULL,
                  "sha-abc1234 v1.2.3-rc.1");
    expect_scheme("refs/tags/v1.2.3+build.5", "9", NULL,
                  "sha-abc1234 v1.2.3-build.5");
}

static void test_tags_other_tag_is_sanitised(void **state)
{
    (void)state;
    expect_scheme("refs/tags/Nightly/2024", "9", NULL,
                  "sha-abc1234 nightly-2024");
    expect_scheme("refs/tags/v1.2", "9", NULL, "sha-abc1234 v1.2");
}

static void test_tags_feature_branch_is_sanitised(void **state)
{
    (void)state;
    expect_scheme("refs/heads/feature/x", "12", NULL,
                  "sha-abc1234 feature-x-12");
    expect_scheme("refs/heads/Feature//Big_Thing.v2", "7", NULL,
                  "sha-abc1234 feature-big_thing.v2-7");
}

static void test_tags_pull_request(void **state)
{
    (void)state;
    expect_scheme("refs/pull/42/merge", "5", NULL, "sha-abc1234 pr-42");
}

static void test_tags_no_run_number_leaves_branch_bare(void **state)
{
    (void)state;
    expect_scheme("refs/heads/develop", NULL, NULL, "sha-abc1234 develop");
    expect_scheme("refs/heads/develop", "", NULL, "sha-abc1234 develop");
}

static void test_tags_unknown_ref_gets_only_sha(void **state)
{
    (void)state;
    expect_scheme("", "5", NULL, "sha-abc1234");
    expect_scheme("refs/notes/x", "5", NULL, "sha-abc1234");
    expect_scheme("refs/heads/", "5", NULL, "sha-abc1234");
}

static void test_tags_branch_of_symbols_only_gets_only_sha(void **state)
{
    (void)state;
    expect_scheme("refs/heads/---", "5", NULL, "sha-abc1234");
}

static void test_tags_bad_sha_is_rejected(void **state)
{
    struct tags_input in = {"refs/heads/main", "abc12", "1", NULL};
    struct tags_list l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    tags_list_init(&l);
    assert_int_equal(tags_scheme(&in, &l, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "GITHUB_SHA"));
    in.sha = NULL;
    ferr_clear(&err);
    assert_int_equal(tags_scheme(&in, &l, &err), FERR_INVALID);
    in.sha = "zzzzzzzzzz";
    ferr_clear(&err);
    assert_int_equal(tags_scheme(&in, &l, &err), FERR_INVALID);
    assert_int_equal(l.n, 0);
    tags_list_release(&l);
}

static void test_tags_bad_run_number_is_rejected(void **state)
{
    struct tags_input in = {"refs/heads/develop", SHA, "12x", NULL};
    struct tags_list l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    tags_list_init(&l);
    assert_int_equal(tags_scheme(&in, &l, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "GITHUB_RUN_NUMBER"));
    tags_list_release(&l);
}

static void test_tags_long_branch_fits_128_with_run(void **state)
{
    char ref[400] = "refs/heads/";
    char *got;
    const char *tag;

    (void)state;
    memset(ref + 11, 'b', 300);
    ref[311] = '\0';
    got = scheme(ref, "123456", NULL);
    tag = strchr(got, ' ') + 1;
    assert_int_equal(strlen(tag), 128);
    assert_string_equal(tag + 121, "-123456");
    assert_true(tags_valid(tag));
    free(got);
}

static void test_tags_sanitize_rules(void **state)
{
    char *s;

    (void)state;
    s = tags_sanitize("..-Feature/ÄB--c-", 0);
    assert_string_equal(s, "feature-b-c");
    free(s);
    s = tags_sanitize("a.b_c", 0);
    assert_string_equal(s, "a.b_c");
    free(s);
    s = tags_sanitize("abcdef", 125);
    assert_string_equal(s, "abc");
    free(s);
    s = tags_sanitize("ab-cdef", 125);
    assert_string_equal(s, "ab");
    free(s);
    s = tags_sanitize("/", 0);
    assert_string_equal(s, "");
    free(s);
}

static void test_tags_valid_rules(void **state)
{
    char long_tag[130];

    (void)state;
    assert_true(tags_valid("v1.2.3"));
    assert_true(tags_valid("Latest_1"));
    assert_false(tags_valid(""));
    assert_false(tags_valid(NULL));
    assert_false(tags_valid(".x"));
    assert_false(tags_valid("-x"));
    assert_false(tags_valid("a/b"));
    assert_false(tags_valid("a b"));
    memset(long_tag, 'a', 129);
    long_tag[129] = '\0';
    assert_false(tags_valid(long_tag));
    long_tag[128] = '\0';
    assert_true(tags_valid(long_tag));
}

static void test_tags_list_dedups_and_rejects(void **state)
{
    struct tags_list l;
    struct ferr err;

    (void)state;
    tags_list_init(&l);
    ferr_clear(&err);
    assert_int_equal(tags_list_add(&l, "a", &err), FERR_OK);
    assert_int_equal(tags_list_add(&l, "a", &err), FERR_OK);
    assert_int_equal(l.n, 1);
    assert_int_equal(tags_list_add(&l, "bad tag", &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "'bad tag' is not a valid image tag"));
    assert_int_equal(l.n, 1);
    tags_list_release(&l);
}

static void test_tags_list_limit(void **state)
{
    struct tags_list l;
    struct ferr err;

    (void)state;
    tags_list_init(&l);
    ferr_clear(&err);
    for (unsigned i = 0; i < TAGS_MAX; i++) {
        char t[16];

        snprintf(t, sizeof(t), "t%u", i);
        assert_int_equal(tags_list_add(&l, t, &err), FERR_OK);
    }
    assert_int_equal(tags_list_add(&l, "one-more", &err), FERR_LIMIT);
    assert_int_equal(l.n, TAGS_MAX);
    tags_list_release(&l);
}

static void test_tags_parse_ref_with_registry_tag_digest(void **state)
{
    char *repo, *tag, *dig, *reg;
    struct ferr err;
    const char *d = "sha256:0123456789abcdef0123456789abcdef0123456789abcdef"
                    "0123456789abcdef";
    char *ref = xasprintf("127.0.0.1:5000/ferry/app:v1@%s", d);

    (void)state;
    ferr_clear(&err);
    assert_int_equal(tags_parse_ref(ref, &repo, &tag, &dig, &reg, &err),
                     FERR_OK);
    assert_string_equal(repo, "127.0.0.1:5000/ferry/app");
    assert_string_equal(tag, "v1");
    assert_string_equal(dig, d);
    assert_string_equal(reg, "127.0.0.1:5000");
    free(repo);
    free(tag);
    free(dig);
    free(reg);
    free(ref);
}

static void test_tags_parse_ref_plain_name(void **state)
{
    char *repo, *tag, *dig, *reg;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(tags_parse_ref("ferry/app", &repo, &tag, &dig, &reg, &err),
                     FERR_OK);
    assert_string_equal(repo, "ferry/app");
    assert_null(tag);
    assert_null(dig);
    assert_null(reg);
    free(repo);
    assert_int_equal(tags_parse_ref("localhost/ferry-base:latest", &repo, &tag,
                                    &dig, &reg, &err),
                     FERR_OK);
    assert_string_equal(reg, "localhost");
    assert_string_equal(tag, "latest");
    free(repo);
    free(tag);
    free(reg);
    assert_int_equal(tags_parse_ref("registry.example.com/a__b/c-d.e", &repo,
                                    &tag, &dig, &reg, &err),
                     FERR_OK);
    assert_string_equal(reg, "registry.example.com");
    free(repo);
    free(reg);
}

static void test_tags_parse_ref_rejects_bad(void **state)
{
    static const char *const bad[] = {
        "",
        "UPPER/app",
        "app:",
        "app:bad tag",
        "app@sha256:xyz",
        "app@sha256:0123",
        "a//b",
        "a/",
        "/a",
        "127.0.0.1:5000/",
        "a/-b",
        "a/b_",
        "app@",
        "host:99999999/a",
        "a/b.-c",
    };
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *repo = (char *)1, *tag = (char *)1, *dig = (char *)1;

        ferr_clear(&err);
        if (tags_parse_ref(bad[i], &repo, &tag, &dig, NULL, &err) !=
            FERR_INVALID)
            fail_msg("accepted '%s'", bad[i]);
        assert_null(repo);
        assert_null(tag);
        assert_null(dig);
        assert_non_null(strstr(err.msg, "is not an image reference"));
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tags_develop_gets_branch_and_run),
        cmocka_unit_test(test_tags_main_gets_latest),
        cmocka_unit_test(test_tags_default_branch_is_configurable),
        cmocka_unit_test(test_tags_release_tag_gets_version_and_minor),
        cmocka_unit_test(test_tags_prerelease_gets_only_its_own_tag),
        cmocka_unit_test(test_tags_other_tag_is_sanitised),
        cmocka_unit_test(test_tags_feature_branch_is_sanitised),
        cmocka_unit_test(test_tags_pull_request),
        cmocka_unit_test(test_tags_no_run_number_leaves_branch_bare),
        cmocka_unit_test(test_tags_unknown_ref_gets_only_sha),
        cmocka_unit_test(test_tags_branch_of_symbols_only_gets_only_sha),
        cmocka_unit_test(test_tags_bad_sha_is_rejected),
        cmocka_unit_test(test_tags_bad_run_number_is_rejected),
        cmocka_unit_test(test_tags_long_branch_fits_128_with_run),
        cmocka_unit_test(test_tags_sanitize_rules),
        cmocka_unit_test(test_tags_valid_rules),
        cmocka_unit_test(test_tags_list_dedups_and_rejects),
        cmocka_unit_test(test_tags_list_limit),
        cmocka_unit_test(test_tags_parse_ref_with_registry_tag_digest),
        cmocka_unit_test(test_tags_parse_ref_plain_name),
        cmocka_unit_test(test_tags_parse_ref_rejects_bad),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
