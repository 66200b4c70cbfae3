"""A real redis-server for the bus end-to-end tests: a free loopback port, a
temporary folder, started and stopped (or killed) by the test; redis-cli for
reading what the streams hold. Every wait is bounded."""
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
import qtrtest  # noqa: E402


class Redis:
    def __init__(self, aof=True, port=None):
        if not shutil.which("redis-server"):
            print("redis-server not installed: skipped")
            sys.exit(77)
        self.dir = tempfile.mkdtemp(prefix="qtr_redis_")
        self.port = port or qtrtest.free_port()
        self.aof = aof
        self.p = None
        self.start()

    def start(self):
        args = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir, "--save", "",
                "--appendonly", "yes" if self.aof else "no", "--appendfsync", "everysec", "--logfile", "redis.log"]
        self.p = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not qtrtest.wait_until(lambda: self.cli("PING").strip() == "PONG", 10):
            raise RuntimeError("redis-server did not answer within 10 s")

    def cli(self, *args):
        p = subprocess.run(["redis-cli", "-p", str(self.port), "--no-raw"] + list(args), capture_output=True,
                           text=True, errors="replace", timeout=10)
        return p.stdout

    def entries(self, key):
        """[(host, seq)] of a stream, in stream order (redis-cli --no-raw output)."""
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", "XRANGE", key, "-", "+"],
                             capture_output=True, timeout=30).stdout.split(b"\n")
        res, i = [], 0
        while i < len(out):
            if out[i] == b"h" and i + 3 < len(out) and out[i + 2] == b"s":
                res.append((out[i + 1].decode(), int(out[i + 3])))
                i += 4
            else:
                i += 1
        return res

    def pending(self, key, group):
        out = subprocess.run(["redis-cli", "-p", str(self.port), "--raw", "XPENDING", key, group],
                             capture_output=True, text=True, timeout=10).stdout.split("\n")
        return int(out[0]) if out and out[0].strip().isdigit() else -1

    def stop(self):
        if self.p and self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)
        shutil.rmtree(self.dir, ignore_errors=True)


def host_config(path, d, host_id, role, redis_port, extra_plugins, bus_extra, market_ms=20, signals="", market=None,
                exchange=True):
    """A host's config; market: the market entry instead of the synthetic one
    (a strategy host that takes its candles from Redis: source = "exchange");
    exchange: with the paper exchange (a strategy host and an observer need none)."""
    market = market or f'market = {{ source = "synthetic", symbols = {{ "BTCUSDT" }}, interval_ms = {market_ms}, seed = 7 }},'
    return qtrtest.write(path, f"""
return {{
  host_id = "{host_id}", role = "{role}",
  state_dir = "{d}/var-{host_id}",
  plugin_path = {{ "{qtrtest.PLUGINS}" }},
  {market}
  signals = {{ cycle_ms = 10, {signals} }},
  plugins = {{
    {'{ kind = "exchange", name = "paper" },' if exchange else ''}
    {{ kind = "risk", name = "policy" }},
    {extra_plugins}
  }},
  bus = {{ redis = {{ url = "redis://127.0.0.1:{redis_port}/0", flush_ms = 1 }}, {bus_extra} }},
}}
""")
