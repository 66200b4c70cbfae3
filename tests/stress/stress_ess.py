"""Stress scenario 1, the ESS: every trip condition, the reset refusals, force,
and restarts that keep the state, on the real `qtr run` (fast paper runs on
20 ms synthetic candles) driven through `qtr ess` and the HTTP API.

  * drawdown: a policy with max_drawdown_pct 0.01 trips on the first losses,
    "drawdown X% >= 0.01%"; a reset without a reason is refused (by the CLI
    and by the server); a reset during the cooldown is refused ("cooldown
    runs"); kill -9 while tripped, and the restart comes back TRIPPED with
    the same reason; with the cooldown over (its end moved to the past in the
    saved state, as a minute passing would) a reset is refused because the
    condition still holds ("trip condition still holds: drawdown"); --force
    re-arms, and the drawdown, still there, trips it again on the next
    equity update;
  * daily loss: daily_loss_pct 0.01 with a wide drawdown limit trips with
    "daily_loss X% >= 0.01%";
  * N consecutive exchange errors: an exchange that refuses every order
    (exchange_refusing.c, built here) trips with "exchange_errors 3 in a row"
    after exactly 3 refused orders;
  * manual: `qtr ess trip --reason` trips "manual: <reason>" by the user,
    entries are refused from then on (qtr_orders_total{result="rejected_ess"}
    grows while no order is sent), force re-arms and trading resumes;
    a second trip and kill -9: the restart is TRIPPED with the manual reason
    and the trip count kept;
  * store failure: the server runs under a file size limit (RLIMIT_FSIZE,
    SIGXFSZ ignored) that the trade store's files soon reach; the failing
    writes trip the ESS with "host: trade store failing: nothing can be
    recorded".
Every transition is also in the ESS state file.

The long form (QTR_STRESS_LONG=1, `stress_ess_long`, label long) runs the five
parts again and again for LONG_S seconds (QTR_STRESS_LONG_SECONDS, 240), each
round on another seed of the synthetic market (printed; QTR_STRESS_SEED=<seed>
reruns), every criterion in every round, and prints each round's time and
trip reasons."""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request

from stresslib import LONG, build_test_plugin, long_seconds, permissive_policy, run_rounds  # noqa: E402  (first: puts qtrtest on the path)
from qtrtest import (PLUGINS, QTR, Server, check, ess_state_file, finish, free_port, http_get,  # noqa: E402
                     metrics, wait_until, write)
import qtrtest  # noqa: E402

TOKEN = "stress-ess-token-0123456789"
ENV = dict(os.environ, QTR_API_TOKEN=TOKEN)
TRIP_BOUND_S = 30
MARKET_SEED = [7]          # the synthetic market's seed: 7 in the quick tier, one per round in the long form
LONG_S = long_seconds(240)


def policy(d, max_drawdown="90", daily_loss="90", errors=5):
    return permissive_policy(d, max_drawdown, daily_loss, errors, cooldown_minutes=1, close_positions=True)


def config(d, port, pol, exchange='{ kind = "exchange", name = "paper" }'):
    return write(os.path.join(d, "ess.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT" }}, interval_ms = 20, seed = {MARKET_SEED[0]} }},
  policy = {{ file = "{pol}" }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {exchange},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "dashboard", name = "dashboard", file = "{PLUGINS}/dashboard_web.so",
       options = {{ listen = "127.0.0.1:{port}" }} }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "2000" }} }},
  }},
}}
""")


def ess(port):
    status, body = http_get(port, "/api/ess", timeout=3.0)
    try:
        return json.loads(body) if status == 200 else {}
    except ValueError:
        return {}


def cli(port, *args):
    p = subprocess.run([QTR, "ess", *args, "--url", f"http://127.0.0.1:{port}", "--user", "stress"],
                       capture_output=True, text=True, timeout=30, env=ENV)
    return p.returncode, p.stdout + p.stderr


def post(port, path, payload):
    req = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=json.dumps(payload).encode(), method="POST",
                                 headers={"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def start(d, port, cfg):
    s = Server(["-c", cfg], cwd=d, env=ENV)
    if not check(s.wait_for("running (paper mode", 20), f"the server starts: {s.text()[-2000:]}"):
        s.stop(signal.SIGKILL)
        return None
    return s


def open_positions(port):
    status, body = http_get(port, "/api/status", timeout=3.0)
    try:
        return json.loads(body)["open_positions"] if status == 200 else None
    except (ValueError, KeyError):
        return None


def forced_armed(rc, out, resets):
    """The reset's own answer says ARMED (a condition that still holds may
    trip it again a moment later, so /api/ess is not asked)."""
    try:
        st = json.loads(out[out.index("{"):])["ess"]
    except (ValueError, KeyError):
        return False
    return rc == 0 and st["state"] == "ARMED" and st["resets"] == resets and st["consecutive_exchange_errors"] == 0


def wait_tripped(s, port, reason_re, what):
    def tripped_or_dead():
        if s.p.poll() is not None:
            return True
        st = ess(port)
        return st.get("state") not in (None, "ARMED") and re.search(reason_re, st.get("trip_reason") or "")
    wait_until(tripped_or_dead, TRIP_BOUND_S, 0.1)
    if not check(s.p.poll() is None, f"{what}: the server is still running (exit status {s.p.poll()}): "
                 f"{s.text()[-1500:]}"):
        return False
    st = ess(port)
    print(f"{what}: {st.get('state')} '{st.get('trip_reason')}'", flush=True)
    return check(st.get("state") not in (None, "ARMED") and re.search(reason_re, st.get("trip_reason") or ""),
                 f"{what}: the ESS trips with /{reason_re}/: {st} {s.text()[-1500:]}")


def scenario_drawdown():
    d = tempfile.mkdtemp(prefix="qtr_ess_dd_")
    port = free_port()
    # whole fills (max_volume_share 1): no partly filled order is open when
    # the trip cancels; scenario_daily_loss trips with them open
    cfg = config(d, port, policy(d, max_drawdown="0.01"),
                 '{ kind = "exchange", name = "paper", options = { max_volume_share = "1" } }')
    s = start(d, port, cfg)
    if not s:
        return
    try:
        if not wait_tripped(s, port, r"^drawdown [0-9.]+% >= 0\.01%$", "drawdown"):
            return
        reason = ess(port)["trip_reason"]
        rc, out = cli(port, "reset")
        print(f"reset without --reason: exit {rc}: {out.strip()}", flush=True)
        check(rc != 0 and "--reason" in out, f"the CLI refuses a reset without a reason: {rc} {out}")
        code, body = post(port, "/api/ess/reset", {"user": "stress"})
        print(f"POST /api/ess/reset without a reason: {code} {body.strip()}", flush=True)
        check(code == 400 and "reason" in body, f"the server refuses a reset without a reason (400): {code} {body}")
        rc, out = cli(port, "reset", "--reason", "too early")
        print(f"reset in the cooldown: exit {rc}: {out.strip()}", flush=True)
        check(rc == 1 and "cooldown" in out, f"a reset during the cooldown is refused (exit 1): {rc} {out}")
        check(ess(port).get("state") != "ARMED", "still tripped after the refusals")
        # the trip closes the positions: once flat, equity stays below the peak
        check(wait_until(lambda: open_positions(port) == 0, 20, 0.1),
              f"the trip closes every position: {open_positions(port)} open")
        s.stop(signal.SIGKILL)
        # a minute passes: the saved cooldown ends in the past
        path = os.path.join(d, "var", "ess.state")
        saved = ess_state_file(path) or {}
        check(saved.get("state") in ("TRIPPED", "COOLDOWN") and saved.get("trip_reason") == reason,
              f"the tripped state is saved: {saved}")
        text = open(path).read()
        text = re.sub(r"(?m)^cooldown_until_ms=\d+$", f"cooldown_until_ms={int(time.time() * 1000) - 1000}", text)
        write(path, text)
        s = start(d, port, cfg)
        if not s:
            return
        st = ess(port)
        print(f"after kill -9 and restart: {st.get('state')} '{st.get('trip_reason')}'", flush=True)
        check(st.get("state") != "ARMED" and st.get("trip_reason") == reason,
              f"the restart comes back tripped with the same reason: {st}")
        rc, out = cli(port, "reset", "--reason", "looks fine")
        print(f"reset with the drawdown still there: exit {rc}: {out.strip()}", flush=True)
        check(rc == 1 and "trip condition still holds: drawdown" in out,
              f"a reset is refused while the drawdown holds: {rc} {out}")
        rc, out = cli(port, "reset", "--reason", "checked by hand", "--force")
        print(f"forced reset: exit {rc}: {out.strip()}", flush=True)
        check(forced_armed(rc, out, resets=1), f"--force re-arms: {rc} {out}")
        # the drawdown from the old peak still holds: the next equity update trips again
        check(wait_tripped(s, port, r"^drawdown [0-9.]+% >= 0\.01%$", "drawdown after the forced reset"),
              "a forced reset while the drawdown holds trips again on the next update")
    finally:
        s.stop(signal.SIGTERM)


def scenario_daily_loss():
    """With the paper exchange's defaults, market orders fill over several
    candles, so the trip (inside a fill) cancels orders that are still open."""
    d = tempfile.mkdtemp(prefix="qtr_ess_daily_")
    port = free_port()
    s = start(d, port, config(d, port, policy(d, daily_loss="0.01")))
    if not s:
        return
    try:
        wait_tripped(s, port, r"^daily_loss [0-9.]+% >= 0\.01%$", "daily loss")
    finally:
        s.stop(signal.SIGTERM)


def scenario_exchange_errors():
    d = tempfile.mkdtemp(prefix="qtr_ess_errors_")
    so = build_test_plugin(d, "exchange_refusing.c")
    if not so:
        return
    port = free_port()
    cfg = config(d, port, policy(d, errors=3), f'{{ kind = "exchange", name = "refusing", file = "{so}" }}')
    s = start(d, port, cfg)
    if not s:
        return
    try:
        if wait_tripped(s, port, r"^exchange_errors 3 in a row$", "exchange errors"):
            refused = re.findall(r"refusing order \S+ \((\d+) refused\)", s.text())
            check(refused[:3] == ["1", "2", "3"], f"the trip came on the 3rd refused order: {refused[:5]}")
            rc, out = cli(port, "reset", "--reason", "exchange back", "--force")
            check(forced_armed(rc, out, resets=1), f"--force re-arms (the error count from 0): {rc} {out}")
    finally:
        s.stop(signal.SIGTERM)


def orders(port):
    """(orders sent, orders refused by the ESS) from /metrics."""
    m = metrics(port) or {}
    return m.get('qtr_orders_total{result="sent"}', 0), m.get('qtr_orders_total{result="rejected_ess"}', 0)


def scenario_manual():
    d = tempfile.mkdtemp(prefix="qtr_ess_manual_")
    port = free_port()
    cfg = config(d, port, policy(d))
    s = start(d, port, cfg)
    if not s:
        return
    try:
        check(s.wait_for("[orders] fill ", 20), "the server trades before the trip")
        rc, out = cli(port, "trip", "--reason", "feed looks wrong")
        st = ess(port)
        print(f"manual trip: exit {rc}; {st.get('state')} '{st.get('trip_reason')}'", flush=True)
        check(rc == 0 and st.get("state") != "ARMED" and st.get("trip_reason") == "manual: feed looks wrong",
              f"qtr ess trip trips with the reason: {rc} {out} {st}")
        check(s.wait_for("TRIPPED: manual: feed looks wrong by stress", 5), "the log names the reason and the user")
        m0 = orders(port)
        rejected = wait_until(lambda: orders(port)[1] > m0[1], 20, 0.2)
        m1 = orders(port)
        print(f"while tripped: orders sent {m0[0]} -> {m1[0]}, rejected_ess {m0[1]} -> {m1[1]}", flush=True)
        check(rejected, "entries are refused by the ESS while tripped")
        check(m1[0] == m0[0], f"no order is sent while tripped: {m0[0]} -> {m1[0]}")
        rc, out = cli(port, "reset", "--reason", "feed fixed", "--force")
        check(forced_armed(rc, out, resets=1) and ess(port).get("state") == "ARMED", f"--force re-arms: {rc} {out}")
        sent = orders(port)[0]
        check(wait_until(lambda: orders(port)[0] > sent, 20, 0.2), "trading resumes after the reset")
        rc, out = cli(port, "trip", "--reason", "second stop")
        trips = ess(port).get("trips")
        check(rc == 0 and ess(port).get("state") != "ARMED", f"a second trip: {rc} {out}")
        s.stop(signal.SIGKILL)
        s = start(d, port, cfg)
        if not s:
            return
        st = ess(port)
        print(f"after kill -9 and restart: {st.get('state')} '{st.get('trip_reason')}' trips {st.get('trips')}",
              flush=True)
        check(st.get("state") != "ARMED" and st.get("trip_reason") == "manual: second stop" and st.get("trips") == trips,
              f"the restart comes back tripped with the reason and count ({trips}): {st}")
    finally:
        s.stop(signal.SIGTERM)


FSIZE_LIMIT = 1 << 20


def start_with_file_size_limit(cfg, d):
    """qtr run under RLIMIT_FSIZE with SIGXFSZ ignored, so that a write past
    the limit fails with EFBIG. subprocess puts SIGXFSZ back to its default in
    the child, so a small exec wrapper sets both (both survive the exec)."""
    wrapper = write(os.path.join(d, "qtr-fsize"), f"""#!{sys.executable}
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, ({FSIZE_LIMIT}, {FSIZE_LIMIT}))
os.execv({QTR!r}, [{QTR!r}] + sys.argv[1:])
""")
    os.chmod(wrapper, 0o755)
    real = qtrtest.QTR
    qtrtest.QTR = wrapper          # Server starts qtrtest.QTR
    try:
        return Server(["-c", cfg], cwd=d, env=ENV)
    finally:
        qtrtest.QTR = real


def scenario_store_failure():
    d = tempfile.mkdtemp(prefix="qtr_ess_store_")
    port = free_port()
    cfg = config(d, port, policy(d))
    s = start_with_file_size_limit(cfg, d)
    try:
        if not check(s.wait_for("running (paper mode", 20), f"the server starts: {s.text()[-2000:]}"):
            return
        if wait_tripped(s, port, r"^host: trade store failing: nothing can be recorded$", "store failure"):
            check("the trade store cannot record" in s.text(), "the log says the store cannot record")
            check(s.p.poll() is None, "the server keeps running (tripped) with the store failing")
    finally:
        s.stop(signal.SIGTERM)


if __name__ == "__main__":
    print("criteria: each trip condition trips with its reason; a reset is refused without a reason, in the "
          "cooldown and while the condition holds; --force re-arms; kill -9 while tripped comes back tripped with "
          f"the reason; every trip within {TRIP_BOUND_S} s", flush=True)
    t_start = time.monotonic()
    parts = (scenario_drawdown, scenario_daily_loss, scenario_exchange_errors, scenario_manual, scenario_store_failure)

    def one_round(_, seed):
        MARKET_SEED[0] = seed
        took = []
        for part in parts:
            t = time.monotonic()
            part()
            took.append(f"{part.__name__[len('scenario_'):]} {time.monotonic() - t:.1f} s")
            print(f"{part.__name__} took {time.monotonic() - t:.1f} s", flush=True)
        return ", ".join(took)
    if LONG:
        print(f"ran: the five parts again and again for {LONG_S} s, a market seed per round", flush=True)
        run_rounds("stress_ess", one_round, LONG_S)
    else:
        one_round(0, MARKET_SEED[0])
    print(f"stress_ess took {time.monotonic() - t_start:.1f} s", flush=True)
    finish()
