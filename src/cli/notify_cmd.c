/* notify_cmd: `ferry __notify`, the alert delivery process `ferry serve`
 * starts with a pipe on its stdin (a byte per new outbox entry; EOF when
 * the server is gone).  Argument handling, the store and the signals;
 * routing and delivery are notify/notify.h.  Also `--check` to validate
 * a configuration file and `--once` for one pass. */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cli/cli.h"
#include "notify/notify.h"
#include "util/httpc.h"
#include "util/log.h"

static const char usage_text[] =
    "usage: ferry __notify --config FILE (--db URL [--once] | --check) "
    "[--verbose]\n"
    "Deliver the server's alerts (internal: ferry serve starts it).\n"
    "  --config FILE  channels and routes (docs/operations.md)\n"
    "  --db URL       the server's store (PATH or sqlite:PATH)\n"
    "  --once         one pass (route, send what is due), then exit\n"
    "  --check        validate FILE and exit\n"
    "  --verbose      log every delivery\n";

static int usage(const char *why)
{
    if (why)
        fprintf(stderr, "ferry __notify: %s\n", why);
    fputs(usage_text, stderr);
    return 2;
}

static void report(const struct ferr *err)
{
    char msg[1024];

    fprintf(stderr, "ferry __notify: %s\n", ferr_format(err, msg, sizeof(msg)));
}

/* A signalfd for SIGTERM and SIGINT (main blocked them), or -1. */
static int stop_fd(void)
{
    sigset_t set;

    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigprocmask(SIG_BLOCK, &set, NULL);
    return signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
}

int cli_notify(int argc, char **argv)
{
    const char *config = NULL;
    const char *db = NULL;
    bool once = false;
    bool check = false;
    struct notify_config *cfg = NULL;
    struct store *store = NULL;
    struct notify *n = NULL;
    struct ferr err;
    int64_t next;
    int status = 0;
    int sfd = -1;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];

        if (strcmp(a, "--once") == 0) {
            once = true;
        } else if (strcmp(a, "--check") == 0) {
            check = true;
        } else if (strcmp(a, "--verbose") == 0 || strcmp(a, "-v") == 0) {
            log_set_level(LL_INFO);
        } else if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage_text, stdout);
            return 0;
        } else if (strcmp(a, "--config") == 0 || strcmp(a, "--db") == 0) {
            if (i + 1 >= argc)
                return usage("an option needs a value");
            if (strcmp(a, "--config") == 0)
                config = argv[++i];
            else
                db = argv[++i];
        } else {
            return usage("unknown argument");
        }
    }
    if (!config)
        return usage("--config is required");
    if (!check && !db)
        return usage("--db is required");
    ferr_clear(&err);
    if (notify_config_load(config, &cfg, &err)) {
        report(&err);
        return 2;
    }
    if (check) {
        printf("%s: ok (%zu channels)\n", config, cfg->n_chans);
        notify_config_free(cfg);
        return 0;
    }
    /* before any thread: libcurl's global init */
    if (httpc_load(NULL, &err)) {
        report(&err); /* sends fail and are retried until it is there */
        ferr_clear(&err);
    }
    if (store_open(db, &store, &err)) {
        report(&err);
        notify_config_free(cfg);
        return 1;
    }
    n = notify_new(cfg, store);
    if (once) {
        if (notify_pass(n, &next, &err)) {
            report(&err);
            status = 1;
        }
    } else {
        sfd = stop_fd();
        if (notify_run(n, STDIN_FILENO, sfd, &err)) {
            report(&err);
            status = 1;
        }
    }
    if (sfd >= 0)
        close(sfd);
    notify_free(n);
    store_close(store);
    notify_config_free(cfg);
    return status;
}
