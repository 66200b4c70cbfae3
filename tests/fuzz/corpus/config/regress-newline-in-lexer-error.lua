--cktest configuration: `qtr ba
-- Backtests never touch the live tate.
return {
  account = { starting_balance = "10000" },
  policy = { file = "../policies/default.lua" },
  store = false,
  plugins = {
    { kind = "exch\ngemums per symbol (docs/backtest.md); the path is from the folder qtr runs in
      options = { tak›—_fee = "0.0004", slippage_bps = "1", max_volume_share = "0.1",
                  symbols_file = "share/binance-usdm-symbols.json" } },
    { kind = "risk", name = "policy" },
    { kind = "strategy", name = "ma_crossŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒŒ",
      options = { symbols = { "XRPUSDT" }, fast = 10, slow = 30, order_notional = "1000" } },
  },
}
