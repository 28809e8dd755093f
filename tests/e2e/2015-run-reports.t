#!/usr/bin/env bash
# ferry run: ferry/report@v1 (JUnit, Cobertura, lcov, the coverage gate)
# and ferry/gate@v1 (Bandit and SARIF findings) on reports made by the
# real pytest, coverage.py and bandit, plus Trivy- and CodeQL-shaped
# SARIF (tests/e2e/reports); the `report:` lines, step outputs, the
# FERRY_REPORT summaries (--json) and the failure messages.
. "$(dirname "$0")/lib.sh"

# Debian's python3 and its pytest/coverage (a pyenv shim on PATH would
# not have them)
PATH=/usr/bin:$PATH
CHECKS=17
plan $CHECKS

missing=
/usr/bin/python3 -m pytest --version >/dev/null 2>&1 || missing="python3-pytest"
/usr/bin/python3 -m coverage --version >/dev/null 2>&1 || missing="$missing python3-coverage"
command -v bandit >/dev/null 2>&1 || missing="$missing bandit"
if [ -n "$missing" ]; then
    for i in $(seq 1 $CHECKS); do echo "ok $i # skip not installed:$missing"; done
    exit 0
fi

R=$T/repo
mkdir -p "$R/app" "$R/tests" "$R/sarif"
: >"$R/app/__init__.py"
cat >"$R/app/calc.py" <<'EOF'
import subprocess


def add(a, b):
    return a + b


def div(a, b):
    if b == 0:
        raise ZeroDivisionError("b is zero")
    return a / b


def untested(x):
    if x > 0:
        return "pos"
    return "neg"


def shell(cmd):
    return subprocess.call(cmd, shell=True)
EOF
cat >"$R/tests/test_calc.py" <<'EOF'
import pytest
from app.calc import add, div


def test_add():
    assert add(1, 2) == 3


def test_div():
    assert div(4, 2) == 2


def test_fails():
    assert add(2, 2) == 5, "math is broken"


@pytest.mark.skip(reason="not today")
def test_skipped():
    pass


def test_error():
    div(1, 0)
EOF
cp "$ROOT/tests/e2e/reports/trivy.sarif" "$ROOT/tests/e2e/reports/codeql.sarif" "$R/sarif/"
W=$R/.github/workflows
workflow "$R" reports.yml <<'EOF'
name: Reports
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: /usr/bin/python3 -m coverage run --branch --source=app -m pytest -p no:cacheprovider --junitxml=junit.xml -q tests || true
      - run: |
          /usr/bin/python3 -m coverage xml -o coverage.xml
          /usr/bin/python3 -m coverage lcov -o lcov.info
      - id: rep
        uses: ferry/report@v1
        with:
          junit: junit.xml
          coverage: coverage.xml
          min-coverage: 60
          fail-on-test-failures: false
          name: Unit tests
      - run: echo "out tests=${{ steps.rep.outputs.tests }} failures=${{ steps.rep.outputs.failures }} skipped=${{ steps.rep.outputs.skipped }} coverage=${{ steps.rep.outputs.coverage }} passed=${{ steps.rep.outputs.coverage-passed }}"
      - id: lcov
        uses: ferry/report@v1
        continue-on-error: true
        with:
          coverage: lcov.info
          coverage-format: lcov
          min-coverage: "90%"
      - run: echo "lcov gate ${{ steps.lcov.outcome }} ${{ steps.lcov.outputs.coverage-passed }}"
      - run: bandit -q -f json -r app -o bandit.json || true
      - id: gate
        uses: ferry/gate@v1
        with:
          bandit: bandit.json
          severity: critical
      - run: echo "gate findings=${{ steps.gate.outputs.findings }} blocking=${{ steps.gate.outputs.blocking }} high=${{ steps.gate.outputs.high }}"
      - uses: ferry/gate@v1
        with:
          sarif: sarif/*.sarif
          max-findings: 5
EOF
workflow "$R" gate.yml <<'EOF'
name: Gate
on: push
jobs:
  scan:
    runs-on: ubuntu-latest
    steps:
      - run: bandit -q -f json -r app -o bandit.json || true
      - uses: ferry/gate@v1
        with:
          bandit: bandit.json
      - run: echo "not reached"
EOF
workflow "$R" tests.yml <<'EOF'
name: Tests
on: push
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: /usr/bin/python3 -m pytest -p no:cacheprovider --junitxml=junit.xml -q tests || true
      - uses: ferry/report@v1
        with:
          junit: junit.xml
EOF
workflow "$R" invalid.yml <<'EOF'
name: Invalid
on: push
jobs:
  bad:
    runs-on: ubuntu-latest
    steps:
      - run: |
          /usr/bin/python3 -m pytest -p no:cacheprovider --junitxml=junit.xml -q tests >/dev/null || true
          head -c 400 junit.xml > broken.xml
          printf 'SF:app/calc.py\nDA:1,1\nDA:two,0\nend_of_record\n' > bad.info
      - uses: ferry/report@v1
        continue-on-error: true
        with:
          junit: broken.xml
      - uses: ferry/report@v1
        continue-on-error: true
        with:
          coverage: bad.info
      - uses: ferry/report@v1
        continue-on-error: true
        with:
          junit: results/*.xml
      - uses: ferry/gate@v1
        continue-on-error: true
        with:
          sarif: junit.xml
EOF
mkrepo "$R"

run_ferry run -C "$R" -W "$W/reports.yml"
cp "$T/out" "$T/r.out"
cp "$T/status" "$T/r.status"
use_r() { cp "$T/r.out" "$T/out"; cp "$T/r.status" "$T/status"; }

t_tests_line() {
    use_r
    status_is 0 &&
        out_has "[Reports/test] report: 5 tests, 2 failed, 0 errors, 1 skipped (junit.xml)" &&
        out_has "[Reports/test]   | tests: 5 run, 2 passed, 2 failed, 0 errors, 1 skipped"
}
ok "ferry/report reads pytest's JUnit report: a report line with the counts" \
    t_tests_line

t_failed_listed() {
    use_r
    out_has "[Reports/test] error: failed tests.test_calc.test_fails: AssertionError: math is broken" &&
        out_has "[Reports/test] error: failed tests.test_calc.test_error: ZeroDivisionError: b is zero" &&
        out_lacks "tests failed"
}
ok "failed tests become error annotations; fail-on-test-failures: false passes" \
    t_failed_listed

t_coverage_pass() {
    use_r
    out_has "[Reports/test] report: coverage 69.2% (9 of 13 lines) (coverage.xml)" &&
        out_has "[Reports/test]   | coverage 69.2% is at or above the minimum 60%"
}
ok "Cobertura from coverage.py: 69.2% passes min-coverage 60" t_coverage_pass

t_outputs() {
    use_r
    out_has "[Reports/test]   | out tests=5 failures=2 skipped=1 coverage=69.2 passed=true"
}
ok "step outputs: tests, failures, skipped, coverage, coverage-passed" t_outputs

t_coverage_fail() {
    use_r
    out_has "[Reports/test] report: coverage 69.2% (9 of 13 lines) (lcov.info)" &&
        out_has "[Reports/test] error: coverage 69.2% is below the minimum 90%" &&
        out_has "[Reports/test]   | lcov gate failure false"
}
ok "lcov from coverage.py: min-coverage 90% fails the step with a clear message" \
    t_coverage_fail

t_gate_critical() {
    use_r
    out_has "[Reports/test] report: 2 findings, 0 at or above 'critical' (bandit.json)" &&
        out_has "[Reports/test]   | gate findings=2 blocking=0 high=1" &&
        out_has "[Reports/test] warning: [high] B602: subprocess call with shell=True identified, security issue. (app/calc.py:21"
}
ok "bandit's findings under severity: critical are warnings, the gate passes" \
    t_gate_critical

t_gate_sarif() {
    use_r
    out_has "[Reports/test] report: 9 findings, 5 at or above 'high' (sarif/codeql.sarif, sarif/trivy.sarif)" &&
        out_has "[Reports/test] error: [critical] aws-access-key-id: " &&
        out_has "[Reports/test] error: [critical] py/command-line-injection: This command line depends on a [user-provided value](1). (app/views.py:21" &&
        out_has "at or above 'high', at most 5 allowed" &&
        out_matches '^\[Reports/test\] ✓ Run ferry/gate@v1 \(success'
}
ok "Trivy and CodeQL SARIF: security-severity ranks, max-findings 5 passes" \
    t_gate_sarif

t_json_shapes() {
    run_ferry run --json -C "$R" -W "$W/reports.yml"
    status_is 0 || return 1
    /usr/bin/python3 - "$T/out" <<'EOF'
import json, sys
reps = [json.loads(l)["report"] for l in open(sys.argv[1])
        if l.startswith("{") and json.loads(l).get("type") == "report"]
kinds = [r["kind"] for r in reps]
assert kinds == ["tests", "coverage", "coverage", "findings", "findings"], kinds
t, c, l, b, s = reps
assert t == {"kind": "tests", "file": "junit.xml", "tests": 5, "failures": 2,
             "errors": 0, "skipped": 1, "time_s": t["time_s"], "name": "Unit tests",
             "failed": [{"suite": "tests.test_calc", "name": "test_fails",
                         "message": "AssertionError: math is broken"},
                        {"suite": "tests.test_calc", "name": "test_error",
                         "message": "ZeroDivisionError: b is zero"}]}, t
assert isinstance(t["time_s"], float)
assert c["format"] == "cobertura" and c["lines_valid"] == 13 and c["lines_covered"] == 9, c
assert abs(c["line_rate"] - 0.6923) < 1e-9 and abs(c["min"] - 0.6) < 1e-9 and c["passed"] is True, c
assert c["branches_valid"] == 4 and c["branches_covered"] == 2, c
assert l["format"] == "lcov" and abs(l["min"] - 0.9) < 1e-9 and l["passed"] is False, l
assert b == {"kind": "findings", "file": "bandit.json", "format": "bandit", "total": 2,
             "by_severity": {"critical": 0, "high": 1, "medium": 0, "low": 1},
             "threshold": "critical", "blocking": 0, "passed": True}, b
assert s["format"] == "sarif" and s["total"] == 9 and s["blocking"] == 5, s
assert s["by_severity"] == {"critical": 2, "high": 3, "medium": 3, "low": 1}, s
assert s["files"] == ["sarif/codeql.sarif", "sarif/trivy.sarif"], s
EOF
}
ok "--json: the report events carry the FERRY_REPORT shapes" t_json_shapes

t_gate_fails() {
    run_ferry run -C "$R" -W "$W/gate.yml"
    status_is 1 &&
        out_has "[Gate/scan] error: [high] B602: subprocess call with shell=True identified, security issue. (app/calc.py:21" &&
        out_has "[Gate/scan] warning: [low] B404: " &&
        out_has "[Gate/scan] error: 1 finding at or above 'high' (at most 0 allowed)" &&
        out_has "[Gate/scan] report: 2 findings, 1 at or above 'high' (bandit.json)" &&
        out_lacks "[Gate/scan]   | not reached"
}
ok "ferry/gate fails the job on bandit's high finding" t_gate_fails

t_tests_fail() {
    run_ferry run -C "$R" -W "$W/tests.yml"
    status_is 1 &&
        out_has "[Tests/test] error: 2 of 5 tests failed" &&
        out_has "[Tests/test] report: 5 tests, 2 failed, 0 errors, 1 skipped (junit.xml)" &&
        out_matches '^\[Tests/test\] ✗ Run ferry/report@v1 \(failure'
}
ok "failed tests fail ferry/report by default" t_tests_fail

run_ferry run -C "$R" -W "$W/invalid.yml"
cp "$T/out" "$T/i.out"
cp "$T/status" "$T/i.status"
use_i() { cp "$T/i.out" "$T/out"; cp "$T/i.status" "$T/status"; }

t_truncated() {
    use_i
    status_is 0 &&
        out_matches '^\[Invalid/bad\] error: broken\.xml:[0-9]+:[0-9]+: malformed XML: ' &&
        out_lacks "[Invalid/bad] report: "
}
ok "a truncated JUnit file: a clear error with its position, no report" \
    t_truncated

t_bad_lcov() {
    use_i
    out_has "[Invalid/bad] error: bad.info:3:1: DA line is not a number: 'two'"
}
ok "a bad lcov line is named with its line number" t_bad_lcov

t_no_match() {
    use_i
    out_has "[Invalid/bad] error: no file matches 'results/*.xml'"
}
ok "a glob that matches nothing is an error" t_no_match

# an unknown input: `ferry lint` (and so `ferry run`) refuses the
# workflow before it starts (tests/e2e/1002); the step itself, run by
# hand, says the same and exits 2
t_unknown_input() {
    (cd "$R" && run_ferry lint) && status_is 0 || return 1
    (cd "$R" && env INPUT_JUNIT=junit.xml INPUT_MIN-COVERGE=80 \
        "$FERRY" __report >"$T/out" 2>"$T/err"; echo $? >"$T/status")
    status_is 2 &&
        err_has "ferry report: unknown input 'min-coverge' for ferry/report (did you mean 'min-coverage'?)"
}
ok "an unknown input is a usage error naming it" t_unknown_input

t_wrong_kind() {
    use_i
    out_has "[Invalid/bad] error: junit.xml:1:1: malformed JSON: " &&
        out_matches '^\[Invalid/bad\] ✓ job success'
}
ok "a JUnit file given as SARIF is refused; continue-on-error keeps the job" \
    t_wrong_kind

# a job that records no report: the reports at the conventional paths of
# its workspace are read at its end; a file that does not parse is named
# in the log and fails nothing
C="$W/conv"
mkdir -p "$C"
workflow "$C" conv.yml <<'EOF'
name: Conv
on: push
jobs:
  c:
    runs-on: ubuntu-latest
    steps:
      - run: |
          printf '<testsuite name="s" tests="2" failures="1"><testcase name="a"/><testcase name="b"><failure message="boom"/></testcase></testsuite>' >junit.xml
          printf 'TN:\nSF:x.c\nDA:1,1\nDA:2,0\nend_of_record\n' >lcov.info
          mkdir -p test-results && echo '<testsuite' >test-results/bad.xml
EOF
mkrepo "$C"
run_ferry run -C "$C"
t_convention() {
    status_is 0 &&
        out_has "[Conv/c] report: 2 tests, 1 failed, 0 errors, 0 skipped (junit.xml)" &&
        out_has "[Conv/c] report: coverage 50.0% (1 of 2 lines) (lcov.info)" &&
        out_has "warning: report skipped: test-results/bad.xml"
}
ok "a job without ferry/report: junit.xml and lcov.info are read at its end" \
    t_convention
t_convention_once() {
    # a job whose step recorded a report is not scanned as well
    run_ferry run -C "$R" -W "$W/reports.yml" &&
        ! grep -q 'report skipped' "$T/out"
}
ok "a job with ferry/report is not scanned again" t_convention_once

exit $_failed
