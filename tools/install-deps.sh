#!/usr/bin/env bash
# Installs the Debian 12 packages Quantum Trader needs, only those missing.
#   tools/install-deps.sh          build and run
#   tools/install-deps.sh --test   also what the tests need (servers, browser)
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libevent-dev libcurl4-openssl-dev libssl-dev
            libjansson-dev libhiredis-dev liblua5.4-dev libsqlite3-dev libwslay-dev)
test_pkgs=(libcmocka-dev lua5.4 redis-server sqlite3 clang python3 curl procps
           chromium prometheus)

want=("${build_pkgs[@]}")
if [ "${1:-}" = "--test" ]; then
  want+=("${test_pkgs[@]}")
  # Node.js and npm (for the browser test's playwright-core) ship with the
  # machine image on this kind of host; Debian's npm is the fallback.
  command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
fi

missing=()
for p in "${want[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "install-deps: installing ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps: need root to install: ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
