/* dag: layered drawing of a run's job graph.  Cycles are broken by a
 * depth-first search, layers are longest paths from the sources, edges
 * that skip layers get dummy vertices, rows come from a few barycentre
 * sweeps, and the SVG is written with fixed-size boxes.  It does not
 * minimise crossings exactly nor measure text: labels are cut. */
#include "web/dag.h"

#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util/limits.h"
#include "util/span.h"
#include "util/xalloc.h"
#include "web/html.h"

#define SWEEPS      4
#define MAX_DUMMIES ((size_t)LIM_DAG_NODES * 8)
#define LABEL_CHARS 24 /* code points that fit in a box */
#define BACK_DIP    28 /* how far below the boxes a back edge goes */

/* An edge after dedup, with its dummy chain. */
struct ledge {
    size_t from, to;
    bool back;          /* left out of the layering (closes a cycle) */
    size_t first_dummy; /* vertex index of its first dummy */
    size_t ndummy;
};

/* The whole layout: vertices 0..n-1 are the nodes, then the dummies. */
struct lay {
    size_t n, nv;
    size_t *layer; /* per vertex */
    size_t *order; /* per vertex: row within its layer */
    size_t nlayers;
    size_t rows;
    size_t *count; /* vertices per layer */
    struct ledge *e;
    size_t ne;
    size_t nback;
};

static void lay_release(struct lay *l)
{
    free(l->layer);
    free(l->order);
    free(l->count);
    free(l->e);
    memset(l, 0, sizeof(*l));
}

static int cmp_edge(const void *a, const void *b)
{
    const struct ledge *x = a, *y = b;

    if (x->from != y->from)
        return x->from < y->from ? -1 : 1;
    if (x->to != y->to)
        return x->to < y->to ? -1 : 1;
    return 0;
}

/* Mark the edges a depth-first search (nodes in index order, edges in
 * sorted order) finds closing a cycle.  @e is sorted by from; @start[u]
 * is the first edge of u. */
static void mark_back_edges(size_t n, struct ledge *e, const size_t *start)
{
    unsigned char *colour = xcalloc(n ? n : 1, 1); /* 0 new 1 open 2 done */
    size_t *stack = xmalloc((n ? n : 1) * sizeof(*stack));
    size_t *next = xmalloc((n ? n : 1) * sizeof(*next));

    for (size_t root = 0; root < n; root++) {
        size_t sp = 0;

        if (colour[root])
            continue;
        colour[root] = 1;
        next[root] = start[root];
        stack[sp++] = root;
        while (sp) {
            size_t u = stack[sp - 1];

            if (next[u] == start[u + 1]) {
                colour[u] = 2;
                sp--;
                continue;
            }
            {
                struct ledge *x = &e[next[u]++];

                if (colour[x->to] == 1) {
                    x->back = true;
                } else if (colour[x->to] == 0) {
                    colour[x->to] = 1;
                    next[x->to] = start[x->to];
                    stack[sp++] = x->to;
                }
            }
        }
    }
    free(colour);
    free(stack);
    free(next);
}

/* Longest-path layers over the edges that are not back edges (a DAG):
 * Kahn's algorithm in index order. */
static void assign_layers(size_t n, const struct ledge *e, size_t ne,
                          const size_t *start, size_t *layer)
{
    size_t *indeg = xcalloc(n ? n : 1, sizeof(*indeg));
    size_t *queue = xmalloc((n ? n : 1) * sizeof(*queue));
    size_t head = 0, tail = 0;

    for (size_t i = 0; i < ne; i++)
        if (!e[i].back)
            indeg[e[i].to]++;
    for (size_t v = 0; v < n; v++) {
        layer[v] = 0;
        if (!indeg[v])
            queue[tail++] = v;
    }
    while (head < tail) {
        size_t u = queue[head++];

        for (size_t i = start[u]; i < start[u + 1]; i++) {
            if (e[i].back)
                continue;
            if (layer[e[i].to] < layer[u] + 1)
                layer[e[i].to] = layer[u] + 1;
            if (--indeg[e[i].to] == 0)
                queue[tail++] = e[i].to;
        }
    }
    free(indeg);
    free(queue);
}

/* Vertex adjacency between neighbouring layers (node-dummy chains),
 * in CSR form: up[] lists the vertices one layer up, down[] one down. */
struct adj {
    size_t *ustart, *u; /* predecessors */
    size_t *dstart, *d; /* successors */
};

static void adj_release(struct adj *a)
{
    free(a->ustart);
    free(a->u);
    free(a->dstart);
    free(a->d);
}

/* The segments of the forward edges: (a, b) with layer[b] = layer[a]+1. */
static size_t segments(const struct lay *l, size_t (*seg)[2])
{
    size_t k = 0;

    for (size_t i = 0; i < l->ne; i++) {
        const struct ledge *x = &l->e[i];
        size_t prev = x->from;

        if (x->back)
            continue;
        for (size_t j = 0; j < x->ndummy; j++) {
            seg[k][0] = prev;
            seg[k][1] = x->first_dummy + j;
            k++;
            prev = x->first_dummy + j;
        }
        seg[k][0] = prev;
        seg[k][1] = x->to;
        k++;
    }
    return k;
}

static void adj_build(const struct lay *l, struct adj *a)
{
    size_t nseg = 0;
    size_t(*seg)[2];
    size_t *fill;

    for (size_t i = 0; i < l->ne; i++)
        if (!l->e[i].back)
            nseg += l->e[i].ndummy + 1;
    seg = xmalloc((nseg ? nseg : 1) * sizeof(*seg));
    nseg = segments(l, seg);
    a->ustart = xcalloc(l->nv + 1, sizeof(size_t));
    a->dstart = xcalloc(l->nv + 1, sizeof(size_t));
    a->u = xmalloc((nseg ? nseg : 1) * sizeof(size_t));
    a->d = xmalloc((nseg ? nseg : 1) * sizeof(size_t));
    for (size_t i = 0; i < nseg; i++) {
        a->dstart[seg[i][0] + 1]++;
        a->ustart[seg[i][1] + 1]++;
    }
    for (size_t v = 0; v < l->nv; v++) {
        a->dstart[v + 1] += a->dstart[v];
        a->ustart[v + 1] += a->ustart[v];
    }
    fill = xcalloc(l->nv + 1, sizeof(size_t));
    for (size_t i = 0; i < nseg; i++) {
        size_t x = seg[i][0], y = seg[i][1];

        a->d[a->dstart[x] + fill[x]++] = y;
    }
    memset(fill, 0, (l->nv + 1) * sizeof(size_t));
    for (size_t i = 0; i < nseg; i++) {
        size_t x = seg[i][0], y = seg[i][1];

        a->u[a->ustart[y] + fill[y]++] = x;
    }
    free(fill);
    free(seg);
}

struct keyed {
    double key;
    size_t pos; /* the current row: ties keep their order */
    size_t v;
};

static int cmp_keyed(const void *a, const void *b)
{
    const struct keyed *x = a, *y = b;

    if (x->key != y->key)
        return x->key < y->key ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* Reorder layer @L by the mean row of each vertex's neighbours in the
 * adjacent layer (@up: predecessors).  Vertices without any keep their
 * row as their key. */
static void sweep_layer(struct lay *l, const struct adj *a, size_t **rows,
                        size_t L, bool up, struct keyed *tmp)
{
    size_t c = l->count[L];

    for (size_t i = 0; i < c; i++) {
        size_t v = rows[L][i];
        const size_t *nb = up ? a->u + a->ustart[v] : a->d + a->dstart[v];
        size_t k = up ? a->ustart[v + 1] - a->ustart[v]
                      : a->dstart[v + 1] - a->dstart[v];
        double sum = 0;

        for (size_t j = 0; j < k; j++)
            sum += (double)l->order[nb[j]];
        tmp[i].key = k ? sum / (double)k : (double)i;
        tmp[i].pos = i;
        tmp[i].v = v;
    }
    qsort(tmp, c, sizeof(*tmp), cmp_keyed);
    for (size_t i = 0; i < c; i++) {
        rows[L][i] = tmp[i].v;
        l->order[tmp[i].v] = i;
    }
}

static void order_layers(struct lay *l)
{
    struct adj a;
    size_t **rows = xcalloc(l->nlayers ? l->nlayers : 1, sizeof(*rows));
    size_t *fill = xcalloc(l->nlayers ? l->nlayers : 1, sizeof(*fill));
    size_t maxc = 1;
    struct keyed *tmp;

    memset(&a, 0, sizeof(a));
    adj_build(l, &a);
    for (size_t L = 0; L < l->nlayers; L++) {
        rows[L] = xmalloc((l->count[L] ? l->count[L] : 1) * sizeof(size_t));
        if (l->count[L] > maxc)
            maxc = l->count[L];
    }
    for (size_t v = 0; v < l->nv; v++) {
        size_t L = l->layer[v];

        l->order[v] = fill[L];
        rows[L][fill[L]++] = v;
    }
    tmp = xmalloc(maxc * sizeof(*tmp));
    for (int it = 0; it < SWEEPS; it++) {
        for (size_t L = 1; L < l->nlayers; L++)
            sweep_layer(l, &a, rows, L, true, tmp);
        for (size_t L = l->nlayers; L-- > 1;)
            sweep_layer(l, &a, rows, L - 1, false, tmp);
    }
    free(tmp);
    for (size_t L = 0; L < l->nlayers; L++)
        free(rows[L]);
    free(rows);
    free(fill);
    adj_release(&a);
}

static enum ferr_code lay_build(size_t n, const struct dag_edge *edges,
                                size_t ne, struct lay *l, struct ferr *err)
{
    size_t *start = NULL;
    size_t m = 0;
    size_t dummies = 0;

    memset(l, 0, sizeof(*l));
    if (n > LIM_DAG_NODES)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "graph has %zu nodes (at most %u are drawn)", n,
                        LIM_DAG_NODES);
    if (ne > LIM_DAG_EDGES)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "graph has %zu edges (at most %u are drawn)", ne,
                        LIM_DAG_EDGES);
    for (size_t i = 0; i < ne; i++)
        if (edges[i].from >= n || edges[i].to >= n)
            return ferr_set(
                err, FERR_INVALID, NULL, "edge %zu names node %zu of %zu", i,
                edges[i].from >= n ? edges[i].from : edges[i].to, n);
    l->n = n;
    l->e = xmalloc((ne ? ne : 1) * sizeof(*l->e));
    for (size_t i = 0; i < ne; i++) {
        if (edges[i].from == edges[i].to)
            continue;
        memset(&l->e[m], 0, sizeof(l->e[m]));
        l->e[m].from = edges[i].from;
        l->e[m].to = edges[i].to;
        m++;
    }
    qsort(l->e, m, sizeof(*l->e), cmp_edge);
    l->ne = 0;
    for (size_t i = 0; i < m; i++)
        if (!l->ne || cmp_edge(&l->e[l->ne - 1], &l->e[i]) != 0)
            l->e[l->ne++] = l->e[i];
    start = xcalloc(n + 1, sizeof(*start));
    for (size_t i = 0; i < l->ne; i++)
        start[l->e[i].from + 1]++;
    for (size_t v = 0; v < n; v++)
        start[v + 1] += start[v];
    mark_back_edges(n, l->e, start);
    l->layer = xmalloc((n ? n : 1) * sizeof(size_t));
    assign_layers(n, l->e, l->ne, start, l->layer);
    free(start);
    for (size_t i = 0; i < l->ne; i++) {
        struct ledge *x = &l->e[i];

        if (x->back) {
            l->nback++;
            continue;
        }
        x->first_dummy = n + dummies;
        x->ndummy = l->layer[x->to] - l->layer[x->from] - 1;
        if (x->ndummy > MAX_DUMMIES - dummies) {
            lay_release(l);
            return ferr_set(err, FERR_LIMIT, NULL,
                            "graph is too deep to draw (more than %zu "
                            "bends)",
                            MAX_DUMMIES);
        }
        dummies += x->ndummy;
    }
    l->nv = n + dummies;
    l->layer = xrealloc(l->layer, (l->nv ? l->nv : 1) * sizeof(size_t));
    for (size_t i = 0; i < l->ne; i++)
        for (size_t j = 0; j < l->e[i].ndummy; j++)
            l->layer[l->e[i].first_dummy + j] = l->layer[l->e[i].from] + 1 + j;
    for (size_t v = 0; v < l->nv; v++)
        if (l->layer[v] + 1 > l->nlayers)
            l->nlayers = l->layer[v] + 1;
    l->count = xcalloc(l->nlayers ? l->nlayers : 1, sizeof(size_t));
    for (size_t v = 0; v < l->nv; v++)
        l->count[l->layer[v]]++;
    for (size_t L = 0; L < l->nlayers; L++)
        if (l->count[L] > l->rows)
            l->rows = l->count[L];
    l->order = xcalloc(l->nv ? l->nv : 1, sizeof(size_t));
    order_layers(l);
    return FERR_OK;
}

enum ferr_code dag_layout(size_t n, const struct dag_edge *edges, size_t ne,
                          struct dag_layout *out, struct ferr *err)
{
    struct lay l;
    enum ferr_code rc = lay_build(n, edges, ne, &l, err);

    memset(out, 0, sizeof(*out));
    if (rc)
        return rc;
    out->n = n;
    out->layer = xmalloc((n ? n : 1) * sizeof(size_t));
    out->order = xmalloc((n ? n : 1) * sizeof(size_t));
    if (n) {
        memcpy(out->layer, l.layer, n * sizeof(size_t));
        memcpy(out->order, l.order, n * sizeof(size_t));
    }
    out->nlayers = l.nlayers;
    out->rows = l.rows;
    out->nback = l.nback;
    lay_release(&l);
    return FERR_OK;
}

void dag_layout_release(struct dag_layout *l)
{
    free(l->layer);
    free(l->order);
    memset(l, 0, sizeof(*l));
}

/* ---------- drawing ---------- */

static long vx(const struct lay *l, size_t v)
{
    return DAG_MARGIN + (long)l->layer[v] * (DAG_NODE_W + DAG_GAP_X);
}

/* Top of vertex @v's box: rows are centred in their column. */
static long vy(const struct lay *l, size_t v)
{
    long pitch = DAG_NODE_H + DAG_GAP_Y;
    long off = (long)(l->rows - l->count[l->layer[v]]) * pitch / 2;

    return DAG_MARGIN + off + (long)l->order[v] * pitch;
}

/* Bytes of the first @max code points of @s (invalid bytes count as
 * one); *@cut tells whether anything is left. */
static size_t prefix_chars(const char *s, size_t max, bool *cut)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t len = strlen(s);
    size_t i = 0;

    for (size_t k = 0; k < max && i < len; k++) {
        size_t cl = span_utf8_len(p + i, len - i);

        i += cl ? cl : 1;
    }
    *cut = i < len;
    return i;
}

static void id_attr(struct buf *b, const struct dag_node *nodes, size_t v)
{
    if (nodes[v].id)
        html_esc(b, nodes[v].id);
    else
        html_addf(b, "%zu", v);
}

static void draw_edge(struct buf *b, const struct lay *l,
                      const struct dag_node *nodes, const struct ledge *x)
{
    long half = DAG_NODE_H / 2;

    html_add(b, x->back ? "<path class=\"e back\"" : "<path class=\"e\"");
    html_add(b, " data-from=\"");
    id_attr(b, nodes, x->from);
    html_add(b, "\" data-to=\"");
    id_attr(b, nodes, x->to);
    html_add(b, "\" marker-end=\"url(#dag-arrow)\" d=\"");
    if (x->back) {
        long x0 = vx(l, x->from) + DAG_NODE_W / 2;
        long y0 = vy(l, x->from) + DAG_NODE_H;
        long x1 = vx(l, x->to) + DAG_NODE_W / 2 + 12;
        long y1 = vy(l, x->to) + DAG_NODE_H;
        long low = DAG_MARGIN + (long)l->rows * (DAG_NODE_H + DAG_GAP_Y) +
                   BACK_DIP / 2;

        html_addf(b, "M%ld %ldC%ld %ld %ld %ld %ld %ld", x0, y0, x0, low, x1,
                  low, x1, y1);
    } else {
        long px = vx(l, x->from) + DAG_NODE_W;
        long py = vy(l, x->from) + half;

        html_addf(b, "M%ld %ld", px, py);
        for (size_t j = 0; j <= x->ndummy; j++) {
            size_t v = j < x->ndummy ? x->first_dummy + j : x->to;
            long qx = vx(l, v) - (j == x->ndummy ? 2 : 0);
            long qy = vy(l, v) + half;
            long mid = (qx - px) / 2;

            html_addf(b, "C%ld %ld %ld %ld %ld %ld", px + mid, py, qx - mid, qy,
                      qx, qy);
            if (j < x->ndummy) {
                px = qx + DAG_NODE_W;
                py = qy;
                html_addf(b, "L%ld %ld", px, py);
            }
        }
    }
    html_add(b, "\"/>");
}

static void draw_node(struct buf *b, const struct lay *l,
                      const struct dag_node *nd, const struct dag_node *nodes,
                      size_t v)
{
    long x = vx(l, v), y = vy(l, v);
    const char *label = nd->label ? nd->label : "";
    bool cut = false;
    size_t lb = prefix_chars(label, LABEL_CHARS, &cut);

    html_addf(b, "<g class=\"n n-%s\" data-id=\"", html_state_class(nd->state));
    id_attr(b, nodes, v);
    html_add(b, "\">");
    if (nd->href) {
        html_add(b, "<a href=\"");
        html_esc(b, nd->href);
        html_add(b, "\">");
    }
    html_add(b, "<title>");
    html_esc(b, label);
    if (nd->state) {
        html_add(b, " (");
        html_esc(b, nd->state);
        html_add(b, ")");
    }
    html_addf(b,
              "</title><rect class=\"box\" x=\"%ld\" y=\"%ld\" "
              "width=\"%d\" height=\"%d\" rx=\"7\"/>"
              "<circle class=\"dot\" cx=\"%ld\" cy=\"%ld\" r=\"5\"/>"
              "<text x=\"%ld\" y=\"%ld\">",
              x, y, DAG_NODE_W, DAG_NODE_H, x + 15, y + DAG_NODE_H / 2, x + 28,
              nd->sub ? y + 19 : y + DAG_NODE_H / 2 + 5);
    html_escn(b, label, lb);
    if (cut)
        html_add(b, "\xe2\x80\xa6");
    html_add(b, "</text>");
    if (nd->sub) {
        bool scut = false;
        size_t sb = prefix_chars(nd->sub, LABEL_CHARS + 4, &scut);

        html_addf(b, "<text class=\"sub\" x=\"%ld\" y=\"%ld\">", x + 28,
                  y + 35);
        html_escn(b, nd->sub, sb);
        if (scut)
            html_add(b, "\xe2\x80\xa6");
        html_add(b, "</text>");
    }
    html_add(b, nd->href ? "</a></g>" : "</g>");
}

enum ferr_code dag_svg(struct buf *b, const struct dag_node *nodes, size_t n,
                       const struct dag_edge *edges, size_t ne,
                       struct ferr *err)
{
    struct lay l;
    enum ferr_code rc = lay_build(n, edges, ne, &l, err);
    long w, h;

    if (rc)
        return rc;
    w = 2 * DAG_MARGIN + (long)l.nlayers * DAG_NODE_W +
        (l.nlayers ? (long)(l.nlayers - 1) * DAG_GAP_X : 0);
    h = 2 * DAG_MARGIN + (long)l.rows * DAG_NODE_H +
        (l.rows ? (long)(l.rows - 1) * DAG_GAP_Y : 0) +
        (l.nback ? BACK_DIP : 0);
    html_addf(b,
              "<svg class=\"dag\" xmlns=\"http://www.w3.org/2000/svg\" "
              "width=\"%ld\" height=\"%ld\" viewBox=\"0 0 %ld %ld\" "
              "role=\"img\" aria-label=\"job graph\"><defs><marker "
              "id=\"dag-arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" "
              "markerWidth=\"7\" markerHeight=\"7\" "
              "orient=\"auto-start-reverse\"><path d=\"M0 0L10 5L0 10z\"/>"
              "</marker></defs><g class=\"edges\">",
              w, h, w, h);
    for (size_t i = 0; i < l.ne; i++)
        draw_edge(b, &l, nodes, &l.e[i]);
    html_add(b, "</g><g class=\"nodes\">");
    for (size_t v = 0; v < n; v++)
        draw_node(b, &l, &nodes[v], nodes, v);
    html_add(b, "</g></svg>");
    lay_release(&l);
    if (html_full(b))
        return ferr_set(err, FERR_LIMIT, NULL,
                        "the graph does not fit in the "
                        "page");
    return FERR_OK;
}
