/* fuzz_dag: a JSON graph {"nodes": [label | {id,label,sub,state,href}],
 * "edges": [[from, to], ...]} laid out and drawn.  Layout and drawing
 * must agree on errors; every node gets its own cell; an edge that does
 * not go forward is one of the back edges counted; the SVG has one group
 * per node and never a raw '<' from the input. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"
#include "web/dag.h"

static const char *str(json_t *o, const char *k)
{
    return json_string_value(json_object_get(o, k));
}

static int cmp_pair(const void *a, const void *b)
{
    const struct dag_edge *x = a, *y = b;

    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    return x->to < y->to ? -1 : x->to > y->to;
}

static void check_layout(const struct dag_layout *l, struct dag_edge *e,
                         size_t ne)
{
    size_t bad = 0;

    for (size_t i = 0; i < l->n; i++) {
        if (l->layer[i] >= l->nlayers || l->order[i] >= l->rows)
            __builtin_trap();
        for (size_t j = i + 1; j < l->n && l->n < 300; j++)
            if (l->layer[i] == l->layer[j] && l->order[i] == l->order[j])
                __builtin_trap();
    }
    qsort(e, ne, sizeof(*e), cmp_pair);
    for (size_t i = 0; i < ne; i++) {
        if (e[i].from == e[i].to)
            continue;
        if (i && cmp_pair(&e[i - 1], &e[i]) == 0)
            continue;
        if (l->layer[e[i].from] >= l->layer[e[i].to])
            bad++;
    }
    if (bad > l->nback)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *root;
    json_t *jn, *je;
    struct dag_node *nodes = NULL;
    struct dag_edge *edges = NULL;
    size_t n = 0, ne = 0;
    struct dag_layout l;
    struct buf b;
    struct ferr e1, e2;
    enum ferr_code r1, r2;

    if (size > 256 * 1024)
        return 0;
    root = json_loadb((const char *)data, size, 0, NULL);
    if (!root)
        return 0;
    jn = json_object_get(root, "nodes");
    je = json_object_get(root, "edges");
    n = json_array_size(jn);
    ne = json_array_size(je);
    nodes = calloc(n + 1, sizeof(*nodes));
    edges = calloc(ne + 1, sizeof(*edges));
    for (size_t i = 0; i < n; i++) {
        json_t *x = json_array_get(jn, i);

        if (json_is_string(x)) {
            nodes[i].label = json_string_value(x);
        } else {
            nodes[i].id = str(x, "id");
            nodes[i].label = str(x, "label");
            nodes[i].sub = str(x, "sub");
            nodes[i].state = str(x, "state");
            nodes[i].href = str(x, "href");
        }
    }
    for (size_t i = 0; i < ne; i++) {
        json_t *x = json_array_get(je, i);

        /* negative or huge numbers become out-of-range indices */
        edges[i].from = (size_t)json_integer_value(json_array_get(x, 0));
        edges[i].to = (size_t)json_integer_value(json_array_get(x, 1));
    }
    ferr_clear(&e1);
    ferr_clear(&e2);
    buf_init(&b, LIM_WEB_PAGE);
    r2 = dag_svg(&b, nodes, n, edges, ne, &e2);
    r1 = dag_layout(n, edges, ne, &l, &e1);
    if (r1 != r2 && !(r2 == FERR_LIMIT && r1 == FERR_OK))
        __builtin_trap();
    if (!r1)
        check_layout(&l, edges, ne);
    if (!r2) {
        const char *s = buf_cstr(&b);
        size_t groups = 0;

        for (const char *p = strstr(s, "<g class=\"n "); p;
             p = strstr(p + 1, "<g class=\"n "))
            groups++;
        if (groups != n || strstr(s, "<script") ||
            strcmp(s + b.len - 6, "</svg>") != 0)
            __builtin_trap();
    }
    dag_layout_release(&l);
    buf_release(&b);
    free(nodes);
    free(edges);
    json_decref(root);
    return 0;
}
