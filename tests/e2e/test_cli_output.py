"""Where output files go (host/cli/output.c), end to end: --json, --trades,
export-trades --out and backup DEST.

- a device, a FIFO, /dev/stdout and "-" are written straight to: the node stays
  what it was (the old temp-file-and-rename replaced /dev/stdout by a regular
  file when run as root)
- a symlink stays a link, and its target gets the content
- a regular file is replaced whole (keeping its mode), or not at all: a run that
  fails, or whose write fails half-way (RLIMIT_FSIZE), leaves the old content
  and no temporary file behind
- a missing folder, a folder, a dangling symlink or a FIFO nobody reads is
  refused with exit 2 and a line naming it, before any work
"""
import json
import os
import resource
import signal
import stat
import subprocess
import tempfile
import threading

from qtrtest import DATA, QTR, check, finish, run, write

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
BT = ["backtest", "--data", CSV]


def is_report(text):
    try:
        return json.loads(text).get("candles") == 1999
    except ValueError:
        return False


def listing(d):
    return sorted(os.listdir(d))


def run_to_file(args, path, **kw):
    """qtr with its standard output on a regular file, as `qtr ... > path`."""
    with open(path, "w") as out:
        p = subprocess.run([QTR] + args, stdout=out, stderr=subprocess.PIPE, text=True, timeout=60, **kw)
    return p.returncode, p.stderr


def streams():
    # "-", /dev/stdout and the report table
    rc, out, err = run(BT + ["--json", "/dev/stdout", "--quiet"])
    check(rc == 0 and is_report(out), f"--json /dev/stdout on a pipe: {rc} {out[:200]} {err}")
    check(os.path.islink("/dev/stdout"), "/dev/stdout is still a symlink")
    rc, out, err = run(BT + ["--json", "-", "--quiet"])
    check(rc == 0 and is_report(out), f"--json -: {rc} {out[:200]} {err}")
    rc, out, err = run(BT + ["--trades", "-"])
    lines = out.splitlines()
    check(rc == 0 and lines and lines[0].startswith("time_ms,fill_id,") and len(lines) == 172,
          f"--trades -: header and 171 fills (a flip is a close and an entry): {rc} {len(lines)} {err}")
    check("Backtest report" in err and "Backtest report" not in out,
          "with an output on stdout the report table goes to stderr")

    # stdout redirected to a file by the shell: that very file gets the JSON,
    # the same inode (no rename over it)
    d = tempfile.mkdtemp(prefix="qtr_out_")
    target = write(os.path.join(d, "shell.json"), "")
    ino = os.stat(target).st_ino
    rc, err = run_to_file(BT + ["--json", "/dev/stdout", "--quiet"], target)
    with open(target) as f:
        text = f.read()
    check(rc == 0 and is_report(text) and os.stat(target).st_ino == ino,
          f"--json /dev/stdout > file: the shell's file gets it: {rc} {err} {text[:100]}")
    check(listing(d) == ["shell.json"], f"nothing else beside it: {listing(d)}")


def devices_and_fifos():
    d = tempfile.mkdtemp(prefix="qtr_out_")
    # a FIFO with a reader: the bytes arrive through it, it stays a FIFO
    fifo = os.path.join(d, "pipe")
    os.mkfifo(fifo)
    got = {}

    def reader():
        with open(fifo) as f:
            got["text"] = f.read()

    t = threading.Thread(target=reader, daemon=True)
    t.start()
    rc, out, err = run(BT + ["--json", fifo, "--quiet"], timeout=30)
    t.join(timeout=20)
    check(rc == 0 and is_report(got.get("text", "")), f"--json FIFO: {rc} {err} {got.get('text', '')[:100]}")
    check(stat.S_ISFIFO(os.lstat(fifo).st_mode), "the FIFO is still a FIFO")
    # a FIFO nobody reads: refused at once, not a hang
    rc, out, err = run(BT + ["--json", fifo], timeout=20)
    check(rc == 2 and "no reader" in err and "Backtest report" not in out, f"FIFO without reader: {rc} {err}")

    # a write that fails on a device: exit 1 with the reason
    rc, out, err = run(BT + ["--json", "/dev/full", "--quiet"])
    check(rc == 1 and "No space left" in err, f"--json /dev/full: {rc} {err}")
    # the device named, not 'output' (--trades and indicators --out said '--out output: ...')
    for args in (BT + ["--trades", "/dev/full", "--quiet"], ["indicators", "--data", CSV, "--ind", "sma:3", "--out", "/dev/full"]):
        rc, out, err = run(args)
        check(rc != 0 and "/dev/full: No space left" in err, f"{args[-2:]}: the device named: {rc} {err}")
    check(stat.S_ISCHR(os.stat("/dev/full").st_mode), "/dev/full is still a device")

    if os.geteuid() == 0:
        # root: a device node of our own (a copy of /dev/null) stays a device
        node = os.path.join(d, "null")
        os.mknod(node, 0o666 | stat.S_IFCHR, os.makedev(1, 3))
        for opt in ("--json", "--trades"):
            rc, out, err = run(BT + [opt, node, "--quiet"])
            check(rc == 0 and stat.S_ISCHR(os.lstat(node).st_mode), f"{opt} DEVICE as root: {rc} {err}")
        check(sorted(os.listdir(d)) == ["null", "pipe"], f"nothing left beside them: {listing(d)}")


def symlinks():
    d = tempfile.mkdtemp(prefix="qtr_out_")
    real_dir = os.path.join(d, "real")
    link_dir = os.path.join(d, "links")
    os.mkdir(real_dir)
    os.mkdir(link_dir)
    target = write(os.path.join(real_dir, "report.json"), "old\n")
    os.chmod(target, 0o640)
    link = os.path.join(link_dir, "report.json")
    os.symlink("../real/report.json", link)
    rc, out, err = run(BT + ["--json", link, "--quiet"])
    with open(target) as f:
        text = f.read()
    check(rc == 0 and is_report(text), f"--json SYMLINK: the target gets the report: {rc} {err} {text[:80]}")
    check(os.path.islink(link) and os.readlink(link) == "../real/report.json", "the link is still the same link")
    check(stat.S_IMODE(os.stat(target).st_mode) == 0o640, f"the target keeps its mode: {oct(os.stat(target).st_mode)}")
    check(listing(real_dir) == ["report.json"] and listing(link_dir) == ["report.json"],
          f"no temporary left: {listing(real_dir)} {listing(link_dir)}")

    # a dangling link: refused, nothing created where it points
    dangling = os.path.join(link_dir, "dangling.json")
    os.symlink("../real/absent.json", dangling)
    rc, out, err = run(BT + ["--trades", dangling])
    check(rc == 2 and "dangling.json" in err and "missing file" in err and "Backtest report" not in out,
          f"--trades DANGLING refused before the run: {rc} {err}")
    check(not os.path.exists(os.path.join(real_dir, "absent.json")), "nothing created through the dangling link")


def refusals():
    d = tempfile.mkdtemp(prefix="qtr_out_")
    for opt in ("--json", "--trades"):
        missing = os.path.join(d, "no", "such", "folder", "out.json")
        rc, out, err = run(BT + [opt, missing])
        check(rc == 2 and f"folder {os.path.join(d, 'no', 'such', 'folder')} does not exist" in err
              and "Backtest report" not in out, f"{opt} in a missing folder: exit 2 before the run: {rc} {err}")
        rc, out, err = run(BT + [opt, d])
        check(rc == 2 and "is a folder" in err, f"{opt} FOLDER: {rc} {err}")
    rc, out, err = run(BT + ["--json", os.path.join(d, "x" * 5000)])
    check(rc == 2 and "path too long" in err, f"--json with a path longer than PATH_MAX: {rc} {err[:100]}")
    check(listing(d) == [], f"nothing created: {listing(d)}")


def failures_leave_no_half_file():
    d = tempfile.mkdtemp(prefix="qtr_out_")
    trades = write(os.path.join(d, "trades.csv"), "old trades\n")
    report = os.path.join(d, "report.json")

    # the trades CSV (~9 kB) outgrows the file size limit half-way through
    def small_files():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (4096, 4096))

    p = subprocess.run([QTR] + BT + ["--trades", trades, "--json", report, "--quiet"], capture_output=True,
                       text=True, timeout=60, preexec_fn=small_files)
    with open(trades) as f:
        kept = f.read()
    check(p.returncode == 1 and "trades.csv" in p.stderr, f"a write failing half-way: exit 1: {p.returncode} {p.stderr}")
    check(kept == "old trades\n", f"the old file is left whole: {kept[:80]!r}")
    check(listing(d) == ["trades.csv"], f"no half-written file, no temporary: {listing(d)}")

    # a run that fails after its outputs were opened (a plugin the config
    # names is missing): the outputs keep what they held
    cfg = write(os.path.join(d, "bad.lua"), """return {
  plugins = { { kind = "exchange", name = "paper" }, { kind = "risk", name = "policy" },
              { kind = "strategy", name = "absent" } } }""")
    old_report = write(report, "old report\n")
    rc, out, err = run(["backtest", "-c", cfg, "--data", CSV, "--json", old_report, "--trades", trades])
    with open(old_report) as f:
        kept_report = f.read()
    with open(trades) as f:
        kept = f.read()
    check(rc == 2 and "absent" in err, f"the failing run: {rc} {err}")
    check(kept_report == "old report\n" and kept == "old trades\n", "a failed run leaves the outputs as they were")
    check(listing(d) == ["bad.lua", "report.json", "trades.csv"], f"no temporary left: {listing(d)}")


def store_outputs():
    """export-trades --out and backup DEST, through the same rules."""
    d = tempfile.mkdtemp(prefix="qtr_out_")
    rc, _, err = run(BT + ["--store", os.path.join(d, "qtr.db"), "--quiet"])
    check(rc == 0, f"a store to export from: {rc} {err}")
    cfg = write(os.path.join(d, "qtr.lua"), 'return { state_dir = ".", plugins = { { kind = "exchange", name = "paper" } } }')
    os.mkdir(os.path.join(d, "out"))
    target = write(os.path.join(d, "out", "fills.csv"), "old\n")
    link = os.path.join(d, "fills-link.csv")
    os.symlink("out/fills.csv", link)
    rc, out, err = run(["export-trades", "-c", cfg, "--out", link])
    with open(target) as f:
        text = f.read()
    check(rc == 0 and text.startswith("time_ms,fill_id,") and text.count("\n") == 172,
          f"export-trades --out SYMLINK: {rc} {err} {text[:60]!r}")
    check(os.path.islink(link) and listing(os.path.join(d, "out")) == ["fills.csv"], "the link stays, nothing left")
    rc, out, err = run(["export-trades", "-c", cfg, "--out", "/dev/stdout"])
    check(rc == 0 and out == text, f"export-trades --out /dev/stdout: {rc} {err}")
    rc, out, err = run(["export-trades", "-c", cfg, "--out", os.path.join(d, "none", "f.csv")])
    check(rc == 2 and "does not exist" in err, f"export-trades --out in a missing folder: {rc} {err}")

    p = subprocess.run([QTR, "backup", "-c", cfg, "-"], capture_output=True, timeout=60)
    check(p.returncode == 0 and p.stdout.startswith(b"SQLite format 3\0") and len(p.stdout) > 4096,
          f"backup -: the database on stdout: {p.returncode} {p.stderr!r}")
    p = subprocess.run([QTR, "backup", "-c", cfg, "/dev/stdout"], capture_output=True, timeout=60)
    check(p.returncode == 0 and p.stdout.startswith(b"SQLite format 3\0"), f"backup /dev/stdout: {p.returncode}")
    rc, out, err = run(["backup", "-c", cfg, os.path.join(d, "none", "b.db")])
    check(rc == 2 and "does not exist" in err, f"backup into a missing folder: exit 2: {rc} {err}")
    rc, out, err = run(["backup", "-c", cfg, link])
    check(rc == 2 and "exists" in err and os.path.islink(link), f"backup over a link to a file: refused: {rc} {err}")
    dangling = os.path.join(d, "dangling.db")
    os.symlink("out/absent.db", dangling)
    rc, out, err = run(["backup", "-c", cfg, dangling])
    check(rc == 2 and os.path.islink(dangling) and not os.path.exists(os.path.join(d, "out", "absent.db")),
          f"backup through a dangling link: refused, the link kept: {rc} {err}")
    fresh = os.path.join(d, "out", "b.db")
    rc, out, err = run(["backup", "-c", cfg, fresh])
    check(rc == 0 and os.path.getsize(fresh) > 4096, f"backup to a new file: {rc} {err}")


def store_names():
    """--store NEW.db is created under the very name given, or refused: a long
    relative name used to be cut to 100 bytes, the store landing elsewhere."""
    d = tempfile.mkdtemp(prefix="qtr_out_")
    name = "s" * 120 + ".db"
    rc, out, err = run(BT + ["--store", name, "--quiet"], cwd=d)
    check(rc == 0 and listing(d) == [name], f"--store LONG-NAME: that name: {rc} {err} {listing(d)}")
    too_long = "t" * 600 + ".db"
    rc, out, err = run(BT + ["--store", too_long, "--quiet"], cwd=d)
    check(rc == 2 and "longer than" in err and listing(d) == [name], f"--store TOO-LONG: refused: {rc} {err}")


def main():
    os.chdir(tempfile.mkdtemp(prefix="qtr_out_cwd_"))   # whatever goes wrong, nothing lands in the checkout
    streams()
    devices_and_fifos()
    symlinks()
    refusals()
    failures_leave_no_half_file()
    store_outputs()
    store_names()
    finish()


if __name__ == "__main__":
    main()
