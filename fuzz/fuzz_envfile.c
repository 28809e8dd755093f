/* fuzz_envfile: the input is a GITHUB_ENV-style file (and a GITHUB_PATH
 * file).  Names are never empty and never hold a line break; a failure
 * must carry a message and, for parse errors, a line inside the input. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/runfile.h"

struct seen {
    size_t pairs;
    size_t bytes;   /* name + value bytes handed out, bounded by input */
};

static int on_pair(void *ud, struct span name, struct span value)
{
    struct seen *s = ud;

    if (name.len == 0 || memchr(name.p, '\n', name.len))
        __builtin_trap();
    if (value.len && !value.p)
        __builtin_trap();
    s->pairs++;
    s->bytes += name.len + value.len;
    return 0;
}

static int on_dir(void *ud, struct span dir)
{
    (void)ud;
    if (dir.len == 0 || memchr(dir.p, '\n', dir.len) ||
        dir.p[0] == ' ' || dir.p[dir.len - 1] == ' ')
        __builtin_trap();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct span src = span_of(data, size);
    struct seen s = { 0, 0 };
    struct ferr err;
    enum ferr_code rc;
    size_t lines = 1;

    for (size_t i = 0; i < size; i++)
        lines += data[i] == '\n';
    ferr_clear(&err);
    rc = runfile_parse_env("fuzz.env", src, on_pair, &s, &err);
    if (rc != FERR_OK) {
        if (err.code != rc || err.msg[0] == '\0')
            __builtin_trap();
        if (rc == FERR_PARSE &&
            (err.pos.line < 1 || err.pos.line > lines || err.pos.col != 1 ||
             !err.pos.file || strcmp(err.pos.file, "fuzz.env") != 0))
            __builtin_trap();
    } else if (err.code != FERR_OK) {
        __builtin_trap();
    }
    if (s.bytes > size)
        __builtin_trap();
    if (runfile_parse_path(src, on_dir, NULL) != FERR_OK)
        __builtin_trap();
    return 0;
}
