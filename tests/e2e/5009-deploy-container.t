#!/usr/bin/env bash
# ferry/deploy with target: container, through `ferry run` of a workflow
# that builds the app (busybox httpd serving its version) with
# ferry/image@v1, pushes it to a throw-away registry and deploys it by
# digest, blue-green behind `ferry proxy`: v1 serves; v2 takes over and
# v1's containers are removed (or kept for keep-previous, then removed);
# a v3 whose health check fails rolls back to v2; `--rollback` brings
# v2's containers back from its image; rolling, canary and recreate move
# between the pushed images too; nothing is left at the end.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/deploy-lib.sh"
. "$(dirname "$0")/podman-lib.sh"

command -v docker-registry >/dev/null ||
    { echo "1..0 # SKIP docker-registry is not installed"; exit 0; }
podman_require
plan 20
uses_env production crash

REGDIR=$T/registry
REG=$("$ROOT/scripts/registry.sh" start "$REGDIR" 0 | sed -n 's/^registry: //p')
[ -n "$REG" ] || { echo "Bail out! the registry did not start"; "$ROOT/scripts/registry.sh" stop "$REGDIR"; exit 1; }
# names of this test's containers (by the labels ferry gives them):
# running ones of version $1 (all versions when empty), stopped ones too
# when $2 is 1; through the engine's API (the podman CLI is slower)
engine_ps() {
    local f="\"io.ferry.deploy.envdir=$FERRY_DEPLOY_HOME/production\""
    [ -n "${1:-}" ] && f="$f,\"io.ferry.deploy.version=$1\""
    curl -fsS -G --unix-socket "$PODMAN_SOCK" http://d/v1.41/containers/json \
        --data-urlencode "all=${2:-0}" --data-urlencode "filters={\"label\":[$f]}" |
        /usr/bin/python3 -c '
import json, sys
for c in json.load(sys.stdin):
    print(c["Names"][0].lstrip("/"))'
}
count_version() { engine_ps "$1" | grep -c .; }
export -f engine_ps count_version
export PODMAN_SOCK
container_cleanup() {
    exec 2>/dev/null
    "$FERRY" __deploy --stop production >/dev/null
    # whatever the step could not remove: straight through the engine
    podman ps -aq --filter "label=io.ferry.deploy.envdir=$FERRY_DEPLOY_HOME/production" |
        xargs -r podman rm -f >/dev/null
    podman images --format '{{.Repository}}:{{.Tag}}' | grep -F "$REG/" |
        xargs -r podman rmi -f >/dev/null
    podman images --format '{{.Repository}}@{{.Digest}}' | grep -F "$REG/" |
        xargs -r podman rmi -f >/dev/null
    podman_cleanup
    "$ROOT/scripts/registry.sh" stop "$REGDIR"
    deploy_cleanup
}
trap container_cleanup EXIT
podman_start "$REG"
# podman_start chained the trap it found; ours alone, so that the
# environment is torn down while the service still answers
trap container_cleanup EXIT
proxy_start || exit 1

R=$T/repo
mkdir -p "$R"
cat >"$R/Containerfile" <<'EOF'
FROM localhost/ferry-base:latest
ARG VERSION=dev
ARG HEALTHY=yes
RUN mkdir -p /www && echo "$VERSION" > /www/index.html && \
    if [ "$HEALTHY" = yes ]; then echo ok > /www/health; fi
CMD ["httpd", "-f", "-p", "8080", "-h", "/www"]
EOF
workflow "$R" deliver.yml <<EOF
on: push
jobs:
  deliver:
    runs-on: ubuntu-latest
    environment: production
    steps:
      - uses: actions/checkout@v4
      - id: img
        uses: ferry/image@v1
        with:
          name: $REG/ferry/web
          push: true
          tags: \${{ vars.VERSION }}
          build-args: |
            VERSION=\${{ vars.VERSION }}
            HEALTHY=\${{ vars.HEALTHY }}
      - uses: ferry/deploy@v1
        with:
          environment: production
          target: container
          image: \${{ steps.img.outputs.ref }}
          version: \${{ vars.VERSION }}
          instances: 2
          strategy: blue-green
          keep-previous: \${{ vars.KEEP }}
          proxy: ferry:$PROXY_ADMIN
          health: http:/health
          health-interval: 200ms
          health-failures: 3
          env: |
            GREETING=hello
EOF
mkrepo "$R" >/dev/null
deliver() { run_ferry run push -C "$R" --var VERSION="$1" --var HEALTHY="${2:-yes}" --var KEEP="${3:-0}"; }

deliver v1
ok "ferry run builds, pushes and deploys v1 as 2 containers" bash -c '
    status_is 0 && out_has "deployed v1 to '"'production'"'" && out_matches "report: image '"$REG"'/ferry/web@sha256:[0-9a-f]{64}"'
ok "the proxy serves v1 from both containers" bash -c '
    [ "$(versions_seen 20 | awk "{print \$2}")" = v1 ] &&
    [ "$(curl -s "http://$PROXY_ADMIN/backends" | grep -o "production-v1-[0-9]" | sort -u | wc -l)" = 2 ]'
ok "each container: labels, init, restart policy, port on 127.0.0.1, env" bash -c '
    c=$(engine_ps v1 | head -1)
    [ -n "$c" ] || exit 1
    f="{{.HostConfig.Init}} {{.HostConfig.RestartPolicy.Name}} {{index .Config.Labels \"io.ferry.deploy.environment\"}}"
    s=$(podman inspect --format "$f" "$c"); echo "$s"
    [ "$s" = "true unless-stopped production" ] || exit 1
    podman inspect --format "{{json .HostConfig.PortBindings}}" "$c" | grep -q "\"HostIp\":\"127.0.0.1\"" &&
    podman inspect --format "{{json .Config.Env}}" "$c" | grep -q "GREETING=hello" &&
    podman inspect --format "{{.Config.Image}}" "$c" | grep -q "@sha256:"'
ok "state: v1 current, target container, image by digest" bash -c '
    [ "$(state_get production current.target)" = container ] &&
    state_get production current.image | grep -q "^'"$REG"'/ferry/web@sha256:"'

load_start
deliver v2
load_stop
ok "v2 is deployed blue-green" bash -c 'status_is 0 && out_has "[traffic] succeeded: switched to the new version" && out_has "deployed v2 to '"'production'"'"'
ok "no request failed during the switch ($LOAD_SENT sent)" bash -c "[ $LOAD_SENT -gt 0 ] && [ $LOAD_FAILED = 0 ] || { sort \"$T/load.codes\" | uniq -c; exit 1; }"
ok "only v2 answers" bash -c '[ "$(versions_seen 20 | awk "{print \$2}")" = v2 ]'
V2REF=$(state_get production current.image)
ok "v1's containers are gone, v2 has 2" bash -c '
    [ "$(count_version v2)" = 2 ] && [ -z "$(engine_ps v1 1)" ]' 

# v3 cannot pass its health check: the rollback keeps v2
deliver v3 no 0
ok "v3 fails its health check and is rolled back" bash -c '
    status_is 1 && out_has "[health] failed" && out_has "[rollback] succeeded: v2 is back"'
ok "v2 still answers, v3 left nothing behind" bash -c '
    [ "$(versions_seen 20 | awk "{print \$2}")" = v2 ] &&
    [ "$(count_version v3)" = 0 ] && [ "$(count_version v2)" = 2 ] &&
    [ "$(state_get production current.version)" = v2 ]'

# keep-previous: v4 switches, v2 stays for the window, then goes
deliver v4 yes 5s &
DELIVER=$!
_pids+=("$DELIVER")
for i in $(seq 1 600); do
    [ "$(through_proxy / 2>/dev/null)" = v4 ] && break
    sleep 0.1
done
ok "keep-previous: v4 serves while v2's containers still run" bash -c '
    [ "$(versions_seen 10 | awk "{print \$2}")" = v4 ] && [ "$(count_version v2)" = 2 ]'
wait "$DELIVER"
V4REF=$(state_get production current.image)
ok "after keep-previous, v2's containers are removed" bash -c '
    status_is 0 && out_has "keeping the previous version for" && [ "$(count_version v2)" = 0 ] && [ "$(count_version v4)" = 2 ]'

# by hand: back to v2, whose containers are started again from its image
load_start
run_ferry __deploy --rollback production --reason "by hand in a test"
load_stop
ok "--rollback starts v2's containers again and switches back" bash -c '
    status_is 0 && out_has "[rollback] succeeded: v2 is back" &&
    [ "$(versions_seen 20 | awk "{print \$2}")" = v2 ] &&
    [ "$(count_version v2)" = 2 ] && [ "$(count_version v4)" = 0 ]'
ok "no request failed during the rollback ($LOAD_SENT sent)" bash -c "[ $LOAD_SENT -gt 0 ] && [ $LOAD_FAILED = 0 ]"

# the other strategies, straight from the pushed images
R2=$T/empty
mkdir -p "$R2"
dep() {
    R=$R2 deploy_step environment=production target=container image="$2" \
        version="$1" instances=2 strategy="$3" proxy="ferry:$PROXY_ADMIN" \
        health=http:/health health-interval=200ms "${@:4}"
}
load_start
dep v4 "$V4REF" rolling batch-size=1
load_stop
ok "rolling from v2 to v4, one container at a time, nothing failed ($LOAD_SENT sent)" bash -c '
    status_is 0 && out_has "batch: 1 new instance (2 of 2)" && [ '"$LOAD_FAILED"' = 0 ] &&
    [ "$(versions_seen 10 | awk "{print \$2}")" = v4 ] &&
    [ "$(count_version v4)" = 2 ] && [ "$(count_version v2)" = 0 ]'
dep v2 "$V2REF" canary "steps=setWeight: 50
pause: 300ms"
ok "canary from v4 to v2" bash -c '
    status_is 0 && out_has "weight 50 % to the new version" &&
    [ "$(versions_seen 10 | awk "{print \$2}")" = v2 ] &&
    [ "$(count_version v2)" = 2 ] && [ "$(count_version v4)" = 0 ]'
dep v4 "$V4REF" recreate
ok "recreate from v2 to v4" bash -c '
    status_is 0 && out_has "recreate: stopping 2 instances first" &&
    [ "$(versions_seen 10 | awk "{print \$2}")" = v4 ] &&
    [ "$(count_version v4)" = 2 ] && [ "$(count_version v2)" = 0 ]'

# an image whose command exits at once (the base image's sh, without a
# terminal) fails the start with its log; nothing stays behind
R=$R2 deploy_step environment=crash target=container \
    image=localhost/ferry-base:latest version=v1 health=tcp
ok "a container that exits at once fails the start and is removed" bash -c '
    status_is 1 && err_has "did not start: container ferry-crash-v1-1-" &&
    err_has "no previous version to roll back to" &&
    [ -z "$(curl -fsS -G --unix-socket "$PODMAN_SOCK" http://d/v1.41/containers/json \
        --data-urlencode all=1 --data-urlencode "filters={\"label\":[\"io.ferry.deploy.envdir=$FERRY_DEPLOY_HOME/crash\"]}" |
        grep -o "\"Id\"")" ]'

run_ferry __deploy --stop production
ok "--stop removes every container of the environment" bash -c '
    status_is 0 && [ -z "$(engine_ps "" 1)" ]'
ok "no process left over" no_leftovers
