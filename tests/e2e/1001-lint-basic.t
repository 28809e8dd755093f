#!/usr/bin/env bash
# ferry lint end to end: clean workflows give no output and exit 0;
# findings are "file:line:col: error|warning: message" on stderr; exit 1
# on any error, 0 with warnings only, 2 for usage problems.
. "$(dirname "$0")/lib.sh"

plan 17

# in_dir DIR CMD...: run CMD in DIR (run_ferry keeps $T/out, $T/err)
in_dir() { (cd "$1" && shift && "$@"); }
# err_line TEXT: a line of stderr starts with TEXT (position and message
# exact; lint may append a hint in parentheses)
err_line() {
    S="$1" awk 'index($0, ENVIRON["S"]) == 1 { f = 1 } END { exit !f }' "$T/err" ||
        { echo "no stderr line starts with: $1"; cat "$T/err"; return 1; }
}
err_empty() { [ ! -s "$T/err" ] || { echo "stderr is not empty:"; cat "$T/err"; return 1; }; }
out_empty() { [ ! -s "$T/out" ] || { echo "stdout is not empty:"; cat "$T/out"; return 1; }; }

# --- the example project lints clean ---
mkdir -p "$T/ex"
cp -r "$ROOT/examples/breweries/.github" "$T/ex/.github"

clean_default() {
    in_dir "$T/ex" run_ferry lint && status_is 0 && out_empty && err_empty
}
ok "examples: ferry lint (default directories) exits 0, prints nothing" clean_default

clean_files() {
    in_dir "$T/ex" run_ferry lint .github/workflows/ci.yml \
        .github/workflows/nightly.yml && status_is 0 && out_empty && err_empty
}
ok "examples: ferry lint FILE FILE exits 0, prints nothing" clean_files

clean_dir() {
    run_ferry lint "$T/ex/.github/workflows" && status_is 0 && out_empty &&
        err_empty
}
ok "examples: ferry lint DIR exits 0, prints nothing" clean_dir

# --- usage errors: exit 2 ---
missing() {
    in_dir "$T/ex" run_ferry lint nope.yml && status_is 2 &&
        err_has "cannot open 'nope.yml'"
}
ok "a missing file exits 2 and names it" missing

missing_with_good() {
    in_dir "$T/ex" run_ferry lint .github/workflows/ci.yml nope.yml &&
        status_is 2 && err_has "cannot open 'nope.yml'"
}
ok "a missing file among good ones still exits 2" missing_with_good

mkdir -p "$T/empty"
no_workflows() {
    in_dir "$T/empty" run_ferry lint && status_is 2 &&
        err_has "no workflow files found"
}
ok "no workflow directory exits 2" no_workflows

bad_option() {
    in_dir "$T/ex" run_ferry lint --frobnicate && status_is 2 &&
        err_has "unknown option '--frobnicate'"
}
ok "an unknown option exits 2" bad_option

# --- warnings only: exit 0 ---
mkdir -p "$T/w"
cat >"$T/w/unknown-key.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    stepz: []
    steps:
      - run: echo hi
EOF

unknown_key() {
    in_dir "$T/w" run_ferry lint unknown-key.yml && status_is 0 &&
        err_line "unknown-key.yml:5:5: warning: unknown key 'stepz' in job 'build' (did you mean 'steps'?)"
}
ok "an unknown job key is a warning at its position; exit 0" unknown_key

unknown_key_summary() {
    in_dir "$T/w" run_ferry lint unknown-key.yml &&
        err_line "1 file checked: 0 errors, 1 warning" && out_empty
}
ok "a warning prints the summary line on stderr, nothing on stdout" unknown_key_summary

cat >"$T/w/unknown-top.yml" <<'EOF'
name: top
on: push
permisions: read-all
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
EOF
unknown_top() {
    in_dir "$T/w" run_ferry lint unknown-top.yml && status_is 0 &&
        err_line "unknown-top.yml:3:1: warning: unknown key 'permisions' in workflow (did you mean 'permissions'?)"
}
ok "an unknown workflow key is a warning with a suggestion" unknown_top

cat >"$T/w/unknown-event.yml" <<'EOF'
on: [push, pul_request]
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo hi
EOF
unknown_event() {
    in_dir "$T/w" run_ferry lint unknown-event.yml && status_is 0 &&
        err_line "unknown-event.yml:1:12: warning: unknown event 'pul_request' (did you mean 'pull_request'?)"
}
ok "an unknown event is a warning" unknown_event

# --- errors: exit 1, every file reported, sorted ---
mkdir -p "$T/m/.github/workflows"
cat >"$T/m/.github/workflows/a.yml" <<'EOF'
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ nosuch.value }}
EOF
cat >"$T/m/.github/workflows/b.yml" <<'EOF'
on: push
jobs:
  two:
    runs-on: ubuntu-latest
    timeout-minutes: soon
    steps:
      - run: echo hi
EOF
cat >"$T/m/.github/workflows/c.yml" <<'EOF'
on: push
jobs:
  three:
    runs-on: ubuntu-latest
    steps:
      - run: echo fine
EOF

many_files() {
    in_dir "$T/m" run_ferry lint && status_is 1 &&
        err_line ".github/workflows/a.yml:6:23: error: unrecognized named-value 'nosuch'" &&
        err_line ".github/workflows/b.yml:5:22: error: 'timeout-minutes' must be a number or an expression, got a string"
}
ok "errors in two of three files: both reported, exit 1" many_files

sorted() {
    in_dir "$T/m" run_ferry lint .github/workflows/b.yml .github/workflows/a.yml &&
        [ "$(grep -c ': error: ' "$T/err")" = 2 ] &&
        head -1 "$T/err" | grep -q '^\.github/workflows/a\.yml:' ||
        { cat "$T/err"; return 1; }
}
ok "findings are sorted by file whatever the argument order" sorted

summary() {
    in_dir "$T/m" run_ferry lint &&
        err_line "3 files checked: 2 errors, 0 warnings"
}
ok "the summary counts files, errors and warnings" summary

cat >"$T/w/several.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo ${{ foo.bar }}
      - run: echo ${{ frob(1) }}
      - run: echo ${{ github.sha
EOF
several() {
    in_dir "$T/w" run_ferry lint several.yml && status_is 1 &&
        err_line "several.yml:6:23: error: unrecognized named-value 'foo'" &&
        err_line "several.yml:7:23: error: unrecognized function 'frob'" &&
        err_line "several.yml:8:19: error: expression '\${{' is not closed with '}}'"
}
ok "lint does not stop at the first error in a file" several

error_and_warning() {
    cat >"$T/w/mixed.yml" <<'EOF'
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    stepz: []
    needs: [nope]
    steps:
      - run: echo hi
EOF
    in_dir "$T/w" run_ferry lint mixed.yml && status_is 1 &&
        err_line "mixed.yml:5:5: warning: unknown key 'stepz' in job 'build' (did you mean 'steps'?)" &&
        err_line "mixed.yml:6:13: error: job 'build' needs unknown job 'nope'"
}
ok "an error with a warning exits 1 and prints both" error_and_warning

stdout_clean() {
    in_dir "$T/w" run_ferry lint several.yml && out_empty
}
ok "findings never go to stdout" stdout_clean
