#!/usr/bin/env bash
# GET /metrics: the Prometheus text format (0.0.4) with ferry's metrics,
# counted from real runs (three that pass, one that fails), checked by
# promtool, then scraped by a real Prometheus (every second, with a viewer
# token) and queried through its HTTP API.
. "$(dirname "$0")/lib.sh"
plan 20

command -v prometheus >/dev/null && command -v promtool >/dev/null || {
    echo "Bail out! prometheus and promtool are needed (ENVIRONMENT.md §5)"
    exit 1
}

mkdir -p "$T/src"
workflow "$T/src" ok.yml <<'YML'
on: workflow_dispatch
jobs:
  pass:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 0.2; echo passed
YML
workflow "$T/src" bad.yml <<'YML'
on: workflow_dispatch
jobs:
  fail:
    runs-on: ubuntu-latest
    steps:
      - run: echo failing; exit 3
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
serve_start >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
VIEWER=$(api POST /api/v1/tokens -d '{"role":"viewer","name":"prometheus"}' | jget token)
[ -n "$VIEWER" ] && [ "$VIEWER" != null ] || { echo "Bail out! no viewer token"; exit 1; }

dispatch() { # FILE -> run id
    api POST "/api/v1/repos/app/workflows/$1/dispatches" -d '{}' | jget runs.0.id
}
RUNS=()
for f in ok.yml ok.yml bad.yml ok.yml; do RUNS+=("$(dispatch "$f")"); done
for r in "${RUNS[@]}"; do wait_run "$r" >>"$T/conclusions"; done
ok "the runs ended as planned (3 success, 1 failure)" \
    bash -c "[ \"\$(sort '$T/conclusions' | uniq -c | tr -s ' ' | tr '\n' ';')\" = ' 1 failure; 3 success;' ] || { cat '$T/conclusions'; exit 1; }"

# scrape FILE: GET /metrics as the viewer; body in FILE, headers in FILE.hdr
scrape() {
    curl -sS -o "$1" -D "$1.hdr" -w '%{http_code}' \
        -H "Authorization: Bearer $VIEWER" "$URL/metrics" >"$1.code"
}
scrape "$T/m1"

# mval FILE NAME [k=v,...]: the sum of NAME's samples whose labels include
# all of k=v (label values unescaped); "none" when no sample matches.  The
# parser takes only what the format allows and fails on anything else.
mval() {
    /usr/bin/python3 - "$@" <<'PY'
import re, sys
path, name = sys.argv[1], sys.argv[2]
want = dict(kv.split("=", 1) for kv in sys.argv[3].split(",")) if len(sys.argv) > 3 and sys.argv[3] else {}
sample = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$')
label = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)')
total, hits = 0.0, 0
for line in open(path, encoding="utf-8"):
    line = line.rstrip("\n")
    if line.startswith("#"):
        continue
    m = sample.match(line)
    if not m:
        sys.exit("not a sample line: %r" % line)
    labels, rest = {}, m.group(2) or ""
    while rest:
        lm = label.match(rest)
        if not lm:
            sys.exit("bad labels: %r" % line)
        labels[lm.group(1)] = re.sub(r'\\(.)', lambda e: "\n" if e.group(1) == "n" else e.group(1), lm.group(2))
        rest = rest[lm.end():]
    if m.group(1) == name and all(labels.get(k) == v for k, v in want.items()):
        total += float(m.group(3))
        hits += 1
print(("%g" % total) if hits else "none")
PY
}
# is FILE NAME LABELS WANT: mval equals WANT
is() {
    local got
    got=$(mval "$1" "$2" "${3:-}") || { echo "$got"; return 1; }
    [ "$got" = "$4" ] || { echo "$2{$3} = $got, want $4"; grep "^$2" "$1"; return 1; }
}
export -f mval is

ok "GET /metrics answers 200 to a viewer token" \
    bash -c "[ \"\$(cat '$T/m1.code')\" = 200 ] || { cat '$T/m1.code' '$T/m1'; exit 1; }"
ok "Content-Type is text/plain; version=0.0.4" \
    bash -c "grep -qiE '^content-type: text/plain; *version=0\.0\.4' '$T/m1.hdr' || { cat '$T/m1.hdr'; exit 1; }"
ok "promtool finds nothing wrong with the exposition" \
    bash -c "promtool check metrics <'$T/m1'"
ok "every line is a comment or a sample" mval "$T/m1" ferry_runs_total

# every metric of the contract (src/metrics/prom.h) with its type
types_ok() {
    local f=$1 bad=0 nt
    for nt in ferry_runs_total:counter ferry_jobs_total:counter \
        ferry_run_duration_seconds:histogram ferry_queue_wait_seconds:histogram \
        ferry_job_duration_seconds:histogram ferry_deployments_total:counter \
        ferry_rollbacks_total:counter ferry_incidents_open:gauge \
        ferry_approvals_pending:gauge ferry_webhook_deliveries_total:counter \
        ferry_runs_queued:gauge ferry_agents:gauge ferry_build_info:gauge; do
        grep -qxF "# TYPE ${nt%%:*} ${nt#*:}" "$f" || { echo "no '# TYPE ${nt%%:*} ${nt#*:}'"; bad=1; }
        grep -q "^# HELP ${nt%%:*} ." "$f" || { echo "no HELP for ${nt%%:*}"; bad=1; }
    done
    return $bad
}
ok "every ferry metric has its HELP and TYPE" types_ok "$T/m1"
ok "ferry_runs_total counts 3 successful runs of app" is "$T/m1" ferry_runs_total repo=app,conclusion=success 3
ok "ferry_runs_total counts 1 failed run of app" is "$T/m1" ferry_runs_total repo=app,conclusion=failure 1
ok "ferry_runs_total carries the workflow label" \
    bash -c "grep -qE '^ferry_runs_total\{[^}]*workflow=\"[^\"]+\"' '$T/m1' || { grep ferry_runs_total '$T/m1'; exit 1; }"
ok "ferry_jobs_total counts the jobs by conclusion" \
    bash -c "is '$T/m1' ferry_jobs_total conclusion=success 3 && is '$T/m1' ferry_jobs_total conclusion=failure 1"

# histogram_ok FILE NAME LABELS COUNT: cumulative buckets ending in +Inf =
# _count = COUNT
histogram_ok() {
    /usr/bin/python3 - "$@" <<'PY'
import re, sys
path, name, sel, count = sys.argv[1], sys.argv[2], sys.argv[3], float(sys.argv[4])
buckets, got = [], {}
for line in open(path):
    m = re.match(r'^(%s_(?:bucket|sum|count))(?:\{(.*)\})? (\S+)$' % name, line)
    if not m or (sel and sel not in (m.group(2) or "")):
        continue
    if m.group(1).endswith("_bucket"):
        le = re.search(r'le="([^"]+)"', m.group(2)).group(1)
        buckets.append((float(le), float(m.group(3))))
    else:
        got[m.group(1)[len(name) + 1:]] = float(m.group(3))
assert buckets, "no buckets"
assert buckets == sorted(buckets), "buckets out of order: %r" % buckets
assert all(a[1] <= b[1] for a, b in zip(buckets, buckets[1:])), "not cumulative: %r" % buckets
assert buckets[-1][0] == float("inf"), "no +Inf bucket"
assert buckets[-1][1] == got["count"] == count, (buckets[-1], got, count)
print("sum", got["sum"])
PY
}
export -f histogram_ok
ok "ferry_run_duration_seconds{repo=app}: 4 runs, cumulative buckets" \
    histogram_ok "$T/m1" ferry_run_duration_seconds 'repo="app"' 4
ok "the runs' durations add up to at least the 3 x 0.2 s of sleep" \
    bash -c "s=\$(mval '$T/m1' ferry_run_duration_seconds_sum repo=app); /usr/bin/python3 -c \"import sys; sys.exit(0 if 0.6 <= float('\$s') < 300 else 1)\" || { echo \"sum \$s\"; exit 1; }"
ok "ferry_job_duration_seconds and ferry_queue_wait_seconds saw the 4 jobs" \
    bash -c "histogram_ok '$T/m1' ferry_job_duration_seconds '' 4 && histogram_ok '$T/m1' ferry_queue_wait_seconds '' 4"
ok "ferry_build_info is 1 with a version, nothing is queued" \
    bash -c "grep -qE '^ferry_build_info\{version=\"[^\"]+\"\} 1$' '$T/m1' && is '$T/m1' ferry_runs_queued '' 0 && is '$T/m1' ferry_agents '' 0 || { grep -E '^ferry_(build_info|runs_queued|agents)' '$T/m1'; exit 1; }"

# ---------- a real Prometheus scraping ferry ----------
PPORT=$(/usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
PROM=http://127.0.0.1:$PPORT
mkdir -p "$T/prom"
cat >"$T/prom/prometheus.yml" <<YML
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: ferry
    metrics_path: /metrics
    authorization: {credentials: '$VIEWER'}
    static_configs: [{targets: ['${URL#http://}']}]
YML
ok "promtool accepts the Prometheus configuration" promtool check config "$T/prom/prometheus.yml"
setsid prometheus --config.file="$T/prom/prometheus.yml" --storage.tsdb.path="$T/prom/data" \
    --web.listen-address="127.0.0.1:$PPORT" >"$T/prom/log" 2>&1 &
_pids+=($!)

# pq QUERY: the instant query's result list as JSON (empty on error)
pq() {
    curl -sS -G "$PROM/api/v1/query" --data-urlencode "query=$1" |
        /usr/bin/python3 -c 'import json, sys; d = json.load(sys.stdin); print(json.dumps(d["data"]["result"]) if d.get("status") == "success" else "")' 2>/dev/null
}
# pq_scalar QUERY: the single value of QUERY's result, or "none"
pq_scalar() {
    pq "$1" | /usr/bin/python3 -c 'import json, sys; r = json.loads(sys.stdin.read() or "[]"); print(r[0]["value"][1] if len(r) == 1 else "none")'
}
# until_eq QUERY WANT [SECS]: poll until the query's value is WANT
until_eq() {
    local i v
    for i in $(seq 1 $((${3:-20} * 4))); do
        v=$(pq_scalar "$1")
        [ "$v" = "$2" ] && return 0
        sleep 0.25
    done
    echo "$1 = $v, want $2"
    curl -sS "$PROM/api/v1/targets" | head -c 2000
    echo
    tail -5 "$T/prom/log"
    return 1
}
export -f pq pq_scalar until_eq
export PROM

ok "Prometheus scrapes ferry with the viewer token (up == 1)" until_eq 'up{job="ferry"}' 1 30
# when ferry cannot be scraped, the checks below fail fast
W=20
[ "$(pq_scalar 'up{job="ferry"}')" = 1 ] || W=1
ok "Prometheus: sum(ferry_runs_total) is the number of runs" until_eq 'sum(ferry_runs_total)' 4 $W
ok "Prometheus: the failed run is counted as a failure" \
    until_eq 'sum(ferry_runs_total{repo="app",conclusion="failure"})' 1 $W
ok "Prometheus: histogram_quantile over ferry_run_duration_seconds_bucket is a number" \
    bash -c "v=\$(pq_scalar 'histogram_quantile(0.5, sum by (le) (ferry_run_duration_seconds_bucket))'); /usr/bin/python3 -c \"import math, sys; v = float('\$v'); sys.exit(0 if math.isfinite(v) and v > 0 else 1)\" || { echo \"quantile: \$v\"; exit 1; }"
R=$(dispatch ok.yml)
wait_run "$R" >/dev/null
ok "Prometheus sees a new run within a few scrapes" until_eq 'sum(ferry_runs_total)' 5 $W
