"""Exposure and turnover of `qtr backtest` on two small hand-built CSVs,
checked against an independent computation here: positions and equity
rebuilt from the fills of --trades and the candles (average entry, fees,
marks at the close), each state held from one candle's close to the next,
over the period from the first open to the last close (docs/backtest.md,
"Exposure and turnover")."""
import json
import math
import os
import sys
import tempfile
from decimal import ROUND_HALF_EVEN, Decimal, getcontext

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))
sys.path.insert(0, os.path.join(HERE, "..", "market"))
from qtrtest import check, finish, run, write  # noqa: E402
from backtest_config import backtest_config  # noqa: E402

getcontext().prec = 80
E8 = Decimal("0.00000001")
START = Decimal("10000")
HOUR = 3600000
T0 = 1704067200000


def q8(x):
    return x.quantize(E8, rounding=ROUND_HALF_EVEN)


def candles(path, base, amp, n, phase):
    rows = ["open_time_ms,open,high,low,close,volume"]
    last = Decimal(base)
    out = []
    for i in range(n):
        c = Decimal(base) + Decimal(int(amp * math.sin(i / 5.0 + phase) * 100)) / 100
        rows.append(f"{T0 + i * HOUR},{last},{max(last, c)},{min(last, c)},{c},100000")
        out.append((T0 + i * HOUR, c))
        last = c
    write(path, "\n".join(rows) + "\n")
    return out


def independent(closes, fills, n_hours):
    """closes: symbol -> [(open_ms, close)]; fills: rows of --trades."""
    syms = sorted(closes)
    pos = {s: Decimal(0) for s in syms}
    entry = {s: Decimal(0) for s in syms}
    wallet = START
    traded = {s: Decimal(0) for s in syms}
    by_time = {}
    for f in fills:
        by_time.setdefault(int(f["time_ms"]), []).append(f)
    price = {s: Decimal(0) for s in syms}
    t_prev, e_prev, x_prev = T0, START, {s: Decimal(0) for s in syms}
    integral = {s: Decimal(0) for s in syms}
    eq_integral, max_share = Decimal(0), Decimal(0)
    for h in range(n_hours):
        t = T0 + h * HOUR + HOUR - 1
        for s in syms:   # the state held since t_prev ends at t
            integral[s] += x_prev[s] / e_prev * (t - t_prev)
        eq_integral += e_prev * (t - t_prev)
        for s in syms:
            price[s] = closes[s][h][1]
        for f in by_time.get(t, []):
            s, qty, px, fee = f["symbol"], Decimal(f["qty"]), Decimal(f["price"]), Decimal(f["fee"])
            signed = qty if f["side"] == "BUY" else -qty
            traded[s] += q8(qty * px)
            p, new = pos[s], pos[s] + signed
            realized = Decimal(0)
            if p == 0 or (p > 0) == (signed > 0):
                entry[s] = px if p == 0 else q8((p * entry[s] + signed * px) / new)
            else:
                closed = min(abs(signed), abs(p))
                realized = q8((px - entry[s]) * (closed if p > 0 else -closed))
                entry[s] = Decimal(0) if new == 0 else (px if (new > 0) != (p > 0) else entry[s])
            pos[s] = new
            wallet += realized - fee
        equity = wallet + sum(q8((price[s] - entry[s]) * pos[s]) for s in syms if pos[s])
        x = {s: q8(abs(pos[s]) * price[s]) for s in syms}
        max_share = max(max_share, sum(x.values()) / equity)
        t_prev, e_prev, x_prev = t, equity, x
    end = T0 + n_hours * HOUR
    for s in syms:
        integral[s] += x_prev[s] / e_prev * (end - t_prev)
    eq_integral += e_prev * (end - t_prev)
    span = end - T0
    avg_equity = q8(eq_integral / span)
    return {
        "avg_equity": avg_equity, "traded": traded, "share": {s: integral[s] / span for s in syms},
        "max_share": max_share, "end_equity": e_prev,
    }


def main():
    d = tempfile.mkdtemp(prefix="qtr_exposure_")
    n = 120
    closes = {"AAAUSDT": candles(os.path.join(d, "AAAUSDT-1h.csv"), "2.5", 0.2, n, 0.0),
              "BBBUSDT": candles(os.path.join(d, "BBBUSDT-1h.csv"), "40", 3.0, n, 1.3)}
    cfg = backtest_config(d, 'taker_fee = "0.0004", slippage_bps = "0", max_volume_share = "1", '
                             'min_qty_step = "0.001", price_tick = "0.01"', list(closes), 3, 8, "3000")
    out, trades = os.path.join(d, "r.json"), os.path.join(d, "t.csv")
    data = ",".join(os.path.join(d, f"{s}-1h.csv") for s in closes)
    rc, so, se = run(["backtest", "-c", cfg, "--data", data, "--json", out, "--trades", trades], timeout=120)
    check(rc == 0, f"backtest exits 0: {rc} {se[-800:]}")
    if rc != 0:
        return
    r = json.load(open(out))
    lines = open(trades).read().splitlines()
    head = lines[0].split(",")
    fills = [dict(zip(head, ln.split(","))) for ln in lines[1:]]
    check(len(fills) >= 6 and {f["symbol"] for f in fills} == set(closes), f"both symbols traded: {len(fills)} fills")
    ref = independent(closes, fills, n)
    D = Decimal
    check(D(r["end_equity"]) == ref["end_equity"],
          f"the rebuilt equity path ends where the report does: {r['end_equity']} vs {ref['end_equity']}")
    check(D(r["avg_equity"]) == ref["avg_equity"], f"average equity, exact: {r['avg_equity']} vs {ref['avg_equity']}")
    total_traded = sum(ref["traded"].values())
    check(D(r["traded_notional"]) == total_traded, f"traded notional, exact: {r['traded_notional']} vs {total_traded}")
    want_turnover = float(total_traded / ref["avg_equity"])
    check(abs(r["turnover"] - want_turnover) < 1e-6, f"turnover {r['turnover']} vs {want_turnover}")
    want_avg = float(sum(ref["share"].values()))
    check(abs(r["avg_gross_exposure"] - want_avg) < 1e-6, f"average gross exposure {r['avg_gross_exposure']} vs {want_avg}")
    check(abs(r["max_gross_exposure"] - float(ref["max_share"])) < 1e-6,
          f"max gross exposure {r['max_gross_exposure']} vs {float(ref['max_share'])}")
    check(r["max_gross_exposure"] > r["avg_gross_exposure"] > 0.05, "the figures are not trivially 0")
    for row in r["per_symbol"]:
        s = row["symbol"]
        check(D(row["traded_notional"]) == ref["traded"][s], f"{s}: traded {row['traded_notional']} vs {ref['traded'][s]}")
        check(abs(row["avg_exposure"] - float(ref["share"][s])) < 1e-6, f"{s}: exposure {row['avg_exposure']}")
        check(abs(row["turnover"] - float(ref["traded"][s] / ref["avg_equity"])) < 1e-6, f"{s}: turnover {row['turnover']}")
    check(sum(D(x["traded_notional"]) for x in r["per_symbol"]) == D(r["traded_notional"]), "per-symbol traded adds up")
    check("exposure" in so and "turnover" in so, "the table shows exposure and turnover")
    html = os.path.join(d, "r.html")
    rc, _, _ = run(["backtest", "-c", cfg, "--data", data, "--html", html, "--quiet"], timeout=120)
    check(rc == 0 and "turnover" in open(html).read(), "the HTML report shows them")


main()
finish()
