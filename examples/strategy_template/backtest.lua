-- A backtest of the template strategy, with the .so built in this folder:
--   make
--   qtr backtest -c backtest.lua --data BTCUSDT-5m.csv --json report.json
-- The CSV has the header open_time_ms,open,high,low,close,volume (or is
-- Binance's own kline CSV); the symbol comes from the file name. Paths are
-- relative to this file. No state, no network, no money.
return {
  account = { starting_balance = "10000" },   -- money is always a decimal string
  store = false,                              -- a backtest keeps no trade store
  plugin_path = { "." },                      -- strategy_momentum.so, built here
  plugins = {
    -- symbols_file: each symbol's tick, lot step and minimums as the exchange
    -- has them (quantum-trader's copy; from a source checkout it is
    -- share/binance-usdm-symbols.json, or save a fresh one with
    -- `qtr symbols fetch`). A symbol not in it is refused.
    { kind = "exchange", name = "paper",
      options = { taker_fee = "0.0004", slippage_bps = "1",
                  symbols_file = "/usr/share/quantum-trader/binance-usdm-symbols.json" } },
    -- the built-in default risk policy (qtr's copy of policies/default.lua)
    { kind = "risk", name = "policy" },
    { kind = "strategy", name = "momentum", file = "strategy_momentum.so",
      options = { lookback = 5, threshold = "0.01", order_notional = "1000" } },
  },
}
