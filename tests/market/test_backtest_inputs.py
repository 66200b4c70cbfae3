"""The inputs of `qtr backtest`, through the real binary, on small files whose
results are worked out by hand below: any number of --funding files, mark
prices from --mark (funding valued at the mark), the same file or the same
candle twice refused with both places named, and volumes with float noise
rounded and counted while prices with more than 8 decimals stay refused."""
import json
import os
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from qtrtest import check, finish, run, write  # noqa: E402
from backtest_config import backtest_config  # noqa: E402

H = 3600000
T0 = 1700002800000          # an hour boundary
# ma_cross fast 2, slow 3 (docs: the first side only arms it; a flip trades):
# closes 3,3,3,2 arm it short, 3 keeps it, 4 flips it long: a market buy of
# order_notional 100 at the close 4 (no slippage, no fee): 25 XRP.
XRP_CLOSES = ["3", "3", "3", "2", "3", "4", "4", "4"]
BTC_CLOSES = ["30", "30", "30", "20", "30", "40", "40", "40"]   # 100 / 40 = 2.5 BTC
FUNDING_T = T0 + 7 * H + 1   # inside the last candle: settled before it, on the position held


def candles(closes, volumes=None):
    rows = ["open_time_ms,open,high,low,close,volume"]
    for i, c in enumerate(closes):
        rows.append(f"{T0 + i * H},{c},{c},{c},{c},{volumes[i] if volumes else '1000'}")
    return "\n".join(rows) + "\n"


def config(d):
    return backtest_config(d, 'taker_fee = "0", slippage_bps = "0", max_volume_share = "1", min_qty_step = "0.001", '
                              'price_tick = "0.0001"', ["XRPUSDT", "BTCUSDT"], 2, 3, "100")


def backtest(d, args):
    out = os.path.join(d, "r.json")
    if os.path.exists(out):
        os.unlink(out)
    rc, _, err = run(["backtest", "-c", config(d), "--json", out, "--quiet"] + args, timeout=60)
    return rc, (json.load(open(out)) if rc == 0 else None), err


def main():
    d = tempfile.mkdtemp(prefix="qtr_inputs_")
    # float noise in three volumes: 1000.000000005 and 1000.123456785 are exact
    # halves (to the even: ...00, ...78), 218102.59507500002 rounds down
    xrp_vol = ["1000"] * 8
    xrp_vol[1], xrp_vol[2] = "1000.000000005", "218102.59507500002"
    btc_vol = ["1000"] * 8
    btc_vol[4] = "1000.123456785"
    xrp = write(os.path.join(d, "XRPUSDT-1h.csv"), candles(XRP_CLOSES, xrp_vol))
    btc = write(os.path.join(d, "BTCUSDT-1h.csv"), candles(BTC_CLOSES, btc_vol))
    # marks: 10% above the close from the candle after the buy on
    xrp_mark = write(os.path.join(d, "XRPUSDT-mark-1h.csv"), candles(XRP_CLOSES[:6] + ["4.4", "4.4"]))
    btc_mark = write(os.path.join(d, "BTCUSDT-mark-1h.csv"), candles(BTC_CLOSES[:6] + ["44", "44"]))
    xrp_f = write(os.path.join(d, "XRPUSDT-funding.csv"), f"funding_time_ms,funding_rate\n{FUNDING_T},0.001\n")
    btc_f = write(os.path.join(d, "BTCUSDT-funding.csv"), f"funding_time_ms,funding_rate\n{FUNDING_T},0.002\n")

    # Funding at the last close: -25 * 4 * 0.001 = -0.1 and -2.5 * 40 * 0.002 = -0.2
    rc, r, err = backtest(d, ["--data", f"{xrp},{btc}", "--funding", xrp_f, "--funding", btc_f])
    check(rc == 0, f"two --funding files: exit 0 ({rc} {err[-500:]})")
    if r:
        check(r["fills"] == 2 and r["open_trades"] == 2, f"one buy per symbol, both still open: {r}")
        check(r["funding"] == "-0.3", f"funding of both symbols at the close: -0.3, got {r['funding']}")
        check(r["volumes_rounded"] == 3, f"3 volumes rounded, got {r['volumes_rounded']}")
        check(r["candles"] == 16, f"16 candles, got {r['candles']}")
    # At the mark of the funding time (the mark candle that closed before it):
    # -25 * 4.4 * 0.001 = -0.11 and -2.5 * 44 * 0.002 = -0.22
    rc, r, err = backtest(d, ["--data", xrp, "--data", btc, "--funding", f"{xrp_f},{btc_f}",
                              "--mark", f"{xrp_mark},{btc_mark}"])
    check(rc == 0, f"--mark: exit 0 ({rc} {err[-500:]})")
    if r:
        check(r["funding"] == "-0.33", f"funding at the marks: -0.33, got {r['funding']}")
    rc, r, err = backtest(d, ["--data", f"{xrp},{btc}", "--funding", xrp_f, "--mark", xrp_mark])
    check(rc == 0 and r and r["funding"] == "-0.11", f"one symbol's funding at its mark: -0.11 ({rc} {r} {err[-300:]})")

    # The same file twice, by the same name or another: refused, not read twice.
    rc, _, err = backtest(d, ["--data", f"{xrp},{btc},{xrp}"])
    check(rc == 2 and f"--data {xrp}: the same file as {xrp}, given twice" in err, f"a file given twice: {rc} {err}")
    link = os.path.join(d, "XRPUSDT-again.csv")
    os.symlink(xrp, link)
    rc, _, err = backtest(d, ["--data", xrp, "--data", link])
    check(rc == 2 and f"--data {link}: the same file as {xrp}, given twice" in err, f"a symlink to it: {rc} {err}")
    rc, _, err = backtest(d, ["--data", xrp, "--funding", f"{xrp_f},{xrp_f}"])
    check(rc == 2 and "given twice" in err, f"a funding file given twice: {rc} {err}")
    other_f = write(os.path.join(d, "XRPUSDT-funding-2.csv"), f"funding_time_ms,funding_rate\n{FUNDING_T + H},0.001\n")
    rc, _, err = backtest(d, ["--data", xrp, "--funding", f"{xrp_f},{other_f}"])
    check(rc == 2 and "are both for XRPUSDT" in err, f"two funding files of one symbol: {rc} {err}")

    # The same candle in two files of one symbol: both places named (the
    # header is line 1, the first candle line 2).
    part = write(os.path.join(d, "XRPUSDT-part.csv"),
                 "open_time_ms,open,high,low,close,volume\n"
                 f"{T0 + 9 * H},1,1,1,1,1\n{T0 + 10 * H},1,1,1,1,1\n{T0 + 11 * H},1,1,1,1,1\n")
    overlap = write(os.path.join(d, "XRPUSDT-overlap.csv"),
                    "open_time_ms,open,high,low,close,volume\n"
                    f"{T0 + 11 * H},1,1,1,1,1\n{T0 + 12 * H},1,1,1,1,1\n")
    rc, _, err = backtest(d, ["--data", f"{part},{overlap}"])
    want = f"XRPUSDT candle opening at {T0 + 11 * H} is in both {part}:4 and {overlap}:2"
    check(rc == 2 and want in err, f"one candle in two files: {rc} {err}")
    rc, _, err = backtest(d, ["--data", f"{xrp},{part}"])
    check(rc == 0, f"two files of one symbol that do not overlap are fine: {rc} {err[-300:]}")

    # Candles are read as the run goes (market/candle_stream.h): a bad row
    # far into a file stops the run there with its place, and nothing the
    # run would have written is left: no report, no half-filled new store.
    rows = ["open_time_ms,open,high,low,close,volume"]
    for i in range(3000):
        c = 3 + (i // 40) % 3
        rows.append(f"{T0 + i * H},{c},{c},{c},{c},1000")
    rows[2900] = rows[2900].replace(",1000", ",-1")
    late = write(os.path.join(d, "XRPUSDT-late.csv"), "\n".join(rows) + "\n")
    store = os.path.join(d, "late.db")
    rc, _, err = backtest(d, ["--data", f"{late},{btc}", "--store", store])
    check(rc == 2 and f"{late}:2901: column 'volume': negative (-1)" in err, f"a bad row late in a file: {rc} {err}")
    check(not os.path.exists(os.path.join(d, "r.json")), "no report written")
    check(not [n for n in os.listdir(d) if n.startswith("late.db")], f"the new store is removed: {os.listdir(d)}")
    rows[2900] = rows[2900].replace(",-1", ",1000")
    write(late, "\n".join(rows) + "\n")
    rc, _, err = backtest(d, ["--data", f"{late},{btc}", "--store", store])
    check(rc == 0 and os.path.exists(store), f"the same run with the row mended: {rc} {err[-300:]}")

    # A price with more than 8 decimals stays refused, with its place.
    bad = write(os.path.join(d, "ETHUSDT-1h.csv"),
                "open_time_ms,open,high,low,close,volume\n"
                f"{T0},1,1,1,1,1\n{T0 + H},1,1,1,1.000000001,1\n")
    rc, _, err = backtest(d, ["--data", bad])
    check(rc == 2 and f"{bad}:3: column 'close': more than 8 decimal places" in err, f"a 9-decimal price: {rc} {err}")
    finish()


if __name__ == "__main__":
    main()
