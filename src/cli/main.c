/* main: the ferry command — blocks signals before anything else starts,
 * then dispatches to the verb. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "deploy/target.h"
#include "util/loop.h"

static const struct {
    const char *name;
    int (*fn)(int argc, char **argv);
} client[] = {
    {"status", cli_status},   {"logs", cli_logs},
    {"cancel", cli_cancel},   {"rerun", cli_rerun},
    {"dispatch", cli_dispatch}, {"repo", cli_repo},
    {"token", cli_token},     {"secret", cli_secret},
    {"hook-notify", cli_hook_notify},
    {"env", cli_env},         {"approve", cli_approve},
    {"reject", cli_reject},   {"rollback", cli_rollback},
    {"deployments", cli_deployments}, {"incidents", cli_incidents},
    {"dora", cli_dora},
};

int main(int argc, char **argv)
{
    if (argc < 2) {
        cli_help(NULL);
        return 2;
    }
    /* verbs that run the event loop take signals through it: block them
     * before anything else starts; the others (lint) stay interruptible
     * by Ctrl-C like any command */
    if (strcmp(argv[1], "run") == 0) {
        loop_block_signals();
        return cli_run(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "serve") == 0) {
        loop_block_signals();
        return cli_serve(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "__run") == 0) {
        loop_block_signals();
        return cli_worker(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "proxy") == 0) {
        loop_block_signals();
        return cli_proxy(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "__notify") == 0) {
        loop_block_signals();
        return cli_notify(argc - 1, argv + 1);
    }
    if (strcmp(argv[1], "__deploy") == 0)
        return cli_deploy(argc - 1, argv + 1);
    if (strcmp(argv[1], "__report") == 0)
        return cli_report(argc - 1, argv + 1);
    if (strcmp(argv[1], "__gate") == 0)
        return cli_gate(argc - 1, argv + 1);
    if (strcmp(argv[1], "__image") == 0)
        return cli_image(argc - 1, argv + 1);
    if (strcmp(argv[1], "__cexec") == 0)
        return cli_cexec(argc - 1, argv + 1);
    if (strcmp(argv[1], "__instance") == 0)
        return target_supervise_main(argc - 1, argv + 1);
    if (strcmp(argv[1], "lint") == 0)
        return cli_lint(argc - 1, argv + 1);
    for (size_t i = 0; i < sizeof(client) / sizeof(client[0]); i++)
        if (strcmp(argv[1], client[i].name) == 0)
            return client[i].fn(argc - 1, argv + 1);
    if (strcmp(argv[1], "version") == 0 || strcmp(argv[1], "--version") == 0) {
        printf("ferry %s\n", CLI_VERSION);
        return 0;
    }
    if (strcmp(argv[1], "help") == 0 || strcmp(argv[1], "--help") == 0 ||
        strcmp(argv[1], "-h") == 0) {
        cli_help(argc > 2 ? argv[2] : NULL);
        return 0;
    }
    fprintf(stderr, "ferry: unknown command '%s'\n", argv[1]);
    cli_help(NULL);
    return 2;
}
