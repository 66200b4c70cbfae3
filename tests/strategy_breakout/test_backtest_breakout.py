"""strategy_breakout (or the strategy named by argv[1]) in `qtr backtest` on ../shared/data: the run trades,
every round trip has its own entry and close fills (a flip is a close plus an
entry, never one fill for both), and the same input run twice gives a
byte-identical report."""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "e2e"), os.path.join(HERE, "..", "market")]
from qtrtest import DATA, check, finish, run  # noqa: E402
from backtest_config import backtest_config  # noqa: E402

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
PAPER = ('taker_fee = "0.0004", slippage_bps = "0", max_volume_share = "1", min_qty_step = "0.1", '
         'price_tick = "0.0001"')
# the strategy plugin to run (argv[1]: tests/strategy_mean_reversion runs this with mean_reversion)
NAME = sys.argv[1] if len(sys.argv) > 1 else "breakout"
STRATEGY = ('{ kind = "strategy", name = "%s", options = { symbols = { "XRPUSDT" }, period = 20, '
            'order_notional = "1000" } }' % NAME)


def config(d):
    return backtest_config(d, PAPER, ["XRPUSDT"], 0, 0, 0, strategy=STRATEGY)


def main():
    d = tempfile.mkdtemp(prefix=f"qtr_bt_{NAME}_")
    cfg = config(d)
    reports = []
    for i in range(2):
        out = os.path.join(d, f"report{i}.json")
        rc, _, err = run(["backtest", "-c", cfg, "--data", CSV, "--json", out, "--quiet"], timeout=120)
        check(rc == 0, f"backtest {i} exits 0: {rc} {err[-2000:]}")
        if rc != 0:
            return
        reports.append(open(out, "rb").read())
    got = json.loads(reports[0])
    print("report:", {k: got.get(k) for k in ("candles", "trades", "fills", "net_pnl", "fees")})
    check(got.get("candles") == 1999, f"every candle read: {got.get('candles')}")
    check(got.get("trades", 0) > 5, f"the strategy trades: {got.get('trades')}")
    # a round trip is an entry fill and a separate close fill, never one flip fill for both
    check(got.get("fills", 0) >= 2 * got.get("trades", 0), f"flips are a close plus an entry: {got}")
    check(reports[0] == reports[1], "the same input gives the same bytes")


if __name__ == "__main__":
    main()
    finish()
