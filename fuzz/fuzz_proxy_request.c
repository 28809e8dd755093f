/* fuzz_proxy_request: the input is what a client sends the proxy.  The
 * request head is parsed as `ferry proxy` does; a head that parses is
 * rewritten for the backend, and the rewrite must parse again to the same
 * method, target, host and framing with no hop-by-hop field left (or be
 * refused only for size: 431).  A chunked body after the head is fed to
 * the chunk tracker in uneven pieces; its answers must stay in bounds. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proxy/http1.h"

static struct http1_req r1;
static struct http1_req r2;

static void check_chunks(const char *p, size_t n, size_t step)
{
    struct http1_chunked c;
    size_t pos = 0;

    memset(&c, 0, sizeof(c));
    c.max = 1u << 20;
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
        if (c.total > c.max)
            abort();
        pos += used;
        if (rc == HTTP1_OK)
            return;
    }
}

static void check_rewrite(void)
{
    static char out[3 * LIM_PROXY_HEAD];
    static const char *const hop[] = { "connection", "keep-alive", "te",
                                       "trailer", "upgrade",
                                       "proxy-connection" };
    struct http1_fwd f = { SPAN_LIT("192.0.2.1"), SPAN_LIT("http"),
                           SPAN_LIT("proxy.test:80") };
    size_t n = http1_request_head(&r1, &f, out, sizeof(out));
    enum http1_rc rc;

    if (n == 0)
        abort(); /* 3x the head limit always fits */
    rc = http1_parse_request(out, n, LIM_PROXY_BODY, &r2);
    if (rc == HTTP1_BAD && r2.error_status == 431)
        return; /* the added fields pushed it over a limit */
    if (rc != HTTP1_OK || r2.head_len != n)
        abort();
    if (!span_eq(r1.method, r2.method) || !span_eq(r1.target, r2.target) ||
        r2.minor != 1 || r2.framing != r1.framing ||
        r2.content_length != r1.content_length)
        abort();
    if (!span_eq(r2.host, r1.host.len ? r1.host : f.default_host))
        abort();
    for (size_t i = 0; i < r2.nhdr; i++)
        for (size_t k = 0; k < sizeof(hop) / sizeof(hop[0]); k++)
            if (span_eq_nocase(r2.hdr[i].name, span_cstr(hop[k])))
                abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *p = (const char *)data;
    enum http1_rc rc = http1_parse_request(p, size, LIM_PROXY_BODY, &r1);

    if (rc == HTTP1_BAD) {
        if (r1.error_status < 400 || r1.error_status > 505 || !r1.error)
            abort();
        return 0;
    }
    if (rc == HTTP1_AGAIN)
        return 0;
    if (r1.head_len > size || r1.head_len > LIM_PROXY_HEAD)
        abort();
    check_rewrite();
    if (r1.framing == HTTP1_CHUNKED) {
        check_chunks(p + r1.head_len, size - r1.head_len, 1);
        check_chunks(p + r1.head_len, size - r1.head_len, 7);
        check_chunks(p + r1.head_len, size - r1.head_len, size);
    }
    return 0;
}
