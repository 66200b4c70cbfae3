"""Crash safety: a paper run on a fast synthetic market is killed with SIGKILL
at 20+ random moments (seeded). After each kill and restart:

  * every fill that was durable before the kill is still in the store, and no
    fill_id is stored twice;
  * the restart resumes exactly the fills the store holds ("resumed from ...
    N fills"), with the positions their sum gives ("resumed position ...");
  * the equity peak is what persist.c restores (the stored peak, or the
    resumed equity if higher) and is never below the peak the server had in
    memory just before the kill (read from the dashboard's /api/status);
  * the ESS state survives: once tripped (a policy with a tiny drawdown limit
    is swapped in halfway), every restart restores it, nothing but reduce-only
    orders reaches the exchange afterwards, and orders are refused with ess_*.

After a final clean stop the positions table equals the sum of fills per
symbol, and the positions the trip closed are still flat."""
import os
import random
import re
import signal
import tempfile
import time
from decimal import ROUND_HALF_EVEN, Decimal

from qtrtest import (PLUGINS, Server, api_json, check, dec8, ess_state_file, fills_sum, finish, free_port, http_get,
                     store_query, store_rows, store_snapshot, wait_until, write)
import json

ITERATIONS = 22
TRIP_PHASE_AT = 11          # from this run on, the policy's drawdown limit is tiny
SEED = 20240611

RESUMED = re.compile(r"resumed from .*?: (\d+) fills, (\d+) open positions, (\d+) open orders, "
                     r"equity (-?[0-9.]+), peak (-?[0-9.]+)")
RESUMED_POS = re.compile(r"resumed position (\S+) (-?[0-9.]+) @ ([0-9.]+)")


def policy(max_dd):
    return f"""
-- crash test policy: wide limits, everything allowed; only the ESS drawdown matters
return {{
  name = "crash_test",
  limits = {{ max_positions = 10, max_symbols = 10, min_confidence = 0,
             max_position_notional = "100000", max_order_notional = "100000",
             max_total_exposure = "1000000", max_leverage = 100 }},
  ess = {{ max_drawdown_pct = "{max_dd}", daily_loss_pct = "50", max_consecutive_errors = 5,
          cooldown_minutes = 60, close_positions = true, alert_daily_drawdown_pct = "40" }},
  judge = function(order, ctx) return "allow" end,
}}
"""


def config(d, port, pol):
    return write(os.path.join(d, "crash.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 15, seed = 7 }},
  policy = {{ file = "{pol}" }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ max_volume_share = "1" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "2000" }} }},
  }},
}}
""")


def memory_peak(port):
    """The equity peak the running server holds in memory (None if unreadable)."""
    status, body = http_get(port, "/api/status", timeout=2.0)
    if status != 200:
        return None
    try:
        return Decimal(json.loads(body)["account"]["equity_peak"])
    except (ValueError, KeyError, TypeError):
        return None


def startup_text(text):
    """The log up to the 'running' line: what the restart restored."""
    i = text.find("running (paper mode")
    return text if i < 0 else text[:i]


def q8(x):
    return x.quantize(Decimal("0.00000001"), rounding=ROUND_HALF_EVEN)


def replay(fills, start=Decimal("10000")):
    """Wallet, positions and entries from the fills, oldest first, with the
    portfolio's rules (portfolio.h: average entry, realize on reductions)."""
    wallet, pos, entry, last, first = start, {}, {}, {}, {}
    for f in sorted(fills, key=lambda f: (f[8], f[9])):
        sym, qty, price, fee = f[2], dec8(f[4]), dec8(f[5]), dec8(f[6])
        signed = qty if f[3] == "BUY" else -qty
        p, e = pos.get(sym, Decimal(0)), entry.get(sym, Decimal(0))
        new, realized = p + signed, Decimal(0)
        if p == 0 or (p > 0) == (signed > 0):
            e = price if p == 0 else q8((p * e + signed * price) / new)
        else:
            closed = min(abs(signed), abs(p))
            realized = q8((price - e) * (closed if p > 0 else -closed))
            e = Decimal(0) if new == 0 else (price if (new > 0) != (p > 0) else e)
        pos[sym], entry[sym], last[sym] = new, e, price
        first.setdefault(sym, price)
        wallet += realized - fee
    return wallet, pos, entry, last, first


def valued(wallet, pos, entry, marks):
    return wallet + sum(q8((marks[s] - entry[s]) * q) for s, q in pos.items() if q)


def check_restart(i, text, prev, ess_now):
    """The restart against the store as the kill left it: the state it
    resumed (its 'resumed from' lines: the one record of the instant of the
    restart, before trading moves it) and the ESS (/api/ess)."""
    head = startup_text(text)
    m = RESUMED.search(head)
    if not check(m is not None, f"run {i}: a 'resumed from' line at start: {head[-1500:]}"):
        return
    n, k = int(m.group(1)), int(m.group(2))
    equity, peak = Decimal(m.group(4)), Decimal(m.group(5))
    fills = prev["fills"]
    check(n == len(fills), f"run {i}: resumed {n} fills, the store holds {len(fills)}")
    check(n >= prev["durable_before_kill"],
          f"run {i}: resumed {n} fills, fewer than the {prev['durable_before_kill']} durable before the kill")
    want = {s: q for s, q in fills_sum(fills).items() if q != 0}
    got = {s: int((Decimal(q) * 100000000).to_integral_value()) for s, q, _ in RESUMED_POS.findall(head)}
    check(got == want, f"run {i}: resumed positions {got} (1e-8 units) differ from the sum of stored fills {want}")
    check(k == len(want), f"run {i}: {k} open positions resumed, the fills give {len(want)}")
    # the resumed equity: the fills' wallet, open positions valued at the latest
    # price known at the kill (the last fill's price, or the stored mark)
    wallet, pos, entry, last, first = replay(fills)
    if all(s in last for s, q in pos.items() if q):
        marks = {s: last[s] for s in last}
        marks_stored = dict(marks, **{s: dec8(m) for s, m in prev["marks"].items()})
        ok = {valued(wallet, pos, entry, marks), valued(wallet, pos, entry, marks_stored)}
        check(equity in ok, f"run {i}: resumed equity {equity}; valued at the latest known prices it is "
                            f"{' or '.join(str(x) for x in sorted(ok))} (at each symbol's first fill price ever: "
                            f"{valued(wallet, pos, entry, first)})")
    if prev["equity"] is not None:
        stored_peak = dec8(prev["equity"][1])
        check(peak == max(stored_peak, equity),
              f"run {i}: resumed peak {peak}, expected max(stored peak {stored_peak}, resumed equity {equity})")
    if prev["mem_peak"] is not None:
        check(peak >= prev["mem_peak"],
              f"run {i}: the equity peak went down across the crash: {prev['mem_peak']} in memory before "
              f"the kill, {peak} after the restart (stored peak {dec8(prev['equity'][1]) if prev['equity'] else None})")
    ess = prev["ess"]
    if ess and ess["state"] != "ARMED":
        check(ess_now is not None and ess_now["state"] != "ARMED" and ess_now["tripped_at_ms"] == int(ess["tripped_at_ms"]),
              f"run {i}: the ESS was {ess['state']} at the kill; the restart must restore it: /api/ess {ess_now}")
    else:
        check(ess_now is not None and ess_now["trips"] == 0,
              f"run {i}: an ARMED ESS restored as tripped: /api/ess {ess_now}")


def main():
    rng = random.Random(SEED)
    d = tempfile.mkdtemp(prefix="qtr_crash_")
    db = os.path.join(d, "var", "qtr.db")
    ess_path = os.path.join(d, "var", "ess.state")
    port = free_port()
    pol = write(os.path.join(d, "policy.lua"), policy("50"))
    cfg = config(d, port, pol)
    prev = None
    seen_ids = set()
    tripped = None            # the ESS state file when a trip was first seen after a kill
    kills = 0
    for i in range(ITERATIONS + 1):
        final = i == ITERATIONS
        run_dir = os.path.join(d, f"run{i:02d}")
        os.makedirs(run_dir)
        s = Server(["-c", cfg], cwd=run_dir)
        if not check(wait_until(lambda: api_json(port, "/health/all"), 20, 0.05),
                     f"run {i}: the server starts: {s.text()[-2000:]}"):
            s.stop(signal.SIGKILL)
            break
        if prev is not None:
            check_restart(i, s.text(), prev, api_json(port, "/api/ess"))
        if final:
            time.sleep(1.0)
            rc = s.stop(signal.SIGTERM, timeout=20)
            check(rc == 0, f"final clean stop exits 0, got {rc}: {s.text()[-1500:]}")
            break
        wait = rng.uniform(0.3, 1.5)
        if i == TRIP_PHASE_AT:
            # mid-run, once both symbols have market data: a tiny drawdown limit trips the ESS
            time.sleep(0.3)
            write(pol, policy("0.05"))
            s.p.send_signal(signal.SIGHUP)
            check(wait_until(lambda: drawdown_trips(db), 10, 0.05), f"run {i}: the tiny drawdown limit trips the ESS: "
                  + s.text()[-1500:])
        time.sleep(wait)
        pre = store_snapshot(db)
        mem_peak = memory_peak(port)
        s.p.send_signal(signal.SIGKILL)
        s.p.wait(timeout=10)
        s.log.close()
        kills += 1
        post = store_snapshot(db)
        ids = [f[0] for f in post["fills"]]
        check(len(ids) == len(set(ids)), f"kill {kills}: a fill_id is stored twice")
        lost = {f[0] for f in pre["fills"]} - set(ids)
        check(not lost, f"kill {kills}: fills durable before the kill are gone after it: {sorted(lost)[:5]}")
        lost = seen_ids - set(ids)
        check(not lost, f"kill {kills}: fills of earlier runs are gone: {sorted(lost)[:5]}")
        seen_ids |= set(ids)
        ess = ess_state_file(ess_path)
        if tripped is not None:
            check(ess is not None and ess["state"] != "ARMED",
                  f"kill {kills}: the ESS was tripped earlier and is now {ess}")
            check(ess is not None and ess.get("tripped_at_ms") == tripped["tripped_at_ms"],
                  f"kill {kills}: the trip time changed: {tripped} -> {ess}")
        elif ess and ess["state"] != "ARMED":
            tripped = ess
        print(f"kill {kills}: {len(pre['fills'])} fills durable before, {len(ids)} after; "
              f"ESS {ess['state'] if ess else 'ARMED (no file)'}; peak in memory {mem_peak}", flush=True)
        marks = dict(store_query(db, "SELECT symbol, mark_price FROM positions"))
        prev = {"fills": post["fills"], "marks": marks, "equity": post["equity"], "ess": ess, "mem_peak": mem_peak,
                "durable_before_kill": len(pre["fills"])}

    check(kills >= 20, f"at least 20 kills, got {kills}")
    # after the final clean stop: positions are the sum of their fills
    snap = store_snapshot(db)
    sums = fills_sum(snap["fills"])
    for sym in set(sums) | set(snap["positions"]):
        check(snap["positions"].get(sym, 0) == sums.get(sym, 0),
              f"after a clean stop, position {sym} is {dec8(snap['positions'].get(sym, 0))} in the store, "
              f"the sum of its fills is {dec8(sums.get(sym, 0))}")
    # the ESS: tripped once in the second phase, and it stayed tripped
    if check(tripped is not None, "the ESS tripped during the tiny-drawdown phase (else nothing was tested)"):
        t0 = int(tripped["tripped_at_ms"])
        final_ess = ess_state_file(ess_path)
        check(final_ess and final_ess["state"] == "COOLDOWN" and final_ess["tripped_at_ms"] == tripped["tripped_at_ms"],
              f"the ESS is still in the same trip at the end: {final_ess}")
        late_fills = store_query(db, "SELECT fill_id, reduce_only FROM fills WHERE time_ms > ?", (t0,))
        check(all(r[1] == 1 for r in late_fills),
              f"only reduce-only fills after the trip: {[r for r in late_fills if r[1] != 1][:5]}")
        sent = store_query(db, "SELECT client_id, reduce_only, status, reason FROM orders WHERE created_ms > ?"
                               " AND status <> 'REJECTED'", (t0,))
        check(all(r[1] == 1 for r in sent),
              f"only reduce-only orders reached the exchange after the trip: {[r for r in sent if r[1] != 1][:5]}")
        refused_ess = store_query(db, "SELECT count(*) FROM orders WHERE status = 'REJECTED' AND reason LIKE 'ess_%'")[0][0]
        check(refused_ess > 0, "orders were refused with ess_* while tripped (the strategy kept signalling): the store")
        flat = {s: q for s, q in snap["positions"].items() if q != 0}
        check(not flat, f"a trip with close_positions = true leaves no position open, even across crashes: "
                        f"{ {s: str(dec8(q)) for s, q in flat.items()} }")



def trip_at_restart_closes_positions():
    """The ESS trips on the first candle after a restart (the restored peak is
    above the equity): close_positions must still flatten every symbol."""
    d = tempfile.mkdtemp(prefix="qtr_crash_restart_trip_")
    db = os.path.join(d, "var", "qtr.db")
    pol = write(os.path.join(d, "policy.lua"), policy("50"))
    cfg = config(d, free_port(), pol)
    os.makedirs(os.path.join(d, "run1"))
    s = Server(["-c", cfg], cwd=os.path.join(d, "run1"))
    both_open = wait_until_open(db, 20)
    s.stop(signal.SIGKILL)
    if not check(both_open, "positions open in both symbols before the restart: " + s.text()[-1500:]):
        return
    write(pol, policy("0.01"))
    os.makedirs(os.path.join(d, "run2"))
    s = Server(["-c", cfg], cwd=os.path.join(d, "run2"))
    tripped = wait_until(lambda: drawdown_trips(db), 20, 0.05)
    time.sleep(1.5)
    rc = s.stop(signal.SIGTERM, timeout=20)
    check(rc == 0, f"clean stop: {rc}")
    if not check(tripped, "the ESS trips at the restart: " + s.text()[-1500:]):
        return
    snap = store_snapshot(db)
    open_pos = {sym: str(dec8(q)) for sym, q in snap["positions"].items() if q != 0}
    refused = store_query(db, "SELECT client_id, reason FROM orders WHERE status = 'REJECTED'")
    check(not open_pos, f"a trip on the first candle after a restart closes every position (close_positions = true);"
                        f" still open: {open_pos}; exchange answers: {refused[:3]}")


def drawdown_trips(db):
    """The store's ESS trips on drawdown."""
    return store_rows(db, "SELECT reason FROM ess_transitions WHERE state = 'TRIPPED' AND reason LIKE 'drawdown %'")


def wait_until_open(db, timeout):
    """Both symbols hold a position in the store (bounded poll)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            pos = store_snapshot(db)["positions"]
            if pos.get("BTCUSDT") and pos.get("ETHUSDT"):
                return True
        except Exception:  # noqa: BLE001 - the store may not exist yet
            pass
        time.sleep(0.1)
    return False


for t in (main, trip_at_restart_closes_positions):
    print("==", t.__name__, flush=True)
    t()
finish()
