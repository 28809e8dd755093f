#!/usr/bin/env bash
# The dashboard's delivery pages in headless Chromium (tests/browser/cd.mjs)
# against a real ferry serve: a production environment that needs one
# approver; a job that deploys through ferry/deploy's script target waits
# for approval.  An approver approves and rejects with the forms, a
# developer sees no buttons and their forged POST gets 403, the approved
# deployment succeeds (API and page), /environments shows the new
# current version, a bad version is rolled back and /incidents shows its
# timeline, /dora shows the figures GET /api/v1/dora answers, and
# /trends the coverage (with its 70 % target) and test counts that CI
# runs recorded.  Screenshots go to $T/shots (and $SHOTS_COPY when set).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"
export FERRY_DEPLOY_HOME=$T/home/deploy
export XDG_STATE_HOME=$T/xdg-state

CHECKS=(approvals-lists-waiting approve-with-the-form
    approved-deployment-succeeds deployment-page-shows-success
    developer-sees-no-buttons developer-forged-post-403
    post-without-csrf-403 reject-with-the-form second-review-409
    bad-decision-422 approve-from-deployment-page
    environments-current-version deployments-filter bad-version-rolled-back
    incidents-list incident-timeline failed-deployment-page
    environments-after-rollback dora-matches-api dora-window-links
    unknown-ids-404 trends-page dora-coverage-card no-script-errors)
plan $((${#CHECKS[@]} + 3))

skip_all() {
    local i
    for i in $(seq 1 $((${#CHECKS[@]} + 3))); do echo "ok $i # skip $1"; done
    exit 0
}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
[ -x "$CHROMIUM" ] || skip_all "no chromium at $CHROMIUM"
command -v node >/dev/null || skip_all "no node"
[ -d "$ROOT/node_modules/playwright-core" ] ||
    skip_all "playwright-core is missing (npm install --no-save playwright-core@1 in the repository)"
uses_env production

# ---------- a repository whose job deploys a "version" to a file ----------
R=$T/src
mkdir -p "$R"
workflow "$R" cd.yml <<YML
name: deliver
on:
  workflow_dispatch:
    inputs:
      version:
        required: true
jobs:
  production:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: ferry/deploy@v1
        with:
          environment: production
          target: script
          version: \${{ inputs.version }}
          deploy: |
            echo "\$FERRY_VERSION" > $T/live
          verify: |
            case "\$FERRY_VERSION" in *-bad) exit 1 ;; esac
            [ "\$(cat $T/live)" = "\$FERRY_VERSION" ]
          rollback: |
            echo "\$FERRY_PREVIOUS_VERSION" > $T/live
YML
# CI runs that record coverage and test counts (as ferry/report would)
workflow "$R" ci.yml <<'YML'
name: ci
on:
  workflow_dispatch:
    inputs:
      rate:
        required: true
      failed:
        default: "0"
jobs:
  test:
    runs-on: ubuntu-latest
    steps:
      - run: |
          echo '{"kind":"coverage","line_rate":${{ inputs.rate }},"lines_valid":1000,"lines_covered":0}' >>"$FERRY_REPORT"
          echo '{"kind":"tests","tests":40,"failures":${{ inputs.failed }},"errors":0,"skipped":2}' >>"$FERRY_REPORT"
YML
mkrepo "$R" >/dev/null
bare_repo "$R" "$T/app.git"

serve_start --slots 4 >/dev/null || { echo "Bail out! no server"; exit 1; }
api POST /api/v1/repos -d "{\"name\":\"app\",\"url\":\"$T/app.git\"}" >/dev/null
[ "$(cat "$T/http_status")" = 201 ] || { echo "Bail out! repo add: $(cat "$T/api.body")"; exit 1; }
token() { api POST /api/v1/tokens -d "{\"role\":\"$1\",\"name\":\"$2\"}" | jget token; }
ALICE=$(token approver alice)
DAN=$(token developer dan)
[ -n "$ALICE" ] && [ -n "$DAN" ] || { echo "Bail out! no tokens"; exit 1; }
api PUT /api/v1/repos/app/environments/production \
    -d '{"reviewers":1,"production":true}' >/dev/null
ok "production needs one approver (PUT 201)" test "$(cat "$T/http_status")" = 201

# ---------- the browser ----------
SHOTS_COPY=${SHOTS_COPY:-} # set it to keep a copy of the screenshots
URL=$URL ADMIN=$TOKEN ALICE=$ALICE DAN=$DAN REPO=app SHOTS=$T/shots \
    SHOTS_COPY=$SHOTS_COPY CHROMIUM=$CHROMIUM \
    timeout 300 node "$ROOT/tests/browser/cd.mjs" >"$T/browser.out" 2>"$T/browser.err"
echo "# browser exit $?; screenshots in $T/shots${SHOTS_COPY:+ and $SHOTS_COPY}"
for c in "${CHECKS[@]}"; do
    line=$(grep -m1 "^check $c " "$T/browser.out")
    if [ "$line" = "check $c ok" ]; then
        ok "$c" true
    elif [ -n "$line" ]; then
        ok "$c" bash -c "echo '${line//\'/}'; exit 1"
    else
        ok "$c" bash -c "echo 'the check did not run:'; grep -v '^check .* ok$' '$T/browser.out'; tail -5 '$T/browser.err'; exit 1"
    fi
done
ok "no other check failed" bash -c "! grep -v ' ok$' '$T/browser.out' | grep '^check '"

# ---------- the end ----------
serve_stop
leftovers() {
    sleep 0.2
    if pgrep -f "$T/" >/dev/null; then
        echo "left over:"; pgrep -af "$T/"; return 1
    fi
}
ok "nothing of this test is left running" leftovers
