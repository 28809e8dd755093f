#!/usr/bin/env bash
# ferry/deploy's inputs and its contract with the engine and the server:
# bad inputs exit 2 naming the input; an environment other than the
# job's is refused under a server; an unreachable server only warns;
# two deployments to one environment take turns; --rollback / --unlock
# on an environment without history.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

plan 11
uses_env s

# dep VAR=VALUE...: `ferry __deploy` with those inputs (and nothing of
# the caller's environment that could be a server)
dep() {
    env -u FERRY_SERVER -u FERRY_ENVIRONMENT -u FERRY_DEPLOYMENT "$@" \
        "$FERRY" __deploy >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
}

dep INPUT_ENVIRONMENT=s INPUT_COMMAND=x INPUT_STRATGY=rolling
ok "an unknown input: exit 2 naming it" bash -c 'status_is 2 && err_has "unknown input '"'stratgy'"' for ferry/deploy (did you mean '"'strategy'"'?)"'

dep INPUT_ENVIRONMENT=s INPUT_COMMAND=x INPUT_STRATEGY=bluegreen
ok "an unknown strategy: exit 2 with the choices" bash -c 'status_is 2 && err_has "input '"'strategy'"': unknown strategy '"'bluegreen'"' (recreate, rolling, blue-green, canary)"'

dep INPUT_ENVIRONMENT=s INPUT_COMMAND=x INPUT_STRATEGY=blue-green
ok "blue-green without a proxy: exit 2" bash -c 'status_is 2 && err_has "input '"'proxy'"' is required by strategy '"'blue-green'"'"'

dep INPUT_COMMAND=x
ok "no environment: exit 2" bash -c 'status_is 2 && err_has "input '"'environment'"' is required"'

dep INPUT_ENVIRONMENT=s INPUT_COMMAND=x INPUT_STRATEGY=canary INPUT_PROXY=ferry:127.0.0.1:9 "INPUT_STEPS=- setWeight: 20
- pause: soon"
ok "a bad canary step: exit 2 with its line" bash -c 'status_is 2 && err_has "input '"'steps'"': line 2"'

# through a workflow: the step fails and its log says why
R=$T/repo
mkdir -p "$R"
mkrepo "$R" >/dev/null
workflow "$R" d.yml <<'EOF'
on: push
jobs:
  d:
    runs-on: ubuntu-latest
    steps:
      - uses: ferry/deploy@v1
        with:
          environment: s
          command: "true"
          instances: many
EOF
commit "$R" wf
run_ferry run -C "$R"
ok "in a workflow: the step fails naming the input" bash -c 'status_is 1 && out_has "input '"'instances'"': expected a number from 1 to 64, not '"'many'"'"'

FERRY_SERVER=http://127.0.0.1:1 FERRY_ENVIRONMENT=staging FERRY_DEPLOYMENT=1 \
    INPUT_ENVIRONMENT=production INPUT_COMMAND=x "$FERRY" __deploy >"$T/out" 2>"$T/err"
echo $? >"$T/status"
ok "under a server, only the job's environment" bash -c 'status_is 2 && err_has "this job may deploy only to environment '"'staging'"' (its '"'environment:'"'), not '"'production'"'"'

FERRY_SERVER=http://127.0.0.1:1 FERRY_ENVIRONMENT=s FERRY_DEPLOYMENT=1 \
    INPUT_ENVIRONMENT=s INPUT_TARGET=script INPUT_DEPLOY="echo deployed-by-script" \
    "$FERRY" __deploy >"$T/out" 2>"$T/err"
echo $? >"$T/status"
ok "an unreachable server only warns; the deployment goes on" bash -c 'status_is 0 && out_has "warning: cannot report phase" && out_has "deployed-by-script" && out_has "deployed dev to '"'s'"'"'

# two deployments to one environment take turns on its lock
(env INPUT_ENVIRONMENT=s INPUT_VERSION=a INPUT_TARGET=script \
    INPUT_DEPLOY="touch $T/a-started; sleep 1.5; echo a-done >> $T/order" \
    "$FERRY" __deploy >"$T/a.out" 2>&1; echo $? >"$T/a.status") &
A=$!
for i in $(seq 1 100); do [ -e "$T/a-started" ] && break; sleep 0.05; done
env INPUT_ENVIRONMENT=s INPUT_VERSION=b INPUT_TARGET=script \
    INPUT_DEPLOY="echo b-done >> $T/order" "$FERRY" __deploy >"$T/b.out" 2>&1
echo $? >"$T/b.status"
wait "$A"
ok "a second deployment waits for the first" bash -c '
    grep -q "waiting: another deployment to '"'s'"'" "$T/b.out" &&
    [ "$(cat "$T/order" | tr "\n" " ")" = "a-done b-done " ] &&
    [ "$(cat "$T/a.status")$(cat "$T/b.status")" = 00 ]'

run_ferry __deploy --rollback nowhere
ok "--rollback without a previous version fails clearly" bash -c 'status_is 1 && err_has "environment '"'nowhere'"' has no previous version"'
run_ferry __deploy --unlock s
ok "--unlock of an environment that is not locked" bash -c 'status_is 0 && out_has "environment '"'s'"' is not locked"'
