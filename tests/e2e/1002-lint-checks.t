#!/usr/bin/env bash
# ferry lint: each check reports "file:line:col: error|warning: message"
# at the exact position of the offending text.
. "$(dirname "$0")/lib.sh"

plan 28

W="$T/w"
mkdir -p "$W"

# lint_is FILE STATUS LINE...: lint FILE in $W; exit STATUS; for every
# LINE a line of stderr starts with it (position and message exact; lint
# may append a hint in parentheses)
lint_is() {
    local f=$1 want=$2
    shift 2
    (cd "$W" && run_ferry lint "$f") || return 1
    status_is "$want" || return 1
    for l in "$@"; do
        S="$l" awk 'index($0, ENVIRON["S"]) == 1 { f = 1 } END { exit !f }' \
            "$T/err" || {
            echo "no stderr line starts with: $l"
            cat "$T/err"
            return 1
        }
    done
}
# nothing but the summary line matches ": error: " / ": warning: "
no_findings() {
    (cd "$W" && run_ferry lint "$1") || return 1
    status_is 0 || return 1
    [ ! -s "$T/err" ] || { echo "unexpected findings:"; cat "$T/err"; return 1; }
}

# --- structure ---
cat >"$W/yaml.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
     steps:
      - run: echo hi
EOF
ok "YAML syntax error at the offending ':'" \
    lint_is yaml.yml 1 "yaml.yml:5:11: error: mapping values are not allowed in this context"

cat >"$W/flow.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: [ubuntu-latest
    steps:
      - run: echo hi
EOF
ok "unclosed flow sequence, with where it started" \
    lint_is flow.yml 1 "flow.yml:5:10: error: did not find expected ',' or ']' (while parsing a flow sequence at 4:14)"

cat >"$W/type.yml" <<'EOF'
on: push
env: [A, B]
jobs:
  build:
    runs-on: ubuntu-latest
    timeout-minutes: soon
    steps:
      - run: [echo, hi]
EOF
ok "wrong types: each at its value" \
    lint_is type.yml 1 \
    "type.yml:2:6: error: 'env' must be a mapping, got a sequence" \
    "type.yml:6:22: error: 'timeout-minutes' must be a number or an expression, got a string" \
    "type.yml:8:14: error: 'run' must be a string, got a sequence"

cat >"$W/steps.yml" <<'EOF'
on: push
jobs:
  build:
    steps:
      - run: echo hi
        uses: actions/checkout@v4
      - name: nothing to do
EOF
ok "missing runs-on, run+uses, neither run nor uses" \
    lint_is steps.yml 1 \
    "steps.yml:3:3: error: job 'build' is missing 'runs-on'" \
    "steps.yml:5:9: error: step 1 of job 'build' has both 'run' and 'uses'" \
    "steps.yml:7:9: error: step 2 of job 'build' must have 'run' or 'uses'"

cat >"$W/dupkey.yml" <<'EOF'
on: push
on: pull_request
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
EOF
ok "duplicate key names the first one" \
    lint_is dupkey.yml 1 "dupkey.yml:2:1: error: duplicate key 'on' (first at line 1)"

# --- expressions ---
cat >"$W/expr.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ github.sha
      - run: echo ${{ foo.bar }}
      - run: echo ${{ frobnicate(1) }}
      - run: echo ${{ contains(1) }}
EOF
ok "unterminated \${{ at its '\$'" \
    lint_is expr.yml 1 "expr.yml:6:19: error: expression '\${{' is not closed with '}}'"
ok "unknown context at its name" \
    lint_is expr.yml 1 "expr.yml:7:23: error: unrecognized named-value 'foo'"
ok "unknown function at its name" \
    lint_is expr.yml 1 "expr.yml:8:23: error: unrecognized function 'frobnicate'"
ok "wrong number of arguments" \
    lint_is expr.yml 1 "expr.yml:9:23: error: too few parameters supplied to 'contains'"

cat >"$W/secrets-if.yml" <<'EOF'
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    if: ${{ secrets.TOKEN != '' }}
    steps:
      - run: echo hi
EOF
ok "secrets in jobs.<id>.if is not allowed" \
    lint_is secrets-if.yml 1 "secrets-if.yml:5:13: error: named-value 'secrets' is not allowed here"

cat >"$W/matrix-if.yml" <<'EOF'
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    if: matrix.os == 'linux'
    strategy:
      matrix:
        os: [linux]
    steps:
      - run: echo hi
EOF
ok "matrix in a bare job-level if is not allowed" \
    lint_is matrix-if.yml 1 "matrix-if.yml:5:9: error: named-value 'matrix' is not allowed here"

cat >"$W/ctx.yml" <<'EOF'
on: push
env:
  A: ${{ needs.x.result }}
jobs:
  a:
    runs-on: ${{ runner.os }}
    strategy:
      max-parallel: ${{ matrix.n }}
    env:
      B: ${{ steps.s.outputs.x }}
      H: ${{ hashFiles('x') }}
    steps:
      - id: s
        run: echo
        if: secrets.X == '1'
      - run: echo ${{ success() }}
      - run: echo ${{ env.A }} ${{ secrets.X }} ${{ runner.os }} ${{ job.status }} ${{ hashFiles('x') }}
EOF
ok "contexts and functions checked against the key they are used at" \
    lint_is ctx.yml 1 \
    "ctx.yml:3:10: error: named-value 'needs' is not allowed here" \
    "ctx.yml:6:18: error: named-value 'runner' is not allowed here" \
    "ctx.yml:8:25: error: named-value 'matrix' is not allowed here" \
    "ctx.yml:10:14: error: named-value 'steps' is not allowed here" \
    "ctx.yml:11:14: error: function 'hashFiles' is not allowed here" \
    "ctx.yml:15:13: error: named-value 'secrets' is not allowed here" \
    "ctx.yml:16:23: error: function 'success' is not allowed here"
ok "a step's run: allows env, secrets, runner, job and hashFiles" \
    eval '! grep -q "^ctx.yml:17:" "$T/err" || { cat "$T/err"; false; }'

cat >"$W/refs.yml" <<'EOF'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
        if: ${{ steps.nope.outputs.x }} extra
      - run: echo ${{ needs.b.result }}
EOF
ok "warnings: unknown step id, if with text outside \${{ }}, needs not listed" \
    lint_is refs.yml 0 \
    "refs.yml:7:13: warning: 'steps.nope' refers to no step with id 'nope' before this in job 'a'" \
    "refs.yml:7:13: warning: 'if' has text outside \${{ }}, so it is a non-empty string and always true; put the whole condition inside one \${{ }}" \
    "refs.yml:8:19: warning: 'needs.b' is used but job 'a' does not list 'b' in 'needs'"

# --- needs ---
cat >"$W/needs.yml" <<'EOF'
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    needs: [biuld]
    steps:
      - run: echo hi
  build:
    runs-on: ubuntu-latest
    needs: build
    steps:
      - run: echo hi
EOF
ok "unknown job in needs, with a suggestion; a job needing itself" \
    lint_is needs.yml 1 \
    "needs.yml:5:13: error: job 'test' needs unknown job 'biuld' (did you mean 'build'?)" \
    "needs.yml:10:12: error: job 'build' needs itself"

cat >"$W/cycle.yml" <<'EOF'
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    needs: c
    steps:
      - run: echo hi
  b:
    runs-on: ubuntu-latest
    needs: a
    steps:
      - run: echo hi
  c:
    runs-on: ubuntu-latest
    needs: [b]
    steps:
      - run: echo hi
EOF
ok "a cycle in needs is named, at the edge that closes it" \
    lint_is cycle.yml 1 "cycle.yml:10:12: error: cycle in needs: a -> c -> b -> a"

# --- cron ---
cat >"$W/cron.yml" <<'EOF'
on:
  schedule:
    - cron: "0 25 * * *"
    - cron: "0 0 * *"
    - cron: "*/0 * * * *"
    - cron: "30 2 * * MON-FRI"
jobs:
  nightly:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
EOF
ok "bad cron: the field, the value and why" \
    lint_is cron.yml 1 \
    "cron.yml:3:16: error: invalid hour '25' in cron '0 25 * * *': value out of range 0-23" \
    "cron.yml:4:14: error: invalid cron '0 0 * *': 4 fields, expected 5 (minute hour day-of-month month day-of-week)" \
    "cron.yml:5:14: error: invalid minute '*/0' in cron '*/0 * * * *': step must be at least 1"
ok "a valid cron with day names is accepted" \
    eval '[ "$(grep -c ": error: " "$T/err")" = 3 ] || { cat "$T/err"; false; }'

# --- matrix ---
cat >"$W/matrix.yml" <<'EOF'
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: [linux, mac]
        exclude:
          - arch: arm
    steps:
      - run: echo hi
  empty:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        os: []
    steps:
      - run: echo ${{ matrix.osx }}
  huge:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        a: [1, 2, 3, 4, 5, 6, 7, 8]
        b: [1, 2, 3, 4, 5, 6, 7, 8]
        c: [1, 2, 3, 4, 5]
    steps:
      - run: echo hi
EOF
ok "invalid matrices: exclude of an unknown key, empty dimension, over 256 jobs" \
    lint_is matrix.yml 1 \
    "matrix.yml:6:7: error: matrix exclude key 'arch' does not match any key within the matrix" \
    "matrix.yml:16:13: error: matrix 'os' of job 'empty' has no values" \
    "matrix.yml:18:19: warning: 'matrix.osx' is not defined in the matrix of job 'empty'" \
    "matrix.yml:22:7: error: matrix expands to more than 256 jobs"

# --- script injection ---
cat >"$W/inject.yml" <<'EOF'
on: issues
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - run: echo "${{ github.event.issue.title }}"
EOF
ok "script injection of github.event.issue.title into run: is an error" \
    lint_is inject.yml 1 "inject.yml:6:20: error: script injection: untrusted 'github.event.issue.title' is expanded into 'run'; pass it through an environment variable instead (env: VALUE: \${{ github.event.issue.title }}, then use \"\$VALUE\")"

cat >"$W/safe.yml" <<'EOF'
on: issues
jobs:
  triage:
    runs-on: ubuntu-latest
    steps:
      - env:
          TITLE: ${{ github.event.issue.title }}
        run: echo "$TITLE"
      - run: echo "${{ github.event.issue.number }}"
EOF
ok "the env: form and trusted fields are not flagged" no_findings safe.yml

cat >"$W/inject2.yml" <<'EOF'
on: pull_request
jobs:
  a:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo start
          git checkout "${{ github.event.pull_request.head.ref }}"
      - uses: actions/github-script@v7
        with:
          script: console.log("${{ github.event.pull_request.body }}")
      - run: echo ${{ github.head_ref }} '${{ github.event.head_commit.message }}'
EOF
ok "injection in a block scalar, in github-script's script, head_ref, commit message" \
    lint_is inject2.yml 1 \
    "inject2.yml:8:25: error: script injection: untrusted 'github.event.pull_request.head.ref' is expanded into 'run'; pass it through an environment variable instead (env: VALUE: \${{ github.event.pull_request.head.ref }}, then use \"\$VALUE\")" \
    "inject2.yml:11:32: error: script injection: untrusted 'github.event.pull_request.body' is expanded into 'with.script'; pass it through an environment variable instead (env: VALUE: \${{ github.event.pull_request.body }}, then use \"\$VALUE\")" \
    "inject2.yml:12:19: error: script injection: untrusted 'github.head_ref' is expanded into 'run'; pass it through an environment variable instead (env: VALUE: \${{ github.head_ref }}, then use \"\$VALUE\")" \
    "inject2.yml:12:43: error: script injection: untrusted 'github.event.head_commit.message' is expanded into 'run'; pass it through an environment variable instead (env: VALUE: \${{ github.event.head_commit.message }}, then use \"\$VALUE\")"

cat >"$W/unknown-ok.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    stepz: []
    steps:
      - run: echo hi
EOF
ok "an unknown key alone is a warning: exit 0" \
    lint_is unknown-ok.yml 0 "unknown-ok.yml:5:5: warning: unknown key 'stepz' in job 'build' (did you mean 'steps'?)"

# --- ferry's own actions: the action, its version, its with: inputs ---
cat >"$W/ferry-bad.yml" <<'EOF'
on: push
jobs:
  ci:
    runs-on: ubuntu-latest
    steps:
      - uses: ferry/report@v1
        with:
          coverage: coverage.xml
          min-covrage: 80
      - uses: ferry/deploy@v1
        with:
          strategy: blue-green
      - uses: ferry/deplo@v1
      - uses: ferry/gate@v2
        with:
          sarif: x.sarif
EOF
ok "an unknown input of ferry/report at its key, with a suggestion" \
    lint_is ferry-bad.yml 1 \
    "ferry-bad.yml:9:11: error: unknown input 'min-covrage' for ferry/report (did you mean 'min-coverage'?)"
ok "ferry/deploy without its required inputs: one error each, at uses" \
    lint_is ferry-bad.yml 1 \
    "ferry-bad.yml:10:15: error: missing input 'environment' required by ferry/deploy" \
    "ferry-bad.yml:10:15: error: missing input 'command' required by ferry/deploy with target 'process' (the default)" \
    "ferry-bad.yml:10:15: error: missing input 'proxy' required by ferry/deploy with strategy 'blue-green'"
ok "an unknown ferry action and an unknown version" \
    lint_is ferry-bad.yml 1 \
    "ferry-bad.yml:13:15: error: unknown action 'ferry/deplo' (did you mean 'ferry/deploy'?)" \
    "ferry-bad.yml:14:15: error: 'ferry/gate' has no version 'v2' (use 'ferry/gate@v1')"

cat >"$W/ferry-ok.yml" <<'EOF'
on: push
jobs:
  ci:
    runs-on: ubuntu-latest
    steps:
      - uses: ferry/report@v1
        with:
          JUnit: junit.xml
          Min-Coverage: ${{ vars.MIN || 70 }}
          COVERAGE: coverage.xml
      - uses: ferry/gate@v1
        with:
          bandit: bandit.json
          severity: medium
      - uses: ferry/image@v1
        with:
          name: localhost/app
          push: ${{ github.ref == 'refs/heads/main' }}
      - uses: ferry/deploy@v1
        with:
          environment: ${{ github.ref_name }}
          target: ${{ vars.TARGET }}
          deploy: ./deploy.sh
EOF
ok "valid inputs in any case, expressions as values: no finding" \
    no_findings ferry-ok.yml

mkdir -p "$T/r/.github/workflows"
cat >"$T/r/.github/workflows/ci.yml" <<EOF
on: push
jobs:
  ci:
    runs-on: ubuntu-latest
    steps:
      - run: touch "$T/ran"
      - uses: ferry/report@v1
        with:
          junit: junit.xml
          fail-on-test-failure: false
EOF
run_before() {
    run_ferry run -C "$T/r" && status_is 2 &&
        err_has ".github/workflows/ci.yml:10:11: error: unknown input 'fail-on-test-failure' for ferry/report (did you mean 'fail-on-test-failures'?)" &&
        [ ! -e "$T/ran" ]
}
ok "ferry run refuses the workflow before any step runs" run_before
