"""Outputs that must not lose data or fail silently (probe-cli items 2, 4, 5, 6):

- an output naming an input file (--data, --funding, --mark, -c) or another
  output's file is refused with exit 2 and one line naming both options,
  before anything is written: backtest --json/--html/--trades/--store, the
  sweep's --out, indicators --out
- a sweep whose --data is missing or has a bad header is refused once, exit 2,
  before any child runs and without a CSV
- a failed write to standard output (/dev/full, a closed stdout) is exit 1
  with a line naming "standard output", for every command
- --trades - shows nothing of a run that a bad row further on makes void
- standard input, output or error closed by the caller (`>&-`): no file qtr
  opens takes its number, so a report gets only its own bytes (not the
  trades meant for stdout, not the log meant for stderr); "-" still names no
  open descriptor (exit 2), and a failed stdout is still exit 1
"""
import os
import shutil
import subprocess
import tempfile

from qtrtest import DATA, QTR, SRC, check, data_head as head, finish, run

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")


def content(path):
    with open(path, "rb") as f:
        return f.read()


def refused_same(args, opts, cwd, protect):
    """args must exit 2 with one line naming both options, every protected
    file unchanged and no new file in cwd."""
    before = {p: content(p) for p in protect}
    names = sorted(os.listdir(cwd))
    rc, out, err = run(args, cwd=cwd)
    lines = err.strip().splitlines()
    check(rc == 2 and len(lines) == 1 and all(o in err for o in opts) and "refused" in err,
          f"{args}: exit {rc}, stderr {err!r}")
    for p, old in before.items():
        if not check(content(p) == old, f"{args}: {p} was changed"):
            with open(p, "wb") as f:   # for the next case
                f.write(old)
    check(sorted(os.listdir(cwd)) == names, f"{args}: left {set(os.listdir(cwd)) - set(names)}")


def same_file():
    d = tempfile.mkdtemp(prefix="qtr_same_")
    data = head(os.path.join(d, "XRPUSDT-a.csv"), 600)
    os.symlink("XRPUSDT-a.csv", os.path.join(d, "link.json"))
    os.link(data, os.path.join(d, "hard.csv"))
    cfg = os.path.join(d, "bt.lua")
    shutil.copy(os.path.join(SRC, "examples", "backtest-xrp.lua"), cfg)
    bt = ["backtest", "--data", "XRPUSDT-a.csv", "--quiet"]
    refused_same(bt + ["--json", "XRPUSDT-a.csv"], ["--json", "--data"], d, [data])
    refused_same(bt + ["--html", "./XRPUSDT-a.csv"], ["--html", "--data"], d, [data])
    refused_same(bt + ["--trades", "link.json"], ["--trades", "--data"], d, [data])   # through a symlink
    refused_same(bt + ["--json", "hard.csv"], ["--json", "--data"], d, [data])        # a hard link
    refused_same(bt + ["--store", "XRPUSDT-a.csv"], ["--store", "--data"], d, [data])
    refused_same(bt + ["-c", "bt.lua", "--json", "bt.lua"], ["--json", "-c"], d, [data, cfg])
    # two outputs, one file: new or existing
    refused_same(bt + ["--json", "x.json", "--html", "x.json"], ["--json", "--html"], d, [data])
    old = os.path.join(d, "old.json")
    with open(old, "w") as f:
        f.write("{}")
    os.symlink("old.json", os.path.join(d, "old-link"))
    refused_same(bt + ["--json", "old.json", "--trades", "old-link"], ["--json", "--trades"], d, [data, old])
    refused_same(["backtest", "--data", "XRPUSDT-a.csv", "--sweep", "fast=5..10:5", "--out", "XRPUSDT-a.csv"],
                 ["--out", "--data"], d, [data])
    refused_same(["indicators", "--data", "XRPUSDT-a.csv", "--ind", "sma:3", "--out", "XRPUSDT-a.csv"],
                 ["--out", "--data"], d, [data])
    # still fine: two outputs to one stream, outputs beside the input
    rc, out, err = run(bt + ["--json", "-", "--trades", "-"], cwd=d)
    check(rc == 0 and out.startswith("time_ms,") and '"candles"' in out, f"--json - --trades -: {rc} {err!r}")
    rc, _, err = run(bt + ["--json", "r.json", "--html", "r.html"], cwd=d)
    check(rc == 0 and os.path.exists(os.path.join(d, "r.html")), f"two outputs, two files: {rc} {err!r}")
    shutil.rmtree(d)


def sweep_bad_data():
    d = tempfile.mkdtemp(prefix="qtr_sweep_data_")
    with open(os.path.join(d, "XRPUSDT-h.csv"), "w") as f:
        f.write("when,price\n1,2\n")
    for data, want in (("/nonexistent/XRPUSDT.csv", "cannot open"), ("XRPUSDT-h.csv", "XRPUSDT-h.csv:1:")):
        rc, out, err = run(["backtest", "--data", data, "--sweep", "fast=5..10:5", "--out", "s.csv"], cwd=d)
        lines = err.strip().splitlines()
        check(rc == 2 and len(lines) == 1 and want in err and "sweep row" not in err,
              f"sweep with --data {data}: exit {rc}, stderr {err!r}")
        check(not os.path.exists(os.path.join(d, "s.csv")), f"sweep with --data {data} wrote its CSV")
    shutil.rmtree(d)


def stdout_failures():
    d = tempfile.mkdtemp(prefix="qtr_stdout_")
    data = head(os.path.join(d, "XRPUSDT-a.csv"), 600)
    policy = os.path.join(SRC, "policies", "default.lua")
    for args in (["backtest", "--data", data], ["version"], ["plugins"], ["policy", "check", policy], ["--help"]):
        for how in ("full", "closed"):
            if how == "full":
                with open("/dev/full", "w") as full:
                    p = subprocess.run([QTR] + args, stdout=full, stderr=subprocess.PIPE, text=True, timeout=60)
            else:
                p = subprocess.run([QTR] + args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                                   timeout=60, preexec_fn=lambda: os.close(1))
            check(p.returncode == 1 and "standard output" in p.stderr,
                  f"qtr {' '.join(args)} with stdout {how}: exit {p.returncode}, stderr {p.stderr!r}")
    # nothing written to a closed stdout is no failure
    p = subprocess.run([QTR, "backtest", "--data", data, "--quiet"], stdout=subprocess.DEVNULL,
                       stderr=subprocess.PIPE, text=True, timeout=60, preexec_fn=lambda: os.close(1))
    check(p.returncode == 0, f"--quiet with stdout closed: exit {p.returncode}, {p.stderr!r}")
    shutil.rmtree(d)


def run_with_closed(fds, args, cwd):
    """qtr args with the descriptors fds closed (as `>&-`, `2>&-`, `<&-` do);
    stderr is captured unless it is one of them. Returns (exit code, stderr)."""
    def close_them():
        for fd in fds:
            os.close(fd)
    p = subprocess.run([QTR] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                       text=True, timeout=60, cwd=cwd, preexec_fn=close_them)
    return p.returncode, p.stderr


def closed_std_fds():
    d = tempfile.mkdtemp(prefix="qtr_closed_fd_")
    head(os.path.join(d, "XRPUSDT-a.csv"), 600)
    bt = ["backtest", "--data", "XRPUSDT-a.csv"]
    rc, _, err = run(bt + ["--json", "ref.json", "--quiet"], cwd=d)
    if not check(rc == 0, f"the reference report: exit {rc}, {err!r}"):
        return
    want = content(os.path.join(d, "ref.json"))

    def report_is_whole(what):
        path = os.path.join(d, "r.json")
        got = content(path) if os.path.exists(path) else None
        check(got == want, f"{what}: r.json holds the report and only it: "
                           f"{None if got is None else got[:80]!r}")
        if os.path.exists(path):
            os.unlink(path)

    # stdout closed: `--trades -` names no open descriptor (the report's temporary file took fd 1 and got
    # the trades, exit 0); refused before anything is written
    rc, err = run_with_closed([1], bt + ["--json", "r.json", "--trades", "-", "--quiet"], d)
    check(rc == 2 and err.count("\n") == 1 and "--trades -: not an open descriptor" in err,
          f"--trades - with stdout closed: exit {rc}, {err!r}")
    check(not os.path.exists(os.path.join(d, "r.json")), "--trades - with stdout closed: r.json written")
    for opt in ("--json", "--html", "--trades"):
        rc, err = run_with_closed([1], bt + [opt, "/dev/stdout", "--quiet"], d)
        check(rc == 2 and f"{opt} /dev/stdout: not an open descriptor" in err, f"{opt} /dev/stdout, closed: {rc} {err!r}")
    # stdout closed, the report table written to it: exit 1 naming standard output, the JSON whole
    rc, err = run_with_closed([1], bt + ["--json", "r.json"], d)
    check(rc == 1 and "standard output" in err, f"the table to a closed stdout: exit {rc}, {err!r}")
    report_is_whole("stdout closed")
    # stderr closed while logging: the log lines went into the report (exit 0, a broken JSON)
    rc, _ = run_with_closed([2], bt + ["--json", "r.json", "--quiet", "--log-level", "info"], d)
    check(rc == 0, f"stderr closed: exit {rc}")
    report_is_whole("stderr closed, logging at info")
    # stdin closed, and all three
    rc, err = run_with_closed([0], bt + ["--json", "r.json", "--quiet"], d)
    check(rc == 0, f"stdin closed: exit {rc}, {err!r}")
    report_is_whole("stdin closed")
    rc, _ = run_with_closed([0, 1, 2], bt + ["--json", "r.json", "--log-level", "info"], d)
    check(rc == 1, f"stdin, stdout and stderr closed, the table written: exit {rc}")
    report_is_whole("all three closed")
    check(sorted(os.listdir(d)) == ["XRPUSDT-a.csv", "ref.json"], f"left behind: {os.listdir(d)}")
    shutil.rmtree(d)


def trades_stream_withheld():
    d = tempfile.mkdtemp(prefix="qtr_trades_")
    late = os.path.join(d, "XRPUSDT-late.csv")
    with open(CSV) as src:
        lines = src.readlines()
    with open(late, "w") as f:
        f.writelines(lines[:1500])
        f.write("1637384700000,abc,1,1,1,1\n")   # a bad row after fills were made
        f.writelines(lines[1501:2000])
    rc, out, err = run(["backtest", "--data", late, "--trades", "-", "--quiet"])
    check(rc == 2 and out == "", f"--trades - of a void run: exit {rc}, {len(out.splitlines())} lines out, {err!r}")
    good = head(os.path.join(d, "XRPUSDT-ok.csv"), 1500)
    rc, out, err = run(["backtest", "--data", good, "--trades", "-", "--quiet"])
    rc2, _, _ = run(["backtest", "--data", good, "--trades", os.path.join(d, "t.csv"), "--quiet"])
    check(rc == 0 and rc2 == 0 and len(out.splitlines()) > 10 and out == content(os.path.join(d, "t.csv")).decode(),
          f"--trades - of a good run: exit {rc}, {len(out.splitlines())} lines, not the --trades FILE bytes")
    shutil.rmtree(d)


def main():
    same_file()
    sweep_bad_data()
    stdout_failures()
    closed_std_fds()
    trades_stream_withheld()
    finish()


if __name__ == "__main__":
    main()
