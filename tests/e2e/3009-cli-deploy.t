#!/usr/bin/env bash
# The continuous delivery verbs against a real ferry serve: env create,
# show, set, list and unlock; deployments (list and one); approve and
# reject as an approver's token; rollback --wait; incidents; --json;
# the repository found alone or asked for; usage errors exit 2 and
# refused requests exit 1 with the server's message.
. "$(dirname "$0")/lib.sh"
plan 47

mkdir -p "$T/src"
workflow "$T/src" cd.yml <<'YML'
on: workflow_dispatch
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo built
  deploy:
    needs: build
    runs-on: ubuntu-latest
    environment: production
    steps:
      - run: echo "deploying $FERRY_DEPLOYMENT to $FERRY_ENVIRONMENT"
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
"$FERRY" repo add app "$T/app.git" >/dev/null ||
    { echo "Bail out! ferry repo add failed"; exit 1; }
ALICE=$("$FERRY" token create --role approver --name alice 2>/dev/null)
DAN=$("$FERRY" token create --role developer --name dan 2>/dev/null)
[ -n "$ALICE" ] && [ -n "$DAN" ] || { echo "Bail out! no tokens"; exit 1; }

dispatch() { # -> the run's id
    "$FERRY" dispatch app cd.yml | sed -n 's/^queued run //p'
}
# deployment_of RUN: the id of the run's deployment, once it waits
deployment_of() {
    local i d
    for i in $(seq 1 600); do
        d=$("$FERRY" deployments --json | /usr/bin/python3 -c 'import json,sys
for d in json.load(sys.stdin)["deployments"]:
    if d["run_id"] == int(sys.argv[1]) and d["status"] == "waiting":
        print(d["id"]); break' "$1")
        [ -n "$d" ] && { echo "$d"; return 0; }
        sleep 0.05
    done
    return 1
}
as_alice() { FERRY_TOKEN=$ALICE "$FERRY" "$@"; }
rules() { # KEY: the environment's rule, as JSON
    "$FERRY" env show production --json | jget "rules.$1"
}
export -f rules

# --- env create, show, list ---
run_ferry env create production --reviewers 1 --branches main --production
ok "env create makes the environment" eval \
    'status_is 0 && out_has "created environment production of app" && out_has "production:       yes"'
run_ferry env create production --reviewers 2
ok "env create refuses one that exists (exit 1)" eval \
    'status_is 1 && err_has "exists" && err_has "ferry env set"'
run_ferry env show production
ok "env show prints the rules, the lock and the deployments" eval \
    'status_is 0 && out_matches "^reviewers: +1 \(approver or above; not who triggered it\)" &&
     out_matches "^branches: +main$" && out_matches "^approval timeout: +30m00s" &&
     out_matches "^locked: +no" && out_matches "^current: +none" && out_matches "^deploying: +none"'
ok "env show --json is the API's object" eval \
    '[ "$(rules reviewers)" = 1 ] && [ "$(rules production)" = True ] && [ "$(rules branches)" = "[\"main\"]" ]'
run_ferry env list
ok "env list has it" eval 'status_is 0 && out_matches "^app +production +1 +main +yes +no"'

# --- a deployment waits, is approved, succeeds ---
run=$(dispatch)
dep=$(deployment_of "$run")
ok "a dispatched run's deployment waits" test -n "$dep"
run_ferry deployments
ok "ferry deployments shows it waiting" eval \
    "status_is 0 && out_matches '^ID +ENV +VERSION +STATUS +APPROVED BY +AGE +RUN' && out_matches '^$dep +production +- +waiting +- +[0-9]+s +$run\$'"
run_ferry env show production
ok "env show lists it as waiting for approval" eval \
    "out_matches '^waiting approval: +$dep\$'"
FERRY_TOKEN=$DAN run_ferry approve "$dep"
ok "a developer may not approve: exit 1 with the server's reason" eval \
    'status_is 1 && err_has "needs the approver role" && err_has "(HTTP 403)"'
run_ferry approve "$dep"
ok "who triggered it may not approve it" eval 'status_is 1 && err_has "may not review"'
FERRY_TOKEN=$ALICE run_ferry approve "$dep" --comment "ship it"
ok "an approver's token approves" eval \
    "status_is 0 && out_matches '^approved deployment $dep to app/production: it is (queued|in_progress|success)'"
ok "the run succeeds" eval "wait_run $run 30 | grep -qx success"
run_ferry deployments "$dep" --json
ok "deployments ID --json is the record" eval \
    'status_is 0 && [ "$(jget status <"$T/out")" = success ] && [ "$(jget approved_by <"$T/out")" = alice ] && [ "$(jget approvals.0.comment <"$T/out")" = "ship it" ]'
run_ferry deployments "$dep"
ok "deployments ID is readable: status, commit, run, approvals" eval \
    "status_is 0 && out_has 'deployment $dep: app/production (deploy)' && out_matches '^status: +success' &&
     out_matches '^commit: +[0-9a-f]{12} on refs/heads/main' && out_matches '^run: +$run \(job [^,]*deploy, attempt 1\)' &&
     out_matches '^approved by: +alice' && out_matches '^finished: .*\(took [0-9]+s\)' && out_matches '^  [0-9-]+ [0-9:]+  alice approved: ship it'"
run_ferry deployments --env production --status success --limit 5
ok "deployments filters by environment and status" eval \
    "status_is 0 && out_matches '^$dep +production +- +success +alice'"
run_ferry env show production
ok "env show has it as the current deployment" eval \
    "out_matches '^current: +deployment $dep: - \([0-9a-f]{7}, refs/heads/main\)' && out_matches '^previous: +none'"

# --- a rejection ---
run2=$(dispatch)
dep2=$(deployment_of "$run2")
FERRY_TOKEN=$ALICE run_ferry reject "$dep2" --comment "not today"
ok "an approver rejects" eval "status_is 0 && out_has 'rejected deployment $dep2 to app/production'"
ok "the rejected run fails" eval "wait_run $run2 30 | grep -qx failure"
run_ferry deployments "$dep2"
ok "the record says who rejected it and why" eval \
    "out_matches '^status: +rejected' && out_has \"rejected by 'alice': not today\""
FERRY_TOKEN=$ALICE run_ferry approve "$dep2"
ok "approving it now is refused (409), exit 1" eval \
    'status_is 1 && err_has "is not waiting for approval (it is rejected)" && err_has "(HTTP 409)"'

# --- env set changes only what it is given ---
run_ferry env set production --timeout 5s
ok "env set --timeout succeeds" eval 'status_is 0 && out_has "updated environment production of app"'
ok "it changed the timeout and kept the other rules" eval \
    '[ "$(rules approval_timeout)" = 5 ] && [ "$(rules reviewers)" = 1 ] && [ "$(rules branches)" = "[\"main\"]" ] && [ "$(rules production)" = True ] && [ "$(rules reviewer_role)" = approver ]'
run_ferry env set production --reviewers admin:2 --users alice,bob --wait 1m
ok "--reviewers ROLE:N sets the count and the role" eval \
    'status_is 0 && [ "$(rules reviewers)" = 2 ] && [ "$(rules reviewer_role)" = admin ] && [ "$(rules reviewer_users)" = "[\"alice\", \"bob\"]" ] && [ "$(rules wait_timer)" = 60 ] && [ "$(rules approval_timeout)" = 5 ]'
run_ferry env set production --reviewers approver:1 --users '' --wait 0 --freeze 2000-01-01/2000-01-02
ok "lists are cleared with '' and freezes set" eval \
    'status_is 0 && [ "$(rules reviewer_users)" = "[]" ] && [ "$(rules wait_timer)" = 0 ] && rules freeze | grep -q 2000-01-02'
run_ferry env set production --timeout 1h --json
ok "env set --json prints the API's answer" eval \
    'status_is 0 && [ "$(jget rules.approval_timeout <"$T/out")" = 3600 ]'
run_ferry env set staging --timeout 5s
ok "env set on an unknown environment: exit 1, 404" eval \
    'status_is 1 && err_has "(HTTP 404)" && err_has "ferry env create"'

# --- unlock, rollback, incidents ---
run_ferry env unlock production
ok "env unlock (admin)" eval 'status_is 0 && out_has "unlocked environment production of app"'
FERRY_TOKEN=$ALICE run_ferry env unlock production
ok "an approver may not unlock (exit 1)" eval 'status_is 1 && err_has "(HTTP 403)"'
FERRY_TOKEN=$ALICE run_ferry rollback production --reason "bad release" --wait
ok "rollback --wait reports the failed rollback and exits 1" eval \
    'status_is 1 && out_matches "^rollback of app/production queued: deployment [0-9]+; waiting" && out_matches "^deployment [0-9]+: failed: .+"'
rb=$(sed -n 's/^deployment \([0-9]*\): failed.*/\1/p' "$T/out")
run_ferry deployments "$rb" --json
ok "the rollback is on the record as such" eval \
    '[ "$(jget kind <"$T/out")" = rollback ] && [ "$(jget status <"$T/out")" = failed ] && jget reason <"$T/out" | grep -q "bad release (by alice)"'
run_ferry deployments --env production --limit 1
ok "the deployments table marks it a rollback" eval \
    "out_matches '^$rb +production +- +failed +- +[0-9]+s +\(rollback\)\$'"
run_ferry rollback production --json
ok "rollback without --wait queues and exits 0" eval \
    'status_is 0 && [ "$(jget kind <"$T/out")" = rollback ] && [ "$(jget environment <"$T/out")" = production ]'
run_ferry incidents
ok "incidents lists (none opened here)" eval 'status_is 0 && out_has "no incidents"'
run_ferry incidents 999
ok "an unknown incident: exit 1, 404" eval 'status_is 1 && err_has "(HTTP 404)"'

# --- refused requests and usage ---
run_ferry deployments 9999
ok "an unknown deployment exits 1 with the server's 404 message" eval \
    'status_is 1 && err_has "deployment 9999 not found (HTTP 404)"'
run_ferry approve 9999
ok "approving an unknown deployment exits 1" eval 'status_is 1 && err_has "(HTTP 404)"'
usage() { run_ferry "$@"; grep -qx 2 "$T/status" || { echo "$* exited $(cat "$T/status")"; cat "$T/err"; return 1; }; }
ok "env create without NAME is usage (2)" usage env create
ok "a bad deployment id is usage" usage approve abc
ok "a bad --reviewers is usage" usage env create qa --reviewers lots
ok "a bad duration is usage, with the rule's name" eval \
    'run_ferry env create qa --timeout 30minutes; status_is 2 && err_has "approval_timeout"'
ok "a bad --freeze is usage" usage env create qa --freeze 2026-12-24
ok "env set with nothing to set is usage" usage env set production
ok "disagreeing roles are usage" usage env create qa --reviewers admin:1 --reviewer-role approver
ok "--limit out of range is usage" usage deployments --limit 0
ok "an unknown env command is usage" usage env bogus
# a second repository: NAME alone is ambiguous
"$FERRY" repo add other "$T/app.git" >/dev/null
run_ferry env show production
ok "with two repositories --repo is needed (2)" eval \
    'status_is 2 && err_has "several repositories: pass --repo"'
run_ferry env show production --repo app
ok "--repo picks one" eval 'status_is 0 && out_has "environment production (repo app)"'
