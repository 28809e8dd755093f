/* diag: a list of positioned errors and warnings, for checks that report
 * everything they find (ferry lint) instead of stopping at the first. */
#ifndef FERRY_UTIL_DIAG_H
#define FERRY_UTIL_DIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "util/ferr.h"

enum diag_level { DIAG_ERROR, DIAG_WARNING };

struct diag {
    enum diag_level level;
    struct pos pos;     /* pos.file is a copy owned by the list */
    char *msg;          /* owned by the list; lowercase, no final period */
    size_t seq;         /* order of discovery, for a stable sort */
};

struct diags {
    struct diag *v;
    size_t n;
    size_t cap;
    size_t nerrors;
};

void diags_init(struct diags *d);
void diags_release(struct diags *d);
/** Append one diagnostic (@pos may be NULL).  Past 1000 entries further
 *  ones are counted but dropped. */
void diags_add(struct diags *d, enum diag_level lvl, const struct pos *pos,
               const char *fmt, ...) __attribute__((format(printf, 4, 5)));
/** Append @err (if set) as an error. */
void diags_add_ferr(struct diags *d, const struct ferr *err);
/** Sort by file, line, column (stable). */
void diags_sort(struct diags *d);
/** Print each as "file:line:col: error|warning: msg\n". */
void diags_print(const struct diags *d, FILE *out);

#endif
