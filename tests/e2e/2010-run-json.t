#!/usr/bin/env bash
# ferry run --json: one JSON object per line, typed events with the
# fields their type promises, run.finished last.
. "$(dirname "$0")/lib.sh"

plan 10

PY=/usr/bin/python3

# check 'PYTHON' : run a python snippet with `ev` = the list of events of
# $T/out (every line must parse) and `fail(msg)` to report
check() {
    $PY - "$T/out" "$1" <<'EOF'
import json, sys
ev = []
for n, l in enumerate(open(sys.argv[1]), 1):
    try:
        ev.append(json.loads(l))
    except ValueError as e:
        print("line %d is not JSON (%s): %r" % (n, e, l))
        sys.exit(1)
def fail(msg):
    print(msg)
    for e in ev:
        print(json.dumps(e, sort_keys=True))
    sys.exit(1)
exec(sys.argv[2])
EOF
}

R=$T/repo
mkdir -p "$R"
workflow "$R" j.yml <<'EOF'
name: J
on: push
jobs:
  a:
    runs-on: ubuntu-latest
    outputs:
      answer: ${{ steps.s.outputs.answer }}
    steps:
      - id: s
        name: produce
        run: |
          echo "line one"
          echo 'quotes " and \ backslash and tab	here'
          echo "answer=42" >> "$GITHUB_OUTPUT"
      - name: soft failure
        continue-on-error: true
        run: exit 1
  b:
    needs: a
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: echo "b${{ matrix.n }} got ${{ needs.a.outputs.answer }}"
EOF
workflow "$R" never.yml <<'EOF'
name: Never
on: pull_request
jobs:
  x:
    runs-on: ubuntu-latest
    steps:
      - run: echo never
EOF
mkrepo "$R"

run_ferry run -C "$R" --json
cp "$T/out" "$T/ok.out"
cp "$T/status" "$T/ok.status"
use_ok() { cp "$T/ok.out" "$T/out"; cp "$T/ok.status" "$T/status"; }

TYPES='{"run.started", "run.finished", "workflow.skipped", "job.started",
        "job.finished", "step.started", "step.finished", "log", "annotation"}'

t_valid() {
    use_ok
    status_is 0 && check "
if not ev: fail('no events')
for e in ev:
    if not isinstance(e, dict): fail('not an object: %r' % e)
    if e.get('type') not in $TYPES: fail('bad type: %r' % e)
"
}
ok "every line is a JSON object with a known type" t_valid

t_bounds() {
    use_ok
    check "
if ev[0]['type'] != 'run.started': fail('first is not run.started')
if ev[-1]['type'] != 'run.finished': fail('last is not run.finished')
if sum(e['type'] == 'run.finished' for e in ev) != 1: fail('run.finished twice')
if ev[-1].get('conclusion') != 'success': fail('conclusion')
if not isinstance(ev[-1].get('duration_ms'), int): fail('duration_ms')
"
}
ok "run.started first, run.finished last with conclusion success" \
    t_bounds

t_steps() {
    use_ok
    check "
fin = [e for e in ev if e['type'] == 'step.finished']
if len(fin) != 4: fail('want 4 step.finished, got %d' % len(fin))
for e in fin:
    for k in ('outcome', 'conclusion', 'job', 'step', 'step_name', 'duration_ms'):
        if k not in e: fail('step.finished without %s' % k)
soft = [e for e in fin if e['step_name'] == 'soft failure']
if len(soft) != 1 or soft[0]['outcome'] != 'failure' or soft[0]['conclusion'] != 'success':
    fail('continue-on-error step: %r' % soft)
prod = [e for e in fin if e['step_name'] == 'produce']
if prod[0]['outcome'] != 'success' or prod[0]['step'] != 0: fail('produce')
"
}
ok "step.finished has outcome, conclusion, step, step_name, duration" \
    t_steps

t_jobs() {
    use_ok
    check "
fin = [e for e in ev if e['type'] == 'job.finished']
a = [e for e in fin if e['job'] == 'a']
if len(a) != 1: fail('job a finished %d times' % len(a))
if a[0].get('outputs') != {'answer': '42'}: fail('outputs of a: %r' % a[0].get('outputs'))
if a[0].get('conclusion') != 'success': fail('conclusion of a')
b = [e for e in fin if e['job'] == 'b']
if len(b) != 2: fail('want 2 cells of b')
if sorted(e['matrix']['n'] for e in b) != [1, 2]: fail('matrix of b')
for e in fin:
    if not isinstance(e.get('outputs'), dict): fail('job.finished without outputs object')
"
}
ok "job.finished has conclusion, matrix and an outputs object" t_jobs

t_logs() {
    use_ok
    check "
logs = [e for e in ev if e['type'] == 'log']
lines = [e['line'] for e in logs]
if 'line one' not in lines: fail('line one missing')
if 'quotes \" and \\\\ backslash and tab\there' not in lines: fail('escaped line: %r' % lines)
if 'b2 got 42' not in lines: fail('b2 line')
for e in logs:
    if 'job' not in e or 'step' not in e: fail('log without job/step: %r' % e)
"
}
ok "log events carry the exact line, job and step" t_logs

t_order() {
    use_ok
    check "
seen = {}
for i, e in enumerate(ev):
    key = (e.get('job'), e.get('job_name'))
    if e['type'] == 'job.started': seen[key] = 'started'
    elif e['type'] in ('step.started', 'step.finished', 'log'):
        if seen.get(key) != 'started': fail('%s before job.started: %r' % (e['type'], e))
    elif e['type'] == 'job.finished':
        if key in seen and seen[key] != 'started': fail('job finished twice: %r' % e)
        seen[key] = 'finished'
a_end = max(i for i, e in enumerate(ev) if e['type'] == 'job.finished' and e['job'] == 'a')
b_start = min(i for i, e in enumerate(ev) if e['type'] == 'job.started' and e['job'] == 'b')
if b_start < a_end: fail('b started before a finished')
"
}
ok "events of a job come between its job.started and job.finished" \
    t_order

t_skipped_wf() {
    use_ok
    check "
sk = [e for e in ev if e['type'] == 'workflow.skipped']
if len(sk) != 1: fail('want one workflow.skipped')
if sk[0].get('workflow_file') != '.github/workflows/never.yml': fail('file')
if 'pull_request' not in sk[0].get('reason', '') and 'push' not in sk[0].get('reason', ''):
    fail('reason: %r' % sk[0])
"
}
ok "workflow.skipped names the file and the reason" t_skipped_wf

F=$T/fail
mkdir -p "$F"
workflow "$F" f.yml <<'EOF'
name: F
on: push
jobs:
  bad:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo "::error file=x.c,line=9::it broke"
          exit 2
      - run: echo skipped
EOF
mkrepo "$F"

t_failure() {
    run_ferry run -C "$F" --json
    status_is 1 && check "
if ev[-1]['type'] != 'run.finished' or ev[-1]['conclusion'] != 'failure': fail('run conclusion')
st = [e for e in ev if e['type'] == 'step.finished']
if [(e['outcome'], e['conclusion']) for e in st] != [('failure', 'failure'), ('skipped', 'skipped')]:
    fail('step results: %r' % st)
jf = [e for e in ev if e['type'] == 'job.finished']
if jf[0]['conclusion'] != 'failure': fail('job conclusion')
an = [e for e in ev if e['type'] == 'annotation']
if len(an) != 1 or an[0].get('level') != 'error' or an[0].get('file') != 'x.c' or an[0].get('line') != 9 or an[0].get('message') != 'it broke':
    fail('annotation: %r' % an)
"
}
ok "a failing run: conclusions failure/skipped, annotation fields" \
    t_failure

t_only_json() {
    run_ferry run pull_request -C "$F" --json
    status_is 0 && check "
if ev[-1]['type'] != 'run.finished': fail('last')
if ev[-1]['conclusion'] != 'skipped': fail('conclusion %r' % ev[-1]['conclusion'])
"
}
ok "nothing triggered: only JSON lines, run.finished conclusion skipped" \
    t_only_json

t_stdout_pure() {
    # stdout of a text-free --json run has no summary table
    use_ok
    ! grep -qE '^(run success|  ✓ )' "$T/out"
}
ok "--json prints no text summary" t_stdout_pure
