#!/usr/bin/env bash
# ferry serve's benchmarks, each next to a baseline measured in the same
# run (bench/run.sh calls this as its `serve` section):
#  1. memory of `ferry serve` idle after 50 jobs (smaps_rollup: Rss and
#     Private_Dirty) vs bench/link_baseline.c, a program linked with the
#     same libraries that only initialises them and waits;
#  2. trigger -> first command of the job: from just before the dispatch
#     request is sent to the CLOCK_REALTIME stamp `date +%s%N` records as
#     the job's first command (p50/p99 of 50 dispatches, one at a time,
#     the server idle each time) vs `bash -c 'date +%s%N'` measured the
#     same way (from just before the fork to its stamp);
#  3. throughput: 500 jobs of `true` end to end, durable (counted when
#     the run is completed in the store): one run of 2 jobs x 250 matrix
#     cells, and 500 dispatches of a one-job workflow, vs
#     `seq 500 | xargs -P2 -n1 true` (hyperfine), with the server's own
#     CPU time per job (its utime+stime, not its workers');
#  4. start-up of the binary (`ferry --version`: every attempt's worker
#     is a fresh `ferry __run`) vs link_baseline --exit (the same
#     libraries, nothing else) and `true` (hyperfine -N).
# Timings only: nothing here is pass/fail.  Prints a Markdown table and
# writes it to BENCH_OUT (default: bench-serve.md beside $FERRY).
# Usage: FERRY=build/ferry bench/serve_bench.sh
set -eu
FERRY=$(realpath "${FERRY:?set FERRY}")
OUT=${BENCH_OUT:-$(dirname "$FERRY")/bench-serve.md}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
PKGS="yaml-0.1 jansson libgit2 openssl sqlite3 libmicrohttpd"
command -v hyperfine >/dev/null || { echo "bench: hyperfine is missing (apt-get install hyperfine)"; exit 2; }
W=$(mktemp -d /tmp/ferry-serve-bench.XXXXXX)
SERVE_PID=
BASE_PID=
cleanup() {
    [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    [ -n "$BASE_PID" ] && kill -KILL "$BASE_PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
# a copy: the build may replace the binary while this runs
cp "$FERRY" "$W/ferry"
FERRY=$W/ferry

# ---------- the baseline program ----------
# the same libraries, the same way the Makefile links ferry
${CC:-cc} -std=c11 -D_GNU_SOURCE -O2 -g $(pkg-config --cflags $PKGS) \
    "$HERE/link_baseline.c" -o "$W/link_baseline" \
    $(pkg-config --libs $PKGS) -lm -ldl

# ---------- the repository ----------
mkdir -p "$W/src/.github/workflows" "$W/marks"
cat >"$W/src/.github/workflows/one.yml" <<'EOF'
on: workflow_dispatch
jobs:
  one:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
EOF
cat >"$W/src/.github/workflows/mark.yml" <<EOF
on: workflow_dispatch
jobs:
  mark:
    runs-on: ubuntu-latest
    steps:
      - run: date +%s%N >"$W/marks/\${{ github.run_id }}"
EOF
{
    echo "on: workflow_dispatch"
    echo "jobs:"
    for j in a b; do
        echo "  $j:"
        echo "    runs-on: ubuntu-latest"
        echo "    strategy:"
        echo "      matrix:"
        echo "        i: [$(seq -s, 1 250)]"
        echo "    steps:"
        echo "      - run: \"true\""
    done
} >"$W/src/.github/workflows/matrix.yml"
(cd "$W/src" && git init -q -b main . && git add -A &&
    git -c user.name=b -c user.email=b@b commit -qm bench)
git clone -q --bare "$W/src" "$W/app.git"

# ---------- the server ----------
setsid "$FERRY" serve --home "$W/home" --listen 127.0.0.1:0 --init \
    >"$W/serve.out" 2>"$W/serve.log" &
SERVE_PID=$!
for i in $(seq 1 200); do
    grep -q '^ferry serve: listening on ' "$W/serve.out" && break
    sleep 0.05
done
URL=$(sed -n 's/^ferry serve: listening on //p' "$W/serve.out")
TOKEN=$(sed -n 's/^admin token: //p' "$W/serve.out")
[ -n "$URL" ] || { cat "$W/serve.log"; echo "bench: ferry serve did not start"; exit 1; }
curl -sf -o /dev/null -H "Authorization: Bearer $TOKEN" \
    -d "{\"name\":\"app\",\"url\":\"$W/app.git\"}" "$URL/api/v1/repos"

# ---------- the driver ----------
cat >"$W/drive.py" <<'PY'
import concurrent.futures, http.client, json, os, sqlite3, subprocess
import sys, time, urllib.parse

W, URL, TOKEN, PID, BASE = sys.argv[1:6]
PID = int(PID)
u = urllib.parse.urlsplit(URL)
res = {}

def post(path, body):
    c = http.client.HTTPConnection(u.hostname, u.port, timeout=120)
    c.request("POST", path, json.dumps(body),
              {"Authorization": "Bearer " + TOKEN,
               "Content-Type": "application/json"})
    r = c.getresponse()
    data = r.read()
    c.close()
    if r.status != 201:
        sys.exit("dispatch: HTTP %d %s" % (r.status, data[:200]))
    return json.loads(data)["runs"][0]["id"]

def dispatch(wf):
    return post("/api/v1/repos/app/workflows/%s/dispatches" % wf,
                {"ref": "main"})

db = sqlite3.connect("file:%s/home/ferry.db?mode=ro" % W, uri=True,
                     timeout=30)

def completed(ids):
    q = ("SELECT count(*) FROM runs WHERE status = 'completed' AND id IN (%s)"
         % ",".join(str(i) for i in ids))
    return db.execute(q).fetchone()[0]

def wait_done(ids, poll=0.002):
    while completed(ids) < len(ids):
        time.sleep(poll)
    return time.time()

def check_success(ids):
    q = ("SELECT count(*) FROM runs WHERE conclusion = 'success' AND id IN "
         "(%s)" % ",".join(str(i) for i in ids))
    n = db.execute(q).fetchone()[0]
    if n != len(ids):
        sys.exit("bench: %d of %d runs did not succeed" % (len(ids) - n,
                                                          len(ids)))

def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return f.read().split()
    except OSError:
        return []

def wait_idle():
    while db.execute("SELECT count(*) FROM runs WHERE status != 'completed'"
                     ).fetchone()[0] or len(children(PID)) > 1:
        # the server keeps one idle spare worker: one child is idle
        time.sleep(0.01)
    time.sleep(1.0)

def mem(pid):
    v = {}
    with open("/proc/%d/smaps_rollup" % pid) as f:
        for line in f:
            k, _, rest = line.partition(":")
            if k in ("Rss", "Private_Dirty"):
                v[k] = int(rest.split()[0])
    return v

def cpu_s(pid):
    # utime + stime of the process itself (not its children)
    with open("/proc/%d/stat" % pid) as f:
        s = f.read()
    v = s[s.rindex(")") + 2:].split()
    return (int(v[11]) + int(v[12])) / os.sysconf("SC_CLK_TCK")

def pct(v, p):
    # nearest rank: of 50 samples, p99 is the largest
    s = sorted(v)
    k = max(1, -(-len(s) * p // 100))
    return s[k - 1]

jobs_done = 0
wait_idle()
res["mem_start"] = mem(PID)

# 1. memory idle after 50 jobs
ids = [dispatch("one.yml") for _ in range(50)]
wait_done(ids)
check_success(ids)
jobs_done += 50
wait_idle()
res["mem_50"] = mem(PID)
b = subprocess.Popen([BASE, W], stdout=subprocess.PIPE)
b.stdout.readline()
time.sleep(0.5)
res["mem_base"] = mem(b.pid)
b.kill()
b.wait()

# 2. trigger -> first command
lat = []
ans = []
for _ in range(50):
    t0 = time.time_ns()
    rid = dispatch("mark.yml")
    ans.append((time.time_ns() - t0) / 1e6)
    mark = os.path.join(W, "marks", str(rid))
    while True:
        try:
            with open(mark) as f:
                s = f.read().strip()
            if s:
                break
        except OSError:
            pass
        time.sleep(0.0005)
    lat.append((int(s) - t0) / 1e6)
    wait_done([rid])
    jobs_done += 1
base = []
for _ in range(50):
    t0 = time.time_ns()
    out = subprocess.run(["bash", "-c", "date +%s%N"], capture_output=True,
                         text=True).stdout
    base.append((int(out) - t0) / 1e6)
res["lat"] = [pct(lat, 50), pct(lat, 99), pct(ans, 50)]
res["lat_base"] = [pct(base, 50), pct(base, 99)]

# 3a. one run, 2 jobs x 250 cells
wait_idle()
c0 = cpu_s(PID)
t0 = time.time()
rid = dispatch("matrix.yml")
t1 = wait_done([rid], 0.005)
check_success([rid])
n = db.execute("SELECT count(*) FROM jobs WHERE run_id = ? AND "
               "conclusion = 'success'", (rid,)).fetchone()[0]
if n != 500:
    sys.exit("bench: the matrix run has %d successful jobs, want 500" % n)
jobs_done += 500
res["matrix"] = [t1 - t0, 500 / (t1 - t0), (cpu_s(PID) - c0) / 500 * 1000]

# 3b. 500 dispatches of a one-job workflow (4 requests in flight)
wait_idle()
c0 = cpu_s(PID)
t0 = time.time()
with concurrent.futures.ThreadPoolExecutor(4) as ex:
    ids = list(ex.map(lambda _: dispatch("one.yml"), range(500)))
td = time.time()
t1 = wait_done(ids, 0.005)
check_success(ids)
jobs_done += 500
res["dispatch"] = [t1 - t0, 500 / (t1 - t0), td - t0,
                   (cpu_s(PID) - c0) / 500 * 1000]

wait_idle()
res["mem_end"] = mem(PID)
res["jobs_done"] = jobs_done
json.dump(res, sys.stdout)
PY

echo "serve bench: running (about a minute)..." >&2
$PY "$W/drive.py" "$W" "$URL" "$TOKEN" "$SERVE_PID" "$W/link_baseline" >"$W/res.json"

hyperfine --warmup 2 --runs 10 --export-json "$W/xargs.json" \
    -n "seq 500 | xargs -P2 -n1 true" "seq 500 | xargs -P2 -n1 true" >&2
hyperfine -N --warmup 3 --runs 50 --export-json "$W/start.json" \
    -n ferry "$FERRY --version" -n libs "$W/link_baseline --exit" \
    -n true true >&2

$PY - "$W/res.json" "$W/xargs.json" "$W/start.json" "$OUT" "$(nproc)" "$(uname -r)" <<'PY'
import json, sys, time
r = json.load(open(sys.argv[1]))
x = json.load(open(sys.argv[2]))["results"][0]
st = {v["command"]: v for v in json.load(open(sys.argv[3]))["results"]}
out, ncpu, kernel = sys.argv[4], sys.argv[5], sys.argv[6]
ms = lambda v: "%.1f ms ± %.1f" % (v["mean"] * 1000, v["stddev"] * 1000)
mib = lambda kb: "%.1f MiB" % (kb / 1024)
def m(v):
    return "RSS %s, private dirty %s" % (mib(v["Rss"]),
                                          mib(v["Private_Dirty"]))
xr = 500 / x["mean"]
rows = [
    ("`ferry serve` idle after 50 jobs of `true` (smaps_rollup)",
     m(r["mem_50"]) + "; goal: RSS < 9.5 MiB, private dirty ≤ 2.5 MiB",
     "a program linked with the same libraries, only initialising them "
     "(`bench/link_baseline.c`): " + m(r["mem_base"])),
    ("`ferry serve` idle at start, no job yet", m(r["mem_start"]), "—"),
    ("`ferry serve` idle after all %d jobs of this bench" % r["jobs_done"],
     m(r["mem_end"]), "—"),
    ("trigger → first command of the job (dispatch request sent → "
     "`date +%s%N` in the step), 50 dispatches one at a time",
     "p50 %.1f ms, p99 %.1f ms (the dispatch answer alone: p50 %.1f ms)"
     % tuple(r["lat"]),
     "`bash -c 'date +%%s%%N'`, from before the fork to its stamp: "
     "p50 %.2f ms, p99 %.2f ms" % tuple(r["lat_base"])),
    ("500 jobs of `true` as one run (2 jobs × 250 matrix cells), "
     "until completed in the store",
     "%.0f jobs/s (%.2f s; server CPU %.2f ms/job)" % (
         r["matrix"][1], r["matrix"][0], r["matrix"][2]),
     "`seq 500 \\| xargs -P2 -n1 true` (hyperfine): %.0f jobs/s "
     "(%.1f ms ± %.1f)" % (xr, x["mean"] * 1000, x["stddev"] * 1000)),
    ("500 jobs of `true` as 500 dispatches of a one-job workflow "
     "(4 requests in flight), until all are completed in the store",
     "%.0f jobs/s (%.2f s, of which the 500 dispatch answers %.2f s; "
     "server CPU %.2f ms/job)" % (r["dispatch"][1], r["dispatch"][0],
                                  r["dispatch"][2], r["dispatch"][3]),
     "the same: %.0f jobs/s" % xr),
    ("start-up of the binary every attempt's worker runs "
     "(`ferry --version`, hyperfine -N, 50 runs)", ms(st["ferry"]),
     "`link_baseline --exit` (the same libraries, no code): %s; `true`: %s"
     % (ms(st["libs"]), ms(st["true"]))),
]
lines = ["Figures from one run on %s cores, Linux %s, %s; `ferry serve` "
         "with its default slots (one per core)." % (
             ncpu, kernel, time.strftime("%Y-%m-%d")),
         "", "| what | ferry | baseline (same run) |", "|---|---|---|"]
lines += ["| %s | %s | %s |" % row for row in rows]
text = "\n".join(lines) + "\n"
open(out, "w").write(text)
print(text, end="")
print("(written to %s)" % out)
PY
