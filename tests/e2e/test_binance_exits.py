"""Exits live on the Binance mock (issue 16, "Regimes and exits"): a strategy
opens a position with an exit plan (a stop-loss and a trailing stop on the
mark price); the host keeps them on the exchange as reduce-only algo orders.

1. The mock holds a reduce-only TRAILING_STOP_MARKET (callbackRate, activatePrice,
   MARK_PRICE) and a reduce-only STOP_MARKET for the position.
2. kill -9 of qtr, start again: the algo orders are adopted, not sent again
   (the mock's count of placements per clientAlgoId stays 1, no new algo order).
3. kill -9, both stops deleted on the exchange while qtr is down, start again
   with the exchange's rules (exchangeInfo) held back 1.5 s, so the exits are
   found missing before the plugin can send: the stops are placed again (new
   client ids), reduce-only.
4. The mark price goes up past the activation, then back by the callback: the
   trailing stop triggers, the position closes, the fill is stored once and the
   store's position equals the exchange's (flat); the stop is cancelled."""
import os
import signal
import sqlite3
import tempfile
from decimal import Decimal

from binance_e2e import KEY, SECRET, binance_env, build_test_strategy, mock_live_config, mock_position
from qtrtest import BINANCE_MOCK, BinanceMock, Server, api_json, check, finish, free_port, store_query, wait_until

SCALE = 10 ** 8


def config(d, base, so, port, entries, name):
    return mock_live_config(d, name, base, port, so, "exit_entry", f'entries = {entries}, qty = "0.010"')


def open_algos(st):
    """The host's open algo orders on the exchange, by client id."""
    return {o["cid"]: o for o in st["orders"] if o["algo"] and o["state"] == "NEW" and o["cid"].startswith("qtr-")}


def of_type(algos, t):
    return {c: o for c, o in algos.items() if o["orderType"] == t}


def main():
    check(os.access(BINANCE_MOCK, os.X_OK), f"the mock is built: {BINANCE_MOCK}")
    with BinanceMock(KEY, SECRET) as m:
        m.post("/mock/price?symbol=BTCUSDT&price=50000")
        m.post("/mock/mark?symbol=BTCUSDT&price=50000")
        d = tempfile.mkdtemp(prefix="qtr_bn_exits_")
        so = build_test_strategy(d, "strategy_exit_entry")
        port = free_port()
        env = binance_env()
        db_path = os.path.join(d, "var", "qtr.db")

        # 1. entry and its exits
        s = Server(["-c", config(d, m.base, so, port, 1, "first.lua")], cwd=d, env=env)

        def protected():
            st = m.state()
            a = open_algos(st)
            return mock_position(st) == Decimal("0.01") and of_type(a, "TRAILING_STOP_MARKET") and of_type(a, "STOP_MARKET")

        if not check(wait_until(protected, 30), "the position opens with a trailing stop and a stop on the exchange: "
                     + str(open_algos(m.state())) + s.text()[-3000:]):
            s.stop(signal.SIGKILL)
            return
        first = open_algos(m.state())
        if not check(len(first) == 2, f"one trailing stop and one stop: {first}"):
            s.stop(signal.SIGKILL)
            return
        ts = next(iter(of_type(first, "TRAILING_STOP_MARKET").values()))
        sl = next(iter(of_type(first, "STOP_MARKET").values()))
        check(ts["reduceOnly"] is True and sl["reduceOnly"] is True, f"both exits are reduce-only: {ts} {sl}")
        check(ts["side"] == "SELL" and ts["quantity"] == "0.01" and ts["callbackRate"] == "1.0"
              and ts["activatePrice"] == "51000" and ts["workingType"] == "MARK_PRICE",
              f"the trailing stop: SELL 0.01, 1% callback, active from 51000, on the mark price: {ts}")
        check(sl["triggerPrice"] == "48500" and sl["workingType"] == "MARK_PRICE", f"the stop at -3%: {sl}")
        posts = m.state()["requests"].get("POST /fapi/v1/algoOrder", 0)

        # 2. kill -9 and start: adopted, not sent again
        s.stop(signal.SIGKILL)
        s2 = Server(["-c", config(d, m.base, so, port, 0, "second.lua")], cwd=d, env=env)
        recon = lambda: ((api_json(port, "/api/status") or {}).get("reconcile") or {})
        check(wait_until(lambda: recon().get("state") == "ok", 40, 0.05),
              f"after the restart the position equals the exchange's: {recon()} " + s2.text()[-3000:])
        wait_until(lambda: False, 2.0)  # time for a wrong re-place to show
        st = m.state()
        check(set(open_algos(st)) == set(first), f"the same exits rest, none added: {sorted(open_algos(st))} "
              f"vs {sorted(first)} " + s2.text()[-3000:])
        check(st["requests"].get("POST /fapi/v1/algoOrder", 0) == posts,
              f"no algo order was sent after the restart: {st['requests']}")
        check(all(st["placements"][c]["attempts"] == 1 for c in first), f"each exit placed once: {st['placements']}")
        rows = dict(store_query(db_path, f"SELECT client_id, status FROM orders WHERE client_id IN ({','.join('?' * len(first))})",
                          tuple(first)))
        check(rows == {c: "NEW" for c in first}, f"the store follows both exits as open (adopted, not ended): {rows}")

        # 3. kill -9, the stops deleted on the exchange while down, start: placed again
        s2.stop(signal.SIGKILL)
        for c in first:
            m.post(f"/mock/cancel?clientAlgoId={c}")
        check(not open_algos(m.state()), "no exit rests on the exchange while qtr is down")
        # forced interleaving: the exchange's rules arrive 1.5 s after the start, so the
        # adopted exits are found CANCELED (and placed again) before the plugin can send
        # anything; a refusal then ("exchangeInfo not loaded yet") must not leave the
        # position without its stop
        m.post("/mock/fault?path=/fapi/v1/exchangeInfo&kind=timeout&delay_ms=1500&count=1")
        s3 = Server(["-c", config(d, m.base, so, port, 0, "third.lua")], cwd=d, env=env)

        def replaced():
            a = open_algos(m.state())
            return of_type(a, "TRAILING_STOP_MARKET") and of_type(a, "STOP_MARKET") and not set(a) & set(first)

        if not check(wait_until(replaced, 40), "the missing stops are placed again after the start: "
                     + str(open_algos(m.state())) + s3.text()[-4000:]):
            s3.stop(signal.SIGKILL)
            return
        again = open_algos(m.state())
        check(all(o["reduceOnly"] is True for o in again.values()), f"re-placed exits are reduce-only: {again}")
        wait_until(lambda: False, 1.0)
        check(len(open_algos(m.state())) == 2, f"one trailing stop and one stop, not more: {open_algos(m.state())}")
        ts2_cid = next(iter(of_type(again, "TRAILING_STOP_MARKET")))

        # 4. the mark price runs up and back by 1%: the trailing stop closes the position
        for px in ("51000", "52000"):
            m.post(f"/mock/mark?symbol=BTCUSDT&price={px}")
        m.post("/mock/price?symbol=BTCUSDT&price=51480")
        m.post("/mock/mark?symbol=BTCUSDT&price=51480")
        check(wait_until(lambda: mock_position(m.state()) == 0, 10), "the trailing stop closed the position on the exchange")

        def closed_in_store():
            try:
                rows = store_query(db_path, "SELECT status FROM orders WHERE client_id = ?", (ts2_cid,))
                pos = store_query(db_path, "SELECT qty FROM positions WHERE symbol = 'BTCUSDT'")
            except sqlite3.Error:
                return False
            return rows == [("FILLED",)] and pos in ([], [(0,)])

        check(wait_until(closed_in_store, 20), "the store has the trailing stop FILLED and the position flat: "
              + s3.text()[-3000:])
        check(wait_until(lambda: not open_algos(m.state()), 10),
              f"the stop is cancelled once flat: {open_algos(m.state())}")
        wait_until(lambda: False, 1.0)  # late polls and stream events store nothing more
        fills = store_query(db_path, "SELECT fill_id, qty, price FROM fills WHERE client_id = ?", (ts2_cid,))
        check(len(fills) == 1 and fills[0][1] == round(Decimal("0.01") * SCALE)
              and fills[0][2] == round(Decimal("51480") * SCALE), f"its fill is stored once: {fills}")
        st = m.state()
        trades = [t for t in st["trades"] if t["side"] == "SELL"]
        check(len(trades) == 1, f"the exchange executed one closing trade: {trades}")
        rc = s3.stop(signal.SIGTERM)
        check(rc == 0, f"clean stop: {rc}")


main()
finish()
