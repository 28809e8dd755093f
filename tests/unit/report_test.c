/* report_test: JUnit, Cobertura, lcov, SARIF and Bandit parsing on real
 * tool output (tests/e2e/reports/, made by pytest, coverage.py and
 * bandit, and Trivy/CodeQL-shaped SARIF) and on hostile input; the
 * coverage and security gates' arithmetic; globs and the workspace
 * scan. */
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
#include <ftw.h>
#include <math.h>

#include "report/report.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* ---------- helpers ---------- */

/* A fixture from tests/e2e/reports (from the repository root, where the
 * tests run, or next to this file).  The caller frees it. */
static char *fixture(const char *name, size_t *out_len)
{
    const char *dirs[] = {"tests/e2e/reports", NULL};
    char here[1024];
    char *data = NULL;
    struct ferr err;

    snprintf(here, sizeof(here), "%s", __FILE__);
    if (strrchr(here, '/'))
        *strrchr(here, '/') = '\0';
    for (size_t i = 0; i < 2; i++) {
        char *p = dirs[i] ? xasprintf("%s/%s", dirs[i], name)
                          : xasprintf("%s/../e2e/reports/%s", here, name);

        ferr_clear(&err);
        if (report_read_file(p, &data, out_len, &err) == FERR_OK) {
            free(p);
            return data;
        }
        free(p);
    }
    fail_msg("fixture '%s' not found", name);
    return NULL;
}

static enum ferr_code junit(const char *src, struct report_tests *t,
                            struct ferr *err)
{
    ferr_clear(err);
    return report_junit_parse("t.xml", span_cstr(src), t, err);
}

static enum ferr_code cov(const char *src, enum report_cov_format f,
                          struct report_coverage *c, struct ferr *err)
{
    ferr_clear(err);
    return report_coverage_parse("c", span_cstr(src), f, c, err);
}

static enum ferr_code find(const char *src, enum report_find_format fmt,
                           struct report_findings *f, struct ferr *err)
{
    ferr_clear(err);
    return report_findings_parse("f.json", span_cstr(src), fmt, f, err);
}

static void assert_has(const char *hay, const char *needle)
{
    if (!strstr(hay, needle))
        fail_msg("'%s' lacks '%s'", hay, needle);
}

static char *tmpdir(void)
{
    char tmpl[] = "/tmp/report-test.XXXXXX";
    char *d = mkdtemp(tmpl);

    assert_non_null(d);
    return xstrdup(d);
}

static void put(const char *dir, const char *name, const char *text)
{
    char *p = xasprintf("%s/%s", dir, name);
    FILE *f = fopen(p, "w");

    assert_non_null(f);
    fputs(text, f);
    fclose(f);
    free(p);
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
    (void)st;
    (void)flag;
    (void)ftw;
    return remove(path);
}

static void rm_rf(const char *dir)
{
    assert_int_equal(nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

/* ---------- JUnit ---------- */

static void test_report_junit_pytest_real(void **state)
{
    size_t len;
    char *src = fixture("pytest-junit.xml", &len);
    struct report_tests t;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        report_junit_parse("junit.xml", span_of(src, len), &t, &err), FERR_OK);
    assert_int_equal(t.tests, 5);
    assert_int_equal(t.failures, 2);
    assert_int_equal(t.errors, 0);
    assert_int_equal(t.skipped, 1);
    assert_true(t.time_s > 0.04 && t.time_s < 0.06);
    assert_int_equal(t.nfailed, 2);
    assert_string_equal(t.failed[0].suite, "tests.test_calc");
    assert_string_equal(t.failed[0].name, "test_fails");
    assert_string_equal(t.failed[0].message, "AssertionError: math is broken");
    assert_string_equal(t.failed[1].name, "test_error");
    assert_string_equal(t.failed[1].message, "ZeroDivisionError: b is zero");
    free(src);
}

static void test_report_junit_nested_suites(void **state)
{
    /* Jest/Surefire style: suites in suites, no classname */
    const char *src =
        "<?xml version=\"1.0\"?>\n"
        "<testsuites name=\"jest tests\" tests=\"3\" failures=\"1\">\n"
        " <testsuite name=\"outer\" tests=\"3\" time=\"1.5\">\n"
        "  <testsuite name=\"inner\" time=\"1.0\">\n"
        "   <testcase name=\"adds\" time=\"0.2\"/>\n"
        "   <testcase name=\"divides\" time=\"0.3\">\n"
        "    <failure>expected 2\n   got 3</failure>\n"
        "   </testcase>\n"
        "  </testsuite>\n"
        "  <testcase name=\"top\" classname=\"Top\"><skipped/></testcase>\n"
        " </testsuite>\n"
        "</testsuites>\n";
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(junit(src, &t, &err), FERR_OK);
    assert_int_equal(t.tests, 3);
    assert_int_equal(t.failures, 1);
    assert_int_equal(t.skipped, 1);
    assert_true(fabs(t.time_s - 1.5) < 1e-9); /* outermost suite */
    assert_int_equal(t.nfailed, 1);
    assert_string_equal(t.failed[0].suite, "inner");
    assert_string_equal(t.failed[0].message, "expected 2");
}

static void test_report_junit_counts_from_attributes(void **state)
{
    const char *src =
        "<testsuites>"
        "<testsuite name=\"a\" tests=\"10\" failures=\"2\" errors=\"1\" "
        "skipped=\"3\" time=\"1,234.5\"/>"
        "<testsuite name=\"b\" tests=\"5\" failures=\"0\" errors=\"0\" "
        "skip=\"1\"/>"
        "</testsuites>";
    const char *root = "<testsuites tests=\"7\" failures=\"1\"/>";
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(junit(src, &t, &err), FERR_OK);
    assert_int_equal(t.tests, 15);
    assert_int_equal(t.failures, 2);
    assert_int_equal(t.errors, 1);
    assert_int_equal(t.skipped, 4);
    assert_true(fabs(t.time_s - 1234.5) < 1e-9);
    assert_int_equal(junit(root, &t, &err), FERR_OK);
    assert_int_equal(t.tests, 7);
    assert_int_equal(t.failures, 1);
}

static void test_report_junit_error_message_from_text(void **state)
{
    const char *src =
        "<testsuite name=\"s\">"
        "<testcase classname=\"m\" name=\"t1\" file=\"tests/t.py\" "
        "line=\"12\"><error type=\"ImportError\">\n\n  Traceback (most "
        "recent call last):\n more</error></testcase>"
        "<testcase classname=\"m\" name=\"t2\"><error type=\"OSError\"/>"
        "</testcase>"
        "<testcase classname=\"m\" name=\"t3\"><error message=\"boom\"/>"
        "<failure message=\"assert\"/></testcase>"
        "</testsuite>";
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(junit(src, &t, &err), FERR_OK);
    assert_int_equal(t.tests, 3);
    assert_int_equal(t.errors, 2);
    assert_int_equal(t.failures, 1); /* t3: a failure wins */
    assert_int_equal(t.nfailed, 3);
    assert_string_equal(t.failed[0].message,
                        "Traceback (most recent call last):");
    assert_string_equal(t.failed[0].file, "tests/t.py");
    assert_int_equal(t.failed[0].line, 12);
    assert_true(t.failed[0].error);
    assert_string_equal(t.failed[1].message, "OSError");
    assert_string_equal(t.failed[2].message, "assert");
    assert_false(t.failed[2].error);
}

static void test_report_junit_not_junit(void **state)
{
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(junit("<coverage line-rate=\"1\"/>", &t, &err),
                     FERR_INVALID);
    assert_has(err.msg, "not a JUnit report");
    assert_has(err.msg, "<coverage>");
    assert_int_equal(junit("", &t, &err), FERR_PARSE);
    assert_int_equal(junit("   ", &t, &err), FERR_PARSE);
}

static void test_report_junit_truncated(void **state)
{
    size_t len;
    char *src = fixture("pytest-junit.xml", &len);
    struct report_tests t;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        report_junit_parse("junit.xml", span_of(src, len / 2), &t, &err),
        FERR_PARSE);
    assert_string_equal(err.pos.file, "junit.xml");
    assert_true(err.pos.line >= 1);
    assert_has(err.msg, "malformed XML");
    assert_int_equal(t.tests, 0); /* zeroed on error */
    assert_int_equal(junit("<testsuite><testcase></testsuite>", &t, &err),
                     FERR_PARSE);
    assert_has(err.msg, "mismatched tag");
    free(src);
}

static void test_report_junit_billion_laughs_refused(void **state)
{
    const char *src =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE lolz [\n"
        " <!ENTITY lol \"lol\">\n"
        " <!ENTITY lol2 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">\n"
        " <!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">\n"
        "]>\n"
        "<testsuite name=\"&lol3;\"/>\n";
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(junit(src, &t, &err), FERR_PARSE);
    assert_has(err.msg, "DOCTYPE");
    assert_int_equal(err.pos.line, 2);
}

static void test_report_junit_external_entity_refused(void **state)
{
    const char *xxe = "<!DOCTYPE t [<!ENTITY x SYSTEM \"file:///etc/passwd\">]>"
                      "<testsuite name=\"&x;\"/>";
    const char *undeclared = "<testsuite name=\"&x;\"/>";
    const char *ext_only =
        "<!DOCTYPE testsuite SYSTEM \"http://example.invalid/junit.dtd\">"
        "<testsuite><testcase name=\"a\"/></testsuite>";
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(junit(xxe, &t, &err), FERR_PARSE);
    assert_has(err.msg, "DOCTYPE");
    assert_int_equal(junit(undeclared, &t, &err), FERR_PARSE);
    /* an external DTD alone is never fetched and does no harm */
    assert_int_equal(junit(ext_only, &t, &err), FERR_OK);
    assert_int_equal(t.tests, 1);
}

static void test_report_junit_deep_nesting(void **state)
{
    struct buf b;
    struct report_tests t;
    struct ferr err;

    (void)state;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "<testsuites>"), FERR_OK);
    for (unsigned i = 0; i < LIM_XML_DEPTH + 10; i++)
        assert_int_equal(buf_adds(&b, "<testsuite>"), FERR_OK);
    assert_int_equal(junit(buf_cstr(&b), &t, &err), FERR_LIMIT);
    assert_has(err.msg, "nested deeper");
    buf_release(&b);
}

static void test_report_junit_bad_counts(void **state)
{
    struct report_tests t;
    struct ferr err;

    (void)state;
    assert_int_equal(
        junit("<testsuite tests=\"99999999999999999999999\"/>", &t, &err),
        FERR_LIMIT);
    assert_has(err.msg, "'tests'");
    assert_int_equal(junit("<testsuite tests=\"2000000000000\"/>", &t, &err),
                     FERR_LIMIT);
    assert_int_equal(junit("<testsuite failures=\"-1\"/>", &t, &err),
                     FERR_INVALID);
    assert_has(err.msg, "attribute 'failures' of <testsuite> is not a count");
    assert_int_equal(junit("<testsuite errors=\"1e3\"/>", &t, &err),
                     FERR_INVALID);
    /* a time is informative: junk reads as 0 */
    assert_int_equal(junit("<testsuite time=\"-5\" tests=\"1\"/>", &t, &err),
                     FERR_OK);
    assert_true(t.time_s == 0);
}

static void test_report_junit_cuts_text_at_utf8_boundary(void **state)
{
    struct buf b;
    struct report_tests t;
    struct ferr err;

    (void)state;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "<testsuite><testcase name=\"x\">"
                                  "<failure message=\""),
                     FERR_OK);
    for (int i = 0; i < 150; i++)
        assert_int_equal(buf_adds(&b, "\xC3\xA9"), FERR_OK); /* é */
    assert_int_equal(buf_adds(&b, "\"/></testcase></testsuite>"), FERR_OK);
    assert_int_equal(junit(buf_cstr(&b), &t, &err), FERR_OK);
    assert_int_equal(strlen(t.failed[0].message), REPORT_TEXT_MAX);
    buf_release(&b);
}

static void test_report_junit_keeps_first_failed(void **state)
{
    struct buf b;
    struct report_tests t, sum;
    struct ferr err;

    (void)state;
    buf_init(&b, 1 << 20);
    assert_int_equal(buf_adds(&b, "<testsuite>"), FERR_OK);
    for (int i = 0; i < 30; i++)
        assert_int_equal(buf_addf(&b,
                                  "<testcase name=\"t%d\"><failure "
                                  "message=\"m%d\"/></testcase>",
                                  i, i),
                         FERR_OK);
    assert_int_equal(buf_adds(&b, "</testsuite>"), FERR_OK);
    assert_int_equal(junit(buf_cstr(&b), &t, &err), FERR_OK);
    assert_int_equal(t.failures, 30);
    assert_int_equal(t.nfailed, REPORT_FAILED_MAX);
    assert_string_equal(t.failed[19].name, "t19");
    memset(&sum, 0, sizeof(sum));
    report_tests_add(&sum, &t);
    report_tests_add(&sum, &t);
    assert_int_equal(sum.tests, 60);
    assert_int_equal(sum.failures, 60);
    assert_int_equal(sum.nfailed, REPORT_FAILED_MAX);
    buf_release(&b);
}

static void test_report_tests_json_shape(void **state)
{
    struct report_tests t;
    struct ferr err;
    json_t *o;
    char *s;

    (void)state;
    assert_int_equal(
        junit("<testsuite time=\"0.0421\"><testcase classname=\"c\" "
              "name=\"n\"><failure message=\"why\"/></testcase>"
              "<testcase name=\"ok\"/></testsuite>",
              &t, &err),
        FERR_OK);
    o = report_tests_json(&t, "junit.xml");
    s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    assert_string_equal(
        s, "{\"kind\":\"tests\",\"file\":\"junit.xml\",\"tests\":2,"
           "\"failures\":1,\"errors\":0,\"skipped\":0,\"time_s\":0.042,"
           "\"failed\":[{\"suite\":\"c\",\"name\":\"n\",\"message\":\"why\"}]"
           "}");
    free(s);
    json_decref(o);
}

/* ---------- coverage ---------- */

static void test_report_cobertura_real(void **state)
{
    size_t len;
    char *src = fixture("coverage-py.xml", &len);
    struct report_coverage c;
    struct ferr err;
    char pct[16];

    (void)state;
    ferr_clear(&err);
    assert_int_equal(report_coverage_parse("coverage.xml", span_of(src, len),
                                           REPORT_COV_AUTO, &c, &err),
                     FERR_OK);
    assert_int_equal(c.format, REPORT_COV_COBERTURA);
    assert_int_equal(c.lines_valid, 13);
    assert_int_equal(c.lines_covered, 9);
    assert_int_equal(c.branches_valid, 4);
    assert_int_equal(c.branches_covered, 2);
    assert_string_equal(report_percent(c.line_rate, pct), "69.2");
    free(src);
}

static void test_report_cobertura_counts_class_lines(void **state)
{
    /* no totals on the root: count <class><lines><line>, not the
     * <method> copies */
    const char *src =
        "<?xml version=\"1.0\"?>\n"
        "<!DOCTYPE coverage SYSTEM "
        "\"http://cobertura.sourceforge.net/xml/coverage-04.dtd\">\n"
        "<coverage line-rate=\"0.5\" version=\"1.9\">\n"
        " <packages><package name=\"p\"><classes>\n"
        "  <class name=\"A\" filename=\"A.java\">\n"
        "   <methods><method name=\"f\"><lines>\n"
        "    <line number=\"1\" hits=\"0\"/>\n"
        "   </lines></method></methods>\n"
        "   <lines>\n"
        "    <line number=\"1\" hits=\"0\"/>\n"
        "    <line number=\"2\" hits=\"3\" branch=\"true\" "
        "condition-coverage=\"50% (1/2)\"/>\n"
        "    <line number=\"3\" hits=\"12345678901\"/>\n"
        "    <line number=\"4\" hits=\"0\" branch=\"true\" "
        "condition-coverage=\"junk\"/>\n"
        "   </lines>\n"
        "  </class>\n"
        " </classes></package></packages>\n"
        "</coverage>\n";
    struct report_coverage c;
    struct ferr err;

    (void)state;
    assert_int_equal(cov(src, REPORT_COV_COBERTURA, &c, &err), FERR_OK);
    assert_int_equal(c.lines_valid, 4);
    assert_int_equal(c.lines_covered, 2);
    assert_int_equal(c.branches_valid, 2);
    assert_int_equal(c.branches_covered, 1);
    assert_true(fabs(c.line_rate - 0.5) < 1e-12);
}

static void test_report_cobertura_invalid(void **state)
{
    struct report_coverage c;
    struct ferr err;

    (void)state;
    assert_int_equal(cov("<coverage lines-valid=\"5\" lines-covered=\"6\"/>",
                         REPORT_COV_AUTO, &c, &err),
                     FERR_INVALID);
    assert_has(err.msg, "lines-covered (6) is more than lines-valid (5)");
    assert_int_equal(
        cov("<coverage line-rate=\"1.5\"/>", REPORT_COV_AUTO, &c, &err),
        FERR_INVALID);
    assert_has(err.msg, "line-rate");
    assert_int_equal(
        cov("<coverage lines-valid=\"-3\"/>", REPORT_COV_AUTO, &c, &err),
        FERR_INVALID);
    assert_int_equal(cov("<testsuite/>", REPORT_COV_AUTO, &c, &err),
                     FERR_INVALID);
    assert_has(err.msg, "not a Cobertura report");
    assert_int_equal(cov("<coverage><packages>", REPORT_COV_AUTO, &c, &err),
                     FERR_PARSE);
    assert_int_equal(cov("<!DOCTYPE c [<!ENTITY a \"aaaa\">]><coverage/>",
                         REPORT_COV_AUTO, &c, &err),
                     FERR_PARSE);
    assert_has(err.msg, "DOCTYPE");
    assert_int_equal(c.lines_valid, 0);
}

static void test_report_lcov_real(void **state)
{
    size_t len;
    char *src = fixture("coverage-py.info", &len);
    struct report_coverage c;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(report_coverage_parse("lcov.info", span_of(src, len),
                                           REPORT_COV_AUTO, &c, &err),
                     FERR_OK);
    assert_int_equal(c.format, REPORT_COV_LCOV);
    assert_int_equal(c.lines_valid, 13);
    assert_int_equal(c.lines_covered, 9);
    assert_int_equal(c.branches_valid, 4);
    assert_int_equal(c.branches_covered, 2);
    free(src);
}

static void test_report_lcov_dedups_da_lines(void **state)
{
    /* coverage.py once wrote LF:3 LH:4 over four DA lines; a line named
     * twice (two test names merged) counts once */
    const char *src = "TN:\n"
                      "SF:a.py\n"
                      "DA:1,1,abc\n"
                      "DA:2,0\n"
                      "DA:2,5\n"
                      "DA:3,0\n"
                      "DA:4,99999999999999999999999\n"
                      "LF:3\n"
                      "LH:4\n"
                      "BRDA:2,0,0,-\n"
                      "BRDA:2,0,1,3\n"
                      "BRDA:3,e0,0,0\n"
                      "BRF:9\n"
                      "BRH:9\n"
                      "end_of_record\n";
    struct report_coverage c;
    struct ferr err;

    (void)state;
    assert_int_equal(cov(src, REPORT_COV_AUTO, &c, &err), FERR_OK);
    assert_int_equal(c.lines_valid, 4);
    assert_int_equal(c.lines_covered, 3);
    assert_int_equal(c.branches_valid, 3);
    assert_int_equal(c.branches_covered, 1);
}

static void test_report_lcov_summary_lines(void **state)
{
    /* records with LF/LH only (and a missing end_of_record, and CRLF) */
    const char *src = "VER:2.0\r\n"
                      "SF:a.c\r\nFN:3,main\r\nFNDA:1,main\r\nFNF:1\r\n"
                      "LF:10\r\nLH:7\r\nBRF:4\r\nBRH:1\r\nend_of_record\r\n"
                      "SF:b.c\r\nLF:5\r\nLH:9\r\n";
    struct report_coverage c;
    struct ferr err;

    (void)state;
    assert_int_equal(cov(src, REPORT_COV_LCOV, &c, &err), FERR_OK);
    assert_int_equal(c.lines_valid, 15);
    assert_int_equal(c.lines_covered, 12); /* LH clamped to LF */
    assert_int_equal(c.branches_valid, 4);
    assert_int_equal(c.branches_covered, 1);
    assert_true(fabs(c.line_rate - 12.0 / 15.0) < 1e-12);
}

static void test_report_lcov_bad_lines(void **state)
{
    struct report_coverage c;
    struct ferr err;

    (void)state;
    assert_int_equal(cov("SF:a\nDA:1,1\nDA:x,1\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_int_equal(err.pos.line, 3);
    assert_has(err.msg, "DA line is not a number");
    assert_int_equal(cov("SF:a\nDA:1\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_has(err.msg, "DA needs");
    assert_int_equal(cov("SF:a\nthis is prose\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_has(err.msg, "not an lcov line");
    assert_int_equal(cov("SF:a\nda x:1\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_int_equal(cov("SF:a\nDA:1,-4\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_has(err.msg, "negative");
    assert_int_equal(cov("SF:a\nLF:-1\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_int_equal(cov("SF:a\nBRDA:1,0,0\n", REPORT_COV_LCOV, &c, &err),
                     FERR_PARSE);
    assert_int_equal(
        cov("SF:a\nLF:99999999999999999999\n", REPORT_COV_LCOV, &c, &err),
        FERR_LIMIT);
    assert_int_equal(cov("SF:a\nLF:2000000000000\n", REPORT_COV_LCOV, &c, &err),
                     FERR_LIMIT);
    assert_int_equal(c.lines_valid, 0);
}

static void test_report_coverage_detect(void **state)
{
    struct report_coverage c;
    struct ferr err;

    (void)state;
    assert_int_equal(report_coverage_detect(SPAN_LIT("\xEF\xBB\xBF  <?xml")),
                     REPORT_COV_COBERTURA);
    assert_int_equal(report_coverage_detect(SPAN_LIT("TN:\nSF:x\n")),
                     REPORT_COV_LCOV);
    assert_int_equal(report_coverage_detect(SPAN_LIT("{\"a\":1}")),
                     REPORT_COV_AUTO);
    assert_int_equal(report_coverage_detect(SPAN_LIT("")), REPORT_COV_AUTO);
    assert_int_equal(cov("{\"totals\":{}}", REPORT_COV_AUTO, &c, &err),
                     FERR_INVALID);
    assert_has(err.msg, "neither Cobertura XML nor lcov");
}

static void test_report_coverage_format_parse(void **state)
{
    enum report_cov_format f;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(report_cov_format_parse("LCOV", &f, &err), FERR_OK);
    assert_int_equal(f, REPORT_COV_LCOV);
    assert_int_equal(report_cov_format_parse("jacoco", &f, &err), FERR_INVALID);
    assert_has(err.msg, "'jacoco'");
}

static void test_report_min_parse(void **state)
{
    double m;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(report_min_parse("70", &m, &err), FERR_OK);
    assert_true(fabs(m - 0.70) < 1e-12);
    assert_int_equal(report_min_parse(" 70.5% ", &m, &err), FERR_OK);
    assert_true(fabs(m - 0.705) < 1e-12);
    assert_int_equal(report_min_parse("0", &m, &err), FERR_OK);
    assert_int_equal(report_min_parse("100", &m, &err), FERR_OK);
    assert_int_equal(report_min_parse("101", &m, &err), FERR_INVALID);
    assert_int_equal(report_min_parse("-1", &m, &err), FERR_INVALID);
    assert_int_equal(report_min_parse("seventy", &m, &err), FERR_INVALID);
    assert_int_equal(report_min_parse("%", &m, &err), FERR_INVALID);
    assert_int_equal(report_min_parse("nan", &m, &err), FERR_INVALID);
    assert_int_equal(report_min_parse("70abc", &m, &err), FERR_INVALID);
}

static void test_report_coverage_gate(void **state)
{
    struct report_coverage c;
    char pct[16];

    (void)state;
    memset(&c, 0, sizeof(c));
    c.lines_valid = 10;
    c.lines_covered = 7;
    c.line_rate = 0.7;
    assert_true(report_coverage_passes(&c, 0.70)); /* equal passes */
    assert_false(report_coverage_passes(&c, 0.7001));
    c.lines_valid = 10000;
    c.lines_covered = 6999;
    c.line_rate = 0.6999;
    assert_false(report_coverage_passes(&c, 0.70));
    /* never shows as reaching a minimum it misses */
    assert_string_equal(report_percent(0.6999, pct), "69.9");
    assert_string_equal(report_percent(0.29, pct), "29.0");
    assert_string_equal(report_percent(1.0, pct), "100.0");
    assert_string_equal(report_percent(0.0, pct), "0.0");
    assert_string_equal(report_percent(NAN, pct), "0.0");
    /* no lines at all: the report's own rate decides */
    memset(&c, 0, sizeof(c));
    assert_false(report_coverage_passes(&c, 0.1));
    assert_true(report_coverage_passes(&c, 0));
}

static void test_report_coverage_json_shape(void **state)
{
    struct report_coverage c;
    struct ferr err;
    double min = 0.7;
    json_t *o;
    char *s;

    (void)state;
    assert_int_equal(cov("SF:a\nDA:1,1\nDA:2,0\nDA:3,1\nend_of_record\n",
                         REPORT_COV_AUTO, &c, &err),
                     FERR_OK);
    o = report_coverage_json(&c, "lcov.info", &min);
    s = json_dumps(o, JSON_COMPACT | JSON_REAL_PRECISION(10));
    assert_string_equal(s, "{\"kind\":\"coverage\",\"file\":\"lcov.info\","
                           "\"format\":\"lcov\",\"lines_valid\":3,"
                           "\"lines_covered\":2,\"line_rate\":0.6667,"
                           "\"branches_valid\":0,\"branches_covered\":0,"
                           "\"min\":0.7,\"passed\":false}");
    free(s);
    json_decref(o);
    o = report_coverage_json(&c, "lcov.info", NULL);
    assert_true(json_is_null(json_object_get(o, "min")));
    assert_true(json_is_true(json_object_get(o, "passed")));
    json_decref(o);
}

/* ---------- findings ---------- */

static void test_report_sarif_trivy(void **state)
{
    size_t len;
    char *src = fixture("trivy.sarif", &len);
    struct report_findings f;
    struct ferr err;

    (void)state;
    report_findings_init(&f);
    ferr_clear(&err);
    assert_int_equal(report_findings_parse("trivy.sarif", span_of(src, len),
                                           REPORT_FIND_AUTO, &f, &err),
                     FERR_OK);
    assert_int_equal(f.format, REPORT_FIND_SARIF);
    assert_int_equal(f.total, 5);
    assert_int_equal(f.by_severity[REPORT_SEV_CRITICAL], 1); /* 9.5 */
    assert_int_equal(f.by_severity[REPORT_SEV_HIGH], 2);     /* 7.5 8.0 */
    assert_int_equal(f.by_severity[REPORT_SEV_MEDIUM], 2);   /* 6.1 5.9 */
    assert_int_equal(f.by_severity[REPORT_SEV_LOW], 0);
    assert_int_equal(f.n, 5);
    assert_string_equal(f.v[1].rule, "CVE-2022-42969");
    assert_string_equal(f.v[1].file, "requirements.txt");
    assert_int_equal(f.v[1].line, 5);
    assert_has(f.v[1].message, "Package: py\nInstalled Version: 1.11.0");
    report_findings_release(&f);
    free(src);
}

static void test_report_sarif_codeql(void **state)
{
    size_t len;
    char *src = fixture("codeql.sarif", &len);
    struct report_findings f;
    struct ferr err;

    (void)state;
    report_findings_init(&f);
    ferr_clear(&err);
    assert_int_equal(report_findings_parse("codeql.sarif", span_of(src, len),
                                           REPORT_FIND_SARIF, &f, &err),
                     FERR_OK);
    /* rules in tool.extensions[0], picked by rule.toolComponent.index */
    assert_int_equal(f.total, 4);
    assert_int_equal(f.suppressed, 1);
    assert_int_equal(f.by_severity[REPORT_SEV_CRITICAL], 1); /* 9.8 */
    assert_int_equal(f.by_severity[REPORT_SEV_HIGH], 1);     /* 7.5 */
    assert_int_equal(f.by_severity[REPORT_SEV_MEDIUM], 1);   /* 5.4 */
    assert_int_equal(f.by_severity[REPORT_SEV_LOW], 1);      /* note, no cvss */
    assert_string_equal(f.v[0].rule, "py/command-line-injection");
    assert_string_equal(f.v[0].file, "app/views.py");
    assert_int_equal(f.v[0].line, 21);
    /* a location by artifact index only */
    assert_string_equal(f.v[1].file, "app/util.py");
    assert_int_equal(f.v[1].line, 40);
    report_findings_release(&f);
    free(src);
}

static void test_report_sarif_levels(void **state)
{
    const char *src =
        "{\"version\":\"2.1.0\",\"runs\":[{\"tool\":{\"driver\":{"
        "\"name\":\"x\",\"rules\":["
        "{\"id\":\"R0\",\"defaultConfiguration\":{\"level\":\"error\"}},"
        "{\"id\":\"R1\",\"properties\":{\"security-severity\":\"high\"},"
        "\"defaultConfiguration\":{\"level\":\"note\"}},"
        "{\"id\":\"R2\",\"properties\":{\"security-severity\":9.0}},"
        "{\"id\":\"R3\",\"properties\":{\"security-severity\":\"0.0\"}}"
        "]}},\"results\":["
        "{\"ruleId\":\"R0\",\"message\":{\"text\":\"by rule default\"}},"
        "{\"ruleId\":\"R1\",\"message\":{\"text\":\"bad score: level\"}},"
        "{\"ruleId\":\"R2\",\"level\":\"note\",\"message\":{\"text\":\"c\"}},"
        "{\"ruleId\":\"R3\",\"level\":\"error\",\"message\":{\"text\":\"0\"}},"
        "{\"ruleId\":\"X\",\"level\":\"warning\",\"message\":{\"text\":\"w\"}},"
        "{\"ruleId\":\"X\",\"message\":{\"text\":\"default warning\"}},"
        "{\"ruleId\":\"X\",\"level\":\"none\",\"message\":{\"text\":\"n\"}},"
        "{\"ruleId\":\"X\",\"kind\":\"pass\",\"level\":\"error\","
        "\"message\":{\"text\":\"passed\"}},"
        "{\"ruleId\":\"X\",\"kind\":\"fail\",\"level\":\"error\","
        "\"message\":{\"text\":\"f\"},\"suppressions\":[{\"kind\":"
        "\"external\",\"status\":\"rejected\"}]}"
        "]}]}";
    struct report_findings f;
    struct ferr err;

    (void)state;
    report_findings_init(&f);
    assert_int_equal(find(src, REPORT_FIND_AUTO, &f, &err), FERR_OK);
    assert_int_equal(f.total, 6);
    assert_int_equal(f.by_severity[REPORT_SEV_CRITICAL], 1); /* R2 9.0 */
    assert_int_equal(f.by_severity[REPORT_SEV_HIGH], 2);     /* R0, last X */
    assert_int_equal(f.by_severity[REPORT_SEV_MEDIUM], 2);   /* X, X */
    assert_int_equal(f.by_severity[REPORT_SEV_LOW], 1);      /* R1 note */
    assert_int_equal(f.suppressed, 0);
    report_findings_release(&f);
}

static void test_report_sarif_invalid(void **state)
{
    struct report_findings f;
    struct ferr err;
    const char *good =
        "{\"runs\":[{\"results\":[{\"ruleId\":\"A\",\"level\":\"error\","
        "\"message\":{\"text\":\"m\"}}]}]}";

    (void)state;
    report_findings_init(&f);
    assert_int_equal(
        find("{\"version\":\"2.1.0\"}", REPORT_FIND_SARIF, &f, &err),
        FERR_INVALID);
    assert_has(err.msg, "no 'runs' array");
    assert_int_equal(find("{\"version\":\"2.1.0\",\"runs\":{}}",
                          REPORT_FIND_SARIF, &f, &err),
                     FERR_INVALID);
    assert_int_equal(find("{\"version\":\"1.0.0\",\"runs\":[]}",
                          REPORT_FIND_SARIF, &f, &err),
                     FERR_INVALID);
    assert_has(err.msg, "version '1.0.0'");
    assert_int_equal(
        find("{\"runs\":[{\"results\":{}}]}", REPORT_FIND_SARIF, &f, &err),
        FERR_INVALID);
    assert_int_equal(find("{\"runs\":[7]}", REPORT_FIND_SARIF, &f, &err),
                     FERR_INVALID);
    assert_int_equal(
        find("{\"runs\":[{\"results\":[", REPORT_FIND_SARIF, &f, &err),
        FERR_PARSE);
    assert_int_equal(err.pos.line, 1);
    assert_string_equal(err.pos.file, "f.json");
    assert_int_equal(find("[1,2]", REPORT_FIND_AUTO, &f, &err), FERR_INVALID);
    assert_int_equal(find("{\"a\":1}", REPORT_FIND_AUTO, &f, &err),
                     FERR_INVALID);
    /* a run without results (the tool did not analyse) is fine */
    assert_int_equal(
        find("{\"runs\":[{\"tool\":{}}]}", REPORT_FIND_SARIF, &f, &err),
        FERR_OK);
    assert_int_equal(f.total, 0);
    /* a good report, then a bad one: the first one's findings stay */
    assert_int_equal(find(good, REPORT_FIND_SARIF, &f, &err), FERR_OK);
    assert_int_equal(
        find("{\"runs\":[{\"results\":[{\"ruleId\":\"B\",\"level\":\"error\"},"
             "3]}]}",
             REPORT_FIND_SARIF, &f, &err),
        FERR_INVALID);
    assert_int_equal(f.total, 1);
    assert_int_equal(f.n, 1);
    assert_int_equal(f.by_severity[REPORT_SEV_HIGH], 1);
    assert_string_equal(f.v[0].rule, "A");
    report_findings_release(&f);
}

static void test_report_bandit_real(void **state)
{
    size_t len;
    char *src = fixture("bandit.json", &len);
    struct report_findings f;
    struct ferr err;

    (void)state;
    report_findings_init(&f);
    ferr_clear(&err);
    assert_int_equal(report_findings_parse("bandit.json", span_of(src, len),
                                           REPORT_FIND_AUTO, &f, &err),
                     FERR_OK);
    assert_int_equal(f.format, REPORT_FIND_BANDIT);
    assert_int_equal(f.total, 2);
    assert_int_equal(f.by_severity[REPORT_SEV_HIGH], 1);
    assert_int_equal(f.by_severity[REPORT_SEV_LOW], 1);
    assert_int_equal(report_findings_at_least(&f, REPORT_SEV_HIGH), 1);
    assert_int_equal(report_findings_at_least(&f, REPORT_SEV_LOW), 2);
    assert_string_equal(f.v[1].rule, "B602");
    assert_string_equal(f.v[1].file, "app/calc.py");
    assert_int_equal(f.v[1].line, 21);
    assert_has(f.v[1].message, "shell=True");
    report_findings_release(&f);
    free(src);
}

static void test_report_bandit_invalid(void **state)
{
    struct report_findings f;
    struct ferr err;

    (void)state;
    report_findings_init(&f);
    assert_int_equal(find("{\"errors\":[]}", REPORT_FIND_BANDIT, &f, &err),
                     FERR_INVALID);
    assert_has(err.msg, "no 'results' array");
    assert_int_equal(find("{\"results\":[{\"filename\":\"a.py\"}]}",
                          REPORT_FIND_BANDIT, &f, &err),
                     FERR_INVALID);
    assert_has(err.msg, "issue_severity");
    assert_int_equal(find("{\"results\":[{\"issue_severity\":\"UNDEFINED\","
                          "\"test_id\":\"B1\"},{\"issue_severity\":\"medium\","
                          "\"line_number\":-4}]}",
                          REPORT_FIND_BANDIT, &f, &err),
                     FERR_OK);
    assert_int_equal(f.total, 1);
    assert_int_equal(f.by_severity[REPORT_SEV_MEDIUM], 1);
    assert_int_equal(f.v[0].line, 0);
    assert_string_equal(f.v[0].rule, "finding");
    report_findings_release(&f);
}

static void test_report_severity_from_cvss(void **state)
{
    (void)state;
    assert_int_equal(report_severity_from_cvss(10.0), REPORT_SEV_CRITICAL);
    assert_int_equal(report_severity_from_cvss(9.0), REPORT_SEV_CRITICAL);
    assert_int_equal(report_severity_from_cvss(8.99), REPORT_SEV_HIGH);
    assert_int_equal(report_severity_from_cvss(7.0), REPORT_SEV_HIGH);
    assert_int_equal(report_severity_from_cvss(6.9), REPORT_SEV_MEDIUM);
    assert_int_equal(report_severity_from_cvss(4.0), REPORT_SEV_MEDIUM);
    assert_int_equal(report_severity_from_cvss(3.9), REPORT_SEV_LOW);
    assert_int_equal(report_severity_from_cvss(0.1), REPORT_SEV_LOW);
    assert_int_equal(report_severity_from_cvss(0.0), REPORT_SEV_NONE);
    assert_int_equal(report_severity_from_cvss(-1.0), REPORT_SEV_NONE);
    assert_int_equal(report_severity_from_cvss(NAN), REPORT_SEV_NONE);
}

static void test_report_severity_parse(void **state)
{
    enum report_severity s;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(report_severity_parse("Critical", &s, &err), FERR_OK);
    assert_int_equal(s, REPORT_SEV_CRITICAL);
    assert_int_equal(report_severity_parse("low", &s, &err), FERR_OK);
    assert_int_equal(s, REPORT_SEV_LOW);
    assert_int_equal(report_severity_parse("none", &s, &err), FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(report_severity_parse("severe", &s, &err), FERR_INVALID);
    assert_has(err.msg, "'severe'");
}

static void test_report_gate_thresholds(void **state)
{
    size_t len;
    char *src = fixture("trivy.sarif", &len);
    struct report_findings f;
    struct ferr err;
    json_t *o;
    char *s;

    (void)state;
    report_findings_init(&f);
    ferr_clear(&err);
    assert_int_equal(report_findings_parse("trivy.sarif", span_of(src, len),
                                           REPORT_FIND_SARIF, &f, &err),
                     FERR_OK);
    assert_int_equal(report_findings_at_least(&f, REPORT_SEV_CRITICAL), 1);
    assert_int_equal(report_findings_at_least(&f, REPORT_SEV_HIGH), 3);
    assert_int_equal(report_findings_at_least(&f, REPORT_SEV_MEDIUM), 5);
    assert_int_equal(report_findings_at_least(&f, REPORT_SEV_LOW), 5);
    o = report_findings_json(&f, "trivy.sarif", REPORT_SEV_HIGH, 0);
    s = json_dumps(o, JSON_COMPACT);
    assert_string_equal(
        s, "{\"kind\":\"findings\",\"file\":\"trivy.sarif\",\"format\":"
           "\"sarif\",\"total\":5,\"by_severity\":{\"critical\":1,"
           "\"high\":2,\"medium\":2,\"low\":0},\"threshold\":\"high\","
           "\"blocking\":3,\"passed\":false}");
    free(s);
    json_decref(o);
    o = report_findings_json(&f, "trivy.sarif", REPORT_SEV_HIGH, 3);
    assert_true(json_is_true(json_object_get(o, "passed")));
    json_decref(o);
    o = report_findings_json(&f, "trivy.sarif", REPORT_SEV_CRITICAL, 0);
    assert_int_equal(json_integer_value(json_object_get(o, "blocking")), 1);
    assert_true(json_is_false(json_object_get(o, "passed")));
    json_decref(o);
    report_findings_release(&f);
    free(src);
}

static void test_report_findings_sort_is_stable(void **state)
{
    const char *src = "{\"results\":["
                      "{\"issue_severity\":\"LOW\",\"test_id\":\"L1\"},"
                      "{\"issue_severity\":\"HIGH\",\"test_id\":\"H1\"},"
                      "{\"issue_severity\":\"LOW\",\"test_id\":\"L2\"},"
                      "{\"issue_severity\":\"HIGH\",\"test_id\":\"H2\"},"
                      "{\"issue_severity\":\"MEDIUM\",\"test_id\":\"M1\"}]}";
    const char *want[] = {"H1", "H2", "M1", "L1", "L2"};
    struct report_findings f;
    struct ferr err;

    (void)state;
    report_findings_init(&f);
    assert_int_equal(find(src, REPORT_FIND_AUTO, &f, &err), FERR_OK);
    report_findings_sort(&f);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(f.v[i].rule, want[i]);
    report_findings_release(&f);
}

static void test_report_annotation_escapes(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    assert_int_equal(report_annotation(&b, "error", "dir/a,b:c.py", 7,
                                       "py/x: y", "50% done\r\nnext: a,b"),
                     FERR_OK);
    assert_string_equal(buf_cstr(&b),
                        "::error file=dir/a%2Cb%3Ac.py,line=7,title=py/x%3A "
                        "y::50%25 done%0D%0Anext: a,b\n");
    buf_reset(&b);
    assert_int_equal(report_annotation(&b, "warning", NULL, 3, "T", "m"),
                     FERR_OK);
    assert_string_equal(buf_cstr(&b), "::warning title=T::m\n");
    buf_reset(&b);
    assert_int_equal(report_annotation(&b, "error", NULL, 0, NULL, "m"),
                     FERR_OK);
    assert_string_equal(buf_cstr(&b), "::error::m\n");
    buf_release(&b);
    /* over the buffer's cap: nothing half-written */
    buf_init(&b, 16);
    assert_int_equal(report_annotation(&b, "error", NULL, 0, "title",
                                       "a long message indeed"),
                     FERR_LIMIT);
    assert_int_equal(b.len, 0);
    buf_release(&b);
}

/* ---------- files ---------- */

static void test_report_expand_globs(void **state)
{
    char *d = tmpdir();
    char *sub = xasprintf("%s/results", d);
    char *deep = xasprintf("%s/results/deep", d);
    char *git = xasprintf("%s/.git", d);
    char **v = NULL;
    size_t n = 0;
    struct ferr err;

    (void)state;
    assert_int_equal(mkdir(sub, 0755), 0);
    assert_int_equal(mkdir(deep, 0755), 0);
    assert_int_equal(mkdir(git, 0755), 0);
    put(d, "junit.xml", "x");
    put(d, "results/b.xml", "x");
    put(d, "results/a.xml", "x");
    put(d, "results/skip.xml", "x");
    put(d, "results/notes.txt", "x");
    put(d, "results/deep/c.xml", "x");
    put(d, ".git/d.xml", "x");
    ferr_clear(&err);
    assert_int_equal(report_expand(d,
                                   "results/*.xml, !results/skip.xml\n"
                                   "junit.xml",
                                   &v, &n, &err),
                     FERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0], "junit.xml");
    assert_string_equal(v[1], "results/a.xml");
    assert_string_equal(v[2], "results/b.xml");
    report_paths_free(v, n);
    assert_int_equal(report_expand(d, "**/*.xml", &v, &n, &err), FERR_OK);
    assert_int_equal(n, 5); /* not .git/d.xml */
    assert_string_equal(v[3], "results/deep/c.xml");
    report_paths_free(v, n);
    assert_int_equal(report_expand(d, "missing.xml", &v, &n, &err),
                     FERR_NOTFOUND);
    assert_has(err.msg, "no file 'missing.xml'");
    assert_null(v);
    ferr_clear(&err);
    assert_int_equal(report_expand(d, "nothing/*.xml", &v, &n, &err),
                     FERR_NOTFOUND);
    assert_has(err.msg, "no file matches");
    ferr_clear(&err);
    assert_int_equal(report_expand(d, "results", &v, &n, &err), FERR_NOTFOUND);
    ferr_clear(&err);
    assert_int_equal(report_expand(d, "results/[.xml", &v, &n, &err),
                     FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(report_expand(d, " , \n", &v, &n, &err), FERR_NOTFOUND);
    for (int i = 0; i < 70; i++) {
        char name[64];

        snprintf(name, sizeof(name), "results/deep/m%02d.xml", i);
        put(d, name, "x");
    }
    ferr_clear(&err);
    assert_int_equal(report_expand(d, "results/deep/*.xml", &v, &n, &err),
                     FERR_LIMIT);
    rm_rf(d);
    free(sub);
    free(deep);
    free(git);
    free(d);
}

static void test_report_files_label(void **state)
{
    char *p[] = {"a.xml", "b.xml", "c.xml", "d.xml", "e.xml"};
    char *s;

    (void)state;
    s = report_files_label(p, 1);
    assert_string_equal(s, "a.xml");
    free(s);
    s = report_files_label(p, 3);
    assert_string_equal(s, "a.xml, b.xml, c.xml");
    free(s);
    s = report_files_label(p, 5);
    assert_string_equal(s, "a.xml, b.xml, c.xml and 2 more");
    free(s);
}

static void test_report_scan_conventional_paths(void **state)
{
    char *d = tmpdir();
    char *tr = xasprintf("%s/test-results", d);
    char *cv = xasprintf("%s/coverage", d);
    json_t *out = NULL;
    json_t *reports, *warnings, *t, *c;
    struct ferr err;

    (void)state;
    assert_int_equal(mkdir(tr, 0755), 0);
    assert_int_equal(mkdir(cv, 0755), 0);
    put(d, "junit.xml",
        "<testsuite><testcase name=\"a\"/><testcase name=\"b\">"
        "<failure message=\"no\"/></testcase></testsuite>");
    put(d, "test-results/unit.xml",
        "<testsuite><testcase name=\"c\"/></testsuite>");
    put(d, "test-results/broken.xml", "<testsuite><testcase>");
    put(d, "test-results/readme.txt", "not a report");
    put(d, "coverage.xml", "<coverage><oops");
    put(d, "coverage/cobertura-coverage.xml",
        "<coverage lines-valid=\"10\" lines-covered=\"8\"/>");
    put(d, "lcov.info", "SF:a\nDA:1,1\nend_of_record\n");
    ferr_clear(&err);
    assert_int_equal(report_scan(d, &out, &err), FERR_OK);
    reports = json_object_get(out, "reports");
    warnings = json_object_get(out, "warnings");
    assert_int_equal(json_array_size(reports), 2);
    t = json_array_get(reports, 0);
    assert_string_equal(json_string_value(json_object_get(t, "kind")), "tests");
    assert_int_equal(json_integer_value(json_object_get(t, "tests")), 3);
    assert_int_equal(json_integer_value(json_object_get(t, "failures")), 1);
    assert_string_equal(json_string_value(json_object_get(t, "file")),
                        "junit.xml, test-results/unit.xml");
    c = json_array_get(reports, 1);
    assert_string_equal(json_string_value(json_object_get(c, "file")),
                        "coverage/cobertura-coverage.xml");
    assert_int_equal(json_integer_value(json_object_get(c, "lines_covered")),
                     8);
    assert_true(json_is_null(json_object_get(c, "min")));
    assert_int_equal(json_array_size(warnings), 2);
    assert_has(json_string_value(json_array_get(warnings, 0)),
               "test-results/broken.xml:1:");
    assert_has(json_string_value(json_array_get(warnings, 1)),
               "coverage.xml:1:");
    json_decref(out);
    rm_rf(d);
    free(tr);
    free(cv);
    free(d);
}

static void test_report_scan_empty_and_missing(void **state)
{
    char *d = tmpdir();
    json_t *out = NULL;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(report_scan(d, &out, &err), FERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "reports")), 0);
    assert_int_equal(json_array_size(json_object_get(out, "warnings")), 0);
    json_decref(out);
    rm_rf(d);
    ferr_clear(&err);
    assert_int_equal(report_scan(d, &out, &err), FERR_NOTFOUND);
    assert_null(out);
    free(d);
}


/* A link in the workspace to a file outside it is not read (the scan
 * runs on the host; the job, in a container say, made the link). */
static void test_report_scan_refuses_links_outside(void **state)
{
    char *d = tmpdir();
    char *outside = tmpdir();
    char *ws = xasprintf("%s/ws", d);
    char *target = xasprintf("%s/secret.xml", outside);
    char *link = xasprintf("%s/junit.xml", ws);
    char *dirlink = xasprintf("%s/test-results", ws);
    char *cov = xasprintf("%s/lcov.info", ws);
    json_t *out = NULL;
    json_t *warnings;
    struct ferr err;

    (void)state;
    assert_int_equal(mkdir(ws, 0755), 0);
    put(outside, "secret.xml",
        "<testsuite><testcase name=\"hostsecret\"><failure "
        "message=\"leaked\"/></testcase></testsuite>");
    put(outside, "cov.info", "SF:a\nDA:1,1\nend_of_record\n");
    assert_int_equal(symlink(target, link), 0);
    assert_int_equal(symlink(outside, dirlink), 0);
    free(target);
    target = xasprintf("%s/cov.info", outside);
    assert_int_equal(symlink(target, cov), 0);
    ferr_clear(&err);
    assert_int_equal(report_scan(ws, &out, &err), FERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "reports")), 0);
    warnings = json_object_get(out, "warnings");
    assert_int_equal(json_array_size(warnings), 2);
    assert_has(json_string_value(json_array_get(warnings, 0)),
               "junit.xml: leads outside the workspace");
    assert_has(json_string_value(json_array_get(warnings, 1)),
               "lcov.info: leads outside the workspace");
    json_decref(out);
    /* a link that stays inside is read */
    assert_int_equal(unlink(link), 0);
    put(ws, "real.xml", "<testsuite><testcase name=\"a\"/></testsuite>");
    assert_int_equal(symlink("real.xml", link), 0);
    ferr_clear(&err);
    assert_int_equal(report_scan(ws, &out, &err), FERR_OK);
    assert_int_equal(json_array_size(json_object_get(out, "reports")), 1);
    json_decref(out);
    rm_rf(d);
    rm_rf(outside);
    free(d);
    free(outside);
    free(ws);
    free(target);
    free(link);
    free(dirlink);
    free(cov);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_report_junit_pytest_real),
        cmocka_unit_test(test_report_junit_nested_suites),
        cmocka_unit_test(test_report_junit_counts_from_attributes),
        cmocka_unit_test(test_report_junit_error_message_from_text),
        cmocka_unit_test(test_report_junit_not_junit),
        cmocka_unit_test(test_report_junit_truncated),
        cmocka_unit_test(test_report_junit_billion_laughs_refused),
        cmocka_unit_test(test_report_junit_external_entity_refused),
        cmocka_unit_test(test_report_junit_deep_nesting),
        cmocka_unit_test(test_report_junit_bad_counts),
        cmocka_unit_test(test_report_junit_cuts_text_at_utf8_boundary),
        cmocka_unit_test(test_report_junit_keeps_first_failed),
        cmocka_unit_test(test_report_tests_json_shape),
        cmocka_unit_test(test_report_cobertura_real),
        cmocka_unit_test(test_report_cobertura_counts_class_lines),
        cmocka_unit_test(test_report_cobertura_invalid),
        cmocka_unit_test(test_report_lcov_real),
        cmocka_unit_test(test_report_lcov_dedups_da_lines),
        cmocka_unit_test(test_report_lcov_summary_lines),
        cmocka_unit_test(test_report_lcov_bad_lines),
        cmocka_unit_test(test_report_coverage_detect),
        cmocka_unit_test(test_report_coverage_format_parse),
        cmocka_unit_test(test_report_min_parse),
        cmocka_unit_test(test_report_coverage_gate),
        cmocka_unit_test(test_report_coverage_json_shape),
        cmocka_unit_test(test_report_sarif_trivy),
        cmocka_unit_test(test_report_sarif_codeql),
        cmocka_unit_test(test_report_sarif_levels),
        cmocka_unit_test(test_report_sarif_invalid),
        cmocka_unit_test(test_report_bandit_real),
        cmocka_unit_test(test_report_bandit_invalid),
        cmocka_unit_test(test_report_severity_from_cvss),
        cmocka_unit_test(test_report_severity_parse),
        cmocka_unit_test(test_report_gate_thresholds),
        cmocka_unit_test(test_report_findings_sort_is_stable),
        cmocka_unit_test(test_report_annotation_escapes),
        cmocka_unit_test(test_report_expand_globs),
        cmocka_unit_test(test_report_files_label),
        cmocka_unit_test(test_report_scan_conventional_paths),
        cmocka_unit_test(test_report_scan_empty_and_missing),
        cmocka_unit_test(test_report_scan_refuses_links_outside),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
