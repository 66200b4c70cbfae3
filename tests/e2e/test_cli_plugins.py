"""qtr plugins -c, end to end (host/cli/cmd_plugins.c, host/core/loader.c).

- a search path that names one folder twice (again with a trailing slash,
  through a symlink, and in $QTR_PLUGIN_PATH, as the installed config does with
  the installed folder) lists each plugin once, accepted, and exits 0: it used
  to list every plugin twice, the second time "refused: duplicate name"
- a plugin the config names that would be refused (an ABI the host does not
  speak, a kind other than the config says, the same name twice) or that is
  required and missing: exit 2, with the reason; an optional missing one: 0
- the same plugin in two folders: the second is "shadowed", not refused
- -v names what a plugin needs (qtr_plugin_desc.needs, SDK 2.4)
"""
import os
import shutil
import tempfile

from qtrtest import FIXTURES, PLUGINS, check, finish, run, write

PAPER = "exchange_paper.so"


def rows(out, status):
    """The rows of the search-path table with this status."""
    return [ln for ln in out.splitlines() if len(ln.split()) >= 6 and ln.split()[4] == status]


def env_with(path):
    env = dict(os.environ)
    env["QTR_PLUGIN_PATH"] = path
    return env


def same_folder_twice(d):
    link = os.path.join(d, "plugins-link")
    os.symlink(PLUGINS, link)
    cfg = write(os.path.join(d, "twice.lua"), f"""return {{
  plugin_path = {{ "{PLUGINS}", "{PLUGINS}", "{PLUGINS}/", "{link}" }},
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }},
              {{ kind = "strategy", name = "ma_cross" }} }} }}""")
    rc, out, err = run(["plugins", "-c", cfg], env=env_with(PLUGINS + ":" + link))
    check(rc == 0, f"the same folder named twice: exit 0: {rc} {err}")
    check("refused" not in out and "duplicate" not in out, f"nothing refused as a duplicate:\n{out}")
    papers = [r for r in out.splitlines() if r.endswith("/" + PAPER)]
    check(len(papers) == 2, f"exchange_paper.so once in the list and once as configured:\n{out}")
    accepted = rows(out, "accepted")
    files = [r.split()[5] for r in accepted]
    check(len(files) == len({os.path.basename(f) for f in files}) and len(files) >= 3,
          f"each plugin file listed once: {files}")
    check(len([ln for ln in out.splitlines() if " accepted " in ln and ln.split()[0] in ("exchange", "risk", "strategy")
               and ln.split()[2] == "accepted"]) == 3, f"the three configured plugins accepted:\n{out}")


def refused_configured(d):
    cases = {
        "an ABI this host does not speak": (
            f'{{ kind = "strategy", name = "fixture_major_newer", file = "{FIXTURES}/major_newer.so" }}',
            "ABI major version newer"),
        "a kind other than the config's": ('{ kind = "strategy", name = "dashboard", file = "dashboard_web.so" }',
                                           "it is dashboard dashboard, the config names strategy dashboard"),
        "the same plugin twice": ('{ kind = "exchange", name = "paper" }', "duplicate name 'paper'"),
        "a required plugin missing": ('{ kind = "strategy", name = "absent" }', "strategy_absent.so not found"),
    }
    for what, (entry, reason) in cases.items():
        cfg = write(os.path.join(d, "refused.lua"), f"""return {{
  plugin_path = {{ "{PLUGINS}" }},
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }}, {entry} }} }}""")
        rc, out, err = run(["plugins", "-c", cfg])
        check(rc == 2 and reason in out and "refused or missing" in err, f"{what}: exit 2 with '{reason}': {rc}\n{out}{err}")
    cfg = write(os.path.join(d, "optional.lua"), f"""return {{
  plugin_path = {{ "{PLUGINS}" }},
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }},
              {{ kind = "dashboard", name = "absent", required = false }} }} }}""")
    rc, out, err = run(["plugins", "-c", cfg])
    check(rc == 0 and "dashboard_absent.so not found" in out, f"an optional plugin missing: exit 0: {rc}\n{out}{err}")
    rc, out, err = run(["plugins"])
    check(rc == 0, f"without a config: exit 0: {rc} {err}")


def shadowed(d):
    other = os.path.join(d, "other")
    os.mkdir(other)
    shutil.copy(os.path.join(PLUGINS, PAPER), other)
    cfg = write(os.path.join(d, "shadow.lua"), f"""return {{
  plugin_path = {{ "{PLUGINS}", "{other}" }},
  plugins = {{ {{ kind = "exchange", name = "paper" }}, {{ kind = "risk", name = "policy" }} }} }}""")
    rc, out, err = run(["plugins", "-c", cfg])
    sh = rows(out, "shadowed")
    check(rc == 0 and len(sh) == 1 and sh[0].endswith(os.path.join(other, PAPER)),
          f"a second copy in another folder is shadowed, not refused: {rc}\n{out}{err}")
    check("refused" not in out, f"nothing refused:\n{out}")


def details_of(out, name, folder):
    """The detail lines under the row of plugin `name` from `folder` in
    `qtr plugins -v` (the search path also has the build's own folder)."""
    lines, mine = [], False
    for ln in out.splitlines():
        f = ln.split()
        if len(f) >= 6 and f[4] in ("accepted", "shadowed", "refused"):
            mine = f[1] == name and f[5].startswith(folder + "/")
        elif mine:
            lines.append(ln.strip())
    return lines


def needs_listed(d):
    """-v names the costly services a plugin uses (qtr_plugin_desc.needs, SDK
    2.4): the dashboard declares the regime, ma_cross does not, and a plugin
    built before 2.4 is taken to need it."""
    folder = os.path.join(d, "needs")
    os.mkdir(folder)
    for f in ("dashboard_web.so", "strategy_ma_cross.so"):
        shutil.copy(os.path.join(PLUGINS, f), folder)
    shutil.copy(os.path.join(FIXTURES, "minor_older.so"), folder)
    rc, out, err = run(["plugins", "-v"], env=env_with(folder))
    check(rc == 0, f"plugins -v: exit 0: {rc} {err}")
    dash = [ln for ln in details_of(out, "dashboard", folder) if ln.startswith("needs")]
    check(dash == ["needs  regime (QTR_NEEDS_REGIME: a backtest classifies candles for it)"],
          f"the dashboard needs the regime: {dash}\n{out}")
    ma = [ln for ln in details_of(out, "ma_cross", folder) if ln.startswith("needs")]
    check(ma == [], f"ma_cross needs nothing: {ma}")
    older = [ln for ln in details_of(out, "fixture_minor_older", folder) if ln.startswith("needs")]
    check(len(older) == 1 and "built before SDK 2.4" in older[0], f"a 2.1 plugin is taken to need it: {older}")


def main():
    d = tempfile.mkdtemp(prefix="qtr_plugins_")
    same_folder_twice(d)
    refused_configured(d)
    shadowed(d)
    needs_listed(d)
    finish()


if __name__ == "__main__":
    main()
