/* fuzz_api_body: byte 0 picks the parser (repo, token, secret, dispatch,
 * rerun); the rest is the request body.  No input may crash; a failure
 * must say why and leave the struct released; a success must hold only
 * values the parser promises (valid names, refs, string inputs...). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "server/body.h"
#include "trigger/webhook.h"
#include "util/limits.h"

static void check_err(enum ferr_code rc, const struct ferr *err)
{
    if (err->code != rc || !err->msg[0])
        __builtin_trap();
}

static void repo(const char *body, size_t len)
{
    struct body_repo b;
    struct ferr err;
    enum ferr_code rc;

    ferr_clear(&err);
    rc = body_parse_repo(body, len, &b, &err);
    if (rc) {
        check_err(rc, &err);
        if (b.name || b.url || b.default_branch || b.webhook_secret)
            __builtin_trap();
        return;
    }
    if (!body_valid_name(b.name) || !b.url[0] || strlen(b.url) > LIM_URL ||
        !webhook_branch_valid(b.default_branch, strlen(b.default_branch)))
        __builtin_trap();
    if (b.webhook_secret &&
        (strlen(b.webhook_secret) < 16 || strlen(b.webhook_secret) > 256))
        __builtin_trap();
    body_repo_release(&b);
}

static void token(const char *body, size_t len)
{
    struct body_token b;
    struct ferr err;
    enum ferr_code rc;

    ferr_clear(&err);
    rc = body_parse_token(body, len, &b, &err);
    if (rc) {
        check_err(rc, &err);
        if (b.name)
            __builtin_trap();
        return;
    }
    if (b.role < ROLE_VIEWER || b.role > ROLE_ADMIN || !b.name ||
        strlen(b.name) > LIM_NAME)
        __builtin_trap();
    body_token_release(&b);
}

static void secret(const char *body, size_t len)
{
    struct body_secret b;
    struct ferr err;
    enum ferr_code rc;

    ferr_clear(&err);
    rc = body_parse_secret(body, len, &b, &err);
    if (rc) {
        check_err(rc, &err);
        if (b.value || b.len)
            __builtin_trap();
        return;
    }
    if (!b.value || b.len == 0 || b.len > LIM_SECRET_BYTES ||
        strlen(b.value) != b.len)
        __builtin_trap();
    body_secret_release(&b);
    if (b.value || b.len)
        __builtin_trap();
}

static void dispatch(const char *body, size_t len)
{
    struct body_dispatch b;
    struct ferr err;
    enum ferr_code rc;
    const char *k;
    json_t *v;

    ferr_clear(&err);
    rc = body_parse_dispatch(body, len, &b, &err);
    if (rc) {
        check_err(rc, &err);
        if (b.ref || b.inputs)
            __builtin_trap();
        return;
    }
    if (!json_is_object(b.inputs) ||
        json_object_size(b.inputs) > LIM_DISPATCH_INPUTS)
        __builtin_trap();
    if (b.ref && !(strncmp(b.ref, "refs/", 5) == 0
                       ? webhook_ref_valid(b.ref, strlen(b.ref))
                       : webhook_branch_valid(b.ref, strlen(b.ref))))
        __builtin_trap();
    json_object_foreach (b.inputs, k, v) {
        if (!k[0] || strlen(k) > LIM_NAME || !json_is_string(v) ||
            json_string_length(v) > LIM_INPUT_BYTES)
            __builtin_trap();
    }
    body_dispatch_release(&b);
}

static void rerun(const char *body, size_t len)
{
    struct body_rerun b;
    struct ferr err;
    enum ferr_code rc;

    ferr_clear(&err);
    rc = body_parse_rerun(body, len, &b, &err);
    if (rc)
        check_err(rc, &err);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *body;
    size_t len;

    if (size < 1)
        return 0;
    body = (const char *)data + 1;
    len = size - 1;
    switch (data[0] % 5) {
    case 0: repo(body, len); break;
    case 1: token(body, len); break;
    case 2: secret(body, len); break;
    case 3: dispatch(body, len); break;
    default: rerun(body, len); break;
    }
    return 0;
}
