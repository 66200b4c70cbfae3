-- The bus's refusals: a control byte in the url, a number out of range, an
-- unknown event type, a nested key that is not declared.
return {
  host_id = "h\n1", role = "strategy",
  bus = { redis = { url = "redis://h\n:0/99", maxlen = 0, batch_max = "512", flush_ms = 1.5 },
          mirror = { "signal", "sig\0nal" }, consume = { candle = true },
          buffer = { path = 7, max_events = -1, fsync = 50 } },
  plugins = {},
}
