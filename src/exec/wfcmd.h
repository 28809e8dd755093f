/* wfcmd: workflow commands printed by steps — "::name key=v,k2=v::message"
 * (add-mask, group, endgroup, error, warning, notice, debug, set-output,
 * save-state, stop-commands and its resume token, add-matcher...) with
 * GitHub's %25 %0D %0A %3A %2C escapes. */
#ifndef FERRY_EXEC_WFCMD_H
#define FERRY_EXEC_WFCMD_H

#include <stdbool.h>
#include <stddef.h>

#include "util/buf.h"
#include "util/span.h"

enum wfcmd_kind {
    WFCMD_NONE = 0,   /* not a command: an ordinary line */
    WFCMD_ADD_MASK,
    WFCMD_GROUP,
    WFCMD_ENDGROUP,
    WFCMD_ERROR,
    WFCMD_WARNING,
    WFCMD_NOTICE,
    WFCMD_DEBUG,
    WFCMD_SET_OUTPUT, /* deprecated; property "name" */
    WFCMD_SAVE_STATE, /* deprecated; property "name" */
    WFCMD_STOP_COMMANDS, /* value is the resume token */
    WFCMD_ECHO,
    WFCMD_UNKNOWN,    /* "::something::" that GitHub would ignore */
};

#define WFCMD_MAX_PROPS 8

struct wfcmd {
    enum wfcmd_kind kind;
    struct span name;          /* the command word as written */
    size_t nprops;
    struct span prop_keys[WFCMD_MAX_PROPS];
    struct buf prop_vals[WFCMD_MAX_PROPS]; /* unescaped */
    struct buf value;          /* unescaped message */
};

/** Initialise/release the buffers of @c (each at most LIM_LOG_LINE). */
void wfcmd_init(struct wfcmd *c);
/** Free the buffers of @c; it can be wfcmd_init'ed again. */
void wfcmd_release(struct wfcmd *c);

/**
 * Parse @line (leading whitespace allowed, as GitHub allows).  Returns
 * true and fills @c when the line is a command (kind != WFCMD_NONE);
 * false for an ordinary line (and @c is emptied).  Spans in @c point into
 * @line.  Command names and property keys compare without case; a
 * property with an empty key or value is dropped, a repeated key keeps
 * the last value, keys past WFCMD_MAX_PROPS are dropped.  Lines over
 * LIM_LOG_LINE are never commands.
 */
bool wfcmd_parse(struct span line, struct wfcmd *c);

/** The unescaped value of property @key (any case), or NULL.  Valid
 *  until the next parse into @c. */
const char *wfcmd_prop(const struct wfcmd *c, const char *key);

/**
 * Command processing state of one step: while stop-commands is active,
 * lines are not commands until "::TOKEN::" is printed.
 */
struct wfcmd_state {
    struct buf stop_token;     /* empty = commands active */
};

/** A state with commands active. */
void wfcmd_state_init(struct wfcmd_state *s);
/** Free the token buffer; @s can be wfcmd_state_init'ed again. */
void wfcmd_state_release(struct wfcmd_state *s);

/**
 * Parse @line under @s: handles stop-commands and its resume token itself
 * (returns true with kind WFCMD_STOP_COMMANDS for both, so the caller
 * hides neither) and returns false for every line while stopped.
 * The two are told apart by c->name: "stop-commands" (any case) starts,
 * anything else is the token that resumed.  Resuming compares the command
 * name with the token without case, as the runner does.  A token that
 * wfcmd_stop_token_ok() rejects does not stop anything (the runner fails
 * that command): the caller can check it and report an error.
 */
bool wfcmd_feed(struct wfcmd_state *s, struct span line, struct wfcmd *c);

/**
 * Whether @token may be a stop-commands token: not empty, not the name of
 * a command the runner knows (any case), not "pause-logging".
 */
bool wfcmd_stop_token_ok(struct span token);

#endif
