/* artifact_test: the content-addressed store — save/restore round trips,
 * path selection, name checks, tampered manifests, caches, hashFiles —
 * against real temporary directories. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/artifact.h"
#include "exec/workspace.h"
#include "util/limits.h"
#include "util/xalloc.h"

struct fixture {
    char *t;                    /* temp root, removed at teardown */
    char *home;                 /* t/home: the store */
    char *src;                  /* t/src: files to save */
    char *dest;                 /* t/dest: restore target */
    struct artifact_store *s;
};

static void put(const char *dir, const char *rel, const char *text,
                mode_t mode)
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
    assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    assert_int_equal(fchmod(fd, mode), 0);
    close(fd);
    free(p);
}

/* Contents of @dir/@rel, or NULL when missing. */
static char *get(const char *dir, const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    char *out = NULL;
    size_t len;
    struct ferr err;

    ferr_clear(&err);
    if (workspace_read_file(p, 1 << 20, &out, &len, &err))
        out = NULL;
    free(p);
    return out;
}

static bool exists(const char *dir, const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    struct stat st;
    bool ok = lstat(p, &st) == 0;

    free(p);
    return ok;
}

static mode_t mode_of(const char *dir, const char *rel)
{
    char *p = xasprintf("%s/%s", dir, rel);
    struct stat st;

    assert_int_equal(lstat(p, &st), 0);
    free(p);
    return st.st_mode & 07777;
}

static void expect_file(const char *dir, const char *rel, const char *want)
{
    char *got = get(dir, rel);

    if (!got)
        fail_msg("missing '%s'", rel);
    assert_string_equal(got, want);
    free(got);
}

static int setup(void **state)
{
    struct fixture *f = xcalloc(1, sizeof(*f));
    const char *base = getenv("TMPDIR");
    struct ferr err;

    f->t = xasprintf("%s/artifact-test-XXXXXX",
                     base && *base ? base : "/tmp");
    assert_non_null(mkdtemp(f->t));
    f->home = xasprintf("%s/home", f->t);
    f->src = xasprintf("%s/src", f->t);
    f->dest = xasprintf("%s/dest", f->t);
    assert_int_equal(mkdir(f->src, 0755), 0);
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
    free(f->dest);
    free(f);
    return 0;
}

static enum ferr_code save(struct fixture *f, enum artifact_kind kind,
                           const char *name, const char *paths,
                           struct artifact_stats *st, struct ferr *err)
{
    ferr_clear(err);
    return artifact_save(f->s, kind, "run-1", name, f->src, paths, false, st,
                         err);
}

static enum ferr_code restore(struct fixture *f, enum artifact_kind kind,
                              const char *name, struct ferr *err)
{
    struct artifact_stats st;

    ferr_clear(err);
    return artifact_restore(f->s, kind, "run-1", name, f->dest, &st, err);
}

static void test_artifact_round_trip_modes_and_dirs(void **state)
{
    struct fixture *f = *state;
    struct artifact_stats st;
    struct ferr err;

    put(f->src, "dist/app.js", "console.log(1)\n", 0644);
    put(f->src, "dist/bin/run", "#!/bin/sh\necho hi\n", 0755);
    put(f->src, "dist/deep/er/still/x.txt", "x\n", 0600);
    put(f->src, "other.txt", "not saved\n", 0644);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "build", "dist", &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 3);
    assert_int_equal(st.bytes, 15 + 18 + 2);
    assert_int_equal(st.new_blobs, 3);
    assert_true(artifact_exists(f->s, ARTIFACT_UPLOAD, "run-1", "build"));

    ferr_clear(&err);
    assert_int_equal(artifact_restore(f->s, ARTIFACT_UPLOAD, "run-1",
                                      "build", f->dest, &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 3);
    assert_int_equal(st.bytes, 35);
    /* one directory line: stored relative to it, as upload-artifact */
    expect_file(f->dest, "app.js", "console.log(1)\n");
    expect_file(f->dest, "bin/run", "#!/bin/sh\necho hi\n");
    expect_file(f->dest, "deep/er/still/x.txt", "x\n");
    assert_int_equal(mode_of(f->dest, "bin/run"), 0755);
    assert_int_equal(mode_of(f->dest, "deep/er/still/x.txt"), 0600);
    assert_false(exists(f->dest, "other.txt"));
}

static void test_artifact_stored_paths_follow_upload_artifact(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    put(f->src, "out/a/one.txt", "1", 0644);
    put(f->src, "out/b/two.txt", "2", 0644);
    put(f->src, "single/file.bin", "s", 0644);
    /* several lines: relative to their least common ancestor */
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "multi", "out/a\nout/b/two.txt",
                          NULL, &err),
                     FERR_OK);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "multi", &err), FERR_OK);
    expect_file(f->dest, "a/one.txt", "1");
    expect_file(f->dest, "b/two.txt", "2");
    /* a single file line: just the file name */
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "one", "./single/file.bin",
                          NULL, &err),
                     FERR_OK);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "one", &err), FERR_OK);
    expect_file(f->dest, "file.bin", "s");
    /* a glob: relative to its literal leading directories */
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "glob", "out/*/*.txt", NULL,
                          &err),
                     FERR_OK);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "glob", &err), FERR_OK);
    expect_file(f->dest, "a/one.txt", "1");
}

static void test_artifact_dedup_counts_new_blobs(void **state)
{
    struct fixture *f = *state;
    struct artifact_stats st;
    struct ferr err;

    put(f->src, "a.txt", "same content\n", 0644);
    put(f->src, "b/c.txt", "same content\n", 0644);
    put(f->src, "d.txt", "different\n", 0644);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "first", "**/*.txt", &st,
                          &err),
                     FERR_OK);
    assert_int_equal(st.files, 3);
    assert_int_equal(st.new_blobs, 2);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "second", "a.txt\nd.txt", &st,
                          &err),
                     FERR_OK);
    assert_int_equal(st.files, 2);
    assert_int_equal(st.new_blobs, 0);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "first", &err), FERR_OK);
    expect_file(f->dest, "b/c.txt", "same content\n");
}

static void test_artifact_exclude_patterns(void **state)
{
    struct fixture *f = *state;
    struct artifact_stats st;
    struct ferr err;

    put(f->src, "dist/app.js", "js", 0644);
    put(f->src, "dist/app.js.map", "map", 0644);
    put(f->src, "dist/sub/lib.js", "lib", 0644);
    put(f->src, "dist/sub/lib.js.map", "map", 0644);
    put(f->src, "dist/tmp/scratch.js", "tmp", 0644);
    put(f->src, "dist/tmp/keep.js", "keep", 0644);
    assert_int_equal(save(f, ARTIFACT_CACHE, "k1",
                          "# build output\n"
                          "  dist  \n"
                          "!dist/**/*.map\n"
                          "\n"
                          "!dist/tmp\n"
                          "dist/tmp/keep.js\n",
                          &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 3);
    assert_int_equal(restore(f, ARTIFACT_CACHE, "k1", &err), FERR_OK);
    expect_file(f->dest, "dist/app.js", "js");
    expect_file(f->dest, "dist/sub/lib.js", "lib");
    expect_file(f->dest, "dist/tmp/keep.js", "keep");
    assert_false(exists(f->dest, "dist/app.js.map"));
    assert_false(exists(f->dest, "dist/sub/lib.js.map"));
    assert_false(exists(f->dest, "dist/tmp/scratch.js"));
}

static void test_artifact_nothing_matched(void **state)
{
    struct fixture *f = *state;
    struct ferr err;

    put(f->src, "a.txt", "a", 0644);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "none", "nope\n*.bin", NULL,
                          &err),
                     FERR_NOTFOUND);
    assert_false(artifact_exists(f->s, ARTIFACT_UPLOAD, "run-1", "none"));
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "none", "a.txt\n!a.txt", NULL,
                          &err),
                     FERR_NOTFOUND);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "none", "\n# only\n", NULL,
                          &err),
                     FERR_INVALID);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "none", &err),
                     FERR_NOTFOUND);
}

static void test_artifact_bad_names(void **state)
{
    static const char *const bad[] = {
        "", "a/b", "a:b", "a<b", "a>b", "a|b", "a*b", "a?b", "a\"b",
        "a\\b", "line\nbreak", "cr\r", "..", ".", "/abs",
    };
    struct fixture *f = *state;
    char *longname = xmalloc(LIM_ARTIFACT_NAME + 2);
    struct ferr err;

    put(f->src, "a.txt", "a", 0644);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (save(f, ARTIFACT_UPLOAD, bad[i], "a.txt", NULL, &err) !=
            FERR_INVALID)
            fail_msg("name '%s' was accepted", bad[i]);
        assert_false(artifact_exists(f->s, ARTIFACT_UPLOAD, "run-1", bad[i]));
    }
    memset(longname, 'n', LIM_ARTIFACT_NAME + 1);
    longname[LIM_ARTIFACT_NAME + 1] = '\0';
    assert_int_equal(save(f, ARTIFACT_UPLOAD, longname, "a.txt", NULL, &err),
                     FERR_INVALID);
    longname[LIM_ARTIFACT_NAME] = '\0';
    assert_int_equal(save(f, ARTIFACT_UPLOAD, longname, "a.txt", NULL, &err),
                     FERR_OK);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "my-artifact_1.0 (linux)",
                          "a.txt", NULL, &err),
                     FERR_OK);
    /* cache keys: anything but commas, up to the limit */
    assert_int_equal(save(f, ARTIFACT_CACHE, "Linux-npm-../../x:*?",
                          "a.txt", NULL, &err),
                     FERR_OK);
    assert_int_equal(save(f, ARTIFACT_CACHE, "a,b", "a.txt", NULL, &err),
                     FERR_INVALID);
    assert_int_equal(save(f, ARTIFACT_CACHE, "", "a.txt", NULL, &err),
                     FERR_INVALID);
    /* scopes are plain relative paths */
    ferr_clear(&err);
    assert_int_equal(artifact_save(f->s, ARTIFACT_UPLOAD, "../up", "x",
                                   f->src, "a.txt", false, NULL, &err),
                     FERR_INVALID);
    free(longname);
}

static void test_artifact_path_escaping(void **state)
{
    static const char *const bad[] = {
        "../x", "/etc/passwd", "a/../../x", "dist/../..", "ok.txt\n../x",
    };
    struct fixture *f = *state;
    struct ferr err;

    put(f->src, "a/b.txt", "b", 0644);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        if (save(f, ARTIFACT_UPLOAD, "x", bad[i], NULL, &err) !=
            FERR_INVALID)
            fail_msg("path '%s' was accepted: %s", bad[i], err.msg);
    }
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "x", "~/.npm", NULL, &err),
                     FERR_UNSUPPORTED);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "x", "a/[b", NULL, &err),
                     FERR_PARSE);
    /* ".." that stays inside the root is fine */
    assert_int_equal(save(f, ARTIFACT_CACHE, "x", "a/../a/b.txt", NULL,
                          &err),
                     FERR_OK);
}

static void write_manifest(struct fixture *f, const char *name,
                           const char *json)
{
    char *dir = xasprintf("%s/artifacts/run-1", f->home);
    char *p = xasprintf("%s/%s.json", dir, name);
    struct ferr err;

    ferr_clear(&err);
    assert_int_equal(workspace_mkdirs(dir, &err), FERR_OK);
    assert_int_equal(workspace_write_file(p, json, strlen(json), &err),
                     FERR_OK);
    free(p);
    free(dir);
}

static void test_artifact_tampered_manifest_refused(void **state)
{
    static const char *const unsafe[] = {
        "../x", "/abs", "a/../../x", "a//b", "./a", "a/.", "", "a/",
    };
    struct fixture *f = *state;
    struct artifact_stats st;
    char json[1024];
    char *outside = xasprintf("%s/x", f->t);
    struct ferr err;

    put(f->src, "a.txt", "a", 0644);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "good", "a.txt", &st, &err),
                     FERR_OK);
    for (size_t i = 0; i < sizeof(unsafe) / sizeof(unsafe[0]); i++) {
        /* a valid first entry: nothing may be written before the check */
        snprintf(json, sizeof(json),
                 "{\"files\":[{\"path\":\"first.txt\",\"sha256\":"
                 "\"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b9807785"
                 "afee48bb\",\"mode\":420,\"size\":1},"
                 "{\"path\":\"%s\",\"sha256\":\"ca978112ca1bbdcafac231b39a23"
                 "dc4da786eff8147c4e72b9807785afee48bb\",\"mode\":420,"
                 "\"size\":1}]}",
                 unsafe[i]);
        write_manifest(f, "evil", json);
        if (restore(f, ARTIFACT_UPLOAD, "evil", &err) != FERR_INVALID)
            fail_msg("path '%s' was restored", unsafe[i]);
        assert_false(exists(f->dest, "first.txt"));
    }
    assert_false(exists(f->t, "x"));
    /* a malformed hash cannot name a file outside blobs/ */
    write_manifest(f, "evil",
                   "{\"files\":[{\"path\":\"a\",\"sha256\":\"../../x\","
                   "\"mode\":420,\"size\":1}]}");
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "evil", &err),
                     FERR_INVALID);
    write_manifest(f, "evil", "not json");
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "evil", &err), FERR_PARSE);
    free(outside);
}

static void test_artifact_restore_never_writes_through_links(void **state)
{
    struct fixture *f = *state;
    char *outside = xasprintf("%s/outside", f->t);
    struct ferr err;

    assert_int_equal(mkdir(outside, 0755), 0);
    put(f->src, "a.txt", "a", 0644);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "good", "a.txt", NULL, &err),
                     FERR_OK);
    /* an entry makes "l" a link out of dest, the next writes below it */
    write_manifest(f, "evil",
                   "{\"files\":[{\"path\":\"l\",\"link\":\"../outside\"},"
                   "{\"path\":\"l/pwned\",\"sha256\":\"ca978112ca1bbdcafac231"
                   "b39a23dc4da786eff8147c4e72b9807785afee48bb\","
                   "\"mode\":420,\"size\":1}]}");
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "evil", &err), FERR_IO);
    assert_false(exists(outside, "pwned"));
    /* the same when dest already holds such a link */
    {
        char *lp = xasprintf("%s/l2", f->dest);

        assert_int_equal(symlink(outside, lp), 0);
        free(lp);
    }
    write_manifest(f, "evil2",
                   "{\"files\":[{\"path\":\"l2/pwned\",\"sha256\":"
                   "\"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b980"
                   "7785afee48bb\",\"mode\":420,\"size\":1}]}");
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "evil2", &err), FERR_IO);
    assert_false(exists(outside, "pwned"));
    /* a file entry that names an existing link replaces the link only */
    write_manifest(f, "evil3",
                   "{\"files\":[{\"path\":\"l2\",\"sha256\":"
                   "\"ca978112ca1bbdcafac231b39a23dc4da786eff8147c4e72b980"
                   "7785afee48bb\",\"mode\":420,\"size\":1}]}");
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "evil3", &err), FERR_OK);
    expect_file(f->dest, "l2", "a");
    assert_true(exists(f->t, "outside"));
    free(outside);
}

static void test_artifact_cache_keeps_links_and_if_absent(void **state)
{
    struct fixture *f = *state;
    struct artifact_stats st;
    char target[64];
    char *lp;
    ssize_t n;
    struct ferr err;

    put(f->src, "node_modules/pkg/cli.js", "v1", 0755);
    put(f->src, "node_modules/.bin/.keep", "", 0644);
    lp = xasprintf("%s/node_modules/.bin/cli", f->src);
    assert_int_equal(symlink("../pkg/cli.js", lp), 0);
    free(lp);
    ferr_clear(&err);
    assert_int_equal(artifact_save(f->s, ARTIFACT_CACHE, "ns",
                                   "Linux-node-abc", f->src, "node_modules",
                                   true, &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 3);
    put(f->src, "node_modules/pkg/cli.js", "v2", 0755);
    assert_int_equal(artifact_save(f->s, ARTIFACT_CACHE, "ns",
                                   "Linux-node-abc", f->src, "node_modules",
                                   true, &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 0); /* the first entry is kept */
    assert_true(artifact_exists(f->s, ARTIFACT_CACHE, "ns",
                                "Linux-node-abc"));
    assert_int_equal(artifact_restore(f->s, ARTIFACT_CACHE, "ns",
                                      "Linux-node-abc", f->dest, &st, &err),
                     FERR_OK);
    expect_file(f->dest, "node_modules/pkg/cli.js", "v1");
    assert_int_equal(mode_of(f->dest, "node_modules/pkg/cli.js"), 0755);
    lp = xasprintf("%s/node_modules/.bin/cli", f->dest);
    n = readlink(lp, target, sizeof(target) - 1);
    assert_true(n > 0);
    target[n] = '\0';
    assert_string_equal(target, "../pkg/cli.js");
    free(lp);
    /* without if_absent a save replaces the entry */
    assert_int_equal(artifact_save(f->s, ARTIFACT_CACHE, "ns",
                                   "Linux-node-abc", f->src, "node_modules",
                                   false, &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 3);
}

static void test_artifact_upload_symlinks(void **state)
{
    struct fixture *f = *state;
    struct artifact_stats st;
    char *lp;
    struct ferr err;

    put(f->src, "out/real.txt", "real", 0644);
    put(f->t, "secret.txt", "secret", 0644);
    lp = xasprintf("%s/out/inside", f->src);
    assert_int_equal(symlink("real.txt", lp), 0);
    free(lp);
    lp = xasprintf("%s/out/escape", f->src);
    assert_int_equal(symlink("../../secret.txt", lp), 0);
    free(lp);
    lp = xasprintf("%s/out/loop", f->src);
    assert_int_equal(symlink(".", lp), 0);
    free(lp);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "links", "out", &st, &err),
                     FERR_OK);
    assert_int_equal(st.files, 2);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "links", &err), FERR_OK);
    expect_file(f->dest, "inside", "real"); /* content, not a link */
    assert_false(exists(f->dest, "escape"));
    assert_false(exists(f->dest, "loop"));
}

static void test_artifact_corrupt_blob_detected(void **state)
{
    struct fixture *f = *state;
    char *blob;
    struct ferr err;
    int fd;

    put(f->src, "a.txt", "a", 0644);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "c", "a.txt", NULL, &err),
                     FERR_OK);
    blob = xasprintf("%s/blobs/ca978112ca1bbdcafac231b39a23dc4da786eff8147c"
                     "4e72b9807785afee48bb",
                     f->home);
    assert_int_equal(chmod(blob, 0644), 0);
    fd = open(blob, O_WRONLY | O_TRUNC | O_CLOEXEC);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, "b", 1), 1);
    close(fd);
    assert_int_equal(restore(f, ARTIFACT_UPLOAD, "c", &err), FERR_IO);
    assert_non_null(strstr(err.msg, "corrupt"));
    assert_false(exists(f->dest, "a.txt"));
    /* the damaged blob is gone, so the next save stores it afresh */
    assert_int_equal(access(blob, F_OK), -1);
    free(blob);
}

static void test_artifact_size_limit(void **state)
{
    struct fixture *f = *state;
    char *p = xasprintf("%s/huge.bin", f->src);
    struct ferr err;
    int fd;

    fd = open(p, O_WRONLY | O_CREAT | O_CLOEXEC, 0644);
    assert_true(fd >= 0);
    /* sparse: over the limit without using the disk */
    assert_int_equal(ftruncate(fd, (off_t)LIM_ARTIFACT_BYTES + 1), 0);
    close(fd);
    assert_int_equal(save(f, ARTIFACT_UPLOAD, "big", "huge.bin", NULL,
                          &err),
                     FERR_LIMIT);
    assert_false(artifact_exists(f->s, ARTIFACT_UPLOAD, "run-1", "big"));
    free(p);
}

/* hashFiles over @files' contents, computed independently. */
static void expected_hash(const char *const *contents, size_t n,
                          char out[65])
{
    unsigned char all[32 * 8];
    unsigned char md[32];
    unsigned len = 0;

    assert_true(n <= 8);
    for (size_t i = 0; i < n; i++)
        EVP_Digest(contents[i], strlen(contents[i]), all + 32 * i, &len,
                   EVP_sha256(), NULL);
    EVP_Digest(all, 32 * n, md, &len, EVP_sha256(), NULL);
    for (int i = 0; i < 32; i++)
        snprintf(out + 2 * i, 3, "%02x", md[i]);
}

static void test_artifact_hash_files(void **state)
{
    struct fixture *f = *state;
    const char *pats[] = { "**/package-lock.json", "!vendor/**" };
    const char *const contents[] = { "{\"a\":1}", "{\"b\":2}" };
    char h1[65];
    char h2[65];
    char want[65];
    char *abs;
    struct ferr err;

    put(f->src, "package-lock.json", "{\"a\":1}", 0644);
    put(f->src, "sub/package-lock.json", "{\"b\":2}", 0644);
    put(f->src, "vendor/package-lock.json", "{\"c\":3}", 0644);
    put(f->src, "README.md", "readme", 0644);
    ferr_clear(&err);
    assert_int_equal(artifact_hash_files(f->src, pats, 2, h1, &err),
                     FERR_OK);
    expected_hash(contents, 2, want);
    assert_string_equal(h1, want);
    assert_int_equal(strlen(h1), 64);
    assert_int_equal(artifact_hash_files(f->src, pats, 2, h2, &err),
                     FERR_OK);
    assert_string_equal(h1, h2); /* stable */
    put(f->src, "sub/package-lock.json", "{\"b\":3}", 0644);
    assert_int_equal(artifact_hash_files(f->src, pats, 2, h2, &err),
                     FERR_OK);
    assert_string_not_equal(h1, h2); /* a content change shows */
    /* an absolute pattern inside the root works like a relative one */
    abs = xasprintf("%s/README.md", f->src);
    {
        const char *one[] = { abs };
        const char *rel[] = { "README.md" };

        assert_int_equal(artifact_hash_files(f->src, one, 1, h1, &err),
                         FERR_OK);
        assert_int_equal(artifact_hash_files(f->src, rel, 1, h2, &err),
                         FERR_OK);
        assert_string_equal(h1, h2);
    }
    free(abs);
}

static void test_artifact_hash_files_no_match(void **state)
{
    struct fixture *f = *state;
    const char *pats[] = { "**/*.lock" };
    const char *bad[] = { "../outside/**" };
    char h[65] = "junk";
    struct ferr err;

    put(f->src, "a.txt", "a", 0644);
    ferr_clear(&err);
    assert_int_equal(artifact_hash_files(f->src, pats, 1, h, &err), FERR_OK);
    assert_string_equal(h, "");
    assert_int_equal(artifact_hash_files(f->src, NULL, 0, h, &err), FERR_OK);
    assert_string_equal(h, "");
    assert_int_equal(artifact_hash_files(f->src, bad, 1, h, &err),
                     FERR_INVALID);
    assert_string_equal(h, "");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_artifact_round_trip_modes_and_dirs),
        T(test_artifact_stored_paths_follow_upload_artifact),
        T(test_artifact_dedup_counts_new_blobs),
        T(test_artifact_exclude_patterns),
        T(test_artifact_nothing_matched),
        T(test_artifact_bad_names),
        T(test_artifact_path_escaping),
        T(test_artifact_tampered_manifest_refused),
        T(test_artifact_restore_never_writes_through_links),
        T(test_artifact_cache_keeps_links_and_if_absent),
        T(test_artifact_upload_symlinks),
        T(test_artifact_corrupt_blob_detected),
        T(test_artifact_size_limit),
        T(test_artifact_hash_files),
        T(test_artifact_hash_files_no_match),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
