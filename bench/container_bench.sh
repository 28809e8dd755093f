#!/usr/bin/env bash
# The container executor's start-up, next to a baseline measured in the
# same run (bench/run.sh calls this as its `container` section):
#  1. container job start -> first step output: `ferry run --json` of a
#     one-step job with `container: localhost/ferry-base:latest`, from
#     the job.started event to the step's first log line (the events'
#     own time_ms), RUNS times; p50, mean and max;
#  2. the baseline: `podman run --rm localhost/ferry-base:latest true`
#     (create, start, wait, remove a container from the CLI) with
#     hyperfine, and the whole `ferry run` of that job (set-up, one
#     exec, tear-down) the same way;
# then the ratio of (1) to the baseline.  Timings only, nothing here is
# pass/fail.  ferry talks to a private `podman system service` on a
# socket in a temp dir (scripts/podman.sh), as the tests do.
# Usage: FERRY=build/ferry bench/container_bench.sh [RUNS]
set -eu
FERRY=$(realpath "${FERRY:?set FERRY}")
RUNS=${1:-10}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/.." && pwd)
PY=/usr/bin/python3
BASE=localhost/ferry-base:latest
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
command -v podman >/dev/null || { echo "bench: podman is missing (scripts/deps.sh)"; exit 2; }
W=$(mktemp -d /tmp/ferry-container-bench.XXXXXX)
PODMAN_PID=
cleanup() {
    [ -n "$PODMAN_PID" ] && "$ROOT/scripts/podman.sh" stop "$PODMAN_PID" >/dev/null 2>&1
    rm -rf "$W"
}
trap cleanup EXIT
# a copy: the build may replace the binary while this runs
cp "$FERRY" "$W/ferry"

"$ROOT/scripts/podman.sh" check >/dev/null 2>&1 ||
    { "$ROOT/scripts/podman.sh" setup >/dev/null && "$ROOT/scripts/podman.sh" base-image >/dev/null; }
PODMAN_PID=$("$ROOT/scripts/podman.sh" start "$W/podman.sock")
export DOCKER_HOST=unix://$W/podman.sock

mkdir -p "$W/repo/.github/workflows"
cat >"$W/repo/.github/workflows/one.yml" <<EOF
on: push
jobs:
  one:
    runs-on: ubuntu-latest
    container: $BASE
    steps:
      - run: echo first-output
EOF
(cd "$W/repo" && git init -q -b main && git add -A &&
    git -c user.name=b -c user.email=b@b commit -qm bench)

echo "== container: job start -> first step output ($RUNS runs of ferry run --json)"
: >"$W/lat"
for i in $(seq 1 "$RUNS"); do
    "$W/ferry" run --json -C "$W/repo" --home "$W/home" >"$W/ev.$i" 2>"$W/err.$i" ||
        { echo "bench: ferry run failed:"; cat "$W/ev.$i" "$W/err.$i"; exit 1; }
    $PY - "$W/ev.$i" >>"$W/lat" <<'PY'
import json, sys
start = first = None
for line in open(sys.argv[1]):
    e = json.loads(line)
    if e["type"] == "job.started" and start is None:
        start = e["time_ms"]
    if e["type"] == "log" and e.get("step", -1) >= 0 and "first-output" in e.get("line", ""):
        first = e["time_ms"]
        break
if start is None or first is None:
    sys.exit("bench: no job.started or first output in the events")
print(first - start)
PY
done

hyperfine -N --warmup 1 --runs "$RUNS" --export-json "$W/h.json" \
    -n "podman run --rm base true" "podman run --rm $BASE true" \
    -n "ferry run (1 container step)" "$W/ferry run -C $W/repo --home $W/home" >&2

$PY - "$W/lat" "$W/h.json" <<'PY'
import json, statistics, sys
lat = [int(x) for x in open(sys.argv[1]) if x.strip()]
r = {x["command"]: x["mean"] * 1000 for x in json.load(open(sys.argv[2]))["results"]}
podman = r["podman run --rm base true"]
ferry = r["ferry run (1 container step)"]
p50 = statistics.median(lat)
print(f"job start -> first step output: p50 {p50:.0f} ms, mean {statistics.mean(lat):.0f} ms, "
      f"max {max(lat)} ms ({len(lat)} runs)")
print(f"baseline podman run --rm {'localhost/ferry-base:latest'} true: mean {podman:.0f} ms")
print(f"ferry run of the whole job (set-up, 1 step, tear-down): mean {ferry:.0f} ms")
print(f"ratio (first output p50 / podman run): {p50 / podman:.2f}")
PY
