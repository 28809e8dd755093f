/* matrix: expand strategy.matrix into job combinations exactly as GitHub
 * combines them (cartesian product, then exclude, then include merging
 * into matching combinations or adding new ones).  Pure. */
#ifndef FERRY_PIPELINE_MATRIX_H
#define FERRY_PIPELINE_MATRIX_H

#include <jansson.h>

#include "util/ferr.h"

/**
 * Expand @matrix (a JSON object, already evaluated: keys are the
 * dimensions with array values, plus optional "include"/"exclude" arrays
 * of objects) into *out: a new JSON array of objects, one per job, in
 * GitHub's order.  An empty matrix gives an empty array.  Include and
 * exclude values match leaf by leaf (objects match partially) and compare
 * like GitHub's '==': strings ignore case, "12" equals 12.  The result
 * shares nothing with @matrix.
 * Errors: FERR_INVALID (a dimension that is not a non-empty array,
 * include/exclude not an array of objects, exclude naming an unknown key,
 * ...) and FERR_LIMIT past LIM_MATRIX_JOBS combinations; err->pos is
 * @pos; *out is NULL.  The caller owns *out.
 */
enum ferr_code matrix_expand(const json_t *matrix, const struct pos *pos,
                             json_t **out, struct ferr *err) FERR_MUST_CHECK;

#endif
