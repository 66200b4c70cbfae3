"""Signal flood: a strategy (strategy_flood.c, built here with one cc line
against sdk/include) submits 50 signals on every 20 ms candle, about 25 times
what the queue passes on (10 per 100 ms cycle). Over the bounded run:

  * the server's resident memory (VmRSS) stays flat: after a warm-up, the
    largest sample of the second half is within a few MB of the first sample;
  * every signal is accounted for: the strategy's own count equals the host's
    qtr_signals_total, which equals the orders it made plus the drops counted
    in qtr_signal_drops_total (queue drained at the end), and drops happened;
  * the signals taken are the highest-confidence ones. A signal's quantity
    encodes its rank k (confidence 0.50 + k/100, qty (k+1) * 0.001), and the
    orders that reached the paper exchange carry those quantities: every one
    is in the top 10 ranks, and every rank-49 signal (confidence 0.99) was
    taken, none lost to the flood.

The trade store is off (store = false): its write ring is one 43 MB calloc
whose pages are touched as the ring turns, which would read as growth here;
the store has its own tests."""
import os
import re
import signal
import subprocess
import tempfile
import time

from qtrtest import (PLUGINS, SRC, Server, check, finish, free_port, metrics, rss_kb, wait_until, write)

CANDLES = 1500              # 20 ms each: a 30 s flood
PER_CANDLE = 50
INTERVAL_MS = 20
RSS_SLACK_KB = 4096
FILL = re.compile(r"\[orders\] fill \S+ BTCUSDT (BUY|SELL) ([0-9.]+) @ \S+ fee \S+ \(order (\S+)\)")


def build_plugin(d):
    so = os.path.join(d, "strategy_flood.so")
    cmd = ["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c17", "-fPIC", "-fvisibility=hidden", "-shared",
           "-I", os.path.join(SRC, "sdk", "include"), os.path.join(os.path.dirname(__file__), "strategy_flood.c"),
           "-o", so]
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"the flood strategy builds: {p.stderr}")
    return so if p.returncode == 0 else None


def config(d, port, so):
    pol = write(os.path.join(d, "policy.lua"), """
return {
  name = "flood",
  limits = { max_positions = 10, max_symbols = 10, min_confidence = 0,
             max_position_notional = "1000000", max_order_notional = "1000000",
             max_total_exposure = "10000000", max_leverage = 100 },
  ess = { max_drawdown_pct = "90", daily_loss_pct = "90", max_consecutive_errors = 5,
          cooldown_minutes = 60, close_positions = false, alert_daily_drawdown_pct = "80" },
  judge = function(order, ctx) return "allow" end,
}
""")
    return write(os.path.join(d, "flood.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  store = false,
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT" }}, interval_ms = {INTERVAL_MS}, seed = 3,
             start_price = "100" }},
  policy = {{ file = "{pol}" }},
  signals = {{ capacity = 100, per_cycle = 10, max_age_ms = 5000, cycle_ms = 100 }},
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ max_volume_share = "1" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "flood", file = "{so}",
       options = {{ symbol = "BTCUSDT", candles = {CANDLES}, per_candle = {PER_CANDLE} }} }},
  }},
}}
""")


def main():
    d = tempfile.mkdtemp(prefix="qtr_flood_")
    so = build_plugin(d)
    if not so:
        return
    port = free_port()
    s = Server(["-c", config(d, port, so)], cwd=d)
    try:
        if not check(s.wait_for("running (paper mode", 20), "the server starts: " + s.text()[-2000:]):
            return
        samples = []                          # (seconds since running, kB)
        t0 = time.monotonic()
        deadline = t0 + CANDLES * INTERVAL_MS / 1000 * 2.5 + 10
        while time.monotonic() < deadline and s.p.poll() is None and "flood done" not in s.text():
            kb = rss_kb(s.p.pid)
            if kb:
                samples.append((time.monotonic() - t0, kb))
            time.sleep(0.25)
        if not check("flood done" in s.text(), "the flood finishes within the bound: " + s.text()[-2000:]):
            return
        # memory: flat after warm-up
        flood_s = samples[-1][0] if samples else 0
        warm = [kb for t, kb in samples if t >= flood_s * 0.2]
        if check(len(warm) >= 20, f"enough RSS samples: {len(warm)}"):
            base = warm[0]
            second_half = [kb for t, kb in samples if t >= flood_s * 0.5]
            top = max(second_half)
            print(f"RSS: first {samples[0][1]} kB, after warm-up {base} kB, max of the second half {top} kB, "
                  f"{len(samples)} samples over {flood_s:.1f} s", flush=True)
            check(top - base <= RSS_SLACK_KB,
                  f"resident memory stays flat under the flood: {base} kB after warm-up, up to {top} kB later")
        # the queue drains (10 per cycle, stale ones dropped), then the counts are final
        def drained():
            m = metrics(port)
            return m if m and m.get("qtr_signal_queue_depth") == 0 else None
        m1 = wait_until(drained, 15, 0.2)
        time.sleep(0.5)
        m = metrics(port)
        if not check(m1 is not None and m is not None, "metrics readable and the signal queue drains"):
            return
        emitted = m.get("qtr_flood_signals_emitted_total")
        check(emitted == CANDLES * PER_CANDLE, f"the strategy emitted {emitted}, expected {CANDLES * PER_CANDLE}")
        check(m.get("qtr_signals_total") == emitted,
              f"the host counted {m.get('qtr_signals_total')} signals, the strategy sent {emitted}")
        drops = {r: m.get(f'qtr_signal_drops_total{{reason="{r}"}}', -1) for r in ("full", "replaced", "stale", "invalid")}
        orders = {r: m.get(f'qtr_orders_total{{result="{r}"}}', -1)
                  for r in ("sent", "rejected_ess", "rejected_risk", "rejected_invalid", "rejected_exchange")}
        taken = sum(orders.values())
        print(f"signals {emitted}: orders {orders}, drops {drops}, depth {m.get('qtr_signal_queue_depth')}", flush=True)
        check(all(v >= 0 for v in list(drops.values()) + list(orders.values())), "every counter is exported")
        check(emitted == taken + sum(drops.values()) + m.get("qtr_signal_queue_depth", 0),
              f"every signal is accounted for: {emitted} = {taken} taken + {sum(drops.values())} dropped")
        check(drops["full"] + drops["replaced"] >= emitted // 2, f"the flood overflowed the queue: {drops}")
        check(drops["invalid"] == 0, "no signal was invalid")
        check(orders["sent"] == taken, f"every taken signal became an order at the exchange: {orders}")
        # the orders that reached the exchange: their quantity tells their rank
        by_order = {}
        for side, qty, cid in FILL.findall(s.text()):
            q, sd = by_order.get(cid, (0, side))
            by_order[cid] = (q + round(float(qty) * 1000), sd)
        check(len(by_order) == orders["sent"], f"{len(by_order)} orders filled, {orders['sent']} sent")
        ranks = {}
        bad = []
        for cid, (q, side) in by_order.items():
            k = q - 1
            if not (0 <= k < PER_CANDLE) or side != ("SELL" if k % 2 else "BUY"):
                bad.append((cid, q, side))
            ranks[k] = ranks.get(k, 0) + 1
        check(not bad, f"every order carries a signal's quantity and side: {bad[:5]}")
        print("orders by rank:", dict(sorted(ranks.items(), reverse=True)), flush=True)
        low = {k: n for k, n in ranks.items() if k < PER_CANDLE - 10}
        check(not low, f"only top-10 ranks reach the exchange (confidence >= 0.90): lower ones {low}")
        check(ranks.get(PER_CANDLE - 1, 0) == CANDLES,
              f"every confidence-0.99 signal was taken: {ranks.get(PER_CANDLE - 1, 0)} of {CANDLES}")
    finally:
        rc = s.stop(signal.SIGTERM, timeout=20)
    check(rc == 0, f"clean stop after the flood: {rc}")


main()
finish()
