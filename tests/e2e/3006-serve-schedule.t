#!/usr/bin/env bash
# ferry serve: on.schedule from the default branch fires on its minute;
# after downtime a missed schedule runs once, not once per missed slot.
# The server's clock is shifted (FERRY_TEST_CLOCK_OFFSET, seconds) so a
# minute boundary comes within seconds; the code path is the real one.
. "$(dirname "$0")/lib.sh"
plan 6

mkdir -p "$T/src"
workflow "$T/src" nightly.yml <<'YML'
name: nightly
on:
  schedule:
    - cron: '* * * * *'
jobs:
  e2e:
    runs-on: ubuntu-latest
    steps:
      - run: echo "scheduled by '${{ github.event.schedule }}' on ${{ github.ref }}"
YML
workflow "$T/src" ci.yml <<'YML'
on: push
jobs:
  t:
    runs-on: ubuntu-latest
    steps:
      - run: "true"
YML
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"

# shift the clock so that the server's "now" is 2 s before a minute
now=$(date +%s)
export FERRY_TEST_CLOCK_OFFSET=$(( (58 - now % 60 + 60) % 60 ))
serve_start >/dev/null || { echo "Bail out! no server"; exit 1; }
KEY=$(api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" | jget hook_key)

ok "the schedule is listed from the default branch" \
    bash -c "api GET /api/v1/schedules | grep -q '\"cron\":\"\\* \\* \\* \\* \\*\"'"

count_sched() { api GET '/api/v1/runs?event=schedule' | /usr/bin/python3 -c 'import json,sys; print(len(json.load(sys.stdin)["runs"]))'; }
export -f count_sched
for i in $(seq 1 600); do [ "$(count_sched)" -ge 1 ] && break; sleep 0.05; done
ok "the schedule fired at the minute" bash -c '[ "$(count_sched)" = 1 ]'
RUN=$(api GET '/api/v1/runs?event=schedule' | jget runs.0.id)
ok "the scheduled run succeeds with github.event.schedule set" \
    bash -c "[ \"\$(wait_run $RUN)\" = success ] && api GET /api/v1/runs/$RUN/logs | grep -q \"scheduled by '\\* \\* \\* \\* \\*' on refs/heads/main\""

# downtime: 5 minutes pass while the server is down
serve_stop
now=$(date +%s)
export FERRY_TEST_CLOCK_OFFSET=$(( (58 - now % 60 + 60) % 60 + 300 ))
serve_start >/dev/null
for i in $(seq 1 600); do [ "$(count_sched)" -ge 2 ] && break; sleep 0.05; done
sleep 0.5
ok "after 5 missed minutes the schedule fired once" bash -c '[ "$(count_sched)" = 2 ]'

ok "the schedule is still listed after the restart (it is stored)" \
    bash -c "api GET /api/v1/schedules | grep -q nightly.yml"

# a schedule removed from the default branch stops: push through the hook
OLD=$(git -C "$T/app.git" rev-parse main)
(cd "$T/src" && git rm -q .github/workflows/nightly.yml && git commit -qm "no nightly" && git push -q "$T/app.git" main)
NEW=$(git -C "$T/app.git" rev-parse main)
BODY="$OLD $NEW refs/heads/main"
SIG=$(printf '%s\n' "$BODY" | openssl dgst -sha256 -hmac "$KEY" | awk '{print $2}')
printf '%s\n' "$BODY" | curl -s -o /dev/null -H "X-Ferry-Signature-256: sha256=$SIG" --data-binary @- "$URL/hooks/git?repo=app"
ok "a push to the default branch re-reads the schedules" \
    bash -c "! api GET /api/v1/schedules | grep -q nightly.yml"
exit $_failed
