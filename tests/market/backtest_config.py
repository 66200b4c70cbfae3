"""A backtest config for tests: the paper exchange, a policy with wide limits
and the given judge() body, and ma_cross. Shared by tests/market and
tests/report."""
import os

from qtrtest import PLUGINS, write


def backtest_config(d, paper_options, symbols, fast, slow, notional, judge='return "allow"', strategy=None):
    """strategy: another strategy plugin entry (Lua text) in place of ma_cross."""
    policy = write(os.path.join(d, "policy.lua"), f"""
return {{
  name = "test_policy",
  limits = {{ max_positions = 10, max_symbols = 10, min_confidence = 0,
             max_position_notional = "100000", max_order_notional = "100000",
             max_total_exposure = "1000000", max_leverage = 100 }},
  ess = {{ max_drawdown_pct = "90", daily_loss_pct = "90", max_consecutive_errors = 5,
          cooldown_minutes = 15, close_positions = false, alert_daily_drawdown_pct = "50" }},
  judge = function(order, ctx) {judge} end,
}}
""")
    syms = ", ".join(f'"{s}"' for s in symbols)
    strategy = strategy or (f'{{ kind = "strategy", name = "ma_cross", options = {{ symbols = {{ {syms} }}, '
                            f'fast = {fast}, slow = {slow}, order_notional = "{notional}" }} }}')
    return write(os.path.join(d, "bt.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  account = {{ starting_balance = "10000" }},
  policy = {{ file = "{policy}" }},
  store = false,
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ {paper_options} }} }},
    {{ kind = "risk", name = "policy" }},
    {strategy},
  }},
}}
""")
