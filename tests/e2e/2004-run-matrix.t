#!/usr/bin/env bash
# ferry run: strategy.matrix — include/exclude, matrix values in
# expressions, fail-fast, max-parallel, a matrix computed by a needed job.
. "$(dirname "$0")/lib.sh"

plan 10

PY=/usr/bin/python3

# the sorted matrix cells of the job.started events of job $1 in --json
# output, one JSON object per line
cells_of() {
    $PY -c '
import json, sys
cells = []
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("type") == "job.started" and e.get("job") == sys.argv[2]:
        cells.append(json.dumps(e.get("matrix"), sort_keys=True))
print("\n".join(sorted(cells)))
' "$T/out" "$1"
}

R=$T/repo
mkdir -p "$R"
workflow "$R" m.yml <<'EOF'
name: M
on: push
jobs:
  build:
    runs-on: ${{ matrix.os }}-latest
    strategy:
      matrix:
        os: [linux, mac]
        v: [1, 2]
        exclude:
          - os: mac
            v: 1
        include:
          - os: linux
            v: 1
            extra: yes
          - os: bsd
            v: 9
    steps:
      - run: echo "cell os=${{ matrix.os }} v=${{ matrix.v }} extra=${{ matrix.extra }} total=${{ strategy.job-total }}"
  named:
    name: Named ${{ matrix.word }}
    runs-on: ubuntu-latest
    strategy:
      matrix:
        word: [alpha, beta]
    steps:
      - run: echo "word=${{ matrix.word }} json=${{ toJSON(matrix.word) }}"
EOF
mkrepo "$R"

t_set() {
    run_ferry run -C "$R" --json
    local want got
    want='{"extra": "yes", "os": "linux", "v": 1}
{"os": "bsd", "v": 9}
{"os": "linux", "v": 2}
{"os": "mac", "v": 2}'
    got=$(cells_of build)
    status_is 0 && [ "$got" = "$want" ] ||
        { printf 'got:\n%s\nwant:\n%s\n' "$got" "$want"; return 1; }
}
ok "include/exclude combine as GitHub does (the set of cells)" t_set

t_values() {
    run_ferry run -C "$R"
    status_is 0 &&
        out_has "| cell os=linux v=1 extra=yes total=4" &&
        out_has "| cell os=linux v=2 extra= total=4" &&
        out_has "| cell os=mac v=2 extra= total=4" &&
        out_has "| cell os=bsd v=9 extra= total=4" &&
        out_lacks "| cell os=mac v=1"
}
ok "matrix values in expressions, one job per cell" t_values

t_names() {
    [ "$(grep -c '^\[M/build (.*)\] ▶ job started' "$T/out")" = 4 ] &&
        out_has "[M/Named alpha]   | word=alpha json=alpha" &&
        out_has "[M/Named beta]   | word=beta json=beta" ||
        { grep 'job started' "$T/out"; return 1; }
}
ok "job names: values appended, or the name's own expression" t_names

F=$T/ff
mkdir -p "$F"
workflow "$F" ff.yml <<'EOF'
name: FF
on: push
jobs:
  m:
    runs-on: ubuntu-latest
    strategy:
      matrix:
        cell: [bad, slow1, slow2]
    steps:
      - run: |
          if [ "${{ matrix.cell }}" = bad ]; then sleep 0.5; echo "bad fails"; exit 1; fi
          sleep 30
          echo "${{ matrix.cell }} finished"
EOF
mkrepo "$F"

t_fail_fast() {
    local t0 t1
    t0=$(date +%s)
    run_ferry run -C "$F" --slots 4
    t1=$(date +%s)
    status_is 1 && out_lacks "| slow1 finished" && out_lacks "| slow2 finished" &&
        out_matches '^\[FF/m \(bad\)\] ✗ job failure' &&
        out_matches '^\[FF/m \(slow1\)\] ⊘ job cancelled' &&
        out_matches '^\[FF/m \(slow2\)\] ⊘ job cancelled' &&
        [ $((t1 - t0)) -lt 20 ] || { echo "took $((t1 - t0)) s"; return 1; }
}
ok "fail-fast: a failing cell cancels its running siblings quickly" \
    t_fail_fast

t_fail_fast_unstarted() {
    # with one cell at a time the siblings never start: they are cancelled
    sed -i 's/^    strategy:$/    strategy:\n      max-parallel: 1/' \
        "$F/.github/workflows/ff.yml"
    commit "$F" "max-parallel 1"
    run_ferry run -C "$F" --slots 4
    status_is 1 && out_lacks "| slow1 finished" && out_lacks "| slow2 finished" &&
        out_matches '^\[FF/m \(slow1\)\] ⊘ job cancelled' &&
        out_matches '^\[FF/m \(slow2\)\] ⊘ job cancelled' &&
        out_lacks "[FF/m (slow1)] ▶ job started"
}
ok "fail-fast: siblings not started yet are cancelled" \
    t_fail_fast_unstarted

N=$T/noff
mkdir -p "$N"
workflow "$N" n.yml <<'EOF'
name: N
on: push
jobs:
  m:
    runs-on: ubuntu-latest
    strategy:
      fail-fast: false
      matrix:
        cell: [bad, ok1, ok2]
    steps:
      - run: |
          if [ "${{ matrix.cell }}" = bad ]; then exit 1; fi
          sleep 1
          echo "${{ matrix.cell }} finished"
EOF
mkrepo "$N"

t_no_fail_fast() {
    run_ferry run -C "$N" --slots 4
    status_is 1 &&
        out_has "[N/m (ok1)]   | ok1 finished" &&
        out_has "[N/m (ok2)]   | ok2 finished" &&
        out_matches '^\[N/m \(ok1\)\] ✓ job success' &&
        out_matches '^\[N/m \(bad\)\] ✗ job failure'
}
ok "fail-fast: false lets the other cells finish" t_no_fail_fast

P=$T/mp
mkdir -p "$P"
workflow "$P" p.yml <<EOF
name: P
on: push
jobs:
  m:
    runs-on: ubuntu-latest
    strategy:
      max-parallel: 1
      matrix:
        n: [1, 2, 3, 4]
    steps:
      - run: |
          mkdir "$T/mp-lock" || { echo "overlap at \${{ matrix.n }}"; exit 1; }
          sleep 0.3
          rmdir "$T/mp-lock"
          echo "cell \${{ matrix.n }} alone"
EOF
mkrepo "$P"

t_max_parallel() {
    run_ferry run -C "$P" --slots 4
    status_is 0 && out_lacks "| overlap" &&
        [ "$(grep -c '| cell [1-4] alone' "$T/out")" = 4 ] ||
        { cat "$T/out"; return 1; }
}
ok "max-parallel: 1 runs the cells one at a time" t_max_parallel

t_max_parallel_guard() {
    # the same lock with no max-parallel does see the overlap, so the
    # check above can fail
    sed -i '/max-parallel: 1/d' "$P/.github/workflows/p.yml"
    commit "$P" "no max-parallel"
    rm -rf "$T/mp-lock"
    run_ferry run -C "$P" --slots 4
    status_is 1 && out_has "| overlap"
}
ok "without max-parallel the cells do overlap (the lock detects it)" \
    t_max_parallel_guard

D=$T/dyn
mkdir -p "$D"
workflow "$D" d.yml <<'EOF'
name: D
on: push
jobs:
  gen:
    runs-on: ubuntu-latest
    outputs:
      m: ${{ steps.s.outputs.m }}
      list: ${{ steps.s.outputs.list }}
    steps:
      - id: s
        run: |
          echo 'm={"n":[10,20,30],"include":[{"n":40,"tag":"x"}]}' >> "$GITHUB_OUTPUT"
          echo 'list=["p","q"]' >> "$GITHUB_OUTPUT"
  use:
    needs: gen
    runs-on: ubuntu-latest
    strategy:
      matrix: ${{ fromJSON(needs.gen.outputs.m) }}
    steps:
      - run: echo "dyn n=${{ matrix.n }} tag=${{ matrix.tag }}"
  use2:
    needs: gen
    runs-on: ubuntu-latest
    strategy:
      matrix:
        letter: ${{ fromJSON(needs.gen.outputs.list) }}
    steps:
      - run: echo "letter=${{ matrix.letter }}"
EOF
mkrepo "$D"

t_dynamic() {
    run_ferry run -C "$D"
    status_is 0 &&
        out_has "| dyn n=10 tag=" && out_has "| dyn n=20 tag=" &&
        out_has "| dyn n=30 tag=" && out_has "| dyn n=40 tag=x" &&
        [ "$(grep -c '| dyn n=' "$T/out")" = 4 ]
}
ok "matrix: \${{ fromJSON(needs.x.outputs.m) }}" t_dynamic

t_dynamic_list() {
    out_has "| letter=p" && out_has "| letter=q" &&
        [ "$(grep -c '| letter=' "$T/out")" = 2 ]
}
ok "a matrix key from fromJSON(needs.x.outputs.list)" t_dynamic_list
