"""qtr run with the paper exchange and strategy_ensemble on its committed
model: /health/all says OK; the model file is deleted and SIGHUP sent: the
ensemble is DEGRADED in /health/all with the reason, the fallback counter
rises in /metrics while orders keep filling through the policy (loaded) and
the ESS (armed); the model comes back, SIGHUP: OK again and no more fallback
decisions. Then a clean stop."""
import os
import shutil
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path[:0] = [os.path.join(HERE, "..", "e2e")]
from qtrtest import PLUGINS, SRC, Server, api_json, check, finish, free_port, metric, wait_until, write  # noqa: E402

MODEL_DIR = os.path.join(SRC, "plugins", "strategy_ensemble", "model")
FALLBACK = 'qtr_strategy_model_fallback_total{strategy="ensemble"}'


def config(d, port, model):
    return write(os.path.join(d, "run.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 20, seed = 7 }},
  policy = {{ file = "{os.path.join(SRC, 'policies', 'default.lua')}" }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ensemble", options = {{ model = "{model}", order_notional = "200", threshold = 0.1 }} }},
  }},
}}
""")


def ensemble_health(port):
    h = api_json(port, "/health/all")
    return (h or {}).get("components", {}).get("ensemble"), h


def copy_model(d):
    for name in ("ensemble_model.json", "ensemble_model.json.meta"):
        shutil.copy(os.path.join(MODEL_DIR, name), os.path.join(d, name))
    return os.path.join(d, "ensemble_model.json")


def main():
    d = tempfile.mkdtemp(prefix="qtr_ensemble_reload_")
    model = copy_model(d)
    port = free_port()
    s = Server(["-c", config(d, port, model)], cwd=d)
    try:
        ok = wait_until(lambda: (ensemble_health(port)[0] or {}).get("status") == "OK", 20, 0.1)
        check(ok, f"the ensemble starts with its model: OK in /health/all: {ensemble_health(port)} " + s.text()[-2000:])
        traded = wait_until(lambda: metric(port, "qtr_fills_total") > 0, 30, 0.1)
        check(traded, "the ensemble trades (qtr_fills_total): " + s.text()[-2000:])
        check(metric(port, FALLBACK) == 0, f"no fallback decision with a good model: {metric(port, FALLBACK)}")

        os.unlink(model)   # the model file is deleted, then a reload
        s.p.send_signal(signal.SIGHUP)
        degraded = wait_until(lambda: (ensemble_health(port)[0] or {}).get("status") == "DEGRADED", 10, 0.05)
        comp, h = ensemble_health(port)
        check(degraded, f"DEGRADED after the reload: {h}")
        check("rules only" in (comp or {}).get("reason", "") and "missing" in (comp or {}).get("reason", ""),
              f"the reason says why: {comp}")
        check((h or {}).get("status") in ("DEGRADED", "CRITICAL"), f"the server's status shows it: {h and h['status']}")
        check(s.count("model file missing") == 1, "said once in the log")
        f1 = wait_until(lambda: metric(port, FALLBACK), 10, 0.05)
        fills1 = metric(port, "qtr_fills_total")
        rising = wait_until(lambda: metric(port, FALLBACK) > f1 + 5, 15, 0.05)
        check(rising, f"the fallback counter rises: {f1} -> {metric(port, FALLBACK)}")
        more = wait_until(lambda: metric(port, "qtr_fills_total") > fills1, 30, 0.1)
        check(more, f"trading continues on the rules: fills {fills1} -> {metric(port, 'qtr_fills_total')}")
        comps = (api_json(port, "/health/all") or {}).get("components", {})
        check(comps.get("policy", {}).get("status") == "OK", f"under the policy: {comps.get('policy')}")
        ess = api_json(port, "/api/ess") or {}
        check(ess.get("state") == "ARMED", f"with the ESS armed: {ess}")
        check(metric(port, 'qtr_ess_state{state="ARMED"}') == 1, "the ESS metric says ARMED")

        copy_model(d)   # a good model comes back
        s.p.send_signal(signal.SIGHUP)
        back = wait_until(lambda: (ensemble_health(port)[0] or {}).get("status") == "OK", 10, 0.05)
        check(back, f"OK again after the model is back: {ensemble_health(port)[0]}")
        f2, fills2 = metric(port, FALLBACK), metric(port, "qtr_fills_total")
        more = wait_until(lambda: metric(port, "qtr_fills_total") > fills2, 30, 0.1)
        check(more, "trading goes on with the model back")
        check(metric(port, FALLBACK) == f2, f"no fallback decision with the model back: {f2} -> {metric(port, FALLBACK)}")
    finally:
        rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"clean stop: exit {rc}: " + s.text()[-1500:])


if __name__ == "__main__":
    main()
    finish()
