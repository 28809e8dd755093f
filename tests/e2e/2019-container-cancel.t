#!/usr/bin/env bash
# Cancelling a container job's set-up at any point leaves nothing behind,
# and a step's pid file cannot stall or redirect its cancel.
#
# The engine is reached through a proxy (Python, below) that holds every
# create (network or container) DELAY seconds before passing it on, and
# passes it on even when its caller has gone: an engine that received a
# create finishes it.  A cancel while a create is held used to end the
# set-up at once; its tear-down found nothing yet and the create landed
# after it, leaving a container or network no one removes.  Each point
# cancels at another create (network, service, job container) and then
# waits for the held create to land before looking for leftovers; one
# kills the set-up outright (its tear-down looks again for a while).
#
# The pid file (the job directory, which the container writes): a FIFO
# put there by the step must not stall the cancel, and a link put in
# place of its directory must not make ferry delete a host file.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

podman_require
plan 15

BASE=$FERRY_BASE_IMAGE
DELAY=1.5
podman_start # chains its own clean-up (dead ferrys' objects) before ours

# ---------- the delaying proxy ----------
cat >"$T/proxy.py" <<'EOF'
import os, re, socket, sys, threading, time

listen, upstream, delay, marks = sys.argv[1], sys.argv[2], float(sys.argv[3]), sys.argv[4]
creates = 0
lock = threading.Lock()

def mark(line):
    with lock, open(marks, "a") as f:
        f.write(line + "\n")

def up_to_client(u, c):
    # the engine's answers, raw; the client may be gone: keep draining
    alive = True
    while True:
        try:
            data = u.recv(65536)
        except OSError:
            break
        if not data:
            break
        if alive:
            try:
                c.sendall(data)
            except OSError:
                alive = False
    try:
        c.shutdown(socket.SHUT_WR)
    except OSError:
        pass

def client_to_up(c, u):
    global creates
    buf = b""
    raw = False
    while True:
        if raw:
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            u.sendall(data)
            continue
        while b"\r\n\r\n" not in buf:
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
        if b"\r\n\r\n" not in buf:
            break
        head, buf = buf.split(b"\r\n\r\n", 1)
        lines = head.decode("latin-1").split("\r\n")
        hdrs = {l.split(":", 1)[0].strip().lower(): l.split(":", 1)[1].strip()
                for l in lines[1:] if ":" in l}
        if hdrs.get("transfer-encoding", "").lower() == "chunked":
            u.sendall(head + b"\r\n\r\n" + buf)
            buf = b""
            raw = True
            continue
        n = int(hdrs.get("content-length", "0"))
        while len(buf) < n:
            try:
                data = c.recv(65536)
            except OSError:
                data = b""
            if not data:
                break
            buf += data
        body, buf = buf[:n], buf[n:]
        method, path = lines[0].split(" ")[:2]
        held = method == "POST" and re.search(r"/(containers|networks)/create", path)
        if held:
            with lock:
                creates += 1
                k = creates
            mark("held %d %s" % (k, path))
            time.sleep(delay)
        u.sendall(head + b"\r\n\r\n" + body)
        if held:
            mark("sent %d" % k)
        if "upgrade" in hdrs or re.search(r"/exec/.*/start|/attach", path):
            raw = True
    # the client is gone: leave the engine time to answer what it got
    time.sleep(3)
    try:
        u.close()
    except OSError:
        pass

def serve(c):
    u = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    u.connect(upstream)
    threading.Thread(target=up_to_client, args=(u, c), daemon=True).start()
    client_to_up(c, u)

s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    os.unlink(listen)
except FileNotFoundError:
    pass
s.bind(listen)
s.listen(64)
print("ready", flush=True)
while True:
    c, _ = s.accept()
    threading.Thread(target=serve, args=(c,), daemon=True).start()
EOF
: >"$T/marks"
python3 "$T/proxy.py" "$T/proxy.sock" "$PODMAN_SOCK" "$DELAY" "$T/marks" \
    >"$T/proxy.out" 2>"$T/proxy.err" &
_pids+=($!)
for _ in $(seq 1 50); do
    grep -q ready "$T/proxy.out" 2>/dev/null && break
    sleep 0.1
done
grep -q ready "$T/proxy.out" ||
    { echo "Bail out! the proxy did not start: $(cat "$T/proxy.err")"; exit 1; }
PROXY=unix://$T/proxy.sock

# leftovers PID: "container|network|volume ID" for every managed object
# whose owner label names ferry process PID
leftovers() {
    local q='filters=%7B%22label%22%3A%5B%22io.ferry.managed%3D1%22%5D%7D'
    {
        podman_api GET "/v1.41/containers/json?all=1&$q"
        echo
        podman_api GET "/v1.41/networks?$q"
        echo
        podman_api GET "/v1.41/volumes?$q"
        echo
    } | /usr/bin/python3 -c '
import json, sys
pid = sys.argv[1]
kinds = ["container", "network", "volume"]
for i, line in enumerate(l for l in sys.stdin if l.strip()):
    objs = json.loads(line)
    if isinstance(objs, dict):
        objs = objs.get("Volumes") or []
    for o in objs:
        owner = (o.get("Labels") or {}).get("io.ferry.owner", "")
        if (":%s:" % pid) in owner:
            print(kinds[i], o.get("Id") or o.get("Name"))
' "$1"
}
no_leftovers() {
    local l
    l=$(leftovers "$1")
    [ -z "$l" ] || { echo "left behind by ferry $1:"; echo "$l"; return 1; }
}
wait_marks() { # wait_marks PATTERN COUNT: COUNT lines matching PATTERN
    local i
    for i in $(seq 1 300); do
        [ "$(grep -c -- "$1" "$T/marks")" -ge "$2" ] && return 0
        sleep 0.1
    done
    echo "never saw $2 x '$1'"; cat "$T/marks"; return 1
}

R=$T/repo
mkdir -p "$R"
workflow "$R" c.yml <<EOF
on: push
jobs:
  slow:
    runs-on: ubuntu-latest
    container: $BASE
    services:
      side:
        image: $BASE
    steps:
      - run: echo "never started"
EOF
mkrepo "$R"

# cancel_at K HOW: a run whose K-th create (1 network, 2 the service, 3
# the job container) is held when HOW (int: SIGINT to ferry; kill: SIGKILL
# to the set-up) happens; then the held create lands
cancel_at() {
    local k=$1 how=$2 setup n
    : >"$T/marks"
    DOCKER_HOST=$PROXY "$FERRY" run -C "$R" --home "$T/h-$k-$how" \
        >"$T/out" 2>"$T/err" &
    FPID=$!
    wait_marks '^held ' "$k" || return 1
    if [ "$how" = int ]; then
        kill -INT "$FPID"
    else
        setup=$(pgrep -P "$FPID" -f -- '__cexec --setup')
        [ -n "$setup" ] || { echo "no set-up child"; return 1; }
        kill -KILL "$setup"
    fi
    wait "$FPID"
    echo $? >"$T/status"
    # the create held when we cancelled reaches the engine, then its
    # answer comes (nobody may be reading it); the proxy numbers them
    # across runs
    n=$(grep '^held ' "$T/marks" | sed -n "${k}p" | cut -d' ' -f2)
    wait_marks "^sent $n\$" 1 || return 1
    sleep 1.5
}

for k in 1 2 3; do
    cancel_at "$k" int
    what=$(grep '^held ' "$T/marks" | sed -n "${k}s/.*\/\(containers\|networks\)\/create.*/\1/p")
    ok "cancel while create $k ($what) is with the engine: the job is cancelled" \
        bash -c '[ "$(cat "$T/status")" = 1 ] && grep -qE "⊘ .*/slow +cancelled" "$T/out" && ! grep -q "never started" "$T/out"'
    ok "cancel while create $k ($what) is with the engine: nothing is left" \
        no_leftovers "$FPID"
done

cancel_at 1 kill
ok "a set-up killed during a create fails the job" \
    bash -c '[ "$(cat "$T/status")" = 1 ] && grep -q "set-up was killed by signal 9" "$T/out"'
ok "its tear-down looks again and removes what the engine made late" \
    no_leftovers "$FPID"
ok "and says so" out_has "made after the set-up was killed"

# ---------- the step's pid file ----------
JD=$T/jd
mkdir -p "$JD/cexec" "$T/elsewhere"
chmod 1777 "$JD/cexec"
CID=$(podman run -d --network none --label ferry-e2e-2019=1 -v "$JD:$JD" \
    "$BASE" sleep 600) || { echo "Bail out! cannot start a container"; exit 1; }
# shellcheck disable=SC2064
trap "podman rm -f -t 0 $CID >/dev/null 2>&1; $(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")" EXIT

# cexec_bg PIDFILE CMD...: `ferry __cexec --exec` in the background, as
# the engine starts a step (the env on stdin); its pid in $XPID
cexec_bg() {
    local pf=$1
    shift
    printf 'PATH=/bin\0' | "$FERRY" __cexec --exec "$CID" --pidfile "$pf" \
        --workdir / -- "$@" >"$T/x.out" 2>"$T/x.err" &
    XPID=$!
}
# exited_with CODE: $XPID ends (within 30 s, far beyond its own waits)
# with CODE; else it is stuck (and killed)
exited_with() {
    local i st
    for i in $(seq 1 300); do
        if ! kill -0 "$XPID" 2>/dev/null; then
            wait "$XPID"
            st=$?
            [ "$st" = "$1" ] || { echo "exit $st, want $1"; cat "$T/x.out" "$T/x.err"; return 1; }
            return 0
        fi
        sleep 0.1
    done
    echo "still running: stuck"
    kill -KILL "$XPID"
    return 1
}

# a step that puts a FIFO where its pid file was, then idles
PF=$JD/cexec/1.pid
cexec_bg "$PF" sh -c 'rm -f "$1" && mkfifo "$1" && echo fifo-ready && exec sleep 600' sh "$PF"
for _ in $(seq 1 100); do
    grep -q fifo-ready "$T/x.out" 2>/dev/null && [ -p "$PF" ] && break
    sleep 0.1
done
ok "the step replaced its pid file with a FIFO" test -p "$PF"
kill -TERM "$XPID"
ok "SIGTERM still ends the step's helper (143), a FIFO at the pid file notwithstanding" \
    exited_with 143
ok "the helper removed the FIFO" test ! -e "$PF"

# a step that moves the pid file's directory away and leaves a link to a
# host directory in its place: the helper must not delete the host file
# of that name when it cleans up
echo keep-me >"$T/elsewhere/2.pid"
PF=$JD/cexec/2.pid
cexec_bg "$PF" sh -c 'mv "$1/cexec" "$1/cexec.moved" && ln -s "$2" "$1/cexec" && echo linked' sh "$JD" "$T/elsewhere"
ok "the step swapped the pid file's directory for a link" exited_with 0
ok "the helper deleted no host file through the link" \
    bash -c 'grep -q keep-me "$T/elsewhere/2.pid" && [ -L "$T/jd/cexec" ]'
ok "it removed its own pid file, in the moved directory" test ! -e "$JD/cexec.moved/2.pid"
