/* lint: semantic checks over a loaded workflow, reporting everything
 * found: expressions (syntax, unknown contexts per key as GitHub's
 * context-availability table allows, unknown functions, arity), unknown
 * jobs in needs and cycles (naming the cycle), bad cron, invalid matrix,
 * script injection of untrusted input into run:, and more. */
#ifndef FERRY_PIPELINE_LINT_H
#define FERRY_PIPELINE_LINT_H

#include "pipeline/wf.h"
#include "util/diag.h"

/**
 * Check @wf and append every finding to @diags (errors and warnings with
 * file:line:col).  Never stops at the first problem.  Pure.
 */
void lint_wf(const struct wf *wf, struct diags *diags);

#endif
