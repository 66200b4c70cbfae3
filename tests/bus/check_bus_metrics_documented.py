"""Every metric the bus registers (host/bus/*.c: qh_metrics_counter/gauge
with a "bus_..." name, exported as qtr_bus_...) is listed for operators in
docs/operations.md and described in docs/bus.md. Exit 1 naming each one that
is missing; also 1 if no metric is found at all (the pattern went stale)."""
import glob
import os
import re
import sys

src = os.environ.get("QTR_SOURCE_DIR", os.path.join(os.path.dirname(__file__), "..", ".."))
names = set()
for path in glob.glob(os.path.join(src, "host", "bus", "*.c")):
    text = open(path, encoding="utf-8").read()
    names |= set(re.findall(r'qh_metrics_(?:counter|gauge)\(\s*\w+,\s*"(bus_[a-z0-9_]+)"', text))
if len(names) < 5:
    print(f"FAIL: found {len(names)} bus metrics in host/bus/*.c: the pattern no longer matches how they are made")
    sys.exit(1)
bad = 0
for doc in ("operations.md", "bus.md"):
    text = open(os.path.join(src, "docs", doc), encoding="utf-8").read()
    for n in sorted(names):
        if f"`qtr_{n}`" not in text:
            print(f"FAIL: docs/{doc} does not list `qtr_{n}`")
            bad += 1
print(f"{len(names)} bus metrics, {bad} missing from the docs")
sys.exit(1 if bad else 0)
