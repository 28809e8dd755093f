#!/usr/bin/env bash
# ferry proxy: forwarding and keep-alive, weights, the atomic switch under
# load, draining, counters, bad input (400/431/413), 502/503, the admin
# API's validation, the state file across a restart, and a clean stop.
. "$(dirname "$0")/lib.sh"
plan 36

PY=/usr/bin/python3
BACKEND="$(dirname "$0")/httpbackend.py"

# start_backend NAME: an httpbackend on a free port; sets PORT_<NAME>
start_backend() {
    local name=$1 i port=
    setsid $PY "$BACKEND" --port 0 --name "$name" --log "$T/$name.log" \
        >"$T/$name.out" 2>"$T/$name.err" &
    _pids+=($!)
    eval "PID_$name=$!"
    for i in $(seq 1 100); do
        port=$(sed -n 's/.*listening on 127.0.0.1:\([0-9]*\)$/\1/p' "$T/$name.out")
        [ -n "$port" ] && break
        sleep 0.05
    done
    [ -n "$port" ] || { echo "# backend $name did not start"; cat "$T/$name.err"; return 1; }
    eval "PORT_$name=$port"
}

# start_proxy [ARGS...]: ferry proxy on free ports; sets P (data) and A
# (admin) and PROXY_PID
start_proxy() {
    local i
    : >"$T/proxy.out"
    setsid "$FERRY" proxy --listen 127.0.0.1:0 --admin 127.0.0.1:0 "$@" \
        >"$T/proxy.out" 2>>"$T/proxy.log" &
    PROXY_PID=$!
    _pids+=("$PROXY_PID")
    for i in $(seq 1 100); do
        grep -q '^ferry proxy listening on ' "$T/proxy.out" && break
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.05
    done
    P=$(sed -n 's/^ferry proxy listening on \([^,]*\), admin on .*/\1/p' "$T/proxy.out")
    A=$(sed -n 's/^ferry proxy listening on .*, admin on //p' "$T/proxy.out")
    [ -n "$P" ] && [ -n "$A" ] || { echo "# ferry proxy did not start"; cat "$T/proxy.log"; return 1; }
    export P A
}

# adm METHOD PATH [BODY]: the admin API; body on stdout, status in
# $T/adm_status
adm() {
    local args=(-s -o "$T/adm.body" -w '%{http_code}' -X "$1")
    [ $# -ge 3 ] && args+=(--data-binary "$3")
    curl "${args[@]}" "http://$A$2" >"$T/adm_status"
    cat "$T/adm.body"
}

# put_set JSON-ARRAY-ITEMS...: PUT /backends with these items
put_set() {
    local IFS=,
    adm PUT /backends "{\"backends\":[$*]}" >/dev/null
    [ "$(cat "$T/adm_status")" = 200 ] || { echo "PUT failed: $(cat "$T/adm_status") $(cat "$T/adm.body")"; return 1; }
}
be() { echo "{\"name\":\"$1\",\"addr\":\"127.0.0.1:$2\",\"weight\":$3}"; }

# field NAME KEY: a counter of backend NAME from GET /backends
field() {
    adm GET /backends | $PY -c '
import json, sys
for b in json.load(sys.stdin)["backends"]:
    if b["name"] == sys.argv[1]:
        print(b[sys.argv[2]])
        break
else:
    print("absent")' "$1" "$2"
}

# raw: send stdin as is to the proxy; print the status line, then
# "closed" if the proxy closed the connection within 3 s
cat >"$T/raw.py" <<'PY'
import socket, sys, time
host, port = sys.argv[1].rsplit(":", 1)
data = sys.stdin.buffer.read()
s = socket.create_connection((host, int(port)), timeout=3)
try:
    s.sendall(data)
except OSError:
    pass
got = b""
closed = False
end = time.time() + 3
while time.time() < end:
    try:
        b = s.recv(65536)
    except ConnectionResetError:
        closed = True
        break
    except socket.timeout:
        break
    if not b:
        closed = True
        break
    got += b
print(got.split(b"\r\n", 1)[0].decode("latin-1"))
print("closed" if closed else "open")
PY
raw() { $PY "$T/raw.py" "$P"; }
status_line_is() { # WANT: stdin from raw
    local out
    out=$(cat)
    echo "$out"
    echo "$out" | head -1 | grep -q "^HTTP/1.1 $1 " && echo "$out" | grep -qx closed
}

start_backend b1
start_backend b2
start_backend b3
export PY PORT_b1 PORT_b2 PORT_b3
export -f adm put_set be field status_line_is

ok "usage errors exit 2" bash -c '
    "$FERRY" proxy --listen 127.0.0.1:0 2>"$T/u.err"; [ $? = 2 ] || exit 1
    "$FERRY" proxy --listen nowhere:1 --admin 127.0.0.1:0 2>>"$T/u.err"; [ $? = 2 ] || exit 1
    "$FERRY" proxy --listen 127.0.0.1:0 --admin 0.0.0.0:0 2>>"$T/u.err"; [ $? = 2 ] || exit 1
    "$FERRY" proxy --bogus 2>>"$T/u.err"; [ $? = 2 ] || exit 1
    grep -q "not loopback" "$T/u.err" && grep -q "unknown option" "$T/u.err"'

ok "starts on port 0 and prints the real ports" start_proxy --state "$T/state.json"

ok "503 with no backends" bash -c '
    [ "$(curl -s -o /dev/null -w "%{http_code}" http://'"$P"'/)" = 503 ]'

ok "PUT /backends sets two backends" bash -c '
    curl -sf -X PUT --data-binary "{\"backends\":[{\"name\":\"b1\",\"addr\":\"127.0.0.1:'"$PORT_b1"'\",\"weight\":1},{\"name\":\"b2\",\"addr\":\"localhost:'"$PORT_b2"'\",\"weight\":1}]}" http://'"$A"'/backends >"$T/put.json" &&
    grep -q "\"name\":\"b1\"" "$T/put.json" && grep -q "\"state\":\"ready\"" "$T/put.json"'

ok "requests alternate between the backends" bash -c '
    for i in 1 2 3 4; do curl -s http://'"$P"'/; done >"$T/alt.txt"
    [ "$(sort "$T/alt.txt" | uniq -c | tr -s " " | tr "\n" ";")" = " 2 b1; 2 b2;" ] || { cat "$T/alt.txt"; exit 1; }'

ok "forwarded headers reach the backend, hop-by-hop ones do not" bash -c '
    curl -s -H "Connection: keep-alive, X-Hop" -H "X-Hop: secret" -H "Keep-Alive: 5" \
        -H "X-Forwarded-For: 10.9.8.7" -H "X-Custom: kept" http://'"$P"'/whoami >"$T/who.json"
    '"$PY"' -c "
import json, sys
h = json.load(open(sys.argv[1]))[\"headers\"]
assert h[\"X-Forwarded-For\"] == \"10.9.8.7, 127.0.0.1\", h
assert h[\"X-Forwarded-Proto\"] == \"http\", h
assert h[\"X-Forwarded-Host\"] == sys.argv[2], h
assert h[\"X-Custom\"] == \"kept\", h
for k in (\"X-Hop\", \"Keep-Alive\", \"Connection\"):
    assert k not in h, (k, h)
" "$T/who.json" "'"$P"'"'

put_set "$(be b1 "$PORT_b1" 1)"
ok "keep-alive: one client connection, the backend connection reused" bash -c '
    urls=(); for i in $(seq 1 10); do urls+=(http://'"$P"'/whoami); done
    curl -s -w "connects=%{num_connects}\n" "${urls[@]}" >"$T/ka.txt"
    # curl opened one connection for all ten
    [ "$(grep -c "connects=1" "$T/ka.txt")" = 1 ] || { cat "$T/ka.txt"; exit 1; }
    [ "$(grep -c "connects=0" "$T/ka.txt")" = 9 ] || { cat "$T/ka.txt"; exit 1; }
    # the last request was at least the 8th on its backend connection
    n=$(grep -o "\"conn_requests\": [0-9]*" "$T/ka.txt" | tail -1 | grep -o "[0-9]*$")
    [ "$n" -ge 8 ] || { echo "conn_requests=$n"; exit 1; }'

ok "HTTP/1.0 client: answered and closed" bash -c '
    printf "GET / HTTP/1.0\r\n\r\n" | '"$PY"' "$T/raw.py" '"$P"' >"$T/h10.txt"
    head -1 "$T/h10.txt" | grep -q "^HTTP/1.1 200 " && grep -qx closed "$T/h10.txt"'

ok "HTTP/1.0 keep-alive is honoured" bash -c '
    printf "GET / HTTP/1.0\r\nConnection: keep-alive\r\n\r\n" | '"$PY"' "$T/raw.py" '"$P"' >"$T/h10k.txt"
    head -1 "$T/h10k.txt" | grep -q "^HTTP/1.1 200 " && grep -qx open "$T/h10k.txt"'

ok "request bodies stream through (1 MiB, Content-Length and chunked)" bash -c '
    head -c 1048576 /dev/urandom >"$T/blob"
    curl -s --data-binary @"$T/blob" -H "Expect:" http://'"$P"'/echo -o "$T/echo1" &&
    cmp "$T/blob" "$T/echo1" &&
    curl -s --data-binary @"$T/blob" -H "Transfer-Encoding: chunked" http://'"$P"'/echo -o "$T/echo2" &&
    cmp "$T/blob" "$T/echo2"'

put_set "$(be b1 "$PORT_b1" 90)" "$(be b2 "$PORT_b2" 10)"
ok "weights 90/10 over 100 requests" bash -c '
    for i in $(seq 1 100); do echo "url = \"http://'"$P"'/\""; done >"$T/100.cfg"
    curl -s -K "$T/100.cfg" | sort | uniq -c >"$T/w.txt"
    n1=$(awk "\$2==\"b1\"{print \$1}" "$T/w.txt"); n2=$(awk "\$2==\"b2\"{print \$1}" "$T/w.txt")
    echo "b1=$n1 b2=$n2"
    [ "${n1:-0}" -ge 85 ] && [ "${n1:-0}" -le 95 ] && [ $(( ${n1:-0} + ${n2:-0} )) = 100 ]'

put_set "$(be b1 "$PORT_b1" 100)" "$(be b2 "$PORT_b2" 0)"
ok "weights 100/0: all to one" bash -c '
    curl -s -K "$T/100.cfg" | sort | uniq -c >"$T/w0.txt"
    cat "$T/w0.txt"; [ "$(cat "$T/w0.txt" | tr -s " ")" = " 100 b1" ]'

ok "counters: requests and errors_5xx after /status/500" bash -c '
    r0=$(field b1 requests); e0=$(field b1 errors_5xx)
    for i in 1 2 3; do curl -s -o /dev/null http://'"$P"'/status/500; done
    curl -s -o /dev/null http://'"$P"'/status/404
    r1=$(field b1 requests); e1=$(field b1 errors_5xx)
    echo "requests $r0 -> $r1, errors $e0 -> $e1"
    [ $((r1 - r0)) = 4 ] && [ $((e1 - e0)) = 3 ]'

ok "GET /stats has latency histograms and proxy totals" bash -c '
    curl -s http://'"$A"'/stats | '"$PY"' -c "
import json, sys
s = json.load(sys.stdin)
b = [x for x in s[\"backends\"] if x[\"name\"] == \"b1\"][0]
l = b[\"latency\"]
assert l[\"buckets\"][-1][\"le\"] == \"+Inf\" and l[\"buckets\"][-1][\"count\"] == l[\"count\"] > 0, l
counts = [x[\"count\"] for x in l[\"buckets\"]]
assert counts == sorted(counts), counts
assert l[\"sum\"] > 0
assert s[\"proxy\"][\"requests\"] > 100 and s[\"proxy\"][\"connections_total\"] > 10, s[\"proxy\"]
"'

ok "400 for garbage, and the connection is closed" bash -c '
    printf "this is not http\r\n\r\n" | '"$PY"' "$T/raw.py" '"$P"' | status_line_is 400'
ok "431 for a head over 16 KiB" bash -c '
    { printf "GET / HTTP/1.1\r\nHost: x\r\nX-Big: "; head -c 20000 /dev/zero | tr "\0" a; printf "\r\n\r\n"; } |
        '"$PY"' "$T/raw.py" '"$P"' | status_line_is 431'
ok "413 for a Content-Length over 1 GiB" bash -c '
    printf "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 1073741825\r\n\r\nabc" |
        '"$PY"' "$T/raw.py" '"$P"' | status_line_is 413'
ok "400 for Content-Length with Transfer-Encoding" bash -c '
    printf "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n" |
        '"$PY"' "$T/raw.py" '"$P"' | status_line_is 400'
ok "400 for bad chunk syntax" bash -c '
    printf "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n" |
        '"$PY"' "$T/raw.py" '"$P"' | status_line_is 400'

# a port with nothing on it
DEAD=$($PY -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
put_set "$(be dead "$DEAD" 1)"
ok "502 when the backend is down" bash -c '
    [ "$(curl -s -o /dev/null -w "%{http_code}" http://'"$P"'/)" = 502 ]'

put_set "$(be dead "$DEAD" 1)" "$(be b1 "$PORT_b1" 1)"
ok "a refused connect is retried on another backend and counted" bash -c '
    for i in $(seq 1 10); do curl -s -o /dev/null -w "%{http_code}\n" http://'"$P"'/; done >"$T/retry.txt"
    [ "$(sort -u "$T/retry.txt")" = 200 ] || { cat "$T/retry.txt"; exit 1; }
    ce=$(curl -s http://'"$A"'/stats | '"$PY"' -c "
import json, sys
print([b for b in json.load(sys.stdin)[\"backends\"] if b[\"name\"] == \"dead\"][0][\"connect_errors\"])")
    echo "connect_errors=$ce"; [ "$ce" -ge 5 ]'

ok "admin validation errors are 400 with a JSON error" bash -c '
    for body in "not json" "{}" "{\"backends\":[{\"name\":\"a\"}]}" \
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"127.0.0.1:1\"},{\"name\":\"a\",\"addr\":\"127.0.0.1:2\"}]}" \
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"example.com:80\"}]}" \
        "{\"backends\":[{\"name\":\"a b\",\"addr\":\"127.0.0.1:1\"}]}" \
        "{\"backends\":[{\"name\":\"a\",\"addr\":\"127.0.0.1:1\",\"weight\":-1}]}"; do
        adm PUT /backends "$body" >"$T/v.json"
        [ "$(cat "$T/adm_status")" = 400 ] || { echo "status $(cat "$T/adm_status") for $body"; exit 1; }
        grep -q "\"error\":" "$T/v.json" || { cat "$T/v.json"; exit 1; }
    done
    # the set did not change
    [ "$(field b1 state)" = ready ] && [ "$(field dead state)" = ready ]'

ok "admin: 404 unknown path and backend, 405 wrong method, healthz" bash -c '
    adm GET /nope >/dev/null; [ "$(cat "$T/adm_status")" = 404 ] || exit 1
    adm POST /backends/nope/drain >/dev/null; [ "$(cat "$T/adm_status")" = 404 ] || exit 1
    adm DELETE /backends >/dev/null; [ "$(cat "$T/adm_status")" = 405 ] || exit 1
    adm GET /healthz >/dev/null; [ "$(cat "$T/adm_status")" = 200 ]'

put_set "$(be b1 "$PORT_b1" 1)"
ok "drain: an in-flight request on a removed backend finishes with 200" bash -c '
    curl -s -o "$T/slow.body" -w "%{http_code}" "http://'"$P"'/slow?ms=1500" >"$T/slow.code" &
    cpid=$!
    for i in $(seq 1 50); do [ "$(field b1 active)" = 1 ] && break; sleep 0.05; done
    put_set "$(be b2 '"$PORT_b2"' 1)"
    st=$(field b1 state); act=$(field b1 active)
    echo "during: b1 state=$st active=$act"
    [ "$st" = draining ] && [ "$act" = 1 ] || exit 1
    # new requests go to b2 only
    for i in 1 2 3; do curl -s http://'"$P"'/; done | sort -u >"$T/after.txt"
    [ "$(cat "$T/after.txt")" = b2 ] || { cat "$T/after.txt"; exit 1; }
    wait $cpid
    echo "slow: $(cat "$T/slow.code") $(cat "$T/slow.body")"
    [ "$(cat "$T/slow.code")" = 200 ] && [ "$(cat "$T/slow.body")" = b1 ] || exit 1
    for i in $(seq 1 40); do [ "$(field b1 state)" = absent ] && break; sleep 0.05; done
    [ "$(field b1 state)" = absent ]'

put_set "$(be b2 "$PORT_b2" 1)" "$(be b3 "$PORT_b3" 1)"
ok "POST /backends/NAME/drain: 200, then no new requests" bash -c '
    adm POST /backends/b3/drain >"$T/drain.json"
    [ "$(cat "$T/adm_status")" = 200 ] && grep -q "\"state\":\"draining\"" "$T/drain.json" || { cat "$T/drain.json"; exit 1; }
    for i in 1 2 3 4; do curl -s http://'"$P"'/; done | sort -u >"$T/d.txt"
    [ "$(cat "$T/d.txt")" = b2 ] && [ "$(field b3 state)" = absent ]'

ok "atomic switch under load: no failed request" bash -c '
    s1="$(be b1 '"$PORT_b1"' 1)"; s2="$(be b2 '"$PORT_b2"' 1)"; s3="$(be b3 '"$PORT_b3"' 1)"
    wrk -t1 -c8 -d6s http://'"$P"'/ >"$T/wrk.txt" 2>&1 &
    wpid=$!
    n=0
    while kill -0 $wpid 2>/dev/null; do
        case $((n % 3)) in
        0) put_set "$s1" ;; 1) put_set "$s2" "$s3" ;; 2) put_set "$s3" ;;
        esac || exit 1
        n=$((n + 1)); sleep 0.02
    done
    wait $wpid
    reqs=$(sed -n "s/^ *\([0-9]*\) requests in.*/\1/p" "$T/wrk.txt")
    echo "# $reqs requests during $n switches"
    cat "$T/wrk.txt" | grep -E "requests in|Non-2xx|Socket errors" || true
    [ "${reqs:-0}" -gt 100 ] && [ "$n" -ge 6 ] &&
        ! grep -qE "Non-2xx|Socket errors" "$T/wrk.txt"'
grep '^# ' "$T/.out.$_n" 2>/dev/null | head -1

ok "atomic switch with curl: every request answered 200" bash -c '
    s1="$(be b1 '"$PORT_b1"' 1)"; s2="$(be b2 '"$PORT_b2"' 1)"
    ( for i in $(seq 1 300); do echo "url = \"http://'"$P"'/\""; echo "output = /dev/null"; echo "write-out = \"%{http_code}\\n\""; done ) >"$T/300.cfg"
    curl -s -K "$T/300.cfg" >"$T/codes.txt" &
    cpid=$!
    n=0
    while kill -0 $cpid 2>/dev/null; do
        if [ $((n % 2)) = 0 ]; then put_set "$s1"; else put_set "$s2"; fi || exit 1
        n=$((n + 1)); sleep 0.02
    done
    wait $cpid
    echo "$(wc -l <"$T/codes.txt") requests, $n switches"
    [ "$(wc -l <"$T/codes.txt")" = 300 ] && [ "$(sort -u "$T/codes.txt")" = 200 ]'

put_set "$(be b1 "$PORT_b1" 3)" "$(be b2 "$PORT_b2" 1)"
ok "the state file holds the set" bash -c '
    '"$PY"' -c "
import json, sys
s = json.load(open(sys.argv[1]))[\"backends\"]
assert [(b[\"name\"], b[\"weight\"]) for b in s] == [(\"b1\", 3), (\"b2\", 1)], s
" "$T/state.json"'

# sigterm_check: run in this shell, where the proxy is a child
sigterm_check() {
    local cpid st code
    curl -s -o "$T/st.body" -w "%{http_code}" "http://$P/slow?ms=1000" >"$T/st.code" &
    cpid=$!
    sleep 0.3
    kill -TERM "$PROXY_PID"
    sleep 0.2
    # no longer accepting
    code=$(curl -s -o /dev/null -w "%{http_code}" --max-time 2 "http://$P/")
    [ "$code" = 000 ] || { echo "accepted after SIGTERM: $code"; return 1; }
    wait "$PROXY_PID"
    st=$?
    wait $cpid
    echo "proxy exit $st, in-flight $(cat "$T/st.code")"
    [ $st = 0 ] && [ "$(cat "$T/st.code")" = 200 ] &&
        ! kill -0 "$PROXY_PID" 2>/dev/null
}
ok "SIGTERM: an in-flight request finishes, exit 0, nothing left" sigterm_check

ok "restart with the state file" start_proxy --state "$T/state.json"
ok "the restarted proxy serves the same set at once" bash -c '
    [ "$(field b1 weight)" = 3 ] && [ "$(field b2 weight)" = 1 ] &&
        [ "$(curl -s http://$P/)" = b1 ]'

ok "a bad state file stops the start with exit 2" bash -c '
    echo "{nope" >"$T/bad.json"
    "$FERRY" proxy --listen 127.0.0.1:0 --admin 127.0.0.1:0 --state "$T/bad.json" 2>"$T/bad.err"
    [ $? = 2 ] && grep -q "bad.json" "$T/bad.err"'

ok "admin on a unix socket" bash -c '
    setsid "$FERRY" proxy --listen 127.0.0.1:0 --admin "unix:$T/adm.sock" >"$T/u.out" 2>"$T/u.log" &
    pid=$!
    for i in $(seq 1 100); do [ -S "$T/adm.sock" ] && break; sleep 0.05; done
    out=$(curl -s --unix-socket "$T/adm.sock" http://admin/backends)
    kill -TERM $pid; wait $pid; st=$?
    echo "$out"; [ "$out" = "{\"backends\":[]}" ] && [ $st = 0 ] && [ ! -e "$T/adm.sock" ]'

ok "--max-connections: the connection over the cap gets 503" bash -c '
    setsid "$FERRY" proxy --listen 127.0.0.1:0 --admin 127.0.0.1:0 --max-connections 2 >"$T/m.out" 2>"$T/m.log" &
    pid=$!
    for i in $(seq 1 100); do grep -q listening "$T/m.out" && break; sleep 0.05; done
    mp=$(sed -n "s/^ferry proxy listening on \([^,]*\),.*/\1/p" "$T/m.out")
    '"$PY"' - "$mp" <<EOF
import socket, sys, time
h, p = sys.argv[1].rsplit(":", 1)
a = socket.create_connection((h, int(p)))
b = socket.create_connection((h, int(p)))
time.sleep(0.2)
c = socket.create_connection((h, int(p)), timeout=3)
r = c.recv(1000).decode()
print(r.split("\r\n")[0])
assert r.startswith("HTTP/1.1 503"), r
EOF
    st=$?; kill -TERM $pid; wait $pid; [ $st = 0 ]'

ok "the data plane never logged a crash" bash -c '
    ! grep -Ei "sanitizer|runtime error|segmentation" "$T/proxy.log"'

sigint_check() {
    local st
    kill -INT "$PROXY_PID"
    wait "$PROXY_PID"
    st=$?
    echo "exit $st"
    [ $st = 0 ] && ! kill -0 "$PROXY_PID" 2>/dev/null
}
ok "SIGINT stops the restarted proxy cleanly, exit 0" sigint_check
