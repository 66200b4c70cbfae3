#!/usr/bin/env bash
# Installs the Debian 12 packages Quantum Trader needs, only those missing.
#   tools/install-deps.sh            build and run (tools/run.sh)
#   tools/install-deps.sh --test     also what the tests need (cmocka, python3,
#                                    servers, a browser, clang for the matrix)
#   tools/install-deps.sh --package  also what the Debian packages need
#                                    (cmake --build <build> --target deb):
#                                    dpkg-dev, file, lintian
#   tools/install-deps.sh --train    also what tools/train_ensemble.py needs
#                                    (python3-xgboost, python3-pandas); not
#                                    needed by the build or the tests
# The options combine.  libxgboost-dev (strategy_ensemble) is a build
# package: without it configure with -DQTR_WITH_XGBOOST=OFF.
set -euo pipefail

build_pkgs=(build-essential cmake pkg-config libevent-dev libcurl4-openssl-dev libssl-dev
            libjansson-dev libhiredis-dev liblua5.4-dev libsqlite3-dev libwslay-dev libxgboost-dev)
test_pkgs=(libcmocka-dev lua5.4 redis-server sqlite3 clang python3 curl procps
           chromium prometheus)
package_pkgs=(dpkg-dev file lintian)
train_pkgs=(python3 python3-xgboost python3-pandas)

want=("${build_pkgs[@]}")
for arg in "$@"; do
  case "$arg" in
    --test)
      want+=("${test_pkgs[@]}")
      # Node.js and npm (for the browser test's playwright-core) ship with the
      # machine image on this kind of host; Debian's npm is the fallback.
      command -v npm >/dev/null 2>&1 || want+=(nodejs npm)
      ;;
    --package) want+=("${package_pkgs[@]}") ;;
    --train) want+=("${train_pkgs[@]}") ;;
    *) echo "usage: tools/install-deps.sh [--test] [--package] [--train] (unknown option '$arg')" >&2; exit 2 ;;
  esac
done

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
