"""qtr backtest end to end on real data, checked against an independent
computation in Python's decimal arithmetic: the moving averages, the crosses,
the paper fills, fees, round trips, equity and drawdown. Also: the same
input gives the same bytes, and bad input is refused with file:line."""
import json
import math
import os
import tempfile
from decimal import ROUND_CEILING, ROUND_DOWN, ROUND_HALF_EVEN, Decimal, getcontext

from qtrtest import DATA, PLUGINS, SRC, check, finish, run, write

getcontext().prec = 80   # exact intermediates: only the explicit quantize() rounds
E8 = Decimal("0.00000001")
CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
FUNDING = os.path.join(DATA, "XRPUSDT-perp-funding-8h.csv")
FAST, SLOW, NOTIONAL, FEE, STEP, START = 10, 30, Decimal("1000"), Decimal("0.0004"), Decimal("0.1"), Decimal("10000")


def q8(x, rounding=ROUND_HALF_EVEN):
    return x.quantize(E8, rounding=rounding)


def reference(rows, funding=()):
    """The strategy, exchange, portfolio and report rules, written again from
    their documentation (docs and header comments), not from their code.
    funding: (time_ms, rate) rows; one within a candle is settled before that
    candle, on the position held as it opened, at the last close:
    payment = -qty * mark * rate."""
    closes = []
    last_side = 0
    pos, entry, wallet = Decimal(0), Decimal(0), START
    fees_total = Decimal(0)
    trip_realized, trip_fees, trip_open = Decimal(0), Decimal(0), False
    trades = wins = losses = fills = 0
    peak, max_dd = START, Decimal(0)
    equity_by_time = []   # (time, equity): the last equity at each time

    def equity(mark):
        unreal = q8((mark - entry) * pos) if pos else Decimal(0)
        return wallet + unreal

    def account(t, mark):
        nonlocal peak, max_dd
        e = equity(mark)
        peak = max(peak, e)
        dd = q8((peak - e) * 100 / peak) if peak > 0 else Decimal(0)
        max_dd = max(max_dd, dd)
        if equity_by_time and equity_by_time[-1][0] == t:
            equity_by_time[-1] = (t, e)
        else:
            equity_by_time.append((t, e))

    def close_trip(realized, fee):
        nonlocal trades, wins, losses
        trades += 1
        if realized - fee > 0:
            wins += 1
        else:
            losses += 1

    interval = rows[1][0] - rows[0][0]
    funding = list(funding)
    fi = 0
    funding_total = Decimal(0)
    last_close = None
    for (t_open, o, h, l, c, v) in rows:
        while fi < len(funding) and funding[fi][0] <= t_open + interval - 1:
            ft, rate = funding[fi]
            fi += 1
            if pos == 0:
                continue
            payment = -q8(q8(pos * last_close) * rate)
            wallet += payment
            funding_total += payment
            account(ft, last_close)
        last_close = c
        t = t_open + interval - 1              # close time: the candle's clock
        account(t, c)                          # the host marks at the close
        closes.append(c)
        if len(closes) < SLOW:
            continue
        fast_ma = q8(sum(closes[-FAST:]) / FAST)
        slow_ma = q8(sum(closes[-SLOW:]) / SLOW)
        side = (fast_ma > slow_ma) - (fast_ma < slow_ma)
        if side == 0:
            continue
        before, last_side = last_side, side
        if before == 0 or before == side:
            continue
        size = (NOTIONAL / c).quantize(E8, rounding=ROUND_DOWN)
        target = size if side > 0 else -size
        delta = target - pos
        if delta == 0:
            continue
        # a flip is a reduce-only close of the whole position, then an entry
        orders = [-pos, target] if pos != 0 and (pos > 0) != (target > 0) else [delta]
        for want in orders:
            qty = (abs(want) / STEP).to_integral_value(rounding=ROUND_DOWN) * STEP   # the exchange's lot step
            if qty == 0:
                continue
            signed = qty if want > 0 else -qty
            price = c                                                                  # no slippage configured
            fee = (price * qty * FEE).quantize(E8, rounding=ROUND_CEILING)
            fills += 1
            fees_total += fee
            # portfolio: average entry on adds, realize on reductions, flip at the price
            realized = Decimal(0)
            new = pos + signed
            if pos == 0 or (pos > 0) == (signed > 0):
                entry = price if pos == 0 else q8((pos * entry + signed * price) / new)
            else:
                closed = min(abs(signed), abs(pos))
                realized = q8((price - entry) * (closed if pos > 0 else -closed))
                entry = Decimal(0) if new == 0 else (price if (new > 0) != (pos > 0) else entry)
            # report: round trips, a flip's fee split by quantity
            if pos == 0:
                trip_open, trip_realized, trip_fees = True, realized, fee
            elif new == 0 or (new > 0) == (pos > 0):
                trip_realized += realized
                trip_fees += fee
                if new == 0:
                    close_trip(trip_realized, trip_fees)
                    trip_open = False
            else:
                close_fee = q8(fee * abs(pos) / qty)
                close_trip(trip_realized + realized, trip_fees + close_fee)
                trip_open, trip_realized, trip_fees = True, Decimal(0), fee - close_fee
            pos = new
            wallet = wallet + realized - fee
            account(t, c)
    end_equity = equity_by_time[-1][1]
    # the report's first return is from the starting equity (host/report/report.h)
    series = [(None, START)] + equity_by_time
    rets = [float(b[1] / a[1] - 1) for a, b in zip(series, series[1:])]
    mean = sum(rets) / len(rets)
    sd = math.sqrt(sum((r - mean) ** 2 for r in rets) / (len(rets) - 1))
    sharpe = mean / sd * math.sqrt(365 * 86400000 / interval) if sd > 0 else 0.0
    return {
        "candles": len(rows), "trades": trades, "wins": wins, "losses": losses, "fills": fills,
        "end_equity": end_equity, "net_pnl": end_equity - START, "fees": fees_total,
        "max_drawdown_pct": max_dd, "win_rate": wins / trades if trades else 0.0, "sharpe": sharpe,
        "funding": funding_total,
    }


def load_rows(path):
    rows = []
    with open(path) as f:
        next(f)
        for line in f:
            t, o, h, l, c, v = line.strip().split(",")
            rows.append((int(t), Decimal(o), Decimal(h), Decimal(l), Decimal(c), Decimal(v)))
    return rows


def config(d):
    policy = write(os.path.join(d, "open_policy.lua"), """
-- Wide limits: this test checks the order path's arithmetic, not the limits.
return {
  name = "e2e_open",
  limits = { max_positions = 10, max_symbols = 10, min_confidence = 0,
             max_position_notional = "100000", max_order_notional = "100000",
             max_total_exposure = "1000000", max_leverage = 100 },
  ess = { max_drawdown_pct = "90", daily_loss_pct = "90", max_consecutive_errors = 5,
          cooldown_minutes = 15, close_positions = false, alert_daily_drawdown_pct = "50" },
  judge = function(order, ctx) return "allow" end,
}
""")
    return write(os.path.join(d, "bt.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  account = {{ starting_balance = "{START}" }},
  policy = {{ file = "{policy}" }},
  store = false,
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ taker_fee = "{FEE}", slippage_bps = "0",
       max_volume_share = "1", min_qty_step = "{STEP}", price_tick = "0.0001" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "strategy", name = "ma_cross", options = {{ symbols = {{ "XRPUSDT" }}, fast = {FAST}, slow = {SLOW},
       order_notional = "{NOTIONAL}" }} }},
  }},
}}
""")


def load_funding(path):
    with open(path) as f:
        next(f)
        return [(int(t), Decimal(r)) for t, r in (line.strip().split(",") for line in f if line.strip())]


def matches_reference(with_funding=False):
    d = tempfile.mkdtemp(prefix="qtr_bt_")
    out = os.path.join(d, "report.json")
    extra = ["--funding", FUNDING] if with_funding else []
    rc, stdout, err = run(["backtest", "-c", config(d), "--data", CSV, "--json", out] + extra, timeout=120)
    check(rc == 0, f"backtest exits 0: {rc} {err[-2000:]}")
    if rc != 0:
        return
    got = json.load(open(out))
    want = reference(load_rows(CSV), load_funding(FUNDING) if with_funding else ())
    print("qtr:      ", {k: got.get(k) for k in want})
    print("reference:", want)
    check(want["trades"] > 20, "the reference trades enough to be a real check")
    for k in ("candles", "trades", "wins", "losses", "fills"):
        check(got[k] == want[k], f"{k}: qtr {got[k]} reference {want[k]}")
    if with_funding:
        check(want["funding"] != 0, "the reference pays or receives funding")
    for k in ("end_equity", "net_pnl", "fees", "max_drawdown_pct", "funding"):
        check(Decimal(got[k]) == want[k], f"{k}: qtr {got[k]} reference {want[k]}")
        check(isinstance(got[k], str), f"{k} is a decimal string")
    check(abs(got["win_rate"] - want["win_rate"]) < 1e-6, f"win_rate {got['win_rate']} vs {want['win_rate']}")
    check(abs(got["sharpe"] - want["sharpe"]) < 1e-6 * max(1, abs(want["sharpe"])),
          f"sharpe {got['sharpe']} vs {want['sharpe']}")
    check("trades" in stdout and "max drawdown" in stdout, "a report table on the terminal")
    # same input, same bytes
    out2 = os.path.join(d, "report2.json")
    rc2, _, _ = run(["backtest", "-c", config(d), "--data", CSV, "--json", out2, "--quiet"] + extra, timeout=120)
    check(rc2 == 0 and open(out, "rb").read() == open(out2, "rb").read(), "same input gives the same bytes")


def bad_input_exit_2():
    d = tempfile.mkdtemp(prefix="qtr_btbad_")
    cfg = config(d)
    bad = write(os.path.join(d, "BADUSDT-5m.csv"),
                "open_time_ms,open,high,low,close,volume\n1,1,2,0.5,1.5,10\n2,1,2,0.5,abc,10\n")
    rc, _, err = run(["backtest", "-c", cfg, "--data", bad])
    check(rc == 2 and "BADUSDT-5m.csv:3" in err, f"a bad row names file:line: {rc} {err}")
    rc, _, err = run(["backtest", "-c", cfg, "--data", os.path.join(d, "NOPE-1m.csv")])
    check(rc == 2 and "NOPE-1m.csv" in err, f"a missing file is named: {rc} {err}")
    rc, _, err = run(["backtest", "-c", cfg])
    check(rc == 2 and "--data" in err, f"--data is required: {rc} {err}")
    out = os.path.join(d, "no", "such", "dir", "r.json")
    rc, _, err = run(["backtest", "-c", cfg, "--data", CSV, "--json", out, "--quiet"])
    check(rc == 2 and "r.json" in err and not os.path.exists(out), f"an unwritable --json is refused: {rc} {err}")


def matches_reference_with_funding():
    matches_reference(with_funding=True)


def bad_funding_file_exit_2():
    d = tempfile.mkdtemp(prefix="qtr_btfund_")
    bad = write(os.path.join(d, "XRPUSDT-funding.csv"), "funding_time_ms,funding_rate\n1637193600017,0.0001\n1637222400007,abc\n")
    rc, _, err = run(["backtest", "-c", config(d), "--data", CSV, "--funding", bad])
    check(rc == 2 and "XRPUSDT-funding.csv:3" in err, f"a bad funding row names file:line: {rc} {err}")


def examples_trade_on_the_exchange_rules():
    """Every example config backtests the real data on the shipped instrument
    rules: exit 0, trades, and no warning (the paper exchange warns when it
    has no symbols_file) and no error."""
    examples = os.path.join(SRC, "examples")
    for name in sorted(f for f in os.listdir(examples) if f.endswith(".lua")):
        path = os.path.join(examples, name)
        check('symbols_file = "' in open(path).read(), f"examples/{name} sets the paper exchange's symbols_file")
        d = tempfile.mkdtemp(prefix="qtr_btex_")
        out = os.path.join(d, "r.json")
        rc, _, err = run(["backtest", "-c", path, "--data", CSV, "--json", out, "--quiet"], timeout=120)
        lines = [line for line in err.splitlines() if " WARN " in line or " ERROR " in line]
        trades = json.load(open(out)).get("trades", 0) if rc == 0 else 0
        check(rc == 0 and not lines and trades > 0,
              f"examples/{name}: a backtest with no warning and {trades} trades (exit {rc}: {lines or err[-300:]})")


for t in (matches_reference, matches_reference_with_funding, bad_input_exit_2, bad_funding_file_exit_2,
          examples_trade_on_the_exchange_rules):
    print("==", t.__name__, flush=True)
    t()
finish()
