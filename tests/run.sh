#!/usr/bin/env bash
# Run the unit test binaries given as arguments (TAP via cmocka) and every
# end-to-end test in tests/e2e, both under prove; print a final
# "N passed, N failed" line counting TAP test points.
set -u
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
if [ $# -gt 0 ]; then
    prove -v --exec '' "$@" >"$out" 2>&1 || status=1
    grep -vE '^(ok|# )' "$out" | grep -v '^$' || true
fi
shopt -s nullglob
e2e=("$here"/e2e/*.t)
if [ ${#e2e[@]} -gt 0 ]; then
    prove -v -j2 "${e2e[@]}" >>"$out" 2>&1 || status=1
fi
grep -E '^(not ok|Failed|Result|Files=)|\.t \.\.' "$out" | grep -v '^ok' || true
passed=$(grep -cE '^ok ' "$out")
failed=$(grep -cE '^not ok ' "$out")
# a script that dies before its plan completes counts as a failure too
if [ "$status" -ne 0 ] && [ "$failed" -eq 0 ]; then
    failed=1
fi
echo "$passed passed, $failed failed"
exit $status
