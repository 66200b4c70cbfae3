"""Two rules of the binance_usdm plugin that no unit test can see:

1. one JSON reader: the built plugin calls no jansson function (every answer
   and stream message is read with bn_jread);
2. Binance API error codes by name: no bare code (-1021, -2013, ...) in the
   plugin's code outside bn_codes.h, where each is named once with its
   meaning (comments and strings may quote them).

Usage: check_plugin_source.py PLUGIN_SOURCE_DIR PLUGIN_SO. Exit 0, or 1 with
one line per offence naming file:line."""
import os
import re
import subprocess
import sys


def strip_comments_and_strings(text):
    """The code only: comments and string/char literals become spaces (newlines kept)."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            out.append(re.sub(r"[^\n]", " ", text[i:j]))
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            out.append(" " * (j - i))
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c:
                j += 2 if text[j] == "\\" else 1
            out.append(" " * (min(j + 1, n) - i))
            i = j + 1
        else:
            out.append(c)
            i += 1
    return "".join(out)


def bare_codes(src_dir):
    code = re.compile(r"(?<![\w.])-\s*[1-4]\d{3}\b")
    found = []
    for name in sorted(os.listdir(src_dir)):
        if not name.endswith((".c", ".h")) or name == "bn_codes.h":
            continue
        with open(os.path.join(src_dir, name), encoding="utf-8") as f:
            text = strip_comments_and_strings(f.read())
        for lineno, line in enumerate(text.split("\n"), 1):
            for m in code.finditer(line):
                found.append(f"{name}:{lineno}: bare Binance error code {m.group(0)}: name it in bn_codes.h")
    return found


def jansson_calls(so):
    out = subprocess.run(["nm", "-D", "--undefined-only", so], check=True, capture_output=True, text=True).stdout
    return [f"{os.path.basename(so)}: calls jansson's {s}: read with bn_jread"
            for s in re.findall(r"\b(json_\w+)", out)]


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().split("\n\n")[-1], file=sys.stderr)
        return 2
    problems = bare_codes(sys.argv[1]) + jansson_calls(sys.argv[2])
    for p in problems:
        print(p)
    print(f"{len(problems)} problem(s)")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
