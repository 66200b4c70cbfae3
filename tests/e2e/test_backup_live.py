"""Online backup while a fast paper run writes to its store: every
`qtr backup -c CONFIG DEST` taken during the run gives a file that

  * opens with sqlite3, passes PRAGMA integrity_check, and is self-contained
    (a rollback-journal database: no -wal file needed);
  * holds a consistent prefix of the live store: its fills are exactly the
    first fills of the live store (same ids, same rows, in the same order),
    never more than the live count afterwards, and each fill's order is there;
  * has positions equal to the sum of its own fills, per symbol.
An existing DEST is refused and left as it was."""
import hashlib
import os
import signal
import sqlite3
import tempfile
import time

from qtrtest import PLUGINS, Server, check, fills_sum, finish, run, store_rows, wait_until, write

BACKUPS = 20


def config(d):
    return write(os.path.join(d, "live.lua"), f"""
return {{
  state_dir = "{d}/var",
  plugin_path = {{ "{PLUGINS}" }},
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT", "ETHUSDT", "XRPUSDT" }}, interval_ms = 10, seed = 11 }},
  signals = {{ cycle_ms = 10 }},
  plugins = {{
    {{ kind = "exchange", name = "paper", options = {{ max_volume_share = "1" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "strategy", name = "ma_cross", options = {{ fast = 2, slow = 5, order_notional = "200" }} }},
  }},
}}
""")


def read(path):
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        integrity = con.execute("PRAGMA integrity_check").fetchall()
        journal = con.execute("PRAGMA journal_mode").fetchone()[0]
        fills = con.execute("SELECT id, fill_id, client_id, symbol, side, qty, price, fee, maker, reduce_only, time_ms"
                            " FROM fills ORDER BY id").fetchall()
        positions = {r[0]: r[1] for r in con.execute("SELECT symbol, qty FROM positions")}
        orders = {r[0] for r in con.execute("SELECT client_id FROM orders")}
    finally:
        con.close()
    return integrity, journal, fills, positions, orders


def main():
    d = tempfile.mkdtemp(prefix="qtr_backup_")
    cfg = config(d)
    s = Server(["-c", cfg], cwd=d)
    backups = []
    try:
        db = os.path.join(d, "var", "qtr.db")
        traded = wait_until(lambda: (store_rows(db, "SELECT count(*) FROM fills") or [(0,)])[0][0] > 0, 20, 0.05)
        if not check(traded, "the server starts and trades (fills in its store): " + s.text()[-2000:]):
            return
        for i in range(BACKUPS):
            time.sleep(0.05 + 0.05 * (i % 4))
            dest = os.path.join(d, f"backup{i}.db")
            rc, out, err = run(["backup", "-c", cfg, dest], timeout=60, cwd=d)
            check(rc == 0 and os.path.exists(dest), f"backup {i} exits 0 and writes {dest}: {rc} {out} {err}")
            check(not os.path.exists(dest + ".partial"), f"backup {i}: no .partial file left")
            if rc == 0:
                backups.append(dest)
        # an existing destination is refused and not touched
        if backups:
            before = hashlib.sha256(open(backups[0], "rb").read()).hexdigest()
            rc, _, err = run(["backup", "-c", cfg, backups[0]], timeout=60, cwd=d)
            check(rc != 0 and err.strip(), f"a backup onto an existing file is refused: {rc} {err}")
            check(hashlib.sha256(open(backups[0], "rb").read()).hexdigest() == before,
                  "the existing file is left byte for byte")
        check(s.p.poll() is None, "the server kept running through the backups")
    finally:
        rc = s.stop(signal.SIGTERM, timeout=20)
    check(rc == 0, f"clean stop: {rc}")

    live = read(os.path.join(d, "var", "qtr.db"))
    live_fills = live[2]
    print(f"live store after stop: {len(live_fills)} fills", flush=True)
    lagging = []
    for path in backups:
        integrity, journal, fills, positions, orders = read(path)
        name = os.path.basename(path)
        check(integrity == [("ok",)], f"{name}: integrity_check {integrity}")
        check(journal.lower() != "wal" and not os.path.exists(path + "-wal"),
              f"{name}: a self-contained file (journal_mode {journal})")
        check(len(fills) <= len(live_fills), f"{name}: {len(fills)} fills, more than the live {len(live_fills)}")
        check(fills == live_fills[:len(fills)], f"{name}: its fills are not the first {len(fills)} of the live store")
        missing = {f[2] for f in fills} - orders
        check(not missing, f"{name}: fills whose order is not in the backup: {sorted(missing)[:5]}")
        sums = {k: v for k, v in fills_sum([(f[1], f[2], f[3], f[4], f[5]) for f in fills]).items()}
        diff = {sym: (positions.get(sym, 0), sums.get(sym, 0)) for sym in set(sums) | set(positions)
                if positions.get(sym, 0) != sums.get(sym, 0)}
        if diff:
            lagging.append((name, len(fills), diff))
        print(f"{name}: {len(fills)} fills, positions {'match' if not diff else 'DIFFER'}", flush=True)
    check(len(backups) == BACKUPS, f"{len(backups)} of {BACKUPS} backups made")
    check(not lagging, "in every backup the positions equal the sum of its fills (a fill and its position update "
                       f"are not committed together): {lagging[:3]}")


main()
finish()
