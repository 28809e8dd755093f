#!/usr/bin/env bash
# ferry/deploy's script target: deploy / verify / rollback commands get
# FERRY_VERSION, FERRY_PREVIOUS_VERSION, FERRY_ENVIRONMENT; a failed
# verify runs rollback and verifies the previous version; a first
# deployment that fails has nothing to roll back to.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"

plan 8

R=$T/repo
mkdir -p "$R"
mkrepo "$R" >/dev/null
LOG=$T/script.log
uses_env infra

# the "infrastructure" is a file naming the live version
wf() {
    workflow "$R" deploy.yml <<EOF
on: push
jobs:
  deploy:
    runs-on: ubuntu-latest
    steps:
      - id: d
        uses: ferry/deploy@v1
        with:
          environment: infra
          target: script
          version: $1
          deploy: |
            echo "deploy \$FERRY_VERSION over \${FERRY_PREVIOUS_VERSION:-nothing} in \$FERRY_ENVIRONMENT" >> $LOG
            echo "\$FERRY_VERSION" > $T/live
          verify: |
            echo "verify \$FERRY_VERSION" >> $LOG
            [ "\$(cat $T/live)" = "\$FERRY_VERSION" ] && [ ! -e $T/broken-\$FERRY_VERSION ]
          rollback: |
            echo "rollback \$FERRY_VERSION to \$FERRY_PREVIOUS_VERSION" >> $LOG
            echo "\$FERRY_PREVIOUS_VERSION" > $T/live
      - if: always()
        run: echo "result=\${{ steps.d.outputs.result }}"
EOF
    commit "$R" "deploy $1"
}

wf v1
touch "$T/broken-v1"
run_ferry run -C "$R"
ok "a first deployment that fails verification fails the step" bash -c '
    status_is 1 && out_has "a first deployment: no previous version" &&
    ! grep -q "^rollback" "$T/script.log"'
rm -f "$T/broken-v1"
: >"$LOG"

run_ferry run -C "$R"
ok "v1 deploys through the script" bash -c 'status_is 0 && out_has "deployed v1 to '"'infra'"'" && out_has "result=succeeded"'
ok "deploy and verify ran with the variables" grep -qx "deploy v1 over nothing in infra" "$LOG"

wf v2
touch "$T/broken-v2"
: >"$LOG"
run_ferry run -C "$R"
ok "v2 fails verify and is rolled back (exit 1)" bash -c 'status_is 1 && out_has "[rollback] succeeded: v1 is back" && out_has "result=rolled_back"'
ok "rollback got the failed and the previous version" grep -qx "rollback v2 to v1" "$LOG"
ok "the previous version was verified" bash -c '[ "$(cat "$T/live")" = v1 ] && [ "$(tail -1 "$T/script.log")" = "verify v1" ]'
ok "state: v1 current, the failure recorded" bash -c '[ "$(state_get infra current.version)" = v1 ] && [ "$(state_get infra last_failure.version)" = v2 ]'

rm -f "$T/broken-v2"
run_ferry run -C "$R"
ok "v2 deploys once fixed; v1 is previous" bash -c 'status_is 0 && [ "$(state_get infra current.version)" = v2 ] && [ "$(state_get infra previous.version)" = v1 ]'
