/* envstate: an environment's directory, its deploy lock (flock), its
 * state.json written atomically, and backup directories.  It does not
 * interpret version records (deploy and strategy do) and does not talk
 * to the server. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "deploy/envstate.h"
#include "util/xalloc.h"

#define STATE_MAX (4u * 1024u * 1024u) /* state.json we agree to read */

bool envstate_name_ok(const char *env)
{
    size_t n = env ? strlen(env) : 0;

    if (n == 0 || n > 64 || env[0] == '.' || env[0] == '-')
        return false;
    for (size_t i = 0; i < n; i++) {
        char c = env[i];

        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
              (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
            return false;
    }
    return true;
}

char *envstate_home_dup(const char *home)
{
    const char *e;

    if (home && *home)
        return xstrdup(home);
    e = getenv("FERRY_DEPLOY_HOME");
    if (e && *e)
        return xstrdup(e);
    e = getenv("XDG_STATE_HOME");
    if (e && *e)
        return xasprintf("%s/ferry/deploy", e);
    e = getenv("HOME");
    return xasprintf("%s/.local/state/ferry/deploy", e && *e ? e : "/tmp");
}

static enum ferr_code mkdirs(const char *path, struct ferr *err)
{
    char *p = xstrdup(path);
    enum ferr_code rc = FERR_OK;

    for (char *s = p + 1;; s++) {
        char c = *s;

        if (c != '/' && c != '\0')
            continue;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot make '%s': %s", p,
                          strerror(errno));
            break;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return rc;
}

enum ferr_code envstate_dir(const char *home, const char *env, char **out,
                            struct ferr *err)
{
    char *dir;
    enum ferr_code rc;

    *out = NULL;
    if (!envstate_name_ok(env))
        return ferr_set(err, FERR_INVALID, NULL,
                        "bad environment name '%s' (letters, digits, '.', "
                        "'_', '-'; at most 64)",
                        env ? env : "");
    dir = xasprintf("%s/%s", home, env);
    rc = mkdirs(dir, err);
    if (rc) {
        free(dir);
        return rc;
    }
    *out = dir;
    return FERR_OK;
}

enum ferr_code envstate_lock(const char *envdir, const char *env,
                             int *out_fd, struct ferr *err)
{
    char *path = xasprintf("%s/lock", envdir);
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0644);
    enum ferr_code rc = FERR_OK;

    *out_fd = -1;
    if (fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot open '%s': %s", path,
                      strerror(errno));
        goto done;
    }
    if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot lock '%s': %s", path,
                          strerror(errno));
            goto done;
        }
        printf("waiting: another deployment to '%s' holds %s\n", env, path);
        fflush(stdout);
        while (flock(fd, LOCK_EX) != 0) {
            if (errno != EINTR) {
                rc = ferr_set(err, FERR_IO, NULL, "cannot lock '%s': %s",
                              path, strerror(errno));
                goto done;
            }
        }
        printf("lock on '%s' taken\n", env);
        fflush(stdout);
    }
    *out_fd = fd;
    fd = -1;
done:
    if (fd >= 0)
        close(fd);
    free(path);
    return rc;
}

enum ferr_code envstate_load(const char *envdir, json_t **out,
                             struct ferr *err)
{
    char *path = xasprintf("%s/state.json", envdir);
    json_error_t je;
    json_t *st = NULL;
    struct stat sb;
    enum ferr_code rc = FERR_OK;

    *out = NULL;
    if (stat(path, &sb) != 0) {
        if (errno != ENOENT) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot read '%s': %s", path,
                          strerror(errno));
            goto done;
        }
        st = json_object();
    } else if (sb.st_size > (off_t)STATE_MAX) {
        rc = ferr_set(err, FERR_LIMIT, NULL, "'%s' is larger than %u bytes",
                      path, STATE_MAX);
        goto done;
    } else {
        st = json_load_file(path, 0, &je);
        if (!st || !json_is_object(st)) {
            rc = ferr_set(err, FERR_PARSE, NULL, "'%s': %s", path,
                          st ? "not a JSON object" : je.text);
            goto done;
        }
    }
    if (!json_object_get(st, "current"))
        json_object_set_new(st, "current", json_null());
    if (!json_object_get(st, "previous"))
        json_object_set_new(st, "previous", json_null());
    if (!json_object_get(st, "locked"))
        json_object_set_new(st, "locked", json_null());
    *out = st;
    st = NULL;
done:
    json_decref(st);
    free(path);
    return rc;
}

enum ferr_code envstate_save(const char *envdir, json_t *state,
                             struct ferr *err)
{
    char *path = xasprintf("%s/state.json", envdir);
    char *tmp = xasprintf("%s/.state.json.XXXXXX", envdir);
    int fd = mkostemp(tmp, O_CLOEXEC);
    char *text = NULL;
    size_t len, off = 0;
    enum ferr_code rc = FERR_OK;

    if (fd < 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
        goto done;
    }
    text = json_dumps(state, JSON_INDENT(2) | JSON_SORT_KEYS);
    len = text ? strlen(text) : 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);

        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                          strerror(errno));
            goto done;
        }
        off += (size_t)w;
    }
    if (write(fd, "\n", 1) != 1 || fsync(fd) != 0) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
        goto done;
    }
    if (close(fd) != 0) {
        fd = -1;
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", tmp,
                      strerror(errno));
        goto done;
    }
    fd = -1;
    if (rename(tmp, path) != 0)
        rc = ferr_set(err, FERR_IO, NULL, "cannot write '%s': %s", path,
                      strerror(errno));
done:
    if (fd >= 0)
        close(fd);
    if (rc)
        unlink(tmp);
    free(text);
    free(tmp);
    free(path);
    return rc;
}

static int rm_one(const char *p, const struct stat *sb, int flag,
                  struct FTW *ftw)
{
    (void)sb;
    (void)flag;
    (void)ftw;
    remove(p);
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Remove all but the newest @keep entries of @dir (names sort by time). */
static void prune(const char *dir, unsigned keep)
{
    DIR *d = opendir(dir);
    char **names = NULL;
    size_t n = 0, cap = 0;
    struct dirent *e;

    if (!d)
        return;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 16;
            names = xrealloc(names, cap * sizeof(*names));
        }
        names[n++] = xstrdup(e->d_name);
    }
    closedir(d);
    if (n)
        qsort(names, n, sizeof(*names), cmp_names);
    for (size_t i = 0; i < n; i++) {
        if (i + keep < n) {
            char *p = xasprintf("%s/%s", dir, names[i]);

            nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS);
            free(p);
        }
        free(names[i]);
    }
    free(names);
}

enum ferr_code envstate_backup_dir(const char *envdir, const char *version,
                                   unsigned keep, char **out,
                                   struct ferr *err)
{
    char *base = xasprintf("%s/backups", envdir);
    char stamp[32];
    struct timespec ts;
    struct tm tm;
    char *dir = NULL;
    enum ferr_code rc;

    *out = NULL;
    rc = mkdirs(base, err);
    if (rc)
        goto done;
    prune(base, keep > 0 ? keep - 1 : 0);
    clock_gettime(CLOCK_REALTIME, &ts);
    gmtime_r(&ts.tv_sec, &tm);
    strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%S", &tm);
    for (unsigned i = 0; i < 1000 && !dir; i++) {
        char *p = i ? xasprintf("%s/%s.%03ld-%s.%u", base, stamp,
                                ts.tv_nsec / 1000000, version, i)
                    : xasprintf("%s/%s.%03ld-%s", base, stamp,
                                ts.tv_nsec / 1000000, version);

        if (mkdir(p, 0700) == 0) {
            dir = p;
        } else if (errno != EEXIST) {
            rc = ferr_set(err, FERR_IO, NULL, "cannot make '%s': %s", p,
                          strerror(errno));
            free(p);
            goto done;
        } else {
            free(p);
        }
    }
    if (!dir) {
        rc = ferr_set(err, FERR_IO, NULL, "cannot make a backup directory "
                      "under '%s'", base);
        goto done;
    }
    *out = dir;
done:
    free(base);
    return rc;
}

const char *envstate_now(char *out, size_t n)
{
    time_t t = time(NULL);
    struct tm tm;

    gmtime_r(&t, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
    return out;
}
