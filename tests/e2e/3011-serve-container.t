#!/usr/bin/env bash
# ferry serve --platform: a push runs a job whose runs-on label the
# server maps to an image in that image (the map reaches the worker
# through its spec), and a job with its own `container:` in its
# container, on a real engine (a private Podman service).  Their logs
# are in the API; the job containers and networks are gone afterwards,
# also when the worker running a container job is killed with -9 (the
# running server reaps what it left).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

podman_require
plan 12

BASE=$FERRY_BASE_IMAGE
podman_start

mkdir -p "$T/src"
workflow "$T/src" ci.yml <<EOF
on: push
jobs:
  mapped:
    runs-on: ubuntu-latest
    steps:
      - run: |
          busybox | head -1
          test ! -e /usr/bin/gcc && echo "mapped: not the host"
      - id: o
        run: echo "value=from-the-mapped-container" >>"\$GITHUB_OUTPUT"
    outputs:
      value: \${{ steps.o.outputs.value }}
  boxed:
    needs: mapped
    runs-on: self-hosted
    container:
      image: $BASE
      env:
        FROM_CONTAINER: container-env
    steps:
      - run: |
          echo "boxed: \$FROM_CONTAINER \${{ needs.mapped.outputs.value }}"
  plain:
    runs-on: self-hosted
    steps:
      - run: |
          test -e /usr/bin/gcc -o -e /bin/bash && echo "plain: on the host"
EOF
workflow "$T/src" slow.yml <<EOF
on: workflow_dispatch
jobs:
  slow:
    runs-on: self-hosted
    container:
      image: $BASE
    steps:
      - run: echo slow-started; sleep 300
EOF
mkrepo "$T/src"
bare_repo "$T/src" "$T/app.git"
(cd "$T/src" && git remote add origin "$T/app.git")

ok "ferry serve --platform starts" serve_start --platform "ubuntu-latest=$BASE"
ok "a bad --platform is refused" \
    bash -c '! "$FERRY" serve --home "$T/h2" --listen 127.0.0.1:0 --platform nolabel >"$T/bad.out" 2>&1 && grep -q "LABEL=IMAGE" "$T/bad.out"'
ok "repo add --hook registers the repository" \
    bash -c '"$FERRY" repo add app "$T/app.git" --hook >/dev/null 2>&1'
(cd "$T/src" && echo "change" >README.md && git add README.md && git commit -qm "a change")
ok "git push queues one run" \
    bash -c 'cd "$T/src" && git push -q origin main 2>&1 | grep -q "queued 1 run"'
RUN=$(api GET "/api/v1/runs?repo=app" | jget runs.0.id 2>/dev/null)
ok "the run succeeds" bash -c "[ \"\$(wait_run $RUN 180)\" = success ]"
api GET "/api/v1/runs/$RUN/logs" >"$T/log.txt"
ok "the runs-on label mapped by --platform runs in the image" \
    bash -c 'grep -q "BusyBox v" "$T/log.txt" && grep -q "mapped: not the host" "$T/log.txt"'
ok "a job with container: runs in it and gets its needs" \
    bash -c 'grep -q "boxed: container-env from-the-mapped-container" "$T/log.txt"'
ok "a job without a mapping stays on the host" \
    bash -c 'grep -q "plain: on the host" "$T/log.txt"'
# every network the jobs made, and what was on it, is gone
gone() {
    local n names
    names=$(sed -n "s/.*created network '\([^']*\)'.*/\1/p" "$T/log.txt" | sort -u)
    [ "$(echo "$names" | grep -c .)" = 2 ] || { echo "networks: $names"; return 1; }
    for n in $names; do
        podman_api GET /v1.41/networks | grep -q "\"$n\"" &&
            { echo "network $n is left"; return 1; }
        podman_api GET "/v1.41/containers/json?all=1" | grep -q "\"/$n" &&
            { echo "a container of $n is left"; return 1; }
    done
    return 0
}
ok "the job containers and networks are removed" gone

# kill -9 the worker of a running container job: the server reaps its
# job container and network at once (their owner is dead), without a
# restart or another container job
RUN2=$(api POST /api/v1/repos/app/workflows/slow.yml/dispatches -d '{}' |
    jget runs.0.id)
net=
for i in $(seq 1 1200); do
    api GET "/api/v1/runs/$RUN2/logs" >"$T/log2.txt" 2>/dev/null
    if grep -q slow-started "$T/log2.txt"; then
        net=$(sed -n "s/.*created network '\([^']*\)'.*/\1/p" "$T/log2.txt" | head -1)
        break
    fi
    sleep 0.1
done
owner=$(podman_api GET "/v1.41/containers/json?all=1" | /usr/bin/python3 -c '
import json, sys
for c in json.load(sys.stdin):
    if any(n.startswith("/" + sys.argv[1]) for n in c["Names"]):
        print(c["Labels"].get("io.ferry.owner", "")); break' "$net")
wpid=$(echo "$owner" | cut -d: -f2)
ok "the slow job runs in its container (owner $owner)" \
    bash -c "[ -n '$net' ] && [ -n '$wpid' ] && kill -0 '$wpid'"
[ -n "$wpid" ] && kill -KILL "$wpid" 2>/dev/null
ok "the run ends once its worker is killed" \
    bash -c "wait_run $RUN2 60 | grep -qx failure"
left() {
    podman_api GET /v1.41/networks | grep -q "\"$net\"" ||
        podman_api GET "/v1.41/containers/json?all=1" | grep -q "\"/$net"
}
export -f left podman_api
export net PODMAN_SOCK
ok "its job container and network are reaped by the running server" \
    bash -c 'for i in $(seq 1 300); do left || exit 0; sleep 0.1; done
             podman_api GET "/v1.41/containers/json?all=1"; exit 1'
