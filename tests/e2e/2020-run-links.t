#!/usr/bin/env bash
# ferry run: the runner files and the job directory are shared with the
# steps (and, in a container job, with the job container), so what a
# step plants there must not steer ferry's own reads and writes: a link
# in place of GITHUB_OUTPUT / FERRY_REPORT / the step summary is refused,
# not followed; a link planted as the job's summary.md is not appended
# through; a RUNNER_TEMP swapped for a link does not receive the next
# step's script; a FIFO in place of GITHUB_ENV does not hang the job.
. "$(dirname "$0")/lib.sh"
plan 8

OUT=$T/outside
mkdir -p "$OUT/dir" "$T/src"
printf 'SECRET=from-outside\n' >"$OUT/outside-env"
printf '{"kind":"tests","passed":99}\n' >"$OUT/outside-report"
printf 'untouched\n' >"$OUT/victim"
export OUT

workflow "$T/src" links.yml <<'YML'
on: push
jobs:
  output:
    runs-on: ubuntu-latest
    steps:
      - run: rm "$GITHUB_OUTPUT" && ln -s "$OUT/outside-env" "$GITHUB_OUTPUT"
  report:
    runs-on: ubuntu-latest
    steps:
      - run: rm "$FERRY_REPORT" && ln -s "$OUT/outside-report" "$FERRY_REPORT"
  summary:
    runs-on: ubuntu-latest
    steps:
      - run: |
          ln -s "$OUT/victim" "$(dirname "$GITHUB_EVENT_PATH")/summary.md"
          echo 'planted line' >>"$GITHUB_STEP_SUMMARY"
  temp:
    runs-on: ubuntu-latest
    steps:
      - run: mv "$RUNNER_TEMP" "$RUNNER_TEMP.old" && ln -s "$OUT/dir" "$RUNNER_TEMP"
      - run: echo second step ran
  fifo:
    runs-on: ubuntu-latest
    steps:
      - run: rm "$GITHUB_ENV" && mkfifo "$GITHUB_ENV"
YML
mkrepo "$T/src"
run_ferry run -C "$T/src" --json
ok "the run ends (no hang on a FIFO) with exit 1" status_is 1
ok "a link as GITHUB_OUTPUT fails its step, naming it a symbolic link" \
    bash -c "grep -q \"output' is a symbolic link\" '$T/out' '$T/err'"
ok "a link as FERRY_REPORT fails its step; its report is not read" \
    bash -c "grep -q \"report' is a symbolic link\" '$T/out' '$T/err' &&
             ! grep -q '\"passed\":99' '$T/out'"
ok "a link planted as summary.md is not appended through" \
    bash -c "[ \"\$(cat '$OUT/victim')\" = untouched ] &&
             grep -q 'the job summary was not written' '$T/out' '$T/err'"
ok "a RUNNER_TEMP swapped for a link does not get the next script" \
    bash -c "[ -z \"\$(ls -A '$OUT/dir')\" ]"
ok "... and that step fails instead of running elsewhere" \
    bash -c "! grep -q '\"line\":\"second step ran\"' '$T/out'"
ok "a FIFO as GITHUB_ENV fails its step: not a regular file" \
    bash -c "grep -q \"env' is not a regular file\" '$T/out' '$T/err'"
ok "the outside files are unchanged" \
    bash -c "grep -qx 'SECRET=from-outside' '$OUT/outside-env' &&
             grep -q '\"passed\":99' '$OUT/outside-report'"
exit $_failed
