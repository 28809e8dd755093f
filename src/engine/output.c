/* output: pipe -> lines -> workflow commands -> masker -> events.  One
 * per job.  Reads only when the loop says a pipe is readable. */
#include "engine/output.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "exec/linebuf.h"
#include "exec/proc.h"
#include "exec/wfcmd.h"
#include "util/buf.h"
#include "util/json.h"
#include "util/limits.h"
#include "util/xalloc.h"

struct outpipe {
    struct outpipe *next;
    struct output *o;
    int fd; /* -1 once closed */
    pid_t pgid;
    int step; /* step number; -1 after its process exited */
    struct linebuf lb;
    struct wfcmd_state cmds;
};

void output_init(struct output *o, struct loop *l,
                 const struct event_sink *sink, struct mask *m,
                 const struct event *base)
{
    memset(o, 0, sizeof(*o));
    o->loop = l;
    o->sink = sink;
    o->mask = m;
    o->base = *base;
}

static void emit_line(struct output *o, int step, struct span line)
{
    struct event ev = o->base;

    ev.kind = EV_LOG;
    ev.time_ms = 0;
    ev.step = step;
    ev.group = o->group;
    ev.text = line;
    event_emit(o->sink, &ev);
}

void output_say(struct output *o, int step, const char *fmt, ...)
{
    struct buf raw;
    struct buf out;
    va_list ap;

    buf_init(&raw, LIM_LOG_LINE);
    buf_init(&out, LIM_LOG_LINE * 2);
    va_start(ap, fmt);
    if (buf_vaddf(&raw, fmt, ap) == FERR_OK &&
        mask_line(o->mask, buf_span(&raw), &out) == FERR_OK)
        emit_line(o, step, buf_span(&out));
    va_end(ap);
    buf_release(&raw);
    buf_release(&out);
}

char *output_masked(const struct output *o, const char *text)
{
    struct buf b;
    char *out;

    buf_init(&b, LIM_LOG_LINE * 4);
    if (mask_line(o->mask, span_cstr(text), &b))
        out = xstrdup("***");
    else
        out = xstrndup(buf_cstr(&b), b.len);
    buf_release(&b);
    return out;
}

static void annotate(struct output *o, int step, const struct wfcmd *c,
                     struct span msg)
{
    struct event ev = o->base;
    const char *line = wfcmd_prop(c, "line");
    const char *col = wfcmd_prop(c, "col");
    uint64_t n = 0;

    ev.kind = EV_ANNOTATION;
    ev.time_ms = 0;
    ev.step = step;
    ev.level = c->kind == WFCMD_ERROR     ? "error"
               : c->kind == WFCMD_WARNING ? "warning"
                                          : "notice";
    ev.file = wfcmd_prop(c, "file");
    if (line && span_to_u64(span_cstr(line), &n) == FERR_OK && n < UINT32_MAX)
        ev.line = (uint32_t)n;
    if (col && span_to_u64(span_cstr(col), &n) == FERR_OK && n < UINT32_MAX)
        ev.col = (uint32_t)n;
    ev.text = msg;
    event_emit(o->sink, &ev);
}

static void handle_cmd(struct output *o, int step, struct wfcmd *c,
                       struct span raw)
{
    struct buf out;

    buf_init(&out, LIM_LOG_LINE * 2);
    switch (c->kind) {
    case WFCMD_ADD_MASK:
        if (mask_add(o->mask, buf_span(&c->value)))
            output_say(o, step,
                       "warning: too many masked values; "
                       "'::add-mask::' ignored");
        break;
    case WFCMD_GROUP:
        free(o->group);
        o->group = NULL;
        if (mask_line(o->mask, buf_span(&c->value), &out) == FERR_OK) {
            o->group = xstrndup(buf_cstr(&out), out.len);
            emit_line(o, step, buf_span(&out));
        }
        break;
    case WFCMD_ENDGROUP:
        free(o->group);
        o->group = NULL;
        break;
    case WFCMD_ERROR:
    case WFCMD_WARNING:
    case WFCMD_NOTICE:
        if (mask_line(o->mask, buf_span(&c->value), &out) == FERR_OK)
            annotate(o, step, c, buf_span(&out));
        break;
    case WFCMD_DEBUG:
        if (o->debug &&
            mask_line(o->mask, buf_span(&c->value), &out) == FERR_OK)
            output_say(o, step, "[debug] %.*s", (int)out.len, buf_cstr(&out));
        break;
    case WFCMD_SET_OUTPUT: {
        const char *name = wfcmd_prop(c, "name");

        if (o->set_output && name && *name)
            json_object_set_new(
                o->set_output, name,
                json_lossy_stringn(buf_cstr(&c->value), c->value.len));
        break;
    }
    case WFCMD_UNKNOWN:
        if (mask_line(o->mask, raw, &out) == FERR_OK)
            emit_line(o, step, buf_span(&out));
        break;
    default: break;
    }
    buf_release(&out);
}

static int on_line(void *ud, struct span line)
{
    struct outpipe *p = ud;
    struct output *o = p->o;
    struct wfcmd c;
    struct buf out;

    wfcmd_init(&c);
    if (wfcmd_feed(&p->cmds, line, &c)) {
        handle_cmd(o, p->step, &c, line);
    } else {
        buf_init(&out, LIM_LOG_LINE * 4);
        if (mask_line(o->mask, line, &out) == FERR_OK)
            emit_line(o, p->step, buf_span(&out));
        buf_release(&out);
    }
    wfcmd_release(&c);
    return 0;
}

static void close_pipe(struct outpipe *p)
{
    if (p->fd < 0)
        return;
    loop_del_fd(p->o->loop, p->fd);
    close(p->fd);
    p->fd = -1;
}

/* Read what is there, at most @budget bytes; at EOF deliver the last
 * line and close.  The budget keeps a chatty process from starving the
 * loop. */
static void pump(struct outpipe *p, size_t budget)
{
    char buf[65536];

    while (p->fd >= 0 && budget > 0) {
        ssize_t n = read(p->fd, buf, sizeof(buf));

        if (n > 0) {
            linebuf_feed(&p->lb, buf, (size_t)n, on_line, p);
            budget = (size_t)n >= budget ? 0 : budget - (size_t)n;
            continue;
        }
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && errno == EAGAIN)
            return;
        linebuf_finish(&p->lb, on_line, p);
        close_pipe(p);
    }
}

static void on_readable(struct loop *l, int fd, unsigned events, void *ud)
{
    (void)l;
    (void)fd;
    (void)events;
    pump(ud, 1024 * 1024);
}

struct outpipe *output_adopt_pipe(struct output *o, int fd, pid_t pgid,
                                  int step)
{
    struct outpipe *p = xcalloc(1, sizeof(*p));

    p->o = o;
    p->fd = fd;
    p->pgid = pgid;
    p->step = step;
    linebuf_init(&p->lb);
    wfcmd_state_init(&p->cmds);
    p->next = o->pipes;
    o->pipes = p;
    if (loop_add_fd(o->loop, fd, LOOP_READ, on_readable, p)) {
        close(fd);
        p->fd = -1;
    }
    return p;
}

void output_pipe_exited(struct outpipe *p, size_t budget)
{
    pump(p, budget);
    linebuf_finish(&p->lb, on_line, p);
    p->step = -1;
}

void output_signal_groups(struct output *o, int sig)
{
    for (struct outpipe *p = o->pipes; p; p = p->next)
        if (p->pgid > 0)
            proc_signal_group(p->pgid, sig);
}

void output_close_pipes(struct output *o)
{
    for (struct outpipe *p = o->pipes; p; p = p->next)
        close_pipe(p);
}

void output_release(struct output *o)
{
    struct outpipe *p;

    while ((p = o->pipes)) {
        o->pipes = p->next;
        close_pipe(p);
        linebuf_release(&p->lb);
        wfcmd_state_release(&p->cmds);
        free(p);
    }
    free(o->group);
    o->group = NULL;
}
