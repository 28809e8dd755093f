/* webhook_test: signatures of every source (good, bad, missing, wrong
 * prefix, GitHub's documented example), realistic trimmed deliveries of
 * GitHub, Gitea and GitLab normalised to GitHub's shape, ferry's
 * post-receive lines, deletions, every rejection and the limits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "trigger/webhook.h"
#include "util/crypto.h"
#include "util/limits.h"

#define SHA_A  "59b20b8d5c6ff8d09518454d4dd8b7b30f095ab5"
#define SHA_B  "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
#define SHA_C  "a10867b14bb761a232cd80139fbd4c0d33264240"
#define ZERO40 "0000000000000000000000000000000000000000"

#define GH_REPO                                                                \
    "{\"id\":1296269,\"name\":\"app\",\"full_name\":\"acme/app\","             \
    "\"private\":false,\"owner\":{\"name\":\"acme\",\"login\":\"acme\"},"      \
    "\"html_url\":\"https://github.com/acme/app\","                            \
    "\"clone_url\":\"https://github.com/acme/app.git\","                       \
    "\"default_branch\":\"main\"}"

#define GH_COMMIT                                                              \
    "{\"id\":\"" SHA_A "\",\"tree_id\":\"" SHA_C "\",\"distinct\":true,"       \
    "\"message\":\"Fix the parser\\n\\nIt dropped the last line.\","           \
    "\"timestamp\":\"2026-11-23T10:04:05+01:00\","                             \
    "\"url\":\"https://github.com/acme/app/commit/" SHA_A "\","                \
    "\"author\":{\"name\":\"Alice\",\"email\":\"alice@example.com\","          \
    "\"username\":\"alice\"},\"committer\":{\"name\":\"Alice\","               \
    "\"email\":\"alice@example.com\",\"username\":\"alice\"},"                 \
    "\"added\":[],\"removed\":[],\"modified\":[\"src/parse.c\"]}"

static const char gh_push[] =
    "{\"ref\":\"refs/heads/main\",\"before\":\"" SHA_B "\","
    "\"after\":\"" SHA_A "\",\"repository\":" GH_REPO ","
    "\"pusher\":{\"name\":\"alice\",\"email\":\"alice@example.com\"},"
    "\"sender\":{\"login\":\"alice\",\"id\":583231,\"type\":\"User\"},"
    "\"created\":false,\"deleted\":false,\"forced\":false,"
    "\"base_ref\":null,\"compare\":\"https://github.com/acme/app/compare/"
    "6113728f27ae...59b20b8d5c6f\",\"commits\":[" GH_COMMIT "],"
    "\"head_commit\":" GH_COMMIT "}";

static const char gh_push_deleted[] =
    "{\"ref\":\"refs/heads/old-feature\",\"before\":\"" SHA_B "\","
    "\"after\":\"" ZERO40 "\",\"repository\":" GH_REPO ","
    "\"pusher\":{\"name\":\"alice\",\"email\":\"alice@example.com\"},"
    "\"sender\":{\"login\":\"alice\"},\"created\":false,\"deleted\":true,"
    "\"forced\":false,\"base_ref\":null,\"compare\":\"\",\"commits\":[],"
    "\"head_commit\":null}";

static const char gh_push_tag[] =
    "{\"ref\":\"refs/tags/v1.2.0\",\"before\":\"" ZERO40 "\","
    "\"after\":\"" SHA_A "\",\"repository\":" GH_REPO ","
    "\"pusher\":{\"name\":\"alice\",\"email\":\"alice@example.com\"},"
    "\"sender\":{\"login\":\"alice\"},\"created\":true,\"deleted\":false,"
    "\"forced\":false,\"base_ref\":\"refs/heads/main\",\"commits\":[],"
    "\"head_commit\":" GH_COMMIT "}";

static const char gh_pr[] =
    "{\"action\":\"opened\",\"number\":42,\"pull_request\":{"
    "\"url\":\"https://api.github.com/repos/acme/app/pulls/42\","
    "\"id\":279147437,\"number\":42,\"state\":\"open\",\"locked\":false,"
    "\"title\":\"Retry failed uploads\",\"user\":{\"login\":\"bob\"},"
    "\"body\":\"Closes #17.\",\"draft\":false,\"merged\":false,"
    "\"head\":{\"label\":\"bob:retry\",\"ref\":\"retry\","
    "\"sha\":\"" SHA_A "\",\"user\":{\"login\":\"bob\"},\"repo\":" GH_REPO
    "},\"base\":{\"label\":\"acme:main\",\"ref\":\"main\","
    "\"sha\":\"" SHA_B "\",\"user\":{\"login\":\"acme\"},\"repo\":" GH_REPO
    "}},\"repository\":" GH_REPO ",\"sender\":{\"login\":\"bob\"}}";

static const char gh_ping[] =
    "{\"zen\":\"Design for failure.\",\"hook_id\":30,\"hook\":{"
    "\"type\":\"Repository\",\"id\":30,\"name\":\"web\",\"active\":true,"
    "\"events\":[\"push\",\"pull_request\"],\"config\":{"
    "\"content_type\":\"json\",\"insecure_ssl\":\"0\","
    "\"url\":\"https://ci.example.com/hooks/github\"}},"
    "\"repository\":" GH_REPO ",\"sender\":{\"login\":\"alice\"}}";

#define GITEA_USER                                                             \
    "{\"id\":1,\"login\":\"gitea\",\"full_name\":\"Gitea\","                   \
    "\"email\":\"someone@gitea.io\",\"username\":\"gitea\"}"

#define GITEA_REPO                                                             \
    "{\"id\":140,\"owner\":" GITEA_USER ",\"name\":\"webhooks\","              \
    "\"full_name\":\"gitea/webhooks\",\"private\":false,\"fork\":false,"       \
    "\"html_url\":\"http://localhost:3000/gitea/webhooks\","                   \
    "\"ssh_url\":\"ssh://gitea@localhost:2222/gitea/webhooks.git\","           \
    "\"clone_url\":\"http://localhost:3000/gitea/webhooks.git\","              \
    "\"default_branch\":\"master\"}"

static const char gitea_push[] =
    "{\"ref\":\"refs/heads/develop\",\"before\":\"" SHA_B "\","
    "\"after\":\"" SHA_A "\",\"compare_url\":\"http://localhost:3000/gitea/"
    "webhooks/compare/" SHA_B "..." SHA_A "\",\"commits\":[{\"id\":\"" SHA_C
    "\",\"message\":\"First\\n\",\"url\":\"http://localhost:3000/gitea/"
    "webhooks/commit/" SHA_C "\",\"author\":{\"name\":\"Gitea\","
    "\"email\":\"someone@gitea.io\",\"username\":\"gitea\"},"
    "\"timestamp\":\"2026-03-13T13:52:11-04:00\"},{\"id\":\"" SHA_A "\","
    "\"message\":\"Webhooks Yay!\\n\",\"url\":\"http://localhost:3000/gitea/"
    "webhooks/commit/" SHA_A "\",\"author\":{\"name\":\"Gitea\","
    "\"email\":\"someone@gitea.io\",\"username\":\"gitea\"},"
    "\"timestamp\":\"2026-03-13T13:52:11-04:00\"}],"
    "\"repository\":" GITEA_REPO ",\"pusher\":" GITEA_USER ","
    "\"sender\":" GITEA_USER "}";

static const char gitea_pr_sync[] =
    "{\"action\":\"synchronized\",\"number\":7,\"pull_request\":{\"id\":12,"
    "\"number\":7,\"user\":" GITEA_USER ",\"title\":\"Faster builds\","
    "\"body\":\"\",\"state\":\"open\",\"merged\":false,"
    "\"base\":{\"label\":\"master\",\"ref\":\"master\",\"sha\":\"" SHA_B
    "\",\"repo_id\":140,\"repo\":" GITEA_REPO "},\"head\":{\"label\":"
    "\"speed\",\"ref\":\"speed\",\"sha\":\"" SHA_A "\",\"repo_id\":140,"
    "\"repo\":" GITEA_REPO "}},\"repository\":" GITEA_REPO ","
    "\"sender\":" GITEA_USER ",\"review\":null}";

#define GL_PROJECT                                                             \
    "{\"id\":15,\"name\":\"Diaspora\",\"description\":\"\","                   \
    "\"web_url\":\"http://example.com/mike/diaspora\",\"avatar_url\":null,"    \
    "\"git_ssh_url\":\"git@example.com:mike/diaspora.git\","                   \
    "\"git_http_url\":\"http://example.com/mike/diaspora.git\","               \
    "\"namespace\":\"Mike\",\"visibility_level\":0,"                           \
    "\"path_with_namespace\":\"mike/diaspora\","                               \
    "\"default_branch\":\"master\"}"

static const char gl_push[] =
    "{\"object_kind\":\"push\",\"event_name\":\"push\",\"before\":\"" SHA_B
    "\",\"after\":\"" SHA_A "\",\"ref\":\"refs/heads/master\","
    "\"ref_protected\":true,\"checkout_sha\":\"" SHA_A "\",\"user_id\":4,"
    "\"user_name\":\"John Smith\",\"user_username\":\"jsmith\","
    "\"user_email\":\"john@example.com\",\"project_id\":15,"
    "\"project\":" GL_PROJECT ",\"commits\":[{\"id\":\"" SHA_A "\","
    "\"message\":\"fixed readme\",\"title\":\"fixed readme\","
    "\"timestamp\":\"2026-01-01T10:00:00+02:00\","
    "\"url\":\"http://example.com/mike/diaspora/commit/" SHA_A "\","
    "\"author\":{\"name\":\"GitLab dev user\",\"email\":\"gitlabdev@example."
    "com\"},\"added\":[\"CHANGELOG\"],\"modified\":[\"app/main.rb\"],"
    "\"removed\":[]},{\"id\":\"" SHA_C "\",\"message\":\"Update Catalan "
    "translation\",\"timestamp\":\"2026-01-01T09:00:00+02:00\","
    "\"url\":\"http://example.com/mike/diaspora/commit/" SHA_C "\","
    "\"author\":{\"name\":\"Jordi Mallach\",\"email\":\"jordi@softcatala."
    "org\"},\"added\":[],\"modified\":[\"po/ca.po\"],\"removed\":[]}],"
    "\"total_commits_count\":2,\"repository\":{\"name\":\"Diaspora\","
    "\"url\":\"git@example.com:mike/diaspora.git\",\"description\":\"\","
    "\"homepage\":\"http://example.com/mike/diaspora\"}}";

static const char gl_tag_push[] =
    "{\"object_kind\":\"tag_push\",\"event_name\":\"tag_push\","
    "\"before\":\"" ZERO40 "\",\"after\":\"" SHA_C "\","
    "\"ref\":\"refs/tags/v1.0.0\",\"checkout_sha\":\"" SHA_A "\","
    "\"message\":\"Tag message\",\"user_id\":1,\"user_name\":\"John Smith\","
    "\"user_username\":\"jsmith\",\"user_email\":\"\",\"project_id\":15,"
    "\"project\":" GL_PROJECT ",\"commits\":[],\"total_commits_count\":0}";

static const char gl_push_deleted[] =
    "{\"object_kind\":\"push\",\"before\":\"" SHA_B "\","
    "\"after\":\"" ZERO40 "\",\"ref\":\"refs/heads/topic\","
    "\"checkout_sha\":null,\"user_username\":\"jsmith\","
    "\"project\":" GL_PROJECT ",\"commits\":[],\"total_commits_count\":0}";

/* A Merge Request Hook with @action and @oldrev (or no oldrev). */
static char *gl_mr(const char *action, const char *oldrev)
{
    char *s = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&s, &n);

    assert_non_null(f);
    fprintf(f,
            "{\"object_kind\":\"merge_request\",\"event_type\":"
            "\"merge_request\",\"user\":{\"id\":1,\"name\":\"Administrator\","
            "\"username\":\"root\",\"email\":\"admin@example.com\"},"
            "\"project\":" GL_PROJECT ",\"object_attributes\":{\"id\":99,"
            "\"iid\":1,\"target_branch\":\"master\",\"source_branch\":"
            "\"ms-viewport\",\"source_project_id\":14,\"author_id\":51,"
            "\"title\":\"MS-Viewport\",\"state\":\"%s\",\"draft\":false,"
            "\"merge_status\":\"unchecked\",\"target_project_id\":14,"
            "\"description\":\"\",\"url\":\"http://example.com/diaspora/"
            "merge_requests/1\",\"last_commit\":{\"id\":\"" SHA_A "\","
            "\"message\":\"fixed readme\",\"timestamp\":\"2026-01-01T10:00:00"
            "+02:00\",\"author\":{\"name\":\"GitLab dev user\",\"email\":"
            "\"gitlabdev@example.com\"}},%s%s%s\"action\":\"%s\"},"
            "\"labels\":[],\"changes\":{},\"repository\":{\"name\":"
            "\"Diaspora\",\"url\":\"git@example.com:mike/diaspora.git\"}}",
            strcmp(action, "merge") == 0   ? "merged"
            : strcmp(action, "close") == 0 ? "closed"
                                           : "opened",
            oldrev ? "\"oldrev\":\"" : "", oldrev ? oldrev : "",
            oldrev ? "\"," : "", action);
    fclose(f);
    return s;
}

/* ---------- helpers ---------- */

static void sign(const char *key, const char *body, size_t len,
                 const char *prefix, char out[80])
{
    unsigned char mac[32];
    size_t p = strlen(prefix);

    crypto_hmac_sha256(key, strlen(key), body, len, mac);
    memcpy(out, prefix, p);
    for (size_t i = 0; i < 32; i++)
        snprintf(out + p + 2 * i, 3, "%02x", mac[i]);
}

static enum ferr_code verify(enum webhook_source src, const char *sig,
                             const char *key, const char *body,
                             struct ferr *err)
{
    ferr_clear(err);
    return webhook_verify(src, sig, key, key ? strlen(key) : 0, body,
                          strlen(body), err);
}

static struct webhook_event *parse_ok(enum webhook_source src,
                                      const char *event, const char *body,
                                      size_t *n)
{
    struct webhook_event *v = NULL;
    struct ferr err;

    ferr_clear(&err);
    if (webhook_parse(src, event, body, strlen(body), &v, n, &err) != FERR_OK)
        fail_msg("parse failed: %s", err.msg);
    assert_non_null(v);
    return v;
}

static enum ferr_code parse_err(enum webhook_source src, const char *event,
                                const char *body, struct ferr *err)
{
    struct webhook_event *v = (struct webhook_event *)1;
    size_t n = 7;
    enum ferr_code rc;

    ferr_clear(err);
    rc = webhook_parse(src, event, body, strlen(body), &v, &n, err);
    assert_int_not_equal(rc, FERR_OK);
    assert_null(v);
    assert_int_equal(n, 0);
    assert_int_equal(err->code, rc);
    return rc;
}

static const char *pstr(json_t *o, const char *a, const char *b)
{
    json_t *v = json_object_get(o, a);

    if (b)
        v = json_object_get(v, b);
    return json_is_string(v) ? json_string_value(v) : NULL;
}

/* ---------- sources ---------- */

static void test_webhook_source_names(void **state)
{
    enum webhook_source s = WH_GIT;

    (void)state;
    assert_string_equal(webhook_source_name(WH_GITHUB), "github");
    assert_string_equal(webhook_source_name(WH_GITEA), "gitea");
    assert_string_equal(webhook_source_name(WH_GITLAB), "gitlab");
    assert_string_equal(webhook_source_name(WH_GIT), "git");
    assert_true(webhook_source_parse("gitlab", &s));
    assert_int_equal(s, WH_GITLAB);
    assert_true(webhook_source_parse("github", &s));
    assert_int_equal(s, WH_GITHUB);
    assert_false(webhook_source_parse("bitbucket", &s));
    assert_false(webhook_source_parse(NULL, &s));
    assert_int_equal(s, WH_GITHUB);
}

/* ---------- signatures ---------- */

static void test_webhook_verify_github_documented_example(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(
        verify(WH_GITHUB,
               "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c"
               "8b043e17",
               "It's a Secret to Everybody", "Hello, World!", &err),
        FERR_OK);
    /* hex case does not matter */
    assert_int_equal(
        verify(WH_GITHUB,
               "sha256=757107EA0EB2509FC211221CCE984B8A37570B6D7586C22C46F4379C"
               "8B043E17",
               "It's a Secret to Everybody", "Hello, World!", &err),
        FERR_OK);
}

static void test_webhook_verify_github_bad(void **state)
{
    struct ferr err;
    char sig[80];

    (void)state;
    sign("s3cret-key-0123456789", gh_push, strlen(gh_push), "sha256=", sig);
    assert_int_equal(
        verify(WH_GITHUB, sig, "s3cret-key-0123456789", gh_push, &err),
        FERR_OK);
    /* another key */
    assert_int_equal(
        verify(WH_GITHUB, sig, "s3cret-key-0123456788", gh_push, &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
    /* one digit changed */
    sig[20] = sig[20] == '0' ? '1' : '0';
    assert_int_equal(
        verify(WH_GITHUB, sig, "s3cret-key-0123456789", gh_push, &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
}

static void test_webhook_verify_body_changed(void **state)
{
    struct ferr err;
    char sig[80];

    (void)state;
    sign("key-key-key-key-key", "{\"a\":1}", 7, "sha256=", sig);
    assert_int_equal(
        verify(WH_GITHUB, sig, "key-key-key-key-key", "{\"a\":1}", &err),
        FERR_OK);
    assert_int_equal(
        verify(WH_GITHUB, sig, "key-key-key-key-key", "{\"a\":2}", &err),
        FERR_INVALID);
    assert_int_equal(
        verify(WH_GITHUB, sig, "key-key-key-key-key", "{\"a\":1} ", &err),
        FERR_INVALID);
}

static void test_webhook_verify_missing(void **state)
{
    struct ferr err;
    const enum webhook_source all[] = {WH_GITHUB, WH_GITEA, WH_GITLAB, WH_GIT};

    (void)state;
    for (size_t i = 0; i < 4; i++) {
        assert_int_equal(verify(all[i], NULL, "k", "{}", &err), FERR_INVALID);
        assert_string_equal(err.msg, "missing signature");
        assert_int_equal(verify(all[i], "", "k", "{}", &err), FERR_INVALID);
        assert_string_equal(err.msg, "missing signature");
    }
}

static void test_webhook_verify_wrong_prefix(void **state)
{
    struct ferr err;
    char sig[80];

    (void)state;
    sign("k-k-k-k-k-k-k-k", "{}", 2, "sha256=", sig);
    /* bare hex is not GitHub's form */
    assert_int_equal(verify(WH_GITHUB, sig + 7, "k-k-k-k-k-k-k-k", "{}", &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
    memcpy(sig, "sha1=", 5);
    assert_int_equal(verify(WH_GITHUB, sig, "k-k-k-k-k-k-k-k", "{}", &err),
                     FERR_INVALID);
    sign("k-k-k-k-k-k-k-k", "{}", 2, "SHA256=", sig);
    assert_int_equal(verify(WH_GITHUB, sig, "k-k-k-k-k-k-k-k", "{}", &err),
                     FERR_INVALID);
    /* truncated and extended hex */
    sign("k-k-k-k-k-k-k-k", "{}", 2, "sha256=", sig);
    sig[strlen(sig) - 1] = '\0';
    assert_int_equal(verify(WH_GITHUB, sig, "k-k-k-k-k-k-k-k", "{}", &err),
                     FERR_INVALID);
    sign("k-k-k-k-k-k-k-k", "{}", 2, "sha256=", sig);
    memcpy(sig + strlen(sig), "0", 2);
    assert_int_equal(verify(WH_GITHUB, sig, "k-k-k-k-k-k-k-k", "{}", &err),
                     FERR_INVALID);
    assert_int_equal(
        verify(WH_GITHUB, "sha256=", "k-k-k-k-k-k-k-k", "{}", &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
}

static void test_webhook_verify_gitea(void **state)
{
    struct ferr err;
    char sig[80];

    (void)state;
    sign("gitea-secret-1234", gitea_push, strlen(gitea_push), "", sig);
    assert_int_equal(
        verify(WH_GITEA, sig, "gitea-secret-1234", gitea_push, &err), FERR_OK);
    sign("gitea-secret-1234", gitea_push, strlen(gitea_push), "sha256=", sig);
    assert_int_equal(
        verify(WH_GITEA, sig, "gitea-secret-1234", gitea_push, &err), FERR_OK);
    assert_int_equal(
        verify(WH_GITEA, sig, "gitea-secret-1235", gitea_push, &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
}

static void test_webhook_verify_gitlab_token(void **state)
{
    struct ferr err;
    const char *key = "my-secret-token-0001";

    (void)state;
    assert_int_equal(
        verify(WH_GITLAB, "my-secret-token-0001", key, gl_push, &err), FERR_OK);
    assert_int_equal(
        verify(WH_GITLAB, "my-secret-token-0002", key, gl_push, &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
    /* a prefix of the key, and the key plus more */
    assert_int_equal(
        verify(WH_GITLAB, "my-secret-token-000", key, gl_push, &err),
        FERR_INVALID);
    assert_int_equal(
        verify(WH_GITLAB, "my-secret-token-00011", key, gl_push, &err),
        FERR_INVALID);
    /* an HMAC is not a token */
    assert_int_equal(verify(WH_GITLAB,
                            "sha256=757107ea0eb2509fc211221cce984b8a37570b6d"
                            "7586c22c46f4379c8b043e17",
                            key, gl_push, &err),
                     FERR_INVALID);
}

static void test_webhook_verify_git_hook(void **state)
{
    struct ferr err;
    char sig[80];
    const char *body = SHA_B " " SHA_A " refs/heads/main\n";

    (void)state;
    sign("hook-key-abcdefgh", body, strlen(body), "sha256=", sig);
    assert_int_equal(verify(WH_GIT, sig, "hook-key-abcdefgh", body, &err),
                     FERR_OK);
    assert_int_equal(verify(WH_GIT, sig + 7, "hook-key-abcdefgh", body, &err),
                     FERR_INVALID);
    assert_int_equal(verify(WH_GIT, sig, "hook-key-abcdefgX", body, &err),
                     FERR_INVALID);
}

static void test_webhook_verify_empty_key_never_matches(void **state)
{
    struct ferr err;
    char sig[80];

    (void)state;
    sign("", "{}", 2, "sha256=", sig);
    assert_int_equal(verify(WH_GITHUB, sig, "", "{}", &err), FERR_INVALID);
    assert_string_equal(err.msg, "bad signature");
    assert_int_equal(verify(WH_GITHUB, sig, NULL, "{}", &err), FERR_INVALID);
    assert_int_equal(verify(WH_GITLAB, "x", "", "{}", &err), FERR_INVALID);
}

/* ---------- GitHub ---------- */

static void test_webhook_github_push(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITHUB, "push", gh_push, &n);

    (void)state;
    assert_int_equal(n, 1);
    assert_string_equal(v->event, "push");
    assert_string_equal(v->repo, "app");
    assert_string_equal(v->repo_full, "acme/app");
    assert_string_equal(v->ref, "refs/heads/main");
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->before, SHA_B);
    assert_false(v->deleted);
    assert_string_equal(v->actor, "alice");
    assert_true(json_is_object(v->payload));
    assert_string_equal(pstr(v->payload, "head_commit", "message"),
                        "Fix the parser\n\nIt dropped the last line.");
    assert_string_equal(pstr(v->payload, "repository", "clone_url"),
                        "https://github.com/acme/app.git");
    webhook_events_free(v, n);
}

static void test_webhook_github_push_uppercase_sha_lowered(void **state)
{
    size_t n;
    struct webhook_event *v =
        parse_ok(WH_GITHUB, "push",
                 "{\"ref\":\"refs/heads/x\",\"after\":"
                 "\"59B20B8D5C6FF8D09518454D4DD8B7B30F095AB5\"}",
                 &n);

    (void)state;
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->before, ZERO40);
    assert_string_equal(v->repo, "");
    assert_string_equal(v->actor, "");
    webhook_events_free(v, n);
}

static void test_webhook_github_push_tag(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITHUB, "push", gh_push_tag, &n);

    (void)state;
    assert_string_equal(v->ref, "refs/tags/v1.2.0");
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->before, ZERO40);
    assert_false(v->deleted);
    webhook_events_free(v, n);
}

static void test_webhook_github_push_deleted(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITHUB, "push", gh_push_deleted, &n);

    (void)state;
    assert_true(v->deleted);
    assert_string_equal(v->sha, "");
    assert_string_equal(v->before, SHA_B);
    assert_string_equal(v->ref, "refs/heads/old-feature");
    webhook_events_free(v, n);
}

static void test_webhook_github_push_missing_fields(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(
        parse_err(WH_GITHUB, "push", "{\"after\":\"" SHA_A "\"}", &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "push payload without 'ref'");
    assert_int_equal(
        parse_err(WH_GITHUB, "push", "{\"ref\":\"refs/heads/main\"}", &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "push payload without 'after'");
    assert_int_equal(parse_err(WH_GITHUB, "push",
                               "{\"ref\":7,\"after\":\"" SHA_A "\"}", &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "push payload field 'ref' must be a string");
}

static void test_webhook_github_push_bad_values(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITHUB, "push",
                               "{\"ref\":\"refs/heads/main\",\"after\":"
                               "\"59b20b8\"}",
                               &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "push payload field 'after' is not a commit "
                                 "id: '59b20b8'");
    assert_int_equal(parse_err(WH_GITHUB, "push",
                               "{\"ref\":\"refs/heads/a..b\",\"after\":\"" SHA_A
                               "\"}",
                               &err),
                     FERR_INVALID);
    assert_string_equal(err.msg,
                        "push payload has an invalid ref 'refs/heads/a..b'");
    assert_int_equal(parse_err(WH_GITHUB, "push",
                               "{\"ref\":\"main\",\"after\":\"" SHA_A "\"}",
                               &err),
                     FERR_INVALID);
    /* control characters are not echoed */
    assert_int_equal(
        parse_err(WH_GITHUB, "push",
                  "{\"ref\":\"refs/heads/a\\nb\",\"after\":\"" SHA_A "\"}",
                  &err),
        FERR_INVALID);
    assert_non_null(strstr(err.msg, "'refs/heads/a?b'"));
}

static void test_webhook_github_pull_request(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITHUB, "pull_request", gh_pr, &n);

    (void)state;
    assert_int_equal(n, 1);
    assert_string_equal(v->event, "pull_request");
    assert_string_equal(v->ref, "refs/heads/main");
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->before, ZERO40);
    assert_string_equal(v->actor, "bob");
    assert_string_equal(v->repo, "app");
    assert_false(v->deleted);
    assert_string_equal(pstr(v->payload, "action", NULL), "opened");
    assert_int_equal(json_integer_value(json_object_get(v->payload, "number")),
                     42);
    webhook_events_free(v, n);
}

static void test_webhook_github_pull_request_missing(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITHUB, "pull_request",
                               "{\"action\":\"opened\",\"number\":1,"
                               "\"pull_request\":{\"head\":{\"ref\":\"x\"},"
                               "\"base\":{\"ref\":\"main\"}}}",
                               &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "pull_request payload without "
                                 "'pull_request.head.sha'");
    assert_int_equal(
        parse_err(WH_GITHUB, "pull_request", "{\"number\":1}", &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "pull_request payload without 'action'");
    assert_int_equal(
        parse_err(WH_GITHUB, "pull_request", "{\"action\":\"opened\"}", &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "pull_request payload without 'number'");
    assert_int_equal(parse_err(WH_GITHUB, "pull_request",
                               "{\"action\":\"opened\",\"number\":1,"
                               "\"pull_request\":{\"head\":{\"ref\":\"x\","
                               "\"sha\":\"" SHA_A "\"},\"base\":{\"ref\":"
                               "\"-bad:\"}}}",
                               &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "'pull_request.base.ref' is not a valid "
                                    "branch"));
}

static void test_webhook_github_ping(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITHUB, "ping", gh_ping, &n);

    (void)state;
    assert_string_equal(v->event, "ping");
    assert_string_equal(v->sha, "");
    assert_string_equal(v->ref, "");
    assert_string_equal(v->repo, "app");
    assert_false(v->deleted);
    assert_string_equal(pstr(v->payload, "zen", NULL), "Design for failure.");
    webhook_events_free(v, n);
}

static void test_webhook_unhandled_event(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITHUB, "issues", "{}", &err),
                     FERR_UNSUPPORTED);
    assert_string_equal(err.msg, "event 'issues' is not handled");
    /* not even parsed: an ignored event may carry anything */
    assert_int_equal(parse_err(WH_GITEA, "create", "not json", &err),
                     FERR_UNSUPPORTED);
    assert_int_equal(parse_err(WH_GITHUB, "pull_request_sync", "{}", &err),
                     FERR_UNSUPPORTED);
}

static void test_webhook_missing_event_header(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITHUB, NULL, gh_push, &err), FERR_INVALID);
    assert_string_equal(err.msg, "missing 'X-GitHub-Event' header");
    assert_int_equal(parse_err(WH_GITLAB, "", gl_push, &err), FERR_INVALID);
    assert_string_equal(err.msg, "missing 'X-Gitlab-Event' header");
}

static void test_webhook_malformed_json(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITHUB, "push",
                               "{\"ref\":\"refs/heads/main\",\n\"after\": }",
                               &err),
                     FERR_PARSE);
    assert_non_null(strstr(err.msg, "malformed JSON at line 2 col"));
    assert_int_equal(parse_err(WH_GITHUB, "push", "", &err), FERR_PARSE);
    assert_int_equal(
        parse_err(WH_GITHUB, "push", "{\"ref\":\"a\\u0000b\"}", &err),
        FERR_PARSE);
}

static void test_webhook_payload_not_object(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITHUB, "push", "[1,2]", &err), FERR_PARSE);
    assert_string_equal(err.msg, "payload must be a JSON object");
    assert_int_equal(parse_err(WH_GITLAB, "Push Hook", "\"x\"", &err),
                     FERR_PARSE);
    assert_string_equal(err.msg, "payload must be a JSON object");
}

static void test_webhook_form_encoded(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(
        WH_GITHUB, "push",
        "payload=%7B%22ref%22%3A%22refs%2Fheads%2Fmain%22%2C%22after%22%3A%"
        "22" SHA_A "%22%2C%22sender%22%3A%7B%22login%22%3A%22a+b%22%7D%7D",
        &n);
    struct ferr err;

    (void)state;
    assert_string_equal(v->ref, "refs/heads/main");
    assert_string_equal(v->actor, "a b");
    webhook_events_free(v, n);
    assert_int_equal(parse_err(WH_GITHUB, "push", "payload=%7", &err),
                     FERR_PARSE);
    assert_non_null(strstr(err.msg, "form-encoded"));
}

static void test_webhook_body_limit(void **state)
{
    struct ferr err;
    struct webhook_event *v = NULL;
    size_t n = 0;
    size_t len = LIM_HOOK_BODY + 1;
    char *big = malloc(len);

    (void)state;
    assert_non_null(big);
    memset(big, ' ', len);
    ferr_clear(&err);
    assert_int_equal(webhook_parse(WH_GITHUB, "push", big, len, &v, &n, &err),
                     FERR_LIMIT);
    assert_null(v);
    assert_int_equal(webhook_parse(WH_GIT, NULL, big, len, &v, &n, &err),
                     FERR_LIMIT);
    free(big);
}

/* ---------- Gitea ---------- */

static void test_webhook_gitea_push_completed(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITEA, "push", gitea_push, &n);
    json_t *p;

    (void)state;
    p = v->payload;
    assert_string_equal(v->repo, "webhooks");
    assert_string_equal(v->repo_full, "gitea/webhooks");
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->actor, "gitea");
    assert_string_equal(pstr(p, "pusher", "name"), "gitea");
    assert_string_equal(pstr(p, "head_commit", "id"), SHA_A);
    assert_string_equal(pstr(p, "head_commit", "message"), "Webhooks Yay!\n");
    assert_true(json_is_false(json_object_get(p, "created")));
    assert_true(json_is_false(json_object_get(p, "deleted")));
    assert_true(json_is_false(json_object_get(p, "forced")));
    assert_string_equal(pstr(p, "repository", "default_branch"), "master");
    webhook_events_free(v, n);
}

static void test_webhook_gitea_pull_request_synchronized(void **state)
{
    size_t n;
    struct webhook_event *v =
        parse_ok(WH_GITEA, "pull_request", gitea_pr_sync, &n);

    (void)state;
    assert_string_equal(v->event, "pull_request");
    assert_string_equal(pstr(v->payload, "action", NULL), "synchronize");
    assert_string_equal(v->ref, "refs/heads/master");
    assert_string_equal(v->sha, SHA_A);
    webhook_events_free(v, n);
    v = parse_ok(WH_GITEA, "pull_request_sync", gitea_pr_sync, &n);
    assert_string_equal(v->event, "pull_request");
    webhook_events_free(v, n);
}

/* ---------- GitLab ---------- */

static void test_webhook_gitlab_push(void **state)
{
    size_t n;
    struct webhook_event *v = parse_ok(WH_GITLAB, "Push Hook", gl_push, &n);
    json_t *p;
    json_t *commits;

    (void)state;
    p = v->payload;
    assert_string_equal(v->event, "push");
    assert_string_equal(v->repo, "diaspora");
    assert_string_equal(v->repo_full, "mike/diaspora");
    assert_string_equal(v->ref, "refs/heads/master");
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->before, SHA_B);
    assert_string_equal(v->actor, "jsmith");
    assert_string_equal(pstr(p, "ref", NULL), "refs/heads/master");
    assert_string_equal(pstr(p, "after", NULL), SHA_A);
    assert_string_equal(pstr(p, "pusher", "name"), "jsmith");
    assert_string_equal(pstr(p, "sender", "login"), "jsmith");
    assert_string_equal(pstr(p, "repository", "clone_url"),
                        "http://example.com/mike/diaspora.git");
    assert_string_equal(pstr(p, "repository", "default_branch"), "master");
    assert_string_equal(pstr(p, "head_commit", "id"), SHA_A);
    assert_string_equal(pstr(p, "head_commit", "message"), "fixed readme");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(p, "head_commit"), "author"),
            "name")),
        "GitLab dev user");
    commits = json_object_get(p, "commits");
    assert_int_equal(json_array_size(commits), 2);
    /* oldest first, as GitHub sends them */
    assert_string_equal(pstr(json_array_get(commits, 0), "id", NULL), SHA_C);
    assert_string_equal(pstr(json_array_get(commits, 1), "id", NULL), SHA_A);
    assert_true(json_is_false(json_object_get(p, "deleted")));
    webhook_events_free(v, n);
}

static void test_webhook_gitlab_tag_push(void **state)
{
    size_t n;
    struct webhook_event *v =
        parse_ok(WH_GITLAB, "Tag Push Hook", gl_tag_push, &n);

    (void)state;
    assert_string_equal(v->ref, "refs/tags/v1.0.0");
    /* the tagged commit, not the tag object */
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(pstr(v->payload, "after", NULL), SHA_A);
    assert_true(json_is_true(json_object_get(v->payload, "created")));
    webhook_events_free(v, n);
}

static void test_webhook_gitlab_push_deleted(void **state)
{
    size_t n;
    struct webhook_event *v =
        parse_ok(WH_GITLAB, "Push Hook", gl_push_deleted, &n);

    (void)state;
    assert_true(v->deleted);
    assert_string_equal(v->sha, "");
    assert_true(json_is_true(json_object_get(v->payload, "deleted")));
    assert_string_equal(pstr(v->payload, "after", NULL), ZERO40);
    webhook_events_free(v, n);
}

static void check_mr(const char *action, const char *oldrev,
                     const char *want_action, bool merged)
{
    char *body = gl_mr(action, oldrev);
    size_t n;
    struct webhook_event *v =
        parse_ok(WH_GITLAB, "Merge Request Hook", body, &n);
    json_t *pr = json_object_get(v->payload, "pull_request");

    assert_string_equal(v->event, "pull_request");
    assert_string_equal(v->ref, "refs/heads/master");
    assert_string_equal(v->sha, SHA_A);
    assert_string_equal(v->actor, "root");
    assert_string_equal(v->repo, "diaspora");
    assert_string_equal(pstr(v->payload, "action", NULL), want_action);
    assert_int_equal(json_integer_value(json_object_get(v->payload, "number")),
                     1);
    assert_string_equal(pstr(pr, "head", "ref"), "ms-viewport");
    assert_string_equal(pstr(pr, "head", "sha"), SHA_A);
    assert_string_equal(pstr(pr, "base", "ref"), "master");
    assert_string_equal(pstr(pr, "title", NULL), "MS-Viewport");
    assert_int_equal(json_is_true(json_object_get(pr, "merged")), merged);
    if (oldrev) {
        assert_string_equal(v->before, oldrev);
        assert_string_equal(pstr(v->payload, "before", NULL), oldrev);
    } else {
        assert_string_equal(v->before, ZERO40);
    }
    webhook_events_free(v, n);
    free(body);
}

static void test_webhook_gitlab_merge_request_actions(void **state)
{
    (void)state;
    check_mr("open", NULL, "opened", false);
    check_mr("update", SHA_B, "synchronize", false);
    check_mr("update", NULL, "edited", false);
    check_mr("reopen", NULL, "reopened", false);
    check_mr("close", NULL, "closed", false);
    check_mr("merge", NULL, "closed", true);
}

static void test_webhook_gitlab_merge_request_other_action(void **state)
{
    char *body = gl_mr("approved", NULL);
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITLAB, "Merge Request Hook", body, &err),
                     FERR_UNSUPPORTED);
    assert_string_equal(err.msg, "merge request action 'approved' is not "
                                 "handled");
    free(body);
}

static void test_webhook_gitlab_merge_request_missing(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITLAB, "Merge Request Hook",
                               "{\"object_kind\":\"merge_request\"}", &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "merge request payload without "
                                 "'object_attributes'");
    assert_int_equal(parse_err(WH_GITLAB, "Merge Request Hook",
                               "{\"object_attributes\":{\"iid\":3,"
                               "\"action\":\"open\",\"source_branch\":\"a\","
                               "\"target_branch\":\"main\"}}",
                               &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "merge request payload without "
                                 "'object_attributes.last_commit.id'");
}

static void test_webhook_gitlab_unhandled_event(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GITLAB, "Note Hook", "{}", &err),
                     FERR_UNSUPPORTED);
    assert_string_equal(err.msg, "event 'Note Hook' is not handled");
    assert_int_equal(parse_err(WH_GITLAB, "push", "{}", &err),
                     FERR_UNSUPPORTED);
}

/* ---------- ferry's post-receive hook ---------- */

static void test_webhook_git_hook_lines(void **state)
{
    size_t n;
    struct webhook_event *v =
        parse_ok(WH_GIT, NULL,
                 SHA_B " " SHA_A " refs/heads/main\n" ZERO40 " " SHA_C
                       " refs/tags/v2\n" SHA_A " " ZERO40 " refs/heads/gone\n",
                 &n);

    (void)state;
    assert_int_equal(n, 3);
    assert_string_equal(v[0].event, "push");
    assert_string_equal(v[0].repo, "");
    assert_string_equal(v[0].ref, "refs/heads/main");
    assert_string_equal(v[0].sha, SHA_A);
    assert_string_equal(v[0].before, SHA_B);
    assert_false(v[0].deleted);
    assert_true(json_is_false(json_object_get(v[0].payload, "created")));
    assert_true(json_is_false(json_object_get(v[0].payload, "forced")));
    assert_string_equal(pstr(v[0].payload, "after", NULL), SHA_A);

    assert_string_equal(v[1].ref, "refs/tags/v2");
    assert_string_equal(v[1].sha, SHA_C);
    assert_true(json_is_true(json_object_get(v[1].payload, "created")));

    assert_string_equal(v[2].ref, "refs/heads/gone");
    assert_true(v[2].deleted);
    assert_string_equal(v[2].sha, "");
    assert_true(json_is_true(json_object_get(v[2].payload, "deleted")));
    webhook_events_free(v, n);
}

static void test_webhook_git_hook_sha256_and_crlf(void **state)
{
    char o[65];
    char nw[65];
    char want[65];
    char body[256];
    size_t n;
    struct webhook_event *v;

    (void)state;
    memset(o, '0', 64);
    memset(nw, '0', 64);
    o[0] = 'a';
    o[63] = 'b';
    nw[0] = 'C';
    nw[63] = 'D';
    o[64] = nw[64] = '\0';
    memcpy(want, nw, sizeof(want));
    want[0] = 'c';
    want[63] = 'd';
    snprintf(body, sizeof(body), "%s %s refs/heads/feature/x\r\n\n", o, nw);
    v = parse_ok(WH_GIT, NULL, body, &n);
    assert_int_equal(n, 1);
    assert_string_equal(v->sha, want);
    assert_string_equal(v->before, o);
    assert_string_equal(v->ref, "refs/heads/feature/x");
    webhook_events_free(v, n);
}

static void test_webhook_git_hook_malformed(void **state)
{
    struct ferr err;
    static const char *const bad[] = {
        SHA_B " " SHA_A,                       /* no ref */
        SHA_B " " SHA_A " ",                   /* empty ref */
        SHA_B "  " SHA_A " refs/heads/a",      /* double space */
        SHA_B " " SHA_A " refs/heads/a b",     /* space in ref */
        SHA_B " " SHA_A " main",               /* not under refs/ */
        SHA_B " " SHA_A " refs/heads/a..b",    /* .. */
        SHA_B " " SHA_A " refs/heads/.hidden", /* leading dot */
        SHA_B " " SHA_A " refs/heads/x.lock",  /* .lock */
        SHA_B " " SHA_A " refs/heads/x/",      /* trailing slash */
        SHA_B " " SHA_A " refs/heads/x@{1}",   /* @{ */
        SHA_B " " SHA_A " refs/heads/\xff",    /* not UTF-8 */
        "59b20b8 " SHA_A " refs/heads/a",      /* short oid */
        SHA_B " 59b20b8d5c6ff8d09518454d4dd8b7b30f095abg refs/heads/a",
        ZERO40 " " ZERO40 " refs/heads/a", /* nothing happened */
        SHA_B " aa00000000000000000000000000000000000000000000000000000000000"
              "0bb refs/heads/a", /* mixed lengths */
        "garbage",
    };

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (parse_err(WH_GIT, NULL, bad[i], &err) != FERR_PARSE)
            fail_msg("case %zu: %s", i, err.msg);
        assert_string_equal(err.msg, "malformed hook line 1");
    }
    assert_int_equal(parse_err(WH_GIT, NULL,
                               SHA_B " " SHA_A " refs/heads/a\n\nbad line\n",
                               &err),
                     FERR_PARSE);
    assert_string_equal(err.msg, "malformed hook line 3");
}

static void test_webhook_git_hook_empty(void **state)
{
    struct ferr err;

    (void)state;
    assert_int_equal(parse_err(WH_GIT, NULL, "", &err), FERR_PARSE);
    assert_int_equal(parse_err(WH_GIT, NULL, "\n\n", &err), FERR_PARSE);
    assert_string_equal(err.msg, "malformed hook body: no ref lines");
}

static void test_webhook_git_hook_ref_limit(void **state)
{
    const char *line = SHA_B " " SHA_A " refs/heads/b\n";
    size_t ll = strlen(line);
    size_t max = LIM_HOOK_REFS + 1;
    char *body = malloc(ll * max + 1);
    struct ferr err;
    struct webhook_event *v = NULL;
    size_t n = 0;

    (void)state;
    assert_non_null(body);
    for (size_t i = 0; i < max; i++)
        memcpy(body + i * ll, line, ll);
    body[ll * max] = '\0';
    ferr_clear(&err);
    assert_int_equal(
        webhook_parse(WH_GIT, NULL, body, ll * LIM_HOOK_REFS, &v, &n, &err),
        FERR_OK);
    assert_int_equal(n, LIM_HOOK_REFS);
    webhook_events_free(v, n);
    assert_int_equal(parse_err(WH_GIT, NULL, body, &err), FERR_LIMIT);
    assert_non_null(strstr(err.msg, "more than 1000 refs"));
    free(body);
}

/* ---------- refs ---------- */

static void test_webhook_ref_valid(void **state)
{
    static const char *const good[] = {
        "refs/heads/main",
        "refs/tags/v1.2.3",
        "refs/heads/feature/x-y_z",
        "refs/heads/caf\xc3\xa9",
        "refs/heads/a.b",
        "refs/pull/1/head",
        "refs/heads/@",
        "refs/heads/a@b",
    };
    static const char *const bad[] = {
        "",
        "refs/",
        "main",
        "refs/heads/",
        "refs/heads//x",
        "refs/heads/x/",
        "refs/heads/x.",
        "refs/heads/.x",
        "refs/heads/a..b",
        "refs/heads/x.lock",
        "refs/heads/x.lock/y",
        "refs/heads/a b",
        "refs/heads/a~1",
        "refs/heads/a^",
        "refs/heads/a:b",
        "refs/heads/a?",
        "refs/heads/a*",
        "refs/heads/a[",
        "refs/heads/a\\b",
        "refs/heads/a@{b",
        "refs/heads/a\x7f",
        "refs/heads/a\tb",
        "refs/heads/\xc3",
        "refs/heads/\xed\xa0\x80",
        "Refs/heads/x",
    };
    char longref[LIM_REF_BYTES + 2];

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        if (!webhook_ref_valid(good[i], strlen(good[i])))
            fail_msg("'%s' should be valid", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        if (webhook_ref_valid(bad[i], strlen(bad[i])))
            fail_msg("'%s' should be invalid", bad[i]);
    assert_false(webhook_ref_valid("refs/heads/a\0b", 14));
    assert_false(webhook_ref_valid(NULL, 0));
    memcpy(longref, "refs/heads/", 11);
    memset(longref + 11, 'x', sizeof(longref) - 11);
    assert_true(webhook_ref_valid(longref, LIM_REF_BYTES));
    assert_false(webhook_ref_valid(longref, LIM_REF_BYTES + 1));
}

static void test_webhook_branch_valid(void **state)
{
    (void)state;
    assert_true(webhook_branch_valid("main", 4));
    assert_true(webhook_branch_valid("release/1.x", 11));
    assert_false(webhook_branch_valid("", 0));
    assert_false(webhook_branch_valid("a..b", 4));
    assert_false(webhook_branch_valid("/main", 5));
    assert_false(webhook_branch_valid("main.lock", 9));
    assert_false(webhook_branch_valid(NULL, 0));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_webhook_source_names),
        cmocka_unit_test(test_webhook_verify_github_documented_example),
        cmocka_unit_test(test_webhook_verify_github_bad),
        cmocka_unit_test(test_webhook_verify_body_changed),
        cmocka_unit_test(test_webhook_verify_missing),
        cmocka_unit_test(test_webhook_verify_wrong_prefix),
        cmocka_unit_test(test_webhook_verify_gitea),
        cmocka_unit_test(test_webhook_verify_gitlab_token),
        cmocka_unit_test(test_webhook_verify_git_hook),
        cmocka_unit_test(test_webhook_verify_empty_key_never_matches),
        cmocka_unit_test(test_webhook_github_push),
        cmocka_unit_test(test_webhook_github_push_uppercase_sha_lowered),
        cmocka_unit_test(test_webhook_github_push_tag),
        cmocka_unit_test(test_webhook_github_push_deleted),
        cmocka_unit_test(test_webhook_github_push_missing_fields),
        cmocka_unit_test(test_webhook_github_push_bad_values),
        cmocka_unit_test(test_webhook_github_pull_request),
        cmocka_unit_test(test_webhook_github_pull_request_missing),
        cmocka_unit_test(test_webhook_github_ping),
        cmocka_unit_test(test_webhook_unhandled_event),
        cmocka_unit_test(test_webhook_missing_event_header),
        cmocka_unit_test(test_webhook_malformed_json),
        cmocka_unit_test(test_webhook_payload_not_object),
        cmocka_unit_test(test_webhook_form_encoded),
        cmocka_unit_test(test_webhook_body_limit),
        cmocka_unit_test(test_webhook_gitea_push_completed),
        cmocka_unit_test(test_webhook_gitea_pull_request_synchronized),
        cmocka_unit_test(test_webhook_gitlab_push),
        cmocka_unit_test(test_webhook_gitlab_tag_push),
        cmocka_unit_test(test_webhook_gitlab_push_deleted),
        cmocka_unit_test(test_webhook_gitlab_merge_request_actions),
        cmocka_unit_test(test_webhook_gitlab_merge_request_other_action),
        cmocka_unit_test(test_webhook_gitlab_merge_request_missing),
        cmocka_unit_test(test_webhook_gitlab_unhandled_event),
        cmocka_unit_test(test_webhook_git_hook_lines),
        cmocka_unit_test(test_webhook_git_hook_sha256_and_crlf),
        cmocka_unit_test(test_webhook_git_hook_malformed),
        cmocka_unit_test(test_webhook_git_hook_empty),
        cmocka_unit_test(test_webhook_git_hook_ref_limit),
        cmocka_unit_test(test_webhook_ref_valid),
        cmocka_unit_test(test_webhook_branch_valid),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
