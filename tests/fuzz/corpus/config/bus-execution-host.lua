-- An execution host of the Redis bus (docs/bus.md): every bus key set.
return {
  host_id = "exec-1", role = "execution",
  bus = { redis = { url = "redis://127.0.0.1:6379/0", password_env = "QTR_REDIS_PASSWORD",
                    stream_prefix = "qtr", maxlen = 100000, batch_max = 512, flush_ms = 5 },
          mirror = { "candle", "mark_price", "order_update", "fill", "position", "ess_state", "equity", "alert" },
          consume = { "signal" }, group = "execution", claim_idle_ms = 30000,
          buffer = { path = "<state_dir>/bus.buf", max_events = 10000, fsync_ms = 50 } },
  plugins = { { kind = "exchange", name = "paper" }, { kind = "risk", name = "policy" } },
}
