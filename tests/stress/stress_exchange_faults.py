"""Stress scenario 4, exchange API failure: `qtr run` with the Binance USD-M
plugin against the project's mock exchange (tests/exchange_binance_usdm/mock, on a free
port) while the mock answers order requests with faults: 500 and 503 (the
order placed or not), 429 and 418 (with Retry-After), timeouts and dropped
connections after the order was placed, and partial fills; the order queries
and the trade list fail now and then too.

A strategy (strategy_flood.c) sends 2 market signals on each of CANDLES
candles that the test feeds to the mock one by one.

Pass criteria:
  * 0 duplicate orders: the mock accepted each client order id at most once;
    every order it holds with one of the host's ids is an order of the store
    or a follow-up of one for the remainder of a partly filled order
    (<id>-r<n>); and what the mock executed for each order of the store,
    follow-ups included, is at most the order's quantity and equals the
    quantity the store says filled;
  * 0 lost fills: every execution of the host's orders at the mock is a fill
    in the store (same id, price, quantity), and the store has no other;
  * the positions the store holds equal the sum of its fills and the mock's
    position;
  * every fault armed was fired, the server kept running and stopped cleanly."""
import json
import os
import re
import signal
import tempfile
import time
from decimal import Decimal

from stresslib import build_test_plugin  # noqa: E402  (first: puts qtrtest on the path)
from qtrtest import check, finish, store_query, wait_until  # noqa: E402
from binance_mock import Mock, start_flood  # noqa: E402

# QTR_SOAK_SECONDS=N (the long tier, `ctest -L long`): the same scenario
# for about N seconds, the faults scaled with it and re-armed as they fire.
SOAK = int(os.environ.get("QTR_SOAK_SECONDS", "0") or 0)
CANDLES = max(40, SOAK * 4)
SCALE = CANDLES // 40
PER_CANDLE = 2
PRICE = 200000            # qty 0.001 is then 200 USDT, above the 100 minimum
ORDER = "/fapi/v1/order"
# (path, method, kind, extra parameters, count)
FAULTS = [
    (ORDER, "POST", "500", {"exec": 1}, 3),       # placed, answered 500
    (ORDER, "POST", "503", {}, 3),                # not placed
    (ORDER, "POST", "429", {"retry_after": 1}, 2),
    (ORDER, "POST", "418", {"retry_after": 1}, 1),
    (ORDER, "POST", "timeout", {"exec": 1, "delay_ms": 2500}, 2),
    (ORDER, "POST", "drop", {"exec": 1}, 3),
    (ORDER, "POST", "partial", {"steps": 3, "ratio": 40}, 4),   # then EXPIRED: a follow-up for the rest
    (ORDER, "GET", "500", {}, 3),
    ("/fapi/v1/userTrades", "GET", "503", {}, 2),
]
E8 = 10 ** 8


class Pauses:
    """The longest gap between two requests the mock logged. Its log is a
    ring, so a long run reads it every few seconds (overlapping reads are
    fine: a gap is the same gap)."""

    def __init__(self):
        self.largest_ms = 0.0

    def watch(self, mock):
        times = sorted(r["t_us"] for r in mock.requests())
        for a, b in zip(times, times[1:]):
            self.largest_ms = max(self.largest_ms, (b - a) / 1000.0)


def fill_id(t):
    return f"{t['symbol']}:{t['id']}:{'B' if t['side'] == 'BUY' else 'S'}"


def main():
    print(f"ran: {CANDLES} candles x {PER_CANDLE} market signals against the mock with faults "
          + ", ".join(f"{k}x{n} on {m} {p}" for p, m, k, _, n in FAULTS), flush=True)
    print("criteria: every client order id accepted at most once; mock orders of the host = store orders; "
          "mock executions = store fills (id, qty, price); store positions = sum of fills = mock position",
          flush=True)
    d = tempfile.mkdtemp(prefix="qtr_stress_bnfault_")
    so = build_test_plugin(d, "strategy_flood.c")
    if not so:
        return
    mock = Mock()
    s = None
    pauses = Pauses()
    rounds = 0
    try:
        mock.post(f"/mock/price?symbol=BTCUSDT&price={PRICE}")
        for path, method, kind, extra, n in FAULTS:
            mock.fault(path, kind, method=method, count=n, **extra)
        s = start_flood(d, mock, so, CANDLES, PER_CANDLE, PRICE)
        if not s:
            return
        rounds = 1
        deadline = time.monotonic() + CANDLES * 0.25 * 4 + 20
        rearm_until = time.monotonic() + SOAK * 0.8   # the last round has orders left to fire on
        while time.monotonic() < deadline and not s.wait_for("flood done", 10 if SOAK else deadline - time.monotonic()):
            # the soak: watch the pauses and re-arm the faults once the last round fired
            pauses.watch(mock)
            if SOAK and time.monotonic() < rearm_until and mock.state()["faults_left"] == 0:
                for path, method, kind, extra, n in FAULTS:
                    mock.fault(path, kind, method=method, count=n, **extra)
                rounds += 1
        check("flood done" in s.text(), "the strategy saw every candle: " + s.text()[-2000:])
        db = os.path.join(d, "var", "qtr.db")

        def ours(st):
            return [o for o in st["orders"] if o["cid"].startswith("qtr-")]

        def settled():
            # every signal is an order of the store in a final state (none still in the host's queue
            # or on its way), and the mock has nothing open
            orders = store_query(db, "SELECT count(*), sum(status IN ('FILLED', 'REJECTED', 'CANCELED', "
                                     "'EXPIRED')) FROM orders")[0]
            if orders[0] < CANDLES * PER_CANDLE or orders[1] != orders[0]:
                return None
            st = mock.state()
            if any(o["status"] in ("NEW", "PARTIALLY_FILLED") for o in ours(st)):
                return None
            ids = {o["orderId"] for o in ours(st)}
            trades = [t for t in st["trades"] if t["orderId"] in ids]
            n = store_query(db, "SELECT count(*) FROM fills")[0][0]
            return st if n == len(trades) and st["faults_left"] == 0 else None
        st = wait_until(settled, 45, 0.5) or mock.state()
        check(s.p.poll() is None, f"the server kept running: {s.p.poll()}")
    finally:
        rc = s.stop(signal.SIGTERM, timeout=20) if s else None
        mock_requests = None
        try:
            st = mock.state()
            mock_requests = mock.requests()
            pauses.watch(mock)
        except OSError as e:
            check(False, f"the mock answers at the end: {e}")
        mock.stop()
    check(rc == 0, f"clean stop: {rc}")
    if mock_requests is None:
        return
    with open(os.path.join(d, "mock_state.json"), "w") as f:
        json.dump({"state": st, "requests": mock_requests}, f)
    print(f"the mock's state and request log: {d}/mock_state.json", flush=True)
    statuses = {}
    for r in mock_requests:
        key = f"{r['method']} {r['path']} {r['status']}"
        statuses[key] = statuses.get(key, 0) + 1
    print("mock requests by status:", dict(sorted(statuses.items())), flush=True)
    print(f"faults fired {st['faults_fired']}, left {st['faults_left']} ({rounds} round(s) of faults)", flush=True)
    print(f"largest pause between two requests to the mock: {pauses.largest_ms:.0f} ms", flush=True)
    check(st["faults_left"] == 0, f"every armed fault fired: {st['faults_left']} left")

    # duplicates
    placements = st["placements"]
    dup = {cid: p for cid, p in placements.items() if p["accepted"] > 1}
    retried = sum(1 for p in placements.values() if p["attempts"] > 1)
    mine = [o for o in st["orders"] if o["cid"].startswith("qtr-")]
    store_orders = {r[0]: (r[1], r[2]) for r in store_query(db, "SELECT client_id, qty, filled_qty FROM orders")}
    executed = {}                      # store order -> quantity the mock executed for it (10^8 units)
    for o in mine:
        base = re.sub(r"-r\d+$", "", o["cid"])
        executed[base] = executed.get(base, 0) + round(Decimal(o["executedQty"]) * E8)
    unknown = [cid for cid in executed if cid not in store_orders]
    over = {cid: (q, store_orders[cid][0]) for cid, q in executed.items()
            if cid in store_orders and q > store_orders[cid][0]}
    differ = {cid: (q, store_orders[cid][1]) for cid, q in executed.items()
              if cid in store_orders and q != store_orders[cid][1]}
    follow_ups = [o["cid"] for o in mine if re.search(r"-r\d+$", o["cid"])]
    print(f"orders: {len(mine)} at the mock ({len(follow_ups)} follow-ups for remainders), {len(placements)} client "
          f"ids sent, {retried} sent more than once, {len(store_orders)} in the store", flush=True)
    check(not dup, f"0 duplicate orders: ids accepted more than once {dup}")
    check(len({o['cid'] for o in mine}) == len(mine), "no client id twice among the mock's orders")
    check(not unknown, f"every order at the mock is (a follow-up of) an order of the store: {unknown[:5]}")
    check(not over, f"0 duplicates: no order executed beyond its quantity (executed, ordered): {over}")
    check(not differ, f"what the mock executed is what the store says filled (mock, store): {differ}")
    check(len(mine) >= CANDLES, f"orders were placed through the faults: {len(mine)}")
    print(f"soak figures: orders sent {len(mine)}, duplicates {len(dup)}, largest pause {pauses.largest_ms:.0f} ms",
          flush=True)
    check(len(follow_ups) >= 1, f"partial fills happened (their remainders were followed up): {len(follow_ups)}")

    # fills
    ids = {o["orderId"] for o in mine}
    trades = {fill_id(t): t for t in st["trades"] if t["orderId"] in ids}
    rows = {r[0]: r[1:] for r in store_query(db, "SELECT fill_id, qty, price, side FROM fills")}
    lost = [f for f in trades if f not in rows]
    extra = [f for f in rows if f not in trades]
    wrong = [f for f, t in trades.items() if f in rows and
             rows[f][:2] != (round(Decimal(t["qty"]) * E8), round(Decimal(t["price"]) * E8))]
    print(f"fills: {len(trades)} executions at the mock, {len(rows)} in the store; lost {len(lost)}, "
          f"extra {len(extra)}, different {len(wrong)}", flush=True)
    check(not lost, f"0 lost fills: {lost[:5]}")
    check(not extra, f"no fill the mock did not execute: {extra[:5]}")
    check(not wrong, f"every fill stored as executed: {wrong[:5]}")

    # positions
    net = sum((1 if r[2] == "BUY" else -1) * r[0] for r in rows.values())
    pos = store_query(db, "SELECT qty FROM positions WHERE symbol = 'BTCUSDT'")
    mock_amt = round(Decimal(st["positions"]["BTCUSDT"]["amt"]) * E8)
    print(f"position: store {pos[0][0] if pos else 0}, sum of fills {net}, mock {mock_amt}", flush=True)
    check((pos[0][0] if pos else 0) == net == mock_amt, "store position = sum of fills = the mock's position")


if __name__ == "__main__":
    t_start = time.monotonic()
    main()
    print(f"stress_exchange_faults took {time.monotonic() - t_start:.1f} s", flush=True)
    finish()
