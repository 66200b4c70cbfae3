#!/usr/bin/env python3
"""The tests of a ctest run (its Testing/Temporary/LastTest.log) that failed
only because LeakSanitizer itself failed: its tracer thread crashed while
stopping the process's threads at exit ("Tracer caught signal 11",
"LeakSanitizer has encountered a fatal error"; google/sanitizers#1353, open),
so no leak check ran, and no sanitizer reported a finding. One name a line;
tools/test.sh reruns these once. A test with a real finding (an ASan or LSan
report, a UBSan runtime error) is never listed.

The e2e tests see qtr's output in its own log, not theirs: qtrtest.Server
prints TOOL_MARK with the log's path when it finds the fatal error there."""
import re
import sys

FATAL = "LeakSanitizer has encountered a fatal error"
TOOL_MARK = "SANITIZER-TOOL-FAILURE"
FINDING = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer: detected)|runtime error:|SUMMARY: (Address|Undefined)")


def main(path):
    with open(path, errors="replace") as f:
        text = f.read()
    # each test: "N/M Testing: name" ... "Test Passed." / "Test Failed."
    for m in re.finditer(r"^\d+/\d+ Testing: (\S+)\n(.*?)^Test (Passed|Failed)\.", text, re.S | re.M):
        name, body, result = m.group(1), m.group(2), m.group(3)
        if result == "Failed" and (FATAL in body or TOOL_MARK in body) and not FINDING.search(body):
            print(name)


if __name__ == "__main__":
    if len(sys.argv) != 2:
        sys.exit("usage: lsan_tool_failures.py LastTest.log")
    main(sys.argv[1])
