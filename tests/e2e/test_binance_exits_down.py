"""Exits on the Binance mock when things happen while qtr is down (issue 16:
"a position is never left without its stop after a restart"). Each case
opens a 0.01 BTCUSDT long whose host exits are a reduce-only stop (-3%) and
a trailing stop, kills qtr with SIGKILL, changes the exchange, and starts
it again:

1. an exit's POST /fapi/v1/algoOrder landed but its answer never came: the
   order is adopted and followed, not sent again (one placement per id), and
   the position has exactly one stop and one trailing stop;
2. an exit's POST never reached the exchange: after the restart it is found
   missing (EXPIRED in the store, never sent again under its old id) and the
   exit is placed again: one stop and one trailing stop rest, reduce-only;
3. the stop triggered while qtr was down (the position closed): the store
   gets the stop FILLED with its one fill and a flat position, the trailing
   stop is cancelled, no exit is placed for the closed position;
4. a take-profit ladder (half at +2%, half at +4%) whose first rung filled
   while qtr was down: the store has it FILLED and the position at 0.005;
   the rest stays protected, never doubled: one stop, no more take-profit
   than the position, the first rung not placed again.

Cases 2 and 3 failed before the exit manager's reconcile compared the exits
by role (2: the inactive trailing stop counted as a stop) and cancelled the
resting exits of a symbol gone flat (3)."""
import os
import signal
import sqlite3
import tempfile
import time
from decimal import Decimal

from binance_e2e import KEY, SECRET, binance_env, build_test_strategy, mock_live_config, mock_position
from qtrtest import BINANCE_MOCK, BinanceMock, Server, api_json, check, finish, free_port, store_query, wait_until

SCALE = 10 ** 8


def open_exits(st):
    return {o["cid"]: o for o in st["orders"] if o["algo"] and o["state"] == "NEW" and o["cid"].startswith("qtr-")}


def of_type(algos, t):
    return {c: o for c, o in algos.items() if o["orderType"] == t}


def exit_rows(db_path):
    try:
        return dict(store_query(db_path, "SELECT client_id, status FROM orders WHERE strategy = 'exits'"))
    except sqlite3.Error:
        return {}


class Case:
    """A mock, the strategy and a server started with entries (1, then 0 after a kill)."""

    def __init__(self, m, what, options=""):
        self.m, self.what = m, what
        m.post("/mock/price?symbol=BTCUSDT&price=50000")
        m.post("/mock/mark?symbol=BTCUSDT&price=50000")
        self.d = tempfile.mkdtemp(prefix="qtr_bn_down_")
        self.so = build_test_strategy(self.d, "strategy_exit_entry")
        self.port = free_port()
        self.options = options
        self.db = os.path.join(self.d, "var", "qtr.db")
        self.s = None

    def start(self, entries, name):
        opts = f'entries = {entries}, qty = "0.010"' + (f", {self.options}" if self.options else "")
        cfg = mock_live_config(self.d, name, self.m.base, self.port, self.so, "exit_entry", opts)
        self.s = Server(["-c", cfg], cwd=self.d, env=binance_env())

    def reconciled(self):
        recon = lambda: ((api_json(self.port, "/api/status") or {}).get("reconcile") or {})
        return check(wait_until(lambda: recon().get("state") == "ok", 40, 0.05),
                     f"{self.what}: after the restart the position equals the exchange's: {recon()} "
                     + self.s.text()[-3000:])

    def stop(self):
        rc = self.s.stop(signal.SIGTERM)
        check(rc == 0, f"{self.what}: clean stop: {rc}")


def protected(m, n):
    st = m.state()
    a = open_exits(st)
    return mock_position(st) == Decimal("0.01") and len(a) == n and of_type(a, "STOP_MARKET") and \
        of_type(a, "TRAILING_STOP_MARKET")


def lost_answer_case(landed):
    what = "answer lost" if landed else "never landed"
    with BinanceMock(KEY, SECRET) as m:
        c = Case(m, what)
        # the first exit's send is held 60 s (executed first when landed): qtr dies waiting
        m.post(f"/mock/fault?path=/fapi/v1/algoOrder&method=POST&kind=timeout&exec={1 if landed else 0}"
               "&delay_ms=60000&count=1")
        c.start(1, "first.lua")

        def one_in_flight():
            rows = exit_rows(c.db)
            return len(rows) == 2 and sorted(rows.values()) == ["NEW", "PENDING"]

        if not check(wait_until(one_in_flight, 30), f"{what}: one exit rests, one is in flight: {exit_rows(c.db)} "
                     + c.s.text()[-3000:]):
            c.s.stop(signal.SIGKILL)
            return
        lost = next(cid for cid, st in exit_rows(c.db).items() if st == "PENDING")
        check((lost in open_exits(m.state())) == landed,
              f"{what}: the exchange has the in-flight exit {lost}: {landed}: {sorted(open_exits(m.state()))}")
        c.s.stop(signal.SIGKILL)
        posts = m.state()["requests"].get("POST /fapi/v1/algoOrder", 0)
        c.start(0, "second.lua")
        if not c.reconciled():
            c.s.stop(signal.SIGKILL)
            return
        check(wait_until(lambda: protected(m, 2), 15), f"{what}: one stop and one trailing stop rest: "
              f"{open_exits(m.state())} " + c.s.text()[-3000:])
        time.sleep(1.5)   # time for a double to show
        st = m.state()
        a = open_exits(st)
        check(len(a) == 2 and len(of_type(a, "STOP_MARKET")) == 1 and len(of_type(a, "TRAILING_STOP_MARKET")) == 1,
              f"{what}: exactly one stop and one trailing stop, not more: {a}")
        check(all(o["reduceOnly"] is True for o in a.values()), f"{what}: all reduce-only: {a}")
        check(all(v["attempts"] == 1 for k, v in st["placements"].items() if k.startswith("qtr-")),
              f"{what}: no client id was sent twice: {st['placements']}")
        sent = st["requests"].get("POST /fapi/v1/algoOrder", 0) - posts
        if landed:
            check(lost in a and sent == 0, f"{what}: the landed exit {lost} is adopted, nothing sent: {sent} {a}")
            check(wait_until(lambda: exit_rows(c.db).get(lost) == "NEW", 10),
                  f"{what}: the store follows it as NEW: {exit_rows(c.db)}")
        else:
            check(lost not in a and sent == 1, f"{what}: the missing exit is placed again once, under a new id: "
                  f"{sent} {a}")
            check(wait_until(lambda: exit_rows(c.db).get(lost) == "EXPIRED", 10),
                  f"{what}: the store ends the lost send EXPIRED: {exit_rows(c.db)}")
        c.stop()


def stop_triggered_case():
    what = "stop triggered while down"
    with BinanceMock(KEY, SECRET) as m:
        c = Case(m, what)
        c.start(1, "first.lua")
        if not check(wait_until(lambda: protected(m, 2), 30), f"{what}: the position rests with its exits: "
                     + str(open_exits(m.state())) + c.s.text()[-3000:]):
            c.s.stop(signal.SIGKILL)
            return
        check(wait_until(lambda: sorted(exit_rows(c.db).values()) == ["NEW", "NEW"], 10),
              f"{what}: the store has both exits NEW: {exit_rows(c.db)}")
        stop_cid = next(iter(of_type(open_exits(m.state()), "STOP_MARKET")))
        c.s.stop(signal.SIGKILL)
        m.post("/mock/price?symbol=BTCUSDT&price=48400")
        m.post("/mock/mark?symbol=BTCUSDT&price=48400")   # under the stop at 48500 (mark)
        check(mock_position(m.state()) == 0, f"{what}: the stop closed the position on the exchange")
        posts = m.state()["requests"].get("POST /fapi/v1/algoOrder", 0)
        c.start(0, "second.lua")
        if not c.reconciled():
            c.s.stop(signal.SIGKILL)
            return

        def settled():
            try:
                pos = store_query(c.db, "SELECT qty FROM positions WHERE symbol = 'BTCUSDT'")
            except sqlite3.Error:
                return False
            return exit_rows(c.db).get(stop_cid) == "FILLED" and pos in ([], [(0,)])

        check(wait_until(settled, 20), f"{what}: the store has the stop FILLED and the position flat: "
              f"{exit_rows(c.db)} " + c.s.text()[-3000:])
        check(wait_until(lambda: not open_exits(m.state()), 10),
              f"{what}: the trailing stop is cancelled: {open_exits(m.state())}")
        time.sleep(1.0)
        st = m.state()
        check(st["requests"].get("POST /fapi/v1/algoOrder", 0) == posts,
              f"{what}: no exit placed for the closed position: {st['requests']}")
        fills = store_query(c.db, "SELECT qty, price FROM fills WHERE client_id = ?", (stop_cid,))
        check(len(fills) == 1 and fills[0][0] == round(Decimal("0.01") * SCALE),
              f"{what}: the stop's fill is stored once: {fills}")
        c.stop()


def ladder_rung_case():
    what = "ladder rung filled while down"
    with BinanceMock(KEY, SECRET) as m:
        c = Case(m, what, "ladder_bps = 200, trail_activation_bps = 600")
        c.start(1, "first.lua")
        if not check(wait_until(lambda: protected(m, 4), 30), f"{what}: the position rests with stop, trailing "
                     "stop and two take-profits: " + str(open_exits(m.state())) + c.s.text()[-3000:]):
            c.s.stop(signal.SIGKILL)
            return
        tps = of_type(open_exits(m.state()), "TAKE_PROFIT_MARKET")
        first = next(cid for cid, o in tps.items() if o["triggerPrice"] == "51000")
        check(wait_until(lambda: len(exit_rows(c.db)) == 4 and set(exit_rows(c.db).values()) == {"NEW"}, 10),
              f"{what}: the store has the four exits NEW: {exit_rows(c.db)}")
        c.s.stop(signal.SIGKILL)
        m.post("/mock/price?symbol=BTCUSDT&price=51000")
        m.post("/mock/mark?symbol=BTCUSDT&price=51000")   # the first rung's trigger
        check(mock_position(m.state()) == Decimal("0.005"), f"{what}: half closed on the exchange: {m.state()['positions']}")
        c.start(0, "second.lua")
        if not c.reconciled():
            c.s.stop(signal.SIGKILL)
            return
        check(wait_until(lambda: exit_rows(c.db).get(first) == "FILLED", 20),
              f"{what}: the store has the first rung FILLED: {exit_rows(c.db)} " + c.s.text()[-3000:])
        time.sleep(2.0)   # the exit manager's reaction, and time for a double to show
        st = m.state()
        a = open_exits(st)
        pos = mock_position(st)
        stops = of_type(a, "STOP_MARKET")
        check(pos == Decimal("0.005"), f"{what}: the position is 0.005: {pos}")
        check(len(stops) == 1 and Decimal(next(iter(stops.values()))["quantity"]) >= pos,
              f"{what}: one stop, covering the position: {stops}")
        check(len(of_type(a, "TRAILING_STOP_MARKET")) <= 1, f"{what}: at most one trailing stop: {a}")
        tp_qty = sum(Decimal(o["quantity"]) for o in of_type(a, "TAKE_PROFIT_MARKET").values())
        check(0 < tp_qty <= pos, f"{what}: the take-profits left cover at most the position: {tp_qty} {a}")
        check(not any(o["triggerPrice"] == "51000" for o in of_type(a, "TAKE_PROFIT_MARKET").values()),
              f"{what}: the filled rung is not placed again: {a}")
        check(all(o["reduceOnly"] is True for o in a.values()), f"{what}: all reduce-only: {a}")
        try:
            pos_rows = store_query(c.db, "SELECT qty FROM positions WHERE symbol = 'BTCUSDT'")
        except sqlite3.Error as e:
            pos_rows = str(e)
        check(pos_rows == [(round(Decimal("0.005") * SCALE),)], f"{what}: the store's position is 0.005: {pos_rows}")
        c.stop()


def main():
    check(os.access(BINANCE_MOCK, os.X_OK), f"the mock is built: {BINANCE_MOCK}")
    lost_answer_case(True)
    lost_answer_case(False)
    stop_triggered_case()
    ladder_rung_case()


main()
finish()
