/* shell: the shells GitHub knows and custom {0} templates.  Splitting
 * follows POSIX quoting for words without expansions; nothing is ever
 * passed to a shell to split. */
#include "exec/shell.h"

#include <string.h>
#include <stdlib.h>

#include "util/xalloc.h"

/* Split @s in place into words: blanks separate, '...' and "..." group
 * (a backslash escapes the next character, except in single
 * quotes).  The array is heap; the words
 * point into @s. */
static const char **split_words(char *s)
{
    size_t cap = 8;
    size_t n = 0;
    const char **argv = xcalloc(cap, sizeof(*argv));
    char *r = s;
    char *w = s;

    for (;;) {
        while (*r == ' ' || *r == '\t')
            r++;
        if (!*r)
            break;
        if (n + 2 >= cap) {
            cap *= 2;
            argv = xrealloc(argv, cap * sizeof(*argv));
        }
        argv[n++] = w;
        while (*r && *r != ' ' && *r != '\t') {
            char q = *r;

            if (q == '\'' || q == '"') {
                r++;
                while (*r && *r != q) {
                    if (q == '"' && *r == '\\' && r[1])
                        r++;
                    *w++ = *r++;
                }
                if (*r)
                    r++;
            } else if (q == '\\' && r[1]) {
                r++;
                *w++ = *r++;
            } else {
                *w++ = *r++;
            }
        }
        if (*r)
            r++;
        *w++ = '\0';
    }
    argv[n] = NULL;
    if (n == 0)
        argv[0] = "";
    return argv;
}

enum ferr_code shell_parse(struct shell *out, const char *name, bool required,
                           const struct pos *pos, struct ferr *err)
{
    const char *tmpl;
    const char *ext = ".sh";

    memset(out, 0, sizeof(*out));
    if (!name || !*name) {
        if (required)
            return ferr_set(err, FERR_INVALID, pos,
                            "a run step in a composite action needs "
                            "'shell'");
        tmpl = "bash -e {0}";
    } else if (strcmp(name, "bash") == 0) {
        tmpl = "bash --noprofile --norc -eo pipefail {0}";
    } else if (strcmp(name, "sh") == 0) {
        tmpl = "sh -e {0}";
    } else if (strcmp(name, "python") == 0) {
        tmpl = "python3 {0}";
        ext = ".py";
    } else if (strcmp(name, "node") == 0) {
        tmpl = "node {0}";
        ext = ".js";
    } else if (strcmp(name, "pwsh") == 0) {
        tmpl = "pwsh -command \". '{0}'\"";
        ext = ".ps1";
    } else if (strcmp(name, "cmd") == 0 || strcmp(name, "powershell") == 0) {
        return ferr_set(err, FERR_UNSUPPORTED, pos,
                        "shell '%s' exists only on Windows runners", name);
    } else if (strstr(name, "{0}")) {
        tmpl = name;
    } else {
        return ferr_set(err, FERR_INVALID, pos,
                        "unknown shell '%s' (a custom shell must contain "
                        "'{0}' where the script path goes)", name);
    }
    out->ext = ext;
    out->words = xstrdup(tmpl);
    out->argv = split_words(out->words);
    if (!out->argv[0][0]) {
        shell_release(out);
        return ferr_set(err, FERR_INVALID, pos, "shell '%s' is empty", name);
    }
    return FERR_OK;
}

char **shell_argv(const struct shell *sh, const char *script)
{
    size_t n = 0;
    char **out;

    while (sh->argv[n])
        n++;
    out = xcalloc(n + 1, sizeof(*out));
    for (size_t i = 0; i < n; i++) {
        const char *at = strstr(sh->argv[i], "{0}");

        if (at)
            out[i] = xasprintf("%.*s%s%s", (int)(at - sh->argv[i]),
                               sh->argv[i], script, at + 3);
        else
            out[i] = xstrdup(sh->argv[i]);
    }
    return out;
}

void shell_argv_free(char **argv)
{
    for (char **p = argv; p && *p; p++)
        free(*p);
    free(argv);
}

void shell_release(struct shell *sh)
{
    free(sh->argv);
    free(sh->words);
    memset(sh, 0, sizeof(*sh));
}
