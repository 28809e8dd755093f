/* crypto: thin, checked wrappers over OpenSSL 3 and getrandom(2) for
 * hashing tokens, verifying webhook MACs and sealing stored secrets.
 * It does not manage key rotation, does not keep keys in locked memory,
 * and implements no primitive itself. */
#include "util/crypto.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "util/xalloc.h"

#define SEAL_VERSION 0x01
#define NONCE_LEN    12
#define TAG_LEN      16
#define SEAL_MAX     (1024u * 1024u * 1024u) /* EVP takes int lengths */

static const char hexdigits[] = "0123456789abcdef";

/* OpenSSL failing on valid arguments is out-of-memory or a broken
 * library, never bad input. */
static void openssl_died(const char *what)
{
    fprintf(stderr, "ferry: openssl %s failed\n", what);
    abort();
}

static void to_hex(const unsigned char *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = hexdigits[p[i] >> 4];
        out[2 * i + 1] = hexdigits[p[i] & 15];
    }
    out[2 * n] = '\0';
}

void crypto_sha256_hex(const void *data, size_t len, char out[65])
{
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int n = 0;
    static const unsigned char none = 0;

    if (!EVP_Digest(len ? data : &none, len, md, &n, EVP_sha256(), NULL) ||
        n != 32)
        openssl_died("sha256");
    to_hex(md, 32, out);
}

void crypto_hmac_sha256(const void *key, size_t klen, const void *data,
                        size_t len, unsigned char out[32])
{
    static const unsigned char none = 0;
    unsigned int n = 0;

    if (klen > INT_MAX)
        openssl_died("hmac key length");
    /* OpenSSL 3 refuses a NULL key even when its length is 0 */
    if (!HMAC(EVP_sha256(), klen ? key : &none, (int)klen, len ? data : &none,
              len, out, &n) ||
        n != 32)
        openssl_died("hmac-sha256");
}

bool crypto_equal(const void *a, const void *b, size_t len)
{
    return len == 0 || CRYPTO_memcmp(a, b, len) == 0;
}

enum ferr_code crypto_random(void *out, size_t len)
{
    unsigned char *p = out;

    while (len > 0) {
        ssize_t r = getrandom(p, len, 0);

        if (r < 0) {
            if (errno == EINTR)
                continue;
            return FERR_IO;
        }
        p += r;
        len -= (size_t)r;
    }
    return FERR_OK;
}

enum ferr_code crypto_token_hex(char out[65])
{
    unsigned char raw[32];

    out[0] = '\0';
    if (crypto_random(raw, sizeof(raw)))
        return FERR_IO;
    to_hex(raw, sizeof(raw), out);
    OPENSSL_cleanse(raw, sizeof(raw));
    return FERR_OK;
}

static int hexval(unsigned char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

bool crypto_hex_decode(const char *hex, size_t hexlen, unsigned char *out,
                       size_t outlen)
{
    if (outlen > SIZE_MAX / 2 || hexlen != 2 * outlen)
        return false;
    for (size_t i = 0; i < outlen; i++) {
        int hi = hexval((unsigned char)hex[2 * i]);
        int lo = hexval((unsigned char)hex[2 * i + 1]);

        if (hi < 0 || lo < 0)
            return false;
        out[i] = (unsigned char)(hi << 4 | lo);
    }
    return true;
}

/* ---------- key file ---------- */

static enum ferr_code fsync_parent(const char *path, struct ferr *err)
{
    const char *slash = strrchr(path, '/');
    char *dir;
    int fd;
    enum ferr_code rc = FERR_OK;

    if (!slash)
        dir = xstrdup(".");
    else if (slash == path)
        dir = xstrdup("/");
    else
        dir = xstrndup(path, (size_t)(slash - path));
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0 || fsync(fd) != 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot sync directory '%s': %s", dir,
                      strerror(errno));
    if (fd >= 0)
        close(fd);
    free(dir);
    return rc;
}

/* Make the key file; FERR_OK with *out_exists when another process
 * created it first (then the caller reads theirs). */
static enum ferr_code create_key(const char *path, bool *out_exists,
                                 struct ferr *err)
{
    unsigned char key[32];
    size_t done = 0;
    enum ferr_code rc = FERR_OK;
    int fd;

    *out_exists = false;
    fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        if (errno == EEXIST) {
            *out_exists = true;
            return FERR_OK;
        }
        return ferr_set(err, FERR_IO, NULL, "cannot create key file '%s': %s",
                        path, strerror(errno));
    }
    if (crypto_random(key, sizeof(key))) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot get random bytes: %s",
                      strerror(errno));
        goto done;
    }
    if (fchmod(fd, 0600) != 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot chmod key file '%s': %s",
                      path, strerror(errno));
        goto done;
    }
    while (done < sizeof(key)) {
        ssize_t w = write(fd, key + done, sizeof(key) - done);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot write key file '%s': %s",
                          path, w < 0 ? strerror(errno) : "short write");
            goto done;
        }
        done += (size_t)w;
    }
    if (fsync(fd) != 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot sync key file '%s': %s", path,
                      strerror(errno));
        goto done;
    }
    rc = fsync_parent(path, err);
done:
    OPENSSL_cleanse(key, sizeof(key));
    close(fd);
    if (rc)
        unlink(path); /* a partial key would be refused forever after */
    return rc;
}

static enum ferr_code read_key(int fd, const char *path, struct crypto_key *out,
                               struct ferr *err)
{
    struct stat st;
    size_t done = 0;
    unsigned char extra;

    if (fstat(fd, &st) != 0)
        return ferr_set(err, FERR_IO, NULL, "cannot stat key file '%s': %s",
                        path, strerror(errno));
    if (!S_ISREG(st.st_mode))
        return ferr_set(err, FERR_INVALID, NULL,
                        "key file '%s' is not a regular file", path);
    if (st.st_mode & (S_IRGRP | S_IROTH))
        return ferr_set(err, FERR_INVALID, NULL,
                        "key file '%s' is readable by others (mode %04o); "
                        "chmod 600 it",
                        path, (unsigned)(st.st_mode & 07777));
    if (st.st_mode & (S_IWGRP | S_IWOTH | S_IXGRP | S_IXOTH))
        return ferr_set(err, FERR_INVALID, NULL,
                        "key file '%s' is open to others (mode %04o); "
                        "chmod 600 it",
                        path, (unsigned)(st.st_mode & 07777));
    if (st.st_size != (off_t)sizeof(out->k))
        return ferr_set(err, FERR_INVALID, NULL,
                        "key file '%s' has %lld bytes, expected %zu", path,
                        (long long)st.st_size, sizeof(out->k));
    while (done < sizeof(out->k)) {
        ssize_t r = read(fd, out->k + done, sizeof(out->k) - done);

        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0)
            return ferr_set(err, FERR_IO, NULL, "cannot read key file '%s': %s",
                            path, strerror(errno));
        if (r == 0)
            return ferr_set(err, FERR_INVALID, NULL,
                            "key file '%s' has %zu bytes, expected %zu", path,
                            done, sizeof(out->k));
        done += (size_t)r;
    }
    if (read(fd, &extra, 1) > 0)
        return ferr_set(err, FERR_INVALID, NULL,
                        "key file '%s' has more than %zu bytes", path,
                        sizeof(out->k));
    return FERR_OK;
}

enum ferr_code crypto_key_load(const char *path, bool create,
                               struct crypto_key *out, struct ferr *err)
{
    enum ferr_code rc;
    int fd = -1;

    memset(out, 0, sizeof(*out));
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == ENOENT && create) {
        bool raced;

        rc = create_key(path, &raced, err);
        if (rc)
            return rc;
        fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0) {
        if (errno == ELOOP)
            return ferr_set(err, FERR_INVALID, NULL,
                            "key file '%s' is a symbolic link", path);
        if (errno == ENOENT)
            return ferr_set(err, FERR_NOTFOUND, NULL,
                            "key file '%s' does not exist", path);
        return ferr_set(err, FERR_IO, NULL, "cannot open key file '%s': %s",
                        path, strerror(errno));
    }
    rc = read_key(fd, path, out, err);
    close(fd);
    if (rc)
        OPENSSL_cleanse(out, sizeof(*out));
    return rc;
}

/* ---------- sealing ---------- */

static const char *aad_or_empty(const char *aad)
{
    return aad ? aad : "";
}

enum ferr_code crypto_seal(const struct crypto_key *k, const void *plain,
                           size_t len, const char *aad, unsigned char **out,
                           size_t *out_len, struct ferr *err)
{
    static const unsigned char none = 0;
    const char *a = aad_or_empty(aad);
    size_t alen = strlen(a);
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char *blob = NULL;
    unsigned char *nonce;
    unsigned char *ct;
    enum ferr_code rc = FERR_OK;
    int n = 0;
    int fin = 0;

    *out = NULL;
    *out_len = 0;
    if (len > SEAL_MAX || alen > SEAL_MAX)
        return ferr_set(err, FERR_LIMIT, NULL,
                        "value of %zu bytes is too large to seal", len);
    blob = xmalloc(len + CRYPTO_SEAL_OVERHEAD);
    blob[0] = SEAL_VERSION;
    nonce = blob + 1;
    ct = nonce + NONCE_LEN;
    if (crypto_random(nonce, NONCE_LEN)) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot get random bytes: %s",
                      strerror(errno));
        goto done;
    }
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx ||
        EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) !=
            1 ||
        EVP_EncryptInit_ex(ctx, NULL, NULL, k->k, nonce) != 1 ||
        (alen && EVP_EncryptUpdate(ctx, NULL, &n, (const unsigned char *)a,
                                   (int)alen) != 1) ||
        EVP_EncryptUpdate(ctx, ct, &n, len ? plain : &none, (int)len) != 1 ||
        (size_t)n != len || EVP_EncryptFinal_ex(ctx, ct + n, &fin) != 1 ||
        fin != 0 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, ct + len) !=
            1) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot seal: openssl failed");
        goto done;
    }
    *out = blob;
    *out_len = len + CRYPTO_SEAL_OVERHEAD;
    blob = NULL;
done:
    EVP_CIPHER_CTX_free(ctx);
    free(blob);
    return rc;
}

enum ferr_code crypto_open(const struct crypto_key *k,
                           const unsigned char *sealed, size_t len,
                           const char *aad, char **out_plain, size_t *out_len,
                           struct ferr *err)
{
    static const unsigned char none = 0;
    const char *a = aad_or_empty(aad);
    size_t alen = strlen(a);
    EVP_CIPHER_CTX *ctx = NULL;
    unsigned char tag[TAG_LEN];
    const unsigned char *ct;
    size_t ctlen;
    char *plain = NULL;
    enum ferr_code rc = FERR_OK;
    int n = 0;
    int fin = 0;

    *out_plain = NULL;
    *out_len = 0;
    if (!sealed || len < CRYPTO_SEAL_OVERHEAD || sealed[0] != SEAL_VERSION ||
        len - CRYPTO_SEAL_OVERHEAD > SEAL_MAX || alen > SEAL_MAX)
        return ferr_set(err, FERR_INVALID, NULL,
                        "sealed value is damaged or was sealed under another "
                        "key");
    ct = sealed + 1 + NONCE_LEN;
    ctlen = len - CRYPTO_SEAL_OVERHEAD;
    memcpy(tag, ct + ctlen, TAG_LEN);
    plain = xmalloc(ctlen + 1);
    ctx = EVP_CIPHER_CTX_new();
    if (!ctx ||
        EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) !=
            1 ||
        EVP_DecryptInit_ex(ctx, NULL, NULL, k->k, sealed + 1) != 1 ||
        (alen && EVP_DecryptUpdate(ctx, NULL, &n, (const unsigned char *)a,
                                   (int)alen) != 1) ||
        EVP_DecryptUpdate(ctx, (unsigned char *)plain, &n, ctlen ? ct : &none,
                          (int)ctlen) != 1 ||
        (size_t)n != ctlen ||
        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag) != 1) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open: openssl failed");
        goto done;
    }
    if (EVP_DecryptFinal_ex(ctx, (unsigned char *)plain + n, &fin) != 1) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "sealed value is damaged or was sealed under another "
                      "key");
        goto done;
    }
    plain[ctlen] = '\0';
    *out_plain = plain;
    *out_len = ctlen;
    plain = NULL;
done:
    EVP_CIPHER_CTX_free(ctx);
    if (plain) {
        OPENSSL_cleanse(plain, ctlen + 1);
        free(plain);
    }
    return rc;
}
