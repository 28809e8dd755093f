/* fuzz_proxy_response: the input is what a backend answers.  The first
 * input byte picks the request kind (bit 0: HEAD) and the client (bit 1:
 * HTTP/1.0, which gets chunked bodies de-chunked); the rest is the
 * response.  A head that parses is rewritten for the client, and the
 * rewrite must parse again to the same status, with no hop-by-hop field
 * and the framing the client is told about; a chunked body is fed to the
 * chunk tracker, whose answers must stay in bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"

static struct http1_resp r1;
static struct http1_resp r2;

static void check_chunks(const char *p, size_t n, size_t step)
{
    struct http1_chunked c;
    size_t pos = 0;

    memset(&c, 0, sizeof(c));
    while (pos < n) {
        size_t avail = n - pos < step ? n - pos : step;
        size_t used;
        size_t data;
        enum http1_rc rc = http1_chunked_feed(&c, p + pos, avail, &used,
                                              &data);

        if (rc == HTTP1_BAD)
            return;
        if (used == 0 || used > avail || (data != 0 && data != used))
            abort();
        pos += used;
        if (rc == HTTP1_OK)
            return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char out[2 * LIM_PROXY_HEAD];
    static const char *const hop[] = { "keep-alive", "te", "trailer",
                                       "upgrade", "proxy-connection" };
    const char *p;
    bool head;
    unsigned minor;
    bool dechunk;
    size_t n;

    if (size < 1)
        return 0;
    head = data[0] & 1;
    minor = data[0] & 2 ? 0 : 1;
    p = (const char *)data + 1;
    size--;
    if (http1_parse_response(p, size, head, &r1) != HTTP1_OK)
        return 0;
    if (r1.head_len > size || r1.status < 100 || r1.status > 599)
        abort();
    if (head && r1.framing != HTTP1_NONE)
        abort();
    dechunk = minor == 0 && r1.framing == HTTP1_CHUNKED;
    n = http1_response_head(&r1, minor, !dechunk, dechunk, out, sizeof(out));
    if (n == 0)
        abort();
    if (http1_parse_response(out, n, head, &r2) != HTTP1_OK) {
        /* only the added Connection field may push it over the cap */
        if (r1.nhdr + 1 > LIM_PROXY_HEADERS)
            return 0;
        abort();
    }
    if (r2.status != r1.status || r2.head_len != n)
        abort();
    for (size_t i = 0; i < r2.nhdr; i++)
        for (size_t k = 0; k < sizeof(hop) / sizeof(hop[0]); k++)
            if (span_eq_nocase(r2.hdr[i].name, span_cstr(hop[k])))
                abort();
    if (dechunk && (r2.framing == HTTP1_CHUNKED || r2.keep_alive))
        abort();
    if (!dechunk && r1.framing != r2.framing &&
        !(r1.framing == HTTP1_CLOSE && r2.framing == HTTP1_CLOSE))
        abort();
    if (r1.framing == HTTP1_CHUNKED) {
        check_chunks(p + r1.head_len, size - r1.head_len, 1);
        check_chunks(p + r1.head_len, size - r1.head_len, size);
    }
    return 0;
}
