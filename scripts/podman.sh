#!/usr/bin/env bash
# Podman as the Docker engine for ferry's tests, CI and demo, on a fresh
# machine without Docker or systemd.  Idempotent.
#
#   scripts/podman.sh setup [HOST:PORT]...  configure containers.conf (the
#                                           ulimits runc can set here) and
#                                           mark local registries insecure
#                                           (default 127.0.0.1:5000)
#   scripts/podman.sh start SOCKET          `podman system service` on
#                                           unix://SOCKET in the background;
#                                           waits for /_ping, prints its PID
#   scripts/podman.sh stop PID              stop a service started above
#   scripts/podman.sh base-image            localhost/ferry-base:latest from
#                                           busybox-static, no network
#   scripts/podman.sh check                 say what is missing (exit 1)
#
# Environment: PODMAN_START_TIMEOUT (seconds, default 15), FERRY_BASE_IMAGE
# (default localhost/ferry-base:latest), and podman's own CONTAINERS_CONF
# and CONTAINERS_REGISTRIES_CONF, which `start` passes on to the service.
set -euo pipefail

CONF=${FERRY_CONTAINERS_CONF:-/etc/containers/containers.conf}
REGDIR=${FERRY_REGISTRIES_DIR:-/etc/containers/registries.conf.d}
REGFILE=$REGDIR/50-ferry-local.conf
BASE=${FERRY_BASE_IMAGE:-localhost/ferry-base:latest}
MARK="# set by ferry scripts/podman.sh"

die() { echo "podman.sh: $*" >&2; exit 1; }

usage() {
    sed -n '4,15p' "$0" | sed 's/^# \{0,1\}//' >&2
    exit 2
}

need_podman() {
    command -v podman >/dev/null 2>&1 ||
        die "podman is not installed (apt-get install podman runc conmon" \
            "netavark aardvark-dns catatonit iptables busybox-static)"
}

# ---------- setup ----------

# A hard limit as a number ("unlimited" becomes podman's own default).
hard_limit() {
    local v
    v=$(ulimit -H "$1")
    [ "$v" = unlimited ] && v=$2
    echo "$v"
}

ulimits() {
    local nofile nproc pidmax
    nofile=$(hard_limit -n 1048576)
    nproc=$(hard_limit -u 4194304)
    pidmax=$(cat /proc/sys/kernel/pid_max 2>/dev/null || echo "$nproc")
    [ "$pidmax" -lt "$nproc" ] && nproc=$pidmax
    echo "\"nofile=$nofile:$nofile\", \"nproc=$nproc:$nproc\""
}

# Merge "SECTION KEY VALUE" lines (stdin of awk's -v settings) into the
# TOML file on stdin: a key already in its section is replaced (a
# multi-line array too), a missing key goes under its section header, a
# missing section is appended.  Everything else is kept as it is.
toml_merge() {
    awk -v settings="$1" -v mark="$MARK" '
    function flush_section(s,   i) {
        for (i = 1; i <= n; i++)
            if (sec[i] == s && !done[i]) {
                print key[i] " = " val[i] "  " mark
                done[i] = 1
            }
    }
    BEGIN {
        n = split(settings, lines, "\n")
        for (i = 1; i <= n; i++) {
            split(lines[i], f, "\t")
            sec[i] = f[1]; key[i] = f[2]; val[i] = f[3]
        }
        cur = ""
        skipping = 0
    }
    {
        if (skipping) {
            if ($0 ~ /\]/) skipping = 0
            next
        }
        if ($0 ~ /^[ \t]*\[\[/) {
            flush_section(cur)
            cur = "[[array]]"
            print
            next
        }
        if ($0 ~ /^[ \t]*\[/) {
            flush_section(cur)
            cur = $0
            sub(/^[ \t]*\[/, "", cur); sub(/\].*$/, "", cur)
            gsub(/[ \t]/, "", cur)
            seen[cur] = 1
            print
            next
        }
        for (i = 1; i <= n; i++) {
            if (sec[i] != cur) continue
            re = "^[ \t]*" key[i] "[ \t]*="
            if ($0 ~ re) {
                if (!done[i]) print key[i] " = " val[i] "  " mark
                done[i] = 1
                rest = $0; sub(/^[^=]*=[ \t]*/, "", rest)
                if (rest ~ /^\[/ && rest !~ /\]/) skipping = 1
                next
            }
        }
        print
    }
    END {
        flush_section(cur)
        for (i = 1; i <= n; i++) {
            if (done[i]) continue
            if (!(sec[i] in printed)) {
                if (NR > 0) print ""
                print "[" sec[i] "]"
                printed[sec[i]] = 1
            }
            for (j = i; j <= n; j++)
                if (sec[j] == sec[i] && !done[j]) {
                    print key[j] " = " val[j] "  " mark
                    done[j] = 1
                }
        }
    }'
}

# Write @2 (content) to @1 atomically, only when it changed.
write_file() {
    local path=$1 content=$2 tmp
    if [ -f "$path" ] && [ "$(cat "$path")" = "$content" ]; then
        return 1
    fi
    mkdir -p "$(dirname "$path")"
    tmp=$(mktemp "$path.XXXXXX")
    printf '%s\n' "$content" >"$tmp"
    chmod 644 "$tmp"
    mv -f "$tmp" "$path"
}

valid_addr() {
    [[ $1 =~ ^[A-Za-z0-9.-]+(:[0-9]{1,5})?$ ]] ||
        [[ $1 =~ ^\[[0-9A-Fa-f:]+\](:[0-9]{1,5})?$ ]]
}

registries_content() {
    local a
    echo "$MARK; \`scripts/podman.sh setup HOST:PORT\` adds more."
    echo "# Plain-HTTP registries for tests and the demo (Docker treats"
    echo "# 127.0.0.0/8 as insecure by itself; Podman needs this)."
    for a in "$@"; do
        printf '\n[[registry]]\nlocation = "%s"\ninsecure = true\n' "$a"
    done
}

cmd_setup() {
    local addrs=() a settings old new changed=0 nb=
    for a in "$@"; do
        valid_addr "$a" || die "bad registry address '$a' (want HOST:PORT)"
        addrs+=("$a")
    done
    [ ${#addrs[@]} -eq 0 ] && addrs=(127.0.0.1:5000)
    if [ "$(id -u)" -ne 0 ]; then
        if command -v sudo >/dev/null 2>&1; then
            exec sudo -- "$0" setup "${addrs[@]}"
        fi
        echo "podman.sh: setup writes $CONF and $REGFILE and needs root;" \
            "no sudo here. As root run:" >&2
        echo "  $0 setup ${addrs[*]}" >&2
        exit 1
    fi
    need_podman
    # keep the registries already listed in our file
    if [ -f "$REGFILE" ]; then
        while read -r a; do
            [[ " ${addrs[*]} " == *" $a "* ]] || addrs+=("$a")
        done < <(sed -n 's/^location = "\(.*\)"$/\1/p' "$REGFILE")
    fi
    # sorted: the same set of addresses writes the same file
    mapfile -t addrs < <(printf '%s\n' "${addrs[@]}" | sort -u)
    settings=$(printf 'containers\tdefault_ulimits\t[%s]\nengine\truntime\t"runc"\nengine\tcgroup_manager\t"cgroupfs"\nengine\tevents_logger\t"file"' "$(ulimits)")
    # netavark is only a Recommends of podman: pin it when it is there, so
    # a packaged CNI config never switches the backend
    for nb in /usr/lib/podman/netavark /usr/libexec/podman/netavark; do
        if [ -x "$nb" ]; then
            settings=$(printf '%s\nnetwork\tnetwork_backend\t"netavark"' "$settings")
            break
        fi
    done
    old=
    [ -f "$CONF" ] && old=$(cat "$CONF")
    if [ -n "$old" ]; then
        new=$(printf '%s\n' "$old" | toml_merge "$settings")
    else
        new=$(printf '%s\n' "$MARK: the limits runc may set here" |
            toml_merge "$settings")
    fi
    write_file "$CONF" "$new" && changed=" $CONF"
    write_file "$REGFILE" "$(registries_content "${addrs[@]}")" &&
        changed="${changed#0} $REGFILE"
    if [ "$changed" != 0 ]; then
        echo "podman.sh: wrote$changed;" \
            "restart running 'podman system service' processes"
    else
        echo "podman.sh: $CONF and $REGFILE are already set up"
    fi
}

# ---------- start / stop ----------

ping_ok() {
    curl -s -m 2 --unix-socket "$1" http://d/_ping 2>/dev/null | grep -q '^OK$'
}

cmd_start() {
    [ $# -eq 1 ] || usage
    local sock=$1 pid i timeout=${PODMAN_START_TIMEOUT:-15} log
    need_podman
    command -v curl >/dev/null 2>&1 || die "curl is not installed"
    case $sock in /*) ;; *) sock=$PWD/$sock ;; esac
    [ -d "$(dirname "$sock")" ] || die "no directory for '$sock'"
    if [ -S "$sock" ] && ping_ok "$sock"; then
        die "an engine already answers on '$sock'"
    fi
    if [ -z "${CONTAINERS_CONF:-}" ] &&
        ! grep -q '^default_ulimits' "$CONF" 2>/dev/null; then
        echo "podman.sh: warning: $CONF has no default_ulimits; containers" \
            "may fail with 'error setting rlimits' (run: $0 setup)" >&2
    fi
    rm -f "$sock"
    log=$sock.log
    # its own session: a test's trap kills it by PID, never by group of
    # the caller; stdout/stderr to a file, so $(podman.sh start) returns
    setsid podman system service --time=0 "unix://$sock" \
        </dev/null >"$log" 2>&1 &
    pid=$!
    for ((i = 0; i < timeout * 20; i++)); do
        if [ -S "$sock" ] && ping_ok "$sock"; then
            echo "$pid"
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.05
    done
    kill -TERM "$pid" 2>/dev/null || true
    echo "podman.sh: the service on '$sock' did not answer /_ping within" \
        "${timeout}s; its log ($log):" >&2
    tail -20 "$log" >&2 || true
    exit 1
}

cmd_stop() {
    if [ $# -ne 1 ] || ! [[ $1 =~ ^[0-9]+$ ]]; then
        usage
    fi
    local pid=$1 i
    kill -TERM "$pid" 2>/dev/null || return 0
    for ((i = 0; i < 100; i++)); do
        kill -0 "$pid" 2>/dev/null || return 0
        sleep 0.05
    done
    kill -KILL "$pid" 2>/dev/null || true
}

# ---------- the base image ----------

BASE_TMP=
cmd_base_image() {
    local bb a r
    need_podman
    if podman image exists "$BASE" 2>/dev/null; then
        echo "podman.sh: $BASE is there"
        return 0
    fi
    bb=
    for a in /bin/busybox /usr/bin/busybox; do
        if [ -x "$a" ] && ! ldd "$a" >/dev/null 2>&1; then
            bb=$a
            break
        fi
    done
    [ -n "$bb" ] || die "no static busybox (apt-get install busybox-static)"
    BASE_TMP=$(mktemp -d "${TMPDIR:-/tmp}/ferry-base.XXXXXX")
    trap 'rm -rf "$BASE_TMP"' EXIT
    r=$BASE_TMP/rootfs
    mkdir -p "$r"/{bin,usr,etc,root,tmp,proc,sys,dev,var/tmp}
    chmod 1777 "$r/tmp" "$r/var/tmp"
    chmod 700 "$r/root"
    cp "$bb" "$r/bin/busybox"
    # every applet as a hard link in /bin (one process, not 300 `ln`s);
    # /sbin, /usr/bin and /usr/sbin lead there, so /usr/bin/env works
    "$r/bin/busybox" --install "$r/bin"
    [ -e "$r/bin/sh" ] || ln "$r/bin/busybox" "$r/bin/sh"
    ln -s bin "$r/sbin"
    ln -s ../bin "$r/usr/bin"
    ln -s ../bin "$r/usr/sbin"
    printf '%s\n' 'root:x:0:0:root:/root:/bin/sh' \
        'nobody:x:65534:65534:nobody:/nonexistent:/bin/false' >"$r/etc/passwd"
    printf '%s\n' 'root:x:0:' 'nogroup:x:65534:' >"$r/etc/group"
    tar -C "$r" --numeric-owner --owner=0 --group=0 -cf "$BASE_TMP/rootfs.tar" .
    podman import -q \
        --change 'CMD ["/bin/sh"]' \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'LABEL io.ferry.base=busybox' \
        "$BASE_TMP/rootfs.tar" "$BASE" >/dev/null
    rm -rf "$BASE_TMP"
    echo "podman.sh: built $BASE"
}

# ---------- check ----------

cmd_check() {
    local bad=0
    command -v podman >/dev/null 2>&1 || { echo "missing: podman"; bad=1; }
    command -v runc >/dev/null 2>&1 || { echo "missing: runc"; bad=1; }
    command -v iptables >/dev/null 2>&1 || command -v /usr/sbin/iptables \
        >/dev/null 2>&1 || { echo "missing: iptables"; bad=1; }
    grep -q '^default_ulimits' "$CONF" 2>/dev/null ||
        { echo "not set up: $CONF (run: $0 setup)"; bad=1; }
    [ -f "$REGFILE" ] || { echo "not set up: $REGFILE (run: $0 setup)"; bad=1; }
    if command -v podman >/dev/null 2>&1 && ! podman image exists "$BASE" 2>/dev/null; then
        echo "missing image: $BASE (run: $0 base-image)"
        bad=1
    fi
    [ $bad = 0 ] && echo "podman.sh: ready"
    return $bad
}

case "${1:-}" in
    setup) shift; cmd_setup "$@" ;;
    start) shift; cmd_start "$@" ;;
    stop) shift; cmd_stop "$@" ;;
    base-image) shift; [ $# -eq 0 ] || usage; cmd_base_image ;;
    check) shift; cmd_check ;;
    *) usage ;;
esac
