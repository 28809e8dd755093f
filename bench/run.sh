#!/usr/bin/env bash
# ferry's benchmarks, each against a baseline measured in the same run:
#  1. `ferry run` of a workflow of 50 trivial steps vs a bash script that
#     starts the same 50 step shells itself (hyperfine);
#  2. expression evaluation rate vs hand-written jansson lookups;
#  3. masker throughput with 100 secrets vs a plain copy;
#  4. serve: `ferry serve`'s memory, trigger latency and throughput
#     (bench/serve_bench.sh, which writes build/bench-serve.md);
#     and GET /metrics under wrk (bench/metrics_bench.sh);
#  5. deploy: `ferry proxy` vs HAProxy under wrk (bench/proxy_bench.sh),
#     and the time a bad canary takes to leave traffic
#     (bench/rollback_bench.sh);
#  6. dora: the DORA figures over 10k deployments, 2k incidents and 10k
#     runs in SQLite vs a 200-row deployment list (bench/dora_bench.c).
# Usage: FERRY=build/ferry BENCH_BIN=build/bench bench/run.sh
#        FERRY=build/ferry bench/run.sh serve     (only section 4)
#        FERRY=build/ferry bench/run.sh deploy    (only section 5)
#        FERRY=build/ferry bench/run.sh container (only the container
#        executor's start-up vs podman run, bench/container_bench.sh)
#        FERRY=build/ferry bench/run.sh web       (the dashboard's pages:
#                                                   bench/web_bench.sh)
#        BENCH_BIN=build/bench bench/run.sh dora  (only section 6)
set -eu
if [ "${1:-}" = dora ]; then
    exec "${BENCH_BIN:?set BENCH_BIN}/dora_bench"
fi
FERRY=${FERRY:?set FERRY}
if [ "${1:-}" = serve ]; then
    "$(dirname "$0")/serve_bench.sh"
    exec "$(dirname "$0")/metrics_bench.sh"
fi
if [ "${1:-}" = web ]; then
    exec "$(dirname "$0")/web_bench.sh"
fi
if [ "${1:-}" = container ]; then
    exec "$(dirname "$0")/container_bench.sh"
fi
if [ "${1:-}" = deploy ]; then
    "$(dirname "$0")/proxy_bench.sh"
    "$(dirname "$0")/rollback_bench.sh" 5
    exit 0
fi
BENCH_BIN=${BENCH_BIN:?set BENCH_BIN}
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
W=$(mktemp -d /tmp/ferry-bench.XXXXXX)
trap 'rm -rf "$W"' EXIT

echo "== 1. 50 trivial steps: ferry run vs bash"
mkdir -p "$W/repo/.github/workflows"
{
    echo "on: push"
    echo "jobs:"
    echo "  steps50:"
    echo "    runs-on: ubuntu-latest"
    echo "    steps:"
    for i in $(seq 1 50); do
        echo "      - run: echo step $i"
        echo "        shell: bash"
    done
} >"$W/repo/.github/workflows/fifty.yml"
{
    echo "on: push"
    echo "jobs:"
    echo "  one:"
    echo "    runs-on: ubuntu-latest"
    echo "    steps:"
    echo "      - run: echo step 1"
    echo "        shell: bash"
} >"$W/repo/one.yml"
(cd "$W/repo" && git init -q -b main && git add -A &&
    git -c user.name=b -c user.email=b@b commit -qm bench)
# the baseline does the same work a runner must: one shell per step
{
    echo "#!/bin/bash"
    echo "set -e"
    for i in $(seq 1 50); do
        echo "bash --noprofile --norc -eo pipefail -c 'echo step $i'"
    done
} >"$W/fifty.sh"
chmod +x "$W/fifty.sh"
hyperfine -N --warmup 2 --runs 20 --export-json "$W/h.json" \
    -n "bash: 50 step shells" "$W/fifty.sh" \
    -n "ferry run: 1 step" "$FERRY run -C $W/repo -W $W/repo/one.yml --home $W/home" \
    -n "ferry run: 50 steps" "$FERRY run -C $W/repo -W $W/repo/.github/workflows/fifty.yml --home $W/home"
/usr/bin/python3 - "$W/h.json" <<'PY'
import json, sys
r = {x["command"]: x["mean"] for x in json.load(open(sys.argv[1]))["results"]}
bash, one, fifty = r["bash: 50 step shells"], r["ferry run: 1 step"], r["ferry run: 50 steps"]
print(f"per-step overhead of ferry over bash: {(fifty - bash) / 50 * 1000:.2f} ms "
      f"(ferry 50 steps {fifty*1000:.1f} ms, bash {bash*1000:.1f} ms)")
print(f"per-step cost inside ferry (50 steps - 1 step)/49: {(fifty - one) / 49 * 1000:.2f} ms")
PY

echo
echo "== 2. expressions"
"$BENCH_BIN/expr_bench"

echo
echo "== 3. masker"
"$BENCH_BIN/mask_bench"

echo
echo "== 4. serve"
"$(dirname "$0")/serve_bench.sh"
"$(dirname "$0")/metrics_bench.sh"

echo "== 5. deploy: ferry proxy vs HAProxy, rollback time"
"$(dirname "$0")/proxy_bench.sh"
"$(dirname "$0")/rollback_bench.sh" 5

echo
echo "== 6. dora: the figures vs a deployment list"
"$BENCH_BIN/dora_bench"
