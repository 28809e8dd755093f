/* fuzz_haproxy_answer: the traffic drivers' answer parsers — HAProxy's
 * `show stat` CSV (for backend "app") and ferry proxy's GET /backends
 * JSON — on arbitrary bytes.  Errors are fine; crashes are not. */
#include <stddef.h>
#include <stdint.h>

#include "deploy/traffic.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct traffic_backend *b;
    struct ferr err;
    size_t n;

    ferr_clear(&err);
    if (!traffic_parse_haproxy_stat((const char *)data, size, "app", &b, &n,
                                    &err))
        traffic_backends_free(b, n);
    ferr_clear(&err);
    if (!traffic_parse_ferry_answer((const char *)data, size, &b, &n, &err))
        traffic_backends_free(b, n);
    return 0;
}
