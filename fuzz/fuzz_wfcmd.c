/* fuzz_wfcmd: the input is step output.  It is cut into lines by linebuf
 * (once whole, once split at a point taken from the input: the lines must
 * agree) and each line goes through wfcmd_feed.  A command's message is
 * never longer than its line; false always means WFCMD_NONE. */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "exec/linebuf.h"
#include "exec/wfcmd.h"
#include "util/limits.h"

struct run {
    struct wfcmd_state st;
    struct wfcmd cmd;
    struct buf lines;   /* every line, length-prefixed, for the comparison */
    bool record;
};

static int on_line(void *ud, struct span line)
{
    struct run *r = ud;
    bool is_cmd = wfcmd_feed(&r->st, line, &r->cmd);

    if (line.len > LIM_LOG_LINE)
        __builtin_trap();
    if (is_cmd != (r->cmd.kind != WFCMD_NONE))
        __builtin_trap();
    if (is_cmd) {
        if (r->cmd.value.len > line.len || r->cmd.name.len == 0 ||
            r->cmd.nprops > WFCMD_MAX_PROPS)
            __builtin_trap();
        for (size_t i = 0; i < r->cmd.nprops; i++)
            if (r->cmd.prop_keys[i].len == 0 ||
                r->cmd.prop_vals[i].len == 0 ||
                r->cmd.prop_vals[i].len > line.len)
                __builtin_trap();
    }
    if (r->record) {
        if (buf_add(&r->lines, &line.len, sizeof(line.len)) ||
            buf_addspan(&r->lines, line))
            return 1;
    }
    return 0;
}

static void run(const uint8_t *data, size_t size, size_t cut, struct buf *out)
{
    struct run r;
    struct linebuf lb;

    wfcmd_state_init(&r.st);
    wfcmd_init(&r.cmd);
    /* each line costs its bytes, its newline and an 8-byte length */
    buf_init(&r.lines, 16 * size + 64);
    r.record = true;
    linebuf_init(&lb);
    if (linebuf_feed(&lb, (const char *)data, cut, on_line, &r) ||
        linebuf_feed(&lb, (const char *)data + cut, size - cut, on_line, &r) ||
        linebuf_finish(&lb, on_line, &r))
        __builtin_trap();
    linebuf_release(&lb);
    wfcmd_release(&r.cmd);
    wfcmd_state_release(&r.st);
    *out = r.lines;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct buf a;
    struct buf b;
    size_t cut = 0;

    for (size_t i = 0; i < size && i < 4; i++)
        cut = cut * 256 + data[i];
    cut = size ? cut % (size + 1) : 0;
    run(data, size, size, &a);
    run(data, size, cut, &b);
    if (a.len != b.len || (a.len && memcmp(a.p, b.p, a.len) != 0))
        __builtin_trap();
    buf_release(&a);
    buf_release(&b);
    return 0;
}
