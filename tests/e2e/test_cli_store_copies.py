"""qtr backup and qtr export-trades work on copies of the trade store: a
temporary snapshot in $TMPDIR, DEST.partial, --out's temporary file. Those
copies are never what an error names, and never what a signal leaves behind:

- an export whose snapshot turns out unusable (an SQLite file that is no
  qtr store) names the configured store, never the snapshot in $TMPDIR
- SIGINT, SIGTERM or SIGHUP in the middle of a backup or an export removes
  the temporary copies and the command dies of that signal. Each signal is
  sent at a point the test holds the command at, never after a guessed
  sleep: a pipe nobody reads (backup -, export-trades --out -) or a source
  store the test keeps exclusively locked (qtr waits on the lock, up to its
  5 s busy timeout, with DEST.partial or the snapshot already made)
- a signal ignored by whoever started qtr (nohup) stays ignored
- a copy in $TMPDIR is made in a private folder (mode 0700, made by
  mkdtemp), never under a name in the shared folder itself: another user
  cannot put a link where the copy or its .partial will be written
"""
import fcntl
import os
import select
import shutil
import signal
import sqlite3
import subprocess
import tempfile

from qtrtest import DATA, QTR, check, finish, run, wait_until, write

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)
F_GETPIPE_SZ = getattr(fcntl, "F_GETPIPE_SZ", 1032)


def config(d, db, name="c.lua"):
    return write(os.path.join(d, name),
                 f'return {{ store = {{ path = "{db}" }}, plugins = {{ {{ kind = "exchange", name = "paper" }} }} }}\n')


def make_store(d):
    """A store from the recorded candles with many fills (about 1 MB, a CSV
    of about 130 kB): far more than a pipe holds."""
    db = os.path.join(d, "src.db")
    rc, _, err = run(["backtest", "--data", CSV, "--store", db, "--quiet", "--set", "fast=2", "--set", "slow=3"])
    check(rc == 0 and os.path.exists(db), f"the store: exit {rc}, {err!r}")
    return db


def default_signals():
    """The child starts with SIGINT, SIGTERM and SIGHUP at their default
    (whatever the test runner was started with)."""
    for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, signal.SIG_DFL)


def stopped(p, sig, what):
    """The command, held at its point, gets sig: it dies of it."""
    if not check(p.poll() is None, f"{what}: still running when the signal is sent (exit {p.returncode})"):
        return
    p.send_signal(sig)
    try:
        p.wait(timeout=30)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait(timeout=10)
    check(p.returncode == -sig, f"{what}: died of signal {sig}: {p.returncode}")


def errors_name_the_store(d):
    """An export's snapshot of a store that is not a qtr store: the message
    names the store of the config, and nothing in $TMPDIR."""
    tmpdir = os.path.join(d, "tmp-names")
    os.mkdir(tmpdir)
    other = os.path.join(d, "other.db")
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE x (a)")
    con.commit()
    con.close()
    cfg = config(d, other, "other.lua")
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.run([QTR, "export-trades", "-c", cfg, "--out", os.path.join(d, "x.csv")], capture_output=True,
                       text=True, env=env, timeout=60)
    lines = p.stderr.strip().splitlines()
    check(p.returncode == 1 and len(lines) == 1 and f"store {other}: " in p.stderr and "not a qtr store" in p.stderr
          and tmpdir not in p.stderr and "qtr-export-" not in p.stderr,
          f"export-trades of a store that is not one: exit {p.returncode}, {p.stderr!r}")
    check(os.listdir(tmpdir) == [] and not os.path.exists(os.path.join(d, "x.csv")),
          f"export-trades of a store that is not one: left {os.listdir(tmpdir)}")


def small_pipe():
    """A pipe (read end, write end) holding one page: the writer blocks
    after a few kB."""
    r, w = os.pipe()
    try:
        fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    except OSError:
        pass   # the default (64 kB) is still far less than the store
    return r, w, fcntl.fcntl(w, F_GETPIPE_SZ)


def files_under(tmpdir):
    """The names of the files in tmpdir's folders."""
    return [n for sub in os.listdir(tmpdir) if os.path.isdir(os.path.join(tmpdir, sub))
            for n in os.listdir(os.path.join(tmpdir, sub))]


def private_copies(tmpdir, what):
    """What qtr has in tmpdir while it works: folders qtr-*, mode 0700 and
    ours, holding the store copy (store.db and what SQLite and the backup
    put beside it) and nothing else; no file in tmpdir itself."""
    entries = os.listdir(tmpdir)
    check(entries != [], f"{what}: its copy is in TMPDIR while it works")
    for sub in entries:
        path = os.path.join(tmpdir, sub)
        st = os.lstat(path)
        check(sub.startswith("qtr-") and os.path.isdir(path) and not os.path.islink(path)
              and (st.st_mode & 0o777) == 0o700 and st.st_uid == os.geteuid(),
              f"{what}: {sub} in TMPDIR is not a private folder (mode {oct(st.st_mode)})")
        if os.path.isdir(path):
            for n in os.listdir(path):
                check(n.startswith("store.db"), f"{what}: {n} in the private folder")


def stream_stopped(args, tmpdir, cwd, sig, total, first, what):
    """args writing `total` bytes to a pipe nobody reads after the first
    bytes (`first`): while it waits for the reader, its temporary copy is in
    tmpdir; sig then, and nothing may be left."""
    r, w, size = small_pipe()
    check(total > size + 8 * 4096, f"{what}: {total} bytes cannot all fit a pipe of {size} and qtr's buffer")
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.Popen([QTR] + args, stdout=w, stderr=subprocess.PIPE, cwd=cwd, env=env,
                         preexec_fn=default_signals)
    os.close(w)
    try:
        got = b""
        while len(got) < len(first) and select.select([r], [], [], 30)[0]:   # bounded
            chunk = os.read(r, len(first) - len(got))
            if not chunk:
                break
            got += chunk
        check(got == first, f"{what}: the stream starts with {first!r}: {got!r}")
        private_copies(tmpdir, f"{what}, while the stream waits")
        stopped(p, sig, what)
    finally:
        os.close(r)
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        p.stderr.close()
    check(os.listdir(tmpdir) == [], f"{what}: left {os.listdir(tmpdir)} in TMPDIR")


class Locked:
    """The store held under an exclusive lock: readers (the backup's source
    connection) wait until it is released."""

    def __init__(self, db):
        self.con = sqlite3.connect(db, isolation_level=None, timeout=10)
        self.con.execute("PRAGMA locking_mode=EXCLUSIVE")
        self.con.execute("BEGIN EXCLUSIVE")
        self.con.execute("SELECT count(*) FROM fills").fetchone()

    def release(self):
        self.con.execute("COMMIT")
        self.con.close()


def held_on_lock(args, db, tmpdir, cwd, ready, sig, what, ignored=()):
    """args, whose source store is locked: once ready() (its temporary files
    are made, it waits on the lock) sig; nothing may be left in tmpdir or
    cwd but what was there before. Signals in `ignored` start ignored."""
    before = sorted(os.listdir(cwd))
    lock = Locked(db)
    env = dict(os.environ, TMPDIR=tmpdir)

    def start():
        default_signals()
        for s in ignored:
            signal.signal(s, signal.SIG_IGN)
    p = subprocess.Popen([QTR] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=cwd, env=env,
                         preexec_fn=start)
    try:
        check(wait_until(ready, 10), f"{what}: its temporary files made ({os.listdir(tmpdir)}, {os.listdir(cwd)})")
        if os.listdir(tmpdir):   # an export's snapshot; a backup to DEST makes none
            private_copies(tmpdir, f"{what}, while it waits on the lock")
        for s in ignored:   # sent first: were it not ignored, qtr would die of it
            p.send_signal(s)
        stopped(p, sig, what)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait(timeout=10)
        p.stderr.close()
        lock.release()
    check(os.listdir(tmpdir) == [], f"{what}: left {os.listdir(tmpdir)} in TMPDIR")
    check(sorted(os.listdir(cwd)) == before, f"{what}: left {set(os.listdir(cwd)) - set(before)}")


def signals_leave_nothing(d, db):
    cfg = config(d, db)
    tmpdir = os.path.join(d, "tmp")
    os.mkdir(tmpdir)
    with open(db, "rb") as f:
        size = len(f.read())
    rc, csv, err = run(["export-trades", "-c", cfg])
    check(rc == 0 and csv.startswith("time_ms,"), f"export-trades: exit {rc}, {err!r}")

    # streams: the temporary copy (backup) or snapshot (export) in TMPDIR
    for sig in (signal.SIGTERM, signal.SIGINT):
        stream_stopped(["backup", "-c", cfg, "-"], tmpdir, d, sig, size, b"SQLite format 3\0",
                       f"backup - and signal {sig}")
    stream_stopped(["export-trades", "-c", cfg, "--out", "-"], tmpdir, d, signal.SIGINT, len(csv), b"time_ms,",
                   "export-trades --out - and SIGINT")

    # files: DEST.partial beside DEST; --out's temporary file beside it and the snapshot's .partial in TMPDIR
    out = os.path.join(d, "out")
    os.mkdir(out)
    dest = os.path.join(out, "b.db")
    held_on_lock(["backup", "-c", cfg, dest], db, tmpdir, out, lambda: os.path.exists(dest + ".partial"),
                 signal.SIGTERM, "backup DEST and SIGTERM")
    held_on_lock(["backup", "-c", cfg, dest], db, tmpdir, out, lambda: os.path.exists(dest + ".partial"),
                 signal.SIGHUP, "backup DEST and SIGHUP")
    # nohup: SIGHUP ignored stays ignored (it comes first and does nothing), SIGTERM still cleans up
    held_on_lock(["backup", "-c", cfg, dest], db, tmpdir, out, lambda: os.path.exists(dest + ".partial"),
                 signal.SIGTERM, "backup DEST, SIGHUP ignored, and SIGTERM", ignored=(signal.SIGHUP,))

    def export_ready():
        return any(n.startswith(".fills.csv.tmp-") for n in os.listdir(out)) and \
            any(n.endswith(".partial") for n in files_under(tmpdir))
    held_on_lock(["export-trades", "-c", cfg, "--out", os.path.join(out, "fills.csv")], db, tmpdir, out,
                 export_ready, signal.SIGINT, "export-trades --out FILE and SIGINT")
    held_on_lock(["export-trades", "-c", cfg, "--out", os.path.join(out, "fills.csv")], db, tmpdir, out,
                 export_ready, signal.SIGTERM, "export-trades --out FILE and SIGTERM")

    # and without a signal, both still finish whole
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.run([QTR, "backup", "-c", cfg, dest], capture_output=True, text=True, env=env, timeout=60)
    check(p.returncode == 0 and os.path.exists(dest) and not os.path.exists(dest + ".partial"),
          f"backup DEST: exit {p.returncode}, {p.stderr!r}")
    p = subprocess.run([QTR, "export-trades", "-c", cfg, "--out", os.path.join(out, "fills.csv")],
                       capture_output=True, text=True, env=env, timeout=60)
    with open(os.path.join(out, "fills.csv")) as f:
        check(p.returncode == 0 and f.read() == csv, f"export-trades --out FILE: exit {p.returncode}, {p.stderr!r}")
    check(os.listdir(tmpdir) == [] and sorted(os.listdir(out)) == ["b.db", "fills.csv"],
          f"left {os.listdir(tmpdir)}, {os.listdir(out)}")


def main():
    d = tempfile.mkdtemp(prefix="qtr_copies_")
    errors_name_the_store(d)
    db = make_store(d)
    if os.path.exists(db):
        signals_leave_nothing(d, db)
    shutil.rmtree(d)
    finish()


if __name__ == "__main__":
    main()
