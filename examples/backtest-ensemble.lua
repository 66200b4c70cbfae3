-- strategy_ensemble in a backtest, from the top of the checkout:
--   qtr backtest -c examples/backtest-ensemble.lua --data ../shared/data/XRPUSDT-perp-5m.csv
-- The model and symbols_file paths are from this file's folder, as every path in a config
-- (installed: /usr/lib/quantum-trader/models/ensemble_model.json); model = "" runs the rule
-- voters alone (health DEGRADED). docs/strategies.md.
return {
  account = { starting_balance = "10000" },
  policy = { file = "../policies/default.lua" },
  store = false,
  plugins = {
    { kind = "exchange", name = "paper",
      options = { taker_fee = "0.0004", slippage_bps = "1", max_volume_share = "0.1",
                  symbols_file = "../share/binance-usdm-symbols.json" } },
    { kind = "risk", name = "policy" },
    { kind = "strategy", name = "ensemble",
      options = { symbols = { "XRPUSDT" }, model = "../plugins/strategy_ensemble/model/ensemble_model.json",
                  weight_model = 0.4, weight_trend = 0.2, weight_mean_reversion = 0.2, weight_breakout = 0.2,
                  threshold = 0.2, order_notional = "500" } },
  },
}
