#!/usr/bin/env bash
# ferry run: concurrency groups — jobs of one group never overlap; a
# newer pending job replaces an older pending one; cancel-in-progress
# cancels the running job; workflow-level concurrency.
. "$(dirname "$0")/lib.sh"

plan 7

# a step body: take the lock LOCK (a directory; failing if held), hold
# it for SECS, release it, print "NAME alone"
locked() {
    cat <<EOF
          mkdir "$T/$1" || { echo "overlap in $2"; exit 1; }
          sleep $3
          rmdir "$T/$1"
          echo "$2 alone"
EOF
}

R=$T/repo
mkdir -p "$R"
workflow "$R" g.yml <<EOF
name: G
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    concurrency:
      group: shared-\${{ github.ref }}
    steps:
      - run: |
$(locked lock-g one 0.6)
  two:
    runs-on: ubuntu-latest
    concurrency: shared-\${{ github.ref }}
    steps:
      - run: |
$(locked lock-g two 0.6)
EOF
mkrepo "$R"

t_no_overlap() {
    run_ferry run -C "$R" --slots 4
    status_is 0 && out_has "[G/one]   | one alone" &&
        out_has "[G/two]   | two alone" && out_lacks "| overlap"
}
ok "two jobs of one concurrency group never overlap (both run)" \
    t_no_overlap

t_guard() {
    # the same jobs without concurrency overlap: the lock can catch it
    sed -i '/concurrency/d; /group: shared/d' "$R/.github/workflows/g.yml"
    commit "$R" "no concurrency"
    rm -rf "$T/lock-g"
    run_ferry run -C "$R" --slots 4
    status_is 1 && out_has "| overlap in"
}
ok "without a group the same jobs do overlap (the lock detects it)" \
    t_guard

# three jobs: the first runs, the second waits, the third replaces the
# waiting second (GitHub keeps one pending job per group)
P=$T/pending
mkdir -p "$P"
workflow "$P" p.yml <<EOF
name: P
on: push
jobs:
  first:
    runs-on: ubuntu-latest
    concurrency: grp
    steps:
      - run: |
$(locked lock-p first 3.5)
  second:
    runs-on: ubuntu-latest
    needs: gate1
    concurrency: grp
    steps:
      - run: echo "second ran"
  third:
    runs-on: ubuntu-latest
    needs: gate2
    concurrency: grp
    steps:
      - run: echo "third ran"
  gate1:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 0.3
  gate2:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 1.3
EOF
mkrepo "$P"

t_pending_replaced() {
    run_ferry run -C "$P" --slots 4
    out_has "[P/first]   | first alone" && out_has "[P/third]   | third ran" &&
        out_lacks "| second ran" &&
        out_matches '^\[P/second\] ⊘ job cancelled'
}
ok "a newer job replaces the pending one of its group (cancelled)" \
    t_pending_replaced

C=$T/cancel
mkdir -p "$C"
workflow "$C" c.yml <<'EOF'
name: C
on: push
jobs:
  old:
    runs-on: ubuntu-latest
    concurrency:
      group: deploy
      cancel-in-progress: true
    steps:
      - run: |
          echo "old started"
          sleep 30
          echo "old done"
  gate:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 1
  new:
    needs: gate
    runs-on: ubuntu-latest
    concurrency:
      group: deploy
      cancel-in-progress: true
    steps:
      - run: echo "new ran"
EOF
mkrepo "$C"

t_cancel_in_progress() {
    local t0 t1
    t0=$(date +%s)
    run_ferry run -C "$C" --slots 4
    t1=$(date +%s)
    out_has "[C/old]   | old started" && out_lacks "| old done" &&
        out_matches '^\[C/old\] ⊘ job cancelled' &&
        out_has "[C/new]   | new ran" &&
        out_matches '^\[C/new\] ✓ job success' &&
        [ $((t1 - t0)) -lt 20 ] || { echo "took $((t1 - t0)) s"; return 1; }
}
ok "cancel-in-progress: true cancels the running job of the group" \
    t_cancel_in_progress

t_cancel_order() {
    local a b
    a=$(grep -nE -m1 '^\[C/old\] ⊘ job cancelled' "$T/out" | cut -d: -f1)
    b=$(grep -nF -m1 '[C/new] ▶ job started' "$T/out" | cut -d: -f1)
    [ -n "$a" ] && [ -n "$b" ] && [ "$a" -lt "$b" ] ||
        { echo "old cancelled at line ${a:-none}, new started at ${b:-none}"; return 1; }
}
ok "the new job starts only after the cancelled one ended" t_cancel_order

t_cancel_status() {
    # a cancelled job means the run did not succeed
    status_is 1 && out_matches '^run (cancelled|failure)'
}
ok "a run with a cancelled job exits 1" t_cancel_status

W=$T/wflevel
mkdir -p "$W"
for n in alpha beta; do
    workflow "$W" "$n.yml" <<EOF
name: $n
on: push
concurrency: whole-workflow
jobs:
  j:
    runs-on: ubuntu-latest
    steps:
      - run: |
$(locked lock-w "$n" 0.6)
EOF
done
mkrepo "$W"

t_workflow_level() {
    run_ferry run -C "$W" --slots 4
    status_is 0 && out_has "| alpha alone" && out_has "| beta alone" &&
        out_lacks "| overlap"
}
ok "workflow-level concurrency: two workflows of one group never overlap" \
    t_workflow_level
