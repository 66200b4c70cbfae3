"""GET /api/exits on a running server (issue 16: the operator sees the exit
plans): qtr run on the paper exchange with a strategy that sets an exit plan
at init and buys once (tests/e2e/strategy_exit_entry.c). The dashboard lists
the plan with the position it covers, its parameters, and the exit orders
resting now: the same client ids as the open orders of /api/orders, the stop
at the price the plan's rule gives for the entry (independently computed
here), all reduce-only."""
import os
import tempfile
from decimal import ROUND_CEILING, Decimal

from binance_e2e import build_test_strategy
from qtrtest import PLUGINS, Server, api_json, check, finish, free_port, wait_until, write


def config(d, port, so):
    return write(os.path.join(d, "exits.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT" }}, interval_ms = 50, seed = 11 }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "exit_entry", file = "{so}",
       options = {{ entries = 1, qty = "0.010", stop_bps = 300, trail_activation_bps = 200, trail_callback_bps = 100 }} }},
  }},
}}
""")


def exits(port):
    try:
        return api_json(port, "/api/exits")["exits"]
    except Exception:   # not up yet
        return None


def main():
    d = tempfile.mkdtemp(prefix="qtr_dash_exits_")
    so = build_test_strategy(d, "strategy_exit_entry")
    port = free_port()
    s = Server(["-c", config(d, port, so)], cwd=d)
    try:
        def protected():
            x = exits(port)
            return x and x[0]["position"]["qty"] == "0.01" and len(x[0]["orders"]) == 2
        if not check(wait_until(protected, 30), f"/api/exits shows the plan with its two exits: {exits(port)} "
                     + s.text()[-2000:]):
            return
        x = exits(port)[0]
        check(x["symbol"] == "BTCUSDT" and x["owner"] == "exit_entry", f"the symbol and who set the plan: {x}")
        check(x["held"] is False, "placed after the first reconcile: not held")
        check(x["position"]["side"] == "LONG", f"it covers the long position: {x['position']}")
        check(x["working_type"] == "MARK", f"on the mark price: {x['working_type']}")
        check(x["stop_loss"] == {"bps": 300, "price": "0"}, f"the stop-loss 3% from the entry: {x['stop_loss']}")
        check(x["take_profit"] == [], "no ladder")
        tr = x["trailing"]
        check(tr and tr["callback_bps"] == 100 and tr["activation"] == {"bps": 200, "price": "0"},
              f"the trailing stop: 1% callback from +2%: {tr}")
        check(x["time_stop"] is None, "no time stop")

        entry = Decimal(x["position"]["entry_price"])
        by_role = {o["role"]: o for o in x["orders"]}
        sl, ts = by_role.get("stop_loss"), by_role.get("trailing")
        if check(sl and ts, f"a stop-loss and a trailing stop rest: {x['orders']}"):
            # a long's stop 3% under the entry, rounded to the 0.1 tick toward the entry
            want = (entry * Decimal("0.97") / Decimal("0.1")).to_integral_value(ROUND_CEILING) * Decimal("0.1")
            check(Decimal(sl["stop_price"]) == want, f"the stop at {want} for the entry {entry}: {sl}")
            check(sl["side"] == "SELL" and sl["order_type"] == "STOP_MARKET" and sl["qty"] == "0.01", f"{sl}")
            check(ts["order_type"] == "TRAILING_STOP_MARKET" and ts["callback_bps"] == 100, f"{ts}")
            act = (entry * Decimal("1.02") / Decimal("0.1")).to_integral_value() * Decimal("0.1")
            check(abs(Decimal(ts["activation_price"]) - act) <= Decimal("0.1"), f"activation near {act}: {ts}")
            # the same orders the order book shows, by client id, each reduce-only
            open_orders = {o["client_id"]: o for o in api_json(port, "/api/orders")["open"]}
            for o in (sl, ts):
                check(o["client_id"] in open_orders and open_orders[o["client_id"]]["reduce_only"],
                      f"{o['client_id']} is an open reduce-only order: {sorted(open_orders)}")
    finally:
        s.stop()
    finish()


if __name__ == "__main__":
    main()
