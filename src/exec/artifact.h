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

/** Open (creating) the store at @home. */
enum ferr_code artifact_store_open(const char *home,
                                   struct artifact_store **out,
                                   struct ferr *err) FERR_MUST_CHECK;
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
 * Errors: FERR_INVALID (name or path), FERR_NOTFOUND (nothing matched),
 * FERR_LIMIT, FERR_IO.
 */
enum ferr_code artifact_save(struct artifact_store *s, enum artifact_kind kind,
                             const char *scope, const char *name,
                             const char *root, const char *paths,
                             bool if_absent, struct artifact_stats *out_stats,
                             struct ferr *err) FERR_MUST_CHECK;

/**
 * Restore set @name of @kind in @scope into directory @dest (created),
 * recreating relative paths and modes.  Errors: FERR_NOTFOUND when there
 * is no such set, FERR_IO.
 */
enum ferr_code artifact_restore(struct artifact_store *s,
                                enum artifact_kind kind, const char *scope,
                                const char *name, const char *dest,
                                struct artifact_stats *out_stats,
                                struct ferr *err) FERR_MUST_CHECK;

/** Does set @name exist? */
bool artifact_exists(struct artifact_store *s, enum artifact_kind kind,
                     const char *scope, const char *name);

/**
 * hashFiles(): SHA-256 over the SHA-256 of each regular file under @root
 * matched by @patterns (GitHub glob syntax, '!' excludes), in sorted
 * path order, as lowercase hex in @out (65 bytes); "" when nothing
 * matched.
 */
enum ferr_code artifact_hash_files(const char *root,
                                   const char *const *patterns, size_t n,
                                   char out[65], struct ferr *err)
    FERR_MUST_CHECK;

#endif
