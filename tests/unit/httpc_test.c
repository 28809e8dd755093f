/* httpc_test: the libcurl loader and one request at a time against a real
 * python3 HTTP server (TCP and a unix socket), a listener that never
 * answers, and a port where nothing listens. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <curl/curl.h>

#include "testsrv.h"
#include "util/httpc.h"

struct fix {
    char dir[64];
    char sock[128];
    pid_t pid;
    unsigned port;
    struct buf out;
    struct ferr err;
};

static int setup(void **state)
{
    struct fix *f = calloc(1, sizeof(*f));

    if (!f)
        return -1;
    f->pid = -1;
    *state = f;
    buf_init(&f->out, 1024 * 1024);
    ferr_clear(&f->err);
    if (!testsrv_tmpdir(f->dir, sizeof(f->dir)))
        return -1;
    snprintf(f->sock, sizeof(f->sock), "%s/http.sock", f->dir);
    f->pid = testsrv_python_http(f->sock, &f->port);
    return f->pid > 0 ? 0 : -1;
}

static int teardown(void **state)
{
    struct fix *f = *state;

    if (!f)
        return 0;
    testsrv_stop(&f->pid);
    testsrv_rmtree(f->dir);
    buf_release(&f->out);
    free(f);
    return 0;
}

static enum ferr_code get(struct fix *f, const char *path, long timeout_ms,
                          long *status)
{
    char url[256];
    struct httpc_req req;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", f->port, path);
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.timeout_ms = timeout_ms;
    return httpc_do(&req, status, &f->out, &f->err);
}

/* Runs first: nothing is loaded yet. */
static void test_httpc_load_missing_then_real(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_null(httpc_curl());
    assert_int_equal(httpc_load("libcurl-ferry-missing.so.9", &err),
                     FERR_UNSUPPORTED);
    assert_non_null(strstr(err.msg, "libcurl is not installed"));
    assert_null(httpc_curl());
    ferr_clear(&err);
    assert_int_equal(httpc_load(NULL, &err), FERR_OK);
    assert_non_null(httpc_curl());
    assert_non_null(httpc_curl()->easy_init);
    /* loaded once: the same table, and a second load is a no-op */
    assert_int_equal(httpc_load("libcurl-ferry-missing.so.9", &err), FERR_OK);
}

static void test_httpc_get_ok(void **state)
{
    struct fix *f = *state;
    long status = -1;

    assert_int_equal(get(f, "/ok", 5000, &status), FERR_OK);
    assert_int_equal(status, 200);
    assert_string_equal(buf_cstr(&f->out), "all ok here\n");
}

static void test_httpc_error_status_is_not_an_error(void **state)
{
    struct fix *f = *state;
    long status = -1;

    assert_int_equal(get(f, "/fail", 5000, &status), FERR_OK);
    assert_int_equal(status, 500);
    assert_string_equal(buf_cstr(&f->out), "boom\n");
    buf_reset(&f->out);
    assert_int_equal(get(f, "/nope", 5000, &status), FERR_OK);
    assert_int_equal(status, 404);
}

static void test_httpc_redirect_not_followed(void **state)
{
    struct fix *f = *state;
    long status = -1;

    assert_int_equal(get(f, "/redirect", 5000, &status), FERR_OK);
    assert_int_equal(status, 302);
    assert_string_equal(buf_cstr(&f->out), "moved\n");
}

static void test_httpc_post_body_and_headers(void **state)
{
    struct fix *f = *state;
    const char *headers[] = {"X-Test: yes please", NULL};
    char url[128];
    struct httpc_req req;
    long status = -1;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/echo?a=1", f->port);
    memset(&req, 0, sizeof(req));
    req.method = "POST";
    req.url = url;
    req.headers = headers;
    req.body = "hello=world";
    req.body_len = strlen(req.body);
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_OK);
    assert_int_equal(status, 200);
    assert_string_equal(buf_cstr(&f->out), "POST /echo?a=1\nx-test=yes please\n"
                                           "body=hello=world\n");
    buf_reset(&f->out);
    req.method = "DELETE";
    req.body = NULL;
    req.body_len = 0;
    req.headers = NULL;
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_OK);
    assert_string_equal(buf_cstr(&f->out),
                        "DELETE /echo?a=1\nx-test=None\nbody=\n");
}

static void test_httpc_unix_socket(void **state)
{
    struct fix *f = *state;
    struct httpc_req req;
    long status = -1;

    memset(&req, 0, sizeof(req));
    req.url = "http://localhost/ok";
    req.unix_socket = f->sock;
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_OK);
    assert_int_equal(status, 200);
    assert_string_equal(buf_cstr(&f->out), "all ok here\n");
}

static void test_httpc_unix_socket_missing(void **state)
{
    struct fix *f = *state;
    char path[160];
    struct httpc_req req;
    long status = -1;

    snprintf(path, sizeof(path), "%s/none.sock", f->dir);
    memset(&req, 0, sizeof(req));
    req.url = "http://localhost/ok";
    req.unix_socket = path;
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_IO);
    assert_int_equal(status, 0);
    assert_non_null(strstr(f->err.msg, "cannot reach http://localhost/ok"));
    assert_non_null(strstr(f->err.msg, "none.sock"));
}

static void test_httpc_timeout(void **state)
{
    struct fix *f = *state;
    unsigned port;
    int lfd = testsrv_listener(&port);
    char url[128];
    struct httpc_req req;
    long status = -1;
    long long t0;
    long long took;
    enum ferr_code rc;

    assert_true(lfd >= 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", port);
    memset(&req, 0, sizeof(req));
    req.url = url;
    req.timeout_ms = 300;
    t0 = testsrv_now_ms();
    rc = httpc_do(&req, &status, &f->out, &f->err);
    took = testsrv_now_ms() - t0;
    close(lfd);
    assert_int_equal(rc, FERR_IO);
    assert_int_equal(status, 0);
    assert_non_null(strstr(f->err.msg, "timed out after 300 ms"));
    assert_non_null(strstr(f->err.msg, url));
    assert_true(took >= 250 && took < 3000);
}

static void test_httpc_connection_refused(void **state)
{
    struct fix *f = *state;
    unsigned port = testsrv_free_port();
    char url[128];
    char want[192];
    struct httpc_req req;
    long status = -1;

    assert_true(port > 0);
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/healthz", port);
    memset(&req, 0, sizeof(req));
    req.url = url;
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err),
                     FERR_NOTFOUND);
    assert_int_equal(status, 0);
    snprintf(want, sizeof(want), "cannot reach %s: Connection refused", url);
    assert_string_equal(f->err.msg, want);
}

static void test_httpc_body_over_max(void **state)
{
    struct fix *f = *state;
    long status = -1;

    buf_release(&f->out);
    buf_init(&f->out, 1000);
    assert_int_equal(get(f, "/big", 5000, &status), FERR_LIMIT);
    assert_int_equal(status, 200);
    assert_int_equal(f->out.len, 1000); /* what fit stays */
    assert_int_equal(f->out.p[999], 'x');
    assert_non_null(strstr(f->err.msg, "over 1000 bytes"));
}

static void test_httpc_bad_requests(void **state)
{
    struct fix *f = *state;
    const char *bad_header[] = {"X-Evil: a\r\nX-Other: b", NULL};
    const char *urls[] = {"ftp://127.0.0.1/x", "http:///x", "127.0.0.1:80/x",
                          "http://127.0.0.1/a b", "http://127.0.0.1/\r\n"};
    struct httpc_req req;
    long status = -1;

    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        memset(&req, 0, sizeof(req));
        req.url = urls[i];
        ferr_clear(&f->err);
        assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_USAGE);
        assert_non_null(strstr(f->err.msg, "bad URL"));
        assert_int_equal(status, 0);
    }
    memset(&req, 0, sizeof(req));
    req.url = "http://127.0.0.1/x";
    req.headers = bad_header;
    ferr_clear(&f->err);
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_USAGE);
    req.headers = NULL;
    req.method = "GET /x HTTP/1.1\r\n";
    ferr_clear(&f->err);
    assert_int_equal(httpc_do(&req, &status, &f->out, &f->err), FERR_USAGE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_httpc_load_missing_then_real),
        cmocka_unit_test_setup_teardown(test_httpc_get_ok, setup, teardown),
        cmocka_unit_test_setup_teardown(test_httpc_error_status_is_not_an_error,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(test_httpc_redirect_not_followed, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_httpc_post_body_and_headers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_httpc_unix_socket, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_httpc_unix_socket_missing, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_httpc_timeout, setup, teardown),
        cmocka_unit_test_setup_teardown(test_httpc_connection_refused, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_httpc_body_over_max, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_httpc_bad_requests, setup,
                                        teardown),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
