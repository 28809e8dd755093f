#!/usr/bin/env bash
# Install the Debian packages ferry needs to build and test, and only those
# that are missing. Idempotent. `scripts/deps.sh --print` lists them only.
set -euo pipefail

build_pkgs="gcc make pkg-config libyaml-dev libjansson-dev libgit2-dev
    libssl-dev libsqlite3-dev libmicrohttpd-dev libcurl4-openssl-dev
    libcmocka-dev clang libclang-rt-14-dev libexpat1-dev"
# libcurl4 is what the client verbs dlopen at run time
# haproxy, prometheus, postgresql, an SMTP sink (aiosmtpd) and alertmanager
# are real servers the deploy and notify tests drive (the
# traffic driver, the analysis); sqlite3 takes the example's backups
test_pkgs="git curl libcurl4 python3-pytest python3-coverage flake8 bandit
    hyperfine wrk haproxy prometheus sqlite3 postgresql python3-aiosmtpd
    prometheus-alertmanager"
# shellcheck disable=SC2206  # word splitting is intended
pkgs=($build_pkgs $test_pkgs)

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

if [ ${#missing[@]} -eq 0 ]; then
    echo "deps: all ${#pkgs[@]} packages already installed"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "deps: apt-get not found; install these packages by hand:" >&2
    echo "  ${missing[*]}" >&2
    exit 1
fi

sudo=()
if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
        echo "deps: not root and no sudo; as root run: apt-get install" \
            "${missing[*]}" >&2
        exit 1
    fi
    sudo=(sudo)
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -qq
"${sudo[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
echo "deps: installed ${#missing[@]} package(s)"
