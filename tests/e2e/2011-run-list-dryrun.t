#!/usr/bin/env bash
# ferry run -l (list stages, needs, which workflows the event runs) and
# --dry-run (report the jobs, run no process).
. "$(dirname "$0")/lib.sh"

plan 10

# row JOB_ID: the -l table row of job JOB_ID (whitespace-split fields:
# stage, id, ..., runs, needs as the last two)
row() { awk -v id="$1" '$2 == id' "$T/out"; }
field_stage() { row "$1" | awk '{print $1}'; }
field_runs() { row "$1" | awk '{print $(NF-1)}'; }
field_needs() { row "$1" | awk '{print $NF}'; }

R=$T/repo
mkdir -p "$R"
workflow "$R" build.yml <<EOF
name: Build
on: push
jobs:
  deploy:
    needs: [test, lint]
    runs-on: ubuntu-latest
    steps:
      - run: touch "$T/ran-deploy"
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: touch "$T/ran-lint"
  compile:
    runs-on: ubuntu-latest
    steps:
      - run: touch "$T/ran-compile"
  test:
    needs: compile
    runs-on: ubuntu-latest
    steps:
      - name: Run the tests
        run: |
          touch "$T/ran-test"
          echo "second line of the script"
EOF
workflow "$R" pr.yml <<EOF
name: PR checks
on: pull_request
jobs:
  review:
    runs-on: ubuntu-latest
    steps:
      - run: touch "$T/ran-review"
EOF
mkrepo "$R"

t_list_stages() {
    run_ferry run -C "$R" -l
    status_is 0 &&
        [ "$(field_stage compile)" = 0 ] && [ "$(field_stage lint)" = 0 ] &&
        [ "$(field_stage test)" = 1 ] && [ "$(field_stage deploy)" = 2 ] ||
        { cat "$T/out"; return 1; }
}
ok "-l prints each job's stage (one more than its deepest need)" \
    t_list_stages

t_list_needs() {
    [ "$(field_needs deploy)" = "test,lint" ] &&
        [ "$(field_needs test)" = "compile" ] &&
        [ "$(field_needs compile)" = "-" ] || { cat "$T/out"; return 1; }
}
ok "-l prints each job's needs" t_list_needs

t_list_order() {
    # stage 0 rows come before stage 1 rows, before stage 2 rows
    local order
    order=$(awk '$2 ~ /^(compile|lint|test|deploy)$/ {print $1}' "$T/out" | tr -d '\n')
    [ "$order" = "0012" ] || { echo "stages in order: $order"; cat "$T/out"; return 1; }
}
ok "-l lists jobs by stage" t_list_order

t_list_event() {
    [ "$(field_runs deploy)" = yes ] && [ "$(field_runs review)" = no ] &&
        out_has ".github/workflows/build.yml (Build) on: push — runs on this event" &&
        out_has ".github/workflows/pr.yml (PR checks) on: pull_request — not triggered by 'push'" ||
        { cat "$T/out"; return 1; }
}
ok "-l says which workflows run for the event (push)" t_list_event

t_list_other_event() {
    run_ferry run pull_request -C "$R" -l
    status_is 0 && [ "$(field_runs deploy)" = no ] &&
        [ "$(field_runs review)" = yes ] || { cat "$T/out"; return 1; }
}
ok "-l pull_request: the other workflow runs" t_list_other_event

t_list_runs_nothing() {
    ls "$T"/ran-* >/dev/null 2>&1 && { ls "$T"/ran-*; return 1; }
    out_lacks "job started"
}
ok "-l runs nothing" t_list_runs_nothing

t_dry_run() {
    run_ferry run -C "$R" --dry-run
    status_is 0 && ! ls "$T"/ran-* >/dev/null 2>&1 ||
        { ls "$T"/ran-* 2>/dev/null; cat "$T/out"; return 1; }
}
ok "--dry-run runs no process (no step creates its file)" t_dry_run

t_dry_run_reports() {
    out_has "[Build/compile] ▶ job started" &&
        out_has "[Build/deploy] ▶ job started" &&
        out_has "[Build/test] ⭐ Run the tests" &&
        out_matches '^\[Build/deploy\] ✓ job success' &&
        out_lacks "[PR checks/"
}
ok "--dry-run reports the jobs and steps it would run" t_dry_run_reports

t_dry_run_order() {
    local a b
    a=$(grep -nF -m1 "[Build/test] ✓ job success" "$T/out" | cut -d: -f1)
    b=$(grep -nF -m1 "[Build/deploy] ▶ job started" "$T/out" | cut -d: -f1)
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ]
}
ok "--dry-run keeps the needs order" t_dry_run_order

t_dash_n() {
    run_ferry run -C "$R" -n -j test
    status_is 0 && out_has "[Build/compile] ▶ job started" &&
        out_has "[Build/test] ▶ job started" &&
        out_lacks "[Build/deploy]" && ! ls "$T"/ran-* >/dev/null 2>&1
}
ok "-n with -j: the job and its needs, still nothing run" t_dash_n
