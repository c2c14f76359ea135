"""The `attack` command of segmentation, detection and face: adversarial examples by FGSM and PGD on the app's own
loss, and the app's metric against the budget; with `tflite=`, the same adversarial images (made on the Keras model)
scored through an exported file as well (do they transfer to the int8 file?). An app gives an `AttackTask`
(`attack_task`): test images, the per-image loss the attack raises, its serving outputs and the metric of them."""

import dataclasses
import textwrap
from pathlib import Path

import numpy as np
import tensorflow as tf

from keras_suite.adversarial.attacks import fgsm, pgd
from keras_suite.errors import UserError
from keras_suite.export import tflite
from keras_suite.export.parity import run_samples
from keras_suite.files import write_json
from keras_suite.visuals.images import write_png
from keras_suite.visuals.overlay import labelled_grid, tiles
from keras_suite.visuals.plots import attack_curve_figure

PANEL_SIDE = 160  # pixels a panel tile has at least


@dataclasses.dataclass
class AttackTask:
    """`images` float32 (N, S, S, C) in 0-255; `loss(x, index)` -> one number per image of `x` (the perturbed
    `images[index]`) that the attack raises (lowers when `targeted`); `serve(x)` -> the outputs of the app's exported
    signature (the names of its .tflite file's outputs) for a batch; `score(outputs)` -> the app's `metric` from the
    outputs of a whole set, in the order of `images`; `what` says what the attack does to the app."""

    images: np.ndarray
    loss: callable
    serve: callable
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


def keras_outputs(task, images, batch_size):
    return run_samples(lambda images: task.serve(tf.constant(images)),
                       [{"images": images[s:s + batch_size]} for s in range(0, len(images), batch_size)])[0]


def tflite_runner(path):
    """A runner of the main signature of the .tflite file at `path` (checked before any work)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"tflite file not found: {path}")
    try:
        return tflite.Runner(path.read_bytes())
    except (ValueError, RuntimeError) as e:
        raise UserError(f"cannot run {path} as a TFLite model: {str(e).splitlines()[0][:200]}") from None


def tflite_outputs(runner, images):
    """The file's outputs for each image (rounded to uint8 as a camera would give it), concatenated."""
    return run_samples(runner, [{"images": np.clip(np.round(image), 0, 255).astype(np.uint8)[None]}
                                for image in images])[0]


def mean_loss(task, images, ac):
    return float(np.mean(np.concatenate([
        task.loss(tf.constant(images[s:s + ac.batch_size]), np.arange(s, min(s + ac.batch_size, len(images))))
        .numpy() for s in range(0, len(images), ac.batch_size)])))


def attack(app, cfg, args):
    ac, run = cfg.attack, args["run"]
    target = app.attack_target(cfg)
    runner = tflite_runner(args["tflite"]) if "tflite" in args else None
    model = app.trained_model(run)
    task = app.attack_task(cfg, run, model, target)
    if runner:
        inputs = runner.runner.get_input_details()
        shape = tuple(inputs["images"]["shape"][1:]) if "images" in inputs else None
        if shape != task.images.shape[1:]:
            takes = ", ".join(f"{name} {tuple(d['shape'])}" for name, d in inputs.items())
            raise UserError(f"{args['tflite']} does not take this run's images ({task.images.shape[1:]}): its main "
                            f"signature takes {takes}")
        needed, gives = set(task.serve(tf.constant(task.images[:1]))), set(runner.runner.get_output_details())
        if not needed <= gives:
            raise UserError(f"{args['tflite']} is not an export of a {app.name} run: it gives "
                            f"{', '.join(sorted(gives))}, not {', '.join(sorted(needed - gives))}")
    out = Path(args.get("out") or run.predictions)
    transfer = f"{Path(args['tflite']).name} ({task.metric})" if runner else None

    def row(method, eps, images):
        r = {"method": method, "eps": float(eps), task.metric: float(task.score(keras_outputs(task, images,
                                                                                             ac.batch_size))),
             "loss": mean_loss(task, images, ac), "max_change": float(np.abs(images - task.images).max())}
        if runner:
            r["tflite"] = float(task.score(tflite_outputs(runner, images)))
        print(f"{method:<8}{eps:>6g}{r[task.metric]:>14.4f}{r['loss']:>11.4f}"
              + (f"{r['tflite']:>{len(transfer) + 2}.4f}" if runner else ""))
        return r

    print(f"{app.name}: {task.what}; {len(task.images)} test images, {ac.norm} budgets {list(ac.epsilons)} (0-255 "
          f"pixel units), PGD {ac.steps} steps" + (f"; the adversarial images also through {args['tflite']}"
                                                   if runner else ""))
    print(f"{'method':<8}{'eps':>6}{task.metric:>14}{'loss':>11}" + (f"  {transfer}" if runner else ""))
    rows, strongest = [row("none", 0, task.images)], None
    for eps in [e for e in ac.epsilons if e > 0]:
        for method in ("fgsm", "pgd"):
            adv = perturb(task, method, eps, ac)
            rows.append(row(method, eps, adv))
            if method == "pgd":
                strongest = (eps, adv)
    report = {"what": task.what, "metric": task.metric, "norm": ac.norm, "steps": ac.steps, "targeted": task.targeted,
              "images": len(task.images), "tflite": args.get("tflite"), "rows": rows}
    path = write_json(out / f"attack_{ac.norm}.json", report)
    curve = write_png(out / f"attack_{ac.norm}_curve.png", attack_curve_figure(
        rows, task.metric, textwrap.fill(f"{app.name}: {task.metric} under attack ({task.what})", 80),
        f"epsilon ({ac.norm}, 0-255 pixel units)"))
    pictures = [path, curve]
    if strongest is not None:
        pictures.append(write_png(out / f"attack_{ac.norm}_examples.png", panels(task.images[:3], strongest[1][:3],
                                                                                 strongest[0])))
    print("wrote " + ", ".join(map(str, pictures)))
    return report


def panels(images, adversarial, eps):
    """Rows of clean | perturbation (amplified to the full range) | adversarial."""
    columns = [tiles(images, PANEL_SIDE), tiles(128 + (adversarial - images) * 127 / max(eps, 1e-6), PANEL_SIDE),
               tiles(adversarial, PANEL_SIDE)]
    rows = [list(row) for row in zip(*columns)]
    return labelled_grid(rows, ["clean", f"perturbation (x{127 / max(eps, 1e-6):.0f})", f"adversarial (eps {eps:g})"])
