#!/usr/bin/env bash
# ferry proxy against HAProxy, each with one worker thread, in front of the
# same backend: a second HAProxy that answers "ok" itself (`http-request
# return`), so the backend is fast enough not to hide the proxies' cost.
# wrk (-t1, keep-alive) measures, in the same run:
#   direct      the backend alone (the baseline for added latency)
#   haproxy     HAProxy (nbthread 1) -> backend
#   ferry       ferry proxy -> backend
# and prints requests/s, p50 and p99 for each and the ratio ferry/haproxy
# (goal >= 0.9).  Timings only: nothing here is pass/fail.
# Usage: FERRY=build/ferry bench/proxy_bench.sh
# Knobs: CONNS (default 32), SECS (default 10), ROUNDS (default 2: the
# best round of each counts, the order alternates).
set -eu
FERRY=$(realpath "${FERRY:?set FERRY}")
CONNS=${CONNS:-32}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-2}
PY=/usr/bin/python3
for t in haproxy wrk; do
    command -v $t >/dev/null || { echo "bench: $t is missing (apt-get install $t)"; exit 2; }
done
W=$(mktemp -d /tmp/ferry-proxy-bench.XXXXXX)
PIDS=()
cleanup() {
    for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
    # (set -e: a child killed by the TERM above must not end the script)
    for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
    rm -rf "$W"
}
trap cleanup EXIT
cp "$FERRY" "$W/ferry"

freeport() {
    $PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
PB=$(freeport)
PH=$(freeport)

cat >"$W/backend.cfg" <<EOF
global
    nbthread 1
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend be
    bind 127.0.0.1:$PB
    http-request return status 200 content-type text/plain string "ok"
EOF
cat >"$W/front.cfg" <<EOF
global
    nbthread 1
defaults
    mode http
    option http-keep-alive
    http-reuse always
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend fe
    bind 127.0.0.1:$PH
    default_backend app
backend app
    server s1 127.0.0.1:$PB
EOF
haproxy -db -f "$W/backend.cfg" >"$W/backend.log" 2>&1 &
PIDS+=($!)
haproxy -db -f "$W/front.cfg" >"$W/front.log" 2>&1 &
PIDS+=($!)
"$W/ferry" proxy --listen 127.0.0.1:0 --admin "unix:$W/admin.sock" \
    >"$W/ferry.out" 2>"$W/ferry.log" &
PIDS+=($!)
for i in $(seq 1 100); do
    grep -q 'listening on' "$W/ferry.out" && [ -S "$W/admin.sock" ] && break
    sleep 0.05
done
PF=$(sed -n 's/^ferry proxy listening on \([^,]*\),.*/\1/p' "$W/ferry.out")
[ -n "$PF" ] || { cat "$W/ferry.log"; echo "bench: ferry proxy did not start"; exit 1; }
curl -sf -o /dev/null --unix-socket "$W/admin.sock" -X PUT \
    -d "{\"backends\":[{\"name\":\"be\",\"addr\":\"127.0.0.1:$PB\",\"weight\":1}]}" \
    http://admin/backends
for u in "127.0.0.1:$PB" "127.0.0.1:$PH" "$PF"; do
    for i in $(seq 1 100); do
        [ "$(curl -s "http://$u/" 2>/dev/null)" = ok ] && break
        sleep 0.05
    done
    [ "$(curl -s "http://$u/")" = ok ] || { echo "bench: http://$u/ does not answer ok"; exit 1; }
done

# run NAME URL: one wrk run, appended to $W/res as "NAME rps p50_us p99_us"
run() {
    wrk -t1 -c"$CONNS" -d"${SECS}s" --latency "$2" >"$W/wrk.out" 2>&1
    $PY - "$1" "$W/wrk.out" >>"$W/res" <<'PY'
import re, sys
name, path = sys.argv[1], sys.argv[2]
t = open(path).read()
def us(v):
    m = re.match(r"([\d.]+)(us|ms|s)", v)
    return float(m.group(1)) * {"us": 1, "ms": 1e3, "s": 1e6}[m.group(2)]
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", t).group(1))
p50 = us(re.search(r"^\s+50%\s+(\S+)", t, re.M).group(1))
p99 = us(re.search(r"^\s+99%\s+(\S+)", t, re.M).group(1))
errs = re.search(r"Non-2xx or 3xx responses: (\d+)", t)
sock = re.search(r"Socket errors: (.*)", t)
print(name, rps, p50, p99, errs.group(1) if errs else 0,
      "'" + (sock.group(1) if sock else "") + "'")
PY
}

: >"$W/res"
echo "proxy bench: wrk -t1 -c$CONNS -d${SECS}s, $ROUNDS rounds of each (about $((ROUNDS * 3 * (SECS + 1))) s)..." >&2
# warm-up
wrk -t1 -c"$CONNS" -d1s "http://127.0.0.1:$PH/" >/dev/null 2>&1
wrk -t1 -c"$CONNS" -d1s "http://$PF/" >/dev/null 2>&1
for r in $(seq 1 "$ROUNDS"); do
    if [ $((r % 2)) = 1 ]; then
        order="direct haproxy ferry"
    else
        order="ferry haproxy direct"
    fi
    for what in $order; do
        case $what in
        direct) run direct "http://127.0.0.1:$PB/" ;;
        haproxy) run haproxy "http://127.0.0.1:$PH/" ;;
        ferry) run ferry "http://$PF/" ;;
        esac
    done
done
curl -s --unix-socket "$W/admin.sock" http://admin/stats >"$W/stats.json"

$PY - "$W/res" "$W/stats.json" "$(nproc)" "$(uname -r)" "$CONNS" "$SECS" <<'PY'
import json, sys, time
rows = {}
for line in open(sys.argv[1]):
    name, rps, p50, p99, errs, sock = line.split(" ", 5)
    rps, p50, p99 = float(rps), float(p50), float(p99)
    if name not in rows or rps > rows[name][0]:
        rows[name] = (rps, p50, p99, int(errs), sock.strip())
st = json.load(open(sys.argv[2]))
ncpu, kernel, conns, secs = sys.argv[3:7]
print("Figures from one run on %s cores, Linux %s, %s; wrk -t1 -c%s -d%ss "
      "keep-alive, best of the rounds." % (ncpu, kernel,
                                          time.strftime("%Y-%m-%d"), conns,
                                          secs))
print()
print("| path | requests/s | p50 | p99 | added p50 vs direct | non-2xx |")
print("|---|---|---|---|---|---|")
d = rows["direct"]
for name, label in (("direct", "direct to the backend (haproxy `http-request return`)"),
                    ("haproxy", "HAProxy 1 thread -> backend"),
                    ("ferry", "ferry proxy -> backend")):
    r = rows[name]
    add = "—" if name == "direct" else "%+.0f µs" % (r[1] - d[1])
    print("| %s | %.0f | %.0f µs | %.0f µs | %s | %d |" % (
        label, r[0], r[1], r[2], add, r[3]))
print()
print("ferry/haproxy requests/s ratio: %.2f (goal >= 0.9)"
      % (rows["ferry"][0] / rows["haproxy"][0]))
b = st["backends"][0]
print("ferry proxy counted %d requests to the backend, %d errors_5xx, "
      "%d connect errors." % (b["requests"], b["errors_5xx"],
                              b["connect_errors"]))
PY
