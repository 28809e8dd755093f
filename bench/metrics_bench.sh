#!/usr/bin/env bash
# GET /metrics under wrk (-t1, keep-alive, a viewer token) on a `ferry
# serve` that has finished RUNS runs, next to two baselines on the same
# server: GET /healthz (the HTTP stack alone) and GET /api/v1/whoami (plus
# the token check /metrics also pays).  Prints requests/s, p50 and p99
# for each and the exposition's size; the goal is p99 < 10 ms for
# /metrics.  Timings only: nothing here is pass/fail.
# Usage: FERRY=build/ferry bench/metrics_bench.sh
# Knobs: RUNS (default 200), CONNS (default 4), SECS (default 10).
set -eu
FERRY=$(realpath "${FERRY:?set FERRY}")
RUNS=${RUNS:-200}
CONNS=${CONNS:-4}
SECS=${SECS:-10}
PY=/usr/bin/python3
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)"; exit 2; }
W=$(mktemp -d /tmp/ferry-metrics-bench.XXXXXX)
SERVE_PID=
cleanup() {
    # under set -e a failing `wait` (the server's exit status after
    # SIGTERM) would end the trap before rm: nothing here may stop it
    set +e
    if [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null; then
        wait "$SERVE_PID" 2>/dev/null
    fi
    rm -rf "$W"
}
trap cleanup EXIT
# a copy: the build may replace the binary while this runs
cp "$FERRY" "$W/ferry"
FERRY=$W/ferry

# ---------- a repository, a server, RUNS finished runs ----------
mkdir -p "$W/src/.github/workflows"
for wf in pass fail; do
    cat >"$W/src/.github/workflows/$wf.yml" <<EOF
on: workflow_dispatch
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: "$([ $wf = pass ] && echo true || echo false)"
EOF
done
(cd "$W/src" && git init -q -b main . && git add -A &&
    git -c user.name=b -c user.email=b@b commit -qm bench)
git clone -q --bare "$W/src" "$W/app.git"
setsid "$FERRY" serve --home "$W/home" --listen 127.0.0.1:0 --init \
    >"$W/serve.out" 2>"$W/serve.log" &
SERVE_PID=$!
for i in $(seq 1 200); do
    grep -q '^ferry serve: listening on ' "$W/serve.out" && break
    sleep 0.05
done
URL=$(sed -n 's/^ferry serve: listening on //p' "$W/serve.out")
TOKEN=$(sed -n 's/^admin token: //p' "$W/serve.out")
[ -n "$URL" ] || { cat "$W/serve.log"; echo "bench: ferry serve did not start"; exit 1; }
H="Authorization: Bearer $TOKEN"
curl -sf -o /dev/null -H "$H" -d "{\"name\":\"app\",\"url\":\"$W/app.git\"}" "$URL/api/v1/repos"
VIEWER=$(curl -sf -H "$H" -d '{"role":"viewer","name":"bench"}' "$URL/api/v1/tokens" |
    $PY -c 'import json, sys; print(json.load(sys.stdin)["token"])')
curl -sf -o /dev/null -H "Authorization: Bearer $VIEWER" "$URL/metrics" ||
    { echo "bench: GET /metrics does not answer 200 to a viewer token"; exit 2; }
for i in $(seq 1 "$RUNS"); do
    wf=pass
    [ $((i % 10)) = 0 ] && wf=fail
    curl -sf -o /dev/null -H "$H" -d '{}' "$URL/api/v1/repos/app/workflows/$wf.yml/dispatches"
done
# until /metrics counts them all (10 minutes at most)
for i in $(seq 1 2400); do
    n=$(curl -sf -H "Authorization: Bearer $VIEWER" "$URL/metrics" |
        awk '/^ferry_runs_total[{ ]/ { s += $NF } END { print s + 0 }')
    [ "$n" -ge "$RUNS" ] && break
    sleep 0.25
done
[ "$n" -ge "$RUNS" ] || { echo "bench: /metrics counts $n of $RUNS runs"; exit 1; }
curl -sf -H "Authorization: Bearer $VIEWER" "$URL/metrics" >"$W/metrics.txt"

# ---------- wrk ----------
# measure PATH: "req/s p50 p99" (ms)
measure() {
    wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -H "Authorization: Bearer $VIEWER" \
        "$URL$1" >"$W/wrk.txt"
    $PY - "$W/wrk.txt" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r'([\d.]+)(us|ms|s)', s).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = re.search(r'Requests/sec:\s+([\d.]+)', t).group(1)
p50 = ms(re.search(r'^\s+50%\s+(\S+)', t, re.M).group(1))
p99 = ms(re.search(r'^\s+99%\s+(\S+)', t, re.M).group(1))
bad = re.search(r'Non-2xx or 3xx responses: (\d+)', t)
print("%s %.3f %.3f%s" % (rps, p50, p99, " (non-2xx: %s)" % bad.group(1) if bad else ""))
PY
}
read -r B_RPS B_P50 B_P99 B_BAD <<<"$(measure /healthz)"
read -r A_RPS A_P50 A_P99 A_BAD <<<"$(measure /api/v1/whoami)"
read -r M_RPS M_P50 M_P99 M_BAD <<<"$(measure /metrics)"
SERIES=$(grep -vc '^#' "$W/metrics.txt")
BYTES=$(wc -c <"$W/metrics.txt")
echo "## GET /metrics ($RUNS runs, $SERIES samples, $BYTES bytes; wrk -t1 -c$CONNS ${SECS}s)"
echo
echo "| path | req/s | p50 ms | p99 ms |"
echo "|---|---:|---:|---:|"
echo "| /healthz (baseline) | $B_RPS | $B_P50 | $B_P99 ${B_BAD:-} |"
echo "| /api/v1/whoami (token check) | $A_RPS | $A_P50 | $A_P99 ${A_BAD:-} |"
echo "| /metrics | $M_RPS | $M_P50 | $M_P99 ${M_BAD:-} |"
echo
echo "goal: /metrics p99 < 10 ms"
