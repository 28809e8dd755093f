#!/usr/bin/env bash
# A throw-away Docker registry (Debian's docker-registry, distribution
# 2.8) on 127.0.0.1, for tests and the demo: storage in DIR/data, delete
# enabled, no auth unless asked, its own config (never the package's,
# which listens on every interface and wants htpasswd).  Idempotent.
#
#   scripts/registry.sh start [--auth USER:PASSWORD] DIR [PORT]
#                                          start (PORT 0 or none: a free
#                                          one); prints "registry:
#                                          127.0.0.1:PORT" once /v2/ answers
#                                          (200, or 401 with --auth)
#   scripts/registry.sh stop DIR           stop it (by its recorded PID)
#   scripts/registry.sh addr DIR           print 127.0.0.1:PORT if it runs
#
# --auth: htpasswd auth (realm ferry-test) with that one user, bcrypt
# hashed (distribution accepts nothing else) by libcrypt through perl:
# no apache2-utils needed.  Anonymous requests then get 401; it is still
# plain HTTP, so the password is for throw-away test registries only
# (it is also visible in `ps` while this script runs).
#
# Files in DIR: registry.yml, registry.pid, registry.addr, registry.log,
# data/, htpasswd (with --auth).  Podman pushes to it over plain HTTP only when the address is
# listed as insecure: `scripts/podman.sh setup 127.0.0.1:PORT`, before
# the podman service starts.
set -euo pipefail

usage() {
    echo "usage: $0 start [--auth USER:PASSWORD] DIR [PORT] | stop DIR |" \
        "addr DIR" >&2
    exit 2
}

[ $# -ge 2 ] || usage
cmd=$1
shift
auth=
if [ "$cmd" = start ] && [ "$1" = --auth ]; then
    [ $# -ge 3 ] || usage
    auth=$2
    shift 2
    case "$auth" in
    *:*) ;;
    *) usage ;;
    esac
    case "${auth%%:*}" in
    '' | *[!A-Za-z0-9._-]*)
        echo "registry: --auth: the user is letters, digits, '.', '_'" \
            "or '-'" >&2
        exit 2
        ;;
    esac
    [ -n "${auth#*:}" ] || usage
fi
dir=$1
port=${2:-0}

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

# answers HOST:PORT: /v2/ says 200, or 401 (a registry with auth)
answers() {
    local code
    code=$(curl -sS --max-time 2 -o /dev/null -w '%{http_code}' \
        "http://$1/v2/" 2>/dev/null) || return 1
    [ "$code" = 200 ] || [ "$code" = 401 ]
}

# same_auth DIR USER:PASSWORD: the running registry of DIR has that auth
# ("" for none)
same_auth() {
    local yml=$1/registry.yml
    if [ -z "$2" ]; then
        if grep -q 'htpasswd:' "$yml"; then return 1; fi
        return 0
    fi
    grep -q 'htpasswd:' "$yml" && [ -s "$1/htpasswd" ] || return 1
    FERRY_REG_PW=${2#*:} perl -e '
        my ($u, $h) = split(/:/, <STDIN>, 2);
        chomp $h;
        exit(($u eq $ARGV[0] && crypt($ENV{FERRY_REG_PW}, $h) eq $h) ? 0 : 1);' \
        "${2%%:*}" <"$1/htpasswd"
}

# bcrypt USER PASSWORD: one htpasswd line (bcrypt, cost 10, a random
# salt); libcrypt (libxcrypt) does the hashing
bcrypt_line() {
    FERRY_REG_PW=$2 perl -e '
        my @c = ("a".."z", "A".."Z", "0".."9", ".", "/");
        open(my $r, "<", "/dev/urandom") or die "urandom: $!";
        read($r, my $b, 21) == 21 or die "urandom: short read";
        my $salt = join("", map { $c[ord($_) % 64] } split(//, $b));
        # the 22nd character holds 2 bits only
        $salt .= (".", "O", "e", "u")[int(rand(4))];
        my $h = crypt($ENV{FERRY_REG_PW}, "\$2b\$10\$$salt");
        defined $h && $h =~ /^\$2b\$10\$.{53}$/ or
            die "libcrypt cannot hash bcrypt\n";
        print "$ARGV[0]:$h\n";' "$1"
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
        # already serving: only with the same auth (the registry reads
        # its htpasswd once, at start)
        if ! same_auth "$dir" "$auth"; then
            echo "registry: it runs in $dir with other auth settings;" \
                "stop it first" >&2
            exit 1
        fi
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
    authconf=
    if [ -n "$auth" ]; then
        (umask 077 && bcrypt_line "${auth%%:*}" "${auth#*:}" \
            >"$dir/htpasswd.new") || exit 1
        mv -f "$dir/htpasswd.new" "$dir/htpasswd"
        authconf="auth:
  htpasswd: {realm: ferry-test, path: $dir/htpasswd}"
    else
        rm -f "$dir/htpasswd"
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
$authconf
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
