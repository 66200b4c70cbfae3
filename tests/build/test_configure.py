"""The build's configure step on a machine without the test dependencies
(tools/install-deps.sh without --test): no cmocka or no python3 means no
tests, and a build of the server alone; asking for the tests there is refused
with what to install. Configure only (seconds), in a temporary folder.

usage: test_configure.py SOURCE_DIR CMAKE"""
import os
import shutil
import subprocess
import sys
import tempfile

SRC, CMAKE = sys.argv[1], sys.argv[2]
failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def configure(build, *args, env=None):
    p = subprocess.run([CMAKE, "-S", SRC, "-B", build] + list(args), capture_output=True, text=True,
                       timeout=300, env=env)
    return p.returncode, p.stdout + p.stderr


def targets(build):
    p = subprocess.run([CMAKE, "--build", build, "--target", "help"], capture_output=True, text=True, timeout=120)
    return {line.split()[1] for line in p.stdout.splitlines() if line.startswith("... ")}


work = tempfile.mkdtemp(prefix="qtr_configure_")
# a pkg-config search path without cmocka: the system's .pc folders minus cmocka.pc
pc_dir = os.path.join(work, "pc")
os.makedirs(pc_dir)
for d in subprocess.run(["pkg-config", "--variable", "pc_path", "pkg-config"], capture_output=True,
                        text=True).stdout.strip().split(":"):
    if os.path.isdir(d):
        for f in os.listdir(d):
            if f.endswith(".pc") and f != "cmocka.pc" and not os.path.exists(os.path.join(pc_dir, f)):
                os.symlink(os.path.join(d, f), os.path.join(pc_dir, f))
no_cmocka = dict(os.environ, PKG_CONFIG_LIBDIR=pc_dir)
no_cmocka.pop("PKG_CONFIG_PATH", None)

# 1. no cmocka: configures, no tests, the server and its plugins are targets
b1 = os.path.join(work, "no-cmocka")
rc, out = configure(b1, env=no_cmocka)
if check(rc == 0, f"configure without cmocka succeeds: {out[-3000:]}"):
    check("Tests and benchmarks are not built" in out, f"configure says the tests are left out: {out[-2000:]}")
    t = targets(b1)
    check({"qtr", "qtr_plugins", "exchange_paper", "dashboard_web"} <= t, f"qtr and the plugins are targets: {sorted(t)[:40]}")
    tests = sorted(x for x in t if x.startswith(("test_", "bench_")))
    check(not tests, f"no test or bench target without cmocka: {tests[:10]}")
    check(not os.path.exists(os.path.join(b1, "CTestTestfile.cmake"))
          or "add_test" not in open(os.path.join(b1, "CTestTestfile.cmake")).read(),
          "no test registered with ctest")

# 2. no python3: the same
b2 = os.path.join(work, "no-python")
rc, out = configure(b2, "-DCMAKE_DISABLE_FIND_PACKAGE_Python3=ON")
check(rc == 0 and "Tests and benchmarks are not built" in out, f"configure without python3: no tests: {out[-2000:]}")

# 3. the tests asked for without cmocka: one clear refusal naming the fix
b3 = os.path.join(work, "ask-tests")
rc, out = configure(b3, "-DQTR_BUILD_TESTS=ON", env=no_cmocka)
check(rc != 0 and "libcmocka-dev" in out and "install-deps.sh --test" in out,
      f"-DQTR_BUILD_TESTS=ON without cmocka is refused, naming libcmocka-dev: rc {rc} {out[-2000:]}")

# 4. with everything: tests on by default; -Werror on, off for a /usr build
b4 = os.path.join(work, "full")
rc, out = configure(b4)
if check(rc == 0, f"configure with the test dependencies: {out[-2000:]}"):
    cache = open(os.path.join(b4, "CMakeCache.txt")).read()
    check("QTR_BUILD_TESTS:BOOL=ON" in cache, "tests are on by default when cmocka and python3 are found")
    check("QTR_WERROR:BOOL=ON" in cache, "-Werror is on by default for a developer build")
b5 = os.path.join(work, "usr")
rc, out = configure(b5, "-DCMAKE_INSTALL_PREFIX=/usr", "-DQTR_BUILD_TESTS=OFF")
if check(rc == 0, f"configure for /usr: {out[-2000:]}"):
    check("QTR_WERROR:BOOL=OFF" in open(os.path.join(b5, "CMakeCache.txt")).read(),
          "-Werror is off by default in a build for /usr (a packager's)")

if failures:
    print(f"{len(failures)} check(s) failed; left for inspection: {work}")
    sys.exit(1)
shutil.rmtree(work, ignore_errors=True)
print("all configure checks passed")
