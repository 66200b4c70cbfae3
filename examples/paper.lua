-- Paper trading on a synthetic market: the same as `qtr run` with no -c,
-- written out so you can change it, and on the exchange's instrument rules.
-- Paths are relative to this file.
return {
  mode = "paper",
  log_level = "info",
  state_dir = "../var",                 -- ESS state and the trade store

  -- A seeded random market with trending, ranging and volatile regimes.
  market = { source = "synthetic", symbols = { "BTCUSDT", "ETHUSDT" }, interval_ms = 1000, seed = 42 },

  account = { starting_balance = "10000" },   -- money is always a decimal string

  -- Risk rules and ESS thresholds; reloaded every 10 minutes and on SIGHUP.
  policy = { file = "../policies/default.lua", reload_interval_s = 600 },

  -- The bounded signal queue between strategies and the order path.
  signals = { capacity = 100, per_cycle = 10, max_age_ms = 5000, cycle_ms = 100 },

  plugins = {
    { kind = "exchange", name = "paper",
      options = { taker_fee = "0.0004", maker_fee = "0.0002", slippage_bps = "1",
                  -- each symbol's tick, lot step and minimums (docs/backtest.md)
                  symbols_file = "../share/binance-usdm-symbols.json" } },
    { kind = "risk", name = "policy" },
    { kind = "dashboard", name = "dashboard", file = "dashboard_web.so", required = false,
      options = { listen = "127.0.0.1:8080" } },
    { kind = "strategy", name = "ma_cross",
      options = { fast = 5, slow = 20, order_notional = "500" } },
  },
}
