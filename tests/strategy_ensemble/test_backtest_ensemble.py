"""strategy_ensemble in `qtr backtest` on ../shared/data, with its committed
model and without one: each run twice gives byte-identical reports, both
trade, and the model changes the decisions (the two reports differ). The
documented example, examples/backtest-ensemble.lua, runs with its model."""
import json
import os
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "e2e"), os.path.join(HERE, "..", "market")]
from qtrtest import DATA, PLUGINS, SRC, check, finish, run  # noqa: E402
from backtest_config import backtest_config  # noqa: E402

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
MODEL = os.path.join(SRC, "plugins", "strategy_ensemble", "model", "ensemble_model.json")
PAPER = ('taker_fee = "0.0004", slippage_bps = "0", max_volume_share = "1", min_qty_step = "0.1", '
         'price_tick = "0.0001"')


def reports(d, model, label):
    strategy = ('{ kind = "strategy", name = "ensemble", options = { symbols = { "XRPUSDT" }, '
                f'model = "{model}", order_notional = "1000" }} }}')
    sub = os.path.join(d, label)
    os.makedirs(sub)
    cfg = backtest_config(sub, PAPER, ["XRPUSDT"], 0, 0, 0, strategy=strategy)
    out = []
    for i in range(2):
        path = os.path.join(sub, f"report{i}.json")
        rc, _, err = run(["backtest", "-c", cfg, "--data", CSV, "--json", path, "--quiet"], timeout=120)
        check(rc == 0, f"{label} backtest {i} exits 0: {rc} {err[-2000:]}")
        if rc != 0:
            return None, err
        out.append(open(path, "rb").read())
    check(out[0] == out[1], f"{label}: the same input gives the same bytes")
    got = json.loads(out[0])
    print(label, {k: got.get(k) for k in ("candles", "trades", "fills", "net_pnl", "fees")})
    check(got.get("candles") == 1999, f"{label}: every candle read: {got.get('candles')}")
    check(got.get("trades", 0) > 5, f"{label}: the ensemble trades: {got.get('trades')}")
    return out[0], err


def main():
    d = tempfile.mkdtemp(prefix="qtr_bt_ensemble_")
    with_model, err = reports(d, MODEL, "with_model")
    check("not used" not in err, f"the committed model loads: {err[-1000:]}")
    without, err = reports(d, "", "without_model")
    check("rules only: no model configured" in err or "no model configured" in err,
          f"without a model the plugin says it decides with the rules only: {err[-1000:]}")
    check(with_model is not None and without is not None and with_model != without,
          "the model's votes change the decisions")
    rc, out, err = run(["backtest", "-c", os.path.join("examples", "backtest-ensemble.lua"), "--data", CSV],
                       timeout=120, cwd=SRC, env=dict(os.environ, QTR_PLUGIN_PATH=PLUGINS))
    check(rc == 0 and "trades" in out, f"examples/backtest-ensemble.lua runs: {rc} {err[-1500:]}")
    check("not used" not in err, f"and loads its model: {err[-1000:]}")


if __name__ == "__main__":
    main()
    finish()
