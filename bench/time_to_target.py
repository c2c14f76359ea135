"""Minutes to quality per app: each app's default config trained from scratch by the CLI on this machine, one app
after the other, then evaluated on its test split (style has none). Reports the train command's wall time, when the
validation figure the app checks each epoch first reached the target (seconds since training started), and the test
figure against the app's target (the demo's headline). Style has no number to reach: its target is a plateau, taken as
the first epoch whose validation loss is within 2% of the run's lowest.

Run: python bench/time_to_target.py [--apps segmentation,detection] [--runs runs/bench/time_to_target] [--reuse]
     [--set app:key=value ...]   (a config override for one app, e.g. --set segmentation:train.epochs=6)
"""

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from keras_suite.apps import APPS  # noqa: E402
from keras_suite.runs import Run  # noqa: E402
from keras_suite.training.trainer import read_history  # noqa: E402

# the validation figure each app logs per epoch, and its target (the test targets of the apps' headlines)
VALIDATION = {"segmentation": ("val_mean_iou", 0.90), "detection": ("val_map50", 0.90),
              "face": ("val_verification_accuracy", 0.97), "seq2seq": ("val_exact_match", 0.99),
              "transformer": ("val_exact_match", 0.99), "style": ("val_loss", None)}
PLATEAU = 0.02
CLI = [sys.executable, "-m", "keras_suite"]


def run(args):
    started = time.monotonic()
    completed = subprocess.run(CLI + args, capture_output=True, text=True)
    if completed.returncode:
        sys.exit(f"failed: {' '.join(args)}\n{completed.stderr[-2000:]}")
    return time.monotonic() - started


def reached(history, app):
    """(epoch, wall seconds) when the validation figure first met the target (or style's plateau), else None."""
    key, target = VALIDATION[app]
    values, seconds = history.get(key, []), history["wall_seconds"]
    if target is None:
        lowest = min(values)
        hits = [i for i, v in enumerate(values) if v <= lowest * (1 + PLATEAU)]
    else:
        hits = [i for i, v in enumerate(values) if v >= target]
    return (hits[0] + 1, seconds[hits[0]]) if hits else None


def measure(app, runs, overrides, reuse=False):
    folder = Path(runs) / app / "default"
    wall = None
    if not (reuse and (folder / "metrics.json").is_file()):
        wall = run([app, "train", f"train.runs_dir={runs}", "train.run_name=default", "train.verbose=0",
                    *overrides])
    if "evaluate" in APPS.get(app).commands and not Run(folder).report("eval", "test").is_file():
        run([app, "evaluate", f"run={folder}"])
    history = read_history(folder / "history.csv")
    metrics = json.loads((folder / "metrics.json").read_text())
    headline = APPS.get(app).load()().headline(Run(folder))
    return {"app": app, "epochs": len(history["wall_seconds"]), "train_seconds": metrics["train_seconds"],
            "command_seconds": wall, "reached": reached(history, app), "headline": headline,
            "overrides": overrides}


def row(r):
    h, hit = r["headline"], r["reached"]
    key, target = VALIDATION[r["app"]]
    goal = f"within {PLATEAU:.0%} of its lowest" if target is None else f">= {target:g}"
    when = f"epoch {hit[0]}, {hit[1] / 60:.1f} min" if hit else "not reached"
    command = "-" if r["command_seconds"] is None else f"{r['command_seconds'] / 60:.1f}"
    value = "-" if h.value is None else f"{h.value:.4f}"
    met = "" if h.met is None else (" (met)" if h.met else " (not met)")
    test_target = "" if h.target is None else f" (target {'>=' if h.higher_is_better else '<='} {h.target:g}){met}"
    return (f"| {r['app']} | {r['epochs']} | {r['train_seconds'] / 60:.1f} | {command} | {key} {goal}: {when} | "
            f"{h.metric} {value}{test_target} |")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--apps", default=",".join(VALIDATION))
    parser.add_argument("--runs", default="runs/bench/time_to_target")
    parser.add_argument("--set", action="append", default=[], metavar="APP:KEY=VALUE")
    parser.add_argument("--reuse", action="store_true", help="read finished runs in --runs instead of training")
    args = parser.parse_args()
    apps = args.apps.split(",")
    unknown = sorted(set(apps) - set(VALIDATION))
    if unknown:
        sys.exit(f"no time-to-target figure for {', '.join(unknown)}; choose from {', '.join(VALIDATION)}")
    overrides = {app: [] for app in apps}
    for item in args.set:
        app, _, setting = item.partition(":")
        if app not in overrides or "=" not in setting:
            sys.exit(f"--set takes APP:KEY=VALUE for one of {', '.join(apps)}, not {item!r}")
        overrides[app].append(setting)
    print("| app | epochs | training min | train command min | validation reached the target | test figure |")
    print("|---|---|---|---|---|---|")
    for app in apps:
        print(row(measure(app, args.runs, overrides[app], args.reuse)), flush=True)


if __name__ == "__main__":
    main()
