/* remote: what the client verbs share (remote_cmd.c, cd_cmd.c) — their
 * option parsing, the connection and JSON calls to the server, messages
 * and exit statuses, times and tables for people.  Internal to cli/: the
 * functions print to stdout/stderr and return exit statuses, so nothing
 * below cli/ may use them.  Context: the CLI's main thread. */
#ifndef FERRY_CLI_REMOTE_H
#define FERRY_CLI_REMOTE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "cli/client.h"
#include "util/buf.h"
#include "util/ferr.h"

enum remote_opt_kind { REMOTE_OPT_BOOL, REMOTE_OPT_STR, REMOTE_OPT_LIST };

/* The values of a repeatable option, in order. */
struct remote_strv {
    const char **v; /* borrowed from argv; the array is the caller's to free */
    size_t n;
};

/* One option of a verb; a table of them ends with a NULL name. */
struct remote_opt {
    const char *name; /* "--repo" */
    const char *alt;  /* "-f", or NULL */
    enum remote_opt_kind kind;
    void *dst; /* bool *, const char ** or struct remote_strv * */
};

/* What every client verb takes. */
struct remote_common {
    const char *server; /* --server, else $FERRY_SERVER */
    const char *token;  /* --token, else $FERRY_TOKEN */
    bool json;          /* --json: print the API's answer as it is */
};

/* The verb's shape, for messages: help topic and synopsis. */
struct remote_verb {
    const char *topic;    /* "repo": the page of 'ferry help' */
    const char *synopsis; /* "ferry repo add NAME PATH [options]" */
};

/**
 * Print "ferry: MESSAGE", the synopsis of @v and where its help is, to
 * stderr.  Returns 2 (bad usage), for `return remote_usage(…)`.
 */
int remote_usage(const struct remote_verb *v, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/**
 * Parse argv[@first..]: @opts (NULL-name terminated; may be NULL), the
 * common options into @cm, and between @minpos and @maxpos positional
 * arguments into @pos (borrowed from argv).  "--opt=value", "-h"/"--help"
 * (prints the verb's help) and "--" work.  A REMOTE_OPT_LIST option's
 * array is grown with xrealloc: the caller frees its .v.
 * Returns -1 to go on, else the exit status: 0 after -h, 2 on bad usage
 * (with a message).  *@npos is set in every case.
 */
int remote_parse_args(const struct remote_verb *v, int argc, char **argv,
                      int first, const struct remote_opt *opts,
                      struct remote_common *cm, const char **pos, size_t minpos,
                      size_t maxpos, size_t *npos);

/**
 * Dispatch "VERB SUB …" (argv[1] is SUB) to the function of the same
 * index as SUB in @names (NULL-terminated); the function gets @argc and
 * @argv as they are.  Returns its status, 0 after -h, 2 for a missing or
 * unknown SUB.
 */
int remote_subcommand(const struct remote_verb *v, int argc, char **argv,
                      const char *const *names,
                      int (*const *fns)(int, char **));

/** Print @err as "ferry: MESSAGE" to stderr; returns 2. */
int remote_fail(const struct ferr *err);

/** Print "ferry: MESSAGE" to stderr; returns 2. */
int remote_fail_msg(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/**
 * A client of the server that @cm names (client_new).  Returns -1 on
 * success with *@out the caller's (client_free), else 2 with a message
 * and *@out NULL.
 */
int remote_connect(const struct remote_common *cm, struct client **out);

/**
 * One JSON call (client_json; @body borrowed, may be NULL).  Returns -1
 * on success with *@out the answer (a new reference, the caller's; NULL
 * for 204), else 2 with the server's message on stderr and *@out NULL.
 */
int remote_call(struct client *c, const char *method, const char *path,
                json_t *body, json_t **out);

/** Print @j indented to stdout; nothing for NULL (a 204). */
void remote_print_json(const json_t *j);

/** The string @key of the object @o, or @dflt (also when @o is not an
 *  object or the value not a string); borrowed from @o. */
const char *remote_jstr(const json_t *o, const char *key, const char *dflt);

/** The integer @key of @o, or 0. */
json_int_t remote_jint(const json_t *o, const char *key);

/** The array @key of the answer @ans (borrowed), or NULL after printing
 *  "the server's answer has no '…' list". */
json_t *remote_answer_array(const json_t *ans, const char *key);

/** Parse the @n bytes at @s as a decimal id (digits only, no sign).
 *  False when it is not one; *@out is then unspecified. */
bool remote_parse_id(const char *s, size_t n, uint64_t *out);

/** Append printf(@fmt) to the request path @b; false, after printing "the
 *  request path is too long", when it does not fit @b's max. */
bool remote_path_fmt(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/** Append @s percent-encoded (client_escape) to @b; false with a message
 *  as remote_path_fmt. */
bool remote_path_esc(struct buf *b, const char *s);

/** Append "?key=value" (the first time, per *@first) or "&key=value" to
 *  @b, the value escaped, when @value is not NULL.  False with a message
 *  as remote_path_fmt. */
bool remote_add_query(struct buf *b, bool *first, const char *key,
                      const char *value);

/** Parse an RFC 3339 time (YYYY-MM-DDTHH:MM:SS[.frac](Z|±HH:MM)) into
 *  *@out; false for NULL or anything else. */
bool remote_parse_time(const char *s, time_t *out);

/** Format @s seconds as "12s", "4m05s", "1h02m" or "3d04h" into @out
 *  (@n bytes); a negative @s counts as 0. */
void remote_fmt_duration(char *out, size_t n, long long s);

/** Format @s seconds as an age: "12s", "5m", "3h", "2d". */
void remote_fmt_age(char *out, size_t n, long long s);

/** "2026-11-23 10:04" from the RFC 3339 time @t; "-" for NULL; @t as it
 *  is when shorter than a time. */
void remote_fmt_when(char *out, size_t n, const char *t);

/** A copy of @s (NULL: "") fit for a terminal: control characters become
 *  '?'.  The caller frees it. */
char *remote_clean_dup(const char *s);

/* A table printed with its columns aligned. */
struct remote_table {
    size_t ncol; /* set by the caller, > 0 */
    size_t nrow;
    char **cells; /* nrow * ncol, each from remote_clean_dup */
};

/** Add a row of @t->ncol cells (copied, made safe; NULL reads ""). */
void remote_table_row(struct remote_table *t, const char *const *cells);

/** Print @t to stdout, columns two spaces apart, then free its rows; @t
 *  is left empty (it may take rows again). */
void remote_table_print_free(struct remote_table *t);

#endif
