/* dag_test: layers (longest path), cycle breaking, barycentre ordering,
 * input checks and limits, and the SVG's nodes, edges and escaping. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "util/limits.h"
#include "web/dag.h"

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;

    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static void test_dag_layers_are_longest_paths(void **state)
{
    /* a -> b -> c and a shortcut a -> c: c goes after b, not beside it */
    struct dag_edge e[] = {{0, 1}, {1, 2}, {0, 2}};
    struct dag_layout l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(3, e, 3, &l, &err), FERR_OK);
    assert_int_equal(l.layer[0], 0);
    assert_int_equal(l.layer[1], 1);
    assert_int_equal(l.layer[2], 2);
    assert_int_equal(l.nlayers, 3);
    assert_int_equal(l.nback, 0);
    /* the shortcut's dummy shares layer 1 with b */
    assert_int_equal(l.rows, 2);
    dag_layout_release(&l);
}

static void test_dag_diamond(void **state)
{
    /* lint -> test, lint -> build, test -> deploy, build -> deploy */
    struct dag_edge e[] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    struct dag_layout l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(4, e, 4, &l, &err), FERR_OK);
    assert_int_equal(l.layer[0], 0);
    assert_int_equal(l.layer[1], 1);
    assert_int_equal(l.layer[2], 1);
    assert_int_equal(l.layer[3], 2);
    assert_int_not_equal(l.order[1], l.order[2]);
    assert_int_equal(l.rows, 2);
    dag_layout_release(&l);
}

static void test_dag_cycle_is_broken(void **state)
{
    struct dag_edge e[] = {{0, 1}, {1, 2}, {2, 0}};
    struct dag_layout l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(3, e, 3, &l, &err), FERR_OK);
    assert_int_equal(l.nback, 1);
    assert_int_equal(l.layer[0], 0);
    assert_int_equal(l.layer[1], 1);
    assert_int_equal(l.layer[2], 2);
    dag_layout_release(&l);
}

static void test_dag_self_loops_and_repeats_ignored(void **state)
{
    struct dag_edge e[] = {{0, 0}, {0, 1}, {0, 1}, {1, 1}};
    struct dag_layout l;
    struct buf b;
    struct dag_node n[2];
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(2, e, 4, &l, &err), FERR_OK);
    assert_int_equal(l.nback, 0);
    assert_int_equal(l.layer[1], 1);
    dag_layout_release(&l);
    memset(n, 0, sizeof(n));
    n[0].label = "a";
    n[1].label = "b";
    buf_init(&b, 1 << 20);
    assert_int_equal(dag_svg(&b, n, 2, e, 4, &err), FERR_OK);
    assert_int_equal(count(buf_cstr(&b), "<path class=\"e"), 1);
    buf_release(&b);
}

static void test_dag_bad_edge_is_invalid(void **state)
{
    struct dag_edge e[] = {{0, 5}};
    struct dag_layout l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(2, e, 1, &l, &err), FERR_INVALID);
    assert_null(l.layer);
    assert_non_null(strstr(err.msg, "names node 5"));
}

static void test_dag_limits(void **state)
{
    struct dag_layout l;
    struct ferr err;
    struct dag_edge *e;
    size_t n = 1000;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(LIM_DAG_NODES + 1, NULL, 0, &l, &err),
                     FERR_LIMIT);
    ferr_clear(&err);
    assert_int_equal(dag_layout(2, NULL, LIM_DAG_EDGES + 1, &l, &err),
                     FERR_LIMIT);
    /* a long chain plus edges from its start to every link: each edge
     * needs as many dummies as it skips layers */
    e = calloc(2 * n, sizeof(*e));
    assert_non_null(e);
    for (size_t i = 0; i + 1 < n; i++) {
        e[i].from = i;
        e[i].to = i + 1;
        e[n + i].from = 0;
        e[n + i].to = i + 1;
    }
    ferr_clear(&err);
    assert_int_equal(dag_layout(n, e, 2 * n, &l, &err), FERR_LIMIT);
    free(e);
}

static void test_dag_barycentre_uncrosses(void **state)
{
    /* a -> d and b -> c: with c above d the edges would cross */
    struct dag_edge e[] = {{0, 3}, {1, 2}};
    struct dag_layout l;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(dag_layout(4, e, 2, &l, &err), FERR_OK);
    assert_int_equal(l.layer[2], 1);
    assert_int_equal(l.layer[3], 1);
    assert_true((l.order[0] < l.order[1]) == (l.order[3] < l.order[2]));
    dag_layout_release(&l);
}

static void test_dag_svg_nodes_edges_and_escaping(void **state)
{
    struct dag_node n[4];
    struct dag_edge e[] = {{0, 1}, {0, 2}, {1, 3}, {2, 3}};
    struct buf b;
    struct ferr err;
    const char *s;

    (void)state;
    memset(n, 0, sizeof(n));
    n[0].id = "lint";
    n[0].label = "lint";
    n[0].state = "success";
    n[0].href = "/runs/1/logs?job=1&x=\"y\"";
    n[1].id = "test";
    n[1].label = "<script>alert(1)</script>";
    n[1].sub = "2 jobs";
    n[1].state = "failure";
    n[2].id = "build\"x";
    n[2].label = "build";
    n[2].state = "Bad State";
    n[3].label = "deploy";
    ferr_clear(&err);
    buf_init(&b, 1 << 20);
    assert_int_equal(dag_svg(&b, n, 4, e, 4, &err), FERR_OK);
    s = buf_cstr(&b);
    assert_true(strncmp(s, "<svg class=\"dag\"", 16) == 0);
    assert_int_equal(count(s, "<g class=\"n "), 4);
    assert_int_equal(count(s, "<path class=\"e\""), 4);
    assert_non_null(strstr(s, "<g class=\"n n-success\" data-id=\"lint\">"));
    assert_non_null(strstr(s, "<g class=\"n n-failure\" data-id=\"test\">"));
    assert_non_null(strstr(s, "class=\"n n-other\" data-id=\"build&quot;x\""));
    assert_non_null(strstr(s, "data-id=\"3\"")); /* no id: the index */
    assert_non_null(strstr(s, "data-from=\"lint\" data-to=\"test\""));
    assert_non_null(strstr(s, "data-from=\"test\" data-to=\"3\""));
    assert_non_null(
        strstr(s, "href=\"/runs/1/logs?job=1&amp;x=&quot;y&quot;\""));
    assert_non_null(strstr(s, "&lt;script&gt;"));
    assert_null(strstr(s, "<script"));
    assert_non_null(strstr(s, "<text class=\"sub\""));
    assert_true(strcmp(s + b.len - 6, "</svg>") == 0);
    buf_release(&b);
}

static void test_dag_svg_cuts_long_labels(void **state)
{
    struct dag_node n[1];
    struct buf b;
    struct ferr err;
    const char *label = "a very long job name \xc3\xa9\xc3\xa9\xc3\xa9 that "
                        "goes on and on";

    (void)state;
    memset(n, 0, sizeof(n));
    n[0].label = label;
    ferr_clear(&err);
    buf_init(&b, 1 << 20);
    assert_int_equal(dag_svg(&b, n, 1, NULL, 0, &err), FERR_OK);
    /* the whole label in the tooltip, a cut one (with an ellipsis) shown */
    assert_non_null(strstr(buf_cstr(&b), label));
    assert_non_null(strstr(buf_cstr(&b), "a very long job name \xc3\xa9\xc3\xa9"
                                         "\xc3\xa9\xe2\x80\xa6</text>"));
    buf_release(&b);
}

static void test_dag_svg_long_edges_bend_through_dummies(void **state)
{
    struct dag_node n[4];
    struct dag_edge e[] = {{0, 1}, {1, 2}, {2, 3}, {0, 3}};
    struct buf b;
    struct ferr err;

    (void)state;
    memset(n, 0, sizeof(n));
    for (size_t i = 0; i < 4; i++)
        n[i].label = "x";
    ferr_clear(&err);
    buf_init(&b, 1 << 20);
    assert_int_equal(dag_svg(&b, n, 4, e, 4, &err), FERR_OK);
    /* the 0 -> 3 edge passes two dummies: two straight runs */
    {
        char *edges = strstr(buf_cstr(&b), "<g class=\"edges\">");
        char *end = edges ? strstr(edges, "</g>") : NULL;

        assert_non_null(end);
        *end = '\0';
        assert_int_equal(count(edges, "L"), 2);
    }
    buf_release(&b);
}

static void test_dag_svg_back_edge_and_empty(void **state)
{
    struct dag_node n[2];
    struct dag_edge e[] = {{0, 1}, {1, 0}};
    struct buf b;
    struct ferr err;

    (void)state;
    memset(n, 0, sizeof(n));
    n[0].label = "a";
    n[1].label = "b";
    ferr_clear(&err);
    buf_init(&b, 1 << 20);
    assert_int_equal(dag_svg(&b, n, 2, e, 2, &err), FERR_OK);
    assert_int_equal(count(buf_cstr(&b), "class=\"e back\""), 1);
    buf_reset(&b);
    assert_int_equal(dag_svg(&b, NULL, 0, NULL, 0, &err), FERR_OK);
    assert_non_null(strstr(buf_cstr(&b), "</svg>"));
    buf_release(&b);
}

static void test_dag_svg_full_buffer_is_limit(void **state)
{
    struct dag_node n[1];
    struct buf b;
    struct ferr err;

    (void)state;
    memset(n, 0, sizeof(n));
    n[0].label = "a";
    ferr_clear(&err);
    buf_init(&b, 64);
    assert_int_equal(dag_svg(&b, n, 1, NULL, 0, &err), FERR_LIMIT);
    buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_dag_layers_are_longest_paths),
        cmocka_unit_test(test_dag_diamond),
        cmocka_unit_test(test_dag_cycle_is_broken),
        cmocka_unit_test(test_dag_self_loops_and_repeats_ignored),
        cmocka_unit_test(test_dag_bad_edge_is_invalid),
        cmocka_unit_test(test_dag_limits),
        cmocka_unit_test(test_dag_barycentre_uncrosses),
        cmocka_unit_test(test_dag_svg_nodes_edges_and_escaping),
        cmocka_unit_test(test_dag_svg_cuts_long_labels),
        cmocka_unit_test(test_dag_svg_long_edges_bend_through_dummies),
        cmocka_unit_test(test_dag_svg_back_edge_and_empty),
        cmocka_unit_test(test_dag_svg_full_buffer_is_limit),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
