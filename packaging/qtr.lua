-- /etc/quantum-trader/qtr.lua: the server configuration of the quantum-trader
-- package, read by quantum-trader.service (qtr run -c /etc/quantum-trader/qtr.lua).
-- It is the built-in default of `qtr run` with the installed paths (and the
-- shipped instrument rules): paper trading
-- on a seeded synthetic market, the paper exchange, the ma_cross example
-- strategy, the default risk policy and the dashboard on 127.0.0.1:8080.
-- No account, no network, no money. The full reference is docs/config.md.
--
-- This is a dpkg conffile: your changes survive upgrades.
-- Check a change before restarting: qtr plugins -c /etc/quantum-trader/qtr.lua
-- and, once it runs: qtr check
-- Secrets (exchange keys, the API token) never go here: they belong in
-- /etc/quantum-trader/secrets.env, which systemd puts in the environment.
return {
  mode = "paper",                       -- "live" sends orders to a real exchange

  -- ESS state, the trade store (qtr.db) and the policy history.
  state_dir = "/var/lib/quantum-trader",

  -- Searched first, then $QTR_PLUGIN_PATH and the host's own folders.
  plugin_path = { "/usr/lib/quantum-trader/plugins" },

  -- A seeded random market with trending, ranging and volatile regimes.
  market = { source = "synthetic", symbols = { "BTCUSDT", "ETHUSDT" }, interval_ms = 1000, seed = 42 },

  account = { starting_balance = "10000" },   -- money is always a decimal string

  -- Risk rules and ESS thresholds; reloaded every 10 minutes, on SIGHUP
  -- (systemctl reload quantum-trader) and on POST /api/policy/reload.
  policy = { file = "/etc/quantum-trader/policies/default.lua", reload_interval_s = 600 },

  plugins = {
    -- Each symbol's tick, lot step and minimums as the exchange has them, so
    -- a paper order is rounded and refused as a live one would be.
    { kind = "exchange", name = "paper",
      options = { symbols_file = "/usr/share/quantum-trader/binance-usdm-symbols.json" } },
    { kind = "risk", name = "policy" },
    -- The operator's surface: /health/all, /metrics, the ESS API that
    -- `qtr check` and `qtr ess` use. Required: a server that cannot serve it
    -- (port taken, plugin missing) refuses to start instead of trading unseen.
    { kind = "dashboard", name = "dashboard", file = "dashboard_web.so", required = true,
      options = { listen = "127.0.0.1:8080" } },
    { kind = "strategy", name = "ma_cross",
      options = { fast = 5, slow = 20, order_notional = "500" } },
  },
}
