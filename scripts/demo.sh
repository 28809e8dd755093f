#!/usr/bin/env bash
# The demo: the example project checked by `ferry lint`, then served by
# `ferry serve` (SQLite, host executor) in a temp home: the repository is
# registered with ferry's post-receive hook, a feature branch and develop
# are pushed and their CI runs are followed live through the CLI, and the
# nightly end-to-end data-pipeline check is dispatched once and checked.
# Usage: demo.sh FERRY
set -eu
FERRY=$(cd "$(dirname "${1:?usage: demo.sh path/to/ferry}")" && pwd)/$(basename "$1")
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/ferry-demo.XXXXXX)
SERVE_PID=
cleanup() {
    [ -n "$SERVE_PID" ] && kill "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT

stage() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
git_() { git -c user.name=demo -c user.email=demo@ferry.invalid "$@"; }

stage "a repository: the breweries service and its data pipeline"
cp -r "$ROOT/examples/breweries" "$W/breweries"
cd "$W/breweries"
git init -q -b main .
git_ add -A
git_ commit -q -m "breweries: first version"
git clone -q --bare . "$W/breweries.git"
git remote add origin "$W/breweries.git"
echo "  $(git log --oneline | head -1), pushed to a bare repository"

stage "ferry lint"
"$FERRY" lint
echo "  workflows are valid"

stage "ferry serve: the control plane in a temp home (SQLite, host executor)"
"$FERRY" serve --home "$W/home" --listen 127.0.0.1:0 --init \
    >"$W/serve.out" 2>"$W/serve.log" &
SERVE_PID=$!
for _ in $(seq 1 100); do
    grep -q '^ferry serve: listening on ' "$W/serve.out" 2>/dev/null && break
    sleep 0.1
done
FERRY_SERVER=$(sed -n 's/^ferry serve: listening on //p' "$W/serve.out")
FERRY_TOKEN=$(sed -n 's/^admin token: //p' "$W/serve.out")
export FERRY_SERVER FERRY_TOKEN
[ -n "$FERRY_SERVER" ] || { cat "$W/serve.log"; exit 1; }
echo "  listening on $FERRY_SERVER; the first admin token was printed once"

stage "ferry repo add breweries --hook"
"$FERRY" repo add breweries "$W/breweries.git" --hook | sed 's/^/  /'

# push BRANCH: push it, then follow the run it queued until it ends
push_and_follow() {
    local before run
    before=$("$FERRY" status --json --limit 1 | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1)
    git push -q origin "$1" 2>&1 | sed 's/^remote: /  hook: /'
    run=$("$FERRY" status --json --limit 1 | sed -n 's/.*"id": *\([0-9]*\).*/\1/p' | head -1)
    [ -n "$run" ] && [ "$run" != "${before:-}" ] || { echo "  no run was queued"; return 1; }
    echo "  following run $run live (ferry logs $run -f):"
    "$FERRY" logs "$run" -f | sed 's/^/  /' | grep -E '==|passed|coverage|Successfully|rows' || true
    "$FERRY" status --limit 1 | sed 's/^/  /'
    last_succeeded
}

# last_succeeded: the newest run concluded success
last_succeeded() {
    [ "$("$FERRY" status --json --limit 1 | grep -o '"conclusion": *"[a-z]*"' |
        head -1 | sed 's/.*"\([a-z]*\)"$/\1/')" = success ] ||
        { echo "  the run did not succeed"; return 1; }
}

stage "push feature/stats: CI (lint, tests with coverage, security scan, build, integration)"
git checkout -q -b feature/stats
echo "- stats endpoint planned" >>NOTES.txt
git_ add NOTES.txt
git_ commit -q -m "notes: stats endpoint"
push_and_follow feature/stats

stage "merge to develop: CI again"
git checkout -q -b develop
push_and_follow develop

stage "the nightly end-to-end data pipeline (scheduled 0 2 * * *), dispatched once"
curl -s -H "Authorization: Bearer $FERRY_TOKEN" "$FERRY_SERVER/api/v1/schedules" |
    sed 's/^/  schedules: /'
echo
run=$("$FERRY" dispatch breweries nightly.yml --input rows_min=150 | grep -o '[0-9]\+' | head -1)
echo "  run $run queued; following it:"
"$FERRY" logs "$run" -f | sed 's/^/  /' | grep -E '==|bronze|silver|gold|archiv|rows' || true
"$FERRY" status --limit 1 | sed 's/^/  /'
last_succeeded

stage "ferry status"
"$FERRY" status | sed 's/^/  /'

stage "done"
echo "  every run passed; the API (docs/api.md) answered at $FERRY_SERVER"
echo "  next: 'make test' runs ferry's own suite"
