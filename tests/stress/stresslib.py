"""What the stress scenarios share beyond tests/e2e/qtrtest.py (which this
puts on the import path): test plugins built from one C file, a permissive
policy."""
import os
import random
import subprocess
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

import qtrtest  # noqa: E402
from qtrtest import PLUGINS, SRC, check, write  # noqa: E402

# The long tier (ctest label long) runs a scenario's long form: QTR_STRESS_LONG=1.
LONG = os.environ.get("QTR_STRESS_LONG") == "1"


def permissive_policy(d, max_drawdown="90", daily_loss="90", errors=5, cooldown_minutes=60, close_positions=False):
    """A policy that allows every order (limits far away), with the ESS
    thresholds given; written to d/policy.lua."""
    return write(os.path.join(d, "policy.lua"), f"""
return {{
  name = "stress",
  limits = {{ max_positions = 10, max_symbols = 10, min_confidence = 0,
             max_position_notional = "100000000", max_order_notional = "100000000",
             max_total_exposure = "100000000", max_leverage = 100 }},
  ess = {{ max_drawdown_pct = "{max_drawdown}", daily_loss_pct = "{daily_loss}", max_consecutive_errors = {errors},
          cooldown_minutes = {cooldown_minutes}, close_positions = {str(close_positions).lower()},
          alert_daily_drawdown_pct = "80" }},
  judge = function(order, ctx) return "allow" end,
}}
""")


def build_test_plugin(d, source):
    """tests/stress/<source> built with one cc line against sdk/include, as
    a plugin author would; the .so path, or None (a failed check) if it does
    not build."""
    so = os.path.join(d, os.path.splitext(source)[0] + ".so")
    p = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c17", "-fPIC", "-fvisibility=hidden",
                        "-shared", "-I", os.path.join(SRC, "sdk", "include"), os.path.join(HERE, source), "-o", so],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"{source} builds: {p.stderr}")
    return so if p.returncode == 0 else None


def flood_run_config(d, port, so, interval_ms, per_cycle, flood_options, dashboard_options="", max_age_ms=5000):
    """A paper run (store off: its write ring's pages, touched as it turns,
    would read as memory growth) on BTCUSDT candles every interval_ms, driven
    by strategy_flood (`so`) with flood_options (Lua table fields), the
    dashboard on 127.0.0.1:port with dashboard_options; the queue holds 100
    signals, passes per_cycle per 100 ms and drops those older than
    max_age_ms."""
    pol = permissive_policy(d)
    return write(os.path.join(d, "flood.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  store = false,
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT" }}, interval_ms = {interval_ms}, seed = 3,
             start_price = "100" }},
  policy = {{ file = "{pol}" }},
  signals = {{ capacity = 100, per_cycle = {per_cycle}, max_age_ms = {max_age_ms}, cycle_ms = 100 }},
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ max_volume_share = "1" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}"{dashboard_options} }} }},
    {{ kind = "strategy", name = "flood", file = "{so}", options = {{ symbol = "BTCUSDT", {flood_options} }} }},
  }},
}}
""")


def memory_kb(pid):
    """A process's resident memory by kind, in kB: {'anon': RssAnon, 'file': RssFile, 'shmem': RssShmem}
    (None if gone). RssAnon is what the process allocated (heap, stacks): what a leak or an unbounded
    queue grows. RssFile is its binary's and libraries' pages, faulted in as code runs and given back
    under memory pressure: it moves with the machine's load, not with the process."""
    kinds = {"RssAnon:": "anon", "RssFile:": "file", "RssShmem:": "shmem"}
    out = {}
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k = line.split(None, 1)[0] if line.strip() else ""
                if k in kinds:
                    out[kinds[k]] = int(line.split()[1])
    except OSError:
        return None
    return out if len(out) == 3 else None


def seed_base():
    """The run's seed: QTR_STRESS_SEED, or a random one; printed, so a run can be repeated."""
    base = int(os.environ.get("QTR_STRESS_SEED", "0")) or random.randrange(1, 1 << 30)
    print(f"seed {base} (QTR_STRESS_SEED={base} reruns)", flush=True)
    return base


def long_seconds(default):
    """How long a long form runs its rounds: QTR_STRESS_LONG_SECONDS, else default."""
    return int(os.environ.get("QTR_STRESS_LONG_SECONDS", default))


def run_rounds(name, one_round, seconds, min_rounds=2, max_rounds=200):
    """A long form: one_round(index, seed) again and again, each round with its own seed (the run's
    seed + index), until `seconds` have passed and at least min_rounds ran (at most max_rounds).
    Stops after a round with a failed check. Prints each round's time and the figures one_round
    returns (a short string), then them all; returns the number of rounds."""
    base = seed_base()
    t0 = time.monotonic()
    lines = []
    r = 0
    while r < max_rounds and (r < min_rounds or time.monotonic() - t0 < seconds):
        failed_before = len(qtrtest.failures)
        t = time.monotonic()
        print(f"== {name} round {r + 1}, seed {base + r}", flush=True)
        fig = one_round(r, base + r)
        lines.append(f"round {r + 1} seed {base + r}: {time.monotonic() - t:.1f} s; {fig or 'stopped early'}")
        print(lines[-1], flush=True)
        r += 1
        if len(qtrtest.failures) > failed_before:
            print(f"{name}: round {r} failed; no more rounds", flush=True)
            break
    print(f"{name}: {r} rounds in {time.monotonic() - t0:.0f} s\n  " + "\n  ".join(lines), flush=True)
    return r


BIG_MAPPING_KB = 65536      # larger than any malloc arena (64 MiB): only a single huge allocation


def anon_outside_big_kb(pid):
    """RssAnon less the anonymous pages of mappings over 64 MiB (kB; None if gone). Such a mapping is
    one preallocated allocation, in the server the trade store's write ring (a ~65 MiB calloc) whose
    pages are first touched as the ring turns: RssAnon grows ~170 kB/s with it on a trading server,
    which is not a leak. Heap, arenas (at most 64 MiB each) and stacks are all counted."""
    mem = memory_kb(pid)
    if mem is None:
        return None
    big = 0
    size = 0
    try:
        with open(f"/proc/{pid}/smaps") as f:
            for line in f:
                if line.startswith("Size:"):
                    size = int(line.split()[1])
                elif line.startswith("Anonymous:") and size > BIG_MAPPING_KB:
                    big += int(line.split()[1])
    except OSError:
        return None
    return mem["anon"] - big


class RssSampler(threading.Thread):
    """RssAnon of a process (memory_kb; with outside_big, anon_outside_big_kb) every `every` s until
    stop(), each sample tagged with what tag() returns then (a round number): samples
    [(seconds, tag, kB)]."""

    def __init__(self, pid, tag, every=0.5, outside_big=False):
        super().__init__(daemon=True)
        self.pid, self.tag, self.every, self.outside_big = pid, tag, every, outside_big
        self.samples = []
        self.done = threading.Event()
        self.t0 = time.monotonic()
        self.start()

    def run(self):
        while not self.done.is_set():
            tag = self.tag()
            if self.outside_big:
                kb = anon_outside_big_kb(self.pid)
            else:
                mem = memory_kb(self.pid)
                kb = mem and mem["anon"]
            if kb is None:
                return
            self.samples.append((time.monotonic() - self.t0, tag, kb))
            self.done.wait(self.every)

    def stop(self):
        self.done.set()
        self.join(timeout=5)

    def by_tag(self, pick=max):
        """{tag: the largest (or with pick=min, the smallest) kB sampled with that tag}."""
        out = {}
        for _, tag, kb in self.samples:
            out[tag] = pick(out[tag], kb) if tag in out else kb
        return out
