/* fuzz_cron: the input is a cron expression.  On a successful parse,
 * cron_next must return a minute after the start that cron_matches, with
 * no matching minute in between (checked when the gap is short). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pipeline/cron.h"

static void check_next(const struct cron *c, time_t after)
{
    time_t n = cron_next(c, after);
    time_t t;

    if (n == -1)
        return;
    if (n <= after || n % 60 != 0 || !cron_matches(c, n))
        abort();
    if (n - after > 2 * 86400)
        return;
    for (t = after - ((after % 60) + 60) % 60 + 60; t < n; t += 60)
        if (cron_matches(c, t))
            abort(); /* cron_next skipped a matching minute */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct cron c;
    struct ferr err;
    uint64_t h = 1469598103934665603ull;

    ferr_clear(&err);
    if (cron_parse(span_of(data, size), NULL, &c, &err) != FERR_OK) {
        if (err.code == FERR_OK || err.msg[0] == '\0')
            abort(); /* a failure must say why */
        return 0;
    }
    for (size_t i = 0; i < size; i++)
        h = (h ^ data[i]) * 1099511628211ull;
    check_next(&c, 0);
    check_next(&c, 1795312800);           /* 2026-11-22T02:00:00Z */
    check_next(&c, -3155760000);          /* 1870 */
    check_next(&c, (time_t)(h % 4102444800u)); /* 1970..2100 */
    return 0;
}
