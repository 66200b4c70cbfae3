"""Command-line input that used to pass silently (probe-cli items 3, 8, 9, 10, 12):

- backtest --funding/--mark: an empty path refused as --data's is; a file whose
  symbol matches no --data file refused with one line naming it and the data's
  symbols; --mark errors carry the option, as --funding's do
- backup - and export-trades --out - into a pipe closed early: one line, exit 1,
  never killed by SIGPIPE, no temporary copy of the store left behind
- a single-valued option given twice is refused with one line naming it, exit 2;
  the list options (--data, --funding, --mark, --set) stay repeatable
- indicators -c FILE is loaded whatever is asked for: a bad file is exit 2
- --ind compares the parsed specs: sma:03 is sma:3, bbands:20:2.0 is bbands:20:2
"""
import os
import shutil
import subprocess
import tempfile

from qtrtest import QTR, SRC, check, data_head as head, finish, run, write


def refused(args, needles, cwd, rc_want=2):
    """args must exit rc_want with one line on stderr holding every needle."""
    rc, out, err = run(args, cwd=cwd)
    lines = err.strip().splitlines()
    check(rc == rc_want and len(lines) == 1 and all(n in err for n in needles),
          f"{args}: exit {rc}, stderr {err!r}")
    return err


def funding_and_mark(d):
    head(os.path.join(d, "XRPUSDT-a.csv"), 600)
    write(os.path.join(d, "BTCUSDT-f.csv"), "funding_time_ms,funding_rate\n1637193600000,0.0001\n")
    write(os.path.join(d, "XRPUSDT-f.csv"), "funding_time_ms,funding_rate\n1637193600000,0.0001\n")
    head(os.path.join(d, "BTCUSDT-mark.csv"), 50)
    bad = head(os.path.join(d, "XRPUSDT-mark.csv"), 20)
    with open(bad, "a") as f:
        f.write("1636940100000,abc,1,1,1,1\n")
    bt = ["backtest", "--data", "XRPUSDT-a.csv", "--quiet"]
    for opt in ("--funding", "--mark"):
        refused(bt + [opt, ""], [opt, "empty"], d)
        refused(bt + [opt, "XRPUSDT-f.csv,"], [opt, "empty"], d)
    refused(bt + ["--funding", "BTCUSDT-f.csv"], ["--funding BTCUSDT-f.csv", "BTCUSDT", "XRPUSDT"], d)
    refused(bt + ["--mark", "BTCUSDT-mark.csv"], ["--mark BTCUSDT-mark.csv", "BTCUSDT", "XRPUSDT"], d)
    refused(bt + ["--mark", "XRPUSDT-mark.csv"], ["--mark XRPUSDT-mark.csv:21"], d)
    # the sweep checks the same inputs once, before any child
    refused(["backtest", "--data", "XRPUSDT-a.csv", "--funding", "BTCUSDT-f.csv", "--sweep", "fast=5..10:5",
             "--out", "s.csv"], ["--funding BTCUSDT-f.csv", "matches no --data"], d)
    rc, out, err = run(bt + ["--funding", "XRPUSDT-f.csv"], cwd=d)
    check(rc == 0, f"a matching funding file: exit {rc}, {err!r}")


def closed_pipe(args, cwd, tmpdir, what):
    """args writing to a pipe whose reader is gone before the first byte:
    exit 1 with one line, never SIGPIPE, and nothing left in TMPDIR."""
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.Popen([QTR] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd, env=env)
    p.stdout.close()   # the reader goes (| head that is done) before qtr writes
    try:
        err = p.communicate(timeout=60)[1].decode("utf-8", "replace")
    except subprocess.TimeoutExpired:
        p.kill()
        err = p.communicate(timeout=10)[1].decode("utf-8", "replace")
    lines = err.strip().splitlines()
    check(p.returncode == 1 and len(lines) == 1 and "pipe" in err.lower(),
          f"{what} into a closed pipe: exit {p.returncode}, stderr {err!r}")
    check(os.listdir(tmpdir) == [], f"{what}: left {os.listdir(tmpdir)} in TMPDIR")


def streams_into_closed_pipe(d):
    head(os.path.join(d, "XRPUSDT-s.csv"), 3000)
    db = os.path.join(d, "src.db")
    rc, out, err = run(["backtest", "--data", "XRPUSDT-s.csv", "--store", db, "--quiet"], cwd=d)
    if not check(rc == 0 and os.path.exists(db), f"the store for backup/export: exit {rc}, {err!r}"):
        return
    write(os.path.join(d, "c.lua"),
          f'return {{ store = {{ path = "{db}" }}, plugins = {{ {{ kind = "exchange", name = "paper" }} }} }}\n')
    tmpdir = os.path.join(d, "tmp")
    os.mkdir(tmpdir)
    closed_pipe(["backup", "-c", "c.lua", "-"], d, tmpdir, "backup -")
    closed_pipe(["export-trades", "-c", "c.lua", "--out", "-"], d, tmpdir, "export-trades --out -")
    # still whole through an open pipe, and nothing left behind
    env = dict(os.environ, TMPDIR=tmpdir)
    p = subprocess.run([QTR, "backup", "-c", "c.lua", "-"], capture_output=True, cwd=d, env=env, timeout=60)
    check(p.returncode == 0 and p.stdout[:16] == b"SQLite format 3\x00" and os.listdir(tmpdir) == [],
          f"backup - into a pipe: exit {p.returncode}, {p.stderr!r}, left {os.listdir(tmpdir)}")


def options_twice(d):
    head(os.path.join(d, "XRPUSDT-t.csv"), 300)
    cfg = os.path.join(d, "bt.lua")
    shutil.copy(os.path.join(SRC, "examples", "backtest-xrp.lua"), cfg)
    bt = ["backtest", "--data", "XRPUSDT-t.csv", "--quiet"]
    for twice in (["-c", "bt.lua", "-c", "bt.lua"], ["-c", "bt.lua", "--config", "bt.lua"],
                  ["--log-level", "warn", "--log-level", "error"],
                  ["--json", "a.json", "--json", "b.json"], ["--html", "a.html", "--html", "b.html"],
                  ["--store", "a.db", "--store", "b.db"], ["--trades", "a.csv", "--trades", "b.csv"]):
        refused(bt + twice, [twice[2], "given twice"], d)
    sweep = bt + ["--sweep", "fast=5..10:5", "--out", "s.csv"]
    for twice in (["--sweep-timeout", "5", "--sweep-timeout", "6"], ["-j", "1", "--jobs", "2"],
                  ["-c", "bt.lua", "-c", "bt.lua"]):
        refused(sweep + twice, [twice[2], "given twice"], d)
    refused(["indicators", "--data", "XRPUSDT-t.csv", "--ind", "sma:3", "--out", "x.csv", "--out", "y.csv"],
            ["--out", "given twice"], d)
    refused(["indicators", "--data", "XRPUSDT-t.csv", "--ind", "sma:3", "-c", "bt.lua", "-c", "bt.lua"],
            ["-c", "given twice"], d)
    refused(["export-trades", "--out", "x.csv", "--out", "y.csv"], ["--out", "given twice"], d)
    check(not any(os.path.exists(os.path.join(d, f)) for f in ("a.json", "b.json", "a.db", "b.db", "x.csv",
                                                                   "y.csv", "s.csv")), "an output of a refused run")
    # the lists stay repeatable
    head(os.path.join(d, "ETHUSDT-t.csv"), 300)
    rc, out, err = run(bt + ["--data", "ETHUSDT-t.csv", "--set", "fast=5", "--set",
                             "slow=20"], cwd=d)
    check(rc == 0, f"--data and --set twice: exit {rc}, {err!r}")


def indicators_config_and_specs(d):
    head(os.path.join(d, "XRPUSDT-i.csv"), 300)
    write(os.path.join(d, "syntax.lua"), "return {\n")
    ind = ["indicators", "--data", "XRPUSDT-i.csv", "--ind", "sma:3"]
    refused(ind + ["-c", os.path.join(d, "nonexistent.lua")], ["nonexistent.lua"], d)
    refused(ind + ["-c", "syntax.lua"], ["syntax.lua"], d)
    rc, out, err = run(ind + ["-c", os.path.join(SRC, "examples", "backtest-xrp.lua")], cwd=d)
    check(rc == 0 and out.startswith("open_time_ms,sma_3\n"), f"indicators -c with a good config: exit {rc}, {err!r}")
    # the parsed specs are compared, not their text
    for specs in ("sma:03,sma:3", "bbands:20:2,bbands:20:2.0", "bbands:20:2.5,bbands:020:2.50", "macd:12:26:9,macd:12:26:09"):
        refused(["indicators", "--data", "XRPUSDT-i.csv", "--ind", specs], ["given twice"], d)
    rc, out, err = run(["indicators", "--data", "XRPUSDT-i.csv", "--ind", "sma:03,bbands:20:2.0"], cwd=d)
    check(rc == 0 and out.startswith("open_time_ms,sma_3,bbands_20_2_upper,"), f"canonical names: {rc} {out[:80]!r}")


def main():
    d = tempfile.mkdtemp(prefix="qtr_strict_")
    try:
        funding_and_mark(d)
        streams_into_closed_pipe(d)
        options_twice(d)
        indicators_config_and_specs(d)
    finally:
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
