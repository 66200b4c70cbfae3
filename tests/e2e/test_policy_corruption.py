"""Policy corruption under a running server: its policy file (a copy of
policies/default.lua) is replaced in turn by a syntax error, a runtime error,
a table missing a required field, an endless loop (at load and inside
judge), a memory bomb, a binary chunk, and then deleted; after each, SIGHUP.
Each time:

  * the log says why (the reason matches the corruption) and that the last
    good policy is kept; no new version is loaded;
  * the server keeps running and trading under the last good policy (new
    fills after the failed reload), and /health/all shows the policy DEGRADED.
Finally a valid edit is loaded on SIGHUP as version 2, the health is OK again,
and the metrics count exactly one good reload and every failed one."""
import json
import os
import re
import shutil
import signal
import subprocess
import tempfile

from qtrtest import PLUGINS, SRC, Server, check, finish, free_port, http_get, metrics, wait_until, write

POLICY = os.path.join(SRC, "policies", "default.lua")
GOOD = open(POLICY).read()


def config(d, port, pol):
    return write(os.path.join(d, "fast.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 20, seed = 7 }},
  policy = {{ file = "{pol}" }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "200" }} }},
  }},
}}
""")


def binary_chunk(d):
    """A precompiled chunk of a valid policy: from luac when installed, else
    a Lua 5.4 chunk header (a loader that accepted binary would still read it)."""
    luac = shutil.which("luac5.4") or shutil.which("luac")
    out = os.path.join(d, "policy.luac")
    if luac:
        src = write(os.path.join(d, "valid_for_luac.lua"), GOOD)
        p = subprocess.run([luac, "-o", out, src], capture_output=True, timeout=30)
        if p.returncode == 0:
            return open(out, "rb").read()
    return (b"\x1bLua\x54\x00\x19\x93\r\n\x1a\n\x04\x08\x08" + (0x5678).to_bytes(8, "little")
            + bytes.fromhex("0000000000287740") + b"\x01" * 64)


# (what, file content or None to delete, a regex the error must match)
def corruptions(d):
    without_cooldown = re.sub(r"\n\s*cooldown_minutes = 15,[^\n]*", "\n", GOOD)
    assert without_cooldown != GOOD
    return [
        ("syntax error", GOOD.replace("local ess = {", "local ess = {{", 1), r"policy\.lua:\d+:"),
        ("runtime error", "local t = nil\nlocal x = t.field\n" + GOOD, r"policy\.lua:2:.*(nil|index)"),
        ("missing required field", without_cooldown, r"cooldown_minutes"),
        # an endless loop meets the instruction limit or, on a busy machine, the time limit first
        ("endless loop at load", "while true do end\n" + GOOD, r"instruction|time limit"),
        ("endless loop in judge", GOOD.replace("local function judge(order, ctx)",
                                               "local function judge(order, ctx)\n    while true do end", 1),
         r"instruction|time limit"),
        ("memory bomb", "local t, i = {}, 0\nwhile true do i = i + 1; t[i] = string.rep('x', 65536) .. i end\n" + GOOD,
         r"memory|time limit"),
        ("binary chunk", binary_chunk(d), r"binary|precompiled"),
        ("deleted file", None, r"No such file|cannot (open|read)|not found|missing"),
    ]


def policy_health(port):
    status, body = http_get(port, "/health/all", timeout=3.0)
    if status is None:
        return None
    try:
        return json.loads(body)["components"]["policy"]["status"]
    except (ValueError, KeyError, TypeError):
        return None


def active_policy(port):
    """(name, version) of the policy in force, from /api/policy."""
    status, body = http_get(port, "/api/policy", timeout=3.0)
    try:
        j = json.loads(body) if status == 200 else {}
        return j.get("name"), j.get("version")
    except ValueError:
        return None


def main():
    d = tempfile.mkdtemp(prefix="qtr_polcorrupt_")
    pol = write(os.path.join(d, "policy.lua"), GOOD)
    port = free_port()
    s = Server(["-c", config(d, port, pol)], cwd=d)
    try:
        if not check(s.wait_for("running (paper mode", 20), "the server starts: " + s.text()[-2000:]):
            return
        check(s.wait_for("version 1 sha256", 5), "policy version 1 at start")
        check(s.wait_for("[orders] fill ", 20), "the server trades before any corruption")
        check(wait_until(lambda: policy_health(port) == "OK", 10), "policy health OK at start")
        failures = 0
        for what, content, why in corruptions(d):
            kept_before = s.count("keeping the last good policy")
            fills_before = s.count("[orders] fill ")
            if content is None:
                os.remove(pol)
            elif isinstance(content, bytes):
                with open(pol, "wb") as f:
                    f.write(content)
            else:
                write(pol, content)
            s.p.send_signal(signal.SIGHUP)
            failures += 1
            refused = wait_until(lambda: s.count("keeping the last good policy") > kept_before, 15)
            if not check(refused, f"{what}: the reload is refused and the last good policy kept: {s.text()[-1500:]}"):
                continue
            lines = [l for l in s.text().splitlines() if "keeping the last good policy" in l]
            check(len(lines) == kept_before + 1, f"{what}: one refusal per SIGHUP ({len(lines)} after {kept_before})")
            check(re.search(why, lines[-1]) is not None, f"{what}: the reason names the fault ({why}): {lines[-1]}")
            check("version 2" not in s.text(), f"{what}: no new policy version was loaded")
            check(s.p.poll() is None, f"{what}: the server keeps running")
            check(active_policy(port) == ("default", 1), f"{what}: the last good policy is in force: "
                  f"{active_policy(port)}")
            check(wait_until(lambda: s.count("[orders] fill ") > fills_before, 20),
                  f"{what}: trading goes on under the last good policy")
            check(wait_until(lambda: policy_health(port) == "DEGRADED", 10),
                  f"{what}: policy health is DEGRADED after the failed load: {policy_health(port)}")
        # a valid edit loads as the next version
        write(pol, GOOD.replace('name = "default"', 'name = "default-edited"') + "\n-- a valid edit\n")
        s.p.send_signal(signal.SIGHUP)
        check(s.wait_for("version 2 sha256", 15), "a valid edit after the corruptions loads as version 2: "
              + s.text()[-1500:])
        check("version 3" not in s.text(), "failed loads did not count as versions")
        check(active_policy(port) == ("default-edited", 2), f"the edit is in force: {active_policy(port)}")
        check(wait_until(lambda: policy_health(port) == "OK", 10), f"policy health OK again: {policy_health(port)}")
        fills_before = s.count("[orders] fill ")
        check(wait_until(lambda: s.count("[orders] fill ") > fills_before, 20), "trading goes on under version 2")
        m = metrics(port) or {}
        ok_loads = m.get('qtr_policy_loads_total{result="ok"}')
        failed_loads = m.get('qtr_policy_loads_total{result="failed"}')
        check(ok_loads == 2, f"2 good loads counted: {ok_loads}")
        check(failed_loads == failures, f"{failures} failed loads counted: {failed_loads}")
        check(s.p.poll() is None, "the server is still running")
    finally:
        rc = s.stop(signal.SIGTERM, timeout=20)
    check(rc == 0, f"clean stop after the corruptions: {rc}")


main()
finish()
