"""What the end-to-end tests on the Binance mock (test_binance_*.py) share:
the API key pair the mock and the server both get, a test strategy built
from tests/e2e/<name>.c, and the live config those tests run (binance_usdm
on the mock, the policy, the dashboard on a given port, one strategy)."""
import os
import subprocess
from decimal import Decimal

from qtrtest import SRC, binance_live_config, check, write

KEY = "e2e-key-0123456789abcdef"
SECRET = "e2e-secret-fedcba9876543210"


def binance_env(**extra):
    """The environment the server reads the API key pair from (plus extra variables)."""
    return dict(os.environ, QTR_BINANCE_API_KEY=KEY, QTR_BINANCE_API_SECRET=SECRET, **extra)


def mock_position(st, symbol="BTCUSDT"):
    """The position the mock's state (BinanceMock.state()) holds for symbol."""
    return Decimal(st["positions"][symbol]["amt"])


def build_test_strategy(d, name):
    """tests/e2e/<name>.c built against the SDK headers into d/<name>.so."""
    so = os.path.join(d, f"{name}.so")
    p = subprocess.run(["cc", "-O2", "-Wall", "-Wextra", "-Werror", "-std=c17", "-fPIC", "-fvisibility=hidden",
                        "-shared", "-I", os.path.join(SRC, "sdk", "include"),
                        os.path.join(os.path.dirname(os.path.abspath(__file__)), f"{name}.c"), "-o", so],
                       capture_output=True, text=True, timeout=120)
    check(p.returncode == 0, f"{name} builds: {p.stderr}")
    return so


def mock_live_config(d, file_name, base, port, so, name, strategy_options, policy=None):
    """d/file_name: live on the mock at base with REST polling fast enough for a
    test, the dashboard on port and the strategy so as name with
    strategy_options (the Lua text inside its options table); policy: another
    policy file than policies/default.lua."""
    path = binance_live_config(
        os.path.join(d, file_name), d,
        f'base_url = "{base}", symbols = {{ "BTCUSDT" }}, mark_poll_ms = 200, poll_interval_ms = 100, '
        f'retry_backoff_ms = "50,100,200", timeout_ms = 30000',
        f'{{ kind = "dashboard", name = "dashboard", file = "dashboard_web.so", '
        f'options = {{ listen = "127.0.0.1:{port}" }} }},\n'
        f'    {{ kind = "strategy", name = "{name}", file = "{so}", options = {{ {strategy_options} }} }},')
    if policy:
        default = f'policy = {{ file = "{SRC}/policies/default.lua" }}'
        with open(path) as f:
            text = f.read()
        check(default in text, f"the config names the default policy: {text}")
        write(path, text.replace(default, f'policy = {{ file = "{policy}" }}'))
    return path


def default_policy_with(d, old, new):
    """d/policy.lua: policies/default.lua with the text old replaced by new (which must be there)."""
    with open(os.path.join(SRC, "policies", "default.lua")) as f:
        text = f.read()
    check(old in text, f"policies/default.lua has {old!r}")
    return write(os.path.join(d, "policy.lua"), text.replace(old, new))
