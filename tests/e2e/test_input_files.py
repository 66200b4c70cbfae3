"""The server's own input files cannot hang or swell it: a config, a policy or
an ESS state file that is a FIFO (no writer), /dev/zero or a folder is refused
at once, by name, with exit 2 (issue 10, item 9, for the files that are not
market data)."""
import os
import subprocess
import tempfile
import time

from qtrtest import check, finish, run, write


def refused(what, args, needle, cwd=None):
    t0 = time.monotonic()
    try:
        rc, out, err = run(args, timeout=20, cwd=cwd)
    except subprocess.TimeoutExpired:
        check(False, f"{what}: still running after 20 s")
        return
    took = time.monotonic() - t0
    check(rc == 2, f"{what}: exit {rc}, want 2 ({(out + err).strip()[-300:]})")
    said = out + err
    check(needle in said, f"{what}: '{needle}' not in: {said.strip()[-300:]}")
    check(took < 10, f"{what}: took {took:.1f} s")


def main():
    d = tempfile.mkdtemp(prefix="qtr_inputs_")
    fifo = os.path.join(d, "fifo")
    os.mkfifo(fifo)

    print("== a config that is a FIFO, /dev/zero or a folder")
    refused("config FIFO", ["run", "-c", fifo], f"{fifo}: not a regular file (a FIFO or pipe)")
    refused("config /dev/zero", ["run", "-c", "/dev/zero"], "/dev/zero: not a regular file (a character device)")
    refused("config folder", ["backtest", "-c", d, "--data", "x.csv"], f"{d}: not a regular file (a directory)")

    print("== a policy that is a FIFO or /dev/zero")
    refused("policy check FIFO", ["policy", "check", fifo], f"{fifo}: not a regular file (a FIFO or pipe)")
    refused("policy check /dev/zero", ["policy", "check", "/dev/zero"], "not a regular file (a character device)")
    # its errors on stderr, as every other command's; stdout keeps only the valid files
    rc, out, err = run(["policy", "check", "/dev/zero"], timeout=20)
    check(rc == 2 and "not a regular file" in err and out == "", f"policy check's error on stderr: {rc} {out!r} {err!r}")

    print("== an ESS state file that is a FIFO")
    state = os.path.join(d, "var")
    os.makedirs(state)
    os.mkfifo(os.path.join(state, "ess.state"))
    cfg = write(os.path.join(d, "ess.lua"), f"""
return {{
  state_dir = "{state}",
  market = {{ source = "synthetic", symbols = {{ "BTCUSDT" }}, interval_ms = 50 }},
  plugins = {{
    {{ kind = "exchange", name = "paper" }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "strategy", name = "ma_cross" }},
  }},
}}
""")
    refused("ESS state FIFO", ["run", "-c", cfg], "ess.state: not a regular file (a FIFO or pipe)")
    finish()


if __name__ == "__main__":
    main()
