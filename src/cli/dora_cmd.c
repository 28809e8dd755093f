/* dora_cmd: placeholder until the module lands. */
#include <stdio.h>

#include "cli/cli.h"

int cli_dora(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    fprintf(stderr, "ferry: cli_dora is not built yet\n");
    return 2;
}
