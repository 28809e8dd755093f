/* lint: semantic checks over a loaded workflow, reporting everything
 * found: expressions (syntax, unknown contexts per key as GitHub's
 * context-availability table allows, unknown functions, arity), unknown
 * jobs in needs and cycles (naming the cycle), bad cron, invalid matrix,
 * script injection of untrusted input into run:, the name, version and
 * `with:` inputs of ferry's own actions (ferry/deploy@v1 ...), and more. */
#ifndef FERRY_PIPELINE_LINT_H
#define FERRY_PIPELINE_LINT_H

#include "pipeline/wf.h"
#include "util/diag.h"

enum lint_flags {
    LINT_SECURITY = 1 << 0, /* also flag script injection (ferry lint) */
};

/**
 * Check @wf and append every finding to @diags (errors and warnings with
 * file:line:col).  Never stops at the first problem.  @flags is a set of
 * LINT_* bits: without LINT_SECURITY the script-injection check is
 * skipped (ferry run), with it untrusted input expanded into a script is
 * an error (ferry lint).  Pure; @wf is only read.
 */
void lint_wf(const struct wf *wf, unsigned flags, struct diags *diags);

#endif
