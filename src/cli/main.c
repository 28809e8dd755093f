/* main: the ferry command — dispatches to the verb modules. */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "version") == 0) {
        printf("ferry 0.1.0\n");
        return 0;
    }
    fprintf(stderr, "usage: ferry run|lint|version\n");
    return 2;
}
