"""Stress scenario 7, hostile policies: they cannot freeze the server.

* `qtr policy check` on policies whose judge() would run for hours (string.rep
  in a loop, pattern matches, table growth, deep recursion, string growth)
  finishes at once with exit 2 and the file and reason.
* A running `qtr run` whose policy is swapped (SIGHUP) for each of them in turn,
  doing the work only on live orders (so it passes the load's self-test): /health/all keeps
  answering within a bound the whole time, each order is refused with
  policy_timeout, qtr_policy_timeouts_total counts them, an alert is stored, and
  after 3 overruns the last good policy is back and the server trades again.
* The same hostile policy as the first one loaded: after 3 overruns no policy
  is left and the ESS trips.

The long form (QTR_STRESS_LONG=1, `stress_policy_hostile_long`, label long)
runs the three parts again and again for LONG_S seconds
(QTR_STRESS_LONG_SECONDS, 240), the hostile judges in a random order each
round (seed printed; QTR_STRESS_SEED=<seed> reruns), every criterion in every
round."""
import os
import random
import signal
import tempfile
import threading
import time

from stresslib import LONG, long_seconds, run_rounds  # noqa: E402  (first: puts qtrtest on the path)
from qtrtest import (SRC, Server, check, fast_run_config, finish, free_port, http_get, metrics, run,  # noqa: E402
                     store_query, wait_until, write)

GOOD = open(os.path.join(SRC, "policies", "default.lua")).read()
JUDGE = "local function judge(order, ctx)\n"

# Each would run for minutes to hours inside one judge() call without a deadline.
HOSTILE = {
    "string_rep": 'for i = 1, 1e9 do local s = string.rep("x", 8e6) end',
    "pattern": 'local s = string.rep("a", 3000) for i = 1, 1e9 do s:find(".-b") end',
    # doubled by table.move (C, one instruction a round): an element a Lua
    # instruction would use up the instruction limit first on a fast machine,
    # and that is a policy error, not an overrun (docs/policies.md)
    "table_growth": "for r = 1, 1e9 do pcall(function() local t = {1} for i = 1, 40 do table.move(t, 1, #t, #t + 1) end "
                    "end) end",
    "recursion": "local function f(n) return 1 + f(n + 1) end for r = 1, 1e9 do pcall(f, 1) end",
    "concat": 'local s = "" for i = 1, 1e9 do s = s .. "xxxxxxxxxx" end',
}

# Bounds, generous for slow and sanitizer builds; without the deadline each is hours.
CHECK_BOUND_S = 30
HEALTH_BOUND_S = 3.0
LONG_S = long_seconds(240)


def hostile(body, dodge):
    """default.lua with `body` run at the top of judge(): on every order, or
    (dodge) only when the order is not the load's self-test."""
    cond = 'if order.strategy ~= "self_test" then' if dodge else "do"
    text = GOOD.replace(JUDGE, f"{JUDGE}    {cond} {body} end\n", 1)
    assert text != GOOD
    return text


class HealthProbe:
    """GET /health/all in a loop; keeps the slowest answer and any failure."""

    def __init__(self, port):
        self.port, self.worst, self.failures, self.answers = port, 0.0, [], 0
        self.stop_flag = threading.Event()
        self.t = threading.Thread(target=self.loop, daemon=True)
        self.t.start()

    def loop(self):
        while not self.stop_flag.is_set():
            t0 = time.monotonic()
            status, body = http_get(self.port, "/health/all", timeout=HEALTH_BOUND_S * 4)
            took = time.monotonic() - t0
            self.worst = max(self.worst, took)
            if status is None:
                self.failures.append(body)
            else:
                self.answers += 1
            time.sleep(0.02)

    def stop(self):
        self.stop_flag.set()
        self.t.join(timeout=HEALTH_BOUND_S * 5)


def policy_check_finishes():
    d = tempfile.mkdtemp(prefix="qtr_overrun_check_")
    for name, body in HOSTILE.items():
        path = write(os.path.join(d, f"{name}.lua"), hostile(body, dodge=False))
        t0 = time.monotonic()
        try:
            rc, out, err = run(["policy", "check", path], timeout=CHECK_BOUND_S)
        except Exception as e:  # noqa: BLE001 - a timeout is the failure this test is about
            check(False, f"qtr policy check {name}: did not finish within {CHECK_BOUND_S} s ({e})")
            continue
        took = time.monotonic() - t0
        print(f"policy check {name}: exit {rc} in {took:.2f} s: {(out + err).strip()}", flush=True)
        check(rc == 2, f"qtr policy check {name}: exit 2, got {rc}")
        check(path in out + err and "limit exceeded" in out + err,
              f"qtr policy check {name}: names the file and the limit: {out + err}")


def metric_sum(port, name):
    m = metrics(port) or {}
    return sum(v for k, v in m.items() if name in k)


def dodging_judges_are_refused_then_reverted():
    """Each hostile body in turn, swapped in on SIGHUP over the good policy."""
    d = tempfile.mkdtemp(prefix="qtr_overrun_run_")
    port = free_port()
    pol = write(os.path.join(d, "policy.lua"), GOOD)
    s = Server(["-c", fast_run_config(d, port, f'policy = {{ file = "{pol}" }},')], cwd=d)
    reverted = "policy withdrawn, the previous one is back"
    try:
        check(s.wait_for("[orders] fill ", 60), "the server trades under the good policy: " + s.text()[-2000:])
        check(wait_until(lambda: http_get(port, "/health/all")[0] is not None, 10), "the dashboard answers")
        exported = metrics(port) or {}
        check(any("qtr_policy_timeouts_total" in k for k in exported) and
              metric_sum(port, "qtr_policy_timeouts_total") == 0, "the counter is exported, at 0 before")
        probe = HealthProbe(port)
        for n, (name, body) in enumerate(HOSTILE.items()):
            version = n + 2          # the good policy is version 1; each hostile one loads
            before = metric_sum(port, "qtr_policy_timeouts_total")
            write(pol, hostile(body, dodge=True))
            s.p.send_signal(signal.SIGHUP)
            check(s.wait_for(f"version {version} ", 20), f"{name}: the dodging policy passes the load: "
                  + s.text()[-2000:])
            check(wait_until(lambda: s.count(reverted) >= n + 1, 60),
                  f"{name}: 3 overruns withdraw it and the good policy is back: " + s.text()[-3000:])
            check(wait_until(lambda: metric_sum(port, "qtr_policy_timeouts_total") >= before + 3, 10),
                  f"{name}: qtr_policy_timeouts_total counts every overrun")
            fills = s.count("[orders] fill ")
            check(wait_until(lambda: s.count("[orders] fill ") > fills, 60),
                  f"{name}: the server trades again under the last good policy")
        check(": policy_timeout (policy judge overran" in s.text(),
              "orders are refused with the reason policy_timeout: " + s.text()[-3000:])
        probe.stop()
        print(f"/health/all: {probe.answers} answers, slowest {probe.worst:.3f} s, {len(probe.failures)} failures",
              flush=True)
        check(probe.answers > 0 and not probe.failures, f"/health/all answered every time: {probe.failures[:3]}")
        check(probe.worst < HEALTH_BOUND_S, f"/health/all answered within {HEALTH_BOUND_S} s (slowest {probe.worst:.3f} s)")
        status, body = http_get(port, "/health/all")
        check(status is not None and "withdrawn" in body, f"the policy health says it was withdrawn: {body}")
    finally:
        rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"a clean stop, got {rc}")
    db = os.path.join(d, "var", "qtr.db")
    kinds = [r[0] for r in store_query(db, "SELECT kind FROM alerts WHERE source = 'policy'")]
    check("policy_timeout" in kinds and kinds.count("policy_withdrawn") == len(HOSTILE),
          f"the alerts are stored: {kinds}")


def no_fallback_trips_the_ess():
    d = tempfile.mkdtemp(prefix="qtr_overrun_ess_")
    port = free_port()
    pol = write(os.path.join(d, "policy.lua"), hostile(HOSTILE["pattern"], dodge=True))
    s = Server(["-c", fast_run_config(d, port, f'policy = {{ file = "{pol}" }},')], cwd=d)
    try:
        check(s.wait_for("running (paper mode", 30), "the server starts: " + s.text()[-2000:])
        probe = HealthProbe(port)
        check(s.wait_for("withdrawn", 90), "3 overruns withdraw the only policy: " + s.text()[-3000:])
        check(wait_until(lambda: "policy withdrawn" in (http_get(port, "/api/ess")[1] or ""), 10),
              "the ESS trips: " + str(http_get(port, "/api/ess")))
        check('"ARMED"' not in http_get(port, "/api/ess")[1], "the ESS is not armed")
        probe.stop()
        print(f"/health/all: {probe.answers} answers, slowest {probe.worst:.3f} s", flush=True)
        check(probe.answers > 0 and not probe.failures and probe.worst < HEALTH_BOUND_S,
              f"/health/all kept answering (slowest {probe.worst:.3f} s, failures {probe.failures[:3]})")
    finally:
        rc = s.stop(signal.SIGTERM)
    check(rc == 0, f"a clean stop, got {rc}")


if __name__ == "__main__":
    print(f"ran: {len(HOSTILE)} hostile judges ({', '.join(HOSTILE)}): qtr policy check on each, then each swapped "
          "into a running server, misbehaving only on live orders; then one with no good policy to go back to",
          flush=True)
    print(f"criteria: policy check exits 2 within {CHECK_BOUND_S} s naming the file and the limit; live orders refused "
          "with policy_timeout, counted and alerted; 3 overruns withdraw the policy and the good one trades again; "
          f"with none to go back to the ESS trips; /health/all answers within {HEALTH_BOUND_S} s throughout",
          flush=True)
    t_start = time.monotonic()
    parts = (policy_check_finishes, dodging_judges_are_refused_then_reverted, no_fallback_trips_the_ess)

    def one_round(r, seed):
        global HOSTILE
        if r:
            names = list(HOSTILE)
            random.Random(seed).shuffle(names)
            HOSTILE = {n: HOSTILE[n] for n in names}
        took = []
        for part in parts:
            t = time.monotonic()
            part()
            took.append(f"{part.__name__} {time.monotonic() - t:.1f} s")
        return f"order {', '.join(HOSTILE)}; " + ", ".join(took)
    if LONG:
        run_rounds("stress_policy_hostile", one_round, LONG_S)
    else:
        one_round(0, 0)
    print(f"stress_policy_hostile took {time.monotonic() - t_start:.1f} s", flush=True)
    finish()
