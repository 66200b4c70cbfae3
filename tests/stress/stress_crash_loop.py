"""Crash loop (issue 12, long tier): a paper run with the SQLite store and a
strategy that trades every few candles (ma_cross 2/5 on 20 ms candles) is
killed with SIGKILL at random moments (seeded; the seed is printed) N times,
restarted each time. After EACH kill:

  * `PRAGMA integrity_check` is ok;
  * every fill is stored once (no fill_id twice) and none stored before is gone;
  * each position in the store equals the sum of its symbol's fills;
  * the ESS state is kept: tripped before the kill (the policy's drawdown limit
    is made tiny halfway through), tripped after the restart, same trip.

The checker itself is proven first on deliberately corrupted copies of a
store (a duplicate fill row; a position off by one unit): it must flag each.

QTR_CRASH_KILLS (default 5; the long tier 100), QTR_CRASH_SEED (default: from
the clock, printed) -- rerun a failure with its printed seed."""
import os
import random
import shutil
import signal
import sqlite3
import sys
import tempfile
import time

import stresslib  # noqa: F401 - puts tests/e2e on the import path
from qtrtest import (Server, api_json, check, ess_state_file, fast_run_config, fills_sum, finish, free_port,
                     stopped_through_the_store, store_query, store_snapshot, wait_until)
from stresslib import permissive_policy

KILLS = int(os.environ.get("QTR_CRASH_KILLS", "5"))
SEED = int(os.environ.get("QTR_CRASH_SEED", str(int(time.time()) % 1000000)))


def store_problems(db):
    """What is wrong with the store at db (a list of sentences; empty: the
    invariants hold). Reads only: integrity, each fill_id once, each position
    the sum of its fills."""
    out = []
    integrity = store_query(db, "PRAGMA integrity_check")
    if integrity != [("ok",)]:
        out.append(f"integrity_check: {integrity[:3]}")
    doubled = store_query(db, "SELECT fill_id, count(*) FROM fills GROUP BY fill_id HAVING count(*) > 1")
    if doubled:
        out.append(f"fills stored more than once: {doubled[:5]}")
    snap = store_snapshot(db)
    sums = fills_sum(snap["fills"])
    for sym in sorted(set(sums) | set(snap["positions"])):
        pos, fsum = snap["positions"].get(sym, 0), sums.get(sym, 0)
        if pos != fsum:
            out.append(f"position {sym} is {pos} (1e-8 units) in the store, its fills sum to {fsum}")
    return out


def checker_catches_corruption(db, d):
    """store_problems() on a good copy finds nothing, on a copy with a
    duplicate fill row finds it, on a copy with a position off by one unit
    finds it."""
    def copy(name):
        path = os.path.join(d, name)
        shutil.copyfile(db, path)
        return path

    good = copy("good.db")
    check(store_problems(good) == [], f"checker: a good store passes: {store_problems(good)}")
    dup = copy("dup_fill.db")
    con = sqlite3.connect(dup)
    # the schema's UNIQUE(fill_id) would refuse the copy: the corruption a
    # store without that constraint (or a broken writer) could hold
    con.executescript("CREATE TABLE f2 AS SELECT * FROM fills; DROP TABLE fills; ALTER TABLE f2 RENAME TO fills;"
                      "INSERT INTO fills SELECT id + 1000000, fill_id, client_id, symbol, side, qty, price, fee, maker,"
                      " reduce_only, time_ms FROM fills WHERE id = (SELECT min(id) FROM fills);")
    con.close()
    found = store_problems(dup)
    print(f"checker on a duplicate fill row: {found}", flush=True)
    check(any("more than once" in p for p in found), "checker: a duplicate fill row is caught")
    off = copy("pos_off.db")
    con = sqlite3.connect(off)
    con.execute("UPDATE positions SET qty = qty + 1 WHERE symbol = (SELECT symbol FROM fills LIMIT 1)")
    con.commit()
    con.close()
    found = store_problems(off)
    print(f"checker on a position off by one unit: {found}", flush=True)
    check(any(p.startswith("position ") for p in found), "checker: a position off by one unit is caught")


def main():
    rng = random.Random(SEED)
    print(f"crash loop: {KILLS} SIGKILLs at random moments (0.3-1.5 s into each run), seed {SEED} "
          f"(QTR_CRASH_SEED={SEED} reruns it)", flush=True)
    print("pass criteria after each kill: integrity_check ok; no fill_id twice and no earlier fill gone; "
          "positions = sum of their fills; an ESS tripped before the kill tripped after the restart (same trip)",
          flush=True)
    d = tempfile.mkdtemp(prefix="qtr_crash_loop_")
    db = os.path.join(d, "var", "qtr.db")
    port = free_port()
    pol = permissive_policy(d)
    cfg = fast_run_config(d, port, f'policy = {{ file = "{pol}" }},')
    trip_at = KILLS // 2
    seen, tripped, kills, passed, failed_kills = set(), None, 0, 0, 0
    t0 = time.monotonic()
    for i in range(KILLS + 1):
        run_dir = os.path.join(d, f"run{i:03d}")
        os.makedirs(run_dir)
        s = Server(["-c", cfg], cwd=run_dir)
        if not check(wait_until(lambda: api_json(port, "/health/all", timeout=2.0), 20, 0.05),
                     f"run {i}: the server starts within 20 s: {s.text()[-2000:]}"):
            s.stop(signal.SIGKILL)
            break
        if tripped is not None:
            now = api_json(port, "/api/ess", timeout=3.0)
            check(now is not None and now.get("state") != "ARMED" and now.get("tripped_at_ms") == int(tripped["tripped_at_ms"]),
                  f"run {i}: the ESS was tripped before the kill; after the restart /api/ess says {now}")
        if i == KILLS:
            time.sleep(0.5)
            since = int(time.time() * 1000)
            rc = s.stop(signal.SIGTERM, timeout=20)
            check(rc == 0, f"the final clean stop exits 0, got {rc}: {s.text()[-1500:]}")
            stopped_through_the_store(db, since, "after the crash loop")
            break
        if i == trip_at:
            permissive_policy(d, max_drawdown="0.001")
            s.p.send_signal(signal.SIGHUP)
            check(wait_until(lambda: (ess_state_file(os.path.join(d, "var", "ess.state")) or {}).get("state", "ARMED")
                             != "ARMED", 15, 0.05),
                  f"run {i}: a 0.001% drawdown limit trips the ESS within 15 s: {s.text()[-1500:]}")
        time.sleep(rng.uniform(0.3, 1.5))
        s.p.send_signal(signal.SIGKILL)
        s.p.wait(timeout=10)
        s.log.close()
        kills += 1
        problems = store_problems(db)
        ids = {f[0] for f in store_snapshot(db)["fills"]}
        if seen - ids:
            problems.append(f"fills stored before are gone: {sorted(seen - ids)[:5]}")
        seen |= ids
        ess = ess_state_file(os.path.join(d, "var", "ess.state"))
        if tripped is not None and (ess is None or ess.get("tripped_at_ms") != tripped["tripped_at_ms"]):
            problems.append(f"the ESS trip {tripped} became {ess}")
        if tripped is None and ess and ess.get("state") != "ARMED":
            tripped = ess
        for p in problems:
            check(False, f"kill {kills}: {p}")
        passed, failed_kills = passed + (not problems), failed_kills + bool(problems)
        print(f"kill {kills}: {len(ids)} fills, ESS {ess.get('state') if ess else 'ARMED (no file)'}, "
              f"{'ok' if not problems else 'FAILED'}", flush=True)
    secs = time.monotonic() - t0
    check(kills == KILLS, f"{KILLS} kills, got {kills}")
    check(tripped is not None, "the ESS tripped in the second half (else its survival was not tested)")
    check(len(seen) > 0, "the runs traded (else nothing was tested)")
    print(f"figures: {kills} kills, {len(seen)} fills, after-kill checks passed {passed}/{kills} "
          f"(failed {failed_kills}), ESS tripped at kill {trip_at + 1} and kept across "
          f"{kills - trip_at - 1 if tripped else 0} restarts, {secs:.0f} s, seed {SEED}", flush=True)
    checker_catches_corruption(db, d)
    if "--keep" not in sys.argv:
        shutil.rmtree(d, ignore_errors=True)


main()
finish()
