# Helpers for the deploy tests (5002-5009), sourced after lib.sh: a
# deploy home in $T, the test backend, `ferry proxy`, a load generator,
# and a cleanup that stops every instance the deployments started (they
# run in their own sessions, out of reach of lib.sh's trap).
PATH=/usr/bin:$PATH # Debian's python3 (pyenv's shim costs seconds a start)
export FERRY_DEPLOY_HOME=$T/deploy
BACKEND=${BACKEND:-$ROOT/tests/e2e/httpbackend.py}
DEPLOY_ENVS=()
PROXY_PID=
PROXY_LISTEN=
PROXY_ADMIN=

deploy_cleanup() {
    local e
    for e in "${DEPLOY_ENVS[@]}"; do
        "$FERRY" __deploy --stop "$e" >/dev/null 2>&1
    done
    [ -n "$PROXY_PID" ] && kill -TERM "$PROXY_PID" 2>/dev/null
    cleanup
}
trap deploy_cleanup EXIT

# uses_env ENV...: environments to stop at exit
uses_env() { DEPLOY_ENVS+=("$@"); }

# proxy_start: `ferry proxy` on free ports; sets PROXY_LISTEN, PROXY_ADMIN
proxy_start() {
    local i line
    setsid "$FERRY" proxy --listen 127.0.0.1:0 --admin 127.0.0.1:0 \
        --state "$T/proxy.state" >"$T/proxy.out" 2>"$T/proxy.err" &
    PROXY_PID=$!
    _pids+=("$PROXY_PID")
    for i in $(seq 1 200); do
        line=$(grep -m1 -E 'listen' "$T/proxy.out" 2>/dev/null)
        [ -n "$line" ] && grep -q 'admin' "$T/proxy.out" && break
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.05
    done
    PROXY_LISTEN=$(grep -oE 'listen[a-z]* (on )?[0-9.]+:[0-9]+' "$T/proxy.out" | grep -oE '[0-9.]+:[0-9]+$' | head -1)
    PROXY_ADMIN=$(grep -oE 'admin[a-z]* (on )?[0-9.]+:[0-9]+' "$T/proxy.out" | grep -oE '[0-9.]+:[0-9]+$' | head -1)
    [ -n "$PROXY_LISTEN" ] && [ -n "$PROXY_ADMIN" ] || {
        echo "# ferry proxy did not start:"
        sed 's/^/#   /' "$T/proxy.out" "$T/proxy.err" | tail -20
        return 1
    }
    export PROXY_LISTEN PROXY_ADMIN
}

# through_proxy PATH: one request through the proxy, body on stdout
through_proxy() { curl -sS --max-time 5 "http://$PROXY_LISTEN${1:-/}"; }

# versions_seen N: which bodies N requests through the proxy got, counted
versions_seen() {
    local i
    for i in $(seq 1 "$1"); do through_proxy / ; echo; done | grep -v '^$' | sort | uniq -c
}

# load_start: a bounded curl loop through the proxy (at most 60 s), each
# status in $T/load.codes; load_stop ends it and prints "sent N failed M"
load_start() {
    : >"$T/load.codes"
    (
        end=$((SECONDS + 60))
        while [ $SECONDS -lt $end ] && [ ! -e "$T/load.stop" ]; do
            curl -s -o /dev/null -w '%{http_code}\n' --max-time 10 \
                "http://$PROXY_LISTEN/" >>"$T/load.codes"
        done
    ) &
    LOAD_PID=$!
    _pids+=("$LOAD_PID")
}
load_stop() {
    touch "$T/load.stop"
    wait "$LOAD_PID" 2>/dev/null
    rm -f "$T/load.stop"
    LOAD_SENT=$(wc -l <"$T/load.codes")
    LOAD_FAILED=$(grep -vc '^200$' "$T/load.codes")
    echo "# load: sent $LOAD_SENT requests, $LOAD_FAILED failed"
}

# state_get ENV FILTER: a value of `ferry __deploy --state ENV`
state_get() { "$FERRY" __deploy --state "$1" | jget "$2"; }

# no_leftovers: no process of this test's deploy home is still running
# (call after stopping the environments)
no_leftovers() {
    local e
    for e in "${DEPLOY_ENVS[@]}"; do "$FERRY" __deploy --stop "$e" >/dev/null || return 1; done
    sleep 0.2
    if pgrep -f "$FERRY_DEPLOY_HOME" >/dev/null; then
        echo "left over:"; pgrep -af "$FERRY_DEPLOY_HOME"; return 1
    fi
}

# deploy_repo DIR: a git repository holding the backend as app.py
deploy_repo() {
    mkdir -p "$1"
    cp "$BACKEND" "$1/app.py"
    mkrepo "$1" >/dev/null
}

# the checks work inside `ok ... bash -c '...'` too
export -f status_is out_has out_lacks err_has out_matches state_get \
    through_proxy versions_seen

# deploy_step NAME=VALUE...: `ferry __deploy` as the engine runs it for a
# `uses: ferry/deploy@v1` step (NAME=VALUE becomes INPUT_<NAME>), with
# $R as GITHUB_WORKSPACE; output in $T/out and $T/err, status in
# $T/status.  (5002 also deploys through `ferry run`, whose instances
# outlive the run.)
deploy_step() {
    local a=() kv
    for kv in "$@"; do
        a+=("INPUT_$(printf '%s' "${kv%%=*}" | tr a-z A-Z)=${kv#*=}")
    done
    (cd "$R" && env -u FERRY_SERVER GITHUB_WORKSPACE="$R" "${a[@]}" \
        "$FERRY" __deploy) >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
}
