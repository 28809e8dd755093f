#!/usr/bin/env bash
# Run the unit test binaries given as arguments (TAP via cmocka) and every
# end-to-end test in tests/e2e, both under prove; show failures and
# prove's summaries, and end with "N passed, N failed" counting TAP test
# points (a script that dies before finishing its plan counts as failed).
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0

run() {   # run prove with the given arguments, append to $out, summarise
    local log
    log=$(mktemp)
    prove -v "$@" >"$log" 2>&1 || status=1
    # failing points with their diagnostics, and prove's verdict lines
    awk '/^not ok/{show=1} /^ok /{show=0} show' "$log" | head -200
    grep -E '^(Failed |Files=|Result:)|Dubious|Wstat' "$log" || true
    cat "$log" >>"$out"
    rm -f "$log"
}

if [ $# -gt 0 ]; then
    echo "== unit tests"
    run --exec "$here/unit-tap.sh" "$@"
fi
shopt -s nullglob
e2e=("$here"/e2e/*.t)
if [ ${#e2e[@]} -gt 0 ]; then
    echo "== end-to-end tests"
    run -j2 "${e2e[@]}"
fi
passed=$(grep -cE '^ok ' "$out")
failed=$(grep -cE '^not ok ' "$out")
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "$passed passed, $failed failed"
exit $status
