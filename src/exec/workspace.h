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
 * copy_file_range (read/write across filesystems).  Sockets, fifos and
 * devices are skipped silently.  With @skip_git, a top-level ".git" (dir
 * or gitfile) is skipped.  Any depth works: at most ~70 descriptors are
 * open at a time.  Ownership is not copied.
 * Errors: FERR_NOTFOUND (@src missing), FERR_IO naming the path; a
 * partial @dst may be left (remove it with workspace_rmtree).
 */
enum ferr_code workspace_copy(const char *src, const char *dst, bool skip_git,
                              struct ferr *err) FERR_MUST_CHECK;

/**
 * Remove @path and everything below it.  No symlink is followed (a link,
 * also @path itself, is removed as a link); read-only directories are
 * made writable first; any depth works.  A missing path is not an error.
 * Errors: FERR_IO naming the entry; what was removed stays removed.
 */
enum ferr_code workspace_rmtree(const char *path, struct ferr *err)
    FERR_MUST_CHECK;

/** mkdir -p with mode 0755 (symlinks to directories are followed).
 *  Errors: FERR_INVALID (empty path), FERR_IO (a component is a file). */
enum ferr_code workspace_mkdirs(const char *path, struct ferr *err)
    FERR_MUST_CHECK;

/**
 * Check a user-supplied relative path (artifact name, cache path, local
 * action path): not empty, not absolute, no ".." component, no NUL, at
 * most 4096 bytes.  Errors: FERR_INVALID saying which rule.
 */
enum ferr_code workspace_check_relpath(const char *path, struct ferr *err)
    FERR_MUST_CHECK;

/** Read a whole file up to @max bytes; the caller frees *out (NUL-
 *  terminated; *out_len excludes the NUL).  Errors: FERR_NOTFOUND,
 *  FERR_IO, FERR_LIMIT (also checked while reading, for /proc-like
 *  files); then *out is NULL and *out_len 0. */
enum ferr_code workspace_read_file(const char *path, size_t max, char **out,
                                   size_t *out_len, struct ferr *err)
    FERR_MUST_CHECK;

/** Read the file @name (one path component) in the directory @dirfd, as
 *  workspace_read_file, for files that something untrusted may have
 *  replaced (the runner files a step or a job container writes): a
 *  symbolic link at @name is refused, not followed, and anything but a
 *  regular file (a FIFO, a device) is refused without blocking.  @dir
 *  names the directory in messages.  Errors: FERR_NOTFOUND, FERR_IO,
 *  FERR_LIMIT, FERR_INVALID (a link, not a regular file); then *out is
 *  NULL and *out_len 0. */
enum ferr_code workspace_read_at(int dirfd, const char *dir, const char *name,
                                 size_t max, char **out, size_t *out_len,
                                 struct ferr *err) FERR_MUST_CHECK;

/** workspace_put_file for the file @name in the directory @dirfd (@dir
 *  names it in messages): a link at @name is refused, and a FIFO there
 *  never blocks the open. */
enum ferr_code workspace_put_at(int dirfd, const char *dir, const char *name,
                                const void *p, size_t len, struct ferr *err)
    FERR_MUST_CHECK;

/** Create or truncate @path (mode 0644 when new) and write @len bytes:
 *  no fsync, no rename — for scratch files that die with their job
 *  (scripts, runner files).  A symlink at @path is refused, never
 *  followed.  Errors: FERR_IO; @path may be partial. */
enum ferr_code workspace_put_file(const char *path, const void *p, size_t len,
                                  struct ferr *err) FERR_MUST_CHECK;

/** Write @len bytes to @path atomically: a temp file in the same
 *  directory, fsync, rename.  An existing file's mode is kept, else 0644.
 *  Errors: FERR_IO; @path is then unchanged. */
enum ferr_code workspace_write_file(const char *path, const void *p,
                                    size_t len, struct ferr *err)
    FERR_MUST_CHECK;

#endif
