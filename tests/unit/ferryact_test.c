/* ferryact_test: the table of ferry's own actions — lookups by name and
 * `uses:`, case-insensitive inputs, the messages for unknown actions,
 * versions and inputs, the required-input rules, and the table's own
 * consistency (every name a rule uses is an input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/ferryact.h"

static const char *const actions[] = {
    "ferry/deploy", "ferry/report", "ferry/gate", "ferry/image", NULL,
};

static const struct ferryact *get(const char *name)
{
    const struct ferryact *a = ferryact_find(name, strlen(name));

    assert_non_null(a);
    return a;
}

static void test_ferryact_find_exact_names(void **state)
{
    (void)state;
    assert_string_equal(get("ferry/deploy")->verb, "__deploy");
    assert_string_equal(get("ferry/report")->verb, "__report");
    assert_string_equal(get("ferry/gate")->verb, "__gate");
    assert_string_equal(get("ferry/image")->verb, "__image");
    assert_null(ferryact_find("ferry/deplo", 11));
    assert_null(ferryact_find("Ferry/Deploy", 12));
    /* the length counts: a prefix is not the action */
    assert_null(ferryact_find("ferry/deploy", 8));
}

static void test_ferryact_of_uses_only_v1(void **state)
{
    (void)state;
    assert_ptr_equal(ferryact_of_uses("ferry/gate@v1"), get("ferry/gate"));
    assert_null(ferryact_of_uses("ferry/gate@v2"));
    assert_null(ferryact_of_uses("ferry/gate@v1.0"));
    assert_null(ferryact_of_uses("ferry/gate"));
    assert_null(ferryact_of_uses("ferry/gat@v1"));
    assert_null(ferryact_of_uses("actions/checkout@v4"));
}

static void test_ferryact_is_ferry(void **state)
{
    (void)state;
    assert_true(ferryact_is_ferry("ferry/anything@x"));
    assert_true(ferryact_is_ferry("FERRY/deploy@v1"));
    assert_false(ferryact_is_ferry("ferryman/deploy@v1"));
    assert_false(ferryact_is_ferry("./ferry/deploy"));
}

static void test_ferryact_check_uses_messages(void **state)
{
    const struct ferryact *a = NULL;
    struct pos at = { "w.yml", 3, 15 };
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(ferryact_check_uses("ferry/image@v1", &at, &a, &err),
                     FERR_OK);
    assert_ptr_equal(a, get("ferry/image"));
    assert_int_equal(ferryact_check_uses("ferry/imag@v1", &at, &a, &err),
                     FERR_INVALID);
    assert_null(a);
    assert_string_equal(err.msg, "unknown action 'ferry/imag' (did you "
                                 "mean 'ferry/image'?)");
    assert_int_equal(err.pos.line, 3);
    assert_int_equal(err.pos.col, 15);
    ferr_clear(&err);
    assert_int_equal(ferryact_check_uses("ferry/lint@v1", NULL, &a, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg,
                        "unknown action 'ferry/lint': ferry's own actions "
                        "are ferry/deploy, ferry/report, ferry/gate and "
                        "ferry/image");
    ferr_clear(&err);
    assert_int_equal(ferryact_check_uses("ferry/report@main", NULL, &a, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'ferry/report' has no version 'main' "
                                 "(use 'ferry/report@v1')");
    ferr_clear(&err);
    assert_int_equal(ferryact_check_uses("ferry/report", NULL, &a, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'ferry/report' needs a version (use "
                                 "'ferry/report@v1')");
}

static void test_ferryact_input_is_case_insensitive(void **state)
{
    const struct ferryact *a = get("ferry/report");

    (void)state;
    assert_string_equal(ferryact_input(a, "MIN-COVERAGE", 12),
                        "min-coverage");
    assert_string_equal(ferryact_input(a, "Junit", 5), "junit");
    assert_null(ferryact_input(a, "junit2", 6));
    assert_null(ferryact_input(a, "jun", 3));
    assert_null(ferryact_input(a, "sarif", 5)); /* ferry/gate's */
}

static void test_ferryact_check_input_messages(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(ferryact_check_input(get("ferry/image"), "PUSH", 4, NULL,
                                          &err),
                     FERR_OK);
    assert_int_equal(ferryact_check_input(get("ferry/report"), "min-covrage",
                                          11, NULL, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown input 'min-covrage' for "
                                 "ferry/report (did you mean "
                                 "'min-coverage'?)");
    ferr_clear(&err);
    assert_int_equal(ferryact_check_input(get("ferry/image"), "foo", 3, NULL,
                                          &err),
                     FERR_INVALID);
    assert_string_equal(err.msg,
                        "unknown input 'foo' for ferry/image (valid inputs: "
                        "context, file, build-args, name, tags, push, "
                        "username, password, labels, target, no-cache)");
    ferr_clear(&err);
    assert_int_equal(ferryact_check_input(get("ferry/deploy"), "zzz", 3, NULL,
                                          &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown input 'zzz' for ferry/deploy (its "
                                 "inputs are in docs/deploy.md)");
}

static void test_ferryact_check_inputs_first_unknown(void **state)
{
    json_t *in = json_pack("{s:s, s:s, s:s}", "environment", "s", "command",
                           "x", "stratgy", "rolling");
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(ferryact_check_inputs(get("ferry/deploy"), in, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown input 'stratgy' for ferry/deploy "
                                 "(did you mean 'strategy'?)");
    json_object_del(in, "stratgy");
    ferr_clear(&err);
    assert_int_equal(ferryact_check_inputs(get("ferry/deploy"), in, &err),
                     FERR_OK);
    json_decref(in);
}

/* The messages of every rule of @a that @given (JSON text) breaks,
 * joined with '|'. */
static const char *broken(const struct ferryact *a, const char *given,
                          char *out, size_t cap)
{
    json_t *g = json_loads(given, 0, NULL);
    size_t off = 0;

    assert_non_null(g);
    out[0] = '\0';
    for (size_t i = 0; i < a->nrules; i++) {
        struct ferr err;

        ferr_clear(&err);
        if (ferryact_check_rule(a, i, g, NULL, &err))
            off += (size_t)snprintf(out + off, cap - off, "%s%s",
                                    off ? "|" : "", err.msg);
        assert_true(off < cap);
    }
    json_decref(g);
    return out;
}

static void test_ferryact_rules_deploy(void **state)
{
    const struct ferryact *a = get("ferry/deploy");
    char m[1024];

    (void)state;
    assert_string_equal(
        broken(a, "{}", m, sizeof(m)),
        "missing input 'environment' required by ferry/deploy|"
        "missing input 'command' required by ferry/deploy with target "
        "'process' (the default)");
    assert_string_equal(broken(a, "{\"environment\": \"s\", \"command\": "
                                  "\"x\"}",
                               m, sizeof(m)),
                        "");
    assert_string_equal(
        broken(a, "{\"environment\": \"s\", \"target\": \"script\"}", m,
               sizeof(m)),
        "missing input 'deploy' required by ferry/deploy with target "
        "'script'");
    assert_string_equal(
        broken(a, "{\"environment\": \"s\", \"target\": \"container\"}", m,
               sizeof(m)),
        "missing input 'image' required by ferry/deploy with target "
        "'container'");
    assert_string_equal(
        broken(a, "{\"environment\": \"s\", \"command\": \"x\", "
                  "\"strategy\": \"blue-green\"}",
               m, sizeof(m)),
        "missing input 'proxy' required by ferry/deploy with strategy "
        "'blue-green'");
    assert_string_equal(
        broken(a, "{\"environment\": \"s\", \"command\": \"x\", "
                  "\"strategy\": \"rolling\"}",
               m, sizeof(m)),
        "");
}

static void test_ferryact_rules_unknown_values(void **state)
{
    const struct ferryact *a = get("ferry/deploy");
    char m[1024];

    (void)state;
    /* null: an expression, known only when the step runs — it gives the
     * input, and a rule that depends on it is left to the step */
    assert_string_equal(broken(a, "{\"environment\": null, \"target\": null, "
                                  "\"strategy\": null}",
                               m, sizeof(m)),
                        "");
    /* an expression may come out blank: not given, nothing required */
    assert_string_equal(
        broken(get("ferry/image"), "{\"name\": \"n\", \"username\": null}", m,
               sizeof(m)),
        "");
    assert_string_equal(
        broken(get("ferry/image"), "{\"name\": \"n\", \"username\": \"u\"}",
               m, sizeof(m)),
        "missing input 'password' required by ferry/image with input "
        "'username'");
}

static void test_ferryact_rules_one_of(void **state)
{
    char m[1024];

    (void)state;
    assert_string_equal(broken(get("ferry/report"), "{\"name\": \"x\"}", m,
                               sizeof(m)),
                        "missing input 'junit' or 'coverage' required by "
                        "ferry/report");
    assert_string_equal(broken(get("ferry/report"), "{\"coverage\": \"c\"}",
                               m, sizeof(m)),
                        "");
    assert_string_equal(
        broken(get("ferry/report"),
               "{\"junit\": \"j\", \"min-coverage\": \"80\"}", m, sizeof(m)),
        "missing input 'coverage' required by ferry/report with input "
        "'min-coverage'");
    assert_string_equal(broken(get("ferry/gate"), "{}", m, sizeof(m)),
                        "missing input 'sarif' or 'bandit' required by "
                        "ferry/gate");
    assert_string_equal(broken(get("ferry/gate"), "{\"bandit\": \"b\"}", m,
                               sizeof(m)),
                        "");
}

static bool lower(const char *s)
{
    for (; *s; s++)
        if (*s >= 'A' && *s <= 'Z')
            return false;
    return true;
}

static void test_ferryact_table_is_consistent(void **state)
{
    (void)state;
    for (size_t i = 0; actions[i]; i++) {
        const struct ferryact *a = get(actions[i]);

        assert_non_null(a->doc);
        assert_int_equal(strncmp(a->verb, "__", 2), 0);
        for (size_t k = 0; a->inputs[k]; k++) {
            assert_true(lower(a->inputs[k]));
            /* unique (all lower case, so in any case too) */
            for (size_t l = k + 1; a->inputs[l]; l++)
                assert_string_not_equal(a->inputs[k], a->inputs[l]);
        }
        for (size_t r = 0; r < a->nrules; r++) {
            const struct ferryact_rule *rule = &a->rules[r];

            assert_non_null(rule->any[0]);
            for (size_t k = 0; rule->any[k]; k++)
                assert_ptr_equal(ferryact_input(a, rule->any[k],
                                                strlen(rule->any[k])) != NULL,
                                 1);
            if (rule->when)
                assert_non_null(ferryact_input(a, rule->when,
                                               strlen(rule->when)));
            if (rule->absent)
                assert_non_null(rule->values);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ferryact_find_exact_names),
        cmocka_unit_test(test_ferryact_of_uses_only_v1),
        cmocka_unit_test(test_ferryact_is_ferry),
        cmocka_unit_test(test_ferryact_check_uses_messages),
        cmocka_unit_test(test_ferryact_input_is_case_insensitive),
        cmocka_unit_test(test_ferryact_check_input_messages),
        cmocka_unit_test(test_ferryact_check_inputs_first_unknown),
        cmocka_unit_test(test_ferryact_rules_deploy),
        cmocka_unit_test(test_ferryact_rules_unknown_values),
        cmocka_unit_test(test_ferryact_rules_one_of),
        cmocka_unit_test(test_ferryact_table_is_consistent),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
