"""The operator's commands against a real server: qtr check exit codes
(healthy, degraded, critical, none), qtr ess status / trip / reset through
the dashboard's API with and without the token, and qtr backup while the
server writes."""
import os
import shutil
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

from qtrtest import PLUGINS, SRC, Server, api_json, check, finish, free_port, metric, run, store_query, store_rows, wait_until, write

TOKEN = "e2e-operator-token-7f3a"


def config(d, port, policy):
    return write(os.path.join(d, "op.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 20, seed = 11 }},
  policy = {{ file = "{policy}" }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "200" }} }},
  }},
}}
""")


def qtr_check(url):
    rc, out, err = run(["check", "--url", url], timeout=40)
    return rc, out + err


def wait_check(url, want_rc, timeout=15.0):
    """qtr check until it gives want_rc (the server settles after start)."""
    deadline = time.monotonic() + timeout
    rc, out = qtr_check(url)
    while rc != want_rc and time.monotonic() < deadline:
        time.sleep(0.3)
        rc, out = qtr_check(url)
    return rc, out


def main():
    # nothing listening: exit 2, within the budget
    dead = f"http://127.0.0.1:{free_port()}"
    t0 = time.monotonic()
    rc, out = qtr_check(dead)
    check(rc == 2 and "CRITICAL  reachable" in out, f"no server: exit 2 and reachable CRITICAL: {rc} {out}")
    check(time.monotonic() - t0 < 30, "qtr check answers within 30 s")
    rc, _, err = run(["ess", "status", "--url", dead])
    check(rc == 2 and "unreachable" in err, f"qtr ess with no server: exit 2: {rc} {err}")

    d = tempfile.mkdtemp(prefix="qtr_op_")
    policy = write(os.path.join(d, "policy.lua"), open(os.path.join(SRC, "policies", "default.lua")).read())
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    cfg = config(d, port, policy)
    s = Server(["-c", cfg], cwd=d, env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    check(wait_until(lambda: api_json(port, "/health/all"), 15, 0.1), "the dashboard listens: " + s.text()[-2000:])

    rc, out = wait_check(url, 0)
    check(rc == 0, f"a healthy server: exit 0: {rc}\n{out}")
    # trades before the drills below, so the backup and the export have fills to hold (a
    # fast start must not leave them empty)
    live_db = os.path.join(d, "var", "qtr.db")
    check(wait_until(lambda: os.path.exists(live_db) and store_query(live_db, "SELECT count(*) FROM fills")[0][0] > 0,
                     20), "the server trades (a fill in the store)")
    check(out.count("\nOK") + out.startswith("OK") == 8, f"eight checks, all OK:\n{out}")

    # /metrics of the real host and its plugins, as Prometheus reads it
    promtool = shutil.which("promtool")
    check(promtool is not None, "promtool is installed (Debian's prometheus package; tools/install-deps.sh --test)")
    text = urllib.request.urlopen(url + "/metrics", timeout=10).read()
    for name in (b"qtr_orders_total", b"qtr_fills_total", b"qtr_signal_drops_total", b"qtr_ess_state",
                 b"qtr_equity", b"qtr_drawdown_pct", b"qtr_loop_lag_seconds", b"qtr_bus_queue_depth"):
        check(name in text, f"/metrics has {name.decode()}")
    if promtool:
        p = subprocess.run([promtool, "check", "metrics"], input=text, capture_output=True, timeout=30)
        check(p.returncode == 0, f"promtool accepts /metrics: {p.stdout.decode()} {p.stderr.decode()}")

    # ESS through the API
    rc, out, err = run(["ess", "status", "--url", url])
    check(rc == 0 and '"state":"ARMED"' in out.replace(" ", ""), f"ess status: {rc} {out} {err}")
    env_no_token = {k: v for k, v in os.environ.items() if k != "QTR_API_TOKEN"}
    rc, _, err = run(["ess", "trip", "--reason", "drill", "--url", url], env=env_no_token)
    check(rc == 1 and "401" in err, f"a trip without the token is refused: {rc} {err}")
    rc, _, err = run(["ess", "trip", "--reason", "drill", "--url", url], env=dict(os.environ, QTR_API_TOKEN="wrong"))
    check(rc == 1 and "401" in err, f"a trip with a wrong token is refused: {rc} {err}")
    rc, _, err = run(["ess", "trip", "--url", url], env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    check(rc == 2 and "--reason" in err, f"a trip needs a reason: {rc} {err}")
    rc, out, err = run(["ess", "trip", "--reason", "operator drill", "--user", "e2e", "--url", url],
                       env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    check(rc == 0, f"a trip with the token: {rc} {out} {err}")
    rc, out = qtr_check(url)
    check(rc == 2 and "CRITICAL  ess" in out, f"a tripped ESS makes qtr check exit 2:\n{out}")
    ess = api_json(port, "/api/ess") or {}
    check(ess.get("state") in ("TRIPPED", "COOLDOWN") and ess.get("trip_reason") == "manual: operator drill",
          f"/api/ess has the trip and its reason: {ess}")
    # the store writes on its own thread: the trip row lands shortly after the API answers
    trip_sql = "SELECT reason, user FROM ess_transitions WHERE state = 'TRIPPED' ORDER BY id DESC LIMIT 1"
    trip = wait_until(lambda: store_rows(live_db, trip_sql), 10, 0.1)
    check(trip == [("manual: operator drill", "e2e")],
          f"the store has the trip, its reason and who (waited up to 10 s): {trip}")
    rc, _, err = run(["ess", "reset", "--reason", "drill over", "--url", url], env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    check(rc == 1 and "cooldown" in err.lower(), f"a reset during the cooldown is refused: {rc} {err}")
    rc, out, err = run(["ess", "reset", "--reason", "drill over", "--force", "--url", url],
                       env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    check(rc == 0, f"a forced reset is accepted: {rc} {out} {err}")
    rc, out, _ = run(["ess", "status", "--url", url])
    check('"state":"ARMED"' in out.replace(" ", ""), f"ARMED again: {out}")

    # online backup while the server writes
    dest = os.path.join(d, "backup.db")
    rc, out, err = run(["backup", "-c", cfg, dest])
    check(rc == 0 and os.path.exists(dest), f"qtr backup: {rc} {out} {err}")
    if os.path.exists(dest):
        db = sqlite3.connect(dest)
        check(db.execute("PRAGMA integrity_check").fetchone()[0] == "ok", "the backup passes integrity_check")
        n, distinct = db.execute("SELECT count(*), count(DISTINCT fill_id) FROM fills").fetchone()
        check(n == distinct, "no fill twice in the backup")
        db.close()
    rc, _, err = run(["backup", "-c", cfg, dest])
    check(rc != 0 and "backup.db" in err, f"an existing destination is refused: {rc} {err}")

    # the fills as CSV from the running server
    csv_path = os.path.join(d, "trades.csv")
    rc, out, err = run(["export-trades", "-c", cfg, "--out", csv_path])
    check(rc == 0 and os.path.exists(csv_path), f"qtr export-trades: {rc} {out} {err}")
    if os.path.exists(csv_path):
        lines = open(csv_path).read().splitlines()
        check(lines[0] == "time_ms,fill_id,client_id,symbol,side,qty,price,fee,maker,reduce_only",
              f"the CSV header: {lines[0]}")
        db = sqlite3.connect(os.path.join(d, "var", "qtr.db"))
        live = db.execute("SELECT count(*) FROM fills").fetchone()[0]
        db.close()
        check(0 < len(lines) - 1 <= live, f"{len(lines) - 1} exported fills, {live} in the live store")

    # a refused policy reload leaves the policy DEGRADED: exit 1
    write(policy, "return {")
    s.p.send_signal(signal.SIGHUP)
    check(wait_until(lambda: metric(port, 'qtr_policy_loads_total{result="failed"}') == 1, 10, 0.05),
          "the broken policy is refused (qtr_policy_loads_total{result=\"failed\"})")
    rc, out = wait_check(url, 1)
    check(rc == 1 and "DEGRADED  policy" in out, f"a degraded policy makes qtr check exit 1: {rc}\n{out}")

    # trip, stop, lose the ESS state file: the trade store still knows
    rc, _, err = run(["ess", "trip", "--reason", "before restart", "--url", url], env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    check(rc == 0, f"trip before the restart: {rc} {err}")
    check(s.stop() == 0, "clean stop")
    os.unlink(os.path.join(d, "var", "ess.state"))
    write(policy, open(os.path.join(SRC, "policies", "default.lua")).read())
    s2 = Server(["-c", cfg], cwd=d, env=dict(os.environ, QTR_API_TOKEN=TOKEN))
    ess = wait_until(lambda: api_json(port, "/api/ess"), 15, 0.1)
    check(ess is not None, "the dashboard listens again: " + s2.text()[-2000:])
    check(ess is not None and ess["state"] in ("TRIPPED", "COOLDOWN") and ess["trip_reason"] == "host: restored from the trade store: manual: before restart",
          f"without its state file the ESS comes back tripped from the store, with the trip's reason: {ess}")
    rc, out, _ = run(["ess", "status", "--url", url])
    check('"state":"ARMED"' not in out.replace(" ", ""), f"not ARMED after the restart: {out}")
    check(s2.stop() == 0, "clean stop after the restart")


main()
finish()
