#!/usr/bin/env bash
# ferry serve: environments — approvals (count, role, users, no
# self-review), rejection, approval timeout, branch rules, freezes, one
# deployment at a time per environment, the deploy step's reports
# (phases, incidents, alerts, release tags), escalation lock and unlock,
# and the audit trail of every decision.
. "$(dirname "$0")/lib.sh"
plan 56

mkdir -p "$T/src"
workflow "$T/src" cd.yml <<'YML'
on:
  workflow_dispatch:
    inputs:
      env:
        default: production
      report:
        default: "no"
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo built
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment:
      name: ${{ inputs.env }}
      url: https://example.test/${{ inputs.env }}
    steps:
      - run: |
          echo "deployment=$FERRY_DEPLOYMENT env=$FERRY_ENVIRONMENT"
          echo "token=$FERRY_DEPLOY_TOKEN"
          echo "start $(date +%s%N)" >> "$MARKS"
          sleep 1
          echo "end $(date +%s%N)" >> "$MARKS"
      - if: inputs.report == 'lock'
        run: |
          detail=$(/usr/bin/python3 -c 'print("x" + "é" * 500)')
          curl -sS -X POST -H "Authorization: Bearer $FERRY_DEPLOY_TOKEN" \
            -d "{\"phase\":\"rollback\",\"status\":\"failed\",\"detail\":\"$detail\"}" \
            "$FERRY_SERVER/api/v1/deployments/$FERRY_DEPLOYMENT/events"
      - if: inputs.report == 'yes'
        run: |
          post() {
            curl -sS -X POST -H "Authorization: Bearer $FERRY_DEPLOY_TOKEN" \
              -d "$1" "$FERRY_SERVER/api/v1/deployments/$FERRY_DEPLOYMENT/events"
            echo
          }
          post '{"phase":"health","status":"failed","detail":"GET /health: status 500"}'
          post '{"phase":"rollback","status":"started","detail":"health failed"}'
          post '{"phase":"rollback","status":"succeeded","detail":"previous version verified"}'
          post '{"phase":"deploy","status":"succeeded","version":"v7","release":"auto"}'
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
export MARKS="$T/marks"
serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null

token() { # ROLE NAME -> token
    api POST /api/v1/tokens -d "{\"role\":\"$1\",\"name\":\"$2\"}" | jget token
}
ALICE=$(token approver alice)
BOB=$(token approver bob)
DEV=$(token developer dan)
export ALICE BOB DEV

dispatch() { # [BODY] -> run id
    api POST /api/v1/repos/app/workflows/cd.yml/dispatches \
        -d "${1:-{\}}" | jget runs.0.id
}
# deployment_of RUN: the id of the run's deployment, once it exists
deployment_of() {
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
dstatus() { api GET "/api/v1/deployments/$1" | jget status; }
as() { # TOKEN METHOD PATH [BODY]: status code only
    curl -sS -o "$T/as.body" -w '%{http_code}' -X "$2" \
        -H "Authorization: Bearer $1" ${4:+-d "$4"} "$URL$3"
}
wait_status() { # ID STATUS
    local i
    for i in $(seq 1 600); do
        [ "$(dstatus "$1")" = "$2" ] && return 0
        sleep 0.05
    done
    echo "deployment $1 is $(dstatus "$1"), want $2"
    return 1
}

# --- rules ---
api PUT /api/v1/repos/app/environments/production \
    -d '{"reviewers":1,"branches":["main"],"approval_timeout":"10m","production":true}' >"$T/env.json"
ok "an admin creates an environment (201)" test "$(cat "$T/http_status")" = 201
ok "its rules come back normalised" bash -c \
    'jget rules.approval_timeout <"$T/env.json" | grep -qx 600 && jget rules.reviewer_role <"$T/env.json" | grep -qx approver'
ok "bad rules are a 422 naming the key" bash -c \
    'api PUT /api/v1/repos/app/environments/production -d "{\"reviewers\":\"two\"}" | grep -q "reviewers" && grep -qx 422 "$T/http_status"'
ok "an unknown rule is a 422" bash -c \
    'api PUT /api/v1/repos/app/environments/production -d "{\"reviewerz\":1}" | grep -q "unknown environment rule" && grep -qx 422 "$T/http_status"'
ok "a developer may not change rules (403)" test "$(as "$DEV" PUT /api/v1/repos/app/environments/production '{}')" = 403
ok "a bad environment name is a 422" bash -c \
    'api PUT "/api/v1/repos/app/environments/a%20b" -d "{}" >/dev/null; grep -qx 422 "$T/http_status"'

# --- approval ---
run=$(dispatch '{"inputs":{"env":"production"}}')
dep=$(deployment_of "$run")
ok "the deploy job asks for its environment: a deployment record" test -n "$dep"
ok "it waits for approval" wait_status "$dep" waiting
ok "the run's log says who must act" bash -c \
    "sleep 0.3; curl -sS -H \"Authorization: Bearer \$TOKEN\" \"\$URL/api/v1/runs/$run/logs\" | grep -q 'waits for 1 approval(s): ferry approve $dep'"
ok "the environment lists it as waiting" bash -c \
    "api GET /api/v1/repos/app/environments/production | jget live.waiting | grep -q '$dep'"
ok "the deploy job has not started" bash -c '[ ! -s "$MARKS" ]'
ok "a developer may not approve (403, by the rules)" bash -c \
    "[ \$(curl -sS -o \"\$T/x\" -w '%{http_code}' -X POST -H \"Authorization: Bearer \$DEV\" \"\$URL/api/v1/deployments/$dep/approve\") = 403 ] && grep -q 'needs the approver role' \"\$T/x\""
ok "the pusher may not approve their own deployment" bash -c \
    "[ \$(curl -sS -o \"\$T/x\" -w '%{http_code}' -X POST -H \"Authorization: Bearer \$TOKEN\" \"\$URL/api/v1/deployments/$dep/approve\") = 403 ] && grep -q 'may not review' \"\$T/x\""
ok "an approver approves" test "$(as "$ALICE" POST "/api/v1/deployments/$dep/approve" '{"comment":"ship it"}')" = 200
ok "the run succeeds after approval" bash -c "wait_run $run 30 | grep -qx success"
ok "the deployment is recorded as a success" test "$(dstatus "$dep")" = success
ok "who approved is on the record" bash -c \
    "api GET /api/v1/deployments/$dep | jget approved_by | grep -qx alice && api GET /api/v1/deployments/$dep | jget approvals.0.comment | grep -qx 'ship it'"
ok "the record has the commit, the job and the url" bash -c \
    "d=\$(api GET /api/v1/deployments/$dep); echo \"\$d\" | jget sha | grep -qE '^[0-9a-f]{40}\$' && echo \"\$d\" | jget job | grep -q deploy && echo \"\$d\" | jget url | grep -qx https://example.test/production"
ok "the job got its deployment and environment" bash -c \
    "curl -sS -H \"Authorization: Bearer \$TOKEN\" \"\$URL/api/v1/runs/$run/logs\" | grep -q 'deployment=$dep env=production'"
ok "the deploy token is masked in the log" bash -c \
    "curl -sS -H \"Authorization: Bearer \$TOKEN\" \"\$URL/api/v1/runs/$run/logs\" | grep -q 'token=\*\*\*'"
ok "approving twice is a 409" test "$(as "$BOB" POST "/api/v1/deployments/$dep/approve")" = 409
ok "the approval is in the audit log" bash -c \
    "api GET /api/v1/audit | grep -q 'deployment.approve'"

# --- rejection ---
run=$(dispatch '{"inputs":{"env":"production"}}')
dep=$(deployment_of "$run")
wait_status "$dep" waiting >/dev/null
ok "an approver rejects (200)" test "$(as "$BOB" POST "/api/v1/deployments/$dep/reject" '{"comment":"not today"}')" = 200
ok "the run fails" bash -c "wait_run $run 30 | grep -qx failure"
ok "the deployment is rejected, with who and why" bash -c \
    "api GET /api/v1/deployments/$dep | jget reason | grep -q \"rejected by 'bob': not today\""
ok "the deploy job failed with the reason" bash -c \
    "api GET /api/v1/runs/$run/jobs | grep -q 'rejected by'"

# a long comment of multi-byte characters: cut on a character boundary,
# so the job still hears the answer and the records stay readable
run=$(dispatch '{"inputs":{"env":"production"}}')
dep=$(deployment_of "$run")
wait_status "$dep" waiting >/dev/null
LONG=$(/usr/bin/python3 -c 'print("x" + "é" * 499)')
UNNAMED=$(api POST /api/v1/tokens -d '{"role":"approver"}' | jget token)
ok "an unnamed token may not review (403)" bash -c \
    "[ \$(curl -sS -o \"\$T/x\" -w '%{http_code}' -X POST -H \"Authorization: Bearer $UNNAMED\" \"\$URL/api/v1/deployments/$dep/approve\") = 403 ] && grep -q 'named token' \"\$T/x\""
ok "a reject with a 999-byte multi-byte comment is answered" test \
    "$(as "$BOB" POST "/api/v1/deployments/$dep/reject" "{\"comment\":\"$LONG\"}")" = 200
ok "and the job hears it: the run fails" bash -c "wait_run $run 30 | grep -qx failure"
ok "the records stay readable" bash -c \
    "api GET /api/v1/deployments/$dep | jget status | grep -qx rejected && api GET '/api/v1/deployments?repo=app' >/dev/null && grep -qx 200 \"\$T/http_status\""

# --- the deploy step's reports: phases, incident, alerts, release tag ---
run=$(dispatch '{"inputs":{"env":"production","report":"yes"}}')
dep=$(deployment_of "$run")
wait_status "$dep" waiting >/dev/null
as "$ALICE" POST "/api/v1/deployments/$dep/approve" >/dev/null
ok "a reporting deployment succeeds" bash -c "wait_run $run 30 | grep -qx success"
ok "its phases are on the record" bash -c \
    "api GET /api/v1/deployments/$dep | jget phases | grep -q '\"phase\": \"health\"'"
ok "the version it reported is on the record" bash -c \
    "api GET /api/v1/deployments/$dep | jget version | grep -qx v7"
ok "the release is tagged v1.0.0 on the repository" bash -c \
    "git -C \"\$T/app.git\" tag | grep -qx v1.0.0 && api GET /api/v1/deployments/$dep | jget release_tag | grep -qx v1.0.0"
ok "the tag points at the deployed commit" bash -c \
    "[ \"\$(git -C \"\$T/app.git\" rev-parse 'v1.0.0^{commit}')\" = \"\$(api GET /api/v1/deployments/$dep | jget sha)\" ]"
ok "the rollback opened an incident that is resolved" bash -c \
    "i=\$(api GET /api/v1/incidents); echo \"\$i\" | jget incidents.0.status | grep -qx resolved && echo \"\$i\" | jget incidents.0.deployment_id | grep -qx $dep"
ok "the incident's timeline has the rollback's steps" bash -c \
    "api GET /api/v1/incidents | jget incidents.0.timeline | grep -q 'rollback succeeded: previous version verified'"
ok "a critical alert is in the outbox" bash -c \
    "api GET /api/v1/alerts | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin)[\"alerts\"]; sys.exit(0 if any(x[\"level\"]==\"critical\" and x[\"kind\"]==\"rollback.started\" for x in a) else 1)'"
ok "events need the deploy token (403 with another)" bash -c \
    "[ \$(curl -sS -o /dev/null -w '%{http_code}' -X POST -H \"Authorization: Bearer \$TOKEN\" -d '{\"phase\":\"x\",\"status\":\"y\"}' \"\$URL/api/v1/deployments/$dep/events\") = 403 ]"
ok "two tokens with one name count as one reviewer" bash -c '
    api PUT /api/v1/repos/app/environments/twice -d "{\"reviewers\":2}" >/dev/null
    A2=$(api POST /api/v1/tokens -d "{\"role\":\"approver\",\"name\":\"alice\"}" | jget token)
    r=$(api POST /api/v1/repos/app/workflows/cd.yml/dispatches -d "{\"inputs\":{\"env\":\"twice\"}}" | jget runs.0.id)
    for i in $(seq 1 600); do
        d=$(api GET "/api/v1/deployments?environment=twice&status=waiting" | jget deployments.0.id)
        [ "$d" != null ] && [ -n "$d" ] && break; sleep 0.05
    done
    c1=$(curl -sS -o /dev/null -w "%{http_code}" -X POST -H "Authorization: Bearer $ALICE" "$URL/api/v1/deployments/$d/approve")
    c2=$(curl -sS -o /dev/null -w "%{http_code}" -X POST -H "Authorization: Bearer $A2" "$URL/api/v1/deployments/$d/approve")
    st=$(api GET /api/v1/deployments/$d | jget status)
    curl -sS -o /dev/null -X POST -H "Authorization: Bearer $BOB" "$URL/api/v1/deployments/$d/reject"
    wait_run "$r" 30 >/dev/null
    [ "$c1" = 200 ] && [ "$c2" = 409 ] && [ "$st" = waiting ]'
ok "events without a token are a 401" bash -c \
    "[ \$(curl -sS -o /dev/null -w '%{http_code}' -X POST -d '{}' \"\$URL/api/v1/deployments/$dep/events\") = 401 ]"

# a failed rollback with a long multi-byte detail locks the environment
# with readable text, which an admin can read and clear
run=$(dispatch '{"inputs":{"env":"production","report":"lock"}}')
dep=$(deployment_of "$run")
wait_status "$dep" waiting >/dev/null
as "$ALICE" POST "/api/v1/deployments/$dep/approve" >/dev/null
wait_run "$run" 30 >/dev/null
ok "a failed rollback's long multi-byte detail locks the environment readably" bash -c \
    "api GET /api/v1/repos/app/environments/production | jget locked | grep -q 'the rollback of deployment $dep failed: xé'"
api POST /api/v1/repos/app/environments/production/unlock >/dev/null
ok "and an admin can unlock it" bash -c \
    "grep -qx 200 \"\$T/http_status\" && api GET /api/v1/repos/app/environments/production | jget locked | grep -qx null"

# --- approval timeout ---
api PUT /api/v1/repos/app/environments/production \
    -d '{"reviewers":1,"branches":["main"],"approval_timeout":2}' >/dev/null
run=$(dispatch '{"inputs":{"env":"production"}}')
dep=$(deployment_of "$run")
ok "an unapproved deployment times out" bash -c "wait_run $run 30 | grep -qx failure"
ok "as 'approval timed out'" bash -c \
    "api GET /api/v1/deployments/$dep | jget status | grep -qx timed_out && api GET /api/v1/runs/$run/jobs | grep -q 'approval timed out'"
ok "an error alert says so" bash -c \
    "api GET /api/v1/alerts | grep -q 'approval.timed_out'"
ok "the timeout is in the audit log" bash -c \
    "api GET /api/v1/audit | grep -q 'deployment.timeout'"

# --- branch rules and freezes ---
git -C "$T/src" checkout -q -b feature/x
git -C "$T/src" push -q "$T/app.git" feature/x 2>/dev/null
api PUT /api/v1/repos/app/environments/production -d '{"branches":["main"]}' >/dev/null
run=$(api POST /api/v1/repos/app/workflows/cd.yml/dispatches \
    -d '{"ref":"feature/x","inputs":{"env":"production"}}' | jget runs.0.id)
ok "a branch the rules do not allow cannot deploy" bash -c \
    "wait_run $run 30 | grep -qx failure && api GET /api/v1/runs/$run/jobs | grep -q \"'feature/x' may not deploy to 'production'\""
api PUT /api/v1/repos/app/environments/staging \
    -d '{"freeze":[{"from":"2000-01-01","to":"2999-01-01T00:00:00Z"}]}' >/dev/null
run=$(dispatch '{"inputs":{"env":"staging"}}')
ok "a frozen environment refuses deployments" bash -c \
    "wait_run $run 30 | grep -qx failure && api GET /api/v1/runs/$run/jobs | grep -q \"'staging' is frozen until 2999-01-01\""

# --- one deployment at a time ---
api PUT /api/v1/repos/app/environments/staging -d '{}' >/dev/null
: >"$MARKS"
r1=$(dispatch '{"inputs":{"env":"staging"}}')
r2=$(dispatch '{"inputs":{"env":"staging"}}')
ok "two deployments to one environment both succeed" bash -c \
    "wait_run $r1 40 | grep -qx success && wait_run $r2 40 | grep -qx success"
ok "they never overlap (the lock)" /usr/bin/python3 -c '
import sys
ev = [l.split() for l in open(sys.argv[1])]
depth = 0
for kind, _ in sorted(ev, key=lambda e: int(e[1])):
    depth += 1 if kind == "start" else -1
    if depth > 1: sys.exit(1)
sys.exit(0 if len(ev) == 4 else 1)' "$MARKS"
run=$(dispatch '{"inputs":{"env":"qa"}}')
ok "an environment never configured is made on first use, unprotected" bash -c \
    "wait_run $run 30 | grep -qx success && api GET /api/v1/environments?repo=app | grep -q '\"name\":\"qa\"'"

# --- escalation lock ---
sqlite3 "$T/home/ferry.db" "UPDATE environments SET locked = 'rollback failed' WHERE name = 'staging'" 2>/dev/null ||
    /usr/bin/python3 -c 'import sqlite3,sys; c=sqlite3.connect(sys.argv[1]); c.execute("UPDATE environments SET locked = ? WHERE name = ?", ("rollback failed", "staging")); c.commit()' "$T/home/ferry.db"
run=$(dispatch '{"inputs":{"env":"staging"}}')
ok "a locked environment refuses deployments" bash -c \
    "wait_run $run 30 | grep -qx failure && api GET /api/v1/runs/$run/jobs | grep -q \"environment 'staging' is locked\""
ok "only an admin unlocks (403 for an approver)" test "$(as "$ALICE" POST /api/v1/repos/app/environments/staging/unlock)" = 403
api POST /api/v1/repos/app/environments/staging/unlock >/dev/null
ok "an admin unlocks it" bash -c \
    "grep -qx 200 \"\$T/http_status\" && api GET /api/v1/repos/app/environments/staging | jget locked | grep -qx null"
run=$(dispatch '{"inputs":{"env":"staging"}}')
ok "after unlocking it deploys again" bash -c "wait_run $run 30 | grep -qx success"
