"""The `attack` command of segmentation, detection and face: adversarial examples by FGSM and PGD on the app's own
loss, and the app's metric against the budget. An app gives an `AttackTask` (`attack_task`): test images, the
per-image loss the attack raises, and the metric of a set of (perturbed) images."""

import dataclasses
import textwrap
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import tensorflow as tf

from keras_suite.adversarial.attacks import fgsm, pgd
from keras_suite.files import write_json
from keras_suite.visuals.images import write_png
from keras_suite.visuals.overlay import labelled_grid, upscale
from keras_suite.visuals.plots import figure_to_array

PANEL_SIDE = 160  # pixels a panel tile has at least


@dataclasses.dataclass
class AttackTask:
    """`images` float32 (N, S, S, C) in 0-255; `loss(x, index)` -> one number per image of `x` (the perturbed
    `images[index]`) that the attack raises (lowers when `targeted`); `score(images)` -> the app's `metric` on a whole
    set in the order of `images`; `what` says what the attack does to the app."""

    images: np.ndarray
    loss: callable
    score: callable
    metric: str
    what: str
    targeted: bool = False


def perturb(task, method, eps, ac):
    """The adversarial images of every task image, by batches."""
    out = []
    for start in range(0, len(task.images), ac.batch_size):
        index = np.arange(start, min(start + ac.batch_size, len(task.images)))
        loss = lambda x, index=index: task.loss(x, index)  # noqa: E731
        if method == "fgsm":
            out.append(fgsm(loss, task.images[index], eps, task.targeted))
        else:
            out.append(pgd(loss, task.images[index], eps, ac.steps, ac.step_size, ac.norm, ac.random_start,
                           task.targeted, ac.seed + start))
    return np.concatenate(out)


def mean_loss(task, images, ac):
    return float(np.mean(np.concatenate([
        task.loss(tf.constant(images[s:s + ac.batch_size]), np.arange(s, min(s + ac.batch_size, len(images))))
        .numpy() for s in range(0, len(images), ac.batch_size)])))


def attack(app, cfg, args):
    ac, run = cfg.attack, args["run"]
    target = app.attack_target(cfg)
    model = app.trained_model(run)
    task = app.attack_task(cfg, run, model, target)
    out = Path(args.get("out") or run.predictions)
    clean = {"method": "none", "eps": 0.0, task.metric: float(task.score(task.images)),
             "loss": mean_loss(task, task.images, ac)}
    rows, strongest = [clean], None
    print(f"{app.name}: {task.what}; {len(task.images)} test images, {ac.norm} budgets {list(ac.epsilons)} (0-255 "
          f"pixel units), PGD {ac.steps} steps")
    print(f"{'method':<8}{'eps':>6}{task.metric:>14}{'loss':>11}")
    print(f"{'clean':<8}{0:>6g}{clean[task.metric]:>14.4f}{clean['loss']:>11.4f}")
    for eps in [e for e in ac.epsilons if e > 0]:
        for method in ("fgsm", "pgd"):
            adv = perturb(task, method, eps, ac)
            row = {"method": method, "eps": float(eps), task.metric: float(task.score(adv)),
                   "loss": mean_loss(task, adv, ac), "max_change": float(np.abs(adv - task.images).max())}
            rows.append(row)
            print(f"{method:<8}{eps:>6g}{row[task.metric]:>14.4f}{row['loss']:>11.4f}")
            if method == "pgd":
                strongest = (eps, adv)
    report = {"what": task.what, "metric": task.metric, "norm": ac.norm, "steps": ac.steps, "targeted": task.targeted,
              "images": len(task.images), "rows": rows}
    path = write_json(out / f"attack_{ac.norm}.json", report)
    curve = write_png(out / f"attack_{ac.norm}_curve.png", curve_figure(rows, task, ac.norm, app.name))
    pictures = [path, curve]
    if strongest is not None:
        pictures.append(write_png(out / f"attack_{ac.norm}_examples.png", panels(task.images[:3], strongest[1][:3],
                                                                                 strongest[0])))
    print("wrote " + ", ".join(map(str, pictures)))
    return report


def curve_figure(rows, task, norm, app):
    fig, ax = plt.subplots(figsize=(6.5, 4.5))
    clean = rows[0][task.metric]
    for method, style in (("fgsm", "o--"), ("pgd", "s-")):
        points = [(0.0, clean)] + [(r["eps"], r[task.metric]) for r in rows if r["method"] == method]
        ax.plot(*zip(*points), style, label=method.upper())
    ax.set_xlabel(f"epsilon ({norm}, 0-255 pixel units)")
    ax.set_ylabel(task.metric)
    ax.set_title(textwrap.fill(f"{app}: {task.metric} under attack ({task.what})", 80), fontsize=10)
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    return figure_to_array(fig)


def panels(images, adversarial, eps):
    """Rows of clean | perturbation (amplified to the full range) | adversarial."""
    factor = max(1, -(-PANEL_SIDE // images.shape[1]))

    def tile(x):
        x = np.clip(np.round(x), 0, 255).astype(np.uint8)
        return upscale(np.repeat(x, 3, axis=-1) if x.shape[-1] == 1 else x, factor)

    rows = [[tile(c), tile(128 + (a - c) * 127 / max(eps, 1e-6)), tile(a)] for c, a in zip(images, adversarial)]
    return labelled_grid(rows, ["clean", f"perturbation (x{127 / max(eps, 1e-6):.0f})", f"adversarial (eps {eps:g})"])
