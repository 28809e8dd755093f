/* cli: the verbs of the ferry command.  Each returns the process exit
 * status: 0 success, 1 a job failed (or lint found errors), 2 bad usage
 * or an invalid workflow. */
#ifndef FERRY_CLI_CLI_H
#define FERRY_CLI_CLI_H

#include <jansson.h>

#include "util/version.h"

#define CLI_VERSION FERRY_VERSION

/** ferry run [EVENT] [flags]: run workflows locally. */
int cli_run(int argc, char **argv);
/** ferry lint [FILE|DIR]...: check workflows. */
int cli_lint(int argc, char **argv);
/** ferry __run: one attempt of a server run (spec on stdin, events on
 *  stdout as JSON lines).  Internal: started by ferry serve. */
int cli_worker(int argc, char **argv);
/** ferry serve: the control plane. */
int cli_serve(int argc, char **argv);
/** ferry proxy --listen ADDR --admin ADDR [--state FILE]: the data plane
 *  (proxy_cmd.c). */
int cli_proxy(int argc, char **argv);
/** The usage of ferry proxy (also `ferry help proxy`). */
extern const char cli_proxy_usage[];
/** ferry __deploy [--rollback ENV --reason R | --unlock ENV]: the step
 *  that `uses: ferry/deploy@v1` runs, inputs in INPUT_* (deploy_cmd.c).
 *  Internal: started by the engine (or by the server for a rollback). */
int cli_deploy(int argc, char **argv);
/** ferry __notify --config FILE --db URL: deliver the outbox's alerts
 *  (notify_cmd.c).  Internal: started by ferry serve, a pipe on stdin. */
int cli_notify(int argc, char **argv);
/** The inputs of ferry's own action running in this process: every
 *  INPUT_<NAME> variable as {"name": "value"} (names lower-cased, '-'
 *  kept; invalid UTF-8 replaced), each then removed from the
 *  environment so that nothing the step starts inherits it.  The
 *  object is the caller's (inputs.c). */
json_t *cli_inputs_take(void);

/** ferry __report: the step behind `uses: ferry/report@v1` — reads test
 *  (JUnit XML) and coverage (Cobertura XML, lcov) reports, applies the
 *  coverage gate, records a summary in $FERRY_REPORT (report_cmd.c). */
int cli_report(int argc, char **argv);
/** ferry __gate: the step behind `uses: ferry/gate@v1` — fails on SARIF
 *  or Bandit findings at or above a severity (report_cmd.c). */
int cli_gate(int argc, char **argv);
/** ferry __image: the step behind `uses: ferry/image@v1` — build, tag
 *  and push an image through the Docker Engine API (image_cmd.c). */
int cli_image(int argc, char **argv);
/** ferry __cexec: one step of a container job, run with the Docker
 *  Engine API's exec in the job's container (cexec_cmd.c).  Internal:
 *  started by the engine. */
int cli_cexec(int argc, char **argv);
/* Client verbs (remote_cmd.c): they talk to a server's API, found in
 * --server/FERRY_SERVER with the token in --token/FERRY_TOKEN. */
/** ferry status: the latest runs. */
int cli_status(int argc, char **argv);
/** ferry logs RUN[/JOB] [-f]: a run's log, or follow it live. */
int cli_logs(int argc, char **argv);
/** ferry cancel RUN. */
int cli_cancel(int argc, char **argv);
/** ferry rerun RUN [--failed]. */
int cli_rerun(int argc, char **argv);
/** ferry dispatch REPO WORKFLOW [--ref R] [--input K=V]... */
int cli_dispatch(int argc, char **argv);
/** ferry repo add|list. */
int cli_repo(int argc, char **argv);
/** ferry token create|list|revoke. */
int cli_token(int argc, char **argv);
/** ferry secret set|list|rm. */
int cli_secret(int argc, char **argv);
/* Continuous delivery verbs (cd_cmd.c), clients of the API too. */
/** ferry env list|show|create|set|unlock NAME [--repo R] [rules]. */
int cli_env(int argc, char **argv);
/** ferry approve DEPLOYMENT [--comment C]. */
int cli_approve(int argc, char **argv);
/** ferry reject DEPLOYMENT [--comment C]. */
int cli_reject(int argc, char **argv);
/** ferry rollback ENV [--repo R] [--reason TEXT] [--wait]. */
int cli_rollback(int argc, char **argv);
/** ferry deployments [--repo R] [--env E] [--status S] | DEPLOYMENT. */
int cli_deployments(int argc, char **argv);
/** ferry incidents [--repo R] | INCIDENT. */
int cli_incidents(int argc, char **argv);
/** ferry dora [--repo R] [--env E] [--window 30d] [--json]: the DORA
 *  figures (dora_cmd.c). */
int cli_dora(int argc, char **argv);
/** ferry hook-notify: what the post-receive hook runs. */
int cli_hook_notify(int argc, char **argv);
/** Print the usage of @verb (NULL: all) to stdout. */
void cli_help(const char *verb);

#endif
