#!/bin/sh
# make-debs.sh BUILD_DIR OUT_DIR [TARGET...]
#
# Makes the Debian packages quantum-trader and quantum-trader-dev of the
# CMake build BUILD_DIR and leaves the two .deb files in OUT_DIR.
#
# A package installs under /usr, and the plugin folder and the pkg-config
# prefix are compiled in, so the packages come from a build configured with
# -DCMAKE_INSTALL_PREFIX=/usr: BUILD_DIR itself if it is one (it must be
# built), else BUILD_DIR/packaging/usr-build, configured here with the same
# source and compiler as Debian builds its packages: Debian's hardening flags
# (dpkg-buildflags, hardening=+all), build type None, no -Werror (a newer
# compiler's new warning must not break a packager's build), no tests. Only
# the TARGETs (qtr and the plugins) are built there.
# Needs cpack, dpkg-deb, dpkg-shlibdeps and dpkg-buildflags (dpkg-dev) and
# file: tools/install-deps.sh --package installs them.
# Environment: CMAKE, CPACK (the tools to use), JOBS.
set -eu

if [ $# -lt 2 ]; then
    echo "usage: make-debs.sh BUILD_DIR OUT_DIR [TARGET...]" >&2
    exit 2
fi
build=$(cd "$1" && pwd)
out=$2
shift 2
cmake=${CMAKE:-cmake}
cpack=${CPACK:-cpack}

cache_get() {   # cache_get DIR NAME: a value from DIR/CMakeCache.txt
    sed -n "s/^$2:[A-Z]*=//p" "$1/CMakeCache.txt" | head -n 1
}

missing=
for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags file; do
    command -v "$tool" >/dev/null 2>&1 || missing="$missing $tool"
done
if [ -n "$missing" ]; then
    echo "make-debs.sh: missing$missing (packages dpkg-dev and file): run tools/install-deps.sh --package" >&2
    exit 2
fi

if [ ! -f "$build/CMakeCache.txt" ]; then
    echo "make-debs.sh: $build is not a CMake build folder" >&2
    exit 2
fi

if [ "$(cache_get "$build" CMAKE_INSTALL_PREFIX)" = "/usr" ]; then
    pkgbuild=$build
else
    pkgbuild=$build/packaging/usr-build
    mkdir -p "$pkgbuild"
    # one packaging build at a time in this folder
    if command -v flock >/dev/null 2>&1; then
        exec 9>"$pkgbuild.lock"
        flock 9
    fi
    if [ ! -f "$pkgbuild/CMakeCache.txt" ]; then
        src=$(cache_get "$build" CMAKE_HOME_DIRECTORY)
        export DEB_BUILD_MAINT_OPTIONS=hardening=+all
        CFLAGS="$(dpkg-buildflags --get CFLAGS) $(dpkg-buildflags --get CPPFLAGS)" \
        LDFLAGS="$(dpkg-buildflags --get LDFLAGS)" \
        "$cmake" -S "$src" -B "$pkgbuild" \
            -G "$(cache_get "$build" CMAKE_GENERATOR)" \
            -DCMAKE_INSTALL_PREFIX=/usr \
            -DCMAKE_BUILD_TYPE=None \
            -DCMAKE_C_COMPILER="$(cache_get "$build" CMAKE_C_COMPILER)" \
            -DQTR_WERROR=OFF \
            -DQTR_BUILD_TESTS=OFF \
            -DCMAKE_STRIP="$(cd "$(dirname "$0")" && pwd)/deb-strip.sh" \
            -DCMAKE_SKIP_INSTALL_ALL_DEPENDENCY=ON
    fi
    if [ $# -gt 0 ]; then
        "$cmake" --build "$pkgbuild" -j "${JOBS:-$(nproc)}" --target "$@"
    else
        "$cmake" --build "$pkgbuild" -j "${JOBS:-$(nproc)}"
    fi
fi

if [ ! -f "$pkgbuild/CPackConfig.cmake" ]; then
    echo "make-debs.sh: no CPackConfig.cmake in $pkgbuild (is packaging/ part of the build?)" >&2
    exit 1
fi
mkdir -p "$out"
out=$(cd "$out" && pwd)
rm -f "$out"/quantum-trader_*.deb "$out"/quantum-trader-dev_*.deb
"$cpack" -G DEB --config "$pkgbuild/CPackConfig.cmake" -B "$out"
ls -l "$out"/quantum-trader_*.deb "$out"/quantum-trader-dev_*.deb
