#!/usr/bin/env bash
# ferry serve: a failed run on a protected branch (the default branch, or
# one an environment deploys from) raises one error alert per failure
# streak; the run that succeeds again resolves it; feature branches raise
# nothing; a failed scheduled run raises its own alert.
. "$(dirname "$0")/lib.sh"
plan 12

mkdir -p "$T/src"
workflow "$T/src" ci.yml <<'YML'
name: CI
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - uses: actions/checkout@v4
      - run: test ! -e FAIL
      - run: if [ -e SLOW ]; then sleep 60; fi
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
(cd "$T/src" && git remote add origin "$T/app.git")

serve_start >/dev/null || { echo "Bail out! no server"; exit 1; }
"$FERRY" repo add app "$T/app.git" --hook >/dev/null 2>&1 ||
    { echo "Bail out! repo add"; exit 1; }

# push BRANCH fail|pass: a commit that fails or passes, pushed; prints
# the new run's id once it is completed
push() {
    local branch=$1 how=$2 before id
    before=$(api GET '/api/v1/runs?limit=1' | jget runs.0.id 2>/dev/null)
    (cd "$T/src" && git checkout -q -B "$branch" &&
        if [ "$how" = fail ]; then date +%s%N >FAIL; else rm -f FAIL; fi &&
        git add -A &&
        git commit -q --allow-empty -m "$how" && git push -q -f origin "$branch" 2>/dev/null)
    for _ in $(seq 1 400); do
        id=$(api GET '/api/v1/runs?limit=1' | jget runs.0.id 2>/dev/null)
        [ "$id" != "$before" ] && [ "$id" != null ] && break
        sleep 0.05
    done
    wait_run "$id" >/dev/null
    echo "$id"
}
alerts() { api GET '/api/v1/alerts?limit=50'; }
# count KIND: how many alerts of KIND are in the outbox
count() {
    alerts | /usr/bin/python3 -c '
import json, sys
print(sum(1 for a in json.load(sys.stdin)["alerts"] if a["kind"] == sys.argv[1]))' "$1"
}
export -f alerts count

R1=$(push main fail)
ok "a failed run on the default branch raises an error alert" \
    bash -c '[ "$(count run.failed)" = 1 ] && alerts | /usr/bin/python3 -c "
import json, sys
a = [a for a in json.load(sys.stdin)[\"alerts\"] if a[\"kind\"] == \"run.failed\"][0]
assert a[\"level\"] == \"error\", a
p = a[\"payload\"]
assert p[\"repo\"] == \"app\" and p[\"ref\"] == \"refs/heads/main\" and p[\"run\"] == '"$R1"', p
assert \"CI #\" in p[\"summary\"] and \"failed on main\" in p[\"summary\"], p
"'
push main fail >/dev/null
ok "the second failure in a row raises nothing new" \
    bash -c '[ "$(count run.failed)" = 1 ]'
push main pass >/dev/null
ok "the next success resolves the streak's alert" \
    bash -c 'alerts | /usr/bin/python3 -c "
import json, sys
al = json.load(sys.stdin)[\"alerts\"]
f = [a for a in al if a[\"kind\"] == \"run.failed\"][0]
r = [a for a in al if a[\"kind\"] == \"run.recovered\"]
assert len(r) == 1, r
assert r[0][\"level\"] == \"info\"
assert r[0][\"payload\"][\"resolves\"] == f[\"dedup_key\"], (r, f)
"'
push main pass >/dev/null
ok "a success after a success resolves nothing" \
    bash -c '[ "$(count run.recovered)" = 1 ]'
push main fail >/dev/null
ok "a new streak raises a new alert with its own key" \
    bash -c '[ "$(count run.failed)" = 2 ] && alerts | /usr/bin/python3 -c "
import json, sys
k = [a[\"dedup_key\"] for a in json.load(sys.stdin)[\"alerts\"] if a[\"kind\"] == \"run.failed\"]
assert len(set(k)) == 2, k
"'
# a run cancelled in the middle of a streak (a newer push superseding
# it) neither ends the streak nor starts a new one
before=$(api GET '/api/v1/runs?limit=1' | jget runs.0.id)
(cd "$T/src" && git checkout -q -B main && rm -f FAIL && date +%s%N >SLOW &&
    git add -A &&
    git commit -q -m slow && git push -q -f origin main 2>/dev/null)
SLOW_ID=
for _ in $(seq 1 400); do
    SLOW_ID=$(api GET '/api/v1/runs?limit=1' | jget runs.0.id 2>/dev/null)
    [ "$SLOW_ID" != "$before" ] && [ "$SLOW_ID" != null ] &&
        [ "$(api GET "/api/v1/runs/$SLOW_ID" | jget status)" = running ] && break
    sleep 0.05
done
api POST "/api/v1/runs/$SLOW_ID/cancel" >/dev/null
SLOW_END=$(wait_run "$SLOW_ID")
echo "# the slow run: $SLOW_END"
ok "a run in the streak is cancelled" test "$SLOW_END" = cancelled
(cd "$T/src" && git rm -q SLOW && git commit -q -m unslow)
push main fail >/dev/null
push main pass >/dev/null
ok "the streak goes on past a cancelled run: one alert, then resolved" \
    bash -c '[ "$(count run.failed)" = 2 ] && alerts | /usr/bin/python3 -c "
import json, sys
al = json.load(sys.stdin)[\"alerts\"]
f = [a for a in al if a[\"kind\"] == \"run.failed\"]  # newest first
r = [a[\"payload\"][\"resolves\"] for a in al if a[\"kind\"] == \"run.recovered\"]
assert len(r) == 2 and f[0][\"dedup_key\"] in r, (r, f)
"'
push feature/x fail >/dev/null
ok "a failure on a feature branch raises nothing" \
    bash -c '[ "$(count run.failed)" = 2 ]'

# an environment that deploys from release/* makes those branches protected
api PUT /api/v1/repos/app/environments/production \
    -d '{"branches":["release/*"]}' >/dev/null
ok "the environment is set" bash -c 'grep -q "^20" "$T/http_status"'
push release/1.0 fail >/dev/null
ok "a failure on a branch an environment deploys from raises an alert" \
    bash -c '[ "$(count run.failed)" = 3 ] && alerts | grep -q "refs/heads/release/1.0"'

# a scheduled run that fails: pushed to the default branch, then the
# server restarts with its clock shifted so that a minute comes soon
workflow "$T/src" nightly.yml <<'YML'
name: nightly
on:
  schedule:
    - cron: '* * * * *'
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
      - run: exit 3
YML
push main pass >/dev/null
serve_stop
now=$(date +%s)
export FERRY_TEST_CLOCK_OFFSET=$(( (58 - now % 60 + 60) % 60 ))
serve_start >/dev/null
for _ in $(seq 1 300); do
    [ "$(count schedule.failed)" -ge 1 ] && break
    sleep 0.1
done
ok "a failed scheduled run raises a schedule.failed error alert" \
    bash -c '[ "$(count schedule.failed)" = 1 ] && alerts | /usr/bin/python3 -c "
import json, sys
a = [a for a in json.load(sys.stdin)[\"alerts\"] if a[\"kind\"] == \"schedule.failed\"][0]
assert a[\"level\"] == \"error\" and \"scheduled nightly\" in a[\"payload\"][\"summary\"], a
"'
serve_stop
serve_start >/dev/null
ok "the alerts survive a restart (they are in the outbox)" \
    bash -c '[ "$(count run.failed)" = 3 ]'
