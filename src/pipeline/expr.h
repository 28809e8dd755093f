/* expr: GitHub Actions expressions — ${{ }} scanning, lexer, parser and
 * evaluator with GitHub's exact rules (loose equality with coercion,
 * case-insensitive string compare, && / || returning operands, property
 * and index access, * filters, the built-in functions, GitHub's number
 * and JSON formatting).  Values are jansson values.  Pure except for
 * hashFiles, which calls back into the caller.  The value rules
 * themselves are pipeline/exprval.h's; the three value functions below
 * apply them to jansson values. */
#ifndef FERRY_PIPELINE_EXPR_H
#define FERRY_PIPELINE_EXPR_H

#include <jansson.h>
#include <stdbool.h>

#include "util/buf.h"
#include "util/ferr.h"
#include "util/span.h"

/** Contexts, as bits, for expr_check's allowed set. */
enum expr_ctx_flags {
    EXPR_CTX_GITHUB = 1 << 0,
    EXPR_CTX_ENV = 1 << 1,
    EXPR_CTX_VARS = 1 << 2,
    EXPR_CTX_JOB = 1 << 3,
    EXPR_CTX_JOBS = 1 << 4,
    EXPR_CTX_STEPS = 1 << 5,
    EXPR_CTX_RUNNER = 1 << 6,
    EXPR_CTX_SECRETS = 1 << 7,
    EXPR_CTX_STRATEGY = 1 << 8,
    EXPR_CTX_MATRIX = 1 << 9,
    EXPR_CTX_NEEDS = 1 << 10,
    EXPR_CTX_INPUTS = 1 << 11,
    EXPR_CTX_ALL = (1 << 12) - 1,
};

/** Functions, as bits, for expr_check's allowed set. */
enum expr_fn_flags {
    EXPR_FN_STATUS = 1 << 0,    /* success() always() cancelled() failure() */
    EXPR_FN_HASHFILES = 1 << 1, /* hashFiles() */
    EXPR_FN_ALL = (1 << 2) - 1, /* plus the pure functions, always allowed */
};

/** What success()/failure()/cancelled() see. */
enum expr_status {
    EXPR_OK,         /* success() true */
    EXPR_FAILED,     /* failure() true */
    EXPR_CANCELLED,  /* cancelled() true */
    EXPR_INCOMPLETE, /* all three false: a need was skipped or cancelled
                      * without anything failing (jobs.<id>.if only) */
};

struct expr_env {
    json_t *contexts;         /* borrowed object: "github" -> {...}, ... */
    enum expr_status status;  /* for the status functions */
    /* hashFiles(patterns...): write the lowercase hex SHA-256 (or "" when
     * nothing matched) to out.  NULL: hashFiles is an error. */
    enum ferr_code (*hash_files)(void *ud, const char *const *patterns,
                                 size_t n, struct buf *out, struct ferr *err);
    void *ud;
};

/**
 * Evaluate one expression (the text between ${{ and }}, or a bare
 * expression).  *out is a new reference the caller owns (json_null() for
 * null); it may share structure with env->contexts, so treat it as
 * read-only (json_deep_copy to change it).  Numbers come back as JSON
 * integers when integral below 2^53, else reals; NaN and the infinities,
 * which JSON cannot hold, come back as the strings "NaN", "Infinity",
 * "-Infinity" (their string form).  Context names outside the twelve
 * known ones are FERR_INVALID; a known context missing from
 * env->contexts is null.  Keys are matched ignoring ASCII case, except
 * directly under env (case-sensitive, as on Linux runners).  @env may be
 * NULL (no contexts, status EXPR_OK, no hashFiles).
 * Errors: FERR_PARSE (syntax, empty expression), FERR_INVALID (unknown
 * context or function, wrong arity, fromJSON of bad JSON, bad format
 * string, hashFiles unavailable), FERR_LIMIT (LIM_EXPR_BYTES,
 * LIM_EXPR_DEPTH, LIM_EXPR_VALUE_BYTES), or hash_files' own code;
 * err->pos is @pos with col advanced by the characters before the
 * offending token when @pos is given; *out is NULL.
 */
enum ferr_code expr_eval(const struct expr_env *env, struct span src,
                         const struct pos *pos, json_t **out,
                         struct ferr *err) FERR_MUST_CHECK;

/**
 * Evaluate an `if:` condition.  @src may be bare or wrapped in ${{ }}.
 * As on GitHub, when the expression calls none of the status functions it
 * is evaluated as `success() && (src)`.  An empty @src means success().
 * Text outside a ${{ }} (e.g. "x ${{ false }}") makes the whole value a
 * string, as GitHub's format() rewrite does: true when non-empty, still
 * behind the implicit success().  Syntax is checked even when success()
 * is false.  *out is false on error.
 */
enum ferr_code expr_eval_cond(const struct expr_env *env, struct span src,
                              const struct pos *pos, bool *out,
                              struct ferr *err) FERR_MUST_CHECK;

/**
 * Append @src to @out with each ${{ expr }} replaced by the string form
 * of its value (expr_to_string).  Errors as expr_eval, plus FERR_PARSE
 * for an unterminated ${{.
 */
enum ferr_code expr_interp(const struct expr_env *env, struct span src,
                           const struct pos *pos, struct buf *out,
                           struct ferr *err) FERR_MUST_CHECK;

/**
 * Like expr_interp, but when @src is exactly one ${{ expr }} (surrounding
 * whitespace allowed) the value keeps its type (for fromJSON matrices,
 * continue-on-error, timeout-minutes).  Otherwise a JSON string.  The
 * caller owns *out.
 */
enum ferr_code expr_interp_value(const struct expr_env *env, struct span src,
                                 const struct pos *pos, json_t **out,
                                 struct ferr *err) FERR_MUST_CHECK;

/**
 * GitHub truthiness (exprval_truthy): false, 0, -0, NaN, "" and null
 * are false; so is a NULL @v.  @v is borrowed.
 */
bool expr_truthy(const json_t *v);

/**
 * A boolean setting written as YAML or an expression (continue-on-error,
 * cancel-in-progress): the string "true" is true, any other string
 * false; other values by expr_truthy.  @v is borrowed.
 */
bool expr_flag(const json_t *v);

/**
 * Append GitHub's string form of @v (exprval_to_str) to @out: null -> "",
 * booleans "true"/"false", numbers as GitHub prints them, strings as is,
 * arrays "Array", objects "Object"; nothing for a NULL @v.
 * Errors: FERR_LIMIT past @out's max (@out unchanged).
 */
enum ferr_code expr_to_string(const json_t *v, struct buf *out)
    FERR_MUST_CHECK;

/**
 * Append toJSON's output for @v (exprval_write_json: 2-space indent,
 * GitHub's number format) to @out; "null" for a NULL @v.
 * Errors: FERR_LIMIT past @out's max or 4096 levels of nesting.
 */
enum ferr_code expr_to_json(const json_t *v, struct buf *out)
    FERR_MUST_CHECK;

/**
 * Visit each ${{ }} in @src: @cb gets the inner text and its byte offset
 * in @src (just after the "${{").  As GitHub's template reader, the first
 * "}}" outside a '...' string literal closes it.  A non-zero return from
 * @cb stops the scan and is returned.
 * Errors: FERR_PARSE for an unterminated ${{ (err->pos from @pos).
 */
enum ferr_code expr_scan(struct span src, const struct pos *pos,
                         int (*cb)(void *ud, struct span inner, size_t off),
                         void *ud, struct ferr *err) FERR_MUST_CHECK;

/**
 * Check one expression without evaluating it: syntax, contexts outside
 * @ctx_allowed (EXPR_CTX_*), unknown functions or functions outside
 * @fn_allowed (EXPR_FN_*), wrong arity.
 */
enum ferr_code expr_check(struct span src, const struct pos *pos,
                          unsigned ctx_allowed, unsigned fn_allowed,
                          struct ferr *err) FERR_MUST_CHECK;

/**
 * Visit every context reference chain in @src as a dotted path of its
 * literal parts, e.g. "github.event.pull_request.title",
 * "steps.build.outputs.x", "matrix.os"; a non-literal index or filter
 * becomes "*".  For the injection check of lint.  Only whole chains are
 * reported, in source order, a chain before those in its indexes
 * ("a[b.c].d" gives "a.*.d" then "b.c"); literal indexes appear in
 * their string form ("x[0]" -> "x.0", "x['y']" -> "x.y"); names are as
 * written, so compare them ignoring case.  Unknown context and function
 * names are not errors here.
 * Errors: FERR_PARSE, FERR_LIMIT.
 */
enum ferr_code expr_refs(struct span src, void (*cb)(void *ud, const char *path),
                         void *ud, struct ferr *err) FERR_MUST_CHECK;

#endif
