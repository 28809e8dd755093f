#!/usr/bin/env bash
# ferry lint on huge and hostile files: each ends within seconds with an
# error (or, for big-but-valid input, cleanly) — never a crash or a hang.
. "$(dirname "$0")/lib.sh"

plan 20

W="$T/w"
mkdir -p "$W"

# hostile FILE: lint FILE in $W under a 10 s timeout
hostile() {
    (
        cd "$W" || exit 1
        timeout 10 "$FERRY" lint "$1" >"$T/out" 2>"$T/err"
        echo $? >"$T/status"
    )
}
# the status is 1: not a timeout (124), not a signal (>128), not 0
fails_cleanly() {
    hostile "$1"
    local s
    s=$(cat "$T/status")
    case $s in
    1) return 0 ;;
    124) echo "timed out (hang)" ;;
    *) echo "status $s, want 1" ;;
    esac
    head -c 2000 "$T/err"
    return 1
}
err_line() {
    S="$1" awk 'index($0, ENVIRON["S"]) == 1 { f = 1 } END { exit !f }' "$T/err" ||
        { echo "no stderr line starts with: $1"; head -c 2000 "$T/err"; return 1; }
}
# fails_with FILE LINE: exit 1 and a stderr line starting with LINE
fails_with() { fails_cleanly "$1" && err_line "$2"; }

head_yaml='on: push
jobs:
  a:
    runs-on: ubuntu-latest
    steps:'

# --- nesting ---
{
    printf 'on: push\njobs: '
    printf '%*s' 100000 '' | tr ' ' '['
    printf '%*s' 100000 '' | tr ' ' ']'
    printf '\n'
} >"$W/deep-flow.yml"
ok "100000 nested flow sequences: nesting limit at the 65th level" \
    fails_with deep-flow.yml "deep-flow.yml:2:70: error: nesting is deeper than 64 levels"

awk 'BEGIN { print "on: push"; print "jobs:";
             for (i = 0; i < 100; i++) { s = ""; for (k = 0; k <= i; k++) s = s "  "; print s "k" i ":" } }' \
    >"$W/deep-block.yml"
ok "100 nested block mappings: nesting limit" \
    fails_with deep-block.yml "deep-block.yml:66:129: error: nesting is deeper than 64 levels"

{
    printf '%s\n' "$head_yaml"
    printf '      - run: echo ${{ '
    printf '%*s' 5000 '' | tr ' ' '('
    printf 1
    printf '%*s' 5000 '' | tr ' ' ')'
    printf ' }}\n'
} >"$W/deep-expr.yml"
ok "5000 nested parentheses in an expression: expression depth limit" \
    fails_with deep-expr.yml "deep-expr.yml:6:123: error: expression nested deeper than 100 levels"

{
    printf '%s\n' "$head_yaml"
    printf '      - run: echo ${{ '
    printf '%*s' 20000 '' | tr ' ' '!'
    printf 'true }}\n'
} >"$W/deep-not.yml"
ok "20000 chained '!': expression depth limit" \
    fails_with deep-not.yml "deep-not.yml:6:122: error: expression nested deeper than 100 levels"

{
    printf '%s\n' "$head_yaml"
    printf '      - run: echo ${{ github.sha'
    for i in $(seq 7000); do printf ' || github.sha'; done
    printf ' }}\n'
} >"$W/long-expr.yml"
ok "an expression over 64 KiB is an error" \
    fails_with long-expr.yml "long-expr.yml:6:22: error: expression longer than 65536 bytes"

# --- aliases ---
awk 'BEGIN { print "on: push"; print "x-anchors:";
             print "  a0: &a0 [x, x, x, x, x, x, x, x, x, x]";
             for (i = 1; i < 12; i++) { s = "  a" i ": &a" i " [";
                 for (k = 0; k < 10; k++) s = s (k ? ", " : "") "*a" (i - 1);
                 print s "]" }
             print "jobs:"; print "  j:"; print "    runs-on: ubuntu-latest";
             print "    strategy:"; print "      matrix:"; print "        os: *a11";
             print "    steps:"; print "      - run: echo hi" }' >"$W/bomb.yml"
bomb() {
    fails_cleanly bomb.yml &&
        grep -qF "error: aliases expand to more than 200000 values" "$T/err" ||
        { head -c 2000 "$T/err"; false; }
}
ok "billion laughs (10^12 values through aliases) is an error" bomb

awk 'BEGIN { print "on: push"; print "x-anchors:";
             print "  a0: &a0 [\"${{ github.sha }}\", \"${{ github.sha }}\"]";
             for (i = 1; i < 30; i++) print "  a" i ": &a" i " [*a" (i - 1) ", *a" (i - 1) "]";
             print "jobs:"; print "  j:"; print "    runs-on: ubuntu-latest";
             print "    strategy:"; print "      matrix:"; print "        x: *a29";
             print "    steps:"; print "      - run: echo hi" }' >"$W/bomb-scan.yml"
bomb_scan() {
    fails_cleanly bomb-scan.yml &&
        grep -qF "warning: workflow has too many values to check" "$T/err" &&
        grep -qF "error: aliases expand to more than 200000 values" "$T/err" ||
        { head -c 2000 "$T/err"; false; }
}
ok "2^30 expressions through aliases: the check stops at its budget" bomb_scan

awk 'BEGIN { print "on: push"; print "x:";
             s = "  s0: &s0 [";
             for (k = 0; k < 100; k++) s = s (k ? ", " : "") "{run: echo}";
             print s "]";
             print "jobs:";
             for (i = 0; i < 1000; i++) { print "  j" i ":"; print "    runs-on: x"; print "    steps: *s0" } }' \
    >"$W/bomb-steps.yml"
bomb_steps() {
    hostile bomb-steps.yml
    case $(cat "$T/status") in
    0 | 1) ;;
    *) echo "status $(cat "$T/status")"; head -c 2000 "$T/err"; return 1 ;;
    esac
}
ok "1000 jobs sharing 100 steps through an alias: no crash, no hang" bomb_steps

# a matrix include of one 999-key entry repeated through aliases, then
# alternated with a second entry (defeats skipping adjacent repeats):
# collecting the matrix keys once took minutes of CPU
/usr/bin/python3 - "$W" <<'PY'
import sys
keys = ", ".join(f"k{i:04d}: 1" for i in range(999))
head = "on: push\njobs:\n  a:\n    runs-on: x\n    strategy:\n      matrix:\n"
tail = "]\n    steps:\n      - run: echo\n"
open(sys.argv[1] + "/mkeys.yml", "w").write(
    head + "        include: [&m {" + keys + "}, &n {zz: 1}" +
    ", *m, *n" * 100000 + tail)
PY
ok "matrix include keys repeated through aliases: an error in seconds" \
    fails_cleanly mkeys.yml

# --- size ---
{
    printf '%s\n' "$head_yaml"
    awk 'BEGIN { for (i = 0; i < 40000; i++) print "      - run: echo hello world hello world hello world" }'
} >"$W/big.yml"
big() {
    [ "$(wc -c <"$W/big.yml")" -gt 2000000 ] || { echo "file too small"; return 1; }
    fails_cleanly big.yml && grep -qF "larger than 1048576 bytes" "$T/err" &&
        grep -qF "big.yml" "$T/err" || { head -c 2000 "$T/err"; false; }
}
ok "a 2 MB file is an error naming the file and the limit" big
ok "the size error has the file:line:col: error: form" \
    err_line "big.yml:1:1: error: "

ok "/dev/zero (endless) is an error" \
    eval 'fails_cleanly /dev/zero && grep -qF "larger than 1048576 bytes" "$T/err"'

{
    printf '%s\n' "$head_yaml"
    printf '      - run: "'
    printf '%*s' 900000 '' | tr ' ' 'x'
    printf '"\n'
} >"$W/long-line.yml"
long_line() {
    hostile long-line.yml
    [ "$(cat "$T/status")" = 0 ] || { echo "status $(cat "$T/status")"; head -c 2000 "$T/err"; false; }
}
ok "a 900 KB scalar under the size limit is fine" long_line

awk 'BEGIN { print "on: push"; print "jobs:";
             for (i = 0; i < 1001; i++) { print "  j" i ":"; print "    runs-on: x";
                 print "    steps:"; print "      - run: echo" } }' >"$W/many-jobs.yml"
ok "more than 1000 jobs" \
    fails_with many-jobs.yml "many-jobs.yml:3:3: error: workflow has more than 1000 jobs"

{
    printf '%s\n' "$head_yaml"
    awk 'BEGIN { for (i = 0; i < 1001; i++) print "      - run: echo" }'
} >"$W/many-steps.yml"
ok "more than 1000 steps in a job" \
    fails_with many-steps.yml "many-steps.yml:6:7: error: job 'a' has more than 1000 steps"

{
    printf '%s\n' "$head_yaml"
    awk 'BEGIN { for (i = 0; i < 900; i++) print "      - run: echo ${{ nope" i " }} ${{ zz() }}" }'
} >"$W/many-errors.yml"
many_errors() {
    fails_cleanly many-errors.yml &&
        err_line "ferry: 800 more diagnostics not shown" &&
        err_line "1 file checked: 1800 errors, 0 warnings" &&
        [ "$(wc -l <"$T/err")" -le 1002 ] || { tail -3 "$T/err"; false; }
}
ok "1800 errors: 1000 shown, the rest counted" many_errors

# --- garbage ---
: >"$W/empty.yml"
ok "an empty file" fails_with empty.yml "empty.yml:1:1: error: workflow is empty"

printf 'on: push\000\njobs: {}\n' >"$W/nul.yml"
ok "a NUL byte is refused at its position" \
    fails_with nul.yml "nul.yml:1:9: error: control characters are not allowed (0x00)"

printf '\001\002\003\377\376garbage' >"$W/binary.yml"
ok "binary garbage is an error" \
    fails_with binary.yml "binary.yml:1:1: error: control characters are not allowed (0x01)"

printf 'on: push\n---\non: push\n' >"$W/multi.yml"
ok "more than one YAML document" \
    fails_with multi.yml "multi.yml:2:1: error: more than one document in the file"
