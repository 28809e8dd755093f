/* workspace: per-job directories on the local filesystem — copy a source
 * tree (links kept as links, modes and mtimes preserved), remove a tree
 * without following links, check user-supplied relative paths, and read
 * or atomically write small files.  Both tree walks are iterative and keep
 * a bounded number of descriptors open, so deep trees are fine.  No
 * processes, no git, no ownership (chown) changes. */
#include "exec/workspace.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include "util/buf.h"
#include "util/xalloc.h"

#define RELPATH_MAX 4096u
#define COPY_CHUNK (1u << 20)
#define RW_CHUNK (128u * 1024u)
/* frames deeper than this many levels below the top one get their
 * descriptors closed and reopened through ".." when the walk returns */
#define KEEP_OPEN 32u

/* One directory level of a walk: its listing (read up front, so the
 * descriptor can be closed and reopened without losing our place) and
 * the descriptors of the directory in each of the (up to) two trees. */
struct frame {
    char **names;      /* entries except "." and ".." */
    size_t n;          /* number of names */
    size_t i;          /* next name to process */
    char *name;        /* this directory's name in its parent; NULL on top */
    int fd[2];         /* -1 when closed (or tree unused) */
    dev_t dev[2];      /* identity, to verify a reopen through ".." */
    ino_t ino[2];
    struct stat st;    /* the source directory (copy: mode and times) */
};

struct walk {
    struct frame *f;
    size_t n, cap;
    int ntrees;        /* 1 for rmtree, 2 for copy (0 = source) */
};

static void frame_release(struct frame *fr)
{
    size_t i;

    for (i = 0; i < fr->n; i++)
        free(fr->names[i]);
    free(fr->names);
    free(fr->name);
    for (i = 0; i < 2; i++)
        if (fr->fd[i] >= 0)
            close(fr->fd[i]);
    memset(fr, 0, sizeof(*fr));
    fr->fd[0] = -1;
    fr->fd[1] = -1;
}

static void walk_release(struct walk *w)
{
    while (w->n > 0)
        frame_release(&w->f[--w->n]);
    free(w->f);
    w->f = NULL;
    w->cap = 0;
}

/* Read the names in directory @fd (borrowed) into @fr. */
static enum ferr_code list_dir(int fd, struct frame *fr, const char *what,
                               struct ferr *err)
{
    struct dirent *de;
    size_t cap = 0;
    DIR *d;
    int dfd;

    dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", what,
                        strerror(errno));
    d = fdopendir(dfd);
    if (!d) {
        close(dfd);
        return ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", what,
                        strerror(errno));
    }
    for (;;) {
        errno = 0;
        de = readdir(d);
        if (!de)
            break;
        if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
            continue;
        if (fr->n == cap) {
            cap = cap ? cap * 2 : 16;
            fr->names = xrealloc(fr->names, cap * sizeof(*fr->names));
        }
        fr->names[fr->n++] = xstrdup(de->d_name);
    }
    if (errno) {
        int e = errno;

        closedir(d);
        return ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", what,
                        strerror(e));
    }
    closedir(d);
    return FERR_OK;
}

/* Push a frame that owns @fds (closed on any failure too). */
static enum ferr_code walk_push(struct walk *w, const int fds[2], char *name,
                                const struct stat *st, const char *what,
                                struct ferr *err)
{
    struct frame *fr;
    struct stat fst;
    enum ferr_code rc = FERR_OK;
    int t;

    if (w->n == w->cap) {
        w->cap = w->cap ? w->cap * 2 : 16;
        w->f = xrealloc(w->f, w->cap * sizeof(*w->f));
    }
    fr = &w->f[w->n++];
    memset(fr, 0, sizeof(*fr));
    fr->name = name;
    fr->st = *st;
    for (t = 0; t < 2; t++) {
        fr->fd[t] = fds[t];
        if (fds[t] < 0)
            continue;
        if (fstat(fds[t], &fst) < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot stat '%s': %s", what,
                          strerror(errno));
            continue;
        }
        fr->dev[t] = fst.st_dev;
        fr->ino[t] = fst.st_ino;
    }
    if (!rc)
        rc = list_dir(fr->fd[0], fr, what, err);
    if (rc)
        return rc; /* the frame stays on the stack; walk_release frees it */
    /* bound the descriptors in use: close a far ancestor's */
    if (w->n > KEEP_OPEN + 1) {
        struct frame *old = &w->f[w->n - KEEP_OPEN - 2];

        for (t = 0; t < 2; t++) {
            if (old->fd[t] >= 0) {
                close(old->fd[t]);
                old->fd[t] = -1;
            }
        }
    }
    return FERR_OK;
}

/* Reopen the closed descriptors of the parent of the top frame through
 * "..", checking that it is still the same directory. */
static enum ferr_code walk_reopen_parent(struct walk *w, struct ferr *err)
{
    struct frame *top = &w->f[w->n - 1];
    struct frame *par = &w->f[w->n - 2];
    struct stat st;
    int t;

    for (t = 0; t < w->ntrees; t++) {
        int fd;

        if (par->fd[t] >= 0)
            continue;
        fd = openat(top->fd[t], "..",
                    O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
        if (fd < 0)
            return ferr_set(err, FERR_IO, NULL,
                            "cannot reopen parent of '%s': %s", top->name,
                            strerror(errno));
        if (fstat(fd, &st) < 0 || st.st_dev != par->dev[t] ||
            st.st_ino != par->ino[t]) {
            close(fd);
            return ferr_set(err, FERR_IO, NULL,
                            "directory moved during walk near '%s'",
                            top->name);
        }
        par->fd[t] = fd;
    }
    return FERR_OK;
}

/* ---- copy ------------------------------------------------------------ */

static enum ferr_code copy_data(int in, int out, const char *name,
                                struct ferr *err)
{
    char *buf = NULL;
    bool use_cfr = true;
    enum ferr_code rc = FERR_OK;

    for (;;) {
        ssize_t n;

        if (use_cfr) {
            n = copy_file_range(in, NULL, out, NULL, COPY_CHUNK, 0);
            if (n < 0 && (errno == EXDEV || errno == ENOSYS ||
                          errno == EINVAL || errno == EOPNOTSUPP ||
                          errno == EPERM)) {
                use_cfr = false;
                continue;
            }
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0) {
                rc = ferr_set(err, FERR_IO, NULL, "cannot copy '%s': %s",
                              name, strerror(errno));
                break;
            }
            if (n == 0)
                break;
            continue;
        }
        if (!buf)
            buf = xmalloc(RW_CHUNK);
        n = read(in, buf, RW_CHUNK);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", name,
                          strerror(errno));
            break;
        }
        if (n == 0)
            break;
        for (ssize_t off = 0; off < n;) {
            ssize_t w = write(out, buf + off, (size_t)(n - off));

            if (w < 0 && errno == EINTR)
                continue;
            if (w < 0) {
                rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s",
                              name, strerror(errno));
                goto done;
            }
            off += w;
        }
    }
done:
    free(buf);
    return rc;
}

static enum ferr_code copy_file(int sdir, int ddir, const char *name,
                                struct ferr *err)
{
    struct stat st;
    struct timespec ts[2];
    enum ferr_code rc = FERR_OK;
    int in;
    int out = -1;

    in = openat(sdir, name,
                O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
    if (in < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", name,
                        strerror(errno));
    if (fstat(in, &st) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot stat '%s': %s", name,
                      strerror(errno));
        goto done;
    }
    if (!S_ISREG(st.st_mode))
        goto done; /* replaced under us by something we skip */
    out = openat(ddir, name,
                 O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (out < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", name,
                      strerror(errno));
        goto done;
    }
    rc = copy_data(in, out, name, err);
    if (rc)
        goto done;
    ts[0] = st.st_atim;
    ts[1] = st.st_mtim;
    if (fchmod(out, st.st_mode & 07777) < 0 || futimens(out, ts) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot set mode of '%s': %s",
                      name, strerror(errno));
done:
    if (out >= 0 && close(out) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", name,
                      strerror(errno));
    close(in);
    return rc;
}

static enum ferr_code copy_link(int sdir, int ddir, const char *name,
                                const struct stat *st, struct ferr *err)
{
    struct timespec ts[2];
    char target[RELPATH_MAX + 1];
    ssize_t n;

    n = readlinkat(sdir, name, target, sizeof(target));
    if (n < 0 || (size_t)n >= sizeof(target))
        return ferr_set(err, FERR_IO, NULL, "cannot read link '%s': %s",
                        name, n < 0 ? strerror(errno) : "target too long");
    target[n] = '\0';
    if (symlinkat(target, ddir, name) < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot create link '%s': %s",
                        name, strerror(errno));
    ts[0] = st->st_atim;
    ts[1] = st->st_mtim;
    (void)utimensat(ddir, name, ts, AT_SYMLINK_NOFOLLOW); /* best effort */
    return FERR_OK;
}

/* Finish the top directory of a copy: apply the source's mode and times
 * (now that nothing more is written into it) and pop it. */
static enum ferr_code copy_pop(struct walk *w, struct ferr *err)
{
    struct frame *top = &w->f[w->n - 1];
    struct timespec ts[2];
    enum ferr_code rc = FERR_OK;

    ts[0] = top->st.st_atim;
    ts[1] = top->st.st_mtim;
    if (fchmod(top->fd[1], top->st.st_mode & 07777) < 0 ||
        futimens(top->fd[1], ts) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot set mode of '%s': %s",
                      top->name ? top->name : ".", strerror(errno));
    if (!rc && w->n > 1)
        rc = walk_reopen_parent(w, err);
    frame_release(top);
    w->n--;
    return rc;
}

static enum ferr_code copy_entry(struct walk *w, const char *name,
                                 struct ferr *err)
{
    struct frame *top = &w->f[w->n - 1];
    struct stat st;
    int fds[2] = { -1, -1 };

    if (fstatat(top->fd[0], name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
        if (errno == ENOENT)
            return FERR_OK; /* vanished since the listing */
        return ferr_set(err, FERR_IO, NULL, "cannot stat '%s': %s", name,
                        strerror(errno));
    }
    if (S_ISREG(st.st_mode))
        return copy_file(top->fd[0], top->fd[1], name, err);
    if (S_ISLNK(st.st_mode))
        return copy_link(top->fd[0], top->fd[1], name, &st, err);
    if (!S_ISDIR(st.st_mode))
        return FERR_OK; /* sockets, fifos, devices are skipped */
    if (st.st_dev == w->f[0].dev[1] && st.st_ino == w->f[0].ino[1])
        return FERR_OK; /* @dst inside @src: never copy the copy */
    fds[0] = openat(top->fd[0], name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fds[0] < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", name,
                        strerror(errno));
    /* writable while we fill it; copy_pop applies the real mode */
    if (mkdirat(top->fd[1], name, 0700) < 0 ||
        (fds[1] = openat(top->fd[1], name,
                         O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) <
            0) {
        close(fds[0]);
        return ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", name,
                        strerror(errno));
    }
    return walk_push(w, fds, xstrdup(name), &st, name, err);
}

enum ferr_code workspace_copy(const char *src, const char *dst, bool skip_git,
                              struct ferr *err)
{
    struct walk w = { NULL, 0, 0, 2 };
    struct stat st;
    int fds[2] = { -1, -1 };
    enum ferr_code rc = FERR_OK;

    fds[0] = open(src, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fds[0] < 0)
        return ferr_set(err, errno == ENOENT ? FERR_NOTFOUND : FERR_IO,
                        NULL, "cannot open '%s': %s", src, strerror(errno));
    if (fstat(fds[0], &st) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot stat '%s': %s", src,
                      strerror(errno));
        close(fds[0]);
        return rc;
    }
    if (mkdir(dst, 0700) < 0 ||
        (fds[1] = open(dst, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
                                O_CLOEXEC)) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", dst,
                      strerror(errno));
        close(fds[0]);
        return rc;
    }
    rc = walk_push(&w, fds, NULL, &st, src, err);
    while (!rc && w.n > 0) {
        struct frame *top = &w.f[w.n - 1];
        const char *name;

        if (top->i == top->n) {
            rc = copy_pop(&w, err);
            continue;
        }
        name = top->names[top->i++];
        if (skip_git && w.n == 1 && !strcmp(name, ".git"))
            continue;
        rc = copy_entry(&w, name, err);
    }
    if (rc)
        ferr_prefix(err, "copy '%s' to '%s'", src, dst);
    walk_release(&w);
    return rc;
}

/* ---- rmtree ---------------------------------------------------------- */

/* Open directory @name in @dir for removal of its entries, giving
 * ourselves rwx on it first when needed (read-only trees). */
static int open_for_removal(int dir, const char *name)
{
    struct stat st;
    int fd;

    fd = openat(dir, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0 && errno == EACCES) {
        if (fstatat(dir, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
            return -1;
        if (!S_ISDIR(st.st_mode)) {
            errno = ENOTDIR;
            return -1;
        }
        if (fchmodat(dir, name, (st.st_mode & 07777) | S_IRWXU, 0) < 0)
            return -1;
        fd = openat(dir, name,
                    O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
    }
    if (fd < 0)
        return -1;
    if (fstat(fd, &st) < 0 ||
        ((st.st_mode & S_IRWXU) != S_IRWXU &&
         fchmod(fd, (st.st_mode & 07777) | S_IRWXU) < 0)) {
        int e = errno;

        close(fd);
        errno = e;
        return -1;
    }
    return fd;
}

static enum ferr_code rm_entry(struct walk *w, const char *name,
                               struct ferr *err)
{
    struct frame *top = &w->f[w->n - 1];
    struct stat st;
    int fds[2] = { -1, -1 };

    if (unlinkat(top->fd[0], name, 0) == 0 || errno == ENOENT)
        return FERR_OK;
    if (errno != EISDIR &&
        (errno != EPERM ||
         fstatat(top->fd[0], name, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
         !S_ISDIR(st.st_mode)))
        return ferr_set(err, FERR_IO, NULL, "cannot remove '%s': %s", name,
                        strerror(errno));
    fds[0] = open_for_removal(top->fd[0], name);
    if (fds[0] < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", name,
                        strerror(errno));
    memset(&st, 0, sizeof(st));
    return walk_push(w, fds, xstrdup(name), &st, name, err);
}

static enum ferr_code rm_pop(struct walk *w, const char *path,
                             struct ferr *err)
{
    struct frame *top = &w->f[w->n - 1];
    enum ferr_code rc = FERR_OK;

    if (w->n == 1) {
        frame_release(top);
        w->n--;
        if (rmdir(path) < 0 && errno != ENOENT)
            return ferr_set(err, FERR_IO, NULL, "cannot remove '%s': %s",
                            path, strerror(errno));
        return FERR_OK;
    }
    rc = walk_reopen_parent(w, err);
    if (!rc) {
        struct frame *par = &w->f[w->n - 2];

        if (unlinkat(par->fd[0], top->name, AT_REMOVEDIR) < 0 &&
            errno != ENOENT)
            rc = ferr_set(err, FERR_IO, NULL, "cannot remove '%s': %s",
                          top->name, strerror(errno));
    }
    frame_release(top);
    w->n--;
    return rc;
}

enum ferr_code workspace_rmtree(const char *path, struct ferr *err)
{
    struct walk w = { NULL, 0, 0, 1 };
    struct stat st;
    int fds[2] = { -1, -1 };
    enum ferr_code rc;

    if (lstat(path, &st) < 0) {
        if (errno == ENOENT)
            return FERR_OK;
        return ferr_set(err, FERR_IO, NULL, "cannot stat '%s': %s", path,
                        strerror(errno));
    }
    if (!S_ISDIR(st.st_mode)) {
        if (unlink(path) < 0 && errno != ENOENT)
            return ferr_set(err, FERR_IO, NULL, "cannot remove '%s': %s",
                            path, strerror(errno));
        return FERR_OK;
    }
    fds[0] = open_for_removal(AT_FDCWD, path);
    if (fds[0] < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", path,
                        strerror(errno));
    rc = walk_push(&w, fds, NULL, &st, path, err);
    while (!rc && w.n > 0) {
        struct frame *top = &w.f[w.n - 1];

        if (top->i == top->n)
            rc = rm_pop(&w, path, err);
        else
            rc = rm_entry(&w, top->names[top->i++], err);
    }
    if (rc)
        ferr_prefix(err, "remove '%s'", path);
    walk_release(&w);
    return rc;
}

/* ---- small helpers --------------------------------------------------- */

enum ferr_code workspace_mkdirs(const char *path, struct ferr *err)
{
    struct stat st;
    char *p;
    size_t len;
    enum ferr_code rc = FERR_OK;

    len = strlen(path);
    if (len == 0)
        return ferr_set(err, FERR_INVALID, NULL, "empty directory path");
    p = xstrdup(path);
    for (size_t i = 1; i <= len; i++) {
        if (p[i] != '/' && p[i] != '\0')
            continue;
        if (p[i - 1] == '/')
            continue;
        p[i] = '\0';
        if (mkdir(p, 0755) < 0 &&
            (errno != EEXIST || stat(p, &st) < 0 || !S_ISDIR(st.st_mode))) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", p,
                          errno == EEXIST ? strerror(ENOTDIR)
                                          : strerror(errno));
            break;
        }
        if (i < len)
            p[i] = '/';
    }
    free(p);
    return rc;
}

enum ferr_code workspace_check_relpath(const char *path, struct ferr *err)
{
    const char *c;
    size_t len;

    if (!path || !*path)
        return ferr_set(err, FERR_INVALID, NULL, "empty path");
    len = strnlen(path, RELPATH_MAX + 1);
    if (len > RELPATH_MAX)
        return ferr_set(err, FERR_INVALID, NULL,
                        "path is longer than %u bytes", RELPATH_MAX);
    if (path[0] == '/')
        return ferr_set(err, FERR_INVALID, NULL,
                        "path '%s' must be relative", path);
    for (c = path; *c;) {
        const char *end = strchr(c, '/');
        size_t n = end ? (size_t)(end - c) : strlen(c);

        if (n == 2 && c[0] == '.' && c[1] == '.')
            return ferr_set(err, FERR_INVALID, NULL,
                            "path '%s' must not contain '..'", path);
        c += n;
        if (*c == '/')
            c++;
    }
    return FERR_OK;
}

/* Read @fd (closed here) to its end, up to @max bytes; @shown names it
 * in messages.  With @plain, only a regular file is read. */
static enum ferr_code read_fd(int fd, const char *shown, size_t max, bool plain,
                             char **out, size_t *out_len, struct ferr *err)
{
    struct buf b;
    struct stat st;
    enum ferr_code rc = FERR_OK;

    buf_init(&b, max);
    if (fstat(fd, &st) < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", shown,
                      strerror(errno));
        goto done;
    }
    if (plain && !S_ISREG(st.st_mode)) {
        rc = ferr_set(err, FERR_INVALID, NULL, "'%s' is not a regular file",
                      shown);
        goto done;
    }
    if (S_ISREG(st.st_mode) && st.st_size >= 0 &&
        (uint64_t)st.st_size > max) {
        rc = ferr_set(err, FERR_LIMIT, NULL,
                      "'%s' is larger than %zu bytes", shown, max);
        goto done;
    }
    for (;;) {
        char chunk[16384];
        ssize_t n = read(fd, chunk, sizeof(chunk));

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", shown,
                          strerror(errno));
            goto done;
        }
        if (n == 0)
            break;
        if (buf_add(&b, chunk, (size_t)n)) {
            rc = ferr_set(err, FERR_LIMIT, NULL,
                          "'%s' is larger than %zu bytes", shown, max);
            goto done;
        }
    }
    *out = buf_take(&b, out_len);
done:
    buf_release(&b);
    close(fd);
    return rc;
}

enum ferr_code workspace_read_file(const char *path, size_t max, char **out,
                                   size_t *out_len, struct ferr *err)
{
    int fd;

    *out = NULL;
    *out_len = 0;
    fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    if (fd < 0)
        return ferr_set(err, errno == ENOENT ? FERR_NOTFOUND : FERR_IO,
                        NULL, "cannot open '%s': %s", path, strerror(errno));
    return read_fd(fd, path, max, false, out, out_len, err);
}

enum ferr_code workspace_read_at(int dirfd, const char *dir, const char *name,
                                 size_t max, char **out, size_t *out_len,
                                 struct ferr *err)
{
    char *shown = xasprintf("%s/%s", dir, name);
    enum ferr_code rc;
    int fd;

    *out = NULL;
    *out_len = 0;
    /* O_NONBLOCK: a FIFO must not hang the open (it is refused after) */
    fd = openat(dirfd, name,
                O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NOFOLLOW | O_NONBLOCK);
    if (fd < 0) {
        rc = ferr_set(err,
                      errno == ENOENT ? FERR_NOTFOUND
                      : errno == ELOOP ? FERR_INVALID
                                       : FERR_IO,
                      NULL,
                      errno == ELOOP ? "'%s' is a symbolic link"
                                     : "cannot open '%s': %s",
                      shown, strerror(errno));
        free(shown);
        return rc;
    }
    rc = read_fd(fd, shown, max, true, out, out_len, err);
    free(shown);
    return rc;
}

/* Write all of @p to @fd; false with errno on failure. */
static bool write_all(int fd, const void *p, size_t len)
{
    size_t off = 0;

    while (off < len) {
        ssize_t n = write(fd, (const char *)p + off, len - off);

        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        off += (size_t)n;
    }
    return true;
}

enum ferr_code workspace_put_file(const char *path, const void *p, size_t len,
                                  struct ferr *err)
{
    /* O_NOFOLLOW: a step may have replaced its runner file with a link,
     * and the next reset must not truncate what the link points to */
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW,
                  0644);
    enum ferr_code rc = FERR_OK;

    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", path,
                        strerror(errno));
    if (!write_all(fd, p, len))
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", path,
                      strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", path,
                      strerror(errno));
    return rc;
}

enum ferr_code workspace_put_at(int dirfd, const char *dir, const char *name,
                                const void *p, size_t len, struct ferr *err)
{
    int fd = openat(dirfd, name,
                    O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW |
                        O_NONBLOCK,
                    0644);
    enum ferr_code rc = FERR_OK;

    if (fd < 0)
        return ferr_set(err, FERR_IO, NULL, "cannot create '%s/%s': %s", dir,
                        name, strerror(errno));
    if (!write_all(fd, p, len))
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s/%s': %s", dir,
                      name, strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s/%s': %s", dir,
                      name, strerror(errno));
    return rc;
}

enum ferr_code workspace_write_file(const char *path, const void *p,
                                    size_t len, struct ferr *err)
{
    struct stat st;
    const char *slash;
    char *tmp;
    char *dir;
    enum ferr_code rc = FERR_OK;
    mode_t mode = 0644;
    int fd;

    if (stat(path, &st) == 0 && S_ISREG(st.st_mode))
        mode = st.st_mode & 07777;
    tmp = xasprintf("%s.tmp.XXXXXX", path);
    fd = mkostemp(tmp, O_CLOEXEC);
    if (fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot create '%s': %s", tmp,
                      strerror(errno));
        free(tmp);
        return rc;
    }
    if (!write_all(fd, p, len))
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (!rc && (fchmod(fd, mode) < 0 || fsync(fd) < 0))
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (close(fd) < 0 && !rc)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
    if (!rc && rename(tmp, path) < 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot rename to '%s': %s", path,
                      strerror(errno));
    if (rc) {
        unlink(tmp);
        free(tmp);
        return rc;
    }
    free(tmp);
    /* make the rename itself durable; failing here loses nothing */
    slash = strrchr(path, '/');
    dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path))
                : xstrdup(".");
    fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
    return FERR_OK;
}
