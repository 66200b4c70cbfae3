"""The ESS trips while a position rests with its exits on the Binance mock,
and the policy keeps positions open on a trip (close_positions = false):

- the exits' reduce-only stop and trailing stop stay on the exchange through
  the trip and the ticks after it: the same clientAlgoIds, still NEW, none
  sent again; and as cancel_all keeps them, their being open costs no further
  cancel_all on the ESS ticks (before d5cdba0 each tick, every second, sent
  one: two requests per symbol). Before,
  cancel_all took them, the exit manager placed them again, the next tick
  took those, ... and after its 5 re-placements the position had no stop;
- what could open a position goes: a conditional entry left by an earlier
  run (not reduce-only), a hand-placed limit, both unknown to this run;
- a stop the trader placed by hand (reduce-only) stays too."""
import os
import signal
import tempfile
import time
from decimal import Decimal

from binance_e2e import (KEY, SECRET, binance_env, build_test_strategy, default_policy_with, mock_live_config,
                         mock_position)
from qtrtest import BINANCE_MOCK, BinanceMock, Server, api_json, check, finish, free_port, run, wait_until

TOKEN = "e2e-ess-exits-token-7c1e"


def algos(st, state="NEW"):
    return {o["cid"]: o for o in st["orders"] if o["algo"] and o["state"] == state}


def main():
    check(os.access(BINANCE_MOCK, os.X_OK), f"the mock is built: {BINANCE_MOCK}")
    with BinanceMock(KEY, SECRET) as m:
        m.post("/mock/price?symbol=BTCUSDT&price=50000")
        m.post("/mock/mark?symbol=BTCUSDT&price=50000")
        d = tempfile.mkdtemp(prefix="qtr_bn_ess_exits_")
        so = build_test_strategy(d, "strategy_exit_entry")
        policy = default_policy_with(d, "close_positions = true,", "close_positions = false,")
        port = free_port()
        env = binance_env(QTR_API_TOKEN=TOKEN)
        cfg = mock_live_config(d, "live.lua", m.base, port, so, "exit_entry", 'entries = 1, qty = "0.010"', policy)
        s = Server(["-c", cfg], cwd=d, env=env)
        try:
            def protected():
                st = m.state()
                types = {o["orderType"] for c, o in algos(st).items() if c.startswith("qtr-")}
                return mock_position(st) == Decimal("0.01") and \
                    types == {"STOP_MARKET", "TRAILING_STOP_MARKET"}

            if not check(wait_until(protected, 30), "the position opens with its stop and trailing stop: "
                         + str(algos(m.state())) + s.text()[-3000:]):
                return
            exits = {c for c in algos(m.state()) if c.startswith("qtr-")}
            # left by an earlier run or placed by hand: an entry stop, a limit, a protective stop
            m.post("/mock/open_algo?symbol=BTCUSDT&side=BUY&type=STOP_MARKET&qty=0.010&clientAlgoId=old-entry"
                   "&triggerPrice=60000")
            m.post("/mock/open_order?symbol=BTCUSDT&clientOrderId=hand-lim&side=BUY&qty=0.010&price=40000")
            m.post("/mock/open_algo?symbol=BTCUSDT&side=SELL&type=STOP_MARKET&qty=0.010&clientAlgoId=hand-sl"
                   "&triggerPrice=44000&reduceOnly=true")
            posts = m.state()["requests"].get("POST /fapi/v1/algoOrder", 0)

            url = f"http://127.0.0.1:{port}"
            rc, out, err = run(["ess", "trip", "--reason", "e2e trip with exits", "--user", "e2e", "--url", url],
                               env=env)
            check(rc == 0, f"qtr ess trip: {rc} {out} {err}")
            ess = lambda: (api_json(port, "/api/ess") or {}).get("state")
            check(wait_until(lambda: ess() in ("TRIPPED", "COOLDOWN"), 10), f"the ESS is blocked: {ess()}")

            def swept():
                st = m.state()
                return "old-entry" in algos(st, "CANCELED") and \
                    any(o["cid"] == "hand-lim" and o["state"] == "CANCELED" for o in st["orders"])

            check(wait_until(swept, 10), "the cancel-all took the entry stop and the limit: "
                  + str([(o["cid"], o["state"]) for o in m.state()["orders"]]) + s.text()[-3000:])
            time.sleep(1.5)   # a tick for the host to hear of the cancellations
            legs = ("DELETE /fapi/v1/allOpenOrders", "GET /fapi/v1/openAlgoOrders")
            swept_counts = {k: m.state()["requests"].get(k, 0) for k in legs}
            time.sleep(4.5)   # four more ESS ticks; only what cancel_all keeps is open
            st = m.state()
            rest = set(algos(st))
            check(exits <= rest, f"the exits rest on the exchange through the trip: {sorted(rest)} vs {sorted(exits)}"
                  + s.text()[-3000:])
            check("hand-sl" in rest, f"the hand-placed stop stays: {sorted(rest)}")
            check(st["requests"].get("POST /fapi/v1/algoOrder", 0) == posts,
                  f"no exit was sent again: {st['requests'].get('POST /fapi/v1/algoOrder')} vs {posts}")
            check(mock_position(st) == Decimal("0.01"),
                  f"the position stays open (close_positions = false): {st['positions']}")
            check(all(swept_counts[k] >= 1 for k in legs), f"the trip ran cancel-all's two legs: {swept_counts}")
            check({k: st["requests"].get(k, 0) for k in legs} == swept_counts,
                  f"no cancel-all on the ticks after it (only kept stops are open): {st['requests']} vs "
                  f"{swept_counts}")
        finally:
            rc = s.stop(signal.SIGTERM)
            check(rc == 0, f"clean stop: {rc}")


main()
finish()
