/* fuzz_deploy_inputs: the input is a `uses: ferry/deploy@v1` step's `with:`
 * inputs, which come from workflow files.  A JSON object is used as it is
 * (strings, and whatever else it holds: the parser must reject it);
 * anything else is read as lines "name=value", a line starting with a
 * space or a tab continuing the previous value on a new line (so canary
 * steps and env lines are reachable).  deploy_spec_parse must never
 * crash; a rejection says why and hands back no spec; an accepted spec
 * answers its getters with valid names. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "deploy/deploy.h"
#include "util/ferr.h"

/* Add "name" -> @val (the value so far) to @o. */
static void put(json_t *o, const char *name, size_t name_len,
                const char *val, size_t val_len)
{
    char *k = strndup(name, name_len);

    if (k) {
        json_object_set_new(o, k, json_stringn(val, val_len));
        free(k);
    }
}

/* Lines "name=value", continuations start with ' ' or '\t'. */
static json_t *from_lines(const char *d, size_t n)
{
    json_t *o = json_object();
    const char *name = NULL;
    size_t name_len = 0;
    char *val = malloc(n + 1);
    size_t val_len = 0;
    size_t i = 0;

    if (!val)
        return o;
    while (i < n) {
        const char *line = d + i;
        const char *nl = memchr(line, '\n', n - i);
        size_t len = nl ? (size_t)(nl - line) : n - i;
        const char *eq;

        i += len + (nl ? 1 : 0);
        if (len > 0 && (line[0] == ' ' || line[0] == '\t') && name) {
            val[val_len++] = '\n';
            memcpy(val + val_len, line + 1, len - 1);
            val_len += len - 1;
            continue;
        }
        eq = memchr(line, '=', len);
        if (!eq)
            continue;
        if (name)
            put(o, name, name_len, val, val_len);
        name = line;
        name_len = (size_t)(eq - line);
        val_len = len - name_len - 1;
        memcpy(val, eq + 1, val_len);
    }
    if (name)
        put(o, name, name_len, val, val_len);
    free(val);
    return o;
}

static int name_ok(const char *s)
{
    size_t n = s ? strlen(s) : 0;

    if (n == 0 || n > 64)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9') || strchr("._-", s[i])))
            return 0;
    return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *in = json_loadb((const char *)data, size, 0, NULL);
    struct deploy_spec *s = (struct deploy_spec *)1;
    struct ferr err;
    enum ferr_code rc;

    if (!json_is_object(in)) {
        json_decref(in);
        in = from_lines((const char *)data, size);
    }
    ferr_clear(&err);
    rc = deploy_spec_parse(in, &s, &err);
    if (rc) {
        if (s != NULL || err.code != rc || err.msg[0] == '\0')
            abort(); /* a rejection says why and returns nothing */
    } else {
        const char *r = deploy_spec_release(s);
        const char *u = deploy_spec_url(s);

        if (err.code != FERR_OK || !s)
            abort();
        if (!name_ok(deploy_spec_environment(s)) ||
            !name_ok(deploy_spec_version(s)))
            abort(); /* the names end up in paths */
        if (r && strcmp(r, "auto") != 0 && r[0] != 'v' &&
            !(r[0] >= '0' && r[0] <= '9'))
            abort(); /* auto, vX.Y.Z or X.Y.Z */
        if (u && !u[0])
            abort(); /* an empty input is no input */
        deploy_spec_set_workspace(s, "/tmp/ws");
        deploy_spec_free(s);
    }
    json_decref(in);
    return 0;
}
