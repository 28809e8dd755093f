/* report_cmd: placeholder until the module lands. */
#include <stdio.h>

#include "cli/cli.h"

int cli_report(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ferry: cli_report is not built yet\n");
    return 2;
}

int cli_gate(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ferry: cli_gate is not built yet\n");
    return 2;
}
