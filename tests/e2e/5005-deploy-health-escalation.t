#!/usr/bin/env bash
# ferry/deploy's automatic rollback on a failed health check (rolling,
# no proxy), a crash at start, and escalation: when the previous version
# cannot be verified either, the environment is locked, the next deploy
# refuses, and --unlock clears it.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

plan 10
uses_env web

R=$T/repo
deploy_repo "$R"
# dep VERSION HEALTH [COMMAND]: deploy VERSION with that health check
dep() {
    deploy_step environment=web version="$1" \
        command="${3:-exec python3 app.py --name $1}" instances=2 \
        health="$2" health-interval=200ms health-failures=2 \
        health-deadline=10s
}

dep v1 "exec:test ! -e $T/v1-sick"
ok "v1 deploys" bash -c 'status_is 0 && out_has "deployed v1 to '"'web'"'"'

dep v2 "http:/status/503"
ok "v2 fails its health check and is rolled back" bash -c '
    status_is 1 && out_has "[health] failed" && out_has "[rollback] started: to v1" &&
    out_has "[verify] succeeded" && out_has "[rollback] succeeded: v1 is back"'
ok "v1 runs both instances; no v2 instance is left" bash -c '
    [ "$("$FERRY" __deploy --state web | /usr/bin/python3 -c "
import json, sys
print(\" \".join(sorted(i[\"version\"] for i in json.load(sys.stdin)[\"instances\"])))")" = "v1 v1" ]'

dep v3 "tcp" "exit 3"
ok "v3 crashes at start and is rolled back" bash -c 'status_is 1 && out_has "[start] failed" && out_has "[rollback] succeeded: v1 is back"'

# now the previous version is sick too: the rollback cannot verify it
touch "$T/v1-sick"
dep v4 "http:/status/500"
ok "when v1 cannot be verified the rollback escalates" bash -c '
    status_is 1 && out_has "[rollback] failed" && out_has "'"'web'"' is locked until"'
ok "state.json holds the lock and its reason" bash -c '[ "$(state_get web locked.version)" = v4 ] && [ "$(state_get web locked.reason)" != null ]'

dep v5 "tcp"
ok "the next deployment refuses while locked" bash -c 'status_is 1 && err_has "environment '"'web'"' is locked since a rollback failed at"'

rm -f "$T/v1-sick"
run_ferry __deploy --unlock web
ok "--unlock clears the lock" bash -c 'status_is 0 && out_has "environment '"'web'"' unlocked" && [ "$(state_get web locked)" = null ]'
dep v5 tcp
ok "then v5 deploys" bash -c 'status_is 0 && out_has "deployed v5 to '"'web'"'"'
ok "nothing is left running at the end" no_leftovers
