/* artifact: content-addressed storage under a home directory for
 * actions/upload-artifact, download-artifact and cache.  Blobs live in
 * HOME/blobs/<sha256>; a named set (artifact or cache entry) is a
 * manifest of relative path -> blob, mode. */
#ifndef FERRY_EXEC_ARTIFACT_H
#define FERRY_EXEC_ARTIFACT_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ferr.h"

struct artifact_store;

/**
 * Open (creating) the store at @home: HOME/blobs/<sha256> holds file
 * contents, HOME/artifacts/<scope>/<name>.json and
 * HOME/caches/<scope>/<sha256 of key>.json the manifests, HOME/tmp
 * temp files.  Several processes may use one store: every file appears
 * by rename.  *@out is the caller's (artifact_store_free).
 * Errors: FERR_INVALID (empty @home), FERR_IO; then *@out is NULL.
 */
enum ferr_code artifact_store_open(const char *home,
                                   struct artifact_store **out,
                                   struct ferr *err) FERR_MUST_CHECK;

/** Free @s (NULL is a no-op); the files stay. */
void artifact_store_free(struct artifact_store *s);

enum artifact_kind { ARTIFACT_UPLOAD, ARTIFACT_CACHE };

struct artifact_stats {
    uint64_t files;
    uint64_t bytes;
    uint64_t new_blobs;    /* blobs not already in the store */
};

/**
 * Save the files matched by @paths (newline-separated list of relative
 * paths, directories and glob patterns as actions/upload-artifact reads
 * them, '!' to exclude) under @root as set @name of @kind in @scope (a
 * run id for artifacts; a cache namespace for caches).  Names and paths
 * are checked (workspace_check_relpath); total size is limited by
 * LIM_ARTIFACT_BYTES / LIM_CACHE_BYTES.  With @if_absent (caches), an
 * existing set is kept and *out_stats->files is 0.
 *
 * Path lines (as @actions/glob): whitespace trimmed, empty lines and
 * '#' comments skipped; a line without '*', '?', '[' is a path (a
 * directory means everything below it); other lines are glob_match
 * patterns, and a pattern matching a directory also takes everything
 * below it; the last line that matches a file decides.  "./" and
 * "a/../b" are normalised; absolute paths and '..' leaving @root are
 * FERR_INVALID, a leading '~' FERR_UNSUPPORTED, a malformed pattern
 * FERR_PARSE.  Directory symlinks are never followed.
 *
 * Stored paths: for ARTIFACT_UPLOAD as upload-artifact stores them —
 * relative to the least common ancestor of the lines' search paths (the
 * non-glob leading directories), a single file line storing just the
 * file name; a symlink to a regular file inside @root is stored as that
 * file, other symlinks are left out.  For ARTIFACT_CACHE relative to
 * @root (restored in place, like actions/cache) and symlinks are stored
 * as symlinks.
 *
 * Artifact names reject '"', ':', '<', '>', '|', '*', '?', '\r', '\n',
 * '\\', '/' and are at most LIM_ARTIFACT_NAME bytes; cache keys are any
 * text up to LIM_CACHE_KEY bytes without ','.  @scope is a plain
 * relative path.  @out_stats may be NULL.
 * Errors: FERR_INVALID (name or path), FERR_NOTFOUND (nothing matched),
 * FERR_LIMIT, FERR_IO, FERR_PARSE, FERR_UNSUPPORTED; no manifest is
 * written then (blobs already stored stay; they are valid content).
 */
enum ferr_code artifact_save(struct artifact_store *s, enum artifact_kind kind,
                             const char *scope, const char *name,
                             const char *root, const char *paths,
                             bool if_absent, struct artifact_stats *out_stats,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Restore set @name of @kind in @scope into directory @dest (created),
 * recreating relative paths and modes (permission bits only).  Existing
 * files are replaced.  Every manifest entry is checked before anything is
 * written: a path that is absolute, has '..', '.' or empty components is
 * refused, and nothing is ever written through a symlink, so a tampered
 * manifest cannot write outside @dest.  Blob contents are verified
 * against their SHA-256 while copying (a corrupt blob is deleted).
 * @out_stats (may be NULL) gets files and bytes; new_blobs is 0.
 * Errors: FERR_NOTFOUND when there is no such set, FERR_INVALID (bad
 * name or unsafe manifest), FERR_PARSE (manifest is not JSON), FERR_IO;
 * files restored before the error stay.
 */
enum ferr_code artifact_restore(struct artifact_store *s,
                                enum artifact_kind kind, const char *scope,
                                const char *name, const char *dest,
                                struct artifact_stats *out_stats,
                                struct ferr *err) FERR_MUST_CHECK;

/** Does set @name exist?  False for an invalid scope or name. */
bool artifact_exists(struct artifact_store *s, enum artifact_kind kind,
                     const char *scope, const char *name);

/**
 * hashFiles(): SHA-256 over the SHA-256 of each regular file under @root
 * matched by @patterns (GitHub glob syntax, '!' excludes), in sorted
 * path order, as lowercase hex in @out (65 bytes); "" when nothing
 * matched.  As actions/runner: the final hash is over the concatenated
 * binary digests; symlinks are not hashed.  Patterns follow
 * artifact_save's line rules; an absolute pattern inside @root (as with
 * ${{ github.workspace }}/x) is accepted.
 * Errors: FERR_INVALID, FERR_PARSE, FERR_UNSUPPORTED (patterns), FERR_IO;
 * then @out is "".
 */
enum ferr_code artifact_hash_files(const char *root,
                                   const char *const *patterns, size_t n,
                                   char out[65], struct ferr *err)
    FERR_MUST_CHECK;

/** One artifact of a scope, as artifact_list reports it. */
struct artifact_info {
    char *name;         /* the artifact's name (owned by the list) */
    uint64_t files;     /* manifest entries */
    uint64_t bytes;     /* sum of their sizes */
    int64_t created_ms; /* when its manifest was written (Unix ms) */
};

/**
 * The artifacts (ARTIFACT_UPLOAD) of @scope, sorted by name, with their
 * file counts, sizes and creation times (the manifest's mtime).  *@out
 * is the caller's (artifact_infos_free); an unknown scope is an empty
 * list (*@out NULL, *@out_n 0).  A damaged manifest (not JSON, or
 * failing artifact_restore's checks) is skipped with a log_warn; files
 * that are not manifests are ignored.
 * Errors: FERR_INVALID (bad scope), FERR_IO; then *@out is NULL and
 * *@out_n 0.
 */
enum ferr_code artifact_list(struct artifact_store *s, const char *scope,
                             struct artifact_info **out, size_t *out_n,
                             struct ferr *err) FERR_MUST_CHECK;

/** Free @v of @n entries from artifact_list (NULL is a no-op). */
void artifact_infos_free(struct artifact_info *v, size_t n);

/**
 * Write artifact @name of @scope to @fd (a file or a pipe; blocking
 * writes) as a POSIX ustar archive: one regular-file entry per manifest
 * entry, with its mode and stored path, in manifest order; directories
 * are implied (no directory entries); uid/gid 0; every mtime is the
 * manifest's.  A path over 100 bytes goes into the ustar prefix field
 * when it splits at a '/', else into a pax extended header ('x'), as
 * does a size over 8 GiB.  The archive ends with two zero blocks and is
 * padded to a 10240-byte record.  Blob contents are verified against
 * their SHA-256 while copying: a mismatch is FERR_IO "... is damaged"
 * (and the blob is deleted, as artifact_restore does).  The manifest is
 * checked as artifact_restore checks it before anything is written;
 * besides, an entry that is a symlink, a path listed twice, or a path
 * that is also the directory of another is FERR_INVALID.  On an error
 * after writing began @fd holds a partial archive: discard it.
 * *@out_bytes is the archive's size (0 on error).  A write to a pipe
 * whose reader went away is FERR_IO only when SIGPIPE is ignored or
 * blocked (as in the daemon).
 * Errors: FERR_NOTFOUND (no such artifact), FERR_INVALID (bad scope or
 * name, unsafe manifest), FERR_PARSE (manifest is not JSON), FERR_LIMIT
 * (manifest over LIM_MANIFEST_BYTES), FERR_IO.
 */
enum ferr_code artifact_export_tar(struct artifact_store *s,
                                   const char *scope, const char *name,
                                   int fd, uint64_t *out_bytes,
                                   struct ferr *err) FERR_MUST_CHECK;

#endif
