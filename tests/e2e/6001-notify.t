#!/usr/bin/env bash
# ferry __notify: alerts from the outbox reach real receivers on
# 127.0.0.1 — an SMTP server (aiosmtpd), a real Alertmanager, and small
# HTTP receivers for the Slack, generic webhook (HMAC-checked) and
# PagerDuty formats.  Routing by level, trigger then resolve, retry of a
# receiver that was down, no duplicate after a restart, nothing lost to
# a kill -9, and the server starting the notifier itself (--notify).
. "$(dirname "$0")/lib.sh"
plan 27

PY=/usr/bin/python3
for need in "$PY -c 'import aiosmtpd'" "command -v prometheus-alertmanager"; do
    if ! eval "$need" >/dev/null 2>&1; then
        for i in $(seq 1 27); do echo "ok $i # skip no $need"; done
        exit 0
    fi
done

free_port() {
    $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# wait_for CMD...: until CMD succeeds (30 s: the deploy behind the first
# alert can take over 10 s under ASan on a busy machine)
wait_for() {
    local i
    for i in $(seq 1 600); do "$@" >/dev/null 2>&1 && return 0; sleep 0.05; done
    return 1
}
export -f wait_for

SMTP_PORT=$(free_port)
AM_PORT=$(free_port)
HOOK_PORT=$(free_port)
PD_PORT=$(free_port)
SECRET='s3cret-k3y'
mkdir -p "$T/recv" "$T/am" # aiosmtpd makes the maildir

# --- the receivers ---
cat >"$T/recv.py" <<'PY'
# records each POST as one JSON line in DIR/<first path segment>.jsonl
import hashlib, hmac, http.server, json, os, sys
port, d, secret = int(sys.argv[1]), sys.argv[2], sys.argv[3].encode()
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        name = self.path.strip("/").split("/")[0] or "root"
        sig = self.headers.get("X-Ferry-Signature-256", "")
        want = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
        rec = {"path": self.path, "body": body.decode(),
               "type": self.headers.get("Content-Type", ""),
               "event": self.headers.get("X-Ferry-Event", ""),
               "sig_ok": hmac.compare_digest(sig, want)}
        with open(os.path.join(d, name + ".jsonl"), "a") as f:
            f.write(json.dumps(rec) + "\n")
        code = 202 if name == "pd" else 200
        self.send_response(code)
        self.send_header("Content-Type", "application/json")
        self.end_headers()
        self.wfile.write(b'{"status":"success"}')
    def log_message(self, *a):
        pass
http.server.ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
PY
setsid $PY "$T/recv.py" "$HOOK_PORT" "$T/recv" "$SECRET" 2>"$T/recv.log" &
_pids+=($!)
setsid $PY -m aiosmtpd -n -l "127.0.0.1:$SMTP_PORT" \
    -c aiosmtpd.handlers.Mailbox "$T/maildir" 2>"$T/smtp.log" &
_pids+=($!)
cat >"$T/am.yml" <<'YML'
route: {receiver: sink, group_wait: 1s, group_interval: 1s}
receivers: [{name: sink}]
YML
setsid prometheus-alertmanager --config.file="$T/am.yml" \
    --storage.path="$T/am/data" --web.listen-address="127.0.0.1:$AM_PORT" \
    --cluster.listen-address= >"$T/am.log" 2>&1 &
_pids+=($!)
AM="http://127.0.0.1:$AM_PORT"
ok "the receivers are up (http, smtp, alertmanager)" bash -c "
    wait_for curl -sf $AM/-/ready &&
    wait_for $PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $SMTP_PORT))' &&
    wait_for $PY -c 'import socket; socket.create_connection((\"127.0.0.1\", $HOOK_PORT))'"

# --- the configuration ---
H="http://127.0.0.1:$HOOK_PORT"
cat >"$T/notify.json" <<JSON
{
  "channels": {
    "team-chat": {"type": "slack", "url": "$H/slack"},
    "team-mail": {"type": "smtp", "url": "smtp://127.0.0.1:$SMTP_PORT",
                  "from": "ferry@localhost", "to": ["team@localhost", "lead@localhost"]},
    "audit-hook": {"type": "webhook", "url": "$H/hook", "secret": "$SECRET"},
    "pager": {"type": "pagerduty", "url": "http://127.0.0.1:$PD_PORT/pd",
              "routing_key": "R0UT1NGKEY"},
    "am": {"type": "alertmanager", "url": "$AM"}
  },
  "routes": {
    "info": ["team-chat"],
    "warning": ["team-chat", "team-mail"],
    "error": ["team-chat", "team-mail", "audit-hook"],
    "critical": ["team-chat", "team-mail", "audit-hook", "pager", "am"]
  }
}
JSON
printf '{"channels":{"p":{"type":"pagerduty"}},"routes":{"info":["p"]}}' >"$T/bad.json"
ok "--check accepts the configuration" bash -c \
    '"$FERRY" __notify --check --config "$T/notify.json" | grep -q "ok (5 channels)"'
ok "a bad configuration is 'file: what is wrong'" bash -c \
    '! "$FERRY" __notify --check --config "$T/bad.json" 2>"$T/x" &&
     grep -q "bad.json: channel .p.: .routing_key. is required" "$T/x"'

# --- a server whose deployments raise alerts ---
mkdir -p "$T/src"
workflow "$T/src" cd.yml <<'YML'
on:
  workflow_dispatch:
    inputs:
      env:
        default: prod
jobs:
  deploy:
    runs-on: ubuntu-latest
    environment:
      name: ${{ inputs.env }}
    steps:
      - run: |
          post() {
            curl -sS -X POST -H "Authorization: Bearer $FERRY_DEPLOY_TOKEN" \
              -d "$1" "$FERRY_SERVER/api/v1/deployments/$FERRY_DEPLOYMENT/events"
            echo
          }
          post '{"phase":"rollback","status":"started","detail":"health failed"}'
          for i in $(seq 1 600); do [ -e "$GATE.$FERRY_DEPLOYMENT" ] && break; sleep 0.1; done
          post '{"phase":"rollback","status":"succeeded","detail":"previous version verified"}'
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
export GATE="$T/gate"
serve_start >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
api PUT /api/v1/repos/app/environments/prod -d '{}' >/dev/null
api PUT /api/v1/repos/app/environments/slow \
    -d '{"reviewers":1,"approval_timeout":2}' >/dev/null

# the notifier, with a pipe we hold (fd 7) as the server would
mkfifo "$T/wake"
NOTIFY_PID=
notifier_start() {
    setsid "$FERRY" __notify --verbose --db "$T/home/ferry.db" \
        --config "$T/notify.json" <"$T/wake" 2>>"$T/notify.log" &
    NOTIFY_PID=$!
    _pids+=("$NOTIFY_PID")
    exec 7>"$T/wake"
}
poke() { printf x >&7; }
notifier_start

dispatch() {
    api POST /api/v1/repos/app/workflows/cd.yml/dispatches \
        -d "{\"inputs\":{\"env\":\"$1\"}}" | jget runs.0.id
}
deployment_of() { # RUN
    local i d
    for i in $(seq 1 600); do
        d=$(api GET "/api/v1/deployments?repo=app" | $PY -c 'import json,sys
for d in json.load(sys.stdin)["deployments"]:
    if d["run_id"] == int(sys.argv[1]): print(d["id"]); break' "$1")
        [ -n "$d" ] && { echo "$d"; return 0; }
        sleep 0.05
    done
    return 1
}
# lines RECEIVER: how many messages it got
lines() { cat "$T/recv/$1.jsonl" 2>/dev/null | wc -l; }
# got RECEIVER PYEXPR: some message's parsed body b satisfies PYEXPR
got() {
    [ -s "$T/recv/$1.jsonl" ] && $PY -c '
import json, sys
for l in open(sys.argv[1]):
    r = json.loads(l); b = json.loads(r["body"])
    if eval(sys.argv[2]): sys.exit(0)
sys.exit(1)' "$T/recv/$1.jsonl" "$2"
}
# delivery DEDUP_KEY CHANNEL FIELD: a field of that alert's delivery
delivery() {
    api GET /api/v1/alerts | $PY -c '
import json, sys
for a in json.load(sys.stdin)["alerts"]:
    if a["dedup_key"] == sys.argv[1]:
        for d in a.get("deliveries") or []:
            if d["channel"] == sys.argv[2]: print(d[sys.argv[3]]); sys.exit(0)
print("none")' "$1" "$2" "$3"
}
am_state() { # ALERTNAME DEPLOYMENT -> active|none
    curl -sS "$AM/api/v2/alerts" | $PY -c '
import json, sys
for a in json.load(sys.stdin):
    l = a["labels"]
    if l.get("alertname") == sys.argv[1] and l.get("deployment") == sys.argv[2]:
        print(a["status"]["state"]); sys.exit(0)
print("none")' "$1" "$2"
}
export -f got lines delivery am_state
export PY AM

run=$(dispatch prod)
dep=$(deployment_of "$run")
KEY="app/prod/$dep/rollback.started"
export KEY dep
# the step posts rollback.started a moment after the deployment exists;
# poke (as the server does on each new alert) once it is in the outbox
has_alert() {
    api GET /api/v1/alerts | $PY -c '
import json, sys
sys.exit(0 if any(a["dedup_key"] == sys.argv[1] for a in json.load(sys.stdin)["alerts"]) else 1)' "$1"
}
export -f has_alert
wait_for has_alert "$KEY" || echo "# no $KEY in the outbox after 30 s"
poke
ok "slack: a critical rollback alert as {text}" wait_for got slack \
    "set(b) == {'text'} and '[ferry critical]' in b['text'] and 'rollback.started' in b['text']"
ok "webhook: the payload plus id/level/kind/created_at, HMAC-signed" wait_for got hook \
    "r['sig_ok'] and b['kind'] == 'rollback.started' and b['level'] == 'critical' and b['dedup_key'] == '$KEY' and isinstance(b['id'], int) and b['created_at'].endswith('Z') and b['deployment'] == $dep and r['event'] == 'rollback.started'"
ok "e-mail: '[ferry critical] …' to both recipients" wait_for bash -c \
    "grep -l '^Subject: \[ferry critical\] ' \"\$T\"/maildir/new/* | xargs grep -l 'X-RcptTo: team@localhost, lead@localhost' | xargs grep -q 'Kind:        rollback.started'"
ok "alertmanager: FerryRollbackStarted is active with its labels" wait_for bash -c \
    "curl -sS \$AM/api/v2/alerts | \$PY -c '
import json, sys
for a in json.load(sys.stdin):
    l = a[\"labels\"]
    if l[\"alertname\"] == \"FerryRollbackStarted\" and l[\"severity\"] == \"critical\" and l[\"repo\"] == \"app\" and l[\"environment\"] == \"prod\" and l[\"deployment\"] == \"$dep\" and a[\"status\"][\"state\"] == \"active\" and a[\"annotations\"][\"summary\"]: sys.exit(0)
sys.exit(1)'"
ok "pagerduty down: the send is pending, attempts and the error recorded" wait_for bash -c \
    '[ "$(delivery "$KEY" pager attempts)" -ge 2 ] && delivery "$KEY" pager last_error | grep -q "cannot reach" && delivery "$KEY" pager state | grep -qx pending'
ok "the other channels are sent meanwhile" bash -c \
    'for c in team-chat team-mail audit-hook am; do delivery "$KEY" $c state | grep -qx sent || exit 1; done'
setsid $PY "$T/recv.py" "$PD_PORT" "$T/recv" "$SECRET" 2>>"$T/recv.log" 7>&- &
_pids+=($!)
ok "pagerduty up: it gets the trigger on a retry (no poke needed)" wait_for got pd \
    "b['event_action'] == 'trigger' and b['dedup_key'] == '$KEY' and b['routing_key'] == 'R0UT1NGKEY' and b['payload']['severity'] == 'critical' and b['payload']['summary'] and b['payload']['source']"
ok "its delivery is sent, after more than one attempt" bash -c \
    '[ "$(delivery "$KEY" pager state)" = sent ] && [ "$(delivery "$KEY" pager attempts)" -ge 2 ]'
touch "$GATE.$dep"
ok "the run finishes" bash -c "wait_run $run 30 | grep -qx success"
poke
ok "pagerduty: resolve with the same dedup key" wait_for got pd \
    "b['event_action'] == 'resolve' and b['dedup_key'] == '$KEY' and b['routing_key'] == 'R0UT1NGKEY'"
ok "alertmanager: the alert is resolved" wait_for bash -c \
    '[ "$(am_state FerryRollbackStarted "$dep")" != active ]'
ok "slack: the info alerts too (incident.resolved)" wait_for got slack \
    "'[ferry info]' in b['text'] and 'incident.resolved' in b['text']"
ok "routing by level: info goes to chat only (deployment.started)" bash -c '
    got slack "\"deployment.started\" in b[\"text\"]" &&
    ! grep -q "^Kind: *deployment.started" "$T"/maildir/new/* &&
    ! got hook "b[\"kind\"] == \"deployment.started\"" && ! grep -q deployment.started "$T/recv/pd.jsonl"'
ok "a resolve (info) goes where what it resolves went: webhook and e-mail" bash -c '
    wait_for got hook "b[\"kind\"] == \"incident.resolved\" and b[\"resolves\"] == \"$KEY\"" &&
    grep -q "^Resolves: *$KEY" "$T"/maildir/new/*'

# an error alert: approval timed out
run2=$(dispatch slow)
ok "approval.timed_out (error) goes to the webhook and e-mail, not the pager" bash -c "
    wait_run $run2 30 >/dev/null; printf x >&7 2>/dev/null
    wait_for got hook \"b['kind'] == 'approval.timed_out' and b['level'] == 'error'\" &&
    wait_for bash -c 'grep -q \"^Subject: \[ferry error\] \" \"\$T\"/maildir/new/*' &&
    ! got pd \"'approval' in json.dumps(b)\""
poke
sleep 0.5

# --- restarts ---
snapshot() { for r in slack hook pd; do lines $r; done; ls "$T/maildir/new" | wc -l; }
before=$(snapshot)
exec 7>&-
wait "$NOTIFY_PID" 2>/dev/null
ok "EOF on stdin: the notifier exits 0" test $? = 0
notifier_start
poke
sleep 1.5
ok "restarted: nothing is sent twice" test "$(snapshot)" = "$before"

kill -KILL "$NOTIFY_PID"
wait "$NOTIFY_PID" 2>/dev/null
exec 7>&-
run3=$(dispatch prod)
dep3=$(deployment_of "$run3")
touch "$GATE.$dep3"
wait_run "$run3" 30 >/dev/null
ok "alerts queued while no notifier runs wait in the outbox" bash -c \
    "api GET /api/v1/alerts | \$PY -c '
import json, sys
a = [x for x in json.load(sys.stdin)[\"alerts\"] if x[\"payload\"].get(\"deployment\") == $dep3]
sys.exit(0 if a and all(x[\"delivered_at\"] is None for x in a) else 1)'"
notifier_start
poke
ok "after a kill -9 and a new start they are delivered" wait_for got pd \
    "b['event_action'] == 'resolve' and b['dedup_key'] == 'app/prod/$dep3/rollback.started'"
ok "each alert reached each channel once" bash -c '
    for r in slack hook pd; do
        $PY -c "import collections, sys
c = collections.Counter(l for l in open(sys.argv[1]))
sys.exit(1 if max(c.values()) > 1 else 0)" "$T/recv/$r.jsonl" || exit 1
    done'
exec 7>&-
wait "$NOTIFY_PID" 2>/dev/null

# --- no wake-up byte: "recheck" looks at the outbox anyway ---
$PY -c 'import json, sys
c = json.load(open(sys.argv[1])); c["recheck"] = 1
json.dump(c, open(sys.argv[2], "w"))' "$T/notify.json" "$T/recheck.json"
setsid "$FERRY" __notify --db "$T/home/ferry.db" --config "$T/recheck.json" \
    <"$T/wake" 2>>"$T/notify.log" &
NOTIFY_PID=$!
_pids+=("$NOTIFY_PID")
exec 7>"$T/wake"
run5=$(dispatch prod)
dep5=$(deployment_of "$run5")
# the trigger reaching the pager shows this notifier has made its first
# pass; the resolve, written only once the gate opens, can then come
# from nothing but a recheck (nothing is left due: every channel is up)
wait_for got pd "b['event_action'] == 'trigger' and b['dedup_key'] == 'app/prod/$dep5/rollback.started'" ||
    echo "# the trigger of deployment $dep5 did not reach the pager"
touch "$GATE.$dep5"
wait_run "$run5" 30 >/dev/null
# within 10 s of the run's end (the default recheck, 30 s, would not be)
ok "recheck: an alert that came with no wake-up is delivered" bash -c "
    for i in \$(seq 1 100); do
        got pd \"b['event_action'] == 'resolve' and b['dedup_key'] == 'app/prod/$dep5/rollback.started'\" && exit 0
        sleep 0.1
    done; exit 1"
exec 7>&-
wait "$NOTIFY_PID" 2>/dev/null

# --- the server starts the notifier itself ---
if "$FERRY" help serve | grep -q -- '--notify'; then
    serve_stop
    serve_start --notify "$T/notify.json" >/dev/null
    before=$(lines slack)
    run4=$(dispatch prod)
    dep4=$(deployment_of "$run4")
    touch "$GATE.$dep4"
    ok "serve --notify: the server's notifier delivers new alerts" wait_for got slack \
        "'incident.resolved' in b['text'] and 'deployment $dep4' in b['text']"
    ok "and sends nothing old again" bash -c \
        "\$PY -c 'import collections, sys
c = collections.Counter(l for l in open(sys.argv[1]))
sys.exit(1 if max(c.values()) > 1 else 0)' \"\$T/recv/slack.jsonl\""
    ok "GET /api/v1/alerts shows each alert's deliveries" bash -c \
        "api GET /api/v1/alerts | jget alerts.0.deliveries.0.state | grep -qx sent"
else
    for i in 1 2 3; do echo "ok $((24 + i)) # skip serve has no --notify yet"; done
fi
exit $_failed
