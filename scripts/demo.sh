#!/usr/bin/env bash
# The demo: the example project's CI run locally by ferry, then the
# nightly data-pipeline check dispatched by hand.  Usage: demo.sh FERRY
set -eu
FERRY=${1:?usage: demo.sh path/to/ferry}
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$(mktemp -d /tmp/ferry-demo.XXXXXX)
trap 'rm -rf "$W"' EXIT

stage() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

stage "a repository: the breweries service and its data pipeline"
cp -r "$ROOT/examples/breweries" "$W/breweries"
cd "$W/breweries"
git init -q -b main .
git -c user.name=demo -c user.email=demo@ferry.invalid add -A
git -c user.name=demo -c user.email=demo@ferry.invalid commit -q -m "breweries: first version"
git checkout -q -b feature/stats
echo "  $(git log --oneline | head -1) on branch $(git branch --show-current)"

stage "ferry lint"
"$FERRY" lint
echo "  workflows are valid"

stage "ferry run -l (the jobs a push runs)"
"$FERRY" run -l

stage "ferry run push: lint, tests with coverage, security scan, build, integration"
set +e
"$FERRY" run push --home "$W/home"
rc=$?
set -e
[ $rc -eq 0 ] || { echo "CI failed (exit $rc)"; exit $rc; }

stage "the nightly end-to-end pipeline check (workflow_dispatch)"
"$FERRY" run workflow_dispatch -W .github/workflows/nightly.yml \
    --input rows_min=150 --home "$W/home"

stage "done"
echo "  both runs passed; artifacts and caches were kept under a temp home"
echo "  next: 'make test' runs ferry's own suite"
