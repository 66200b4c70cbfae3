"""Data files that never end, through the real qtr binary: --data and
--funding of `qtr backtest` and market.files of `qtr run` given /dev/zero, a
FIFO nobody writes to, or a sparse file whose second line runs for 3 GiB.
Each must exit 2 with one clear line naming the file, promptly, and with its
peak memory far below the file's size."""
import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "e2e"))
from qtrtest import DATA, PLUGINS, QTR, check, finish, write  # noqa: E402

CSV = os.path.join(DATA, "XRPUSDT-perp-5m.csv")
MAX_RSS_KIB = 128 * 1024      # the peak a refusal may cost
TIMEOUT = 30                  # seconds: a blocked open or an endless read fails here


def run_bounded(args):
    """qtr with args: (exit code, stderr, peak RSS in KiB). Killed, and
    reported as exit None, if it outlives TIMEOUT or its RSS the bound."""
    with tempfile.TemporaryFile() as err:
        p = subprocess.Popen([QTR] + args, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=err)
        deadline = time.monotonic() + TIMEOUT
        code, peak = None, 0
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                code, peak = os.waitstatus_to_exitcode(status), ru.ru_maxrss
                break
            try:
                with open(f"/proc/{p.pid}/status") as f:
                    rss = next((int(line.split()[1]) for line in f if line.startswith("VmRSS:")), 0)
            except (OSError, StopIteration):
                rss = 0
            peak = max(peak, rss)
            if time.monotonic() > deadline or rss > MAX_RSS_KIB:
                os.kill(p.pid, signal.SIGKILL)
                os.wait4(p.pid, 0)
                break
            time.sleep(0.01)
        p.returncode = code if code is not None else -9
        err.seek(0)
        return code, err.read().decode(errors="replace"), peak


def expect_refusal(what, args, needle, one_line=True):
    t0 = time.monotonic()
    code, err, peak = run_bounded(args)
    took = time.monotonic() - t0
    print(f"{what}: exit {code} in {took:.2f} s, peak RSS {peak} KiB: {err.strip()!r}", flush=True)
    check(code == 2, f"{what}: exit 2, got {code}")
    check(needle in err, f"{what}: stderr names the problem ({needle!r}): {err!r}")
    lines = [line for line in err.splitlines() if line.strip()]
    check(not one_line or len(lines) == 1, f"{what}: one line on stderr, got {len(lines)}")
    check(peak < MAX_RSS_KIB, f"{what}: peak RSS {peak} KiB < {MAX_RSS_KIB} KiB")


def config(d, market=""):
    """The paper exchange and the built-in default policy: enough to reach the data."""
    return write(os.path.join(d, f"cfg{len(os.listdir(d))}.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  store = false,
  {market}
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }} }},
}}
""")


def sparse(path, first_line, size=3 << 30):
    """first_line, then a hole of NUL bytes: one line of ~3 GiB, no disk used."""
    with open(path, "wb") as f:
        f.write(first_line.encode())
        f.truncate(size)
    return path


def main():
    d = tempfile.mkdtemp(prefix="qtr_data_inputs_")
    cfg = config(d)
    fifo = os.path.join(d, "XRPUSDT-fifo.csv")
    os.mkfifo(fifo)
    huge = sparse(os.path.join(d, "XRPUSDT-huge.csv"), "open_time_ms,open,high,low,close,volume\n")
    huge_funding = sparse(os.path.join(d, "XRPUSDT-funding-huge.csv"), "funding_time_ms,funding_rate\n")
    long_line = "line longer than 4096 bytes"
    try:
        bt = ["backtest", "-c", cfg, "--quiet", "--data"]
        expect_refusal("--data /dev/zero", bt + ["/dev/zero"], "/dev/zero: not a regular file (a character device)")
        expect_refusal("--data FIFO", bt + [fifo], f"{fifo}: not a regular file (a FIFO or pipe)")
        expect_refusal("--data huge line", bt + [huge], f"{huge}:2: {long_line}")
        expect_refusal("--funding /dev/zero", bt + [CSV, "--funding", "/dev/zero"],
                       "--funding /dev/zero: not a regular file (a character device)")
        expect_refusal("--funding FIFO", bt + [CSV, "--funding", fifo], f"--funding {fifo}: not a regular file")
        expect_refusal("--funding huge line", bt + [CSV, "--funding", huge_funding], f"{huge_funding}:2: {long_line}")
        for what, path, needle in (("FIFO", fifo, f"{fifo}: not a regular file"),
                                   ("huge line", huge, f"{huge}:2: {long_line}")):
            run_cfg = config(d, f'market = {{ source = "csv", files = {{ "{path}" }} }},')
            # qtr run logs the error and repeats it as its last word: two lines
            expect_refusal(f"run market.files {what}", ["run", "-c", run_cfg, "--log-level", "error"], needle,
                           one_line=False)
        # the real files still load
        code, err, _ = run_bounded(bt + [CSV, "--funding", os.path.join(DATA, "XRPUSDT-perp-funding-8h.csv")])
        check(code == 0, f"the real data and funding files load: {code} {err!r}")
    finally:
        for p in (fifo, huge, huge_funding):
            os.unlink(p)


main()
finish()
