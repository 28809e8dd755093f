#!/usr/bin/env bash
# ferry serve: live logs over SSE (and resume), cancel, re-run of failed
# jobs, workflow concurrency groups across runs, dispatch inputs.
. "$(dirname "$0")/lib.sh"
plan 28

mkdir -p "$T/src"
workflow "$T/src" slow.yml <<'YML'
on: workflow_dispatch
jobs:
  talk:
    runs-on: ubuntu-latest
    steps:
      - run: for i in 1 2 3 4; do echo "line-$i"; sleep 0.7; done
YML
workflow "$T/src" long.yml <<'YML'
on: workflow_dispatch
jobs:
  wait:
    runs-on: ubuntu-latest
    steps:
      - run: echo started; sleep 30; echo never
  cleanup:
    needs: wait
    if: always()
    runs-on: ubuntu-latest
    steps:
      - run: echo "cleanup ran"
YML
workflow "$T/src" flaky.yml <<'YML'
on: workflow_dispatch
jobs:
  first:
    runs-on: ubuntu-latest
    outputs:
      token: ${{ steps.s.outputs.token }}
    steps:
      - id: s
        run: echo "first ran attempt ${{ github.run_attempt }}"; echo "token=t-${{ github.run_attempt }}" >> "$GITHUB_OUTPUT"
  second:
    needs: first
    runs-on: ubuntu-latest
    steps:
      - run: echo "second sees ${{ needs.first.outputs.token }}"
      - run: test "${{ github.run_attempt }}" = 2
YML
workflow "$T/src" deploy.yml <<'YML'
on: workflow_dispatch
concurrency:
  group: deploy-${{ github.ref }}
jobs:
  d:
    runs-on: ubuntu-latest
    steps:
      - run: sleep 1.5
YML
workflow "$T/src" typed.yml <<'YML'
on:
  workflow_dispatch:
    inputs:
      count:
        type: number
        required: true
      mode:
        type: choice
        options: [fast, slow]
        default: fast
jobs:
  show:
    runs-on: ubuntu-latest
    steps:
      - run: echo "count=${{ inputs.count }} mode=${{ inputs.mode }}"
YML
workflow "$T/src" cells.yml <<'YML'
on: workflow_dispatch
jobs:
  m:
    name: cell ${{ github.event_name }}
    runs-on: ubuntu-latest
    strategy:
      matrix:
        a: [1, 2, 3]
    steps:
      - run: echo "cell a=${{ matrix.a }}"
YML
workflow "$T/src" big.yml <<'YML'
on: workflow_dispatch
jobs:
  loud:
    runs-on: ubuntu-latest
    steps:
      - run: seq 1 120000 | sed 's/$/ some words to make the line longer/'
YML
workflow "$T/src" art.yml <<'YML'
on: workflow_dispatch
jobs:
  make:
    runs-on: ubuntu-latest
    steps:
      - run: mkdir -p out/sub && echo "report body" > out/report.txt && printf '#!/bin/sh\necho hi\n' > out/sub/tool.sh && chmod +x out/sub/tool.sh
      - uses: actions/upload-artifact@v4
        with:
          name: build-output
          path: out
YML
mkdir -p "$T/src/.ferry/workflows"
cat >"$T/src/.ferry/workflows/own.yml" <<'YML'
on: workflow_dispatch
jobs:
  own:
    runs-on: ubuntu-latest
    steps:
      - run: echo "from .ferry/workflows"
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null

dispatch() { # FILE [BODY] -> run id
    api POST "/api/v1/repos/app/workflows/$1/dispatches" -d "${2:-{\}}" | jget runs.0.id
}

# --- live logs ---
RUN=$(dispatch slow.yml)
curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/runs/$RUN/logs?follow=1" >"$T/sse.txt" &
CURL=$!
for i in $(seq 1 100); do grep -q line-1 "$T/sse.txt" && break; sleep 0.05; done
ST=$(api GET "/api/v1/runs/$RUN" | jget status)
ok "SSE delivers a line while the run is still running" bash -c "grep -q 'line-1' '$T/sse.txt' && [ '$ST' = running ]"
wait $CURL
ok "the stream ends with the run's end event" bash -c "grep -q '^event: end' '$T/sse.txt' && grep -q '\"conclusion\":\"success\"' '$T/sse.txt'"
ok "lines carry their ids in order" bash -c "[ \"\$(grep '^id: ' '$T/sse.txt' | tr -d 'id: ' | tr '\n' ' ')\" = '1.1 1.2 1.3 1.4 ' ]"
curl -sN -H "Authorization: Bearer $TOKEN" -H "Last-Event-ID: 1.2" "$URL/api/v1/runs/$RUN/logs?follow=1" >"$T/sse2.txt"
ok "Last-Event-ID resumes after that line" bash -c "! grep -q line-2 '$T/sse2.txt' && grep -q line-3 '$T/sse2.txt' && grep -q line-4 '$T/sse2.txt'"

# --- cancel ---
RUN=$(dispatch long.yml)
for i in $(seq 1 100); do api GET "/api/v1/runs/$RUN/logs" | grep -q started && break; sleep 0.05; done
api POST "/api/v1/runs/$RUN/cancel" >/dev/null
ok "cancel answers 202" bash -c "[ \"\$(cat '$T/http_status')\" = 202 ]"
ok "the cancelled run completes as cancelled" bash -c "[ \"\$(wait_run $RUN 20)\" = cancelled ]"
ok "an always() job still ran after the cancel" bash -c "api GET /api/v1/runs/$RUN/logs | grep -q 'cleanup ran'"
api POST "/api/v1/runs/$RUN/cancel" >/dev/null
ok "cancelling a completed run is a 409" bash -c "[ \"\$(cat '$T/http_status')\" = 409 ]"

# --- re-run failed jobs ---
RUN=$(dispatch flaky.yml)
ok "the flaky run fails on attempt 1" bash -c "[ \"\$(wait_run $RUN)\" = failure ]"
api POST "/api/v1/runs/$RUN/rerun" -d '{"failed_only":true}' >/dev/null
ok "rerun answers 201 with attempt 2" bash -c "[ \"\$(cat '$T/http_status')\" = 201 ] && [ \"\$(api GET /api/v1/runs/$RUN | jget attempt)\" = 2 ]"
ok "attempt 2 succeeds" bash -c "[ \"\$(wait_run $RUN)\" = success ]"
api GET "/api/v1/runs/$RUN/logs" >"$T/flaky.txt"
ok "the kept job did not run again and its output was passed on" \
    bash -c "! grep -q 'first ran attempt 2' '$T/flaky.txt' && grep -q 'second sees t-1' '$T/flaky.txt'"
J1=$(api GET "/api/v1/runs/$RUN/jobs?attempt=1" | jget jobs.1.id)
ok "following a job of the earlier attempt gives its lines, then the end" \
    bash -c "curl -sN -H 'Authorization: Bearer $TOKEN' '$URL/api/v1/jobs/$J1/logs?follow=1' >'$T/old.sse'; grep -q 'second sees t-1' '$T/old.sse' && grep -q '^id: 1\.' '$T/old.sse' && grep -q '^event: end' '$T/old.sse'"
ok "attempt 1's jobs are still there" \
    bash -c "[ \"\$(api GET '/api/v1/runs/$RUN/jobs?attempt=1' | jget jobs.1.conclusion)\" = failure ]"

# --- concurrency across runs ---
R1=$(dispatch deploy.yml); R2=$(dispatch deploy.yml)
timeout 20 curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/runs/$R2/logs?follow=1" >"$T/r2.sse" &
FOLLOW=$!
sleep 0.3
R3=$(dispatch deploy.yml)
wait_run "$R3" >"$T/r3"
ok "the pending run replaced by a newer one is cancelled" \
    bash -c "[ \"\$(wait_run $R2)\" = cancelled ] && api GET /api/v1/runs/$R2 | grep -q 'newer run joined its concurrency group'"
wait "$FOLLOW"
ok "a follower of the replaced pending run gets the end at once" \
    bash -c "grep -q '^event: end' '$T/r2.sse' && grep -q '\"conclusion\":\"cancelled\"' '$T/r2.sse'"
ok "the first and the newest run of the group both succeed, one after the other" \
    bash -c "[ \"\$(wait_run $R1)\" = success ] && [ \"\$(cat '$T/r3')\" = success ] && /usr/bin/python3 - <<PY
import json, urllib.request
def get(i):
    q = urllib.request.Request('$URL/api/v1/runs/%s' % i, headers={'Authorization': 'Bearer $TOKEN'})
    return json.load(urllib.request.urlopen(q))
a, c = get($R1), get($R3)
assert a['finished_at'] <= c['started_at'], (a, c)
PY"

# --- typed dispatch inputs ---
RUN=$(dispatch typed.yml '{"inputs":{"count":"3"}}')
ok "typed inputs reach the job (with the default)" bash -c "[ \"\$(wait_run $RUN)\" = success ] && api GET /api/v1/runs/$RUN/logs | grep -q 'count=3 mode=fast'"
api POST /api/v1/repos/app/workflows/typed.yml/dispatches -d '{"inputs":{"mode":"medium"}}' >/dev/null
ok "a bad input is a 422 naming the problem" bash -c "[ \"\$(cat '$T/http_status')\" = 422 ] && grep -qi 'count\|mode' '$T/api.body'"
# --- where a workflow's file name is looked up ---
RUN=$(dispatch own.yml)
ok "a file name is also found in .ferry/workflows" \
    bash -c "[ \"\$(wait_run $RUN)\" = success ] && api GET /api/v1/runs/$RUN | grep -q '\"workflow\":\".ferry/workflows/own.yml\"'"
api POST /api/v1/repos/app/workflows/nope.yml/dispatches -d '{}' >/dev/null
ok "an unknown workflow is a 404" bash -c "[ \"\$(cat '$T/http_status')\" = 404 ] && grep -q \"no workflow 'nope.yml'\" '$T/api.body'"

# --- matrix cells with an expression in the name ---
RUN=$(dispatch cells.yml)
wait_run "$RUN" >/dev/null
ok "each matrix cell is its own job even when the name hides the matrix" \
    bash -c "api GET /api/v1/runs/$RUN | /usr/bin/python3 -c 'import json,sys; j=json.load(sys.stdin)[\"jobs\"]; sys.exit(0 if len(j)==3 and all(x[\"conclusion\"]==\"success\" and len(x[\"steps\"])==1 for x in j) else 1)'"

# --- a long log is followed in pieces ---
RUN=$(dispatch big.yml)
wait_run "$RUN" >/dev/null
curl -sN -H "Authorization: Bearer $TOKEN" "$URL/api/v1/runs/$RUN/logs?follow=1" >"$T/big1.sse"
echo $? >"$T/big1.rc"
LAST=$(grep '^id: ' "$T/big1.sse" | tail -1 | cut -d' ' -f2)
ok "following a 6 MB log sends a first part and ends cleanly" \
    bash -c "[ \"\$(cat '$T/big1.rc')\" = 0 ] && [ -n '$LAST' ] && ! grep -q '^event: end' '$T/big1.sse'"
ok "resuming from the last id gets the rest, up to the end" \
    bash -c "for i in \$(seq 1 20); do curl -sN -H 'Authorization: Bearer $TOKEN' -H \"Last-Event-ID: \$(grep '^id: ' '$T/big1.sse' | tail -1 | cut -d' ' -f2)\" '$URL/api/v1/runs/$RUN/logs?follow=1' >>'$T/big1.sse'; grep -q '^event: end' '$T/big1.sse' && break; done; grep -q '120000 some words' '$T/big1.sse' && grep -q '^event: end' '$T/big1.sse'"

# --- artifacts ---
RUN=$(dispatch art.yml)
wait_run "$RUN" >/dev/null
ok "the run's artifacts are listed with their size" \
    bash -c "api GET /api/v1/runs/$RUN/artifacts | grep -q '\"name\":\"build-output\",\"files\":2'"
ok "an artifact downloads as a tar with contents and modes" \
    bash -c "api GET /api/v1/runs/$RUN/artifacts/build-output >'$T/a.tar' && mkdir '$T/x' && tar -xf '$T/a.tar' -C '$T/x' && grep -q 'report body' '$T/x/report.txt' && test -x '$T/x/sub/tool.sh'"
api GET "/api/v1/runs/$RUN/artifacts/nope" >/dev/null
ok "an unknown artifact is a 404" bash -c "[ \"\$(cat '$T/http_status')\" = 404 ]"

# under ASan (make asan) the server's exit reports leaks: stop it cleanly
serve_stop
ok "the server stops cleanly, no sanitizer report" \
    bash -c "! grep -E 'LeakSanitizer|AddressSanitizer|runtime error' '$T/serve.log'"
exit $_failed
