"""Semantic segmentation with U-Net: train, evaluate (mIoU, Dice), predict (mask + overlay PNG), export."""

import dataclasses
from pathlib import Path

import keras
import numpy as np
import tensorflow as tf

from keras_suite import export as exporting
from keras_suite.apps.attack import AttackTask
from keras_suite.apps.base import App, Headline, class_index, report_value
from keras_suite.apps.segmentation.config import SPEC
from keras_suite.config import arguments
from keras_suite.console import progress_verbosity
from keras_suite.data.photos import export_photos
from keras_suite.data.segmentation import batches, load_splits
from keras_suite.export import litert_metadata as litert
from keras_suite.files import write_json
from keras_suite.losses import CEDiceLoss, DiceLoss, SparseFocalLoss
from keras_suite.metrics import MeanDice, confusion_matrix, confusion_scores
from keras_suite.models.unet import build_unet
from keras_suite.training.trainer import fit
from keras_suite.visuals.images import ImageFolder, write_png
from keras_suite.visuals.overlay import colorize, labelled_grid, overlay, palette, upscale
from keras_suite.visuals.previews import ImagePreview

PREVIEW_SIDE = 192  # pixels a preview tile has at least


def make_loss(name="ce_dice", focal_gamma=2.0, dice_weight=1.0):
    """The loss of `loss.name` (the `loss` config section's fields)."""
    if name == "ce":
        return keras.losses.SparseCategoricalCrossentropy()
    if name == "dice":
        return DiceLoss()
    if name == "focal":
        return SparseFocalLoss(gamma=focal_gamma)
    return CEDiceLoss(dice_weight=dice_weight)


def make_metrics(num_classes):
    return [keras.metrics.MeanIoU(num_classes, sparse_y_pred=False, name="mean_iou"),
            MeanDice(num_classes, sparse_y_pred=False),
            keras.metrics.SparseCategoricalAccuracy(name="pixel_accuracy")]


def augment_options(data_cfg):
    """paired_augmenter kwargs from the data config, or None when augmentation is off."""
    d = data_cfg
    return dict(flip=d.flip, zoom=d.zoom, translate=d.translate, brightness=d.brightness) if d.augment else None


def build_model(cfg, num_classes):
    return build_unet(num_classes, cfg.data.image_size, **dataclasses.asdict(cfg.model))


def load_data(cfg, **counts):
    """The splits of `data.source`; `counts` (num_train=...) replace the configured sizes of synthetic splits."""
    return load_splits(**arguments(cfg.data, load_splits, seed=cfg.train.seed, **counts))


def serve(model, images, dynamic):
    """uint8 images -> {"probabilities", "mask"}; with `dynamic`, any size in and out (resize in graph)."""
    size = model.input_shape[1:3]
    x = tf.cast(images, tf.float32)
    if dynamic:
        original = tf.shape(images)[1:3]
        x = tf.image.resize(x, size)
    probs = model(x, training=False)
    if dynamic:
        probs = tf.image.resize(probs, original)
    return {"probabilities": probs, "mask": tf.cast(tf.argmax(probs, axis=-1), tf.uint8)}


def preview(model, images, masks, class_names):
    """Rows of (image, true mask, predicted mask), each tile at least PREVIEW_SIDE pixels, under column titles and
    above a legend of the class colours: one uint8 picture."""
    n = len(class_names)
    pred = np.argmax(model.predict(images, verbose=0), axis=-1)
    factor = max(1, -(-PREVIEW_SIDE // images.shape[1]))
    rows = [[upscale(tile, factor) for tile in (img, colorize(m, n), colorize(p, n))]
            for img, m, p in zip(images.astype(np.uint8), masks[..., 0], pred)]
    return labelled_grid(rows, ["image", "truth", "prediction"], list(zip(class_names, palette(n))))


def _take(ds, n):
    images, masks = next(iter(ds.batch(n)))
    return images.numpy(), masks.numpy()


class SegmentationApp(App):
    spec = SPEC

    def train(self, cfg, args):
        splits = load_data(cfg)
        names = splits.class_names
        cfg.data.class_names = names  # saved with the run for predict/export
        run = self.train_dir(cfg, args)
        print(f"run directory: {run}")
        tc = cfg.train
        train_ds = batches(splits.train, tc.batch_size, training=True, augment=augment_options(cfg.data),
                           seed=tc.seed, cache=cfg.data.cache)
        val_ds = batches(splits.val, tc.batch_size, cache=cfg.data.cache)
        images, masks = _take(splits.val, 6)
        callbacks = [ImagePreview(lambda m: preview(m, images, masks, names), run, every=tc.preview_every)]
        fit(cfg, run, lambda: (build_model(cfg, len(names)), make_loss(**dataclasses.asdict(cfg.loss)),
                               make_metrics(len(names))), train_ds, val_ds, callbacks)
        print(f"done: model {run.model}, metrics {run.metrics}, previews {run.previews}; "
              f"tensorboard --logdir {run.path.parent}")
        return run

    def evaluate(self, cfg, args):
        split = self.eval_split(args)
        run = args["run"]
        model = self.trained_model(run)
        splits = load_data(cfg, num_train=1)  # synthetic: no training scenes drawn for nothing
        names = splits.class_names
        n = len(names)
        cm = np.zeros((n, n), np.int64)
        data = batches(getattr(splits, split), cfg.train.batch_size, cache=False)
        total = int(data.cardinality())
        progress = keras.utils.Progbar(total if total > 0 else None, unit_name="batch",
                                       verbose=progress_verbosity(cfg.train.verbose))
        for images, masks in data:
            cm += confusion_matrix(masks.numpy(), np.argmax(model.predict_on_batch(images), axis=-1), n)
            progress.add(1)
        scores = {"split": split, **confusion_scores(cm, names), "confusion_matrix": cm.tolist()}
        print(f"{'class':<14}{'IoU':>8}{'Dice':>8}{'pixels':>11}")
        for name, s in scores["per_class"].items():
            print(f"{name:<14}{s['iou']:>8.4f}{s['dice']:>8.4f}{s['pixels']:>11d}")
        print(f"{'mean':<14}{scores['mean_iou']:>8.4f}{scores['mean_dice']:>8.4f}"
              f"   pixel accuracy {scores['pixel_accuracy']:.4f}")
        out = write_json(run.report("eval", split), scores)
        images, masks = _take(getattr(splits, split), 8)
        picture = write_png(run.preview(f"eval_{split}.png"), preview(model, images, masks, names))
        print(f"wrote {out} and {picture}")
        return scores

    def predict(self, cfg, args):
        run = args["run"]
        inputs = ImageFolder(args["image"])
        model = self.trained_model(run)
        names = cfg.data.class_names
        out = Path(args.get("out") or run.predictions)
        for path, image, stem in inputs.items:
            mask = serve(model, image[None], dynamic=True)["mask"].numpy()[0]
            mask_png = write_png(out / f"{stem}_mask.png", mask, palette=palette(len(names)))
            overlay_png = write_png(out / f"{stem}_overlay.png", overlay(image, mask, len(names)))
            present = ", ".join(names[c] for c in np.unique(mask) if c)
            print(f"{path}: {mask_png} {overlay_png} (classes: {present or 'none'})")
        inputs.finish(out)
        return out

    def examples(self, cfg, run, folder):
        """Evaluate, then segment a test scene written as a PNG into `folder`."""
        images, _ = _take(load_data(cfg, num_train=0, num_val=0, num_test=1).test, 1)
        return [("evaluate", {}), ("predict", {"image": write_png(folder / "scene.png", images[0])})]

    def attack_target(self, cfg):
        """The class index of `attack.target` (None: untargeted)."""
        return class_index(cfg.data.class_names, cfg.attack.target, "attack.target")

    def attack_task(self, cfg, run, model, target):
        """The mean pixel cross-entropy against the true masks (or, targeted, against `target` everywhere); mIoU."""
        ac, names = cfg.attack, list(cfg.data.class_names)
        images, masks = _take(load_data(cfg, num_train=0, num_val=0, num_test=ac.examples).test, ac.examples)
        masks = masks[..., 0].astype(np.int32)

        def loss(x, index):
            truth = tf.fill(tf.shape(x)[:3], target) if target is not None else tf.constant(masks[index])
            return tf.reduce_mean(keras.losses.sparse_categorical_crossentropy(truth, model(x, training=False)), [1, 2])

        def score(outputs):
            return confusion_scores(confusion_matrix(masks, outputs["mask"], len(names)), names)["mean_iou"]

        what = (f"every pixel pushed towards '{names[target]}'" if target is not None else
                "the pixels' cross-entropy against the true masks raised")
        return AttackTask(np.round(images).astype(np.float32), loss, lambda x: serve(model, x, False), score, "mIoU",
                          what, target is not None)

    def visual_samples(self, cfg):
        images, _ = _take(load_data(cfg, num_train=0, num_val=0, num_test=16).test, 16)
        return np.round(images).astype(np.uint8)

    def saliency_context(self, cfg, args):
        """The index of the `class=` argument, or None."""
        return class_index(cfg.data.class_names, args.get("class"), "class")

    def saliency_target(self, cfg, run, model, image, context):
        """The mean probability of a class over the pixels: the given one, or the one most of the image is
        predicted as (besides the background)."""
        names = list(cfg.data.class_names)
        c = context
        if c is None:
            counts = np.bincount(np.argmax(model.predict(image[None].astype(np.float32), verbose=0)[0], -1).ravel(),
                                 minlength=len(names))
            if names[0] == "background" and counts[1:].any():
                counts[0] = 0
            c = int(np.argmax(counts))
        return (lambda x: tf.reduce_mean(model(x, training=False)[..., c], axis=[1, 2]),
                f"the mean probability of '{names[c]}'")

    def headline(self, run):
        return Headline("test mIoU", report_value(run, "eval", "test", "mean_iou"), 0.90)

    def serving(self, cfg, run):
        model = self.trained_model(run)
        ecfg, size = cfg.export, cfg.data.image_size
        splits = load_data(cfg, num_train=ecfg.calibration_samples, num_val=0,
                           num_test=max(ecfg.parity_samples, ecfg.task_samples))
        samples, _ = _take(splits.test, ecfg.parity_samples)
        calibration, _ = _take(splits.train, ecfg.calibration_samples)
        calibration_photos, photos = export_photos(ecfg, size)
        dynamic_spec, fixed_spec = exporting.image_specs(size)
        serving = exporting.Serving(
            model=model, fn=lambda x, dynamic: serve(model, x["images"], dynamic), dynamic_spec=dynamic_spec,
            fixed_spec=fixed_spec, samples=exporting.image_samples(np.round(samples)),
            calibration=exporting.image_samples(np.concatenate([np.round(calibration), calibration_photos])),
            photos=exporting.image_samples(photos),
            litert=_litert(size, list(cfg.data.class_names)),
            layouts={"tflite_int8_full": _full_integer_layout(model, size, list(cfg.data.class_names))},
            task=_task(splits.test, ecfg.task_samples, splits.class_names))
        metadata = {
            "task": "semantic segmentation", "labels": list(cfg.data.class_names), "input": exporting.image_input(size),
            "normalization": "inside the graph: x / 255" if cfg.model.encoder == "unet"
            else "inside the graph: x / 127.5 - 1",
            "outputs": {"probabilities": "float32 (N, H, W, classes) softmax",
                        "mask": "uint8 (N, H, W) argmax class index"},
            "signature": "serve (also serving_default)"}
        return serving, metadata


def _task(split, count, names):
    """Test mIoU of the masks each format gives on `count` test scenes (None: no check)."""
    if not count:
        return None
    images, masks = _take(split, count)
    n = len(names)

    def score(outputs):
        return {"mean_iou": confusion_scores(confusion_matrix(masks, outputs["mask"], n), names)["mean_iou"]}

    return exporting.TaskCheck(exporting.image_samples(np.round(images)), score)


def _full_integer_layout(model, size, names):
    """Integers only: the class probabilities out as uint8; the host takes their argmax for the mask."""

    def back(outputs):
        return {"probabilities": outputs["probabilities"],
                "mask": np.argmax(outputs["probabilities"], axis=-1).astype(np.uint8)}

    main = _litert(size, names)
    return exporting.full_integer_layout(
        lambda x: {"probabilities": serve(model, x["images"], False)["probabilities"]}, size, back,
        dataclasses.replace(main, description=f"{main.description}; integers only (for NPUs): the mask is the "
                            "argmax of the probabilities, taken by the caller",
                            outputs={"probabilities": main.outputs["probabilities"]}))


def _litert(size, names):
    """The metadata inside the .tflite files: an RGB photo in, per-class probabilities and the class mask out."""
    return litert.Description(
        name="keras-suite segmentation",
        description=f"U-Net semantic segmentation into {len(names)} classes: {', '.join(names)}",
        inputs={"images": litert.image_input(size, f"RGB photo, {size}x{size}, uint8 0-255 (normalized inside)")},
        outputs={"probabilities": litert.feature("per-pixel class probabilities (softmax), [1, H, W, classes]",
                                                 files=["labels.txt"], stats=(0, 1)),
                 "mask": {**litert.image_output("per-pixel class index (argmax), [1, H, W]", "GRAYSCALE",
                                                (0, len(names) - 1)),
                          "associated_files": [{"name": "labels.txt", "type": "TENSOR_VALUE_LABELS"}]}},
        files={"labels.txt": (litert.text_file(names), {"description": "class names, one per line, in class order",
                                                        "type": "TENSOR_AXIS_LABELS"})})
