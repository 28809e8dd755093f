#!/usr/bin/env bash
# A throw-away Docker registry (Debian's docker-registry, distribution
# 2.8) on 127.0.0.1, for tests and the demo: storage in DIR/data, delete
# enabled, no auth, its own config (never the package's, which listens on
# every interface and wants htpasswd).  Idempotent.
#
#   scripts/registry.sh start DIR [PORT]   start (PORT 0 or none: a free
#                                          one); prints "registry:
#                                          127.0.0.1:PORT" once /v2/ answers
#   scripts/registry.sh stop DIR           stop it (by its recorded PID)
#   scripts/registry.sh addr DIR           print 127.0.0.1:PORT if it runs
#
# Files in DIR: registry.yml, registry.pid, registry.addr, registry.log,
# data/.  Podman pushes to it over plain HTTP only when the address is
# listed as insecure: `scripts/podman.sh setup 127.0.0.1:PORT`, before
# the podman service starts.
set -euo pipefail

usage() {
    echo "usage: $0 start DIR [PORT] | stop DIR | addr DIR" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
dir=$2
port=${3:-0}

# running DIR: true when the recorded PID is a docker-registry serving
# DIR's config
running() {
    local pid
    [ -s "$1/registry.pid" ] || return 1
    pid=$(cat "$1/registry.pid")
    [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 1
    tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null |
        grep -qF -- "$1/registry.yml"
}

answers() {
    curl -fsS --max-time 2 -o /dev/null "http://$1/v2/" 2>/dev/null
}

free_port() {
    /usr/bin/python3 -c '
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()'
}

case "$cmd" in
start)
    command -v docker-registry >/dev/null || {
        echo "registry: docker-registry is not installed" \
            "(apt-get install docker-registry)" >&2
        exit 1
    }
    case "$port" in
    '' | *[!0-9]*) usage ;;
    esac
    mkdir -p "$dir/data"
    dir=$(cd "$dir" && pwd)
    if running "$dir"; then
        addr=$(cat "$dir/registry.addr")
        if answers "$addr"; then
            echo "registry: $addr"
            exit 0
        fi
    fi
    [ "$port" != 0 ] || port=$(free_port)
    addr=127.0.0.1:$port
    if answers "$addr"; then
        echo "registry: something else already answers on $addr" >&2
        exit 1
    fi
    cat >"$dir/registry.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog: {disabled: true}
storage:
  filesystem: {rootdirectory: $dir/data}
  delete: {enabled: true}
http:
  addr: $addr
  secret: $(od -An -N16 -tx1 /dev/urandom | tr -d ' \n')
EOF
    # its own session: a test's process-group kill does not reach it,
    # `stop` does
    setsid docker-registry serve "$dir/registry.yml" \
        >>"$dir/registry.log" 2>&1 </dev/null &
    echo $! >"$dir/registry.pid"
    echo "$addr" >"$dir/registry.addr"
    for _ in $(seq 1 100); do
        if answers "$addr"; then
            echo "registry: $addr"
            exit 0
        fi
        running "$dir" || break
        sleep 0.1
    done
    echo "registry: did not answer on $addr; its log:" >&2
    tail -20 "$dir/registry.log" >&2 || true
    "$0" stop "$dir" || true
    exit 1
    ;;
stop)
    [ -d "$dir" ] || exit 0
    dir=$(cd "$dir" && pwd)
    if running "$dir"; then
        pid=$(cat "$dir/registry.pid")
        kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$pid" 2>/dev/null || break
            sleep 0.1
        done
        kill -KILL "$pid" 2>/dev/null || true
    fi
    rm -f "$dir/registry.pid"
    ;;
addr)
    [ -d "$dir" ] || exit 1
    dir=$(cd "$dir" && pwd)
    running "$dir" || exit 1
    cat "$dir/registry.addr"
    ;;
*) usage ;;
esac
