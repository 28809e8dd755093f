#!/usr/bin/env bash
# ferry run checks workflows like ferry lint before running anything: an
# invalid workflow exits 2 with the same file:line:col message and no
# step runs; warnings do not stop the run; the script-injection check is
# lint's only.
. "$(dirname "$0")/lib.sh"

plan 12

R="$T/repo"
mkdir -p "$R"
mkrepo "$R" >/dev/null

# err_line TEXT: a line of stderr starts with TEXT (position and message
# exact; lint may append a hint in parentheses)
err_line() {
    S="$1" awk 'index($0, ENVIRON["S"]) == 1 { f = 1 } END { exit !f }' "$T/err" ||
        { echo "no stderr line starts with: $1"; cat "$T/err"; return 1; }
}
no_marker() { [ ! -e "$T/ran" ] || { echo "a step ran"; return 1; }; }

# a good workflow next to the bad one: it must not run either
workflow "$R" good.yml <<EOF
on: push
jobs:
  fine:
    runs-on: ubuntu-latest
    steps:
      - run: touch "$T/ran"
EOF
workflow "$R" bad.yml <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ foo.bar }}
EOF
commit "$R" "workflows" >/dev/null

lint_msg=".github/workflows/bad.yml:6:23: error: unrecognized named-value 'foo'"

lint_first() {
    (cd "$R" && run_ferry lint) && status_is 1 && err_line "$lint_msg"
}
ok "ferry lint reports the unknown context" lint_first

run_exit() { run_ferry run -C "$R" && status_is 2 && no_marker; }
ok "ferry run on an invalid workflow exits 2 and runs nothing" run_exit

run_msg() { run_ferry run -C "$R" && err_line "$lint_msg"; }
ok "ferry run prints the same file:line:col message as lint" run_msg

run_json() {
    run_ferry run -C "$R" --json && status_is 2 && err_line "$lint_msg" &&
        { [ ! -s "$T/out" ] || { echo "events on stdout:"; cat "$T/out"; false; }; }
}
ok "ferry run --json: exit 2, message on stderr, no events" run_json

run_list() { run_ferry run -C "$R" -l && status_is 2 && err_line "$lint_msg"; }
ok "ferry run -l on an invalid workflow exits 2 with the message" run_list

# a YAML syntax error given with -W (path as written)
mkdir -p "$T/y"
cat >"$T/y/syntax.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
     steps:
      - run: echo hi
EOF
run_yaml() {
    (cd "$T" && run_ferry run -C "$R" -W y/syntax.yml) && status_is 2 &&
        err_line "y/syntax.yml:5:11: error: mapping values are not allowed in this context"
}
ok "ferry run -W FILE with a YAML error exits 2 with lint's message" run_yaml

cat >"$T/y/cycle.yml" <<'EOF'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    needs: b
    steps:
      - run: echo a
  b:
    runs-on: ubuntu-latest
    needs: a
    steps:
      - run: echo b
EOF
run_cycle() {
    (cd "$T" && run_ferry run -C "$R" -W y/cycle.yml) && status_is 2 &&
        err_line "y/cycle.yml:10:12: error: cycle in needs: a -> b -> a"
}
ok "ferry run refuses a cycle in needs with the cycle named" run_cycle

# warnings only: the run goes ahead
rm "$R/.github/workflows/bad.yml"
workflow "$R" warn.yml <<'EOF'
on: push
jobs:
  warned:
    runs-on: ubuntu-latest
    stepz: []
    steps:
      - run: echo warned-ran
EOF
commit "$R" "warnings only" >/dev/null

run_warn() {
    run_ferry run -C "$R" && status_is 0 && out_has "warned-ran" &&
        [ -e "$T/ran" ] || { cat "$T/out" "$T/err"; false; }
}
ok "a workflow with warnings only runs (exit 0)" run_warn

run_warn_msg() {
    run_ferry run -C "$R" &&
        err_line ".github/workflows/warn.yml:5:5: warning: unknown key 'stepz' in job 'warned' (did you mean 'steps'?)"
}
ok "ferry run prints the warning with its position" run_warn_msg

# the injection check is lint's: ferry run runs the workflow
mkdir -p "$T/inj"
mkrepo "$T/inj" >/dev/null
workflow "$T/inj" inject.yml <<'EOF'
on: issues
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: echo "title=${{ github.event.issue.title }}"
EOF
commit "$T/inj" "injection" >/dev/null
echo '{"action":"opened","issue":{"number":7,"title":"hello"}}' >"$T/issue.json"

lint_inj() {
    (cd "$T/inj" && run_ferry lint) && status_is 1 &&
        err_line ".github/workflows/inject.yml:6:26: error: script injection: untrusted 'github.event.issue.title' is expanded into 'run'; pass it through an environment variable instead (env: VALUE: \${{ github.event.issue.title }}, then use \"\$VALUE\")"
}
ok "ferry lint flags the injection" lint_inj

run_inj() {
    run_ferry run issues -C "$T/inj" -e "$T/issue.json" && status_is 0 &&
        out_has "title=hello"
}
ok "ferry run does not refuse it (the check is lint's)" run_inj

run_missing() {
    run_ferry run -C "$R" -W "$T/nope.yml" && status_is 2 &&
        err_has "cannot open"
}
ok "ferry run -W with a missing file exits 2" run_missing
