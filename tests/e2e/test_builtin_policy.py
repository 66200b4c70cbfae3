"""The default policy is built into qtr: a config that names no policy file
runs under policies/default.lua (embedded at build time) wherever the binary
and the working folder are. Here qtr is copied into a folder of its own,
far from any checkout or build folder, and run from an empty folder; it
still loads the default policy and trades. A config that names a file
still loads that file."""
import hashlib
import os
import shutil
import signal
import tempfile

import qtrtest
from qtrtest import SRC, Server, check, fast_run_config, finish, free_port, http_get, wait_until, write

DEFAULT = os.path.join(SRC, "policies", "default.lua")


def lone_qtr():
    """qtr copied into <tmp>/bin: nothing named policies/ beside it or above it."""
    root = tempfile.mkdtemp(prefix="qtr_lone_")
    os.mkdir(os.path.join(root, "bin"))
    dst = os.path.join(root, "bin", "qtr")
    shutil.copy2(qtrtest.QTR, dst)
    return dst


def builtin_default_from_anywhere():
    qtrtest.QTR = lone_qtr()
    cwd = tempfile.mkdtemp(prefix="qtr_empty_")
    d = tempfile.mkdtemp(prefix="qtr_builtin_")
    port = free_port()
    s = Server(["-c", fast_run_config(d, port, "")], cwd=cwd)
    try:
        check(s.wait_for("running (paper mode", 30), "qtr starts with no policy file anywhere: " + s.text()[-2000:])
        check("loaded builtin:policies/default.lua" in s.text(), "the built-in default policy is loaded: "
              + s.text()[-2000:])
        check(s.wait_for("[orders] fill ", 60), "and trades under it: " + s.text()[-2000:])
        sha = hashlib.sha256(open(DEFAULT, "rb").read()).hexdigest()
        status, body = http_get(port, "/api/policy")
        check(status == 200 and sha in body, f"/api/policy shows the hash of policies/default.lua ({sha}): {body[:600]}")
        # a reload finds it again (SIGHUP)
        s.p.send_signal(signal.SIGHUP)
        check(s.wait_for("version 2", 20), "a SIGHUP reloads the built-in policy: " + s.text()[-2000:])
    finally:
        rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"a clean stop, got {rc}")
    check(os.listdir(cwd) == ["qtr.log"], f"nothing but the test's log in the working folder: {os.listdir(cwd)}")


def named_file_still_loaded():
    d = tempfile.mkdtemp(prefix="qtr_named_")
    pol = write(os.path.join(d, "mine.lua"), open(DEFAULT).read().replace('name = "default"', 'name = "mine"'))
    port = free_port()
    s = Server(["-c", fast_run_config(d, port, f'policy = {{ file = "{pol}" }},')], cwd=d)
    try:
        check(s.wait_for("running (paper mode", 30), "qtr starts: " + s.text()[-2000:])
        check(f"loaded {pol}" in s.text(), "the named policy file is loaded: " + s.text()[-2000:])
        check(wait_until(lambda: '"mine"' in (http_get(port, "/api/policy")[1] or ""), 10),
              "the named policy is in force: " + str(http_get(port, "/api/policy")))
    finally:
        rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"a clean stop, got {rc}")


named_file_still_loaded()
builtin_default_from_anywhere()
finish()
