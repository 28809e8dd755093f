/* node: a YAML document as a tree that keeps every node's line and column,
 * built from libyaml's event API.  Pure: parses the bytes it is given. */
#ifndef FERRY_PIPELINE_NODE_H
#define FERRY_PIPELINE_NODE_H

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>

#include "util/arena.h"
#include "util/ferr.h"
#include "util/span.h"

enum node_kind { NODE_SCALAR, NODE_SEQ, NODE_MAP };

enum node_style {
    NODE_PLAIN,   /* plain scalar: may be null, bool or number */
    NODE_QUOTED,  /* 'single' or "double": always a string */
    NODE_BLOCK,   /* | or > block scalar: always a string */
};

struct node {
    enum node_kind kind;
    enum node_style style;  /* scalars only */
    struct pos pos;         /* start of the node (1-based); file borrowed */
    const char *str;        /* scalar text, NUL-terminated, owned by arena */
    size_t len;             /* scalar length in bytes */
    size_t n;               /* seq: items; map: pairs */
    struct node **items;    /* seq: items; map: values (same index as keys) */
    struct node **keys;     /* map: keys (always scalars) */
};

/**
 * Parse the first YAML document of @src (an empty document gives NULL in
 * *out and FERR_OK).  Every node lives in @a.  Duplicate mapping keys,
 * non-scalar keys, more than one document, nesting deeper than
 * LIM_YAML_DEPTH and more than LIM_YAML_NODES nodes are errors.  Aliases
 * share the anchored node (the tree becomes a DAG; never expanded here).
 * @file is borrowed into every node's pos.
 * Errors: FERR_PARSE/FERR_LIMIT with err->pos at the offending mark;
 * *out is NULL.
 */
enum ferr_code node_parse(struct arena *a, const char *file, struct span src,
                          struct node **out, struct ferr *err) FERR_MUST_CHECK;

/** The value under @key of mapping @map, or NULL (also when @map is NULL or
 *  not a mapping).  *out_key, if given, receives the key node. */
const struct node *node_get(const struct node *map, const char *key,
                            const struct node **out_key);

/** A plain scalar "", "~", "null", "Null" or "NULL" (YAML 1.2 core). */
bool node_is_null(const struct node *n);

/** "string", "sequence" or "mapping" (for messages). */
const char *node_kind_name(const struct node *n);

/**
 * Convert to JSON with YAML 1.2 core-schema typing for plain scalars
 * (null, true/false in its three spellings, decimal/0x/0o integers,
 * floats, .inf/.nan); quoted and block scalars stay strings.  The caller
 * owns *out.  Errors: FERR_LIMIT when alias sharing would expand to more
 * than LIM_YAML_NODES values.
 */
enum ferr_code node_to_json(const struct node *n, json_t **out,
                            struct ferr *err) FERR_MUST_CHECK;

/**
 * Best-effort position of byte @offset inside scalar @n's text, for
 * pointing at an expression inside a value: exact for plain and quoted
 * single-line scalars, line-accurate for block scalars.
 */
struct pos node_pos_at(const struct node *n, size_t offset);

#endif
