/* matrix_test: GitHub's documented matrix examples with their exact job
 * lists (order included), exclude/include edge cases, errors and limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/matrix.h"
#include "util/limits.h"

static json_t *load(const char *text)
{
    json_error_t jerr;
    json_t *v = json_loads(text, 0, &jerr);

    if (!v)
        fail_msg("bad test json: %s: %s", jerr.text, text);
    return v;
}

/* Expand @matrix_json and compare with @want_json, key order included. */
static void expect(const char *matrix_json, const char *want_json)
{
    json_t *m = load(matrix_json);
    json_t *want = load(want_json);
    json_t *got = NULL;
    struct ferr err;
    char *gs;
    char *ws;

    ferr_clear(&err);
    if (matrix_expand(m, NULL, &got, &err) != FERR_OK)
        fail_msg("expand failed: %s", err.msg);
    gs = json_dumps(got, JSON_COMPACT);
    ws = json_dumps(want, JSON_COMPACT);
    assert_string_equal(gs, ws);
    free(gs);
    free(ws);
    json_decref(got);
    json_decref(want);
    json_decref(m);
}

static enum ferr_code expand_err(const char *matrix_json, struct ferr *err)
{
    json_t *m = load(matrix_json);
    json_t *got = (json_t *)1;
    struct pos pos = { "ci.yml", 12, 7 };
    enum ferr_code rc;

    ferr_clear(err);
    rc = matrix_expand(m, &pos, &got, err);
    assert_null(got);
    if (rc) {
        assert_string_equal(err->pos.file, "ci.yml");
        assert_int_equal(err->pos.line, 12);
        assert_int_equal(err->pos.col, 7);
    }
    json_decref(m);
    return rc;
}

static void test_matrix_docs_order_first_key_slowest(void **state)
{
    (void)state;
    expect("{\"version\":[10,12,14],"
           "\"os\":[\"ubuntu-latest\",\"windows-latest\"]}",
           "[{\"version\":10,\"os\":\"ubuntu-latest\"},"
           "{\"version\":10,\"os\":\"windows-latest\"},"
           "{\"version\":12,\"os\":\"ubuntu-latest\"},"
           "{\"version\":12,\"os\":\"windows-latest\"},"
           "{\"version\":14,\"os\":\"ubuntu-latest\"},"
           "{\"version\":14,\"os\":\"windows-latest\"}]");
}

static void test_matrix_docs_single_dimension(void **state)
{
    (void)state;
    expect("{\"version\":[10,12,14]}",
           "[{\"version\":10},{\"version\":12},{\"version\":14}]");
}

static void test_matrix_docs_fruit_animal_include(void **state)
{
    (void)state;
    expect("{\"fruit\":[\"apple\",\"pear\"],\"animal\":[\"cat\",\"dog\"],"
           "\"include\":["
           "{\"color\":\"green\"},"
           "{\"color\":\"pink\",\"animal\":\"cat\"},"
           "{\"fruit\":\"apple\",\"shape\":\"circle\"},"
           "{\"fruit\":\"banana\"},"
           "{\"fruit\":\"banana\",\"animal\":\"cat\"}]}",
           "[{\"fruit\":\"apple\",\"animal\":\"cat\",\"color\":\"pink\","
           "\"shape\":\"circle\"},"
           "{\"fruit\":\"apple\",\"animal\":\"dog\",\"color\":\"green\","
           "\"shape\":\"circle\"},"
           "{\"fruit\":\"pear\",\"animal\":\"cat\",\"color\":\"pink\"},"
           "{\"fruit\":\"pear\",\"animal\":\"dog\",\"color\":\"green\"},"
           "{\"fruit\":\"banana\"},"
           "{\"fruit\":\"banana\",\"animal\":\"cat\"}]");
}

static void test_matrix_docs_os_node_npm(void **state)
{
    (void)state;
    expect("{\"os\":[\"windows-latest\",\"ubuntu-latest\"],"
           "\"node\":[12,14,16],"
           "\"include\":[{\"os\":\"windows-latest\",\"node\":16,"
           "\"npm\":6}]}",
           "[{\"os\":\"windows-latest\",\"node\":12},"
           "{\"os\":\"windows-latest\",\"node\":14},"
           "{\"os\":\"windows-latest\",\"node\":16,\"npm\":6},"
           "{\"os\":\"ubuntu-latest\",\"node\":12},"
           "{\"os\":\"ubuntu-latest\",\"node\":14},"
           "{\"os\":\"ubuntu-latest\",\"node\":16}]");
}

static void test_matrix_docs_include_adds_new_combination(void **state)
{
    (void)state;
    expect("{\"os\":[\"macos-latest\",\"windows-latest\",\"ubuntu-latest\"],"
           "\"version\":[12,14,16],"
           "\"include\":[{\"os\":\"windows-latest\",\"version\":17}]}",
           "[{\"os\":\"macos-latest\",\"version\":12},"
           "{\"os\":\"macos-latest\",\"version\":14},"
           "{\"os\":\"macos-latest\",\"version\":16},"
           "{\"os\":\"windows-latest\",\"version\":12},"
           "{\"os\":\"windows-latest\",\"version\":14},"
           "{\"os\":\"windows-latest\",\"version\":16},"
           "{\"os\":\"ubuntu-latest\",\"version\":12},"
           "{\"os\":\"ubuntu-latest\",\"version\":14},"
           "{\"os\":\"ubuntu-latest\",\"version\":16},"
           "{\"os\":\"windows-latest\",\"version\":17}]");
}

static void test_matrix_docs_include_only(void **state)
{
    (void)state;
    expect("{\"include\":["
           "{\"site\":\"production\",\"datacenter\":\"site-a\"},"
           "{\"site\":\"staging\",\"datacenter\":\"site-b\"}]}",
           "[{\"site\":\"production\",\"datacenter\":\"site-a\"},"
           "{\"site\":\"staging\",\"datacenter\":\"site-b\"}]");
}

static void test_matrix_docs_exclude(void **state)
{
    (void)state;
    expect("{\"os\":[\"macos-latest\",\"windows-latest\"],"
           "\"version\":[12,14,16],"
           "\"environment\":[\"staging\",\"production\"],"
           "\"exclude\":["
           "{\"os\":\"macos-latest\",\"version\":12,"
           "\"environment\":\"production\"},"
           "{\"os\":\"windows-latest\",\"version\":16}]}",
           "[{\"os\":\"macos-latest\",\"version\":12,"
           "\"environment\":\"staging\"},"
           "{\"os\":\"macos-latest\",\"version\":14,"
           "\"environment\":\"staging\"},"
           "{\"os\":\"macos-latest\",\"version\":14,"
           "\"environment\":\"production\"},"
           "{\"os\":\"macos-latest\",\"version\":16,"
           "\"environment\":\"staging\"},"
           "{\"os\":\"macos-latest\",\"version\":16,"
           "\"environment\":\"production\"},"
           "{\"os\":\"windows-latest\",\"version\":12,"
           "\"environment\":\"staging\"},"
           "{\"os\":\"windows-latest\",\"version\":12,"
           "\"environment\":\"production\"},"
           "{\"os\":\"windows-latest\",\"version\":14,"
           "\"environment\":\"staging\"},"
           "{\"os\":\"windows-latest\",\"version\":14,"
           "\"environment\":\"production\"}]");
}

static void test_matrix_docs_experimental_include(void **state)
{
    (void)state;
    expect("{\"version\":[6,7,8],\"experimental\":[false],"
           "\"include\":[{\"version\":9,\"experimental\":true}]}",
           "[{\"version\":6,\"experimental\":false},"
           "{\"version\":7,\"experimental\":false},"
           "{\"version\":8,\"experimental\":false},"
           "{\"version\":9,\"experimental\":true}]");
}

static void test_matrix_docs_object_values(void **state)
{
    (void)state;
    expect("{\"os\":[\"ubuntu-latest\",\"macos-latest\"],"
           "\"node\":[{\"version\":14},"
           "{\"version\":20,"
           "\"env\":\"NODE_OPTIONS=--openssl-legacy-provider\"}]}",
           "[{\"os\":\"ubuntu-latest\",\"node\":{\"version\":14}},"
           "{\"os\":\"ubuntu-latest\",\"node\":{\"version\":20,"
           "\"env\":\"NODE_OPTIONS=--openssl-legacy-provider\"}},"
           "{\"os\":\"macos-latest\",\"node\":{\"version\":14}},"
           "{\"os\":\"macos-latest\",\"node\":{\"version\":20,"
           "\"env\":\"NODE_OPTIONS=--openssl-legacy-provider\"}}]");
}

static void test_matrix_exclude_partial_object_match(void **state)
{
    (void)state;
    expect("{\"os\":[\"a\",\"b\"],"
           "\"node\":[{\"version\":14},{\"version\":20,\"env\":\"x\"}],"
           "\"exclude\":[{\"node\":{\"version\":20}}]}",
           "[{\"os\":\"a\",\"node\":{\"version\":14}},"
           "{\"os\":\"b\",\"node\":{\"version\":14}}]");
}

static void test_matrix_include_readds_excluded(void **state)
{
    (void)state;
    expect("{\"os\":[\"linux\",\"windows\"],\"arch\":[\"x64\",\"arm64\"],"
           "\"exclude\":[{\"os\":\"windows\"}],"
           "\"include\":[{\"os\":\"windows\",\"arch\":\"x64\"}]}",
           "[{\"os\":\"linux\",\"arch\":\"x64\"},"
           "{\"os\":\"linux\",\"arch\":\"arm64\"},"
           "{\"os\":\"windows\",\"arch\":\"x64\"}]");
}

static void test_matrix_include_never_overwrites_original(void **state)
{
    /* os is a dimension: an include with another os cannot extend any
     * combination, so it becomes a new one; 'extra' is overwritten */
    (void)state;
    expect("{\"os\":[\"linux\"],"
           "\"include\":[{\"extra\":1},{\"extra\":2},"
           "{\"os\":\"mac\",\"extra\":3}]}",
           "[{\"os\":\"linux\",\"extra\":2},"
           "{\"os\":\"mac\",\"extra\":3}]");
}

static void test_matrix_include_matching_only_dimensions_adds_nothing(
    void **state)
{
    (void)state;
    expect("{\"arch\":[\"x64\",\"x86\"],\"os\":[\"linux\",\"windows\"],"
           "\"include\":[{\"arch\":\"x64\"},{\"os\":\"macos\"}]}",
           "[{\"arch\":\"x64\",\"os\":\"linux\"},"
           "{\"arch\":\"x64\",\"os\":\"windows\"},"
           "{\"arch\":\"x86\",\"os\":\"linux\"},"
           "{\"arch\":\"x86\",\"os\":\"windows\"},"
           "{\"os\":\"macos\"}]");
}

static void test_matrix_new_combination_puts_dimensions_first(void **state)
{
    (void)state;
    expect("{\"os\":[\"linux\"],\"v\":[1],"
           "\"include\":[{\"label\":\"x\",\"v\":2,\"os\":\"mac\"}]}",
           "[{\"os\":\"linux\",\"v\":1},"
           "{\"v\":2,\"os\":\"mac\",\"label\":\"x\"}]");
}

static void test_matrix_values_compare_like_expressions(void **state)
{
    /* GitHub compiles filters to 'matrix.x == literal': strings ignore
     * case, and a number equals its string form */
    (void)state;
    expect("{\"os\":[\"Ubuntu-Latest\",\"windows\"],\"v\":[12,14],"
           "\"exclude\":[{\"os\":\"ubuntu-latest\",\"v\":\"12\"}]}",
           "[{\"os\":\"Ubuntu-Latest\",\"v\":14},"
           "{\"os\":\"windows\",\"v\":12},"
           "{\"os\":\"windows\",\"v\":14}]");
    expect("{\"v\":[1,\"1.0\",true,\"x\",null],"
           "\"exclude\":[{\"v\":1}]}",
           "[{\"v\":\"x\"},{\"v\":null}]");
}

static void test_matrix_exclude_object_does_not_match_scalar(void **state)
{
    (void)state;
    expect("{\"v\":[{\"a\":1},1],\"exclude\":[{\"v\":{\"a\":1}}]}",
           "[{\"v\":1}]");
}

static void test_matrix_empty_matrix_gives_no_jobs(void **state)
{
    (void)state;
    expect("{}", "[]");
}

static void test_matrix_output_is_independent_of_input(void **state)
{
    json_t *m = load("{\"node\":[{\"version\":14}]}");
    json_t *got = NULL;
    struct ferr err;
    json_t *node;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_OK);
    node = json_object_get(json_array_get(got, 0), "node");
    json_object_set_new(node, "version", json_integer(99));
    assert_int_equal(
        json_integer_value(json_object_get(
            json_array_get(json_object_get(m, "node"), 0), "version")),
        14);
    json_decref(got);
    json_decref(m);
}

static void test_matrix_rejects_empty_vector(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(expand_err("{\"os\":[\"a\"],\"x\":[]}", &err),
                     FERR_INVALID);
    assert_string_equal(err.msg,
                        "matrix vector 'x' does not contain any values");
}

static void test_matrix_rejects_non_array_vector(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(expand_err("{\"os\":\"linux\"}", &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "'os'"));
    assert_int_equal(expand_err("[1,2]", &err), FERR_INVALID);
}

static void test_matrix_rejects_unknown_exclude_key(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(
        expand_err("{\"os\":[\"a\"],\"exclude\":[{\"arch\":\"x\"}]}", &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "matrix exclude key 'arch' does not match "
                                 "any key within the matrix");
}

static void test_matrix_rejects_bad_include_exclude_shapes(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(expand_err("{\"os\":[\"a\"],\"include\":{\"x\":1}}",
                                &err),
                     FERR_INVALID);
    assert_int_equal(expand_err("{\"os\":[\"a\"],\"include\":[1]}", &err),
                     FERR_INVALID);
    assert_int_equal(expand_err("{\"os\":[\"a\"],\"include\":[{}]}", &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "does not contain any values"));
    assert_int_equal(expand_err("{\"os\":[\"a\"],\"exclude\":[{}]}", &err),
                     FERR_INVALID);
    assert_int_equal(expand_err("{\"os\":[\"a\"],\"exclude\":\"x\"}", &err),
                     FERR_INVALID);
}

static json_t *range_array(size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_integer((json_int_t)i));
    return a;
}

static void test_matrix_limit_exactly_256_is_fine(void **state)
{
    json_t *m = json_object();
    json_t *got = NULL;
    struct ferr err;

    (void)state;
    json_object_set_new(m, "a", range_array(16));
    json_object_set_new(m, "b", range_array(16));
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_OK);
    assert_int_equal(json_array_size(got), LIM_MATRIX_JOBS);
    json_decref(got);
    json_decref(m);
}

static void test_matrix_limit_257_jobs(void **state)
{
    json_t *m = json_object();
    json_t *got = (json_t *)1;
    struct ferr err;

    (void)state;
    json_object_set_new(m, "a", range_array(LIM_MATRIX_JOBS + 1));
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_LIMIT);
    assert_null(got);
    json_decref(m);
}

static void test_matrix_limit_counts_includes(void **state)
{
    json_t *m = json_object();
    json_t *inc = json_object();
    json_t *got = (json_t *)1;
    struct ferr err;

    (void)state;
    json_object_set_new(m, "a", range_array(LIM_MATRIX_JOBS));
    json_object_set_new(inc, "a", json_integer(-1));
    json_object_set_new(m, "include", json_pack("[o]", inc));
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_LIMIT);
    assert_null(got);
    json_decref(m);
}

static void test_matrix_exclude_brings_product_under_limit(void **state)
{
    json_t *m = json_object();
    json_t *got = NULL;
    struct ferr err;

    (void)state;
    json_object_set_new(m, "a", range_array(2));
    json_object_set_new(m, "b", range_array(200));
    json_object_set_new(m, "exclude", json_pack("[{s:i}]", "a", 1));
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_OK);
    assert_int_equal(json_array_size(got), 200);
    json_decref(got);
    json_decref(m);
}

static void test_matrix_limit_product_before_exclude(void **state)
{
    json_t *m = json_object();
    json_t *got = (json_t *)1;
    struct ferr err;

    (void)state;
    for (int i = 0; i < 40; i++) {
        char key[16];

        snprintf(key, sizeof(key), "d%d", i);
        json_object_set_new(m, key, range_array(10));
    }
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_LIMIT);
    assert_null(got);
    json_decref(m);
}

/* 12 two-value dimensions and 60000 exclude entries (cheap to write with
 * YAML aliases): bounded before any matching, not seconds of CPU */
static void test_matrix_limit_work_of_huge_exclude(void **state)
{
    json_t *m = json_object();
    json_t *ex = json_array();
    json_t *got = (json_t *)1;
    struct ferr err;

    (void)state;
    for (int i = 0; i < 12; i++) {
        char key[16];

        snprintf(key, sizeof(key), "d%d", i);
        json_object_set_new(m, key, json_pack("[ss]", "a", "b"));
    }
    for (int i = 0; i < 60000; i++)
        json_array_append_new(ex, json_pack("{s:s}", "d0", "zz"));
    json_object_set_new(m, "exclude", ex);
    ferr_clear(&err);
    assert_int_equal(matrix_expand(m, NULL, &got, &err), FERR_LIMIT);
    assert_non_null(strstr(err.msg, "too large to expand"));
    assert_null(got);
    json_decref(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_matrix_limit_work_of_huge_exclude),
        cmocka_unit_test(test_matrix_docs_order_first_key_slowest),
        cmocka_unit_test(test_matrix_docs_single_dimension),
        cmocka_unit_test(test_matrix_docs_fruit_animal_include),
        cmocka_unit_test(test_matrix_docs_os_node_npm),
        cmocka_unit_test(test_matrix_docs_include_adds_new_combination),
        cmocka_unit_test(test_matrix_docs_include_only),
        cmocka_unit_test(test_matrix_docs_exclude),
        cmocka_unit_test(test_matrix_docs_experimental_include),
        cmocka_unit_test(test_matrix_docs_object_values),
        cmocka_unit_test(test_matrix_exclude_partial_object_match),
        cmocka_unit_test(test_matrix_include_readds_excluded),
        cmocka_unit_test(test_matrix_include_never_overwrites_original),
        cmocka_unit_test(
            test_matrix_include_matching_only_dimensions_adds_nothing),
        cmocka_unit_test(test_matrix_new_combination_puts_dimensions_first),
        cmocka_unit_test(test_matrix_values_compare_like_expressions),
        cmocka_unit_test(test_matrix_exclude_object_does_not_match_scalar),
        cmocka_unit_test(test_matrix_empty_matrix_gives_no_jobs),
        cmocka_unit_test(test_matrix_output_is_independent_of_input),
        cmocka_unit_test(test_matrix_rejects_empty_vector),
        cmocka_unit_test(test_matrix_rejects_non_array_vector),
        cmocka_unit_test(test_matrix_rejects_unknown_exclude_key),
        cmocka_unit_test(test_matrix_rejects_bad_include_exclude_shapes),
        cmocka_unit_test(test_matrix_limit_exactly_256_is_fine),
        cmocka_unit_test(test_matrix_limit_257_jobs),
        cmocka_unit_test(test_matrix_limit_counts_includes),
        cmocka_unit_test(test_matrix_exclude_brings_product_under_limit),
        cmocka_unit_test(test_matrix_limit_product_before_exclude),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
