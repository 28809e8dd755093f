/* crypto_test: SHA-256 and HMAC-SHA256 against published vectors (FIPS
 * 180-2 examples, RFC 4231), hex, randomness, the key file (creation,
 * mode, refusals) and sealing (round trip, wrong key, wrong aad, every
 * tampered byte). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "util/crypto.h"

static void hex_of(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
}

static void test_crypto_sha256_vectors(void **state)
{
    char out[65];

    (void)state;
    crypto_sha256_hex("abc", 3, out);
    assert_string_equal(
        out,
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    crypto_sha256_hex("", 0, out);
    assert_string_equal(
        out,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
    crypto_sha256_hex(NULL, 0, out);
    assert_string_equal(
        out,
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
}

static void test_crypto_hmac_rfc4231(void **state)
{
    unsigned char key[131];
    unsigned char mac[32];
    char hex[65];
    const char *d6 = "Test Using Larger Than Block-Size Key - Hash Key First";

    (void)state;
    memset(key, 0x0b, 20);
    crypto_hmac_sha256(key, 20, "Hi There", 8, mac);
    hex_of(mac, 32, hex);
    assert_string_equal(
        hex,
        "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");

    crypto_hmac_sha256("Jefe", 4, "what do ya want for nothing?", 28, mac);
    hex_of(mac, 32, hex);
    assert_string_equal(
        hex,
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");

    memset(key, 0xaa, sizeof(key));
    crypto_hmac_sha256(key, sizeof(key), d6, strlen(d6), mac);
    hex_of(mac, 32, hex);
    assert_string_equal(
        hex,
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static void test_crypto_hmac_empty_key_and_data(void **state)
{
    unsigned char mac[32];
    char hex[65];

    (void)state;
    crypto_hmac_sha256(NULL, 0, NULL, 0, mac);
    hex_of(mac, 32, hex);
    assert_string_equal(
        hex,
        "b613679a0814d9ec772f95d778c35fc5ff1697c493715653c6c712144292c5ad");
}

static void test_crypto_equal(void **state)
{
    (void)state;
    assert_true(crypto_equal("abcdef", "abcdef", 6));
    assert_false(crypto_equal("abcdef", "abcdeF", 6));
    assert_false(crypto_equal("xbcdef", "abcdef", 6));
    assert_true(crypto_equal("a", "b", 0));
}

static void test_crypto_random_fills(void **state)
{
    unsigned char a[64];
    unsigned char b[64];

    (void)state;
    memset(a, 0, sizeof(a));
    memset(b, 0, sizeof(b));
    assert_int_equal(crypto_random(a, sizeof(a)), FERR_OK);
    assert_int_equal(crypto_random(b, sizeof(b)), FERR_OK);
    assert_memory_not_equal(a, b, sizeof(a));
    assert_int_equal(crypto_random(a, 0), FERR_OK);
}

static void test_crypto_token_hex_shape(void **state)
{
    char t1[65];
    char t2[65];

    (void)state;
    assert_int_equal(crypto_token_hex(t1), FERR_OK);
    assert_int_equal(crypto_token_hex(t2), FERR_OK);
    assert_int_equal(strlen(t1), 64);
    assert_int_equal(strspn(t1, "0123456789abcdef"), 64);
    assert_string_not_equal(t1, t2);
}

static void test_crypto_hex_decode(void **state)
{
    unsigned char out[4];

    (void)state;
    assert_true(crypto_hex_decode("00ff7A9b", 8, out, 4));
    assert_memory_equal(out, "\x00\xff\x7a\x9b", 4);
    assert_false(crypto_hex_decode("00ff7A9", 7, out, 4));   /* short */
    assert_false(crypto_hex_decode("00ff7A9b0", 9, out, 4)); /* long */
    assert_false(crypto_hex_decode("00ff7A9g", 8, out, 4));  /* not hex */
    assert_false(crypto_hex_decode("00ff 7A9", 8, out, 4));
    assert_true(crypto_hex_decode("", 0, out, 0));
}

/* ---------- key file ---------- */

struct tmp {
    char dir[64];
    char path[128];
};

static void tmp_make(struct tmp *t)
{
    snprintf(t->dir, sizeof(t->dir), "/tmp/crypto_test.XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof(t->path), "%s/key", t->dir);
}

static void tmp_drop(struct tmp *t)
{
    char other[160];

    unlink(t->path);
    snprintf(other, sizeof(other), "%s/link", t->dir);
    unlink(other);
    rmdir(t->dir);
}

static void write_file(const char *path, const void *p, size_t n, int mode)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

    assert_true(fd >= 0);
    assert_int_equal(write(fd, p, n), (ssize_t)n);
    assert_int_equal(fchmod(fd, (mode_t)mode), 0);
    close(fd);
}

static void test_crypto_key_create_then_load(void **state)
{
    struct tmp t;
    struct crypto_key k1;
    struct crypto_key k2;
    struct ferr err;
    struct stat st;

    (void)state;
    tmp_make(&t);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, true, &k1, &err), FERR_OK);
    assert_int_equal(stat(t.path, &st), 0);
    assert_int_equal(st.st_mode & 07777, 0600);
    assert_int_equal(st.st_size, 32);
    assert_int_equal(crypto_key_load(t.path, false, &k2, &err), FERR_OK);
    assert_memory_equal(k1.k, k2.k, 32);
    /* with create, an existing key is read, not replaced */
    assert_int_equal(crypto_key_load(t.path, true, &k2, &err), FERR_OK);
    assert_memory_equal(k1.k, k2.k, 32);
    tmp_drop(&t);
}

static void test_crypto_key_missing_without_create(void **state)
{
    struct tmp t;
    struct crypto_key k;
    struct ferr err;

    (void)state;
    tmp_make(&t);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, false, &k, &err), FERR_NOTFOUND);
    assert_non_null(strstr(err.msg, "does not exist"));
    assert_int_equal(access(t.path, F_OK), -1);
    tmp_drop(&t);
}

static void test_crypto_key_refuses_readable_by_others(void **state)
{
    struct tmp t;
    struct crypto_key k;
    struct ferr err;
    unsigned char raw[32];
    char want[256];

    (void)state;
    memset(raw, 7, sizeof(raw));
    tmp_make(&t);
    write_file(t.path, raw, sizeof(raw), 0644);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, true, &k, &err), FERR_INVALID);
    snprintf(want, sizeof(want),
             "key file '%s' is readable by others (mode 0644); chmod 600 it",
             t.path);
    assert_string_equal(err.msg, want);
    /* refused keys are not handed out */
    for (size_t i = 0; i < sizeof(k.k); i++)
        assert_int_equal(k.k[i], 0);

    assert_int_equal(chmod(t.path, 0640), 0);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, false, &k, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "readable by others (mode 0640)"));

    assert_int_equal(chmod(t.path, 0620), 0);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, false, &k, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "chmod 600 it"));

    assert_int_equal(chmod(t.path, 0400), 0);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, false, &k, &err), FERR_OK);
    assert_memory_equal(k.k, raw, 32);
    tmp_drop(&t);
}

static void test_crypto_key_refuses_wrong_size(void **state)
{
    struct tmp t;
    struct crypto_key k;
    struct ferr err;
    unsigned char raw[33];

    (void)state;
    memset(raw, 1, sizeof(raw));
    tmp_make(&t);
    write_file(t.path, raw, 31, 0600);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, true, &k, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "has 31 bytes, expected 32"));
    write_file(t.path, raw, 33, 0600);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, true, &k, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "has 33 bytes"));
    write_file(t.path, raw, 0, 0600);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(t.path, true, &k, &err), FERR_INVALID);
    tmp_drop(&t);
}

static void test_crypto_key_refuses_symlink(void **state)
{
    struct tmp t;
    struct crypto_key k;
    struct ferr err;
    unsigned char raw[32] = {0};
    char link[160];

    (void)state;
    tmp_make(&t);
    write_file(t.path, raw, sizeof(raw), 0600);
    snprintf(link, sizeof(link), "%s/link", t.dir);
    assert_int_equal(symlink(t.path, link), 0);
    ferr_clear(&err);
    assert_int_equal(crypto_key_load(link, true, &k, &err), FERR_INVALID);
    assert_non_null(strstr(err.msg, "symbolic link"));
    tmp_drop(&t);
}

static void test_crypto_key_refuses_directory(void **state)
{
    struct tmp t;
    struct crypto_key k;
    struct ferr err;

    (void)state;
    tmp_make(&t);
    assert_int_equal(mkdir(t.path, 0700), 0);
    ferr_clear(&err);
    assert_int_not_equal(crypto_key_load(t.path, true, &k, &err), FERR_OK);
    rmdir(t.path);
    tmp_drop(&t);
}

static void test_crypto_key_create_in_missing_dir(void **state)
{
    struct crypto_key k;
    struct ferr err;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        crypto_key_load("/nonexistent-ferry-dir/key", true, &k, &err), FERR_IO);
    assert_non_null(strstr(err.msg, "cannot create key file"));
}

/* ---------- sealing ---------- */

static struct crypto_key test_key(unsigned char fill)
{
    struct crypto_key k;

    memset(k.k, fill, sizeof(k.k));
    return k;
}

static void test_crypto_seal_round_trip(void **state)
{
    struct crypto_key k = test_key(0x42);
    struct ferr err;
    unsigned char *blob;
    size_t blen;
    char *plain;
    size_t plen;
    const char *secret = "hunter2 \xc3\xa9";

    (void)state;
    ferr_clear(&err);
    assert_int_equal(crypto_seal(&k, secret, strlen(secret), "secret:app:DB",
                                 &blob, &blen, &err),
                     FERR_OK);
    assert_int_equal(blen, strlen(secret) + CRYPTO_SEAL_OVERHEAD);
    assert_int_equal(blob[0], 0x01);
    assert_null(memmem(blob, blen, "hunter2", 7));
    assert_int_equal(
        crypto_open(&k, blob, blen, "secret:app:DB", &plain, &plen, &err),
        FERR_OK);
    assert_int_equal(plen, strlen(secret));
    assert_string_equal(plain, secret);
    free(plain);
    free(blob);
}

static void test_crypto_seal_empty_value(void **state)
{
    struct crypto_key k = test_key(1);
    struct ferr err;
    unsigned char *blob;
    size_t blen;
    char *plain;
    size_t plen;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(crypto_seal(&k, "", 0, NULL, &blob, &blen, &err), FERR_OK);
    assert_int_equal(blen, CRYPTO_SEAL_OVERHEAD);
    assert_int_equal(crypto_open(&k, blob, blen, "", &plain, &plen, &err),
                     FERR_OK);
    assert_int_equal(plen, 0);
    assert_string_equal(plain, "");
    free(plain);
    free(blob);
}

static void test_crypto_seal_nonce_differs(void **state)
{
    struct crypto_key k = test_key(3);
    struct ferr err;
    unsigned char *a;
    unsigned char *b;
    size_t alen;
    size_t blen;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(crypto_seal(&k, "same", 4, "x", &a, &alen, &err), FERR_OK);
    assert_int_equal(crypto_seal(&k, "same", 4, "x", &b, &blen, &err), FERR_OK);
    assert_memory_not_equal(a, b, alen);
    free(a);
    free(b);
}

static void expect_damaged(const struct crypto_key *k, const unsigned char *b,
                           size_t n, const char *aad)
{
    struct ferr err;
    char *plain = (char *)1;
    size_t plen = 99;

    ferr_clear(&err);
    assert_int_equal(crypto_open(k, b, n, aad, &plain, &plen, &err),
                     FERR_INVALID);
    assert_string_equal(err.msg, "sealed value is damaged or was sealed under "
                                 "another key");
    assert_null(plain);
    assert_int_equal(plen, 0);
}

static void test_crypto_open_wrong_key(void **state)
{
    struct crypto_key k = test_key(5);
    struct crypto_key other = test_key(6);
    struct ferr err;
    unsigned char *blob;
    size_t blen;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        crypto_seal(&k, "value", 5, "secret:a:B", &blob, &blen, &err), FERR_OK);
    expect_damaged(&other, blob, blen, "secret:a:B");
    free(blob);
}

static void test_crypto_open_wrong_aad(void **state)
{
    struct crypto_key k = test_key(5);
    struct ferr err;
    unsigned char *blob;
    size_t blen;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(
        crypto_seal(&k, "value", 5, "secret:a:B", &blob, &blen, &err), FERR_OK);
    expect_damaged(&k, blob, blen, "secret:a:C");
    expect_damaged(&k, blob, blen, "secret:b:B");
    expect_damaged(&k, blob, blen, NULL);
    free(blob);
}

static void test_crypto_open_tampered_bytes(void **state)
{
    struct crypto_key k = test_key(9);
    struct ferr err;
    unsigned char *blob;
    size_t blen;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(crypto_seal(&k, "a longer secret value", 21, "hook:app",
                                 &blob, &blen, &err),
                     FERR_OK);
    for (size_t i = 0; i < blen; i++) {
        blob[i] ^= 0x01;
        expect_damaged(&k, blob, blen, "hook:app");
        blob[i] ^= 0x01;
    }
    /* truncated and extended blobs */
    expect_damaged(&k, blob, blen - 1, "hook:app");
    expect_damaged(&k, blob, CRYPTO_SEAL_OVERHEAD - 1, "hook:app");
    expect_damaged(&k, blob, 0, "hook:app");
    expect_damaged(&k, NULL, 0, "hook:app");
    free(blob);
}

static void test_crypto_open_bad_version(void **state)
{
    struct crypto_key k = test_key(9);
    struct ferr err;
    unsigned char *blob;
    size_t blen;

    (void)state;
    ferr_clear(&err);
    assert_int_equal(crypto_seal(&k, "v", 1, "a", &blob, &blen, &err), FERR_OK);
    blob[0] = 0x02;
    expect_damaged(&k, blob, blen, "a");
    free(blob);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_crypto_sha256_vectors),
        cmocka_unit_test(test_crypto_hmac_rfc4231),
        cmocka_unit_test(test_crypto_hmac_empty_key_and_data),
        cmocka_unit_test(test_crypto_equal),
        cmocka_unit_test(test_crypto_random_fills),
        cmocka_unit_test(test_crypto_token_hex_shape),
        cmocka_unit_test(test_crypto_hex_decode),
        cmocka_unit_test(test_crypto_key_create_then_load),
        cmocka_unit_test(test_crypto_key_missing_without_create),
        cmocka_unit_test(test_crypto_key_refuses_readable_by_others),
        cmocka_unit_test(test_crypto_key_refuses_wrong_size),
        cmocka_unit_test(test_crypto_key_refuses_symlink),
        cmocka_unit_test(test_crypto_key_refuses_directory),
        cmocka_unit_test(test_crypto_key_create_in_missing_dir),
        cmocka_unit_test(test_crypto_seal_round_trip),
        cmocka_unit_test(test_crypto_seal_empty_value),
        cmocka_unit_test(test_crypto_seal_nonce_differs),
        cmocka_unit_test(test_crypto_open_wrong_key),
        cmocka_unit_test(test_crypto_open_wrong_aad),
        cmocka_unit_test(test_crypto_open_tampered_bytes),
        cmocka_unit_test(test_crypto_open_bad_version),
    };

    cmocka_set_message_output(CM_OUTPUT_TAP);
    return cmocka_run_group_tests(tests, NULL, NULL);
}
