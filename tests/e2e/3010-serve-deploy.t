#!/usr/bin/env bash
# The whole server path with the real deploy step: ferry serve runs a
# job `environment: production` whose `uses: ferry/deploy@v1` goes
# blue-green through a `ferry proxy` (admin API on a unix socket in the
# server's deploy home) once an approver approves; releases are tagged;
# a manual rollback (an approver's `ferry rollback --wait`) under load
# loses nothing; a bad version is rolled back by its error-rate analysis
# (incident, critical alert); the deploy token is masked in the log and
# kept from the instances, which hold no INPUT_* nor FERRY_ATTEMPT; the
# instances and the proxy outlive a kill -9 of the server.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"
# what ferry serve gives its jobs (it keeps a FERRY_DEPLOY_HOME it gets;
# this is the same directory), and what --stop and no_leftovers use
export FERRY_DEPLOY_HOME=$T/home/deploy
# nothing may fall back to ~/.local/state/ferry/deploy
export XDG_STATE_HOME=$T/xdg-state
plan 35
uses_env production

# ---------- the proxy: admin API on a unix socket in the deploy home ----
mkdir -p "$FERRY_DEPLOY_HOME"
setsid "$FERRY" proxy --listen 127.0.0.1:0 \
    --admin "unix:$FERRY_DEPLOY_HOME/proxy.sock" --state "$T/proxy.state" \
    >"$T/proxy.out" 2>"$T/proxy.err" &
PROXY_PID=$!
_pids+=("$PROXY_PID")
for i in $(seq 1 600); do
    grep -q 'listening on' "$T/proxy.out" && break
    kill -0 "$PROXY_PID" 2>/dev/null || break
    sleep 0.05
done
PROXY_LISTEN=$(sed -n 's/^ferry proxy listening on \([0-9.]*:[0-9]*\).*/\1/p' "$T/proxy.out")
[ -n "$PROXY_LISTEN" ] && [ -S "$FERRY_DEPLOY_HOME/proxy.sock" ] || {
    echo "Bail out! ferry proxy did not start"
    sed 's/^/#   /' "$T/proxy.out" "$T/proxy.err"
    exit 1
}
export PROXY_LISTEN

# ---------- the repository ----------
R=$T/src
deploy_repo "$R"
workflow "$R" cd.yml <<'YML'
name: deliver
on:
  workflow_dispatch:
    inputs:
      version:
        required: true
      fail_rate:
        default: "0"
      analysis:
        default: ""
jobs:
  production:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - run: echo "deploy token=$FERRY_DEPLOY_TOKEN deployment=$FERRY_DEPLOYMENT"
      - id: deploy
        uses: ferry/deploy@v1
        with:
          environment: production
          version: ${{ inputs.version }}
          command: exec /usr/bin/python3 app.py --name ${{ inputs.version }} --fail-rate ${{ inputs.fail_rate }}
          strategy: blue-green
          keep-previous: "0"
          proxy: ferry:unix:proxy.sock
          health: http:/health
          health-interval: 200ms
          health-failures: 25
          analysis: ${{ inputs.analysis }}
          analysis-interval: 1s
          analysis-count: 3
          release: auto
      - run: echo "result=${{ steps.deploy.outputs.result }} release=${{ steps.deploy.outputs.release }}"
YML
commit "$R" "deliver"
bare_repo "$R" "$T/app.git"

serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
[ "$(cat "$T/http_status")" = 201 ] || { echo "Bail out! repo add: $(cat "$T/api.body")"; exit 1; }
ALICE=$(api POST /api/v1/tokens -d '{"role":"approver","name":"alice"}' | jget token)
[ -n "$ALICE" ] || { echo "Bail out! no approver token"; exit 1; }
export ALICE

# ---------- helpers ----------
dispatch() { # VERSION [FAIL_RATE ANALYSIS] -> the run's id
    api POST /api/v1/repos/app/workflows/cd.yml/dispatches \
        -d "{\"ref\":\"main\",\"inputs\":{\"version\":\"$1\",\"fail_rate\":\"${2:-0}\",\"analysis\":\"${3:-}\"}}" |
        jget runs.0.id
}
deployment_of() { # RUN: the id of the run's deployment, once it exists
    local i d
    for i in $(seq 1 600); do
        d=$(api GET "/api/v1/deployments?repo=app" |
            /usr/bin/python3 -c 'import json,sys
for d in json.load(sys.stdin)["deployments"]:
    if d["run_id"] == int(sys.argv[1]): print(d["id"]); break' "$1")
        [ -n "$d" ] && { echo "$d"; return 0; }
        sleep 0.05
    done
    return 1
}
dfield() { api GET "/api/v1/deployments/$1" | jget "$2"; }
wait_dstatus() { # ID STATUS [SECS]: stops early at any other final status
    local end=$((SECONDS + ${3:-10})) s
    while :; do
        s=$(dfield "$1" status)
        [ "$s" = "$2" ] && return 0
        case $s in
        success | failure | failed | rolled_back | escalated | rejected | timed_out | cancelled)
            break ;;
        esac
        [ $SECONDS -lt $end ] || break
        sleep 0.05
    done
    echo "deployment $1 is $s, want $2"
    return 1
}
approve() { # DEPLOYMENT: alice approves once it waits; prints the HTTP status
    wait_dstatus "$1" waiting >/dev/null
    curl -sS -o "$T/approve.body" -w '%{http_code}' -X POST \
        -H "Authorization: Bearer $ALICE" -d '{"comment":"ship it"}' \
        "$URL/api/v1/deployments/$1/approve"
}
run_logs() { curl -sS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/runs/$1/logs"; }
# only VERSION answers N requests through the proxy (non-200s count too)
only_serves() { # VERSION [N]
    local got
    got=$(versions_seen "${2:-20}")
    [ "$(echo "$got" | awk '{print $2}')" = "$1" ] &&
        [ "$(echo "$got" | awk '{print $1}')" = "${2:-20}" ] ||
        { echo "want only $1, got:"; echo "$got"; return 1; }
}
# why a run did not do what it should: its logs and the server's tail
explain_run() { # RUN
    echo "run $1: $(api GET "/api/v1/runs/$1" | jget conclusion) $(api GET "/api/v1/runs/$1" | jget reason)"
    run_logs "$1" | tail -40
    echo "--- serve.log"
    tail -20 "$T/serve.log"
}
run_is() { # RUN CONCLUSION [SECS]
    local c
    c=$(wait_run "$1" "${3:-40}")
    [ "$c" = "$2" ] || { echo "conclusion $c, want $2"; explain_run "$1"; return 1; }
}
phases_have() { # DEPLOYMENT PHASE...
    api GET "/api/v1/deployments/$1" | /usr/bin/python3 -c '
import json, sys
ph = {p["phase"] for p in json.load(sys.stdin)["phases"]}
miss = [p for p in sys.argv[1:] if p not in ph]
if miss: print("phases lack", miss, "have", sorted(ph)); sys.exit(1)' "${@:2}"
}
has_tag() { # TAG DEPLOYMENT
    git -C "$T/app.git" tag | grep -qx "$1" &&
        [ "$(dfield "$2" release_tag)" = "$1" ] &&
        [ "$(git -C "$T/app.git" rev-parse "$1^{commit}")" = "$(dfield "$2" sha)" ] ||
        { echo "tags: $(git -C "$T/app.git" tag | tr '\n' ' ') release_tag: $(dfield "$2" release_tag)"; return 1; }
}
# wait_load N: until the load generator sent N more requests (at most 10 s)
wait_load() {
    local n0 i
    n0=$(wc -l <"$T/load.codes")
    for i in $(seq 1 600); do
        [ "$(wc -l <"$T/load.codes")" -ge $((n0 + $1)) ] && return 0
        sleep 0.05
    done
    echo "# the load generator is stuck at $(wc -l <"$T/load.codes") requests"
}
export -f dfield only_serves phases_have has_tag run_is explain_run run_logs

# ---------- v1 ----------
api PUT /api/v1/repos/app/environments/production \
    -d '{"reviewers":1,"production":true}' >/dev/null
ok "production needs 1 reviewer (PUT 201)" test "$(cat "$T/http_status")" = 201

run1=$(dispatch v1)
dep1=$(deployment_of "$run1")
ok "v1: the deployment waits for approval and alice approves it" \
    test "$(approve "$dep1")" = 200
ok "v1: the run succeeds" run_is "$run1" success
ok "v1: the deployment is a success with version v1" bash -c \
    "[ \"\$(dfield $dep1 status)\" = success ] && [ \"\$(dfield $dep1 version)\" = v1 ]"
ok "v1: its phases include start, health and traffic" phases_have "$dep1" start health traffic
ok "v1: the release v1.0.0 tags the deployed commit in the bare repo" has_tag v1.0.0 "$dep1"
ok "v1: the proxy serves v1" only_serves v1
run_logs "$run1" >"$T/run1.log"
ok "FERRY_DEPLOY_TOKEN is masked in the run's log" bash -c \
    "grep -q 'deploy token=\*\*\* deployment=$dep1' '$T/run1.log' && ! grep -qE '[0-9a-f]{64}' '$T/run1.log'"
ok "the step's outputs: result succeeded, release v1.0.0" \
    grep -q 'result=succeeded release=v1.0.0' "$T/run1.log"

# the instances' environment: the supervisor (pid in the instance file)
# and the app (its child)
inst_env() {
    local f pid kids k
    for f in "$FERRY_DEPLOY_HOME"/production/instances/*.json; do
        [ -e "$f" ] || { echo "no instance file"; return 1; }
        pid=$(jget pid <"$f")
        kids=$(pgrep -P "$pid")
        [ -n "$kids" ] || { echo "instance $f (pid $pid) has no child"; return 1; }
        for k in "$pid" $kids; do
            echo "== $k $(tr '\0' ' ' </proc/"$k"/cmdline)"
            tr '\0' '\n' </proc/"$k"/environ
        done
    done
}
inst_env >"$T/inst.env" 2>&1
ok "the instances run (supervisor and app found)" bash -c \
    "grep -c '^== ' '$T/inst.env' | grep -qx 2 && grep -q 'app.py --name v1' '$T/inst.env' && grep -q '^FERRY_INSTANCE=' '$T/inst.env' || { cat '$T/inst.env'; exit 1; }"
ok "the instances' environment holds no INPUT_* variable" bash -c \
    "! grep -E '^INPUT_' '$T/inst.env'"
ok "the instances' environment holds no FERRY_ATTEMPT" bash -c \
    "! grep -E '^FERRY_ATTEMPT=' '$T/inst.env'"
ok "the instances' environment holds no FERRY_DEPLOY_TOKEN" bash -c \
    "! grep -q '^FERRY_DEPLOY_TOKEN=' '$T/inst.env' || { echo \"DIAGNOSTIC: the job's deploy token reached \$(grep -c '^FERRY_DEPLOY_TOKEN=' '$T/inst.env') of 2 processes (supervisor and app) of the instance\"; exit 1; }"

# ---------- kill -9 the server while v1 serves ----------
load_start
wait_load 20
serve_kill9
wait_load 20
ok "the proxy serves v1 with the server dead" only_serves v1 5
serve_start --slots 4 >/dev/null
ok "the server starts again on the same home" bash -c \
    "[ -n '$URL' ] && curl -sfS '$URL/readyz' >/dev/null"
wait_load 20
load_stop
K_SENT=$LOAD_SENT K_FAILED=$LOAD_FAILED
ok "0 failed requests across the kill and restart ($K_SENT sent)" \
    bash -c "[ $K_SENT -gt 40 ] && [ $K_FAILED = 0 ]"
ok "v1 still serves after the restart, and is current" bash -c \
    'only_serves v1 && [ "$(state_get production current.version)" = v1 ]'

# ---------- v2 ----------
run2=$(dispatch v2)
dep2=$(deployment_of "$run2")
ok "v2: approved" test "$(approve "$dep2")" = 200
ok "v2: the run succeeds and the deployment is a success" bash -c \
    "run_is $run2 success && [ \"\$(dfield $dep2 status)\" = success ] && [ \"\$(dfield $dep2 version)\" = v2 ]"
ok "v2: the release is v1.0.1" has_tag v1.0.1 "$dep2"
ok "v2: the proxy serves v2" only_serves v2

# ---------- manual rollback under load ----------
"$FERRY" __deploy --state production >"$T/state.before-rollback.json" 2>&1
load_start
wait_load 10
FERRY_TOKEN=$ALICE timeout 60 "$FERRY" rollback production \
    --reason "e2e: back to v1" --wait >"$T/rb.out" 2>"$T/rb.err"
RB_STATUS=$?
wait_load 10 # the load goes on a moment after the switch
load_stop
RB_SENT=$LOAD_SENT RB_FAILED=$LOAD_FAILED
rb=$(sed -n 's/^rollback of app\/production queued: deployment \([0-9]*\).*/\1/p' "$T/rb.out")
RBLOG=$T/home/logs/deploy-$rb.log
export rb RBLOG RB_STATUS
# why the rollback did not do its job: what it said, its record, its log
explain_rb() {
    echo "ferry rollback --wait exited $RB_STATUS:"; cat "$T/rb.out" "$T/rb.err"
    echo "--- the record"; api GET "/api/v1/deployments/$rb"; echo
    echo "--- $RBLOG"; cat "$RBLOG"
    echo "--- serve.log"; tail -5 "$T/serve.log"
}
export -f explain_rb
ok "an approver's ferry rollback --wait makes a deployment of kind rollback" \
    bash -c '[ -n "$rb" ] && [ "$(dfield "$rb" kind)" = rollback ] || explain_rb'
ok "the rollback's log is in home/logs/deploy-$rb.log" bash -c \
    '[ -n "$rb" ] && grep -q "production" "$RBLOG"'
# the server starts `ferry __deploy --rollback` itself: it must look at
# the deploy home its jobs used, not at $XDG_STATE_HOME/ferry/deploy
ok "the rollback works in the server's deploy home" bash -c '
    if [ -e "$XDG_STATE_HOME/ferry/deploy" ] || grep -q "has no previous version" "$RBLOG"; then
        echo "DIAGNOSTIC: the rollback did not get FERRY_DEPLOY_HOME=$FERRY_DEPLOY_HOME:"
        echo "it used $XDG_STATE_HOME/ferry/deploy ($(ls "$XDG_STATE_HOME/ferry/deploy" 2>&1)),"
        echo "found no state there and failed, while the deploy home had:"
        echo "current $(jget current.version <"$T/state.before-rollback.json"), previous $(jget previous.version <"$T/state.before-rollback.json")"
        explain_rb; exit 1
    fi'
ok "the rollback ends success (and ferry rollback --wait exits 0)" bash -c '
    st=$(dfield "$rb" status)
    [ "$st" = success ] && [ "$RB_STATUS" = 0 ] || {
        echo "DIAGNOSTIC: the rollback deployment is "$st", want success"
        [ "$st" = rolled_back ] && echo "(the step reported deploy/rolled_back as its final event and the server kept it; ferry rollback --wait wants success)"
        explain_rb; exit 1; }'
ok "v1 serves 100 % again" only_serves v1 40
ok "0 failed requests during the manual rollback ($RB_SENT sent)" \
    bash -c "[ $RB_SENT -gt 0 ] && [ $RB_FAILED = 0 ]"
# the version current before v3: the deploy home's and the server's
CUR=$(state_get production current.version)
ok "after the manual rollback v1 is current, v2 previous" bash -c \
    "[ '$CUR' = v1 ] && [ \"\$(state_get production previous.version)\" = v2 ] || { echo \"current $CUR, previous \$(state_get production previous.version)\"; exit 1; }"

# ---------- a bad v3, caught by its analysis under load ----------
run3=$(dispatch v3 0.3 error-rate)
dep3=$(deployment_of "$run3")
load_start
ok "v3: approved" test "$(approve "$dep3")" = 200
ok "v3: the run fails" run_is "$run3" failure 60
load_stop
echo "# load during v3 (its 500s are expected): sent $LOAD_SENT, $LOAD_FAILED failed"
ok "v3: the deployment is rolled_back" bash -c \
    "[ \"\$(dfield $dep3 status)\" = rolled_back ] || api GET /api/v1/deployments/$dep3"
ok "v3: an incident was opened and resolved" bash -c "
    api GET /api/v1/incidents?repo=app | /usr/bin/python3 -c '
import json, sys
i = [x for x in json.load(sys.stdin)[\"incidents\"] if x[\"deployment_id\"] == $dep3]
print(i)
sys.exit(0 if len(i) == 1 and i[0][\"status\"] == \"resolved\" and i[0][\"resolved_at\"] else 1)'"
ok "v3: a critical rollback.started alert is in the outbox" bash -c "
    api GET /api/v1/alerts | /usr/bin/python3 -c '
import json, sys
a = json.load(sys.stdin)[\"alerts\"]
sys.exit(0 if any(x[\"level\"] == \"critical\" and x[\"kind\"] == \"rollback.started\"
                  and x[\"payload\"].get(\"deployment\") == $dep3 for x in a) else 1)'"
ok "$CUR (current before v3) serves 100 %" only_serves "$CUR" 40

# ---------- the end ----------
"$FERRY" __deploy --stop production >/dev/null 2>&1
kill -TERM "$PROXY_PID" 2>/dev/null
wait "$PROXY_PID" 2>/dev/null
serve_stop
leftovers() {
    sleep 0.2
    if pgrep -f "$T/" >/dev/null; then
        echo "left over:"; pgrep -af "$T/"; return 1
    fi
}
ok "nothing of this test is left running" leftovers
