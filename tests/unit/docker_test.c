/* docker_test: the Docker Engine API client.  The pure parts (the
 * multiplexed-stream demux split at every byte, the JSON-lines stream,
 * .dockerignore, the auth header, owner labels, refs, open errors) always
 * run; the rest runs against a real Podman service this test starts on
 * its own socket (with a docker-registry on a free port for push/pull),
 * and is skipped only when podman is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <archive.h>
#include <archive_entry.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "docker/docker.h"
#include "docker/internal.h"
#include "testsrv.h"
#include "util/crypto.h"
#include "util/httpc.h"

#define BASE_IMAGE "localhost/ferry-base:latest"

/* ---------- helpers ---------- */

struct two {
    struct buf out, err; /* stdout and stderr as they arrived */
    int other;           /* pieces of any other stream */
    long long first_ms;  /* when the first stdout piece came */
    long long last_ms;   /* when the last stdout piece came */
};

static void two_init(struct two *t)
{
    buf_init(&t->out, 1024 * 1024);
    buf_init(&t->err, 1024 * 1024);
    t->other = 0;
    t->first_ms = t->last_ms = 0;
}

static void two_release(struct two *t)
{
    buf_release(&t->out);
    buf_release(&t->err);
}

static void two_cb(void *ud, int stream, const char *p, size_t n)
{
    struct two *t = ud;

    if (stream == 1) {
        assert_int_equal(buf_add(&t->out, p, n), FERR_OK);
        if (!t->first_ms)
            t->first_ms = testsrv_now_ms();
        t->last_ms = testsrv_now_ms();
    } else if (stream == 2) {
        assert_int_equal(buf_add(&t->err, p, n), FERR_OK);
    } else {
        t->other++;
    }
}

static void frame(struct buf *b, int stream, const char *p)
{
    size_t n = strlen(p);
    unsigned char h[8] = {(unsigned char)stream,
                          0,
                          0,
                          0,
                          (unsigned char)(n >> 24),
                          (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8),
                          (unsigned char)n};

    assert_int_equal(buf_add(b, h, 8), FERR_OK);
    assert_int_equal(buf_add(b, p, n), FERR_OK);
}

/* ---------- the demux ---------- */

static void test_docker_demux_split_at_every_byte(void **state)
{
    struct buf s;

    (void)state;
    buf_init(&s, 4096);
    frame(&s, 1, "hello ");
    frame(&s, 2, "oops\n");
    frame(&s, 1, "");
    frame(&s, 0, "in-as-out ");
    frame(&s, 1, "world\n");
    frame(&s, 2, "second error\n");
    for (size_t cut = 0; cut <= s.len; cut++) {
        struct docker_demux m;
        struct two t;

        two_init(&t);
        docker_demux_init(&m);
        assert_int_equal(docker_demux_feed(&m, s.p, cut, two_cb, &t), FERR_OK);
        assert_int_equal(
            docker_demux_feed(&m, s.p + cut, s.len - cut, two_cb, &t), FERR_OK);
        assert_false(docker_demux_partial(&m));
        assert_string_equal(buf_cstr(&t.out), "hello in-as-out world\n");
        assert_string_equal(buf_cstr(&t.err), "oops\nsecond error\n");
        assert_int_equal(t.other, 0);
        two_release(&t);
    }
    buf_release(&s);
}

static void test_docker_demux_byte_by_byte(void **state)
{
    struct docker_demux m;
    struct buf s;
    struct two t;

    (void)state;
    buf_init(&s, 4096);
    frame(&s, 2, "e1");
    frame(&s, 1, "o1");
    frame(&s, 2, "e2");
    two_init(&t);
    docker_demux_init(&m);
    for (size_t i = 0; i < s.len; i++) {
        assert_int_equal(docker_demux_feed(&m, s.p + i, 1, two_cb, &t),
                         FERR_OK);
        /* inside a frame, not at a boundary (every frame is 10 bytes) */
        assert_int_equal(docker_demux_partial(&m), (i + 1) % 10 != 0);
    }
    assert_string_equal(buf_cstr(&t.out), "o1");
    assert_string_equal(buf_cstr(&t.err), "e1e2");
    two_release(&t);
    buf_release(&s);
}

static void test_docker_demux_rejects_bad_stream_byte(void **state)
{
    static const unsigned char bad[] = {3, 0, 0, 0, 0, 0, 0, 1, 'x'};
    static const unsigned char good[] = {1, 0, 0, 0, 0, 0, 0, 1, 'y'};
    struct docker_demux m;
    struct two t;

    (void)state;
    two_init(&t);
    docker_demux_init(&m);
    assert_int_equal(docker_demux_feed(&m, bad, sizeof(bad), two_cb, &t),
                     FERR_PARSE);
    /* unusable until init, even for a good frame */
    assert_int_equal(docker_demux_feed(&m, good, sizeof(good), two_cb, &t),
                     FERR_PARSE);
    assert_false(docker_demux_partial(&m));
    assert_int_equal(t.out.len + t.err.len, 0);
    docker_demux_init(&m);
    assert_int_equal(docker_demux_feed(&m, good, sizeof(good), two_cb, &t),
                     FERR_OK);
    assert_string_equal(buf_cstr(&t.out), "y");
    two_release(&t);
}

static void test_docker_demux_rejects_nonzero_padding(void **state)
{
    static const unsigned char raw[] = "HTTP/1.1 200 OK\r\n";
    struct docker_demux m;
    struct two t;

    (void)state;
    for (int pad = 1; pad <= 3; pad++) {
        unsigned char h[9] = {1, 0, 0, 0, 0, 0, 0, 1, 'z'};

        h[pad] = 1;
        two_init(&t);
        docker_demux_init(&m);
        /* the header split before its last byte: nothing said yet */
        assert_int_equal(docker_demux_feed(&m, h, 7, two_cb, &t), FERR_OK);
        assert_int_equal(docker_demux_feed(&m, h + 7, 2, two_cb, &t),
                         FERR_PARSE);
        assert_int_equal(t.out.len, 0);
        two_release(&t);
    }
    /* a raw (Tty) stream is not multiplexed */
    two_init(&t);
    docker_demux_init(&m);
    assert_int_equal(docker_demux_feed(&m, raw, sizeof(raw) - 1, two_cb, &t),
                     FERR_PARSE);
    two_release(&t);
}

static void test_docker_demux_large_frame_streams(void **state)
{
    static const unsigned char h[8] = {1, 0, 0, 0, 0x7f, 0xff, 0xff, 0xff};
    char chunk[4096];
    struct docker_demux m;
    struct two t;

    (void)state;
    memset(chunk, 'a', sizeof(chunk));
    two_init(&t);
    docker_demux_init(&m);
    assert_int_equal(docker_demux_feed(&m, h, 8, two_cb, &t), FERR_OK);
    assert_int_equal(docker_demux_feed(&m, chunk, sizeof(chunk), two_cb, &t),
                     FERR_OK);
    /* the payload is passed on as it comes, nothing is buffered */
    assert_int_equal(t.out.len, sizeof(chunk));
    assert_true(docker_demux_partial(&m));
    assert_int_equal(m.left, 0x7fffffffu - sizeof(chunk));
    two_release(&t);
}

/* ---------- the JSON-lines stream ---------- */

struct objs {
    json_t *all; /* array of the objects seen */
    int fail_at; /* on_obj fails at this count (0: never) */
};

static enum ferr_code collect_obj(void *ud, json_t *obj, struct ferr *err)
{
    struct objs *o = ud;

    json_array_append(o->all, obj);
    if (o->fail_at && (int)json_array_size(o->all) == o->fail_at)
        return ferr_set(err, FERR_INVALID, NULL, "stop here");
    return FERR_OK;
}

static void test_docker_jsonl_split_and_glued(void **state)
{
    static const char text[] =
        "{\"status\":\"a\"}\r\n{\"stream\":\"b\\n\"}{\"aux\":{\"ID\":\"x\"}}\n"
        "\n  \n{\"status\":\"last\"}";
    size_t n = sizeof(text) - 1;

    (void)state;
    for (size_t cut = 0; cut <= n; cut++) {
        struct objs o = {json_array(), 0};
        struct docker__jsonl j;
        struct ferr err = {0};

        docker__jsonl_init(&j, collect_obj, &o);
        assert_int_equal(docker__jsonl_feed(&j, text, cut, &err), FERR_OK);
        assert_int_equal(docker__jsonl_feed(&j, text + cut, n - cut, &err),
                         FERR_OK);
        assert_int_equal(docker__jsonl_finish(&j, &err), FERR_OK);
        assert_int_equal(json_array_size(o.all), 4);
        assert_string_equal(json_string_value(json_object_get(
                                json_array_get(o.all, 3), "status")),
                            "last");
        docker__jsonl_release(&j);
        json_decref(o.all);
    }
}

static void test_docker_jsonl_errors(void **state)
{
    struct objs o = {json_array(), 0};
    struct docker__jsonl j;
    struct ferr err = {0};
    char *big;

    (void)state;
    docker__jsonl_init(&j, collect_obj, &o);
    assert_int_equal(docker__jsonl_feed(&j, "not json\n", 9, &err), FERR_PARSE);
    docker__jsonl_release(&j);
    ferr_clear(&err);
    docker__jsonl_init(&j, collect_obj, &o);
    assert_int_equal(docker__jsonl_feed(&j, "[1,2]\n", 6, &err), FERR_PARSE);
    docker__jsonl_release(&j);
    ferr_clear(&err);
    docker__jsonl_init(&j, collect_obj, &o);
    big = malloc(DOCKER__LINE_MAX + 2);
    memset(big, ' ', DOCKER__LINE_MAX + 1);
    assert_int_equal(docker__jsonl_feed(&j, big, DOCKER__LINE_MAX + 1, &err),
                     FERR_LIMIT);
    free(big);
    docker__jsonl_release(&j);
    /* the callback's error stops the stream */
    ferr_clear(&err);
    o.fail_at = json_array_size(o.all) + 2;
    docker__jsonl_init(&j, collect_obj, &o);
    assert_int_equal(docker__jsonl_feed(&j, "{}{}{}\n", 7, &err), FERR_INVALID);
    assert_string_equal(err.msg, "stop here");
    docker__jsonl_release(&j);
    json_decref(o.all);
}

static void lines_cb(void *ud, const char *line)
{
    struct buf *b = ud;

    assert_int_equal(buf_addf(b, "%s|", line), FERR_OK);
}

static void test_docker_progress_text(void **state)
{
    json_t *o;
    struct buf b;

    (void)state;
    buf_init(&b, 4096);
    o = json_loads("{\"status\":\"Downloading\",\"id\":\"abc\",\"progress\":"
                   "\"[=>  ] 1MB/2MB\"}",
                   0, NULL);
    docker__progress_text(o, lines_cb, &b);
    json_decref(o);
    o = json_loads("{\"stream\":\"STEP 1/2: FROM x\\nSTEP 2/2: RUN \\u001b[31m"
                   "red\\n\"}",
                   0, NULL);
    docker__progress_text(o, lines_cb, &b);
    json_decref(o);
    o = json_loads("{\"aux\":{\"ID\":\"sha256:1\"}}", 0, NULL);
    docker__progress_text(o, lines_cb, &b);
    docker__progress_text(o, NULL, NULL);
    json_decref(o);
    assert_string_equal(buf_cstr(&b), "abc: Downloading [=>  ] 1MB/2MB|"
                                      "STEP 1/2: FROM x|"
                                      "STEP 2/2: RUN ?[31mred|");
    o = json_loads("{\"errorDetail\":{\"message\":\"detail\"},\"error\":\"e\"}",
                   0, NULL);
    assert_string_equal(docker__stream_error(o), "detail");
    json_decref(o);
    o = json_loads("{\"error\":\"plain\"}", 0, NULL);
    assert_string_equal(docker__stream_error(o), "plain");
    json_decref(o);
    o = json_loads("{\"status\":\"fine\"}", 0, NULL);
    assert_null(docker__stream_error(o));
    json_decref(o);
    buf_release(&b);
}

/* ---------- .dockerignore ---------- */

static void test_docker_ignore_match_one(void **state)
{
    static const struct {
        const char *pat, *path;
        bool want;
    } cases[] = {
        {"*.txt", "a.txt", true},
        {"*.txt", "dir/a.txt", false},
        {"*/*.txt", "dir/a.txt", true},
        {"**/*.txt", "a.txt", true},
        {"**/*.txt", "a/b/c.txt", true},
        {"a/**/b", "a/b", true},
        {"a/**/b", "a/x/y/b", true},
        {"a/**", "a/x/y", true},
        {"**", "anything/at/all", true},
        {"temp?", "temp1", true},
        {"temp?", "temp/", false},
        {"temp?", "temp12", false},
        {"[a-c]x", "bx", true},
        {"[a-c]x", "dx", false},
        {"[^a-c]x", "dx", true},
        {"[^a-c]x", "ax", false},
        {"[!a]x", "!x", true}, /* '!' is a member, not a negation */
        {"\\*x", "*x", true},
        {"\\*x", "ax", false},
        {"a*b*c*d*e*f*g", "aXbXcXdXeXfXg", true},
        {"*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false},
        {"foo", "foobar", false},
        {"", "", true},
    };

    (void)state;
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        if (docker__ignore_match1(cases[i].pat, cases[i].path) != cases[i].want)
            fail_msg("pattern '%s' on '%s': want %d", cases[i].pat,
                     cases[i].path, cases[i].want);
    }
}

static void test_docker_ignore_file_semantics(void **state)
{
    static const char text[] = "# a comment\n"
                               "\n"
                               "  secret.txt  \n"
                               "/logs/\n"
                               "!logs/keep.log\n"
                               "./build//out\n"
                               "**/*.tmp\n"
                               "a/../b\n"
                               "node_modules\n"
                               "!node_modules/keep\n"
                               "node_modules/keep/drop\n";
    struct docker__ignore ig;
    struct ferr err = {0};

    (void)state;
    assert_int_equal(docker__ignore_parse(text, sizeof(text) - 1, &ig, &err),
                     FERR_OK);
    assert_int_equal(ig.n, 9);
    assert_true(ig.has_negation);
    assert_string_equal(ig.v[1].pat, "logs");
    assert_string_equal(ig.v[3].pat, "build/out");
    assert_string_equal(ig.v[5].pat, "b");
    assert_true(docker__ignore_excluded(&ig, "secret.txt"));
    assert_false(docker__ignore_excluded(&ig, "sub/secret.txt"));
    assert_true(docker__ignore_excluded(&ig, "logs"));
    assert_true(docker__ignore_excluded(&ig, "logs/a.log"));
    assert_false(docker__ignore_excluded(&ig, "logs/keep.log"));
    assert_true(docker__ignore_excluded(&ig, "build/out/x.o"));
    assert_false(docker__ignore_excluded(&ig, "build/in"));
    assert_true(docker__ignore_excluded(&ig, "x.tmp"));
    assert_true(docker__ignore_excluded(&ig, "deep/er/x.tmp"));
    assert_true(docker__ignore_excluded(&ig, "b/anything"));
    assert_false(docker__ignore_excluded(&ig, "a/b"));
    assert_true(docker__ignore_excluded(&ig, "node_modules/x/y.js"));
    assert_false(docker__ignore_excluded(&ig, "node_modules/keep/y.js"));
    /* the last matching line decides */
    assert_true(docker__ignore_excluded(&ig, "node_modules/keep/drop/z"));
    assert_false(docker__ignore_excluded(&ig, "Dockerfile"));
    docker__ignore_release(&ig);
    assert_int_equal(ig.n, 0);
}

static void test_docker_ignore_bad_patterns(void **state)
{
    struct docker__ignore ig;
    struct ferr err = {0};

    (void)state;
    assert_int_equal(docker__ignore_parse("ok\n[abc\n", 8, &ig, &err),
                     FERR_PARSE);
    assert_non_null(strstr(err.msg, "line 2"));
    assert_int_equal(ig.n, 0);
    ferr_clear(&err);
    assert_int_equal(docker__ignore_parse("!\n", 2, &ig, &err), FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(docker__ignore_parse("x\\", 2, &ig, &err), FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(docker__ignore_parse("[]x", 3, &ig, &err), FERR_PARSE);
    ferr_clear(&err);
    assert_int_equal(docker__ignore_parse("", 0, &ig, &err), FERR_OK);
    assert_int_equal(ig.n, 0);
    assert_false(docker__ignore_excluded(&ig, "anything"));
}

static void write_file(const char *dir, const char *rel, const char *text)
{
    char path[512];
    FILE *f;

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void make_dir(const char *dir, const char *rel)
{
    char path[512];

    snprintf(path, sizeof(path), "%s/%s", dir, rel);
    assert_int_equal(mkdir(path, 0755), 0);
}

/* A build context exercising .dockerignore. */
static void make_context(const char *dir)
{
    write_file(dir, "Dockerfile",
               "FROM " BASE_IMAGE "\n"
               "ARG GREETING=none\n"
               "COPY . /ctx/\n"
               "RUN echo \"$GREETING\" > /greeting.txt\n");
    write_file(dir, ".dockerignore",
               "# left out of the image\n"
               "secret.txt\n"
               "logs\n"
               "!logs/keep.log\n"
               "**/*.tmp\n"
               "/top-only\n");
    write_file(dir, "keep.txt", "keep\n");
    write_file(dir, "secret.txt", "do not send\n");
    write_file(dir, "top-only", "x\n");
    make_dir(dir, "logs");
    write_file(dir, "logs/a.log", "a\n");
    write_file(dir, "logs/keep.log", "keep\n");
    make_dir(dir, "sub");
    write_file(dir, "sub/x.tmp", "tmp\n");
    write_file(dir, "sub/y.txt", "y\n");
    write_file(dir, "sub/top-only", "stays: only the root one is left out\n");
}

/* The names in the tar at @fd, "|"-joined in order. */
static void tar_names(int fd, struct buf *out)
{
    struct archive *a = archive_read_new();
    struct archive_entry *e;
    int r;

    assert_true(lseek(fd, 0, SEEK_SET) == 0);
    archive_read_support_format_tar(a);
    assert_int_equal(archive_read_open_fd(a, fd, 10240), ARCHIVE_OK);
    while ((r = archive_read_next_header(a, &e)) == ARCHIVE_OK) {
        assert_int_equal(archive_entry_uid(e), 0);
        assert_int_equal(buf_addf(out, "%s|", archive_entry_pathname(e)),
                         FERR_OK);
    }
    if (r != ARCHIVE_EOF)
        fail_msg("reading the context tar: %s", archive_error_string(a));
    archive_read_free(a);
}

static void test_docker_context_tar_honours_dockerignore(void **state)
{
    char dir[64];
    struct buf names;
    struct ferr err = {0};
    uint64_t len = 0;
    int root, fd = -1;
    char link[600];

    (void)state;
    assert_true(testsrv_tmpdir(dir, sizeof(dir)));
    make_context(dir);
    snprintf(link, sizeof(link), "%s/link", dir);
    assert_int_equal(symlink("keep.txt", link), 0);
    root = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    assert_true(root >= 0);
    assert_int_equal(
        docker__context_tar(root, dir, "Dockerfile", &fd, &len, &err), FERR_OK);
    assert_true(fd >= 0);
    assert_true(len > 0 && len % 512 == 0);
    buf_init(&names, 65536);
    tar_names(fd, &names);
    assert_string_equal(buf_cstr(&names),
                        ".dockerignore|Dockerfile|keep.txt|link|"
                        "logs/keep.log|sub/|sub/top-only|sub/y.txt|");
    close(fd);
    buf_reset(&names);
    /* the Dockerfile and .dockerignore go even when ignored */
    write_file(dir, ".dockerignore", "*\n");
    assert_int_equal(
        docker__context_tar(root, dir, "Dockerfile", &fd, &len, &err), FERR_OK);
    tar_names(fd, &names);
    assert_string_equal(buf_cstr(&names), ".dockerignore|Dockerfile|");
    close(fd);
    /* a bad .dockerignore fails the build before anything is sent */
    write_file(dir, ".dockerignore", "[oops\n");
    assert_int_equal(
        docker__context_tar(root, dir, "Dockerfile", &fd, &len, &err),
        FERR_PARSE);
    assert_int_equal(fd, -1);
    close(root);
    buf_release(&names);
    testsrv_rmtree(dir);
}

/* ---------- auth, owners, refs ---------- */

static size_t b64url_decode(const char *s, unsigned char *out)
{
    static const char tab[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    uint32_t v = 0;
    int bits = 0;
    size_t o = 0;

    for (; *s && *s != '='; s++) {
        const char *p = strchr(tab, *s);

        assert_non_null(p);
        v = v << 6 | (uint32_t)(p - tab);
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            out[o++] = (unsigned char)(v >> bits);
        }
    }
    out[o] = '\0';
    return o;
}

static void test_docker_auth_header_encoding(void **state)
{
    unsigned char dec[512];
    char *h;

    (void)state;
    h = docker_auth_header(NULL, NULL, NULL);
    assert_string_equal(h, "e30="); /* "{}" */
    free(h);
    /* bytes that base64 proper spells '+' and '/' */
    h = docker_auth_header("u>?", "p\xc3\xbf~>", "127.0.0.1:5000");
    assert_null(strchr(h, '+'));
    assert_null(strchr(h, '/'));
    assert_int_equal(strlen(h) % 4, 0);
    b64url_decode(h, dec);
    assert_string_equal((char *)dec,
                        "{\"password\":\"p\xc3\xbf~>\",\"serveraddress\":"
                        "\"127.0.0.1:5000\",\"username\":\"u>?\"}");
    free(h);
    h = docker_auth_header("bob", "s3cret", NULL);
    b64url_decode(h, dec);
    assert_string_equal((char *)dec,
                        "{\"password\":\"s3cret\",\"username\":\"bob\"}");
    free(h);
}

static void test_docker_registry_config_maps_registry(void **state)
{
    unsigned char dec[512];
    char *h;

    (void)state;
    h = docker_registry_config("bob", "p/+?>", "127.0.0.1:5000");
    assert_null(strchr(h, '+'));
    assert_null(strchr(h, '/'));
    b64url_decode(h, dec);
    assert_string_equal((char *)dec, "{\"127.0.0.1:5000\":{\"password\":"
                                     "\"p/+?>\",\"username\":\"bob\"}}");
    free(h);
    /* Docker Hub: both spellings of its key */
    h = docker_registry_config("bob", "pw", NULL);
    b64url_decode(h, dec);
    assert_string_equal((char *)dec,
                        "{\"docker.io\":{\"password\":\"pw\",\"username\":"
                        "\"bob\"},\"https://index.docker.io/v1/\":{"
                        "\"password\":\"pw\",\"username\":\"bob\"}}");
    free(h);
    h = docker_registry_config("bob", "pw", "docker.io");
    b64url_decode(h, dec);
    assert_non_null(strstr((char *)dec, "\"https://index.docker.io/v1/\""));
    free(h);
}

static void test_docker_auth_refused_recognises_registries(void **state)
{
    (void)state;
    /* Podman, Docker and distribution's words */
    assert_true(docker_auth_refused(
        "initializing source docker://127.0.0.1:5000/p:v1: reading manifest "
        "v1 in 127.0.0.1:5000/p: unauthorized: authentication required"));
    assert_true(docker_auth_refused("denied: requested access to the "
                                    "resource is denied"));
    assert_true(docker_auth_refused(
        "Get \"https://r/v2/\": no basic auth credentials"));
    assert_true(docker_auth_refused("pull access denied for x"));
    assert_false(docker_auth_refused("manifest unknown: manifest unknown"));
    assert_false(docker_auth_refused("RUN false: exit status 1"));
    /* a build step's own failure is not the registry's */
    assert_false(docker_auth_refused(
        "building at STEP \"RUN ./x.sh\": /bin/sh: ./x.sh: Permission denied"));
    /* ... even when the command it quotes has the registries' words */
    assert_false(docker_auth_refused(
        "building at STEP \"RUN curl -f http://x || echo unauthorized\": "
        "while running runtime: exit status 1"));
    assert_false(docker_auth_refused(
        "The command '/bin/sh -c ./access denied.sh' returned a non-zero "
        "code: 1"));
    assert_false(docker_auth_refused(
        "process \"/bin/sh -c grep '403 Forbidden' log\" did not complete "
        "successfully: exit code: 1"));
    /* a FROM's pull in a build still is */
    assert_true(docker_auth_refused(
        "building at STEP \"FROM 127.0.0.1:5000/p:v1\": reading manifest: "
        "unauthorized: authentication required"));
    assert_false(docker_auth_refused(NULL));
}

static void test_docker_owner_is_this_process(void **state)
{
    const char *o = docker_owner();
    char host[256], want[300];

    (void)state;
    gethostname(host, sizeof(host));
    snprintf(want, sizeof(want), "%s:%ld:", host, (long)getpid());
    assert_true(strncmp(o, want, strlen(want)) == 0);
    assert_true(strlen(o) > strlen(want)); /* a start time follows */
    assert_true(docker_owner_alive(o));
    assert_ptr_equal(docker_owner(), o); /* static storage */
}

static void test_docker_owner_dead_and_foreign(void **state)
{
    char host[256], owner[320];
    const char *mine = docker_owner();
    const char *start = strrchr(mine, ':') + 1;
    pid_t child = fork();

    (void)state;
    if (child == 0)
        _exit(0);
    assert_true(child > 0);
    assert_int_equal(waitpid(child, NULL, 0), child);
    gethostname(host, sizeof(host));
    /* a process that exited */
    snprintf(owner, sizeof(owner), "%s:%ld:%s", host, (long)child, start);
    assert_false(docker_owner_alive(owner));
    /* our pid with another start time: the pid was reused */
    snprintf(owner, sizeof(owner), "%s:%ld:%s1", host, (long)getpid(), start);
    assert_false(docker_owner_alive(owner));
    /* another host's ferry: not ours to judge */
    snprintf(owner, sizeof(owner), "elsewhere.example:%ld:1", (long)child);
    assert_true(docker_owner_alive(owner));
    /* garbage is kept, never reaped */
    assert_true(docker_owner_alive(""));
    assert_true(docker_owner_alive(":::"));
    assert_true(docker_owner_alive("x:abc:1"));
    assert_true(docker_owner_alive("x:99999999999999999999:1"));
    assert_true(docker_owner_alive(NULL));
}

static void test_docker_check_ref(void **state)
{
    static const char *const good[] = {"busybox", "127.0.0.1:5000/ferry/app:v1",
                                       "abc123", "x@sha256:0123456789abcdef",
                                       "localhost/ferry-base:latest"};
    static const char *const bad[] = {"",     "../x", "/abs",   "-flag",
                                      "a b",  "a?b",  "a#b",    "a//b",
                                      "a%2e", "a\nb", "x/../y", ".hidden"};
    struct ferr err = {0};

    (void)state;
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        assert_int_equal(docker__check_ref(good[i], "image", &err), FERR_OK);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        if (docker__check_ref(bad[i], "image", &err) != FERR_INVALID)
            fail_msg("ref '%s' was accepted", bad[i]);
    }
}

static void test_docker_query_encoding(void **state)
{
    struct buf b;

    (void)state;
    buf_init(&b, 1024);
    assert_int_equal(buf_adds(&b, "/images/create"), FERR_OK);
    assert_int_equal(docker__qadd(&b, "fromImage", "127.0.0.1:5000/a b"),
                     FERR_OK);
    assert_int_equal(docker__qadd(&b, "filters", "{\"label\":[\"k=v&\"]}"),
                     FERR_OK);
    assert_string_equal(buf_cstr(&b),
                        "/images/create?fromImage=127.0.0.1%3A5000%2Fa%20b"
                        "&filters=%7B%22label%22%3A%5B%22k%3Dv%26%22%5D%7D");
    buf_release(&b);
}

static void test_docker_lower_first(void **state)
{
    char a[] = "No such container: x", b[] = "OCI runtime failed", c[] = "";

    (void)state;
    docker__lower_first(a);
    docker__lower_first(b);
    docker__lower_first(c);
    assert_string_equal(a, "no such container: x");
    assert_string_equal(b, "OCI runtime failed");
}

/* ---------- opening: errors without an engine ---------- */

static void test_docker_open_no_socket(void **state)
{
    struct docker *d = (struct docker *)1;
    struct ferr err = {0};
    char dir[64], path[128], host[160];

    (void)state;
    assert_true(testsrv_tmpdir(dir, sizeof(dir)));
    snprintf(path, sizeof(path), "%s/none.sock", dir);
    snprintf(host, sizeof(host), "unix://%s", path);
    assert_int_equal(docker_open(host, &d, &err), FERR_NOTFOUND);
    assert_null(d);
    assert_non_null(strstr(err.msg, "no container engine at unix:///"));
    assert_non_null(strstr(err.msg, "scripts/podman.sh start"));
    /* the same through DOCKER_HOST */
    ferr_clear(&err);
    setenv("DOCKER_HOST", host, 1);
    assert_int_equal(docker_open(NULL, &d, &err), FERR_NOTFOUND);
    assert_non_null(strstr(err.msg, path));
    unsetenv("DOCKER_HOST");
    /* a file that is not a socket */
    write_file(dir, "none.sock", "x");
    ferr_clear(&err);
    assert_int_equal(docker_open(host, &d, &err), FERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "not a socket"));
    testsrv_rmtree(dir);
}

static void test_docker_open_refused(void **state)
{
    struct sockaddr_un a = {.sun_family = AF_UNIX};
    struct docker *d = NULL;
    struct ferr err = {0};
    char dir[64], host[160];
    int fd;

    (void)state;
    assert_true(testsrv_tmpdir(dir, sizeof(dir)));
    snprintf(a.sun_path, sizeof(a.sun_path), "%s/dead.sock", dir);
    fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    close(fd); /* the socket file stays; nobody listens */
    snprintf(host, sizeof(host), "unix://%s", a.sun_path);
    assert_int_equal(docker_open(host, &d, &err), FERR_NOTFOUND);
    assert_null(d);
    assert_non_null(strstr(err.msg, "Connection refused"));
    assert_non_null(strstr(err.msg, "scripts/podman.sh start"));
    testsrv_rmtree(dir);
}

static void test_docker_open_bad_hosts(void **state)
{
    static const char *const bad[] = {"tcp://127.0.0.1:2375",
                                      "unix://relative.sock", "npipe:////./x",
                                      "/var/run/docker.sock"};
    struct docker *d = NULL;
    struct ferr err = {0};
    char longhost[300];

    (void)state;
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(docker_open(bad[i], &d, &err), FERR_USAGE);
        assert_null(d);
    }
    snprintf(longhost, sizeof(longhost), "unix:///%0200d.sock", 0);
    ferr_clear(&err);
    assert_int_equal(docker_open(longhost, &d, &err), FERR_USAGE);
    setenv("DOCKER_HOST", "tcp://10.0.0.1:2375", 1);
    ferr_clear(&err);
    assert_int_equal(docker_open(NULL, &d, &err), FERR_USAGE);
    assert_non_null(strstr(err.msg, "tcp://10.0.0.1:2375"));
    unsetenv("DOCKER_HOST");
}

/* ---------- version negotiation against a fake engine ---------- */

/* A fake engine on a unix socket (argv: socket, ApiVersion,
 * MinAPIVersion, "hdr" to send Api-Version on /_ping).  It prints "up"
 * once it listens. */
static const char fake_engine_py[] =
    "import sys, json, socketserver, http.server\n"
    "sock, mx, mn, hdr = sys.argv[1:5]\n"
    "class H(http.server.BaseHTTPRequestHandler):\n"
    "    protocol_version = 'HTTP/1.1'\n"
    "    def log_message(self, *a): pass\n"
    "    def reply(self, body, extra=()):\n"
    "        b = body.encode()\n"
    "        self.send_response(200)\n"
    "        for k, v in extra: self.send_header(k, v)\n"
    "        self.send_header('Content-Length', str(len(b)))\n"
    "        self.end_headers()\n"
    "        self.wfile.write(b)\n"
    "    def do_GET(self):\n"
    "        if self.path == '/_ping':\n"
    "            self.reply('OK', [('Api-Version', mx)] if hdr == 'hdr' "
    "else [])\n"
    "        elif self.path == '/version':\n"
    "            self.reply(json.dumps({'ApiVersion': mx, "
    "'MinAPIVersion': mn}))\n"
    "        else:\n"
    "            self.send_error(404)\n"
    "class U(socketserver.UnixStreamServer):\n"
    "    def get_request(self):\n"
    "        s, _ = self.socket.accept()\n"
    "        return s, ('unix', 0)\n"
    "srv = U(sock, H)\n"
    "print('up', flush=True)\n"
    "srv.serve_forever()\n";

/* docker_open against a fake engine of @max/@min; the version spoken in
 * @out (or "" when the open failed with *@rc). */
static void negotiate_with(const char *max, const char *min, bool hdr,
                           char *out, size_t n, enum ferr_code *rc)
{
    char dir[64], sock[128], host[160], line[16];
    char *argv[] = {TESTSRV_PYTHON, "-c",        (char *)fake_engine_py, sock,
                    (char *)max,    (char *)min, hdr ? "hdr" : "none",   NULL};
    struct docker *d = NULL;
    struct ferr err = {0};
    int fd = -1;
    pid_t pid;

    assert_true(testsrv_tmpdir(dir, sizeof(dir)));
    snprintf(sock, sizeof(sock), "%s/fake.sock", dir);
    snprintf(host, sizeof(host), "unix://%s", sock);
    pid = testsrv_spawn(argv, &fd, NULL);
    assert_true(pid > 0);
    assert_true(testsrv_read_line(fd, line, sizeof(line), 15000));
    close(fd);
    *rc = docker_open(host, &d, &err);
    snprintf(out, n, "%s", d ? docker_api_version(d) : "");
    docker_close(d);
    testsrv_stop(&pid);
    testsrv_rmtree(dir);
}

static void test_docker_negotiates_with_fake_engines(void **state)
{
    static const struct {
        const char *max, *min;
        bool hdr;
        const char *want; /* NULL: FERR_UNSUPPORTED */
    } cases[] = {
        {"1.41", "1.24", true, "1.41"},  /* Podman 4 */
        {"1.51", "1.24", true, "1.41"},  /* Docker 28: ours */
        {"1.52", "1.44", true, "1.44"},  /* Docker 29: its minimum */
        {"1.40", "1.12", true, "1.40"},  /* older: its own */
        {"1.38", "1.12", false, "1.38"}, /* no header: from /version */
        {"1.12", "1.12", true, NULL},    /* too old for ferry */
    };
    char got[16];
    enum ferr_code rc;

    (void)state;
    if (access(TESTSRV_PYTHON, X_OK) != 0) {
        print_message("# skip: " TESTSRV_PYTHON " is not installed\n");
        skip();
    }
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        negotiate_with(cases[i].max, cases[i].min, cases[i].hdr, got,
                       sizeof(got), &rc);
        if (cases[i].want && (rc != FERR_OK || strcmp(got, cases[i].want)))
            fail_msg("engine %s (min %s): spoke '%s' (rc %d), want %s",
                     cases[i].max, cases[i].min, got, rc, cases[i].want);
        if (!cases[i].want && rc != FERR_UNSUPPORTED)
            fail_msg("engine %s: rc %d, want FERR_UNSUPPORTED", cases[i].max,
                     rc);
    }
}

/* ---------- a real engine: Podman on our own socket ---------- */

struct engine {
    bool tried;
    bool up;
    char why[256]; /* why the engine tests skip */
    char dir[64];  /* our temp dir */
    char sock[160];
    char host[200]; /* unix://sock */
    pid_t podman;
    pid_t registry; /* -1: no docker-registry */
    unsigned reg_port;
    char run_label[96]; /* io.ferry.run=… on everything we create */
    char image[96];     /* the image the build test makes */
    char tagged[120];   /* the repository it is tagged as (":v2") */
    bool built;
    struct docker *d;
};

static struct engine E = {.podman = -1, .registry = -1};

static bool find_prog(const char *name, char *out, size_t n)
{
    const char *path = getenv("PATH");
    char *copy = strdup(path ? path : "/usr/bin:/bin");
    bool found = false;

    for (char *dir = copy, *next; dir && !found; dir = next) {
        next = strchr(dir, ':');
        if (next)
            *next++ = '\0';
        snprintf(out, n, "%s/%s", *dir ? dir : ".", name);
        found = access(out, X_OK) == 0;
    }
    free(copy);
    return found;
}

/* Run @argv to completion; its output (both streams) into @out. */
static int run_tool(char *const argv[], char *out, size_t n)
{
    int fd = -1, st = 0;
    size_t len = 0;
    pid_t pid = testsrv_spawn(argv, &fd, NULL);
    ssize_t r;

    if (pid < 0)
        return -1;
    while (len + 1 < n && (r = read(fd, out + len, n - len - 1)) > 0)
        len += (size_t)r;
    out[len] = '\0';
    close(fd);
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

static void sweep(void)
{
    const char *labels[] = {E.run_label, NULL};
    struct ferr err = {0};
    json_t *list = NULL, *o;
    size_t i;

    if (!E.d)
        return;
    if (!docker_container_list(E.d, labels, true, &list, &err))
        json_array_foreach (list, i, o) {
            struct ferr e2 = {0};

            if (docker_container_remove(
                    E.d, json_string_value(json_object_get(o, "Id")), true,
                    &e2))
                continue; /* best effort at exit */
        }
    json_decref(list);
    list = NULL;
    if (!docker_network_list(E.d, labels, &list, &err))
        json_array_foreach (list, i, o) {
            struct ferr e2 = {0};

            if (docker_network_remove(
                    E.d, json_string_value(json_object_get(o, "Id")), &e2))
                continue;
        }
    json_decref(list);
}

static void engine_stop(void)
{
    char ref[200];
    struct ferr err = {0};

    sweep();
    if (E.d && E.built) {
        snprintf(ref, sizeof(ref), "%s:v2", E.tagged);
        if (docker_image_remove(E.d, ref, true, &err))
            ferr_clear(&err); /* usually removed by its test already */
        if (docker_image_remove(E.d, E.image, true, &err))
            fprintf(stderr, "# cannot remove %s: %s\n", E.image, err.msg);
    }
    docker_close(E.d);
    E.d = NULL;
    testsrv_stop(&E.registry);
    testsrv_stop(&E.podman);
    testsrv_rmtree(E.dir);
}

static bool wait_http_ok(const char *url, int timeout_ms)
{
    long long end = testsrv_now_ms() + timeout_ms;

    while (testsrv_now_ms() < end) {
        struct httpc_req rq = {.url = url, .timeout_ms = 1000};
        struct buf b;
        struct ferr err = {0};
        long status = 0;

        buf_init(&b, 4096);
        if (httpc_do(&rq, &status, &b, &err) == FERR_OK && status == 200) {
            buf_release(&b);
            return true;
        }
        buf_release(&b);
        testsrv_pause_ms(50);
    }
    return false;
}

static void start_registry(void)
{
    char exe[256], cfg[160], data[160], log[160], url[64];
    FILE *f;

    if (!find_prog("docker-registry", exe, sizeof(exe)))
        return;
    snprintf(cfg, sizeof(cfg), "%s/registry.yml", E.dir);
    snprintf(data, sizeof(data), "%s/registry-data", E.dir);
    snprintf(log, sizeof(log), "%s/registry.log", E.dir);
    f = fopen(cfg, "w");
    assert_non_null(f);
    fprintf(f,
            "version: 0.1\n"
            "log: {level: error}\n"
            "storage:\n"
            "  filesystem: {rootdirectory: %s}\n"
            "  delete: {enabled: true}\n"
            "http:\n"
            "  addr: 127.0.0.1:%u\n",
            data, E.reg_port);
    fclose(f);
    {
        char *argv[] = {exe, "serve", cfg, NULL};

        E.registry = testsrv_spawn(argv, NULL, log);
    }
    snprintf(url, sizeof(url), "http://127.0.0.1:%u/v2/", E.reg_port);
    if (E.registry > 0 && !wait_http_ok(url, 15000))
        fail_msg("docker-registry did not answer on %s", url);
}

static void engine_start(void)
{
    char podman[256], out[4096], regconf[160], log[160];
    struct ferr err = {0};
    long long end;
    FILE *f;

    E.tried = true;
    if (!find_prog("podman", podman, sizeof(podman))) {
        snprintf(E.why, sizeof(E.why), "podman is not installed");
        return;
    }
    /* the machine set-up the project's script does (idempotent) */
    {
        char *check[] = {"/bin/bash", "scripts/podman.sh", "check", NULL};
        char *setup[] = {"/bin/bash", "scripts/podman.sh", "setup", NULL};
        char *base[] = {"/bin/bash", "scripts/podman.sh", "base-image", NULL};

        if (access("scripts/podman.sh", R_OK) != 0)
            fail_msg("run from the repository root (scripts/podman.sh)");
        if (run_tool(check, out, sizeof(out)) != 0 &&
            strstr(out, "not set up") && run_tool(setup, out, sizeof(out)) != 0)
            fail_msg("scripts/podman.sh setup failed: %s", out);
        if (run_tool(base, out, sizeof(out)) != 0)
            fail_msg("scripts/podman.sh base-image failed: %s", out);
    }
    assert_true(testsrv_tmpdir(E.dir, sizeof(E.dir)));
    atexit(engine_stop);
    snprintf(E.sock, sizeof(E.sock), "%s/podman.sock", E.dir);
    snprintf(E.host, sizeof(E.host), "unix://%s", E.sock);
    snprintf(E.run_label, sizeof(E.run_label),
             DOCKER_LABEL_RUN "=docker-test-%ld", (long)getpid());
    snprintf(E.image, sizeof(E.image), "localhost/ferry-docker-test-%ld:v1",
             (long)getpid());
    snprintf(E.tagged, sizeof(E.tagged),
             "localhost/ferry-docker-test-%ld-tagged", (long)getpid());
    /* our registry's port is insecure for our service only (the service
     * reads this file once, at start) */
    E.reg_port = testsrv_free_port();
    snprintf(regconf, sizeof(regconf), "%s/registries.conf", E.dir);
    f = fopen(regconf, "w");
    assert_non_null(f);
    fprintf(f, "[[registry]]\nlocation = \"127.0.0.1:%u\"\ninsecure = true\n",
            E.reg_port);
    fclose(f);
    setenv("CONTAINERS_REGISTRIES_CONF", regconf, 1);
    snprintf(log, sizeof(log), "%s/podman.log", E.dir);
    {
        char *argv[] = {podman, "system", "service", "--time=0", E.host, NULL};

        E.podman = testsrv_spawn(argv, NULL, log);
    }
    unsetenv("CONTAINERS_REGISTRIES_CONF");
    assert_true(E.podman > 0);
    end = testsrv_now_ms() + 20000;
    while (docker_open(E.host, &E.d, &err) != FERR_OK) {
        if (testsrv_now_ms() > end)
            fail_msg("podman system service did not answer: %s", err.msg);
        ferr_clear(&err);
        testsrv_pause_ms(50);
    }
    start_registry();
    E.up = true;
}

/* The engine, or skip the test when podman is absent. */
static struct docker *engine(void)
{
    if (!E.tried)
        engine_start();
    if (!E.up) {
        if (E.why[0])
            print_message("# skip: %s\n", E.why);
        skip();
    }
    return E.d;
}

/* A config for the base image running @cmd, with our labels, Init on. */
static json_t *config(const char *const *cmd)
{
    json_t *c = json_pack("{s:s, s:[], s:{s:s, s:s}, s:{s:b}}", "Image",
                          BASE_IMAGE, "Cmd", "Labels", DOCKER_LABEL_RUN,
                          strchr(E.run_label, '=') + 1, DOCKER_LABEL_JOB,
                          "test", "HostConfig", "Init", 1);

    for (size_t i = 0; cmd[i]; i++)
        json_array_append_new(json_object_get(c, "Cmd"), json_string(cmd[i]));
    return c;
}

static char *run_detached(struct docker *d, const char *name,
                          const char *const *cmd, const json_t *extra)
{
    json_t *c = config(cmd);
    struct ferr err = {0};
    char *id = NULL;

    if (extra)
        assert_int_equal(json_object_update_recursive(c, (json_t *)extra), 0);
    if (docker_container_create(d, name, c, &id, &err))
        fail_msg("create: %s", err.msg);
    if (docker_container_start(d, id, &err))
        fail_msg("start: %s", err.msg);
    json_decref(c);
    return id;
}

static void remove_container(struct docker *d, char *id)
{
    struct ferr err = {0};

    if (docker_container_remove(d, id, true, &err))
        fail_msg("remove: %s", err.msg);
    free(id);
}

static void test_docker_ping_negotiates(void **state)
{
    struct docker *d = engine(), *d2 = NULL;
    struct ferr err = {0};

    (void)state;
    /* Podman 4.3 speaks 1.41; Docker newer ones: ours, 1.41 */
    assert_string_equal(docker_api_version(d), "1.41");
    setenv("DOCKER_HOST", E.host, 1);
    assert_int_equal(docker_open(NULL, &d2, &err), FERR_OK);
    unsetenv("DOCKER_HOST");
    assert_string_equal(docker_api_version(d2), DOCKER_API_VERSION);
    docker_close(d2);
    docker_close(NULL);
}

static void test_docker_call_errors_carry_message(void **state)
{
    struct docker *d = engine();
    struct ferr err = {0};
    json_t *out = (json_t *)1;

    (void)state;
    assert_int_equal(docker_call(d, "GET", "/containers/ferry-nope-x/json",
                                 NULL, &out, &err),
                     FERR_NOTFOUND);
    assert_null(out);
    assert_non_null(strstr(err.msg, "ferry-nope-x"));
    assert_true(err.msg[0] >= 'a' && err.msg[0] <= 'z');
    ferr_clear(&err);
    assert_int_equal(docker_call(d, "GET", "/version", NULL, &out, &err),
                     FERR_OK);
    assert_true(json_is_object(out));
    json_decref(out);
    ferr_clear(&err);
    assert_int_equal(docker_call(d, "GET", "no-slash", NULL, NULL, &err),
                     FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(
        docker_call(d, "GET /x HTTP/1.1\r\nX:", "/version", NULL, NULL, &err),
        FERR_INVALID);
    ferr_clear(&err);
    assert_int_equal(docker_call(d, "GET", "/version x", NULL, NULL, &err),
                     FERR_INVALID);
}

static void test_docker_container_lifecycle(void **state)
{
    static const char *const cmd[] = {
        "sh", "-c", "echo to-out; echo to-err >&2; exit 3", NULL};
    struct docker *d = engine();
    json_t *c = config(cmd), *info = NULL, *labels;
    struct ferr err = {0};
    char name[64];
    char *id = NULL;
    int status = -1;
    struct two t;

    (void)state;
    snprintf(name, sizeof(name), "ferry-docker-test-%ld", (long)getpid());
    assert_int_equal(docker_container_create(d, name, c, &id, &err), FERR_OK);
    assert_non_null(id);
    /* the caller's config is left alone */
    assert_null(
        json_object_get(json_object_get(c, "Labels"), DOCKER_LABEL_MANAGED));
    assert_int_equal(docker_container_inspect(d, name, &info, &err), FERR_OK);
    labels = json_object_get(json_object_get(info, "Config"), "Labels");
    assert_string_equal(
        json_string_value(json_object_get(labels, DOCKER_LABEL_MANAGED)), "1");
    assert_string_equal(
        json_string_value(json_object_get(labels, DOCKER_LABEL_OWNER)),
        docker_owner());
    assert_string_equal(
        json_string_value(json_object_get(labels, DOCKER_LABEL_JOB)), "test");
    json_decref(info);
    assert_int_equal(docker_container_start(d, id, &err), FERR_OK);
    assert_int_equal(docker_container_wait(d, id, &status, &err), FERR_OK);
    assert_int_equal(status, 3);
    two_init(&t);
    assert_int_equal(docker_container_logs(d, id, false, two_cb, &t, &err),
                     FERR_OK);
    assert_string_equal(buf_cstr(&t.out), "to-out\n");
    assert_string_equal(buf_cstr(&t.err), "to-err\n");
    two_release(&t);
    /* a second container with that name is refused */
    {
        char *id2 = NULL;

        assert_int_equal(docker_container_create(d, name, c, &id2, &err),
                         FERR_INVALID);
        assert_null(id2);
        ferr_clear(&err);
    }
    assert_int_equal(docker_container_remove(d, id, false, &err), FERR_OK);
    assert_int_equal(docker_container_remove(d, id, false, &err),
                     FERR_NOTFOUND);
    ferr_clear(&err);
    assert_int_equal(docker_container_inspect(d, id, &info, &err),
                     FERR_NOTFOUND);
    assert_null(info);
    ferr_clear(&err);
    free(id);
    assert_int_equal(docker_container_create(d, "bad name", c, &id, &err),
                     FERR_INVALID);
    assert_null(id);
    json_decref(c);
}

static void test_docker_container_stop_and_list(void **state)
{
    static const char *const cmd[] = {"sleep", "300", NULL};
    struct docker *d = engine();
    const char *labels[] = {E.run_label, DOCKER_LABEL_MANAGED "=1", NULL};
    struct ferr err = {0};
    json_t *list = NULL;
    char *id = run_detached(d, NULL, cmd, NULL);
    long long t0;
    int status = -1;
    bool found = false;
    size_t i;
    json_t *o;

    (void)state;
    assert_int_equal(docker_container_list(d, labels, false, &list, &err),
                     FERR_OK);
    json_array_foreach (list, i, o)
        found |= strcmp(json_string_value(json_object_get(o, "Id")), id) == 0;
    assert_true(found);
    json_decref(list);
    t0 = testsrv_now_ms();
    /* with Init, PID 1 (catatonit) passes SIGTERM on: no 10 s grace */
    assert_int_equal(docker_container_stop(d, id, 10, &err), FERR_OK);
    assert_true(testsrv_now_ms() - t0 < 5000);
    assert_int_equal(docker_container_wait(d, id, &status, &err), FERR_OK);
    assert_int_equal(status, 143);
    /* stopped: not listed without all */
    assert_int_equal(docker_container_list(d, labels, false, &list, &err),
                     FERR_OK);
    found = false;
    json_array_foreach (list, i, o)
        found |= strcmp(json_string_value(json_object_get(o, "Id")), id) == 0;
    assert_false(found);
    json_decref(list);
    /* stopping it again is fine (304) */
    assert_int_equal(docker_container_stop(d, id, 1, &err), FERR_OK);
    remove_container(d, id);
}

static void test_docker_exec_streams_and_codes(void **state)
{
    static const char *const cmd[] = {"sleep", "300", NULL};
    static const char *const both[] = {
        "sh", "-c", "echo out1; echo err1 >&2; echo out2; echo err2 >&2", NULL};
    static const char *const three[] = {"sh", "-c", "exit 3", NULL};
    static const char *const missing[] = {"ferry-no-such-command", NULL};
    static const char *const envwd[] = {"sh", "-c", "echo $FOO; pwd; id -u",
                                        NULL};
    static const char *const env[] = {"FOO=bar baz", NULL};
    struct docker *d = engine();
    char *id = run_detached(d, NULL, cmd, NULL);
    struct docker_exec x = {.cmd = both};
    struct ferr err = {0};
    struct two t;
    int code = -1;

    (void)state;
    two_init(&t);
    assert_int_equal(docker_exec_run(d, id, &x, two_cb, &t, &code, &err),
                     FERR_OK);
    assert_int_equal(code, 0);
    assert_string_equal(buf_cstr(&t.out), "out1\nout2\n");
    assert_string_equal(buf_cstr(&t.err), "err1\nerr2\n");
    two_release(&t);
    x.cmd = three;
    assert_int_equal(docker_exec_run(d, id, &x, NULL, NULL, &code, &err),
                     FERR_OK);
    assert_int_equal(code, 3);
    x.cmd = missing;
    two_init(&t);
    assert_int_equal(docker_exec_run(d, id, &x, two_cb, &t, &code, &err),
                     FERR_OK);
    assert_int_equal(code, 127);
    assert_non_null(strstr(buf_cstr(&t.err), "ferry-no-such-command"));
    two_release(&t);
    x.cmd = envwd;
    x.env = env;
    x.workdir = "/tmp";
    x.user = "65534";
    two_init(&t);
    assert_int_equal(docker_exec_run(d, id, &x, two_cb, &t, &code, &err),
                     FERR_OK);
    assert_int_equal(code, 0);
    assert_string_equal(buf_cstr(&t.out), "bar baz\n/tmp\n65534\n");
    two_release(&t);
    /* no such container */
    x.cmd = three;
    assert_int_equal(
        docker_exec_run(d, "ferry-nope-x", &x, NULL, NULL, &code, &err),
        FERR_NOTFOUND);
    remove_container(d, id);
}

static void test_docker_exec_output_streams_live(void **state)
{
    static const char *const cmd[] = {"sleep", "300", NULL};
    static const char *const slow[] = {
        "sh", "-c", "echo first; sleep 1.5; echo second", NULL};
    struct docker *d = engine();
    char *id = run_detached(d, NULL, cmd, NULL);
    struct docker_exec x = {.cmd = slow};
    struct ferr err = {0};
    struct two t;
    int code = -1;

    (void)state;
    two_init(&t);
    assert_int_equal(docker_exec_run(d, id, &x, two_cb, &t, &code, &err),
                     FERR_OK);
    assert_string_equal(buf_cstr(&t.out), "first\nsecond\n");
    /* "first" came while the command still ran */
    assert_true(t.last_ms - t.first_ms >= 1000);
    remove_container(d, id);
    two_release(&t);
}

static void test_docker_network_alias_resolves(void **state)
{
    static const char *const server[] = {
        "sh", "-c",
        "mkdir /www && echo hello-from-db > /www/index.html && "
        "exec httpd -f -p 8080 -h /www",
        NULL};
    static const char *const idle[] = {"sleep", "300", NULL};
    static const char *const fetch[] = {
        "sh", "-c",
        "for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do "
        "wget -q -O - http://db:8080/ && exit 0; sleep 0.25; done; exit 1",
        NULL};
    struct docker *d = engine();
    const char *netlabels[] = {E.run_label, NULL};
    struct docker_exec x = {.cmd = fetch};
    struct ferr err = {0};
    char net[64];
    char *nid = NULL, *srv, *cli;
    json_t *extra, *list = NULL;
    struct two t;
    int code = -1;

    (void)state;
    snprintf(net, sizeof(net), "ferry-docker-test-%ld", (long)getpid());
    assert_int_equal(docker_network_create(d, net, netlabels, &nid, &err),
                     FERR_OK);
    assert_non_null(nid);
    assert_int_equal(docker_network_list(d, netlabels, &list, &err), FERR_OK);
    assert_int_equal(json_array_size(list), 1);
    assert_string_equal(json_string_value(json_object_get(
                            json_object_get(json_array_get(list, 0), "Labels"),
                            DOCKER_LABEL_OWNER)),
                        docker_owner());
    json_decref(list);
    extra = json_pack("{s:{s:s}, s:{s:{s:{s:[s]}}}}", "HostConfig",
                      "NetworkMode", net, "NetworkingConfig", "EndpointsConfig",
                      net, "Aliases", "db");
    srv = run_detached(d, NULL, server, extra);
    json_decref(extra);
    extra = json_pack("{s:{s:s}}", "HostConfig", "NetworkMode", net);
    cli = run_detached(d, NULL, idle, extra);
    json_decref(extra);
    two_init(&t);
    assert_int_equal(docker_exec_run(d, cli, &x, two_cb, &t, &code, &err),
                     FERR_OK);
    assert_int_equal(code, 0);
    assert_string_equal(buf_cstr(&t.out), "hello-from-db\n");
    two_release(&t);
    remove_container(d, srv);
    remove_container(d, cli);
    assert_int_equal(docker_network_remove(d, nid, &err), FERR_OK);
    assert_int_equal(docker_network_remove(d, nid, &err), FERR_NOTFOUND);
    free(nid);
}

static void test_docker_reap_orphans(void **state)
{
    static const char *const cmd[] = {"sleep", "300", NULL};
    struct docker *d = engine();
    struct ferr err = {0};
    char ids[2][128] = {{0}};
    char net[64];
    unsigned removed = 0;
    json_t *info = NULL;
    char *mine;
    int p[2], st = 0;
    pid_t child;

    (void)state;
    snprintf(net, sizeof(net), "ferry-docker-orphan-%ld", (long)getpid());
    assert_int_equal(pipe(p), 0);
    child = fork();
    if (child == 0) {
        /* a ferry that creates a container and a network, then dies */
        struct docker *d2 = NULL;
        struct ferr e2 = {0};
        json_t *c = config(cmd);
        char *cid = NULL, *nid = NULL;
        char line[300];
        int rc = docker_open(E.host, &d2, &e2) ||
                 docker_container_create(d2, NULL, c, &cid, &e2) ||
                 docker_network_create(
                     d2, net, (const char *[]){E.run_label, NULL}, &nid, &e2);

        snprintf(line, sizeof(line), "%s %s\n", cid ? cid : "-",
                 nid ? nid : "-");
        if (write(p[1], line, strlen(line)) < 0)
            rc = 1;
        _exit(rc ? 1 : 0);
    }
    close(p[1]);
    {
        char line[300] = {0};
        ssize_t r = read(p[0], line, sizeof(line) - 1);

        assert_true(r > 0);
        assert_int_equal(sscanf(line, "%127s %127s", ids[0], ids[1]), 2);
    }
    close(p[0]);
    assert_int_equal(waitpid(child, &st, 0), child);
    assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
    /* a live owner's container: ours */
    mine = run_detached(d, NULL, cmd, NULL);
    assert_int_equal(docker_container_inspect(d, ids[0], &info, &err), FERR_OK);
    assert_false(docker_owner_alive(json_string_value(json_object_get(
        json_object_get(json_object_get(info, "Config"), "Labels"),
        DOCKER_LABEL_OWNER))));
    json_decref(info);
    assert_int_equal(docker_reap_orphans(d, &removed, &err), FERR_OK);
    /* not `removed >= 2`: another reaper on the same storage (a ferry
     * run starting, a container set-up) may have taken them first; what
     * matters is that they are gone and the live owner's is not */
    assert_int_equal(docker_container_inspect(d, ids[0], &info, &err),
                     FERR_NOTFOUND);
    ferr_clear(&err);
    assert_int_equal(docker_network_remove(d, ids[1], &err), FERR_NOTFOUND);
    ferr_clear(&err);
    assert_int_equal(docker_container_inspect(d, mine, &info, &err), FERR_OK);
    json_decref(info);
    /* nothing more to do */
    assert_int_equal(docker_reap_orphans(d, NULL, &err), FERR_OK);
    remove_container(d, mine);
}

static void test_docker_missing_image_is_clear(void **state)
{
    static const char *const cmd[] = {"true", NULL};
    struct docker *d = engine();
    json_t *c = config(cmd), *info = NULL;
    struct ferr err = {0};
    char *id = NULL;

    (void)state;
    json_object_set_new(c, "Image",
                        json_string("localhost/ferry-no-such-image:1"));
    assert_int_equal(docker_container_create(d, NULL, c, &id, &err),
                     FERR_NOTFOUND);
    assert_null(id);
    assert_non_null(strstr(err.msg, "no such image"));
    assert_non_null(strstr(err.msg, "localhost/ferry-no-such-image:1"));
    ferr_clear(&err);
    assert_int_equal(
        docker_image_inspect(d, "localhost/ferry-no-such-image:1", &info, &err),
        FERR_NOTFOUND);
    assert_null(info);
    assert_non_null(
        strstr(err.msg, "no image 'localhost/ferry-no-such-image:1'"));
    ferr_clear(&err);
    assert_int_equal(
        docker_image_remove(d, "localhost/ferry-no-such-image:1", true, &err),
        FERR_NOTFOUND);
    json_decref(c);
}

static void progress_count(void *ud, const char *line)
{
    int *n = ud;

    assert_non_null(line);
    assert_null(strchr(line, '\n'));
    (*n)++;
}

/* Build the test image once (the build and push tests share it). */
static void build_test_image(struct docker *d, char *out_id, size_t n)
{
    char dir[64];
    const char *tags[] = {E.image, NULL};
    json_t *args = json_pack("{s:s}", "GREETING", "hello from a build arg");
    json_t *labels = json_pack("{s:s}", "org.example.test", "yes");
    struct docker_build b = {
        .context_dir = dir, .buildargs = args, .labels = labels, .tags = tags};
    struct ferr err = {0};
    char *id = NULL;
    int lines = 0;

    assert_true(testsrv_tmpdir(dir, sizeof(dir)));
    make_context(dir);
    if (docker_image_build(d, &b, progress_count, &lines, &id, &err))
        fail_msg("build: %s", err.msg);
    E.built = true;
    assert_true(lines > 3);
    assert_true(strncmp(id, "sha256:", 7) == 0 && strlen(id) == 71);
    snprintf(out_id, n, "%s", id);
    free(id);
    json_decref(args);
    json_decref(labels);
    testsrv_rmtree(dir);
}

static void test_docker_build_with_dockerignore(void **state)
{
    static const char *const show[] = {
        "sh", "-c", "cd /ctx && find . -type f | sort; cat /greeting.txt",
        NULL};
    struct docker *d = engine();
    struct ferr err = {0};
    json_t *info = NULL, *c;
    char id[80];
    char *cid = NULL;
    int status = -1;
    struct two t;

    (void)state;
    build_test_image(d, id, sizeof(id));
    assert_int_equal(docker_image_inspect(d, E.image, &info, &err), FERR_OK);
    assert_string_equal(json_string_value(json_object_get(info, "Id")), id);
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(info, "Config"), "Labels"),
            "org.example.test")),
        "yes");
    assert_string_equal(
        json_string_value(json_object_get(
            json_object_get(json_object_get(info, "Config"), "Labels"),
            DOCKER_LABEL_MANAGED)),
        "1");
    json_decref(info);
    /* tag, and the tag names the same image */
    assert_int_equal(docker_image_tag(d, E.image, E.tagged, "v2", &err),
                     FERR_OK);
    {
        char ref[220];

        snprintf(ref, sizeof(ref), "%s:v2", E.tagged);
        assert_int_equal(docker_image_inspect(d, ref, &info, &err), FERR_OK);
        assert_string_equal(json_string_value(json_object_get(info, "Id")), id);
        json_decref(info);
        assert_int_equal(docker_image_remove(d, ref, false, &err), FERR_OK);
    }
    /* what the image got from the context */
    c = config(show);
    json_object_set_new(c, "Image", json_string(E.image));
    assert_int_equal(docker_container_create(d, NULL, c, &cid, &err), FERR_OK);
    assert_int_equal(docker_container_start(d, cid, &err), FERR_OK);
    assert_int_equal(docker_container_wait(d, cid, &status, &err), FERR_OK);
    assert_int_equal(status, 0);
    two_init(&t);
    assert_int_equal(docker_container_logs(d, cid, true, two_cb, &t, &err),
                     FERR_OK);
    assert_string_equal(buf_cstr(&t.out), "./.dockerignore\n"
                                          "./Dockerfile\n"
                                          "./keep.txt\n"
                                          "./logs/keep.log\n"
                                          "./sub/top-only\n"
                                          "./sub/y.txt\n"
                                          "hello from a build arg\n");
    two_release(&t);
    remove_container(d, cid);
    json_decref(c);
}

static void test_docker_build_failure_is_invalid(void **state)
{
    struct docker *d = engine();
    char dir[64];
    struct docker_build b = {.context_dir = dir,
                             .dockerfile = "build/Failfile"};
    struct ferr err = {0};
    char *id = NULL;

    (void)state;
    assert_true(testsrv_tmpdir(dir, sizeof(dir)));
    make_dir(dir, "build");
    write_file(dir, "build/Failfile",
               "FROM " BASE_IMAGE "\nRUN echo about to fail; false\n");
    assert_int_equal(docker_image_build(d, &b, NULL, NULL, &id, &err),
                     FERR_INVALID);
    assert_null(id);
    assert_non_null(strstr(err.msg, "exit status 1"));
    /* no Dockerfile at all */
    ferr_clear(&err);
    b.dockerfile = NULL;
    assert_int_equal(docker_image_build(d, &b, NULL, NULL, &id, &err),
                     FERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "no Dockerfile or Containerfile"));
    /* a Dockerfile outside the context */
    ferr_clear(&err);
    b.dockerfile = "../etc/passwd";
    assert_int_equal(docker_image_build(d, &b, NULL, NULL, &id, &err),
                     FERR_INVALID);
    testsrv_rmtree(dir);
}

/* sha256 of the manifest the registry serves for @name:@ref. */
static void registry_digest(const char *name, const char *ref, char *out,
                            size_t n)
{
    static const char *const accept[] = {
        "Accept: application/vnd.oci.image.manifest.v1+json, "
        "application/vnd.docker.distribution.manifest.v2+json",
        NULL};
    char url[300], hex[65];
    struct httpc_req rq = {.url = url, .headers = accept};
    struct ferr err = {0};
    struct buf b;
    long status = 0;

    snprintf(url, sizeof(url), "http://127.0.0.1:%u/v2/%s/manifests/%s",
             E.reg_port, name, ref);
    buf_init(&b, 1024 * 1024);
    assert_int_equal(httpc_do(&rq, &status, &b, &err), FERR_OK);
    assert_int_equal(status, 200);
    crypto_sha256_hex(b.p, b.len, hex);
    snprintf(out, n, "sha256:%s", hex);
    buf_release(&b);
}

static void test_docker_push_digest_pull_by_digest(void **state)
{
    struct docker *d = engine();
    struct ferr err = {0};
    char repo[160], ref[400], want[80], id[80];
    char *digest = NULL;
    json_t *info = NULL;
    int lines = 0;

    (void)state;
    if (E.registry <= 0) {
        print_message("# skip: docker-registry is not installed\n");
        skip();
    }
    if (!E.built)
        build_test_image(d, id, sizeof(id));
    snprintf(repo, sizeof(repo), "127.0.0.1:%u/ferry-test/app", E.reg_port);
    assert_int_equal(docker_image_tag(d, E.image, repo, "v1", &err), FERR_OK);
    assert_int_equal(docker_image_push(d, repo, "v1", NULL, progress_count,
                                       &lines, &digest, &err),
                     FERR_OK);
    assert_non_null(digest);
    assert_true(lines > 0);
    /* the digest is the registry's: sha256 of the manifest it stored */
    registry_digest("ferry-test/app", "v1", want, sizeof(want));
    assert_string_equal(digest, want);
    registry_digest("ferry-test/app", digest, want, sizeof(want));
    assert_string_equal(digest, want);
    /* gone locally, then back by digest */
    snprintf(ref, sizeof(ref), "%s:v1", repo);
    assert_int_equal(docker_image_remove(d, ref, false, &err), FERR_OK);
    assert_int_equal(docker_image_inspect(d, ref, &info, &err), FERR_NOTFOUND);
    ferr_clear(&err);
    snprintf(ref, sizeof(ref), "%s@%s", repo, digest);
    lines = 0;
    assert_int_equal(
        docker_image_pull(d, ref, NULL, progress_count, &lines, &err), FERR_OK);
    assert_int_equal(docker_image_inspect(d, ref, &info, &err), FERR_OK);
    json_decref(info);
    assert_int_equal(docker_image_remove(d, ref, false, &err), FERR_OK);
    /* a tag the registry does not have */
    snprintf(ref, sizeof(ref), "%s:no-such-tag", repo);
    assert_int_equal(docker_image_pull(d, ref, NULL, NULL, NULL, &err),
                     FERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "pull failed"));
    ferr_clear(&err);
    /* pushing what is not there */
    free(digest);
    digest = NULL;
    assert_int_equal(docker_image_push(d, repo, "never-tagged", NULL, NULL,
                                       NULL, &digest, &err),
                     FERR_NOTFOUND);
    assert_null(digest);
}

/* cmocka 1.1.5 prints a skipped test as "not ok N # SKIP", which TAP
 * counts as a failure (1.1.6 prints "ok").  Run the tests in a child and
 * pass its output on with those lines corrected; the exit status is the
 * child's (cmocka does not count skips in it). */
static int tap_fixed(const struct CMUnitTest *tests, size_t n)
{
    int p[2], st = 0;
    pid_t child;
    FILE *in;
    char line[4096], why[256] = "";

    fflush(stdout);
    if (pipe(p) != 0)
        return 1;
    child = fork();
    if (child == 0) {
        close(p[0]);
        dup2(p[1], 1);
        close(p[1]);
        /* exit, not _exit: the engine's atexit clean-up must run */
        exit(_cmocka_run_group_tests("tests", tests, n, NULL, NULL));
    }
    close(p[1]);
    if (child < 0)
        return 1;
    in = fdopen(p[0], "r");
    while (in && fgets(line, sizeof(line), in)) {
        unsigned num;
        int used = 0;

        if (strncmp(line, "# skip: ", 8) == 0) {
            /* the reason, said just before cmocka's line */
            snprintf(why, sizeof(why), "%s", line + 8);
            why[strcspn(why, "\n")] = '\0';
            continue;
        }
        if (sscanf(line, "not ok %u # SKIP%n", &num, &used) == 1 && used > 0)
            printf("ok %u # SKIP %s:%s", num, why[0] ? why : "skipped",
                   line + used);
        else
            fputs(line, stdout);
        fflush(stdout);
    }
    if (in)
        fclose(in);
    while (waitpid(child, &st, 0) < 0 && errno == EINTR)
        ;
    return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_docker_demux_split_at_every_byte),
        cmocka_unit_test(test_docker_demux_byte_by_byte),
        cmocka_unit_test(test_docker_demux_rejects_bad_stream_byte),
        cmocka_unit_test(test_docker_demux_rejects_nonzero_padding),
        cmocka_unit_test(test_docker_demux_large_frame_streams),
        cmocka_unit_test(test_docker_jsonl_split_and_glued),
        cmocka_unit_test(test_docker_jsonl_errors),
        cmocka_unit_test(test_docker_progress_text),
        cmocka_unit_test(test_docker_ignore_match_one),
        cmocka_unit_test(test_docker_ignore_file_semantics),
        cmocka_unit_test(test_docker_ignore_bad_patterns),
        cmocka_unit_test(test_docker_context_tar_honours_dockerignore),
        cmocka_unit_test(test_docker_auth_header_encoding),
        cmocka_unit_test(test_docker_registry_config_maps_registry),
        cmocka_unit_test(test_docker_auth_refused_recognises_registries),
        cmocka_unit_test(test_docker_owner_is_this_process),
        cmocka_unit_test(test_docker_owner_dead_and_foreign),
        cmocka_unit_test(test_docker_check_ref),
        cmocka_unit_test(test_docker_query_encoding),
        cmocka_unit_test(test_docker_lower_first),
        cmocka_unit_test(test_docker_open_no_socket),
        cmocka_unit_test(test_docker_open_refused),
        cmocka_unit_test(test_docker_open_bad_hosts),
        cmocka_unit_test(test_docker_negotiates_with_fake_engines),
        cmocka_unit_test(test_docker_ping_negotiates),
        cmocka_unit_test(test_docker_call_errors_carry_message),
        cmocka_unit_test(test_docker_container_lifecycle),
        cmocka_unit_test(test_docker_container_stop_and_list),
        cmocka_unit_test(test_docker_exec_streams_and_codes),
        cmocka_unit_test(test_docker_exec_output_streams_live),
        cmocka_unit_test(test_docker_network_alias_resolves),
        cmocka_unit_test(test_docker_reap_orphans),
        cmocka_unit_test(test_docker_missing_image_is_clear),
        cmocka_unit_test(test_docker_build_with_dockerignore),
        cmocka_unit_test(test_docker_build_failure_is_invalid),
        cmocka_unit_test(test_docker_push_digest_pull_by_digest),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return tap_fixed(tests, sizeof(tests) / sizeof(tests[0]));
}
