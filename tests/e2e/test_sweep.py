"""qtr backtest --sweep: a 2x2 grid on the real XRPUSDT data gives 4 rows in
grid order whose figures equal single backtests run with the same --set
values; -j 1 and -j 2 write the same bytes; bad specs exit 2 with one clear
line; a combination refused before it runs, or a child that fails, makes
its row say so and the exit status 1."""
import csv
import glob
import io
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time

from qtrtest import DATA, QTR, check, finish, run

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
SPEC = "fast=5..10:5,plugins.ma_cross.slow=20|30"
tmp = tempfile.mkdtemp(prefix="qtr_sweep_")


def sweep(extra, out, out_flag="--sweep-out"):
    return run(["backtest", "--data", CSV, "--sweep", SPEC, out_flag, out] + extra, timeout=120)


out1, out2 = os.path.join(tmp, "j1.csv"), os.path.join(tmp, "j2.csv")
rc, so, se = sweep(["-j", "1"], out1)
check(rc == 0, f"sweep -j 1 exits 0 (got {rc}: {se})")
check("top 4 by net PnL" in so, f"the top rows are printed: {so!r}")
# each top row names its parameters (the path's last part): fast=5 slow=20
top = [line.split() for line in so.splitlines()[2:6]]
check(sorted((t[1], t[2]) for t in top if len(t) > 2)
      == [("fast=10", "slow=20"), ("fast=10", "slow=30"), ("fast=5", "slow=20"), ("fast=5", "slow=30")],
      f"the top rows name each parameter and its value: {top}")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "fast=5,plugins.ma_cross.fast=6", "--sweep-out",
                  os.path.join(tmp, "same-name.csv")], timeout=120)
check(rc == 2 and "--set plugins.ma_cross.fast: the same setting as --set fast" in se and se.count("\n") == 1,
      f"two paths to one option in a sweep: refused, one line ({rc}: {se!r})")
# two options of the same name in two plugins: the top rows give whole paths
two = os.path.join(tmp, "two.lua")
with open(two, "w") as f:
    f.write('return { account = { starting_balance = "10000" }, store = false, plugins = {\n'
            '  { kind = "exchange", name = "paper" }, { kind = "risk", name = "policy" },\n'
            '  { kind = "strategy", name = "ma_cross", options = { fast = 10, slow = 30, order_notional = "1000" } },\n'
            '  { kind = "strategy", name = "breakout", options = { period = 20, order_notional = "500" } } } }\n')
rc, so, se = run(["backtest", "-c", two, "--data", CSV, "--sweep",
                  "plugins.ma_cross.order_notional=1000,plugins.breakout.order_notional=500|900,fast=10",
                  "--sweep-out", os.path.join(tmp, "names.csv")], timeout=120)
check(rc == 0 and "plugins.ma_cross.order_notional=1000 plugins.breakout.order_notional=900 fast=10" in so
      and "plugins.ma_cross.order_notional=1000 plugins.breakout.order_notional=500 fast=10" in so,
      f"options of one name in two plugins are named by their whole paths ({rc}: {so!r} {se!r})")
rc, so, se = run(["backtest", "--data", CSV, "--set", "plugins.ma_cross.fast=6", "--set", "fast=5", "--quiet"])
check(rc == 2 and "--set fast: the same setting as --set plugins.ma_cross.fast" in se,
      f"--set of one option by two paths: refused, naming both ({rc}: {se!r})")
rc, so, se = sweep(["-j", "2"], out2, "--out")   # --out: the product's name for the CSV
check(rc == 0, f"sweep -j 2 exits 0 (got {rc}: {se})")
b1, b2 = open(out1, "rb").read(), open(out2, "rb").read()
check(b1 == b2, "-j 1 and -j 2 give the same CSV, byte for byte")

rows = list(csv.DictReader(io.StringIO(b1.decode())))
check(len(rows) == 4, f"4 rows (got {len(rows)})")
grid = [(r["fast"], r["plugins.ma_cross.slow"]) for r in rows]
check(grid == [("5", "20"), ("5", "30"), ("10", "20"), ("10", "30")], f"grid order, first parameter slowest: {grid}")
figures = ["net_pnl", "end_equity", "realized_pnl", "unrealized_pnl", "fees", "funding", "trades", "wins", "losses",
           "max_drawdown_pct", "fills", "orders", "signals", "time_in_market_ms"]
nets = set()
for r in rows:
    check(r["status"] == "ok" and r["error"] == "", f"row {r} ok")
    rc, so, se = run(["backtest", "--data", CSV, "--set", "fast=" + r["fast"], "--set",
                      "slow=" + r["plugins.ma_cross.slow"], "--quiet", "--json", "-"])
    check(rc == 0, f"single backtest with --set exits 0 ({se})")
    rep = json.loads(so)
    for k in figures:
        check(str(rep[k]) == r[k], f"{r['fast']}/{r['plugins.ma_cross.slow']}: {k} {r[k]} == single run {rep[k]}")
    for k in ("win_rate", "sharpe", "sortino", "calmar"):
        check(abs(float(r[k]) - rep[k]) < 1e-9, f"{k} {r[k]} == single run {rep[k]}")
    nets.add(r["net_pnl"])
check(len(nets) == 4, f"the parameters reach the strategy: 4 different results ({nets})")

# --set alone: the same as a config saying it; a bad one refused naming it.
rc, so, se = run(["backtest", "--data", CSV, "--set", "plugins.nope.fast=3", "--quiet"])
check(rc == 2 and "(built-in default): --set plugins.nope.fast: no plugin named nope in the config" in se,
      f"--set on a missing plugin: exit 2, no line of the added text ({rc}: {se})")
# With --sweep, an option a backtest does not know is refused once, before
# any child (it once went to every child, each failing with it), and no CSV
# is written; the options a child takes still pass.
bad_out = os.path.join(tmp, "unknown.csv")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "fast=5|10", "--out", bad_out, "--foo"])
check(rc == 2 and "unknown option '--foo'" in se and "sweep row" not in se and not os.path.exists(bad_out),
      f"--sweep with --foo: exit 2 before any child, no CSV ({rc}: {se})")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "fast=5|10", "--out", bad_out, "--sweep-out", bad_out])
check(rc == 2 and "the CSV is named twice" in se, f"--out and --sweep-out together: exit 2 ({rc}: {se})")
FUND = os.path.join(DATA, "XRPUSDT-perp-funding-8h.csv")
rc, so, se = run(["backtest", "--data", CSV, "--funding", FUND, "--sweep", "fast=5|10", "--out", bad_out, "--quiet",
                  "--log-level", "warn", "--log-json"])
check(rc == 0 and len(list(csv.DictReader(open(bad_out)))) == 2,
      f"--funding, --quiet and the log options pass to the children ({rc}: {se})")

# a value refused because a --set gave it says so: the config file (or the
# built-in default) the error names did not say it
for spec, said in (("account.starting_balance=-5", "account.starting_balance: -5 is out of range: must be > 0"),
                   ("fast=0", "plugin ma_cross: option fast: 0 is out of range [1, 999]"),
                   ("plugins.ma_cross.fast=0", "plugin ma_cross: option fast: 0 is out of range [1, 999]"),
                   ("plugins.paper.taker_fee=x", "plugin paper: option taker_fee: 'x': not a decimal number")):
    path = spec.split("=")[0]
    rc, so, se = run(["backtest", "--data", CSV, "--set", spec, "--quiet"])
    check(rc == 2 and f"{said} (set by --set {path})" in se, f"--set {spec}: exit 2, the --set named ({rc}: {se})")
# and one it did not give is not blamed on it
rc, so, se = run(["backtest", "--data", CSV, "--set", "slow=40", "--set", "account.starting_balance=0", "--quiet"])
check(rc == 2 and "account.starting_balance: 0 is out of range: must be > 0 (set by --set account.starting_balance)" in se
      and "--set slow" not in se, f"only the --set that gave the value is named ({rc}: {se})")

# a value of the wrong type is shown as given
rc, so, se = run(["backtest", "--data", CSV, "--set", "plugins.ma_cross.fast=2.5", "--quiet"])
check(rc == 2 and "option fast: expected an integer, got a string ('2.5')" in se, f"--set fast=2.5: exit 2 ({rc}: {se})")
rc, so, se = run(["backtest", "--data", CSV, "--set", "plugins.ma_cross.fast=\x01" + "9x" * 30, "--quiet"])
check(rc == 2 and "got a string ('?" + ("9x" * 20)[:39] + "...')" in se,
      f"a long value is cut at 40 bytes, a control byte shown as '?' ({rc}: {se})")

# a path under plugins that is not plugins.NAME.OPTION was once set where no
# one read it, and the run went on without it (exit 0)
for path in ("plugins.3.options.fast", "plugins.ma_cross", "plugins.x.y.z", "plugins"):
    rc, so, se = run(["backtest", "--data", CSV, "--set", path + "=3", "--quiet"])
    check(rc == 2 and f"--set {path}: a plugin option is plugins.NAME.OPTION" in se,
          f"--set {path}: exit 2, naming the path ({rc}: {se})")

# --set with -c: relative paths still from the config's folder, money as a
# decimal string, and the config's own line numbers in its errors.
XRP = os.path.join("examples", "backtest-xrp.lua")
base = run(["backtest", "-c", XRP, "--data", CSV, "--quiet", "--json", "-"])
same = run(["backtest", "-c", XRP, "--data", CSV, "--quiet", "--json", "-", "--set", "plugins.paper.taker_fee=0.0004"])
check(base[0] == 0 and same == base, f"--set to the value the file has: the same report, byte for byte ({same[2]})")
out = os.path.join(tmp, "fee.csv")
rc, so, se = run(["backtest", "-c", XRP, "--data", CSV, "--sweep", "plugins.paper.taker_fee=0.0002..0.0004:0.0001",
                  "-j", "2", "--sweep-out", out])
rows = list(csv.DictReader(open(out))) if rc == 0 else []
check([r["plugins.paper.taker_fee"] for r in rows] == ["0.0002", "0.0003", "0.0004"], f"a decimal range: {rows} {se}")
if rows:
    check(rows[2]["net_pnl"] == json.loads(base[1])["net_pnl"], "the file's own fee gives the file's own result")
    check(len({r["fees"] for r in rows}) == 3, f"the fee reaches the paper exchange: {[r['fees'] for r in rows]}")
cfg = os.path.join(tmp, "broken.lua")
with open(cfg, "w") as f:
    f.write("return {\n  account = { starting_balance = '10000' },\n  store = nil + 1,\n  plugins = {},\n}\n")
rc, so, se = run(["backtest", "-c", cfg, "--data", CSV, "--set", "fast=3"])
check(rc == 2 and f"{cfg}:3:" in se and "set by" not in se, f"the config's error keeps its line with --set: {se!r}")

bad = {
    "fast=20..5": "an empty range",
    "fast=5..20:0": "the step must be greater than 0",
    "fast=5..20:-5": "the step must be greater than 0",
    "nosuch=1..2": "nosuch: unknown setting",
    "plugins.nope.fast=1..2": "no plugin named nope",
    "plugins.ma_cross=1..2": "a plugin option is plugins.NAME.OPTION",
    "fast=1..1000,slow=1..2": "more than 1000 combinations",
    "fast=": "no values",
    "fast=1..2,fast=3": "given twice",
    "fa-st=1..2": "bad path",
    "fast=-90000000000..90000000000": "more than 1000 values",
    "fast=1..2:x": "a range is A..B or A..B:STEP",
}
for spec, why in bad.items():
    out = os.path.join(tmp, "bad.csv")
    rc, so, se = run(["backtest", "--data", CSV, "--sweep", spec, "--sweep-out", out])
    lines = [l for l in se.splitlines() if l]
    check(rc == 2, f"--sweep {spec!r}: exit 2 (got {rc})")
    check(len(lines) == 1 and why in lines[0] and "--sweep" in lines[0], f"--sweep {spec!r}: one line saying {why!r}: {se!r}")
    check(not os.path.exists(out), f"--sweep {spec!r}: no CSV written")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "fast=5", "--out", os.path.join(tmp, "one.csv")])
check(rc == 0 and "sweep: 1 combination, 1 ok" in so, f"one combination, said in the singular ({rc}: {so[:200]!r})")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "fast=5|6", "--json", os.path.join(tmp, "x.json")])
check(rc == 2 and "--json: not with --sweep" in se, f"--json with --sweep refused ({rc}: {se})")

# A combination the config or a plugin refuses while others load: checked
# before any child runs, its row says why, the others run, exit 1.
out = os.path.join(tmp, "refused.csv")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "fast=5|x,slow=5|30", "--sweep-out", out])
check(rc == 1, f"refused combinations: exit 1 (got {rc}: {se})")
rows = list(csv.DictReader(open(out)))
check([r["status"] for r in rows] == ["refused", "ok", "refused", "refused"], f"statuses: {[r['status'] for r in rows]}")
check(rows[0]["error"].count("slow: must be greater than fast (5), got 5") == 1,
      f"the plugin's reason, once: {rows[0]['error']!r}")
check("option fast: expected an integer, got a string" in rows[2]["error"], f"the type: {rows[2]['error']!r}")
check(rows[0]["net_pnl"] == "" and rows[1]["net_pnl"] != "", "no figures on a refused row")
check("sweep row 1 refused" in se, f"the refusal is on stderr: {se!r}")
rc, so, se = run(["backtest", "--data", CSV, "--sweep", "plugins.ma_cross.fastt=1..2"])
check(rc == 2 and "option fastt: unknown option" in se and se.count("\n") == 1,
      f"an option the plugin does not declare: exit 2, one line ({rc}: {se!r})")

# A bad row among the first ones, which a backtest checks before its run:
# refused once, before any child, exit 2, no CSV (not a failed row each).
bad_csv = os.path.join(tmp, "XRPUSDT-bad.csv")
with open(bad_csv, "w") as f:
    f.write("open_time_ms,open,high,low,close,volume\n1,1,1,1,1,1\n2,x,1,1,1,1\n")
out = os.path.join(tmp, "early.csv")
rc, so, se = run(["backtest", "--data", bad_csv, "--sweep", "fast=5|6", "-j", "2", "--sweep-out", out])
check(rc == 2 and "XRPUSDT-bad.csv:3" in se and se.count("\n") == 1 and not os.path.exists(out),
      f"a bad early row: exit 2, one line, no CSV ({rc}: {se!r})")

# Children that fail at run time (a bad row further on, found as the run
# reads it): each row says so, exit 1.
with open(CSV) as src:
    good_rows = src.readlines()[:1500]
with open(bad_csv, "w") as f:
    f.writelines(good_rows)
    f.write("1637384700000,x,1,1,1,1\n")
out = os.path.join(tmp, "fail.csv")
rc, so, se = run(["backtest", "--data", bad_csv, "--sweep", "fast=5|6", "-j", "2", "--sweep-out", out])
check(rc == 1, f"failed children: exit 1 (got {rc})")
rows = list(csv.DictReader(open(out)))
check([r["status"] for r in rows] == ["failed", "failed"], f"statuses: {[r['status'] for r in rows]}")
check(all(r["net_pnl"] == "" and r["error"].startswith("exit 2: ") and "XRPUSDT-bad.csv:1501" in r["error"]
          for r in rows), f"each failed row says why: {[r['error'] for r in rows]}")
check("sweep row 2 failed" in se, f"the failure is on stderr: {se!r}")
# SIGTERM while children run (forced: sent once a child's stderr file
# exists): the children are killed and reaped, the temporary folder is
# removed, no CSV is written, exit 1.
sigtmp = os.path.join(tmp, "sigtmp")
os.mkdir(sigtmp)
out = os.path.join(tmp, "sig.csv")
p = subprocess.Popen([QTR, "backtest", "--data", CSV, "--sweep", "fast=2..21,slow=22..31", "-j", "2", "--sweep-out",
                      out], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                     env=dict(os.environ, TMPDIR=sigtmp))
started, deadline = [], time.monotonic() + 60
while not started and time.monotonic() < deadline and p.poll() is None:
    started = glob.glob(os.path.join(sigtmp, "qtr-sweep-*", "*.err"))
    time.sleep(0.01)
check(started, "a child started")
sweep_dir = os.path.dirname(started[0]) if started else sigtmp
p.send_signal(signal.SIGTERM)
try:
    so, se = p.communicate(timeout=20)
except subprocess.TimeoutExpired:
    p.kill()
    so, se = p.communicate()
check(p.returncode == 1 and "stopped by signal 15" in se, f"SIGTERM: exit 1 and why ({p.returncode}: {se!r})")
check(not os.path.exists(out), "no CSV after a stop")
check(os.listdir(sigtmp) == [], f"the temporary folder is removed: {os.listdir(sigtmp)}")
orphans = []
for pid in os.listdir("/proc"):
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            if sweep_dir.encode() in f.read():
                orphans.append(pid)
    except OSError:
        pass
check(orphans == [], f"no child left running: {orphans}")
shutil.rmtree(tmp, ignore_errors=True)
finish()
