#!/usr/bin/env python3
"""Every binary names only the shared libraries it uses.

usage: test_link_needed.py QTR PLUGIN_DIR

`ldd -u` lists a binary's unused direct dependencies: a library loaded at
every start for nothing (startup time, memory, and a package dependency that
need not be there). The top-level CMakeLists links with --as-needed; this
fails when a compiler or a target's flags lose it (clang does not default
to it as Debian's gcc does).
"""
import glob
import os
import subprocess
import sys

if len(sys.argv) != 3:
    sys.exit(__doc__)
qtr, plugin_dir = sys.argv[1], sys.argv[2]
plugins = sorted(glob.glob(os.path.join(plugin_dir, "*.so")))
if not os.path.isfile(qtr) or not plugins:
    sys.exit(f"FAIL: no {qtr}, or no plugin in {plugin_dir}")

failures = 0
for elf in [qtr] + plugins:
    r = subprocess.run(["ldd", "-u", "-r", elf], capture_output=True, text=True, timeout=60)
    unused = [l.strip() for l in r.stdout.splitlines() if l.strip().startswith("/")]
    # ldd exits 1 when it found unused ones; anything else (2+) is ldd failing on the file
    if r.returncode not in (0, 1) or (r.returncode == 1 and not unused):
        print(f"FAIL: ldd -u -r {elf} exited {r.returncode}: {r.stderr.strip()}")
        failures += 1
    elif unused:
        print(f"FAIL: {os.path.basename(elf)} links libraries it does not use: {', '.join(unused)}")
        failures += 1
    else:
        print(f"ok: {os.path.basename(elf)}")
print(f"{len(plugins) + 1} binaries checked, {failures} failing")
sys.exit(1 if failures else 0)
