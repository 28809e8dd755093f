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
    const char *raw;        /* scalars holding "${{": their source text
                             * (quotes, escapes, indentation), for
                             * node_pos_at; NULL otherwise */
    size_t raw_len;
};

/**
 * Parse the first YAML document of @src (an empty document gives NULL in
 * *out and FERR_OK).  Every node lives in @a.  Duplicate mapping keys,
 * non-scalar keys, more than one document, nesting deeper than
 * LIM_YAML_DEPTH and more than LIM_YAML_NODES nodes are errors.  Aliases
 * share the anchored node (the tree becomes a DAG; never expanded here);
 * an alias inside the node it names, and merge keys ('<<'), are errors.
 * A plain scalar tagged !!str or ! is NODE_QUOTED (always a string).
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

/** A plain scalar true/false in the YAML 1.2 core spellings (true, True,
 *  TRUE, false, False, FALSE); *out (may be NULL) receives the value. */
bool node_is_bool(const struct node *n, bool *out);

/** A plain scalar that the YAML 1.2 core schema reads as a number
 *  (decimal, 0x, 0o, float; not .inf/.nan); *out (may be NULL) receives
 *  the value. */
bool node_is_number(const struct node *n, double *out);

/** "string", "sequence" or "mapping" (for messages). */
const char *node_kind_name(const struct node *n);

/**
 * Convert to JSON with YAML 1.2 core-schema typing for plain scalars
 * (null, true/false in its three spellings, decimal/0x/0o integers,
 * floats); quoted and block scalars stay strings, and so do .inf/.nan
 * and numbers that overflow a double (JSON cannot hold them).  Mapping
 * keys become object keys.  The caller owns *out.  Errors: FERR_LIMIT
 * when alias sharing would expand to more than LIM_YAML_NODES values or
 * nest deeper than 2 * LIM_YAML_DEPTH; *out is NULL.
 */
enum ferr_code node_to_json(const struct node *n, json_t **out,
                            struct ferr *err) FERR_MUST_CHECK;

/**
 * Best-effort position of byte @offset inside scalar @n's text, for
 * pointing at an expression inside a value.  Exact at and after a "${{"
 * on the same line (the scalar keeps its source text then, so escapes,
 * folding and indentation are accounted for), and for single-line plain
 * and quoted scalars without escapes; line-accurate for literal (|)
 * block scalars.
 */
struct pos node_pos_at(const struct node *n, size_t offset);

#endif
