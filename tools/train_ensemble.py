#!/usr/bin/env python3
"""Train strategy_ensemble's model: P(next close > close) with XGBoost.

    python3 tools/train_ensemble.py --features-tool BUILD/plugins/strategy_ensemble/ensemble_features \\
        [--data ../shared/data/XRPUSDT-perp-5m.csv ...] [--out plugins/strategy_ensemble/model/ensemble_model.json]

Needs python3-xgboost and python3-pandas (tools/install-deps.sh --train).
The feature rows come from the `ensemble_features` tool, built from the
plugin's own feature code, so the model learns exactly what the plugin will
show it; the data are read where they are (../shared/data), never copied.

Time-ordered, never shuffled: the first 80% of each file's rows are the
development part, the last 20% the held-out test. On the development part,
walk-forward validation: fold k trains on the rows before its window and
validates on the window (5 windows, each after all its training rows). The
model written is trained on the whole development part; its accuracy on the
held-out 20% (rows it never saw, all later in time) is the out-of-sample
accuracy printed and written into the sidecar, beside the baseline of always
answering the training part's majority class.

Writes the model (XGBoost JSON) and its sidecar <model>.meta (format version,
feature list and count, SHA-256 of the model file: plugins/strategy_ensemble/
ensemble_model.h). Same data and options, same files.
"""
import argparse
import hashlib
import io
import os
import subprocess
import sys
from decimal import Decimal

import pandas as pd
import xgboost as xgb

FORMAT_VERSION = 1          # ENSEMBLE_FORMAT_VERSION in ensemble_features.h
DEV_SHARE = 0.8
FOLDS = 5


def feature_rows(tool, path):
    """The tool's rows for one file, with label = next close > close (exact decimals)."""
    out = subprocess.run([tool, path], check=True, capture_output=True, text=True).stdout
    rows = pd.read_csv(io.StringIO(out), dtype={"close": str})
    closes = [Decimal(c) for c in rows["close"]]
    rows["label"] = [1 if b > a else 0 for a, b in zip(closes, closes[1:])] + [None]
    return rows.iloc[:-1].reset_index(drop=True)   # the last row has no next close


def train(x, y, args):
    params = {"objective": "binary:logistic", "max_depth": args.depth, "eta": args.eta,
              "subsample": 1.0, "nthread": 1, "seed": args.seed, "tree_method": "exact",
              "eval_metric": "logloss"}
    return xgb.train(params, xgb.DMatrix(x, label=y), num_boost_round=args.trees)


def accuracy(model, x, y):
    p = model.predict(xgb.DMatrix(x))
    return float(((p > 0.5).astype(int) == y.to_numpy()).mean())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--features-tool", required=True, help="the built ensemble_features program")
    ap.add_argument("--data", nargs="+", default=[os.path.join("..", "shared", "data", "XRPUSDT-perp-5m.csv")])
    ap.add_argument("--out", default=os.path.join("plugins", "strategy_ensemble", "model", "ensemble_model.json"))
    ap.add_argument("--trees", type=int, default=30)
    ap.add_argument("--depth", type=int, default=2)
    ap.add_argument("--eta", type=float, default=0.1)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    names = subprocess.run([args.features_tool, "--names"], check=True, capture_output=True,
                           text=True).stdout.split()
    dev, test = [], []
    for path in args.data:
        rows = feature_rows(args.features_tool, path)
        cut = int(len(rows) * DEV_SHARE)
        dev.append(rows.iloc[:cut])
        test.append(rows.iloc[cut:])
    dev = pd.concat(dev, ignore_index=True)
    test = pd.concat(test, ignore_index=True)
    xd, yd = dev[names], dev["label"].astype(int)
    xt, yt = test[names], test["label"].astype(int)

    # walk-forward on the development part: train on everything before a window, validate on it
    window = len(dev) // (FOLDS + 1)
    fold_acc = []
    for k in range(1, FOLDS + 1):
        lo, hi = k * window, (k + 1) * window if k < FOLDS else len(dev)
        m = train(xd.iloc[:lo], yd.iloc[:lo], args)
        fold_acc.append(accuracy(m, xd.iloc[lo:hi], yd.iloc[lo:hi]))
        print(f"walk-forward fold {k}: train rows 0..{lo}, validate {lo}..{hi}: accuracy {fold_acc[-1]:.4f}")
    wf = sum(fold_acc) / len(fold_acc)

    model = train(xd, yd, args)
    oos = accuracy(model, xt, yt)
    majority = int(yd.mean() >= 0.5)
    baseline = float((yt == majority).mean())
    print(f"rows: {len(dev)} development, {len(test)} held out ({', '.join(os.path.basename(p) for p in args.data)})")
    print(f"walk-forward mean accuracy: {wf:.4f}")
    print(f"out-of-sample accuracy (held-out last {100 - int(DEV_SHARE * 100)}%): {oos:.4f}; "
          f"baseline (always {'up' if majority else 'not up'}): {baseline:.4f}")

    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    model.save_model(args.out)
    digest = hashlib.sha256(open(args.out, "rb").read()).hexdigest()
    with open(args.out + ".meta", "w") as f:
        f.write("# strategy_ensemble model sidecar, written by tools/train_ensemble.py\n")
        f.write(f"format_version = {FORMAT_VERSION}\n")
        f.write(f"n_features = {len(names)}\n")
        f.write(f"features = {','.join(names)}\n")
        f.write(f"model_sha256 = {digest}\n")
        f.write("objective = binary:logistic\n")
        f.write(f"trained_on = {','.join(os.path.basename(p) for p in args.data)}\n")
        f.write(f"rows = {len(dev)}\n")
        f.write(f"trees = {args.trees}\n")
        f.write(f"max_depth = {args.depth}\n")
        f.write(f"walk_forward_accuracy = {wf:.4f}\n")
        f.write(f"oos_accuracy = {oos:.4f}\n")
        f.write(f"baseline_accuracy = {baseline:.4f}\n")
    print(f"wrote {args.out} ({os.path.getsize(args.out)} bytes) and {args.out}.meta")
    return 0


if __name__ == "__main__":
    sys.exit(main())
