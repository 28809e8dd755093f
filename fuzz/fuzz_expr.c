/* fuzz_expr: the input is one expression.  It is checked, parsed and
 * evaluated against a small fixed set of contexts, its references are
 * listed, and it is also run through expr_interp and expr_eval_cond as
 * template text.  Besides crashes, a few cross-checks abort: expr_check
 * and expr_eval must agree on syntax errors, a successful result must
 * render with toJSON, and a bare condition must be the truthiness of its
 * value when the status is success. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/expr.h"
#include "util/buf.h"

static json_t *contexts;

static const char ctx_json[] =
    "{\"github\": {\"ref\": \"refs/heads/main\", \"event_name\": \"push\","
    " \"event\": {\"commits\": [{\"message\": \"a\"}, {\"message\": \"b\"}],"
    "  \"pull_request\": {\"title\": \"t\", \"number\": 3}}},"
    " \"env\": {\"A\": \"1\", \"J\": \"{\\\"k\\\": [1, {\\\"x\\\": null}]}\"},"
    " \"matrix\": {\"os\": \"linux\", \"n\": [1, 2.5, true, null]},"
    " \"steps\": {\"s\": {\"outputs\": {\"o\": \"v\"}}},"
    " \"secrets\": {\"T\": \"x\"}}";

static enum ferr_code hash(void *ud, const char *const *p, size_t n,
                           struct buf *out, struct ferr *err)
{
    (void)ud;
    (void)p;
    (void)n;
    (void)err;
    return buf_adds(out, "00ff");
}

static void ref_cb(void *ud, const char *path)
{
    size_t *n = ud;

    *n += strlen(path);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct expr_env env = { NULL, EXPR_OK, hash, NULL };
    struct span src = span_of(data, size);
    struct ferr err;
    struct ferr cerr;
    struct buf b;
    json_t *out = NULL;
    enum ferr_code rc;
    enum ferr_code crc;
    size_t nrefs = 0;
    bool cond;

    if (!contexts) {
        contexts = json_loads(ctx_json, 0, NULL);
        if (!contexts)
            abort();
    }
    env.contexts = contexts;

    ferr_clear(&cerr);
    crc = expr_check(src, NULL, EXPR_CTX_ALL, EXPR_FN_ALL, &cerr);
    ferr_clear(&err);
    rc = expr_eval(&env, src, NULL, &out, &err);
    if (crc && rc != crc)
        abort(); /* a check failure is a parse-time failure */
    if (rc == FERR_PARSE && crc != FERR_PARSE)
        abort();
    if (!rc) {
        if (!out)
            abort();
        buf_init(&b, 64u << 20);
        if (expr_to_json(out, &b))
            abort();
        buf_release(&b);
        if (!memchr(data, '$', size)) {
            ferr_clear(&err);
            if (expr_eval_cond(&env, src, NULL, &cond, &err) == FERR_OK &&
                cond != expr_truthy(out) && !json_is_string(out))
                abort(); /* NaN and infinities come back as strings */
        }
    } else if (out) {
        abort();
    }
    json_decref(out);

    ferr_clear(&err);
    rc = expr_refs(src, ref_cb, &nrefs, &err);
    if (!crc && rc)
        abort();

    buf_init(&b, 1u << 20);
    ferr_clear(&err);
    (void)expr_interp(&env, src, NULL, &b, &err);
    buf_release(&b);

    out = NULL;
    ferr_clear(&err);
    if (expr_interp_value(&env, src, NULL, &out, &err) == FERR_OK && !out)
        abort();
    json_decref(out);

    env.status = EXPR_FAILED;
    ferr_clear(&err);
    (void)expr_eval_cond(&env, src, NULL, &cond, &err);
    return 0;
}
