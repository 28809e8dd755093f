/* Unit tests for src/proxy/http1.c: request/response head parsing, chunked
 * framing, and the head rewriters. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "proxy/http1.h"

static struct http1_req req;
static struct http1_resp resp;

static enum http1_rc parse_req(const char *s)
{
    return http1_parse_request(s, strlen(s), LIM_PROXY_BODY, &req);
}

static enum http1_rc parse_resp(const char *s, bool head)
{
    return http1_parse_response(s, strlen(s), head, &resp);
}

static void test_http1_simple_get(void **state)
{
    const char *s = "GET /a?b=1 HTTP/1.1\r\nHost: example.com\r\n"
                    "Accept: */*\r\n\r\nrest";

    (void)state;
    assert_int_equal(parse_req(s), HTTP1_OK);
    assert_true(span_eq_cstr(req.method, "GET"));
    assert_true(span_eq_cstr(req.target, "/a?b=1"));
    assert_true(span_eq_cstr(req.host, "example.com"));
    assert_int_equal(req.minor, 1);
    assert_int_equal(req.head_len, strlen(s) - 4);
    assert_int_equal(req.nhdr, 2);
    assert_int_equal(req.framing, HTTP1_NONE);
    assert_true(req.keep_alive);
    assert_true(req.idempotent);
}

static void test_http1_incomplete_is_again(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: x\r\n"), HTTP1_AGAIN);
    assert_int_equal(parse_req("GE"), HTTP1_AGAIN);
    assert_int_equal(parse_req(""), HTTP1_AGAIN);
}

static void test_http1_garbage_is_400_early(void **state)
{
    (void)state;
    /* no complete line yet, but the bytes cannot start a method */
    assert_int_equal(parse_req("\x16\x03\x01\x02"), HTTP1_BAD);
    assert_int_equal(req.error_status, 400);
    assert_int_equal(parse_req("hello world\r\n\r\n"), HTTP1_BAD);
    assert_int_equal(req.error_status, 400);
}

static void test_http1_http10_keep_alive(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET / HTTP/1.0\r\n\r\n"), HTTP1_OK);
    assert_false(req.keep_alive);
    assert_int_equal(req.host.len, 0);
    assert_int_equal(parse_req("GET / HTTP/1.0\r\nConnection: Keep-Alive"
                               "\r\n\r\n"),
                     HTTP1_OK);
    assert_true(req.keep_alive);
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: a\r\nConnection: "
                               "close\r\n\r\n"),
                     HTTP1_OK);
    assert_false(req.keep_alive);
}

static void test_http1_missing_host_is_400(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET / HTTP/1.1\r\n\r\n"), HTTP1_BAD);
    assert_int_equal(req.error_status, 400);
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"),
                     HTTP1_BAD);
}

static void test_http1_content_length(void **state)
{
    (void)state;
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 12\r\n\r\n"),
                     HTTP1_OK);
    assert_int_equal(req.framing, HTTP1_LENGTH);
    assert_int_equal(req.content_length, 12);
    assert_false(req.idempotent);
    /* equal duplicates are one value; different ones are an error */
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 5, 5\r\n\r\n"),
                     HTTP1_OK);
    assert_int_equal(req.content_length, 5);
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 5\r\n"
                               "Content-Length: 6\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(req.error_status, 400);
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: -1\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: \r\n\r\n"),
                     HTTP1_BAD);
}

static void test_http1_body_over_limit_is_413(void **state)
{
    const char *s = "POST /x HTTP/1.1\r\nHost: a\r\n"
                    "Content-Length: 101\r\n\r\n";

    (void)state;
    assert_int_equal(http1_parse_request(s, strlen(s), 100, &req), HTTP1_BAD);
    assert_int_equal(req.error_status, 413);
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: "
                               "99999999999999999999999\r\n\r\n"),
                     HTTP1_BAD);
}

static void test_http1_cl_and_te_is_400(void **state)
{
    (void)state;
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Content-Length: 3\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(req.error_status, 400);
}

static void test_http1_transfer_encoding(void **state)
{
    (void)state;
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Transfer-Encoding: gzip, chunked\r\n\r\n"),
                     HTTP1_OK);
    assert_int_equal(req.framing, HTTP1_CHUNKED);
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Transfer-Encoding: chunked, gzip\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("POST /x HTTP/1.1\r\nHost: a\r\n"
                               "Transfer-Encoding: chunked\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("POST /x HTTP/1.0\r\n"
                               "Transfer-Encoding: chunked\r\n\r\n"),
                     HTTP1_BAD);
}

static void test_http1_obs_fold_and_bad_bytes(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: a\r\n"
                               "X: 1\r\n 2\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: a\r\nX : 1\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: a\r\nX: a\rb\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("GET /a b HTTP/1.1\r\nHost: a\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(parse_req("GET / HTTP/1.1\r\nHost: a\r\nNoColon\r\n\r\n"),
                     HTTP1_BAD);
}

static void test_http1_versions(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET / HTTP/2.0\r\n\r\n"), HTTP1_BAD);
    assert_int_equal(req.error_status, 505);
    assert_int_equal(parse_req("GET / HTTP/1\r\n\r\n"), HTTP1_BAD);
    assert_int_equal(req.error_status, 400);
    assert_int_equal(parse_req("CONNECT a:443 HTTP/1.1\r\nHost: a\r\n\r\n"),
                     HTTP1_BAD);
    assert_int_equal(req.error_status, 501);
}

static void test_http1_head_too_large_is_431(void **state)
{
    size_t n = LIM_PROXY_HEAD + 100;
    char *s = malloc(n + 1);

    (void)state;
    memset(s, 'a', n);
    memcpy(s, "GET / HTTP/1.1\r\nHost: a\r\nX: ", 28);
    s[n] = '\0';
    assert_int_equal(http1_parse_request(s, n, LIM_PROXY_BODY, &req),
                     HTTP1_BAD);
    assert_int_equal(req.error_status, 431);
    /* a long request line too */
    memcpy(s, "GET /", 5);
    assert_int_equal(http1_parse_request(s, n, LIM_PROXY_BODY, &req),
                     HTTP1_BAD);
    assert_int_equal(req.error_status, 431);
    free(s);
}

static void test_http1_too_many_fields_is_431(void **state)
{
    char s[8192];
    size_t n = 0;

    (void)state;
    n += (size_t)snprintf(s + n, sizeof(s) - n,
                          "GET / HTTP/1.1\r\nHost: a\r\n");
    for (unsigned i = 0; i < LIM_PROXY_HEADERS; i++)
        n += (size_t)snprintf(s + n, sizeof(s) - n, "X%u: y\r\n", i);
    n += (size_t)snprintf(s + n, sizeof(s) - n, "\r\n");
    assert_int_equal(http1_parse_request(s, n, LIM_PROXY_BODY, &req),
                     HTTP1_BAD);
    assert_int_equal(req.error_status, 431);
}

static void test_http1_absolute_form(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET http://h.example:8080/p?q HTTP/1.1\r\n"
                               "Host: other\r\n\r\n"),
                     HTTP1_OK);
    assert_true(span_eq_cstr(req.host, "h.example:8080"));
    assert_true(span_eq_cstr(req.target, "/p?q"));
    assert_int_equal(parse_req("GET http://h HTTP/1.1\r\n\r\n"), HTTP1_OK);
    assert_true(span_eq_cstr(req.target, "/"));
    assert_int_equal(parse_req("GET ftp://h/ HTTP/1.1\r\nHost: a\r\n\r\n"),
                     HTTP1_BAD);
}

static void test_http1_bare_lf_lines(void **state)
{
    (void)state;
    assert_int_equal(parse_req("GET / HTTP/1.1\nHost: a\n\n"), HTTP1_OK);
    assert_true(span_eq_cstr(req.host, "a"));
}

static void test_http1_leading_empty_lines(void **state)
{
    (void)state;
    assert_int_equal(parse_req("\r\n\r\nGET / HTTP/1.1\r\nHost: a\r\n\r\n"),
                     HTTP1_OK);
    assert_true(span_eq_cstr(req.method, "GET"));
}

static size_t rewrite(const char *in, char *out, size_t cap)
{
    struct http1_fwd f = { SPAN_LIT("10.0.0.9"), SPAN_LIT("http"),
                           SPAN_LIT("proxy:80") };

    assert_int_equal(parse_req(in), HTTP1_OK);
    return http1_request_head(&req, &f, out, cap);
}

static void test_http1_request_rewrite_hop_by_hop(void **state)
{
    char out[2048];
    size_t n = rewrite("GET /x HTTP/1.1\r\nHost: app\r\n"
                       "Connection: keep-alive, X-Secret\r\n"
                       "Keep-Alive: timeout=5\r\nTE: trailers\r\n"
                       "Trailer: X-T\r\nUpgrade: websocket\r\n"
                       "Proxy-Connection: keep-alive\r\nX-Secret: 1\r\n"
                       "Accept: text/html\r\n\r\n",
                       out, sizeof(out));

    (void)state;
    assert_true(n > 0);
    out[n] = '\0';
    assert_string_equal(out, "GET /x HTTP/1.1\r\n"
                             "Host: app\r\n"
                             "Accept: text/html\r\n"
                             "X-Forwarded-For: 10.0.0.9\r\n"
                             "X-Forwarded-Proto: http\r\n"
                             "X-Forwarded-Host: app\r\n"
                             "\r\n");
}

static void test_http1_request_rewrite_xff_appends(void **state)
{
    char out[2048];
    size_t n = rewrite("POST /x HTTP/1.1\r\nHost: app\r\n"
                       "X-Forwarded-For: 1.1.1.1\r\n"
                       "X-Forwarded-For: 2.2.2.2, 3.3.3.3\r\n"
                       "X-Forwarded-Proto: https\r\n"
                       "Content-Length: 4\r\n\r\n",
                       out, sizeof(out));

    (void)state;
    assert_true(n > 0);
    out[n] = '\0';
    assert_non_null(strstr(out, "X-Forwarded-For: 1.1.1.1, 2.2.2.2, "
                                "3.3.3.3, 10.0.0.9\r\n"));
    assert_non_null(strstr(out, "X-Forwarded-Proto: http\r\n"));
    assert_null(strstr(out, "https"));
    assert_non_null(strstr(out, "Content-Length: 4\r\n"));
}

static void test_http1_request_rewrite_keeps_framing(void **state)
{
    char out[2048];
    size_t n = rewrite("POST /x HTTP/1.1\r\nHost: app\r\n"
                       "Connection: Content-Length, Transfer-Encoding, Host\r\n"
                       "Transfer-Encoding: chunked\r\n\r\n",
                       out, sizeof(out));

    (void)state;
    assert_true(n > 0);
    out[n] = '\0';
    assert_non_null(strstr(out, "Transfer-Encoding: chunked\r\n"));
    assert_non_null(strstr(out, "Host: app\r\n"));
    assert_null(strstr(out, "Connection"));
}

static void test_http1_request_rewrite_default_host(void **state)
{
    char out[2048];
    size_t n = rewrite("GET / HTTP/1.0\r\n\r\n", out, sizeof(out));

    (void)state;
    assert_true(n > 0);
    out[n] = '\0';
    assert_non_null(strstr(out, "GET / HTTP/1.1\r\nHost: proxy:80\r\n"));
}

static void test_http1_request_rewrite_too_small(void **state)
{
    char out[40];

    (void)state;
    assert_int_equal(rewrite("GET / HTTP/1.1\r\nHost: a\r\n\r\n", out,
                             sizeof(out)),
                     0);
}

static void test_http1_response_framing(void **state)
{
    (void)state;
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                                false),
                     HTTP1_OK);
    assert_int_equal(resp.status, 200);
    assert_int_equal(resp.framing, HTTP1_LENGTH);
    assert_int_equal(resp.content_length, 5);
    assert_true(resp.keep_alive);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n",
                                true),
                     HTTP1_OK);
    assert_int_equal(resp.framing, HTTP1_NONE);
    assert_int_equal(parse_resp("HTTP/1.1 204 No Content\r\n\r\n", false),
                     HTTP1_OK);
    assert_int_equal(resp.framing, HTTP1_NONE);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\n"
                                "Transfer-Encoding: chunked\r\n\r\n",
                                false),
                     HTTP1_OK);
    assert_int_equal(resp.framing, HTTP1_CHUNKED);
    assert_int_equal(parse_resp("HTTP/1.0 200 OK\r\n\r\n", false), HTTP1_OK);
    assert_int_equal(resp.framing, HTTP1_CLOSE);
    assert_false(resp.keep_alive);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip"
                                "\r\n\r\n",
                                false),
                     HTTP1_OK);
    assert_int_equal(resp.framing, HTTP1_CLOSE);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nConnection: close\r\n"
                                "Content-Length: 0\r\n\r\n",
                                false),
                     HTTP1_OK);
    assert_false(resp.keep_alive);
}

static void test_http1_response_bad(void **state)
{
    (void)state;
    assert_int_equal(parse_resp("HTTP/1.1 2000 OK\r\n\r\n", false), HTTP1_BAD);
    assert_int_equal(parse_resp("HTTP/1.1 099 X\r\n\r\n", false), HTTP1_BAD);
    assert_int_equal(parse_resp("SSH-2.0-OpenSSH\r\n", false), HTTP1_BAD);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: x\r\n\r\n",
                                false),
                     HTTP1_BAD);
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n",
                                false),
                     HTTP1_AGAIN);
    assert_int_equal(parse_resp("HTTP/1.1 200\r\n\r\n", false), HTTP1_OK);
    assert_int_equal(resp.reason.len, 0);
}

static void test_http1_response_rewrite(void **state)
{
    char out[1024];
    size_t n;

    (void)state;
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\nConnection: X-Hop\r\n"
                                "X-Hop: 1\r\nKeep-Alive: timeout=5\r\n"
                                "Transfer-Encoding: chunked\r\n"
                                "Content-Type: text/plain\r\n\r\n",
                                false),
                     HTTP1_OK);
    n = http1_response_head(&resp, 1, true, false, out, sizeof(out) - 1);
    out[n] = '\0';
    assert_string_equal(out, "HTTP/1.1 200 OK\r\n"
                             "Transfer-Encoding: chunked\r\n"
                             "Content-Type: text/plain\r\n\r\n");
    /* an HTTP/1.0 client: no chunked framing, closed after */
    n = http1_response_head(&resp, 0, false, true, out, sizeof(out) - 1);
    out[n] = '\0';
    assert_string_equal(out, "HTTP/1.1 200 OK\r\n"
                             "Content-Type: text/plain\r\n"
                             "Connection: close\r\n\r\n");
    n = http1_response_head(&resp, 0, true, false, out, sizeof(out) - 1);
    out[n] = '\0';
    assert_non_null(strstr(out, "Connection: keep-alive\r\n"));
}

/* fuzz_proxy_response found it: a response with Transfer-Encoding and
 * Content-Length, de-chunked for an HTTP/1.0 client, kept the
 * Content-Length, which then framed the body for the client */
static void test_http1_response_te_drops_content_length(void **state)
{
    char out[1024];
    size_t n;

    (void)state;
    assert_int_equal(parse_resp("HTTP/1.1 200 OK\r\n"
                                "Transfer-Encoding: chunked\r\n"
                                "Content-Length: 20\r\n\r\n",
                                false),
                     HTTP1_OK);
    assert_int_equal(resp.framing, HTTP1_CHUNKED);
    n = http1_response_head(&resp, 0, false, true, out, sizeof(out) - 1);
    out[n] = '\0';
    assert_null(strstr(out, "Content-Length"));
    assert_null(strstr(out, "Transfer-Encoding"));
    n = http1_response_head(&resp, 1, true, false, out, sizeof(out) - 1);
    out[n] = '\0';
    assert_null(strstr(out, "Content-Length"));
    assert_non_null(strstr(out, "Transfer-Encoding: chunked\r\n"));
}

/* Feed @s to a fresh tracker in pieces of @step bytes; returns the last
 * rc, the payload in @payload. */
static enum http1_rc chunk_all(const char *s, size_t step, char *payload,
                               size_t *plen, size_t *consumed)
{
    struct http1_chunked c;
    size_t n = strlen(s);
    size_t pos = 0;
    enum http1_rc rc = HTTP1_AGAIN;

    memset(&c, 0, sizeof(c));
    *plen = 0;
    while (pos < n && rc == HTTP1_AGAIN) {
        size_t avail = n - pos < step ? n - pos : step;
        size_t used;
        size_t data;

        rc = http1_chunked_feed(&c, s + pos, avail, &used, &data);
        if (rc == HTTP1_BAD)
            break;
        assert_true(used > 0);
        assert_true(data == 0 || data == used);
        memcpy(payload + *plen, s + pos, data);
        *plen += data;
        pos += used;
    }
    *consumed = pos;
    return rc;
}

static void test_http1_chunked_ok(void **state)
{
    const char *s = "5\r\nhello\r\n7;ext=1\r\n, world\r\n0\r\n"
                    "X-T: 1\r\n\r\nNEXT";
    char payload[64];
    size_t plen;
    size_t used;

    (void)state;
    for (size_t step = 1; step < 40; step++) {
        assert_int_equal(chunk_all(s, step, payload, &plen, &used), HTTP1_OK);
        assert_int_equal(plen, 12);
        assert_memory_equal(payload, "hello, world", 12);
        assert_int_equal(used, strlen(s) - 4); /* stops before NEXT */
    }
}

static void test_http1_chunked_bad(void **state)
{
    static const char *const bad[] = {
        "x\r\n",                      /* not hex */
        "5\nhello\r\n0\r\n\r\n",      /* bare LF after the size */
        "5\r\nhelloX\r\n",            /* no CRLF after the data */
        "11111111111111111\r\n",      /* 17 hex digits */
        "\r\n",                       /* no size */
        "5\r\nhello\r\n0\r\n\r\r",    /* bad final CRLF */
    };
    char payload[64];
    size_t plen;
    size_t used;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        assert_int_equal(chunk_all(bad[i], 64, payload, &plen, &used),
                         HTTP1_BAD);
}

static void test_http1_chunked_limit(void **state)
{
    struct http1_chunked c;
    size_t used;
    size_t data;

    (void)state;
    memset(&c, 0, sizeof(c));
    c.max = 10;
    assert_int_equal(http1_chunked_feed(&c, "b\r\n", 3, &used, &data),
                     HTTP1_BAD);
    assert_true(c.over_limit);
}

static void test_http1_error_response(void **state)
{
    char out[256];
    size_t n = http1_error_response(502, false, out, sizeof(out));

    (void)state;
    assert_true(n > 0);
    assert_int_equal(parse_resp(out, false), HTTP1_OK);
    assert_int_equal(resp.status, 502);
    assert_false(resp.keep_alive);
    assert_int_equal(resp.content_length, n - resp.head_len);
    assert_int_equal(http1_error_response(502, false, out, 10), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_http1_simple_get),
        cmocka_unit_test(test_http1_incomplete_is_again),
        cmocka_unit_test(test_http1_garbage_is_400_early),
        cmocka_unit_test(test_http1_http10_keep_alive),
        cmocka_unit_test(test_http1_missing_host_is_400),
        cmocka_unit_test(test_http1_content_length),
        cmocka_unit_test(test_http1_body_over_limit_is_413),
        cmocka_unit_test(test_http1_cl_and_te_is_400),
        cmocka_unit_test(test_http1_transfer_encoding),
        cmocka_unit_test(test_http1_obs_fold_and_bad_bytes),
        cmocka_unit_test(test_http1_versions),
        cmocka_unit_test(test_http1_head_too_large_is_431),
        cmocka_unit_test(test_http1_too_many_fields_is_431),
        cmocka_unit_test(test_http1_absolute_form),
        cmocka_unit_test(test_http1_bare_lf_lines),
        cmocka_unit_test(test_http1_leading_empty_lines),
        cmocka_unit_test(test_http1_request_rewrite_hop_by_hop),
        cmocka_unit_test(test_http1_request_rewrite_xff_appends),
        cmocka_unit_test(test_http1_request_rewrite_keeps_framing),
        cmocka_unit_test(test_http1_request_rewrite_default_host),
        cmocka_unit_test(test_http1_request_rewrite_too_small),
        cmocka_unit_test(test_http1_response_framing),
        cmocka_unit_test(test_http1_response_bad),
        cmocka_unit_test(test_http1_response_rewrite),
        cmocka_unit_test(test_http1_response_te_drops_content_length),
        cmocka_unit_test(test_http1_chunked_ok),
        cmocka_unit_test(test_http1_chunked_bad),
        cmocka_unit_test(test_http1_chunked_limit),
        cmocka_unit_test(test_http1_error_response),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
