"""Stress scenario 3, Redis outage. The scenario itself is the bus's own test
(tests/bus/test_redis_mirror.c, outage_kill_stop_restart_empty, against a
real redis-server on a free loopback port); this runs that one test with the
tier's phase length (QTR_BUS_OUTAGE_S) and shows its figures with the pass
criteria, as the other scenarios do. Nothing of its logic is repeated here.

The quick tier uses 2 s phases, the long tier (QTR_STRESS_LONG=1) the
issue's 10 s. Exit 77 (skipped) when redis-server is not installed."""
import os
import subprocess
import sys

LONG = os.environ.get("QTR_STRESS_LONG") == "1"
PHASE_S = 10 if LONG else 2
BOUND_S = 300 if LONG else 150


def main():
    binary = os.path.join(os.environ["QTR_BUILD_DIR"], "tests", "bus", "test_bus_redis_mirror")
    tier = "long" if LONG else "compressed; QTR_STRESS_LONG=1 for 10 s"
    print(f"ran: a mirror publishing 5 events every ~2 ms to redis-server; Redis SIGKILLed for {PHASE_S} s and "
          f"restarted with its data, SIGSTOPped for {PHASE_S} s and continued, then restarted empty ({tier})",
          flush=True)
    print("criteria: health DEGRADED while Redis is away and the disk buffer holds events, OK again within 20 s "
          "of its return; every event in its stream exactly once, in order by host and seq (0 lost, 0 doubled), "
          "across all three outages", flush=True)
    env = dict(os.environ, QTR_BUS_OUTAGE_S=str(PHASE_S), QTR_BUS_TEST_FILTER="outage_kill_stop_restart_empty")
    try:
        r = subprocess.run([binary], env=env, cwd=os.environ.get("QTR_SOURCE_DIR"), capture_output=True,
                           text=True, timeout=BOUND_S)
    except subprocess.TimeoutExpired as e:
        print((e.stdout or b"")[-4000:], (e.stderr or b"")[-4000:])
        print(f"FAIL: the outage test did not finish within {BOUND_S} s")
        sys.exit(1)
    if r.returncode == 77:
        print("SKIP: redis-server not installed (tools/install-deps.sh --test installs it)")
        sys.exit(77)
    out = r.stdout + r.stderr
    figures = [line for line in out.splitlines() if line.startswith("outage figures:")]
    for line in figures:
        print(line[len("outage figures: "):])
    ran = "[       OK ] outage_kill_stop_restart_empty" in out
    if r.returncode != 0 or not ran or len(figures) != 3:
        print(out[-6000:])
        print(f"FAIL: the outage test: exit {r.returncode}, ran: {ran}, figure lines: {len(figures)} of 3")
        sys.exit(1)
    print("1 passed, 0 failed")


if __name__ == "__main__":
    main()
