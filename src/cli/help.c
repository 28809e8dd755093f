/* help: the usage text of every verb. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

void cli_help(const char *verb)
{
    if (!verb || strcmp(verb, "run") == 0)
        printf(
            "usage: ferry run [EVENT] [options]\n"
            "Run the repository's workflows that EVENT (default: push) "
            "triggers, on this machine.\n"
            "  -C, --directory DIR     the repository (default: .)\n"
            "  -W, --workflows PATH    workflow file or directory "
            "(repeatable)\n"
            "  -j, --job ID            run only this job and what it needs "
            "(repeatable)\n"
            "  -s, --secret NAME[=V]   a secret; without =V, from the "
            "environment\n"
            "      --secret-file F     secrets as NAME=VALUE lines\n"
            "      --var NAME=VALUE    a configuration variable (vars "
            "context)\n"
            "      --var-file F        variables as NAME=VALUE lines\n"
            "      --input NAME=VALUE  a workflow_dispatch input\n"
            "  -e, --eventpath FILE    the event payload (JSON)\n"
            "  -l, --list              list the jobs, their stages and needs\n"
            "  -n, --dry-run           plan and evaluate, run no step\n"
            "      --json              one JSON event per line\n"
            "      --home DIR          keep workspaces, artifacts and caches "
            "in DIR\n"
            "      --slots N           jobs run in parallel (default: CPUs)\n"
            "Exit status: 0 success, 1 a job failed, 2 bad usage or invalid "
            "workflow.\n");
    if (!verb || strcmp(verb, "lint") == 0)
        printf("usage: ferry lint [FILE|DIR]...\n"
               "Check workflows (default: .github/workflows and "
               ".ferry/workflows);\nprints file:line:col: error|warning: "
               "message; exit 1 on any error.\n");
    if (!verb)
        printf("usage: ferry version | ferry help [COMMAND]\n");
}
