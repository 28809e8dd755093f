/* artifact_export_test: artifact_list and artifact_export_tar — listing a
 * scope, ustar archives read back with the system's tar(1) and by hand
 * (prefix field, pax headers, checksums), damaged blobs and manifests. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "exec/artifact.h"
#include "exec/workspace.h"
#include "util/buf.h"
#include "util/xalloc.h"

#define SCOPE "run-7"

struct fixture {
    char *t;     /* temp root, removed at teardown */
    char *home;  /* t/home: the store */
    char *src;   /* t/src: files to save */
    char *x;     /* t/x: where tar(1) extracts */
    char *tarf;  /* t/out.tar */
    char *big;   /* contents of the large file */
    struct artifact_store *s;
};

/* The files of the "app" artifact, relative to src/dist/app (as stored). */
#define LONG_DIR "abcdefghijklmnopqrstuvwxyz0123456789ABCD" /* 40 bytes */
#define PREFIXED LONG_DIR "/" LONG_DIR "/" LONG_DIR "/medium-name.txt"
#define DEEP_DIR "0123456789012345678901234567890123456789012345678/"
#define PAXED DEEP_DIR DEEP_DIR DEEP_DIR DEEP_DIR DEEP_DIR DEEP_DIR "deep.txt"
#define LONG_BASE                                                          \
    "n123456789n123456789n123456789n123456789n123456789n123456789"         \
    "n123456789n123456789n123456789n123456789n1234.txt"
#define BIG_SIZE (300u * 1024u + 17u)

struct app_file {
    const char *path;
    const char *text; /* NULL: the big file */
    mode_t mode;
};

static const struct app_file app_files[] = {
    { "bin/run.sh", "#!/bin/sh\necho hi\n", 0755 },
    { "lib/data/values.txt", "1 2 3\n", 0644 },
    { "empty", "", 0600 },
    { "big.bin", NULL, 0640 },
    { PREFIXED, "prefixed\n", 0644 },
    { PAXED, "deep\n", 0644 },
    { LONG_BASE, "long base name\n", 0644 },
};
#define N_APP (sizeof(app_files) / sizeof(app_files[0]))

static void put(const char *dir, const char *rel, const char *text,
                size_t len, mode_t mode)
{
    char *p = xasprintf("%s/%s", dir, rel);
    char *slash = strrchr(p, '/');
    struct ferr err;
    int fd;

    ferr_clear(&err);
    *slash = '\0';
    assert_int_equal(workspace_mkdirs(p, &err), FERR_OK);
    *slash = '/';
    fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, text, len), (ssize_t)len);
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    free(p);
}

static const char *app_text(const struct fixture *f,
                            const struct app_file *a, size_t *out_len)
{
    *out_len = a->text ? strlen(a->text) : BIG_SIZE;
    return a->text ? a->text : f->big;
}

static uint64_t app_bytes(const struct fixture *f)
{
    uint64_t sum = 0;

    for (size_t i = 0; i < N_APP; i++) {
        size_t len;

        app_text(f, &app_files[i], &len);
        sum += len;
    }
    return sum;
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *base = getenv("TMPDIR");
    struct ferr err;

    f->t = xasprintf("%s/artifact-export-XXXXXX",
                     base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(f->t));
    f->home = xasprintf("%s/home", f->t);
    f->src = xasprintf("%s/src", f->t);
    f->x = xasprintf("%s/x", f->t);
    f->tarf = xasprintf("%s/out.tar", f->t);
    assert_int_equal(mkdir(f->src, 0755), 0);
    assert_int_equal(mkdir(f->x, 0755), 0);
    f->big = xmalloc(BIG_SIZE);
    for (size_t i = 0; i < BIG_SIZE; i++)
        f->big[i] = (char)((i * 7919u + (i >> 9)) & 0xff);
    ferr_clear(&err);
    assert_int_equal(artifact_store_open(f->home, &f->s, &err), FERR_OK);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    artifact_store_free(f->s);
    ferr_clear(&err);
    assert_int_equal(workspace_rmtree(f->t, &err), FERR_OK);
    free(f->t);
    free(f->home);
    free(f->src);
    free(f->x);
    free(f->tarf);
    free(f->big);
    free(f);
    return 0;
}

/* Save the "app" artifact (all of app_files) and "notes" (one file). */
static void save_app(struct fixture *f)
{
    struct artifact_stats st;
    struct ferr err;

    for (size_t i = 0; i < N_APP; i++) {
        char *rel = xasprintf("dist/app/%s", app_files[i].path);
        size_t len;
        const char *text = app_text(f, &app_files[i], &len);

        put(f->src, rel, text, len, app_files[i].mode);
        free(rel);
    }
    put(f->src, "notes/README.md", "# notes\n", 8, 0644);
    ferr_clear(&err);
    assert_int_equal(artifact_save(f->s, ARTIFACT_UPLOAD, SCOPE, "app",
                                   f->src, "dist/app", false, &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, N_APP);
    assert_int_equal(artifact_save(f->s, ARTIFACT_UPLOAD, SCOPE, "notes",
                                   f->src, "notes/README.md", false, &st,
                                   &err),
                     FERR_OK);
}

/* Export @name into f->tarf; returns the code, *out_bytes the size. */
static enum ferr_code export_file(struct fixture *f, const char *scope,
                                  const char *name, uint64_t *out_bytes,
                                  struct ferr *err)
{
    enum ferr_code rc;
    int fd = open(f->tarf, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

    assert_true(fd >= 0);
    ferr_clear(err);
    rc = artifact_export_tar(f->s, scope, name, fd, out_bytes, err);
    assert_int_equal(close(fd), 0);
    return rc;
}

/* Run tar(1) with @args (NULL-terminated, after "tar"), stdin from @in
 * (-1: /dev/null); stdout and stderr into *@out when not NULL.  Returns
 * the exit status. */
static int run_tar(const char *const *args, int in, char **out)
{
    const char *argv[16];
    struct buf b;
    size_t n = 0;
    int pfd[2];
    int status;
    pid_t pid;

    argv[n++] = "tar";
    while (*args && n < 15)
        argv[n++] = *args++;
    argv[n] = NULL;
    buf_init(&b, 1u << 20);
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int devnull = open("/dev/null", O_RDONLY);

        dup2(in >= 0 ? in : devnull, 0);
        dup2(pfd[1], 1);
        dup2(pfd[1], 2);
        execvp("tar", (char *const *)argv);
        _exit(127);
    }
    close(pfd[1]);
    for (;;) {
        char tmp[4096];
        ssize_t r = read(pfd[0], tmp, sizeof(tmp));

        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        assert_int_equal(buf_add(&b, tmp, (size_t)r), FERR_OK);
    }
    close(pfd[0]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    if (out)
        *out = buf_take(&b, NULL);
    buf_release(&b);
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static char *read_all(const char *path, size_t *out_len)
{
    char *text = NULL;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_read_file(path, 64u << 20, &text, out_len,
                                         &err),
                     FERR_OK);
    return text;
}

/* Every app file extracted below @dir with its contents and mode. */
static void expect_app_tree(const struct fixture *f, const char *dir)
{
    for (size_t i = 0; i < N_APP; i++) {
        char *p = xasprintf("%s/%s", dir, app_files[i].path);
        struct stat st;
        size_t want_len;
        const char *want = app_text(f, &app_files[i], &want_len);
        size_t len;
        char *got;

        if (lstat(p, &st) < 0)
            fail_msg("missing '%s'", app_files[i].path);
        assert_true(S_ISREG(st.st_mode));
        assert_int_equal(st.st_mode & 07777, app_files[i].mode);
        got = read_all(p, &len);
        assert_int_equal(len, want_len);
        assert_memory_equal(got, want, len);
        free(got);
        free(p);
    }
}

static void write_manifest_text(const struct fixture *f, const char *file,
                                const char *text)
{
    char *dir = xasprintf("%s/artifacts/%s", f->home, SCOPE);
    char *p = xasprintf("%s/%s", dir, file);
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(dir, &err), FERR_OK);
    assert_int_equal(workspace_write_file(p, text, strlen(text), &err),
                     FERR_OK);
    free(p);
    free(dir);
}

static void sha256_of(const char *text, size_t len, char out[65])
{
    unsigned char md[32];
    unsigned mdlen = 0;

    EVP_Digest(text, len, md, &mdlen, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static int64_t now_ms(void)
{
    struct timeval tv;

    gettimeofday(&tv, NULL);
    return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* ---- list ------------------------------------------------------------- */

static void test_artifact_export_list_names_counts_bytes(void **state)
{
    struct fixture *f = *state;
    struct artifact_info *v = NULL;
    size_t n = 0;
    struct ferr err;
    int64_t before = now_ms();

    save_app(f);
    ferr_clear(&err);
    assert_int_equal(artifact_list(f->s, SCOPE, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 2);
    /* sorted by name */
    assert_string_equal(v[0].name, "app");
    assert_int_equal(v[0].files, N_APP);
    assert_int_equal(v[0].bytes, app_bytes(f));
    assert_string_equal(v[1].name, "notes");
    assert_int_equal(v[1].files, 1);
    assert_int_equal(v[1].bytes, 8);
    for (size_t i = 0; i < n; i++) {
        /* file times may trail the clock by a tick */
        assert_true(v[i].created_ms >= before - 2000);
        assert_true(v[i].created_ms <= now_ms() + 2000);
    }
    artifact_infos_free(v, n);
}

static void test_artifact_export_list_unknown_scope_is_empty(void **state)
{
    struct fixture *f = *state;
    struct artifact_info *v = (struct artifact_info *)&v;
    size_t n = 99;
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(artifact_list(f->s, "run-404", &v, &n, &err), FERR_OK);
    assert_null(v);
    assert_int_equal(n, 0);
    artifact_infos_free(NULL, 0);
}

static void test_artifact_export_list_rejects_bad_scope(void **state)
{
    static const char *const bad[] = { "", "../run-1", "/abs", "a//b",
                                       "a/./b", "a/" };
    struct fixture *f = *state;
    struct artifact_info *v;
    size_t n;
    struct ferr err;

    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        ferr_clear(&err);
        assert_int_equal(artifact_list(f->s, bad[i], &v, &n, &err),
                         FERR_INVALID);
        assert_null(v);
        assert_int_equal(n, 0);
    }
    ferr_clear(&err);
    assert_int_equal(artifact_list(f->s, NULL, &v, &n, &err), FERR_INVALID);
}

static void test_artifact_export_list_skips_damaged_and_foreign(void **state)
{
    struct fixture *f = *state;
    struct artifact_info *v = NULL;
    size_t n = 0;
    struct ferr err;
    char *sub;

    save_app(f);
    write_manifest_text(f, "broken.json", "{\"files\": [");
    write_manifest_text(f, "unsafe.json",
                        "{\"files\":[{\"path\":\"../x\",\"sha256\":\"00\","
                        "\"mode\":420,\"size\":1}]}");
    write_manifest_text(f, "nofiles.json", "{\"name\":\"nofiles\"}");
    write_manifest_text(f, "README.txt", "not a manifest");
    write_manifest_text(f, ".manifest.a1b2c3", "{\"files\":[]}");
    write_manifest_text(f, "bad:name.json", "{\"files\":[]}");
    write_manifest_text(f, "zempty.json", "{\"files\":[]}");
    sub = xasprintf("%s/artifacts/%s/nested.json", f->home, SCOPE);
    assert_int_equal(mkdir(sub, 0755), 0);
    free(sub);
    ferr_clear(&err);
    assert_int_equal(artifact_list(f->s, SCOPE, &v, &n, &err), FERR_OK);
    assert_int_equal(n, 3);
    assert_string_equal(v[0].name, "app");
    assert_string_equal(v[1].name, "notes");
    assert_string_equal(v[2].name, "zempty");
    assert_int_equal(v[2].files, 0);
    assert_int_equal(v[2].bytes, 0);
    artifact_infos_free(v, n);
}

/* ---- export ----------------------------------------------------------- */

static void test_artifact_export_tar_extracts_with_tar(void **state)
{
    struct fixture *f = *state;
    const char *xargs[] = { "-xpf", f->tarf, "-C", f->x, NULL };
    struct ferr err;
    struct stat st;
    uint64_t bytes = 0;
    char *out = NULL;

    save_app(f);
    assert_int_equal(export_file(f, SCOPE, "app", &bytes, &err), FERR_OK);
    assert_int_equal(stat(f->tarf, &st), 0);
    assert_int_equal((uint64_t)st.st_size, bytes);
    assert_int_equal(bytes % 10240, 0);
    assert_int_equal(run_tar(xargs, -1, &out), 0);
    assert_string_equal(out, ""); /* no warnings either */
    free(out);
    expect_app_tree(f, f->x);
}

static void test_artifact_export_tar_lists_modes_and_paths(void **state)
{
    struct fixture *f = *state;
    const char *targs[] = { "-tvf", f->tarf, NULL };
    struct ferr err;
    uint64_t bytes = 0;
    char *out = NULL;
    size_t lines = 0;

    save_app(f);
    assert_int_equal(export_file(f, SCOPE, "app", &bytes, &err), FERR_OK);
    assert_int_equal(run_tar(targs, -1, &out), 0);
    assert_null(strstr(out, "tar:"));
    for (const char *c = out; (c = strchr(c, '\n')); c++)
        lines++;
    assert_int_equal(lines, N_APP); /* files only: directories implied */
    for (size_t i = 0; i < N_APP; i++) {
        const char *want = app_files[i].mode == 0755   ? "-rwxr-xr-x"
                           : app_files[i].mode == 0600 ? "-rw-------"
                           : app_files[i].mode == 0640 ? "-rw-r-----"
                                                       : "-rw-r--r--";
        char *tail = xasprintf(" %s\n", app_files[i].path);
        const char *hit = strstr(out, tail);
        const char *line;

        if (!hit)
            fail_msg("'%s' not listed in:\n%s", app_files[i].path, out);
        line = hit;
        while (line > out && line[-1] != '\n')
            line--;
        size_t want_len;
        const char *owner;

        assert_memory_equal(line, want, 10);
        owner = strstr(line, " 0/0 ");
        assert_true(owner && owner < hit);
        app_text(f, &app_files[i], &want_len);
        assert_int_equal(strtoull(owner + 5, NULL, 10), want_len);
        free(tail);
    }
    free(out);
}

/* The index of @path in app_files; fails when it is not there. */
static size_t app_index(const char *path)
{
    for (size_t i = 0; i < N_APP; i++)
        if (!strcmp(app_files[i].path, path))
            return i;
    fail_msg("unexpected path '%s'", path);
    return 0;
}

static uint64_t octal_field(const unsigned char *p, size_t n)
{
    uint64_t v = 0;

    for (size_t i = 0; i < n && p[i] >= '0' && p[i] <= '7'; i++)
        v = v * 8 + (uint64_t)(p[i] - '0');
    return v;
}

static void test_artifact_export_tar_uses_prefix_and_pax(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    uint64_t bytes = 0;
    unsigned char *a;
    size_t len;
    size_t off = 0;
    size_t files = 0;
    bool saw_prefix = false;
    size_t pax_paths = 0;
    char *pending = NULL;

    save_app(f);
    assert_int_equal(export_file(f, SCOPE, "app", &bytes, &err), FERR_OK);
    a = (unsigned char *)read_all(f->tarf, &len);
    assert_int_equal(len, bytes);
    for (;;) {
        const unsigned char *h = a + off;
        unsigned sum = 0;
        uint64_t size;
        bool zero = true;

        assert_true(off + 512 <= len);
        for (size_t i = 0; i < 512; i++)
            zero = zero && h[i] == 0;
        if (zero)
            break;
        for (size_t i = 0; i < 512; i++)
            sum += (i >= 148 && i < 156) ? ' ' : h[i];
        assert_int_equal(octal_field(h + 148, 8), sum);
        assert_memory_equal(h + 257, "ustar\0" "00", 8);
        size = octal_field(h + 124, 12);
        if (h[156] == 'x') {
            /* records "LEN key=value\n", LEN counting the whole record */
            const char *r = (const char *)h + 512;
            const char *end = r + size;

            while (r < end) {
                char *stop;
                unsigned long rl = strtoul(r, &stop, 10);

                assert_true(rl > 0 && r + rl <= end);
                assert_int_equal(r[rl - 1], '\n');
                if (!strncmp(stop, " path=", 6)) {
                    free(pending);
                    pending = xstrndup(stop + 6,
                                       (size_t)(r + rl - 1 - (stop + 6)));
                }
                r += rl;
            }
        } else {
            char name[101] = { 0 };
            char prefix[156] = { 0 };
            char *full;
            size_t k;

            assert_int_equal(h[156], '0');
            memcpy(name, h, 100);
            memcpy(prefix, h + 345, 155);
            full = pending ? xstrdup(pending)
                   : *prefix ? xasprintf("%s/%s", prefix, name)
                             : xstrdup(name);
            if (*prefix) {
                assert_string_equal(full, PREFIXED);
                saw_prefix = true;
            }
            if (pending)
                pax_paths++;
            k = app_index(full);
            assert_int_equal(octal_field(h + 100, 8), app_files[k].mode);
            assert_int_equal(octal_field(h + 108, 8), 0); /* uid */
            assert_int_equal(octal_field(h + 116, 8), 0); /* gid */
            files++;
            free(full);
            free(pending);
            pending = NULL;
        }
        off += 512 + (size + 511) / 512 * 512;
    }
    /* two zero blocks, then zeros to the record's end */
    for (size_t i = off; i < len; i++)
        assert_int_equal(a[i], 0);
    assert_true(len - off >= 1024);
    assert_int_equal(files, N_APP);
    assert_true(saw_prefix);
    assert_int_equal(pax_paths, 2); /* PAXED and LONG_BASE */
    free(a);
}

static void test_artifact_export_tar_streams_to_pipe(void **state)
{
    struct fixture *f = *state;
    const char *xargs[] = { "tar", "-xpf", "-", "-C", f->x, NULL };
    struct ferr err;
    uint64_t bytes = 0;
    int pfd[2];
    int status;
    pid_t pid;

    save_app(f);
    assert_int_equal(pipe2(pfd, O_CLOEXEC), 0);
    /* a reader in a child: the archive is larger than a pipe holds */
    pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(pfd[0], 0);
        execvp("tar", (char *const *)xargs);
        _exit(127);
    }
    close(pfd[0]);
    ferr_clear(&err);
    assert_int_equal(artifact_export_tar(f->s, SCOPE, "app", pfd[1], &bytes,
                                         &err),
                     FERR_OK);
    close(pfd[1]);
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    assert_true(bytes > BIG_SIZE);
    expect_app_tree(f, f->x);
}

static void test_artifact_export_tar_single_file(void **state)
{
    struct fixture *f = *state;
    const char *xargs[] = { "-xf", f->tarf, "-C", f->x, NULL };
    struct ferr err;
    uint64_t bytes = 0;
    size_t len;
    char *p;
    char *got;

    save_app(f);
    assert_int_equal(export_file(f, SCOPE, "notes", &bytes, &err), FERR_OK);
    assert_int_equal(bytes, 10240);
    assert_int_equal(run_tar(xargs, -1, NULL), 0);
    p = xasprintf("%s/README.md", f->x);
    got = read_all(p, &len);
    assert_string_equal(got, "# notes\n");
    free(got);
    free(p);
}

static void test_artifact_export_tar_tampered_blob_fails(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    uint64_t bytes = 7;
    char sha[65];
    char *blob;
    int fd;

    save_app(f);
    sha256_of("#!/bin/sh\necho hi\n", 18, sha);
    blob = xasprintf("%s/blobs/%s", f->home, sha);
    assert_int_equal(chmod(blob, 0644), 0);
    fd = open(blob, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "#!/bin/sh\necho HI\n", 18), 18);
    close(fd);
    assert_int_equal(export_file(f, SCOPE, "app", &bytes, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "damaged"));
    assert_non_null(strstr(err.msg, sha));
    assert_int_equal(bytes, 0);
    /* as artifact_restore: the damaged blob is gone */
    assert_int_equal(access(blob, F_OK), -1);
    free(blob);
}

static void test_artifact_export_tar_missing_blob_fails(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    uint64_t bytes = 7;
    char sha[65];
    char *blob;

    save_app(f);
    sha256_of("# notes\n", 8, sha);
    blob = xasprintf("%s/blobs/%s", f->home, sha);
    assert_int_equal(unlink(blob), 0);
    assert_int_equal(export_file(f, SCOPE, "notes", &bytes, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "missing blob"));
    assert_int_equal(bytes, 0);
    free(blob);
}

static void test_artifact_export_tar_unknown_or_bad_name(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    uint64_t bytes = 7;

    save_app(f);
    assert_int_equal(export_file(f, SCOPE, "nope", &bytes, &err),
                     FERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "'nope'"));
    assert_int_equal(bytes, 0);
    assert_int_equal(export_file(f, "run-404", "app", &bytes, &err),
                     FERR_NOTFOUND);
    assert_int_equal(export_file(f, SCOPE, "a/b", &bytes, &err),
                     FERR_INVALID);
    assert_int_equal(export_file(f, SCOPE, "..", &bytes, &err),
                     FERR_INVALID);
    assert_int_equal(export_file(f, "../" SCOPE, "app", &bytes, &err),
                     FERR_INVALID);
}

/* A hand-written manifest "evil" whose one or two entries are @entries;
 * export must refuse it with @want and write nothing. */
static void expect_refused(struct fixture *f, const char *entries,
                           enum ferr_code want)
{
    char *text = xasprintf("{\"version\":1,\"kind\":\"artifact\","
                           "\"name\":\"evil\",\"files\":[%s]}",
                           entries);
    struct ferr err;
    struct stat st;
    uint64_t bytes = 7;

    write_manifest_text(f, "evil.json", text);
    if (export_file(f, SCOPE, "evil", &bytes, &err) != want)
        fail_msg("'%s': got '%s'", entries, err.msg);
    assert_int_equal(bytes, 0);
    if (want != FERR_IO) {
        assert_int_equal(stat(f->tarf, &st), 0);
        assert_int_equal(st.st_size, 0);
    }
    free(text);
}

static void test_artifact_export_tar_refuses_unsafe_manifest(void **state)
{
    struct fixture *f = *state;
    char sha[65];
    char *ok;
    char *e;

    save_app(f);
    sha256_of("# notes\n", 8, sha);
    ok = xasprintf("\"sha256\":\"%s\",\"mode\":420,\"size\":8", sha);
#define ENTRY(path) "{\"path\":\"" path "\",%s}"
    e = xasprintf(ENTRY("../escape"), ok);
    expect_refused(f, e, FERR_INVALID);
    free(e);
    e = xasprintf(ENTRY("/etc/passwd"), ok);
    expect_refused(f, e, FERR_INVALID);
    free(e);
    e = xasprintf(ENTRY("a/./b"), ok);
    expect_refused(f, e, FERR_INVALID);
    free(e);
    e = xasprintf(ENTRY("a//b"), ok);
    expect_refused(f, e, FERR_INVALID);
    free(e);
    e = xasprintf(ENTRY("dup") "," ENTRY("dup"), ok, ok);
    expect_refused(f, e, FERR_INVALID);
    free(e);
    /* "a" both a file and the directory of "a/b" ("a-z" sorts between) */
    e = xasprintf(ENTRY("a") "," ENTRY("a-z") "," ENTRY("a/b"), ok, ok, ok);
    expect_refused(f, e, FERR_INVALID);
    free(e);
    expect_refused(f, "{\"path\":\"l\",\"link\":\"/etc\"}", FERR_INVALID);
    expect_refused(f, "{\"path\":\"m\",\"sha256\":\"../../x\",\"mode\":420,"
                      "\"size\":1}",
                   FERR_INVALID);
    e = xasprintf("{\"path\":\"big\",\"sha256\":\"%s\",\"mode\":4095,"
                  "\"size\":8}",
                  sha);
    expect_refused(f, e, FERR_INVALID); /* mode beyond 0777 */
    free(e);
    write_manifest_text(f, "evil.json", "{\"files\":");
    assert_int_equal(export_file(f, SCOPE, "evil", &(uint64_t){ 0 },
                                 &(struct ferr){ 0 }),
                     FERR_PARSE);
#undef ENTRY
    free(ok);
}

static void test_artifact_export_tar_wrong_size_in_manifest(void **state)
{
    struct fixture *f = *state;
    struct ferr err;
    uint64_t bytes = 7;
    char sha[65];
    char *text;
    char *blob;

    save_app(f);
    sha256_of("# notes\n", 8, sha);
    text = xasprintf("{\"files\":[{\"path\":\"n\",\"sha256\":\"%s\","
                     "\"mode\":420,\"size\":9}]}",
                     sha);
    write_manifest_text(f, "evil.json", text);
    assert_int_equal(export_file(f, SCOPE, "evil", &bytes, &err),
                     FERR_INVALID);
    assert_non_null(strstr(err.msg, "wrong size"));
    assert_int_equal(bytes, 0);
    /* the blob itself is sound: it stays */
    blob = xasprintf("%s/blobs/%s", f->home, sha);
    assert_int_equal(access(blob, F_OK), 0);
    free(blob);
    free(text);
}

static void test_artifact_export_tar_empty_manifest(void **state)
{
    struct fixture *f = *state;
    const char *targs[] = { "-tf", f->tarf, NULL };
    struct ferr err;
    uint64_t bytes = 0;
    char *out = NULL;

    write_manifest_text(f, "none.json", "{\"files\":[]}");
    assert_int_equal(export_file(f, SCOPE, "none", &bytes, &err), FERR_OK);
    assert_int_equal(bytes, 10240);
    assert_int_equal(run_tar(targs, -1, &out), 0);
    assert_string_equal(out, "");
    free(out);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
    const struct CMUnitTest tests[] = {
        T(test_artifact_export_list_names_counts_bytes),
        T(test_artifact_export_list_unknown_scope_is_empty),
        T(test_artifact_export_list_rejects_bad_scope),
        T(test_artifact_export_list_skips_damaged_and_foreign),
        T(test_artifact_export_tar_extracts_with_tar),
        T(test_artifact_export_tar_lists_modes_and_paths),
        T(test_artifact_export_tar_uses_prefix_and_pax),
        T(test_artifact_export_tar_streams_to_pipe),
        T(test_artifact_export_tar_single_file),
        T(test_artifact_export_tar_tampered_blob_fails),
        T(test_artifact_export_tar_missing_blob_fails),
        T(test_artifact_export_tar_unknown_or_bad_name),
        T(test_artifact_export_tar_refuses_unsafe_manifest),
        T(test_artifact_export_tar_wrong_size_in_manifest),
        T(test_artifact_export_tar_empty_manifest),
    };
#undef T

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
