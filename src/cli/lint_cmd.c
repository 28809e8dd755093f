/* lint_cmd: `ferry lint` — load and check workflow files, print every
 * finding as file:line:col: error|warning: message. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli/cli.h"
#include "engine/plan.h"
#include "exec/workspace.h"
#include "pipeline/lint.h"
#include "pipeline/wf.h"
#include "util/limits.h"

static void lint_file(const char *path, struct diags *d)
{
    char *src = NULL;
    size_t len = 0;
    struct ferr err;
    struct arena *a;
    struct wf *wf = NULL;
    size_t before = d->nerrors;
    const char *disp = strncmp(path, "./", 2) == 0 ? path + 2 : path;

    ferr_clear(&err);
    if (workspace_read_file(path, LIM_WORKFLOW_BYTES, &src, &len, &err)) {
        /* a file-level error still points somewhere an editor can open */
        struct pos at = {disp, 1, 1};

        diags_add(d, DIAG_ERROR, &at, "%s", err.msg);
        return;
    }
    a = arena_new(64 * 1024);
    if (wf_load(a, disp, span_of(src, len), &wf, d, &err) == FERR_OK)
        lint_wf(wf, LINT_SECURITY, d);
    else if (d->nerrors == before)
        diags_add_ferr(d, &err);
    arena_free(a);
    free(src);
}

int cli_lint(int argc, char **argv)
{
    char **files = NULL;
    size_t n = 0;
    struct diags d;
    struct ferr err;
    int status;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            cli_help("lint");
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "ferry lint: unknown option '%s'\n", argv[i]);
            return 2;
        }
    }
    ferr_clear(&err);
    if (plan_find_files(".", (const char **)argv + 1, (size_t)(argc - 1),
                        &files, &n, &err)) {
        fprintf(stderr, "ferry lint: %s\n", err.msg);
        return 2;
    }
    if (n == 0) {
        fprintf(stderr, "ferry lint: no workflow files found (looked in "
                        ".github/workflows and .ferry/workflows)\n");
        return 2;
    }
    diags_init(&d);
    for (size_t i = 0; i < n; i++)
        lint_file(files[i], &d);
    diags_sort(&d);
    diags_print(&d, stderr);
    status = d.nerrors ? 1 : 0;
    if (isatty(STDERR_FILENO) || d.n)
        fprintf(stderr, "%zu file%s checked: %zu error%s, %zu warning%s\n", n,
                n == 1 ? "" : "s", d.nerrors, d.nerrors == 1 ? "" : "s",
                d.n - (d.nerrors < d.n ? d.nerrors : d.n),
                d.n - d.nerrors == 1 ? "" : "s");
    diags_release(&d);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return status;
}
