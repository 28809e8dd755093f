/* ctarget_test: the container target's parts that need no engine —
 * input checks (through deploy_spec_parse too), container releases on
 * disk, and how records behave when the engine cannot be reached
 * (listed as they are, never forgotten, a stop that fails keeps them);
 * target.c's hooks hand container releases and records to ctarget.  The
 * engine paths run against Podman in tests/e2e/5009-deploy-container.t. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <jansson.h>

#include "deploy/ctarget.h"
#include "deploy/deploy.h"
#include "deploy/target.h"
#include "exec/workspace.h"
#include "util/xalloc.h"

#define DIGEST                                                                 \
    "sha256:0123456789abcdef0123456789abcdef0123456789abcdef"                  \
    "0123456789abcdef"
#define NO_ENGINE "unix:///nonexistent/ferry-ctarget-test.sock"

struct fx {
    char dir[64]; /* the environment directory */
};

static int setup(void **state)
{
    struct fx *f = xcalloc(1, sizeof(*f));

    snprintf(f->dir, sizeof(f->dir), "/tmp/ferry-ctarget-XXXXXX");
    if (!mkdtemp(f->dir))
        return -1;
    setenv("DOCKER_HOST", NO_ENGINE, 1);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;
    struct ferr err;

    ferr_clear(&err);
    if (workspace_rmtree(f->dir, &err))
        fprintf(stderr, "# %s\n", err.msg);
    free(f);
    unsetenv("DOCKER_HOST");
    return 0;
}

static json_t *load(const char *path)
{
    json_error_t jerr;

    return json_load_file(path, 0, &jerr);
}

/* A record as ctarget_start writes it, for a container that the
 * unreachable engine would run. */
static void put_record(const struct fx *f, const char *name,
                       const char *release, unsigned port)
{
    char *dir = xasprintf("%s/containers", f->dir);
    char *path = xasprintf("%s/%s.json", dir, name);
    json_t *o = json_pack("{s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:s}", "name",
                          name, "id", "0123456789abcdef", "version", "v1",
                          "release", release, "image", "x/y:1", "port",
                          (int)port, "grace_ms", 1000, "host", NO_ENGINE);
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(dir, &err), FERR_OK);
    assert_int_equal(json_dump_file(o, path, 0), 0);
    json_decref(o);
    free(path);
    free(dir);
}

static void test_ctarget_check_image_accepts_refs(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        ctarget_check_image("127.0.0.1:5000/team/app@" DIGEST, &err), FERR_OK);
    assert_int_equal(ctarget_check_image("127.0.0.1:5000/team/app:v1", &err),
                     FERR_OK);
    assert_int_equal(ctarget_check_image("app", &err), FERR_OK);
}

static void test_ctarget_check_image_rejects_bad(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(ctarget_check_image("Team/App:v1", &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'image'"));
    ferr_clear(&err);
    assert_int_equal(ctarget_check_image("app@sha256:12", &err), FERR_INVALID);
}

static void test_ctarget_release_holds_the_spec(void **state)
{
    struct fx *f = *state;
    struct ctarget_spec cs = {"127.0.0.1:5000/team/app@" DIGEST, 9000,
                              "production", NULL};
    char *rel = NULL;
    char *file;
    json_t *o;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(ctarget_install_release(f->dir, &cs, "v1", 5, &rel, &err),
                     FERR_OK);
    assert_non_null(strstr(rel, "/releases/v1-1"));
    assert_true(ctarget_is_release(rel));
    file = xasprintf("%s/%s", rel, CTARGET_SPEC_FILE);
    o = load(file);
    assert_non_null(o);
    assert_string_equal(json_string_value(json_object_get(o, "image")),
                        cs.image);
    assert_int_equal(json_integer_value(json_object_get(o, "container_port")),
                     9000);
    assert_string_equal(json_string_value(json_object_get(o, "environment")),
                        "production");
    /* the deploy step's engine, so that later stops use the same one */
    assert_string_equal(json_string_value(json_object_get(o, "host")),
                        NO_ENGINE);
    json_decref(o);
    free(file);
    free(rel);
}

static void test_ctarget_release_default_port_and_numbering(void **state)
{
    struct fx *f = *state;
    struct ctarget_spec cs = {"app:v1", 0, "s", "unix:///x.sock"};
    char *a = NULL, *b = NULL;
    char *file;
    json_t *o;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(ctarget_install_release(f->dir, &cs, "v1", 5, &a, &err),
                     FERR_OK);
    assert_int_equal(ctarget_install_release(f->dir, &cs, "v2", 5, &b, &err),
                     FERR_OK);
    assert_non_null(strstr(b, "/releases/v2-2"));
    file = xasprintf("%s/%s", a, CTARGET_SPEC_FILE);
    o = load(file);
    assert_int_equal(json_integer_value(json_object_get(o, "container_port")),
                     CTARGET_DEFAULT_PORT);
    assert_string_equal(json_string_value(json_object_get(o, "host")),
                        "unix:///x.sock");
    json_decref(o);
    free(file);
    free(a);
    free(b);
}

static void test_ctarget_is_release_false_for_process(void **state)
{
    struct fx *f = *state;

    (void)state;
    assert_false(ctarget_is_release(NULL));
    assert_false(ctarget_is_release(f->dir));
    assert_false(ctarget_is_release("/nonexistent/release"));
}

static void test_ctarget_has_only_records(void **state)
{
    struct fx *f = *state;

    assert_false(ctarget_has(f->dir, "production-v1-1"));
    put_record(f, "production-v1-1", "/r", 1234);
    assert_true(ctarget_has(f->dir, "production-v1-1"));
    assert_false(ctarget_has(f->dir, "../production-v1-1"));
}

static void test_ctarget_list_without_records(void **state)
{
    struct fx *f = *state;
    struct target_instance *v = NULL;
    size_t n = 0;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(ctarget_list(f->dir, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 0);
    assert_null(v);
}

static void test_ctarget_list_keeps_records_without_engine(void **state)
{
    struct fx *f = *state;
    struct target_instance *v = NULL;
    size_t n = 0;
    char *junk = xasprintf("%s/containers/junk.json", f->dir);
    struct ferr err;

    put_record(f, "production-v1-1", "/rel/v1-1", 4321);
    assert_int_equal(workspace_put_file(junk, "not json", 8, &err), FERR_OK);
    ferr_clear(&err);
    assert_int_equal(ctarget_list(f->dir, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 1);
    assert_string_equal(v[0].name, "production-v1-1");
    assert_string_equal(v[0].version, "v1");
    assert_string_equal(v[0].release, "/rel/v1-1");
    assert_int_equal(v[0].port, 4321);
    assert_true(ctarget_has(f->dir, "production-v1-1"));
    target_instances_free(v, n);
    free(junk);
}

static void test_ctarget_stop_missing_is_ok(void **state)
{
    struct fx *f = *state;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(ctarget_stop(f->dir, "production-v9-1", &err), FERR_OK);
    assert_int_equal(ctarget_stop(f->dir, "a/b", &err), FERR_INVALID);
}

static void test_ctarget_stop_without_engine_keeps_record(void **state)
{
    struct fx *f = *state;
    struct ferr err;

    put_record(f, "production-v1-1", "/r", 1234);
    ferr_clear(&err);
    assert_int_not_equal(ctarget_stop(f->dir, "production-v1-1", &err),
                         FERR_OK);
    assert_non_null(strstr(err.msg, "cannot stop instance 'production-v1-1'"));
    assert_non_null(strstr(err.msg, "no container engine"));
    assert_true(ctarget_has(f->dir, "production-v1-1"));
}

static void test_ctarget_start_without_engine_leaves_nothing(void **state)
{
    struct fx *f = *state;
    struct ctarget_spec cs = {"app:v1", 0, "production", NULL};
    struct target_process p = {"app:v1", NULL, "v1", NULL, 1000};
    struct target_instance ti;
    char *rel = NULL;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(ctarget_install_release(f->dir, &cs, "v1", 5, &rel, &err),
                     FERR_OK);
    p.release = rel;
    /* through target.h: the hook hands a container release over */
    assert_int_not_equal(target_start(f->dir, "/nonexistent/ferry", &p,
                                      "production-v1-1", &ti, &err),
                         FERR_OK);
    assert_non_null(strstr(err.msg, "no container engine"));
    assert_null(ti.name);
    assert_false(ctarget_has(f->dir, "production-v1-1"));
    free(rel);
}

static void test_ctarget_target_hooks_list_and_stop(void **state)
{
    struct fx *f = *state;
    struct target_instance *v = NULL;
    size_t n = 0;
    struct ferr err;

    put_record(f, "production-v1-2", "/r", 1111);
    put_record(f, "production-v1-1", "/r", 2222);
    ferr_clear(&err);
    assert_int_equal(target_list(f->dir, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 2);
    assert_string_equal(v[0].name, "production-v1-1"); /* sorted */
    assert_string_equal(v[1].name, "production-v1-2");
    target_instances_free(v, n);
    assert_int_not_equal(target_stop(f->dir, "production-v1-1", &err), FERR_OK);
    assert_true(ctarget_has(f->dir, "production-v1-1"));
}

/* ---- the inputs, through deploy_spec_parse ---- */

static enum ferr_code parse(const char *json, struct ferr *err)
{
    json_error_t jerr;
    json_t *in = json_loads(json, 0, &jerr);
    struct deploy_spec *s = NULL;
    enum ferr_code rc;

    assert_non_null(in);
    ferr_clear(err);
    rc = deploy_spec_parse(in, &s, err);
    deploy_spec_free(s);
    json_decref(in);
    return rc;
}

static void test_ctarget_inputs_accepted(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"reg:5000/a/b@" DIGEST
                           "\", \"container-port\": \"9000\", \"strategy\": "
                           "\"blue-green\", \"proxy\": \"ferry:127.0.0.1:9\","
                           " \"instances\": \"2\"}",
                           &err),
                     FERR_OK);
}

static void test_ctarget_inputs_need_image(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'image' is required by target "
                                    "'container'"));
}

static void test_ctarget_inputs_reject_command(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"a:1\", \"command\": "
                           "\"x\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'command' applies to target "
                                    "'process' only"));
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"a:1\", \"deploy\": "
                           "\"x\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'deploy' applies to target "
                                    "'script' only"));
}

static void test_ctarget_inputs_only_for_container(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"command\": \"x\", "
                           "\"image\": \"a:1\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'image' applies to target "
                                    "'container' only"));
}

static void test_ctarget_inputs_bad_port_and_image(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"a:1\", "
                           "\"container-port\": \"70000\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'container-port'"));
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"A B\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'image'"));
    assert_int_equal(
        parse("{\"environment\": \"p\", \"target\": \"vm\"}", &err),
        FERR_INVALID);
    assert_non_null(strstr(err.msg, "(process, container, script)"));
}

static void test_ctarget_inputs_credentials(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"r:5000/a:1\", "
                           "\"username\": \"u\", \"password\": \"pw\"}",
                           &err),
                     FERR_OK);
    assert_int_equal(parse("{\"environment\": \"p\", \"target\": "
                           "\"container\", \"image\": \"r:5000/a:1\", "
                           "\"password\": \"pw\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "inputs 'username' and 'password' go "
                                    "together"));
    assert_int_equal(parse("{\"environment\": \"p\", \"command\": \"x\", "
                           "\"username\": \"u\", \"password\": \"pw\"}",
                           &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "input 'username' applies to target "
                                    "'container' only"));
}

static void test_ctarget_credentials_set_and_forget(void **state)
{
    (void)state;
    /* copies: the caller's buffers may go at once; forgetting twice and
     * replacing are fine (ASan checks the frees) */
    {
        char u[] = "user", p[] = "secret";

        ctarget_set_credentials(u, p);
        memset(p, 0, sizeof(p));
    }
    ctarget_set_credentials("other", "pw2");
    ctarget_set_credentials(NULL, NULL);
    ctarget_set_credentials(NULL, NULL);
    ctarget_set_credentials("only-user", NULL); /* both or nothing */
    ctarget_set_credentials(NULL, NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_ctarget_check_image_accepts_refs),
        cmocka_unit_test(test_ctarget_check_image_rejects_bad),
        cmocka_unit_test_setup_teardown(test_ctarget_release_holds_the_spec,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ctarget_release_default_port_and_numbering, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ctarget_is_release_false_for_process, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctarget_has_only_records, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_ctarget_list_without_records,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ctarget_list_keeps_records_without_engine, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctarget_stop_missing_is_ok, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(
            test_ctarget_stop_without_engine_keeps_record, setup, teardown),
        cmocka_unit_test_setup_teardown(
            test_ctarget_start_without_engine_leaves_nothing, setup, teardown),
        cmocka_unit_test_setup_teardown(test_ctarget_target_hooks_list_and_stop,
                                        setup, teardown),
        cmocka_unit_test(test_ctarget_inputs_accepted),
        cmocka_unit_test(test_ctarget_inputs_need_image),
        cmocka_unit_test(test_ctarget_inputs_reject_command),
        cmocka_unit_test(test_ctarget_inputs_only_for_container),
        cmocka_unit_test(test_ctarget_inputs_bad_port_and_image),
        cmocka_unit_test(test_ctarget_inputs_credentials),
        cmocka_unit_test(test_ctarget_credentials_set_and_forget),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
