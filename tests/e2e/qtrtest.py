"""Helpers for the end-to-end tests: run the real qtr binary, bounded waits."""
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time

SRC = os.environ.get("QTR_SOURCE_DIR", os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..")))
BUILD = os.environ.get("QTR_BUILD_DIR", os.path.join(SRC, "build"))
QTR = os.path.join(BUILD, "qtr")
PLUGINS = os.environ.get("QTR_PLUGIN_DIR", os.path.join(BUILD, "plugins"))
FIXTURES = os.path.join(BUILD, "tests", "fixtures")
DATA = os.path.abspath(os.path.join(SRC, "..", "shared", "data"))

failures = []


def check(cond, what):
    """Record a failed expectation (the test goes on, and fails at the end)."""
    if not cond:
        failures.append(what)
        print("FAIL:", what, flush=True)
    return cond


def finish():
    if failures:
        print(f"0 passed, {len(failures)} failed")
        sys.exit(1)
    print("1 passed, 0 failed")
    sys.exit(0)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def run(args, timeout=60, cwd=None, env=None):
    """Run qtr to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run([QTR] + args, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    return p.returncode, p.stdout, p.stderr


class Server:
    """qtr run in the background, its stderr collected in a file."""

    def __init__(self, args, cwd=None, env=None):
        self.dir = cwd or tempfile.mkdtemp(prefix="qtr_e2e_")
        self.log_path = os.path.join(self.dir, "qtr.log")
        self.log = open(self.log_path, "w")
        self.p = subprocess.Popen([QTR, "run"] + args, stdout=self.log, stderr=subprocess.STDOUT, cwd=self.dir, env=env)

    def text(self):
        with open(self.log_path) as f:
            return f.read()

    def wait_for(self, needle, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if needle in self.text():
                return True
            if self.p.poll() is not None:
                return needle in self.text()
            time.sleep(0.05)
        return False

    def count(self, needle):
        return self.text().count(needle)

    def stop(self, sig=signal.SIGTERM, timeout=15.0):
        if self.p.poll() is None:
            self.p.send_signal(sig)
        try:
            return self.p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.p.kill()
            self.p.wait(timeout=5)
            return None
        finally:
            self.log.close()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path
