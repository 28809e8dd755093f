/* shell_test: GitHub's shell names and custom templates to argv. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "exec/shell.h"

static void expect_argv(const char *name, const char *const *want,
                        const char *ext)
{
    struct shell sh;
    struct ferr err;
    char **argv;
    size_t i;

    ferr_clear(&err);
    assert_int_equal(shell_parse(&sh, name, false, NULL, &err), FERR_OK);
    assert_string_equal(sh.ext, ext);
    argv = shell_argv(&sh, "/t/s");
    for (i = 0; want[i]; i++) {
        assert_non_null(argv[i]);
        assert_string_equal(argv[i], want[i]);
    }
    assert_null(argv[i]);
    shell_argv_free(argv);
    shell_release(&sh);
}

static void test_shell_default_is_bash_e(void **state)
{
    (void)state;
    expect_argv(NULL, (const char *const[]){ "bash", "-e", "/t/s", NULL },
                ".sh");
    expect_argv("", (const char *const[]){ "bash", "-e", "/t/s", NULL },
                ".sh");
}

static void test_shell_bash_has_pipefail(void **state)
{
    (void)state;
    expect_argv("bash",
                (const char *const[]){ "bash", "--noprofile", "--norc",
                                       "-eo", "pipefail", "/t/s", NULL },
                ".sh");
}

static void test_shell_known_shells(void **state)
{
    (void)state;
    expect_argv("sh", (const char *const[]){ "sh", "-e", "/t/s", NULL },
                ".sh");
    expect_argv("python", (const char *const[]){ "python3", "/t/s", NULL },
                ".py");
    expect_argv("node", (const char *const[]){ "node", "/t/s", NULL }, ".js");
}

static void test_shell_pwsh_keeps_quoted_word(void **state)
{
    (void)state;
    expect_argv("pwsh",
                (const char *const[]){ "pwsh", "-command", ". '/t/s'", NULL },
                ".ps1");
}

static void test_shell_custom_template_with_quotes(void **state)
{
    (void)state;
    expect_argv("perl -w {0}",
                (const char *const[]){ "perl", "-w", "/t/s", NULL }, ".sh");
    expect_argv("bash -c 'source {0}' \"x y\" a\\\"b",
                (const char *const[]){ "bash", "-c", "source /t/s", "x y",
                                       "a\"b", NULL },
                ".sh");
    expect_argv("cat   --   {0}.txt",
                (const char *const[]){ "cat", "--", "/t/s.txt", NULL }, ".sh");
}

static void test_shell_errors(void **state)
{
    struct shell sh;
    struct ferr err;
    struct pos at = { "w.yml", 4, 9 };

    (void)state;
    ferr_clear(&err);
    assert_int_equal(shell_parse(&sh, "fish", false, &at, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "unknown shell 'fish'"));
    assert_int_equal(err.pos.line, 4);
    assert_null(sh.argv);
    ferr_clear(&err);
    assert_int_equal(shell_parse(&sh, "cmd", false, &at, &err),
                     FERR_UNSUPPORTED);
    ferr_clear(&err);
    assert_int_equal(shell_parse(&sh, NULL, true, &at, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "needs 'shell'"));
    ferr_clear(&err);
    assert_int_equal(shell_parse(&sh, "'' {0}", false, &at, &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "is empty"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_shell_default_is_bash_e),
        cmocka_unit_test(test_shell_bash_has_pipefail),
        cmocka_unit_test(test_shell_known_shells),
        cmocka_unit_test(test_shell_pwsh_keeps_quoted_word),
        cmocka_unit_test(test_shell_custom_template_with_quotes),
        cmocka_unit_test(test_shell_errors),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
