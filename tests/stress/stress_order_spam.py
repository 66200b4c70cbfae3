"""Stress scenario 5, concurrent order spam: `qtr run` with the Binance USD-M
plugin against the mock exchange, whose exchangeInfo announces (and whose
server enforces, in fixed windows) tight limits: REQUEST_WEIGHT 300 per 10 s,
ORDERS 25 per 10 s and 1200 per minute. A strategy (strategy_flood.c) sends
SIGNALS market signals within about a second, and the plugin also polls
klines, marks and trades every 100 ms.

Pass criteria (from the mock's request log and state):
  * never over a limit: the mock counted 0 limit violations, and no request
    was answered 429 or 418 (never banned);
  * the spam was held back, not lost or doubled: every signal became an
    order at the mock or a counted refusal in the host, every order sent
    once, and sending took more than one order window (the limits bit);
  * the server kept running and stopped cleanly.

The long form (QTR_STRESS_LONG=1, `stress_order_spam_long`, label long): the
same spam (30 signals within a second) every ROUND_S seconds for LONG_S
seconds (QTR_STRESS_LONG_SECONDS, 180) on one server and one mock, with the
per-minute order limit down to 100 so that over minutes it binds too (the
spam asks for 120 a minute); a random seed shuffles the signals (printed,
QTR_STRESS_SEED=<seed> reruns). Same criteria over the whole run, plus the
busiest minute of sends."""
import os
import signal
import tempfile
import time

from stresslib import LONG, build_test_plugin, long_seconds, seed_base  # noqa: E402  (first: puts qtrtest on the path)
from qtrtest import check, finish, store_query, wait_until  # noqa: E402
from binance_mock import Mock, start_flood  # noqa: E402

WEIGHT, WEIGHT_MS = 300, 10000
ORDERS_10S = 25
PER_CANDLE = 10                          # 30 signals on 3 candles fed 0.25 s apart
PRICE = 200000
LONG_S = long_seconds(180)
ROUND_S = 15                             # the long form: the spam again every 15 s
ROUNDS = max(2, LONG_S // ROUND_S) if LONG else 1
CANDLES = 3 * ROUNDS
FEED = [0.25, 0.25, ROUND_S - 0.5]       # a round's 3 candles, then the wait for the next round
ORDERS_1M = 100 if LONG else 1200        # long: 120 a minute asked, 100 allowed
SIGNALS = PER_CANDLE * CANDLES
SETTLE_S = 60 + SIGNALS * 60 * 1.5 / min(ORDERS_1M, ORDERS_10S * 6)   # the sends the limits allow, and room


def main():
    print(f"ran: {PER_CANDLE * 3} market signals in ~1 s" + (f", every {ROUND_S} s, {ROUNDS} rounds ({SIGNALS} signals)"
          if LONG else "") + f"; mock limits weight {WEIGHT}/{WEIGHT_MS} ms, orders "
          f"{ORDERS_10S}/10 s and {ORDERS_1M}/min; polls every 100 ms", flush=True)
    seed = seed_base() if LONG else 12345
    print("criteria: 0 limit violations at the mock, no 429 or 418 answered, every signal an order sent once or a "
          "counted refusal, sending spread over more than one 10 s window", flush=True)
    d = tempfile.mkdtemp(prefix="qtr_stress_spam_")
    so = build_test_plugin(d, "strategy_flood.c")
    if not so:
        return
    mock = Mock()
    s = None
    try:
        mock.post(f"/mock/price?symbol=BTCUSDT&price={PRICE}")
        mock.post(f"/mock/limits?weight={WEIGHT}&weight_interval_ms={WEIGHT_MS}&orders_a={ORDERS_10S}"
                  f"&orders_a_interval_ms=10000&orders_b={ORDERS_1M}&orders_b_interval_ms=60000")
        t_spam = time.monotonic()
        s = start_flood(d, mock, so, CANDLES, PER_CANDLE, PRICE, FEED if LONG else 0.25, seed)
        if not s:
            return
        check(s.wait_for("flood done", 30 + ROUND_S * ROUNDS if LONG else 30),
              "the strategy saw every candle: " + s.text()[-2000:])
        db = os.path.join(d, "var", "qtr.db")

        def settled():
            rows = store_query(db, "SELECT count(*) FROM orders WHERE status NOT IN "
                                   "('FILLED', 'REJECTED', 'CANCELED', 'EXPIRED')")
            return rows[0][0] == 0 and store_query(db, "SELECT count(*) FROM orders")[0][0] >= SIGNALS
        check(wait_until(settled, SETTLE_S, 0.5), f"every order reached a final state within {SETTLE_S:.0f} s")
        print(f"spam sent and settled in {time.monotonic() - t_spam:.1f} s", flush=True)
        check(s.p.poll() is None, f"the server kept running: {s.p.poll()}")
    finally:
        rc = s.stop(signal.SIGTERM, timeout=20) if s else None
        st = reqs = None
        try:
            st, reqs = mock.state(), mock.requests()
        except OSError as e:
            check(False, f"the mock answers at the end: {e}")
        mock.stop()
    check(rc == 0, f"clean stop: {rc}")
    if st is None:
        return
    posts = [r for r in reqs if r["method"] == "POST" and r["path"] == "/fapi/v1/order"]
    limited = [r for r in reqs if r["status"] in (418, 429)]
    span_s = (posts[-1]["t_us"] - posts[0]["t_us"]) / 1e6 if posts else 0
    # the most orders in any 10 s (sliding, so up to twice a fixed window's limit would still be legal)
    t = [r["t_us"] for r in posts]
    busiest = max((sum(1 for u in t if v <= u < v + 10_000_000) for v in t), default=0)
    busiest_min = max((sum(1 for u in t if v <= u < v + 60_000_000) for v in t), default=0)
    statuses = {}
    for r in reqs:
        statuses[r["status"]] = statuses.get(r["status"], 0) + 1
    rows = store_query(os.path.join(d, "var", "qtr.db"), "SELECT status, count(*) FROM orders GROUP BY status")
    print(f"requests {len(reqs)} by status {statuses}; order sends {len(posts)} over {span_s:.1f} s, busiest 10 s "
          f"{busiest}, busiest minute {busiest_min}; limit violations {st['limit_violations']}; store orders {dict(rows)}", flush=True)
    check(st["limit_violations"] == 0, f"0 limit violations at the mock: {st['limit_violations']}")
    check(not limited, f"never rate limited or banned (429/418): {limited[:5]}")
    accepted = {cid: p for cid, p in st["placements"].items() if p["accepted"] > 1}
    check(not accepted, f"every order accepted once: {accepted}")
    total = sum(n for _, n in rows)
    check(total == SIGNALS, f"every signal became an order of the store: {total} of {SIGNALS}")
    sent = sum(n for status, n in rows if status != "REJECTED")
    check(len({r['cid'] for r in posts}) == len(posts) == sent,
          f"every order not refused was sent once: {len(posts)} sends, {sent} orders")
    check(span_s > 10 if sent > ORDERS_10S else True,
          f"{sent} orders over a {ORDERS_10S}-per-10-s limit took more than one window: {span_s:.1f} s")


if __name__ == "__main__":
    t_start = time.monotonic()
    main()
    print(f"stress_order_spam took {time.monotonic() - t_start:.1f} s", flush=True)
    finish()
