/* deploy_spec: the `uses: ferry/deploy@v1` inputs — defaults, every
 * rejection naming its input, canary steps, durations, state on disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "deploy/deploy.h"
#include "deploy/envstate.h"
#include "deploy/strategy.h"
#include "util/xalloc.h"

/* Parse @json (an object of inputs); returns the code, message in @err. */
static enum ferr_code parse(const char *json, struct deploy_spec **out,
                            struct ferr *err)
{
    json_error_t je;
    json_t *in = json_loads(json, 0, &je);
    enum ferr_code rc;

    assert_non_null(in);
    ferr_clear(err);
    rc = deploy_spec_parse(in, out, err);
    json_decref(in);
    return rc;
}

/* Expect @json to be rejected with a message holding @want. */
static void rejects(const char *json, const char *want)
{
    struct deploy_spec *s = (struct deploy_spec *)1;
    struct ferr err;

    assert_int_equal(parse(json, &s, &err), FERR_INVALID);
    assert_null(s);
    if (!strstr(err.msg, want)) {
        print_error("message '%s' lacks '%s'\n", err.msg, want);
        fail();
    }
}

static void test_deploy_spec_minimal_process(void **state)
{
    struct deploy_spec *s = NULL;
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"staging\", \"command\": "
                           "\"python3 app.py\"}",
                           &s, &err),
                     FERR_OK);
    assert_string_equal(deploy_spec_environment(s), "staging");
    assert_string_equal(deploy_spec_version(s), "dev");
    assert_null(deploy_spec_release(s));
    deploy_spec_free(s);
}

static void test_deploy_spec_empty_values_are_absent(void **state)
{
    struct deploy_spec *s = NULL;
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"staging\", \"command\": "
                           "\"x\", \"strategy\": \"\", \"release\": \" \"}",
                           &s, &err),
                     FERR_OK);
    assert_null(deploy_spec_release(s));
    deploy_spec_free(s);
}

static void test_deploy_spec_requires_environment(void **state)
{
    (void)state;
    rejects("{\"command\": \"x\"}", "input 'environment' is required");
}

static void test_deploy_spec_rejects_unknown_input(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"stratgy\": "
            "\"rolling\"}",
            "input 'stratgy': unknown input");
}

static void test_deploy_spec_rejects_unknown_strategy(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"strategy\": "
            "\"bluegreen\"}",
            "input 'strategy': unknown strategy 'bluegreen' (recreate, "
            "rolling, blue-green, canary)");
}

static void test_deploy_spec_blue_green_needs_proxy(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"strategy\": "
            "\"blue-green\"}",
            "input 'proxy' is required by strategy 'blue-green'");
}

static void test_deploy_spec_process_needs_command(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\"}", "input 'command' is required");
}

static void test_deploy_spec_script_needs_deploy(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"target\": \"script\"}",
            "input 'deploy' is required by target 'script'");
}

static void test_deploy_spec_script_rejects_process_inputs(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"target\": \"script\", \"deploy\": "
            "\"true\", \"instances\": \"3\"}",
            "input 'instances' applies to target 'process' only");
}

static void test_deploy_spec_rejects_bad_instances(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"instances\": "
            "\"0\"}",
            "input 'instances': expected a number from 1 to 64");
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"instances\": "
            "\"3x\"}",
            "input 'instances'");
}

static void test_deploy_spec_rejects_bad_duration(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"grace\": "
            "\"10 parsecs\"}",
            "input 'grace': bad duration");
}

static void test_deploy_spec_rejects_bad_environment_name(void **state)
{
    (void)state;
    rejects("{\"environment\": \"../etc\", \"command\": \"x\"}",
            "input 'environment': bad name");
}

static void test_deploy_spec_rejects_bad_version(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"version\": "
            "\"a/b\"}",
            "input 'version': bad version 'a/b'");
}

static void test_deploy_spec_rejects_bad_env_line(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"env\": "
            "\"A=1\\nnot a var\"}",
            "input 'env': line 2");
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"env\": "
            "\"PORT=1\"}",
            "'PORT' is set by ferry");
}

static void test_deploy_spec_rejects_steps_without_canary(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"steps\": "
            "\"setWeight: 10\"}",
            "input 'steps' applies to strategy 'canary' only");
}

static void test_deploy_spec_rejects_bad_step(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"strategy\": "
            "\"canary\", \"proxy\": \"ferry:127.0.0.1:9\", \"steps\": "
            "\"- setWeight: 20\\n- setWeight: 120\"}",
            "input 'steps': line 2");
}

static void test_deploy_spec_error_rate_needs_proxy(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"analysis\": "
            "\"error-rate\"}",
            "input 'analysis': error-rate reads the proxy's counters");
}

static void test_deploy_spec_restore_needs_backup(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"restore\": "
            "\"cp b a\"}",
            "input 'restore' needs input 'backup'");
}

static void test_deploy_spec_rejects_bad_release(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"release\": "
            "\"latest\"}",
            "input 'release': expected a tag like v1.2.3");
    /* the server tags vX.Y.Z only: a bare version would be refused there */
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"release\": "
            "\"20.2.3\"}",
            "input 'release': expected a tag like v1.2.3");
}

static void test_deploy_spec_accepts_release_tags(void **state)
{
    struct deploy_spec *s = NULL;
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"command\": \"x\", "
                           "\"release\": \"v1.2.3-rc.1\"}",
                           &s, &err),
                     FERR_OK);
    assert_string_equal(deploy_spec_release(s), "v1.2.3-rc.1");
    deploy_spec_free(s);
    assert_int_equal(parse("{\"environment\": \"p\", \"command\": \"x\", "
                           "\"release\": \"auto\"}",
                           &s, &err),
                     FERR_OK);
    deploy_spec_free(s);
}

static void test_deploy_spec_rejects_escaping_path(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"path\": "
            "\"../other\"}",
            "input 'path'");
}

static void test_deploy_spec_rejects_bad_proxy(void **state)
{
    (void)state;
    rejects("{\"environment\": \"s\", \"command\": \"x\", \"proxy\": "
            "\"nginx:1\"}",
            "input 'proxy'");
}

static void test_deploy_spec_full_canary(void **state)
{
    struct deploy_spec *s = NULL;
    struct ferr err;

    (void)state;
    assert_int_equal(
        parse("{\"environment\": \"production\", \"version\": \"v2\", "
              "\"command\": \"./app\", \"instances\": \"2\", \"strategy\": "
              "\"canary\", \"proxy\": \"ferry:127.0.0.1:9001\", \"steps\": "
              "\"- setWeight: 20\\n- pause: 1s\\n- analysis\", "
              "\"analysis-interval\": \"1s\", \"analysis-max\": \"5%\", "
              "\"health\": \"http:/health\", \"backup\": \"cp db b\", "
              "\"restore\": \"cp b db\", \"env\": \"A=1\\n# c\\nB = two\"}",
              &s, &err),
        FERR_OK);
    assert_string_equal(deploy_spec_version(s), "v2");
    deploy_spec_free(s);
}

static void test_deploy_spec_steps_append_full_weight(void **state)
{
    struct strategy_step *v = NULL;
    size_t n = 0;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(strategy_steps_parse("- setWeight: 20\n\n- pause: "
                                          "500ms\n- analysis\n",
                                          &v, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 4);
    assert_int_equal(v[0].kind, STRATEGY_STEP_WEIGHT);
    assert_int_equal(v[0].value, 20);
    assert_int_equal(v[1].kind, STRATEGY_STEP_PAUSE);
    assert_int_equal(v[1].value, 500);
    assert_int_equal(v[2].kind, STRATEGY_STEP_ANALYSIS);
    assert_int_equal(v[3].kind, STRATEGY_STEP_WEIGHT);
    assert_int_equal(v[3].value, 100);
    free(v);
}

static void test_deploy_spec_steps_keep_explicit_full_weight(void **state)
{
    struct strategy_step *v = NULL;
    size_t n = 0;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(strategy_steps_parse("setWeight: 50\nsetWeight: 100",
                                          &v, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 2);
    free(v);
}

static void test_deploy_spec_pause_needs_duration(void **state)
{
    struct strategy_step *v = NULL;
    size_t n = 0;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(strategy_steps_parse("pause", &v, &n, &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "pause needs a duration"));
    assert_null(v);
}

static void test_deploy_spec_durations(void **state)
{
    unsigned ms = 1;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(strategy_duration_parse("x", "250ms", &ms, &err), 0);
    assert_int_equal(ms, 250);
    assert_int_equal(strategy_duration_parse("x", "30", &ms, &err), 0);
    assert_int_equal(ms, 30000);
    assert_int_equal(strategy_duration_parse("x", "2m", &ms, &err), 0);
    assert_int_equal(ms, 120000);
    assert_int_equal(strategy_duration_parse("x", "0", &ms, &err), 0);
    assert_int_equal(ms, 0);
    assert_int_equal(strategy_duration_parse("x", "25h", &ms, &err),
                     FERR_INVALID);
    assert_int_equal(strategy_duration_parse("x", "s", &ms, &err),
                     FERR_INVALID);
}

static void test_deploy_spec_weights_keep_the_ratio(void **state)
{
    struct strategy st;
    struct strategy_inst o[3], n[1];

    (void)state;
    memset(&st, 0, sizeof(st));
    memset(o, 0, sizeof(o));
    memset(n, 0, sizeof(n));
    st.old.v = o;
    st.old.n = 3;
    st.new.v = n;
    st.new.n = 1;
    strategy_weigh(&st, 80, 20);
    /* 3 old at w_o, 1 new at w_n: 3 w_o : w_n = 80 : 20 */
    assert_int_equal(3 * o[0].weight * 20, n[0].weight * 80);
    strategy_weigh(&st, 0, 100);
    assert_int_equal(o[0].weight, 0);
    assert_int_equal(n[0].weight, 1);
    strategy_weigh(&st, 100, 0);
    assert_int_equal(o[2].weight, 1);
    assert_int_equal(n[0].weight, 0);
}

static void test_deploy_spec_state_round_trip(void **state)
{
    char tmpl[] = "/tmp/deploy-spec-test.XXXXXX";
    char *dir = NULL, *cmd;
    json_t *st = NULL;
    struct ferr err;
    int fd = -1;

    (void)state;
    assert_non_null(mkdtemp(tmpl));
    ferr_clear(&err);
    assert_int_equal(envstate_dir(tmpl, "staging", &dir, &err), FERR_OK);
    assert_int_equal(envstate_lock(dir, "staging", &fd, &err), FERR_OK);
    assert_int_equal(envstate_load(dir, &st, &err), FERR_OK);
    assert_true(json_is_null(json_object_get(st, "current")));
    json_object_set_new(st, "current", json_pack("{s:s}", "version", "v1"));
    assert_int_equal(envstate_save(dir, st, &err), FERR_OK);
    json_decref(st);
    assert_int_equal(envstate_load(dir, &st, &err), FERR_OK);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(st, "current"), "version")),
                        "v1");
    json_decref(st);
    {
        char *bad = (char *)1;
        struct ferr e2;

        ferr_clear(&e2);
        assert_int_equal(envstate_dir(tmpl, "../x", &bad, &e2), FERR_INVALID);
        assert_null(bad);
    }
    close(fd);
    cmd = xasprintf("%s/state.json", dir);
    unlink(cmd);
    free(cmd);
    cmd = xasprintf("%s/lock", dir);
    unlink(cmd);
    free(cmd);
    rmdir(dir);
    rmdir(tmpl);
    free(dir);
}

static void test_deploy_spec_name_rules(void **state)
{
    (void)state;
    assert_true(envstate_name_ok("production"));
    assert_true(envstate_name_ok("v1.2.3"));
    assert_false(envstate_name_ok(""));
    assert_false(envstate_name_ok(".hidden"));
    assert_false(envstate_name_ok("-x"));
    assert_false(envstate_name_ok("a b"));
    assert_false(envstate_name_ok("a/b"));
    assert_false(envstate_name_ok(
        "0123456789012345678901234567890123456789012345678901234567890123x"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_deploy_spec_minimal_process),
        cmocka_unit_test(test_deploy_spec_empty_values_are_absent),
        cmocka_unit_test(test_deploy_spec_requires_environment),
        cmocka_unit_test(test_deploy_spec_rejects_unknown_input),
        cmocka_unit_test(test_deploy_spec_rejects_unknown_strategy),
        cmocka_unit_test(test_deploy_spec_blue_green_needs_proxy),
        cmocka_unit_test(test_deploy_spec_process_needs_command),
        cmocka_unit_test(test_deploy_spec_script_needs_deploy),
        cmocka_unit_test(test_deploy_spec_script_rejects_process_inputs),
        cmocka_unit_test(test_deploy_spec_rejects_bad_instances),
        cmocka_unit_test(test_deploy_spec_rejects_bad_duration),
        cmocka_unit_test(test_deploy_spec_rejects_bad_environment_name),
        cmocka_unit_test(test_deploy_spec_rejects_bad_version),
        cmocka_unit_test(test_deploy_spec_rejects_bad_env_line),
        cmocka_unit_test(test_deploy_spec_rejects_steps_without_canary),
        cmocka_unit_test(test_deploy_spec_rejects_bad_step),
        cmocka_unit_test(test_deploy_spec_error_rate_needs_proxy),
        cmocka_unit_test(test_deploy_spec_restore_needs_backup),
        cmocka_unit_test(test_deploy_spec_rejects_bad_release),
        cmocka_unit_test(test_deploy_spec_accepts_release_tags),
        cmocka_unit_test(test_deploy_spec_rejects_escaping_path),
        cmocka_unit_test(test_deploy_spec_rejects_bad_proxy),
        cmocka_unit_test(test_deploy_spec_full_canary),
        cmocka_unit_test(test_deploy_spec_steps_append_full_weight),
        cmocka_unit_test(test_deploy_spec_steps_keep_explicit_full_weight),
        cmocka_unit_test(test_deploy_spec_pause_needs_duration),
        cmocka_unit_test(test_deploy_spec_durations),
        cmocka_unit_test(test_deploy_spec_weights_keep_the_ratio),
        cmocka_unit_test(test_deploy_spec_state_round_trip),
        cmocka_unit_test(test_deploy_spec_name_rules),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
