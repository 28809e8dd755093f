#!/usr/bin/env bash
# ferry run: regressions of the engine review — the step kill timer, Ctrl-C
# and always(), per-workflow inputs, job-level status of skipped needs,
# bounds, -l on deep graphs, non-UTF-8 env, run ids under one --home,
# checkout path '.', env as an expression, the tool cache, secret outputs,
# concurrency groups with fail-fast.
. "$(dirname "$0")/lib.sh"

plan 16

PY=/usr/bin/python3

# unique sleep arguments (a fraction nobody else uses) so pgrep -f finds
# only what this test started
U=$$$RANDOM
U=${U:0:9}

alive() { pgrep -f "^$1\$" || true; }

# reap PATTERN...: kill (by pid) whatever a failed test left behind
reap() {
    local p pid
    for p in "$@"; do
        for pid in $(alive "$p"); do kill -KILL "$pid" 2>/dev/null; done
    done
}

# check 'PYTHON': a snippet with `ev` = the JSON events of $T/out
check() {
    $PY - "$T/out" "$1" <<'EOF'
import json, sys
ev = []
for n, l in enumerate(open(sys.argv[1]), 1):
    try:
        ev.append(json.loads(l))
    except ValueError as e:
        print("line %d is not JSON (%s): %r" % (n, e, l))
        sys.exit(1)
def fail(msg):
    print(msg)
    for e in ev:
        print(json.dumps(e, sort_keys=True))
    sys.exit(1)
exec(sys.argv[2])
EOF
}

# any_has TEXT: stdout or stderr has TEXT
any_has() {
    grep -qF -- "$1" "$T/out" "$T/err" ||
        { echo "neither stdout nor stderr has: $1"; cat "$T/out" "$T/err"; return 1; }
}

# wait_out FILE TEXT: wait up to 10 s for TEXT in FILE
wait_out() {
    local i
    for i in $(seq 100); do
        grep -qF -- "$2" "$1" && return 0
        sleep 0.1
    done
    return 1
}

# wait_exit PID SECONDS: wait for PID to end; its status in $T/status
wait_exit() {
    local i
    for i in $(seq $(($2 * 10))); do
        kill -0 "$1" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$1" 2>/dev/null; then
        echo "ferry still running after $2 s"
        kill -KILL "$1"
        wait "$1" 2>/dev/null
        return 1
    fi
    wait "$1"
    echo $? >"$T/status"
}

# 1. the 5 s SIGKILL grace of a timed-out step must not hit the next step
K=$T/killtimer
mkdir -p "$K"
workflow "$K" k.yml <<EOF
name: K
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - name: times out
        timeout-minutes: 0.02
        continue-on-error: true
        run: sleep 30.$U
      - name: outlives the grace
        run: |
          echo start
          sleep 7.$U
          echo survived
EOF
mkrepo "$K"

t_kill_timer() {
    timeout 40 "$FERRY" run -C "$K" >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
    status_is 0 && out_has "[K/j]   | start" && out_has "[K/j]   | survived" &&
        out_matches '^\[K/j\] ✓ outlives the grace \(success'
}
ok "the kill timer of a timed-out step spares the next step" t_kill_timer

# 2. Ctrl-C: always() steps run to the end; a second Ctrl-C aborts them
I=$T/int
mkdir -p "$I"
workflow "$I" i.yml <<EOF
name: INT
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "int-marker"
          sleep 31.$U
      - name: cleanup
        if: always()
        run: |
          echo "cleanup-begins"
          sleep 6.$U
          echo "cleanup-done"
      - name: cleanup two
        if: always()
        run: echo "cleanup2-ran"
  after:
    needs: j
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "after-ran"
EOF
mkrepo "$I"

t_int_always() {
    local pid
    env --default-signal=INT "$FERRY" run -C "$I" >"$T/out" 2>"$T/err" &
    pid=$!
    _pids+=("$pid")
    wait_out "$T/out" "| int-marker" ||
        { echo "the step never started"; cat "$T/out" "$T/err"; kill -KILL "$pid"; return 1; }
    sleep 0.3
    kill -INT "$pid"
    wait_exit "$pid" 25 || { reap "sleep 31.$U" "sleep 6.$U"; cat "$T/out"; return 1; }
    status_is 1 && out_has "[INT/j]   | cleanup-begins" &&
        out_has "[INT/j]   | cleanup-done"
}
ok "Ctrl-C: an if: always() step after the cancelled one completes" \
    t_int_always

t_int_twice() {
    local pid t0 t1
    env --default-signal=INT "$FERRY" run -C "$I" >"$T/out" 2>"$T/err" &
    pid=$!
    _pids+=("$pid")
    wait_out "$T/out" "| int-marker" ||
        { echo "the step never started"; cat "$T/out" "$T/err"; kill -KILL "$pid"; return 1; }
    sleep 0.3
    t0=$(date +%s)
    kill -INT "$pid"
    sleep 1
    kill -INT "$pid" 2>/dev/null
    wait_exit "$pid" 15 || { reap "sleep 31.$U" "sleep 6.$U"; cat "$T/out"; return 1; }
    t1=$(date +%s)
    status_is 1 && out_lacks "| cleanup-done" && out_lacks "| cleanup2-ran" &&
        out_lacks "| after-ran" &&
        { [ $((t1 - t0)) -lt 15 ] || { echo "took $((t1 - t0)) s"; return 1; }; }
}
ok "a second Ctrl-C aborts: no always() step or job runs any more" \
    t_int_twice

# 3. workflow_dispatch: each workflow sees only its own inputs
D=$T/dispatch
mkdir -p "$D"
workflow "$D" a.yml <<'EOF'
name: A
on:
  workflow_dispatch:
    inputs:
      who:
        type: string
        default: from-a
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - env:
          IN: ${{ toJSON(github.event.inputs) }}
        run: echo "a-inputs $(printf %s "$IN" | tr -d ' \n')"
EOF
workflow "$D" b.yml <<'EOF'
name: B
on:
  workflow_dispatch:
    inputs:
      n:
        type: number
        default: 3
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - env:
          IN: ${{ toJSON(github.event.inputs) }}
        run: echo "b-inputs $(printf %s "$IN" | tr -d ' \n')"
EOF
mkrepo "$D"

t_inputs_own() {
    run_ferry run workflow_dispatch -C "$D"
    status_is 0 && out_has '[A/j]   | a-inputs {"who":"from-a"}' &&
        out_matches '^\[B/j\]   \| b-inputs \{"n":"?3"?\}$'
}
ok "workflow_dispatch: each workflow's github.event.inputs are its own" \
    t_inputs_own

# 4. jobs.<id>.if with a skipped need
S=$T/skipneed
mkdir -p "$S"
workflow "$S" s.yml <<'EOF'
name: S
on: push
jobs:
  a:
    if: false
    runs-on: ubuntu-latest
    steps:
      - run: echo a-ran
  b:
    needs: a
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    steps:
      - run: echo b-ran
  c:
    needs: a
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo c-ran
  d:
    needs: a
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo d-ran
EOF
mkrepo "$S"

t_skipped_need() {
    run_ferry run -C "$S"
    status_is 0 && out_has "[S/b] - job skipped" && out_lacks "| b-ran" &&
        out_has "[S/c]   | c-ran" && out_matches '^\[S/c\] ✓ job success' &&
        out_has "[S/d] - job skipped" && out_lacks "| d-ran"
}
ok "a skipped need: implicit success() and failure() false, always() runs" \
    t_skipped_need

# 5. bounds: timeout-minutes, number inputs
B=$T/bounds
mkdir -p "$B"
workflow "$B" b.yml <<'EOF'
name: BIG
on: push
jobs:
  huge:
    runs-on: ubuntu-latest
    timeout-minutes: 1e300
    steps:
      - run: echo huge-ran
EOF
mkrepo "$B"
N=$T/numinput
mkdir -p "$N"
workflow "$N" n.yml <<'EOF'
name: NUM
on:
  workflow_dispatch:
    inputs:
      n:
        type: number
        default: 3
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "n=${{ inputs.n }}"
EOF
mkrepo "$N"

t_timeout_bound() {
    run_ferry run -C "$B"
    status_is 1 && out_matches '^\[BIG/huge\] ✗ job failure' &&
        any_has "at most" &&
        out_lacks "exceeded its timeout"
}
ok "timeout-minutes: 1e300 fails the job with 'at most', no timeout fired" \
    t_timeout_bound

t_input_nan() {
    run_ferry run workflow_dispatch -C "$N" --input n=nan
    status_is 2 && err_has "must be a number" && out_lacks "| n="
}
ok "--input n=nan for a number input exits 2" t_input_nan

# 6. ferry run -l on a deep graph is linear
L=$T/list
mkdir -p "$L"
{
    echo "name: L"
    echo "on: push"
    echo "jobs:"
    for s in $(seq 0 29); do
        for k in a b; do
            echo "  j${s}$k:"
            echo "    runs-on: ubuntu-latest"
            [ "$s" -gt 0 ] && echo "    needs: [j$((s - 1))a, j$((s - 1))b]"
            echo "    steps:"
            echo "      - run: echo x"
        done
    done
} | workflow "$L" l.yml
mkrepo "$L"

t_list_deep() {
    timeout -s KILL 10 "$FERRY" run -l -C "$L" >"$T/out" 2>"$T/err"
    echo $? >"$T/status"
    status_is 0 && out_matches '^29 +j29a ' && out_matches '^29 +j29b '
}
ok "run -l: 30 layers of 2 jobs needing both of the previous in < 10 s" \
    t_list_deep

# 7. non-UTF-8 bytes in the environment
E=$T/bytes
mkdir -p "$E"
workflow "$E" e.yml <<'EOF'
name: E
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "bytes:$(printf %s "$MYV" | od -An -tx1)"
EOF
mkrepo "$E"

t_env_bytes() {
    MYV=$(printf 'a\xffb') run_ferry run -C "$E"
    status_is 0 && out_has "bytes: 61 ff 62"
}
ok "a step environment keeps non-UTF-8 bytes" t_env_bytes

# 8. two runs at once sharing --home see their own artifacts
H=$T/home
A=$T/art
mkdir -p "$A"
workflow "$A" a.yml <<'EOF'
name: ART
on: push
jobs:
  up:
    runs-on: ubuntu-latest
    steps:
      - run: |
          mkdir -p out
          m="mark-$$-$RANDOM"
          echo "$m" > out/m.txt
          echo "made $m"
      - uses: actions/upload-artifact@v4
        with:
          name: mine
          path: out/
  down:
    needs: up
    runs-on: ubuntu-latest
    steps:
      - run: sleep 1
      - uses: actions/download-artifact@v4
        with:
          name: mine
          path: got
      - run: echo "got $(cat got/m.txt)"
EOF
mkrepo "$A"

# same_marker OUT: the run of OUT got back the marker it made
same_marker() {
    local made got
    made=$(sed -n 's/^\[ART\/up\]   | made //p' "$1")
    got=$(sed -n 's/^\[ART\/down\]   | got //p' "$1")
    [ -n "$made" ] && [ "$made" = "$got" ] ||
        { echo "$1: made '$made', got '$got'"; cat "$1"; return 1; }
}

t_home_runs() {
    local p1 p2 s1 s2
    "$FERRY" run -C "$A" --home "$H" >"$T/o1" 2>"$T/e1" &
    p1=$!
    _pids+=("$p1")
    "$FERRY" run -C "$A" --home "$H" >"$T/o2" 2>"$T/e2" &
    p2=$!
    _pids+=("$p2")
    wait_exit "$p1" 30 || return 1
    s1=$(cat "$T/status")
    wait_exit "$p2" 30 || return 1
    s2=$(cat "$T/status")
    [ "$s1" = 0 ] && [ "$s2" = 0 ] ||
        { echo "status $s1 and $s2"; cat "$T/o1" "$T/e1" "$T/o2" "$T/e2"; return 1; }
    same_marker "$T/o1" && same_marker "$T/o2" &&
        [ "$(sed -n 's/^\[ART\/up\]   | made //p' "$T/o1")" != \
          "$(sed -n 's/^\[ART\/up\]   | made //p' "$T/o2")" ]
}
ok "two runs at once with one --home each download their own artifact" \
    t_home_runs

# 9. checkout with path '.'
C=$T/checkout
mkdir -p "$C"
echo "repo readme" >"$C/README"
workflow "$C" c.yml <<'EOF'
name: CO
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo fresh > new.txt
      - uses: actions/checkout@v4
        with: {path: .}
      - run: echo "new.txt holds $(cat new.txt), readme $(cat README)"
EOF
mkrepo "$C"

t_checkout_dot() {
    run_ferry run -C "$C"
    status_is 0 &&
        out_matches '^\[CO/j\] ✓ Run actions/checkout@v4 \(success' &&
        out_has "[CO/j]   | new.txt holds fresh, readme repo readme"
}
ok "checkout with path '.' keeps what is in the workspace" t_checkout_dot

# 10. workflow env as an expression
V=$T/envexpr
mkdir -p "$V"
workflow "$V" v.yml <<'EOF'
name: V
on: push
env: ${{ fromJSON('{"A":"1","B":"two"}') }}
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: echo "A=$A B=$B"
EOF
mkrepo "$V"

t_env_expr() {
    run_ferry run -C "$V"
    status_is 0 && out_has "[V/j]   | A=1 B=two"
}
ok "workflow env: \${{ fromJSON(...) }} gives the step A and B" t_env_expr

# 11. the tool cache
TC=$T/toolcache
mkdir -p "$TC"
workflow "$TC" t.yml <<'EOF'
name: TC
on: push
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: |
          [ -d "$RUNNER_TOOL_CACHE" ] && echo "tool cache is a directory"
          [ -n "$RUNNER_TOOL_CACHE" ] &&
            [ "$RUNNER_TOOL_CACHE" = "${{ runner.tool_cache }}" ] &&
            echo "tool cache matches runner.tool_cache"
EOF
mkrepo "$TC"

t_tool_cache() {
    run_ferry run -C "$TC"
    status_is 0 && out_has "| tool cache is a directory" &&
        out_has "| tool cache matches runner.tool_cache"
}
ok "RUNNER_TOOL_CACHE is a directory and equals runner.tool_cache" \
    t_tool_cache

# 12. a secret in a job output is dropped
SO=$T/secretout
mkdir -p "$SO"
workflow "$SO" s.yml <<'EOF'
name: SO
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    outputs:
      tok: ${{ secrets.T }}
      plain: visible
    steps:
      - run: echo a-ran
  b:
    needs: a
    runs-on: ubuntu-latest
    steps:
      - run: echo "b sees [${{ needs.a.outputs.tok }}] [${{ needs.a.outputs.plain }}]"
EOF
mkrepo "$SO"

t_secret_output() {
    run_ferry run -C "$SO" --json -s "T=sek-$U"
    status_is 0 && any_has "skip output 'tok'" &&
        { ! grep -F "sek-$U" "$T/out" "$T/err" || { echo "the secret shows"; return 1; }; } &&
        check "
a = [e for e in ev if e['type'] == 'job.finished' and e['job'] == 'a']
if len(a) != 1: fail('job a finished %d times' % len(a))
if 'tok' in a[0].get('outputs', {}): fail('tok in the outputs of a')
if a[0].get('outputs', {}).get('plain') != 'visible': fail('plain output lost')
lines = [e.get('line') for e in ev if e['type'] == 'log']
if 'b sees [] [visible]' not in lines: fail('b line: %r' % lines)
"
}
ok "a job output holding a secret is skipped with a warning, never shown" \
    t_secret_output

# 13. fail-fast with a concurrency group shared by every cell: the
# cancelled pending cell must leave the group, or the next job to wait in
# it (q, behind p) cancels that cell a second time
G=$T/group
mkdir -p "$G"
workflow "$G" g.yml <<'EOF'
name: G
on: push
jobs:
  m:
    runs-on: ubuntu-latest
    concurrency: g
    strategy:
      fail-fast: true
      matrix:
        n: [1, 2]
    steps:
      - run: |
          if [ "${{ matrix.n }}" = 1 ]; then echo "cell 1 fails"; exit 1; fi
          echo "cell ${{ matrix.n }} runs"
  p:
    needs: m
    if: always()
    runs-on: ubuntu-latest
    concurrency: g
    steps:
      - run: echo "p-ran"
  q:
    needs: m
    if: always()
    runs-on: ubuntu-latest
    concurrency: g
    steps:
      - run: echo "q-ran"
EOF
mkrepo "$G"

t_group_fail_fast() {
    run_ferry run -C "$G" --json
    status_is 1 && check "
fin = [(e.get('job'), json.dumps(e.get('matrix'), sort_keys=True))
       for e in ev if e['type'] == 'job.finished']
if len(fin) != len(set(fin)): fail('a job finished twice: %r' % fin)
if len(fin) != 4: fail('want 4 job.finished, got %r' % fin)
lines = [e.get('line') for e in ev if e['type'] == 'log']
if 'p-ran' not in lines or 'q-ran' not in lines: fail('p or q did not run')
"
}
ok "fail-fast in a concurrency group: each cell finishes exactly once" \
    t_group_fail_fast

# the step timeouts and Ctrl-C runs left nothing behind
t_no_leftovers() {
    local left
    sleep 0.5
    left="$(alive "sleep 30.$U")$(alive "sleep 7.$U")$(alive "sleep 31.$U")$(alive "sleep 6.$U")"
    reap "sleep 30.$U" "sleep 7.$U" "sleep 31.$U" "sleep 6.$U"
    [ -z "$left" ] || { echo "left running: $left"; return 1; }
}
ok "no process this test started is left running" t_no_leftovers
