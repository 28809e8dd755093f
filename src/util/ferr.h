/* ferr: error codes plus one error struct that carries a position in user
 * input.  The first error set wins; callers add context with ferr_prefix(). */
#ifndef FERRY_UTIL_FERR_H
#define FERRY_UTIL_FERR_H

#include <stdint.h>
#include <stddef.h>

#define FERR_MUST_CHECK __attribute__((warn_unused_result))

enum ferr_code {
    FERR_OK = 0,
    FERR_PARSE,    /* malformed input (YAML, expression, JSON, env file) */
    FERR_INVALID,  /* well-formed but wrong (type, unknown job, cycle) */
    FERR_LIMIT,    /* an input went over a limit in util/limits.h */
    FERR_NOTFOUND, /* a named thing does not exist */
    FERR_IO,       /* read/write/open failed (errno in the message) */
    FERR_EXEC,     /* fork/exec failed */
    FERR_USAGE,    /* bad command-line usage */
    FERR_UNSUPPORTED, /* valid, but ferry cannot do it (remote action) */
};

/** A position in user input: 1-based line and column; line == 0 means
 *  "not about input".  @file is borrowed. */
struct pos {
    const char *file;
    uint32_t line;
    uint32_t col;
};

struct ferr {
    enum ferr_code code;   /* FERR_OK until the first ferr_set */
    struct pos pos;        /* where in user input; line 0 = none */
    char msg[512];         /* lowercase, no final period */
    const char *src_file;  /* C source that raised it (debug aid) */
    int src_line;
};

/** Reset @err to "no error". */
void ferr_clear(struct ferr *err);

/**
 * Record an error unless one is already recorded (the first one wins).
 * @pos may be NULL.  Returns @code, so raising and returning is one
 * statement.  @err may be NULL: then only the code is returned.
 */
#define ferr_set(err, code, pos, ...) \
    ferr_set_at((err), (code), (pos), __FILE__, __LINE__, __VA_ARGS__)
enum ferr_code ferr_set_at(struct ferr *err, enum ferr_code code,
                           const struct pos *pos, const char *src_file,
                           int src_line, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

/** Prepend "PREFIX: " to the message of a recorded error. */
void ferr_prefix(struct ferr *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Render as "file:line:col: msg" (or "msg" when there is no position)
 * into @out of size @n; returns @out.
 */
const char *ferr_format(const struct ferr *err, char *out, size_t n);

/** A short lowercase name for @code ("parse error", ...). */
const char *ferr_code_name(enum ferr_code code);

#endif
