"""The command line's help, end to end (host/main.c, host/cli/usage.c, docs/qtr.1).

- every command and sub-command answers -h and --help (and `qtr help NAME`)
  with its usage on stdout and exit 0: `qtr run --help` and `qtr backtest --help`
  used to say "unknown option"
- `qtr --help` lists every command there is, and every option a command's help
  lists is one its parser accepts
- a typo gets the nearest command or option ("did you mean 'backtest'?"), exit 2
- docs/qtr.1 renders without a warning (man, groff or mandoc, whichever is here),
  names every command and option of the usage, and is installed by CMake to
  share/man/man1 in the server component
"""
import glob
import gzip
import os
import re
import shutil
import subprocess
import tempfile

from qtrtest import BUILD, SRC, check, finish, run

MAN = os.path.join(SRC, "docs", "qtr.1")
COMMANDS = {"run", "backtest", "check", "policy check", "ess status", "ess trip", "ess reset", "reconcile", "backup",
            "export-trades", "indicators", "plugins", "version", "help", "bus status", "symbols fetch"}
GROUPS = {"policy", "ess", "bus", "symbols"}

# a harmless value for each placeholder, and arguments that make each command
# stop early (no server started, nothing written, nothing beyond 127.0.0.1)
VALUES = {"FILE": "/nonexistent/qtr-help/x", "CSV": "/nonexistent/qtr-help/XRPUSDT.csv", "URL": "http://127.0.0.1:1",
          "LEVEL": "warn", "TEXT": "help test", "NAME": "tester", "NEW.db": "/nonexistent/qtr-help/x.db"}
STOP_EARLY = {
    "run": ["-c", "/nonexistent/qtr-help/qtr.lua"],
    "backtest": ["--data", "/nonexistent/qtr-help/XRPUSDT.csv"],
    "check": ["--url", "http://127.0.0.1:1"],
    "ess status": ["--url", "http://127.0.0.1:1"],
    "ess trip": ["--url", "http://127.0.0.1:1", "--reason", "help test"],
    "ess reset": ["--url", "http://127.0.0.1:1", "--reason", "help test"],
    "reconcile": ["--url", "http://127.0.0.1:1"],
    "backup": ["-c", "/nonexistent/qtr-help/qtr.lua", "/nonexistent/qtr-help/b.db"],
    "export-trades": ["-c", "/nonexistent/qtr-help/qtr.lua"],
    "indicators": ["--data", "/nonexistent/qtr-help/XRPUSDT.csv", "--ind", "rsi:14"],
    "plugins": ["-c", "/nonexistent/qtr-help/qtr.lua"],
    "bus status": ["-c", "/nonexistent/qtr-help/qtr.lua"],
    "symbols fetch": ["-c", "/nonexistent/qtr-help/qtr.lua", "--out", "/nonexistent/qtr-help/x"],
}


def listed_commands(text):
    """The command names of `qtr --help`: the lowercase words that open each
    entry under "commands:"."""
    names = []
    body = text.split("commands:", 1)[1] if "commands:" in text else ""
    for line in body.splitlines():
        m = re.match(r"^  ([a-z][a-z-]*(?: [a-z][a-z-]*)*)(?: |$)", line)
        if m:
            names.append(m.group(1))
    return names


def listed_options(text):
    """(option names, placeholder or None) of each line under "options:"."""
    out = []
    body = text.split("\noptions:\n", 1)[1].split("\n\n", 1)[0] if "\noptions:\n" in text else ""
    for line in body.splitlines():
        m = re.match(r"^  (-[-a-z]+(?:, -[-a-z]+)*)(?: ([A-Z][A-Za-z.]*))?", line)
        if m:
            out.append((m.group(1).split(", "), m.group(2)))
    return out


def man_text():
    with open(MAN) as f:
        return f.read().replace("\\-", "-").replace("\\e", "\\")


def help_everywhere():
    rc, out, err = run(["--help"])
    check(rc == 0 and err == "" and "commands:" in out, f"qtr --help: {rc} {err}")
    for args in (["-h"], ["help"]):
        rc2, out2, _ = run(args)
        check(rc2 == 0 and out2 == out, f"qtr {args[0]}: the same list")
    rc, out_none, err_none = run([])
    check(rc == 2 and out_none == "" and "commands:" in err_none, "qtr alone: the list on stderr, exit 2")
    names = listed_commands(out)
    check(set(names) == COMMANDS and len(names) == len(COMMANDS), f"qtr --help lists every command once: {names}")

    helps = {}
    for name in sorted(COMMANDS | GROUPS):
        words = name.split()
        for flag in ("--help", "-h"):
            rc, text, err = run(words + [flag])
            check(rc == 0 and err == "" and text.startswith(f"usage: qtr {name}"),
                  f"qtr {name} {flag}: usage on stdout, exit 0: {rc} {err} {text[:60]!r}")
            helps[name] = text
        rc, text, err = run(["help"] + words)
        check(rc == 0 and text == helps[name], f"qtr help {name}: the same usage: {rc} {err}")
    # help anywhere among the options, as the report asked for run and backtest
    rc, text, err = run(["backtest", "--data", "x.csv", "--help"])
    check(rc == 0 and text == helps["backtest"], f"qtr backtest --data x --help: {rc} {err}")
    for group in GROUPS:
        subs = [c for c in COMMANDS if c.startswith(group + " ")]
        check(all(f"qtr {s} " in helps[group] for s in subs), f"qtr {group} --help names {subs}")
    return helps


def options_are_true(helps):
    for name, text in sorted(helps.items()):
        if name in GROUPS:
            continue
        opts = listed_options(text)
        check(any("--help" in names for names, _ in opts), f"qtr {name} --help lists --help")
        for names, placeholder in opts:
            if "--help" in names:
                continue
            for opt in names:
                args = name.split() + [opt] + ([VALUES.get(placeholder, "x")] if placeholder else [])
                rc, out, err = run(args + STOP_EARLY.get(name, []), timeout=30)
                check("unknown option" not in err and "needs a value" not in err and rc != 0,
                      f"qtr {' '.join(args)}: the parser knows {opt}: {rc} {err.strip()}")


def typos():
    cases = [
        (["bactest"], "unknown command 'bactest'; did you mean 'backtest'?"),
        (["plugin"], "did you mean 'plugins'?"),
        (["export"], "did you mean 'export-trades'?"),
        (["backtest", "--jsn", "r.json"], "unknown option '--jsn'; did you mean '--json'?"),
        (["backtest", "--data"], "--data needs a value"),
        (["run", "--confg", "x.lua"], "did you mean '--config'?"),
        (["plugins", "--verbos"], "did you mean '--verbose'?"),
        (["ess", "stauts"], "qtr ess: unknown command 'stauts'; did you mean 'status'?"),
        (["ess", "trip", "--reasn", "x"], "did you mean '--reason'?"),
        (["ess", "status", "--force"], "unknown option '--force'"),
        (["policy", "chek", "p.lua"], "did you mean 'check'?"),
        (["check", "--ulr", "http://127.0.0.1:1"], "did you mean '--url'?"),
        (["version", "--verbose"], "unknown option '--verbose'"),
        (["xyzzy"], "unknown command 'xyzzy' (see qtr --help)"),
    ]
    for args, expect in cases:
        rc, out, err = run(args, timeout=30)
        check(rc == 2 and expect in err and err.count("\n") == 1, f"qtr {' '.join(args)}: exit 2 and '{expect}': {rc} {err!r}")


def man_page(helps):
    text = man_text()
    for name in sorted(COMMANDS):
        check(f"qtr {name}" in text, f"docs/qtr.1 names 'qtr {name}'")
    for name, htext in helps.items():
        for names, _ in listed_options(htext):
            for opt in names:
                check(re.search(r"(?<![-\w])" + re.escape(opt) + r"(?![-\w])", text) is not None,
                      f"docs/qtr.1 names {name}'s option {opt}")
    for section in ("NAME", "SYNOPSIS", "DESCRIPTION", "COMMANDS", "OPTIONS", "EXIT STATUS", "ENVIRONMENT", "FILES"):
        check(re.search(r"^\.SH \"?" + section + r"\"?$", text, re.M) is not None, f"docs/qtr.1 has {section}")
    # every QTR_* variable the host and the tools read is documented
    read = set()
    for path in glob.glob(os.path.join(SRC, "host", "**", "*.c"), recursive=True) + \
            glob.glob(os.path.join(SRC, "plugins", "**", "*.c"), recursive=True):
        with open(path, errors="replace") as f:
            read |= set(re.findall(r"getenv\(['\"](QTR_[A-Z_]+)['\"]\)", f.read()))
    check(read, "the sources read some QTR_ variables")
    for var in sorted(read):
        check(var in text, f"docs/qtr.1 documents ${var}")

    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80")
    rendered = False
    if shutil.which("man"):   # as lintian runs it
        p = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", MAN], capture_output=True,
                           text=True, env=env, timeout=60)
        check(p.returncode == 0 and p.stderr == "", f"man --warnings -l docs/qtr.1: {p.returncode} {p.stderr}")
        rendered = True
    if shutil.which("groff"):
        p = subprocess.run(["groff", "-man", "-ww", "-z", MAN], capture_output=True, text=True, env=env, timeout=60)
        check(p.returncode == 0 and p.stderr == "", f"groff -man -ww docs/qtr.1: {p.returncode} {p.stderr}")
        rendered = True
    if shutil.which("mandoc"):
        p = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", MAN], capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and p.stdout == "" and p.stderr == "", f"mandoc -T lint: {p.stdout} {p.stderr}")
        rendered = True
    if not rendered:
        print("note: no man, groff or mandoc here: the rendering check is skipped")


def installed():
    """cmake --install of the server component puts qtr(1) in share/man/man1."""
    if not shutil.which("cmake"):
        print("note: no cmake here: the install check is skipped")
        return
    dest = tempfile.mkdtemp(prefix="qtr_install_")
    p = subprocess.run(["cmake", "--install", BUILD, "--component", "server", "--prefix", "/usr"],
                       capture_output=True, text=True, env=dict(os.environ, DESTDIR=dest), timeout=120)
    check(p.returncode == 0, f"cmake --install --component server: {p.returncode} {p.stderr}")
    pages = glob.glob(os.path.join(dest, "usr", "share", "man", "man1", "qtr.1*"))
    check(len(pages) == 1, f"one qtr(1) in share/man/man1: {pages}")
    if len(pages) == 1:
        opener = gzip.open if pages[0].endswith(".gz") else open
        with opener(pages[0], "rt") as f:
            with open(MAN) as src:
                check(f.read() == src.read(), "the installed page is docs/qtr.1")
    shutil.rmtree(dest, ignore_errors=True)


def main():
    os.chdir(tempfile.mkdtemp(prefix="qtr_help_cwd_"))
    helps = help_everywhere()
    options_are_true(helps)
    typos()
    man_page(helps)
    installed()
    finish()


if __name__ == "__main__":
    main()
