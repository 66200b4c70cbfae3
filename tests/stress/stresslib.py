"""What the stress scenarios share beyond tests/e2e/qtrtest.py (which this
puts on the import path): test plugins built from one C file, a permissive
policy."""
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "e2e"))

from qtrtest import PLUGINS, SRC, check, write  # noqa: E402


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
