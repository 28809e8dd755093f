#!/usr/bin/env bash
# ferry run: processes — nothing a job started survives it (background,
# setsid, nohup), step and job timeout-minutes, SIGINT cancels the run,
# background processes live across steps of their job.
. "$(dirname "$0")/lib.sh"

plan 10

# unique sleep arguments (seconds with a fraction nobody else uses) so
# pgrep -f finds only what this test started
U=$$$RANDOM
U=${U:0:9}

# alive PATTERN: pids of processes whose command line is exactly PATTERN
alive() { pgrep -f "^$1\$" || true; }

# reap PATTERN...: kill (by pid) whatever a failed test left behind
reap() {
    local p
    for p in "$@"; do
        for pid in $(alive "$p"); do kill -KILL "$pid" 2>/dev/null; done
    done
}

# none_alive PATTERN...: no such process exists (a short grace for the
# kernel to finish a kill)
none_alive() {
    local p i left
    for i in $(seq 20); do
        left=""
        for p in "$@"; do left="$left$(alive "$p")"; done
        [ -z "$left" ] && return 0
        sleep 0.1
    done
    for p in "$@"; do
        [ -z "$(alive "$p")" ] || { echo "still running: $p"; ps -o pid,ppid,pgid,sid,args -p "$(alive "$p" | tr '\n' ',' | sed 's/,$//')"; }
    done
    reap "$@"
    return 1
}

R=$T/repo
mkdir -p "$R"
workflow "$R" bg.yml <<EOF
name: BG
on: push
jobs:
  leave:
    runs-on: ubuntu-latest
    steps:
      - name: start background processes
        run: |
          sleep 1001.$U &
          setsid sleep 1002.$U &
          nohup sleep 1003.$U >/dev/null 2>&1 &
          ( sleep 1004.$U & ) &
          setsid sh -c 'sleep 1005.$U & exit 0' &
          sleep 0.2
          echo "started"
EOF
mkrepo "$R"

t_no_survivors() {
    timeout 30 "$FERRY" run -C "$R" >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
    status_is 0 && out_has "| started" &&
        none_alive "sleep 1001.$U" "sleep 1002.$U" "sleep 1003.$U" \
            "sleep 1004.$U" "sleep 1005.$U"
}
ok "background, setsid, nohup and double-forked processes die with ferry" \
    t_no_survivors

t_prompt() {
    # ferry did not wait for the background processes to end
    local t0 t1
    t0=$(date +%s)
    timeout 30 "$FERRY" run -C "$R" >"$T/out" 2>"$T/err"
    t1=$(date +%s)
    none_alive "sleep 1001.$U" "sleep 1002.$U" "sleep 1003.$U" \
        "sleep 1004.$U" "sleep 1005.$U" && [ $((t1 - t0)) -lt 15 ] ||
        { echo "took $((t1 - t0)) s"; return 1; }
}
ok "a job with background processes still ends promptly" t_prompt

A=$T/across
mkdir -p "$A"
workflow "$A" a.yml <<EOF
name: A
on: push
jobs:
  first:
    runs-on: ubuntu-latest
    steps:
      - run: |
          sleep 1006.$U &
          echo \$! > "\$RUNNER_TEMP/bg.pid"
      - run: |
          if kill -0 "\$(cat "\$RUNNER_TEMP/bg.pid")"; then echo "bg alive in step 2"; fi
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: |
          if pgrep -f "^sleep 1006.$U\\\$" >/dev/null; then echo "bg still alive after job"; else echo "bg gone after job"; fi
EOF
mkrepo "$A"

t_across_steps() {
    timeout 30 "$FERRY" run -C "$A" >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
    status_is 0 && out_has "[A/first]   | bg alive in step 2"
}
ok "a background process of step 1 is alive in step 2" t_across_steps

t_gone_after_job() {
    out_has "[A/second]   | bg gone after job" &&
        none_alive "sleep 1006.$U"
}
ok "... and gone once its job finished" t_gone_after_job

S=$T/timeout
mkdir -p "$S"
workflow "$S" t.yml <<EOF
name: TO
on: push
jobs:
  step-timeout:
    runs-on: ubuntu-latest
    steps:
      - name: slow step
        timeout-minutes: 0.02
        run: |
          echo "slow step begins"
          sleep 100.$U
          echo "slow step ended"
      - name: normal next
        run: echo "normal next ran"
      - name: cleanup
        if: always()
        run: echo "cleanup ran"
  job-timeout:
    runs-on: ubuntu-latest
    timeout-minutes: 0.03
    steps:
      - run: |
          echo "job sleeps"
          sleep 101.$U
          echo "job woke"
EOF
mkrepo "$S"

t_step_timeout() {
    local t0 t1
    t0=$(date +%s)
    timeout 60 "$FERRY" run -C "$S" >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
    t1=$(date +%s)
    echo "$((t1 - t0))" >"$T/took"
    status_is 1 && out_has "| slow step begins" &&
        out_lacks "| slow step ended" &&
        out_matches '^\[TO/step-timeout\] ✗ slow step \(failure' &&
        out_has "timeout-minutes" && none_alive "sleep 100.$U" &&
        [ $((t1 - t0)) -lt 20 ] || { echo "took $((t1 - t0)) s"; return 1; }
}
ok "step timeout-minutes: 0.02 kills a sleeping step and fails it" \
    t_step_timeout

t_step_timeout_always() {
    out_has "[TO/step-timeout]   | cleanup ran" &&
        out_has "[TO/step-timeout] - normal next (skipped)" &&
        out_lacks "| normal next ran" &&
        out_matches '^\[TO/step-timeout\] ✗ job failure'
}
ok "after a step timeout, if: always() steps still run" \
    t_step_timeout_always

t_job_timeout() {
    out_has "[TO/job-timeout]   | job sleeps" && out_lacks "| job woke" &&
        out_matches '^\[TO/job-timeout\] ✗ job failure' &&
        out_has "the job exceeded its timeout-minutes" &&
        none_alive "sleep 101.$U"
}
ok "job timeout-minutes: 0.03 ends the job as failed" t_job_timeout

# SIGINT while a step sleeps: ferry cancels the run and exits 1
I=$T/int
mkdir -p "$I"
workflow "$I" i.yml <<EOF
name: INT
on: push
jobs:
  sleeper:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "sleeping now"
          sleep 102.$U &
          sleep 103.$U
          echo "woke up"
      - run: echo "second step ran"
  later:
    needs: sleeper
    runs-on: ubuntu-latest
    steps:
      - run: echo "later ran"
EOF
mkrepo "$I"

t_sigint() {
    local pid i t0 t1 st
    # a background job of a script ignores SIGINT; give ferry the default
    env --default-signal=INT "$FERRY" run -C "$I" >"$T/out" 2>"$T/err" &
    pid=$!
    _pids+=("$pid")
    for i in $(seq 100); do
        grep -qF "| sleeping now" "$T/out" && break
        sleep 0.1
    done
    grep -qF "| sleeping now" "$T/out" || { echo "the step never started"; cat "$T/out" "$T/err"; return 1; }
    sleep 0.3
    t0=$(date +%s)
    kill -INT "$pid"
    for i in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    t1=$(date +%s)
    if kill -0 "$pid" 2>/dev/null; then
        echo "ferry still running $((t1 - t0)) s after SIGINT"
        kill -KILL "$pid"
        reap "sleep 102.$U" "sleep 103.$U"
        return 1
    fi
    wait "$pid"
    st=$?
    echo "$st" >"$T/status"
    status_is 1 && out_lacks "| woke up" && out_lacks "| second step ran" &&
        out_lacks "| later ran" &&
        out_matches '^\[INT/sleeper\] ⊘ job cancelled' &&
        none_alive "sleep 102.$U" "sleep 103.$U"
}
ok "SIGINT during a step: ferry exits 1 promptly, the job is cancelled" \
    t_sigint

t_sigint_dependents() {
    out_lacks "[INT/later] ▶ job started" && out_matches '^\[INT/later\] '
}
ok "after SIGINT the dependent job does not start (reported, not run)" \
    t_sigint_dependents

t_sigterm() {
    local pid i
    "$FERRY" run -C "$I" >"$T/out" 2>"$T/err" &
    pid=$!
    _pids+=("$pid")
    for i in $(seq 100); do
        grep -qF "| sleeping now" "$T/out" && break
        sleep 0.1
    done
    sleep 0.3
    kill -TERM "$pid"
    for i in $(seq 150); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "ferry still running after SIGTERM"
        kill -KILL "$pid"
        reap "sleep 102.$U" "sleep 103.$U"
        return 1
    fi
    wait "$pid"
    echo $? >"$T/status"
    status_is 1 && out_matches '^\[INT/sleeper\] ⊘ job cancelled' &&
        none_alive "sleep 102.$U" "sleep 103.$U"
}
ok "SIGTERM cancels the same way" t_sigterm
