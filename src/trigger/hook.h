/* hook: install ferry's post-receive hook into a local repository, so a
 * push to it notifies the server (`ferry hook-notify` posts the hook's
 * stdin to /hooks/git, signed with the repository's hook key). */
#ifndef FERRY_TRIGGER_HOOK_H
#define FERRY_TRIGGER_HOOK_H

#include "util/ferr.h"

/**
 * Install a post-receive hook in the repository at @repo_path (bare or
 * the top of a worktree; found with libgit2, no upward search).  The
 * hooks directory is core.hooksPath when set (a relative value is taken
 * from the worktree top, or the git dir of a bare repository, as git
 * does), else GITDIR/hooks; it is created when missing.  Writes:
 *   - hooks/ferry-hook.key: @key, mode 0600;
 *   - hooks/post-receive, mode 0755, a sh script whose command is
 *       exec 'FERRY_BIN' hook-notify --server 'URL' --repo 'NAME'
 *            --key-file '/abs/hooks/ferry-hook.key'
 *     (every value POSIX single-quoted; stdin passes through exec).
 * Each file is written atomically (a new O_EXCL|O_NOFOLLOW temp file in
 * the hooks directory, fsync, rename), so a symlink planted at either
 * name is replaced, never followed.  A post-receive that ferry did not
 * write (no ferry marker line, a symlink, not a regular file) is never
 * touched.  Re-installing over ferry's own hook replaces it and the key.
 * Ownership: all arguments are borrowed.
 * Errors: FERR_INVALID for an empty argument or one with a control
 * character, and for a foreign hook: "'PATH' exists and was not written
 * by ferry; add this line to it: CMD" (nothing is written then);
 * FERR_NOTFOUND when @repo_path is not a repository; FERR_IO.
 * Context: any thread.
 */
enum ferr_code hook_install(const char *repo_path, const char *ferry_bin,
                            const char *server_url, const char *repo_name,
                            const char *key, struct ferr *err)
    FERR_MUST_CHECK;

#endif
