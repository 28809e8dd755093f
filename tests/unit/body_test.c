/* body_test: each API body parser on a good body and on every rejection
 * (size, malformed JSON, duplicate keys, non-object, unknown field, wrong
 * type, missing field, per-field rules), plus the name validators. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "server/body.h"
#include "util/limits.h"

#define S(lit) (lit), (sizeof(lit) - 1)

/* ---------- shared rules (through the repo parser) ---------- */

static enum ferr_code repo_err(const char *body, size_t len, struct ferr *err)
{
    struct body_repo b;
    enum ferr_code rc;

    ferr_clear(err);
    rc = body_parse_repo(body, len, &b, err);
    assert_int_not_equal(rc, FERR_OK);
    assert_int_equal(err->code, rc);
    assert_null(b.name);
    assert_null(b.url);
    assert_null(b.default_branch);
    assert_null(b.webhook_secret);
    body_repo_release(&b);
    return rc;
}

static void test_body_malformed_json(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(repo_err(S("{\"name\": \"app\",\n \"url\": }"), &err),
                     FERR_PARSE);
    assert_non_null(strstr(err.msg, "malformed JSON at line 2 col"));
    assert_int_equal(repo_err(S(""), &err), FERR_PARSE);
    assert_int_equal(repo_err(NULL, 0, &err), FERR_PARSE);
    assert_int_equal(repo_err(S("{\"name\":\"app\"} trailing"), &err),
                     FERR_PARSE);
}

static void test_body_duplicate_keys(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"/x\","
                                "\"name\":\"b\"}"),
                              &err),
                     FERR_PARSE);
    assert_non_null(strstr(err.msg, "duplicate"));
}

static void test_body_not_object(void **state)
{
    struct ferr err;
    static const char *const bodies[] = {"[]", "\"x\"", "3", "null", "true"};

    (void)state;
    for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
        assert_int_equal(repo_err(bodies[i], strlen(bodies[i]), &err),
                         FERR_PARSE);
        assert_string_equal(err.msg, "body must be a JSON object");
    }
}

static void test_body_over_limit(void **state)
{
    struct ferr err;
    size_t len = LIM_API_BODY + 1;
    char *big = malloc(len);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', len);
    big[0] = '{';
    big[len - 1] = '}';
    assert_int_equal(repo_err(big, len, &err), FERR_LIMIT);
    assert_string_equal(err.msg, "body is over 1048576 bytes");
    free(big);
}

/* ---------- repo ---------- */

static void test_body_repo_good(void **state)
{
    struct body_repo b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(body_parse_repo(S("{\"name\":\"app-1.x_y\","
                                       "\"url\":\"https://git.example.com/"
                                       "acme/app.git\"}"),
                                     &b, &err),
                     FERR_OK);
    assert_string_equal(b.name, "app-1.x_y");
    assert_string_equal(b.url, "https://git.example.com/acme/app.git");
    assert_string_equal(b.default_branch, "main");
    assert_null(b.webhook_secret);
    body_repo_release(&b);
    assert_null(b.name);

    assert_int_equal(body_parse_repo(S("{\"name\":\"app\",\"url\":\"/srv/git/"
                                       "app.git\",\"default_branch\":"
                                       "\"release/2.x\",\"webhook_secret\":"
                                       "\"0123456789abcdef\"}"),
                                     &b, &err),
                     FERR_OK);
    assert_string_equal(b.default_branch, "release/2.x");
    assert_string_equal(b.webhook_secret, "0123456789abcdef");
    body_repo_release(&b);

    /* null means absent */
    assert_int_equal(body_parse_repo(S("{\"name\":\"app\",\"url\":\"u\","
                                       "\"default_branch\":null,"
                                       "\"webhook_secret\":null}"),
                                     &b, &err),
                     FERR_OK);
    assert_string_equal(b.default_branch, "main");
    assert_null(b.webhook_secret);
    body_repo_release(&b);
}

static void test_body_repo_unknown_field(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(repo_err(S("{\"name\":\"app\",\"url\":\"u\","
                                "\"branch\":\"main\"}"),
                              &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown field 'branch'");
    /* odd keys are quoted safely */
    assert_int_equal(repo_err(S("{\"a\\nb\":1}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "unknown field 'a?b'");
}

static void test_body_repo_types(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(repo_err(S("{\"name\":5,\"url\":\"u\"}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'name' must be a string");
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":[\"u\"]}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'url' must be a string");
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"u\","
                                "\"default_branch\":true}"),
                              &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'default_branch' must be a string");
}

static void test_body_repo_missing(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(repo_err(S("{\"url\":\"u\"}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "missing field 'name'");
    assert_int_equal(repo_err(S("{\"name\":\"a\"}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "missing field 'url'");
    assert_int_equal(repo_err(S("{\"name\":null,\"url\":\"u\"}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "missing field 'name'");
}

static void test_body_repo_bad_values(void **state)
{
    struct ferr err;
    char body[6000];
    char longname[LIM_NAME + 2];
    size_t p;

    (void)state;
    assert_int_equal(repo_err(S("{\"name\":\"a b\",\"url\":\"u\"}"), &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "invalid repository name 'a b'"));
    assert_int_equal(repo_err(S("{\"name\":\"..\",\"url\":\"u\"}"), &err),
                     FERR_INVALID);
    assert_int_equal(repo_err(S("{\"name\":\"\",\"url\":\"u\"}"), &err),
                     FERR_INVALID);
    assert_int_equal(repo_err(S("{\"name\":\"a/b\",\"url\":\"u\"}"), &err),
                     FERR_INVALID);
    memset(longname, 'x', sizeof(longname) - 1);
    longname[sizeof(longname) - 1] = '\0';
    snprintf(body, sizeof(body), "{\"name\":\"%s\",\"url\":\"u\"}", longname);
    assert_int_equal(repo_err(body, strlen(body), &err), FERR_INVALID);

    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"\"}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'url' must not be empty");
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"x\\ny\"}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'url' must not contain control characters");
    p = (size_t)snprintf(body, sizeof(body), "{\"name\":\"a\",\"url\":\"");
    memset(body + p, 'u', LIM_URL + 1);
    snprintf(body + p + LIM_URL + 1, 3, "\"}");
    assert_int_equal(repo_err(body, strlen(body), &err), FERR_LIMIT);
    assert_string_equal(err.msg, "'url' is over 4096 bytes");

    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"u\","
                                "\"default_branch\":\"a..b\"}"),
                              &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "invalid default_branch 'a..b'"));
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"u\","
                                "\"default_branch\":\"\"}"),
                              &err),
                     FERR_INVALID);
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"u\","
                                "\"webhook_secret\":\"short\"}"),
                              &err),
                     FERR_INVALID);
    assert_string_equal(err.msg,
                        "'webhook_secret' must be 16 to 256 bytes, not 5");
    assert_int_equal(repo_err(S("{\"name\":\"a\",\"url\":\"u\","
                                "\"webhook_secret\":\"0123456789abcdef\\t\"}"),
                              &err),
                     FERR_INVALID);
}

static void test_body_repo_url_at_limit(void **state)
{
    struct body_repo b;
    struct ferr err;
    char body[6000];
    size_t p;

    (void)state;
    p = (size_t)snprintf(body, sizeof(body), "{\"name\":\"a\",\"url\":\"");
    memset(body + p, 'u', LIM_URL);
    snprintf(body + p + LIM_URL, 3, "\"}");
    ferr_clear(&err);
    assert_int_equal(body_parse_repo(body, strlen(body), &b, &err), FERR_OK);
    assert_int_equal(strlen(b.url), LIM_URL);
    body_repo_release(&b);
}

/* ---------- token ---------- */

static void test_body_token_good(void **state)
{
    struct body_token b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(body_parse_token(S("{\"role\":\"developer\","
                                        "\"name\":\"ci-bot\"}"),
                                      &b, &err),
                     FERR_OK);
    assert_int_equal(b.role, ROLE_DEVELOPER);
    assert_string_equal(b.name, "ci-bot");
    body_token_release(&b);
    assert_null(b.name);
    assert_int_equal(body_parse_token(S("{\"role\":\"admin\"}"), &b, &err),
                     FERR_OK);
    assert_int_equal(b.role, ROLE_ADMIN);
    assert_string_equal(b.name, "");
    body_token_release(&b);
    assert_int_equal(body_parse_token(S("{\"role\":\"viewer\",\"name\":"
                                        "\"Zo\\u00eb's laptop\"}"),
                                      &b, &err),
                     FERR_OK);
    assert_int_equal(b.role, ROLE_VIEWER);
    body_token_release(&b);
}

static enum ferr_code token_err(const char *body, size_t len, struct ferr *err)
{
    struct body_token b;
    enum ferr_code rc;

    ferr_clear(err);
    rc = body_parse_token(body, len, &b, err);
    assert_int_not_equal(rc, FERR_OK);
    assert_null(b.name);
    body_token_release(&b);
    return rc;
}

static void test_body_token_errors(void **state)
{
    struct ferr err;
    char body[256];

    (void)state;
    assert_int_equal(token_err(S("{\"name\":\"x\"}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "missing field 'role'");
    assert_int_equal(token_err(S("{\"role\":\"root\"}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "unknown role 'root': use viewer, developer, "
                                 "approver or admin");
    assert_int_equal(token_err(S("{\"role\":\"none\"}"), &err), FERR_INVALID);
    assert_int_equal(token_err(S("{\"role\":\"Admin\"}"), &err), FERR_INVALID);
    assert_int_equal(token_err(S("{\"role\":4}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "'role' must be a string");
    assert_int_equal(token_err(S("{\"role\":\"admin\",\"name\":[]}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'name' must be a string");
    assert_int_equal(
        token_err(S("{\"role\":\"admin\",\"name\":\"a\\u0007\"}"), &err),
        FERR_INVALID);
    assert_int_equal(token_err(S("{\"role\":\"admin\",\"id\":1}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown field 'id'");
    snprintf(body, sizeof(body), "{\"role\":\"admin\",\"name\":\"%065d\"}", 0);
    assert_int_equal(token_err(body, strlen(body), &err), FERR_INVALID);
    assert_int_equal(token_err(S("[\"admin\"]"), &err), FERR_PARSE);
}

/* ---------- secret ---------- */

static void test_body_secret_good(void **state)
{
    struct body_secret b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        body_parse_secret(S("{\"value\":\"p@ss w\\u00f6rd\\n\"}"), &b, &err),
        FERR_OK);
    assert_string_equal(b.value, "p@ss w\xc3\xb6rd\n");
    assert_int_equal(b.len, 11);
    body_secret_release(&b);
    assert_null(b.value);
    assert_int_equal(b.len, 0);
}

static void test_body_secret_at_limit(void **state)
{
    struct body_secret b;
    struct ferr err;
    size_t n = LIM_SECRET_BYTES;
    char *body = malloc(n + 32);

    (void)state;
    assert_non_null(body);
    memcpy(body, "{\"value\":\"", 10);
    memset(body + 10, 's', n);
    memcpy(body + 10 + n, "\"}", 3);
    ferr_clear(&err);
    assert_int_equal(body_parse_secret(body, strlen(body), &b, &err), FERR_OK);
    assert_int_equal(b.len, n);
    body_secret_release(&b);
    /* one more byte */
    memset(body + 10, 's', n + 1);
    memcpy(body + 11 + n, "\"}", 3);
    ferr_clear(&err);
    assert_int_equal(body_parse_secret(body, strlen(body), &b, &err),
                     FERR_LIMIT);
    assert_string_equal(err.msg, "'value' is over 65536 bytes");
    assert_null(b.value);
    free(body);
}

static void test_body_secret_errors(void **state)
{
    struct body_secret b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(body_parse_secret(S("{\"value\":\"\"}"), &b, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'value' must not be empty");
    assert_null(b.value);
    ferr_clear(&err);
    assert_int_equal(body_parse_secret(S("{}"), &b, &err), FERR_INVALID);
    assert_string_equal(err.msg, "missing field 'value'");
    ferr_clear(&err);
    assert_int_equal(body_parse_secret(S("{\"value\":42}"), &b, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'value' must be a string");
    ferr_clear(&err);
    assert_int_equal(
        body_parse_secret(S("{\"value\":\"x\",\"name\":\"A\"}"), &b, &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "unknown field 'name'");
    ferr_clear(&err);
    /* JSON's \u0000 cannot be carried in a C string */
    assert_int_equal(
        body_parse_secret(S("{\"value\":\"a\\u0000b\"}"), &b, &err),
        FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(body_parse_secret(S(""), &b, &err), FERR_PARSE);
    body_secret_release(&b);
}

/* ---------- dispatch ---------- */

static const char *input(const struct body_dispatch *b, const char *k)
{
    json_t *v = json_object_get(b->inputs, k);

    assert_true(json_is_string(v));
    return json_string_value(v);
}

static void test_body_dispatch_good(void **state)
{
    struct body_dispatch b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        body_parse_dispatch(S("{\"ref\":\"main\",\"inputs\":{"
                              "\"env\":\"staging\",\"dry\":true,"
                              "\"off\":false,\"count\":3,\"neg\":-12,"
                              "\"ratio\":1.5,\"tiny\":0.1,\"big\":1e21}}"),
                            &b, &err),
        FERR_OK);
    assert_string_equal(b.ref, "main");
    assert_int_equal(json_object_size(b.inputs), 8);
    assert_string_equal(input(&b, "env"), "staging");
    assert_string_equal(input(&b, "dry"), "true");
    assert_string_equal(input(&b, "off"), "false");
    assert_string_equal(input(&b, "count"), "3");
    assert_string_equal(input(&b, "neg"), "-12");
    assert_string_equal(input(&b, "ratio"), "1.5");
    assert_string_equal(input(&b, "tiny"), "0.1");
    assert_string_equal(input(&b, "big"), "1e+21");
    body_dispatch_release(&b);
    assert_null(b.inputs);

    assert_int_equal(
        body_parse_dispatch(S("{\"ref\":\"refs/tags/v1.0\"}"), &b, &err),
        FERR_OK);
    assert_string_equal(b.ref, "refs/tags/v1.0");
    assert_true(json_is_object(b.inputs));
    assert_int_equal(json_object_size(b.inputs), 0);
    body_dispatch_release(&b);
}

static void test_body_dispatch_empty(void **state)
{
    struct body_dispatch b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(body_parse_dispatch(NULL, 0, &b, &err), FERR_OK);
    assert_null(b.ref);
    assert_int_equal(json_object_size(b.inputs), 0);
    body_dispatch_release(&b);
    assert_int_equal(body_parse_dispatch(S("{}"), &b, &err), FERR_OK);
    assert_null(b.ref);
    body_dispatch_release(&b);
    assert_int_equal(
        body_parse_dispatch(S("{\"ref\":null,\"inputs\":null}"), &b, &err),
        FERR_OK);
    assert_null(b.ref);
    assert_non_null(b.inputs);
    body_dispatch_release(&b);
}

static enum ferr_code dispatch_err(const char *body, size_t len,
                                   struct ferr *err)
{
    struct body_dispatch b;
    enum ferr_code rc;

    ferr_clear(err);
    rc = body_parse_dispatch(body, len, &b, err);
    assert_int_not_equal(rc, FERR_OK);
    assert_null(b.ref);
    assert_null(b.inputs);
    body_dispatch_release(&b);
    return rc;
}

static void test_body_dispatch_errors(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(dispatch_err(S("{\"ref\":\"a b\"}"), &err), FERR_INVALID);
    assert_string_equal(err.msg,
                        "invalid ref 'a b': not a git branch or ref name");
    assert_int_equal(dispatch_err(S("{\"ref\":\"\"}"), &err), FERR_INVALID);
    assert_int_equal(dispatch_err(S("{\"ref\":\"refs/heads/\"}"), &err),
                     FERR_INVALID);
    assert_int_equal(dispatch_err(S("{\"ref\":1}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "'ref' must be a string");
    assert_int_equal(dispatch_err(S("{\"inputs\":[]}"), &err), FERR_INVALID);
    assert_string_equal(err.msg, "'inputs' must be an object");
    assert_int_equal(dispatch_err(S("{\"inputs\":{\"a\":null}}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg,
                        "input 'a' must be a string, number or boolean");
    assert_int_equal(dispatch_err(S("{\"inputs\":{\"a\":{\"b\":1}}}"), &err),
                     FERR_INVALID);
    assert_int_equal(dispatch_err(S("{\"inputs\":{\"\":\"x\"}}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "invalid input name ''");
    assert_int_equal(dispatch_err(S("{\"workflow\":\"ci.yml\"}"), &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown field 'workflow'");
    assert_int_equal(dispatch_err(S("{\"inputs\":{\"a\":1,\"a\":2}}"), &err),
                     FERR_PARSE);
}

static void test_body_dispatch_limits(void **state)
{
    struct body_dispatch b;
    struct ferr err;
    char body[2048];
    size_t p;
    char *big;

    (void)state;
    /* LIM_DISPATCH_INPUTS inputs pass, one more does not */
    p = (size_t)snprintf(body, sizeof(body), "{\"inputs\":{");
    for (unsigned i = 0; i < LIM_DISPATCH_INPUTS; i++)
        p += (size_t)snprintf(body + p, sizeof(body) - p, "%s\"i%u\":\"v\"",
                              i ? "," : "", i);
    snprintf(body + p, sizeof(body) - p, "}}");
    ferr_clear(&err);
    assert_int_equal(body_parse_dispatch(body, strlen(body), &b, &err),
                     FERR_OK);
    assert_int_equal(json_object_size(b.inputs), LIM_DISPATCH_INPUTS);
    body_dispatch_release(&b);
    snprintf(body + p, sizeof(body) - p, ",\"extra\":\"v\"}}");
    assert_int_equal(dispatch_err(body, strlen(body), &err), FERR_LIMIT);
    assert_string_equal(err.msg, "more than 25 inputs");

    big = malloc(LIM_INPUT_BYTES + 64);
    assert_non_null(big);
    p = (size_t)snprintf(big, 64, "{\"inputs\":{\"blob\":\"");
    memset(big + p, 'x', LIM_INPUT_BYTES + 1);
    memcpy(big + p + LIM_INPUT_BYTES + 1, "\"}}", 4);
    assert_int_equal(dispatch_err(big, strlen(big), &err), FERR_LIMIT);
    assert_string_equal(err.msg, "input 'blob' is over 65536 bytes");
    free(big);
}

/* ---------- rerun ---------- */

static void test_body_rerun(void **state)
{
    struct body_rerun b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    b.failed_only = true;
    assert_int_equal(body_parse_rerun(NULL, 0, &b, &err), FERR_OK);
    assert_false(b.failed_only);
    assert_int_equal(body_parse_rerun(S(" \r\n"), &b, &err), FERR_OK);
    assert_false(b.failed_only);
    assert_int_equal(body_parse_rerun(S("{\"failed_only\":true}"), &b, &err),
                     FERR_OK);
    assert_true(b.failed_only);
    assert_int_equal(body_parse_rerun(S("{\"failed_only\":false}"), &b, &err),
                     FERR_OK);
    assert_false(b.failed_only);
    assert_int_equal(body_parse_rerun(S("{}"), &b, &err), FERR_OK);
    assert_false(b.failed_only);
}

static void test_body_rerun_errors(void **state)
{
    struct body_rerun b;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(body_parse_rerun(S("{\"failed_only\":\"yes\"}"), &b, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "'failed_only' must be a boolean");
    ferr_clear(&err);
    assert_int_equal(body_parse_rerun(S("{\"failed_only\":1}"), &b, &err),
                     FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(body_parse_rerun(S("{\"jobs\":[]}"), &b, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "unknown field 'jobs'");
    ferr_clear(&err);
    assert_int_equal(body_parse_rerun(S("true"), &b, &err), FERR_PARSE);
    assert_string_equal(err.msg, "body must be a JSON object");
    ferr_clear(&err);
    assert_int_equal(body_parse_rerun(S("{"), &b, &err), FERR_PARSE);
}

/* ---------- names ---------- */

static void test_body_valid_name(void **state)
{
    char longname[LIM_NAME + 2];

    (void)state;
    assert_true(body_valid_name("app"));
    assert_true(body_valid_name("my.app-2_x"));
    assert_true(body_valid_name(".hidden"));
    assert_true(body_valid_name("..."));
    assert_false(body_valid_name("."));
    assert_false(body_valid_name(".."));
    assert_false(body_valid_name(""));
    assert_false(body_valid_name(NULL));
    assert_false(body_valid_name("a/b"));
    assert_false(body_valid_name("a b"));
    assert_false(body_valid_name("caf\xc3\xa9"));
    memset(longname, 'a', LIM_NAME);
    longname[LIM_NAME] = '\0';
    assert_true(body_valid_name(longname));
    longname[LIM_NAME] = 'a';
    longname[LIM_NAME + 1] = '\0';
    assert_false(body_valid_name(longname));
}

static void test_body_valid_secret_name(void **state)
{
    char longname[LIM_NAME + 2];

    (void)state;
    assert_true(body_valid_secret_name("DB_PASSWORD"));
    assert_true(body_valid_secret_name("_x1"));
    assert_true(body_valid_secret_name("token"));
    assert_true(body_valid_secret_name("GITHUBX"));
    assert_false(body_valid_secret_name("GITHUB_TOKEN"));
    assert_false(body_valid_secret_name("github_token"));
    assert_false(body_valid_secret_name("1PASS"));
    assert_false(body_valid_secret_name("DB-PASS"));
    assert_false(body_valid_secret_name("DB.PASS"));
    assert_false(body_valid_secret_name(""));
    assert_false(body_valid_secret_name(NULL));
    memset(longname, 'A', LIM_NAME);
    longname[LIM_NAME] = '\0';
    assert_true(body_valid_secret_name(longname));
    longname[LIM_NAME] = 'A';
    longname[LIM_NAME + 1] = '\0';
    assert_false(body_valid_secret_name(longname));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_body_malformed_json),
        cmocka_unit_test(test_body_duplicate_keys),
        cmocka_unit_test(test_body_not_object),
        cmocka_unit_test(test_body_over_limit),
        cmocka_unit_test(test_body_repo_good),
        cmocka_unit_test(test_body_repo_unknown_field),
        cmocka_unit_test(test_body_repo_types),
        cmocka_unit_test(test_body_repo_missing),
        cmocka_unit_test(test_body_repo_bad_values),
        cmocka_unit_test(test_body_repo_url_at_limit),
        cmocka_unit_test(test_body_token_good),
        cmocka_unit_test(test_body_token_errors),
        cmocka_unit_test(test_body_secret_good),
        cmocka_unit_test(test_body_secret_at_limit),
        cmocka_unit_test(test_body_secret_errors),
        cmocka_unit_test(test_body_dispatch_good),
        cmocka_unit_test(test_body_dispatch_empty),
        cmocka_unit_test(test_body_dispatch_errors),
        cmocka_unit_test(test_body_dispatch_limits),
        cmocka_unit_test(test_body_rerun),
        cmocka_unit_test(test_body_rerun_errors),
        cmocka_unit_test(test_body_valid_name),
        cmocka_unit_test(test_body_valid_secret_name),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
