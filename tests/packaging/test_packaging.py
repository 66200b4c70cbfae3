"""The Debian packages quantum-trader and quantum-trader-dev, end to end.

Builds both .deb files with packaging/make-debs.sh (cpack), then checks:
  * each package's fields, files, conffiles, dependencies and maintainer
    scripts (dpkg-deb -f / -c / -e);
  * the systemd unit: every setting (Type=notify with a watchdog, the
    sandbox), `systemd-analyze verify` and its `security` exposure score (at
    most 2.0) when that tool exists (only those sub-checks are skipped
    without it);
  * /usr/share/doc/<package>: changelog.Debian.gz and copyright in both
    packages, binance.md and the other docs in the server's, plugins.md in
    the dev package; lintian, when installed, finds no error or warning;
  * the maintainer scripts' behaviour in a temporary root ($DPKG_ROOT), with
    fakes for every command that would touch the machine (adduser, chown,
    systemctl, ...), so nothing is ever created or changed outside it;
  * the packages extracted with dpkg-deb -x into a temporary root: the
    extracted qtr runs `version`, `policy check` on the shipped policies,
    `plugins` (every shipped plugin accepted), and `run` with the shipped
    configuration (its absolute paths moved into the root, the dashboard on
    a free loopback port) until it is up, answers /health/all and /metrics,
    passes `qtr check`, then stops cleanly on SIGTERM;
  * a plugin built out of tree from the shipped template against the
    extracted headers through the shipped qtr-plugin.pc, loaded by qtr; the
    template's backtest config runs it; the minimal example of qtr/plugin.h
    compiles with -Werror and loads.

Nothing is installed on the machine. Every wait is bounded.

usage: test_packaging.py BUILD_DIR SOURCE_DIR OUT_DIR TARGET...
"""
import glob
import json
import os
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

BUILD, SRC, OUT = (os.path.abspath(a) for a in sys.argv[1:4])
sys.path.insert(0, os.path.join(SRC, "tests", "e2e"))
from qtrtest import free_port, http_get  # noqa: E402  (the e2e tests' helpers)
TARGETS = sys.argv[4:]
PLUGINS = [t for t in TARGETS if t != "qtr"]
REQUIRED_PLUGINS = ["exchange_paper", "strategy_ma_cross", "risk_policy"]

ETC = "/etc/quantum-trader"
PLUGIN_DIR = "/usr/lib/quantum-trader/plugins"
SYMBOLS = "/usr/share/quantum-trader/binance-usdm-symbols.json"   # the paper exchange's symbols_file
STATE = "/var/lib/quantum-trader"
UNIT = "/lib/systemd/system/quantum-trader.service"

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def fatal(what):
    failures.append(what)
    print("FAIL:", what, flush=True)
    finish()


def finish():
    if failures:
        print(f"{len(failures)} check(s) failed")
        sys.exit(1)
    print("all packaging checks passed")
    sys.exit(0)


def sh(args, timeout=120, env=None, cwd=None, check_rc=True):
    p = subprocess.run(args, capture_output=True, text=True, timeout=timeout, env=env, cwd=cwd)
    if check_rc and p.returncode != 0:
        fatal(f"{' '.join(args)} exited {p.returncode}:\n{p.stdout[-3000:]}\n{p.stderr[-3000:]}")
    return p


def cache_value(name, build=None):
    with open(os.path.join(build or BUILD, "CMakeCache.txt")) as f:
        for line in f:
            m = re.match(rf"^{re.escape(name)}:[A-Z]*=(.*)$", line.rstrip("\n"))
            if m:
                return m.group(1)
    return ""


# ---------------------------------------------------------------------------
# 1. build the packages

for p in REQUIRED_PLUGINS:
    check(p in PLUGINS, f"plugin {p} is one of the packaged targets ({' '.join(TARGETS)})")
for tool in ("dpkg-deb", "dpkg", "pkg-config", "make", "cc"):
    if not shutil.which(tool):
        fatal(f"{tool} is needed to check the packages and is missing")

version = cache_value("CMAKE_PROJECT_VERSION")
check(re.fullmatch(r"\d+\.\d+\.\d+", version or ""), f"project version from the cache: {version!r}")
arch = sh(["dpkg", "--print-architecture"]).stdout.strip()

env = dict(os.environ)
env.setdefault("CMAKE", "cmake")
env.setdefault("CPACK", "cpack")
t0 = time.monotonic()
p = subprocess.run(["sh", os.path.join(SRC, "packaging", "make-debs.sh"), BUILD, OUT] + TARGETS,
                   capture_output=True, text=True, timeout=1700, env=env)
print(p.stdout[-4000:])
if p.returncode != 0:
    fatal(f"make-debs.sh exited {p.returncode}:\n{p.stderr[-4000:]}")
print(f"(packages made in {time.monotonic() - t0:.0f} s)")

SERVER_DEB = os.path.join(OUT, f"quantum-trader_{version}-1_{arch}.deb")
DEV_DEB = os.path.join(OUT, f"quantum-trader-dev_{version}-1_{arch}.deb")   # it ships a static library
for deb in (SERVER_DEB, DEV_DEB):
    if not os.path.isfile(deb):
        fatal(f"{deb} was not made; {OUT} holds {sorted(os.listdir(OUT))}")
debs = sorted(glob.glob(os.path.join(OUT, "*.deb")))
check(debs == sorted([SERVER_DEB, DEV_DEB]), f"exactly the two packages are made: {debs}")


# The package's build is profile-guided (QTR_PGO) with gcc: its training
# backtests ran on the instrumented qtr, trading (funding too) and refused by
# the drawdown guard, the hot files have a profile, and the packaged code was
# compiled with it.
PKGBUILD = BUILD if cache_value("CMAKE_INSTALL_PREFIX") == "/usr" else os.path.join(BUILD, "packaging", "usr-build")
pkg_cc = cache_value("CMAKE_C_COMPILER", PKGBUILD)
if "gcc version" in sh([pkg_cc, "-v"]).stderr:
    pgo = os.path.join(PKGBUILD, "pgo")
    try:
        with open(os.path.join(pgo, "run", "report.json")) as f:
            trained = json.load(f)
        with open(os.path.join(pgo, "run", "guarded.json")) as f:
            guarded = json.load(f)
        check(trained["fills"] > 1000 and trained["funding"] != "0",
              f"the PGO training backtest traded: {trained['fills']} fills, funding {trained['funding']}")
        check(guarded["refusals"]["drawdown_guard"] > 0,
              f"the guarded PGO training run met the drawdown guard: {guarded['refusals']}")
    except (OSError, ValueError, KeyError) as e:
        check(False, f"the PGO training reports in {pgo}/run: {e}")
    profiles = os.listdir(os.path.join(pgo, "profile")) if os.path.isdir(os.path.join(pgo, "profile")) else []
    for src in ("qh_engine.dir#pipeline.c", "qh_portfolio.dir#portfolio.c", "qh_market.dir#candle_stream.c",
                "qh_report.dir#report.c", "exchange_paper.dir#"):
        found = [name for name in profiles if src in name and name.endswith(".gcda")]
        check(found, f"a profile for {src} in {pgo}/profile ({len(profiles)} files)")
        # named for an object of the package's build, or gcc would not find it
        for name in found:
            obj = os.path.join(PKGBUILD, name[:-len(".gcda")].replace("#", os.sep) + ".o")
            check(os.path.isfile(obj), f"the profile {name} is named for {obj}, an object of the build")
    # its compile flags: in flags.make (Makefiles) or build.ninja (Ninja)
    flags = os.path.join(PKGBUILD, "host", "engine", "CMakeFiles", "qh_engine.dir", "flags.make")
    if not os.path.isfile(flags):
        flags = os.path.join(PKGBUILD, "build.ninja")
    with open(flags) as f:
        check("-fprofile-use=" in f.read(), f"the packaged engine is compiled with -fprofile-use ({flags})")
else:
    print("SKIP the PGO checks: QTR_PGO is gcc's")


# lintian: no error and no warning (the tags left on purpose are overridden in
# the packages, each with its reason). Only skipped where lintian is missing.
if shutil.which("lintian"):
    r = subprocess.run(["lintian", "--fail-on", "none", "--tag-display-limit", "0", SERVER_DEB, DEV_DEB],
                       capture_output=True, text=True, timeout=600)
    tags = [line for line in r.stdout.splitlines() if re.match(r"^[EW]: ", line)]
    # dh_strip's job: the binaries carry no .comment section
    r2 = subprocess.run(["lintian", "-I", "--fail-on", "none", SERVER_DEB], capture_output=True, text=True, timeout=600)
    tags += [line for line in r2.stdout.splitlines() if "binary-has-unneeded-section" in line]
    print("lintian:", r.stdout.strip() or "(clean)")
    check(not tags, "lintian finds no error or warning:\n" + "\n".join(tags))
else:
    print("SKIP lintian: not installed (tools/install-deps.sh --package installs it)")


def fields(deb):
    text = sh(["dpkg-deb", "-f", deb]).stdout
    out, key = {}, None
    for line in text.splitlines():
        if line.startswith((" ", "\t")) and key:
            out[key] += "\n" + line
        elif ":" in line:
            key, val = line.split(":", 1)
            out[key] = val.strip()
    return out


def contents(deb):
    """{path: (mode string, owner, size)} from dpkg-deb -c; directories end in /."""
    out = {}
    for line in sh(["dpkg-deb", "-c", deb]).stdout.splitlines():
        parts = line.split(None, 5)
        if len(parts) < 6:
            continue
        mode, owner, size, _date, _time, path = parts
        path = path.split(" -> ")[0]
        out[path[2:] if path.startswith("./") else path] = (mode, owner, size)
    return out


def depends_packages(value):
    """Package names from a Depends value (alternatives included)."""
    names = set()
    for clause in value.split(","):
        for alt in clause.split("|"):
            alt = alt.strip()
            if alt:
                names.add(re.split(r"[\s(:]", alt, maxsplit=1)[0])
    return names


work = tempfile.mkdtemp(prefix="qtr_pkg_test_")
print("work folder:", work)

# ---------------------------------------------------------------------------
# 2. the server package: fields, files, conffiles, scripts

f = fields(SERVER_DEB)
check(f.get("Package") == "quantum-trader", f"server Package: {f.get('Package')}")
check(f.get("Version") == f"{version}-1", f"server Version: {f.get('Version')}")
check(f.get("Architecture") == arch, f"server Architecture: {f.get('Architecture')} (want {arch})")
check(re.fullmatch(r"[^<>]+ <[^@<>\s]+@[^@<>\s]+\.[a-z]+>", f.get("Maintainer", "")) is not None
      and "localhost" not in f.get("Maintainer", ""),
      f"server Maintainer is a name and a mail address off localhost: {f.get('Maintainer')}")
check(len(f.get("Description", "").splitlines()) >= 2, "server Description has a synopsis and a body")
deps = depends_packages(f.get("Depends", ""))
print("server Depends:", f.get("Depends"))
for d in ("adduser", "libc6"):
    check(d in deps, f"server Depends has {d}")

files = contents(SERVER_DEB)
want = ["usr/bin/qtr", f"{ETC[1:]}/qtr.lua", UNIT[1:]]
want += [f"usr/share/doc/quantum-trader/{d}" for d in ("changelog.Debian.gz", "copyright", "operations.md",
                                                        "config.md", "policies.md", "dashboard.md", "store.md",
                                                        "binance.md", "backtest.md")]
want += ["usr/share/man/man1/qtr.1.gz", SYMBOLS[1:]]
want += [f"{PLUGIN_DIR[1:]}/{p}.so" for p in PLUGINS]
policies = sorted(os.path.basename(x) for x in glob.glob(os.path.join(SRC, "policies", "*.lua")))
check("default.lua" in policies, f"policies/default.lua exists in the source ({policies})")
want += [f"{ETC[1:]}/policies/{p}" for p in policies]
for w in want:
    check(w in files, f"server package has /{w}")
check(files.get("usr/bin/qtr", ("",))[0] == "-rwxr-xr-x", f"/usr/bin/qtr is 0755: {files.get('usr/bin/qtr')}")
for path, (mode, owner, _size) in files.items():
    check(owner == "root/root", f"/{path} is owned by root/root, not {owner}")
    check(path.startswith(("etc/quantum-trader/", "lib/systemd/system/", "usr/bin/", "usr/lib/quantum-trader/",
                           "usr/share/doc/quantum-trader/"))
          or path.startswith("usr/share/man/man1/") or path == "usr/share/lintian/overrides/quantum-trader"
          or path in ("usr/share/quantum-trader/", SYMBOLS[1:])
          or path in ("etc/", "lib/", "lib/systemd/", "usr/", "usr/lib/", "usr/share/", "usr/share/doc/",
                      "usr/share/man/", "usr/share/lintian/", "usr/share/lintian/overrides/"),
          f"server package file /{path} is where the package layout puts files")
    check(mode[8] != "w", f"/{path} is not world-writable ({mode})")
check(not any("secrets" in p for p in files), "secrets.env is not shipped (the postinst makes it)")
check(not any(p.startswith("usr/include") for p in files), "no headers in the server package")

ctl = os.path.join(work, "control-server")
sh(["dpkg-deb", "-e", SERVER_DEB, ctl])
conffiles = open(os.path.join(ctl, "conffiles")).read().split() if os.path.exists(os.path.join(ctl, "conffiles")) else []
want_conf = sorted([f"{ETC}/qtr.lua"] + [f"{ETC}/policies/{p}" for p in policies])
check(sorted(conffiles) == want_conf, f"conffiles are qtr.lua and the policies: {conffiles}")
etc_files = sorted("/" + p for p in files if p.startswith("etc/") and not p.endswith("/"))
check(etc_files == sorted(conffiles), f"every file shipped in /etc is a conffile: {etc_files}")

scripts = {}
for s in ("postinst", "prerm", "postrm"):
    path = os.path.join(ctl, s)
    if not check(os.path.isfile(path), f"maintainer script {s} is in the server package"):
        continue
    mode = stat.S_IMODE(os.stat(path).st_mode)
    check(mode == 0o755, f"{s} is mode 0755, not {oct(mode)}")
    text = open(path).read()
    scripts[s] = text
    check(text.startswith("#!/bin/sh"), f"{s} starts with #!/bin/sh")
    check(subprocess.run(["sh", "-n", path]).returncode == 0, f"{s} is valid sh")
    if shutil.which("dash"):
        check(subprocess.run(["dash", "-n", path]).returncode == 0, f"{s} is valid for dash")
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    for bad in ("systemctl start", "systemctl enable", "systemctl restart", "deb-systemd-invoke start",
                "deb-systemd-helper enable"):
        check(bad not in code, f"{s} does not '{bad}' (the service is never started automatically)")
check("adduser --system --group --no-create-home --home \"$STATE_DIR\"" in scripts.get("postinst", "")
      and f"STATE_DIR={STATE}" in scripts.get("postinst", ""),
      "postinst creates the system user with adduser --system --group --no-create-home --home /var/lib/quantum-trader")
check("deb-systemd-invoke stop quantum-trader.service" in scripts.get("prerm", ""),
      "prerm stops the service with deb-systemd-invoke")
for s_name, text in scripts.items():
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    direct = [line.strip() for line in code.splitlines()
              if re.search(r"\bsystemctl\b", line) and "daemon-reload" not in line]
    check(not direct, f"{s_name} calls systemctl only for daemon-reload (deb-systemd-* otherwise): {direct}")
check(re.search(r"^purge\)", scripts.get("postrm", ""), re.M) is not None, "postrm has a purge branch")

# ---------------------------------------------------------------------------
# 3. the dev package

f = fields(DEV_DEB)
check(f.get("Package") == "quantum-trader-dev", f"dev Package: {f.get('Package')}")
check(f.get("Version") == f"{version}-1", f"dev Version: {f.get('Version')}")
check(f.get("Architecture") == arch, f"dev Architecture: {f.get('Architecture')} (want {arch}: libqtr-indicators.a)")
check(bool(f.get("Maintainer")), "dev Maintainer is set")
rec = depends_packages(f.get("Recommends", ""))
check({"gcc", "c-compiler", "make", "pkg-config"} <= rec, f"dev Recommends a C compiler, make, pkg-config: {f.get('Recommends')}")
dfiles = contents(DEV_DEB)
headers = sorted(os.path.basename(x) for x in glob.glob(os.path.join(SRC, "sdk", "include", "qtr", "*.h")))
check("plugin.h" in headers, "sdk/include/qtr/plugin.h exists")
for h in headers:
    check(f"usr/include/qtr/{h}" in dfiles, f"dev package has /usr/include/qtr/{h}")
check("usr/share/pkgconfig/qtr-plugin.pc" in dfiles, "dev package has /usr/share/pkgconfig/qtr-plugin.pc")
for d in ("changelog.Debian.gz", "copyright", "plugins.md"):
    check(f"usr/share/doc/quantum-trader-dev/{d}" in dfiles, f"dev package has /usr/share/doc/quantum-trader-dev/{d}")
check("usr/share/quantum-trader/plugin-template/backtest.lua" in dfiles, "the template ships a backtest config")
tpl_src = os.path.join(SRC, "examples", "strategy_template")
for name in sorted(os.listdir(tpl_src)):
    if name.endswith((".so", ".o")):
        continue
    check(f"usr/share/quantum-trader/plugin-template/{name}" in dfiles,
          f"dev package has the template's {name} in /usr/share/quantum-trader/plugin-template/")
# every file the template's README names is shipped with it
readme = open(os.path.join(tpl_src, "README.md")).read()
named = set(re.findall(r"^\| `([^`/]+)` \|", readme, re.M))
check({"strategy_momentum.c", "Makefile", "backtest.lua", "README.md"} <= named,
      f"the template README's file table names its files: {sorted(named)}")
for name in sorted(named):
    check(f"usr/share/quantum-trader/plugin-template/{name}" in dfiles, f"the template README's {name} is shipped")
for path in re.findall(r"(/usr/[\w./-]+\w)", readme):
    if path.startswith(("/usr/share/", "/usr/include/")) and not path.startswith("/usr/share/quantum-trader/plugin-template"):
        check(any(path.lstrip("/") in fs or path.lstrip("/") + "/" in fs
                  or any(p.startswith(path.lstrip("/") + "/") for p in fs) for fs in (dfiles, files)),
              f"the template README's {path} is in the dev or the server package")
for path, (mode, owner, _s) in dfiles.items():
    check(owner == "root/root", f"dev /{path} is owned by root/root")
    check(path.startswith(("usr/include/qtr/", "usr/share/pkgconfig/", "usr/share/quantum-trader/",
                           "usr/share/doc/quantum-trader-dev/"))
          or re.fullmatch(r"usr/lib/([\w-]+/)?(libqtr-indicators\.a|pkgconfig/(qtr-indicators\.pc)?)?", path)
          or path == "usr/share/lintian/overrides/quantum-trader-dev"
          or path in ("usr/", "usr/include/", "usr/share/", "usr/share/doc/", "usr/share/lintian/",
                      "usr/share/lintian/overrides/"), f"dev package file /{path} is in the SDK layout")
check(not any(p.startswith(("usr/bin", "usr/lib/quantum-trader", "etc")) or p.endswith(".so") for p in dfiles),
      "the dev package ships no programs, plugins or config")
check(any(p.endswith("/libqtr-indicators.a") for p in dfiles) == any(
      p.endswith("qtr/indicators.h") for p in dfiles), "libqtr-indicators.a comes with its header")

# ---------------------------------------------------------------------------
# 4. extract both into one root, as an installed system would look

root = os.path.join(work, "root")
os.makedirs(root)
sh(["dpkg-deb", "-x", SERVER_DEB, root])
sh(["dpkg-deb", "-x", DEV_DEB, root])
QTR = os.path.join(root, "usr/bin/qtr")
EXTRACTED_PLUGINS = os.path.join(root, PLUGIN_DIR[1:])
qenv = dict(os.environ)
qenv.pop("QTR_URL", None)
qenv["QTR_PLUGIN_PATH"] = EXTRACTED_PLUGINS

# Depends covers every shared library the ELF files link directly (dpkg-shlibdeps).
needed = set()
for elf in [QTR] + glob.glob(os.path.join(EXTRACTED_PLUGINS, "*.so")):
    direct = re.findall(r"\(NEEDED\)\s+Shared library: \[([^\]]+)\]", sh(["readelf", "-d", elf]).stdout)
    check(direct, f"{os.path.basename(elf)} links shared libraries (readelf -d)")
    paths = {}
    for line in sh(["ldd", elf]).stdout.splitlines():
        check("not found" not in line, f"{os.path.basename(elf)}: {line.strip()}")
        m = re.match(r"\s*(\S+) => (/\S+)", line)
        if m:
            paths[m.group(1)] = m.group(2)
        # the dynamic loader is listed by its path alone ("/lib64/ld-linux-x86-64.so.2 (0x...)"); an ELF
        # that calls into it (__tls_get_addr: TLS in PIC code) has it in its NEEDED entries
        m = re.match(r"\s*(/\S+) \(0x[0-9a-f]+\)$", line)
        if m:
            paths[os.path.basename(m.group(1))] = m.group(1)
    for so in direct:
        if check(so in paths, f"{os.path.basename(elf)}: ldd resolves {so}"):
            needed.add((so, paths[so]))
for soname, path in sorted(needed):
    owners = set()
    for cand in {path, os.path.realpath(path)}:
        for alt in {cand, cand[4:] if cand.startswith("/usr/") else "/usr" + cand}:
            r = subprocess.run(["dpkg", "-S", alt], capture_output=True, text=True)
            for line in r.stdout.splitlines():
                owners |= {o.strip().split(":")[0] for o in line.split(": ")[0].split(",")}
    if check(owners, f"the package owning {soname} ({path}) is known to dpkg"):
        check(owners & deps, f"server Depends covers {soname} (from {sorted(owners)})")

# The unit: every setting the service needs.
unit_text = open(os.path.join(root, UNIT[1:])).read()
unit = {}
for line in unit_text.splitlines():
    line = line.strip()
    if line and not line.startswith(("#", ";", "[")) and "=" in line:
        k, v = line.split("=", 1)
        unit.setdefault(k.strip(), []).append(v.strip())
want_unit = {
    "Type": "notify",
    "NotifyAccess": "main",
    "WatchdogSec": "30",
    "PrivateDevices": "yes",
    "CapabilityBoundingSet": "",
    "SystemCallFilter": "@system-service",
    "MemoryDenyWriteExecute": "yes",
    "RestrictAddressFamilies": "AF_UNIX AF_INET AF_INET6",
    "UMask": "0027",
    "ProtectKernelTunables": "yes",
    "ProtectKernelModules": "yes",
    "ProtectControlGroups": "yes",
    "RestrictNamespaces": "yes",
    "RestrictRealtime": "yes",
    "RestrictSUIDSGID": "yes",
    "ExecStart": f"/usr/bin/qtr run -c {ETC}/qtr.lua --log-json",
    "ExecReload": "/bin/kill -HUP $MAINPID",
    "EnvironmentFile": f"-{ETC}/secrets.env",
    "User": "quantum-trader",
    "Group": "quantum-trader",
    "StateDirectory": "quantum-trader",
    "WorkingDirectory": STATE,
    "Restart": "on-failure",
    "RestartSec": "5",
    "NoNewPrivileges": "yes",
    "ProtectSystem": "strict",
    "ProtectHome": "yes",
    "PrivateTmp": "yes",
    "ReadWritePaths": STATE,
    "KillSignal": "SIGTERM",
    "TimeoutStopSec": "30",
    "LimitNOFILE": "65536",
    "WantedBy": "multi-user.target",
}
for k, v in want_unit.items():
    if k == "SystemCallFilter":
        check(v in unit.get(k, []), f"unit {k}={v} (found {unit.get(k)})")
    else:
        check(unit.get(k) == [v], f"unit {k}={v} (found {unit.get(k)})")
check("0600" in unit_text and "0640" not in unit_text, "the unit's comment gives secrets.env's real mode, 0600")

if shutil.which("systemd-analyze"):
    # verify needs ExecStart's binary to exist: point it at the extracted one
    vdir = os.path.join(work, "verify")
    os.makedirs(vdir)
    with open(os.path.join(vdir, "quantum-trader.service"), "w") as fh:
        fh.write(unit_text.replace("/usr/bin/qtr", QTR))
    # ... and its Documentation=man:qtr(1) is looked up in the extracted manual pages
    r = subprocess.run(["systemd-analyze", "verify", os.path.join(vdir, "quantum-trader.service")],
                       capture_output=True, text=True, timeout=90,
                       env=dict(os.environ, MANPATH=os.path.join(root, "usr/share/man")))
    out = (r.stdout + r.stderr).strip()
    ours = [line for line in out.splitlines() if "quantum-trader" in line]
    check(r.returncode == 0 and not ours, f"systemd-analyze verify accepts the unit (exit {r.returncode}): {out}")
    if out and not ours:
        print("systemd-analyze said (not about this unit):", out)
    # The sandbox's exposure score (systemd 252 and later rate a unit file offline).
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes", os.path.join(vdir, "quantum-trader.service")],
                       capture_output=True, text=True, timeout=90)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", r.stdout + r.stderr)
    if "--offline" in r.stderr and not m:
        print("SKIP systemd-analyze security --offline: this systemd cannot rate a unit file offline")
    elif check(m is not None, f"systemd-analyze security rates the unit: {r.stdout[-1500:]}{r.stderr[-500:]}"):
        print("systemd-analyze security: exposure", m.group(1))
        check(float(m.group(1)) <= 2.0, f"the unit's exposure is at most 2.0, got {m.group(1)}")
else:
    print("SKIP systemd-analyze verify and security: systemd-analyze is not installed (package systemd); "
          "the unit's settings were still checked above")

# qtr version
r = sh([QTR, "version"], env=qenv, timeout=30)
check(r.stdout.startswith(f"qtr {version} "), f"extracted qtr version: {r.stdout.strip()}")

# qtr policy check on the shipped policies
shipped_policies = [os.path.join(root, ETC[1:], "policies", p) for p in policies]
r = sh([QTR, "policy", "check"] + shipped_policies, env=qenv, timeout=60, check_rc=False)
check(r.returncode == 0, f"qtr policy check of the shipped policies exits 0, got {r.returncode}: {r.stdout}{r.stderr}")
for p in shipped_policies:
    check(f"{p}: valid" in r.stdout, f"{p} is valid")

# qtr plugins: every shipped plugin accepted, from the extracted folder
r = sh([QTR, "plugins"], env=qenv, timeout=60)
print(r.stdout)
for p in PLUGINS:
    path = os.path.join(EXTRACTED_PLUGINS, p + ".so")
    lines = [line for line in r.stdout.splitlines() if line.rstrip().endswith(path)]
    check(len(lines) == 1 and " accepted " in lines[0], f"qtr plugins accepts the shipped {p}.so: {lines}")
check(" refused " not in r.stdout, "qtr plugins refuses nothing shipped")

# the shipped instrument rules: a backtest of the extracted qtr reads them
# (BTCUSDT on its own tick), and without them it says what it trades on
bt = os.path.join(work, "bt")
os.makedirs(bt, exist_ok=True)
with open(os.path.join(bt, "BTCUSDT-1m.csv"), "w") as out:
    out.write("open_time_ms,open,high,low,close,volume\n")
    for i in range(120):         # a saw of 10 candles up, 10 down, so ma_cross 3/8 trades
        px = 43000 + 37 * (i % 20 if i % 20 < 10 else 20 - i % 20)
        out.write(f"{1700000000000 + i * 60000},{px}.3,{px + 5}.2,{px - 5}.1,{px}.3,12.5\n")
for with_rules in (True, False):
    rules = f', symbols_file = "{root}{SYMBOLS}"' if with_rules else ""
    extra = f', options = {{ slippage_bps = "1"{rules} }}'
    with open(os.path.join(bt, "bt.lua"), "w") as out:
        out.write('return { account = { starting_balance = "10000" }, store = false, plugins = {\n'
                  f'  {{ kind = "exchange", name = "paper"{extra} }},\n'
                  '  { kind = "risk", name = "policy" },\n'
                  '  { kind = "strategy", name = "ma_cross", options = { fast = 3, slow = 8, order_notional = "1000" } } } }\n')
    r = sh([QTR, "backtest", "-c", os.path.join(bt, "bt.lua"), "--data", os.path.join(bt, "BTCUSDT-1m.csv"),
            "--trades", "-", "--quiet", "--log-level", "info"], env=qenv, timeout=60, check_rc=False)
    fills = [line.split(",") for line in r.stdout.splitlines()[1:] if line]
    # 1 bps of slippage off a close ending in .3: BTCUSDT's tick 0.1 with the
    # rules, the default 0.0001 without
    decimals = sorted({len(f[6].partition(".")[2]) for f in fills if len(f) > 6})
    check(bool(fills) and (decimals[-1] <= 1 if with_rules else decimals[-1] > 1),
          f"fill prices {'on' if with_rules else 'off'} BTCUSDT's tick 0.1: decimals {decimals}")
    if with_rules:
        check(r.returncode == 0 and f"instrument rules of 11 symbols from {root}{SYMBOLS}" in r.stderr,
              f"a backtest reads the shipped {SYMBOLS}: exit {r.returncode} {r.stderr[-400:]}")
        check("no symbols_file" not in r.stderr, "with the shipped rules there is no warning")
    else:
        check(r.returncode == 0 and "WARN" in r.stderr and "no symbols_file: every symbol trades on the tick 0.0001"
              in r.stderr and SYMBOLS in r.stderr,
              f"a backtest without symbols_file warns and names {SYMBOLS}: exit {r.returncode} {r.stderr[-400:]}")
    print(f"backtest {'with' if with_rules else 'without'} the shipped rules: {len(fills)} fills,",
          r.stdout.splitlines()[:2])

# the shipped config: what the brief asks for, and it loads
conf_path = os.path.join(root, ETC[1:], "qtr.lua")
conf = open(conf_path).read()
check(re.search(r'^\s*mode\s*=\s*"paper"', conf, re.M), "qtr.lua is paper mode")
check(f'state_dir = "{STATE}"' in conf, f"qtr.lua state_dir is {STATE}")
check(f'plugin_path = {{ "{PLUGIN_DIR}" }}' in conf, f"qtr.lua plugin_path is {{ {PLUGIN_DIR} }}")
check(f'file = "{ETC}/policies/default.lua"' in conf, "qtr.lua policy file is the installed default.lua")
check(f'symbols_file = "{SYMBOLS}"' in conf, f"qtr.lua's paper exchange reads the shipped {SYMBOLS}")
check(not re.search(r"QTR_(BINANCE|API)", conf), "qtr.lua holds no secret")
r = sh([QTR, "plugins", "-c", conf_path], env=qenv, timeout=60, check_rc=False)
check(r.returncode == 0, f"the shipped qtr.lua parses (qtr plugins -c): exit {r.returncode} {r.stderr}")

# qtr run with the shipped config, its absolute paths moved into the root
port = free_port()
run_dir = os.path.join(work, "run")
os.makedirs(run_dir)
moved = conf
for a in (STATE, PLUGIN_DIR, ETC, SYMBOLS):
    moved = moved.replace(f'"{a}', f'"{root}{a}')
moved = moved.replace('"127.0.0.1:8080"', f'"127.0.0.1:{port}"')
check(moved.count(root) == 4 and f"127.0.0.1:{port}" in moved, "the shipped config's paths and port are rewritten")
moved_path = os.path.join(run_dir, "qtr.lua")
with open(moved_path, "w") as fh:
    fh.write(moved)
renv = dict(qenv)
renv.pop("QTR_PLUGIN_PATH")           # plugins come from the config's plugin_path only
log_path = os.path.join(run_dir, "qtr.log")
with open(log_path, "w") as log:
    srv = subprocess.Popen([QTR, "run", "-c", moved_path, "--log-json"], stdout=log, stderr=subprocess.STDOUT,
                           cwd=run_dir, env=renv)
    try:
        deadline = time.monotonic() + 30
        up = False
        while time.monotonic() < deadline and srv.poll() is None:
            if "running (paper mode" in open(log_path).read():
                up = True
                break
            time.sleep(0.1)
        text = open(log_path).read()
        check(up, f"qtr run with the shipped config comes up: {text[-3000:]}")
        check(f"{root}/etc/quantum-trader/policies/default.lua" in text, "the shipped default policy is loaded")
        # the operator's surface: the dashboard plugin is configured and answers
        check(f"listening on http://127.0.0.1:{port}/" in text, f"the shipped config's dashboard listens: {text[-2000:]}")
        status, body = http_get(port, "/health/all")
        check(status in (200, 503) and '"status"' in body and '"components"' in body,
              f"GET /health/all answers: {status} {body[:500]}")
        status, body = http_get(port, "/metrics")
        check(status == 200 and "# TYPE" in body, f"GET /metrics answers Prometheus text: {status} {body[:300]}")
        r = sh([QTR, "check", "--url", f"http://127.0.0.1:{port}"], env=renv, timeout=60, check_rc=False)
        check(r.returncode in (0, 1) and "CRITICAL" not in r.stdout,
              f"qtr check on the installed config is not CRITICAL (exit {r.returncode}): {r.stdout}{r.stderr}")
        check(f"from {EXTRACTED_PLUGINS}/exchange_paper.so" in text, "the shipped paper exchange is loaded")
        check(f"instrument rules of 11 symbols from {root}{SYMBOLS}" in text and "no symbols_file" not in text,
              "the shipped config's paper exchange trades on the shipped instrument rules, without a warning")
        check(os.path.exists(os.path.join(root, STATE[1:], "qtr.db")), "the trade store is in state_dir")
    finally:
        if srv.poll() is None:
            srv.send_signal(signal.SIGTERM)
        try:
            rc = srv.wait(timeout=30)
        except subprocess.TimeoutExpired:
            srv.kill()
            rc = srv.wait(timeout=10)
            check(False, "qtr run stops within 30 s of SIGTERM")
check(rc == 0, f"qtr run exits 0 after SIGTERM, got {rc}")
check("clean stop" in open(log_path).read(), "qtr run logs a clean stop")

# ---------------------------------------------------------------------------
# 5. a plugin out of tree, against the extracted SDK, loaded by the extracted qtr

pc_dir = os.path.join(root, "usr/share/pkgconfig")
pc = open(os.path.join(pc_dir, "qtr-plugin.pc")).read()
check(BUILD not in pc and SRC not in pc, "qtr-plugin.pc names no build or source folder")
penv = dict(os.environ)
penv["PKG_CONFIG_PATH"] = pc_dir
penv["PKG_CONFIG_LIBDIR"] = pc_dir        # only the extracted .pc, never a system one
penv.pop("PKG_CONFIG_SYSROOT_DIR", None)
r = sh(["pkg-config", "--variable=prefix", "qtr-plugin"], env=penv)
check(r.stdout.strip() == "/usr", f"qtr-plugin.pc prefix is /usr: {r.stdout.strip()}")
r = sh(["pkg-config", "--variable=includedir", "qtr-plugin"], env=penv)
check(r.stdout.strip() == "/usr/include", f"qtr-plugin.pc includedir is /usr/include: {r.stdout.strip()}")
r = sh(["pkg-config", "--define-variable=prefix=" + os.path.join(root, "usr"), "--cflags", "qtr-plugin"], env=penv)
cflags = r.stdout.split()
check(f"-I{root}/usr/include" in cflags, f"cflags with --define-variable=prefix point into the root: {cflags}")
# code-generation and language flags are the plugin build's choice (a C++
# plugin cannot take -std=c17): the module gives the include path only
check(not [f for f in cflags if f.startswith(("-std=", "-fPIC", "-fpic", "-fvisibility"))],
      f"qtr-plugin's Cflags hold no -std, -fPIC or -fvisibility: {cflags}")

# (a) the one-line build of README.md, with --define-variable=prefix
oot_a = os.path.join(work, "oot-a")
os.makedirs(oot_a)
tpl = os.path.join(root, "usr/share/quantum-trader/plugin-template")
so_a = os.path.join(oot_a, "strategy_momentum.so")
sh(["cc", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Wextra"] + cflags
   + [os.path.join(tpl, "strategy_momentum.c"), "-o", so_a], timeout=120)

# (b) the template's own Makefile, a copy, with PKG_CONFIG_SYSROOT_DIR
oot_b = os.path.join(work, "oot-b")
shutil.copytree(tpl, os.path.join(work, "template"))
os.makedirs(oot_b)
so_b = os.path.join(oot_b, "strategy_momentum.so")
benv = dict(penv)
benv["PKG_CONFIG_SYSROOT_DIR"] = root
r = sh(["pkg-config", "--cflags", "qtr-plugin"], env=benv)
check(f"-I{root}/usr/include" in r.stdout.split(), f"cflags with PKG_CONFIG_SYSROOT_DIR point into the root: {r.stdout}")
sh(["make", "-C", os.path.join(work, "template"), f"OUT={so_b}"], env=benv, timeout=120)

# (c) the Makefile as on a real install: prefix /usr, so pkg-config's Cflags
# are empty (it drops -I/usr/include, a system folder); the compiler finds
# the headers in its own search path, here CPATH into the root
oot_c = os.path.join(work, "oot-c")
shutil.copytree(tpl, oot_c)
so_c = os.path.join(oot_c, "strategy_momentum.so")
r = sh(["pkg-config", "--cflags", "qtr-plugin"], env=penv)
check(r.stdout.strip() == "", f"installed in /usr, qtr-plugin's Cflags are empty: {r.stdout!r}")
cenv = dict(penv)
cenv["CPATH"] = os.path.join(root, "usr/include")
r = sh(["make", "-C", oot_c], env=cenv, timeout=120, check_rc=False)
check(r.returncode == 0, f"the template's make with a /usr qtr-plugin.pc builds: exit {r.returncode} {r.stderr[-500:]}")

for so in (so_a, so_b, so_c):
    if not check(os.path.isfile(so), f"{so} is built"):
        continue
    e = dict(qenv)
    e["QTR_PLUGIN_PATH"] = os.path.dirname(so)
    r = sh([QTR, "plugins"], env=e, timeout=60)
    lines = [line for line in r.stdout.splitlines() if line.rstrip().endswith(so)]
    check(len(lines) == 1 and re.match(r"strategy\s+momentum\s+\S+\s+2\.\d+\s+accepted\s", lines[0]),
          f"qtr plugins accepts the out-of-tree plugin {so}: {r.stdout}")

# the template's backtest config, run from its folder with the .so made there
tcopy = os.path.join(work, "template")
shutil.copy(so_b, os.path.join(tcopy, "strategy_momentum.so"))
# its one absolute path, the shipped instrument rules, moved into the root
tpl_conf = open(os.path.join(tcopy, "backtest.lua")).read()
check(f'symbols_file = "{SYMBOLS}"' in tpl_conf, f"the template's backtest trades on the shipped rules {SYMBOLS}")
with open(os.path.join(tcopy, "backtest.lua"), "w") as fh:
    fh.write(tpl_conf.replace(f'"{SYMBOLS}"', f'"{root}{SYMBOLS}"'))
candles = os.path.join(tcopy, "BTCUSDT-5m.csv")
with open(candles, "w") as fh:
    fh.write("open_time_ms,open,high,low,close,volume\n")
    cents = 1000000
    for i in range(200):        # a saw: 10 candles up 1%, 10 down, so momentum trades
        if i:
            cents = cents * (101 if (i // 10) % 2 == 0 else 99) // 100
        px = f"{cents // 100}.{cents % 100:02d}"
        fh.write(f"{1700000000000 + i * 300000},{px},{px},{px},{px},10\n")
r = sh([QTR, "backtest", "-c", os.path.join(tcopy, "backtest.lua"), "--data", candles,
        "--json", os.path.join(work, "tpl-report.json")], env=qenv, timeout=120, check_rc=False)
check(r.returncode == 0, f"the template's backtest.lua runs its plugin: exit {r.returncode} {r.stdout}{r.stderr}")
check("ERROR" not in r.stderr and "WARN" not in r.stderr, f"the template's backtest logs no error or warning: {r.stderr}")
if r.returncode == 0:
    import json
    rep_json = json.load(open(os.path.join(work, "tpl-report.json")))
    check(rep_json.get("candles") == 200 and rep_json.get("trades", 0) > 0,
          f"the template's backtest reads the candles and trades: {rep_json}")

# the minimal strategy in qtr/plugin.h's comment compiles as written (with
# -Werror: a missing #include is an error) and loads
hdr = open(os.path.join(root, "usr/include/qtr/plugin.h")).read()
m = re.search(r"^ \* Minimal strategy.*?\n \*\n(.*?)\n \*\n \* Build:", hdr, re.S | re.M)
if check(m is not None, "qtr/plugin.h has its minimal strategy example"):
    code = "\n".join(line[5:] for line in m.group(1).splitlines())
    code = code.replace("{ ... }", "{ (void)state; (void)c; }")
    ex_dir = os.path.join(work, "example")
    os.makedirs(ex_dir)
    with open(os.path.join(ex_dir, "my_strategy.c"), "w") as fh:
        fh.write(code + "\n")
    ex_so = os.path.join(ex_dir, "strategy_my_strategy.so")
    r = sh(["cc", "-std=c17", "-Wall", "-Wextra", "-Werror", "-fPIC", "-fvisibility=hidden", "-shared"] + cflags
           + [os.path.join(ex_dir, "my_strategy.c"), "-o", ex_so], timeout=120, check_rc=False)
    check(r.returncode == 0, f"qtr/plugin.h's example compiles with -Werror: {r.stderr[-2000:]}\n{code}")
    if r.returncode == 0:
        r = sh([QTR, "plugins"], env=dict(qenv, QTR_PLUGIN_PATH=ex_dir), timeout=60)
        check(re.search(r"strategy\s+my_strategy\s+1\.0\.0\s+\S+\s+accepted", r.stdout) is not None,
              f"qtr plugins accepts qtr/plugin.h's example: {r.stdout}")

# ---------------------------------------------------------------------------
# 6. the maintainer scripts, run in a temporary root with faked commands

droot = os.path.join(work, "dpkg-root")
os.makedirs(droot)
fakes = os.path.join(work, "fakes")
os.makedirs(fakes)
calls = os.path.join(work, "calls.log")
users_file = os.path.join(work, "users")       # the fake getent's "database"
FAKED = ("adduser", "addgroup", "deluser", "delgroup", "useradd", "groupadd", "userdel", "groupdel",
           "chown", "systemctl", "deb-systemd-invoke", "deb-systemd-helper", "invoke-rc.d", "service")
for name in FAKED:
    with open(os.path.join(fakes, name), "w") as fh:
        fh.write(f'#!/bin/sh\necho "{name} $*" >> "{calls}"\nexit 0\n')
    os.chmod(os.path.join(fakes, name), 0o755)
with open(os.path.join(fakes, "adduser"), "w") as fh:   # warns as adduser 3.134 does about a missing home
    fh.write(f'#!/bin/sh\necho "adduser $*" >> "{calls}"\nhome=\n'
             'while [ $# -gt 0 ]; do [ "$1" = --home ] && home=$2; shift; done\n'
             '[ -d "$DPKG_ROOT$home" ] || echo "Warning: The home dir $home you specified can\'t be accessed" >&2\n'
             'exit 0\n')
os.chmod(os.path.join(fakes, "adduser"), 0o755)
with open(os.path.join(fakes, "getent"), "w") as fh:   # getent DB NAME: known if listed in users_file
    fh.write(f'#!/bin/sh\necho "getent $*" >> "{calls}"\ngrep -qx "$1 $2" "{users_file}" 2>/dev/null\n')
os.chmod(os.path.join(fakes, "getent"), 0o755)
senv = {"PATH": fakes + ":/usr/sbin:/usr/bin:/sbin:/bin", "DPKG_ROOT": droot, "LC_ALL": "C"}
# Safety first: every command that could touch this machine must be a fake.
for name in FAKED + ("getent",):
    r = subprocess.run(["sh", "-c", f"command -v {name}"], capture_output=True, text=True, env=senv)
    if r.stdout.strip() != os.path.join(fakes, name):
        fatal(f"fake {name} does not come first on PATH ({r.stdout.strip()}): not running the scripts")
assert senv["DPKG_ROOT"] and senv["DPKG_ROOT"] != "/"


def maint(script, *args):
    open(calls, "w").close()
    r = subprocess.run(["sh", os.path.join(ctl, script)] + list(args), capture_output=True, text=True,
                       env=senv, timeout=60)
    check(r.returncode == 0, f"{script} {' '.join(args)} exits 0: {r.stdout}{r.stderr}")
    check(r.stderr == "", f"{script} {' '.join(args)} prints no warning: {r.stderr}")
    return open(calls).read()


secrets = os.path.join(droot, ETC[1:], "secrets.env")
log = maint("postinst", "configure", "")
check(re.search(rf"^adduser --system --group --no-create-home --home {STATE} .*quantum-trader$", log, re.M),
      f"postinst adds the system user quantum-trader: {log}")
check(os.path.isdir(os.path.join(droot, STATE[1:])), "postinst makes /var/lib/quantum-trader")
check(re.search(rf"^chown quantum-trader:quantum-trader {re.escape(droot)}{STATE}$", log, re.M),
      "the state folder belongs to quantum-trader")
if check(os.path.isfile(secrets), "postinst makes secrets.env"):
    mode = stat.S_IMODE(os.stat(secrets).st_mode)
    check(mode == 0o600, f"secrets.env is mode 0600, not {oct(mode)}")
    check(re.search(r"^chown root:root \S*secrets\.env\S*$", log, re.M), "secrets.env is root:root")
    text = open(secrets).read()
    for var in ("QTR_BINANCE_API_KEY", "QTR_BINANCE_API_SECRET", "QTR_API_TOKEN", "QTR_REDIS_PASSWORD", "QTR_BUS_KEY",
                "QTR_BUS_KEY_NEXT"):
        check(re.search(rf"^#\s*{var}=\s*$", text, re.M), f"secrets.env has a commented empty placeholder for {var}")
    active = [line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    check(not active, f"secrets.env sets nothing (every line is a comment): {active}")
    check(not glob.glob(os.path.join(droot, ETC[1:], "*tmp*")), "postinst leaves no temporary file in /etc")
for bad in ("systemctl start", "systemctl enable", "systemctl restart", "deb-systemd-invoke", "invoke-rc.d", "service "):
    check(bad not in log, f"postinst never runs '{bad}'")

# a second configure (an upgrade): the user exists, secrets.env is the operator's now
with open(users_file, "w") as fh:
    fh.write("passwd quantum-trader\ngroup quantum-trader\n")
with open(secrets, "a") as fh:
    fh.write("QTR_API_TOKEN=operator-value\n")
os.chmod(secrets, 0o600)
before = open(secrets).read()
log = maint("postinst", "configure", f"{version}-1")
check("adduser" not in log and "addgroup" not in log, f"postinst does not add an existing user: {log}")
check(open(secrets).read() == before and stat.S_IMODE(os.stat(secrets).st_mode) == 0o600,
      "postinst leaves an existing secrets.env alone")

# a group left behind without its user: the user joins it
with open(users_file, "w") as fh:
    fh.write("group quantum-trader\n")
log = maint("postinst", "configure", f"{version}-1")
check(re.search(rf"^adduser --system --ingroup quantum-trader --no-create-home --home {STATE} .*quantum-trader$",
                log, re.M), f"postinst adds the user to an existing group: {log}")
with open(users_file, "w") as fh:
    fh.write("passwd quantum-trader\ngroup quantum-trader\n")

log = maint("prerm", "upgrade", f"{version}-1")
check("stop" not in log, f"prerm upgrade does not stop the service: {log}")
log = maint("prerm", "remove")
check("start" not in log, "prerm remove starts nothing")
log = maint("postrm", "remove")
check(os.path.isdir(os.path.join(droot, STATE[1:])), "postrm remove keeps /var/lib/quantum-trader")
check(os.path.isfile(secrets), "postrm remove keeps secrets.env")
check("deluser" not in log and "delgroup" not in log, f"postrm remove keeps the user: {log}")
log = maint("postrm", "purge")
check(not os.path.exists(os.path.join(droot, STATE[1:])), "postrm purge removes /var/lib/quantum-trader")
check(not os.path.exists(secrets), "postrm purge removes secrets.env")
check(re.search(r"^deluser --system quantum-trader$", log, re.M), f"postrm purge removes the user: {log}")
for script, arg in (("postinst", "bogus"), ("prerm", "bogus"), ("postrm", "bogus")):
    r = subprocess.run(["sh", os.path.join(ctl, script), arg], capture_output=True, text=True, env=senv, timeout=60)
    check(r.returncode != 0, f"{script} refuses an unknown action")

if not failures:
    shutil.rmtree(work, ignore_errors=True)
else:
    print("left for inspection:", work)
finish()
