#!/usr/bin/env bash
# ferry serve --platform: a push runs a job whose runs-on label the
# server maps to an image in that image (the map reaches the worker
# through its spec), and a job with its own `container:` in its
# container, on a real engine (a private Podman service).  Their logs
# are in the API; the job containers and networks are gone afterwards.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/podman-lib.sh"

podman_require
plan 9

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
