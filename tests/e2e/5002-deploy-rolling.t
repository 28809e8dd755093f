#!/usr/bin/env bash
# ferry/deploy, strategy rolling through `ferry proxy`: 3 instances of v1,
# then v2 replaces them one batch at a time while a load generator runs:
# every request answered, only v2 left, nothing left over at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

plan 10
uses_env staging
proxy_start || exit 1

R=$T/repo
deploy_repo "$R"
dep() {
    deploy_step environment=staging version="$1" \
        command="exec /usr/bin/python3 app.py --name $1" instances=3 \
        strategy=rolling batch-size=1 proxy="ferry:$PROXY_ADMIN" \
        health=http:/health health-interval=200ms health-failures=25
}

dep v1
ok "v1 is rolled out to 3 instances" bash -c 'status_is 0 && out_has "deployed v1 to '"'staging'"'"'
ok "all three answer through the proxy with v1" bash -c '
    [ "$(versions_seen 30 | awk "{print \$2}")" = v1 ] &&
    [ "$(curl -s "http://$PROXY_ADMIN/backends" | grep -o "staging-v1-[0-9]" | sort -u | wc -l)" = 3 ]'

load_start
dep v2
load_stop
ok "v2 replaces v1 one batch at a time" bash -c 'status_is 0 && out_has "batch: 1 new instance (3 of 3)" && out_has "staging-v1-3 stopped"'
ok "no request failed during the rollout ($LOAD_SENT sent)" \
    bash -c "[ $LOAD_SENT -gt 0 ] && [ $LOAD_FAILED = 0 ] || { sort \"$T/load.codes\" | uniq -c; exit 1; }"
ok "only v2 answers now" bash -c '[ "$(versions_seen 30 | awk "{print \$2}")" = v2 ]'
ok "3 instances of v2 run, none of v1" bash -c '
    [ "$("$FERRY" __deploy --state staging | /usr/bin/python3 -c "
import json, sys
print(\" \".join(sorted(i[\"version\"] for i in json.load(sys.stdin)[\"instances\"])))")" = "v2 v2 v2" ]'
ok "state: v2 current, v1 previous" bash -c '[ "$(state_get staging current.version)" = v2 ] && [ "$(state_get staging previous.version)" = v1 ]'

# the same through `ferry run`: the engine runs the step, and the
# instances outlive the run that started them
mkdir -p "$R/.github/workflows"
cat >"$R/.github/workflows/deploy.yml" <<YML
on: push
jobs:
  staging:
    runs-on: ubuntu-latest
    environment: staging
    steps:
      - uses: actions/checkout@v4
      - uses: ferry/deploy@v1
        with:
          environment: staging
          version: v3
          command: exec /usr/bin/python3 app.py --name v3
          instances: 3
          strategy: rolling
          proxy: ferry:$PROXY_ADMIN
          health: http:/health
          health-interval: 200ms
YML
git -C "$R" add -A && git -C "$R" -c user.name=t -c user.email=t@t commit -qm deploy
run_ferry run push -C "$R"
ok "ferry run deploys v3 with uses: ferry/deploy@v1" bash -c 'status_is 0 && out_has "deployed v3 to '"'staging'"'"'
ok "after ferry run ended, v3 still answers through the proxy" bash -c \
    'sleep 0.5; [ "$(versions_seen 20 | awk "{print \$2}")" = v3 ]'
ok "no process left over" no_leftovers
