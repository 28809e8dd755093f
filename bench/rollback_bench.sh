#!/usr/bin/env bash
# How fast a bad release is taken out of traffic: a canary of a version
# that answers 500 to every other request, analysed every 1 s through
# `ferry proxy`'s counters, under a curl load.  Per run it reports
#  - verdict -> v1 at 100 %: from the failed analysis measurement to the
#    previous version holding all traffic (what ferry prints);
#  - bad traffic -> v1 at 100 %: from the moment the canary got its share
#    to the same point (detection included: at least one interval).
# The goal is <= 5 s for the latter with a 1 s interval.  Timings only.
# Usage: FERRY=build/ferry bench/rollback_bench.sh [RUNS]   (default 5)
set -eu
FERRY=$(realpath "${FERRY:?set FERRY}")
RUNS=${1:-5}
HERE=$(cd "$(dirname "$0")" && pwd)
BACKEND=$HERE/../tests/e2e/httpbackend.py
W=$(mktemp -d /tmp/ferry-rollback-bench.XXXXXX)
PROXY_PID=
LOAD_PID=
export FERRY_DEPLOY_HOME=$W/deploy
cleanup() {
    "$FERRY" __deploy --stop bench >/dev/null 2>&1 || true
    [ -n "$LOAD_PID" ] && kill "$LOAD_PID" 2>/dev/null
    [ -n "$PROXY_PID" ] && kill -TERM "$PROXY_PID" 2>/dev/null && wait "$PROXY_PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
cp "$FERRY" "$W/ferry"
FERRY=$W/ferry
mkdir -p "$W/app"
cp "$BACKEND" "$W/app/app.py"

"$FERRY" proxy --listen 127.0.0.1:0 --admin 127.0.0.1:0 >"$W/proxy.out" 2>&1 &
PROXY_PID=$!
for _ in $(seq 1 100); do grep -q admin "$W/proxy.out" && break; sleep 0.05; done
LISTEN=$(grep -oE 'listening on [0-9.]+:[0-9]+' "$W/proxy.out" | grep -oE '[0-9.]+:[0-9]+')
ADMIN=$(grep -oE 'admin on [0-9.]+:[0-9]+' "$W/proxy.out" | grep -oE '[0-9.]+:[0-9]+')

# dep VERSION COMMAND: one canary deployment, each output line stamped
dep() {
    (cd "$W/app" && env GITHUB_WORKSPACE="$W/app" INPUT_ENVIRONMENT=bench \
        INPUT_VERSION="$1" INPUT_COMMAND="$2" INPUT_STRATEGY=canary \
        INPUT_PROXY="ferry:$ADMIN" INPUT_HEALTH=http:/health \
        INPUT_HEALTH-INTERVAL=100ms INPUT_HEALTH-FAILURES=50 \
        "INPUT_STEPS=setWeight: 50
analysis" INPUT_ANALYSIS-INTERVAL=1s INPUT_ANALYSIS-COUNT=10 \
        "$FERRY" __deploy 2>&1 || true) |
        while IFS= read -r l; do printf '%s %s\n' "$(date +%s.%N)" "$l"; done
}

(while :; do curl -s -o /dev/null "http://$LISTEN/"; done) &
LOAD_PID=$!

dep v1 "exec /usr/bin/python3 app.py --name v1" >"$W/v1.log"
echo "| run | verdict -> v1 at 100 % | bad traffic -> v1 at 100 % |"
echo "|---|---|---|"
all=()
for i in $(seq 1 "$RUNS"); do
    dep "bad$i" "exec /usr/bin/python3 app.py --name bad$i --fail-rate 0.5" >"$W/run$i.log"
    t_traffic=$(grep -m1 'traffic\] succeeded: weight 50' "$W/run$i.log" | cut -d' ' -f1)
    t_back=$(grep -m1 'holds 100 % of traffic' "$W/run$i.log" | cut -d' ' -f1)
    verdict=$(sed -n 's/.*holds 100 % of traffic \([0-9.]*\) s after.*/\1/p' "$W/run$i.log")
    if [ -z "$t_traffic" ] || [ -z "$t_back" ]; then
        echo "run $i: no rollback seen"; sed 's/^/  /' "$W/run$i.log" | tail -20; exit 1
    fi
    total=$(awk -v a="$t_traffic" -v b="$t_back" 'BEGIN { printf "%.3f", b - a }')
    all+=("$total")
    echo "| $i | ${verdict} s | ${total} s |"
done
printf '%s\n' "${all[@]}" | sort -n | awk '{ v[NR] = $1 } END {
    printf "\nbad traffic -> v1 at 100 %%: median %.3f s, worst %.3f s over %d runs (goal <= 5 s)\n",
        v[int((NR + 1) / 2)], v[NR], NR }'
