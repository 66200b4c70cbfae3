"""qtr symbols fetch against the Binance mock on loopback: the rules saved
are the exchange's own document and the paper exchange trades by them; an
exchange that cannot be reached, or that does not answer, is exit 2 within
the bound and no file; an answer that does not read as rules is refused
naming what is wrong, the old file kept; the output path cases of --out;
an exchange plugin without fetch_rules is refused clearly."""
import json
import math
import os
import tempfile
import time
from decimal import Decimal

from qtrtest import BINANCE_MOCK, BinanceMock, PLUGINS, check, finish, free_port, run, write

KEY = "e2e-key-symbols-0123456789"
SECRET = "e2e-secret-symbols-9876543210"
ENV = dict(os.environ, QTR_BINANCE_API_KEY=KEY, QTR_BINANCE_API_SECRET=SECRET)
d = tempfile.mkdtemp(prefix="qtr_symbols_")


def config(name, base, extra=""):
    return write(os.path.join(d, name), f"""
return {{
  mode = "live",
  state_dir = "{d}/never",
  plugin_path = {{ "{PLUGINS}" }},
  plugins = {{
    {{ kind = "exchange", name = "binance_usdm", options = {{ base_url = "{base}"{extra} }} }},
    {{ kind = "strategy", name = "ma_cross" }},
    {{ kind = "risk", name = "policy" }},
  }},
}}
""")


def fetch(cfg, out, timeout=90):
    t0 = time.monotonic()
    rc, so, se = run(["symbols", "fetch", "-c", cfg, "--out", out], timeout=timeout, env=ENV)
    return rc, so, se, time.monotonic() - t0


def leftovers(folder):
    return [n for n in os.listdir(folder) if n.startswith(".") or "tmp" in n.lower()]


def btc_candles(path, n=240):
    """One-minute BTCUSDT candles swinging around 50000, so ma_cross trades."""
    rows = ["open_time_ms,open,high,low,close,volume"]
    t, last = 1700000000000, Decimal("50000")
    for i in range(n):
        close = Decimal(50000 + int(900 * math.sin(i / 9.0))) + Decimal("0.37")
        hi, lo = max(last, close) + 7, min(last, close) - 7
        rows.append(f"{t},{last},{hi},{lo},{close},123.456")
        t += 60000
        last = close
    return write(path, "\n".join(rows) + "\n")


def mock_requests(mock, path):
    import urllib.request
    log = json.loads(urllib.request.urlopen(mock.base + "/mock/requests", timeout=10).read())
    return sum(1 for r in log.get("requests", []) if r.get("path") == path)


def main():
    check(os.access(BINANCE_MOCK, os.X_OK), f"the mock is built: {BINANCE_MOCK}")
    with BinanceMock(KEY, SECRET) as mock:
        cfg = config("ok.lua", mock.base)
        out_dir = os.path.join(d, "out")
        os.mkdir(out_dir)
        out = os.path.join(out_dir, "rules.json")

        # --- success: the exchange's document, whole, read by the paper exchange
        rc, so, se, secs = fetch(cfg, out)
        check(rc == 0, f"fetch exits 0: {rc} {se}")
        check("rules of 2 symbols written" in se, f"it says what it saved: {se!r}")
        doc = json.load(open(out))
        syms = {s["symbol"]: s for s in doc["symbols"]}
        check(set(syms) == {"BTCUSDT", "ETHUSDT"} and doc["rateLimits"],
              f"the mock's symbols and rate limits: {sorted(syms)}")
        ticks = [f["tickSize"] for f in syms["BTCUSDT"]["filters"] if f["filterType"] == "PRICE_FILTER"]
        check(ticks and Decimal(ticks[0]) == Decimal("0.1"), f"BTCUSDT's tick as the exchange has it: {ticks}")
        check(leftovers(out_dir) == [], f"no temporary file left: {os.listdir(out_dir)}")
        check(mock.state().get("orders", []) == [] and mock_requests(mock, "/fapi/v1/leverage") == 0
              and mock_requests(mock, "/fapi/v1/listenKey") == 0,
              "the plugin was never started: no leverage call, no user stream, no order")

        # the paper exchange trades by the saved file: every fill on BTCUSDT's
        # 0.1 tick and 0.001 step (without it the tick is 0.0001)
        csv = btc_candles(os.path.join(d, "BTCUSDT-1m.csv"))
        trades = os.path.join(d, "trades.csv")
        rc, so, se = run(["backtest", "--data", csv, "--set", f"plugins.paper.symbols_file={out}",
                          "--trades", trades, "--quiet"], timeout=120)
        check(rc == 0, f"a backtest with symbols_file = the fetched file exits 0: {rc} {se}")
        fills = [line.split(",") for line in open(trades).read().splitlines()[1:]] if rc == 0 else []
        check(len(fills) >= 2, f"the backtest traded: {len(fills)} fills")
        off = [f for f in fills if Decimal(f[6]) % Decimal("0.1") != 0 or Decimal(f[5]) % Decimal("0.001") != 0]
        check(not off, f"every fill on the fetched tick and step: {off[:3]}")
        rc0, _, _ = run(["backtest", "--data", csv, "--trades", trades + ".0", "--quiet"], timeout=120)
        fills0 = [line.split(",") for line in open(trades + ".0").read().splitlines()[1:]] if rc0 == 0 else []
        check(any(Decimal(f[6]) % Decimal("0.1") != 0 for f in fills0),
              "control: without the file the same run fills off the 0.1 tick (so the check above can fail)")
        broken = write(os.path.join(d, "broken.json"), open(out).read()[:200])
        rc, _, se = run(["backtest", "--data", csv, "--set", f"plugins.paper.symbols_file={broken}", "--quiet"])
        check(rc != 0 and "symbols_file" in se, f"control: the paper exchange refuses a cut file: {rc} {se}")

        # --- an answer that does not read as rules: refused naming it, the old file kept
        before = open(out, "rb").read()
        mock.post("/mock/fault?path=/fapi/v1/exchangeInfo&kind=malformed&count=1")
        rc, _, se, _ = fetch(cfg, out)
        check(rc == 1 and "malformed JSON" in se, f"a cut JSON answer: exit 1, said so: {rc} {se}")
        check(open(out, "rb").read() == before and leftovers(out_dir) == [], "the old file is kept as it was")
        mock.post("/mock/limits?weight_interval_ms=500")   # intervalNum 0: no interval
        rc, _, se, _ = fetch(cfg, out)
        check(rc == 1 and "rateLimits[0]" in se and "bad interval or limit" in se,
              f"rules with a zero interval: refused naming the field: {rc} {se}")
        check(open(out, "rb").read() == before, "the old file is kept as it was")
        mock.post("/mock/limits?weight_interval_ms=60000")

        # rate limited again and again: errors in a row, but this engine's
        # ESS never trips into cancelling the account's orders
        quick = config("quick.lua", mock.base, ", backoff_429_ms = 20, backoff_max_ms = 40, max_429_retries = 7")
        mock.post("/mock/fault?path=/fapi/v1/exchangeInfo&kind=429&count=8")
        rc, _, se, _ = fetch(quick, out)
        check(rc == 2 and "429" in se, f"rate limited every time: exit 2: {rc} {se}")
        check("ESS" not in se and "TRIPPED" not in se and mock_requests(mock, "/fapi/v1/allOpenOrders") == 0,
              f"8 errors in a row trip nothing and cancel nothing: {se}")
        mock.post("/mock/fault?path=/fapi/v1/exchangeInfo&kind=html&status=200&count=1")
        rc, _, se, _ = fetch(cfg, out)
        check(rc == 1 and "HTML" in se, f"an HTML page: exit 1: {rc} {se}")

        # --- no answer in time: exit 2 within the plugin's timeout, no file
        slow = config("slow.lua", mock.base, ", timeout_ms = 500")
        mock.post("/mock/fault?path=/fapi/v1/exchangeInfo&kind=timeout&delay_ms=5000&count=1")
        late = os.path.join(out_dir, "late.json")
        rc, _, se, secs = fetch(slow, late)
        check(rc == 2 and "timeout" in se.lower(), f"no answer: exit 2, said so: {rc} {se}")
        check(secs < 10, f"within the bound: {secs:.1f} s")
        check(not os.path.exists(late) and leftovers(out_dir) == [], "no file written")
        mock.post("/mock/fault?path=/fapi/v1/exchangeInfo&kind=500&count=1")
        rc, _, se, _ = fetch(cfg, late)
        check(rc == 2 and not os.path.exists(late), f"HTTP 500: exit 2 (no usable answer), no file: {rc} {se}")

        # --- output paths
        rc, so, se, _ = fetch(cfg, "-")
        check(rc == 0 and json.loads(so)["symbols"], f"'-': the JSON on standard output: {rc} {se}")
        target = os.path.join(out_dir, "target.json")
        write(target, "old")
        link = os.path.join(out_dir, "link.json")
        os.symlink(target, link)
        rc, _, se, _ = fetch(cfg, link)
        check(rc == 0 and os.path.islink(link) and json.load(open(target))["symbols"],
              f"a symlink stays a link, its target replaced: {rc} {se}")
        n_info = mock_requests(mock, "/fapi/v1/exchangeInfo")
        for bad, what in ((os.path.join(d, "nope", "x.json"), "does not exist"), (out_dir, "folder")):
            rc, _, se, _ = fetch(cfg, bad)
            check(rc == 2 and what in se, f"--out {bad}: exit 2 naming it: {rc} {se}")
        check(mock_requests(mock, "/fapi/v1/exchangeInfo") == n_info, "a bad --out is refused before any request")

    # --- the exchange is not there at all
    down = config("down.lua", f"http://127.0.0.1:{free_port()}")
    gone = os.path.join(d, "gone.json")
    rc, _, se, secs = fetch(down, gone)
    check(rc == 2 and "no usable answer" in se, f"unreachable: exit 2 with a clear message: {rc} {se}")
    check(not os.path.exists(gone) and secs < 30, f"no file, bounded: {secs:.1f} s")

    # --- refusals before any request
    rc, _, se, _ = fetch_default(gone)
    check(rc == 2 and "paper" in se and "fetch_rules" in se,
          f"the built-in config's paper exchange has no rules to fetch: {rc} {se}")
    rc, _, se = run(["symbols", "fetch", "-c", down], env=ENV)
    check(rc == 2 and "--out" in se, f"--out is required: {rc} {se}")
    rc, _, se = run(["symbols", "fecth"], env=ENV)
    check(rc == 2 and "fetch" in se, f"a typo of the sub-command: {rc} {se}")
    check(not os.path.exists(os.path.join(d, "never")), "the config's state_dir was never created")


def fetch_default(out):
    t0 = time.monotonic()
    rc, so, se = run(["symbols", "fetch", "--out", out], env=ENV)
    return rc, so, se, time.monotonic() - t0


main()
finish()
