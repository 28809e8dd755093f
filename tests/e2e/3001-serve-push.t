#!/usr/bin/env bash
# ferry serve: a push to a bare repository with ferry's hook starts the
# workflows it triggers; the run, its jobs, steps and logs are in the API
# and the CLI.
. "$(dirname "$0")/lib.sh"
plan 16

mkdir -p "$T/src"
workflow "$T/src" ci.yml <<'YML'
name: CI
on:
  push:
    branches: [main, 'feature/**']
jobs:
  build:
    runs-on: ubuntu-latest
    steps:
      - run: echo "building $GITHUB_SHA on $GITHUB_REF_NAME"
      - run: test ! -e README.md && echo "workspace empty before checkout"
      - uses: actions/checkout@v4
      - run: cat README.md
  test:
    needs: build
    runs-on: ubuntu-latest
    strategy:
      matrix:
        n: [1, 2]
    steps:
      - run: echo "test cell ${{ matrix.n }} run ${{ github.run_number }}"
YML
workflow "$T/src" other.yml <<'YML'
on:
  push:
    branches: [production]
jobs:
  nope:
    runs-on: ubuntu-latest
    steps:
      - run: echo never
YML
echo "first version" >"$T/src/README.md"
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
(cd "$T/src" && git remote add origin "$T/app.git")

ok "the server starts and prints the admin token" serve_start
ok "healthz answers" bash -c '[ "$(curl -s "$URL/healthz" | jget status)" = ok ]'
ok "readyz answers" bash -c '[ "$(curl -s "$URL/readyz" | jget status)" = ready ]'
ok "repo add --hook registers the repository" \
    bash -c '"$FERRY" repo add app "$T/app.git" --hook >"$T/add.out" 2>&1 && grep -q "webhook secret" "$T/add.out" && test -x "$T/app.git/hooks/post-receive"'

push() {
    (cd "$T/src" && git push -q origin "$1" 2>&1)
}
(cd "$T/src" && echo "hello from the repo" >README.md && git commit -qam "a change to push")
ok "git push runs the hook, which queues one run" \
    bash -c "$(declare -f push); push main | tee \"\$T/push.out\"; grep -q 'queued 1 run' \"\$T/push.out\""

RUN=$(api GET "/api/v1/runs?repo=app" | jget runs.0.id)
ok "the run succeeds" bash -c "[ \"\$(wait_run $RUN)\" = success ]"
api GET "/api/v1/runs/$RUN" >"$T/run.json"
ok "the run carries repo, workflow, event, ref and sha" \
    bash -c 'py() { /usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if $1 else 1)" "$T/run.json"; }
             py "r[\"repo\"]==\"app\" and r[\"workflow\"]==\".github/workflows/ci.yml\" and r[\"event\"]==\"push\" and r[\"ref\"]==\"refs/heads/main\" and len(r[\"sha\"])==40 and r[\"attempt\"]==1 and r[\"number\"]==1"'
ok "three jobs (the matrix expanded), all succeeded" \
    bash -c '/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); j=r[\"jobs\"]; sys.exit(0 if len(j)==3 and all(x[\"conclusion\"]==\"success\" for x in j) else 1)" "$T/run.json"'
ok "steps are recorded with their conclusions" \
    bash -c '/usr/bin/python3 -c "import json,sys; r=json.load(open(sys.argv[1])); b=[x for x in r[\"jobs\"] if x[\"job_id\"]==\"build\"][0]; sys.exit(0 if len(b[\"steps\"])==4 and all(s[\"conclusion\"]==\"success\" for s in b[\"steps\"]) else 1)" "$T/run.json"'
api GET "/api/v1/runs/$RUN/logs" >"$T/log.txt"
ok "the log holds each job's lines" \
    bash -c 'grep -q "^\[build\] building [0-9a-f]\{40\} on main" "$T/log.txt" && grep -q "test cell 2 run 1" "$T/log.txt"'
ok "the workspace was empty until actions/checkout filled it" \
    bash -c 'grep -q "workspace empty before checkout" "$T/log.txt" && grep -q "hello from the repo" "$T/log.txt"'
ok "ferry status lists the run" \
    bash -c '"$FERRY" status >"$T/st.out" && grep -q "app" "$T/st.out" && grep -q "success" "$T/st.out"'
ok "ferry status --json prints the runs array" \
    bash -c "\"\$FERRY\" status --json | /usr/bin/python3 -c 'import json,sys; a=json.load(sys.stdin); sys.exit(0 if isinstance(a,list) and a[0][\"id\"]==$RUN else 1)'"
ok "ferry logs prints the run's log" \
    bash -c "\"\$FERRY\" logs $RUN | grep -q 'hello from the repo'"

(cd "$T/src" && git checkout -q -b feature/x && echo more >>README.md && git commit -qam more)
ok "a feature branch push queues CI again (run number 2)" \
    bash -c "$(declare -f push); push feature/x >/dev/null; sleep 0.2; [ \"\$(api GET '/api/v1/runs?branch=feature/x' | jget runs.0.number)\" = 2 ]"
(cd "$T/src" && git checkout -q -b release && git commit -q --allow-empty -m rel)
ok "a push that triggers nothing queues no run" \
    bash -c "$(declare -f push); push release | grep -q 'queued 0 run'"
exit $_failed
