/* dag: lay out a directed graph (a run's jobs and their `needs`) in
 * layers and draw it as SVG.  Sugiyama's steps, kept small: cycles
 * broken by a depth-first search, longest-path layers, dummy vertices on
 * edges that skip layers, barycentre ordering, fixed-size boxes.  Pure:
 * no I/O; the caller decides what the nodes are. */
#ifndef FERRY_WEB_DAG_H
#define FERRY_WEB_DAG_H

#include <stddef.h>

#include "util/buf.h"
#include "util/ferr.h"

/* Box geometry, in SVG user units. */
#define DAG_NODE_W 200
#define DAG_NODE_H 44
#define DAG_GAP_X  56
#define DAG_GAP_Y  14
#define DAG_MARGIN 12

/** One node to draw (all borrowed; any may be NULL but label). */
struct dag_node {
    const char *id;    /* data-id attribute (e.g. the job's key) */
    const char *label; /* first line, cut to fit (full text in <title>) */
    const char *sub;   /* second line, smaller (e.g. "3 jobs · 12 s") */
    const char *state; /* node class "n-STATE" (see html_state_class) */
    const char *href;  /* the box links here when set */
};

/** An edge: @to needs @from (drawn from left to right). */
struct dag_edge {
    size_t from, to;
};

/** Where each node went (arrays of n entries, owned by the layout). */
struct dag_layout {
    size_t n;       /* real nodes */
    size_t *layer;  /* column, 0 = no prerequisites */
    size_t *order;  /* row within its column, 0 = top */
    size_t nlayers; /* columns */
    size_t rows;    /* rows of the tallest column (dummies included) */
    size_t nback;   /* edges ignored to break cycles */
};

/**
 * Lay out @n nodes with @ne edges.  Self-loops and repeated edges are
 * ignored; an edge of a cycle found by a depth-first search (in node
 * order) is left out of the layering and drawn as a back edge.
 * Errors: FERR_INVALID for an edge naming a node >= @n; FERR_LIMIT for
 * more than LIM_DAG_NODES nodes or LIM_DAG_EDGES edges, or edges that
 * would need more than LIM_DAG_NODES * 8 dummy vertices.  *@out is
 * zeroed on error.  Release with dag_layout_release.
 */
enum ferr_code dag_layout(size_t n, const struct dag_edge *edges, size_t ne,
                          struct dag_layout *out,
                          struct ferr *err) FERR_MUST_CHECK;

/** Free what @l holds (it is zeroed; a zeroed layout is a no-op). */
void dag_layout_release(struct dag_layout *l);

/**
 * Append the graph as an <svg class="dag"> element to @b: one <g
 * class="n n-STATE" data-id=ID> per node (a rect, a status dot, the
 * label and sub line, inside <a href> when set) and one <path class="e"
 * data-from=ID data-to=ID> per edge ("e back" for cycle edges), with an
 * arrow marker (id "dag-arrow": one graph per page).  Every string is
 * escaped.  Errors: as dag_layout; FERR_LIMIT when @b is full (its
 * contents are then unspecified but valid).
 */
enum ferr_code dag_svg(struct buf *b, const struct dag_node *nodes, size_t n,
                       const struct dag_edge *edges, size_t ne,
                       struct ferr *err) FERR_MUST_CHECK;

#endif
