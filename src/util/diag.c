/* diag: positioned diagnostics, kept in order of discovery until sorted. */
#include "util/diag.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "util/xalloc.h"

#define DIAG_MAX 1000

void diags_init(struct diags *d)
{
    memset(d, 0, sizeof(*d));
}

void diags_release(struct diags *d)
{
    for (size_t i = 0; i < d->n; i++) {
        free(d->v[i].msg);
        free((char *)d->v[i].pos.file);
    }
    free(d->v);
    diags_init(d);
}

static void add(struct diags *d, enum diag_level lvl, const struct pos *pos,
                char *msg)
{
    if (lvl == DIAG_ERROR)
        d->nerrors++;
    if (d->n >= DIAG_MAX) {
        free(msg);
        return;
    }
    if (d->n == d->cap) {
        d->cap = d->cap ? d->cap * 2 : 16;
        d->v = xrealloc(d->v, d->cap * sizeof(*d->v));
    }
    d->v[d->n].level = lvl;
    if (pos)
        d->v[d->n].pos = *pos;
    else
        memset(&d->v[d->n].pos, 0, sizeof(struct pos));
    /* the list outlives the workflow text its positions came from */
    if (d->v[d->n].pos.file)
        d->v[d->n].pos.file = xstrdup(d->v[d->n].pos.file);
    d->v[d->n].msg = msg;
    d->v[d->n].seq = d->n;
    d->n++;
}

void diags_add(struct diags *d, enum diag_level lvl, const struct pos *pos,
               const char *fmt, ...)
{
    va_list ap;
    char *msg;

    va_start(ap, fmt);
    if (vasprintf(&msg, fmt, ap) < 0)
        msg = xstrdup("(message lost)");
    va_end(ap);
    add(d, lvl, pos, msg);
}

void diags_add_ferr(struct diags *d, const struct ferr *err)
{
    if (err->code == FERR_OK)
        return;
    add(d, DIAG_ERROR, &err->pos, xstrdup(err->msg));
}

static int cmp(const void *pa, const void *pb)
{
    const struct diag *a = pa;
    const struct diag *b = pb;
    int c = strcmp(a->pos.file ? a->pos.file : "", b->pos.file ? b->pos.file : "");

    if (c)
        return c;
    if (a->pos.line != b->pos.line)
        return a->pos.line < b->pos.line ? -1 : 1;
    if (a->pos.col != b->pos.col)
        return a->pos.col < b->pos.col ? -1 : 1;
    return a->seq < b->seq ? -1 : (a->seq > b->seq);
}

void diags_sort(struct diags *d)
{
    /* qsort is not stable; ties are broken by the discovery order */
    if (d->n > 1)
        qsort(d->v, d->n, sizeof(*d->v), cmp);
}

void diags_print(const struct diags *d, FILE *out)
{
    for (size_t i = 0; i < d->n; i++) {
        const struct diag *g = &d->v[i];
        const char *lvl = g->level == DIAG_ERROR ? "error" : "warning";

        if (g->pos.line)
            fprintf(out, "%s:%u:%u: %s: %s\n",
                    g->pos.file ? g->pos.file : "<input>",
                    (unsigned)g->pos.line, (unsigned)g->pos.col, lvl, g->msg);
        else
            fprintf(out, "%s: %s: %s\n", g->pos.file ? g->pos.file : "ferry",
                    lvl, g->msg);
    }
    if (d->n >= DIAG_MAX)
        fprintf(out, "ferry: %zu more diagnostics not shown\n",
                d->nerrors > d->n ? d->nerrors - d->n : (size_t)0);
}
