/* link_baseline: the memory floor of `ferry serve` — a program linked
 * with the same libraries (yaml-0.1 jansson libgit2 openssl sqlite3
 * libmicrohttpd) that only initialises them the way the server does,
 * prints "ready" and waits for a signal.  bench/serve_bench.sh reads its
 * /proc/PID/smaps_rollup.  With --exit it returns at once: the start-up
 * cost of loading those libraries.  It serves nothing and runs no job. */
#include <errno.h>
#include <git2.h>
#include <jansson.h>
#include <microhttpd.h>
#include <openssl/crypto.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *data,
                                 size_t *data_size, void **con_cls)
{
    (void)cls;
    (void)conn;
    (void)url;
    (void)method;
    (void)version;
    (void)data;
    (void)data_size;
    (void)con_cls;
    return MHD_NO;
}

int main(int argc, char **argv)
{
    struct MHD_Daemon *d;
    sqlite3 *db = NULL;
    yaml_parser_t parser;
    json_t *j;
    char path[4096];

    if (argc == 2 && strcmp(argv[1], "--exit") == 0)
        return 0;
    if (argc != 2) {
        fprintf(stderr, "usage: link_baseline DIR (for its temp db) | "
                        "--exit\n");
        return 2;
    }
    snprintf(path, sizeof(path), "%s/baseline.db", argv[1]);
    if (!OPENSSL_init_crypto(0, NULL)) {
        fprintf(stderr, "link_baseline: openssl init failed\n");
        return 1;
    }
    if (git_libgit2_init() < 0) {
        fprintf(stderr, "link_baseline: libgit2 init failed\n");
        return 1;
    }
    if (sqlite3_open(path, &db) != SQLITE_OK) {
        fprintf(stderr, "link_baseline: cannot open '%s'\n", path);
        return 1;
    }
    /* touch the two parsers' code the way any start-up does */
    if (!yaml_parser_initialize(&parser))
        return 1;
    yaml_parser_delete(&parser);
    j = json_object();
    json_decref(j);
    d = MHD_start_daemon(MHD_USE_EPOLL | MHD_ALLOW_SUSPEND_RESUME, 0, NULL,
                         NULL, on_access, NULL, MHD_OPTION_END);
    if (!d) {
        fprintf(stderr, "link_baseline: MHD_start_daemon failed: %s\n",
                strerror(errno));
        return 1;
    }
    printf("ready\n");
    fflush(stdout);
    pause();
    MHD_stop_daemon(d);
    sqlite3_close(db);
    git_libgit2_shutdown();
    return 0;
}
