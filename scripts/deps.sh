#!/usr/bin/env bash
# Install the Debian packages ferry needs to build and test, and only those
# that are missing. Idempotent. `scripts/deps.sh --print` lists them only.
set -euo pipefail

build_pkgs="gcc make pkg-config libyaml-dev libjansson-dev libgit2-dev
    libssl-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev
    libcmocka-dev clang libclang-rt-14-dev libexpat1-dev libarchive-dev"
# libcurl4 is what the client verbs dlopen at run time
# haproxy, prometheus, postgresql, an SMTP sink (aiosmtpd) and alertmanager
# are real servers the deploy and notify tests drive (the
# traffic driver, the analysis); sqlite3 takes the example's backups;
# podman (with runc, netavark, aardvark-dns, catatonit and iptables, which
# --no-install-recommends leaves out) serves the Docker Engine API to the
# container executor, busybox-static makes its base image and
# docker-registry is the registry images are pushed to; chromium is the
# browser the dashboard's tests drive (with playwright-core from npm)
test_pkgs="git curl libcurl4 python3-pytest python3-coverage flake8 bandit
    hyperfine wrk haproxy prometheus sqlite3 postgresql python3-aiosmtpd
    prometheus-alertmanager podman runc conmon netavark aardvark-dns
    catatonit iptables busybox-static docker-registry chromium"
# Node.js runs the browser tests; a machine that has one (any origin)
# keeps it
node_pkgs=""
command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1 ||
    node_pkgs="nodejs npm"
# shellcheck disable=SC2206  # word splitting is intended
pkgs=($build_pkgs $test_pkgs $node_pkgs)

case "${1:-}" in
    --print) printf '%s\n' "${pkgs[@]}"; exit 0 ;;
    "") ;;
    *) echo "usage: $0 [--print]" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
    status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
    [ "$status" = installed ] || missing+=("$p")
done

install_apt() {
    if ! command -v apt-get >/dev/null 2>&1; then
        echo "deps: apt-get not found; install these packages by hand:" >&2
        echo "  ${missing[*]}" >&2
        exit 1
    fi
    echo "deps: installing ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    "${sudo[@]}" apt-get update -qq
    "${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
    echo "deps: installed ${#missing[@]} package(s)"
}

sudo=()
if [ ${#missing[@]} -gt 0 ] && [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "deps: not root and no sudo; as root run: apt-get install" \
            "${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages already installed"
else
    install_apt
fi

# playwright-core drives the system's chromium in the browser tests: one
# npm package, no browser download, into the repository's node_modules
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/node_modules/playwright-core/package.json" ]; then
    echo "deps: npm install playwright-core"
    (cd "$root" && npm install --no-save --no-audit --no-fund \
        playwright-core@1 >/dev/null)
fi
