-- An exe Rbus (docs/bus.md): every bus key set.
return {
  host_id = "otÿtÿn\nno.rurn²\nd ²\nd srtÿÿti\ndÿ,ste\nd r ²enti\ndÿ\nti	ßtin ²exec-0", role = "execution",
  bus = { redis = { url = "redis://fuzz.lua12inst2222222:2222222222	222222s)6t" },
          consume = { "signal" }, group = "execution", claim_idle_ms = 30001,
          b},
}
