"""`qtr indicators` end to end: the columns, blanks while warming up, values
against a reference written here in Python (exact decimals, from the
definitions), --out written whole, and bad specs refused with exit 2."""
import csv
import io
import os
import sys
import tempfile
from decimal import Decimal

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from qtrtest import DATA, check, finish, run  # noqa: E402

CANDLES = os.path.join(DATA, "XRPUSDT-perp-1h.csv")


def closes():
    with open(CANDLES) as f:
        return [Decimal(r["close"]) for r in csv.DictReader(f)]


def ref_rsi(xs, n):
    """Wilder's RSI, TA-Lib's seeding: the first value at index n."""
    out = [None] * len(xs)
    gain = loss = Decimal(0)
    for i in range(1, len(xs)):
        d = xs[i] - xs[i - 1]
        up, dn = max(d, 0), max(-d, 0)
        if i < n:
            gain, loss = gain + up, loss + dn
            continue
        if i == n:
            gain, loss = (gain + up) / n, (loss + dn) / n
        else:
            gain, loss = (gain * (n - 1) + up) / n, (loss * (n - 1) + dn) / n
        out[i] = 100 * gain / (gain + loss) if gain + loss else Decimal(0)
    return out


def values():
    rc, out, err = run(["indicators", "--data", CANDLES, "--ind", "rsi:14,sma:5,macd:12:26:9,adx:14"])
    check(rc == 0 and err == "", f"qtr indicators: exit {rc}: {err}")
    rows = list(csv.reader(io.StringIO(out)))
    want = ["open_time_ms", "rsi_14", "sma_5", "macd_12_26_9_line", "macd_12_26_9_signal", "macd_12_26_9_hist",
            "adx_14", "adx_14_plus_di", "adx_14_minus_di"]
    check(rows[0] == want, f"the header names each output: {rows[0]}")
    body = rows[1:]
    xs = closes()
    check(len(body) == len(xs), f"one row a candle: {len(body)} of {len(xs)}")
    col = {name: k for k, name in enumerate(rows[0])}

    def first(name):
        return next((i for i, r in enumerate(body) if r[col[name]] != ""), None)

    # warm-ups (0-based index of the first value): rsi n, sma n-1, macd line slow-1,
    # signal slow+signal-2, adx 2n-1 and its DIs n
    for name, idx in (("rsi_14", 14), ("sma_5", 4), ("macd_12_26_9_line", 25), ("macd_12_26_9_signal", 33),
                      ("macd_12_26_9_hist", 33), ("adx_14", 27), ("adx_14_plus_di", 14)):
        check(first(name) == idx, f"{name}: blank before index {idx}, then values: first at {first(name)}")
        check(all(r[col[name]] != "" for r in body[idx:]), f"{name}: no blank after its warm-up")
    rsi = ref_rsi(xs, 14)
    worst = max(abs(Decimal(body[i][col["rsi_14"]]) - rsi[i]) for i in range(14, len(xs)))
    check(worst < Decimal("1e-9"), f"rsi_14 matches the Python reference (worst {worst})")
    sma_err = max(abs(Decimal(body[i][col["sma_5"]]) - sum(xs[i - 4:i + 1]) / 5) for i in range(4, len(xs)))
    check(sma_err < Decimal("1e-12"), f"sma_5 matches (worst {sma_err})")


def out_file():
    d = tempfile.mkdtemp(prefix="qtr_ind_")
    path = os.path.join(d, "values.csv")
    rc, out, err = run(["indicators", "--data", CANDLES, "--ind", "ema:20", "--out", path])
    check(rc == 0 and out == "", f"--out: exit {rc}, nothing on stdout: {err}")
    with open(path) as f:
        lines = f.read().splitlines()
    check(lines[0] == "open_time_ms,ema_20" and len(lines) == len(closes()) + 1, f"--out holds every row: {lines[:2]}")
    check(os.listdir(d) == ["values.csv"], f"no temporary left beside it: {os.listdir(d)}")
    rc, _, err = run(["indicators", "--data", CANDLES, "--ind", "ema:20", "--out", os.path.join(d, "no", "x.csv")])
    check(rc == 2 and "--out" in err, f"--out into a missing folder: exit 2: {rc} {err}")


def refusals():
    cases = [
        ("rsx:14", "unknown indicator 'rsx'"),
        ("rsi", "rsi needs 1 parameter (rsi:N), got 0"),
        ("macd:12:26", "macd needs 3 parameters"),
        ("ema:0", "period '0' is not a whole number in 1..5000"),
        ("ema:-3", "period '-3'"),
        ("ema:100000000000", "period '100000000000'"),
        ("rsi:14,,ema:5", "an empty indicator"),
        ("rsi:14,rsi:14", "'rsi:14': given twice"),
    ]
    for spec, msg in cases:
        rc, out, err = run(["indicators", "--data", CANDLES, "--ind", spec])
        check(rc == 2 and out == "" and msg in err and err.count("\n") == 1,
              f"--ind {spec}: exit 2 with one line naming it: {rc} {err!r}")
    rc, _, err = run(["indicators", "--ind", "rsi:14"])
    check(rc == 2 and "--data is required" in err, f"no --data: {rc} {err}")
    rc, _, err = run(["indicators", "--data", "/nonexistent/qtr-ind/XRPUSDT.csv", "--ind", "rsi:14"])
    check(rc == 2 and "/nonexistent/qtr-ind/XRPUSDT.csv" in err, f"a missing file is named: {rc} {err}")
    rc, _, err = run(["indicators", "--data", CANDLES, "--ind", "rsi:14", "--ind", "ema:3"])
    check(rc == 2 and "--ind given twice" in err, f"--ind twice: {rc} {err}")


def main():
    if not os.path.exists(CANDLES):
        print(f"SKIP: {CANDLES} is absent: qtr indicators is not exercised on real candles")
        sys.exit(0)
    values()
    out_file()
    refusals()
    finish()


if __name__ == "__main__":
    main()
