/* node: YAML bytes to a tree of positioned nodes, built from libyaml's
 * event API so that every node keeps its own line and column and aliases
 * can share the anchored node instead of copying it.  It does not give
 * the tree a meaning (that is wf) and never expands aliases while parsing;
 * node_to_json counts the expansion instead. */
#include "pipeline/node.h"

#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "util/limits.h"
#include "util/xalloc.h"

#define TAG_STR "tag:yaml.org,2002:str"

/* A string-keyed open-addressing table: anchors by name, and mapping keys
 * by (mapping serial, text) for the duplicate check.  Entries are never
 * removed; both tables are bounded by the node limit. */
struct hent {
    uint64_t tag;    /* 0 for anchors; the mapping's serial for keys */
    const char *s;   /* NULL: free slot; arena-owned otherwise */
    size_t len;
    struct node *val;
};

struct htab {
    struct hent *v;
    size_t cap;      /* power of two, or 0 */
    size_t n;
};

struct frame {
    struct node *node;
    struct node **items;  /* heap; seq items or map values */
    struct node **keys;   /* heap; map keys */
    size_t n;
    size_t cap;
    struct node *key;     /* map: key waiting for its value */
    uint64_t serial;      /* map: tag in the key table */
    const char *anchor;   /* arena; registered when the node is complete */
};

struct ps {
    struct arena *a;
    const char *file;
    struct span src;
    struct ferr *err;
    struct frame stack[LIM_YAML_DEPTH];
    size_t depth;
    struct htab anchors;
    struct htab keys;
    size_t nnodes;
    uint64_t serial;
    struct node *root;
    unsigned ndocs;
    bool raw_ok;          /* src is UTF-8, so marks map to bytes */
    size_t bom;           /* bytes of a UTF-8 byte-order mark */
    size_t cur_idx;       /* raw cursor: character index ... */
    size_t cur_off;       /* ... and its byte offset */
};

static uint64_t hash(uint64_t tag, const char *s, size_t len)
{
    uint64_t h = 1469598103934665603ull ^ (tag * 0x9e3779b97f4a7c15ull);

    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ull;
    }
    return h;
}

static void hgrow(struct htab *h)
{
    size_t cap = h->cap ? h->cap * 2 : 64;
    struct hent *v = xcalloc(cap, sizeof(*v));

    for (size_t i = 0; i < h->cap; i++) {
        struct hent *e = &h->v[i];
        size_t j;

        if (!e->s)
            continue;
        j = hash(e->tag, e->s, e->len) & (cap - 1);
        while (v[j].s)
            j = (j + 1) & (cap - 1);
        v[j] = *e;
    }
    free(h->v);
    h->v = v;
    h->cap = cap;
}

/* The slot holding (tag, s) or the free slot where it would go; there is
 * always room for one more entry afterwards. */
static struct hent *hslot(struct htab *h, uint64_t tag, const char *s,
                          size_t len)
{
    size_t j;

    if ((h->n + 1) * 2 > h->cap)
        hgrow(h);
    j = hash(tag, s, len) & (h->cap - 1);
    for (;;) {
        struct hent *e = &h->v[j];

        if (!e->s)
            return e;
        if (e->tag == tag && e->len == len && memcmp(e->s, s, len) == 0)
            return e;
        j = (j + 1) & (h->cap - 1);
    }
}

static void hput(struct htab *h, uint64_t tag, const char *s, size_t len,
                 struct node *val)
{
    struct hent *e = hslot(h, tag, s, len);

    if (!e->s) {
        e->tag = tag;
        e->s = s;
        e->len = len;
        h->n++;
    }
    e->val = val;
}

static struct pos mark_pos(const struct ps *p, yaml_mark_t m)
{
    struct pos pos = { p->file, (uint32_t)m.line + 1, (uint32_t)m.column + 1 };

    if (m.line >= UINT32_MAX)
        pos.line = UINT32_MAX;
    if (m.column >= UINT32_MAX)
        pos.col = UINT32_MAX;
    return pos;
}

static size_t utf8_width(unsigned char c)
{
    if (c >= 0xf0)
        return 4;
    if (c >= 0xe0)
        return 3;
    if (c >= 0xc0)
        return 2;
    return 1;
}

/* Byte offset in src of libyaml's character index @idx.  Scalars arrive
 * in document order, so the cursor normally only moves forward. */
static bool byte_at(struct ps *p, size_t idx, size_t *out)
{
    if (idx < p->cur_idx) {
        p->cur_idx = 0;
        p->cur_off = p->bom;
    }
    while (p->cur_idx < idx) {
        if (p->cur_off >= p->src.len)
            return false;
        p->cur_off += utf8_width((unsigned char)p->src.p[p->cur_off]);
        p->cur_idx++;
    }
    if (p->cur_off > p->src.len)
        return false;
    *out = p->cur_off;
    return true;
}

static bool has_expr(const char *s, size_t len)
{
    return len >= 3 && memmem(s, len, "${{", 3) != NULL;
}

static enum ferr_code count_node(struct ps *p, const struct pos *at)
{
    if (++p->nnodes > LIM_YAML_NODES)
        return ferr_set(p->err, FERR_LIMIT, at,
                        "document has more than %u nodes", LIM_YAML_NODES);
    return FERR_OK;
}

static void frame_push(struct frame *f, struct node *key, struct node *val)
{
    if (f->n == f->cap) {
        f->cap = f->cap ? f->cap * 2 : 8;
        f->items = xrealloc(f->items, f->cap * sizeof(*f->items));
        if (f->node->kind == NODE_MAP)
            f->keys = xrealloc(f->keys, f->cap * sizeof(*f->keys));
    }
    if (f->node->kind == NODE_MAP)
        f->keys[f->n] = key;
    f->items[f->n] = val;
    f->n++;
}

/* Attach a finished node to the open collection (or make it the root).
 * @at is where it appears (for an alias, the alias, not the anchor). */
static enum ferr_code attach(struct ps *p, struct node *n,
                             const struct pos *at)
{
    struct frame *f;
    struct hent *e;

    if (p->depth == 0) {
        p->root = n;
        return FERR_OK;
    }
    f = &p->stack[p->depth - 1];
    if (f->node->kind == NODE_SEQ) {
        frame_push(f, NULL, n);
        return FERR_OK;
    }
    if (f->key) {
        frame_push(f, f->key, n);
        f->key = NULL;
        return FERR_OK;
    }
    if (n->kind != NODE_SCALAR)
        return ferr_set(p->err, FERR_PARSE, at,
                        "mapping keys must be scalars, got a %s",
                        node_kind_name(n));
    if (n->style == NODE_PLAIN && n->len == 2 && memcmp(n->str, "<<", 2) == 0)
        return ferr_set(p->err, FERR_PARSE, at,
                        "merge keys ('<<') are not supported; "
                        "repeat the keys or alias the whole mapping");
    e = hslot(&p->keys, f->serial, n->str, n->len);
    if (e->s)
        return ferr_set(p->err, FERR_PARSE, at,
                        "duplicate key '%.*s' (first at line %u)",
                        (int)(n->len > 200 ? 200 : n->len), n->str,
                        (unsigned)e->val->pos.line);
    e->tag = f->serial;
    e->s = n->str;
    e->len = n->len;
    e->val = n;
    p->keys.n++;
    f->key = n;
    return FERR_OK;
}

static const char *anchor_dup(struct ps *p, const yaml_char_t *anchor)
{
    return anchor ? arena_strdup(p->a, (const char *)anchor) : NULL;
}

static enum ferr_code on_scalar(struct ps *p, const yaml_event_t *ev)
{
    struct pos at = mark_pos(p, ev->start_mark);
    const char *val = (const char *)ev->data.scalar.value;
    size_t len = ev->data.scalar.length;
    const char *tag = (const char *)ev->data.scalar.tag;
    struct node *n;
    enum ferr_code rc;

    rc = count_node(p, &at);
    if (rc)
        return rc;
    n = arena_alloc(p->a, sizeof(*n));
    n->kind = NODE_SCALAR;
    n->pos = at;
    n->str = arena_strndup(p->a, val, len);
    n->len = len;
    switch (ev->data.scalar.style) {
    case YAML_SINGLE_QUOTED_SCALAR_STYLE:
    case YAML_DOUBLE_QUOTED_SCALAR_STYLE:
        n->style = NODE_QUOTED;
        break;
    case YAML_LITERAL_SCALAR_STYLE:
    case YAML_FOLDED_SCALAR_STYLE:
        n->style = NODE_BLOCK;
        break;
    default:
        n->style = NODE_PLAIN;
        if (tag && (strcmp(tag, TAG_STR) == 0 || strcmp(tag, "!") == 0))
            n->style = NODE_QUOTED;
        break;
    }
    if (p->raw_ok && has_expr(val, len)) {
        size_t b0;
        size_t b1;

        if (byte_at(p, ev->start_mark.index, &b0) &&
            byte_at(p, ev->end_mark.index, &b1) && b1 >= b0) {
            n->raw = arena_strndup(p->a, p->src.p + b0, b1 - b0);
            n->raw_len = b1 - b0;
        }
    }
    if (ev->data.scalar.anchor)
        hput(&p->anchors, 0, anchor_dup(p, ev->data.scalar.anchor),
             strlen((const char *)ev->data.scalar.anchor), n);
    return attach(p, n, &at);
}

static enum ferr_code on_start(struct ps *p, const yaml_event_t *ev,
                               enum node_kind kind)
{
    struct pos at = mark_pos(p, ev->start_mark);
    const yaml_char_t *anchor = kind == NODE_SEQ
                                    ? ev->data.sequence_start.anchor
                                    : ev->data.mapping_start.anchor;
    struct frame *f;
    struct node *n;
    enum ferr_code rc;

    if (p->depth > 0) {
        struct frame *top = &p->stack[p->depth - 1];

        if (top->node->kind == NODE_MAP && !top->key)
            return ferr_set(p->err, FERR_PARSE, &at,
                            "mapping keys must be scalars, got a %s",
                            kind == NODE_SEQ ? "sequence" : "mapping");
    }
    if (p->depth >= LIM_YAML_DEPTH)
        return ferr_set(p->err, FERR_LIMIT, &at,
                        "nesting is deeper than %u levels", LIM_YAML_DEPTH);
    rc = count_node(p, &at);
    if (rc)
        return rc;
    n = arena_alloc(p->a, sizeof(*n));
    n->kind = kind;
    n->pos = at;
    f = &p->stack[p->depth++];
    memset(f, 0, sizeof(*f));
    f->node = n;
    f->serial = ++p->serial;
    f->anchor = anchor_dup(p, anchor);
    return FERR_OK;
}

static enum ferr_code on_end(struct ps *p)
{
    struct frame *f;
    struct node *n;
    struct pos at;

    if (p->depth == 0)
        return FERR_OK;
    f = &p->stack[p->depth - 1];
    n = f->node;
    n->n = f->n;
    if (f->n) {
        n->items = arena_alloc(p->a, f->n * sizeof(*n->items));
        memcpy(n->items, f->items, f->n * sizeof(*n->items));
        if (n->kind == NODE_MAP) {
            n->keys = arena_alloc(p->a, f->n * sizeof(*n->keys));
            memcpy(n->keys, f->keys, f->n * sizeof(*n->keys));
        }
    }
    free(f->items);
    free(f->keys);
    if (f->anchor)
        hput(&p->anchors, 0, f->anchor, strlen(f->anchor), n);
    p->depth--;
    at = n->pos;
    return attach(p, n, &at);
}

static enum ferr_code on_alias(struct ps *p, const yaml_event_t *ev)
{
    struct pos at = mark_pos(p, ev->start_mark);
    const char *name = (const char *)ev->data.alias.anchor;
    size_t len = strlen(name);
    struct hent *e;
    int shown = (int)(len > 200 ? 200 : len);

    for (size_t i = 0; i < p->depth; i++)
        if (p->stack[i].anchor && strcmp(p->stack[i].anchor, name) == 0)
            return ferr_set(p->err, FERR_PARSE, &at,
                            "alias '*%.*s' is inside the node it names",
                            shown, name);
    e = hslot(&p->anchors, 0, name, len);
    if (!e->s)
        return ferr_set(p->err, FERR_PARSE, &at, "unknown anchor '%.*s'",
                        shown, name);
    return attach(p, e->val, &at);
}

static enum ferr_code on_event(struct ps *p, const yaml_event_t *ev)
{
    struct pos at;

    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT:
        if (++p->ndocs > 1) {
            at = mark_pos(p, ev->start_mark);
            return ferr_set(p->err, FERR_PARSE, &at,
                            "more than one document in the file");
        }
        return FERR_OK;
    case YAML_ALIAS_EVENT:
        return on_alias(p, ev);
    case YAML_SCALAR_EVENT:
        return on_scalar(p, ev);
    case YAML_SEQUENCE_START_EVENT:
        return on_start(p, ev, NODE_SEQ);
    case YAML_MAPPING_START_EVENT:
        return on_start(p, ev, NODE_MAP);
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT:
        return on_end(p);
    default:
        return FERR_OK;
    }
}

/* Reader errors carry a byte offset instead of a mark. */
static struct pos offset_pos(const struct ps *p, size_t off)
{
    struct pos pos = { p->file, 1, 1 };

    if (off > p->src.len)
        off = p->src.len;
    for (size_t i = 0; i < off; i++) {
        unsigned char c = (unsigned char)p->src.p[i];

        if (c == '\n') {
            pos.line++;
            pos.col = 1;
        } else if ((c & 0xc0) != 0x80) {
            pos.col++;
        }
    }
    return pos;
}

static enum ferr_code yaml_fail(struct ps *p, const yaml_parser_t *y)
{
    const char *problem = y->problem ? y->problem : "invalid yaml";
    struct pos at;

    switch (y->error) {
    case YAML_MEMORY_ERROR:
        return ferr_set(p->err, FERR_LIMIT, NULL,
                        "yaml parser ran out of memory");
    case YAML_READER_ERROR:
        at = offset_pos(p, y->problem_offset);
        if (y->problem_value >= 0)
            return ferr_set(p->err, FERR_PARSE, &at, "%s (0x%02x)", problem,
                            (unsigned)y->problem_value);
        return ferr_set(p->err, FERR_PARSE, &at, "%s", problem);
    default:
        at = mark_pos(p, y->problem_mark);
        if (y->context) {
            struct pos c = mark_pos(p, y->context_mark);

            return ferr_set(p->err, FERR_PARSE, &at, "%s (%s at %u:%u)",
                            problem, y->context, (unsigned)c.line,
                            (unsigned)c.col);
        }
        return ferr_set(p->err, FERR_PARSE, &at, "%s", problem);
    }
}

enum ferr_code node_parse(struct arena *a, const char *file, struct span src,
                          struct node **out, struct ferr *err)
{
    struct ps p;
    yaml_parser_t y;
    yaml_event_t ev;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    memset(&p, 0, sizeof(p));
    p.a = a;
    p.file = file;
    p.src = src;
    p.err = err;
    p.raw_ok = !(src.len >= 2 && ((unsigned char)src.p[0] == 0xfe ||
                                  (unsigned char)src.p[0] == 0xff));
    if (src.len >= 3 && memcmp(src.p, "\xef\xbb\xbf", 3) == 0)
        p.bom = 3;
    p.cur_off = p.bom;
    if (!yaml_parser_initialize(&y))
        return ferr_set(err, FERR_LIMIT, NULL, "yaml parser ran out of memory");
    yaml_parser_set_input_string(&y, (const unsigned char *)src.p, src.len);
    for (;;) {
        bool end;

        if (!yaml_parser_parse(&y, &ev)) {
            rc = yaml_fail(&p, &y);
            break;
        }
        rc = on_event(&p, &ev);
        end = ev.type == YAML_STREAM_END_EVENT;
        yaml_event_delete(&ev);
        if (rc || end)
            break;
    }
    yaml_parser_delete(&y);
    while (p.depth > 0) {
        p.depth--;
        free(p.stack[p.depth].items);
        free(p.stack[p.depth].keys);
    }
    free(p.anchors.v);
    free(p.keys.v);
    if (rc)
        return rc;
    /* an empty document ("---" alone) reads as one empty plain scalar */
    if (p.root && !(p.root->kind == NODE_SCALAR &&
                    p.root->style == NODE_PLAIN && p.root->len == 0))
        *out = p.root;
    return FERR_OK;
}

const struct node *node_get(const struct node *map, const char *key,
                            const struct node **out_key)
{
    size_t len = strlen(key);

    if (out_key)
        *out_key = NULL;
    if (!map || map->kind != NODE_MAP)
        return NULL;
    for (size_t i = 0; i < map->n; i++) {
        const struct node *k = map->keys[i];

        if (k->len == len && memcmp(k->str, key, len) == 0) {
            if (out_key)
                *out_key = k;
            return map->items[i];
        }
    }
    return NULL;
}

static bool plain(const struct node *n)
{
    return n && n->kind == NODE_SCALAR && n->style == NODE_PLAIN;
}

static bool is(const struct node *n, const char *s)
{
    size_t len = strlen(s);

    return n->len == len && memcmp(n->str, s, len) == 0;
}

bool node_is_null(const struct node *n)
{
    return plain(n) && (n->len == 0 || is(n, "~") || is(n, "null") ||
                        is(n, "Null") || is(n, "NULL"));
}

bool node_is_bool(const struct node *n, bool *out)
{
    if (plain(n) && (is(n, "true") || is(n, "True") || is(n, "TRUE"))) {
        if (out)
            *out = true;
        return true;
    }
    if (plain(n) && (is(n, "false") || is(n, "False") || is(n, "FALSE"))) {
        if (out)
            *out = false;
        return true;
    }
    return false;
}

static bool digits(const char *s, size_t *i, size_t len, int base)
{
    size_t start = *i;

    while (*i < len) {
        char c = s[*i];
        bool ok;

        if (base == 8)
            ok = c >= '0' && c <= '7';
        else if (base == 16)
            ok = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
                 (c >= 'A' && c <= 'F');
        else
            ok = c >= '0' && c <= '9';
        if (!ok)
            break;
        (*i)++;
    }
    return *i > start;
}

enum numkind { NUM_NONE, NUM_INT, NUM_FLOAT };

/* Classify per the core schema; *out_base is 8, 10 or 16 for integers. */
static enum numkind classify(const char *s, size_t len, int *out_base)
{
    size_t i = 0;
    bool mant = false;

    *out_base = 10;
    if (len > 2 && s[0] == '0' && (s[1] == 'o' || s[1] == 'x')) {
        *out_base = s[1] == 'o' ? 8 : 16;
        i = 2;
        return digits(s, &i, len, *out_base) && i == len ? NUM_INT
                                                         : NUM_NONE;
    }
    if (i < len && (s[i] == '-' || s[i] == '+'))
        i++;
    if (digits(s, &i, len, 10)) {
        mant = true;
        if (i == len)
            return NUM_INT;
    }
    if (i < len && s[i] == '.') {
        i++;
        if (digits(s, &i, len, 10))
            mant = true;
    }
    if (!mant)
        return NUM_NONE;
    if (i < len && (s[i] == 'e' || s[i] == 'E')) {
        i++;
        if (i < len && (s[i] == '-' || s[i] == '+'))
            i++;
        if (!digits(s, &i, len, 10))
            return NUM_NONE;
    }
    return i == len ? NUM_FLOAT : NUM_NONE;
}

/* The value of a number scalar: an integer when it fits int64_t
 * (*out_int set, returns NUM_INT), else a finite double. */
static enum numkind number(const struct node *n, long long *out_int,
                           double *out_dbl)
{
    int base;
    enum numkind k;
    char *end;

    if (!plain(n) || n->len == 0 || n->len > 400)
        return NUM_NONE;
    k = classify(n->str, n->len, &base);
    if (k == NUM_INT) {
        const char *s = base == 10 ? n->str : n->str + 2;

        errno = 0;
        *out_int = strtoll(s, &end, base);
        if (errno == 0 && *end == '\0') {
            *out_dbl = (double)*out_int;
            return NUM_INT;
        }
        if (base != 10) {
            errno = 0;
            *out_dbl = (double)strtoull(s, &end, base);
            if (errno)
                return NUM_NONE;
            return NUM_FLOAT;
        }
    }
    if (k == NUM_NONE)
        return NUM_NONE;
    *out_dbl = strtod(n->str, &end);
    if (*end != '\0' || !isfinite(*out_dbl))
        return NUM_NONE;
    return NUM_FLOAT;
}

bool node_is_number(const struct node *n, double *out)
{
    long long i;
    double d;

    if (number(n, &i, &d) == NUM_NONE)
        return false;
    if (out)
        *out = d;
    return true;
}

const char *node_kind_name(const struct node *n)
{
    if (n && n->kind == NODE_SEQ)
        return "sequence";
    if (n && n->kind == NODE_MAP)
        return "mapping";
    return "string";
}

struct conv {
    size_t count;
    struct ferr *err;
};

static enum ferr_code to_json(const struct node *n, struct conv *c,
                              unsigned depth, json_t **out)
{
    json_t *v = NULL;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    if (++c->count > LIM_YAML_NODES)
        return ferr_set(c->err, FERR_LIMIT, &n->pos,
                        "aliases expand to more than %u values",
                        LIM_YAML_NODES);
    if (depth > 2 * LIM_YAML_DEPTH)
        return ferr_set(c->err, FERR_LIMIT, &n->pos,
                        "aliases nest deeper than %u levels",
                        2 * LIM_YAML_DEPTH);
    if (n->kind == NODE_SCALAR) {
        long long i;
        double d;
        bool b;
        enum numkind k;

        if (node_is_null(n))
            v = json_null();
        else if (node_is_bool(n, &b))
            v = json_boolean(b);
        else if ((k = number(n, &i, &d)) == NUM_INT)
            v = json_integer(i);
        else if (k == NUM_FLOAT)
            v = json_real(d);
        else
            v = json_stringn(n->str, n->len);
        if (!v)
            return ferr_set(c->err, FERR_INVALID, &n->pos,
                            "string is not valid utf-8");
    } else if (n->kind == NODE_SEQ) {
        v = json_array();
        for (size_t j = 0; j < n->n && !rc; j++) {
            json_t *item;

            rc = to_json(n->items[j], c, depth + 1, &item);
            if (!rc)
                json_array_append_new(v, item);
        }
    } else {
        v = json_object();
        for (size_t j = 0; j < n->n && !rc; j++) {
            json_t *item;

            rc = to_json(n->items[j], c, depth + 1, &item);
            if (!rc && json_object_setn_new(v, n->keys[j]->str,
                                            n->keys[j]->len, item))
                rc = ferr_set(c->err, FERR_INVALID, &n->keys[j]->pos,
                              "key is not valid utf-8");
        }
    }
    if (rc) {
        json_decref(v);
        return rc;
    }
    *out = v;
    return FERR_OK;
}

enum ferr_code node_to_json(const struct node *n, json_t **out,
                            struct ferr *err)
{
    struct conv c = { 0, err };

    *out = NULL;
    if (!n) {
        *out = json_null();
        return FERR_OK;
    }
    return to_json(n, &c, 0, out);
}

static size_t chars(const char *s, size_t n)
{
    size_t c = 0;

    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xc0) != 0x80)
            c++;
    return c;
}

/* Advance @pos over @n bytes of source text. */
static void walk(struct pos *pos, const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '\n') {
            pos->line++;
            pos->col = 1;
        } else if (((unsigned char)s[i] & 0xc0) != 0x80) {
            pos->col++;
        }
    }
}

/* The @k-th (0-based) "${{" in s, or -1. */
static long nth_expr(const char *s, size_t len, size_t k)
{
    const char *p = s;
    const char *end = s + len;

    for (;;) {
        const char *hit = memmem(p, (size_t)(end - p), "${{", 3);

        if (!hit)
            return -1;
        if (k-- == 0)
            return hit - s;
        p = hit + 1;
    }
}

struct pos node_pos_at(const struct node *n, size_t offset)
{
    struct pos pos = n->pos;
    const char *nl;
    size_t q = 0;
    size_t k = 0;
    bool anchored = false;

    if (n->kind != NODE_SCALAR)
        return pos;
    if (offset > n->len)
        offset = n->len;
    /* Anchor on the last "${{" at or before @offset: the k-th one in the
     * value is the k-th one in the source, whatever escapes, folding and
     * indentation lie before it. */
    if (n->raw) {
        const char *p = n->str;
        const char *end = n->str + n->len;
        const char *hit;

        while (p < end && (hit = memmem(p, (size_t)(end - p), "${{", 3)) &&
               hit <= n->str + offset) {
            q = (size_t)(hit - n->str);
            k++;
            anchored = true;
            p = hit + 1;
        }
        if (anchored) {
            long r = nth_expr(n->raw, n->raw_len, k - 1);

            if (r >= 0 && !memchr(n->str + q, '\n', offset - q)) {
                walk(&pos, n->raw, (size_t)r);
                pos.col += (uint32_t)chars(n->str + q, offset - q);
                return pos;
            }
        }
    }
    nl = NULL;
    for (size_t i = 0; i < offset; i++)
        if (n->str[i] == '\n') {
            nl = n->str + i;
            pos.line++;
        }
    if (n->style == NODE_BLOCK) {
        /* the text starts on the line after the indicator; without the
         * source the indentation is unknown */
        pos.line++;
        pos.col = (uint32_t)chars(nl ? nl + 1 : n->str,
                                  (size_t)(n->str + offset -
                                           (nl ? nl + 1 : n->str))) + 1;
        return pos;
    }
    if (nl) {
        pos.col = (uint32_t)chars(nl + 1, (size_t)(n->str + offset - nl - 1))
                  + 1;
        return pos;
    }
    pos.col += (uint32_t)chars(n->str, offset) +
               (n->style == NODE_QUOTED ? 1 : 0);
    return pos;
}
