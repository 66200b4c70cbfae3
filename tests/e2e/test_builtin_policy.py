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
from qtrtest import SRC, Server, api_json, check, fast_run_config, finish, free_port, metric, wait_until, write

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
        pol = wait_until(lambda: api_json(port, "/api/policy"), 30, 0.1)
        check(pol is not None, "qtr starts with no policy file anywhere: " + s.text()[-2000:])
        sha = hashlib.sha256(open(DEFAULT, "rb").read()).hexdigest()
        check(pol is not None and pol.get("hash") == sha and pol.get("version") == 1,
              f"/api/policy shows the built-in policies/default.lua (hash {sha}), version 1: {pol}")
        check(wait_until(lambda: metric(port, "qtr_fills_total") > 0, 60, 0.1), "and trades under it (qtr_fills_total)")
        # a reload finds it again (SIGHUP)
        s.p.send_signal(signal.SIGHUP)
        again = wait_until(lambda: (api_json(port, "/api/policy") or {}).get("version") == 2, 20, 0.1)
        check(again and api_json(port, "/api/policy")["hash"] == sha, "a SIGHUP reloads the built-in policy: version 2")
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
        sha = hashlib.sha256(open(pol, "rb").read()).hexdigest()
        now = wait_until(lambda: api_json(port, "/api/policy"), 30, 0.1)
        check(now is not None, "qtr starts: " + s.text()[-2000:])
        check(now is not None and now.get("name") == "mine" and now.get("hash") == sha,
              f"the named policy file is loaded and in force (name mine, hash {sha}): {now}")
    finally:
        rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"a clean stop, got {rc}")


named_file_still_loaded()
builtin_default_from_anywhere()
finish()
