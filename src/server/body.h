/* body: parse and validate the JSON bodies of API requests into plain
 * structs, so handlers see only checked values.  Shared rules: the body
 * is at most LIM_API_BODY bytes of JSON (duplicate keys rejected) whose
 * top level is an object; unknown keys and wrong types are refused; an
 * optional field given as null counts as absent. */
#ifndef FERRY_SERVER_BODY_H
#define FERRY_SERVER_BODY_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "store/store.h"
#include "util/ferr.h"

/*
 * Errors every body_parse_* may return (the struct is left released:
 * every pointer NULL, so *_release on it is a harmless no-op):
 *   FERR_LIMIT   "body is over N bytes" (over LIM_API_BODY)
 *   FERR_PARSE   "malformed JSON at line L col C: ..." (also duplicate
 *                keys), "body must be a JSON object"
 *   FERR_INVALID "unknown field 'x'", "'name' must be a string",
 *                "missing field 'name'", and the per-field rules below
 * Parsers are pure: any thread.  @body may be NULL when @len is 0.
 */

/** POST /api/v1/repos.  Every string is heap, owned by the struct. */
struct body_repo {
    char *name;           /* [A-Za-z0-9._-]{1,LIM_NAME}, not "." or ".." */
    char *url;            /* 1..LIM_URL bytes, no control characters */
    char *default_branch; /* a valid branch name; "main" when absent */
    char *webhook_secret; /* 16..256 bytes, or NULL when absent */
};

/**
 * Parse {"name", "url", "default_branch"?, "webhook_secret"?}.
 * Errors (besides the shared ones): FERR_INVALID for a bad name, url,
 * branch or secret length; FERR_LIMIT for a url over LIM_URL.
 * Ownership: on success *@out is the caller's (body_repo_release).
 */
enum ferr_code body_parse_repo(const char *body, size_t len,
                               struct body_repo *out,
                               struct ferr *err) FERR_MUST_CHECK;
/** Free the strings of @b (wiping webhook_secret); @b is left zeroed. */
void body_repo_release(struct body_repo *b);

/** POST /api/v1/tokens. */
struct body_token {
    enum store_role role; /* viewer, developer, approver or admin */
    char *name;           /* label, "" when absent; at most LIM_NAME bytes,
                             no control characters */
};

/**
 * Parse {"role", "name"?}.  Errors: FERR_INVALID "unknown role 'x': use
 * viewer, developer, approver or admin", a name too long or with control
 * characters.  Ownership: body_token_release.
 */
enum ferr_code body_parse_token(const char *body, size_t len,
                                struct body_token *out,
                                struct ferr *err) FERR_MUST_CHECK;
/** Free @b's name; @b is left zeroed. */
void body_token_release(struct body_token *b);

/** PUT /api/v1/repos/NAME/secrets/SECRET. */
struct body_secret {
    char *value; /* NUL-terminated, heap; 1..LIM_SECRET_BYTES bytes */
    size_t len;  /* bytes of value (JSON forbids NUL inside, so strlen) */
};

/**
 * Parse {"value"}.  Errors: FERR_INVALID for an empty value, FERR_LIMIT
 * for one over LIM_SECRET_BYTES.  The parser's own copies of the value
 * are wiped before they are freed.  Ownership: body_secret_release.
 */
enum ferr_code body_parse_secret(const char *body, size_t len,
                                 struct body_secret *out,
                                 struct ferr *err) FERR_MUST_CHECK;
/** Wipe (OPENSSL_cleanse) and free the value; @b is left zeroed. */
void body_secret_release(struct body_secret *b);

/** POST /api/v1/repos/NAME/workflows/FILE/dispatches. */
struct body_dispatch {
    char *ref;      /* NULL = the default branch; else a branch name or a
                       full ref "refs/..." (validated like git) */
    json_t *inputs; /* object of string values, never NULL on success
                       (empty when absent); owned */
};

/**
 * Parse {"ref"?, "inputs"?}; an empty body is {}.  Input values may be
 * strings, numbers or booleans; numbers and booleans become their string
 * form as GitHub does (true → "true", 3 → "3", 1.5 → "1.5").  Errors:
 * FERR_INVALID for a bad ref, an input name that is empty or over
 * LIM_NAME bytes, a value of another type ("input 'x' must be a string,
 * number or boolean"); FERR_LIMIT for more than LIM_DISPATCH_INPUTS
 * inputs or a value over LIM_INPUT_BYTES.  Ownership:
 * body_dispatch_release.
 */
enum ferr_code body_parse_dispatch(const char *body, size_t len,
                                   struct body_dispatch *out,
                                   struct ferr *err) FERR_MUST_CHECK;
/** Free @b's ref and inputs; @b is left zeroed. */
void body_dispatch_release(struct body_dispatch *b);

/** POST /api/v1/runs/ID/rerun. */
struct body_rerun {
    bool failed_only; /* keep the jobs that succeeded */
};

/**
 * Parse {"failed_only"?}; an empty (or all-whitespace) body means
 * {"failed_only": false}.  Nothing to release.
 */
enum ferr_code body_parse_rerun(const char *body, size_t len,
                                struct body_rerun *out,
                                struct ferr *err) FERR_MUST_CHECK;

/**
 * Whether @s is a valid repository name: 1..LIM_NAME characters from
 * [A-Za-z0-9._-], and not "." or "..".  NULL is invalid.
 */
bool body_valid_name(const char *s);

/**
 * Whether @s is a valid secret name (GitHub's rule): 1..LIM_NAME
 * characters from [A-Za-z0-9_], not starting with a digit, and not
 * starting with "GITHUB_" in any case.  NULL is invalid.
 */
bool body_valid_secret_name(const char *s);

#endif
