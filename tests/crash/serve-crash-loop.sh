#!/usr/bin/env bash
# ferry serve under repeated kill -9 (run by hand, not part of `make test`).
# A steady stream of triggers (workflow dispatches, and pushes announced
# through the signed /hooks/git route) runs while the server is killed
# N times at random moments and started again.  After each restart, once
# recovery has settled, it checks that
#   - every run whose id a trigger returned is in the store (none lost),
#   - no run is `running` without a live worker of the current server,
#   - no process of ours (our sleeps, anything with its cwd in the home,
#     anything carrying an attempt tag of this home) lives on unless it
#     belongs to the current attempt of a running run, or is a `ferry
#     __run` child of the current server not yet given a run (its spare
#     worker) (no orphans),
#   - sqlite's PRAGMA integrity_check of HOME/ferry.db is ok (read-only);
# then stops the triggers, waits for every run to complete and prints
#   crash loop: N kills, R runs, 0 lost, 0 orphans
# Usage: FERRY=build/ferry tests/crash/serve-crash-loop.sh [KILLS]
#   env: MAX_DELAY_MS (1500) longest wait before a kill; SLOTS (4);
#        SETTLE (3) seconds a violation must persist to count;
#        KEEP=1 keeps the work directory.
set -u
FERRY=${FERRY:?set FERRY to the ferry binary}
FERRY=$(realpath "$FERRY")
KILLS=${1:-200}
MAX_DELAY_MS=${MAX_DELAY_MS:-1500}
SLOTS=${SLOTS:-4}
SETTLE=${SETTLE:-3}
PY=/usr/bin/python3
W=$(mktemp -d "${TMPDIR:-/tmp}/ferry-crash.XXXXXX")
H=$W/home
# our processes are found by this string in their command line
U=$$$RANDOM
U=${U:0:9}
SERVE_PID=
TRIG_PID=
START=$(date +%s)

cleanup() {
    [ -n "$TRIG_PID" ] && kill -KILL -- "-$TRIG_PID" 2>/dev/null
    [ -n "$SERVE_PID" ] && kill -KILL "$SERVE_PID" 2>/dev/null
    # whatever is left of ours (a failed run of this script)
    for p in $(pgrep -f "^sleep 4[0-9]\.$U\$"); do kill -KILL "$p" 2>/dev/null; done
    if [ "${KEEP:-0}" = 1 ] || [ -s "$W/violations.txt" ]; then echo "work directory kept: $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() { echo "crash loop: $*" >&2; exit 1; }

# a copy: the build may replace the binary during a long run
cp "$FERRY" "$W/ferry" || die "cannot copy $FERRY"
FERRY=$W/ferry

# ---------- the repository ----------
mkdir -p "$W/src/.github/workflows"
# dispatched: two cells; one ignores SIGTERM (so only recovery's SIGKILL
# ends it quickly); both leave an escaped process behind
cat >"$W/src/.github/workflows/work.yml" <<EOF
on: workflow_dispatch
jobs:
  work:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        cell: [term, noterm]
    steps:
      - run: |
          echo "work \${{ matrix.cell }} attempt \${{ github.run_attempt }}"
          if [ "\${{ matrix.cell }}" = term ]; then trap '' TERM; fi
          setsid sleep 40.$U &
          sleep 41.$U &
          sleep 0.\$((RANDOM % 6))
          echo "work done"
EOF
# pushed: one job, a child that outlives the step
cat >"$W/src/.github/workflows/push.yml" <<EOF
on: push
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "push attempt \${{ github.run_attempt }}"
          ( sleep 42.$U & )
          sleep 0.2
EOF
(
    cd "$W/src" && git init -q -b main . &&
        git add -A && git -c user.name=c -c user.email=c@c commit -qm init
) || die "cannot make the repository"
git clone -q --bare "$W/src" "$W/app.git" || die "cannot clone"
(cd "$W/src" && git remote add origin "$W/app.git")

# ---------- the server ----------
start_server() {
    local i
    : >"$W/serve.out"
    setsid "$FERRY" serve --home "$H" --listen 127.0.0.1:0 --init \
        --slots "$SLOTS" >"$W/serve.out" 2>>"$W/serve.log" &
    SERVE_PID=$!
    for i in $(seq 1 400); do
        grep -q '^ferry serve: listening on ' "$W/serve.out" && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.025
    done
    URL=$(sed -n 's/^ferry serve: listening on //p' "$W/serve.out")
    local t
    t=$(sed -n 's/^admin token: //p' "$W/serve.out")
    [ -n "$t" ] && TOKEN=$t
    [ -n "$URL" ] || { tail -20 "$W/serve.log"; die "the server did not start"; }
}

start_server
curl -sS -o "$W/repo.json" -H "Authorization: Bearer $TOKEN" \
    -d "{\"name\":\"app\",\"url\":\"$W/app.git\"}" "$URL/api/v1/repos" ||
    die "cannot add the repository"
HOOK_KEY=$($PY -c 'import json,sys; print(json.load(open(sys.argv[1]))["hook_key"])' "$W/repo.json") ||
    die "no hook key: $(cat "$W/repo.json")"

# ---------- the triggers ----------
# Each answer's run ids go to ids.txt; an answer that is neither a
# success nor a refused connection (the server is down) goes to
# trigger-errors.txt.
: >"$W/ids.txt"
: >"$W/trigger-errors.txt"
triggers() {
    local n=0 url code body old new sig
    while :; do
        n=$((n + 1))
        url=$(cat "$H/serve.url" 2>/dev/null)
        if [ $((n % 4)) = 0 ]; then
            old=$(git -C "$W/src" rev-parse HEAD)
            git -C "$W/src" -c user.name=c -c user.email=c@c commit -q \
                --allow-empty -m "push $n"
            git -C "$W/src" push -q origin main 2>/dev/null
            new=$(git -C "$W/src" rev-parse HEAD)
            body="$old $new refs/heads/main"
            sig=$(printf '%s\n' "$body" | openssl dgst -sha256 -hmac "$HOOK_KEY" -r | cut -d' ' -f1)
            code=$(printf '%s\n' "$body" | curl -s -o "$W/trig.body" -w '%{http_code}' \
                --max-time 20 -H "X-Ferry-Signature-256: sha256=$sig" \
                --data-binary @- "$url/hooks/git?repo=app")
        else
            code=$(curl -s -o "$W/trig.body" -w '%{http_code}' --max-time 20 \
                -H "Authorization: Bearer $TOKEN" -d '{"ref":"main"}' \
                "$url/api/v1/repos/app/workflows/work.yml/dispatches")
        fi
        case $code in
        200 | 201)
            $PY -c '
import json, sys
d = json.load(open(sys.argv[1]))
for r in d["runs"]:
    print(r["id"] if isinstance(r, dict) else r)' "$W/trig.body" >>"$W/ids.txt" ||
                echo "bad answer: $(cat "$W/trig.body")" >>"$W/trigger-errors.txt"
            ;;
        000) ;; # the server is down or was killed mid-request
        *) echo "$(date +%T) HTTP $code: $(head -c 300 "$W/trig.body")" >>"$W/trigger-errors.txt" ;;
        esac
        sleep 0.2
    done
}
setsid bash -c "$(declare -f triggers); W='$W' H='$H' TOKEN='$TOKEN' HOOK_KEY='$HOOK_KEY' PY='$PY'; triggers" &
TRIG_PID=$!

# ---------- the checker ----------
cat >"$W/check.py" <<'PY'
# After a restart: lost runs, runs running without a worker, orphan
# processes, sqlite integrity.  A violation counts only if it persists
# for SETTLE seconds (a run may be finishing, a worker starting).
import os, sqlite3, sys, time

home = os.environ["CHK_HOME"]
mark = os.environ["CHK_MARK"].encode()
server = int(os.environ["CHK_SERVER"])
settle = float(os.environ["CHK_SETTLE"])
final = os.environ.get("CHK_FINAL") == "1"
me = os.getpid()

def db():
    return sqlite3.connect("file:%s/ferry.db?mode=ro" % home, uri=True,
                           timeout=10)

def snapshot():
    c = db()
    runs = {r[0]: (r[1], r[2]) for r in
            c.execute("SELECT id, status, attempt FROM runs")}
    atts = {}
    tags = {}
    for run_id, num, st, pid, tag in c.execute(
            "SELECT run_id, number, status, pid, tag FROM attempts"):
        atts[(run_id, num)] = (st, pid, tag)
        if tag:
            tags[tag] = (run_id, num, st)
    c.close()
    return runs, atts, tags

def proc(pid):
    try:
        with open("/proc/%d/stat" % pid, "rb") as f:
            s = f.read()
        rest = s[s.rindex(b")") + 2:].split()
        state, ppid = rest[0], int(rest[1])
        if state == b"Z":
            return None
        with open("/proc/%d/cmdline" % pid, "rb") as f:
            cmd = f.read().replace(b"\0", b" ").strip()
        try:
            cwd = os.readlink("/proc/%d/cwd" % pid)
        except OSError:
            cwd = ""
        tag = None
        try:
            with open("/proc/%d/environ" % pid, "rb") as f:
                for e in f.read().split(b"\0"):
                    if e.startswith(b"FERRY_ATTEMPT="):
                        tag = e.decode(errors="replace")
        except OSError:
            pass
        return ppid, cmd, cwd, tag
    except (OSError, ValueError, IndexError):
        return None

def violations():
    runs, atts, tags = snapshot()
    orphans = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        pid = int(d)
        if pid in (me, server):
            continue
        p = proc(pid)
        if not p:
            continue
        ppid, cmd, cwd, tag = p
        ours = (mark in cmd or cwd == home or cwd.startswith(home + "/")
                or (tag is not None and tag in tags))
        if not ours:
            continue
        t = tags.get(tag) if tag else None
        if not t and ppid == server and b"__run" in cmd:
            continue  # the server's spare worker, or one being started
        if t:
            run_id, num, st = t
            r = runs.get(run_id)
            if st == "running" and r and r[0] == "running" and r[1] == num:
                continue  # the current attempt of a running run
        orphans[pid] = "%s tag=%s ppid=%d cwd=%s" % (
            cmd.decode(errors="replace"), tag, ppid, cwd)
    stuck = {}
    for rid, (st, att) in runs.items():
        if st != "running":
            continue
        a = atts.get((rid, att))
        pid = a[1] if a else 0
        p = proc(pid) if pid > 0 else None
        if not p or p[0] != server:
            stuck[(rid, att)] = "run %d attempt %d: worker pid %d %s" % (
                rid, att, pid, "not alive" if not p else
                "is not the server's child (ppid %d)" % p[0])
    return runs, orphans, stuck

want = set()
with open(os.environ["CHK_IDS"]) as f:
    for line in f:
        line = line.strip()
        if line.isdigit():
            want.add(int(line))

deadline = time.time() + settle
po = ps = None
while True:
    runs, orphans, stuck = violations()
    po = set(orphans) if po is None else po & set(orphans)
    ps = set(stuck) if ps is None else ps & set(stuck)
    if (not po and not ps) or time.time() >= deadline:
        break
    time.sleep(0.2)
lost = sorted(want - set(runs))
c = db()
integ = [r[0] for r in c.execute("PRAGMA integrity_check")]
c.close()
unfinished = sorted(r for r, (st, _) in runs.items() if st != "completed")
for r in lost:
    print("LOST run %d" % r, file=sys.stderr)
for p in sorted(po):
    print("ORPHAN pid %d: %s" % (p, orphans[p]), file=sys.stderr)
for k in sorted(ps):
    print("STUCK %s" % stuck[k], file=sys.stderr)
if integ != ["ok"]:
    print("INTEGRITY %s" % integ[:5], file=sys.stderr)
print("runs=%d lost=%d orphans=%d stuck=%d integrity=%s unfinished=%d" % (
    len(runs), len(lost), len(po), len(ps),
    "ok" if integ == ["ok"] else "BAD", len(unfinished)))
PY

check() {
    CHK_HOME=$(realpath "$H") CHK_MARK=".$U" CHK_SERVER=$SERVE_PID \
        CHK_SETTLE=$SETTLE CHK_IDS="$W/ids.txt" $PY "$W/check.py" 2>>"$W/violations.txt"
}

# ---------- the kills ----------
: >"$W/violations.txt"
LOST=0 ORPHANS=0 STUCK=0 BAD=0
for k in $(seq 1 "$KILLS"); do
    d=$((RANDOM * 32768 + RANDOM))
    d=$((d % (MAX_DELAY_MS + 1)))
    sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
    kill -KILL "$SERVE_PID"
    { wait "$SERVE_PID"; } 2>/dev/null
    start_server
    line=$(check) || die "the checker failed"
    set -- $line
    l=${2#lost=} o=${3#orphans=} s=${4#stuck=} i=${5#integrity=}
    LOST=$((LOST + l)) ORPHANS=$((ORPHANS + o)) STUCK=$((STUCK + s))
    [ "$i" = ok ] || BAD=$((BAD + 1))
    if [ $((k % 10)) = 0 ] || [ "$l$o$s$i" != 000ok ]; then
        echo "kill $k/$KILLS: $line ($(($(date +%s) - START)) s)"
    fi
done

# ---------- the end: every run completes ----------
kill -KILL -- "-$TRIG_PID" 2>/dev/null
{ wait "$TRIG_PID"; } 2>/dev/null
TRIG_PID=
for i in $(seq 1 600); do
    line=$(check) || die "the checker failed"
    case $line in *" unfinished=0") break ;; esac
    sleep 0.5
done
echo "after the triggers stopped: $line"
set -- $line
R=${1#runs=}
LOST=$((LOST + ${2#lost=})) ORPHANS=$((ORPHANS + ${3#orphans=}))
STUCK=$((STUCK + ${4#stuck=}))
[ "${5#integrity=}" = ok ] || BAD=$((BAD + 1))
UNFINISHED=${6#unfinished=}
$PY - "$(realpath "$H")/ferry.db" <<'PY'
import sqlite3, sys
c = sqlite3.connect("file:%s?mode=ro" % sys.argv[1], uri=True)
rows = c.execute("SELECT conclusion, count(*) FROM runs GROUP BY 1").fetchall()
print("conclusions:", ", ".join("%s %d" % (k, n) for k, n in rows))
rows = c.execute("SELECT attempt, count(*) FROM runs GROUP BY 1").fetchall()
print("attempts per run:", ", ".join("%d: %d runs" % (k, n) for k, n in rows))
for r in c.execute("SELECT id, attempt, conclusion, reason FROM runs "
                   "WHERE conclusion IS NOT 'success' LIMIT 10"):
    print("  not success: run %d attempt %d %s (%s)" % r)
PY
kill -TERM "$SERVE_PID" 2>/dev/null
wait "$SERVE_PID" 2>/dev/null
SERVE_PID=
TERRS=$(wc -l <"$W/trigger-errors.txt")
if [ "$TERRS" -gt 0 ]; then
    echo "trigger errors: $TERRS (first 5):"
    head -5 "$W/trigger-errors.txt" | sed 's/^/  /'
fi
SERRS=$(grep -c 'error\|cannot' "$W/serve.log")
if [ "$SERRS" -gt 0 ]; then
    echo "server errors logged: $SERRS (first 5):"
    grep 'error\|cannot' "$W/serve.log" | head -5 | sed 's/^/  /'
fi
if [ -s "$W/violations.txt" ]; then
    echo "violations (first 10):"
    head -10 "$W/violations.txt" | sed 's/^/  /'
fi
echo "crash loop: $KILLS kills, $R runs, $LOST lost, $ORPHANS orphans" \
    "($STUCK stuck, $BAD integrity failures, $UNFINISHED unfinished," \
    "$(($(date +%s) - START)) s)"
[ $((LOST + ORPHANS + STUCK + BAD + UNFINISHED)) = 0 ]
