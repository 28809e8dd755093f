/* shell: GitHub's `shell:` values — bash, sh, python, node, pwsh or a
 * custom template with {0} — turned into the argv that runs a script
 * file.  Pure: no processes here. */
#ifndef FERRY_EXEC_SHELL_H
#define FERRY_EXEC_SHELL_H

#include <stdbool.h>

#include "util/ferr.h"

struct shell {
    const char *ext;      /* the script file's extension (".sh", ".py") */
    char *words;          /* the template, split in place (owned) */
    const char **argv;    /* its words, NULL-terminated; one holds "{0}"
                           * when the template names the script (owned) */
};

/**
 * Parse @name (NULL or "" = unspecified: `bash -e {0}`, as on GitHub's
 * Linux runners, unless @required, e.g. in composite actions).  Words
 * split on blanks with '...' and "..." grouping (backslash escapes in
 * double quotes).  Errors: FERR_INVALID (unknown shell, a custom one
 * without {0}, missing when required), FERR_UNSUPPORTED (cmd,
 * powershell); err->pos = @pos.  On error @out is empty.
 */
enum ferr_code shell_parse(struct shell *out, const char *name, bool required,
                           const struct pos *pos,
                           struct ferr *err) FERR_MUST_CHECK;

/** argv with "{0}" replaced by @script in every word; heap, free with
 *  shell_argv_free. */
char **shell_argv(const struct shell *sh, const char *script);
void shell_argv_free(char **argv);

/** Free what @sh owns; it can be parsed into again. */
void shell_release(struct shell *sh);

#endif
