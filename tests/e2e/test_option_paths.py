"""Plugins' path options (QTR_OPT_PATH) are taken from the config file's
folder, as the host's own paths, whatever folder qtr runs in: a backtest
config in its own folder names its paper symbols_file and its ensemble
model relatively and is run from / (as under systemd); its report is the
same as with absolute paths, and differs from the rules-only run (the model
was really used). A missing file's error names the option and the resolved
path."""
import json
import os
import shutil
import tempfile

from qtrtest import DATA, PLUGINS, SRC, check, finish, run, write

CSV = os.path.join(DATA, "XRPUSDT-perp-1h.csv")
MODEL = os.path.join(SRC, "plugins", "strategy_ensemble", "model", "ensemble_model.json")
SYMBOLS = os.path.join(SRC, "share", "binance-usdm-symbols.json")
POLICY = os.path.join(SRC, "policies", "default.lua")


def config(folder, symbols_file, model):
    return write(os.path.join(folder, "bt.lua"), f"""
return {{
  plugin_path = {{ "{PLUGINS}" }},
  account = {{ starting_balance = "10000" }},
  policy = {{ file = "{POLICY}" }},
  store = false,
  plugins = {{
    {{ kind = "exchange", name = "paper",
       options = {{ taker_fee = "0.0004", slippage_bps = "1", symbols_file = "{symbols_file}" }} }},
    {{ kind = "risk", name = "policy" }},
    {{ kind = "strategy", name = "ensemble",
       options = {{ symbols = {{ "XRPUSDT" }}, model = "{model}", threshold = 0.1, order_notional = "500" }} }},
  }},
}}
""")


def report(cfg, out):
    """The backtest's JSON report, run from / (not the config's folder)."""
    rc, _, err = run(["backtest", "-c", cfg, "--data", CSV, "--json", out, "--quiet"], timeout=180, cwd="/")
    if not check(rc == 0, f"backtest {cfg} from / exits 0: {rc} {err[-800:]}"):
        return None
    with open(out) as f:
        r = json.load(f)
    r.pop("generated_at", None)
    r.pop("config", None)
    return r


def main():
    d = tempfile.mkdtemp(prefix="qtr_optpath_")
    try:
        conf = os.path.join(d, "conf")
        os.makedirs(os.path.join(conf, "models"))
        shutil.copy(SYMBOLS, os.path.join(conf, "rules.json"))
        shutil.copy(MODEL, os.path.join(conf, "models", "m.json"))
        shutil.copy(MODEL + ".meta", os.path.join(conf, "models", "m.json.meta"))

        rel = report(config(conf, "rules.json", "models/m.json"), os.path.join(d, "rel.json"))
        absd = os.path.join(d, "abs")
        os.makedirs(absd)
        ab = report(config(absd, os.path.join(conf, "rules.json"), os.path.join(conf, "models", "m.json")),
                    os.path.join(d, "abs.json"))
        rules_only = os.path.join(d, "rules_only")
        os.makedirs(rules_only)
        none = report(config(rules_only, "", ""), os.path.join(d, "none.json"))
        if rel and ab and none:
            check(rel == ab, "relative paths from the config's folder give the absolute paths' report")
            check(rel != none, "the relative model was used (the report differs from the rules-only run)")

        # missing files: the error names the option and the path as resolved
        bad = os.path.join(d, "bad")
        os.makedirs(bad)
        rc, _, err = run(["backtest", "-c", config(bad, "nope.json", ""), "--data", CSV], timeout=120, cwd="/")
        check(rc != 0, f"a missing symbols_file stops the backtest: {rc}")
        check(f"option 'symbols_file': {bad}/nope.json" in err, f"the error names the option and {bad}/nope.json: "
              f"{err[-800:]}")
        rc, _, err = run(["backtest", "-c", config(bad, "", "models/missing.json"), "--data", CSV], timeout=180,
                         cwd="/")
        check(f"option 'model': {bad}/models/missing.json not used" in err,
              f"the model's error names the option and {bad}/models/missing.json: {err[-800:]}")
    finally:
        shutil.rmtree(d, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
