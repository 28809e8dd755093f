/* workspace: per-job directories — make a fresh copy of a source tree,
 * make temp dirs, remove trees.  Filesystem only; no processes. */
#ifndef FERRY_EXEC_WORKSPACE_H
#define FERRY_EXEC_WORKSPACE_H

#include <stdbool.h>
#include <stdint.h>

#include "util/ferr.h"

/**
 * Copy the tree @src into @dst (created; must not exist), preserving
 * modes, symlinks (as links, never followed) and mtimes; regular files via
 * copy_file_range.  With @skip_git, a top-level ".git" is skipped.
 * Errors: FERR_IO naming the path; a partial @dst may be left (remove it
 * with workspace_rmtree).
 */
enum ferr_code workspace_copy(const char *src, const char *dst, bool skip_git,
                              struct ferr *err) FERR_MUST_CHECK;

/** Remove @path and everything below it (no symlink is followed).
 *  A missing path is not an error. */
enum ferr_code workspace_rmtree(const char *path, struct ferr *err)
    FERR_MUST_CHECK;

/** mkdir -p with mode 0755. */
enum ferr_code workspace_mkdirs(const char *path, struct ferr *err)
    FERR_MUST_CHECK;

/**
 * Check a user-supplied relative path (artifact name, cache path, local
 * action path): not empty, not absolute, no ".." component, no NUL, at
 * most 4096 bytes.  Errors: FERR_INVALID saying which rule.
 */
enum ferr_code workspace_check_relpath(const char *path, struct ferr *err)
    FERR_MUST_CHECK;

/** Read a whole file up to @max bytes; the caller frees *out.
 *  Errors: FERR_IO, FERR_LIMIT. */
enum ferr_code workspace_read_file(const char *path, size_t max, char **out,
                                   size_t *out_len, struct ferr *err)
    FERR_MUST_CHECK;

/** Write @len bytes to @path atomically (temp file + rename). */
enum ferr_code workspace_write_file(const char *path, const void *p,
                                    size_t len, struct ferr *err)
    FERR_MUST_CHECK;

#endif
