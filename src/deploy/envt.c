/* envt: parsing and checking an environment's protection rules.  No
 * I/O and no clock of its own: the server passes the time in.  What it
 * does not do: keep approvals or locks (server/cd.c does). */
#include "deploy/envt.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pipeline/glob.h"
#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"

#define MAX_REVIEWERS 10u
#define MAX_LIST 100u           /* users, branches, freezes */
#define MAX_TIMEOUT_S (7u * 86400u)
#define MAX_WAIT_S (30u * 86400u) /* GitHub's limit for a wait timer */
#define YEAR_10000_S INT64_C(253402300800) /* RFC 3339 has 4-digit years */

enum ferr_code envt_duration(const char *text, unsigned *out_s,
                             struct ferr *err)
{
    uint64_t v = 0;
    uint64_t mul = 1;
    size_t n = text ? strlen(text) : 0;
    size_t digits = 0;

    *out_s = 0;
    while (digits < n && text[digits] >= '0' && text[digits] <= '9') {
        v = v * 10 + (uint64_t)(text[digits] - '0');
        if (v > UINT32_MAX)
            break;
        digits++;
    }
    if (digits + 1 == n) {
        switch (text[digits]) {
        case 's': mul = 1; break;
        case 'm': mul = 60; break;
        case 'h': mul = 3600; break;
        case 'd': mul = 86400; break;
        default: mul = 0; break;
        }
    } else if (digits != n) {
        mul = 0;
    }
    if (digits == 0 || mul == 0 || v * mul >= (1u << 31))
        return ferr_set(err, FERR_INVALID, NULL,
                        "bad duration '%.*s' (like 90s, 5m, 2h)",
                        (int)(n > 40 ? 40 : n), text ? text : "");
    *out_s = (unsigned)(v * mul);
    return FERR_OK;
}

/* RFC 3339 UTC ("2026-12-24T00:00:00Z") or a date ("2026-12-24"). */
static bool parse_time(const char *text, int64_t *out_ms)
{
    struct tm tm;
    const char *end;

    memset(&tm, 0, sizeof(tm));
    end = strptime(text, "%Y-%m-%dT%H:%M:%SZ", &tm);
    if (!end || *end) {
        memset(&tm, 0, sizeof(tm));
        end = strptime(text, "%Y-%m-%d", &tm);
        if (!end || *end)
            return false;
    }
    {
        int64_t t = (int64_t)timegm(&tm);

        if (t < 0 || t >= YEAR_10000_S)
            return false;
        *out_ms = t * 1000;
    }
    return true;
}

static void format_time(int64_t ms, char out[32])
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;

    if (!gmtime_r(&t, &tm))
        memset(&tm, 0, sizeof(tm));
    strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static enum ferr_code seconds_of(json_t *v, const char *key, unsigned *out,
                                 struct ferr *err)
{
    if (json_is_integer(v)) {
        json_int_t i = json_integer_value(v);

        if (i < 0 || i >= ((json_int_t)1 << 31))
            return ferr_set(err, FERR_INVALID, NULL,
                            "'%s': %lld seconds is out of range", key,
                            (long long)i);
        *out = (unsigned)i;
        return FERR_OK;
    }
    if (json_is_string(v)) {
        enum ferr_code rc = envt_duration(json_string_value(v), out, err);

        if (rc)
            ferr_prefix(err, "'%s'", key);
        return rc;
    }
    return ferr_set(err, FERR_INVALID, NULL,
                    "'%s' must be seconds or a duration like \"30m\"", key);
}

/* A list of short names: @v must be an array of non-empty strings. */
static enum ferr_code names_of(json_t *v, const char *key, size_t maxlen,
                               char ***out, size_t *out_n, struct ferr *err)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return ferr_set(err, FERR_INVALID, NULL,
                        "'%s' must be a list of names", key);
    if (json_array_size(v) > MAX_LIST)
        return ferr_set(err, FERR_LIMIT, NULL, "'%s' has more than %u entries",
                        key, MAX_LIST);
    *out = xcalloc(json_array_size(v) + 1, sizeof(**out));
    json_array_foreach (v, i, e) {
        const char *s = json_string_value(e);

        if (!s || !*s || strlen(s) > maxlen || strchr(s, '\n'))
            return ferr_set(err, FERR_INVALID, NULL,
                            "'%s' entry %zu must be a name of 1..%zu "
                            "characters",
                            key, i + 1, maxlen);
        (*out)[i] = xstrdup(s);
        (*out_n)++;
    }
    return FERR_OK;
}

static enum ferr_code freezes_of(json_t *v, struct envt_rules *r,
                                 struct ferr *err)
{
    size_t i;
    json_t *e;

    if (!json_is_array(v))
        return ferr_set(err, FERR_INVALID, NULL,
                        "'freeze' must be a list of {\"from\", \"to\"}");
    if (json_array_size(v) > MAX_LIST)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "'freeze' has more than %u entries", MAX_LIST);
    r->freezes = xcalloc(json_array_size(v) + 1, sizeof(*r->freezes));
    json_array_foreach (v, i, e) {
        const char *from = json_string_value(json_object_get(e, "from"));
        const char *to = json_string_value(json_object_get(e, "to"));
        struct envt_freeze *f = &r->freezes[i];

        if (!json_is_object(e) || json_object_size(e) != 2 || !from || !to)
            return ferr_set(err, FERR_INVALID, NULL,
                            "'freeze' entry %zu must be {\"from\": TIME, "
                            "\"to\": TIME}",
                            i + 1);
        if (!parse_time(from, &f->from_ms) || !parse_time(to, &f->to_ms))
            return ferr_set(err, FERR_INVALID, NULL,
                            "'freeze' entry %zu: times are RFC 3339 in UTC "
                            "(2026-12-24T00:00:00Z) or dates",
                            i + 1);
        if (f->to_ms <= f->from_ms)
            return ferr_set(err, FERR_INVALID, NULL,
                            "'freeze' entry %zu ends before it starts", i + 1);
        r->n_freezes++;
    }
    return FERR_OK;
}

static enum ferr_code parse_into(json_t *in, struct envt_rules *r,
                                 struct ferr *err)
{
    const char *k;
    json_t *v;
    enum ferr_code rc = FERR_OK;

    if (!json_is_object(in))
        return ferr_set(err, FERR_INVALID, NULL,
                        "environment rules must be a JSON object");
    json_object_foreach (in, k, v) {
        if (strcmp(k, "reviewers") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 ||
                json_integer_value(v) > MAX_REVIEWERS)
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "'reviewers' must be a number of approvals "
                              "from 0 to %u",
                              MAX_REVIEWERS);
            else
                r->reviewers = (unsigned)json_integer_value(v);
        } else if (strcmp(k, "reviewer_role") == 0) {
            const char *s = json_string_value(v);

            r->reviewer_role = s ? store_role_parse(s) : ROLE_NONE;
            if (r->reviewer_role < ROLE_DEVELOPER)
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "'reviewer_role' must be developer, approver "
                              "or admin");
        } else if (strcmp(k, "reviewer_users") == 0) {
            rc = names_of(v, k, LIM_NAME, &r->users, &r->n_users, err);
        } else if (strcmp(k, "prevent_self_review") == 0) {
            if (!json_is_boolean(v))
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "'prevent_self_review' must be true or false");
            else
                r->prevent_self_review = json_is_true(v);
        } else if (strcmp(k, "branches") == 0) {
            rc = names_of(v, k, LIM_REF_BYTES, &r->branches, &r->n_branches,
                          err);
            for (size_t i = 0; !rc && i < r->n_branches; i++)
                if (glob_check(span_cstr(r->branches[i]), NULL, err)) {
                    ferr_prefix(err, "'branches' entry %zu", i + 1);
                    err->code = FERR_INVALID; /* a bad value, as the rest */
                    rc = FERR_INVALID;
                }
        } else if (strcmp(k, "wait_timer") == 0) {
            rc = seconds_of(v, "wait_timer", &r->wait_timer_s, err);
            if (!rc && r->wait_timer_s > MAX_WAIT_S)
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "'wait_timer' must be at most 30 days");
        } else if (strcmp(k, "approval_timeout") == 0) {
            rc = seconds_of(v, "approval_timeout", &r->approval_timeout_s,
                            err);
            if (!rc && (r->approval_timeout_s == 0 ||
                        r->approval_timeout_s > MAX_TIMEOUT_S))
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "'approval_timeout' must be from 1 s to 7 days");
        } else if (strcmp(k, "freeze") == 0) {
            rc = freezes_of(v, r, err);
        } else if (strcmp(k, "production") == 0) {
            if (!json_is_boolean(v))
                rc = ferr_set(err, FERR_INVALID, NULL,
                              "'production' must be true or false");
            else
                r->production = json_is_true(v);
        } else {
            rc = ferr_set(err, FERR_INVALID, NULL,
                          "unknown environment rule '%.60s' (reviewers, "
                          "reviewer_role, reviewer_users, "
                          "prevent_self_review, branches, wait_timer, "
                          "approval_timeout, freeze, production)",
                          k);
        }
        if (rc)
            return rc;
    }
    return FERR_OK;
}

enum ferr_code envt_rules_parse(json_t *in, struct envt_rules *out,
                                struct ferr *err)
{
    enum ferr_code rc;

    memset(out, 0, sizeof(*out));
    out->reviewer_role = ROLE_APPROVER;
    out->prevent_self_review = true;
    out->approval_timeout_s = ENVT_DEFAULT_TIMEOUT_S;
    rc = parse_into(in, out, err);
    if (rc)
        envt_rules_release(out);
    return rc;
}

static void free_names(char **v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

void envt_rules_release(struct envt_rules *r)
{
    free_names(r->users, r->n_users);
    free_names(r->branches, r->n_branches);
    free(r->freezes);
    memset(r, 0, sizeof(*r));
}

static json_t *names_json(char **v, size_t n)
{
    json_t *a = json_array();

    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

json_t *envt_rules_json(const struct envt_rules *r)
{
    json_t *fr = json_array();

    for (size_t i = 0; i < r->n_freezes; i++) {
        char from[32];
        char to[32];

        format_time(r->freezes[i].from_ms, from);
        format_time(r->freezes[i].to_ms, to);
        json_array_append_new(fr, json_pack("{s:s, s:s}", "from", from, "to",
                                            to));
    }
    return json_pack("{s:i, s:s, s:o, s:b, s:o, s:i, s:i, s:o, s:b}",
                     "reviewers", (int)r->reviewers, "reviewer_role",
                     store_role_name(r->reviewer_role), "reviewer_users",
                     names_json(r->users, r->n_users), "prevent_self_review",
                     r->prevent_self_review, "branches",
                     names_json(r->branches, r->n_branches), "wait_timer",
                     (int)r->wait_timer_s, "approval_timeout",
                     (int)r->approval_timeout_s, "freeze", fr, "production",
                     r->production);
}

bool envt_branch_allowed(const struct envt_rules *r, const char *ref)
{
    const char *name = ref;

    if (r->n_branches == 0)
        return true;
    if (strncmp(ref, "refs/heads/", 11) == 0)
        name = ref + 11;
    else if (strncmp(ref, "refs/tags/", 10) == 0)
        name = ref + 10;
    return glob_match_list((const char *const *)r->branches, r->n_branches,
                           span_cstr(name));
}

int64_t envt_frozen_until(const struct envt_rules *r, int64_t now_ms)
{
    int64_t until = 0;

    for (size_t i = 0; i < r->n_freezes; i++)
        if (now_ms >= r->freezes[i].from_ms && now_ms < r->freezes[i].to_ms &&
            r->freezes[i].to_ms > until)
            until = r->freezes[i].to_ms;
    return until;
}

enum ferr_code envt_may_review(const struct envt_rules *r, const char *env,
                               enum store_role role, const char *user,
                               const char *actor, struct ferr *err)
{
    bool listed = r->n_users == 0;

    if (role < r->reviewer_role)
        return ferr_set(err, FERR_USAGE, NULL,
                        "reviewing '%s' needs the %s role (the token is %s)",
                        env, store_role_name(r->reviewer_role),
                        store_role_name(role));
    for (size_t i = 0; i < r->n_users && user; i++)
        listed = listed || strcmp(r->users[i], user) == 0;
    if (!listed)
        return ferr_set(err, FERR_USAGE, NULL,
                        "'%s' is not a reviewer of '%s'", user ? user : "",
                        env);
    if (r->prevent_self_review && user && actor && *user &&
        strcmp(user, actor) == 0)
        return ferr_set(err, FERR_USAGE, NULL,
                        "'%s' triggered this deployment and may not review "
                        "it",
                        user);
    return FERR_OK;
}
