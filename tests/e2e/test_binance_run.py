"""qtr run with the Binance USD-M plugin against the mock exchange on
loopback: candles polled from the exchange drive the strategy, its signal
becomes a signed order, the order fills, the position is held by the host
and recorded in the store; at start the host reconciles with an order and a
position the exchange already had: the position nothing explains stops new
entries until `qtr reconcile --ack`."""
import json
import os
import signal
import sqlite3
import subprocess
import tempfile
import time
import urllib.request
from decimal import Decimal

from binance_e2e import KEY, SECRET, binance_env
from qtrtest import (BINANCE_MOCK, BinanceMock, Server, api_json, binance_live_config, check, finish, free_port, metric, run,
                     store_rows, wait_until, write)

TOKEN = "e2e-binance-run-token-93ad"


def post(base, path):
    req = urllib.request.Request(base + path, data=b"", method="POST")
    return urllib.request.urlopen(req, timeout=10).read()


def mock_state(base):
    return json.loads(urllib.request.urlopen(base + "/mock/state", timeout=10).read())


def start_mock():
    m = BinanceMock(KEY, SECRET)
    return m.p, m.base


def main():
    check(os.access(BINANCE_MOCK, os.X_OK), f"the mock is built: {BINANCE_MOCK}")
    mock, base = start_mock()
    try:
        post(base, "/mock/price?symbol=BTCUSDT&price=50000")
        # Closed one-minute candles in the past: falling, then rising, so a
        # fast=2 / slow=3 cross up happens on the last ones.
        now_min = int(time.time() // 60) * 60000
        closes = ["50400", "50300", "50200", "50100", "50000", "49900", "50200", "50600", "51000"]
        for i, c in enumerate(closes):
            t = now_min - (len(closes) + 1 - i) * 60000
            post(base, f"/mock/kline?symbol=BTCUSDT&open_time={t}&close_time={t + 59999}"
                       f"&o={c}&h={int(c) + 50}&l={int(c) - 50}&c={c}&v=1000")
        # What the exchange already holds before the server starts
        post(base, "/mock/open_order?symbol=BTCUSDT&side=BUY&qty=0.005&price=40000&clientOrderId=manual-1")
        post(base, "/mock/position?symbol=ETHUSDT&amt=-0.5&entry=3000")
        next_funding = int(time.time() * 1000) + 3600000
        post(base, f"/mock/premium?symbol=BTCUSDT&mark=50000&index=50000&funding=0.0002&next_funding={next_funding}")

        port = free_port()
        d = tempfile.mkdtemp(prefix="qtr_bn_")
        cfg = binance_live_config(
            os.path.join(d, "live.lua"), d,
            f'base_url = "{base}", symbols = {{ "BTCUSDT" }}, kline_poll_ms = 100, kline_limit = 20, '
            f'mark_poll_ms = 100, poll_interval_ms = 100, retry_backoff_ms = "50,100,200"',
            f'{{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", '
            f'options = {{ listen = "127.0.0.1:{port}" }} }},\n'
            '    { kind = "strategy", name = "ma_cross", options = { fast = 2, slow = 3, order_notional = "400" } },')
        env = binance_env(QTR_API_TOKEN=TOKEN)
        s = Server(["-c", cfg], cwd=d, env=env)
        recon = lambda: ((api_json(port, "/api/status") or {}).get("reconcile") or {})
        check(wait_until(lambda: recon().get("state") == "mismatch", 20, 0.05),
              f"reconciliation runs at start and finds a difference: {recon()} " + s.text()[-3000:])
        check(recon().get("entries_blocked") and "ETHUSDT" in recon().get("detail", ""),
              f"the position the exchange holds and the store does not blocks entries: {recon()}")
        orders = api_json(port, "/api/orders") or {"open": []}
        check(any(o["client_id"] == "manual-1" and o["external"] for o in orders["open"]),
              f"the order placed outside the server is kept as external: {orders['open']}")
        # the ETHUSDT position stops new entries: the cross up is refused
        db_path = os.path.join(d, "var", "qtr.db")
        check(wait_until(lambda: store_rows(db_path, "SELECT reason FROM orders WHERE status = 'REJECTED'"
                                                     " AND reason LIKE 'reconcile_%'"), 20, 0.05),
              "the entry waits for reconciliation (a reconcile_* refusal in the store): " + s.text()[-3000:])
        check(recon().get("state") == "mismatch", "the difference stays")
        check(metric(port, "qtr_fills_total") == 0, "no order before the acknowledgement")
        rc, out, err = run(["reconcile", "--ack", "--reason", "ETH hedge held by hand", "--url",
                            f"http://127.0.0.1:{port}"], env=env)
        check(rc == 0, f"qtr reconcile --ack: {rc} {out} {err}")
        # a cross down after it: 49000 takes fast 2 below slow 3, a sell goes
        t = now_min - 60000
        post(base, f"/mock/kline?symbol=BTCUSDT&open_time={t}&close_time={t + 59999}"
                   f"&o=49000&h=49050&l=48950&c=49000&v=1000")
        check(wait_until(lambda: metric(port, "qtr_fills_total") > 0, 30, 0.05),
              "a signal became an order and a fill: " + s.text()[-3000:])
        # the funding time passes (the exchange announces the next one): the
        # host settles the announced rate on the position it holds
        post(base, f"/mock/premium?symbol=BTCUSDT&mark=50000&index=50000&funding=0.0001&next_funding={next_funding + 28800000}")
        def btc():
            return next((p for p in (api_json(port, "/api/positions") or {"positions": []})["positions"]
                         if p["symbol"] == "BTCUSDT"), None)
        check(wait_until(lambda: btc() and Decimal(str(btc()["funding"])) != 0, 15, 0.05),
              f"funding is settled when its time passes: {btc()} " + s.text()[-2000:])
        pos = btc() or {"qty": 0, "funding": 0}
        # the announced 0.0002 at the 50000 mark: the position pays -qty * mark * rate
        want = -Decimal(str(pos["qty"])) * 50000 * Decimal("0.0002")
        check(Decimal(str(pos["funding"])) == want, f"at the announced rate: funding {pos['funding']}, expected {want}")
        # the log's one rule checked here: no secret ever reaches it
        text = s.text()
        check(SECRET not in text and KEY not in text, "the API key and secret never appear in the log")
        check("is not declared" not in text, "the plugin asks the host only for options it declares: "
              + "\n".join(l for l in text.splitlines() if "is not declared" in l))
        st = mock_state(base)
        placed = json.dumps(st)
        check('"qtr-' in placed, "the exchange holds an order with the host's client id")
        rc = s.stop(signal.SIGTERM)
        check(rc == 0, f"clean stop: {rc}")

        db = sqlite3.connect(os.path.join(d, "var", "qtr.db"))
        n_fills = db.execute("SELECT count(*) FROM fills").fetchone()[0]
        check(n_fills >= 1, "the fill is in the trade store")
        # Every execution of the host's orders is a fill in the store with the
        # exchange's own price, quantity and commission (money at 1e-8 units).
        ours = {o["orderId"] for o in st["orders"] if o["cid"].startswith("qtr-")}
        trades = [t for t in st["trades"] if t["orderId"] in ours]
        check(len(trades) >= 1, f"the exchange executed the host's order: {st['trades']}")
        scale = 10 ** 8
        fees = 0
        for t in trades:
            fid = f"{t['symbol']}:{t['id']}:{'B' if t['side'] == 'BUY' else 'S'}"
            row = db.execute("SELECT qty, price, fee, maker FROM fills WHERE fill_id = ?", (fid,)).fetchone()
            want = (round(Decimal(t["qty"]) * scale), round(Decimal(t["price"]) * scale),
                    round(Decimal(t["commission"]) * scale), int(t["maker"]))
            check(row is not None and tuple(row) == want, f"fill {fid} is stored as executed: {row} vs {want}")
            fees += want[2]
        check(fees > 0, "the exchange charged a commission")
        stored_fees = db.execute("SELECT fees FROM positions WHERE symbol = 'BTCUSDT'").fetchone()
        check(stored_fees is not None and stored_fees[0] == fees,
              f"the position's fees are the commissions charged: {stored_fees} vs {fees}")
        rows = db.execute("SELECT symbol, qty FROM positions WHERE qty != 0").fetchall()
        check(any(r[0] == "BTCUSDT" for r in rows), f"the position is recorded: {rows}")
        ext = db.execute("SELECT count(*) FROM orders WHERE client_id = 'manual-1'").fetchone()[0]
        check(ext == 1, "the external order is recorded in the store")
        db.close()

        # fresh_connection_for_orders was removed (with it off libcurl resent
        # orders on dead reused connections): a configuration that still sets
        # it is refused by name, before anything is sent.
        sent_before = sum(v for k, v in mock_state(base)["requests"].items() if k.startswith("POST "))
        old = write(os.path.join(d, "old.lua"), open(cfg).read().replace(
            'retry_backoff_ms = "50,100,200"', 'retry_backoff_ms = "50,100,200", fresh_connection_for_orders = false'))
        try:
            rc, out, err = run(["run", "-c", old], timeout=30, cwd=d, env=env)
        except subprocess.TimeoutExpired:
            rc, out, err = 0, "", "qtr run did not stop within 30 s: the option was accepted"
        print("refused:", [l for l in (out + err).splitlines() if "fresh_connection" in l][:1], flush=True)
        check(rc != 0, f"a configuration setting fresh_connection_for_orders is refused: exit {rc}")
        check("fresh_connection_for_orders" in out + err, "the refusal names the option: " + (out + err)[-2000:])
        sent_after = sum(v for k, v in mock_state(base)["requests"].items() if k.startswith("POST "))
        check(sent_after == sent_before, "nothing was sent by the refused configuration")
    finally:
        mock.send_signal(signal.SIGTERM)
        try:
            mock.wait(timeout=10)
        except subprocess.TimeoutExpired:
            mock.kill()


main()
finish()
