#!/usr/bin/env python3
"""host/engine publishes its own events through QH_PUBLISH / qh_engine_publish
(engine.c), never through an event built by hand: a hand-built event can keep
stale bytes or miss the payload type check. Fails naming file:line for any
`<event>.type = QTR_EV_...` in host/engine."""
import pathlib
import re
import sys

root = pathlib.Path(sys.argv[1]) / "host" / "engine"
pattern = re.compile(r"\.\s*type\s*=\s*QTR_EV_\w+")
found = []
for path in sorted(root.glob("*.c")):
    for n, line in enumerate(path.read_text().splitlines(), 1):
        if pattern.search(line):
            found.append(f"{path}:{n}: an event built by hand: use QH_PUBLISH: {line.strip()}")
if not any(root.glob("*.c")):
    print(f"no C files under {root}", file=sys.stderr)
    sys.exit(2)
for f in found:
    print(f, file=sys.stderr)
sys.exit(1 if found else 0)
