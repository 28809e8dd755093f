#!/usr/bin/env bash
# ferry run: exit statuses, [workflow/job] prefixes, failing steps,
# invalid workflows, -j, -C, -W, an event that triggers nothing.
. "$(dirname "$0")/lib.sh"

plan 12

R=$T/repo
mkdir -p "$R"
echo "hello from the repo" >"$R/README"
workflow "$R" ci.yml <<'EOF'
name: CI
on: push
jobs:
  build:
    name: Build
    runs-on: ubuntu-latest
    steps:
      - name: Say hello
        run: echo "hello-$((6 * 7))"
      - name: Show the repo
        run: cat README
EOF
workflow "$R" other.yml <<'EOF'
name: Other
on: push
jobs:
  other:
    runs-on: ubuntu-latest
    steps:
      - run: echo "other-ran"
EOF
mkrepo "$R"

t_success() {
    run_ferry run -C "$R"
    status_is 0 &&
        out_has "[CI/Build] ▶ job started" &&
        out_has "[CI/Build] ⭐ Say hello" &&
        out_has "[CI/Build]   | hello-42" &&
        out_has "[CI/Build]   | hello from the repo" &&
        out_matches '^\[CI/Build\] ✓ Say hello \(success, [0-9.]+s\)$' &&
        out_matches '^\[CI/Build\] ✓ job success \([0-9.]+s\)$' &&
        out_has "[Other/other]   | other-ran" &&
        out_matches '^run success in [0-9.]+s$'
}
ok "a passing workflow exits 0 with [workflow/job] prefixes" t_success

# a failing step: exit 1, the job fails, later steps are skipped
F=$T/fail
mkdir -p "$F"
workflow "$F" fail.yml <<'EOF'
name: Fail
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - name: first
        run: echo "first-ran"
      - name: boom
        run: |
          echo "about to fail"
          exit 3
      - name: later
        run: echo "later-ran"
EOF
mkrepo "$F"

t_fail_status() {
    run_ferry run -C "$F"
    status_is 1 &&
        out_has "[Fail/j]   | first-ran" &&
        out_has "[Fail/j]   | about to fail" &&
        out_matches '^\[Fail/j\] ✗ boom \(failure, [0-9.]+s\)$' &&
        out_has "exit code 3" &&
        out_matches '^\[Fail/j\] ✗ job failure' &&
        out_matches '^run failure in'
}
ok "a failing step exits 1 and fails the job" t_fail_status

t_fail_skips() {
    out_has "[Fail/j] - later (skipped)" && out_lacks "| later-ran"
}
ok "steps after a failed step are skipped" t_fail_skips

# an invalid workflow: exit 2, file:line:col: on stderr, nothing runs
B=$T/bad
mkdir -p "$B"
workflow "$B" bad.yml <<'EOF'
name: Bad
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo "must-not-run"
      - run: echo ${{ nosuchfunction(1) }}
EOF
mkrepo "$B"

t_invalid() {
    run_ferry run -C "$B"
    status_is 2 && out_lacks "must-not-run" &&
        grep -qE '(^|/)\.github/workflows/bad\.yml:8:[0-9]+: ' "$T/err" ||
        { echo "stderr:"; cat -v "$T/err"; return 1; }
}
ok "an invalid workflow exits 2 with file:line:col: and runs nothing" \
    t_invalid

t_invalid_structure() {
    workflow "$B" bad.yml <<'EOF'
name: Bad
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - name: no command
EOF
    commit "$B" "structurally bad"
    run_ferry run -C "$B"
    status_is 2 &&
        grep -qE '(^|/)\.github/workflows/bad\.yml:7:[0-9]+: ' "$T/err" ||
        { echo "stderr:"; cat -v "$T/err"; return 1; }
}
ok "a step without run or uses exits 2 with file:line:col:" \
    t_invalid_structure

t_unknown_job() {
    run_ferry run -C "$R" -j nosuchjob
    status_is 2 && err_has "nosuchjob" && out_lacks "job started"
}
ok "-j with an unknown job exits 2" t_unknown_job

t_job_filter() {
    run_ferry run -C "$R" -j other
    status_is 0 && out_has "[Other/other]   | other-ran" &&
        out_lacks "[CI/Build]"
}
ok "-j JOB runs only that job" t_job_filter

t_not_triggered() {
    run_ferry run pull_request -C "$R"
    status_is 0 && out_has "no job ran" && out_lacks "job started" &&
        out_has "not triggered by 'pull_request'"
}
ok "an event that triggers no workflow exits 0 with a message" \
    t_not_triggered

t_cwd_default() {
    (cd "$R/.github" && run_ferry run)
    status_is 0 && out_has "[CI/Build]   | hello from the repo"
}
ok "without -C ferry finds the repository from the current directory" \
    t_cwd_default

t_dash_c() {
    (cd "$T" && run_ferry run -C "$R" -j build)
    status_is 0 && out_has "[CI/Build]   | hello from the repo"
}
ok "-C DIR runs the repository in DIR from elsewhere" t_dash_c

t_dash_w() {
    run_ferry run -C "$R" -W "$R/.github/workflows/other.yml"
    status_is 0 && out_has "[Other/other]   | other-ran" &&
        out_lacks "[CI/"
}
ok "-W FILE runs only that workflow" t_dash_w

t_dash_w_outside() {
    # a workflow file kept outside the repository runs against the repo
    mkdir -p "$T/wfs"
    cat >"$T/wfs/extra.yml" <<'EOF'
name: Extra
on: push
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - run: cat README
EOF
    run_ferry run -C "$R" -W "$T/wfs"
    status_is 0 && out_has "[Extra/x]   | hello from the repo" &&
        out_lacks "[CI/" && out_lacks "[Other/"
}
ok "-W DIR runs the workflows of that directory" t_dash_w_outside
