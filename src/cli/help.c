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
            "  -P, --platform L=IMAGE  run jobs whose runs-on names L in "
            "container IMAGE\n"
            "                          (repeatable; IMAGE -self-hosted: "
            "the host)\n"
            "Exit status: 0 success, 1 a job failed, 2 bad usage or invalid "
            "workflow.\n");
    if (!verb || strcmp(verb, "lint") == 0)
        printf("usage: ferry lint [FILE|DIR]...\n"
               "Check workflows (default: .github/workflows and "
               ".ferry/workflows);\nprints file:line:col: error|warning: "
               "message; exit 1 on any error.\n");
    if (!verb)
        printf("usage: ferry version | ferry help [COMMAND]\n");
    if (!verb || strcmp(verb, "serve") == 0)
        printf("usage: ferry serve [--home DIR] [--listen ADDR] [--init] "
               "[--slots N]\n"
               "                   [--runs N] [--db URL] "
               "[--fail-on-restart] [--notify FILE]\n"
               "                   [--platform LABEL=IMAGE]...\n"
               "The control plane: API, webhooks, schedules, runs "
               "(docs/operations.md).\n"
               "  --home DIR        state directory (default .ferry-home)\n"
               "  --listen ADDR     HOST:PORT (default 127.0.0.1:8080; "
               "port 0 = any)\n"
               "  --init            print the first admin token, once\n"
               "  --slots N         jobs at a time, across all runs "
               "(default: CPUs, min 2)\n"
               "  --runs N          runs in flight (default 4 x slots)\n"
               "  --db URL          store: PATH or sqlite:PATH "
               "(default HOME/ferry.db)\n"
               "  --fail-on-restart a run lost to a restart fails "
               "instead of retrying\n"
               "  --notify FILE     alert channels and routes "
               "(default HOME/notify.json\n"
               "                    when it exists; docs/operations.md)\n"
               "  --platform L=IMG  jobs whose runs-on names L run in "
               "container IMG\n"
               "                    (repeatable; the container executor)\n");
    if (!verb || strcmp(verb, "proxy") == 0)
        fputs(cli_proxy_usage, stdout);
    if (!verb || strcmp(verb, "status") == 0)
        printf("usage: ferry status [--repo R] [--branch B] [--status S] "
               "[--limit N]\n"
               "List the server's runs, newest first.\n"
               "  --repo R          only this repository\n"
               "  --branch B        only this branch\n"
               "  --status S        queued, waiting, running, completed, "
               "or a\n"
               "                    conclusion: success, failure, "
               "cancelled, skipped\n"
               "  -n, --limit N     at most N runs (1-200, default 50)\n");
    if (!verb || strcmp(verb, "logs") == 0)
        printf("usage: ferry logs RUN[/JOB] [-f]\n"
               "Print a run's log, or one job's (JOB: its id, name or "
               "key).\n"
               "  -f, --follow      follow it live; exit 0 if it "
               "succeeded, 1 if not\n"
               "                    (with --json: one event per line)\n");
    if (!verb || strcmp(verb, "cancel") == 0)
        printf("usage: ferry cancel RUN\n"
               "Cancel a run (always() jobs still run).\n");
    if (!verb || strcmp(verb, "rerun") == 0)
        printf("usage: ferry rerun RUN [--failed]\n"
               "Run a completed run again as its next attempt.\n"
               "  --failed          only the jobs that did not succeed\n");
    if (!verb || strcmp(verb, "dispatch") == 0)
        printf("usage: ferry dispatch REPO WORKFLOW [--ref R] "
               "[--input NAME=VALUE]...\n"
               "Start WORKFLOW (its file name, e.g. ci.yml) by "
               "workflow_dispatch;\n"
               "prints the queued run ids.\n"
               "  --ref R           branch or tag (default: the repo's "
               "default branch)\n"
               "  -i, --input N=V   an input (repeatable)\n");
    if (!verb || strcmp(verb, "repo") == 0)
        printf("usage: ferry repo add NAME PATH [--hook] [--branch B] "
               "[--webhook-secret S]\n"
               "       ferry repo list\n"
               "Register a repository (a local path or a URL); prints its "
               "webhook\n"
               "secret once.\n"
               "  --hook            install the post-receive hook in the "
               "local PATH\n"
               "  --branch B        its default branch\n"
               "  --webhook-secret S  the webhook secret (default: "
               "generated)\n");
    if (!verb || strcmp(verb, "token") == 0)
        printf("usage: ferry token create --role ROLE [--name N] | list | "
               "revoke ID\n"
               "API tokens (admin).  create prints the new token alone, "
               "once;\n"
               "ROLE is viewer, developer, approver or admin.\n");
    if (!verb || strcmp(verb, "secret") == 0)
        printf("usage: ferry secret set REPO NAME [--value V] | list REPO | "
               "rm REPO NAME\n"
               "A repository's secrets (admin).  set reads the value from "
               "stdin\n"
               "(one final newline dropped): prefer that to --value, which "
               "ps shows.\n");
    if (!verb || strcmp(verb, "env") == 0)
        printf("usage: ferry env list [--repo R]\n"
               "       ferry env show NAME [--repo R]\n"
               "       ferry env create|set NAME [--repo R] [rules]\n"
               "       ferry env unlock NAME [--repo R]\n"
               "An environment's protection rules, lock and deployments "
               "(docs/deploy.md).\n"
               "create fails if NAME exists (unset rules take their "
               "defaults); set\n"
               "changes only the rules given.  Rules:\n"
               "  --reviewers [ROLE:]N   approvals needed (0-10), e.g. "
               "approver:2\n"
               "  --reviewer-role ROLE   the least role that may approve "
               "(developer,\n"
               "                         approver, admin; default "
               "approver)\n"
               "  --users a,b            only these tokens' names may "
               "approve ('': any)\n"
               "  --allow-self-review    who triggered it may approve "
               "(--prevent-self-review:\n"
               "                         not, the default)\n"
               "  --branches 'main,v*'   refs that may deploy, globs "
               "('': any)\n"
               "  --wait 5m              wait this long before deploying\n"
               "  --timeout 30m          approvals are due within this "
               "(default 30m)\n"
               "  --freeze FROM/TO       no deployment in [FROM, TO) "
               "(RFC 3339 or dates;\n"
               "                         repeatable; 'none' clears)\n"
               "  --production           releases are tagged; DORA counts "
               "it\n"
               "                         (--no-production: not)\n"
               "unlock (admin) lifts the lock a failed rollback left.  "
               "--repo may be\n"
               "omitted when the server has one repository.\n");
    if (!verb || strcmp(verb, "approve") == 0 || strcmp(verb, "reject") == 0)
        printf("usage: ferry approve|reject DEPLOYMENT [--comment C]\n"
               "Approve or reject a deployment waiting for its "
               "environment's reviewers.\n"
               "  -m, --comment C   why, kept on the record\n");
    if (!verb || strcmp(verb, "rollback") == 0)
        printf("usage: ferry rollback ENV [--repo R] [--reason TEXT] "
               "[--wait]\n"
               "Put ENV's previous version back (approver); queued ahead "
               "of deployments.\n"
               "  --reason TEXT     why, kept on the record\n"
               "  -w, --wait        wait for the end: exit 0 if it "
               "succeeded, 1 if not\n");
    if (!verb || strcmp(verb, "deployments") == 0)
        printf(
            "usage: ferry deployments [--repo R] [--env E] [--status S] "
            "[--limit N]\n"
            "       ferry deployments DEPLOYMENT\n"
            "List deployments, newest first, or show one with its "
            "approvals and phases.\n"
            "  --status S        waiting, queued, in_progress, rolling_back, "
            "success,\n"
            "                    failure, failed, rolled_back, escalated, "
            "rejected,\n"
            "                    timed_out or cancelled\n"
            "  -n, --limit N     at most N (1-200, default 50)\n");
    if (!verb || strcmp(verb, "incidents") == 0)
        printf("usage: ferry incidents [--repo R] | INCIDENT\n"
               "List incidents (opened by rollbacks), or show one's "
               "timeline.\n");
    if (!verb || strcmp(verb, "dora") == 0)
        printf("usage: ferry dora [--repo R] [--env E] [--window 30d] "
               "[--json]\n"
               "The DORA figures (deployment frequency, lead time, change "
               "failure rate,\n"
               "time to restore) and the build figures over the window, "
               "each beside\n"
               "its target.\n"
               "  --repo R          only this repository (default: all)\n"
               "  --env E           only this environment (default: the "
               "production ones)\n"
               "  -w, --window W    a count and m, h, d or w, at most 366 "
               "days (default 30d)\n");
    if (!verb || strcmp(verb, "hook-notify") == 0)
        printf("usage: ferry hook-notify --server URL --repo NAME "
               "--key-file F\n"
               "The post-receive hook's helper: posts stdin to the server, "
               "signed.\n"
               "It never fails a push: when CI is down it warns and exits "
               "0.\n");
    if (!verb)
        printf("Client commands take --server URL (default $FERRY_SERVER), "
               "--token T\n"
               "(default $FERRY_TOKEN) and --json (the API's JSON as it "
               "is).\n");
}
