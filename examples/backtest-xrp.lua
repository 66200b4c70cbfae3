-- A backtest configuration: `qtr backtest -c examples/backtest-xrp.lua
--   --data ../shared/data/XRPUSDT-perp-5m.csv --json report.json`
-- Backtests never touch the live trade store or ESS state.
return {
  account = { starting_balance = "10000" },
  policy = { file = "../policies/default.lua" },
  store = false,
  plugins = {
    { kind = "exchange", name = "paper",
      -- tick, step and minimums per symbol (docs/backtest.md); the path is from this file's folder
      options = { taker_fee = "0.0004", slippage_bps = "1", max_volume_share = "0.1",
                  symbols_file = "../share/binance-usdm-symbols.json" } },
    { kind = "risk", name = "policy" },
    { kind = "strategy", name = "ma_cross",
      options = { symbols = { "XRPUSDT" }, fast = 10, slow = 30, order_notional = "1000" } },
  },
}
