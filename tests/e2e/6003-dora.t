#!/usr/bin/env bash
# The DORA figures of a real ferry serve: four production deployments
# done by workflows through `uses: ferry/deploy@v1` (script target) —
# v1 and v2 succeed, v3 fails its verify and is rolled back (an incident
# opened and resolved: a change failure), v4 succeeds — over commits
# made at known times in the past, and two CI runs that record coverage
# and test reports.  Then GET /api/v1/dora (counts, the change failure
# rate exactly, lead times against the commit times, time to restore),
# `ferry dora` and --json, the gauges in /metrics, bad windows, the
# reports and trends endpoints.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"
# what ferry serve gives its jobs, and what --stop uses
export FERRY_DEPLOY_HOME=$T/home/deploy
export XDG_STATE_HOME=$T/xdg-state
plan 39
uses_env production

NOW=$(date +%s)
# commit DIR MESSAGE AGE: a commit made AGE seconds ago
commit_ago() {
    (cd "$1" && git add -A &&
        GIT_AUTHOR_DATE="@$((NOW - $3)) +0000" \
        GIT_COMMITTER_DATE="@$((NOW - $3)) +0000" \
        git commit -q --allow-empty -m "$2")
}

# ---------- the repository ----------
R=$T/src
mkdir -p "$R"
(cd "$R" && git init -q -b main . && git config user.name "Ferry Test" &&
    git config user.email "test@ferry.invalid")
LIVE=$T/live
workflow "$R" deliver.yml <<EOF
name: deliver
on:
  workflow_dispatch:
    inputs:
      version:
        required: true
jobs:
  production:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: ferry/deploy@v1
        with:
          environment: production
          target: script
          version: \${{ inputs.version }}
          deploy: echo "\$FERRY_VERSION" > $LIVE
          verify: |
            [ "\$(cat $LIVE)" = "\$FERRY_VERSION" ] && [ ! -e $T/broken-\$FERRY_VERSION ]
          rollback: echo "\$FERRY_PREVIOUS_VERSION" > $LIVE
EOF
workflow "$R" ci.yml <<'EOF'
name: ci
on:
  workflow_dispatch:
    inputs:
      coverage:
        required: true
      tests:
        required: true
      fail:
        default: "no"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo '{"kind":"coverage","line_rate":${{ inputs.coverage }},"lines_valid":100,"lines_covered":80}' >> "$FERRY_REPORT"
          echo '{"kind":"tests","tests":${{ inputs.tests }},"failures":1,"errors":0,"skipped":0}' >> "$FERRY_REPORT"
      - run: '[ "${{ inputs.fail }}" = no ]'
EOF
commit_ago "$R" "deliver" 7200          # C1, two hours ago
bare_repo "$R" "$T/app.git"
push() { git -C "$R" push -q "$T/app.git" main; }

serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
[ "$(cat "$T/http_status")" = 201 ] || { echo "Bail out! repo add: $(cat "$T/api.body")"; exit 1; }
api PUT /api/v1/repos/app/environments/production -d '{"production":true}' >/dev/null
[ "$(cat "$T/http_status")" = 201 ] || { echo "Bail out! env: $(cat "$T/api.body")"; exit 1; }

# ---------- helpers ----------
dispatch() { # WORKFLOW INPUTS-JSON -> the run's id
    api POST "/api/v1/repos/app/workflows/$1/dispatches" \
        -d "{\"ref\":\"main\",\"inputs\":$2}" | jget runs.0.id
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
run_is() { # RUN CONCLUSION
    local c
    c=$(wait_run "$1" 60)
    [ "$c" = "$2" ] || {
        echo "run $1: $c, want $2"
        curl -sS -H "Authorization: Bearer $TOKEN" "$URL/api/v1/runs/$1/logs" | tail -30
        tail -20 "$T/serve.log"
        return 1
    }
}
deploy() { # VERSION CONCLUSION STATUS: dispatch, wait, check the record
    local run dep
    run=$(dispatch deliver.yml "{\"version\":\"$1\"}")
    run_is "$run" "$2" || return 1
    dep=$(deployment_of "$run") || { echo "no deployment of run $run"; return 1; }
    [ "$(dfield "$dep" status)" = "$3" ] ||
        { echo "deployment $dep is $(dfield "$dep" status), want $3"; api GET "/api/v1/deployments/$dep"; return 1; }
}
export -f dispatch deployment_of dfield run_is deploy

# a figure of GET /api/v1/dora?QUERY: dora QUERY FIELD
dora() { api GET "/api/v1/dora?$1" | jget "$2"; }
# pyexpr QUERY EXPR: EXPR (python, over `d`, the answer) is true
dora_check() {
    api GET "/api/v1/dora?$1" >"$T/dora.json"
    /usr/bin/python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
ok = eval(sys.argv[2])
if not ok:
    print("false:", sys.argv[2]); print(json.dumps(d, indent=1)[:3000])
sys.exit(0 if ok else 1)' "$T/dora.json" "$2"
}
export -f dora dora_check

# ---------- before anything: nulls, and gauges without samples ----------
ok "no deployment yet: a frequency of 0, no change failure rate (null)" \
    dora_check "repo=app" 'd["deployment_frequency"]["count"] == 0 and d["change_failure_rate"]["rate"] is None and d["lead_time"]["median_s"] is None and d["time_to_restore"]["median_s"] is None'
# the gauges are computed off the server's loop, first when it starts,
# and a scrape never waits for them: scrape until the first figures are
# in (30 s at most)
for i in $(seq 1 150); do
    curl -sS -H "Authorization: Bearer $TOKEN" "$URL/metrics" >"$T/m0"
    grep -q '^ferry_dora_deployment_frequency_per_day ' "$T/m0" && break
    sleep 0.2
done
ok "/metrics: the DORA gauges are declared, a null one has no sample" bash -c "
    grep -qx '# TYPE ferry_dora_lead_time_seconds gauge' '$T/m0' &&
    grep -q '^# HELP ferry_dora_lead_time_seconds .*30 days' '$T/m0' &&
    ! grep -q '^ferry_dora_lead_time_seconds ' '$T/m0' &&
    ! grep -q '^ferry_dora_change_failure_ratio ' '$T/m0' &&
    grep -qx 'ferry_dora_deployment_frequency_per_day 0' '$T/m0' || { grep -i dora '$T/m0'; exit 1; }"

# ---------- four deployments ----------
ok "v1 (C1, made 2 h ago) deploys" deploy v1 success success
commit_ago "$R" "feature part 1" 5400  # C2, 1.5 h ago
commit_ago "$R" "feature part 2" 3600  # C3, 1 h ago
push
ok "v2 (C2 and C3) deploys" deploy v2 success success
commit_ago "$R" "fix" 1800             # C4, 30 min ago
push
touch "$T/broken-v3"
ok "v3 fails its verify and is rolled back (the run fails)" \
    deploy v3 failure rolled_back
ok "the rollback opened an incident and resolved it" bash -c "
    api GET /api/v1/incidents?repo=app | /usr/bin/python3 -c '
import json, sys
i = json.load(sys.stdin)[\"incidents\"]
print(i)
sys.exit(0 if len(i) == 1 and i[0][\"status\"] == \"resolved\" and i[0][\"resolved_at\"] else 1)'"
rm -f "$T/broken-v3"
ok "v4 (C4 again, fixed) deploys" deploy v4 success success
ok "v2 is not what runs now: v4 is" test "$(cat "$LIVE")" = v4

# ---------- two CI runs with reports ----------
ciA=$(dispatch ci.yml '{"coverage":"0.72","tests":"10"}')
ok "CI run A succeeds" run_is "$ciA" success
ciB=$(dispatch ci.yml '{"coverage":"0.81","tests":"12","fail":"yes"}')
ok "CI run B fails (after recording its reports)" run_is "$ciB" failure

# ---------- GET /api/v1/dora ----------
Q="window=30d&repo=app"
ok "dora: window, repo and environment are echoed" \
    dora_check "$Q" 'd["window"] == "30d" and d["repo"] == "app" and d["environment"] is None and d["days"] == 30'
ok "dora: 4 deployments reached production (v1..v4)" \
    dora_check "$Q" 'd["deployment_frequency"]["count"] == 4 and abs(d["deployment_frequency"]["per_day"] - 4/30) < 1e-9 and abs(d["deployment_frequency"]["per_month"] - 4) < 1e-9'
ok "dora: the change failure rate is exactly 1 of 4" \
    dora_check "$Q" 'd["change_failure_rate"]["failed"] == 1 and d["change_failure_rate"]["total"] == 4 and d["change_failure_rate"]["rate"] == 0.25 and d["change_failure_rate"]["rating"] == "low"'
ok "dora: 3 of 4 deployments succeeded" \
    dora_check "$Q" 'd["deployment_success_rate"]["succeeded"] == 3 and d["deployment_success_rate"]["total"] == 4 and d["deployment_success_rate"]["rate"] == 0.75'
# v1: C1 (7200 s); v2: C2 is the oldest new commit over C1 (5400 s); v4:
# C4 over v2's C3 (1800 s); v3 shipped nothing.  Each deployed some
# seconds after its commits were made here.
ok "dora: lead time of 3 changes, median from C2 (1.5 h), p90 near C1" \
    dora_check "$Q" 'd["lead_time"]["count"] == 3 and 5400 <= d["lead_time"]["median_s"] < 5400 + 600 and 6840 <= d["lead_time"]["p90_s"] < 6840 + 600 and d["lead_time"]["rating"] == "elite" and d["lead_time"]["met"] is True'
ok "dora: time to restore from the incident, > 0 and under a minute" \
    dora_check "$Q" 'd["time_to_restore"]["count"] == 1 and d["time_to_restore"]["open"] == 0 and 0 < d["time_to_restore"]["median_s"] < 60 and d["time_to_restore"]["rating"] == "elite"'
# deliver: v1, v2, v4 succeeded, v3 failed; ci: A succeeded, B failed
ok "dora: builds 6, 4 succeeded, 2 failed" \
    dora_check "$Q" 'd["builds"]["total"] == 6 and d["builds"]["success"] == 4 and d["builds"]["failure"] == 2 and abs(d["builds"]["success_rate"] - 4/6) < 1e-9 and d["builds"]["avg_duration_s"] > 0'
ok "dora: coverage 0.81 (the newest), from 0.72; tests 12, 1 failed" \
    dora_check "$Q" 'd["coverage"]["latest"] == 0.81 and d["coverage"]["min"] == 0.72 and d["coverage"]["max"] == 0.81 and d["coverage"]["met"] is True and d["tests"]["latest_total"] == 12 and d["tests"]["latest_failed"] == 1'
TODAY=$(date -u +%F)
ok "dora: one series entry per UTC day (31), today's with the 4 deployments" \
    dora_check "$Q" 'len(d["series"]) == 31 and d["series"][-1]["day"] == "'"$TODAY"'" and sum(x["deployments"] for x in d["series"]) == 4 and sum(x["failed_deployments"] for x in d["series"]) == 1'
ok "dora: every repository and a 1-day window count the same" bash -c '
    dora_check "" "d[\"deployment_frequency\"][\"count\"] == 4 and d[\"window\"] == \"30d\" and d[\"repo\"] is None" &&
    dora_check "window=1d" "d[\"change_failure_rate\"][\"rate\"] == 0.25 and d[\"days\"] == 1"'
ok "dora: environment=staging has no deployment (nulls)" \
    dora_check "environment=staging" 'd["environment"] == "staging" and d["deployment_frequency"]["count"] == 0 and d["change_failure_rate"]["rate"] is None'
ok "dora: a bad window is 422 with the reason" bash -c '
    api GET "/api/v1/dora?window=30x" >/dev/null; [ "$(cat "$T/http_status")" = 422 ] &&
    grep -q "bad window" "$T/api.body" &&
    api GET "/api/v1/dora?window=400d" >/dev/null; [ "$(cat "$T/http_status")" = 422 ] &&
    grep -q "at most 366 days" "$T/api.body"'
ok "dora: an unknown repository is 404, a bad environment name 422" bash -c '
    api GET "/api/v1/dora?repo=nope" >/dev/null; [ "$(cat "$T/http_status")" = 404 ] &&
    api GET "/api/v1/dora?environment=a%20b" >/dev/null; [ "$(cat "$T/http_status")" = 422 ]'
ok "dora: a viewer may read it, nobody without a token" bash -c '
    v=$(api POST /api/v1/tokens -d "{\"role\":\"viewer\",\"name\":\"v\"}" | jget token) &&
    [ "$(curl -s -o /dev/null -w "%{http_code}" -H "Authorization: Bearer $v" "$URL/api/v1/dora")" = 200 ] &&
    [ "$(curl -s -o /dev/null -w "%{http_code}" "$URL/api/v1/dora")" = 401 ]'

# ---------- ferry dora ----------
run_ferry dora --repo app
ok "ferry dora prints the key metrics with targets and ticks" bash -c '
    status_is 0 && out_has "KEY METRICS" &&
    out_matches "^Deployment frequency +4\.0/month \(4 in 30d\) +>= 15/month +✗ +medium" &&
    out_matches "^Change failure rate +25\.0% \(1 of 4\) +< 5\.0% +✗ +low" &&
    out_matches "^Lead time +1h3[0-9]m \(median of 3\) +< 1d00h +✓ +elite" &&
    out_matches "^Time to restore +[0-9.]+m?s \(median of 1, 0 open\) +< 30m00s +✓ +elite" &&
    out_matches "^Deployment success rate +75\.0% \(3 of 4\) +> 95\.0% +✗" &&
    out_matches "^Build success rate +66\.6% \(4 of 6\) +> 95\.0% +✗" &&
    out_matches "^Avg build time +[0-9.]+m?s +< 1h00m +✓" &&
    out_matches "^Coverage +81\.0% +> 70\.0% +✓"'
run_ferry dora --repo app --window 7d --json
ok "ferry dora --json prints the API's JSON" bash -c '
    status_is 0 && /usr/bin/python3 -c "
import json, sys
d = json.load(open(sys.argv[1]))
sys.exit(0 if d[\"window\"] == \"7d\" and d[\"change_failure_rate\"][\"rate\"] == 0.25 and len(d[\"series\"]) == 8 else 1)" "$T/out"'
run_ferry dora --window 0d
ok "ferry dora --window 0d is bad usage (exit 2)" bash -c \
    'status_is 2 && err_has "bad window '"'"'0d'"'"'"'
run_ferry dora --repo nope
ok "ferry dora --repo nope: the server refuses (exit 1)" bash -c \
    'status_is 1 && err_has "no repository '"'"'nope'"'"'"'

# ---------- /metrics ----------
# The figures in hand are those of the start, before any deployment.
# A scrape shows them (and asks for new ones once they are 10 s old)
# without waiting for the new ones; later scrapes show the new ones.
curl -sS -H "Authorization: Bearer $TOKEN" "$URL/metrics" >"$T/m1"
ok "/metrics: a scrape shows the previous figures, not waiting for new ones" \
    bash -c "grep -qx 'ferry_dora_deployment_frequency_per_day 0' '$T/m1' &&
        ! grep -q '^ferry_dora_change_failure_ratio ' '$T/m1'"
for i in $(seq 1 150); do # until the new figures are in (30 s at most)
    curl -sS -H "Authorization: Bearer $TOKEN" "$URL/metrics" >"$T/m1"
    grep -q '^ferry_dora_change_failure_ratio ' "$T/m1" && break
    sleep 0.2
done
export M1=$T/m1
gauge() { sed -n "s/^$1 //p" "$M1"; }
export -f gauge
ok "/metrics: the change failure ratio is 0.25" test "$(gauge ferry_dora_change_failure_ratio)" = 0.25
ok "/metrics: 4 deployments in 30 days a day, lead time and restore in seconds" bash -c '
    /usr/bin/python3 -c "
import sys
f, lt, tr = map(float, sys.argv[1:4])
sys.exit(0 if abs(f - 4/30) < 1e-12 and 5400 <= lt < 6000 and 0 < tr < 60 else 1)" \
        "$(gauge ferry_dora_deployment_frequency_per_day)" \
        "$(gauge ferry_dora_lead_time_seconds)" \
        "$(gauge ferry_dora_time_to_restore_seconds)" || grep -E "^ferry_(dora|build|coverage)" "$M1"'
ok "/metrics: build success 4/6 and coverage 0.81" bash -c '
    /usr/bin/python3 -c "
import sys
b, c = map(float, sys.argv[1:3])
sys.exit(0 if abs(b - 4/6) < 1e-12 and c == 0.81 else 1)" \
        "$(gauge ferry_build_success_ratio)" "$(gauge ferry_coverage_ratio)"'
if command -v promtool >/dev/null; then
    ok "promtool finds nothing wrong with the exposition" \
        bash -c "promtool check metrics <'$T/m1'"
else
    echo "ok $((_n += 1)) # skip promtool is not installed"
fi

# ---------- reports and trends ----------
ok "GET /runs/A/reports: its coverage and tests summaries" bash -c "
    api GET /api/v1/runs/$ciA/reports | /usr/bin/python3 -c '
import json, sys
r = json.load(sys.stdin)[\"reports\"]
print(r)
k = {x[\"kind\"]: x for x in r}
sys.exit(0 if len(r) == 2 and k[\"coverage\"][\"summary\"][\"line_rate\"] == 0.72 and k[\"tests\"][\"summary\"][\"tests\"] == 10 and k[\"coverage\"][\"job\"].endswith(\"test\") else 1)'"
ok "GET /runs/999999/reports is 404" bash -c '
    api GET /api/v1/runs/999999/reports >/dev/null; [ "$(cat "$T/http_status")" = 404 ]'
ok "trends: coverage on main, oldest first" bash -c "
    api GET '/api/v1/repos/app/trends?kind=coverage&branch=main' | /usr/bin/python3 -c '
import json, sys
d = json.load(sys.stdin)
v = [p[\"value\"] for p in d[\"points\"]]
sys.exit(0 if v == [0.72, 0.81] and d[\"ref\"] == \"refs/heads/main\" and d[\"points\"][0][\"run_id\"] == $ciA else 1)'"
ok "trends: tests with limit=1 is the newest; another branch has none" bash -c "
    api GET '/api/v1/repos/app/trends?kind=tests&limit=1' | /usr/bin/python3 -c '
import json, sys
v = [p[\"value\"] for p in json.load(sys.stdin)[\"points\"]]
sys.exit(0 if v == [12] else 1)' &&
    api GET '/api/v1/repos/app/trends?kind=tests&branch=other' | grep -q '\"points\":\[\]'"
ok "trends: without kind or with an unknown one 422, unknown repo 404" bash -c '
    api GET "/api/v1/repos/app/trends" >/dev/null; [ "$(cat "$T/http_status")" = 422 ] &&
    api GET "/api/v1/repos/app/trends?kind=lint" >/dev/null; [ "$(cat "$T/http_status")" = 422 ] &&
    api GET "/api/v1/repos/nope/trends?kind=coverage" >/dev/null; [ "$(cat "$T/http_status")" = 404 ]'

# ---------- the end ----------
serve_stop
ok "nothing of this test is left running" bash -c '
    sleep 0.2
    if pgrep -f "$T/" >/dev/null; then echo "left over:"; pgrep -af "$T/"; exit 1; fi'
