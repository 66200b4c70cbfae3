"""Regime detection from the command line.

- `qtr indicators --ind regime` writes the regime's name per candle:
  "unknown" through the documented warm-up, then what the rules of
  docs/indicators.md say, checked here against a reference in Python that
  applies those rules (volatility, ATR%, the ADX band, confirmation) to the
  ADX/DI and ATR columns of the same run and to the returns computed here.
- `-c CONFIG` takes the thresholds from the server config's regime section.
- A bad regime value in the server config is refused before any work, exit
  2, with one line naming the key: for qtr indicators -c and qtr backtest -c.
- The example strategy of docs/strategies.md ("Reading the market regime")
  compiles against the SDK headers alone.
"""
import csv
import io
import math
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from qtrtest import BUILD, SRC, check, finish, run, write  # noqa: E402

PLUGINS = os.environ.get("QTR_PLUGIN_DIR", os.path.join(BUILD, "plugins"))


def candles_csv(path):
    """Up, sideways (3 up, 3 down), down, then wild swings: every regime."""
    rows = ["open_time_ms,open,high,low,close,volume"]
    price, t = 100.0, 1700000000000
    for i in range(300):
        if i < 80:
            step = 0.004
        elif i < 160:
            step = -0.005 if (i // 3) % 2 else 0.005
        elif i < 240:
            step = -0.004
        else:
            step = -0.07 if i % 2 else 0.07
        o, price = price, price * (1 + step)
        rows.append(f"{t},{o:.6f},{max(o, price) * 1.002:.6f},{min(o, price) * 0.998:.6f},{price:.6f},10")
        t += 3600000
    write(path, "\n".join(rows) + "\n")


def reference(rows, closes, p):
    """The rules of docs/indicators.md over the run's ADX/DI/ATR columns."""
    n = p["vol_period"]
    rets = [None] + [closes[i] / closes[i - 1] - 1 for i in range(1, len(closes))]
    out, reported, cand, cand_n = [], "unknown", None, 0
    for i, r in enumerate(rows):
        if r["adx_14"] == "" or r["atr_14"] == "" or i < n:
            out.append("unknown")
            continue
        window = rets[i - n + 1:i + 1]
        mean = sum(window) / n
        vol = 100 * math.sqrt(sum((x - mean) ** 2 for x in window) / n)
        atr_pct = 100 * float(r["atr_14"]) / closes[i]
        adx, pdi, mdi = float(r["adx_14"]), float(r["adx_14_plus_di"]), float(r["adx_14_minus_di"])
        if atr_pct >= p["volatile_atr_pct"] or vol >= p["volatile_vol_pct"]:
            g = "volatile"
        else:
            d = "trend_up" if pdi > mdi else "trend_down" if mdi > pdi else None
            need = p["trend_adx_exit"] if d and d == reported else p["trend_adx"]
            g = d if d and adx >= need else "range"
        if reported == "unknown" or g == reported:
            reported, cand_n = g, 0
        else:
            cand_n = cand_n + 1 if g == cand and cand_n > 0 else 1
            cand = g
            if cand_n >= p["confirm"]:
                reported, cand_n = g, 0
        out.append(reported)
    return out


def regime_column(data, p, extra):
    rc, out, err = run(["indicators", "--data", data, "--ind", "adx:14,regime,atr:14"] + extra)
    check(rc == 0 and err == "", f"qtr indicators --ind regime: exit {rc}: {err}")
    rows = list(csv.DictReader(io.StringIO(out)))
    check(list(rows[0].keys()) == ["open_time_ms", "adx_14", "adx_14_plus_di", "adx_14_minus_di", "regime", "atr_14"],
          f"the regime column where --ind puts it: {list(rows[0].keys())}")
    with open(data) as f:
        closes = [float(r["close"]) for r in csv.DictReader(f)]
    got = [r["regime"] for r in rows]
    want = reference(rows, closes, p)
    bad = [i for i in range(len(got)) if got[i] != want[i]]
    check(not bad, f"regime column = the documented rules ({len(bad)} differ, first at row "
          f"{bad[0] + 1 if bad else 0}: {got[bad[0]] if bad else ''} vs {want[bad[0]] if bad else ''})")
    return got


def docs_example_compiles(d):
    with open(os.path.join(SRC, "docs", "strategies.md")) as f:
        text = f.read()
    m = re.search(r"## Reading the market regime.*?```c\n(.*?)```", text, re.S)
    check(m is not None, "docs/strategies.md has the regime example")
    check(m is not None and ".needs = QTR_NEEDS_REGIME" in m.group(1),
          "the docs' regime example declares .needs = QTR_NEEDS_REGIME (a backtest refuses it otherwise)")
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not m or not cc:
        return
    src = write(os.path.join(d, "regime_example.c"), m.group(1))
    p = subprocess.run([cc, "-std=c17", "-fsyntax-only", "-Wall", "-Wextra", "-Werror", "-Wno-unused-function",
                        "-I", os.path.join(SRC, "sdk", "include"), src], capture_output=True, text=True, timeout=60)
    check(p.returncode == 0, f"the docs' regime example compiles: {p.stderr}")


def main():
    with tempfile.TemporaryDirectory() as d:
        docs_example_compiles(d)
        data = os.path.join(d, "TESTUSDT.csv")
        candles_csv(data)
        defaults = dict(vol_period=20, volatile_atr_pct=3.0, volatile_vol_pct=2.5, trend_adx=25.0,
                        trend_adx_exit=20.0, confirm=2)
        got = regime_column(data, defaults, [])
        check(got[:27] == ["unknown"] * 27 and got[27] != "unknown",
              f"unknown through the warm-up (27 candles with the defaults), then a regime: {got[25:29]}")
        check({"trend_up", "range", "trend_down", "volatile"} <= set(got), f"every regime appears: {set(got)}")

        # the server config's thresholds
        tuned = dict(defaults, volatile_vol_pct=0.6, confirm=1, trend_adx=30.0, trend_adx_exit=10.0)
        cfg = write(os.path.join(d, "tuned.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  store = false,
  regime = {{ volatile_vol_pct = "0.6", confirm = 1, trend_adx = "30", trend_adx_exit = "10" }},
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }} }},
}}
""")
        got2 = regime_column(data, tuned, ["-c", cfg])
        check(got2 != got, "-c changes the column (the config's thresholds are used)")

        # bad values: exit 2, naming the key, before any work
        for section, key in (('regime = { trend_adx = "101" }', "regime.trend_adx"),
                             ('regime = { trend_adx_exit = "40" }', "regime.trend_adx_exit"),
                             ("regime = { vol_period = 1 }", "regime.vol_period"),
                             ("regime = { confirm = 0 }", "regime.confirm")):
            bad = write(os.path.join(d, "bad.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  store = false,
  {section},
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }} }},
}}
""")
            rc, out, err = run(["indicators", "--data", data, "--ind", "regime", "-c", bad])
            check(rc == 2 and key in err and out == "" and len(err.strip().splitlines()) == 1,
                  f"qtr indicators -c with {section}: exit 2 naming {key}: {rc} {err!r}")
            rc, out, err = run(["backtest", "-c", bad, "--data", data, "--quiet"])
            check(rc == 2 and key in err and "Backtest report" not in out,
                  f"qtr backtest -c with {section}: exit 2 naming {key}: {rc} {err!r}")

        rc, _, err = run(["indicators", "--data", data, "--ind", "regime,rsi:14,regime"])
        check(rc == 2 and "given twice" in err, f"regime twice: exit 2: {rc} {err}")
    finish()


if __name__ == "__main__":
    main()
