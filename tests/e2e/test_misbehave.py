"""How the host copes with a faulty plugin and faulty exchanges:
  * a strategy that publishes a fill (an order update, a position, an ESS
    state) is refused: the portfolio, the store and the ESS do not move, and
    the refusals are logged and counted;
  * a fill without an id is not applied (it could be neither stored nor told
    from a repeat) and trips the ESS, with a reason that says the host did;
  * a stored fill the portfolio cannot hold does not stop the next start:
    the server starts blocked, with the ESS tripped;
  * an ESS trip flattens at once even with a strategy's reduce-only order
    resting on the symbol (it is cancelled, and is no close of the ESS's);
  * an optional plugin that cannot start is left out and the rest runs."""
import os
import signal
import socket
import sqlite3
import subprocess
import tempfile
import time
import urllib.request

from qtrtest import DATA, PLUGINS, SRC, Server, check, finish, free_port, run, write

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


def get(port, path):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=5) as r:
        return r.read().decode()


def forge_fill(d, so):
    port = free_port()
    extra = (f'{{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", '
             f'options = {{ listen = "127.0.0.1:{port}" }} }},')
    s = Server(["-c", config(d, so, "forge_fill", extra=extra)], cwd=d)
    check(s.wait_for("forged ESS state: publish returned", 15), "the strategy forges its events: " + s.text()[-2000:])
    for what in ("fill", "order update", "position", "ESS state"):
        check(f"forged {what}: publish returned -3" in s.text(), f"a strategy's {what} is refused (QTR_EREFUSED)")
    for t in ("fill", "order_update", "position", "ess_state"):
        check(s.count(f"plugin misbehave (strategy) may not publish {t} events: refused") == 1,
              f"the refused {t} is logged once, naming the plugin and the type")
    check("[orders] fill " not in s.text(), "no fill reached the portfolio")
    # a strategy without a `symbols` option gets every symbol, and no error for not declaring it
    check("option symbols is not declared" not in s.text(), "the host asks no strategy for an undeclared option")
    metrics = ""
    for _ in range(50):
        try:
            metrics = get(port, "/metrics")
            break
        except OSError:
            time.sleep(0.1)
    check('qtr_plugin_events_refused_total{plugin="misbehave"} 4' in metrics,
          "the refusals are counted: " + "\n".join(l for l in metrics.splitlines() if "refused" in l))
    positions = get(port, "/api/positions") if metrics else ""
    check("BTCUSDT" not in positions, "the dashboard shows no position: " + positions[:300])
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
    check(s.wait_for("without a valid fill id", 15), "an id-less fill is refused: " + s.text()[-2000:])
    check(s.wait_for("ARMED -> TRIPPED", 5), "and trips the ESS")
    check("ARMED -> TRIPPED: host: an exchange reported a fill without an id by host" in s.text(),
          "a trip the host decided on says so, not manual: " + s.text()[-2000:])
    check(s.stop() == 0, "clean stop")
    db = sqlite3.connect(os.path.join(d, "var", "qtr.db"))
    check(db.execute("SELECT count(*) FROM fills").fetchone()[0] == 0, "nothing stored")
    check(db.execute("SELECT count(*) FROM positions WHERE qty != 0").fetchone()[0] == 0, "no position from it")
    check(db.execute("SELECT reason FROM ess_state").fetchone()[0] == "host: an exchange reported a fill without an id",
          "the stored trip reason says the host tripped")
    db.close()


def poison_fill(d, so):
    cfg = config(d, so, "none", exchange=faulty_exchange(d, "poison_fill"))
    s = Server(["-c", cfg], cwd=d)
    check(s.wait_for("could not be applied", 15), "the poison fill is refused live: " + s.text()[-2000:])
    check(s.stop() == 0, "clean stop")
    s2 = Server(["-c", cfg], cwd=d)
    check(s2.wait_for("running (paper mode", 15), "the next start still runs: " + s2.text()[-2000:])
    check("cannot be replayed" in s2.text(), "it says which fill it left out")
    state = open(os.path.join(d, "var", "ess.state")).read()
    check("state=ARMED" not in state and ("state=COOLDOWN" in state or "state=TRIPPED" in state),
          "and starts blocked: " + state[:200])
    check("host: " in state, "tripped by the host: " + state[:200])
    check(s2.stop() == 0, "clean stop after the blocked start")


def trip_with_take_profit(d, so):
    check("close_positions = true" in open(POLICY).read(), "the default policy closes positions on a trip")
    csv = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
    cfg = config(d, so, "trip_with_tp", market=False)
    trades = os.path.join(d, "trades.csv")
    rc, out, err = run(["backtest", "-c", cfg, "--data", csv, "--trades", trades, "--quiet", "--log-level", "info"])
    check(rc == 0, f"backtest runs: {rc} {err[-2000:]}")
    check("drill with a resting take-profit" in err, "the strategy trips the ESS by hand")
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
    rc, out, err = run(["backtest", "-c", cfg, "--data", csv, "--trades", trades2, "--quiet", "--log-level", "info"])
    check(rc == 0, f"backtest with the refusing exchange runs: {rc} {err[-2000:]}")
    check("cancel all (every symbol) refused" in err, "the exchange did refuse the cancel")
    rows = [l.split(",") for l in open(trades2).read().splitlines()[1:]] if os.path.exists(trades2) else []
    check(len(rows) == 2 and rows[1][4] == "SELL" and rows[1][9] == "1",
          f"the ESS closed the position although its take-profit could not be cancelled: {rows}")


def optional_plugin_fails_to_start(d, so):
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen(1)
    port = busy.getsockname()[1]
    extra = (f'{{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", required = false, '
             f'options = {{ listen = "127.0.0.1:{port}" }} }},')
    cfg = config(d, so, "none", extra=extra, strategy='{ kind = "strategy", name = "ma_cross", '
                 'options = { fast = 2, slow = 5, order_notional = "200" } },')
    s = Server(["-c", cfg], cwd=d)
    check(s.wait_for("optional, left out", 15),
          "the dashboard that cannot listen is left out: " + s.text()[-2000:])
    check(s.wait_for("[orders] fill ", 30), "the rest trades: " + s.text()[-2000:])
    check(s.stop() == 0, "clean stop")
    check("[engine] stopped" in s.text(), "and every started plugin is stopped")
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
