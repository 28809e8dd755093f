/* fuzz_dora_window: the input's first line is a window ("30d", as the
 * API's ?window= and `ferry dora --window` take it); what follows, when
 * anything does, is the JSON of DORA inputs.  A window is either
 * rejected with a message and 0 ms, or is a whole number of minutes from
 * 1 minute to 366 days that prints back as itself.  dora_compute must
 * then take any JSON over that window without crashing, and answer an
 * object with one series entry per UTC day. */
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics/dora.h"

#define T0 1767225600000LL /* 2026-01-01T00:00:00Z */

/* The window as dora_parse_window's input spells it, from its ms. */
static int same_window(const char *s, int64_t ms)
{
    static const struct {
        char unit;
        int64_t ms;
    } units[] = {
        {'m', 60000}, {'h', 3600000}, {'d', 86400000}, {'w', 604800000}};
    size_t n = strlen(s);
    char back[32];

    for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
        if (s[n - 1] != units[i].unit)
            continue;
        if (ms % units[i].ms)
            return 0;
        snprintf(back, sizeof(back), "%" PRId64 "%c", ms / units[i].ms,
                 units[i].unit);
        /* leading zeros parse too ("030d") */
        while (s[0] == '0' && s[1] != units[i].unit)
            s++;
        return strcmp(back, s) == 0;
    }
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *nl = memchr(data, '\n', size);
    size_t wlen = nl ? (size_t)(nl - data) : size;
    char *w = malloc(wlen + 1);
    struct ferr err;
    int64_t ms = -1;
    json_t *in;
    json_t *out;

    memcpy(w, data, wlen);
    w[wlen] = '\0';
    ferr_clear(&err);
    if (dora_parse_window(w, &ms, &err) != FERR_OK) {
        if (ms != 0 || err.code != FERR_INVALID ||
            strncmp(err.msg, "bad window '", 12) != 0)
            abort(); /* a rejection says why and leaves 0 */
        free(w);
        return 0;
    }
    /* (a NUL ends the window: the server's query strings are C text) */
    if (ms < 60000 || ms > 366LL * 86400000 || ms % 60000 ||
        !same_window(w, ms))
        abort();
    free(w);
    in = nl ? json_loadb((const char *)nl + 1, size - wlen - 1, 0, NULL) : NULL;
    out = dora_compute(in, T0 - ms, T0);
    if (!json_is_object(out) ||
        json_array_size(json_object_get(out, "series")) !=
            (size_t)((ms + 86399999) / 86400000) ||
        !json_object_get(out, "change_failure_rate"))
        abort();
    json_decref(out);
    json_decref(in);
    return 0;
}
