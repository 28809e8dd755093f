/* inputs: how ferry's own actions (ferry/deploy, image, report, gate)
 * read their `with:` inputs — from INPUT_<NAME> variables, as GitHub's
 * JavaScript actions do.  It does not validate names: the callers check
 * them against pipeline/ferryact.h. */
#include <stdlib.h>
#include <string.h>

#include "cli/cli.h"
#include "util/json.h"
#include "util/xalloc.h"

extern char **environ;

json_t *cli_inputs_take(void)
{
    json_t *o = json_object();

    for (char **e = environ; *e; e++) {
        const char *eq;
        char *name;

        if (strncmp(*e, "INPUT_", 6) != 0)
            continue;
        eq = strchr(*e, '=');
        if (!eq || eq == *e + 6)
            continue;
        name = xstrndup(*e + 6, (size_t)(eq - *e - 6));
        for (char *p = name; *p; p++)
            if (*p >= 'A' && *p <= 'Z')
                *p = (char)(*p - 'A' + 'a');
        json_object_set_new(o, name, json_lossy_stringn(eq + 1, strlen(eq + 1)));
        free(name);
    }
    /* read once: what the step starts (instances, hooks, builds) does
     * not get them — the step's inputs, a password among them, are not
     * anyone else's environment */
    for (;;) {
        char **e = environ;
        char *name;

        while (*e && strncmp(*e, "INPUT_", 6) != 0)
            e++;
        if (!*e)
            break;
        name = xstrndup(*e, strcspn(*e, "="));
        if (unsetenv(name) != 0) {
            free(name);
            break;
        }
        free(name);
    }
    return o;
}
