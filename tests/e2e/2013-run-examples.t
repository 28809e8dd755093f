#!/usr/bin/env bash
# ferry run on the example project (examples/breweries): the CI workflow
# on a push to a feature branch (six jobs; the two deploy jobs, for develop
# and main only, are skipped by their if:) and the nightly pipeline by
# workflow_dispatch.
. "$(dirname "$0")/lib.sh"

if ! /usr/bin/python3 -c 'import pytest' 2>/dev/null; then
    echo "1..0 # SKIP /usr/bin/python3 cannot import pytest"
    exit 0
fi

plan 10

# the example's composite action puts /usr/bin/python3 first itself;
# this only keeps a pyenv shim out of the way of the other steps
PATH=/usr/bin:$PATH

B=$T/breweries
mkdir -p "$B"
cp -r "$ROOT/examples/breweries/." "$B/"
# a fresh repository: no build leftovers of the source tree
find "$B" \( -name __pycache__ -o -name .pytest_cache -o -name out \
    -o -name dist -o -name reports \) -prune -exec rm -rf {} +
rm -rf "$B/.git"
mkrepo "$B"
# not develop nor main: CI only, nothing is deployed
git -C "$B" checkout -q -b feature/example

CI_JOBS=("Lint (flake8)" "Unit tests (pipeline)" "Unit tests (app)"
    "Security scan (bandit)" "Build the release artifact"
    "Integration tests against the artifact")

line_of() { grep -nF -m1 -- "$1" "$T/out" | cut -d: -f1; }

t_push() {
    run_ferry run push -C "$B" --slots 4
    status_is 0 && out_matches '^run success in'
}
ok "ferry run push on the example succeeds" t_push

t_six_jobs() {
    local j
    for j in "${CI_JOBS[@]}"; do
        out_matches "^\[CI/$(printf '%s' "$j" | sed 's/[][().]/\\&/g')\] ✓ job success" || return 1
    done
    [ "$(grep -c '^\[CI/.*\] ✓ job success' "$T/out")" = 6 ] ||
        { grep 'job ' "$T/out"; return 1; }
}
ok "all six CI jobs succeed" t_six_jobs

t_deploys_skipped() {
    out_has "[CI/Deploy to staging] - job skipped" &&
        out_has "[CI/Deploy to production] - job skipped" &&
        out_lacks "[CI/Deploy to staging] ▶ job started" &&
        out_lacks "[CI/Deploy to production] ▶ job started"
}
ok "on a feature branch both deploy jobs are skipped by their if:" \
    t_deploys_skipped

t_order() {
    local build integ j
    build=$(line_of "[CI/Build the release artifact] ▶ job started")
    integ=$(line_of "[CI/Integration tests against the artifact] ▶ job started")
    for j in "Lint (flake8)" "Unit tests (pipeline)" "Unit tests (app)" \
        "Security scan (bandit)"; do
        [ "$(line_of "[CI/$j] ✓ job success")" -lt "$build" ] ||
            { echo "$j did not finish before Build started"; return 1; }
    done
    [ "$(line_of "[CI/Build the release artifact] ✓ job success")" -lt "$integ" ]
}
ok "Build waits for lint, tests and scan; Integration waits for Build" \
    t_order

t_artifact() {
    # the artifact Build uploaded reached Integration and its checksum held
    out_matches '^\[CI/Integration tests against the artifact\]   \| breweries-.*\.tar\.gz: OK$'
}
ok "the release artifact passes from Build to Integration" t_artifact

t_nightly_ok() {
    (cd "$B" && run_ferry run workflow_dispatch \
        -W .github/workflows/nightly.yml --input rows_min=150)
    status_is 0 &&
        out_matches '^\[Nightly pipeline/End-to-end pipeline check\] ✓ job success' &&
        out_lacks "[CI/" && out_lacks "nightly pipeline failed"
}
ok "nightly by workflow_dispatch with rows_min=150 succeeds" t_nightly_ok

t_nightly_fail() {
    (cd "$B" && run_ferry run workflow_dispatch \
        -W .github/workflows/nightly.yml --input rows_min=1000)
    status_is 1 &&
        out_has "[Nightly pipeline/End-to-end pipeline check] error: nightly pipeline failed" &&
        out_matches '^\[Nightly pipeline/End-to-end pipeline check\] ✗ Verify the outputs \(at least 1000 rows\) \(failure' &&
        out_matches '^\[Nightly pipeline/End-to-end pipeline check\] ✗ job failure'
}
ok "nightly with rows_min=1000 fails with the error annotation" \
    t_nightly_fail

t_nightly_always() {
    # the always() steps still ran after the failure
    out_matches '^\[Nightly pipeline/End-to-end pipeline check\] ✓ Archive the outputs \(success' &&
        out_matches '^\[Nightly pipeline/End-to-end pipeline check\] ✓ Clean up \(success' &&
        out_has "[Nightly pipeline/End-to-end pipeline check] - Summary (skipped)"
}
ok "after the failure the archive and clean-up steps still run" \
    t_nightly_always

t_nightly_bad_input() {
    (cd "$B" && run_ferry run workflow_dispatch \
        -W .github/workflows/nightly.yml --input rows_min=many)
    status_is 2 && out_lacks "job started"
}
ok "nightly with a non-number rows_min exits 2 before running" \
    t_nightly_bad_input

t_schedule() {
    run_ferry run schedule -C "$B"
    status_is 0 &&
        out_matches '^\[Nightly pipeline/End-to-end pipeline check\] ✓ job success' &&
        out_lacks "[CI/"
}
ok "the schedule event runs only the nightly pipeline (default rows_min)" \
    t_schedule
