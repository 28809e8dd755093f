/* wfcmd: recognise workflow commands ("::name k=v,k2=v2::message") in step
 * output the way actions/runner's ActionCommand.TryParseV2 does, and keep
 * the stop-commands state of a step.  It does not act on commands (masking,
 * annotations, outputs are the caller's) and does not parse the legacy
 * "##[name]" form. */
#include "exec/wfcmd.h"

#include <string.h>

#include "util/limits.h"

static const struct {
    const char *name;
    enum wfcmd_kind kind;
} kinds[] = {
    { "add-mask", WFCMD_ADD_MASK },
    { "group", WFCMD_GROUP },
    { "endgroup", WFCMD_ENDGROUP },
    { "error", WFCMD_ERROR },
    { "warning", WFCMD_WARNING },
    { "notice", WFCMD_NOTICE },
    { "debug", WFCMD_DEBUG },
    { "set-output", WFCMD_SET_OUTPUT },
    { "save-state", WFCMD_SAVE_STATE },
    { "stop-commands", WFCMD_STOP_COMMANDS },
    { "echo", WFCMD_ECHO },
};

/* Not valid as stop-commands tokens besides the kinds above: commands the
 * runner knows that ferry reports as WFCMD_UNKNOWN, and "pause-logging". */
static const char *const reserved[] = {
    "set-env", "add-path", "add-matcher", "remove-matcher",
    "internal-set-repo-path", "pause-logging",
};

void wfcmd_init(struct wfcmd *c)
{
    c->kind = WFCMD_NONE;
    c->name = span_of("", 0);
    c->nprops = 0;
    for (size_t i = 0; i < WFCMD_MAX_PROPS; i++) {
        c->prop_keys[i] = span_of("", 0);
        buf_init(&c->prop_vals[i], LIM_LOG_LINE);
    }
    buf_init(&c->value, LIM_LOG_LINE);
}

void wfcmd_release(struct wfcmd *c)
{
    for (size_t i = 0; i < WFCMD_MAX_PROPS; i++)
        buf_release(&c->prop_vals[i]);
    buf_release(&c->value);
    c->nprops = 0;
    c->kind = WFCMD_NONE;
}

static void clear(struct wfcmd *c)
{
    c->kind = WFCMD_NONE;
    c->name = span_of("", 0);
    for (size_t i = 0; i < c->nprops; i++) {
        c->prop_keys[i] = span_of("", 0);
        buf_reset(&c->prop_vals[i]);
    }
    c->nprops = 0;
    buf_reset(&c->value);
}

static bool is_space(char ch)
{
    return ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
           ch == '\f' || ch == '\v';
}

static int hexval(char ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0'
         : ch >= 'A' && ch <= 'F' ? ch - 'A' + 10
                                  : -1;
}

/*
 * Undo the runner's escapes into @out.  Data: %25 %0D %0A; properties also
 * %3A %2C.  Upper case only, like the runner's ordinal replace; one pass
 * gives the same result as its chain of replaces because no replacement
 * can form a new escape.
 */
static enum ferr_code unescape(struct span s, bool prop, struct buf *out)
{
    size_t run = 0; /* start of the bytes not yet copied */

    for (size_t i = 0; i + 2 < s.len; i++) {
        char ch;

        if (s.p[i] != '%' || hexval(s.p[i + 1]) < 0 || hexval(s.p[i + 2]) < 0)
            continue;
        ch = (char)(hexval(s.p[i + 1]) * 16 + hexval(s.p[i + 2]));
        if (ch != '%' && ch != '\r' && ch != '\n' &&
            !(prop && (ch == ':' || ch == ',')))
            continue;
        if (buf_add(out, s.p + run, i - run) || buf_addch(out, ch))
            return FERR_LIMIT;
        i += 2;
        run = i + 1;
    }
    return buf_add(out, s.p + run, s.len - run);
}

static enum wfcmd_kind kind_of(struct span name)
{
    for (size_t i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
        if (span_eq_nocase(name, span_cstr(kinds[i].name)))
            return kinds[i].kind;
    return WFCMD_UNKNOWN;
}

/* Like the runner's dictionary: keys compare without case, the last value
 * wins; properties past WFCMD_MAX_PROPS distinct keys are dropped. */
static bool add_prop(struct wfcmd *c, struct span key, struct span val)
{
    size_t i;

    for (i = 0; i < c->nprops; i++)
        if (span_eq_nocase(c->prop_keys[i], key))
            break;
    if (i == WFCMD_MAX_PROPS)
        return true;
    buf_reset(&c->prop_vals[i]);
    if (unescape(val, true, &c->prop_vals[i]))
        return false;
    c->prop_keys[i] = key;
    if (i == c->nprops)
        c->nprops++;
    return true;
}

static bool parse_props(struct wfcmd *c, struct span s)
{
    s = span_trim(s);
    while (s.len) {
        struct span item;
        struct span key;
        struct span val;

        span_cut(s, ',', &item, &s);
        /* "k=" and "=v" have an empty side: the runner skips them */
        if (!span_cut(item, '=', &key, &val) || !key.len || !val.len)
            continue;
        if (!add_prop(c, key, val))
            return false;
    }
    return true;
}

bool wfcmd_parse(struct span line, struct wfcmd *c)
{
    struct span info;
    struct span name;
    struct span props;
    const char *end = NULL;
    size_t i = 0;

    clear(c);
    if (line.len == 0 || line.len > LIM_LOG_LINE)
        return false;
    while (i < line.len && is_space(line.p[i]))
        i++;
    line = span_of(line.p + i, line.len - i);
    if (line.len < 4 || line.p[0] != ':' || line.p[1] != ':')
        return false;
    for (i = 2; i + 1 < line.len; i++) {
        if (line.p[i] == ':' && line.p[i + 1] == ':') {
            end = line.p + i;
            break;
        }
    }
    if (!end)
        return false;
    info = span_of(line.p + 2, (size_t)(end - line.p) - 2);
    if (!span_cut(info, ' ', &name, &props))
        props = span_of("", 0);
    if (name.len == 0)
        return false;
    if (!parse_props(c, props))
        goto fail;
    if (unescape(span_of(end + 2, line.len - (size_t)(end - line.p) - 2),
                 false, &c->value))
        goto fail;
    c->name = name;
    c->kind = kind_of(name);
    return true;
fail:
    clear(c);
    return false;
}

const char *wfcmd_prop(const struct wfcmd *c, const char *key)
{
    struct span k = span_cstr(key);

    for (size_t i = 0; i < c->nprops; i++)
        if (span_eq_nocase(c->prop_keys[i], k))
            return buf_cstr(&c->prop_vals[i]);
    return NULL;
}

bool wfcmd_stop_token_ok(struct span token)
{
    if (token.len == 0)
        return false;
    if (kind_of(token) != WFCMD_UNKNOWN)
        return false;
    for (size_t i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
        if (span_eq_nocase(token, span_cstr(reserved[i])))
            return false;
    return true;
}

void wfcmd_state_init(struct wfcmd_state *s)
{
    buf_init(&s->stop_token, LIM_LOG_LINE);
}

void wfcmd_state_release(struct wfcmd_state *s)
{
    buf_release(&s->stop_token);
}

bool wfcmd_feed(struct wfcmd_state *s, struct span line, struct wfcmd *c)
{
    if (!wfcmd_parse(line, c))
        return false;
    if (s->stop_token.len) {
        if (!span_eq_nocase(c->name, buf_span(&s->stop_token))) {
            clear(c);
            return false;
        }
        buf_reset(&s->stop_token);
        c->kind = WFCMD_STOP_COMMANDS;
        return true;
    }
    if (c->kind == WFCMD_STOP_COMMANDS &&
        wfcmd_stop_token_ok(buf_span(&c->value)) &&
        buf_addspan(&s->stop_token, buf_span(&c->value)))
        buf_reset(&s->stop_token); /* cannot happen: both bufs share a max */
    return true;
}
