"""tools/lsan_tool_failures.py: which failed tests tools/test.sh runs once
more under the sanitizers. Only those whose output shows LeakSanitizer's own
failure (its fatal error, or qtrtest's mark for one found in qtr's log) and
no finding of a sanitizer; never a passed test, never a real report."""
import os
import subprocess
import sys
import tempfile

SRC = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "..")
FATAL = "==9372==LeakSanitizer has encountered a fatal error.\n"
MARK = "SANITIZER-TOOL-FAILURE: LeakSanitizer has encountered a fatal error in qtr run (/tmp/x/qtr.log)\n"


def block(n, name, body, result):
    return (f"{n}/9 Testing: {name}\n{n}/9 Test: {name}\nCommand: \"python3\" \"{name}.py\"\nOutput:\n"
            f"----------------------------------------------------------\n{body}<end of output>\n"
            f"Test time =   1.00 sec\n----------------------------------------------------------\n"
            f"Test {result}.\n\"{name}\" end time: Dec 03 19:05 UTC\n\n")


cases = [
    ("tracer_crash_c", "Tracer caught signal 11: addr=0x2d8\n" + FATAL, "Failed", True),
    ("tracer_crash_in_qtr_log", "FAIL: clean stop: 1\n" + MARK + "0 passed, 1 failed\n", "Failed", True),
    ("leak_found", FATAL + "==1==ERROR: LeakSanitizer: detected memory leaks\n", "Failed", False),
    ("asan_found", MARK + "==1==ERROR: AddressSanitizer: heap-use-after-free\n", "Failed", False),
    ("ubsan_found", MARK + "x.c:3:5: runtime error: signed integer overflow\n", "Failed", False),
    ("plain_failure", "FAIL: clean stop: 1\n0 passed, 1 failed\n", "Failed", False),
    ("passed_with_mark", MARK, "Passed", False),
]
log = "Start testing: Dec 03 19:04 UTC\n----------------------------------------------------------\n"
log += "".join(block(i + 1, name, body, result) for i, (name, body, result, _) in enumerate(cases))
with tempfile.NamedTemporaryFile("w", suffix=".log", delete=False) as f:
    f.write(log)
out = subprocess.run([sys.executable, os.path.join(SRC, "tools", "lsan_tool_failures.py"), f.name],
                     capture_output=True, text=True, timeout=30)
os.unlink(f.name)
got = out.stdout.split()
want = [name for name, _, _, retry in cases if retry]
print(f"listed: {got}; want {want}")
if out.returncode != 0 or got != want:
    print(f"FAIL: exit {out.returncode}, {out.stderr}")
    sys.exit(1)
print("1 passed, 0 failed")
