/* client_test: the event-stream parser, the libcurl loader, and requests
 * against a scripted one-connection-at-a-time server in a child process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cli/client.h"
#include "util/limits.h"
#include "util/xalloc.h"

/* ---- the parser ---- */

/* Every event as "<id|event|data>\n" so that splits and ids show. */
struct events {
    struct buf all;
    size_t n;
    int stop_at; /* return 9 from the callback on this event; 0 never */
};

static int collect(void *ud, const char *id, const char *event,
                   const char *data)
{
    struct events *e = ud;

    e->n++;
    assert_int_equal(buf_addf(&e->all, "<%s|%s|%s>\n", id, event, data),
                     FERR_OK);
    return e->stop_at && (int)e->n == e->stop_at ? 9 : 0;
}

static void events_init(struct events *e)
{
    buf_init(&e->all, 64u * 1024 * 1024);
    e->n = 0;
    e->stop_at = 0;
}

/* Parse @text fed in the given chunk sizes (0 ends; the rest at once). */
static enum ferr_code parse_chunks(struct events *e, const char *text, size_t n,
                                   const size_t *chunks)
{
    struct client_sse *p = client_sse_new(collect, e);
    struct ferr err;
    size_t off = 0;
    enum ferr_code rc = FERR_OK;

    ferr_clear(&err);
    for (size_t i = 0; chunks && chunks[i] && off < n && !rc; i++) {
        size_t c = chunks[i] < n - off ? chunks[i] : n - off;

        rc = client_sse_feed(p, text + off, c, &err);
        off += c;
    }
    if (!rc && off < n)
        rc = client_sse_feed(p, text + off, n - off, &err);
    if (rc)
        assert_int_equal(err.code, rc);
    client_sse_free(p);
    return rc;
}

/* All the events of @text fed at once, as a string (caller frees). */
static char *parse_all(const char *text, size_t n)
{
    struct events e;

    events_init(&e);
    assert_int_equal(parse_chunks(&e, text, n, NULL), FERR_OK);
    return buf_take(&e.all, NULL);
}

static void test_client_sse_basic_event(void **state)
{
    const char s[] = "id: 17\nevent: line\ndata: {\"text\":\"ok\"}\n\n"
                     "event: end\ndata: {}\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    assert_string_equal(got, "<17|line|{\"text\":\"ok\"}>\n<17|end|{}>\n");
    free(got);
}

static const char tricky[] =
    "\xef\xbb\xbf: hello\r\n"
    "id: 1\r\nevent: line\r\ndata: a\r\ndata:  b\r\n\r\n"
    "data\rdata:c\r\rid:2\nevent:job\ndata: {\"x\": 1}\n\n"
    ":comment\n\nretry: 1000\nfoo: bar\ndata: last\r\n\n"
    "id: 3\n\ndata: after-id\n\ndata: cut";

static void test_client_sse_every_split(void **state)
{
    char *want = parse_all(tricky, sizeof(tricky) - 1);

    (void)state;
    assert_string_equal(want, "<1|line|a\n b>\n"
                              "<1|message|\nc>\n"
                              "<2|job|{\"x\": 1}>\n"
                              "<2|message|last>\n"
                              "<3|message|after-id>\n");
    for (size_t i = 1; i < sizeof(tricky) - 1; i++) {
        struct events e;
        size_t two[] = {i, 0};
        size_t ones[sizeof(tricky)];

        events_init(&e);
        assert_int_equal(parse_chunks(&e, tricky, sizeof(tricky) - 1, two),
                         FERR_OK);
        assert_string_equal(buf_cstr(&e.all), want);
        buf_release(&e.all);
        for (size_t k = 0; k < sizeof(tricky); k++)
            ones[k] = k + 1 < sizeof(tricky) ? i : 0;
        events_init(&e);
        assert_int_equal(parse_chunks(&e, tricky, sizeof(tricky) - 1, ones),
                         FERR_OK);
        assert_string_equal(buf_cstr(&e.all), want);
        buf_release(&e.all);
    }
    free(want);
}

static void test_client_sse_line_ends(void **state)
{
    const char crlf[] = "data: a\r\n\r\ndata: b\r\n\r\n";
    const char cr[] = "data: a\r\rdata: b\r\r";
    const char lf[] = "data: a\n\ndata: b\n\n";
    const char want[] = "<|message|a>\n<|message|b>\n";
    struct events e;
    size_t at_cr[] = {8, 0}; /* "data: a\r" | "\n\r\n…" */
    char *got;

    (void)state;
    got = parse_all(crlf, sizeof(crlf) - 1);
    assert_string_equal(got, want);
    free(got);
    got = parse_all(cr, sizeof(cr) - 1);
    assert_string_equal(got, want);
    free(got);
    got = parse_all(lf, sizeof(lf) - 1);
    assert_string_equal(got, want);
    free(got);
    /* CR ending one chunk, LF starting the next: one line end, so the
     * blank line after it is what dispatches, not the LF */
    events_init(&e);
    assert_int_equal(parse_chunks(&e, "data: a\r\ndata: b\r\n\r\n", 20, at_cr),
                     FERR_OK);
    assert_string_equal(buf_cstr(&e.all), "<|message|a\nb>\n");
    buf_release(&e.all);
    /* "\n\r" is two line ends: a blank line */
    got = parse_all("data: a\n\rdata: b\n\n", 18);
    assert_string_equal(got, "<|message|a>\n<|message|b>\n");
    free(got);
}

static void test_client_sse_comments_ignored(void **state)
{
    const char s[] = ":keepalive\n: another\ndata: x\n:mid\ndata: y\n\n:\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    assert_string_equal(got, "<|message|x\ny>\n");
    free(got);
}

static void test_client_sse_multiline_data(void **state)
{
    const char s[] = "data: one\ndata\ndata:\ndata: four\n\n"
                     "data:\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    /* "data" alone and "data:" add empty lines; one data line that is
     * empty still dispatches, with empty data */
    assert_string_equal(got, "<|message|one\n\n\nfour>\n<|message|>\n");
    free(got);
}

static void test_client_sse_id_handling(void **state)
{
    const char s[] = "id: 5\ndata: a\n\n"
                     "data: b\n\n" /* id persists */
                     "id: 6\n\n"   /* set without an event */
                     "data: c\n\n"
                     "id: 7\0x\ndata: d\n\n" /* NUL: ignored */
                     "id\ndata: e\n\n"       /* empty: reset */
                     "id: 8\ndata: f\n";     /* never dispatched */
    struct events e;
    struct client_sse *p;
    struct ferr err;

    (void)state;
    events_init(&e);
    p = client_sse_new(collect, &e);
    ferr_clear(&err);
    assert_int_equal(client_sse_feed(p, s, sizeof(s) - 1, &err), FERR_OK);
    assert_string_equal(buf_cstr(&e.all), "<5|message|a>\n<5|message|b>\n"
                                          "<6|message|c>\n<6|message|d>\n"
                                          "<|message|e>\n");
    /* the stream's last id changes on dispatch only */
    assert_string_equal(client_sse_last_id(p), "");
    assert_int_equal(client_sse_feed(p, "id: 9\n\n", 7, &err), FERR_OK);
    assert_string_equal(client_sse_last_id(p), "9");
    client_sse_free(p);
    buf_release(&e.all);
}

/* found by fuzz_sse: an event type starting with NUL arrived as "" */
static void test_client_sse_event_with_nul_ignored(void **state)
{
    const char s[] = "event: job\ndata: 1\n\n"
                     "event: \0end\ndata: 2\n\n"
                     "event: line\nevent: x\0y\ndata: 3\n\n"
                     "data: a\0b\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    assert_string_equal(got, "<|job|1>\n<|message|2>\n<|line|3>\n"
                             "<|message|a>\n");
    free(got);
}

static void test_client_sse_field_forms(void **state)
{
    const char s[] = "event:plain\ndata:no-space\n\n"
                     "event:  two\ndata:  two spaces\n\n"
                     "data: colon: inside\nretry: 10\nEVENT: upper\n"
                     "data : spaced-field\nunknown\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    assert_string_equal(got, "<|plain|no-space>\n"
                             "<| two| two spaces>\n"
                             "<|message|colon: inside>\n");
    free(got);
}

static void test_client_sse_type_resets(void **state)
{
    const char s[] = "event: job\ndata: 1\n\ndata: 2\n\n"
                     "event: gone\n\ndata: 3\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    assert_string_equal(got, "<|job|1>\n<|message|2>\n<|message|3>\n");
    free(got);
}

static void test_client_sse_reset_drops_partial(void **state)
{
    struct events e;
    struct client_sse *p;
    struct ferr err;
    const char a[] = "id: 4\ndata: x\n\nid: 5\ndata: half\ndata: li";

    (void)state;
    events_init(&e);
    p = client_sse_new(collect, &e);
    ferr_clear(&err);
    assert_int_equal(client_sse_feed(p, a, sizeof(a) - 1, &err), FERR_OK);
    client_sse_reset(p);
    assert_string_equal(client_sse_last_id(p), "4");
    assert_int_equal(client_sse_feed(p, "ne\n\ndata: y\n\n", 13, &err),
                     FERR_OK);
    /* "ne" starts a new line of an unknown field; y resumes from id 4 */
    assert_string_equal(buf_cstr(&e.all), "<4|message|x>\n<4|message|y>\n");
    client_sse_free(p);
    buf_release(&e.all);
}

static void test_client_sse_line_limit(void **state)
{
    size_t max = (size_t)LIM_LOG_LINE * 2;
    size_t n = strlen("data: ");
    char *big = xmalloc(max + 16);
    struct events e;
    struct client_sse *p;
    struct ferr err;
    size_t pieces[] = {1000, 50000, 70000, 0};

    (void)state;
    memcpy(big, "data: ", n);
    memset(big + n, 'x', max - n);
    memcpy(big + max, "\n\n", 2);
    /* exactly the limit: fine, at once and in pieces */
    events_init(&e);
    assert_int_equal(parse_chunks(&e, big, max + 2, NULL), FERR_OK);
    assert_int_equal(e.n, 1);
    buf_release(&e.all);
    events_init(&e);
    assert_int_equal(parse_chunks(&e, big, max + 2, pieces), FERR_OK);
    assert_int_equal(e.n, 1);
    buf_release(&e.all);
    /* one byte over: FERR_LIMIT, at once, in pieces, without a line end */
    memset(big + n, 'x', max + 1 - n);
    memcpy(big + max + 1, "\n\n", 2);
    events_init(&e);
    assert_int_equal(parse_chunks(&e, big, max + 3, NULL), FERR_LIMIT);
    assert_int_equal(parse_chunks(&e, big, max + 3, pieces), FERR_LIMIT);
    assert_int_equal(parse_chunks(&e, big, max + 1, NULL), FERR_LIMIT);
    assert_int_equal(e.n, 0);
    /* the parser stays broken until reset */
    p = client_sse_new(collect, &e);
    ferr_clear(&err);
    assert_int_equal(client_sse_feed(p, big, max + 3, &err), FERR_LIMIT);
    assert_non_null(strstr(err.msg, "over 131072 bytes"));
    ferr_clear(&err);
    assert_int_equal(client_sse_feed(p, "data: a\n\n", 9, &err), FERR_LIMIT);
    client_sse_reset(p);
    assert_int_equal(client_sse_feed(p, "data: a\n\n", 9, &err), FERR_OK);
    assert_int_equal(e.n, 1);
    client_sse_free(p);
    buf_release(&e.all);
    free(big);
}

static void test_client_sse_data_limit(void **state)
{
    size_t line = 100000;
    char *l = xmalloc(line + 8);
    struct events e;
    struct client_sse *p;
    struct ferr err;
    enum ferr_code rc = FERR_OK;
    size_t fed = 0;

    (void)state;
    memcpy(l, "data: ", 6);
    memset(l + 6, 'y', line - 7);
    l[line - 1] = '\n';
    events_init(&e);
    p = client_sse_new(collect, &e);
    ferr_clear(&err);
    while (!rc && fed <= (size_t)LIM_SSE_BACKLOG + line) {
        rc = client_sse_feed(p, l, line, &err);
        fed += line;
    }
    assert_int_equal(rc, FERR_LIMIT);
    assert_non_null(strstr(err.msg, "data is over"));
    assert_int_equal(e.n, 0);
    client_sse_free(p);
    buf_release(&e.all);
    free(l);
}

static void test_client_sse_stop(void **state)
{
    const char s[] = "data: 1\n\ndata: 2\n\ndata: 3\n\n";
    struct events e;
    struct client_sse *p;
    struct ferr err;

    (void)state;
    events_init(&e);
    e.stop_at = 2;
    p = client_sse_new(collect, &e);
    ferr_clear(&err);
    assert_int_equal(client_sse_feed(p, s, sizeof(s) - 1, &err), FERR_OK);
    assert_int_equal(client_sse_stopped(p), 9);
    assert_int_equal(client_sse_feed(p, s, sizeof(s) - 1, &err), FERR_OK);
    assert_string_equal(buf_cstr(&e.all), "<|message|1>\n<|message|2>\n");
    client_sse_free(p);
    buf_release(&e.all);
}

static void test_client_sse_bom_only_at_start(void **state)
{
    const char s[] = "\xef\xbb\xbf"
                     "data: a\n\n\xef\xbb\xbf"
                     "data: b\n\n";
    char *got = parse_all(s, sizeof(s) - 1);

    (void)state;
    /* the second BOM is part of a field name: an unknown field */
    assert_string_equal(got, "<|message|a>\n");
    free(got);
}

/* ---- the client ---- */

static void test_client_load_missing_library(void **state)
{
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(client_load_curl("libcurl-ferry-missing.so.9", &err),
                     FERR_UNSUPPORTED);
    assert_string_equal(err.msg,
                        "libcurl is not installed (apt-get install libcurl4)");
    /* nothing was kept: the real one still loads */
    ferr_clear(&err);
    assert_int_equal(client_load_curl(NULL, &err), FERR_OK);
}

static void test_client_new_bad_url(void **state)
{
    const char *bad[] = {"localhost:8080",  "ftp://host", "http://",
                         "http:///path",    "http://:80", "http://a b",
                         "https://h/x?y=1", "unix:",      "http://h/\n"};
    struct client *c = (struct client *)1;
    struct ferr err;

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(client_new(bad[i], NULL, &c, &err), FERR_USAGE);
        assert_null(c);
        assert_non_null(strstr(err.msg, "bad server URL '"));
        assert_non_null(strstr(err.msg, "expected http://HOST[:PORT]"));
    }
}

static void test_client_new_no_server(void **state)
{
    struct client *c;
    struct ferr err;

    (void)state;
    unsetenv("FERRY_SERVER");
    ferr_clear(&err);
    assert_int_equal(client_new(NULL, NULL, &c, &err), FERR_USAGE);
    assert_string_equal(err.msg,
                        "no server: set FERRY_SERVER or pass --server");
}

static void test_client_new_from_env(void **state)
{
    struct client *c;
    struct ferr err;

    (void)state;
    setenv("FERRY_SERVER", "http://127.0.0.1:7000/", 1);
    setenv("FERRY_TOKEN", "abc", 1);
    ferr_clear(&err);
    assert_int_equal(client_new(NULL, NULL, &c, &err), FERR_OK);
    assert_string_equal(client_server(c), "http://127.0.0.1:7000/");
    assert_true(client_has_token(c));
    client_free(c);
    /* an explicit server wins; an empty token is none */
    assert_int_equal(client_new("unix:/tmp/x.sock", "", &c, &err), FERR_OK);
    assert_string_equal(client_server(c), "unix:/tmp/x.sock");
    assert_false(client_has_token(c));
    client_free(c);
    assert_int_equal(client_new("http://h", "a\r\nX-Evil: 1", &c, &err),
                     FERR_USAGE);
    assert_non_null(strstr(err.msg, "bad token"));
    unsetenv("FERRY_SERVER");
    unsetenv("FERRY_TOKEN");
}

static void test_client_escape(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 64);
    assert_int_equal(client_escape(&b, "a-Z_0.~ /?&=%\xc3\xa9"), FERR_OK);
    assert_string_equal(buf_cstr(&b), "a-Z_0.~%20%2F%3F%26%3D%25%C3%A9");
    buf_release(&b);
    buf_init(&b, 4);
    assert_int_equal(buf_adds(&b, "ab"), FERR_OK);
    assert_int_equal(client_escape(&b, "c/"), FERR_LIMIT);
    assert_string_equal(buf_cstr(&b), "ab");
    buf_release(&b);
}

/* A port on 127.0.0.1 that nothing listens on (bound, then closed). */
static int closed_port(void)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(fd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &al), 0);
    close(fd);
    return ntohs(a.sin_port);
}

static void test_client_request_refused(void **state)
{
    char url[64];
    char want[128];
    struct client *c;
    struct ferr err;
    struct buf out;
    long status = 99;
    int port = closed_port();

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
    ferr_clear(&err);
    assert_int_equal(client_new(url, NULL, &c, &err), FERR_OK);
    buf_init(&out, 1024);
    assert_int_equal(client_request(c, "GET", "/healthz", NULL, 0, NULL,
                                    &status, &out, &err),
                     FERR_IO);
    assert_int_equal(status, 0);
    snprintf(want, sizeof(want), "cannot reach %s: Connection refused", url);
    assert_string_equal(err.msg, want);
    buf_release(&out);
    client_free(c);
}

/* ---- a scripted server: one reply per connection, requests logged ---- */

struct fake {
    pid_t pid;
    int port;
    char log[64]; /* the requests, as received */
};

static void fake_serve(int lfd, const char *const *replies, const char *log)
{
    FILE *f = fopen(log, "w");

    /* a failed test never takes its connections: do not outlive it */
    alarm(20);
    for (size_t i = 0; f && replies[i]; i++) {
        char req[16384];
        size_t n = 0;
        const char *end = NULL;
        const char *cl;
        size_t want = 0;
        int fd = accept(lfd, NULL, NULL);

        if (fd < 0)
            _exit(3);
        while (n < sizeof(req) - 1) {
            ssize_t r = read(fd, req + n, sizeof(req) - 1 - n);

            if (r <= 0)
                break;
            n += (size_t)r;
            req[n] = '\0';
            end = strstr(req, "\r\n\r\n");
            if (!end)
                continue;
            cl = strcasestr(req, "\r\nContent-Length: ");
            want = (size_t)(end + 4 - req);
            if (cl && cl < end)
                want += strtoul(cl + 18, NULL, 10);
            if (n >= want)
                break;
        }
        fwrite(req, 1, n, f);
        fputs("\n=====\n", f);
        fflush(f);
        if (write(fd, replies[i], strlen(replies[i])) < 0)
            _exit(4);
        shutdown(fd, SHUT_WR);
        close(fd);
    }
    if (f)
        fclose(f);
    _exit(0);
}

static void fake_start(struct fake *fk, const char *const *replies)
{
    struct sockaddr_in a;
    socklen_t al = sizeof(a);
    int lfd = socket(AF_INET, SOCK_STREAM, 0);

    assert_true(lfd >= 0);
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(bind(lfd, (struct sockaddr *)&a, sizeof(a)), 0);
    assert_int_equal(listen(lfd, 8), 0);
    assert_int_equal(getsockname(lfd, (struct sockaddr *)&a, &al), 0);
    fk->port = ntohs(a.sin_port);
    snprintf(fk->log, sizeof(fk->log), "/tmp/client_test.%d.log",
             (int)getpid());
    fflush(NULL);
    fk->pid = fork();
    assert_true(fk->pid >= 0);
    if (fk->pid == 0)
        fake_serve(lfd, replies, fk->log);
    close(lfd);
}

/* Wait for the fake server; the requests it saw (caller frees). */
static char *fake_finish(struct fake *fk)
{
    int st = 0;
    FILE *f;
    char *text = xcalloc(1, 65536);

    assert_int_equal(waitpid(fk->pid, &st, 0), fk->pid);
    assert_true(WIFEXITED(st));
    assert_int_equal(WEXITSTATUS(st), 0);
    f = fopen(fk->log, "r");
    assert_non_null(f);
    assert_true(fread(text, 1, 65535, f) > 0);
    fclose(f);
    unlink(fk->log);
    return text;
}

static struct client *fake_client(const struct fake *fk, const char *token)
{
    char url[64];
    struct client *c;
    struct ferr err;

    snprintf(url, sizeof(url), "http://127.0.0.1:%d", fk->port);
    ferr_clear(&err);
    assert_int_equal(client_new(url, token, &c, &err), FERR_OK);
    return c;
}

#define JSON_REPLY(status, body)                                               \
    "HTTP/1.1 " status "\r\nContent-Type: application/json\r\n"                \
    "Connection: close\r\n\r\n" body

static void test_client_json_roundtrip(void **state)
{
    const char *const replies[] = {
        JSON_REPLY("201 Created", "{\"id\": 3, \"token\": \"t\"}"),
        "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n",
        JSON_REPLY("202 Accepted", "{\"id\": 3}"), NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    json_t *body = json_pack("{ss}", "role", "viewer");
    char *third;
    json_t *out = NULL;
    long status = 0;
    char *seen;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, "sekrit");
    ferr_clear(&err);
    assert_int_equal(
        client_json(c, "POST", "/api/v1/tokens", body, &status, &out, &err),
        FERR_OK);
    assert_int_equal(status, 201);
    assert_int_equal(json_integer_value(json_object_get(out, "id")), 3);
    json_decref(out);
    assert_int_equal(
        client_json(c, "DELETE", "/api/v1/tokens/3", NULL, &status, &out, &err),
        FERR_OK);
    assert_int_equal(status, 204);
    assert_null(out);
    assert_int_equal(client_json(c, "POST", "/api/v1/runs/3/cancel", NULL,
                                 &status, &out, &err),
                     FERR_OK);
    assert_int_equal(status, 202);
    json_decref(out);
    client_free(c);
    seen = fake_finish(&fk);
    /* a POST without a body says so, and claims no form content */
    third = strstr(seen, "POST /api/v1/runs/3/cancel HTTP/1.1\r\n");
    assert_non_null(third);
    assert_non_null(strstr(third, "Content-Length: 0\r\n"));
    assert_null(strstr(third, "Content-Type"));
    assert_non_null(strstr(seen, "POST /api/v1/tokens HTTP/1.1\r\n"));
    assert_non_null(strstr(seen, "Authorization: Bearer sekrit\r\n"));
    assert_non_null(strstr(seen, "Content-Type: application/json\r\n"));
    assert_non_null(strstr(seen, "\r\n\r\n{\"role\":\"viewer\"}"));
    assert_non_null(strstr(seen, "DELETE /api/v1/tokens/3 HTTP/1.1\r\n"));
    free(seen);
    json_decref(body);
}

static void test_client_json_errors(void **state)
{
    const char *const replies[] = {
        JSON_REPLY("404 Not Found", "{\"error\": \"no run 12\"}"),
        JSON_REPLY("401 Unauthorized", "{\"error\": \"missing token\"}"),
        JSON_REPLY("409 Conflict", "{\"error\": \"run 3 is \\u001b[2J\"}"),
        "HTTP/1.1 502 Bad Gateway\r\nConnection: close\r\n\r\n<html>\n",
        JSON_REPLY("200 OK", "{not json"),
        NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    json_t *out = NULL;
    long status = 0;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    ferr_clear(&err);
    assert_int_equal(
        client_json(c, "GET", "/api/v1/runs/12", NULL, &status, &out, &err),
        FERR_NOTFOUND);
    assert_string_equal(err.msg, "no run 12 (HTTP 404)");
    assert_int_equal(status, 404);
    assert_null(out);
    ferr_clear(&err);
    assert_int_equal(
        client_json(c, "GET", "/api/v1/runs", NULL, &status, &out, &err),
        FERR_USAGE);
    assert_string_equal(err.msg, "not allowed: missing token (HTTP 401); "
                                 "set FERRY_TOKEN or pass --token");
    ferr_clear(&err);
    assert_int_equal(client_json(c, "POST", "/api/v1/runs/3/cancel", NULL,
                                 &status, &out, &err),
                     FERR_INVALID);
    /* control characters from the server never reach the terminal */
    assert_string_equal(err.msg, "run 3 is ?[2J (HTTP 409)");
    ferr_clear(&err);
    assert_int_equal(client_json(c, "GET", "/x", NULL, &status, &out, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "<html> (HTTP 502)");
    ferr_clear(&err);
    assert_int_equal(client_json(c, "GET", "/y", NULL, &status, &out, &err),
                     FERR_PARSE);
    assert_non_null(strstr(err.msg, "the answer to 'GET /y' is not JSON"));
    assert_null(out);
    client_free(c);
    free(fake_finish(&fk));
}

static void test_client_request_limit(void **state)
{
    const char *const replies[] = {
        "HTTP/1.1 200 OK\r\nContent-Length: 20\r\nConnection: close\r\n\r\n"
        "0123456789abcdefghij",
        NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    struct buf out;
    long status = 0;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    buf_init(&out, 10);
    ferr_clear(&err);
    assert_int_equal(
        client_request(c, "GET", "/big", NULL, 0, NULL, &status, &out, &err),
        FERR_LIMIT);
    assert_non_null(strstr(err.msg, "is over 10 bytes"));
    assert_true(out.len <= 10);
    buf_release(&out);
    client_free(c);
    free(fake_finish(&fk));
}

static void test_client_download(void **state)
{
    const char *const replies[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
        "Connection: close\r\n\r\n[build] one\n[build] two\n",
        JSON_REPLY("404 Not Found", "{\"error\": \"no job 7\"}"), NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    long status = 0;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    ferr_clear(&err);
    assert_int_equal(
        client_download(c, "/api/v1/runs/1/logs", mem, &status, &err), FERR_OK);
    assert_int_equal(status, 200);
    assert_int_equal(
        client_download(c, "/api/v1/jobs/7/logs", mem, &status, &err),
        FERR_NOTFOUND);
    assert_string_equal(err.msg, "no job 7 (HTTP 404)");
    fclose(mem);
    /* the error's body never reaches the output */
    assert_string_equal(text, "[build] one\n[build] two\n");
    free(text);
    client_free(c);
    free(fake_finish(&fk));
}

#define SSE_HEAD                                                               \
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"                   \
    "Connection: close\r\n\r\n"

static void test_client_follow_reconnects(void **state)
{
    const char *const replies[] = {
        SSE_HEAD "id: 1\nevent: line\ndata: a\n\nid: 2\nevent: line\n"
                 "data: b\n\nid: 3\ndata: cut-of", /* drops mid-event */
        SSE_HEAD "id: 3\nevent: line\ndata: c\n\n"
                 "event: end\ndata: {\"conclusion\":\"success\"}\n\n",
        NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    struct events e;
    char *seen;
    char *second;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    events_init(&e);
    ferr_clear(&err);
    assert_int_equal(
        client_follow(c, "/api/v1/runs/4/logs", NULL, collect, &e, &err),
        FERR_OK);
    assert_string_equal(buf_cstr(&e.all),
                        "<1|line|a>\n<2|line|b>\n<3|line|c>\n"
                        "<3|end|{\"conclusion\":\"success\"}>\n");
    client_free(c);
    seen = fake_finish(&fk);
    assert_non_null(strstr(seen, "Accept: text/event-stream\r\n"));
    second = strstr(seen, "=====");
    assert_non_null(second);
    assert_null(memmem(seen, (size_t)(second - seen), "Last-Event-ID", 13));
    assert_non_null(strstr(second, "Last-Event-ID: 2\r\n"));
    free(seen);
    buf_release(&e.all);
}

/* found against the real server: a transfer error (not a clean end) on the
 * first connection was reported instead of retried */
static void test_client_follow_retries_broken_transfer(void **state)
{
    const char *const replies[] = {
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
        "Content-Length: 500\r\n\r\nid: 1\nevent: line\ndata: a\n\n",
        SSE_HEAD "id: 2\nevent: end\ndata: {}\n\n", NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    struct events e;
    char *seen;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    events_init(&e);
    ferr_clear(&err);
    assert_int_equal(client_follow(c, "/s", NULL, collect, &e, &err), FERR_OK);
    assert_string_equal(buf_cstr(&e.all), "<1|line|a>\n<2|end|{}>\n");
    client_free(c);
    seen = fake_finish(&fk);
    assert_non_null(strstr(seen, "Last-Event-ID: 1\r\n"));
    free(seen);
    buf_release(&e.all);
}

static void test_client_follow_resumes_from_last_id(void **state)
{
    const char *const replies[] = {SSE_HEAD "id: 8\nevent: end\ndata: {}\n\n",
                                   NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    struct events e;
    char *seen;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    events_init(&e);
    ferr_clear(&err);
    assert_int_equal(client_follow(c, "/s", "7", collect, &e, &err), FERR_OK);
    assert_string_equal(buf_cstr(&e.all), "<8|end|{}>\n");
    client_free(c);
    seen = fake_finish(&fk);
    assert_non_null(strstr(seen, "Last-Event-ID: 7\r\n"));
    free(seen);
    buf_release(&e.all);
}

static void test_client_follow_errors(void **state)
{
    const char *const replies[] = {
        JSON_REPLY("404 Not Found", "{\"error\": \"no run 9\"}"),
        "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
        "Connection: close\r\n\r\n[a] b\n",
        NULL};
    struct fake fk;
    struct client *c;
    struct ferr err;
    struct events e;

    (void)state;
    fake_start(&fk, replies);
    c = fake_client(&fk, NULL);
    events_init(&e);
    ferr_clear(&err);
    assert_int_equal(
        client_follow(c, "/api/v1/runs/9/logs", NULL, collect, &e, &err),
        FERR_NOTFOUND);
    assert_string_equal(err.msg, "no run 9 (HTTP 404)");
    ferr_clear(&err);
    assert_int_equal(
        client_follow(c, "/api/v1/runs/9/logs", NULL, collect, &e, &err),
        FERR_INVALID);
    assert_string_equal(err.msg, "'GET /api/v1/runs/9/logs' answered "
                                 "'text/plain', not an event stream");
    assert_int_equal(e.n, 0);
    client_free(c);
    free(fake_finish(&fk));
    buf_release(&e.all);
}

static void test_client_follow_refused_at_once(void **state)
{
    char url[64];
    struct client *c;
    struct ferr err;
    struct events e;

    (void)state;
    snprintf(url, sizeof(url), "http://127.0.0.1:%d", closed_port());
    ferr_clear(&err);
    assert_int_equal(client_new(url, NULL, &c, &err), FERR_OK);
    events_init(&e);
    assert_int_equal(client_follow(c, "/s", NULL, collect, &e, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "cannot reach"));
    client_free(c);
    buf_release(&e.all);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_client_sse_basic_event),
        cmocka_unit_test(test_client_sse_every_split),
        cmocka_unit_test(test_client_sse_line_ends),
        cmocka_unit_test(test_client_sse_comments_ignored),
        cmocka_unit_test(test_client_sse_multiline_data),
        cmocka_unit_test(test_client_sse_id_handling),
        cmocka_unit_test(test_client_sse_event_with_nul_ignored),
        cmocka_unit_test(test_client_sse_field_forms),
        cmocka_unit_test(test_client_sse_type_resets),
        cmocka_unit_test(test_client_sse_reset_drops_partial),
        cmocka_unit_test(test_client_sse_line_limit),
        cmocka_unit_test(test_client_sse_data_limit),
        cmocka_unit_test(test_client_sse_stop),
        cmocka_unit_test(test_client_sse_bom_only_at_start),
        cmocka_unit_test(test_client_load_missing_library),
        cmocka_unit_test(test_client_new_bad_url),
        cmocka_unit_test(test_client_new_no_server),
        cmocka_unit_test(test_client_new_from_env),
        cmocka_unit_test(test_client_escape),
        cmocka_unit_test(test_client_request_refused),
        cmocka_unit_test(test_client_json_roundtrip),
        cmocka_unit_test(test_client_json_errors),
        cmocka_unit_test(test_client_request_limit),
        cmocka_unit_test(test_client_download),
        cmocka_unit_test(test_client_follow_reconnects),
        cmocka_unit_test(test_client_follow_retries_broken_transfer),
        cmocka_unit_test(test_client_follow_resumes_from_last_id),
        cmocka_unit_test(test_client_follow_errors),
        cmocka_unit_test(test_client_follow_refused_at_once),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
