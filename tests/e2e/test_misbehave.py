"""How the host copes with a faulty plugin and faulty exchanges:
  * a strategy that publishes a fill (an order update, a position, an ESS
    state) is refused: the portfolio, the store and the ESS do not move, and
    the refusals are counted;
  * a fill without an id is not applied (it could be neither stored nor told
    from a repeat) and trips the ESS, with a reason that says the host did;
  * a stored fill the portfolio cannot hold does not stop the next start:
    the server starts blocked, with the ESS tripped;
  * an ESS trip flattens at once even with a strategy's reduce-only order
    resting on the symbol (it is cancelled, and is no close of the ESS's);
  * an optional plugin that cannot start is left out and the rest runs.
What is checked is read from /metrics, the API and the trade store, not
from the log."""
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile

from qtrtest import (DATA, PLUGINS, SRC, Server, api_json, check, finish, free_port, metric, metrics, run,
                     stopped_through_the_store, store_rows, wait_until, wall_ms, write)

POLICY = os.path.join(SRC, "policies", "default.lua")


def build(d, name="strategy_misbehave"):
    so = os.path.join(d, name + ".so")
    p = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c17", "-fPIC", "-fvisibility=hidden",
                        "-shared", "-I", os.path.join(SRC, "sdk", "include"),
                        os.path.join(os.path.dirname(__file__), name + ".c"), "-o", so],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"{name} builds: {p.stderr}")
    return so


def config(d, so, mode, extra="", market=True, strategy=None, exchange='{ kind = "exchange", name = "paper" },'):
    strategy = strategy or f'{{ kind = "strategy", name = "misbehave", file = "{so}", options = {{ mode = "{mode}" }} }},'
    market_line = 'market = { source = "synthetic", symbols = { "BTCUSDT" }, interval_ms = 20, seed = 3 },' if market else ""
    return write(os.path.join(d, f"{mode}.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  {market_line}
  policy = {{ file = "{POLICY}" }},
  plugins = {{
    {exchange}
    {{ kind = "risk", name = "policy" }},
    {strategy}
    {extra}
  }},
}}
""")


def faulty_exchange(d, mode):
    fx = build(d, "exchange_faulty")
    return f'{{ kind = "exchange", name = "faulty", file = "{fx}", options = {{ mode = "{mode}" }} }},'


def dashboard(port, required=True):
    return (f'{{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", '
            f'{"" if required else "required = false, "}options = {{ listen = "127.0.0.1:{port}" }} }},')


def host_trip(db, reason, timeout):
    """The store's ESS transition ARMED -> TRIPPED with this reason, by the
    host (not an operator), waited for; None if it never came."""
    sql = ("SELECT user FROM ess_transitions WHERE previous = 'ARMED' AND state = 'TRIPPED' AND reason = ?")
    rows = wait_until(lambda: store_rows(db, sql, (reason,)), timeout, 0.1)
    return rows[0][0] if rows else None


def forge_fill(d, so):
    port = free_port()
    s = Server(["-c", config(d, so, "forge_fill", extra=dashboard(port))], cwd=d)
    series = 'qtr_plugin_events_refused_total{plugin="misbehave"}'
    # the strategy forges a fill, an order update, a position and an ESS state
    check(wait_until(lambda: metric(port, series) >= 4, 15, 0.1),
          "the strategy's forged events are refused and counted: " + s.text()[-2000:])
    m = metrics(port) or {}
    check(m.get(series) == 4, f"each of the four counted once: {m.get(series)}")
    check(m.get("qtr_fills_total", 0) == 0, "no fill reached the portfolio")
    check(m.get('qtr_ess_state{state="ARMED"}') == 1, "the ESS stays armed")
    positions = api_json(port, "/api/positions")
    check(positions is not None and not positions["positions"], f"the dashboard shows no position: {positions}")
    # a strategy without a `symbols` option gets every symbol, and is not
    # told off for not declaring it: the one thing here only the log can tell
    check("option symbols is not declared" not in s.text(), "the host asks no strategy for an undeclared option")
    check(s.stop() == 0, "clean stop")
    db = sqlite3.connect(os.path.join(d, "var", "qtr.db"))
    check(db.execute("SELECT count(*) FROM fills").fetchone()[0] == 0, "no fill stored")
    check(db.execute("SELECT count(*) FROM positions").fetchone()[0] == 0, "no position stored")
    check(db.execute("SELECT count(*) FROM orders").fetchone()[0] == 0, "no order stored")
    check(db.execute("SELECT count(*) FROM ess_transitions").fetchone()[0] == 0, "no ESS transition stored")
    db.close()
    ess_file = os.path.join(d, "var", "ess.state")       # written on transitions only
    check(not os.path.exists(ess_file) or "state=ARMED" in open(ess_file).read(), "the ESS stays armed")


def id_less_fill(d, so):
    s = Server(["-c", config(d, so, "none", exchange=faulty_exchange(d, "id_less_fill"))], cwd=d)
    dbpath = os.path.join(d, "var", "qtr.db")
    by = host_trip(dbpath, "host: an exchange reported a fill without an id", 15)
    check(by is not None, "an id-less fill trips the ESS, the store says why: " + s.text()[-2000:])
    check(by == "host", f"a trip the host decided on says so, not manual: by {by!r}")
    check(s.stop() == 0, "clean stop")
    db = sqlite3.connect(dbpath)
    check(db.execute("SELECT count(*) FROM fills").fetchone()[0] == 0, "nothing stored")
    check(db.execute("SELECT count(*) FROM positions WHERE qty != 0").fetchone()[0] == 0, "no position from it")
    check(db.execute("SELECT reason FROM ess_state").fetchone()[0] == "host: an exchange reported a fill without an id",
          "the stored trip reason says the host tripped")
    db.close()


def poison_fill(d, so):
    port = free_port()
    cfg = config(d, so, "none", exchange=faulty_exchange(d, "poison_fill"), extra=dashboard(port))
    dbpath = os.path.join(d, "var", "qtr.db")
    s = Server(["-c", cfg], cwd=d)
    by = host_trip(dbpath, "host: fill could not be applied to the portfolio", 15)
    check(by == "host", "the poison fill is refused live and trips the ESS: " + s.text()[-2000:])
    check(metric(port, "qtr_fills_total") == 0, "it moved nothing")
    check(s.stop() == 0, "clean stop")
    s2 = Server(["-c", cfg], cwd=d)
    ess = wait_until(lambda: api_json(port, "/api/ess"), 15, 0.1)
    check(ess is not None and s2.p.poll() is None, "the next start still runs: " + s2.text()[-2000:])
    check(ess is not None and ess["state"] in ("TRIPPED", "COOLDOWN"), f"and starts blocked: {ess}")
    check(ess is not None and ess["trip_reason"].startswith("host: "), f"tripped by the host: {ess}")
    # the poison fill is kept in the store (nothing lost) and left out of the portfolio
    check([r[0] for r in store_rows(dbpath, "SELECT fill_id FROM fills")] == ["poison-1"], "the stored fill is kept")
    positions = api_json(port, "/api/positions")
    check(positions is not None and not any(p["qty"] not in (0, "0") for p in positions["positions"]),
          f"and not applied: {positions}")
    check(s2.stop() == 0, "clean stop after the blocked start")


def trip_with_take_profit(d, so):
    check("close_positions = true" in open(POLICY).read(), "the default policy closes positions on a trip")
    csv = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
    cfg = config(d, so, "trip_with_tp", market=False)
    trades = os.path.join(d, "trades.csv")
    bt_store = os.path.join(d, "trip_with_tp.db")
    rc, out, err = run(["backtest", "-c", cfg, "--data", csv, "--trades", trades, "--store", bt_store, "--quiet"])
    check(rc == 0, f"backtest runs: {rc} {err[-2000:]}")
    trips = store_rows(bt_store, "SELECT reason FROM ess_transitions WHERE state = 'TRIPPED'")
    check(len(trips) == 1 and "drill with a resting take-profit" in trips[0][0],
          f"the strategy trips the ESS by hand, once (the backtest's store): {trips}")
    rows = [l.split(",") for l in open(trades).read().splitlines()[1:]] if os.path.exists(trades) else []
    check(len(rows) == 2, f"one buy and one close: {rows}")
    if len(rows) == 2:
        # the 6th candle's close time (5-minute candles: open + 300000 - 1)
        first = int(open(csv).read().splitlines()[1].split(",")[0])
        trip_time = first + 5 * 300000 + 300000 - 1
        check(rows[1][4] == "SELL" and rows[1][9] == "1", f"the close is a reduce-only sell: {rows[1]}")
        check(int(rows[1][0]) == trip_time, f"the position is closed on the trip's candle {trip_time}: {rows[1][0]}")

    # the same with an exchange that refuses every cancel: the take-profit
    # stays open, and the ESS must close the position all the same
    nc = build(d, "exchange_nocancel")
    cfg = config(d, so, "trip_with_tp_nocancel", market=False,
                 exchange=f'{{ kind = "exchange", name = "nocancel", file = "{nc}" }},')
    cfg = write(cfg, open(cfg).read().replace('mode = "trip_with_tp_nocancel"', 'mode = "trip_with_tp"'))
    trades2 = os.path.join(d, "trades2.csv")
    bt_store2 = os.path.join(d, "trip_with_tp_nocancel.db")
    rc, out, err = run(["backtest", "-c", cfg, "--data", csv, "--trades", trades2, "--store", bt_store2, "--quiet"])
    check(rc == 0, f"backtest with the refusing exchange runs: {rc} {err[-2000:]}")
    # the store shows the cancel's fate: the paper exchange cancelled the
    # take-profit, the refusing one left it resting
    tp_sql = "SELECT status FROM orders WHERE type = 'LIMIT' AND reduce_only = 1"
    check(store_rows(bt_store, tp_sql) == [("CANCELED",)],
          f"the paper exchange cancels the take-profit on the trip: {store_rows(bt_store, tp_sql)}")
    check(store_rows(bt_store2, tp_sql) == [("NEW",)],
          f"the refusing exchange left it open (the cancel was refused): {store_rows(bt_store2, tp_sql)}")
    rows = [l.split(",") for l in open(trades2).read().splitlines()[1:]] if os.path.exists(trades2) else []
    check(len(rows) == 2 and rows[1][4] == "SELL" and rows[1][9] == "1",
          f"the ESS closed the position although its take-profit could not be cancelled: {rows}")


def optional_plugin_fails_to_start(d, so):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    cfg = config(d, so, "none", extra=dashboard(port, required=False), strategy='{ kind = "strategy", name = "ma_cross", '
                 'options = { fast = 2, slow = 5, order_notional = "200" } },')
    s = Server(["-c", cfg], cwd=d)
    db = os.path.join(d, "var", "qtr.db")
    traded = wait_until(lambda: (store_rows(db, "SELECT count(*) FROM fills") or [(0,)])[0][0] > 0, 30, 0.2)
    check(traded, "the dashboard that cannot listen is left out and the rest trades: " + s.text()[-2000:])
    check(s.p.poll() is None, "the server runs on")
    t_sig = wall_ms()
    check(s.stop() == 0, "clean stop")
    stopped_through_the_store(db, t_sig, "with a plugin left out")
    busy.close()


def main():
    d = tempfile.mkdtemp(prefix="qtr_mis_")
    so = build(d)
    for name, t in (("forge_fill", forge_fill), ("id_less_fill", id_less_fill), ("poison_fill", poison_fill),
                    ("trip_with_take_profit", trip_with_take_profit),
                    ("optional_plugin_fails_to_start", optional_plugin_fails_to_start)):
        print("==", name, flush=True)
        sub = tempfile.mkdtemp(prefix=f"qtr_{name}_")
        t(sub, so)


main()
finish()
