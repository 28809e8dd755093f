/* hook: writes ferry's post-receive hook and its key file into a local
 * repository's hooks directory (found through libgit2, honouring
 * core.hooksPath).  It never edits a hook it did not write and never runs
 * the hook; the notification itself is `ferry hook-notify`'s job. */
#include "trigger/hook.h"

#include <errno.h>
#include <fcntl.h>
#include <git2.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "exec/workspace.h"
#include "util/buf.h"
#include "util/xalloc.h"

/* The line that marks a post-receive as ferry's own. */
#define MARKER "# ferry post-receive hook: written by ferry, which may " \
               "replace it"
#define SCRIPT_MAX (64u * 1024u) /* a hook we would recognise as ours */

static pthread_once_t init_once = PTHREAD_ONCE_INIT;

static void init_libgit2(void)
{
    (void)git_libgit2_init();
}

static enum ferr_code git_fail(struct ferr *err, const char *what,
                               const char *subject)
{
    const git_error *ge = git_error_last();
    enum ferr_code rc = ferr_set(err, FERR_IO, NULL, "%s '%s': %s", what,
                                 subject,
                                 ge && ge->message ? ge->message
                                                   : "unknown git error");

    git_error_clear();
    return rc;
}

static enum ferr_code check_arg(const char *what, const char *v,
                                struct ferr *err)
{
    if (!v || !*v)
        return ferr_set(err, FERR_INVALID, NULL, "hook: empty %s", what);
    for (const unsigned char *p = (const unsigned char *)v; *p; p++)
        if (*p < 0x20 || *p == 0x7f)
            return ferr_set(err, FERR_INVALID, NULL,
                            "hook: %s has a control character", what);
    return FERR_OK;
}

/* Append @s single-quoted for sh: ' becomes '\''. */
static enum ferr_code add_quoted(struct buf *b, const char *s)
{
    enum ferr_code rc = buf_addch(b, '\'');

    for (; !rc && *s; s++)
        rc = *s == '\'' ? buf_adds(b, "'\\''") : buf_addch(b, *s);
    return rc ? rc : buf_addch(b, '\'');
}

/* The absolute hooks directory of the repository at @repo_path. */
static enum ferr_code hooks_dir(const char *repo_path, char **out,
                                struct ferr *err)
{
    git_repository *repo = NULL;
    git_config *cfg = NULL;
    git_buf gb = { 0 };
    char *dir = NULL;
    char real[PATH_MAX];
    enum ferr_code rc = FERR_OK;
    int grc;

    *out = NULL;
    pthread_once(&init_once, init_libgit2);
    grc = git_repository_open_ext(&repo, repo_path,
                                  GIT_REPOSITORY_OPEN_NO_SEARCH, NULL);
    if (grc == GIT_ENOTFOUND) {
        git_error_clear();
        return ferr_set(err, FERR_NOTFOUND, NULL,
                        "'%s' is not a git repository", repo_path);
    }
    if (grc < 0)
        return git_fail(err, "cannot open repository", repo_path);
    if (git_repository_config_snapshot(&cfg, repo) < 0) {
        rc = git_fail(err, "cannot read config of", repo_path);
        goto done;
    }
    grc = git_config_get_path(&gb, cfg, "core.hooksPath");
    if (grc == 0 && gb.ptr && gb.ptr[0]) {
        if (gb.ptr[0] == '/') {
            dir = xstrdup(gb.ptr);
        } else {
            const char *base = git_repository_workdir(repo);

            if (!base)
                base = git_repository_path(repo);
            dir = xasprintf("%s%s%s", base,
                            base[strlen(base) - 1] == '/' ? "" : "/",
                            gb.ptr);
        }
    } else if (grc < 0 && grc != GIT_ENOTFOUND) {
        rc = git_fail(err, "cannot read core.hooksPath of", repo_path);
        goto done;
    } else {
        git_buf_dispose(&gb);
        if (git_repository_item_path(&gb, repo, GIT_REPOSITORY_ITEM_HOOKS) <
            0) {
            rc = git_fail(err, "cannot find hooks of", repo_path);
            goto done;
        }
        dir = xstrdup(gb.ptr);
    }
    git_error_clear();
    rc = workspace_mkdirs(dir, err);
    if (rc)
        goto done;
    if (!realpath(dir, real)) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot resolve '%s': %s", dir,
                      strerror(errno));
        goto done;
    }
    *out = xstrdup(real);
done:
    free(dir);
    git_buf_dispose(&gb);
    git_config_free(cfg);
    git_repository_free(repo);
    return rc;
}

/* Did ferry write the file at @path?  ENOENT answers *@missing. */
static enum ferr_code is_ours(const char *path, bool *missing, bool *ours,
                              struct ferr *err)
{
    struct stat st;
    char *text = NULL;
    size_t len = 0;
    enum ferr_code rc;

    *missing = false;
    *ours = false;
    if (lstat(path, &st) < 0) {
        if (errno == ENOENT) {
            *missing = true;
            return FERR_OK;
        }
        return ferr_set(err, FERR_IO, NULL, "cannot stat '%s': %s", path,
                        strerror(errno));
    }
    if (!S_ISREG(st.st_mode) || st.st_size > (off_t)SCRIPT_MAX)
        return FERR_OK;
    rc = workspace_read_file(path, SCRIPT_MAX, &text, &len, err);
    if (rc == FERR_LIMIT) {
        ferr_clear(err);
        return FERR_OK;
    }
    if (rc)
        return rc;
    *ours = memmem(text, len, MARKER "\n", sizeof(MARKER)) != NULL;
    free(text);
    return FERR_OK;
}

/* Write @len bytes to @path with mode @mode, atomically: a fresh temp
 * file beside it (O_EXCL|O_NOFOLLOW), fsync, rename, fsync of the dir. */
static enum ferr_code write_atomic(const char *dir, const char *path,
                                   const char *data, size_t len, mode_t mode,
                                   struct ferr *err)
{
    static unsigned counter;
    char *tmp = NULL;
    size_t off = 0;
    enum ferr_code rc = FERR_OK;
    int fd = -1;
    int dfd;

    for (int tries = 0; fd < 0 && tries < 100; tries++) {
        free(tmp);
        tmp = xasprintf("%s.tmp.%ld.%u", path, (long)getpid(),
                        __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                  mode);
        if (fd < 0 && errno != EEXIST)
            break;
    }
    if (fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", tmp,
                      strerror(errno));
        free(tmp);
        return rc;
    }
    if (fchmod(fd, mode) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot chmod '%s': %s", tmp,
                      strerror(errno));
    while (!rc && off < len) {
        ssize_t w = write(fd, data + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                          strerror(w < 0 ? errno : EIO));
        else
            off += (size_t)w;
    }
    if (!rc && fsync(fd) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot sync '%s': %s", tmp,
                      strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (!rc && rename(tmp, path) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot rename '%s' to '%s': %s",
                      tmp, path, strerror(errno));
    if (rc)
        (void)unlink(tmp);
    free(tmp);
    if (rc)
        return rc;
    dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        (void)fsync(dfd); /* best effort: the rename is already visible */
        close(dfd);
    }
    return FERR_OK;
}

enum ferr_code hook_install(const char *repo_path, const char *ferry_bin,
                            const char *server_url, const char *repo_name,
                            const char *key, struct ferr *err)
{
    struct buf cmd;
    struct buf script;
    char *dir = NULL;
    char *key_path = NULL;
    char *hook_path = NULL;
    bool missing;
    bool ours;
    enum ferr_code rc;

    buf_init(&cmd, 4 * PATH_MAX + 4 * 1024);
    buf_init(&script, SCRIPT_MAX);
    rc = check_arg("repository path", repo_path, err);
    if (!rc)
        rc = check_arg("ferry binary", ferry_bin, err);
    if (!rc)
        rc = check_arg("server url", server_url, err);
    if (!rc)
        rc = check_arg("repository name", repo_name, err);
    if (!rc && (!key || !*key))
        rc = ferr_set(err, FERR_INVALID, NULL, "hook: empty key");
    if (!rc)
        rc = hooks_dir(repo_path, &dir, err);
    if (rc)
        goto done;
    key_path = xasprintf("%s/ferry-hook.key", dir);
    hook_path = xasprintf("%s/post-receive", dir);
    if ((rc = add_quoted(&cmd, ferry_bin)) ||
        (rc = buf_adds(&cmd, " hook-notify --server ")) ||
        (rc = add_quoted(&cmd, server_url)) ||
        (rc = buf_adds(&cmd, " --repo ")) ||
        (rc = add_quoted(&cmd, repo_name)) ||
        (rc = buf_adds(&cmd, " --key-file ")) ||
        (rc = add_quoted(&cmd, key_path))) {
        rc = ferr_set(err, rc, NULL, "hook: command line too long");
        goto done;
    }
    rc = is_ours(hook_path, &missing, &ours, err);
    if (rc)
        goto done;
    if (!missing && !ours) {
        rc = ferr_set(err, FERR_INVALID, NULL,
                      "'%s' exists and was not written by ferry; add this "
                      "line to it (the command reads the hook's stdin): %s",
                      hook_path, buf_cstr(&cmd));
        goto done;
    }
    if (buf_addf(&script,
                 "#!/bin/sh\n" MARKER "\n"
                 "# forwards each push (the 'old new ref' lines on stdin) "
                 "to the ferry server\n"
                 "exec %s\n",
                 buf_cstr(&cmd))) {
        rc = ferr_set(err, FERR_LIMIT, NULL, "hook: script too long");
        goto done;
    }
    rc = write_atomic(dir, key_path, key, strlen(key), 0600, err);
    if (!rc)
        rc = write_atomic(dir, hook_path, script.p, script.len, 0755, err);
done:
    buf_release(&script);
    buf_release(&cmd);
    free(hook_path);
    free(key_path);
    free(dir);
    return rc;
}
