#!/usr/bin/env bash
# ferry serve --slots N: at most N jobs run at a time across all runs
# (each job start asks the server for a slot); --runs bounds the runs.
. "$(dirname "$0")/lib.sh"
plan 5

mkdir -p "$T/src"
cat >"$T/job.sh" <<SH
#!/bin/sh
# record when this job holds its slot: start and end stamps in ns
echo "start \$(date +%s%N)" >>"$T/trace"
sleep 0.4
echo "end \$(date +%s%N)" >>"$T/trace"
SH
chmod +x "$T/job.sh"
workflow "$T/src" fan.yml <<YML
on: workflow_dispatch
jobs:
  a:
    runs-on: ubuntu-latest
    steps: [{run: "$T/job.sh"}]
  b:
    runs-on: ubuntu-latest
    steps: [{run: "$T/job.sh"}]
  c:
    runs-on: ubuntu-latest
    strategy: {matrix: {n: [1, 2]}}
    steps: [{run: "$T/job.sh"}]
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"

# peak: the most jobs that overlapped, from the trace
peak() {
    sort -k2 -n "$T/trace" | awk '$1=="start"{n++; if(n>m)m=n} $1=="end"{n--} END{print m+0}'
}
export -f peak

serve_start --slots 1 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
R1=$(api POST /api/v1/repos/app/workflows/fan.yml/dispatches | jget runs.0.id)
R2=$(api POST /api/v1/repos/app/workflows/fan.yml/dispatches | jget runs.0.id)
ok "two runs of four jobs each succeed under --slots 1" \
    bash -c "[ \"\$(wait_run $R1 60)\" = success ] && [ \"\$(wait_run $R2 60)\" = success ]"
ok "all eight jobs ran" bash -c '[ "$(grep -c ^start "$T/trace")" = 8 ]'
ok "never more than one job at a time (across both runs)" bash -c '[ "$(peak)" = 1 ]'
serve_stop

: >"$T/trace"
serve_start --slots 3 >/dev/null
R3=$(api POST /api/v1/repos/app/workflows/fan.yml/dispatches | jget runs.0.id)
R4=$(api POST /api/v1/repos/app/workflows/fan.yml/dispatches | jget runs.0.id)
wait_run "$R3" 60 >/dev/null; wait_run "$R4" 60 >/dev/null
ok "--slots 3: at most three jobs at a time" bash -c 'p=$(peak); [ "$p" -le 3 ]'
ok "--slots 3: and more than one did run together" bash -c 'p=$(peak); [ "$p" -ge 2 ]'
exit $_failed
