/* body: the API's request bodies, checked field by field into structs.
 * Only shape and syntax are checked here (names, refs, sizes, types);
 * whether a repository exists or an input is declared by the workflow
 * is for the handlers and the engine. */
#include "server/body.h"

#include <float.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "trigger/webhook.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

static bool has_control(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
            return true;
    return false;
}

static bool all_space(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!strchr(" \t\r\n", s[i]) || s[i] == '\0')
            return false;
    return true;
}

/* The body as a JSON object; @empty_ok makes an empty body {}. */
static enum ferr_code load(const char *body, size_t len, bool empty_ok,
                           json_t **out, struct ferr *err)
{
    json_error_t jerr;

    *out = NULL;
    if (len > LIM_API_BODY)
        return ferr_set(err, FERR_LIMIT, NULL, "body is over %u bytes",
                        LIM_API_BODY);
    if (!body)
        body = "";
    if (empty_ok && all_space(body, len)) {
        *out = json_object();
        return FERR_OK;
    }
    *out =
        json_loadb(body, len, JSON_REJECT_DUPLICATES | JSON_DECODE_ANY, &jerr);
    if (!*out)
        return ferr_set(err, FERR_PARSE, NULL,
                        "malformed JSON at line %d col %d: %s", jerr.line,
                        jerr.column, jerr.text);
    if (!json_is_object(*out)) {
        json_decref(*out);
        *out = NULL;
        return ferr_set(err, FERR_PARSE, NULL, "body must be a JSON object");
    }
    return FERR_OK;
}

static enum ferr_code only_keys(json_t *o, const char *const *allowed,
                                struct ferr *err)
{
    const char *key;
    json_t *v;
    char q[72];

    json_object_foreach (o, key, v) {
        size_t i = 0;

        while (allowed[i] && strcmp(allowed[i], key) != 0)
            i++;
        if (!allowed[i])
            return ferr_set(err, FERR_INVALID, NULL, "unknown field '%s'",
                            span_quote(key, strlen(key), q));
    }
    return FERR_OK;
}

/* A string field: *@out NULL when absent or null (an error when
 * @required). */
static enum ferr_code get_str(json_t *o, const char *key, bool required,
                              const char **out, size_t *out_len,
                              struct ferr *err)
{
    json_t *v = json_object_get(o, key);

    *out = NULL;
    *out_len = 0;
    if (!v || json_is_null(v)) {
        if (required)
            return ferr_set(err, FERR_INVALID, NULL, "missing field '%s'", key);
        return FERR_OK;
    }
    if (!json_is_string(v))
        return ferr_set(err, FERR_INVALID, NULL, "'%s' must be a string", key);
    *out = json_string_value(v);
    *out_len = json_string_length(v);
    return FERR_OK;
}

bool body_valid_name(const char *s)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    if (n == 0 || n > LIM_NAME || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789._-") == n;
}

bool body_valid_secret_name(const char *s)
{
    size_t n;

    if (!s)
        return false;
    n = strlen(s);
    if (n == 0 || n > LIM_NAME || (s[0] >= '0' && s[0] <= '9') ||
        strncasecmp(s, "GITHUB_", 7) == 0)
        return false;
    return strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                     "0123456789_") == n;
}

/* ---------- repo ---------- */

void body_repo_release(struct body_repo *b)
{
    free(b->name);
    free(b->url);
    free(b->default_branch);
    if (b->webhook_secret) {
        OPENSSL_cleanse(b->webhook_secret, strlen(b->webhook_secret));
        free(b->webhook_secret);
    }
    memset(b, 0, sizeof(*b));
}

enum ferr_code body_parse_repo(const char *body, size_t len,
                               struct body_repo *out, struct ferr *err)
{
    static const char *const keys[] = {"name", "url", "default_branch",
                                       "webhook_secret", NULL};
    json_t *o = NULL;
    const char *name = NULL;
    const char *url = NULL;
    const char *branch = NULL;
    const char *secret = NULL;
    size_t nlen = 0;
    size_t ulen = 0;
    size_t blen = 0;
    size_t slen = 0;
    char q[72];
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    rc = load(body, len, false, &o, err);
    if (!rc)
        rc = only_keys(o, keys, err);
    if (!rc)
        rc = get_str(o, "name", true, &name, &nlen, err);
    if (!rc)
        rc = get_str(o, "url", true, &url, &ulen, err);
    if (!rc)
        rc = get_str(o, "default_branch", false, &branch, &blen, err);
    if (!rc)
        rc = get_str(o, "webhook_secret", false, &secret, &slen, err);
    if (rc)
        goto done;
    if (!body_valid_name(name)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "invalid repository name '%s': use 1 to %u letters, "
                      "digits, '.', '_' or '-'",
                      span_quote(name, nlen, q), LIM_NAME);
        goto done;
    }
    if (ulen == 0) {
        rc = ferr_set(err, FERR_INVALID, NULL, "'url' must not be empty");
        goto done;
    }
    if (has_control(url, ulen)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "'url' must not contain control characters");
        goto done;
    }
    if (ulen > LIM_URL) {
        rc = ferr_set(err, FERR_LIMIT, NULL, "'url' is over %u bytes", LIM_URL);
        goto done;
    }
    if (branch && !webhook_branch_valid(branch, blen)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "invalid default_branch '%s': not a git branch name",
                      span_quote(branch, blen, q));
        goto done;
    }
    if (secret && (slen < 16 || slen > 256)) {
        rc =
            ferr_set(err, FERR_INVALID, NULL,
                     "'webhook_secret' must be 16 to 256 bytes, not %zu", slen);
        goto done;
    }
    if (secret && has_control(secret, slen)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "'webhook_secret' must not contain control characters");
        goto done;
    }
    out->name = xstrdup(name);
    out->url = xstrdup(url);
    out->default_branch = xstrdup(branch ? branch : "main");
    out->webhook_secret = secret ? xstrdup(secret) : NULL;
done:
    if (secret)
        OPENSSL_cleanse((char *)secret, slen); /* the tree's copy */
    json_decref(o);
    if (rc)
        body_repo_release(out);
    return rc;
}

/* ---------- token ---------- */

void body_token_release(struct body_token *b)
{
    free(b->name);
    memset(b, 0, sizeof(*b));
}

enum ferr_code body_parse_token(const char *body, size_t len,
                                struct body_token *out, struct ferr *err)
{
    static const char *const keys[] = {"role", "name", NULL};
    json_t *o = NULL;
    const char *role = NULL;
    const char *name = NULL;
    size_t rlen;
    size_t nlen;
    char q[72];
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    rc = load(body, len, false, &o, err);
    if (!rc)
        rc = only_keys(o, keys, err);
    if (!rc)
        rc = get_str(o, "role", true, &role, &rlen, err);
    if (!rc)
        rc = get_str(o, "name", false, &name, &nlen, err);
    if (rc)
        goto done;
    out->role = store_role_parse(role);
    if (out->role == ROLE_NONE) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "unknown role '%s': use viewer, developer, approver or "
                      "admin",
                      span_quote(role, rlen, q));
        goto done;
    }
    if (name && (nlen > LIM_NAME || has_control(name, nlen))) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "invalid token name '%s': at most %u bytes, no control "
                      "characters",
                      span_quote(name, nlen, q), LIM_NAME);
        goto done;
    }
    out->name = xstrdup(name ? name : "");
done:
    json_decref(o);
    if (rc)
        body_token_release(out);
    return rc;
}

/* ---------- secret ---------- */

void body_secret_release(struct body_secret *b)
{
    if (b->value) {
        OPENSSL_cleanse(b->value, b->len);
        free(b->value);
    }
    memset(b, 0, sizeof(*b));
}

enum ferr_code body_parse_secret(const char *body, size_t len,
                                 struct body_secret *out, struct ferr *err)
{
    static const char *const keys[] = {"value", NULL};
    json_t *o = NULL;
    const char *value = NULL;
    size_t vlen = 0;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    rc = load(body, len, false, &o, err);
    if (!rc)
        rc = only_keys(o, keys, err);
    if (!rc)
        rc = get_str(o, "value", true, &value, &vlen, err);
    if (rc)
        goto done;
    if (vlen == 0) {
        rc = ferr_set(err, FERR_INVALID, NULL, "'value' must not be empty");
        goto done;
    }
    if (vlen > LIM_SECRET_BYTES) {
        rc = ferr_set(err, FERR_LIMIT, NULL, "'value' is over %u bytes",
                      LIM_SECRET_BYTES);
        goto done;
    }
    out->value = xmemdup(value, vlen + 1);
    out->len = vlen;
done:
    /* the tree's copy of the secret is ours to wipe */
    if (value)
        OPENSSL_cleanse((char *)value, vlen);
    json_decref(o);
    if (rc)
        body_secret_release(out);
    return rc;
}

/* ---------- dispatch ---------- */

void body_dispatch_release(struct body_dispatch *b)
{
    free(b->ref);
    json_decref(b->inputs);
    memset(b, 0, sizeof(*b));
}

/* The shortest decimal that reads back as @d (JavaScript's way of
 * printing numbers, which is what GitHub shows). */
static json_t *real_string(double d)
{
    char s[64];

    for (int prec = 1; prec <= DBL_DECIMAL_DIG; prec++) {
        snprintf(s, sizeof(s), "%.*g", prec, d);
        if (strtod(s, NULL) == d)
            break;
    }
    return json_string(s);
}

static enum ferr_code input_value(const char *key, json_t *v, json_t **out,
                                  struct ferr *err)
{
    char num[32];
    char q[72];

    *out = NULL;
    if (json_is_string(v)) {
        if (json_string_length(v) > LIM_INPUT_BYTES)
            return ferr_set(err, FERR_LIMIT, NULL,
                            "input '%s' is over %u bytes",
                            span_quote(key, strlen(key), q), LIM_INPUT_BYTES);
        *out = json_incref(v);
    } else if (json_is_boolean(v)) {
        *out = json_string(json_is_true(v) ? "true" : "false");
    } else if (json_is_integer(v)) {
        snprintf(num, sizeof(num), "%" JSON_INTEGER_FORMAT,
                 json_integer_value(v));
        *out = json_string(num);
    } else if (json_is_real(v)) {
        *out = real_string(json_real_value(v));
    } else {
        return ferr_set(err, FERR_INVALID, NULL,
                        "input '%s' must be a string, number or boolean",
                        span_quote(key, strlen(key), q));
    }
    return FERR_OK;
}

static enum ferr_code parse_inputs(json_t *in, json_t **out, struct ferr *err)
{
    const char *key;
    json_t *v;
    char q[72];
    enum ferr_code rc = FERR_OK;

    *out = json_object();
    if (!in || json_is_null(in))
        return FERR_OK;
    if (!json_is_object(in))
        return ferr_set(err, FERR_INVALID, NULL, "'inputs' must be an object");
    if (json_object_size(in) > LIM_DISPATCH_INPUTS)
        return ferr_set(err, FERR_LIMIT, NULL, "more than %u inputs",
                        LIM_DISPATCH_INPUTS);
    json_object_foreach (in, key, v) {
        size_t klen = strlen(key);
        json_t *s;

        if (klen == 0 || klen > LIM_NAME || has_control(key, klen))
            return ferr_set(err, FERR_INVALID, NULL, "invalid input name '%s'",
                            span_quote(key, klen, q));
        rc = input_value(key, v, &s, err);
        if (rc)
            return rc;
        json_object_set_new(*out, key, s);
    }
    return FERR_OK;
}

enum ferr_code body_parse_dispatch(const char *body, size_t len,
                                   struct body_dispatch *out, struct ferr *err)
{
    static const char *const keys[] = {"ref", "inputs", NULL};
    json_t *o = NULL;
    const char *ref = NULL;
    size_t rlen;
    char q[72];
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    rc = load(body, len, true, &o, err);
    if (!rc)
        rc = only_keys(o, keys, err);
    if (!rc)
        rc = get_str(o, "ref", false, &ref, &rlen, err);
    if (rc)
        goto done;
    if (ref && !(rlen > 5 && strncmp(ref, "refs/", 5) == 0
                     ? webhook_ref_valid(ref, rlen)
                     : webhook_branch_valid(ref, rlen))) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "invalid ref '%s': not a git branch or ref name",
                      span_quote(ref, rlen, q));
        goto done;
    }
    rc = parse_inputs(json_object_get(o, "inputs"), &out->inputs, err);
    if (rc)
        goto done;
    out->ref = ref ? xstrdup(ref) : NULL;
done:
    json_decref(o);
    if (rc)
        body_dispatch_release(out);
    return rc;
}

/* ---------- rerun ---------- */

enum ferr_code body_parse_rerun(const char *body, size_t len,
                                struct body_rerun *out, struct ferr *err)
{
    static const char *const keys[] = {"failed_only", NULL};
    json_t *o = NULL;
    json_t *v;
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    rc = load(body, len, true, &o, err);
    if (!rc)
        rc = only_keys(o, keys, err);
    if (rc)
        goto done;
    v = json_object_get(o, "failed_only");
    if (v && !json_is_null(v) && !json_is_boolean(v)) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "'failed_only' must be a boolean");
        goto done;
    }
    out->failed_only = json_is_true(v);
done:
    json_decref(o);
    return rc;
}
