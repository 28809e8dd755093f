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
    exec 2>/dev/null
    for p in "${_pids[@]}"; do kill -KILL -- "-$p" 2>/dev/null || kill -KILL "$p" 2>/dev/null; done
    [ -n "${KEEP_T:-}" ] || rm -rf "$T"
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

# ---------- the server ----------

# serve_start [ARGS...]: start `ferry serve` on $T/home (a free port on
# 127.0.0.1, --init the first time); sets URL and TOKEN (admin) and
# exports FERRY_SERVER / FERRY_TOKEN.  The EXIT trap kills it.
SERVE_PID=
serve_start() {
    local i
    mkdir -p "$T/home"
    : >"$T/serve.out"
    setsid "$FERRY" serve --home "$T/home" --listen 127.0.0.1:0 --init "$@" \
        >"$T/serve.out" 2>>"$T/serve.log" &
    SERVE_PID=$!
    _pids+=("$SERVE_PID")
    for i in $(seq 1 200); do
        grep -q '^ferry serve: listening on ' "$T/serve.out" && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    URL=$(sed -n 's/^ferry serve: listening on //p' "$T/serve.out")
    local t
    t=$(sed -n 's/^admin token: //p' "$T/serve.out")
    [ -n "$t" ] && TOKEN=$t
    export URL TOKEN FERRY_SERVER=$URL FERRY_TOKEN=${TOKEN:-}
    [ -n "$URL" ] || { echo "# ferry serve did not start:"; sed 's/^/#   /' "$T/serve.log" | tail -20; return 1; }
}

# serve_kill9: kill -9 the server (its workers notice and stop)
serve_kill9() {
    kill -KILL "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
    return 0
}

# serve_stop: SIGTERM and wait
serve_stop() {
    kill -TERM "$SERVE_PID" 2>/dev/null
    wait "$SERVE_PID" 2>/dev/null
    return 0
}

# api METHOD PATH [curl args]: call the API as the admin; body on stdout,
# the status in $T/http_status
api() {
    local m=$1 p=$2
    shift 2
    curl -sS -o "$T/api.body" -w '%{http_code}' -X "$m" \
        -H "Authorization: Bearer ${TOKEN:-}" "$@" "$URL$p" >"$T/http_status"
    cat "$T/api.body"
}

# jq_get FILTER: a JSON value from stdin, with python (no jq dependency)
jget() {
    /usr/bin/python3 -c '
import json, sys
v = json.load(sys.stdin)
for k in sys.argv[1].split("."):
    if k == "": continue
    v = v[int(k)] if isinstance(v, list) else v.get(k)
print("null" if v is None else (json.dumps(v) if isinstance(v, (dict, list)) else v))
' "$1"
}

# wait_run ID [SECS]: until run ID is completed; prints its conclusion
wait_run() {
    local id=$1 secs=${2:-60} i st
    for i in $(seq 1 $((secs * 20))); do
        st=$(api GET "/api/v1/runs/$id" | jget status 2>/dev/null)
        if [ "$st" = completed ]; then
            api GET "/api/v1/runs/$id" | jget conclusion
            return 0
        fi
        sleep 0.05
    done
    echo "timeout: run $id is $st"
    return 1
}

# bare_repo SRC BARE: a bare clone of SRC
bare_repo() {
    git clone -q --bare "$1" "$2"
}

# the server helpers work inside `ok ... bash -c '...'` too
export -f api jget wait_run
export T FERRY
