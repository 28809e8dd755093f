#!/usr/bin/env bash
# ferry run: jobs with `container:` and `services:` on a real engine
# (a private Podman service).  Steps run in the job container (busybox,
# not the host), env and outputs cross steps through the bind-mounted
# runner files, a failing step's exit code fails the job, secrets
# printed inside the container are masked, a host job needs a container
# job's outputs, a service answers by its alias after its health check
# passed, an unhealthy service fails the job before any step, -P maps
# runs-on to an image; cancel (SIGINT), a timeout and kill -9 followed
# by a new run leave no container, network or helper process behind.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

podman_require
plan 38

BASE=$FERRY_BASE_IMAGE
WEB=localhost/ferry-e2e-2016-web:latest
NOISY=localhost/ferry-e2e-2016-noisy:latest
image_cleanup() {
    exec 2>/dev/null
    podman rmi -f "$WEB" "$NOISY" >/dev/null 2>&1
    cleanup
}
trap image_cleanup EXIT
podman_start # chains its own clean-up (dead ferrys' objects) before ours

# a service image: busybox httpd on 8080, ready (/ready) after 2 s
mkdir -p "$T/webimg" "$T/noisyimg"
cat >"$T/webimg/Containerfile" <<EOF
FROM $BASE
CMD ["sh", "-c", "mkdir -p /www; echo \"\$MSG\" >/www/index.html; (sleep 2; touch /www/ready) & exec httpd -f -p 8080 -h /www"]
EOF
podman build -q --isolation chroot -t "$WEB" "$T/webimg" >"$T/build.out" 2>&1 ||
    { echo "# cannot build the service image:"; sed 's/^/#   /' "$T/build.out"; exit 1; }

# leftovers PID: "container ID" / "network ID" lines for every managed
# object whose owner label names ferry process PID
leftovers() {
    local q='filters=%7B%22label%22%3A%5B%22io.ferry.managed%3D1%22%5D%7D'
    {
        podman_api GET "/v1.41/containers/json?all=1&$q"
        echo
        podman_api GET "/v1.41/networks?$q"
        echo
    } | /usr/bin/python3 -c '
import json, sys
pid = sys.argv[1]
for i, line in enumerate(l for l in sys.stdin if l.strip()):
    for o in json.loads(line):
        owner = (o.get("Labels") or {}).get("io.ferry.owner", "")
        if (":%s:" % pid) in owner:
            print(("container " if i == 0 else "network ") + o["Id"])
' "$1"
}
no_leftovers() {
    local l
    l=$(leftovers "$1")
    [ -z "$l" ] || { echo "left behind by ferry $1:"; echo "$l"; return 1; }
}
# no helper process of this test's runs (conmon may linger: not counted)
no_helpers() {
    ! pgrep -f -- "__cexec .*$T/" >/dev/null ||
        { echo "helpers left:"; pgrep -af -- "__cexec .*$T/"; return 1; }
}
clean_after() { no_leftovers "$1" && no_helpers; }
has_leftovers() { [ -n "$(leftovers "$1")" ]; }
# the killed ferry's helpers see it die (PR_SET_PDEATHSIG) and stop
helpers_gone() {
    local i
    for i in $(seq 1 50); do
        no_helpers >/dev/null && return 0
        sleep 0.2
    done
    no_helpers
}
# runbg ARGS...: ferry in the background; its pid in $FPID and $T/pids
runbg() {
    "$FERRY" "$@" >"$T/out" 2>"$T/err" &
    FPID=$!
    echo "$FPID" >>"$T/pids"
}
# runfg ARGS...: like run_ferry, pid recorded
runfg() {
    runbg "$@"
    wait "$FPID"
    echo $? >"$T/status"
}
wait_out() {
    local i
    for i in $(seq 1 600); do
        grep -qF -- "$1" "$T/out" && return 0
        sleep 0.1
    done
    echo "never saw: $1"; cat "$T/out" "$T/err"; return 1
}

# ---------- a container job, a host job that needs it, a failing one ----------
R=$T/repo
mkdir -p "$R"
workflow "$R" main.yml <<EOF
on: push
env:
  WF_ENV: from-workflow
jobs:
  box:
    runs-on: ubuntu-latest
    container:
      image: $BASE
      env:
        CONTAINER_ENV: from-container
    outputs:
      answer: \${{ steps.produce.outputs.answer }}
    steps:
      - name: proof
        run: |
          busybox | head -1
          test ! -e /usr/bin/gcc && echo "no gcc: not the host"
          test -f /run/.containerenv -o -f /.dockerenv && echo "in a container"
          echo "shell=\$(tr '\\0' ' ' </proc/\$\$/cmdline | cut -d' ' -f1-2) ws=\$GITHUB_WORKSPACE pwd=\$(pwd)"
          echo "env: \$WF_ENV \$CONTAINER_ENV"
      - id: produce
        run: |
          echo "answer=42" >>"\$GITHUB_OUTPUT"
          echo "::set-output name=legacy::old-style"
          echo "CARRIED=over-the-env-file" >>"\$GITHUB_ENV"
          echo "/opt/extra/bin" >>"\$GITHUB_PATH"
          echo "# summary from the container" >>"\$GITHUB_STEP_SUMMARY"
          echo "made-in-container" >"\$GITHUB_WORKSPACE/artifact.txt"
      - env:
          STEP_ENV: step
        run: |
          echo "outputs: \${{ steps.produce.outputs.answer }} \${{ steps.produce.outputs.legacy }}"
          echo "env file: \$CARRIED \$STEP_ENV"
          case ":\$PATH:" in *:/opt/extra/bin:*) echo "path file: ok";; esac
      - run: echo "the secret is \$SEC"
        env:
          SEC: \${{ secrets.SEC }}
  host:
    needs: box
    runs-on: ubuntu-latest
    steps:
      - run: |
          test -e /usr/bin/gcc -o -e /bin/bash && echo "host job on the host"
          echo "needs: \${{ needs.box.outputs.answer }}"
  fails:
    runs-on: ubuntu-latest
    container: $BASE
    steps:
      - run: echo before; exit 3
      - if: always()
        run: echo "after the failure"
      - if: always()
        shell: bash
        run: echo "bash is not in busybox"
EOF
mkrepo "$R"

runfg run -C "$R" --home "$T/h1" -s SEC=hunter2-s3cret
ok "a run with a failing container job exits 1" status_is 1
ok "the step runs in the busybox container, not on the host" \
    bash -c 'grep -q "| BusyBox v" "$T/out" && grep -q "| no gcc: not the host" "$T/out" && grep -q "| in a container" "$T/out"'
ok "sh is the default shell; the workspace path is the host's" \
    bash -c 'grep -E "\| shell=sh -e ws=(/[^ ]+)/workspace pwd=\1/workspace" "$T/out" | grep -q "$T/h1"'
ok "workflow and container env reach the steps" out_has "| env: from-workflow from-container"
ok "GITHUB_OUTPUT and ::set-output give step outputs" out_has "| outputs: 42 old-style"
ok "GITHUB_ENV carries to the next step, with the step's env" out_has "| env file: over-the-env-file step"
ok "GITHUB_PATH adds to the container's PATH" out_has "| path file: ok"
ok "a secret printed inside the container is masked" \
    bash -c 'grep -q "| the secret is \*\*\*" "$T/out" && ! grep -q hunter2 "$T/out"'
ok "the host job needs the container job's output" \
    bash -c 'grep -q "host job on the host" "$T/out" && grep -q "| needs: 42" "$T/out"'
ok "a failing step reports its exit code and fails the job" \
    bash -c 'grep -q "process completed with exit code 3" "$T/out" && grep -qE "✗ .*/fails +failure" "$T/out"'
ok "if: always() still runs after the failure" out_has "| after the failure"
ok "a shell the image lacks is named" out_has "| ferry: 'bash' is not in the job's container"
ok "the step summary and the workspace file are on the host" \
    bash -c 'grep -rq "summary from the container" "$T"/h1/runs/*/*box*/summary.md && grep -rq made-in-container "$T"/h1/runs/*/*box*/workspace/artifact.txt'
ok "nothing is left behind after the run" no_leftovers "$FPID"

# ---------- services ----------
S=$T/svc
mkdir -p "$S"
workflow "$S" svc.yml <<EOF
on: push
jobs:
  web:
    runs-on: ubuntu-latest
    container: $BASE
    services:
      web:
        image: $WEB
        ports: ['8080']
        env:
          MSG: served-by-the-service
        options: >-
          --health-cmd "test -e /www/ready"
          --health-interval 1s --health-retries 30
    steps:
      - run: wget -qO- http://web:8080/ready >/dev/null && echo "ready before the first step"
      - run: wget -qO- http://web:8080/
      - run: echo "mapped port \${{ job.services.web.ports['8080'] }}"
  from-host:
    runs-on: ubuntu-latest
    services:
      web:
        image: $WEB
        ports: ['8080']
        env:
          MSG: reached-from-the-host
    steps:
      - run: |
          for i in 1 2 3 4 5 6 7 8 9 10; do
            curl -sf "http://127.0.0.1:\${{ job.services.web.ports['8080'] }}/" && exit 0
            sleep 0.5
          done
          exit 1
EOF
mkrepo "$S"
runfg run -C "$S" --home "$T/h2"
ok "a job with services succeeds" status_is 0
ok "the health check passed before the first step" \
    bash -c 'grep -n "service .web. is healthy" "$T/out" | head -1 | cut -d: -f1 >"$T/l1"; grep -n "| ready before the first step" "$T/out" | head -1 | cut -d: -f1 >"$T/l2"; [ -s "$T/l1" ] && [ -s "$T/l2" ] && [ "$(cat "$T/l1")" -lt "$(cat "$T/l2")" ]'
ok "the job container reaches the service by its alias" out_has "| served-by-the-service"
ok "job.services.<id>.ports gives the mapped port" out_matches '\| mapped port [0-9]+$'
ok "a host job reaches a service on 127.0.0.1 and the mapped port" out_has "| reached-from-the-host"
ok "nothing is left behind after the services run" no_leftovers "$FPID"

U=$T/unhealthy
mkdir -p "$U"
workflow "$U" bad.yml <<EOF
on: push
jobs:
  bad:
    runs-on: ubuntu-latest
    container: $BASE
    services:
      sick:
        image: $WEB
        options: --health-cmd false --health-interval 1s --health-retries 2
    steps:
      - run: echo "this step must not run"
EOF
mkrepo "$U"
runfg run -C "$U" --home "$T/h3"
ok "an unhealthy service fails the job before any step" \
    bash -c '[ "$(cat "$T/status")" = 1 ] && grep -q "service .sick. is unhealthy" "$T/out" && ! grep -q "this step must not run" "$T/out"'
ok "nothing is left behind after the failed set-up" no_leftovers "$FPID"

# a service that stops after a long log: its last lines are shown, not
# the first ones
cat >"$T/noisyimg/Containerfile" <<EOF
FROM $BASE
CMD ["sh", "-c", "i=0; while [ \$i -lt 4000 ]; do echo filler-\$i-xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx; i=\$((i+1)); done; echo the-real-error-at-the-end; exit 3"]
EOF
podman build -q --isolation chroot -t "$NOISY" "$T/noisyimg" >"$T/build2.out" 2>&1 ||
    { echo "# cannot build the noisy image:"; sed 's/^/#   /' "$T/build2.out"; exit 1; }
N=$T/noisy
mkdir -p "$N"
workflow "$N" n.yml <<EOF
on: push
jobs:
  bad:
    runs-on: ubuntu-latest
    container: $BASE
    services:
      loud:
        image: $NOISY
    steps:
      - run: echo "this step must not run"
EOF
mkrepo "$N"
runfg run -C "$N" --home "$T/h3n"
ok "a stopped service's log ends with its last line, however long" \
    bash -c '[ "$(cat "$T/status")" = 1 ] && grep -q "service .loud. stopped (exit code 3)" "$T/out" && grep -q "loud | the-real-error-at-the-end" "$T/out" && grep -q "loud | filler-3999-" "$T/out"'

# ---------- -P: runs-on mapped to an image ----------
P=$T/plat
mkdir -p "$P"
workflow "$P" p.yml <<'EOF'
on: push
jobs:
  mapped:
    runs-on: ubuntu-latest
    steps:
      - run: test ! -e /usr/bin/gcc && busybox | head -1
EOF
mkrepo "$P"
runfg run -C "$P" --home "$T/h4" -P ubuntu-latest=$BASE
ok "-P ubuntu-latest=IMAGE runs the job in that image" \
    bash -c '[ "$(cat "$T/status")" = 0 ] && grep -q "| BusyBox v" "$T/out" && grep -q "starting the job container" "$T/out"'

# a ':' in the home's path: the job directory is mounted as itself
# (a Binds "SRC:DST" string would split it)
P2=$T/plat2
mkdir -p "$P2"
workflow "$P2" p.yml <<'EOF'
on: push
jobs:
  mapped:
    runs-on: ubuntu-latest
    steps:
      - run: echo "home ok" >"$GITHUB_WORKSPACE/seen" && cat "$GITHUB_WORKSPACE/seen"
EOF
mkrepo "$P2"
runfg run -C "$P2" --home "$T/h:4" -P ubuntu-latest=$BASE
ok "a home path with ':' still mounts the job directory" \
    bash -c '[ "$(cat "$T/status")" = 0 ] && grep -q "| home ok" "$T/out" && [ -n "$(find "$T/h:4" -name seen)" ]'

ok "--dry-run plans a container job without an engine" \
    bash -c 'DOCKER_HOST=unix://$T/none.sock "$FERRY" run -n -C "$T/plat" --home "$T/h4n" -P ubuntu-latest=x/y >"$T/dry.out" 2>&1 && grep -q "(dry run) test ! -e /usr/bin/gcc" "$T/dry.out"'
ok "without an engine a container job fails with the reason" \
    bash -c '! DOCKER_HOST=unix://$T/none.sock "$FERRY" run -C "$T/plat" --home "$T/h4e" -P ubuntu-latest=x/y >"$T/none.out" 2>&1 && grep -q "no container engine at unix://$T/none.sock" "$T/none.out" && ! grep -q "⭐" "$T/none.out"'

# ---------- cancel, timeout, kill -9 ----------
C=$T/cancel
mkdir -p "$C"
workflow "$C" c.yml <<EOF
on: push
jobs:
  long:
    runs-on: ubuntu-latest
    container: $BASE
    services:
      web:
        image: $WEB
    steps:
      - run: echo started; sleep 300; echo never
EOF
workflow "$C" t.yml <<EOF
on: workflow_dispatch
jobs:
  slow:
    runs-on: ubuntu-latest
    container: $BASE
    steps:
      - run: echo started; sleep 300; echo never
        timeout-minutes: 0.05
      - if: always()
        run: echo "the container still works"
EOF
mkrepo "$C"
runbg run -C "$C" --home "$T/h5" -W "$C/.github/workflows/c.yml"
ok "a long container step starts" wait_out "| started"
kill -INT "$FPID"
wait "$FPID"
echo $? >"$T/status"
ok "SIGINT cancels the container job" \
    bash -c '[ "$(cat "$T/status")" = 1 ] && grep -qE "⊘ .*/long +cancelled" "$T/out" && ! grep -q "| never" "$T/out"'
ok "after SIGINT no container or network is left" no_leftovers "$FPID"
ok "after SIGINT no __cexec helper is left" no_helpers

runfg run workflow_dispatch -C "$C" --home "$T/h6" -W "$C/.github/workflows/t.yml"
ok "timeout-minutes stops the step inside the container" \
    bash -c '[ "$(cat "$T/status")" = 1 ] && grep -q "exceeded its timeout-minutes" "$T/out" && ! grep -q "| never" "$T/out" && grep -q "| the container still works" "$T/out"'
ok "after the timeout nothing is left" clean_after "$FPID"

runbg run -C "$C" --home "$T/h7" -W "$C/.github/workflows/c.yml"
wait_out "| started" >/dev/null
KILLED=$FPID
exec 3>&2 2>/dev/null # no "Killed" notice from bash
kill -9 "$KILLED"
wait "$KILLED"
exec 2>&3 3>&-
ok "kill -9 during a container job leaves its objects (no one to remove them)" \
    has_leftovers "$KILLED"
runfg run -C "$P" --home "$T/h8" -P ubuntu-latest=$BASE
ok "the next ferry run succeeds" status_is 0
ok "and leaves no container or network of the killed ferry" no_leftovers "$KILLED"
ok "its own objects are gone too" no_leftovers "$FPID"
ok "no __cexec helper of the killed run is left" \
    helpers_gone
