"""The project's Binance USD-M mock exchange (tests/exchange_binance_usdm/mock) for the
stress scenarios: started on a free port (it binds port 0 and prints it),
driven through its /mock/ control endpoints, always stopped."""
import json
import os
import signal
import subprocess
import threading
import time
import urllib.request

from stresslib import permissive_policy  # first: puts qtrtest on the path
from qtrtest import BUILD, PLUGINS, Server, check, write  # noqa: E402

MOCK = os.path.join(BUILD, "tests", "exchange_binance_usdm", "binance_mock")
KEY = "stress-key-0123456789abcdef"
SECRET = "stress-secret-fedcba9876543210"
ENV = dict(os.environ, QTR_BINANCE_API_KEY=KEY, QTR_BINANCE_API_SECRET=SECRET)


class Mock:
    def __init__(self):
        self.p = subprocess.Popen([MOCK, "--port", "0"], stdout=subprocess.PIPE, text=True, env=ENV)
        deadline = time.monotonic() + 10
        self.base = None
        while time.monotonic() < deadline and self.base is None:
            line = self.p.stdout.readline()
            if line.startswith("PORT "):
                self.base = f"http://127.0.0.1:{int(line.split()[1])}"
        if self.base is None:
            self.stop()
            raise RuntimeError("binance_mock did not print its port")
        self.feeder = None

    def post(self, path):
        req = urllib.request.Request(self.base + path, data=b"", method="POST")
        return json.loads(urllib.request.urlopen(req, timeout=10).read() or b"{}")

    def get(self, path):
        return json.loads(urllib.request.urlopen(self.base + path, timeout=10).read())

    def state(self):
        return self.get("/mock/state")

    def requests(self):
        return self.get("/mock/requests")["requests"]

    def fault(self, path, kind, method="POST", **params):
        q = "&".join(f"{k}={v}" for k, v in params.items())
        return self.post(f"/mock/fault?path={path}&method={method}&kind={kind}" + (f"&{q}" if q else ""))

    def feed_klines(self, symbol, price, n, every_s):
        """Closed one-minute candles, one every `every_s` seconds (or, given a
        list, the i-th followed by a wait of every_s[i % len]), oldest first
        (n minutes ago up to the last closed minute): each poll of the plugin
        then finds one new candle, and the strategy runs on it."""
        waits = every_s if isinstance(every_s, (list, tuple)) else [every_s]
        stop = threading.Event()

        def run():
            first = (int(time.time() // 60) - n - 1) * 60000
            for i in range(n):
                if stop.is_set():
                    return
                t = first + i * 60000
                c = price + (i % 7) * 10
                self.post(f"/mock/kline?symbol={symbol}&open_time={t}&close_time={t + 59999}"
                          f"&o={c}&h={c + 50}&l={c - 50}&c={c}&v=1000")
                stop.wait(waits[i % len(waits)])
        self.feeder = (threading.Thread(target=run, daemon=True), stop)
        self.feeder[0].start()
        return self.feeder[0]

    def stop(self):
        if self.feeder:
            self.feeder[1].set()
            self.feeder[0].join(timeout=15)
        if self.p.poll() is None:
            self.p.send_signal(signal.SIGTERM)
            try:
                self.p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.p.kill()
                self.p.wait(timeout=5)


def live_config(d, base, strategy, extra_options=""):
    """qtr run in live mode on the mock, with a permissive policy and the
    given strategy entry."""
    pol = permissive_policy(d, errors=1000)
    return write(os.path.join(d, "live.lua"), f"""
return {{
  mode = "live",
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "exchange" }},
  policy = {{ file = "{pol}" }},
  signals = {{ capacity = 1000, per_cycle = 50, max_age_ms = 60000, cycle_ms = 20 }},
  plugins = {{
    {{ kind = "exchange", name = "binance_usdm", options = {{
        base_url = "{base}", symbols = {{ "BTCUSDT" }}, kline_poll_ms = 100, kline_limit = 20, mark_poll_ms = 100,
        poll_interval_ms = 100, retry_backoff_ms = "50,100,200"{extra_options} }} }},
    {{ kind = "risk", name = "policy" }},
    {strategy},
  }},
}}
""")


def start_flood(d, mock, so, candles, per_candle, price, every_s=0.25, seed=12345):
    """qtr run (live, on the mock) with strategy_flood (`so`, its ranks
    shuffled by `seed`) sending per_candle signals on each of `candles`
    candles, fed to the mock every_s apart (feed_klines) once the server runs;
    the Server, or None if it did not start."""
    strategy = (f'{{ kind = "strategy", name = "flood", file = "{so}", options = {{ symbol = "BTCUSDT", '
                f'candles = {candles}, per_candle = {per_candle}, seed = {seed} }} }}')
    s = Server(["-c", live_config(d, mock.base, strategy)], cwd=d, env=ENV)
    if not check(s.wait_for("running (live mode", 20), "the server starts: " + s.text()[-3000:]):
        s.stop()
        return None
    mock.feed_klines("BTCUSDT", price, candles + 2, every_s)
    return s
