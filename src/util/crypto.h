/* crypto: the few primitives the server needs, over OpenSSL 3 — SHA-256,
 * HMAC-SHA256, constant-time comparison, kernel randomness, hex, the
 * server's key file, and sealing values (secrets, webhook keys) with
 * AES-256-GCM so the store only ever holds ciphertext. */
#ifndef FERRY_UTIL_CRYPTO_H
#define FERRY_UTIL_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/ferr.h"

/** Bytes of a sealed value beyond its plaintext: version, nonce, tag. */
#define CRYPTO_SEAL_OVERHEAD (1u + 12u + 16u)

/**
 * SHA-256 of @len bytes at @data as 64 lowercase hex digits plus a NUL
 * in @out.  Cannot fail on input (aborts only if OpenSSL itself cannot
 * run, like out-of-memory).  Any thread.
 */
void crypto_sha256_hex(const void *data, size_t len, char out[65]);

/**
 * HMAC-SHA256 of @len bytes at @data under the @klen-byte @key (which
 * may be empty) into @out.  Any thread.
 */
void crypto_hmac_sha256(const void *key, size_t klen, const void *data,
                        size_t len, unsigned char out[32]);

/**
 * Whether the @len bytes at @a and @b are equal, in time that depends
 * only on @len (CRYPTO_memcmp).  Use it for every comparison of a MAC,
 * token or key.
 */
bool crypto_equal(const void *a, const void *b, size_t len);

/**
 * Fill @out with @len bytes from the kernel (getrandom(2)), looping on
 * EINTR and short reads.  Blocks only until the kernel's pool is first
 * initialised.  Errors: FERR_IO (getrandom failed; @out is unspecified).
 */
enum ferr_code crypto_random(void *out, size_t len) FERR_MUST_CHECK;

/**
 * A fresh token: 32 random bytes as 64 lowercase hex digits plus a NUL
 * in @out.  Errors: FERR_IO as crypto_random; @out is "" then.
 */
enum ferr_code crypto_token_hex(char out[65]) FERR_MUST_CHECK;

/**
 * Decode exactly @hexlen hex digits (either case) at @hex into @outlen
 * bytes at @out.  False (and @out unspecified) unless hexlen ==
 * 2 * outlen and every character is a hex digit.
 */
bool crypto_hex_decode(const char *hex, size_t hexlen, unsigned char *out,
                       size_t outlen);

/** The server's 256-bit master key (wipe with OPENSSL_cleanse when done). */
struct crypto_key {
    unsigned char k[32];
};

/**
 * Read the 32-byte key file at @path into *@out.  With @create, a
 * missing file is made first: 32 random bytes, O_CREAT|O_EXCL, mode
 * 0600, fsync'ed (file and directory); when another process wins the
 * race to create it, its key is read.  The file is opened O_NOFOLLOW.
 * Refused (FERR_INVALID): a symbolic link, not a regular file, any
 * permission bit for group or other ("key file 'p' is readable by others
 * (mode 0644); chmod 600 it"), a size other than 32 bytes.
 * Errors: FERR_NOTFOUND (missing and !@create), FERR_IO (open, read,
 * write, fsync, getrandom; errno text in the message), FERR_INVALID as
 * above.  On error *@out is zeroed.  Any thread.
 */
enum ferr_code crypto_key_load(const char *path, bool create,
                               struct crypto_key *out,
                               struct ferr *err) FERR_MUST_CHECK;

/**
 * Seal @len bytes at @plain under @k with AES-256-GCM: *@out =
 * 0x01 | 12-byte random nonce | ciphertext | 16-byte tag, and *@out_len
 * = len + CRYPTO_SEAL_OVERHEAD.  @aad (e.g. "secret:REPO:NAME"; NULL is
 * "") is authenticated, not stored: it binds the blob to its place, so
 * a blob copied to another row does not open.
 * Ownership: *@out is the caller's (free).
 * Errors: FERR_LIMIT (@len over 1 GiB), FERR_IO (no randomness, OpenSSL
 * failure); *@out is NULL and *@out_len 0.
 */
enum ferr_code crypto_seal(const struct crypto_key *k, const void *plain,
                           size_t len, const char *aad, unsigned char **out,
                           size_t *out_len, struct ferr *err) FERR_MUST_CHECK;

/**
 * Open a value made by crypto_seal with the same @k and @aad.
 * Ownership: *@out_plain (NUL-terminated after *@out_len bytes) is the
 * caller's; it holds a secret, so the caller wipes it with
 * OPENSSL_cleanse(*out_plain, *out_len) before free().
 * Errors: FERR_INVALID "sealed value is damaged or was sealed under
 * another key" for a short blob, an unknown version byte or a tag that
 * does not verify (wrong key, wrong @aad, any changed byte); FERR_IO on
 * an OpenSSL failure.  *@out_plain is NULL and *@out_len 0 then.
 */
enum ferr_code crypto_open(const struct crypto_key *k,
                           const unsigned char *sealed, size_t len,
                           const char *aad, char **out_plain, size_t *out_len,
                           struct ferr *err) FERR_MUST_CHECK;

#endif
