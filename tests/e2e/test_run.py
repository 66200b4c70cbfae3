"""qtr run end to end: the built-in default, a fast paper run that trades,
clean stops, SIGHUP reloads, and refusals of bad configs (exit 2)."""
import hashlib
import json
import os
import re
import signal
import tempfile

from qtrtest import (PLUGINS, FIXTURES, SRC, Server, api_json, check, fills_sum, finish, free_port, metric, run,
                     stopped_through_the_store, store_snapshot, wait_until, wall_ms, write)

POLICY = os.path.join(SRC, "policies", "default.lua")


def fast_config(d, port, extra_plugins="", policy=POLICY):
    return write(os.path.join(d, "fast.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 20, seed = 7 }},
  policy = {{ file = "{policy}" }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "200" }} }},
    {extra_plugins}
  }},
}}
""")


def default_config_starts_and_stops():
    # no -c: the embedded default, from a folder with no files at all
    d = tempfile.mkdtemp(prefix="qtr_default_")
    # the built-in default listens on 127.0.0.1:8080; a test takes a free port
    port = free_port()
    s = Server([], cwd=d, env=dict(os.environ, QTR_DASHBOARD_LISTEN=f"127.0.0.1:{port}"))
    status = wait_until(lambda: api_json(port, "/api/status"), 15, 0.1)
    check(status is not None, "the default config starts and its dashboard answers: " + s.text()[-2000:])
    check(status["listen"] == f"127.0.0.1:{port}", f"its dashboard listens on the free port {port}: {status['listen']}")
    check(status["policy"]["loaded"], f"the built-in policy is loaded: {status['policy']}")
    plugins = {p["name"]: p["kind"] for p in api_json(port, "/api/plugins")["plugins"]}
    check(plugins.get("paper") == "exchange" and plugins.get("ma_cross") == "strategy",
          f"the default's plugins run: {plugins}")
    t_sig = wall_ms()
    rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"SIGTERM gives exit 0, got {rc}")
    db = os.path.join(d, "var", "qtr.db")
    check(os.path.exists(db), "the trade store lives in ./var of the working folder")
    stopped_through_the_store(db, t_sig, "SIGTERM")


def fast_run_trades_and_stops_cleanly():
    d = tempfile.mkdtemp(prefix="qtr_fast_")
    port = free_port()
    s = Server(["-c", fast_config(d, port)], cwd=d)
    traded = wait_until(lambda: metric(port, "qtr_fills_total") > 0, 30, 0.1)
    check(traded, "a paper run produces fills (qtr_fills_total): " + s.text()[-3000:])
    check(metric(port, 'qtr_orders_total{result="sent"}') > 0, "its orders went to the exchange")
    seen = api_json(port, "/api/fills")["fills"]
    check(len(seen) > 0, "and /api/fills shows them")
    t_sig = wall_ms()
    rc = s.stop(signal.SIGINT)
    check(rc == 0, f"SIGINT gives exit 0, got {rc}")
    db = os.path.join(d, "var", "qtr.db")
    snap = store_snapshot(db)
    stored = {f[0] for f in snap["fills"]}
    check(all(f["fill_id"] in stored for f in seen),
          f"every fill the API showed is in the store ({len(seen)} shown, {len(stored)} stored)")
    sums = fills_sum(snap["fills"])
    check(all(snap["positions"].get(sym, 0) == qty for sym, qty in sums.items()),
          f"the stored positions are the sum of the stored fills: {snap['positions']} vs {sums}")
    # that strategies stop before the exchange is proven where it can be
    # forced: tests/engine/test_engine_lifecycle.c
    stopped_through_the_store(db, t_sig, "SIGINT")


def log_json_lines():
    d = tempfile.mkdtemp(prefix="qtr_json_")
    # the log's format is what this test is about: it reads the log
    port = free_port()
    s = Server(["-c", fast_config(d, port), "--log-json"], cwd=d)
    check(s.wait_for('"msg":"running (paper mode', 15), "--log-json logs the start: " + s.text()[-1000:])
    check(wait_until(lambda: metric(port, "qtr_fills_total") > 0, 30, 0.1), "a run with fills")
    check(s.stop() == 0, "clean stop with --log-json")
    lines = [l for l in s.text().splitlines() if l.strip()]
    bad = []
    for l in lines:
        try:
            o = json.loads(l)
            if set(o) != {"ts", "level", "component", "msg"} or o["level"] not in ("debug", "info", "warn", "error"):
                bad.append(l)
        except ValueError:
            bad.append(l)
    check(len(lines) > 5 and not bad, f"every line is one JSON object with ts, level, component, msg: {bad[:3]}")


def sighup_reloads_the_policy():
    d = tempfile.mkdtemp(prefix="qtr_hup_")
    pol = write(os.path.join(d, "policy.lua"), open(POLICY).read())
    port = free_port()
    s = Server(["-c", fast_config(d, port, policy=pol)], cwd=d)
    # the one wait on the log: SIGHUP must come while the server is still
    # starting (the policy loaded, the dashboard not yet up)
    check(s.wait_for("version 1", 15), "the policy loads at start: " + s.text()[-2000:])
    s.p.send_signal(signal.SIGHUP)
    # a reload during start-up is ignored, never fatal
    up = wait_until(lambda: api_json(port, "/api/policy"), 15, 0.1)
    check(up is not None and s.p.poll() is None, "the server starts despite an early SIGHUP: " + s.text()[-2000:])
    loads = metric(port, 'qtr_policy_loads_total{result="ok"}')
    check(loads >= 1 and up["version"] >= 1, f"the policy is loaded: {loads} loads, version {up.get('version')}")
    with open(pol, "a") as f:
        f.write("\n-- edited\n")
    edited = hashlib.sha256(open(pol, "rb").read()).hexdigest()
    s.p.send_signal(signal.SIGHUP)
    now = wait_until(lambda: (api_json(port, "/api/policy") or {}).get("hash") == edited, 10, 0.05)
    check(now, f"SIGHUP loads the edited policy (/api/policy's hash {edited[:16]}...): "
               f"{(api_json(port, '/api/policy') or {}).get('hash')}")
    check(metric(port, 'qtr_policy_loads_total{result="ok"}') == loads + 1, "counted as one more good load")
    # a broken edit keeps the last good policy and the server running
    write(pol, "return {")
    s.p.send_signal(signal.SIGHUP)
    refused = wait_until(lambda: metric(port, 'qtr_policy_loads_total{result="failed"}') == 1, 10, 0.05)
    check(refused, "a broken policy is refused (qtr_policy_loads_total{result=\"failed\"})")
    check(api_json(port, "/api/policy")["hash"] == edited, "the last good policy stays in force")
    health = api_json(port, "/health/all")
    check(health["components"]["policy"]["status"] == "DEGRADED", f"the policy's health says so: {health['components'].get('policy')}")
    check(s.p.poll() is None, "the server keeps running after a refused policy")
    check(s.stop() == 0, "clean stop after reloads")


def bad_configs_exit_2():
    d = tempfile.mkdtemp(prefix="qtr_bad_")
    rc, _, err = run(["run", "-c", os.path.join(d, "missing.lua")])
    check(rc == 2 and "missing.lua" in err and "cannot open" in err, f"missing config: {rc} {err}")

    bad = write(os.path.join(d, "syntax.lua"), "return {\n  mode = 'paper'\n  plugins = {}\n}\n")
    rc, _, err = run(["run", "-c", bad])
    check(rc == 2 and "syntax.lua:3:" in err, f"syntax error names file:line: {rc} {err}")

    port = free_port()
    cfg = write(os.path.join(d, "badopt.lua"), open(fast_config(d, port)).read().replace('fast = 2', 'fast = "two"'))
    rc, _, err = run(["run", "-c", cfg])
    check(rc == 2 and "plugin ma_cross: option fast: expected an integer" in err, f"wrong option type: {rc} {err}")

    cfg = write(os.path.join(d, "unknown.lua"), open(fast_config(d, port)).read().replace(
        'name = "ma_cross"', 'name = "no_such_strategy"'))
    rc, _, err = run(["run", "-c", cfg])
    check(rc == 2 and "no_such_strategy" in err and "not found" in err, f"unknown plugin: {rc} {err}")

    cfg = write(os.path.join(d, "initfail.lua"), open(fast_config(
        d, port, f'{{ kind = "strategy", name = "init_fails", file = "{FIXTURES}/init_fails.so" }},')).read())
    rc, _, err = run(["run", "-c", cfg], timeout=30)
    # one line, with the reason the plugin logged (not only 'init returned -1')
    last = [ln for ln in err.splitlines() if ln.startswith("qtr")]
    check(rc == 2 and len(last) == 1 and "init_fails" in last[0] and
          "failed to initialise: fixture_init_fails: refusing to start on purpose" in last[0], f"init failure: {rc} {err}")

    cfg = write(os.path.join(d, "refused.lua"), open(fast_config(
        d, port, f'{{ kind = "strategy", name = "fixture_major_newer", file = "{FIXTURES}/major_newer.so" }},')).read())
    rc, _, err = run(["run", "-c", cfg], timeout=30)
    check(rc == 2 and "major_newer.so refused" in err and "plugin ABI 3.0" in err, f"ABI refusal: {rc} {err}")

    # a corrupt trade store: refused by name, exit 2, not a byte changed
    cd = tempfile.mkdtemp(prefix="qtr_corrupt_")
    os.makedirs(os.path.join(cd, "var"))
    garbage = b"SQLite format 3\x00" + bytes(range(256)) * 16
    write_bytes = open(os.path.join(cd, "var", "qtr.db"), "wb")
    write_bytes.write(garbage)
    write_bytes.close()
    rc, _, err = run(["run", "-c", fast_config(cd, free_port())], cwd=cd)
    check(rc == 2 and "qtr.db" in err, f"a corrupt store is refused with its name: {rc} {err}")
    check(open(os.path.join(cd, "var", "qtr.db"), "rb").read() == garbage, "the corrupt store is left untouched")

    rc, _, err = run(["run", "--bogus"])
    check(rc == 2 and "--bogus" in err, f"unknown option: {rc} {err}")


def plugins_are_listed():
    rc, out, _ = run(["plugins"], env=dict(os.environ, QTR_PLUGIN_PATH=FIXTURES))
    check(rc == 0, "qtr plugins exits 0")
    check("fixture_good" in out and "accepted" in out, "an accepted plugin is listed: " + out[:2000])
    check("major_newer.so" in out and "refused" in out, "a refused plugin is listed with its reason")
    check("paper" in out and "ma_cross" in out, "the built plugins are found beside the binary")
    rc, out, _ = run(["version"])
    # the SDK header's version, not a copy of it (2.2: list_exit_plans, QTR_OPT_PATH)
    with open(os.path.join(SRC, "sdk", "include", "qtr", "plugin.h")) as f:
        head = f.read()
    major = re.search(r"#define QTR_ABI_MAJOR (\d+)", head).group(1)
    minor = re.search(r"#define QTR_ABI_MINOR (\d+)", head).group(1)
    check(major == "2" and int(minor) >= 2, f"the header is at 2.2 or later: {major}.{minor}")
    check(rc == 0 and f"plugin ABI {major}.{minor}" in out, "qtr version: " + out)


for t in (default_config_starts_and_stops, fast_run_trades_and_stops_cleanly, log_json_lines, sighup_reloads_the_policy,
          bad_configs_exit_2, plugins_are_listed):
    print("==", t.__name__, flush=True)
    t()
finish()
