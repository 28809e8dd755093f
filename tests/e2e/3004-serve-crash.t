#!/usr/bin/env bash
# ferry serve: crash safety.  kill -9 the server while jobs run; the next
# start kills every process of the lost attempts (even those that ignore
# SIGTERM or left the session), queues those runs again as attempt 2,
# keeps queued runs queued, loses no run and no log line a client already
# saw.  Then five kills at random moments with runs in flight, and the
# same invariants.
. "$(dirname "$0")/lib.sh"

plan 21

# a copy: every attempt execs the server's binary again, and a rebuild
# while this runs would fail those attempts
cp "$FERRY" "$T/ferry" && FERRY=$T/ferry

# unique sleep arguments (seconds with a fraction nobody else uses) so
# pgrep -f finds only what this test started
U=$$$RANDOM
U=${U:0:9}

# alive PATTERN: pids of live processes whose command line is PATTERN
# (a zombie has no command line: it is dead, only not reaped yet)
alive() { pgrep -f "^$1\$" || true; }

# pid_alive PID: the process exists and is not a zombie
pid_alive() {
    local st
    st=$(sed -n 's/^.*) \(.\).*$/\1/p' "/proc/$1/stat" 2>/dev/null)
    [ -n "$st" ] && [ "$st" != Z ]
}

# reap PATTERN...: kill (by pid) whatever a failed test left behind
reap() {
    local p pid
    for p in "$@"; do
        for pid in $(alive "$p"); do kill -KILL "$pid" 2>/dev/null; done
    done
}

# none_alive SECS PATTERN...: within SECS no such process is left
none_alive() {
    local secs=$1 p i left
    shift
    for i in $(seq $((secs * 10))); do
        left=""
        for p in "$@"; do left="$left$(alive "$p")"; done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    for p in "$@"; do
        [ -z "$(alive "$p")" ] ||
            { echo "still running: $p"; ps -o pid,ppid,stat,args -p "$(alive "$p" | paste -sd,)"; }
    done
    reap "$@"
    return 1
}

# wait_for SECS CMD...: until CMD succeeds
wait_for() {
    local end=$((SECONDS + $1))
    shift
    until "$@"; do
        [ "$SECONDS" -lt "$end" ] || { echo "timeout waiting for: $*"; return 1; }
        sleep 0.05
    done
}

# dispatch FILE: queue a run of workflow FILE; prints its id
dispatch() {
    api POST "/api/v1/repos/app/workflows/$1/dispatches" \
        -d '{"ref":"main"}' | jget runs.0.id
}

# run_field ID KEY: one field of run ID
run_field() { api GET "/api/v1/runs/$1" | jget "$2"; }

# field_is ID KEY VALUE: run ID's KEY is VALUE
field_is() {
    local v
    v=$(run_field "$1" "$2")
    [ "$v" = "$3" ] || { echo "run $1: $2 is $v, want $3"; return 1; }
}

# completes_as ID ATTEMPT: run ID completes with success as attempt ATTEMPT
completes_as() {
    local c
    c=$(wait_run "$1" 30)
    [ "$c" = success ] || { echo "run $1: $c ($(run_field "$1" reason))"; return 1; }
    field_is "$1" attempt "$2"
}

# restart: start the server again on the same home, same token; two
# runs at a time (and two job slots), so a third run stays queued
RUNS=()
"$FERRY" serve --runs x 2>&1 | grep -q "unknown option" || RUNS=(--runs 2)
restart() { serve_start --slots 2 "${RUNS[@]}"; }

mkdir -p "$T/src"
# attempt 1 ignores SIGTERM (so does every child: the ignore is inherited)
# and holds a child and an escaped process; attempt 2 is fast
workflow "$T/src" hold.yml <<EOF
on: workflow_dispatch
jobs:
  hold:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "hold attempt \${{ github.run_attempt }}"
          echo "\$\$" >"$T/marker.\${{ github.run_id }}.\${{ github.run_attempt }}"
          if [ "\${{ github.run_attempt }}" = 1 ]; then
            trap '' TERM
            setsid sleep 31.$U &
            echo "hold before sleep"
            sleep 30.$U
          fi
          echo "hold done"
EOF
# attempt 1 does not ignore SIGTERM: the worker's own cancel may win
workflow "$T/src" plain.yml <<EOF
on: workflow_dispatch
jobs:
  plain:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "plain attempt \${{ github.run_attempt }}"
          echo "\$\$" >"$T/marker.\${{ github.run_id }}.\${{ github.run_attempt }}"
          if [ "\${{ github.run_attempt }}" = 1 ]; then
            setsid sleep 33.$U &
            sleep 32.$U
          fi
EOF
workflow "$T/src" quick.yml <<'EOF'
on: workflow_dispatch
jobs:
  quick:
    runs-on: ubuntu-latest
    steps:
      - run: echo "quick attempt ${{ github.run_attempt }}"
EOF
# the random-kill loop: every attempt leaves an escaped process and takes
# a moment; the end of the attempt or the next start must kill it
workflow "$T/src" loop.yml <<EOF
on: workflow_dispatch
jobs:
  loop:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "loop attempt \${{ github.run_attempt }}"
          setsid sleep 34.$U &
          sleep 0.4
EOF
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"

ok "the server starts with two slots" restart
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
ok "the repository is added" grep -qx 201 "$T/http_status"

R1=$(dispatch hold.yml)
R2=$(dispatch plain.yml)
R3=$(dispatch quick.yml)
held() {
    [ -s "$T/marker.$R1.1" ] && [ -s "$T/marker.$R2.1" ] &&
        [ -n "$(alive "sleep 30.$U")" ] && [ -n "$(alive "sleep 31.$U")" ] &&
        [ -n "$(alive "sleep 32.$U")" ] && [ -n "$(alive "sleep 33.$U")" ] &&
        api GET "/api/v1/runs/$R1/logs" | grep -q "hold before sleep"
}
ok "two runs hold their slots, their processes are running" wait_for 15 held
ok "the third run is queued, not started" field_is "$R3" status queued
# what clients saw before the crash: the text log and the live stream
api GET "/api/v1/runs/$R1/logs" >"$T/seen.txt"
curl -sN --max-time 2 -H "Authorization: Bearer $TOKEN" \
    -H 'Accept: text/event-stream' "$URL/api/v1/runs/$R1/logs" >"$T/seen.sse"
PIDS="$(cat "$T/marker.$R1.1") $(cat "$T/marker.$R2.1") $(alive "sleep 30.$U") $(alive "sleep 31.$U") $(alive "sleep 32.$U") $(alive "sleep 33.$U")"
WORKERS=$(pgrep -P "$SERVE_PID" | paste -sd' ')
ok "the live stream had the lines" grep -q '"text":"hold before sleep"' "$T/seen.sse"

# kill9_restart: kill -9 the server (checked: it was `ferry serve` and
# it is gone) and start it again
kill9_restart() {
    local old=$SERVE_PID
    tr '\0' ' ' <"/proc/$old/cmdline" | grep -q ' serve ' ||
        { echo "pid $old is not ferry serve"; return 1; }
    serve_kill9
    ! pid_alive "$old" || { echo "pid $old survived kill -9"; return 1; }
    restart
}
ok "kill -9 the server while two runs hold their slots; it starts again" \
    kill9_restart
ok "no process of the lost attempts is left (children, setsid, SIGTERM-ignoring)" \
    none_alive 2 "sleep 30.$U" "sleep 31.$U" "sleep 32.$U" "sleep 33.$U"
gone() {
    local p
    for p in $PIDS $WORKERS; do
        ! pid_alive "$p" || { echo "pid $p is alive: $(tr '\0' ' ' <"/proc/$p/cmdline")"; return 1; }
    done
}
ok "the step shells and workers of the lost attempts are gone" wait_for 2 gone
# the dying worker (SIGTERM by PDEATHSIG) cancels its jobs itself: on a
# slow restart (ASan, a loaded machine) its SIGKILL after the grace can
# come before recovery, which then finds nothing left to kill (killed=0);
# either way recovery went over the attempt and nothing survived (above)
ok "recovery went over the attempt that ignored SIGTERM" \
    grep -qE "recovered run=$R1 attempt=1 killed=[0-9]+" "$T/serve.log"
ok "the held run completes as attempt 2" completes_as "$R1" 2
ok "the other running run completes as attempt 2" completes_as "$R2" 2
ok "the queued run ran once, as attempt 1" completes_as "$R3" 1
fast_path() {
    api GET "/api/v1/runs/$R1/logs" >"$T/a2.txt"
    grep -q 'hold attempt 2' "$T/a2.txt" && grep -q 'hold done' "$T/a2.txt" ||
        { cat "$T/a2.txt"; return 1; }
}
ok "attempt 2 ran the fast path" fast_path
api GET "/api/v1/runs/$R1/jobs?attempt=1" >"$T/jobs1.json"
J1=$(jget jobs.0.id <"$T/jobs1.json")
job1_kept() {
    [ "$(jget jobs.0.job_id <"$T/jobs1.json")" = hold ] &&
        [ "$(jget jobs.0.status <"$T/jobs1.json")" = completed ] ||
        { cat "$T/jobs1.json"; return 1; }
}
ok "attempt 1 keeps its job, completed" job1_kept
api GET "/api/v1/jobs/$J1/logs" >"$T/after.txt"
lines_kept() {
    grep -q "hold before sleep" "$T/seen.txt" || { echo "nothing seen"; return 1; }
    # the run's log prefixes each line with "[job name] "
    sed 's/^\[hold\] //' "$T/seen.txt" >"$T/seen.job"
    ! grep -vxFf "$T/after.txt" "$T/seen.job" || { echo "lost (above)"; return 1; }
}
ok "every log line the API returned before the kill is still returned" lines_kept
sse_kept() {
    local n=0 text
    while IFS= read -r text; do
        n=$((n + 1))
        grep -qF -- "$text" "$T/home/logs/$R1/1.log" || { echo "lost: $text"; return 1; }
    done < <(sed -n 's/^data: .*"text":"\(.*\)"}$/\1/p' "$T/seen.sse")
    [ "$n" -ge 2 ]
}
ok "every line the live stream sent before the kill is in attempt 1's log file" sse_kept

# ---------- five kills at random moments ----------
IDS="$R1 $R2 $R3"
for k in 1 2 3 4 5; do
    for j in 1 2; do
        id=$(dispatch loop.yml)
        case $id in '' | null | *[!0-9]*) ;; *) IDS="$IDS $id" ;; esac
    done
    d=$((RANDOM % 1501))
    sleep "$((d / 1000)).$(printf %03d $((d % 1000)))"
    serve_kill9
    restart >/dev/null || break
done
echo "# runs: $IDS"
healthy() { [ "$(curl -s "$URL/healthz" | jget status)" = ok ]; }
ok "the server is up after five random kills" healthy
# runs_are WHAT: with one API call, every run in $IDS is there and
# completed (WHAT=completed), or also succeeded (WHAT=success); and the
# server has no run left unfinished
runs_are() {
    api GET "/api/v1/runs?limit=200" | /usr/bin/python3 -c '
import json, sys
want = [int(x) for x in sys.argv[2].split()]
runs = {r["id"]: r for r in json.load(sys.stdin)["runs"]}
bad = []
for i in want:
    r = runs.get(i)
    if r is None:
        bad.append("run %d is missing" % i)
    elif r["status"] != "completed":
        bad.append("run %d is %s" % (i, r["status"]))
    elif sys.argv[1] == "success" and r["conclusion"] != "success":
        bad.append("run %d: %s (%s)" % (i, r["conclusion"], r["reason"]))
bad += ["run %d is %s" % (i, r["status"]) for i, r in runs.items()
        if i not in want and r["status"] != "completed"]
print("\n".join(bad))
sys.exit(1 if bad else 0)' "$1" "$IDS"
}
ok "every run created before a kill exists and completes" \
    wait_for 30 runs_are completed
ok "every run succeeded, none is left unfinished" runs_are success
ok "no process any attempt started is left" none_alive 2 "sleep 34.$U" \
    "sleep 30.$U" "sleep 31.$U" "sleep 32.$U" "sleep 33.$U"
integrity() {
    /usr/bin/python3 -c '
import sqlite3, sys
db = sqlite3.connect("file:" + sys.argv[1] + "?mode=ro", uri=True)
r = db.execute("PRAGMA integrity_check").fetchall()
print(r)
sys.exit(0 if r == [("ok",)] else 1)' "$T/home/ferry.db"
}
ok "the store passes sqlite's integrity check" integrity
serve_stop
exit $_failed
