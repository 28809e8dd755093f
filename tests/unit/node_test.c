/* node_test: positions of every kind of node, scalar styles, duplicate
 * keys, limits, anchors and aliases, libyaml errors, and core-schema
 * typing in node_to_json. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "pipeline/node.h"
#include "util/buf.h"
#include "util/limits.h"

struct fx {
    struct arena *a;
    struct node *root;
    struct ferr err;
    char msg[600];
};

static int setup(void **state)
{
    struct fx *f = calloc(1, sizeof(*f));

    f->a = arena_new(4096);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fx *f = *state;

    arena_free(f->a);
    free(f);
    return 0;
}

static enum ferr_code parse(struct fx *f, const char *src)
{
    enum ferr_code rc;

    ferr_clear(&f->err);
    rc = node_parse(f->a, "t.yml", span_cstr(src), &f->root, &f->err);
    ferr_format(&f->err, f->msg, sizeof(f->msg));
    return rc;
}

static char *fmt_pos(struct pos p, char *out, size_t n)
{
    snprintf(out, n, "%s:%u:%u", p.file, (unsigned)p.line, (unsigned)p.col);
    return out;
}

#define assert_pos(p, want)                                                 \
    do {                                                                    \
        char b_[64];                                                        \
        assert_string_equal(fmt_pos((p), b_, sizeof(b_)), (want));          \
    } while (0)

static void test_node_scalar_positions_and_styles(void **state)
{
    struct fx *f = *state;
    const struct node *k;
    const struct node *v;

    assert_int_equal(parse(f, "a: 1\nbb: 'x'\nc: \"y\"\n"), FERR_OK);
    assert_int_equal(f->root->kind, NODE_MAP);
    assert_int_equal(f->root->n, 3);
    assert_pos(f->root->pos, "t.yml:1:1");
    v = node_get(f->root, "a", &k);
    assert_pos(k->pos, "t.yml:1:1");
    assert_pos(v->pos, "t.yml:1:4");
    assert_int_equal(v->style, NODE_PLAIN);
    assert_string_equal(v->str, "1");
    v = node_get(f->root, "bb", NULL);
    assert_pos(v->pos, "t.yml:2:5");
    assert_int_equal(v->style, NODE_QUOTED);
    assert_string_equal(v->str, "x");
    v = node_get(f->root, "c", NULL);
    assert_pos(v->pos, "t.yml:3:4");
    assert_int_equal(v->style, NODE_QUOTED);
}

static void test_node_sequence_positions(void **state)
{
    struct fx *f = *state;
    const struct node *l;

    assert_int_equal(parse(f, "list:\n  - one\n  - [two, three]\n"),
                     FERR_OK);
    l = node_get(f->root, "list", NULL);
    assert_int_equal(l->kind, NODE_SEQ);
    assert_int_equal(l->n, 2);
    assert_pos(l->pos, "t.yml:2:3");
    assert_pos(l->items[0]->pos, "t.yml:2:5");
    assert_int_equal(l->items[1]->kind, NODE_SEQ);
    assert_pos(l->items[1]->pos, "t.yml:3:5");
    assert_pos(l->items[1]->items[0]->pos, "t.yml:3:6");
    assert_pos(l->items[1]->items[1]->pos, "t.yml:3:11");
    assert_string_equal(l->items[1]->items[1]->str, "three");
}

static void test_node_mapping_positions(void **state)
{
    struct fx *f = *state;
    const struct node *jobs;
    const struct node *build;
    const struct node *k;

    assert_int_equal(parse(f, "jobs:\n  build:\n    runs-on: x\n"), FERR_OK);
    jobs = node_get(f->root, "jobs", NULL);
    assert_pos(jobs->pos, "t.yml:2:3");
    build = node_get(jobs, "build", &k);
    assert_pos(k->pos, "t.yml:2:3");
    assert_int_equal(build->kind, NODE_MAP);
    assert_pos(build->pos, "t.yml:3:5");
    assert_pos(node_get(build, "runs-on", NULL)->pos, "t.yml:3:14");
    assert_null(node_get(build, "steps", NULL));
    assert_null(node_get(k, "x", NULL));
    assert_null(node_get(NULL, "x", NULL));
}

static void test_node_block_scalar_position(void **state)
{
    struct fx *f = *state;
    const struct node *r;
    const char *p;

    assert_int_equal(parse(f, "run: |\n  echo hi\n  echo ${{ x }}\n"),
                     FERR_OK);
    r = node_get(f->root, "run", NULL);
    assert_int_equal(r->style, NODE_BLOCK);
    assert_pos(r->pos, "t.yml:1:6");
    assert_string_equal(r->str, "echo hi\necho ${{ x }}\n");
    p = strstr(r->str, "${{");
    assert_pos(node_pos_at(r, (size_t)(p - r->str)), "t.yml:3:8");
    /* inside the expression: same line, further right */
    assert_pos(node_pos_at(r, (size_t)(p - r->str) + 4), "t.yml:3:12");
}

static void test_node_block_scalar_without_expr_is_line_accurate(void **state)
{
    struct fx *f = *state;
    const struct node *r;

    assert_int_equal(parse(f, "run: >-\n  one\n\n  two\n"), FERR_OK);
    r = node_get(f->root, "run", NULL);
    assert_string_equal(r->str, "one\ntwo");
    assert_null(r->raw);
    assert_int_equal(node_pos_at(r, 4).line, 3);
}

static void test_node_pos_at_quoted_with_escapes(void **state)
{
    struct fx *f = *state;
    const struct node *v;

    assert_int_equal(parse(f, "a: \"x ${{ y }}\"\nb: \"\\t\\t${{ z }}\"\n"),
                     FERR_OK);
    v = node_get(f->root, "a", NULL);
    assert_pos(node_pos_at(v, 0), "t.yml:1:5");
    assert_pos(node_pos_at(v, 2), "t.yml:1:7");
    v = node_get(f->root, "b", NULL);
    assert_string_equal(v->str, "\t\t${{ z }}");
    /* the escapes take four columns in the source, two bytes in the value */
    assert_pos(node_pos_at(v, 2), "t.yml:2:9");
    assert_pos(node_pos_at(v, 6), "t.yml:2:13");
}

static void test_node_pos_at_counts_characters(void **state)
{
    struct fx *f = *state;
    const struct node *v;

    assert_int_equal(parse(f, "a: \xc3\xa9 ${{ x }}\nb: \xc3\xa9 z\n"),
                     FERR_OK);
    v = node_get(f->root, "a", NULL);
    assert_pos(node_pos_at(v, 3), "t.yml:1:6");
    v = node_get(f->root, "b", NULL);
    assert_pos(node_pos_at(v, 3), "t.yml:2:6");
}

static void test_node_pos_at_multiline_plain(void **state)
{
    struct fx *f = *state;
    const struct node *v;
    const char *p;

    assert_int_equal(parse(f, "a: one\n  two ${{ x }}\n"), FERR_OK);
    v = node_get(f->root, "a", NULL);
    assert_string_equal(v->str, "one two ${{ x }}");
    p = strstr(v->str, "${{");
    assert_pos(node_pos_at(v, (size_t)(p - v->str)), "t.yml:2:7");
}

static void test_node_duplicate_key_is_error(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: 1\nb: 2\na: 3\n"), FERR_PARSE);
    assert_null(f->root);
    assert_string_equal(f->msg, "t.yml:3:1: duplicate key 'a' (first at "
                                "line 1)");
    /* the same key in different mappings is fine */
    assert_int_equal(parse(f, "x: {a: 1}\ny: {a: 2}\n"), FERR_OK);
}

static void test_node_duplicate_key_in_big_mapping(void **state)
{
    struct fx *f = *state;
    struct buf b;

    buf_init(&b, 1 << 20);
    for (int i = 0; i < 5000; i++)
        assert_int_equal(buf_addf(&b, "k%d: v\n", i), FERR_OK);
    assert_int_equal(buf_adds(&b, "k4321: again\n"), FERR_OK);
    assert_int_equal(parse(f, buf_cstr(&b)), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:5001:1: duplicate key 'k4321' "
                                "(first at line 4322)");
    buf_release(&b);
}

static void nest(struct buf *b, unsigned depth)
{
    for (unsigned i = 0; i < depth; i++)
        assert_int_equal(buf_addch(b, '['), FERR_OK);
    for (unsigned i = 0; i < depth; i++)
        assert_int_equal(buf_addch(b, ']'), FERR_OK);
}

static void test_node_depth_limit(void **state)
{
    struct fx *f = *state;
    struct buf b;

    buf_init(&b, 1 << 16);
    nest(&b, LIM_YAML_DEPTH);
    assert_int_equal(parse(f, buf_cstr(&b)), FERR_OK);
    buf_reset(&b);
    nest(&b, LIM_YAML_DEPTH + 1);
    assert_int_equal(parse(f, buf_cstr(&b)), FERR_LIMIT);
    assert_string_equal(f->msg, "t.yml:1:65: nesting is deeper than 64 "
                                "levels");
    buf_release(&b);
}

static void test_node_count_limit(void **state)
{
    struct fx *f = *state;
    struct buf b;

    buf_init(&b, 1 << 22);
    assert_int_equal(buf_addch(&b, '['), FERR_OK);
    for (unsigned i = 0; i < LIM_YAML_NODES; i++)
        assert_int_equal(buf_add(&b, "0,", 2), FERR_OK);
    assert_int_equal(buf_addch(&b, ']'), FERR_OK);
    assert_int_equal(parse(f, buf_cstr(&b)), FERR_LIMIT);
    assert_non_null(strstr(f->msg, "more than 200000 nodes"));
    buf_release(&b);
}

static void test_node_alias_shares_anchored_node(void **state)
{
    struct fx *f = *state;
    const struct node *a;
    const struct node *b;

    assert_int_equal(parse(f, "a: &x {k: v}\nb: *x\nc: &s hi\nd: *s\n"),
                     FERR_OK);
    a = node_get(f->root, "a", NULL);
    b = node_get(f->root, "b", NULL);
    assert_ptr_equal(a, b);
    assert_string_equal(node_get(b, "k", NULL)->str, "v");
    assert_ptr_equal(node_get(f->root, "c", NULL),
                     node_get(f->root, "d", NULL));
}

static void test_node_alias_redefined_anchor_uses_latest(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: &x one\nb: &x two\nc: *x\n"), FERR_OK);
    assert_string_equal(node_get(f->root, "c", NULL)->str, "two");
}

static void test_node_alias_errors(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: *nope\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:1:4: unknown anchor 'nope'");
    assert_int_equal(parse(f, "a: &x [1, *x]\n"), FERR_PARSE);
    assert_string_equal(f->msg,
                        "t.yml:1:11: alias '*x' is inside the node it names");
}

static const char bomb[] =
    "a: &a [x, x, x, x, x, x, x, x, x, x]\n"
    "b: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
    "c: &c [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n"
    "d: &d [*c, *c, *c, *c, *c, *c, *c, *c, *c, *c]\n"
    "e: &e [*d, *d, *d, *d, *d, *d, *d, *d, *d, *d]\n"
    "f: &f [*e, *e, *e, *e, *e, *e, *e, *e, *e, *e]\n"
    "g: &g [*f, *f, *f, *f, *f, *f, *f, *f, *f, *f]\n"
    "h: &h [*g, *g, *g, *g, *g, *g, *g, *g, *g, *g]\n"
    "i: &i [*h, *h, *h, *h, *h, *h, *h, *h, *h, *h]\n";

static void test_node_alias_bomb_is_limited(void **state)
{
    struct fx *f = *state;
    json_t *j = (json_t *)1;
    struct ferr err;
    char msg[600];

    /* parsing shares the nodes: cheap */
    assert_int_equal(parse(f, bomb), FERR_OK);
    ferr_clear(&err);
    assert_int_equal(node_to_json(f->root, &j, &err), FERR_LIMIT);
    assert_null(j);
    ferr_format(&err, msg, sizeof(msg));
    assert_non_null(strstr(msg, "aliases expand to more than 200000 values"));
    /* a small expansion is fine */
    assert_int_equal(node_to_json(node_get(f->root, "b", NULL), &j, &err),
                     FERR_OK);
    assert_int_equal(json_array_size(j), 10);
    assert_int_equal(json_array_size(json_array_get(j, 9)), 10);
    json_decref(j);
}

static void test_node_alias_chain_depth_is_limited(void **state)
{
    struct fx *f = *state;
    struct buf b;
    json_t *j = (json_t *)1;
    struct ferr err;
    char msg[600];

    /* each anchor nests the previous one 60 deep: 3 of them are fine,
     * 4 go past 2 * LIM_YAML_DEPTH once expanded */
    buf_init(&b, 1 << 16);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(buf_addf(&b, "k%d: &a%d ", i, i), FERR_OK);
        for (int d = 0; d < 60; d++)
            assert_int_equal(buf_addch(&b, '['), FERR_OK);
        if (i)
            assert_int_equal(buf_addf(&b, "*a%d", i - 1), FERR_OK);
        else
            assert_int_equal(buf_addch(&b, 'v'), FERR_OK);
        for (int d = 0; d < 60; d++)
            assert_int_equal(buf_addch(&b, ']'), FERR_OK);
        assert_int_equal(buf_addch(&b, '\n'), FERR_OK);
    }
    assert_int_equal(parse(f, buf_cstr(&b)), FERR_OK);
    ferr_clear(&err);
    assert_int_equal(node_to_json(node_get(f->root, "k1", NULL), &j, &err),
                     FERR_OK);
    json_decref(j);
    assert_int_equal(node_to_json(node_get(f->root, "k3", NULL), &j, &err),
                     FERR_LIMIT);
    assert_null(j);
    ferr_format(&err, msg, sizeof(msg));
    assert_non_null(strstr(msg, "aliases nest deeper than 128 levels"));
    buf_release(&b);
}

static void test_node_merge_key_rejected(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: &x {k: v}\nb:\n  <<: *x\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:3:3: merge keys ('<<') are not "
                                "supported; repeat the keys or alias the "
                                "whole mapping");
    /* a quoted "<<" is an ordinary key */
    assert_int_equal(parse(f, "'<<': 1\n"), FERR_OK);
}

static void test_node_one_document_only(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: 1\n---\nb: 2\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:2:1: more than one document in the "
                                "file");
    assert_int_equal(parse(f, "---\na: 1\n...\n"), FERR_OK);
    assert_non_null(f->root);
}

static void test_node_empty_document_is_null(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, ""), FERR_OK);
    assert_null(f->root);
    assert_int_equal(parse(f, "# only a comment\n"), FERR_OK);
    assert_null(f->root);
    assert_int_equal(parse(f, "---\n"), FERR_OK);
    assert_null(f->root);
}

static void test_node_syntax_error_has_mark(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: b\nc d\ne: f\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:3:1: could not find expected ':' "
                                "(while scanning a simple key at 2:1)");
    assert_int_equal(parse(f, "a: [1, 2\n"), FERR_PARSE);
    assert_int_equal(f->err.pos.line, 2);
}

static void test_node_reader_error_has_position(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: ok\nb: \xff\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:2:4: invalid leading UTF-8 octet "
                                "(0xff)");
}

static void test_node_non_scalar_key_is_error(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "? [a]\n: b\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:1:3: mapping keys must be scalars, "
                                "got a sequence");
    assert_int_equal(parse(f, "x: &s [1]\n? *s\n: b\n"), FERR_PARSE);
    assert_string_equal(f->msg, "t.yml:2:3: mapping keys must be scalars, "
                                "got a sequence");
}

static void test_node_str_tag_is_quoted(void **state)
{
    struct fx *f = *state;

    assert_int_equal(parse(f, "a: !!str 12\nb: 12\n"), FERR_OK);
    assert_int_equal(node_get(f->root, "a", NULL)->style, NODE_QUOTED);
    assert_int_equal(node_get(f->root, "b", NULL)->style, NODE_PLAIN);
}

static void test_node_scalar_predicates(void **state)
{
    struct fx *f = *state;
    bool b = false;
    double d = 0;

    assert_int_equal(parse(f, "[~, null, '', True, 'true', 0x10, 1e2, x]"),
                     FERR_OK);
    assert_true(node_is_null(f->root->items[0]));
    assert_true(node_is_null(f->root->items[1]));
    assert_false(node_is_null(f->root->items[2]));
    assert_true(node_is_bool(f->root->items[3], &b));
    assert_true(b);
    assert_false(node_is_bool(f->root->items[4], NULL));
    assert_true(node_is_number(f->root->items[5], &d));
    assert_true(d == 16.0);
    assert_true(node_is_number(f->root->items[6], &d));
    assert_true(d == 100.0);
    assert_false(node_is_number(f->root->items[7], NULL));
    assert_string_equal(node_kind_name(f->root), "sequence");
    assert_string_equal(node_kind_name(f->root->items[7]), "string");
}

static void test_node_to_json_core_schema(void **state)
{
    struct fx *f = *state;
    json_t *j;
    struct ferr err;
    char *s;

    assert_int_equal(
        parse(f, "[~, null, NULL, '', true, False, 12, -3, 0x1f, 0o17, 1.5, "
                 "1e3, .inf, '12', \"true\", !!str 7, yes, 1_000, "
                 "99999999999999999999, {k: [a]}]\n"),
        FERR_OK);
    ferr_clear(&err);
    assert_int_equal(node_to_json(f->root, &j, &err), FERR_OK);
    s = json_dumps(j, JSON_COMPACT);
    assert_string_equal(s, "[null,null,null,\"\",true,false,12,-3,31,15,1.5,"
                           "1000.0,\".inf\",\"12\",\"true\",\"7\",\"yes\","
                           "\"1_000\",1e20,{\"k\":[\"a\"]}]");
    free(s);
    json_decref(j);
}

static void test_node_to_json_block_scalar_stays_string(void **state)
{
    struct fx *f = *state;
    json_t *j;
    struct ferr err;

    assert_int_equal(parse(f, "a: |\n  42\n"), FERR_OK);
    ferr_clear(&err);
    assert_int_equal(node_to_json(f->root, &j, &err), FERR_OK);
    assert_string_equal(json_string_value(json_object_get(j, "a")), "42\n");
    json_decref(j);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
        T(test_node_scalar_positions_and_styles),
        T(test_node_sequence_positions),
        T(test_node_mapping_positions),
        T(test_node_block_scalar_position),
        T(test_node_block_scalar_without_expr_is_line_accurate),
        T(test_node_pos_at_quoted_with_escapes),
        T(test_node_pos_at_counts_characters),
        T(test_node_pos_at_multiline_plain),
        T(test_node_duplicate_key_is_error),
        T(test_node_duplicate_key_in_big_mapping),
        T(test_node_depth_limit),
        T(test_node_count_limit),
        T(test_node_alias_shares_anchored_node),
        T(test_node_alias_redefined_anchor_uses_latest),
        T(test_node_alias_errors),
        T(test_node_alias_bomb_is_limited),
        T(test_node_alias_chain_depth_is_limited),
        T(test_node_merge_key_rejected),
        T(test_node_one_document_only),
        T(test_node_empty_document_is_null),
        T(test_node_syntax_error_has_mark),
        T(test_node_reader_error_has_position),
        T(test_node_non_scalar_key_is_error),
        T(test_node_str_tag_is_quoted),
        T(test_node_scalar_predicates),
        T(test_node_to_json_core_schema),
        T(test_node_to_json_block_scalar_stays_string),
#undef T
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
