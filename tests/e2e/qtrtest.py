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


# LeakSanitizer's own failure at exit (its tracer crashed; google/sanitizers#1353): no leak check
# ran and nothing was found, yet the exit code is 1. Said in the test's output with this mark, so
# that tools/test.sh (tools/lsan_tool_failures.py) can tell it from a finding and run the test again.
LSAN_FATAL = "LeakSanitizer has encountered a fatal error"
TOOL_MARK = "SANITIZER-TOOL-FAILURE"


def note_tool_failure(text, where):
    if LSAN_FATAL in text:
        print(f"{TOOL_MARK}: {LSAN_FATAL} in {where}: the sanitizer's own failure, not a finding", flush=True)


def run(args, timeout=60, cwd=None, env=None):
    """Run qtr to completion; returns (exit code, stdout, stderr)."""
    p = subprocess.run([QTR] + args, capture_output=True, text=True, timeout=timeout, cwd=cwd, env=env)
    note_tool_failure(p.stderr, f"qtr {' '.join(args[:2])}")
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
            note_tool_failure(self.text(), f"qtr run ({self.log_path})")


def data_head(path, n):
    """The header and the first n-1 rows of the recorded XRP 5m candles, as a new file."""
    with open(os.path.join(DATA, "XRPUSDT-perp-5m.csv")) as src, open(path, "w") as dst:
        for i, line in enumerate(src):
            if i >= n:
                break
            dst.write(line)
    return path


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# ---- appended for the stress tests (test_crash, test_ess_backtest, test_backup_live, and
# tests/stress/) ----

E8 = 100000000   # the store's money columns hold the decimal times 10^8


def dec8(v):
    """A money column (an integer holding value * 10^8) as an exact Decimal."""
    from decimal import Decimal
    return Decimal(v) / E8


def store_query(path, sql, args=(), timeout=10.0):
    """Read the trade store without changing it: a read-only connection
    (never a checkpoint, never a recovery written back). Returns the rows."""
    import sqlite3
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    try:
        return con.execute(sql, args).fetchall()
    finally:
        con.close()


def store_snapshot(path, timeout=10.0):
    """One consistent read (a single read transaction) of the durable state:
    fills, positions and the latest equity snapshot."""
    import sqlite3
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=timeout)
    try:
        con.execute("BEGIN")
        fills = con.execute("SELECT fill_id, client_id, symbol, side, qty, price, fee, reduce_only, time_ms, id"
                            " FROM fills ORDER BY id").fetchall()
        positions = {r[0]: r[1] for r in con.execute("SELECT symbol, qty FROM positions")}
        eq = con.execute("SELECT equity, peak FROM equity ORDER BY id DESC LIMIT 1").fetchone()
        con.execute("COMMIT")
    finally:
        con.close()
    return {"fills": fills, "positions": positions, "equity": eq}


def fills_sum(fills):
    """Signed quantity (10^8 units) per symbol from rows of store_snapshot()['fills']."""
    out = {}
    for f in fills:
        out[f[2]] = out.get(f[2], 0) + (f[4] if f[3] == "BUY" else -f[4])
    return out


def http_get(port, path, timeout=5.0):
    """GET http://127.0.0.1:port/path; returns (status, body text) or (None, error)."""
    import urllib.error
    import urllib.request
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=timeout) as r:
            return r.status, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8", "replace")
    except Exception as e:  # noqa: BLE001 - any failure is an answer for the caller
        return None, str(e)


def metrics(port, timeout=5.0):
    """The Prometheus text of /metrics as {'name{labels}': float}; None if unreachable."""
    status, body = http_get(port, "/metrics", timeout)
    if status != 200:
        return None
    out = {}
    for line in body.splitlines():
        if not line or line.startswith("#"):
            continue
        key, _, val = line.rpartition(" ")
        try:
            out[key] = float(val)
        except ValueError:
            pass
    return out


def api_json(port, path, timeout=5.0):
    """GET a JSON endpoint of the dashboard; None unless it answers 200."""
    import json
    status, body = http_get(port, path, timeout)
    return json.loads(body) if status == 200 else None


def metric(port, series):
    """One series of /metrics ('name' or 'name{labels}'), 0 when absent or unreachable."""
    return (metrics(port) or {}).get(series, 0)


def wall_ms():
    return int(time.time() * 1000)


def store_rows(path, sql, args=()):
    """store_query() for a store that may not exist or be ready yet (a server
    starting): [] instead of an error, for wait_until()."""
    import sqlite3
    try:
        return store_query(path, sql, args, timeout=2.0)
    except sqlite3.Error:
        return []


def stopped_through_the_store(db, since_ms, what):
    """A clean stop runs to its end: the last equity snapshot, published once
    every plugin has stopped, is in the store, stamped at or after the signal;
    the store passes SQLite's integrity check; no order is left PENDING (sent
    and never answered)."""
    last = store_query(db, "SELECT max(time_ms) FROM equity")[0][0]
    check(last is not None and last >= since_ms,
          f"{what}: the stop's final equity snapshot is stored ({last} >= {since_ms})")
    check(store_query(db, "PRAGMA integrity_check")[0][0] == "ok", f"{what}: the store is intact")
    pending = store_query(db, "SELECT client_id FROM orders WHERE status = 'PENDING'")
    check(not pending, f"{what}: no order left PENDING: {pending[:3]}")


def rss_kb(pid):
    """VmRSS of a process in kB (None if gone)."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def ess_state_file(path):
    """The ESS state file (host/risk/ess_store.c) as a dict; None if absent."""
    if not os.path.exists(path):
        return None
    out = {}
    with open(path) as f:
        for line in f:
            line = line.rstrip("\n")
            if line and not line.startswith("#") and "=" in line:
                k, v = line.split("=", 1)
                out[k] = v
    return out


def wait_until(pred, timeout, step=0.05):
    """Poll pred() until it is true or timeout seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    v = pred()
    while not v and time.monotonic() < deadline:
        time.sleep(step)
        v = pred()
    return v


def fast_run_config(d, port, policy_line, name="fast.lua"):
    """A quick paper run (20 ms synthetic candles, ma_cross 2/5) with the
    dashboard on 127.0.0.1:port; policy_line is the config's policy entry
    (such as 'policy = { file = "..." },' or "" for the built-in default)."""
    return write(os.path.join(d, name), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 20, seed = 7 }},
  {policy_line}
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "200" }} }},
  }},
}}
""")


# ---- the Binance mock exchange (tests/exchange_binance_usdm/mock) for e2e runs against it ----

BINANCE_MOCK = os.path.join(BUILD, "tests", "exchange_binance_usdm", "binance_mock")


class BinanceMock:
    """binance_mock on a free loopback port, accepting key/secret; a context
    manager that stops it. post() and state() speak its /mock/ API."""

    def __init__(self, key, secret):
        env = dict(os.environ, QTR_BINANCE_API_KEY=key, QTR_BINANCE_API_SECRET=secret)
        self.p = subprocess.Popen([BINANCE_MOCK, "--port", "0"], stdout=subprocess.PIPE, text=True, env=env)
        deadline = time.monotonic() + 10
        self.base = None
        while time.monotonic() < deadline and self.base is None:
            line = self.p.stdout.readline()
            if line.startswith("PORT "):
                self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        if self.base is None:
            self.p.kill()
            raise RuntimeError("binance_mock did not print its port")

    def post(self, path):
        import json
        import urllib.request
        req = urllib.request.Request(self.base + path, data=b"", method="POST")
        return json.loads(urllib.request.urlopen(req, timeout=10).read() or b"{}")

    def state(self):
        import json
        import urllib.request
        return json.loads(urllib.request.urlopen(self.base + "/mock/state", timeout=10).read())

    def stop(self):
        self.p.send_signal(signal.SIGTERM)
        try:
            self.p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.p.kill()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
        return False


def binance_live_config(path, d, exchange_options, extra_plugins=""):
    """A live config trading on binance_usdm (options: the Lua text inside its
    options table) with the policy risk plugin and extra_plugins (Lua entries)."""
    return write(path, f"""
return {{
  mode = "live",
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "exchange" }},
  policy = {{ file = "{SRC}/policies/default.lua" }},
  signals = {{ cycle_ms = 20 }},
  plugins = {{
    {{ kind = "exchange", name = "binance_usdm", options = {{ {exchange_options} }} }},
    {{ kind = "risk", name = "policy" }},
    {extra_plugins}
  }},
}}
""")
