"""The ESS in a backtest: an up-then-down price path makes ma_cross go long,
then the equity falls. The drawdown from the equity peak first reaches the
policy's max_drawdown_pct at a candle computed here, independently, in
Python's decimal arithmetic (strategy, paper fills, fees, portfolio, ESS
rule, all written again from their documentation). Checked end to end:

  * the ESS trips exactly once, at that candle's close time (the store's
    ess_transitions, written with --store), with its drawdown in the stored reason;
  * before the trip every fill is the reference's; at the trip the position
    is flattened by one reduce-only fill (close_positions = true); after it no
    fill at all, and every later signal of the strategy is refused with ess_*
    (as many refusals as the reference has signals after the trip);
  * the report's end equity is the reference's.
Cooldown and reset rules are unit-tested in tests/risk/."""
import csv
import json
import os
import sqlite3
import tempfile
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, ROUND_FLOOR, Decimal, getcontext

from qtrtest import PLUGINS, check, finish, run, write

getcontext().prec = 80
E8 = Decimal("0.00000001")
T0 = 1704067200000            # 2024-01-01 00:00 UTC
IV = 60000                    # 1m candles
FAST, SLOW = 3, 12
NOTIONAL, FEE, STEP, START = Decimal("5000"), Decimal("0.0004"), Decimal("0.001"), Decimal("10000")
MAX_DD = Decimal("2")       # percent

# down (a first reading below), up (a cross up: long), a top, a steady fall
# (the trip), then more crosses the tripped ESS must block
PATH = ["100", "99.5", "99", "98.5", "98", "97.5", "97", "96.5", "96", "95.5",
        "96.5", "98", "100", "102", "104", "106", "108", "110", "111", "111.5", "111.8",
        "111.2", "110.4", "109.4", "108.2", "106.8", "105.2", "103.4", "101.4", "99.2",
        "97", "95", "94",
        "96", "98", "100", "102", "104", "106", "108",
        "106", "104", "102", "100", "98", "96", "94",
        "96", "98", "100", "102", "104"]


def q8(x, rounding=ROUND_HALF_EVEN):
    return x.quantize(E8, rounding=rounding)


def reference(closes):
    """Returns the trip (candle index, close time, drawdown), the fills with
    their times, the number of signals after the trip and the end equity."""
    st = {"pos": Decimal(0), "entry": Decimal(0), "wallet": START, "peak": START, "mark": None}
    fills, trip, after_trip_signals = [], None, 0

    def equity():
        unreal = q8((st["mark"] - st["entry"]) * st["pos"]) if st["pos"] else Decimal(0)
        return st["wallet"] + unreal

    def account(i, t):
        """The portfolio's figures, then the ESS rule (docs/policies.md, ess.h)."""
        nonlocal trip
        e = equity()
        st["peak"] = max(st["peak"], e)
        if trip is not None or st["peak"] <= 0 or e >= st["peak"]:
            return
        dd = max(q8((st["peak"] - e) * 100 / st["peak"]), q8((st["peak"] - e) * 100 / st["peak"], ROUND_DOWN))
        if dd >= MAX_DD:
            trip = (i, t, dd)
            if st["pos"]:                       # close_positions: a reduce-only market order at the close
                fill(i, t, -st["pos"], reduce_only=True)

    def fill(i, t, signed, reduce_only=False):
        qty = (abs(signed) / STEP).to_integral_value(rounding=ROUND_DOWN) * STEP
        if qty == 0:
            return
        signed = qty if signed > 0 else -qty
        price = st["mark"]                      # no slippage: the newest close
        fee = (price * qty * FEE).quantize(E8, rounding=ROUND_CEILING)
        pos, entry = st["pos"], st["entry"]
        new, realized = pos + signed, Decimal(0)
        if pos == 0 or (pos > 0) == (signed > 0):
            entry = price if pos == 0 else q8((pos * entry + signed * price) / new)
        else:
            closed = min(abs(signed), abs(pos))
            realized = q8((price - entry) * (closed if pos > 0 else -closed))
            entry = Decimal(0) if new == 0 else (price if (new > 0) != (pos > 0) else entry)
        st["pos"], st["entry"] = new, entry
        st["wallet"] += realized - fee
        fills.append({"i": i, "time": t, "side": "BUY" if signed > 0 else "SELL", "qty": qty, "price": price,
                      "fee": fee, "reduce_only": reduce_only})
        account(i, t)

    hist, last_side = [], 0
    for i, c in enumerate(closes):
        t = T0 + i * IV + IV - 1                # the candle's close time: the simulated clock
        st["mark"] = c
        account(i, t)                           # the host marks at the close, before the strategy
        hist.append(c)
        if len(hist) < SLOW:
            continue
        fast = q8(sum(hist[-FAST:]) / FAST)
        slow = q8(sum(hist[-SLOW:]) / SLOW)
        side = (fast > slow) - (fast < slow)
        if side == 0:
            continue
        before, last_side = last_side, side
        if before == 0 or before == side:
            continue
        size = (NOTIONAL / c).quantize(E8, rounding=ROUND_DOWN)
        delta = (size if side > 0 else -size) - st["pos"]
        if delta == 0:
            continue
        reduce_only = st["pos"] != 0 and (delta > 0) != (st["pos"] > 0) and abs(delta) <= abs(st["pos"])
        if trip is not None and not reduce_only:
            after_trip_signals += 1             # refused by the ESS
            continue
        fill(i, t, delta)
    return trip, fills, after_trip_signals, equity()


def policy(d):
    return write(os.path.join(d, "ess_policy.lua"), f"""
-- wide limits; the ESS drawdown is the rule under test
return {{
  name = "ess_backtest",
  limits = {{ max_positions = 10, max_symbols = 10, min_confidence = 0,
             max_position_notional = "100000", max_order_notional = "100000",
             max_total_exposure = "1000000", max_leverage = 100 }},
  ess = {{ max_drawdown_pct = "{MAX_DD}", daily_loss_pct = "90", max_consecutive_errors = 5,
          cooldown_minutes = 5, close_positions = true, alert_daily_drawdown_pct = "80" }},
  judge = function(order, ctx) return "allow" end,
}}
""")


def config(d):
    return write(os.path.join(d, "bt.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  account = {{ starting_balance = "{START}" }},
  policy = {{ file = "{policy(d)}" }},
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ taker_fee = "{FEE}", slippage_bps = "0",
       max_volume_share = "1", min_qty_step = "{STEP}", price_tick = "0.0001" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = {FAST}, slow = {SLOW}, order_notional = "{NOTIONAL}" }} }},
  }},
}}
""")


def main():
    d = tempfile.mkdtemp(prefix="qtr_essbt_")
    data = os.path.join(d, "TESTUSDT-1m.csv")
    with open(data, "w") as f:
        f.write("open_time_ms,open,high,low,close,volume\n")
        prev = PATH[0]
        for i, c in enumerate(PATH):
            hi, lo = max(Decimal(prev), Decimal(c)), min(Decimal(prev), Decimal(c))
            f.write(f"{T0 + i * IV},{prev},{hi},{lo},{c},1000000\n")
            prev = c
    closes = [Decimal(c) for c in PATH]
    trip, ref_fills, ref_blocked, ref_end = reference(closes)
    # the scenario itself: long at the top, tripped while long, in the middle of the fall
    if not check(trip is not None, "the reference trips (the price path is wrong otherwise)"):
        return
    ti, tt, tdd = trip
    print(f"reference: trip at candle {ti} (close time {tt}), drawdown {tdd}%; {len(ref_fills)} fills; "
          f"{ref_blocked} signals blocked after the trip; end equity {ref_end}", flush=True)
    check(any(f["side"] == "BUY" and f["i"] < ti for f in ref_fills), "the reference goes long before the trip")
    check(ref_fills[-1]["reduce_only"] and ref_fills[-1]["i"] == ti and ref_fills[-1]["side"] == "SELL",
          "the reference is long at the trip and flattens it there")
    check(len(ref_fills) == 2, "the reference trips in the first fall, before the strategy could turn")
    check(ref_blocked >= 2, "the reference has signals after the trip for the ESS to block")
    check(PATH.index("111.8") < ti - 2, "the trip is a few candles into the fall, not on its first candle")

    store, trades, js = (os.path.join(d, n) for n in ("bt.db", "trades.csv", "report.json"))
    rc, out, err = run(["backtest", "-c", config(d), "--data", data, "--json", js, "--store", store,
                        "--trades", trades, "--log-level", "info"], timeout=120)
    if not check(rc == 0, f"backtest exits 0: {rc} {err[-2000:]}"):
        return

    # the trip: once, at the reference candle's close time, with its drawdown
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    trans = con.execute("SELECT previous, state, reason, time_ms, trips FROM ess_transitions ORDER BY id").fetchall()
    con.close()
    trips = [r for r in trans if r[1] == "TRIPPED"]
    check(len(trips) == 1, f"exactly one trip: {trans}")
    if trips:
        check(trips[0][3] == tt, f"tripped at {trips[0][3]}, the reference trips at candle {ti} ({tt})")
        check(trips[0][2].startswith("drawdown "), f"a drawdown trip: {trips[0][2]}")
    shown = tdd.quantize(Decimal("0.01"), rounding=ROUND_FLOOR)
    if trips:
        check(trips[0][2] == f"drawdown {shown}% >= {MAX_DD}%",
              f"the stored trip carries the reference's drawdown {shown}%: {trips[0][2]}")
    after = trans[trans.index(trips[0]) + 1:] if trips else []
    check(not any(r[1] == "ARMED" for r in after), f"nothing re-arms the ESS: {after}")

    # fills: the reference's before the trip, one reduce-only close at it, none after
    with open(trades) as f:
        got = list(csv.DictReader(f))
    check(len(got) == len(ref_fills), f"{len(got)} fills, the reference has {len(ref_fills)}")
    for g, w in zip(got, ref_fills):
        same = (int(g["time_ms"]) == w["time"] and g["side"] == w["side"] and Decimal(g["qty"]) == w["qty"]
                and Decimal(g["price"]) == w["price"] and Decimal(g["fee"]) == w["fee"]
                and (g["reduce_only"] == "1") == w["reduce_only"])
        check(same, f"fill {g} differs from the reference {w}")
    late = [g for g in got if int(g["time_ms"]) >= tt]
    check(len(late) == 1 and late[0]["reduce_only"] == "1",
          f"at and after the trip only the reduce-only close fills: {late}")
    pos = sum((Decimal(g["qty"]) if g["side"] == "BUY" else -Decimal(g["qty"])) for g in got)
    check(pos == 0, f"the position is flat after the trip's close: {pos}")

    # every signal after the trip is refused by the ESS
    # (the store keeps each refused order: its row, status REJECTED and the reason)
    con = sqlite3.connect(f"file:{store}?mode=ro", uri=True)
    refused = con.execute("SELECT side, reason FROM orders WHERE symbol = 'TESTUSDT' AND status = 'REJECTED'"
                          " ORDER BY id").fetchall()
    con.close()
    check(len(refused) == ref_blocked,
          f"{len(refused)} orders refused with ess_*, the reference has {ref_blocked} signals after the trip")
    check(all(r[1] in ("ess_tripped", "ess_cooldown") for r in refused), f"refusal reasons: {set(refused)}")

    rep = json.load(open(js))
    check(Decimal(rep["end_equity"]) == ref_end, f"end equity {rep['end_equity']}, the reference {ref_end}")
    check(Decimal(rep["max_drawdown_pct"]) >= MAX_DD, f"the report's max drawdown {rep['max_drawdown_pct']} "
                                                      f"reaches the threshold")


main()
finish()
