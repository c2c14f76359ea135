"""Character language models at equal wall clock: the char_rnn app's causal transformer (`--config transformer`)
and its LSTM (the default config), each trained for the same budget on the shipped Shakespeare corpus (the last 5%
held out), one after the other on this machine. Reports validation nats/char over time (on the fixed subset the
app checks after each epoch) and at the end on the whole held-out part, beside nanoGPT's small CPU model measured
on the same text and held-out part (1.566 nats/char after 500 s, 1.572 at 450 s). Draws the curves.

Run: python bench/char_lm.py [--budget 8m] [--models transformer,lstm] [--runs runs/bench/char_lm] [--reuse]
"""

import argparse
import csv
import json
import os
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from timing import cli  # noqa: E402

NANOGPT = [(450, 1.572), (500, 1.566)]  # (seconds, validation nats/char): 4 layers, 128 wide, block 64, batch 12
CONFIGS = {"transformer": ["--config", "transformer"], "lstm": []}


def train(name, budget, runs, reuse=False):
    """Train (or with `reuse`, read a finished run of `runs`), then evaluate on the whole held-out part."""
    folder = Path(runs) / "char_rnn" / name
    if not (reuse and (folder / "model.keras").is_file()):
        cli(["char_rnn", "train", *CONFIGS[name], f"train.time_budget={budget}", f"train.runs_dir={runs}",
             f"train.run_name={name}", "train.verbose=0"])
    with open(folder / "history.csv", newline="") as f:
        rows = list(csv.DictReader(f))
    curve = [(float(r["wall_seconds"]), float(r["val_loss"])) for r in rows]
    metrics = json.loads((folder / "metrics.json").read_text())
    config = metrics["config"]
    if not (folder / "eval_validation.json").is_file():
        cli(["char_rnn", "evaluate", f"run={folder}"])
    full = json.loads((folder / "eval_validation.json").read_text())["loss_nats_per_char"]
    tc, dc = config["train"], config["data"]
    chars = len(rows) * tc["steps_per_epoch"] * tc["batch_size"] * dc["seq_length"]
    return {"name": name, "curve": curve, "full": full, "seconds": metrics["train_seconds"], "chars": chars,
            "epochs": len(rows)}


def at(curve, seconds):
    """The last validation figure logged by `seconds`."""
    seen = [loss for t, loss in curve if t <= seconds]
    return f"{seen[-1]:.3f}" if seen else "-"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--budget", default="8m")
    parser.add_argument("--models", default="transformer,lstm")
    parser.add_argument("--runs", default="runs/bench/char_lm")
    parser.add_argument("--figure", default="bench/figures/char_lm.png")
    parser.add_argument("--reuse", action="store_true", help="read the finished runs in --runs instead of training")
    args = parser.parse_args()
    results = [train(name, args.budget, args.runs, args.reuse) for name in args.models.split(",")]
    marks = [120, 240, 360, 480]
    minutes = " / ".join(f"{m // 60} min" for m in marks)
    print(f"| model | epochs | characters trained | chars/s | val nats/char at {minutes} (fixed subset) "
          "| whole held-out part at the end |")
    print("|---|---|---|---|---|---|")
    for r in results:
        print(f"| {r['name']} | {r['epochs']} | {r['chars']:,} | {r['chars'] / r['seconds']:,.0f} | "
              f"{' / '.join(at(r['curve'], m) for m in marks)} | {r['full']:.3f} |")
    print("| nanoGPT (measured earlier, same text and held-out part) | | | | 1.572 at 7.5 min, 1.566 at 8.3 min | |")

    fig, ax = plt.subplots(figsize=(8, 5), dpi=120)
    for r in results:
        line, = ax.plot([t / 60 for t, _ in r["curve"]], [loss for _, loss in r["curve"]], marker="o", ms=3,
                        label=f"{r['name']}, fixed validation subset")
        ax.plot(r["curve"][-1][0] / 60, r["full"], "D", color=line.get_color(), mfc="none", ms=8,
                label=f"{r['name']}, whole held-out part at the end: {r['full']:.3f}")
    ax.plot([t / 60 for t, _ in NANOGPT], [loss for _, loss in NANOGPT], "k*", ms=10,
            label="nanoGPT CPU config (whole held-out part)")
    ax.axhline(1.57, color="gray", ls="--", lw=1, label="goal: 1.57")
    ax.set(xlabel="wall clock (minutes, 2 CPU cores)", ylabel="validation nats/char",
           title="Character language models on Shakespeare at equal wall clock", ylim=(1.3, 2.6))
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(args.figure)
    print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
