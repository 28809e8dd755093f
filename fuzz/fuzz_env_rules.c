/* fuzz_env_rules: the input is an environment's rules as JSON.  No input
 * may crash; a rejection must say why and leave the rules released; what
 * parses must be stored (envt_rules_json), read back and stored again to
 * the same JSON, and the checks must run on it without crashing. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/envt.h"

static int all_zero(const void *p, size_t n)
{
    const unsigned char *c = p;

    for (size_t i = 0; i < n; i++)
        if (c[i])
            return 0;
    return 1;
}

/* The checks, on whatever the rules hold. */
static void exercise(const struct envt_rules *r)
{
    static const char *const refs[] = { "refs/heads/main",
                                        "refs/heads/release/1.2",
                                        "refs/tags/v1.0.0", "main", "" };
    struct ferr err;
    int64_t prev = 0;

    for (size_t i = 0; i < sizeof(refs) / sizeof(refs[0]); i++)
        (void)envt_branch_allowed(r, refs[i]);
    for (size_t i = 0; i < r->n_freezes; i++) {
        int64_t f = r->freezes[i].from_ms;
        int64_t t = r->freezes[i].to_ms;

        if (t <= f)
            abort(); /* parse promised to < from is rejected */
        if (envt_frozen_until(r, f) < t || envt_frozen_until(r, t - 1) < t)
            abort(); /* a freeze holds from its start to its end */
        prev = envt_frozen_until(r, t);
        if (prev != 0 && prev <= t)
            abort(); /* any answer is a freeze end still ahead */
    }
    for (int role = ROLE_NONE; role <= ROLE_ADMIN; role++) {
        ferr_clear(&err);
        if (envt_may_review(r, "production", (enum store_role)role,
                            r->n_users ? r->users[0] : "alice", "alice",
                            &err) != err.code)
            abort();
    }
}


int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_error_t jerr;
    json_t *in = json_loadb((const char *)data, size, JSON_DECODE_ANY, &jerr);
    struct envt_rules a;
    struct envt_rules b;
    struct ferr err;
    json_t *ja;
    json_t *jb;
    enum ferr_code rc;

    if (!in)
        return 0;
    ferr_clear(&err);
    rc = envt_rules_parse(in, &a, &err);
    json_decref(in);
    if (rc) {
        if (err.code != rc || !err.msg[0] || !all_zero(&a, sizeof(a)))
            abort(); /* a failure says why and leaves nothing behind */
        return 0;
    }
    if (a.reviewers > 10 || a.reviewer_role < ROLE_DEVELOPER ||
        a.reviewer_role > ROLE_ADMIN || a.approval_timeout_s == 0 ||
        a.approval_timeout_s > 7u * 86400u)
        abort();
    exercise(&a);
    ja = envt_rules_json(&a);
    if (!ja)
        abort(); /* valid rules always have a stored form */
    ferr_clear(&err);
    if (envt_rules_parse(ja, &b, &err) != FERR_OK)
        abort(); /* the stored form must read back */
    jb = envt_rules_json(&b);
    if (!jb || !json_equal(ja, jb))
        abort(); /* and store to the same JSON */
    if (a.reviewers != b.reviewers || a.wait_timer_s != b.wait_timer_s ||
        a.approval_timeout_s != b.approval_timeout_s ||
        a.n_users != b.n_users || a.n_branches != b.n_branches ||
        a.n_freezes != b.n_freezes)
        abort();
    for (size_t i = 0; i < a.n_freezes; i++)
        if (a.freezes[i].from_ms != b.freezes[i].from_ms ||
            a.freezes[i].to_ms != b.freezes[i].to_ms)
            abort(); /* times are whole seconds: the text form is exact */
    json_decref(ja);
    json_decref(jb);
    envt_rules_release(&a);
    envt_rules_release(&b);
    return 0;
}
