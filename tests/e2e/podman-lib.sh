# shellcheck shell=bash
# Podman as the Docker engine for end-to-end tests, sourced after lib.sh
# (and after deploy-lib.sh when a test uses both):
#
#   . "$(dirname "$0")/lib.sh"
#   . "$(dirname "$0")/podman-lib.sh"
#   podman_require                  # before `plan`: skip_all without podman
#   podman_start [HOST:PORT]...     # a private service on $T/podman.sock,
#                                   # those registries insecure for it;
#                                   # exports DOCKER_HOST
#   plan N
#
# The EXIT trap stops the service and removes what a dead ferry of this
# test left (containers and networks labelled io.ferry.managed whose
# io.ferry.owner process is gone), then runs the trap that was there.
# Note: exec sessions leave a `conmon` for up to 300 s (--exit-delay), so
# do not count processes; and PID 1 of a container ignores SIGTERM unless
# HostConfig.Init is true.

PODMAN_SH=$ROOT/scripts/podman.sh
PODMAN_SOCK=$T/podman.sock
PODMAN_PID=
FERRY_BASE_IMAGE=${FERRY_BASE_IMAGE:-localhost/ferry-base:latest}

# podman_require: TAP skip_all (exit 0) when podman is not installed;
# otherwise make sure the machine is set up (scripts/podman.sh setup, as
# root, only when needed) and the base image exists.  Bails out when that
# fails: podman is there but unusable, which is a failure, not a skip.
podman_require() {
    local out
    if ! command -v podman >/dev/null 2>&1; then
        echo "1..0 # SKIP podman is not installed"
        exit 0
    fi
    if ! out=$("$PODMAN_SH" check 2>&1); then
        if grep -q 'not set up' <<<"$out"; then
            out=$("$PODMAN_SH" setup 2>&1) ||
                { echo "Bail out! scripts/podman.sh setup failed: $out"; exit 1; }
        fi
    fi
    out=$("$PODMAN_SH" base-image 2>&1) ||
        { echo "Bail out! scripts/podman.sh base-image failed: $out"; exit 1; }
}

# podman_start [HOST:PORT]...: start `podman system service` on
# $T/podman.sock with those registries marked insecure (a registries.conf
# of its own: the service reads it once, at start); exports DOCKER_HOST
# and PODMAN_PID.  Bails out when the service does not answer.
podman_start() {
    local a prev
    : >"$T/registries.conf"
    for a in "$@"; do
        printf '[[registry]]\nlocation = "%s"\ninsecure = true\n\n' "$a" \
            >>"$T/registries.conf"
    done
    PODMAN_PID=$(CONTAINERS_REGISTRIES_CONF=$T/registries.conf \
        "$PODMAN_SH" start "$PODMAN_SOCK" 2>"$T/podman-start.err") || {
        echo "Bail out! podman system service did not start:" \
            "$(tail -5 "$T/podman-start.err" | tr '\n' ' ')"
        exit 1
    }
    export DOCKER_HOST=unix://$PODMAN_SOCK
    prev=$(trap -p EXIT | sed -e "s/^trap -- '//" -e "s/' EXIT\$//")
    # shellcheck disable=SC2064  # the previous trap is expanded now
    trap "podman_cleanup; ${prev:-cleanup}" EXIT
}

# podman_api METHOD PATH [curl args...]: one Engine API call on our
# service (PATH with its version: /v1.41/containers/json); body on stdout
podman_api() {
    local m=$1 p=$2
    shift 2
    curl -sS --unix-socket "$PODMAN_SOCK" -X "$m" "$@" "http://d$p"
}

# owner_alive HOST:PID:START: does that ferry process still run here?
owner_alive() {
    local owner=$1 host pid start now
    start=${owner##*:}
    owner=${owner%:*}
    pid=${owner##*:}
    host=${owner%:*}
    [ "$host" = "$(cat /proc/sys/kernel/hostname)" ] || return 0
    [ -r "/proc/$pid/stat" ] || return 1
    now=$(sed 's/.*) //' "/proc/$pid/stat" | cut -d' ' -f20)
    [ "$now" = "$start" ]
}

# podman_leftovers: managed containers and networks whose owner is dead,
# one "container|network ID OWNER" a line (empty: nothing left behind)
podman_leftovers() {
    local id owner
    podman ps -a --filter label=io.ferry.managed=1 \
        --format '{{.ID}} {{index .Labels "io.ferry.owner"}}' 2>/dev/null |
        while read -r id owner; do
            [ -n "$owner" ] && ! owner_alive "$owner" &&
                echo "container $id $owner"
        done
    podman network ls --filter label=io.ferry.managed=1 \
        --format '{{.ID}} {{index .Labels "io.ferry.owner"}}' 2>/dev/null |
        while read -r id owner; do
            [ -n "$owner" ] && ! owner_alive "$owner" &&
                echo "network $id $owner"
        done
}

# podman_cleanup: remove the leftovers, stop our service
podman_cleanup() {
    local kind id owner
    podman_leftovers | while read -r kind id owner; do
        if [ "$kind" = container ]; then
            podman rm -f -v "$id" >/dev/null 2>&1
        else
            podman network rm -f "$id" >/dev/null 2>&1
        fi
    done
    [ -n "$PODMAN_PID" ] && "$PODMAN_SH" stop "$PODMAN_PID"
    PODMAN_PID=
    return 0
}
