"""A plugin links libqtr-indicators through pkg-config alone: built out of
tree with cc and the build tree's qtr-indicators.pc, with -z defs (so it
needs nothing from the host), it exports none of the library's symbols
(hidden visibility), and loaded with dlopen it computes Wilder's RSI of
StockCharts' example (70.46 first)."""
import ctypes
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "e2e"))
from qtrtest import BUILD, check, finish  # noqa: E402

SOURCE = r"""
#include <qtr/indicators.h>

__attribute__((visibility("default"))) double first_rsi(const long long *closes, int n, int period)
{
    qtr_ind_rsi r;
    double v = -1;
    if (!qtr_ind_rsi_init(&r, period)) return -2;
    for (int i = 0; i < n && v < 0; i++)
        if (qtr_ind_rsi_update(&r, (qtr_dec)closes[i]) == QTR_IND_READY) v = r.value;
    qtr_ind_rsi_free(&r);
    return v;
}
"""


def main():
    cc = shutil.which("cc")
    pkg = shutil.which("pkg-config")
    if not cc or not pkg:
        print("SKIP: no cc or pkg-config here")
        sys.exit(0)
    env = dict(os.environ, PKG_CONFIG_PATH=os.path.join(BUILD, "sdk", "uninstalled"))
    flags = subprocess.run([pkg, "--cflags", "--libs", "qtr-indicators"], capture_output=True, text=True, env=env)
    check(flags.returncode == 0, f"pkg-config qtr-indicators: {flags.stderr}")
    d = tempfile.mkdtemp(prefix="qtr_ind_plugin_")
    src, so = os.path.join(d, "strategy_rsi.c"), os.path.join(d, "strategy_rsi.so")
    with open(src, "w") as f:
        f.write(SOURCE)
    cmd = [cc, "-std=c17", "-shared", "-fPIC", "-fvisibility=hidden", "-Wall", "-Werror", src, "-o", so,
           "-Wl,-z,defs"] + flags.stdout.split()
    p = subprocess.run(cmd, capture_output=True, text=True)
    check(p.returncode == 0, f"{' '.join(cmd)}: {p.stderr}")
    if p.returncode != 0:
        finish()
    syms = subprocess.run(["nm", "-D", "--defined-only", so], capture_output=True, text=True).stdout
    check("first_rsi" in syms and "qtr_ind_" not in syms, f"only the plugin's own symbol is exported: {syms}")
    lib = ctypes.CDLL(so)
    lib.first_rsi.restype = ctypes.c_double
    lib.first_rsi.argtypes = [ctypes.POINTER(ctypes.c_longlong), ctypes.c_int, ctypes.c_int]
    closes = [44.34, 44.09, 44.15, 43.61, 44.33, 44.83, 45.10, 45.42, 45.84, 46.08, 45.89, 46.03, 45.61, 46.28,
              46.28]
    arr = (ctypes.c_longlong * len(closes))(*[round(c * 100) * 1000000 for c in closes])
    v = lib.first_rsi(arr, len(closes), 14)
    check(abs(v - 70.46) < 0.005, f"the plugin's RSI: {v}")
    shutil.rmtree(d)
    finish()


if __name__ == "__main__":
    main()
