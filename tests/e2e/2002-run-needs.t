#!/usr/bin/env bash
# ferry run: the needs DAG — order, outputs, results, failure
# propagation, if: on jobs, parallel independent jobs.
. "$(dirname "$0")/lib.sh"

plan 11

# line number of the first stdout line holding the fixed string $1
line_of() { grep -nF -m1 -- "$1" "$T/out" | cut -d: -f1; }

# before A B: the first line with A comes before the first line with B
before() {
    local a b
    a=$(line_of "$1")
    b=$(line_of "$2")
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
        { echo "want '$1' (line ${a:-none}) before '$2' (line ${b:-none})"; cat "$T/out"; return 1; }
}

R=$T/repo
mkdir -p "$R"
workflow "$R" dag.yml <<'EOF'
name: DAG
on: push
jobs:
  c:
    needs: [a, b]
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "c sees a.v=${{ needs.a.outputs.v }}"
          echo "c sees b.w=${{ needs.b.outputs.w }}"
          echo "c sees a.result=${{ needs.a.result }}"
          echo "multi=${{ needs.a.outputs.multi }}"
  a:
    runs-on: ubuntu-latest
    outputs:
      v: ${{ steps.s.outputs.v }}
      multi: ${{ steps.s.outputs.x }}-${{ steps.t.outputs.y }}
    steps:
      - run: sleep 0.3
      - id: s
        run: |
          echo "v=from-a" >> "$GITHUB_OUTPUT"
          echo "x=one" >> "$GITHUB_OUTPUT"
      - id: t
        run: echo "y=two" >> "$GITHUB_OUTPUT"
  b:
    needs: a
    runs-on: ubuntu-latest
    outputs:
      w: ${{ steps.s.outputs.w }}
    steps:
      - id: s
        run: echo "w=from-b-after-${{ needs.a.outputs.v }}" >> "$GITHUB_OUTPUT"
EOF
mkrepo "$R"

t_order() {
    run_ferry run -C "$R"
    status_is 0 &&
        before "[DAG/a] ✓ job success" "[DAG/b] ▶ job started" &&
        before "[DAG/b] ✓ job success" "[DAG/c] ▶ job started" &&
        before "[DAG/a] ✓ job success" "[DAG/c] ▶ job started"
}
ok "a job starts only after all its needs finished" t_order

t_outputs() {
    out_has "[DAG/c]   | c sees a.v=from-a" &&
        out_has "[DAG/c]   | c sees b.w=from-b-after-from-a" &&
        out_has "[DAG/c]   | multi=one-two"
}
ok "job outputs reach needs.<job>.outputs" t_outputs

t_result() {
    out_has "[DAG/c]   | c sees a.result=success"
}
ok "needs.<job>.result is success after a passing job" t_result

F=$T/fail
mkdir -p "$F"
workflow "$F" f.yml <<'EOF'
name: F
on: push
jobs:
  bad:
    runs-on: ubuntu-latest
    steps:
      - run: exit 1
  dependent:
    needs: bad
    runs-on: ubuntu-latest
    steps:
      - run: echo "dependent-ran"
  grandchild:
    needs: dependent
    runs-on: ubuntu-latest
    steps:
      - run: echo "grandchild-ran"
  always:
    needs: bad
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "always-ran result=${{ needs.bad.result }}"
  onfailure:
    needs: dependent
    if: failure()
    runs-on: ubuntu-latest
    steps:
      - run: echo "onfailure-ran"
  onsuccess:
    needs: bad
    if: success()
    runs-on: ubuntu-latest
    steps:
      - run: echo "onsuccess-ran"
  independent:
    runs-on: ubuntu-latest
    steps:
      - run: echo "independent-ran"
EOF
mkrepo "$F"

t_fail_skips() {
    run_ferry run -C "$F"
    status_is 1 &&
        out_lacks "| dependent-ran" && out_lacks "| grandchild-ran" &&
        out_matches '^\[F/dependent\] - job skipped' &&
        out_matches '^\[F/grandchild\] - job skipped' &&
        out_lacks "[F/dependent] ▶ job started"
}
ok "a failing need skips its dependents (transitively), exit 1" t_fail_skips

t_always() {
    out_has "[F/always]   | always-ran result=failure" &&
        before "[F/bad] ✗ job failure" "[F/always] ▶ job started"
}
ok "if: always() runs after a failed need and sees needs.X.result" t_always

t_failure_fn() {
    # failure() is true when any ancestor failed, not only direct needs
    out_has "[F/onfailure]   | onfailure-ran" &&
        out_lacks "| onsuccess-ran" &&
        out_matches '^\[F/onsuccess\] - job skipped'
}
ok "if: failure() runs after a failed ancestor, success() does not" \
    t_failure_fn

t_independent() {
    out_has "[F/independent]   | independent-ran" &&
        out_matches '^\[F/independent\] ✓ job success'
}
ok "a job without needs runs even when another job fails" t_independent

S=$T/skip
mkdir -p "$S"
workflow "$S" s.yml <<'EOF'
name: S
on: push
jobs:
  off:
    if: ${{ github.event_name == 'pull_request' }}
    runs-on: ubuntu-latest
    steps:
      - run: echo "off-ran"
  after-off:
    needs: off
    runs-on: ubuntu-latest
    steps:
      - run: echo "after-off-ran"
  after-off-always:
    needs: off
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "after-off-always-ran result=${{ needs.off.result }}"
  on:
    if: github.event_name == 'push'
    runs-on: ubuntu-latest
    steps:
      - run: echo "on-ran"
EOF
mkrepo "$S"

t_if_false() {
    run_ferry run -C "$S"
    status_is 0 && out_lacks "| off-ran" &&
        out_matches '^\[S/off\] - job skipped' &&
        out_lacks "[S/off] ▶ job started" && out_has "[S/on]   | on-ran"
}
ok "a job whose if: is false is skipped and the run still succeeds" \
    t_if_false

t_skipped_need() {
    out_lacks "| after-off-ran" &&
        out_matches '^\[S/after-off\] - job skipped' &&
        out_has "after-off-always-ran result=skipped"
}
ok "a skipped need skips dependents; always() sees result=skipped" \
    t_skipped_need

# Two jobs without needs each wait for a file the other creates: only a
# runner that runs them at the same time passes; a serial one times out
# (10 s guard) and fails instead of hanging.
P=$T/par
mkdir -p "$P" "$T/rendezvous"
workflow "$P" p.yml <<EOF
name: P
on: push
jobs:
  left:
    runs-on: ubuntu-latest
    steps:
      - run: |
          touch "$T/rendezvous/left"
          for i in \$(seq 100); do
            [ -e "$T/rendezvous/right" ] && { echo "left saw right"; exit 0; }
            sleep 0.1
          done
          echo "left timed out"; exit 1
  right:
    runs-on: ubuntu-latest
    steps:
      - run: |
          touch "$T/rendezvous/right"
          for i in \$(seq 100); do
            [ -e "$T/rendezvous/left" ] && { echo "right saw left"; exit 0; }
            sleep 0.1
          done
          echo "right timed out"; exit 1
EOF
mkrepo "$P"

t_parallel() {
    run_ferry run -C "$P" --slots 2
    status_is 0 && out_has "[P/left]   | left saw right" &&
        out_has "[P/right]   | right saw left"
}
ok "jobs without needs run in parallel" t_parallel

t_no_overlap() {
    # the converse: a job that needs another never overlaps it
    rm -f "$T/rendezvous/"*
    workflow "$P" p.yml <<EOF
name: P
on: push
jobs:
  left:
    runs-on: ubuntu-latest
    steps:
      - run: |
          touch "$T/rendezvous/left"; sleep 0.5
          [ ! -e "$T/rendezvous/right" ] || { echo "overlap"; exit 1; }
          rm "$T/rendezvous/left"
  right:
    needs: left
    runs-on: ubuntu-latest
    steps:
      - run: |
          [ ! -e "$T/rendezvous/left" ] || { echo "overlap"; exit 1; }
          echo "right alone"
EOF
    commit "$P" "serial pair"
    run_ferry run -C "$P"
    status_is 0 && out_has "[P/right]   | right alone" && out_lacks "| overlap"
}
ok "a job with needs does not overlap the job it needs" t_no_overlap
