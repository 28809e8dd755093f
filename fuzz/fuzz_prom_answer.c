/* fuzz_prom_answer: Prometheus' answer to an instant query.  Whatever the
 * bytes, the parser gives one of its documented codes, NaN and a
 * printable message on error, and the same answer twice. */
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "deploy/analysis.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct ferr e1;
    struct ferr e2;
    double v1 = 0;
    double v2 = 0;
    enum ferr_code r1;
    enum ferr_code r2;

    ferr_clear(&e1);
    ferr_clear(&e2);
    r1 = analysis_parse_prometheus((const char *)data, size, &v1, &e1);
    r2 = analysis_parse_prometheus((const char *)data, size, &v2, &e2);
    if (r1 != r2 || strcmp(e1.msg, e2.msg) != 0)
        __builtin_trap();
    if (r1 == FERR_OK) {
        if (e1.code != FERR_OK)
            __builtin_trap();
        if (isnan(v1) ? !isnan(v2) : v1 != v2)
            __builtin_trap();
        return 0;
    }
    if (r1 != FERR_PARSE && r1 != FERR_IO && r1 != FERR_NOTFOUND &&
        r1 != FERR_LIMIT)
        __builtin_trap();
    if (e1.code != r1 || !isnan(v1) || e1.msg[0] == '\0')
        __builtin_trap();
    for (const char *c = e1.msg; *c; c++)
        if ((unsigned char)*c < 0x20 || (unsigned char)*c == 0x7f)
            __builtin_trap();
    return 0;
}
