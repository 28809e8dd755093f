# Shared helpers for the end-to-end tests (bash, TAP).  Each test sources
# this, gets its own temp dir $T, and everything it started is killed by
# the EXIT trap.
set -u
FERRY=${FERRY:?set FERRY to the ferry binary (make test does)}
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
T=$(mktemp -d "${TMPDIR:-/tmp}/ferry-e2e.XXXXXX")
_n=0
_failed=0
_pids=()

cleanup() {
    for p in "${_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; done
    rm -rf "$T"
}
trap cleanup EXIT

plan() { echo "1..$1"; }

# ok DESC CMD...: one test point; on failure the command's output is shown
ok() {
    local desc=$1
    shift
    _n=$((_n + 1))
    if "$@" >"$T/.out.$_n" 2>&1; then
        echo "ok $_n - $desc"
    else
        echo "not ok $_n - $desc"
        sed 's/^/#   /' "$T/.out.$_n" | tail -40
        _failed=1
    fi
}

# mkrepo DIR: a git repository with one commit of whatever DIR holds
mkrepo() {
    local d=$1
    mkdir -p "$d"
    (
        cd "$d" || exit 1
        git init -q -b main .
        git config user.name "Ferry Test"
        git config user.email "test@ferry.invalid"
        git add -A
        git commit -q --allow-empty -m "initial commit"
    )
}

# commit DIR MESSAGE: commit everything in DIR
commit() {
    (cd "$1" && git add -A && git commit -q --allow-empty -m "$2")
}

# workflow DIR NAME: write stdin to DIR/.github/workflows/NAME
workflow() {
    mkdir -p "$1/.github/workflows"
    cat >"$1/.github/workflows/$2"
}

# run_ferry ARGS...: run ferry, output in $T/out, status in $T/status
run_ferry() {
    "$FERRY" "$@" >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
    return 0
}

status_is() { [ "$(cat "$T/status")" = "$1" ] || { echo "status $(cat "$T/status"), want $1"; cat "$T/out" "$T/err"; return 1; }; }
out_has() { grep -qF -- "$1" "$T/out" || { echo "stdout lacks: $1"; cat "$T/out" "$T/err"; return 1; }; }
out_lacks() { ! grep -qF -- "$1" "$T/out" || { echo "stdout has: $1"; grep -F -- "$1" "$T/out"; return 1; }; }
err_has() { grep -qF -- "$1" "$T/err" || { echo "stderr lacks: $1"; cat "$T/err"; return 1; }; }
out_matches() { grep -qE -- "$1" "$T/out" || { echo "stdout does not match: $1"; cat "$T/out" "$T/err"; return 1; }; }
