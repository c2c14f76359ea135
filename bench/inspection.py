"""`visualize` and `attack` on trained models: the segmentation and face apps trained on their demo schedules,
then the feature grid of a middle layer, the saliency maps of a test image, and the metric against the attack
budget (FGSM and PGD, L-inf), the same adversarial images also through the run's exported int8 file. The figures
land in bench/figures; the printed lines are what RESULTS.md quotes.

Run: python bench/inspection.py [--runs runs/bench/inspection] [--reuse]
"""

import argparse
import json
import os
import shutil
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from timing import cli  # noqa: E402

FIGURES = Path(__file__).parent / "figures"
APPS = ("segmentation", "face")


def trained(runs, app, reuse):
    run = runs / app / "demo"
    if not (reuse and (run / "model.keras").is_file()):
        shutil.rmtree(run, ignore_errors=True)
        cli([app, "train", "--config", "demo", f"train.runs_dir={runs}", "train.run_name=demo"])
    return run


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", default="runs/bench/inspection", type=Path)
    parser.add_argument("--reuse", action="store_true", help="keep trained runs")
    a = parser.parse_args()
    FIGURES.mkdir(exist_ok=True)
    lines = []
    for app in APPS:
        run = trained(a.runs, app, a.reuse)
        out = run / "inspection"
        seconds = cli([app, "visualize", f"run={run}", f"out={out}"])
        (report_path,) = out.glob("visualize_*.json")
        report = json.loads(report_path.read_text())
        layer = report["layer"].replace("/", "_")
        shutil.copy(out / f"features_{layer}.png", FIGURES / f"{app}_features.png")
        shutil.copy(out / "saliency_test.png", FIGURES / f"{app}_saliency.png")
        s = report["saliency"]
        lines.append(f"{app} visualize ({seconds:.0f} s): layer {report['layer']}, channels {report['channels']}, mean "
                     "activation " + ", ".join(f"{x:.2f}->{y:.2f}" for x, y in zip(report["activation_start"],
                                                                                   report["activation_end"]))
                     + f"; saliency of {s['target']} = {s['value']:.4f}, integrated gradients sum " + ", ".join(
                         f"{c['sum']:.4f} vs {c['f(x) - f(baseline)']:.4f} ({k})"
                         for k, c in s["completeness"].items()))
        exports = a.runs / "exports"
        int8 = exports / app / "int8" / "model_int8.tflite"
        if not int8.is_file():
            cli([app, "export", f"run={run}", f"export.out_dir={exports}", "name=int8", "formats=tflite_int8",
                 "overwrite=true"])
        seconds = cli([app, "attack", f"run={run}", f"out={out}", f"tflite={int8}"])
        report = json.loads((out / "attack_linf.json").read_text())
        shutil.copy(out / "attack_linf_curve.png", FIGURES / f"{app}_attack_curve.png")
        shutil.copy(out / "attack_linf_examples.png", FIGURES / f"{app}_attack_examples.png")
        metric = report["metric"]
        lines.append(f"{app} attack ({seconds:.0f} s, {report['images']} test images; Keras / the int8 file): "
                     + "; ".join(f"{r['method']} eps {r['eps']:g}: {metric} {r[metric]:.4f} / {r['tflite']:.4f}"
                                 for r in report["rows"]))
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
