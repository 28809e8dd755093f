/* runfile: parse the files a step writes for the runner (GITHUB_ENV,
 * GITHUB_OUTPUT, GITHUB_STATE, GITHUB_PATH) the way actions/runner's
 * FileCommandManager does, accepting "\r\n" line ends on every platform.
 * It does not read files, apply the values or block names (NODE_OPTIONS):
 * the caller does. */
#include "exec/runfile.h"

#include <string.h>

#include "util/buf.h"
#include "util/limits.h"

#define NAME_SHOWN 80 /* bytes of a name quoted in an error message */

/* A line cursor over the source: lines end at '\n'; one '\r' before it is
 * dropped. */
struct cursor {
    struct span rest;
    uint32_t line;            /* number of the line last returned */
};

static bool next_line(struct cursor *c, struct span *out)
{
    const char *nl;
    size_t len;

    if (c->rest.len == 0)
        return false;
    nl = memchr(c->rest.p, '\n', c->rest.len);
    len = nl ? (size_t)(nl - c->rest.p) : c->rest.len;
    *out = span_of(c->rest.p, len);
    c->rest.p += nl ? len + 1 : len;
    c->rest.len -= nl ? len + 1 : len;
    if (out->len && out->p[out->len - 1] == '\r')
        out->len--;
    c->line++;
    return true;
}

static int shown(struct span s)
{
    return s.len > NAME_SHOWN ? NAME_SHOWN : (int)s.len;
}

static const char *find2(struct span s, char a, char b)
{
    for (size_t i = 0; i + 1 < s.len; i++)
        if (s.p[i] == a && s.p[i + 1] == b)
            return s.p + i;
    return NULL;
}

/* The value of a NAME<<DELIM block into @val: the lines up to the one
 * equal to @delim, joined with '\n'.  FERR_NOTFOUND without that line. */
static enum ferr_code heredoc(struct cursor *c, struct span delim,
                              struct buf *val)
{
    struct span line;
    bool first = true;

    buf_reset(val);
    while (next_line(c, &line)) {
        if (span_eq(line, delim))
            return FERR_OK;
        if (!first && buf_addch(val, '\n'))
            return FERR_LIMIT;
        if (buf_addspan(val, line))
            return FERR_LIMIT;
        first = false;
    }
    return FERR_NOTFOUND;
}

enum ferr_code runfile_parse_env(const char *file, struct span src,
                                 int (*cb)(void *ud, struct span name,
                                           struct span value),
                                 void *ud, struct ferr *err)
{
    struct cursor c = { src, 0 };
    struct span line;
    struct buf tmp;
    enum ferr_code rc = FERR_OK;

    buf_init(&tmp, LIM_ENV_FILE_BYTES);
    if (src.len > LIM_ENV_FILE_BYTES) {
        struct pos whole = { file, 0, 0 };

        return ferr_set(err, FERR_LIMIT, &whole,
                        "file is larger than %u bytes", LIM_ENV_FILE_BYTES);
    }
    while (next_line(&c, &line)) {
        struct pos pos = { file, c.line, 1 };
        const char *eq = memchr(line.p, '=', line.len);
        const char *hd = find2(line, '<', '<');
        struct span name;
        struct span value;

        if (line.len == 0)
            continue;
        if (eq && (!hd || eq < hd)) {
            name = span_of(line.p, (size_t)(eq - line.p));
            value = span_of(eq + 1, line.len - name.len - 1);
            if (name.len == 0) {
                rc = ferr_set(err, FERR_PARSE, &pos,
                              "empty name before '='");
                goto done;
            }
        } else if (hd) {
            struct span delim;

            name = span_of(line.p, (size_t)(hd - line.p));
            delim = span_of(hd + 2, line.len - name.len - 2);
            if (name.len == 0) {
                rc = ferr_set(err, FERR_PARSE, &pos,
                              "empty name before '<<'");
                goto done;
            }
            if (delim.len == 0) {
                rc = ferr_set(err, FERR_PARSE, &pos,
                              "empty delimiter after '%.*s<<'", shown(name),
                              name.p);
                goto done;
            }
            rc = heredoc(&c, delim, &tmp);
            value = buf_span(&tmp);
            if (rc == FERR_NOTFOUND) {
                rc = ferr_set(err, FERR_PARSE, &pos,
                              "matching delimiter '%.*s' not found",
                              shown(delim), delim.p);
                goto done;
            }
            if (rc) {
                rc = ferr_set(err, rc, &pos, "value of '%.*s' is too long",
                              shown(name), name.p);
                goto done;
            }
        } else {
            /* the line itself is not quoted: it may hold a secret */
            rc = ferr_set(err, FERR_PARSE, &pos,
                          "expected 'NAME=VALUE' or 'NAME<<DELIMITER'");
            goto done;
        }
        {
            int crc = cb(ud, name, value);

            if (crc) {
                rc = (enum ferr_code)crc;
                goto done;
            }
        }
    }
done:
    buf_release(&tmp);
    return rc;
}

enum ferr_code runfile_parse_path(struct span src,
                                  int (*cb)(void *ud, struct span dir),
                                  void *ud)
{
    struct cursor c = { src, 0 };
    struct span line;

    if (src.len > LIM_ENV_FILE_BYTES)
        return FERR_LIMIT;
    while (next_line(&c, &line)) {
        struct span dir = span_trim(line);
        int rc;

        if (dir.len == 0)
            continue;
        rc = cb(ud, dir);
        if (rc)
            return (enum ferr_code)rc;
    }
    return FERR_OK;
}
