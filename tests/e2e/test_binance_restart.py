"""Restarts against the Binance mock (issue 11, defect 1): fills are never
lost across a restart, and a position that differs from the exchange stops
new entries until an operator acknowledges it.

1. kill -9 with one order in flight (it executed, its answer never came)
   and three resting, then all of them fill (one in part) while qtr is down;
   after the restart the rest of the partial one fills too. The store must
   then equal the exchange: every order's status and filled quantity, every
   execution (price, quantity, commission), the position and the fees.
2. The same after a clean SIGTERM with the orders still pending.
3. A position the exchange has and nothing explains: CRITICAL alert, health
   CRITICAL, new entries refused until `qtr reconcile --ack`, which is
   recorded in the store with its user and reason; then entries go again."""
import json
import os
import signal
import sqlite3
import tempfile
import time
from decimal import Decimal

from binance_e2e import KEY, SECRET, binance_env, build_test_strategy, mock_live_config
from qtrtest import BINANCE_MOCK, BinanceMock, Server, api_json, check, finish, free_port, http_get, run, store_query, \
    wait_until

TOKEN = "e2e-reconcile-token-51c2"
SCALE = 10 ** 8


def config(d, base, so, port, count, name):
    return mock_live_config(d, name, base, port, so, "place_orders",
                            f'count = {count}, qty = "0.004", price = "49000", every_ms = 100')


def ours(st):
    return {o["cid"]: o for o in st["orders"] if o["cid"].startswith("qtr-")}


def store_rows(db_path):
    db = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=10)
    try:
        orders = {r[0]: (r[1], r[2]) for r in db.execute("SELECT client_id, status, filled_qty FROM orders")}
        fills = {r[0]: (r[1], r[2], r[3], r[4]) for r in
                 db.execute("SELECT fill_id, client_id, qty, price, fee FROM fills")}
        pos = {r[0]: (r[1], r[2]) for r in db.execute("SELECT symbol, qty, fees FROM positions")}
        alerts = db.execute("SELECT severity, source, kind, text, time_ms FROM alerts").fetchall()
    finally:
        db.close()
    return orders, fills, pos, alerts


def compare(db_path, st, what):
    """The store against the exchange: orders, fills, position, fees."""
    orders, fills, pos, _ = store_rows(db_path)
    mine = ours(st)
    check(len(mine) >= 1, f"{what}: the exchange holds the host's orders")
    for cid, o in mine.items():
        want = (o["state"], round(Decimal(o["executedQty"]) * SCALE))
        got = orders.get(cid)
        check(got == want, f"{what}: order {cid} in the store {got}, on the exchange {want}")
    ids = {o["orderId"]: o["cid"] for o in mine.values()}
    trades = [t for t in st["trades"] if t["orderId"] in ids]
    fees = 0
    for t in trades:
        fid = f"{t['symbol']}:{t['id']}:{'B' if t['side'] == 'BUY' else 'S'}"
        want = (ids[t["orderId"]], round(Decimal(t["qty"]) * SCALE), round(Decimal(t["price"]) * SCALE),
                round(Decimal(t["commission"]) * SCALE))
        check(fills.get(fid) == want, f"{what}: execution {fid} stored {fills.get(fid)}, executed {want}")
        fees += want[3]
    check(len(fills) == len(trades), f"{what}: {len(fills)} fills stored for {len(trades)} executions")
    amt = round(Decimal(st["positions"]["BTCUSDT"]["amt"]) * SCALE)
    check(pos.get("BTCUSDT", (0, 0)) == (amt, fees),
          f"{what}: position and fees in the store {pos.get('BTCUSDT')}, on the exchange {(amt, fees)}")


def restart_case(sig):
    what = "kill -9" if sig == signal.SIGKILL else "SIGTERM"
    with BinanceMock(KEY, SECRET) as m:
        base, post_, mock_state_ = m.base, m.post, m.state
        post_("/mock/price?symbol=BTCUSDT&price=50000")
        # the first order send executes, its answer is held past the kill
        post_("/mock/fault?path=/fapi/v1/order&method=POST&kind=timeout&exec=1&delay_ms=60000&count=1")
        d = tempfile.mkdtemp(prefix="qtr_bn_restart_")
        so = build_test_strategy(d, "strategy_place_orders")
        port = free_port()
        env = binance_env(QTR_API_TOKEN=TOKEN)
        db_path = os.path.join(d, "var", "qtr.db")
        s = Server(["-c", config(d, base, so, port, 4, "first.lua")], cwd=d, env=env)

        def store_has_four():
            if not os.path.exists(db_path):
                return False
            try:
                orders = store_rows(db_path)[0]
            except sqlite3.Error:
                return False
            states = sorted(v[0] for k, v in orders.items() if k.startswith("qtr-"))
            return states == ["NEW", "NEW", "NEW", "PENDING"]

        check(wait_until(store_has_four, 30),
              f"{what}: three orders rest and one is in flight, all in the store: " + s.text()[-3000:])
        check(len(ours(mock_state_())) == 4, f"{what}: all four are on the exchange")
        s.stop(sig)
        # while qtr is down: three fill whole, one in part
        mine = sorted(ours(mock_state_()))
        for cid in mine[:3]:
            post_(f"/mock/fill?clientOrderId={cid}&qty=0.004")
        post_(f"/mock/fill?clientOrderId={mine[3]}&qty=0.001")

        s2 = Server(["-c", config(d, base, so, port, 0, "second.lua")], cwd=d, env=env)
        recon = lambda: ((api_json(port, "/api/status") or {}).get("reconcile") or {})
        check(wait_until(lambda: recon().get("state") == "ok", 40, 0.05),
              f"{what}: after adoption the positions equal the exchange's: {recon()} " + s2.text()[-4000:])
        expired = store_query(db_path, "SELECT o.client_id FROM order_events ev JOIN orders o ON o.id = ev.order_id"
                                       " WHERE ev.reason LIKE 'not on the exchange%'")
        check(not expired, f"{what}: no order is expired unqueried: {expired}")
        # the partial one was adopted and is still followed: its later fill lands
        post_(f"/mock/fill?clientOrderId={mine[3]}&qty=0.003")

        def all_filled():
            try:
                orders = store_rows(db_path)[0]
            except sqlite3.Error:
                return False
            return all(orders.get(c, ("",))[0] == "FILLED" for c in mine)

        check(wait_until(all_filled, 20), f"{what}: every order ends FILLED in the store: " + s2.text()[-3000:])
        st = mock_state_()
        check(sum(v["attempts"] for k, v in st["placements"].items() if k.startswith("qtr-")) == 4,
              f"{what}: no order was sent again: {st['placements']}")
        rc = s2.stop(signal.SIGTERM)
        check(rc == 0, f"{what}: clean stop after the restart: {rc} " + s2.text()[-3000:])
        compare(db_path, st, what)


def mismatch_case():
    with BinanceMock(KEY, SECRET) as m:
        base, post_, mock_state_ = m.base, m.post, m.state
        post_("/mock/price?symbol=BTCUSDT&price=50000")
        post_("/mock/position?symbol=BTCUSDT&amt=0.25&entry=50000")   # nothing in the store explains it
        # resting since an earlier run whose store is gone: ours by its prefix, so adopted and
        # followed (not external); one without the prefix is external
        post_("/mock/open_order?symbol=BTCUSDT&side=BUY&qty=0.002&price=48000&clientOrderId=qtr-earlier-1")
        post_("/mock/open_order?symbol=BTCUSDT&side=BUY&qty=0.002&price=48000&clientOrderId=manual-7")
        d = tempfile.mkdtemp(prefix="qtr_bn_mismatch_")
        so = build_test_strategy(d, "strategy_place_orders")
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = binance_env(QTR_API_TOKEN=TOKEN)
        s = Server(["-c", config(d, base, so, port, 1, "mismatch.lua")], cwd=d, env=env)
        recon = lambda: ((api_json(port, "/api/status") or {}).get("reconcile") or {})
        check(wait_until(lambda: recon().get("state") == "mismatch" and "BTCUSDT" in recon().get("detail", ""), 30, 0.05),
              f"the unexplained position is reported: {recon()} " + s.text()[-3000:])
        open_orders = (api_json(port, "/api/orders") or {"open": []})["open"]
        check(any(o["client_id"] == "qtr-earlier-1" and not o["external"] for o in open_orders),
              f"the earlier run's order is adopted (open, not external): {open_orders}")
        post_("/mock/fill?clientOrderId=qtr-earlier-1&qty=0.002")
        post_("/mock/fill?clientOrderId=manual-7&qty=0.002")
        db_path = os.path.join(d, "var", "qtr.db")

        def adopted_filled():
            try:
                return store_rows(db_path)[0].get("qtr-earlier-1", ("",))[0] == "FILLED"
            except sqlite3.Error:
                return False

        check(wait_until(adopted_filled, 10), "the adopted order's fill after the start is recorded: " + s.text()[-2000:])
        # entries stay refused: the strategy keeps trying, nothing reaches the exchange
        refused = lambda: store_query(db_path, "SELECT count(*) FROM orders WHERE status = 'REJECTED'"
                                               " AND reason = 'reconcile_required'")[0][0]
        check(wait_until(lambda: refused() > 0, 10, 0.05),
              "the entry is refused, the store says why (reconcile_required): " + s.text()[-2000:])
        time.sleep(1.0)
        check(set(ours(mock_state_())) == {"qtr-earlier-1"}, "no entry reached the exchange before the acknowledgement")
        status = json.loads(http_get(port, "/api/status")[1])
        check(status["reconcile"]["state"] == "mismatch" and status["reconcile"]["entries_blocked"],
              f"/api/status shows the mismatch: {status.get('reconcile')}")
        health = json.loads(http_get(port, "/health/all")[1])
        text = json.dumps(health)
        check('"reconcile"' in text and "CRITICAL" in text, f"/health/all shows it: {text[:600]}")
        rc, out, err = run(["reconcile", "--url", url])
        check(rc == 1 and "mismatch" in out and "BTCUSDT" in out, f"qtr reconcile shows the difference: {rc} {out} {err}")
        no_token = {k: v for k, v in os.environ.items() if k != "QTR_API_TOKEN"}
        rc, out, err = run(["reconcile", "--ack", "--reason", "x", "--url", url], env=no_token)
        check(rc == 1 and "401" in err, f"an acknowledgement without the token is refused: {rc} {err}")
        rc, out, err = run(["reconcile", "--ack", "--url", url], env=env)
        check(rc == 2 and "--reason" in err, f"--ack needs a reason: {rc} {err}")
        rc, out, err = run(["reconcile", "--ack", "--reason", "manual hedge, checked", "--user", "alice",
                            "--url", url], env=env)
        check(rc == 0 and "acknowledged" in out, f"qtr reconcile --ack: {rc} {out} {err}")
        check(wait_until(lambda: len(ours(mock_state_())) == 2, 10),
              "after the acknowledgement the entry goes: " + s.text()[-2000:])
        rc, out, err = run(["reconcile", "--ack", "--reason", "again", "--url", url], env=env)
        check(rc == 1 and "nothing to acknowledge" in err, f"a second acknowledgement is refused: {rc} {err}")
        crit = s.text()
        rc = s.stop(signal.SIGTERM)
        check(rc == 0, f"clean stop: {rc}")
        orders, fills, _, alerts = store_rows(db_path)
        check(sum(1 for f in fills.values() if f[0] == "qtr-earlier-1") == 1, f"its fill is stored once: {fills}")
        check("manual-7" in orders and not any(f[0] == "manual-7" for f in fills.values()),
              "the order without the prefix is recorded as external, and its fill is not ours")
        check(any(a[2] == "position_mismatch" and a[0] == "CRITICAL" for a in alerts),
              f"a CRITICAL position_mismatch alert is stored: {alerts}")
        acks = [a for a in alerts if a[2] == "reconcile_ack"]
        check(len(acks) == 1 and "alice" in acks[0][3] and "manual hedge, checked" in acks[0][3] and acks[0][4] > 0,
              f"the acknowledgement is stored with user, reason and time: {acks}")
        check("CRITICAL" in crit or "ERROR" in crit, "the mismatch is logged as an error")


def main():
    check(os.access(BINANCE_MOCK, os.X_OK), f"the mock is built: {BINANCE_MOCK}")
    restart_case(signal.SIGKILL)
    restart_case(signal.SIGTERM)
    mismatch_case()


main()
finish()
