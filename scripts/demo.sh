#!/usr/bin/env bash
# The demo: the example project checked by `ferry lint`, then served by
# `ferry serve` (SQLite, host executor, process target, `ferry proxy`) in a
# temp home — the seeds' whole flow on one machine: a feature branch runs
# CI only; develop runs CI and deploys itself to staging (rolling, three
# instances); main runs CI, waits for an approval (given by the demo
# through the API), backs up the database, goes blue-green to production
# and tags v1.0.0; then a bad release (errors on 20 % of requests and a
# destructive migration) is caught by the analysis and rolled back with the
# backup restored, with its alerts delivered to a local SMTP sink and a
# webhook receiver; the nightly data-pipeline check runs once; then the
# DORA figures, and the dashboard's URL (kept up until Enter when the
# demo runs in a terminal).
# Usage: demo.sh FERRY
set -eu
FERRY=$(cd "$(dirname "${1:?usage: demo.sh path/to/ferry}")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/ferry-demo.XXXXXX)
SERVE_PID=
LOAD_PID=
SINK_PIDS=
cleanup() {
    [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
    for p in $SINK_PIDS; do kill "$p" 2>/dev/null; done
    for e in staging production; do
        FERRY_DEPLOY_HOME="$W/home/deploy" "$FERRY" __deploy --stop "$e" >/dev/null 2>&1
    done
    for p in "$W"/proxy-*.pid; do [ -e "$p" ] && kill "$(cat "$p")" 2>/dev/null; done
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

stage() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
git_() { git -c user.name=demo -c user.email=demo@ferry.invalid "$@"; }

stage "a repository: the breweries service and its data pipeline"
cp -r "$ROOT/examples/breweries" "$W/breweries"
cd "$W/breweries"
git init -q -b main .
git_ add -A
git_ commit -q -m "breweries: first version"
git clone -q --bare . "$W/breweries.git"
git remote add origin "$W/breweries.git"
echo "  $(git log --oneline | head -1), pushed to a bare repository"

stage "ferry lint"
"$FERRY" lint
echo "  workflows are valid"

stage "alert receivers: an SMTP sink and a webhook receiver on 127.0.0.1"
PY=/usr/bin/python3
SMTP_PORT=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
$PY -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" -c aiosmtpd.handlers.Mailbox \
    "$W/maildir" 2>"$W/smtp.log" &
SINK_PIDS="$!"
$PY "$ROOT/scripts/webhook-sink.py" "$W/hook.port" "$W/hook.jsonl" \
    2>"$W/hook.log" &
SINK_PIDS="$SINK_PIDS $!"
for _ in $(seq 1 100); do [ -s "$W/hook.port" ] && break; sleep 0.05; done
mkdir -p "$W/home"
cat >"$W/home/notify.json" <<JSON
{
  "channels": {
    "chat": {"type": "webhook", "url": "http://127.0.0.1:$(cat "$W/hook.port")/ferry"},
    "oncall-mail": {"type": "smtp", "url": "smtp://127.0.0.1:$SMTP_PORT",
                    "from": "ferry@localhost", "to": ["oncall@localhost"]}
  },
  "routes": {
    "info": ["chat"],
    "warning": ["chat"],
    "error": ["chat", "oncall-mail"],
    "critical": ["chat", "oncall-mail"]
  }
}
JSON
chmod 600 "$W/home/notify.json"
echo "  mail to smtp://127.0.0.1:$SMTP_PORT (maildir), webhooks to 127.0.0.1:$(cat "$W/hook.port")"
echo "  routes: info/warning -> webhook; error/critical -> webhook + e-mail"

stage "ferry serve: the control plane in a temp home (SQLite, host executor)"
"$FERRY" serve --home "$W/home" --listen 127.0.0.1:0 --init \
    >"$W/serve.out" 2>"$W/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 100); do
    grep -q '^ferry serve: listening on ' "$W/serve.out" 2>/dev/null && break
    sleep 0.1
done
FERRY_SERVER=$(sed -n 's/^ferry serve: listening on //p' "$W/serve.out")
FERRY_TOKEN=$(sed -n 's/^admin token: //p' "$W/serve.out")
export FERRY_SERVER FERRY_TOKEN
[ -n "$FERRY_SERVER" ] || { cat "$W/serve.log"; exit 1; }
echo "  listening on $FERRY_SERVER; the first admin token was printed once"

stage "ferry repo add breweries --hook"
"$FERRY" repo add breweries "$W/breweries.git" --hook | sed 's/^/  /'

# push BRANCH: push it, then follow the run it queued until it ends
push_and_follow() {
    local before run
    before=$("$FERRY" status --json --limit 1 | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1)
    git push -q origin "$1" 2>&1 | sed 's/^remote: /  hook: /'
    run=$("$FERRY" status --json --limit 1 | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1)
    [ -n "$run" ] && [ "$run" != "${before:-}" ] || { echo "  no run was queued"; return 1; }
    echo "  following run $run live (ferry logs $run -f):"
    "$FERRY" logs "$run" -f | sed 's/^/  /' | grep -E '==|passed|coverage|Successfully|rows' || true
    "$FERRY" status --limit 1 | sed 's/^/  /'
    last_succeeded
}

# last_succeeded: the newest run concluded success
last_succeeded() {
    [ "$("$FERRY" status --json --limit 1 | grep -o '"conclusion": *"[a-z]*"' |
        head -1 | sed 's/.*"\([a-z]*\)"$/\1/')" = success ] ||
        { echo "  the run did not succeed"; return 1; }
}

stage "push feature/stats: CI (lint, tests with coverage, security scan, build, integration)"
git checkout -q -b feature/stats
echo "- stats endpoint planned" >>NOTES.txt
git_ add NOTES.txt
git_ commit -q -m "notes: stats endpoint"
push_and_follow feature/stats

# proxy NAME: a `ferry proxy` for environment NAME, its admin API on the
# socket NAME.sock in the deploy home (where the workflow's
# `proxy: ferry:unix:NAME.sock` finds it); prints its listen address
proxy() {
    local out=$W/proxy-$1.out i
    mkdir -p "$W/home/deploy"
    "$FERRY" proxy --listen 127.0.0.1:0 --admin "unix:$W/home/deploy/$1.sock" \
        --state "$W/home/deploy/$1.proxy.json" >"$out" 2>&1 &
    echo $! >"$W/proxy-$1.pid" # (a subshell: $(proxy NAME))
    for i in $(seq 1 100); do
        grep -q 'listening on' "$out" && break
        sleep 0.05
    done
    sed -n 's/.*listening on \([0-9.:]*\).*/\1/p' "$out" | head -1
}

# load ADDR: a request every 20 ms to ADDR/breweries until load_stop;
# each status (000 = no answer) in $W/load.codes
load() {
    : >"$W/load.codes"
    ( while [ ! -e "$W/load.stop" ]; do
          curl -s -o /dev/null -w '%{http_code}\n' --max-time 5 \
              "http://$1/breweries?limit=1" >>"$W/load.codes"
          sleep 0.02
      done ) &
    LOAD_PID=$!
}
load_stop() {
    touch "$W/load.stop"
    wait "$LOAD_PID" 2>/dev/null || true
    LOAD_PID=
    rm -f "$W/load.stop"
    echo "  traffic during the deployment: $(wc -l <"$W/load.codes") requests:" \
        "$(grep -c '^200$' "$W/load.codes") answered 200," \
        "$(grep -c '^500$' "$W/load.codes") answered 500 by the app," \
        "$(grep -c '^503$' "$W/load.codes") 503 (nothing deployed yet)," \
        "$(grep -vcE '^(200|500|503)$' "$W/load.codes") other or not answered"
}

# newest RUN id
newest_run() {
    "$FERRY" status --json --limit 1 | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1
}

# approve_and_follow: push main, approve its production deployment as the
# release manager (through the API), follow the run to its end
approve_and_follow() {
    local before run dep i
    before=$(newest_run)
    git push -q origin main 2>&1 | sed 's/^remote: /  hook: /'
    run=$(newest_run)
    [ -n "$run" ] && [ "$run" != "${before:-}" ] || { echo "  no run was queued"; return 1; }
    echo "  run $run: CI, then the production job asks for its environment"
    for i in $(seq 1 1200); do
        dep=$(curl -s -H "Authorization: Bearer $FERRY_TOKEN" \
            "$FERRY_SERVER/api/v1/deployments?environment=production&status=waiting" |
            sed -n 's/.*"id":\([0-9]*\).*"run_id":'"$run"',.*/\1/p' | head -1)
        [ -n "$dep" ] && break
        sleep 0.1
    done
    [ -n "$dep" ] || { echo "  no deployment is waiting"; "$FERRY" status | sed 's/^/  /'; return 1; }
    "$FERRY" deployments --env production --limit 1 | sed 's/^/  /'
    echo "  the release manager approves deployment $dep (POST /api/v1/deployments/$dep/approve):"
    FERRY_TOKEN=$APPROVER "$FERRY" approve "$dep" --comment "release it" | sed 's/^/  /'
    load "$PROD"
    "$FERRY" logs "$run" -f | sed 's/^/  /' |
        grep -E '\[(backup|start|health|traffic|analysis|promote|rollback|restore|verify)\]|error rate|released|rolled back|backed up|restored|deployed' || true
    load_stop
    "$FERRY" status --limit 1 | sed 's/^/  /'
    DEP=$dep
}

# counts ADDR: the version and the favorites count production serves
counts() {
    echo "  $1/health: $(curl -s "http://$1/health")"
    echo "  $1/favorites: $(curl -s "http://$1/favorites" | sed 's/, "items".*/}/')"
}

stage "two ferry proxies (the data plane): staging and production"
STAGING=$(proxy staging)
PROD=$(proxy production)
echo "  staging on $STAGING, production on $PROD (admin sockets in the deploy home)"

stage "environments: staging deploys itself; production needs 1 approval, main only"
"$FERRY" env create staging | sed 's/^/  /'
"$FERRY" env create production --reviewers 1 --branches main --timeout 30m \
    --production | sed 's/^/  /'
APPROVER=$("$FERRY" token create --role approver --name release-manager)
[ -n "$APPROVER" ] || { echo "  no approver token"; exit 1; }
echo "  an approver token for 'release-manager' (the pusher may not approve)"

stage "merge to develop: CI, then a rolling deploy of 3 instances to staging"
git checkout -q -b develop
push_and_follow develop
for i in 1 2 3; do echo "  $STAGING/health: $(curl -s "http://$STAGING/health")"; done
[ "$(for i in 1 2 3 4 5 6; do curl -s "http://$STAGING/health"; echo; done |
    grep -o '"instance": "[^"]*"' | sort -u | wc -l)" = 3 ] ||
    { echo "  staging does not answer from 3 instances"; exit 1; }

stage "merge to main: CI, approval, backup, blue-green to production, v1.0.0"
git checkout -q main
git merge -q --ff-only develop
approve_and_follow
last_succeeded
counts "$PROD"
echo "  release tags: $(git --git-dir="$W/breweries.git" tag | tr '\n' ' ')"
git --git-dir="$W/breweries.git" tag | grep -qx v1.0.0 ||
    { echo "  no v1.0.0 tag"; exit 1; }

stage "a bad release: 1.0.1 fails 20 % of requests and empties a table"
echo 1.0.1 >VERSION
echo 0.2 >app/FAULT_RATE
echo "DELETE FROM favorites;" >app/migrations/002_reset_favorites.sql
git_ add -A
git_ commit -q -m "release 1.0.1: new ranking (and a bad migration)"
approve_and_follow || true
"$FERRY" deployments "$DEP" | sed 's/^/  /' | grep -E 'status|phase|analysis|rollback|restore|verify' | head -20
echo "  after the automatic rollback:"
counts "$PROD"
"$FERRY" incidents | sed 's/^/  /'
# the demo checks what it claims
"$FERRY" deployments "$DEP" --json | grep -q '"status": *"rolled_back"' ||
    { echo "  deployment $DEP was not rolled back"; exit 1; }
curl -s "http://$PROD/health" | grep -q '"version": "1.0.0"' ||
    { echo "  production does not run 1.0.0 again"; exit 1; }
curl -s "http://$PROD/favorites" | grep -q '"count": 12' ||
    { echo "  the backup was not restored"; exit 1; }
"$FERRY" incidents --json | grep -q '"status": *"resolved"' ||
    { echo "  no resolved incident"; exit 1; }
# the alerts reached their receivers (delivery is asynchronous: wait)
for _ in $(seq 1 100); do
    grep -il 'ferry critical' "$W"/maildir/new/* >/dev/null 2>&1 &&
        grep -q '"incident.resolved"' "$W/hook.jsonl" 2>/dev/null && break
    sleep 0.1
done
echo "  alerts received by the webhook:"
/usr/bin/python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    print("    %-8s %-22s %s" % (a.get("level"), a.get("kind"), a.get("summary")))
' "$W/hook.jsonl" | tail -8
echo "  e-mails in the SMTP sink:"
grep -h '^Subject:' "$W"/maildir/new/* 2>/dev/null | sed 's/^/    /' | tail -4
grep -q '"rollback.started"' "$W/hook.jsonl" ||
    { echo "  the webhook got no rollback alert"; exit 1; }
grep -il 'Subject: \[ferry critical\]' "$W"/maildir/new/* >/dev/null 2>&1 ||
    { echo "  no critical alert e-mail"; exit 1; }

stage "the nightly end-to-end data pipeline (scheduled 0 2 * * *), dispatched once"
curl -s -H "Authorization: Bearer $FERRY_TOKEN" "$FERRY_SERVER/api/v1/schedules" |
    sed 's/^/  schedules: /'
echo
run=$("$FERRY" dispatch breweries nightly.yml --input rows_min=150 | grep -o '[0-9]\+' | head -1)
echo "  run $run queued; following it:"
"$FERRY" logs "$run" -f | sed 's/^/  /' | grep -E '==|bronze|silver|gold|archiv|rows' || true
"$FERRY" status --limit 1 | sed 's/^/  /'
last_succeeded

stage "ferry status · ferry deployments · ferry env show production"
"$FERRY" status | sed 's/^/  /'
"$FERRY" deployments | sed 's/^/  /'
"$FERRY" env show production | sed 's/^/  /'

stage "ferry dora: the DORA figures of production"
"$FERRY" dora --repo breweries | sed 's/^/  /'
"$FERRY" dora --repo breweries --json | grep -q '"deployment_frequency"' ||
    { echo "  no DORA figures"; exit 1; }

stage "the dashboard"
VIEW_TOKEN=$("$FERRY" token create --role approver --name demo-dashboard 2>/dev/null |
    grep -oE '[0-9a-f]{64}' | head -1)
code=$(curl -s -o /dev/null -w '%{http_code}' \
    -H "Authorization: Bearer $VIEW_TOKEN" "$FERRY_SERVER/dora")
[ "$code" = 200 ] || { echo "  the dashboard answered $code"; exit 1; }
echo "  $FERRY_SERVER/  (sign in with: $VIEW_TOKEN)"
echo "  runs, job graphs, live logs, approvals, environments, deployments,"
echo "  incidents, DORA charts at $FERRY_SERVER/dora, coverage at $FERRY_SERVER/trends"
if [ -t 0 ] && [ -t 1 ]; then
    printf '  the dashboard stays up until you press Enter: '
    read -r _ || true
fi

stage "done"
echo "  CI on every push, staging deployed itself, production was approved,"
echo "  released as v1.0.0, and the bad 1.0.1 was rolled back with its data restored"
echo "  next: 'make test' runs ferry's own suite"
