"""Minutes to quality per app: each app's default config trained from scratch by the CLI on this machine, one app
after the other, then evaluated on its test split (style has none). Reports the train command's wall time, when the
validation figure the app checks each epoch first reached the app's target (seconds since training started), and
the test figure against that target (the demo's headline). Style has no number to reach: its target is a plateau,
taken as the first epoch whose validation loss is within 2% of the run's lowest.

Run: python bench/time_to_target.py [--apps segmentation,detection] [--runs runs/bench/time_to_target] [--reuse]
     [--set app:key=value ...]   (a config override for one app, e.g. --set segmentation:train.epochs=6)
"""

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from timing import cli  # noqa: E402

from keras_suite.apps import APPS  # noqa: E402
from keras_suite.runs import Run  # noqa: E402
from keras_suite.training.trainer import read_history  # noqa: E402

# the validation figure each app logs per epoch, held against the target of the app's test headline
VALIDATION = {"segmentation": "val_mean_iou", "detection": "val_map50", "face": "val_verification_accuracy",
              "seq2seq": "val_exact_match", "transformer": "val_exact_match", "style": "val_loss",
              "embeddings": "val_analogy", "captioning": "val_bleu4"}
PLATEAU = 0.02


def reached(values, seconds, target):
    """(epoch, wall seconds) when `values` first met `target` (without one: came within PLATEAU of their lowest),
    else None."""
    if target is None:
        hits = [i for i, v in enumerate(values) if v <= min(values) * (1 + PLATEAU)]
    else:
        hits = [i for i, v in enumerate(values) if v >= target]
    return (hits[0] + 1, seconds[hits[0]]) if hits else None


def measure(app, runs, overrides, reuse=False):
    run = Run(Path(runs) / app / "default")
    wall = None
    if not (reuse and run.metrics.is_file()):
        wall = cli([app, "train", f"train.runs_dir={runs}", "train.run_name=default", "train.verbose=0", *overrides])
    if "evaluate" in APPS.get(app).commands and not run.report("eval", "test").is_file():
        cli([app, "evaluate", f"run={run}"])
    history = read_history(run.history)
    headline = APPS.get(app).load()().headline(run)
    return {"app": app, "epochs": len(history["wall_seconds"]),
            "train_seconds": json.loads(run.metrics.read_text())["train_seconds"],
            "command_seconds": wall, "headline": headline,
            "reached": reached(history[VALIDATION[app]], history["wall_seconds"], headline.target)}


def row(r):
    h, hit = r["headline"], r["reached"]
    goal = f"within {PLATEAU:.0%} of its lowest" if h.target is None else f">= {h.target:g}"
    when = f"epoch {hit[0]}, {hit[1] / 60:.1f} min" if hit else "not reached"
    command = "-" if r["command_seconds"] is None else f"{r['command_seconds'] / 60:.1f}"
    value = "-" if h.value is None else f"{h.value:.4f}"
    met = "" if h.met is None else (" (met)" if h.met else " (not met)")
    test_target = "" if h.target is None else f" (target {'>=' if h.higher_is_better else '<='} {h.target:g}){met}"
    return (f"| {r['app']} | {r['epochs']} | {r['train_seconds'] / 60:.1f} | {command} | "
            f"{VALIDATION[r['app']]} {goal}: {when} | {h.metric} {value}{test_target} |")


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
