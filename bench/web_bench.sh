#!/usr/bin/env bash
# The dashboard's pages under wrk (-t1, keep-alive, a signed session
# cookie) with RUNS runs in the store: the runs list (/runs), one run's
# page (its job graph drawn from the workflow file, steps, reports) and
# its log page, and GET /metrics (whose DORA gauges read the store), next
# to two baselines measured on the same server in the
# same run: GET /healthz (the HTTP stack alone) and GET /api/v1/runs (the
# same page of runs as JSON, with a bearer token).  The goal is p99 < 10
# ms for the pages and /metrics.  Timings only: nothing here is pass/fail.
#
# The store is filled by a small C program linked with libferry.a (the
# store API itself: store_run_create/start, jobs and steps, finish), so
# the rows are what a server writes; it runs while the server is stopped.
# Usage: FERRY=build/ferry bench/web_bench.sh   (LIBFERRY defaults to
#        the libferry.a beside FERRY)
# Knobs: RUNS (default 10000), CONNS (default 4), SECS (default 10).
set -eu
FERRY=$(realpath "${FERRY:?set FERRY}")
LIBFERRY=$(realpath "${LIBFERRY:-$(dirname "$FERRY")/libferry.a}")
RUNS=${RUNS:-10000}
CONNS=${CONNS:-4}
SECS=${SECS:-10}
PY=/usr/bin/python3
ROOT=$(cd "$(dirname "$0")/.." && pwd)
command -v wrk >/dev/null || { echo "bench: wrk is missing (apt-get install wrk)"; exit 2; }
[ -f "$LIBFERRY" ] || { echo "bench: no $LIBFERRY (make builds it)"; exit 2; }
W=$(mktemp -d /tmp/ferry-web-bench.XXXXXX)
SERVE_PID=
cleanup() {
    set +e
    [ -n "$SERVE_PID" ] && kill -TERM "$SERVE_PID" 2>/dev/null && wait "$SERVE_PID" 2>/dev/null
    rm -rf "$W"
}
trap cleanup EXIT
cp "$FERRY" "$W/ferry"
FERRY=$W/ferry

# ---------- a repository with a four-job workflow ----------
mkdir -p "$W/src/.github/workflows"
cat >"$W/src/.github/workflows/ci.yml" <<'EOF'
name: CI
on: [push, workflow_dispatch]
jobs:
  lint:
    runs-on: ubuntu-latest
    steps:
      - run: make lint
  test:
    needs: lint
    runs-on: ubuntu-latest
    steps:
      - run: make test
      - run: make coverage
  build:
    needs: lint
    runs-on: ubuntu-latest
    steps:
      - run: make image
  deploy:
    needs: [test, build]
    runs-on: ubuntu-latest
    steps:
      - run: make deploy
EOF
(cd "$W/src" && git init -q -b main . && git add -A &&
    git -c user.name=b -c user.email=b@b commit -qm bench)
git clone -q --bare "$W/src" "$W/app.git"
SHA=$(git -C "$W/src" rev-parse HEAD)

# ---------- the store: a token (serve --init), then the runs ----------
serve() {
    setsid "$FERRY" serve --home "$W/home" --listen 127.0.0.1:0 "$@" \
        >"$W/serve.out" 2>>"$W/serve.log" &
    SERVE_PID=$!
    for i in $(seq 1 600); do
        grep -q '^ferry serve: listening on ' "$W/serve.out" && break
        kill -0 "$SERVE_PID" 2>/dev/null || break
        sleep 0.05
    done
    URL=$(sed -n 's/^ferry serve: listening on //p' "$W/serve.out")
    [ -n "$URL" ] || { cat "$W/serve.log"; echo "bench: ferry serve did not start"; exit 1; }
}
serve --init
TOKEN=$(sed -n 's/^admin token: //p' "$W/serve.out")
kill -TERM "$SERVE_PID"
wait "$SERVE_PID" 2>/dev/null || true
SERVE_PID=

cat >"$W/fill.c" <<'EOF'
/* fill: RUNS completed runs of repository "app", each with four jobs of
 * one or two steps, written through the store API. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static void must(enum ferr_code rc, const struct ferr *err, const char *what)
{
    if (rc) {
        fprintf(stderr, "fill: %s: %s\n", what, err->msg);
        exit(1);
    }
}

int main(int argc, char **argv)
{
    static const char *const keys[] = {"lint", "test", "build", "deploy"};
    struct store *s = NULL;
    struct store_repo repo;
    struct ferr err;
    int64_t repo_id = 0;
    long runs = strtol(argv[3], NULL, 10);

    if (argc != 5)
        return 2;
    ferr_clear(&err);
    must(store_open(argv[1], &s, &err), &err, "open");
    memset(&repo, 0, sizeof(repo));
    repo.name = "app";
    repo.url = argv[2];
    repo.default_branch = "main";
    must(store_repo_add(s, &repo, &repo_id, &err), &err, "repo");
    for (long i = 0; i < runs; i++) {
        struct store_run r;
        int64_t id = 0, number = 0;
        const char *concl = i % 10 == 9 ? "failure" : "success";

        memset(&r, 0, sizeof(r));
        r.repo_id = repo_id;
        r.workflow = ".github/workflows/ci.yml";
        r.workflow_name = "CI";
        r.event = i % 3 ? "push" : "workflow_dispatch";
        r.ref = i % 4 ? "refs/heads/main" : "refs/heads/develop";
        r.sha = argv[4];
        r.payload = "{}";
        r.actor = "bench";
        must(store_run_create(s, &r, &id, &number, &err), &err, "create");
        must(store_run_start(s, id, 0, "bench", &err), &err, "start");
        for (int k = 0; k < 4; k++) {
            int64_t jid = 0, sid = 0;
            int steps = k == 1 ? 2 : 1;

            must(store_job_start(s, id, 1, keys[k], keys[k], NULL, NULL, &jid,
                                 &err),
                 &err, "job");
            for (int n = 1; n <= steps; n++) {
                must(store_step_start(s, jid, n, "Run make", &sid, &err), &err,
                     "step");
                must(store_step_finish(s, jid, n, "Run make", "success", &err),
                     &err, "step end");
            }
            must(store_job_finish(s, jid, k == 3 ? concl : "success", NULL,
                                  NULL, &err),
                 &err, "job end");
        }
        must(store_run_finish(s, id, concl, NULL, &err), &err, "finish");
    }
    /* the repository's id and the last run's first job id, for the
     * script (its checkout and its log file) */
    printf("%" PRId64 " %ld\n", repo_id, (runs - 1) * 4 + 1);
    store_close(s);
    return 0;
}
EOF
cc -std=c11 -D_GNU_SOURCE -O2 -I"$ROOT/src" -o "$W/fill" "$W/fill.c" "$LIBFERRY" \
    $(pkg-config --cflags --libs yaml-0.1 jansson libgit2 openssl sqlite3 libmicrohttpd expat) -lm -ldl
T0=$(date +%s.%N)
read -r REPO_ID JOB1 <<<"$("$W/fill" "$W/home/ferry.db" "$W/app.git" "$RUNS" "$SHA")"
T1=$(date +%s.%N)
# the checkout the run page reads the job graph from (queue.c's layout)
mkdir -p "$W/home/src/$REPO_ID/$SHA"
git -C "$W/src" archive HEAD | tar -x -C "$W/home/src/$REPO_ID/$SHA"
# and a 400-line log for the last run, a group in each job
mkdir -p "$W/home/logs/$RUNS"
awk -v j="$JOB1" 'BEGIN {
    for (k = 0; k < 4; k++) {
        printf "1700000000000\t%d\t::group::Set up job %d\n", j + k, k
        for (i = 1; i <= 20; i++) printf "1700000000000\t%d\tsetup line %d\n", j + k, i
        printf "1700000000000\t%d\t::endgroup::\n", j + k
        for (i = 1; i <= 78; i++) printf "1700000000001\t%d\tline %d of the step output, some words\n", j + k, i
    } }' >"$W/home/logs/$RUNS/1.log"
serve
RUN=$RUNS

# ---------- a session cookie, as a browser gets it ----------
curl -sf -c "$W/jar" -o "$W/login.html" "$URL/login"
CSRF=$(sed -n 's/.*name="csrf" value="\([0-9a-f]*\)".*/\1/p' "$W/login.html")
curl -sf -c "$W/jar" -b "$W/jar" -o /dev/null --data-urlencode "token=$TOKEN" \
    --data-urlencode "csrf=$CSRF" "$URL/login"
COOKIE="ferry_session=$(awk '$6 == "ferry_session" { print $7 }' "$W/jar")"
for p in /runs "/runs/$RUN" "/runs/$RUN/logs"; do
    st=$(curl -s -o "$W/page.html" -w '%{http_code}' -H "Cookie: $COOKIE" "$URL$p")
    [ "$st" = 200 ] || { echo "bench: GET $p answered $st"; exit 1; }
done
grep -q '<svg class="dag"' <(curl -s -H "Cookie: $COOKIE" "$URL/runs/$RUN") ||
    { echo "bench: the run page has no job graph"; exit 1; }

# ---------- wrk ----------
# measure PATH HEADER: "req/s p50 p99 bytes" (ms)
measure() {
    wrk -t1 -c"$CONNS" -d"${SECS}s" --latency -H "$2" "$URL$1" >"$W/wrk.txt"
    $PY - "$W/wrk.txt" "$(curl -s -H "$2" "$URL$1" | wc -c)" <<'PY'
import re, sys
t = open(sys.argv[1]).read()
def ms(s):
    v, u = re.match(r'([\d.]+)(us|ms|s)', s).groups()
    return float(v) * {"us": 0.001, "ms": 1, "s": 1000}[u]
rps = re.search(r'Requests/sec:\s+([\d.]+)', t).group(1)
p50 = ms(re.search(r'^\s+50%\s+(\S+)', t, re.M).group(1))
p99 = ms(re.search(r'^\s+99%\s+(\S+)', t, re.M).group(1))
bad = re.search(r'Non-2xx or 3xx responses: (\d+)', t)
print("%s %.3f %.3f %s%s" % (rps, p50, p99, sys.argv[2], " (non-2xx: %s)" % bad.group(1) if bad else ""))
PY
}
BEARER="Authorization: Bearer $TOKEN"
rows=()
for spec in "/healthz|$BEARER|GET /healthz (baseline: HTTP alone)" \
    "/api/v1/runs|$BEARER|GET /api/v1/runs (baseline: 50 runs as JSON)" \
    "/metrics|$BEARER|GET /metrics (with the 30-day DORA gauges)" \
    "/runs|Cookie: $COOKIE|GET /runs (50 runs, filters, pager)" \
    "/runs?conclusion=failure&branch=develop|Cookie: $COOKIE|GET /runs filtered" \
    "/runs/$RUN|Cookie: $COOKIE|GET /runs/ID (graph from the workflow file, 4 jobs)" \
    "/runs/$RUN/logs|Cookie: $COOKIE|GET /runs/ID/logs (400 lines, 4 groups)"; do
    IFS='|' read -r path header label <<<"$spec"
    read -r rps p50 p99 bytes bad <<<"$(measure "$path" "$header")"
    rows+=("| $label | $rps | $p50 | $p99 | $bytes ${bad:-}|")
done
printf '## Dashboard pages (%s runs in the store, filled in %s s; wrk -t1 -c%s %ss)\n\n' \
    "$RUNS" "$(awk -v a="$T0" -v b="$T1" 'BEGIN { printf "%.1f", b - a }')" "$CONNS" "$SECS"
echo "| request | req/s | p50 ms | p99 ms | bytes |"
echo "|---|---:|---:|---:|---:|"
printf '%s\n' "${rows[@]}"
echo
echo "goal: p99 < 10 ms for the pages and /metrics"
