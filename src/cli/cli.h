/* cli: the verbs of the ferry command.  Each returns the process exit
 * status: 0 success, 1 a job failed (or lint found errors), 2 bad usage
 * or an invalid workflow. */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#define CLI_VERSION "0.1.0"

/** ferry run [EVENT] [flags]: run workflows locally. */
int cli_run(int argc, char **argv);
/** ferry lint [FILE|DIR]...: check workflows. */
int cli_lint(int argc, char **argv);
/** ferry __run: one attempt of a server run (spec on stdin, events on
 *  stdout as JSON lines).  Internal: started by ferry serve. */
int cli_worker(int argc, char **argv);
/** ferry serve: the control plane. */
int cli_serve(int argc, char **argv);
/** Print the usage of @verb (NULL: all) to stdout. */
void cli_help(const char *verb);

#endif
